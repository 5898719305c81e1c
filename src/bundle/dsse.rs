//! The DSSE envelope (Dead Simple Signing Envelope) and its pre-authentication encoding.

use crate::core::doc::Val;
use crate::core::members::{self, required, Members};
use crate::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};

/// `payloadType` of JSON bundles.
pub const JSON_PAYLOAD_TYPE: &str = "application/vnd.fieldgate.policy+json";
/// The type signed for binary bundles (their body is postcard, not JSON).
pub const BINARY_PAYLOAD_TYPE: &str = "application/vnd.fieldgate.policy+postcard";

/// `PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII
/// decimal bytes: what every signature covers.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A DSSE envelope as it is written on the wire (read strictly: unknown members are refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// The payload's media type.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the exact payload bytes.
    pub payload: String,
    /// One or more signatures over `PAE(payloadType, payload)`.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeSignature {
    /// The signer's key id (may be empty).
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub sig: String,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Envelope, D::Error> {
        members::deserialize(d, |v| {
            let m = Members::of(v)?;
            let signatures = required("signatures", m.array("signatures")?)?
                .map(EnvelopeSignature::read)
                .collect::<Result<_, _>>()?;
            m.only(&["payloadType", "payload", "signatures"])?;
            Ok(Envelope {
                payload_type: required("payloadType", m.string("payloadType")?)?,
                payload: required("payload", m.string("payload")?)?,
                signatures,
            })
        })
    }
}

impl<'de> Deserialize<'de> for EnvelopeSignature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EnvelopeSignature, D::Error> {
        members::deserialize(d, EnvelopeSignature::read)
    }
}

impl EnvelopeSignature {
    fn read(v: Val<'_>) -> Result<EnvelopeSignature, String> {
        let m = Members::of(v).map_err(|e| format!("a signature: {e}"))?;
        m.only(&["keyid", "sig"])?;
        Ok(EnvelopeSignature {
            keyid: m.string("keyid")?.unwrap_or_default(),
            sig: required("sig", m.string("sig")?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_envelopes_strictly() {
        let env: Envelope = serde_json::from_value(json!({
            "payloadType": "t", "payload": "cA==", "signatures": [{"sig": "c2ln"}]
        }))
        .unwrap();
        assert_eq!(env.signatures[0].keyid, "");
        let text = serde_json::to_string(&env).unwrap();
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), env);
        for (bad, why) in [
            (
                json!({"payloadType": "t", "payload": "p"}),
                "`signatures` is required",
            ),
            (
                json!({"payloadType": "t", "payload": "p", "signatures": [], "x": 1}),
                "unknown member `x`",
            ),
            (
                json!({"payloadType": "t", "payload": 1, "signatures": []}),
                "`payload` must be a string, not 1",
            ),
            (
                json!({"payloadType": "t", "payload": "p", "signatures": [{"sig": "s", "y": 0}]}),
                "unknown member `y`",
            ),
            (
                json!({"payloadType": "t", "payload": "p", "signatures": [7]}),
                "a signature: expected an object, not a number",
            ),
        ] {
            let e = serde_json::from_value::<Envelope>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn pae_matches_the_spec_example() {
        // The DSSE protocol document's example.
        assert_eq!(
            super::pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }
}

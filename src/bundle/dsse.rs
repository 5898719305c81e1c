//! The DSSE envelope (Dead Simple Signing Envelope) and its pre-authentication encoding.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

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

/// A DSSE envelope as it is written on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// The signer's key id.
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub sig: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn pae_matches_the_spec_example() {
        // The DSSE protocol document's example.
        assert_eq!(
            super::pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }
}

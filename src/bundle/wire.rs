//! Reading and writing the two bundle encodings: a JSON DSSE envelope, and the compact binary
//! frame (magic, format version, postcard of body and signatures).

#[cfg(feature = "compile")]
use super::dsse::Envelope;
use super::dsse::{BINARY_PAYLOAD_TYPE, JSON_PAYLOAD_TYPE};
use super::error::{BundleCode, BundleError};
use crate::core::Policy;
use crate::prelude::*;
#[cfg(any(feature = "compile", feature = "ed25519"))]
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use serde::{Deserialize, Serialize};

/// The first bytes of a binary bundle.
pub const MAGIC: &[u8; 4] = b"FGB\0";
/// The binary format version this build reads and writes.
pub const BINARY_VERSION: u8 = 5;

/// How a bundle is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// A DSSE JSON envelope whose payload is the policy document.
    Json,
    /// The compact binary frame whose body is the compiled policy.
    Binary,
}

/// A signature as bytes: key id and the 64-byte signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RawSignature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// The signed body of a binary bundle.
#[derive(Serialize, Deserialize)]
pub(crate) struct BinaryBody {
    /// Key ids of the signers.
    pub key_ids: Vec<String>,
    /// The compiled policy, header included.
    pub policy: Policy,
}

/// The outer binary frame. The body is borrowed so that decoding copies it once instead of
/// collecting it byte by byte (postcard writes `&[u8]` and `Vec<u8>` identically).
#[derive(Serialize, Deserialize)]
struct BinaryFrame<'a> {
    body: &'a [u8],
    signatures: Vec<RawSignature>,
}

/// A decoded but not yet trusted bundle.
pub(crate) struct Decoded {
    pub encoding: Encoding,
    pub body: Vec<u8>,
    pub signatures: Vec<RawSignature>,
}

impl Decoded {
    /// The payload type the signatures cover.
    pub fn payload_type(&self) -> &'static str {
        match self.encoding {
            Encoding::Json => JSON_PAYLOAD_TYPE,
            Encoding::Binary => BINARY_PAYLOAD_TYPE,
        }
    }
}

fn bad(message: impl Into<String>) -> BundleError {
    BundleError::new(BundleCode::BadBundle, message)
}

/// Most signatures a bundle may carry (more is `bad_bundle`): key rotation needs two or three,
/// and every extra one is work for the verifier.
pub const MAX_SIGNATURES: usize = 16;

/// Refuses a signature list that is empty or too long.
fn check_count(n: usize) -> Result<(), BundleError> {
    match n {
        0 => Err(bad("the bundle has no signatures")),
        n if n > MAX_SIGNATURES => Err(bad(format!(
            "the bundle has {n} signatures; at most {MAX_SIGNATURES} are read"
        ))),
        _ => Ok(()),
    }
}

/// Splits bytes into body and signatures; checks framing only.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, BundleError> {
    if let Some(rest) = bytes.strip_prefix(MAGIC) {
        let (&version, rest) = rest
            .split_first()
            .ok_or_else(|| bad("truncated binary bundle"))?;
        if version != BINARY_VERSION {
            return Err(bad(format!(
                "binary bundle format {version} is not {BINARY_VERSION}"
            )));
        }
        let (frame, trailing): (BinaryFrame, _) =
            postcard::take_from_bytes(rest).map_err(|e| bad(format!("bad binary frame: {e}")))?;
        if !trailing.is_empty() {
            return Err(bad(format!(
                "the binary frame has {} bytes after its end",
                trailing.len()
            )));
        }
        check_count(frame.signatures.len())?;
        return Ok(Decoded {
            encoding: Encoding::Binary,
            body: frame.body.to_vec(),
            signatures: frame.signatures,
        });
    }
    decode_json(bytes)
}

/// The DSSE JSON envelope: only where the policy document it carries can be compiled.
#[cfg(feature = "compile")]
fn decode_json(bytes: &[u8]) -> Result<Decoded, BundleError> {
    // As text, like every other JSON the module reads: one serde_json reader to ship.
    let text = core::str::from_utf8(bytes).map_err(|_| bad("not a DSSE envelope: not UTF-8"))?;
    let env: Envelope =
        serde_json::from_str(text).map_err(|e| bad(format!("not a DSSE envelope: {e}")))?;
    if env.payload_type != JSON_PAYLOAD_TYPE {
        return Err(bad(format!(
            "payloadType `{}` is not `{JSON_PAYLOAD_TYPE}`",
            env.payload_type
        )));
    }
    check_count(env.signatures.len())?;
    let body = B64
        .decode(&env.payload)
        .map_err(|_| bad("payload is not base64"))?;
    let mut signatures = Vec::with_capacity(env.signatures.len());
    for s in env.signatures {
        let sig = B64
            .decode(&s.sig)
            .map_err(|_| bad("a signature is not base64"))?;
        signatures.push(RawSignature {
            keyid: s.keyid,
            sig,
        });
    }
    Ok(Decoded {
        encoding: Encoding::Json,
        body,
        signatures,
    })
}

/// The browser's module reads binary bundles only (they come compiled); a JSON envelope is
/// refused before it is read, with the way out.
#[cfg(not(feature = "compile"))]
fn decode_json(bytes: &[u8]) -> Result<Decoded, BundleError> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(bad("neither a binary bundle nor a DSSE envelope"));
    }
    Err(BundleError::new(
        BundleCode::NeedsFullModule,
        "this module reads binary bundles: ask the server for one (Accept: application/octet-stream) or load fieldgate_wasm_full_bg.wasm for JSON",
    ))
}

/// A bundle's body read without checking its signatures, after the same framing checks as
/// [`decode`]: for tools that show or compare the policy a bundle carries, never for decisions.
///
/// # Errors
/// `bad_bundle` when the framing is wrong.
#[cfg(feature = "std")]
pub fn unverified_body(bytes: &[u8]) -> Result<Vec<u8>, BundleError> {
    decode(bytes).map(|d| d.body)
}

/// Writes a JSON envelope.
#[cfg(feature = "ed25519")]
pub(crate) fn encode_json(body: &[u8], signatures: Vec<RawSignature>) -> Vec<u8> {
    let env = Envelope {
        payload_type: JSON_PAYLOAD_TYPE.to_string(),
        payload: B64.encode(body),
        signatures: signatures
            .into_iter()
            .map(|s| super::dsse::EnvelopeSignature {
                keyid: s.keyid,
                sig: B64.encode(s.sig),
            })
            .collect(),
    };
    serde_json::to_vec(&env).unwrap_or_default()
}

/// Writes a binary frame.
#[cfg(feature = "ed25519")]
pub(crate) fn encode_binary(body: Vec<u8>, signatures: Vec<RawSignature>) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(BINARY_VERSION);
    let frame = BinaryFrame {
        body: &body,
        signatures,
    };
    out.extend(postcard::to_allocvec(&frame).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ed25519")]
    #[test]
    fn binary_frames_round_trip_and_other_versions_are_refused() {
        let bytes = include_bytes!("../../fuzz/seeds/bundle/acme.bin");
        let d = decode(bytes).expect("decodes");
        assert_eq!(d.encoding, Encoding::Binary);
        let again = encode_binary(d.body.clone(), d.signatures.clone());
        assert_eq!(again, bytes.to_vec());
        // Format 2 had no members, parents or depths (3: no flows; 4: no dates): its body is
        // not ours.
        let mut v2 = bytes.to_vec();
        v2[MAGIC.len()] = 2;
        let e = decode(&v2).err().expect("refused");
        assert_eq!(e.code, BundleCode::BadBundle);
        assert_eq!(e.message, "binary bundle format 2 is not 5");
    }
}

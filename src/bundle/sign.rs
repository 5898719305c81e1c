//! Signing: a checked policy document becomes a JSON or binary bundle.

use super::dsse::pae;
use super::dsse::{BINARY_PAYLOAD_TYPE, JSON_PAYLOAD_TYPE};
use super::error::{BundleCode, BundleError};
use super::keys::SecretKey;
use super::wire::{encode_binary, encode_json, BinaryBody, Encoding, RawSignature};
use crate::core::time::format_rfc3339;
use crate::core::{Checked, PolicyErrors, Stamp, Subject};
use crate::prelude::*;
use alloc::sync::Arc;

/// What `sign` sets in the payload.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Overrides the policy's `version`.
    pub version: Option<u64>,
    /// `issued_at`, Unix milliseconds.
    pub issued_at_ms: i64,
    /// `expires_at`, Unix milliseconds.
    pub expires_at_ms: i64,
    /// Binds the bundle to one user (for minimized bundles).
    pub subject: Option<String>,
    /// JSON envelope or binary frame.
    pub encoding: Encoding,
}

/// Checks the policy, stamps version, validity and subject into it, and signs it with every key
/// (several keys during a rotation overlap).
///
/// # Errors
/// `bad_policy` when the document is not a valid policy: nothing invalid is signed.
pub fn sign(
    policy_json: &[u8],
    keys: &[&SecretKey],
    opts: &SignOptions,
) -> Result<Vec<u8>, BundleError> {
    let checked = Checked::from_slice(policy_json).map_err(bad_policy)?;
    sign_checked(&checked, keys, opts)
}

/// [`sign`] for a policy checked already: the header is stamped on its compiled form, which is
/// not compiled again.
///
/// # Errors
/// `bad_policy` when the stamp is out of range or the window ends before it starts.
pub fn sign_checked(
    checked: &Checked,
    keys: &[&SecretKey],
    opts: &SignOptions,
) -> Result<Vec<u8>, BundleError> {
    if opts.expires_at_ms < opts.issued_at_ms {
        let msg = "the bundle would expire before it is issued; nothing was signed";
        return Err(BundleError::new(BundleCode::BadPolicy, msg));
    }
    // A bundle for one person expires no later than the first of their dated entries to end:
    // a cached copy never outlives the access it carries.
    let expires_at_ms = match &opts.subject {
        Some(id) => {
            let p = checked.policy();
            let person = p
                .header()
                .person
                .as_deref()
                .and_then(|t| serde_json::from_str::<Subject>(t).ok())
                .filter(|s| s.id == *id)
                .unwrap_or_else(|| Subject::new(id.clone()));
            p.earliest_until(&person, opts.issued_at_ms)
                .map_or(opts.expires_at_ms, |u| u.min(opts.expires_at_ms))
        }
        None => opts.expires_at_ms,
    };
    let stamp = Stamp {
        version: opts.version,
        issued_at: Some(format_rfc3339(opts.issued_at_ms)),
        expires_at: Some(format_rfc3339(expires_at_ms)),
        subject: opts.subject.clone(),
    };
    let (doc, policy) = checked.stamped(&stamp).map_err(bad_policy)?.into_parts();
    let payload = serde_json::to_vec(&doc)
        .map_err(|e| BundleError::new(BundleCode::BadPolicy, e.to_string()))?;
    let key_ids: Vec<String> = keys.iter().map(|k| k.public().id().to_string()).collect();
    let body = match opts.encoding {
        Encoding::Json => payload,
        Encoding::Binary => postcard::to_allocvec(&BinaryBody {
            key_ids,
            policy: Arc::unwrap_or_clone(policy),
        })
        .map_err(|e| BundleError::new(BundleCode::BadPolicy, e.to_string()))?,
    };
    Ok(seal_unchecked(opts.encoding, body, keys))
}

fn bad_policy(errors: PolicyErrors) -> BundleError {
    BundleError {
        code: BundleCode::BadPolicy,
        message: "the policy is not valid; nothing was signed".into(),
        policy_errors: Some(errors),
    }
}

/// Frames and signs `body` exactly as given, without checking that it is a policy. `sign` is
/// the way to make bundles; this exists for crafted test vectors and fuzzing.
pub fn seal_unchecked(encoding: Encoding, body: Vec<u8>, keys: &[&SecretKey]) -> Vec<u8> {
    let payload_type = match encoding {
        Encoding::Json => JSON_PAYLOAD_TYPE,
        Encoding::Binary => BINARY_PAYLOAD_TYPE,
    };
    let message = pae(payload_type, &body);
    let signatures = keys
        .iter()
        .map(|k| RawSignature {
            keyid: k.public().id().to_string(),
            sig: k.sign(&message).to_vec(),
        })
        .collect();
    match encoding {
        Encoding::Json => encode_json(&body, signatures),
        Encoding::Binary => encode_binary(body, signatures),
    }
}

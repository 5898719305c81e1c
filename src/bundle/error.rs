//! Bundle errors: one stable code per failed check.

use crate::core::PolicyErrors;
use crate::prelude::*;
use core::fmt;
use serde::Serialize;

/// Why a bundle was refused. The `snake_case` strings are part of the public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BundleCode {
    /// Larger than the configured limit (checked before any parsing).
    TooLarge,
    /// Malformed envelope, base64 or binary framing.
    BadBundle,
    /// No signature by a trusted key (`untrusted_key`; it was called `unknown_key` until
    /// 0.2, which [`BundleCode::alias`] still gives, since the core's `unknown_key` means an
    /// unknown JSON key).
    UntrustedKey,
    /// A signature by a trusted key does not verify, or too few trusted keys signed.
    BadSignature,
    /// The payload is not a valid policy.
    BadPolicy,
    /// The bundle is for another app.
    WrongApp,
    /// The version is below the floor (anti-rollback).
    Rollback,
    /// Past `expires_at` (plus the allowed clock skew).
    Expired,
    /// Before `issued_at` (minus the allowed clock skew).
    NotYetValid,
    /// Bound to another user.
    WrongSubject,
    /// A key file or key string that is not an Ed25519 key.
    BadKey,
}

impl BundleCode {
    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleCode::TooLarge => "too_large",
            BundleCode::BadBundle => "bad_bundle",
            BundleCode::UntrustedKey => "untrusted_key",
            BundleCode::BadSignature => "bad_signature",
            BundleCode::BadPolicy => "bad_policy",
            BundleCode::WrongApp => "wrong_app",
            BundleCode::Rollback => "rollback",
            BundleCode::Expired => "expired",
            BundleCode::NotYetValid => "not_yet_valid",
            BundleCode::WrongSubject => "wrong_subject",
            BundleCode::BadKey => "bad_key",
        }
    }

    /// The name a code had before, kept one release for callers that match on it:
    /// `unknown_key` for [`BundleCode::UntrustedKey`].
    pub fn alias(self) -> Option<&'static str> {
        match self {
            BundleCode::UntrustedKey => Some("unknown_key"),
            _ => None,
        }
    }
}

impl fmt::Display for BundleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused bundle: the code, a message, and for `bad_policy` the policy's own errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleError {
    /// Stable code.
    pub code: BundleCode,
    /// Human-readable explanation.
    pub message: String,
    /// For `bad_policy`: every error in the payload, with JSON paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_errors: Option<PolicyErrors>,
}

impl BundleError {
    pub(crate) fn new(code: BundleCode, message: impl Into<String>) -> BundleError {
        BundleError {
            code,
            message: message.into(),
            policy_errors: None,
        }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(errors) = &self.policy_errors {
            write!(f, "\n{errors}")?;
        }
        Ok(())
    }
}

impl core::error::Error for BundleError {}

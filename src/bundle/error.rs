//! Bundle errors: one stable code per failed check.

use crate::core::PolicyErrors;
use crate::prelude::*;
use core::fmt;
use serde::Serialize;

codes! {
    /// Why a bundle was refused. The `snake_case` strings are part of the public contract.
    pub enum BundleCode {
        /// Larger than the configured limit (checked before any parsing).
        TooLarge = "too_large",
        /// Malformed envelope, base64 or binary framing.
        BadBundle = "bad_bundle",
        /// No signature by a trusted key. Called `unknown_key` until 0.2 (still given as the
        /// alias), which in the core means an unknown JSON key.
        UntrustedKey = "untrusted_key",
        /// A signature by a trusted key does not verify, or too few trusted keys signed.
        BadSignature = "bad_signature",
        /// The payload is not a valid policy.
        BadPolicy = "bad_policy",
        /// The bundle is for another app.
        WrongApp = "wrong_app",
        /// The version is below the floor (anti-rollback).
        Rollback = "rollback",
        /// Past `expires_at` (plus the allowed clock skew).
        Expired = "expired",
        /// Before `issued_at` (minus the allowed clock skew).
        NotYetValid = "not_yet_valid",
        /// Bound to another user.
        WrongSubject = "wrong_subject",
        /// A session for a per-user bundle's user that says other things of them than the
        /// bundle's signed `person`.
        SubjectMismatch = "subject_mismatch",
        /// A key file or key string that is not an Ed25519 key.
        BadKey = "bad_key",
        /// A JSON bundle (or policy document) handed to the browser's module, which reads
        /// binary bundles only: the `_full` module compiles JSON.
        NeedsFullModule = "needs_full_module",
    }
}

impl BundleCode {
    /// The name a code had before, kept one release for callers that match on it:
    /// `unknown_key` for [`BundleCode::UntrustedKey`].
    pub fn alias(self) -> Option<&'static str> {
        match self {
            BundleCode::UntrustedKey => Some("unknown_key"),
            _ => None,
        }
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

//! Signed policy bundles: DSSE envelopes with Ed25519 signatures, key rotation and thresholds,
//! anti-rollback, expiry, subject binding, and the compact binary form. With the `ed25519`
//! feature signatures are checked here; without it (the npm package) the host checks the ones
//! [`UnverifiedBundle::to_check`] lists and says which verified ([`VerifyOptions::checked`]):
//! every other check stays here.
//!
//! Trust is a type: bytes become an [`UnverifiedBundle`], which becomes a [`VerifiedBundle`]
//! only through every check. Pure: the current time is a parameter.

// No panics in the evaluator's paths: each justified exception says why (`#[expect(…, reason = …)]`).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod dsse;
mod error;
mod keys;
#[cfg(feature = "ed25519")]
mod sign;
mod verify;
mod wire;

pub use crate::core::time::{format_rfc3339, parse_rfc3339};
pub use dsse::{pae, Envelope, EnvelopeSignature, BINARY_PAYLOAD_TYPE, JSON_PAYLOAD_TYPE};
pub use error::{BundleCode, BundleError};
#[cfg(feature = "ed25519")]
pub use keys::SecretKey;
pub use keys::{key_id, PublicKey, TrustedKeys};
#[cfg(feature = "ed25519")]
pub use sign::{seal_unchecked, sign, sign_checked, SignOptions};
pub use verify::{
    freshness, session_for, verify, Freshness, ToCheck, UnverifiedBundle, VerifiedBundle,
    VerifyOptions, DEFAULT_MAX_BYTES, DEFAULT_SKEW_MS,
};
#[cfg(feature = "std")]
pub use wire::unverified_body;
pub use wire::{Encoding, BINARY_VERSION, MAGIC};

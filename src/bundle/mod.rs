//! Signed policy bundles: DSSE envelopes with Ed25519 signatures, key rotation and thresholds,
//! anti-rollback, expiry, subject binding, and the compact binary form.
//!
//! Trust is a type: bytes become an [`UnverifiedBundle`], which becomes a [`VerifiedBundle`]
//! only through every check. Pure: the current time is a parameter.

// No panics in the evaluator's paths: each justified exception says why (`PANIC SAFETY:`).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod dsse;
mod error;
mod keys;
mod sign;
mod time;
mod verify;
mod wire;

pub use dsse::{pae, Envelope, EnvelopeSignature, BINARY_PAYLOAD_TYPE, JSON_PAYLOAD_TYPE};
pub use error::{BundleCode, BundleError};
pub use keys::{key_id, PublicKey, SecretKey, TrustedKeys};
pub use sign::{seal_unchecked, sign, SignOptions};
pub use time::{format_rfc3339, parse_rfc3339};
pub use verify::{
    session_for, verify, UnverifiedBundle, VerifiedBundle, VerifyOptions, DEFAULT_MAX_BYTES,
    DEFAULT_SKEW_MS,
};
pub use wire::{Encoding, BINARY_VERSION, MAGIC};

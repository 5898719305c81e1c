//! Ed25519 keys, key ids, and the set of keys a verifier trusts.

use super::error::{BundleCode, BundleError};
use crate::prelude::*;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
#[cfg(feature = "ed25519")]
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The key id of a public key: the first 16 lowercase hex characters of SHA-256 of its 32 bytes.
#[expect(clippy::indexing_slicing, reason = "a SHA-256 digest has 32 bytes")]
pub fn key_id(public: &[u8; 32]) -> String {
    let digest = Sha256::digest(public);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A public key a verifier may trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; 32],
    #[cfg(feature = "ed25519")]
    key: VerifyingKey,
    id: String,
}

impl PublicKey {
    /// Parses the base64 of the raw 32-byte key (the `signing.pub` format).
    ///
    /// # Errors
    /// `bad_key` when it is not base64 of 32 bytes of a valid point.
    pub fn from_base64(text: &str) -> Result<PublicKey, BundleError> {
        let bad = || BundleError::new(BundleCode::BadKey, "a public key is the base64 of 32 bytes");
        let bytes: [u8; 32] = B64
            .decode(text.trim())
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        PublicKey::from_bytes(&bytes)
    }

    /// From the raw 32 bytes.
    ///
    /// # Errors
    /// `bad_key` when the bytes are not a valid Ed25519 point (checked with `ed25519`;
    /// without, the host's verifier refuses such a key).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, BundleError> {
        Ok(PublicKey {
            bytes: *bytes,
            #[cfg(feature = "ed25519")]
            key: VerifyingKey::from_bytes(bytes)
                .map_err(|_| BundleError::new(BundleCode::BadKey, "not an Ed25519 public key"))?,
            id: key_id(bytes),
        })
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The base64 of the raw key.
    pub fn to_base64(&self) -> String {
        B64.encode(self.bytes)
    }

    /// Whether `signature` is this key's over `message`.
    #[cfg(feature = "ed25519")]
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify(message, &sig).is_ok()
    }
}

/// A secret signing key.
#[cfg(feature = "ed25519")]
pub struct SecretKey {
    key: SigningKey,
}

#[cfg(feature = "ed25519")]
impl SecretKey {
    /// From 32 secret bytes (the seed).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// Parses the base64 of the 32-byte seed (the `signing.key` format).
    ///
    /// # Errors
    /// `bad_key` when it is not base64 of 32 bytes.
    pub fn from_base64(text: &str) -> Result<SecretKey, BundleError> {
        let bad = || {
            BundleError::new(
                BundleCode::BadKey,
                "a signing key is the base64 of 32 bytes",
            )
        };
        let seed: [u8; 32] = B64
            .decode(text.trim())
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        Ok(SecretKey::from_seed(&seed))
    }

    /// The base64 of the seed.
    pub fn to_base64(&self) -> String {
        B64.encode(self.key.to_bytes())
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        let bytes = self.key.verifying_key().to_bytes();
        PublicKey {
            bytes,
            key: self.key.verifying_key(),
            id: key_id(&bytes),
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// The keys a verifier trusts, and how many of them must have signed (default 1).
#[derive(Debug, Clone)]
pub struct TrustedKeys {
    keys: Vec<PublicKey>,
    threshold: usize,
}

impl TrustedKeys {
    /// Trusts these keys; one valid signature by any of them suffices.
    pub fn new(keys: Vec<PublicKey>) -> TrustedKeys {
        TrustedKeys { keys, threshold: 1 }
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// Requires `k` distinct trusted keys to have signed.
    pub fn with_threshold(mut self, k: usize) -> TrustedKeys {
        self.threshold = k.max(1);
        self
    }

    /// The key with this id, if trusted.
    pub fn get(&self, id: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// How many distinct trusted keys must have signed.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
}

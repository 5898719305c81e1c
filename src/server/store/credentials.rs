//! Named admin and service credentials (by the hash of their token).

use super::*;

/// A stored admin or service credential (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// The name.
    pub name: String,
    /// `admin` or `service`.
    pub kind: String,
    /// SHA-256 of the token, hex.
    #[serde(skip)]
    pub token_hash: String,
    /// When it was made, Unix milliseconds.
    pub created_at: i64,
}

/// Admin and service credentials.
pub trait CredentialStore {
    /// Every admin and service credential.
    fn credentials(&self) -> StoreResult<Vec<Credential>>;
    /// Adds (or replaces) a credential.
    fn put_credential(&self, c: &Credential) -> StoreResult<()>;
    /// Removes a credential; whether there was one.
    fn remove_credential(&self, name: &str, kind: &str) -> StoreResult<bool>;
}

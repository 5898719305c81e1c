//! Named admin and service credentials (by the hash of their token).

use super::*;
pub use crate::admin::admin_scope::AdminScope;

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
    /// What a restricted admin may change (none: everything, or a service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<AdminScope>,
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

/// A stored scope read back (a scope that no longer reads is no scope at all: refused, not
/// widened, by making the admin restricted to nothing).
pub(super) fn scope(text: Option<String>) -> Option<AdminScope> {
    let text = text?;
    Some(serde_json::from_str(&text).unwrap_or_else(|_| AdminScope {
        apps: Some(Vec::new()),
        departments: Some(Vec::new()),
        roles: Some(Vec::new()),
        resources: Some(Vec::new()),
        can_edit_roles: false,
    }))
}

/// A credential's scope as stored.
pub(super) fn scope_text(c: &Credential) -> Option<String> {
    c.scope.as_ref().map(|s| serde_json::json!(s).to_string())
}

//! The admin audit log: append-only.

use super::*;

/// One entry of the admin audit log: who changed what, when, through which endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Its place in the log (0 before it is stored).
    pub id: i64,
    /// When, Unix milliseconds.
    pub at: i64,
    /// The admin's name (or `cli` for the command line on the data directory).
    pub actor: String,
    /// `publish`, `rollback`, `directory`, `export`, `credential`, …
    pub kind: String,
    /// The request, e.g. `POST /v1/apps/acme-erp/policy`.
    pub endpoint: String,
    /// The app it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// What changed (a diff summary, counts, the version made).
    pub detail: Value,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// From this time on (Unix milliseconds).
    pub since: i64,
    /// Only this admin's.
    pub actor: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this app's.
    pub app: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// The admin audit log.
pub trait AuditStore {
    /// Appends an entry.
    fn add_audit(&self, e: &AuditEntry) -> StoreResult<()>;
    /// Entries matching `q`, newest first.
    fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
}

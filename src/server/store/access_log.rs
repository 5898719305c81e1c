//! The data access log (server-side and client-reported reads) and the alerts it raises.

use super::*;

/// One entry of the data access log: a user's read, change or refusal on records, from the
/// data API (`source: "server"`) or reported by a client (`"client"`).
#[derive(Debug, Clone, Serialize)]
pub struct AccessEntry {
    /// When, Unix milliseconds.
    pub at: i64,
    /// Who.
    pub user: String,
    /// `list`, `view`, `create`, `edit`, `export`, a transition (`approve`, …), or for a
    /// client-reported event its action.
    pub action: String,
    /// Which resource.
    pub resource: String,
    /// The records' ids (an export lists its first thousand).
    pub records: Vec<String>,
    /// How many records (more than `records` lists for a large export).
    pub count: u64,
    /// For reads: the sensitive fields (those with a mask) returned unmasked.
    pub unmasked: Vec<String>,
    /// `ok`, or the refusal's code (`forbidden`, `forbidden_fields`, …).
    pub outcome: String,
    /// For `forbidden_fields`: the fields refused.
    pub fields: Vec<String>,
    /// `server` (the data API) or `client` (reported by a page).
    pub source: String,
}

impl AccessEntry {
    /// Whether it records an attempt beyond the user's permission (what alerts count).
    pub fn refused(&self) -> bool {
        matches!(self.outcome.as_str(), "forbidden" | "forbidden_fields")
    }
}

/// Which access entries to read.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    /// From this time on (Unix milliseconds).
    pub since: i64,
    /// Up to this time.
    pub until: i64,
    /// Only this user's.
    pub user: Option<String>,
    /// Only about this resource.
    pub resource: Option<String>,
    /// Only about this record.
    pub record: Option<String>,
    /// Only `server` or `client` entries.
    pub source: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// An alert: a user refused too often too fast.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// When it was raised, Unix milliseconds.
    pub at: i64,
    /// Whose refusals.
    pub user: String,
    /// `{"refusals", "window_ms", "last": <access entry>}`.
    pub detail: Value,
}

/// The data access log and its alerts.
pub trait AccessStore {
    /// Appends entries, in one transaction.
    fn add_access(&self, rows: &[AccessEntry]) -> StoreResult<()>;
    /// Entries matching `q`, newest first.
    fn access(&self, q: &AccessQuery) -> StoreResult<Vec<AccessEntry>>;
    /// Deletes entries older than `before`; how many.
    fn prune_access(&self, before: i64) -> StoreResult<u64>;
    /// Stores an alert.
    fn add_alert(&self, a: &Alert) -> StoreResult<()>;
    /// Alerts since `since`, newest first, at most `limit`.
    fn alerts(&self, since: i64, limit: u32) -> StoreResult<Vec<Alert>>;
}

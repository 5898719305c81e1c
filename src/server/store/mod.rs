//! The store: every published policy version (immutable), which one is current, the directory
//! of people per app, admin and service credentials, login sessions, decision events clients
//! report, and the sample data records.
//!
//! One interface, so each store keeps the same promises: publishing is one transaction that
//! checks the version it was based on; a published version never changes; an acknowledged
//! write is never lost. Calls block: handlers make them off the async threads.

mod access_log;
mod audit;
mod credentials;
mod decisions;
mod directory;
mod drafts;
mod postgres;
mod records;
mod reviews;
mod sessions;
mod sqlite;
mod versions;
pub use access_log::*;
pub use audit::*;
pub use credentials::*;
pub use decisions::*;
pub use directory::*;
pub use drafts::*;
pub use records::*;
pub use reviews::*;
pub use sessions::*;
pub use versions::*;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use serde::Serialize;
use serde_json::Value;

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The database cannot be reached (a 503: try again).
    Unavailable(String),
    /// The database refused or failed the operation.
    Failed(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(m) => write!(f, "the database cannot be reached: {m}"),
            StoreError::Failed(m) => write!(f, "the database failed: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// What store calls return.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// One file in the data directory: one instance.
    Sqlite,
    /// A PostgreSQL database any number of instances share.
    Postgres,
}

/// A change another instance made, announced through the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new version of an app was published.
    Published {
        /// The app.
        app: String,
        /// The version.
        version: u64,
    },
    /// An app's directory was replaced.
    Directory {
        /// The app.
        app: String,
    },
    /// An alert was raised (and stored); admin event streams on every instance show it.
    Alert {
        /// When it was raised.
        at: i64,
        /// Whose refusals.
        user: String,
        /// The store (instance) that raised it, which has shown it already.
        from: String,
    },
    /// Announcements may have been missed (the listener reconnected): look at everything.
    Resync,
}

impl Change {
    /// As announced: `{"published": app, "version": n}`, `{"directory": app}` or
    /// `{"alert": user, "at": ms, "from": store}` (what was announced is read from the store:
    /// an announcement is bounded in size).
    pub fn payload(&self) -> String {
        match self {
            Change::Published { app, version } => {
                serde_json::json!({"published": app, "version": version}).to_string()
            }
            Change::Directory { app } => serde_json::json!({"directory": app}).to_string(),
            Change::Alert { at, user, from } => {
                serde_json::json!({"alert": user, "at": at, "from": from}).to_string()
            }
            Change::Resync => "{}".into(),
        }
    }

    /// Reads an announcement (`None` for one this version does not know).
    pub fn from_payload(text: &str) -> Option<Change> {
        let v: Value = serde_json::from_str(text).ok()?;
        if let Some(app) = v.get("published").and_then(Value::as_str) {
            let version = v.get("version")?.as_u64()?;
            return Some(Change::Published {
                app: app.to_string(),
                version,
            });
        }
        if let Some(user) = v.get("alert").and_then(Value::as_str) {
            return Some(Change::Alert {
                at: v.get("at")?.as_i64()?,
                user: user.to_string(),
                from: v.get("from")?.as_str()?.to_string(),
            });
        }
        let app = v.get("directory")?.as_str()?;
        Some(Change::Directory {
            app: app.to_string(),
        })
    }
}

/// A connection pool's state (`GET /metrics`).
#[derive(Debug, Clone, Copy)]
pub struct PoolStatus {
    /// Connections open.
    pub open: usize,
    /// Of those, idle.
    pub idle: usize,
    /// Callers waiting for one.
    pub waiting: usize,
}

/// What instances sharing a store take turns at.
#[derive(Debug, Clone, Copy)]
pub enum Lock<'a> {
    /// Seeding an empty store at the first start.
    FirstStart,
    /// Checking, signing and storing a publication of this app: without it two instances
    /// publishing at once can keep beating each other to the next number.
    Publishing(&'a str),
}

/// Everything the server keeps: every domain's store, and the store itself.
pub trait Store:
    VersionStore
    + DirectoryStore
    + AuditStore
    + AccessStore
    + DraftStore
    + ReviewStore
    + CredentialStore
    + SessionStore
    + DecisionStore
    + RecordStore
    + Send
    + Sync
{
    /// Which database this is.
    fn kind(&self) -> StoreKind;
    /// Calls `on` with each change other instances make (a store no other instance shares
    /// has none to tell).
    fn watch(&self, _on: std::sync::Arc<dyn Fn(Change) + Send + Sync>) {}
    /// Runs `f` while no other instance holds `lock` (a store no other instance shares needs
    /// no lock: the process's own mutexes do).
    ///
    /// # Errors
    /// `Unavailable` when the lock cannot be taken in time; `f` is not run then.
    fn exclusively(&self, _lock: Lock<'_>, f: &mut dyn FnMut()) -> StoreResult<()> {
        f();
        Ok(())
    }
    /// The connection pool's state, for a store that has one.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn announcements_read_back_as_made_and_unknown_ones_are_skipped() {
        let changes = [
            Change::Published {
                app: "acme-erp".into(),
                version: 7,
            },
            Change::Directory {
                app: "acme-erp".into(),
            },
            Change::Alert {
                at: 1_796_000_000_000,
                user: "u-bob".into(),
                from: "a1b2".into(),
            },
        ];
        for c in changes {
            assert_eq!(Change::from_payload(&c.payload()), Some(c));
        }
        assert_eq!(Change::from_payload(r#"{"something": "new"}"#), None);
        assert_eq!(Change::from_payload(r#"{"alert": "u-bob"}"#), None);
    }
}

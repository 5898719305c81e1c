//! The SQLite store: every published policy version (immutable), which one is current, the
//! decision events clients report, and the sample data records.
//!
//! Publishing is one `BEGIN IMMEDIATE` transaction, so a crash leaves either the old or the new
//! version current. Triggers refuse any update or delete of a published version.

use super::error::{ApiError, ApiResult};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS versions (
  app TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL,
  bundle TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  summary TEXT NOT NULL,
  PRIMARY KEY (app, version)
);
CREATE TRIGGER IF NOT EXISTS versions_no_update BEFORE UPDATE ON versions
  BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS versions_no_delete BEFORE DELETE ON versions
  BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
CREATE TABLE IF NOT EXISTS current (app TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY,
  reported_by TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  event TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decision_chains (
  reported_by TEXT NOT NULL,
  chain TEXT NOT NULL,
  head TEXT NOT NULL,
  PRIMARY KEY (reported_by, chain)
);
CREATE TABLE IF NOT EXISTS records (
  resource TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (resource, id)
);
";

/// Columns added to `decisions` after its first release: added to older databases at open.
const DECISION_COLUMNS: [(&str, &str); 3] = [
    ("chain", "TEXT"),
    ("hash", "TEXT"),
    ("link", "TEXT NOT NULL DEFAULT 'unchained'"),
];

/// An event sent twice (a retry whose answer was lost) is stored once.
const DECISION_INDEX: &str = "CREATE UNIQUE INDEX IF NOT EXISTS decisions_chained
  ON decisions (reported_by, chain, hash) WHERE hash IS NOT NULL";

/// One published version.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// The app.
    pub app: String,
    /// The version number.
    pub version: u64,
    /// Who published it.
    pub published_by: String,
    /// When, Unix milliseconds.
    pub published_at: i64,
    /// The diff summary against the version before it.
    pub summary: Value,
    /// The policy document (JSON text), omitted from listings.
    #[serde(skip)]
    pub document: String,
    /// The signed JSON bundle made at publication.
    #[serde(skip)]
    pub bundle: String,
}

/// What a publication stores.
pub struct NewVersion {
    /// The policy document, already stamped with its version.
    pub document: String,
    /// The signed JSON bundle.
    pub bundle: String,
    /// The diff summary.
    pub summary: Value,
}

/// The database behind one server.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating when needed) the database at `path`.
    ///
    /// # Errors
    /// A message when SQLite cannot open or initialise it.
    pub fn open(path: &Path) -> Result<Store, String> {
        let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .and_then(|()| conn.execute_batch(SCHEMA))
            .and_then(|()| add_decision_columns(&conn))
            .and_then(|()| conn.execute_batch(DECISION_INDEX))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> ApiResult<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(ApiError::internal)
    }

    /// The current version of `app`.
    pub fn current(&self, app: &str) -> ApiResult<Option<Version>> {
        self.with(|c| current_in(c, app))
    }

    /// Version `n` of `app`.
    pub fn version(&self, app: &str, n: u64) -> ApiResult<Option<Version>> {
        self.with(|c| {
            c.query_row(
                &format!("{SELECT} WHERE app = ?1 AND version = ?2"),
                params![app, sql_int(n)],
                row_version,
            )
            .optional()
        })
    }

    /// Every version of `app`, newest first.
    pub fn versions(&self, app: &str) -> ApiResult<Vec<Version>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!("{SELECT} WHERE app = ?1 ORDER BY version DESC"))?;
            let rows = stmt.query_map(params![app], row_version)?;
            rows.collect()
        })
    }

    /// The apps with a current version.
    pub fn apps(&self) -> ApiResult<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT app FROM current ORDER BY app")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Publishes the next version of `app` in one transaction: `build` gets the current version
    /// and the new number and returns what to store (or an error, and nothing changes).
    pub fn publish(
        &self,
        app: &str,
        published_by: &str,
        now_ms: i64,
        build: impl FnOnce(Option<&Version>, u64) -> ApiResult<NewVersion>,
    ) -> ApiResult<Version> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(ApiError::internal)?;
        let current = current_in(&tx, app).map_err(ApiError::internal)?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT MAX(version) FROM versions WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .map_err(ApiError::internal)?;
        let n = last.map_or(1, |v| u64::try_from(v).unwrap_or(0) + 1);
        let new = build(current.as_ref(), n)?;
        let summary = new.summary.to_string();
        tx.execute(
            "INSERT INTO versions (app, version, document, bundle, published_by, published_at, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![app, sql_int(n), new.document, new.bundle, published_by, now_ms, summary],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO current (app, version) VALUES (?1, ?2)
                 ON CONFLICT (app) DO UPDATE SET version = excluded.version",
                params![app, sql_int(n)],
            )
        })
        .map_err(ApiError::internal)?;
        tx.commit().map_err(ApiError::internal)?;
        Ok(Version {
            app: app.to_string(),
            version: n,
            published_by: published_by.to_string(),
            published_at: now_ms,
            summary: new.summary,
            document: new.document,
            bundle: new.bundle,
        })
    }

    /// Stores decision events reported by `user`, judging each chained one against its
    /// chain's last event seen (which then moves to it). An event already stored is skipped.
    pub fn add_decisions(
        &self,
        user: &str,
        now_ms: i64,
        events: &[Reported],
    ) -> ApiResult<Outcome> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut outcome = Outcome::default();
            for e in events {
                let link = match &e.chain {
                    None => Some(Link::Unchained),
                    Some(l) => judge(&tx, user, l)?,
                };
                if let Some(link) = link {
                    let (chain, hash) = e.chain.as_ref().map(|l| (&l.chain, &l.hash)).unzip();
                    tx.execute(
                        "INSERT INTO decisions (reported_by, received_at, event, chain, hash, link)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![user, now_ms, e.event, chain, hash, link.as_str()],
                    )?;
                    outcome.accepted += 1;
                } else {
                    outcome.duplicates += 1;
                }
                outcome.links.push(link);
            }
            tx.commit()?;
            Ok(outcome)
        })
    }

    /// The latest `limit` decision events, newest first, with who reported them and when.
    pub fn decisions(&self, limit: u32) -> ApiResult<Vec<Value>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT reported_by, received_at, event, link FROM decisions ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit], |r| {
                let event: String = r.get(2)?;
                Ok(serde_json::json!({
                    "reported_by": r.get::<_, String>(0)?,
                    "received_at": r.get::<_, i64>(1)?,
                    "event": serde_json::from_str::<Value>(&event).unwrap_or(Value::Null),
                    "link": r.get::<_, String>(3)?,
                }))
            })?;
            rows.collect()
        })
    }

    /// Every record of `resource`, by id.
    pub fn records(&self, resource: &str) -> ApiResult<Vec<Value>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT body FROM records WHERE resource = ?1 ORDER BY id")?;
            let rows = stmt.query_map(params![resource], |r| r.get::<_, String>(0))?;
            rows.map(|r| r.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
                .collect()
        })
    }

    /// One record.
    pub fn record(&self, resource: &str, id: &str) -> ApiResult<Option<Value>> {
        self.with(|c| {
            c.query_row(
                "SELECT body FROM records WHERE resource = ?1 AND id = ?2",
                params![resource, id],
                |r| r.get::<_, String>(0),
            )
            .optional()
        })
        .map(|t| t.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Inserts or replaces records (`id` is each record's `id` attribute) in one transaction.
    pub fn put_records(&self, resource: &str, records: &[Value]) -> ApiResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for r in records {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                tx.execute(
                    "INSERT OR REPLACE INTO records (resource, id, body) VALUES (?1, ?2, ?3)",
                    params![resource, id, r.to_string()],
                )?;
            }
            tx.commit()
        })
    }

    /// Whether any record exists (the sample data was loaded).
    pub fn has_records(&self) -> ApiResult<bool> {
        self.with(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM records)", [], |r| r.get(0)))
    }
}

const SELECT: &str =
    "SELECT app, version, document, bundle, published_by, published_at, summary FROM versions";

/// SQLite integers are signed; versions never get near the limit.
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn current_in(c: &Connection, app: &str) -> rusqlite::Result<Option<Version>> {
    c.query_row(
        &format!(
            "{SELECT} WHERE app = ?1 AND version = (SELECT version FROM current WHERE app = ?1)"
        ),
        params![app],
        row_version,
    )
    .optional()
}

fn row_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<Version> {
    Ok(Version {
        app: r.get(0)?,
        version: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        document: r.get(2)?,
        bundle: r.get(3)?,
        published_by: r.get(4)?,
        published_at: r.get(5)?,
        summary: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or(Value::Null),
    })
}

/// One reported decision event: its JSON text and, when it is chained, its links.
pub struct Reported {
    /// The event as received.
    pub event: String,
    /// Its place in a chain, if it carries one.
    pub chain: Option<ChainLink>,
}

/// Where a chained event says it sits.
pub struct ChainLink {
    /// The chain's id (one per client log).
    pub chain: String,
    /// The hash of the event before it (`None` for a chain's first).
    pub prev: Option<String>,
    /// Its own hash, as sent.
    pub hash: String,
    /// Whether `hash` is the hash of the event as received.
    pub intact: bool,
}

/// An event's verdict in its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// It follows the chain's last event seen.
    Ok,
    /// Events between the last one seen and this one are missing.
    Gap,
    /// It is not what was hashed: changed after it was logged.
    Edited,
    /// It carries no chain.
    Unchained,
}

impl Link {
    /// Its stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Ok => "ok",
            Link::Gap => "gap",
            Link::Edited => "edited",
            Link::Unchained => "unchained",
        }
    }
}

/// What storing a batch of events did.
#[derive(Default)]
pub struct Outcome {
    /// Events stored.
    pub accepted: usize,
    /// Events skipped as already stored.
    pub duplicates: usize,
    /// Each event's verdict, `None` for a duplicate.
    pub links: Vec<Option<Link>>,
}

/// Judges a chained event and moves its chain's head to it; `None` when it is stored already.
/// The head moves even past an edited event, whose successor still names its hash.
fn judge(tx: &Connection, user: &str, l: &ChainLink) -> rusqlite::Result<Option<Link>> {
    let seen = tx
        .query_row(
            "SELECT 1 FROM decisions WHERE reported_by = ?1 AND chain = ?2 AND hash = ?3",
            params![user, l.chain, l.hash],
            |_| Ok(()),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(None);
    }
    let head: Option<String> = tx
        .query_row(
            "SELECT head FROM decision_chains WHERE reported_by = ?1 AND chain = ?2",
            params![user, l.chain],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute(
        "INSERT INTO decision_chains (reported_by, chain, head) VALUES (?1, ?2, ?3)
         ON CONFLICT (reported_by, chain) DO UPDATE SET head = excluded.head",
        params![user, l.chain, l.hash],
    )?;
    Ok(Some(if !l.intact {
        Link::Edited
    } else if l.prev != head {
        Link::Gap
    } else {
        Link::Ok
    }))
}

/// Adds the [`DECISION_COLUMNS`] a database made by an older server lacks.
fn add_decision_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('decisions')")?;
    let have = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, kind) in DECISION_COLUMNS {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!("ALTER TABLE decisions ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Link, Store};
    use rusqlite::Connection;

    #[test]
    fn a_database_from_before_decision_chains_opens_and_keeps_its_events() {
        let dir = std::env::temp_dir().join(format!("fieldgate-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fieldgate.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE decisions (id INTEGER PRIMARY KEY, reported_by TEXT NOT NULL,
               received_at INTEGER NOT NULL, event TEXT NOT NULL);
             INSERT INTO decisions (reported_by, received_at, event) VALUES ('u-a', 1, '{}');",
        )
        .unwrap();
        drop(old);
        let store = Store::open(&path).unwrap();
        let listed = store.decisions(10).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["link"], Link::Unchained.as_str());
        drop(store);
        Store::open(&path).expect("opens again once migrated");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

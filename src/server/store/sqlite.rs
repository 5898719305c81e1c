//! The SQLite store: one file in the data directory, WAL journal, `synchronous = FULL`.
//!
//! Publishing is one `BEGIN IMMEDIATE` transaction, so a crash leaves either the old or the new
//! version current. Triggers refuse any update or delete of a published version. The schema is
//! versioned: migrations run in order at open, each in its own transaction.

use super::*;
use crate::server::error::ApiError;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

/// The schema, one migration per step; a database records how many it has run.
const MIGRATIONS: &[&str] = &[
    // 1: the first release's tables (made only when absent: older databases have them).
    "CREATE TABLE IF NOT EXISTS versions (
       app TEXT NOT NULL, version INTEGER NOT NULL, document TEXT NOT NULL, bundle TEXT NOT NULL,
       published_by TEXT NOT NULL, published_at INTEGER NOT NULL, summary TEXT NOT NULL,
       PRIMARY KEY (app, version));
     CREATE TRIGGER IF NOT EXISTS versions_no_update BEFORE UPDATE ON versions
       BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
     CREATE TRIGGER IF NOT EXISTS versions_no_delete BEFORE DELETE ON versions
       BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
     CREATE TABLE IF NOT EXISTS current (app TEXT PRIMARY KEY, version INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS decisions (
       id INTEGER PRIMARY KEY, reported_by TEXT NOT NULL, received_at INTEGER NOT NULL,
       event TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS decision_chains (
       reported_by TEXT NOT NULL, chain TEXT NOT NULL, head TEXT NOT NULL,
       PRIMARY KEY (reported_by, chain));
     CREATE TABLE IF NOT EXISTS records (
       resource TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (resource, id));",
    // 2: decision chains (databases from before them gain the columns).
    "ALTER TABLE decisions ADD COLUMN chain TEXT;
     ALTER TABLE decisions ADD COLUMN hash TEXT;
     ALTER TABLE decisions ADD COLUMN link TEXT NOT NULL DEFAULT 'unchained';
     CREATE UNIQUE INDEX IF NOT EXISTS decisions_chained
       ON decisions (reported_by, chain, hash) WHERE hash IS NOT NULL;",
    // 3: record revisions, directories, credentials, sessions, reassignments.
    "ALTER TABLE records ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
     CREATE INDEX IF NOT EXISTS decisions_by_user ON decisions (reported_by);
     CREATE TABLE directories (
       app TEXT PRIMARY KEY, people TEXT NOT NULL, updated_by TEXT NOT NULL,
       updated_at INTEGER NOT NULL);
     CREATE TABLE credentials (
       name TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
       created_at INTEGER NOT NULL, PRIMARY KEY (name, kind));
     CREATE TABLE sessions (
       id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, expires_at INTEGER NOT NULL);
     CREATE TABLE reassignments (
       app TEXT NOT NULL, version INTEGER NOT NULL, moved TEXT NOT NULL,
       PRIMARY KEY (app, version));
     CREATE TRIGGER reassignments_no_update BEFORE UPDATE ON reassignments
       BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;",
    // 4: the admin audit log, and a note on versions (`rollback to 3`).
    "ALTER TABLE versions ADD COLUMN note TEXT;
     CREATE TABLE audit (
       id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
       endpoint TEXT NOT NULL, app TEXT, detail TEXT NOT NULL);
     CREATE INDEX audit_by_time ON audit (at);
     CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 5: the data access log (server-side and client-reported) and its alerts.
    "CREATE TABLE access (
       id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
       resource TEXT NOT NULL, records TEXT NOT NULL, unmasked TEXT NOT NULL,
       outcome TEXT NOT NULL, fields TEXT NOT NULL, source TEXT NOT NULL);
     CREATE INDEX access_by_time ON access (at);
     CREATE INDEX access_by_user ON access (user, at);
     CREATE TABLE alerts (
       id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT NOT NULL, detail TEXT NOT NULL);",
    // 6: drafts per app and admin; access review campaigns and their lines.
    "CREATE TABLE drafts (
       app TEXT NOT NULL, admin TEXT NOT NULL, document TEXT NOT NULL, base INTEGER,
       revision INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (app, admin));
     CREATE TABLE reviews (
       id INTEGER PRIMARY KEY, app TEXT NOT NULL, scope TEXT NOT NULL, version INTEGER NOT NULL,
       opened_by TEXT NOT NULL, opened_at INTEGER NOT NULL, closed_by TEXT, closed_at INTEGER,
       outcome TEXT);
     CREATE TABLE review_lines (
       review INTEGER NOT NULL, n INTEGER NOT NULL, reviewer TEXT NOT NULL, line TEXT NOT NULL,
       decision TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', decided_by TEXT,
       decided_at INTEGER, PRIMARY KEY (review, n));
     CREATE INDEX review_lines_by_reviewer ON review_lines (reviewer);",
    // 7: how many records an access entry is about (an export lists only its first ids).
    "ALTER TABLE access ADD COLUMN count INTEGER NOT NULL DEFAULT 0;",
    // 8: an unchained event sent again is found by an index, not by reading every event its
    //    reporter sent; pruning by age finds old events the same way.
    "CREATE INDEX decisions_unchained ON decisions (reported_by, event) WHERE chain IS NULL;
     CREATE INDEX decisions_by_time ON decisions (received_at);",
    // 9: directories published with versions: each version names the snapshot of the people
    //    in force from it on (a rollback restores them); a draft may carry a directory.
    "ALTER TABLE drafts ADD COLUMN directory TEXT;
     ALTER TABLE versions ADD COLUMN directory TEXT;
     ALTER TABLE versions ADD COLUMN directory_changed INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE directory_snapshots (
       app TEXT NOT NULL, sha TEXT NOT NULL, people TEXT NOT NULL, PRIMARY KEY (app, sha));",
];

/// The database of one server.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The file, for readers of their own (long scans never hold the writer's lock).
    path: std::path::PathBuf,
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError::Failed(e.to_string())
}

impl SqliteStore {
    /// Opens (creating when asked) the database at `path`, checks it and brings its schema up to
    /// date.
    ///
    /// # Errors
    /// The file cannot be opened, is damaged, or a migration fails.
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore, StoreError> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let at = |e: rusqlite::Error| StoreError::Failed(format!("{}: {e}", path.display()));
        let mut conn = Connection::open_with_flags(path, flags).map_err(at)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(at)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(at)?;
        if check != "ok" {
            return Err(StoreError::Failed(format!(
                "{} is damaged ({check}); restore it from a backup",
                path.display()
            )));
        }
        migrate(&mut conn).map_err(at)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(failed)
    }
}

/// Runs the migrations a database has not run yet.
// TRUNCATION: the schema version is a small count of migrations
#[allow(clippy::cast_possible_truncation)]
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let done: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if i == 1 && has_column(&tx, "decisions", "chain")? {
            // A database from between the first release and versioned migrations has them.
        } else {
            tx.execute_batch(sql)?;
        }
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![i as i64 + 1],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Whether campaign `id` of `app` exists and is open, read inside `tx` (which holds the write
/// lock, so it stays so until `tx` ends).
fn review_open(tx: &rusqlite::Transaction<'_>, app: &str, id: i64) -> Result<(), DecideError> {
    let closed: Option<Option<i64>> = tx
        .query_row(
            "SELECT closed_at FROM reviews WHERE app = ?1 AND id = ?2",
            params![app, id],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| DecideError::Store(failed(e)))?;
    match closed {
        None => Err(DecideError::Missing),
        Some(Some(_)) => Err(DecideError::Closed),
        Some(None) => Ok(()),
    }
}

/// Saves a draft inside `tx` (see [`next_draft_revision`]); the new revision.
fn write_draft(
    tx: &rusqlite::Transaction<'_>,
    app: &str,
    admin: &str,
    d: &NewDraft,
    expected: Option<u64>,
) -> Result<u64, DraftError> {
    let stored: Option<(i64, bool)> = tx
        .query_row(
            "SELECT revision, document <> '' FROM drafts WHERE app = ?1 AND admin = ?2",
            params![app, admin],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| DraftError::Store(failed(e)))?;
    let stored = stored.map(|(n, live)| (u64::try_from(n).unwrap_or(0), live));
    let next = next_draft_revision(stored, expected)?;
    tx.execute(
        "INSERT INTO drafts (app, admin, document, base, revision, updated_at, directory)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (app, admin) DO UPDATE SET document = excluded.document,
           base = excluded.base, revision = excluded.revision, updated_at = excluded.updated_at,
           directory = COALESCE(excluded.directory, drafts.directory)",
        params![
            app,
            admin,
            d.document,
            d.base.map(sql_int),
            sql_int(next),
            d.at,
            d.directory
        ],
    )
    .map_err(|e| DraftError::Store(failed(e)))?;
    Ok(next)
}

fn has_column(c: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = c.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map(params![table], |r| r.get::<_, String>(0))?;
    for n in names {
        if n? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

const SELECT: &str =
    "SELECT v.app, v.version, v.document, v.bundle, v.published_by, v.published_at,
  v.summary, r.moved, v.note, v.directory, v.directory_changed FROM versions v
  LEFT JOIN reassignments r ON r.app = v.app AND r.version = v.version";

/// SQLite integers are signed; versions never get near the limit.
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn current_in(c: &Connection, app: &str) -> rusqlite::Result<Option<Version>> {
    c.query_row(
        &format!(
            "{SELECT} WHERE v.app = ?1 AND v.version = (SELECT version FROM current WHERE app = ?1)"
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
        reassigned: r
            .get::<_, Option<String>>(7)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        note: r.get(8)?,
        directory: r.get(9)?,
        directory_changed: r.get::<_, i64>(10)? != 0,
    })
}

/// Makes `text` the directory of `app`.
fn put_directory_in(
    c: &Connection,
    app: &str,
    text: &str,
    by: &str,
    at: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO directories (app, people, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (app) DO UPDATE SET people = excluded.people,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![app, text, by, at],
    )
    .map(|_| ())
}

/// Within a publication: makes `v`'s directory the app's (when it brings one) and returns the
/// snapshot name of the directory in force from `v` on, keeping that snapshot.
fn publish_directory_in(
    tx: &rusqlite::Transaction<'_>,
    app: &str,
    v: &NewVersion,
) -> rusqlite::Result<Option<String>> {
    let text = match &v.directory {
        Some(people) => {
            let text = people.to_string();
            put_directory_in(tx, app, &text, &v.by, v.at)?;
            Some(text)
        }
        None => tx
            .query_row(
                "SELECT people FROM directories WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .optional()?,
    };
    let Some(text) = text else { return Ok(None) };
    let sha = people_sha(&text);
    tx.execute(
        "INSERT OR IGNORE INTO directory_snapshots (app, sha, people) VALUES (?1, ?2, ?3)",
        params![app, sha, text],
    )?;
    Ok(Some(sha))
}

/// A review with its line counts (followed by a WHERE and GROUP BY).
fn review_select() -> String {
    format!(
        "SELECT r.id, r.app, r.scope, r.version, r.opened_by, r.opened_at, r.closed_by,
           r.closed_at, r.outcome, COUNT(l.n), SUM(l.decision != ''),
           SUM(l.decision IN {REVOKED})
         FROM reviews r LEFT JOIN review_lines l ON l.review = r.id"
    )
}

fn row_review(r: &rusqlite::Row<'_>) -> rusqlite::Result<Review> {
    let json = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok());
    let count = |v: Option<i64>| u64::try_from(v.unwrap_or(0)).unwrap_or(0);
    Ok(Review {
        id: r.get(0)?,
        app: r.get(1)?,
        scope: json(r.get(2)?).unwrap_or(Value::Null),
        version: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        opened_by: r.get(4)?,
        opened_at: r.get(5)?,
        closed_by: r.get(6)?,
        closed_at: r.get(7)?,
        outcome: json(r.get(8)?),
        lines: count(r.get(9)?),
        decided: count(r.get(10)?),
        revoked: count(r.get(11)?),
    })
}

fn review_lines(
    c: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<Vec<ReviewLine>> {
    let mut stmt = c.prepare(&format!(
        "SELECT n, reviewer, line, decision, note, decided_by, decided_at FROM review_lines {filter} ORDER BY n"
    ))?;
    let rows = stmt.query_map(p, |r| {
        Ok(ReviewLine {
            n: r.get(0)?,
            reviewer: r.get(1)?,
            line: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Value::Null),
            decision: r.get(3)?,
            note: r.get(4)?,
            decided_by: r.get(5)?,
            decided_at: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Appends one audit entry (inside the caller's transaction, if any).
fn audit_in(c: &Connection, e: &AuditEntry) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO audit (at, actor, kind, endpoint, app, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![e.at, e.actor, e.kind, e.endpoint, e.app, e.detail.to_string()],
    )
    .map(|_| ())
}

fn row_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        body: serde_json::from_str(&r.get::<_, String>(0)?).unwrap_or(Value::Null),
        revision: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
    })
}

/// Moves records as `r` says, inside `tx`; returns what moved, by resource.
fn reassign_in(tx: &Connection, r: &Reassign) -> rusqlite::Result<Value> {
    let mut moved = serde_json::Map::new();
    for (resource, owner) in &r.owners {
        let mut stmt =
            tx.prepare("SELECT id, body FROM records WHERE resource = ?1 ORDER BY id")?;
        let rows: Vec<(String, String)> = stmt
            .query_map(params![resource], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut ids = Vec::new();
        for (id, body) in rows {
            if !r.covers(resource, &id) {
                continue;
            }
            let Some(body) = r.moved(&body, owner) else {
                continue;
            };
            tx.execute(
                "UPDATE records SET body = ?3, revision = revision + 1 WHERE resource = ?1 AND id = ?2",
                params![resource, id, body],
            )?;
            ids.push(Value::from(id));
        }
        if !ids.is_empty() {
            moved.insert(resource.clone(), Value::Array(ids));
        }
    }
    Ok(serde_json::json!({"from": r.from, "to": r.to, "records": moved}))
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
    Ok(Some(Link::of(l, head.as_deref())))
}

impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
    }

    fn current(&self, app: &str) -> StoreResult<Option<Version>> {
        self.with(|c| current_in(c, app))
    }

    fn version(&self, app: &str, n: u64) -> StoreResult<Option<Version>> {
        self.with(|c| {
            c.query_row(
                &format!("{SELECT} WHERE v.app = ?1 AND v.version = ?2"),
                params![app, sql_int(n)],
                row_version,
            )
            .optional()
        })
    }

    fn versions(&self, app: &str) -> StoreResult<Vec<Version>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{SELECT} WHERE v.app = ?1 ORDER BY v.version DESC"
            ))?;
            let rows = stmt.query_map(params![app], row_version)?;
            rows.collect()
        })
    }

    fn last_version(&self, app: &str) -> StoreResult<Option<u64>> {
        self.with(|c| {
            c.query_row(
                "SELECT MAX(version) FROM versions WHERE app = ?1",
                params![app],
                |r| r.get::<_, Option<i64>>(0),
            )
        })
        .map(|v| v.map(|n| u64::try_from(n).unwrap_or(0)))
    }

    fn apps(&self) -> StoreResult<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT app FROM current ORDER BY app")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn publish(
        &self,
        app: &str,
        base: Option<u64>,
        v: NewVersion,
    ) -> Result<Version, PublishError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let current: Option<i64> = tx
            .query_row(
                "SELECT version FROM current WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .optional()
            .map_err(failed)?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT MAX(version) FROM versions WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .map_err(failed)?;
        let current = current.map(|c| u64::try_from(c).unwrap_or(0));
        let next = last.map_or(1, |l| u64::try_from(l).unwrap_or(0) + 1);
        if current != base || v.version != next {
            return Err(PublishError::Moved { current });
        }
        let summary = v.summary.to_string();
        let directory = publish_directory_in(&tx, app, &v).map_err(failed)?;
        let changed = v.directory.is_some();
        tx.execute(
            "INSERT INTO versions (app, version, document, bundle, published_by, published_at, summary, note,
               directory, directory_changed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![app, sql_int(v.version), v.document, v.bundle, v.by, v.at, summary, v.note,
              directory, i64::from(changed)],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO current (app, version) VALUES (?1, ?2)
                 ON CONFLICT (app) DO UPDATE SET version = excluded.version",
                params![app, sql_int(v.version)],
            )
        })
        .map_err(failed)?;
        let reassigned = match &v.reassign {
            Some(r) => {
                let moved = reassign_in(&tx, r).map_err(failed)?;
                tx.execute(
                    "INSERT INTO reassignments (app, version, moved) VALUES (?1, ?2, ?3)",
                    params![app, sql_int(v.version), moved.to_string()],
                )
                .map_err(failed)?;
                Some(moved)
            }
            None => None,
        };
        let mut entry = v.audit;
        entry.detail["version"] = Value::from(v.version);
        if let Some(moved) = &reassigned {
            entry.detail["reassigned"] = moved.clone();
        }
        audit_in(&tx, &entry).map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(Version {
            app: app.to_string(),
            version: v.version,
            published_by: v.by,
            published_at: v.at,
            summary: v.summary,
            reassigned,
            note: v.note,
            directory_changed: changed,
            directory,
            document: v.document,
            bundle: v.bundle,
        })
    }

    fn directory_snapshot(&self, app: &str, sha: &str) -> StoreResult<Option<Value>> {
        self.with(|c| {
            c.query_row(
                "SELECT people FROM directory_snapshots WHERE app = ?1 AND sha = ?2",
                params![app, sha],
                |r| r.get::<_, String>(0),
            )
            .optional()
        })
        .map(|t| t.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
    }

    fn directory(&self, app: &str) -> StoreResult<Option<(Value, String, i64)>> {
        self.with(|c| {
            c.query_row(
                "SELECT people, updated_by, updated_at FROM directories WHERE app = ?1",
                params![app],
                |r| {
                    let text: String = r.get(0)?;
                    Ok((
                        serde_json::from_str(&text).unwrap_or(Value::Null),
                        r.get(1)?,
                        r.get(2)?,
                    ))
                },
            )
            .optional()
        })
    }

    fn put_directory(&self, app: &str, people: &Value, by: &str, at: i64) -> StoreResult<()> {
        self.with(|c| put_directory_in(c, app, &people.to_string(), by, at))
    }

    fn add_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        self.with(|c| audit_in(c, e))
    }

    fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, at, actor, kind, endpoint, app, detail FROM audit
                 WHERE at >= ?1 AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR kind = ?3)
                   AND (?4 IS NULL OR app = ?4)
                 ORDER BY id DESC LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![q.since, q.actor, q.kind, q.app, i64::from(q.limit)],
                |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        kind: r.get(3)?,
                        endpoint: r.get(4)?,
                        app: r.get(5)?,
                        detail: serde_json::from_str(&r.get::<_, String>(6)?)
                            .unwrap_or(Value::Null),
                    })
                },
            )?;
            rows.collect()
        })
    }

    fn add_access(&self, rows: &[AccessEntry]) -> StoreResult<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(failed)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO access (at, user, action, resource, records, unmasked, outcome,
                       fields, source, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(failed)?;
            let list = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
            for e in rows {
                stmt.execute(params![
                    e.at,
                    e.user,
                    e.action,
                    e.resource,
                    list(&e.records),
                    list(&e.unmasked),
                    e.outcome,
                    list(&e.fields),
                    e.source,
                    sql_int(e.count.max(e.records.len() as u64)),
                ])
                .map_err(failed)?;
            }
        }
        tx.commit().map_err(failed)
    }

    fn access(&self, q: &AccessQuery) -> StoreResult<Vec<AccessEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, user, action, resource, records, unmasked, outcome, fields, source,
                   count FROM access WHERE at >= ?1 AND at <= ?2 AND (?3 IS NULL OR user = ?3)
                   AND (?4 IS NULL OR resource = ?4)
                   AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(records) WHERE value = ?5))
                   AND (?6 IS NULL OR source = ?6)
                 ORDER BY id DESC LIMIT ?7",
            )?;
            let list = |t: String| serde_json::from_str(&t).unwrap_or_default();
            let rows = stmt.query_map(
                params![
                    q.since,
                    q.until,
                    q.user,
                    q.resource,
                    q.record,
                    q.source,
                    i64::from(q.limit)
                ],
                |r| {
                    Ok(AccessEntry {
                        at: r.get(0)?,
                        user: r.get(1)?,
                        action: r.get(2)?,
                        resource: r.get(3)?,
                        records: list(r.get(4)?),
                        unmasked: list(r.get(5)?),
                        outcome: r.get(6)?,
                        fields: list(r.get(7)?),
                        source: r.get(8)?,
                        count: u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0),
                    })
                },
            )?;
            rows.collect()
        })
    }

    fn prune_access(&self, before: i64) -> StoreResult<u64> {
        self.with(|c| {
            c.execute("DELETE FROM access WHERE at < ?1", params![before])
                .map(|n| n as u64)
        })
    }

    fn prune_decisions(&self, before: i64) -> StoreResult<u64> {
        self.with(|c| {
            c.execute(
                "DELETE FROM decisions WHERE received_at < ?1",
                params![before],
            )
            .map(|n| n as u64)
        })
    }

    fn add_alert(&self, a: &Alert) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO alerts (at, user, detail) VALUES (?1, ?2, ?3)",
                params![a.at, a.user, a.detail.to_string()],
            )
            .map(|_| ())
        })
    }

    fn alerts(&self, since: i64, limit: u32) -> StoreResult<Vec<Alert>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, user, detail FROM alerts WHERE at >= ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![since, i64::from(limit)], |r| {
                Ok(Alert {
                    at: r.get(0)?,
                    user: r.get(1)?,
                    detail: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Value::Null),
                })
            })?;
            rows.collect()
        })
    }

    fn draft(&self, app: &str, admin: &str) -> StoreResult<Option<Draft>> {
        self.with(|c| {
            c.query_row(
                "SELECT document, base, revision, updated_at, directory FROM drafts
                 WHERE app = ?1 AND admin = ?2 AND document <> ''",
                params![app, admin],
                |r| {
                    Ok(Draft {
                        document: r.get(0)?,
                        base: r
                            .get::<_, Option<i64>>(1)?
                            .map(|b| u64::try_from(b).unwrap_or(0)),
                        revision: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                        updated_at: r.get(3)?,
                        directory: r.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    fn put_draft(
        &self,
        app: &str,
        admin: &str,
        d: &NewDraft,
        expected: Option<u64>,
    ) -> Result<u64, DraftError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| DraftError::Store(failed(e)))?;
        let next = write_draft(&tx, app, admin, d, expected)?;
        tx.commit().map_err(|e| DraftError::Store(failed(e)))?;
        Ok(next)
    }

    fn delete_draft(&self, app: &str, admin: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "UPDATE drafts SET document = '', base = NULL, directory = NULL
                 WHERE app = ?1 AND admin = ?2",
                params![app, admin],
            )
            .map(|_| ())
        })
    }

    fn open_review(&self, r: &NewReview) -> StoreResult<i64> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(failed)?;
        tx.execute(
            "INSERT INTO reviews (app, scope, version, opened_by, opened_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.app, r.scope.to_string(), sql_int(r.version), r.by, r.at],
        )
        .map_err(failed)?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO review_lines (review, n, reviewer, line) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(failed)?;
            for (n, (reviewer, line)) in r.lines.iter().enumerate() {
                stmt.execute(params![id, n as i64 + 1, reviewer, line.to_string()])
                    .map_err(failed)?;
            }
        }
        tx.commit().map_err(failed)?;
        Ok(id)
    }

    fn reviews(&self, app: &str) -> StoreResult<Vec<Review>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{} WHERE r.app = ?1 GROUP BY r.id ORDER BY r.id DESC",
                review_select()
            ))?;
            let rows = stmt.query_map(params![app], row_review)?;
            rows.collect()
        })
    }

    fn review(&self, app: &str, id: i64) -> StoreResult<Option<(Review, Vec<ReviewLine>)>> {
        self.with(|c| {
            let Some(review) = c
                .query_row(
                    &format!(
                        "{} WHERE r.app = ?1 AND r.id = ?2 GROUP BY r.id",
                        review_select()
                    ),
                    params![app, id],
                    row_review,
                )
                .optional()?
            else {
                return Ok(None);
            };
            let lines = review_lines(c, "WHERE review = ?1", params![id])?;
            Ok(Some((review, lines)))
        })
    }

    fn lines_for(&self, reviewer: &str) -> StoreResult<Vec<(Review, Vec<ReviewLine>)>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{} WHERE r.closed_at IS NULL AND r.id IN
                   (SELECT review FROM review_lines WHERE reviewer = ?1) GROUP BY r.id ORDER BY r.id",
                review_select()
            ))?;
            let open: Vec<Review> = stmt.query_map(params![reviewer], row_review)?.collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for r in open {
                let lines = review_lines(c, "WHERE review = ?1 AND reviewer = ?2", params![r.id, reviewer])?;
                out.push((r, lines));
            }
            Ok(out)
        })
    }

    fn decide(&self, app: &str, id: i64, d: &Decisions) -> Result<usize, DecideError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| DecideError::Store(failed(e)))?;
        review_open(&tx, app, id)?;
        let mut n = 0;
        for (line, decision, note) in &d.lines {
            let reviewer: Option<String> = tx
                .query_row(
                    "SELECT reviewer FROM review_lines WHERE review = ?1 AND n = ?2",
                    params![id, line],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| DecideError::Store(failed(e)))?;
            match reviewer {
                None => return Err(DecideError::NoLine(*line)),
                Some(r) if d.reviewer.as_ref().is_some_and(|me| *me != r) => {
                    return Err(DecideError::NotYours(*line))
                }
                Some(_) => {}
            }
            tx.execute(
                "UPDATE review_lines SET decision = ?3, note = ?4, decided_by = ?5, decided_at = ?6
                 WHERE review = ?1 AND n = ?2",
                params![id, line, decision, note, d.by, d.at],
            )
            .map_err(|e| DecideError::Store(failed(e)))?;
            n += 1;
        }
        tx.commit().map_err(|e| DecideError::Store(failed(e)))?;
        Ok(n)
    }

    fn close_review(
        &self,
        app: &str,
        id: i64,
        make: &mut dyn FnMut(&[ReviewLine]) -> Option<ReviewClose>,
    ) -> Result<Option<u64>, CloseError> {
        let store = |e| CloseError::Refused(DecideError::Store(failed(e)));
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        // Immediate: the transaction holds the write lock from here, so no decision is
        // stored between reading the lines and closing.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store)?;
        review_open(&tx, app, id).map_err(CloseError::Refused)?;
        let lines = review_lines(&tx, "WHERE review = ?1", params![id]).map_err(store)?;
        let Some(c) = make(&lines) else {
            return Ok(None);
        };
        let revision = write_draft(&tx, app, &c.by, &c.draft, Some(c.expected))?;
        tx.execute(
            "UPDATE reviews SET closed_by = ?3, closed_at = ?4, outcome = ?5
             WHERE app = ?1 AND id = ?2",
            params![app, id, c.by, c.at, c.outcome.to_string()],
        )
        .map_err(store)?;
        tx.commit().map_err(store)?;
        Ok(Some(revision))
    }

    fn credentials(&self) -> StoreResult<Vec<Credential>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT name, kind, token_hash, created_at FROM credentials ORDER BY kind, name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Credential {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    token_hash: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?;
            rows.collect()
        })
    }

    fn put_credential(&self, cr: &Credential) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM credentials WHERE (name = ?1 AND kind = ?2) OR token_hash = ?3",
                params![cr.name, cr.kind, cr.token_hash],
            )?;
            tx.execute(
                "INSERT INTO credentials (name, kind, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![cr.name, cr.kind, cr.token_hash, cr.created_at],
            )?;
            tx.commit()
        })
    }

    fn remove_credential(&self, name: &str, kind: &str) -> StoreResult<bool> {
        self.with(|c| {
            c.execute(
                "DELETE FROM credentials WHERE name = ?1 AND kind = ?2",
                params![name, kind],
            )
            .map(|n| n > 0)
        })
    }

    fn create_session(&self, id_hash: &str, user: &str, expires_at: i64) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM sessions WHERE expires_at < ?1",
                params![expires_at - 2 * crate::server::auth::LOGIN_MS],
            )?;
            c.execute(
                "INSERT INTO sessions (id_hash, user, expires_at) VALUES (?1, ?2, ?3)",
                params![id_hash, user, expires_at],
            )
            .map(|_| ())
        })
    }

    fn session(&self, id_hash: &str, now: i64) -> StoreResult<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT user FROM sessions WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, now],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn end_session(&self, id_hash: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash])
                .map(|_| ())
        })
    }

    fn add_decisions(&self, user: &str, now_ms: i64, events: &[Reported]) -> StoreResult<Outcome> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut outcome = Outcome::default();
            for e in events {
                let link = match &e.chain {
                    None => {
                        let seen = tx
                            .query_row(
                                "SELECT 1 FROM decisions WHERE reported_by = ?1 AND chain IS NULL AND event = ?2",
                                params![user, e.event],
                                |_| Ok(()),
                            )
                            .optional()?;
                        seen.is_none().then_some(Link::Unchained)
                    }
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

    fn decision_count(&self, user: &str) -> StoreResult<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM decisions WHERE reported_by = ?1",
                params![user],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    fn decisions(&self, limit: u32) -> StoreResult<Vec<Value>> {
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

    fn scan_records(
        &self,
        resource: &str,
        passes: usize,
        f: &mut dyn FnMut(usize, &Value) -> Result<(), String>,
    ) -> StoreResult<Result<(), String>> {
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut c = Connection::open_with_flags(&self.path, flags).map_err(failed)?;
        c.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed)?;
        // One read transaction: every pass sees the same records.
        let tx = c.transaction().map_err(failed)?;
        let mut stmt = tx
            .prepare("SELECT body FROM records WHERE resource = ?1 ORDER BY id")
            .map_err(failed)?;
        for pass in 0..passes {
            let mut rows = stmt.query(params![resource]).map_err(failed)?;
            while let Some(row) = rows.next().map_err(failed)? {
                let body: String = row.get(0).map_err(failed)?;
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if let Err(e) = f(pass, &v) {
                    return Ok(Err(e));
                }
            }
        }
        Ok(Ok(()))
    }

    fn records(&self, resource: &str) -> StoreResult<Vec<Record>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT body, revision FROM records WHERE resource = ?1 ORDER BY id")?;
            let rows = stmt.query_map(params![resource], row_record)?;
            rows.collect()
        })
    }

    fn record(&self, resource: &str, id: &str) -> StoreResult<Option<Record>> {
        self.with(|c| {
            c.query_row(
                "SELECT body, revision FROM records WHERE resource = ?1 AND id = ?2",
                params![resource, id],
                row_record,
            )
            .optional()
        })
    }

    fn insert_record(&self, resource: &str, id: &str, body: &Value) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO records (resource, id, body, revision) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (resource, id) DO NOTHING",
                params![resource, id, body.to_string()],
            )?;
            Ok(n == 1)
        })
    }

    fn update_record(
        &self,
        resource: &str,
        id: &str,
        expected: Option<u64>,
        change: &mut dyn FnMut(&Value) -> Result<Value, ApiError>,
    ) -> Result<Record, UpdateError<ApiError>> {
        let store = |e: rusqlite::Error| UpdateError::Store(failed(e));
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store)?;
        let now = tx
            .query_row(
                "SELECT body, revision FROM records WHERE resource = ?1 AND id = ?2",
                params![resource, id],
                row_record,
            )
            .optional()
            .map_err(store)?
            .ok_or(UpdateError::Missing)?;
        if expected.is_some_and(|e| e != now.revision) {
            return Err(UpdateError::Stale {
                revision: now.revision,
            });
        }
        let body = change(&now.body).map_err(UpdateError::Refused)?;
        let revision = now.revision + 1;
        tx.execute(
            "UPDATE records SET body = ?3, revision = ?4 WHERE resource = ?1 AND id = ?2",
            params![resource, id, body.to_string(), sql_int(revision)],
        )
        .map_err(store)?;
        tx.commit().map_err(store)?;
        Ok(Record { body, revision })
    }

    fn reassign(&self, r: &Reassign) -> StoreResult<Value> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let moved = reassign_in(&tx, r)?;
            tx.commit()?;
            Ok(moved)
        })
    }

    fn seed_records(&self, resource: &str, records: &[Value]) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for r in records {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                tx.execute(
                    "INSERT INTO records (resource, id, body, revision) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (resource, id) DO NOTHING",
                    params![resource, id, r.to_string()],
                )?;
            }
            tx.commit()
        })
    }

    fn has_records(&self) -> StoreResult<bool> {
        self.with(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM records)", [], |r| r.get(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
             CREATE TABLE records (resource TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
               PRIMARY KEY (resource, id));
             INSERT INTO decisions (reported_by, received_at, event) VALUES ('u-a', 1, '{}');
             INSERT INTO records VALUES ('customer', 'c-1', '{\"id\":\"c-1\"}');",
        )
        .unwrap();
        drop(old);
        let store = SqliteStore::open(&path, false).unwrap();
        let listed = store.decisions(10).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["link"], Link::Unchained.as_str());
        assert_eq!(
            store.record("customer", "c-1").unwrap().unwrap().revision,
            1
        );
        drop(store);
        SqliteStore::open(&path, false).expect("opens again once migrated");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

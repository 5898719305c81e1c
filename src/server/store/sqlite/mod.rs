//! The SQLite store: one file in the data directory, WAL journal, `synchronous = FULL`.
//!
//! Publishing is one `BEGIN IMMEDIATE` transaction, so a crash leaves either the old or the new
//! version current. Triggers refuse any update or delete of a published version. The schema is
//! versioned: migrations run in order at open, each in its own transaction.

mod access_log;
mod audit;
mod credentials;
mod decisions;
mod directory;
mod drafts;
mod records;
mod reviews;
mod sessions;
mod versions;
use self::{audit::*, directory::*, drafts::*, records::*};
use crate::host::sync::Unpoisoned;

use super::*;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

/// The schema, one migration per step; a database records how many it has run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/01.sql"),
    include_str!("migrations/02.sql"),
    include_str!("migrations/03.sql"),
    include_str!("migrations/04.sql"),
    include_str!("migrations/05.sql"),
    include_str!("migrations/06.sql"),
    include_str!("migrations/07.sql"),
    include_str!("migrations/08.sql"),
    include_str!("migrations/09.sql"),
    include_str!("migrations/10.sql"),
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
        let mut conn = self.conn.locked();
        f(&mut conn).map_err(failed)
    }
}

/// Runs the migrations a database has not run yet.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the schema version is a small count of migrations"
)]
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

/// SQLite integers are signed; versions never get near the limit.
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
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

//! Backup and restore of a data directory.
//!
//! A backup is one SQLite file made with SQLite's online backup API, so it is consistent while
//! the server runs and holds what is still in the write-ahead log: versions, the directory,
//! drafts, reviews, the audit and access logs, decision events and the sample data. A
//! `backup_meta` table in it says what it is and which key signed its bundles; the signing key
//! itself is in it only when asked (`--include-keys`).
//!
//! A restore refuses to overwrite a directory with anything in it (unless forced), checks the
//! file (`PRAGMA integrity_check`; every stored bundle verified with the key it names, and
//! every stored document the same as the policy its bundle signed, since the server enforces
//! and re-signs the document), and only then puts it in place; the server then starts on the
//! same current version. Credentials are not taken from a backup unless asked
//! (`--include-credentials`): a token added to the file, or one revoked since it was taken,
//! would come back. The directory keeps the credentials it had instead; login sessions are
//! never restored.

use crate::bundle::{verify, PublicKey, SecretKey, TrustedKeys, VerifyOptions};
use crate::server::services::files::{private_dir, private_file, FileError};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::fmt;
use std::path::Path;

/// Why a backup or a restore did not happen; a refused restore changed nothing.
#[derive(Debug)]
pub enum BackupError {
    /// What was given cannot be used: no database, a file that exists, a directory that is
    /// not empty, or a backup that is not one, is damaged, or was changed after it was taken.
    Refused(String),
    /// The database could not be read or written.
    Database {
        /// What was being done.
        doing: &'static str,
        /// Why.
        source: rusqlite::Error,
    },
    /// A file could not be read, copied or written.
    File {
        /// The file.
        file: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The data directory could not be made private.
    Private(FileError),
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupError::Refused(m) => f.write_str(m),
            BackupError::Database { doing, source } => write!(f, "{doing}: {source}"),
            BackupError::File { file, source } => write!(f, "{file}: {source}"),
            BackupError::Private(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BackupError {}

impl From<FileError> for BackupError {
    fn from(e: FileError) -> BackupError {
        BackupError::Private(e)
    }
}

/// The CLI reports a backup problem as its message.
impl From<BackupError> for String {
    fn from(e: BackupError) -> String {
        e.to_string()
    }
}

fn refused(m: impl Into<String>) -> BackupError {
    BackupError::Refused(m.into())
}

fn file(file: &'static str) -> impl FnOnce(std::io::Error) -> BackupError {
    move |source| BackupError::File { file, source }
}

const FORMAT: &str = "fieldgate-backup/1";

/// What a backup or a restore did.
#[derive(Debug)]
pub struct Summary {
    /// Published versions in it.
    pub versions: u64,
    /// Whether it holds the signing key.
    pub keys: bool,
    /// The current version of each app.
    pub current: Vec<(String, u64)>,
    /// Where the restored database's credentials came from, and how many.
    pub credentials: Option<(Credentials, u64)>,
}

/// Where a restore took credentials from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// The backup (`--include-credentials`).
    Backup,
    /// The data directory's database, as it was before the restore.
    Kept,
}

fn err(doing: &'static str) -> impl Fn(rusqlite::Error) -> BackupError {
    move |source| BackupError::Database { doing, source }
}

/// Copies `data`'s database into a new file `out` (online: the server may be running).
///
/// # Errors
/// A message when the database cannot be read or `out` exists or cannot be written.
pub fn backup(data: &Path, out: &Path, include_keys: bool) -> Result<Summary, BackupError> {
    let db = data.join("fieldgate.db");
    if !db.exists() {
        return Err(refused(format!(
            "`{}` has no database (fieldgate.db)",
            data.display()
        )));
    }
    // `symlink_metadata`: a link (even a dangling one) is not followed to write elsewhere.
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(refused(format!(
            "`{}` exists: give a new file",
            out.display()
        )));
    }
    let src = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(err("cannot open the database"))?;
    src.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err("busy timeout"))?;
    let mut dst = Connection::open(out).map_err(err("cannot create the backup"))?;
    private_file(out)?;
    {
        let b = rusqlite::backup::Backup::new(&src, &mut dst).map_err(err("backup"))?;
        b.run_to_completion(256, std::time::Duration::from_millis(5), None)
            .map_err(err("backup"))?;
    }
    let public = std::fs::read_to_string(data.join("signing.pub")).map_err(file("signing.pub"))?;
    let mut meta = vec![
        ("format", FORMAT.to_string()),
        ("created_at", crate::host::now_ms().to_string()),
        ("signing.pub", public.trim().to_string()),
    ];
    if include_keys {
        let key = std::fs::read_to_string(data.join("signing.key")).map_err(file("signing.key"))?;
        meta.push(("signing.key", key.trim().to_string()));
    }
    dst.execute_batch("CREATE TABLE backup_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        .map_err(err("backup"))?;
    for (k, v) in &meta {
        dst.execute("INSERT INTO backup_meta VALUES (?1, ?2)", params![k, v])
            .map_err(err("backup"))?;
    }
    summary(&dst, include_keys)
}

fn summary(c: &Connection, keys: bool) -> Result<Summary, BackupError> {
    let versions: i64 = c
        .query_row("SELECT COUNT(*) FROM versions", [], |r| r.get(0))
        .map_err(err("versions"))?;
    let mut stmt = c
        .prepare("SELECT app, version FROM current ORDER BY app")
        .map_err(err("current"))?;
    let current = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(err("current"))?
        .map(|r| r.map(|(a, v)| (a, u64::try_from(v).unwrap_or(0))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err("current"))?;
    Ok(Summary {
        versions: u64::try_from(versions).unwrap_or(0),
        keys,
        current,
        credentials: None,
    })
}

/// Checks the backup `input` and makes it `data`'s database (and keys, when it has them);
/// its credentials only with `include_credentials` (else `data`'s own are kept).
///
/// # Errors
/// A message when `data` is not empty (without `force`), the file is not a sound backup, a
/// stored bundle does not verify with the key the backup names, or a stored document is not
/// the policy its bundle signed.
pub fn restore(
    input: &Path,
    data: &Path,
    force: bool,
    include_credentials: bool,
) -> Result<Summary, BackupError> {
    let busy = std::fs::read_dir(data).is_ok_and(|mut d| d.next().is_some());
    if busy && !force {
        return Err(refused(format!(
            "`{}` is not empty: restore into an empty directory, or give --force to replace \
             what is there",
            data.display()
        )));
    }
    let c = Connection::open_with_flags(input, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(err("cannot open the backup"))?;
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(err("not a SQLite file"))?;
    if check != "ok" {
        return Err(refused(format!("the backup is damaged: {check}")));
    }
    let meta = |k: &str| -> Result<Option<String>, BackupError> {
        c.query_row(
            "SELECT value FROM backup_meta WHERE key = ?1",
            params![k],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| refused(format!("not a fieldgate backup ({e})")))
    };
    if meta("format")?.as_deref() != Some(FORMAT) {
        return Err(refused(format!("not a {FORMAT} file")));
    }
    let public = meta("signing.pub")?.ok_or_else(|| refused("the backup names no signing key"))?;
    let key = meta("signing.key")?;
    let trusted = TrustedKeys::new(vec![
        PublicKey::from_base64(&public).map_err(|e| refused(e.to_string()))?
    ]);
    if let Some(k) = &key {
        let secret = SecretKey::from_base64(k)
            .map_err(|e| refused(format!("the backup's signing.key: {e}")))?;
        if secret.public().to_base64() != public.trim() {
            return Err(refused(
                "the backup's signing.key does not match its signing.pub",
            ));
        }
    }
    verify_bundles(&c, &trusted)?;
    let mut s = summary(&c, key.is_some())?;
    drop(c);

    private_dir(data)?;
    let db = data.join("fieldgate.db");
    let tmp = data.join("fieldgate.db.restoring");
    std::fs::copy(input, &tmp).map_err(file("the backup"))?;
    {
        let c = Connection::open(&tmp).map_err(err("restore"))?;
        c.execute_batch("DROP TABLE backup_meta; DELETE FROM sessions;")
            .map_err(err("restore"))?;
        s.credentials = if include_credentials {
            Some((Credentials::Backup, count(&c, "main")?))
        } else {
            keep_credentials(&c, &db)?
        };
    }
    private_file(&tmp)?;
    for stale in ["fieldgate.db-wal", "fieldgate.db-shm"] {
        let _ = std::fs::remove_file(data.join(stale));
    }
    std::fs::rename(&tmp, &db).map_err(file("fieldgate.db"))?;
    std::fs::write(data.join("signing.pub"), format!("{}\n", public.trim()))
        .map_err(file("signing.pub"))?;
    if let Some(k) = key {
        let path = data.join("signing.key");
        std::fs::write(&path, format!("{k}\n")).map_err(file("signing.key"))?;
        private_file(&path)?;
    }
    Ok(s)
}

/// Replaces the credentials in `c` with those of the database at `db` (the directory's, before
/// the restore), when there is one; what was kept.
fn keep_credentials(c: &Connection, db: &Path) -> Result<Option<(Credentials, u64)>, BackupError> {
    c.execute("DELETE FROM credentials", [])
        .map_err(err("restore"))?;
    if !db.exists() {
        return Ok(None);
    }
    let path = db
        .to_str()
        .ok_or_else(|| refused("the data directory's path is not UTF-8"))?;
    c.execute("ATTACH DATABASE ?1 AS previous", params![path])
        .map_err(err("the directory's database"))?;
    c.execute_batch("INSERT INTO main.credentials SELECT * FROM previous.credentials")
        .map_err(err("the directory's credentials"))?;
    let kept = count(c, "previous")?;
    c.execute_batch("DETACH DATABASE previous")
        .map_err(err("restore"))?;
    Ok(Some((Credentials::Kept, kept)))
}

/// How many credentials the schema `schema` holds.
fn count(c: &Connection, schema: &str) -> Result<u64, BackupError> {
    let n: i64 = c
        .query_row(
            &format!("SELECT COUNT(*) FROM {schema}.credentials"),
            [],
            |r| r.get(0),
        )
        .map_err(err("credentials"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Every stored bundle verifies with the backup's key (its validity window aside: old
/// versions have expired bundles), and every stored document is the policy it signed.
fn verify_bundles(c: &Connection, trusted: &TrustedKeys) -> Result<(), BackupError> {
    let mut stmt = c
        .prepare("SELECT app, version, bundle, document FROM versions ORDER BY app, version")
        .map_err(err("versions"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(err("versions"))?;
    for row in rows {
        let (app, version, bundle, document) = row.map_err(err("versions"))?;
        let mut opts = VerifyOptions::new(trusted, crate::host::now_ms());
        opts.skew_ms = i64::MAX / 4;
        opts.app = Some(&app);
        let b = verify(bundle.as_bytes(), &opts).map_err(|e| {
            refused(format!(
                "{app} v{version}: the stored bundle does not verify: {e}"
            ))
        })?;
        if i64::try_from(b.policy.version()).ok() != Some(version) {
            return Err(refused(format!(
                "{app} v{version}: the stored bundle carries another version"
            )));
        }
        if !same_policy(&document, &b.body) {
            return Err(refused(format!(
                "{app} v{version}: the stored document is not the policy its bundle signed \
                 (the backup was changed after it was taken)"
            )));
        }
    }
    Ok(())
}

/// Whether a stored document is the policy a bundle's body signed: the same JSON once the
/// stamps signing adds (`issued_at`, `expires_at`, `subject`) are set aside.
fn same_policy(document: &str, signed: &[u8]) -> bool {
    let unstamped = |v: serde_json::Value| {
        let mut v = v;
        if let Some(o) = v.as_object_mut() {
            for stamp in ["issued_at", "expires_at", "subject"] {
                o.remove(stamp);
            }
        }
        v
    };
    match (
        serde_json::from_str(document),
        serde_json::from_slice(signed),
    ) {
        (Ok(d), Ok(b)) => unstamped(d) == unstamped(b),
        _ => false,
    }
}

//! A data directory made private (its keys and tokens are made by `host::keys`) and the static
//! publish directory (`<app>/v<n>.json`, immutable, plus a `latest.json` pointer; the current
//! version re-signed as `<app>/v<n>-<issued ms>.json` before its bundle expires).

use crate::host::keys::KeyError;
use crate::server::store::Version;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What went wrong with a file of the data or publish directory.
#[derive(Debug)]
pub enum FileError {
    /// A file or directory could not be made, read, written or locked.
    Io {
        /// What was being done (`make private`, `read`, `write`, `lock`).
        doing: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A bundle for a name that is not an app name is never written.
    NotAnApp(String),
    /// A key given in a file or the environment is empty.
    EmptyKey(String),
    /// No randomness for a temporary file's name.
    Key(KeyError),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io {
                doing,
                path,
                source,
            } => write!(f, "cannot {doing} `{}`: {source}", path.display()),
            FileError::NotAnApp(app) => write!(f, "`{app}` is not an app name; not written"),
            FileError::EmptyKey(from) => write!(f, "the key in `{from}` is empty"),
            FileError::Key(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FileError {}

/// The server's start reports a file problem as its message.
impl From<FileError> for String {
    fn from(e: FileError) -> String {
        e.to_string()
    }
}

fn io<'a>(doing: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> FileError + 'a {
    move |source| FileError::Io {
        doing,
        path: path.to_path_buf(),
        source,
    }
}

/// Makes `dir` (and its parents) if absent, and forces it to mode 0700 (also when it exists:
/// keys, tokens and the database live in it).
///
/// # Errors
/// A message when it cannot be made or changed.
pub fn private_dir(dir: &Path) -> Result<(), FileError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(io("make private", dir))
}

/// Forces a file to mode 0600.
///
/// # Errors
/// A message when its mode cannot be changed.
pub fn private_file(path: &Path) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io("make private", path))
}

/// A key given to the server: the contents of `file`, else of the environment variable
/// `env` (trimmed); `None` when neither is given.
///
/// # Errors
/// A message when the file cannot be read or the key is empty.
pub fn given_key(file: Option<&Path>, env: &str) -> Result<Option<String>, FileError> {
    let text = match file {
        Some(f) => std::fs::read_to_string(f).map_err(io("read", f))?,
        None => match std::env::var(env) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        },
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        let from = file.map_or_else(|| env.to_string(), |f| f.display().to_string());
        return Err(FileError::EmptyKey(from));
    }
    Ok(Some(text))
}

/// Writes a version's bundle as `<dir>/<app>/v<n>.json` (never overwriting one that exists)
/// and points `latest.json` at it, both through a temporary file and a rename.
///
/// # Errors
/// A message when a file cannot be written.
pub fn write_version(dir: &Path, v: &Version) -> Result<(), FileError> {
    write_bundle(dir, v)?;
    write_latest(dir, v)
}

/// Writes `<dir>/<app>/v<n>.json` unless it exists (published bundles never change).
///
/// # Errors
/// A message when the file cannot be written.
pub fn write_bundle(dir: &Path, v: &Version) -> Result<(), FileError> {
    if !crate::core::valid_app_name(&v.app) {
        return Err(FileError::NotAnApp(v.app.clone()));
    }
    let app_dir = dir.join(&v.app);
    std::fs::create_dir_all(&app_dir).map_err(io("make", &app_dir))?;
    let file = app_dir.join(bundle_name(v));
    if file.exists() {
        return Ok(());
    }
    atomic_write(&file, v.bundle.as_bytes())
}

/// Points `<dir>/<app>/latest.json` at `v`, unless it already points at a newer version.
/// Writers take turns through a lock on `<dir>/<app>/.latest.lock`, so instances sharing the
/// directory never move it backwards.
///
/// # Errors
/// A message when the file cannot be written.
pub fn write_latest(dir: &Path, v: &Version) -> Result<(), FileError> {
    point_latest(dir, &v.app, v.version, v.published_at, &bundle_name(v))
}

/// Writes the current version `version` of `app` signed again at `issued_ms` (`bytes`) as
/// `<dir>/<app>/v<n>-<issued_ms>.json` and points `latest.json` at it, unless it already points
/// at a newer version or a later signing: a bundle on a CDN never runs out while current.
///
/// # Errors
/// A message when a file cannot be written.
pub fn write_resigned(
    dir: &Path,
    app: &str,
    version: u64,
    issued_ms: i64,
    bytes: &[u8],
) -> Result<(), FileError> {
    if !crate::core::valid_app_name(app) {
        return Err(FileError::NotAnApp(app.to_string()));
    }
    let name = format!("v{version}-{issued_ms}.json");
    atomic_write(&dir.join(app).join(&name), bytes)?;
    point_latest(dir, app, version, issued_ms, &name)
}

/// When the bundle `latest.json` points at was signed (ms; 0 for a pointer from before this was
/// recorded, or none).
pub fn latest_issued(dir: &Path, app: &str) -> Option<(u64, i64)> {
    let l: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(app).join("latest.json")).ok()?).ok()?;
    let version = l.get("version")?.as_u64()?;
    Some((
        version,
        l.get("issued_at")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0),
    ))
}

/// Points `latest.json` at `name` (version `version`, signed at `issued_ms`) unless it points
/// at a newer version, or at the same one signed later.
fn point_latest(
    dir: &Path,
    app: &str,
    version: u64,
    issued_ms: i64,
    name: &str,
) -> Result<(), FileError> {
    let lock_path = dir.join(app).join(".latest.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io("open", &lock_path))?;
    lock.lock().map_err(io("lock", &lock_path))?;
    let newer = latest_issued(dir, app).is_some_and(|(n, at)| (n, at) >= (version, issued_ms));
    if newer {
        return Ok(());
    }
    let pointer =
        serde_json::json!({"app": app, "version": version, "bundle": name, "issued_at": issued_ms});
    atomic_write(
        &dir.join(app).join("latest.json"),
        pointer.to_string().as_bytes(),
    )
}

fn bundle_name(v: &Version) -> String {
    format!("v{}.json", v.version)
}

/// Writes through a temporary file of its own (no two writers share one) and a rename, so a
/// reader sees the old file or the new one, never a part.
fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let suffix = crate::host::keys::random_hex().map_err(FileError::Key)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", &suffix[..16]));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", path)(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn version(app: &str, n: u64) -> Version {
        Version {
            app: app.into(),
            version: n,
            published_by: "t".into(),
            published_at: 0,
            summary: Value::Null,
            reassigned: None,
            note: None,
            directory_changed: false,
            directory: None,
            document: String::new(),
            bundle: format!("{{\"v\":{n}}}"),
        }
    }

    #[test]
    fn latest_never_moves_back_and_writers_never_share_a_temp_file() {
        let dir = std::env::temp_dir().join(format!("fieldgate-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_version(&dir, &version("a", 5)).unwrap();
        write_latest(&dir, &version("a", 4)).unwrap();
        let latest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("a/latest.json")).unwrap()).unwrap();
        assert_eq!(
            latest["version"], 5,
            "an older version never replaces a newer one"
        );
        // Many writers of one file at once: each through its own temporary file, so every
        // rename finds its file and the result is always one whole write.
        let path = dir.join("a/race.json");
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for j in 0..200 {
                        atomic_write(&path, format!("{{\"w\":{i},\"j\":{j}}}").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let last: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert!(last["w"].is_u64());
        assert!(
            write_bundle(&dir, &version("../x", 1)).is_err(),
            "no app name leaves the directory"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

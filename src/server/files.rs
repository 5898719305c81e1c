//! Files of a data directory (signing key, admin token, cookie key: all 0600) and the static
//! publish directory (`<app>/v<n>.json`, immutable, plus a `latest.json` pointer).

use super::store::Version;
use crate::bundle::SecretKey;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Reads a secret file, or creates it (mode 0600) from `make` when absent.
/// Returns the text and whether it was created.
///
/// # Errors
/// A message when the file cannot be read or written.
pub fn secret(
    path: &Path,
    make: impl FnOnce() -> Result<String, String>,
) -> Result<(String, bool), String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text.trim().to_string(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = make()?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
            writeln!(f, "{text}").map_err(|e| e.to_string())?;
            f.sync_all().map_err(|e| e.to_string())?;
            Ok((text, true))
        }
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// The data directory's signing key (created on first start; `signing.pub` beside it).
///
/// # Errors
/// A message when the key cannot be read or made.
pub fn signing_key(dir: &Path) -> Result<SecretKey, String> {
    let (text, _) = secret(&dir.join("signing.key"), || {
        Ok(crate::cli::generate_key()?.to_base64())
    })?;
    let key = SecretKey::from_base64(&text).map_err(|e| format!("signing.key: {e}"))?;
    std::fs::write(
        dir.join("signing.pub"),
        format!("{}\n", key.public().to_base64()),
    )
    .map_err(|e| format!("signing.pub: {e}"))?;
    Ok(key)
}

/// 32 random bytes as hex.
///
/// # Errors
/// A message when the system has no randomness.
pub fn random_hex() -> Result<String, String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hex(&b))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a version's bundle as `<dir>/<app>/v<n>.json` (never overwriting one that exists)
/// and points `latest.json` at it, both through a temporary file and a rename.
///
/// # Errors
/// A message when a file cannot be written.
pub fn write_version(dir: &Path, v: &Version) -> Result<(), String> {
    write_bundle(dir, v)?;
    write_latest(dir, v)
}

/// Writes `<dir>/<app>/v<n>.json` unless it exists (published bundles never change).
///
/// # Errors
/// A message when the file cannot be written.
pub fn write_bundle(dir: &Path, v: &Version) -> Result<(), String> {
    let app_dir = dir.join(&v.app);
    std::fs::create_dir_all(&app_dir).map_err(|e| format!("{}: {e}", app_dir.display()))?;
    let file = app_dir.join(bundle_name(v));
    if file.exists() {
        return Ok(());
    }
    atomic_write(&file, v.bundle.as_bytes())
}

/// Points `<dir>/<app>/latest.json` at `v`.
///
/// # Errors
/// A message when the file cannot be written.
pub fn write_latest(dir: &Path, v: &Version) -> Result<(), String> {
    let pointer = serde_json::json!({"app": v.app, "version": v.version, "bundle": bundle_name(v)});
    atomic_write(
        &dir.join(&v.app).join("latest.json"),
        pointer.to_string().as_bytes(),
    )
}

fn bundle_name(v: &Version) -> String {
    format!("v{}.json", v.version)
}

fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

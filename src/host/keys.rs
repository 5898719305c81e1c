//! Signing keys and their files (the secret at mode 0600, the public key beside it), keys
//! given on the command line, random tokens, and secret files made on first use.

use crate::bundle::{PublicKey, SecretKey};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A new signing key.
///
/// # Errors
/// A message when the system has no randomness.
pub fn generate() -> Result<SecretKey, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    Ok(SecretKey::from_seed(&seed))
}

/// 32 random bytes as lowercase hex (tokens, cookie keys).
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
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Hex as bytes (`None` for anything that is not an even number of hex digits).
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Creates `path` (which must not exist) at mode 0600 holding `text` and a newline, synced.
fn create_private(path: &Path, text: &str) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    writeln!(f, "{text}").map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())
}

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
            create_private(path, &text)?;
            Ok((text, true))
        }
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// A new key pair written into `dir` as `signing.key` (0600) and `signing.pub`, refusing to
/// overwrite either; the public key.
///
/// # Errors
/// A message when `dir` holds a key already or a file cannot be written.
pub fn write_pair(dir: &Path) -> Result<PublicKey, String> {
    let (secret_path, public_path) = (dir.join("signing.key"), dir.join("signing.pub"));
    if secret_path.exists() || public_path.exists() {
        return Err(format!(
            "`{}` already holds a key; refusing to overwrite it",
            dir.display()
        ));
    }
    let key = generate()?;
    create_private(&secret_path, &key.to_base64())?;
    let public = key.public();
    write_public(&public_path, &public)?;
    Ok(public)
}

/// Writes a public key file.
fn write_public(path: &Path, key: &PublicKey) -> Result<(), String> {
    std::fs::write(path, format!("{}\n", key.to_base64()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A data directory's signing key: `signing.key`, made on first use, with `signing.pub`
/// (re)written beside it.
///
/// # Errors
/// A message when the key cannot be read or made.
pub fn data_dir_key(dir: &Path) -> Result<SecretKey, String> {
    let (text, _) = secret(&dir.join("signing.key"), || Ok(generate()?.to_base64()))?;
    let key = SecretKey::from_base64(&text).map_err(|e| format!("signing.key: {e}"))?;
    write_public(&dir.join("signing.pub"), &key.public())?;
    Ok(key)
}

/// A secret key file.
///
/// # Errors
/// A message when it cannot be read or holds no key.
pub fn read_secret(path: &Path) -> Result<SecretKey, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| "key file is not text".to_string())?;
    SecretKey::from_base64(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// A public key given as a `signing.pub` file or as the base64 key itself.
///
/// # Errors
/// A message when it is neither.
pub fn read_public(value: &str) -> Result<PublicKey, String> {
    let text = std::fs::read_to_string(value).unwrap_or_else(|_| value.to_string());
    PublicKey::from_base64(&text).map_err(|e| format!("--trust `{value}`: {e}"))
}

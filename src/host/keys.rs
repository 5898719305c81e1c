//! Signing keys and their files (the secret at mode 0600, the public key beside it), keys
//! given on the command line, random tokens, and secret files made on first use.

use crate::bundle::{PublicKey, SecretKey};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What went wrong with a key, a key file or a secret file.
#[derive(Debug)]
pub enum KeyError {
    /// The system gave no randomness.
    NoRandomness(String),
    /// A file could not be read, created or written.
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file (or a command-line value) holds no key of the kind asked for.
    NotAKey {
        /// Where the text came from.
        from: String,
        /// What is wrong with it.
        why: String,
    },
    /// A directory holds a key already: keys are never overwritten.
    Exists(PathBuf),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NoRandomness(e) => write!(f, "no randomness: {e}"),
            KeyError::File { path, source } => write!(f, "`{}`: {source}", path.display()),
            KeyError::NotAKey { from, why } => write!(f, "{from}: {why}"),
            KeyError::Exists(dir) => write!(
                f,
                "`{}` already holds a key; refusing to overwrite it",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// The shells (the CLI, the server's start) report a key problem as its message.
impl From<KeyError> for String {
    fn from(e: KeyError) -> String {
        e.to_string()
    }
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// A new signing key.
///
/// # Errors
/// A message when the system has no randomness.
pub fn generate() -> Result<SecretKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
    Ok(SecretKey::from_seed(&seed))
}

/// 32 random bytes as lowercase hex (tokens, cookie keys).
///
/// # Errors
/// A message when the system has no randomness.
pub fn random_hex() -> Result<String, KeyError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
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
fn create_private(path: &Path, text: &str) -> Result<(), KeyError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(file_error(path))?;
    writeln!(f, "{text}").map_err(file_error(path))?;
    f.sync_all().map_err(file_error(path))
}

/// Reads a secret file, or creates it (mode 0600) from `make` when absent.
/// Returns the text and whether it was created.
///
/// # Errors
/// A message when the file cannot be read or written.
pub fn secret(
    path: &Path,
    make: impl FnOnce() -> Result<String, KeyError>,
) -> Result<(String, bool), KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text.trim().to_string(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = make()?;
            create_private(path, &text)?;
            Ok((text, true))
        }
        Err(e) => Err(file_error(path)(e)),
    }
}

/// A new key pair written into `dir` as `signing.key` (0600) and `signing.pub`, refusing to
/// overwrite either; the public key.
///
/// # Errors
/// A message when `dir` holds a key already or a file cannot be written.
pub fn write_pair(dir: &Path) -> Result<PublicKey, KeyError> {
    let (secret_path, public_path) = (dir.join("signing.key"), dir.join("signing.pub"));
    if secret_path.exists() || public_path.exists() {
        return Err(KeyError::Exists(dir.to_path_buf()));
    }
    let key = generate()?;
    create_private(&secret_path, &key.to_base64())?;
    let public = key.public();
    write_public(&public_path, &public)?;
    Ok(public)
}

/// Writes a public key file.
fn write_public(path: &Path, key: &PublicKey) -> Result<(), KeyError> {
    std::fs::write(path, format!("{}\n", key.to_base64())).map_err(file_error(path))
}

/// A data directory's signing key: `signing.key`, made on first use, with `signing.pub`
/// (re)written beside it.
///
/// # Errors
/// A message when the key cannot be read or made.
pub fn data_dir_key(dir: &Path) -> Result<SecretKey, KeyError> {
    let path = dir.join("signing.key");
    let (text, _) = secret(&path, || Ok(generate()?.to_base64()))?;
    let key = SecretKey::from_base64(&text).map_err(|e| not_a_key(&path, &e))?;
    write_public(&dir.join("signing.pub"), &key.public())?;
    Ok(key)
}

/// A secret key file.
///
/// # Errors
/// A message when it cannot be read or holds no key.
pub fn read_secret(path: &Path) -> Result<SecretKey, KeyError> {
    let bytes = std::fs::read(path).map_err(file_error(path))?;
    let text = String::from_utf8(bytes).map_err(|_| not_a_key(path, &"not text"))?;
    SecretKey::from_base64(&text).map_err(|e| not_a_key(path, &e))
}

fn not_a_key(path: &Path, why: &dyn fmt::Display) -> KeyError {
    KeyError::NotAKey {
        from: format!("`{}`", path.display()),
        why: why.to_string(),
    }
}

/// A public key given as a `signing.pub` file or as the base64 key itself.
///
/// # Errors
/// A message when it is neither.
pub fn read_public(value: &str) -> Result<PublicKey, KeyError> {
    let text = std::fs::read_to_string(value).unwrap_or_else(|_| value.to_string());
    PublicKey::from_base64(&text).map_err(|e| KeyError::NotAKey {
        from: format!("--trust `{value}`"),
        why: e.to_string(),
    })
}

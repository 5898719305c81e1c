//! The directory of people per app, and the snapshots versions were published with.

use super::*;

/// The name of a directory snapshot: the SHA-256 of its JSON text, in hex. Versions name the
/// directory in force with it, so a rollback restores the people as they were.
pub fn people_sha(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The directory of people per app.
pub trait DirectoryStore {
    /// The directory of `app` (JSON people list), with who stored it and when.
    fn directory(&self, app: &str) -> StoreResult<Option<(Value, String, i64)>>;
    /// Replaces the directory of `app`.
    fn put_directory(&self, app: &str, people: &Value, by: &str, at: i64) -> StoreResult<()>;
    /// A directory a version was published with, by [`people_sha`].
    fn directory_snapshot(&self, app: &str, sha: &str) -> StoreResult<Option<Value>>;
}

//! Login sessions, by the hash of their id.

use super::*;

/// Login sessions.
pub trait SessionStore {
    /// Stores a login session (by the hash of its id), forgetting sessions that ended before
    /// `forget_before`.
    fn create_session(
        &self,
        id_hash: &str,
        user: &str,
        expires_at: i64,
        forget_before: i64,
    ) -> StoreResult<()>;
    /// The user of a live session.
    fn session(&self, id_hash: &str, now: i64) -> StoreResult<Option<String>>;
    /// Ends a session.
    fn end_session(&self, id_hash: &str) -> StoreResult<()>;
}

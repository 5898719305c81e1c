//! Login sessions in SQLite.

use super::*;

impl SessionStore for SqliteStore {
    fn create_session(
        &self,
        id_hash: &str,
        user: &str,
        expires_at: i64,
        forget_before: i64,
    ) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM sessions WHERE expires_at < ?1",
                params![forget_before],
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
}

//! Login sessions in PostgreSQL.

use super::*;

impl SessionStore for PostgresStore {
    fn create_session(
        &self,
        id_hash: &str,
        user: &str,
        expires_at: i64,
        forget_before: i64,
    ) -> StoreResult<()> {
        self.run(async {
            self.execute(
                "DELETE FROM sessions WHERE expires_at < $1",
                &[&forget_before],
            )
            .await?;
            self.execute(
                "INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                &[&id_hash, &user, &expires_at],
            )
            .await
            .map(|_| ())
        })
    }

    fn session(&self, id_hash: &str, now: i64) -> StoreResult<Option<String>> {
        self.run(async {
            Ok(self
                .query_opt(
                    "SELECT user_id FROM sessions WHERE id_hash = $1 AND expires_at > $2",
                    &[&id_hash, &now],
                )
                .await?
                .map(|r| r.get(0)))
        })
    }

    fn end_session(&self, id_hash: &str) -> StoreResult<()> {
        self.run(self.execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash]))
            .map(|_| ())
    }
}

//! Admin and service credentials in SQLite.

use super::*;

impl CredentialStore for SqliteStore {
    fn credentials(&self) -> StoreResult<Vec<Credential>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT name, kind, token_hash, created_at, scope FROM credentials ORDER BY kind, name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Credential {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    token_hash: r.get(2)?,
                    created_at: r.get(3)?,
                    scope: scope(r.get(4)?),
                })
            })?;
            rows.collect()
        })
    }

    fn put_credential(&self, cr: &Credential) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM credentials WHERE (name = ?1 AND kind = ?2) OR token_hash = ?3",
                params![cr.name, cr.kind, cr.token_hash],
            )?;
            tx.execute(
                "INSERT INTO credentials (name, kind, token_hash, created_at, scope) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![cr.name, cr.kind, cr.token_hash, cr.created_at, scope_text(cr)],
            )?;
            tx.commit()
        })
    }

    fn remove_credential(&self, name: &str, kind: &str) -> StoreResult<bool> {
        self.with(|c| {
            c.execute(
                "DELETE FROM credentials WHERE name = ?1 AND kind = ?2",
                params![name, kind],
            )
            .map(|n| n > 0)
        })
    }
}

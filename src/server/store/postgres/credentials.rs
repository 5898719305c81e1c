//! Admin and service credentials in PostgreSQL.

use super::*;

impl CredentialStore for PostgresStore {
    fn credentials(&self) -> StoreResult<Vec<Credential>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT name, kind, token_hash, created_at, scope FROM credentials ORDER BY kind, name",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| Credential {
                    name: r.get(0),
                    kind: r.get(1),
                    token_hash: r.get(2),
                    created_at: r.get(3),
                    scope: scope(r.get(4)),
                })
                .collect())
        })
    }

    fn put_credential(&self, cr: &Credential) -> StoreResult<()> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            tx.execute(
                "DELETE FROM credentials WHERE (name = $1 AND kind = $2) OR token_hash = $3",
                &[&cr.name, &cr.kind, &cr.token_hash],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO credentials (name, kind, token_hash, created_at, scope) VALUES ($1, $2, $3, $4, $5)",
                &[&cr.name, &cr.kind, &cr.token_hash, &cr.created_at, &scope_text(cr)],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }

    fn remove_credential(&self, name: &str, kind: &str) -> StoreResult<bool> {
        self.run(self.execute(
            "DELETE FROM credentials WHERE name = $1 AND kind = $2",
            &[&name, &kind],
        ))
        .map(|n| n > 0)
    }
}

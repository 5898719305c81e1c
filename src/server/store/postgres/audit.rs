//! The admin audit log in PostgreSQL.

use super::*;

pub(super) async fn audit_in(
    c: &impl deadpool_postgres::GenericClient,
    e: &AuditEntry,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO audit (at, actor, kind, endpoint, app, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&e.at, &e.actor, &e.kind, &e.endpoint, &e.app, &e.detail.to_string()],
    )
    .await
    .map(|_| ())
    .map_err(pg)
}

impl AuditStore for PostgresStore {
    fn add_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            audit_in(&c, e).await
        })
    }

    fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT id, at, actor, kind, endpoint, app, detail FROM audit
                     WHERE at >= $1 AND ($2::text IS NULL OR actor = $2)
                       AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR app = $4)
                     ORDER BY id DESC LIMIT $5",
                    &[&q.since, &q.actor, &q.kind, &q.app, &i64::from(q.limit)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| AuditEntry {
                    id: r.get(0),
                    at: r.get(1),
                    actor: r.get(2),
                    kind: r.get(3),
                    endpoint: r.get(4),
                    app: r.get(5),
                    detail: json(r.get(6)),
                })
                .collect())
        })
    }
}

//! The admin audit log in SQLite.

use super::*;

/// Appends one audit entry (inside the caller's transaction, if any).
pub(super) fn audit_in(c: &Connection, e: &AuditEntry) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO audit (at, actor, kind, endpoint, app, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![e.at, e.actor, e.kind, e.endpoint, e.app, e.detail.to_string()],
    )
    .map(|_| ())
}

impl AuditStore for SqliteStore {
    fn add_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        self.with(|c| audit_in(c, e))
    }

    fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, at, actor, kind, endpoint, app, detail FROM audit
                 WHERE at >= ?1 AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR kind = ?3)
                   AND (?4 IS NULL OR app = ?4)
                 ORDER BY id DESC LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![q.since, q.actor, q.kind, q.app, i64::from(q.limit)],
                |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        kind: r.get(3)?,
                        endpoint: r.get(4)?,
                        app: r.get(5)?,
                        detail: serde_json::from_str(&r.get::<_, String>(6)?)
                            .unwrap_or(Value::Null),
                    })
                },
            )?;
            rows.collect()
        })
    }
}

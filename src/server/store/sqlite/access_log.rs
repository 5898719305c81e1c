//! The data access log and its alerts in SQLite.

use super::*;
use crate::host::sync::Unpoisoned;

impl AccessStore for SqliteStore {
    fn add_access(&self, rows: &[AccessEntry]) -> StoreResult<()> {
        let mut conn = self.conn.locked();
        let tx = conn.transaction().map_err(failed)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO access (at, user, action, resource, records, unmasked, outcome,
                       fields, source, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(failed)?;
            let list = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
            for e in rows {
                stmt.execute(params![
                    e.at,
                    e.user,
                    e.action,
                    e.resource,
                    list(&e.records),
                    list(&e.unmasked),
                    e.outcome,
                    list(&e.fields),
                    e.source,
                    sql_int(e.count.max(e.records.len() as u64)),
                ])
                .map_err(failed)?;
            }
        }
        tx.commit().map_err(failed)
    }

    fn access(&self, q: &AccessQuery) -> StoreResult<Vec<AccessEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, user, action, resource, records, unmasked, outcome, fields, source,
                   count FROM access WHERE at >= ?1 AND at <= ?2 AND (?3 IS NULL OR user = ?3)
                   AND (?4 IS NULL OR resource = ?4)
                   AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(records) WHERE value = ?5))
                   AND (?6 IS NULL OR source = ?6)
                 ORDER BY id DESC LIMIT ?7",
            )?;
            let list = |t: String| serde_json::from_str(&t).unwrap_or_default();
            let rows = stmt.query_map(
                params![
                    q.since,
                    q.until,
                    q.user,
                    q.resource,
                    q.record,
                    q.source,
                    i64::from(q.limit)
                ],
                |r| {
                    Ok(AccessEntry {
                        at: r.get(0)?,
                        user: r.get(1)?,
                        action: r.get(2)?,
                        resource: r.get(3)?,
                        records: list(r.get(4)?),
                        unmasked: list(r.get(5)?),
                        outcome: r.get(6)?,
                        fields: list(r.get(7)?),
                        source: r.get(8)?,
                        count: u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0),
                    })
                },
            )?;
            rows.collect()
        })
    }

    fn prune_access(&self, before: i64) -> StoreResult<u64> {
        self.with(|c| {
            c.execute("DELETE FROM access WHERE at < ?1", params![before])
                .map(|n| n as u64)
        })
    }

    fn add_alert(&self, a: &Alert) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO alerts (at, user, detail) VALUES (?1, ?2, ?3)",
                params![a.at, a.user, a.detail.to_string()],
            )
            .map(|_| ())
        })
    }

    fn alerts(&self, since: i64, limit: u32) -> StoreResult<Vec<Alert>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, user, detail FROM alerts WHERE at >= ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![since, i64::from(limit)], |r| {
                Ok(Alert {
                    at: r.get(0)?,
                    user: r.get(1)?,
                    detail: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Value::Null),
                })
            })?;
            rows.collect()
        })
    }
}

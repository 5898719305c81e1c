//! The data access log and its alerts in PostgreSQL.

use super::*;

pub(super) fn list_text(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

pub(super) fn text_list(t: &str) -> Vec<String> {
    serde_json::from_str(t).unwrap_or_default()
}

impl AccessStore for PostgresStore {
    fn add_access(&self, rows: &[AccessEntry]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: each column as an array, unnested.
        let at: Vec<i64> = rows.iter().map(|e| e.at).collect();
        let user: Vec<&str> = rows.iter().map(|e| e.user.as_str()).collect();
        let action: Vec<&str> = rows.iter().map(|e| e.action.as_str()).collect();
        let resource: Vec<&str> = rows.iter().map(|e| e.resource.as_str()).collect();
        let records: Vec<String> = rows.iter().map(|e| list_text(&e.records)).collect();
        let unmasked: Vec<String> = rows.iter().map(|e| list_text(&e.unmasked)).collect();
        let outcome: Vec<&str> = rows.iter().map(|e| e.outcome.as_str()).collect();
        let fields: Vec<String> = rows.iter().map(|e| list_text(&e.fields)).collect();
        let source: Vec<&str> = rows.iter().map(|e| e.source.as_str()).collect();
        let n: Vec<i64> = rows
            .iter()
            .map(|e| int(e.count.max(e.records.len() as u64)))
            .collect();
        self.run(async {
            self.execute(
                "INSERT INTO access (at, user_id, action, resource, records, unmasked, outcome,
                   fields, source, count)
                 SELECT a, u, ac, r, rec::jsonb, um, o, f, s, n FROM UNNEST($1::bigint[],
                   $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::bigint[]) AS t(a, u, ac, r, rec, um, o, f, s, n)",
                &[
                    &at, &user, &action, &resource, &records, &unmasked, &outcome, &fields,
                    &source, &n,
                ],
            )
            .await
            .map(|_| ())
        })
    }

    fn access(&self, q: &AccessQuery) -> StoreResult<Vec<AccessEntry>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT at, user_id, action, resource, records::text, unmasked, outcome,
                       fields, source, count FROM access
                     WHERE at >= $1 AND at <= $2 AND ($3::text IS NULL OR user_id = $3)
                       AND ($4::text IS NULL OR resource = $4)
                       AND ($5::text IS NULL OR records ? $5)
                       AND ($6::text IS NULL OR source = $6)
                     ORDER BY id DESC LIMIT $7",
                    &[
                        &q.since,
                        &q.until,
                        &q.user,
                        &q.resource,
                        &q.record,
                        &q.source,
                        &i64::from(q.limit),
                    ],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| AccessEntry {
                    at: r.get(0),
                    user: r.get(1),
                    action: r.get(2),
                    resource: r.get(3),
                    records: text_list(r.get(4)),
                    unmasked: text_list(r.get(5)),
                    outcome: r.get(6),
                    fields: text_list(r.get(7)),
                    source: r.get(8),
                    count: count(r.get(9)),
                })
                .collect())
        })
    }

    fn prune_access(&self, before: i64) -> StoreResult<u64> {
        self.run(self.execute("DELETE FROM access WHERE at < $1", &[&before]))
    }

    fn add_alert(&self, a: &Alert) -> StoreResult<()> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            tx.execute(
                "INSERT INTO alerts (at, user_id, detail) VALUES ($1, $2, $3)",
                &[&a.at, &a.user, &a.detail.to_string()],
            )
            .await
            .map_err(pg)?;
            let note = Change::Alert {
                at: a.at,
                user: a.user.clone(),
                from: self.origin.clone(),
            };
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &note.payload()])
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }

    fn alerts(&self, since: i64, limit: u32) -> StoreResult<Vec<Alert>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT at, user_id, detail FROM alerts WHERE at >= $1 ORDER BY id DESC LIMIT $2",
                    &[&since, &i64::from(limit)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| Alert {
                    at: r.get(0),
                    user: r.get(1),
                    detail: json(r.get(2)),
                })
                .collect())
        })
    }
}

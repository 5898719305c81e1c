//! Records in PostgreSQL.

use super::*;

pub(super) fn row_record(r: &Row) -> Record {
    Record {
        body: json(r.get(0)),
        revision: count(r.get(1)),
    }
}

/// Moves records as `r` says, inside `tx`; returns what moved, by resource.
pub(super) async fn reassign_in(
    tx: &deadpool_postgres::Transaction<'_>,
    r: &Reassign,
) -> StoreResult<Value> {
    let mut moved = serde_json::Map::new();
    for (resource, owner) in &r.owners {
        let rows = tx
            .query(
                "SELECT id, body FROM records WHERE resource = $1 ORDER BY id FOR UPDATE",
                &[resource],
            )
            .await
            .map_err(pg)?;
        let rows = rows.iter().map(|row| (row.get(0), row.get(1)));
        let mut ids = Vec::new();
        for (id, body) in r.moves(resource, owner, rows) {
            tx.execute(
                "UPDATE records SET body = $3, revision = revision + 1 WHERE resource = $1 AND id = $2",
                &[resource, &id, &body],
            )
            .await
            .map_err(pg)?;
            ids.push(Value::from(id));
        }
        if !ids.is_empty() {
            moved.insert(resource.clone(), Value::Array(ids));
        }
    }
    Ok(r.report(moved))
}

impl RecordStore for PostgresStore {
    fn records(&self, resource: &str) -> StoreResult<Vec<Record>> {
        self.run(async {
            Ok(self
                .query(
                    "SELECT body, revision FROM records WHERE resource = $1 ORDER BY id",
                    &[&resource],
                )
                .await?
                .iter()
                .map(row_record)
                .collect())
        })
    }

    fn scan_records(
        &self,
        resource: &str,
        passes: usize,
        f: &mut dyn FnMut(usize, &Value) -> Result<(), String>,
    ) -> StoreResult<Result<(), String>> {
        use futures_util::{pin_mut, TryStreamExt};
        let Some(rt) = &self.rt else {
            return Err(StoreError::Unavailable("the store is closed".into()));
        };
        // A long export is not bound by the deadline of one call; each row is.
        rt.block_on(async {
            let mut c = self.client().await?;
            // One snapshot for every pass, read-only: writers are never held up.
            let tx = c
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(pg)?;
            for pass in 0..passes {
                let rows = tx
                    .query_raw(
                        "SELECT body FROM records WHERE resource = $1 ORDER BY id",
                        [resource],
                    )
                    .await
                    .map_err(pg)?;
                pin_mut!(rows);
                loop {
                    let next = tokio::time::timeout(DEADLINE, rows.try_next())
                        .await
                        .map_err(|_| {
                            StoreError::Unavailable("the database stopped answering".into())
                        })?
                        .map_err(pg)?;
                    let Some(row) = next else { break };
                    if let Err(e) = f(pass, &json(row.get(0))) {
                        return Ok(Err(e));
                    }
                }
            }
            Ok(Ok(()))
        })
    }

    fn record(&self, resource: &str, id: &str) -> StoreResult<Option<Record>> {
        self.run(async {
            Ok(self
                .query_opt(
                    "SELECT body, revision FROM records WHERE resource = $1 AND id = $2",
                    &[&resource, &id],
                )
                .await?
                .as_ref()
                .map(row_record))
        })
    }

    fn insert_record(&self, resource: &str, id: &str, body: &Value) -> StoreResult<bool> {
        self.run(self.execute(
            "INSERT INTO records (resource, id, body, revision) VALUES ($1, $2, $3, 1)
             ON CONFLICT (resource, id) DO NOTHING",
            &[&resource, &id, &body.to_string()],
        ))
        .map(|n| n == 1)
    }

    fn update_record(
        &self,
        resource: &str,
        id: &str,
        expected: Option<u64>,
        change: &mut dyn FnMut(&Value) -> Option<Value>,
    ) -> Result<Record, UpdateError<()>> {
        let outcome = self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let Some(now) = tx
                .query_opt(
                    "SELECT body, revision FROM records WHERE resource = $1 AND id = $2 FOR UPDATE",
                    &[&resource, &id],
                )
                .await
                .map_err(pg)?
                .as_ref()
                .map(row_record)
            else {
                return Ok(Err(UpdateError::Missing));
            };
            if let Err(e) = check_revision(expected, now.revision) {
                return Ok(Err(e));
            }
            let Some(body) = change(&now.body) else {
                return Ok(Err(UpdateError::Refused(())));
            };
            let revision = now.revision + 1;
            tx.execute(
                "UPDATE records SET body = $3, revision = $4 WHERE resource = $1 AND id = $2",
                &[&resource, &id, &body.to_string(), &int(revision)],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(Ok(Record { body, revision }))
        });
        match outcome {
            Ok(r) => r,
            Err(e) => Err(UpdateError::Store(e)),
        }
    }

    fn reassign(&self, r: &Reassign) -> StoreResult<Value> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let moved = reassign_in(&tx, r).await?;
            tx.commit().await.map_err(pg)?;
            Ok(moved)
        })
    }

    fn seed_records(&self, resource: &str, records: &[Value]) -> StoreResult<()> {
        let ids: Vec<&str> = records
            .iter()
            .map(|r| r.get("id").and_then(Value::as_str).unwrap_or_default())
            .collect();
        let bodies: Vec<String> = records.iter().map(Value::to_string).collect();
        self.run(async {
            self.execute(
                "INSERT INTO records (resource, id, body, revision)
                 SELECT $1, i, b, 1 FROM UNNEST($2::text[], $3::text[]) AS t(i, b)
                 ON CONFLICT (resource, id) DO NOTHING",
                &[&resource, &ids, &bodies],
            )
            .await
            .map(|_| ())
        })
    }

    fn has_records(&self) -> StoreResult<bool> {
        self.run(async {
            Ok(self
                .query_opt("SELECT 1 FROM records LIMIT 1", &[])
                .await?
                .is_some())
        })
    }
}

//! Published versions in PostgreSQL.

use super::*;

pub(super) const SELECT: &str = "SELECT v.app, v.version, v.document, v.bundle, v.published_by,
  v.published_at, v.summary, r.moved, v.note, v.directory, v.directory_changed FROM versions v
  LEFT JOIN reassignments r ON r.app = v.app AND r.version = v.version";

pub(super) fn row_version(r: &Row) -> Version {
    Version {
        app: r.get(0),
        version: count(r.get(1)),
        document: r.get(2),
        bundle: r.get(3),
        published_by: r.get(4),
        published_at: r.get(5),
        summary: json(r.get(6)),
        reassigned: r.get::<_, Option<String>>(7).map(|t| json(&t)),
        note: r.get(8),
        directory: r.get(9),
        directory_changed: r.get(10),
    }
}

impl VersionStore for PostgresStore {
    fn current(&self, app: &str) -> StoreResult<Option<Version>> {
        self.run(async {
            let sql = format!(
                "{SELECT} WHERE v.app = $1 AND v.version = (SELECT version FROM current WHERE app = $1)"
            );
            Ok(self.query_opt(&sql, &[&app]).await?.as_ref().map(row_version))
        })
    }

    fn version(&self, app: &str, n: u64) -> StoreResult<Option<Version>> {
        self.run(async {
            let sql = format!("{SELECT} WHERE v.app = $1 AND v.version = $2");
            Ok(self
                .query_opt(&sql, &[&app, &int(n)])
                .await?
                .as_ref()
                .map(row_version))
        })
    }

    fn versions(&self, app: &str) -> StoreResult<Vec<Version>> {
        self.run(async {
            let sql = format!("{SELECT} WHERE v.app = $1 ORDER BY v.version DESC");
            Ok(self
                .query(&sql, &[&app])
                .await?
                .iter()
                .map(row_version)
                .collect())
        })
    }

    fn last_version(&self, app: &str) -> StoreResult<Option<u64>> {
        self.run(async {
            let row = self
                .query_opt("SELECT MAX(version) FROM versions WHERE app = $1", &[&app])
                .await?;
            Ok(row.and_then(|r| r.get::<_, Option<i64>>(0)).map(count))
        })
    }

    fn apps(&self) -> StoreResult<Vec<String>> {
        self.run(async {
            Ok(self
                .query("SELECT app FROM current ORDER BY app", &[])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn publish(
        &self,
        app: &str,
        base: Option<u64>,
        v: NewVersion,
    ) -> Result<Version, PublishError> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            // One publication of an app at a time, across every instance.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('publish:' || $1))", &[&app])
                .await
                .map_err(pg)?;
            let current: Option<i64> = tx
                .query_opt("SELECT version FROM current WHERE app = $1", &[&app])
                .await
                .map_err(pg)?
                .map(|r| r.get(0));
            let last: Option<i64> = tx
                .query_one("SELECT MAX(version) FROM versions WHERE app = $1", &[&app])
                .await
                .map_err(pg)?
                .get(0);
            let current = current.map(count);
            let next = last.map_or(1, |l| count(l) + 1);
            if current != base || v.version != next {
                return Ok(Err(PublishError::Moved { current }));
            }
            let directory = publish_directory_in(&tx, app, &v).await?;
            let changed = v.directory.is_some();
            tx.execute(
                "INSERT INTO versions (app, version, document, bundle, published_by, published_at, summary, note,
                   directory, directory_changed)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[&app, &int(v.version), &v.document, &v.bundle, &v.by, &v.at, &v.summary.to_string(), &v.note,
                  &directory, &changed],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO current (app, version) VALUES ($1, $2)
                 ON CONFLICT (app) DO UPDATE SET version = excluded.version",
                &[&app, &int(v.version)],
            )
            .await
            .map_err(pg)?;
            let reassigned = match &v.reassign {
                Some(r) => {
                    let moved = reassign_in(&tx, r).await?;
                    tx.execute(
                        "INSERT INTO reassignments (app, version, moved) VALUES ($1, $2, $3)",
                        &[&app, &int(v.version), &moved.to_string()],
                    )
                    .await
                    .map_err(pg)?;
                    Some(moved)
                }
                None => None,
            };
            let mut entry = v.audit.clone();
            entry.detail["version"] = Value::from(v.version);
            if let Some(moved) = &reassigned {
                entry.detail["reassigned"] = moved.clone();
            }
            audit_in(&tx, &entry).await?;
            let note = Change::Published {
                app: app.to_string(),
                version: v.version,
            };
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &note.payload()])
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(Ok(Version {
                app: app.to_string(),
                version: v.version,
                published_by: v.by.clone(),
                published_at: v.at,
                summary: v.summary.clone(),
                reassigned,
                note: v.note.clone(),
                directory_changed: changed,
                directory,
                document: v.document.clone(),
                bundle: v.bundle.clone(),
            }))
        })?
    }
}

//! Admins' drafts in PostgreSQL.

use super::*;

/// Saves a draft inside `tx`, holding the pair's lock (a first save has no row to lock); the
/// new revision, or `Stale` (see [`next_draft_revision`]).
pub(super) async fn write_draft(
    tx: &tokio_postgres::Transaction<'_>,
    app: &str,
    admin: &str,
    d: &NewDraft,
    expected: Option<u64>,
) -> StoreResult<Result<u64, DraftError>> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('draft:' || $1 || ':' || $2))",
        &[&app, &admin],
    )
    .await
    .map_err(pg)?;
    let stored: Option<(u64, bool)> = tx
        .query_opt(
            "SELECT revision, document <> '' FROM drafts WHERE app = $1 AND admin = $2",
            &[&app, &admin],
        )
        .await
        .map_err(pg)?
        .map(|r| (count(r.get(0)), r.get(1)));
    let next = match next_draft_revision(stored, expected) {
        Ok(next) => next,
        Err(e) => return Ok(Err(e)),
    };
    tx.execute(
        "INSERT INTO drafts (app, admin, document, base, revision, updated_at, directory)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (app, admin) DO UPDATE SET document = excluded.document,
           base = excluded.base, revision = excluded.revision,
           updated_at = excluded.updated_at,
           directory = COALESCE(excluded.directory, drafts.directory)",
        &[
            &app,
            &admin,
            &d.document,
            &d.base.map(int),
            &int(next),
            &d.at,
            &d.directory,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(Ok(next))
}

impl DraftStore for PostgresStore {
    fn draft(&self, app: &str, admin: &str) -> StoreResult<Option<Draft>> {
        self.run(async {
            let row = self
                .query_opt(
                    "SELECT document, base, revision, updated_at, directory FROM drafts
                     WHERE app = $1 AND admin = $2 AND document <> ''",
                    &[&app, &admin],
                )
                .await?;
            Ok(row.map(|r| Draft {
                document: r.get(0),
                base: r.get::<_, Option<i64>>(1).map(count),
                revision: count(r.get(2)),
                updated_at: r.get(3),
                directory: r.get(4),
            }))
        })
    }

    fn put_draft(
        &self,
        app: &str,
        admin: &str,
        d: &NewDraft,
        expected: Option<u64>,
    ) -> Result<u64, DraftError> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let next = match write_draft(&tx, app, admin, d, expected).await? {
                Ok(next) => next,
                Err(stale) => return Ok(Err(stale)),
            };
            tx.commit().await.map_err(pg)?;
            Ok(Ok(next))
        })
        .map_err(DraftError::Store)?
    }

    fn delete_draft(&self, app: &str, admin: &str) -> StoreResult<()> {
        self.run(async {
            self.execute(
                "UPDATE drafts SET document = '', base = NULL, directory = NULL
                 WHERE app = $1 AND admin = $2",
                &[&app, &admin],
            )
            .await
            .map(|_| ())
        })
    }
}

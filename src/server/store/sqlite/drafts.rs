//! Admins' drafts in SQLite.

use super::*;
use crate::host::sync::Unpoisoned;

/// Saves a draft inside `tx` (see [`next_draft_revision`]); the new revision.
pub(super) fn write_draft(
    tx: &rusqlite::Transaction<'_>,
    app: &str,
    admin: &str,
    d: &NewDraft,
    expected: Option<u64>,
) -> Result<u64, DraftError> {
    let stored: Option<(i64, bool)> = tx
        .query_row(
            "SELECT revision, document <> '' FROM drafts WHERE app = ?1 AND admin = ?2",
            params![app, admin],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| DraftError::Store(failed(e)))?;
    let stored = stored.map(|(n, live)| (u64::try_from(n).unwrap_or(0), live));
    let next = next_draft_revision(stored, expected)?;
    tx.execute(
        "INSERT INTO drafts (app, admin, document, base, revision, updated_at, directory)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (app, admin) DO UPDATE SET document = excluded.document,
           base = excluded.base, revision = excluded.revision, updated_at = excluded.updated_at,
           directory = COALESCE(excluded.directory, drafts.directory)",
        params![
            app,
            admin,
            d.document,
            d.base.map(sql_int),
            sql_int(next),
            d.at,
            d.directory
        ],
    )
    .map_err(|e| DraftError::Store(failed(e)))?;
    Ok(next)
}

impl DraftStore for SqliteStore {
    fn draft(&self, app: &str, admin: &str) -> StoreResult<Option<Draft>> {
        self.with(|c| {
            c.query_row(
                "SELECT document, base, revision, updated_at, directory FROM drafts
                 WHERE app = ?1 AND admin = ?2 AND document <> ''",
                params![app, admin],
                |r| {
                    Ok(Draft {
                        document: r.get(0)?,
                        base: r
                            .get::<_, Option<i64>>(1)?
                            .map(|b| u64::try_from(b).unwrap_or(0)),
                        revision: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                        updated_at: r.get(3)?,
                        directory: r.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    fn put_draft(
        &self,
        app: &str,
        admin: &str,
        d: &NewDraft,
        expected: Option<u64>,
    ) -> Result<u64, DraftError> {
        let mut conn = self.conn.locked();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| DraftError::Store(failed(e)))?;
        let next = write_draft(&tx, app, admin, d, expected)?;
        tx.commit().map_err(|e| DraftError::Store(failed(e)))?;
        Ok(next)
    }

    fn delete_draft(&self, app: &str, admin: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "UPDATE drafts SET document = '', base = NULL, directory = NULL
                 WHERE app = ?1 AND admin = ?2",
                params![app, admin],
            )
            .map(|_| ())
        })
    }
}

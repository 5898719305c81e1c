//! Published versions in SQLite.

use super::*;
use crate::host::sync::Unpoisoned;

pub(super) const SELECT: &str =
    "SELECT v.app, v.version, v.document, v.bundle, v.published_by, v.published_at,
  v.summary, r.moved, v.note, v.directory, v.directory_changed FROM versions v
  LEFT JOIN reassignments r ON r.app = v.app AND r.version = v.version";

pub(super) fn current_in(c: &Connection, app: &str) -> rusqlite::Result<Option<Version>> {
    c.query_row(
        &format!(
            "{SELECT} WHERE v.app = ?1 AND v.version = (SELECT version FROM current WHERE app = ?1)"
        ),
        params![app],
        row_version,
    )
    .optional()
}

pub(super) fn row_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<Version> {
    Ok(Version {
        app: r.get(0)?,
        version: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        document: r.get(2)?,
        bundle: r.get(3)?,
        published_by: r.get(4)?,
        published_at: r.get(5)?,
        summary: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or(Value::Null),
        reassigned: r
            .get::<_, Option<String>>(7)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        note: r.get(8)?,
        directory: r.get(9)?,
        directory_changed: r.get::<_, i64>(10)? != 0,
    })
}

impl VersionStore for SqliteStore {
    fn current(&self, app: &str) -> StoreResult<Option<Version>> {
        self.with(|c| current_in(c, app))
    }

    fn version(&self, app: &str, n: u64) -> StoreResult<Option<Version>> {
        self.with(|c| {
            c.query_row(
                &format!("{SELECT} WHERE v.app = ?1 AND v.version = ?2"),
                params![app, sql_int(n)],
                row_version,
            )
            .optional()
        })
    }

    fn versions(&self, app: &str) -> StoreResult<Vec<Version>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{SELECT} WHERE v.app = ?1 ORDER BY v.version DESC"
            ))?;
            let rows = stmt.query_map(params![app], row_version)?;
            rows.collect()
        })
    }

    fn last_version(&self, app: &str) -> StoreResult<Option<u64>> {
        self.with(|c| {
            c.query_row(
                "SELECT MAX(version) FROM versions WHERE app = ?1",
                params![app],
                |r| r.get::<_, Option<i64>>(0),
            )
        })
        .map(|v| v.map(|n| u64::try_from(n).unwrap_or(0)))
    }

    fn apps(&self) -> StoreResult<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT app FROM current ORDER BY app")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn publish(
        &self,
        app: &str,
        base: Option<u64>,
        v: NewVersion,
    ) -> Result<Version, PublishError> {
        let mut conn = self.conn.locked();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let current: Option<i64> = tx
            .query_row(
                "SELECT version FROM current WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .optional()
            .map_err(failed)?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT MAX(version) FROM versions WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .map_err(failed)?;
        let current = current.map(|c| u64::try_from(c).unwrap_or(0));
        let next = last.map_or(1, |l| u64::try_from(l).unwrap_or(0) + 1);
        if current != base || v.version != next {
            return Err(PublishError::Moved { current });
        }
        let summary = v.summary.to_string();
        let directory = publish_directory_in(&tx, app, &v).map_err(failed)?;
        let changed = v.directory.is_some();
        tx.execute(
            "INSERT INTO versions (app, version, document, bundle, published_by, published_at, summary, note,
               directory, directory_changed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![app, sql_int(v.version), v.document, v.bundle, v.by, v.at, summary, v.note,
              directory, i64::from(changed)],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO current (app, version) VALUES (?1, ?2)
                 ON CONFLICT (app) DO UPDATE SET version = excluded.version",
                params![app, sql_int(v.version)],
            )
        })
        .map_err(failed)?;
        let reassigned = match &v.reassign {
            Some(r) => {
                let moved = reassign_in(&tx, r).map_err(failed)?;
                tx.execute(
                    "INSERT INTO reassignments (app, version, moved) VALUES (?1, ?2, ?3)",
                    params![app, sql_int(v.version), moved.to_string()],
                )
                .map_err(failed)?;
                Some(moved)
            }
            None => None,
        };
        let mut entry = v.audit;
        entry.detail["version"] = Value::from(v.version);
        if let Some(moved) = &reassigned {
            entry.detail["reassigned"] = moved.clone();
        }
        audit_in(&tx, &entry).map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(Version {
            app: app.to_string(),
            version: v.version,
            published_by: v.by,
            published_at: v.at,
            summary: v.summary,
            reassigned,
            note: v.note,
            directory_changed: changed,
            directory,
            document: v.document,
            bundle: v.bundle,
        })
    }
}

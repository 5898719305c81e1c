//! Records in SQLite.

use super::*;
use crate::host::sync::Unpoisoned;

pub(super) fn row_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        body: serde_json::from_str(&r.get::<_, String>(0)?).unwrap_or(Value::Null),
        revision: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
    })
}

/// Moves records as `r` says, inside `tx`; returns what moved, by resource.
pub(super) fn reassign_in(tx: &Connection, r: &Reassign) -> rusqlite::Result<Value> {
    let mut moved = serde_json::Map::new();
    for (resource, owner) in &r.owners {
        let mut stmt =
            tx.prepare("SELECT id, body FROM records WHERE resource = ?1 ORDER BY id")?;
        let rows: Vec<(String, String)> = stmt
            .query_map(params![resource], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut ids = Vec::new();
        for (id, body) in r.moves(resource, owner, rows) {
            tx.execute(
                "UPDATE records SET body = ?3, revision = revision + 1 WHERE resource = ?1 AND id = ?2",
                params![resource, id, body],
            )?;
            ids.push(Value::from(id));
        }
        if !ids.is_empty() {
            moved.insert(resource.clone(), Value::Array(ids));
        }
    }
    Ok(r.report(moved))
}

impl RecordStore for SqliteStore {
    fn scan_records(
        &self,
        resource: &str,
        passes: usize,
        f: &mut dyn FnMut(usize, &Value) -> Result<(), String>,
    ) -> StoreResult<Result<(), String>> {
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut c = Connection::open_with_flags(&self.path, flags).map_err(failed)?;
        c.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed)?;
        // One read transaction: every pass sees the same records.
        let tx = c.transaction().map_err(failed)?;
        let mut stmt = tx
            .prepare("SELECT body FROM records WHERE resource = ?1 ORDER BY id")
            .map_err(failed)?;
        for pass in 0..passes {
            let mut rows = stmt.query(params![resource]).map_err(failed)?;
            while let Some(row) = rows.next().map_err(failed)? {
                let body: String = row.get(0).map_err(failed)?;
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if let Err(e) = f(pass, &v) {
                    return Ok(Err(e));
                }
            }
        }
        Ok(Ok(()))
    }

    fn records(&self, resource: &str) -> StoreResult<Vec<Record>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT body, revision FROM records WHERE resource = ?1 ORDER BY id")?;
            let rows = stmt.query_map(params![resource], row_record)?;
            rows.collect()
        })
    }

    fn record(&self, resource: &str, id: &str) -> StoreResult<Option<Record>> {
        self.with(|c| {
            c.query_row(
                "SELECT body, revision FROM records WHERE resource = ?1 AND id = ?2",
                params![resource, id],
                row_record,
            )
            .optional()
        })
    }

    fn insert_record(&self, resource: &str, id: &str, body: &Value) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO records (resource, id, body, revision) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (resource, id) DO NOTHING",
                params![resource, id, body.to_string()],
            )?;
            Ok(n == 1)
        })
    }

    fn update_record(
        &self,
        resource: &str,
        id: &str,
        expected: Option<u64>,
        change: &mut dyn FnMut(&Value) -> Option<Value>,
    ) -> Result<Record, UpdateError<()>> {
        let store = |e: rusqlite::Error| UpdateError::Store(failed(e));
        let mut conn = self.conn.locked();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store)?;
        let now = tx
            .query_row(
                "SELECT body, revision FROM records WHERE resource = ?1 AND id = ?2",
                params![resource, id],
                row_record,
            )
            .optional()
            .map_err(store)?
            .ok_or(UpdateError::Missing)?;
        check_revision(expected, now.revision)?;
        let body = change(&now.body).ok_or(UpdateError::Refused(()))?;
        let revision = now.revision + 1;
        tx.execute(
            "UPDATE records SET body = ?3, revision = ?4 WHERE resource = ?1 AND id = ?2",
            params![resource, id, body.to_string(), sql_int(revision)],
        )
        .map_err(store)?;
        tx.commit().map_err(store)?;
        Ok(Record { body, revision })
    }

    fn reassign(&self, r: &Reassign) -> StoreResult<Value> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let moved = reassign_in(&tx, r)?;
            tx.commit()?;
            Ok(moved)
        })
    }

    fn seed_records(&self, resource: &str, records: &[Value]) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for r in records {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                tx.execute(
                    "INSERT INTO records (resource, id, body, revision) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (resource, id) DO NOTHING",
                    params![resource, id, r.to_string()],
                )?;
            }
            tx.commit()
        })
    }

    fn has_records(&self) -> StoreResult<bool> {
        self.with(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM records)", [], |r| r.get(0)))
    }
}

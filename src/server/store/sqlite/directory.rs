//! The directory of people per app in SQLite.

use super::*;

/// Makes `text` the directory of `app`.
pub(super) fn put_directory_in(
    c: &Connection,
    app: &str,
    text: &str,
    by: &str,
    at: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO directories (app, people, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (app) DO UPDATE SET people = excluded.people,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![app, text, by, at],
    )
    .map(|_| ())
}

/// Within a publication: makes `v`'s directory the app's (when it brings one) and returns the
/// snapshot name of the directory in force from `v` on, keeping that snapshot.
pub(super) fn publish_directory_in(
    tx: &rusqlite::Transaction<'_>,
    app: &str,
    v: &NewVersion,
) -> rusqlite::Result<Option<String>> {
    let text = match &v.directory {
        Some(people) => {
            let text = people.to_string();
            put_directory_in(tx, app, &text, &v.by, v.at)?;
            Some(text)
        }
        None => tx
            .query_row(
                "SELECT people FROM directories WHERE app = ?1",
                params![app],
                |r| r.get(0),
            )
            .optional()?,
    };
    let Some(text) = text else { return Ok(None) };
    let sha = people_sha(&text);
    tx.execute(
        "INSERT OR IGNORE INTO directory_snapshots (app, sha, people) VALUES (?1, ?2, ?3)",
        params![app, sha, text],
    )?;
    Ok(Some(sha))
}

impl DirectoryStore for SqliteStore {
    fn directory_snapshot(&self, app: &str, sha: &str) -> StoreResult<Option<Value>> {
        self.with(|c| {
            c.query_row(
                "SELECT people FROM directory_snapshots WHERE app = ?1 AND sha = ?2",
                params![app, sha],
                |r| r.get::<_, String>(0),
            )
            .optional()
        })
        .map(|t| t.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
    }

    fn directory(&self, app: &str) -> StoreResult<Option<(Value, String, i64)>> {
        self.with(|c| {
            c.query_row(
                "SELECT people, updated_by, updated_at FROM directories WHERE app = ?1",
                params![app],
                |r| {
                    let text: String = r.get(0)?;
                    Ok((
                        serde_json::from_str(&text).unwrap_or(Value::Null),
                        r.get(1)?,
                        r.get(2)?,
                    ))
                },
            )
            .optional()
        })
    }

    fn put_directory(&self, app: &str, people: &Value, by: &str, at: i64) -> StoreResult<()> {
        self.with(|c| put_directory_in(c, app, &people.to_string(), by, at))
    }
}

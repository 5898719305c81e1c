//! The directory of people per app in PostgreSQL.

use super::*;

/// Makes `text` the directory of `app` and announces it (in the caller's transaction).
pub(super) async fn put_directory_in(
    tx: &tokio_postgres::Transaction<'_>,
    app: &str,
    text: &str,
    by: &str,
    at: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO directories (app, people, updated_by, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app) DO UPDATE SET people = excluded.people,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        &[&app, &text, &by, &at],
    )
    .await
    .map_err(pg)?;
    let note = Change::Directory {
        app: app.to_string(),
    };
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &note.payload()])
        .await
        .map_err(pg)?;
    Ok(())
}

/// Within a publication: makes `v`'s directory the app's (when it brings one, announcing it)
/// and returns the snapshot name of the directory in force from `v` on, keeping that snapshot.
pub(super) async fn publish_directory_in(
    tx: &tokio_postgres::Transaction<'_>,
    app: &str,
    v: &NewVersion,
) -> StoreResult<Option<String>> {
    let text: Option<String> = match &v.directory {
        Some(people) => {
            let text = people.to_string();
            put_directory_in(tx, app, &text, &v.by, v.at).await?;
            Some(text)
        }
        None => tx
            .query_opt("SELECT people FROM directories WHERE app = $1", &[&app])
            .await
            .map_err(pg)?
            .map(|r| r.get(0)),
    };
    let Some(text) = text else { return Ok(None) };
    let sha = people_sha(&text);
    tx.execute(
        "INSERT INTO directory_snapshots (app, sha, people) VALUES ($1, $2, $3)
         ON CONFLICT (app, sha) DO NOTHING",
        &[&app, &sha, &text],
    )
    .await
    .map_err(pg)?;
    Ok(Some(sha))
}

impl DirectoryStore for PostgresStore {
    fn directory_snapshot(&self, app: &str, sha: &str) -> StoreResult<Option<Value>> {
        self.run(async {
            let row = self
                .query_opt(
                    "SELECT people FROM directory_snapshots WHERE app = $1 AND sha = $2",
                    &[&app, &sha],
                )
                .await?;
            Ok(row.map(|r| json(r.get(0))))
        })
    }

    fn directory(&self, app: &str) -> StoreResult<Option<(Value, String, i64)>> {
        self.run(async {
            let row = self
                .query_opt(
                    "SELECT people, updated_by, updated_at FROM directories WHERE app = $1",
                    &[&app],
                )
                .await?;
            Ok(row.map(|r| (json(r.get(0)), r.get(1), r.get(2))))
        })
    }

    fn put_directory(&self, app: &str, people: &Value, by: &str, at: i64) -> StoreResult<()> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            put_directory_in(&tx, app, &people.to_string(), by, at).await?;
            tx.commit().await.map_err(pg)
        })
    }
}

//! The PostgreSQL store, for several `fieldgate serve` instances on one database
//! (tokio-postgres with a deadpool pool; ARCHITECTURE.md says why).
//!
//! The same promises as SQLite: triggers refuse any change to a published version, a
//! reassignment or an audit entry; a publication is one transaction that takes a per-app
//! advisory lock, checks its base and number, stores, moves records and announces itself with
//! `NOTIFY` (delivered at commit, to every instance). Migrations run at start under a
//! cluster-wide advisory lock, so two instances starting together do not both migrate.
//!
//! Calls block, like the trait's other store: the pool lives on a small runtime of its own and
//! every call waits for its work there (with a deadline: an unreachable database is a 503, not
//! a hang).

use super::*;
use crate::server::error::ApiError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime as PoolRuntime};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{error::SqlState, types::ToSql, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The schema, one migration per step; `schema_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite store has after its seventh migration.
    "CREATE FUNCTION fieldgate_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME; END $$;
     CREATE TABLE versions (
       app TEXT NOT NULL, version BIGINT NOT NULL, document TEXT NOT NULL, bundle TEXT NOT NULL,
       published_by TEXT NOT NULL, published_at BIGINT NOT NULL, summary TEXT NOT NULL,
       note TEXT, PRIMARY KEY (app, version));
     CREATE TRIGGER versions_immutable BEFORE UPDATE OR DELETE ON versions
       FOR EACH ROW EXECUTE FUNCTION fieldgate_immutable();
     CREATE TRIGGER versions_no_truncate BEFORE TRUNCATE ON versions
       FOR EACH STATEMENT EXECUTE FUNCTION fieldgate_immutable();
     CREATE TABLE current (app TEXT PRIMARY KEY, version BIGINT NOT NULL);
     CREATE TABLE reassignments (
       app TEXT NOT NULL, version BIGINT NOT NULL, moved TEXT NOT NULL,
       PRIMARY KEY (app, version));
     CREATE TRIGGER reassignments_immutable BEFORE UPDATE OR DELETE ON reassignments
       FOR EACH ROW EXECUTE FUNCTION fieldgate_immutable();
     CREATE TABLE decisions (
       id BIGSERIAL PRIMARY KEY, reported_by TEXT NOT NULL, received_at BIGINT NOT NULL,
       event TEXT NOT NULL, chain TEXT, hash TEXT, link TEXT NOT NULL);
     CREATE UNIQUE INDEX decisions_chained ON decisions (reported_by, chain, hash)
       WHERE hash IS NOT NULL;
     CREATE INDEX decisions_unchained ON decisions (reported_by, md5(event)) WHERE chain IS NULL;
     CREATE TABLE decision_chains (
       reported_by TEXT NOT NULL, chain TEXT NOT NULL, head TEXT NOT NULL,
       PRIMARY KEY (reported_by, chain));
     CREATE TABLE decision_totals (reported_by TEXT PRIMARY KEY, n BIGINT NOT NULL);
     CREATE TABLE records (
       resource TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
       revision BIGINT NOT NULL DEFAULT 1, PRIMARY KEY (resource, id));
     CREATE TABLE directories (
       app TEXT PRIMARY KEY, people TEXT NOT NULL, updated_by TEXT NOT NULL,
       updated_at BIGINT NOT NULL);
     CREATE TABLE credentials (
       name TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
       created_at BIGINT NOT NULL, PRIMARY KEY (name, kind));
     CREATE TABLE sessions (
       id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at BIGINT NOT NULL);
     CREATE TABLE audit (
       id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
       endpoint TEXT NOT NULL, app TEXT, detail TEXT NOT NULL);
     CREATE INDEX audit_by_time ON audit (at);
     CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
       FOR EACH ROW EXECUTE FUNCTION fieldgate_immutable();
     CREATE TABLE access (
       id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, user_id TEXT NOT NULL,
       action TEXT NOT NULL, resource TEXT NOT NULL, records JSONB NOT NULL,
       unmasked TEXT NOT NULL, outcome TEXT NOT NULL, fields TEXT NOT NULL,
       source TEXT NOT NULL, count BIGINT NOT NULL DEFAULT 0);
     CREATE INDEX access_by_time ON access (at);
     CREATE INDEX access_by_user ON access (user_id, at);
     CREATE TABLE alerts (
       id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, user_id TEXT NOT NULL,
       detail TEXT NOT NULL);
     CREATE TABLE drafts (
       app TEXT NOT NULL, admin TEXT NOT NULL, document TEXT NOT NULL, base BIGINT,
       revision BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (app, admin));
     CREATE TABLE reviews (
       id BIGSERIAL PRIMARY KEY, app TEXT NOT NULL, scope TEXT NOT NULL,
       version BIGINT NOT NULL, opened_by TEXT NOT NULL, opened_at BIGINT NOT NULL,
       closed_by TEXT, closed_at BIGINT, outcome TEXT);
     CREATE TABLE review_lines (
       review BIGINT NOT NULL, n BIGINT NOT NULL, reviewer TEXT NOT NULL, line TEXT NOT NULL,
       decision TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', decided_by TEXT,
       decided_at BIGINT, PRIMARY KEY (review, n));
     CREATE INDEX review_lines_by_reviewer ON review_lines (reviewer);",
    // 2: decision events pruned by age.
    "CREATE INDEX decisions_by_time ON decisions (received_at);",
    // 3: directories published with versions (see the SQLite store's ninth migration).
    "ALTER TABLE drafts ADD COLUMN directory TEXT;
     ALTER TABLE versions ADD COLUMN directory TEXT;
     ALTER TABLE versions ADD COLUMN directory_changed BOOLEAN NOT NULL DEFAULT FALSE;
     CREATE TABLE directory_snapshots (
       app TEXT NOT NULL, sha TEXT NOT NULL, people TEXT NOT NULL, PRIMARY KEY (app, sha));",
];

/// Advisory lock keys (one namespace for fieldgate's locks).
const MIGRATION_LOCK: i64 = 0x6669_656c_6467_0001;
const FIRST_START_LOCK: i64 = 0x6669_656c_6467_0002;

/// The channel publications and directory changes are announced on.
const CHANNEL: &str = "fieldgate";

/// How long one store call may take before it is a 503.
const DEADLINE: Duration = Duration::from_secs(10);

/// A database shared by any number of server instances.
pub struct PostgresStore {
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    config: tokio_postgres::Config,
    /// TLS as the URL's `sslmode` asks (every connection: the pool, listening, locks).
    tls: MakeRustlsConnect,
    /// This store's id in its announcements, so it skips its own alerts.
    origin: String,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Dropped from async code (the server's state) a runtime must not wait for its tasks.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// An error of the database as the store's: a lost or refused connection is `Unavailable`
/// (503: try again), a statement the database refused is `Failed`.
fn classify(e: &tokio_postgres::Error) -> StoreError {
    let text = explain(e);
    match e.code() {
        Some(c)
            if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || c.code().starts_with("08") =>
        {
            StoreError::Unavailable(text)
        }
        Some(_) => StoreError::Failed(text),
        None => StoreError::Unavailable(text),
    }
}

/// An error with its causes (`db error` alone hides the database's message, and a TLS
/// failure's reason is a cause too).
fn explain(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Whether campaign `id` of `app` exists and is open, its row locked until `tx` ends (what
/// `decide` and closing both take, so neither slips between the other's reads and writes).
async fn review_open(
    tx: &tokio_postgres::Transaction<'_>,
    app: &str,
    id: i64,
) -> StoreResult<Result<(), DecideError>> {
    let closed: Option<Option<i64>> = tx
        .query_opt(
            "SELECT closed_at FROM reviews WHERE app = $1 AND id = $2 FOR UPDATE",
            &[&app, &id],
        )
        .await
        .map_err(pg)?
        .map(|r| r.get(0));
    Ok(match closed {
        None => Err(DecideError::Missing),
        Some(Some(_)) => Err(DecideError::Closed),
        Some(None) => Ok(()),
    })
}

/// Saves a draft inside `tx`, holding the pair's lock (a first save has no row to lock); the
/// new revision, or `Stale` (see [`next_draft_revision`]).
async fn write_draft(
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

fn pg(e: tokio_postgres::Error) -> StoreError {
    classify(&e)
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => classify(&e),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Postgres integers are signed; versions and counts never get near the limit.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`), checks it answers and brings its
    /// schema up to date.
    ///
    /// # Errors
    /// A bad URL, an unreachable database, or a failed migration.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let bad = |e: String| StoreError::Failed(format!("bad database URL: {e}"));
        let wanted = crate::server::tls::database(url).map_err(bad)?;
        let tls = MakeRustlsConnect::new(
            crate::server::tls::client_config(
                wanted.verify,
                wanted.root.as_deref().map(std::path::Path::new),
            )
            .map_err(bad)?,
        );
        let config: tokio_postgres::Config = wanted
            .url
            .parse()
            .map_err(|e: tokio_postgres::Error| bad(e.to_string()))?;
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fieldgate-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(32)
            .runtime(PoolRuntime::Tokio1)
            .wait_timeout(Some(DEADLINE))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let store = PostgresStore {
            rt: Some(rt),
            pool,
            config,
            tls,
            origin: crate::host::keys::random_hex().map_err(StoreError::Failed)?,
        };
        store.run(store.migrate())?;
        Ok(store)
    }

    /// Runs `f` on the store's runtime and waits for it, at most `DEADLINE`.
    fn run<T>(&self, f: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let Some(rt) = &self.rt else {
            return Err(StoreError::Unavailable("the store is closed".into()));
        };
        rt.block_on(async {
            match tokio::time::timeout(DEADLINE, f).await {
                Ok(r) => r,
                Err(_) => Err(StoreError::Unavailable(format!(
                    "no answer within {}s",
                    DEADLINE.as_secs()
                ))),
            }
        })
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs the migrations not run yet, holding the migration lock.
    async fn migrate(&self) -> StoreResult<()> {
        let mut c = self.client().await?;
        c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg)?;
        let result = async {
            c.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
                .await
                .map_err(pg)?;
            let done: i64 = c
                .query_opt("SELECT version FROM schema_version", &[])
                .await
                .map_err(pg)?
                .map_or(0, |r| r.get(0));
            for (i, sql) in MIGRATIONS
                .iter()
                .enumerate()
                .skip(usize::try_from(done).unwrap_or(0))
            {
                let tx = c.transaction().await.map_err(pg)?;
                tx.batch_execute(sql).await.map_err(pg)?;
                tx.execute("DELETE FROM schema_version", &[])
                    .await
                    .map_err(pg)?;
                let n = i64::try_from(i + 1).unwrap_or(i64::MAX);
                tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&n])
                    .await
                    .map_err(pg)?;
                tx.commit().await.map_err(pg)?;
            }
            Ok(())
        }
        .await;
        let unlocked = c
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg);
        result.and(unlocked.map(|_| ()))
    }

    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(sql).await.map_err(pg)?;
        c.query(&stmt, params).await.map_err(pg)
    }

    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Option<Row>> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(sql).await.map_err(pg)?;
        c.query_opt(&stmt, params).await.map_err(pg)
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(sql).await.map_err(pg)?;
        c.execute(&stmt, params).await.map_err(pg)
    }

    /// Listens for the other instances' changes and calls `on` with each, and with
    /// `Change::Resync` whenever listening (re)starts: what happened while it was not
    /// listening is looked at then.
    fn listen(&self, on: Arc<dyn Fn(Change) + Send + Sync>) {
        let Some(rt) = &self.rt else { return };
        let config = self.config.clone();
        let tls = self.tls.clone();
        let origin = self.origin.clone();
        rt.spawn(async move {
            loop {
                match config.connect(tls.clone()).await {
                    Ok((client, mut conn)) => {
                        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                        let pump = tokio::spawn(async move {
                            use futures_util::StreamExt;
                            let mut messages =
                                futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                            while let Some(Ok(m)) = messages.next().await {
                                if let tokio_postgres::AsyncMessage::Notification(n) = m {
                                    let _ = tx.send(n.payload().to_string());
                                }
                            }
                        });
                        if client
                            .batch_execute(&format!("LISTEN {CHANNEL}"))
                            .await
                            .is_ok()
                        {
                            on(Change::Resync);
                            while let Some(payload) = rx.recv().await {
                                match Change::from_payload(&payload) {
                                    Some(Change::Alert { from, .. }) if from == origin => {}
                                    Some(c) => on(c),
                                    None => {}
                                }
                            }
                        }
                        pump.abort();
                    }
                    Err(e) => tracing::warn!(target: "fieldgate::store", "postgres: listening for changes: {e}; retrying"),
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
    }
}

const SELECT: &str = "SELECT v.app, v.version, v.document, v.bundle, v.published_by,
  v.published_at, v.summary, r.moved, v.note, v.directory, v.directory_changed FROM versions v
  LEFT JOIN reassignments r ON r.app = v.app AND r.version = v.version";

fn row_version(r: &Row) -> Version {
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

/// Makes `text` the directory of `app` and announces it (in the caller's transaction).
async fn put_directory_in(
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
async fn publish_directory_in(
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

fn review_select() -> String {
    format!(
        "SELECT r.id, r.app, r.scope, r.version, r.opened_by, r.opened_at, r.closed_by,
           r.closed_at, r.outcome, COUNT(l.n),
           COALESCE(SUM(CASE WHEN l.decision <> '' THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN l.decision IN {REVOKED} THEN 1 ELSE 0 END), 0)
         FROM reviews r LEFT JOIN review_lines l ON l.review = r.id"
    )
}

fn row_review(r: &Row) -> Review {
    Review {
        id: r.get(0),
        app: r.get(1),
        scope: json(r.get(2)),
        version: count(r.get(3)),
        opened_by: r.get(4),
        opened_at: r.get(5),
        closed_by: r.get(6),
        closed_at: r.get(7),
        outcome: r.get::<_, Option<String>>(8).map(|t| json(&t)),
        lines: count(r.get(9)),
        decided: count(r.get(10)),
        revoked: count(r.get(11)),
    }
}

fn row_line(r: &Row) -> ReviewLine {
    ReviewLine {
        n: r.get(0),
        reviewer: r.get(1),
        line: json(r.get(2)),
        decision: r.get(3),
        note: r.get(4),
        decided_by: r.get(5),
        decided_at: r.get(6),
    }
}

const LINES: &str =
    "SELECT n, reviewer, line, decision, note, decided_by, decided_at FROM review_lines";

fn row_record(r: &Row) -> Record {
    Record {
        body: json(r.get(0)),
        revision: count(r.get(1)),
    }
}

fn list_text(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn text_list(t: &str) -> Vec<String> {
    serde_json::from_str(t).unwrap_or_default()
}

async fn audit_in(c: &impl deadpool_postgres::GenericClient, e: &AuditEntry) -> StoreResult<()> {
    c.execute(
        "INSERT INTO audit (at, actor, kind, endpoint, app, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&e.at, &e.actor, &e.kind, &e.endpoint, &e.app, &e.detail.to_string()],
    )
    .await
    .map(|_| ())
    .map_err(pg)
}

/// Moves records as `r` says, inside `tx`; returns what moved, by resource.
async fn reassign_in(tx: &deadpool_postgres::Transaction<'_>, r: &Reassign) -> StoreResult<Value> {
    let mut moved = serde_json::Map::new();
    for (resource, owner) in &r.owners {
        let rows = tx
            .query(
                "SELECT id, body FROM records WHERE resource = $1 ORDER BY id FOR UPDATE",
                &[resource],
            )
            .await
            .map_err(pg)?;
        let mut ids = Vec::new();
        for row in rows {
            let (id, body): (String, String) = (row.get(0), row.get(1));
            if !r.covers(resource, &id) {
                continue;
            }
            let Some(body) = r.moved(&body, owner) else {
                continue;
            };
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
    Ok(serde_json::json!({"from": r.from, "to": r.to, "records": moved}))
}

impl Store for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    fn watch(&self, on: Arc<dyn Fn(Change) + Send + Sync>) {
        self.listen(on);
    }

    fn exclusively(&self, lock: Lock<'_>, f: &mut dyn FnMut()) -> StoreResult<()> {
        // The lock is held by a connection of its own while `f` uses the pool: it is released
        // however `f` ends, and by the database if this process dies.
        let Some(rt) = &self.rt else {
            return Err(StoreError::Unavailable("the store is closed".into()));
        };
        let config = self.config.clone();
        let tls = self.tls.clone();
        let taken = rt.block_on(tokio::time::timeout(DEADLINE, async move {
            let (client, conn) = config.connect(tls).await.map_err(pg)?;
            let driver = tokio::spawn(conn);
            // The two-key form is a key space of its own: no clash with the one-key locks.
            let r = match lock {
                Lock::FirstStart => {
                    client
                        .execute("SELECT pg_advisory_lock($1)", &[&FIRST_START_LOCK])
                        .await
                }
                Lock::Publishing(app) => {
                    client
                        .execute("SELECT pg_advisory_lock(1, hashtext($1))", &[&app])
                        .await
                }
            };
            r.map(|_| (client, driver)).map_err(pg)
        }));
        let (client, driver) = match taken {
            Ok(held) => held?,
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "another instance held the lock for {}s",
                    DEADLINE.as_secs()
                )))
            }
        };
        f();
        drop(client);
        driver.abort();
        Ok(())
    }

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

    fn add_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            audit_in(&c, e).await
        })
    }

    fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT id, at, actor, kind, endpoint, app, detail FROM audit
                     WHERE at >= $1 AND ($2::text IS NULL OR actor = $2)
                       AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR app = $4)
                     ORDER BY id DESC LIMIT $5",
                    &[&q.since, &q.actor, &q.kind, &q.app, &i64::from(q.limit)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| AuditEntry {
                    id: r.get(0),
                    at: r.get(1),
                    actor: r.get(2),
                    kind: r.get(3),
                    endpoint: r.get(4),
                    app: r.get(5),
                    detail: json(r.get(6)),
                })
                .collect())
        })
    }

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

    fn prune_decisions(&self, before: i64) -> StoreResult<u64> {
        self.run(async {
            let rows = self
                .query(
                    "WITH gone AS (DELETE FROM decisions WHERE received_at < $1 RETURNING reported_by),
                          n AS (SELECT reported_by, count(*) AS c FROM gone GROUP BY reported_by),
                          t AS (UPDATE decision_totals SET n = decision_totals.n - n.c FROM n
                                WHERE decision_totals.reported_by = n.reported_by)
                     SELECT COALESCE(SUM(c), 0)::BIGINT FROM n",
                    &[&before],
                )
                .await?;
            Ok(rows.first().map_or(0, |r| count(r.get(0))))
        })
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

    fn pool_status(&self) -> Option<PoolStatus> {
        let s = self.pool.status();
        Some(PoolStatus {
            open: s.size,
            idle: s.available,
            waiting: s.waiting,
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

    fn open_review(&self, r: &NewReview) -> StoreResult<i64> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO reviews (app, scope, version, opened_by, opened_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&r.app, &r.scope.to_string(), &int(r.version), &r.by, &r.at],
                )
                .await
                .map_err(pg)?
                .get(0);
            let reviewers: Vec<&str> = r.lines.iter().map(|(who, _)| who.as_str()).collect();
            let lines: Vec<String> = r.lines.iter().map(|(_, l)| l.to_string()).collect();
            tx.execute(
                "INSERT INTO review_lines (review, n, reviewer, line)
                 SELECT $1, n, who, line FROM UNNEST($2::text[], $3::text[])
                   WITH ORDINALITY AS t(who, line, n)",
                &[&id, &reviewers, &lines],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(id)
        })
    }

    fn reviews(&self, app: &str) -> StoreResult<Vec<Review>> {
        self.run(async {
            let sql = format!(
                "{} WHERE r.app = $1 GROUP BY r.id ORDER BY r.id DESC",
                review_select()
            );
            Ok(self
                .query(&sql, &[&app])
                .await?
                .iter()
                .map(row_review)
                .collect())
        })
    }

    fn review(&self, app: &str, id: i64) -> StoreResult<Option<(Review, Vec<ReviewLine>)>> {
        self.run(async {
            let sql = format!(
                "{} WHERE r.app = $1 AND r.id = $2 GROUP BY r.id",
                review_select()
            );
            let Some(review) = self.query_opt(&sql, &[&app, &id]).await? else {
                return Ok(None);
            };
            let lines = self
                .query(&format!("{LINES} WHERE review = $1 ORDER BY n"), &[&id])
                .await?;
            Ok(Some((
                row_review(&review),
                lines.iter().map(row_line).collect(),
            )))
        })
    }

    fn lines_for(&self, reviewer: &str) -> StoreResult<Vec<(Review, Vec<ReviewLine>)>> {
        self.run(async {
            let sql = format!(
                "{} WHERE r.closed_at IS NULL AND r.id IN
                   (SELECT review FROM review_lines WHERE reviewer = $1) GROUP BY r.id ORDER BY r.id",
                review_select()
            );
            let mut out = Vec::new();
            for r in self.query(&sql, &[&reviewer]).await?.iter().map(row_review) {
                let lines = self
                    .query(
                        &format!("{LINES} WHERE review = $1 AND reviewer = $2 ORDER BY n"),
                        &[&r.id, &reviewer],
                    )
                    .await?;
                out.push((r, lines.iter().map(row_line).collect()));
            }
            Ok(out)
        })
    }

    fn decide(&self, app: &str, id: i64, d: &Decisions) -> Result<usize, DecideError> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            if let Err(e) = review_open(&tx, app, id).await? {
                return Ok(Err(e));
            }
            let mut n = 0;
            for (line, decision, note) in &d.lines {
                let reviewer: Option<String> = tx
                    .query_opt(
                        "SELECT reviewer FROM review_lines WHERE review = $1 AND n = $2",
                        &[&id, line],
                    )
                    .await
                    .map_err(pg)?
                    .map(|r| r.get(0));
                match reviewer {
                    None => return Ok(Err(DecideError::NoLine(*line))),
                    Some(r) if d.reviewer.as_ref().is_some_and(|me| *me != r) => {
                        return Ok(Err(DecideError::NotYours(*line)))
                    }
                    Some(_) => {}
                }
                tx.execute(
                    "UPDATE review_lines SET decision = $3, note = $4, decided_by = $5,
                       decided_at = $6 WHERE review = $1 AND n = $2",
                    &[&id, line, decision, note, &d.by, &d.at],
                )
                .await
                .map_err(pg)?;
                n += 1;
            }
            tx.commit().await.map_err(pg)?;
            Ok(Ok(n))
        })
        .map_err(DecideError::Store)?
    }

    fn close_review(
        &self,
        app: &str,
        id: i64,
        make: &mut dyn FnMut(&[ReviewLine]) -> Option<ReviewClose>,
    ) -> Result<Option<u64>, CloseError> {
        self.run(async {
            let mut conn = self.client().await?;
            let tx = conn.transaction().await.map_err(pg)?;
            // The campaign's row, locked: `decide` takes the same lock, so no decision lands
            // between reading the lines here and closing.
            if let Err(e) = review_open(&tx, app, id).await? {
                return Ok(Err(CloseError::Refused(e)));
            }
            let lines: Vec<ReviewLine> = tx
                .query(&format!("{LINES} WHERE review = $1 ORDER BY n"), &[&id])
                .await
                .map_err(pg)?
                .iter()
                .map(row_line)
                .collect();
            let Some(c) = make(&lines) else {
                return Ok(Ok(None));
            };
            let revision = match write_draft(&tx, app, &c.by, &c.draft, Some(c.expected)).await? {
                Ok(r) => r,
                Err(e) => return Ok(Err(e.into())),
            };
            tx.execute(
                "UPDATE reviews SET closed_by = $3, closed_at = $4, outcome = $5
                 WHERE app = $1 AND id = $2",
                &[&app, &id, &c.by, &c.at, &c.outcome.to_string()],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(Ok(Some(revision)))
        })
        .map_err(|e| CloseError::Refused(DecideError::Store(e)))?
    }

    fn credentials(&self) -> StoreResult<Vec<Credential>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT name, kind, token_hash, created_at FROM credentials ORDER BY kind, name",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| Credential {
                    name: r.get(0),
                    kind: r.get(1),
                    token_hash: r.get(2),
                    created_at: r.get(3),
                })
                .collect())
        })
    }

    fn put_credential(&self, cr: &Credential) -> StoreResult<()> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            tx.execute(
                "DELETE FROM credentials WHERE (name = $1 AND kind = $2) OR token_hash = $3",
                &[&cr.name, &cr.kind, &cr.token_hash],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO credentials (name, kind, token_hash, created_at) VALUES ($1, $2, $3, $4)",
                &[&cr.name, &cr.kind, &cr.token_hash, &cr.created_at],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }

    fn remove_credential(&self, name: &str, kind: &str) -> StoreResult<bool> {
        self.run(self.execute(
            "DELETE FROM credentials WHERE name = $1 AND kind = $2",
            &[&name, &kind],
        ))
        .map(|n| n > 0)
    }

    fn create_session(&self, id_hash: &str, user: &str, expires_at: i64) -> StoreResult<()> {
        self.run(async {
            self.execute(
                "DELETE FROM sessions WHERE expires_at < $1",
                &[&(expires_at - 2 * crate::server::auth::LOGIN_MS)],
            )
            .await?;
            self.execute(
                "INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                &[&id_hash, &user, &expires_at],
            )
            .await
            .map(|_| ())
        })
    }

    fn session(&self, id_hash: &str, now: i64) -> StoreResult<Option<String>> {
        self.run(async {
            Ok(self
                .query_opt(
                    "SELECT user_id FROM sessions WHERE id_hash = $1 AND expires_at > $2",
                    &[&id_hash, &now],
                )
                .await?
                .map(|r| r.get(0)))
        })
    }

    fn end_session(&self, id_hash: &str) -> StoreResult<()> {
        self.run(self.execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash]))
            .map(|_| ())
    }

    fn add_decisions(&self, user: &str, now_ms: i64, events: &[Reported]) -> StoreResult<Outcome> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            // One batch of a user's at a time: each is judged against the heads the last left.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('decisions:' || $1))", &[&user])
                .await
                .map_err(pg)?;
            let chains: Vec<&str> = events
                .iter()
                .filter_map(|e| e.chain.as_ref().map(|l| l.chain.as_str()))
                .collect();
            let hashes: Vec<&str> = events
                .iter()
                .filter_map(|e| e.chain.as_ref().map(|l| l.hash.as_str()))
                .collect();
            let plain: Vec<&str> = events
                .iter()
                .filter(|e| e.chain.is_none())
                .map(|e| e.event.as_str())
                .collect();
            // What is stored already, and each chain's head: three reads for the whole batch.
            let mut seen: std::collections::HashSet<(String, String)> = tx
                .query(
                    "SELECT chain, hash FROM decisions WHERE reported_by = $1
                       AND chain = ANY($2) AND hash = ANY($3)",
                    &[&user, &chains, &hashes],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let mut seen_plain: std::collections::HashSet<String> = tx
                .query(
                    "SELECT event FROM decisions WHERE reported_by = $1 AND chain IS NULL
                       AND md5(event) IN (SELECT md5(e) FROM UNNEST($2::text[]) e)",
                    &[&user, &plain],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut heads: HashMap<String, String> = tx
                .query(
                    "SELECT chain, head FROM decision_chains WHERE reported_by = $1 AND chain = ANY($2)",
                    &[&user, &chains],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let mut outcome = Outcome::default();
            let (mut ev, mut ch, mut hs, mut ln) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for e in events {
                let link = match &e.chain {
                    None => seen_plain.insert(e.event.clone()).then_some(Link::Unchained),
                    Some(l) => {
                        if seen.insert((l.chain.clone(), l.hash.clone())) {
                            let head = heads.insert(l.chain.clone(), l.hash.clone());
                            Some(Link::of(l, head.as_deref()))
                        } else {
                            None
                        }
                    }
                };
                match link {
                    Some(link) => {
                        ev.push(e.event.as_str());
                        ch.push(e.chain.as_ref().map(|l| l.chain.as_str()));
                        hs.push(e.chain.as_ref().map(|l| l.hash.as_str()));
                        ln.push(link.as_str());
                        outcome.accepted += 1;
                    }
                    None => outcome.duplicates += 1,
                }
                outcome.links.push(link);
            }
            if !ev.is_empty() {
                tx.execute(
                    "INSERT INTO decisions (reported_by, received_at, event, chain, hash, link)
                     SELECT $1, $2, e, c, h, l FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[])
                       AS t(e, c, h, l)",
                    &[&user, &now_ms, &ev, &ch, &hs, &ln],
                )
                .await
                .map_err(pg)?;
                let (names, tops): (Vec<&str>, Vec<&str>) =
                    heads.iter().map(|(c, h)| (c.as_str(), h.as_str())).unzip();
                tx.execute(
                    "INSERT INTO decision_chains (reported_by, chain, head)
                     SELECT $1, c, h FROM UNNEST($2::text[], $3::text[]) AS t(c, h)
                     ON CONFLICT (reported_by, chain) DO UPDATE SET head = excluded.head",
                    &[&user, &names, &tops],
                )
                .await
                .map_err(pg)?;
                let added = i64::try_from(ev.len()).unwrap_or(i64::MAX);
                tx.execute(
                    "INSERT INTO decision_totals (reported_by, n) VALUES ($1, $2)
                     ON CONFLICT (reported_by) DO UPDATE SET n = decision_totals.n + excluded.n",
                    &[&user, &added],
                )
                .await
                .map_err(pg)?;
            }
            tx.commit().await.map_err(pg)?;
            Ok(outcome)
        })
    }

    fn decision_count(&self, user: &str) -> StoreResult<u64> {
        self.run(async {
            Ok(self
                .query_opt(
                    "SELECT n FROM decision_totals WHERE reported_by = $1",
                    &[&user],
                )
                .await?
                .map_or(0, |r| count(r.get(0))))
        })
    }

    fn decisions(&self, limit: u32) -> StoreResult<Vec<Value>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT reported_by, received_at, event, link FROM decisions ORDER BY id DESC LIMIT $1",
                    &[&i64::from(limit)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "reported_by": r.get::<_, String>(0),
                        "received_at": r.get::<_, i64>(1),
                        "event": json(r.get(2)),
                        "link": r.get::<_, String>(3),
                    })
                })
                .collect())
        })
    }

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
        change: &mut dyn FnMut(&Value) -> Result<Value, ApiError>,
    ) -> Result<Record, UpdateError<ApiError>> {
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
            if expected.is_some_and(|e| e != now.revision) {
                return Ok(Err(UpdateError::Stale {
                    revision: now.revision,
                }));
            }
            let body = match change(&now.body) {
                Ok(b) => b,
                Err(e) => return Ok(Err(UpdateError::Refused(e))),
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

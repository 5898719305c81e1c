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

mod access_log;
mod audit;
mod credentials;
mod decisions;
mod directory;
mod drafts;
mod records;
mod reviews;
mod sessions;
mod versions;
use self::{audit::*, directory::*, drafts::*, records::*};

use super::*;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime as PoolRuntime};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{error::SqlState, types::ToSql, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The schema, one migration per step; `schema_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/01.sql"),
    include_str!("migrations/02.sql"),
    include_str!("migrations/03.sql"),
    include_str!("migrations/04.sql"),
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
        let bad = |e: &dyn std::fmt::Display| StoreError::Failed(format!("bad database URL: {e}"));
        let wanted = crate::host::tls::database(url).map_err(|e| bad(&e))?;
        let tls = MakeRustlsConnect::new(
            crate::host::tls::client_config(
                wanted.verify,
                wanted.root.as_deref().map(std::path::Path::new),
            )
            .map_err(|e| bad(&e))?,
        );
        let config: tokio_postgres::Config = wanted
            .url
            .parse()
            .map_err(|e: tokio_postgres::Error| bad(&e))?;
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
            origin: crate::host::keys::random_hex().map_err(|e| StoreError::Failed(e.into()))?,
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

    fn pool_status(&self) -> Option<PoolStatus> {
        let s = self.pool.status();
        Some(PoolStatus {
            open: s.size,
            idle: s.available,
            waiting: s.waiting,
        })
    }
}

//! `fieldgate serve`: the reference policy server. Publishes, signs and serves policy bundles,
//! keeps every version in SQLite, enforces the policy on a sample data API, and serves the
//! `www/` demo. A thin shell over the core, the admin toolkit and bundles.

mod auth;
mod data_api;
mod decisions;
mod drafts;
mod error;
mod files;
mod policy_api;
mod publish;
mod state;
mod store;
mod users;

use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use state::{AppState, Shared};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tower_http::services::{ServeDir, ServeFile};

/// The app of the sample policy published on first start.
pub const SAMPLE_APP: &str = "acme-erp";
const SAMPLE_POLICY: &str = include_str!("../../examples/acme-erp.policy.json");

/// Request body limits, bytes.
const SMALL_BODY: usize = 64 * 1024;
const POLICY_BODY: usize = 4 * 1024 * 1024;
const DECISIONS_BODY: usize = 512 * 1024;

/// How the server is set up.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The data directory (database, signing key, admin token); created on first start.
    #[arg(long, default_value = "fieldgate-data")]
    pub data: PathBuf,
    /// Where to listen (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Also write each signed bundle here as `<app>/v<n>.json` plus `<app>/latest.json`.
    #[arg(long)]
    pub publish_dir: Option<PathBuf>,
    /// The admin token (default: `<data>/admin.token`, made and printed on first start).
    #[arg(long, env = "FIELDGATE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// The demo pages.
    #[arg(long, default_value = "www")]
    pub www: PathBuf,
    /// The built npm package, served at `/pkg/`.
    #[arg(long, default_value = "pkg")]
    pub pkg: PathBuf,
    /// How long served bundles stay valid (re-signed when half of it has passed).
    #[arg(long, default_value = "7d")]
    pub bundle_ttl: humantime::Duration,
}

/// Opens (or creates) the data directory and loads everything the server needs. Returns the
/// state and lines to print (the admin token on first start).
///
/// # Errors
/// A message when the directory, database or keys cannot be used.
pub fn open(opts: &Options) -> Result<(Shared, Vec<String>), String> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = &opts.data;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut notes = Vec::new();
    let store = store::Store::open(&dir.join("fieldgate.db"))?;
    let key = files::signing_key(dir)?;
    let admin_token = match &opts.admin_token {
        Some(t) if !t.is_empty() => t.clone(),
        _ => {
            let path = dir.join("admin.token");
            let (token, created) = files::secret(&path, files::random_hex)?;
            if created {
                notes.push(format!("admin token (also in {}): {token}", path.display()));
            }
            token
        }
    };
    let (cookie_hex, _) = files::secret(&dir.join("cookie.key"), files::random_hex)?;
    let mut cookie_key = [0u8; 32];
    for (i, b) in cookie_key.iter_mut().enumerate() {
        *b = u8::from_str_radix(cookie_hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
            .map_err(|_| "cookie.key is not 64 hex digits".to_string())?;
    }
    let sample = users::sample()?;
    let (tx, _) = tokio::sync::broadcast::channel(64);
    let state = Arc::new(AppState {
        store,
        key,
        admin_token,
        cookie_key,
        bundle_ttl_ms: i64::try_from(opts.bundle_ttl.as_millis()).unwrap_or(i64::MAX / 4),
        publish_dir: opts.publish_dir.clone(),
        users: sample.users,
        current: RwLock::new(HashMap::new()),
        bundles: RwLock::new(HashMap::new()),
        events: tx,
    });
    let fail = |e: error::ApiError| e.message;
    if !state.store.has_records().map_err(fail)? {
        for (resource, records) in &sample.records {
            let list = records.as_array().cloned().unwrap_or_default();
            state.store.put_records(resource, &list).map_err(fail)?;
        }
    }
    for app in state.store.apps().map_err(fail)? {
        if let Some(v) = state.store.current(&app).map_err(fail)? {
            let c = publish::compiled_version(&v).map_err(fail)?;
            publish::install(&state, &app, c.version, c.doc, c.policy);
        }
    }
    if state.current(SAMPLE_APP).is_none() {
        let doc = serde_json::from_str(SAMPLE_POLICY).map_err(|e| e.to_string())?;
        let v = publish::publish(
            &state,
            SAMPLE_APP,
            doc,
            "fieldgate (sample)",
            crate::cli::now_ms(),
        )
        .map_err(|e| e.message)?;
        notes.push(format!(
            "published the sample policy as {SAMPLE_APP} v{}",
            v.version
        ));
    }
    if let Some(pd) = &opts.publish_dir {
        for app in state.store.apps().map_err(fail)? {
            // Newest first: every missing bundle, then `latest.json` once.
            let versions = state.store.versions(&app).map_err(fail)?;
            for v in &versions {
                files::write_bundle(pd, v)?;
            }
            if let Some(newest) = versions.first() {
                files::write_latest(pd, newest)?;
            }
        }
    }
    Ok((state, notes))
}

/// The HTTP routes: the API under `/v1`, the npm package under `/pkg`, the demo pages.
pub fn router(state: Shared, www: &Path, pkg: &Path) -> Router {
    let big = DefaultBodyLimit::max(POLICY_BODY);
    let api = Router::new()
        .route("/config", get(policy_api::config))
        .route("/events", get(policy_api::events))
        .route("/apps/{app}/bundle", get(policy_api::get_bundle))
        .route("/apps/{app}/versions", get(policy_api::versions))
        .route("/apps/{app}/versions/{n}", get(policy_api::version))
        .route("/apps/{app}/diff", get(policy_api::diff))
        .route(
            "/apps/{app}/policy",
            post(policy_api::publish_policy).layer(big),
        )
        .route("/apps/{app}/rollback-to/{n}", post(policy_api::rollback))
        .route(
            "/decisions",
            post(decisions::decisions)
                .layer(DefaultBodyLimit::max(DECISIONS_BODY))
                .get(decisions::recent_decisions),
        )
        .route("/login", post(data_api::login))
        .route("/logout", post(data_api::logout))
        .route("/me", get(data_api::me))
        .route("/users", get(data_api::users))
        .route(
            "/data/{resource}",
            get(data_api::list).post(data_api::create),
        )
        .route(
            "/data/{resource}/{id}",
            get(data_api::get).put(data_api::put),
        )
        .route("/admin/reassign-records", post(data_api::reassign))
        .route("/drafts/transfer", post(drafts::transfer_draft).layer(big))
        .route(
            "/drafts/matrix/export",
            post(drafts::matrix_export).layer(big),
        )
        .route(
            "/drafts/matrix/import",
            post(drafts::matrix_import).layer(big),
        )
        .fallback(|| async { error::ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    Router::new()
        .nest("/v1", api)
        .nest_service("/pkg", ServeDir::new(pkg))
        .route_service("/admin", ServeFile::new(www.join("admin.html")))
        .fallback_service(ServeDir::new(www))
        .layer(middleware::from_fn(log))
        .with_state(state)
}

/// One line per request: method, path, status, time.
async fn log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let res = next.run(req).await;
    eprintln!(
        "{method} {path} {} {}us",
        res.status().as_u16(),
        start.elapsed().as_micros()
    );
    res
}

/// Runs the server until Ctrl-C or SIGTERM.
///
/// # Errors
/// A message when it cannot start.
pub fn run(opts: Options) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let (state, notes) = open(&opts)?;
        for n in notes {
            println!("{n}");
        }
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", opts.addr))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!(
            "fieldgate serve: listening on http://{addr} (data in {})",
            opts.data.display()
        );
        let app = router(state, &opts.www, &opts.pkg);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(|e| e.to_string())
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

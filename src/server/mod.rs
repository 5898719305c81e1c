//! `fieldgate serve`: the reference policy server. Publishes, signs and serves policy bundles,
//! keeps every version, keeps the directory of people per app, enforces the policy on a sample
//! data API, and serves the `www/` demo. A thin shell over the core, the admin toolkit and
//! bundles.
//!
//! Untrusted callers are bounded before anything is parsed: connections and event streams are
//! capped per client address and in total, headers and bodies must arrive in time, bodies are
//! read only after the caller is known and only up to each endpoint's size.

mod demo;
mod error;
mod http;
pub mod services;
mod start;
mod state;
mod store;

pub use services::{backup, credentials};

pub use error::ServerCode;
pub use store::{SqliteStore, Store, StoreError};

use axum::extract::Request;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use error::{ApiError, ApiResult};
use services::limits::{ClientIp, Counter};
use state::Shared;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};

/// The sample app: its policy is published on first start, and the demo's records, people and
/// logins are its.
pub const SAMPLE_APP: &str = "acme-erp";

/// How the server is set up. Every limit has a default fit for one machine; see
/// `docs/security.md`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The data directory (database, signing key, admin token); created on first start.
    /// Not used with `--database`.
    #[arg(long, default_value = "fieldgate-data")]
    pub data: PathBuf,
    /// A PostgreSQL database every instance shares (`postgres://user@host:port/db`), instead
    /// of SQLite in `--data`.
    #[arg(long, env = "FIELDGATE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// A file holding the signing key (base64, as `fieldgate keygen` writes it), or the key
    /// itself in `FIELDGATE_SIGNING_KEY`. Required with `--database` (every instance the same);
    /// without it, `<data>/signing.key`, made on first start.
    #[arg(long)]
    pub signing_key: Option<PathBuf>,
    /// During a key rotation, the next signing key (or `FIELDGATE_NEXT_SIGNING_KEY`): every
    /// bundle is signed by both keys and `/v1/config` trusts both, so clients can move to the
    /// new key before the old one stops signing (docs/deploy.md).
    #[arg(long)]
    pub next_signing_key: Option<PathBuf>,
    /// After a rotation, the public key (`signing.pub`) of a retired key that signed versions
    /// stored before it: accepted by the start-up check that stored versions were signed
    /// here, and never trusted for serving (repeat for several).
    #[arg(long)]
    pub retired_key: Vec<PathBuf>,
    /// A file holding the key login cookies are signed with (any secret text), or the key
    /// itself in `FIELDGATE_COOKIE_KEY`. Required with `--database`; without it,
    /// `<data>/cookie.key`, made on first start.
    #[arg(long)]
    pub cookie_key: Option<PathBuf>,
    /// Where to listen (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Also write each signed bundle here as `<app>/v<n>.json` plus `<app>/latest.json`.
    #[arg(long)]
    pub publish_dir: Option<PathBuf>,
    /// The token of the admin `admin` (default: `<data>/admin.token`, made and printed on
    /// first start). An empty token is refused.
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
    /// Another origin the pages are served from (behind a proxy), accepted on state-changing
    /// requests made with the login cookie (repeat for several).
    #[arg(long)]
    pub public_origin: Vec<String>,
    /// A token that may read `GET /metrics` (besides admins), for a Prometheus scraper.
    #[arg(long, env = "FIELDGATE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// How log lines are written on stderr: `text` or `json` (filter with `FIELDGATE_LOG`,
    /// e.g. `warn` or `fieldgate::http=info`).
    #[arg(long, value_enum, default_value_t)]
    pub log_format: http::logs::LogFormat,
    /// Serve the whole bundle without a token. It holds every person's personal grants,
    /// denies and limits: turn it on only where that is not sensitive.
    #[arg(long)]
    pub public_bundle: bool,
    /// Turn off the demo login (`POST /v1/login` picks a person with no password).
    #[arg(long = "no-demo-login", action = clap::ArgAction::SetFalse)]
    pub demo_login: bool,
    /// Most open connections in total.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Most open connections from one client address.
    #[arg(long, default_value_t = 256)]
    pub max_connections_per_client: usize,
    /// Most open event streams (`/v1/events`) in total.
    #[arg(long, default_value_t = 512)]
    pub max_streams: usize,
    /// Most open event streams from one client address.
    #[arg(long, default_value_t = 16)]
    pub max_streams_per_client: usize,
    /// How long a client has to send a request's headers.
    #[arg(long, default_value = "10s")]
    pub header_timeout: humantime::Duration,
    /// How long a client has to send a request's body.
    #[arg(long, default_value = "30s")]
    pub body_timeout: humantime::Duration,
    /// Let `PUT /v1/apps/{app}/directory?apply=now` change the people at once, unreviewed
    /// (for an identity-provider sync); without it every directory change goes into the
    /// admin's draft and takes effect when published.
    #[arg(long)]
    pub directory_apply_now: bool,
    /// How long an access diff may run before it gives up (`diff_too_large`).
    #[arg(long, default_value = "10s")]
    pub diff_deadline: humantime::Duration,
    /// The most access changes a diff reports before it gives up (`diff_too_large`).
    #[arg(long, default_value_t = 200_000)]
    pub diff_max_changes: usize,
    /// Decision events one user may send per minute.
    #[arg(long, default_value_t = 600)]
    pub decision_rate: u32,
    /// Decision events one user may send at once (a burst).
    #[arg(long, default_value_t = 1000)]
    pub decision_burst: u32,
    /// Decision events stored per user at most.
    #[arg(long, default_value_t = 100_000)]
    pub decision_quota: u64,
    /// How long data access log entries are kept.
    #[arg(long, default_value = "90d")]
    pub access_retention: humantime::Duration,
    /// How long reported decision events are kept (a chain goes on past its pruned events).
    #[arg(long, default_value = "90d")]
    pub decision_retention: humantime::Duration,
    /// Refusals of one user that raise an alert within `--alert-window`.
    #[arg(long, default_value_t = 5)]
    pub alert_refusals: usize,
    /// The window of `--alert-refusals`.
    #[arg(long, default_value = "10m")]
    pub alert_window: humantime::Duration,
    /// How long after a later version replaced it a version may still be pinned in decision
    /// requests (`"version"`): older pins get 410 `version_gone`, so a backend cannot keep
    /// answering with rights revoked since.
    #[arg(long, default_value = "1d")]
    pub max_version_age: humantime::Duration,
    /// Where alerts are also posted as JSON (`http://` or `https://`; checked at start).
    #[arg(long)]
    pub alert_webhook: Option<String>,
    /// A PEM file of the CA certificates an https `--alert-webhook` is checked against (default:
    /// the Mozilla roots built in).
    #[arg(long)]
    pub alert_webhook_ca: Option<PathBuf>,
    /// A resource not reviewed for longer than this is flagged in the activity view.
    #[arg(long, default_value = "90d")]
    pub review_period: humantime::Duration,
}

/// Runs blocking work (the store, diffs) off the async threads.
///
/// # Errors
/// What `f` returns, or 500 when the task fails.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

pub use start::open;

/// The HTTP routes: the API under `/v1`, the npm package under `/pkg`, the built demo pages.
pub fn router(state: Shared, www: &Path, pkg: &Path) -> Router {
    let api = Router::new()
        .route("/config", get(http::policy_api::config))
        .route("/events", get(http::policy_api::events))
        .route("/apps/{app}/bundle", get(http::policy_api::get_bundle))
        .route("/apps/{app}/check", post(http::decision_api::check))
        .route("/apps/{app}/filter", post(http::decision_api::filter))
        .route("/apps/{app}/versions", get(http::policy_api::versions))
        .route("/apps/{app}/versions/{n}", get(http::policy_api::version))
        .route("/apps/{app}/diff", get(http::policy_api::diff))
        .route("/apps/{app}/policy", post(http::policy_api::publish_policy))
        .route(
            "/apps/{app}/rollback-to/{n}",
            post(http::policy_api::rollback),
        )
        .route(
            "/apps/{app}/reviews",
            get(http::reviews::list).post(http::reviews::open),
        )
        .route("/apps/{app}/reviews/{id}", get(http::reviews::get))
        .route(
            "/apps/{app}/reviews/{id}/decisions",
            post(http::reviews::decide),
        )
        .route("/apps/{app}/reviews/{id}/close", post(http::reviews::close))
        .route(
            "/apps/{app}/reviews/{id}/report.xlsx",
            get(http::reviews::report_xlsx),
        )
        .route(
            "/apps/{app}/reviews/{id}/report.html",
            get(http::reviews::report_html),
        )
        .route("/reviews/mine", get(http::reviews::mine))
        .route(
            "/apps/{app}/draft",
            get(http::saved::get)
                .put(http::saved::put)
                .delete(http::saved::delete),
        )
        .route(
            "/apps/{app}/directory",
            get(http::policy_api::get_directory).put(http::policy_api::put_directory),
        )
        .route(
            "/decisions",
            post(http::decisions::decisions).get(http::decisions::recent_decisions),
        )
        .merge(demo::routes())
        .route("/admins", get(http::admins::list).post(http::admins::add))
        .route("/admins/me", get(http::admins::me))
        .route("/admins/transfer", post(http::admins::transfer))
        .route("/admins/{name}", delete(http::admins::remove))
        .route("/audit", get(http::audit::list))
        .route(
            "/admin/events-ticket",
            post(http::policy_api::events_ticket),
        )
        .route("/audit/access", get(http::access::list))
        .route("/audit/alerts", get(http::access::alerts))
        .route("/drafts/transfer", post(http::drafts::transfer_draft))
        .route("/drafts/check", post(http::drafts::check_draft))
        .route("/drafts/person", post(http::drafts::person))
        .route("/drafts/dated", post(http::drafts::dated))
        .route("/drafts/matrix/export", post(http::drafts::matrix_export))
        .route("/drafts/matrix/import", post(http::drafts::matrix_import))
        .route("/drafts/matrix/edit", post(http::drafts::matrix_edit))
        .fallback(|| async { ApiError::not_found("no such endpoint") });
    let page = |name: &str| ServeFile::new(www.join(name));
    Router::new()
        .nest("/v1", api)
        .nest_service("/pkg", ServeDir::new(pkg))
        .nest_service("/dist", ServeDir::new(www.join("dist")))
        .route_service("/", page("index.html"))
        .route_service("/index.html", page("index.html"))
        .route_service("/admin", page("admin.html"))
        .route_service("/admin.html", page("admin.html"))
        .route_service("/style.css", page("style.css"))
        .route_service("/sw.js", page("sw.js"))
        .route_service("/manifest.json", page("manifest.json"))
        .route("/healthz", get(http::health::healthz))
        .route("/readyz", get(http::health::readyz))
        .route("/metrics", get(http::metrics::scrape))
        .fallback(|| async { ApiError::not_found("no such page") })
        .layer(middleware::from_fn(page_headers))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(http::lang::localize_errors))
        .layer(middleware::from_fn(http::logs::requests))
        .with_state(state)
}

/// Error answers from below the handlers (a bad path or query parameter, a wrong method) are
/// plain text; they leave as JSON with a code like every other error.
async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if status.as_u16() < 400 || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut out = error::as_json(status, &String::from_utf8_lossy(&bytes)).into_response();
    *out.status_mut() = parts.status;
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k, v.clone());
        }
    }
    out
}

/// What a page may load and who may frame it: scripts and styles from this server only (the
/// package compiles its WebAssembly: `wasm-unsafe-eval`), no plugins, no framing by other
/// sites (clickjacking); and no guessing of content types. Set on every answer (an API answer
/// rendered by a browser gets the same).
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// [`CSP`] for the demo's form page, which also allows `unsafe-eval`: its form library
/// (react-jsonschema-form's AJV validator) compiles each schema's validator into a function at
/// run time. The package itself needs no eval (tested on a page whose CSP forbids it); the
/// console and every other answer keep the strict policy.
const FORM_PAGE_CSP: &str = "default-src 'self'; \
                   script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers ([`CSP`], `X-Frame-Options`, `X-Content-Type-Options`,
/// `Referrer-Policy`) where an answer has none of its own.
async fn page_headers(req: Request, next: Next) -> Response {
    let form_page = matches!(req.uri().path(), "/" | "/index.html");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = if form_page { FORM_PAGE_CSP } else { CSP };
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, header::HeaderValue::from_static(value));
        }
    }
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
    http::logs::init(opts.log_format);
    rt.block_on(async move {
        let (state, notes) = tokio::task::block_in_place(|| open(&opts))?;
        for n in notes {
            println!("{n}");
        }
        let mut opts = opts;
        let (fit, note) = services::limits::fit_descriptors(opts.max_connections);
        if let Some(note) = note {
            println!("{note}");
        }
        opts.max_connections = fit;
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", opts.addr))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!(
            "fieldgate serve: listening on http://{addr} (data in {})",
            opts.data.display()
        );
        let stopping = state.stopping.clone();
        let app = router(state, &opts.www, &opts.pkg);
        serve(listener, app, &opts, &stopping).await;
        Ok(())
    })
}

/// Accepts connections under the connection caps and serves each with HTTP/1.1, headers
/// bounded in time; stops accepting at Ctrl-C or SIGTERM, ends event streams (`stopping`) and
/// lets open requests finish.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    opts: &Options,
    stopping: &tokio::sync::watch::Sender<bool>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tokio::io::AsyncWriteExt;
    use tower::ServiceExt;
    let connections = Arc::new(Counter::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout: std::time::Duration = opts.header_timeout.into();
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let (mut stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(target: "fieldgate::http", "accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let ip = peer.ip();
        let slot = match connections.take(ip, opts.max_connections_per_client, opts.max_connections)
        {
            Ok(s) => s,
            Err(full) => {
                let e = services::limits::refusal(full, "connections");
                let body = serde_json::to_string(&e).unwrap_or_default();
                let status = e.code.status();
                tokio::spawn(async move {
                    let head = format!(
                        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\nretry-after: 5\r\n\
                         connection: close\r\ncontent-length: {}\r\n\r\n",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or(""),
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
                continue;
            }
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ClientIp(ip));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    stopping.send_replace(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown()).await;
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

//! The server's logs through `tracing`, on stderr: one line per request (method, path, route,
//! status, time and a request id, also sent back as `X-Request-Id`) and the server's own events,
//! as text or JSON (`--log-format json`), filtered by `FIELDGATE_LOG` (default `info`). The
//! same middleware counts each request for `GET /metrics`.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line (for a log collector).
    Json,
}

/// Starts writing logs (once per process; later calls change nothing).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("FIELDGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The request's id: the caller's `X-Request-Id` when it is a plain token of at most 64
/// characters (a balancer's), else a new random one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            crate::host::keys::random_hex().map_or_else(|_| "-".into(), |h| h[..16].to_string())
        })
}

/// Logs and counts each request; every event while it is answered carries its id.
pub async fn requests(req: Request, next: Next) -> Response {
    let started = crate::host::clock::instant();
    let id = request_id(req.headers());
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.run(req).instrument(span.clone()).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    crate::server::services::metrics::request(&method, &route, status, elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            target: "fieldgate::http",
            request_id = %id,
            method = %method,
            path = %path,
            route = %route,
            status,
            micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    });
    res
}

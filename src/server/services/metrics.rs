//! The server's Prometheus metrics: requests by route and status with latency histograms,
//! decisions, publications, refusals, store errors, the PostgreSQL pool and the access log's
//! queue. One set per process (a process serves one server), so any layer can count without
//! the state; `GET /metrics` (`http::metrics`) writes them out.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;

/// Label pairs.
type Labels = Vec<(&'static str, String)>;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    decisions: Family<Labels, Counter>,
    publishes: Counter,
    refusals: Family<Labels, Counter>,
    store_errors: Family<Labels, Counter>,
    pool: Family<Labels, Gauge>,
    queue: Gauge,
}

/// Request latency buckets: 0.5 ms to about 8 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fieldgate");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let latency =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by method and route",
            latency.clone(),
        );
        let decisions = Family::<Labels, Counter>::default();
        registry.register(
            "decisions",
            "Decision API answers (check), by outcome: allow, deny, error",
            decisions.clone(),
        );
        let publishes = Counter::default();
        registry.register(
            "publishes",
            "Versions published (rollbacks included)",
            publishes.clone(),
        );
        let refusals = Family::<Labels, Counter>::default();
        registry.register(
            "refusals",
            "Data API refusals written to the access log, by code",
            refusals.clone(),
        );
        let store_errors = Family::<Labels, Counter>::default();
        registry.register(
            "store_errors",
            "Store calls that failed, by kind: unavailable, other",
            store_errors.clone(),
        );
        let pool = Family::<Labels, Gauge>::default();
        registry.register(
            "store_pool_connections",
            "PostgreSQL pool connections, by state: open, idle, waiting (callers)",
            pool.clone(),
        );
        let queue = Gauge::default();
        registry.register(
            "access_log_queue",
            "Access log entries queued and not yet written",
            queue.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            decisions,
            publishes,
            refusals,
            store_errors,
            pool,
            queue,
        }
    }
}

/// This process's metrics.
fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Counts an answered request.
pub fn request(method: &str, route: &str, status: u16, seconds: f64) {
    let m = metrics();
    let (method, route) = (method.to_string(), route.to_string());
    m.requests
        .get_or_create(&vec![
            ("method", method.clone()),
            ("route", route.clone()),
            ("status", status.to_string()),
        ])
        .inc();
    m.latency
        .get_or_create(&vec![("method", method), ("route", route)])
        .observe(seconds);
}

/// Counts a decision API answer (`allow`, `deny` or `error`).
pub fn decision(outcome: &'static str) {
    metrics()
        .decisions
        .get_or_create(&vec![("outcome", outcome.to_string())])
        .inc();
}

/// Counts a publication.
pub fn published() {
    metrics().publishes.inc();
}

/// Counts a refusal written to the access log.
pub fn refused(code: &str) {
    metrics()
        .refusals
        .get_or_create(&vec![("code", code.to_string())])
        .inc();
}

/// Counts a failed store call (`unavailable` or `other`).
pub fn store_error(kind: &'static str) {
    metrics()
        .store_errors
        .get_or_create(&vec![("kind", kind.to_string())])
        .inc();
}

/// Every metric in the text format, with the pool's state and the access log's queue as they
/// are now; `None` if they could not be written.
pub fn text(pool: Option<crate::server::store::PoolStatus>, queued: usize) -> Option<String> {
    let m = metrics();
    if let Some(p) = pool {
        for (name, n) in [("open", p.open), ("idle", p.idle), ("waiting", p.waiting)] {
            m.pool
                .get_or_create(&vec![("state", name.to_string())])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    m.queue.set(i64::try_from(queued).unwrap_or(i64::MAX));
    let mut text = String::new();
    encode(&mut text, &m.registry).ok()?;
    Some(text)
}

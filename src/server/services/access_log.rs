//! The data access log, written where enforcement happens: each data API request (and each
//! event a client reports) becomes an entry, queued off the request path and written in
//! batches by one thread; old entries are pruned by retention. Refusals feed the alerts: a
//! user refused more than N times in M minutes raises one, stored, pushed to admin pages and
//! posted to a webhook.

use crate::host::now_ms;
use crate::host::sync::Unpoisoned;
use crate::server::store::{AccessEntry, Alert, Store};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most entries one batch writes.
const BATCH: usize = 1000;

/// How long a batch waits for more entries.
const LINGER: Duration = Duration::from_millis(100);

/// How often old entries are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

enum Msg {
    /// An entry, and who waits to hear that it is written (true) or was dropped (false).
    Entry(Box<AccessEntry>, Option<tokio::sync::oneshot::Sender<bool>>),
    /// Answered once everything queued before it is written.
    Flush(mpsc::Sender<()>),
}

/// How long a sensitive read waits for its entry to be written before it is refused.
pub(crate) const DURABLE_WAIT: Duration = Duration::from_secs(10);

/// What the access log is told to do about refusals.
#[derive(Debug, Clone)]
pub struct AlertRules {
    /// Refusals that raise an alert ...
    pub refusals: usize,
    /// ... within this window, ms.
    pub window_ms: i64,
    /// Where alerts are also posted (`http://` or `https://`).
    pub webhook: Option<String>,
    /// The CA file an https webhook's certificate is checked against (else the bundled roots).
    pub webhook_ca: Option<std::path::PathBuf>,
}

/// How long entries are kept, ms.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Access log entries.
    pub access_ms: i64,
    /// Reported decision events.
    pub decisions_ms: i64,
}

/// The log's handle: queueing entries, the refusal windows per user.
pub struct AccessLog {
    tx: Mutex<mpsc::SyncSender<Msg>>,
    /// Entries queued and not yet taken by the writer (`GET /metrics`).
    queued: Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) rules: AlertRules,
    /// Per user: the times of recent refusals, and until when an alert was already raised.
    recent: Mutex<HashMap<String, (VecDeque<i64>, i64)>>,
}

impl AccessLog {
    /// Starts the writer thread on `store`, pruning entries (and decision events) past
    /// `retention`.
    pub fn start(store: Arc<dyn Store>, retention: Retention, rules: AlertRules) -> AccessLog {
        // Bounded: a writer that falls behind slows requests down rather than growing memory.
        let (tx, rx) = mpsc::sync_channel(50_000);
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let taken = queued.clone();
        std::thread::spawn(move || write_loop(&*store, &rx, retention, &taken));
        AccessLog {
            tx: Mutex::new(tx),
            queued,
            rules,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Queues an entry (with `written` told when it is in the store); returns the alert it
    /// raises, if any.
    pub(crate) fn record(
        &self,
        e: AccessEntry,
        written: Option<tokio::sync::oneshot::Sender<bool>>,
    ) -> Option<Alert> {
        let alert = if e.refused() {
            self.note_refusal(&e)
        } else {
            None
        };
        if e.refused() {
            crate::server::services::metrics::refused(&e.outcome);
        }
        let tx = self.tx.locked().clone();
        self.queued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if tx.send(Msg::Entry(Box::new(e), written)).is_err() {
            self.queued
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(
                target: "fieldgate::access",
                "the writer has stopped; an entry was not written"
            );
        }
        alert
    }

    /// Entries queued and not yet taken by the writer.
    pub fn queued(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until everything queued so far is written.
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        let tx = self.tx.locked().clone();
        if tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(30));
        }
    }

    fn note_refusal(&self, e: &AccessEntry) -> Option<Alert> {
        let mut recent = self.recent.locked();
        if recent.len() > 100_000 {
            recent.retain(|_, (times, _)| {
                times
                    .back()
                    .is_some_and(|t| e.at - t < self.rules.window_ms)
            });
        }
        let (times, quiet_until) = recent.entry(e.user.clone()).or_default();
        times.push_back(e.at);
        while times
            .front()
            .is_some_and(|t| e.at - t > self.rules.window_ms)
        {
            times.pop_front();
        }
        if times.len() < self.rules.refusals || e.at < *quiet_until {
            return None;
        }
        // One alert per window per user.
        *quiet_until = e.at + self.rules.window_ms;
        Some(Alert {
            at: e.at,
            user: e.user.clone(),
            detail: json!({
                "refusals": times.len(),
                "window_ms": self.rules.window_ms,
                "last": e,
            }),
        })
    }
}

/// Deletes what is past retention (every instance sharing a store does: deleting twice is
/// harmless).
fn prune(store: &dyn Store, retention: Retention) {
    let now = now_ms();
    let passes = [
        (
            "access log entries",
            store.prune_access(now.saturating_sub(retention.access_ms)),
        ),
        (
            "decision events",
            store.prune_decisions(now.saturating_sub(retention.decisions_ms)),
        ),
    ];
    for (what, pruned) in passes {
        match pruned {
            Ok(n) if n > 0 => {
                tracing::info!(target: "fieldgate::access", "pruned {n} {what} past retention");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(target: "fieldgate::access", "pruning {what} failed: {e}"),
        }
    }
}

/// What the writer took off the queue for one batch.
#[derive(Default)]
struct Queued {
    batch: Vec<AccessEntry>,
    waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
    flushes: Vec<mpsc::Sender<()>>,
}

impl Queued {
    fn take(&mut self, m: Msg) {
        match m {
            Msg::Entry(e, w) => {
                self.batch.push(*e);
                self.waiting.extend(w);
            }
            Msg::Flush(done) => self.flushes.push(done),
        }
    }
}

fn write_loop(
    store: &dyn Store,
    rx: &mpsc::Receiver<Msg>,
    retention: Retention,
    queued: &std::sync::atomic::AtomicUsize,
) {
    let mut last_prune: Option<std::time::Instant> = None;
    loop {
        if last_prune.is_none_or(|t| t.elapsed() > PRUNE_EVERY) {
            prune(store, retention);
            last_prune = Some(crate::host::clock::instant());
        }
        let Ok(first) = rx.recv_timeout(PRUNE_EVERY) else {
            if matches!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected)) {
                return;
            }
            continue;
        };
        let mut q = Queued::default();
        q.take(first);
        // Linger for more entries only while nobody waits: a sensitive read is answered after
        // its entry is written, so its batch goes at once (with whatever else is queued).
        let until = crate::host::clock::instant() + LINGER;
        while q.batch.len() < BATCH && q.flushes.is_empty() && q.waiting.is_empty() {
            let left = until.saturating_duration_since(crate::host::clock::instant());
            match rx.recv_timeout(left) {
                Ok(m) => q.take(m),
                Err(_) => break,
            }
        }
        while q.batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => q.take(m),
                Err(_) => break,
            }
        }
        queued.fetch_sub(q.batch.len(), std::sync::atomic::Ordering::Relaxed);
        let mut written = true;
        if !q.batch.is_empty() {
            // A failing database keeps the entries for the next try, up to a bound.
            let mut tries = 0;
            while let Err(e) = store.add_access(&q.batch) {
                tries += 1;
                tracing::warn!(
                    target: "fieldgate::access",
                    "writing {} entries failed ({e}), try {tries}",
                    q.batch.len()
                );
                if tries >= 5 {
                    tracing::error!(
                        target: "fieldgate::access",
                        "{} entries dropped",
                        q.batch.len()
                    );
                    written = false;
                    break;
                }
                std::thread::sleep(Duration::from_millis(200 * tries));
            }
        }
        for w in q.waiting {
            let _ = w.send(written);
        }
        for done in q.flushes {
            let _ = done.send(());
        }
    }
}

/// An alert as admin event streams carry it.
pub fn alert_event(alert: &Alert) -> String {
    json!({"type": "alert", "alert": alert}).to_string()
}

/// A webhook URL as the server can post to: `http://` or `https://` with a host (and for https,
/// a CA file that reads), checked at start so a mistyped scheme is not found only when the
/// first alert is lost.
///
/// # Errors
/// Why it cannot be used.
pub fn check_webhook(url: &str, ca: Option<&std::path::Path>) -> Result<hyper::Uri, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            crate::host::tls::client_config(crate::host::tls::Verify::Full, ca)?;
        }
        _ => return Err("the URL must start with http:// or https://".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL names no host".into());
    }
    Ok(uri)
}

/// POSTs `body` to the webhook, within five seconds. An https webhook's certificate is
/// checked in full (chain and name) against `ca`, else the bundled roots.
pub(crate) async fn post_json(
    url: &str,
    ca: Option<&std::path::Path>,
    body: &Value,
) -> Result<(), String> {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let uri = check_webhook(url, ca)?;
    let req = hyper::Request::post(uri)
        .header("content-type", "application/json")
        .body(Full::new(axum::body::Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let tls = crate::host::tls::client_config(crate::host::tls::Verify::Full, ca)?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    let client = Client::builder(TokioExecutor::new()).build(connector);
    let res = tokio::time::timeout(Duration::from_secs(5), client.request(req))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| format!("{e:?}"))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", res.status()))
    }
}

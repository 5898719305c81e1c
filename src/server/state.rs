//! What every handler shares: the store, the signing key, the options, the compiled current
//! policy and the directory per app, the cache of signed bundles, credentials, limits and the
//! event channel.

use super::Options;
use crate::admin::{Directory, Person};
use crate::bundle::{Encoding, SecretKey};
use crate::core::{Checked, Policy};
use crate::host::sync::{Unpoisoned, UnpoisonedRw};
use crate::server::error::{ApiError, ApiResult};
use crate::server::services::credentials::Credentials;
use crate::server::services::limits::{RateLimiter, StreamCounter};
use crate::server::store::Store;
use crate::server::SAMPLE_APP;
use axum::body::Bytes;
use axum::http::HeaderValue;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::broadcast;

/// A stored version a caller pinned: its app, the compiled version, and when a later version
/// replaced it (Unix milliseconds).
pub type Pinned = (String, Arc<Current>, i64);

/// How many pinned versions are kept compiled.
const PINNED: usize = 8;

/// The compiled current version of one app.
pub struct Current {
    /// Its version number.
    pub version: u64,
    /// The document with its compiled policy, checked once.
    pub checked: Checked,
}

impl Current {
    /// The document.
    pub fn doc(&self) -> &Value {
        self.checked.doc()
    }

    /// The compiled policy.
    pub fn policy(&self) -> &Arc<Policy> {
        self.checked.policy()
    }
}

/// A signed bundle ready to serve.
pub struct Served {
    /// The version it carries.
    pub version: u64,
    /// The bytes.
    pub bytes: Bytes,
    /// Its strong ETag (a hash of the bytes).
    pub etag: HeaderValue,
    /// When it should be re-signed (half its lifetime), Unix milliseconds.
    pub refresh_at_ms: i64,
    /// For a minimized bundle, the subject it was made for: a person moved in the directory
    /// (department, groups, roles) gets a new bundle, not the cached one, before any publish.
    pub subject: Option<crate::core::Subject>,
}

/// Which bundle: app, user (for minimized bundles) and encoding.
pub type BundleKey = (String, Option<String>, Encoding);

/// The server's shared state.
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The signing key.
    pub key: SecretKey,
    /// During a rotation, the next signing key: bundles are signed by both.
    pub next_key: Option<SecretKey>,
    /// The key login cookies are signed with (the same on every instance).
    pub cookie_key: Vec<u8>,
    /// How the server was started.
    pub options: Options,
    /// How long a served bundle is valid, ms.
    pub bundle_ttl_ms: i64,
    /// The current policy per app.
    pub current: RwLock<HashMap<String, Arc<Current>>>,
    /// Signed bundles, made on first request after a publication.
    pub bundles: RwLock<HashMap<BundleKey, Arc<Served>>>,
    /// Directories per app, read from the store on first use after a change.
    pub directories: RwLock<HashMap<String, Arc<Directory>>>,
    /// Admin and service credentials.
    pub credentials: Credentials,
    /// Open event streams, per client and in total.
    pub streams: StreamCounter,
    /// Decision events per user.
    pub decision_rate: RateLimiter,
    /// Serialises writes to `--publish-dir`, so `latest.json` never moves backwards.
    pub publish_files: Mutex<()>,
    /// Serialises publications made by this process.
    pub publishing: Mutex<()>,
    /// `published` events for `/v1/events`.
    pub events: broadcast::Sender<String>,
    /// Events only admin pages receive (alerts, audit entries).
    pub admin_events: broadcast::Sender<String>,
    /// The data access log.
    pub access: crate::server::services::access_log::AccessLog,
    /// Versions other than the current one that callers pinned, compiled (the last few).
    pub pinned: Mutex<Vec<Pinned>>,
    /// Events tickets used on this instance (by hash) and when each expires.
    pub tickets: Mutex<HashMap<String, i64>>,
    /// Set when the server stops: event streams end then, rather than hold the shutdown
    /// until its time limit (their browsers reconnect to another instance or the restarted one).
    pub stopping: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// The current policy of `app`.
    pub fn current(&self, app: &str) -> Option<Arc<Current>> {
        self.current.reading().get(app).cloned()
    }

    /// The directory of `app` (empty when none is stored).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn directory(self: &Arc<Self>, app: &str) -> ApiResult<Arc<Directory>> {
        if let Some(d) = self.directories.reading().get(app) {
            return Ok(d.clone());
        }
        let s = self.clone();
        let a = app.to_string();
        let stored = crate::server::blocking(move || Ok(s.store.directory(&a)?)).await?;
        let d = match stored {
            Some((people, _, _)) => Directory::from_json(&people, None).map_err(|e| {
                ApiError::internal(format!("the stored directory of `{app}` is bad: {e:?}"))
            })?,
            None => Directory::default(),
        };
        let d = Arc::new(d);
        self.directories
            .writing()
            .insert(app.to_string(), d.clone());
        Ok(d)
    }

    /// Version `n` of `app`, if a caller pinned it lately.
    pub fn pinned(&self, app: &str, n: u64) -> Option<(Arc<Current>, i64)> {
        let pinned = self.pinned.locked();
        pinned
            .iter()
            .find(|p| p.0 == app && p.1.version == n)
            .map(|p| (p.1.clone(), p.2))
    }

    /// Keeps a compiled stored version for the next caller that pins it, forgetting the
    /// oldest beyond `PINNED`.
    pub fn pin(&self, app: &str, c: Arc<Current>, superseded_at: i64) {
        let mut pinned = self.pinned.locked();
        pinned.retain(|p| !(p.0 == app && p.1.version == c.version));
        pinned.push((app.to_string(), c, superseded_at));
        let over = pinned.len().saturating_sub(PINNED);
        pinned.drain(..over);
    }

    /// Forgets the cached directory of `app` (after a change).
    pub fn forget_directory(&self, app: &str) {
        self.directories.writing().remove(app);
    }

    /// A person of the demo app's directory, by id.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn person(self: &Arc<Self>, id: &str) -> ApiResult<Option<Person>> {
        Ok(self.directory(SAMPLE_APP).await?.get(id).cloned())
    }
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

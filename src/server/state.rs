//! What every handler shares: the store, the signing key, secrets, the compiled current policy
//! per app, the cache of signed bundles, demo users and the event channel.

use super::store::Store;
use super::users::DemoUser;
use crate::bundle::{Encoding, SecretKey};
use crate::core::Policy;
use axum::body::Bytes;
use axum::http::HeaderValue;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// The compiled current version of one app.
pub struct Current {
    /// Its version number.
    pub version: u64,
    /// The document.
    pub doc: Value,
    /// The compiled policy.
    pub policy: Arc<Policy>,
}

/// A signed bundle ready to serve.
pub struct Served {
    /// The version it carries.
    pub version: u64,
    /// The bytes.
    pub bytes: Bytes,
    /// Its strong ETag (`"sha256:<hex>"`).
    pub etag: HeaderValue,
    /// When it should be re-signed (half its lifetime), Unix milliseconds.
    pub refresh_at_ms: i64,
}

/// Which bundle: app, user (for minimized bundles) and encoding.
pub type BundleKey = (String, Option<String>, Encoding);

/// The server's shared state.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The signing key.
    pub key: SecretKey,
    /// The admin bearer token.
    pub admin_token: String,
    /// The key of login cookies.
    pub cookie_key: [u8; 32],
    /// How long a served bundle is valid, ms.
    pub bundle_ttl_ms: i64,
    /// Where signed bundles are also written as static files.
    pub publish_dir: Option<PathBuf>,
    /// The demo users (login endpoint).
    pub users: Vec<DemoUser>,
    /// The current policy per app.
    pub current: RwLock<HashMap<String, Arc<Current>>>,
    /// Signed bundles, made on first request after a publication.
    pub bundles: RwLock<HashMap<BundleKey, Arc<Served>>>,
    /// `published` events for `/v1/events`.
    pub events: broadcast::Sender<String>,
}

impl AppState {
    /// The current policy of `app`.
    pub fn current(&self, app: &str) -> Option<Arc<Current>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(app)
            .cloned()
    }

    /// A demo user by id.
    pub fn user(&self, id: &str) -> Option<&DemoUser> {
        self.users.iter().find(|u| u.id == id)
    }
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

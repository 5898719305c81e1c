//! Named admin and service credentials: tokens stored as their hash, a cache the extractors
//! read (at most every half second from the store), and the CLI's `admin|service
//! add|remove|list`.

use crate::host::keys::hex;
use crate::host::sync::UnpoisonedRw;
use crate::server::error::ApiResult;
use crate::server::store::{Credential, PostgresStore, SqliteStore, Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a removed credential may still be honoured.
const CREDENTIALS_TTL: Duration = Duration::from_millis(500);

/// SHA-256 of a token, hex: what is stored and compared (so comparing takes the same time
/// wherever two tokens differ).
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

/// `(name, kind)` of each credential, by token hash.
type ByHash = HashMap<String, (String, String)>;

/// Credentials by token hash, read from the store at most every half second.
#[derive(Default)]
pub struct Credentials(RwLock<Option<(Instant, Arc<ByHash>)>>);

impl Credentials {
    /// `(name, kind)` of the credential with this token hash.
    pub fn lookup(&self, store: &dyn Store, hash: &str) -> ApiResult<Option<(String, String)>> {
        let cached = self.0.reading().clone();
        if let Some((at, map)) = &cached {
            if at.elapsed() < CREDENTIALS_TTL {
                return Ok(map.get(hash).cloned());
            }
        }
        let all = match store.credentials() {
            Ok(all) => all,
            // While the database is out of reach the credentials last read still hold (none
            // can be added or removed meanwhile): bundles and decisions keep being served.
            Err(StoreError::Unavailable(_)) if cached.is_some() => {
                return Ok(cached.and_then(|(_, map)| map.get(hash).cloned()));
            }
            Err(e) => return Err(e.into()),
        };
        let map: ByHash = all
            .into_iter()
            .map(|c| (c.token_hash, (c.name, c.kind)))
            .collect();
        let found = map.get(hash).cloned();
        *self.0.writing() = Some((crate::host::clock::instant(), Arc::new(map)));
        Ok(found)
    }
}

/// Where the credentials are: the data directory, unless a database URL is given.
pub struct Place<'a> {
    /// The data directory.
    pub data: &'a Path,
    /// A PostgreSQL database (`--database`).
    pub database: Option<&'a str>,
}

/// Adds a credential of `kind` called `name` and returns its token (shown once; only its
/// hash is kept).
///
/// # Errors
/// A message when the database cannot be opened or written.
pub fn add(at: &Place<'_>, kind: &str, name: &str) -> Result<String, String> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err("a name is 1 to 100 characters".into());
    }
    let store = open(at)?;
    let token = crate::host::keys::random_hex()?;
    store
        .put_credential(&Credential {
            name: name.to_string(),
            kind: kind.to_string(),
            token_hash: token_hash(&token),
            created_at: crate::host::now_ms(),
        })
        .map_err(|e| e.to_string())?;
    Ok(token)
}

/// Removes a credential; whether there was one.
///
/// # Errors
/// A message when the database cannot be opened or written.
pub fn remove(at: &Place<'_>, kind: &str, name: &str) -> Result<bool, String> {
    open(at)?
        .remove_credential(name, kind)
        .map_err(|e| e.to_string())
}

/// The credentials of a kind: `(name, created_at)`.
///
/// # Errors
/// A message when the database cannot be opened.
pub fn list(at: &Place<'_>, kind: &str) -> Result<Vec<(String, i64)>, String> {
    Ok(open(at)?
        .credentials()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|c| c.kind == kind)
        .map(|c| (c.name, c.created_at))
        .collect())
}

fn open(at: &Place<'_>) -> Result<Box<dyn Store>, String> {
    if let Some(url) = at.database {
        return Ok(Box::new(
            PostgresStore::connect(url).map_err(|e| e.to_string())?,
        ));
    }
    let db = at.data.join("fieldgate.db");
    if !db.exists() {
        return Err(format!(
            "`{}` has no database; start `fieldgate serve --data {}` once first",
            at.data.display(),
            at.data.display()
        ));
    }
    Ok(Box::new(
        SqliteStore::open(&db, false).map_err(|e| e.to_string())?,
    ))
}

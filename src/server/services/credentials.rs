//! Named admin and service credentials: tokens stored as their hash, a cache the extractors
//! read (at most every half second from the store), and the CLI's `admin|service
//! add|remove|list`.

use crate::host::keys::hex;
use crate::host::sync::UnpoisonedRw;
use crate::server::error::ApiResult;
use crate::server::store::{AdminScope, Credential, PostgresStore, SqliteStore, Store, StoreError};
use serde_json::json;
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

/// Each credential, by token hash.
type ByHash = HashMap<String, Credential>;

/// Credentials by token hash, read from the store at most every half second.
#[derive(Default)]
pub struct Credentials(RwLock<Option<(Instant, Arc<ByHash>)>>);

impl Credentials {
    /// `(name, kind)` of the credential with this token hash.
    pub fn lookup(&self, store: &dyn Store, hash: &str) -> ApiResult<Option<(String, String)>> {
        Ok(self
            .all(store)?
            .get(hash)
            .map(|c| (c.name.clone(), c.kind.clone())))
    }

    /// What the admin called `name` may change (`None`: everything, or no such admin).
    pub fn scope_of(&self, store: &dyn Store, name: &str) -> ApiResult<Option<AdminScope>> {
        Ok(self
            .all(store)?
            .values()
            .find(|c| c.kind == "admin" && c.name == name)
            .and_then(|c| c.scope.clone()))
    }

    /// Drops what was read, so the next lookup reads the store: after this server changed a
    /// credential, a new token works at once (other instances see it within the half second).
    pub fn forget(&self) {
        *self.0.writing() = None;
    }

    fn all(&self, store: &dyn Store) -> ApiResult<Arc<ByHash>> {
        let cached = self.0.reading().clone();
        if let Some((at, map)) = &cached {
            if at.elapsed() < CREDENTIALS_TTL {
                return Ok(map.clone());
            }
        }
        let all = match store.credentials() {
            Ok(all) => all,
            // While the database is out of reach the credentials last read still hold (none
            // can be added or removed meanwhile): bundles and decisions keep being served.
            Err(StoreError::Unavailable(_)) if cached.is_some() => {
                return Ok(cached.map(|(_, map)| map).unwrap_or_default());
            }
            Err(e) => return Err(e.into()),
        };
        let map: Arc<ByHash> =
            Arc::new(all.into_iter().map(|c| (c.token_hash.clone(), c)).collect());
        *self.0.writing() = Some((crate::host::clock::instant(), map.clone()));
        Ok(map)
    }
}

/// Where the credentials are: the data directory, unless a database URL is given.
pub struct Place<'a> {
    /// The data directory.
    pub data: &'a Path,
    /// A PostgreSQL database (`--database`).
    pub database: Option<&'a str>,
}

/// Adds a credential of `kind` called `name` (an admin with what they may change: `None`,
/// everything) and returns its token (shown once; only its hash is kept).
///
/// # Errors
/// A message when the name is empty or too long, or the database cannot be opened or written.
pub fn add(
    at: &Place<'_>,
    kind: &str,
    name: &str,
    scope: Option<AdminScope>,
) -> Result<String, String> {
    put(&*open(at)?, kind, name, scope)
}

/// Stores a new credential (replacing one of the same name) and returns its token.
///
/// # Errors
/// A message when the name is empty or too long, or the store cannot be written.
pub fn put(
    store: &dyn Store,
    kind: &str,
    name: &str,
    scope: Option<AdminScope>,
) -> Result<String, String> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err("a name is 1 to 100 characters".into());
    }
    let token = crate::host::keys::random_hex()?;
    store
        .put_credential(&Credential {
            name: name.to_string(),
            kind: kind.to_string(),
            token_hash: token_hash(&token),
            created_at: crate::host::now_ms(),
            scope: scope.filter(|s| !s.is_everything()),
        })
        .map_err(|e| e.to_string())?;
    Ok(token)
}

/// Removes a credential; whether there was one. The last unrestricted admin of an app stays
/// (`last_admin`).
///
/// # Errors
/// A message when the database cannot be opened or written, or for `last_admin`.
pub fn remove(at: &Place<'_>, kind: &str, name: &str, by: &str) -> Result<bool, String> {
    remove_in(&*open(at)?, kind, name, by)
}

/// [`remove`] in an open store.
///
/// # Errors
/// A message when the store cannot be written, or for `last_admin`.
pub fn remove_in(store: &dyn Store, kind: &str, name: &str, by: &str) -> Result<bool, String> {
    let all = store.credentials().map_err(|e| e.to_string())?;
    if kind == "admin" {
        let after: Vec<Credential> = all
            .iter()
            .filter(|c| c.name != name || c.kind != kind)
            .cloned()
            .collect();
        keeps_full_admins(&all, &after)?;
    }
    let removed = store
        .remove_credential(name, kind)
        .map_err(|e| e.to_string())?;
    if removed {
        audit(
            store,
            by,
            &format!("{kind}_remove"),
            json!({ "name": name }),
        )?;
    }
    Ok(removed)
}

/// The handover of the admin role (管理员角色变更): `to` gets everything `from` could do (an
/// existing admin keeps their token and adds `from`'s scope; a new one gets a token, returned)
/// and `from`'s token stops working.
///
/// # Errors
/// A message for an unknown `from`, `from` = `to`, a database that cannot be written, or
/// `last_admin`.
pub fn transfer(at: &Place<'_>, from: &str, to: &str, by: &str) -> Result<Option<String>, String> {
    transfer_in(&*open(at)?, from, to, by)
}

/// [`transfer`] in an open store.
///
/// # Errors
/// As [`transfer`].
pub fn transfer_in(
    store: &dyn Store,
    from: &str,
    to: &str,
    by: &str,
) -> Result<Option<String>, String> {
    if from == to {
        return Err("the admin role goes to someone else".into());
    }
    let all = store.credentials().map_err(|e| e.to_string())?;
    let admin = |n: &str| {
        all.iter()
            .find(|c| c.kind == "admin" && c.name == n)
            .cloned()
    };
    let old = admin(from).ok_or_else(|| format!("no admin `{from}`"))?;
    let everything = AdminScope::default();
    let scope_of = |c: &Credential| c.scope.clone().unwrap_or_else(|| everything.clone());
    let (token, successor) = match admin(to) {
        Some(c) => {
            let scope = scope_of(&c).union(&scope_of(&old));
            let kept = Credential {
                scope: Some(scope).filter(|s| !s.is_everything()),
                ..c
            };
            store.put_credential(&kept).map_err(|e| e.to_string())?;
            (None, kept)
        }
        None => {
            let token = put(store, "admin", to, old.scope.clone())?;
            let made = store
                .credentials()
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|c| c.kind == "admin" && c.name == to)
                .ok_or("the new admin was not stored")?;
            (Some(token), made)
        }
    };
    let mut after: Vec<Credential> = all
        .iter()
        .filter(|c| c.kind != "admin" || (c.name != from && c.name != to))
        .cloned()
        .collect();
    after.push(successor.clone());
    keeps_full_admins(&all, &after)?;
    store
        .remove_credential(from, "admin")
        .map_err(|e| e.to_string())?;
    let detail =
        json!({ "from": from, "to": to, "scope": successor.scope, "new_token": token.is_some() });
    audit(store, by, "admin_transfer", detail)?;
    Ok(token)
}

/// `last_admin` unless every app an unrestricted admin administers in `before` still has one
/// in `after`.
fn keeps_full_admins(before: &[Credential], after: &[Credential]) -> Result<(), String> {
    // The apps unrestricted admins cover: `None` for every app.
    let covered = |list: &[Credential]| -> Option<Vec<String>> {
        let mut apps = Vec::new();
        for c in list.iter().filter(|c| c.kind == "admin") {
            match &c.scope {
                None => return None,
                Some(s) if s.restricted() => {}
                Some(s) => apps.extend(s.apps.clone().unwrap_or_default()),
            }
        }
        Some(apps)
    };
    let lost = match (covered(before), covered(after)) {
        (_, None) => Vec::new(),
        (None, Some(_)) => vec!["every app".to_string()],
        (Some(b), Some(a)) => b.into_iter().filter(|x| !a.contains(x)).collect(),
    };
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "last_admin: this would leave no unrestricted admin for {}; add one first",
            lost.join(", ")
        ))
    }
}

/// An audit entry for a credential change made from the command line.
fn audit(store: &dyn Store, by: &str, kind: &str, detail: serde_json::Value) -> Result<(), String> {
    let e = crate::server::store::AuditEntry {
        id: 0,
        at: crate::host::now_ms(),
        actor: by.to_string(),
        kind: kind.to_string(),
        endpoint: "fieldgate admin".into(),
        app: None,
        detail,
    };
    store.add_audit(&e).map_err(|e| e.to_string())
}

/// The credentials of a kind: `(name, created_at, scope)`.
///
/// # Errors
/// A message when the database cannot be opened.
pub fn list(at: &Place<'_>, kind: &str) -> Result<Vec<(String, i64, Option<AdminScope>)>, String> {
    Ok(open(at)?
        .credentials()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|c| c.kind == kind)
        .map(|c| (c.name, c.created_at, c.scope))
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

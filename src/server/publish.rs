//! Publishing and serving policy versions: validate, diff, number, sign, store, make current;
//! signed bundles (whole or minimized for one user) cached until the next publication.

use super::error::{ApiError, ApiResult};
use super::state::{AppState, BundleKey, Current, Served};
use super::store::{NewVersion, Version};
use crate::admin::{diff, Diff};
use crate::bundle::{sign, Encoding, SignOptions};
use crate::core::{minimize, Policy, Subject};
use axum::http::{HeaderValue, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A checked candidate version: its document, compiled policy and diff against the current one.
pub struct Candidate {
    /// The document, stamped with its version.
    pub doc: Value,
    /// Compiled.
    pub policy: Arc<Policy>,
    /// Against the current version (empty for the first).
    pub diff: Diff,
}

impl Candidate {
    /// The stored summary: counts and one line per access change.
    pub fn summary(&self) -> Value {
        json!({
            "structural_changes": self.diff.structure.len(),
            "access_changes": self.diff.access.len(),
            "lines": self.diff.summary(),
        })
    }
}

/// Validates `doc` as version `n` of `app` and diffs it against `current`.
///
/// # Errors
/// 422 `bad_policy` with every mistake's JSON path; 422 `wrong_app`.
pub fn check(app: &str, mut doc: Value, n: u64, current: Option<&Current>) -> ApiResult<Candidate> {
    let obj = doc.as_object_mut().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_type",
            "the policy must be a JSON object",
        )
    })?;
    if let Some(other) = obj.get("app").and_then(Value::as_str).filter(|a| *a != app) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_app",
            format!("the policy is for app `{other}`, not `{app}`"),
        ));
    }
    obj.insert("version".into(), Value::from(n));
    let policy = Arc::new(Policy::from_value(&doc).map_err(|e| ApiError::bad_policy(&e))?);
    let diff = match current {
        Some(c) => diff(&c.doc, &c.policy, &doc, &policy),
        None => Diff {
            structure: Vec::new(),
            access: Vec::new(),
        },
    };
    Ok(Candidate { doc, policy, diff })
}

/// Publishes `doc` as the next version of `app`, in one store transaction, then makes it
/// current in memory, writes the static files and tells `/v1/events` listeners.
///
/// # Errors
/// What [`check`] reports, or 500 when the store fails (nothing is published then).
pub fn publish(
    state: &AppState,
    app: &str,
    doc: Value,
    by: &str,
    now_ms: i64,
) -> ApiResult<Version> {
    let mut compiled = None;
    let version = state.store.publish(app, by, now_ms, |prev, n| {
        let current = prev.map(compiled_version).transpose()?;
        let c = check(app, doc, n, current.as_ref())?;
        let bundle = sign_doc(state, &c.doc, None, Encoding::Json, now_ms)?;
        let new = NewVersion {
            document: c.doc.to_string(),
            bundle: String::from_utf8(bundle).map_err(ApiError::internal)?,
            summary: c.summary(),
        };
        compiled = Some(c);
        Ok(new)
    })?;
    if let Some(c) = compiled {
        install(state, app, version.version, c.doc, c.policy);
    }
    if let Some(dir) = &state.publish_dir {
        if let Err(e) = super::files::write_version(dir, &version) {
            eprintln!("publish-dir: {e} (repaired at next start)");
        }
    }
    let _ = state
        .events
        .send(json!({"type": "published", "app": app, "version": version.version}).to_string());
    Ok(version)
}

/// A stored version, compiled.
///
/// # Errors
/// 500 when the stored document does not compile (the store was tampered with).
pub fn compiled_version(v: &Version) -> ApiResult<Current> {
    let doc: Value = serde_json::from_str(&v.document).map_err(ApiError::internal)?;
    let policy = Policy::from_value(&doc).map_err(ApiError::internal)?;
    Ok(Current {
        version: v.version,
        doc,
        policy: Arc::new(policy),
    })
}

/// Makes a compiled version current in memory (unless a newer one already is) and drops
/// bundles signed for older ones.
pub fn install(state: &AppState, app: &str, version: u64, doc: Value, policy: Arc<Policy>) {
    let mut current = state.current.write().unwrap_or_else(|p| p.into_inner());
    if current.get(app).is_some_and(|c| c.version > version) {
        return;
    }
    current.insert(
        app.to_string(),
        Arc::new(Current {
            version,
            doc,
            policy,
        }),
    );
    drop(current);
    state
        .bundles
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(a, _, _), _| a != app);
}

/// The current bundle of `app` (minimized for `subject` when given), signed on first request
/// and again when half its lifetime has passed.
///
/// # Errors
/// 404 `unknown_app`, or 500 when signing fails.
pub fn bundle(
    state: &AppState,
    app: &str,
    subject: Option<&Subject>,
    encoding: Encoding,
    now_ms: i64,
) -> ApiResult<Arc<Served>> {
    let current = state.current(app).ok_or_else(|| unknown_app(app))?;
    let key: BundleKey = (app.to_string(), subject.map(|s| s.id.clone()), encoding);
    if let Some(s) = state
        .bundles
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|s| s.version == current.version && now_ms < s.refresh_at_ms)
    {
        return Ok(s.clone());
    }
    let doc = match subject {
        Some(s) => minimize(&current.doc, &current.policy, s),
        None => current.doc.clone(),
    };
    let bytes = sign_doc(state, &doc, subject.map(|s| s.id.clone()), encoding, now_ms)?;
    let served = Arc::new(Served {
        version: current.version,
        etag: etag(&bytes),
        bytes: bytes.into(),
        refresh_at_ms: now_ms + state.bundle_ttl_ms / 2,
    });
    state
        .bundles
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, served.clone());
    Ok(served)
}

/// 404 `unknown_app`.
pub fn unknown_app(app: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_app",
        format!("no policy is published for app `{app}`"),
    )
}

/// A strong ETag: the SHA-256 of the bytes.
pub fn etag(bytes: &[u8]) -> HeaderValue {
    let hex = super::files::hex(&Sha256::digest(bytes)[..16]);
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn sign_doc(
    state: &AppState,
    doc: &Value,
    subject: Option<String>,
    encoding: Encoding,
    now_ms: i64,
) -> ApiResult<Vec<u8>> {
    let opts = SignOptions {
        version: None,
        issued_at_ms: now_ms,
        expires_at_ms: now_ms + state.bundle_ttl_ms,
        subject,
        encoding,
    };
    let bytes = serde_json::to_vec(doc).map_err(ApiError::internal)?;
    sign(&bytes, &[&state.key], &opts).map_err(ApiError::internal)
}

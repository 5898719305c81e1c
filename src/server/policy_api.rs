//! Policy endpoints: bundles (with ETags), versions, diffs, publish, rollback, and the
//! server-sent events that announce new versions.

use super::auth::{require_admin, require_user};
use super::error::{ApiError, ApiResult};
use super::publish::{self, check, compiled_version, unknown_app};
use super::state::Shared;
use super::store::Version;
use crate::bundle::Encoding;
use crate::cli::now_ms;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;

/// `?for=me`.
#[derive(Deserialize)]
pub struct BundleQuery {
    #[serde(rename = "for")]
    for_: Option<String>,
}

/// `GET /v1/apps/{app}/bundle`: JSON, or binary for `Accept: application/octet-stream`;
/// `?for=me` gives the logged-in user's minimized bundle bound to their id.
pub async fn get_bundle(
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<BundleQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let now = now_ms();
    let subject = match q.for_.as_deref() {
        None => None,
        Some("me") => Some(require_user(&state, &headers, now)?.subject()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`for` must be `me`, not `{other}`"
            )))
        }
    };
    let binary = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/octet-stream"));
    let encoding = if binary {
        Encoding::Binary
    } else {
        Encoding::Json
    };
    let served = publish::bundle(&state, &app, subject.as_ref(), encoding, now)?;
    let cache = if subject.is_some() {
        "private, no-cache"
    } else {
        "public, no-cache"
    };
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, served.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept, Cookie"));
    h.insert("x-fieldgate-version", HeaderValue::from(served.version));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || t.trim().as_bytes() == served.etag.as_bytes());
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let kind = if binary {
        "application/octet-stream"
    } else {
        "application/json"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    Ok((h, served.bytes.clone()).into_response())
}

/// `GET /v1/apps/{app}/versions`: every version, newest first, without documents.
pub async fn versions(
    State(state): State<Shared>,
    Path(app): Path<String>,
) -> ApiResult<Json<Value>> {
    let list = state.store.versions(&app)?;
    if list.is_empty() {
        return Err(unknown_app(&app));
    }
    let current = list.first().map(|v| v.version);
    Ok(Json(
        json!({"app": app, "current": current, "versions": list}),
    ))
}

/// `GET /v1/apps/{app}/versions/{n}`: one version with its document and signed bundle.
pub async fn version(
    State(state): State<Shared>,
    Path((app, n)): Path<(String, u64)>,
) -> ApiResult<Json<Value>> {
    let v = stored(&state, &app, n)?;
    let doc: Value = serde_json::from_str(&v.document).map_err(ApiError::internal)?;
    let bundle: Value = serde_json::from_str(&v.bundle).map_err(ApiError::internal)?;
    let mut out = serde_json::to_value(&v).map_err(ApiError::internal)?;
    out["document"] = doc;
    out["bundle"] = bundle;
    Ok(Json(out))
}

/// `?from=&to=` (`to` defaults to the current version).
#[derive(Deserialize)]
pub struct DiffQuery {
    from: u64,
    to: Option<u64>,
}

/// `GET /v1/apps/{app}/diff?from=&to=`: structural and access diff with summary lines.
pub async fn diff(
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<Value>> {
    let to = match q.to {
        Some(t) => t,
        None => {
            state
                .current(&app)
                .ok_or_else(|| unknown_app(&app))?
                .version
        }
    };
    let (a, b) = (
        compiled_version(&stored(&state, &app, q.from)?)?,
        compiled_version(&stored(&state, &app, to)?)?,
    );
    let d = crate::admin::diff(&a.doc, &a.policy, &b.doc, &b.policy);
    Ok(Json(json!({
        "from": q.from, "to": to, "summary": d.summary(),
        "structure": d.structure, "access": d.access,
    })))
}

/// `?dry_run=true`: check and diff only.
#[derive(Deserialize)]
pub struct PublishQuery {
    #[serde(default)]
    dry_run: bool,
}

/// `POST /v1/apps/{app}/policy` (admin): publish the body as the next version; with
/// `?dry_run=true`, only check it and return the access diff.
pub async fn publish_policy(
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<PublishQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_admin(&state, &headers)?;
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_json", e.to_string()))?;
    if q.dry_run {
        let current = state.current(&app);
        let next = current.as_ref().map_or(1, |c| c.version + 1);
        let c = check(&app, doc, next, current.as_deref())?;
        return Ok(Json(json!({
            "dry_run": true, "version": next, "summary": c.summary(),
            "structure": c.diff.structure, "access": c.diff.access,
        }))
        .into_response());
    }
    let by = actor(&headers);
    let state2 = state.clone();
    let v = blocking(move || publish::publish(&state2, &app, doc, &by, now_ms())).await?;
    Ok((StatusCode::CREATED, Json(json!(v))).into_response())
}

/// `POST /v1/apps/{app}/rollback-to/{n}` (admin): publish version `n`'s document again as a
/// new, higher version.
pub async fn rollback(
    State(state): State<Shared>,
    Path((app, n)): Path<(String, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_admin(&state, &headers)?;
    let old = stored(&state, &app, n)?;
    let doc: Value = serde_json::from_str(&old.document).map_err(ApiError::internal)?;
    let by = format!("{} (rollback to {n})", actor(&headers));
    let state2 = state.clone();
    let v = blocking(move || publish::publish(&state2, &app, doc, &by, now_ms())).await?;
    Ok((StatusCode::CREATED, Json(json!(v))).into_response())
}

/// `GET /v1/events`: server-sent events, one `published` event per new version.
pub async fn events(
    State(state): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(data) => return Some((Ok(Event::default().event("published").data(data)), rx)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /v1/config`: what a page needs to trust bundles (the demo pins the key from here).
pub async fn config(State(state): State<Shared>) -> Json<Value> {
    let public = state.key.public();
    Json(json!({
        "apps": state.store.apps().unwrap_or_default(),
        "trusted_keys": [public.to_base64()],
        "key_id": public.id(),
    }))
}

fn stored(state: &Shared, app: &str, n: u64) -> ApiResult<Version> {
    state
        .store
        .version(app, n)?
        .ok_or_else(|| ApiError::not_found(format!("app `{app}` has no version {n}")))
}

/// Who publishes: the `X-Fieldgate-Actor` header, else `admin`.
fn actor(headers: &HeaderMap) -> String {
    headers
        .get("x-fieldgate-actor")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .unwrap_or("admin")
        .to_string()
}

/// Runs store work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

//! The admin audit log: every state-changing admin request, with the admin's name, the time,
//! the endpoint and what changed; and `GET /v1/audit` to read it.

use crate::host::now_ms;
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult};
use crate::server::http::auth::Admin;
use crate::server::state::Shared;
use crate::server::store::{AuditEntry, AuditQuery};
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// An entry made now.
pub fn entry(
    actor: &str,
    kind: &str,
    endpoint: String,
    app: Option<&str>,
    detail: Value,
) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: now_ms(),
        actor: actor.to_string(),
        kind: kind.to_string(),
        endpoint,
        app: app.map(str::to_string),
        detail,
    }
}

/// Appends `e` to the log (off the async threads).
pub async fn record(state: &Shared, e: AuditEntry) -> ApiResult<()> {
    let s = state.clone();
    blocking(move || Ok(s.store.add_audit(&e)?)).await
}

/// The query of `GET /v1/audit`.
#[derive(Deserialize)]
pub struct AuditParams {
    since: Option<i64>,
    actor: Option<String>,
    kind: Option<String>,
    app: Option<String>,
    limit: Option<u32>,
}

/// `GET /v1/audit?since=&actor=&kind=&app=&limit=` (admin): entries newest first (`since` in
/// Unix milliseconds; at most `limit`, default 200, up to 5000).
pub async fn list(
    _: Admin,
    State(state): State<Shared>,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<Value>> {
    let limit = p.limit.unwrap_or(200);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` is 1 to 5000"));
    }
    let q = AuditQuery {
        since: p.since.unwrap_or(0),
        actor: p.actor,
        kind: p.kind,
        app: p.app,
        limit,
    };
    let s = state.clone();
    let entries = blocking(move || Ok(s.store.audit(&q)?)).await?;
    Ok(Json(json!({ "entries": entries })))
}

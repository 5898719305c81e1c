//! The demo login and the sample data API, enforced on the server with the same engine the
//! page runs: reads return only in-scope records, redacted; writes to any field that is not
//! editable for the caller on that record are refused whole (403 listing the fields).

use super::auth::{cookie_value, require_admin, require_user, COOKIE, LOGIN_MS};
use super::error::{json_body, ApiError, ApiResult};
use super::publish::unknown_app;
use super::state::{AppState, Shared};
use super::users::DemoUser;
use crate::cli::now_ms;
use crate::core::{Input, Mode, Session};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The app whose policy guards the sample data.
pub const DATA_APP: &str = "acme-erp";

/// `{"user": id}`.
#[derive(Deserialize)]
pub struct Login {
    user: String,
}

/// `POST /v1/login`: log in as a demo user (sets a signed, HTTP-only cookie).
pub async fn login(State(state): State<Shared>, body: Bytes) -> ApiResult<Response> {
    let body: Login = json_body(&body)?;
    let user = state.user(&body.user).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_user",
            format!("no demo user `{}`", body.user),
        )
    })?;
    let value = cookie_value(&state, &user.id, now_ms() + LOGIN_MS);
    let cookie = format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        LOGIN_MS / 1000
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(json!(user))).into_response())
}

/// `POST /v1/logout`.
pub async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Json(json!({"ok": true}))).into_response()
}

/// `GET /v1/me`: the logged-in user, or 401.
pub async fn me(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Json<DemoUser>> {
    Ok(Json(require_user(&state, &headers, now_ms())?.clone()))
}

/// `GET /v1/users`: the demo users (the page's user switcher).
pub async fn users(State(state): State<Shared>) -> Json<Vec<DemoUser>> {
    Json(state.users.clone())
}

/// `GET /v1/data/{resource}`: the caller's in-scope records, as the view form shows them.
pub async fn list(
    State(state): State<Shared>,
    Path(resource): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let session = session(&state, &headers)?;
    let mut out = Vec::new();
    for r in state.store.records(&resource)? {
        if session.can("view", &resource, Input::json(Some(&r), None))? {
            out.push(session.redact(&resource, Mode::View, &r, None)?);
        }
    }
    Ok(Json(json!({"resource": resource, "records": out})))
}

/// `GET /v1/data/{resource}/{id}`: one record, if the caller may view it.
pub async fn get(
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let session = session(&state, &headers)?;
    let r = record(&state, &resource, &id)?;
    allow(&session, "view", &resource, &r)?;
    Ok(Json(session.redact(&resource, Mode::View, &r, None)?))
}

/// `PUT /v1/data/{resource}/{id}`: change fields of a record. Refused whole (403) unless the
/// caller may `edit` the record and every changed field is editable for them on it.
pub async fn put(
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let session = session(&state, &headers)?;
    let changes: Value = json_body(&body)?;
    let mut r = record(&state, &resource, &id)?;
    allow(&session, "edit", &resource, &r)?;
    check_writes(&session, &resource, Mode::Edit, &r, &changes)?;
    if let (Some(obj), Some(ch)) = (r.as_object_mut(), changes.as_object()) {
        obj.extend(ch.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    state
        .store
        .put_records(&resource, std::slice::from_ref(&r))?;
    Ok(Json(session.redact(&resource, Mode::View, &r, None)?))
}

/// `POST /v1/data/{resource}`: create a record owned by the caller, in their department.
pub async fn create(
    State(state): State<Shared>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let user = require_user(&state, &headers, now_ms())?;
    let data: Value = json_body(&body)?;
    let session = session_for(&state, user)?;
    let current = state
        .current(DATA_APP)
        .ok_or_else(|| unknown_app(DATA_APP))?;
    let (owner, department) = record_attrs(&current.doc, &resource)
        .ok_or_else(|| ApiError::not_found(format!("no resource `{resource}`")))?;
    let mut n = now_ms();
    while state.store.record(&resource, &n.to_string())?.is_some() {
        n += 1;
    }
    let mut r = Map::new();
    r.insert("id".into(), Value::from(n.to_string()));
    if let Some(owner) = owner {
        r.insert(owner.into(), Value::from(user.id.clone()));
    }
    if let (Some(attr), Some(d)) = (department, &user.department) {
        r.insert(attr.into(), Value::from(d.clone()));
    }
    let r = Value::Object(r);
    allow(&session, "create", &resource, &r)?;
    check_writes(&session, &resource, Mode::Create, &r, &data)?;
    let mut full = r;
    if let (Some(obj), Some(d)) = (full.as_object_mut(), data.as_object()) {
        obj.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    state
        .store
        .put_records(&resource, std::slice::from_ref(&full))?;
    let shown = session.redact(&resource, Mode::View, &full, None)?;
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

/// `{"from", "to"}`.
#[derive(Deserialize)]
pub struct Reassign {
    from: String,
    to: String,
}

/// `POST /v1/admin/reassign-records` (admin): give every record `from` owns to `to` (the
/// staff-transfer step that is about data, not permissions).
pub async fn reassign(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let body: Reassign = json_body(&body)?;
    for u in [&body.from, &body.to] {
        state.user(u).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_user",
                format!("no demo user `{u}`"),
            )
        })?;
    }
    let current = state
        .current(DATA_APP)
        .ok_or_else(|| unknown_app(DATA_APP))?;
    let mut moved = Map::new();
    for resource in current.policy.resource_names() {
        let Some((Some(owner), _)) = record_attrs(&current.doc, resource) else {
            continue;
        };
        let mut changed = Vec::new();
        for mut rec in state.store.records(resource)? {
            if rec.get(owner).and_then(Value::as_str) == Some(body.from.as_str()) {
                rec[owner] = Value::from(body.to.clone());
                changed.push(rec);
            }
        }
        state.store.put_records(resource, &changed)?;
        moved.insert(resource.to_string(), Value::from(changed.len()));
    }
    Ok(Json(
        json!({"from": body.from, "to": body.to, "moved": moved}),
    ))
}

fn session(state: &AppState, headers: &HeaderMap) -> ApiResult<Session> {
    let user = require_user(state, headers, now_ms())?;
    session_for(state, user)
}

fn session_for(state: &AppState, user: &DemoUser) -> ApiResult<Session> {
    let current = state
        .current(DATA_APP)
        .ok_or_else(|| unknown_app(DATA_APP))?;
    Ok(current.policy.session(&user.subject()))
}

fn record(state: &AppState, resource: &str, id: &str) -> ApiResult<Value> {
    state
        .store
        .record(resource, id)?
        .ok_or_else(|| ApiError::not_found(format!("no {resource} `{id}`")))
}

fn allow(session: &Session, action: &str, resource: &str, r: &Value) -> ApiResult<()> {
    if session.can(action, resource, Input::json(Some(r), None))? {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("`{}` may not {action} this {resource}", session.user_id()),
        ))
    }
}

fn check_writes(
    session: &Session,
    resource: &str,
    mode: Mode,
    r: &Value,
    changes: &Value,
) -> ApiResult<()> {
    let forbidden = session.forbidden_writes(resource, mode, Some(r), changes, None)?;
    if forbidden.is_empty() {
        return Ok(());
    }
    Err(ApiError {
        fields: Some(forbidden.clone()),
        ..ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_fields",
            format!(
                "not editable for `{}`: {}",
                session.user_id(),
                forbidden.join(", ")
            ),
        )
    })
}

/// A resource's `owner` and `department` record attributes, from the document.
fn record_attrs<'d>(doc: &'d Value, resource: &str) -> Option<(Option<&'d str>, Option<&'d str>)> {
    let r = doc.get("resources")?.get(resource)?;
    Some((
        r.get("owner").and_then(Value::as_str),
        r.get("department").and_then(Value::as_str),
    ))
}

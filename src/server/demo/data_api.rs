//! The demo login and the sample data API, enforced on the server with the same engine the
//! page runs: reads return only the records the caller may view, redacted; a record the caller
//! may not view answers 404 like one that does not exist; writes to any field that is not
//! editable for the caller on that record are refused whole (403 listing the fields), and run
//! in one transaction against the record as it is at that moment.

use crate::admin::Person;
use crate::core::workflow::{Entry, TRAIL};
use crate::core::{FlowReason, Input, Mode, Session, TransitionAnswer};
use crate::host::now_ms;
use crate::server::blocking;
use crate::server::demo::parents::Parents;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::{self, cleared_cookie, new_session, same_origin, Admin, User};
use crate::server::http::body::{Json as Body, Raw, SMALL};
use crate::server::services::credentials::token_hash;
use crate::server::services::publish::unknown_app;
use crate::server::state::Shared;
use crate::server::store::{update_checked, AccessEntry, Reassign, UpdateError};
use crate::server::SAMPLE_APP;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// `{"user": id}`.
#[derive(Deserialize)]
pub struct Login {
    user: String,
}

/// `POST /v1/login`: log in to the demo as a person of the directory (no password: a demo).
/// Sets an HTTP-only session cookie; `POST /v1/logout` ends the session on the server.
pub async fn login(
    State(state): State<Shared>,
    headers: HeaderMap,
    Body(body): Body<Login>,
) -> ApiResult<Response> {
    if !state.options.demo_login {
        return Err(ApiError::not_found("the demo login is off on this server"));
    }
    same_origin(&state, &headers, false)?;
    let person = state.person(&body.user).await?.ok_or_else(|| {
        ApiError::new(
            ServerCode::UnknownUser,
            format!("no person `{}` in the directory", body.user),
        )
    })?;
    let (id, cookie) = new_session(&state)?;
    let (s, hash, user) = (state.clone(), token_hash(&id), person.id.clone());
    blocking(move || {
        // A session ended a login's length ago is forgotten as a new one starts.
        let now = now_ms();
        Ok(s.store
            .create_session(&hash, &user, now + auth::LOGIN_MS, now - auth::LOGIN_MS)?)
    })
    .await?;
    let e = crate::server::http::audit::entry(
        &person.id,
        "login",
        "POST /v1/login".into(),
        Some(SAMPLE_APP),
        json!({}),
    );
    crate::server::http::audit::record(&state, e).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(person_json(&person))).into_response())
}

/// `POST /v1/logout`: ends the session (the cookie stops working at once).
pub async fn logout(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(id) = auth::session_id(&state, &headers) {
        same_origin(&state, &headers, true)?;
        let (s, hash) = (state.clone(), token_hash(&id));
        let who = blocking(move || {
            let who = s.store.session(&hash, now_ms())?;
            s.store.end_session(&hash)?;
            Ok(who)
        })
        .await?;
        if let Some(user) = who {
            let endpoint = "POST /v1/logout".into();
            let e = crate::server::http::audit::entry(
                &user,
                "logout",
                endpoint,
                Some(SAMPLE_APP),
                json!({}),
            );
            crate::server::http::audit::record(&state, e).await?;
        }
    }
    Ok((
        [(header::SET_COOKIE, cleared_cookie())],
        Json(json!({"ok": true})),
    )
        .into_response())
}

/// `GET /v1/me`: the logged-in person, or 401.
pub async fn me(User(person): User) -> Json<Value> {
    Json(person_json(&person))
}

/// A person as the pages show them: id, name, department, groups, roles and their title.
fn person_json(p: &Person) -> Value {
    json!({
        "id": p.id,
        "name": p.label(),
        "title": p.attrs.get("title").cloned().unwrap_or(Value::Null),
        "department": p.department,
        "groups": p.groups,
        "roles": p.roles,
    })
}

/// `GET /v1/demo/people`: who the demo lets you log in as (id, name, title).
pub async fn demo_people(State(state): State<Shared>) -> ApiResult<Json<Value>> {
    if !state.options.demo_login {
        return Err(ApiError::not_found("the demo login is off on this server"));
    }
    let d = state.directory(SAMPLE_APP).await?;
    let people: Vec<Value> = d
        .people()
        .iter()
        .map(|p| json!({"id": p.id, "name": p.label(), "title": p.attrs.get("title")}))
        .collect();
    Ok(Json(json!(people)))
}

/// `GET /v1/users` (admin): the demo app's directory, every person as it describes them.
pub async fn users(_: Admin, State(state): State<Shared>) -> ApiResult<Json<Value>> {
    let d = state.directory(SAMPLE_APP).await?;
    Ok(Json(d.to_json()))
}

/// `?q=`: what a record picker searches for.
#[derive(Deserialize)]
pub struct PickQuery {
    q: Option<String>,
}

/// How many records a picker shows.
const PICKED: usize = 20;

/// `GET /v1/admin/records/{resource}?q=` (admin): records of the demo app whose id or name
/// holds `q`, as `{id, label}` only, for the console's condition builder ("only this record").
pub async fn pick(
    _: Admin,
    State(state): State<Shared>,
    Path(resource): Path<String>,
    Query(q): Query<PickQuery>,
) -> ApiResult<Json<Value>> {
    let current = state
        .current(SAMPLE_APP)
        .ok_or_else(|| crate::server::services::publish::unknown_app(SAMPLE_APP))?;
    let fields = current.policy().field_names(&resource).ok_or_else(|| {
        ApiError::new(
            ServerCode::UnknownResource,
            format!("no resource `{resource}`"),
        )
    })?;
    // The name a person knows a record by: its first declared text field.
    let first = fields.first().map(|f| f.to_string());
    let want = q.q.unwrap_or_default().to_lowercase();
    let (s, r) = (state.clone(), resource.clone());
    let records = blocking(move || Ok(s.store.records(&r)?)).await?;
    let found: Vec<Value> = records
        .iter()
        .filter_map(|rec| {
            let id = rec.body.get("id")?.as_str()?;
            let label = first
                .as_deref()
                .and_then(|f| rec.body.get(f)?.as_str())
                .unwrap_or_default();
            let hit = want.is_empty()
                || id.to_lowercase().contains(&want)
                || label.to_lowercase().contains(&want);
            hit.then(|| json!({"id": id, "label": label}))
        })
        .take(PICKED)
        .collect();
    Ok(Json(json!({ "records": found })))
}

/// `GET /v1/data/{resource}`: the caller's viewable records, as the view form shows them.
pub async fn list(
    User(person): User,
    State(state): State<Shared>,
    Path(resource): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut trail = Trail::new(&person, "list", &resource);
    let out = async {
        let session = session_for(&state, &person, &resource)?;
        let parents = parents(&state, &resource).await?;
        let s = state.clone();
        let r = resource.clone();
        let records = blocking(move || Ok(s.store.records(&r)?)).await?;
        let mut out = Vec::new();
        for rec in records {
            let rec = parents.join(&rec.body);
            if session.can("view", &resource, Input::json(Some(&rec), None))? {
                trail.read(&session, &resource, &rec)?;
                out.push(session.redact(&resource, Mode::View, &rec, None)?);
            }
        }
        Ok(Json(json!({"resource": resource, "records": out})))
    }
    .await;
    trail.close(&state, out).await
}

/// `GET /v1/data/{resource}/{id}`: one record, if the caller may view it (404 otherwise, as
/// for a record that does not exist), with its revision as the ETag.
pub async fn get(
    User(person): User,
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut trail = Trail::new(&person, "view", &resource);
    trail.entry.records.push(id.clone());
    let out = async {
        let session = session_for(&state, &person, &resource)?;
        let parents = parents(&state, &resource).await?;
        let rec = record(&state, &resource, &id).await?;
        let body = parents.join(&rec.body);
        if !session.can("view", &resource, Input::json(Some(&body), None))? {
            // The caller sees a 404, as for a record that does not exist; the log sees a refusal.
            trail.refused_view();
            return Err(not_found(&resource, &id));
        }
        trail.entry.records.clear();
        trail.read(&session, &resource, &body)?;
        let shown = session.redact(&resource, Mode::View, &body, None)?;
        Ok(([(header::ETAG, revision_tag(rec.revision))], Json(shown)).into_response())
    }
    .await;
    trail.close(&state, out).await
}

/// `GET /v1/data/{resource}/{id}/history`: the record's flow history (who did each transition
/// and step, when, with what comment), oldest first, for whoever may view the record (404
/// otherwise, as `get`). Logged as a view.
pub async fn history(
    User(person): User,
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let mut trail = Trail::new(&person, "view", &resource);
    trail.entry.records.push(id.clone());
    let out = async {
        let session = session_for(&state, &person, &resource)?;
        let w = session
            .policy()
            .workflow(&resource)
            .ok_or_else(|| ApiError::not_found(format!("{resource} has no approval flow")))?;
        let parents = parents(&state, &resource).await?;
        let rec = record(&state, &resource, &id).await?;
        let body = parents.join(&rec.body);
        if !session.can("view", &resource, Input::json(Some(&body), None))? {
            trail.refused_view();
            return Err(not_found(&resource, &id));
        }
        let history = body
            .get(TRAIL)
            .and_then(|t| t.get("history"))
            .cloned()
            .unwrap_or_else(|| json!([]));
        Ok(Json(json!({
            "resource": resource,
            "id": id,
            "state": w.state(&body),
            "history": history,
        })))
    }
    .await;
    trail.close(&state, out).await
}

/// `PUT /v1/data/{resource}/{id}`: change fields of a record. Refused whole unless the caller
/// may `edit` the record and every changed field is editable for them on it, checked against
/// the record as it is when the change is written. Only the changed fields are written. With
/// `If-Match: "<revision>"`, a record changed since is refused with 412 `stale_record`.
pub async fn put(
    User(person): User,
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    Body(changes): Body<Value>,
) -> ApiResult<Response> {
    let mut trail = Trail::new(&person, "edit", &resource);
    trail.entry.records.push(id.clone());
    trail
        .close_write(&state, |hidden| {
            edit(&state, &person, &resource, &id, &headers, changes, hidden)
        })
        .await
}

/// The body of `put`; sets `hidden` when the record exists but the caller may not view it.
async fn edit(
    state: &Shared,
    person: &Person,
    resource: &str,
    id: &str,
    headers: &HeaderMap,
    changes: Value,
    hidden: Arc<AtomicBool>,
) -> ApiResult<Response> {
    let session = session_for(state, person, resource)?;
    if !changes.is_object() {
        return Err(ApiError::new(
            ServerCode::BadJson,
            "the changes must be a JSON object",
        ));
    }
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(|t| t.trim().trim_matches('"').trim_start_matches('r'))
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| ApiError::bad_request("If-Match must be a record's ETag"))?,
        ),
    };
    let parents = parents(state, resource).await?;
    let s = state.clone();
    let (r, i) = (resource.to_string(), id.to_string());
    let outcome = blocking(move || {
        let res = update_checked(&*s.store, &r, &i, expected, |stored| {
            let now = &parents.join(stored);
            if !session.can("view", &r, Input::json(Some(now), None))? {
                hidden.store(true, Ordering::Relaxed);
                return Err(not_found(&r, &i));
            }
            allow(&session, "edit", &r, now)?;
            flow_only(&session, &r, now, &changes)?;
            check_writes(&session, &r, Mode::Edit, now, &changes)?;
            let mut next = stored.clone();
            merge(&mut next, &changes);
            Ok(next)
        });
        match res {
            Ok(rec) => Ok((
                session.redact(&r, Mode::View, &parents.join(&rec.body), None)?,
                rec.revision,
            )),
            Err(UpdateError::Missing) => Err(not_found(&r, &i)),
            Err(UpdateError::Stale { revision }) => Err(ApiError::new(
                ServerCode::StaleRecord,
                format!(
                    "the record changed since it was read (it is at {} now)",
                    revision_tag(revision).to_str().unwrap_or_default()
                ),
            )),
            Err(UpdateError::Refused(e)) => Err(e),
            Err(UpdateError::Store(e)) => Err(e.into()),
        }
    })
    .await?;
    let (shown, revision) = outcome;
    Ok(([(header::ETAG, revision_tag(revision))], Json(shown)).into_response())
}

/// Sets each path of `changes` in `record`: objects merge member by member, anything else
/// replaces.
fn merge(record: &mut Value, changes: &Value) {
    match (record.as_object_mut(), changes.as_object()) {
        (Some(r), Some(c)) => {
            for (k, v) in c {
                match r.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        r.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        _ => *record = changes.clone(),
    }
}

/// `POST /v1/data/{resource}`: create a record owned by the caller, in their department,
/// under a new random id.
pub async fn create(
    User(person): User,
    State(state): State<Shared>,
    Path(resource): Path<String>,
    Body(data): Body<Value>,
) -> ApiResult<Response> {
    let mut trail = Trail::new(&person, "create", &resource);
    let out = insert(&state, &person, &resource, data, &mut trail).await;
    trail.close(&state, out).await
}

/// The body of `create`; the new record's id goes to the trail.
async fn insert(
    state: &Shared,
    person: &Person,
    resource: &str,
    data: Value,
    trail: &mut Trail,
) -> ApiResult<Response> {
    let resource = resource.to_string();
    let session = session_for(state, person, &resource)?;
    let current = state
        .current(SAMPLE_APP)
        .ok_or_else(|| unknown_app(SAMPLE_APP))?;
    let (owner, department) = record_attrs(current.doc(), &resource).ok_or_else(|| {
        ApiError::new(
            ServerCode::UnknownResource,
            format!("no resource `{resource}`"),
        )
    })?;
    let id = format!(
        "{}-{}",
        resource.chars().next().unwrap_or('r'),
        &crate::host::keys::random_hex().map_err(ApiError::internal)?[..12]
    );
    trail.entry.records.push(id.clone());
    let mut r = Map::new();
    r.insert("id".into(), Value::from(id.clone()));
    if let Some(owner) = owner {
        r.insert(owner.into(), Value::from(person.id.clone()));
    }
    if let (Some(attr), Some(d)) = (department, &person.department) {
        r.insert(attr.into(), Value::from(d.clone()));
    }
    // The record as it will be stored (the caller's values, then what the server sets) is
    // what `create` is asked about, so a rule on the values being created applies to them.
    let mut full = data.clone();
    merge(&mut full, &Value::Object(r));
    // A record of a resource with an approval flow starts at its beginning.
    if let Some(w) = current.policy().workflow(&resource) {
        full = w.started(&full);
    }
    let parents = parents(state, &resource).await?;
    let joined = parents.join(&full);
    allow(&session, "create", &resource, &joined)?;
    flow_only(&session, &resource, &joined, &data)?;
    check_writes(&session, &resource, Mode::Create, &joined, &data)?;
    let (s, res, i, body) = (state.clone(), resource.clone(), id.clone(), full.clone());
    let fresh = blocking(move || Ok(s.store.insert_record(&res, &i, &body)?)).await?;
    if !fresh {
        return Err(ApiError::new(
            ServerCode::Conflict,
            "that id was taken; try again",
        ));
    }
    let shown = session.redact(&resource, Mode::View, &joined, None)?;
    Ok((
        StatusCode::CREATED,
        [(header::ETAG, revision_tag(1))],
        Json(shown),
    )
        .into_response())
}

/// `{"from", "to"}`.
#[derive(Deserialize)]
pub struct ReassignBody {
    from: String,
    to: String,
}

/// `POST /v1/admin/reassign-records` (admin): give every record `from` owns to `to` now (a
/// publication can do it in its own transaction instead: `reassign_from`/`reassign_to`).
pub async fn reassign(
    Admin(admin): Admin,
    State(state): State<Shared>,
    Body(body): Body<ReassignBody>,
) -> ApiResult<Json<Value>> {
    for u in [&body.from, &body.to] {
        if state.person(u).await?.is_none() {
            return Err(ApiError::new(
                ServerCode::UnknownUser,
                format!("no person `{u}` in the directory"),
            ));
        }
    }
    let current = state
        .current(SAMPLE_APP)
        .ok_or_else(|| unknown_app(SAMPLE_APP))?;
    let r = Reassign {
        from: body.from.clone(),
        to: body.to.clone(),
        owners: crate::server::http::policy_api::owners(current.doc()),
        only: None,
    };
    let s = state.clone();
    let moved = blocking(move || Ok(s.store.reassign(&r)?)).await?;
    let counts: Map<String, Value> = moved["records"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), Value::from(v.as_array().map_or(0, Vec::len))))
        .collect();
    let detail = json!({"from": body.from, "to": body.to, "records": moved["records"]});
    let endpoint = "POST /v1/admin/reassign-records".to_string();
    let e = crate::server::http::audit::entry(
        &admin,
        "reassignment",
        endpoint,
        Some(SAMPLE_APP),
        detail,
    );
    crate::server::http::audit::record(&state, e).await?;
    Ok(Json(
        json!({"from": body.from, "to": body.to, "moved": counts, "records": moved["records"]}),
    ))
}

pub(super) fn session_for(state: &Shared, person: &Person, resource: &str) -> ApiResult<Session> {
    let current = state
        .current(SAMPLE_APP)
        .ok_or_else(|| unknown_app(SAMPLE_APP))?;
    current.policy().resource_id(resource)?;
    Ok(current.policy().session_at(&person.subject(), now_ms()))
}

/// The parent records `resource`'s decisions read (none for most resources).
pub(super) async fn parents(state: &Shared, resource: &str) -> ApiResult<Arc<Parents>> {
    let current = state
        .current(SAMPLE_APP)
        .ok_or_else(|| unknown_app(SAMPLE_APP))?;
    let (s, r) = (state.clone(), resource.to_string());
    blocking(move || Ok(Arc::new(Parents::load(&*s.store, current.policy(), &r)?))).await
}

pub(super) async fn record(
    state: &Shared,
    resource: &str,
    id: &str,
) -> ApiResult<crate::server::store::Record> {
    let (s, r, i) = (state.clone(), resource.to_string(), id.to_string());
    blocking(move || Ok(s.store.record(&r, &i)?))
        .await?
        .ok_or_else(|| not_found(resource, id))
}

/// The access log entry of one data API request, completed with its outcome.
pub(super) struct Trail {
    pub(super) entry: AccessEntry,
}

impl Trail {
    pub(super) fn new(person: &Person, action: &str, resource: &str) -> Trail {
        Trail {
            entry: AccessEntry {
                at: now_ms(),
                user: person.id.clone(),
                action: action.to_string(),
                resource: resource.to_string(),
                records: Vec::new(),
                count: 0,
                unmasked: Vec::new(),
                outcome: "ok".into(),
                fields: Vec::new(),
                source: "server".into(),
            },
        }
    }

    /// A record read: its id, and the sensitive fields it showed unmasked.
    fn read(&mut self, session: &Session, resource: &str, record: &Value) -> ApiResult<()> {
        if let Some(id) = record.get("id").and_then(Value::as_str) {
            self.entry.records.push(id.to_string());
        }
        for f in session.unmasked(resource, Mode::View, record, None)? {
            if !self.entry.unmasked.iter().any(|u| u == f) {
                self.entry.unmasked.push(f.to_string());
            }
        }
        Ok(())
    }

    /// The record exists but the caller may not view it: they are told 404, the log says
    /// `forbidden`.
    fn refused_view(&mut self) {
        self.entry.outcome = "forbidden".into();
    }

    /// Logs the entry with the request's outcome `out` (a sensitive read waits for it to be
    /// stored, and is refused if it cannot be), then answers with `out`.
    pub(super) async fn close<T>(self, state: &Shared, out: ApiResult<T>) -> ApiResult<T> {
        let entry = self.with_outcome(out.as_ref().err());
        crate::server::http::access::log(state, entry)
            .await
            .and(out)
    }

    /// Runs a write (`body` is told, through the flag, when the record exists but the caller
    /// may not view it: the log says `forbidden`), then logs it as [`Trail::close`] does.
    async fn close_write<F, Fut>(mut self, state: &Shared, body: F) -> ApiResult<Response>
    where
        F: FnOnce(Arc<AtomicBool>) -> Fut,
        Fut: std::future::Future<Output = ApiResult<Response>>,
    {
        let hidden = Arc::new(AtomicBool::new(false));
        let out = body(hidden.clone()).await;
        if hidden.load(Ordering::Relaxed) {
            self.refused_view();
        }
        self.close(state, out).await
    }

    /// The entry with the request's outcome.
    fn with_outcome(mut self, err: Option<&ApiError>) -> AccessEntry {
        if let Some(e) = err {
            if self.entry.outcome == "ok" {
                self.entry.outcome = e.code.as_str().to_string();
            }
            if let Some(fields) = e.more.as_ref().and_then(|m| m.fields.clone()) {
                self.entry.fields = fields;
            }
        }
        self.entry
    }
}

/// Why the caller may not do transition `name` now: 409 `wrong_status` for one they may do on
/// records in other states, else 403 naming what is in the way.
fn refused_transition(
    session: &Session,
    resource: &str,
    name: &str,
    answer: &TransitionAnswer,
) -> ApiResult<ApiError> {
    let theirs = session.can(name, resource, Input::NONE)?;
    let who = session.user_id();
    let (code, why) = match answer.reason {
        FlowReason::WrongStatus if theirs => (
            ServerCode::WrongStatus,
            format!("the record's state does not allow `{name}`"),
        ),
        FlowReason::NotNext => (
            ServerCode::Forbidden,
            format!("`{name}` waits for an earlier step that `{who}` may not sign"),
        ),
        FlowReason::Distinct => (
            ServerCode::Forbidden,
            format!("`{who}` did another step of this record that must be someone else's"),
        ),
        _ => (
            ServerCode::Forbidden,
            format!("`{who}` may not {name} this {resource}"),
        ),
    };
    Ok(ApiError::new(code, why))
}

pub(super) fn not_found(resource: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("no {resource} `{id}`"))
}

fn revision_tag(revision: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"r{revision}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn allow(session: &Session, action: &str, resource: &str, r: &Value) -> ApiResult<()> {
    if session.can(action, resource, Input::json(Some(r), None))? {
        Ok(())
    } else {
        Err(ApiError::new(
            ServerCode::Forbidden,
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
    Err(ApiError::new(
        ServerCode::ForbiddenFields,
        format!(
            "not editable for `{}`: {}",
            session.user_id(),
            forbidden.join(", ")
        ),
    )
    .with_fields(forbidden.clone()))
}

/// A flow's state moves only through its transitions, whatever the grants say of the field: a
/// create or edit that sets it to anything but what it is (on create: the initial state), or
/// that writes the trail, would skip the approval. Refused as `workflow_field`.
fn flow_only(session: &Session, resource: &str, now: &Value, changes: &Value) -> ApiResult<()> {
    let Some(w) = session.policy().workflow(resource) else {
        return Ok(());
    };
    let sent = w.field_path().try_fold(changes, |v, k| v.get(k));
    let state = w.field_path().try_fold(now, |v, k| v.get(k));
    let mut fields = Vec::new();
    if sent.is_some() && sent != state {
        fields.push(w.field.clone());
    }
    if changes.get(TRAIL).is_some() {
        fields.push(TRAIL.to_string());
    }
    if fields.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        ServerCode::WorkflowField,
        format!(
            "`{}` moves only through the flow's transitions ({})",
            w.field,
            w.transitions
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .with_fields(fields))
}

/// A resource's `owner` and `department` record attributes, from the document.
fn record_attrs<'d>(doc: &'d Value, resource: &str) -> Option<(Option<&'d str>, Option<&'d str>)> {
    let r = doc.get("resources")?.get(resource)?;
    Some((
        r.get("owner").and_then(Value::as_str),
        r.get("department").and_then(Value::as_str),
    ))
}

/// `{"comment"?}`: what the person writes with the transition (kept in the record's history).
#[derive(Deserialize)]
pub struct TransitionBody {
    comment: Option<String>,
}

/// `POST /v1/data/{resource}/{id}/{transition}`: moves a record through the flow its resource
/// declares, as the engine's `transitions` answers for the caller on the record as it is, in
/// one transaction: a transition without steps moves the record; one with steps records the
/// caller's signature of the next step, and moves the record with the last one. 409
/// `wrong_status` when the record's state does not allow it, 403 when the caller may not do it
/// or sign the step (`forbidden`, with the reason), 422 `comment_required`. Each transition and
/// step is added to the record's history. Logged in the access log under the transition's name.
pub async fn transition(
    User(person): User,
    State(state): State<Shared>,
    Path((resource, id, name)): Path<(String, String, String)>,
    Raw(body): Raw<SMALL>,
) -> ApiResult<Response> {
    let mut trail = Trail::new(&person, &name, &resource);
    trail.entry.records.push(id.clone());
    let comment = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<TransitionBody>(&body)
            .map_err(|e| ApiError::new(ServerCode::BadJson, e.to_string()))?
            .comment
    };
    trail
        .close_write(&state, |hidden| {
            advance(&state, &person, &resource, &id, &name, comment, hidden)
        })
        .await
}

/// The body of `transition`.
async fn advance(
    state: &Shared,
    person: &Person,
    resource: &str,
    id: &str,
    name: &str,
    comment: Option<String>,
    hidden: Arc<AtomicBool>,
) -> ApiResult<Response> {
    let session = session_for(state, person, resource)?;
    let no_such = || ApiError::not_found(format!("{resource} has no transition `{name}`"));
    let w = session
        .policy()
        .workflow(resource)
        .ok_or_else(no_such)?
        .clone();
    let t = w.transition(name).ok_or_else(no_such)?.clone();
    let comment = comment.filter(|c| !c.trim().is_empty());
    let parents = parents(state, resource).await?;
    let s = state.clone();
    let (r, i, by) = (resource.to_string(), id.to_string(), person.id.clone());
    let rec = blocking(move || {
        let res = update_checked(&*s.store, &r, &i, None, |stored| {
            let now = &parents.join(stored);
            if !session.can("view", &r, Input::json(Some(now), None))? {
                hidden.store(true, Ordering::Relaxed);
                return Err(not_found(&r, &i));
            }
            let answer = session
                .transitions(&r, now, None)?
                .into_iter()
                .find(|a| a.transition == t.name)
                .ok_or_else(|| ApiError::internal("the flow lost a transition"))?;
            if !answer.allowed {
                return Err(refused_transition(&session, &r, &t.name, &answer)?);
            }
            if t.comment_required && comment.is_none() {
                return Err(ApiError::new(
                    ServerCode::CommentRequired,
                    format!("`{}` needs a comment", t.name),
                ));
            }
            let step = answer
                .step
                .as_ref()
                .and_then(|id| t.steps.iter().find(|s| &s.id == id));
            let at = crate::bundle::format_rfc3339(now_ms());
            let entry = Entry {
                by: &by,
                at: &at,
                comment: comment.as_deref(),
            };
            Ok(w.record_after(stored, &t, step, answer.completes, entry))
        });
        match res {
            Ok(rec) => Ok((
                session.redact(&r, Mode::View, &parents.join(&rec.body), None)?,
                rec.revision,
            )),
            Err(UpdateError::Missing) => Err(not_found(&r, &i)),
            Err(UpdateError::Stale { .. }) => {
                Err(ApiError::internal("a transition expected no revision"))
            }
            Err(UpdateError::Refused(e)) => Err(e),
            Err(UpdateError::Store(e)) => Err(e.into()),
        }
    })
    .await?;
    let (shown, revision) = rec;
    Ok(([(header::ETAG, revision_tag(revision))], Json(shown)).into_response())
}

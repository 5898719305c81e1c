//! Shared records (协作人, team members): who a record is shared with, read by anyone who may
//! view it and changed by whoever may `share` it. The list is the record attribute the
//! resource names in `members`, and `member` scopes decide on it, so sharing is a write like
//! any other: checked against the record as it is, in one transaction, audited and logged.

use crate::admin::{Directory, Person};
use crate::core::{Input, Session};
use crate::server::blocking;
use crate::server::demo::data_api::{not_found, parents, record, session_for, Trail};
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::User;
use crate::server::http::body::Json as Body;
use crate::server::state::Shared;
use crate::server::store::{update_checked, UpdateError};
use crate::server::SAMPLE_APP;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Most people one record is shared with.
const MAX_MEMBERS: usize = 500;

/// Most people a picker's search answers with.
const MAX_FOUND: usize = 20;

/// `?q=`: what the person picker searches for.
#[derive(Deserialize)]
pub struct Find {
    q: Option<String>,
}

/// `{"members": ["u-bob", …]}`.
#[derive(Deserialize)]
pub struct Members {
    members: Vec<String>,
}

/// `GET /v1/data/{resource}/{id}/members`: who the record is shared with (id, name,
/// department), and whether the caller may change it (`can_share`). 404 for a record the caller
/// may not view, as for one that does not exist.
pub async fn get(
    User(person): User,
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let mut trail = Trail::new(&person, "view", &resource);
    trail.entry.records.push(id.clone());
    let out = async {
        let (session, attr) = shared(&state, &person, &resource)?;
        let parents = parents(&state, &resource).await?;
        let rec = parents.join(&record(&state, &resource, &id).await?.body);
        if !session.can("view", &resource, Input::json(Some(&rec), None))? {
            trail.entry.outcome = "forbidden".into();
            return Err(not_found(&resource, &id));
        }
        let can_share = session.can("share", &resource, Input::json(Some(&rec), None))?;
        let directory = state.directory(SAMPLE_APP).await?;
        Ok(Json(answer(&directory, ids(&rec, &attr), can_share)))
    }
    .await;
    trail.close(&state, out).await
}

/// `PUT /v1/data/{resource}/{id}/members` with `{"members": [ids]}`: shares the record with
/// exactly these people. Allowed when the caller may `share` this record as it is; every id must
/// be a person of the directory (`unknown_user`, nothing changed). Audited (who was added and
/// removed) and logged under `share`.
pub async fn put(
    User(person): User,
    State(state): State<Shared>,
    Path((resource, id)): Path<(String, String)>,
    Body(body): Body<Members>,
) -> ApiResult<Json<Value>> {
    let mut trail = Trail::new(&person, "share", &resource);
    trail.entry.records.push(id.clone());
    let hidden = Arc::new(AtomicBool::new(false));
    let out = share(
        &state,
        &person,
        &resource,
        &id,
        body.members,
        hidden.clone(),
    )
    .await;
    if hidden.load(Ordering::Relaxed) {
        trail.entry.outcome = "forbidden".into();
    }
    trail.close(&state, out).await
}

async fn share(
    state: &Shared,
    person: &Person,
    resource: &str,
    id: &str,
    wanted: Vec<String>,
    hidden: Arc<AtomicBool>,
) -> ApiResult<Json<Value>> {
    let (session, attr) = shared(state, person, resource)?;
    let directory = state.directory(SAMPLE_APP).await?;
    let mut members: Vec<String> = Vec::new();
    for m in wanted {
        if !members.contains(&m) {
            members.push(m);
        }
    }
    if members.len() > MAX_MEMBERS {
        let msg = format!("a record is shared with at most {MAX_MEMBERS} people");
        return Err(ApiError::new(ServerCode::BadRequest, msg));
    }
    let unknown: Vec<&str> = members
        .iter()
        .filter(|m| directory.get(m).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let msg = format!("no person {} in the directory", unknown.join(", "));
        return Err(ApiError::new(ServerCode::UnknownUser, msg));
    }
    let parents = parents(state, resource).await?;
    let (s, r, i) = (state.clone(), resource.to_string(), id.to_string());
    let list = members.clone();
    let was = Arc::new(std::sync::Mutex::new(Vec::new()));
    let before = was.clone();
    blocking(move || {
        let res = update_checked(&*s.store, &r, &i, None, |stored| {
            let now = &parents.join(stored);
            if !session.can("view", &r, Input::json(Some(now), None))? {
                hidden.store(true, Ordering::Relaxed);
                return Err(not_found(&r, &i));
            }
            if !session.can("share", &r, Input::json(Some(now), None))? {
                let msg = format!("`{}` may not share this {r}", session.user_id());
                return Err(ApiError::new(ServerCode::Forbidden, msg));
            }
            *before.lock().map_err(ApiError::internal)? = ids(now, &attr);
            let mut next = stored.clone();
            set(&mut next, &attr, Value::from(list.clone()));
            Ok(next)
        });
        match res {
            Ok(_) => Ok(()),
            Err(UpdateError::Missing) => Err(not_found(&r, &i)),
            Err(UpdateError::Refused(e)) => Err(e),
            Err(UpdateError::Stale { .. }) => {
                Err(ApiError::internal("sharing expected no revision"))
            }
            Err(UpdateError::Store(e)) => Err(e.into()),
        }
    })
    .await?;
    let was = was.lock().map_err(ApiError::internal)?.clone();
    let added: Vec<&String> = members.iter().filter(|m| !was.contains(m)).collect();
    let removed: Vec<&String> = was.iter().filter(|m| !members.contains(m)).collect();
    let detail = json!({"resource": resource, "record": id, "added": added, "removed": removed});
    let endpoint = format!("PUT /v1/data/{resource}/{id}/members");
    let e =
        crate::server::http::audit::entry(&person.id, "share", endpoint, Some(SAMPLE_APP), detail);
    crate::server::http::audit::record(state, e).await?;
    Ok(Json(answer(&directory, members, true)))
}

/// The caller's session and the resource's members attribute (404 `unknown_resource` for a
/// resource that shares nothing).
fn shared(state: &Shared, person: &Person, resource: &str) -> ApiResult<(Session, String)> {
    let session = session_for(state, person, resource)?;
    let attr = session
        .policy()
        .members_attribute(resource)
        .ok_or_else(|| {
            let msg =
                format!("{resource} records are not shared (the policy gives it no `members`)");
            ApiError::new(ServerCode::UnknownResource, msg)
        })?;
    Ok((session, attr))
}

/// The ids in the record's members list.
fn ids(record: &Value, attr: &str) -> Vec<String> {
    attr.split('.')
        .try_fold(record, |v, k| v.as_object()?.get(k))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Sets the value at a dotted path, making the objects on the way.
fn set(record: &mut Value, attr: &str, value: Value) {
    let mut at = record;
    let keys: Vec<&str> = attr.split('.').collect();
    for (n, k) in keys.iter().enumerate() {
        if !at.is_object() {
            *at = json!({});
        }
        let Some(m) = at.as_object_mut() else { return };
        if n + 1 == keys.len() {
            m.insert((*k).to_string(), value);
            return;
        }
        at = m.entry((*k).to_string()).or_insert_with(|| json!({}));
    }
}

/// `GET /v1/people?q=`: colleagues to share a record with, for anyone logged in (as a company
/// address book is): up to 20 people whose name, id or department holds `q` (any case), as
/// `{"people": [{id, name, department}]}`.
pub async fn people(
    User(_): User,
    State(state): State<Shared>,
    Query(find): Query<Find>,
) -> ApiResult<Json<Value>> {
    let q = find.q.unwrap_or_default().trim().to_lowercase();
    let directory = state.directory(SAMPLE_APP).await?;
    let found: Vec<Value> = directory
        .people()
        .iter()
        .filter(|p| {
            let hay = [
                p.label(),
                &p.id,
                p.department.as_deref().unwrap_or_default(),
            ];
            q.is_empty() || hay.iter().any(|h| h.to_lowercase().contains(&q))
        })
        .take(MAX_FOUND)
        .map(|p| json!({"id": p.id, "name": p.label(), "department": p.department}))
        .collect();
    Ok(Json(json!({ "people": found })))
}

/// `{"members": [{id, name, department}], "can_share"}`.
fn answer(directory: &Directory, ids: Vec<String>, can_share: bool) -> Value {
    let members: Vec<Value> = ids
        .iter()
        .map(|id| match directory.get(id) {
            Some(p) => json!({"id": id, "name": p.label(), "department": p.department}),
            None => json!({"id": id, "name": id, "department": null}),
        })
        .collect();
    json!({"members": members, "can_share": can_share})
}

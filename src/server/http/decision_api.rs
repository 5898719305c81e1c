//! The decision API, for backends that enforce with this server as a service next to them:
//! `POST /v1/apps/{app}/check` answers a batch of requests for one subject, and
//! `POST /v1/apps/{app}/filter` gives the scope filter of an action (as a tree, or as a SQL
//! `WHERE` clause). Both take a service or admin token, and answer from the current version
//! or from a stored one the caller pins, so a backend decides with the version its browser
//! pages show.

use crate::core::sql::{Dialect, SqlError};
use crate::core::{Ask, Session, Subject};
use crate::host::now_ms;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::Caller;
use crate::server::http::body::{Json as Body, LARGE};
use crate::server::services::publish::{check_app, compiled_version, unknown_app};
use crate::server::state::{Current, Shared};
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most requests in one `check` batch.
pub const MAX_BATCH: usize = 1000;

/// `POST /v1/apps/{app}/check`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    subject: Value,
    version: Option<u64>,
    requests: Vec<Value>,
    /// The batch's time (RFC 3339) for dated access; default the server's clock.
    now: Option<String>,
}

/// `POST /v1/apps/{app}/check` (service or admin): one result per request, in order; a
/// request's error is its result and does not fail the batch.
pub async fn check(
    _: Caller,
    State(state): State<Shared>,
    Path(app): Path<String>,
    Body(body): Body<CheckBody, LARGE>,
) -> ApiResult<Response> {
    if body.requests.len() > MAX_BATCH {
        return Err(ApiError::new(
            ServerCode::TooLarge,
            format!(
                "a batch holds at most {MAX_BATCH} requests, not {}",
                body.requests.len()
            ),
        ));
    }
    let now = match &body.now {
        None => now_ms(),
        Some(t) => crate::core::time::parse_rfc3339(t).ok_or_else(|| {
            ApiError::bad_request(format!("`now` is not an RFC 3339 time with an offset: {t}"))
        })?,
    };
    let (current, session) = session(&state, &app, body.version, &body.subject, now).await?;
    let results: Vec<Value> = body
        .requests
        .iter()
        .map(
            |r| match Ask::from_json(r).and_then(|a| session.answer(&a)) {
                Ok(answer) => {
                    crate::server::services::metrics::decision(match answer.allow {
                        Some(false) => "deny",
                        _ => "allow",
                    });
                    answer.to_json()
                }
                Err(e) => {
                    crate::server::services::metrics::decision("error");
                    json!({"error": {"code": e.code, "message": e.message}})
                }
            },
        )
        .collect();
    Ok(versioned(
        current.version,
        json!({"version": current.version, "results": results}),
    ))
}

/// `POST /v1/apps/{app}/filter`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterBody {
    subject: Value,
    version: Option<u64>,
    resource: String,
    /// The action; or `transition`: a transition of the resource's flow (for one with steps,
    /// the records waiting for a step this subject may sign).
    action: Option<String>,
    transition: Option<String>,
    context: Option<Value>,
    /// Attribute path -> column, for `?as=sql`.
    #[serde(default)]
    columns: BTreeMap<String, String>,
}

/// `?as=sql&dialect=postgres|mysql|sqlite`.
#[derive(Deserialize)]
pub struct FilterQuery {
    #[serde(rename = "as")]
    as_: Option<String>,
    dialect: Option<String>,
}

/// `POST /v1/apps/{app}/filter` (service or admin): the scope filter tree of (subject,
/// resource, action or flow transition); with `?as=sql`, also its `where` clause and `params` for the dialect and
/// the column mapping, or an error where SQL cannot say it exactly (never a wider filter).
pub async fn filter(
    _: Caller,
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<FilterQuery>,
    Body(body): Body<FilterBody>,
) -> ApiResult<Response> {
    let dialect = match (q.as_.as_deref(), q.dialect.as_deref()) {
        (None, None) => None,
        (Some("sql"), Some(d)) => Some(d.parse::<Dialect>().map_err(sql_error)?),
        (Some("sql"), None) => {
            return Err(ApiError::bad_request(
                "`as=sql` needs `dialect=postgres`, `mysql` or `sqlite`",
            ))
        }
        (None, Some(_)) => return Err(ApiError::bad_request("`dialect` goes with `as=sql`")),
        (Some(other), _) => {
            return Err(ApiError::bad_request(format!(
                "`as` may only be `sql`, not `{other}`"
            )))
        }
    };
    let context = crate::core::request::object(body.context.as_ref(), "context")?;
    let (current, session) = session(&state, &app, body.version, &body.subject, now_ms()).await?;
    let f = match (&body.action, &body.transition) {
        (Some(a), None) => session.scope_filter(&body.resource, a, context)?,
        (None, Some(t)) => session.transition_filter(&body.resource, t, context)?,
        _ => {
            return Err(ApiError::bad_request(
                "a filter is for one `action` or one `transition`",
            ))
        }
    };
    let mut out = json!({
        "version": current.version,
        "resource": body.resource,
        "filter": f.to_json(&session),
    });
    match (&body.action, &body.transition) {
        (Some(a), _) => out["action"] = json!(a),
        (_, Some(t)) => out["transition"] = json!(t),
        _ => {}
    }
    if let Some(d) = dialect {
        let sql = f.to_sql(&session, d, &body.columns).map_err(sql_error)?;
        out["dialect"] = json!(q.dialect);
        out["where"] = json!(sql.clause);
        out["params"] = json!(sql.params);
    }
    Ok(versioned(current.version, out))
}

fn sql_error(e: SqlError) -> ApiError {
    ApiError::new(e.code.into(), e.message)
}

/// The answer with `x-fieldgate-version`.
fn versioned(version: u64, body: Value) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert("x-fieldgate-version", HeaderValue::from(version));
    res
}

/// The version asked for (or the current one) and the subject's session on it at `now`. A
/// subject that is only `{"id"}` is the person of that id in the app's directory.
async fn session(
    state: &Shared,
    app: &str,
    version: Option<u64>,
    subject: &Value,
    now: i64,
) -> ApiResult<(Arc<Current>, Session)> {
    check_app(app)?;
    let current = policy(state, app, version).await?;
    let only_id = subject
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str);
    let subject = match only_id {
        Some(id) => state
            .directory(app)
            .await?
            .get(id)
            .map(crate::admin::Person::subject)
            .ok_or_else(|| {
                ApiError::new(
                    ServerCode::UnknownUser,
                    format!("`{id}` is not in the directory of `{app}`: give the whole subject"),
                )
            })?,
        None => serde_json::from_value::<Subject>(subject.clone())
            .map_err(|e| ApiError::bad_request(format!("bad subject: {e}")))?,
    };
    let session = current.policy().session_at(&subject, now);
    Ok((current, session))
}

/// The current version of `app`, or version `n` if it is stored and was replaced less than
/// `--max-version-age` ago (compiled once, then kept among the last few asked for).
async fn policy(state: &Shared, app: &str, n: Option<u64>) -> ApiResult<Arc<Current>> {
    let current = state.current(app).ok_or_else(|| unknown_app(app))?;
    let Some(n) = n.filter(|&n| n != current.version) else {
        return Ok(current);
    };
    let gone = |why: String| ApiError::new(ServerCode::VersionGone, why);
    let (compiled, superseded_at) = match state.pinned(app, n) {
        Some(pinned) => pinned,
        None => {
            let s = state.clone();
            let a = app.to_string();
            let stored = crate::server::blocking(move || {
                let Some(v) = s.store.version(&a, n)? else {
                    return Ok(None);
                };
                // When it stopped being current: the next version's publication.
                let next = s.store.version(&a, n + 1)?;
                Ok(Some((compiled_version(&v)?, next.map(|v| v.published_at))))
            })
            .await?;
            let (compiled, superseded_at) = match stored {
                Some((c, Some(at))) => (Arc::new(c), at),
                // Newer than this instance's current one (another instance published it and
                // the news is on its way): not superseded, so not cached as such.
                Some((c, None)) if n > current.version => return Ok(Arc::new(c)),
                _ => {
                    return Err(gone(format!(
                        "`{app}` has no version {n} (the current one is {})",
                        current.version
                    )))
                }
            };
            state.pin(app, compiled.clone(), superseded_at);
            (compiled, superseded_at)
        }
    };
    let max = i64::try_from(state.options.max_version_age.as_millis()).unwrap_or(i64::MAX);
    if now_ms().saturating_sub(superseded_at) > max {
        return Err(gone(format!(
            "version {n} of `{app}` was replaced more than {} ago (--max-version-age): ask \
             about the current one, {}",
            state.options.max_version_age, current.version
        )));
    }
    Ok(compiled)
}

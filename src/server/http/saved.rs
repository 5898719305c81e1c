//! Drafts kept on the server, per app and admin: they survive reloads and are shared by an
//! admin's tabs. Each save has a revision; a save made from an older revision (another tab
//! saved first) is refused with 412 `stale_draft`, so no save silently overwrites another.

use crate::admin::Directory;
use crate::host::now_ms;
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::audit;
use crate::server::http::auth::Admin;
use crate::server::http::body::{Json as Body, LARGE};
use crate::server::services::publish::check_app;
use crate::server::state::Shared;
use crate::server::store::{DraftError, NewDraft};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// `{"document": <policy>, "base": <version>?}`.
#[derive(Deserialize)]
pub struct DraftBody {
    document: Value,
    base: Option<u64>,
}

fn tag(revision: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"d{revision}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// `GET /v1/apps/{app}/draft` (admin): the admin's draft of the app, `{"document", "base",
/// "revision", "updated_at", "directory"}` (`directory`: the people it will publish, when
/// an upload changed them; else null) with its revision as the ETag; 404 when there is none.
pub async fn get(
    Admin(admin): Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
) -> ApiResult<Response> {
    check_app(&app)?;
    let s = state.clone();
    let a = app.clone();
    let d = blocking(move || Ok(s.store.draft(&a, &admin)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no draft of `{app}` is saved")))?;
    let document: Value = serde_json::from_str(&d.document).map_err(ApiError::internal)?;
    let directory: Option<Value> = d
        .directory
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(ApiError::internal)?;
    let body = json!({
        "document": document,
        "base": d.base,
        "revision": d.revision,
        "updated_at": d.updated_at,
        "directory": directory,
    });
    Ok(([(header::ETAG, tag(d.revision))], Json(body)).into_response())
}

/// `PUT /v1/apps/{app}/draft` (admin): saves the admin's draft (any JSON object: a draft may
/// be invalid while it is being edited). With `If-Match: "d<revision>"` only if no other save
/// came since (412 `stale_draft` otherwise, with the revision now stored). Answers the new
/// revision.
pub async fn put(
    Admin(admin): Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Body(body): Body<DraftBody, LARGE>,
) -> ApiResult<Response> {
    check_app(&app)?;
    if !body.document.is_object() {
        return Err(ApiError::new(
            ServerCode::WrongType,
            "a draft is a JSON object",
        ));
    }
    let expected = headers.get(header::IF_MATCH).map(draft_tag).transpose()?;
    let d = NewDraft {
        document: body.document.to_string(),
        base: body.base,
        at: now_ms(),
        directory: None,
    };
    let (s, a, who) = (state.clone(), app.clone(), admin.clone());
    let revision = blocking(move || match s.store.put_draft(&a, &who, &d, expected) {
        Ok(r) => Ok(r),
        Err(DraftError::Stale { revision }) => Err(ApiError::new(
            ServerCode::StaleDraft,
            "another save of this draft came first (another tab?): load it again",
        )
        .with_detail(json!({ "revision": revision }))),
        Err(DraftError::Store(e)) => Err(e.into()),
    })
    .await?;
    let endpoint = format!("PUT /v1/apps/{app}/draft");
    let e = audit::entry(
        &admin,
        "draft",
        endpoint,
        Some(&app),
        json!({"revision": revision, "base": body.base}),
    );
    audit::record(&state, e).await?;
    Ok((
        [(header::ETAG, tag(revision))],
        Json(json!({ "revision": revision })),
    )
        .into_response())
}

/// The revision in an `If-Match: "d<revision>"` header (`"d0"`: no draft).
///
/// # Errors
/// 400 when it is not a draft's ETag.
pub fn draft_tag(v: &HeaderValue) -> ApiResult<u64> {
    v.to_str()
        .ok()
        .map(|t| t.trim().trim_matches('"').trim_start_matches('d'))
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| ApiError::bad_request("If-Match must be a draft's ETag"))
}

/// `DELETE /v1/apps/{app}/draft` (admin): forgets the admin's draft (after publishing it, or
/// to start over).
pub async fn delete(
    Admin(admin): Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
) -> ApiResult<Response> {
    check_app(&app)?;
    let s = state.clone();
    blocking(move || Ok(s.store.delete_draft(&app, &admin)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The people waiting in `admin`'s draft of `app` to be published, when they differ from the
/// directory in force.
///
/// # Errors
/// When the store fails, or 500 when the stored people are not a directory.
pub async fn pending_directory(
    state: &Shared,
    app: &str,
    admin: &str,
) -> ApiResult<Option<Arc<Directory>>> {
    let (s, a, who) = (state.clone(), app.to_string(), admin.to_string());
    let Some(text) = blocking(move || Ok(s.store.draft(&a, &who)?))
        .await?
        .and_then(|d| d.directory)
    else {
        return Ok(None);
    };
    let people: Value = serde_json::from_str(&text).map_err(ApiError::internal)?;
    let current = state.directory(app).await?;
    if current.to_json() == people {
        return Ok(None);
    }
    let d = Directory::from_json(&people, None)
        .map_err(|e| ApiError::internal(format!("the draft's directory is bad: {e:?}")))?;
    Ok(Some(Arc::new(d)))
}

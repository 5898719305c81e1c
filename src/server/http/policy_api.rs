//! Policy endpoints: bundles (with ETags), versions, diffs, publish, rollback, the directory,
//! and the server-sent events that announce new versions.

use crate::admin::Directory;
use crate::bundle::Encoding;
use crate::host::now_ms;
use crate::host::sync::UnpoisonedRw;
use crate::host::table::XLSX;
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::{Admin, Caller, MaybeAdmin, User};
use crate::server::http::body::{Json as Body, Raw, LARGE};
use crate::server::http::lang::Want;
use crate::server::http::{saved, scopes};
use crate::server::services::limits::{refusal, ClientIp};
use crate::server::services::publish::{
    self, check, check_app, compiled_version, diff_json, unknown_app, Publication,
};
use crate::server::state::Shared;
use crate::server::store::{AuditEntry, DraftError, NewDraft, Reassign, Version};
use crate::server::SAMPLE_APP;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::broadcast;

/// `?for=me`.
#[derive(Deserialize)]
pub struct BundleQuery {
    #[serde(rename = "for")]
    for_: Option<String>,
}

/// `GET /v1/apps/{app}/bundle`: JSON, or binary for `Accept: application/octet-stream`.
/// `?for=me` gives the logged-in person their minimized bundle, bound to their id. The whole
/// bundle (every person's personal grants and denies) needs an admin or service token, unless
/// the server was started with `--public-bundle`.
pub async fn get_bundle(
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<BundleQuery>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    check_app(&app)?;
    let (mut parts, _) = req.into_parts();
    let headers = parts.headers.clone();
    let now = now_ms();
    let subject = match q.for_.as_deref() {
        None => {
            if !state.options.public_bundle {
                use axum::extract::FromRequestParts;
                Caller::from_request_parts(&mut parts, &state).await?;
            }
            None
        }
        Some("me") => {
            use axum::extract::FromRequestParts;
            let User(person) = User::from_request_parts(&mut parts, &state).await?;
            Some(person.subject())
        }
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
    let cache = if subject.is_some() || !state.options.public_bundle {
        "private, no-cache"
    } else {
        "public, no-cache"
    };
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, served.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Cookie, Authorization"),
    );
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

/// `GET /v1/apps/{app}/versions` (admin): every version, newest first, without documents.
pub async fn versions(
    _: Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
    let s = state.clone();
    let a = app.clone();
    let list = blocking(move || Ok(s.store.versions(&a)?)).await?;
    if list.is_empty() {
        return Err(unknown_app(&app));
    }
    let current = state.current(&app).map(|c| c.version);
    Ok(Json(
        json!({"app": app, "current": current, "versions": list}),
    ))
}

/// `GET /v1/apps/{app}/versions/{n}` (admin): one version with its document and signed bundle.
pub async fn version(
    _: Admin,
    State(state): State<Shared>,
    Path((app, n)): Path<(String, u64)>,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
    let v = stored(&state, &app, n).await?;
    let doc: Value = serde_json::from_str(&v.document).map_err(ApiError::internal)?;
    let bundle: Value = serde_json::from_str(&v.bundle).map_err(ApiError::internal)?;
    let kept = match v.directory.clone() {
        Some(sha) => {
            let (s, a) = (state.clone(), app.clone());
            blocking(move || Ok(s.store.directory_snapshot(&a, &sha)?)).await?
        }
        None => None,
    };
    let mut out = serde_json::to_value(&v).map_err(ApiError::internal)?;
    out["document"] = doc;
    out["bundle"] = bundle;
    // The people in force from this version on (null: from before they were kept).
    out["directory"] = kept.unwrap_or(Value::Null);
    Ok(Json(out))
}

/// `?from=&to=` (`to` defaults to the current version).
#[derive(Deserialize)]
pub struct DiffQuery {
    from: u64,
    to: Option<u64>,
}

/// `GET /v1/apps/{app}/diff?from=&to=` (admin): structural and access diff, each version with
/// the directory it was published with (versions from before directories were versioned: the
/// one in force), with summary lines naming who.
pub async fn diff(
    _: Admin,
    Want(lang): Want,
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
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
        stored(&state, &app, q.from).await?,
        stored(&state, &app, to).await?,
    );
    // Each version with the people it was in force with.
    let (was, is) = (
        people_of(&state, &app, &a).await?,
        people_of(&state, &app, &b).await?,
    );
    let s = state.clone();
    let d = blocking(move || {
        let (a, b) = (compiled_version(&a)?, compiled_version(&b)?);
        let people = [was.as_deref(), is.as_deref()];
        publish::access_diff(&s, &a, &b.checked, people)
    })
    .await?;
    let mut out = diff_json(&d, lang);
    out["from"] = json!(q.from);
    out["to"] = json!(to);
    Ok(Json(out))
}

/// `?dry_run=true`: check and diff only; `reassign_from` and `reassign_to`: move the leaver's
/// records to the successor in the publishing transaction.
#[derive(Deserialize)]
pub struct PublishQuery {
    #[serde(default)]
    dry_run: bool,
    /// The admin's note on the version (at most 500 characters kept).
    note: Option<String>,
    reassign_from: Option<String>,
    reassign_to: Option<String>,
}

/// `POST /v1/apps/{app}/policy` (admin): publish the body as the next version. With
/// `If-Match: "<version>"`, only if that version is still current (409 `conflict`
/// otherwise). With `?dry_run=true`, only check it and return the access diff. People waiting
/// in the admin's draft (a directory upload) are published with it, in the same version.
pub async fn publish_policy(
    Admin(by): Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<PublishQuery>,
    headers: HeaderMap,
    Body(doc): Body<Value, LARGE>,
) -> ApiResult<Response> {
    check_app(&app)?;
    let base = if_match(&headers)?;
    let directory = state.directory(&app).await?;
    let pending = saved::pending_directory(&state, &app, &by).await?;
    let endpoint = format!("POST /v1/apps/{app}/policy");
    scopes::check_policy(&state, &by, &app, &doc, &endpoint).await?;
    if let Some(people) = &pending {
        scopes::check_people(&state, &by, &app, people, &endpoint).await?;
    }
    if q.dry_run {
        let s = state.clone();
        let a = app.clone();
        let then = pending.clone();
        let (next, c, lint) = blocking(move || {
            let current = s.current(&a);
            let next = s.store.last_version(&a)?.map_or(1, |v| v + 1);
            let now = (!directory.is_empty()).then_some(&*directory);
            let people = [now, then.as_deref().or(now)];
            let c = check(&s, &a, doc, next, current.as_deref(), people)?;
            let lint = new_warnings(current.as_deref(), &c.checked, people);
            Ok((next, c, lint))
        })
        .await?;
        let mut out = c.diff_json(Want::of(&headers));
        out["lint"] = json!(lint);
        out["directory"] = json!(pending.map(|d| d.len()));
        out["dry_run"] = json!(true);
        out["version"] = json!(next);
        out["current"] = json!(state.current(&app).map(|c| c.version));
        return Ok(Json(out).into_response());
    }
    let reassign = match (q.reassign_from, q.reassign_to) {
        (Some(from), Some(to)) => {
            scopes::check_persons(&state, &by, &app, &[&from, &to], &endpoint).await?;
            Some(reassign_for(&state, &app, from, to).await?)
        }
        (None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "give both reassign_from and reassign_to",
            ))
        }
    };
    let publication = Publication {
        doc,
        by,
        base,
        reassign,
        note: q
            .note
            .map(|n| publish::shorten(n.trim(), 500))
            .filter(|n| !n.is_empty()),
        directory: pending,
        kind: "publish",
        endpoint,
    };
    published(&state, app, publication, directory).await
}

/// Publishes (or rolls back: a publication either way) against today's `directory`: 201 with
/// the new version.
async fn published(
    state: &Shared,
    app: String,
    publication: Publication,
    directory: Arc<Directory>,
) -> ApiResult<Response> {
    let s = state.clone();
    let v = blocking(move || {
        let people = (!directory.is_empty()).then_some(&*directory);
        publish::publish(&s, &app, publication, people, now_ms())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!(v))).into_response())
}

/// The records to move from `from` to `to` (both in the app's directory), by each resource's
/// owner attribute.
async fn reassign_for(state: &Shared, app: &str, from: String, to: String) -> ApiResult<Reassign> {
    if app != SAMPLE_APP {
        return Err(ApiError::bad_request(format!(
            "records are kept for `{SAMPLE_APP}` only"
        )));
    }
    let directory = state.directory(app).await?;
    for u in [&from, &to] {
        if directory.get(u).is_none() {
            return Err(ApiError::new(
                ServerCode::UnknownUser,
                format!("`{u}` is not in the directory of `{app}`"),
            ));
        }
    }
    let current = state.current(app).ok_or_else(|| unknown_app(app))?;
    Ok(Reassign {
        from,
        to,
        owners: owners(current.doc()),
        only: None,
    })
}

/// Each resource's owner attribute, from a document.
pub fn owners(doc: &Value) -> Vec<(String, String)> {
    doc.get("resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(r, d)| Some((r.clone(), d.get("owner")?.as_str()?.to_string())))
        .collect()
}

/// `If-Match: "<version>"`, if given.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|t| t.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request("If-Match must be a version number in quotes, e.g. \"3\"")
        })
}

/// `?move_records_back=true`: give back the records the version rolled back from moved.
#[derive(Deserialize)]
pub struct RollbackQuery {
    #[serde(default)]
    move_records_back: bool,
}

/// `POST /v1/apps/{app}/rollback-to/{n}` (admin): publish version `n`'s document again as a
/// new, higher version (with `If-Match`, only if that version is still current). With
/// `?move_records_back=true`, records moved by later versions go back to their owners.
pub async fn rollback(
    Admin(by): Admin,
    State(state): State<Shared>,
    Path((app, n)): Path<(String, u64)>,
    Query(q): Query<RollbackQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_app(&app)?;
    let base = if_match(&headers)?;
    let old = stored(&state, &app, n).await?;
    let doc: Value = serde_json::from_str(&old.document).map_err(ApiError::internal)?;
    let endpoint = format!("POST /v1/apps/{app}/rollback-to/{n}");
    scopes::check_policy(&state, &by, &app, &doc, &endpoint).await?;
    let reassign = if q.move_records_back {
        moved_back(&state, &app, n).await?
    } else {
        None
    };
    let directory = state.directory(&app).await?;
    // The people as they were at version n, when they were kept and differ from today's.
    let then = people_of(&state, &app, &old)
        .await?
        .filter(|d| d.to_json() != directory.to_json());
    if let Some(people) = &then {
        scopes::check_people(&state, &by, &app, people, &endpoint).await?;
    }
    let publication = Publication {
        doc,
        by,
        base,
        reassign,
        directory: then,
        note: Some(format!("rollback to {n}")),
        kind: "rollback",
        endpoint,
    };
    published(&state, app, publication, directory).await
}

/// What gives back the records versions after `n` moved (the newest such move).
async fn moved_back(state: &Shared, app: &str, n: u64) -> ApiResult<Option<Reassign>> {
    let s = state.clone();
    let a = app.to_string();
    let versions = blocking(move || Ok(s.store.versions(&a)?)).await?;
    let Some(moved) = versions
        .iter()
        .filter(|v| v.version > n)
        .find_map(|v| v.reassigned.clone())
    else {
        return Ok(None);
    };
    let text = |k: &str| {
        moved
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let current = state.current(app).ok_or_else(|| unknown_app(app))?;
    Ok(Some(Reassign {
        from: text("to"),
        to: text("from"),
        owners: owners(current.doc()),
        only: moved.get("records").cloned(),
    }))
}

/// `GET /v1/apps/{app}/directory` (admin): the app's people, as JSON (or as a workbook with
/// `Accept` naming XLSX, or CSV for `text/csv`).
pub async fn get_directory(
    _: Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_app(&app)?;
    let d = state.directory(&app).await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("spreadsheetml") {
        let bytes = crate::host::sheets::directory_workbook(&d).map_err(ApiError::internal)?;
        return Ok(([(header::CONTENT_TYPE, XLSX)], bytes).into_response());
    }
    if accept.contains("text/csv") {
        let bytes = crate::host::table::write_csv(&d.to_table());
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response());
    }
    Ok(Json(json!({"app": app, "people": d.to_json()})).into_response())
}

/// `?encoding=auto|utf-8|gbk` for a CSV directory; `?apply=now` to skip the draft (only on a
/// server started with `--directory-apply-now`).
#[derive(Deserialize)]
pub struct DirectoryQuery {
    encoding: Option<String>,
    apply: Option<String>,
}

/// `PUT /v1/apps/{app}/directory` (admin): the app's people from a CSV, XLSX or JSON body,
/// into the admin's draft: they take effect when the draft is published, in the same version
/// as its policy changes. Answers the access diff they make (with the draft's policy) and the
/// lint warnings they bring. Every bad row is reported (422 `bad_directory`, with row and
/// column) and nothing is stored. With `?apply=now` (a server started with
/// `--directory-apply-now`, for an identity-provider sync) they take effect at once; otherwise
/// that is 403 `forbidden`. An app with no published version takes them at once: nobody has
/// access to change yet.
pub async fn put_directory(
    Admin(by): Admin,
    Want(lang): Want,
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<DirectoryQuery>,
    Raw(bytes): Raw<LARGE>,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
    let encoding = q
        .encoding
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .map_err(ApiError::bad_request)?;
    let now = match q.apply.as_deref() {
        None => false,
        Some("now") if state.options.directory_apply_now => true,
        Some("now") => {
            return Err(ApiError::new(
                ServerCode::Forbidden,
                "this server reviews directory changes: they go into your draft and take \
                 effect when it is published (start it with --directory-apply-now for an \
                 identity-provider sync)",
            ))
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`apply` is `now` or absent, not `{other}`"
            )))
        }
    };
    let current = state.current(&app);
    let policy = current.clone();
    // Reading a workbook takes memory and time (within the reader's limits): off the async
    // threads.
    let d = blocking(move || {
        let org = policy.as_ref().map(|c| crate::admin::directory::Org {
            policy: c.policy(),
            doc: Some(c.doc()),
        });
        crate::host::sheets::read_directory(&bytes, encoding, org).map_err(|e| match e {
            crate::host::sheets::DirectoryLoadError::Unreadable(e) => {
                ApiError::new(ServerCode::BadDirectory, e.message())
            }
            crate::host::sheets::DirectoryLoadError::Rows(rows) => ApiError::new(
                ServerCode::BadDirectory,
                format!("{} bad row(s); nothing was stored", rows.len()),
            )
            .with_cells(&rows),
        })
    })
    .await?;
    scopes::check_people(
        &state,
        &by,
        &app,
        &d,
        &format!("PUT /v1/apps/{app}/directory"),
    )
    .await?;
    let was = state.directory(&app).await?;
    let count = d.len();
    let ignored = d.ignored_columns().to_vec();
    match current {
        Some(current) if !now => {
            let Json(mut out) = to_draft(&state, &app, &by, lang, current, was, d).await?;
            out["ignored_columns"] = json!(ignored);
            Ok(Json(out))
        }
        _ => {
            let moved = crate::admin::directory_changes(&was, &d);
            let people = d.to_json();
            let entry = AuditEntry {
                id: 0,
                at: now_ms(),
                actor: by.clone(),
                kind: "directory".into(),
                endpoint: format!("PUT /v1/apps/{app}/directory"),
                app: Some(app.clone()),
                detail: json!({ "people": count, "directory": moved }),
            };
            let (s, a) = (state.clone(), app.clone());
            blocking(move || {
                s.store.put_directory(&a, &people, &by, entry.at)?;
                Ok(s.store.add_audit(&entry)?)
            })
            .await?;
            state.forget_directory(&app);
            Ok(Json(
                json!({"app": app, "people": count, "applied": true, "ignored_columns": ignored}),
            ))
        }
    }
}

/// Puts people into `admin`'s draft of `app` (made from the current version when there is
/// none), keeping its policy; answers the access diff and the new lint warnings.
async fn to_draft(
    state: &Shared,
    app: &str,
    admin: &str,
    lang: crate::admin::words::Lang,
    current: Arc<crate::server::state::Current>,
    was: Arc<Directory>,
    is: Directory,
) -> ApiResult<Json<Value>> {
    let moved = crate::admin::directory_changes(&was, &is);
    let people = is.to_json().to_string();
    let (s, a, who) = (state.clone(), app.to_string(), admin.to_string());
    let base_doc = current.doc().to_string();
    let base = current.version;
    // Only the people change: a save that lost to another tab is made again on its draft.
    let (revision, doc) = blocking(move || {
        for _ in 0..4 {
            let draft = s.store.draft(&a, &who)?;
            let (document, draft_base, expected) = match &draft {
                Some(d) => (d.document.clone(), d.base, d.revision),
                None => (base_doc.clone(), Some(base), 0),
            };
            let new = NewDraft {
                document: document.clone(),
                base: draft_base,
                at: now_ms(),
                directory: Some(people.clone()),
            };
            match s.store.put_draft(&a, &who, &new, Some(expected)) {
                Ok(r) => return Ok((r, document)),
                Err(DraftError::Stale { .. }) => continue,
                Err(DraftError::Store(e)) => return Err(e.into()),
            }
        }
        Err(ApiError::new(
            ServerCode::StaleDraft,
            "the draft kept changing while the people were saved into it: try again",
        ))
    })
    .await?;
    let count = is.len();
    let e = crate::server::http::audit::entry(
        admin,
        "directory_draft",
        format!("PUT /v1/apps/{app}/directory"),
        Some(app),
        json!({"people": count, "revision": revision, "directory": moved}),
    );
    crate::server::http::audit::record(state, e).await?;
    let s = state.clone();
    let (diff, lint) = blocking(move || {
        let doc: Value = serde_json::from_str(&doc).map_err(ApiError::internal)?;
        // A draft being edited may not compile yet: then the people are saved, undiffed.
        let Ok(checked) = crate::core::Checked::from_value(doc) else {
            return Ok((Value::Null, Vec::new()));
        };
        let people = [(!was.is_empty()).then_some(&*was), Some(&is)];
        let d = publish::access_diff(&s, &current, &checked, people)?;
        let lint = new_warnings(Some(&current), &checked, people);
        Ok((diff_json(&d, lang), lint))
    })
    .await?;
    Ok(Json(json!({
        "app": app,
        "people": count,
        "applied": false,
        "revision": revision,
        "diff": diff,
        "lint": lint,
    })))
}

/// The query of `GET /v1/events`.
#[derive(Deserialize)]
pub struct EventsQuery {
    ticket: Option<String>,
}

/// `GET /v1/events`: server-sent events, one `published` event per new version. With a
/// `ticket` from `POST /v1/admin/events-ticket`, admin events too (`alert`, with the access
/// log's alert). Streams are capped per client address and in total.
pub async fn events(
    State(state): State<Shared>,
    ip: Option<Extension<ClientIp>>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Response> {
    let admin = match q.ticket {
        Some(t) => {
            if !crate::server::http::auth::redeem_ticket(&state, &t) {
                return Err(ApiError::unauthorized(
                    "this events ticket is not valid (they last a minute and work once)",
                ));
            }
            true
        }
        None => false,
    };
    let ip = ip.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |Extension(c)| c.0);
    let o = &state.options;
    let slot = state
        .streams
        .take(ip, o.max_streams_per_client, o.max_streams)
        .map_err(|f| refusal(f, "event streams"))?;
    let public = state.events.subscribe();
    let private = admin.then(|| state.admin_events.subscribe());
    let stopping = state.stopping.subscribe();
    let stream = futures_util::stream::unfold(
        (public, private, stopping, slot),
        |(mut public, mut private, mut stopping, slot)| async move {
            let (name, data) = tokio::select! {
                _ = stopping.wait_for(|s| *s) => return None,
                next = next_event(&mut public, private.as_mut()) => next?,
            };
            let e = Event::default().event(name).data(data);
            Some((
                Ok::<_, std::convert::Infallible>(e),
                (public, private, stopping, slot),
            ))
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The next event for a stream: a publication, or with `private` an admin event (`alert` or
/// `admin`); `None` when the server's channels close. A stream that lagged skips what it missed.
async fn next_event(
    public: &mut broadcast::Receiver<String>,
    mut private: Option<&mut broadcast::Receiver<String>>,
) -> Option<(&'static str, String)> {
    use broadcast::error::RecvError;
    loop {
        let next = match private.as_deref_mut() {
            Some(p) => tokio::select! {
                r = public.recv() => r.map(|d| ("published", d)),
                r = p.recv() => r.map(|d| {
                    let kind = serde_json::from_str::<Value>(&d)
                        .ok()
                        .and_then(|v| v["type"].as_str().map(str::to_string));
                    (if kind.as_deref() == Some("alert") { "alert" } else { "admin" }, d)
                }),
            },
            None => public.recv().await.map(|d| ("published", d)),
        };
        match next {
            Ok(e) => return Some(e),
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return None,
        }
    }
}

/// `POST /v1/admin/events-ticket` (admin): a ticket for `GET /v1/events?ticket=` (an
/// EventSource cannot send the admin token), valid for one minute and one stream.
pub async fn events_ticket(_: Admin, State(state): State<Shared>) -> ApiResult<Json<Value>> {
    let ticket = crate::server::http::auth::issue_ticket(&state)?;
    Ok(Json(
        json!({ "ticket": ticket, "expires_in_ms": crate::server::http::auth::TICKET_MS }),
    ))
}

/// `GET /v1/config`: what a page needs to trust bundles (the demo pins the key from here).
pub async fn config(State(state): State<Shared>, admin: MaybeAdmin) -> Json<Value> {
    let public = state.key.public();
    // During a rotation both keys sign, and clients should trust both.
    let trusted: Vec<String> = std::iter::once(&state.key)
        .chain(&state.next_key)
        .map(|k| k.public().to_base64())
        .collect();
    let mut apps: Vec<String> = state.current.reading().keys().cloned().collect();
    apps.sort();
    Json(json!({
        "apps": apps,
        "trusted_keys": trusted,
        "key_id": public.id(),
        "public_bundle": state.options.public_bundle,
        "admin": admin.0,
    }))
}

/// The lint warnings of a candidate (with the people it will have) that the current version
/// (with today's people) does not have: what the change brings, such as a person who may now
/// both create and approve.
pub fn new_warnings(
    current: Option<&crate::server::state::Current>,
    new: &crate::core::Checked,
    people: [Option<&Directory>; 2],
) -> Vec<crate::admin::Warning> {
    let horizon = crate::admin::Horizon::at(crate::host::now_ms());
    let before = current
        .map(|c| crate::admin::lint(&c.checked, people[0], horizon))
        .unwrap_or_default();
    crate::admin::lint(new, people[1], horizon)
        .into_iter()
        .filter(|w| !before.contains(w))
        .collect()
}

/// The people a version was in force with: its directory snapshot, else (a version from before
/// they were kept) the directory in force now; none when there is no directory.
async fn people_of(state: &Shared, app: &str, v: &Version) -> ApiResult<Option<Arc<Directory>>> {
    let kept = match v.directory.clone() {
        Some(sha) => {
            let (s, a) = (state.clone(), app.to_string());
            blocking(move || Ok(s.store.directory_snapshot(&a, &sha)?)).await?
        }
        None => None,
    };
    let d = match kept {
        Some(people) => Arc::new(Directory::from_json(&people, None).map_err(|e| {
            ApiError::internal(format!("a kept directory of `{app}` is bad: {e:?}"))
        })?),
        None => state.directory(app).await?,
    };
    Ok((!d.is_empty()).then_some(d))
}

async fn stored(state: &Shared, app: &str, n: u64) -> ApiResult<Version> {
    let s = state.clone();
    let a = app.to_string();
    blocking(move || Ok(s.store.version(&a, n)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("app `{app}` has no version {n}")))
}

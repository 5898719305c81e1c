//! Admin helpers that turn a draft policy document into another draft (nothing is published
//! until `POST .../policy`): staff transfer, permission matrices (CSV, XLSX, JSON, and cell
//! edits from the page), and previews.

use crate::admin::matrix::{self, CellEdit, CellError, Matrix};
use crate::admin::words::Lang;
use crate::admin::{transfer, Selection, Transfer, TransferError};
use crate::core::{Checked, Policy};
use crate::host::table::XLSX;
use crate::host::{sheets, table};
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::Admin;
use crate::server::http::body::{Json as Body, LARGE};
use crate::server::http::lang::Want;
use crate::server::state::Shared;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// An admin's request about a draft: `{"document": <policy>, ...}`, the token checked before
/// the body is read, the document compiled (422 `bad_policy` otherwise), the rest read as `T`.
pub struct Draft<T> {
    /// The admin.
    pub admin: String,
    /// The draft document.
    pub doc: Value,
    /// It, compiled.
    pub policy: Arc<Policy>,
    /// The rest of the request.
    pub rest: T,
    /// The admin's language (`Accept-Language`), for the diff's words.
    pub lang: Lang,
}

impl<T: DeserializeOwned> FromRequest<Shared> for Draft<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &Shared) -> ApiResult<Draft<T>> {
        let (mut parts, body) = req.into_parts();
        use axum::extract::FromRequestParts;
        let Admin(admin) = Admin::from_request_parts(&mut parts, state).await?;
        let lang = Want::of(&parts.headers);
        let req = Request::from_parts(parts, body);
        let Body(mut all): Body<Value, LARGE> = Body::from_request(req, state).await?;
        let doc = all
            .as_object_mut()
            .and_then(|o| o.remove("document"))
            .ok_or_else(|| ApiError::new(ServerCode::BadJson, "the body needs a `document`"))?;
        let policy = Arc::new(Policy::from_value(&doc).map_err(|e| ApiError::bad_policy(&e))?);
        let rest: T = serde_json::from_value(all)
            .map_err(|e| ApiError::new(ServerCode::BadJson, e.to_string()))?;
        Ok(Draft {
            admin,
            doc,
            policy,
            rest,
            lang,
        })
    }
}

/// A transfer request on a draft.
#[derive(Deserialize)]
pub struct TransferBody {
    from: String,
    to: String,
    #[serde(default)]
    copy: bool,
    #[serde(default)]
    new_successor: bool,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    grants: Option<Vec<String>>,
    #[serde(default)]
    denies: Option<Vec<String>>,
    #[serde(default)]
    limits: Option<Vec<String>>,
    /// With `copy`: the stand-in's access ends then (RFC 3339).
    #[serde(default)]
    until: Option<String>,
}

/// `POST /v1/drafts/transfer` (admin): the draft with `from`'s roles, grants, denies and
/// limits (all, or those chosen) moved (or copied) to `to`, what moved, and the access diff.
pub async fn transfer_draft(
    State(state): State<Shared>,
    d: Draft<TransferBody>,
) -> ApiResult<Json<Value>> {
    let b = d.rest;
    let app = d.policy.app().to_string();
    let directory = state.directory(&app).await?;
    let t = Transfer {
        from: b.from,
        to: b.to,
        copy: b.copy,
        until: b.until,
        new_successor: b.new_successor,
        selection: Selection {
            roles: b.roles,
            grants: b.grants,
            denies: b.denies,
            limits: b.limits,
        },
    };
    let people = (!directory.is_empty()).then_some(&*directory);
    match transfer(&d.doc, &t, people) {
        Ok((document, report)) => Ok(Json(json!({"document": document, "report": report}))),
        Err(TransferError::BadPolicy(e)) => Err(ApiError::bad_policy(&e)),
        Err(e) => Err(ApiError::new(e.code().into(), e.to_string())),
    }
}

/// A matrix export request.
#[derive(Deserialize)]
pub struct ExportBody {
    resource: String,
    #[serde(default)]
    people: bool,
}

/// `?format=csv|xlsx|json`.
#[derive(Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// `POST /v1/drafts/matrix/export?format=csv|xlsx|json` (admin): the resource's matrix, as
/// `fieldgate matrix export` writes it; with `"people": true`, a read-only row per person of
/// the app's directory too.
pub async fn matrix_export(
    State(state): State<Shared>,
    Query(q): Query<FormatQuery>,
    d: Draft<ExportBody>,
) -> ApiResult<Response> {
    let directory = if d.rest.people {
        Some(state.directory(d.policy.app()).await?)
    } else {
        None
    };
    let people = directory.as_ref().map(|d| d.people()).unwrap_or_default();
    let at = crate::host::now_ms();
    let m = Matrix::build_in(
        &d.doc,
        &d.policy,
        &d.rest.resource,
        None,
        (people, at),
        d.lang,
    )
    .map_err(|m| ApiError::new(ServerCode::UnknownResource, m))?;
    let format = q.format.as_deref().unwrap_or("csv");
    // Who can do what leaves the server as a file: logged like a change. The JSON form is
    // what the console's matrix tab shows, a view like any other page.
    if format != "json" {
        let detail =
            json!({"resource": d.rest.resource, "format": format, "people": d.rest.people});
        let endpoint = "POST /v1/drafts/matrix/export".to_string();
        let e = crate::server::http::audit::entry(
            &d.admin,
            "export",
            endpoint,
            Some(d.policy.app()),
            detail,
        );
        crate::server::http::audit::record(&state, e).await?;
    }
    match format {
        "csv" => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            table::write_csv(&m.table()),
        )
            .into_response()),
        "xlsx" => {
            let bytes = sheets::matrix_workbook(&m).map_err(ApiError::internal)?;
            Ok(([(header::CONTENT_TYPE, XLSX)], bytes).into_response())
        }
        "json" => Ok(Json(json!(m)).into_response()),
        other => Err(ApiError::bad_request(format!(
            "`format` is csv, xlsx or json, not `{other}`"
        ))),
    }
}

/// A matrix import request: the sheet as CSV text (`csv`) or as base64 XLSX or CSV bytes
/// (`file`), with the CSV's encoding.
#[derive(Deserialize)]
pub struct ImportBody {
    resource: String,
    csv: Option<String>,
    file: Option<String>,
    encoding: Option<String>,
}

/// `POST /v1/drafts/matrix/import` (admin): the draft with what an edited matrix (CSV or XLSX)
/// can change applied, the access diff, and `refused`: every cell that could not be applied
/// (sheet, row, column, message). 422 `bad_cells` when nothing can be applied (a header that
/// is not the matrix's, or no cell that can be made).
pub async fn matrix_import(
    State(state): State<Shared>,
    d: Draft<ImportBody>,
) -> ApiResult<Json<Value>> {
    let b = d.rest;
    let encoding: table::Encoding = b
        .encoding
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .map_err(ApiError::bad_request)?;
    let bytes = match (b.csv, b.file) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| ApiError::bad_request("`file` is not base64"))?,
        _ => return Err(ApiError::bad_request("give `csv` or `file`")),
    };
    // Reading a workbook takes memory and time (within the reader's limits): off the async
    // threads, like the import itself.
    let (doc, policy, lang, admin) = (d.doc, d.policy.clone(), d.lang, d.admin);
    let out = crate::server::blocking(move || {
        let sheets = table::read_any(&bytes, encoding).map_err(|e| {
            cells(vec![CellError {
                sheet: String::new(),
                row: 0,
                column: String::new(),
                message: e.to_string(),
            }])
        })?;
        let first = sheets
            .first()
            .ok_or_else(|| ApiError::bad_request("the file has no sheet"))?;
        let sheet = if table::is_xlsx(&bytes) {
            first.name.as_str()
        } else {
            ""
        };
        matrix::import_partly(&doc, &policy, &b.resource, &first.rows, sheet).map_err(cells)
    })
    .await?;
    let (out, refused) = out;
    let Json(mut answer) = with_diff(&state, &d.policy, out, (&admin, lang), false).await?;
    answer["refused"] = json!(refused);
    Ok(Json(answer))
}

/// A page's cell edits.
#[derive(Deserialize)]
pub struct EditsBody {
    resource: String,
    edits: Vec<EditBody>,
}

/// One cell edit: a role, a column (`field:<name>` or `action:<name>`) and a value.
#[derive(Deserialize)]
pub struct EditBody {
    role: String,
    column: String,
    value: String,
}

/// `POST /v1/drafts/matrix/edit` (admin): the draft with cell edits made (each changes its
/// cell and nothing else, or all are refused with the reason), and the access diff.
pub async fn matrix_edit(
    State(state): State<Shared>,
    d: Draft<EditsBody>,
) -> ApiResult<Json<Value>> {
    let edits: Vec<CellEdit> = d
        .rest
        .edits
        .into_iter()
        .map(|e| CellEdit {
            role: e.role,
            column: e.column,
            value: e.value,
            row: 0,
        })
        .collect();
    let out = matrix::apply(&d.doc, &d.policy, &d.rest.resource, &edits).map_err(cells)?;
    with_diff(&state, &d.policy, out, (&d.admin, d.lang), false).await
}

/// `POST /v1/drafts/check` (admin): the draft checked (422 `bad_policy` with every JSON path)
/// and diffed against the current version, for the app's people.
pub async fn check_draft(State(state): State<Shared>, d: Draft<Value>) -> ApiResult<Json<Value>> {
    with_diff(&state, &d.policy, d.doc.clone(), (&d.admin, d.lang), true).await
}

/// No more than the draft.
#[derive(Deserialize)]
pub struct Nothing {}

/// `POST /v1/drafts/dated` (admin): every dated entry of the draft (role entries of people,
/// departments and groups; personal grants, denies and limits) with its JSON path, who it is
/// for, its dates (RFC 3339, UTC) and whether it has ended (`ended`) at the server's clock:
/// what the console lists as ending this month.
pub async fn dated(d: Draft<Nothing>) -> ApiResult<Json<Value>> {
    let now = crate::host::now_ms();
    let time = |t: Option<i64>| t.map(crate::core::time::format_rfc3339);
    let entries: Vec<Value> = d
        .policy
        .dated_entries()
        .into_iter()
        .map(|e| {
            json!({
                "path": e.path,
                "kind": e.kind,
                "holder": e.holder,
                "holder_kind": e.holder_kind,
                "role": e.role,
                "from": time(e.window.from),
                "until": time(e.window.until),
                "ended": e.window.until.is_some_and(|u| u < now),
            })
        })
        .collect();
    Ok(Json(
        json!({ "now": crate::core::time::format_rfc3339(now), "entries": entries }),
    ))
}

/// A person to look at on a draft.
#[derive(Deserialize)]
pub struct PersonBody {
    person: String,
}

/// `POST /v1/drafts/person` (admin): one person of the app's directory on the draft: the roles
/// they hold and how (given with them, assigned to them, through a department or group,
/// inherited), and per resource the field states in each mode and the actions they may take
/// on some record, each with the engine's explanation, its name in the reader's language
/// (`label`) and, for a flow's transition or step, where it sits in the flow (`flow`).
pub async fn person(State(state): State<Shared>, d: Draft<PersonBody>) -> ApiResult<Json<Value>> {
    let directory = state.directory(d.policy.app()).await?;
    let p = directory.get(&d.rest.person).cloned().ok_or_else(|| {
        ApiError::new(
            ServerCode::UnknownUser,
            format!("`{}` is not in the directory", d.rest.person),
        )
    })?;
    let subject = p.subject();
    let now = crate::host::now_ms();
    let roles = d.policy.role_sources(&subject, crate::core::At::Time(now));
    let session = d.policy.session_at(&subject, now);
    let words = crate::admin::words::Labels::new(d.lang, &d.doc, &d.doc, []);
    let mut resources = Vec::new();
    for r in d.policy.resource_names() {
        let mut modes = serde_json::Map::new();
        for mode in crate::core::Mode::ALL {
            let states = session.fields(r, mode, crate::core::Input::NONE)?;
            modes.insert(mode.as_str().into(), states.to_json());
        }
        let mut actions = Vec::new();
        for a in d.policy.action_names(r).unwrap_or_default() {
            let why = session.explain(a, r, crate::core::Input::NONE)?;
            let mut action = json!({
                "action": a,
                "label": words.resource_action(r, a),
                "allow": why.allow,
                "explain": why,
            });
            if let Some(place) = crate::admin::flow_place(&d.doc, &words, r, a) {
                action["flow"] = json!(place);
            }
            actions.push(action);
        }
        resources.push(json!({"resource": r, "fields": modes, "actions": actions}));
    }
    Ok(Json(json!({
        "person": p,
        "roles": roles,
        "effective_roles": session.roles(),
        "resources": resources,
    })))
}

fn cells(errors: Vec<CellError>) -> ApiError {
    ApiError::new(
        ServerCode::BadCells,
        format!("{} bad cell(s); nothing was changed", errors.len()),
    )
    .with_cells(&errors)
}

/// `{"document": out, "diff": ..., "lint": [...]}`: the new draft, its access diff against the
/// current version of its app (none when nothing is published for it) and, `with_lint`, every
/// lint warning it has (with the directory it would publish with), so a tab shows what is wrong
/// as it edits.
async fn with_diff(
    state: &Shared,
    policy: &Arc<Policy>,
    out: Value,
    (admin, lang): (&str, Lang),
    with_lint: bool,
) -> ApiResult<Json<Value>> {
    let app = policy.app().to_string();
    // What a restricted admin may not change is refused here, before it is shown as checked.
    crate::server::http::scopes::check_policy(state, admin, &app, &out, "POST /v1/drafts").await?;
    let directory = state.directory(&app).await?;
    let pending = crate::server::http::saved::pending_directory(state, &app, admin).await?;
    let s = state.clone();
    let doc = out.clone();
    let (diff, lint) = crate::server::blocking(move || {
        let checked = Checked::from_value(doc).map_err(|e| ApiError::bad_policy(&e))?;
        let now = (!directory.is_empty()).then_some(&*directory);
        let people = [now, pending.as_deref().or(now)];
        // Lint asks every person about every flow: only a draft check (the flow tab) wants it.
        let lint = if with_lint {
            json!(crate::admin::lint(
                &checked,
                people[1],
                crate::admin::Horizon::at(crate::host::now_ms())
            ))
        } else {
            Value::Null
        };
        let Some(current) = s.current(&app) else {
            return Ok((Value::Null, lint));
        };
        let d = crate::server::services::publish::access_diff(&s, &current, &checked, people)?;
        let mut j = crate::server::services::publish::diff_json(&d, lang);
        j["from"] = json!(current.version);
        Ok((j, lint))
    })
    .await?;
    let mut answer = json!({"document": out, "diff": diff});
    if with_lint {
        answer["lint"] = lint;
    }
    Ok(Json(answer))
}

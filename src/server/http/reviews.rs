//! Periodic access review campaigns. An admin opens one over some resources, sensitive fields
//! and actions; it takes a snapshot of who has what (the app's directory on the current
//! version, by `admin::review`) and gives each line a reviewer (one person, or one per
//! department). Reviewers log in and mark their lines keep or revoke with a note. Closing
//! turns the revocations into the admin's draft (`admin::review::apply`, checked by a diff),
//! and leaves a report (XLSX, and a printable page with totals). Campaigns are kept; how long
//! ago each resource was last reviewed is part of the activity view.

use crate::admin::review::{self, Coverage, Line, COLUMNS};
use crate::admin::words::{Labels, Lang};
use crate::host::now_ms;
use crate::host::table::XLSX;
use crate::host::table::{self, Sheet};
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::audit;
use crate::server::http::auth::{Admin, User};
use crate::server::http::body::{Json as Body, LARGE};
use crate::server::services::publish::{check_app, unknown_app};
use crate::server::state::Shared;
use crate::server::store::{
    CloseError, DecideError, Decisions, NewDraft, NewReview, Review, ReviewClose, ReviewLine,
};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Who reviews: one person, or one per department (`"*"` for everyone else).
#[derive(Deserialize)]
pub struct Reviewers {
    person: Option<String>,
    #[serde(default)]
    departments: BTreeMap<String, String>,
}

/// `POST /v1/apps/{app}/reviews`'s body.
#[derive(Deserialize)]
pub struct OpenBody {
    /// Resources to review (default: every one).
    #[serde(default)]
    resources: Vec<String>,
    /// Sensitive fields (default: those with a mask).
    #[serde(default)]
    fields: Vec<String>,
    /// Actions (default: the export-like ones).
    #[serde(default)]
    actions: Vec<String>,
    reviewers: Reviewers,
}

fn store_error(e: DecideError) -> ApiError {
    match e {
        DecideError::Missing => ApiError::not_found("no such review"),
        DecideError::Closed => ApiError::new(ServerCode::Conflict, "this review is closed"),
        DecideError::NoLine(n) => ApiError::bad_request(format!("this review has no line {n}")),
        DecideError::NotYours(n) => ApiError::new(
            ServerCode::Forbidden,
            format!("line {n} is someone else's to review"),
        ),
        DecideError::Store(e) => e.into(),
    }
}

/// `POST /v1/apps/{app}/reviews` (admin): opens a campaign on the current version and the
/// app's directory. Every line has a reviewer (400 naming a department without one).
pub async fn open(
    Admin(admin): Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
    Body(body): Body<OpenBody>,
) -> ApiResult<Response> {
    check_app(&app)?;
    let current = state.current(&app).ok_or_else(|| unknown_app(&app))?;
    let directory = state.directory(&app).await?;
    if directory.is_empty() {
        return Err(ApiError::new(
            ServerCode::BadDirectory,
            format!("`{app}` has no directory of people to review"),
        ));
    }
    for who in body
        .reviewers
        .person
        .iter()
        .chain(body.reviewers.departments.values())
    {
        if directory.get(who).is_none() {
            return Err(ApiError::new(
                ServerCode::UnknownUser,
                format!("reviewer `{who}` is not in the directory"),
            ));
        }
    }
    let resources: Vec<Option<String>> = if body.resources.is_empty() {
        vec![None]
    } else {
        body.resources.iter().cloned().map(Some).collect()
    };
    let mut lines = Vec::new();
    for resource in resources {
        let coverage = Coverage {
            resource,
            sensitive: body.fields.clone(),
            actions: body.actions.clone(),
            at: crate::host::now_ms(),
        };
        let got = review::review(&current.checked, &directory, &coverage)
            .map_err(ApiError::bad_request)?;
        lines.extend(got);
    }
    let doc = current.checked.doc();
    let labels = [Lang::Zh, Lang::En].map(|lang| Labels::new(lang, doc, doc, []));
    let mut assigned = Vec::new();
    for l in lines {
        let r = &body.reviewers;
        let reviewer = r
            .person
            .clone()
            .or_else(|| r.departments.get(&l.department).cloned())
            .or_else(|| r.departments.get("*").cloned())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "no reviewer for department `{}` (name one, or `*` for the rest)",
                    l.department
                ))
            })?;
        let mut line = json!(l);
        line["words"] = review::line_words(doc, &labels, &l.resource, &l.item);
        assigned.push((reviewer, line));
    }
    let scope = json!({
        "resources": body.resources, "fields": body.fields, "actions": body.actions,
        "reviewers": {"person": body.reviewers.person, "departments": body.reviewers.departments},
    });
    let new = NewReview {
        app: app.clone(),
        scope: scope.clone(),
        version: current.version,
        by: admin.clone(),
        at: now_ms(),
        lines: assigned,
    };
    let count = new.lines.len();
    let s = state.clone();
    let id = blocking(move || Ok(s.store.open_review(&new)?)).await?;
    let detail = json!({"review": id, "lines": count, "version": current.version, "scope": scope});
    let e = audit::entry(
        &admin,
        "review_open",
        format!("POST /v1/apps/{app}/reviews"),
        Some(&app),
        detail,
    );
    audit::record(&state, e).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "lines": count, "version": current.version})),
    )
        .into_response())
}

/// `GET /v1/apps/{app}/reviews` (admin): the campaigns, newest first, and per resource when
/// it was last reviewed and whether that is longer ago than `--review-period`.
pub async fn list(
    _: Admin,
    State(state): State<Shared>,
    Path(app): Path<String>,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
    let s = state.clone();
    let a = app.clone();
    let reviews = blocking(move || Ok(s.store.reviews(&a)?)).await?;
    let period = i64::try_from(state.options.review_period.as_millis()).unwrap_or(i64::MAX);
    let now = now_ms();
    let names: Vec<String> = state
        .current(&app)
        .map(|c| c.policy().resource_names().map(String::from).collect())
        .unwrap_or_default();
    let coverage: Vec<Value> = names
        .iter()
        .map(|r| {
            let last = reviews
                .iter()
                .filter(|c| c.closed_at.is_some() && covers(c, r))
                .filter_map(|c| c.closed_at)
                .max();
            json!({
                "resource": r,
                "last_reviewed_at": last,
                "overdue": last.is_none_or(|t| now - t > period),
            })
        })
        .collect();
    Ok(Json(
        json!({ "reviews": reviews, "coverage": coverage, "period_ms": period }),
    ))
}

/// Whether a campaign covered a resource.
fn covers(c: &Review, resource: &str) -> bool {
    let listed = c.scope["resources"].as_array().cloned().unwrap_or_default();
    listed.is_empty() || listed.iter().any(|x| x == resource)
}

/// `GET /v1/apps/{app}/reviews/{id}` (admin): a campaign and all its lines.
pub async fn get(
    _: Admin,
    State(state): State<Shared>,
    Path((app, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let (review, lines) = load(&state, &app, id).await?;
    Ok(Json(json!({ "review": review, "lines": lines })))
}

async fn load(state: &Shared, app: &str, id: i64) -> ApiResult<(Review, Vec<ReviewLine>)> {
    check_app(app)?;
    let (s, a) = (state.clone(), app.to_string());
    blocking(move || Ok(s.store.review(&a, id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("`{app}` has no review {id}")))
}

/// `GET /v1/reviews/mine`: the logged-in person's lines in open campaigns.
pub async fn mine(User(person): User, State(state): State<Shared>) -> ApiResult<Json<Value>> {
    let s = state.clone();
    let id = person.id.clone();
    let open = blocking(move || Ok(s.store.lines_for(&id)?)).await?;
    let campaigns: Vec<Value> = open
        .into_iter()
        .map(|(review, lines)| json!({ "review": review, "lines": lines }))
        .collect();
    Ok(Json(
        json!({ "reviewer": person.id, "campaigns": campaigns }),
    ))
}

/// One decision.
#[derive(Deserialize)]
pub struct Decision {
    n: i64,
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /v1/apps/{app}/reviews/{id}/decisions`'s body.
#[derive(Deserialize)]
pub struct DecideBody {
    decisions: Vec<Decision>,
}

/// `POST /v1/apps/{app}/reviews/{id}/decisions`: the logged-in reviewer marks their lines
/// `keep` or `revoke` (with a note); all or none. The body may be as large as a policy's
/// (a reviewer with thousands of lines decides them in one request). Decisions are stored with who and when.
pub async fn decide(
    User(person): User,
    State(state): State<Shared>,
    Path((app, id)): Path<(String, i64)>,
    Body(body): Body<DecideBody, LARGE>,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
    let mut lines = Vec::new();
    for d in body.decisions {
        let decision = d.decision.trim().to_lowercase();
        if !matches!(decision.as_str(), "keep" | "revoke" | "") {
            return Err(ApiError::bad_request(format!(
                "a decision is `keep` or `revoke`, not `{}`",
                d.decision
            )));
        }
        lines.push((d.n, decision, d.note));
    }
    let decisions = Decisions {
        lines,
        reviewer: Some(person.id.clone()),
        by: person.id.clone(),
        at: now_ms(),
    };
    let s = state.clone();
    let n = blocking(move || s.store.decide(&app, id, &decisions).map_err(store_error)).await?;
    Ok(Json(json!({ "decided": n })))
}

/// `POST /v1/apps/{app}/reviews/{id}/close` (admin): turns the revoked lines into the admin's
/// draft (based on the current version; the page reviews and publishes it) and closes the
/// campaign, in one transaction with the lines it read: a decision is either in the draft or
/// refused as coming after the close (409). The draft is written only over the revision the
/// admin read (`If-Match: "d<revision>"`; without it, only when the admin has no draft): 412
/// `stale_draft` otherwise, and the campaign stays open. 422 `bad_cells` with each line that
/// cannot be revoked on its own; the campaign stays open then too.
pub async fn close(
    Admin(admin): Admin,
    State(state): State<Shared>,
    Path((app, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    check_app(&app)?;
    let expected = match headers.get(header::IF_MATCH) {
        None => 0,
        Some(v) => crate::server::http::saved::draft_tag(v)?,
    };
    let current = state.current(&app).ok_or_else(|| unknown_app(&app))?;
    let directory = state.directory(&app).await?;
    let (s, a, by) = (state.clone(), app.clone(), admin.clone());
    let closed = blocking(move || {
        let mut declined = None;
        let mut done = None;
        let mut make = |rows: &[ReviewLine]| {
            let lines: Vec<Line> = rows.iter().map(line_of).collect();
            let (draft, outcome) = match review::apply(&current.checked, &lines, Some(&directory)) {
                Ok(applied) => applied,
                Err(refusals) => {
                    declined = Some(
                        ApiError::new(
                            ServerCode::BadCells,
                            format!(
                                "{} line(s) cannot be revoked on their own; the review \
                                     stays open",
                                refusals.len()
                            ),
                        )
                        .with_cells(&refusals),
                    );
                    return None;
                }
            };
            let at = now_ms();
            let summary = json!({
                "revoked": outcome.revoked, "kept": outcome.kept, "changes": outcome.changes,
                "draft_base": current.version, "totals": totals(rows),
            });
            done = Some((summary.clone(), outcome.revoked));
            Some(ReviewClose {
                by: by.clone(),
                at,
                outcome: summary,
                draft: NewDraft {
                    document: draft.to_string(),
                    base: Some(current.version),
                    at,
                    directory: None,
                },
                expected,
            })
        };
        let written = s.store.close_review(&a, id, &mut make);
        match written {
            Ok(Some(revision)) => done
                .map(|(summary, revoked)| (revision, summary, revoked))
                .ok_or_else(|| ApiError::internal("the closing was not made")),
            Ok(None) => Err(declined.unwrap_or_else(|| ApiError::internal("declined"))),
            Err(CloseError::Stale { revision }) => Err(ApiError::new(
                ServerCode::StaleDraft,
                "your draft changed since this page read it (another tab?): load it again, \
                 then close the review",
            )
            .with_detail(json!({ "revision": revision }))),
            Err(CloseError::Refused(DecideError::Missing)) => {
                Err(ApiError::not_found(format!("`{a}` has no review {id}")))
            }
            Err(CloseError::Refused(e)) => Err(store_error(e)),
        }
    })
    .await?;
    let (saved, summary, revoked) = closed;
    let detail = json!({"review": id, "revoked": revoked, "draft_revision": saved});
    let e = audit::entry(
        &admin,
        "review_close",
        format!("POST /v1/apps/{app}/reviews/{id}/close"),
        Some(&app),
        detail,
    );
    audit::record(&state, e).await?;
    Ok(Json(
        json!({ "closed": id, "draft_revision": saved, "outcome": summary }),
    ))
}

/// A stored line with its decision, as `admin::review` reads lines.
fn line_of(r: &ReviewLine) -> Line {
    let t = |k: &str| r.line[k].as_str().unwrap_or_default().to_string();
    Line {
        person: t("person"),
        name: t("name"),
        department: t("department"),
        resource: t("resource"),
        item: t("item"),
        access: t("access"),
        via: t("via"),
        source: t("source"),
        grant: t("grant"),
        decision: r.decision.clone(),
        note: r.note.clone(),
    }
}

/// Per reviewer and per resource: lines, kept, revoked, undecided.
fn totals(rows: &[ReviewLine]) -> Value {
    let mut by: BTreeMap<(String, String), [u64; 4]> = BTreeMap::new();
    for r in rows {
        let key = (
            r.reviewer.clone(),
            r.line["resource"].as_str().unwrap_or_default().to_string(),
        );
        let t = by.entry(key).or_default();
        t[0] += 1;
        match r.decision.as_str() {
            "keep" => t[1] += 1,
            d if review::revokes(d) => t[2] += 1,
            _ => t[3] += 1,
        }
    }
    Value::Array(
        by.into_iter()
            .map(|((reviewer, resource), [lines, kept, revoked, undecided])| {
                json!({"reviewer": reviewer, "resource": resource, "lines": lines, "kept": kept, "revoked": revoked, "undecided": undecided})
            })
            .collect(),
    )
}

/// `GET /v1/apps/{app}/reviews/{id}/report.xlsx` (admin): every line with its decision, note,
/// reviewer and when, and a sheet of totals.
pub async fn report_xlsx(
    _: Admin,
    State(state): State<Shared>,
    Path((app, id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    let (review, rows) = load(&state, &app, id).await?;
    let mut head: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    head.extend(["reviewer", "decided_by", "decided_at"].map(String::from));
    let mut lines = vec![head];
    for r in &rows {
        let mut cells = line_of(r).cells();
        cells.push(r.reviewer.clone());
        cells.push(r.decided_by.clone().unwrap_or_default());
        cells.push(
            r.decided_at
                .map(crate::bundle::format_rfc3339)
                .unwrap_or_default(),
        );
        lines.push(cells);
    }
    let mut totals_rows = vec![[
        "reviewer",
        "resource",
        "lines",
        "kept",
        "revoked",
        "undecided",
    ]
    .map(String::from)
    .to_vec()];
    for t in totals(&rows).as_array().into_iter().flatten() {
        totals_rows.push(
            [
                "reviewer",
                "resource",
                "lines",
                "kept",
                "revoked",
                "undecided",
            ]
            .iter()
            .map(|k| match &t[*k] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        );
    }
    let sheets = [
        Sheet {
            name: format!("review {}", review.id),
            rows: lines,
            freeze: (1, 0),
            ..Sheet::default()
        },
        Sheet {
            name: "totals".into(),
            rows: totals_rows,
            freeze: (1, 0),
            ..Sheet::default()
        },
    ];
    let bytes = table::write_xlsx(&sheets).map_err(ApiError::internal)?;
    let name = format!("attachment; filename=\"review-{app}-{id}.xlsx\"");
    Ok((
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /v1/apps/{app}/reviews/{id}/report.html` (admin): a printable report with totals, in
/// the reader's language (`Accept-Language`).
pub async fn report_html(
    _: Admin,
    crate::server::http::lang::Want(lang): crate::server::http::lang::Want,
    State(state): State<Shared>,
    Path((app, id)): Path<(String, i64)>,
) -> ApiResult<Html<String>> {
    let (review, rows) = load(&state, &app, id).await?;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let w = |en: &'static str, zh: &'static str| lang.pick(en, zh);
    let time = |t: Option<i64>| {
        t.map(crate::bundle::format_rfc3339)
            .unwrap_or_else(|| w("open", "进行中").into())
    };
    let title = format!("{} {id} · {app}", w("Access review", "权限复核"));
    let head =
        |cells: &[&str]| -> String { cells.iter().map(|c| format!("<th>{c}</th>")).collect() };
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%;margin:1em 0}}\
         th,td{{border:1px solid #999;padding:4px 6px;text-align:left}}th{{background:#eee}}\
         .revoke{{color:#a00;font-weight:600}}@media print{{a{{display:none}}}}</style>\
         <h1>{title}</h1><p>{} {} · {} {} · {} {} · {} {} · {} {}</p>",
        lang.tag(),
        w("Version", "版本"),
        review.version,
        w("opened by", "发起人"),
        esc(&review.opened_by),
        w("at", "发起于"),
        time(Some(review.opened_at)),
        w("closed by", "结束人"),
        esc(review.closed_by.as_deref().unwrap_or("—")),
        w("at", "结束于"),
        time(review.closed_at),
    );
    html.push_str(&format!(
        "<h2>{}</h2><table><tr>{}</tr>",
        w("Totals", "汇总"),
        head(&[
            w("Reviewer", "复核人"),
            w("Resource", "表单"),
            w("Lines", "条目"),
            w("Kept", "保留"),
            w("Revoked", "撤销"),
            w("Undecided", "未决定"),
        ])
    ));
    for t in totals(&rows).as_array().into_iter().flatten() {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(t["reviewer"].as_str().unwrap_or_default()),
            esc(t["resource"].as_str().unwrap_or_default()),
            t["lines"],
            t["kept"],
            t["revoked"],
            t["undecided"]
        ));
    }
    html.push_str(&format!(
        "</table><h2>{}</h2><table><tr>{}</tr>",
        w("Lines", "复核条目"),
        head(&[
            "#",
            w("Person", "人员"),
            w("Resource", "表单"),
            w("Item", "项目"),
            w("Access", "权限"),
            w("Source", "来源"),
            w("Reviewer", "复核人"),
            w("Decision", "决定"),
            w("Note", "备注"),
        ])
    ));
    // Names in the reader's language (lines from before they carried words: as stored).
    let said = |r: &ReviewLine, k: &str, bare: &str| -> String {
        r.line["words"][k][lang.tag()]
            .as_str()
            .unwrap_or(bare)
            .to_string()
    };
    let item_cell = |r: &ReviewLine, bare: &str| -> String {
        let flow = r.line["words"]["flow"][lang.tag()].as_str();
        let words = esc(&said(r, "item", bare));
        match flow {
            Some(f) => format!("{words}<br><small>{}</small>", esc(f)),
            None => words,
        }
    };
    for r in &rows {
        let l = line_of(r);
        let class = if review::revokes(&l.decision) {
            " class=\"revoke\""
        } else {
            ""
        };
        html.push_str(&format!(
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{class}>{}</td><td>{}</td></tr>",
            r.n,
            esc(&l.person),
            esc(&l.name),
            esc(&said(r, "resource", &l.resource)),
            item_cell(r, &l.item),
            esc(&l.access),
            esc(&l.source),
            esc(&r.reviewer),
            esc(if l.decision.is_empty() { "—" } else { &l.decision }),
            esc(&l.note)
        ));
    }
    html.push_str("</table></html>");
    Ok(Html(html))
}

//! The data access log, written where enforcement happens: each data API request (and each
//! event a client reports) becomes an entry, queued off the request path and written in
//! batches by one thread; old entries are pruned by retention. Refusals feed the alerts: a
//! user refused more than N times in M minutes raises one, stored, pushed to admin pages and
//! posted to a webhook.

use crate::host::table::{self, Sheet};
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::Admin;
use crate::server::services::access_log::{alert_event, post_json, DURABLE_WAIT};
use crate::server::state::Shared;
use crate::server::store::{AccessEntry, AccessQuery, Alert};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Raises an alert: stored (which tells other instances), pushed to admin event streams,
/// posted to the webhook.
pub async fn raise(state: &Shared, alert: Alert) {
    let _ = state.admin_events.send(alert_event(&alert));
    let s = state.clone();
    let stored = alert.clone();
    if let Err(e) = blocking(move || Ok(s.store.add_alert(&stored)?)).await {
        tracing::error!(target: "fieldgate::alerts", "storing failed: {}", e.message);
    }
    if let Some(url) = state.access.rules.webhook.clone() {
        let ca = state.access.rules.webhook_ca.clone();
        tokio::spawn(async move {
            let body = json!({"type": "fieldgate.alert", "alert": alert});
            if let Err(e) = post_json(&url, ca.as_deref(), &body).await {
                tracing::warn!(target: "fieldgate::alerts", "webhook {url}: {e}");
            }
        });
    }
}

/// Logs an entry and raises the alert it causes. A sensitive read of the server's (sensitive
/// fields shown unmasked, or an export) is answered only once its entry is in the store, so a crash never
/// loses the record of what was shown; other entries are written within a batch's linger.
///
/// # Errors
/// 503 `unavailable` when a sensitive read's entry could not be written: the read is refused.
pub async fn log(state: &Shared, e: AccessEntry) -> ApiResult<()> {
    let sensitive = e.source == "server"
        && e.outcome == "ok"
        && (!e.unmasked.is_empty() || e.action == "export");
    let (tell, written) = if sensitive {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    if let Some(alert) = state.access.record(e, tell) {
        raise(state, alert).await;
    }
    let Some(written) = written else {
        return Ok(());
    };
    match tokio::time::timeout(DURABLE_WAIT, written).await {
        Ok(Ok(true)) => Ok(()),
        _ => Err(ApiError::new(
            ServerCode::Unavailable,
            "the access log could not be written, so nothing is shown; try again",
        )),
    }
}

/// The query of `GET /v1/audit/access`.
#[derive(Deserialize)]
pub struct AccessParams {
    user: Option<String>,
    resource: Option<String>,
    record: Option<String>,
    source: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<u32>,
    format: Option<String>,
}

/// `GET /v1/audit/access?user=&resource=&record=&source=&since=&until=&limit=&format=json|csv|xlsx`
/// (admin): entries newest first (default 500, at most 100,000), as JSON or a sheet.
pub async fn list(
    _: Admin,
    crate::server::http::lang::Want(lang): crate::server::http::lang::Want,
    State(state): State<Shared>,
    Query(p): Query<AccessParams>,
) -> ApiResult<Response> {
    let limit = p.limit.unwrap_or(500);
    if !(1..=100_000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` is 1 to 100000"));
    }
    let q = AccessQuery {
        since: p.since.unwrap_or(0),
        until: p.until.unwrap_or(i64::MAX),
        user: p.user,
        resource: p.resource,
        record: p.record,
        source: p.source,
        limit,
    };
    let s = state.clone();
    let entries = blocking(move || {
        // Read what was logged up to now, including what is still queued.
        s.access.flush();
        Ok(s.store.access(&q)?)
    })
    .await?;
    match p.format.as_deref().unwrap_or("json") {
        "json" => {
            // Each with whether it was refused (what alerts count): a button a page checked and
            // greyed out is not a refusal, only an attempt is.
            let entries: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let mut v = json!(e);
                    v["refused"] = json!(e.refused());
                    v
                })
                .collect();
            Ok(Json(json!({ "entries": entries })).into_response())
        }
        "csv" => {
            let bytes = table::write_csv(&rows(&entries, lang));
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
        }
        "xlsx" => {
            let sheet = Sheet {
                name: "access".into(),
                rows: rows(&entries, lang),
                freeze: (1, 0),
                ..Sheet::default()
            };
            let bytes = table::write_xlsx(&[sheet]).map_err(ApiError::internal)?;
            Ok(([(header::CONTENT_TYPE, crate::host::table::XLSX)], bytes).into_response())
        }
        other => Err(ApiError::bad_request(format!(
            "`format` is json, csv or xlsx, not `{other}`"
        ))),
    }
}

/// The entries as a table with a header row.
/// The entries as a table with a header row in `lang` (the values are the log's own words:
/// ids, codes and times).
fn rows(entries: &[AccessEntry], lang: crate::admin::words::Lang) -> Vec<Vec<String>> {
    let head: [&str; 9] = match lang {
        crate::admin::words::Lang::En => [
            "at", "user", "action", "resource", "records", "unmasked", "outcome", "fields",
            "source",
        ],
        crate::admin::words::Lang::Zh => [
            "时间",
            "人员",
            "操作",
            "表单",
            "记录",
            "明文查看",
            "结果",
            "字段",
            "来源",
        ],
    };
    let mut out = vec![head.iter().map(|h| h.to_string()).collect()];
    for e in entries {
        out.push(vec![
            crate::bundle::format_rfc3339(e.at),
            e.user.clone(),
            e.action.clone(),
            e.resource.clone(),
            e.records.join(" "),
            e.unmasked.join(" "),
            e.outcome.clone(),
            e.fields.join(" "),
            e.source.clone(),
        ]);
    }
    out
}

/// The query of `GET /v1/audit/alerts`.
#[derive(Deserialize)]
pub struct AlertParams {
    since: Option<i64>,
    limit: Option<u32>,
}

/// `GET /v1/audit/alerts?since=&limit=` (admin): alerts newest first.
pub async fn alerts(
    _: Admin,
    State(state): State<Shared>,
    Query(p): Query<AlertParams>,
) -> ApiResult<Json<Value>> {
    let limit = p.limit.unwrap_or(200).clamp(1, 5000);
    let s = state.clone();
    let since = p.since.unwrap_or(0);
    let list = blocking(move || Ok(s.store.alerts(since, limit)?)).await?;
    Ok(Json(json!({ "alerts": list })))
}

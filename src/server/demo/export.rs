//! `GET /v1/data/{resource}/export`: exports that respect permissions. Only the records the
//! caller may `export` (not merely view), each shaped by the same engine as the screen (hidden
//! fields absent, masked fields masked), in columns the caller sees on at least one exported
//! record. Streamed: two passes over one snapshot of the records (columns, then rows), so
//! memory does not grow with their number. Cells starting with `= + - @` are escaped; CSV is
//! UTF-8 with a BOM. Every export is in the access log with how many records and which fields.

use crate::core::{export_cells, ExportColumns, Input};
use crate::host::table;
use crate::server::demo::data_api::{session_for, Trail};
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::User;
use crate::server::http::lang::Want;
use crate::server::state::Shared;
use crate::server::SAMPLE_APP;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// Ids an access log entry lists (the count says how many there were).
const LOGGED_IDS: usize = 1000;

/// The query of an export.
#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    fields: Option<String>,
    #[serde(default)]
    labels: bool,
}

/// What the first pass found: the columns and how many records.
struct Plan {
    columns: Vec<String>,
    header: Vec<String>,
    count: u64,
    ids: Vec<String>,
}

/// `GET /v1/data/{resource}/export?format=csv|xlsx[&fields=a,b][&labels=true]`.
pub async fn export(
    User(person): User,
    Want(lang): Want,
    State(state): State<Shared>,
    Path(resource): Path<String>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let mut trail = Trail::new(&person, "export", &resource);
    let out = start(&state, &person, &resource, &q, lang).await;
    if let Ok((plan, _)) = &out {
        trail.entry.count = plan.count;
        trail.entry.records.clone_from(&plan.ids);
        trail.entry.fields.clone_from(&plan.columns);
    }
    let (_, body) = trail.close(&state, out).await?;
    let (kind, ext) = match q.format.as_deref().unwrap_or("csv") {
        "xlsx" => (crate::host::table::XLSX, "xlsx"),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    let name = format!("attachment; filename=\"{resource}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

/// Decides the columns (403 when nothing may be exported), then streams the rows.
async fn start(
    state: &Shared,
    person: &crate::admin::Person,
    resource: &str,
    q: &ExportQuery,
    lang: crate::admin::words::Lang,
) -> ApiResult<(Plan, Body)> {
    let format = q.format.clone().unwrap_or_else(|| "csv".into());
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return Err(ApiError::bad_request(format!(
            "`format` is csv or xlsx, not `{format}`"
        )));
    }
    let session = session_for(state, person, resource)?;
    let current = state
        .current(SAMPLE_APP)
        .ok_or_else(|| crate::server::services::publish::unknown_app(SAMPLE_APP))?;
    if !current
        .policy()
        .action_names(resource)
        .unwrap_or_default()
        .contains(&"export")
    {
        return Err(ApiError::new(
            ServerCode::UnknownAction,
            format!("{resource} has no `export` action"),
        ));
    }
    if !session.can("export", resource, Input::NONE)? {
        return Err(forbidden(&session, resource));
    }
    let names: Vec<String> = current
        .policy()
        .field_names(resource)
        .unwrap_or_default()
        .into_iter()
        .map(String::from)
        .collect();
    let wanted: Option<Vec<String>> = q.fields.as_ref().map(|f| {
        f.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    });
    if let Some(w) = &wanted {
        if let Some(bad) = w.iter().find(|f| !names.contains(f)) {
            return Err(ApiError::new(
                ServerCode::BadRequest,
                format!("{resource} has no field `{bad}`"),
            ));
        }
    }
    let labels: Vec<String> = names
        .iter()
        .map(|n| {
            let label = current.doc()["resources"][resource]["fields"][n].get("label");
            crate::admin::words::label(label, lang)
                .filter(|_| q.labels)
                .unwrap_or_else(|| n.to_string())
        })
        .collect();

    let (first, plan_rx) = oneshot::channel::<ApiResult<Plan>>();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let (s, r, policy) = (
        state.clone(),
        resource.to_string(),
        current.policy().clone(),
    );
    let csv = format == "csv";
    tokio::task::spawn_blocking(move || {
        let mut first = Some(first);
        // Records that follow their parent are decided with it (never exported with it).
        let parents = match crate::server::demo::parents::Parents::load(&*s.store, &policy, &r) {
            Ok(p) => p,
            Err(e) => {
                let _ = first.take().map(|f| f.send(Err(e.into())));
                return;
            }
        };
        let mut seen = ExportColumns::default();
        let mut plan: Option<Plan> = None;
        let mut sink = Sink::new(tx, csv);
        let scan = s.store.scan_records(&r, 2, &mut |pass, rec| {
            let row = session
                .export_row(&r, &parents.join(rec), None)
                .map_err(|e| e.to_string())?;
            let Some((shown, visible)) = row else {
                return Ok(());
            };
            if pass == 0 {
                seen.see(&visible);
                let p = plan.get_or_insert_with(|| Plan {
                    columns: Vec::new(),
                    header: Vec::new(),
                    count: 0,
                    ids: Vec::new(),
                });
                p.count += 1;
                if p.ids.len() < LOGGED_IDS {
                    p.ids.push(shown.get("id").map(cell).unwrap_or_default());
                }
                return Ok(());
            }
            let p = plan.get_or_insert_with(|| Plan {
                columns: Vec::new(),
                header: Vec::new(),
                count: 0,
                ids: Vec::new(),
            });
            if let Some(f) = first.take() {
                // The first pass is over: the columns are known.
                let declared: Vec<&str> = names.iter().map(String::as_str).collect();
                p.columns = seen
                    .of(&declared)
                    .into_iter()
                    .filter(|n| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == n)))
                    .map(String::from)
                    .collect();
                p.header =
                    std::iter::once("id".to_string())
                        .chain(p.columns.iter().map(|c| {
                            labels[names.iter().position(|n| n == c).unwrap_or(0)].clone()
                        }))
                        .collect();
                let _ = f.send(Ok(Plan {
                    columns: p.columns.clone(),
                    header: p.header.clone(),
                    count: p.count,
                    ids: p.ids.clone(),
                }));
                sink.row(&p.header)?;
            }
            let cols: Vec<&str> = p.columns.iter().map(String::as_str).collect();
            let cells: Vec<String> = export_cells(&shown, &cols).iter().map(cell).collect();
            sink.row(&cells)
        });
        let failure = match scan {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(ApiError::internal(e)),
            Err(e) => Some(e.into()),
        };
        if let Some(f) = first.take() {
            // No record may be exported (or the scan failed before any row).
            let e = failure.unwrap_or_else(|| {
                ApiError::new(
                    ServerCode::Forbidden,
                    "you may export none of these records",
                )
            });
            let _ = f.send(Err(e));
            return;
        }
        if let Some(e) = failure {
            tracing::warn!(target: "fieldgate::export", "{}", e.message);
        }
        sink.finish();
    });
    let plan = plan_rx.await.map_err(ApiError::internal)??;
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Ok((plan, Body::from_stream(stream)))
}

fn forbidden(session: &crate::core::Session, resource: &str) -> ApiError {
    ApiError::new(
        ServerCode::Forbidden,
        format!("`{}` may not export {resource}", session.user_id()),
    )
}

/// A cell's text: strings as they are, numbers and booleans as JSON writes them, lists and
/// objects as JSON, null as nothing.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where rows go: CSV lines sent in chunks as they come, or an XLSX workbook written row by
/// row with constant memory, saved to a temporary file and sent from it in chunks.
enum Sink {
    Csv(Box<csv::Writer<Chunks>>),
    Xlsx {
        tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
        book: Box<rust_xlsxwriter::Workbook>,
        row: usize,
        failed: Option<String>,
    },
}

/// How much is sent at once.
const CHUNK: usize = 64 * 1024;

impl Sink {
    fn new(tx: mpsc::Sender<Result<Bytes, std::io::Error>>, csv: bool) -> Sink {
        if csv {
            let out = Chunks {
                tx,
                buf: b"\xEF\xBB\xBF".to_vec(),
            };
            Sink::Csv(Box::new(table::csv_writer(out)))
        } else {
            let mut book = Box::new(rust_xlsxwriter::Workbook::new());
            let failed = book
                .add_worksheet_with_constant_memory()
                .err()
                .map(|e| e.to_string());
            Sink::Xlsx {
                tx,
                book,
                row: 0,
                failed,
            }
        }
    }

    fn row(&mut self, cells: &[String]) -> Result<(), String> {
        match self {
            Sink::Csv(w) => w
                .write_record(cells.iter().map(|c| table::escape(c).into_owned()))
                .map_err(|e| e.to_string()),
            Sink::Xlsx {
                book, row, failed, ..
            } => {
                if failed.is_some() {
                    return Ok(());
                }
                let ws = book.worksheet_from_index(0).map_err(|e| e.to_string())?;
                for (c, text) in cells.iter().enumerate() {
                    let (r, c) = table::xlsx_cell(*row, c)?;
                    if let Err(e) = ws.write_string(r, c, table::escape(text)) {
                        *failed = Some(e.to_string());
                    }
                }
                *row += 1;
                Ok(())
            }
        }
    }

    fn finish(self) {
        match self {
            Sink::Csv(w) => {
                if let Ok(mut out) = w.into_inner() {
                    out.send();
                }
            }
            Sink::Xlsx {
                tx,
                mut book,
                failed,
                ..
            } => {
                if let Err(e) = send_workbook(&tx, &mut book, failed) {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e)));
                }
            }
        }
    }
}

/// A writer that sends what it is given in chunks of about [`CHUNK`] bytes.
struct Chunks {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn send(&mut self) -> bool {
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(Ok(chunk)).is_ok()
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK && !self.send() {
            return Err(std::io::Error::other("the client went away"));
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Saves the workbook to a temporary file and sends it in chunks.
fn send_workbook(
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    book: &mut rust_xlsxwriter::Workbook,
    failed: Option<String>,
) -> Result<(), String> {
    use std::io::{Read, Seek};
    if let Some(e) = failed {
        return Err(e);
    }
    let mut file = tempfile::tempfile().map_err(|e| e.to_string())?;
    book.save_to_writer(&mut file).map_err(|e| e.to_string())?;
    file.rewind().map_err(|e| e.to_string())?;
    let mut buf = vec![0; CHUNK];
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        let chunk = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
        tx.blocking_send(Ok(chunk))
            .map_err(|_| "the client went away".to_string())?;
    }
}

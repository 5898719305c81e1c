//! Admin helpers that turn a draft policy document into another draft (nothing is published
//! until `POST .../policy`): staff transfer and CSV permission matrices.

use super::auth::require_admin;
use super::error::{json_body, ApiError, ApiResult};
use super::state::Shared;
use crate::admin::{matrix, transfer};
use crate::core::Policy;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// A transfer request on a draft.
#[derive(Deserialize)]
pub struct TransferBody {
    document: Value,
    from: String,
    to: String,
    #[serde(default)]
    copy: bool,
    #[serde(default)]
    new_successor: bool,
}

/// `POST /v1/drafts/transfer` (admin): the draft with `from`'s roles, grants and denies moved
/// (or copied) to `to`, and what moved.
pub async fn transfer_draft(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let b: TransferBody = json_body(&body)?;
    match transfer(&b.document, &b.from, &b.to, b.copy, b.new_successor) {
        Ok((document, report)) => Ok(Json(json!({"document": document, "report": report}))),
        Err(crate::admin::TransferError::BadPolicy(e)) => Err(ApiError::bad_policy(&e)),
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.to_string(),
        )),
    }
}

/// A matrix export request.
#[derive(Deserialize)]
pub struct ExportBody {
    document: Value,
    resource: String,
}

/// `POST /v1/drafts/matrix/export` (admin): the resource's role x field/action matrix as CSV
/// (UTF-8 with BOM, a `#label` row), exactly as `fieldgate matrix export` writes it.
pub async fn matrix_export(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_admin(&state, &headers)?;
    let b: ExportBody = json_body(&body)?;
    let policy = compile(&b.document)?;
    let table = crate::cli::matrix_table(&b.document, &policy, &b.resource, None)
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_resource", m))?;
    let csv = crate::cli::to_csv(&table).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// A matrix import request.
#[derive(Deserialize)]
pub struct ImportBody {
    document: Value,
    resource: String,
    csv: String,
}

/// `POST /v1/drafts/matrix/import` (admin): the draft with an edited CSV matrix applied; 422
/// `bad_cells` with every bad cell (row, column, message) and no change otherwise.
pub async fn matrix_import(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_admin(&state, &headers)?;
    let b: ImportBody = json_body(&body)?;
    let policy = compile(&b.document)?;
    let table = crate::cli::from_csv(b.csv.as_bytes()).map_err(ApiError::bad_request)?;
    match matrix::import(&b.document, &policy, &b.resource, &table) {
        Ok(document) => Ok(Json(json!({"document": document})).into_response()),
        Err(cells) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "code": "bad_cells",
                "message": format!("{} bad cell(s); nothing was changed", cells.len()),
                "cells": cells,
            })),
        )
            .into_response()),
    }
}

fn compile(doc: &Value) -> ApiResult<Policy> {
    Policy::from_value(doc).map_err(|e| ApiError::bad_policy(&e))
}

//! Health for load balancers and orchestrators: `GET /healthz` says the process answers,
//! `GET /readyz` that it can serve (a current version is loaded and the store answers). Both
//! are unauthenticated and cheap, and say nothing but up or down and why.

use crate::host::sync::UnpoisonedRw;
use crate::server::blocking;
use crate::server::state::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `GET /healthz`: 200 while the process answers.
pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 when a current version is loaded and the store answers a query; 503
/// with the reason otherwise (`no_version`, `store`).
pub async fn readyz(State(state): State<Shared>) -> Response {
    let app = state.current.reading().keys().next().cloned();
    let Some(app) = app else {
        return not_ready("no_version");
    };
    let s = state.clone();
    match blocking(move || Ok(s.store.last_version(&app)?)).await {
        Ok(_) => Json(json!({"status": "ready"})).into_response(),
        Err(_) => not_ready("store"),
    }
}

fn not_ready(reason: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "not_ready", "reason": reason})),
    )
        .into_response()
}

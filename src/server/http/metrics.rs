//! `GET /metrics` in the Prometheus text format, for an admin or whoever holds the
//! `--metrics-token` (the counters are `services::metrics`).

use crate::server::http::auth::MetricsReader;
use crate::server::state::Shared;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `GET /metrics` (admin or `--metrics-token`).
pub async fn scrape(_: MetricsReader, State(state): State<Shared>) -> Response {
    let pool = state.store.pool_status();
    let Some(text) = crate::server::services::metrics::text(pool, state.access.queued()) else {
        return crate::server::error::ApiError::internal("the metrics could not be written")
            .into_response();
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

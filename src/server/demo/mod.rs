//! The sample CRM behind the sample app: login as one of its people, records enforced by the
//! policy (list, read, create, edit, workflow transitions), sharing, exports and the record
//! moves of a transfer. Product endpoints never call into it; it has its own routes.

pub mod data_api;
pub mod export;
pub mod parents;
pub mod sample;
pub mod sharing;

use crate::server::state::Shared;
use axum::routing::{get, post};
use axum::Router;

/// The demo's routes under `/v1`: logins, people, records, sharing, exports and record moves.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/login", post(data_api::login))
        .route("/logout", post(data_api::logout))
        .route("/me", get(data_api::me))
        .route("/demo/people", get(data_api::demo_people))
        .route("/people", get(sharing::people))
        .route("/users", get(data_api::users))
        .route(
            "/data/{resource}",
            get(data_api::list).post(data_api::create),
        )
        .route(
            "/data/{resource}/{id}",
            get(data_api::get).put(data_api::put),
        )
        .route("/data/{resource}/export", get(export::export))
        .route(
            "/data/{resource}/{id}/members",
            get(sharing::get).put(sharing::put),
        )
        .route("/data/{resource}/{id}/history", get(data_api::history))
        .route(
            "/data/{resource}/{id}/{transition}",
            post(data_api::transition),
        )
        .route("/admin/reassign-records", post(data_api::reassign))
        .route("/admin/records/{resource}", get(data_api::pick))
}

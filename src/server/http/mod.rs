//! The HTTP layer: handlers, the extractors that check who calls before any body is read,
//! bounded bodies, error answers in the caller's language, request logs and `/metrics`.
//! Handlers call the services and the state; nothing below calls up here.

pub mod access;
pub mod admins;
pub mod audit;
pub mod auth;
pub mod body;
pub mod decision_api;
pub mod decisions;
pub mod drafts;
pub mod health;
pub mod lang;
pub mod logs;
pub mod metrics;
pub mod policy_api;
pub mod reviews;
pub mod saved;
pub mod scopes;

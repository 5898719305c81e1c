//! API errors: an HTTP status, a stable code, a message and, for policies, every mistake with its
//! JSON path. Rendered as `{"code", "message", "errors"?, "fields"?}`.

use crate::core::{PolicyError, PolicyErrors};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An error answer of the server.
#[derive(Debug, Serialize)]
pub struct ApiError {
    /// The HTTP status (not serialised).
    #[serde(skip)]
    pub status: StatusCode,
    /// Stable code, e.g. `bad_policy`, `unauthorized`, `forbidden_fields`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// Policy mistakes with JSON paths (`bad_policy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<PolicyError>>,
    /// The fields a write may not touch (`forbidden_fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    /// An error without details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: None,
            fields: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 500 `internal`: the detail goes to the log, not to the caller.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        eprintln!("internal error: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// 422 `bad_policy` with every mistake.
    pub fn bad_policy(errors: &PolicyErrors) -> ApiError {
        ApiError {
            errors: Some(errors.errors().to_vec()),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_policy",
                format!(
                    "the policy is not valid: {} error(s)",
                    errors.errors().len()
                ),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

/// Parses a JSON request body (after the caller is authorised, so a bad body never tells an
/// unauthorised caller anything).
///
/// # Errors
/// 400 `bad_json` for malformed JSON or a body of the wrong shape.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.to_string()))
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::core::RequestError> for ApiError {
    fn from(e: crate::core::RequestError) -> ApiError {
        let status = match e.code {
            crate::core::Code::UnknownResource => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code.as_str(), e.message)
    }
}

//! Request bodies, read only after the caller is known (extractors before them reject first),
//! bounded in size and in time, and refused with JSON errors: 413 `too_large`, 408 `timeout`,
//! 415 `unsupported_media_type` (a JSON endpoint wants `Content-Type: application/json`),
//! 400 `bad_json`.

use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::state::Shared;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

/// Most bytes of most bodies.
pub const SMALL: usize = 64 * 1024;
/// Most bytes of a policy, a draft or a directory.
pub const LARGE: usize = 4 * 1024 * 1024;
/// Most bytes of a batch of decision events.
pub const EVENTS: usize = 512 * 1024;

/// A body's bytes, at most `MAX`.
pub struct Raw<const MAX: usize>(pub Bytes);

/// A JSON body of at most `MAX` bytes, read as `T`.
pub struct Json<T, const MAX: usize = SMALL>(pub T);

/// Reads the body of `req`, at most `max` bytes, within the server's body timeout.
async fn read(state: &Shared, req: Request, max: usize) -> ApiResult<Bytes> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            ServerCode::TooLarge,
            format!("the body is over {max} bytes"),
        )
    };
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(req.into_body(), max);
    match tokio::time::timeout(state.options.body_timeout.into(), limited.collect()).await {
        Err(_) => Err(ApiError::new(
            ServerCode::Timeout,
            "the body did not arrive in time",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::bad_request(format!(
            "the body could not be read: {e}"
        ))),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

impl<const MAX: usize> FromRequest<Shared> for Raw<MAX> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &Shared) -> ApiResult<Raw<MAX>> {
        read(state, req, MAX).await.map(Raw)
    }
}

/// Whether a request says its body is JSON.
pub fn is_json(req_headers: &axum::http::HeaderMap) -> bool {
    req_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

impl<T: DeserializeOwned, const MAX: usize> FromRequest<Shared> for Json<T, MAX> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &Shared) -> ApiResult<Json<T, MAX>> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                ServerCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = read(state, req, MAX).await?;
        parse(&bytes).map(Json)
    }
}

/// Parses JSON bytes as `T`.
///
/// # Errors
/// 400 `bad_json`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::new(ServerCode::BadJson, e.to_string()))
}

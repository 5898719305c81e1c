//! The reader's language, from `Accept-Language`: what the diff's words and every error's
//! message are written in.

use crate::admin::words::Lang;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use std::convert::Infallible;

/// The language the request prefers (English when it names neither of ours).
#[derive(Debug, Clone, Copy)]
pub struct Want(pub Lang);

impl Want {
    /// The language of these request headers.
    pub fn of(headers: &axum::http::HeaderMap) -> Lang {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            // Bounded: a header is at most a few hundred bytes in practice.
            .map_or(Lang::En, |h| Lang::from_accept(&h[..h.len().min(512)]))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Want {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Want, Infallible> {
        Ok(Want(Want::of(&parts.headers)))
    }
}

/// The most of an error answer read to put it in Chinese (they are small; a larger one is
/// sent as it is).
const MAX_ERROR_BODY: usize = 1 << 20;

/// Puts an error answer's `message` in Chinese for a reader who asks for it, keeping its code
/// and the English specifics (`message_en`).
pub async fn localize_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let lang = Want::of(req.headers());
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if lang != Lang::Zh
        || !(res.status().is_client_error() || res.status().is_server_error())
        || !json
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return axum::response::Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let code = v
        .get("code")
        .and_then(|c| c.as_str())
        .and_then(crate::server::error::ServerCode::named);
    if let (Some(code), Some(obj)) = (code, v.as_object_mut()) {
        if let Some(en) = obj.remove("message") {
            obj.insert("message_en".into(), en);
        }
        obj.insert("message".into(), code.zh().into());
    }
    let body = v.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

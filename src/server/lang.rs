//! The reader's language, from `Accept-Language`: what the diff's words (and later every
//! message) are written in.

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

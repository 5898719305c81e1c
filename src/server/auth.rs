//! Who is calling: the admin bearer token, and the demo login carried in a signed cookie.

use super::error::{ApiError, ApiResult};
use super::state::AppState;
use super::users::DemoUser;
use axum::http::HeaderMap;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The login cookie's name.
pub const COOKIE: &str = "fg_user";
/// How long a login lasts, ms.
pub const LOGIN_MS: i64 = 12 * 3600 * 1000;

/// Checks `Authorization: Bearer <admin token>`.
///
/// # Errors
/// 401 `unauthorized` when it is absent or wrong.
pub fn require_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compare digests, so the time taken does not depend on where the strings differ.
    if Sha256::digest(given.as_bytes()) == Sha256::digest(state.admin_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "this needs the admin token (Authorization: Bearer <token>)",
        ))
    }
}

/// The cookie value for `user` until `expires_ms`: `user~expires~mac`.
pub fn cookie_value(state: &AppState, user: &str, expires_ms: i64) -> String {
    let body = format!("{user}~{expires_ms}");
    let tag = mac(state, &body).finalize().into_bytes();
    format!(
        "{body}~{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The logged-in demo user, if the cookie is present, intact and not expired.
pub fn logged_in<'s>(
    state: &'s AppState,
    headers: &HeaderMap,
    now_ms: i64,
) -> Option<&'s DemoUser> {
    let value = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))?;
    let (body, given) = value.rsplit_once('~')?;
    let (user, expires) = body.rsplit_once('~')?;
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(given)
        .ok()?;
    let ok = mac(state, body).verify_slice(&tag).is_ok()
        && expires.parse::<i64>().is_ok_and(|e| e > now_ms);
    ok.then(|| state.user(user)).flatten()
}

/// The logged-in user, or 401.
///
/// # Errors
/// 401 `unauthorized` when nobody is logged in.
pub fn require_user<'s>(
    state: &'s AppState,
    headers: &HeaderMap,
    now_ms: i64,
) -> ApiResult<&'s DemoUser> {
    logged_in(state, headers, now_ms)
        .ok_or_else(|| ApiError::unauthorized("log in first (POST /v1/login)"))
}

fn mac(state: &AppState, body: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&state.cookie_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(body.as_bytes());
    m
}

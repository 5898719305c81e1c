//! Who is calling: a named admin or a service (a bearer token, stored hashed), or a person
//! logged in to the demo (a server-side session named by an HTTP-only cookie).
//!
//! The extractors here run before a handler reads any body, so an unauthorised caller never
//! gets one read. A state-changing request made with the login cookie must come from the
//! server's own origin (same-site pages on other ports are other origins); bearer-token
//! requests are for scripts and services and need no `Origin`.

use crate::admin::Person;
use crate::host::keys::hex;
use crate::host::sync::Unpoisoned;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::services::credentials::token_hash;
use crate::server::state::{AppState, Shared};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use sha2::Sha256;

/// The login cookie's name.
pub const COOKIE: &str = "fg_session";
/// How long a login lasts, ms.
pub const LOGIN_MS: i64 = 12 * 3600 * 1000;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The caller's credential `(name, kind)` from `Authorization: Bearer`, if valid.
async fn credential(state: &Shared, headers: &HeaderMap) -> ApiResult<Option<(String, String)>> {
    let Some(token) = bearer(headers) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let s = state.clone();
    crate::server::blocking(move || s.credentials.lookup(&*s.store, &hash)).await
}

/// A named admin (`Authorization: Bearer <admin token>`).
pub struct Admin(pub String);

impl FromRequestParts<Shared> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Admin> {
        match credential(state, &parts.headers).await? {
            Some((name, kind)) if kind == "admin" => Ok(Admin(name)),
            _ => Err(ApiError::unauthorized(
                "this needs an admin token (Authorization: Bearer <token>)",
            )),
        }
    }
}

/// A service or an admin: what may call the decision, filter and bundle-read endpoints.
pub struct Caller;

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<Caller> {
        match credential(state, &parts.headers).await? {
            Some(_) => Ok(Caller),
            None => Err(ApiError::unauthorized(
                "this needs a service or admin token (Authorization: Bearer <token>)",
            )),
        }
    }
}

/// Who may read `GET /metrics`: an admin, or the `--metrics-token`.
pub struct MetricsReader;

impl FromRequestParts<Shared> for MetricsReader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<MetricsReader> {
        if let (Some(given), Some(want)) = (bearer(&parts.headers), &state.options.metrics_token) {
            // Hashes compared: the time taken says nothing about where two tokens differ.
            if !want.trim().is_empty() && token_hash(given) == token_hash(want) {
                return Ok(MetricsReader);
            }
        }
        Admin::from_request_parts(parts, state)
            .await
            .map(|_| MetricsReader)
            .map_err(|_| {
                ApiError::unauthorized(
                    "this needs an admin token or the metrics token (Authorization: Bearer <token>)",
                )
            })
    }
}

/// An optional admin: `None` without a bearer token or with a service's, 401 with a wrong one.
pub struct MaybeAdmin(pub Option<String>);

impl FromRequestParts<Shared> for MaybeAdmin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<MaybeAdmin> {
        if bearer(&parts.headers).is_none() {
            return Ok(MaybeAdmin(None));
        }
        match credential(state, &parts.headers).await? {
            Some((name, kind)) => Ok(MaybeAdmin((kind == "admin").then_some(name))),
            None => Err(ApiError::unauthorized("this token is not valid")),
        }
    }
}

/// The logged-in person (the demo login's session), as the directory describes them. A
/// state-changing request must come from the server's own origin.
pub struct User(pub Person);

impl FromRequestParts<Shared> for User {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> ApiResult<User> {
        let Some(id) = session_id(state, &parts.headers) else {
            return Err(ApiError::unauthorized("log in first (POST /v1/login)"));
        };
        if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            same_site_reads_only(&parts.headers)?;
        } else {
            same_origin(state, &parts.headers, true)?;
        }
        let hash = token_hash(&id);
        let s = state.clone();
        let now = crate::host::now_ms();
        let user = crate::server::blocking(move || Ok(s.store.session(&hash, now)?)).await?;
        let person = match user {
            Some(u) => state.person(&u).await?,
            None => None,
        };
        person
            .map(User)
            .ok_or_else(|| ApiError::unauthorized("log in first (POST /v1/login)"))
    }
}

/// The login session id from the cookie, if the cookie carries this server's signature
/// (`<id>.<HMAC-SHA256 of id>` under the cookie key every instance shares): a forged or
/// foreign cookie never reaches the database.
pub fn session_id(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))?;
    let (id, mac) = value.split_once('.')?;
    let mac = crate::host::keys::unhex(mac)?;
    use hmac::Mac;
    // Compared in constant time.
    cookie_mac(state, id).verify_slice(&mac).ok()?;
    (!id.is_empty()).then(|| id.to_string())
}

fn cookie_mac(state: &AppState, id: &str) -> hmac::Hmac<Sha256> {
    use hmac::Mac;
    let mut m = <hmac::Hmac<Sha256> as Mac>::new_from_slice(&state.cookie_key)
        .expect("HMAC takes a key of any length");
    m.update(id.as_bytes());
    m
}

/// Refuses a read with the login cookie that a browser says another page made
/// (`Sec-Fetch-Site` other than `same-origin` or `none`): a page on a sibling subdomain could
/// otherwise make a victim's browser fetch records with `<img>` tags and raise refusal alerts
/// in their name. Refused before the session is read, so nothing is logged against the person.
/// Browsers too old to send the header are not covered (docs/security.md).
///
/// # Errors
/// 403 `forbidden_origin`.
fn same_site_reads_only(headers: &HeaderMap) -> ApiResult<()> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    match site.as_deref() {
        None | Some("same-origin" | "none") => Ok(()),
        Some(other) => Err(ApiError::new(
            ServerCode::ForbiddenOrigin,
            format!("a {other} page may not read with the login cookie"),
        )),
    }
}

/// Checks that a request comes from the server's own origin: its `Origin` (or, without one,
/// its `Referer`) is `http(s)://<Host>` or one of `--public-origin`. With `required`, a request
/// that names neither is refused too.
///
/// # Errors
/// 403 `forbidden_origin`.
pub fn same_origin(state: &AppState, headers: &HeaderMap, required: bool) -> ApiResult<()> {
    let text = |h| headers.get(h).and_then(|v| v.to_str().ok());
    let origin = text(header::ORIGIN)
        .filter(|o| *o != "null")
        .map(str::to_string)
        .or_else(|| text(header::REFERER).and_then(origin_of));
    let Some(origin) = origin else {
        if required {
            return Err(ApiError::new(
                ServerCode::ForbiddenOrigin,
                "a request made with the login cookie must carry this server's Origin",
            ));
        }
        return Ok(());
    };
    let host = text(header::HOST).unwrap_or_default();
    let own = [format!("http://{host}"), format!("https://{host}")];
    let ok = own.iter().any(|o| o.eq_ignore_ascii_case(&origin))
        || state
            .options
            .public_origin
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ServerCode::ForbiddenOrigin,
            format!("requests from `{origin}` may not change anything here"),
        ))
    }
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// A new random session id and the cookie that carries it, signed.
///
/// # Errors
/// 500 when the system has no randomness.
pub fn new_session(state: &AppState) -> ApiResult<(String, String)> {
    use hmac::Mac;
    let id = crate::host::keys::random_hex().map_err(ApiError::internal)?;
    let mac = hex(&cookie_mac(state, &id).finalize().into_bytes());
    let cookie = format!(
        "{COOKIE}={id}.{mac}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        LOGIN_MS / 1000
    );
    Ok((id, cookie))
}

/// The cookie that ends a login in the browser.
pub fn cleared_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// How long an events ticket lasts.
pub const TICKET_MS: i64 = 60_000;

/// A new events ticket, `<expiry ms>.<random>.<HMAC>` under the cookie key every instance
/// shares: whichever instance the stream reaches can check it.
///
/// # Errors
/// 500 when no randomness is available.
pub fn issue_ticket(state: &AppState) -> ApiResult<String> {
    use hmac::Mac;
    let random = crate::host::keys::random_hex().map_err(ApiError::internal)?;
    let body = format!("{}.{random}", crate::host::now_ms() + TICKET_MS);
    let mac = hex(&ticket_mac(state, &body).finalize().into_bytes());
    Ok(format!("{body}.{mac}"))
}

/// Whether `ticket` is a live ticket of this deployment not used on this instance before (an
/// instance remembers, by hash, the tickets used on it until they expire).
pub fn redeem_ticket(state: &AppState, ticket: &str) -> bool {
    use hmac::Mac;
    let Some((body, mac)) = ticket.rsplit_once('.') else {
        return false;
    };
    let Some(mac) = crate::host::keys::unhex(mac) else {
        return false;
    };
    // Compared in constant time.
    if ticket_mac(state, body).verify_slice(&mac).is_err() {
        return false;
    }
    let Some(expires) = body
        .split_once('.')
        .and_then(|(e, _)| e.parse::<i64>().ok())
    else {
        return false;
    };
    let now = crate::host::now_ms();
    if expires <= now {
        return false;
    }
    let mut used = state.tickets.locked();
    used.retain(|_, exp| *exp > now);
    used.insert(token_hash(ticket), expires).is_none()
}

/// A ticket's MAC: the cookie key over a text no session id can be (ids are hex).
fn ticket_mac(state: &AppState, body: &str) -> hmac::Hmac<Sha256> {
    cookie_mac(state, &format!("events-ticket:{body}"))
}

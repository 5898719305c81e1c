//! Decision events that clients report (also those queued offline), and the check of their
//! hash chains: `DecisionLog` in the npm package links each event to the one before it, so the
//! server can tell an event that is missing (a gap) or was changed (an edit) after it was logged.

use super::auth::{require_admin, require_user};
use super::error::{json_body, ApiError, ApiResult};
use super::files::hex;
use super::state::Shared;
use super::store::{ChainLink, Link, Reported};
use crate::cli::now_ms;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The most decision events one request may carry.
pub const MAX_EVENTS: usize = 1000;

/// `POST /v1/decisions`: a batch of decision events from the logged-in user; at most
/// [`MAX_EVENTS`] per request, each a JSON object with `action`, `resource` and a boolean
/// `allow`. Chained events (with `chain`, `prev` and `hash`) are checked against the chain's
/// last event seen; one sent again (a retry) is counted once. Every event is kept, with its
/// verdict; the answer lists the breaks by index.
pub async fn decisions(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let now = now_ms();
    let user = require_user(&state, &headers, now)?;
    let body: Value = json_body(&body)?;
    let events = body
        .get("events")
        .or(Some(&body))
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("expected {\"events\": [...]} or an array"))?;
    if events.len() > MAX_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {MAX_EVENTS} events per request"),
        ));
    }
    let reported = events
        .iter()
        .enumerate()
        .map(|(i, e)| reported(e).map_err(|m| ApiError::bad_request(format!("events[{i}]: {m}"))))
        .collect::<ApiResult<Vec<_>>>()?;
    let outcome = state.store.add_decisions(&user.id, now, &reported)?;
    let breaks: Vec<Value> = outcome
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l, Some(Link::Gap | Link::Edited)))
        .map(|(i, l)| json!({"index": i, "link": l.map(Link::as_str)}))
        .collect();
    Ok(Json(json!({
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "chain_breaks": breaks,
    })))
}

/// Reads one event: its required members, and its place in a chain when it has one.
fn reported(e: &Value) -> Result<Reported, String> {
    let ok = e.get("action").is_some_and(Value::is_string)
        && e.get("resource").is_some_and(Value::is_string)
        && e.get("allow").is_some_and(Value::is_boolean);
    if !ok {
        return Err("needs string `action` and `resource` and boolean `allow`".into());
    }
    let Some(hash) = e.get("hash") else {
        return Ok(Reported {
            event: e.to_string(),
            chain: None,
        });
    };
    let (Some(chain), Some(hash), Some(prev)) = (
        e.get("chain").and_then(Value::as_str),
        hash.as_str(),
        e.get("prev").filter(|p| p.is_null() || p.is_string()),
    ) else {
        return Err(
            "a chained event needs string `chain` and `hash` and `prev` (a string or null)".into(),
        );
    };
    let mut unhashed = e.clone();
    if let Some(members) = unhashed.as_object_mut() {
        members.shift_remove("hash");
    }
    Ok(Reported {
        event: e.to_string(),
        chain: Some(ChainLink {
            chain: chain.to_string(),
            prev: prev.as_str().map(str::to_string),
            hash: hash.to_string(),
            intact: digest(&unhashed) == hash,
        }),
    })
}

/// SHA-256, in hex, of `event` as compact JSON with its members in order: what
/// `DecisionLog` hashes (`JSON.stringify` of the entry without `hash`).
fn digest(event: &Value) -> String {
    hex(&Sha256::digest(event.to_string().as_bytes()))
}

/// `?limit=` (default 100, at most 1000).
#[derive(Deserialize)]
pub struct Limit {
    limit: Option<u32>,
}

/// `GET /v1/decisions` (admin): the latest reported decision events, newest first, each with
/// who reported it, when, and its `link` in its chain (`ok`, `gap`, `edited`, `unchained`).
pub async fn recent_decisions(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Limit>,
) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let limit = q.limit.unwrap_or(100).min(1000);
    Ok(Json(json!({"decisions": state.store.decisions(limit)?})))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_digest_is_of_the_compact_json_in_member_order() {
        // echo -n '{"b":1,"a":"x"}' | sha256sum
        assert_eq!(
            super::digest(&json!({"b": 1, "a": "x"})),
            "7239560c8c8c6a78e1ff0b99426cca61beee0b524406431517c23f180e34b48d"
        );
    }
}

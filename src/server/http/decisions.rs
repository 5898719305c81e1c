//! Decision events that clients report (also those queued offline), and the check of their
//! hash chains: `DecisionLog` in the npm package links each event to the one before it, so the
//! server can tell an event that is missing (a gap) or was changed (an edit) after it was
//! logged. The chain proves the device's own record is intact as its owner sent it; it is no
//! proof against that owner, who can rewrite a chain and its hashes (see `docs/security.md`).
//!
//! Who reported an event is the logged-in person, never what the event says. Each user has a
//! rate and a quota of stored events; a bad event is refused alone, the rest of its batch kept.

use crate::host::keys::hex;
use crate::host::now_ms;
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::{Admin, User};
use crate::server::http::body::{Raw, EVENTS};
use crate::server::state::Shared;
use crate::server::store::{AccessEntry, ChainLink, Link, Reported};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The most decision events one request may carry.
pub const MAX_EVENTS: usize = 1000;

/// `POST /v1/decisions`: a batch of decision events from the logged-in user (`{"events":
/// [...]}` or a bare list), at most [`MAX_EVENTS`], each a JSON object with `action`,
/// `resource` and a boolean `allow`. Chained events (with `chain`, `prev` and `hash`) are
/// checked against the chain's last event seen; one sent again (a retry) is counted once.
/// The answer counts what was kept, lists chain breaks and refused events by index.
pub async fn decisions(
    User(person): User,
    State(state): State<Shared>,
    headers: HeaderMap,
    Raw(body): Raw<EVENTS>,
) -> ApiResult<Json<Value>> {
    if !crate::server::http::body::is_json(&headers) {
        return Err(ApiError::new(
            ServerCode::UnsupportedMediaType,
            "send the events as JSON with `Content-Type: application/json`",
        ));
    }
    let raw = events_of(&body)?;
    if raw.len() > MAX_EVENTS {
        return Err(ApiError::new(
            ServerCode::TooLarge,
            format!("at most {MAX_EVENTS} events per request"),
        ));
    }
    if let Err(wait) = state.decision_rate.take(&person.id, raw.len()) {
        return Err(ApiError::rate_limited(
            format!("too many decision events from `{}`; slow down", person.id),
            wait,
        ));
    }
    let mut refused = Vec::new();
    let mut reported = Vec::new();
    let mut index = Vec::new();
    let mut entries = Vec::new();
    let at = now_ms();
    for (i, e) in raw.iter().enumerate() {
        match reported_event(e.get(), &person.id) {
            Ok(r) => {
                entries.push(client_entry(&r.event, &person.id, at));
                reported.push(r);
                index.push(i);
            }
            Err(m) => refused.push(json!({"index": i, "message": m})),
        }
    }
    let (s, user, quota) = (
        state.clone(),
        person.id.clone(),
        state.options.decision_quota,
    );
    let n = reported.len() as u64;
    let outcome = blocking(move || {
        if s.store.decision_count(&user)? + n > quota {
            return Err(ApiError::rate_limited(
                format!("`{user}` has stored {quota} decision events, the most a user may"),
                3600,
            ));
        }
        Ok(s.store.add_decisions(&user, now_ms(), &reported)?)
    })
    .await?;
    // Beside the server's own entries, marked as client-reported (a retry is logged once).
    for (entry, link) in entries.into_iter().zip(&outcome.links) {
        if link.is_some() {
            // Client-reported: this request shows nothing, so nothing waits on the write.
            let _ = crate::server::http::access::log(&state, entry).await;
        }
    }
    let breaks: Vec<Value> = outcome
        .links
        .iter()
        .zip(&index)
        .filter(|(l, _)| matches!(l, Some(Link::Gap | Link::Edited)))
        .map(|(l, i)| json!({"index": i, "link": l.map(Link::as_str)}))
        .collect();
    Ok(Json(json!({
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "chain_breaks": breaks,
        "refused": refused,
    })))
}

/// A reported event as an access log entry. A refused *attempt* (the app was about to act)
/// is a refusal that counts for alerts; a refused *check* (drawing the UI) is only noted.
fn client_entry(event: &str, user: &str, at: i64) -> AccessEntry {
    let e: Value = serde_json::from_str(event).unwrap_or(Value::Null);
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let allow = e.get("allow").and_then(Value::as_bool).unwrap_or(false);
    let outcome = match (allow, e.get("kind").and_then(Value::as_str)) {
        (true, _) => "ok",
        (false, Some("attempt")) => "forbidden",
        (false, _) => "refused_check",
    };
    let record = match e.get("record") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    AccessEntry {
        at,
        user: user.to_string(),
        action: text("action"),
        resource: text("resource"),
        records: record.into_iter().collect(),
        count: 0,
        unmasked: Vec::new(),
        outcome: outcome.into(),
        fields: Vec::new(),
        source: "client".into(),
    }
}

/// The events of a batch, each still as its own JSON text (a bad one is refused alone).
fn events_of(body: &[u8]) -> ApiResult<Vec<Box<RawValue>>> {
    #[derive(Deserialize)]
    struct Wrapped {
        events: Vec<Box<RawValue>>,
    }
    let bad = |e: serde_json::Error| ApiError::new(ServerCode::BadJson, e.to_string());
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(ServerCode::BadJson, "the body is not UTF-8"))?;
    if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(bad)
    } else {
        serde_json::from_str::<Wrapped>(text)
            .map(|w| w.events)
            .map_err(|_| {
                ApiError::new(
                    ServerCode::BadJson,
                    "expected {\"events\": [...]} or a list of events",
                )
            })
    }
}

/// Reads one event: its required members, its reporter, and its place in a chain.
fn reported_event(text: &str, user: &str) -> Result<Reported, String> {
    let e: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let ok = e.get("action").is_some_and(Value::is_string)
        && e.get("resource").is_some_and(Value::is_string)
        && e.get("allow").is_some_and(Value::is_boolean);
    if !ok {
        return Err("needs string `action` and `resource` and boolean `allow`".into());
    }
    if let Some(claimed) = e.get("subject").filter(|s| !s.is_null()) {
        if claimed.as_str() != Some(user) {
            return Err(format!("the event names another subject than `{user}`"));
        }
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

/// SHA-256, in hex, of `event` as compact JSON with its members in order and numbers written
/// as JavaScript writes them: what `DecisionLog` hashes (`JSON.stringify` of the entry
/// without `hash`).
fn digest(event: &Value) -> String {
    let mut text = String::new();
    js_json(event, &mut text);
    hex(&Sha256::digest(text.as_bytes()))
}

/// `JSON.stringify`'s text of a value.
fn js_json(v: &Value, out: &mut String) {
    match v {
        Value::Number(n) => out.push_str(&js_number(n)),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                js_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                js_json(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A number as JavaScript's `Number.prototype.toString` writes it: plain digits from 1e-6 up
/// to below 1e21, exponent form (`1e+21`, `1.5e-7`) outside.
#[expect(
    clippy::cast_possible_truncation,
    reason = "a shortest f64 form has at most 17 digits"
)]
fn js_number(n: &serde_json::Number) -> String {
    let Some(f) = n.as_f64() else {
        return n.to_string();
    };
    if !f.is_finite() {
        return "null".into();
    }
    if f == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits and the decimal exponent, from Rust's own shortest form.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let e: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = e + 1;
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exp = if n > 0 {
            format!("+{}", n - 1)
        } else {
            format!("{}", n - 1)
        };
        if k == 1 {
            format!("{digits}e{exp}")
        } else {
            format!("{}.{}e{exp}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// `?limit=` (default 100, at most 1000).
#[derive(Deserialize)]
pub struct Limit {
    limit: Option<u32>,
}

/// `GET /v1/decisions` (admin): the latest reported decision events, newest first, each with
/// who reported it, when, and its `link` in its chain (`ok`, `gap`, `edited`, `unchained`).
pub async fn recent_decisions(
    _: Admin,
    State(state): State<Shared>,
    Query(q): Query<Limit>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(100).min(1000);
    let s = state.clone();
    let list = blocking(move || Ok(s.store.decisions(limit)?)).await?;
    Ok(Json(json!({"decisions": list})))
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

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        let cases = [
            (json!(1e21), "1e+21"),
            (json!(1e20), "100000000000000000000"),
            (json!(123456789012345680000.0), "123456789012345680000"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(0.000001), "0.000001"),
            (json!(-2.5), "-2.5"),
            (json!(3), "3"),
            (json!(1.7976931348623157e308), "1.7976931348623157e+308"),
            (json!(12.0), "12"),
        ];
        for (v, want) in cases {
            let mut s = String::new();
            super::js_json(&v, &mut s);
            assert_eq!(s, want, "{v}");
        }
    }
}

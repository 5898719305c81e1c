//! The one place where errors become JavaScript values: the JSON text of
//! `{ code, message, path?, errors? }`, which the npm wrapper turns into `FieldgateError`
//! (JSON text keeps serde-wasm-bindgen and js-sys out of the shipped wasm).

use crate::bundle::BundleError;
use crate::core::{PolicyErrors, RequestError};
use crate::prelude::*;
use serde::Serialize;
use wasm_bindgen::JsValue;

#[derive(Serialize)]
struct JsError<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a PolicyErrors>,
    /// The code's former name, for one release (`unknown_key` for `untrusted_key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<&'a str>,
}

fn to_js(e: &JsError<'_>) -> JsValue {
    // Serialising these plain structs cannot fail; fall back to the message alone if it did.
    JsValue::from_str(&serde_json::to_string(e).unwrap_or_else(|_| e.message.to_string()))
}

/// `v` as JSON text for the JS side; a failure (none is expected of these plain structs) is an
/// `internal` error, not an empty string the wrapper would fail to parse.
pub(crate) fn json_text<T: Serialize>(v: &T) -> Result<String, JsValue> {
    serde_json::to_string(v).map_err(|e| js_error("internal", &e.to_string(), None))
}

/// An error with a code, a message and an optional JSON path.
pub(crate) fn js_error(code: &str, message: &str, path: Option<&str>) -> JsValue {
    to_js(&JsError {
        code,
        message,
        path,
        errors: None,
        alias: None,
    })
}

/// A refused bundle; `bad_policy` carries the policy's errors.
pub(crate) fn from_bundle(e: &BundleError) -> JsValue {
    let first = e.policy_errors.as_ref().and_then(|p| p.errors().first());
    to_js(&JsError {
        code: e.code.as_str(),
        message: &e.to_string(),
        path: first.map(|f| f.path.as_str()),
        errors: e.policy_errors.as_ref(),
        alias: e.code.alias(),
    })
}

#[cfg(feature = "compile")]
/// A policy that does not compile: the first error's code and path, and every error.
pub(crate) fn from_policy(e: &PolicyErrors) -> JsValue {
    let first = e.errors().first();
    to_js(&JsError {
        code: first.map_or(crate::core::Code::BadJson.as_str(), |f| f.code.as_str()),
        message: &e.to_string(),
        path: first.map(|f| f.path.as_str()),
        errors: Some(e),
        alias: None,
    })
}

/// An unknown resource or action, or a malformed request.
pub(crate) fn from_request(e: &RequestError) -> JsValue {
    to_js(&JsError {
        code: e.code.as_str(),
        message: &e.message,
        path: None,
        errors: None,
        alias: None,
    })
}

//! Attribute lookup: how the evaluator reads `record.*` and `context.*` values.
//!
//! The compiled policy lists every attribute path its conditions and scopes read, each with a
//! slot number. A caller hands over either whole JSON objects (looked up by path) or a slice of
//! values already extracted in slot order (the wasm fast path).

use crate::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One attribute path read by the policy, e.g. `record.customer.region` -> `["customer", "region"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttrPath {
    /// Position of this path in the policy's slot table.
    pub slot: u32,
    /// Object keys from the root of the record or context.
    pub keys: Box<[Box<str>]>,
}

impl AttrPath {
    /// The dotted spelling, e.g. `customer.region`.
    pub fn dotted(&self) -> String {
        dotted(&self.keys)
    }
}

/// `parts` joined by dots (a plain loop: the library's `join` is a larger function per element
/// type, and the wasm module would carry three of them).
pub fn dotted<S: AsRef<str>>(parts: &[S]) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(p.as_ref());
    }
    out
}

/// Something attributes can be read from; a missing attribute reads as `None` (null).
pub trait Attrs {
    /// The value at `path`, or `None` when absent.
    fn attr(&self, path: &AttrPath) -> Option<&Value>;
}

impl Attrs for Value {
    fn attr(&self, path: &AttrPath) -> Option<&Value> {
        match path.keys.first() {
            None => Some(self),
            Some(_) => self.as_object()?.attr(path),
        }
    }
}

impl Attrs for Map<String, Value> {
    fn attr(&self, path: &AttrPath) -> Option<&Value> {
        let (first, rest) = path.keys.split_first()?;
        rest.iter()
            .try_fold(self.get(&**first)?, |v, k| v.as_object()?.get(&**k))
    }
}

/// Values already extracted in slot order (index = `AttrPath::slot`).
#[derive(Debug, Clone, Copy)]
pub struct Slots<'a>(pub &'a [Value]);

impl Attrs for Slots<'_> {
    fn attr(&self, path: &AttrPath) -> Option<&Value> {
        self.0.get(path.slot as usize).filter(|v| !v.is_null())
    }
}

/// No attributes at all: every path reads as null.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAttrs;

impl Attrs for NoAttrs {
    fn attr(&self, _: &AttrPath) -> Option<&Value> {
        None
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The string form of a scalar used for owner and department matching and for masking.
pub fn scalar_text(v: &Value) -> Option<alloc::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(alloc::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Some(alloc::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(alloc::borrow::Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        })),
        _ => None,
    }
}

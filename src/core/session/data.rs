//! Records shaped by a session's decisions: what a form shows, and what it may submit.
//!
//! A dotted field name is a path into nested objects (`address.city` is `city` inside
//! `address`), as Formily and rjsf nest their schemas. Only own members of objects are read;
//! lists have no members. Where declared fields nest, the deeper one decides its part.

use super::{Input, Session};
use crate::core::error::{Code, RequestError};
use crate::core::mask::Mask;
use crate::core::policy::Resource;
use crate::core::state::{FieldState, Mode};
use crate::prelude::*;
use serde_json::{Map, Value};

impl Session {
    /// A copy of `record` as `mode` shows it: only the declared fields the user may see
    /// (masked ones masked), and the attributes that address the record (`id`, and the
    /// resource's owner and department attributes). Everything else is left out, so a field
    /// a policy stops declaring is never shown.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the record is not an object.
    pub fn redact(
        &self,
        resource: &str,
        mode: Mode,
        record: &Value,
        context: Option<&Value>,
    ) -> Result<Value, RequestError> {
        as_object(record, "record")?;
        let states = self.fields(resource, mode, Input::json(Some(record), context))?;
        let res = states.resource;
        let mut out = Value::Object(Map::new());
        for (i, path) in by_depth(res) {
            let field = res.fields.get(i);
            match states.states[i] {
                FieldState::Hidden => remove(&mut out, &path),
                state => {
                    if let Some(v) = get(record, &path) {
                        let v = if state == FieldState::Masked {
                            field.mask.unwrap_or(Mask::Full).apply(v)
                        } else {
                            v.clone()
                        };
                        put(&mut out, &path, v);
                    }
                }
            }
        }
        let slots = &self.policy().slots.record;
        let attrs = [res.owner, res.department].into_iter().flatten();
        let address = attrs.map(|s| {
            slots[s as usize]
                .keys
                .iter()
                .map(|k| &**k)
                .collect::<Vec<_>>()
        });
        for path in core::iter::once(vec!["id"]).chain(address) {
            if let Some(v) = get(record, &path) {
                put(&mut out, &path, v.clone());
            }
        }
        Ok(out)
    }

    /// A copy of `form_data` holding only the declared fields editable in `mode` for
    /// `record`: what may be submitted.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the data is not an object.
    pub fn writable(
        &self,
        resource: &str,
        mode: Mode,
        record: Option<&Value>,
        form_data: &Value,
        context: Option<&Value>,
    ) -> Result<Value, RequestError> {
        as_object(form_data, "form data")?;
        let states = self.fields(resource, mode, Input::json(record, context))?;
        let mut out = Value::Object(Map::new());
        for (i, path) in by_depth(states.resource) {
            if states.states[i] == FieldState::Editable {
                if let Some(v) = get(form_data, &path) {
                    put(&mut out, &path, v.clone());
                }
            } else {
                remove(&mut out, &path);
            }
        }
        Ok(out)
    }

    /// The paths in `changes` that the user may not write on `record` in `mode`: not a
    /// declared field (nor inside one), or not editable. What a server refuses.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the changes are not an object.
    pub fn forbidden_writes(
        &self,
        resource: &str,
        mode: Mode,
        record: Option<&Value>,
        changes: &Value,
        context: Option<&Value>,
    ) -> Result<Vec<String>, RequestError> {
        let data = as_object(changes, "changes")?;
        let states = self.fields(resource, mode, Input::json(record, context))?;
        let paths: Vec<Vec<&str>> = states.resource.fields.names().map(split).collect();
        let mut out = Vec::new();
        for (k, v) in data {
            check(&paths, &states.states, vec![k.as_str()], v, &mut out);
        }
        Ok(out)
    }
}

/// Adds to `out` the paths under `at` (holding `v`) that may not be written.
fn check<'v>(
    paths: &[Vec<&str>],
    states: &[FieldState],
    at: Vec<&'v str>,
    v: &'v Value,
    out: &mut Vec<String>,
) {
    let deeper = paths
        .iter()
        .any(|p| p.len() > at.len() && p.starts_with(&at));
    if let (true, Some(members)) = (deeper, v.as_object()) {
        for (k, child) in members {
            let mut next = at.clone();
            next.push(k);
            check(paths, states, next, child, out);
        }
        return;
    }
    let covering = paths
        .iter()
        .enumerate()
        .filter(|(_, p)| at.starts_with(p))
        .max_by_key(|(_, p)| p.len());
    if !covering.is_some_and(|(i, _)| states[i] == FieldState::Editable) {
        out.push(at.join("."));
    }
}

/// The declared fields as paths, shallow ones first (deeper ones then decide their part).
fn by_depth(res: &Resource) -> Vec<(usize, Vec<&str>)> {
    let mut v: Vec<(usize, Vec<&str>)> = res.fields.names().map(split).enumerate().collect();
    v.sort_by_key(|(_, p)| p.len());
    v
}

fn split(name: &str) -> Vec<&str> {
    name.split('.').collect()
}

/// The value at `path`, reading only own members of objects.
fn get<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |at, k| at.as_object()?.get(*k))
}

/// Sets `path` in `out`, making the objects on the way.
fn put(out: &mut Value, path: &[&str], v: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = out;
    for k in parents {
        let Some(obj) = at.as_object_mut() else {
            return;
        };
        at = obj
            .entry(k.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(obj) = at.as_object_mut() {
        obj.insert(last.to_string(), v);
    }
}

/// Removes `path` from `out`, if present.
fn remove(out: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = out;
    for k in parents {
        match at.as_object_mut().and_then(|o| o.get_mut(*k)) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Some(obj) = at.as_object_mut() {
        obj.shift_remove(*last);
    }
}

fn as_object<'v>(v: &'v Value, what: &str) -> Result<&'v Map<String, Value>, RequestError> {
    v.as_object().ok_or_else(|| {
        RequestError::new(
            Code::BadRequest,
            format!("the {what} must be a JSON object"),
        )
    })
}

//! Records shaped by a session's decisions: what a form shows, and what it may submit.
//!
//! A dotted field name is a path into nested objects (`address.city` is `city` inside
//! `address`), as Formily and rjsf nest their schemas; a list on the way applies the rest of
//! the path to each of its items (`lines.price` is the price of every line, Formily's
//! `lines.*.price`). Only own members of objects are read. Where declared fields nest, the
//! deeper one decides its part.

use super::{Input, ResourceId, Session};
use crate::core::error::{Code, RequestError};
use crate::core::mask::Mask;
use crate::core::state::{FieldState, Mode};
use crate::core::workflow::TRAIL;
use crate::prelude::*;
use serde_json::{Map, Value};

impl Session {
    /// A copy of `record` as `mode` shows it: only the declared fields the user may see
    /// (masked ones masked), and the attributes that address the record (`id`, and the
    /// resource's owner, department, members and org attributes, the parent's id and a flow's trail). A parent record joined in
    /// (`record.customer` for a contact) is shown as viewing that record would show it, and
    /// only when the user may view it, so a page decides a `parent` scope on what it may see. Everything else is left out, so a field
    /// a policy stops declaring is never shown.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the record is not an object.
    #[expect(
        clippy::indexing_slicing,
        reason = "an attribute's slot number indexes the policy's record slots"
    )]
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
        let fields: Vec<(Vec<&str>, Keep)> = res
            .fields
            .iter()
            .zip(&states.states)
            .map(|(f, s)| {
                let keep = match s {
                    FieldState::Hidden => Keep::Drop,
                    FieldState::Masked => Keep::Mask(f.mask.unwrap_or(Mask::Full)),
                    _ => Keep::Copy,
                };
                (split(f.name), keep)
            })
            .collect();
        let mut out = select(record, 0, &refs(&fields)).unwrap_or_default();
        let p = self.policy();
        let slots = &p.slots.record;
        let attrs = [res.owner, res.department, res.members, res.org]
            .into_iter()
            .flatten();
        let address = attrs.map(|s| {
            slots[s as usize]
                .keys
                .iter()
                .map(|k| &**k)
                .collect::<Vec<_>>()
        });
        // A flow's trail says where the record is in its flow (and who moved it there).
        let trail = res.workflow.as_ref().map(|_| vec![TRAIL]);
        for path in core::iter::once(vec!["id"]).chain(address).chain(trail) {
            if let Some(v) = get(record, &path) {
                put(&mut out, &path, v.clone());
            }
        }
        if let Some(link) = &res.parent {
            let via: Vec<&str> = link.via.split('.').collect();
            if let Some(v) = get(record, &via) {
                put(&mut out, &via, v.clone());
            }
            let up = &p.resource_at(link.resource).name;
            if let Some(parent) = record.get(up.as_str()).filter(|v| v.is_object()) {
                let seen = p
                    .action_id(ResourceId(link.resource), "view")
                    .is_ok_and(|a| {
                        self.can_at(
                            ResourceId(link.resource),
                            a,
                            Input::json(Some(parent), context),
                        )
                    });
                if seen {
                    put(
                        &mut out,
                        &[up.as_str()],
                        self.redact(up, Mode::View, parent, context)?,
                    );
                }
            }
        }
        Ok(out)
    }

    /// A copy of `form_data` holding only the declared fields editable in `mode` for
    /// `record`: what may be submitted. A list (or any value but an object) holding a field
    /// that is not editable is left out whole: writing it would replace that field too.
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
        let fields: Vec<(Vec<&str>, Keep)> = states
            .resource
            .fields
            .names()
            .zip(&states.states)
            .map(|(n, s)| {
                let keep = if *s == FieldState::Editable {
                    Keep::Copy
                } else {
                    Keep::Drop
                };
                (split(n), keep)
            })
            .collect();
        // The containers a write would replace whole while they hold a part not editable:
        // `select` leaves them out unless they are objects (written member by member).
        let paths: Vec<Vec<&str>> = fields.iter().map(|(p, _)| p.clone()).collect();
        let mut all = fields;
        for p in &paths {
            for n in 1..p.len() {
                let c = p.get(..n).unwrap_or_default();
                if locks(&paths, &states.states, c) {
                    all.push((c.to_vec(), Keep::Lock));
                }
            }
        }
        Ok(select(form_data, 0, &refs(&all)).unwrap_or_default())
    }

    /// The sensitive fields (those with a mask) `redact` would show unmasked for `record` in
    /// `mode`, among those the record has: what an access log records for a read.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the record is not an object.
    pub fn unmasked(
        &self,
        resource: &str,
        mode: Mode,
        record: &Value,
        context: Option<&Value>,
    ) -> Result<Vec<&str>, RequestError> {
        as_object(record, "record")?;
        let states = self.fields(resource, mode, Input::json(Some(record), context))?;
        let res = states.resource;
        Ok(res
            .fields
            .iter()
            .zip(&states.states)
            .filter(|(f, s)| f.mask.is_some() && **s >= FieldState::Readonly)
            .filter(|(f, _)| get(record, &split(f.name)).is_some_and(|v| !v.is_null()))
            .map(|(f, _)| f.name)
            .collect())
    }

    /// The paths in `changes` that the user may not write on `record` in `mode`: not a
    /// declared field (nor inside one), not editable, or a container replaced whole (a list,
    /// or any value but an object) while it holds a field that is not editable. What a server
    /// refuses.
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
#[expect(
    clippy::indexing_slicing,
    reason = "`paths` and `states` both have one entry per declared field"
)]
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
    if deeper {
        if let Some(members) = v.as_object() {
            for (k, child) in members {
                let mut next = at.clone();
                next.push(k);
                check(paths, states, next, child, out);
            }
            return;
        }
        // Anything but an object replaces the container whole (a list is written as a new
        // list): refused when it holds a field the user may not write.
        if locks(paths, states, &at) {
            out.push(crate::core::attrs::dotted(&at));
            return;
        }
        if let Some(items) = v.as_array() {
            for item in items {
                check(paths, states, at.clone(), item, out);
            }
            return;
        }
    }
    let covering = paths
        .iter()
        .enumerate()
        .filter(|(_, p)| at.starts_with(p))
        .max_by_key(|(_, p)| p.len());
    if covering.is_none_or(|(i, _)| states[i] != FieldState::Editable) {
        out.push(crate::core::attrs::dotted(&at));
    }
}

/// Whether a declared field below `at` (strictly) is not editable: the container at `at` may
/// then be written only member by member, never replaced.
#[expect(
    clippy::indexing_slicing,
    reason = "`paths` and `states` both have one entry per declared field"
)]
fn locks(paths: &[Vec<&str>], states: &[FieldState], at: &[&str]) -> bool {
    paths
        .iter()
        .enumerate()
        .any(|(i, p)| p.len() > at.len() && p.starts_with(at) && states[i] != FieldState::Editable)
}

/// What becomes of a declared field's value.
#[derive(Clone, Copy)]
enum Keep {
    Drop,
    Copy,
    Mask(Mask),
    /// A container kept only as an object (see [`Session::writable`]).
    Lock,
}

fn refs<'f>(fields: &'f [(Vec<&'f str>, Keep)]) -> Vec<(&'f [&'f str], Keep)> {
    fields.iter().map(|(p, k)| (p.as_slice(), *k)).collect()
}

/// The part of `v` (found `depth` keys deep) the declared fields keep: a field decides its
/// value, except the parts a deeper declared field decides; members no field reaches are kept
/// only under a field that keeps its value. A list's items are each selected at the same
/// depth; items left empty stay as `{}`, so rows keep their places.
#[expect(
    clippy::indexing_slicing,
    reason = "`p[depth]` only after `p.len() > depth`"
)]
fn select(v: &Value, depth: usize, fields: &[(&[&str], Keep)]) -> Option<Value> {
    let here = fields
        .iter()
        .find(|(p, k)| p.len() == depth && !matches!(k, Keep::Lock))
        .map(|(_, k)| *k);
    let deeper = fields.iter().any(|(p, _)| p.len() > depth);
    let whole = |keep: Option<Keep>, v: &Value| match keep {
        Some(Keep::Copy) => Some(v.clone()),
        Some(Keep::Mask(m)) => Some(m.apply(v)),
        _ => None,
    };
    if let (true, Some(items)) = (deeper && depth > 0, v.as_array()) {
        let empty = || Value::Object(Map::new());
        let kept: Vec<Value> = items
            .iter()
            .map(|item| select(item, depth, fields).unwrap_or_else(empty))
            .collect();
        let any = kept
            .iter()
            .any(|x| x.as_object().is_none_or(|o| !o.is_empty()));
        return (here.is_some() || any).then_some(Value::Array(kept));
    }
    let Some(obj) = v.as_object().filter(|_| deeper) else {
        return whole(here, v);
    };
    let mut out = Map::new();
    for (k, child) in obj {
        let sub: Vec<(&[&str], Keep)> = fields
            .iter()
            .filter(|(p, _)| p.len() > depth && p[depth] == k)
            .copied()
            .collect();
        let locked = sub
            .iter()
            .any(|(p, keep)| p.len() == depth + 1 && matches!(keep, Keep::Lock));
        if locked && !child.is_object() {
            continue;
        }
        let kept = if sub.is_empty() {
            whole(here, child)
        } else {
            select(child, depth + 1, &sub)
        };
        if let Some(x) = kept {
            out.insert(k.clone(), x);
        }
    }
    (here.is_some() || !out.is_empty() || depth == 0).then_some(Value::Object(out))
}

pub(super) fn split(name: &str) -> Vec<&str> {
    name.split('.').collect()
}

/// The value at `path`, reading only own members of objects.
pub(super) fn get<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
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

pub(super) fn as_object<'v>(
    v: &'v Value,
    what: &str,
) -> Result<&'v Map<String, Value>, RequestError> {
    v.as_object().ok_or_else(|| {
        RequestError::new(
            Code::BadRequest,
            format!("the {what} must be a JSON object"),
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::core::{Mode, Policy, Subject};
    use alloc::sync::Arc;
    use serde_json::json;

    /// A list is written whole, so writing one that holds a readonly part is refused, as is
    /// replacing an object by anything else; an object is written member by member.
    #[test]
    fn a_container_holding_a_part_not_editable_is_never_replaced() {
        let policy = Arc::new(
            Policy::from_json(
                r#"{"format": "fieldgate/1", "app": "t", "version": 1,
                "resources": {"order": {"actions": ["edit"], "fields": {
                  "lines.sku": {}, "lines.price": {}, "address": {}, "address.zip": {},
                  "notes.text": {}}}},
                "roles": {"clerk": {"grants": [{"resource": "order", "actions": ["edit"],
                  "fields": {"*": "editable", "lines.price": "readonly",
                             "address.zip": "readonly"}}]}}}"#,
            )
            .unwrap(),
        );
        let s = policy.session(&Subject {
            roles: vec!["clerk".into()],
            ..Subject::new("u-1")
        });
        let forbidden = |changes| {
            s.forbidden_writes("order", Mode::Edit, None, &changes, None)
                .unwrap()
        };
        assert_eq!(forbidden(json!({"lines": []})), ["lines"]);
        assert_eq!(forbidden(json!({"lines": [{"sku": "b"}]})), ["lines"]);
        assert_eq!(forbidden(json!({"address": []})), ["address"]);
        assert_eq!(forbidden(json!({"address": "x"})), ["address"]);
        assert_eq!(forbidden(json!({"address": {"zip": "1"}})), ["address.zip"]);
        assert!(forbidden(json!({"address": {"city": "x"}})).is_empty());
        // A list whose parts are all editable may be written whole.
        assert!(forbidden(json!({"notes": [{"text": "a"}]})).is_empty());
        let w = s
            .writable(
                "order",
                Mode::Edit,
                None,
                &json!({"lines": [{"sku": "b", "price": 1}], "address": {"city": "x"},
                        "notes": [{"text": "a"}]}),
                None,
            )
            .unwrap();
        assert_eq!(
            w,
            json!({"address": {"city": "x"}, "notes": [{"text": "a"}]}),
            "what forbidden_writes refuses is not offered"
        );
    }
}

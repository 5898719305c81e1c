//! Minimized policies: only what can affect one user, answering every request for that user
//! exactly as the full policy does.

use crate::core::policy::Policy;
use crate::core::subject::Subject;
use crate::core::window::At;
use crate::prelude::*;
use alloc::sync::Arc;
use serde_json::{Map, Value};

/// `doc` (the source of `policy`) cut down to what can affect `subject`: their effective roles
/// and the templates those use, their own assignment entry, the department and group entries
/// that reach them, and the rules that can apply to them (rules they are exempt from are
/// dropped; the exemptions of the rest name roles they do not have and are dropped too).
/// The result is bound to the user with `subject`.
pub fn minimize(doc: &Value, policy: &Arc<Policy>, subject: &Subject) -> Value {
    // Every role the user holds at some time: dated entries travel with their dates and are
    // decided on the device at its time.
    let ever = policy.role_sources(subject, At::Ever);
    let roles: Vec<&str> = ever.iter().map(|s| s.role.as_str()).collect();
    // The roles held at every time, undated: only their exemptions drop a rule.
    let always = policy.role_sources(subject, At::Unknown);
    let always: Vec<&str> = always.iter().map(|s| s.role.as_str()).collect();
    let mut out = doc.as_object().cloned().unwrap_or_default();

    // A partner's bundle names only the (external) roles they hold: role lists elsewhere are
    // cut to those, so nothing names a role the bundle leaves out.
    let held = |list: &Value| -> Value {
        Value::Array(
            list.as_array()
                .into_iter()
                .flatten()
                .filter(|e| {
                    e.as_str()
                        .or_else(|| e.get("role")?.as_str())
                        .is_some_and(|r| roles.contains(&r))
                })
                .cloned()
                .collect(),
        )
    };
    let mut kept_roles = keep_keys(doc.get("roles"), |name| roles.contains(&name));
    // A kept role inherits every role it reaches that the user holds, listed directly: for a
    // partner the chain may pass through an internal role, which the bundle leaves out.
    for (name, r) in kept_roles.iter_mut() {
        let Some(pos) = policy.role_pos(name) else {
            continue;
        };
        let ancestors: Vec<Value> = policy
            .role(pos)
            .ancestors
            .iter()
            .map(|&a| policy.role(a).name.as_str())
            .filter(|a| roles.contains(a))
            .map(Value::from)
            .collect();
        if r.get("inherits").is_some() {
            r["inherits"] = Value::Array(ancestors);
        }
    }
    let templates: Vec<String> = kept_roles
        .values()
        .flat_map(|r| {
            r.get("templates")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|t| t.as_str().map(String::from))
        .collect();
    out.insert("roles".into(), Value::Object(kept_roles));
    let kept_templates = keep_keys(doc.get("templates"), |name| {
        templates.iter().any(|t| t == name)
    });
    out.insert("templates".into(), Value::Object(kept_templates));

    let a = doc.get("assignments");
    let mut assignments = Map::new();
    let mut users = keep_keys(a.and_then(|a| a.get("users")), |id| id == subject.id);
    for u in users.values_mut() {
        if let Some(list) = u.get("roles").map(&held) {
            u["roles"] = list;
        }
    }
    assignments.insert("users".into(), Value::Object(users));
    let chain = department_chain(doc, subject.department.as_deref());
    let mut depts = keep_keys(a.and_then(|a| a.get("departments")), |d| {
        chain.iter().any(|c| c == d)
    });
    depts.values_mut().for_each(|l| *l = held(l));
    assignments.insert("departments".into(), Value::Object(depts));
    let mut groups = keep_keys(a.and_then(|a| a.get("groups")), |g| {
        subject.groups.iter().any(|x| x == g)
    });
    groups.values_mut().for_each(|l| *l = held(l));
    assignments.insert("groups".into(), Value::Object(groups));
    out.insert("assignments".into(), Value::Object(assignments));

    let rules: Vec<Value> = doc
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| {
            let exempt = r
                .get("except_roles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            !exempt
                .filter_map(Value::as_str)
                .any(|x| always.contains(&x))
        })
        .map(|r| {
            // Exemptions by roles held only for a while stay (decided at the device's time);
            // those naming roles never held go.
            let mut r = r.clone();
            if let Some(o) = r.as_object_mut() {
                let kept: Vec<Value> = o
                    .get("except_roles")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|x| x.as_str().is_some_and(|x| roles.contains(&x)))
                    .cloned()
                    .collect();
                if kept.is_empty() {
                    o.remove("except_roles");
                } else {
                    o.insert("except_roles".into(), Value::Array(kept));
                }
            }
            r
        })
        .collect();
    out.insert("rules".into(), Value::Array(rules));
    out.insert("subject".into(), Value::String(subject.id.clone()));
    // The user as the caller resolved them, signed with the policy: the browser decides with
    // exactly this subject.
    out.insert(
        "person".into(),
        serde_json::to_value(subject).unwrap_or(Value::Null),
    );
    Value::Object(out)
}

/// The members of an object whose key passes `keep`, in order.
fn keep_keys(v: Option<&Value>, keep: impl Fn(&str) -> bool) -> Map<String, Value> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The department and its ancestors, nearest first.
fn department_chain(doc: &Value, dept: Option<&str>) -> Vec<String> {
    let mut chain = Vec::new();
    let mut at = dept.map(String::from);
    while let Some(d) = at {
        if chain.contains(&d) {
            break;
        }
        at = doc
            .pointer(&format!(
                "/departments/{}/parent",
                d.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(Value::as_str)
            .map(String::from);
        chain.push(d);
    }
    chain
}

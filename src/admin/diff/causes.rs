//! Which changes of the document can cause an access change. An admin reads a diff by what
//! they changed ("销售部 获得角色 管理员"), so each access change names the structural changes
//! that reach both the person (their roles, department, groups, own entry) and the resource.

use super::StructuralChange;
use crate::core::{Policy, Session, Subject};
use serde_json::Value;
use std::collections::HashMap;

/// The structural changes of a diff, with the two documents they were read from.
pub(super) struct Reach<'d> {
    structure: &'d [StructuralChange],
    docs: [&'d Value; 2],
    policies: [&'d Policy; 2],
    /// Positions of the changes to one person (`user` and `directory`), by user id.
    users: HashMap<&'d str, Vec<u32>>,
}

impl<'d> Reach<'d> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a document has fewer than 2^32 entries (it is at most 8 MiB)"
    )]
    pub(super) fn new(
        structure: &'d [StructuralChange],
        docs: [&'d Value; 2],
        policies: [&'d Policy; 2],
    ) -> Reach<'d> {
        let mut users: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, c) in structure.iter().enumerate() {
            if c.kind == "user" || c.kind == "directory" {
                users.entry(c.name.as_str()).or_default().push(i as u32);
            }
        }
        Reach {
            structure,
            docs,
            policies,
            users,
        }
    }

    /// The changes that reach everyone like `s` (same roles, department and groups) on
    /// `resource`, but not those written for one person by id (see [`Reach::personal`]).
    #[expect(clippy::cast_possible_truncation, reason = "as in `new`")]
    pub(super) fn shared(&self, s: &Subject, a: &Session, b: &Session, resource: &str) -> Vec<u32> {
        let mut roles: Vec<&str> = a.roles();
        roles.extend(b.roles());
        roles.sort_unstable();
        roles.dedup();
        self.structure
            .iter()
            .enumerate()
            .filter(|(_, c)| self.reaches(c, s, &roles, resource))
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// The changes to `id`'s own entry.
    pub(super) fn personal(&self, id: &str) -> &[u32] {
        self.users.get(id).map_or(&[], Vec::as_slice)
    }

    fn reaches(&self, c: &StructuralChange, s: &Subject, roles: &[&str], resource: &str) -> bool {
        let name = c.name.as_str();
        // A new label (or description) changes no answer: only what decides something.
        if self.labels_only(c) {
            return false;
        }
        match c.kind {
            "resource" => name == resource,
            "rule" => self.docs.iter().any(|d| rule_targets(d, name, resource)),
            "role" => {
                roles.contains(&name)
                    && self.docs.iter().any(|d| role_targets(d, name, resource, 0))
            }
            "template" => {
                self.docs
                    .iter()
                    .any(|d| template_targets(d, name, resource))
                    && roles
                        .iter()
                        .any(|r| self.docs.iter().any(|d| role_uses_template(d, r, name, 0)))
            }
            "department_assignment" => s
                .department
                .as_deref()
                .is_some_and(|d| self.policies.iter().any(|p| within(p, d, name))),
            "group_assignment" => s.groups.iter().any(|g| g == name),
            "department" => s.department.as_deref().is_some_and(|d| {
                self.policies
                    .iter()
                    .any(|p| within(p, d, name) || within(p, name, d))
            }),
            "user" | "directory" => false,
            _ => true,
        }
    }
}

impl Reach<'_> {
    /// Whether a change of an entry is only to its labels and extensions.
    fn labels_only(&self, c: &StructuralChange) -> bool {
        let key = pointer_key(&c.name);
        let entry = |d: &Value| -> Option<Value> {
            let v = match c.kind {
                "department" => d.pointer(&format!("/departments/{key}")),
                "resource" => d.pointer(&format!("/resources/{key}")),
                "template" => d.pointer(&format!("/templates/{key}")),
                "role" => d.pointer(&format!("/roles/{key}")),
                "user" => d.pointer(&format!("/assignments/users/{key}")),
                "rule" => d
                    .get("rules")?
                    .as_array()?
                    .iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(c.name.as_str())),
                _ => return None,
            };
            v.map(|v| without_labels(&strip_description(v)))
        };
        c.change == "changed"
            && matches!(
                (entry(self.docs[0]), entry(self.docs[1])),
                (Some(a), Some(b)) if a == b
            )
    }
}

/// A rule without its `description` (words for people, like a label).
fn strip_description(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "description")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether department `d` is `top` or below it.
fn within(p: &Policy, d: &str, top: &str) -> bool {
    let mut at = Some(d);
    for _ in 0..64 {
        match at {
            Some(x) if x == top => return true,
            Some(x) => at = p.department_parent(x),
            None => return false,
        }
    }
    false
}

/// Whether a grant list names `resource` (or every resource).
fn grants_target(grants: Option<&Value>, resource: &str) -> bool {
    grants.and_then(Value::as_array).into_iter().flatten().any(|g| {
        matches!(g.get("resource").and_then(Value::as_str), Some(r) if r == resource || r == "*")
    })
}

fn rule_targets(doc: &Value, id: &str, resource: &str) -> bool {
    let rules = doc.get("rules").and_then(Value::as_array);
    rules.into_iter().flatten().any(|r| {
        r.get("id").and_then(Value::as_str) == Some(id)
            && matches!(r.get("resource").and_then(Value::as_str), Some(x) if x == resource || x == "*")
    })
}

fn template_targets(doc: &Value, name: &str, resource: &str) -> bool {
    grants_target(
        doc.pointer(&format!("/templates/{}", pointer_key(name))),
        resource,
    )
}

/// Whether role `name` (through what it inherits and its templates) grants on `resource`.
fn role_targets(doc: &Value, name: &str, resource: &str, depth: u8) -> bool {
    let Some(role) = doc.pointer(&format!("/roles/{}", pointer_key(name))) else {
        return false;
    };
    if depth > 32 {
        return false;
    }
    grants_target(role.get("grants"), resource)
        || names(role.get("templates")).any(|t| template_targets(doc, t, resource))
        || names(role.get("inherits")).any(|r| role_targets(doc, r, resource, depth + 1))
}

fn role_uses_template(doc: &Value, role: &str, template: &str, depth: u8) -> bool {
    let Some(r) = doc.pointer(&format!("/roles/{}", pointer_key(role))) else {
        return false;
    };
    depth <= 32
        && (names(r.get("templates")).any(|t| t == template)
            || names(r.get("inherits")).any(|i| role_uses_template(doc, i, template, depth + 1)))
}

fn names(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// A declaration without its labels and extensions (what decides nothing).
fn without_labels(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "label" && !k.starts_with("x-"))
                .map(|(k, v)| (k.clone(), without_labels(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A name as one JSON pointer step.
fn pointer_key(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

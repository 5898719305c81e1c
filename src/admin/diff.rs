//! Policy diffs: what changed in the document, and who gains or loses what because of it.

use crate::core::{FieldState, Input, Mode, Policy, Session, Subject};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// One added, removed or changed entry of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructuralChange {
    /// `department`, `resource`, `template`, `role`, `rule`, `user`, `department_assignment`,
    /// `group_assignment` or `header`.
    pub kind: &'static str,
    /// The entry's name, id or key.
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
}

/// One answer that differs between the two policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    /// `user:<id>` or `role:<name>` (a subject holding only that role).
    pub subject: String,
    /// The resource.
    pub resource: String,
    /// Which records: `any` (some record), `own` (owned by the subject) or `other` (owned by
    /// someone else).
    pub records: &'static str,
    /// `action <name>` or `field <name> (<mode>)`.
    pub what: String,
    /// The old answer (`allowed`/`denied`, or a field state).
    pub from: String,
    /// The new answer.
    pub to: String,
    /// `gained` or `lost`.
    pub direction: &'static str,
}

/// A structural and access diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// What changed in the document.
    pub structure: Vec<StructuralChange>,
    /// Who gains or loses what.
    pub access: Vec<AccessChange>,
}

impl Diff {
    /// One line per distinct access change, counting the users it affects, e.g.
    /// `2 users gain editable on customer.credit_limit (edit)` or `1 user loses export on
    /// customer`; role-only changes (a subject holding just that role) are named by role.
    pub fn summary(&self) -> Vec<String> {
        // (direction, resource, what, to) -> the subjects it happens to.
        type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
        let mut groups: Vec<(Key<'_>, Vec<&str>)> = Vec::new();
        for c in &self.access {
            let key = (
                c.direction,
                c.resource.as_str(),
                c.what.as_str(),
                c.to.as_str(),
            );
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, who)) if who.contains(&c.subject.as_str()) => {}
                Some((_, who)) => who.push(&c.subject),
                None => groups.push((key, vec![&c.subject])),
            }
        }
        groups
            .into_iter()
            .map(|((direction, resource, what, to), who)| {
                let users = who.iter().filter(|s| s.starts_with("user:")).count();
                let subject = if users > 0 {
                    format!("{users} user{}", if users == 1 { "" } else { "s" })
                } else {
                    let roles: Vec<&str> =
                        who.iter().filter_map(|s| s.strip_prefix("role:")).collect();
                    format!("role {}", roles.join(", "))
                };
                let one = users <= 1;
                let verb = match (direction, what.starts_with("action "), one) {
                    ("gained", _, true) => "gains",
                    ("gained", _, false) => "gain",
                    (_, true, true) => "loses",
                    (_, true, false) => "lose",
                    (_, false, true) => "goes down to",
                    (_, false, false) => "go down to",
                };
                let object = match what.strip_prefix("action ") {
                    Some(action) => format!("{action} on {resource}"),
                    None => {
                        let field = what.strip_prefix("field ").unwrap_or(what);
                        format!("{to} on {resource}.{field}")
                    }
                };
                format!("{subject} {verb} {object}")
            })
            .collect()
    }
}

/// Compares two policies (documents and their compiled forms).
pub fn diff(old_doc: &Value, old: &Arc<Policy>, new_doc: &Value, new: &Arc<Policy>) -> Diff {
    let mut structure = Vec::new();
    if old_doc.get("app") != new_doc.get("app") {
        structure.push(StructuralChange {
            kind: "header",
            name: "app".into(),
            change: "changed",
        });
    }
    for (kind, pointer) in [
        ("department", "/departments"),
        ("resource", "/resources"),
        ("template", "/templates"),
        ("role", "/roles"),
        ("user", "/assignments/users"),
        ("department_assignment", "/assignments/departments"),
        ("group_assignment", "/assignments/groups"),
    ] {
        compare_maps(
            kind,
            old_doc.pointer(pointer),
            new_doc.pointer(pointer),
            &mut structure,
        );
    }
    let by_id = |doc: &Value| -> Value {
        let rules = doc
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Value::Object(
            rules
                .into_iter()
                .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), r)))
                .collect(),
        )
    };
    compare_maps(
        "rule",
        Some(&by_id(old_doc)),
        Some(&by_id(new_doc)),
        &mut structure,
    );

    let mut subjects: Vec<(String, Subject)> = Vec::new();
    let mut add = |label: String, s: Subject| {
        if !subjects.iter().any(|(l, _)| *l == label) {
            subjects.push((label, s));
        }
    };
    for p in [old, new] {
        for u in p.user_ids() {
            add(format!("user:{u}"), Subject::new(u));
        }
    }
    for p in [old, new] {
        for r in p.role_names() {
            add(
                format!("role:{r}"),
                Subject {
                    roles: vec![r.to_string()],
                    ..Subject::new(format!("\u{0}role:{r}"))
                },
            );
        }
    }
    let mut access = Vec::new();
    for (label, subject) in &subjects {
        let (a, b) = (old.session(subject), new.session(subject));
        for r in union(old.resource_names(), new.resource_names()) {
            compare_resource(label, subject, r, &a, &b, &mut access);
        }
    }
    Diff { structure, access }
}

fn compare_maps(
    kind: &'static str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<StructuralChange>,
) {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.and_then(Value::as_object).unwrap_or(&empty),
        new.and_then(Value::as_object).unwrap_or(&empty),
    );
    for (k, v) in o {
        match n.get(k) {
            None => out.push(StructuralChange {
                kind,
                name: k.clone(),
                change: "removed",
            }),
            Some(w) if w != v => out.push(StructuralChange {
                kind,
                name: k.clone(),
                change: "changed",
            }),
            Some(_) => {}
        }
    }
    for k in n.keys().filter(|k| !o.contains_key(*k)) {
        out.push(StructuralChange {
            kind,
            name: k.clone(),
            change: "added",
        });
    }
}

/// A record owned by `owner`, shaped for the resource's owner attribute (if it has one).
fn owned_record(s: &Session, resource: &str, owner: &str) -> Option<Value> {
    let p = s.policy();
    let slot = p.resource(resource)?.owner?;
    let keys = &p.slots.record[slot as usize].keys;
    Some(
        keys.iter()
            .rev()
            .fold(json!(owner), |inner, k| json!({ k.to_string(): inner })),
    )
}

fn compare_resource(
    label: &str,
    subject: &Subject,
    r: &str,
    a: &Session,
    b: &Session,
    out: &mut Vec<AccessChange>,
) {
    let own = owned_record(a, r, &subject.id).or_else(|| owned_record(b, r, &subject.id));
    let other =
        owned_record(a, r, "\u{0}someone else").or_else(|| owned_record(b, r, "\u{0}someone else"));
    let kinds: Vec<(&'static str, Option<&Value>)> = match (&own, &other) {
        (Some(o), Some(x)) => vec![("any", None), ("own", Some(o)), ("other", Some(x))],
        _ => vec![("any", None)],
    };
    for (records, rec) in kinds {
        let input = Input::json(rec, None);
        let actions = |s: &Session| -> Vec<(String, bool)> {
            s.policy()
                .action_names(r)
                .unwrap_or_default()
                .into_iter()
                .map(|x| (x.to_string(), s.can(x, r, input).unwrap_or(false)))
                .collect()
        };
        let (old_actions, new_actions) = (actions(a), actions(b));
        let names = union(
            old_actions.iter().map(|(n, _)| n.as_str()),
            new_actions.iter().map(|(n, _)| n.as_str()),
        );
        for name in names {
            let was = old_actions.iter().any(|(n, v)| n == name && *v);
            let is = new_actions.iter().any(|(n, v)| n == name && *v);
            if was != is {
                let word = |v: bool| if v { "allowed" } else { "denied" }.to_string();
                out.push(change(
                    label,
                    r,
                    records,
                    format!("action {name}"),
                    word(was),
                    word(is),
                    is,
                ));
            }
        }
        for mode in Mode::ALL {
            let states = |s: &Session| -> Vec<(String, FieldState)> {
                s.fields(r, mode, input)
                    .map(|f| f.iter().map(|(n, st)| (n.to_string(), st)).collect())
                    .unwrap_or_default()
            };
            let (old_states, new_states) = (states(a), states(b));
            let fields = union(
                old_states.iter().map(|(n, _)| n.as_str()),
                new_states.iter().map(|(n, _)| n.as_str()),
            );
            for f in fields {
                let get = |v: &[(String, FieldState)]| {
                    v.iter()
                        .find(|(n, _)| n == f)
                        .map_or(FieldState::Hidden, |(_, s)| *s)
                };
                let (was, is) = (get(&old_states), get(&new_states));
                if was != is {
                    let what = format!("field {f} ({})", mode.as_str());
                    out.push(change(
                        label,
                        r,
                        records,
                        what,
                        was.to_string(),
                        is.to_string(),
                        is > was,
                    ));
                }
            }
        }
    }
}

fn change(
    subject: &str,
    resource: &str,
    records: &'static str,
    what: String,
    from: String,
    to: String,
    gained: bool,
) -> AccessChange {
    AccessChange {
        subject: subject.to_string(),
        resource: resource.to_string(),
        records,
        what,
        from,
        to,
        direction: if gained { "gained" } else { "lost" },
    }
}

/// The names of `a` then those of `b` not in `a`, each once, in order.
fn union<'n>(a: impl Iterator<Item = &'n str>, b: impl Iterator<Item = &'n str>) -> Vec<&'n str> {
    let mut out: Vec<&str> = Vec::new();
    for n in a.chain(b) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

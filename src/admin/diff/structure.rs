//! What changed in the document: entries added, removed or changed, by kind and name, with the
//! roles an assignment gains or loses (what a person reads as the cause of an access change).

use super::StructuralChange;
use crate::admin::directory::{Directory, Person};
use serde_json::{Map, Value};

/// The structural changes between two documents.
pub(super) fn structural(old_doc: &Value, new_doc: &Value) -> Vec<StructuralChange> {
    let mut structure = Vec::new();
    if old_doc.get("app") != new_doc.get("app") {
        structure.push(StructuralChange::new("header", "app".into(), "changed"));
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
        let rules = doc.get("rules").and_then(Value::as_array);
        Value::Object(
            rules
                .into_iter()
                .flatten()
                .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), r.clone())))
                .collect(),
        )
    };
    compare_maps(
        "rule",
        Some(&by_id(old_doc)),
        Some(&by_id(new_doc)),
        &mut structure,
    );
    structure
}

fn compare_maps(
    kind: &'static str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<StructuralChange>,
) {
    let empty = Map::new();
    let (o, n) = (
        old.and_then(Value::as_object).unwrap_or(&empty),
        new.and_then(Value::as_object).unwrap_or(&empty),
    );
    for (k, v) in o {
        let change = match n.get(k) {
            None => "removed",
            Some(w) if w != v => "changed",
            Some(_) => continue,
        };
        out.push(
            StructuralChange::new(kind, k.clone(), change)
                .with_roles(Some(v), n.get(k))
                .with_flow(Some(v), n.get(k)),
        );
    }
    for (k, v) in n.iter().filter(|(k, _)| !o.contains_key(*k)) {
        out.push(
            StructuralChange::new(kind, k.clone(), "added")
                .with_roles(None, Some(v))
                .with_flow(None, Some(v)),
        );
    }
}

impl StructuralChange {
    fn new(kind: &'static str, name: String, change: &'static str) -> StructuralChange {
        StructuralChange {
            kind,
            name,
            change,
            roles_added: Vec::new(),
            roles_removed: Vec::new(),
            department: None,
            groups_added: Vec::new(),
            groups_removed: Vec::new(),
            flow: Vec::new(),
            flow_only: false,
        }
    }

    /// For a resource changed: what changed in its flow, and whether that is all.
    fn with_flow(mut self, old: Option<&Value>, new: Option<&Value>) -> StructuralChange {
        if self.kind != "resource" || self.change != "changed" {
            return self;
        }
        self.flow = super::flows::flow_edits(
            old.and_then(|v| v.get("workflow")),
            new.and_then(|v| v.get("workflow")),
        );
        let rest = |v: Option<&Value>| {
            let mut v = v.cloned().unwrap_or(Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.remove("workflow");
            }
            v
        };
        self.flow_only = !self.flow.is_empty() && rest(old) == rest(new);
        self
    }

    /// For an assignment (of a user, department or group): the roles it gains and loses.
    fn with_roles(mut self, old: Option<&Value>, new: Option<&Value>) -> StructuralChange {
        if !matches!(
            self.kind,
            "user" | "department_assignment" | "group_assignment"
        ) {
            return self;
        }
        let roles = |v: Option<&Value>| -> Vec<String> {
            let list = v.and_then(|v| v.get("roles").or(Some(v)));
            list.and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(crate::admin::entries::entry_text)
                .collect()
        };
        // A dated entry reads with its dates: new dates show as the old entry taken and the
        // new one given.
        let (was, is) = (roles(old), roles(new));
        self.roles_added = is.iter().filter(|r| !was.contains(r)).cloned().collect();
        self.roles_removed = was.iter().filter(|r| !is.contains(r)).cloned().collect();
        self
    }
}

/// What changed about the people between two directories: everyone added, removed, moved to
/// another department, given or taken a role, joining or leaving a group, or with other
/// attributes (kind `directory`, named by id).
pub(super) fn people(was: &Directory, is: &Directory) -> Vec<StructuralChange> {
    let mut out = Vec::new();
    let gone = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    };
    for p in is.people() {
        let Some(q) = was.get(&p.id) else {
            out.push(
                StructuralChange::new("directory", p.id.clone(), "added").with_person(None, p),
            );
            continue;
        };
        if q == p {
            continue;
        }
        let mut c =
            StructuralChange::new("directory", p.id.clone(), "changed").with_person(Some(q), p);
        c.roles_added = gone(&p.roles, &q.roles);
        c.roles_removed = gone(&q.roles, &p.roles);
        out.push(c);
    }
    for q in was.people().iter().filter(|q| is.get(&q.id).is_none()) {
        let mut c = StructuralChange::new("directory", q.id.clone(), "removed");
        c.roles_removed = q.roles.clone();
        out.push(c);
    }
    out
}

impl StructuralChange {
    /// A person's department move and groups, from `was` (none: new) to `is`.
    fn with_person(mut self, was: Option<&Person>, is: &Person) -> StructuralChange {
        let (dept, groups) = was.map_or((None, &[][..]), |w| (w.department.clone(), &w.groups[..]));
        if dept != is.department {
            self.department = Some((dept, is.department.clone()));
        }
        self.groups_added = is
            .groups
            .iter()
            .filter(|g| !groups.contains(g))
            .cloned()
            .collect();
        self.groups_removed = groups
            .iter()
            .filter(|g| !is.groups.contains(g))
            .cloned()
            .collect();
        if was.is_none() {
            self.roles_added = is.roles.clone();
        }
        self
    }
}

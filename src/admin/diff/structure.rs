//! What changed in the document: entries added, removed or changed, by kind and name, with the
//! roles an assignment gains or loses (what a person reads as the cause of an access change).

use super::StructuralChange;
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
        out.push(StructuralChange::new(kind, k.clone(), change).with_roles(Some(v), n.get(k)));
    }
    for (k, v) in n.iter().filter(|(k, _)| !o.contains_key(*k)) {
        out.push(StructuralChange::new(kind, k.clone(), "added").with_roles(None, Some(v)));
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
        }
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
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        };
        let (was, is) = (roles(old), roles(new));
        self.roles_added = is.iter().filter(|r| !was.contains(r)).cloned().collect();
        self.roles_removed = was.iter().filter(|r| !is.contains(r)).cloned().collect();
        self
    }
}

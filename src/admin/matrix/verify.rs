//! Every edit checked by asking the engine again: it must reach its value and change no other
//! answer of any role.

use super::*;

/// Why an edited cell did not take its value: what sets it now.
pub(super) fn missed(cell: &Cell, wanted: &str) -> String {
    let by = |kind: &str| cell.notes.iter().find(|n| n.kind == kind);
    let reason = if let Some(n) = by("template") {
        format!("template {} sets it; edit the template", n.name)
    } else if let Some(n) = by("role") {
        format!(
            "it comes from role {}, which this role inherits; edit that role",
            n.name
        )
    } else if by("wildcard").is_some() {
        "a grant of this role on every resource (*) sets it; edit that grant in the role".into()
    } else if let Some(n) = by("rule").or_else(|| by("rule_when")) {
        format!("rule {} caps it", n.name)
    } else if let Some(n) = by("personal") {
        format!("the personal grant {} sets it", n.name)
    } else {
        "no grant of the role can give it".into()
    };
    format!(
        "cannot be set to `{}` on its own (it would stay `{}`): {reason}",
        wanted.trim(),
        if cell.value.is_empty() {
            "not allowed"
        } else {
            &cell.value
        }
    )
}

/// Every answer a matrix compares, per role: each field's state in each form mode, and each
/// action's cell.
pub(super) fn answers(policy: &Arc<Policy>, resource: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let fields = policy.field_names(resource).unwrap_or_default();
    let actions = policy.action_names(resource).unwrap_or_default();
    for role in policy.role_names() {
        let s = policy.session(&subjects::role(policy, role));
        for mode in Mode::ALL {
            if let Ok(states) = s.fields(resource, mode, Input::NONE) {
                for (f, st) in fields.iter().zip(states.states()) {
                    let k = format!("field {f} ({})", mode.as_str());
                    out.insert((role.to_string(), k), st.as_str().to_string());
                }
            }
        }
        for a in &actions {
            if let Ok(ex) = s.explain(a, resource, Input::NONE) {
                let c = action_cell(&Value::Null, &ex, Some(role));
                let v = if c.value.is_empty() {
                    "not allowed".into()
                } else {
                    c.value
                };
                out.insert((role.to_string(), format!("action {a}")), v);
            }
        }
    }
    out
}

/// `(role, answer, was, is)` for every answer that differs; roles only one side has are
/// left out (a matrix edit never adds or removes one).
pub(super) fn changed_answers(
    before: &Arc<Policy>,
    after: &Arc<Policy>,
    resource: &str,
) -> Vec<(String, String, String, String)> {
    let (a, b) = (answers(before, resource), answers(after, resource));
    a.into_iter()
        .filter_map(|(k, was)| {
            let is = b.get(&k)?;
            (is != &was).then(|| (k.0, k.1, was, is.clone()))
        })
        .collect()
}

/// Whether `role`'s `answer` may change under these edits: it is an edited cell of the role
/// or of a role it inherits, or a field state in the form mode of an edited action.
pub(super) fn allowed_change(after: &Policy, edits: &[CellEdit], role: &str, answer: &str) -> bool {
    edits.iter().any(|e| {
        if !inherits_or_is(after, role, &e.role) {
            return false;
        }
        match (e.column.split_once(':'), answer.split_once(' ')) {
            (Some(("field", f)), Some(("field", rest))) => {
                rest.split_once(" (").is_some_and(|(g, _)| g == f)
            }
            (Some(("action", a)), Some(("action", b))) => a == b,
            (Some(("action", a)), Some(("field", rest))) => {
                let mode = rest.rsplit_once(" (").map(|(_, m)| m.trim_end_matches(')'));
                match a {
                    // A view grant caps every mode at readonly.
                    "view" => true,
                    "create" | "edit" => mode == Some(a),
                    _ => false,
                }
            }
            _ => false,
        }
    })
}

/// Whether `role` is `edited` or inherits it.
pub(super) fn inherits_or_is(p: &Policy, role: &str, edited: &str) -> bool {
    role == edited
        || p.role_sources(&subjects::role(p, role), crate::core::At::Unknown)
            .iter()
            .any(|s| s.role == edited)
}

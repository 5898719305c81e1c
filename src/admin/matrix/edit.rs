//! Cell edits written into the role's own grants in the policy document.

use super::*;

/// Makes cell edits (a page's, or an imported sheet's) on the document. Each changes its cell
/// and nothing else: every other answer of every role (field states in each mode, allowed
/// actions) is checked to stay as it was, except where an edited role passes it on through
/// `inherits`, and that an action cell of `view`, `create` or `edit` also governs the field
/// states of its form mode.
///
/// # Errors
/// Every edit that cannot be made on its own, with the reason; nothing changes then.
pub fn apply(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    edits: &[CellEdit],
) -> Result<Value, Vec<CellError>> {
    let now =
        Matrix::build(doc, policy, resource, None).map_err(|m| vec![cell_error("", 0, "", m)])?;
    apply_to(doc, policy, &now, edits, "")
}

pub(super) fn apply_to(
    doc: &Value,
    policy: &Arc<Policy>,
    now: &Matrix,
    edits: &[CellEdit],
    sheet: &str,
) -> Result<Value, Vec<CellError>> {
    let resource = now.resource.as_str();
    let err = |e: &CellEdit, message: String| cell_error(sheet, e.row, &e.column, message);
    if edits.is_empty() {
        return Ok(doc.clone());
    }
    let res = policy.resource_id(resource).ok();
    let (has_owner, has_dept) = res.map_or((false, false), |_| {
        let r = doc.pointer(&format!("/resources/{}", key(resource)));
        (
            r.and_then(|r| r.get("owner")).is_some(),
            r.and_then(|r| r.get("department")).is_some(),
        )
    });
    let mut out = doc.clone();
    let mut errors = Vec::new();
    let actions = policy.action_names(resource).unwrap_or_default();
    let fields = policy.field_names(resource).unwrap_or_default();
    // Actions first: a field edit may need the grant an action edit adds.
    let mut ordered: Vec<&CellEdit> = edits
        .iter()
        .filter(|e| e.column.starts_with("action:"))
        .collect();
    ordered.extend(edits.iter().filter(|e| e.column.starts_with("field:")));
    for e in &ordered {
        let Some(cell) = now.cell(&e.role, &e.column) else {
            errors.push(err(
                e,
                format!("no role `{}` or no column `{}`", e.role, e.column),
            ));
            continue;
        };
        let done = match e.column.split_once(':') {
            Some(("action", a)) => match parse_scope(&e.value) {
                Some(Some(s @ ("own" | "subordinates"))) if !has_owner => Err(format!(
                    "`{s}` needs resource `{resource}` to declare `owner`"
                )),
                Some(Some("member")) if policy.members_attribute(resource).is_none() => Err(
                    format!("`member` needs resource `{resource}` to declare `members`"),
                ),
                Some(Some("parent")) if policy.parent_of(resource).is_none() => Err(format!(
                    "`parent` needs resource `{resource}` to declare `parent`"
                )),
                Some(Some(s @ ("department" | "department_tree"))) if !has_dept => Err(format!(
                    "`{s}` needs resource `{resource}` to declare `department`"
                )),
                Some(to) => edit_action(&mut out, &e.role, resource, &actions, &fields, a, to),
                None => Err(format!("`{}` is not a scope", e.value)),
            },
            Some(("field", f)) => match parse_state(&e.value) {
                Some(to) => {
                    let from = parse_state(&cell.value).unwrap_or(FieldState::Hidden);
                    edit_field(&mut out, policy, &e.role, resource, f, from, to)
                }
                None => Err(format!("`{}` is not a state", e.value)),
            },
            _ => Err(format!("no column `{}`", e.column)),
        };
        if let Err(m) = done {
            errors.push(err(e, m));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let after = match Policy::from_value(&out) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            return Err(e
                .errors()
                .iter()
                .map(|p| cell_error(sheet, 0, &p.path, p.to_string()))
                .collect())
        }
    };
    let then = Matrix::build(&out, &after, resource, None)
        .map_err(|m| vec![cell_error(sheet, 0, "", m)])?;
    // Each edited cell has its value now ...
    for e in edits {
        let Some(cell) = then.cell(&e.role, &e.column) else {
            continue;
        };
        let want = if e.column.starts_with("field:") {
            parse_state(&e.value).map(|s| s.as_str().to_string())
        } else {
            parse_scope(&e.value).map(|s| s.unwrap_or("").to_string())
        };
        if want.as_deref() != Some(cell.value.as_str()) {
            errors.push(err(e, missed(cell, &e.value)));
        }
    }
    // ... and nothing else moved.
    for (role, answer, was, is) in changed_answers(policy, &after, resource) {
        if allowed_change(&after, edits, &role, &answer) {
            continue;
        }
        let cause = edits
            .iter()
            .find(|e| inherits_or_is(&after, &role, &e.role))
            .or(edits.first());
        if let Some(e) = cause {
            errors.push(err(
                e,
                format!("this would also change {role}'s {answer} from {was} to {is}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.dedup();
        Err(errors)
    }
}

/// The role's own grants on `resource` (not on `*`), by position.
pub(super) fn own_grants<'d>(
    doc: &'d mut Value,
    role: &str,
    resource: &str,
) -> Vec<(usize, &'d mut Map<String, Value>)> {
    doc.pointer_mut(&format!("/roles/{}/grants", key(role)))
        .and_then(Value::as_array_mut)
        .map(|gs| {
            gs.iter_mut()
                .enumerate()
                .filter_map(|(i, g)| {
                    let g = g.as_object_mut()?;
                    (g.get("resource").and_then(Value::as_str) == Some(resource)).then_some((i, g))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A grant's state for a field as written: the field, else `*`, else editable.
pub(super) fn written_state(g: &Map<String, Value>, field: &str) -> FieldState {
    let fields = g.get("fields");
    fields
        .and_then(|f| f.get(field).or_else(|| f.get("*")))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(FieldState::Editable)
}

pub(super) fn lists(g: &Map<String, Value>, action: &str) -> bool {
    g.get("actions")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == action || x == "*"))
}

/// Sets `field` in the role's own grants: lowering sets it in every grant that gives more,
/// raising in every grant whose actions let it reach the new state.
pub(super) fn edit_field(
    doc: &mut Value,
    policy: &Policy,
    role: &str,
    resource: &str,
    field: &str,
    from: FieldState,
    to: FieldState,
) -> Result<(), String> {
    let mut grants = own_grants(doc, role, resource);
    let set = |g: &mut Map<String, Value>| {
        let fields = g.entry("fields").or_insert_with(|| json!({}));
        if let Some(f) = fields.as_object_mut() {
            f.insert(field.to_string(), Value::from(to.as_str()));
        }
    };
    if to < from {
        for (_, g) in grants.iter_mut() {
            if written_state(g, field) > to {
                set(g);
            }
        }
        return Ok(());
    }
    let needs_edit = to == FieldState::Editable;
    // What each grant's actions let it give a field, as the engine decides it.
    let reach = |g: &Map<String, Value>| {
        let names = g.get("actions").and_then(Value::as_array);
        let listed = |a: &str| names.is_some_and(|n| n.iter().any(|x| x == a || x == "*"));
        policy.grant_reach(resource, listed)
    };
    let mut raised = false;
    for (_, g) in grants.iter_mut() {
        if reach(g) >= to {
            raised = true;
            if written_state(g, field) < to {
                set(g);
            }
        }
    }
    if raised {
        Ok(())
    } else {
        let needed = if needs_edit {
            "create or edit"
        } else {
            "view, create or edit"
        };
        Err(format!(
            "role `{role}` has no grant of its own on `{resource}` that allows {needed}; \
             allow one of those actions first"
        ))
    }
}

/// Gives the role's own grants `action` on scope `to` (`None`: takes it away). The action is
/// taken out of every own grant listing it; a new grant gives it on the new scope with the
/// field states those grants gave it (all hidden for an action new to the role), so the form
/// of any mode shows what it showed.
pub(super) fn edit_action(
    doc: &mut Value,
    role: &str,
    resource: &str,
    declared: &[&str],
    fields: &[&str],
    action: &str,
    to: Option<&str>,
) -> Result<(), String> {
    let grants = own_grants(doc, role, resource);
    let listing: Vec<usize> = grants
        .iter()
        .filter(|(_, g)| lists(g, action))
        .map(|(i, _)| *i)
        .collect();
    let mut states = vec![FieldState::Hidden; fields.len()];
    let mut whens: Vec<Option<Value>> = Vec::new();
    for (i, g) in &grants {
        if listing.contains(i) {
            for (k, f) in fields.iter().enumerate() {
                states[k] = states[k].max(written_state(g, f));
            }
            let w = g.get("when").cloned();
            if !whens.contains(&w) {
                whens.push(w);
            }
        }
    }
    drop(grants);
    if whens.len() > 1 && to.is_some() {
        return Err(format!(
            "`{action}` comes from several grants of role `{role}` with different conditions; \
             change them in the role's grants"
        ));
    }
    let Some(list) = doc
        .pointer_mut(&format!("/roles/{}/grants", key(role)))
        .and_then(Value::as_array_mut)
    else {
        if to.is_none() {
            return Ok(());
        }
        let r = doc
            .pointer_mut(&format!("/roles/{}", key(role)))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("no role `{role}`"))?;
        r.insert("grants".into(), json!([]));
        return edit_action(doc, role, resource, declared, fields, action, to);
    };
    for &i in &listing {
        let Some(g) = list.get_mut(i).and_then(Value::as_object_mut) else {
            continue;
        };
        let kept: Vec<Value> = match g.get("actions").and_then(Value::as_array) {
            Some(a) if a.iter().any(|x| x == "*") => declared
                .iter()
                .filter(|x| **x != action)
                .map(|x| Value::from(*x))
                .collect(),
            Some(a) => a.iter().filter(|x| *x != action).cloned().collect(),
            None => Vec::new(),
        };
        g.insert("actions".into(), Value::Array(kept));
    }
    let at = listing.first().copied().unwrap_or(list.len());
    if let Some(scope) = to {
        let mut g = Map::new();
        g.insert("resource".into(), Value::from(resource));
        g.insert("actions".into(), json!([action]));
        if scope != "all" {
            g.insert("scope".into(), Value::from(scope));
        }
        if let Some(Some(w)) = whens.first() {
            g.insert("when".into(), w.clone());
        }
        g.insert("fields".into(), compact(fields, &states));
        list.insert(at, Value::Object(g));
    }
    // Grants left with no action go.
    list.retain(|g| {
        g.get("actions")
            .and_then(Value::as_array)
            .is_none_or(|a| !a.is_empty())
    });
    Ok(())
}

/// Field states as a grant writes them: the most common as `*`, the others by name.
pub(super) fn compact(fields: &[&str], states: &[FieldState]) -> Value {
    let common = FieldState::ALL
        .into_iter()
        .max_by_key(|s| states.iter().filter(|x| *x == s).count())
        .unwrap_or(FieldState::Hidden);
    let mut m = Map::new();
    m.insert("*".into(), Value::from(common.as_str()));
    for (f, s) in fields.iter().zip(states) {
        if *s != common {
            m.insert(f.to_string(), Value::from(s.as_str()));
        }
    }
    Value::Object(m)
}

/// A key for a JSON pointer.
pub(super) fn key(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

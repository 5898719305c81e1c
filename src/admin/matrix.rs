//! Permission matrices: one row per role, one column per field (its state) and per action (the
//! scope it is allowed on, empty when not), for editing in a spreadsheet.
//!
//! A role's row is its own grants on the resource that a matrix can express: grants naming the
//! resource itself (not `*`) without a `when`. Import replaces exactly those grants of each
//! edited row (one grant per scope) and leaves every other grant, template and rule, and every
//! unedited row, as it was.

use crate::core::{FieldState, Policy};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Scopes from the broadest down, as written in cells.
const SCOPES: [&str; 4] = ["all", "department_tree", "department", "own"];

/// A bad cell: where (1-based row, column name) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    /// 1-based row in the sheet (row 1 is the header).
    pub row: usize,
    /// The column's header.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// The resource's matrix as a table of cells: a header row (`role`, `field:<name>`…,
/// `action:<name>`…), then one row per role.
///
/// # Errors
/// A message for an unknown resource or role.
pub fn export(
    doc: &Value,
    policy: &Policy,
    resource: &str,
    roles: Option<&[String]>,
) -> Result<Vec<Vec<String>>, String> {
    let fields = policy
        .field_names(resource)
        .ok_or_else(|| format!("no resource `{resource}`"))?;
    let actions = policy.action_names(resource).unwrap_or_default();
    let mut table = vec![header(&fields, &actions)];
    let all: Vec<String> = policy.role_names().map(String::from).collect();
    for role in roles.unwrap_or(&all) {
        if !all.contains(role) {
            return Err(format!("no role `{role}`"));
        }
        let mut states = vec![FieldState::Hidden; fields.len()];
        let mut scopes: Vec<Option<usize>> = vec![None; actions.len()];
        for g in expressible(doc, role, resource) {
            let scope = SCOPES
                .iter()
                .position(|s| Some(*s) == g.get("scope").and_then(Value::as_str))
                .unwrap_or(0);
            let listed = g
                .get("actions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, a) in actions.iter().enumerate() {
                if listed.iter().any(|x| x == a || x == "*") {
                    scopes[i] = Some(scopes[i].map_or(scope, |s| s.min(scope)));
                }
            }
            for (i, f) in fields.iter().enumerate() {
                let given = g
                    .pointer(&format!("/fields/{}", pointer_key(f)))
                    .or_else(|| g.pointer("/fields/*"));
                let state = given
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(FieldState::Editable);
                states[i] = states[i].max(state);
            }
        }
        let mut row = vec![role.clone()];
        row.extend(states.iter().map(|s| s.as_str().to_string()));
        row.extend(
            scopes
                .iter()
                .map(|s| s.map_or(String::new(), |i| SCOPES[i].to_string())),
        );
        table.push(row);
    }
    Ok(table)
}

/// Applies a table to the document. Nothing changes when any cell is bad: every bad cell is
/// reported, by row and column.
///
/// # Errors
/// Every bad cell.
pub fn import(
    doc: &Value,
    policy: &Policy,
    resource: &str,
    table: &[Vec<String>],
) -> Result<Value, Vec<CellError>> {
    let err = |row: usize, column: &str, message: String| CellError {
        row,
        column: column.to_string(),
        message,
    };
    let Some(fields) = policy.field_names(resource) else {
        return Err(vec![err(1, "", format!("no resource `{resource}`"))]);
    };
    let actions = policy.action_names(resource).unwrap_or_default();
    let want = header(&fields, &actions);
    let Some(head) = table.first() else {
        return Err(vec![err(1, "", "the sheet is empty".into())]);
    };
    let mut errors = Vec::new();
    for (i, w) in want.iter().enumerate() {
        if head.get(i).map(|h| h.trim()) != Some(w.as_str()) {
            errors.push(err(
                1,
                w,
                format!(
                    "expected column {} to be `{w}`, found `{}`",
                    i + 1,
                    head.get(i).map_or("", |h| h.as_str())
                ),
            ));
        }
    }
    if head.len() > want.len() {
        errors.push(err(1, &head[want.len()], "unknown column".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Rows equal to what export gives now are left alone: an unedited sheet changes nothing.
    let current = export(doc, policy, resource, None).unwrap_or_default();
    let res = policy.resource(resource);
    let (has_owner, has_dept) = res.map_or((false, false), |r| {
        (r.owner.is_some(), r.department.is_some())
    });
    let mut out = doc.clone();
    for (n, row) in table.iter().enumerate().skip(1) {
        let line = n + 1;
        if row.iter().all(|c| c.trim().is_empty())
            || row.first().is_some_and(|c| c.starts_with('#'))
        {
            continue;
        }
        let cell = |i: usize| row.get(i).map_or("", |c| c.trim());
        let role = cell(0).to_string();
        let unchanged = current
            .iter()
            .skip(1)
            .any(|c| c.len() == want.len() && (0..want.len()).all(|i| c[i] == cell(i)));
        if unchanged {
            continue;
        }
        if doc
            .pointer(&format!("/roles/{}", pointer_key(&role)))
            .is_none()
        {
            errors.push(err(line, "role", format!("no role `{role}`")));
            continue;
        }
        let mut states = Map::new();
        for (i, f) in fields.iter().enumerate() {
            match cell(1 + i).parse::<FieldState>() {
                Ok(s) => {
                    states.insert(f.to_string(), json!(s.as_str()));
                }
                Err(()) => errors.push(err(
                    line,
                    &want[1 + i],
                    format!(
                        "`{}` is not hidden, masked, readonly or editable",
                        cell(1 + i)
                    ),
                )),
            }
        }
        let mut by_scope: Vec<(usize, Vec<&str>)> = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            let column = &want[1 + fields.len() + i];
            let text = cell(1 + fields.len() + i);
            if text.is_empty() {
                continue;
            }
            match SCOPES.iter().position(|s| *s == text) {
                Some(3) if !has_owner => errors.push(err(
                    line,
                    column,
                    format!("`own` needs resource `{resource}` to declare `owner`"),
                )),
                Some(1 | 2) if !has_dept => errors.push(err(
                    line,
                    column,
                    format!("`{text}` needs resource `{resource}` to declare `department`"),
                )),
                Some(s) => match by_scope.iter_mut().find(|(x, _)| *x == s) {
                    Some((_, list)) => list.push(a),
                    None => by_scope.push((s, vec![a])),
                },
                None => errors.push(err(
                    line,
                    column,
                    format!("`{text}` is not empty, all, department_tree, department or own"),
                )),
            }
        }
        if by_scope.is_empty() && states.values().any(|s| s != "hidden") {
            let first = fields
                .iter()
                .position(|f| states.get(*f).is_some_and(|s| s != "hidden"))
                .unwrap_or(0);
            errors.push(err(
                line,
                &want[1 + first],
                "field states need at least one allowed action".into(),
            ));
        }
        by_scope.sort_by_key(|(s, _)| *s);
        let kept: Vec<Value> = role_grants(doc, &role)
            .into_iter()
            .filter(|g| !is_expressible(g, resource))
            .collect();
        let mut grants = kept;
        for (s, list) in by_scope {
            grants.push(json!({"resource": resource, "actions": list, "scope": SCOPES[s], "fields": states}));
        }
        if let Some(r) = out
            .pointer_mut(&format!("/roles/{}", pointer_key(&role)))
            .and_then(Value::as_object_mut)
        {
            r.insert("grants".into(), Value::Array(grants));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Policy::from_value(&out).map_err(|e| {
        e.errors()
            .iter()
            .map(|p| err(0, &p.path, p.to_string()))
            .collect::<Vec<_>>()
    })?;
    Ok(out)
}

fn header(fields: &[&str], actions: &[&str]) -> Vec<String> {
    let mut h = vec!["role".to_string()];
    h.extend(fields.iter().map(|f| format!("field:{f}")));
    h.extend(actions.iter().map(|a| format!("action:{a}")));
    h
}

fn role_grants(doc: &Value, role: &str) -> Vec<Value> {
    doc.pointer(&format!("/roles/{}/grants", pointer_key(role)))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn is_expressible(g: &Value, resource: &str) -> bool {
    g.get("resource").and_then(Value::as_str) == Some(resource) && g.get("when").is_none()
}

fn expressible(doc: &Value, role: &str, resource: &str) -> Vec<Value> {
    role_grants(doc, role)
        .into_iter()
        .filter(|g| is_expressible(g, resource))
        .collect()
}

fn pointer_key(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

//! Periodic access review: who has which sensitive access, where it comes from, and turning a
//! reviewer's revocations into the smallest policy change that takes exactly that away.
//!
//! A review lists, per person and resource, every sensitive field they can see (by default the
//! fields with a mask) and every export-like action they may take, with the state or scope and
//! its source. Reviewers fill in `decision` (`keep` or `revoke`) and `note`.

use super::diff::{diff, Limits};
use super::directory::Directory;
use super::flow_place::flow_place;
use super::who_can::{sources, Source};
use super::words::Labels;
use crate::core::{Checked, FieldState, Input, Mode, RoleVia, Session};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The columns of a review sheet, in order.
pub const COLUMNS: [&str; 11] = [
    "person",
    "name",
    "department",
    "resource",
    "item",
    "access",
    "via",
    "source",
    "grant",
    "decision",
    "note",
];

/// One line of a review: one person's access to one field or action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The person's id.
    pub person: String,
    /// Their display name.
    pub name: String,
    /// Their department.
    pub department: String,
    /// The resource.
    pub resource: String,
    /// `field:<name>` or `action:<name>`.
    pub item: String,
    /// The field's highest state, or the action's broadest scope.
    pub access: String,
    /// How the person gets it: `role` (given with the person or by `assignments.users`),
    /// `department`, `group`, or `personal` (a personal grant).
    pub via: String,
    /// Where it comes from, in words.
    pub source: String,
    /// The grant that gives it (its JSON path).
    pub grant: String,
    /// The reviewer's decision: `keep` or `revoke` (empty until reviewed).
    pub decision: String,
    /// The reviewer's note.
    pub note: String,
}

impl Line {
    /// The line's cells in [`COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        [
            &self.person,
            &self.name,
            &self.department,
            &self.resource,
            &self.item,
            &self.access,
            &self.via,
            &self.source,
            &self.grant,
            &self.decision,
            &self.note,
        ]
        .into_iter()
        .cloned()
        .collect()
    }
}

/// What a review covers.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// One resource, or every one.
    pub resource: Option<String>,
    /// The fields to review (default: every field with a mask).
    pub sensitive: Vec<String>,
    /// The actions to review (default: the export-like ones).
    pub actions: Vec<String>,
    /// When access is reviewed (Unix ms): dated access counts inside its dates only.
    pub at: i64,
}

/// A review line's resource and item in words, in both languages, for the reviewer's page and
/// the report (the sheet keeps the bare names, which `review apply` reads back):
/// `{"resource": {"zh-CN", "en"}, "item": {...}}`, with `"flow"` the same way for a flow's
/// transition or step, saying where it sits in the flow.
/// `labels`: the document's labels in each language, made once for all of a campaign's lines.
pub fn line_words(doc: &Value, labels: &[Labels; 2], resource: &str, item: &str) -> Value {
    let mut resource_by = Map::new();
    let mut item_by = Map::new();
    let mut flow_by = Map::new();
    for labels in labels {
        let lang = labels.lang();
        resource_by.insert(lang.tag().into(), labels.resource(resource).into());
        let words = match item.split_once(':') {
            Some(("field", f)) => labels.field(resource, f),
            Some(("action", a)) => {
                if let Some(place) = flow_place(doc, labels, resource, a) {
                    flow_by.insert(lang.tag().into(), place.into());
                }
                labels.resource_action(resource, a)
            }
            _ => item.to_string(),
        };
        item_by.insert(lang.tag().into(), words.into());
    }
    let mut out = json!({ "resource": resource_by, "item": item_by });
    if !flow_by.is_empty() {
        out["flow"] = Value::Object(flow_by);
    }
    out
}

/// Whether an action is export-like (reviewed by default): it takes data out of the app.
pub fn export_like(action: &str) -> bool {
    let a = action.to_lowercase();
    ["export", "download", "print"]
        .iter()
        .any(|w| a.contains(w))
}

/// The review lines for everyone in the directory.
///
/// # Errors
/// A message for an unknown resource or field.
pub fn review(
    checked: &Checked,
    directory: &Directory,
    coverage: &Coverage,
) -> Result<Vec<Line>, String> {
    let (doc, policy) = (checked.doc(), checked.policy());
    let resources: Vec<String> = match &coverage.resource {
        Some(r) => {
            policy.resource_id(r).map_err(|e| e.to_string())?;
            vec![r.clone()]
        }
        None => policy.resource_names().map(String::from).collect(),
    };
    for f in &coverage.sensitive {
        let declared = resources.iter().any(|r| {
            policy
                .field_names(r)
                .is_some_and(|names| names.contains(&f.as_str()))
        });
        if !declared {
            return Err(format!("no resource reviewed has a field `{f}`"));
        }
    }
    let mut out = Vec::new();
    for person in directory.people() {
        let subject = person.subject();
        let s = policy.session_at(&subject, coverage.at);
        let roles = policy.role_sources(&subject, crate::core::At::Time(coverage.at));
        for r in &resources {
            let masked = masked_fields(doc, r);
            let fields = policy.field_names(r).unwrap_or_default();
            let actions = policy.action_names(r).unwrap_or_default();
            let line = |item: String, access: String, src: Vec<Source>| {
                let (via, source, grant) = describe(&src);
                Line {
                    person: person.id.clone(),
                    name: person.name.clone().unwrap_or_default(),
                    department: person.department.clone().unwrap_or_default(),
                    resource: r.clone(),
                    item,
                    access,
                    via,
                    source,
                    grant,
                    decision: String::new(),
                    note: String::new(),
                }
            };
            for (i, f) in fields.iter().enumerate() {
                let wanted = if coverage.sensitive.is_empty() {
                    masked.contains(&f.to_string())
                } else {
                    coverage.sensitive.iter().any(|x| x == f)
                };
                if !wanted {
                    continue;
                }
                if let Some((state, src)) = field_access(&s, r, i, &actions, &roles) {
                    out.push(line(format!("field:{f}"), state.to_string(), src));
                }
            }
            let reviewed = |a: &&&str| {
                if coverage.actions.is_empty() {
                    export_like(a)
                } else {
                    coverage.actions.iter().any(|x| x == **a)
                }
            };
            for a in actions.iter().filter(reviewed) {
                if !s.can(a, r, Input::NONE).unwrap_or(false) {
                    continue;
                }
                let ex = s.explain(a, r, Input::NONE).map_err(|e| e.to_string())?;
                let giving: Vec<_> = ex
                    .grants
                    .iter()
                    .filter(|g| g.applies && g.lists_action)
                    .collect();
                let scope_word = giving
                    .iter()
                    .filter_map(|g| {
                        super::matrix::SCOPES
                            .iter()
                            .position(|x| *x == g.scope.as_str())
                    })
                    .min()
                    .map_or("all", |i| super::matrix::SCOPES[i]);
                let src = giving.iter().flat_map(|g| sources(g, &roles)).collect();
                out.push(line(format!("action:{a}"), scope_word.to_string(), src));
            }
        }
    }
    Ok(out)
}

/// The fields of a resource that declare a mask.
fn masked_fields(doc: &Value, resource: &str) -> Vec<String> {
    doc.get("resources")
        .and_then(|r| r.get(resource))
        .and_then(|r| r.get("fields"))
        .and_then(Value::as_object)
        .map(|f| {
            f.iter()
                .filter(|(_, d)| d.get("mask").is_some())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A field's highest state over the form modes (no record), and what gives it.
fn field_access(
    s: &Session,
    r: &str,
    i: usize,
    actions: &[&str],
    roles: &[crate::core::RoleSource],
) -> Option<(FieldState, Vec<Source>)> {
    let mut best: Option<(FieldState, Vec<Source>)> = None;
    for mode in Mode::ALL {
        let state = s.fields(r, mode, Input::NONE).ok()?.states()[i];
        if state == FieldState::Hidden || best.as_ref().is_some_and(|(b, _)| *b >= state) {
            continue;
        }
        let action = actions.iter().find(|a| Mode::of_action(a) == mode);
        let src = match action {
            Some(a) => {
                let ex = s.explain(a, r, Input::NONE).ok()?;
                let by = ex.fields[i].set_by.clone();
                ex.grants
                    .iter()
                    .filter(|g| Some(&g.id) == by.as_ref())
                    .flat_map(|g| sources(g, roles))
                    .collect()
            }
            None => Vec::new(),
        };
        best = Some((state, src));
    }
    best
}

/// `(via, source, grant)` cells for the sources of one access.
fn describe(src: &[Source]) -> (String, String, String) {
    let mut via = Vec::new();
    let mut text = Vec::new();
    let mut grants = Vec::new();
    for s in src {
        let (kind, how) = match (&s.through, &s.role) {
            (None, _) => ("personal", "personal grant".to_string()),
            (Some(RoleVia::Department(d)), Some(r)) => {
                ("department", format!("role {r} (department {d})"))
            }
            (Some(RoleVia::Group(g)), Some(r)) => ("group", format!("role {r} (group {g})")),
            (Some(RoleVia::Inherited(from)), Some(r)) => {
                ("role", format!("role {r} (inherited by {from})"))
            }
            (Some(_), Some(r)) => ("role", format!("role {r}")),
            (Some(_), None) => ("role", "a role".to_string()),
        };
        let holder = match s.holder {
            "template" => format!("template {} in ", s.name),
            _ => String::new(),
        };
        // Dated access says when it ends: reviewers keep or revoke it knowing that.
        let until = s
            .until
            .as_deref()
            .map_or(String::new(), |u| format!(" until {u}"));
        let t = format!("{holder}{how}{until}");
        if !via.contains(&kind) {
            via.push(kind);
        }
        if !text.contains(&t) {
            text.push(t);
        }
        if !grants.contains(&s.grant) {
            grants.push(s.grant.clone());
        }
    }
    (via.join(";"), text.join("; "), grants.join(";"))
}

/// Reads review lines back from a sheet (a header row naming [`COLUMNS`], any order).
///
/// # Errors
/// A message for a missing column.
pub fn lines_from_table(rows: &[Vec<String>]) -> Result<Vec<Line>, String> {
    let Some(head) = rows.first() else {
        return Err("the sheet is empty".into());
    };
    let col = |name: &str| -> Result<usize, String> {
        head.iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("the sheet has no `{name}` column"))
    };
    let at: Vec<usize> = COLUMNS.iter().map(|c| col(c)).collect::<Result<_, _>>()?;
    Ok(rows
        .iter()
        .skip(1)
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .map(|r| {
            let c = |i: usize| r.get(at[i]).map_or(String::new(), |s| s.trim().to_string());
            Line {
                person: c(0),
                name: c(1),
                department: c(2),
                resource: c(3),
                item: c(4),
                access: c(5),
                via: c(6),
                source: c(7),
                grant: c(8),
                decision: c(9),
                note: c(10),
            }
        })
        .collect())
}

/// Whether a decision revokes.
pub fn revokes(decision: &str) -> bool {
    matches!(
        decision.trim().to_lowercase().as_str(),
        "revoke" | "remove" | "撤销" | "收回" | "移除"
    )
}

/// A revocation that cannot be made: which line and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The line's position among the sheet's lines (from 1, the header not counted).
    pub line: usize,
    /// The person.
    pub person: String,
    /// The item.
    pub item: String,
    /// Why.
    pub message: String,
}

/// What applying a review did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    /// Lines turned into policy changes.
    pub revoked: usize,
    /// Lines kept or undecided.
    pub kept: usize,
    /// The changes, in words.
    pub changes: Vec<String>,
}

/// Turns the lines marked `revoke` into the smallest change that takes exactly that access
/// from exactly that person: the person's own grant loses the field or action when it alone
/// gives it; otherwise a personal limit hides the field, or a personal deny forbids the action.
/// The result is checked with a diff over the directory: any other change refuses the line.
///
/// # Errors
/// Every line that cannot be revoked on its own; nothing changes then.
pub fn apply(
    checked: &Checked,
    lines: &[Line],
    directory: Option<&Directory>,
) -> Result<(Value, Applied), Vec<Refusal>> {
    let (doc, policy) = (checked.doc(), checked.policy());
    let mut out = doc.clone();
    let mut refusals = Vec::new();
    let mut applied = Applied {
        revoked: 0,
        kept: 0,
        changes: Vec::new(),
    };
    let refuse = |i: usize, l: &Line, message: String| Refusal {
        line: i + 1,
        person: l.person.clone(),
        item: l.item.clone(),
        message,
    };
    let mut revoked: Vec<(&Line, usize)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !revokes(&l.decision) {
            applied.kept += 1;
            continue;
        }
        let known = directory.is_some_and(|d| d.get(&l.person).is_some())
            || policy.user_ids().any(|u| u == l.person);
        if !known {
            refusals.push(refuse(
                i,
                l,
                format!("`{}` is not in the directory or the policy", l.person),
            ));
            continue;
        }
        if policy.resource_id(&l.resource).is_err() {
            refusals.push(refuse(i, l, format!("no resource `{}`", l.resource)));
            continue;
        }
        let change = match l.item.split_once(':') {
            Some(("field", f))
                if policy
                    .field_names(&l.resource)
                    .is_some_and(|n| n.contains(&f)) =>
            {
                revoke_field(&mut out, &l.person, &l.resource, f, &l.via, &l.grant)
            }
            Some(("action", a))
                if policy
                    .action_names(&l.resource)
                    .is_some_and(|n| n.contains(&a)) =>
            {
                revoke_action(&mut out, &l.person, &l.resource, a, &l.via, &l.grant)
            }
            _ => Err(format!(
                "`{}` is not a field or action of `{}`",
                l.item, l.resource
            )),
        };
        match change {
            Ok(text) => {
                applied.revoked += 1;
                applied.changes.push(text);
                revoked.push((l, i));
            }
            Err(m) => refusals.push(refuse(i, l, m)),
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    if revoked.is_empty() {
        return Ok((out, applied));
    }
    let after = match Checked::from_value(out.clone()) {
        Ok(c) => c,
        Err(e) => {
            return Err(vec![Refusal {
                line: 0,
                person: String::new(),
                item: String::new(),
                message: format!("the result does not compile: {e}"),
            }])
        }
    };
    let d = diff(checked, &after, directory, &Limits::default()).map_err(|e| {
        vec![Refusal {
            line: 0,
            person: String::new(),
            item: String::new(),
            message: e.to_string(),
        }]
    })?;
    for c in &d.access {
        let ok = c.direction == "lost"
            && revoked.iter().any(|(l, _)| {
                c.subject == format!("user:{}", l.person)
                    && c.resource == l.resource
                    && item_covers(&l.item, &c.what)
            });
        // Stand-ins for roles never change: revocations are personal.
        if !ok {
            let (l, i) = revoked
                .iter()
                .find(|(l, _)| c.subject == format!("user:{}", l.person))
                .copied()
                .unwrap_or(revoked[0]);
            refusals.push(refuse(
                i,
                l,
                format!(
                    "it would also change {}: {} on {} {} -> {}",
                    c.subject, c.what, c.resource, c.from, c.to
                ),
            ));
        }
    }
    for (l, i) in &revoked {
        let gone = d.access.iter().any(|c| {
            c.subject == format!("user:{}", l.person)
                && c.resource == l.resource
                && item_covers(&l.item, &c.what)
        });
        if !gone {
            refusals.push(refuse(*i, l, "the person has no such access now".into()));
        }
    }
    refusals.dedup();
    if refusals.is_empty() {
        Ok((out, applied))
    } else {
        Err(refusals)
    }
}

/// Whether an access change is about a review item (a field in any mode, or the action).
fn item_covers(item: &str, what: &str) -> bool {
    match item.split_once(':') {
        Some(("field", f)) => what
            .strip_prefix("field ")
            .and_then(|w| w.split_once(" ("))
            .is_some_and(|(g, _)| g == f),
        Some(("action", a)) => what == format!("action {a}"),
        _ => false,
    }
}

/// The person's entry in `assignments.users`, made when absent.
fn user_entry<'d>(doc: &'d mut Value, person: &str) -> Option<&'d mut Map<String, Value>> {
    let root = doc.as_object_mut()?;
    let users = root
        .entry("assignments")
        .or_insert_with(|| json!({}))
        .as_object_mut()?
        .entry("users")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    users
        .entry(person.to_string())
        .or_insert_with(|| json!({}))
        .as_object_mut()
}

/// The person's own grant that alone gives the access, when the line says so.
fn personal_grant<'d>(
    doc: &'d mut Value,
    person: &str,
    via: &str,
    grant: &str,
) -> Option<&'d mut Map<String, Value>> {
    if via != "personal" || grant.contains(';') {
        return None;
    }
    let i: usize = grant.rsplit_once('[')?.1.strip_suffix(']')?.parse().ok()?;
    user_entry(doc, person)?
        .get_mut("grants")?
        .as_array_mut()?
        .get_mut(i)?
        .as_object_mut()
}

fn revoke_field(
    doc: &mut Value,
    person: &str,
    resource: &str,
    field: &str,
    via: &str,
    grant: &str,
) -> Result<String, String> {
    if let Some(g) = personal_grant(doc, person, via, grant) {
        if g.get("resource").and_then(Value::as_str) == Some(resource) {
            let fields = g.entry("fields").or_insert_with(|| json!({}));
            if let Some(f) = fields.as_object_mut() {
                f.insert(field.to_string(), json!("hidden"));
                return Ok(format!(
                    "{person}: personal grant {grant} hides {resource}.{field}"
                ));
            }
        }
    }
    let entry = user_entry(doc, person).ok_or("the policy is not an object")?;
    let limits = entry.entry("limits").or_insert_with(|| json!([]));
    let list = limits.as_array_mut().ok_or("`limits` is not a list")?;
    list.push(json!({"resource": resource, "fields": {field: "hidden"}}));
    Ok(format!("{person}: personal limit hides {resource}.{field}"))
}

fn revoke_action(
    doc: &mut Value,
    person: &str,
    resource: &str,
    action: &str,
    via: &str,
    grant: &str,
) -> Result<String, String> {
    if let Some(g) = personal_grant(doc, person, via, grant) {
        let named = g
            .get("actions")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == action));
        if named && g.get("resource").and_then(Value::as_str) == Some(resource) {
            if let Some(a) = g.get_mut("actions").and_then(Value::as_array_mut) {
                a.retain(|x| x != action);
            }
            return Ok(format!(
                "{person}: personal grant {grant} no longer gives {action} on {resource}"
            ));
        }
    }
    let entry = user_entry(doc, person).ok_or("the policy is not an object")?;
    let denies = entry.entry("denies").or_insert_with(|| json!([]));
    let list = denies.as_array_mut().ok_or("`denies` is not a list")?;
    list.push(json!({"resource": resource, "actions": [action]}));
    Ok(format!("{person}: personal deny of {action} on {resource}"))
}

//! Lint: likely mistakes that are not errors, each with a JSON path.

use crate::core::condition::Expr;
use crate::core::policy::{lists, Effect, Policy, Scope, Targets, ALL_ACTIONS};
use crate::core::FieldState;
use serde::Serialize;
use serde_json::Value;

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// JSON path of what the warning is about.
    pub path: String,
    /// `shadowed_grant`, `unused_template`, `unassigned_role`, `field_never_visible`,
    /// `broad_grant`, `rule_never_applies` or `rule_has_no_effect`.
    pub code: &'static str,
    /// What to look at.
    pub message: String,
}

/// Lints a compiled policy and its source document.
pub fn lint(doc: &Value, p: &Policy) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut warn = |path: String, code, message: String| {
        out.push(Warning {
            path,
            code,
            message,
        })
    };

    // Templates no role uses; roles nothing assigns or inherits.
    let role_refs = |key: &str| -> Vec<String> {
        doc.get("roles")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .flat_map(|(_, r)| {
                r.get(key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    let used_templates = role_refs("templates");
    for t in &p.templates {
        if !used_templates.contains(t) {
            warn(
                format!("templates.{t}"),
                "unused_template",
                format!("no role uses template `{t}`"),
            );
        }
    }
    let mut assigned = role_refs("inherits");
    let a = doc.get("assignments");
    for section in ["departments", "groups"] {
        for (_, roles) in a
            .and_then(|a| a.get(section))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            assigned.extend(
                roles
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_str().map(String::from)),
            );
        }
    }
    for (_, u) in a
        .and_then(|a| a.get("users"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        assigned.extend(
            u.get("roles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(String::from)),
        );
    }
    for r in &p.roles {
        if !assigned.contains(&r.name) {
            let msg = format!(
                "nothing in the policy assigns or inherits role `{}` (only the app can give it)",
                r.name
            );
            warn(format!("roles.{}", r.name), "unassigned_role", msg);
        }
    }

    // Fields no grant ever shows.
    for (ri, res) in p.resources.iter().enumerate() {
        let shows: Vec<bool> = (0..res.fields.len())
            .map(|f| {
                p.grants.iter().any(|g| {
                    g.targets.shape(&p.resources, ri as u32).is_some_and(|s| {
                        let any_mode = ["view", "create", "edit"]
                            .iter()
                            .any(|a| lists(s.actions, res.action_bit(a)));
                        any_mode && s.states[f] > FieldState::Hidden
                    })
                })
            })
            .collect();
        for (f, field) in res.fields.iter().enumerate() {
            if !shows[f] {
                let msg = format!("no grant shows `{}.{}` to anyone", res.name, field.name);
                warn(
                    format!("resources.{}.fields.{}", res.name, field.name),
                    "field_never_visible",
                    msg,
                );
            }
        }
    }

    // Broad grants: every resource, every record, outside an admin role.
    for g in &p.grants {
        let (_, holder) = g.origin.holder(p);
        if matches!(g.targets, Targets::All(_))
            && g.scope == Scope::All
            && g.when.is_none()
            && !holder.to_lowercase().contains("admin")
        {
            let msg = format!("grant on `*` with scope `all` outside an admin role (`{holder}`)");
            warn(g.path(p), "broad_grant", msg);
        }
    }

    // Grants another grant of the same holder already covers.
    for (i, g) in p.grants.iter().enumerate() {
        let by = p
            .grants
            .iter()
            .enumerate()
            .find(|(j, h)| *j != i && h.origin == g.origin && covers(p, h, g));
        if let Some((_, h)) = by {
            warn(
                g.path(p),
                "shadowed_grant",
                format!("adds nothing: `{}` already gives all of it", h.path(p)),
            );
        }
    }

    // Rules that cannot matter.
    for (i, rule) in p
        .global_rules
        .iter()
        .map(|&r| &p.rules[r as usize])
        .enumerate()
    {
        let path = format!("rules[{i}]");
        if rule.when.as_ref().and_then(Expr::constant) == Some(false) {
            warn(
                path.clone(),
                "rule_never_applies",
                format!("the condition of `{}` is always false", rule.id),
            );
        }
        let no_cap = (0..p.resources.len() as u32)
            .filter_map(|r| rule.targets.shape(&p.resources, r))
            .all(|s| s.states.iter().all(|&st| st == FieldState::Editable));
        if rule.effect == Effect::Limit && no_cap {
            warn(
                path,
                "rule_has_no_effect",
                format!("limit rule `{}` caps no field below editable", rule.id),
            );
        }
    }
    out
}

/// Whether grant `h` gives everything `g` gives, on every record.
fn covers(p: &Policy, h: &crate::core::policy::Grant, g: &crate::core::policy::Grant) -> bool {
    let same_targets = match (&h.targets, &g.targets) {
        (Targets::One(a, _), Targets::One(b, _)) => a == b,
        (Targets::All(_), _) => true,
        _ => false,
    };
    let scope_ok = h.scope == Scope::All
        || h.scope == g.scope
        || (h.scope == Scope::DepartmentTree && g.scope == Scope::Department);
    if !same_targets || !scope_ok || !(h.when.is_none() || h.when == g.when) {
        return false;
    }
    (0..p.resources.len() as u32).all(|r| {
        match (
            h.targets.shape(&p.resources, r),
            g.targets.shape(&p.resources, r),
        ) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(hs), Some(gs)) => {
                let actions = hs.actions == ALL_ACTIONS
                    || (gs.actions != ALL_ACTIONS && gs.actions & !hs.actions == 0);
                actions && hs.states.iter().zip(gs.states.iter()).all(|(a, b)| a >= b)
            }
        }
    })
}

//! Lint: likely mistakes that are not errors, each with a JSON path.

mod dates;
mod flows;
mod partners;

pub use dates::Horizon;

use super::codes::LintCode;
use super::directory::Directory;
use super::probe::sample_records;
use super::subjects;
use crate::core::condition::Expr;
use crate::core::policy::{Effect, ModeCaps, Policy, Scope, Targets, ALL_ACTIONS};
use crate::core::Input;
use crate::core::{Checked, FieldState};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// JSON path of what the warning is about.
    pub path: String,
    /// A [`LintCode`]'s string.
    pub code: &'static str,
    /// What to look at.
    pub message: String,
}

/// Lints a compiled policy and its source document; with a directory, separation of duties is
/// checked for its people as well as for each role. Dated access is judged at `horizon`.
pub fn lint(checked: &Checked, directory: Option<&Directory>, horizon: Horizon) -> Vec<Warning> {
    let (doc, p) = (checked.doc(), checked.policy());
    let mut out = Vec::new();
    dates::dates(p, horizon, &mut out);
    sod_conflicts(doc, p, directory, &mut out);
    unused_templates(doc, p, &mut out);
    unassigned_roles(doc, p, directory, &mut out);
    invisible_fields(p, &mut out);
    broad_grants(p, &mut out);
    shadowed_grants(p, &mut out);
    idle_rules(p, &mut out);
    flows::flows(p, directory, &mut out);
    if let Some(d) = directory {
        flat_reporting_line(p, d, &mut out);
        partners::partners(p, d, &mut out);
    }
    out
}

fn warn(out: &mut Vec<Warning>, path: String, code: LintCode, message: String) {
    out.push(Warning {
        path,
        code: code.as_str(),
        message,
    });
}

/// The role names the document's roles list under `key` (`templates`, `inherits`).
fn role_refs(doc: &Value, key: &str) -> Vec<String> {
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
}

/// Templates no role uses.
fn unused_templates(doc: &Value, p: &Policy, out: &mut Vec<Warning>) {
    let used = role_refs(doc, "templates");
    for t in p.templates.iter().filter(|t| !used.contains(t)) {
        let msg = format!("no role uses template `{t}`");
        warn(out, format!("templates.{t}"), LintCode::UnusedTemplate, msg);
    }
}

/// Roles nothing assigns or inherits: not the policy, and not the directory's `roles` column
/// when a directory is given.
fn unassigned_roles(
    doc: &Value,
    p: &Policy,
    directory: Option<&Directory>,
    out: &mut Vec<Warning>,
) {
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| super::entries::role_name(r).map(String::from))
            .collect()
    };
    let section = |name: &str| -> Vec<Value> {
        doc.get("assignments")
            .and_then(|a| a.get(name))
            .and_then(Value::as_object)
            .map(|o| o.values().cloned().collect())
            .unwrap_or_default()
    };
    let mut assigned = role_refs(doc, "inherits");
    for roles in section("departments").iter().chain(&section("groups")) {
        assigned.extend(names(roles));
    }
    for u in section("users") {
        assigned.extend(names(u.get("roles").unwrap_or(&Value::Null)));
    }
    for person in directory.map(Directory::people).unwrap_or_default() {
        assigned.extend(person.roles.iter().cloned());
    }
    for r in p.roles.iter().filter(|r| !assigned.contains(&r.name)) {
        let msg = format!(
            "nothing in the policy{} assigns or inherits role `{}` (only the app can give it)",
            if directory.is_some() {
                " or the directory"
            } else {
                ""
            },
            r.name
        );
        warn(
            out,
            format!("roles.{}", r.name),
            LintCode::UnassignedRole,
            msg,
        );
    }
}

/// Fields no grant ever shows.
#[expect(
    clippy::cast_possible_truncation,
    reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
)]
fn invisible_fields(p: &Policy, out: &mut Vec<Warning>) {
    for (ri, res) in p.resources.iter().enumerate() {
        let caps = ModeCaps::of(res);
        let shows = |f: usize| {
            p.grants.iter().any(|g| {
                g.targets.shape(&p.resources, ri as u32).is_some_and(|s| {
                    let reach = caps.reach(s.actions);
                    s.states
                        .get(f)
                        .is_some_and(|&st| st.min(reach) > FieldState::Hidden)
                })
            })
        };
        for (_, field) in res.fields.iter().enumerate().filter(|(f, _)| !shows(*f)) {
            let msg = format!("no grant shows `{}.{}` to anyone", res.name, field.name);
            let path = format!("resources.{}.fields.{}", res.name, field.name);
            warn(out, path, LintCode::FieldNeverVisible, msg);
        }
    }
}

/// Broad grants: every resource, every record, outside an admin role.
fn broad_grants(p: &Policy, out: &mut Vec<Warning>) {
    for g in &p.grants {
        let (_, holder) = g.origin.holder(p);
        if matches!(g.targets, Targets::All(_))
            && g.scope == Scope::All
            && g.when.is_none()
            && !holder.to_lowercase().contains("admin")
        {
            let msg = format!("grant on `*` with scope `all` outside an admin role (`{holder}`)");
            warn(out, g.path(p), LintCode::BroadGrant, msg);
        }
    }
}

/// `subordinates` grants over a directory without a reporting line (no `manager` column, or no
/// one in it has a manager): they reach only the user's own records, like `own`.
fn flat_reporting_line(p: &Policy, d: &Directory, out: &mut Vec<Warning>) {
    if d.people().iter().any(|person| person.manager.is_some()) {
        return;
    }
    for g in p.grants.iter().filter(|g| g.scope == Scope::Subordinates) {
        let (_, holder) = g.origin.holder(p);
        let msg = format!(
            "`{holder}` has a `subordinates` grant, but the directory names no manager: it \
             reaches only the user's own records"
        );
        warn(out, g.path(p), LintCode::NoReportingLine, msg);
    }
}

/// Grants another grant of the same holder already covers.
fn shadowed_grants(p: &Policy, out: &mut Vec<Warning>) {
    for (i, g) in p.grants.iter().enumerate() {
        let by = p
            .grants
            .iter()
            .enumerate()
            .find(|(j, h)| *j != i && h.origin == g.origin && covers(p, h, g));
        if let Some((_, h)) = by {
            let msg = format!("adds nothing: `{}` already gives all of it", h.path(p));
            warn(out, g.path(p), LintCode::ShadowedGrant, msg);
        }
    }
}

/// Rules that cannot matter: never applying, or limiting nothing.
#[expect(
    clippy::cast_possible_truncation,
    reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
)]
fn idle_rules(p: &Policy, out: &mut Vec<Warning>) {
    // Global rules by their place in `rules`; personal denies and limits by their JSON path
    // (their id), so an empty personal limit is found too.
    for (i, rule) in p.rules.iter().enumerate() {
        let global = p.global_rules.iter().position(|&g| g as usize == i);
        let path = global.map_or_else(|| rule.id.clone(), |k| format!("rules[{k}]"));
        if rule.when.as_ref().and_then(Expr::closed_value) == Some(false) {
            let msg = format!("the condition of `{}` is always false", rule.id);
            warn(out, path.clone(), LintCode::RuleNeverApplies, msg);
        }
        let no_cap = (0..p.resources.len() as u32)
            .filter_map(|r| rule.targets.shape(&p.resources, r))
            .all(|s| s.states.iter().all(|&st| st == FieldState::Editable));
        if rule.effect == Effect::Limit && no_cap {
            let msg = format!("limit rule `{}` caps no field below editable", rule.id);
            warn(out, path, LintCode::RuleHasNoEffect, msg);
        } else if rule.effect == Effect::Deny {
            let denies_none = (0..p.resources.len() as u32)
                .filter_map(|r| rule.targets.shape(&p.resources, r))
                .all(|s| s.actions == 0);
            if denies_none {
                let msg = format!("deny rule `{}` denies no action", rule.id);
                warn(out, path, LintCode::RuleHasNoEffect, msg);
            }
        }
    }
}

/// The action that approves what others made.
const APPROVE: &str = "approve";

/// Whether a flow keeps approving (or a step of it) apart from something else.
fn separated(w: Option<&crate::core::workflow::Workflow>) -> bool {
    w.into_iter()
        .flat_map(|w| &w.distinct)
        .flatten()
        .any(|a| a == APPROVE || a.split_once(':').is_some_and(|(t, _)| t == APPROVE))
}

/// Separation of duties: one person, or one role, who can both create or edit a record and
/// approve that same record. Asked of the engine on the records the diff would try (their
/// own, someone else's, their department's, with the values conditions compare). A resource
/// whose flow keeps approving apart from another transition (`distinct`) is left to the flow,
/// which enforces it from each record's history.
fn sod_conflicts(
    doc: &Value,
    p: &Arc<Policy>,
    directory: Option<&Directory>,
    out: &mut Vec<Warning>,
) {
    let roles = p.roles.iter().map(|r| {
        (
            format!("roles.{}", r.name),
            format!("role `{}`", r.name),
            subjects::role(p, &r.name),
        )
    });
    let people = directory
        .map(|d| d.people().to_vec())
        .unwrap_or_default()
        .into_iter()
        .map(|person| {
            let who = format!("`{}` (from the directory)", person.id);
            (String::new(), who, person.subject())
        });
    for (path, who, subject) in roles.chain(people) {
        let session = p.session(&subject);
        for res in p
            .resources
            .iter()
            .filter(|r| r.actions.iter().any(|a| a == APPROVE))
            .filter(|r| !separated(r.workflow.as_ref()))
        {
            let conflict = sample_records(doc, p, &res.name, &subject)
                .into_iter()
                .find(|(_, rec)| {
                    let can = |a: &str| {
                        session
                            .can(a, &res.name, Input::json(Some(rec), None))
                            .unwrap_or(false)
                    };
                    can(APPROVE) && (can("create") || can("edit"))
                });
            if let Some((kind, _)) = conflict {
                let path = if path.is_empty() {
                    format!("resources.{}", res.name)
                } else {
                    path.clone()
                };
                let msg = format!(
                    "{who} can both create or edit and approve the same {} ({kind} records)",
                    res.name
                );
                warn(out, path, LintCode::SodConflict, msg);
            }
        }
    }
}

/// Whether grant `h` gives everything `g` gives, on every record.
#[expect(
    clippy::cast_possible_truncation,
    reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
)]
fn covers(p: &Policy, h: &crate::core::policy::Grant, g: &crate::core::policy::Grant) -> bool {
    let same_targets = match (&h.targets, &g.targets) {
        (Targets::One(a, _), Targets::One(b, _)) => a == b,
        (Targets::All(_), _) => true,
        _ => false,
    };
    let deep_enough = match (h.depth, g.depth) {
        (None, _) => true,
        (Some(_), None) => g.scope != Scope::Subordinates,
        (Some(a), Some(b)) => a >= b,
    };
    let scope_ok = h.scope.includes(g.scope) && (h.scope != Scope::Subordinates || deep_enough);
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

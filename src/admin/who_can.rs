//! Access review: who can do something, and through what (a role and how they hold it, a
//! template, a personal grant).
//!
//! People are the directory's, as it describes them, plus everyone the policy names in
//! `assignments.users`; without a directory, a stand-in per department and per group (with no
//! roles of their own) shows what those assignments give. Roles alone come last.

use super::directory::Directory;
use super::subjects;
use crate::core::{
    At, FieldState, GrantTrace, Input, Mode, Policy, RequestError, RoleVia, Scope, Session, Subject,
};
use serde::Serialize;
use std::sync::Arc;

/// What is asked: an action, or a field reaching at least a state in a mode.
#[derive(Debug, Clone)]
pub enum Question {
    /// May they perform the action?
    Action(String),
    /// Does the field reach at least this state in this mode?
    Field {
        /// The field.
        field: String,
        /// The lowest state that counts.
        state: FieldState,
        /// The form mode.
        mode: Mode,
    },
}

/// How far someone's access reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// On every record.
    All,
    /// On some records (scope or conditions decide).
    Some,
}

/// One way access is given: a grant, who holds it and how the subject comes to have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The grant's id (its JSON path), e.g. `templates.customer_owner[0]`.
    pub grant: String,
    /// What holds the grant: `role`, `template` or `user` (a personal grant).
    pub holder: &'static str,
    /// The role or template name, or the user id.
    pub name: String,
    /// The subject's role that brings it in (none for a personal grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// How the subject holds that role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<RoleVia>,
    /// The records the grant reaches: `all`, `own`, `department`, `department_tree`,
    /// `subordinates`, `member`, `parent` or `org`.
    pub scope: Scope,
    /// When this way of having it ends (RFC 3339): the dated role entry's or personal grant's
    /// `until`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// One person, stand-in or role that can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoCan {
    /// `user`, `department`, `group` (a stand-in member) or `role` (a stand-in holder).
    pub kind: &'static str,
    /// The user id, department, group or role.
    pub name: String,
    /// The person's display name, from the directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// On all records or on some.
    pub access: Access,
    /// Every way they get it.
    pub via: Vec<Source>,
}

/// Everyone who can (see the module documentation for who is asked), in order: the directory's
/// people, those named by the policy, stand-ins, roles.
///
/// # Errors
/// `unknown_resource`, `unknown_action` or `unknown_field`.
pub fn who_can(
    policy: &Arc<Policy>,
    resource: &str,
    q: &Question,
    directory: Option<&Directory>,
    at: i64,
) -> Result<Vec<WhoCan>, RequestError> {
    let r = policy.resource_id(resource)?;
    if let Question::Action(a) = q {
        policy.action_id(r, a)?;
    }
    if let Question::Field { field, .. } = q {
        if !policy
            .field_names(resource)
            .unwrap_or_default()
            .contains(&field.as_str())
        {
            let msg = format!("resource `{resource}` has no field `{field}`");
            return Err(RequestError::new(crate::core::Code::UnknownField, msg));
        }
    }
    let mut asked: Vec<(&'static str, String, Option<String>, Subject)> = Vec::new();
    if let Some(d) = directory {
        for p in d.people() {
            asked.push(("user", p.id.clone(), p.name.clone(), p.subject()));
        }
    }
    for u in policy.user_ids() {
        if directory.is_none_or(|d| d.get(u).is_none()) {
            asked.push(("user", u.to_string(), None, Subject::new(u)));
        }
    }
    if directory.is_none() {
        for d in policy.department_names() {
            asked.push(("department", d.into(), None, subjects::department_member(d)));
        }
        for g in policy.group_names() {
            asked.push(("group", g.into(), None, subjects::group_member(g)));
        }
    }
    for role in policy.role_names() {
        asked.push(("role", role.to_string(), None, subjects::role(policy, role)));
    }
    let mut out = Vec::new();
    for (kind, name, label, subject) in asked {
        let s = policy.session_at(&subject, at);
        if let Some((access, grants)) = answer(&s, resource, q)? {
            let roles = policy.role_sources(&subject, At::Time(at));
            let via = grants.iter().flat_map(|g| sources(g, &roles)).collect();
            out.push(WhoCan {
                kind,
                name,
                label,
                access,
                via,
            });
        }
    }
    Ok(out)
}

/// How far the subject reaches, and the grants that give it (from the explanation of the
/// same decision), or `None` when they cannot.
fn answer(
    s: &Session,
    resource: &str,
    q: &Question,
) -> Result<Option<(Access, Vec<GrantTrace>)>, RequestError> {
    match q {
        Question::Action(a) => {
            if !s.can(a, resource, Input::NONE)? {
                return Ok(None);
            }
            let all = s.scope_filter(resource, a, None)?.as_const() == Some(true);
            let ex = s.explain(a, resource, Input::NONE)?;
            let giving = ex
                .grants
                .into_iter()
                .filter(|g| g.applies && g.lists_action)
                .collect();
            Ok(Some((if all { Access::All } else { Access::Some }, giving)))
        }
        Question::Field { field, state, mode } => {
            let p = s.policy();
            let names = p.field_names(resource).unwrap_or_default();
            let Some(i) = names.iter().position(|f| f == field) else {
                return Ok(None);
            };
            let reached = s.fields(resource, *mode, Input::NONE)?.states()[i] >= *state;
            if !reached {
                return Ok(None);
            }
            let r = p.resource_id(resource)?;
            let mut every = vec![FieldState::Hidden; p.field_count(r)];
            s.fields_on_every_record(r, *mode, &mut every);
            let access = if every[i] >= *state {
                Access::All
            } else {
                Access::Some
            };
            let action = p
                .action_names(resource)
                .unwrap_or_default()
                .into_iter()
                .find(|a| Mode::of_action(a) == *mode);
            let grants = match action {
                Some(a) => {
                    let ex = s.explain(a, resource, Input::NONE)?;
                    let by = ex.fields[i].set_by.clone();
                    ex.grants
                        .into_iter()
                        .filter(|g| Some(&g.id) == by.as_ref())
                        .collect()
                }
                None => Vec::new(),
            };
            Ok(Some((access, grants)))
        }
    }
}

/// The ways a grant reaches the subject: once per role of theirs that brings it in (and how
/// they hold that role), or once as a personal grant.
pub(crate) fn sources(g: &GrantTrace, roles: &[crate::core::RoleSource]) -> Vec<Source> {
    let one = |role: Option<String>, through: Option<RoleVia>, until: Option<String>| Source {
        grant: g.id.clone(),
        holder: g.source,
        name: g.name.clone(),
        role,
        through,
        scope: g.scope,
        until,
    };
    if g.via_roles.is_empty() {
        return vec![one(None, None, g.until.clone())];
    }
    let mut out = Vec::new();
    for role in &g.via_roles {
        for s in roles.iter().filter(|s| &s.role == role) {
            let src = one(Some(role.clone()), Some(s.via.clone()), s.until.clone());
            if !out.contains(&src) {
                out.push(src);
            }
        }
    }
    out
}

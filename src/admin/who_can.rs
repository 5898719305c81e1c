//! Access review: which users and roles can do something.

use crate::core::{FieldState, Input, Mode, Policy, RequestError, Session, Subject};
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

/// One user or role that can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoCan {
    /// `user` or `role`.
    pub kind: &'static str,
    /// The user id or role name.
    pub name: String,
    /// On all records or on some.
    pub access: Access,
}

/// Every user named in `assignments.users`, then every role (alone), that can; users are
/// evaluated with what the policy itself gives them (their assigned roles and personal grants).
///
/// # Errors
/// `unknown_resource`, `unknown_action` or `unknown_field`.
pub fn who_can(
    policy: &Arc<Policy>,
    resource: &str,
    q: &Question,
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
    let users = policy
        .user_ids()
        .map(|u| ("user", u.to_string(), Subject::new(u)));
    let roles = policy.role_names().map(|role| {
        let s = Subject {
            roles: vec![role.to_string()],
            ..Subject::new(format!("\u{0}role:{role}"))
        };
        ("role", role.to_string(), s)
    });
    let mut out = Vec::new();
    for (kind, name, subject) in users.chain(roles).collect::<Vec<_>>() {
        let s = policy.session(&subject);
        if let Some(access) = answer(&s, resource, q)? {
            out.push(WhoCan { kind, name, access });
        }
    }
    Ok(out)
}

fn answer(s: &Session, resource: &str, q: &Question) -> Result<Option<Access>, RequestError> {
    match q {
        Question::Action(a) => {
            if !s.can(a, resource, Input::NONE)? {
                return Ok(None);
            }
            let all = s.scope_filter(resource, a, None)?.as_const() == Some(true);
            Ok(Some(if all { Access::All } else { Access::Some }))
        }
        Question::Field { field, state, mode } => {
            let reached = s
                .fields(resource, *mode, Input::NONE)?
                .get(field)
                .is_some_and(|st| st >= *state);
            if !reached {
                return Ok(None);
            }
            let p = s.policy();
            let r = p.resource_id(resource)?;
            let mut every = vec![FieldState::Hidden; p.field_count(r)];
            s.fields_on_every_record(r, *mode, &mut every);
            let i = p
                .field_names(resource)
                .unwrap_or_default()
                .iter()
                .position(|f| f == field);
            let always = i.is_some_and(|i| every[i] >= *state);
            Ok(Some(if always { Access::All } else { Access::Some }))
        }
    }
}

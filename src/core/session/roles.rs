//! How a subject comes to hold roles: given with the subject, assigned by id, through their
//! department (and every department above it) or a group, or inherited. Sessions are built
//! from this, and the admin tools that say why someone has a role read the same resolution.

use crate::core::policy::Policy;
use crate::core::subject::Subject;
use crate::prelude::*;

impl Policy {
    /// Every way `subject` holds a role, in the order sessions resolve them: a role may be
    /// reached several ways, each reported. What sessions are built from, so the admin tools
    /// that say why someone has a role (who-can, review, the person page) cannot disagree.
    pub fn role_sources(&self, subject: &Subject) -> Vec<RoleSource> {
        let mut out = Vec::new();
        self.resolve_roles(subject, |r, via| {
            let via = match via {
                Via::Subject => RoleVia::Subject,
                Via::User => RoleVia::User,
                Via::Department(d) => RoleVia::Department(self.department(d).name.clone()),
                Via::Group(g) => RoleVia::Group(g.to_string()),
                Via::Inherited(from) => RoleVia::Inherited(self.role(from).name.clone()),
            };
            out.push(RoleSource {
                role: self.role(r).name.clone(),
                via,
            });
        });
        out
    }

    /// Calls `found` for each (role, how it is held); a role's ancestors follow it.
    pub(crate) fn resolve_roles<'s>(
        &self,
        subject: &'s Subject,
        mut found: impl FnMut(u32, Via<'s>),
    ) {
        let mut direct = |r: u32, via: Via<'s>| {
            found(r, via);
            for &a in &self.role(r).ancestors {
                found(a, Via::Inherited(r));
            }
        };
        for name in &subject.roles {
            if let Some(r) = self.role_pos(name) {
                direct(r, Via::Subject);
            }
        }
        if let Some(a) = self.users.get(&subject.id) {
            for &r in &a.roles {
                direct(r, Via::User);
            }
        }
        let mut at = subject
            .department
            .as_deref()
            .and_then(|d| self.department_pos(d));
        while let Some(d) = at {
            let held = self.department_roles.iter().find(|(x, _)| *x == d);
            for &r in held.into_iter().flat_map(|(_, roles)| roles) {
                direct(r, Via::Department(d));
            }
            at = self.department(d).parent;
        }
        for g in &subject.groups {
            for &r in self.group_roles.get(g).into_iter().flatten() {
                direct(r, Via::Group(g));
            }
        }
    }
}

/// How a role is held, by position (what sessions resolve without allocating).
#[derive(Clone, Copy)]
pub(crate) enum Via<'s> {
    Subject,
    User,
    Department(u32),
    Group(&'s str),
    Inherited(u32),
}

/// How a subject holds a role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum RoleVia {
    /// The app (or the directory) gives it with the subject.
    Subject,
    /// `assignments.users[id].roles`.
    User,
    /// `assignments.departments[d]`, for the subject's department or one above it.
    Department(String),
    /// `assignments.groups[g]`.
    Group(String),
    /// Inherited from the named role.
    Inherited(String),
}

/// One role a subject holds, and how.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleSource {
    /// The role.
    pub role: String,
    /// How it is held.
    pub via: RoleVia,
}

//! How a subject comes to hold roles: given with the subject, assigned by id, through their
//! department (and every department above it) or a group, or inherited. Sessions are built
//! from this, and the admin tools that say why someone has a role read the same resolution.

use crate::core::policy::Policy;
use crate::core::subject::Subject;
use crate::core::window::{At, RoleEntry, Window};
use crate::prelude::*;

impl Policy {
    /// Every way `subject` holds a role at `now`, in the order sessions resolve them: a role may be
    /// reached several ways, each reported. What sessions are built from, so the admin tools
    /// that say why someone has a role (who-can, review, the person page) cannot disagree.
    pub fn role_sources(&self, subject: &Subject, at: At) -> Vec<RoleSource> {
        let mut out = Vec::new();
        self.resolve_roles(subject, at, |r, via, until| {
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
                until: until.map(crate::core::time::format_rfc3339),
            });
        });
        out
    }

    /// Calls `found` for each (role, how it is held) at `at` (an assignment dated
    /// outside it does not hold; with no time, no dated one does); a role's ancestors follow it.
    pub(crate) fn resolve_roles<'s>(
        &self,
        subject: &'s Subject,
        at: At,
        mut found: impl FnMut(u32, Via<'s>, Option<i64>),
    ) {
        // A partner (someone with an `org`) holds external roles only: an internal role
        // reaching them, by any way, is ignored with all it would bring, and an external one
        // brings only the external roles it inherits (lint's `internal_role_to_partner` says
        // where an internal one comes from).
        let partner = subject.org.is_some();
        let holds = |r: u32| !partner || self.role(r).external;
        // `until`: the end of the dated entry that gives the role (and what it inherits).
        let mut direct = |r: u32, via: Via<'s>, until: Option<i64>| {
            if !holds(r) {
                return;
            }
            found(r, via, until);
            for &a in self.role(r).ancestors.iter().filter(|&&a| holds(a)) {
                found(a, Via::Inherited(r), until);
            }
        };
        for name in &subject.roles {
            if let Some(r) = self.role_pos(name) {
                direct(r, Via::Subject, None);
            }
        }
        self.role_entries(subject, |e, via| {
            if let Some(r) = e.at(at) {
                direct(r, via, e.window.and_then(|w| w.until));
            }
        });
    }

    /// Calls `f` for each role entry of an assignment reaching `subject`: their own, their
    /// department's and every department's above it, their groups'.
    fn role_entries<'s>(&self, subject: &'s Subject, mut f: impl FnMut(&RoleEntry, Via<'s>)) {
        if let Some(a) = self.users.get(&subject.id) {
            for e in &a.roles {
                f(e, Via::User);
            }
        }
        let mut dept = subject
            .department
            .as_deref()
            .and_then(|d| self.department_pos(d));
        while let Some(d) = dept {
            let held = self.department_roles.iter().find(|(x, _)| *x == d);
            for e in held.into_iter().flat_map(|(_, roles)| roles) {
                f(e, Via::Department(d));
            }
            dept = self.department(d).parent;
        }
        for g in &subject.groups {
            for e in self.group_roles.get(g).into_iter().flatten() {
                f(e, Via::Group(g));
            }
        }
    }

    /// Calls `f` with the window of every dated entry reaching `subject`: role entries, and
    /// their personal grants, denies and limits.
    pub(crate) fn windows(&self, subject: &Subject, mut f: impl FnMut(&Window)) {
        self.role_entries(subject, |e, _| {
            if let Some(w) = &e.window {
                f(w);
            }
        });
        if let Some(a) = self.users.get(&subject.id) {
            let grants = a
                .grants
                .iter()
                .filter_map(|&g| self.grant(g).window.as_ref());
            let rules = a.rules.iter().filter_map(|&r| self.rule(r).window.as_ref());
            grants.chain(rules).for_each(f);
        }
    }

    /// The first moment after `now` at which some dated entry reaching `subject` starts or
    /// stops existing: a session made at `now` answers the same until then.
    pub fn next_change(&self, subject: &Subject, now: i64) -> Option<i64> {
        let mut next: Option<i64> = None;
        self.windows(subject, |w| {
            let bounds = [w.from, w.until.map(|u| u.saturating_add(1))];
            for b in bounds.into_iter().flatten().filter(|&b| b > now) {
                next = Some(next.map_or(b, |n| n.min(b)));
            }
        });
        next
    }

    /// The earliest `until` not yet passed at `now` among the dated entries reaching
    /// `subject`: a bundle made for them expires no later (a cached bundle never outlives the
    /// access it carries).
    pub fn earliest_until(&self, subject: &Subject, now: i64) -> Option<i64> {
        let mut first: Option<i64> = None;
        self.windows(subject, |w| {
            if let Some(u) = w.until.filter(|&u| u >= now) {
                first = Some(first.map_or(u, |f| f.min(u)));
            }
        });
        first
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
    /// The last moment it is held this way (RFC 3339), when given by a dated entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

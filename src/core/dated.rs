//! The dated entries of a policy, listed with their paths for the tools that show and warn
//! about dates (lint's `expired` and `expires_soon`, the console's "ending this month").

use crate::core::path::JsonPath;
use crate::core::policy::{Effect, Policy};
use crate::core::window::{RoleEntry, Window};
use crate::prelude::*;

/// A dated entry of a policy, for the tools that list and warn about dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedEntry {
    /// Its JSON path, e.g. `assignments.users.u-bob.roles[1]` or `…grants[0]`.
    pub path: String,
    /// `role`, `grant`, `deny` or `limit`.
    pub kind: &'static str,
    /// Who it is for: the user id, department or group (`holder_kind`).
    pub holder: String,
    /// `user`, `department` or `group`.
    pub holder_kind: &'static str,
    /// For a role entry, the role.
    pub role: Option<String>,
    /// Its dates.
    pub window: Window,
}

impl Policy {
    /// Every dated entry: people's, departments' and groups' role entries, then people's
    /// grants, denies and limits.
    pub fn dated_entries(&self) -> Vec<DatedEntry> {
        let mut out = Vec::new();
        let root = JsonPath::ROOT;
        let assignments = root.key("assignments");
        let mut roles = |list: &[RoleEntry], at: &JsonPath<'_>, holder: (&'static str, &str)| {
            for (i, e) in list.iter().enumerate() {
                if let Some(w) = e.window {
                    out.push(DatedEntry {
                        path: at.index(i).render(),
                        kind: "role",
                        holder: holder.1.to_string(),
                        holder_kind: holder.0,
                        role: Some(self.role(e.role).name.clone()),
                        window: w,
                    });
                }
            }
        };
        let users = assignments.key("users");
        let mut personal = Vec::new();
        for (id, a) in self.users.names().zip(self.users.values()) {
            let at = users.key(id);
            roles(&a.roles, &at.key("roles"), ("user", id));
            for &g in &a.grants {
                let grant = self.grant(g);
                if let Some(w) = grant.window {
                    personal.push((grant.path(self), "grant", id, w));
                }
            }
            for &r in &a.rules {
                let rule = self.rule(r);
                if let Some(w) = rule.window {
                    let kind = match rule.effect {
                        Effect::Deny => "deny",
                        Effect::Limit => "limit",
                    };
                    personal.push((rule.id.clone(), kind, id, w));
                }
            }
        }
        let departments = assignments.key("departments");
        for (d, list) in &self.department_roles {
            let name = self.department(*d).name.as_str();
            roles(list, &departments.key(name), ("department", name));
        }
        let groups = assignments.key("groups");
        for (g, list) in self.group_roles.names().zip(self.group_roles.values()) {
            roles(list, &groups.key(g), ("group", g));
        }
        out.extend(
            personal
                .into_iter()
                .map(|(path, kind, id, window)| DatedEntry {
                    path,
                    kind,
                    holder: id.to_string(),
                    holder_kind: "user",
                    role: None,
                    window,
                }),
        );
        out
    }
}

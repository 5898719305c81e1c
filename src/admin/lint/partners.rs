//! Partners (people of an outside organisation: the directory's `org`) hold external roles
//! only. An internal role reaching one of them is ignored by the engine; this says where it
//! comes from, so the admin removes it instead of wondering (`internal_role_to_partner`).

use super::Warning;
use crate::admin::codes::LintCode;
use crate::admin::directory::Directory;
use crate::core::{At, Policy, RoleVia};

pub(super) fn partners(p: &Policy, d: &Directory, out: &mut Vec<Warning>) {
    for person in d.people().iter().filter(|x| x.org.is_some()) {
        let org = person.org.as_deref().unwrap_or_default();
        // The roles that would reach them as staff, at any time: those not external are the
        // ones the engine ignores.
        let mut staff = person.subject();
        staff.org = None;
        for s in p.role_sources(&staff, At::Ever) {
            if p.role_is_external(&s.role) {
                continue;
            }
            let (path, how) = match &s.via {
                RoleVia::User => (
                    format!("assignments.users.{}.roles", person.id),
                    "assigned to them".to_string(),
                ),
                RoleVia::Department(dept) => (
                    format!("assignments.departments.{dept}"),
                    format!("through department `{dept}`"),
                ),
                RoleVia::Group(g) => (
                    format!("assignments.groups.{g}"),
                    format!("through group `{g}`"),
                ),
                RoleVia::Subject => (
                    format!("roles.{}", s.role),
                    "from the directory or identity provider".to_string(),
                ),
                RoleVia::Inherited(from) => (
                    format!("roles.{from}.inherits"),
                    format!("inherited from `{from}`"),
                ),
            };
            let msg = format!(
                "internal role `{}` reaches `{}` of partner organisation `{org}` ({how}): partners hold external roles only, so it is ignored",
                s.role, person.id
            );
            let w = Warning {
                path,
                code: LintCode::InternalRoleToPartner.as_str(),
                message: msg,
            };
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
}

//! The stand-in people the admin tools ask about when no real person fits: someone holding
//! just one role, or someone in a department or group with no roles of their own.
//!
//! Their ids and the role stand-in's department start with a NUL character, which no real id
//! or department name holds, so an `own` or department scope on a record written for them
//! matches them alone.

use crate::core::{Policy, Subject};

/// The department a role stand-in is in: one no department assignment names, so their
/// department-scoped grants show without any role a department would add.
const ROLE_DEPARTMENT: &str = "\u{0}department";

/// The outside organisation an external role's stand-in belongs to: one no record names, so
/// its `org` scopes show as "their organisation's records".
const ROLE_ORG: &str = "\u{0}org";

/// Someone who holds just `role` of `p` (and what it inherits): for an external role, a partner
/// (with an organisation), since only partners hold it as it is meant to be held.
pub fn role(p: &Policy, name: &str) -> Subject {
    Subject {
        roles: vec![name.to_string()],
        department: Some(ROLE_DEPARTMENT.into()),
        org: p.role_is_external(name).then(|| ROLE_ORG.to_string()),
        ..Subject::new(format!("\u{0}role:{name}"))
    }
}

/// Someone in `department` with no roles of their own.
pub fn department_member(department: &str) -> Subject {
    Subject {
        department: Some(department.to_string()),
        ..Subject::new(format!("\u{0}department:{department}"))
    }
}

/// Someone in `group` with no roles of their own.
pub fn group_member(group: &str) -> Subject {
    Subject {
        groups: vec![group.to_string()],
        ..Subject::new(format!("\u{0}group:{group}"))
    }
}

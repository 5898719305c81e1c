//! The stand-in people the admin tools ask about when no real person fits: someone holding
//! just one role, or someone in a department or group with no roles of their own.
//!
//! Their ids and the role stand-in's department start with a NUL character, which no real id
//! or department name holds, so an `own` or department scope on a record written for them
//! matches them alone.

use crate::core::Subject;

/// The department a role stand-in is in: one no department assignment names, so their
/// department-scoped grants show without any role a department would add.
const ROLE_DEPARTMENT: &str = "\u{0}department";

/// Someone who holds just `role` (and what it inherits).
pub fn role(name: &str) -> Subject {
    Subject {
        roles: vec![name.to_string()],
        department: Some(ROLE_DEPARTMENT.into()),
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

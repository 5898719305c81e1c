//! Dated access: the window (`from`, `until`) in which a personal grant, deny or limit, or a
//! role given to a person, department or group exists. Outside it the entry does not exist.
//! The core reads no clock: the time comes with the session.

use serde::{Deserialize, Serialize};

/// When an entry exists, in Unix milliseconds; both bounds are inclusive and either may be
/// open. A window is only ever attached to an entry that names at least one bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Window {
    /// The first moment the entry exists (`from`).
    pub from: Option<i64>,
    /// The last moment the entry exists (`until`).
    pub until: Option<i64>,
}

/// The time a question is asked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// No time given: a dated entry does not exist (an unknown clock never extends access).
    Unknown,
    /// Unix milliseconds.
    Time(i64),
    /// Any time: every dated entry counts (what a person's bundle must carry, its windows
    /// decided on the device).
    Ever,
}

impl Window {
    /// Whether the entry exists at `at`.
    pub fn open_at(&self, at: At) -> bool {
        match at {
            At::Unknown => false,
            At::Ever => true,
            At::Time(now) => {
                self.from.is_none_or(|f| now >= f) && self.until.is_none_or(|u| now <= u)
            }
        }
    }
}

/// Whether an entry with this (optional) window exists at `at`.
pub(crate) fn exists(window: Option<&Window>, at: At) -> bool {
    window.is_none_or(|w| w.open_at(at))
}

/// A role held through an assignment (a person's, a department's or a group's), perhaps only
/// for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RoleEntry {
    /// The role's position.
    pub role: u32,
    /// When the assignment holds (`None`: always).
    pub window: Option<Window>,
}

impl RoleEntry {
    /// The role, when the assignment holds at `at`.
    pub fn at(&self, at: At) -> Option<u32> {
        exists(self.window.as_ref(), at).then_some(self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_an_unknown_clock_closes_a_dated_entry() {
        let w = Window {
            from: Some(100),
            until: Some(200),
        };
        assert!(!w.open_at(At::Time(99)));
        assert!(w.open_at(At::Time(100)));
        assert!(w.open_at(At::Time(200)));
        assert!(!w.open_at(At::Time(201)));
        assert!(!w.open_at(At::Unknown));
        assert!(w.open_at(At::Ever));
        let open_end = Window {
            from: None,
            until: Some(5),
        };
        assert!(open_end.open_at(At::Time(i64::MIN)) && !open_end.open_at(At::Time(6)));
        assert!(exists(None, At::Unknown), "an undated entry always exists");
    }
}

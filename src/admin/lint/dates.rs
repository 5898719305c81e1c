//! Dated access that has ended (`expired`) or ends soon (`expires_soon`): entries the admin
//! should remove, renew or hand over.

use super::{warn, Warning};
use crate::admin::codes::LintCode;
use crate::core::time::format_rfc3339;
use crate::core::Policy;

/// When the lint looks, and how far ahead `expires_soon` looks.
#[derive(Debug, Clone, Copy)]
pub struct Horizon {
    /// Now (Unix ms).
    pub now: i64,
    /// How far ahead an end counts as soon (ms; 14 days by default).
    pub within_ms: i64,
}

impl Horizon {
    /// Two weeks: what `expires_soon` looks ahead by default.
    pub const DEFAULT_WITHIN_MS: i64 = 14 * 86_400_000;

    /// From `now`, looking two weeks ahead.
    pub fn at(now: i64) -> Horizon {
        Horizon {
            now,
            within_ms: Horizon::DEFAULT_WITHIN_MS,
        }
    }
}

pub(super) fn dates(p: &Policy, h: Horizon, out: &mut Vec<Warning>) {
    for e in p.dated_entries() {
        let Some(until) = e.window.until else {
            continue;
        };
        let what = match &e.role {
            Some(role) => format!("role `{role}` of {} `{}`", e.holder_kind, e.holder),
            None => format!("the {} of {} `{}`", e.kind, e.holder_kind, e.holder),
        };
        let end = format_rfc3339(until);
        if until < h.now {
            let msg = format!("{what} ended at {end}: remove it, or renew it with a new `until`");
            warn(out, e.path, LintCode::Expired, msg);
        } else if until - h.now <= h.within_ms {
            let msg = format!("{what} ends at {end}: renew it or hand it over in time");
            warn(out, e.path, LintCode::ExpiresSoon, msg);
        }
    }
}

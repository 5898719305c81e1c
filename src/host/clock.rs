//! The clock: the one place the shells read the time.

use std::time::{Duration, Instant};

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The monotonic clock, for intervals (cache ages, rate windows, lingering): never the time of
/// day.
pub fn instant() -> Instant {
    Instant::now()
}

/// A point in time after which long work gives up (the pure layers take it as a plain
/// "has it passed?" function, so they never read the clock themselves).
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// `limit` from now.
    pub fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(limit))
    }

    /// A deadline that never passes.
    pub fn never() -> Deadline {
        Deadline(None)
    }

    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }
}

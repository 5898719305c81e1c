//! Limits on what one caller can take: open connections and event streams per client address
//! and in total, and decision events per user over time. Every limit and its default is in
//! `docs/security.md` and `fieldgate serve --help`.

use crate::host::sync::Unpoisoned;
use crate::server::error::{ApiError, ServerCode};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The client address of a request (put there by the accept loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// Counts what is open per client address and in total, under caps.
#[derive(Debug, Default)]
pub struct Counter {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One open thing, counted until dropped.
pub struct Slot {
    counter: Arc<Counter>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.counter.open.locked();
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Which cap a caller hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The caller's own.
    Client,
    /// Everyone's together.
    Total,
}

impl Counter {
    /// Counts one more for `ip`, unless a cap is reached.
    ///
    /// # Errors
    /// Which cap is reached.
    pub fn take(
        self: &Arc<Self>,
        ip: IpAddr,
        per_client: usize,
        total: usize,
    ) -> Result<Slot, Full> {
        let mut open = self.open.locked();
        if open.0 >= total {
            return Err(Full::Total);
        }
        let mine = open.1.entry(ip).or_insert(0);
        if *mine >= per_client {
            return Err(Full::Client);
        }
        *mine += 1;
        open.0 += 1;
        Ok(Slot {
            counter: self.clone(),
            ip,
        })
    }

    /// How many are open in total.
    pub fn total(&self) -> usize {
        self.open.locked().0
    }
}

/// Event streams open: a [`Counter`] with the server's stream caps.
pub type StreamCounter = Arc<Counter>;

/// The answer to a caller over a cap: 429 for their own, 503 for everyone's.
pub fn refusal(full: Full, what: &str) -> ApiError {
    match full {
        Full::Client => {
            ApiError::rate_limited(format!("too many {what} open from this address"), 5)
        }
        Full::Total => ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                ServerCode::Overloaded,
                format!("the server has too many {what} open"),
            )
        },
    }
}

/// A token bucket per key: `rate` tokens a minute, at most `burst` saved up.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter of `per_minute` tokens a minute, saving up to `burst`.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `n` tokens for `key`, or says how many seconds until there are enough.
    ///
    /// # Errors
    /// The seconds to wait.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the wait is at most a minute's worth of seconds; `as` saturates anything else"
    )]
    pub fn take(&self, key: &str, n: usize) -> Result<(), u64> {
        let n = n as f64;
        let mut buckets = self.buckets.locked();
        if buckets.len() > 100_000 {
            // Forget full buckets: they hold nothing a fresh one would not.
            let (rate, burst) = (self.per_minute, self.burst);
            buckets.retain(|_, (t, at)| *t + at.elapsed().as_secs_f64() * rate / 60.0 < burst);
        }
        let now = crate::host::clock::instant();
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_minute / 60.0)
            .min(self.burst);
        *at = now;
        if *tokens >= n {
            *tokens -= n;
            Ok(())
        } else if n > self.burst {
            Err(60)
        } else {
            let missing = n - *tokens;
            Err((missing * 60.0 / self.per_minute.max(1.0)).ceil() as u64)
        }
    }
}

/// Descriptors kept for what is not a client connection: the store, its pool, log and bundle
/// files, the listener.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft open-file limit to the hard one, and fits `max_connections` below what it
/// then allows (less [`RESERVED_DESCRIPTORS`]): past the limit `accept` fails and clients hang
/// instead of getting the cap's 503. The cap to use, and a note when it had to be lowered.
pub fn fit_descriptors(max_connections: usize) -> (usize, Option<String>) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (limit.current, limit.maximum) {
        if soft < hard {
            limit.current = Some(hard);
            // Not allowed (a container's policy): the soft limit stays, and the cap fits it.
            let _ = setrlimit(Resource::Nofile, limit);
        }
    }
    let Some(soft) = getrlimit(Resource::Nofile).current else {
        return (max_connections, None);
    };
    let wanted = u64::try_from(max_connections).unwrap_or(u64::MAX);
    if soft >= wanted.saturating_add(RESERVED_DESCRIPTORS) {
        return (max_connections, None);
    }
    let fit = usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS).max(16)).unwrap_or(16);
    let note = format!(
        "note: the open-file limit is {soft}: --max-connections lowered from {max_connections} \
         to {fit} (raise the limit, e.g. LimitNOFILE= or ulimit -n, to allow more)"
    );
    (fit, Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_cap_per_client_and_in_total_and_free_on_drop() {
        let c = Arc::new(Counter::default());
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let one = c.take(a, 2, 3).unwrap();
        let _two = c.take(a, 2, 3).unwrap();
        assert_eq!(c.take(a, 2, 3).err(), Some(Full::Client));
        let _three = c.take(b, 2, 3).unwrap();
        assert_eq!(c.take(b, 2, 3).err(), Some(Full::Total));
        drop(one);
        assert!(c.take(b, 2, 3).is_ok());
    }

    #[test]
    fn rate_limits_say_how_long_to_wait() {
        let r = RateLimiter::new(60, 10);
        assert!(r.take("u", 10).is_ok());
        let wait = r.take("u", 5).unwrap_err();
        assert!((4..=6).contains(&wait), "{wait}");
        assert!(r.take("v", 3).is_ok(), "per key");
        assert_eq!(
            r.take("w", 11).unwrap_err(),
            60,
            "more than a burst never fits"
        );
    }
}

//! Decision events clients report, judged link by link against their chains.

use super::*;
use std::collections::{BTreeMap, HashSet};

/// One reported decision event: its JSON text and, when it is chained, its links.
pub struct Reported {
    /// The event as stored.
    pub event: String,
    /// Its place in a chain, if it carries one.
    pub chain: Option<ChainLink>,
}

/// Where a chained event says it sits.
pub struct ChainLink {
    /// The chain's id (one per client log).
    pub chain: String,
    /// The hash of the event before it (`None` for a chain's first).
    pub prev: Option<String>,
    /// Its own hash, as sent.
    pub hash: String,
    /// Whether `hash` is the hash of the event as received.
    pub intact: bool,
}

/// An event's verdict in its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// It follows the chain's last event seen.
    Ok,
    /// Events between the last one seen and this one are missing.
    Gap,
    /// It is not what was hashed: changed after it was logged.
    Edited,
    /// It carries no chain.
    Unchained,
}

impl Link {
    /// The verdict on a chained event that is not stored yet, given its chain's last event
    /// seen (`head`). The same for every store.
    pub fn of(l: &ChainLink, head: Option<&str>) -> Link {
        if !l.intact {
            Link::Edited
        } else if l.prev.as_deref() != head {
            Link::Gap
        } else {
            Link::Ok
        }
    }

    /// Its stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Ok => "ok",
            Link::Gap => "gap",
            Link::Edited => "edited",
            Link::Unchained => "unchained",
        }
    }
}

/// What storing a batch of events did.
#[derive(Default)]
pub struct Outcome {
    /// Events stored.
    pub accepted: usize,
    /// Events skipped as already stored.
    pub duplicates: usize,
    /// Each event's verdict, `None` for a duplicate.
    pub links: Vec<Option<Link>>,
}

/// Decision events clients report.
pub trait DecisionStore {
    /// Stores decision events reported by `user`, judging each chained one against its
    /// chain's last event seen. An event already stored is skipped.
    fn add_decisions(&self, user: &str, now_ms: i64, events: &[Reported]) -> StoreResult<Outcome>;
    /// How many events `user` has stored.
    fn decision_count(&self, user: &str) -> StoreResult<u64>;
    /// The latest `limit` decision events, newest first.
    fn decisions(&self, limit: u32) -> StoreResult<Vec<Value>>;
    /// Deletes decision events received before `before` (ms), and takes them off their
    /// reporters' totals; the chains' heads stay, so a chain goes on without a false gap.
    fn prune_decisions(&self, before: i64) -> StoreResult<u64>;
}

/// What judging a batch needs from the store, read before it: which of the batch's events
/// are stored already, and the head of each chain the batch continues.
#[derive(Debug, Default)]
pub struct Stored {
    /// Chained events stored, as `(chain, hash)`.
    pub chained: HashSet<(String, String)>,
    /// Unchained events stored, by their text.
    pub plain: HashSet<String>,
    /// The last event seen of each chain.
    pub heads: BTreeMap<String, String>,
}

/// A batch judged: what to store and where each chain now ends.
pub struct Judged<'a> {
    /// Each event's verdict.
    pub outcome: Outcome,
    /// The events to store, with their links, in order.
    pub new: Vec<(&'a Reported, Link)>,
    /// The chains the batch moved, with their new heads.
    pub heads: BTreeMap<String, String>,
}

/// Judges a batch of `events` in order against what is `stored`: an event stored already (or
/// earlier in the batch) is a duplicate; a chained one is judged against its chain's head,
/// which then moves to it, even past an edited event (its successor still names its hash).
/// Both backends store what this returns, so they agree on every verdict.
#[must_use]
pub fn judge(events: &[Reported], mut stored: Stored) -> Judged<'_> {
    let mut outcome = Outcome::default();
    let (mut new, mut heads) = (Vec::new(), BTreeMap::new());
    for e in events {
        let link = match &e.chain {
            None => stored
                .plain
                .insert(e.event.clone())
                .then_some(Link::Unchained),
            Some(l) => stored
                .chained
                .insert((l.chain.clone(), l.hash.clone()))
                .then(|| {
                    let head = stored.heads.insert(l.chain.clone(), l.hash.clone());
                    heads.insert(l.chain.clone(), l.hash.clone());
                    Link::of(l, head.as_deref())
                }),
        };
        match link {
            Some(link) => {
                new.push((e, link));
                outcome.accepted += 1;
            }
            None => outcome.duplicates += 1,
        }
        outcome.links.push(link);
    }
    Judged {
        outcome,
        new,
        heads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(chain: &str, prev: Option<&str>, hash: &str, intact: bool) -> Reported {
        Reported {
            event: format!("{chain}/{hash}"),
            chain: Some(ChainLink {
                chain: chain.into(),
                prev: prev.map(Into::into),
                hash: hash.into(),
                intact,
            }),
        }
    }

    #[test]
    fn a_batch_is_judged_in_order_against_what_is_stored_and_itself() {
        let plain = || Reported {
            event: "{}".into(),
            chain: None,
        };
        let events = [
            link("c", Some("h1"), "h2", true),  // continues the stored head
            link("c", Some("h2"), "h3", false), // edited
            link("c", Some("h9"), "h4", true),  // a gap: h3 was the head
            link("c", Some("h1"), "h2", true),  // sent twice in the batch
            link("c", None, "h1", true),        // stored before
            plain(),
            plain(),
        ];
        let stored = Stored {
            chained: [("c".to_string(), "h1".to_string())].into(),
            plain: HashSet::new(),
            heads: [("c".to_string(), "h1".to_string())].into(),
        };
        let j = judge(&events, stored);
        assert_eq!(
            j.outcome.links,
            [
                Some(Link::Ok),
                Some(Link::Edited),
                Some(Link::Gap),
                None,
                None,
                Some(Link::Unchained),
                None
            ]
        );
        assert_eq!((j.outcome.accepted, j.outcome.duplicates), (4, 3));
        assert_eq!(j.new.len(), 4);
        assert_eq!(j.heads, [("c".to_string(), "h4".to_string())].into());
    }
}

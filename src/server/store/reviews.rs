//! Access review campaigns, their lines and decisions.

use super::*;

/// The decisions that count as revoking a review line (the words the console and the review
/// workbooks use, in English and Chinese), as an SQL list.
pub const REVOKED: &str = "('revoke', 'remove', '撤销', '收回', '移除')";

/// A campaign's closing: what it did and the draft its revocations made, written in one
/// transaction with the lines they were made from.
pub struct ReviewClose {
    /// The admin closing it (whose draft it writes).
    pub by: String,
    /// When, Unix milliseconds.
    pub at: i64,
    /// What closing it did.
    pub outcome: Value,
    /// The draft.
    pub draft: NewDraft,
    /// The revision of the admin's draft it may replace (0: only when they have none).
    pub expected: u64,
}

/// Why a campaign was not closed; nothing was written.
#[derive(Debug)]
pub enum CloseError {
    /// Missing, closed already, or the store failed.
    Refused(DecideError),
    /// The admin's draft is not at the expected revision (the revision it is at).
    Stale {
        /// The revision now stored (0: none).
        revision: u64,
    },
}

impl From<DraftError> for CloseError {
    fn from(e: DraftError) -> CloseError {
        match e {
            DraftError::Stale { revision } => CloseError::Stale { revision },
            DraftError::Store(e) => CloseError::Refused(DecideError::Store(e)),
        }
    }
}

/// An access review campaign to open: its scope, the version and the lines to review, each
/// with its reviewer.
pub struct NewReview {
    /// The app.
    pub app: String,
    /// What it covers and who reviews (as the request gave it).
    pub scope: Value,
    /// The current version it was taken from.
    pub version: u64,
    /// Who opened it.
    pub by: String,
    /// When, Unix milliseconds.
    pub at: i64,
    /// `(reviewer, line)`.
    pub lines: Vec<(String, Value)>,
}

/// A campaign, with its counts.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// Its id.
    pub id: i64,
    /// The app.
    pub app: String,
    /// What it covers and who reviews.
    pub scope: Value,
    /// The version its snapshot was taken from.
    pub version: u64,
    /// Who opened it, and when.
    pub opened_by: String,
    /// Unix milliseconds.
    pub opened_at: i64,
    /// Who closed it, and when (open until then).
    pub closed_by: Option<String>,
    /// Unix milliseconds.
    pub closed_at: Option<i64>,
    /// What closing it did (the draft made, the totals).
    pub outcome: Option<Value>,
    /// Lines in all.
    pub lines: u64,
    /// Lines with a decision.
    pub decided: u64,
    /// Lines to revoke.
    pub revoked: u64,
}

/// One line of a campaign.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewLine {
    /// Its number in the campaign (from 1).
    pub n: i64,
    /// Who reviews it.
    pub reviewer: String,
    /// The review line (person, resource, item, access, source, ...).
    pub line: Value,
    /// `keep`, `revoke` or empty.
    pub decision: String,
    /// The reviewer's note.
    pub note: String,
    /// Who decided, and when.
    pub decided_by: Option<String>,
    /// Unix milliseconds.
    pub decided_at: Option<i64>,
}

/// Decisions on lines of one campaign.
pub struct Decisions {
    /// `(line number, decision, note)`.
    pub lines: Vec<(i64, String, String)>,
    /// With `Some`, only lines this reviewer reviews may be decided.
    pub reviewer: Option<String>,
    /// Who decides.
    pub by: String,
    /// When, Unix milliseconds.
    pub at: i64,
}

/// Why decisions or a closing were refused.
#[derive(Debug)]
pub enum DecideError {
    /// No such campaign.
    Missing,
    /// It is closed.
    Closed,
    /// No such line.
    NoLine(i64),
    /// The line is someone else's to review.
    NotYours(i64),
    /// The store failed.
    Store(StoreError),
}

/// Access review campaigns.
pub trait ReviewStore {
    /// Opens a campaign with its lines; its id.
    fn open_review(&self, r: &NewReview) -> StoreResult<i64>;
    /// The campaigns of `app`, newest first.
    fn reviews(&self, app: &str) -> StoreResult<Vec<Review>>;
    /// One campaign with its lines.
    fn review(&self, app: &str, id: i64) -> StoreResult<Option<(Review, Vec<ReviewLine>)>>;
    /// The open campaigns with lines for `reviewer`, with only those lines.
    fn lines_for(&self, reviewer: &str) -> StoreResult<Vec<(Review, Vec<ReviewLine>)>>;
    /// Records decisions, all or none; how many.
    fn decide(&self, app: &str, id: i64, d: &Decisions) -> Result<usize, DecideError>;
    /// Closes a campaign: `make` turns its lines, read and held in the closing's transaction
    /// (no decision lands meanwhile), into the closing, which is written with the admin's
    /// draft, together or not at all. The draft's new revision, or `None` when `make`
    /// declined (nothing is written).
    fn close_review(
        &self,
        app: &str,
        id: i64,
        make: &mut dyn FnMut(&[ReviewLine]) -> Option<ReviewClose>,
    ) -> Result<Option<u64>, CloseError>;
}

/// Whether a campaign takes decisions (and may close), from its stored `closed_at`: `None`
/// when there is no such campaign.
///
/// # Errors
/// `Missing` or `Closed`.
pub fn campaign_open(closed_at: Option<Option<i64>>) -> Result<(), DecideError> {
    match closed_at {
        None => Err(DecideError::Missing),
        Some(Some(_)) => Err(DecideError::Closed),
        Some(None) => Ok(()),
    }
}

/// Whether `d` may decide line `n`, whose stored reviewer is `reviewer` (`None`: no such line).
///
/// # Errors
/// `NoLine`, or `NotYours` when `d` is limited to one reviewer's lines and this is another's.
pub fn may_decide(d: &Decisions, n: i64, reviewer: Option<&str>) -> Result<(), DecideError> {
    match reviewer {
        None => Err(DecideError::NoLine(n)),
        Some(r) if d.reviewer.as_deref().is_some_and(|me| me != r) => Err(DecideError::NotYours(n)),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_campaigns_take_decisions_and_only_on_the_reviewers_own_lines() {
        assert!(matches!(campaign_open(None), Err(DecideError::Missing)));
        assert!(matches!(
            campaign_open(Some(Some(1))),
            Err(DecideError::Closed)
        ));
        assert!(campaign_open(Some(None)).is_ok());
        let mut d = Decisions {
            lines: Vec::new(),
            reviewer: Some("u-carol".into()),
            by: "u-carol".into(),
            at: 0,
        };
        assert!(matches!(
            may_decide(&d, 3, None),
            Err(DecideError::NoLine(3))
        ));
        assert!(matches!(
            may_decide(&d, 3, Some("u-dan")),
            Err(DecideError::NotYours(3))
        ));
        assert!(may_decide(&d, 3, Some("u-carol")).is_ok());
        d.reviewer = None;
        assert!(may_decide(&d, 3, Some("u-dan")).is_ok());
    }
}

//! Admins' drafts of a policy, one per app and admin, saved with a revision check.

use super::*;

/// An admin's draft of an app's policy, kept between visits and shared by their tabs.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The policy document (JSON text).
    pub document: String,
    /// The version it was made from.
    pub base: Option<u64>,
    /// Its revision: every save adds one.
    pub revision: u64,
    /// When it was last saved, Unix milliseconds.
    pub updated_at: i64,
    /// The directory it will publish (JSON people list), when it changes the directory.
    pub directory: Option<String>,
}

/// A draft to save.
pub struct NewDraft {
    /// The policy document (JSON text).
    pub document: String,
    /// The version it was made from.
    pub base: Option<u64>,
    /// When, Unix milliseconds.
    pub at: i64,
    /// The directory to publish with it (JSON people list); `None` keeps the stored one.
    pub directory: Option<String>,
}

/// Why a draft was not saved.
#[derive(Debug)]
pub enum DraftError {
    /// Another save came first (another tab): its revision.
    Stale {
        /// The revision now stored.
        revision: u64,
    },
    /// The store failed.
    Store(StoreError),
}

/// The revision a draft's next save gets, or why it may not be saved: `stored` is the row's
/// revision and whether it still holds a draft (a forgotten draft keeps its number, so
/// revisions never repeat for an admin and app, and a stale tab's `If-Match` never matches a
/// later draft); `expected` is the revision the writer read (0: no draft), when it says.
///
/// # Errors
/// `Stale` with the revision the writer would overwrite (0: none).
pub fn next_draft_revision(
    stored: Option<(u64, bool)>,
    expected: Option<u64>,
) -> Result<u64, DraftError> {
    let (last, live) = stored.unwrap_or((0, false));
    let visible = if live { last } else { 0 };
    match expected {
        Some(want) if want != visible => Err(DraftError::Stale { revision: visible }),
        _ => Ok(last + 1),
    }
}

/// Admins' drafts.
pub trait DraftStore {
    /// An admin's draft of `app`.
    fn draft(&self, app: &str, admin: &str) -> StoreResult<Option<Draft>>;
    /// Saves it (if its revision is still `expected`, when given: 0 for none); the new
    /// revision (see [`next_draft_revision`]).
    fn put_draft(
        &self,
        app: &str,
        admin: &str,
        d: &NewDraft,
        expected: Option<u64>,
    ) -> Result<u64, DraftError>;
    /// Forgets it (its revision number is kept, never given again).
    fn delete_draft(&self, app: &str, admin: &str) -> StoreResult<()>;
}

//! The store: every published policy version (immutable), which one is current, the directory
//! of people per app, admin and service credentials, login sessions, decision events clients
//! report, and the sample data records.
//!
//! One interface, so each store keeps the same promises: publishing is one transaction that
//! checks the version it was based on; a published version never changes; an acknowledged
//! write is never lost. Calls block: handlers make them off the async threads.

mod postgres;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use serde::Serialize;
use serde_json::Value;

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The database cannot be reached (a 503: try again).
    Unavailable(String),
    /// The database refused or failed the operation.
    Failed(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(m) => write!(f, "the database cannot be reached: {m}"),
            StoreError::Failed(m) => write!(f, "the database failed: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// What store calls return.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// One file in the data directory: one instance.
    Sqlite,
    /// A PostgreSQL database any number of instances share.
    Postgres,
}

/// A change another instance made, announced through the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new version of an app was published.
    Published {
        /// The app.
        app: String,
        /// The version.
        version: u64,
    },
    /// An app's directory was replaced.
    Directory {
        /// The app.
        app: String,
    },
    /// An alert was raised (and stored); admin event streams on every instance show it.
    Alert {
        /// When it was raised.
        at: i64,
        /// Whose refusals.
        user: String,
        /// The store (instance) that raised it, which has shown it already.
        from: String,
    },
    /// Announcements may have been missed (the listener reconnected): look at everything.
    Resync,
}

impl Change {
    /// As announced: `{"published": app, "version": n}`, `{"directory": app}` or
    /// `{"alert": user, "at": ms, "from": store}` (what was announced is read from the store:
    /// an announcement is bounded in size).
    pub fn payload(&self) -> String {
        match self {
            Change::Published { app, version } => {
                serde_json::json!({"published": app, "version": version}).to_string()
            }
            Change::Directory { app } => serde_json::json!({"directory": app}).to_string(),
            Change::Alert { at, user, from } => {
                serde_json::json!({"alert": user, "at": at, "from": from}).to_string()
            }
            Change::Resync => "{}".into(),
        }
    }

    /// Reads an announcement (`None` for one this version does not know).
    pub fn from_payload(text: &str) -> Option<Change> {
        let v: Value = serde_json::from_str(text).ok()?;
        if let Some(app) = v.get("published").and_then(Value::as_str) {
            let version = v.get("version")?.as_u64()?;
            return Some(Change::Published {
                app: app.to_string(),
                version,
            });
        }
        if let Some(user) = v.get("alert").and_then(Value::as_str) {
            return Some(Change::Alert {
                at: v.get("at")?.as_i64()?,
                user: user.to_string(),
                from: v.get("from")?.as_str()?.to_string(),
            });
        }
        let app = v.get("directory")?.as_str()?;
        Some(Change::Directory {
            app: app.to_string(),
        })
    }
}

/// The decisions that count as revoking a review line (the words the console and the review
/// workbooks use, in English and Chinese), as an SQL list.
pub const REVOKED: &str = "('revoke', 'remove', '撤销', '收回', '移除')";

/// One published version.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// The app.
    pub app: String,
    /// The version number.
    pub version: u64,
    /// Who published it.
    pub published_by: String,
    /// When, Unix milliseconds.
    pub published_at: i64,
    /// The diff summary against the version before it.
    pub summary: Value,
    /// Records moved from a leaver to a successor with this version, if any:
    /// `{"from", "to", "records": {resource: [id, ...]}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reassigned: Option<Value>,
    /// What else to know, e.g. `rollback to 3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether this publication changed the directory (its people were in the draft).
    pub directory_changed: bool,
    /// The directory in force from this version on, by [`people_sha`] (none for versions
    /// published before directories were versioned, or with no directory).
    #[serde(skip)]
    pub directory: Option<String>,
    /// The policy document (JSON text), omitted from listings.
    #[serde(skip)]
    pub document: String,
    /// The signed JSON bundle made at publication.
    #[serde(skip)]
    pub bundle: String,
}

/// Records to move from one owner to another, in the publishing transaction.
#[derive(Debug, Clone)]
pub struct Reassign {
    /// The leaver.
    pub from: String,
    /// The successor.
    pub to: String,
    /// Per resource, its owner attribute (dotted).
    pub owners: Vec<(String, String)>,
    /// When given, only these records (per resource), e.g. to give back what a version moved.
    pub only: Option<Value>,
}

impl Reassign {
    /// Whether record `id` of `resource` is one this reassignment may move (`only` narrows).
    pub fn covers(&self, resource: &str, id: &str) -> bool {
        let Some(only) = &self.only else {
            return true;
        };
        only.get(resource)
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|v| v.as_str() == Some(id)))
    }

    /// The record's JSON text with its owner (`owner`, a dotted path) changed from `from` to
    /// `to`, or `None` when `from` does not own it. The same for every store.
    pub fn moved(&self, body: &str, owner: &str) -> Option<String> {
        let mut rec: Value = serde_json::from_str(body).ok()?;
        let mut path: Vec<&str> = owner.split('.').collect();
        let last = path.pop()?;
        let holder = path.iter().try_fold(&mut rec, |at, k| at.get_mut(*k))?;
        let obj = holder.as_object_mut()?;
        if obj.get(last).and_then(Value::as_str) != Some(self.from.as_str()) {
            return None;
        }
        obj.insert(last.to_string(), Value::from(self.to.clone()));
        Some(rec.to_string())
    }
}

/// What a publication stores.
pub struct NewVersion {
    /// Its number: the highest stored version plus one.
    pub version: u64,
    /// The policy document, already stamped with its version.
    pub document: String,
    /// The signed JSON bundle.
    pub bundle: String,
    /// The diff summary.
    pub summary: Value,
    /// Who publishes.
    pub by: String,
    /// When, Unix milliseconds.
    pub at: i64,
    /// Records to move with it.
    pub reassign: Option<Reassign>,
    /// What else to know, e.g. `rollback to 3`.
    pub note: Option<String>,
    /// The directory it brings into force (JSON people list), when it changes it.
    pub directory: Option<Value>,
    /// Its audit entry, stored in the same transaction (the store adds `version` and
    /// `reassigned` to its detail).
    pub audit: AuditEntry,
}

/// One entry of the admin audit log: who changed what, when, through which endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Its place in the log (0 before it is stored).
    pub id: i64,
    /// When, Unix milliseconds.
    pub at: i64,
    /// The admin's name (or `cli` for the command line on the data directory).
    pub actor: String,
    /// `publish`, `rollback`, `directory`, `export`, `credential`, …
    pub kind: String,
    /// The request, e.g. `POST /v1/apps/acme-erp/policy`.
    pub endpoint: String,
    /// The app it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// What changed (a diff summary, counts, the version made).
    pub detail: Value,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// From this time on (Unix milliseconds).
    pub since: i64,
    /// Only this admin's.
    pub actor: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this app's.
    pub app: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// One entry of the data access log: a user's read, change or refusal on records, from the
/// data API (`source: "server"`) or reported by a client (`"client"`).
#[derive(Debug, Clone, Serialize)]
pub struct AccessEntry {
    /// When, Unix milliseconds.
    pub at: i64,
    /// Who.
    pub user: String,
    /// `list`, `view`, `create`, `edit`, `export`, a transition (`approve`, …), or for a
    /// client-reported event its action.
    pub action: String,
    /// Which resource.
    pub resource: String,
    /// The records' ids (an export lists its first thousand).
    pub records: Vec<String>,
    /// How many records (more than `records` lists for a large export).
    pub count: u64,
    /// For reads: the sensitive fields (those with a mask) returned unmasked.
    pub unmasked: Vec<String>,
    /// `ok`, or the refusal's code (`forbidden`, `forbidden_fields`, …).
    pub outcome: String,
    /// For `forbidden_fields`: the fields refused.
    pub fields: Vec<String>,
    /// `server` (the data API) or `client` (reported by a page).
    pub source: String,
}

impl AccessEntry {
    /// Whether it records an attempt beyond the user's permission (what alerts count).
    pub fn refused(&self) -> bool {
        matches!(self.outcome.as_str(), "forbidden" | "forbidden_fields")
    }
}

/// Which access entries to read.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    /// From this time on (Unix milliseconds).
    pub since: i64,
    /// Up to this time.
    pub until: i64,
    /// Only this user's.
    pub user: Option<String>,
    /// Only about this resource.
    pub resource: Option<String>,
    /// Only about this record.
    pub record: Option<String>,
    /// Only `server` or `client` entries.
    pub source: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// An alert: a user refused too often too fast.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// When it was raised, Unix milliseconds.
    pub at: i64,
    /// Whose refusals.
    pub user: String,
    /// `{"refusals", "window_ms", "last": <access entry>}`.
    pub detail: Value,
}

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

/// The name of a directory snapshot: the SHA-256 of its JSON text, in hex. Versions name the
/// directory in force with it, so a rollback restores the people as they were.
pub fn people_sha(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A connection pool's state (`GET /metrics`).
#[derive(Debug, Clone, Copy)]
pub struct PoolStatus {
    /// Connections open.
    pub open: usize,
    /// Of those, idle.
    pub idle: usize,
    /// Callers waiting for one.
    pub waiting: usize,
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

/// Why a publication was not stored.
#[derive(Debug)]
pub enum PublishError {
    /// The current version is not the one the publication was based on, or another
    /// publication took its number: nothing was stored.
    Moved {
        /// The current version now.
        current: Option<u64>,
    },
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> PublishError {
        PublishError::Store(e)
    }
}

/// A stored admin or service credential (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// The name.
    pub name: String,
    /// `admin` or `service`.
    pub kind: String,
    /// SHA-256 of the token, hex.
    #[serde(skip)]
    pub token_hash: String,
    /// When it was made, Unix milliseconds.
    pub created_at: i64,
}

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

/// A record with its revision (which every change increases).
#[derive(Debug, Clone)]
pub struct Record {
    /// The record.
    pub body: Value,
    /// Its revision.
    pub revision: u64,
}

/// Why a record update did not happen.
pub enum UpdateError<E> {
    /// The record is not there.
    Missing,
    /// Its revision is not the one expected.
    Stale {
        /// Its revision now.
        revision: u64,
    },
    /// The caller's check refused the change.
    Refused(E),
    /// The store failed.
    Store(StoreError),
}

/// What instances sharing a store take turns at.
#[derive(Debug, Clone, Copy)]
pub enum Lock<'a> {
    /// Seeding an empty store at the first start.
    FirstStart,
    /// Checking, signing and storing a publication of this app: without it two instances
    /// publishing at once can keep beating each other to the next number.
    Publishing(&'a str),
}

/// Everything the server keeps.
pub trait Store: Send + Sync {
    // ---- the store itself ----

    /// Which database this is.
    fn kind(&self) -> StoreKind;
    /// Calls `on` with each change other instances make (a store no other instance shares
    /// has none to tell).
    fn watch(&self, _on: std::sync::Arc<dyn Fn(Change) + Send + Sync>) {}
    /// Runs `f` while no other instance holds `lock` (a store no other instance shares needs
    /// no lock: the process's own mutexes do).
    ///
    /// # Errors
    /// `Unavailable` when the lock cannot be taken in time; `f` is not run then.
    fn exclusively(&self, _lock: Lock<'_>, f: &mut dyn FnMut()) -> StoreResult<()> {
        f();
        Ok(())
    }

    // ---- versions ----

    /// The current version of `app`.
    fn current(&self, app: &str) -> StoreResult<Option<Version>>;
    /// Version `n` of `app`.
    fn version(&self, app: &str, n: u64) -> StoreResult<Option<Version>>;
    /// Every version of `app`, newest first.
    fn versions(&self, app: &str) -> StoreResult<Vec<Version>>;
    /// The highest version of `app` stored.
    fn last_version(&self, app: &str) -> StoreResult<Option<u64>>;
    /// The apps with a current version.
    fn apps(&self) -> StoreResult<Vec<String>>;
    /// Stores `v` and makes it current, in one transaction, if the current version is still
    /// `base` and `v.version` is the next number; moves records as `v.reassign` says.
    fn publish(&self, app: &str, base: Option<u64>, v: NewVersion)
        -> Result<Version, PublishError>;

    // ---- the directory ----

    /// The directory of `app` (JSON people list), with who stored it and when.
    fn directory(&self, app: &str) -> StoreResult<Option<(Value, String, i64)>>;
    /// Replaces the directory of `app`.
    fn put_directory(&self, app: &str, people: &Value, by: &str, at: i64) -> StoreResult<()>;
    /// A directory a version was published with, by [`people_sha`].
    fn directory_snapshot(&self, app: &str, sha: &str) -> StoreResult<Option<Value>>;

    // ---- the admin audit log ----

    /// Appends an entry.
    fn add_audit(&self, e: &AuditEntry) -> StoreResult<()>;
    /// Entries matching `q`, newest first.
    fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;

    // ---- the data access log and its alerts ----

    /// Appends entries, in one transaction.
    fn add_access(&self, rows: &[AccessEntry]) -> StoreResult<()>;
    /// Entries matching `q`, newest first.
    fn access(&self, q: &AccessQuery) -> StoreResult<Vec<AccessEntry>>;
    /// Deletes entries older than `before`; how many.
    fn prune_access(&self, before: i64) -> StoreResult<u64>;
    /// Deletes decision events received before `before` (ms), and takes them off their
    /// reporters' totals; the chains' heads stay, so a chain goes on without a false gap.
    fn prune_decisions(&self, before: i64) -> StoreResult<u64>;
    /// Stores an alert.
    fn add_alert(&self, a: &Alert) -> StoreResult<()>;
    /// Alerts since `since`, newest first, at most `limit`.
    fn alerts(&self, since: i64, limit: u32) -> StoreResult<Vec<Alert>>;

    /// The connection pool's state, for a store that has one.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }

    // ---- drafts ----

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

    // ---- access review campaigns ----

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

    // ---- credentials and sessions ----

    /// Every admin and service credential.
    fn credentials(&self) -> StoreResult<Vec<Credential>>;
    /// Adds (or replaces) a credential.
    fn put_credential(&self, c: &Credential) -> StoreResult<()>;
    /// Removes a credential; whether there was one.
    fn remove_credential(&self, name: &str, kind: &str) -> StoreResult<bool>;
    /// Stores a login session (by the hash of its id).
    fn create_session(&self, id_hash: &str, user: &str, expires_at: i64) -> StoreResult<()>;
    /// The user of a live session.
    fn session(&self, id_hash: &str, now: i64) -> StoreResult<Option<String>>;
    /// Ends a session.
    fn end_session(&self, id_hash: &str) -> StoreResult<()>;

    // ---- decision events ----

    /// Stores decision events reported by `user`, judging each chained one against its
    /// chain's last event seen. An event already stored is skipped.
    fn add_decisions(&self, user: &str, now_ms: i64, events: &[Reported]) -> StoreResult<Outcome>;
    /// How many events `user` has stored.
    fn decision_count(&self, user: &str) -> StoreResult<u64>;
    /// The latest `limit` decision events, newest first.
    fn decisions(&self, limit: u32) -> StoreResult<Vec<Value>>;

    // ---- sample data ----

    /// Every record of `resource`, by id.
    fn records(&self, resource: &str) -> StoreResult<Vec<Record>>;
    /// Reads every record of `resource`, `passes` times over the same snapshot, one at a time
    /// (memory does not grow with their number), without holding up writers. `f` gets the
    /// pass and the record; its error stops the scan and is returned inside.
    fn scan_records(
        &self,
        resource: &str,
        passes: usize,
        f: &mut dyn FnMut(usize, &Value) -> Result<(), String>,
    ) -> StoreResult<Result<(), String>>;
    /// One record.
    fn record(&self, resource: &str, id: &str) -> StoreResult<Option<Record>>;
    /// Inserts a new record under `id`; `false` when the id is taken.
    fn insert_record(&self, resource: &str, id: &str, body: &Value) -> StoreResult<bool>;
    /// Changes one record in one transaction: `change` gets it as it is now and returns it
    /// as it should be (or refuses). With `expected`, a record at another revision is stale.
    fn update_record(
        &self,
        resource: &str,
        id: &str,
        expected: Option<u64>,
        change: &mut dyn FnMut(&Value) -> Result<Value, super::error::ApiError>,
    ) -> Result<Record, UpdateError<super::error::ApiError>>;
    /// Moves records from one owner to another at once (not with a publication).
    fn reassign(&self, r: &Reassign) -> StoreResult<Value>;
    /// Loads sample records (on first start).
    fn seed_records(&self, resource: &str, records: &[Value]) -> StoreResult<()>;
    /// Whether any record exists.
    fn has_records(&self) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn announcements_read_back_as_made_and_unknown_ones_are_skipped() {
        let changes = [
            Change::Published {
                app: "acme-erp".into(),
                version: 7,
            },
            Change::Directory {
                app: "acme-erp".into(),
            },
            Change::Alert {
                at: 1_796_000_000_000,
                user: "u-bob".into(),
                from: "a1b2".into(),
            },
        ];
        for c in changes {
            assert_eq!(Change::from_payload(&c.payload()), Some(c));
        }
        assert_eq!(Change::from_payload(r#"{"something": "new"}"#), None);
        assert_eq!(Change::from_payload(r#"{"alert": "u-bob"}"#), None);
    }
}

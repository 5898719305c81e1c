//! Published policy versions: immutable, one current per app, publication as one transaction with its base check, directory snapshot and record moves.

use super::*;

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

    /// Of the stored `(id, body)` rows of `resource` (whose owner attribute is `owner`), the
    /// ones this reassignment moves, with their new bodies: what both stores write.
    pub fn moves(
        &self,
        resource: &str,
        owner: &str,
        rows: impl IntoIterator<Item = (String, String)>,
    ) -> Vec<(String, String)> {
        rows.into_iter()
            .filter(|(id, _)| self.covers(resource, id))
            .filter_map(|(id, body)| Some((id, self.moved(&body, owner)?)))
            .collect()
    }

    /// What moved, by resource, as the audit log and the answer show it.
    pub fn report(&self, moved: serde_json::Map<String, Value>) -> Value {
        serde_json::json!({"from": self.from, "to": self.to, "records": moved})
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

/// Published versions.
pub trait VersionStore {
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
}

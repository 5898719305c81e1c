//! Records of the sample app, with a revision every change increases.

use super::*;

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

/// Records.
pub trait RecordStore {
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
    /// as it should be, or `None` to refuse. With `expected`, a record at another revision
    /// is stale (see [`check_revision`]). [`update_checked`] carries the caller's reason.
    fn update_record(
        &self,
        resource: &str,
        id: &str,
        expected: Option<u64>,
        change: &mut dyn FnMut(&Value) -> Option<Value>,
    ) -> Result<Record, UpdateError<()>>;
    /// Moves records from one owner to another at once (not with a publication).
    fn reassign(&self, r: &Reassign) -> StoreResult<Value>;
    /// Loads sample records (on first start).
    fn seed_records(&self, resource: &str, records: &[Value]) -> StoreResult<()>;
    /// Whether any record exists.
    fn has_records(&self) -> StoreResult<bool>;
}

/// Whether a record at `now` may be changed by a writer that read it at `expected`.
///
/// # Errors
/// `Stale` with the record's revision when they differ.
pub fn check_revision<E>(expected: Option<u64>, now: u64) -> Result<(), UpdateError<E>> {
    match expected {
        Some(e) if e != now => Err(UpdateError::Stale { revision: now }),
        _ => Ok(()),
    }
}

/// [`RecordStore::update_record`] with a check that refuses with the caller's own reason (the
/// store knows nothing of it).
///
/// # Errors
/// As `update_record`, with `Refused` carrying what `change` refused with.
pub fn update_checked<S: RecordStore + ?Sized, E>(
    store: &S,
    resource: &str,
    id: &str,
    expected: Option<u64>,
    mut change: impl FnMut(&Value) -> Result<Value, E>,
) -> Result<Record, UpdateError<E>> {
    let mut why = None;
    let out = store.update_record(resource, id, expected, &mut |now| match change(now) {
        Ok(body) => Some(body),
        Err(e) => {
            why = Some(e);
            None
        }
    });
    match out {
        Ok(r) => Ok(r),
        Err(UpdateError::Refused(())) => Err(why.map_or_else(
            || {
                UpdateError::Store(StoreError::Failed(
                    "a change refused without a reason".into(),
                ))
            },
            UpdateError::Refused,
        )),
        Err(UpdateError::Missing) => Err(UpdateError::Missing),
        Err(UpdateError::Stale { revision }) => Err(UpdateError::Stale { revision }),
        Err(UpdateError::Store(e)) => Err(UpdateError::Store(e)),
    }
}

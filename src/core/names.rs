//! Names looked up fast: a table of named entries (`Named`), a name-to-position index built on
//! first use (`NameIndex`), and the `Lazy` cell both rest on. Kept apart from the policy model
//! they serve.

use crate::prelude::*;
use once_cell::race::OnceBox;
use serde::{Deserialize, Serialize};

/// A value computed on first use and kept (thread-safe without the standard library). Not part of
/// the wire form; a clone starts empty and computes it again.
#[derive(Debug)]
pub(crate) struct Lazy<T>(OnceBox<T>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(OnceBox::new())
    }
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy::default()
    }
}

impl<T> Lazy<T> {
    #[cfg(feature = "compile")]
    /// A value computed now.
    pub fn with(value: T) -> Self {
        Lazy(OnceBox::with_value(Box::new(value)))
    }

    /// The value, computed by `f` if this is the first use.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(|| Box::new(f()))
    }
}

/// A name -> position map, keyed by the names' hashes (no copies of the names). It is not part
/// of the wire form: after decoding it is rebuilt from the names on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex(Lazy<FxHashMap<u64, u32>>);

/// Marks a hash shared by several names: those are found by a scan.
const COLLISION: u32 = u32::MAX;

fn name_hash(name: &str) -> u64 {
    use core::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name)
}

impl NameIndex {
    #[cfg(feature = "compile")]
    /// An index built now from `names` (in position order).
    pub fn build<'n>(names: impl Iterator<Item = &'n str>) -> NameIndex {
        NameIndex(Lazy::with(Self::map(names)))
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    fn map<'n>(names: impl Iterator<Item = &'n str>) -> FxHashMap<u64, u32> {
        let mut map = FxHashMap::with_capacity_and_hasher(names.size_hint().0, Default::default());
        for (i, n) in names.enumerate() {
            map.entry(name_hash(n))
                .and_modify(|p| *p = COLLISION)
                .or_insert(i as u32);
        }
        map
    }

    /// The position of `key` among the `len` names that `name_at` reads by position (which
    /// must be the same names, in order).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the name index holds positions in this table only; narrowing: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub fn get<'n>(
        &self,
        key: &str,
        len: usize,
        name_at: impl Fn(usize) -> &'n str,
    ) -> Option<u32> {
        let names = (0..len).map(&name_at);
        let map = self.0.get_or_init(|| Self::map(names.clone()));
        match *map.get(&name_hash(key))? {
            COLLISION => names.into_iter().position(|n| n == key).map(|i| i as u32),
            i => ((i as usize) < len && name_at(i as usize) == key).then_some(i),
        }
    }
}

/// Values by name, in document order, found through a [`NameIndex`] built on first use. The
/// wire form is the list of `(name, value)` pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Named<V> {
    entries: Vec<(String, V)>,
    #[serde(skip)]
    index: NameIndex,
}

impl<V> Default for Named<V> {
    fn default() -> Self {
        Named::from(Vec::new())
    }
}

impl<V> From<Vec<(String, V)>> for Named<V> {
    fn from(entries: Vec<(String, V)>) -> Self {
        Named {
            entries,
            index: NameIndex::default(),
        }
    }
}

impl<V> Named<V> {
    /// The value called `name` (the first, should a decoded list repeat it).
    #[expect(
        clippy::indexing_slicing,
        reason = "the name index holds positions in this table only; narrowing: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub fn get(&self, name: &str) -> Option<&V> {
        let e = &self.entries;
        let i = self.index.get(name, e.len(), |i| &e[i].0)?;
        Some(&e[i as usize].1)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The values, in order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_index_scans_on_a_hash_collision() {
        let names = ["a", "b"];
        let mut map = FxHashMap::default();
        map.insert(name_hash("b"), COLLISION);
        map.insert(name_hash("a"), 0);
        let idx = NameIndex(Lazy::with(map));
        assert_eq!(idx.get("b", 2, |i| names[i]), Some(1));
        assert_eq!(idx.get("a", 2, |i| names[i]), Some(0));
    }
}

//! What every module of the `no_std` core imports: the `alloc` items the standard prelude would
//! give, and hash maps with the Fx hasher.

pub use alloc::borrow::ToOwned;
pub use alloc::boxed::Box;
pub use alloc::string::{String, ToString};
pub use alloc::vec::Vec;
pub use alloc::{format, vec};

/// A hash map with the Fx hasher (fast on short keys; not DoS-resistant, fine for policy names).
pub type FxHashMap<K, V> = hashbrown::HashMap<K, V, rustc_hash::FxBuildHasher>;

/// A hash set with the Fx hasher.
pub type FxHashSet<T> = hashbrown::HashSet<T, rustc_hash::FxBuildHasher>;

//! What every module of the `no_std` core imports: the `alloc` items the standard prelude would
//! give, and hash maps with the Fx hasher (one key and value type for names wherever it will
//! do: the browser's module carries a copy of the table code per type).

pub use alloc::borrow::ToOwned;
pub use alloc::boxed::Box;
pub use alloc::string::{String, ToString};
pub use alloc::vec::Vec;
pub use alloc::{format, vec};

/// A hash map with the Fx hasher (fast on short keys; not DoS-resistant, fine for policy names).
pub type FxHashMap<K, V> = hashbrown::HashMap<K, V, rustc_hash::FxBuildHasher>;

/// Sorts in place: a Shell sort, a few dozen bytes of the browser's module where the library's
/// sort is four kilobytes per element type. What the core sorts is short (roles, grants, slots)
/// or at most a manager's reports, thousands, where this is still a millisecond or two.
pub(crate) fn sort_ids<T: PartialOrd>(v: &mut [T]) {
    let mut gap = v.len() / 2;
    while gap > 0 {
        for i in gap..v.len() {
            let mut j = i;
            while j >= gap && v.get(j - gap) > v.get(j) {
                v.swap(j - gap, j);
                j -= gap;
            }
        }
        gap /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_ids_sorts_as_the_library_does() {
        let mut seed = 7u64;
        for len in 0..200 {
            let mut v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_ids(&mut v);
            assert_eq!(v, want);
            let mut words: Vec<String> = v.iter().rev().map(|n| format!("u-{n}")).collect();
            let mut sorted = words.clone();
            sorted.sort_unstable();
            sort_ids(&mut words);
            assert_eq!(words, sorted);
        }
    }
}

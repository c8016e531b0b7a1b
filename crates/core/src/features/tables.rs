//! Two small containers behind the incremental window aggregates.
//!
//! - [`Interner`]: maps the 64-bit hashes of a session's endpoints, IPs, agents, locations and
//!   actions to one-byte ids and counts how many window events use each, so "distinct values
//!   in the window" is a counter, not a scan. Ids whose count falls to zero are recycled, so
//!   a table never outgrows the number of distinct values *in the window* (capped at
//!   [`MAX_IDS`]; further values share one overflow id).
//! - [`CountTable`]: an open-addressing multiset of `u32` keys (n-grams of action ids) with
//!   deletion, growing by doubling as needed and never beyond what a 200-event window can hold.
//!
//! Both allocate only when they grow; a warm session observes events without allocating.

use serde::{Deserialize, Serialize};

/// Ids `0..MAX_IDS` name values; `OVERFLOW_ID` is shared by values beyond the cap.
pub(crate) const MAX_IDS: usize = 63;
pub(crate) const OVERFLOW_ID: u8 = MAX_IDS as u8;
/// "No value" (field missing): never counted.
pub(crate) const NONE_ID: u8 = u8::MAX;
/// Number of distinct ids including the overflow id: the size of per-id arrays.
pub(crate) const ID_SPACE: usize = MAX_IDS + 1;

/// Hash → id table with per-id window counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Interner {
    /// `hashes[id]`; the only part that is serialized.
    hashes: Vec<u64>,
    #[serde(skip)]
    counts: Vec<u16>,
    #[serde(skip)]
    overflow_count: u16,
    #[serde(skip)]
    distinct: u16,
    #[serde(skip)]
    last: u8,
}

impl Interner {
    /// The id of `hash`, assigning one if needed (recycling an id unused by the window, or the
    /// overflow id when all `MAX_IDS` are in use). Does not count it: see [`Interner::add`].
    pub fn intern(&mut self, hash: u64) -> u8 {
        if let Some(h) = self.hashes.get(self.last as usize) {
            if *h == hash {
                return self.last;
            }
        }
        let id = if let Some(i) = self.hashes.iter().position(|&h| h == hash) {
            i as u8
        } else if self.hashes.len() < MAX_IDS {
            self.hashes.push(hash);
            self.counts.push(0);
            (self.hashes.len() - 1) as u8
        } else if let Some(i) = self.counts.iter().position(|&c| c == 0) {
            if let Some(h) = self.hashes.get_mut(i) {
                *h = hash;
            }
            i as u8
        } else {
            return OVERFLOW_ID;
        };
        self.last = id;
        id
    }

    /// The hash an id stands for (`None` for the overflow and none ids).
    #[cfg(test)]
    pub fn hash_of(&self, id: u8) -> Option<u64> {
        self.hashes.get(id as usize).copied()
    }

    /// True when `id` could have been returned by [`Interner::intern`] (or is [`NONE_ID`]).
    pub fn is_valid_id(&self, id: u8) -> bool {
        id == NONE_ID || id == OVERFLOW_ID || (id as usize) < self.hashes.len()
    }

    fn count_mut(&mut self, id: u8) -> Option<&mut u16> {
        if id == OVERFLOW_ID {
            Some(&mut self.overflow_count)
        } else {
            self.counts.get_mut(id as usize)
        }
    }

    /// One more window event uses `id`.
    pub fn add(&mut self, id: u8) {
        if id == NONE_ID {
            return;
        }
        if let Some(c) = self.count_mut(id) {
            *c = c.saturating_add(1);
            if *c == 1 {
                self.distinct += 1;
            }
        }
    }

    /// One window event using `id` left the window.
    pub fn remove(&mut self, id: u8) {
        if id == NONE_ID {
            return;
        }
        if let Some(c) = self.count_mut(id) {
            if *c > 0 {
                *c -= 1;
                if *c == 0 {
                    self.distinct -= 1;
                }
            }
        }
    }

    /// Number of ids used by the window (the overflow id counts once).
    pub fn distinct(&self) -> u16 {
        self.distinct
    }

    /// Forgets all counts (before a replay) but keeps the id assignment.
    pub fn reset_counts(&mut self) {
        self.counts.clear();
        self.counts.resize(self.hashes.len(), 0);
        self.overflow_count = 0;
        self.distinct = 0;
        self.last = 0;
    }

    /// Forgets everything, keeping the allocations.
    pub fn clear(&mut self) {
        self.hashes.clear();
        self.reset_counts();
    }

    /// Whether the serialized part is acceptable.
    pub fn is_valid(&self) -> bool {
        self.hashes.len() <= MAX_IDS
    }

    pub fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * 8 + self.counts.capacity() * 2
    }
}

const EMPTY: u32 = u32::MAX;

/// A multiset of `u32` keys (never `u32::MAX`) with O(1) expected add/remove.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CountTable {
    keys: Vec<u32>,
    counts: Vec<u16>,
    len: usize,
}

#[inline]
fn slot_of(key: u32, mask: usize) -> usize {
    ((u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize) & mask
}

impl CountTable {
    /// Number of distinct keys present.
    pub fn distinct(&self) -> usize {
        self.len
    }

    fn find(&self, key: u32) -> Option<usize> {
        if self.keys.is_empty() {
            return None;
        }
        let mask = self.keys.len() - 1;
        let mut i = slot_of(key, mask);
        loop {
            let k = *self.keys.get(i)?;
            if k == key {
                return Some(i);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let new_cap = (self.keys.len() * 2).max(16);
        let old_keys = std::mem::replace(&mut self.keys, vec![EMPTY; new_cap]);
        let old_counts = std::mem::replace(&mut self.counts, vec![0; new_cap]);
        let mask = new_cap - 1;
        for (k, c) in old_keys.into_iter().zip(old_counts) {
            if k != EMPTY {
                let mut i = slot_of(k, mask);
                while self.keys.get(i).is_some_and(|&x| x != EMPTY) {
                    i = (i + 1) & mask;
                }
                if let (Some(ks), Some(cs)) = (self.keys.get_mut(i), self.counts.get_mut(i)) {
                    *ks = k;
                    *cs = c;
                }
            }
        }
    }

    /// Adds one `key`; returns its new count.
    pub fn add(&mut self, key: u32) -> u16 {
        debug_assert_ne!(key, EMPTY);
        if let Some(i) = self.find(key) {
            if let Some(c) = self.counts.get_mut(i) {
                *c = c.saturating_add(1);
                return *c;
            }
        }
        // keep the load factor at most 1/2
        if (self.len + 1) * 2 > self.keys.len() {
            self.grow();
        }
        let mask = self.keys.len() - 1;
        let mut i = slot_of(key, mask);
        while self.keys.get(i).is_some_and(|&x| x != EMPTY) {
            i = (i + 1) & mask;
        }
        if let (Some(ks), Some(cs)) = (self.keys.get_mut(i), self.counts.get_mut(i)) {
            *ks = key;
            *cs = 1;
            self.len += 1;
        }
        1
    }

    /// Removes one `key`; returns its new count, or `None` when it was absent.
    pub fn remove(&mut self, key: u32) -> Option<u16> {
        let i = self.find(key)?;
        let c = self.counts.get_mut(i)?;
        if *c > 1 {
            *c -= 1;
            return Some(*c);
        }
        // delete with backward shift (no tombstones)
        let mask = self.keys.len() - 1;
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let k = match self.keys.get(j) {
                Some(&k) if k != EMPTY => k,
                _ => break,
            };
            let home = slot_of(k, mask);
            // can k move into the hole? yes unless its home lies cyclically in (hole, j]
            let in_between = if hole <= j {
                home > hole && home <= j
            } else {
                home > hole || home <= j
            };
            if !in_between {
                let c = self.counts.get(j).copied().unwrap_or(0);
                if let (Some(kh), Some(ch)) = (self.keys.get_mut(hole), self.counts.get_mut(hole)) {
                    *kh = k;
                    *ch = c;
                }
                hole = j;
            }
            j = (j + 1) & mask;
        }
        if let (Some(kh), Some(ch)) = (self.keys.get_mut(hole), self.counts.get_mut(hole)) {
            *kh = EMPTY;
            *ch = 0;
        }
        self.len -= 1;
        Some(0)
    }

    /// Count of `key` (0 when absent).
    #[cfg(test)]
    pub fn count(&self, key: u32) -> u16 {
        self.find(key)
            .and_then(|i| self.counts.get(i).copied())
            .unwrap_or(0)
    }

    /// Forgets everything, keeping the allocation.
    pub fn clear(&mut self) {
        self.keys.iter_mut().for_each(|k| *k = EMPTY);
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.len = 0;
    }

    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 4 + self.counts.capacity() * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn interner_assigns_recycles_and_overflows() {
        let mut t = Interner::default();
        let a = t.intern(10);
        let b = t.intern(20);
        assert_ne!(a, b);
        assert_eq!(t.intern(10), a);
        t.add(a);
        t.add(a);
        t.add(b);
        assert_eq!(t.distinct(), 2);
        t.remove(a);
        assert_eq!(t.distinct(), 2);
        t.remove(a);
        assert_eq!(t.distinct(), 1);
        // fill all ids with counted values
        let mut t = Interner::default();
        for h in 0..MAX_IDS as u64 {
            let id = t.intern(h);
            t.add(id);
        }
        assert_eq!(t.intern(1_000), OVERFLOW_ID, "all ids in use");
        t.add(OVERFLOW_ID);
        t.add(OVERFLOW_ID);
        assert_eq!(t.distinct() as usize, MAX_IDS + 1, "overflow counts once");
        // free id 5: the next new value takes it
        t.remove(5);
        assert_eq!(t.intern(2_000), 5);
        assert_eq!(t.hash_of(5), Some(2_000));
        t.add(NONE_ID);
        assert!(t.is_valid_id(NONE_ID) && !Interner::default().is_valid_id(3));
    }

    #[test]
    fn count_table_basic() {
        let mut t = CountTable::default();
        assert_eq!(t.remove(7), None);
        assert_eq!(t.add(7), 1);
        assert_eq!(t.add(7), 2);
        assert_eq!(t.add(9), 1);
        assert_eq!(t.distinct(), 2);
        assert_eq!(t.remove(7), Some(1));
        assert_eq!(t.remove(7), Some(0));
        assert_eq!(t.count(7), 0);
        assert_eq!(t.count(9), 1);
        assert_eq!(t.distinct(), 1);
    }

    proptest! {
        #[test]
        fn count_table_matches_a_hashmap(ops in proptest::collection::vec((any::<bool>(), 0u32..40), 0..600)) {
            let mut t = CountTable::default();
            let mut m: HashMap<u32, u16> = HashMap::new();
            for (add, key) in ops {
                // spread keys so that many collide in a small table
                let key = key.wrapping_mul(1 << 20);
                if add {
                    let c = m.entry(key).or_insert(0);
                    *c += 1;
                    prop_assert_eq!(t.add(key), *c);
                } else {
                    let expected = match m.get_mut(&key) {
                        Some(c) if *c > 1 => { *c -= 1; Some(*c) }
                        Some(_) => { m.remove(&key); Some(0) }
                        None => None,
                    };
                    prop_assert_eq!(t.remove(key), expected);
                }
                prop_assert_eq!(t.distinct(), m.len());
            }
            for (k, c) in &m {
                prop_assert_eq!(t.count(*k), *c);
            }
        }
    }
}

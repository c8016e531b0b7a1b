//! A capped map from id strings to state, evicting the least recently used entry.
//!
//! Entries live in a slab (`Vec`) linked into a recency list by indices; a hash index maps keys
//! to slots. The slab never grows past the cap, and an evicted slot is reused in place (its
//! value reset, its allocations kept), so a flood of new ids costs no memory beyond the cap.
//!
//! Every lookup stamps its slot from a counter, so the recency order can also be read slot by
//! slot (a snapshot taken in steps, between which requests move entries around, sorts by the
//! stamps: see `features::snapshot`).
//!
//! The index hash is SipHash keyed by [`StateConfig::hash_key`](super::StateConfig), so callers
//! that let clients choose ids can defeat hash flooding by setting a secret key. The index is
//! never serialized: a snapshot lists entries from most to least recently used and loading
//! rebuilds the index, so snapshot bytes do not depend on hashing.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug, Default)]
pub(crate) struct KeyedState(u64);

impl BuildHasher for KeyedState {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        let mut h = DefaultHasher::new();
        h.write_u64(self.0);
        h
    }
}

#[derive(Clone, Debug)]
struct Slot<V> {
    key: String,
    value: V,
    prev: u32,
    next: u32,
    live: bool,
    /// The `clock` of the slot's latest lookup: larger is more recent.
    stamp: u64,
}

/// What [`Lru::find_or_insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The key was present.
    Found,
    /// The key was added without evicting anything.
    Inserted,
    /// The key was added in place of the least recently used entry.
    Evicted,
}

#[derive(Clone, Debug)]
pub(crate) struct Lru<V> {
    slots: Vec<Slot<V>>,
    free: Vec<u32>,
    index: HashMap<String, u32, KeyedState>,
    head: u32,
    tail: u32,
    cap: usize,
    clock: u64,
}

impl<V: Default> Lru<V> {
    pub fn new(cap: usize, hash_key: u64) -> Self {
        Lru {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::with_hasher(KeyedState(hash_key)),
            head: NIL,
            tail: NIL,
            cap: cap.max(1),
            clock: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = match self.slots.get(i as usize) {
            Some(s) => (s.prev, s.next),
            None => return,
        };
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    fn push_front(&mut self, i: u32) {
        let old_head = self.head;
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.prev = NIL;
            s.next = old_head;
        }
        match self.slots.get_mut(old_head as usize) {
            Some(h) => h.prev = i,
            None => self.tail = i,
        }
        self.head = i;
    }

    /// The slot of `key`, marked most recently used; inserted (with a default or reset value)
    /// when absent, evicting the least recently used entry when at the cap.
    pub fn find_or_insert(&mut self, key: &str, reset: impl FnOnce(&mut V)) -> (u32, Lookup) {
        self.clock += 1;
        let stamp = self.clock;
        if let Some(&i) = self.index.get(key) {
            if self.head != i {
                self.unlink(i);
                self.push_front(i);
            }
            if let Some(s) = self.slots.get_mut(i as usize) {
                s.stamp = stamp;
            }
            return (i, Lookup::Found);
        }
        let (i, lookup) = if let Some(i) = self.free.pop() {
            (i, Lookup::Inserted)
        } else if self.slots.len() < self.cap {
            self.slots.push(Slot {
                key: String::new(),
                value: V::default(),
                prev: NIL,
                next: NIL,
                live: false,
                stamp: 0,
            });
            ((self.slots.len() - 1) as u32, Lookup::Inserted)
        } else {
            let t = self.tail;
            self.unlink(t);
            if let Some(s) = self.slots.get_mut(t as usize) {
                self.index.remove(s.key.as_str());
                s.live = false;
            }
            (t, Lookup::Evicted)
        };
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.key.clear();
            s.key.push_str(key);
            s.live = true;
            s.stamp = stamp;
            reset(&mut s.value);
        }
        self.index.insert(key.to_owned(), i);
        self.push_front(i);
        (i, lookup)
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut V> {
        self.slots
            .get_mut(i as usize)
            .filter(|s| s.live)
            .map(|s| &mut s.value)
    }

    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&V> {
        let i = *self.index.get(key)?;
        self.slots.get(i as usize).map(|s| &s.value)
    }

    /// Drops every entry for which `keep` is false (freeing its memory); returns how many.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) -> usize {
        let mut removed = 0;
        let mut i = self.head;
        while let Some(s) = self.slots.get(i as usize) {
            let next = s.next;
            if !keep(&s.value) {
                self.unlink(i);
                if let Some(s) = self.slots.get_mut(i as usize) {
                    self.index.remove(s.key.as_str());
                    s.key = String::new();
                    s.value = V::default();
                    s.live = false;
                }
                self.free.push(i);
                removed += 1;
            }
            i = next;
        }
        removed
    }

    /// Slots in the slab, live or free: the range [`Lru::slot`] reads.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The entry in slot `i` with its recency stamp, if the slot is live. Slots keep their
    /// entry until it is evicted or expired, whatever lookups do to the recency order.
    pub fn slot(&self, i: usize) -> Option<(u64, &str, &V)> {
        self.slots
            .get(i)
            .filter(|s| s.live)
            .map(|s| (s.stamp, s.key.as_str(), &s.value))
    }

    /// Entries from most to least recently used.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        let mut i = self.head;
        std::iter::from_fn(move || {
            let s = self.slots.get(i as usize)?;
            i = s.next;
            Some((s.key.as_str(), &s.value))
        })
    }

    /// Bytes held by the map itself plus `value_heap` for each value.
    pub fn heap_bytes(&self, value_heap: impl Fn(&V) -> usize) -> usize {
        let slot = std::mem::size_of::<Slot<V>>();
        let entry = std::mem::size_of::<(String, u32)>() + 1;
        // the index's table: a power of two of buckets at most 7/8 full, sized for the most
        // entries it ever held (at most the slab's). Its `capacity()` wobbles with tombstones,
        // so it is not used here.
        let index_buckets = (self.slots.capacity() * 8 / 7 + 1).next_power_of_two();
        self.slots.capacity() * slot
            + self.free.capacity() * 4
            + index_buckets * entry
            + self
                .slots
                .iter()
                .map(|s| s.key.capacity() * 2 + value_heap(&s.value))
                .sum::<usize>()
    }

    /// Builds a map from entries listed most recently used first.
    pub fn from_entries(
        entries: Vec<(String, V)>,
        cap: usize,
        hash_key: u64,
    ) -> Result<Self, String> {
        if entries.len() > cap {
            return Err(format!("{} entries exceed the cap of {cap}", entries.len()));
        }
        let mut lru = Lru::new(cap, hash_key);
        for (key, value) in entries.into_iter().rev() {
            if lru.index.contains_key(key.as_str()) {
                return Err(format!("duplicate key {key:?}"));
            }
            let mut value = Some(value);
            let (_, _) = lru.find_or_insert(&key, |v| {
                if let Some(x) = value.take() {
                    *v = x;
                }
            });
        }
        Ok(lru)
    }
}

impl<V: Serialize + Default> Serialize for Lru<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for entry in self.iter() {
            seq.serialize_element(&entry)?;
        }
        seq.end()
    }
}

/// Entries as read from a snapshot, most recently used first (the cap is applied by the owner).
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct LruEntries<V>(pub Vec<(String, V)>);

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(l: &Lru<u32>) -> Vec<String> {
        l.iter().map(|(k, _)| k.to_string()).collect()
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut l: Lru<u32> = Lru::new(3, 7);
        for k in ["a", "b", "c"] {
            let (i, how) = l.find_or_insert(k, |v| *v = 0);
            assert_eq!(how, Lookup::Inserted);
            *l.get_mut(i).unwrap() += 1;
        }
        assert_eq!(l.find_or_insert("a", |_| {}).1, Lookup::Found);
        assert_eq!(keys(&l), ["a", "c", "b"]);
        let (i, how) = l.find_or_insert("d", |v| *v = 100);
        assert_eq!(how, Lookup::Evicted);
        assert_eq!(*l.get_mut(i).unwrap(), 100, "the reused slot was reset");
        assert_eq!(keys(&l), ["d", "a", "c"]);
        assert!(l.get("b").is_none());
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn retain_frees_and_slots_are_reused() {
        let mut l: Lru<u32> = Lru::new(4, 0);
        for (n, k) in ["a", "b", "c", "d"].iter().enumerate() {
            let (i, _) = l.find_or_insert(k, |_| {});
            *l.get_mut(i).unwrap() = n as u32;
        }
        assert_eq!(l.retain(|v| v % 2 == 1), 2);
        assert_eq!(keys(&l), ["d", "b"]);
        assert_eq!(l.find_or_insert("e", |_| {}).1, Lookup::Inserted);
        assert_eq!(l.find_or_insert("f", |_| {}).1, Lookup::Inserted);
        assert_eq!(l.find_or_insert("g", |_| {}).1, Lookup::Evicted);
        assert_eq!(l.slots.len(), 4);
        assert_eq!(keys(&l), ["g", "f", "e", "d"]);
    }

    #[test]
    fn serializes_in_recency_order_and_rebuilds() {
        let mut l: Lru<u32> = Lru::new(5, 1);
        for k in ["x", "y", "z"] {
            let (i, _) = l.find_or_insert(k, |_| {});
            *l.get_mut(i).unwrap() = k.len() as u32 + 10;
        }
        l.find_or_insert("x", |_| {});
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(json, r#"[["x",11],["z",11],["y",11]]"#);
        let entries: LruEntries<u32> = serde_json::from_str(&json).unwrap();
        let back = Lru::from_entries(entries.0, 5, 99).unwrap();
        assert_eq!(keys(&back), ["x", "z", "y"]);
        assert!(Lru::<u32>::from_entries(vec![("a".into(), 1), ("a".into(), 2)], 5, 0).is_err());
        assert!(Lru::<u32>::from_entries(vec![("a".into(), 1), ("b".into(), 2)], 1, 0).is_err());
    }
}

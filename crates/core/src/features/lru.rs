//! A capped map from id strings to state that an attacker cannot empty by opening ids.
//!
//! Entries live in a slab (`Vec`) linked into recency lists by indices; a hash index maps keys
//! to slots. The slab never grows past the cap, and an evicted slot is reused in place (its
//! value reset, its allocations kept), so a flood of new ids costs no memory beyond the cap.
//!
//! ## Why not plain LRU
//! Under plain LRU one account opening `cap + 1` sessions evicts every other session's history:
//! a victim's stolen session then looks new, and the IP and user-agent change signals that
//! would have caught its hijack are gone. Eviction here is by fair share instead:
//! - **A group's own entries first.** An entry may belong to a group (a session to its user);
//!   a new entry of a group that already holds `group cap` entries takes the slot of that
//!   group's least recently used one. One account's flood evicts only its own sessions.
//! - **History outranks one-request entries** (a segmented LRU). A new entry starts on
//!   probation; its second lookup promotes it to the protected list, which may hold at most
//!   [`PROTECTED_SHARE`] of the cap (beyond it the least recently used protected entry goes
//!   back to probation). The victim is the least recently used probationary entry, and a
//!   protected one only when nothing is on probation. A flood of one-request ids from many
//!   accounts churns the probation list and leaves the sessions with history alone.
//!
//! The users' map is segmented without groups; a map made with [`Lru::new`] is plain LRU.
//!
//! Every lookup stamps its slot from a counter, so the recency order can also be read slot by
//! slot (a snapshot taken in steps, between which requests move entries around, sorts by the
//! stamps: see `features::snapshot`). A snapshot lists entries from most to least recently used
//! and loading rebuilds the lists from the values ([`Grouped`]), so snapshot bytes do not depend
//! on the lists or on hashing.
//!
//! The index hash is SipHash keyed by [`StateConfig::hash_key`](super::StateConfig), so callers
//! that let clients choose ids can defeat hash flooding by setting a secret key.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

const NIL: u32 = u32::MAX;

/// Most of the cap the protected (promoted) list may hold: the rest is always left to new
/// entries, so that a session's second request still finds its first.
pub const PROTECTED_SHARE: f64 = 0.8;

/// What a value says of its own place in the map, so that a loaded snapshot rebuilds the lists.
pub(crate) trait Grouped {
    /// The group the entry belongs to (0: none).
    fn group(&self) -> u64 {
        0
    }
    /// Whether the entry has been looked up more than once (belongs on the protected list).
    fn established(&self) -> bool {
        false
    }
}

impl Grouped for u32 {}

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

/// Links of a slot in one list.
#[derive(Clone, Copy, Debug)]
struct Links {
    prev: u32,
    next: u32,
}

const UNLINKED: Links = Links {
    prev: NIL,
    next: NIL,
};

#[derive(Clone, Debug)]
struct Slot<V> {
    key: String,
    value: V,
    /// In the probation (0) or protected (1) recency list.
    seg: usize,
    recency: Links,
    group: u64,
    /// In its group's recency list (when `group != 0`).
    in_group: Links,
    live: bool,
    /// The `clock` of the slot's latest lookup: larger is more recent.
    stamp: u64,
}

/// Ends and length of one list.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    len: usize,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
    len: 0,
};

/// What [`Lru::find_or_insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The key was present.
    Found,
    /// The key was added without evicting anything.
    Inserted,
    /// The key was added in place of another entry.
    Evicted,
}

/// Which links of a slot a list operation uses.
#[derive(Clone, Copy)]
enum Chain {
    Recency,
    Group,
}

#[derive(Clone, Debug)]
pub(crate) struct Lru<V> {
    slots: Vec<Slot<V>>,
    free: Vec<u32>,
    index: HashMap<String, u32, KeyedState>,
    /// Probation and protected recency lists.
    lists: [List; 2],
    /// Each group's entries, most recently used first.
    groups: HashMap<u64, List>,
    cap: usize,
    /// Entries per group (0: no limit).
    group_cap: usize,
    /// Whether a second lookup promotes (false: one plain LRU list).
    segmented: bool,
    clock: u64,
}

impl<V: Default + Grouped> Lru<V> {
    /// A plain LRU map of at most `cap` entries.
    pub fn new(cap: usize, hash_key: u64) -> Self {
        Lru {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::with_hasher(KeyedState(hash_key)),
            lists: [EMPTY; 2],
            groups: HashMap::new(),
            cap: cap.max(1),
            group_cap: 0,
            segmented: false,
            clock: 0,
        }
    }

    /// A fair-share map (see the module docs): at most `group_cap` entries per group, entries
    /// with history kept before one-lookup ones.
    pub fn fair(cap: usize, group_cap: usize, hash_key: u64) -> Self {
        Lru {
            group_cap,
            segmented: true,
            ..Lru::new(cap, hash_key)
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn links(&mut self, i: u32, chain: Chain) -> Option<&mut Links> {
        self.slots.get_mut(i as usize).map(|s| match chain {
            Chain::Recency => &mut s.recency,
            Chain::Group => &mut s.in_group,
        })
    }

    fn list(&mut self, i: u32, chain: Chain) -> Option<&mut List> {
        let s = self.slots.get(i as usize)?;
        match chain {
            Chain::Recency => self.lists.get_mut(s.seg),
            Chain::Group if s.group != 0 => self.groups.get_mut(&s.group),
            Chain::Group => None,
        }
    }

    fn unlink(&mut self, i: u32, chain: Chain) {
        let Some(l) = self.links(i, chain).map(|l| std::mem::replace(l, UNLINKED)) else {
            return;
        };
        let (mut head, mut tail) = match self.list(i, chain) {
            Some(list) => {
                list.len = list.len.saturating_sub(1);
                (list.head, list.tail)
            }
            None => return,
        };
        match self.links(l.prev, chain) {
            Some(p) => p.next = l.next,
            None => head = l.next,
        }
        match self.links(l.next, chain) {
            Some(n) => n.prev = l.prev,
            None => tail = l.prev,
        }
        if let Some(list) = self.list(i, chain) {
            list.head = head;
            list.tail = tail;
        }
    }

    fn push_front(&mut self, i: u32, chain: Chain) {
        if matches!(chain, Chain::Group) {
            match self.slots.get(i as usize) {
                Some(s) if s.group != 0 => {
                    self.groups.entry(s.group).or_insert(EMPTY);
                }
                _ => return,
            }
        }
        let Some(list) = self.list(i, chain) else {
            return;
        };
        let old_head = list.head;
        list.head = i;
        list.len += 1;
        if old_head == NIL {
            list.tail = i;
        }
        if let Some(l) = self.links(i, chain) {
            *l = Links {
                prev: NIL,
                next: old_head,
            };
        }
        if let Some(h) = self.links(old_head, chain) {
            h.prev = i;
        }
    }

    /// Takes slot `i` out of every list and the index.
    fn detach(&mut self, i: u32) {
        self.unlink(i, Chain::Recency);
        self.unlink(i, Chain::Group);
        if let Some(s) = self.slots.get(i as usize) {
            if s.group != 0 && self.groups.get(&s.group).is_some_and(|g| g.len == 0) {
                self.groups.remove(&s.group);
            }
        }
        if let Some(s) = self.slots.get_mut(i as usize) {
            self.index.remove(s.key.as_str());
            s.live = false;
        }
    }

    /// Moves slot `i` to the front of list `seg`, demoting protected entries beyond the share.
    fn place(&mut self, i: u32, seg: usize) {
        self.unlink(i, Chain::Recency);
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.seg = seg;
        }
        self.push_front(i, Chain::Recency);
        let limit = ((self.cap as f64 * PROTECTED_SHARE) as usize).max(1);
        while self.lists[1].len > limit {
            let t = self.lists[1].tail;
            self.unlink(t, Chain::Recency);
            if let Some(s) = self.slots.get_mut(t as usize) {
                s.seg = 0;
            }
            self.push_front(t, Chain::Recency);
        }
    }

    /// The slot a new entry of `group` takes when the map is full (see the module docs).
    fn victim(&self, group: u64) -> u32 {
        if self.group_cap > 0 && group != 0 {
            if let Some(g) = self.groups.get(&group).filter(|g| g.len >= self.group_cap) {
                return g.tail;
            }
        }
        if self.lists[0].len > 0 {
            self.lists[0].tail
        } else {
            self.lists[1].tail
        }
    }

    /// The slot of `key`, marked most recently used; inserted (with a default or reset value)
    /// when absent, evicting the least recently used entry when at the cap.
    pub fn find_or_insert(&mut self, key: &str, reset: impl FnOnce(&mut V)) -> (u32, Lookup) {
        self.find_or_insert_in(key, 0, reset)
    }

    /// [`Lru::find_or_insert`] for an entry of `group` (0: none): a new entry of a group at its
    /// cap replaces that group's least recently used entry, and an entry found again is
    /// promoted.
    pub fn find_or_insert_in(
        &mut self,
        key: &str,
        group: u64,
        reset: impl FnOnce(&mut V),
    ) -> (u32, Lookup) {
        self.clock += 1;
        let stamp = self.clock;
        if let Some(&i) = self.index.get(key) {
            let seg = usize::from(self.segmented);
            self.place(i, seg);
            self.unlink(i, Chain::Group);
            self.push_front(i, Chain::Group);
            if let Some(s) = self.slots.get_mut(i as usize) {
                s.stamp = stamp;
            }
            return (i, Lookup::Found);
        }
        let at_group_cap = self.group_cap > 0
            && group != 0
            && self
                .groups
                .get(&group)
                .is_some_and(|g| g.len >= self.group_cap);
        let (i, lookup) = if let (false, Some(i)) = (at_group_cap, self.free.pop()) {
            (i, Lookup::Inserted)
        } else if !at_group_cap && self.slots.len() < self.cap {
            self.slots.push(Slot {
                key: String::new(),
                value: V::default(),
                seg: 0,
                recency: UNLINKED,
                group: 0,
                in_group: UNLINKED,
                live: false,
                stamp: 0,
            });
            ((self.slots.len() - 1) as u32, Lookup::Inserted)
        } else {
            let t = self.victim(group);
            self.detach(t);
            (t, Lookup::Evicted)
        };
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.key.clear();
            s.key.push_str(key);
            s.live = true;
            s.stamp = stamp;
            s.seg = 0;
            s.group = group;
            reset(&mut s.value);
        }
        self.index.insert(key.to_owned(), i);
        self.push_front(i, Chain::Recency);
        self.push_front(i, Chain::Group);
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
        for i in 0..self.slots.len() as u32 {
            let drop = self
                .slots
                .get(i as usize)
                .is_some_and(|s| s.live && !keep(&s.value));
            if drop {
                self.detach(i);
                if let Some(s) = self.slots.get_mut(i as usize) {
                    s.key = String::new();
                    s.value = V::default();
                    s.group = 0;
                }
                self.free.push(i);
                removed += 1;
            }
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

    /// Entries from most to least recently used (by their stamps, across both lists).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        let mut live: Vec<&Slot<V>> = self.slots.iter().filter(|s| s.live).collect();
        live.sort_unstable_by_key(|s| std::cmp::Reverse(s.stamp));
        live.into_iter().map(|s| (s.key.as_str(), &s.value))
    }

    /// Bytes held by the map itself plus `value_heap` for each value.
    pub fn heap_bytes(&self, value_heap: impl Fn(&V) -> usize) -> usize {
        let slot = std::mem::size_of::<Slot<V>>();
        let entry = std::mem::size_of::<(String, u32)>() + 1;
        let group = std::mem::size_of::<(u64, List)>() + 1;
        // the index's table: a power of two of buckets at most 7/8 full, sized for the most
        // entries it ever held (at most the slab's). Its `capacity()` wobbles with tombstones,
        // so it is not used here; the groups' table likewise, with at most one group per slot.
        let buckets = (self.slots.capacity() * 8 / 7 + 1).next_power_of_two();
        let group_buckets = if self.group_cap > 0 { buckets } else { 0 };
        self.slots.capacity() * slot
            + self.free.capacity() * 4
            + buckets * entry
            + group_buckets * group
            + self
                .slots
                .iter()
                .map(|s| s.key.capacity() * 2 + value_heap(&s.value))
                .sum::<usize>()
    }

    /// Builds a map like `template` (cap, group cap, segmentation; empty) from entries listed
    /// most recently used first: groups and promotion come from the values ([`Grouped`]).
    pub fn from_entries(entries: Vec<(String, V)>, template: Self) -> Result<Self, String> {
        let cap = template.cap;
        if entries.len() > cap {
            return Err(format!("{} entries exceed the cap of {cap}", entries.len()));
        }
        let mut lru = template;
        for (key, value) in entries.into_iter().rev() {
            if lru.index.contains_key(key.as_str()) {
                return Err(format!("duplicate key {key:?}"));
            }
            let group = if lru.group_cap > 0 { value.group() } else { 0 };
            let established = lru.segmented && value.established();
            let mut value = Some(value);
            // no group cap while loading: what was kept stays
            let group_cap = std::mem::replace(&mut lru.group_cap, 0);
            let (i, _) = lru.find_or_insert_in(&key, group, |v| {
                if let Some(x) = value.take() {
                    *v = x;
                }
            });
            lru.group_cap = group_cap;
            if established {
                lru.place(i, 1);
            }
        }
        Ok(lru)
    }
}

impl<V: Serialize + Default + Grouped> Serialize for Lru<V> {
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
        let back = Lru::from_entries(entries.0, Lru::new(5, 99)).unwrap();
        assert_eq!(keys(&back), ["x", "z", "y"]);
        assert!(
            Lru::<u32>::from_entries(vec![("a".into(), 1), ("a".into(), 2)], Lru::new(5, 0))
                .is_err()
        );
        assert!(
            Lru::<u32>::from_entries(vec![("a".into(), 1), ("b".into(), 2)], Lru::new(1, 0))
                .is_err()
        );
    }

    #[test]
    fn a_group_at_its_cap_evicts_its_own_entries_only() {
        let mut l: Lru<u32> = Lru::fair(10, 3, 0);
        for k in ["v1", "v2"] {
            l.find_or_insert_in(k, 7, |_| {});
        }
        for n in 0..1000 {
            l.find_or_insert_in(&format!("flood{n}"), 9, |_| {});
        }
        assert!(
            l.get("v1").is_some() && l.get("v2").is_some(),
            "the victim's sessions stay"
        );
        assert_eq!(
            l.len(),
            5,
            "the flooding group holds its cap: {:?}",
            keys(&l)
        );
        assert!(l.get("flood999").is_some() && l.get("flood996").is_none());
    }

    #[test]
    fn entries_with_history_outlive_a_flood_of_one_lookup_entries() {
        let mut l: Lru<u32> = Lru::fair(10, 0, 0);
        for k in ["a", "b", "c"] {
            l.find_or_insert_in(k, 0, |_| {});
            l.find_or_insert_in(k, 0, |_| {}); // a second request: promoted
        }
        for n in 0..1000 {
            // a thousand groups of one
            l.find_or_insert_in(&format!("f{n}"), n + 1, |_| {});
        }
        for k in ["a", "b", "c"] {
            assert!(l.get(k).is_some(), "{k} was evicted: {:?}", keys(&l));
        }
        assert_eq!(l.len(), 10);
        // the protected list holds at most its share: the rest is left to new entries
        for n in 0..20 {
            let k = format!("p{n}");
            l.find_or_insert_in(&k, 0, |_| {});
            l.find_or_insert_in(&k, 0, |_| {});
        }
        assert_eq!(l.lists[1].len, (10.0 * PROTECTED_SHARE) as usize);
        assert_eq!(l.lists[0].len + l.lists[1].len, l.len());
    }

    #[test]
    fn lists_stay_consistent_under_random_operations() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut l: Lru<u32> = Lru::fair(16, 4, 0);
        for step in 0..20_000u32 {
            let k = format!("k{}", rng.random_range(0..64));
            let g = rng.random_range(0..6u64);
            if rng.random_bool(0.02) {
                l.retain(|v| *v % 3 != 0);
            } else {
                let (i, _) = l.find_or_insert_in(&k, g, |v| *v = step);
                assert!(l.get_mut(i).is_some());
            }
            assert!(l.len() <= 16);
            assert_eq!(l.lists[0].len + l.lists[1].len, l.len(), "step {step}");
            let grouped: usize = l.groups.values().map(|g| g.len).sum();
            let live_grouped = l.slots.iter().filter(|s| s.live && s.group != 0).count();
            assert_eq!(grouped, live_grouped, "step {step}");
            // walking each list from its head reaches exactly its length
            for list in l.lists {
                let (mut n, mut i) = (0, list.head);
                while let Some(s) = l.slots.get(i as usize) {
                    n += 1;
                    i = s.recency.next;
                }
                assert_eq!(n, list.len, "step {step}");
            }
        }
    }
}

//! Snapshots of the behavioral state taken in steps, so that whoever guards the state with a
//! lock can release it between steps.
//!
//! ## Why
//! A service snapshots its state for restarts every few minutes while requests keep arriving.
//! Serializing the whole state at once holds it for as long as that takes — tens of milliseconds
//! for a state at the default caps with full windows (measured: docs/benchmarks.md, section
//! "Features") — during which every request waits, and in Node the event loop with it.
//! [`SnapshotWriter::step`] serializes a bounded number of entries per
//! call instead; the caller takes its lock for each step and lets requests through between
//! them.
//!
//! ## How the steps stay coherent
//! Entries are visited slot by slot (a slot keeps its entry while lookups reorder the recency
//! list) and each is serialized whole within one step, so every entry is self-consistent.
//! [`SnapshotWriter::finish`] orders them by their lookup stamps, which is the recency order,
//! and keeps the newest copy of a key seen twice (evicted and back in a later slot during the
//! snapshot). The result has the format of [`BehaviorState`]'s own serialization (postcard),
//! byte for byte when nothing happened between the steps, and loads the same way. What
//! happened between steps shows only as entries captured at slightly different times — a
//! session as of one step, its user as of a later one, a session started after its slot was
//! visited missing — which a restart tolerates: the state is soft.

use std::collections::HashSet;

use serde::Serialize;

use super::state::BehaviorState;
use crate::error::{CoreError, Result};

/// One serialized `(key, value)` entry: where its bytes are and its recency stamp.
struct Entry {
    stamp: u64,
    key: String,
    chunk: usize,
    bytes: std::ops::Range<usize>,
}

/// The serialized entries of one map, in the order they were visited.
#[derive(Default)]
struct Entries {
    /// One buffer per step, so that no step reallocates (and copies) what earlier ones wrote.
    chunks: Vec<Vec<u8>>,
    list: Vec<Entry>,
    /// The next slot to visit.
    next: usize,
}

/// Where a stepwise snapshot is (see the module docs).
pub struct SnapshotWriter {
    config: Vec<u8>,
    sessions: Entries,
    users: Entries,
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| CoreError::Snapshot(e.to_string()))
}

impl Entries {
    /// Serializes the next slots of `map` until `budget` entries are written; returns the
    /// budget left.
    fn take<V: Serialize + Default + super::lru::Grouped>(
        &mut self,
        map: &super::lru::Lru<V>,
        mut budget: usize,
    ) -> Result<usize> {
        let chunk = self.chunks.len();
        let mut data = Vec::new();
        while budget > 0 && self.next < map.slot_count() {
            if let Some((stamp, key, value)) = map.slot(self.next) {
                let start = data.len();
                data = postcard::to_extend(&(key, value), data)
                    .map_err(|e| CoreError::Snapshot(e.to_string()))?;
                self.list.push(Entry {
                    stamp,
                    key: key.to_owned(),
                    chunk,
                    bytes: start..data.len(),
                });
                budget -= 1;
            }
            self.next += 1;
        }
        self.chunks.push(data);
        Ok(budget)
    }

    /// Bytes serialized so far.
    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// The entries newest first, one per key, as a postcard sequence.
    fn write_seq(mut self, out: &mut Vec<u8>) -> Result<()> {
        self.list.sort_by_key(|e| std::cmp::Reverse(e.stamp));
        let mut seen = HashSet::with_capacity(self.list.len());
        let kept: Vec<&Entry> = self
            .list
            .iter()
            .filter(|e| seen.insert(e.key.as_str()))
            .collect();
        out.extend_from_slice(&encode(&kept.len())?);
        for e in kept {
            let chunk = self.chunks.get(e.chunk);
            if let Some(bytes) = chunk.and_then(|c| c.get(e.bytes.clone())) {
                out.extend_from_slice(bytes);
            }
        }
        Ok(())
    }
}

impl SnapshotWriter {
    /// Starts a snapshot of `state`: take [`SnapshotWriter::step`]s over the same state until
    /// one returns true, then [`SnapshotWriter::finish`].
    pub fn new(state: &BehaviorState) -> Result<Self> {
        Ok(SnapshotWriter {
            config: encode(state.config())?,
            sessions: Entries::default(),
            users: Entries::default(),
        })
    }

    /// Serializes up to `max_entries` more sessions and users of `state`; true when every slot
    /// has been visited.
    pub fn step(&mut self, state: &BehaviorState, max_entries: usize) -> Result<bool> {
        let budget = self
            .sessions
            .take(state.sessions_map(), max_entries.max(1))?;
        self.users.take(state.users_map(), budget)?;
        Ok(self.sessions.next >= state.sessions_map().slot_count()
            && self.users.next >= state.users_map().slot_count())
    }

    /// The snapshot's bytes: what `postcard::to_allocvec(&state)` gives, and
    /// `postcard::from_bytes::<BehaviorState>` reads.
    pub fn finish(self) -> Result<Vec<u8>> {
        let mut out =
            Vec::with_capacity(self.config.len() + self.sessions.len() + self.users.len() + 20);
        out.extend_from_slice(&self.config);
        self.sessions.write_seq(&mut out)?;
        self.users.write_seq(&mut out)?;
        Ok(out)
    }
}

/// Snapshots `state` in steps of `max_entries`, without anything happening between them.
pub fn snapshot_in_steps(state: &BehaviorState, max_entries: usize) -> Result<Vec<u8>> {
    let mut w = SnapshotWriter::new(state)?;
    while !w.step(state, max_entries)? {}
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{RequestEvent, StateConfig, N_FEATURES};

    const T0: i64 = 1_704_103_200_000;

    fn event(i: i64, session: &str, user: &str) -> RequestEvent {
        let mut e = RequestEvent::new(T0 + i * 1_000, session, user);
        e.endpoint = Some(format!("/api/expenses/{}", i % 3));
        e.ip_address = Some(format!("203.0.113.{}", i % 5));
        e
    }

    fn state(sessions: i64) -> BehaviorState {
        let mut st = BehaviorState::new(StateConfig {
            max_sessions: 8,
            max_users: 5,
            ..StateConfig::default()
        })
        .unwrap();
        let mut x = [0.0; N_FEATURES];
        for i in 0..sessions * 4 {
            let s = (i * 7) % sessions;
            st.observe(&event(i, &format!("s{s}"), &format!("u{}", s % 6)), &mut x)
                .unwrap();
        }
        st
    }

    #[test]
    fn steps_give_the_bytes_of_a_whole_serialization() {
        for sessions in [0, 1, 5, 12] {
            let st = state(sessions);
            let whole = postcard::to_allocvec(&st).unwrap();
            for step in [1, 2, 3, 100] {
                assert_eq!(
                    snapshot_in_steps(&st, step).unwrap(),
                    whole,
                    "{sessions} sessions, steps of {step}"
                );
            }
        }
    }

    #[test]
    fn requests_between_steps_leave_a_loadable_coherent_snapshot() {
        let mut st = state(12);
        let mut x = [0.0; N_FEATURES];
        let mut w = SnapshotWriter::new(&st).unwrap();
        let mut i = 1_000;
        let mut touched = HashSet::new();
        while !w.step(&st, 2).unwrap() {
            // a new session evicts the oldest, a known one moves to the front
            let s = if i % 2 == 0 {
                format!("new{i}")
            } else {
                format!("s{}", i % 3)
            };
            touched.insert(s.clone());
            st.observe(&event(i, &s, &format!("u{}", i % 7)), &mut x)
                .unwrap();
            i += 1;
        }
        let bytes = w.finish().unwrap();
        let back: BehaviorState = postcard::from_bytes(&bytes).unwrap();
        assert!(back.tracked_sessions() <= 8 && back.tracked_users() <= 5);
        assert!(
            touched.iter().any(|k| k.starts_with("new")),
            "sessions were evicted meanwhile"
        );
        // a session nobody touched during the snapshot comes back exactly as it is
        let untouched: Vec<&str> = st
            .sessions_map()
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !touched.contains(*k))
            .collect();
        assert!(!untouched.is_empty());
        for key in untouched {
            let live = st.sessions_map().get(key).unwrap();
            let restored = back.sessions_map().get(key).expect("kept");
            assert_eq!(
                postcard::to_allocvec(live).unwrap(),
                postcard::to_allocvec(restored).unwrap()
            );
        }
    }

    #[test]
    fn a_key_captured_twice_is_kept_once_newest_first() {
        let mut entries = Entries::default();
        for (stamp, key, value) in [(3, "a", 1u32), (9, "b", 2), (7, "a", 3)] {
            let bytes = encode(&(key, value)).unwrap();
            entries.list.push(Entry {
                stamp,
                key: key.into(),
                chunk: entries.chunks.len(),
                bytes: 0..bytes.len(),
            });
            entries.chunks.push(bytes);
        }
        let mut out = Vec::new();
        entries.write_seq(&mut out).unwrap();
        let back: Vec<(String, u32)> = postcard::from_bytes(&out).unwrap();
        assert_eq!(back, [("b".to_string(), 2), ("a".to_string(), 3)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

        /// Whatever requests arrive between the steps (new sessions evicting old ones, known
        /// ones moving to the front, users coming and going), the snapshot loads, stays within
        /// the caps, and holds every session nobody touched exactly as it is.
        #[test]
        fn any_interleaving_leaves_a_loadable_snapshot(
            warm in 0i64..14,
            step in 1usize..5,
            between in proptest::collection::vec((0u8..16, 0u8..9, 0usize..8), 0..60),
        ) {
            let mut st = state(warm);
            let mut x = [0.0; N_FEATURES];
            let mut w = SnapshotWriter::new(&st).unwrap();
            let mut touched = HashSet::new();
            let mut k = 0usize;
            let mut t = 10_000;
            while !w.step(&st, step).unwrap() {
                // a few requests, as many as the script says for this gap
                let (_, _, n) = between.get(k).copied().unwrap_or((0, 0, 0));
                for j in 0..n {
                    let (s, u, _) = between.get(k + j).copied().unwrap_or((0, 0, 0));
                    let session = format!("s{s}");
                    touched.insert(session.clone());
                    st.observe(&event(t, &session, &format!("u{u}")), &mut x).unwrap();
                    t += 1;
                }
                k += 1;
            }
            let back: BehaviorState = postcard::from_bytes(&w.finish().unwrap()).unwrap();
            proptest::prop_assert!(back.tracked_sessions() <= 8 && back.tracked_users() <= 5);
            for (key, live) in st.sessions_map().iter() {
                if touched.contains(key) {
                    continue;
                }
                let Some(restored) = back.sessions_map().get(key) else {
                    return Err(proptest::test_runner::TestCaseError::fail(format!(
                        "untouched session {key} lost"
                    )));
                };
                proptest::prop_assert_eq!(
                    postcard::to_allocvec(live).unwrap(),
                    postcard::to_allocvec(restored).unwrap()
                );
            }
        }
    }
}

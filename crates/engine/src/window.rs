//! The training window: a bounded, uniform sample of the feature vectors of the last
//! `modelWindowDays`, from which every model is trained.
//!
//! ## Why a reservoir with expiry
//! Every observed request's vector is offered to the window (also before any model exists), so
//! a busy service sees millions of vectors a month; training on all of them is neither needed
//! nor affordable. The window keeps at most `capacity` vectors (50,000 by default, 23.6 MB) as
//! a reservoir sample (Vitter's Algorithm R): once full, the `n`-th vector replaces a random
//! slot with probability `capacity / n`, so every vector seen so far is equally likely to be
//! held.
//!
//! Plain Algorithm R over an unbounded stream would admit ever fewer new vectors while old ones
//! expire out of the time window, leaving a shrinking sample of stale data. Two rules keep the
//! sample uniform over the *time window* instead:
//! - [`TrainingWindow::prune`] rescales `seen`: the held vectors are a uniform sample of the
//!   `seen` ones, so the fraction of held vectors that expired estimates the fraction of seen
//!   ones that did, and `seen` becomes the estimated number of vectors still in the window.
//! - Every vector is admitted with the same probability `min(1, capacity / seen)` — the
//!   inclusion probability the held vectors already have — whether or not pruning left free
//!   slots. An admitted vector takes a free slot if there is one and otherwise replaces a
//!   random one. (Refilling free slots unconditionally would over-sample whatever arrives just
//!   after each prune: with a daily prune, the first minutes of every day.)
//!
//! With steady traffic above `capacity` per window the sample refills to `capacity` within the
//! period between prunes and every vector of the window is held with the same probability; with
//! less traffic every vector is held.
//!
//! ## Who each vector belongs to, and how much of the window one source may hold
//! Every slot also keeps its request's [`RowMeta`]: the hashed session, user, device and source
//! address (the decision layer fits its friction budget on sessions, and hygiene drops what
//! suspected sessions or confirmed attackers contributed) and whether the request was an
//! anomaly when it was offered (quarantined: kept out of the models' fit, kept in the
//! calibration's). No user, session or source may hold more than `max_entity_rows` slots
//! (`retraining.maxEntityShare` of the capacity): one account replaying ten thousand
//! requests before a retrain fills at most that share, whatever the sampling would have taken.
//!
//! ## Stable slots
//! A vector lives in a numbered slot until it is replaced or expires; expired slots go on a free
//! list and are reused first. The store mirrors the window as rows keyed by slot (an upsert per
//! admitted vector and `DELETE ... WHERE timestamp < cutoff` per prune), so the persisted window
//! equals the in-memory one without ever rewriting it whole.

use std::collections::HashMap;

use anomaly_core::decision::EntityKeys;
use anomaly_core::N_FEATURES;
use rand::Rng as _;

/// Where an offered vector went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Stored in this slot (new or replacing an older vector).
    Stored { slot: u32 },
    /// Not sampled.
    Skipped,
    /// Its user, session or source already holds its share of the window.
    Capped,
}

/// One saved window row as the store holds it: slot, timestamp, features, meta.
pub(crate) type SavedRow = (u32, i64, Vec<f64>, RowMeta);

/// What the window knows of a vector besides its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowMeta {
    pub keys: EntityKeys,
    /// An anomaly when offered: not a training example for the models.
    pub quarantined: bool,
}

impl RowMeta {
    /// A row whose request is unknown (restored from a store written before rows had meta).
    pub const UNKNOWN: RowMeta = RowMeta {
        keys: EntityKeys {
            session: 0,
            user: 0,
            device: None,
            source: None,
        },
        quarantined: false,
    };
}

/// Slots held per entity (user, session, source), for the caps and the coverage.
#[derive(Debug, Default)]
struct EntityCounts {
    users: HashMap<u64, u32>,
    sessions: HashMap<u64, u32>,
    sources: HashMap<u64, u32>,
}

impl EntityCounts {
    fn maps(&mut self, m: &RowMeta) -> [(&mut HashMap<u64, u32>, Option<u64>); 3] {
        [
            (&mut self.users, Some(m.keys.user).filter(|&k| k != 0)),
            (&mut self.sessions, Some(m.keys.session).filter(|&k| k != 0)),
            (&mut self.sources, m.keys.source),
        ]
    }

    fn add(&mut self, m: &RowMeta) {
        for (map, key) in self.maps(m) {
            if let Some(k) = key {
                *map.entry(k).or_default() += 1;
            }
        }
    }

    fn remove(&mut self, m: &RowMeta) {
        for (map, key) in self.maps(m) {
            if let Some(k) = key {
                if let Some(c) = map.get_mut(&k) {
                    *c -= 1;
                    if *c == 0 {
                        map.remove(&k);
                    }
                }
            }
        }
    }

    fn at_cap(&self, m: &RowMeta, cap: u32) -> bool {
        let over = |map: &HashMap<u64, u32>, k: u64| map.get(&k).is_some_and(|&c| c >= cap);
        (m.keys.user != 0 && over(&self.users, m.keys.user))
            || (m.keys.session != 0 && over(&self.sessions, m.keys.session))
            || m.keys.source.is_some_and(|k| over(&self.sources, k))
    }
}

/// How much of the traffic the window covers (learning mode, [`crate::config::LearningConfig`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Days between the oldest and the newest vector held.
    pub days: f64,
    /// Distinct users among the vectors held.
    pub users: usize,
    /// Distinct sessions among the vectors held.
    pub sessions: usize,
}

/// Marks a free slot in `timestamps`.
const FREE: i64 = i64::MIN;

/// Bounded uniform sample of recent feature vectors (see the module docs).
#[derive(Debug)]
pub struct TrainingWindow {
    capacity: usize,
    /// Timestamp per slot; [`FREE`] for a free slot.
    timestamps: Vec<i64>,
    /// `N_FEATURES` values per slot, row-major.
    features: Vec<f64>,
    /// Per slot: whose request it was.
    meta: Vec<RowMeta>,
    counts: EntityCounts,
    /// Most slots one user, session or source may hold.
    max_entity_rows: u32,
    free: Vec<u32>,
    /// Vectors offered since the (estimated) start of the time window.
    seen: u64,
    rng: anomaly_core::rng::Rng,
}

impl TrainingWindow {
    /// An empty window holding at most `capacity` vectors; `seed` drives the sampling.
    pub fn new(capacity: usize, seed: u64) -> Self {
        TrainingWindow::with_cap(capacity, seed, capacity)
    }

    /// The same with at most `max_entity_rows` slots per user, session or source.
    pub fn with_cap(capacity: usize, seed: u64, max_entity_rows: usize) -> Self {
        TrainingWindow {
            capacity: capacity.max(1),
            timestamps: Vec::new(),
            features: Vec::new(),
            meta: Vec::new(),
            counts: EntityCounts::default(),
            max_entity_rows: max_entity_rows.clamp(1, u32::MAX as usize) as u32,
            free: Vec::new(),
            seen: 0,
            rng: anomaly_core::rng::derived(seed, 0x77696e646f77), // "window"
        }
    }

    /// Rebuilds a window from persisted slots. Slots beyond `capacity` (the capacity was
    /// lowered) and malformed rows are ignored; `seen` is at least the number of held vectors.
    /// The sampling stream is reseeded from `seed` and `seen`, so a restarted engine samples
    /// deterministically too.
    pub fn restore(
        capacity: usize,
        seed: u64,
        max_entity_rows: usize,
        seen: u64,
        rows: impl IntoIterator<Item = SavedRow>,
    ) -> Self {
        let mut w =
            TrainingWindow::with_cap(capacity, seed ^ seen.rotate_left(17), max_entity_rows);
        for (slot, ts, x, meta) in rows {
            let s = slot as usize;
            if s >= w.capacity
                || x.len() != N_FEATURES
                || ts == FREE
                || x.iter().any(|v| !v.is_finite())
            {
                continue;
            }
            if s >= w.timestamps.len() {
                w.timestamps.resize(s + 1, FREE);
                w.features.resize((s + 1) * N_FEATURES, 0.0);
                w.meta.resize(s + 1, RowMeta::UNKNOWN);
            }
            if w.timestamps[s] != FREE {
                w.counts.remove(&w.meta[s]);
            }
            w.timestamps[s] = ts;
            w.features[s * N_FEATURES..(s + 1) * N_FEATURES].copy_from_slice(&x);
            w.meta[s] = meta;
            w.counts.add(&meta);
        }
        w.free = (0..w.timestamps.len() as u32)
            .rev()
            .filter(|&s| w.timestamps[s as usize] == FREE)
            .collect();
        w.seen = seen.max(w.len() as u64);
        w
    }

    /// Maximum number of vectors held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.timestamps.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vectors offered since the estimated start of the time window.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Offers one vector observed at `ts`: admitted with probability `min(1, capacity / seen)`,
    /// unless its user, session or source already holds its share.
    pub fn offer(&mut self, ts: i64, x: &[f64; N_FEATURES], meta: RowMeta) -> Admission {
        // A capped vector is not part of the traffic the window samples: counting it in `seen`
        // would let one flooding account dilute everyone else's admission.
        if self.counts.at_cap(&meta, self.max_entity_rows) {
            return Admission::Capped;
        }
        self.seen = self.seen.saturating_add(1);
        // While seen <= capacity every vector is kept (and len < capacity: len <= seen - 1).
        let j = if self.seen <= self.capacity as u64 {
            0
        } else {
            self.rng.random_range(0..self.seen)
        };
        if j >= self.capacity as u64 {
            return Admission::Skipped;
        }
        let slot = if let Some(slot) = self.free.pop() {
            slot as usize
        } else if self.timestamps.len() < self.capacity {
            self.timestamps.push(FREE);
            self.features.extend_from_slice(&[0.0; N_FEATURES]);
            self.meta.push(RowMeta::UNKNOWN);
            self.timestamps.len() - 1
        } else {
            // Full, no free slot: Algorithm R's replacement of a uniformly chosen slot.
            j as usize
        };
        if self.timestamps[slot] != FREE {
            self.counts.remove(&self.meta[slot]);
        }
        self.timestamps[slot] = ts;
        self.features[slot * N_FEATURES..(slot + 1) * N_FEATURES].copy_from_slice(x);
        self.meta[slot] = meta;
        self.counts.add(&meta);
        Admission::Stored { slot: slot as u32 }
    }

    /// How much of the traffic the vectors held cover.
    pub fn coverage(&self) -> Coverage {
        Coverage {
            days: self.time_range().map_or(0.0, |(lo, hi)| {
                (hi - lo) as f64 / crate::time::MS_PER_DAY as f64
            }),
            users: self.counts.users.len(),
            sessions: self.counts.sessions.len(),
        }
    }

    /// Forgets every vector older than `cutoff` (ms) and rescales `seen` (module docs).
    /// Returns how many vectors were dropped.
    pub fn prune(&mut self, cutoff: i64) -> usize {
        let before = self.len();
        for (slot, ts) in self.timestamps.iter_mut().enumerate() {
            if *ts != FREE && *ts < cutoff {
                *ts = FREE;
                self.free.push(slot as u32);
                self.counts.remove(&self.meta[slot]);
            }
        }
        let after = self.len();
        let dropped = before - after;
        if dropped > 0 && before > 0 {
            let kept_fraction = after as f64 / before as f64;
            let estimate = (self.seen as f64 * kept_fraction).round() as u64;
            self.seen = estimate.max(after as u64);
        }
        // Reuse low slots first: keeps the persisted table dense after a large expiry.
        self.free.sort_unstable_by(|a, b| b.cmp(a));
        dropped
    }

    /// Number of vectors observed at or after `since`.
    pub fn count_since(&self, since: i64) -> usize {
        self.timestamps
            .iter()
            .filter(|&&ts| ts != FREE && ts >= since)
            .count()
    }

    /// Copies the vectors observed at or after `since`, in slot order, into a row-major matrix
    /// (rows × `N_FEATURES`), with their timestamps.
    pub fn collect_since(&self, since: i64) -> (Vec<f64>, Vec<i64>) {
        let n = self.count_since(since);
        let mut data = Vec::with_capacity(n * N_FEATURES);
        let mut times = Vec::with_capacity(n);
        for (slot, &ts) in self.timestamps.iter().enumerate() {
            if ts != FREE && ts >= since {
                data.extend_from_slice(&self.features[slot * N_FEATURES..(slot + 1) * N_FEATURES]);
                times.push(ts);
            }
        }
        (data, times)
    }

    /// Number of slots (held or free): the bound of the ranges given to [`Self::append_since`].
    pub fn slots(&self) -> usize {
        self.timestamps.len()
    }

    /// Appends the vectors of the slots in `range` observed at or after `since` to `out`
    /// (row-major), with their timestamps and meta; returns how many. Lets a caller copy the
    /// window in chunks, releasing the lock in between so the request path never waits for a
    /// whole copy.
    pub fn append_since(
        &self,
        since: i64,
        range: std::ops::Range<usize>,
        out: &mut WindowRows,
    ) -> usize {
        let end = range.end.min(self.timestamps.len());
        let mut n = 0;
        for slot in range.start.min(end)..end {
            let ts = self.timestamps[slot];
            if ts != FREE && ts >= since {
                out.features
                    .extend_from_slice(&self.features[slot * N_FEATURES..(slot + 1) * N_FEATURES]);
                out.timestamps.push(ts);
                out.meta.push(self.meta[slot]);
                n += 1;
            }
        }
        n
    }

    /// Oldest and newest timestamps held.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let mut it = self.timestamps.iter().copied().filter(|&ts| ts != FREE);
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), ts| (lo.min(ts), hi.max(ts))))
    }

    /// Approximate heap memory in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.timestamps.capacity() * 8
            + self.features.capacity() * 8
            + self.meta.capacity() * std::mem::size_of::<RowMeta>()
            + self.free.capacity() * 4
    }
}

/// Rows copied out of the window: values (row-major), timestamps and meta, in slot order.
#[derive(Debug, Default)]
pub struct WindowRows {
    pub features: Vec<f64>,
    pub timestamps: Vec<i64>,
    pub meta: Vec<RowMeta>,
}

impl WindowRows {
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Row `i`'s values.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * N_FEATURES..(i + 1) * N_FEATURES]
    }

    /// The rows for which `keep` holds, in order.
    pub fn filtered(&self, mut keep: impl FnMut(usize) -> bool) -> WindowRows {
        let mut out = WindowRows::default();
        for i in 0..self.len() {
            if keep(i) {
                out.features.extend_from_slice(self.row(i));
                out.timestamps.push(self.timestamps[i]);
                out.meta.push(self.meta[i]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(v: f64) -> [f64; N_FEATURES] {
        [v; N_FEATURES]
    }

    #[test]
    fn fills_then_samples_and_never_exceeds_capacity() {
        let mut w = TrainingWindow::new(100, 7);
        for i in 0..100 {
            assert_eq!(
                w.offer(i, &vector(i as f64), RowMeta::UNKNOWN),
                Admission::Stored { slot: i as u32 }
            );
        }
        let mut stored = 0;
        for i in 100..10_000 {
            if let Admission::Stored { slot } = w.offer(i, &vector(i as f64), RowMeta::UNKNOWN) {
                assert!((slot as usize) < 100);
                stored += 1;
            }
            assert_eq!(w.len(), 100);
        }
        // E[stored] = Σ_{n=101}^{10000} 100/n ≈ 100·ln(100) ≈ 460
        assert!((300..650).contains(&stored), "{stored}");
        assert_eq!(w.seen(), 10_000);
    }

    #[test]
    fn sample_is_uniform_over_the_stream() {
        // Each of 10 equal segments of the stream should hold ~10% of the reservoir.
        let mut w = TrainingWindow::new(2000, 11);
        for i in 0..100_000i64 {
            w.offer(i, &vector(0.0), RowMeta::UNKNOWN);
        }
        let (_, times) = w.collect_since(0);
        let mut per_segment = [0usize; 10];
        for t in times {
            per_segment[(t / 10_000) as usize] += 1;
        }
        for (k, &c) in per_segment.iter().enumerate() {
            assert!(
                (150..250).contains(&c),
                "segment {k}: {c} of 2000 (expected ~200)"
            );
        }
    }

    #[test]
    fn pruning_keeps_the_sample_uniform_over_the_time_window() {
        // A steady stream over 60 "days" with a window of 30 and a daily prune: the sample must
        // cover the last 30 days evenly, be even within days too, and stay (nearly) full.
        // Without rescaling `seen`, new vectors would almost never be admitted; refilling free
        // slots unconditionally would keep only the first vectors after each prune.
        let day = 1000i64;
        let mut w = TrainingWindow::new(1000, 3);
        for d in 0..60 {
            // daily maintenance at the start of day d keeps days d-29 ..= d
            w.prune((d - 29) * day);
            for k in 0..500 {
                w.offer(d * day + k * 2, &vector(d as f64), RowMeta::UNKNOWN);
            }
        }
        assert!(
            w.len() >= 950,
            "refilled to capacity between prunes: {}",
            w.len()
        );
        let (data, times) = w.collect_since(i64::MIN);
        let n = times.len() as f64;
        assert!(
            times.iter().all(|&t| t >= 30 * day),
            "nothing older than the window"
        );
        let recent_half = times.iter().filter(|&&t| t >= 45 * day).count() as f64;
        assert!(
            (recent_half / n - 0.5).abs() < 0.06,
            "last 15 of 30 days hold {recent_half} of {n}"
        );
        let first_half_of_day = times.iter().filter(|&&t| t % day < day / 2).count() as f64;
        assert!(
            (first_half_of_day / n - 0.5).abs() < 0.06,
            "first half of the days: {first_half_of_day} of {n}"
        );
        // the values moved together with their timestamps
        for (row, t) in data.chunks(N_FEATURES).zip(&times) {
            assert_eq!(row[0], (t / day) as f64);
        }
    }

    #[test]
    fn light_traffic_is_kept_whole() {
        let mut w = TrainingWindow::new(1000, 5);
        for d in 0..40i64 {
            w.prune((d - 29) * 100);
            for k in 0..20 {
                assert!(matches!(
                    w.offer(d * 100 + k, &vector(0.0), RowMeta::UNKNOWN),
                    Admission::Stored { .. }
                ));
            }
        }
        assert_eq!(w.len(), 30 * 20);
    }

    #[test]
    fn pruned_slots_are_reused_and_restore_round_trips() {
        let mut w = TrainingWindow::new(10, 1);
        for i in 0..10 {
            w.offer(i * 10, &vector(i as f64), RowMeta::UNKNOWN);
        }
        assert_eq!(w.prune(30), 3);
        assert_eq!(w.len(), 7);
        assert_eq!(w.time_range(), Some((30, 90)));
        // free slots 0, 1, 2 are reused lowest first
        assert_eq!(
            w.offer(100, &vector(10.0), RowMeta::UNKNOWN),
            Admission::Stored { slot: 0 }
        );
        assert_eq!(
            w.offer(101, &vector(11.0), RowMeta::UNKNOWN),
            Admission::Stored { slot: 1 }
        );
        let rows: Vec<SavedRow> = (0..w.timestamps.len())
            .filter(|&s| w.timestamps[s] != FREE)
            .map(|s| {
                (
                    s as u32,
                    w.timestamps[s],
                    w.features[s * N_FEATURES..(s + 1) * N_FEATURES].to_vec(),
                    w.meta[s],
                )
            })
            .collect();
        let restored = TrainingWindow::restore(10, 1, 10, w.seen(), rows);
        assert_eq!(restored.len(), w.len());
        assert_eq!(restored.collect_since(0), w.collect_since(0));
        assert_eq!(restored.free, vec![2]);
        // a chunked copy equals the whole copy
        let mut chunked = WindowRows::default();
        let mut rows = 0;
        for start in (0..w.slots()).step_by(3) {
            rows += w.append_since(35, start..start + 3, &mut chunked);
        }
        assert_eq!(chunked.features, w.collect_since(35).0);
        assert_eq!(rows, w.count_since(35));
        // malformed rows and rows beyond the capacity are ignored
        let bad = vec![
            (0, 5, vec![1.0; 3], RowMeta::UNKNOWN),
            (20, 5, vec![1.0; N_FEATURES], RowMeta::UNKNOWN),
            (1, 5, vec![f64::NAN; N_FEATURES], RowMeta::UNKNOWN),
        ];
        assert_eq!(TrainingWindow::restore(10, 1, 10, 0, bad).len(), 0);
    }

    fn meta(session: u64, user: u64, source: u64) -> RowMeta {
        RowMeta {
            keys: EntityKeys {
                session,
                user,
                device: None,
                source: Some(source),
            },
            quarantined: false,
        }
    }

    #[test]
    fn one_user_session_or_source_holds_at_most_its_share() {
        let mut w = TrainingWindow::with_cap(1000, 9, 20);
        // an attacker's replay: 5000 requests of one account, then ordinary traffic
        let mut attacker = 0;
        for i in 0..5000 {
            if matches!(
                w.offer(i, &vector(1.0), meta(1, 1, 1)),
                Admission::Stored { .. }
            ) {
                attacker += 1;
            }
        }
        assert_eq!(attacker, 20, "the account's share, not the window");
        for i in 0..500u64 {
            w.offer(
                5000 + i as i64,
                &vector(0.0),
                meta(100 + i / 10, 100 + i / 10, 100 + i),
            );
        }
        assert!(w.len() >= 500, "everyone else got in: {}", w.len());
        // the same cap holds for a source shared by many accounts
        let mut shared = 0;
        for i in 0..100u64 {
            if matches!(
                w.offer(9000 + i as i64, &vector(0.0), meta(5000 + i, 5000 + i, 7)),
                Admission::Stored { .. }
            ) {
                shared += 1;
            }
        }
        assert_eq!(shared, 20);
        let c = w.coverage();
        assert_eq!(c.users, 1 + 50 + 20);
        assert_eq!(c.sessions, 1 + 50 + 20);
        // expiring rows gives their entities room again
        w.prune(i64::MAX);
        assert_eq!(w.coverage(), Coverage::default());
        assert!(matches!(
            w.offer(0, &vector(1.0), meta(1, 1, 1)),
            Admission::Stored { .. }
        ));
    }
}

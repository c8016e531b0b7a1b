//! A session's sliding windows: its last 200 events, its last 200 signals and its per-minute
//! request counts, each with running aggregates.
//!
//! Every aggregate is updated when an element enters or leaves a window, so reading a feature
//! costs O(1) (a few read O(window) with a tight loop over bytes). Counts and sums are kept in
//! integers — milliseconds, hundredths of risk points, fixed-point `c·ln c` — so that adding
//! and removing the same element leaves *exactly* the previous value: the aggregates never
//! drift, and a window rebuilt from a snapshot by replay equals the live one bit for bit.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::signals::{SignalRec, N_CATEGORIES};
use super::tables::{CountTable, Interner, ID_SPACE};
use super::time::MS_PER_MINUTE;

/// Events (and signals) kept per session.
pub const WINDOW: usize = 200;
/// Longest period looked for by `cyclic_score`.
pub(crate) const MAX_LAG: usize = 8;
/// A burst is at least this many events...
pub const BURST_EVENTS: usize = 10;
/// ...within this span.
pub const BURST_SPAN_MS: i64 = 60_000;
/// Inter-arrival gaps are capped here (about 49.7 days) so that their squares fit.
const MAX_GAP_MS: i64 = u32::MAX as i64;

pub(crate) const FLAG_BURST: u8 = 1;
pub(crate) const FLAG_RUN_START: u8 = 2;
pub(crate) const FLAG_ANOMALOUS: u8 = 4;

/// One event as the window keeps it: 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EventRec {
    /// Effective timestamp (never earlier than the previous event's).
    pub ts: i64,
    pub endpoint: u8,
    pub action: u8,
    pub ip: u8,
    pub ua: u8,
    pub loc: u8,
    /// Local hour of day, 0..=23.
    pub hour: u8,
    pub flags: u8,
}

impl EventRec {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

#[inline]
fn gap_ms(a: &EventRec, b: &EventRec) -> u64 {
    (b.ts.saturating_sub(a.ts)).clamp(0, MAX_GAP_MS) as u64
}

/// `c · ln c` in fixed point (2^-24), exact to reproduce under add/remove.
#[inline]
fn xlnx(c: u16) -> i64 {
    if c <= 1 {
        0
    } else {
        let c = f64::from(c);
        (c * c.ln() * 16_777_216.0).round() as i64
    }
}

#[inline]
fn bigram_key(a: u8, b: u8) -> u32 {
    u32::from(a) * ID_SPACE as u32 + u32::from(b)
}

#[inline]
fn trigram_key(a: u8, b: u8, c: u8) -> u32 {
    (u32::from(a) * ID_SPACE as u32 + u32::from(b)) * ID_SPACE as u32 + u32::from(c)
}

/// The last [`WINDOW`] events of a session and their aggregates.
#[derive(Clone, Debug)]
pub(crate) struct EventWindow {
    events: VecDeque<EventRec>,
    pub endpoints: Interner,
    pub actions: Interner,
    pub ips: Interner,
    pub uas: Interner,
    pub locations: Interner,
    hour_counts: [u16; 24],
    hours_distinct: u16,
    gap_sum: u64,
    gap_sumsq: u128,
    anomalous: u16,
    burst_runs: u16,
    bigrams: CountTable,
    bigram_singletons: u16,
    /// `bigram_cc[c]` = number of distinct bigrams with count `c`.
    bigram_cc: Vec<u16>,
    bigram_max: u16,
    /// Bigrams starting with each action id.
    firsts: [u16; ID_SPACE],
    s_bigram: i64,
    s_first: i64,
    trigrams: CountTable,
    lag_matches: [u16; MAX_LAG],
}

impl Default for EventWindow {
    fn default() -> Self {
        EventWindow {
            events: VecDeque::new(),
            endpoints: Interner::default(),
            actions: Interner::default(),
            ips: Interner::default(),
            uas: Interner::default(),
            locations: Interner::default(),
            hour_counts: [0; 24],
            hours_distinct: 0,
            gap_sum: 0,
            gap_sumsq: 0,
            anomalous: 0,
            burst_runs: 0,
            bigrams: CountTable::default(),
            bigram_singletons: 0,
            bigram_cc: Vec::new(),
            bigram_max: 0,
            firsts: [0; ID_SPACE],
            s_bigram: 0,
            s_first: 0,
            trigrams: CountTable::default(),
            lag_matches: [0; MAX_LAG],
        }
    }
}

impl EventWindow {
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn events(&self) -> &VecDeque<EventRec> {
        &self.events
    }

    /// An empty window that reuses id tables read from a snapshot (counts reset).
    pub fn with_ids(
        endpoints: Interner,
        actions: Interner,
        ips: Interner,
        uas: Interner,
        locations: Interner,
    ) -> Self {
        let mut w = EventWindow {
            endpoints,
            actions,
            ips,
            uas,
            locations,
            ..EventWindow::default()
        };
        w.clear(true);
        w
    }

    /// Evicts the oldest event if the window is full, so that the ids it held can be recycled
    /// before the next event is interned.
    pub fn make_room(&mut self) {
        if self.events.len() >= WINDOW {
            self.evict_front();
        }
    }

    /// Whether an event at `ts` (about to be pushed) completes a burst: it and the 9 events
    /// before it lie within [`BURST_SPAN_MS`].
    pub fn completes_burst(&self, ts: i64) -> bool {
        let n = self.events.len();
        n + 1 >= BURST_EVENTS
            && self
                .events
                .get(n + 1 - BURST_EVENTS)
                .is_some_and(|e| ts.saturating_sub(e.ts) <= BURST_SPAN_MS)
    }

    /// Number of window events with `ts > since` (scanning back from the newest).
    pub fn count_since(&self, since: i64) -> usize {
        self.events
            .iter()
            .rev()
            .take_while(|e| e.ts > since)
            .count()
    }

    /// Appends `rec` (the caller has called [`EventWindow::make_room`] and set `FLAG_BURST` and
    /// `FLAG_ANOMALOUS`; `FLAG_RUN_START` is computed here). Ids must come from this window's
    /// interners.
    pub fn push(&mut self, mut rec: EventRec) {
        if self.events.len() >= WINDOW {
            self.evict_front();
        }
        let n = self.events.len();
        rec.flags &= FLAG_BURST | FLAG_ANOMALOUS;
        if let Some(prev) = self.events.back().copied() {
            let g = gap_ms(&prev, &rec);
            self.gap_sum += g;
            self.gap_sumsq += u128::from(g) * u128::from(g);
            self.bigram_add(prev.action, rec.action);
            if n >= 2 {
                if let Some(pp) = self.events.get(n - 2) {
                    self.trigrams
                        .add(trigram_key(pp.action, prev.action, rec.action));
                }
            }
            if rec.has(FLAG_BURST) && !prev.has(FLAG_BURST) {
                rec.flags |= FLAG_RUN_START;
            }
        } else if rec.has(FLAG_BURST) {
            rec.flags |= FLAG_RUN_START;
        }
        for lag in 1..=MAX_LAG.min(n) {
            if self
                .events
                .get(n - lag)
                .is_some_and(|e| e.action == rec.action)
            {
                if let Some(m) = self.lag_matches.get_mut(lag - 1) {
                    *m += 1;
                }
            }
        }
        if rec.has(FLAG_RUN_START) {
            self.burst_runs += 1;
        }
        if rec.has(FLAG_ANOMALOUS) {
            self.anomalous += 1;
        }
        if let Some(h) = self.hour_counts.get_mut(rec.hour as usize) {
            *h += 1;
            if *h == 1 {
                self.hours_distinct += 1;
            }
        }
        self.endpoints.add(rec.endpoint);
        self.actions.add(rec.action);
        self.ips.add(rec.ip);
        self.uas.add(rec.ua);
        self.locations.add(rec.loc);
        self.events.push_back(rec);
    }

    fn evict_front(&mut self) {
        let Some(old) = self.events.pop_front() else {
            return;
        };
        if let Some(next) = self.events.front().copied() {
            let g = gap_ms(&old, &next);
            self.gap_sum -= g;
            self.gap_sumsq -= u128::from(g) * u128::from(g);
            self.bigram_remove(old.action, next.action);
            if let Some(nn) = self.events.get(1) {
                self.trigrams
                    .remove(trigram_key(old.action, next.action, nn.action));
            }
        }
        for lag in 1..=MAX_LAG {
            // the event that was `lag` after `old` now sits at `lag - 1`
            if self
                .events
                .get(lag - 1)
                .is_some_and(|e| e.action == old.action)
            {
                if let Some(m) = self.lag_matches.get_mut(lag - 1) {
                    *m -= 1;
                }
            }
        }
        if old.has(FLAG_RUN_START) {
            self.burst_runs -= 1;
        }
        if let Some(front) = self.events.front_mut() {
            if front.has(FLAG_BURST) && !front.has(FLAG_RUN_START) {
                front.flags |= FLAG_RUN_START;
                self.burst_runs += 1;
            }
        }
        if old.has(FLAG_ANOMALOUS) {
            self.anomalous -= 1;
        }
        if let Some(h) = self.hour_counts.get_mut(old.hour as usize) {
            *h -= 1;
            if *h == 0 {
                self.hours_distinct -= 1;
            }
        }
        self.endpoints.remove(old.endpoint);
        self.actions.remove(old.action);
        self.ips.remove(old.ip);
        self.uas.remove(old.ua);
        self.locations.remove(old.loc);
    }

    fn bigram_add(&mut self, a: u8, b: u8) {
        let c = self.bigrams.add(bigram_key(a, b));
        match c {
            1 => self.bigram_singletons += 1,
            2 => self.bigram_singletons -= 1,
            _ => {}
        }
        if self.bigram_cc.len() <= WINDOW {
            self.bigram_cc.resize(WINDOW + 1, 0);
        }
        if let Some(x) = self.bigram_cc.get_mut(c as usize - 1) {
            *x = x.saturating_sub(1);
        }
        if let Some(x) = self.bigram_cc.get_mut(c as usize) {
            *x += 1;
        }
        self.bigram_max = self.bigram_max.max(c);
        self.s_bigram += xlnx(c) - xlnx(c - 1);
        if let Some(f) = self.firsts.get_mut(a as usize) {
            *f += 1;
            self.s_first += xlnx(*f) - xlnx(*f - 1);
        }
    }

    fn bigram_remove(&mut self, a: u8, b: u8) {
        let Some(c) = self.bigrams.remove(bigram_key(a, b)) else {
            debug_assert!(false, "bigram missing from its window table");
            return;
        };
        let old = c + 1;
        match old {
            1 => self.bigram_singletons -= 1,
            2 => self.bigram_singletons += 1,
            _ => {}
        }
        if let Some(x) = self.bigram_cc.get_mut(old as usize) {
            *x = x.saturating_sub(1);
        }
        if c > 0 {
            if let Some(x) = self.bigram_cc.get_mut(c as usize) {
                *x += 1;
            }
        }
        if old == self.bigram_max && self.bigram_cc.get(old as usize).copied().unwrap_or(0) == 0 {
            self.bigram_max = c;
        }
        self.s_bigram += xlnx(c) - xlnx(old);
        if let Some(f) = self.firsts.get_mut(a as usize) {
            *f -= 1;
            self.s_first += xlnx(*f) - xlnx(*f + 1);
        }
    }

    /// Forgets all events, keeping allocations (and, with `keep_ids`, the id assignment).
    pub fn clear(&mut self, keep_ids: bool) {
        self.events.clear();
        for t in [
            &mut self.endpoints,
            &mut self.actions,
            &mut self.ips,
            &mut self.uas,
            &mut self.locations,
        ] {
            if keep_ids {
                t.reset_counts();
            } else {
                t.clear();
            }
        }
        self.hour_counts = [0; 24];
        self.hours_distinct = 0;
        self.gap_sum = 0;
        self.gap_sumsq = 0;
        self.anomalous = 0;
        self.burst_runs = 0;
        self.bigrams.clear();
        self.bigram_singletons = 0;
        self.bigram_cc.iter_mut().for_each(|x| *x = 0);
        self.bigram_max = 0;
        self.firsts = [0; ID_SPACE];
        self.s_bigram = 0;
        self.s_first = 0;
        self.trigrams.clear();
        self.lag_matches = [0; MAX_LAG];
    }

    // ---- readings -------------------------------------------------------------------------

    /// Number of gaps in the window (events − 1, or 0).
    pub fn n_gaps(&self) -> usize {
        self.events.len().saturating_sub(1)
    }

    /// Mean and population standard deviation of the gaps, in milliseconds.
    pub fn gap_mean_std_ms(&self) -> (f64, f64) {
        let n = self.n_gaps() as u128;
        if n == 0 {
            return (0.0, 0.0);
        }
        let sum = u128::from(self.gap_sum);
        // n·Σg² − (Σg)² is exact and non-negative in integers
        let var_num = (n * self.gap_sumsq).saturating_sub(sum * sum);
        let nf = n as f64;
        (sum as f64 / nf, (var_num as f64).sqrt() / nf)
    }

    /// Smallest and largest gap in milliseconds (0, 0 without gaps).
    pub fn gap_min_max_ms(&self) -> (u64, u64) {
        let mut min = u64::MAX;
        let mut max = 0;
        let mut prev: Option<i64> = None;
        for e in &self.events {
            if let Some(p) = prev {
                let g = (e.ts.saturating_sub(p)).clamp(0, MAX_GAP_MS) as u64;
                min = min.min(g);
                max = max.max(g);
            }
            prev = Some(e.ts);
        }
        if min == u64::MAX {
            (0, 0)
        } else {
            (min, max)
        }
    }

    pub fn anomalous(&self) -> u16 {
        self.anomalous
    }

    pub fn burst_runs(&self) -> u16 {
        self.burst_runs
    }

    pub fn hours_distinct(&self) -> u16 {
        self.hours_distinct
    }

    /// Distinct bigrams, distinct trigrams, the most frequent bigram's count, singleton bigrams.
    pub fn ngram_counts(&self) -> (usize, usize, u16, u16) {
        (
            self.bigrams.distinct(),
            self.trigrams.distinct(),
            self.bigram_max,
            self.bigram_singletons,
        )
    }

    /// exp(−H(next action | previous action)) over the window's bigrams; 0 without bigrams.
    pub fn predictability(&self) -> f64 {
        let n = self.n_gaps();
        if n == 0 {
            return 0.0;
        }
        let h = ((self.s_first - self.s_bigram) as f64 / 16_777_216.0 / n as f64).max(0.0);
        (-h).exp()
    }

    /// Max over lags 1..=8 (with at least one pair) of the fraction of pairs `lag` apart that
    /// have the same action; 0 with fewer than two events.
    pub fn cyclic_score(&self) -> f64 {
        let n = self.events.len();
        let mut best: f64 = 0.0;
        for lag in 1..=MAX_LAG.min(n.saturating_sub(1)) {
            let m = self.lag_matches.get(lag - 1).copied().unwrap_or(0);
            best = best.max(f64::from(m) / (n - lag) as f64);
        }
        best
    }

    /// Consecutive pairs with different actions.
    pub fn transitions(&self) -> usize {
        self.n_gaps()
            .saturating_sub(self.lag_matches.first().copied().unwrap_or(0) as usize)
    }

    pub fn heap_bytes(&self) -> usize {
        self.events.capacity() * std::mem::size_of::<EventRec>()
            + self.endpoints.heap_bytes()
            + self.actions.heap_bytes()
            + self.ips.heap_bytes()
            + self.uas.heap_bytes()
            + self.locations.heap_bytes()
            + self.bigrams.heap_bytes()
            + self.trigrams.heap_bytes()
            + self.bigram_cc.capacity() * 2
    }
}

/// The last [`WINDOW`] signals of a session and their aggregates.
#[derive(Clone, Debug, Default)]
pub(crate) struct SignalWindow {
    signals: VecDeque<SignalRec>,
    /// Risk values of the window, sorted (for min, max, median).
    sorted: Vec<u16>,
    categories: [u16; N_CATEGORIES],
    severities: [u16; 4],
    sum: u64,
    sumsq: u64,
    /// Σ i · risk_i with i the position in the window (0 = oldest).
    s_ir: u64,
}

impl SignalWindow {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.signals.len()
    }

    pub fn signals(&self) -> &VecDeque<SignalRec> {
        &self.signals
    }

    pub fn push(&mut self, rec: SignalRec) {
        if self.signals.len() >= WINDOW {
            self.evict_front();
        }
        let r = u64::from(rec.risk_centi);
        self.s_ir += self.signals.len() as u64 * r;
        self.sum += r;
        self.sumsq += r * r;
        if let Some(c) = self.categories.get_mut(rec.category as usize) {
            *c += 1;
        }
        if let Some(s) = self.severities.get_mut(rec.severity as usize) {
            *s += 1;
        }
        let at = self.sorted.partition_point(|&x| x < rec.risk_centi);
        self.sorted.insert(at, rec.risk_centi);
        self.signals.push_back(rec);
    }

    fn evict_front(&mut self) {
        let Some(old) = self.signals.pop_front() else {
            return;
        };
        let r = u64::from(old.risk_centi);
        self.sum -= r;
        self.sumsq -= r * r;
        // every remaining position moves down by one: Σ(i−1)·r_i = Σ i·r_i − Σ r_i
        self.s_ir -= self.sum;
        if let Some(c) = self.categories.get_mut(old.category as usize) {
            *c -= 1;
        }
        if let Some(s) = self.severities.get_mut(old.severity as usize) {
            *s -= 1;
        }
        if let Ok(at) = self.sorted.binary_search(&old.risk_centi) {
            self.sorted.remove(at);
        }
    }

    pub fn clear(&mut self) {
        self.signals.clear();
        self.sorted.clear();
        self.categories = [0; N_CATEGORIES];
        self.severities = [0; 4];
        self.sum = 0;
        self.sumsq = 0;
        self.s_ir = 0;
    }

    pub fn category_counts(&self) -> &[u16; N_CATEGORIES] {
        &self.categories
    }

    pub fn severity_counts(&self) -> &[u16; 4] {
        &self.severities
    }

    /// Mean, population standard deviation, min, max and median of risk, in points (0–100);
    /// all 0 without signals.
    pub fn risk_stats(&self) -> [f64; 5] {
        let n = self.signals.len();
        if n == 0 {
            return [0.0; 5];
        }
        let nn = n as u128;
        let sum = u128::from(self.sum);
        let var_num = (nn * u128::from(self.sumsq)).saturating_sub(sum * sum);
        let nf = n as f64;
        let mean = self.sum as f64 / nf / 100.0;
        let std = (var_num as f64).sqrt() / nf / 100.0;
        let at = |i: usize| f64::from(self.sorted.get(i).copied().unwrap_or(0)) / 100.0;
        let median = (at((n - 1) / 2) + at(n / 2)) / 2.0;
        [mean, std, at(0), at(n - 1), median]
    }

    /// Least-squares slope of risk (points) against position in the window; 0 with < 2 signals.
    pub fn risk_trend(&self) -> f64 {
        let n = self.signals.len() as i128;
        if n < 2 {
            return 0.0;
        }
        let s_i = n * (n - 1) / 2;
        let s_ii = (n - 1) * n * (2 * n - 1) / 6;
        let num = n * i128::from(self.s_ir) - s_i * i128::from(self.sum);
        let den = n * s_ii - s_i * s_i;
        if den == 0 {
            return 0.0;
        }
        num as f64 / den as f64 / 100.0
    }

    /// Shannon entropy (bits) of the window's category distribution; 0 without signals.
    pub fn category_entropy(&self) -> f64 {
        let n = self.signals.len() as f64;
        if n == 0.0 {
            return 0.0;
        }
        let h: f64 = self
            .categories
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = f64::from(c) / n;
                -p * p.log2()
            })
            .sum();
        h.max(0.0)
    }

    pub fn heap_bytes(&self) -> usize {
        self.signals.capacity() * std::mem::size_of::<SignalRec>() + self.sorted.capacity() * 2
    }
}

/// Requests per minute over the last two hours, for the three rate windows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RateBuckets {
    counts: [u32; RATE_MINUTES],
    /// Minute index (ms / 60 000) of the newest bucket; `i64::MIN` when empty.
    minute: i64,
}

/// Span of the longest rate window, in minutes.
pub const RATE_MINUTES: usize = 120;

impl Default for RateBuckets {
    fn default() -> Self {
        RateBuckets {
            counts: [0; RATE_MINUTES],
            minute: i64::MIN,
        }
    }
}

#[inline]
fn bucket(minute: i64) -> usize {
    minute.rem_euclid(RATE_MINUTES as i64) as usize
}

impl RateBuckets {
    /// Counts one request at `ts` (effective timestamps never decrease within a session).
    pub fn add(&mut self, ts: i64) {
        let m = ts.div_euclid(MS_PER_MINUTE);
        if self.minute == i64::MIN || m.saturating_sub(self.minute) >= RATE_MINUTES as i64 {
            self.counts = [0; RATE_MINUTES];
            self.minute = m;
        } else if m > self.minute {
            for k in (self.minute + 1)..=m {
                if let Some(c) = self.counts.get_mut(bucket(k)) {
                    *c = 0;
                }
            }
            self.minute = m;
        } else if self.minute - m >= RATE_MINUTES as i64 {
            return;
        }
        if let Some(c) = self.counts.get_mut(bucket(m)) {
            *c = c.saturating_add(1);
        }
    }

    /// Requests in the minutes `(m − w, m]` for w = 5, 30, 120, where `m` is the minute of `ts`.
    pub fn window_counts(&self, ts: i64) -> [u64; 3] {
        if self.minute == i64::MIN {
            return [0; 3];
        }
        let m = ts.div_euclid(MS_PER_MINUTE);
        let mut out = [0u64; 3];
        let mut acc = 0u64;
        for k in 0..RATE_MINUTES as i64 {
            let minute = m - k;
            if minute <= self.minute && self.minute - minute < RATE_MINUTES as i64 {
                acc += u64::from(self.counts.get(bucket(minute)).copied().unwrap_or(0));
            }
            match k {
                4 => out[0] = acc,
                29 => out[1] = acc,
                _ => {}
            }
        }
        out[2] = acc;
        out
    }

    pub fn clear(&mut self) {
        *self = RateBuckets::default();
    }

    /// `(newest minute, counts from oldest to newest minute)` for snapshots.
    pub fn to_parts(&self) -> (i64, Vec<u32>) {
        if self.minute == i64::MIN {
            return (i64::MIN, Vec::new());
        }
        let counts = (0..RATE_MINUTES as i64)
            .rev()
            .map(|k| {
                self.counts
                    .get(bucket(self.minute - k))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        (self.minute, counts)
    }

    /// Inverse of [`RateBuckets::to_parts`]; `None` if malformed.
    pub fn from_parts(minute: i64, counts: &[u32]) -> Option<Self> {
        let mut b = RateBuckets::default();
        if minute == i64::MIN {
            return counts.is_empty().then_some(b);
        }
        if counts.len() != RATE_MINUTES {
            return None;
        }
        b.minute = minute;
        for (k, &c) in (0..RATE_MINUTES as i64).rev().zip(counts) {
            if let Some(slot) = b.counts.get_mut(bucket(minute - k)) {
                *slot = c;
            }
        }
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::signals::SignalCategory;
    use crate::features::Severity;

    fn rec(w: &mut EventWindow, ts: i64, action: u64) -> EventRec {
        w.make_room();
        let a = w.actions.intern(action);
        let e = w.endpoints.intern(action);
        let burst = w.completes_burst(ts);
        EventRec {
            ts,
            endpoint: e,
            action: a,
            ip: 255,
            ua: 255,
            loc: 255,
            hour: 0,
            flags: if burst { FLAG_BURST } else { 0 },
        }
    }

    #[test]
    fn gaps_and_ngrams_on_a_small_sequence() {
        let mut w = EventWindow::default();
        // actions A B A B C at 0, 1s, 3s, 3s, 10s
        for (ts, a) in [(0, 1), (1000, 2), (3000, 1), (3000, 2), (10_000, 3)] {
            let r = rec(&mut w, ts, a);
            w.push(r);
        }
        assert_eq!(w.gap_min_max_ms(), (0, 7000));
        let (mean, std) = w.gap_mean_std_ms();
        assert_eq!(mean, 2500.0);
        // gaps 1000, 2000, 0, 7000: var = (1.5e6² + 0.5e6² + 2.5e6² + 4.5e6²)/4
        assert!((std - ((2.25e6 + 0.25e6 + 6.25e6 + 20.25e6) / 4.0f64).sqrt()).abs() < 1e-6);
        // bigrams AB BA AB BC: distinct 3, AB twice; trigrams ABA BAB ABC distinct 3
        assert_eq!(w.ngram_counts(), (3, 3, 2, 2));
        assert_eq!(w.transitions(), 4);
        // lag 2: A_A, B_B, A_C -> 2 of 3
        assert!((w.cyclic_score() - 2.0 / 3.0).abs() < 1e-12);
        // successors: A -> {B, B}: certain; B -> {A, C}: one bit -> H = (2/4)·ln 2
        assert!((w.predictability() - (-(0.5 * 2f64.ln())).exp()).abs() < 1e-6);
    }

    #[test]
    fn bursts_are_counted_as_runs() {
        let mut w = EventWindow::default();
        // 12 events 1 s apart: events 10, 11, 12 complete bursts -> one run
        for i in 0..12 {
            let r = rec(&mut w, i * 1000, 1);
            w.push(r);
        }
        assert_eq!(w.burst_runs(), 1);
        // a pause, then 10 more quick events: a second run
        for i in 0..10 {
            let r = rec(&mut w, 1_000_000 + i * 1000, 1);
            w.push(r);
        }
        assert_eq!(w.burst_runs(), 2);
    }

    #[test]
    fn eviction_restores_exact_aggregates() {
        // the aggregates after pushing N events equal those of a window built from only the
        // last 200 of them
        let mut live = EventWindow::default();
        let mut all = Vec::new();
        for i in 0..450i64 {
            let a = ((i * 7) % 11 + (i / 50)) as u64;
            let ts = i * 1000 + (i % 13) * 137;
            let r = rec(&mut live, ts, a);
            live.push(r);
            all.push((ts, a));
        }
        let mut fresh = EventWindow::default();
        for &(ts, a) in &all[all.len() - WINDOW..] {
            let r = rec(&mut fresh, ts, a);
            fresh.push(r);
        }
        assert_eq!(live.len(), WINDOW);
        assert_eq!(live.gap_mean_std_ms(), fresh.gap_mean_std_ms());
        assert_eq!(live.gap_min_max_ms(), fresh.gap_min_max_ms());
        assert_eq!(live.ngram_counts(), fresh.ngram_counts());
        assert_eq!(live.predictability(), fresh.predictability());
        assert_eq!(live.cyclic_score(), fresh.cyclic_score());
        assert_eq!(live.transitions(), fresh.transitions());
        assert_eq!(live.actions.distinct(), fresh.actions.distinct());
        assert_eq!(live.burst_runs(), fresh.burst_runs());
    }

    #[test]
    fn signal_window_statistics() {
        let mut s = SignalWindow::default();
        assert_eq!(s.risk_stats(), [0.0; 5]);
        assert_eq!(s.risk_trend(), 0.0);
        for r in [10.0, 30.0, 20.0, 40.0] {
            s.push(SignalRec::new(SignalCategory::Geo, Severity::High, r));
        }
        let [mean, std, min, max, median] = s.risk_stats();
        assert_eq!((mean, min, max, median), (25.0, 10.0, 40.0, 25.0));
        assert!((std - 125f64.sqrt()).abs() < 1e-12);
        // slope of 10,30,20,40 against 0..3 = 8
        assert!((s.risk_trend() - 8.0).abs() < 1e-12);
        assert_eq!(s.category_entropy(), 0.0);
        s.push(SignalRec::new(SignalCategory::Ua, Severity::Low, 0.0));
        assert_eq!(s.category_counts()[SignalCategory::Geo as usize], 4);
        assert_eq!(s.severity_counts(), &[1, 0, 4, 0]);
        let p = 0.8f64;
        assert!((s.category_entropy() - (-(p * p.log2()) - (0.2 * 0.2f64.log2()))).abs() < 1e-12);
    }

    #[test]
    fn signal_window_slides_exactly() {
        let mut live = SignalWindow::default();
        let vals: Vec<f64> = (0..530).map(|i| ((i * 37) % 101) as f64 * 0.73).collect();
        for &v in &vals {
            live.push(SignalRec::new(SignalCategory::Other, Severity::Moderate, v));
        }
        let mut fresh = SignalWindow::default();
        for &v in &vals[vals.len() - WINDOW..] {
            fresh.push(SignalRec::new(SignalCategory::Other, Severity::Moderate, v));
        }
        assert_eq!(live.risk_stats(), fresh.risk_stats());
        assert_eq!(live.risk_trend(), fresh.risk_trend());
        assert_eq!(live.len(), WINDOW);
    }

    #[test]
    fn rate_buckets_count_by_minute() {
        let mut b = RateBuckets::default();
        assert_eq!(b.window_counts(0), [0; 3]);
        let t0 = 1_000 * MS_PER_MINUTE;
        for k in [0, 0, 3, 10, 60, 100] {
            b.add(t0 + k * MS_PER_MINUTE);
        }
        let now = t0 + 100 * MS_PER_MINUTE;
        // 5-min window: minutes 96..=100 -> 1; 30: 71..=100 -> 1; 120: all 6
        assert_eq!(b.window_counts(now), [1, 1, 6]);
        assert_eq!(b.window_counts(now + 4 * MS_PER_MINUTE), [1, 1, 6]);
        assert_eq!(
            b.window_counts(now + 45 * MS_PER_MINUTE),
            [0, 0, 2],
            "minutes 0..=25 left the window"
        );
        let (m, parts) = b.to_parts();
        assert_eq!(RateBuckets::from_parts(m, &parts), Some(b.clone()));
        assert_eq!(RateBuckets::from_parts(m, &parts[1..]), None);
        // a jump beyond two hours clears everything
        b.add(now + 500 * MS_PER_MINUTE);
        assert_eq!(b.window_counts(now + 500 * MS_PER_MINUTE), [1, 1, 1]);
    }
}

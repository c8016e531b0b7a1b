//! Per-session state: identity facts (start, last request, bound device), the last-seen
//! network identity for change signals, and the windows.
//!
//! A snapshot stores only the primary data — the records in each window, the id tables, the
//! per-minute counts and the scalars — and loading rebuilds every aggregate by replaying the
//! records through the same `push` the live path uses. So a snapshot cannot carry
//! inconsistent aggregates, and a corrupted one is rejected instead of causing wrong features.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::signals::SignalRec;
use super::tables::Interner;
use super::window::{
    EventRec, EventWindow, RateBuckets, SignalWindow, FLAG_ANOMALOUS, FLAG_BURST, FLAG_RUN_START,
    WINDOW,
};

#[derive(Clone, Debug, Default)]
pub(crate) struct SessionState {
    /// Stable hash of the session id (how the user's session index refers to it).
    pub id_hash: u64,
    /// Stable hash of the id of the user who opened it: its group in the sessions map (see
    /// `features::lru`, fair-share eviction).
    pub user_hash: u64,
    /// Start of the session (from the host, else the first request).
    pub started_at: i64,
    /// Effective timestamp of the first request observed.
    pub first_seen: i64,
    /// Effective timestamp of the latest request.
    pub last_ts: i64,
    /// Requests observed since the session (re)started.
    pub events_total: u64,
    pub last_ip: Option<u64>,
    pub last_ua: Option<u64>,
    /// The first device fingerprint the session presented.
    pub device: Option<u64>,
    pub rates: RateBuckets,
    pub window: EventWindow,
    pub signals: SignalWindow,
}

impl super::lru::Grouped for SessionState {
    fn group(&self) -> u64 {
        self.user_hash
    }
    fn established(&self) -> bool {
        self.events_total > 1
    }
}

impl SessionState {
    pub fn is_empty(&self) -> bool {
        self.events_total == 0
    }

    /// Back to a fresh session, keeping allocations.
    pub fn reset(&mut self) {
        self.id_hash = 0;
        self.user_hash = 0;
        self.started_at = 0;
        self.first_seen = 0;
        self.last_ts = 0;
        self.events_total = 0;
        self.last_ip = None;
        self.last_ua = None;
        self.device = None;
        self.rates.clear();
        self.window.clear(false);
        self.signals.clear();
    }

    pub fn heap_bytes(&self) -> usize {
        self.window.heap_bytes() + self.signals.heap_bytes()
    }
}

/// The serialized form of a session.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionSnapshot<E, S, I> {
    id_hash: u64,
    user_hash: u64,
    started_at: i64,
    first_seen: i64,
    last_ts: i64,
    events_total: u64,
    last_ip: Option<u64>,
    last_ua: Option<u64>,
    device: Option<u64>,
    rate_minute: i64,
    rate_counts: Vec<u32>,
    endpoints: I,
    actions: I,
    ips: I,
    uas: I,
    locations: I,
    events: E,
    signals: S,
}

impl Serialize for SessionState {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let (rate_minute, rate_counts) = self.rates.to_parts();
        let w = &self.window;
        SessionSnapshot {
            id_hash: self.id_hash,
            user_hash: self.user_hash,
            started_at: self.started_at,
            first_seen: self.first_seen,
            last_ts: self.last_ts,
            events_total: self.events_total,
            last_ip: self.last_ip,
            last_ua: self.last_ua,
            device: self.device,
            rate_minute,
            rate_counts,
            endpoints: &w.endpoints,
            actions: &w.actions,
            ips: &w.ips,
            uas: &w.uas,
            locations: &w.locations,
            events: w.events(),
            signals: self.signals.signals(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SessionState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snap: SessionSnapshot<Vec<EventRec>, Vec<SignalRec>, Interner> =
            SessionSnapshot::deserialize(deserializer)?;
        SessionState::from_snapshot(snap).map_err(serde::de::Error::custom)
    }
}

impl SessionState {
    fn from_snapshot(
        s: SessionSnapshot<Vec<EventRec>, Vec<SignalRec>, Interner>,
    ) -> Result<Self, String> {
        if s.events.len() > WINDOW || s.signals.len() > WINDOW {
            return Err(format!("session window holds more than {WINDOW} records"));
        }
        if (s.events_total as usize) < s.events.len() || (s.events_total > 0 && s.events.is_empty())
        {
            return Err("session event count disagrees with its window".into());
        }
        let rates = RateBuckets::from_parts(s.rate_minute, &s.rate_counts)
            .ok_or("malformed rate buckets")?;
        let mut window = EventWindow::with_ids(s.endpoints, s.actions, s.ips, s.uas, s.locations);
        for t in [
            &window.endpoints,
            &window.actions,
            &window.ips,
            &window.uas,
            &window.locations,
        ] {
            if !t.is_valid() {
                return Err("session id table too large".into());
            }
        }
        let mut prev_ts = i64::MIN;
        for e in &s.events {
            let ids_ok = window.endpoints.is_valid_id(e.endpoint)
                && window.actions.is_valid_id(e.action)
                && e.action != super::tables::NONE_ID
                && window.ips.is_valid_id(e.ip)
                && window.uas.is_valid_id(e.ua)
                && window.locations.is_valid_id(e.loc);
            if !ids_ok
                || e.hour >= 24
                || e.ts < prev_ts
                || e.flags & !(FLAG_BURST | FLAG_ANOMALOUS | FLAG_RUN_START) != 0
            {
                return Err("malformed event record in session window".into());
            }
            if e.ts > s.last_ts {
                return Err("event record later than the session's last request".into());
            }
            prev_ts = e.ts;
            window.push(*e);
        }
        let mut signals = SignalWindow::default();
        for r in &s.signals {
            if !r.is_valid() {
                return Err("malformed signal record in session window".into());
            }
            signals.push(*r);
        }
        Ok(SessionState {
            id_hash: s.id_hash,
            user_hash: s.user_hash,
            started_at: s.started_at,
            first_seen: s.first_seen,
            last_ts: s.last_ts,
            events_total: s.events_total,
            last_ip: s.last_ip,
            last_ua: s.last_ua,
            device: s.device,
            rates,
            window,
            signals,
        })
    }
}

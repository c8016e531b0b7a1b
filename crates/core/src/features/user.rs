//! Per-user state: the small indexes the graph features and the cross-session signals need —
//! the user's recent sessions, IPs and devices with when each was last seen, the times the
//! user switched sessions or failed authentication, and the last known position.
//!
//! Every index is a short array with a fixed cap, replaced least-recently-seen first, so a user
//! costs a bounded number of bytes however much traffic arrives under their id.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Sessions remembered per user.
pub const USER_SESSIONS: usize = 32;
/// IPs remembered per user.
pub const USER_IPS: usize = 64;
/// Devices remembered per user.
pub const USER_DEVICES: usize = 32;
/// Session switches remembered per user (enough for the 10-minute rate to saturate at 6.4/min).
pub const USER_SWITCHES: usize = 64;
/// Sensitive actions remembered per user.
pub const USER_SENSITIVE: usize = 32;
/// Largest failed-authentication ring (the configured threshold is at most this).
pub const MAX_FAILED_AUTH: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserSession {
    pub id: u64,
    pub started: i64,
    pub last_seen: i64,
}

/// Sessions whose uses of one sensitive action are counted one by one.
pub const SENSITIVE_SESSIONS: usize = 4;

/// A user's use of one sensitive action: when, and how many times per session.
///
/// Why a slot per session: a user often has several sessions at once (two devices, two tabs)
/// and an attacker in a stolen session runs beside the victim's own. With a single "current
/// session" count, each session's use reset the other's count, so a session exporting fifty
/// reports between the victim's exports never exceeded anything, and its count even became the
/// victim's record. The latest [`SENSITIVE_SESSIONS`] sessions are counted exactly; an older one
/// leaves its count in `record` when its slot is taken.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SensitiveUse {
    pub hash: u64,
    pub last_seen: i64,
    /// Uses per session, for the sessions that used it last (`count` 0: a free slot).
    pub sessions: [SessionUses; SENSITIVE_SESSIONS],
    /// Most uses in one session that has left `sessions`...
    pub record: u16,
    /// ...and that session's last use (the record expires a window after it).
    pub record_seen: i64,
}

/// How many times one session used a sensitive action, and when it last did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionUses {
    pub session: u64,
    pub count: u16,
    pub last_seen: i64,
}

impl SensitiveUse {
    fn fresh(hash: u64) -> Self {
        SensitiveUse {
            hash,
            last_seen: i64::MIN,
            sessions: [SessionUses::default(); SENSITIVE_SESSIONS],
            record: 0,
            record_seen: i64::MIN,
        }
    }

    /// Counts one use by `session` at `t` and returns the session's uses so far and the most
    /// uses of any *other* session whose last use is after `since`.
    fn count_use(&mut self, session: u64, t: i64, since: i64) -> (u16, u16) {
        if self.record_seen <= since {
            self.record = 0;
        }
        for s in &mut self.sessions {
            if s.count > 0 && s.last_seen <= since {
                *s = SessionUses::default();
            }
        }
        let slot = match self
            .sessions
            .iter()
            .position(|s| s.count > 0 && s.session == session)
        {
            Some(i) => i,
            None => {
                let i = self
                    .sessions
                    .iter()
                    .position(|s| s.count == 0)
                    .or_else(|| {
                        let oldest = self
                            .sessions
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, s)| s.last_seen);
                        oldest.map(|(i, _)| i)
                    })
                    .unwrap_or(0);
                if let Some(old) = self.sessions.get(i).copied() {
                    if old.count > 0 && old.count >= self.record {
                        self.record = old.count;
                        self.record_seen = old.last_seen;
                    }
                }
                if let Some(s) = self.sessions.get_mut(i) {
                    *s = SessionUses {
                        session,
                        count: 0,
                        last_seen: t,
                    };
                }
                i
            }
        };
        let mut others = self.record;
        for (i, s) in self.sessions.iter().enumerate() {
            if i != slot && s.count > 0 {
                others = others.max(s.count);
            }
        }
        let own = match self.sessions.get_mut(slot) {
            Some(s) => {
                s.count = s.count.saturating_add(1);
                s.last_seen = s.last_seen.max(t);
                s.count
            }
            None => 0,
        };
        (own, others)
    }
}

/// What one sensitive request tells about the user's habits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SensitiveCheck {
    /// Not used in the last week by a user known for long enough.
    pub new: bool,
    /// Used in this session more than `max(min, factor × record)` times.
    pub over_volume: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Seen {
    pub hash: u64,
    pub last_seen: i64,
}

/// A position in 1e-7 degrees (about 1 cm): integers, so that snapshots in any format
/// (JSON's float parsing is not always exact) restore exactly what was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Located {
    pub lat_e7: i32,
    pub lon_e7: i32,
    pub ts: i64,
}

impl Located {
    /// `p` must be valid (finite, in range), which keeps the products within `i32`.
    pub fn new(p: super::event::GeoPoint, ts: i64) -> Self {
        Located {
            lat_e7: (p.lat * 1e7).round() as i32,
            lon_e7: (p.lon * 1e7).round() as i32,
            ts,
        }
    }

    pub fn point(&self) -> super::event::GeoPoint {
        super::event::GeoPoint {
            lat: f64::from(self.lat_e7) / 1e7,
            lon: f64::from(self.lon_e7) / 1e7,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "UserRepr")]
pub(crate) struct UserState {
    /// Effective timestamp of the user's latest request.
    pub last_ts: i64,
    /// Effective timestamp of the user's first request (since the user (re)started).
    pub first_seen: i64,
    pub events_total: u64,
    /// Id hash of the session of the latest request.
    pub last_session: Option<u64>,
    pub sessions: Vec<UserSession>,
    pub ips: Vec<Seen>,
    pub devices: Vec<Seen>,
    /// HIGH/CRITICAL actions the user used.
    pub sensitive: Vec<SensitiveUse>,
    pub switches: VecDeque<i64>,
    pub failed_auth: VecDeque<i64>,
    pub last_location: Option<Located>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRepr {
    last_ts: i64,
    first_seen: i64,
    events_total: u64,
    last_session: Option<u64>,
    sessions: Vec<UserSession>,
    ips: Vec<Seen>,
    devices: Vec<Seen>,
    sensitive: Vec<SensitiveUse>,
    switches: VecDeque<i64>,
    failed_auth: VecDeque<i64>,
    last_location: Option<Located>,
}

impl super::lru::Grouped for UserState {
    fn established(&self) -> bool {
        self.events_total > 1
    }
}

impl TryFrom<UserRepr> for UserState {
    type Error = String;

    fn try_from(r: UserRepr) -> Result<Self, String> {
        if r.sessions.len() > USER_SESSIONS
            || r.ips.len() > USER_IPS
            || r.devices.len() > USER_DEVICES
            || r.sensitive.len() > USER_SENSITIVE
            || r.switches.len() > USER_SWITCHES
            || r.failed_auth.len() > MAX_FAILED_AUTH
        {
            return Err("user index larger than its cap".into());
        }
        if let Some(l) = r.last_location {
            if !l.point().is_valid() {
                return Err("invalid stored location".into());
            }
        }
        Ok(UserState {
            last_ts: r.last_ts,
            first_seen: r.first_seen,
            events_total: r.events_total,
            last_session: r.last_session,
            sessions: r.sessions,
            ips: r.ips,
            devices: r.devices,
            sensitive: r.sensitive,
            switches: r.switches,
            failed_auth: r.failed_auth,
            last_location: r.last_location,
        })
    }
}

/// Marks `hash` as seen at `t` in a table capped at `cap` entries (replacing the entry seen
/// longest ago when full). Returns when it had been seen before, if it had.
fn touch(table: &mut Vec<Seen>, hash: u64, t: i64, cap: usize) -> Option<i64> {
    if let Some(s) = table.iter_mut().find(|s| s.hash == hash) {
        let before = s.last_seen;
        s.last_seen = s.last_seen.max(t);
        return Some(before);
    }
    if table.len() < cap {
        table.push(Seen { hash, last_seen: t });
    } else if let Some(oldest) = table.iter_mut().min_by_key(|s| s.last_seen) {
        *oldest = Seen { hash, last_seen: t };
    }
    None
}

impl UserState {
    pub fn is_empty(&self) -> bool {
        self.events_total == 0
    }

    pub fn reset(&mut self) {
        self.last_ts = 0;
        self.first_seen = 0;
        self.events_total = 0;
        self.last_session = None;
        self.sessions.clear();
        self.ips.clear();
        self.devices.clear();
        self.sensitive.clear();
        self.switches.clear();
        self.failed_auth.clear();
        self.last_location = None;
    }

    /// Records a request of session `id` (started at `started`) at `t`; `fresh` when the
    /// session (re)started with this request, which replaces a remembered start.
    pub fn touch_session(&mut self, id: u64, started: i64, t: i64, fresh: bool) {
        if let Some(s) = self.sessions.iter_mut().find(|s| s.id == id) {
            s.last_seen = s.last_seen.max(t);
            s.started = if fresh {
                started
            } else {
                s.started.min(started)
            };
        } else {
            let new = UserSession {
                id,
                started,
                last_seen: t,
            };
            if self.sessions.len() < USER_SESSIONS {
                self.sessions.push(new);
            } else if let Some(oldest) = self.sessions.iter_mut().min_by_key(|s| s.last_seen) {
                *oldest = new;
            }
        }
        if self.last_session.is_some_and(|last| last != id) {
            if self.switches.len() >= USER_SWITCHES {
                self.switches.pop_front();
            }
            self.switches.push_back(t);
        }
        self.last_session = Some(id);
    }

    /// Records an IP seen at `t`.
    pub fn touch_ip(&mut self, hash: u64, t: i64) {
        touch(&mut self.ips, hash, t, USER_IPS);
    }

    /// Records a device; true when the user had other devices in the window but not this one.
    pub fn touch_device(&mut self, hash: u64, t: i64, window_ms: i64) -> bool {
        let since = t.saturating_sub(window_ms);
        let had_others = self
            .devices
            .iter()
            .any(|d| d.hash != hash && d.last_seen > since);
        let before = touch(&mut self.devices, hash, t, USER_DEVICES);
        had_others && before.is_none_or(|b| b <= since)
    }

    /// Records a use of sensitive action `hash` in `session` at `t`. `new` when the user,
    /// known for at least `known_ms`, had not used it within `window_ms`; `over_volume` when
    /// this session has now used it more than `max(min, factor × record)` times, the record
    /// being the most uses in one other session of the user within `window_ms` (concurrent
    /// sessions included; see [`SensitiveUse`]).
    pub fn record_sensitive(
        &mut self,
        hash: u64,
        session: u64,
        t: i64,
        window_ms: i64,
        known_ms: i64,
        (min, factor): (u16, f64),
    ) -> SensitiveCheck {
        let known = !self.is_empty() && t.saturating_sub(self.first_seen) >= known_ms;
        let since = t.saturating_sub(window_ms);
        let entry = match self.sensitive.iter().position(|s| s.hash == hash) {
            Some(i) => i,
            None if self.sensitive.len() < USER_SENSITIVE => {
                self.sensitive.push(SensitiveUse::fresh(hash));
                self.sensitive.len() - 1
            }
            None => {
                let oldest = self
                    .sensitive
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map_or(0, |(i, _)| i);
                if let Some(s) = self.sensitive.get_mut(oldest) {
                    *s = SensitiveUse::fresh(hash);
                }
                oldest
            }
        };
        let Some(s) = self.sensitive.get_mut(entry) else {
            return SensitiveCheck {
                new: false,
                over_volume: false,
            };
        };
        let new = known && s.last_seen <= since;
        let (own, record) = s.count_use(session, t, since);
        s.last_seen = s.last_seen.max(t);
        let limit = f64::from(min).max(factor * f64::from(record));
        SensitiveCheck {
            new,
            over_volume: f64::from(own) > limit,
        }
    }

    /// Records a failed authentication at `t`; true when it completes `threshold` failures
    /// within `(t − window, t]`.
    pub fn record_failed_auth(&mut self, t: i64, threshold: usize, window_ms: i64) -> bool {
        let threshold = threshold.clamp(1, MAX_FAILED_AUTH);
        while self.failed_auth.len() >= threshold {
            self.failed_auth.pop_front();
        }
        self.failed_auth.push_back(t);
        self.failed_auth.len() >= threshold
            && self
                .failed_auth
                .front()
                .is_some_and(|&f| f > t.saturating_sub(window_ms))
    }

    pub fn sessions_started_since(&self, since: i64) -> usize {
        self.sessions.iter().filter(|s| s.started > since).count()
    }

    pub fn sessions_active_since(&self, since: i64) -> usize {
        self.sessions.iter().filter(|s| s.last_seen > since).count()
    }

    /// Mean duration (ms) of the sessions seen since `since`; 0 when none.
    pub fn mean_session_duration_ms(&self, since: i64) -> f64 {
        let (sum, n) = self.sessions.iter().filter(|s| s.last_seen > since).fold(
            (0f64, 0usize),
            |(sum, n), s| {
                (
                    sum + s.last_seen.saturating_sub(s.started).max(0) as f64,
                    n + 1,
                )
            },
        );
        if n == 0 {
            0.0
        } else {
            sum / n as f64
        }
    }

    pub fn switches_since(&self, since: i64) -> usize {
        self.switches
            .iter()
            .rev()
            .take_while(|&&s| s > since)
            .count()
    }

    pub fn ips_since(&self, since: i64) -> usize {
        self.ips.iter().filter(|s| s.last_seen > since).count()
    }

    pub fn devices_since(&self, since: i64) -> usize {
        self.devices.iter().filter(|s| s.last_seen > since).count()
    }

    pub fn heap_bytes(&self) -> usize {
        self.sessions.capacity() * std::mem::size_of::<UserSession>()
            + (self.ips.capacity() + self.devices.capacity()) * std::mem::size_of::<Seen>()
            + self.sensitive.capacity() * std::mem::size_of::<SensitiveUse>()
            + (self.switches.capacity() + self.failed_auth.capacity()) * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_index_counts_switches_and_replaces_oldest() {
        let mut u = UserState::default();
        u.touch_session(1, 0, 10, true);
        u.touch_session(1, 0, 20, false);
        u.touch_session(2, 15, 30, true);
        u.touch_session(1, 0, 40, false);
        assert_eq!(u.switches.iter().copied().collect::<Vec<_>>(), vec![30, 40]);
        assert_eq!(u.sessions_started_since(5), 1);
        assert_eq!(u.sessions_active_since(35), 1);
        assert_eq!(u.mean_session_duration_ms(0), (40.0 + 15.0) / 2.0);
        for id in 10..(10 + USER_SESSIONS as u64) {
            u.touch_session(id, 100, 100 + id as i64, true);
        }
        assert_eq!(u.sessions.len(), USER_SESSIONS);
        assert!(
            u.sessions.iter().all(|s| s.id >= 10),
            "sessions 1 and 2 were seen longest ago"
        );
    }

    #[test]
    fn new_devices_are_flagged_only_against_a_known_set() {
        let mut u = UserState::default();
        let week = 7 * 86_400_000;
        assert!(!u.touch_device(1, 0, week), "the first device is not 'new'");
        assert!(!u.touch_device(1, 10, week));
        assert!(u.touch_device(2, 20, week));
        assert!(!u.touch_device(2, 30, week));
        // device 1 comes back after more than a week unseen while 2 stayed in use
        assert!(!u.touch_device(2, 20 + week, week));
        assert!(u.touch_device(1, 40 + week, week));
        assert_eq!(u.devices_since(week), 2);
    }

    const DAY: i64 = 86_400_000;

    /// A user first seen at 0, with one request behind them.
    fn known_user() -> UserState {
        UserState {
            events_total: 1,
            first_seen: 0,
            ..UserState::default()
        }
    }

    #[test]
    fn sensitive_use_is_new_once_and_voluminous_beyond_the_record() {
        let mut u = known_user();
        let (day, week) = (DAY, 7 * DAY);
        let limits = (3, 2.0);
        let mut check = |session: u64, t: i64| u.record_sensitive(9, session, t, week, day, limits);
        // known for two days: the first use is new; 4 uses in one session exceed max(3, 0)
        let first: Vec<SensitiveCheck> = (0..4).map(|k| check(1, 2 * day + k)).collect();
        assert!(first[0].new && !first[1].new);
        assert_eq!(
            first.iter().map(|c| c.over_volume).collect::<Vec<_>>(),
            [false, false, false, true]
        );
        // next session: the record is 4, so up to 8 uses are fine
        let second: Vec<bool> = (0..9).map(|k| check(2, 3 * day + k).over_volume).collect();
        assert_eq!(
            second.iter().filter(|&&v| v).count(),
            1,
            "only the 9th use exceeds 2 × 4"
        );
        // after a quiet week the record is forgotten and the use is new again
        let later = check(3, 11 * day);
        assert!(later.new && !later.over_volume);
    }

    #[test]
    fn concurrent_sessions_are_counted_apart() {
        let mut u = known_user();
        let (day, week) = (DAY, 7 * DAY);
        let limits = (10, 2.0);
        // the victim's session 1 uses the action once for every three uses of the
        // attacker's session 2, interleaved: each is counted on its own, so session 2 goes
        // over twice session 1's count (its record) once past the minimum of 10
        let mut over = Vec::new();
        let mut t = 2 * day;
        for k in 0..40 {
            t += 1000;
            if k % 4 == 3 {
                assert!(!u.record_sensitive(7, 1, t, week, day, limits).over_volume);
            } else {
                over.push(u.record_sensitive(7, 2, t, week, day, limits).over_volume);
            }
        }
        let first_over = over.iter().position(|&o| o).expect("session 2 goes over");
        // session 2's 11th use: session 1 has 3 uses then, 2 × 3 < 10
        assert_eq!(first_over, 10);
        assert!(over[first_over..].iter().all(|&o| o));
        assert_eq!(
            u.sensitive[0].sessions.iter().map(|s| s.count).max(),
            Some(30)
        );
    }

    #[test]
    fn sensitive_records_outlive_their_slot_for_a_window() {
        let mut u = known_user();
        let (day, week) = (DAY, 7 * DAY);
        let limits = (3, 2.0);
        let mut uses = |session: u64, t: i64, n: usize| {
            (0..n)
                .map(|k| u.record_sensitive(7, session, t + k as i64, week, day, limits))
                .filter(|c| c.over_volume)
                .count()
        };
        // a heavy session of 20 uses, then more light sessions than there are slots
        assert_eq!(uses(1, day, 20), 20 - 3);
        for s in 0..SENSITIVE_SESSIONS as u64 + 2 {
            assert_eq!(uses(10 + s, 2 * day + s as i64 * 1000, 2), 0);
        }
        // session 1 left its slot but its 20 uses are still the record: 40 are fine
        assert_eq!(uses(99, 3 * day, 40), 0);
        // a window after the last use of all of them, nothing is remembered: max(3, 0)
        assert_eq!(uses(100, 4 * day + week, 11), 8);
    }

    #[test]
    fn failed_auth_bursts_need_threshold_within_window() {
        let mut u = UserState::default();
        assert!(!u.record_failed_auth(0, 3, 300_000));
        assert!(!u.record_failed_auth(100_000, 3, 300_000));
        assert!(u.record_failed_auth(200_000, 3, 300_000));
        // 0 leaves the window at 300 000 exactly
        assert!(u.record_failed_auth(350_000, 3, 300_000));
        assert!(!u.record_failed_auth(1_000_000, 3, 300_000));
        assert_eq!(u.failed_auth.len(), 3);
    }

    #[test]
    fn rejects_oversized_or_invalid_snapshots() {
        let u = UserState {
            last_location: Some(Located {
                lat_e7: 950_000_000,
                lon_e7: 0,
                ts: 0,
            }),
            ..UserState::default()
        };
        let json = serde_json::to_string(&u).unwrap();
        assert!(serde_json::from_str::<UserState>(&json).is_err());
        let mut u = UserState {
            ips: vec![
                Seen {
                    hash: 1,
                    last_seen: 0
                };
                USER_IPS + 1
            ],
            ..UserState::default()
        };
        let json = serde_json::to_string(&u).unwrap();
        assert!(serde_json::from_str::<UserState>(&json).is_err());
        u.ips.truncate(3);
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<UserState>(&json).unwrap(), u);
    }
}

//! [`BehaviorState`]: the bounded in-memory history that turns one request into 59 features.
//!
//! `observe` is the only write path, used both when serving and when building training data,
//! so a training vector is by construction the vector the event had when it was scored.
//!
//! ## Time
//! The clock is the events' own timestamps. Each event gets an *effective timestamp*: its own,
//! or the latest effective timestamp already seen for its session or user if that is later.
//! So slightly late or duplicated events are treated as simultaneous with the newest one —
//! inter-arrival times are never negative — and every window is anchored on a clock that never
//! goes back. A jump of more than the idle time (either way) starts the session (or user)
//! afresh, which is also what would have happened had it expired in between: features do not
//! depend on when the host calls [`BehaviorState::expire_idle`].

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

use super::config::StateConfig;
use super::event::{GeoPoint, RequestEvent, Sensitivity, Severity, MAX_TIMESTAMP_MS};
use super::extract::{write_features, Inputs};
use super::geo::{cell_hash, haversine_km};
use super::lru::{Lookup, Lru, LruEntries};
use super::names::N_FEATURES;
use super::normalize::{action_hash, domain, endpoint_hash, method_code, stable_hash, truncate};
use super::session::SessionState;
use super::signals::{DerivedKind, DerivedSignals, SignalRec};
use super::tables::NONE_ID;
use super::time::{LocalTime, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, WEEK_MS};
use super::user::{Located, UserState};
use super::window::{EventRec, BURST_EVENTS, BURST_SPAN_MS, FLAG_ANOMALOUS, FLAG_BURST};

/// What `observe` derived and did, besides writing the features. Plain `Copy` data: observing
/// allocates nothing for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// Signals derived from this event (see [`DerivedKind`]).
    pub derived: DerivedSignals,
    /// The timestamp the windows used (see the module docs).
    pub effective_timestamp: i64,
    /// The event's timestamp was earlier than its session's or user's latest.
    pub out_of_order: bool,
    /// The session had no history (first request, or back after idling or eviction).
    pub new_session: bool,
    /// The user had no history.
    pub new_user: bool,
    /// A least-recently-used session was evicted to make room for this one.
    pub evicted_session: bool,
    /// A least-recently-used user was evicted to make room for this one.
    pub evicted_user: bool,
    /// Some string field exceeded its cap and was truncated.
    pub truncated: bool,
    /// A location was given but invalid (non-finite or out of range) and was ignored.
    pub location_ignored: bool,
    /// External signals beyond `max_signals_per_event` were ignored.
    pub signals_dropped: bool,
}

/// The request facts the state needs, reduced to hashes and codes.
struct Request {
    ts: i64,
    endpoint: Option<u64>,
    method: u8,
    action: u64,
    ip: Option<u64>,
    ua: Option<u64>,
    fingerprint: Option<u64>,
    location: Option<GeoPoint>,
    cell: Option<u64>,
    sensitivity: Option<Sensitivity>,
    size: Option<u64>,
    failed_auth: bool,
    local: LocalTime,
    started_hint: Option<i64>,
}

fn hash_opt(domain: u64, s: Option<&str>, cap: usize, truncated: &mut bool) -> Option<u64> {
    let (s, cut) = truncate(s?, cap);
    *truncated |= cut;
    Some(stable_hash(domain, s.as_bytes()))
}

impl Request {
    fn new(e: &RequestEvent, cfg: &StateConfig, obs: &mut Observation) -> Request {
        let cap = cfg.max_string_bytes;
        let mut cut = false;
        let endpoint = e.endpoint.as_deref().map(|p| {
            let (p, c) = truncate(p, cap);
            cut |= c;
            endpoint_hash(p)
        });
        let method = method_code(e.method.as_deref().map(|m| truncate(m, 16).0));
        let ip = hash_opt(
            domain::IP,
            e.ip_address.as_deref().map(str::trim),
            cap,
            &mut cut,
        );
        let ua = hash_opt(domain::USER_AGENT, e.user_agent.as_deref(), cap, &mut cut);
        let fingerprint = hash_opt(
            domain::DEVICE,
            e.device_fingerprint.as_deref(),
            cap,
            &mut cut,
        );
        obs.truncated |= cut;
        let location = match e.location {
            Some(p) if p.is_valid() => Some(p),
            Some(_) => {
                obs.location_ignored = true;
                None
            }
            None => None,
        };
        let started_hint = match (e.session_started_at, e.session_age_ms) {
            (Some(s), _) if (0..=MAX_TIMESTAMP_MS).contains(&s) => Some(s.min(e.timestamp)),
            (_, Some(age)) if (0..=MAX_TIMESTAMP_MS).contains(&age) => {
                Some(e.timestamp.saturating_sub(age).max(0))
            }
            _ => None,
        };
        Request {
            ts: e.timestamp,
            endpoint,
            method,
            action: action_hash(endpoint.unwrap_or(0), method),
            ip,
            ua,
            fingerprint,
            location,
            cell: location.map(cell_hash),
            sensitivity: e.endpoint_sensitivity,
            size: e.content_length,
            failed_auth: matches!(e.status_code, Some(401 | 403)),
            local: LocalTime::at(e.timestamp, cfg.tz_offset_minutes),
            started_hint,
        }
    }
}

/// Sessions and users in memory, bounded by [`StateConfig`]; plain data, serializable.
///
/// Serialized as `{ config, sessions: [[id, session], …], users: [[id, user], …] }` with
/// entries from most to least recently used; loading validates the configuration and every
/// record and rebuilds all running aggregates (so a snapshot cannot smuggle in inconsistent
/// state).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "StateRepr")]
pub struct BehaviorState {
    config: StateConfig,
    sessions: Lru<SessionState>,
    users: Lru<UserState>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateRepr {
    config: StateConfig,
    sessions: LruEntries<SessionState>,
    users: LruEntries<UserState>,
}

impl TryFrom<StateRepr> for BehaviorState {
    type Error = CoreError;

    fn try_from(r: StateRepr) -> Result<Self> {
        r.config.validate()?;
        let bad = |e: String| CoreError::InvalidParameter {
            name: "state",
            reason: e,
        };
        let sessions = Lru::from_entries(r.sessions.0, sessions_map(&r.config)).map_err(bad)?;
        let users = Lru::from_entries(r.users.0, users_map(&r.config)).map_err(bad)?;
        Ok(BehaviorState {
            config: r.config,
            sessions,
            users,
        })
    }
}

impl Default for BehaviorState {
    fn default() -> Self {
        let config = StateConfig::default();
        BehaviorState {
            sessions: sessions_map(&config),
            users: users_map(&config),
            config,
        }
    }
}

/// The sessions map: fair-share eviction, a user's own sessions first (see `features::lru`).
fn sessions_map(c: &StateConfig) -> Lru<SessionState> {
    Lru::fair(c.max_sessions, c.max_sessions_per_user, c.hash_key)
}

/// The users map: users with history kept before one-request ones (no groups).
fn users_map(c: &StateConfig) -> Lru<UserState> {
    Lru::fair(c.max_users, 0, c.hash_key)
}

fn idle_jump(last: i64, ts: i64, idle: i64) -> bool {
    ts.saturating_sub(last) > idle || last.saturating_sub(ts) > idle
}

impl BehaviorState {
    /// An empty state; fails when the configuration is invalid (see [`StateConfig::validate`]).
    pub fn new(config: StateConfig) -> Result<Self> {
        config.validate()?;
        Ok(BehaviorState {
            sessions: sessions_map(&config),
            users: users_map(&config),
            config,
        })
    }

    pub fn config(&self) -> &StateConfig {
        &self.config
    }

    pub(crate) fn sessions_map(&self) -> &Lru<SessionState> {
        &self.sessions
    }

    pub(crate) fn users_map(&self) -> &Lru<UserState> {
        &self.users
    }

    pub fn tracked_sessions(&self) -> usize {
        self.sessions.len()
    }

    pub fn tracked_users(&self) -> usize {
        self.users.len()
    }

    /// An estimate of the heap bytes held (slabs, indexes, windows, id tables), for metrics and
    /// the memory-bound tests. It is bounded by the caps whatever the traffic.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.sessions.heap_bytes(SessionState::heap_bytes)
            + self.users.heap_bytes(UserState::heap_bytes)
    }

    /// Forgets sessions idle for more than `session_idle_ms` and users idle for more than
    /// `user_idle_ms` at `now_ms`, freeing their memory. Returns how many were forgotten
    /// (sessions + users). Calling it or not never changes features (see the module docs).
    pub fn expire_idle(&mut self, now_ms: i64) -> usize {
        let (si, ui) = (self.config.session_idle_ms, self.config.user_idle_ms);
        self.sessions
            .retain(|s| now_ms.saturating_sub(s.last_ts) <= si)
            + self
                .users
                .retain(|u| now_ms.saturating_sub(u.last_ts) <= ui)
    }

    /// Validates and normalises `event`, updates its session and user with it, and writes the
    /// 59 features of the event — in the context of its history including itself — into `out`,
    /// in the order of [`FEATURE_NAMES`](super::FEATURE_NAMES). Every value written is finite.
    ///
    /// Errors (and then leaves the state untouched): empty `session_id` or `user_id`, or a
    /// timestamp outside `0..=MAX_TIMESTAMP_MS`.
    pub fn observe(
        &mut self,
        event: &RequestEvent,
        out: &mut [f64; N_FEATURES],
    ) -> Result<Observation> {
        if event.session_id.is_empty() {
            return Err(CoreError::InvalidEvent("sessionId is empty".into()));
        }
        if event.user_id.is_empty() {
            return Err(CoreError::InvalidEvent("userId is empty".into()));
        }
        if !(0..=MAX_TIMESTAMP_MS).contains(&event.timestamp) {
            return Err(CoreError::InvalidEvent(format!(
                "timestamp {} is outside 0..={MAX_TIMESTAMP_MS} (ms since the epoch)",
                event.timestamp
            )));
        }
        let cfg = &self.config;
        let mut obs = Observation::default();
        let (sid, cut_s) = truncate(&event.session_id, cfg.max_id_bytes);
        let (uid, cut_u) = truncate(&event.user_id, cfg.max_id_bytes);
        obs.truncated = cut_s || cut_u;
        let req = Request::new(event, cfg, &mut obs);

        let (ui, ulook) = self.users.find_or_insert(uid, UserState::reset);
        // odd: never 0, which means "no group"
        let user_hash = stable_hash(domain::USER, uid.as_bytes()) | 1;
        let (si, slook) = self
            .sessions
            .find_or_insert_in(sid, user_hash, SessionState::reset);
        obs.evicted_user = ulook == Lookup::Evicted;
        obs.evicted_session = slook == Lookup::Evicted;
        let internal = || CoreError::InvalidEvent("internal: tracked entry vanished".into());
        let user = self.users.get_mut(ui).ok_or_else(internal)?;
        let session = self.sessions.get_mut(si).ok_or_else(internal)?;

        if !user.is_empty() && idle_jump(user.last_ts, req.ts, cfg.user_idle_ms) {
            user.reset();
        }
        if !session.is_empty() && idle_jump(session.last_ts, req.ts, cfg.session_idle_ms) {
            session.reset();
        }
        obs.new_user = user.is_empty();
        obs.new_session = session.is_empty();

        let mut t = req.ts;
        if !user.is_empty() {
            t = t.max(user.last_ts);
        }
        if !session.is_empty() {
            t = t.max(session.last_ts);
        }
        obs.out_of_order = t != req.ts;
        obs.effective_timestamp = t;
        if user.is_empty() {
            user.first_seen = t;
        }

        let time_since_last_ms = if session.is_empty() {
            0
        } else {
            t - session.last_ts
        };
        if session.is_empty() {
            session.id_hash = stable_hash(domain::SESSION, sid.as_bytes());
            session.user_hash = user_hash;
            session.started_at = req.started_hint.unwrap_or(t).min(t);
            session.first_seen = t;
        } else if let Some(h) = req.started_hint {
            session.started_at = session.started_at.min(h);
        }

        // ---- derived signals --------------------------------------------------------------
        let mut derived = DerivedSignals::default();
        if let (Some(prev), Some(cur)) = (session.last_ip, req.ip) {
            if prev != cur {
                derived.insert(DerivedKind::IpChange);
            }
        }
        if let (Some(prev), Some(cur)) = (session.last_ua, req.ua) {
            if prev != cur {
                derived.insert(DerivedKind::UaChange);
            }
        }
        if let Some(fp) = req.fingerprint {
            match session.device {
                Some(bound) if bound != fp => derived.insert(DerivedKind::DeviceMismatch),
                Some(_) => {}
                None => session.device = Some(fp),
            }
        }
        if let Some(device) = req.fingerprint.or(req.ua) {
            if user.touch_device(device, t, WEEK_MS) {
                derived.insert(DerivedKind::NewDevice);
            }
        }
        if let Some(p) = req.location {
            if let Some(prev) = user.last_location {
                let km = haversine_km(prev.point(), p);
                let hours = (t - prev.ts).max(0) as f64 / MS_PER_HOUR as f64;
                if km >= cfg.min_travel_km
                    && (hours <= 0.0 || km / hours > cfg.impossible_travel_kmh)
                {
                    derived.insert(DerivedKind::ImpossibleTravel);
                } else if km >= cfg.geo_drift_km {
                    derived.insert(DerivedKind::GeoDrift);
                }
            }
            user.last_location = Some(Located::new(p, t));
        }
        session.window.make_room();
        let recent = session.window.count_since(t - BURST_SPAN_MS) as u64 + 1;
        if recent >= BURST_EVENTS as u64 {
            let before = session.events_total.saturating_sub(recent - 1) as f64;
            let minutes =
                ((t - BURST_SPAN_MS - session.first_seen) as f64 / MS_PER_MINUTE as f64).max(5.0);
            if recent as f64 >= cfg.cadence_spike_factor * before / minutes {
                derived.insert(DerivedKind::CadenceSpike);
            }
        }
        match req.sensitivity {
            Some(Sensitivity::High) => derived.insert(DerivedKind::SensitiveEndpoint),
            Some(Sensitivity::Critical) => derived.insert(DerivedKind::CriticalEndpoint),
            _ => {}
        }
        if req.sensitivity >= Some(Sensitivity::High) {
            let check = user.record_sensitive(
                req.action,
                session.id_hash,
                t,
                WEEK_MS,
                MS_PER_DAY,
                (cfg.sensitive_volume_min, cfg.sensitive_volume_factor),
            );
            if check.new {
                derived.insert(DerivedKind::NewSensitiveEndpoint);
            }
            if check.over_volume {
                derived.insert(DerivedKind::SensitiveVolume);
            }
        }
        if req.failed_auth {
            derived.insert(DerivedKind::AuthFailure);
            if derived.contains(DerivedKind::NewDevice) {
                derived.insert(DerivedKind::UnfamiliarAuthFailure);
            }
        }
        if req.failed_auth
            && user.record_failed_auth(
                t,
                cfg.failed_auth_threshold as usize,
                cfg.failed_auth_window_ms,
            )
        {
            derived.insert(DerivedKind::FailedAuthBurst);
        }
        obs.derived = derived;

        // ---- windows ----------------------------------------------------------------------
        let external = event
            .signals
            .get(..cfg.max_signals_per_event)
            .unwrap_or(&event.signals);
        obs.signals_dropped = external.len() < event.signals.len();
        let anomalous = derived.iter().any(|k| k.severity() >= Severity::High)
            || external.iter().any(|s| s.severity >= Severity::High);
        let w = &mut session.window;
        let rec = EventRec {
            ts: t,
            endpoint: req.endpoint.map_or(NONE_ID, |h| w.endpoints.intern(h)),
            action: w.actions.intern(req.action),
            ip: req.ip.map_or(NONE_ID, |h| w.ips.intern(h)),
            ua: req.ua.map_or(NONE_ID, |h| w.uas.intern(h)),
            loc: req.cell.map_or(NONE_ID, |h| w.locations.intern(h)),
            hour: req.local.hour_index,
            flags: if w.completes_burst(t) { FLAG_BURST } else { 0 }
                | if anomalous { FLAG_ANOMALOUS } else { 0 },
        };
        w.push(rec);
        for kind in derived.iter() {
            session.signals.push(SignalRec::derived(kind));
        }
        for s in external {
            session.signals.push(SignalRec::external(s));
        }
        session.rates.add(t);
        session.last_ts = t;
        session.events_total += 1;
        if req.ip.is_some() {
            session.last_ip = req.ip;
        }
        if req.ua.is_some() {
            session.last_ua = req.ua;
        }

        user.touch_session(session.id_hash, session.started_at, t, obs.new_session);
        if let Some(ip) = req.ip {
            user.touch_ip(ip, t);
        }
        user.last_ts = t;
        user.events_total += 1;

        let inputs = Inputs {
            t,
            time_since_last_ms,
            local: req.local,
            is_weekend: event.is_weekend.unwrap_or_else(|| req.local.is_weekend()),
            is_business_hours: event.is_business_hours.unwrap_or_else(|| {
                req.local
                    .is_business_hours(cfg.business_hours_start, cfg.business_hours_end)
            }),
            sensitivity: req.sensitivity.map_or(0, Sensitivity::ordinal),
            method: req.method,
            content_length: req.size,
            active_session_ms: cfg.active_session_ms,
        };
        write_features(out, &inputs, session, user);
        Ok(obs)
    }
}

//! Configuration of the behavioral state: memory caps, idle expiry, calendar, signal thresholds.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

use super::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};

/// Settings of a [`BehaviorState`](super::BehaviorState). Every field has a default; JSON may
/// give any subset (camelCase). [`StateConfig::validate`] says which values are accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StateConfig {
    /// Most sessions tracked at once; the least recently used is evicted beyond it.
    pub max_sessions: usize,
    /// Most users tracked at once; the least recently used is evicted beyond it.
    pub max_users: usize,
    /// Most sessions of one user tracked at once: beyond it a new session of that user takes
    /// the place of the user's own least recently used one, so that one account opening
    /// sessions by the thousand cannot evict everybody else's (`features::lru`). At most
    /// `maxSessions`; a larger value is taken as `maxSessions`.
    pub max_sessions_per_user: usize,
    /// A session idle longer than this is forgotten (by [`expire_idle`]) and, if it comes back,
    /// starts afresh. Also the largest backwards clock jump tolerated within a session.
    ///
    /// [`expire_idle`]: super::BehaviorState::expire_idle
    pub session_idle_ms: i64,
    /// Same for users. Should be at least 7 days so that the weekly IP count means what it says.
    pub user_idle_ms: i64,
    /// Offset east of UTC, in minutes, of the clock the hour and day features use.
    pub tz_offset_minutes: i32,
    /// First business hour (inclusive), local, Monday to Friday.
    pub business_hours_start: u8,
    /// Last business hour (exclusive).
    pub business_hours_end: u8,
    /// Speed above which moving between two located requests is impossible.
    pub impossible_travel_kmh: f64,
    /// Moves shorter than this are never impossible travel (geolocation noise).
    pub min_travel_km: f64,
    /// Moves at least this long (and possible) raise a geographic-drift signal.
    pub geo_drift_km: f64,
    /// A session counts as concurrent when it had a request this recently.
    pub active_session_ms: i64,
    /// 401/403 answers to one user within `failed_auth_window_ms` that make a failed-auth burst.
    pub failed_auth_threshold: u16,
    pub failed_auth_window_ms: i64,
    /// A cadence spike is a last-minute request count this many times the session's baseline
    /// rate (and at least a burst, 10 requests).
    pub cadence_spike_factor: f64,
    /// A session using one sensitive (HIGH/CRITICAL) action more than
    /// `max(sensitiveVolumeMin, sensitiveVolumeFactor × the user's record)` times raises
    /// `SENSITIVE_VOLUME`; the record is the most uses in one earlier session within a week.
    pub sensitive_volume_min: u16,
    pub sensitive_volume_factor: f64,
    /// Cap on endpoint, user-agent, IP and fingerprint strings before they are hashed.
    pub max_string_bytes: usize,
    /// Cap on session and user ids (the only strings stored, as map keys).
    pub max_id_bytes: usize,
    /// External signals beyond this many per event are ignored.
    pub max_signals_per_event: usize,
    /// Key of the session/user index hash (set it from a secret to resist hash flooding; it is
    /// not part of snapshots' meaning, only of the in-memory index).
    pub hash_key: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            max_sessions: 10_000,
            max_users: 10_000,
            max_sessions_per_user: 64,
            session_idle_ms: 4 * MS_PER_HOUR,
            user_idle_ms: 8 * MS_PER_DAY,
            tz_offset_minutes: 0,
            business_hours_start: 9,
            business_hours_end: 18,
            impossible_travel_kmh: 900.0,
            min_travel_km: 100.0,
            geo_drift_km: 500.0,
            active_session_ms: 30 * MS_PER_MINUTE,
            failed_auth_threshold: 3,
            failed_auth_window_ms: 5 * MS_PER_MINUTE,
            cadence_spike_factor: 5.0,
            sensitive_volume_min: 10,
            sensitive_volume_factor: 2.0,
            max_string_bytes: 512,
            max_id_bytes: 256,
            max_signals_per_event: 32,
            hash_key: 0,
        }
    }
}

/// Largest accepted cap on sessions or users (indices are 32-bit).
pub const MAX_TRACKED: usize = 1 << 24;

fn invalid(name: &'static str, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

impl StateConfig {
    /// Checks every field; the first offending one is named in the error.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_TRACKED).contains(&self.max_sessions) {
            return Err(invalid(
                "maxSessions",
                format!("must be in 1..={MAX_TRACKED}, got {}", self.max_sessions),
            ));
        }
        if !(1..=MAX_TRACKED).contains(&self.max_users) {
            return Err(invalid(
                "maxUsers",
                format!("must be in 1..={MAX_TRACKED}, got {}", self.max_users),
            ));
        }
        if !(1..=MAX_TRACKED).contains(&self.max_sessions_per_user) {
            return Err(invalid(
                "maxSessionsPerUser",
                format!(
                    "must be in 1..={MAX_TRACKED}, got {}",
                    self.max_sessions_per_user
                ),
            ));
        }
        for (name, v) in [
            ("sessionIdleMs", self.session_idle_ms),
            ("userIdleMs", self.user_idle_ms),
            ("activeSessionMs", self.active_session_ms),
            ("failedAuthWindowMs", self.failed_auth_window_ms),
        ] {
            if !(1..=365 * MS_PER_DAY).contains(&v) {
                return Err(invalid(
                    name,
                    format!("must be between 1 ms and 365 days, got {v}"),
                ));
            }
        }
        if !(-840..=840).contains(&self.tz_offset_minutes) {
            return Err(invalid(
                "tzOffsetMinutes",
                format!("must be within ±840, got {}", self.tz_offset_minutes),
            ));
        }
        if self.business_hours_start >= self.business_hours_end || self.business_hours_end > 24 {
            return Err(invalid(
                "businessHoursStart",
                format!(
                    "need start < end <= 24, got {}..{}",
                    self.business_hours_start, self.business_hours_end
                ),
            ));
        }
        for (name, v) in [
            ("impossibleTravelKmh", self.impossible_travel_kmh),
            ("minTravelKm", self.min_travel_km),
            ("geoDriftKm", self.geo_drift_km),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(
                    name,
                    format!("must be finite and positive, got {v}"),
                ));
            }
        }
        if !(self.cadence_spike_factor.is_finite() && self.cadence_spike_factor >= 1.0) {
            return Err(invalid(
                "cadenceSpikeFactor",
                format!("must be finite and >= 1, got {}", self.cadence_spike_factor),
            ));
        }
        if !(self.sensitive_volume_factor.is_finite() && self.sensitive_volume_factor >= 1.0) {
            return Err(invalid(
                "sensitiveVolumeFactor",
                format!(
                    "must be finite and >= 1, got {}",
                    self.sensitive_volume_factor
                ),
            ));
        }
        if self.sensitive_volume_min == 0 {
            return Err(invalid("sensitiveVolumeMin", "must be at least 1"));
        }
        if !(1..=64).contains(&self.failed_auth_threshold) {
            return Err(invalid(
                "failedAuthThreshold",
                format!("must be in 1..=64, got {}", self.failed_auth_threshold),
            ));
        }
        if !(1..=65_536).contains(&self.max_string_bytes) {
            return Err(invalid(
                "maxStringBytes",
                format!("must be in 1..=65536, got {}", self.max_string_bytes),
            ));
        }
        if !(1..=4_096).contains(&self.max_id_bytes) {
            return Err(invalid(
                "maxIdBytes",
                format!("must be in 1..=4096, got {}", self.max_id_bytes),
            ));
        }
        if self.max_signals_per_event > 1_024 {
            return Err(invalid(
                "maxSignalsPerEvent",
                format!("must be at most 1024, got {}", self.max_signals_per_event),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_partial_json_fills_defaults() {
        StateConfig::default().validate().unwrap();
        let c: StateConfig =
            serde_json::from_str(r#"{"maxSessions": 5, "tzOffsetMinutes": -300}"#).unwrap();
        assert_eq!(c.max_sessions, 5);
        assert_eq!(c.tz_offset_minutes, -300);
        assert_eq!(c.max_users, StateConfig::default().max_users);
        c.validate().unwrap();
    }

    #[test]
    fn rejects_each_bad_field_by_name() {
        type Mutation = Box<dyn Fn(&mut StateConfig)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("maxSessions", Box::new(|c| c.max_sessions = 0)),
            ("maxUsers", Box::new(|c| c.max_users = MAX_TRACKED + 1)),
            ("sessionIdleMs", Box::new(|c| c.session_idle_ms = 0)),
            ("userIdleMs", Box::new(|c| c.user_idle_ms = -1)),
            ("tzOffsetMinutes", Box::new(|c| c.tz_offset_minutes = 900)),
            (
                "businessHoursStart",
                Box::new(|c| c.business_hours_start = 18),
            ),
            (
                "impossibleTravelKmh",
                Box::new(|c| c.impossible_travel_kmh = f64::NAN),
            ),
            ("geoDriftKm", Box::new(|c| c.geo_drift_km = -1.0)),
            (
                "cadenceSpikeFactor",
                Box::new(|c| c.cadence_spike_factor = 0.5),
            ),
            (
                "failedAuthThreshold",
                Box::new(|c| c.failed_auth_threshold = 0),
            ),
            ("maxStringBytes", Box::new(|c| c.max_string_bytes = 0)),
            ("maxIdBytes", Box::new(|c| c.max_id_bytes = 10_000)),
            (
                "maxSignalsPerEvent",
                Box::new(|c| c.max_signals_per_event = 5_000),
            ),
        ];
        for (name, mutate) in cases {
            let mut c = StateConfig::default();
            mutate(&mut c);
            match c.validate() {
                Err(CoreError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: expected an error, got {other:?}"),
            }
        }
    }
}

//! Feature definitions checked on hand-built event sequences, plus property tests: random
//! streams give finite features, the incremental aggregates equal a brute-force recomputation
//! over the last 200 events, snapshots resume exactly, and idle expiry never changes features.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::error::CoreError;

/// 2024-01-01T10:00:00Z, a Monday.
const T0: i64 = 1_704_103_200_000;
const S: i64 = 1_000;
const MIN: i64 = 60_000;

fn state() -> BehaviorState {
    BehaviorState::new(StateConfig::default()).unwrap()
}

fn ev(ts: i64, session: &str, user: &str) -> RequestEvent {
    RequestEvent::new(ts, session, user)
}

fn at(ts: i64, endpoint: &str, method: &str) -> RequestEvent {
    let mut e = ev(ts, "s1", "u1");
    e.endpoint = Some(endpoint.into());
    e.method = Some(method.into());
    e
}

fn run(st: &mut BehaviorState, e: &RequestEvent) -> [f64; N_FEATURES] {
    let mut out = [f64::NAN; N_FEATURES];
    st.observe(e, &mut out).unwrap();
    out
}

fn get(v: &[f64; N_FEATURES], name: &str) -> f64 {
    v[feature_index(name).unwrap_or_else(|| panic!("no feature {name}"))]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

fn assert_features(v: &[f64; N_FEATURES], expected: &[(&str, f64)]) {
    for (name, want) in expected {
        let got = get(v, name);
        assert!(close(got, *want), "{name}: got {got}, want {want}");
    }
}

#[test]
fn first_event_with_only_ids_has_documented_defaults() {
    let mut st = state();
    let v = run(&mut st, &ev(T0, "s1", "u1"));
    let angle = std::f64::consts::TAU * 10.0 / 24.0;
    let expected: Vec<(&str, f64)> = vec![
        ("request_rate_short", 1.0 / 5.0),
        ("request_rate_medium", 1.0 / 30.0),
        ("request_rate_long", 1.0 / 120.0),
        ("rate_accel_short", 1.0 / 5.0 - 1.0 / 30.0),
        ("rate_accel_medium", 1.0 / 30.0 - 1.0 / 120.0),
        ("time_since_last", 0.0),
        ("hour_sin", angle.sin()),
        ("hour_cos", angle.cos()),
        ("day_sin", 0.0),
        ("day_cos", 1.0),
        ("inter_arrival_mean", 0.0),
        ("inter_arrival_std", 0.0),
        ("inter_arrival_min", 0.0),
        ("inter_arrival_max", 0.0),
        ("signal_endpoint", 0.0),
        ("signal_cadence", 0.0),
        ("signal_geo", 0.0),
        ("signal_ua", 0.0),
        ("signal_priv", 0.0),
        ("risk_mean", 0.0),
        ("risk_std", 0.0),
        ("risk_min", 0.0),
        ("risk_max", 0.0),
        ("risk_median", 0.0),
        ("anomaly_rate", 0.0),
        ("anomaly_count", 0.0),
        ("severity_low", 0.0),
        ("severity_moderate", 0.0),
        ("severity_high", 0.0),
        ("severity_critical", 0.0),
        ("endpoint_diversity", 0.0),
        ("ip_diversity", 0.0),
        ("ua_diversity", 0.0),
        ("location_diversity", 0.0),
        ("signal_entropy", 0.0),
        ("burst_count", 0.0),
        ("hour_diversity", 1.0),
        ("bigram_count", 0.0),
        ("trigram_count", 0.0),
        ("most_common_bigram", 0.0),
        ("sequence_regularity", 0.0),
        ("risk_trend", 0.0),
        ("cyclic_score", 0.0),
        ("state_transitions", 0.0),
        ("predictability", 0.0),
        ("unusual_sequences", 0.0),
        ("session_age", 1.0),
        ("endpoint_sensitivity", 0.0),
        ("http_method", 0.0),
        ("request_size", 0.0),
        ("time_since_session_start", 0.0),
        ("is_weekend", 0.0),
        ("is_business_hours", 1.0),
        ("recent_sessions", 1.0),
        ("concurrent_sessions", 1.0),
        ("avg_session_duration", 0.0),
        ("session_switch_rate", 0.0),
        ("device_diversity", 0.0),
        ("ip_diversity_week", 0.0),
    ];
    assert_eq!(expected.len(), N_FEATURES, "every feature is checked");
    assert_features(&v, &expected);
}

#[test]
fn temporal_rates_gaps_and_regularity() {
    let mut st = state();
    let mut v = [0.0; N_FEATURES];
    for dt in [0, 10 * S, 70 * S, 6 * MIN] {
        v = run(&mut st, &ev(T0 + dt, "s1", "u1"));
    }
    // minutes of the events: m, m, m+1, m+6; at m+6 the 5-minute window is m+2..=m+6
    let gaps: [f64; 3] = [10.0, 60.0, 290.0];
    let mean = 120.0;
    let std = (gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / 3.0).sqrt();
    assert_features(
        &v,
        &[
            ("request_rate_short", 1.0 / 5.0),
            ("request_rate_medium", 4.0 / 30.0),
            ("request_rate_long", 4.0 / 120.0),
            ("rate_accel_short", 1.0 / 5.0 - 4.0 / 30.0),
            ("rate_accel_medium", 4.0 / 30.0 - 4.0 / 120.0),
            ("time_since_last", 290.0),
            ("inter_arrival_mean", mean),
            ("inter_arrival_std", std),
            ("inter_arrival_min", 10.0),
            ("inter_arrival_max", 290.0),
            ("sequence_regularity", 1.0 / (1.0 + std / mean)),
            ("time_since_session_start", 360.0),
            ("session_age", 4.0),
        ],
    );
}

#[test]
fn out_of_order_and_duplicate_timestamps_are_simultaneous() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    st.observe(&ev(T0 + 10 * S, "s1", "u1"), &mut out).unwrap();
    let o = st.observe(&ev(T0, "s1", "u1"), &mut out).unwrap();
    assert!(o.out_of_order);
    assert_eq!(o.effective_timestamp, T0 + 10 * S);
    assert_features(
        &out,
        &[
            ("time_since_last", 0.0),
            ("inter_arrival_min", 0.0),
            ("inter_arrival_max", 0.0),
        ],
    );
    let o = st.observe(&ev(T0 + 10 * S, "s1", "u1"), &mut out).unwrap();
    assert!(!o.out_of_order, "a duplicate timestamp is not out of order");
    assert_features(
        &out,
        &[
            ("time_since_last", 0.0),
            ("inter_arrival_mean", 0.0),
            ("sequence_regularity", 1.0),
            ("session_age", 3.0),
        ],
    );
    // the hour features use the event's own time, not the clamped one
    let mut e = ev(T0 - 2 * 3_600_000, "s1", "u1");
    e.is_business_hours = None;
    let o = st.observe(&e, &mut out).unwrap();
    assert!(
        o.out_of_order && !o.new_session,
        "2 h back is within the 4 h idle time"
    );
    let angle = std::f64::consts::TAU * 8.0 / 24.0;
    assert_features(
        &out,
        &[
            ("hour_sin", angle.sin()),
            ("is_business_hours", 0.0),
            ("time_since_last", 0.0),
        ],
    );
}

#[test]
fn a_clock_jump_beyond_the_idle_time_restarts_the_session() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    st.observe(&ev(T0 + 10 * 3_600_000, "s1", "u1"), &mut out)
        .unwrap();
    let o = st.observe(&ev(T0, "s1", "u1"), &mut out).unwrap();
    assert!(o.new_session, "10 h back > 4 h idle: new session");
    assert!(
        o.out_of_order && o.effective_timestamp == T0 + 10 * 3_600_000,
        "the user's clock does not go back"
    );
    assert_features(&out, &[("session_age", 1.0), ("time_since_last", 0.0)]);
    // forwards too
    let mut st = state();
    st.observe(&ev(T0, "s1", "u1"), &mut out).unwrap();
    let o = st
        .observe(&ev(T0 + 5 * 3_600_000, "s1", "u1"), &mut out)
        .unwrap();
    assert!(o.new_session && !o.out_of_order);
    // beyond the user idle time the user restarts as well, and the clock with it
    let o = st
        .observe(&ev(T0 - 9 * 86_400_000, "s1", "u1"), &mut out)
        .unwrap();
    assert!(o.new_session && o.new_user && !o.out_of_order);
}

#[test]
fn calendar_features_follow_the_offset_and_caller_overrides() {
    let cfg = StateConfig {
        tz_offset_minutes: -300,
        ..StateConfig::default()
    };
    let mut st = BehaviorState::new(cfg).unwrap();
    let v = run(&mut st, &ev(T0, "s1", "u1"));
    let angle = std::f64::consts::TAU * 5.0 / 24.0;
    assert_features(
        &v,
        &[
            ("hour_sin", angle.sin()),
            ("hour_cos", angle.cos()),
            ("is_business_hours", 0.0),
        ],
    );
    // Sunday 23:00 UTC is Monday 01:00 at UTC+2
    let cfg = StateConfig {
        tz_offset_minutes: 120,
        ..StateConfig::default()
    };
    let mut st = BehaviorState::new(cfg).unwrap();
    let v = run(&mut st, &ev(T0 - 11 * 3_600_000, "s1", "u1"));
    assert_features(
        &v,
        &[("is_weekend", 0.0), ("day_sin", 0.0), ("day_cos", 1.0)],
    );
    // Saturday noon UTC: weekend, day 5
    let mut st = state();
    let v = run(
        &mut st,
        &ev(T0 + 5 * 86_400_000 + 2 * 3_600_000, "s1", "u1"),
    );
    let day = std::f64::consts::TAU * 5.0 / 7.0;
    assert_features(
        &v,
        &[
            ("is_weekend", 1.0),
            ("is_business_hours", 0.0),
            ("day_sin", day.sin()),
            ("day_cos", day.cos()),
        ],
    );
    let mut e = ev(T0, "s2", "u2");
    e.is_weekend = Some(true);
    e.is_business_hours = Some(false);
    let v = run(&mut st, &e);
    assert_features(&v, &[("is_weekend", 1.0), ("is_business_hours", 0.0)]);
}

const PARIS: GeoPoint = GeoPoint {
    lat: 48.8566,
    lon: 2.3522,
};
const LONDON: GeoPoint = GeoPoint {
    lat: 51.5074,
    lon: -0.1278,
};
const NEW_YORK: GeoPoint = GeoPoint {
    lat: 40.7128,
    lon: -74.0060,
};

fn net(
    ts: i64,
    session: &str,
    ip: &str,
    ua: &str,
    fp: Option<&str>,
    loc: Option<GeoPoint>,
) -> RequestEvent {
    let mut e = ev(ts, session, "u1");
    e.ip_address = Some(ip.into());
    e.user_agent = Some(ua.into());
    e.device_fingerprint = fp.map(str::to_string);
    e.location = loc;
    e
}

#[test]
fn network_device_and_geo_signals() {
    use DerivedKind::*;
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    let steps: Vec<(RequestEvent, Vec<DerivedKind>)> = vec![
        (
            net(T0, "s1", "1.1.1.1", "UA-X", Some("F1"), Some(PARIS)),
            vec![],
        ),
        (
            net(T0 + MIN, "s1", "2.2.2.2", "UA-X", Some("F1"), None),
            vec![IpChange],
        ),
        (
            net(T0 + 2 * MIN, "s1", "2.2.2.2", "UA-Y", Some("F1"), None),
            vec![UaChange],
        ),
        (
            net(T0 + 3 * MIN, "s1", "2.2.2.2", "UA-Y", Some("F2"), None),
            vec![DeviceMismatch, NewDevice],
        ),
        (
            net(
                T0 + 4 * MIN,
                "s1",
                "2.2.2.2",
                "UA-Y",
                Some("F1"),
                Some(LONDON),
            ),
            vec![ImpossibleTravel],
        ),
    ];
    for (i, (e, want)) in steps.iter().enumerate() {
        let o = st.observe(e, &mut out).unwrap();
        assert_eq!(o.derived.iter().collect::<Vec<_>>(), *want, "step {i}");
    }
    // signals of s1: IP 25 (geo, moderate), UA 40 (ua, high), DEVICE 50 (ua, high),
    // NEW_DEVICE 15 (ua, low), TRAVEL 80 (geo, critical)
    let risks: [f64; 5] = [25.0, 40.0, 50.0, 15.0, 80.0];
    let mean = 42.0;
    let std = (risks.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / 5.0).sqrt();
    let p: [f64; 2] = [0.4, 0.6];
    assert_features(
        &out,
        &[
            ("signal_geo", 2.0),
            ("signal_ua", 3.0),
            ("signal_endpoint", 0.0),
            ("signal_cadence", 0.0),
            ("signal_priv", 0.0),
            ("risk_mean", mean),
            ("risk_std", std),
            ("risk_min", 15.0),
            ("risk_max", 80.0),
            ("risk_median", 40.0),
            ("risk_trend", 8.5),
            ("severity_low", 1.0),
            ("severity_moderate", 1.0),
            ("severity_high", 2.0),
            ("severity_critical", 1.0),
            ("anomaly_count", 3.0),
            ("anomaly_rate", 0.6),
            ("signal_entropy", -(p[0] * p[0].log2() + p[1] * p[1].log2())),
            ("ip_diversity", 2.0),
            ("ua_diversity", 2.0),
            ("location_diversity", 2.0),
            ("device_diversity", 2.0),
            ("ip_diversity_week", 2.0),
        ],
    );
    // ten hours later in another session, New York: far but possible
    let o = st
        .observe(
            &net(
                T0 + 10 * 3_600_000,
                "s2",
                "3.3.3.3",
                "UA-Y",
                Some("F1"),
                Some(NEW_YORK),
            ),
            &mut out,
        )
        .unwrap();
    assert_eq!(o.derived.iter().collect::<Vec<_>>(), vec![GeoDrift]);
    assert_features(
        &out,
        &[
            ("signal_geo", 1.0),
            ("ip_diversity", 1.0),
            ("ip_diversity_week", 3.0),
        ],
    );
    // a short hop (under the 100 km minimum) is never impossible travel
    let near = GeoPoint {
        lat: NEW_YORK.lat + 0.5,
        lon: NEW_YORK.lon,
    };
    let o = st
        .observe(
            &net(
                T0 + 10 * 3_600_000 + S,
                "s2",
                "3.3.3.3",
                "UA-Y",
                Some("F1"),
                Some(near),
            ),
            &mut out,
        )
        .unwrap();
    assert!(o.derived.is_empty());
}

#[test]
fn missing_fingerprint_falls_back_to_the_user_agent_as_device() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    st.observe(&net(T0, "s1", "1.1.1.1", "UA-X", None, None), &mut out)
        .unwrap();
    let o = st
        .observe(&net(T0 + S, "s2", "1.1.1.1", "UA-Z", None, None), &mut out)
        .unwrap();
    assert!(o.derived.contains(DerivedKind::NewDevice));
    assert!(
        !o.derived.contains(DerivedKind::UaChange),
        "a new session has no previous agent"
    );
    assert_features(&out, &[("device_diversity", 2.0)]);
}

#[test]
fn cadence_spike_is_relative_to_the_sessions_baseline() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    // one request every 2 minutes for an hour
    for i in 0..30 {
        let o = st
            .observe(&ev(T0 + i * 2 * MIN, "s1", "u1"), &mut out)
            .unwrap();
        assert!(o.derived.is_empty());
    }
    let start = T0 + 62 * MIN;
    for k in 0..12 {
        let o = st
            .observe(&ev(start + k * 2 * S, "s1", "u1"), &mut out)
            .unwrap();
        let spike = o.derived.contains(DerivedKind::CadenceSpike);
        assert_eq!(
            spike,
            k >= 9,
            "quick request {k}: 10 within a minute is a spike"
        );
    }
    assert_features(
        &out,
        &[
            ("burst_count", 1.0),
            ("signal_cadence", 3.0),
            ("inter_arrival_min", 2.0),
        ],
    );
    // a session that is steadily busy (one request every 5 s) is not spiking after warm-up
    let mut st = state();
    let mut spikes_late = 0;
    for i in 0..200 {
        let o = st
            .observe(&ev(T0 + i * 5 * S, "s2", "u2"), &mut out)
            .unwrap();
        if i >= 100 && o.derived.contains(DerivedKind::CadenceSpike) {
            spikes_late += 1;
        }
    }
    assert_eq!(spikes_late, 0);
    assert!(get(&out, "burst_count") >= 1.0, "it is one long burst");
}

#[test]
fn sensitive_endpoints_and_failed_auth_bursts() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    let mut e = at(T0, "/api/reports/export", "GET");
    e.endpoint_sensitivity = Some(Sensitivity::High);
    let o = st.observe(&e, &mut out).unwrap();
    assert_eq!(
        o.derived.iter().collect::<Vec<_>>(),
        vec![DerivedKind::SensitiveEndpoint]
    );
    assert_features(
        &out,
        &[
            ("signal_endpoint", 1.0),
            ("severity_low", 1.0),
            ("endpoint_sensitivity", 2.0),
            ("anomaly_count", 0.0),
        ],
    );
    let mut e = at(T0 + S, "/api/admin/users", "DELETE");
    e.endpoint_sensitivity = Some(Sensitivity::Critical);
    let o = st.observe(&e, &mut out).unwrap();
    assert_eq!(
        o.derived.iter().collect::<Vec<_>>(),
        vec![DerivedKind::CriticalEndpoint]
    );
    assert_features(
        &out,
        &[
            ("signal_priv", 1.0),
            ("severity_moderate", 1.0),
            ("endpoint_sensitivity", 3.0),
            ("http_method", 3.0),
        ],
    );
    // three 401s for one user across three sessions within 5 minutes
    for (k, session) in ["a", "b", "c", "d"].iter().enumerate() {
        let mut e = ev(T0 + 10 * MIN + k as i64 * 30 * S, session, "victim");
        e.status_code = Some(if k == 3 { 403 } else { 401 });
        let o = st.observe(&e, &mut out).unwrap();
        assert_eq!(
            o.derived.contains(DerivedKind::FailedAuthBurst),
            k >= 2,
            "attempt {k}"
        );
    }
    assert_features(
        &out,
        &[
            ("signal_priv", 2.0),
            ("severity_low", 1.0),
            ("severity_high", 1.0),
            ("anomaly_rate", 1.0),
            ("recent_sessions", 4.0),
        ],
    );
    // failures spread over more than 5 minutes are each a failure, but no burst
    for k in 0..4 {
        let mut e = ev(T0 + 60 * MIN + k * 3 * MIN, "z", "typo");
        e.status_code = Some(401);
        let o = st.observe(&e, &mut out).unwrap();
        assert_eq!(
            o.derived.iter().collect::<Vec<_>>(),
            vec![DerivedKind::AuthFailure]
        );
    }
}

#[test]
fn a_failed_login_from_an_unfamiliar_device_is_its_own_signal() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    let kinds = |o: &Observation| o.derived.iter().collect::<Vec<_>>();
    // the user's own laptop, known for a while
    let mut e = ev(T0, "s1", "alice");
    e.device_fingerprint = Some("laptop".into());
    st.observe(&e, &mut out).unwrap();
    // a typo on it: an authentication failure, nothing more
    let mut typo = ev(T0 + MIN, "s1", "alice");
    typo.device_fingerprint = Some("laptop".into());
    typo.status_code = Some(401);
    assert_eq!(
        kinds(&st.observe(&typo, &mut out).unwrap()),
        vec![DerivedKind::AuthFailure]
    );
    // a wrong password from a device the user never used
    let mut stuffing = ev(T0 + 2 * MIN, "s2", "alice");
    stuffing.device_fingerprint = Some("bot".into());
    stuffing.status_code = Some(401);
    let o = st.observe(&stuffing, &mut out).unwrap();
    assert!(o.derived.contains(DerivedKind::NewDevice));
    assert!(o.derived.contains(DerivedKind::AuthFailure));
    assert!(o.derived.contains(DerivedKind::UnfamiliarAuthFailure));
    assert_eq!(
        DerivedKind::UnfamiliarAuthFailure.severity(),
        Severity::High
    );
    // the same device succeeding later is a new device, not a failure
    let mut ok = ev(T0 + 3 * MIN, "s3", "alice");
    ok.device_fingerprint = Some("phone".into());
    let o = st.observe(&ok, &mut out).unwrap();
    assert!(!o.derived.contains(DerivedKind::UnfamiliarAuthFailure));
}

#[test]
fn first_use_of_a_sensitive_action_by_a_known_user() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    let sensitive = |ts: i64, path: &str, method: &str, s: Sensitivity| {
        let mut e = at(ts, path, method);
        e.endpoint_sensitivity = Some(s);
        e
    };
    // a brand-new user: nothing is "new" to them yet
    let o = st
        .observe(
            &sensitive(T0, "/api/reports/export", "GET", Sensitivity::High),
            &mut out,
        )
        .unwrap();
    assert!(!o.derived.contains(DerivedKind::NewSensitiveEndpoint));
    // two days later the export is habitual, the admin route and a DELETE are new
    let day = 86_400_000;
    let o = st
        .observe(
            &sensitive(
                T0 + 2 * day,
                "/api/reports/export",
                "GET",
                Sensitivity::High,
            ),
            &mut out,
        )
        .unwrap();
    assert!(!o.derived.contains(DerivedKind::NewSensitiveEndpoint));
    let o = st
        .observe(
            &sensitive(
                T0 + 2 * day + S,
                "/api/admin/users",
                "GET",
                Sensitivity::Critical,
            ),
            &mut out,
        )
        .unwrap();
    assert_eq!(
        o.derived.iter().collect::<Vec<_>>(),
        vec![
            DerivedKind::CriticalEndpoint,
            DerivedKind::NewSensitiveEndpoint
        ]
    );
    // the session restarted with the export two days later: its SENSITIVE_ENDPOINT + this one
    assert_features(
        &out,
        &[
            ("signal_endpoint", 2.0),
            ("signal_priv", 1.0),
            ("severity_high", 1.0),
            ("anomaly_count", 1.0),
        ],
    );
    let o = st
        .observe(
            &sensitive(
                T0 + 2 * day + 2 * S,
                "/api/admin/users/7",
                "DELETE",
                Sensitivity::Critical,
            ),
            &mut out,
        )
        .unwrap();
    assert!(
        o.derived.contains(DerivedKind::NewSensitiveEndpoint),
        "another method is another action"
    );
    let o = st
        .observe(
            &sensitive(
                T0 + 2 * day + 3 * S,
                "/api/admin/users",
                "GET",
                Sensitivity::Critical,
            ),
            &mut out,
        )
        .unwrap();
    assert!(!o.derived.contains(DerivedKind::NewSensitiveEndpoint));
    // unused for more than a week: new again
    let o = st
        .observe(
            &sensitive(
                T0 + 9 * day + 4 * S,
                "/api/reports/export",
                "GET",
                Sensitivity::High,
            ),
            &mut out,
        )
        .unwrap();
    assert!(!o.new_user);
    assert!(o.derived.contains(DerivedKind::NewSensitiveEndpoint));
}

#[test]
fn sensitive_volume_beyond_the_users_own_record() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    let export = |ts: i64, session: &str| {
        let mut e = ev(ts, session, "u1");
        e.endpoint = Some("/api/reports/export?month=3".into());
        e.endpoint_sensitivity = Some(Sensitivity::High);
        e
    };
    // day 0: three exports in one session set the record to 3
    for k in 0..3 {
        st.observe(&export(T0 + k * MIN, "a"), &mut out).unwrap();
    }
    // day 1: the 11th export of one session exceeds max(10, 2 × 3)
    let fired: Vec<bool> = (0..12)
        .map(|k| {
            let o = st
                .observe(&export(T0 + 86_400_000 + k * 5 * MIN, "b"), &mut out)
                .unwrap();
            o.derived.contains(DerivedKind::SensitiveVolume)
        })
        .collect();
    assert_eq!(fired.iter().position(|&f| f), Some(10));
    assert!(fired[10] && fired[11]);
    assert_features(&out, &[("anomaly_count", 2.0), ("signal_endpoint", 14.0)]);
}

#[test]
fn external_signals_are_classified_clamped_and_capped() {
    let cfg = StateConfig {
        max_signals_per_event: 2,
        ..StateConfig::default()
    };
    let mut st = BehaviorState::new(cfg).unwrap();
    let mut e = ev(T0, "s1", "u1");
    e.signals = vec![
        Signal {
            kind: "LOCATION_ANOMALY".into(),
            severity: Severity::Critical,
            risk_impact: f64::NAN,
        },
        Signal {
            kind: "weird".into(),
            severity: Severity::Low,
            risk_impact: 500.0,
        },
        Signal {
            kind: "PRIVILEGE_ESCALATION".into(),
            severity: Severity::High,
            risk_impact: 50.0,
        },
    ];
    let mut out = [0.0; N_FEATURES];
    let o = st.observe(&e, &mut out).unwrap();
    assert!(o.signals_dropped);
    assert_features(
        &out,
        &[
            ("signal_geo", 1.0),
            ("signal_priv", 0.0),
            ("risk_min", 0.0),
            ("risk_max", 100.0),
            ("risk_mean", 50.0),
            ("risk_median", 50.0),
            ("severity_critical", 1.0),
            ("severity_low", 1.0),
            ("anomaly_count", 1.0),
            ("signal_entropy", 1.0),
            ("risk_trend", 100.0),
        ],
    );
}

#[test]
fn distribution_features() {
    let mut st = state();
    let mut v = [0.0; N_FEATURES];
    let mut ts = T0;
    for (path, ip, loc) in [
        ("/api/expenses/1", "1.1.1.1", Some(PARIS)),
        (
            "/api/expenses/64f1c0de9a1b2c3d4e5f6a7b?page=2",
            "1.1.1.1",
            Some(GeoPoint {
                lat: 48.80,
                lon: 2.30,
            }),
        ),
        ("/api/receipts", "1.1.1.2", None),
        ("/api/receipts/", "1.1.1.2", Some(LONDON)),
    ] {
        let mut e = at(ts, path, "GET");
        e.ip_address = Some(ip.into());
        e.location = loc;
        v = run(&mut st, &e);
        ts += 31 * MIN;
    }
    // hours: 10:00, 10:31, 11:02, 11:33
    assert_features(
        &v,
        &[
            ("endpoint_diversity", 2.0),
            ("ip_diversity", 2.0),
            ("ua_diversity", 0.0),
            ("location_diversity", 2.0),
            ("hour_diversity", 2.0),
            ("burst_count", 0.0),
        ],
    );
}

#[test]
fn sequence_features_on_a_b_a_b_c() {
    let mut st = state();
    let mut v = [0.0; N_FEATURES];
    for (k, path) in ["/a", "/b", "/a", "/b", "/c"].iter().enumerate() {
        v = run(&mut st, &at(T0 + k as i64 * 10 * S, path, "GET"));
    }
    assert_features(
        &v,
        &[
            ("bigram_count", 3.0),
            ("trigram_count", 3.0),
            ("most_common_bigram", 0.5),
            ("state_transitions", 4.0),
            ("cyclic_score", 2.0 / 3.0),
            ("predictability", (-(0.5 * 2f64.ln())).exp()),
            ("unusual_sequences", 2.0),
            ("sequence_regularity", 1.0),
            ("endpoint_diversity", 3.0),
        ],
    );
    // the same path with another method class is another action
    let mut st = state();
    run(&mut st, &at(T0, "/a", "GET"));
    let v = run(&mut st, &at(T0 + S, "/a", "POST"));
    assert_features(
        &v,
        &[
            ("state_transitions", 1.0),
            ("endpoint_diversity", 1.0),
            ("cyclic_score", 0.0),
        ],
    );
}

#[test]
fn context_features_and_session_start() {
    let mut st = state();
    let mut e = at(T0, "/api/expenses", "delete");
    e.endpoint_sensitivity = Some(Sensitivity::Moderate);
    e.content_length = Some(1000);
    e.session_started_at = Some(T0 - MIN);
    let v = run(&mut st, &e);
    assert_features(
        &v,
        &[
            ("endpoint_sensitivity", 1.0),
            ("http_method", 3.0),
            ("request_size", 1001f64.ln()),
            ("time_since_session_start", 60.0),
        ],
    );
    let mut e = ev(T0, "s2", "u1");
    e.session_age_ms = Some(30 * S);
    e.content_length = Some(u64::MAX);
    let v = run(&mut st, &e);
    assert_features(
        &v,
        &[
            ("time_since_session_start", 30.0),
            ("request_size", (u64::MAX as f64).ln_1p()),
        ],
    );
    // a start in the future is clamped to the request
    let mut e = ev(T0, "s3", "u1");
    e.session_started_at = Some(T0 + MIN);
    let v = run(&mut st, &e);
    assert_features(&v, &[("time_since_session_start", 0.0)]);
    // a later event revealing an earlier start moves it back
    let mut e = ev(T0 + 10 * S, "s3", "u1");
    e.session_started_at = Some(T0 - 50 * S);
    let v = run(&mut st, &e);
    assert_features(&v, &[("time_since_session_start", 60.0)]);
}

#[test]
fn graph_features() {
    let mut st = state();
    let mut v = [0.0; N_FEATURES];
    for (dt, session, ip) in [
        (0, "s1", "A"),
        (MIN, "s2", "B"),
        (2 * MIN, "s1", "A"),
        (40 * MIN, "s3", "C"),
    ] {
        let mut e = ev(T0 + dt, session, "u1");
        e.ip_address = Some(ip.into());
        e.user_agent = Some("UA".into());
        v = run(&mut st, &e);
    }
    assert_features(
        &v,
        &[
            ("recent_sessions", 3.0),
            ("concurrent_sessions", 1.0),
            ("avg_session_duration", 40.0),
            ("session_switch_rate", 0.1),
            ("device_diversity", 1.0),
            ("ip_diversity_week", 3.0),
        ],
    );
    // a week later the weekly counts have forgotten all but the last IP (the user idled < 8 d)
    let mut e = ev(T0 + 7 * 86_400_000 + 39 * MIN, "s4", "u1");
    e.ip_address = Some("D".into());
    let v = run(&mut st, &e);
    assert_features(
        &v,
        &[
            ("ip_diversity_week", 2.0),
            ("recent_sessions", 1.0),
            ("device_diversity", 1.0),
        ],
    );
}

#[test]
fn bad_events_are_rejected_without_touching_the_state() {
    let mut st = state();
    let mut out = [7.0; N_FEATURES];
    for e in [
        ev(T0, "", "u"),
        ev(T0, "s", ""),
        ev(-1, "s", "u"),
        ev(MAX_TIMESTAMP_MS + 1, "s", "u"),
    ] {
        assert!(
            matches!(st.observe(&e, &mut out), Err(CoreError::InvalidEvent(_))),
            "{e:?}"
        );
    }
    assert_eq!((st.tracked_sessions(), st.tracked_users()), (0, 0));
    assert!(out.iter().all(|&x| x == 7.0), "output untouched on error");
    // the extreme valid timestamps work
    run(&mut st, &ev(0, "s", "u"));
    run(&mut st, &ev(MAX_TIMESTAMP_MS, "t", "u"));
}

#[test]
fn invalid_locations_are_ignored_and_huge_strings_truncated() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    for bad in [
        GeoPoint {
            lat: f64::NAN,
            lon: 0.0,
        },
        GeoPoint {
            lat: 10.0,
            lon: f64::INFINITY,
        },
        GeoPoint {
            lat: 91.0,
            lon: 0.0,
        },
    ] {
        let mut e = ev(T0, "s1", "u1");
        e.location = Some(bad);
        let o = st.observe(&e, &mut out).unwrap();
        assert!(o.location_ignored);
        assert_features(&out, &[("location_diversity", 0.0)]);
        assert!(out.iter().all(|x| x.is_finite()));
    }
    let mut small = state();
    let mut big = state();
    let mut e = ev(T0, "s1", "u1");
    e.user_agent = Some("x".repeat(16));
    e.endpoint = Some("/".into());
    small.observe(&e, &mut out).unwrap();
    e.user_agent = Some("é".repeat(1 << 19)); // 1 MiB of two-byte chars
    e.endpoint = Some("/".repeat(1 << 20));
    let o = big.observe(&e, &mut out).unwrap();
    assert!(o.truncated);
    assert_eq!(
        small.memory_bytes(),
        big.memory_bytes(),
        "request strings are never stored"
    );
    // agents equal up to the cap are the same agent
    let mut e2 = e.clone();
    e2.timestamp += S;
    e2.user_agent = Some(format!("{}tail", "é".repeat(1 << 19)));
    let o = big.observe(&e2, &mut out).unwrap();
    assert!(!o.derived.contains(DerivedKind::UaChange));
    // long ids are truncated too
    let long = "s".repeat(10_000);
    let o = big.observe(&ev(T0, &long, "u1"), &mut out).unwrap();
    assert!(o.truncated);
    let o = big
        .observe(&ev(T0 + S, &format!("{long}-other"), "u1"), &mut out)
        .unwrap();
    assert!(!o.new_session, "ids are compared up to the cap");
}

#[test]
fn idle_expiry_frees_entries_and_never_changes_features() {
    let events: Vec<RequestEvent> = (0..40)
        .map(|i| {
            let mut e = ev(
                T0 + i * 97 * MIN,
                if i % 3 == 0 { "a" } else { "b" },
                if i % 5 == 0 { "x" } else { "y" },
            );
            e.ip_address = Some(format!("10.0.0.{}", i % 4));
            e.endpoint = Some(format!("/api/e{}", i % 6));
            e
        })
        .collect();
    let mut plain = state();
    let mut expiring = state();
    let (mut a, mut b) = ([0.0; N_FEATURES], [0.0; N_FEATURES]);
    let mut evicted = 0;
    for e in &events {
        plain.observe(e, &mut a).unwrap();
        evicted += expiring.expire_idle(e.timestamp);
        expiring.observe(e, &mut b).unwrap();
        assert_eq!(a, b, "at {}", e.timestamp);
    }
    assert!(evicted > 0, "some sessions idled out in between");
    let end = T0 + 40 * 97 * MIN;
    assert_eq!(
        expiring.expire_idle(end + 4 * 3_600_000 + 1),
        2,
        "both sessions"
    );
    assert_eq!(expiring.tracked_users(), 2);
    assert_eq!(expiring.expire_idle(end + 9 * 86_400_000), 2, "both users");
    assert_eq!(
        (expiring.tracked_sessions(), expiring.tracked_users()),
        (0, 0)
    );
}

#[test]
fn lru_caps_hold_under_many_ids() {
    let cfg = StateConfig {
        max_sessions: 8,
        max_users: 3,
        ..StateConfig::default()
    };
    let mut st = BehaviorState::new(cfg).unwrap();
    let mut out = [0.0; N_FEATURES];
    let mut evictions = 0;
    for i in 0..100 {
        let o = st
            .observe(
                &ev(T0 + i, &format!("s{i}"), &format!("u{}", i % 5)),
                &mut out,
            )
            .unwrap();
        evictions += o.evicted_session as usize;
        assert!(st.tracked_sessions() <= 8 && st.tracked_users() <= 3);
    }
    assert_eq!(evictions, 92);
    assert_eq!(st.tracked_sessions(), 8);
}

fn mixed_stream(n: usize, seed: u64) -> Vec<RequestEvent> {
    use rand::Rng;
    let mut rng = crate::rng::seeded(seed);
    let mut ts = T0;
    (0..n)
        .map(|_| {
            ts += rng.random_range(0..90_000);
            let mut e = ev(
                ts - rng.random_range(0..3_000),
                &format!("s{}", rng.random_range(0..6)),
                &format!("u{}", rng.random_range(0..3)),
            );
            e.endpoint = Some(format!(
                "/api/x{}/{}",
                rng.random_range(0..5),
                rng.random_range(0..1000)
            ));
            e.method = Some(["GET", "POST", "DELETE"][rng.random_range(0..3)].into());
            e.ip_address = Some(format!("10.0.0.{}", rng.random_range(0..4)));
            e.user_agent = Some(format!("UA{}", rng.random_range(0..2)));
            if rng.random_bool(0.3) {
                e.location = Some(GeoPoint {
                    lat: rng.random_range(-60.0..60.0),
                    lon: rng.random_range(-170.0..170.0),
                });
            }
            if rng.random_bool(0.1) {
                e.status_code = Some(401);
            }
            if rng.random_bool(0.2) {
                e.endpoint_sensitivity = Some(Sensitivity::High);
            }
            if rng.random_bool(0.1) {
                e.signals.push(Signal {
                    kind: "REQUEST_VELOCITY".into(),
                    severity: Severity::High,
                    risk_impact: rng.random_range(0.0..100.0),
                });
            }
            e
        })
        .collect()
}

#[test]
fn snapshots_round_trip_and_resume_identically() {
    let events = mixed_stream(700, 7);
    let (head, tail) = events.split_at(450);
    let mut live = state();
    let mut out = [0.0; N_FEATURES];
    for e in head {
        live.observe(e, &mut out).unwrap();
    }
    let json = serde_json::to_string(&live).unwrap();
    let mut from_json: BehaviorState = serde_json::from_str(&json).unwrap();
    let bytes = postcard::to_allocvec(&live).unwrap();
    let mut from_bin: BehaviorState = postcard::from_bytes(&bytes).unwrap();
    let again = serde_json::to_string(&from_json).unwrap();
    let first_diff = again.bytes().zip(json.bytes()).position(|(a, b)| a != b);
    assert!(
        again == json,
        "serialization is stable; first difference at {first_diff:?}: {:?}",
        first_diff.map(|i| (
            json.get(i.saturating_sub(200)..).unwrap_or(""),
            again.get(i.saturating_sub(200)..).unwrap_or("")
        ))
    );
    assert_eq!(
        (from_json.tracked_sessions(), from_json.tracked_users()),
        (live.tracked_sessions(), live.tracked_users())
    );
    let (mut b, mut c) = ([0.0; N_FEATURES], [0.0; N_FEATURES]);
    for e in tail {
        let oa = live.observe(e, &mut out).unwrap();
        let ob = from_json.observe(e, &mut b).unwrap();
        from_bin.observe(e, &mut c).unwrap();
        assert_eq!(out, b);
        assert_eq!(out, c);
        assert_eq!(oa, ob);
    }
}

#[test]
fn corrupted_snapshots_are_rejected() {
    let mut st = state();
    let mut out = [0.0; N_FEATURES];
    for e in mixed_stream(50, 3) {
        st.observe(&e, &mut out).unwrap();
    }
    let json: serde_json::Value = serde_json::to_value(&st).unwrap();
    let mut bad = json.clone();
    bad["sessions"][0][1]["events"][0]["action"] = 99.into();
    assert!(
        serde_json::from_value::<BehaviorState>(bad).is_err(),
        "unknown action id"
    );
    let mut bad = json.clone();
    bad["sessions"][0][1]["events"][0]["hour"] = 24.into();
    assert!(
        serde_json::from_value::<BehaviorState>(bad).is_err(),
        "hour 24"
    );
    let mut bad = json.clone();
    bad["sessions"][0][1]["signals"] =
        serde_json::json!([{"riskCenti": 20000, "category": 0, "severity": 0}]);
    assert!(
        serde_json::from_value::<BehaviorState>(bad).is_err(),
        "risk beyond 100"
    );
    let mut bad = json.clone();
    bad["config"]["maxSessions"] = 1.into();
    assert!(
        serde_json::from_value::<BehaviorState>(bad).is_err(),
        "more sessions than the cap"
    );
    let mut bad = json.clone();
    bad["config"]["geoDriftKm"] = (-3).into();
    assert!(
        serde_json::from_value::<BehaviorState>(bad).is_err(),
        "invalid config"
    );
    assert!(serde_json::from_value::<BehaviorState>(json).is_ok());
}

// ---- brute-force reference over the last 200 events of one session ------------------------

struct RefEvent {
    ts: i64,
    endpoint: u32,
    method: u8,
    ip: u32,
    hour: u8,
}

fn reference(all: &[RefEvent]) -> HashMap<&'static str, f64> {
    let n_all = all.len();
    let win = &all[n_all.saturating_sub(WINDOW)..];
    let n = win.len();
    let mut r = HashMap::new();
    let gaps: Vec<f64> = win
        .windows(2)
        .map(|p| (p[1].ts - p[0].ts) as f64 / 1000.0)
        .collect();
    let mean = if gaps.is_empty() {
        0.0
    } else {
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    let std = if gaps.is_empty() {
        0.0
    } else {
        (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt()
    };
    r.insert("inter_arrival_mean", mean);
    r.insert("inter_arrival_std", std);
    r.insert(
        "inter_arrival_min",
        if gaps.is_empty() {
            0.0
        } else {
            gaps.iter().copied().fold(f64::INFINITY, f64::min)
        },
    );
    r.insert(
        "inter_arrival_max",
        gaps.iter().copied().fold(0.0, f64::max),
    );
    r.insert(
        "endpoint_diversity",
        win.iter().map(|e| e.endpoint).collect::<HashSet<_>>().len() as f64,
    );
    r.insert(
        "ip_diversity",
        win.iter().map(|e| e.ip).collect::<HashSet<_>>().len() as f64,
    );
    r.insert(
        "hour_diversity",
        win.iter().map(|e| e.hour).collect::<HashSet<_>>().len() as f64,
    );
    let acts: Vec<(u32, u8)> = win.iter().map(|e| (e.endpoint, e.method)).collect();
    type Action = (u32, u8);
    let mut bi: HashMap<(Action, Action), usize> = HashMap::new();
    for p in acts.windows(2) {
        *bi.entry((p[0], p[1])).or_default() += 1;
    }
    let tri: HashSet<_> = acts.windows(3).map(|p| (p[0], p[1], p[2])).collect();
    r.insert("bigram_count", bi.len() as f64);
    r.insert("trigram_count", tri.len() as f64);
    let nb = n.saturating_sub(1);
    r.insert(
        "most_common_bigram",
        if nb == 0 {
            0.0
        } else {
            *bi.values().max().unwrap_or(&0) as f64 / nb as f64
        },
    );
    r.insert(
        "unusual_sequences",
        bi.values().filter(|&&c| c == 1).count() as f64,
    );
    r.insert(
        "state_transitions",
        acts.windows(2).filter(|p| p[0] != p[1]).count() as f64,
    );
    let mut cyc: f64 = 0.0;
    for lag in 1..=8usize.min(n.saturating_sub(1)) {
        let m = (lag..n).filter(|&i| acts[i] == acts[i - lag]).count();
        cyc = cyc.max(m as f64 / (n - lag) as f64);
    }
    r.insert("cyclic_score", cyc);
    let mut firsts: HashMap<(u32, u8), usize> = HashMap::new();
    for ((a, _), c) in &bi {
        *firsts.entry(*a).or_default() += c;
    }
    let h: f64 = bi
        .iter()
        .map(|((a, _), &c)| -(c as f64 / nb as f64) * (c as f64 / firsts[a] as f64).ln())
        .sum();
    r.insert("predictability", if nb == 0 { 0.0 } else { (-h).exp() });
    // bursts: flags computed over the whole history, runs counted over the window
    let flags: Vec<bool> = (0..n_all)
        .map(|i| i >= 9 && all[i].ts - all[i - 9].ts <= 60_000)
        .collect();
    let wf = &flags[n_all - n..];
    let runs = (0..n).filter(|&i| wf[i] && (i == 0 || !wf[i - 1])).count();
    r.insert("burst_count", runs as f64);
    let t = all[n_all - 1].ts;
    let m = t.div_euclid(MIN);
    for (name, w) in [
        ("request_rate_short", 5),
        ("request_rate_medium", 30),
        ("request_rate_long", 120),
    ] {
        let c = all.iter().filter(|e| e.ts.div_euclid(MIN) > m - w).count();
        r.insert(name, c as f64 / w as f64);
    }
    r.insert("session_age", n_all as f64);
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn incremental_features_equal_brute_force(
        steps in proptest::collection::vec((0i64..40_000, -2_000i64..0, 0u32..9, 0u8..3, 0u32..5, any::<bool>()), 1..420),
    ) {
        let mut st = state();
        let mut out = [0.0; N_FEATURES];
        let mut hist: Vec<RefEvent> = Vec::new();
        let mut ts = T0;
        let mut clock = i64::MIN;
        for (dt, back, endpoint, method, ip, late) in steps {
            ts += dt;
            let sent = if late { ts + back } else { ts };
            let mut e = ev(sent, "s", "u");
            e.endpoint = Some(format!("/api/r{endpoint}/{}", dt));
            e.method = Some(["GET", "POST", "PUT"][method as usize].into());
            e.ip_address = Some(format!("ip{ip}"));
            st.observe(&e, &mut out).unwrap();
            clock = clock.max(sent);
            let hour = time::LocalTime::at(sent, 0).hour_index;
            hist.push(RefEvent { ts: clock, endpoint, method: normalize::method_code(e.method.as_deref()), ip, hour });
            for (name, want) in reference(&hist) {
                let got = get(&out, name);
                prop_assert!(close(got, want), "{} after {} events: got {}, want {}", name, hist.len(), got, want);
            }
        }
    }

    #[test]
    fn random_streams_give_finite_features(
        steps in proptest::collection::vec((
            -200_000i64..400_000, 0u8..4, 0u8..3, proptest::option::of((-200.0f64..200.0, -400.0f64..400.0)),
            any::<u64>(), proptest::option::of(0u16..600), any::<f64>(), 0u8..6, any::<bool>(),
        ), 1..250),
    ) {
        let mut st = BehaviorState::new(StateConfig { max_sessions: 3, max_users: 2, ..StateConfig::default() }).unwrap();
        let mut out = [0.0; N_FEATURES];
        let mut ts = T0;
        for (dt, s, u, loc, size, status, risk, kind, nan_loc) in steps {
            ts = (ts + dt).clamp(0, MAX_TIMESTAMP_MS);
            let mut e = ev(ts, &format!("s{s}"), &format!("u{u}"));
            e.location = loc.map(|(lat, lon)| if nan_loc { GeoPoint { lat: f64::NAN, lon } } else { GeoPoint { lat, lon } });
            e.content_length = Some(size);
            e.status_code = status;
            e.method = Some(["GET", "post", "", "PATCH", "💥"][kind as usize % 5].into());
            e.endpoint = Some(["", "/", "/a/1", "?", "//x//"][kind as usize % 5].into());
            e.session_age_ms = Some(size as i64);
            e.session_started_at = Some(dt);
            e.signals = vec![Signal { kind: "x".into(), severity: Severity::Critical, risk_impact: risk }];
            st.observe(&e, &mut out).unwrap();
            for (i, v) in out.iter().enumerate() {
                prop_assert!(v.is_finite(), "{} = {}", FEATURE_NAMES[i], v);
                let signed = matches!(FEATURE_NAMES[i], "hour_sin" | "hour_cos" | "day_sin" | "day_cos"
                    | "rate_accel_short" | "rate_accel_medium" | "risk_trend");
                prop_assert!(signed || *v >= 0.0, "{} = {} < 0", FEATURE_NAMES[i], v);
            }
            prop_assert!(out[names::idx::TIME_SINCE_SESSION_START] <= MAX_DURATION_S);
        }
    }
}

/// The victim's stolen session, used from a new address and agent after `flood` ran: its
/// features, and how many of the bystanders' sessions are still tracked.
fn hijack_after(flood: impl Fn(&mut BehaviorState)) -> ([f64; N_FEATURES], usize) {
    let mut st = BehaviorState::new(StateConfig::default()).unwrap();
    let victim = |ts: i64, ip: &str, ua: &str| {
        let mut e = ev(ts, "victim-session", "victim");
        e.ip_address = Some(ip.into());
        e.user_agent = Some(ua.into());
        e
    };
    for i in 0..5 {
        run(&mut st, &victim(T0 + i * MIN, "1.1.1.1", "UA-X"));
    }
    for u in 0..500 {
        for r in 0..3 {
            run(
                &mut st,
                &ev(T0 + 5 * MIN + r, &format!("s{u}"), &format!("u{u}")),
            );
        }
    }
    flood(&mut st);
    let out = run(&mut st, &victim(T0 + 30 * MIN, "2.2.2.2", "UA-Y"));
    let bystanders = (0..500)
        .filter(|u| st.sessions_map().iter().any(|(k, _)| k == format!("s{u}")))
        .count();
    (out, bystanders)
}

#[test]
fn a_flood_of_sessions_does_not_evict_a_victims_history() {
    use crate::features::FEATURE_NAMES;
    let (clean, _) = hijack_after(|_| {});
    let changes =
        ["ipChange", "uaChange"].map(|n| FEATURE_NAMES.iter().position(|f| f.contains(n)));
    let one_account = |st: &mut BehaviorState| {
        for i in 0..10_001 {
            let mut e = ev(T0 + 10 * MIN + i, &format!("flood-{i}"), "mallory");
            e.ip_address = Some("6.6.6.6".into());
            run(st, &e);
        }
    };
    let many_accounts = |st: &mut BehaviorState| {
        for i in 0..10_001 {
            run(
                st,
                &ev(T0 + 10 * MIN + i, &format!("flood-{i}"), &format!("m{i}")),
            );
        }
    };
    for (name, flood) in [
        ("one account", &one_account as &dyn Fn(&mut BehaviorState)),
        ("many accounts", &many_accounts),
    ] {
        let (flooded, bystanders) = hijack_after(flood);
        assert_eq!(
            flooded.map(f64::to_bits),
            clean.map(f64::to_bits),
            "{name}: the hijack looks different after the flood"
        );
        assert_eq!(
            bystanders, 500,
            "{name}: sessions with history were evicted"
        );
    }
    for i in changes.into_iter().flatten() {
        assert!(
            clean[i] > 0.0,
            "{} is raised by the hijack",
            FEATURE_NAMES[i]
        );
    }
}

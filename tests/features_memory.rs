//! Memory stays bounded whatever the traffic: a flood of one million distinct session (and
//! user) ids never grows the tracked counts past the caps, nor the state's heap estimate or
//! its serialized size past what it was once the caps were first reached; and one session
//! hammered with ever-new endpoints and IPs keeps a constant footprint.

use std::fmt::Write;

use anomaly_core::features::{BehaviorState, RequestEvent, StateConfig, N_FEATURES};

const T0: i64 = 1_704_103_200_000;

fn event() -> RequestEvent {
    let mut e = RequestEvent::new(T0, "", "");
    e.endpoint = Some(String::with_capacity(64));
    e.ip_address = Some(String::with_capacity(32));
    e.user_agent = Some("Mozilla/5.0 (flood)".into());
    e.method = Some("GET".into());
    e
}

fn set(field: &mut String, args: std::fmt::Arguments) {
    field.clear();
    let _ = field.write_fmt(args);
}

#[test]
fn a_million_distinct_session_ids_stay_within_the_caps() {
    let cap_sessions = 1_000;
    let cap_users = 500;
    let config = StateConfig {
        max_sessions: cap_sessions,
        max_users: cap_users,
        ..StateConfig::default()
    };
    let mut state = BehaviorState::new(config).unwrap();
    let mut out = [0.0; N_FEATURES];
    let mut e = event();
    let mut evicted = 0usize;
    let mut at_cap: Option<(usize, usize)> = None;
    for i in 0..1_000_000u64 {
        e.timestamp = T0 + (i as i64) * 7;
        set(&mut e.session_id, format_args!("flood-session-{i:08}"));
        set(&mut e.user_id, format_args!("flood-user-{i:08}"));
        if let Some(ip) = e.ip_address.as_mut() {
            set(
                ip,
                format_args!("10.{}.{}.{}", i % 251, (i / 251) % 251, i % 7),
            );
        }
        if let Some(p) = e.endpoint.as_mut() {
            set(p, format_args!("/api/x{}/{}", i % 13, i));
        }
        let obs = state.observe(&e, &mut out).unwrap();
        evicted += usize::from(obs.evicted_session);
        if i % 997 == 0 {
            assert!(
                state.tracked_sessions() <= cap_sessions,
                "sessions {} at {i}",
                state.tracked_sessions()
            );
            assert!(
                state.tracked_users() <= cap_users,
                "users {} at {i}",
                state.tracked_users()
            );
        }
        if i == 10_000 {
            let bytes = serde_json::to_vec(&state).unwrap().len();
            at_cap = Some((state.memory_bytes(), bytes));
        }
    }
    let (mem_at_cap, ser_at_cap) = at_cap.unwrap();
    let mem_end = state.memory_bytes();
    let ser_end = serde_json::to_vec(&state).unwrap().len();
    assert_eq!(state.tracked_sessions(), cap_sessions);
    assert_eq!(state.tracked_users(), cap_users);
    assert_eq!(evicted, 1_000_000 - cap_sessions);
    assert!(
        mem_end <= mem_at_cap,
        "heap estimate grew from {mem_at_cap} to {mem_end} bytes"
    );
    // ids have the same length throughout, so the snapshot size barely moves (digits of numbers)
    assert!(
        ser_end <= ser_at_cap + ser_at_cap / 20,
        "snapshot grew from {ser_at_cap} to {ser_end} bytes"
    );
    // and the bound is what the caps allow: well under 10 KiB per tracked session here
    assert!(
        mem_end < cap_sessions * 10 * 1024,
        "{mem_end} bytes for {cap_sessions} sessions"
    );
}

#[test]
fn one_hammered_session_keeps_a_constant_footprint() {
    let mut state = BehaviorState::new(StateConfig::default()).unwrap();
    let mut out = [0.0; N_FEATURES];
    let mut e = event();
    e.session_id = "hammer".into();
    e.user_id = "mallory".into();
    let mut warm = 0;
    for i in 0..200_000u64 {
        e.timestamp = T0 + i as i64 * 50;
        if let Some(p) = e.endpoint.as_mut() {
            set(p, format_args!("/api/endpoint-{}/list", i % 5_000));
        }
        if let Some(ip) = e.ip_address.as_mut() {
            set(ip, format_args!("192.0.{}.{}", (i / 256) % 256, i % 256));
        }
        state.observe(&e, &mut out).unwrap();
        if i == 20_000 {
            warm = state.memory_bytes();
        }
        assert!(out.iter().all(|v| v.is_finite()));
    }
    assert_eq!(state.memory_bytes(), warm, "no growth after warm-up");
    assert_eq!((state.tracked_sessions(), state.tracked_users()), (1, 1));
}

//! Feature extraction speed: one request's 59 features with a warm 200-event session.
//!
//! Answers: what does `BehaviorState::observe` cost per request on the serving path — the
//! whole thing: validation, string hashing, both LRU lookups, derived signals, window updates
//! and the 59 values? Target (issue 3): at most 5 µs with a warm 200-event window. The
//! original JavaScript needed several MongoDB queries per request before it could start.
//!
//! Cases:
//! - `observe/warm_session`: a session already holding 200 events (endpoints from a 12-route
//!   ExpenseFlow mix, stable IP/agent/device, a location, sensitivities, every 10th request
//!   with an external signal), among 1,000 tracked sessions of 200 users.
//! - `observe/new_session`: the first request of a new session id at the LRU cap (evicts and
//!   reuses a slot), the worst case of a flood.
//! - `snapshot/serialize_full_state`: the engine's state snapshot (postcard) of a state at the
//!   default caps, every window full: 10,000 sessions of 200 events, 2,000 users. The engine
//!   used to hold the state lock for all of it, the longest a request could wait.
//! - `snapshot/in_steps_of_64`: the same snapshot as the engine takes it now, 64 entries per
//!   hold of the lock (`SnapshotWriter`); the bench also prints the median and longest step,
//!   which is what a request can wait now.
//!
//! Run: `cargo bench --bench features -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anomaly_core::features::snapshot::snapshot_in_steps;
use anomaly_core::features::{
    BehaviorState, GeoPoint, RequestEvent, Sensitivity, Severity, Signal, SnapshotWriter,
    StateConfig, N_FEATURES,
};
use criterion::{criterion_group, criterion_main, Criterion};

const T0: i64 = 1_704_103_200_000;
const ROUTES: [(&str, &str, Sensitivity); 12] = [
    ("/api/expenses", "GET", Sensitivity::Low),
    (
        "/api/expenses/64f1c0de9a1b2c3d4e5f6a7b",
        "GET",
        Sensitivity::Low,
    ),
    ("/api/expenses", "POST", Sensitivity::Moderate),
    (
        "/api/expenses/64f1c0de9a1b2c3d4e5f6a7b",
        "PUT",
        Sensitivity::Moderate,
    ),
    ("/api/receipts/upload", "POST", Sensitivity::Moderate),
    ("/api/budgets", "GET", Sensitivity::Low),
    ("/api/budgets/42", "PATCH", Sensitivity::Moderate),
    (
        "/api/reports/summary?month=2024-01",
        "GET",
        Sensitivity::Low,
    ),
    ("/api/reports/export", "GET", Sensitivity::High),
    ("/api/settings", "GET", Sensitivity::Low),
    ("/api/notifications", "GET", Sensitivity::Low),
    ("/api/categories", "GET", Sensitivity::Low),
];

fn request(i: usize, session: &str, user: &str, ts: i64) -> RequestEvent {
    let (path, method, sens) = ROUTES[(i * 7 + i / 3) % ROUTES.len()];
    let mut e = RequestEvent::new(ts, session, user);
    e.endpoint = Some(path.into());
    e.method = Some(method.into());
    e.endpoint_sensitivity = Some(sens);
    e.ip_address = Some("203.0.113.42".into());
    e.user_agent = Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15".into());
    e.device_fingerprint = Some("fp-3f9a1c2b7d".into());
    e.content_length = Some(if method == "GET" { 0 } else { 1_800 });
    e.location = Some(GeoPoint {
        lat: 48.8566,
        lon: 2.3522,
    });
    e.session_age_ms = Some(ts - T0);
    if i.is_multiple_of(10) {
        e.signals.push(Signal {
            kind: "UNUSUAL_ENDPOINT".into(),
            severity: Severity::Low,
            risk_impact: 12.0,
        });
    }
    e
}

fn warm_state() -> BehaviorState {
    let mut st = BehaviorState::new(StateConfig {
        max_sessions: 1_000,
        ..StateConfig::default()
    })
    .unwrap();
    let mut out = [0.0; N_FEATURES];
    // 1,000 sessions of 200 users, each with 200 requests 4 s apart
    for s in 0..1_000 {
        let (sid, uid) = (format!("session-{s:04}"), format!("user-{:03}", s % 200));
        for i in 0..200 {
            st.observe(&request(i, &sid, &uid, T0 + i as i64 * 4_000 + s), &mut out)
                .unwrap();
        }
    }
    st
}

fn bench_observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe");
    let mut st = warm_state();
    let mut out = [0.0; N_FEATURES];
    let mut events: Vec<RequestEvent> = (0..64)
        .map(|i| request(200 + i, "session-0500", "user-100", 0))
        .collect();
    let mut k = 0usize;
    let mut ts = T0 + 800_000;
    group.bench_function("warm_session", |b| {
        b.iter(|| {
            k += 1;
            ts += 4_000;
            let e = &mut events[k % 64];
            e.timestamp = ts;
            black_box(st.observe(black_box(e), &mut out).unwrap());
            black_box(&out);
        })
    });
    let mut fresh = request(0, "", "user-7", T0 + 900_000);
    let mut n = 0u64;
    group.bench_function("new_session", |b| {
        b.iter(|| {
            n += 1;
            fresh.session_id.clear();
            fresh.session_id.push_str("flood-");
            fresh.session_id.push_str(&n.to_string());
            black_box(st.observe(black_box(&fresh), &mut out).unwrap());
        })
    });
    group.finish();
}

fn bench_snapshot(c: &mut Criterion) {
    let mut st = BehaviorState::new(StateConfig::default()).unwrap();
    let mut out = [0.0; N_FEATURES];
    let sessions = StateConfig::default().max_sessions;
    let ids: Vec<(String, String)> = (0..sessions)
        .map(|s| (format!("session-{s:05}"), format!("user-{:04}", s % 2_000)))
        .collect();
    for i in 0..200 {
        for (s, (sid, uid)) in ids.iter().enumerate() {
            let ts = T0 + i as i64 * 4_000 + s as i64 / 10;
            st.observe(&request(i + s, sid, uid, ts), &mut out).unwrap();
        }
    }
    let bytes = postcard::to_allocvec(&st).unwrap().len();
    eprintln!("snapshot: {sessions} sessions of 200 events, {bytes} bytes");
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.bench_function("serialize_full_state", |b| {
        b.iter(|| black_box(postcard::to_allocvec(black_box(&st)).unwrap()))
    });
    group.bench_function("in_steps_of_64", |b| {
        b.iter(|| black_box(snapshot_in_steps(black_box(&st), 64).unwrap()))
    });
    group.finish();
    let mut steps = Vec::new();
    for _ in 0..5 {
        let mut w = SnapshotWriter::new(&st).unwrap();
        loop {
            let t = Instant::now();
            let done = w.step(&st, 64).unwrap();
            steps.push(t.elapsed().as_secs_f64() * 1e3);
            if done {
                break;
            }
        }
        black_box(w.finish().unwrap());
    }
    steps.sort_by(f64::total_cmp);
    eprintln!(
        "snapshot steps of 64: {} steps per snapshot, median {:.3} ms, p99 {:.3} ms, longest {:.3} ms",
        steps.len() / 5,
        steps[steps.len() / 2],
        steps[steps.len() * 99 / 100],
        steps[steps.len() - 1]
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50);
    targets = bench_observe, bench_snapshot
}
criterion_main!(benches);

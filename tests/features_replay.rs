//! One code path for serving and training: the vectors of a simulated stream are the same
//! whether the events arrive as Rust values or as the JSON the Node layer sends, and whether
//! the state is kept in memory or snapshotted and restored mid-stream (JSON here; the binary
//! postcard form is covered by the core crate's tests).

use anomaly_core::features::{BehaviorState, RequestEvent, StateConfig, N_FEATURES};
use anomaly_core::simulate::{simulate, SimConfig};

fn stream() -> Vec<RequestEvent> {
    let cfg = SimConfig {
        users: 30,
        days: 4,
        warmup_days: 2,
        attacks_per_scenario: 1,
        seed: 11,
        ..SimConfig::default()
    };
    simulate(&cfg)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

fn vectors(state: &mut BehaviorState, events: &[RequestEvent]) -> Vec<[f64; N_FEATURES]> {
    events
        .iter()
        .map(|e| {
            let mut out = [0.0; N_FEATURES];
            state.observe(e, &mut out).unwrap();
            out
        })
        .collect()
}

#[test]
fn json_events_give_identical_vectors() {
    let events = stream();
    let reparsed: Vec<RequestEvent> = events
        .iter()
        .map(|e| serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap())
        .collect();
    let a = vectors(
        &mut BehaviorState::new(StateConfig::default()).unwrap(),
        &events,
    );
    let b = vectors(
        &mut BehaviorState::new(StateConfig::default()).unwrap(),
        &reparsed,
    );
    assert_eq!(a, b);
    assert!(a.iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn snapshots_mid_stream_resume_exactly() {
    let events = stream();
    let (head, tail) = events.split_at(events.len() / 2);
    let mut live = BehaviorState::new(StateConfig::default()).unwrap();
    vectors(&mut live, head);
    let mut from_json: BehaviorState =
        serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
    let expected = vectors(&mut live, tail);
    assert_eq!(vectors(&mut from_json, tail), expected);
}

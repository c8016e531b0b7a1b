//! Bounded fuzzing of everything that decodes bytes we did not write: model bundles (JSON and
//! binary), behavioral-state snapshots and request events.
//!
//! ## Why proptest and not only cargo-fuzz
//! These run in every `cargo test`, on the stable toolchain, with a fixed seed (the same cases
//! each run, so CI is reproducible) and a bounded number of cases (a few seconds each). Each case
//! starts from a *real* encoded value (a trained bundle, a snapshot of a busy state) and mutates
//! it: byte flips, truncations, splices and extreme numbers, which reach far deeper into the
//! decoders than random bytes would. A longer exploration is the same test with more cases and
//! another seed:
//!
//! ```text
//! FUZZ_CASES=20000 FUZZ_SEED=$RANDOM cargo test --release --test fuzz_decoders
//! ```
//!
//! A failure prints the minimal input; proptest records it under `tests/fuzz_decoders.proptest-regressions`
//! (committed) so it runs first every time after, and it becomes a named regression test here.
//!
//! ## What must hold
//! - No decoder panics, whatever the bytes.
//! - A bundle that loads scores finite on finite input (the magnitude limits of
//!   `anomaly_core::bundle`).
//! - A snapshot that loads is a working state: it observes events, writes finite features and
//!   stays within its caps.
//! - An event, however odd, is either refused with an error or observed into finite features.

use std::sync::OnceLock;

use anomaly_core::bundle::{ModelBundle, TrainConfig};
use anomaly_core::explain::AttributionMethod;
use anomaly_core::features::{
    BehaviorState, GeoPoint, RequestEvent, Sensitivity, Severity, Signal, StateConfig, N_FEATURES,
};
use anomaly_engine::testkit::Traffic;
use ndarray::Array2;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

const T0: i64 = 1_700_000_000_000;

fn config(default_cases: u32) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("FUZZ_CASES").map_or(default_cases, |c| c as u32),
        rng_seed: RngSeed::Fixed(env("FUZZ_SEED").unwrap_or(0x6d6c_616e)),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

/// A busy state (a few hundred sessions) and the vectors it produced.
fn busy_state() -> (BehaviorState, Vec<[f64; N_FEATURES]>) {
    let mut state = BehaviorState::new(StateConfig {
        max_sessions: 300,
        max_users: 120,
        ..StateConfig::default()
    })
    .unwrap();
    let mut traffic = Traffic::new(5, 60, T0);
    let mut rows = Vec::new();
    for _ in 0..3000 {
        let mut x = [0.0; N_FEATURES];
        state.observe(&traffic.next_event(), &mut x).unwrap();
        rows.push(x);
    }
    (state, rows)
}

struct Fixtures {
    bundle_json: String,
    bundle_bytes: Vec<u8>,
    snapshot: Vec<u8>,
    inputs: Vec<Vec<f64>>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let (state, rows) = busy_state();
        let data = Array2::from_shape_fn((rows.len(), N_FEATURES), |(i, j)| rows[i][j]);
        let mut cfg = TrainConfig::default();
        cfg.isolation_forest.n_trees = 25;
        cfg.autoencoder.epochs = 5;
        let bundle = ModelBundle::train(data.view(), &cfg, 3).unwrap();
        let mut inputs: Vec<Vec<f64>> = rows.iter().step_by(997).map(|r| r.to_vec()).collect();
        for v in [1e308, -1e308, 0.0, 5e-324] {
            inputs.push(vec![v; N_FEATURES]);
        }
        Fixtures {
            bundle_json: bundle.to_json(),
            bundle_bytes: bundle.to_bytes(),
            snapshot: postcard::to_allocvec(&state).unwrap(),
            inputs,
        }
    })
}

/// How one case damages a valid encoding.
#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the byte at this relative position.
    Set(prop::sample::Index, u8),
    /// Cut the input here.
    Truncate(prop::sample::Index),
    /// Copy a run of bytes from one place over another (duplicated structure, wrong lengths).
    Splice(prop::sample::Index, prop::sample::Index, u8),
    /// Insert bytes here.
    Insert(prop::sample::Index, Vec<u8>),
    /// Overwrite eight bytes with an extreme f64 (binary forms) or its text (JSON).
    Extreme(prop::sample::Index, u8),
}

const EXTREMES: [f64; 8] = [1e308, -1e308, 1e200, 5e-324, 0.0, -0.0, 1e12, 4294967296.0];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        2 => (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 1u8..64)
            .prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
        1 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..12))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        3 => (any::<prop::sample::Index>(), 0u8..EXTREMES.len() as u8)
            .prop_map(|(i, e)| Mutation::Extreme(i, e)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation, text: bool) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Set(i, b) => {
            let at = i.index(bytes.len());
            bytes[at] = if text { b' ' + b % 95 } else { *b };
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
        Mutation::Splice(from, to, n) => {
            let (from, to) = (from.index(bytes.len()), to.index(bytes.len()));
            let n = (*n as usize).min(bytes.len() - from).min(bytes.len() - to);
            let run = bytes[from..from + n].to_vec();
            bytes[to..to + n].copy_from_slice(&run);
        }
        Mutation::Insert(i, v) => {
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, v.iter().copied());
        }
        Mutation::Extreme(i, e) => {
            let value = EXTREMES[*e as usize];
            if text {
                // the number token at or after the position, replaced by the extreme
                let s = &bytes[i.index(bytes.len())..];
                let start = bytes.len() - s.len()
                    + s.iter()
                        .position(|c| c.is_ascii_digit() || *c == b'-')
                        .unwrap_or(0);
                let end = start
                    + bytes[start..]
                        .iter()
                        .position(|c| !(c.is_ascii_digit() || b"-+.eE".contains(c)))
                        .unwrap_or(bytes.len() - start);
                bytes.splice(start..end, format!("{value:e}").into_bytes());
            } else {
                let at = i.index(bytes.len().saturating_sub(8).max(1));
                let n = 8.min(bytes.len() - at);
                bytes[at..at + n].copy_from_slice(&value.to_le_bytes()[..n]);
            }
        }
    }
}

fn mutated(original: &[u8], mutations: &[Mutation], text: bool) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for m in mutations {
        apply(&mut bytes, m, text);
    }
    bytes
}

/// A bundle that loaded must score, attribute and explain finite on every test input.
fn assert_scores_finite(bundle: &ModelBundle) -> Result<(), TestCaseError> {
    if bundle.n_features() != N_FEATURES {
        return Ok(());
    }
    for x in &fixtures().inputs {
        let s = bundle
            .score(x)
            .map_err(|e| TestCaseError::fail(format!("score: {e}")))?;
        let scores = [
            s.forest_path_length,
            s.forest_raw,
            s.autoencoder_raw,
            s.composite,
        ];
        prop_assert!(scores.iter().all(|v| v.is_finite()), "{s:?}");
        for method in [AttributionMethod::Fast, AttributionMethod::Exact] {
            let a = bundle
                .attribution(x, method)
                .map_err(|e| TestCaseError::fail(format!("attribution: {e}")))?;
            prop_assert!(
                a.contributions
                    .iter()
                    .chain(&a.autoencoder)
                    .chain(&a.isolation_forest)
                    .all(|v| v.is_finite()),
                "{method:?} attribution not finite"
            );
        }
    }
    Ok(())
}

/// A state that loaded must work: observe a few events into finite features within its caps.
fn assert_state_works(mut state: BehaviorState) -> Result<(), TestCaseError> {
    let mut traffic = Traffic::new(9, 8, T0 + 86_400_000);
    let mut x = [0.0; N_FEATURES];
    for _ in 0..40 {
        state
            .observe(&traffic.next_event(), &mut x)
            .map_err(|e| TestCaseError::fail(format!("observe after load: {e}")))?;
        prop_assert!(x.iter().all(|v| v.is_finite()));
    }
    let cfg = state.config().clone();
    prop_assert!(state.tracked_sessions() <= cfg.max_sessions);
    prop_assert!(state.tracked_users() <= cfg.max_users);
    // and it snapshots again
    let again = postcard::to_allocvec(&state).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(postcard::from_bytes::<BehaviorState>(&again).is_ok());
    Ok(())
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn bundle_json_never_panics_and_what_loads_scores_finite(
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let text = mutated(fixtures().bundle_json.as_bytes(), &mutations, true);
        if let Ok(text) = std::str::from_utf8(&text) {
            if let Ok(bundle) = ModelBundle::from_json(text) {
                assert_scores_finite(&bundle)?;
            }
        }
    }

    #[test]
    fn bundle_bytes_never_panic_and_what_loads_scores_finite(
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let bytes = mutated(&fixtures().bundle_bytes, &mutations, false);
        if let Ok(bundle) = ModelBundle::from_bytes(&bytes) {
            assert_scores_finite(&bundle)?;
        }
    }

    #[test]
    fn state_snapshots_never_panic_and_what_loads_works(
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let bytes = mutated(&fixtures().snapshot, &mutations, false);
        if let Ok(state) = postcard::from_bytes::<BehaviorState>(&bytes) {
            assert_state_works(state)?;
        }
    }

    #[test]
    fn random_bytes_are_no_bundle_and_no_snapshot(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut framed = anomaly_core::bundle::BINARY_MAGIC.to_vec();
        framed.extend_from_slice(&anomaly_core::bundle::SCHEMA_VERSION.to_le_bytes());
        framed.extend_from_slice(&bytes);
        prop_assert!(ModelBundle::from_bytes(&framed).is_err());
        prop_assert!(ModelBundle::from_json(&String::from_utf8_lossy(&bytes)).is_err());
        if let Ok(state) = postcard::from_bytes::<BehaviorState>(&bytes) {
            assert_state_works(state)?;
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9]{1,12}",
        "\\PC{0,40}",
        // long, multi-byte, and with the characters parsers trip on
        "[\u{0}-\u{7f}é€😀\\\\\",]{200,300}",
    ]
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.7, s)
}

fn extreme_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -200.0f64..200.0,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1e308),
        Just(1e308),
        Just(90.0),
        Just(-180.0),
        any::<f64>(),
    ]
}

fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        T0..T0 + 30 * 86_400_000,
        Just(0i64),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(anomaly_core::features::MAX_TIMESTAMP_MS),
        any::<i64>(),
    ]
}

fn level<T: Clone + std::fmt::Debug + 'static>(all: [T; 4]) -> impl Strategy<Value = T> {
    prop::sample::select(all.to_vec())
}

fn event() -> impl Strategy<Value = RequestEvent> {
    let ids = (
        extreme_i64(),
        text(),
        text(),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(text()),
    );
    let numbers = (
        opt(any::<u64>()),
        opt(level([
            Sensitivity::Low,
            Sensitivity::Moderate,
            Sensitivity::High,
            Sensitivity::Critical,
        ])),
        opt(extreme_i64()),
        opt(extreme_i64()),
        opt((extreme_f64(), extreme_f64())),
        opt(text()),
        opt(any::<u16>()),
    );
    let signal = (
        text(),
        level([
            Severity::Low,
            Severity::Moderate,
            Severity::High,
            Severity::Critical,
        ]),
        extreme_f64(),
    )
        .prop_map(|(kind, severity, risk_impact)| Signal {
            kind,
            severity,
            risk_impact,
        });
    let rest = (
        prop::collection::vec(signal, 0..5),
        opt(any::<bool>()),
        opt(any::<bool>()),
    );
    (ids, numbers, rest).prop_map(
        |(
            (timestamp, session_id, user_id, endpoint, method, ip_address, user_agent),
            (
                content_length,
                endpoint_sensitivity,
                session_started_at,
                session_age_ms,
                location,
                device_fingerprint,
                status_code,
            ),
            (signals, is_weekend, is_business_hours),
        )| RequestEvent {
            timestamp,
            session_id,
            user_id,
            endpoint,
            method,
            ip_address,
            user_agent,
            content_length,
            endpoint_sensitivity,
            session_started_at,
            session_age_ms,
            location: location.map(|(lat, lon)| GeoPoint { lat, lon }),
            device_fingerprint,
            status_code,
            signals,
            is_weekend,
            is_business_hours,
        },
    )
}

proptest! {
    #![proptest_config(config(200))]

    /// A run of odd events into one small state (so that eviction, the per-user share and
    /// session reuse are exercised too): each is refused or observed into finite features.
    #[test]
    fn odd_events_are_refused_or_observed_finite(events in prop::collection::vec(event(), 1..40)) {
        let mut state = BehaviorState::new(StateConfig {
            max_sessions: 8,
            max_users: 4,
            max_sessions_per_user: 3,
            ..StateConfig::default()
        })
        .unwrap();
        let mut x = [0.0; N_FEATURES];
        for e in &events {
            if state.observe(e, &mut x).is_ok() {
                prop_assert!(x.iter().all(|v| v.is_finite()), "{e:?} gave {x:?}");
            }
            prop_assert!(state.tracked_sessions() <= 8 && state.tracked_users() <= 4);
        }
        assert_state_works(state)?;
    }

    /// The JSON form of an event (what the CLI and the fixtures read) from any text.
    #[test]
    fn event_json_never_panics(
        seed in event(),
        mutations in prop::collection::vec(mutation(), 0..4),
    ) {
        let json = serde_json::to_vec(&seed).unwrap_or_default();
        let text = mutated(&json, &mutations, true);
        if let Ok(e) = serde_json::from_slice::<RequestEvent>(&text) {
            let mut state = BehaviorState::new(StateConfig::default()).unwrap();
            let mut x = [0.0; N_FEATURES];
            if state.observe(&e, &mut x).is_ok() {
                prop_assert!(x.iter().all(|v| v.is_finite()));
            }
        }
    }
}

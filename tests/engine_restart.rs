//! Restarting over the same store file brings everything back: the registry and active model
//! (after a rollback), the training window slot for slot, the drift state, the ids, the last
//! training time, feedback and the behavioral state — so a restarted engine answers exactly as
//! one that never stopped.

#[path = "engine_support/mod.rs"]
mod support;

use anomaly_core::bundle::ModelBundle;
use anomaly_engine::store::Feedback;
use anomaly_engine::testkit::Traffic;
use anomaly_engine::Engine;
use support::*;

/// The history before the restart; returns the id that received feedback.
fn first_part(engine: &Engine, traffic: &mut Traffic) -> i64 {
    feed(engine, traffic, 1000);
    assert_eq!(
        engine
            .train(false, traffic.now(), &mut |_| {})
            .unwrap()
            .version(),
        Some(1)
    );
    let scored = feed(engine, traffic, 150);
    let drift = engine.check_drift_and_retrain(traffic.now()).unwrap();
    assert!(
        drift.report.is_some() && !drift.retrained,
        "{:?}",
        drift.skipped
    );
    let target = &scored[10];
    let fb = Feedback {
        is_false_positive: true,
        is_false_negative: false,
        notes: Some("me".into()),
    };
    engine
        .submit_feedback(target.id, &target.user_id, fb, traffic.now())
        .unwrap();
    assert_eq!(
        engine
            .train(true, traffic.now(), &mut |_| {})
            .unwrap()
            .version(),
        Some(2)
    );
    feed(engine, traffic, 50);
    engine.activate_model(1, traffic.now()).unwrap();
    feed(engine, traffic, 20);
    target.id
}

/// Drift is assessed and recorded but never retrains here (the retrains are explicit).
fn config(path: &str) -> anomaly_engine::EngineConfig {
    let mut c = small_config(path);
    c.retraining.hourly_retrain_threshold = 1.0;
    c
}

fn comparable(engine: &Engine, version: u32) -> ModelBundle {
    let mut b = ModelBundle::from_json(&engine.model_bundle_json(version).unwrap()).unwrap();
    b.training.training_duration_ms = None;
    b
}

#[test]
fn a_restarted_engine_continues_exactly_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "store.sqlite");

    // Engine A: runs, closes, reopens.
    let engine = Engine::open(config(&path)).unwrap();
    let mut traffic = Traffic::new(11, 20, T0);
    let feedback_id = first_part(&engine, &mut traffic);
    let before = engine.status();
    let history_before = engine.model_history(10).unwrap();
    let drift_before = engine.drift_status();
    let last_id = engine.metrics().total_predictions as i64;
    engine.close().unwrap();
    drop(engine);

    let engine = Engine::open(config(&path)).unwrap();
    let after = engine.status();
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    assert_eq!(
        after.active_model.as_ref().map(|m| m.version),
        Some(1),
        "the rollback survived"
    );
    assert_eq!(after.active_model, before.active_model);
    assert_eq!(engine.model_history(10).unwrap(), history_before);
    assert_eq!(after.last_retraining_time, before.last_retraining_time);
    assert_eq!(after.training_window_size, before.training_window_size);
    assert_eq!(after.tracked_sessions, before.tracked_sessions);
    assert_eq!(after.tracked_users, before.tracked_users);
    let drift_after = engine.drift_status();
    assert_eq!(drift_after.history, drift_before.history);
    assert_eq!(drift_after.last_report, drift_before.last_report);
    // the drift window comes back with the active model's latest scored rows (150 + 20)
    assert_eq!(drift_after.window_size, 170);
    assert_eq!(after.metrics.feedback.false_positives, 1);
    let record = engine.prediction(feedback_id, "admin", true).unwrap();
    assert!(record
        .user_feedback
        .is_some_and(|f| f.is_false_positive && f.notes.as_deref() == Some("me")));
    assert_eq!(engine.false_positives(10).unwrap().len(), 1);

    let resumed = feed(&engine, &mut traffic, 100);
    assert_eq!(resumed[0].id, last_id + 1, "ids continue after the restart");
    assert_eq!(
        engine
            .train(false, traffic.now(), &mut |_| {})
            .unwrap()
            .version(),
        Some(3)
    );

    // Engine B: the same history without a restart.
    let reference = Engine::open(config(":memory:")).unwrap();
    let mut same = Traffic::new(11, 20, T0);
    first_part(&reference, &mut same);
    let expected = feed(&reference, &mut same, 100);
    assert_eq!(
        reference
            .train(false, same.now(), &mut |_| {})
            .unwrap()
            .version(),
        Some(3)
    );

    for (a, b) in resumed.iter().zip(&expected) {
        assert_eq!(a.id, b.id);
        assert_eq!(
            a.features, b.features,
            "behavioral state restored exactly (request {})",
            a.id
        );
        assert_eq!(a.scores, b.scores, "same model, same scores");
        assert_eq!(a.explanation, b.explanation);
        assert_eq!(a.model_version, Some(1));
    }
    for v in 1..=3 {
        assert_eq!(
            comparable(&engine, v),
            comparable(&reference, v),
            "version {v}"
        );
    }
}

/// A store in `dir` that a closed engine left with 30 requests of 5 users (and their snapshot),
/// and the traffic to go on with.
fn closed_store_with_sessions(dir: &tempfile::TempDir) -> (String, Traffic) {
    let path = temp_store(dir, "store.sqlite");
    let engine = Engine::open(config(&path)).unwrap();
    let mut traffic = Traffic::new(1, 5, T0);
    feed(&engine, &mut traffic, 30);
    engine.close().unwrap();
    (path, traffic)
}

#[test]
fn a_snapshot_under_another_state_configuration_is_discarded_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = closed_store_with_sessions(&dir);
    let mut config = small_config(&path);
    config.state.max_sessions = 17;
    let engine = Engine::open(config).unwrap();
    let status = engine.status();
    assert_eq!(status.tracked_sessions, 0);
    assert!(
        status
            .warnings
            .iter()
            .any(|w| w.contains("different `state` configuration")),
        "{:?}",
        status.warnings
    );
    assert_eq!(
        status.training_window_size, 30,
        "the window does not depend on it"
    );
}

#[test]
fn an_unreadable_snapshot_is_discarded_logged_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut traffic) = closed_store_with_sessions(&dir);
    for garbage in [
        b"not a snapshot at all".to_vec(),
        // the frame's magic with a length running past the end
        b"\xffMLSNAP2\xff\xff\xff\xff\xff\xff\xff\x7fjunk".to_vec(),
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
    ] {
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute("UPDATE state_snapshot SET snapshot = ?1", [&garbage])
                .unwrap();
        }
        let engine = Engine::open(config(&path)).unwrap();
        let status = engine.status();
        assert_eq!(status.tracked_sessions, 0, "it starts with an empty state");
        assert!(
            status
                .warnings
                .iter()
                .any(|w| w.contains("could not be read")),
            "{:?}",
            status.warnings
        );
        assert_eq!(engine.metrics().startup_warnings, status.warnings.len());
        assert!(engine.metrics_prometheus().contains(&format!(
            "ml_anomaly_startup_warnings {}\n",
            status.warnings.len()
        )));
        assert!(
            engine.predict(traffic.next_event(), None).is_ok(),
            "and serves"
        );
        engine.close().unwrap();
    }
}

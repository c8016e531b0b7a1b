//! Unit tests of the engine over an in-memory store (file-store, restart and crash tests are in
//! `crates/engine/tests/`).

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use anomaly_core::bundle::TrainingProgress;
use anomaly_core::explain::AttributionMethod;
use anomaly_core::features::{RequestEvent, FEATURE_NAMES};
use anomaly_core::policy::Action;

use super::*;
use crate::outcome::{SkipReason, TrainOutcome, TrainReason};
use crate::records::Feedback;
use crate::testkit::{self, Traffic, H, T0};
/// Requests before the first training in most tests: about ten days of traffic.
const WARMUP: usize = 1000;

/// The testkit's small configuration in memory, with one adjustment for the unit tests.
pub(crate) fn small_config() -> EngineConfig {
    let mut c = testkit::small_config(crate::config::MEMORY_STORE);
    // The tests' traffic spans minutes of 20 users: act on it (learning mode has its own tests).
    c.prediction.learning = crate::config::LearningConfig {
        min_days: 0.0,
        min_users: 1,
        min_sessions: 0,
    };
    c
}

/// The testkit's `feed`, without a request context.
fn feed(engine: &Engine, traffic: &mut Traffic, n: usize) -> Vec<Arc<PredictionOutcome>> {
    testkit::feed(engine, traffic, n, None)
}

/// An engine with version 1 trained on `WARMUP` requests of 20 users; returns their outcomes.
fn trained_engine_with_warmup(
    config: EngineConfig,
) -> (Engine, Traffic, Vec<Arc<PredictionOutcome>>) {
    let engine = Engine::open(config).unwrap();
    let mut traffic = Traffic::new(1, 20, T0);
    let warmup = feed(&engine, &mut traffic, WARMUP);
    let t = engine.train(false, traffic.now(), &mut |_| {}).unwrap();
    assert_eq!(t.version(), Some(1), "{t:?}");
    (engine, traffic, warmup)
}

pub(crate) fn trained_engine(config: EngineConfig) -> (Engine, Traffic) {
    let (engine, traffic, _) = trained_engine_with_warmup(config);
    (engine, traffic)
}

use crate::outcome::PredictionOutcome;

#[test]
fn fallback_before_any_model_and_the_window_fills() {
    let engine = Engine::open(small_config()).unwrap();
    let mut traffic = Traffic::new(1, 5, T0);
    let outs = feed(&engine, &mut traffic, 50);
    for (k, o) in outs.iter().enumerate() {
        assert!(o.fallback && !o.is_anomaly);
        assert_eq!((o.anomaly_score, o.confidence), (0.0, 0.0));
        assert_eq!(o.action, Action::Allow);
        assert_eq!(o.model_version, None);
        assert!(o.explanation.is_none() && o.error.is_none());
        assert_eq!(o.features.len(), anomaly_core::N_FEATURES);
        assert_eq!(o.id, outs[0].id + k as i64, "ids increase by one");
    }
    let status = engine.status();
    assert_eq!(
        status.training_window_size, 50,
        "every vector enters the window before any model"
    );
    assert_eq!(status.active_model, None);
    assert_eq!(status.metrics.fallback_predictions, 50);
    assert_eq!(status.metrics.scored_predictions, 0);
    // the fallback is stored and queryable at once
    let rec = engine
        .prediction(outs[3].id, &outs[3].user_id, false)
        .unwrap();
    assert!(rec.fallback);
    assert_eq!(rec.features, outs[3].features);
    assert_eq!(rec.model_version, None);
}

#[test]
fn bad_events_are_input_errors_and_leave_no_trace() {
    let engine = Engine::open(small_config()).unwrap();
    let err = engine
        .predict(RequestEvent::new(T0, "", "u"), None)
        .unwrap_err();
    assert_eq!(err.kind(), "InvalidInput", "{err}");
    let err = engine
        .predict(RequestEvent::new(-5, "s", "u"), None)
        .unwrap_err();
    assert!(err.to_string().contains("timestamp"), "{err}");
    let m = engine.metrics();
    assert_eq!(
        (
            m.prediction_errors,
            m.total_predictions,
            m.training_window_size
        ),
        (2, 0, 0)
    );
    let ok = engine
        .predict(RequestEvent::new(T0, "s", "u"), None)
        .unwrap();
    assert_eq!(ok.id, 1, "no id was consumed by the rejected events");
}

#[test]
fn training_needs_enough_recent_data() {
    let engine = Engine::open(small_config()).unwrap();
    let mut traffic = Traffic::new(1, 5, T0);
    feed(&engine, &mut traffic, 150);
    let t = engine.train(true, traffic.now(), &mut |_| {}).unwrap();
    assert_eq!(
        t,
        TrainOutcome::Skipped(SkipReason::NotEnoughData {
            available: 150,
            required: 200
        })
    );
    feed(&engine, &mut traffic, 100);
    // 250 vectors, but none within 30 days of a `now` 40 days later
    let later = traffic.now() + 40 * 24 * H;
    let t = engine.train(true, later, &mut |_| {}).unwrap();
    assert_eq!(
        t,
        TrainOutcome::Skipped(SkipReason::NotEnoughData {
            available: 0,
            required: 200
        })
    );
    assert!(engine
        .train(false, traffic.now(), &mut |_| {})
        .unwrap()
        .trained());
}

#[test]
fn training_reports_progress_registers_and_swaps() {
    let engine = Engine::open(small_config()).unwrap();
    let mut traffic = Traffic::new(1, 20, T0);
    feed(&engine, &mut traffic, WARMUP);
    let mut events = Vec::new();
    let t = engine
        .train(false, traffic.now(), &mut |e| events.push(e.clone()))
        .unwrap();
    let TrainOutcome::Trained {
        version,
        reason,
        training_size,
        metrics,
        ..
    } = &t
    else {
        panic!("{t:?}")
    };
    assert_eq!(
        (*version, *reason, *training_size),
        (1, TrainReason::Manual, WARMUP)
    );
    assert_eq!(metrics.trained_at, Some(traffic.now()));
    assert_eq!(metrics.data_window_days, Some(30.0));
    assert!(metrics.training_duration_ms.is_some());
    assert!(matches!(
        events.first(),
        Some(TrainingEvent::Started {
            version: 1,
            samples: WARMUP,
            ..
        })
    ));
    let epochs = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                TrainingEvent::Model(TrainingProgress::Autoencoder { .. })
            )
        })
        .count();
    assert!((1..=5).contains(&epochs), "{epochs} epoch events");
    assert!(events
        .iter()
        .any(|e| matches!(e, TrainingEvent::Persisting)));
    assert!(matches!(
        events.last(),
        Some(TrainingEvent::Finished { version: 1, .. })
    ));
    assert_eq!(
        engine.training_progress(),
        None,
        "no progress once finished"
    );
    assert_eq!(engine.last_retraining_time(), Some(traffic.now()));

    let o = engine.predict(traffic.next_event(), None).unwrap();
    assert!(!o.fallback);
    assert_eq!(o.model_version, Some(1));
    assert_eq!(o.top_features.len(), 5);
    assert_eq!(
        o.explanation.is_some(),
        o.is_anomaly,
        "the readable explanation is built for anomalies only"
    );
    let s = o.scores.unwrap();
    assert_eq!(o.anomaly_score, s.composite);
    assert!((0.0..=1.0).contains(&s.composite));
    let status = engine.status();
    assert_eq!(status.active_model.as_ref().map(|m| m.version), Some(1));
    assert_eq!(
        status.last_training.as_ref().and_then(|l| l.version),
        Some(1)
    );
    assert_eq!(status.metrics.trainings, 1);
}

#[test]
fn training_runs_off_the_request_path_and_never_twice() {
    let (engine, mut traffic) = trained_engine(small_config());
    let engine = Arc::new(engine);
    feed(&engine, &mut traffic, 100);
    // Hold the next training at its first event until the test releases it.
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    engine.set_training_listener(Some(Arc::new(move |e: &TrainingEvent| {
        if matches!(e, TrainingEvent::Started { .. }) {
            let _ = entered_tx.send(());
            let _ = release_rx
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(30));
        }
    })));
    let now = traffic.now();
    let trainer = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || engine.train(true, now, &mut |_| {}))
    };
    entered_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    // The training is in progress: requests are served by version 1, a second training is refused.
    assert!(engine.is_training());
    assert!(matches!(
        engine.status().training_progress,
        Some(TrainingEvent::Started { version: 2, .. })
    ));
    for o in feed(&engine, &mut traffic, 20) {
        assert_eq!(o.model_version, Some(1));
    }
    assert_eq!(
        engine.train(false, now, &mut |_| {}).unwrap(),
        TrainOutcome::Skipped(SkipReason::AlreadyTraining)
    );
    assert!(
        engine.check_drift_and_retrain(now).is_ok(),
        "a drift check still works meanwhile"
    );
    release_tx.send(()).unwrap();
    let outcome = trainer.join().unwrap().unwrap();
    assert_eq!(outcome.version(), Some(2));
    assert!(!engine.is_training());
    assert_eq!(
        feed(&engine, &mut traffic, 1)[0].model_version,
        Some(2),
        "swapped in"
    );
}

#[test]
fn first_training_starts_automatically_in_the_background() {
    let mut config = small_config();
    config.retraining.auto_train = true;
    let engine = Engine::open(config).unwrap();
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    engine.set_training_listener(Some(Arc::new(move |e: &TrainingEvent| {
        if matches!(e, TrainingEvent::Started { .. }) {
            let _ = entered_tx.send(());
            let _ = release_rx
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(30));
        }
    })));
    let mut traffic = Traffic::new(1, 20, T0);
    let outs = feed(&engine, &mut traffic, 199);
    assert!(!engine.is_training(), "not before minSamplesForTraining");
    let trigger = engine.predict(traffic.next_event(), None).unwrap();
    assert!(
        trigger.fallback,
        "the request that reached the minimum is answered at once"
    );
    entered_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(engine.is_training());
    // requests keep being served (fallbacks) while the first model trains
    for o in feed(&engine, &mut traffic, 30) {
        assert!(o.fallback);
    }
    assert!(outs.iter().all(|o| o.fallback));
    release_tx.send(()).unwrap();
    engine.wait_for_background_training();
    assert_eq!(engine.active_version(), Some(1));
    assert_eq!(
        engine.status().last_training.map(|l| l.reason),
        Some(TrainReason::Automatic)
    );
    assert!(!feed(&engine, &mut traffic, 1)[0].fallback);
}

#[test]
fn training_is_reproducible_from_the_seed_and_the_window() {
    let bundle_of = |engine: &Engine| {
        let json = engine.model_bundle_json(1).unwrap();
        let mut b = anomaly_core::bundle::ModelBundle::from_json(&json).unwrap();
        b.training.training_duration_ms = None;
        b
    };
    let (a, _) = trained_engine(small_config());
    let (b, _) = trained_engine(small_config());
    assert_eq!(bundle_of(&a), bundle_of(&b));
    let mut other_seed = small_config();
    other_seed.seed = 8;
    let (c, _) = trained_engine(other_seed);
    assert_ne!(
        bundle_of(&a).isolation_forest,
        bundle_of(&c).isolation_forest
    );
}

#[test]
fn registry_history_and_rollback() {
    let (engine, mut traffic) = trained_engine(small_config());
    feed(&engine, &mut traffic, 50);
    let t2 = traffic.now();
    assert_eq!(
        engine.train(false, t2, &mut |_| {}).unwrap().version(),
        Some(2)
    );
    let history = engine.model_history(10).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|m| (m.version, m.is_active))
            .collect::<Vec<_>>(),
        vec![(2, true), (1, false)]
    );
    assert!(history[1].deactivated_at.is_some());
    assert!(history[0].size_bytes > 1000);
    assert_eq!(engine.model_history(1).unwrap().len(), 1);

    let info = engine.activate_model(1, t2 + 1000).unwrap();
    assert!(info.is_active && info.version == 1);
    assert_eq!(engine.active_version(), Some(1));
    assert_eq!(feed(&engine, &mut traffic, 1)[0].model_version, Some(1));
    let history = engine.model_history(10).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|m| (m.version, m.is_active))
            .collect::<Vec<_>>(),
        vec![(2, false), (1, true)]
    );
    assert_eq!(history[0].deactivated_at, Some(t2 + 1000));
    assert_eq!(
        engine.activate_model(99, t2).unwrap_err().kind(),
        "NotFound"
    );
    // versions keep counting after a rollback
    assert_eq!(
        engine
            .train(false, traffic.now(), &mut |_| {})
            .unwrap()
            .version(),
        Some(3)
    );
    let json = engine.model_bundle_json(2).unwrap();
    assert!(anomaly_core::bundle::ModelBundle::from_json(&json).is_ok());
    assert_eq!(engine.model_bundle_json(7).unwrap_err().kind(), "NotFound");
}

#[test]
fn surplus_model_versions_are_pruned() {
    let mut config = small_config();
    config.retraining.keep_model_versions = 1;
    let (engine, mut traffic) = trained_engine(config);
    for _ in 0..3 {
        feed(&engine, &mut traffic, 10);
        engine.train(false, traffic.now(), &mut |_| {}).unwrap();
    }
    let pruned = engine.inner.prune(traffic.now()).unwrap().2;
    assert_eq!(pruned, 2);
    let versions: Vec<u32> = engine
        .model_history(10)
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        versions,
        vec![4, 3],
        "the active one and one inactive one are kept"
    );
}

#[test]
fn drift_triggers_a_retrain_and_the_same_traffic_does_not() {
    let mut config = small_config();
    config.retraining.min_samples_for_training = 400;
    // Train on two weeks after two weeks of warm-up (users' histories fill up in the first
    // days), compare ten days: every hour and weekday on both sides.
    config.retraining.model_window_days = 14.0;
    config.retraining.drift_window = 1000;
    let engine = Engine::open(config).unwrap();
    let mut traffic = Traffic::new(3, 20, T0);
    feed(&engine, &mut traffic, 3000);
    engine.train(false, traffic.now(), &mut |_| {}).unwrap();
    // same behaviour: no drift
    feed(&engine, &mut traffic, 1000);
    let calm = engine.check_drift_and_retrain(traffic.now()).unwrap();
    let calm_score = calm.report.as_ref().expect("assessed").composite;
    assert!(
        !calm.drift_detected && !calm.retrained,
        "composite {calm_score}"
    );
    assert_eq!(engine.active_version(), Some(1));
    // everyone changes behaviour
    let mut shifted = Traffic::new(4, 20, traffic.now()).shifted(true);
    feed(&engine, &mut shifted, 1000);
    let drift = engine.check_drift_and_retrain(shifted.now()).unwrap();
    assert!(
        drift.drift_detected,
        "composite {} (calm {calm_score})",
        drift.drift_score
    );
    assert!(drift.drift_score > calm_score);
    assert!(drift.retrained);
    assert_eq!(engine.active_version(), Some(2));
    assert_eq!(
        drift.training.as_ref().and_then(TrainOutcome::version),
        Some(2)
    );
    // the new model starts a fresh drift history; the old one keeps its own
    let status = engine.drift_status();
    assert_eq!(status.model_version, Some(2));
    assert!(status.history.is_empty() && status.last_report.is_none());
    let v1 = engine.model_info(1).unwrap();
    assert_eq!(v1.drift_detector_state.history.len(), 2);
    assert_eq!(engine.metrics().drift_checks, 2);
}

#[test]
fn drift_check_without_model_or_rows_is_skipped() {
    let engine = Engine::open(small_config()).unwrap();
    let d = engine.check_drift_and_retrain(T0).unwrap();
    assert_eq!(d.skipped.as_deref(), Some("no active model"));
    let (engine, traffic) = trained_engine(small_config());
    let d = engine.check_drift_and_retrain(traffic.now()).unwrap();
    assert!(d.skipped.unwrap().contains("0 scored requests"));
    assert!(!d.drift_detected && !d.retrained);
}

#[test]
fn maintenance_runs_each_job_when_due() {
    let mut config = small_config();
    config.retraining.drift_check_interval_ms = H;
    config.retraining.forced_retrain_interval_ms = 24 * H;
    config.maintenance.snapshot_interval_ms = 10 * 60_000;
    config.maintenance.prune_interval_ms = 6 * H;
    config.retraining.hourly_retrain_threshold = 1.0; // never drifting: the retrain below is the forced one
    let (engine, mut traffic) = trained_engine(config);
    let t0 = traffic.now();
    feed(&engine, &mut traffic, 150);
    let m = engine.maintenance(t0).unwrap();
    assert!(
        !m.due.drift_check && !m.due.prune && !m.due.snapshot && !m.due.forced_retrain,
        "{m:?}"
    );
    let m = engine.maintenance(t0 + 10 * 60_000).unwrap();
    assert!(m.snapshot_saved && m.drift.is_none());
    let m = engine.maintenance(t0 + H).unwrap();
    let drift = m.drift.expect("hourly drift check");
    assert!(drift.report.is_some(), "{drift:?}");
    assert!(
        engine.maintenance(t0 + H + 60_000).unwrap().drift.is_none(),
        "once per interval"
    );
    let m = engine.maintenance(t0 + 24 * H).unwrap();
    assert!(m.due.prune);
    assert_eq!(
        m.forced_retrain.as_ref().and_then(TrainOutcome::version),
        Some(2),
        "{m:?}"
    );
    assert_eq!(
        engine.status().last_training.map(|l| l.reason),
        Some(TrainReason::Scheduled)
    );
    // schedules switched off: nothing fires however late
    engine.set_schedules_enabled(false, false);
    let m = engine.maintenance(t0 + 100 * 24 * H).unwrap();
    assert!(m.drift.is_none() && m.forced_retrain.is_none(), "{m:?}");
    assert_eq!(engine.active_version(), Some(2));
}

#[test]
fn concurrent_maintenance_calls_skip() {
    let engine = Engine::open(small_config()).unwrap();
    let guard = engine.inner.maintenance_running.lock().unwrap();
    assert!(engine.maintenance(T0).unwrap().skipped);
    drop(guard);
    assert!(!engine.maintenance(T0).unwrap().skipped);
}

#[test]
fn retention_prunes_old_records_and_training_vectors() {
    let mut config = small_config();
    config.retraining.model_window_days = 2.0;
    config.retention_days = Some(1.0);
    config.maintenance.prune_interval_ms = H;
    let engine = Engine::open(config).unwrap();
    let mut traffic = Traffic::new(1, 5, T0);
    let old = feed(&engine, &mut traffic, 30);
    traffic.advance(36 * H);
    let recent = feed(&engine, &mut traffic, 20);
    let now = traffic.now();
    engine.maintenance(now - H).unwrap(); // anchors
    let m = engine.maintenance(now).unwrap();
    assert_eq!(m.pruned_predictions, 30, "older than one day");
    assert_eq!(m.pruned_training_samples, 0, "within the two-day window");
    assert_eq!(
        engine
            .prediction(old[0].id, &old[0].user_id, true)
            .unwrap_err()
            .kind(),
        "NotFound"
    );
    assert!(engine
        .prediction(recent[0].id, &recent[0].user_id, true)
        .is_ok());
    let m = engine.maintenance(now + 24 * H).unwrap();
    assert_eq!(m.pruned_training_samples, 30, "{m:?}");
    assert_eq!(engine.status().training_window_size, 20);
}

/// The answer's top features are the explanation's, in order, bit for bit.
fn assert_same_top_features(o: &PredictionOutcome, e: &anomaly_core::explain::Explanation) {
    assert_eq!(o.top_features.len(), e.top_features.len());
    for (t, f) in o.top_features.iter().zip(&e.top_features) {
        assert_eq!(FEATURE_NAMES[t.index as usize], f.feature);
        assert_eq!(t.contribution.to_bits(), f.contribution.to_bits());
        assert_eq!(t.value.to_bits(), f.value.to_bits());
        assert_eq!(t.normalized_value.to_bits(), f.normalized_value.to_bits());
    }
}

#[test]
fn every_scored_answer_has_top_features_and_anomalies_their_text() {
    let (engine, mut traffic) = trained_engine(small_config());
    let normal = feed(&engine, &mut traffic, 50);
    let attack: Vec<_> = traffic
        .attack(1, 10)
        .into_iter()
        .map(|e| engine.predict(e, None).unwrap())
        .collect();
    let mut anomalies = 0;
    for o in normal.iter().chain(&attack) {
        assert_eq!(o.top_features.len(), 5);
        assert_eq!(o.explanation.is_some(), o.is_anomaly);
        if let Some(e) = &o.explanation {
            anomalies += 1;
            assert_same_top_features(o, e);
            assert!(!e.summary.is_empty());
        }
    }
    assert!(anomalies > 0, "the attack raised anomalies");

    // storeAllExplanations: every scored request gets its readable explanation, which lists
    // the same top features.
    let mut config = small_config();
    config.prediction.store_all_explanations = true;
    let (engine, mut traffic) = trained_engine(config);
    for o in feed(&engine, &mut traffic, 20) {
        let e = o.explanation.as_ref().expect("explained");
        assert_same_top_features(&o, e);
    }
}

#[test]
fn prediction_access_and_feedback_rules() {
    let (engine, mut traffic) = trained_engine(small_config());
    let o = feed(&engine, &mut traffic, 1).pop().unwrap();
    let owner = o.user_id.clone();
    let rec = engine.prediction(o.id, &owner, false).unwrap();
    assert_eq!(rec.composite_score, o.anomaly_score);
    assert_eq!(rec.model_version, Some(1));
    let stored_or_recomputed = rec
        .explanation
        .as_ref()
        .expect("recomputed when not stored");
    assert_same_top_features(&o, stored_or_recomputed);
    if let Some(e) = &o.explanation {
        assert_eq!(stored_or_recomputed, e, "recomputed exactly");
    }
    assert_eq!(
        engine
            .prediction(o.id, "someone-else", false)
            .unwrap_err()
            .kind(),
        "Forbidden"
    );
    assert!(engine.prediction(o.id, "admin-7", true).is_ok());
    assert_eq!(
        engine
            .prediction(o.id + 1000, &owner, true)
            .unwrap_err()
            .kind(),
        "NotFound"
    );

    let fb = Feedback {
        is_false_positive: true,
        is_false_negative: false,
        notes: Some("it was me".into()),
    };
    assert_eq!(
        engine
            .submit_feedback(o.id, "someone-else", fb.clone(), T0)
            .unwrap_err()
            .kind(),
        "Forbidden"
    );
    assert_eq!(
        engine
            .submit_feedback(o.id + 1000, &owner, fb.clone(), T0)
            .unwrap_err()
            .kind(),
        "NotFound"
    );
    let long = Feedback {
        notes: Some("x".repeat(5000)),
        ..fb.clone()
    };
    assert_eq!(
        engine
            .submit_feedback(o.id, &owner, long, T0)
            .unwrap_err()
            .kind(),
        "InvalidInput"
    );
    let stored = engine.submit_feedback(o.id, &owner, fb, T0 + 5).unwrap();
    assert_eq!(stored.submitted_at, T0 + 5);
    let rec = engine.prediction(o.id, &owner, false).unwrap();
    assert_eq!(rec.user_feedback, Some(stored));
    let fps = engine.false_positives(10).unwrap();
    assert_eq!(fps.iter().map(|r| r.id).collect::<Vec<_>>(), vec![o.id]);
    assert_eq!(engine.metrics().feedback.false_positives, 1);
    // withdrawn
    engine
        .submit_feedback(o.id, &owner, Feedback::default(), T0 + 6)
        .unwrap();
    assert!(engine.false_positives(10).unwrap().is_empty());
    assert_eq!(engine.metrics().feedback.false_positives, 0);
    assert_eq!(engine.metrics().feedback.with_feedback, 1);
    // the withdrawal did not erase the report: both are in the history, oldest first
    let history = engine
        .prediction(o.id, &owner, false)
        .unwrap()
        .feedback_history;
    let seen: Vec<_> = history
        .iter()
        .map(|r| {
            (
                r.submitted_by.as_str(),
                r.submitted_at,
                r.is_false_positive,
                r.notes.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (owner.as_str(), T0 + 5, true, Some("it was me")),
            (owner.as_str(), T0 + 6, false, None)
        ]
    );
    assert!(
        engine.false_positives(1).is_ok_and(|l| l.is_empty()),
        "lists stay lean"
    );
}

#[test]
fn anomalies_statistics_and_performance() {
    let mut config = small_config();
    config.prediction.store_all_explanations = true;
    let (engine, mut traffic, warmup) = trained_engine_with_warmup(config);
    let normal = feed(&engine, &mut traffic, 100);
    let attack: Vec<_> = traffic
        .attack(3, 40)
        .into_iter()
        .map(|e| {
            engine
                .predict(e, Some("{\"endpoint\":\"/x\"}".into()))
                .unwrap()
        })
        .collect();
    let victim = attack[0].user_id.clone();
    let flagged: Vec<_> = attack.iter().filter(|o| o.is_anomaly).collect();
    assert!(
        flagged.len() >= 20,
        "the hijacked session is flagged: {} of 40",
        flagged.len()
    );
    let normal_rate = normal.iter().filter(|o| o.is_anomaly).count() as f64 / normal.len() as f64;
    assert!(normal_rate < 0.2, "{normal_rate}");
    let now = traffic.now();

    let recent = engine.recent_anomalies(&victim, 24.0, now, 1000).unwrap();
    let day_ago = now - 24 * H;
    let expected = attack
        .iter()
        .chain(&normal)
        .filter(|o| o.is_anomaly && o.user_id == victim && o.timestamp >= day_ago)
        .count();
    assert_eq!(recent.len(), expected);
    assert!(recent.len() >= 20);
    assert!(
        recent.windows(2).all(|w| w[0].timestamp >= w[1].timestamp),
        "newest first"
    );
    assert!(!recent[0].summary.is_empty());
    assert_eq!(
        engine
            .recent_anomalies(&victim, 24.0, now, 3)
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        engine
            .recent_anomalies(&victim, 0.0, now, 3)
            .unwrap_err()
            .kind(),
        "InvalidInput"
    );
    assert_eq!(
        engine
            .recent_anomalies(&victim, 24.0, now, 0)
            .unwrap_err()
            .kind(),
        "InvalidInput"
    );
    let rec = engine.prediction(attack[0].id, &victim, false).unwrap();
    assert_eq!(
        rec.request_context,
        Some(serde_json::json!({"endpoint": "/x"}))
    );

    let stats = engine.statistics(&victim, 90.0, now).unwrap();
    let total: u64 = stats.iter().map(|d| d.total_predictions).sum();
    let all: Vec<_> = warmup
        .iter()
        .chain(&normal)
        .chain(&attack)
        .filter(|o| o.user_id == victim)
        .collect();
    assert_eq!(total as usize, all.len());
    let anomalies: u64 = stats.iter().map(|d| d.anomaly_count).sum();
    assert_eq!(
        anomalies as usize,
        all.iter().filter(|o| o.is_anomaly).count()
    );
    assert!(
        stats.windows(2).all(|w| w[0].day_start < w[1].day_start),
        "one entry per day, in order"
    );
    let max = stats
        .iter()
        .filter_map(|d| d.max_anomaly_score)
        .fold(0.0, f64::max);
    let attack_max = attack.iter().map(|o| o.anomaly_score).fold(0.0, f64::max);
    assert!(max >= attack_max);
    assert!(stats
        .iter()
        .all(|d| d.date.len() == 10 && d.day_start % (24 * H) == 0));

    let perf = engine.performance(24.0 * 90.0, now).unwrap();
    let a = &perf.aggregates;
    assert_eq!(a.total_predictions as usize, WARMUP + 100 + 40);
    assert_eq!(a.fallback_predictions as usize, WARMUP);
    assert_eq!(a.scored_predictions, 140);
    assert_eq!(
        a.anomaly_count as usize,
        normal
            .iter()
            .chain(&attack)
            .filter(|o| o.is_anomaly)
            .count()
    );
    let mean: f64 = normal
        .iter()
        .chain(&attack)
        .map(|o| o.anomaly_score)
        .sum::<f64>()
        / 140.0;
    assert!((a.average_anomaly_score - mean).abs() < 1e-9);
    assert!(a.isolation_forest.average_score > 0.0 && a.autoencoder.average_score > 0.0);
    assert!(a.model_agreement > 0.0 && a.model_agreement <= 1.0);
}

#[test]
fn batch_rescoring_changes_nothing() {
    let (engine, mut traffic) = trained_engine(small_config());
    let last = feed(&engine, &mut traffic, 5).pop().unwrap();
    let before = engine.metrics();
    let pairs = vec![
        (last.session_id.clone(), last.user_id.clone()),
        ("never-seen".to_string(), "u".to_string()),
        (last.session_id.clone(), "another-user".to_string()),
    ];
    let out = engine.predict_batch(&pairs).unwrap();
    assert_eq!(out.len(), 3);
    assert!(!out[0].fallback);
    assert_eq!(
        out[0].anomaly_score, last.anomaly_score,
        "the latest vector rescored by the same model"
    );
    assert_eq!(out[0].timestamp, Some(last.timestamp));
    assert!(out[1].fallback && out[1].error.as_deref().unwrap().contains("never-seen"));
    assert!(out[2].fallback && out[2].error.as_deref().unwrap().contains("another user"));
    let after = engine.metrics();
    assert_eq!(after.total_predictions, before.total_predictions);
    assert_eq!(after.tracked_sessions, before.tracked_sessions);
    assert_eq!(
        feed(&engine, &mut traffic, 1)[0].id,
        last.id + 1,
        "no id consumed"
    );
    assert_eq!(
        engine
            .predict_batch(&[("".into(), "u".into())])
            .unwrap_err()
            .kind(),
        "InvalidInput"
    );
}

#[test]
fn explanations_recomputed_exactly_on_demand() {
    let (engine, mut traffic) = trained_engine(small_config());
    let o = traffic
        .attack(1, 10)
        .into_iter()
        .map(|e| engine.predict(e, None).unwrap())
        .next_back()
        .unwrap();
    let fast = engine
        .explain_prediction(o.id, AttributionMethod::Fast)
        .unwrap();
    assert_eq!(Some(&fast.explanation), o.explanation.as_ref());
    let exact = engine
        .explain_prediction(o.id, AttributionMethod::Exact)
        .unwrap();
    assert_eq!(exact.scores, fast.scores, "same model, same scores");
    let a = &exact.attribution;
    let sum: f64 = a.contributions.iter().sum();
    assert!(
        (a.base_value + sum - a.composite).abs() < 1e-9,
        "local accuracy"
    );
    let fallback_id = 1; // the first request of the warm-up, before any model
    assert_eq!(
        engine
            .explain_prediction(fallback_id, AttributionMethod::Exact)
            .unwrap_err()
            .kind(),
        "NotFound"
    );
}

#[test]
fn writer_queue_drops_instead_of_blocking() {
    let mut config = small_config();
    config.writer_queue_capacity = 1;
    let engine = Engine::open(config).unwrap();
    // Occupy the writer inside a query until released.
    let (busy_tx, busy_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let store_user = {
        let inner = Arc::clone(&engine.inner);
        std::thread::spawn(move || {
            inner.store.call(move |_| {
                let _ = busy_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(30));
                Ok(())
            })
        })
    };
    busy_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let mut traffic = Traffic::new(1, 5, T0);
    let outs = feed(&engine, &mut traffic, 5); // returns although the writer is stuck
    assert_eq!(
        engine.metrics().dropped_records,
        4,
        "one fits the queue, four are dropped"
    );
    assert_eq!(engine.metrics().writer_queue_depth, 1);
    release_tx.send(()).unwrap();
    store_user.join().unwrap().unwrap();
    engine.flush().unwrap();
    assert!(
        engine
            .prediction(outs[0].id, &outs[0].user_id, true)
            .is_ok(),
        "the queued record is stored"
    );
    assert_eq!(
        engine
            .prediction(outs[1].id, &outs[1].user_id, true)
            .unwrap_err()
            .kind(),
        "NotFound"
    );
    assert_eq!(engine.metrics().writer_queue_depth, 0);
    assert_eq!(
        engine.status().training_window_size,
        5,
        "memory keeps what the store dropped"
    );
}

#[test]
fn queries_never_wait_for_the_flush_interval() {
    let mut config = small_config();
    config.writer_flush_interval_ms = crate::config::MAX_WRITER_FLUSH_INTERVAL_MS;
    let engine = Arc::new(Engine::open(config).unwrap());
    let (done_tx, done_rx) = mpsc::channel();
    let e = Arc::clone(&engine);
    std::thread::spawn(move || {
        let mut traffic = Traffic::new(1, 5, T0);
        let mut found = 0;
        for _ in 0..40 {
            let o = e.predict(traffic.next_event(), None).unwrap();
            // Each query is queued behind a record the writer is holding for the interval.
            found += usize::from(e.prediction(o.id, &o.user_id, false).is_ok());
        }
        let _ = done_tx.send(found);
    });
    // Forty queries that each waited out the one-second interval would take forty seconds.
    let found = done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the queries waited for the flush interval");
    assert_eq!(found, 40, "every query sees the record predict returned");
    assert_eq!(engine.metrics().writer_queue_depth, 0);
}

#[test]
fn metrics_follow_the_predictions() {
    let (engine, mut traffic) = trained_engine(small_config());
    let outs = feed(&engine, &mut traffic, 50);
    let m = engine.metrics();
    assert_eq!(m.total_predictions as usize, WARMUP + 50);
    assert_eq!(m.scored_predictions, 50);
    let anomalies = outs.iter().filter(|o| o.is_anomaly).count() as u64;
    assert_eq!(m.anomalies, anomalies);
    assert!((m.anomaly_rate - anomalies as f64 / 50.0).abs() < 1e-12);
    let mean = outs.iter().map(|o| o.anomaly_score).sum::<f64>() / 50.0;
    assert!((m.average_score - mean).abs() < 1e-12);
    let conf = outs.iter().map(|o| o.confidence).sum::<f64>() / 50.0;
    assert!((m.average_confidence - conf).abs() < 1e-12);
    let actions = m.actions.allow
        + m.actions.monitor
        + m.actions.challenge
        + m.actions.require_2fa
        + m.actions.block;
    assert_eq!(actions, 50);
    assert_eq!(m.latency_us.count as usize, WARMUP + 50);
    assert!(m.latency_us.p50 > 0.0 && m.latency_us.p50 <= m.latency_us.p99);
    assert_eq!(m.active_model_version, Some(1));
    assert_eq!(m.training_window_size, WARMUP + 50);
    assert!(m.tracked_sessions > 0 && m.tracked_users == 20);
    let text = engine.metrics_prometheus();
    assert!(
        text.contains("ml_anomaly_predictions_total{result=\"scored\"} 50\n"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "ml_anomaly_predictions_total{{result=\"fallback\"}} {WARMUP}\n"
    )));
    assert!(text.contains("# TYPE ml_anomaly_prediction_latency_seconds summary\n"));
    assert!(text.contains("ml_anomaly_tracked_users 20\n"));
}

#[test]
fn action_taken_can_be_overridden() {
    let (engine, mut traffic) = trained_engine(small_config());
    let o = feed(&engine, &mut traffic, 1).pop().unwrap();
    assert_eq!(
        engine
            .prediction(o.id, &o.user_id, false)
            .unwrap()
            .action_taken,
        o.enforced_action
    );
    assert!(engine.record_action_taken(o.id, Action::Block).unwrap());
    assert_eq!(
        engine
            .prediction(o.id, &o.user_id, false)
            .unwrap()
            .action_taken,
        Action::Block
    );
}

#[test]
fn closed_engine_refuses_work_and_close_is_idempotent() {
    let engine = Engine::open(small_config()).unwrap();
    engine
        .predict(RequestEvent::new(T0, "s", "u"), None)
        .unwrap();
    engine.close().unwrap();
    engine.close().unwrap();
    assert!(engine.is_closed());
    assert_eq!(
        engine
            .predict(RequestEvent::new(T0, "s", "u"), None)
            .unwrap_err(),
        EngineError::Closed
    );
    assert_eq!(
        engine.train(true, T0, &mut |_| {}).unwrap_err(),
        EngineError::Closed
    );
    assert_eq!(
        engine.prediction(1, "u", true).unwrap_err(),
        EngineError::Closed
    );
    assert!(engine.status().closed);
    assert_eq!(engine.metrics().total_predictions, 1);
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
}

//! Opening an engine over its store: everything persisted comes back.
//!
//! | what | where it is kept | restored as |
//! |---|---|---|
//! | registry, active model | `models` | the active bundle decoded and swapped in |
//! | drift history, last report | `models.drift_state` of the active model | the drift tracker |
//! | training window | `training_samples` + `meta.window_seen` | the reservoir, slot for slot |
//! | drift window | `predictions` scored by the active model | its latest `driftWindow` rows |
//! | next prediction id | `meta.prediction_ids_reserved` (and, from older stores, `meta.next_prediction_id`, `max(id) + 1`) | the largest, with a new range reserved from it before any request ([`super::ids`]) |
//! | next model version | `meta.next_model_version`, `max(version) + 1` | the larger of both |
//! | last training time | `meta.last_training_time` | `lastRetrainingTime`, forced-retrain anchor |
//! | behavioral state | `state_snapshot` part 1 (postcard) | sessions and users as of the snapshot |
//! | decision evidence, suspected sessions | `state_snapshot` part 2 | as of the snapshot |
//! | feedback allowances and releases, confirmations since the snapshot | `predictions` (reported rows) | replayed in time order |
//! | feedback totals | `predictions` | the false-positive-rate metric |
//!
//! The behavioral state and the decision evidence are soft: a snapshot part that cannot be
//! read, or was taken under a different configuration, is discarded with a warning in
//! `status().warnings` (it starts afresh). A stored active model that cannot be decoded is a
//! hard error. Feedback is not soft: it is replayed from the records, so a report takes effect
//! again after any restart, snapshot or not.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};

use anomaly_core::bundle::ModelBundle;
use anomaly_core::features::BehaviorState;
use anomaly_core::N_FEATURES;

use super::{ActiveModel, DriftTracker, Inner};
use crate::config::EngineConfig;
use crate::drift_window::DriftWindow;
use crate::error::{EngineError, Result};
use crate::metrics::{FeedbackTotals, Metrics};
use crate::records::ModelInfo;
use crate::schedule::{Schedule, ScheduleFlags};
use crate::store::{self, FeedbackRow, Store};
use crate::window::{RowMeta, SavedRow, TrainingWindow};

use super::decisions::DecisionState;
use super::ids::{self, IdAllocator};

struct Persisted {
    first_id: i64,
    reserved_ids: i64,
    next_version: u32,
    active: Option<(ModelInfo, Vec<u8>)>,
    last_training_time: Option<i64>,
    window_seen: u64,
    window_rows: Vec<SavedRow>,
    snapshot: Option<(i64, Vec<u8>)>,
    reported: Vec<FeedbackRow>,
    feedback: FeedbackTotals,
    recent_scored: Vec<(i64, Vec<f64>, f64)>,
}

pub(super) fn open(config: EngineConfig) -> Result<Inner> {
    let store = Store::open(&config.store_path, config.writer_settings())?;
    let drift_rows = config.retraining.drift_window;
    let p = store.call(move |conn| {
        let meta_id = store::get_meta_i64(conn, "next_prediction_id")?.unwrap_or(1);
        let max_id = store::max_prediction_id(conn)?.unwrap_or(0);
        let first_id = meta_id.max(max_id + 1).max(ids::reserved_end(conn)?).max(1);
        let reserved_ids = ids::reserve(conn, first_id + ids::ID_BLOCK)?;
        let meta_version = store::get_meta_i64(conn, "next_model_version")?.unwrap_or(1);
        let max_version = store::max_model_version(conn)?.unwrap_or(0);
        let active = match store::active_model(conn)? {
            Some(info) => {
                let bytes = store::model_bundle_bytes(conn, info.version)?.unwrap_or_default();
                Some((info, bytes))
            }
            None => None,
        };
        let recent_scored = match &active {
            Some((info, _)) => store::recent_scored(conn, info.version, drift_rows)?,
            None => Vec::new(),
        };
        Ok(Persisted {
            first_id,
            reserved_ids,
            next_version: u32::try_from(meta_version.max(i64::from(max_version) + 1).max(1))
                .map_err(|_| EngineError::Store("corrupt meta value next_model_version".into()))?,
            active,
            last_training_time: store::get_meta_i64(conn, "last_training_time")?,
            window_seen: store::get_meta_i64(conn, "window_seen")?
                .unwrap_or(0)
                .max(0) as u64,
            window_rows: store::window_rows(conn)?,
            snapshot: store::get_snapshot(conn)?,
            reported: store::feedback_since(conn, i64::MIN)?,
            feedback: store::feedback_totals(conn)?,
            recent_scored,
        })
    });
    let p = p.map_err(|e| match e {
        EngineError::Store(m) => EngineError::Store(format!(
            "cannot restore the engine from {}: {m}",
            config.store_path
        )),
        other => other,
    })?;

    let mut warnings = Vec::new();
    let active = match p.active {
        Some((info, bytes)) => {
            let bundle = ModelBundle::from_bytes(&bytes).map_err(|e| {
                EngineError::Store(format!(
                    "the active model (version {}) in {} cannot be loaded: {e}",
                    info.version, config.store_path
                ))
            })?;
            if bundle.n_features() != N_FEATURES {
                return Err(EngineError::Store(format!(
                    "the active model (version {}) has {} features, the engine computes {N_FEATURES}",
                    info.version,
                    bundle.n_features()
                )));
            }
            Some(super::settings::serving(
                Arc::new(ActiveModel::new(info, bundle)),
                &config,
            )?)
        }
        None => None,
    };

    let (behavior, decision_part) = match &p.snapshot {
        None => (None, None),
        Some((_, bytes)) => {
            let (b, d) = store::decode_snapshot(bytes);
            (Some(b), d)
        }
    };
    let state = match behavior {
        None => BehaviorState::new(config.state.clone())?,
        Some(bytes) => match postcard::from_bytes::<BehaviorState>(bytes) {
            Ok(s) if *s.config() == config.state => s,
            Ok(_) => {
                warnings.push("the saved behavioral state was taken under a different `state` configuration; sessions start afresh".into());
                BehaviorState::new(config.state.clone())?
            }
            Err(e) => {
                warnings.push(format!(
                    "the saved behavioral state could not be read ({e}); sessions start afresh"
                ));
                BehaviorState::new(config.state.clone())?
            }
        },
    };

    let window = TrainingWindow::restore(
        config.retraining.max_training_samples,
        config.seed,
        config.retraining.max_entity_rows(),
        p.window_seen,
        p.window_rows,
    );
    let mut decisions = DecisionState::new(&config.prediction);
    if let Some(bytes) = decision_part {
        if let Err(why) = decisions.restore(&config.prediction, bytes) {
            warnings.push(format!(
                "the saved decision evidence was not used ({why}); it starts afresh"
            ));
        }
    }
    if let Some(m) = &active {
        replay_feedback(&mut decisions, m, &p.reported);
    }
    let mut drift_window = DriftWindow::new(config.retraining.drift_window);
    let mut drift = DriftTracker::default();
    if let Some(m) = &active {
        for (ts, x, composite) in &p.recent_scored {
            if let Ok(x) = <&[f64; N_FEATURES]>::try_from(x.as_slice()) {
                drift_window.push(*ts, x, *composite, m.version);
            }
        }
        drift = DriftTracker {
            version: Some(m.version),
            state: m.info.drift_detector_state.clone(),
        };
    }

    let mut schedule = Schedule::default();
    schedule.forced_retrain.last = p.last_training_time;
    schedule.drift_check.last = drift.state.last_checked_at;

    let metrics = Metrics::default();
    metrics.set_feedback(p.feedback);
    let flags = ScheduleFlags {
        drift_check: config.retraining.drift_check_enabled,
        forced_retrain: config.retraining.daily_retrain_forced,
    };
    let last_event = p.recent_scored.last().map(|r| r.0).unwrap_or(i64::MIN);
    Ok(Inner {
        store,
        state: Mutex::new(state),
        active: RwLock::new(active),
        other_model: Mutex::new(None),
        window: Mutex::new(window),
        decisions: Mutex::new(decisions),
        drift_window: Mutex::new(drift_window),
        drift: Mutex::new(drift),
        metrics,
        ids: IdAllocator::new(p.first_id, p.reserved_ids),
        next_version: AtomicU32::new(p.next_version),
        training: Arc::new(AtomicBool::new(false)),
        auto_train_retry_at: AtomicU64::new(0),
        progress: Mutex::new(None),
        listener: RwLock::new(None),
        last_training: Mutex::new(None),
        last_retraining_time: AtomicI64::new(p.last_training_time.unwrap_or(i64::MIN)),
        last_event_ms: AtomicI64::new(last_event),
        schedule: Mutex::new(schedule),
        flags: Mutex::new(flags),
        maintenance_running: Mutex::new(()),
        background: Mutex::new(None),
        closed: AtomicBool::new(false),
        warnings,
        settings: RwLock::new(Arc::new(config)),
    })
}

/// Applies the reported predictions to the decision state, oldest first: allowances and
/// releases for false positives (rebuilt from nothing), confirmations not yet in the restored
/// evidence for false negatives.
fn replay_feedback(decisions: &mut DecisionState, model: &ActiveModel, reported: &[FeedbackRow]) {
    let Some(decision) = model.bundle.decision.as_ref() else {
        return;
    };
    for r in reported {
        if r.meta == RowMeta::UNKNOWN {
            continue;
        }
        if r.false_positive {
            if let Ok(contributions) = super::queries::contributions(model, &r.features) {
                decisions.false_positive(decision, &r.meta.keys, &contributions, r.timestamp);
            }
        }
        if r.false_negative {
            decisions.confirmed_attack(decision, r.id, &r.meta.keys, r.timestamp);
        }
    }
}

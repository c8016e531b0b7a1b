//! Periodic work: the drift check (and the retrain it triggers), the forced retrain,
//! retention pruning, idle-state expiry and the behavioral state snapshot.

use std::sync::Arc;

use anomaly_core::drift::{assess, DriftPoint, DriftReport};
use anomaly_core::features::SnapshotWriter;
use anomaly_core::N_FEATURES;
use ndarray::ArrayView2;

use super::{ActiveModel, Engine, Inner};
use crate::error::{EngineError, Result};
use crate::lock;
use crate::outcome::{DriftCheckOutcome, MaintenanceOutcome, TrainOutcome, TrainReason};
use crate::schedule::Intervals;
use crate::store;

/// Sessions and users serialized per hold of the state lock by a snapshot: a step of about
/// 0.4 ms (at most about 0.6 ms) with full 200-event sessions (docs/benchmarks.md, "Features").
pub(crate) const SNAPSHOT_STEP: usize = 64;

impl Engine {
    /// Assesses drift of the recent scored requests against the active model's training
    /// reference and, when the composite exceeds `retraining.hourlyRetrainThreshold`, retrains
    /// (blocking; `checkDriftAndRetrain()`). Without a model, or with fewer scored requests
    /// than `drift.minCurrentRows`, nothing is assessed and `skipped` says why.
    pub fn check_drift_and_retrain(&self, now_ms: i64) -> Result<DriftCheckOutcome> {
        self.inner.check_drift(now_ms, true)
    }

    /// Does the periodic work that is due at `now_ms` (blocking; call it from a timer, e.g.
    /// every minute): the drift check every `driftCheckIntervalMs`, the forced retrain every
    /// `forcedRetrainIntervalMs` (unless a training just happened), pruning of records and
    /// training vectors older than their windows and of surplus model versions, expiry of idle
    /// sessions, and the behavioral state snapshot. A job's failure is reported in `errors`
    /// and does not stop the others. Overlapping calls return `skipped`.
    pub fn maintenance(&self, now_ms: i64) -> Result<MaintenanceOutcome> {
        self.inner.maintenance(now_ms)
    }

    /// The drift of the recent scored requests against the active model's reference, assessed
    /// now without recording or retraining anything (a dashboard's look; the scheduled check is
    /// [`Engine::check_drift_and_retrain`]). `Err(why)` when no assessment is possible. Costs a
    /// few milliseconds at the default drift window (docs/benchmarks.md, "Drift").
    pub fn assess_drift(&self) -> Result<std::result::Result<DriftReport, String>> {
        Ok(self.inner.assess_drift()?.map(|(_, report)| report))
    }

    /// Saves the behavioral state now (also done by `maintenance` and `close`).
    pub fn save_state_snapshot(&self) -> Result<()> {
        self.inner.check_open()?;
        self.inner.save_snapshot(None)
    }
}

impl Inner {
    /// Assesses the drift of the recent scored requests against the active model's training
    /// reference, changing nothing: `Err(why)` when no assessment is possible (no model, too
    /// few scored requests).
    pub(crate) fn assess_drift(
        &self,
    ) -> Result<std::result::Result<(Arc<ActiveModel>, DriftReport), String>> {
        self.check_open()?;
        let Some(model) = self.active() else {
            return Ok(Err("no active model".into()));
        };
        let sample = lock(&self.drift_window).sample();
        let cfg = self.config().drift_config();
        if sample.rows() < cfg.min_current_rows {
            return Ok(Err(format!(
                "{} scored requests in the drift window, the check needs {}",
                sample.rows(),
                cfg.min_current_rows
            )));
        }
        // Rows scored by an earlier model are rescored with the active one, so the score terms
        // compare this model's scores with this model's reference.
        let mut composites = sample.composites;
        model.with_workspace(|bundle, ws| -> Result<()> {
            for (i, v) in sample.versions.iter().enumerate() {
                if *v != model.version {
                    let row = &sample.features[i * N_FEATURES..(i + 1) * N_FEATURES];
                    composites[i] = bundle.score_with(row, ws)?.composite;
                }
            }
            Ok(())
        })?;
        let features = ArrayView2::from_shape((composites.len(), N_FEATURES), &sample.features)
            .map_err(|e| EngineError::Internal(format!("drift matrix: {e}")))?;
        let report = assess(
            &model.bundle.drift_reference,
            features,
            &composites,
            &model.bundle.feature_names,
            &cfg,
        )?;

        Ok(Ok((model, report)))
    }

    pub(crate) fn check_drift(
        self: &Arc<Self>,
        now: i64,
        retrain: bool,
    ) -> Result<DriftCheckOutcome> {
        self.check_open()?;
        let skipped = |why: String| DriftCheckOutcome {
            drift_detected: false,
            drift_score: 0.0,
            retrained: false,
            report: None,
            skipped: Some(why),
            training: None,
        };
        let (model, report) = match self.assess_drift()? {
            Ok(assessed) => assessed,
            Err(why) => return Ok(skipped(why)),
        };

        let state = {
            let mut tracker = lock(&self.drift);
            if tracker.version != Some(model.version) {
                // A training swapped the model while we assessed: this report is about the old one.
                return Ok(skipped("the model changed during the check".into()));
            }
            tracker.state.history.push(DriftPoint {
                timestamp_ms: now,
                composite: report.composite,
            })?;
            tracker.state.last_report = Some(report.clone());
            tracker.state.last_checked_at = Some(now);
            tracker.state.clone()
        };
        self.metrics.record_drift(report.composite);
        lock(&self.schedule).drift_check.ran(now);
        let version = model.version;
        self.store
            .call(move |conn| store::set_drift_state(conn, version, &state))?;

        let training = if report.is_drifting && retrain {
            Some(self.train(TrainReason::Drift, now, &mut |_| {})?)
        } else {
            None
        };
        Ok(DriftCheckOutcome {
            drift_detected: report.is_drifting,
            drift_score: report.composite,
            retrained: training.as_ref().is_some_and(TrainOutcome::trained),
            report: Some(report),
            skipped: None,
            training,
        })
    }

    fn maintenance(self: &Arc<Self>, now: i64) -> Result<MaintenanceOutcome> {
        self.check_open()?;
        let Ok(_running) = self.maintenance_running.try_lock() else {
            return Ok(MaintenanceOutcome {
                skipped: true,
                ..MaintenanceOutcome::default()
            });
        };
        let c = self.config();
        let intervals = Intervals {
            drift_check_ms: c.retraining.drift_check_interval_ms,
            forced_retrain_ms: c.retraining.forced_retrain_interval_ms,
            prune_ms: c.maintenance.prune_interval_ms,
            snapshot_ms: c.maintenance.snapshot_interval_ms,
        };
        let flags = *lock(&self.flags);
        let due = lock(&self.schedule).due(now, &intervals, flags);
        let mut out = MaintenanceOutcome {
            due,
            ..MaintenanceOutcome::default()
        };

        if due.drift_check {
            match self.check_drift(now, true) {
                Ok(d) => out.drift = Some(d),
                Err(e) => out.errors.push(format!("drift check: {e}")),
            }
            lock(&self.schedule).drift_check.ran(now);
        }
        let mut retrained = out.drift.as_ref().is_some_and(|d| d.retrained);
        if !retrained && self.graduation_due(now) {
            match self.train(TrainReason::Graduation, now, &mut |_| {}) {
                Ok(t) => {
                    retrained = t.trained();
                    out.graduation = Some(t);
                }
                Err(e) => out.errors.push(format!("graduation retrain: {e}")),
            }
        }
        if due.forced_retrain && !retrained {
            match self.train(TrainReason::Scheduled, now, &mut |_| {}) {
                Ok(t) => out.forced_retrain = Some(t),
                Err(e) => out.errors.push(format!("forced retrain: {e}")),
            }
            // Skipped or failed: try again one period later, not at every call.
            lock(&self.schedule).forced_retrain.ran(now);
        }
        if due.prune {
            match self.prune(now) {
                Ok((p, w, m, s)) => {
                    out.pruned_predictions = p;
                    out.pruned_training_samples = w;
                    out.pruned_models = m;
                    out.expired_sessions = s;
                }
                Err(e) => out.errors.push(format!("pruning: {e}")),
            }
            match self.confirm_unreported_alarms(now) {
                Ok(n) => out.confirmed_alarms = n,
                Err(e) => out
                    .errors
                    .push(format!("confirming unreported alarms: {e}")),
            }
            lock(&self.schedule).prune.ran(now);
        }
        if due.snapshot {
            match self.save_snapshot(Some(now)) {
                Ok(()) => out.snapshot_saved = true,
                Err(e) => out.errors.push(format!("state snapshot: {e}")),
            }
            lock(&self.schedule).snapshot.ran(now);
        }
        Ok(out)
    }

    /// Drops records, training vectors and idle state beyond their windows, and surplus model
    /// versions. Returns (predictions, training vectors, models, sessions and users expired).
    pub(crate) fn prune(&self, now: i64) -> Result<(usize, usize, usize, usize)> {
        let config = self.config();
        let window_cutoff = now.saturating_sub(config.model_window_ms());
        let prediction_cutoff = now.saturating_sub(config.retention_ms());
        lock(&self.window).prune(window_cutoff);
        lock(&self.decisions).prune(window_cutoff);
        let expired = lock(&self.state).expire_idle(now);
        let keep = config.retraining.keep_model_versions;
        let (p, w, m, totals) = self.store.call(move |conn| {
            let (p, w) = store::prune(conn, prediction_cutoff, window_cutoff)?;
            let m = store::prune_models(conn, keep)?;
            Ok((p, w, m, store::feedback_totals(conn)?))
        })?;
        self.metrics.set_feedback(totals);
        Ok((p, w, m, expired))
    }

    /// Serializes the behavioral state and stores it. The state lock is taken for steps of
    /// [`SNAPSHOT_STEP`] entries and released between them, so a request waits at most one
    /// step (about 0.4 ms) rather than the whole serialization (75 ms for a state at the
    /// default caps with full windows; `snapshot` benches in `benches/features.rs`). Requests
    /// served between the steps leave each entry as of its own step (see
    /// `anomaly_core::features::snapshot`).
    pub(crate) fn save_snapshot(&self, now: Option<i64>) -> Result<()> {
        let internal = |e: anomaly_core::CoreError| EngineError::Internal(e.to_string());
        let mut writer = SnapshotWriter::new(&lock(&self.state)).map_err(internal)?;
        while !writer
            .step(&lock(&self.state), SNAPSHOT_STEP)
            .map_err(internal)?
        {}
        let bytes = writer.finish().map_err(internal)?;
        let decisions = lock(&self.decisions).snapshot();
        let taken_at = now.unwrap_or_else(|| {
            self.last_event_ms
                .load(std::sync::atomic::Ordering::Acquire)
                .max(0)
        });
        let framed = store::encode_snapshot(&bytes, &decisions);
        self.store
            .call(move |conn| store::put_snapshot(conn, taken_at, &framed))
    }

    /// Whether the active model is in learning mode while the window now covers enough
    /// traffic: it graduates by a retrain.
    fn graduation_due(&self, now: i64) -> bool {
        let Some(model) = self.active() else {
            return false;
        };
        // At most one attempt an hour: a retrained model may still be learning (its kept rows
        // can cover less than the window does).
        if self
            .last_retraining_time()
            .is_some_and(|t| now.saturating_sub(t) < crate::time::MS_PER_HOUR)
        {
            return false;
        }
        let config = self.config();
        let learning = &config.prediction.learning;
        model
            .bundle
            .decision
            .as_ref()
            .is_some_and(|d| super::decisions::learning(d, learning))
            && {
                let c = lock(&self.window).coverage();
                learning.covered(c.days, c.users, c.sessions)
            }
    }

    /// Confirms the alarms (CHALLENGE or worse) of requests older than
    /// `feedback.confirmAfterMs` that nobody reported as false positives. Returns how many.
    fn confirm_unreported_alarms(&self, now: i64) -> Result<usize> {
        let Some(model) = self.active() else {
            return Ok(0);
        };
        let Some(decision) = model.bundle.decision.as_ref() else {
            return Ok(0);
        };
        let Some(after) = decision.config.feedback.confirm_after_ms else {
            return Ok(0);
        };
        let until = now.saturating_sub(after);
        let from = {
            let d = lock(&self.decisions);
            // A first scan looks back one confirmation horizon, not over the whole store.
            if d.alarm_cursor == i64::MIN {
                until.saturating_sub(after)
            } else {
                d.alarm_cursor
            }
        };
        if until <= from {
            return Ok(0);
        }
        let rows = self
            .store
            .call(move |conn| store::unreported_alarms(conn, from, until))?;
        let mut d = lock(&self.decisions);
        for r in &rows {
            d.confirmed_attack(decision, r.id, &r.meta.keys, r.timestamp);
        }
        d.alarm_cursor = until;
        Ok(rows.len())
    }
}

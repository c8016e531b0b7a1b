//! Queries behind the routes, and the model registry.
//!
//! Every query runs on the store's writer thread after the records queued before it, so what a
//! `predict` returned is visible to the next query without an explicit flush.

use std::sync::Arc;

use anomaly_core::bundle::ModelBundle;
use anomaly_core::explain::AttributionMethod;

use super::{ActiveModel, Engine, Inner};
use crate::error::{EngineError, Result};
use crate::lock;
use crate::outcome::{DriftMetrics, ExplainOutcome, Performance};
use crate::records::{
    AnomalySummary, DailyStatistics, Feedback, ModelInfo, PredictionRecord, SuspiciousSession,
    UserFeedback, MAX_NOTES_BYTES,
};
use crate::store;
use crate::time::{MS_PER_DAY, MS_PER_HOUR};

/// The fast attribution of `x` under `model`: which features drove its score.
pub(crate) fn contributions(model: &ActiveModel, x: &[f64]) -> Result<Vec<f64>> {
    Ok(model.with_workspace(|b, ws| {
        b.attribute_with(x, AttributionMethod::Fast, ws)
            .map(|_| ws.contributions().to_vec())
    })?)
}

impl Inner {
    /// A report takes effect at once, without a retrain (see `decisions`): a false positive
    /// lowers the user's friction in that situation and releases the session's rows, a false
    /// negative confirms an attack. Under a model without a decision layer it is only counted.
    fn apply_feedback(&self, row: &store::FeedbackRow) {
        let Some(model) = self.active() else {
            return;
        };
        let Some(decision) = model.bundle.decision.as_ref() else {
            return;
        };
        if row.meta == crate::window::RowMeta::UNKNOWN {
            return;
        }
        if row.false_positive {
            match contributions(&model, &row.features) {
                Ok(c) => lock(&self.decisions).false_positive(
                    decision,
                    &row.meta.keys,
                    &c,
                    row.timestamp,
                ),
                Err(_) => return,
            }
        }
        if row.false_negative {
            lock(&self.decisions).confirmed_attack(decision, row.id, &row.meta.keys, row.timestamp);
        }
    }
}

/// Largest `limit` accepted by list queries.
pub const MAX_LIMIT: usize = 10_000;
/// Longest period accepted by `hours` and `days` arguments: one year.
pub const MAX_PERIOD_DAYS: f64 = 366.0;

fn check_limit(limit: usize) -> Result<()> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(format!(
            "limit must be in 1..={MAX_LIMIT}, got {limit}"
        )))
    }
}

/// `now - period` for a period given in `unit`s; the period must be positive and at most a year.
fn since(now: i64, period: f64, unit_ms: i64, name: &str) -> Result<i64> {
    let max = MAX_PERIOD_DAYS * MS_PER_DAY as f64 / unit_ms as f64;
    if !(period.is_finite() && period > 0.0 && period <= max) {
        return Err(EngineError::InvalidInput(format!(
            "{name} must be a number in (0, {max}], got {period}"
        )));
    }
    Ok(now.saturating_sub((period * unit_ms as f64).round() as i64))
}

fn check_user(user_id: &str) -> Result<()> {
    if user_id.is_empty() {
        Err(EngineError::InvalidInput("userId must be non-empty".into()))
    } else {
        Ok(())
    }
}

impl Engine {
    /// A stored prediction (`GET /predictions/:id`): [`EngineError::NotFound`] when unknown,
    /// [`EngineError::Forbidden`] unless `requester_user_id` owns it or `is_admin`. An
    /// explanation that was not stored is recomputed exactly with the model that scored it.
    pub fn prediction(
        &self,
        id: i64,
        requester_user_id: &str,
        is_admin: bool,
    ) -> Result<PredictionRecord> {
        let inner = &self.inner;
        inner.check_open()?;
        let mut record = inner
            .store
            .call(move |conn| {
                let Some(mut record) = store::prediction_by_id(conn, id)? else {
                    return Ok(None);
                };
                record.feedback_history = store::feedback_history(conn, id)?;
                Ok(Some(record))
            })?
            .ok_or_else(|| EngineError::NotFound(format!("prediction {id}")))?;
        if !is_admin && record.user_id != requester_user_id {
            return Err(EngineError::Forbidden(format!(
                "prediction {id} belongs to another user"
            )));
        }
        if record.explanation.is_none() && !record.fallback {
            if let Some(model) = record.model_version.and_then(|v| inner.model(v).ok()) {
                let top_k = inner.config().prediction.top_features;
                record.explanation = model
                    .with_workspace(|b, ws| {
                        b.predict_with(&record.features, AttributionMethod::Fast, top_k, ws)
                    })
                    .ok()
                    .map(|p| p.explanation);
            }
        }
        Ok(record)
    }

    /// The anomalies of `user_id` in the last `hours` before `now_ms`, newest first, at most
    /// `limit` (`GET /predictions/recent`).
    pub fn recent_anomalies(
        &self,
        user_id: &str,
        hours: f64,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<AnomalySummary>> {
        self.inner.check_open()?;
        check_user(user_id)?;
        check_limit(limit)?;
        let since = since(now_ms, hours, MS_PER_HOUR, "hours")?;
        let user = user_id.to_string();
        self.inner
            .store
            .call(move |conn| store::recent_anomalies(conn, &user, since, limit))
    }

    /// Sessions with anomalies scoring at least `min_score` in the last `hours` before `now_ms`,
    /// highest maximum first, at most `limit`: the admin's "suspicious sessions" view.
    pub fn suspicious_sessions(
        &self,
        hours: f64,
        min_score: f64,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<SuspiciousSession>> {
        self.inner.check_open()?;
        check_limit(limit)?;
        if !(min_score.is_finite() && (0.0..=1.0).contains(&min_score)) {
            return Err(EngineError::InvalidInput(format!(
                "minScore must be a number in [0, 1], got {min_score}"
            )));
        }
        let since = since(now_ms, hours, MS_PER_HOUR, "hours")?;
        self.inner
            .store
            .call(move |conn| store::suspicious_sessions(conn, since, min_score, limit))
    }

    /// Records feedback on a prediction (`POST /predictions/:id/feedback`); only its owner may.
    /// Replaces earlier feedback. Returns the stored feedback.
    pub fn submit_feedback(
        &self,
        id: i64,
        user_id: &str,
        feedback: Feedback,
        now_ms: i64,
    ) -> Result<UserFeedback> {
        let inner = &self.inner;
        inner.check_open()?;
        check_user(user_id)?;
        if feedback
            .notes
            .as_ref()
            .is_some_and(|n| n.len() > MAX_NOTES_BYTES)
        {
            return Err(EngineError::InvalidInput(format!(
                "notes must be at most {MAX_NOTES_BYTES} bytes"
            )));
        }
        let stored = UserFeedback {
            is_false_positive: feedback.is_false_positive,
            is_false_negative: feedback.is_false_negative,
            notes: feedback.notes,
            submitted_at: now_ms,
        };
        let user = user_id.to_string();
        let update = stored.clone();
        let before = inner.store.call(move |conn| {
            let (owner, before) = store::feedback_state(conn, id)?
                .ok_or_else(|| EngineError::NotFound(format!("prediction {id}")))?;
            if owner != user {
                return Err(EngineError::Forbidden(format!(
                    "prediction {id} belongs to another user"
                )));
            }
            store::set_feedback(conn, id, &user, &update)?;
            Ok((before, store::feedback_row(conn, id)?))
        })?;
        let (before, row) = before;
        inner.metrics.update_feedback(
            before,
            (true, stored.is_false_positive, stored.is_false_negative),
        );
        if let Some(row) = row {
            inner.apply_feedback(&row);
        }
        Ok(stored)
    }

    /// Predictions reported as false positives, most recently reported first
    /// (`GET /false-positives`).
    pub fn false_positives(&self, limit: usize) -> Result<Vec<PredictionRecord>> {
        self.inner.check_open()?;
        check_limit(limit)?;
        self.inner
            .store
            .call(move |conn| store::false_positives(conn, limit))
    }

    /// Per-day (UTC) counts and scores of `user_id`'s predictions over the last `days`
    /// (`GET /statistics`).
    pub fn statistics(
        &self,
        user_id: &str,
        days: f64,
        now_ms: i64,
    ) -> Result<Vec<DailyStatistics>> {
        self.inner.check_open()?;
        check_user(user_id)?;
        let since = since(now_ms, days, MS_PER_DAY, "days")?;
        let user = user_id.to_string();
        self.inner
            .store
            .call(move |conn| store::statistics(conn, &user, since))
    }

    /// Aggregates of the stored predictions of the last `hours` and the drift state
    /// (`getModelPerformance(hours)`).
    pub fn performance(&self, hours: f64, now_ms: i64) -> Result<Performance> {
        let inner = &self.inner;
        inner.check_open()?;
        let since = since(now_ms, hours, MS_PER_HOUR, "hours")?;
        let threshold = inner.config().prediction.anomaly_threshold;
        let aggregates = inner
            .store
            .call(move |conn| store::performance(conn, since, threshold))?;
        let drift = self.drift_status();
        Ok(Performance {
            hours,
            aggregates,
            drift_metrics: DriftMetrics {
                drift_score: drift.last_report.as_ref().map(|r| r.composite),
                is_drifting: drift.last_report.as_ref().is_some_and(|r| r.is_drifting),
                threshold: drift.threshold,
                trend: drift.trend,
                last_checked_at: drift.last_checked_at,
            },
        })
    }

    /// Registered models, newest first (`GET /models/history`).
    pub fn model_history(&self, limit: usize) -> Result<Vec<ModelInfo>> {
        self.inner.check_open()?;
        check_limit(limit)?;
        let mut models = self
            .inner
            .store
            .call(move |conn| store::model_history(conn, limit))?;
        // The active model's drift state in memory is newer than the stored one.
        if let Some(active) = models.iter_mut().find(|m| m.is_active) {
            let tracker = lock(&self.inner.drift);
            if tracker.version == Some(active.version) {
                active.drift_detector_state = tracker.state.clone();
            }
        }
        Ok(models)
    }

    /// The model serving predictions (`GET /models/active`; `None` is a 404).
    pub fn active_model(&self) -> Option<ModelInfo> {
        self.status().active_model
    }

    /// A registered model's metadata.
    pub fn model_info(&self, version: u32) -> Result<ModelInfo> {
        self.inner.check_open()?;
        self.inner
            .store
            .call(move |conn| store::model_by_version(conn, version))?
            .ok_or_else(|| EngineError::NotFound(format!("model version {version}")))
    }

    /// A registered model's full bundle as JSON (what the browser viewer loads).
    pub fn model_bundle_json(&self, version: u32) -> Result<String> {
        self.inner.check_open()?;
        Ok(self.inner.model(version)?.bundle.to_json())
    }

    /// Makes an older (or newer) registered version the active one (rollback). Persisted, then
    /// swapped in atomically; the drift state becomes that model's own. A training running
    /// meanwhile will still activate its new version when it finishes.
    pub fn activate_model(&self, version: u32, now_ms: i64) -> Result<ModelInfo> {
        let inner = &self.inner;
        inner.check_open()?;
        if inner.active().is_some_and(|m| m.version == version) {
            return self.model_info(version);
        }
        let model = inner.load_model(version)?;
        let activated = inner
            .store
            .call(move |conn| store::activate_model(conn, version, now_ms))?;
        if !activated {
            return Err(EngineError::NotFound(format!("model version {version}")));
        }
        let mut info = model.info.clone();
        info.is_active = true;
        info.deactivated_at = None;
        let model = Arc::new(ActiveModel::new(info.clone(), model.bundle.clone()));
        inner.set_active(model)?;
        Ok(info)
    }

    /// Recomputes a stored prediction's explanation with the model version that scored it:
    /// `Exact` runs TreeSHAP, `Fast` reproduces the stored one. The caller checks access (see
    /// [`Engine::prediction`]). [`EngineError::NotFound`] when the prediction is unknown, was a
    /// fallback, or its model version was pruned.
    pub fn explain_prediction(&self, id: i64, method: AttributionMethod) -> Result<ExplainOutcome> {
        let inner = &self.inner;
        inner.check_open()?;
        let record = inner
            .store
            .call(move |conn| store::prediction_by_id(conn, id))?
            .ok_or_else(|| EngineError::NotFound(format!("prediction {id}")))?;
        let version = record.model_version.ok_or_else(|| {
            EngineError::NotFound(format!("prediction {id} was not scored by a model"))
        })?;
        let model = inner.model(version)?;
        let top_k = inner.config().prediction.top_features;
        let prediction = model.bundle.predict(&record.features, method, top_k)?;
        let attribution = model.bundle.attribution(&record.features, method)?;
        let evidence = record.explanation.and_then(|e| e.evidence);
        Ok(ExplainOutcome {
            id,
            model_version: version,
            method,
            scores: prediction.scores,
            explanation: anomaly_core::explain::Explanation {
                evidence,
                ..prediction.explanation
            },
            attribution,
        })
    }
}

impl Inner {
    /// The model of `version`: the active one, the cached other one, or loaded from the store.
    pub(crate) fn model(&self, version: u32) -> Result<Arc<ActiveModel>> {
        if let Some(m) = self.active().filter(|m| m.version == version) {
            return Ok(m);
        }
        if let Some(m) = lock(&self.other_model)
            .as_ref()
            .filter(|m| m.version == version)
        {
            return Ok(Arc::clone(m));
        }
        let m = self.load_model(version)?;
        *lock(&self.other_model) = Some(Arc::clone(&m));
        Ok(m)
    }

    fn load_model(&self, version: u32) -> Result<Arc<ActiveModel>> {
        let (info, bytes) = self
            .store
            .call(move |conn| {
                let info = store::model_by_version(conn, version)?;
                let bytes = store::model_bundle_bytes(conn, version)?;
                Ok(info.zip(bytes))
            })?
            .ok_or_else(|| EngineError::NotFound(format!("model version {version}")))?;
        let bundle = ModelBundle::from_bytes(&bytes)?;
        Ok(Arc::new(ActiveModel::new(info, bundle)))
    }
}

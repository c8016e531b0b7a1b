//! The request path: one event in, one scored and explained outcome out.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anomaly_core::bundle::{ModelBundle, Workspace};
use anomaly_core::ensemble::Scores;
use anomaly_core::explain::{AttributionMethod, Explanation};
use anomaly_core::features::RequestEvent;
use anomaly_core::policy::Action;
use anomaly_core::{CoreError, N_FEATURES};

use anomaly_core::decision::EntityKeys;

use super::decisions::{self, Judged, Verdict};
use super::{Engine, Inner};
use crate::config::PredictionConfig;
use crate::error::{EngineError, Result};
use crate::lock;
use crate::metrics::ScoredSample;
use crate::outcome::{
    BatchPrediction, DecisionOutcome, PredictionOutcome, TopFeature, TrainReason,
};
use crate::store::{self, PendingPrediction};
use crate::window::{Admission, RowMeta};

/// The action the standard middleware enforces (see [`PredictionOutcome::enforced_action`]).
pub(crate) fn enforced_action(
    is_anomaly: bool,
    confidence: f64,
    action: Action,
    min_confidence: f64,
) -> Action {
    if !is_anomaly {
        Action::Allow
    } else if confidence > min_confidence {
        action
    } else {
        Action::Monitor
    }
}

/// A request's scores, top contributions, decision and, when wanted, its readable explanation.
struct Scored {
    scores: Scores,
    top_features: Vec<TopFeature>,
    explanation: Option<Explanation>,
    verdict: Verdict,
    decision: Option<DecisionOutcome>,
}

/// What scoring a request needs besides the model.
struct Request<'a> {
    x: &'a [f64; N_FEATURES],
    keys: &'a EntityKeys,
    id: i64,
    timestamp: i64,
}

impl Inner {
    /// Scores `x` with the fast attribution and decides its action: by the decision layer
    /// when the model has one, else by the per-request rule ([`enforced_action`]). The
    /// readable explanation only for an anomaly or when every explanation is stored (see
    /// [`PredictionOutcome::explanation`]); it ends with the decision's evidence. The top
    /// features are the ones [`ModelBundle::explanation_from`] would list, in the same order,
    /// with the same numbers.
    fn score_and_decide(
        &self,
        bundle: &ModelBundle,
        ws: &mut Workspace,
        r: &Request<'_>,
        cfg: &PredictionConfig,
    ) -> std::result::Result<Scored, CoreError> {
        let x = r.x;
        let scores = bundle.attribute_with(x, AttributionMethod::Fast, ws)?;
        let top_k = cfg.top_features;
        let mut order = [0usize; N_FEATURES];
        let n = ws.top_contributions(&mut order[..top_k.min(N_FEATURES)]);
        let top_features = order[..n]
            .iter()
            .map(|&j| TopFeature {
                index: j as u32,
                contribution: ws.contributions()[j],
                value: x[j],
                normalized_value: ws.normalized()[j],
            })
            .collect();
        let (verdict, decision) = match &bundle.decision {
            Some(model) => {
                let learning = decisions::learning(model, &cfg.learning);
                let (v, d) = lock(&self.decisions).decide(
                    model,
                    cfg,
                    learning,
                    &Judged {
                        keys: r.keys,
                        timestamp: r.timestamp,
                        id: r.id,
                        composite: scores.composite,
                        confidence: scores.confidence,
                        features: x,
                        contributions: ws.contributions(),
                    },
                );
                (v, Some(d))
            }
            None => (
                Verdict {
                    is_anomaly: scores.is_anomaly,
                    action: scores.action,
                    enforced_action: enforced_action(
                        scores.is_anomaly,
                        scores.confidence,
                        scores.action,
                        cfg.enforce_min_confidence,
                    ),
                },
                None,
            ),
        };
        let explanation = (verdict.is_anomaly || cfg.store_all_explanations).then(|| {
            let mut e = bundle.explanation_from(x, &scores, ws, AttributionMethod::Fast, top_k);
            e.evidence = decision.as_ref().and_then(|d| {
                let half_life = bundle
                    .decision
                    .as_ref()
                    .map_or(0, |m| m.config.half_life_ms);
                decisions::evidence_sentence(d, half_life)
            });
            e
        });
        Ok(Scored {
            scores,
            top_features,
            explanation,
            verdict,
            decision,
        })
    }
}

impl Engine {
    /// Observes one request and scores it: updates the session's and user's behavioral state,
    /// computes the 59 features, scores and explains them with the active model (or returns
    /// the fallback outcome when there is none), decides the action, feeds the training and
    /// drift windows, updates the metrics and queues the record for the store. Never blocks on
    /// the disk or on a training.
    ///
    /// `request_context` is the host's request context as JSON text, stored with the record.
    ///
    /// Errors: [`EngineError::InvalidInput`] for an empty session or user id or a timestamp
    /// outside `0..=MAX_TIMESTAMP_MS` (the state is left untouched); [`EngineError::Closed`].
    /// A scoring failure is not an error: the outcome is the fallback with `error` set.
    ///
    /// When `retraining.autoTrain` is on, no model exists and the window has reached
    /// `minSamplesForTraining`, this call starts the first training on a background thread and
    /// returns at once.
    pub fn predict(
        &self,
        event: RequestEvent,
        request_context: Option<String>,
    ) -> Result<Arc<PredictionOutcome>> {
        Inner::predict(&self.inner, event, request_context)
    }

    /// Rescores each session's most recent request with the current model, without changing
    /// any state or storing anything (`predictBatch`). A session never seen, or seen for
    /// another user, gives a fallback entry with an `error`.
    pub fn predict_batch(&self, pairs: &[(String, String)]) -> Result<Vec<BatchPrediction>> {
        self.inner.predict_batch(pairs)
    }

    /// Sets the stored `actionTaken` of a prediction (e.g. a strict-mode 403 is a `BLOCK`).
    /// Queued like a record: never blocks; false when dropped.
    pub fn record_action_taken(&self, id: i64, action: Action) -> Result<bool> {
        self.inner.check_open()?;
        Ok(self.inner.store.offer_action_taken(id, action))
    }
}

impl Inner {
    fn predict(
        self: &Arc<Self>,
        event: RequestEvent,
        request_context: Option<String>,
    ) -> Result<Arc<PredictionOutcome>> {
        let start = Instant::now();
        self.check_open()?;
        let mut x = [0.0f64; N_FEATURES];
        let observed = lock(&self.state).observe(&event, &mut x);
        let observation = match observed {
            Ok(o) => o,
            Err(e) => {
                self.metrics.record_error();
                return Err(match e {
                    CoreError::InvalidEvent(m) => EngineError::InvalidInput(m),
                    other => EngineError::Core(other),
                });
            }
        };
        let ts = event.timestamp;
        self.last_event_ms.fetch_max(ts, Ordering::Relaxed);
        let id = self.ids.next(&self.store)?;
        let config = self.config();
        let cfg = &config.prediction;
        let keys = EntityKeys::of_event(config.state.hash_key, &event);
        let request = Request {
            x: &x,
            keys: &keys,
            id,
            timestamp: ts,
        };

        let model = self.active();
        let (prediction, error) = match &model {
            Some(m) => {
                match m.with_workspace(|b, ws| self.score_and_decide(b, ws, &request, cfg)) {
                    Ok(p) => (Some(p), None),
                    Err(e) => (None, Some(format!("scoring failed: {e}"))),
                }
            }
            None => (None, None),
        };
        let version = prediction.as_ref().and(model.as_ref()).map(|m| m.version);

        // What is suspected does not teach the model (docs/models.md, "What the model learns
        // from"): an anomaly, or a request of a session that met friction, is kept quarantined.
        let meta = RowMeta {
            keys,
            quarantined: prediction.as_ref().is_some_and(|p| p.verdict.is_anomaly)
                || lock(&self.decisions).is_suspected(keys.session),
        };
        let (window_slot, window_len, window_seen, coverage_ok) = {
            let mut w = lock(&self.window);
            let slot = match w.offer(ts, &x, meta) {
                Admission::Stored { slot } => Some((slot, w.seen())),
                Admission::Skipped | Admission::Capped => None,
            };
            let coverage_ok = model.is_none() && {
                let c = w.coverage();
                cfg.learning.covered(c.days, c.users, c.sessions)
            };
            (slot, w.len(), w.seen(), coverage_ok)
        };
        if let (Some(p), Some(v)) = (&prediction, version) {
            lock(&self.drift_window).push(ts, &x, p.scores.composite, v);
        }

        let signals = observation.derived.iter().collect();
        let outcome = match prediction {
            Some(p) => {
                let s = p.scores;
                PredictionOutcome {
                    id,
                    session_id: event.session_id,
                    user_id: event.user_id,
                    timestamp: ts,
                    is_anomaly: p.verdict.is_anomaly,
                    anomaly_score: s.composite,
                    confidence: s.confidence,
                    action: p.verdict.action,
                    enforced_action: p.verdict.enforced_action,
                    scores: Some(s),
                    top_features: p.top_features,
                    explanation: p.explanation,
                    model_version: version,
                    processing_time_us: 0.0,
                    fallback: false,
                    error: None,
                    features: x.to_vec(),
                    signals,
                    decision: p.decision,
                }
            }
            None => PredictionOutcome {
                signals,
                ..PredictionOutcome::fallback(
                    id,
                    event.session_id,
                    event.user_id,
                    ts,
                    x.to_vec(),
                    error,
                )
            },
        };
        let elapsed = start.elapsed();
        let outcome = Arc::new(PredictionOutcome {
            processing_time_us: elapsed.as_secs_f64() * 1e6,
            ..outcome
        });

        let scored = outcome.scores.map(|s| ScoredSample {
            composite: s.composite,
            confidence: s.confidence,
            agreement: s.model_agreement,
            isolation_forest: s.isolation_forest,
            autoencoder: s.autoencoder,
            is_anomaly: s.is_anomaly,
            action: s.action,
        });
        self.metrics.record_prediction(
            scored.as_ref(),
            elapsed.as_nanos().min(u64::MAX as u128) as u64,
        );
        self.store.offer_prediction(PendingPrediction {
            outcome: Arc::clone(&outcome),
            request_context,
            store_explanation: cfg.store_all_explanations,
            meta,
            window_slot,
        });

        if model.is_none()
            && config.retraining.auto_train
            && window_len >= config.retraining.min_samples_for_training
            && coverage_ok
            && window_seen >= self.auto_train_retry_at.load(Ordering::Acquire)
            && !self.training.load(Ordering::Acquire)
        {
            self.spawn_training(TrainReason::Automatic, ts);
        }
        Ok(outcome)
    }

    fn predict_batch(&self, pairs: &[(String, String)]) -> Result<Vec<BatchPrediction>> {
        self.check_open()?;
        if pairs.len() > 10_000 {
            return Err(EngineError::InvalidInput(format!(
                "at most 10000 sessions per batch, got {}",
                pairs.len()
            )));
        }
        for (i, (s, u)) in pairs.iter().enumerate() {
            if s.is_empty() || u.is_empty() {
                return Err(EngineError::InvalidInput(format!(
                    "entry {i}: sessionId and userId must be non-empty"
                )));
            }
        }
        let sessions: Vec<String> = pairs.iter().map(|(s, _)| s.clone()).collect();
        let latest = self.store.call(move |conn| {
            sessions
                .iter()
                .map(|s| store::latest_for_session(conn, s))
                .collect::<Result<Vec<_>>>()
        })?;
        let model = self.active();
        let config = self.config();
        let cfg = &config.prediction;
        let mut out = Vec::with_capacity(pairs.len());
        for ((session_id, user_id), found) in pairs.iter().zip(latest) {
            let fallback = |timestamp: Option<i64>, error: Option<String>| BatchPrediction {
                session_id: session_id.clone(),
                user_id: user_id.clone(),
                timestamp,
                is_anomaly: false,
                anomaly_score: 0.0,
                confidence: 0.0,
                action: Action::Allow,
                scores: None,
                explanation: None,
                model_version: None,
                fallback: true,
                error,
            };
            let entry = match (found, &model) {
                (None, _) => fallback(
                    None,
                    Some(format!(
                        "no request of session {session_id} has been observed"
                    )),
                ),
                (Some((owner, _, _)), _) if owner != *user_id => fallback(
                    None,
                    Some(format!("session {session_id} belongs to another user")),
                ),
                (Some((_, ts, _)), None) => fallback(Some(ts), None),
                (Some((_, ts, x)), Some(m)) => {
                    match m.with_workspace(|b, ws| {
                        b.predict_with(&x, AttributionMethod::Fast, cfg.top_features, ws)
                    }) {
                        Ok(p) => BatchPrediction {
                            session_id: session_id.clone(),
                            user_id: user_id.clone(),
                            timestamp: Some(ts),
                            is_anomaly: p.scores.is_anomaly,
                            anomaly_score: p.scores.composite,
                            confidence: p.scores.confidence,
                            action: p.scores.action,
                            scores: Some(p.scores),
                            explanation: Some(p.explanation),
                            model_version: Some(m.version),
                            fallback: false,
                            error: None,
                        },
                        Err(e) => fallback(Some(ts), Some(format!("scoring failed: {e}"))),
                    }
                }
            };
            out.push(entry);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforced_action_follows_the_middleware_rule() {
        assert_eq!(
            enforced_action(false, 1.0, Action::Allow, 0.8),
            Action::Allow
        );
        assert_eq!(
            enforced_action(true, 0.81, Action::Block, 0.8),
            Action::Block
        );
        assert_eq!(
            enforced_action(true, 0.8, Action::Block, 0.8),
            Action::Monitor,
            "strictly above"
        );
        assert_eq!(
            enforced_action(true, 0.5, Action::Challenge, 0.8),
            Action::Monitor
        );
    }
}

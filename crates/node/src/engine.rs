//! `NativeEngine`: the JavaScript class over an `Arc<Engine>`.
//!
//! Method names are the engine's in camelCase; arguments are the engine's, with times as
//! milliseconds since the epoch supplied by the caller (the package passes its clock, or the
//! request's timestamp), so that replays and tests are deterministic. See the crate docs for
//! which calls are synchronous and which return Promises, and why.

use std::sync::Arc;

use anomaly_core::explain::AttributionMethod;
use anomaly_core::policy::Action;
use anomaly_engine::metrics::MiddlewareEvent;
use anomaly_engine::store::Feedback;
use anomaly_engine::{resolve_config, Engine};
use napi::bindgen_prelude::AsyncTask;
use napi::Env;
use napi_derive::napi;
use serde_json::{json, Value};

use anomaly_core::FEATURE_NAMES;
use napi::bindgen_prelude::Float64ArraySlice;

use crate::errors::{guard_js, Failure};
use crate::event::{JsEvent, JsGeoPoint, JsSignal};
use crate::prediction::{self, slot, ACTIONS, ENTITIES, SIGNAL_NAMES};
use crate::task::{to_json, EngineTask};

/// A user's feedback on one of their predictions.
#[napi(object)]
pub struct JsFeedback {
    pub is_false_positive: Option<bool>,
    pub is_false_negative: Option<bool>,
    pub notes: Option<String>,
}

/// The anomaly-detection engine: behavioral state, models, training, drift, metrics, store.
#[napi]
pub struct NativeEngine {
    engine: Arc<Engine>,
}

impl NativeEngine {
    /// A Promise-returning call: `job` runs on libuv's thread pool with the engine.
    fn task<F>(&self, job: F) -> AsyncTask<EngineTask>
    where
        F: FnOnce(&Engine) -> Result<Value, Failure> + Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        AsyncTask::new(EngineTask::new(move || job(&engine)))
    }
}

fn limit(n: u32) -> usize {
    n as usize
}

/// The whole configuration a partial one resolves to over the engine's defaults, validated,
/// without opening anything: what the package shows as `modelConfig` before the engine opens.
/// A `TypeError` (code `ML_ANOMALY_INVALID_CONFIG`) naming the first bad or unknown field.
#[napi(ts_return_type = "Record<string, unknown>")]
pub fn resolve_engine_config(env: Env, patch: Value) -> napi::Result<Value> {
    guard_js(&env, || to_json(&resolve_config(&patch)?))
}

#[napi]
impl NativeEngine {
    /// Opens the engine with a configuration object (the engine's `EngineConfig` in camelCase:
    /// the original's sections plus `storePath`, `seed`...). Throws a `TypeError` naming the
    /// field when it is invalid, an `Error` with code `ML_ANOMALY_STORAGE` when the store cannot
    /// be opened (not an ml-anomaly database, locked, damaged).
    #[napi(constructor)]
    pub fn new(env: Env, config: Value) -> napi::Result<Self> {
        guard_js(&env, || {
            let config = resolve_config(&config)?;
            let engine = Engine::open(config)?;
            Ok(NativeEngine {
                engine: Arc::new(engine),
            })
        })
    }

    /// Observes and scores one request (synchronous: microseconds). The event comes as
    /// positional arguments (see [`crate::event`]), the answer goes into `out` (a
    /// `Float64Array` of at least `layout().LEN` numbers, see [`crate::prediction`]); the return
    /// value is the summary of an anomaly or the error of a fallback, else `null`.
    #[napi(ts_return_type = "string | null")]
    #[allow(clippy::too_many_arguments)]
    pub fn predict_into(
        &self,
        env: Env,
        mut out: Float64ArraySlice,
        timestamp: i64,
        session_id: String,
        user_id: String,
        endpoint: Option<String>,
        method: Option<String>,
        ip_address: Option<String>,
        user_agent: Option<String>,
        content_length: Option<f64>,
        endpoint_sensitivity: Option<String>,
        session_started_at: Option<i64>,
        session_age_ms: Option<i64>,
        lat: Option<f64>,
        lon: Option<f64>,
        device_fingerprint: Option<String>,
        status_code: Option<u32>,
        is_weekend: Option<bool>,
        is_business_hours: Option<bool>,
        signals: Option<Vec<JsSignal>>,
    ) -> napi::Result<Option<String>> {
        guard_js(&env, || {
            // SAFETY: the slice views a typed array the caller passed to this synchronous call;
            // nothing else runs on the JS thread until we return, and the view is not kept.
            let out = unsafe { out.as_mut() };
            if out.len() < slot::LEN {
                return Err(Failure::input(format!(
                    "out must hold at least {} numbers, got {}",
                    slot::LEN,
                    out.len()
                )));
            }
            let location = match (lat, lon) {
                (Some(lat), Some(lon)) => Some(JsGeoPoint { lat, lon }),
                _ => None,
            };
            let event = JsEvent {
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
                location,
                device_fingerprint,
                status_code,
                signals,
                is_weekend,
                is_business_hours,
            };
            let (event, context) = event.into_engine()?;
            let outcome = self.engine.predict(event, Some(context))?;
            Ok(prediction::write(&outcome, out))
        })
    }

    /// The 59 feature names, by the index `predictInto` writes.
    #[napi]
    pub fn feature_names(&self) -> Vec<&'static str> {
        FEATURE_NAMES.to_vec()
    }

    /// The derived signal names, by bit of `predictInto`'s signal mask.
    #[napi]
    pub fn signal_names(&self) -> Vec<&'static str> {
        SIGNAL_NAMES.iter().map(|k| k.as_str()).collect()
    }

    /// The entity names, by the index `predictInto` writes in `DECISION_ENTITY`.
    #[napi]
    pub fn entity_names(&self) -> Vec<&'static str> {
        ENTITIES.iter().map(|e| e.as_str()).collect()
    }

    /// The action names, by the index `predictInto` writes.
    #[napi]
    pub fn action_names(&self) -> Vec<&'static str> {
        ACTIONS.iter().map(|a| a.as_str()).collect()
    }

    /// The output buffer's layout: `{ FLAGS: 0, ANOMALY_SCORE: 1, ..., LEN }`.
    #[napi(ts_return_type = "Record<string, number>")]
    pub fn layout(&self) -> Value {
        Value::Object(
            prediction::layout()
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::from(v)))
                .collect(),
        )
    }

    /// Rescores each session's latest request without recording anything.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn predict_batch(
        &self,
        session_ids: Vec<String>,
        user_ids: Vec<String>,
    ) -> AsyncTask<EngineTask> {
        if session_ids.len() != user_ids.len() {
            return AsyncTask::new(EngineTask::failed(Failure::input(format!(
                "sessionIds and userIds must have the same length (got {} and {})",
                session_ids.len(),
                user_ids.len()
            ))));
        }
        let pairs: Vec<(String, String)> = session_ids.into_iter().zip(user_ids).collect();
        self.task(move |e| to_json(&e.predict_batch(&pairs)?))
    }

    /// Trains a new model version from the training window and activates it.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn train(&self, force: bool, now_ms: i64) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.train(force, now_ms, &mut |_| {})?))
    }

    /// Assesses drift and retrains when it exceeds the threshold.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn check_drift_and_retrain(&self, now_ms: i64) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.check_drift_and_retrain(now_ms)?))
    }

    /// Runs the periodic jobs that are due at `nowMs`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn maintenance(&self, now_ms: i64) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.maintenance(now_ms)?))
    }

    /// Aggregates of the last `hours` (`getModelPerformance`).
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn performance(&self, hours: f64, now_ms: i64) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.performance(hours, now_ms)?))
    }

    /// The engine at a glance.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn status(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || to_json(&self.engine.status()))
    }

    /// What the package polls to report training progress (cheap: a few atomics and one
    /// short lock): `{ isTraining, progress, activeVersion, lastRetrainingTime }`.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn training_snapshot(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || {
            let e = &self.engine;
            Ok(json!({
                "isTraining": e.is_training(),
                "progress": to_json(&e.training_progress())?,
                "activeVersion": e.active_version(),
                "lastRetrainingTime": e.last_retraining_time(),
            }))
        })
    }

    /// True while a training runs.
    #[napi]
    pub fn is_training(&self) -> bool {
        self.engine.is_training()
    }

    /// Counters, averages and latency percentiles.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn metrics(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || to_json(&self.engine.metrics()))
    }

    /// The metrics in the Prometheus text exposition format.
    #[napi]
    pub fn prometheus(&self, env: Env) -> napi::Result<String> {
        guard_js(&env, || Ok(self.engine.metrics_prometheus()))
    }

    /// The drift detector's state.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn drift_status(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || to_json(&self.engine.drift_status()))
    }

    /// The drift of the recent scored requests assessed now, changing nothing (synchronous: a
    /// few milliseconds): `{ report }`, or `{ skipped }` saying why no assessment is possible.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn assess_drift(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || match self.engine.assess_drift()? {
            Ok(report) => Ok(json!({ "report": to_json(&report)? })),
            Err(why) => Ok(json!({ "skipped": why })),
        })
    }

    /// The configuration in force (the engine's `EngineConfig`, camelCase, every field).
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn config(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || to_json(&*self.engine.config()))
    }

    /// Applies a partial configuration while the engine runs and returns the configuration now
    /// in force. A `TypeError` (code `ML_ANOMALY_INVALID_CONFIG`) naming the field, and nothing
    /// changed, when a value is invalid, unknown or fixed for the engine's lifetime.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn update_config(&self, env: Env, patch: Value) -> napi::Result<Value> {
        guard_js(&env, || to_json(&*self.engine.update_config(&patch)?))
    }

    /// Sets the stored `actionTaken` of a prediction (the strict middleware's 403 is a `BLOCK`).
    /// Queued like a record: never blocks; false when the queue was full.
    #[napi]
    pub fn record_action_taken(&self, env: Env, id: i64, action: String) -> napi::Result<bool> {
        guard_js(&env, || {
            let action = Action::parse(&action)
                .ok_or_else(|| Failure::input(format!("unknown action '{action}'")))?;
            Ok(self.engine.record_action_taken(id, action)?)
        })
    }

    /// Counts something a middleware did without a prediction: `skippedWithoutUser`,
    /// `skippedWithoutSession` or `ignoredLocation`.
    #[napi]
    pub fn record_middleware(&self, env: Env, event: String) -> napi::Result<()> {
        guard_js(&env, || {
            let e = MiddlewareEvent::parse(&event)
                .ok_or_else(|| Failure::input(format!("unknown middleware event '{event}'")))?;
            self.engine.record_middleware(e);
            Ok(())
        })
    }

    /// The model serving predictions, or null.
    #[napi(ts_return_type = "Record<string, unknown> | null")]
    pub fn active_model(&self, env: Env) -> napi::Result<Value> {
        guard_js(&env, || to_json(&self.engine.active_model()))
    }

    /// Registered models, newest first.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn model_history(&self, limit_: u32) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.model_history(limit(limit_))?))
    }

    /// A registered model's bundle as JSON text.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn model_bundle(&self, version: u32) -> AsyncTask<EngineTask> {
        self.task(move |e| Ok(Value::String(e.model_bundle_json(version)?)))
    }

    /// Activates a registered version (rollback).
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn activate_model(&self, version: u32, now_ms: i64) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.activate_model(version, now_ms)?))
    }

    /// A stored prediction; rejects with code ML_ANOMALY_NOT_FOUND or ML_ANOMALY_FORBIDDEN.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn prediction(
        &self,
        id: i64,
        requester_user_id: String,
        is_admin: bool,
    ) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.prediction(id, &requester_user_id, is_admin)?))
    }

    /// A stored prediction's explanation recomputed (`exact`: TreeSHAP) with every feature's
    /// attribution. The caller checks access first.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn explain_prediction(&self, id: i64, exact: bool) -> AsyncTask<EngineTask> {
        let method = if exact {
            AttributionMethod::Exact
        } else {
            AttributionMethod::Fast
        };
        self.task(move |e| to_json(&e.explain_prediction(id, method)?))
    }

    /// The user's anomalies of the last `hours`, newest first.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn recent_anomalies(
        &self,
        user_id: String,
        hours: f64,
        now_ms: i64,
        limit_: u32,
    ) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.recent_anomalies(&user_id, hours, now_ms, limit(limit_))?))
    }

    /// Stores the owner's feedback on a prediction.
    /// Sessions with anomalies scoring at least `minScore` in the last `hours`, highest first.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn suspicious_sessions(
        &self,
        hours: f64,
        min_score: f64,
        now_ms: i64,
        limit_: u32,
    ) -> AsyncTask<EngineTask> {
        self.task(move |e| {
            to_json(&e.suspicious_sessions(hours, min_score, now_ms, limit(limit_))?)
        })
    }

    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn submit_feedback(
        &self,
        id: i64,
        user_id: String,
        feedback: JsFeedback,
        now_ms: i64,
    ) -> AsyncTask<EngineTask> {
        let feedback = Feedback {
            is_false_positive: feedback.is_false_positive.unwrap_or(false),
            is_false_negative: feedback.is_false_negative.unwrap_or(false),
            notes: feedback.notes,
        };
        self.task(move |e| to_json(&e.submit_feedback(id, &user_id, feedback, now_ms)?))
    }

    /// Predictions reported as false positives.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn false_positives(&self, limit_: u32) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.false_positives(limit(limit_))?))
    }

    /// Per-day statistics of the user's predictions over the last `days`.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn statistics(&self, user_id: String, days: f64, now_ms: i64) -> AsyncTask<EngineTask> {
        self.task(move |e| to_json(&e.statistics(&user_id, days, now_ms)?))
    }

    /// Turns the drift-check and forced-retrain schedules on or off.
    #[napi]
    pub fn set_schedules_enabled(&self, drift_check: bool, forced_retrain: bool) {
        self.engine
            .set_schedules_enabled(drift_check, forced_retrain);
    }

    /// Waits until every queued record is committed.
    #[napi(ts_return_type = "Promise<null>")]
    pub fn flush(&self) -> AsyncTask<EngineTask> {
        self.task(|e| {
            e.flush()?;
            Ok(Value::Null)
        })
    }

    /// Saves the state, commits everything queued and closes the store. Idempotent.
    #[napi(ts_return_type = "Promise<null>")]
    pub fn close(&self) -> AsyncTask<EngineTask> {
        self.task(|e| {
            e.close()?;
            Ok(Value::Null)
        })
    }
}

//! Training off the serving path, registration and the atomic swap.
//!
//! A training copies the window's vectors of the last `modelWindowDays` (under the window lock,
//! a memcpy of at most `maxTrainingSamples` rows), trains a bundle with a seed derived from the
//! configured seed and the new version number (so every version is reproducible from the same
//! window), stores it as the active version in one transaction, and only then swaps the
//! pointer the request path reads. Requests arriving meanwhile are scored by the previous model
//! (or get the fallback); none waits. The training flag is an `AtomicBool` taken with
//! compare-and-swap and released by a guard's `Drop`, so two trainings never overlap and a
//! panicking training cannot leave it set.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anomaly_core::bundle::{ModelBundle, TrainingProgress};
use anomaly_core::decision::{is_strict_request, DecisionModel, EntityKind, FitInput, TrainingRow};
use anomaly_core::N_FEATURES;
use ndarray::ArrayView2;

use super::{ActiveModel, Engine, Inner, TrainingGuard};
use crate::error::{EngineError, Result};
use crate::lock;
use crate::outcome::{LastTraining, SkipReason, TrainOutcome, TrainReason, TrainingEvent};
use crate::records::ModelInfo;
use crate::store;
use crate::window::{RowMeta, WindowRows};

/// Slots copied per lock acquisition when a training copies the window (about 0.5 MB).
const COPY_CHUNK: usize = 1024;

/// Seed of version `version`'s training: SplitMix64 of the configured seed and the version.
pub fn training_seed(seed: u64, version: u32) -> u64 {
    let mut z = seed.wrapping_add(u64::from(version).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Engine {
    /// Trains a new model version on the window's vectors of the last `modelWindowDays` before
    /// `now_ms`, registers it, persists it and swaps it in (`trainModels(force)`). Blocking:
    /// run it off the event loop. `progress` receives every phase and autoencoder epoch (also
    /// visible in [`Engine::status`] while it runs).
    ///
    /// Returns `Skipped` when another training runs or the window holds fewer than
    /// `minSamplesForTraining` vectors of that period. `force` does not lower that minimum (a
    /// model of too few vectors would flag everything): it marks the training as forced, as
    /// `forceRetrain()` did; both train whenever there is enough data.
    pub fn train(
        &self,
        force: bool,
        now_ms: i64,
        progress: &mut dyn FnMut(&TrainingEvent),
    ) -> Result<TrainOutcome> {
        let reason = if force {
            TrainReason::Forced
        } else {
            TrainReason::Manual
        };
        self.inner.train(reason, now_ms, progress)
    }
}

impl Inner {
    pub(crate) fn train(
        self: &Arc<Self>,
        reason: TrainReason,
        now: i64,
        progress: &mut dyn FnMut(&TrainingEvent),
    ) -> Result<TrainOutcome> {
        self.check_open()?;
        match TrainingGuard::try_acquire(&self.training) {
            None => Ok(TrainOutcome::Skipped(SkipReason::AlreadyTraining)),
            Some(guard) => self.train_guarded(guard, reason, now, progress),
        }
    }

    /// Starts a training on a background thread (the automatic first training); returns at
    /// once. Does nothing when a training already runs.
    pub(crate) fn spawn_training(self: &Arc<Self>, reason: TrainReason, now: i64) {
        let Some(guard) = TrainingGuard::try_acquire(&self.training) else {
            return;
        };
        let inner = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("ml-anomaly-train".into())
            .spawn(move || {
                let outcome = inner.train_guarded(guard, reason, now, &mut |_| {});
                if !matches!(outcome, Ok(TrainOutcome::Trained { .. })) {
                    let step =
                        (inner.config().retraining.min_samples_for_training as u64 / 10).max(10);
                    let seen = lock(&inner.window).seen();
                    inner
                        .auto_train_retry_at
                        .store(seen + step, Ordering::Release);
                }
            });
        match spawned {
            Ok(handle) => *lock(&self.background) = Some(handle),
            Err(e) => {
                self.metrics.record_training(false, 0.0);
                *lock(&self.last_training) = Some(LastTraining {
                    reason,
                    started_at: now,
                    duration_ms: 0.0,
                    version: None,
                    error: Some(format!("cannot start the training thread: {e}")),
                });
            }
        }
    }

    fn train_guarded(
        &self,
        _guard: TrainingGuard,
        reason: TrainReason,
        now: i64,
        progress: &mut dyn FnMut(&TrainingEvent),
    ) -> Result<TrainOutcome> {
        let config = self.config();
        let since = now.saturating_sub(config.model_window_ms());
        let data = self.training_data(since, now);
        let rows = data.clean.len();
        let required = config.retraining.min_samples_for_training;
        if rows < required {
            return Ok(TrainOutcome::Skipped(SkipReason::NotEnoughData {
                available: rows,
                required,
            }));
        }
        let version = self.next_version.load(Ordering::Acquire);
        let listener = self
            .listener
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut emit = |ev: TrainingEvent| {
            *lock(&self.progress) = Some(ev.clone());
            progress(&ev);
            if let Some(l) = &listener {
                l(&ev);
            }
        };
        emit(TrainingEvent::Started {
            version,
            reason,
            samples: rows,
            started_at: now,
        });
        let started = Instant::now();
        let result = self.fit_and_register(version, now, &data, &mut emit, started);
        let duration_ms = started.elapsed().as_secs_f64() * 1e3;
        let outcome = match result {
            Ok(info) => {
                emit(TrainingEvent::Finished {
                    version,
                    duration_ms,
                });
                self.metrics.record_training(true, duration_ms);
                *lock(&self.last_training) = Some(LastTraining {
                    reason,
                    started_at: now,
                    duration_ms,
                    version: Some(version),
                    error: None,
                });
                Ok(TrainOutcome::Trained {
                    version,
                    reason,
                    training_size: rows,
                    quarantined: data.quarantined.len(),
                    excluded: data.excluded,
                    duration_ms,
                    metrics: Box::new(info.training_metrics),
                })
            }
            Err(e) => {
                emit(TrainingEvent::Failed {
                    error: e.to_string(),
                });
                self.metrics.record_training(false, duration_ms);
                *lock(&self.last_training) = Some(LastTraining {
                    reason,
                    started_at: now,
                    duration_ms,
                    version: None,
                    error: Some(e.to_string()),
                });
                Err(e)
            }
        };
        *lock(&self.progress) = None;
        outcome
    }

    /// The window's vectors since `since`, copied in chunks of [`COPY_CHUNK`] slots with the
    /// lock released in between (a vector replaced meanwhile is copied either before or after:
    /// the copy is still a sample of the window), and split by what they may teach
    /// (docs/models.md, "What the model learns from").
    fn training_data(&self, since: i64, now: i64) -> TrainingData {
        let (slots, held) = {
            let w = lock(&self.window);
            (w.slots(), w.len())
        };
        let mut all = WindowRows {
            features: Vec::with_capacity(held * N_FEATURES),
            ..WindowRows::default()
        };
        for start in (0..slots).step_by(COPY_CHUNK) {
            lock(&self.window).append_since(since, start..start + COPY_CHUNK, &mut all);
        }
        let d = lock(&self.decisions);
        let kept = all.filtered(|i| !d.excluded(&all.meta[i].keys, all.timestamps[i]));
        let suspected =
            |i: usize| kept.meta[i].quarantined && !d.is_released(kept.meta[i].keys.session);
        let flooding = flooding_entities(&kept, suspected);
        let kept = kept.filtered(|i| {
            let keys = &kept.meta[i].keys;
            !EntityKind::ALL
                .iter()
                .any(|&k| keys.key(k).is_some_and(|key| flooding.contains(&(k, key))))
        });
        let teaches =
            |i: usize| !kept.meta[i].quarantined || d.is_released(kept.meta[i].keys.session);
        TrainingData {
            clean: kept.filtered(teaches),
            quarantined: kept.filtered(|i| !teaches(i)),
            censored: d.censored_since(since, now, |kind, key| flooding.contains(&(kind, key))),
            excluded: all.len() - kept.len(),
            kept,
        }
    }

    fn fit_and_register(
        &self,
        version: u32,
        now: i64,
        data: &TrainingData,
        emit: &mut dyn FnMut(TrainingEvent),
        started: Instant,
    ) -> Result<ModelInfo> {
        fn matrix(rows: &WindowRows) -> Result<ArrayView2<'_, f64>> {
            ArrayView2::from_shape((rows.len(), N_FEATURES), &rows.features)
                .map_err(|e| EngineError::Internal(format!("training matrix: {e}")))
        }
        let clean = matrix(&data.clean)?;
        let quarantined = matrix(&data.quarantined)?;
        // The configuration of this training: a change made while it runs applies to the next.
        let config = self.config();
        let seed = training_seed(config.seed, version);
        let train_config = config.train_config();
        let fitted = catch_unwind(AssertUnwindSafe(|| {
            let mut bundle = ModelBundle::train_split(
                clean,
                Some(quarantined),
                &train_config,
                seed,
                &mut |p: &TrainingProgress| {
                    if let Some(ev) = TrainingEvent::from_core(p) {
                        emit(ev);
                    }
                },
            )?;
            bundle.decision = fit_decisions(&bundle, data, &config.prediction)?;
            Ok::<_, anomaly_core::CoreError>(bundle)
        }))
        .map_err(|panic| {
            EngineError::Internal(format!("training panicked: {}", panic_message(&panic)))
        })?;
        let mut bundle = fitted?;
        let duration_ms = started.elapsed().as_secs_f64() * 1e3;
        bundle.training.training_duration_ms = Some(duration_ms);
        bundle.training.trained_at = Some(now);
        bundle.training.data_window_days = Some(config.retraining.model_window_days);
        emit(TrainingEvent::Persisting);
        // A model trained while the engine was being closed is discarded.
        self.check_open()?;
        let bytes = bundle.to_bytes();
        let created_at = now.saturating_add(duration_ms as i64);
        let info = ModelInfo {
            version,
            created_at,
            is_active: true,
            deactivated_at: None,
            training_metrics: bundle.training.clone(),
            drift_detector_state: Default::default(),
            size_bytes: bytes.len() as u64,
        };
        let metrics = bundle.training.clone();
        self.store.call(move |conn| {
            store::insert_active_model(conn, version, created_at, now, &bytes, &metrics)
        })?;
        self.next_version.store(version + 1, Ordering::Release);
        self.set_active(Arc::new(ActiveModel::new(info.clone(), bundle)))?;
        self.last_retraining_time.store(now, Ordering::Release);
        lock(&self.schedule).forced_retrain.ran(now);
        Ok(info)
    }
}

/// An entity whose suspected rows exceed this share of its rows in the window ...
const FLOODING_SHARE: f64 = 0.2;
/// ... and this many rows is left out of the training whole.
const FLOODING_MIN_ROWS: usize = 20;

/// Users, devices and sources whose rows in the window are mostly suspected: more than
/// [`FLOODING_SHARE`] of them (and more than [`FLOODING_MIN_ROWS`]), four times what the
/// calibration's 5 % tail leaves to a normal entity. Their rows neither teach the models, nor
/// calibrate the scores, nor take part in the decision layer's fit: an attacker who floods
/// the window (scraping for a day before the retrain) would otherwise move the calibrated tail
/// and spend the sessions' friction budget on his own sessions, so that the next model lets
/// his attack through (tests/engine_poisoning.rs).
fn flooding_entities(
    rows: &WindowRows,
    suspected: impl Fn(usize) -> bool,
) -> std::collections::HashSet<(EntityKind, u64)> {
    let mut counts: HashMap<(EntityKind, u64), (usize, usize)> = HashMap::new();
    for i in 0..rows.len() {
        let s = suspected(i);
        for kind in EntityKind::ALL {
            if let Some(key) = rows.meta[i].keys.key(kind) {
                let c = counts.entry((kind, key)).or_default();
                c.0 += 1;
                c.1 += usize::from(s);
            }
        }
    }
    counts
        .into_iter()
        .filter(|(_, (total, bad))| {
            *bad > FLOODING_MIN_ROWS && *bad as f64 > FLOODING_SHARE * *total as f64
        })
        .map(|(k, _)| k)
        .collect()
}

/// What a training learns from (see [`Inner::training_data`]).
struct TrainingData {
    /// Rows the models learn from.
    clean: WindowRows,
    /// Rows that were anomalies when offered: they calibrate the scores but teach nothing.
    quarantined: WindowRows,
    /// `clean` and `quarantined` together: the sessions the decision layer is fitted on.
    kept: WindowRows,
    /// Sessions kept out because they met friction, for the fit's censoring.
    censored: anomaly_core::decision::fit::Censored,
    /// Rows left out (their session met friction, or their user, device or source was
    /// confirmed as an attacker).
    excluded: usize,
}

/// Fits the decision layer of `bundle` on the kept rows with known identities, in time order;
/// `None` when fewer than two such rows exist (a window restored from a store written before
/// rows kept their identities: that model follows the per-request rule until the next
/// training).
fn fit_decisions(
    bundle: &ModelBundle,
    data: &TrainingData,
    cfg: &crate::config::PredictionConfig,
) -> anomaly_core::Result<Option<DecisionModel>> {
    let rows = &data.kept;
    let mut order: Vec<usize> = (0..rows.len())
        .filter(|&i| rows.meta[i] != RowMeta::UNKNOWN)
        .collect();
    if order.len() < 2 {
        return Ok(None);
    }
    order.sort_by_key(|&i| (rows.timestamps[i], i));
    let mut ws = bundle.workspace();
    let mut scored = Vec::with_capacity(order.len());
    for &i in &order {
        scored.push(bundle.score_with(rows.row(i), &mut ws)?);
    }
    let training_rows: Vec<TrainingRow<'_>> = order
        .iter()
        .zip(&scored)
        .map(|(&i, s)| TrainingRow {
            timestamp: rows.timestamps[i],
            keys: rows.meta[i].keys,
            composite: s.composite,
            confidence: s.confidence,
            strict: is_strict_request(rows.row(i)),
            features: rows.row(i),
        })
        .collect();
    DecisionModel::fit(
        &cfg.decision,
        FitInput {
            rows: &training_rows,
            censored: data.censored,
            min_confidence: cfg.enforce_min_confidence,
        },
    )
    .map(Some)
}

pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_per_version_and_are_stable() {
        let a: Vec<u64> = (1..=5).map(|v| training_seed(42, v)).collect();
        let mut dedup = a.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), 5);
        assert_eq!(training_seed(42, 3), a[2]);
        assert_ne!(training_seed(43, 3), a[2]);
    }
}

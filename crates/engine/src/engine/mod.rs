//! The [`Engine`]: state shared by the request path, training and queries.
//!
//! Locks, each held briefly and never two at once on the request path except where noted:
//! - `state` (behavioral state): one `observe` per request;
//! - `active` (`RwLock<Option<Arc<ActiveModel>>>`): the request path clones the `Arc` under a
//!   read lock and scores without any lock; a training or a rollback replaces it under a write
//!   lock — the swap is one pointer store, so every request is scored entirely by one model;
//! - the model's workspace pool: pop and push a [`Workspace`] (no buffer allocation per
//!   request once warm);
//! - `window`, `drift_window`, `metrics`: one short critical section each.
//!
//! A training holds none of them while it computes: it copies the window's rows out (under the
//! window lock), trains, persists through the store and swaps the pointer.

mod decisions;
mod ids;
mod maintenance;
mod predict;
mod queries;
mod settings;

pub use settings::resolve_config;

pub use queries::{MAX_LIMIT, MAX_PERIOD_DAYS};
mod restore;
mod training;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use anomaly_core::bundle::{ModelBundle, Workspace};
use anomaly_core::drift::Trend;
use anomaly_core::features::BehaviorState;

use crate::config::EngineConfig;
use crate::drift_window::DriftWindow;
use crate::error::{EngineError, Result};
use crate::lock;
use crate::metrics::{Gauges, Metrics, MetricsSnapshot, MiddlewareEvent};
use crate::outcome::{DriftStatus, EngineStatus, LastTraining, TrainingEvent};
use crate::records::{DriftState, ModelInfo};
use crate::schedule::{Schedule, ScheduleFlags};
use crate::store::Store;
use crate::window::TrainingWindow;

/// A model serving predictions, with its pool of scoring buffers.
pub(crate) struct ActiveModel {
    pub version: u32,
    pub info: ModelInfo,
    pub bundle: ModelBundle,
    workspaces: Mutex<Vec<Workspace>>,
}

impl ActiveModel {
    pub(crate) fn new(info: ModelInfo, bundle: ModelBundle) -> Self {
        ActiveModel {
            version: info.version,
            info,
            bundle,
            workspaces: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with a pooled workspace (allocated only when the pool is empty, i.e. the first
    /// time and under concurrency).
    pub(crate) fn with_workspace<R>(&self, f: impl FnOnce(&ModelBundle, &mut Workspace) -> R) -> R {
        let mut ws = lock(&self.workspaces)
            .pop()
            .unwrap_or_else(|| self.bundle.workspace());
        let r = f(&self.bundle, &mut ws);
        let mut pool = lock(&self.workspaces);
        // Keep at most a handful: one per thread that scores concurrently.
        if pool.len() < 8 {
            pool.push(ws);
        }
        r
    }
}

/// Drift state of the active model.
#[derive(Debug, Default)]
pub(crate) struct DriftTracker {
    /// The model the state belongs to.
    pub version: Option<u32>,
    pub state: DriftState,
}

/// Clears the training flag when dropped (also when a training panics).
pub(crate) struct TrainingGuard(Arc<AtomicBool>);

impl TrainingGuard {
    fn try_acquire(flag: &Arc<AtomicBool>) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| TrainingGuard(Arc::clone(flag)))
    }
}

impl Drop for TrainingGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Receives every training event, from explicit and background trainings alike (called on
/// the training's thread).
pub type TrainingListener = Arc<dyn Fn(&TrainingEvent) + Send + Sync>;

pub(crate) struct Inner {
    /// The configuration in force: replaced whole by [`Engine::update_config`]; readers take
    /// one `Arc` (see [`Inner::config`]) and use it for the whole operation.
    pub settings: RwLock<Arc<EngineConfig>>,
    pub store: Store,
    pub state: Mutex<BehaviorState>,
    pub active: RwLock<Option<Arc<ActiveModel>>>,
    /// The latest non-active model loaded for an explanation (viewers ask for one repeatedly).
    pub other_model: Mutex<Option<Arc<ActiveModel>>>,
    pub window: Mutex<TrainingWindow>,
    /// The decision layer's soft state (evidence, allowances, suspected sessions).
    pub decisions: Mutex<decisions::DecisionState>,
    pub drift_window: Mutex<DriftWindow>,
    pub drift: Mutex<DriftTracker>,
    pub metrics: Metrics,
    pub ids: ids::IdAllocator,
    pub next_version: AtomicU32,
    pub training: Arc<AtomicBool>,
    /// The automatic first training is not attempted again before the window has seen this
    /// many vectors (set after an attempt that trained nothing, so that a window of stale
    /// vectors does not start a training per request).
    pub auto_train_retry_at: AtomicU64,
    pub progress: Mutex<Option<TrainingEvent>>,
    pub listener: RwLock<Option<TrainingListener>>,
    pub last_training: Mutex<Option<LastTraining>>,
    /// Start of the latest successful training (`lastRetrainingTime`); `i64::MIN` for none.
    pub last_retraining_time: AtomicI64,
    /// Latest event timestamp seen (`i64::MIN` before any): the time of close-time snapshots.
    pub last_event_ms: AtomicI64,
    pub schedule: Mutex<Schedule>,
    pub flags: Mutex<ScheduleFlags>,
    pub maintenance_running: Mutex<()>,
    pub background: Mutex<Option<JoinHandle<()>>>,
    pub closed: AtomicBool,
    pub warnings: Vec<String>,
}

/// The anomaly-detection service: behavioral state, models, training, drift, metrics and the
/// store. `Send + Sync`; share it behind an `Arc`. See the crate docs for the data flow.
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.inner.store.path())
            .field("active_version", &self.active_version())
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Inner {
    /// The configuration in force (one read lock, one pointer clone).
    pub(crate) fn config(&self) -> Arc<EngineConfig> {
        Arc::clone(&self.settings.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(EngineError::Closed)
        } else {
            Ok(())
        }
    }

    pub(crate) fn active(&self) -> Option<Arc<ActiveModel>> {
        self.active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Makes `model` the one serving requests, under the ensemble settings in force (see
    /// [`settings`]).
    fn set_active(&self, model: Arc<ActiveModel>) -> Result<()> {
        // The settings lock is held across the swap so that a concurrent `update_config`
        // cannot re-wrap the previous model after this one went in.
        let settings = self.settings.read().unwrap_or_else(|p| p.into_inner());
        let model = settings::serving(model, &settings)?;
        let drift_state = model.info.drift_detector_state.clone();
        let version = model.version;
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = Some(model);
        drop(settings);
        *lock(&self.drift) = DriftTracker {
            version: Some(version),
            state: drift_state,
        };
        self.metrics.reset_drift_score();
        Ok(())
    }

    fn last_retraining_time(&self) -> Option<i64> {
        match self.last_retraining_time.load(Ordering::Acquire) {
            i64::MIN => None,
            t => Some(t),
        }
    }

    fn gauges(&self) -> Gauges {
        let (sessions, users) = {
            let s = lock(&self.state);
            (s.tracked_sessions(), s.tracked_users())
        };
        let training_window_size = lock(&self.window).len();
        let drift_window_size = lock(&self.drift_window).len();
        Gauges {
            dropped_records: self.store.dropped(),
            writer_queue_depth: self.store.depth(),
            active_model_version: self.active().map(|m| m.version),
            training_window_size,
            drift_window_size,
            tracked_sessions: sessions,
            tracked_users: users,
            is_training: self.training.load(Ordering::Acquire),
            startup_warnings: self.warnings.len(),
        }
    }
}

impl Engine {
    /// Opens the engine: validates `config`, opens (or creates) the store and restores what it
    /// holds — the registry and active model, the training window, the drift state, the next
    /// prediction id, the last training time and the behavioral state snapshot.
    ///
    /// Errors: [`EngineError::InvalidConfig`]; [`EngineError::Store`] for a file that is not an
    /// ml-anomaly store, is locked by another engine, or is damaged; [`EngineError::Core`] when
    /// the active model stored cannot be decoded.
    pub fn open(config: EngineConfig) -> Result<Engine> {
        config.validate()?;
        let inner = restore::open(config)?;
        Ok(Engine {
            inner: Arc::new(inner),
        })
    }

    /// The configuration in force (a snapshot: [`Engine::update_config`] replaces it).
    pub fn config(&self) -> Arc<EngineConfig> {
        self.inner.config()
    }

    /// Version of the model serving predictions.
    pub fn active_version(&self) -> Option<u32> {
        self.inner.active().map(|m| m.version)
    }

    /// True while a training runs.
    pub fn is_training(&self) -> bool {
        self.inner.training.load(Ordering::Acquire)
    }

    /// The running training's latest progress event.
    pub fn training_progress(&self) -> Option<TrainingEvent> {
        lock(&self.inner.progress).clone()
    }

    /// Start time (ms) of the latest successful training: the original's `lastRetrainingTime`.
    pub fn last_retraining_time(&self) -> Option<i64> {
        self.inner.last_retraining_time()
    }

    /// Blocks until the background training started by the request path (the automatic first
    /// training), if any, has finished.
    pub fn wait_for_background_training(&self) {
        let handle = lock(&self.inner.background).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// Sets (or with `None` removes) the listener that receives every training event — of
    /// explicit trainings, of the automatic first training and of the retrains started by
    /// `maintenance` — on the training's thread.
    pub fn set_training_listener(&self, listener: Option<TrainingListener>) {
        *self
            .inner
            .listener
            .write()
            .unwrap_or_else(|p| p.into_inner()) = listener;
    }

    /// Turns the drift-check and forced-retrain schedules on or off (at run time; the
    /// configuration gives the initial values).
    pub fn set_schedules_enabled(&self, drift_check: bool, forced_retrain: bool) {
        *lock(&self.inner.flags) = ScheduleFlags {
            drift_check,
            forced_retrain,
        };
    }

    /// Which schedules are on.
    pub fn schedules(&self) -> ScheduleFlags {
        *lock(&self.inner.flags)
    }

    /// Current metrics (no store access; cheap enough for every scrape).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot(self.inner.gauges())
    }

    /// Counts something a host's middleware did without a prediction (a request skipped for
    /// want of an identity, a context field dropped); shown in the metrics and `status()`.
    pub fn record_middleware(&self, event: MiddlewareEvent) {
        self.inner.metrics.record_middleware(event);
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn metrics_prometheus(&self) -> String {
        self.metrics().to_prometheus()
    }

    /// The drift detector's state: latest report, history against the active model, trend.
    pub fn drift_status(&self) -> DriftStatus {
        let inner = &self.inner;
        let reference_rows = inner
            .active()
            .map(|m| m.bundle.drift_reference.reference_rows);
        let tracker = lock(&inner.drift);
        DriftStatus {
            model_version: tracker.version,
            threshold: inner.config().retraining.hourly_retrain_threshold,
            last_report: tracker.state.last_report.clone(),
            last_checked_at: tracker.state.last_checked_at,
            history: tracker.state.history.entries().iter().copied().collect(),
            trend: if tracker.state.history.is_empty() {
                Trend::Stable
            } else {
                tracker.state.history.trend()
            },
            window_size: lock(&inner.drift_window).len(),
            reference_rows,
        }
    }

    /// The engine at a glance (`/status`).
    pub fn status(&self) -> EngineStatus {
        let inner = &self.inner;
        let active = inner.active().map(|m| {
            let mut info = m.info.clone();
            info.drift_detector_state = lock(&inner.drift).state.clone();
            info
        });
        let window = lock(&inner.window);
        let (window_size, window_capacity) = (window.len(), window.capacity());
        drop(window);
        let (tracked_sessions, tracked_users) = {
            let s = lock(&inner.state);
            (s.tracked_sessions(), s.tracked_users())
        };
        // Every lock is taken and released in its own statement: a guard living inside the
        // struct expression below would still be held while `metrics()` takes it again.
        let drift_window_size = lock(&inner.drift_window).len();
        let last_training = lock(&inner.last_training).clone();
        let metrics = self.metrics();
        EngineStatus {
            initialized: !inner.closed.load(Ordering::Acquire),
            closed: inner.closed.load(Ordering::Acquire),
            store_path: inner.store.path().to_string(),
            active_model: active,
            is_retraining: self.is_training(),
            last_retraining_time: inner.last_retraining_time(),
            training_progress: self.training_progress(),
            last_training,
            training_window_size: window_size,
            training_window_capacity: window_capacity,
            drift_window_size,
            tracked_sessions,
            tracked_users,
            schedules: self.schedules(),
            metrics,
            warnings: inner.warnings.clone(),
            last_store_error: inner.store.last_error(),
        }
    }

    /// Waits until every record queued so far is committed.
    pub fn flush(&self) -> Result<()> {
        self.inner.check_open()?;
        self.inner.store.flush()
    }

    /// Saves the behavioral state, gives back the unused prediction ids, commits everything queued and stops the
    /// store. Idempotent; later calls (other than status and metrics) return
    /// [`EngineError::Closed`]. A background training still running finishes on its own and
    /// its model is discarded.
    pub fn close(&self) -> Result<()> {
        let inner = &self.inner;
        if inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let saved = inner.save_snapshot(None).and_then(|_| {
            let first_unused = inner.ids.seal();
            inner
                .store
                .call(move |conn| ids::release(conn, first_unused))
        });
        let closed = inner.store.close();
        saved.and(closed)
    }

    /// Whether [`Engine::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests;

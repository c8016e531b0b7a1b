//! The embedded store: SQLite behind one writer thread.
//!
//! ## Why one thread owns the connection
//! The request path must never wait for the disk, and queries must see every record the
//! engine has already returned. Both follow from one rule: the connection lives on a writer
//! thread fed by a bounded FIFO queue ([`std::sync::mpsc::sync_channel`]).
//! - Prediction records are *offered* with `try_send`: when the queue is full the record is
//!   dropped and counted ([`Store::dropped`], the `ml_anomaly_dropped_records_total` metric)
//!   rather than blocking the request. The in-memory state (window, metrics) still has it.
//! - Queries and model writes are closures sent with a blocking `send` and answered on a
//!   one-shot channel. Because the queue is FIFO, a query runs after every record queued
//!   before it: a prediction is queryable as soon as `predict` has returned, with no separate
//!   flush.
//! - Consecutive records are committed together, up to `writerBatchSize` per transaction, so
//!   a burst of requests costs one `COMMIT` (one WAL append) rather than one per request.
//!
//! A failed batch (disk full, I/O error) is counted and its message kept
//! ([`Store::last_error`]); the writer keeps going. A panic inside a query closure is caught
//! and reported to that caller; the writer survives it.
//!
//! [`Store::close`] commits what is queued, checkpoints the WAL into the main file and joins
//! the thread; it is idempotent, and `Drop` does the same best-effort.

mod queries;
mod records;
mod schema;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anomaly_core::policy::Action;
use rusqlite::Connection;

pub(crate) use queries::*;
pub use records::{
    civil_date, decode_features, encode_features, AnomalySummary, DailyStatistics, DriftState,
    Feedback, ModelInfo, ModelScoreSummary, PerformanceAggregates, PredictionRecord, UserFeedback,
    MAX_NOTES_BYTES,
};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

use crate::error::{EngineError, Result};
use crate::lock;
use crate::outcome::PredictionOutcome;

/// A prediction waiting to be written.
pub(crate) struct PendingPrediction {
    pub outcome: Arc<PredictionOutcome>,
    /// The host's request context as JSON text.
    pub request_context: Option<String>,
    /// Store the explanation even when the prediction is not an anomaly.
    pub store_explanation: bool,
    /// The training-window slot the vector went to, and the window's `seen` count then.
    pub window_slot: Option<(u32, u64)>,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Msg {
    Prediction(Box<PendingPrediction>),
    ActionTaken { id: i64, action: Action },
    Call(Job),
    Close,
}

#[derive(Default)]
struct Stats {
    /// Records queued and not yet taken by the writer.
    depth: AtomicU64,
    dropped: AtomicU64,
    committed: AtomicU64,
    failed_batches: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// Handle of the store (see the module docs). `Send + Sync`.
pub struct Store {
    tx: SyncSender<Msg>,
    handle: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<Stats>,
    path: String,
}

impl Store {
    /// Opens or creates the store at `path` (`":memory:"` for none) and starts its writer.
    pub fn open(path: &str, queue_capacity: usize, batch_size: usize) -> Result<Store> {
        let conn = schema::open(path)?;
        let (tx, rx) = sync_channel(queue_capacity.max(1));
        let stats = Arc::new(Stats::default());
        let writer_stats = Arc::clone(&stats);
        let memory = path == crate::config::MEMORY_STORE;
        let handle = std::thread::Builder::new()
            .name("ml-anomaly-store".into())
            .spawn(move || run_writer(conn, rx, writer_stats, batch_size.max(1), memory))
            .map_err(|e| EngineError::Store(format!("cannot start the store writer: {e}")))?;
        Ok(Store {
            tx,
            handle: Mutex::new(Some(handle)),
            stats,
            path: path.to_string(),
        })
    }

    /// The path the store was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Queues a prediction record without blocking; false (and counted) when the queue is full
    /// or the store is closed.
    pub(crate) fn offer_prediction(&self, p: PendingPrediction) -> bool {
        self.offer(Msg::Prediction(Box::new(p)))
    }

    /// Queues an update of a record's `actionTaken` without blocking.
    pub(crate) fn offer_action_taken(&self, id: i64, action: Action) -> bool {
        self.offer(Msg::ActionTaken { id, action })
    }

    fn offer(&self, msg: Msg) -> bool {
        self.stats.depth.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.depth.fetch_sub(1, Ordering::Relaxed);
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Runs `f` on the writer thread after everything queued before it, and returns its result.
    /// Blocks while the queue is full.
    pub(crate) fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let (reply_tx, reply_rx) = sync_channel::<Result<R>>(1);
        let job: Job = Box::new(move |conn: &mut Connection| {
            let _ = reply_tx.send(f(conn));
        });
        self.tx
            .send(Msg::Call(job))
            .map_err(|_| EngineError::Closed)?;
        reply_rx.recv().map_err(|_| {
            if self.is_closed() {
                EngineError::Closed
            } else {
                EngineError::Internal("a store query panicked".into())
            }
        })?
    }

    /// Waits until every record queued so far is committed.
    pub fn flush(&self) -> Result<()> {
        self.call(|_| Ok(()))
    }

    fn is_closed(&self) -> bool {
        lock(&self.handle).is_none()
    }

    /// Commits what is queued, checkpoints and stops the writer. Idempotent.
    pub fn close(&self) -> Result<()> {
        let handle = lock(&self.handle).take();
        let Some(handle) = handle else { return Ok(()) };
        // The writer may already be gone (panicked); then there is nothing to flush.
        let _ = self.tx.send(Msg::Close);
        handle
            .join()
            .map_err(|_| EngineError::Internal("the store writer panicked".into()))
    }

    /// Records dropped because the queue was full (or the store closed).
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Records queued and not yet taken by the writer.
    pub fn depth(&self) -> u64 {
        self.stats.depth.load(Ordering::Relaxed)
    }

    /// Records committed since open.
    pub fn committed(&self) -> u64 {
        self.stats.committed.load(Ordering::Relaxed)
    }

    /// Batches that failed to commit since open.
    pub fn failed_batches(&self) -> u64 {
        self.stats.failed_batches.load(Ordering::Relaxed)
    }

    /// The latest write error, if any.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.stats.last_error).clone()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn run_writer(
    mut conn: Connection,
    rx: Receiver<Msg>,
    stats: Arc<Stats>,
    batch_size: usize,
    memory: bool,
) {
    let mut batch: Vec<PendingPrediction> = Vec::with_capacity(batch_size);
    let mut actions: Vec<(i64, Action)> = Vec::new();
    loop {
        let Ok(first) = rx.recv() else { break };
        let mut next = Some(first);
        let mut control = None;
        while let Some(msg) = next.take() {
            match msg {
                Msg::Prediction(p) => {
                    stats.depth.fetch_sub(1, Ordering::Relaxed);
                    batch.push(*p);
                }
                Msg::ActionTaken { id, action } => {
                    stats.depth.fetch_sub(1, Ordering::Relaxed);
                    actions.push((id, action));
                }
                other => {
                    control = Some(other);
                    break;
                }
            }
            if batch.len() + actions.len() >= batch_size {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !batch.is_empty() || !actions.is_empty() {
            commit(&mut conn, &mut batch, &mut actions, &stats);
        }
        match control {
            Some(Msg::Call(job)) => run_job(&mut conn, job),
            Some(Msg::Close) => break,
            _ => {}
        }
    }
    if !memory {
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
}

/// Runs a query job. A panicking job drops its reply sender (its caller gets an error) and the
/// writer keeps serving; whatever transaction it left open is rolled back.
fn run_job(conn: &mut Connection, job: Job) {
    let panicked = catch_unwind(AssertUnwindSafe(|| job(conn))).is_err();
    if panicked && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

fn commit(
    conn: &mut Connection,
    batch: &mut Vec<PendingPrediction>,
    actions: &mut Vec<(i64, Action)>,
    stats: &Stats,
) {
    let n = batch.len() as u64;
    let result = (|| -> rusqlite::Result<()> {
        let tx = conn.transaction()?;
        let mut max_id = None;
        let mut seen = None;
        for p in batch.iter() {
            insert_prediction(&tx, p)?;
            max_id = max_id.max(Some(p.outcome.id));
            if let Some((_, s)) = p.window_slot {
                seen = Some(s);
            }
        }
        for &(id, action) in actions.iter() {
            set_action_taken(&tx, id, action)?;
        }
        if let Some(id) = max_id {
            set_meta(&tx, "next_prediction_id", &(id + 1).to_string())?;
        }
        if let Some(s) = seen {
            set_meta(&tx, "window_seen", &s.to_string())?;
        }
        tx.commit()
    })();
    match result {
        Ok(()) => {
            stats.committed.fetch_add(n, Ordering::Relaxed);
        }
        Err(e) => {
            stats.failed_batches.fetch_add(1, Ordering::Relaxed);
            *lock(&stats.last_error) = Some(format!("writing {n} prediction records failed: {e}"));
        }
    }
    batch.clear();
    actions.clear();
}

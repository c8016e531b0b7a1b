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
//!
//! ## Group commit, and why the writer sleeps instead of waiting on the queue
//! A writer that blocks in `recv()` whenever the queue is empty commits one record per
//! transaction under real HTTP traffic: requests arrive a few hundred µs apart, each one wakes
//! it (a futex wake paid inside the request thread's `try_send`), and it commits that one record
//! before the next arrives. On a small machine the woken writer also preempts the request
//! thread, and `Engine::predict` costs the caller several times what the engine's own timer
//! says (measured with Express and with the `predict/spaced_*` benches: docs/benchmarks.md,
//! "Group commit").
//!
//! So the writer commits in groups, on a tick:
//! - *Idle* (nothing queued for a whole interval) it blocks in `recv()` and costs nothing; the
//!   record that ends the idleness wakes it.
//! - From then on it collects for `writerFlushIntervalMs` (default 10 ms) — or until
//!   `writerBatchSize` records — and commits them all in one transaction (one WAL append), then
//!   collects for the next interval, and so on, until an interval brings nothing.
//! - While collecting it *sleeps* ([`std::thread::park_timeout`]) instead of waiting on the
//!   queue: it is not a waiting receiver, so offering a record is a lock-free push that wakes
//!   nobody. Under steady traffic the request thread never pays a wake-up; the writer wakes
//!   once per interval on its own timer.
//!
//! Three things cut an interval short:
//! - a query, `flush` or `close` (every job sent through `Store::call`): the sender unparks the
//!   writer after queueing it; the writer commits what it holds and runs the job at once, so
//!   queries never wait for the interval and still see every record queued before them;
//! - `writerBatchSize` records (or the queue's capacity) offered and not yet committed: the
//!   offering thread unparks the writer;
//! - nothing else: a spurious wake-up only makes the writer look at the queue again.
//!
//! `writerFlushIntervalMs: 0` gives the old behaviour (commit whatever is queued when the
//! writer looks; one wake-up and one transaction per request under light load).
//!
//! Why 10 ms by default: the writer's CPU per request falls with the interval and the request
//! thread stops gaining beyond about 5 ms, while the interval is also what a crash of the
//! process can lose; 10 ms keeps that window negligible (the measurements, by interval, are in
//! docs/benchmarks.md, "Group commit").
//!
//! ## Durability
//! A record is durable once its transaction commits (WAL, `synchronous=NORMAL`: a committed
//! transaction survives a crash of the process; an OS crash or power loss can lose the last
//! transactions). Records only queued were never durable; with group commit a record may wait
//! up to `writerFlushIntervalMs` before its commit, so a process crash loses at most the
//! records of the last interval (plus whatever else was queued) that no `flush()`, query or
//! `close()` had committed. [`Store::flush`] and [`Store::close`] commit everything queued
//! before them, so a host that must not lose a record calls `flush()` first. Another process
//! reading the file sees records up to one interval late.
//!
//! A failed batch (disk full, I/O error) is counted and its message kept
//! ([`Store::last_error`]); the writer keeps going. A panic inside a query closure is caught
//! and reported to that caller; the writer survives it.
//!
//! [`Store::close`] commits what is queued, checkpoints the WAL into the main file and joins
//! the thread; it is idempotent, and `Drop` does the same best-effort.

mod codec;
pub(crate) use codec::{decode_snapshot, encode_snapshot};
mod queries;
mod schema;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use anomaly_core::policy::Action;
use rusqlite::Connection;

pub(crate) use queries::*;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// The records moved to [`crate::records`]; these names keep working for the bindings.
pub use crate::records::{Feedback, FeedbackReport, PredictionRecord, UserFeedback};

/// Store path that means "no file": a store that lives as long as the engine.
pub const MEMORY_STORE: &str = ":memory:";

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
    /// Whose request it was and whether it was suspected: stored after the features (see
    /// [`codec::encode_sample`]), read back by feedback and the training window.
    pub meta: crate::window::RowMeta,
    /// The training-window slot the vector went to, and the window's `seen` count then.
    pub window_slot: Option<(u32, u64)>,
}

/// How the writer queues and commits (from the configuration's `writer*` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterSettings {
    /// Records that may wait in the queue; beyond it they are dropped.
    pub queue_capacity: usize,
    /// Most records (and `actionTaken` updates) committed in one transaction.
    pub batch_size: usize,
    /// How long the writer keeps collecting after the first record of a batch.
    pub flush_interval: Duration,
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
    /// Records (and `actionTaken` updates) offered and not yet committed (or failed).
    depth: AtomicU64,
    dropped: AtomicU64,
    committed: AtomicU64,
    /// Transactions of records committed.
    commits: AtomicU64,
    failed_batches: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// Handle of the store (see the module docs). `Send + Sync`.
pub struct Store {
    tx: SyncSender<Msg>,
    /// The writer thread, to cut its collection sleep short.
    writer: Thread,
    handle: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<Stats>,
    /// Uncommitted records from which an offer wakes the writer: the batch is full (or the
    /// queue may be).
    wake_depth: u64,
    path: String,
}

impl Store {
    /// Opens or creates the store at `path` (`":memory:"` for none) and starts its writer.
    pub fn open(path: &str, settings: WriterSettings) -> Result<Store> {
        let conn = schema::open(path)?;
        let capacity = settings.queue_capacity.max(1);
        let batch_size = settings.batch_size.max(1);
        let (tx, rx) = sync_channel(capacity);
        let stats = Arc::new(Stats::default());
        let writer = Writer {
            conn,
            rx,
            stats: Arc::clone(&stats),
            batch_size,
            flush_interval: settings.flush_interval,
            memory: path == MEMORY_STORE,
            batch: Vec::with_capacity(batch_size.min(4096)),
            actions: Vec::new(),
        };
        let handle = std::thread::Builder::new()
            .name("ml-anomaly-store".into())
            .spawn(move || writer.run())
            .map_err(|e| EngineError::Store(format!("cannot start the store writer: {e}")))?;
        Ok(Store {
            tx,
            writer: handle.thread().clone(),
            handle: Mutex::new(Some(handle)),
            stats,
            wake_depth: batch_size.min(capacity) as u64,
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

    /// The request path's only contact with the writer: a lock-free push, and a wake-up only
    /// when the writer is idle (the channel wakes a writer blocked in `recv`) or the batch is
    /// full. A writer collecting a batch is asleep outside the channel and is not woken.
    fn offer(&self, msg: Msg) -> bool {
        let before = self.stats.depth.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(msg) {
            Ok(()) => {
                if before + 1 >= self.wake_depth {
                    self.writer.unpark();
                }
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.depth.fetch_sub(1, Ordering::Relaxed);
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                // A full queue: make sure a collecting writer drains it now.
                self.writer.unpark();
                false
            }
        }
    }

    /// Queues a control message (blocking while the queue is full) and wakes the writer, so
    /// that it commits what it holds and handles the message without waiting for the interval.
    fn send_control(&self, msg: Msg) -> std::result::Result<(), ()> {
        match self.tx.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(msg)) => {
                self.writer.unpark();
                self.tx.send(msg).map_err(|_| ())?;
            }
            Err(TrySendError::Disconnected(_)) => return Err(()),
        }
        self.writer.unpark();
        Ok(())
    }

    /// Runs `f` on the writer thread after everything queued before it has been committed, and
    /// returns its result. Blocks while the queue is full.
    pub(crate) fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let (reply_tx, reply_rx) = sync_channel::<Result<R>>(1);
        let job: Job = Box::new(move |conn: &mut Connection| {
            let _ = reply_tx.send(f(conn));
        });
        self.send_control(Msg::Call(job))
            .map_err(|_| EngineError::Closed)?;
        reply_rx.recv().map_err(|_| {
            if self.is_closed() {
                EngineError::Closed
            } else {
                EngineError::Internal("a store query panicked".into())
            }
        })?
    }

    /// Queues `f` to run on the writer thread after everything queued before it, without
    /// waiting for it or blocking; false when the queue is full or the writer stopped.
    pub(crate) fn submit<F>(&self, f: F) -> bool
    where
        F: FnOnce(&mut Connection) + Send + 'static,
    {
        let queued = self.tx.try_send(Msg::Call(Box::new(f))).is_ok();
        self.writer.unpark();
        queued
    }

    /// Commits every record queued so far, without waiting for the flush interval.
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
        let _ = self.send_control(Msg::Close);
        handle
            .join()
            .map_err(|_| EngineError::Internal("the store writer panicked".into()))
    }

    /// Records dropped because the queue was full (or the store closed).
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Records offered and not yet written: waiting in the queue or in the batch being
    /// collected.
    pub fn depth(&self) -> u64 {
        self.stats.depth.load(Ordering::Relaxed)
    }

    /// Records committed since open.
    pub fn committed(&self) -> u64 {
        self.stats.committed.load(Ordering::Relaxed)
    }

    /// Transactions of records committed since open (`committed() / commits()` is the mean
    /// batch).
    pub fn commits(&self) -> u64 {
        self.stats.commits.load(Ordering::Relaxed)
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

/// The writer thread's state.
struct Writer {
    conn: Connection,
    rx: Receiver<Msg>,
    stats: Arc<Stats>,
    batch_size: usize,
    flush_interval: Duration,
    memory: bool,
    batch: Vec<PendingPrediction>,
    actions: Vec<(i64, Action)>,
}

/// Why a collection round ended.
enum RoundEnd {
    /// A query, flush or close: commit now, then handle it.
    Control(Msg),
    /// `writerBatchSize` records collected.
    Full,
    /// The flush interval is over.
    Interval,
    /// Every sender is gone (the store was dropped without `close`).
    Disconnected,
}

impl Writer {
    fn run(mut self) {
        // While records keep coming the writer ticks: it sleeps one interval, commits what
        // came, and sleeps again, never blocking on the queue, so no offer has to wake it. One
        // round that finds nothing sends it idle: blocked on the queue, woken by the next offer.
        let mut ticking = false;
        loop {
            let first = if ticking {
                None
            } else {
                match self.rx.recv() {
                    Ok(msg) => Some(msg),
                    Err(_) => break,
                }
            };
            let end = self.collect(first, Instant::now() + self.flush_interval);
            let collected = !self.batch.is_empty() || !self.actions.is_empty();
            if collected {
                self.commit();
            }
            ticking = match end {
                RoundEnd::Control(Msg::Call(job)) => {
                    run_job(&mut self.conn, job);
                    true
                }
                RoundEnd::Control(_) | RoundEnd::Disconnected => break,
                RoundEnd::Full => true,
                RoundEnd::Interval => collected && !self.flush_interval.is_zero(),
            };
        }
        if !self.memory {
            let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    /// Collects records (from `first` on, then from the queue) until a control message, a
    /// full batch, `deadline` or a closed queue. Sleeps outside the channel while the queue is
    /// empty, so that offering a record does not wake it (see the module docs).
    fn collect(&mut self, first: Option<Msg>, deadline: Instant) -> RoundEnd {
        let mut next = first;
        loop {
            let msg = match next.take() {
                Some(msg) => msg,
                None => match self.rx.try_recv() {
                    Ok(msg) => msg,
                    Err(TryRecvError::Disconnected) => return RoundEnd::Disconnected,
                    Err(TryRecvError::Empty) => {
                        let now = Instant::now();
                        if now >= deadline {
                            return RoundEnd::Interval;
                        }
                        // Woken early by a control message, a full batch, or spuriously: the
                        // loop looks at the queue again either way.
                        std::thread::park_timeout(deadline - now);
                        continue;
                    }
                },
            };
            match msg {
                Msg::Prediction(p) => self.batch.push(*p),
                Msg::ActionTaken { id, action } => self.actions.push((id, action)),
                control => return RoundEnd::Control(control),
            }
            if self.batch.len() + self.actions.len() >= self.batch_size {
                return RoundEnd::Full;
            }
        }
    }

    fn commit(&mut self) {
        commit(
            &mut self.conn,
            &mut self.batch,
            &mut self.actions,
            &self.stats,
        );
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
    let taken = n + actions.len() as u64;
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
            stats.commits.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            stats.failed_batches.fetch_add(1, Ordering::Relaxed);
            *lock(&stats.last_error) = Some(format!("writing {n} prediction records failed: {e}"));
        }
    }
    batch.clear();
    actions.clear();
    stats.depth.fetch_sub(taken, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_core::N_FEATURES;
    use std::sync::mpsc;

    const LONG: Duration = Duration::from_secs(3600);
    /// Bound on liveness waits: far beyond any run, so only a writer that waits for its
    /// one-hour interval (the bug the test looks for) exceeds it.
    const BOUND: Duration = Duration::from_secs(30);

    fn record(id: i64) -> PendingPrediction {
        PendingPrediction {
            outcome: Arc::new(PredictionOutcome {
                processing_time_us: 1.0,
                ..PredictionOutcome::fallback(
                    id,
                    format!("s{}", id % 3),
                    "u".into(),
                    1_700_000_000_000 + id,
                    vec![id as f64; N_FEATURES],
                    None,
                )
            }),
            request_context: None,
            store_explanation: false,
            meta: crate::window::RowMeta::UNKNOWN,
            window_slot: None,
        }
    }

    fn open(path: &str, batch_size: usize, flush_interval: Duration) -> Arc<Store> {
        let settings = WriterSettings {
            queue_capacity: 10_000,
            batch_size,
            flush_interval,
        };
        Arc::new(Store::open(path, settings).unwrap())
    }

    /// Runs `f` on another thread and returns its result, or panics after [`BOUND`].
    fn within<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(BOUND)
            .expect("the writer waited for its flush interval")
    }

    fn stored_ids(store: &Store) -> Result<Vec<i64>> {
        store.call(|conn| {
            let mut stmt = conn.prepare("SELECT id FROM predictions ORDER BY id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(ids)
        })
    }

    /// Polls `cond` until it holds, or panics after [`BOUND`].
    fn eventually(what: &str, cond: impl Fn() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < BOUND, "{what} never happened");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_query_commits_the_collected_batch_at_once_in_one_transaction() {
        let store = open(MEMORY_STORE, 1000, LONG);
        for id in 1..=100 {
            assert!(store.offer_prediction(record(id)));
        }
        assert!(store.offer_action_taken(7, Action::Monitor));
        let s = Arc::clone(&store);
        let ids = within(move || stored_ids(&s)).unwrap();
        assert_eq!(
            ids,
            (1..=100).collect::<Vec<_>>(),
            "the query sees every record"
        );
        assert_eq!(store.committed(), 100);
        assert_eq!(store.commits(), 1, "one transaction for the whole batch");
        assert_eq!(store.depth(), 0);
        let action = store
            .call(|conn| {
                Ok(conn.query_row(
                    "SELECT action_taken FROM predictions WHERE id = 7",
                    [],
                    |r| r.get::<_, String>(0),
                )?)
            })
            .unwrap();
        assert_eq!(
            action,
            Action::Monitor.as_str(),
            "the update is in the batch"
        );
    }

    #[test]
    fn records_are_committed_after_the_interval_without_a_query() {
        let store = open(MEMORY_STORE, 1000, Duration::from_millis(2));
        for id in 1..=10 {
            assert!(store.offer_prediction(record(id)));
        }
        eventually("the timed commit", || {
            store.committed() == 10 && store.depth() == 0
        });
        assert_eq!(stored_ids(&store).unwrap().len(), 10);
    }

    #[test]
    fn a_full_batch_is_committed_without_waiting_for_the_interval() {
        let store = open(MEMORY_STORE, 10, LONG);
        for id in 1..=4 {
            assert!(store.offer_prediction(record(id)));
        }
        // Give the writer time to collect these and fall asleep for its hour: then only the
        // offer that completes the batch can wake it. (Were it still awake, it would simply
        // drain the rest as it comes; the test would pass without exercising the wake-up.)
        std::thread::sleep(Duration::from_millis(50));
        for id in 5..=25 {
            assert!(store.offer_prediction(record(id)));
        }
        // The last five are collected and wait for the interval (or, here, a flush).
        eventually("the commit of two full batches", || {
            store.committed() == 20 && store.depth() == 5
        });
        let s = Arc::clone(&store);
        within(move || s.flush()).unwrap();
        assert_eq!(store.committed(), 25);
        assert_eq!(store.commits(), 3, "batches of 10, 10 and 5");
    }

    #[test]
    fn close_commits_what_is_collected_and_the_file_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sqlite").to_string_lossy().into_owned();
        {
            let store = open(&path, 1000, LONG);
            for id in 1..=7 {
                assert!(store.offer_prediction(record(id)));
            }
            let s = Arc::clone(&store);
            within(move || s.close()).unwrap();
            assert_eq!(store.committed(), 7);
            assert!(!store.offer_prediction(record(8)), "closed: dropped");
            assert!(matches!(store.flush(), Err(EngineError::Closed)));
        }
        let store = open(&path, 1000, LONG);
        let s = Arc::clone(&store);
        let ids = within(move || stored_ids(&s)).unwrap();
        assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    }

    #[test]
    fn zero_interval_commits_each_record_the_writer_finds() {
        let store = open(MEMORY_STORE, 1000, Duration::ZERO);
        for id in 1..=5 {
            assert!(store.offer_prediction(record(id)));
            // Each record is committed before the next is offered: five transactions.
            eventually("the immediate commit", || store.committed() == id as u64);
        }
        assert_eq!(store.commits(), 5);
    }
}

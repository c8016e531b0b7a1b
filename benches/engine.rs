//! Engine benchmarks: the per-request path end to end and training through the engine.
//!
//! - `predict/warm`: one request event → outcome with the default model (100 trees of 256, depth
//!   12, 59→16→59 autoencoder) trained on 5,000 requests, over warm sessions: behavioral state
//!   update, the 59 features, both models, the fast attribution and explanation, the action,
//!   the training and drift windows, metrics and queueing the record (an in-memory store's
//!   writer commits on another thread). Target: ≤ 25 µs median.
//! - `predict/spaced_memory`, `predict/spaced_file`: the same call, but with the caller busy for
//!   ~250 µs between requests (a spin, like the JS thread parsing the next HTTP request), and only
//!   the predict call timed; in-memory store and a WAL file store. A tight loop hides what the
//!   store writer costs the caller: in it the writer never goes idle, so it is never woken and
//!   always finds a full batch. Spaced requests are what an Express server sends; they show the
//!   wake-up and commit contention (`writerFlushIntervalMs`). Also prints the median and p99 of
//!   the timed calls.
//!
//! `BENCH_FLUSH_MS=<ms>` overrides `writerFlushIntervalMs` in the `predict` benches (0: no
//! grouping, as before group commit).
//! - `train/50k`: a training of the default configuration on a window of 50,000 vectors,
//!   registration and swap included.
//!
//! - `maintenance/state_snapshot`: serializing (in steps of 64 entries, each under the state
//!   lock) and storing the behavioral state of ~10,000 sessions and users.
//!
//! Run: `cargo bench -p anomaly-engine --bench engine` (add `-- predict` or `-- train`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anomaly_engine::testkit::Traffic;
use anomaly_engine::{Engine, EngineConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const T0: i64 = 1_700_000_000_000;

/// `BENCH_FLUSH_MS=<ms>` overrides `writerFlushIntervalMs`, to compare intervals (0: no
/// grouping, the writer commits whatever is queued when it looks).
fn flush_interval_from_env(config: &mut EngineConfig) {
    if let Ok(ms) = std::env::var("BENCH_FLUSH_MS") {
        config.writer_flush_interval_ms = ms.parse().expect("BENCH_FLUSH_MS: milliseconds");
    }
}

fn engine_with(config: EngineConfig, traffic: &mut Traffic, warmup: usize) -> Engine {
    let engine = Engine::open(config).expect("engine");
    for _ in 0..warmup {
        engine.predict(traffic.next_event(), None).expect("predict");
    }
    engine
}

fn predict(c: &mut Criterion) {
    let (engine, mut traffic) = trained_engine(":memory:");
    let mut group = c.benchmark_group("predict");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("warm", |b| {
        b.iter_batched(
            || traffic.next_event(), // generating the event is not timed
            |event| engine.predict(event, None).expect("predict"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    let m = engine.metrics();
    eprintln!(
        "predict: engine-measured latency p50 {:.1} µs, p99 {:.1} µs over {} requests; {} records dropped",
        m.latency_us.p50, m.latency_us.p99, m.latency_us.count, m.dropped_records
    );
}

/// Time between two requests of the spaced variants: ~3,000-4,000 requests/s, an Express
/// server's rate on one core.
const GAP: Duration = Duration::from_micros(250);

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// A trained engine over `store_path`, warm: 200 users at 2,000 sessions a day, so every
/// session is warm after the warm-up.
fn trained_engine(store_path: &str) -> (Engine, Traffic) {
    let mut config = EngineConfig::in_memory();
    config.store_path = store_path.to_string();
    config.retraining.auto_train = false;
    config.writer_queue_capacity = 100_000;
    flush_interval_from_env(&mut config);
    let mut traffic = Traffic::with_rate(1, 200, T0, 2000.0);
    let engine = engine_with(config, &mut traffic, 5000);
    engine
        .train(false, traffic.now(), &mut |_| {})
        .expect("train");
    for _ in 0..5000 {
        engine.predict(traffic.next_event(), None).expect("predict");
    }
    engine.flush().expect("flush");
    (engine, traffic)
}

fn predict_spaced(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir
        .path()
        .join("bench.sqlite")
        .to_string_lossy()
        .into_owned();
    for (name, path) in [
        ("spaced_memory", ":memory:"),
        ("spaced_file", file.as_str()),
    ] {
        let (engine, mut traffic) = trained_engine(path);
        let mut times: Vec<u64> = Vec::with_capacity(1 << 16);
        let mut group = c.benchmark_group("predict");
        // Criterion sizes the run from the *timed* part (≈ 1/15 of the wall time here).
        group.sample_size(20);
        group.warm_up_time(Duration::from_millis(100));
        group.measurement_time(Duration::from_millis(600));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let event = traffic.next_event();
                    spin(GAP);
                    let start = Instant::now();
                    black_box(engine.predict(event, None).expect("predict"));
                    let t = start.elapsed();
                    total += t;
                    if times.len() < times.capacity() {
                        times.push(t.as_nanos() as u64);
                    }
                }
                total
            })
        });
        group.finish();
        engine.flush().expect("flush");
        if times.is_empty() {
            continue; // filtered out by the command line
        }
        times.sort_unstable();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
        let m = engine.metrics();
        eprintln!(
            "predict/{name}: caller-measured p50 {:.1} µs, p99 {:.1} µs over {} calls; engine-measured p50 {:.1} µs; {} dropped",
            at(0.5),
            at(0.99),
            times.len(),
            m.latency_us.p50,
            m.dropped_records
        );
    }
}

fn train(c: &mut Criterion) {
    let mut config = EngineConfig::in_memory();
    config.retraining.auto_train = false;
    config.writer_queue_capacity = 100_000;
    let mut traffic = Traffic::with_rate(2, 2000, T0, 1500.0);
    let engine = engine_with(config, &mut traffic, 50_000);
    assert_eq!(engine.status().training_window_size, 50_000);
    let now = traffic.now();
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("50k", |b| {
        b.iter(|| engine.train(true, now, &mut |_| {}).expect("train"))
    });
    group.finish();
}

fn snapshot(c: &mut Criterion) {
    let mut config = EngineConfig::in_memory();
    config.retraining.auto_train = false;
    // 10,000 users, one or two sessions each tracked: the default caps' worth of state.
    let mut traffic = Traffic::with_rate(3, 10_000, T0, 20_000.0);
    let engine = engine_with(config, &mut traffic, 150_000);
    let status = engine.status();
    eprintln!(
        "snapshot: {} sessions, {} users tracked",
        status.tracked_sessions, status.tracked_users
    );
    let mut group = c.benchmark_group("maintenance");
    group.sample_size(20);
    group.bench_function("state_snapshot", |b| {
        b.iter(|| engine.save_state_snapshot().expect("snapshot"))
    });
    group.finish();
}

criterion_group!(benches, predict, predict_spaced, train, snapshot);
criterion_main!(benches);

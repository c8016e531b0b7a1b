//! Engine benchmarks: the per-request path end to end and training through the engine.
//!
//! - `predict/warm`: one request event → outcome with the default model (100 trees of 256, depth
//!   12, 59→16→59 autoencoder) trained on 5,000 requests, over warm sessions: behavioral state
//!   update, the 59 features, both models, the fast attribution and explanation, the action,
//!   the training and drift windows, metrics and queueing the record (an in-memory store's
//!   writer commits on another thread). Target: ≤ 25 µs median.
//! - `train/50k`: a training of the default configuration on a window of 50,000 vectors,
//!   registration and swap included.
//!
//! - `maintenance/state_snapshot`: serializing (under the state lock) and storing the
//!   behavioral state of ~10,000 sessions and users; the longest a request can wait on it.
//!
//! Run: `cargo bench -p anomaly-engine --bench engine` (add `-- predict` or `-- train`).

use std::time::Duration;

use anomaly_engine::testkit::Traffic;
use anomaly_engine::{Engine, EngineConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const T0: i64 = 1_700_000_000_000;

fn engine_with(config: EngineConfig, traffic: &mut Traffic, warmup: usize) -> Engine {
    let engine = Engine::open(config).expect("engine");
    for _ in 0..warmup {
        engine.predict(traffic.next_event(), None).expect("predict");
    }
    engine
}

fn predict(c: &mut Criterion) {
    let mut config = EngineConfig::in_memory();
    config.retraining.auto_train = false;
    config.writer_queue_capacity = 100_000;
    // 200 users at 2,000 sessions a day: every session is warm after the warm-up.
    let mut traffic = Traffic::with_rate(1, 200, T0, 2000.0);
    let engine = engine_with(config, &mut traffic, 5000);
    engine
        .train(false, traffic.now(), &mut |_| {})
        .expect("train");
    for _ in 0..5000 {
        engine.predict(traffic.next_event(), None).expect("predict");
    }
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

criterion_group!(benches, predict, train, snapshot);
criterion_main!(benches);

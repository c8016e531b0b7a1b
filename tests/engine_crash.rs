//! Committed data survives a crash of the process.
//!
//! The test re-executes its own binary as a child (selecting the `crash_child` entry point and
//! passing the store path in an environment variable). The child predicts in a loop and, after
//! each `flush()`, prints the last id it knows to be committed. The parent reads a few of those
//! lines, kills the child with SIGKILL while it keeps writing, and reopens the store: it must be
//! intact (`PRAGMA integrity_check`), open as an engine, and hold every record the child
//! reported — with exactly the features the child computed (the parent recomputes them from the
//! same seeded traffic).
//!
//! A second run of the child (`HOLD_ENV` set) stops after its eighth report with 40 answered
//! requests still in the writer's queue, as a crash in the middle of a burst leaves them; the
//! parent kills it there, and after the restart no id answered before the kill comes back.

#[path = "engine_support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use anomaly_core::features::BehaviorState;
use anomaly_core::N_FEATURES;
use anomaly_engine::testkit::Traffic;
use anomaly_engine::Engine;
use support::*;

const CHILD_ENV: &str = "ML_ANOMALY_CRASH_CHILD_STORE";
const HOLD_ENV: &str = "ML_ANOMALY_CRASH_CHILD_HOLD";
const TRAFFIC_SEED: u64 = 9;
/// Requests the holding child answers after its last report.
const HELD: i64 = 40;

/// Entry point of the child process; does nothing in a normal test run.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let hold = std::env::var(HOLD_ENV).is_ok();
    let mut config = small_config(&path);
    config.writer_batch_size = 64;
    if hold {
        // the held answers wait in the writer's queue (a batch of 64 is not full)
        config.writer_flush_interval_ms = 1_000;
    }
    let engine = Engine::open(config).expect("child opens the store");
    let mut traffic = Traffic::new(TRAFFIC_SEED, 50, T0);
    let mut out = std::io::stdout().lock();
    for report in 1.. {
        if hold && report > 8 {
            for _ in 0..HELD {
                let id = engine
                    .predict(traffic.next_event(), None)
                    .expect("predict")
                    .id;
                writeln!(out, "answered {id}").expect("stdout");
            }
            out.flush().expect("stdout");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
        let mut last = 0;
        for _ in 0..300 {
            last = engine
                .predict(traffic.next_event(), Some("{\"k\":1}".into()))
                .expect("predict")
                .id;
        }
        engine.flush().expect("flush");
        writeln!(out, "committed {last}").expect("stdout");
        out.flush().expect("stdout");
    }
}

#[test]
fn committed_records_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "crash.sqlite");
    let mut child = spawn_child(&path, false);
    let stdout = child.stdout.take().unwrap();
    let mut committed = 0i64;
    let mut reports = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("committed ") {
            committed = id.parse().unwrap();
            reports += 1;
            if reports == 8 {
                break;
            }
        }
    }
    assert_eq!(
        reports, 8,
        "the child did not report (it crashed on its own?)"
    );
    // The child is in the middle of its next batch: kill it there.
    child.kill().unwrap();
    child.wait().unwrap();

    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let stored: i64 = conn
            .query_row(
                "SELECT count(*) FROM predictions WHERE id <= ?1",
                [committed],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, committed, "every reported record is stored");
    }

    let engine = Engine::open(small_config(&path)).unwrap();
    let mut traffic = Traffic::new(TRAFFIC_SEED, 50, T0);
    let mut state = BehaviorState::new(small_config(&path).state).unwrap();
    let mut x = [0.0; N_FEATURES];
    for id in 1..=committed {
        let event = traffic.next_event();
        state.observe(&event, &mut x).unwrap();
        let record = engine.prediction(id, &event.user_id, false).unwrap();
        assert_eq!(record.session_id, event.session_id);
        assert_eq!(record.timestamp, event.timestamp);
        assert_eq!(record.features, x.to_vec(), "record {id} intact");
        assert_eq!(record.request_context, Some(serde_json::json!({"k": 1})));
    }
    let next = feed(&engine, &mut traffic, 1)[0].id;
    assert!(
        next > committed,
        "ids continue after the crash: {next} > {committed}"
    );
}

fn spawn_child(path: &str, hold: bool) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if hold {
        command.env(HOLD_ENV, "1");
    }
    command.spawn().unwrap()
}

#[test]
fn ids_answered_before_sigkill_are_never_answered_again() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "ids.sqlite");
    let mut child = spawn_child(&path, true);
    let stdout = child.stdout.take().unwrap();
    let (mut committed, mut answered, mut held) = (0i64, 0i64, 0);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("committed ") {
            committed = id.parse().unwrap();
        } else if let Some(id) = line.strip_prefix("answered ") {
            answered = answered.max(id.parse().unwrap());
            if answered > committed && committed > 0 {
                held += 1;
                if held == HELD {
                    break;
                }
            }
        }
    }
    assert_eq!(held, HELD, "the child did not hold its answers");
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(small_config(&path)).unwrap();
    let mut traffic = Traffic::new(TRAFFIC_SEED + 1, 50, T0);
    for p in feed(&engine, &mut traffic, 200) {
        assert!(
            p.id > answered,
            "id {} answered again after the crash (answered up to {answered}, committed up to {committed})",
            p.id
        );
    }
}

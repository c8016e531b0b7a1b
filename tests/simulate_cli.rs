//! `ml-anomaly simulate` and `ml-anomaly quality` as a user runs them: deterministic bytes,
//! parseable JSON Lines, clear errors, and a quality report that reflects the detectors.

use std::process::{Command, Output};

use anomaly_core::simulate::{LabeledEvent, Scenario};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ml-anomaly"))
        .args(args)
        .output()
        .expect("run ml-anomaly")
}

const SMALL: [&str; 8] = [
    "--users",
    "30",
    "--days",
    "5",
    "--warmup-days",
    "3",
    "--attacks-per-scenario",
    "1",
];

#[test]
fn same_seed_same_bytes() {
    let run = |seed: &str| {
        let mut args = vec!["simulate", "--seed", seed];
        args.extend(SMALL);
        let out = cli(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let a = run("7");
    assert_eq!(a, run("7"));
    assert_ne!(a, run("8"));
    let text = String::from_utf8(a).unwrap();
    let events: Vec<LabeledEvent> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.len() > 500);
    assert!(events
        .windows(2)
        .all(|w| w[0].event.timestamp <= w[1].event.timestamp));
    for s in Scenario::ATTACKS {
        assert!(
            events
                .iter()
                .any(|e| e.label.scenario == s && e.label.attack),
            "{s:?}"
        );
    }
    // camelCase on the wire
    assert!(text.contains("\"sessionId\"") && text.contains("\"sessionAttacked\""));
}

#[test]
fn writes_to_a_file_and_summarises_on_stderr() {
    let path = std::env::temp_dir().join(format!("ml-anomaly-sim-{}.jsonl", std::process::id()));
    let mut args = vec!["simulate", "--out", path.to_str().unwrap()];
    args.extend(SMALL);
    let out = cli(&args);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let summary: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(
        summary["events"].as_u64().unwrap() as usize,
        written.lines().count()
    );
    assert_eq!(summary["scenarios"].as_array().unwrap().len(), 5);
}

#[test]
fn bad_arguments_fail_cleanly() {
    let out = cli(&["simulate", "--users", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("users"), "{err}");
    let out = cli(&["simulate", "--days", "4", "--warmup-days", "4"]);
    assert_eq!(out.status.code(), Some(1));
    let out = cli(&["quality", "--fpr", "1.5"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let out = cli(&[
        "simulate",
        "--out",
        "/nonexistent-dir/x.jsonl",
        "--users",
        "10",
        "--days",
        "2",
        "--warmup-days",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.jsonl"));
}

#[test]
fn quality_reports_every_scenario() {
    let mut args = vec![
        "quality",
        "--model",
        "forest",
        "--users",
        "60",
        "--days",
        "6",
        "--warmup-days",
        "3",
    ];
    args.extend(["--attacks-per-scenario", "2", "--seed", "3"]);
    let out = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 5);
    for s in scenarios {
        assert_eq!(s["instances"], 2, "{s}");
        let auc = s["rocAuc"].as_f64().unwrap();
        assert!(auc > 0.8, "{s}");
    }
    // the Isolation Forest alone already separates the simulated attacks well
    assert!(report["rocAuc"].as_f64().unwrap() > 0.9, "{report}");
    let fpr_normal = report["normalSessionsAlarmed"].as_f64().unwrap();
    assert!(fpr_normal < 0.25, "{report}");
}

#[test]
fn quality_reads_a_simulate_file() {
    let path = std::env::temp_dir().join(format!("ml-anomaly-q-{}.jsonl", std::process::id()));
    let base = [
        "--users",
        "40",
        "--days",
        "5",
        "--warmup-days",
        "3",
        "--attacks-per-scenario",
        "1",
        "--seed",
        "5",
    ];
    let mut args = vec!["simulate", "--out", path.to_str().unwrap()];
    args.extend(base);
    assert!(cli(&args).status.success());
    let mut from_file = vec![
        "quality",
        "--model",
        "forest",
        "--input",
        path.to_str().unwrap(),
    ];
    from_file.extend(base);
    let mut direct = vec!["quality", "--model", "forest"];
    direct.extend(base);
    let a: serde_json::Value = serde_json::from_slice(&cli(&from_file).stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&cli(&direct).stdout).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(a["rocAuc"], b["rocAuc"], "same events, same result");
    assert_eq!(a["scenarios"], b["scenarios"]);
}

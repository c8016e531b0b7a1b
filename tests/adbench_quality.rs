//! Quality check of the Isolation Forest against scikit-learn on eight real ADBench data sets.
//!
//! Runs `ml-anomaly eval` (the binary: CSV loading, fitting, scoring and ROC-AUC end to end)
//! with scikit-learn's settings (100 trees, 256 rows per tree, depth auto) and asserts that the
//! mean ROC-AUC over seeds 0..50 is within 0.01 of scikit-learn's mean over the same 50 seeds
//! (tests/fixtures/adbench_sklearn_50seeds.csv, made by scripts/fixtures/adbench_sklearn.py).
//!
//! Why 50 seeds on both sides: Isolation Forest's ROC-AUC varies by up to 0.016 from seed to
//! seed (satellite), so a 5-seed mean carries up to 0.009 of noise. The 5-seed figures shipped
//! with the data (sklearn_iforest_auc.csv, printed here for reference) differ from
//! scikit-learn's own 50-seed means by up to 0.008 (pendigits 0.9404 vs 0.9485): against them
//! a faithful implementation passes or fails 0.01 by luck (ours: cardio -0.0108 with seeds
//! 0..5, pendigits +0.0106 with seeds 0..50). Against the 50-seed means our 50-seed means
//! differ by at most 0.0025, about one standard error, so a miss beyond 0.01 means a real
//! difference in the algorithm.
//!
//! The data live outside the repository (`../shared/datasets/adbench`, or `$ADBENCH_DIR`);
//! without them the test prints why it skipped and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

const SEEDS: u32 = 50;
const TOLERANCE: f64 = 0.01;

fn adbench_dir() -> PathBuf {
    match std::env::var_os("ADBENCH_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/adbench"),
    }
}

/// `(dataset, mean ROC-AUC)` rows of a CSV whose first column is the name; `column` is the
/// index of the mean. Lines starting with `#` are comments.
fn read_reference(path: &Path, column: usize) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let value = cells.get(column).and_then(|v| v.parse().ok());
            (
                cells[0].to_string(),
                value.unwrap_or_else(|| panic!("{}: bad line `{l}`", path.display())),
            )
        })
        .collect()
}

fn eval(csv: &Path) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_ml-anomaly"))
        .args(["eval", "--csv"])
        .arg(csv)
        .args([
            "--trees",
            "100",
            "--sample-size",
            "256",
            "--max-depth",
            "auto",
            "--seeds",
        ])
        .arg(SEEDS.to_string())
        .output()
        .expect("run ml-anomaly");
    assert!(
        output.status.success(),
        "eval {} failed: {}",
        csv.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("eval prints one JSON object")
}

#[test]
fn isolation_forest_matches_sklearn_on_adbench() {
    let dir = adbench_dir();
    if !dir.is_dir() {
        eprintln!(
            "skipped: no ADBench data at {} (set ADBENCH_DIR)",
            dir.display()
        );
        return;
    }
    let reference = read_reference(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/adbench_sklearn_50seeds.csv"),
        2,
    );
    let shipped = read_reference(&dir.join("sklearn_iforest_auc.csv"), 4);
    assert_eq!(reference.len(), 8, "reference covers the eight data sets");

    let mut failures = Vec::new();
    eprintln!(
        "dataset       ours({SEEDS})  sklearn({SEEDS})  delta    | sklearn(5, shipped)  delta"
    );
    for (name, sklearn) in &reference {
        let report = eval(&dir.join(format!("{name}.csv")));
        let ours = report["roc_auc"].as_f64().expect("roc_auc");
        assert_eq!(
            report["roc_auc_per_seed"].as_array().map(Vec::len),
            Some(SEEDS as usize)
        );
        let five = shipped
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN);
        eprintln!(
            "{name:<12}  {ours:.4}     {sklearn:.4}       {:+.4}  | {five:.4}               {:+.4}",
            ours - sklearn,
            ours - five
        );
        if (ours - sklearn).abs() > TOLERANCE {
            failures.push(format!(
                "{name}: ours {ours:.4} vs scikit-learn {sklearn:.4}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "ROC-AUC differs from scikit-learn by more than {TOLERANCE}: {failures:?}"
    );
}

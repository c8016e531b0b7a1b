//! `ml-anomaly train | score | explain | drift` as a user runs them: a model file in both forms,
//! one JSON line per row, explanations that add up, and clear one-line errors with a non-zero
//! exit code (never a panic) for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ml-anomaly"))
        .args(args)
        .output()
        .expect("run ml-anomaly")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

/// A failure with exactly one `error: ...` line mentioning `needle`, and no panic.
fn fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected a failure, got success");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "{stderr}"
    );
}

/// 600 rows of 4 correlated columns plus a label column (the last 20 rows far out).
fn write_csv(dir: &Path) -> PathBuf {
    let mut text = String::from("a,b,c,d,label\n");
    for i in 0..600u32 {
        let t = f64::from(i % 97) / 97.0;
        let u = f64::from((i * 37) % 101) / 101.0;
        let far = i >= 580;
        let shift = if far { 8.0 } else { 0.0 };
        text += &format!(
            "{},{},{},{},{}\n",
            t + shift,
            2.0 * t + u,
            u - t,
            t * u + shift,
            u8::from(far)
        );
    }
    let path = dir.join("data.csv");
    std::fs::write(&path, text).expect("write csv");
    path
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn train_score_explain_drift_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = write_csv(dir.path());
    for model in [dir.path().join("m.bin"), dir.path().join("m.json")] {
        let summary: serde_json::Value = serde_json::from_str(&ok(&cli(&[
            "train",
            "--input",
            s(&data),
            "--label-column",
            "label",
            "--out",
            s(&model),
            "--epochs",
            "5",
            "--seed",
            "3",
        ])))
        .expect("json");
        assert_eq!(summary["rows"], 600);
        assert_eq!(summary["features"], 4);

        let lines: Vec<serde_json::Value> = ok(&cli(&[
            "score",
            "--model",
            s(&model),
            "--input",
            s(&data),
            "--label-column",
            "label",
        ]))
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
        assert_eq!(lines.len(), 600);
        let composite = |i: usize| lines[i]["scores"]["composite"].as_f64().expect("composite");
        let far: f64 = (580..600).map(composite).sum::<f64>() / 20.0;
        let near: f64 = (0..580).map(composite).sum::<f64>() / 580.0;
        assert!(far > near + 0.2, "far rows {far} vs the rest {near}");

        for exact in [false, true] {
            let mut args = vec![
                "explain",
                "--model",
                s(&model),
                "--input",
                s(&data),
                "--label-column",
                "label",
                "--rows",
                "3,590",
                "--full",
            ];
            if exact {
                args.push("--exact");
            }
            let out = ok(&cli(&args));
            let rows: Vec<serde_json::Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).expect("json"))
                .collect();
            assert_eq!(rows.len(), 2);
            for r in &rows {
                let a = &r["attribution"];
                let sum: f64 = a["contributions"]
                    .as_array()
                    .expect("array")
                    .iter()
                    .map(|v| v.as_f64().expect("f64"))
                    .sum();
                let gap = a["baseValue"].as_f64().expect("base") + sum
                    - r["scores"]["composite"].as_f64().expect("composite");
                assert!(gap.abs() < 1e-9, "contributions do not add up: {gap}");
                assert_eq!(
                    r["explanation"]["method"],
                    if exact { "exact" } else { "fast" }
                );
            }
            let top = &rows[1]["explanation"]["topFeatures"][0]["feature"];
            assert!(
                top == "a" || top == "d",
                "the shifted columns explain row 590, got {top}"
            );
        }
    }

    // Drift: the model's own reference against the first 300 rows (unchanged) and a shifted copy.
    let model = dir.path().join("m.bin");
    let same = dir.path().join("same.csv");
    let text = std::fs::read_to_string(&data).expect("read");
    std::fs::write(&same, text.lines().take(301).collect::<Vec<_>>().join("\n")).expect("write");
    let report: serde_json::Value = serde_json::from_str(&ok(&cli(&[
        "drift",
        "--model",
        s(&model),
        "--current",
        s(&same),
        "--label-column",
        "label",
    ])))
    .expect("json");
    assert_eq!(report["isDrifting"], false, "{report}");
    let shifted = dir.path().join("shifted.csv");
    let moved: Vec<String> = text
        .lines()
        .enumerate()
        .take(301)
        .map(|(i, l)| {
            if i == 0 {
                return l.to_string();
            }
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            let b: f64 = cells[1].parse().expect("number");
            cells[1] = (b * 3.0 + 2.0).to_string();
            cells.join(",")
        })
        .collect();
    std::fs::write(&shifted, moved.join("\n")).expect("write");
    let report: serde_json::Value = serde_json::from_str(&ok(&cli(&[
        "drift",
        "--reference",
        s(&data),
        "--current",
        s(&shifted),
        "--label-column",
        "label",
    ])))
    .expect("json");
    assert_eq!(report["isDrifting"], true, "{report}");
    assert_eq!(report["topDrifted"][0]["name"], "b");
}

#[test]
fn bad_input_is_one_clear_line_and_exit_code_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = write_csv(dir.path());
    let model = dir.path().join("m.bin");
    ok(&cli(&[
        "train",
        "--input",
        s(&data),
        "--label-column",
        "label",
        "--out",
        s(&model),
        "--epochs",
        "2",
    ]));

    fails_with(
        &cli(&[
            "score",
            "--model",
            "/nonexistent/m.bin",
            "--input",
            s(&data),
        ]),
        "No such file",
    );
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"MLAB\x01\x00\x00\x00garbage").expect("write");
    fails_with(
        &cli(&["score", "--model", s(&junk), "--input", s(&data)]),
        "malformed binary bundle",
    );
    std::fs::write(&junk, b"PK\x03\x04 not a model").expect("write");
    fails_with(
        &cli(&["score", "--model", s(&junk), "--input", s(&data)]),
        "not a model bundle",
    );

    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b,c,d\n1,2,3,4\n1,2,3\n").expect("write");
    fails_with(
        &cli(&["score", "--model", s(&model), "--input", s(&ragged)]),
        "line 3",
    );
    let text = dir.path().join("text.csv");
    std::fs::write(&text, "a,b,c,d\n1,2,x,4\n").expect("write");
    fails_with(
        &cli(&["score", "--model", s(&model), "--input", s(&text)]),
        "column `c`: expected a number, got `x`",
    );
    // Wrong width for this model: the label column kept as a fifth feature.
    fails_with(
        &cli(&["score", "--model", s(&model), "--input", s(&data)]),
        "expected 4 features, got 5",
    );
    fails_with(
        &cli(&["train", "--input", s(&ragged), "--out", s(&model)]),
        "line 3",
    );
    let tiny = dir.path().join("tiny.csv");
    std::fs::write(&tiny, "a,b\n1,2\n3,4\n").expect("write");
    fails_with(
        &cli(&["train", "--input", s(&tiny), "--out", s(&model)]),
        "not enough data",
    );
    fails_with(
        &cli(&["drift", "--model", s(&model), "--current", s(&tiny)]),
        "feature columns",
    );
}

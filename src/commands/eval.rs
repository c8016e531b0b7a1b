//! `ml-anomaly eval`: how well does the Isolation Forest alone rank known anomalies?
//!
//! The ADBench protocol for unsupervised detectors: fit on all rows without their labels, score
//! the same rows, report ROC-AUC against the labels. Isolation Forest is randomised, so one run
//! says little: the forest is fitted once per seed `0..K` and the mean, the population standard
//! deviation (numpy's default, as in the scikit-learn reference figures) and every seed's value
//! are reported, with the median fit and scoring times. Output: one JSON object on stdout.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anomaly_core::forest::{ForestParams, IsolationForest, MaxDepth};
use anomaly_core::metrics::roc_auc;
use serde::Serialize;

use crate::data;
use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Labeled data file: CSV with a header (or JSON Lines), one row per sample.
    #[arg(long = "csv", value_name = "FILE")]
    pub csv: PathBuf,
    /// Column holding the labels (1 = anomaly, 0 = normal); it is not used for fitting.
    #[arg(long, value_name = "NAME", default_value = "label")]
    pub label_column: String,
    /// Number of trees.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub trees: usize,
    /// Rows drawn (without replacement) per tree; capped at the row count.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub sample_size: usize,
    /// Depth limit: a number, or `auto` for ceil(log2(sample size)) as scikit-learn.
    #[arg(long, value_name = "N|auto", default_value = "auto", value_parser = parse_max_depth)]
    pub max_depth: MaxDepth,
    /// Fit once per seed 0..K and average.
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub seeds: u64,
}

fn parse_max_depth(text: &str) -> Result<MaxDepth, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(MaxDepth::Auto);
    }
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(MaxDepth::Limit(n)),
        _ => Err(format!(
            "expected `auto` or a positive integer, got `{text}`"
        )),
    }
}

/// The report printed by `eval`.
#[derive(Debug, Serialize)]
pub struct EvalReport {
    pub dataset: String,
    pub rows: usize,
    pub features: usize,
    pub anomaly_fraction: f64,
    pub trees: usize,
    /// Rows per tree actually used: min(--sample-size, rows).
    pub sample_size: usize,
    pub max_depth: MaxDepth,
    /// The depth limit `max_depth` resolves to.
    pub depth_limit: usize,
    pub seeds: u64,
    pub roc_auc: f64,
    pub roc_auc_std: f64,
    pub roc_auc_per_seed: Vec<f64>,
    /// Median over seeds, milliseconds (training uses every core with rayon).
    pub fit_ms: f64,
    /// Median over seeds of scoring all rows, milliseconds.
    pub score_ms: f64,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let report = evaluate(&args)?;
    let json = serde_json::to_string(&report)
        .map_err(|e| CliError::Usage(format!("cannot encode the report: {e}")))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| CliError::io("<stdout>", e))
}

/// Loads the data set and runs the seeds; the work behind `run`.
pub fn evaluate(args: &Args) -> Result<EvalReport, CliError> {
    if args.seeds == 0 {
        return Err(CliError::Usage("--seeds must be at least 1".into()));
    }
    let params = ForestParams {
        n_trees: args.trees,
        sample_size: args.sample_size,
        max_depth: args.max_depth,
    };
    params.validate()?;
    let dataset = data::load(&args.csv, Some(&args.label_column))?;
    let labels = dataset.labels.as_deref().unwrap_or_default();
    let anomalies = labels.iter().filter(|&&l| l).count();
    if anomalies == 0 || anomalies == labels.len() {
        let which = if anomalies == 0 {
            "no anomalies (label 1)"
        } else {
            "only anomalies (label 1)"
        };
        return Err(CliError::data(
            &args.csv,
            format!(
                "labels in `{}` contain {which}: ROC-AUC needs both classes",
                args.label_column
            ),
        ));
    }

    let mut aucs = Vec::with_capacity(args.seeds as usize);
    let mut fit_ms = Vec::with_capacity(args.seeds as usize);
    let mut score_ms = Vec::with_capacity(args.seeds as usize);
    let mut forest = None;
    for seed in 0..args.seeds {
        let start = Instant::now();
        let model = IsolationForest::fit(dataset.rows.view(), &params, seed)?;
        fit_ms.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let scores = model.score_batch(dataset.rows.view());
        score_ms.push(start.elapsed().as_secs_f64() * 1e3);
        let auc = roc_auc(&scores, labels).ok_or_else(|| {
            CliError::Usage("ROC-AUC undefined: scores and labels disagree in length".into())
        })?;
        aucs.push(auc);
        forest = Some(model);
    }
    let (sample_size, depth_limit) = forest
        .map(|f| (f.sample_size(), f.depth_limit()))
        .unwrap_or_default();
    let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    let std = (aucs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / aucs.len() as f64).sqrt();
    Ok(EvalReport {
        dataset: args
            .csv
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        rows: dataset.rows.nrows(),
        features: dataset.rows.ncols(),
        anomaly_fraction: anomalies as f64 / labels.len() as f64,
        trees: args.trees,
        sample_size,
        max_depth: args.max_depth,
        depth_limit,
        seeds: args.seeds,
        roc_auc: mean,
        roc_auc_std: std,
        roc_auc_per_seed: aucs,
        fit_ms: median(&mut fit_ms),
        score_ms: median(&mut score_ms),
    })
}

/// numpy's median: the middle value, or the mean of the two middle values.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(path: PathBuf, seeds: u64) -> Args {
        Args {
            csv: path,
            label_column: "label".into(),
            trees: 50,
            sample_size: 64,
            max_depth: MaxDepth::Auto,
            seeds,
        }
    }

    fn write(name: &str, contents: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("ml-anomaly-eval-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn separable_data_scores_near_one() {
        // 200 points on a grid near the origin, 5 far away labeled anomalous
        let mut csv = String::from("a,b,label\n");
        for i in 0..200 {
            csv += &format!("{},{},0\n", (i % 20) as f64 * 0.1, (i / 20) as f64 * 0.1);
        }
        for i in 0..5 {
            csv += &format!("{},{},1\n", 30.0 + i as f64, -25.0);
        }
        let path = write("sep.csv", &csv);
        let report = evaluate(&args(path.clone(), 3)).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(report.rows, 205);
        assert_eq!(report.features, 2);
        assert_eq!(report.sample_size, 64);
        assert_eq!(report.depth_limit, 6);
        assert_eq!(report.roc_auc_per_seed.len(), 3);
        assert!(report.roc_auc > 0.99, "{report:?}");
        assert!((report.anomaly_fraction - 5.0 / 205.0).abs() < 1e-12);
        let mean = report.roc_auc_per_seed.iter().sum::<f64>() / 3.0;
        assert!((mean - report.roc_auc).abs() < 1e-12);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["max_depth"], "auto");
        assert_eq!(
            json["dataset"],
            format!("ml-anomaly-eval-{}-sep", std::process::id())
        );
    }

    #[test]
    fn one_class_labels_are_an_error() {
        let path = write("oneclass.csv", "a,label\n1,0\n2,0\n3,0\n");
        let err = evaluate(&args(path.clone(), 1)).unwrap_err().to_string();
        assert!(err.contains("no anomalies"), "{err}");
        std::fs::write(&path, "a,label\n1,1\n2,1\n").unwrap();
        let err = evaluate(&args(path.clone(), 1)).unwrap_err().to_string();
        std::fs::remove_file(&path).ok();
        assert!(err.contains("only anomalies"), "{err}");
    }

    #[test]
    fn bad_arguments() {
        let path = write("args.csv", "a,label\n1,0\n2,1\n");
        assert!(matches!(
            evaluate(&args(path.clone(), 0)),
            Err(CliError::Usage(_))
        ));
        let mut a = args(path.clone(), 1);
        a.trees = 0;
        assert!(matches!(evaluate(&a), Err(CliError::Core(_))));
        std::fs::remove_file(&path).ok();
        assert_eq!(parse_max_depth("AUTO"), Ok(MaxDepth::Auto));
        assert_eq!(parse_max_depth("9"), Ok(MaxDepth::Limit(9)));
        assert!(parse_max_depth("0").is_err());
        assert!(parse_max_depth("deep").is_err());
    }

    #[test]
    fn median_like_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

//! `ml-anomaly explain`: scores with their explanation, fast or exact.

use std::path::PathBuf;

use anomaly_core::explain::AttributionMethod;
use serde_json::json;

use crate::error::CliError;
use crate::{data, model_file};

#[derive(clap::Args)]
pub struct Args {
    /// The model bundle (binary or JSON).
    #[arg(long)]
    model: PathBuf,
    /// Feature vectors: CSV with a header, or JSON Lines.
    #[arg(long)]
    input: PathBuf,
    /// A label column to ignore.
    #[arg(long)]
    label_column: Option<String>,
    /// Only these rows (0-based, comma separated); all rows by default.
    #[arg(long, value_delimiter = ',')]
    rows: Vec<usize>,
    /// Exact TreeSHAP for the forest instead of the fast path attribution.
    #[arg(long)]
    exact: bool,
    /// Number of top features.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Also print every feature's contribution (the full attribution).
    #[arg(long)]
    full: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let bundle = model_file::read(&args.model)?;
    let dataset = data::load(&args.input, args.label_column.as_deref())?;
    let n = dataset.rows.nrows();
    if let Some(bad) = args.rows.iter().find(|&&r| r >= n) {
        return Err(CliError::Usage(format!(
            "row {bad} does not exist: {} has {n} rows",
            args.input.display()
        )));
    }
    let rows: Vec<usize> = if args.rows.is_empty() {
        (0..n).collect()
    } else {
        args.rows.clone()
    };
    let method = if args.exact {
        AttributionMethod::Exact
    } else {
        AttributionMethod::Fast
    };
    let mut ws = bundle.workspace();
    for row in rows {
        let x = dataset.rows.row(row).to_vec();
        let fail =
            |e: anomaly_core::CoreError| CliError::data(&args.input, format!("row {row}: {e}"));
        let prediction = bundle
            .predict_with(&x, method, args.top, &mut ws)
            .map_err(fail)?;
        let mut line = json!({ "row": row, "scores": prediction.scores, "explanation": prediction.explanation });
        if args.full {
            line["attribution"] =
                serde_json::to_value(bundle.attribution(&x, method).map_err(fail)?)
                    .unwrap_or(serde_json::Value::Null);
        }
        model_file::print_json_line(&line);
    }
    Ok(())
}

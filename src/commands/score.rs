//! `ml-anomaly score`: one JSON line of scores per input row.

use std::path::PathBuf;

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
}

pub fn run(args: Args) -> Result<(), CliError> {
    let bundle = model_file::read(&args.model)?;
    let dataset = data::load(&args.input, args.label_column.as_deref())?;
    let scores = bundle
        .score_batch(dataset.rows.view())
        .map_err(|e| CliError::data(&args.input, e.to_string()))?;
    for (row, s) in scores.iter().enumerate() {
        model_file::print_json_line(&json!({ "row": row, "scores": s }));
    }
    Ok(())
}

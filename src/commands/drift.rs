//! `ml-anomaly drift`: how far a current feature file has moved from a reference one.
//!
//! With `--model`, the model's own drift reference (captured at training) is the reference and
//! `--reference` is not needed; otherwise a model is trained on the reference file (seeded) and
//! the current file is compared against it.

use std::path::PathBuf;

use anomaly_core::bundle::{ModelBundle, TrainConfig};
use anomaly_core::drift;

use crate::error::CliError;
use crate::{data, model_file};

#[derive(clap::Args)]
pub struct Args {
    /// Reference feature vectors (CSV or JSON Lines).
    #[arg(long, required_unless_present = "model")]
    reference: Option<PathBuf>,
    /// Current feature vectors (CSV or JSON Lines).
    #[arg(long)]
    current: PathBuf,
    /// A trained model whose drift reference to use instead of `--reference`.
    #[arg(long)]
    model: Option<PathBuf>,
    /// A label column to ignore in both files.
    #[arg(long)]
    label_column: Option<String>,
    /// Seed of the model trained on the reference.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let bundle = match (&args.model, &args.reference) {
        (Some(model), _) => model_file::read(model)?,
        (None, Some(reference)) => {
            let dataset = data::load(reference, args.label_column.as_deref())?;
            let config = TrainConfig {
                feature_names: Some(dataset.names.clone()),
                ..TrainConfig::default()
            };
            ModelBundle::train(dataset.rows.view(), &config, args.seed)
                .map_err(|e| CliError::data(reference, e.to_string()))?
        }
        (None, None) => return Err(CliError::Usage("give --reference or --model".into())),
    };
    let current = data::load(&args.current, args.label_column.as_deref())?;
    if current.names.len() != bundle.n_features() {
        return Err(CliError::data(
            &args.current,
            format!(
                "has {} feature columns, the reference has {}",
                current.names.len(),
                bundle.n_features()
            ),
        ));
    }
    let scores: Vec<f64> = bundle
        .score_batch(current.rows.view())
        .map_err(|e| CliError::data(&args.current, e.to_string()))?
        .iter()
        .map(|s| s.composite)
        .collect();
    let report = drift::assess(
        &bundle.drift_reference,
        current.rows.view(),
        &scores,
        &bundle.feature_names,
        &bundle.drift_config,
    )
    .map_err(|e| CliError::data(&args.current, e.to_string()))?;
    model_file::print_json_line(&report);
    Ok(())
}

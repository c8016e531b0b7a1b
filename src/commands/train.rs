//! `ml-anomaly train`: feature vectors in, model bundle out.

use std::path::PathBuf;
use std::time::Instant;

use anomaly_core::bundle::{ModelBundle, TrainConfig};
use serde_json::json;

use crate::error::CliError;
use crate::{data, model_file};

#[derive(clap::Args)]
pub struct Args {
    /// Feature vectors: CSV with a header, or JSON Lines.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the model: `.json` for JSON, anything else for the binary form.
    #[arg(long)]
    out: PathBuf,
    /// A label column to drop before training (it is not a feature).
    #[arg(long)]
    label_column: Option<String>,
    /// Training configuration as JSON (camelCase fields of `TrainConfig`); flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of trees.
    #[arg(long)]
    trees: Option<usize>,
    /// Autoencoder epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Expected fraction of anomalies: sets the alarm rate.
    #[arg(long)]
    contamination: Option<f64>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let dataset = data::load(&args.input, args.label_column.as_deref())?;
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
            serde_json::from_str::<TrainConfig>(&text)
                .map_err(|e| CliError::data(path, e.to_string()))?
        }
        None => TrainConfig::default(),
    };
    if let Some(trees) = args.trees {
        config.isolation_forest.n_trees = trees;
    }
    if let Some(epochs) = args.epochs {
        config.autoencoder.epochs = epochs;
    }
    if let Some(c) = args.contamination {
        config.contamination = c;
    }
    if dataset.names.len() != anomaly_core::N_FEATURES || config.feature_names.is_some() {
        config.feature_names.get_or_insert(dataset.names.clone());
    }
    let started = Instant::now();
    let mut bundle = ModelBundle::train(dataset.rows.view(), &config, args.seed)?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    bundle.training.training_duration_ms = Some(elapsed_ms);
    let bytes = model_file::write(&args.out, &bundle)?;
    model_file::print_json_line(&json!({
        "model": args.out,
        "bytes": bytes,
        "rows": bundle.training.training_size,
        "features": bundle.n_features(),
        "seed": args.seed,
        "trainingMs": elapsed_ms,
        "autoencoderEpochs": bundle.training.autoencoder_epochs_run,
        "trainingAlarmRate": bundle.training.training_alarm_rate,
        "contamination": bundle.training.contamination,
    }));
    Ok(())
}

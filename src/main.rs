//! `ml-anomaly`: the command line of the behavioral anomaly detector.
//!
//! Every subcommand reads plain files (CSV or JSON Lines), writes JSON to stdout and reports
//! errors as one line on stderr with a non-zero exit code; it never panics on user input.

mod commands;
mod data;
mod error;
mod model_file;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ml-anomaly",
    version,
    about = "Behavioral anomaly detection: train, score, explain, drift, evaluate, simulate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model bundle from feature vectors (CSV or JSON Lines).
    Train(commands::train::Args),
    /// Score feature vectors with a model bundle.
    Score(commands::score::Args),
    /// Explain the scores of feature vectors (exact TreeSHAP or the fast attribution).
    Explain(commands::explain::Args),
    /// Compare two feature files for drift (PSI, KS, distribution, score).
    Drift(commands::drift::Args),
    /// Fit the Isolation Forest on a labeled CSV without its labels and report ROC-AUC.
    Eval(commands::eval::Args),
    /// Generate seeded, labeled ExpenseFlow-like traffic as JSON Lines events.
    Simulate(commands::simulate::Args),
    /// Simulate traffic, train on the normal prefix, score the rest: ROC-AUC and detection per scenario.
    Quality(commands::quality::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Score(args) => commands::score::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Drift(args) => commands::drift::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Simulate(args) => commands::simulate::run(args),
        Command::Quality(args) => commands::quality::run(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}

//! `ml-anomaly simulate`: seeded, labeled ExpenseFlow-like traffic as JSON Lines.
//!
//! One `{"event": {...}, "label": {...}}` object per line (camelCase, the `RequestEvent` the
//! Node layer would build and its ground truth), sorted by timestamp. The same arguments give
//! the same bytes. A one-line summary (counts per scenario) goes to stderr so that stdout can be
//! piped.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anomaly_core::simulate::{simulate, summarize, LabeledEvent, SimConfig};

use crate::error::CliError;

#[derive(clap::Args, Clone, Debug)]
pub struct SimArgs {
    /// Number of users.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub users: usize,
    /// Days of traffic.
    #[arg(long, value_name = "D", default_value_t = 14)]
    pub days: u32,
    /// Leading days of normal traffic only (the training prefix).
    #[arg(long, value_name = "D", default_value_t = 7)]
    pub warmup_days: u32,
    /// Attack instances per scenario, spread over the days after the warm-up.
    #[arg(long, value_name = "K", default_value_t = 6)]
    pub attacks_per_scenario: usize,
    /// Random seed.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Start of day 0 in ms since the epoch (default 2024-01-01T00:00:00Z, a Monday).
    #[arg(long, value_name = "MS", default_value_t = 1_704_067_200_000)]
    pub start_ms: i64,
}

impl SimArgs {
    pub fn config(&self) -> SimConfig {
        SimConfig {
            users: self.users,
            days: self.days,
            warmup_days: self.warmup_days,
            start_ms: self.start_ms,
            attacks_per_scenario: self.attacks_per_scenario,
            seed: self.seed,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Output file, or `-` for stdout.
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub out: String,
}

/// Writes `events` as JSON Lines.
pub fn write_jsonl(events: &[LabeledEvent], out: &mut dyn Write) -> std::io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *out, e).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

pub fn run(args: Args) -> Result<(), CliError> {
    let events = simulate(&args.sim.config())?;
    let summary = summarize(&events);
    let (path, result) = if args.out == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        ("<stdout>".to_string(), write_jsonl(&events, &mut out))
    } else {
        let file = File::create(&args.out).map_err(|e| CliError::io(&args.out, e))?;
        let mut out = BufWriter::new(file);
        (args.out.clone(), write_jsonl(&events, &mut out))
    };
    result.map_err(|e| CliError::io(PathBuf::from(path), e))?;
    let line = serde_json::to_string(&summary)
        .map_err(|e| CliError::Usage(format!("cannot encode the summary: {e}")))?;
    eprintln!("{line}");
    Ok(())
}

//! `ml-anomaly quality` (in progress).

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::Usage("`quality` is being built".into()))
}

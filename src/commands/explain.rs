//! `ml-anomaly explain` (in progress).

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::Usage("`explain` is being built".into()))
}

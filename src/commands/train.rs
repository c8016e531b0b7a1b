//! `ml-anomaly train` (in progress).

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::Usage("`train` is being built".into()))
}

//! `ml-anomaly drift` (in progress).

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::Usage("`drift` is being built".into()))
}

//! One module per subcommand: its arguments (`Args`) and its `run`.

pub mod decisions;
pub mod drift;
pub mod eval;
pub mod explain;
pub mod quality;
pub mod score;
pub mod simulate;
pub mod train;

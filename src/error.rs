//! Errors of the command-line tool: each becomes one line on stderr and a non-zero exit code.

use std::path::PathBuf;

use anomaly_core::CoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Input data was malformed (ragged rows, non-numeric cells, missing columns...).
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },

    /// The arguments were inconsistent in a way clap cannot check.
    #[error("{0}")]
    Usage(String),

    /// The core library refused the input.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl CliError {
    /// Exit code: 2 for usage errors (as clap does), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }

    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        CliError::Data {
            path: path.into(),
            message: message.into(),
        }
    }
}

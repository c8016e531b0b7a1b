//! Reading and writing model bundles: binary unless the file name ends in `.json`; reading
//! recognises either form by its first bytes.

use std::path::Path;

use anomaly_core::bundle::{ModelBundle, BINARY_MAGIC};

use crate::error::CliError;

pub fn read(path: &Path) -> Result<ModelBundle, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    let looks_like_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let bundle = if bytes.starts_with(&BINARY_MAGIC) {
        ModelBundle::from_bytes(&bytes)
    } else if !looks_like_json {
        return Err(CliError::data(
            path,
            "not a model bundle: neither the binary form (starting with MLAB) nor JSON",
        ));
    } else {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::data(path, "neither a binary model bundle nor UTF-8 JSON"))?;
        ModelBundle::from_json(text)
    };
    bundle.map_err(|e| CliError::data(path, e.to_string()))
}

/// Writes the bundle; returns the number of bytes written.
pub fn write(path: &Path, bundle: &ModelBundle) -> Result<usize, CliError> {
    let bytes = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        bundle.to_json().into_bytes()
    } else {
        bundle.to_bytes()
    };
    std::fs::write(path, &bytes).map_err(|e| CliError::io(path, e))?;
    Ok(bytes.len())
}

/// Prints one JSON value per line on stdout.
pub fn print_json_line(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("error: could not encode output: {e}"),
    }
}

//! JSON and binary encodings of a [`ModelBundle`], both validated on load.
//!
//! Schema 2 added the decision layer. Schema 1 bundles (the models stores hold from before)
//! still load, as bundles without one: JSON by the field's default; binary, which postcard lays
//! out field by field with no names, through [`SchemaV1`], the old layout.

use serde::Deserialize;

use super::{ModelBundle, OLDEST_SCHEMA_VERSION, SCHEMA_VERSION};
use crate::autoencoder::Autoencoder;
use crate::calibration::{Calibration, CalibrationConfig};
use crate::drift::{DriftConfig, DriftReference};
use crate::ensemble::EnsembleConfig;
use crate::error::{CoreError, Result};
use crate::forest::IsolationForest;
use crate::scaler::RobustScaler;

/// The `format` field of every bundle.
pub const FORMAT_NAME: &str = "ml-anomaly-model";

/// First bytes of the binary form.
pub const BINARY_MAGIC: [u8; 4] = *b"MLAB";

/// The part of a JSON bundle read before anything else, to reject foreign or future files with a
/// precise message instead of a decoding error about some field deep inside.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    format: Option<String>,
    schema_version: Option<u32>,
}

impl ModelBundle {
    /// The JSON form (compact).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| unreachable!("a bundle always serialises: {e}"))
    }

    /// The JSON form, indented.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| unreachable!("a bundle always serialises: {e}"))
    }

    /// Reads and validates the JSON form.
    pub fn from_json(text: &str) -> Result<Self> {
        let header: Header = serde_json::from_str(text)
            .map_err(|e| CoreError::InvalidBundle(format!("not a JSON model bundle: {e}")))?;
        match (header.format.as_deref(), header.schema_version) {
            (Some(FORMAT_NAME), Some(v))
                if (OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&v) => {}
            (Some(FORMAT_NAME), Some(found)) => {
                return Err(CoreError::UnsupportedSchema {
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
            (Some(FORMAT_NAME), None) => {
                return Err(CoreError::InvalidBundle("schemaVersion is missing".into()))
            }
            (other, _) => {
                return Err(CoreError::InvalidBundle(format!(
                    "not a model bundle: format is {other:?}, expected {FORMAT_NAME:?}"
                )))
            }
        }
        let bundle: ModelBundle = serde_json::from_str(text)
            .map_err(|e| CoreError::InvalidBundle(format!("malformed bundle: {e}")))?;
        bundle.validate()?;
        Ok(bundle)
    }

    /// The binary form: magic, schema version (u32 LE), postcard payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = postcard::to_allocvec(self)
            .unwrap_or_else(|e| unreachable!("a bundle always serialises: {e}"));
        let mut out = Vec::with_capacity(8 + payload.len());
        out.extend_from_slice(&BINARY_MAGIC);
        out.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Reads and validates the binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 8 || bytes[..4] != BINARY_MAGIC {
            return Err(CoreError::InvalidBundle(
                "not a binary model bundle (bad magic)".into(),
            ));
        }
        let found = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let malformed =
            |e: postcard::Error| CoreError::InvalidBundle(format!("malformed binary bundle: {e}"));
        let (bundle, rest): (ModelBundle, &[u8]) = match found {
            SCHEMA_VERSION => postcard::take_from_bytes(&bytes[8..]).map_err(malformed)?,
            1 => {
                let (old, rest): (SchemaV1, &[u8]) =
                    postcard::take_from_bytes(&bytes[8..]).map_err(malformed)?;
                (old.into(), rest)
            }
            _ => {
                return Err(CoreError::UnsupportedSchema {
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
        };
        if !rest.is_empty() {
            return Err(CoreError::InvalidBundle(format!(
                "{} unexpected bytes after the bundle",
                rest.len()
            )));
        }
        bundle.validate()?;
        Ok(bundle)
    }
}

/// The binary layout of schema 1: the fields of [`ModelBundle`] before the decision layer, in
/// their order. Read only.
#[derive(Deserialize)]
struct SchemaV1 {
    format: String,
    schema_version: u32,
    feature_names: Vec<String>,
    scaler: RobustScaler,
    isolation_forest: IsolationForest,
    autoencoder: Autoencoder,
    calibration: Calibration,
    ensemble: EnsembleConfig,
    baseline: super::Baseline,
    training: super::TrainingMetrics,
    drift_reference: DriftReference,
    drift_config: DriftConfig,
    calibration_config: CalibrationConfig,
}

impl From<SchemaV1> for ModelBundle {
    fn from(v: SchemaV1) -> ModelBundle {
        ModelBundle {
            format: v.format,
            schema_version: v.schema_version,
            feature_names: v.feature_names,
            scaler: v.scaler,
            isolation_forest: v.isolation_forest,
            autoencoder: v.autoencoder,
            calibration: v.calibration,
            ensemble: v.ensemble,
            baseline: v.baseline,
            training: v.training,
            drift_reference: v.drift_reference,
            drift_config: v.drift_config,
            calibration_config: v.calibration_config,
            decision: None,
        }
    }
}

//! The binary form of feature vectors in the store: 59 little-endian `f64`s, bit-exact.

use anomaly_core::N_FEATURES;

use crate::error::{EngineError, Result};

/// Encodes a feature vector as little-endian `f64`s.
pub(crate) fn encode_features(x: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() * 8);
    for v in x {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes a stored feature vector; anything but 59 `f64`s is corruption.
pub(crate) fn decode_features(bytes: &[u8]) -> Result<Vec<f64>> {
    if bytes.len() != N_FEATURES * 8 {
        return Err(EngineError::Store(format!(
            "corrupt feature vector: {} bytes, expected {}",
            bytes.len(),
            N_FEATURES * 8
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_round_trip_bit_exactly() {
        let x: Vec<f64> = (0..N_FEATURES)
            .map(|i| (i as f64).sin() * 1e-300 + i as f64)
            .collect();
        assert_eq!(decode_features(&encode_features(&x)).unwrap(), x);
        assert!(decode_features(&[0u8; 10]).is_err());
    }
}

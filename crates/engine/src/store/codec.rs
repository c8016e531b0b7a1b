//! The binary form of feature vectors in the store: 59 little-endian `f64`s, bit-exact; a
//! prediction's and a training sample's vector adds its [`RowMeta`] after them (see
//! [`encode_sample`]). Why a trailer and not columns: the keys are only read back by feedback
//! and the training window, always with the vector, and older stores' rows stay readable.

use anomaly_core::decision::EntityKeys;
use anomaly_core::N_FEATURES;

use crate::error::{EngineError, Result};
use crate::window::RowMeta;

/// Bytes a training sample's meta adds after its features: a flag byte and four keys.
const META_BYTES: usize = 1 + 4 * 8;

/// A training sample: its features, then a flag byte (bit 0 quarantined, bit 1 a device key,
/// bit 2 a source key) and the session, user, device and source keys as little-endian `u64`s.
/// Samples written before rows had meta are the features alone.
pub(crate) fn encode_sample(x: &[f64], meta: &RowMeta) -> Vec<u8> {
    let mut out = encode_features(x);
    let k = &meta.keys;
    let flags = u8::from(meta.quarantined)
        | (u8::from(k.device.is_some()) << 1)
        | (u8::from(k.source.is_some()) << 2);
    out.push(flags);
    for v in [
        k.session,
        k.user,
        k.device.unwrap_or(0),
        k.source.unwrap_or(0),
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes [`encode_sample`]'s bytes (meta [`RowMeta::UNKNOWN`] for an older sample).
pub(crate) fn decode_sample(bytes: &[u8]) -> Result<(Vec<f64>, RowMeta)> {
    let n = N_FEATURES * 8;
    if bytes.len() == n {
        return Ok((decode_features(bytes)?, RowMeta::UNKNOWN));
    }
    if bytes.len() != n + META_BYTES {
        return Err(EngineError::Store(format!(
            "corrupt training sample: {} bytes, expected {n} or {}",
            bytes.len(),
            n + META_BYTES
        )));
    }
    let x = decode_features(&bytes[..n])?;
    let flags = bytes[n];
    let key = |i: usize| {
        let b = &bytes[n + 1 + 8 * i..n + 9 + 8 * i];
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    };
    let meta = RowMeta {
        keys: EntityKeys {
            session: key(0),
            user: key(1),
            device: (flags & 2 != 0).then(|| key(2)),
            source: (flags & 4 != 0).then(|| key(3)),
        },
        quarantined: flags & 1 != 0,
    };
    Ok((x, meta))
}

/// Leads a snapshot of several parts; a snapshot without it is a behavioral state alone
/// (written before the decision layer). A postcard `BehaviorState` starts with its
/// configuration's small varints, never with these bytes.
const SNAPSHOT_MAGIC: [u8; 8] = *b"\xffMLSNAP2";

/// The state snapshot: the behavioral state and the decision state, framed.
pub(crate) fn encode_snapshot(behavior: &[u8], decision: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + behavior.len() + decision.len());
    out.extend_from_slice(&SNAPSHOT_MAGIC);
    out.extend_from_slice(&(behavior.len() as u64).to_le_bytes());
    out.extend_from_slice(behavior);
    out.extend_from_slice(decision);
    out
}

/// The behavioral and (if present) decision parts of [`encode_snapshot`]'s bytes.
pub(crate) fn decode_snapshot(bytes: &[u8]) -> (&[u8], Option<&[u8]>) {
    let framed = bytes.len() >= 16 && bytes[..8] == SNAPSHOT_MAGIC;
    if !framed {
        return (bytes, None);
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[8..16]);
    let n = u64::from_le_bytes(n);
    match usize::try_from(n).ok().and_then(|n| 16usize.checked_add(n)) {
        Some(end) if end <= bytes.len() => (&bytes[16..end], Some(&bytes[end..])),
        // A damaged frame: both parts are unreadable garbage (the caller starts afresh).
        _ => (&bytes[16..], Some(&[])),
    }
}

/// Encodes a feature vector as little-endian `f64`s.
pub(crate) fn encode_features(x: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() * 8);
    for v in x {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes a stored feature vector (a meta trailer, if any, is ignored); anything but 59
/// `f64`s is corruption.
pub(crate) fn decode_features(bytes: &[u8]) -> Result<Vec<f64>> {
    let bytes = if bytes.len() == N_FEATURES * 8 + META_BYTES {
        &bytes[..N_FEATURES * 8]
    } else {
        bytes
    };
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
    fn snapshots_frame_two_parts_and_old_snapshots_are_the_behavior_alone() {
        let framed = encode_snapshot(b"behavior", b"decision");
        assert_eq!(
            decode_snapshot(&framed),
            (&b"behavior"[..], Some(&b"decision"[..]))
        );
        assert_eq!(
            decode_snapshot(&encode_snapshot(b"", b"")),
            (&b""[..], Some(&b""[..]))
        );
        assert_eq!(
            decode_snapshot(b"\x01\x02legacy"),
            (&b"\x01\x02legacy"[..], None)
        );
        let mut cut = framed.clone();
        cut.truncate(20);
        let (_, decision) = decode_snapshot(&cut);
        assert_eq!(
            decision,
            Some(&b""[..]),
            "a damaged frame is not read as a legacy snapshot"
        );
    }

    #[test]
    fn features_round_trip_bit_exactly() {
        let x: Vec<f64> = (0..N_FEATURES)
            .map(|i| (i as f64).sin() * 1e-300 + i as f64)
            .collect();
        assert_eq!(decode_features(&encode_features(&x)).unwrap(), x);
        assert!(decode_features(&[0u8; 10]).is_err());
    }

    #[test]
    fn samples_carry_their_meta_and_old_samples_still_read() {
        let x: Vec<f64> = (0..N_FEATURES).map(|i| i as f64 * 0.5).collect();
        let meta = RowMeta {
            keys: EntityKeys {
                session: 1,
                user: u64::MAX,
                device: None,
                source: Some(7),
            },
            quarantined: true,
        };
        assert_eq!(
            decode_sample(&encode_sample(&x, &meta)).unwrap(),
            (x.clone(), meta)
        );
        assert_eq!(
            decode_sample(&encode_features(&x)).unwrap(),
            (x.clone(), RowMeta::UNKNOWN)
        );
        let mut bad = encode_sample(&x, &meta);
        bad.pop();
        assert!(decode_sample(&bad).is_err());
    }
}

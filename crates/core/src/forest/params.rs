//! Training parameters of the Isolation Forest and their validation.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{CoreError, Result};

/// The largest accepted explicit depth limit. Isolation needs about `log2(psi)` levels, so
/// this is far beyond any useful tree; the bound keeps the recursive TreeSHAP walk's stack
/// small (a few hundred bytes per level) whatever a caller or a stored model asks for.
pub const MAX_DEPTH_LIMIT: usize = 256;

/// How deep a tree may grow.
///
/// `Auto` is scikit-learn's choice, `ceil(log2(psi))` for a subsample of `psi` rows: the average
/// depth of an unsuccessful search in a random binary tree of that size, below which only
/// "normal" points would be separated further. `Limit(n)` caps the depth at `n >= 1`.
///
/// In human-readable formats (JSON) it is the string `"auto"` or a number; in binary formats
/// (postcard) an `Option<u64>` (`None` = auto), because those cannot tell a string from a number
/// on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxDepth {
    Auto,
    Limit(usize),
}

impl MaxDepth {
    /// The depth limit used for a subsample of `psi` rows.
    pub fn resolve(self, psi: usize) -> usize {
        match self {
            MaxDepth::Limit(n) => n,
            MaxDepth::Auto => {
                // ceil(log2(max(psi, 2))) computed on integers: no float rounding at powers of two.
                let psi = psi.max(2);
                (usize::BITS - (psi - 1).leading_zeros()) as usize
            }
        }
    }
}

impl Serialize for MaxDepth {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            match *self {
                MaxDepth::Auto => serializer.serialize_str("auto"),
                MaxDepth::Limit(n) => serializer.serialize_u64(n as u64),
            }
        } else {
            let limit = match *self {
                MaxDepth::Auto => None,
                MaxDepth::Limit(n) => Some(n as u64),
            };
            limit.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for MaxDepth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(MaxDepthVisitor)
        } else {
            match Option::<u64>::deserialize(deserializer)? {
                None => Ok(MaxDepth::Auto),
                Some(n) => usize::try_from(n)
                    .map(MaxDepth::Limit)
                    .map_err(|_| de::Error::custom("max_depth does not fit this platform")),
            }
        }
    }
}

struct MaxDepthVisitor;

impl Visitor<'_> for MaxDepthVisitor {
    type Value = MaxDepth;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("\"auto\" or a non-negative integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<MaxDepth, E> {
        if v == "auto" {
            Ok(MaxDepth::Auto)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<MaxDepth, E> {
        usize::try_from(v)
            .map(MaxDepth::Limit)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<MaxDepth, E> {
        usize::try_from(v)
            .map(MaxDepth::Limit)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
}

/// Parameters of [`IsolationForest::fit`](super::IsolationForest::fit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForestParams {
    /// Number of isolation trees (scikit-learn's `n_estimators`).
    pub n_trees: usize,
    /// Rows drawn without replacement for each tree (`max_samples`); capped at the row count.
    pub sample_size: usize,
    /// Depth limit of each tree.
    pub max_depth: MaxDepth,
}

impl Default for ForestParams {
    /// 100 trees of 256 rows, at most 12 deep: deep enough that the isolation depth still
    /// separates moderately unusual requests (scikit-learn's `auto` would stop at 8).
    fn default() -> Self {
        ForestParams {
            n_trees: 100,
            sample_size: 256,
            max_depth: MaxDepth::Limit(12),
        }
    }
}

impl ForestParams {
    /// scikit-learn's defaults: 100 trees, 256 rows, `auto` depth.
    pub fn sklearn() -> Self {
        ForestParams {
            n_trees: 100,
            sample_size: 256,
            max_depth: MaxDepth::Auto,
        }
    }

    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<()> {
        if self.n_trees == 0 {
            return Err(invalid("n_trees", "must be at least 1".into()));
        }
        if self.sample_size < 2 {
            return Err(invalid(
                "sample_size",
                format!(
                    "must be at least 2 (a tree of one row isolates nothing), got {}",
                    self.sample_size
                ),
            ));
        }
        if let MaxDepth::Limit(n) = self.max_depth {
            if n == 0 || n > MAX_DEPTH_LIMIT {
                return Err(invalid(
                    "max_depth",
                    format!("must be \"auto\" or between 1 and {MAX_DEPTH_LIMIT}, got {n}"),
                ));
            }
        }
        Ok(())
    }
}

fn invalid(name: &'static str, reason: String) -> CoreError {
    CoreError::InvalidParameter { name, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_depth_is_ceil_log2() {
        // numpy: int(np.ceil(np.log2(max(n, 2))))
        for (psi, expected) in [
            (1, 1),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (255, 8),
            (256, 8),
            (257, 9),
            (683, 10),
        ] {
            assert_eq!(MaxDepth::Auto.resolve(psi), expected, "psi = {psi}");
        }
        assert_eq!(MaxDepth::Limit(12).resolve(256), 12);
    }

    #[test]
    fn json_uses_auto_string_or_number() {
        let p = ForestParams {
            n_trees: 3,
            sample_size: 64,
            max_depth: MaxDepth::Auto,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"nTrees":3,"sampleSize":64,"maxDepth":"auto"}"#);
        assert_eq!(serde_json::from_str::<ForestParams>(&json).unwrap(), p);
        let q: ForestParams =
            serde_json::from_str(r#"{"nTrees":3,"sampleSize":64,"maxDepth":7}"#).unwrap();
        assert_eq!(q.max_depth, MaxDepth::Limit(7));
        assert!(serde_json::from_str::<MaxDepth>(r#""deep""#).is_err());
        assert!(serde_json::from_str::<MaxDepth>("-3").is_err());
    }

    #[test]
    fn postcard_round_trip() {
        for d in [
            MaxDepth::Auto,
            MaxDepth::Limit(0),
            MaxDepth::Limit(12),
            MaxDepth::Limit(usize::MAX),
        ] {
            let bytes = postcard::to_allocvec(&d).unwrap();
            assert_eq!(postcard::from_bytes::<MaxDepth>(&bytes).unwrap(), d);
        }
    }

    #[test]
    fn validation_names_the_parameter() {
        assert!(ForestParams::default().validate().is_ok());
        assert!(ForestParams {
            max_depth: MaxDepth::Limit(MAX_DEPTH_LIMIT),
            ..ForestParams::default()
        }
        .validate()
        .is_ok());
        let bad = [
            (
                ForestParams {
                    n_trees: 0,
                    ..ForestParams::default()
                },
                "n_trees",
            ),
            (
                ForestParams {
                    sample_size: 1,
                    ..ForestParams::default()
                },
                "sample_size",
            ),
            (
                ForestParams {
                    max_depth: MaxDepth::Limit(0),
                    ..ForestParams::default()
                },
                "max_depth",
            ),
            (
                ForestParams {
                    max_depth: MaxDepth::Limit(MAX_DEPTH_LIMIT + 1),
                    ..ForestParams::default()
                },
                "max_depth",
            ),
        ];
        for (p, name) in bad {
            match p.validate() {
                Err(CoreError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}

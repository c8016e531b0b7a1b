//! The 59 feature names, in the order ExpenseFlow stores them.
//!
//! The order is part of the storage contract: prediction records written by the JavaScript
//! original keep their meaning when read next to ours. Groups and their sizes are fixed here too
//! so that documentation and code cannot disagree.

/// Number of behavioral features per request.
pub const N_FEATURES: usize = 59;

/// Feature names as stored, in order.
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    // Temporal (14)
    "request_rate_short",
    "request_rate_medium",
    "request_rate_long",
    "rate_accel_short",
    "rate_accel_medium",
    "time_since_last",
    "hour_sin",
    "hour_cos",
    "day_sin",
    "day_cos",
    "inter_arrival_mean",
    "inter_arrival_std",
    "inter_arrival_min",
    "inter_arrival_max",
    // Statistical (16)
    "signal_endpoint",
    "signal_cadence",
    "signal_geo",
    "signal_ua",
    "signal_priv",
    "risk_mean",
    "risk_std",
    "risk_min",
    "risk_max",
    "risk_median",
    "anomaly_rate",
    "anomaly_count",
    "severity_low",
    "severity_moderate",
    "severity_high",
    "severity_critical",
    // Distribution (7)
    "endpoint_diversity",
    "ip_diversity",
    "ua_diversity",
    "location_diversity",
    "signal_entropy",
    "burst_count",
    "hour_diversity",
    // Sequence (10)
    "bigram_count",
    "trigram_count",
    "most_common_bigram",
    "sequence_regularity",
    "risk_trend",
    "cyclic_score",
    "state_transitions",
    "predictability",
    "unusual_sequences",
    "session_age",
    // Context (6)
    "endpoint_sensitivity",
    "http_method",
    "request_size",
    "time_since_session_start",
    "is_weekend",
    "is_business_hours",
    // Graph (6)
    "recent_sessions",
    "concurrent_sessions",
    "avg_session_duration",
    "session_switch_rate",
    "device_diversity",
    "ip_diversity_week",
];

/// A named group of consecutive features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureGroup {
    pub name: &'static str,
    pub start: usize,
    pub len: usize,
}

/// The six groups, covering `FEATURE_NAMES` exactly once, in order.
pub const FEATURE_GROUPS: [FeatureGroup; 6] = [
    FeatureGroup { name: "temporal", start: 0, len: 14 },
    FeatureGroup { name: "statistical", start: 14, len: 16 },
    FeatureGroup { name: "distribution", start: 30, len: 7 },
    FeatureGroup { name: "sequence", start: 37, len: 10 },
    FeatureGroup { name: "context", start: 47, len: 6 },
    FeatureGroup { name: "graph", start: 53, len: 6 },
];

/// Index of a feature by its stored name.
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURE_NAMES.iter().position(|n| *n == name)
}

/// The feature names as owned strings (what a model bundle stores).
pub fn feature_names_owned() -> Vec<String> {
    FEATURE_NAMES.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cover_all_features_in_order() {
        let mut next = 0;
        for g in FEATURE_GROUPS {
            assert_eq!(g.start, next, "group {} starts where the previous ended", g.name);
            next += g.len;
        }
        assert_eq!(next, N_FEATURES);
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in FEATURE_NAMES.iter().enumerate() {
            assert_eq!(feature_index(a), Some(i), "{a} is unique");
        }
    }
}

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

/// Position of each feature in [`FEATURE_NAMES`], for code that writes or reads one by name
/// (a test checks every constant against the name list).
pub mod idx {
    pub const REQUEST_RATE_SHORT: usize = 0;
    pub const REQUEST_RATE_MEDIUM: usize = 1;
    pub const REQUEST_RATE_LONG: usize = 2;
    pub const RATE_ACCEL_SHORT: usize = 3;
    pub const RATE_ACCEL_MEDIUM: usize = 4;
    pub const TIME_SINCE_LAST: usize = 5;
    pub const HOUR_SIN: usize = 6;
    pub const HOUR_COS: usize = 7;
    pub const DAY_SIN: usize = 8;
    pub const DAY_COS: usize = 9;
    pub const INTER_ARRIVAL_MEAN: usize = 10;
    pub const INTER_ARRIVAL_STD: usize = 11;
    pub const INTER_ARRIVAL_MIN: usize = 12;
    pub const INTER_ARRIVAL_MAX: usize = 13;
    pub const SIGNAL_ENDPOINT: usize = 14;
    pub const SIGNAL_CADENCE: usize = 15;
    pub const SIGNAL_GEO: usize = 16;
    pub const SIGNAL_UA: usize = 17;
    pub const SIGNAL_PRIV: usize = 18;
    pub const RISK_MEAN: usize = 19;
    pub const RISK_STD: usize = 20;
    pub const RISK_MIN: usize = 21;
    pub const RISK_MAX: usize = 22;
    pub const RISK_MEDIAN: usize = 23;
    pub const ANOMALY_RATE: usize = 24;
    pub const ANOMALY_COUNT: usize = 25;
    pub const SEVERITY_LOW: usize = 26;
    pub const SEVERITY_MODERATE: usize = 27;
    pub const SEVERITY_HIGH: usize = 28;
    pub const SEVERITY_CRITICAL: usize = 29;
    pub const ENDPOINT_DIVERSITY: usize = 30;
    pub const IP_DIVERSITY: usize = 31;
    pub const UA_DIVERSITY: usize = 32;
    pub const LOCATION_DIVERSITY: usize = 33;
    pub const SIGNAL_ENTROPY: usize = 34;
    pub const BURST_COUNT: usize = 35;
    pub const HOUR_DIVERSITY: usize = 36;
    pub const BIGRAM_COUNT: usize = 37;
    pub const TRIGRAM_COUNT: usize = 38;
    pub const MOST_COMMON_BIGRAM: usize = 39;
    pub const SEQUENCE_REGULARITY: usize = 40;
    pub const RISK_TREND: usize = 41;
    pub const CYCLIC_SCORE: usize = 42;
    pub const STATE_TRANSITIONS: usize = 43;
    pub const PREDICTABILITY: usize = 44;
    pub const UNUSUAL_SEQUENCES: usize = 45;
    pub const SESSION_AGE: usize = 46;
    pub const ENDPOINT_SENSITIVITY: usize = 47;
    pub const HTTP_METHOD: usize = 48;
    pub const REQUEST_SIZE: usize = 49;
    pub const TIME_SINCE_SESSION_START: usize = 50;
    pub const IS_WEEKEND: usize = 51;
    pub const IS_BUSINESS_HOURS: usize = 52;
    pub const RECENT_SESSIONS: usize = 53;
    pub const CONCURRENT_SESSIONS: usize = 54;
    pub const AVG_SESSION_DURATION: usize = 55;
    pub const SESSION_SWITCH_RATE: usize = 56;
    pub const DEVICE_DIVERSITY: usize = 57;
    pub const IP_DIVERSITY_WEEK: usize = 58;
}

/// A named group of consecutive features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureGroup {
    pub name: &'static str,
    pub start: usize,
    pub len: usize,
}

/// The six groups, covering `FEATURE_NAMES` exactly once, in order.
pub const FEATURE_GROUPS: [FeatureGroup; 6] = [
    FeatureGroup {
        name: "temporal",
        start: 0,
        len: 14,
    },
    FeatureGroup {
        name: "statistical",
        start: 14,
        len: 16,
    },
    FeatureGroup {
        name: "distribution",
        start: 30,
        len: 7,
    },
    FeatureGroup {
        name: "sequence",
        start: 37,
        len: 10,
    },
    FeatureGroup {
        name: "context",
        start: 47,
        len: 6,
    },
    FeatureGroup {
        name: "graph",
        start: 53,
        len: 6,
    },
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
            assert_eq!(
                g.start, next,
                "group {} starts where the previous ended",
                g.name
            );
            next += g.len;
        }
        assert_eq!(next, N_FEATURES);
    }

    #[test]
    fn index_constants_match_names() {
        let pairs = [
            (idx::REQUEST_RATE_SHORT, "request_rate_short"),
            (idx::REQUEST_RATE_MEDIUM, "request_rate_medium"),
            (idx::REQUEST_RATE_LONG, "request_rate_long"),
            (idx::RATE_ACCEL_SHORT, "rate_accel_short"),
            (idx::RATE_ACCEL_MEDIUM, "rate_accel_medium"),
            (idx::TIME_SINCE_LAST, "time_since_last"),
            (idx::HOUR_SIN, "hour_sin"),
            (idx::HOUR_COS, "hour_cos"),
            (idx::DAY_SIN, "day_sin"),
            (idx::DAY_COS, "day_cos"),
            (idx::INTER_ARRIVAL_MEAN, "inter_arrival_mean"),
            (idx::INTER_ARRIVAL_STD, "inter_arrival_std"),
            (idx::INTER_ARRIVAL_MIN, "inter_arrival_min"),
            (idx::INTER_ARRIVAL_MAX, "inter_arrival_max"),
            (idx::SIGNAL_ENDPOINT, "signal_endpoint"),
            (idx::SIGNAL_CADENCE, "signal_cadence"),
            (idx::SIGNAL_GEO, "signal_geo"),
            (idx::SIGNAL_UA, "signal_ua"),
            (idx::SIGNAL_PRIV, "signal_priv"),
            (idx::RISK_MEAN, "risk_mean"),
            (idx::RISK_STD, "risk_std"),
            (idx::RISK_MIN, "risk_min"),
            (idx::RISK_MAX, "risk_max"),
            (idx::RISK_MEDIAN, "risk_median"),
            (idx::ANOMALY_RATE, "anomaly_rate"),
            (idx::ANOMALY_COUNT, "anomaly_count"),
            (idx::SEVERITY_LOW, "severity_low"),
            (idx::SEVERITY_MODERATE, "severity_moderate"),
            (idx::SEVERITY_HIGH, "severity_high"),
            (idx::SEVERITY_CRITICAL, "severity_critical"),
            (idx::ENDPOINT_DIVERSITY, "endpoint_diversity"),
            (idx::IP_DIVERSITY, "ip_diversity"),
            (idx::UA_DIVERSITY, "ua_diversity"),
            (idx::LOCATION_DIVERSITY, "location_diversity"),
            (idx::SIGNAL_ENTROPY, "signal_entropy"),
            (idx::BURST_COUNT, "burst_count"),
            (idx::HOUR_DIVERSITY, "hour_diversity"),
            (idx::BIGRAM_COUNT, "bigram_count"),
            (idx::TRIGRAM_COUNT, "trigram_count"),
            (idx::MOST_COMMON_BIGRAM, "most_common_bigram"),
            (idx::SEQUENCE_REGULARITY, "sequence_regularity"),
            (idx::RISK_TREND, "risk_trend"),
            (idx::CYCLIC_SCORE, "cyclic_score"),
            (idx::STATE_TRANSITIONS, "state_transitions"),
            (idx::PREDICTABILITY, "predictability"),
            (idx::UNUSUAL_SEQUENCES, "unusual_sequences"),
            (idx::SESSION_AGE, "session_age"),
            (idx::ENDPOINT_SENSITIVITY, "endpoint_sensitivity"),
            (idx::HTTP_METHOD, "http_method"),
            (idx::REQUEST_SIZE, "request_size"),
            (idx::TIME_SINCE_SESSION_START, "time_since_session_start"),
            (idx::IS_WEEKEND, "is_weekend"),
            (idx::IS_BUSINESS_HOURS, "is_business_hours"),
            (idx::RECENT_SESSIONS, "recent_sessions"),
            (idx::CONCURRENT_SESSIONS, "concurrent_sessions"),
            (idx::AVG_SESSION_DURATION, "avg_session_duration"),
            (idx::SESSION_SWITCH_RATE, "session_switch_rate"),
            (idx::DEVICE_DIVERSITY, "device_diversity"),
            (idx::IP_DIVERSITY_WEEK, "ip_diversity_week"),
        ];
        assert_eq!(pairs.len(), N_FEATURES);
        for (i, name) in pairs {
            assert_eq!(FEATURE_NAMES[i], name);
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in FEATURE_NAMES.iter().enumerate() {
            assert_eq!(feature_index(a), Some(i), "{a} is unique");
        }
    }
}

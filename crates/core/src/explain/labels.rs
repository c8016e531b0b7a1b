//! Human-readable names of the 59 features, for explanations analysts read.

use crate::features::names::{FEATURE_NAMES, N_FEATURES};

/// Labels in the order of [`FEATURE_NAMES`].
const LABELS: [&str; N_FEATURES] = [
    "request rate (last 5 min)",
    "request rate (last 30 min)",
    "request rate (last 2 h)",
    "request rate acceleration (5 min vs 30 min)",
    "request rate acceleration (30 min vs 2 h)",
    "time since the previous request",
    "hour of day (sine)",
    "hour of day (cosine)",
    "day of week (sine)",
    "day of week (cosine)",
    "mean time between requests",
    "variability of time between requests",
    "shortest time between requests",
    "longest time between requests",
    "sensitive-endpoint signals",
    "request-cadence signals",
    "geographic signals (location change, impossible travel)",
    "user-agent / device change signals",
    "privilege signals",
    "mean signal risk",
    "variability of signal risk",
    "lowest signal risk",
    "highest signal risk",
    "median signal risk",
    "share of requests with signals",
    "number of signals",
    "low-severity signals",
    "moderate-severity signals",
    "high-severity signals",
    "critical-severity signals",
    "variety of endpoints",
    "variety of IP addresses",
    "variety of user agents",
    "variety of locations",
    "entropy of signal types",
    "request bursts (10+ in 60 s)",
    "variety of active hours",
    "distinct endpoint pairs",
    "distinct endpoint triples",
    "share of the most common endpoint pair",
    "regularity of the request sequence",
    "trend of signal risk",
    "cyclic (repeating) behaviour",
    "endpoint switches",
    "predictability of the next endpoint",
    "unusual endpoint transitions",
    "session age",
    "endpoint sensitivity",
    "HTTP method",
    "request size",
    "time since the session started",
    "weekend",
    "business hours",
    "sessions started in the last 24 h",
    "concurrent sessions",
    "average session duration",
    "session switching (last 10 min)",
    "variety of devices",
    "variety of IP addresses (7 days)",
];

/// A readable label for a stored feature name; unknown names are de-snake-cased.
pub fn label(name: &str) -> String {
    match FEATURE_NAMES.iter().position(|n| *n == name) {
        Some(i) => LABELS[i].to_string(),
        None => name.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_a_distinct_label() {
        let mut seen = std::collections::HashSet::new();
        for name in FEATURE_NAMES {
            assert!(seen.insert(label(name)), "duplicate label for {name}");
        }
        assert_eq!(label("x3_custom"), "x3 custom");
    }
}

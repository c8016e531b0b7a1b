//! anomaly-engine (in progress).

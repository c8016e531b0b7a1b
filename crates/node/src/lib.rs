//! anomaly-node (in progress).

//! Bounded history of composite drift scores and its direction.
//!
//! The scheduler assesses drift at a fixed cadence (hourly by default) and pushes each
//! composite here; the trend tells an operator whether drift is building up before it crosses
//! the threshold. The direction is the sign of the least-squares slope of the last
//! [`TREND_WINDOW`] composites *against their position in the history* (per check, not per
//! hour: checks are scheduled at a fixed cadence, and positions make the answer immune to
//! clock jumps), with a dead band of [`TREND_TOLERANCE`] per check. Fewer than 3 points is
//! always `Stable`: two points cannot tell a trend from noise.
//!
//! Why 0.01 per check: at the default threshold of 0.15, a composite rising by 0.01 every hour
//! crosses it within a day from zero — worth flagging — while the check-to-check noise of an
//! unchanged distribution (~0.01 at a thousand rows) moves the slope of five points by only
//! about a third of that (the slope's standard error is `σ/√10`).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Points the default trend looks at.
pub const TREND_WINDOW: usize = 5;
/// Dead band of the slope, in composite units per check.
pub const TREND_TOLERANCE: f64 = 0.01;
/// Default capacity: a week of hourly checks.
pub const DEFAULT_HISTORY_CAPACITY: usize = 168;

/// Direction of recent drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Trend {
    /// The composite is rising by more than the tolerance per check.
    Increasing,
    /// The composite is falling by more than the tolerance per check.
    Decreasing,
    /// Neither, or too few points.
    Stable,
}

/// One assessment's composite score and when it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftPoint {
    /// Milliseconds since the Unix epoch (supplied by the caller; the core reads no clock).
    pub timestamp_ms: i64,
    /// The composite drift score.
    pub composite: f64,
}

/// The last `capacity` drift points, oldest first. Deserialization re-runs
/// [`DriftHistory::validate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DriftHistoryRepr")]
pub struct DriftHistory {
    capacity: usize,
    entries: VecDeque<DriftPoint>,
}

#[derive(Deserialize)]
struct DriftHistoryRepr {
    capacity: usize,
    entries: VecDeque<DriftPoint>,
}

impl TryFrom<DriftHistoryRepr> for DriftHistory {
    type Error = CoreError;

    fn try_from(repr: DriftHistoryRepr) -> Result<Self> {
        let history = DriftHistory {
            capacity: repr.capacity,
            entries: repr.entries,
        };
        history.validate()?;
        Ok(history)
    }
}

impl Default for DriftHistory {
    fn default() -> Self {
        DriftHistory {
            capacity: DEFAULT_HISTORY_CAPACITY,
            entries: VecDeque::new(),
        }
    }
}

impl DriftHistory {
    /// An empty history keeping at most `capacity` points (at least 1).
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(CoreError::InvalidParameter {
                name: "capacity",
                reason: "must be at least 1".into(),
            });
        }
        Ok(DriftHistory {
            capacity,
            entries: VecDeque::with_capacity(capacity.min(1024)),
        })
    }

    /// Appends a point, dropping the oldest when full. A non-finite composite is rejected.
    pub fn push(&mut self, point: DriftPoint) -> Result<()> {
        if !point.composite.is_finite() {
            return Err(CoreError::NonFinite {
                what: "drift composite",
                index: 0,
                value: point.composite,
            });
        }
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(point);
        Ok(())
    }

    /// Maximum number of points kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of points held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No points yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The points, oldest first.
    pub fn entries(&self) -> &VecDeque<DriftPoint> {
        &self.entries
    }

    /// The most recent point.
    pub fn latest(&self) -> Option<&DriftPoint> {
        self.entries.back()
    }

    /// Least-squares slope (composite per check) of the last `window` points; `None` with
    /// fewer than 3 points or a window below 3.
    pub fn slope(&self, window: usize) -> Option<f64> {
        let k = window.min(self.entries.len());
        if k < 3 {
            return None;
        }
        let recent = self.entries.iter().skip(self.entries.len() - k);
        let x_mean = (k - 1) as f64 / 2.0;
        let y_mean = self
            .entries
            .iter()
            .skip(self.entries.len() - k)
            .map(|p| p.composite)
            .sum::<f64>()
            / k as f64;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, p) in recent.enumerate() {
            let dx = i as f64 - x_mean;
            sxy += dx * (p.composite - y_mean);
            sxx += dx * dx;
        }
        Some(sxy / sxx)
    }

    /// [`DriftHistory::trend_over`] with the default window and tolerance.
    pub fn trend(&self) -> Trend {
        self.trend_over(TREND_WINDOW, TREND_TOLERANCE)
    }

    /// Direction of the last `window` points with a dead band of `tolerance` per check.
    pub fn trend_over(&self, window: usize, tolerance: f64) -> Trend {
        match self.slope(window) {
            Some(s) if s > tolerance => Trend::Increasing,
            Some(s) if s < -tolerance => Trend::Decreasing,
            _ => Trend::Stable,
        }
    }

    /// Checks capacity >= 1, at most `capacity` entries, finite composites.
    pub fn validate(&self) -> Result<()> {
        if self.capacity == 0 {
            return Err(CoreError::InvalidParameter {
                name: "capacity",
                reason: "must be at least 1".into(),
            });
        }
        if self.entries.len() > self.capacity {
            return Err(CoreError::InvalidParameter {
                name: "drift history",
                reason: format!(
                    "{} entries exceed capacity {}",
                    self.entries.len(),
                    self.capacity
                ),
            });
        }
        if let Some((index, p)) = self
            .entries
            .iter()
            .enumerate()
            .find(|(_, p)| !p.composite.is_finite())
        {
            return Err(CoreError::NonFinite {
                what: "drift history composite",
                index,
                value: p.composite,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(values: &[f64]) -> DriftHistory {
        let mut h = DriftHistory::new(10).unwrap();
        for (i, &v) in values.iter().enumerate() {
            h.push(DriftPoint {
                timestamp_ms: i as i64 * 3_600_000,
                composite: v,
            })
            .unwrap();
        }
        h
    }

    #[test]
    fn fewer_than_three_points_is_stable() {
        assert_eq!(history(&[]).trend(), Trend::Stable);
        assert_eq!(history(&[0.0, 0.5]).trend(), Trend::Stable);
        assert_eq!(history(&[0.0, 0.5]).slope(5), None);
    }

    #[test]
    fn rising_falling_and_flat() {
        assert_eq!(
            history(&[0.02, 0.05, 0.08, 0.11, 0.14]).trend(),
            Trend::Increasing
        );
        assert_eq!(
            history(&[0.3, 0.25, 0.2, 0.15, 0.1]).trend(),
            Trend::Decreasing
        );
        // Noise within the dead band.
        assert_eq!(
            history(&[0.05, 0.06, 0.05, 0.055, 0.06]).trend(),
            Trend::Stable
        );
        let s = history(&[0.1, 0.2, 0.3]).slope(5).unwrap();
        assert!((s - 0.1).abs() < 1e-12, "{s}");
    }

    #[test]
    fn only_the_last_window_counts() {
        // A long fall followed by a clear rise over the last five points.
        let h = history(&[0.9, 0.7, 0.5, 0.3, 0.1, 0.1, 0.13, 0.16, 0.19, 0.22]);
        assert_eq!(h.trend(), Trend::Increasing);
        assert_eq!(h.trend_over(10, TREND_TOLERANCE), Trend::Decreasing);
    }

    #[test]
    fn capacity_is_enforced_and_oldest_dropped() {
        let mut h = DriftHistory::new(3).unwrap();
        for i in 0..5 {
            h.push(DriftPoint {
                timestamp_ms: i,
                composite: i as f64,
            })
            .unwrap();
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.entries().front().map(|p| p.timestamp_ms), Some(2));
        assert_eq!(h.latest().map(|p| p.composite), Some(4.0));
        assert!(DriftHistory::new(0).is_err());
        assert!(h
            .push(DriftPoint {
                timestamp_ms: 9,
                composite: f64::NAN
            })
            .is_err());
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let h = history(&[0.1, 0.2, 0.15]);
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.contains("\"timestampMs\""));
        assert_eq!(serde_json::from_str::<DriftHistory>(&json).unwrap(), h);
        assert_eq!(
            serde_json::to_string(&Trend::Increasing).unwrap(),
            "\"INCREASING\""
        );
        assert_eq!(
            serde_json::from_str::<Trend>("\"STABLE\"").unwrap(),
            Trend::Stable
        );
        let too_many = r#"{"capacity":1,"entries":[{"timestampMs":0,"composite":0.1},{"timestampMs":1,"composite":0.2}]}"#;
        assert!(serde_json::from_str::<DriftHistory>(too_many).is_err());
        assert!(serde_json::from_str::<DriftHistory>(r#"{"capacity":0,"entries":[]}"#).is_err());
    }
}

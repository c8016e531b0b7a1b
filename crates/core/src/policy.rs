//! The graduated response: from a composite score to `isAnomaly` and an action.
//!
//! ExpenseFlow's middleware reacts to five actions. The mapping is a ladder of thresholds on the
//! calibrated composite score (see [`crate::calibration`] for why those thresholds mean the same
//! thing for every model):
//!
//! | composite                         | action        |
//! |-----------------------------------|---------------|
//! | `<= anomaly_threshold` (0.65)     | `ALLOW`       |
//! | `> anomaly_threshold`, `< 0.70`   | `MONITOR`     |
//! | `>= challenge` (0.70)             | `CHALLENGE`   |
//! | `>= require_2fa` (0.80)           | `REQUIRE_2FA` |
//! | `>= block` (0.90)                 | `BLOCK`       |
//!
//! `isAnomaly` is strict (`composite > anomaly_threshold`), the action thresholds inclusive, as
//! in the original. A threshold above 1 disables its action (scores never exceed 1).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// What the host application should do with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "ALLOW")]
    Allow,
    #[serde(rename = "MONITOR")]
    Monitor,
    #[serde(rename = "CHALLENGE")]
    Challenge,
    #[serde(rename = "REQUIRE_2FA")]
    Require2fa,
    #[serde(rename = "BLOCK")]
    Block,
}

impl Action {
    /// All actions, mildest first.
    pub const ALL: [Action; 5] = [
        Action::Allow,
        Action::Monitor,
        Action::Challenge,
        Action::Require2fa,
        Action::Block,
    ];

    /// The name ExpenseFlow uses (`"REQUIRE_2FA"`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "ALLOW",
            Action::Monitor => "MONITOR",
            Action::Challenge => "CHALLENGE",
            Action::Require2fa => "REQUIRE_2FA",
            Action::Block => "BLOCK",
        }
    }

    /// Parses the name ExpenseFlow uses.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Thresholds on the calibrated composite score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActionPolicy {
    /// `isAnomaly` when the composite is strictly above this (0.65).
    pub anomaly_threshold: f64,
    /// `CHALLENGE` from here (0.70).
    pub challenge: f64,
    /// `REQUIRE_2FA` from here (0.80).
    pub require_2fa: f64,
    /// `BLOCK` from here (0.90).
    pub block: f64,
}

impl Default for ActionPolicy {
    fn default() -> Self {
        ActionPolicy {
            anomaly_threshold: 0.65,
            challenge: 0.70,
            require_2fa: 0.80,
            block: 0.90,
        }
    }
}

impl ActionPolicy {
    /// Thresholds must be finite, within [0, 2], and the action thresholds ordered
    /// `challenge <= require_2fa <= block`. The anomaly threshold may sit anywhere: above the
    /// action thresholds, actions start at it (a request that is an anomaly at all gets the
    /// action its score reaches), as in the original.
    pub fn validate(&self) -> Result<()> {
        let ladder = [
            ("anomalyThreshold", self.anomaly_threshold),
            ("challenge", self.challenge),
            ("require2fa", self.require_2fa),
            ("block", self.block),
        ];
        for (name, value) in ladder {
            if !value.is_finite() || !(0.0..=2.0).contains(&value) {
                return Err(CoreError::InvalidParameter {
                    name: "policy",
                    reason: format!("{name} must be a number in [0, 2], got {value}"),
                });
            }
        }
        for pair in ladder[1..].windows(2) {
            if pair[0].1 > pair[1].1 {
                return Err(CoreError::InvalidParameter {
                    name: "policy",
                    reason: format!(
                        "thresholds must be ordered: {} ({}) exceeds {} ({})",
                        pair[0].0, pair[0].1, pair[1].0, pair[1].1
                    ),
                });
            }
        }
        Ok(())
    }

    /// `isAnomaly` for a composite score.
    pub fn is_anomaly(&self, composite: f64) -> bool {
        composite > self.anomaly_threshold
    }

    /// The action for a composite score.
    pub fn action(&self, composite: f64) -> Action {
        if !self.is_anomaly(composite) {
            Action::Allow
        } else if composite >= self.block {
            Action::Block
        } else if composite >= self.require_2fa {
            Action::Require2fa
        } else if composite >= self.challenge {
            Action::Challenge
        } else {
            Action::Monitor
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_matches_the_interface_note() {
        let p = ActionPolicy::default();
        assert_eq!(p.action(0.0), Action::Allow);
        assert_eq!(p.action(0.65), Action::Allow, "isAnomaly is strict");
        assert_eq!(p.action(0.6501), Action::Monitor);
        assert_eq!(p.action(0.6999), Action::Monitor);
        assert_eq!(p.action(0.70), Action::Challenge);
        assert_eq!(p.action(0.7999), Action::Challenge);
        assert_eq!(p.action(0.80), Action::Require2fa);
        assert_eq!(p.action(0.8999), Action::Require2fa);
        assert_eq!(p.action(0.90), Action::Block);
        assert_eq!(p.action(1.0), Action::Block);
    }

    #[test]
    fn thresholds_are_configurable() {
        let p = ActionPolicy {
            anomaly_threshold: 0.5,
            challenge: 0.6,
            require_2fa: 0.7,
            block: 1.5,
        };
        p.validate().unwrap();
        assert_eq!(p.action(0.55), Action::Monitor);
        assert_eq!(
            p.action(1.0),
            Action::Require2fa,
            "block above 1 disables BLOCK"
        );
    }

    #[test]
    fn an_anomaly_threshold_above_the_actions_starts_them_there() {
        let p = ActionPolicy {
            anomaly_threshold: 0.75,
            ..ActionPolicy::default()
        };
        p.validate().unwrap();
        assert_eq!(p.action(0.74), Action::Allow);
        assert_eq!(p.action(0.76), Action::Challenge, "no MONITOR band");
        assert_eq!(p.action(0.85), Action::Require2fa);
    }

    #[test]
    fn unordered_or_non_finite_thresholds_are_rejected() {
        let bad = ActionPolicy {
            challenge: 0.95,
            ..ActionPolicy::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(
            err.contains("challenge (0.95) exceeds require2fa (0.8)"),
            "{err}"
        );
        let nan = ActionPolicy {
            block: f64::NAN,
            ..ActionPolicy::default()
        };
        assert!(nan.validate().is_err());
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
        assert_eq!(Action::parse("require_2fa"), None);
    }
}

//! Decisions: from the per-request score to what is done about a request, with a friction
//! budget calibrated on sessions and evidence that accumulates across requests and session ids.
//!
//! ## Why a layer of its own
//! The composite score ranks requests well, but judging each request alone turns a good ranking
//! into bad decisions: calibration makes `contamination` (5 %) the per-request alarm rate, so a
//! normal session of 30 requests gets 30 chances to trip, and one normal session in ten meets
//! friction; while an attacker who takes a fresh session id for every request resets whatever a
//! session had learnt. So the action is decided here, from *evidence*:
//!
//! 1. **Surprise** ([`surprise`]): the composite becomes `u = −ln p`, `p` the share of training
//!    requests scoring at least as high (an exponential-tail extrapolation beyond the training
//!    maximum). Only what exceeds the surprise of an ordinary alarm counts:
//!    `excess = max(0, u − ln(1/excessTail))`.
//! 2. **Evidence** ([`evidence`]): every request adds its excess to decayed sums kept for its
//!    session, its user, its device and its source address (`halfLifeMs`, 30 minutes by
//!    default). A request's statistic is the largest weighted sum among them, so a persistent
//!    attack escalates within a few requests, a single odd request of a normal session stays
//!    low, and rotating session ids does not reset anything the user, device or address
//!    accumulated. Each sum remembers its last contributors (the answer names them).
//! 3. **A friction budget** ([`fit`]): at training, the window's requests are replayed in time
//!    order through the same evidence, each training session's largest statistic is taken, and
//!    thresholds are placed so that at most `challenge` (1 %) of the training sessions would meet
//!    CHALLENGE or worse, `require2fa` (0.25 %) REQUIRE_2FA or worse, `block` (0.05 %) BLOCK, and
//!    `strict` (1 %) of the sessions with a strict (CRITICAL) request would be denied by the strict
//!    check. Levels whose budget is below one training session sit above the largest training
//!    statistic, so BLOCK means "more evidence than any normal session of the training window".
//! 4. **The documented scale**: the statistic is mapped piecewise linearly onto the decision
//!    score so that those thresholds land on 0.70, 0.80 and 0.90 — the original's action
//!    thresholds keep their meaning — and rises smoothly towards 1 beyond BLOCK.
//! 5. **Feedback** ([`feedback`]): a reported false positive lowers the excess of that user's
//!    later requests in the same situation (the same features driving the score), decaying and
//!    bounded; a confirmed attack raises the evidence of the same user, device and address.
//!
//! Everything here is pure: times come with the calls, keys are hashes the caller computed.

pub mod evidence;
pub mod feedback;
pub mod fit;
pub mod surprise;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::policy::Action;

pub use evidence::{EntityKeys, EntityKind, Evidence, EvidenceState, Statistic};
pub use feedback::{Allowances, FeedbackConfig};
pub use fit::{FitInput, FitReport, TrainingRow};
pub use surprise::SurpriseTable;

/// The share of sessions that may meet each level of friction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FrictionBudget {
    /// Normal sessions meeting CHALLENGE or worse (0.01).
    pub challenge: f64,
    /// Normal sessions meeting REQUIRE_2FA or worse (0.0025).
    pub require2fa: f64,
    /// Normal sessions meeting BLOCK (0.0005).
    pub block: f64,
    /// Sessions with a strict request that the strict check denies (0.01).
    pub strict: f64,
}

impl FrictionBudget {
    /// Every share multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> FrictionBudget {
        FrictionBudget {
            challenge: self.challenge * factor,
            require2fa: self.require2fa * factor,
            block: self.block * factor,
            strict: self.strict * factor,
        }
    }
}

impl Default for FrictionBudget {
    fn default() -> Self {
        FrictionBudget {
            challenge: 0.01,
            require2fa: 0.0025,
            block: 0.0005,
            strict: 0.01,
        }
    }
}

/// Weights of each kind of entity in a request's statistic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EntityWeights {
    pub session: f64,
    pub user: f64,
    pub device: f64,
    /// A source address can be shared (an office behind one NAT): it weighs less by default.
    pub source: f64,
}

impl Default for EntityWeights {
    fn default() -> Self {
        EntityWeights {
            session: 1.0,
            user: 1.0,
            device: 1.0,
            source: 0.5,
        }
    }
}

/// Settings of the decision layer (`prediction.decision` in the engine's configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DecisionConfig {
    pub budget: FrictionBudget,
    /// Half-life of accumulated evidence, ms (30 minutes).
    pub half_life_ms: i64,
    /// Requests rarer than this share of the training requests add evidence (0.05: the
    /// per-request alarms of the default contamination).
    pub excess_tail: f64,
    pub weights: EntityWeights,
    /// How an entity's requests combine (a shrunk mean of excess by default).
    pub statistic: Statistic,
    /// Share of each level's budget given to the *sum* of excess beside the statistic: a second
    /// test for persistent, moderately unusual activity, which a level averages away. 0 (the
    /// default) judges the statistic alone: on the simulated traffic the second test caught
    /// nothing the first missed (docs/benchmarks.md, "Decisions").
    pub sum_share: f64,
    /// Most excess one request adds (15: e^-15 ≈ one request in 3 million): a request beyond
    /// anything seen counts as very unusual, not as infinitely so, so that one address or device
    /// shared with an attacker does not carry an unbounded weight to everyone else behind it.
    pub max_excess: f64,
    /// Entities of each kind whose evidence is kept (the lowest-valued evicted first).
    pub max_entities: usize,
    /// Features whose own tail also adds evidence, beside the composite (see the module docs):
    /// by default the identity-churn features, which a session-id rotation drives and which
    /// the joint models dilute among 59 others.
    pub watched_features: Vec<String>,
    pub feedback: FeedbackConfig,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            budget: FrictionBudget::default(),
            half_life_ms: 30 * 60_000,
            excess_tail: 0.05,
            weights: EntityWeights::default(),
            statistic: Statistic::default(),
            max_excess: 15.0,
            sum_share: 0.0,
            max_entities: 20_000,
            watched_features: [
                "recent_sessions",
                "concurrent_sessions",
                "session_switch_rate",
            ]
            .map(String::from)
            .to_vec(),
            feedback: FeedbackConfig::default(),
        }
    }
}

fn invalid(name: &'static str, reason: String) -> CoreError {
    CoreError::InvalidParameter { name, reason }
}

impl DecisionConfig {
    /// Budgets in (0, 0.5] and ordered challenge ≥ require2fa ≥ block; positive half-life and
    /// weights; a tail in (0, 1).
    pub fn validate(&self) -> Result<()> {
        let b = &self.budget;
        for (name, v) in [
            ("challenge", b.challenge),
            ("require2fa", b.require2fa),
            ("block", b.block),
            ("strict", b.strict),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 0.5) {
                return Err(invalid(
                    "decision.budget",
                    format!("{name} must be a share in (0, 0.5], got {v}"),
                ));
            }
        }
        if !(b.challenge >= b.require2fa && b.require2fa >= b.block) {
            return Err(invalid(
                "decision.budget",
                format!(
                    "shares must be ordered challenge >= require2fa >= block, got {}, {}, {}",
                    b.challenge, b.require2fa, b.block
                ),
            ));
        }
        if !(1..=30 * 86_400_000).contains(&self.half_life_ms) {
            return Err(invalid(
                "decision.halfLifeMs",
                format!("must be in 1..=30 days of ms, got {}", self.half_life_ms),
            ));
        }
        if !(self.excess_tail.is_finite() && self.excess_tail > 0.0 && self.excess_tail < 1.0) {
            return Err(invalid(
                "decision.excessTail",
                format!("must be in (0, 1), got {}", self.excess_tail),
            ));
        }
        let w = &self.weights;
        for (name, v) in [
            ("session", w.session),
            ("user", w.user),
            ("device", w.device),
            ("source", w.source),
        ] {
            if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                return Err(invalid(
                    "decision.weights",
                    format!("{name} must be in [0, 10], got {v}"),
                ));
            }
        }
        if !(self.max_excess.is_finite() && self.max_excess > 0.0 && self.max_excess <= 60.0) {
            return Err(invalid(
                "decision.maxExcess",
                format!("must be in (0, 60], got {}", self.max_excess),
            ));
        }
        if !(self.sum_share.is_finite() && (0.0..1.0).contains(&self.sum_share)) {
            return Err(invalid(
                "decision.sumShare",
                format!("must be in [0, 1), got {}", self.sum_share),
            ));
        }
        if !self.statistic.validate() {
            return Err(invalid(
                "decision.statistic",
                format!(
                    "priorRequests must be in [0, 1000], got {:?}",
                    self.statistic
                ),
            ));
        }
        if self.watched_features.len() > 16 {
            return Err(invalid(
                "decision.watchedFeatures",
                format!("at most 16 features, got {}", self.watched_features.len()),
            ));
        }
        for name in &self.watched_features {
            if crate::features::feature_index(name).is_none() {
                return Err(invalid(
                    "decision.watchedFeatures",
                    format!("unknown feature '{name}'"),
                ));
            }
        }
        if !(1_000..=10_000_000).contains(&self.max_entities) {
            return Err(invalid(
                "decision.maxEntities",
                format!("must be in 1000..=10000000, got {}", self.max_entities),
            ));
        }
        self.feedback.validate()
    }

    /// The surprise from which a request adds evidence.
    pub fn excess_floor(&self) -> f64 {
        -libm::log(self.excess_tail)
    }
}

/// Where the fitted thresholds sit on the evidence statistic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thresholds {
    pub challenge: f64,
    pub require2fa: f64,
    pub block: f64,
    /// The strict check denies from here.
    pub strict: f64,
    /// Scale of the rise towards 1 beyond `block`.
    pub tail_scale: f64,
}

/// A watched feature's own tail (see [`DecisionConfig::watched_features`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchedFeature {
    pub index: usize,
    pub table: SurpriseTable,
}

/// The fitted decision layer of one model: part of the model bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionModel {
    pub config: DecisionConfig,
    pub surprise: SurpriseTable,
    pub watched: Vec<WatchedFeature>,
    pub thresholds: Thresholds,
    /// Thresholds of the sum of excess, when `sumShare` > 0.
    pub sum_thresholds: Option<Thresholds>,
    /// What the fit achieved on its training sessions.
    pub report: FitReport,
}

/// The documented anchors of the decision score: CHALLENGE, REQUIRE_2FA, BLOCK.
pub const ANCHORS: [f64; 3] = [0.70, 0.80, 0.90];

impl DecisionModel {
    /// Checks every number (a bundle may come from anywhere).
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        self.surprise.validate()?;
        for w in &self.watched {
            if w.index >= crate::N_FEATURES {
                return Err(CoreError::InvalidBundle(format!(
                    "decision: watched feature index {} out of range",
                    w.index
                )));
            }
            w.table.validate()?;
        }
        for t in std::iter::once(&self.thresholds).chain(self.sum_thresholds.as_ref()) {
            let ordered = t.challenge > 0.0
                && t.challenge < t.require2fa
                && t.require2fa < t.block
                && t.strict > 0.0
                && t.tail_scale > 0.0;
            let bounded = [t.challenge, t.require2fa, t.block, t.strict, t.tail_scale]
                .iter()
                .all(|v| v.is_finite() && *v <= 1e12);
            if !(ordered && bounded) {
                return Err(CoreError::InvalidBundle(format!(
                    "decision thresholds must be finite, positive and increasing, got {t:?}"
                )));
            }
        }
        Ok(())
    }

    /// The excess surprise a request adds to the evidence: its composite's beyond the floor, or
    /// a watched feature's beyond the largest value of training when that is larger (a
    /// watched feature adds evidence only when it leaves what training ever saw).
    pub fn excess(&self, composite: f64, features: &[f64]) -> f64 {
        let mut x = self.surprise.surprise(composite) - self.config.excess_floor();
        for w in &self.watched {
            if let Some(&v) = features.get(w.index) {
                x = x.max(w.table.surprise(v) - w.table.max_surprise_in_training());
            }
        }
        x.clamp(0.0, self.config.max_excess)
    }

    /// The decision score in [0, 1] of the evidence: the larger of the statistic's and, when
    /// judged, the sum's (see the module docs).
    pub fn score(&self, statistic: f64, total: f64) -> f64 {
        let level = score_on(&self.thresholds, statistic);
        match &self.sum_thresholds {
            Some(t) => level.max(score_on(t, total)),
            None => level,
        }
    }

    /// Whether the strict check denies at this evidence.
    pub fn strict_denies(&self, statistic: f64, total: f64) -> bool {
        statistic >= self.thresholds.strict
            || self
                .sum_thresholds
                .as_ref()
                .is_some_and(|t| total >= t.strict)
    }
}

/// The decision score of `statistic` on thresholds `t`.
fn score_on(t: &Thresholds, statistic: f64) -> f64 {
    {
        let s = statistic.max(0.0);
        let [c, r, b] = ANCHORS;
        if s < t.challenge {
            c * s / t.challenge
        } else if s < t.require2fa {
            c + (r - c) * (s - t.challenge) / (t.require2fa - t.challenge)
        } else if s < t.block {
            r + (b - r) * (s - t.require2fa) / (t.block - t.require2fa)
        } else {
            b + (1.0 - b) * -libm::expm1(-(s - t.block) / t.tail_scale)
        }
    }
}

/// The action a decision score reaches on the documented ladder (no anomaly threshold: the
/// score is already evidence).
pub fn action_of_score(score: f64, policy: &crate::policy::ActionPolicy) -> Action {
    if score >= policy.block {
        Action::Block
    } else if score >= policy.require_2fa {
        Action::Require2fa
    } else if score >= policy.challenge {
        Action::Challenge
    } else {
        Action::Allow
    }
}

/// Whether a request is one the strict check judges: a CRITICAL endpoint (read from its
/// feature vector, so training rows need no flag of their own).
pub fn is_strict_request(features: &[f64]) -> bool {
    use crate::features::{names::idx::ENDPOINT_SENSITIVITY, Sensitivity};
    features
        .get(ENDPOINT_SENSITIVITY)
        .is_some_and(|&v| v >= f64::from(Sensitivity::Critical.ordinal()))
}

#[cfg(test)]
mod tests;

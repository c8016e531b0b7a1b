//! Learning from feedback, without a retrain.
//!
//! A **false positive** reported on a prediction becomes an *allowance* for its user: the
//! pattern of what drove that score (the positive part of its per-feature contributions, as a
//! unit vector) with a weight that halves every `halfLifeMs` (14 days). A later request of the
//! same user whose contributions point the same way has its excess surprise multiplied by
//! `1 − maxDiscount · weight · similarity` (cosine similarity of the positive parts): the same
//! situation (the traveller's new city, the month-end export burst) stops adding evidence, while
//! anything else the user does is judged as before. Bounded on purpose: the discount never
//! exceeds `maxDiscount` (0.8), so a request far beyond the reported one still counts; at most
//! `perUser` (8) allowances are kept per user (the weakest replaced); and every allowance
//! fades, so one report cannot whitelist an account forever.
//!
//! A **confirmed attack** (a false negative reported, or friction nobody disputed within the
//! engine's `confirmAfterMs`) raises the evidence of the same device and address by
//! `confirmBoost` times the CHALLENGE threshold, and of the user by `confirmUserShare` of that,
//! decaying with `confirmHalfLifeMs` (3 days): the attacker's next request meets friction at
//! once, the account owner's next unusual one does.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Settings of feedback (`prediction.decision.feedback`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FeedbackConfig {
    /// Half-life of a false-positive allowance, ms (14 days).
    pub half_life_ms: i64,
    /// Largest share of a request's excess an allowance removes (0.8).
    pub max_discount: f64,
    /// Allowances kept per user (8).
    pub per_user: usize,
    /// A confirmed attack's evidence, in CHALLENGE thresholds (1.0), for its device and source.
    pub confirm_boost: f64,
    /// The share of that evidence its user gets (0.5): the account was attacked, its owner is
    /// not the attacker, so the owner's next unusual request, not any request, meets friction.
    pub confirm_user_share: f64,
    /// Half-life of that evidence, ms (3 days).
    pub confirm_half_life_ms: i64,
    /// Friction (CHALLENGE or worse) not reported as a false positive within this many ms
    /// counts as a confirmed attack; `null` (the default) never: most friction nobody reviews
    /// is on accounts that were attacked, whose owners would then meet friction for days.
    pub confirm_after_ms: Option<i64>,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        FeedbackConfig {
            half_life_ms: 14 * 86_400_000,
            max_discount: 0.8,
            per_user: 8,
            confirm_boost: 1.0,
            confirm_user_share: 0.5,
            confirm_half_life_ms: 3 * 86_400_000,
            confirm_after_ms: None,
        }
    }
}

impl FeedbackConfig {
    /// The shares of a confirmation for the user, device and source.
    pub fn confirm_shares(&self) -> [f64; 3] {
        [self.confirm_user_share, 1.0, 1.0]
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(CoreError::InvalidParameter {
                name: "decision.feedback",
                reason,
            })
        };
        let day = 86_400_000i64;
        if !(1..=365 * day).contains(&self.half_life_ms)
            || !(1..=365 * day).contains(&self.confirm_half_life_ms)
        {
            return bad("half-lives must be in 1 ms ..= 365 days".into());
        }
        if !(self.max_discount.is_finite() && (0.0..1.0).contains(&self.max_discount)) {
            return bad(format!(
                "maxDiscount must be in [0, 1), got {}",
                self.max_discount
            ));
        }
        if !(1..=64).contains(&self.per_user) {
            return bad(format!("perUser must be in 1..=64, got {}", self.per_user));
        }
        if !(self.confirm_boost.is_finite() && (0.0..=100.0).contains(&self.confirm_boost)) {
            return bad(format!(
                "confirmBoost must be in [0, 100], got {}",
                self.confirm_boost
            ));
        }
        if !(self.confirm_user_share.is_finite() && (0.0..=1.0).contains(&self.confirm_user_share))
        {
            return bad(format!(
                "confirmUserShare must be in [0, 1], got {}",
                self.confirm_user_share
            ));
        }
        if let Some(ms) = self.confirm_after_ms {
            if !(1..=365 * day).contains(&ms) {
                return bad(format!(
                    "confirmAfterMs must be in 1 ms ..= 365 days, got {ms}"
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Allowance {
    /// Unit vector of the positive contributions that drove the reported score.
    pattern: Vec<f32>,
    weight: f64,
    at: i64,
}

impl Allowance {
    fn weight_at(&self, t: i64, half_life: i64) -> f64 {
        if t <= self.at {
            self.weight
        } else {
            self.weight * libm::exp2(-((t - self.at) as f64) / half_life as f64)
        }
    }
}

/// The positive part of `contributions` as a unit vector, or `None` when nothing raised the
/// score.
fn pattern(contributions: &[f64]) -> Option<Vec<f32>> {
    let norm = libm::sqrt(
        contributions
            .iter()
            .filter(|c| c.is_finite() && **c > 0.0)
            .map(|c| c * c)
            .sum::<f64>(),
    );
    if !(norm > 0.0 && norm.is_finite()) {
        return None;
    }
    Some(
        contributions
            .iter()
            .map(|&c| {
                if c.is_finite() && c > 0.0 {
                    (c / norm) as f32
                } else {
                    0.0
                }
            })
            .collect(),
    )
}

type Map =
    HashMap<u64, Vec<Allowance>, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

/// The false-positive allowances of every user (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Allowances {
    #[serde(with = "sorted")]
    users: Map,
}

impl Allowances {
    /// Users with an allowance.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// Records a false positive of `user` at `t`, whose score was driven by `contributions`.
    /// Returns false when nothing raised that score (no pattern to allow).
    pub fn add(
        &mut self,
        cfg: &FeedbackConfig,
        user: u64,
        contributions: &[f64],
        t: i64,
        max_users: usize,
    ) -> bool {
        let Some(pattern) = pattern(contributions) else {
            return false;
        };
        if !self.users.contains_key(&user) && self.users.len() >= max_users.max(1) {
            // full: forget the user whose allowances are weakest now
            let weakest = self
                .users
                .iter()
                .map(|(k, list)| {
                    let w = list
                        .iter()
                        .map(|a| a.weight_at(t, cfg.half_life_ms))
                        .fold(0.0, f64::max);
                    (w, *k)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some((_, k)) = weakest {
                self.users.remove(&k);
            }
        }
        let list = self.users.entry(user).or_default();
        if list.len() >= cfg.per_user {
            let (i, _) = list
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.weight_at(t, cfg.half_life_ms)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            list.remove(i);
        }
        list.push(Allowance {
            pattern,
            weight: 1.0,
            at: t,
        });
        true
    }

    /// The factor in `[1 − maxDiscount, 1]` by which `user`'s request at `t` with these
    /// contributions has its excess multiplied.
    pub fn factor(&self, cfg: &FeedbackConfig, user: u64, contributions: &[f64], t: i64) -> f64 {
        let Some(list) = self.users.get(&user) else {
            return 1.0;
        };
        let Some(p) = pattern(contributions) else {
            return 1.0;
        };
        let best = list
            .iter()
            .map(|a| {
                let sim: f64 = a
                    .pattern
                    .iter()
                    .zip(&p)
                    .map(|(x, y)| f64::from(*x) * f64::from(*y))
                    .sum();
                sim.clamp(0.0, 1.0) * a.weight_at(t, cfg.half_life_ms)
            })
            .fold(0.0, f64::max);
        1.0 - cfg.max_discount * best.clamp(0.0, 1.0)
    }
}

mod sorted {
    use super::{Allowance, Map};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &Map, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<(u64, &Vec<Allowance>)> = m.iter().map(|(k, a)| (*k, a)).collect();
        v.sort_by_key(|(k, _)| *k);
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let v: Vec<(u64, Vec<Allowance>)> = Vec::deserialize(d)?;
        let ok = v.iter().all(|(_, list)| {
            list.iter()
                .all(|a| a.weight.is_finite() && a.pattern.iter().all(|x| x.is_finite()))
        });
        if !ok {
            return Err(serde::de::Error::custom("non-finite allowance"));
        }
        Ok(v.into_iter().collect())
    }
}

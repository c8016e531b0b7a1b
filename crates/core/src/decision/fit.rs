//! Fitting the friction budget on the training window's sessions.
//!
//! The training requests are replayed in time order through a fresh [`EvidenceState`] with
//! the new model's surprise table, exactly as live requests are judged; each session's largest
//! *enforceable* statistic (the statistic, or only the earlier evidence when the request's own
//! confidence is at most `minConfidence`: one uncertain request never acts alone) is kept; and
//! each level's threshold is placed just above the statistic of the session ranked
//! `floor(budget · sessions)` from the top, so that on the training data at most that share of
//! sessions reaches it (ties never cross: a threshold sits strictly between two values). A level
//! whose budget is below one training session sits a margin above the largest statistic of all.
//!
//! **Censoring.** The engine keeps sessions that met friction out of the training window (they
//! are suspected attacks). Left out and forgotten, they would make each retrain fit its
//! thresholds on ever tamer sessions, and friction on normal traffic would creep up retrain after
//! retrain. So the engine passes how many sessions it kept out at each level, and they count as
//! sessions that met it: the budget holds on the sessions the window saw, not only on those it
//! kept.

use serde::{Deserialize, Serialize};

use super::evidence::{EntityKeys, EvidenceState};
use super::surprise::SurpriseTable;
use super::{DecisionConfig, DecisionModel, Thresholds};
use crate::error::{CoreError, Result};

/// One training request, as the fit needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainingRow {
    pub timestamp: i64,
    pub keys: EntityKeys,
    /// The new model's composite score of the row.
    pub composite: f64,
    /// The new model's confidence of the row.
    pub confidence: f64,
    /// A request the strict check would judge (CRITICAL endpoint sensitivity).
    pub strict: bool,
}

/// Sessions kept out of the training window because they met friction, by the level reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Censored {
    /// Met CHALLENGE or worse.
    pub challenge: u64,
    /// Met REQUIRE_2FA or worse.
    pub require2fa: u64,
    /// Met BLOCK.
    pub block: u64,
}

/// What the fit is given.
#[derive(Clone, Copy, Debug)]
pub struct FitInput<'a> {
    pub rows: &'a [TrainingRow],
    pub censored: Censored,
    /// A request whose confidence is at most this does not act on its own evidence.
    pub min_confidence: f64,
}

/// What the fit achieved on its training data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FitReport {
    pub requests: usize,
    pub sessions: usize,
    pub strict_sessions: usize,
    pub censored: Censored,
    /// Shares of sessions (censored ones included) at or above each level on the training
    /// data: challenge, require2fa, block; and of strict sessions denied.
    pub shares: LevelShares,
    /// Largest session statistic seen.
    pub max_statistic: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelShares {
    pub challenge: f64,
    pub require2fa: f64,
    pub block: f64,
    pub strict: f64,
}

/// Margins above the largest statistic for levels with a budget below one session.
const MARGINS: [f64; 3] = [1.10, 1.25, 1.50];

/// The smallest threshold above which at most `allowed` of `values` (sorted descending) lie,
/// placed halfway between the two values it separates; `None` when `allowed` admits none.
fn threshold_for(desc: &[f64], allowed: usize) -> Option<f64> {
    if allowed >= desc.len() {
        // every session may reach it: the smallest positive statistic still separates
        return None;
    }
    let v = desc[allowed]; // the (allowed + 1)-th largest must stay below
    // the smallest value strictly above v, among the first `allowed`
    let above = desc[..allowed].iter().rev().find(|&&x| x > v).copied();
    Some(match above {
        Some(a) => v + (a - v) / 2.0,
        None => {
            if v > 0.0 {
                v * MARGINS[0]
            } else {
                f64::MIN_POSITIVE
            }
        }
    })
}

impl DecisionModel {
    /// Fits the decision layer on `input` (see the module docs).
    pub fn fit(config: &DecisionConfig, input: FitInput<'_>) -> Result<DecisionModel> {
        config.validate()?;
        let rows = input.rows;
        if rows.len() < 2 {
            return Err(CoreError::NotEnoughData {
                what: "training requests for the decision fit",
                needed: 2,
                actual: rows.len(),
            });
        }
        let composites: Vec<f64> = rows.iter().map(|r| r.composite).collect();
        let surprise = SurpriseTable::fit(&composites)?;
        let floor = config.excess_floor();

        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| rows[i].timestamp); // stable: equal times keep their order
        let mut state = EvidenceState::for_config(config);
        let w = &config.weights;
        let weights = [w.user, w.device, w.source];
        // per session: (largest enforceable statistic, largest at a strict request)
        let mut sessions: std::collections::HashMap<u64, (f64, Option<f64>)> =
            std::collections::HashMap::new();
        for &i in &order {
            let r = &rows[i];
            let excess = (surprise.surprise(r.composite) - floor).max(0.0);
            let e = state.observe(&r.keys, r.timestamp, excess, i as i64, weights);
            let enforceable = if r.confidence > input.min_confidence {
                e.statistic
            } else {
                e.prior
            };
            let s = sessions.entry(r.keys.session).or_insert((0.0, None));
            s.0 = s.0.max(enforceable);
            if r.strict {
                s.1 = Some(s.1.map_or(enforceable, |m: f64| m.max(enforceable)));
            }
        }
        let mut all: Vec<f64> = sessions.values().map(|s| s.0).collect();
        let mut strict: Vec<f64> = sessions.values().filter_map(|s| s.1).collect();
        all.sort_by(|a, b| b.total_cmp(a));
        strict.sort_by(|a, b| b.total_cmp(a));
        let max = all.first().copied().unwrap_or(0.0);

        let c = input.censored;
        let total = all.len() as u64 + c.challenge;
        let budget = &config.budget;
        let level = |share: f64, censored: u64, margin: f64| -> f64 {
            let allowed = ((share * total as f64).floor() as u64).saturating_sub(censored);
            let allowed = allowed as usize;
            if allowed == 0 {
                return if max > 0.0 { max * margin } else { margin };
            }
            threshold_for(&all, allowed).unwrap_or_else(|| {
                // every kept session may reach it: just above zero evidence
                all.iter().rev().find(|&&x| x > 0.0).map_or(margin, |&x| x / 2.0)
            })
        };
        let mut challenge = level(budget.challenge, c.challenge, MARGINS[0]);
        let mut require2fa = level(budget.require2fa, c.require2fa, MARGINS[1]);
        let mut block = level(budget.block, c.block, MARGINS[2]);
        // strictly increasing, whatever the data
        challenge = challenge.max(f64::MIN_POSITIVE);
        require2fa = require2fa.max(challenge * MARGINS[0]);
        block = block.max(require2fa * MARGINS[0]);
        let strict_threshold = {
            let allowed = (budget.strict * strict.len() as f64).floor() as usize;
            let smax = strict.first().copied().unwrap_or(0.0);
            if allowed == 0 {
                // no strict session may be denied: above every one, and never below CHALLENGE
                (smax * MARGINS[0]).max(challenge)
            } else {
                threshold_for(&strict, allowed).unwrap_or(challenge)
            }
        };
        let thresholds = Thresholds {
            challenge,
            require2fa,
            block,
            strict: strict_threshold.max(f64::MIN_POSITIVE),
            tail_scale: (block - require2fa).max(0.25 * block),
        };
        let share = |h: f64, censored: u64| {
            let n = all.iter().filter(|&&x| x >= h).count() as u64 + censored;
            if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            }
        };
        let strict_share = if strict.is_empty() {
            0.0
        } else {
            strict.iter().filter(|&&x| x >= thresholds.strict).count() as f64 / strict.len() as f64
        };
        let report = FitReport {
            requests: rows.len(),
            sessions: all.len(),
            strict_sessions: strict.len(),
            censored: c,
            shares: LevelShares {
                challenge: share(thresholds.challenge, c.challenge),
                require2fa: share(thresholds.require2fa, c.require2fa),
                block: share(thresholds.block, c.block),
                strict: strict_share,
            },
            max_statistic: max,
        };
        let model = DecisionModel {
            config: config.clone(),
            surprise,
            thresholds,
            report,
        };
        model.validate()?;
        Ok(model)
    }
}

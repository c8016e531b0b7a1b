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
pub struct TrainingRow<'a> {
    pub timestamp: i64,
    pub keys: EntityKeys,
    /// The new model's composite score of the row.
    pub composite: f64,
    /// The new model's confidence of the row.
    pub confidence: f64,
    /// A request the strict check would judge (CRITICAL endpoint sensitivity).
    pub strict: bool,
    /// Its feature vector (for the watched features).
    pub features: &'a [f64],
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
    pub rows: &'a [TrainingRow<'a>],
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
    /// Distinct users among the training requests.
    pub users: usize,
    /// Days between the oldest and the newest training request.
    pub span_days: f64,
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

/// A training session's largest enforceable evidence.
#[derive(Clone, Copy, Debug, Default)]
struct SessionMax {
    level: f64,
    total: f64,
    strict_level: Option<f64>,
    strict_total: Option<f64>,
}

/// One statistic's session maxima, sorted from the largest, overall and at strict requests.
struct Levels {
    all: Vec<f64>,
    strict: Vec<f64>,
    max: f64,
}

impl Levels {
    fn of(sessions: &[SessionMax], pick: impl Fn(&SessionMax) -> (f64, Option<f64>)) -> Levels {
        let mut all: Vec<f64> = sessions.iter().map(|s| pick(s).0).collect();
        let mut strict: Vec<f64> = sessions.iter().filter_map(|s| pick(s).1).collect();
        all.sort_by(|a, b| b.total_cmp(a));
        strict.sort_by(|a, b| b.total_cmp(a));
        let max = all.first().copied().unwrap_or(0.0);
        Levels { all, strict, max }
    }

    /// Thresholds holding `budget` on these sessions, `censored` counted as having met friction.
    fn fit(&self, budget: &super::FrictionBudget, c: Censored) -> Thresholds {
        let (all, max) = (&self.all, self.max);
        let total = all.len() as u64 + c.challenge;
        let level = |share: f64, censored: u64, margin: f64| -> f64 {
            let allowed = ((share * total as f64).floor() as u64).saturating_sub(censored);
            let allowed = allowed as usize;
            if allowed == 0 {
                return if max > 0.0 { max * margin } else { margin };
            }
            threshold_for(all, allowed).unwrap_or_else(|| {
                // every kept session may reach it: just above zero evidence
                all.iter()
                    .rev()
                    .find(|&&x| x > 0.0)
                    .map_or(margin, |&x| x / 2.0)
            })
        };
        // strictly increasing, whatever the data
        let challenge = level(budget.challenge, c.challenge, MARGINS[0]).max(f64::MIN_POSITIVE);
        let require2fa =
            level(budget.require2fa, c.require2fa, MARGINS[1]).max(challenge * MARGINS[0]);
        let block = level(budget.block, c.block, MARGINS[2]).max(require2fa * MARGINS[0]);
        let strict = {
            let allowed = (budget.strict * self.strict.len() as f64).floor() as usize;
            let smax = self.strict.first().copied().unwrap_or(0.0);
            if allowed == 0 {
                // no strict session may be denied: above every one, and never below CHALLENGE
                (smax * MARGINS[0]).max(challenge)
            } else {
                threshold_for(&self.strict, allowed).unwrap_or(challenge)
            }
        };
        Thresholds {
            challenge,
            require2fa,
            block,
            strict: strict.max(f64::MIN_POSITIVE),
            tail_scale: (block - require2fa).max(0.25 * block),
        }
    }
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
        let watched = config
            .watched_features
            .iter()
            .map(|name| {
                let index = crate::features::feature_index(name).ok_or_else(|| {
                    CoreError::InvalidParameter {
                        name: "decision.watchedFeatures",
                        reason: format!("unknown feature '{name}'"),
                    }
                })?;
                let values: Vec<f64> = rows
                    .iter()
                    .map(|r| r.features.get(index).copied().unwrap_or(0.0))
                    .collect();
                Ok(super::WatchedFeature {
                    index,
                    table: SurpriseTable::fit(&values)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // the model as far as the replay needs it (thresholds come after)
        let partial = DecisionModel {
            config: config.clone(),
            surprise,
            watched,
            thresholds: Thresholds {
                challenge: 1.0,
                require2fa: 2.0,
                block: 3.0,
                strict: 1.0,
                tail_scale: 1.0,
            },
            sum_thresholds: None,
            report: FitReport {
                requests: 0,
                sessions: 0,
                users: 0,
                span_days: 0.0,
                strict_sessions: 0,
                censored: Censored::default(),
                shares: LevelShares::default(),
                max_statistic: 0.0,
            },
        };

        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| rows[i].timestamp); // stable: equal times keep their order
        let mut state = EvidenceState::for_config(config);
        let w = &config.weights;
        let weights = [w.user, w.device, w.source];
        // per session: the largest enforceable (statistic, sum), overall and at strict requests
        let mut sessions: std::collections::HashMap<u64, SessionMax> =
            std::collections::HashMap::new();
        for &i in &order {
            let r = &rows[i];
            let excess = partial.excess(r.composite, r.features);
            let e = state.observe(&r.keys, r.timestamp, excess, i as i64, weights);
            let (level, total) = if r.confidence > input.min_confidence {
                (e.statistic, e.total)
            } else {
                (e.prior, e.total_prior)
            };
            let s = sessions.entry(r.keys.session).or_default();
            s.level = s.level.max(level);
            s.total = s.total.max(total);
            if r.strict {
                s.strict_level = Some(s.strict_level.map_or(level, |m| m.max(level)));
                s.strict_total = Some(s.strict_total.map_or(total, |m| m.max(total)));
            }
        }
        let c = input.censored;
        let sum_share = config.sum_share;
        let sessions: Vec<SessionMax> = sessions.into_values().collect();
        let levels = Levels::of(&sessions, |s| (s.level, s.strict_level));
        let sums = Levels::of(&sessions, |s| (s.total, s.strict_total));
        let fit_both = |f: f64| {
            let t = levels.fit(&config.budget.scaled(f * (1.0 - sum_share)), c);
            let s = (sum_share > 0.0).then(|| sums.fit(&config.budget.scaled(f * sum_share), c));
            (t, s)
        };
        let union = |(t, s): &(Thresholds, Option<Thresholds>)| {
            sessions
                .iter()
                .filter(|x| {
                    x.level >= t.challenge || s.as_ref().is_some_and(|s| x.total >= s.challenge)
                })
                .count() as u64
                + c.challenge
        };
        // The two tests overlap (many sessions unusual by one are unusual by the other), so each
        // gets its share of the budget scaled up until together they spend it: the largest
        // factor in [1, 2] whose union stays within the CHALLENGE budget.
        let allowed =
            (config.budget.challenge * (sessions.len() as u64 + c.challenge) as f64).floor() as u64;
        let mut best = fit_both(1.0);
        if sum_share > 0.0 {
            let (mut lo, mut hi) = (1.0, 2.0);
            for _ in 0..24 {
                let mid = (lo + hi) / 2.0;
                let fit = fit_both(mid);
                if union(&fit) <= allowed {
                    lo = mid;
                    best = fit;
                } else {
                    hi = mid;
                }
            }
        }
        let (thresholds, sum_thresholds) = best;
        // what the two tests together achieve on the training sessions
        let reaches = |s: &SessionMax, pick: fn(&Thresholds) -> f64| {
            s.level >= pick(&thresholds)
                || sum_thresholds.as_ref().is_some_and(|t| s.total >= pick(t))
        };
        let total = sessions.len() as u64 + c.challenge;
        let share = |pick: fn(&Thresholds) -> f64, censored: u64| {
            let n = sessions.iter().filter(|s| reaches(s, pick)).count() as u64 + censored;
            if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            }
        };
        let strict_sessions: Vec<&SessionMax> = sessions
            .iter()
            .filter(|s| s.strict_level.is_some())
            .collect();
        let strict_denied = strict_sessions
            .iter()
            .filter(|s| {
                s.strict_level.is_some_and(|l| l >= thresholds.strict)
                    || sum_thresholds
                        .as_ref()
                        .is_some_and(|t| s.strict_total.is_some_and(|x| x >= t.strict))
            })
            .count();
        let users: std::collections::HashSet<u64> = rows.iter().map(|r| r.keys.user).collect();
        let (lo, hi) = rows.iter().fold((i64::MAX, i64::MIN), |(lo, hi), r| {
            (lo.min(r.timestamp), hi.max(r.timestamp))
        });
        let report = FitReport {
            requests: rows.len(),
            sessions: sessions.len(),
            users: users.len(),
            span_days: (hi.saturating_sub(lo)).max(0) as f64 / 86_400_000.0,
            strict_sessions: strict_sessions.len(),
            censored: c,
            shares: LevelShares {
                challenge: share(|t| t.challenge, c.challenge),
                require2fa: share(|t| t.require2fa, c.require2fa),
                block: share(|t| t.block, c.block),
                strict: strict_denied as f64 / strict_sessions.len().max(1) as f64,
            },
            max_statistic: levels.max,
        };
        let model = DecisionModel {
            thresholds,
            sum_thresholds,
            report,
            ..partial
        };
        model.validate()?;
        Ok(model)
    }
}

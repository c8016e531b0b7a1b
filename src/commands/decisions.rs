//! The decisions part of `ml-anomaly quality`: what the product *does* about simulated traffic,
//! not only how well the score ranks it.
//!
//! The decision layer is fitted on the warm-up's sessions exactly as the engine fits it at
//! training (anomaly_core::decision), and the live traffic is replayed through it in time order.
//! Reported, per attack scenario: attacked sessions (and attack instances) that met friction
//! (CHALLENGE or worse, or a strict-check denial), the share of attack requests that did, and
//! how many attack requests came before the first friction; for normal traffic, the share of
//! sessions that met each level and of strict sessions denied. Then twice more:
//! - **rotated**: every attack request under a session id of its own (the evasion of the
//!   session-scoped original), features recomputed;
//! - **with an analyst** who, at the end of each live day, reviews the 20 highest-scoring
//!   sessions of that day and reports them truthfully (a false positive for a normal session, a
//!   confirmed attack for an attacked one): normal friction with and without that feedback.

use std::collections::{BTreeMap, HashMap};

use anomaly_core::bundle::ModelBundle;
use anomaly_core::decision::fit::Censored;
use anomaly_core::decision::{
    action_of_score, Allowances, DecisionConfig, DecisionModel, EntityKeys, EvidenceState,
    FitInput, TrainingRow,
};
use anomaly_core::explain::AttributionMethod;
use anomaly_core::features::{BehaviorState, StateConfig};
use anomaly_core::policy::{Action, ActionPolicy};
use anomaly_core::simulate::{LabeledEvent, Scenario};
use anomaly_core::N_FEATURES;
use serde::Serialize;

use crate::error::CliError;

/// Sessions a day the simulated analyst reviews.
const REVIEWS_PER_DAY: usize = 20;
/// The engine's default `prediction.enforceMinConfidence`.
const MIN_CONFIDENCE: f64 = 0.8;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NormalFriction {
    /// Share of normal sessions with CHALLENGE or worse, by live day (UTC).
    pub by_day: Vec<f64>,
    pub sessions: usize,
    pub requests: usize,
    /// Shares of normal sessions that met each level at least once.
    pub challenge_or_worse: f64,
    pub require2fa_or_worse: f64,
    pub block: f64,
    pub strict_sessions: usize,
    /// Share of normal sessions with a strict request that the strict check denied.
    pub strict_denied: f64,
    /// Share of normal requests that met friction.
    pub requests_with_friction: f64,
    /// Sessions with CHALLENGE or worse of users whom an attack targeted during the run (their
    /// evidence includes the attacker's), out of `challenge_or_worse`.
    pub of_attacked_users: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioFriction {
    pub scenario: String,
    pub sessions: usize,
    pub sessions_with_friction: usize,
    pub instances: usize,
    pub instances_with_friction: usize,
    pub attack_requests: usize,
    /// Share of the attack's requests that met friction.
    pub request_friction_rate: f64,
    /// Median number of attack requests of an instance up to its first friction.
    pub median_requests_to_first_friction: Option<f64>,
    /// Requests of the attack that reached each level.
    pub levels: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Friction {
    pub normal: NormalFriction,
    pub scenarios: Vec<ScenarioFriction>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionsReport {
    /// The original's rule, each request judged alone (its action on the composite, enforced
    /// above 0.8 confidence, the strict check's `score > 0.7`): what the decision layer replaces.
    pub per_request: Friction,
    pub fit: anomaly_core::decision::fit::FitReport,
    pub thresholds: anomaly_core::decision::Thresholds,
    pub live: Friction,
    pub rotated: Friction,
    /// Per scenario: the rotated request friction rate over the unrotated one.
    pub rotation_ratio: BTreeMap<String, f64>,
    pub with_analyst: Friction,
    pub analyst_reviews: usize,
}

/// The identities of a request, as the engine hashes them (the quality run needs no secret).
pub fn keys_of(e: &anomaly_core::features::RequestEvent) -> EntityKeys {
    EntityKeys::of_event(0, e)
}

struct Scored {
    composite: f64,
    confidence: f64,
    contributions: Vec<f64>,
}

fn score_all(bundle: &ModelBundle, features: &[f64]) -> Result<Vec<Scored>, CliError> {
    let mut ws = bundle.workspace();
    features
        .chunks_exact(N_FEATURES)
        .map(|x| {
            let s = bundle.attribute_with(x, AttributionMethod::Fast, &mut ws)?;
            Ok(Scored {
                composite: s.composite,
                confidence: s.confidence,
                contributions: ws.contributions().to_vec(),
            })
        })
        .collect()
}

fn features_of(events: &[LabeledEvent]) -> Result<Vec<f64>, CliError> {
    let mut state = BehaviorState::new(StateConfig::default())?;
    let mut out = vec![0.0; events.len() * N_FEATURES];
    let mut row = [0.0; N_FEATURES];
    for (i, e) in events.iter().enumerate() {
        state.observe(&e.event, &mut row)?;
        out[i * N_FEATURES..(i + 1) * N_FEATURES].copy_from_slice(&row);
    }
    Ok(out)
}

/// What was decided for one live request.
#[derive(Clone, Copy)]
struct Outcome {
    score: f64,
    enforced: Action,
    strict_denied: bool,
}

/// Replays `events` (with their features and scores) through the decision layer; with `analyst`,
/// reviews each day's top sessions at the day's end.
fn replay(
    model: &DecisionModel,
    events: &[LabeledEvent],
    features: &[f64],
    scored: &[Scored],
    analyst: bool,
    reviews: &mut usize,
) -> Vec<Outcome> {
    let cfg = &model.config;
    let policy = ActionPolicy::default();
    let weights = [cfg.weights.user, cfg.weights.device, cfg.weights.source];
    let mut state = EvidenceState::for_config(cfg);
    let mut allowances = Allowances::default();
    let mut out = Vec::with_capacity(events.len());
    let mut day_start = 0usize;
    let day_of = |t: i64| t.div_euclid(DAY_MS);
    for (i, e) in events.iter().enumerate() {
        if analyst
            && i > day_start
            && day_of(e.event.timestamp) != day_of(events[i - 1].event.timestamp)
        {
            review(
                model,
                &events[day_start..i],
                &scored[day_start..i],
                &out[day_start..i],
                events[i - 1].event.timestamp,
                &mut state,
                &mut allowances,
                reviews,
            );
            day_start = i;
        }
        let keys = keys_of(&e.event);
        let s = &scored[i];
        let factor = allowances.factor(
            &cfg.feedback,
            keys.user,
            &s.contributions,
            e.event.timestamp,
        );
        let x = &features[i * N_FEATURES..(i + 1) * N_FEATURES];
        let excess = model.excess(s.composite, x) * factor;
        let ev = state.observe(&keys, e.event.timestamp, excess, i as i64, weights);
        let (level, total) = if s.confidence > MIN_CONFIDENCE {
            (ev.statistic, ev.total)
        } else {
            (ev.prior, ev.total_prior)
        };
        let score = model.score(level, total);
        out.push(Outcome {
            score,
            enforced: action_of_score(score, &policy),
            strict_denied: anomaly_core::decision::is_strict_request(x)
                && model.strict_denies(level, total),
        });
    }
    out
}

/// The analyst's end-of-day review: the `REVIEWS_PER_DAY` highest-scoring sessions of the day,
/// reported truthfully.
#[allow(clippy::too_many_arguments)]
fn review(
    model: &DecisionModel,
    events: &[LabeledEvent],
    scored: &[Scored],
    outcomes: &[Outcome],
    now: i64,
    state: &mut EvidenceState,
    allowances: &mut Allowances,
    reviews: &mut usize,
) {
    // each session's highest-scoring request
    let mut best: HashMap<&str, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let slot = best.entry(e.event.session_id.as_str()).or_insert(i);
        if outcomes[i].score > outcomes[*slot].score {
            *slot = i;
        }
    }
    let mut top: Vec<usize> = best
        .into_values()
        .filter(|&i| outcomes[i].enforced >= Action::Challenge || outcomes[i].strict_denied)
        .collect();
    top.sort_by(|a, b| {
        outcomes[*b]
            .score
            .total_cmp(&outcomes[*a].score)
            .then(a.cmp(b))
    });
    let cfg = &model.config.feedback;
    for &i in top.iter().take(REVIEWS_PER_DAY) {
        *reviews += 1;
        let e = &events[i];
        let keys = keys_of(&e.event);
        if e.label.attack {
            state.confirm(
                &keys,
                now,
                cfg.confirm_boost * model.thresholds.challenge,
                cfg.confirm_shares(),
            );
        } else if e.label.scenario == Scenario::Normal {
            allowances.add(
                cfg,
                keys.user,
                &scored[i].contributions,
                now,
                model.config.max_entities,
            );
        }
    }
}

fn friction(events: &[LabeledEvent], features: &[f64], outcomes: &[Outcome]) -> Friction {
    let met = |o: &Outcome| o.enforced >= Action::Challenge || o.strict_denied;
    // normal sessions: (level reached, had strict, strict denied)
    let mut normal: HashMap<&str, (Action, bool, bool)> = HashMap::new();
    let (mut normal_requests, mut normal_friction) = (0usize, 0usize);
    for (i, (e, o)) in events.iter().zip(outcomes).enumerate() {
        if e.label.scenario != Scenario::Normal {
            continue;
        }
        normal_requests += 1;
        normal_friction += usize::from(met(o));
        let s = normal
            .entry(e.event.session_id.as_str())
            .or_insert((Action::Allow, false, false));
        s.0 = s.0.max(o.enforced);
        let strict = anomaly_core::decision::is_strict_request(
            &features[i * N_FEATURES..(i + 1) * N_FEATURES],
        );
        s.1 |= strict;
        s.2 |= strict && o.strict_denied;
    }
    let n = normal.len().max(1) as f64;
    let share = |a: Action| normal.values().filter(|s| s.0 >= a).count() as f64 / n;
    let mut days: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    {
        let mut first: HashMap<&str, i64> = HashMap::new();
        for e in events
            .iter()
            .filter(|e| e.label.scenario == Scenario::Normal)
        {
            first
                .entry(e.event.session_id.as_str())
                .or_insert(e.event.timestamp.div_euclid(DAY_MS));
        }
        for (s, v) in &normal {
            let d = days.entry(first[s]).or_default();
            d.0 += 1;
            d.1 += usize::from(v.0 >= Action::Challenge);
        }
    }
    let by_day = days
        .values()
        .map(|(n, f)| *f as f64 / (*n).max(1) as f64)
        .collect();
    let strict_sessions = normal.values().filter(|s| s.1).count();
    let attacked_users: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.label.attack)
        .map(|e| e.event.user_id.as_str())
        .collect();
    let session_user: HashMap<&str, &str> = events
        .iter()
        .map(|e| (e.event.session_id.as_str(), e.event.user_id.as_str()))
        .collect();
    let of_attacked_users = normal
        .iter()
        .filter(|(s, v)| v.0 >= Action::Challenge && attacked_users.contains(session_user[*s]))
        .count();
    let normal = NormalFriction {
        by_day,
        sessions: normal.len(),
        requests: normal_requests,
        challenge_or_worse: share(Action::Challenge),
        require2fa_or_worse: share(Action::Require2fa),
        block: share(Action::Block),
        strict_sessions,
        strict_denied: normal.values().filter(|s| s.2).count() as f64
            / strict_sessions.max(1) as f64,
        requests_with_friction: normal_friction as f64 / normal_requests.max(1) as f64,
        of_attacked_users,
    };
    let mut scenarios = Vec::new();
    for scenario in Scenario::ATTACKS {
        let mut sessions: HashMap<&str, bool> = HashMap::new();
        // instance -> (requests so far, requests until first friction)
        let mut instances: BTreeMap<u32, (usize, Option<usize>)> = BTreeMap::new();
        let (mut requests, mut with_friction) = (0usize, 0usize);
        let mut levels: BTreeMap<String, usize> = BTreeMap::new();
        for (e, o) in events.iter().zip(outcomes) {
            if e.label.scenario != scenario || !e.label.attack {
                continue;
            }
            requests += 1;
            let m = met(o);
            with_friction += usize::from(m);
            *levels.entry(o.enforced.as_str().to_string()).or_default() += 1;
            *sessions.entry(e.event.session_id.as_str()).or_default() |= m;
            if let Some(id) = e.label.attack_id {
                let inst = instances.entry(id).or_insert((0, None));
                inst.0 += 1;
                if m && inst.1.is_none() {
                    inst.1 = Some(inst.0);
                }
            }
        }
        let mut firsts: Vec<usize> = instances.values().filter_map(|i| i.1).collect();
        firsts.sort_unstable();
        let median = (!firsts.is_empty()).then(|| {
            let k = firsts.len();
            if k % 2 == 1 {
                firsts[k / 2] as f64
            } else {
                (firsts[k / 2 - 1] + firsts[k / 2]) as f64 / 2.0
            }
        });
        scenarios.push(ScenarioFriction {
            scenario: scenario.as_str().to_string(),
            sessions: sessions.len(),
            sessions_with_friction: sessions.values().filter(|&&m| m).count(),
            instances: instances.len(),
            instances_with_friction: instances.values().filter(|i| i.1.is_some()).count(),
            attack_requests: requests,
            request_friction_rate: with_friction as f64 / requests.max(1) as f64,
            median_requests_to_first_friction: median,
            levels,
        });
    }
    Friction { normal, scenarios }
}

/// Every attack request under a session id of its own.
fn rotated(events: &[LabeledEvent]) -> Vec<LabeledEvent> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            if e.label.attack {
                e.event.session_id = format!("{}~rot{i}", e.event.session_id);
            }
            e
        })
        .collect()
}

/// Which warm-up requests the decision layer is fitted on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Holdout {
    /// All of them, scored by the model trained on all of them (in-sample).
    None,
    /// A fifth of the sessions, scored by a model trained on the other four fifths.
    Sessions,
    /// The latest fifth of the requests, scored by a model trained on the earlier ones.
    Recent,
}

/// The decisions report of a simulation: `events` sorted by time, `features` their vectors,
/// `prefix` the warm-up length (normal traffic, what `bundle` was trained on).
pub fn evaluate(
    events: &[LabeledEvent],
    features: &[f64],
    prefix: usize,
    bundle: &ModelBundle,
    config: &DecisionConfig,
    holdout: Holdout,
    seed: u64,
) -> Result<DecisionsReport, CliError> {
    let fit_on: Vec<bool> = match holdout {
        Holdout::None => vec![true; prefix],
        Holdout::Sessions => events[..prefix]
            .iter()
            .map(|e| keys_of(&e.event).session.is_multiple_of(5))
            .collect(),
        Holdout::Recent => (0..prefix).map(|i| i >= prefix * 4 / 5).collect(),
    };
    let trained;
    let bundle = if holdout == Holdout::None {
        bundle
    } else {
        let idx: Vec<usize> = (0..prefix).filter(|&i| !fit_on[i]).collect();
        let stride = idx.len().div_ceil(50_000);
        let idx: Vec<usize> = idx.into_iter().step_by(stride).collect();
        let mut m = ndarray::Array2::zeros((idx.len(), N_FEATURES));
        for (r, &i) in idx.iter().enumerate() {
            for j in 0..N_FEATURES {
                m[[r, j]] = features[i * N_FEATURES + j];
            }
        }
        trained = ModelBundle::train(
            m.view(),
            &anomaly_core::bundle::TrainConfig::default(),
            seed,
        )?;
        &trained
    };
    let scored = score_all(bundle, features)?;
    let rows: Vec<TrainingRow> = events[..prefix]
        .iter()
        .zip(&scored)
        .zip(features.chunks_exact(N_FEATURES))
        .zip(&fit_on)
        .filter(|(_, &f)| f)
        .map(|(r, _)| r)
        .map(|((e, s), x)| TrainingRow {
            timestamp: e.event.timestamp,
            keys: keys_of(&e.event),
            composite: s.composite,
            confidence: s.confidence,
            strict: anomaly_core::decision::is_strict_request(x),
            features: x,
        })
        .collect();
    let model = DecisionModel::fit(
        config,
        FitInput {
            rows: &rows,
            censored: Censored::default(),
            min_confidence: MIN_CONFIDENCE,
        },
    )?;
    let live = &events[prefix..];
    let live_features = &features[prefix * N_FEATURES..];
    let live_scored = &scored[prefix..];
    let policy = ActionPolicy::default();
    let per_request: Vec<Outcome> = live_scored
        .iter()
        .zip(live_features.chunks_exact(N_FEATURES))
        .map(|(s, x)| {
            let action = policy.action(s.composite);
            Outcome {
                score: s.composite,
                enforced: if s.confidence > MIN_CONFIDENCE || action == Action::Allow {
                    action
                } else {
                    Action::Monitor
                },
                strict_denied: anomaly_core::decision::is_strict_request(x)
                    && policy.is_anomaly(s.composite)
                    && s.composite > 0.7,
            }
        })
        .collect();
    let per_request = friction(live, live_features, &per_request);
    let mut reviews = 0;
    let outcomes = replay(
        &model,
        live,
        live_features,
        live_scored,
        false,
        &mut reviews,
    );
    let live_friction = friction(live, live_features, &outcomes);
    let with = replay(&model, live, live_features, live_scored, true, &mut reviews);
    let with_analyst = friction(live, live_features, &with);

    if std::env::var_os("ML_ANOMALY_DEBUG_FRICTION").is_some() {
        // how long after an attack on the same user its owner's sessions meet friction
        let mut last_attack: HashMap<&str, i64> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for (e, o) in live.iter().zip(&outcomes) {
            if e.label.attack {
                last_attack.insert(e.event.user_id.as_str(), e.event.timestamp);
            } else if e.label.scenario == Scenario::Normal
                && o.enforced >= Action::Challenge
                && seen.insert(e.event.session_id.as_str())
            {
                if let Some(t) = last_attack.get(e.event.user_id.as_str()) {
                    eprintln!(
                        "spill {} min after an attack",
                        (e.event.timestamp - t) / 60_000
                    );
                } else {
                    eprintln!("spill none");
                }
            }
        }
        // which normal sessions met friction, and why (for tuning; off by default)
        let mut seen = std::collections::HashSet::new();
        for (i, (e, o)) in live.iter().zip(&outcomes).enumerate() {
            if e.label.scenario == Scenario::Normal
                && o.enforced >= Action::Challenge
                && seen.insert(e.event.session_id.as_str())
            {
                let c = &live_scored[i].contributions;
                let mut idx: Vec<usize> = (0..N_FEATURES).collect();
                idx.sort_by(|a, b| c[*b].total_cmp(&c[*a]));
                let names: Vec<&str> = idx[..3]
                    .iter()
                    .map(|&j| anomaly_core::FEATURE_NAMES[j])
                    .collect();
                eprintln!(
                    "day {} user {} session {} score {:.3} top {:?}",
                    e.event.timestamp.div_euclid(DAY_MS) % 100,
                    e.event.user_id,
                    e.event.session_id,
                    o.score,
                    names
                );
            }
        }
    }
    let rot_events = rotated(events);
    let rot_features = features_of(&rot_events)?;
    let rot_scored = score_all(bundle, &rot_features[prefix * N_FEATURES..])?;
    let mut unused = 0;
    let rot_outcomes = replay(
        &model,
        &rot_events[prefix..],
        &rot_features[prefix * N_FEATURES..],
        &rot_scored,
        false,
        &mut unused,
    );
    let rot_friction = friction(
        &rot_events[prefix..],
        &rot_features[prefix * N_FEATURES..],
        &rot_outcomes,
    );
    if std::env::var_os("ML_ANOMALY_DEBUG_FRICTION").is_some() {
        for scenario in Scenario::ATTACKS {
            let mean = |ev: &[LabeledEvent], sc: &[Scored], fx: &[f64]| {
                let v: Vec<f64> = ev
                    .iter()
                    .zip(sc)
                    .zip(fx.chunks_exact(N_FEATURES))
                    .filter(|((e, _), _)| e.label.attack && e.label.scenario == scenario)
                    .map(|((_, s), x)| model.excess(s.composite, x))
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            eprintln!(
                "{:?}: mean excess live {:.2} rotated {:.2}",
                scenario,
                mean(live, live_scored, live_features),
                mean(
                    &rot_events[prefix..],
                    &rot_scored,
                    &rot_features[prefix * N_FEATURES..]
                )
            );
        }
    }
    let rotation_ratio = live_friction
        .scenarios
        .iter()
        .zip(&rot_friction.scenarios)
        .map(|(a, b)| {
            let r = if a.request_friction_rate > 0.0 {
                b.request_friction_rate / a.request_friction_rate
            } else {
                1.0
            };
            (a.scenario.clone(), r)
        })
        .collect();
    Ok(DecisionsReport {
        per_request,
        fit: model.report.clone(),
        thresholds: model.thresholds.clone(),
        live: live_friction,
        rotated: rot_friction,
        rotation_ratio,
        with_analyst,
        analyst_reviews: reviews,
    })
}

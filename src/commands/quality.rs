//! `ml-anomaly quality`: how well does the whole pipeline catch the simulated attacks?
//!
//! simulate (or read a `simulate` file) → run every event, in time order, through ONE
//! `BehaviorState` (so each event gets the features it would have had live) → train the
//! model on the events of the normal-only warm-up prefix → score every later event → report:
//!
//! - ROC-AUC of the attack events against the normal events (overall and per scenario);
//! - the alarm threshold that lets `--fpr` (2 %) of the scored normal events through, and at
//!   it, per scenario: the share of attack events alarmed, of attacked sessions with at least
//!   one alarmed attack event, and of attack instances (a credential-stuffing campaign spans
//!   many sessions) with at least one alarm; plus the share of normal sessions with an alarm.
//!
//! Negatives are the events of untouched sessions (scenario `normal`). A hijack victim's own
//! requests are neither positive nor negative (their session is attacked, they are not the
//! attack). A session only counts as detected through its *attack* events, so an alarm on the
//! victim before the hijack does not count.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Instant;

use anomaly_core::bundle::{ModelBundle, TrainConfig};
use anomaly_core::features::{BehaviorState, StateConfig, N_FEATURES};
use anomaly_core::forest::{ForestParams, IsolationForest};
use anomaly_core::metrics::{detection_at_fpr, roc_auc};
use anomaly_core::simulate::{simulate, LabeledEvent, Scenario};
use ndarray::Array2;
use serde::Serialize;

use super::simulate::SimArgs;
use crate::error::CliError;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelKind {
    /// The full ensemble (Isolation Forest + autoencoder, calibrated composite).
    Bundle,
    /// The Isolation Forest alone.
    Forest,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Read events written by `ml-anomaly simulate` instead of simulating (the simulation
    /// arguments then only locate the warm-up prefix: --start-ms and --warmup-days).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// False-positive rate on normal events that sets the alarm threshold.
    #[arg(long, value_name = "RATE", default_value_t = 0.02)]
    pub fpr: f64,
    /// Which model to evaluate.
    #[arg(long, value_enum, default_value = "bundle")]
    pub model: ModelKind,
    /// Train on at most this many warm-up rows (evenly spaced in time).
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    pub max_train_rows: usize,
    /// Also write every scored event as CSV (labels, score, the 59 features) for analysis.
    #[arg(long, value_name = "FILE")]
    pub scores_out: Option<PathBuf>,
    /// Skip the decisions report (friction per session, rotation, the simulated analyst).
    #[arg(long)]
    pub no_decisions: bool,
    /// The decision layer's settings as JSON (any subset of the engine's
    /// `prediction.decision`), e.g. '{"halfLifeMs": 3600000}'.
    #[arg(long, value_name = "JSON")]
    pub decision_config: Option<String>,
    /// Which warm-up requests the decision layer is fitted on.
    #[arg(long, value_enum, default_value = "none")]
    pub decision_holdout: super::decisions::Holdout,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioReport {
    pub scenario: String,
    pub attack_events: usize,
    /// Attack events of this scenario against all scored normal events.
    pub roc_auc: Option<f64>,
    /// Share of its attack events scoring above the threshold.
    pub event_detection_rate: f64,
    pub sessions: usize,
    pub sessions_detected: usize,
    pub session_detection_rate: f64,
    pub instances: usize,
    pub instances_detected: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityReport {
    pub model: ModelKind,
    pub events: usize,
    pub train_rows: usize,
    pub scored_normal_events: usize,
    pub scored_attack_events: usize,
    pub roc_auc: Option<f64>,
    pub fpr: f64,
    pub threshold: Option<f64>,
    /// Share of scored normal sessions with at least one event above the threshold.
    pub normal_sessions_alarmed: f64,
    pub scenarios: Vec<ScenarioReport>,
    pub every_attacked_session_detected: bool,
    /// What the decision layer does with the traffic (the full ensemble only).
    pub decisions: Option<super::decisions::DecisionsReport>,
    pub timings_ms: BTreeMap<String, f64>,
}

fn read_events(path: &PathBuf) -> Result<Vec<LabeledEvent>, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut events = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| CliError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: LabeledEvent = serde_json::from_str(&line)
            .map_err(|e| CliError::data(path, format!("line {}: {e}", i + 1)))?;
        events.push(e);
    }
    Ok(events)
}

enum Model {
    Bundle(Box<ModelBundle>),
    Forest(Box<IsolationForest>),
}

impl Model {
    fn score(&self, x: &[f64]) -> Result<f64, CliError> {
        Ok(match self {
            Model::Bundle(b) => b.score(x)?.composite,
            Model::Forest(f) => f.score(x),
        })
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let report = evaluate(&args)?;
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| CliError::Usage(format!("cannot encode the report: {e}")))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| CliError::io("<stdout>", e))
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

/// The work behind `run`.
pub fn evaluate(args: &Args) -> Result<QualityReport, CliError> {
    if !(args.fpr > 0.0 && args.fpr < 1.0) {
        return Err(CliError::Usage(format!(
            "--fpr must be in (0, 1), got {}",
            args.fpr
        )));
    }
    if args.max_train_rows < 100 {
        return Err(CliError::Usage(
            "--max-train-rows must be at least 100".into(),
        ));
    }
    let cfg = args.sim.config();
    let mut timings = BTreeMap::new();

    let t = Instant::now();
    let mut events = match &args.input {
        Some(path) => read_events(path)?,
        None => simulate(&cfg)?,
    };
    events.sort_by_key(|e| e.event.timestamp);
    timings.insert("simulate".to_string(), ms(t));

    // one state, time order: each event gets exactly the vector it would have had live
    let t = Instant::now();
    let mut state = BehaviorState::new(StateConfig::default())?;
    let mut features = vec![0.0; events.len() * N_FEATURES];
    let mut row = [0.0; N_FEATURES];
    for (i, e) in events.iter().enumerate() {
        state.observe(&e.event, &mut row)?;
        features[i * N_FEATURES..(i + 1) * N_FEATURES].copy_from_slice(&row);
    }
    timings.insert("features".to_string(), ms(t));

    let warmup_end = cfg.warmup_end_ms();
    let prefix = events
        .iter()
        .take_while(|e| e.event.timestamp < warmup_end)
        .count();
    if events[..prefix].iter().any(|e| e.label.session_attacked) {
        return Err(CliError::Usage(
            "the warm-up prefix contains attack traffic: lower --warmup-days".into(),
        ));
    }
    if prefix < 100 {
        return Err(CliError::Usage(format!(
            "only {prefix} events in the warm-up prefix: raise --warmup-days"
        )));
    }
    let stride = prefix.div_ceil(args.max_train_rows);
    let train_idx: Vec<usize> = (0..prefix).step_by(stride).collect();
    let mut train = Array2::zeros((train_idx.len(), N_FEATURES));
    for (r, &i) in train_idx.iter().enumerate() {
        for (j, v) in features[i * N_FEATURES..(i + 1) * N_FEATURES]
            .iter()
            .enumerate()
        {
            train[[r, j]] = *v;
        }
    }

    let t = Instant::now();
    let model = match args.model {
        ModelKind::Bundle => Model::Bundle(Box::new(ModelBundle::train(
            train.view(),
            &TrainConfig::default(),
            cfg.seed,
        )?)),
        ModelKind::Forest => Model::Forest(Box::new(IsolationForest::fit(
            train.view(),
            &ForestParams::default(),
            cfg.seed,
        )?)),
    };
    timings.insert("train".to_string(), ms(t));

    let t = Instant::now();
    let decision_config: anomaly_core::decision::DecisionConfig = match &args.decision_config {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| CliError::Usage(format!("--decision-config: {e}")))?,
        None => Default::default(),
    };
    decision_config.validate()?;
    let decisions = match &model {
        Model::Bundle(bundle) if !args.no_decisions => Some(super::decisions::evaluate(
            &events,
            &features,
            prefix,
            bundle,
            &decision_config,
            args.decision_holdout,
            cfg.seed,
        )?),
        _ => None,
    };
    timings.insert("decisions".to_string(), ms(t));

    let t = Instant::now();
    let mut scores = Vec::with_capacity(events.len() - prefix);
    for i in prefix..events.len() {
        scores.push(model.score(&features[i * N_FEATURES..(i + 1) * N_FEATURES])?);
    }
    timings.insert("score".to_string(), ms(t));
    let scored = &events[prefix..];
    if let Some(path) = &args.scores_out {
        write_scores(path, scored, &scores, &features[prefix * N_FEATURES..])?;
    }

    // overall: attack events vs normal events (victims of a hijack excluded)
    let (mut s_all, mut l_all) = (Vec::new(), Vec::new());
    for (e, &s) in scored.iter().zip(&scores) {
        if e.label.attack || e.label.scenario == Scenario::Normal {
            s_all.push(s);
            l_all.push(e.label.attack);
        }
    }
    let roc = roc_auc(&s_all, &l_all);
    let threshold = detection_at_fpr(&s_all, &l_all, args.fpr)
        .map(|(t, _)| t)
        .or_else(|| {
            // no attacks scored: the threshold from the normal events alone
            let mut neg: Vec<f64> = s_all.clone();
            neg.sort_by(|a, b| b.total_cmp(a));
            neg.get(
                ((args.fpr * neg.len() as f64).floor() as usize).min(neg.len().saturating_sub(1)),
            )
            .copied()
        });
    let above = |s: f64| threshold.is_some_and(|t| s > t);

    let mut normal_sessions: BTreeMap<&str, bool> = BTreeMap::new();
    for (e, &s) in scored.iter().zip(&scores) {
        if e.label.scenario == Scenario::Normal {
            *normal_sessions
                .entry(e.event.session_id.as_str())
                .or_default() |= above(s);
        }
    }
    let normal_scores: Vec<f64> = scored
        .iter()
        .zip(&scores)
        .filter(|(e, _)| e.label.scenario == Scenario::Normal)
        .map(|(_, &s)| s)
        .collect();

    let mut reports = Vec::new();
    for scenario in Scenario::ATTACKS {
        let mut attack_scores = Vec::new();
        let mut sessions: BTreeMap<&str, bool> = BTreeMap::new();
        let mut instances: BTreeMap<u32, bool> = BTreeMap::new();
        for (e, &s) in scored.iter().zip(&scores) {
            if e.label.scenario != scenario || !e.label.attack {
                continue;
            }
            attack_scores.push(s);
            *sessions.entry(e.event.session_id.as_str()).or_default() |= above(s);
            if let Some(id) = e.label.attack_id {
                *instances.entry(id).or_default() |= above(s);
            }
        }
        let mut s: Vec<f64> = normal_scores.clone();
        s.extend(&attack_scores);
        let mut l = vec![false; normal_scores.len()];
        l.extend(std::iter::repeat_n(true, attack_scores.len()));
        let detected_events = attack_scores.iter().filter(|&&x| above(x)).count();
        let sessions_detected = sessions.values().filter(|&&d| d).count();
        reports.push(ScenarioReport {
            scenario: scenario.as_str().to_string(),
            attack_events: attack_scores.len(),
            roc_auc: roc_auc(&s, &l),
            event_detection_rate: ratio(detected_events, attack_scores.len()),
            sessions: sessions.len(),
            sessions_detected,
            session_detection_rate: ratio(sessions_detected, sessions.len()),
            instances: instances.len(),
            instances_detected: instances.values().filter(|&&d| d).count(),
        });
    }
    let every = reports
        .iter()
        .all(|r| r.sessions > 0 && r.sessions_detected == r.sessions);
    let attacked_sessions: BTreeSet<&str> = scored
        .iter()
        .filter(|e| e.label.attack)
        .map(|e| e.event.session_id.as_str())
        .collect();
    Ok(QualityReport {
        model: args.model,
        events: events.len(),
        train_rows: train_idx.len(),
        scored_normal_events: normal_scores.len(),
        scored_attack_events: scored.iter().filter(|e| e.label.attack).count(),
        roc_auc: roc,
        fpr: args.fpr,
        threshold,
        normal_sessions_alarmed: ratio(
            normal_sessions.values().filter(|&&a| a).count(),
            normal_sessions.len(),
        ),
        scenarios: reports,
        every_attacked_session_detected: every && !attacked_sessions.is_empty(),
        decisions,
        timings_ms: timings,
    })
}

fn write_scores(
    path: &PathBuf,
    events: &[LabeledEvent],
    scores: &[f64],
    features: &[f64],
) -> Result<(), CliError> {
    let file = std::fs::File::create(path).map_err(|e| CliError::io(path, e))?;
    let mut out = std::io::BufWriter::new(file);
    let io = |e| CliError::io(path, e);
    write!(out, "timestamp,session_id,user_id,scenario,attack,session_attacked,attack_id,endpoint,method,status,score").map_err(io)?;
    for name in anomaly_core::FEATURE_NAMES {
        write!(out, ",{name}").map_err(io)?;
    }
    writeln!(out).map_err(io)?;
    for ((e, s), x) in events
        .iter()
        .zip(scores)
        .zip(features.chunks_exact(N_FEATURES))
    {
        let endpoint = e
            .event
            .endpoint
            .as_deref()
            .unwrap_or("")
            .replace([',', '"'], "_");
        write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            e.event.timestamp,
            e.event.session_id,
            e.event.user_id,
            e.label.scenario.as_str(),
            u8::from(e.label.attack),
            u8::from(e.label.session_attacked),
            e.label.attack_id.map_or(String::new(), |i| i.to_string()),
            endpoint,
            e.event.method.as_deref().unwrap_or(""),
            e.event.status_code.map_or(String::new(), |c| c.to_string()),
            s
        )
        .map_err(io)?;
        for v in x {
            write!(out, ",{v}").map_err(io)?;
        }
        writeln!(out).map_err(io)?;
    }
    out.flush().map_err(io)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

//! The per-request answer, from the engine to JavaScript, through a `Float64Array`.
//!
//! Why numbers in a buffer: a JS object built through napi costs a property key and a value per
//! field — about forty of them for the original's answer shape with five explained features —
//! which measured several times the cost of the model itself. So `predictInto` writes the answer
//! as numbers into a `Float64Array` the package allocated once, and the package builds the
//! object in JavaScript, where an object literal costs almost nothing. Names travel as indices
//! into lists the package reads once (`featureNames()`, `signalNames()`, the action order below);
//! the one string that varies (the readable summary of an anomaly, or the error of a fallback) is
//! the call's return value.
//!
//! The layout ([`slot`]) is declared once, here; `layout()` exports it and npm/ml-anomaly/lib/
//! prediction.js decodes answers with what it reads from there.

use anomaly_core::decision::EntityKind;
use anomaly_core::features::DerivedKind;
use anomaly_core::policy::Action;
use anomaly_core::N_FEATURES;
use anomaly_engine::outcome::PredictionOutcome;

/// Declares the buffer's slots once: the constants of [`slot`] and the `(name, index)` list
/// that [`layout`] exports, so the two cannot disagree.
macro_rules! slots {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        /// Indices into the output buffer.
        pub mod slot {
            use anomaly_core::N_FEATURES;
            $($(#[$doc])* pub const $name: usize = $value;)*
        }

        /// Every slot as `(name, index)`, exported by `layout()`.
        const SLOTS: &[(&str, usize)] = &[$((stringify!($name), slot::$name)),*];
    };
}

slots! {
    /// Bit 0: isAnomaly; bit 1: fallback; bit 2: scored by a model (scores valid); the other
    /// `FLAG_*` bits below.
    FLAGS = 0;
    ANOMALY_SCORE = 1;
    CONFIDENCE = 2;
    /// Index into [`ACTIONS`](super::ACTIONS).
    ACTION = 3;
    /// Index into [`ACTIONS`](super::ACTIONS).
    ENFORCED_ACTION = 4;
    PREDICTION_ID = 5;
    /// −1 when no model scored the request.
    MODEL_VERSION = 6;
    TIMESTAMP = 7;
    SCORE_ISOLATION_FOREST = 8;
    SCORE_AUTOENCODER = 9;
    SCORE_COMPOSITE = 10;
    MODEL_AGREEMENT = 11;
    /// Microseconds spent in the engine (feature extraction included).
    ENGINE_TIME_US = 12;
    /// Bit i: the pipeline derived signal i of [`SIGNAL_NAMES`](super::SIGNAL_NAMES) from this request.
    SIGNALS = 13;
    /// The decision layer's score (valid with `FLAG_DECIDED`).
    DECISION_SCORE = 14;
    /// Its enforceable evidence (nats).
    DECISION_EVIDENCE = 15;
    /// Index into [`ENTITIES`](super::ENTITIES) of the entity whose evidence decided, −1 none.
    DECISION_ENTITY = 16;
    /// Factor a reported false positive applied (1 = none).
    DECISION_DISCOUNT = 17;
    /// Number of contributing earlier predictions that follow (at most `CONTRIB_MAX`).
    CONTRIB_COUNT = 18;
    /// Their ids, most recent first.
    CONTRIB = 19;
    /// Contributors the buffer carries.
    CONTRIB_MAX = 8;
    /// Number of explained features that follow.
    TOP_COUNT = CONTRIB + CONTRIB_MAX;
    /// First explained feature: (feature index or −1, contribution, value, normalized value).
    TOP = TOP_COUNT + 1;
    /// Values per explained feature.
    TOP_STRIDE = 4;
    /// Length of a buffer that holds any answer (every feature explained).
    LEN = TOP + TOP_STRIDE * N_FEATURES;
}

/// Declares the flag bits of [`slot::FLAGS`] once: the `FLAG_*` constants and the
/// `(name, bit)` list that [`layout`] exports after the slots.
macro_rules! flags {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        $($(#[$doc])* pub const $name: u32 = $value;)*

        /// Every flag bit as `(name, bit)`, exported by `layout()`.
        const FLAG_BITS: &[(&str, u32)] = &[$((stringify!($name), $name)),*];
    };
}

flags! {
    /// Flag bit of [`slot::FLAGS`]: the request is an anomaly.
    FLAG_ANOMALY = 1;
    /// The answer is a fallback, not a model's (the returned text is its error, if any).
    FLAG_FALLBACK = 2;
    /// Scored by a model: the score slots are valid.
    FLAG_SCORED = 4;
    /// The decision layer decided the action (the `DECISION_*` slots are valid).
    FLAG_DECIDED = 8;
    /// The model is in learning mode: it enforces nothing above MONITOR.
    FLAG_LEARNING = 16;
    /// The strict check denies this request.
    FLAG_STRICT_DENIED = 32;
    /// The returned text is the summary, a newline, and the evidence in words.
    FLAG_EVIDENCE_TEXT = 64;
}

/// Entities of `DECISION_ENTITY`, by index.
pub const ENTITIES: [EntityKind; 3] = EntityKind::ALL;

/// Actions by index, mildest first (the index written to the buffer).
pub const ACTIONS: [Action; 5] = Action::ALL;

/// The derived signals by bit.
pub const SIGNAL_NAMES: [DerivedKind; DerivedKind::ALL.len()] = DerivedKind::ALL;

fn action_index(a: Action) -> f64 {
    ACTIONS.iter().position(|&x| x == a).unwrap_or(0) as f64
}

fn signal_mask(kinds: &[DerivedKind]) -> f64 {
    let mut mask = 0u64;
    for kind in kinds {
        if let Some(i) = SIGNAL_NAMES.iter().position(|k| k == kind) {
            mask |= 1 << i;
        }
    }
    mask as f64
}

/// Writes `o` into `out` (at least [`slot::LEN`] long: the caller checks) and returns the text
/// the buffer cannot carry: the summary of an anomaly, or the error of a fallback.
pub fn write(o: &PredictionOutcome, out: &mut [f64]) -> Option<String> {
    let mut flags = 0;
    if o.is_anomaly {
        flags |= FLAG_ANOMALY;
    }
    if o.fallback {
        flags |= FLAG_FALLBACK;
    }
    out[slot::ANOMALY_SCORE] = o.anomaly_score;
    out[slot::CONFIDENCE] = o.confidence;
    out[slot::ACTION] = action_index(o.action);
    out[slot::ENFORCED_ACTION] = action_index(o.enforced_action);
    out[slot::PREDICTION_ID] = o.id as f64;
    out[slot::MODEL_VERSION] = o.model_version.map_or(-1.0, f64::from);
    out[slot::TIMESTAMP] = o.timestamp as f64;
    match &o.scores {
        Some(s) => {
            flags |= FLAG_SCORED;
            out[slot::SCORE_ISOLATION_FOREST] = s.isolation_forest;
            out[slot::SCORE_AUTOENCODER] = s.autoencoder;
            out[slot::SCORE_COMPOSITE] = s.composite;
            out[slot::MODEL_AGREEMENT] = s.model_agreement;
        }
        None => out[slot::SCORE_ISOLATION_FOREST..=slot::MODEL_AGREEMENT].fill(0.0),
    }
    out[slot::ENGINE_TIME_US] = o.processing_time_us;
    out[slot::SIGNALS] = signal_mask(&o.signals);
    out[slot::CONTRIB_COUNT] = 0.0;
    if let Some(d) = &o.decision {
        flags |= FLAG_DECIDED;
        if d.learning {
            flags |= FLAG_LEARNING;
        }
        if d.strict_denied {
            flags |= FLAG_STRICT_DENIED;
        }
        out[slot::DECISION_SCORE] = d.score;
        out[slot::DECISION_EVIDENCE] = d.evidence;
        out[slot::DECISION_ENTITY] = d
            .entity
            .as_deref()
            .and_then(|e| ENTITIES.iter().position(|x| x.as_str() == e))
            .map_or(-1.0, |i| i as f64);
        out[slot::DECISION_DISCOUNT] = d.discount;
        let n = d.contributors.len().min(slot::CONTRIB_MAX);
        out[slot::CONTRIB_COUNT] = n as f64;
        for (i, id) in d.contributors.iter().take(n).enumerate() {
            out[slot::CONTRIB + i] = *id as f64;
        }
    }
    let n = o.top_features.len().min(N_FEATURES);
    out[slot::TOP_COUNT] = n as f64;
    for (i, f) in o.top_features.iter().take(n).enumerate() {
        let b = slot::TOP + i * slot::TOP_STRIDE;
        out[b] = f64::from(f.index);
        out[b + 1] = f.contribution;
        out[b + 2] = f.value;
        out[b + 3] = f.normalized_value;
    }
    if o.fallback {
        out[slot::FLAGS] = f64::from(flags);
        return o.error.clone();
    }
    let text = match (o.is_anomaly, &o.explanation) {
        (true, Some(e)) => match &e.evidence {
            Some(words) => {
                flags |= FLAG_EVIDENCE_TEXT;
                Some(format!("{}\n{words}", e.summary))
            }
            None => Some(e.summary.clone()),
        },
        _ => None,
    };
    out[slot::FLAGS] = f64::from(flags);
    text
}

/// The layout as `(name, number)` pairs: every slot of [`slot`], then every flag bit
/// (`FLAG_ANOMALY`...). The package reads it when it opens the engine and decodes answers with
/// it, so the layout is written only here.
pub fn layout() -> Vec<(&'static str, u32)> {
    SLOTS
        .iter()
        .map(|&(name, index)| (name, index as u32))
        .chain(FLAG_BITS.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_core::ensemble::EnsembleConfig;
    use anomaly_core::explain::{AttributionMethod, Direction, Explanation, FeatureContribution};
    use anomaly_core::features::feature_index;
    use anomaly_engine::outcome::TopFeature;

    fn outcome(scored: bool) -> PredictionOutcome {
        let scores = EnsembleConfig::default().combine(5.0, 0.7, 2.0, 0.95, 0.9);
        let feature = |name: &str, c: f64| FeatureContribution {
            feature: name.into(),
            label: name.into(),
            contribution: c,
            value: 3.0,
            normalized_value: 1.5,
            baseline: 1.0,
            direction: Direction::Above,
            isolation_forest: c / 2.0,
            autoencoder: c / 2.0,
        };
        let top = |name: &str, c: f64| TopFeature {
            index: feature_index(name).unwrap() as u32,
            contribution: c,
            value: 3.0,
            normalized_value: 1.5,
        };
        PredictionOutcome {
            id: 42,
            session_id: "s".into(),
            user_id: "u".into(),
            timestamp: 1_700_000_000_000,
            is_anomaly: scored,
            anomaly_score: if scored { scores.composite } else { 0.0 },
            confidence: if scored { scores.confidence } else { 0.0 },
            action: if scored { scores.action } else { Action::Allow },
            enforced_action: if scored { scores.action } else { Action::Allow },
            scores: scored.then_some(scores),
            top_features: if scored {
                vec![top("ip_diversity", 0.2), top("session_age", -0.1)]
            } else {
                vec![]
            },
            explanation: scored.then(|| Explanation {
                top_features: vec![feature("ip_diversity", 0.2), feature("session_age", -0.1)],
                explanation: "text".into(),
                model_agreement: scores.model_agreement,
                confidence_factors: vec![],
                summary: "BLOCK: score 0.93".into(),
                method: AttributionMethod::Fast,
                base_value: 0.3,
                composite: scores.composite,
                evidence: None,
            }),
            model_version: scored.then_some(3),
            processing_time_us: 7.5,
            fallback: !scored,
            error: (!scored).then(|| "no model".to_string()),
            features: vec![0.0; N_FEATURES],
            signals: vec![DerivedKind::ImpossibleTravel, DerivedKind::NewDevice],
            decision: None,
        }
    }

    #[test]
    fn writes_a_scored_anomaly() {
        let mut out = vec![f64::NAN; slot::LEN];
        let text = write(&outcome(true), &mut out);
        assert_eq!(text.as_deref(), Some("BLOCK: score 0.93"));
        assert_eq!(out[slot::FLAGS], f64::from(FLAG_ANOMALY | FLAG_SCORED));
        assert_eq!(out[slot::ACTION], 4.0, "BLOCK is the fifth action");
        assert_eq!(out[slot::PREDICTION_ID], 42.0);
        assert_eq!(out[slot::MODEL_VERSION], 3.0);
        assert_eq!(out[slot::SCORE_ISOLATION_FOREST], 0.95);
        assert_eq!(out[slot::TOP_COUNT], 2.0);
        let ip = feature_index("ip_diversity").unwrap() as f64;
        assert_eq!(&out[slot::TOP..slot::TOP + 4], &[ip, 0.2, 3.0, 1.5]);
        let travel = SIGNAL_NAMES
            .iter()
            .position(|k| *k == DerivedKind::ImpossibleTravel)
            .unwrap();
        let device = SIGNAL_NAMES
            .iter()
            .position(|k| *k == DerivedKind::NewDevice)
            .unwrap();
        assert_eq!(
            out[slot::SIGNALS],
            ((1u64 << travel) | (1u64 << device)) as f64
        );
    }

    #[test]
    fn writes_a_normal_answer_without_text() {
        // A scored request that is not an anomaly carries its top features but no readable
        // explanation (the engine builds that only for anomalies).
        let mut o = outcome(true);
        o.is_anomaly = false;
        o.explanation = None;
        let mut out = vec![f64::NAN; slot::LEN];
        assert_eq!(write(&o, &mut out), None);
        assert_eq!(out[slot::FLAGS], f64::from(FLAG_SCORED));
        assert_eq!(out[slot::TOP_COUNT], 2.0);
        let age = feature_index("session_age").unwrap() as f64;
        assert_eq!(&out[slot::TOP + 4..slot::TOP + 8], &[age, -0.1, 3.0, 1.5]);
    }

    #[test]
    fn writes_the_decision_and_its_evidence() {
        let mut o = outcome(true);
        o.decision = Some(anomaly_engine::DecisionOutcome {
            score: 0.84,
            evidence: 9.5,
            entity: Some("device".into()),
            contributors: (1..=12).rev().collect(),
            learning: true,
            strict_denied: true,
            discount: 0.6,
        });
        if let Some(e) = o.explanation.as_mut() {
            e.evidence = Some("Escalated by 12 earlier requests.".into());
        }
        let mut out = vec![f64::NAN; slot::LEN];
        let text = write(&o, &mut out);
        assert_eq!(
            text.as_deref(),
            Some("BLOCK: score 0.93\nEscalated by 12 earlier requests.")
        );
        let flags = out[slot::FLAGS] as u32;
        for bit in [
            FLAG_DECIDED,
            FLAG_LEARNING,
            FLAG_STRICT_DENIED,
            FLAG_EVIDENCE_TEXT,
        ] {
            assert_ne!(flags & bit, 0, "flag {bit}");
        }
        assert_eq!(out[slot::DECISION_SCORE], 0.84);
        assert_eq!(out[slot::DECISION_EVIDENCE], 9.5);
        assert_eq!(out[slot::DECISION_ENTITY], 1.0, "device");
        assert_eq!(out[slot::DECISION_DISCOUNT], 0.6);
        assert_eq!(out[slot::CONTRIB_COUNT], slot::CONTRIB_MAX as f64, "capped");
        assert_eq!(out[slot::CONTRIB], 12.0, "most recent first");
        // the next answer without a decision clears the count
        let mut plain = outcome(true);
        plain.decision = None;
        write(&plain, &mut out);
        assert_eq!(out[slot::CONTRIB_COUNT], 0.0);
        assert_eq!(out[slot::FLAGS] as u32 & FLAG_DECIDED, 0);
    }

    #[test]
    fn writes_a_fallback_with_its_error() {
        let mut out = vec![f64::NAN; slot::LEN];
        let text = write(&outcome(false), &mut out);
        assert_eq!(text.as_deref(), Some("no model"));
        assert_eq!(out[slot::FLAGS], f64::from(FLAG_FALLBACK));
        assert_eq!(out[slot::MODEL_VERSION], -1.0);
        assert_eq!(out[slot::TOP_COUNT], 0.0);
        assert_eq!(out[slot::SCORE_COMPOSITE], 0.0, "stale scores are cleared");
    }
}

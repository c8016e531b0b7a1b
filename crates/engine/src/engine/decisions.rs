//! The engine's side of the decision layer ([`anomaly_core::decision`]): the live evidence, the
//! feedback allowances, the sessions suspected of attacks, and what a request's answer says.
//!
//! Why here and not in the core: the core knows how evidence accumulates and how a budget is
//! fitted; the engine knows *whose* requests they are (hashing the host's ids with the state's
//! secret), remembers across requests and restarts, and decides what enters the training window.
//!
//! - **Per request** ([`DecisionState::decide`]): the request's excess surprise, discounted by
//!   the user's false-positive allowances, is added to its user's, device's and address's
//!   evidence; the enforceable evidence (the earlier requests' only, when the request's own
//!   confidence is at most `enforceMinConfidence`) becomes the decision score, its action, and
//!   the strict check's verdict. A model in learning mode enforces nothing above MONITOR.
//! - **Suspected sessions**: a session that met friction (CHALLENGE or worse, or a strict
//!   denial) is remembered with the highest level it reached; its requests stay out of the next
//!   training (`training.rs`), and it counts as a session that met friction in the next fit of
//!   the budget (censoring, see `anomaly_core::decision::fit`) — at most
//!   [`CENSORED_PER_USER`] of them per user, and none of an entity confirmed as an attacker or
//!   flooding the window. Censoring stands for normal sessions the last model got wrong; an
//!   attacker's hundred sessions that met friction are not a hundred normal ones, and counting
//!   them would spend the budget on him: the next fit would raise every threshold and let his
//!   attack through (tests/engine_poisoning.rs).
//! - **Feedback** ([`DecisionState::false_positive`], [`DecisionState::confirmed_attack`]): an
//!   allowance for the user's situation, or evidence and a training exclusion for the attacker's
//!   user, device and address. Both are a function of the feedback records, rebuilt from the
//!   store at open: they survive restarts without a state of their own.
//! - **Persistence**: the evidence and the suspected sessions are soft state, saved with the
//!   behavioral state snapshot (part [`crate::store::SnapshotPart::Decision`]); a missing or
//!   unreadable one starts empty.

use std::collections::{HashMap, HashSet};

use anomaly_core::decision::{
    action_of_score, Allowances, DecisionModel, EntityKeys, EntityKind, EvidenceState,
};
use anomaly_core::policy::{Action, ActionPolicy};
use serde::{Deserialize, Serialize};

use crate::config::{LearningConfig, PredictionConfig};
use crate::outcome::DecisionOutcome;

/// Suspected sessions remembered (the oldest forgotten first).
const MAX_SUSPECTED: usize = 200_000;
/// Suspected sessions of one user counted as censored friction in a fit.
pub(crate) const CENSORED_PER_USER: usize = 2;
/// Confirmed attackers keep their rows out of training for this many confirmation half-lives.
const CONFIRMED_HALF_LIVES: i64 = 4;

/// The weights of a decision configuration, in [`EntityKind`] order.
fn weights(model: &DecisionModel) -> [f64; 3] {
    let w = &model.config.weights;
    [w.user, w.device, w.source]
}

/// Whether a model is too young to act.
pub(crate) fn learning(model: &DecisionModel, cfg: &LearningConfig) -> bool {
    let r = &model.report;
    !cfg.covered(r.span_days, r.users, r.sessions)
}

/// What a request's decision needs from its scoring.
pub(crate) struct Judged<'a> {
    pub keys: &'a EntityKeys,
    pub timestamp: i64,
    pub id: i64,
    pub composite: f64,
    pub confidence: f64,
    pub features: &'a [f64],
    pub contributions: &'a [f64],
}

/// The action side of a decided request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Verdict {
    pub is_anomaly: bool,
    pub action: Action,
    pub enforced_action: Action,
}

/// Soft state of the decision layer (see the module docs).
#[derive(Debug)]
pub(crate) struct DecisionState {
    pub evidence: EvidenceState,
    pub allowances: Allowances,
    /// Session key → the friction it met.
    suspected: HashMap<u64, Suspicion>,
    /// Entity key (kind, key) → excluded from training until (ms).
    confirmed: HashMap<(u8, u64), i64>,
    /// Sessions a reported false positive released from quarantine: their rows teach again.
    released: HashSet<u64>,
    /// Predictions whose confirmation is already in the evidence (so that replaying the
    /// feedback at open, or a second report, does not count it twice).
    applied: HashSet<i64>,
    /// Alarms up to this time (ms) were confirmed for want of a false-positive report
    /// (`feedback.confirmAfterMs`).
    pub alarm_cursor: i64,
}

/// A session that met friction: the highest level, when it last did, and whose it was.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Suspicion {
    level: Action,
    at: i64,
    user: u64,
    source: Option<u64>,
}

/// The persisted part of a [`DecisionState`]; allowances and releases are rebuilt from the
/// feedback records instead (they must survive a crash between snapshots).
#[derive(Serialize, Deserialize)]
struct Snapshot {
    evidence: EvidenceState,
    suspected: Vec<(u64, Suspicion)>,
    confirmed: Vec<(u8, u64, i64)>,
    applied: Vec<i64>,
    alarm_cursor: i64,
}

/// Sessions kept out of training, by the level they met, for the fit's censoring.
pub(crate) type Censored = anomaly_core::decision::fit::Censored;

impl DecisionState {
    pub(crate) fn new(cfg: &PredictionConfig) -> Self {
        DecisionState {
            evidence: EvidenceState::for_config(&cfg.decision),
            allowances: Allowances::default(),
            suspected: HashMap::new(),
            confirmed: HashMap::new(),
            released: HashSet::new(),
            applied: HashSet::new(),
            alarm_cursor: i64::MIN,
        }
    }

    /// Decides one request under `model` (see the module docs).
    pub(crate) fn decide(
        &mut self,
        model: &DecisionModel,
        cfg: &PredictionConfig,
        learning: bool,
        r: &Judged<'_>,
    ) -> (Verdict, DecisionOutcome) {
        let fb = &model.config.feedback;
        let discount = self
            .allowances
            .factor(fb, r.keys.user, r.contributions, r.timestamp);
        let excess = model.excess(r.composite, r.features) * discount;
        let e = self
            .evidence
            .observe(r.keys, r.timestamp, excess, r.id, weights(model));
        let (level, total) = if r.confidence > cfg.enforce_min_confidence {
            (e.statistic, e.total)
        } else {
            (e.prior, e.total_prior)
        };
        let policy: ActionPolicy = cfg.policy();
        let score = model.score(level, total);
        let strict_denied = !learning && model.strict_denies(level, total);
        let reached = action_of_score(score, &policy);
        let is_anomaly = policy.is_anomaly(r.composite) || reached >= Action::Challenge;
        let action = match (is_anomaly, reached) {
            (false, _) => Action::Allow,
            (true, Action::Allow) | (true, Action::Monitor) => Action::Monitor,
            (true, a) => a,
        };
        let enforced = if learning {
            action.min(Action::Monitor)
        } else {
            action
        };
        let friction = enforced >= Action::Challenge || strict_denied;
        if friction {
            let level = if strict_denied {
                enforced.max(Action::Challenge)
            } else {
                enforced
            };
            self.suspect(r.keys, level, r.timestamp);
        }
        let verdict = Verdict {
            is_anomaly,
            action,
            enforced_action: enforced,
        };
        let outcome = DecisionOutcome {
            score,
            evidence: level,
            entity: e.kind.map(EntityKind::as_str).map(String::from),
            contributors: e.contributors,
            learning,
            strict_denied,
            discount,
        };
        (verdict, outcome)
    }

    fn suspect(&mut self, keys: &EntityKeys, level: Action, t: i64) {
        let entry = self.suspected.entry(keys.session).or_insert(Suspicion {
            level,
            at: t,
            user: keys.user,
            source: keys.source,
        });
        entry.level = entry.level.max(level);
        entry.at = entry.at.max(t);
        if self.suspected.len() > MAX_SUSPECTED {
            // forget the oldest half (ties by key: deterministic)
            let mut all: Vec<(i64, u64)> = self.suspected.iter().map(|(k, v)| (v.at, *k)).collect();
            all.sort_unstable();
            for (_, k) in &all[..all.len() / 2] {
                self.suspected.remove(k);
            }
        }
    }

    /// Whether a session met friction (and no false-positive report released it).
    pub(crate) fn is_suspected(&self, session: u64) -> bool {
        self.suspected.contains_key(&session)
    }

    /// Whether a false-positive report released this session's rows from quarantine.
    pub(crate) fn is_released(&self, session: u64) -> bool {
        self.released.contains(&session)
    }

    /// Whether a training row of these keys at `t` is kept out of training (its session met
    /// friction, or one of its entities was confirmed as an attacker).
    pub(crate) fn excluded(&self, keys: &EntityKeys, t: i64) -> bool {
        (self.is_suspected(keys.session) && !self.is_released(keys.session)) || {
            let until = |kind: u8, k: Option<u64>| {
                k.and_then(|k| self.confirmed.get(&(kind, k)))
                    .is_some_and(|&u| t <= u)
            };
            until(1, Some(keys.user)) || until(2, keys.device) || until(3, keys.source)
        }
    }

    /// The suspected sessions since `since`, by level: they count as friction in the next fit
    /// (see the module docs) — at most [`CENSORED_PER_USER`] per user, the highest levels
    /// first, and none whose user or source is confirmed at `now` or `distrusted`.
    pub(crate) fn censored_since(
        &self,
        since: i64,
        now: i64,
        distrusted: impl Fn(EntityKind, u64) -> bool,
    ) -> Censored {
        let confirmed =
            |kind: u8, k: u64| self.confirmed.get(&(kind, k)).is_some_and(|&u| now <= u);
        let mut per_user: HashMap<u64, Vec<Action>> = HashMap::new();
        for s in self.suspected.values() {
            let source_out = s
                .source
                .is_some_and(|k| confirmed(3, k) || distrusted(EntityKind::Source, k));
            if s.at < since
                || confirmed(1, s.user)
                || distrusted(EntityKind::User, s.user)
                || source_out
            {
                continue;
            }
            per_user.entry(s.user).or_default().push(s.level);
        }
        let mut c = Censored::default();
        for levels in per_user.values_mut() {
            levels.sort_unstable_by(|a, b| b.cmp(a));
            for &level in levels.iter().take(CENSORED_PER_USER) {
                c.challenge += u64::from(level >= Action::Challenge);
                c.require2fa += u64::from(level >= Action::Require2fa);
                c.block += u64::from(level >= Action::Block);
            }
        }
        c
    }

    /// Forgets suspicions older than `cutoff` (they left the training window).
    pub(crate) fn prune(&mut self, cutoff: i64) {
        self.suspected.retain(|_, v| v.at >= cutoff);
        self.confirmed.retain(|_, &mut until| until >= cutoff);
    }

    /// A reported false positive of `keys.user` at `t`, whose score `contributions` drove: an
    /// allowance for the user in that situation, and the session released from quarantine.
    pub(crate) fn false_positive(
        &mut self,
        model: &DecisionModel,
        keys: &EntityKeys,
        contributions: &[f64],
        t: i64,
    ) {
        let cfg = &model.config;
        self.allowances
            .add(&cfg.feedback, keys.user, contributions, t, cfg.max_entities);
        self.suspected.remove(&keys.session);
        if self.released.len() >= MAX_SUSPECTED {
            self.released.clear();
        }
        self.released.insert(keys.session);
    }

    /// A confirmed attack by `keys` at `t` (prediction `id`): evidence for its user, device
    /// and address, and their rows kept out of training. Once per prediction.
    pub(crate) fn confirmed_attack(
        &mut self,
        model: &DecisionModel,
        id: i64,
        keys: &EntityKeys,
        t: i64,
    ) {
        if !self.applied.insert(id) {
            return;
        }
        if self.applied.len() > MAX_SUSPECTED {
            let mut ids: Vec<i64> = self.applied.iter().copied().collect();
            ids.sort_unstable();
            for i in &ids[..ids.len() / 2] {
                self.applied.remove(i);
            }
        }
        let fb = &model.config.feedback;
        self.evidence.confirm(
            keys,
            t,
            fb.confirm_boost * model.thresholds.challenge,
            fb.confirm_shares(),
        );
        let until = t.saturating_add(fb.confirm_half_life_ms.saturating_mul(CONFIRMED_HALF_LIVES));
        for (kind, k) in [(1u8, Some(keys.user)), (2, keys.device), (3, keys.source)] {
            if let Some(k) = k {
                let e = self.confirmed.entry((kind, k)).or_insert(until);
                *e = (*e).max(until);
            }
        }
        self.suspect(keys, Action::Challenge, t);
    }

    /// The persisted part, as bytes.
    pub(crate) fn snapshot(&self) -> Vec<u8> {
        let mut suspected: Vec<(u64, Suspicion)> =
            self.suspected.iter().map(|(k, v)| (*k, *v)).collect();
        suspected.sort_unstable_by_key(|s| s.0);
        let mut confirmed: Vec<(u8, u64, i64)> =
            self.confirmed.iter().map(|(k, v)| (k.0, k.1, *v)).collect();
        confirmed.sort_unstable();
        let mut applied: Vec<i64> = self.applied.iter().copied().collect();
        applied.sort_unstable();
        let s = Snapshot {
            evidence: self.evidence.clone(),
            suspected,
            confirmed,
            applied,
            alarm_cursor: self.alarm_cursor,
        };
        postcard::to_allocvec(&s).unwrap_or_default()
    }

    /// Restores the persisted part; `Err` says why it was not usable (the state starts empty).
    pub(crate) fn restore(&mut self, cfg: &PredictionConfig, bytes: &[u8]) -> Result<(), String> {
        let s: Snapshot = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
        if !s.evidence.matches(&cfg.decision) {
            return Err("it was taken under other decision settings".into());
        }
        self.evidence = s.evidence;
        self.suspected = s.suspected.into_iter().collect();
        self.confirmed = s
            .confirmed
            .into_iter()
            .map(|(k, id, t)| ((k, id), t))
            .collect();
        self.applied = s.applied.into_iter().collect();
        self.alarm_cursor = s.alarm_cursor;
        Ok(())
    }
}

/// The words of an answer's evidence: appended to the readable explanation.
pub(crate) fn evidence_sentence(d: &DecisionOutcome, half_life_ms: i64) -> Option<String> {
    let entity = d.entity.as_deref()?;
    let mut s = if d.contributors.is_empty() {
        format!("Evidence on this {entity} comes from this request alone")
    } else {
        let ids: Vec<String> = d.contributors.iter().map(|i| format!("#{i}")).collect();
        format!(
            "Escalated by {} earlier unusual request{} of this {entity} ({}), evidence fading by half every {} minutes",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            ids.join(", "),
            (half_life_ms / 60_000).max(1)
        )
    };
    s.push_str(&format!(" (decision score {:.2}", d.score));
    if d.discount < 1.0 {
        s.push_str(&format!(
            ", lowered {:.0} % by a reported false positive",
            (1.0 - d.discount) * 100.0
        ));
    }
    s.push(')');
    if d.learning {
        s.push_str("; the model is still learning this traffic, so it only monitors");
    }
    s.push('.');
    Some(s)
}

//! Evidence that accumulates across requests: decayed statistics of excess surprise per user,
//! device and source address.
//!
//! Why these three and not the session: a session belongs to one user, so the user's record
//! holds every excess the session's does and more; keeping the session apart would add memory
//! and nothing to the decision. What the session alone cannot give is the point: an attacker
//! who takes a new session id per request, or opens sessions faster than anyone, keeps adding to
//! the same user's, device's or address's record.
//!
//! Each record keeps a decayed sum of excess and a decayed count of requests (`2^(−Δt /
//! halfLife)`; an event older than the record's latest counts as simultaneous, as the feature
//! windows do), plus a separate, slower *boost* raised by confirmed attacks (see
//! [`super::feedback`]). The entity's statistic is either the sum itself or — the default — the
//! *shrunk mean* `sum / (count + priorRequests)` (see [`Statistic`]); a request's statistic is the
//! largest weighted one over its entities after adding its own excess, and `prior` is the same
//! without it (what the earlier requests alone say), which the caller uses where one uncertain
//! request must not act by itself.
//!
//! Memory is bounded: at most `max_entities` records per kind; beyond it the half with the
//! lowest current statistic is dropped (a hot attacker's record is never the one evicted). Maps
//! use a fixed hasher over keys the caller already hashed with its secret, so eviction and
//! snapshots are deterministic.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

/// How an entity's requests combine into its statistic.
///
/// In JSON: `"sum"`, or `{ "mean": { "priorRequests": 2 } }` (externally tagged, so that the
/// binary bundle format can carry it).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Statistic {
    /// The decayed sum of excess: grows with every unusual request. A long run of mildly odd
    /// requests (a normal session with one odd habit) sums as high as a short attack.
    Sum,
    /// The decayed mean excess per request, shrunk towards zero by `priorRequests` ordinary
    /// requests: a level, not a total. One odd request among ordinary ones stays low, a run of
    /// odd requests approaches their typical excess within a few requests, and what separates an
    /// attack from an odd normal session is how unusual its requests are, not how many there are.
    ///
    /// The request count decays `countHalfLives` times more slowly than the excess, so the mean
    /// is a level *while the excess keeps coming* and fades once it stops: an account's evidence
    /// from an attack that ended an hour ago does not follow its owner's next session around.
    #[serde(rename_all = "camelCase")]
    Mean {
        prior_requests: f64,
        count_half_lives: f64,
    },
}

impl Default for Statistic {
    fn default() -> Self {
        Statistic::Mean {
            prior_requests: 2.0,
            count_half_lives: 2.0,
        }
    }
}

impl Statistic {
    fn of(self, sum: f64, count: f64) -> f64 {
        match self {
            Statistic::Sum => sum,
            Statistic::Mean { prior_requests, .. } => sum / (count + prior_requests),
        }
    }

    /// How many excess half-lives the request count takes to halve.
    fn count_factor(self) -> f64 {
        match self {
            Statistic::Sum => 1.0,
            Statistic::Mean {
                count_half_lives, ..
            } => count_half_lives,
        }
    }

    pub(crate) fn validate(self) -> bool {
        match self {
            Statistic::Sum => true,
            Statistic::Mean {
                prior_requests,
                count_half_lives,
            } => {
                prior_requests.is_finite()
                    && (0.0..=1000.0).contains(&prior_requests)
                    && count_half_lives.is_finite()
                    && (1.0..=100.0).contains(&count_half_lives)
            }
        }
    }
}

/// Which entity a statistic came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EntityKind {
    User,
    Device,
    Source,
}

impl EntityKind {
    pub const ALL: [EntityKind; 3] = [EntityKind::User, EntityKind::Device, EntityKind::Source];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Device => "device",
            EntityKind::Source => "source",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The hashed identities of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityKeys {
    /// Groups requests into sessions (for the fit's per-session statistics).
    pub session: u64,
    pub user: u64,
    pub device: Option<u64>,
    pub source: Option<u64>,
}

impl EntityKeys {
    /// The keys of a request's ids under `secret` (the state's `hashKey`). Stable across
    /// builds and platforms (the keys are persisted with training rows and the decision
    /// state). A device is its fingerprint: a user agent is shared by thousands of people and
    /// would make them one entity. Empty ids are no entity.
    pub fn of(
        secret: u64,
        session: &str,
        user: &str,
        device: Option<&str>,
        source: Option<&str>,
    ) -> Self {
        use crate::features::normalize::stable_hash;
        let key =
            |kind: u64, s: &str| stable_hash(secret ^ kind.wrapping_mul(0x9E37_79B9), s.as_bytes());
        let some = |kind: u64, s: Option<&str>| s.filter(|s| !s.is_empty()).map(|s| key(kind, s));
        EntityKeys {
            session: key(1, session),
            user: key(2, user),
            device: some(3, device),
            source: some(4, source),
        }
    }

    /// [`EntityKeys::of`] a request event's ids.
    pub fn of_event(secret: u64, e: &crate::features::RequestEvent) -> Self {
        Self::of(
            secret,
            &e.session_id,
            &e.user_id,
            e.device_fingerprint.as_deref(),
            e.ip_address.as_deref(),
        )
    }

    pub fn key(&self, kind: EntityKind) -> Option<u64> {
        match kind {
            EntityKind::User => Some(self.user),
            EntityKind::Device => self.device,
            EntityKind::Source => self.source,
        }
    }
}

/// Contributors remembered per record.
pub const CONTRIBUTORS: usize = 3;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Contribution {
    /// The caller's id of the request (a prediction id); `i64::MIN` for none.
    id: i64,
    at: i64,
    excess: f32,
}

const NONE: Contribution = Contribution {
    id: i64::MIN,
    at: 0,
    excess: 0.0,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    /// Decayed sum of excess.
    sum: f64,
    /// Decayed count of requests.
    count: f64,
    at: i64,
    boost: f64,
    boost_at: i64,
    /// Latest contributors, newest last.
    recent: [Contribution; CONTRIBUTORS],
}

impl Default for Record {
    fn default() -> Self {
        Record {
            sum: 0.0,
            count: 0.0,
            at: i64::MIN,
            boost: 0.0,
            boost_at: i64::MIN,
            recent: [NONE; CONTRIBUTORS],
        }
    }
}

fn decayed(value: f64, from: i64, to: i64, half_life_ms: i64) -> f64 {
    if value == 0.0 || from == i64::MIN || to <= from {
        return value;
    }
    value * libm::exp2(-((to - from) as f64) / half_life_ms as f64)
}

/// The three decays of a record.
#[derive(Clone, Copy, Debug)]
struct Decays {
    excess: i64,
    count: i64,
    boost: i64,
}

impl Record {
    /// (sum, count, boost) at `t`.
    fn current(&self, t: i64, d: Decays) -> (f64, f64, f64) {
        (
            decayed(self.sum, self.at, t, d.excess),
            decayed(self.count, self.at, t, d.count),
            decayed(self.boost, self.boost_at, t, d.boost),
        )
    }

    fn add(&mut self, t: i64, excess: f64, id: i64, d: Decays) {
        let t = t.max(self.at);
        self.sum = decayed(self.sum, self.at, t, d.excess) + excess;
        self.count = decayed(self.count, self.at, t, d.count) + 1.0;
        self.at = t;
        if excess > 0.0 {
            self.recent.rotate_left(1);
            self.recent[CONTRIBUTORS - 1] = Contribution {
                id,
                at: t,
                excess: excess as f32,
            };
        }
    }
}

type Map = HashMap<u64, Record, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

/// What the evidence says about one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Largest weighted statistic over the request's entities, its own excess included.
    pub statistic: f64,
    /// The same from the earlier requests (and confirmations) alone.
    pub prior: f64,
    /// The entity the statistic came from (`None` when there was no evidence at all).
    pub kind: Option<EntityKind>,
    /// Earlier requests that added to that record, newest first (the caller's ids).
    pub contributors: Vec<i64>,
    /// Largest weighted decayed *sum* of excess (with boosts), whatever the statistic: the
    /// evidence of persistence, which the decision may judge beside the level.
    pub total: f64,
    /// The same without this request.
    pub total_prior: f64,
}

/// Decayed evidence per entity (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceState {
    half_life_ms: i64,
    boost_half_life_ms: i64,
    max_entities: usize,
    statistic: Statistic,
    #[serde(with = "maps")]
    maps: [Map; 3],
}

impl EvidenceState {
    /// Empty state; `boost_half_life_ms` is the decay of confirmations.
    pub fn new(
        half_life_ms: i64,
        boost_half_life_ms: i64,
        max_entities: usize,
        statistic: Statistic,
    ) -> Self {
        EvidenceState {
            half_life_ms: half_life_ms.max(1),
            boost_half_life_ms: boost_half_life_ms.max(1),
            max_entities: max_entities.max(1),
            statistic,
            maps: Default::default(),
        }
    }

    /// The state for a decision configuration.
    pub fn for_config(config: &super::DecisionConfig) -> Self {
        EvidenceState::new(
            config.half_life_ms,
            config.feedback.confirm_half_life_ms,
            config.max_entities,
            config.statistic,
        )
    }

    /// Whether this state was made for this configuration (a snapshot taken under another is
    /// not reused).
    pub fn matches(&self, config: &super::DecisionConfig) -> bool {
        self.half_life_ms == config.half_life_ms
            && self.boost_half_life_ms == config.feedback.confirm_half_life_ms
            && self.max_entities == config.max_entities
            && self.statistic == config.statistic
    }

    fn decays(&self) -> Decays {
        Decays {
            excess: self.half_life_ms,
            count: (self.half_life_ms as f64 * self.statistic.count_factor())
                .min(i64::MAX as f64 / 2.0) as i64,
            boost: self.boost_half_life_ms,
        }
    }

    /// Records held, all kinds together.
    pub fn len(&self) -> usize {
        self.maps.iter().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds one request's `excess` (already discounted by feedback) at time `t` to the records of
    /// its entities, weighted by `weights` (user, device, source), and reports the evidence.
    pub fn observe(
        &mut self,
        keys: &EntityKeys,
        t: i64,
        excess: f64,
        id: i64,
        weights: [f64; 3],
    ) -> Evidence {
        let excess = if excess.is_finite() {
            excess.max(0.0)
        } else {
            0.0
        };
        let statistic = self.statistic;
        let mut best: Option<(f64, EntityKind)> = None;
        let mut prior = 0.0f64;
        let (mut total, mut total_prior) = (0.0f64, 0.0f64);
        for kind in EntityKind::ALL {
            let Some(key) = keys.key(kind) else { continue };
            let w = weights[kind.index()];
            let d = self.decays();
            let map = &mut self.maps[kind.index()];
            if excess == 0.0 && !map.contains_key(&key) {
                continue; // nothing to add, nothing known: no record to create
            }
            let record = map.entry(key).or_default();
            let (sum, count, boost) = record.current(t, d);
            record.add(t, excess, id, d);
            prior = prior.max(w * (statistic.of(sum, count) + boost));
            total_prior = total_prior.max(w * (sum + boost));
            total = total.max(w * (sum + excess + boost));
            let now = w * (statistic.of(sum + excess, count + 1.0) + boost);
            if now > 0.0 && best.is_none_or(|(b, _)| now > b) {
                best = Some((now, kind));
            }
            if map.len() > self.max_entities {
                self.evict(kind, t);
            }
        }
        let contributors = best
            .map(|(_, kind)| self.contributors(kind, keys, id))
            .unwrap_or_default();
        Evidence {
            statistic: best.map_or(0.0, |(v, _)| v),
            prior,
            kind: best.map(|(_, k)| k),
            contributors,
            total,
            total_prior,
        }
    }

    /// What the records say about `keys` at `t` without adding anything.
    pub fn peek(&self, keys: &EntityKeys, t: i64, weights: [f64; 3]) -> f64 {
        EntityKind::ALL
            .iter()
            .filter_map(|&kind| {
                let key = keys.key(kind)?;
                let record = self.maps[kind.index()].get(&key)?;
                let (s, c, b) = record.current(t, self.decays());
                Some(weights[kind.index()] * (self.statistic.of(s, c) + b))
            })
            .fold(0.0, f64::max)
    }

    /// Raises the slow-decaying boost of the entities of `keys` (a confirmed attack), in units
    /// of the statistic, `shares` of it for the user, device and source.
    pub fn confirm(&mut self, keys: &EntityKeys, t: i64, amount: f64, shares: [f64; 3]) {
        if !(amount.is_finite() && amount > 0.0) {
            return;
        }
        for kind in EntityKind::ALL {
            let Some(key) = keys.key(kind) else { continue };
            let amount = amount * shares[kind.index()];
            // NaN or a zero share adds nothing
            if amount.is_nan() || amount <= 0.0 {
                continue;
            }
            let bhl = self.boost_half_life_ms;
            let map = &mut self.maps[kind.index()];
            let record = map.entry(key).or_default();
            let t = t.max(record.boost_at);
            record.boost = decayed(record.boost, record.boost_at, t, bhl) + amount;
            record.boost_at = t;
            if map.len() > self.max_entities {
                self.evict(kind, t);
            }
        }
    }

    fn contributors(&self, kind: EntityKind, keys: &EntityKeys, id: i64) -> Vec<i64> {
        let Some(record) = keys.key(kind).and_then(|k| self.maps[kind.index()].get(&k)) else {
            return Vec::new();
        };
        record
            .recent
            .iter()
            .rev()
            .filter(|c| c.id != i64::MIN && c.id != id)
            .map(|c| c.id)
            .collect()
    }

    /// Drops the half of `kind`'s records with the lowest statistic at `t` (ties by key, so the
    /// result does not depend on the map's order).
    fn evict(&mut self, kind: EntityKind, t: i64) {
        let (d, statistic) = (self.decays(), self.statistic);
        let map = &mut self.maps[kind.index()];
        let mut values: Vec<(f64, u64)> = map
            .iter()
            .map(|(k, r)| {
                let (s, c, b) = r.current(t, d);
                (statistic.of(s, c) + b, *k)
            })
            .collect();
        let keep = self.max_entities / 2;
        let drop = values.len().saturating_sub(keep);
        if drop == 0 {
            return;
        }
        values.select_nth_unstable_by(drop - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (_, k) in &values[..drop] {
            map.remove(k);
        }
    }
}

/// The maps serialize as lists sorted by key, so equal states give equal bytes.
mod maps {
    use super::{Map, Record};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(maps: &[Map; 3], s: S) -> Result<S::Ok, S::Error> {
        let lists: Vec<Vec<(u64, &Record)>> = maps
            .iter()
            .map(|m| {
                let mut v: Vec<(u64, &Record)> = m.iter().map(|(k, r)| (*k, r)).collect();
                v.sort_by_key(|(k, _)| *k);
                v
            })
            .collect();
        lists.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[Map; 3], D::Error> {
        let lists: Vec<Vec<(u64, Record)>> = Vec::deserialize(d)?;
        if lists.len() != 3 {
            return Err(serde::de::Error::custom(format!(
                "expected 3 evidence maps, got {}",
                lists.len()
            )));
        }
        let mut out: [Map; 3] = Default::default();
        for (map, list) in out.iter_mut().zip(lists) {
            for (k, r) in list {
                if !(r.sum.is_finite() && r.count.is_finite() && r.boost.is_finite()) {
                    return Err(serde::de::Error::custom("non-finite evidence"));
                }
                map.insert(k, r);
            }
        }
        Ok(out)
    }
}

//! Seeded request traffic and the small configuration shared by the engine's tests and
//! benchmarks (not part of the API).
//!
//! The configuration ([`small_config`], [`feed`], [`T0`], [`H`]) is written once here for the
//! engine's unit tests and the integration tests in `tests/`; where one of them needs something
//! else (a context on every request, learning mode off) it says so at its call site.
//!
//! A population of users browsing an expense app, *stationary* over weeks so that "no drift"
//! means something: sessions start as a Poisson process (`sessions_per_day`, at any hour of
//! any weekday), each is a user's visit of 8–24 requests some 20 seconds apart from their own IP,
//! agent and city, mostly on low-sensitivity endpoints. Events of overlapping sessions are
//! merged in time order. [`Traffic::shifted`] changes everyone's behaviour (longer, faster
//! sessions on sensitive endpoints) to produce drift; [`Traffic::attack`] is a burst from a
//! hijacked session (new IP far away, new agent, critical endpoints, machine-speed cadence).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use std::sync::Arc;

use anomaly_core::features::{GeoPoint, RequestEvent, Sensitivity};
use rand::Rng as _;

use crate::outcome::PredictionOutcome;
use crate::{Engine, EngineConfig};

/// Start of the tests' traffic (November 2023), in ms since the epoch.
pub const T0: i64 = 1_700_000_000_000;
/// One hour, in ms.
pub const H: i64 = 3_600_000;

/// A small, fast configuration over the store at `store_path`: 20 trees of 64 rows, an
/// autoencoder of 8 units trained for 5 epochs, training from 200 samples and only when asked, a
/// drift window of 400 vectors judged from 100 current rows, seed 7.
pub fn small_config(store_path: &str) -> EngineConfig {
    let mut c = EngineConfig {
        store_path: store_path.to_string(),
        ..EngineConfig::default()
    };
    c.isolation_forest.n_trees = 20;
    c.isolation_forest.sample_size = 64;
    c.autoencoder.params.epochs = 5;
    c.autoencoder.params.encoding_dim = 8;
    c.retraining.min_samples_for_training = 200;
    c.retraining.auto_train = false;
    c.retraining.drift_window = 400;
    c.drift.min_current_rows = 100;
    c.seed = 7;
    c
}

/// Predicts the next `n` events of `traffic`, each with `context` as its request context, and
/// returns the outcomes. Panics when a prediction fails: the traffic is valid by construction.
pub fn feed(
    engine: &Engine,
    traffic: &mut Traffic,
    n: usize,
    context: Option<&str>,
) -> Vec<Arc<PredictionOutcome>> {
    (0..n)
        .map(|_| {
            engine
                .predict(traffic.next_event(), context.map(str::to_string))
                .unwrap_or_else(|e| panic!("predicting test traffic: {e}"))
        })
        .collect()
}

const ENDPOINTS: [(&str, &str, Sensitivity); 8] = [
    ("/api/expenses", "GET", Sensitivity::Low),
    ("/api/expenses", "POST", Sensitivity::Moderate),
    ("/api/expenses/64f1c0de01", "GET", Sensitivity::Low),
    ("/api/budgets", "GET", Sensitivity::Low),
    ("/api/reports/monthly", "GET", Sensitivity::Moderate),
    ("/api/receipts/upload", "POST", Sensitivity::Moderate),
    ("/api/profile", "GET", Sensitivity::Low),
    ("/api/categories", "GET", Sensitivity::Low),
];

const SENSITIVE_ENDPOINTS: [(&str, &str, Sensitivity); 4] = [
    ("/api/export/all", "GET", Sensitivity::High),
    ("/api/admin/users", "GET", Sensitivity::Critical),
    ("/api/payments/transfer", "POST", Sensitivity::Critical),
    ("/api/settings/security", "PUT", Sensitivity::High),
];

/// A generated event ordered by (timestamp, sequence number).
struct Pending(i64, u64, RequestEvent);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

struct User {
    id: String,
    ip: String,
    agent: String,
    home: GeoPoint,
    sessions: u32,
}

/// A deterministic, time-ordered stream of request events.
pub struct Traffic {
    rng: anomaly_core::rng::Rng,
    users: Vec<User>,
    /// Latest emitted timestamp.
    now: i64,
    /// Start of the next session to generate.
    next_session: i64,
    /// Generated, not yet emitted events, earliest first (`seq` keeps equal times stable).
    pending: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    sessions_per_day: f64,
    shifted: bool,
}

const DAY_MS: f64 = 86_400_000.0;

impl Traffic {
    /// `users` users and 6 sessions a day (about 100 requests a day), starting after `start_ms`.
    pub fn new(seed: u64, users: usize, start_ms: i64) -> Self {
        Self::with_rate(seed, users, start_ms, 6.0)
    }

    /// Same with `sessions_per_day` sessions a day.
    pub fn with_rate(seed: u64, users: usize, start_ms: i64, sessions_per_day: f64) -> Self {
        let mut rng = anomaly_core::rng::seeded(seed);
        let users = (0..users.max(1))
            .map(|i| User {
                id: format!("user-{i}"),
                ip: format!(
                    "10.{}.{}.{}",
                    i % 200,
                    rng.random_range(0..250),
                    rng.random_range(1..250)
                ),
                agent: format!("Mozilla/5.0 (X11; Linux x86_64) Firefox/{}", 100 + i % 30),
                home: GeoPoint {
                    lat: 40.0 + rng.random_range(-5.0..5.0),
                    lon: -3.0 + rng.random_range(-5.0..5.0),
                },
                sessions: 0,
            })
            .collect();
        Traffic {
            rng,
            users,
            now: start_ms,
            next_session: start_ms,
            pending: BinaryHeap::new(),
            seq: 0,
            sessions_per_day: sessions_per_day.max(1e-3),
            shifted: false,
        }
    }

    /// Switches everyone to the drifted behaviour (or back) for sessions generated from now on.
    pub fn shifted(mut self, on: bool) -> Self {
        self.shifted = on;
        self
    }

    /// The clock of the stream (timestamp of the latest event).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Moves the clock forward: a gap in the traffic (sessions in progress are cut off).
    pub fn advance(&mut self, ms: i64) {
        self.now += ms;
        self.pending.clear();
        self.next_session = self.next_session.max(self.now);
    }

    fn exp(&mut self, mean: f64) -> f64 {
        let u: f64 = self.rng.random_range(1e-12..1.0);
        -u.ln() * mean
    }

    fn push(&mut self, e: RequestEvent) {
        self.seq += 1;
        self.pending
            .push(Reverse(Pending(e.timestamp, self.seq, e)));
    }

    /// Generates the next session (starting at `next_session`).
    fn generate_session(&mut self) {
        let start = self.next_session;
        let gap = self.exp(DAY_MS / self.sessions_per_day);
        self.next_session = start + gap.ceil() as i64;
        let i = self.rng.random_range(0..self.users.len());
        self.users[i].sessions += 1;
        let (id, ip, agent, home, n) = {
            let u = &self.users[i];
            (
                u.id.clone(),
                u.ip.clone(),
                u.agent.clone(),
                u.home,
                u.sessions,
            )
        };
        let session = format!("{id}-s{n}");
        let (requests, mean_gap_ms, sensitive) = if self.shifted {
            (40, 400.0, 0.7)
        } else {
            (8 + (n as usize * 7 + i) % 17, 20_000.0, 0.0)
        };
        let mut t = start;
        for _ in 0..requests {
            let (endpoint, method, sensitivity) = if self.rng.random_bool(sensitive) {
                SENSITIVE_ENDPOINTS[self.rng.random_range(0..SENSITIVE_ENDPOINTS.len())]
            } else {
                ENDPOINTS[self.rng.random_range(0..ENDPOINTS.len())]
            };
            let mut e = RequestEvent::new(t, session.clone(), id.clone());
            e.endpoint = Some(endpoint.to_string());
            e.method = Some(method.to_string());
            e.endpoint_sensitivity = Some(sensitivity);
            e.ip_address = Some(ip.clone());
            e.user_agent = Some(agent.clone());
            e.content_length = Some(if method == "GET" {
                0
            } else {
                self.rng.random_range(200..4000)
            });
            e.location = Some(home);
            e.session_started_at = Some(start);
            self.push(e);
            t += 200 + self.exp(mean_gap_ms).ceil() as i64;
        }
    }

    /// The next event in time order.
    pub fn next_event(&mut self) -> RequestEvent {
        loop {
            // Every session starting before the earliest pending event must be generated first.
            let earliest = self.pending.peek().map(|Reverse(p)| p.0);
            if earliest.is_none_or(|t| self.next_session <= t) {
                self.generate_session();
                continue;
            }
            if let Some(Reverse(Pending(t, _, e))) = self.pending.pop() {
                self.now = self.now.max(t);
                return e;
            }
        }
    }

    /// `n` events from a hijacked session of user `user`: a new IP on another continent, a new
    /// agent, critical endpoints, 50 ms apart, starting at the stream's clock.
    pub fn attack(&mut self, user: usize, n: usize) -> Vec<RequestEvent> {
        let idx = user % self.users.len();
        let id = self.users[idx].id.clone();
        let session = format!("{id}-hijacked-{}", self.rng.random_range(0..1_000_000u32));
        let mut t = self.now;
        (0..n)
            .map(|k| {
                t += 50;
                let (endpoint, method, sensitivity) =
                    SENSITIVE_ENDPOINTS[k % SENSITIVE_ENDPOINTS.len()];
                let mut e = RequestEvent::new(t, session.clone(), id.clone());
                e.endpoint = Some(endpoint.to_string());
                e.method = Some(method.to_string());
                e.endpoint_sensitivity = Some(sensitivity);
                e.ip_address = Some(format!("203.0.113.{}", k % 250));
                e.user_agent = Some("python-requests/2.31".into());
                e.content_length = Some(50_000);
                e.location = Some(GeoPoint {
                    lat: 35.7,
                    lon: 139.7,
                });
                e.status_code = Some(if k % 3 == 0 { 403 } else { 200 });
                e
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_time_ordered_and_span_weeks() {
        let mut t = Traffic::new(1, 10, 0);
        let events: Vec<_> = (0..2000).map(|_| t.next_event()).collect();
        assert!(events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        let days = (events.last().unwrap().timestamp - events[0].timestamp) as f64 / DAY_MS;
        assert!((10.0..40.0).contains(&days), "{days} days");
        // every hour of the day is visited
        let mut hours = [0usize; 24];
        for e in &events {
            hours[((e.timestamp / 3_600_000) % 24) as usize] += 1;
        }
        assert!(hours.iter().all(|&h| h > 0), "{hours:?}");
    }
}

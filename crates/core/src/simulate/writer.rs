//! Writing one session's requests: a clock, a network identity and a label.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::catalog::{City, Route};
use super::{Label, LabeledEvent, SimSession};
use crate::features::normalize::{domain, stable_hash};
use crate::features::{GeoPoint, RequestEvent};
use crate::rng::Rng as SimRng;

/// Where requests come from: an address, an agent and the city the address locates to.
#[derive(Clone, Debug)]
pub(crate) struct Net {
    pub ip: String,
    pub agent: String,
    pub city: City,
    /// Geolocation scatter of addresses around the city, degrees.
    pub scatter: f64,
}

impl Net {
    /// Where an IP geolocation service would put this address: the city plus a fixed offset
    /// derived from the address (so the same address always locates to the same point).
    pub fn location(&self) -> GeoPoint {
        let h = stable_hash(domain::IP, self.ip.as_bytes());
        let u = |bits: u64| ((bits & 0xFFFF) as f64 / 65_535.0) * 2.0 - 1.0;
        GeoPoint {
            lat: (self.city.lat + u(h) * self.scatter).clamp(-89.9, 89.9),
            lon: (self.city.lon + u(h >> 16) * self.scatter).clamp(-179.9, 179.9),
        }
    }
}

pub(crate) fn ip(a: u8, rest: [u8; 3]) -> String {
    format!("{a}.{}.{}.{}", rest[0], rest[1], rest[2].max(1))
}

/// Body size of a login form: `{"email": ..., "password": ...}` of varying lengths.
pub(crate) fn login_size(rng: &mut SimRng) -> u64 {
    rng.random_range(90..220)
}

/// `median · exp(sigma · N(0, 1))`.
pub(crate) fn lognormal(rng: &mut SimRng, median: f64, sigma: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    median * (sigma * z).exp()
}

pub(crate) struct Writer<'a> {
    pub rng: &'a mut SimRng,
    pub session: SimSession,
    pub user_id: String,
    pub started: i64,
    pub t: i64,
    pub net: Net,
    pub label: Label,
    /// Probability that a request carries a location (geolocation lookups fail sometimes).
    pub locate_prob: f64,
    /// Next notification poll of an open browser tab (every minute), if the tab polls.
    next_poll: Option<i64>,
}

impl<'a> Writer<'a> {
    pub fn new(
        rng: &'a mut SimRng,
        user: usize,
        user_id: &str,
        session_id: String,
        t: i64,
        net: Net,
        label: Label,
    ) -> Self {
        Writer {
            rng,
            session: SimSession {
                user,
                id: session_id,
                events: Vec::new(),
            },
            user_id: user_id.to_string(),
            started: t,
            t,
            net,
            label,
            locate_prob: 0.95,
            next_poll: None,
        }
    }

    /// From now on, the open tab polls notifications every minute (with a little jitter),
    /// from wherever the session is at the time of each poll.
    pub fn start_polling(&mut self) {
        self.next_poll = Some(self.t + 60_000);
    }

    /// Emits the polls due up to the current time.
    fn flush_polls(&mut self) {
        while let Some(at) = self.next_poll.filter(|&at| at <= self.t) {
            let now = self.t;
            self.t = at + self.rng.random_range(-800..800);
            self.next_poll = None;
            self.hit_path(
                super::catalog::NOTIFICATIONS,
                super::catalog::NOTIFICATIONS.path.to_string(),
                200,
                None,
            );
            self.t = now;
            self.next_poll = Some(at + 60_000);
        }
    }

    /// Moves the session to another network (after the polls due before the move).
    pub fn set_net(&mut self, net: Net) {
        self.flush_polls();
        self.net = net;
    }

    /// A request to `route` (its `:id`, if any, replaced by `id`) answered with `status`.
    pub fn hit_id(&mut self, route: Route, id: &str, status: u16, size: Option<u64>) {
        let path = if route.path.contains(":id") {
            route.path.replace(":id", id)
        } else {
            route.path.to_string()
        };
        self.hit_path(route, path, status, size);
    }

    /// A successful login, a second's pause and the dashboard: how every attack session that
    /// holds valid credentials begins.
    pub fn sign_in(&mut self) {
        let size = login_size(self.rng);
        self.hit(super::catalog::LOGIN, 200, Some(size));
        self.wait(1.0);
        self.hit(super::catalog::DASHBOARD, 200, None);
    }

    pub fn hit(&mut self, route: Route, status: u16, size: Option<u64>) {
        self.hit_id(route, "0", status, size);
    }

    pub fn hit_path(&mut self, route: Route, path: String, status: u16, size: Option<u64>) {
        self.flush_polls();
        let mut e = RequestEvent::new(self.t, self.session.id.clone(), self.user_id.clone());
        e.endpoint = Some(path);
        e.method = Some(route.method.to_string());
        e.endpoint_sensitivity = Some(route.sensitivity);
        e.ip_address = Some(self.net.ip.clone());
        e.user_agent = Some(self.net.agent.clone());
        e.content_length = size;
        e.session_age_ms = Some(self.t - self.started);
        e.status_code = Some(status);
        if self.rng.random_bool(self.locate_prob) {
            e.location = Some(self.net.location());
        }
        self.session.events.push(LabeledEvent {
            event: e,
            label: self.label,
        });
    }

    /// Advances the clock by `seconds` (at least 1 ms).
    pub fn wait(&mut self, seconds: f64) {
        self.t += ((seconds * 1000.0) as i64).max(1);
    }

    /// A human pause: log-normal around `median_s`, between 0.3 s and 15 minutes.
    pub fn think(&mut self, median_s: f64) {
        let s = lognormal(self.rng, median_s, 0.8).clamp(0.3, 900.0);
        self.wait(s);
    }

    /// The session's events in time order (the tab closes with the last request).
    pub fn finish(mut self) -> SimSession {
        self.next_poll = None;
        self.session.events.sort_by_key(|e| e.event.timestamp);
        self.session
    }
}

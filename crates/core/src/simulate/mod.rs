//! Seeded, labeled ExpenseFlow-like traffic, for demos, tests and the quality benchmark.
//!
//! ## Why a simulator
//! Anomaly detection cannot be evaluated on traffic without labels, and real attack traffic
//! on an expense app is neither available nor shareable. So this module builds a small
//! company: users with habits (office city and time zone, working hours or night shifts, a
//! role that decides which routes they use, a laptop and maybe a phone, home/office/mobile
//! networks, think times, notification polling, receipt-upload bursts, occasional typos at
//! login, business trips, browser updates), and then runs five attack scenarios through it,
//! labeling every event and every session. The normal population is deliberately varied —
//! admins legitimately use CRITICAL routes, finance users export reports, travellers change
//! country, phones change IP mid-session, pollers are as regular as bots — so that no single
//! field gives an attack away.
//!
//! ## Shape
//! The first `warmup_days` contain only normal traffic (a clean prefix to train on); attacks
//! are spread over the remaining days. Output is sorted by timestamp (ties keep generation
//! order) and is a pure function of the [`SimConfig`]: the same seed gives the same bytes.
//!
//! ## Scenarios (see docs/features.md and docs/benchmarks.md for what detects them)
//! - [`Scenario::SessionHijack`]: mid-session, a far-away attacker (new IP, agent, country)
//!   reuses a victim's session while the victim keeps working in it.
//! - [`Scenario::CredentialStuffing`]: many short sessions of failed logins (401) against one
//!   account from rotating proxies and agents, sometimes ending in a success and a quick look
//!   around.
//! - [`Scenario::Scraping`]: a script (or a headless browser, or the victim's own machine)
//!   pulls hundreds of records in fast, regular bursts.
//! - [`Scenario::PrivilegeProbing`]: at night, a non-admin account walks admin and other
//!   users' routes, mostly answered 403, and deletes records.
//! - [`Scenario::SlowExfiltration`]: a session of several hours exporting reports and
//!   downloading receipts every few minutes between innocuous page views.

mod attacks;
mod catalog;
mod normal;
mod population;
mod writer;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::features::time::MS_PER_DAY;
use crate::features::RequestEvent;

/// What to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimConfig {
    /// Number of users (at least 10, so that every role and attack has someone to use).
    pub users: usize,
    /// Length of the simulation in days.
    pub days: u32,
    /// Leading days of normal traffic only.
    pub warmup_days: u32,
    /// Start of day 0, ms since the epoch (UTC midnight recommended).
    pub start_ms: i64,
    /// Attack instances per scenario (0 = normal traffic only).
    pub attacks_per_scenario: usize,
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            users: 200,
            days: 14,
            warmup_days: 7,
            // 2024-01-01T00:00:00Z, a Monday
            start_ms: 1_704_067_200_000,
            attacks_per_scenario: 6,
            seed: 42,
        }
    }
}

impl SimConfig {
    pub fn validate(&self) -> Result<()> {
        let bad =
            |name: &'static str, reason: String| Err(CoreError::InvalidParameter { name, reason });
        if !(10..=100_000).contains(&self.users) {
            return bad(
                "users",
                format!("must be in 10..=100000, got {}", self.users),
            );
        }
        if !(1..=366).contains(&self.days) {
            return bad("days", format!("must be in 1..=366, got {}", self.days));
        }
        if self.attacks_per_scenario > 0 && self.warmup_days >= self.days {
            return bad(
                "warmupDays",
                format!(
                    "must leave days for attacks: {} >= {}",
                    self.warmup_days, self.days
                ),
            );
        }
        if self.attacks_per_scenario > 10_000 {
            return bad(
                "attacksPerScenario",
                format!("must be at most 10000, got {}", self.attacks_per_scenario),
            );
        }
        let end = self.start_ms.checked_add(i64::from(self.days) * MS_PER_DAY);
        if self.start_ms < 0 || end.is_none_or(|e| e > crate::features::MAX_TIMESTAMP_MS) {
            return bad(
                "startMs",
                format!(
                    "simulation must lie within valid timestamps, got start {}",
                    self.start_ms
                ),
            );
        }
        Ok(())
    }

    /// First millisecond after the warm-up prefix.
    pub fn warmup_end_ms(&self) -> i64 {
        self.start_ms + i64::from(self.warmup_days) * MS_PER_DAY
    }

    /// First millisecond after the simulation.
    pub fn end_ms(&self) -> i64 {
        self.start_ms + i64::from(self.days) * MS_PER_DAY
    }
}

/// Which story an event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Normal,
    SessionHijack,
    CredentialStuffing,
    Scraping,
    PrivilegeProbing,
    SlowExfiltration,
}

impl Scenario {
    /// The five attack scenarios.
    pub const ATTACKS: [Scenario; 5] = [
        Scenario::SessionHijack,
        Scenario::CredentialStuffing,
        Scenario::Scraping,
        Scenario::PrivilegeProbing,
        Scenario::SlowExfiltration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Normal => "normal",
            Scenario::SessionHijack => "session_hijack",
            Scenario::CredentialStuffing => "credential_stuffing",
            Scenario::Scraping => "scraping",
            Scenario::PrivilegeProbing => "privilege_probing",
            Scenario::SlowExfiltration => "slow_exfiltration",
        }
    }
}

/// Ground truth of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// `Normal` for untouched sessions; the attack's scenario for every event of an attacked
    /// session (including a hijack victim's own requests).
    pub scenario: Scenario,
    /// This request was made by the attacker.
    pub attack: bool,
    /// The session this request belongs to was attacked.
    pub session_attacked: bool,
    /// Which attack instance (numbered per scenario from 0), for attack sessions.
    pub attack_id: Option<u32>,
}

impl Label {
    pub const NORMAL: Label = Label {
        scenario: Scenario::Normal,
        attack: false,
        session_attacked: false,
        attack_id: None,
    };
}

/// A request event with its ground truth. JSON: `{"event": {...}, "label": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabeledEvent {
    pub event: RequestEvent,
    pub label: Label,
}

/// Generates the traffic of `cfg`, sorted by timestamp.
pub fn simulate(cfg: &SimConfig) -> Result<Vec<LabeledEvent>> {
    cfg.validate()?;
    let people = population::build(cfg);
    let mut sessions = normal::generate(cfg, &people);
    attacks::inject(cfg, &people, &mut sessions);
    let mut events: Vec<LabeledEvent> = sessions.into_iter().flat_map(|s| s.events).collect();
    events.sort_by_key(|e| e.event.timestamp);
    Ok(events)
}

/// Counts over a simulated stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimSummary {
    pub events: usize,
    pub sessions: usize,
    pub users: usize,
    /// Per scenario (snake_case name): attack events, attacked sessions, attack instances.
    pub scenarios: Vec<ScenarioCount>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioCount {
    pub scenario: String,
    pub attack_events: usize,
    pub sessions: usize,
    pub instances: usize,
}

/// Summarises a stream (for logs and the CLI).
pub fn summarize(events: &[LabeledEvent]) -> SimSummary {
    use std::collections::BTreeSet;
    let sessions: BTreeSet<&str> = events.iter().map(|e| e.event.session_id.as_str()).collect();
    let users: BTreeSet<&str> = events.iter().map(|e| e.event.user_id.as_str()).collect();
    let scenarios = Scenario::ATTACKS
        .iter()
        .map(|&s| {
            let of = || events.iter().filter(move |e| e.label.scenario == s);
            ScenarioCount {
                scenario: s.as_str().to_string(),
                attack_events: of().filter(|e| e.label.attack).count(),
                sessions: of()
                    .map(|e| e.event.session_id.as_str())
                    .collect::<BTreeSet<_>>()
                    .len(),
                instances: of()
                    .filter_map(|e| e.label.attack_id)
                    .collect::<BTreeSet<_>>()
                    .len(),
            }
        })
        .collect();
    SimSummary {
        events: events.len(),
        sessions: sessions.len(),
        users: users.len(),
        scenarios,
    }
}

/// The events of one session while it is being generated.
#[derive(Clone, Debug)]
pub(crate) struct SimSession {
    pub user: usize,
    pub id: String,
    pub events: Vec<LabeledEvent>,
}

#[cfg(test)]
mod tests;

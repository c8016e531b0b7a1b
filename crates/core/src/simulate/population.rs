//! The simulated company: who the users are and what their habits are.

use rand::Rng;

use super::catalog::{agent, City, DESKTOP_AGENTS, ELSEWHERE, MOBILE_AGENTS, OFFICES};
use super::SimConfig;
use crate::rng::{derived, Rng as SimRng};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Employee,
    Manager,
    Finance,
    Admin,
}

/// A device a user works from.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    /// Agent template and version before and after an optional browser update.
    pub template: &'static str,
    pub version: u32,
    /// Day from which the browser reports `version + 1`.
    pub update_day: Option<u32>,
}

impl Device {
    pub fn agent_on(&self, day: u32) -> String {
        let v = if self.update_day.is_some_and(|d| day >= d) {
            self.version + 1
        } else {
            self.version
        };
        agent(self.template, v)
    }
}

/// A trip away from the home office.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trip {
    pub first_day: u32,
    pub last_day: u32,
    pub city: City,
    pub hotel_ip: [u8; 3],
}

#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub id: String,
    pub role: Role,
    pub home: City,
    pub office_index: usize,
    /// Local hour the working day usually starts, and its length in hours.
    pub start_hour: f64,
    pub work_hours: f64,
    pub weekend_prob: f64,
    /// Mean sessions per working day (1–3), or one long session.
    pub sessions_per_day: f64,
    pub all_day_session: bool,
    /// Median think time between requests within a task, seconds.
    pub think_s: f64,
    /// Mean tasks per session.
    pub tasks: f64,
    pub laptop: Device,
    pub phone: Option<Device>,
    pub phone_share: f64,
    pub home_ip: [u8; 3],
    pub wfh_prob: f64,
    pub polls: bool,
    /// Turns a corporate VPN on now and then (the address jumps to a hosting region mid-session).
    pub vpn: bool,
    pub batch_uploader: bool,
    pub typo_prob: f64,
    pub trip: Option<Trip>,
    /// Object ids of the user's own expenses.
    pub expense_ids: Vec<String>,
}

pub(crate) fn object_id(rng: &mut SimRng) -> String {
    format!("{:08x}{:016x}", rng.random::<u32>(), rng.random::<u64>())
}

fn device(rng: &mut SimRng, mobile: bool, days: u32) -> Device {
    let template = if mobile {
        MOBILE_AGENTS[rng.random_range(0..MOBILE_AGENTS.len())]
    } else {
        DESKTOP_AGENTS[rng.random_range(0..DESKTOP_AGENTS.len())]
    };
    Device {
        template,
        version: rng.random_range(if mobile { 1..4 } else { 118..121 }),
        update_day: (rng.random_bool(0.35) && days > 1).then(|| rng.random_range(1..days)),
    }
}

/// Builds the users of `cfg` (stream `0x706f70` + index: one generator per user).
pub(crate) fn build(cfg: &SimConfig) -> Vec<Person> {
    (0..cfg.users)
        .map(|i| {
            let mut rng = derived(cfg.seed, 0x706f_7000_0000 + i as u64);
            let role = match (i, rng.random::<f64>()) {
                // a few fixed roles so that every kind exists in small populations
                (0, _) | (1, _) => Role::Admin,
                (2..=4, _) => Role::Finance,
                (5..=7, _) => Role::Manager,
                (_, p) if p < 0.03 => Role::Admin,
                (_, p) if p < 0.16 => Role::Finance,
                (_, p) if p < 0.34 => Role::Manager,
                _ => Role::Employee,
            };
            let office_index = rng.random_range(0..OFFICES.len());
            let home = OFFICES[office_index];
            let night_owl = rng.random_bool(0.08);
            let (start_hour, work_hours) = if night_owl {
                (rng.random_range(18.0..22.0), rng.random_range(4.0..7.0))
            } else {
                (rng.random_range(7.0..10.5), rng.random_range(6.5..10.0))
            };
            let phone = rng
                .random_bool(0.6)
                .then(|| device(&mut rng, true, cfg.days));
            let trip = if rng.random_bool(0.15) && cfg.days >= 4 {
                let first_day = rng.random_range(1..cfg.days - 2);
                let len = rng.random_range(2..5).min(cfg.days - first_day);
                let all: Vec<City> = OFFICES
                    .iter()
                    .chain(ELSEWHERE.iter().take(8))
                    .copied()
                    .filter(|c| c.name != home.name)
                    .collect();
                Some(Trip {
                    first_day,
                    last_day: first_day + len - 1,
                    city: all[rng.random_range(0..all.len())],
                    hotel_ip: [rng.random(), rng.random(), rng.random()],
                })
            } else {
                None
            };
            let expense_ids = (0..rng.random_range(10..60))
                .map(|_| object_id(&mut rng))
                .collect();
            Person {
                id: format!("user-{i:04}"),
                role,
                home,
                office_index,
                start_hour,
                work_hours,
                weekend_prob: if night_owl {
                    0.4
                } else {
                    rng.random_range(0.0..0.12)
                },
                sessions_per_day: rng.random_range(1.0..3.0),
                all_day_session: rng.random_bool(0.15),
                think_s: rng.random_range(3.0..18.0),
                tasks: rng.random_range(1.5..6.0),
                laptop: device(&mut rng, false, cfg.days),
                phone_share: if phone.is_some() {
                    rng.random_range(0.05..0.4)
                } else {
                    0.0
                },
                phone,
                home_ip: [rng.random(), rng.random(), rng.random()],
                wfh_prob: rng.random_range(0.0..0.6),
                polls: rng.random_bool(0.35),
                vpn: rng.random_bool(0.08),
                batch_uploader: rng.random_bool(0.3),
                typo_prob: rng.random_range(0.0..0.08),
                trip,
                expense_ids,
            }
        })
        .collect()
}

//! The five attack scenarios, injected after the warm-up prefix.
//!
//! Each instance has its own random stream (`0x617474` + scenario + instance), so changing one
//! scenario's count or code never moves another's traffic.

use rand::Rng;

use super::catalog::*;
use super::population::{object_id, Person, Role};
use super::writer::{ip, login_size, Net, Writer};
use super::{Label, Scenario, SimConfig, SimSession};
use crate::features::geo::haversine_km;
use crate::features::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};
use crate::rng::{derived, Rng as SimRng};

fn label(scenario: Scenario, attack: bool, id: u32) -> Label {
    Label {
        scenario,
        attack,
        session_attacked: true,
        attack_id: Some(id),
    }
}

fn session_id(rng: &mut SimRng) -> String {
    format!("sess-{:016x}", rng.random::<u64>())
}

/// A city at least `min_km` from `from`, among trip destinations and hosting regions.
fn far_city(rng: &mut SimRng, from: City, min_km: f64) -> City {
    let candidates: Vec<City> = ELSEWHERE
        .iter()
        .chain(DATACENTERS.iter())
        .chain(OFFICES.iter())
        .copied()
        .filter(|c| haversine_km(c.point(), from.point()) >= min_km)
        .collect();
    candidates
        .get(rng.random_range(0..candidates.len().max(1)))
        .copied()
        .unwrap_or(ELSEWHERE[9])
}

/// A residential-proxy or hosting address.
fn foreign_ip(rng: &mut SimRng) -> String {
    const FIRST: [u8; 8] = [24, 45, 67, 82, 91, 109, 176, 188];
    ip(
        FIRST[rng.random_range(0..FIRST.len())],
        [rng.random(), rng.random(), rng.random()],
    )
}

fn browser_agent(rng: &mut SimRng) -> String {
    agent(
        DESKTOP_AGENTS[rng.random_range(0..DESKTOP_AGENTS.len())],
        rng.random_range(100..123),
    )
}

fn script_agent(rng: &mut SimRng) -> String {
    SCRIPT_AGENTS[rng.random_range(0..SCRIPT_AGENTS.len())].to_string()
}

/// A uniformly random instant of the attack period, leaving `margin_ms` before the end.
fn attack_time(rng: &mut SimRng, cfg: &SimConfig, margin_ms: i64) -> i64 {
    let (a, b) = (
        cfg.warmup_end_ms() + MS_PER_HOUR,
        (cfg.end_ms() - margin_ms).max(cfg.warmup_end_ms() + 2 * MS_PER_HOUR),
    );
    rng.random_range(a..b)
}

/// The attacker's look around once inside an account: records, exports, security settings.
fn loot(w: &mut Writer, think_s: f64, requests: u32) {
    for _ in 0..requests {
        w.think(think_s);
        let roll = w.rng.random::<f64>();
        if roll < 0.35 {
            let id = object_id(w.rng);
            w.hit_id(EXPENSE, &id, 200, None);
        } else if roll < 0.5 {
            w.hit(EXPENSES, 200, None);
        } else if roll < 0.65 {
            w.hit(REPORT_EXPORT, 200, None);
        } else if roll < 0.75 {
            w.hit(SECURITY, 200, None);
        } else if roll < 0.85 {
            let size = w.rng.random_range(200..600);
            w.hit(SETTINGS_UPDATE, 200, Some(size));
        } else if roll < 0.92 {
            w.hit(PASSWORD, 200, Some(120));
        } else {
            let id = object_id(w.rng);
            w.hit_id(RECEIPT, &id, 200, None);
        }
    }
}

fn hijack(
    cfg: &SimConfig,
    people: &[Person],
    sessions: &mut [SimSession],
    k: u32,
    rng: &mut SimRng,
) -> Option<SimSession> {
    let start = cfg.warmup_end_ms();
    let candidates: Vec<usize> = sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.events.len() >= 15
                && s.events
                    .first()
                    .is_some_and(|e| e.event.timestamp >= start && !e.label.session_attacked)
        })
        .map(|(i, _)| i)
        .collect();
    let victim =
        sessions.get_mut(*candidates.get(rng.random_range(0..candidates.len().max(1)))?)?;
    let n = victim.events.len();
    let at = rng.random_range(n * 3 / 10..n * 7 / 10);
    let first = victim.events.first()?.event.clone();
    let t_hijack = victim.events.get(at)?.event.timestamp + rng.random_range(500..30_000);
    let person = people.get(victim.user)?;
    let located = victim.events.iter().find_map(|e| e.event.location);
    let home = located.map_or(person.home, |p| City {
        name: "victim",
        lat: p.lat,
        lon: p.lon,
        tz_minutes: 0,
    });
    let city = far_city(rng, home, 3_000.0);
    let agent = if rng.random_bool(0.2) {
        script_agent(rng)
    } else {
        browser_agent(rng)
    };
    let net = Net {
        ip: foreign_ip(rng),
        agent,
        city,
        scatter: 0.1,
    };
    for e in &mut victim.events {
        e.label = label(Scenario::SessionHijack, false, k);
    }
    let mut w = Writer::new(
        rng,
        victim.user,
        &first.user_id,
        victim.id.clone(),
        t_hijack,
        net,
        label(Scenario::SessionHijack, true, k),
    );
    w.started = first.timestamp - first.session_age_ms.unwrap_or(0);
    w.hit(DASHBOARD, 200, None);
    let requests = w.rng.random_range(8..31);
    loot(&mut w, 6.0, requests);
    Some(w.finish())
}

fn stuffing(cfg: &SimConfig, people: &[Person], k: u32, rng: &mut SimRng) -> Vec<SimSession> {
    let victim = rng.random_range(0..people.len());
    let Some(p) = people.get(victim) else {
        return Vec::new();
    };
    let mut t = attack_time(rng, cfg, 2 * MS_PER_HOUR);
    let attempts = rng.random_range(12..46);
    let span_ms = rng.random_range(3..21) * MS_PER_MINUTE;
    let scripted = rng.random_bool(0.4);
    let mut out = Vec::new();
    for a in 0..=attempts {
        let success = a == attempts;
        if success && !rng.random_bool(0.5) {
            break;
        }
        let city = far_city(rng, p.home, 0.0);
        let agent = if scripted {
            script_agent(rng)
        } else {
            browser_agent(rng)
        };
        let net = Net {
            ip: foreign_ip(rng),
            agent,
            city,
            scatter: 0.2,
        };
        let sid = session_id(rng);
        let mut w = Writer::new(
            rng,
            victim,
            &p.id,
            sid,
            t,
            net,
            label(Scenario::CredentialStuffing, true, k),
        );
        if success {
            w.sign_in();
            let requests = w.rng.random_range(4..15);
            loot(&mut w, 4.0, requests);
        } else {
            let size = login_size(w.rng);
            w.hit(LOGIN, 401, Some(size));
        }
        let step = w.rng.random_range(0.3..1.7);
        out.push(w.finish());
        t += (span_ms as f64 / attempts as f64 * step) as i64;
    }
    out
}

fn scraping(cfg: &SimConfig, people: &[Person], k: u32, rng: &mut SimRng) -> Option<SimSession> {
    let victim = rng.random_range(0..people.len());
    let p = people.get(victim)?;
    let t0 = attack_time(rng, cfg, 6 * MS_PER_HOUR);
    let net = if rng.random_bool(0.7) {
        let dc = DATACENTERS[rng.random_range(0..DATACENTERS.len())];
        Net {
            ip: ip(45, [rng.random(), rng.random(), rng.random()]),
            agent: script_agent(rng),
            city: dc,
            scatter: 0.02,
        }
    } else {
        // the victim's own machine, running a script with the browser's cookie
        Net {
            ip: ip(73, p.home_ip),
            agent: p.laptop.agent_on(cfg.days - 1),
            city: p.home,
            scatter: 0.08,
        }
    };
    let sid = session_id(rng);
    let mut w = Writer::new(
        rng,
        victim,
        &p.id,
        sid,
        t0,
        net,
        label(Scenario::Scraping, true, k),
    );
    if w.rng.random_bool(0.6) {
        let size = login_size(w.rng);
        w.hit(LOGIN, 200, Some(size));
        w.wait(0.5);
    } else {
        // a stolen, older session token
        w.started = t0 - w.rng.random_range(10..240) * MS_PER_MINUTE;
    }
    let blocks = w.rng.random_range(2..9);
    let mut page = 1;
    for _ in 0..blocks {
        let gap = w.rng.random_range(0.15..1.2);
        for _ in 0..w.rng.random_range(40..151) {
            let roll = w.rng.random::<f64>();
            if roll < 0.15 {
                w.hit_path(
                    EXPENSES,
                    format!("/api/expenses?page={page}&limit=100"),
                    200,
                    None,
                );
                page += 1;
            } else if roll < 0.75 {
                let id = object_id(w.rng);
                let status = if w.rng.random_bool(0.05) { 404 } else { 200 };
                w.hit_id(EXPENSE, &id, status, None);
            } else {
                let id = object_id(w.rng);
                w.hit_id(RECEIPT, &id, 200, None);
            }
            let jitter = w.rng.random_range(0.9..1.1);
            w.wait(gap * jitter);
        }
        let pause = w.rng.random_range(5.0..90.0);
        w.wait(pause);
    }
    Some(w.finish())
}

fn probing(cfg: &SimConfig, people: &[Person], k: u32, rng: &mut SimRng) -> Option<SimSession> {
    let non_admins: Vec<usize> = (0..people.len())
        .filter(|&i| people[i].role != Role::Admin)
        .collect();
    let victim = *non_admins.get(rng.random_range(0..non_admins.len().max(1)))?;
    let p = people.get(victim)?;
    // an attack day, between 00:30 and 04:30 at the victim's home
    let day = rng.random_range(cfg.warmup_days..cfg.days);
    let local_h = rng.random_range(0.5..4.5);
    let t0 = cfg.start_ms + i64::from(day) * MS_PER_DAY + (local_h * MS_PER_HOUR as f64) as i64
        - i64::from(p.home.tz_minutes) * MS_PER_MINUTE;
    let t0 = t0.clamp(cfg.warmup_end_ms(), cfg.end_ms() - MS_PER_HOUR);
    let net = if rng.random_bool(0.6) {
        Net {
            ip: ip(73, p.home_ip),
            agent: p.laptop.agent_on(day),
            city: p.home,
            scatter: 0.08,
        }
    } else {
        Net {
            ip: foreign_ip(rng),
            agent: p.laptop.agent_on(day),
            city: far_city(rng, p.home, 0.0),
            scatter: 0.1,
        }
    };
    let sid = session_id(rng);
    let mut w = Writer::new(
        rng,
        victim,
        &p.id,
        sid,
        t0,
        net,
        label(Scenario::PrivilegeProbing, true, k),
    );
    w.sign_in();
    for _ in 0..w.rng.random_range(15..46) {
        w.think(8.0);
        let id = object_id(w.rng);
        match w.rng.random_range(0..9) {
            0 => w.hit(ADMIN_USERS, 403, None),
            1 => w.hit(ADMIN_AUDIT, 403, None),
            2 => w.hit_id(ADMIN_USER_ROLE, &id, 403, Some(80)),
            3 => w.hit(ADMIN_SETTINGS, 403, Some(400)),
            4 => w.hit_id(ADMIN_USER_DELETE, &id, 403, None),
            5 => {
                let status = if w.rng.random_bool(0.5) { 200 } else { 403 };
                w.hit_id(USER_PROFILE, &id, status, None)
            }
            6 => {
                let status = if w.rng.random_bool(0.7) { 403 } else { 204 };
                w.hit_id(EXPENSE_DELETE, &id, status, None)
            }
            7 => w.hit_path(EXPENSES, format!("/api/expenses?userId={id}"), 200, None),
            _ => w.hit_id(EXPENSE_APPROVE, &id, 403, Some(60)),
        }
    }
    Some(w.finish())
}

fn exfiltration(
    cfg: &SimConfig,
    people: &[Person],
    k: u32,
    rng: &mut SimRng,
) -> Option<SimSession> {
    let victim = rng.random_range(0..people.len());
    let p = people.get(victim)?;
    let day = rng.random_range(cfg.warmup_days..cfg.days);
    let local_h = p.start_hour + rng.random_range(0.0..2.0);
    let t0 = cfg.start_ms + i64::from(day) * MS_PER_DAY + (local_h * MS_PER_HOUR as f64) as i64
        - i64::from(p.home.tz_minutes) * MS_PER_MINUTE;
    let t0 = t0.clamp(cfg.warmup_end_ms(), cfg.end_ms() - 3 * MS_PER_HOUR);
    let agent = if rng.random_bool(0.6) {
        p.laptop.agent_on(day)
    } else {
        browser_agent(rng)
    };
    let net = Net {
        ip: ip(73, p.home_ip),
        agent,
        city: p.home,
        scatter: 0.08,
    };
    let sid = session_id(rng);
    let mut w = Writer::new(
        rng,
        victim,
        &p.id,
        sid,
        t0,
        net,
        label(Scenario::SlowExfiltration, true, k),
    );
    w.sign_in();
    let end = t0 + w.rng.random_range(3 * MS_PER_HOUR..8 * MS_PER_HOUR);
    let mut month = 1;
    while w.t < end {
        let minutes = w.rng.random_range(1.5..8.0);
        w.wait(minutes * 60.0);
        let roll = w.rng.random::<f64>();
        if roll < 0.6 {
            w.hit_path(
                REPORT_EXPORT,
                format!("/api/reports/export?month={month}&format=csv"),
                200,
                None,
            );
            month = month % 12 + 1;
        } else if roll < 0.85 {
            let id = object_id(w.rng);
            w.hit_id(RECEIPT, &id, 200, None);
        } else {
            w.hit(EXPENSES, 200, None);
            w.think(5.0);
            let id = object_id(w.rng);
            w.hit_id(EXPENSE, &id, 200, None);
        }
    }
    Some(w.finish())
}

/// Adds `attacks_per_scenario` instances of each scenario to `sessions`.
pub(crate) fn inject(cfg: &SimConfig, people: &[Person], sessions: &mut Vec<SimSession>) {
    if cfg.attacks_per_scenario == 0 {
        return;
    }
    for (si, scenario) in Scenario::ATTACKS.iter().enumerate() {
        for k in 0..cfg.attacks_per_scenario as u32 {
            let mut rng = derived(
                cfg.seed,
                0x6174_7400_0000 + si as u64 * 100_000 + u64::from(k),
            );
            match scenario {
                Scenario::SessionHijack => {
                    if let Some(s) = hijack(cfg, people, sessions, k, &mut rng) {
                        sessions.push(s);
                    }
                }
                Scenario::CredentialStuffing => sessions.extend(stuffing(cfg, people, k, &mut rng)),
                Scenario::Scraping => sessions.extend(scraping(cfg, people, k, &mut rng)),
                Scenario::PrivilegeProbing => sessions.extend(probing(cfg, people, k, &mut rng)),
                Scenario::SlowExfiltration => {
                    sessions.extend(exfiltration(cfg, people, k, &mut rng))
                }
                Scenario::Normal => {}
            }
        }
    }
    let end = cfg.end_ms();
    for s in sessions.iter_mut() {
        s.events.retain(|e| e.event.timestamp < end);
    }
}

//! Normal traffic: each user's working days, sessions and tasks.

use rand::Rng;

use super::catalog::*;
use super::population::{object_id, Person, Role};
use super::writer::{ip, login_size, lognormal, Net, Writer};
use super::{Label, SimConfig, SimSession};
use crate::features::time::{LocalTime, MS_PER_DAY, MS_PER_HOUR};
use crate::rng::{derived, Rng as SimRng};

#[derive(Clone, Copy)]
enum Task {
    Browse,
    Submit,
    Edit,
    Batch,
    Budgets,
    Reports,
    Approvals,
    Admin,
    Settings,
}

fn weights(p: &Person) -> [(Task, f64); 9] {
    let batch = if p.batch_uploader { 0.8 } else { 0.0 };
    let (browse, submit, edit, budgets, reports, approvals, admin, settings) = match p.role {
        Role::Employee => (3.0, 3.0, 1.5, 1.0, 0.6, 0.0, 0.0, 0.3),
        Role::Manager => (2.0, 1.5, 1.0, 1.5, 1.5, 3.0, 0.0, 0.3),
        Role::Finance => (2.0, 1.0, 0.5, 2.0, 4.0, 1.5, 0.0, 0.3),
        Role::Admin => (1.5, 1.0, 0.5, 0.5, 1.0, 0.0, 3.0, 1.0),
    };
    [
        (Task::Browse, browse),
        (Task::Submit, submit),
        (Task::Edit, edit),
        (Task::Batch, batch),
        (Task::Budgets, budgets),
        (Task::Reports, reports),
        (Task::Approvals, approvals),
        (Task::Admin, admin),
        (Task::Settings, settings),
    ]
}

fn pick_task(rng: &mut SimRng, w: &[(Task, f64); 9]) -> Task {
    let total: f64 = w.iter().map(|x| x.1).sum();
    let mut r = rng.random::<f64>() * total;
    for (t, x) in w {
        if r < *x {
            return *t;
        }
        r -= x;
    }
    Task::Browse
}

fn own_id<'p>(rng: &mut SimRng, p: &'p Person) -> &'p str {
    p.expense_ids
        .get(rng.random_range(0..p.expense_ids.len().max(1)))
        .map_or("0", String::as_str)
}

/// One task of a normal user: a short, habitual sequence of requests.
fn task(w: &mut Writer, p: &Person, task: Task) {
    let think = p.think_s;
    match task {
        Task::Browse => {
            w.hit(EXPENSES, 200, None);
            for _ in 0..w.rng.random_range(1..7) {
                w.think(think);
                let id = own_id(w.rng, p).to_string();
                let status = if w.rng.random_bool(0.01) { 404 } else { 200 };
                w.hit_id(EXPENSE, &id, status, None);
                if w.rng.random_bool(0.3) {
                    w.think(think / 2.0);
                    w.hit_id(RECEIPT, &id, 200, None);
                }
            }
        }
        Task::Submit => {
            if w.rng.random_bool(0.5) {
                w.hit(CATEGORIES, 200, None);
                w.think(think);
            }
            let size = w.rng.random_range(300..2_500);
            w.hit(EXPENSE_CREATE, 201, Some(size));
            for _ in 0..w.rng.random_range(1..4) {
                w.think(think);
                let size = w.rng.random_range(60_000..4_000_000);
                w.hit(RECEIPT_UPLOAD, 201, Some(size));
            }
            w.think(think);
            let id = own_id(w.rng, p).to_string();
            w.hit_id(EXPENSE, &id, 200, None);
        }
        Task::Edit => {
            let id = own_id(w.rng, p).to_string();
            w.hit_id(EXPENSE, &id, 200, None);
            w.think(think * 2.0);
            let size = w.rng.random_range(200..1_500);
            w.hit_id(EXPENSE_UPDATE, &id, 200, Some(size));
            if w.rng.random_bool(0.15) {
                w.think(think);
                w.hit_id(EXPENSE_DELETE, &id, 204, None);
            }
        }
        Task::Batch => {
            // a stack of receipts photographed after a trip, uploaded one after the other
            for _ in 0..w.rng.random_range(8..26) {
                let size = w.rng.random_range(150_000..5_000_000);
                w.hit(RECEIPT_UPLOAD, 201, Some(size));
                let gap = w.rng.random_range(1.2..5.0);
                w.wait(gap);
            }
            w.hit(EXPENSES, 200, None);
        }
        Task::Budgets => {
            w.hit(BUDGETS, 200, None);
            w.think(think);
            w.hit(REPORT_SUMMARY, 200, None);
            if w.rng.random_bool(0.3) {
                w.think(think * 2.0);
                let id = object_id(w.rng);
                let size = w.rng.random_range(100..600);
                w.hit_id(BUDGET_UPDATE, &id, 200, Some(size));
            }
        }
        Task::Reports => {
            w.hit(REPORT_SUMMARY, 200, None);
            let exports = match p.role {
                Role::Finance => w.rng.random_range(1..5),
                Role::Manager => u32::from(w.rng.random_bool(0.4)),
                _ => u32::from(w.rng.random_bool(0.15)),
            };
            for _ in 0..exports {
                w.think(think * 1.5);
                w.hit(REPORT_EXPORT, 200, None);
            }
        }
        Task::Approvals => {
            w.hit(APPROVALS, 200, None);
            for _ in 0..w.rng.random_range(1..7) {
                w.think(think);
                let id = object_id(w.rng);
                w.hit_id(EXPENSE, &id, 200, None);
                w.think(think);
                w.hit_id(EXPENSE_APPROVE, &id, 200, Some(60));
            }
        }
        Task::Admin => {
            w.hit(ADMIN_USERS, 200, None);
            if w.rng.random_bool(0.5) {
                w.think(think);
                w.hit(ADMIN_AUDIT, 200, None);
            }
            if w.rng.random_bool(0.3) {
                w.think(think);
                let id = object_id(w.rng);
                w.hit_id(USER_PROFILE, &id, 200, None);
                if w.rng.random_bool(0.5) {
                    w.think(think);
                    w.hit_id(ADMIN_USER_ROLE, &id, 200, Some(80));
                }
            }
            if w.rng.random_bool(0.1) {
                w.think(think);
                w.hit(ADMIN_USER_CREATE, 201, Some(350));
            }
            if w.rng.random_bool(0.05) {
                w.think(think);
                let id = object_id(w.rng);
                w.hit_id(ADMIN_USER_DELETE, &id, 204, None);
            }
            if w.rng.random_bool(0.1) {
                w.think(think);
                w.hit(ADMIN_SETTINGS, 200, Some(400));
            }
        }
        Task::Settings => {
            w.hit(SETTINGS, 200, None);
            if w.rng.random_bool(0.2) {
                w.think(think);
                w.hit(SETTINGS_UPDATE, 200, Some(300));
            }
            if w.rng.random_bool(0.25) {
                w.think(think);
                w.hit(SECURITY, 200, None);
                if w.rng.random_bool(0.1) {
                    w.think(think * 2.0);
                    w.hit(PASSWORD, 200, Some(120));
                }
            }
        }
    }
    // now and then a link the user may not open (an approval mail forwarded to them...)
    if w.rng.random_bool(0.01) {
        w.think(think);
        let id = object_id(w.rng);
        w.hit_id(EXPENSE_APPROVE, &id, 403, Some(60));
    }
}

/// The body of a normal session: at most `tasks` tasks, none started after `deadline` (the
/// end of the user's working day).
fn session_body(
    w: &mut Writer,
    p: &Person,
    tasks: u32,
    task_pause_s: f64,
    mobile: bool,
    deadline: i64,
) {
    if w.rng.random_bool(0.75) {
        if w.rng.random_bool(p.typo_prob) {
            let size = login_size(w.rng);
            w.hit(LOGIN, 401, Some(size));
            w.think(6.0);
            if w.rng.random_bool(0.3) {
                let size = login_size(w.rng);
                w.hit(LOGIN, 401, Some(size));
                w.think(8.0);
            }
        }
        let size = login_size(w.rng);
        w.hit(LOGIN, 200, Some(size));
        w.think(1.0);
    }
    w.hit(DASHBOARD, 200, None);
    w.wait(0.4);
    w.hit(NOTIFICATIONS, 200, None);
    let table = weights(p);
    for k in 0..tasks {
        if k > 0 && w.t > deadline {
            break;
        }
        if k > 0 {
            let pause = lognormal(w.rng, task_pause_s, 1.0).clamp(2.0, 3.0 * 3_600.0);
            w.wait(pause);
        } else {
            w.think(p.think_s);
        }
        if p.vpn && !mobile && w.rng.random_bool(0.08) {
            // the VPN goes on: same browser, one of the company's few exit addresses in a
            // hosting region
            let region = w.rng.random_range(0..DATACENTERS.len());
            let net = Net {
                ip: ip(104, [16 + region as u8, 200, w.rng.random_range(1..5)]),
                agent: w.net.agent.clone(),
                city: DATACENTERS[region],
                scatter: 0.02,
            };
            w.set_net(net);
        }
        if mobile && w.rng.random_bool(0.25) {
            // the phone moved to another cell / off Wi-Fi
            let mut net = w.net.clone();
            net.ip = ip(172, [56, w.rng.random(), w.rng.random()]);
            w.set_net(net);
        }
        let t = pick_task(w.rng, &table);
        task(w, p, t);
    }
    if w.rng.random_bool(0.3) {
        w.think(p.think_s);
        w.hit(LOGOUT, 200, None);
    }
}

/// All normal sessions of all users (stream `0x6e6f726d` + user index per user).
pub(crate) fn generate(cfg: &SimConfig, people: &[Person]) -> Vec<SimSession> {
    let mut out = Vec::new();
    for (ui, p) in people.iter().enumerate() {
        let mut rng = derived(cfg.seed, 0x6e6f_726d_0000 + ui as u64);
        for day in 0..cfg.days {
            let trip = p.trip.filter(|t| (t.first_day..=t.last_day).contains(&day));
            let city = trip.map_or(p.home, |t| t.city);
            let day_start = cfg.start_ms + i64::from(day) * MS_PER_DAY;
            let local = LocalTime::at(
                day_start + 12 * MS_PER_HOUR - i64::from(city.tz_minutes) * 60_000,
                city.tz_minutes,
            );
            let weekend = local.is_weekend();
            if (weekend && !rng.random_bool(p.weekend_prob)) || (!weekend && rng.random_bool(0.04))
            {
                continue;
            }
            let sessions = if p.all_day_session {
                1
            } else {
                p.sessions_per_day.floor() as u32
                    + u32::from(rng.random_bool(p.sessions_per_day.fract()))
            };
            let wfh = weekend || rng.random_bool(p.wfh_prob);
            for _ in 0..sessions {
                let offset_h = if p.all_day_session {
                    rng.random_range(0.0..1.0)
                } else {
                    rng.random_range(0.0..(p.work_hours - 0.5).max(0.5))
                };
                let local_hour = p.start_hour + offset_h;
                let t0 = day_start + (local_hour * MS_PER_HOUR as f64) as i64
                    - i64::from(city.tz_minutes) * 60_000;
                let mobile = p
                    .phone
                    .as_ref()
                    .is_some_and(|_| rng.random_bool(p.phone_share));
                let device = if mobile {
                    p.phone.as_ref().unwrap_or(&p.laptop)
                } else {
                    &p.laptop
                };
                let net = if mobile {
                    Net {
                        ip: ip(172, [56, rng.random(), rng.random()]),
                        agent: device.agent_on(day),
                        city,
                        scatter: 0.25,
                    }
                } else if let Some(t) = trip {
                    Net {
                        ip: ip(185, t.hotel_ip),
                        agent: device.agent_on(day),
                        city,
                        scatter: 0.05,
                    }
                } else if wfh {
                    Net {
                        ip: ip(73, p.home_ip),
                        agent: device.agent_on(day),
                        city,
                        scatter: 0.08,
                    }
                } else {
                    let host = rng.random_range(1..5);
                    Net {
                        ip: ip(198, [51, 10 + p.office_index as u8, host]),
                        agent: device.agent_on(day),
                        city,
                        scatter: 0.02,
                    }
                };
                let sid = format!("sess-{:016x}", rng.random::<u64>());
                let mut w = Writer::new(&mut rng, ui, &p.id, sid, t0, net, Label::NORMAL);
                let (tasks, pause) = if p.all_day_session {
                    (
                        (p.tasks * 3.0).round() as u32 + w.rng.random_range(0..4),
                        25.0 * 60.0,
                    )
                } else {
                    (
                        1 + w.rng.random_range(0..(p.tasks.round() as u32).max(1) * 2),
                        45.0,
                    )
                };
                let deadline =
                    t0 + ((p.work_hours - offset_h).max(0.5) * MS_PER_HOUR as f64) as i64;
                if p.polls && !mobile {
                    w.start_polling();
                }
                session_body(&mut w, p, tasks, pause, mobile, deadline);
                out.push(w.finish());
            }
        }
    }
    out
}

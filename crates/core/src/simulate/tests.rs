//! The simulator's contract: deterministic, sorted, labeled consistently, attacks only after
//! the warm-up, every scenario present with the traits it promises, and normal traffic varied
//! enough that the derived signals also fire on innocent users.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::features::geo::haversine_km;
use crate::features::{BehaviorState, DerivedKind, Sensitivity, StateConfig, N_FEATURES};

fn small() -> SimConfig {
    SimConfig {
        users: 40,
        days: 6,
        warmup_days: 3,
        attacks_per_scenario: 2,
        seed: 9,
        ..SimConfig::default()
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_traffic() {
    let a = serde_json::to_string(&simulate(&small()).unwrap()).unwrap();
    let b = serde_json::to_string(&simulate(&small()).unwrap()).unwrap();
    assert_eq!(a, b);
    let c = serde_json::to_string(
        &simulate(&SimConfig {
            seed: 10,
            ..small()
        })
        .unwrap(),
    )
    .unwrap();
    assert_ne!(a, c);
}

#[test]
fn sorted_labeled_and_clean_prefix() {
    let cfg = small();
    let events = simulate(&cfg).unwrap();
    assert!(events.len() > 1_000, "{} events", events.len());
    assert!(events
        .windows(2)
        .all(|w| w[0].event.timestamp <= w[1].event.timestamp));
    assert!(events
        .iter()
        .all(|e| (cfg.start_ms..cfg.end_ms()).contains(&e.event.timestamp)));
    for e in &events {
        let l = e.label;
        assert_eq!(l.scenario == Scenario::Normal, !l.session_attacked, "{l:?}");
        assert!(!l.attack || l.session_attacked);
        assert_eq!(l.attack_id.is_some(), l.session_attacked);
        if e.event.timestamp < cfg.warmup_end_ms() {
            assert!(!l.session_attacked, "attack inside the warm-up: {e:?}");
        }
    }
    let summary = summarize(&events);
    assert_eq!(summary.users, cfg.users);
    for s in &summary.scenarios {
        assert_eq!(s.instances, cfg.attacks_per_scenario, "{s:?}");
        assert!(s.attack_events > 0, "{s:?}");
    }
}

#[test]
fn scenarios_have_their_traits() {
    let cfg = SimConfig {
        attacks_per_scenario: 4,
        ..small()
    };
    let events = simulate(&cfg).unwrap();
    let of = |s: Scenario| events.iter().filter(move |e| e.label.scenario == s);
    // hijack: the attacker shares the victim's session, from at least 3000 km away
    for e in of(Scenario::SessionHijack).filter(|e| e.label.attack) {
        let victim = of(Scenario::SessionHijack)
            .find(|v| {
                !v.label.attack
                    && v.event.session_id == e.event.session_id
                    && v.event.location.is_some()
            })
            .expect("victim requests in the same session");
        if let (Some(a), Some(b)) = (e.event.location, victim.event.location) {
            assert!(
                haversine_km(a, b) > 2_900.0,
                "{} km: {a:?} {b:?} {:?}",
                haversine_km(a, b),
                e.event
            );
        }
        assert_ne!(e.event.ip_address, victim.event.ip_address);
    }
    // stuffing: many sessions of 401 logins from many addresses per instance
    let mut per_instance: BTreeMap<u32, (BTreeSet<String>, BTreeSet<String>, usize)> =
        BTreeMap::new();
    for e in of(Scenario::CredentialStuffing) {
        let entry = per_instance.entry(e.label.attack_id.unwrap()).or_default();
        entry.0.insert(e.event.session_id.clone());
        entry
            .1
            .insert(e.event.ip_address.clone().unwrap_or_default());
        entry.2 += usize::from(e.event.status_code == Some(401));
    }
    for (sessions, ips, failures) in per_instance.values() {
        assert!(sessions.len() >= 12 && ips.len() >= 10 && *failures >= 12);
    }
    // scraping: hundreds of requests, mostly sub-second apart
    let scraped = of(Scenario::Scraping).count();
    assert!(scraped >= 4 * 80, "{scraped}");
    // probing: admin routes answered 403
    assert!(
        of(Scenario::PrivilegeProbing).any(|e| e.event.endpoint_sensitivity
            == Some(Sensitivity::Critical)
            && e.event.status_code == Some(403))
    );
    // exfiltration: sessions of hours with many exports
    let mut spans: BTreeMap<&str, (i64, i64, usize)> = BTreeMap::new();
    for e in of(Scenario::SlowExfiltration) {
        let s = spans
            .entry(e.event.session_id.as_str())
            .or_insert((i64::MAX, i64::MIN, 0));
        s.0 = s.0.min(e.event.timestamp);
        s.1 = s.1.max(e.event.timestamp);
        s.2 += usize::from(
            e.event
                .endpoint
                .as_deref()
                .is_some_and(|p| p.starts_with("/api/reports/export")),
        );
    }
    for (first, last, exports) in spans.values() {
        assert!(
            last - first >= 2 * 3_600_000 && *exports >= 5,
            "{first} {last} {exports}"
        );
    }
}

#[test]
fn normal_traffic_is_varied_and_features_are_finite() {
    let cfg = SimConfig {
        attacks_per_scenario: 0,
        users: 60,
        days: 7,
        ..small()
    };
    let events = simulate(&cfg).unwrap();
    assert!(events.iter().all(|e| e.label == Label::NORMAL));
    let mut state = BehaviorState::new(StateConfig::default()).unwrap();
    let mut out = [0.0; N_FEATURES];
    let mut fired: BTreeMap<&'static str, usize> = BTreeMap::new();
    for e in &events {
        let obs = state.observe(&e.event, &mut out).unwrap();
        assert!(out.iter().all(|v| v.is_finite()));
        for k in obs.derived.iter() {
            *fired.entry(k.as_str()).or_default() += 1;
        }
    }
    // innocent users change IPs, get new devices, travel, burst, export, administrate, mistype
    for kind in [
        DerivedKind::IpChange,
        DerivedKind::NewDevice,
        DerivedKind::GeoDrift,
        DerivedKind::CadenceSpike,
        DerivedKind::SensitiveEndpoint,
        DerivedKind::CriticalEndpoint,
    ] {
        assert!(
            fired.get(kind.as_str()).copied().unwrap_or(0) > 0,
            "{} never fires on normal traffic: {fired:?}",
            kind.as_str()
        );
    }
    // and some work at night (local 22:00-05:00 at their office)
    let night = events.iter().filter(|e| {
        let h = crate::features::time::LocalTime::at(e.event.timestamp, 0).hour_index;
        !(6..22).contains(&h)
    });
    assert!(night.count() > 100);
}

#[test]
fn rejects_bad_configs() {
    for cfg in [
        SimConfig {
            users: 3,
            ..SimConfig::default()
        },
        SimConfig {
            days: 0,
            ..SimConfig::default()
        },
        SimConfig {
            warmup_days: 14,
            ..SimConfig::default()
        },
        SimConfig {
            start_ms: -5,
            ..SimConfig::default()
        },
        SimConfig {
            start_ms: crate::features::MAX_TIMESTAMP_MS,
            ..SimConfig::default()
        },
    ] {
        assert!(
            matches!(
                simulate(&cfg),
                Err(crate::CoreError::InvalidParameter { .. })
            ),
            "{cfg:?}"
        );
    }
    // without attacks the warm-up may cover everything
    assert!(simulate(&SimConfig {
        warmup_days: 6,
        days: 6,
        attacks_per_scenario: 0,
        ..small()
    })
    .is_ok());
}

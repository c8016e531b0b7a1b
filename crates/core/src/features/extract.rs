//! Reading the 59 features off the updated state. Definitions: docs/features.md.
//!
//! Every value is computed from integers or bounded quantities, durations are capped at
//! [`MAX_DURATION_S`], and a final pass replaces anything non-finite by 0 (it never triggers;
//! a debug assertion and the property tests say so) — so no NaN or infinity can reach a model.

use std::f64::consts::TAU;

use super::names::{idx, N_FEATURES};
use super::session::SessionState;
use super::time::{LocalTime, MS_PER_DAY, MS_PER_MINUTE, WEEK_MS};
use super::user::UserState;

/// Durations are capped at 30 days (in seconds).
pub const MAX_DURATION_S: f64 = 30.0 * 86_400.0;

/// Event facts the features need besides the state.
pub(crate) struct Inputs {
    /// Effective timestamp.
    pub t: i64,
    pub time_since_last_ms: i64,
    pub local: LocalTime,
    pub is_weekend: bool,
    pub is_business_hours: bool,
    pub sensitivity: u8,
    pub method: u8,
    pub content_length: Option<u64>,
    pub active_session_ms: i64,
}

#[inline]
fn secs(ms: f64) -> f64 {
    (ms.max(0.0) / 1000.0).min(MAX_DURATION_S)
}

#[inline]
fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

pub(crate) fn write_features(
    out: &mut [f64; N_FEATURES],
    inp: &Inputs,
    s: &SessionState,
    u: &UserState,
) {
    let t = inp.t;
    let w = &s.window;
    let sig = &s.signals;

    // temporal
    let [n5, n30, n120] = s.rates.window_counts(t);
    let (r5, r30, r120) = (n5 as f64 / 5.0, n30 as f64 / 30.0, n120 as f64 / 120.0);
    out[idx::REQUEST_RATE_SHORT] = r5;
    out[idx::REQUEST_RATE_MEDIUM] = r30;
    out[idx::REQUEST_RATE_LONG] = r120;
    out[idx::RATE_ACCEL_SHORT] = r5 - r30;
    out[idx::RATE_ACCEL_MEDIUM] = r30 - r120;
    out[idx::TIME_SINCE_LAST] = secs(inp.time_since_last_ms as f64);
    let hour_angle = TAU * inp.local.hour / 24.0;
    out[idx::HOUR_SIN] = hour_angle.sin();
    out[idx::HOUR_COS] = hour_angle.cos();
    let day_angle = TAU * f64::from(inp.local.weekday) / 7.0;
    out[idx::DAY_SIN] = day_angle.sin();
    out[idx::DAY_COS] = day_angle.cos();
    let (gap_mean, gap_std) = w.gap_mean_std_ms();
    let (gap_min, gap_max) = w.gap_min_max_ms();
    out[idx::INTER_ARRIVAL_MEAN] = secs(gap_mean);
    out[idx::INTER_ARRIVAL_STD] = secs(gap_std);
    out[idx::INTER_ARRIVAL_MIN] = secs(gap_min as f64);
    out[idx::INTER_ARRIVAL_MAX] = secs(gap_max as f64);

    // statistical
    let cats = sig.category_counts();
    out[idx::SIGNAL_ENDPOINT] = f64::from(cats[0]);
    out[idx::SIGNAL_CADENCE] = f64::from(cats[1]);
    out[idx::SIGNAL_GEO] = f64::from(cats[2]);
    out[idx::SIGNAL_UA] = f64::from(cats[3]);
    out[idx::SIGNAL_PRIV] = f64::from(cats[4]);
    let [mean, std, min, max, median] = sig.risk_stats();
    out[idx::RISK_MEAN] = mean;
    out[idx::RISK_STD] = std;
    out[idx::RISK_MIN] = min;
    out[idx::RISK_MAX] = max;
    out[idx::RISK_MEDIAN] = median;
    let n_events = w.len().max(1) as f64;
    out[idx::ANOMALY_RATE] = f64::from(w.anomalous()) / n_events;
    out[idx::ANOMALY_COUNT] = f64::from(w.anomalous());
    let sev = sig.severity_counts();
    out[idx::SEVERITY_LOW] = f64::from(sev[0]);
    out[idx::SEVERITY_MODERATE] = f64::from(sev[1]);
    out[idx::SEVERITY_HIGH] = f64::from(sev[2]);
    out[idx::SEVERITY_CRITICAL] = f64::from(sev[3]);

    // distribution
    out[idx::ENDPOINT_DIVERSITY] = f64::from(w.endpoints.distinct());
    out[idx::IP_DIVERSITY] = f64::from(w.ips.distinct());
    out[idx::UA_DIVERSITY] = f64::from(w.uas.distinct());
    out[idx::LOCATION_DIVERSITY] = f64::from(w.locations.distinct());
    out[idx::SIGNAL_ENTROPY] = sig.category_entropy();
    out[idx::BURST_COUNT] = f64::from(w.burst_runs());
    out[idx::HOUR_DIVERSITY] = f64::from(w.hours_distinct());

    // sequence
    let (bigrams, trigrams, top, singletons) = w.ngram_counts();
    let n_bigrams = w.n_gaps();
    out[idx::BIGRAM_COUNT] = bigrams as f64;
    out[idx::TRIGRAM_COUNT] = trigrams as f64;
    out[idx::MOST_COMMON_BIGRAM] = if n_bigrams == 0 {
        0.0
    } else {
        f64::from(top) / n_bigrams as f64
    };
    out[idx::SEQUENCE_REGULARITY] = if n_bigrams < 2 {
        0.0
    } else if gap_mean <= 0.0 {
        1.0
    } else {
        1.0 / (1.0 + gap_std / gap_mean)
    };
    out[idx::RISK_TREND] = sig.risk_trend();
    out[idx::CYCLIC_SCORE] = w.cyclic_score();
    out[idx::STATE_TRANSITIONS] = w.transitions() as f64;
    out[idx::PREDICTABILITY] = w.predictability();
    out[idx::UNUSUAL_SEQUENCES] = f64::from(singletons);
    out[idx::SESSION_AGE] = s.events_total as f64;

    // context
    out[idx::ENDPOINT_SENSITIVITY] = f64::from(inp.sensitivity);
    out[idx::HTTP_METHOD] = f64::from(inp.method);
    out[idx::REQUEST_SIZE] = inp.content_length.map_or(0.0, |b| (b as f64).ln_1p());
    out[idx::TIME_SINCE_SESSION_START] = secs(t.saturating_sub(s.started_at) as f64);
    out[idx::IS_WEEKEND] = flag(inp.is_weekend);
    out[idx::IS_BUSINESS_HOURS] = flag(inp.is_business_hours);

    // graph
    out[idx::RECENT_SESSIONS] = u.sessions_started_since(t - MS_PER_DAY) as f64;
    out[idx::CONCURRENT_SESSIONS] = u.sessions_active_since(t - inp.active_session_ms) as f64;
    out[idx::AVG_SESSION_DURATION] = secs(u.mean_session_duration_ms(t - WEEK_MS));
    out[idx::SESSION_SWITCH_RATE] = u.switches_since(t - 10 * MS_PER_MINUTE) as f64 / 10.0;
    out[idx::DEVICE_DIVERSITY] = u.devices_since(t - WEEK_MS) as f64;
    out[idx::IP_DIVERSITY_WEEK] = u.ips_since(t - WEEK_MS) as f64;

    for v in out.iter_mut() {
        debug_assert!(v.is_finite(), "non-finite feature");
        if !v.is_finite() {
            *v = 0.0;
        }
    }
}

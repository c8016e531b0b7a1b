//! The two-sample KS test and the Kolmogorov distribution against SciPy.
//!
//! Fixture values come from `scripts/fixtures/ks_2samp.py` (SciPy version recorded in the
//! file); this test needs no Python. Every case must match SciPy for the *same method*: the
//! statistic to 1e-9 and the p-value to 1e-6 absolute, and the method actually used (exact or
//! the asymptotic fallback) must agree.

use anomaly_core::drift::{ks_2samp, kstwo_sf, KsMethod};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/ks_2samp.json");

#[derive(Deserialize)]
struct Fixture {
    scipy_version: String,
    datasets: Vec<Dataset>,
    cases: Vec<Case>,
    kstwo_sf: Vec<KstwoPoint>,
}

#[derive(Deserialize)]
struct Dataset {
    scale: i64,
    a: Vec<i64>,
    b: Vec<i64>,
}

#[derive(Deserialize)]
struct Case {
    dataset: usize,
    name: String,
    method: String,
    method_used: String,
    statistic: f64,
    pvalue: f64,
}

#[derive(Deserialize)]
struct KstwoPoint {
    n: u64,
    x: f64,
    sf: f64,
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixture parses")
}

fn method(name: &str) -> KsMethod {
    match name {
        "auto" => KsMethod::Auto,
        "exact" => KsMethod::Exact,
        "asymp" => KsMethod::Asymptotic,
        other => panic!("unknown method {other}"),
    }
}

fn values(ints: &[i64], scale: i64) -> Vec<f64> {
    // One correctly rounded division, exactly as the generator computes `ints / scale`.
    ints.iter().map(|&v| v as f64 / scale as f64).collect()
}

#[test]
fn ks_2samp_matches_scipy_for_every_case() {
    let fx = fixture();
    assert!(fx.cases.len() >= 60, "fixture has {} cases", fx.cases.len());
    let (mut max_ds, mut max_dp) = (0.0f64, 0.0f64);
    let mut failures = Vec::new();
    for case in &fx.cases {
        let ds = &fx.datasets[case.dataset];
        let (a, b) = (values(&ds.a, ds.scale), values(&ds.b, ds.scale));
        let r = ks_2samp(&a, &b, method(&case.method)).expect("valid samples");
        let ds_err = (r.statistic - case.statistic).abs();
        let dp_err = (r.p_value - case.pvalue).abs();
        max_ds = max_ds.max(ds_err);
        max_dp = max_dp.max(dp_err);
        if ds_err > 1e-9 || dp_err > 1e-6 || r.method != method(&case.method_used) {
            failures.push(format!(
                "{}: statistic {} vs {} | p {} vs {} | method {:?} vs {}",
                case.name,
                r.statistic,
                case.statistic,
                r.p_value,
                case.pvalue,
                r.method,
                case.method_used
            ));
        }
    }
    println!(
        "{} cases vs SciPy {}: max |Δstatistic| = {max_ds:e}, max |Δp| = {max_dp:e}",
        fx.cases.len(),
        fx.scipy_version
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn kstwo_sf_matches_scipy_on_every_branch() {
    let fx = fixture();
    let mut max_err = 0.0f64;
    let mut max_rel = 0.0f64;
    let mut failures = Vec::new();
    for p in &fx.kstwo_sf {
        let got = kstwo_sf(p.n, p.x);
        let err = (got - p.sf).abs();
        max_err = max_err.max(err);
        if p.sf > 1e-300 {
            max_rel = max_rel.max(err / p.sf);
        }
        if err > 1e-6 || !got.is_finite() {
            failures.push(format!("n={} x={}: {got} vs {}", p.n, p.x, p.sf));
        }
    }
    println!(
        "{} kstwo.sf points vs SciPy {}: max |Δ| = {max_err:e}, max relative = {max_rel:e}",
        fx.kstwo_sf.len(),
        fx.scipy_version
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

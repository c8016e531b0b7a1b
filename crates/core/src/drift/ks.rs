//! Two-sample Kolmogorov–Smirnov test (two-sided), reproducing
//! `scipy.stats.ks_2samp(a, b, alternative='two-sided', method=...)`.
//!
//! ## Why a faithful port
//! The drift detector reports the KS statistic *and its p-value* to operators, who will check
//! them against SciPy. The statistic is simple; the p-value is not: SciPy counts lattice paths
//! exactly for small samples and uses the finite-`n` Kolmogorov distribution (not the limiting
//! one) for large ones, with several algorithms chosen by thresholds. Reimplementing "a" KS
//! p-value would give numbers that differ from SciPy's in the third digit, so this is a port of
//! SciPy **1.17.1** (`scipy/stats/_stats_py.py`: `ks_2samp`, `_attempt_exact_2kssamp`,
//! `_compute_prob_outside_square`; `scipy/stats/_stats_pythran.py`:
//! `_compute_outer_prob_inside_method`; `kstwo.sf` in [`super::kolmogorov`]). The fixtures
//! written by `scripts/fixtures/ks_2samp.py` (tests/ks_scipy.rs) hold this to |Δstatistic| <=
//! 1e-9 and |Δp| <= 1e-6 against SciPy for the same method.
//!
//! ## Behaviour, as in SciPy
//! - The statistic is `max |F_a(x) - F_b(x)|` over the pooled sample, evaluated as
//!   `i/n1 - j/n2` in floating point exactly as SciPy does.
//! - `Auto` is exact when `max(n1, n2) <= 10 000`, asymptotic otherwise. `Exact` with an
//!   `lcm(n1, n2)` too large for a 32-bit lattice falls back to asymptotic.
//! - The exact method first rounds `D` to the lattice `h / lcm(n1, n2)` and *reports that
//!   rounded value* as the statistic (even if the exact computation then fails and the
//!   asymptotic one is used); `n1 == n2` uses the closed alternating sum, otherwise Hodges'
//!   inside method in Viehmann's `1 - p` form. A result outside `[0, 1]` counts as a numerical
//!   failure and falls back to asymptotic. [`KsResult::method`] says which method was used.
//! - The asymptotic method is `kstwo.sf(D, round(n1·n2/(n1+n2)))` (round half to even).
//!
//! One deliberate deviation: for `n1 == n2 == 1` SciPy's asymptotic branch rounds the effective
//! size ½ to 0 and returns NaN; here that case is answered exactly (p = 1, the only possible
//! value) and reported as [`KsMethod::Exact`].
//!
//! ## Cost
//! The exact method is O(n) for equal sizes and O(max(n1,n2) · D · min(n1,n2)) for unequal
//! ones (the band of lattice points within `D` of the diagonal): coprime sizes of 10 000 with a
//! large `D` are the expensive case, as in SciPy. The drift detector compares against a
//! reference sample of ≤ 1000 scores, where `gcd` is large and the band narrow, so its KS stays
//! cheap (measured, against SciPy too: docs/benchmarks.md, section "Drift").

use serde::{Deserialize, Serialize};

use super::kolmogorov::kstwo_sf;
use crate::error::{ensure_finite, CoreError, Result};

/// `auto` computes exactly up to this sample size (SciPy's `MAX_AUTO_N`).
pub const MAX_AUTO_EXACT_N: usize = 10_000;

/// How the p-value is computed (SciPy's `method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// Exact when both samples have at most 10 000 values, asymptotic otherwise.
    #[default]
    Auto,
    /// Exact lattice-path count (falls back to asymptotic when impossible or unstable).
    Exact,
    /// The finite-n Kolmogorov distribution at the effective sample size.
    #[serde(rename = "asymp")]
    Asymptotic,
}

/// Result of a two-sided two-sample KS test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KsResult {
    /// `sup |F_a - F_b|`, in `[0, 1]` (rounded to the `1/lcm` lattice when the exact method ran).
    pub statistic: f64,
    /// Two-sided p-value in `[0, 1]`.
    pub p_value: f64,
    /// The method actually used: `Exact` or `Asymptotic`, never `Auto`.
    pub method: KsMethod,
}

/// Two-sided two-sample KS test of `a` against `b`, as `scipy.stats.ks_2samp`.
///
/// Errors: an empty sample ([`CoreError::NotEnoughData`]) or a non-finite value
/// ([`CoreError::NonFinite`]).
pub fn ks_2samp(a: &[f64], b: &[f64], method: KsMethod) -> Result<KsResult> {
    check_sample("KS sample a", a)?;
    check_sample("KS sample b", b)?;
    let mut a_sorted = a.to_vec();
    let mut b_sorted = b.to_vec();
    a_sorted.sort_unstable_by(f64::total_cmp);
    b_sorted.sort_unstable_by(f64::total_cmp);
    ks_2samp_sorted_unchecked(&a_sorted, &b_sorted, method)
}

/// [`ks_2samp`] for samples already sorted ascending (no copies, no sorting).
///
/// Errors as [`ks_2samp`], plus [`CoreError::InvalidParameter`] when a sample is not sorted.
pub fn ks_2samp_sorted(a_sorted: &[f64], b_sorted: &[f64], method: KsMethod) -> Result<KsResult> {
    check_sample("KS sample a", a_sorted)?;
    check_sample("KS sample b", b_sorted)?;
    for (name, s) in [("a_sorted", a_sorted), ("b_sorted", b_sorted)] {
        if s.windows(2).any(|w| w[0] > w[1]) {
            return Err(CoreError::InvalidParameter {
                name: "sample",
                reason: format!("{name} must be sorted ascending"),
            });
        }
    }
    ks_2samp_sorted_unchecked(a_sorted, b_sorted, method)
}

fn check_sample(what: &'static str, s: &[f64]) -> Result<()> {
    if s.is_empty() {
        return Err(CoreError::NotEnoughData {
            what,
            needed: 1,
            actual: 0,
        });
    }
    ensure_finite(what, s)
}

/// The two-sided statistic `max(D+, D-)` of two ascending samples, computed like SciPy (ECDF
/// differences `i/n1 - j/n2` at every pooled value, ties handled by counting `<=`).
///
/// Returns 0 when either sample is empty (no evidence of a difference). Unsorted or NaN input
/// gives a meaningless number, never a panic or an endless loop; [`ks_2samp_sorted`] checks.
pub fn ks_statistic_sorted(a_sorted: &[f64], b_sorted: &[f64]) -> f64 {
    let (n1, n2) = (a_sorted.len(), b_sorted.len());
    if n1 == 0 || n2 == 0 {
        return 0.0;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut max_s = f64::NEG_INFINITY;
    let mut min_s = f64::INFINITY;
    while i < n1 || j < n2 {
        let v = match (a_sorted.get(i), b_sorted.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let (before_i, before_j) = (i, j);
        while a_sorted.get(i).is_some_and(|&x| x <= v) {
            i += 1;
        }
        while b_sorted.get(j).is_some_and(|&y| y <= v) {
            j += 1;
        }
        if i == before_i && j == before_j {
            // Only a NaN head can stall the walk (it compares false with everything).
            break;
        }
        let diff = i as f64 / n1f - j as f64 / n2f;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    if min_s > max_s {
        min_s
    } else {
        max_s
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn ks_2samp_sorted_unchecked(a: &[f64], b: &[f64], method: KsMethod) -> Result<KsResult> {
    let (n1, n2) = (a.len() as u64, b.len() as u64);
    let mut d = ks_statistic_sorted(a, b);
    let g = gcd(n1, n2);
    let (n1g, n2g) = (n1 / g, n2 / g);

    let mut mode = match method {
        KsMethod::Auto => {
            if n1.max(n2) <= MAX_AUTO_EXACT_N as u64 {
                KsMethod::Exact
            } else {
                KsMethod::Asymptotic
            }
        }
        KsMethod::Exact => {
            // SciPy: if lcm(n1, n2) is too big, switch from exact to asymp.
            if n1g as f64 >= i32::MAX as f64 / n2g as f64 {
                KsMethod::Asymptotic
            } else {
                KsMethod::Exact
            }
        }
        KsMethod::Asymptotic => KsMethod::Asymptotic,
    };

    let mut prob = f64::NAN;
    if mode == KsMethod::Exact {
        let (success, lattice_d, p) = attempt_exact(n1, n2, g, d);
        d = lattice_d;
        if success {
            prob = p;
        } else {
            mode = KsMethod::Asymptotic;
        }
    }
    if mode == KsMethod::Asymptotic {
        let (m, n) = if n1 >= n2 {
            (n1 as f64, n2 as f64)
        } else {
            (n2 as f64, n1 as f64)
        };
        let en = (m * n / (m + n)).round_ties_even();
        if en < 1.0 {
            // n1 == n2 == 1: SciPy returns NaN here; the exact answer is p = 1.
            let (_, lattice_d, p) = attempt_exact(n1, n2, g, d);
            return Ok(KsResult {
                statistic: lattice_d,
                p_value: p,
                method: KsMethod::Exact,
            });
        }
        prob = kstwo_sf(en as u64, d);
    }
    Ok(KsResult {
        statistic: d,
        p_value: prob.clamp(0.0, 1.0),
        method: mode,
    })
}

/// SciPy's `_attempt_exact_2kssamp` (two-sided): `(success, d rounded to the lattice, p)`.
fn attempt_exact(n1: u64, n2: u64, g: u64, d: f64) -> (bool, f64, f64) {
    let lcm = (n1 / g) * n2;
    let lcm_f = lcm as f64;
    let h = (d * lcm_f).round_ties_even();
    let d = h / lcm_f;
    let h = h as i64;
    if h == 0 {
        return (true, d, 1.0);
    }
    let prob = if n1 == n2 {
        prob_outside_square(n1 as i64, h)
    } else {
        outer_prob_inside_method(n1 as i64, n2 as i64, g as i64, h)
    };
    match prob {
        Some(p) if (0.0..=1.0).contains(&p) => (true, d, p),
        _ => (false, d, f64::NAN),
    }
}

/// `P(D_{n,n} >= h/n)`: SciPy's `_compute_prob_outside_square`, the alternating sum
/// `2·Σ_k (-1)^k binom(2n, n-kh)/binom(2n, n)` in Horner form to avoid cancellation.
fn prob_outside_square(n: i64, h: i64) -> Option<f64> {
    if h <= 0 {
        return None;
    }
    let mut p = 0.0;
    let mut k = n / h; // floor(n / h) for positive operands
    while k >= 0 {
        let mut p1 = 1.0;
        for j in 0..h {
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    Some(2.0 * p)
}

fn floor_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b) // b > 0
}

fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// Proportion of lattice paths from (0,0) to (m,n) that leave the band `|x/m - y/n| <
/// h/lcm(m,n)`, i.e. `P(D >= h/lcm)`: SciPy's `_compute_outer_prob_inside_method` (Hodges'
/// inside method, Viehmann's recursion for `1 - p`, one sliding column of the path-count
/// matrix).
///
/// `None` only if the sliding window would leave its buffer, which the algorithm's invariants
/// rule out; it is treated like SciPy's numerical failure (fallback to asymptotic).
fn outer_prob_inside_method(m: i64, n: i64, g: i64, h: i64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let mg = m / g;
    let ng = n / g;

    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in a.get_mut(minj as usize..(maxj as usize).min(len_a))? {
        *v = 0.0;
    }
    for i in 1..=m {
        let lastminj = minj;
        let lastlen = curlen;
        minj = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return Some(1.0);
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let width = (maxj - minj) as usize;
        let shift = (minj - lastminj) as usize;
        if shift + width > a.len() {
            return None;
        }
        // Reads run `shift >= 0` ahead of writes, so the column can be updated in place.
        // `val` is a serial recurrence: multiplying by a reciprocal computed off the critical
        // path (instead of SciPy's division) halves its latency; the rounding difference is
        // ~1 ulp per step (fixtures: |Δp| < 1e-13).
        for jj in 0..width {
            let j = (jj as i64 + minj) as f64;
            let inv = 1.0 / (fi + j);
            val = (a[jj + shift] * fi + val * j) * inv;
            a[jj] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(len_a);
            if start < end {
                a[start..end].iter_mut().for_each(|v| *v = 1.0);
            }
        }
    }
    a.get((maxj - minj - 1) as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistic_counts_ties_like_scipy() {
        // a = [1, 2, 2, 3], b = [2, 3, 3]: at 1: 1/4 - 0; at 2: 3/4 - 1/3 = 5/12; at 3: 1 - 1.
        let d = ks_statistic_sorted(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0]);
        assert!((d - 5.0 / 12.0).abs() < 1e-15, "{d}");
    }

    #[test]
    fn statistic_is_symmetric_and_bounded() {
        let a = [0.1, 0.4, 0.45, 0.9];
        let b = [0.2, 0.3, 0.35, 0.5, 0.95, 1.2];
        let d1 = ks_statistic_sorted(&a, &b);
        let d2 = ks_statistic_sorted(&b, &a);
        assert_eq!(d1, d2);
        assert!((0.0..=1.0).contains(&d1));
    }

    #[test]
    fn identical_and_disjoint_samples() {
        let x = [3.0, 1.0, 2.0, 5.0];
        let r = ks_2samp(&x, &x, KsMethod::Auto).unwrap();
        assert_eq!(
            (r.statistic, r.p_value, r.method),
            (0.0, 1.0, KsMethod::Exact)
        );
        let r = ks_2samp(&[1.0, 2.0, 3.0], &[10.0, 11.0, 12.0], KsMethod::Exact).unwrap();
        assert_eq!(r.statistic, 1.0);
        // P(D_{3,3} = 1) = 2 / binom(6, 3) = 0.1
        assert!((r.p_value - 0.1).abs() < 1e-15, "{}", r.p_value);
    }

    #[test]
    fn exact_unequal_sizes_matches_path_count() {
        // n1 = 1, n2 = 2: D = 1 happens in 2 of the binom(3,1) = 3 orderings.
        let r = ks_2samp(&[0.0], &[1.0, 2.0], KsMethod::Exact).unwrap();
        assert!((r.p_value - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn auto_switches_to_asymptotic_above_ten_thousand() {
        let a: Vec<f64> = (0..10_001).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..50).map(|i| i as f64 * 7.3).collect();
        assert_eq!(
            ks_2samp(&a, &b, KsMethod::Auto).unwrap().method,
            KsMethod::Asymptotic
        );
        assert_eq!(
            ks_2samp(&a[..10_000], &b, KsMethod::Auto).unwrap().method,
            KsMethod::Exact
        );
    }

    #[test]
    fn single_pair_asymptotic_is_answered_exactly() {
        let r = ks_2samp(&[1.0], &[2.0], KsMethod::Asymptotic).unwrap();
        assert_eq!(
            (r.statistic, r.p_value, r.method),
            (1.0, 1.0, KsMethod::Exact)
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            ks_2samp(&[], &[1.0], KsMethod::Auto),
            Err(CoreError::NotEnoughData { .. })
        ));
        assert!(matches!(
            ks_2samp(&[1.0, f64::NAN], &[1.0], KsMethod::Auto),
            Err(CoreError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            ks_2samp_sorted(&[2.0, 1.0], &[1.0], KsMethod::Auto),
            Err(CoreError::InvalidParameter { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn symmetric_bounded_and_consistent(
            a in proptest::collection::vec(-5i32..5, 1..40),
            b in proptest::collection::vec(-5i32..5, 1..40),
        ) {
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let ab = ks_2samp(&a, &b, KsMethod::Auto).unwrap();
            let ba = ks_2samp(&b, &a, KsMethod::Auto).unwrap();
            proptest::prop_assert_eq!(ab.statistic, ba.statistic);
            proptest::prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
            proptest::prop_assert!((0.0..=1.0).contains(&ab.statistic));
            proptest::prop_assert!((0.0..=1.0).contains(&ab.p_value));
            let asymp = ks_2samp(&a, &b, KsMethod::Asymptotic).unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&asymp.p_value));
            // The lattice rounding only removes floating-point noise from the statistic.
            proptest::prop_assert!((asymp.statistic - ab.statistic).abs() < 1e-12);
        }
    }

    #[test]
    fn method_serialises_with_scipy_names() {
        let json = serde_json::to_string(&[KsMethod::Auto, KsMethod::Exact, KsMethod::Asymptotic])
            .unwrap();
        assert_eq!(json, r#"["auto","exact","asymp"]"#);
    }
}

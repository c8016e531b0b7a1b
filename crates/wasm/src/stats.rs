//! Drift statistics over plain arrays: PSI, two-sample KS, and bin proportions.
//!
//! `binProportions` exists so that the viewer bins current values with exactly the rule the
//! server uses (right-closed bins over the reference's quantile edges, core's
//! `QuantileBins::proportions_of`) instead of re-implementing it in JS.

use anomaly_core::drift::{self, KsMethod, QuantileBins};
use anomaly_core::{CoreError, Result};
use wasm_bindgen::prelude::*;

use crate::convert::{core_error, to_js, vector_from_js};

/// `ks2samp`'s method names, as SciPy spells them.
pub fn parse_ks_method(name: Option<&str>) -> Result<KsMethod> {
    match name.unwrap_or("auto") {
        "auto" => Ok(KsMethod::Auto),
        "exact" => Ok(KsMethod::Exact),
        "asymp" => Ok(KsMethod::Asymptotic),
        other => Err(CoreError::InvalidParameter {
            name: "method",
            reason: format!("expected \"auto\", \"exact\" or \"asymp\", got {other:?}"),
        }),
    }
}

/// Proportions of `values` in the right-closed bins cut at `edges` (strictly increasing, finite).
pub fn bin_proportions_of(edges: &[f64], values: &[f64]) -> Result<Vec<f64>> {
    anomaly_core::error::ensure_finite("values", values)?;
    let n_bins = edges.len() + 1;
    // Proportions are only carried for validation of the edges; they are not used.
    let uniform = vec![1.0 / n_bins as f64; n_bins];
    let bins = QuantileBins {
        edges: edges.to_vec(),
        proportions: uniform,
    };
    bins.validate()?;
    Ok(bins.proportions_of(values))
}

/// Population Stability Index of `current` against quantile bins fitted on `reference`
/// (`bins` defaults to 10).
#[wasm_bindgen]
pub fn psi(
    #[wasm_bindgen(unchecked_param_type = "Vector")] reference: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Vector")] current: JsValue,
    bins: Option<u32>,
) -> std::result::Result<f64, JsError> {
    let reference = vector_from_js(reference, "the reference sample")?;
    let current = vector_from_js(current, "the current sample")?;
    let bins = bins.map_or(drift::psi::DEFAULT_BINS, |b| b as usize);
    drift::psi(&reference, &current, bins).map_err(core_error)
}

/// Two-sided two-sample Kolmogorov–Smirnov test (`scipy.stats.ks_2samp`):
/// `{ statistic, pValue, method }`. `method`: "auto" (default), "exact" or "asymp".
#[wasm_bindgen(unchecked_return_type = "KsResult")]
pub fn ks2samp(
    #[wasm_bindgen(unchecked_param_type = "Vector")] a: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Vector")] b: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "KsMethod")] method: Option<String>,
) -> std::result::Result<JsValue, JsError> {
    let a = vector_from_js(a, "sample a")?;
    let b = vector_from_js(b, "sample b")?;
    let method = parse_ks_method(method.as_deref()).map_err(core_error)?;
    to_js(&drift::ks_2samp(&a, &b, method).map_err(core_error)?)
}

/// Proportions of `values` in the bins cut at `edges` (a bundle's reference edges): one more
/// proportion than edges, summing to 1 (all 0 for no values).
#[wasm_bindgen(js_name = binProportions, unchecked_return_type = "number[]")]
pub fn bin_proportions(
    #[wasm_bindgen(unchecked_param_type = "number[]")] edges: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Vector")] values: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let edges = vector_from_js(edges, "the bin edges")?;
    let values = vector_from_js(values, "the values")?;
    to_js(&bin_proportions_of(&edges, &values).map_err(core_error)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_follow_scipy() {
        assert_eq!(parse_ks_method(None), Ok(KsMethod::Auto));
        assert_eq!(parse_ks_method(Some("asymp")), Ok(KsMethod::Asymptotic));
        assert_eq!(parse_ks_method(Some("exact")), Ok(KsMethod::Exact));
        assert!(parse_ks_method(Some("asymptotic")).is_err());
    }

    #[test]
    fn bins_are_right_closed_like_the_server() {
        // Edges 1 and 2: bins (-inf, 1], (1, 2], (2, inf).
        let p =
            bin_proportions_of(&[1.0, 2.0], &[0.0, 1.0, 1.5, 2.0, 2.5, 9.0, 1.0, -4.0]).unwrap();
        assert_eq!(p, vec![4.0 / 8.0, 2.0 / 8.0, 2.0 / 8.0]);
        assert_eq!(bin_proportions_of(&[1.0], &[]).unwrap(), vec![0.0, 0.0]);
        assert!(
            bin_proportions_of(&[2.0, 1.0], &[0.0]).is_err(),
            "edges must increase"
        );
        assert!(bin_proportions_of(&[1.0], &[f64::NAN]).is_err());
    }
}

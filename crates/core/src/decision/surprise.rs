//! Surprise: how rare a composite score was among the training requests, as `u = −ln p`.
//!
//! Why a log tail probability: evidence is summed over requests, and sums of `−ln p` are what
//! independent rare events add up to (a request in the top 1 % and another in the top 1 % are
//! as surprising together as one in the top 0.01 %). The composite itself is a calibrated rank
//! in the body of the distribution but compressed near its top, where the decisions are made.
//!
//! The table keeps the composite at tail probabilities `p = 2^(-j/2)` (j = 0, 1, …) down to one
//! training request, and interpolates `u` linearly in the composite between knots. Beyond the
//! training maximum `u` keeps rising along the slope of the last knots (an exponential tail),
//! capped at [`MAX_SURPRISE`]: a request more extreme than anything in training is more
//! surprising than one training request in N, by how far it lies beyond.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Largest surprise a single request can have (e^-60 ≈ 1e-26).
pub const MAX_SURPRISE: f64 = 60.0;

/// Composite → surprise (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurpriseTable {
    /// Composite at each knot, non-decreasing.
    composite: Vec<f64>,
    /// `−ln p` at each knot, increasing.
    surprise: Vec<f64>,
    /// Surprise per unit of composite beyond the last knot (> 0).
    tail_slope: f64,
}

impl SurpriseTable {
    /// The table of `composites` (the training requests' scores, any order).
    pub fn fit(composites: &[f64]) -> Result<SurpriseTable> {
        crate::error::ensure_finite("training composites", composites)?;
        if composites.len() < 2 {
            return Err(CoreError::NotEnoughData {
                what: "training composites",
                needed: 2,
                actual: composites.len(),
            });
        }
        let mut sorted = composites.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a)); // descending: sorted[k] is the (k+1)-th highest
        let n = sorted.len() as f64;
        let mut composite = Vec::new();
        let mut surprise = Vec::new();
        // p = 2^-j: the composite at rank floor(p·n) from the top (rank 1 = the maximum)
        let mut j = 0;
        loop {
            // half-octave steps: p = 1, 0.71, 0.5, 0.35, ...
            let p = libm::exp2(-(j as f64) / 2.0);
            let rank = (p * n).floor().max(1.0) as usize;
            let c = sorted[rank - 1];
            let u = -libm::log(rank as f64 / n);
            // keep knots strictly increasing in surprise and non-decreasing in composite
            if surprise.last().is_none_or(|&last| u > last) {
                // composites are read from the top down: ascending order once reversed
                composite.push(c);
                surprise.push(u);
            }
            if rank == 1 {
                break;
            }
            j += 1;
        }
        // ascending in composite: the loop went from p = 1 (the minimum) to the maximum. The
        // tail's slope is read off the last knots, or off a wider stretch when the values there
        // are tied (a count feature whose top values repeat): one step beyond the maximum of a
        // count is not the end of the world.
        let slope = {
            let k = composite.len();
            let top = composite[k - 1];
            let lo = (0..k.saturating_sub(4))
                .rev()
                .find(|&i| top - composite[i] > 1e-9)
                .unwrap_or(0);
            let dc = top - composite[lo];
            let du = surprise[k - 1] - surprise[lo];
            if dc > 1e-9 && du > 0.0 {
                du / dc
            } else {
                // a constant in training: any other value is new
                1e3
            }
        };
        Ok(SurpriseTable {
            composite,
            surprise,
            tail_slope: slope.clamp(1.0, 1e6),
        })
    }

    /// The surprise of `composite`.
    pub fn surprise(&self, composite: f64) -> f64 {
        let k = &self.composite;
        let u = &self.surprise;
        if !composite.is_finite() {
            return if composite > 0.0 { MAX_SURPRISE } else { 0.0 };
        }
        if composite <= k[0] {
            return u[0];
        }
        let last = k.len() - 1;
        if composite >= k[last] {
            return (u[last] + (composite - k[last]) * self.tail_slope).min(MAX_SURPRISE);
        }
        // first knot strictly above
        let i = k.partition_point(|&c| c <= composite);
        let (c0, c1) = (k[i - 1], k[i]);
        let (u0, u1) = (u[i - 1], u[i]);
        if c1 > c0 {
            u0 + (u1 - u0) * (composite - c0) / (c1 - c0)
        } else {
            u1
        }
    }

    /// The largest training value.
    pub fn training_max(&self) -> f64 {
        self.composite[self.composite.len() - 1]
    }

    /// The surprise of the largest training value (`ln n`).
    pub fn max_surprise_in_training(&self) -> f64 {
        self.surprise[self.surprise.len() - 1]
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(CoreError::InvalidBundle(format!("decision surprise: {m}")));
        if self.composite.len() != self.surprise.len() || self.composite.is_empty() {
            return bad("knot lists must be non-empty and of equal length".into());
        }
        if self.composite.len() > 128 {
            return bad(format!("at most 128 knots, got {}", self.composite.len()));
        }
        let finite = |v: &f64| v.is_finite() && v.abs() <= 1e6;
        if !self.composite.iter().all(finite) || !self.surprise.iter().all(finite) {
            return bad("every knot must be finite and at most 1e6".into());
        }
        if self.composite.windows(2).any(|w| w[0] > w[1])
            || self.surprise.windows(2).any(|w| w[0] >= w[1])
            || self.surprise[0] < 0.0
        {
            return bad("knots must be ordered".into());
        }
        if !(self.tail_slope.is_finite() && self.tail_slope >= 1.0 && self.tail_slope <= 1e6) {
            return bad(format!("tail slope out of range: {}", self.tail_slope));
        }
        Ok(())
    }
}

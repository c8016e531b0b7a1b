//! Saabas' path attribution: the per-request explanation that costs one scoring pass.
//!
//! Every node stores `E[v | node]`, the mean leaf value of the training rows that reached it.
//! Walking `x` down a tree, each step from `node` to `child` changes that expectation by
//! `E[v | child] - E[v | node]`, credited to the node's split feature. The steps telescope from
//! `E[v | root]` to the leaf value, so per tree the credits sum to `v(leaf) - E[v]`, and averaged
//! over trees to `path_length(x) - expected_path_length()`, the same total TreeSHAP splits.

use super::{IsolationForest, INTERLEAVE};

impl IsolationForest {
    /// Saabas attribution of [`path_length`](Self::path_length), one value per feature, written
    /// to `out` (overwritten). Additive like [`tree_shap`](Self::tree_shap), at the cost of one
    /// scoring pass and no allocation.
    ///
    /// Returns the path length of `x`, bit-identical to [`path_length`](Self::path_length)
    /// (same walk, same summation order), so a caller needing both walks the trees once.
    ///
    /// If `x` or `out` does not have `n_features` entries, `out` is filled with NaN and NaN is
    /// returned.
    pub fn path_attribution(&self, x: &[f64], out: &mut [f64]) -> f64 {
        if x.len() != self.n_features || out.len() != self.n_features {
            out.fill(f64::NAN);
            return f64::NAN;
        }
        out.fill(0.0);
        // The same branch-free fixed-step walk as scoring, INTERLEAVE trees side by side; at a
        // leaf the step stays put and adds E[v|leaf] - E[v|leaf] = 0 to feature 0.
        let roots = &self.roots[..self.roots.len() - 1];
        let mut sum = 0.0;
        let mut groups = roots.chunks_exact(INTERLEAVE);
        for group in &mut groups {
            let mut cursor = [0usize; INTERLEAVE];
            for (c, &root) in cursor.iter_mut().zip(group) {
                *c = root as usize;
            }
            for _ in 0..self.max_leaf_depth {
                for c in cursor.iter_mut() {
                    let node = &self.nodes[*c];
                    let next = node.step(x);
                    out[node.feature as usize] +=
                        self.nodes[next].expected - self.nodes[*c].expected;
                    *c = next;
                }
            }
            for c in cursor {
                sum += self.nodes[c].expected;
            }
        }
        for &root in groups.remainder() {
            let mut i = root as usize;
            for _ in 0..self.max_leaf_depth {
                let node = &self.nodes[i];
                let next = node.step(x);
                out[node.feature as usize] += self.nodes[next].expected - self.nodes[i].expected;
                i = next;
            }
            sum += self.nodes[i].expected;
        }
        let scale = 1.0 / self.n_trees() as f64;
        out.iter_mut().for_each(|v| *v *= scale);
        sum / roots.len() as f64
    }
}

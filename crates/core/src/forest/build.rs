//! Growing one isolation tree, as scikit-learn's `ExtraTreeRegressor(max_features=1,
//! splitter="random")` does inside `IsolationForest`.
//!
//! - The tree sees `psi` rows drawn without replacement.
//! - At each node a feature is drawn uniformly among those not yet known to be constant in the
//!   node; a drawn feature that turns out constant is remembered (for the node's descendants too,
//!   since a subset of constant values stays constant) and another is drawn. A node whose features
//!   are all constant becomes a leaf.
//! - The threshold is uniform in `[min, max)` of the feature within the node (a draw that rounds
//!   to `max` is replaced by `min`, as scikit-learn does), rows with `x[f] <= threshold` go left,
//!   so both children are non-empty.
//! - Growth stops at the depth limit or at nodes of fewer than two rows.
//!
//! One difference, deliberate: scikit-learn treats a feature as constant when its range in the
//! node is at most 1e-7 (on float32 copies of the data); here only an exactly zero range is
//! constant, so small-scale f64 features are not silently ignored.

use ndarray::ArrayView2;
use rand::Rng as _;

use super::tree::RawNode;
use crate::rng::Rng;

/// Attempts at drawing a non-constant feature by rejection before falling back to listing the
/// candidates explicitly (only nodes where most features are constant get there).
const REJECTION_ATTEMPTS: usize = 32;

struct Task {
    start: usize,
    end: usize,
    depth: usize,
    /// Index of the internal node whose right child this task is, if it is one.
    right_of: Option<usize>,
    /// Known-constant features of this node: `consts[const_start..const_start + const_len]`.
    const_start: usize,
    const_len: usize,
}

/// Grows one tree on a subsample of `data`; returns its nodes in pre-order with right-child
/// indices local to the tree and leaf values not yet filled in (see [`super::tree::derive`]).
pub(crate) fn grow_tree(
    data: ArrayView2<f64>,
    psi: usize,
    depth_limit: usize,
    rng: &mut Rng,
) -> Vec<RawNode> {
    let n_rows = data.nrows();
    let n_features = data.ncols();
    let sample = rand::seq::index::sample(rng, n_rows, psi);

    // Feature-major copy of the subsample: the min/max scans of a node read one feature of a
    // few rows, which then lie within one small contiguous block.
    let mut cols = vec![0.0f64; n_features * psi];
    for (r, row_index) in sample.iter().enumerate() {
        for (f, &v) in data.row(row_index).iter().enumerate() {
            cols[f * psi + r] = v;
        }
    }

    let mut rows: Vec<u32> = (0..psi as u32).collect();
    let mut nodes: Vec<RawNode> = Vec::with_capacity(2 * psi);
    let mut consts: Vec<u32> = Vec::new();
    let mut is_const = vec![false; n_features];
    let mut found: Vec<u32> = Vec::new();
    let mut candidates: Vec<u32> = Vec::new();
    let mut stack = vec![Task {
        start: 0,
        end: psi,
        depth: 0,
        right_of: None,
        const_start: 0,
        const_len: 0,
    }];

    while let Some(task) = stack.pop() {
        let index = nodes.len();
        if let Some(parent) = task.right_of {
            nodes[parent].aux = index as u32;
        }
        let size = task.end - task.start;
        if task.depth >= depth_limit || size < 2 {
            nodes.push(RawNode::leaf(size as u32));
            continue;
        }

        let known = &consts[task.const_start..task.const_start + task.const_len];
        for &f in known {
            is_const[f as usize] = true;
        }
        found.clear();
        let node_rows = &mut rows[task.start..task.end];
        let mut split = None;
        while known.len() + found.len() < n_features {
            let f = draw_feature(rng, &is_const, known.len() + found.len(), &mut candidates);
            let values = &cols[f * psi..(f + 1) * psi];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &r in node_rows.iter() {
                let v = values[r as usize];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi <= lo {
                is_const[f] = true;
                found.push(f as u32);
                continue;
            }
            let threshold = draw_threshold(rng, lo, hi);
            let n_left = partition(node_rows, values, threshold);
            split = Some((f, threshold, n_left));
            break;
        }
        for &f in known.iter().chain(&found) {
            is_const[f as usize] = false;
        }

        let Some((feature, threshold, n_left)) = split else {
            nodes.push(RawNode::leaf(size as u32));
            continue;
        };
        nodes.push(RawNode::split(feature as u32, threshold));
        let (mut const_start, mut const_len) = (task.const_start, task.const_len);
        if !found.is_empty() {
            let start = consts.len();
            consts.extend_from_within(const_start..const_start + const_len);
            consts.extend_from_slice(&found);
            const_start = start;
            const_len = consts.len() - start;
        }
        let mid = task.start + n_left;
        let depth = task.depth + 1;
        stack.push(Task {
            start: mid,
            end: task.end,
            depth,
            right_of: Some(index),
            const_start,
            const_len,
        });
        stack.push(Task {
            start: task.start,
            end: mid,
            depth,
            right_of: None,
            const_start,
            const_len,
        });
    }
    nodes
}

/// A feature drawn uniformly among those with `is_const[f] == false` (`excluded` of them are
/// true, and at least one is false).
fn draw_feature(
    rng: &mut Rng,
    is_const: &[bool],
    excluded: usize,
    candidates: &mut Vec<u32>,
) -> usize {
    let n = is_const.len();
    if excluded * 2 <= n {
        for _ in 0..REJECTION_ATTEMPTS {
            let f = rng.random_range(0..n);
            if !is_const[f] {
                return f;
            }
        }
    }
    candidates.clear();
    candidates.extend((0..n as u32).filter(|&f| !is_const[f as usize]));
    candidates[rng.random_range(0..candidates.len())] as usize
}

/// Uniform in `[lo, hi)`, `lo < hi` both finite.
fn draw_threshold(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    let u: f64 = rng.random();
    let mut t = lo + (hi - lo) * u;
    if !t.is_finite() {
        // hi - lo overflowed (values near ±f64::MAX)
        t = lo * (1.0 - u) + hi * u;
    }
    if !(lo..hi).contains(&t) {
        t = lo;
    }
    t
}

/// Moves the rows with `values[row] <= threshold` to the front; returns how many there are.
fn partition(rows: &mut [u32], values: &[f64], threshold: f64) -> usize {
    let mut left = 0;
    for i in 0..rows.len() {
        if values[rows[i] as usize] <= threshold {
            rows.swap(left, i);
            left += 1;
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    #[test]
    fn threshold_stays_in_half_open_range() {
        let mut rng = seeded(1);
        for (lo, hi) in [
            (0.0, 1.0),
            (1.0, 1.0 + f64::EPSILON),
            (-f64::MAX, f64::MAX),
            (-3.0, -2.5),
        ] {
            for _ in 0..1000 {
                let t = draw_threshold(&mut rng, lo, hi);
                assert!(t >= lo && t < hi, "{t} not in [{lo}, {hi})");
            }
        }
    }

    #[test]
    fn feature_draw_skips_constants_uniformly() {
        let mut rng = seeded(2);
        let mut is_const = vec![true; 10];
        is_const[3] = false;
        is_const[7] = false;
        let mut cand = Vec::new();
        let mut counts = [0usize; 10];
        for _ in 0..4000 {
            counts[draw_feature(&mut rng, &is_const, 8, &mut cand)] += 1;
        }
        assert_eq!(counts.iter().sum::<usize>(), counts[3] + counts[7]);
        assert!((1800..2200).contains(&counts[3]), "{counts:?}");
        // few constants: the rejection path
        let is_const = [false, true, false, false];
        let mut counts = [0usize; 4];
        for _ in 0..3000 {
            counts[draw_feature(&mut rng, &is_const, 1, &mut cand)] += 1;
        }
        assert_eq!(counts[1], 0);
        for c in [counts[0], counts[2], counts[3]] {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn partition_splits_at_threshold() {
        let values = [5.0, 1.0, 3.0, 3.0, 9.0];
        let mut rows = vec![0, 1, 2, 3, 4];
        let n = partition(&mut rows, &values, 3.0);
        assert_eq!(n, 3);
        assert!(rows[..3].iter().all(|&r| values[r as usize] <= 3.0));
        assert!(rows[3..].iter().all(|&r| values[r as usize] > 3.0));
    }
}

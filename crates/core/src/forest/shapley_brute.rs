//! Test-only references for the explanations: Shapley values by enumerating every coalition,
//! and a direct port of Lundberg et al.'s Algorithm 2 (shap's `tree_shap_recursive`).
//! Both read covers from the leaf sizes themselves, not from the forest's derived arrays.

use super::{average_path_length, IsolationForest};

/// A leaf's value from its depth and size, independently of the forest's derived arrays.
fn leaf_value(forest: &IsolationForest, i: usize, depth: usize) -> f64 {
    depth as f64 + average_path_length(forest.cover[i] as usize)
}

/// Training rows below `i`, from the leaf sizes.
fn cover(forest: &IsolationForest, i: usize) -> f64 {
    if forest.is_leaf(i) {
        forest.cover[i] as f64
    } else {
        let left = forest.nodes[i].left as usize;
        cover(forest, left) + cover(forest, left + 1)
    }
}

/// Path-dependent value of coalition `in_s` in the tree rooted at `i`: follow `x` at splits on
/// features in the coalition, take the cover-weighted mean of both children otherwise.
fn value(forest: &IsolationForest, i: usize, depth: usize, x: &[f64], in_s: &[bool]) -> f64 {
    if forest.is_leaf(i) {
        return leaf_value(forest, i, depth);
    }
    let node = &forest.nodes[i];
    let f = node.feature as usize;
    let (l, r) = (node.left as usize, node.left as usize + 1);
    if in_s[f] {
        value(
            forest,
            if x[f] <= node.threshold { l } else { r },
            depth + 1,
            x,
            in_s,
        )
    } else {
        let (cl, cr) = (cover(forest, l), cover(forest, r));
        (cl * value(forest, l, depth + 1, x, in_s) + cr * value(forest, r, depth + 1, x, in_s))
            / (cl + cr)
    }
}

/// Forest value function: mean over trees.
pub(crate) fn forest_value(forest: &IsolationForest, x: &[f64], in_s: &[bool]) -> f64 {
    let sum: f64 = (0..forest.n_trees())
        .map(|t| value(forest, forest.roots[t] as usize, 0, x, in_s))
        .sum();
    sum / forest.n_trees() as f64
}

/// Shapley values by enumerating all 2^d coalitions (d = n_features <= 16).
pub(crate) fn brute_force_shapley(forest: &IsolationForest, x: &[f64]) -> Vec<f64> {
    let d = forest.n_features();
    assert!(d <= 16, "brute force over 2^{d} coalitions");
    let v: Vec<f64> = (0..1usize << d)
        .map(|mask| {
            let in_s: Vec<bool> = (0..d).map(|j| mask >> j & 1 == 1).collect();
            forest_value(forest, x, &in_s)
        })
        .collect();
    let fact: Vec<f64> = (0..=d)
        .scan(1.0, |acc, k| {
            let out = *acc;
            *acc *= (k + 1) as f64;
            Some(out)
        })
        .collect();
    (0..d)
        .map(|i| {
            (0..1usize << d)
                .filter(|mask| mask >> i & 1 == 0)
                .map(|mask| {
                    let s = mask.count_ones() as usize;
                    let weight = fact[s] * fact[d - s - 1] / fact[d];
                    weight * (v[mask | 1 << i] - v[mask])
                })
                .sum()
        })
        .collect()
}

#[derive(Clone, Copy, Default)]
struct PathElement {
    feature: i64,
    zero_fraction: f64,
    one_fraction: f64,
    pweight: f64,
}

fn extend_path(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: i64) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        pweight: if depth == 0 { 1.0 } else { 0.0 },
    };
    for i in (0..depth).rev() {
        path[i + 1].pweight += one * path[i].pweight * (i + 1) as f64 / (depth + 1) as f64;
        path[i].pweight = zero * path[i].pweight * (depth - i) as f64 / (depth + 1) as f64;
    }
}

fn unwind_path(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let mut next_one_portion = path[depth].pweight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].pweight;
            path[i].pweight = next_one_portion * (depth + 1) as f64 / ((i + 1) as f64 * one);
            next_one_portion =
                tmp - path[i].pweight * zero * (depth - i) as f64 / (depth + 1) as f64;
        } else {
            path[i].pweight = path[i].pweight * (depth + 1) as f64 / (zero * (depth - i) as f64);
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_path_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let mut next_one_portion = path[depth].pweight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next_one_portion * (depth + 1) as f64 / ((i + 1) as f64 * one);
            total += tmp;
            next_one_portion =
                path[i].pweight - tmp * zero * (depth - i) as f64 / (depth + 1) as f64;
        } else {
            total += path[i].pweight / zero / ((depth - i) as f64 / (depth + 1) as f64);
        }
    }
    total
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    forest: &IsolationForest,
    x: &[f64],
    phi: &mut [f64],
    i: usize,
    node_depth: usize,
    parent_path: &[PathElement],
    mut depth: usize,
    zero: f64,
    one: f64,
    feature: i64,
) {
    let mut path = parent_path.to_vec();
    path.resize(depth + 1, PathElement::default());
    extend_path(&mut path, depth, zero, one, feature);
    if forest.is_leaf(i) {
        for k in 1..=depth {
            let w = unwound_path_sum(&path, depth, k);
            let el = path[k];
            phi[el.feature as usize] +=
                w * (el.one_fraction - el.zero_fraction) * leaf_value(forest, i, node_depth);
        }
        return;
    }
    let node = &forest.nodes[i];
    let f = node.feature as usize;
    let (l, r) = (node.left as usize, node.left as usize + 1);
    let (hot, cold) = if x[f] <= node.threshold {
        (l, r)
    } else {
        (r, l)
    };
    let c = cover(forest, i);
    let (hot_zero, cold_zero) = (cover(forest, hot) / c, cover(forest, cold) / c);
    let (mut in_zero, mut in_one) = (1.0, 1.0);
    if let Some(k) = (1..=depth).find(|&k| path[k].feature == f as i64) {
        in_zero = path[k].zero_fraction;
        in_one = path[k].one_fraction;
        unwind_path(&mut path, depth, k);
        depth -= 1;
    }
    recurse(
        forest,
        x,
        phi,
        hot,
        node_depth + 1,
        &path[..=depth],
        depth + 1,
        hot_zero * in_zero,
        in_one,
        f as i64,
    );
    recurse(
        forest,
        x,
        phi,
        cold,
        node_depth + 1,
        &path[..=depth],
        depth + 1,
        cold_zero * in_zero,
        0.0,
        f as i64,
    );
}

/// Lundberg et al.'s Algorithm 2, averaged over trees.
pub(crate) fn algorithm2(forest: &IsolationForest, x: &[f64]) -> Vec<f64> {
    let mut phi = vec![0.0; forest.n_features()];
    for t in 0..forest.n_trees() {
        recurse(
            forest,
            x,
            &mut phi,
            forest.roots[t] as usize,
            0,
            &[],
            0,
            1.0,
            1.0,
            -1,
        );
    }
    phi.iter().map(|v| v / forest.n_trees() as f64).collect()
}

//! Isolation Forest (Liu, Ting & Zhou 2008) as scikit-learn implements it, with two
//! explanations of its output.
//!
//! ## The model
//! Each tree is grown on `psi = min(sample_size, rows)` rows drawn without replacement by
//! splitting on a uniformly drawn non-constant feature at a threshold uniform in the node's range
//! (details and the one deliberate difference in `build.rs`). An anomaly is isolated in few
//! splits, so the *path length* `h(x)` (mean over trees of the depth of the leaf `x` reaches plus
//! `c(leaf size)`, the expected further depth had the tree kept growing) is short, and the
//! score `2^(-h(x) / c(psi))` is close to 1. The result matches scikit-learn's
//! `IsolationForest(n_estimators, max_samples, max_depth)` in distribution, which the ADBench
//! quality test checks through ROC-AUC on eight public data sets.
//!
//! Trees live in one flat array of 16-byte nodes (breadth-first per tree, siblings adjacent, so
//! a walk is a fixed number of branch-free steps: see `tree.rs`); each tree draws from its own
//! seeded stream (`rng::derived(seed, tree)`), so training in parallel (feature `parallel`)
//! gives bit-identical models. Stored models keep only splits, thresholds and leaf sizes
//! (`repr.rs`): under 2.5 KB per 256-row tree in postcard.
//!
//! ## Explanations (in path-length space)
//! Both attributions explain `h(x) - E[h]`, where `E[h]` ([`IsolationForest::expected_path_length`])
//! is the cover-weighted mean leaf value: each leaf weighted by the training rows that reached it.
//! A negative value means the feature shortened the path, i.e. made `x` look *more* anomalous.
//! Both are additive: the values sum to `h(x) - E[h]` up to rounding.
//!
//! - [`IsolationForest::tree_shap`]: exact Shapley values of the path-dependent value function
//!   `v(S)` of Lundberg et al.'s TreeSHAP (at a node splitting on a feature outside `S`, take the
//!   cover-weighted mean of both children), i.e. what `shap.TreeExplainer` reports for
//!   scikit-learn's IsolationForest. Instead of Algorithm 2's O(L·D²) path bookkeeping it uses
//!   that a leaf's Shapley weight for feature `i` is `∫₀¹ Π_{j≠i} (z_j(1-t) + o_j t) dt`, a
//!   polynomial of degree < D integrated exactly by ceil(D/2)-point Gauss–Legendre quadrature
//!   (the idea of "Linear TreeShap", Yu et al. 2022): one pass over each tree with a few
//!   vectorised multiply-adds per edge (`treeshap.rs`). Tests check it against brute-force
//!   enumeration of all 2^d coalitions and against a port of Algorithm 2, to 1e-9.
//! - [`IsolationForest::path_attribution`]: Saabas' attribution. Along `x`'s path in each tree,
//!   the change `E[v | child] - E[v | node]` is credited to the node's split feature. It costs one
//!   scoring pass, which makes it the per-request default. It ignores what TreeSHAP averages
//!   over: the order of the splits. A feature split where the path ends gets the whole final
//!   jump even when an earlier split on another feature is what sent `x` there.
//!
//! Saabas costs about what scoring does and TreeSHAP about a hundred times more, still well under
//! shap's own; the two rank features alike on most rows and TreeSHAP finds out-of-range
//! features more often (test `saabas_tracks_tree_shap`; cost and agreement measured:
//! docs/benchmarks.md, section "Saabas against TreeSHAP" under "The model"). So: Saabas to rank
//! and show on every request, TreeSHAP when an explanation must be exact (audits, the viewer,
//! disputed blocks).

mod build;
mod params;
mod path_attribution;
mod repr;
#[cfg(test)]
mod shapley_brute;
mod tree;
mod treeshap;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

pub use params::{ForestParams, MaxDepth, MAX_DEPTH_LIMIT};
pub use treeshap::TreeShapScratch;

use crate::error::{CoreError, Result};
use tree::{Node, RawNode};

/// Walks done side by side (trees for one vector, vectors for one tree in batches): their
/// loads do not depend on each other, so their cache misses overlap.
const INTERLEAVE: usize = 8;

/// Rows scored together in [`IsolationForest::score_batch`]: 32 rows of 59 features (15 KB)
/// and one tree fit in L1 together.
const BATCH_BLOCK: usize = 32;

/// Euler–Mascheroni constant, as scikit-learn writes it.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// `c(n)`: the average path length of an unsuccessful search in a binary search tree of `n`
/// keys, i.e. the expected depth a node of `n` rows would have added had the tree kept growing.
/// 0 for `n <= 1`, 1 for `n == 2`, else `2 H(n-1) - 2 (n-1) / n` with `H(i) ≈ ln(i) + γ`.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let m = (n - 1) as f64;
            2.0 * (libm::log(m) + EULER_GAMMA) - 2.0 * m / n as f64
        }
    }
}

/// A trained Isolation Forest. See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "repr::ForestRepr", try_from = "repr::ForestRepr")]
pub struct IsolationForest {
    params: ForestParams,
    n_features: usize,
    /// psi: rows each tree was grown on.
    sample_size: usize,
    /// All trees' nodes, tree after tree; indices are forest-wide.
    nodes: Vec<Node>,
    /// Index of each tree's root in `nodes`, plus `nodes.len()` at the end.
    roots: Vec<u32>,
    /// Per node: training rows that reached it (a leaf's size).
    cover: Vec<u32>,
    /// Per node: its cover divided by its parent's (1 at roots), TreeSHAP's "zero fraction".
    fraction: Vec<f64>,
    /// Mean over trees of E[v | root].
    expected_path_length: f64,
    /// c(psi), the score's normaliser.
    c_psi: f64,
    /// Depth of the deepest leaf of any tree.
    max_leaf_depth: usize,
    /// Gauss–Legendre rule used by TreeSHAP, sized for the deepest path.
    quadrature: treeshap::Quadrature,
}

impl IsolationForest {
    /// Grows `params.n_trees` isolation trees on `data` (rows = samples).
    ///
    /// Errors: fewer than 2 rows (a score needs `c(psi) > 0`), no columns, a non-finite value,
    /// invalid parameters, or a forest too large to index with 32 bits.
    pub fn fit(data: ArrayView2<f64>, params: &ForestParams, seed: u64) -> Result<Self> {
        params.validate()?;
        let (n_rows, n_features) = data.dim();
        if n_rows < 2 {
            return Err(CoreError::NotEnoughData {
                what: "isolation forest training",
                needed: 2,
                actual: n_rows,
            });
        }
        if n_features == 0 || n_features >= tree::LEAF as usize {
            return Err(CoreError::InvalidParameter {
                name: "data",
                reason: format!(
                    "needs between 1 and {} feature columns, got {n_features}",
                    tree::LEAF - 1
                ),
            });
        }
        for (index, &value) in data.iter().enumerate() {
            if !value.is_finite() {
                return Err(CoreError::NonFinite {
                    what: "training data",
                    index,
                    value,
                });
            }
        }
        let psi = params.sample_size.min(n_rows);
        let max_nodes = params.n_trees.checked_mul(2 * psi - 1);
        if max_nodes.is_none_or(|n| n >= tree::LEAF as usize) {
            return Err(CoreError::InvalidParameter {
                name: "n_trees",
                reason: format!(
                    "{} trees of {psi} rows exceed the 2^32 node limit",
                    params.n_trees
                ),
            });
        }
        let depth_limit = params.max_depth.resolve(psi);
        let grow = |t: usize| {
            let mut rng = crate::rng::derived(seed, t as u64);
            build::grow_tree(data, psi, depth_limit, &mut rng)
        };
        #[cfg(feature = "parallel")]
        let trees: Vec<Vec<RawNode>> = {
            use rayon::prelude::*;
            (0..params.n_trees).into_par_iter().map(grow).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let trees: Vec<Vec<RawNode>> = (0..params.n_trees).map(grow).collect();
        Self::assemble(params.clone(), n_features, psi, trees)
    }

    /// Builds the forest from raw trees (pre-order, tree-local right-child indices): lays them
    /// out breadth-first for scoring and fills in leaf values, covers, expected values and the
    /// quadrature rule.
    fn assemble(
        params: ForestParams,
        n_features: usize,
        sample_size: usize,
        trees: Vec<Vec<RawNode>>,
    ) -> Result<Self> {
        let total: usize = trees.iter().map(Vec::len).sum();
        if total >= tree::LEAF as usize {
            return Err(CoreError::InvalidParameter {
                name: "n_trees",
                reason: "forest exceeds 2^32 nodes".into(),
            });
        }
        let mut nodes = Vec::with_capacity(total);
        let mut roots = Vec::with_capacity(trees.len() + 1);
        let mut cover = Vec::with_capacity(total);
        let mut fraction = vec![0.0; total];
        let mut expected_sum = 0.0;
        let mut max_leaf_depth = 0;
        let mut order = Vec::new();
        let mut position = Vec::new();
        for mut raw in trees {
            let offset = nodes.len();
            let derived = tree::derive(&mut raw);
            max_leaf_depth = max_leaf_depth.max(derived.max_depth);
            expected_sum += derived.expected[0];
            roots.push(offset as u32);
            // breadth-first order: both children of a node are queued together, so siblings
            // end up adjacent
            order.clear();
            order.push(0usize);
            let mut head = 0;
            while head < order.len() {
                let i = order[head];
                head += 1;
                if !raw[i].is_leaf() {
                    order.push(i + 1);
                    order.push(raw[i].aux as usize);
                }
            }
            position.clear();
            position.resize(raw.len(), 0usize);
            for (k, &i) in order.iter().enumerate() {
                position[i] = offset + k;
            }
            fraction[offset] = 1.0;
            for &i in &order {
                let node = raw[i];
                if node.is_leaf() {
                    nodes.push(Node::leaf(position[i], node.value));
                } else {
                    let (l, r) = (i + 1, node.aux as usize);
                    let parent = derived.cover[i] as f64;
                    fraction[position[l]] = derived.cover[l] as f64 / parent;
                    fraction[position[r]] = derived.cover[r] as f64 / parent;
                    nodes.push(Node {
                        threshold: node.value,
                        feature: node.feature,
                        left: position[l] as u32,
                        expected: derived.expected[i],
                    });
                }
                cover.push(derived.cover[i]);
            }
        }
        roots.push(nodes.len() as u32);
        let n_trees = roots.len() - 1;
        // A leaf's path has at most min(depth, n_features) distinct features.
        let quadrature = treeshap::Quadrature::for_path_features(max_leaf_depth.min(n_features));
        Ok(IsolationForest {
            params,
            n_features,
            sample_size,
            nodes,
            roots,
            cover,
            fraction,
            expected_path_length: expected_sum / n_trees as f64,
            c_psi: average_path_length(sample_size),
            max_leaf_depth,
            quadrature,
        })
    }

    /// The parameters the forest was trained with.
    pub fn params(&self) -> &ForestParams {
        &self.params
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    pub fn n_trees(&self) -> usize {
        self.roots.len() - 1
    }

    /// psi: the rows each tree was grown on, `min(sample_size, training rows)`.
    pub fn sample_size(&self) -> usize {
        self.sample_size
    }

    /// The depth limit in force (`max_depth` resolved for psi).
    pub fn depth_limit(&self) -> usize {
        self.params.max_depth.resolve(self.sample_size)
    }

    /// Total number of nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Node indices of tree `t`.
    fn tree_range(&self, t: usize) -> std::ops::Range<usize> {
        self.roots[t] as usize..self.roots[t + 1] as usize
    }

    #[inline]
    fn is_leaf(&self, i: usize) -> bool {
        self.nodes[i].left as usize == i
    }

    /// Node indices of tree `t` in pre-order (the serialised order).
    fn preorder(&self, t: usize) -> Vec<usize> {
        let range = self.tree_range(t);
        let mut out = Vec::with_capacity(range.len());
        let mut stack = vec![range.start];
        while let Some(i) = stack.pop() {
            out.push(i);
            if !self.is_leaf(i) {
                let left = self.nodes[i].left as usize;
                stack.push(left + 1);
                stack.push(left);
            }
        }
        out
    }

    /// Index of the leaf `x` reaches from the node at `root`.
    fn leaf_of(&self, x: &[f64], root: usize) -> usize {
        let mut i = root;
        for _ in 0..self.max_leaf_depth {
            i = self.nodes[i].step(x);
        }
        i
    }

    /// Mean over trees of `depth(leaf) + c(leaf size)`.
    ///
    /// `x` must have [`n_features`](Self::n_features) finite values (callers validate); for
    /// any other length the result is NaN rather than a panic.
    pub fn path_length(&self, x: &[f64]) -> f64 {
        if x.len() != self.n_features {
            return f64::NAN;
        }
        let roots = &self.roots[..self.roots.len() - 1];
        // INTERLEAVE trees are walked side by side: their loads do not depend on each other,
        // so their cache misses overlap. Every walk takes max_leaf_depth steps (leaves are
        // fixed points), so the loop has no data-dependent branch.
        let mut sum = 0.0;
        let mut groups = roots.chunks_exact(INTERLEAVE);
        for group in &mut groups {
            let mut cursor = [0usize; INTERLEAVE];
            for (c, &root) in cursor.iter_mut().zip(group) {
                *c = root as usize;
            }
            for _ in 0..self.max_leaf_depth {
                for c in cursor.iter_mut() {
                    *c = self.nodes[*c].step(x);
                }
            }
            for c in cursor {
                sum += self.nodes[c].expected;
            }
        }
        for &root in groups.remainder() {
            sum += self.nodes[self.leaf_of(x, root as usize)].expected;
        }
        sum / roots.len() as f64
    }

    /// Anomaly score `2^(-h(x) / c(psi))` in (0, 1]; above 0.5 reads as anomalous.
    /// NaN when `x` has the wrong length.
    pub fn score(&self, x: &[f64]) -> f64 {
        self.score_from_path_length(self.path_length(x))
    }

    /// The score of a path length.
    pub fn score_from_path_length(&self, h: f64) -> f64 {
        libm::exp2(-h / self.c_psi)
    }

    /// Scores every row of `data` (equal, bit for bit, to [`score`](Self::score) row by row);
    /// NaN for every row if `data` has the wrong width. Parallel over blocks of rows with the
    /// `parallel` feature.
    pub fn score_batch(&self, data: ArrayView2<f64>) -> Vec<f64> {
        let mut out = vec![f64::NAN; data.nrows()];
        if data.ncols() != self.n_features {
            return out;
        }
        let score_block =
            |(b, chunk): (usize, &mut [f64])| self.score_block(data, b * BATCH_BLOCK, chunk);
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(BATCH_BLOCK)
                .enumerate()
                .for_each(score_block);
        }
        #[cfg(not(feature = "parallel"))]
        out.chunks_mut(BATCH_BLOCK)
            .enumerate()
            .for_each(score_block);
        out
    }

    /// Scores rows `start..start + out.len()` of `data` tree by tree: each tree's few KB stay in
    /// L1 while the whole block walks it, INTERLEAVE rows side by side. Sums are taken in tree
    /// order, as in [`path_length`](Self::path_length), so the results are identical.
    fn score_block(&self, data: ArrayView2<f64>, start: usize, out: &mut [f64]) {
        let d = self.n_features;
        let n = out.len();
        let mut buffer = Vec::new();
        let rows: &[f64] = match data.as_slice() {
            Some(all) => &all[start * d..(start + n) * d],
            None => {
                buffer.reserve(n * d);
                for r in start..start + n {
                    buffer.extend(data.row(r).iter());
                }
                &buffer
            }
        };
        let mut sums = [0.0f64; BATCH_BLOCK];
        for t in 0..self.n_trees() {
            let root = self.roots[t] as usize;
            let mut r0 = 0;
            while r0 < n {
                let lanes = INTERLEAVE.min(n - r0);
                let mut cursor = [root; INTERLEAVE];
                for _ in 0..self.max_leaf_depth {
                    for (l, c) in cursor.iter_mut().enumerate().take(lanes) {
                        let x = &rows[(r0 + l) * d..(r0 + l + 1) * d];
                        *c = self.nodes[*c].step(x);
                    }
                }
                for (sum, &c) in sums[r0..r0 + lanes].iter_mut().zip(&cursor) {
                    *sum += self.nodes[c].expected;
                }
                r0 += lanes;
            }
        }
        let n_trees = self.n_trees() as f64;
        for (o, sum) in out.iter_mut().zip(&sums) {
            *o = self.score_from_path_length(sum / n_trees);
        }
    }

    /// E\[h\]: per tree the cover-weighted mean leaf value (training rows per leaf as weights),
    /// averaged over trees. The baseline both attributions start from.
    pub fn expected_path_length(&self) -> f64 {
        self.expected_path_length
    }

    /// Structural self-check (used after deserialising, which already checks the stored form):
    /// child links inside their tree and pointing forward, features in range, finite values,
    /// derived arrays consistent with the structure.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(CoreError::InvalidBundle(format!("isolation forest: {msg}")));
        let n = self.nodes.len();
        if self.roots.len() != self.params.n_trees + 1
            || self.roots.first() != Some(&0)
            || self.roots.last() != Some(&(n as u32))
        {
            return bad("tree offsets do not match the node array".into());
        }
        if self.fraction.len() != n || self.cover.len() != n {
            return bad("derived arrays do not match the node array".into());
        }
        for t in 0..self.params.n_trees {
            let range = self.tree_range(t);
            if range.is_empty() {
                return bad(format!("tree {t} is empty"));
            }
            let end = range.end;
            for i in range {
                let node = &self.nodes[i];
                let left = node.left as usize;
                let well_formed = if left == i {
                    node.threshold.is_nan() && node.feature == 0 && self.cover[i] > 0
                } else {
                    (node.feature as usize) < self.n_features
                        && node.threshold.is_finite()
                        && left > i
                        && left + 1 < end
                };
                let derived_ok = self.nodes[i].expected.is_finite()
                    && self.fraction[i] > 0.0
                    && self.fraction[i] <= 1.0;
                if !(well_formed && derived_ok) {
                    return bad(format!("node {i} of tree {t} is malformed"));
                }
            }
        }
        // The stored form is the ground truth: rebuilding from it must give this very forest.
        let rebuilt = IsolationForest::try_from(repr::ForestRepr::from(self))?;
        if &rebuilt != self {
            return bad("derived values disagree with the tree structure".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! Node layouts: the raw form trees are grown and stored in, the runtime form they are scored
//! in, and the per-node values derived once (leaf values, covers, expected values).
//!
//! The raw form is pre-order (left child next, right child by index), which is what the
//! builder produces and the serialised form encodes. The runtime [`Node`] is 16 bytes, laid
//! out breadth-first per tree so that siblings are adjacent: the next node is
//! `left + (x[f] > threshold)`, an add rather than a select. A leaf is a fixed point of that
//! step (threshold NaN, so the comparison is false, and `left` = itself), so walking a tree is
//! a fixed number of branch-free steps. That matters because the direction at each node is a
//! coin flip the branch predictor cannot learn: with a branch (which LLVM emits for any
//! two-way select here) scoring random rows cost about 3x more than scoring one row repeatedly.

use super::average_path_length;

/// Marker in [`RawNode::feature`] for a leaf.
pub(crate) const LEAF: u32 = u32::MAX;

/// A node as grown and as (de)serialised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RawNode {
    /// Internal node: split threshold (`x[feature] <= value` goes left).
    /// Leaf: its path length `depth + c(size)`.
    pub value: f64,
    /// Split feature, or [`LEAF`].
    pub feature: u32,
    /// Internal node: index of the right child (within the tree while building, within the
    /// forest once assembled). Leaf: number of training rows that reached it.
    pub aux: u32,
}

impl RawNode {
    pub fn leaf(size: u32) -> Self {
        RawNode {
            value: 0.0,
            feature: LEAF,
            aux: size,
        }
    }

    pub fn split(feature: u32, threshold: f64) -> Self {
        RawNode {
            value: threshold,
            feature,
            aux: 0,
        }
    }

    #[inline]
    pub fn is_leaf(&self) -> bool {
        self.feature == LEAF
    }
}

/// A node as scored: see the module docs.
///
/// `expected` lives in the node, not in an array beside it, and nodes are aligned to 32 bytes:
/// one step of the attribution walk (the request path) then touches one cache line instead of
/// two. Measured: the fast attribution 29–32 % faster, plain scoring 1–4 % slower
/// (docs/benchmarks.md, "The model").
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
pub(crate) struct Node {
    /// Split threshold (`x[feature] <= threshold` goes left); NaN at leaves.
    pub threshold: f64,
    /// Split feature; 0 at leaves (any valid index: the NaN threshold decides).
    pub feature: u32,
    /// Index of the left child in the forest (the right child is the next node); the node's
    /// own index at leaves.
    pub left: u32,
    /// E[v | node]: the cover-weighted mean leaf value below this node; at a leaf exactly its
    /// value `depth + c(size)`.
    pub expected: f64,
}

impl Node {
    pub fn leaf(at: usize, value: f64) -> Self {
        Node {
            threshold: f64::NAN,
            feature: 0,
            left: at as u32,
            expected: value,
        }
    }

    /// The node after this one for `x`: left child, right child, or itself at a leaf.
    /// `x` must have more entries than `feature` (callers check its length once).
    #[inline(always)]
    pub fn step(&self, x: &[f64]) -> usize {
        self.left as usize + (x[self.feature as usize] > self.threshold) as usize
    }
}

impl PartialEq for Node {
    /// Bitwise on the threshold, so that leaves (NaN) compare equal to themselves.
    fn eq(&self, other: &Self) -> bool {
        self.threshold.to_bits() == other.threshold.to_bits()
            && self.feature == other.feature
            && self.left == other.left
            && self.expected.to_bits() == other.expected.to_bits()
    }
}

/// Values derived from one tree's structure.
pub(crate) struct Derived {
    /// Training rows that reached each node.
    pub cover: Vec<u32>,
    /// Cover-weighted mean leaf value below each node, E[v | node].
    pub expected: Vec<f64>,
    /// Depth of the deepest leaf.
    pub max_depth: usize,
}

/// Fills in leaf values (`depth + c(size)`) of a pre-order tree whose right-child indices are
/// local to `nodes`, and computes covers and expected values. The tree must be well formed
/// (the builders and the decoder guarantee it).
pub(crate) fn derive(nodes: &mut [RawNode]) -> Derived {
    let n = nodes.len();
    let mut depth = vec![0usize; n];
    let mut max_depth = 0;
    for i in 0..n {
        let node = nodes[i];
        if node.is_leaf() {
            nodes[i].value = depth[i] as f64 + average_path_length(node.aux as usize);
            max_depth = max_depth.max(depth[i]);
        } else {
            depth[i + 1] = depth[i] + 1;
            depth[node.aux as usize] = depth[i] + 1;
        }
    }
    let mut cover = vec![0u32; n];
    let mut weighted = vec![0.0f64; n];
    for i in (0..n).rev() {
        let node = nodes[i];
        if node.is_leaf() {
            cover[i] = node.aux;
            weighted[i] = node.aux as f64 * node.value;
        } else {
            let r = node.aux as usize;
            cover[i] = cover[i + 1] + cover[r];
            weighted[i] = weighted[i + 1] + weighted[r];
        }
    }
    let expected = weighted
        .iter()
        .zip(&cover)
        .map(|(w, &c)| w / c as f64)
        .collect();
    Derived {
        cover,
        expected,
        max_depth,
    }
}

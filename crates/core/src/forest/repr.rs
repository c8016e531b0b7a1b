//! The serialised form of a forest: only what cannot be recomputed.
//!
//! Per tree, in pre-order: one split code per node (`0` = leaf, `f + 1` = split on feature `f`,
//! a one-byte varint in postcard for up to 127 features), the thresholds of the internal nodes
//! and the training sizes of the leaves. Child links, depths, leaf values, covers and expected
//! values all follow from these and are rebuilt on load, so a stored model cannot carry values
//! that disagree with its own structure. Decoding checks everything a corrupt or hostile file
//! could get wrong (feature range, finite thresholds, complete trees, sizes summing to the
//! subsample, depth within the limit) and reports it as [`CoreError::InvalidBundle`].

use serde::{Deserialize, Serialize};

use super::params::ForestParams;
use super::tree::RawNode;
use super::IsolationForest;
use crate::error::{CoreError, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ForestRepr {
    pub params: ForestParams,
    pub n_features: usize,
    /// Rows each tree was grown on (psi).
    pub sample_size: usize,
    pub trees: Vec<TreeRepr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TreeRepr {
    /// Pre-order: 0 = leaf, f + 1 = split on feature f.
    pub splits: Vec<u32>,
    /// Thresholds of the internal nodes, pre-order.
    pub thresholds: Vec<f64>,
    /// Training rows of the leaves, pre-order.
    pub leaf_sizes: Vec<u32>,
}

impl From<IsolationForest> for ForestRepr {
    fn from(forest: IsolationForest) -> Self {
        ForestRepr::from(&forest)
    }
}

impl From<&IsolationForest> for ForestRepr {
    fn from(forest: &IsolationForest) -> Self {
        let trees = (0..forest.n_trees())
            .map(|t| {
                let order = forest.preorder(t);
                let mut repr = TreeRepr {
                    splits: Vec::with_capacity(order.len()),
                    thresholds: Vec::new(),
                    leaf_sizes: Vec::new(),
                };
                for i in order {
                    if forest.is_leaf(i) {
                        repr.splits.push(0);
                        repr.leaf_sizes.push(forest.cover[i]);
                    } else {
                        let node = &forest.nodes[i];
                        repr.splits.push(node.feature + 1);
                        repr.thresholds.push(node.threshold);
                    }
                }
                repr
            })
            .collect();
        ForestRepr {
            params: forest.params.clone(),
            n_features: forest.n_features,
            sample_size: forest.sample_size,
            trees,
        }
    }
}

impl TryFrom<ForestRepr> for IsolationForest {
    type Error = CoreError;

    fn try_from(repr: ForestRepr) -> Result<Self> {
        repr.params
            .validate()
            .map_err(|e| bad(format!("parameters: {e}")))?;
        if repr.trees.len() != repr.params.n_trees {
            return Err(bad(format!(
                "{} trees stored, parameters say {}",
                repr.trees.len(),
                repr.params.n_trees
            )));
        }
        if repr.n_features == 0 || repr.n_features >= super::tree::LEAF as usize {
            return Err(bad(format!("unusable feature count {}", repr.n_features)));
        }
        if repr.sample_size < 2 || repr.sample_size > repr.params.sample_size {
            return Err(bad(format!(
                "subsample size {} outside 2..={} (the requested sample_size)",
                repr.sample_size, repr.params.sample_size
            )));
        }
        let depth_limit = repr.params.max_depth.resolve(repr.sample_size);
        let mut trees = Vec::with_capacity(repr.trees.len());
        for (t, tree) in repr.trees.iter().enumerate() {
            let nodes = decode_tree(tree, repr.n_features, repr.sample_size, depth_limit)
                .map_err(|msg| bad(format!("tree {t}: {msg}")))?;
            trees.push(nodes);
        }
        IsolationForest::assemble(repr.params, repr.n_features, repr.sample_size, trees)
    }
}

fn bad(msg: String) -> CoreError {
    CoreError::InvalidBundle(format!("isolation forest: {msg}"))
}

/// Rebuilds a tree's nodes (local right-child indices, leaf values not yet filled) from its
/// pre-order encoding, checking that it is a complete binary tree consistent with the subsample.
fn decode_tree(
    tree: &TreeRepr,
    n_features: usize,
    psi: usize,
    depth_limit: usize,
) -> std::result::Result<Vec<RawNode>, String> {
    let n = tree.splits.len();
    let internal = tree.splits.iter().filter(|&&s| s != 0).count();
    if n == 0 || n != 2 * internal + 1 {
        return Err(format!(
            "{n} nodes with {internal} splits is not a complete binary tree"
        ));
    }
    if tree.thresholds.len() != internal || tree.leaf_sizes.len() != internal + 1 {
        return Err(format!(
            "{} thresholds and {} leaf sizes for {internal} splits",
            tree.thresholds.len(),
            tree.leaf_sizes.len()
        ));
    }
    let mut nodes = Vec::with_capacity(n);
    let mut thresholds = tree.thresholds.iter();
    let mut sizes = tree.leaf_sizes.iter();
    // Internal nodes still waiting for their right child, with their depth.
    let mut pending: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut total = 0usize;
    for (i, &code) in tree.splits.iter().enumerate() {
        if i > 0 {
            let prev_is_leaf = tree.splits[i - 1] == 0;
            if prev_is_leaf {
                // this node is the right child of the most recent node still missing one
                let Some((parent, parent_depth)) = pending.pop() else {
                    return Err(format!("node {i} follows a complete tree"));
                };
                nodes_set_right(&mut nodes, parent, i);
                depth = parent_depth + 1;
            } else {
                depth += 1;
            }
        }
        if code == 0 {
            let Some(&size) = sizes.next() else {
                return Err("too few leaf sizes".into());
            };
            if size == 0 {
                return Err(format!("leaf {i} is empty"));
            }
            if depth > depth_limit {
                return Err(format!(
                    "leaf {i} at depth {depth} beyond the limit {depth_limit}"
                ));
            }
            total += size as usize;
            nodes.push(RawNode::leaf(size));
        } else {
            let feature = code as usize - 1;
            if feature >= n_features {
                return Err(format!(
                    "node {i} splits on feature {feature} of {n_features}"
                ));
            }
            let Some(&threshold) = thresholds.next() else {
                return Err("too few thresholds".into());
            };
            if !threshold.is_finite() {
                return Err(format!("node {i} has threshold {threshold}"));
            }
            if depth >= depth_limit {
                return Err(format!(
                    "split {i} at depth {depth} reaches beyond the limit {depth_limit}"
                ));
            }
            pending.push((i, depth));
            nodes.push(RawNode::split(feature as u32, threshold));
        }
    }
    if !pending.is_empty() {
        return Err(format!("{} splits lack a right subtree", pending.len()));
    }
    if total != psi {
        return Err(format!(
            "leaf sizes sum to {total}, not the subsample size {psi}"
        ));
    }
    Ok(nodes)
}

fn nodes_set_right(nodes: &mut [RawNode], parent: usize, right: usize) {
    if let Some(node) = nodes.get_mut(parent) {
        node.aux = right as u32;
    }
}

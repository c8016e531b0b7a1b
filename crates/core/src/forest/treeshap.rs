//! Exact path-dependent TreeSHAP in one pass per tree, by quadrature.
//!
//! ## The quantity
//! For a leaf `L` with value `v`, let `U` be the distinct features split on along its path; for
//! `j ∈ U`, `z_j` is the product of the cover ratios (child / parent training rows) of the edges
//! on `j`, and `o_j ∈ {0, 1}` says whether `x` follows all of them. Lundberg et al.'s
//! path-dependent value of a coalition `S` is `Σ_L v_L Π_{j∈S} o_j Π_{j∈U\S} z_j`, and the leaf's
//! Shapley value for `i ∈ U` (|U| = d) is
//!
//! ```text
//! v_L (o_i - z_i) Σ_{S ⊆ U\{i}} |S|! (d-1-|S|)! / d!  Π_{j∈S} o_j Π_{j∈U\S\{i}} z_j
//!   = v_L (o_i - z_i) ∫₀¹ Π_{j∈U\{i}} (z_j (1-t) + o_j t) dt,
//! ```
//!
//! because `k!(d-1-k)!/d! = ∫₀¹ t^k (1-t)^(d-1-k) dt`. The integrand is a polynomial of degree
//! `d - 1`, so Gauss–Legendre quadrature with `ceil(D/2)` points (D = the most distinct features
//! on any path) is exact. (This is the observation behind "Linear TreeShap", Yu et al. 2022.)
//!
//! ## The pass
//! Walking down, keep `G(t_q) = w_q Π_{j active} (z_j (1-t_q) + o_j t_q)` at each quadrature
//! point; walking up, sum `S(t_q) = Σ_{leaves below} v_L G_L(t_q)`. The entry pushed on the edge
//! into a child then contributes `(o - z) Σ_q S_q / f(t_q)` to its feature, with `f` its own
//! factor, except for leaves below a later split on the same feature (where the entry is merged
//! with the new edge's): their sums are collected in `excl` and subtracted. Cost per edge: a few
//! multiply-adds per quadrature point (6 points for depth 12) instead of Algorithm 2's O(D²)
//! per leaf. Divisions are needed only into internal nodes on the branch `x` follows: cold
//! branches have `o = 0`, where `1/f = 1/(z (1-t))` and the `z` cancels, and into a leaf
//! `S / f = v · G_parent` (about half of all children are leaves).
//!
//! Why the code looks the way it does: each of these measured faster — specialising the cold edge
//! (its `o = 0` is a literal after inlining), the leaf shortcut, lane arrays of exactly 2/4/6/8
//! points, and pairwise lane sums (measured, with shap's C++ Algorithm 2 beside it:
//! docs/benchmarks.md, section "Saabas against TreeSHAP" under "The model").

// Lane loops index several fixed-size arrays in lockstep; `for j in 0..N` says so best.
#![allow(clippy::needless_range_loop)]

use super::IsolationForest;

/// Marks a feature with no active entry on the current path.
const NONE: u32 = u32::MAX;

/// At most this many quadrature points are handled together, as fixed-size arrays the compiler
/// keeps in vector registers; rules with 1-2, 3-4, 5-6 points get arrays of exactly 2, 4, 6
/// (depth-12 forests need 6), larger ones take several passes of 8.
const MAX_LANES: usize = 8;

/// A Gauss–Legendre rule on [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Quadrature {
    t: Vec<f64>,
    w: Vec<f64>,
}

/// Up to `N` points of a rule with what the walk needs of them; padding points weigh 0, so
/// they contribute nothing.
struct LaneBlock<const N: usize> {
    t: [f64; N],
    w: [f64; N],
    one_minus_t: [f64; N],
    inv_one_minus_t: [f64; N],
}

impl<const N: usize> LaneBlock<N> {
    fn new(t: &[f64], w: &[f64]) -> Self {
        let mut block = LaneBlock {
            t: [0.5; N],
            w: [0.0; N],
            one_minus_t: [0.5; N],
            inv_one_minus_t: [2.0; N],
        };
        for (j, (&tj, &wj)) in t.iter().zip(w).take(N).enumerate() {
            block.t[j] = tj;
            block.w[j] = wj;
            block.one_minus_t[j] = 1.0 - tj;
            block.inv_one_minus_t[j] = 1.0 / (1.0 - tj);
        }
        block
    }
}

impl Quadrature {
    /// A rule exact for paths with up to `features` distinct features (polynomials of degree
    /// `features - 1`).
    pub fn for_path_features(features: usize) -> Self {
        Self::gauss_legendre(features.div_ceil(2).max(1))
    }

    /// `n`-point Gauss–Legendre rule on [0, 1]: Newton's method on the Legendre polynomial
    /// `P_n` from Chebyshev-like starting points (Numerical Recipes' `gauleg`).
    pub fn gauss_legendre(n: usize) -> Self {
        let mut t = vec![0.0; n];
        let mut w = vec![0.0; n];
        let nf = n as f64;
        for i in 0..n.div_ceil(2) {
            let mut z = libm::cos(std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5));
            let mut dp = 1.0;
            for _ in 0..100 {
                let (mut p1, mut p2) = (1.0, 0.0);
                for j in 1..=n {
                    let p3 = p2;
                    p2 = p1;
                    p1 = ((2 * j - 1) as f64 * z * p2 - (j - 1) as f64 * p3) / j as f64;
                }
                dp = nf * (z * p1 - p2) / (z * z - 1.0);
                let step = p1 / dp;
                z -= step;
                if step.abs() <= 1e-16 {
                    break;
                }
            }
            // nodes ±z on [-1, 1] map to (1 ∓ z) / 2 on [0, 1], weights halve
            let weight = 1.0 / ((1.0 - z * z) * dp * dp);
            t[i] = (1.0 - z) / 2.0;
            t[n - 1 - i] = (1.0 + z) / 2.0;
            w[i] = weight;
            w[n - 1 - i] = weight;
        }
        Quadrature { t, w }
    }
}

/// Reusable buffers for [`IsolationForest::tree_shap_with`]: a few values per tree level and
/// one slot per feature, so repeated explanations allocate nothing.
#[derive(Clone, Debug, Default)]
pub struct TreeShapScratch {
    /// Per level: the entry pushed on the edge into that level (its z and o).
    z: Vec<f64>,
    o: Vec<f64>,
    /// Per level: Σ v_L G_L over leaves below later splits on the same feature, valid only
    /// where `has_excl` is set (saves clearing it on every edge).
    excl: Vec<[f64; MAX_LANES]>,
    has_excl: Vec<bool>,
    /// Per feature: level of its active entry, or NONE.
    active: Vec<u32>,
}

impl TreeShapScratch {
    /// Buffers sized for `forest`.
    pub fn new(forest: &IsolationForest) -> Self {
        let mut scratch = TreeShapScratch::default();
        scratch.prepare(forest);
        scratch
    }

    /// Resizes for `forest` if needed (no allocation when already large enough).
    fn prepare(&mut self, forest: &IsolationForest) {
        let levels = forest.max_leaf_depth + 1;
        if self.z.len() < levels {
            self.z.resize(levels, 0.0);
            self.o.resize(levels, 0.0);
            self.excl.resize(levels, [0.0; MAX_LANES]);
            self.has_excl.resize(levels, false);
        }
        if self.active.len() < forest.n_features {
            self.active.resize(forest.n_features, NONE);
        }
    }
}

impl IsolationForest {
    /// Exact path-dependent TreeSHAP values of [`path_length`](Self::path_length), one per
    /// feature, written to `out`: `Σ out = path_length(x) - expected_path_length()`. Allocates
    /// its buffers; use [`tree_shap_with`](Self::tree_shap_with) to reuse them.
    ///
    /// If `x` or `out` does not have `n_features` entries, `out` is filled with NaN.
    pub fn tree_shap(&self, x: &[f64], out: &mut [f64]) {
        let mut scratch = TreeShapScratch::new(self);
        self.tree_shap_with(x, out, &mut scratch);
    }

    /// [`tree_shap`](Self::tree_shap) with caller-owned buffers (any scratch works; it is
    /// resized on first use with a larger forest).
    pub fn tree_shap_with(&self, x: &[f64], out: &mut [f64], scratch: &mut TreeShapScratch) {
        if x.len() != self.n_features || out.len() != self.n_features {
            out.fill(f64::NAN);
            return;
        }
        out.fill(0.0);
        scratch.prepare(self);
        let (t, w) = (&self.quadrature.t[..], &self.quadrature.w[..]);
        match t.len() {
            0..=2 => self.shap_pass::<2>(LaneBlock::new(t, w), x, out, scratch),
            3..=4 => self.shap_pass::<4>(LaneBlock::new(t, w), x, out, scratch),
            5..=6 => self.shap_pass::<6>(LaneBlock::new(t, w), x, out, scratch),
            _ => {
                for (tc, wc) in t.chunks(MAX_LANES).zip(w.chunks(MAX_LANES)) {
                    self.shap_pass::<MAX_LANES>(LaneBlock::new(tc, wc), x, out, scratch);
                }
            }
        }
        let scale = 1.0 / self.n_trees() as f64;
        out.iter_mut().for_each(|v| *v *= scale);
    }
}

impl IsolationForest {
    /// Adds the contributions of the quadrature points in `block` to `out`, all trees.
    fn shap_pass<const N: usize>(
        &self,
        block: LaneBlock<N>,
        x: &[f64],
        out: &mut [f64],
        scratch: &mut TreeShapScratch,
    ) {
        let mut walk = Walk {
            forest: self,
            quad: &block,
            x,
            phi: out,
            sc: scratch,
        };
        for t in 0..self.n_trees() {
            let root = self.roots[t] as usize;
            if !self.is_leaf(root) {
                walk.visit(root, 0, &block.w);
            }
        }
    }
}

struct Walk<'a, const N: usize> {
    forest: &'a IsolationForest,
    quad: &'a LaneBlock<N>,
    x: &'a [f64],
    phi: &'a mut [f64],
    sc: &'a mut TreeShapScratch,
}

impl<const N: usize> Walk<'_, N> {
    /// Given `g` (G at the quadrature points) on entering the internal node `node` at level
    /// `k`, returns `S = Σ v_L G_L` over the leaves below and adds the contributions of the
    /// entries pushed below `node` to `phi`.
    fn visit(&mut self, node: usize, k: usize, g: &[f64; N]) -> [f64; N] {
        let forest = self.forest;
        let n = forest.nodes[node];
        let q = self.quad;
        let f = n.feature as usize;
        let (left, right) = (n.left as usize, n.left as usize + 1);
        let (hot, cold) = if self.x[f] <= n.threshold {
            (left, right)
        } else {
            (right, left)
        };
        let prev = self.sc.active[f];
        let (z_in, o_in, base) = if prev == NONE {
            (1.0, 1.0, *g)
        } else {
            // x met this feature before: merge with that entry (its factor divided out here,
            // its fractions carried into both children's)
            let p = prev as usize;
            let (zp, op) = (self.sc.z[p], self.sc.o[p]);
            let mut base = *g;
            for j in 0..N {
                base[j] /= zp * q.one_minus_t[j] + op * q.t[j];
            }
            (zp, op, base)
        };
        let level = k + 1;
        let mut s = [0.0; N];
        let base_sum = lane_sum(&base);
        // The hot child inherits the merged entry's o; the cold child has o = 0 (a literal, so
        // its factor and contribution simplify after inlining).
        self.child(hot, level, f, z_in, o_in, &base, base_sum, &mut s);
        self.child(cold, level, f, z_in, 0.0, &base, base_sum, &mut s);
        self.sc.active[f] = prev;
        if prev != NONE {
            let p = prev as usize;
            if self.sc.has_excl[p] {
                for j in 0..N {
                    self.sc.excl[p][j] += s[j];
                }
            } else {
                self.sc.excl[p][..N].copy_from_slice(&s);
                self.sc.has_excl[p] = true;
            }
        }
        s
    }

    /// Pushes the entry (feature `f`, z = fraction(child) · z_in, o) on the edge into `child`,
    /// adds the child's S to `s` and the entry's contribution to `phi[f]`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn child(
        &mut self,
        child: usize,
        level: usize,
        f: usize,
        z_in: f64,
        o: f64,
        base: &[f64; N],
        base_sum: f64,
        s: &mut [f64; N],
    ) {
        let forest = self.forest;
        let q = self.quad;
        let z = forest.fraction[child] * z_in;
        let mut factor = [0.0; N];
        for j in 0..N {
            factor[j] = if o == 0.0 {
                z * q.one_minus_t[j]
            } else {
                z * q.one_minus_t[j] + o * q.t[j]
            };
        }
        if forest.is_leaf(child) {
            // S_child = v · base · factor, so the entry's Σ_j S_j / factor_j is v Σ_j base_j:
            // no division, no call (about half of all children are leaves)
            let v = forest.nodes[child].expected;
            for j in 0..N {
                s[j] += v * base[j] * factor[j];
            }
            self.phi[f] += (o - z) * v * base_sum;
            return;
        }
        let mut g_child = [0.0; N];
        for j in 0..N {
            g_child[j] = base[j] * factor[j];
        }
        self.sc.z[level] = z;
        self.sc.o[level] = o;
        self.sc.has_excl[level] = false;
        self.sc.active[f] = level as u32;
        let mut s_child = self.visit(child, level, &g_child);
        for j in 0..N {
            s[j] += s_child[j];
        }
        if self.sc.has_excl[level] {
            let excl = &self.sc.excl[level];
            for j in 0..N {
                s_child[j] -= excl[j];
            }
        }
        // (o - z) Σ_j S_j / factor_j; with o = 0 the z cancels: -Σ_j S_j / (1 - t_j)
        let mut terms = [0.0; N];
        if o == 0.0 {
            for j in 0..N {
                terms[j] = s_child[j] * q.inv_one_minus_t[j];
            }
            self.phi[f] -= lane_sum(&terms);
        } else {
            for j in 0..N {
                terms[j] = s_child[j] / factor[j];
            }
            self.phi[f] += (o - z) * lane_sum(&terms);
        }
    }
}

/// Sum of the lanes, as two interleaved partial sums (a vector add per pair of lanes rather
/// than a serial chain).
#[inline(always)]
fn lane_sum<const N: usize>(v: &[f64; N]) -> f64 {
    let mut pair = [0.0; 2];
    for (j, x) in v.iter().enumerate() {
        pair[j % 2] += x;
    }
    pair[0] + pair[1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        for n in 1..=12 {
            let quad = Quadrature::gauss_legendre(n);
            assert!((quad.w.iter().sum::<f64>() - 1.0).abs() < 1e-14, "n={n}");
            for k in 0..2 * n {
                let integral: f64 = quad
                    .t
                    .iter()
                    .zip(&quad.w)
                    .map(|(t, w)| w * t.powi(k as i32))
                    .sum();
                let exact = 1.0 / (k + 1) as f64;
                assert!(
                    (integral - exact).abs() < 1e-14,
                    "n={n} k={k}: {integral} vs {exact}"
                );
            }
            // and not beyond: degree 2n is not exact (shows the test can fail; the error
            // shrinks fast with n, so only small rules are checked)
            if n <= 5 {
                let k = 2 * n as i32;
                let integral: f64 = quad.t.iter().zip(&quad.w).map(|(t, w)| w * t.powi(k)).sum();
                assert!((integral - 1.0 / (k + 1) as f64).abs() > 1e-9, "n={n}");
            }
            assert!(quad.t.iter().all(|&t| t > 0.0 && t < 1.0));
            // a lane block holds the points, padding weighs nothing
            let block = LaneBlock::<16>::new(&quad.t, &quad.w);
            assert!((block.w.iter().sum::<f64>() - 1.0).abs() < 1e-14);
            assert_eq!(block.t[..n], quad.t[..]);
        }
    }
}

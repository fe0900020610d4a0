//! Matrix chains `a₀ a₁ ⋯ a_{n−1}` in the association with the fewest multiply-adds,
//! and their adjoints by reverse mode through that association.
//!
//! The shapes of `DMatrix` factors are known only at run time, so the association is
//! chosen at run time: [`Plan::new`] is the textbook dynamic program over the
//! interval products (`cost(i, j) = min_k cost(i, k) + cost(k+1, j) + d_i d_{k+1} d_{j+1}`
//! for factor `i` of shape `d_i × d_{i+1}`), a few hundred integer operations for the
//! chains people write. Ties go to the later split, so that a chain of three whose
//! orders cost the same is `(a b) c`, as written. The program is
//! `matgrad_plan::cheapest_splits`, the one the expansion of static chains calls too
//! (matgrad-core's cost model), so both choose the same association.
//!
//! Every internal node of the chosen tree except the root has a numbered buffer: the
//! forward pass ([`chain_to`]) keeps the node's product there, and the backward pass
//! ([`chain_backward`]) its adjoint. The adjoint of factor `f` is then one product:
//! its parent's adjoint times its sibling's value, transposed ([`chain_factor_adjoint_to`]).
//! So the backward pass costs what the textbook adjoints of the chosen binary products
//! cost (`C = A B`: `Ā = C̄ Bᵀ`, `B̄ = Aᵀ C̄`), every shared partial product computed once.

use crate::blas::gemm_into;
use crate::kernel::{ready, MatRef, Shape};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};
use std::ops::Deref;

/// The most factors a chain may have (`#[grad]` folds longer products into chains of
/// at most this many).
pub const MAX_FACTORS: usize = 16;

/// An association of a chain of `n` factors: the split of each interval of the tree,
/// and the buffer of each internal node other than the root.
#[derive(Clone, Debug)]
pub struct Plan {
    n: usize,
    /// `split[i][j] = k`: the interval `i..=j` is `(i..=k) (k+1..=j)`.
    split: [[u8; MAX_FACTORS]; MAX_FACTORS],
    /// `slot[i][j]`: the buffer of internal node `i..=j` (not the root), preorder.
    slot: [[u8; MAX_FACTORS]; MAX_FACTORS],
}

impl Plan {
    /// The cheapest association of factors with these `(rows, cols)`. Panics beyond
    /// `MAX_FACTORS` (16) factors or with fewer than two.
    pub fn new(shapes: &[(usize, usize)]) -> Plan {
        let n = shapes.len();
        assert!(
            (2..=MAX_FACTORS).contains(&n),
            "matgrad: a chain has 2 to {MAX_FACTORS} factors, not {n}"
        );
        let mut dims = [0u128; MAX_FACTORS + 1];
        for (d, &(rows, _)) in dims.iter_mut().zip(shapes) {
            *d = rows as u128;
        }
        dims[n] = shapes[n - 1].1 as u128;
        let mut cost = [0u128; MAX_FACTORS * MAX_FACTORS];
        let mut splits = [0usize; MAX_FACTORS * MAX_FACTORS];
        matgrad_plan::cheapest_splits(&dims[..=n], &mut cost, &mut splits);
        let mut split = [[0u8; MAX_FACTORS]; MAX_FACTORS];
        for i in 0..n {
            for j in i + 1..n {
                split[i][j] = splits[i * n + j] as u8;
            }
        }
        let mut plan = Plan {
            n,
            split,
            slot: [[u8::MAX; MAX_FACTORS]; MAX_FACTORS],
        };
        let mut next = 0u8;
        plan.number(0, n - 1, &mut next);
        plan
    }

    /// Numbers the internal nodes under `i..=j` in preorder (the root gets none).
    fn number(&mut self, i: usize, j: usize, next: &mut u8) {
        if i == j {
            return;
        }
        if (i, j) != (0, self.n - 1) {
            self.slot[i][j] = *next;
            *next += 1;
        }
        let k = self.split[i][j] as usize;
        self.number(i, k, next);
        self.number(k + 1, j, next);
    }

    /// The split `k` of the interval `i..=j`.
    pub fn split(&self, i: usize, j: usize) -> usize {
        self.split[i][j] as usize
    }

    /// The association as text: `(a0 a1) a2`, for tests and messages.
    pub fn describe(&self) -> String {
        fn go(p: &Plan, i: usize, j: usize, top: bool) -> String {
            if i == j {
                return format!("a{i}");
            }
            let k = p.split(i, j);
            let s = format!("{} {}", go(p, i, k, false), go(p, k + 1, j, false));
            if top {
                s
            } else {
                format!("({s})")
            }
        }
        go(self, 0, self.n - 1, true)
    }

    /// The intervals of the internal nodes in postorder (children before parents):
    /// `n − 1` of them.
    fn postorder(&self) -> [(usize, usize); MAX_FACTORS] {
        fn go(p: &Plan, i: usize, j: usize, out: &mut [(usize, usize)], len: &mut usize) {
            if i == j {
                return;
            }
            let k = p.split(i, j);
            go(p, i, k, out, len);
            go(p, k + 1, j, out, len);
            out[*len] = (i, j);
            *len += 1;
        }
        let (mut out, mut len) = ([(0, 0); MAX_FACTORS], 0);
        go(self, 0, self.n - 1, &mut out, &mut len);
        out
    }

    /// The buffer index of internal node `i..=j`.
    fn slot(&self, i: usize, j: usize) -> usize {
        self.slot[i][j] as usize
    }
}

/// `out (+)= alpha · a b`.
fn product_into<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
) {
    gemm_into(out, acc, alpha, a, b, "chain");
}

/// `out = a₀ a₁ ⋯ a_{n−1}` in the cheapest association ([`Plan::new`]), keeping the
/// products of the tree's other internal nodes in `temps` (`n − 2` buffers) for
/// [`chain_backward`]. Panics as the product written out would, naming `op`, when two
/// neighbours cannot be multiplied.
///
/// ```
/// use matgrad_runtime::__private::{chain_to, view};
/// use nalgebra::{DMatrix, DVector};
///
/// let a = DMatrix::from_fn(3, 4, |i, j| (i + j) as f64);
/// let b = DMatrix::from_fn(4, 5, |i, j| (i * j) as f64 - 1.0);
/// let v = DVector::from_fn(5, |i, _| i as f64);
/// let (mut out, mut t0) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
/// chain_to(&mut out, &[view(&a), view(&b), view(&v)], &mut [&mut t0], "a * b * v");
/// assert_eq!(out, &a * (&b * &v)); // b v first: no matrix–matrix product
/// ```
pub fn chain_to<T: Real>(
    out: &mut DMatrix<T>,
    factors: &[DMatrixView<'_, T>],
    temps: &mut [&mut DMatrix<T>],
    op: &str,
) {
    for w in factors.windows(2) {
        assert!(
            w[0].ncols() == w[1].nrows(),
            "matgrad: {op}: cannot multiply {} by {}",
            Shape(w[0].nrows(), w[0].ncols()),
            Shape(w[1].nrows(), w[1].ncols()),
        );
    }
    let n = factors.len();
    assert!(
        n <= MAX_FACTORS,
        "matgrad: a chain has at most {MAX_FACTORS} factors"
    );
    let leaves: [MatRef<'_, T>; MAX_FACTORS] =
        std::array::from_fn(|i| MatRef::new(&factors[i.min(n - 1)]));
    evaluate(out, false, T::one(), &leaves[..n], temps);
}

/// `out (+)= alpha · op(f₀) op(f₁) ⋯` in the cheapest association, `op` transposing the
/// factors whose flag is set; the intermediate products in `temps` (`n − 2` buffers,
/// or none for one or two factors). The reverse sweep's chains: the inverse's
/// adjoint `−P⁻ᵀ Ḡ P⁻ᵀ`, with an unstored `Ḡ = u vᵀ` read as its two factors.
///
/// ```
/// use matgrad_runtime::__private::{chain_product_to, view};
/// use nalgebra::{DMatrix, DVector};
///
/// let p = DMatrix::from_fn(4, 4, |i, j| if i == j { 2.0 } else { 0.1 * (i + j) as f64 });
/// let (u, v) = (DVector::from_element(4, 1.0), DVector::from_fn(4, |i, _| i as f64));
/// let (mut out, mut t0, mut t1) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
/// let factors = [(view(&p), true), (view(&u), false), (view(&v), true), (view(&p), true)];
/// chain_product_to(&mut out, false, -1.0, &factors, &mut [&mut t0, &mut t1]);
/// let want = -(p.transpose() * &u) * (v.transpose() * p.transpose()); // two gemv, one outer product
/// assert!((out - want).norm() < 1e-12);
/// ```
pub fn chain_product_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    factors: &[(DMatrixView<'_, T>, bool)],
    temps: &mut [&mut DMatrix<T>],
) {
    let n = factors.len();
    assert!(
        (1..=MAX_FACTORS).contains(&n),
        "matgrad: a chain has 1 to {MAX_FACTORS} factors, not {n}"
    );
    let leaves: [MatRef<'_, T>; MAX_FACTORS] = std::array::from_fn(|i| {
        let (f, t) = &factors[i.min(n - 1)];
        MatRef::new(f).op(*t)
    });
    for w in leaves[..n].windows(2) {
        assert!(
            w[0].ncols == w[1].nrows,
            "matgrad: chain_product_to: cannot multiply {} by {}",
            w[0].sh(),
            w[1].sh(),
        );
    }
    if n == 1 {
        let a = leaves[0];
        ready(out, acc, a.nrows, a.ncols, "chain_product_to");
        for j in 0..a.ncols {
            for i in 0..a.nrows {
                let v = alpha * a.get(i, j);
                let o = &mut out[(i, j)];
                *o = if acc { *o + v } else { v };
            }
        }
        return;
    }
    evaluate(out, acc, alpha, &leaves[..n], temps);
}

/// The factors as references (unused entries repeat the last factor).
fn leaves<'a, T: Real>(factors: &'a [DMatrixView<'_, T>]) -> [MatRef<'a, T>; MAX_FACTORS] {
    let n = factors.len();
    assert!(
        (1..=MAX_FACTORS).contains(&n),
        "matgrad: a chain has 1 to {MAX_FACTORS} factors, not {n}"
    );
    std::array::from_fn(|i| MatRef::new(&factors[i.min(n - 1)]))
}

/// `out (+)= alpha · ∏ leaves` in the plan of their shapes.
fn evaluate<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    leaves: &[MatRef<'_, T>],
    temps: &mut [&mut DMatrix<T>],
) {
    let n = leaves.len();
    let plan = plan_of_shapes(leaves.iter().map(MatRef::shape));
    for &(i, j) in &plan.postorder()[..n - 1] {
        let k = plan.split(i, j);
        let root = (i, j) == (0, n - 1);
        let mut target = if root {
            std::mem::take(out)
        } else {
            std::mem::take(&mut *temps[plan.slot(i, j)])
        };
        {
            let (l, r) = (
                leaf_or_temp(&plan, leaves, temps, i, k),
                leaf_or_temp(&plan, leaves, temps, k + 1, j),
            );
            if root {
                product_into(&mut target, acc, alpha, l, r);
            } else {
                product_into(&mut target, false, T::one(), l, r);
            }
        }
        if root {
            *out = target;
        } else {
            *temps[plan.slot(i, j)] = target;
        }
    }
}

/// The value of interval `i..=j`: a leaf or a kept product.
fn leaf_or_temp<'s, T: Real, M: Deref<Target = DMatrix<T>>>(
    plan: &Plan,
    leaves: &[MatRef<'s, T>],
    temps: &'s [M],
    i: usize,
    j: usize,
) -> MatRef<'s, T> {
    if i == j {
        leaves[i]
    } else {
        MatRef::new(&*temps[plan.slot(i, j)])
    }
}

/// The plan of factors with these `(rows, cols)`.
fn plan_of_shapes(shapes: impl Iterator<Item = (usize, usize)>) -> Plan {
    let mut all = [(0usize, 0usize); MAX_FACTORS];
    let mut n = 0;
    for s in shapes {
        assert!(
            n < MAX_FACTORS,
            "matgrad: a chain has at most {MAX_FACTORS} factors"
        );
        all[n] = s;
        n += 1;
    }
    Plan::new(&all[..n])
}

/// The adjoints of the internal nodes of the chain's tree (other than the root), from
/// the chain's adjoint `g`, into `memo` (`n − 2` buffers, numbered as `temps`): a left
/// child `L` of `P = L R` gets `P̄ Rᵀ`, a right child `Lᵀ P̄`. Only nodes above a factor
/// whose `need` is set are computed. `temps` are those [`chain_to`] filled.
pub fn chain_backward<T: Real>(
    factors: &[DMatrixView<'_, T>],
    temps: &[&DMatrix<T>],
    g: DMatrixView<'_, T>,
    need: &[bool],
    memo: &mut [&mut DMatrix<T>],
) {
    let n = factors.len();
    let leaves = leaves(factors);
    let plan = plan_of_shapes(factors.iter().map(|f| f.shape()));
    let needed = |i: usize, j: usize| need[i..=j].iter().any(|&x| x);
    // Parents before children: the postorder reversed.
    for &(i, j) in plan.postorder()[..n - 1].iter().rev() {
        let k = plan.split(i, j);
        for (ci, cj, left) in [(i, k, true), (k + 1, j, false)] {
            if ci == cj || !needed(ci, cj) {
                continue;
            }
            let mut target = std::mem::take(&mut *memo[plan.slot(ci, cj)]);
            {
                let parent = if (i, j) == (0, n - 1) {
                    MatRef::new(&g)
                } else {
                    MatRef::new(&*memo[plan.slot(i, j)])
                };
                let (si, sj) = if left { (k + 1, j) } else { (i, k) };
                let sibling = leaf_or_temp(&plan, &leaves[..n], temps, si, sj);
                if left {
                    product_into(&mut target, false, T::one(), parent, sibling.t());
                } else {
                    product_into(&mut target, false, T::one(), sibling.t(), parent);
                }
            }
            *memo[plan.slot(ci, cj)] = target;
        }
    }
}

/// `out (+)= alpha · ā_f`, the adjoint of factor `f` of the chain: its parent's
/// adjoint (`g` at the root, else from [`chain_backward`]'s `memo`) times its
/// sibling's value, transposed: `P̄ Rᵀ` for a left child, `Lᵀ P̄` for a right one.
#[allow(clippy::too_many_arguments)]
pub fn chain_factor_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    f: usize,
    factors: &[DMatrixView<'_, T>],
    temps: &[&DMatrix<T>],
    memo: &[&DMatrix<T>],
    g: DMatrixView<'_, T>,
) {
    let n = factors.len();
    let leaves = leaves(factors);
    let plan = plan_of_shapes(factors.iter().map(|f| f.shape()));
    let (mut i, mut j) = (0, n - 1);
    loop {
        let k = plan.split(i, j);
        let (child, sibling, left) = if f <= k {
            ((i, k), (k + 1, j), true)
        } else {
            ((k + 1, j), (i, k), false)
        };
        if child == (f, f) {
            let parent = if (i, j) == (0, n - 1) {
                MatRef::new(&g)
            } else {
                MatRef::new(memo[plan.slot(i, j)])
            };
            let s = leaf_or_temp(&plan, &leaves[..n], temps, sibling.0, sibling.1);
            if left {
                product_into(out, acc, alpha, parent, s.t());
            } else {
                product_into(out, acc, alpha, s.t(), parent);
            }
            return;
        }
        (i, j) = child;
    }
}

// ---------------------------------------------------------------------------
// Chains of three, whose order the generated code weighs itself
// ---------------------------------------------------------------------------

/// The shape of `op(a)`.
fn op_shape<T>(a: &DMatrixView<'_, T>, t: bool) -> (usize, usize) {
    let (r, c) = a.shape();
    if t {
        (c, r)
    } else {
        (r, c)
    }
}

/// Multiply-adds of `(a b) c` and of `a (b c)` for an `m×k`, `k×n`, `n×p` chain.
fn costs_of_three(m: usize, k: usize, n: usize, p: usize) -> (usize, usize) {
    (m * k * n + m * n * p, k * n * p + m * k * p)
}

/// Multiply-adds of `op(a) · op(b)`.
pub fn product_cost<T>(a: DMatrixView<'_, T>, ta: bool, b: DMatrixView<'_, T>, tb: bool) -> usize {
    let ((m, k), (_, n)) = (op_shape(&a, ta), op_shape(&b, tb));
    m * k * n
}

/// Multiply-adds of the chain `op(a) · op(b) · op(c)`: in its cheaper order, and with
/// the pair `a b` (when `left`, else `b c`) already formed. For an `m×k`, `k×n`, `n×p`
/// chain, `(a b) c` costs `m k n + m n p` and `a (b c)` costs `k n p + m k p`.
pub fn mul3_costs<T>(
    a: DMatrixView<'_, T>,
    ta: bool,
    b: DMatrixView<'_, T>,
    tb: bool,
    c: DMatrixView<'_, T>,
    tc: bool,
    left: bool,
) -> (usize, usize) {
    let ((m, k), (_, n), (_, p)) = (op_shape(&a, ta), op_shape(&b, tb), op_shape(&c, tc));
    let (ab_c, a_bc) = costs_of_three(m, k, n, p);
    (ab_c.min(a_bc), if left { m * n * p } else { m * k * p })
}

/// `out (+)= alpha · op(a) · op(b) · op(c)` in the cheaper association (see
/// [`mul3_costs`]), the intermediate product in `tmp`.
#[allow(clippy::too_many_arguments)] // the generated code's call, one operand per pair
pub fn mul3_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    ta: bool,
    b: DMatrixView<'_, T>,
    tb: bool,
    c: DMatrixView<'_, T>,
    tc: bool,
    tmp: &mut DMatrix<T>,
) {
    let (a, b, c) = (
        MatRef::new(&a).op(ta),
        MatRef::new(&b).op(tb),
        MatRef::new(&c).op(tc),
    );
    let (ab_c, a_bc) = costs_of_three(a.nrows, a.ncols, b.ncols, c.ncols);
    if ab_c <= a_bc {
        gemm_into(tmp, false, T::one(), a, b, "mul3_to");
        gemm_into(out, acc, alpha, MatRef::new(&*tmp), c, "mul3_to");
    } else {
        gemm_into(tmp, false, T::one(), b, c, "mul3_to");
        gemm_into(out, acc, alpha, a, MatRef::new(&*tmp), "mul3_to");
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;

    #[test]
    fn plans() {
        // a b v, v a vector: b v first.
        assert_eq!(
            Plan::new(&[(9, 9), (9, 9), (9, 1)]).describe(),
            "a0 (a1 a2)"
        );
        // Equal costs: as written.
        assert_eq!(
            Plan::new(&[(4, 4), (4, 4), (4, 4)]).describe(),
            "(a0 a1) a2"
        );
        // Issue 9's chain, 400×20, 20×400, 400×20, 20×400: one 400×400 product, at
        // the end (`a0 ((a1 a2) a3)` costs the same; the later split wins the tie).
        assert_eq!(
            Plan::new(&[(400, 20), (20, 400), (400, 20), (20, 400)]).describe(),
            "(a0 (a1 a2)) a3"
        );
        // xᵀ a b x.
        assert_eq!(
            Plan::new(&[(1, 9), (9, 9), (9, 9), (9, 1)]).describe(),
            "((a0 a1) a2) a3"
        );
        assert_eq!(Plan::new(&[(3, 4), (4, 5)]).describe(), "a0 a1");
    }
}

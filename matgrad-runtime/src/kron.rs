//! The Kronecker product `a ⊗ b` and its adjoints with respect to either factor, on
//! views of any strides. Re-exported by [`crate::__private`]; not a stable API.

use crate::kernel::{self, prepare, ready, MatRef, Shape};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// `out = a ⊗ b` (bit-for-bit nalgebra's `kronecker`).
pub fn kronecker_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>) {
    let (a, b) = (MatRef::new(&a), MatRef::new(&b));
    let ((p, q), (r, s)) = (a.shape(), b.shape());
    prepare(out, p * r, q * s);
    if p * r == 0 {
        return;
    }
    // nalgebra's loop order and products (`a_ij * b_kl`), one output column at a time.
    for (jo, oc) in out.as_mut_slice().chunks_exact_mut(p * r).enumerate() {
        let (j1, j2) = (jo / s, jo % s);
        for (i1, block) in oc.chunks_exact_mut(r).enumerate() {
            let coeff = a.get(i1, j1);
            match b.col(j2) {
                Some(bc) => block.iter_mut().zip(bc).for_each(|(o, &x)| *o = coeff * x),
                None => block
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i2, o)| *o = coeff * b.get(i2, j2)),
            }
        }
    }
}

/// Adjoint of `a ⊗ b` for `a` (`p×q`): `out_ij (+)= Σ (g_block(i,j) ⊙ b)`.
pub fn kron_adjoint_a_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
) {
    let (g, b) = (MatRef::new(&g), MatRef::new(&b));
    let (r, s) = b.shape();
    let (p, q) = kron_factor_shape(out, &g, r, s, "kron_adjoint_a_to");
    ready(out, acc, p, q, "kron_adjoint_a_to");
    if !acc {
        out.fill(T::zero());
    }
    // out_ij += Σ_l (column l of block (i, j)) · (column l of b).
    for j in 0..q {
        for l in 0..s {
            let gc = g.column(j * s + l);
            let bc = b.column(l);
            for i in 0..p {
                let t = match (gc.col(0), bc.col(0)) {
                    (Some(gc), Some(bc)) => kernel::dot(&gc[i * r..(i + 1) * r], bc),
                    _ => (0..r).fold(T::zero(), |t, k| t + gc.get(i * r + k, 0) * bc.get(k, 0)),
                };
                out[(i, j)] += t;
            }
        }
    }
}

/// Adjoint of `a ⊗ b` for `b` (`r×s`): `out (+)= Σ_ij a_ij g_block(i,j)`.
pub fn kron_adjoint_b_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
) {
    let (g, a) = (MatRef::new(&g), MatRef::new(&a));
    let (p, q) = a.shape();
    let (r, s) = kron_factor_shape(out, &g, p, q, "kron_adjoint_b_to");
    ready(out, acc, r, s, "kron_adjoint_b_to");
    let o = out.as_mut_slice();
    if !acc {
        o.fill(T::zero());
    }
    if r == 0 {
        return;
    }
    // column l of out += Σ_ij a_ij (column l of block (i, j)).
    for (l, oc) in o.chunks_exact_mut(r).enumerate() {
        for j in 0..q {
            let gc = g.column(j * s + l);
            for i in 0..p {
                let aij = a.get(i, j);
                match gc.col(0) {
                    Some(gc) => kernel::axpy(oc, aij, &gc[i * r..(i + 1) * r]),
                    None => oc
                        .iter_mut()
                        .enumerate()
                        .for_each(|(k, o)| *o += aij * gc.get(i * r + k, 0)),
                }
            }
        }
    }
}

/// The shape `p×q` of the factor `x` of `g = x ⊗ y` (or `y ⊗ x`), the other factor
/// being `r×s`. When that factor is empty, `g` is empty and cannot tell: `out`'s
/// current shape is kept in that dimension.
fn kron_factor_shape<T: Real>(
    out: &DMatrix<T>,
    g: &MatRef<'_, T>,
    r: usize,
    s: usize,
    what: &str,
) -> (usize, usize) {
    assert!(
        (r == 0 || g.nrows.is_multiple_of(r)) && (s == 0 || g.ncols.is_multiple_of(s)),
        "matgrad: {what}: a {} adjoint is not a Kronecker product with a {} factor",
        g.sh(),
        Shape(r, s),
    );
    let p = g.nrows.checked_div(r).unwrap_or(out.nrows());
    let q = g.ncols.checked_div(s).unwrap_or(out.ncols());
    (p, q)
}

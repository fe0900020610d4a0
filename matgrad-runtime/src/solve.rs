//! Kernels of the solves that `#[grad(wrt = …, reassociate)]` writes for an inverse
//! used only as a factor of products: `x⁻¹ b` and `b x⁻¹` from one LU factorisation
//! of `x`, no inverse formed. Re-exported by [`crate::__private`]; not a stable API.
//!
//! The factorisation (Cholesky `x = L Lᵀ` when `x` is exactly symmetric positive
//! definite, else `P x = L U` with partial pivoting, see [`factor_to`]) is kept in two
//! workspace matrices of the node that computes it: the `n×n` factors and the
//! `(n + 1)×1` pivots and kind, stored as `T` (exact below 2²⁴ rows even in `f32`; the
//! workspace holds matrices of `T` only). Every solve reads them, so products with the same
//! inverse share one factorisation. The adjoints:
//!
//! | forward | `b̄ +=` | `x̄ +=` |
//! | --- | --- | --- |
//! | `y = x⁻¹ b` | `x⁻ᵀ ȳ` | `−(x⁻ᵀ ȳ) yᵀ` |
//! | `y = b x⁻¹` | `ȳ x⁻ᵀ` | `−yᵀ (ȳ x⁻ᵀ)` |
//!
//! each one transposed or plain solve with the same factors and one product.
//! Nothing allocates once the outputs and scratch buffers have their shapes.

use crate::blas::gemm_ref;
use crate::decomp::{cholesky_factors, lu_factor, lu_solve_in_place};
use crate::kernel::{prepare, ready, unary, MatRef, Shape};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// `x = a` factorised in place, as the solve kernels read it: `lu` (resized to `n×n`)
/// and `piv` (resized to `(n + 1)×1`). When `a` is exactly symmetric (an O(n²) check)
/// and its Cholesky factorisation `a = L Lᵀ` succeeds (every pivot finite and
/// positive), `lu` holds `L` below and `Lᵀ` above the diagonal, and `piv[n] = 1`;
/// otherwise (`a` not symmetric, or not positive definite: the attempt costs up to
/// `n³/6` more) `P a = L U` by LU with partial pivoting, `lu` holding `L` (unit lower,
/// below the diagonal) and `U`, `piv[..n]` the row interchanges and `piv[n] = 0`.
///
/// Panics as `a.try_inverse().unwrap()` would: a non-square `a` with
/// `matgrad: {op}: cannot invert a {r}×{c} matrix`; a singular one (an exactly zero
/// pivot) with `expect` when given (the user's `.expect(msg)`), otherwise with
/// `matgrad: {op}: the matrix is singular (called unwrap on None)`. A NaN does not
/// panic (nalgebra's inverse does not either): it reaches every solve.
pub fn factor_to<T: Real>(
    lu: &mut DMatrix<T>,
    piv: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    op: &str,
    expect: Option<&str>,
) {
    let (n, c) = a.shape();
    assert!(
        n == c,
        "matgrad: {op}: cannot invert a {} matrix",
        Shape(n, c)
    );
    unary(lu, false, MatRef::new(&a), op, |v| v);
    prepare(piv, n + 1, 1);
    let p = piv.as_mut_slice();
    if cholesky_factors(lu.as_mut_slice(), n) {
        // Positive pivots: not singular.
        p[n] = T::one();
        return;
    }
    unary(lu, false, MatRef::new(&a), op, |v| v);
    lu_factor(lu.as_mut_slice(), n, &mut [], &mut p[..n]);
    p[n] = T::zero();
    if (0..n).any(|k| lu[(k, k)].is_zero()) {
        match expect {
            Some(msg) => panic!("{msg}"),
            None => panic!("matgrad: {op}: the matrix is singular (called unwrap on None)"),
        }
    }
}

/// The order `n` of the factors, checked against the pivots.
fn order<T: Real>(lu: &DMatrixView<'_, T>, piv: &DMatrixView<'_, T>, what: &str) -> usize {
    let n = lu.nrows();
    assert!(
        lu.ncols() == n && piv.shape() == (n + 1, 1),
        "matgrad: {what}: {}×{} factors with {}×{} pivots",
        n,
        lu.ncols(),
        piv.nrows(),
        piv.ncols(),
    );
    n
}

/// The entries of a view of an owned buffer (the factors and pivots [`factor_to`] wrote).
fn contiguous<'a, T: Real>(m: &'a DMatrixView<'_, T>, what: &str) -> &'a [T] {
    MatRef::new(m)
        .as_slice()
        .unwrap_or_else(|| panic!("matgrad: {what}: the factors are not contiguous"))
}

/// `dst = op(x)⁻¹ op(src)`: `src` copied into `dst` (transposed when `t_src`), then
/// solved in place with the factors, transposed when `trans`.
fn solve_into<T: Real>(
    dst: &mut DMatrix<T>,
    lu: &DMatrixView<'_, T>,
    piv: &DMatrixView<'_, T>,
    src: MatRef<'_, T>,
    t_src: bool,
    trans: bool,
    what: &str,
) {
    let n = order(lu, piv, what);
    let src = src.op(t_src);
    assert!(
        src.nrows == n,
        "matgrad: {what}: cannot solve with {n}×{n} factors and a {} right-hand side",
        src.sh(),
    );
    unary(dst, false, src, what, |v| v);
    lu_solve_in_place(
        contiguous(lu, what),
        contiguous(piv, what),
        n,
        dst.as_mut_slice(),
        trans,
    );
}

/// `out = x⁻¹ b` from the factors of [`factor_to`] (the product `x.try_inverse().unwrap() * b`
/// under `reassociate`). Panics `matgrad: {op}: cannot multiply {n}×{n} by {r}×{c}`,
/// as the product would.
pub fn factor_solve_to<T: Real>(
    out: &mut DMatrix<T>,
    lu: DMatrixView<'_, T>,
    piv: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    op: &str,
) {
    let n = lu.nrows();
    assert!(
        b.nrows() == n,
        "matgrad: {op}: cannot multiply {} by {}",
        Shape(n, n),
        Shape(b.nrows(), b.ncols()),
    );
    solve_into(out, &lu, &piv, MatRef::new(&b), false, false, op);
}

/// `out = b x⁻¹ = (x⁻ᵀ bᵀ)ᵀ` from the factors of [`factor_to`] (the product
/// `b * x.try_inverse().unwrap()` under `reassociate`), `bᵀ` solved in `tmp`. Panics
/// `matgrad: {op}: cannot multiply {r}×{c} by {n}×{n}`, as the product would.
pub fn factor_solve_right_to<T: Real>(
    out: &mut DMatrix<T>,
    b: DMatrixView<'_, T>,
    lu: DMatrixView<'_, T>,
    piv: DMatrixView<'_, T>,
    tmp: &mut DMatrix<T>,
    op: &str,
) {
    let n = lu.nrows();
    assert!(
        b.ncols() == n,
        "matgrad: {op}: cannot multiply {} by {}",
        Shape(b.nrows(), b.ncols()),
        Shape(n, n),
    );
    solve_into(tmp, &lu, &piv, MatRef::new(&b), true, true, op);
    unary(out, false, MatRef::new(&*tmp).t(), op, |v| v);
}

/// Adjoint of `y = x⁻¹ b` for `b`: `out (+)= x⁻ᵀ g`, one transposed solve (in `out`
/// itself when not accumulating, else in `scratch`).
pub fn factor_solve_adjoint_b_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    lu: DMatrixView<'_, T>,
    piv: DMatrixView<'_, T>,
    g: DMatrixView<'_, T>,
    scratch: &mut DMatrix<T>,
) {
    const WHAT: &str = "factor_solve_adjoint_b_to";
    if acc {
        solve_into(scratch, &lu, &piv, MatRef::new(&g), false, true, WHAT);
        unary(out, true, MatRef::new(&*scratch), WHAT, |v| v);
    } else {
        solve_into(out, &lu, &piv, MatRef::new(&g), false, true, WHAT);
    }
}

/// Adjoint of `y = x⁻¹ b` for `x`: `out (+)= −(x⁻ᵀ g) yᵀ`, the solve in `scratch`,
/// then one product (an outer product when `b` is a vector).
pub fn factor_solve_adjoint_x_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    lu: DMatrixView<'_, T>,
    piv: DMatrixView<'_, T>,
    g: DMatrixView<'_, T>,
    y: DMatrixView<'_, T>,
    scratch: &mut DMatrix<T>,
) {
    const WHAT: &str = "factor_solve_adjoint_x_to";
    solve_into(scratch, &lu, &piv, MatRef::new(&g), false, true, WHAT);
    let n = lu.nrows();
    ready(out, acc, n, n, WHAT);
    let beta = if acc { T::one() } else { T::zero() };
    gemm_ref(
        -T::one(),
        MatRef::new(&*scratch),
        MatRef::new(&y).t(),
        beta,
        out,
    );
}

/// Adjoint of `y = b x⁻¹` for `b`: `out (+)= g x⁻ᵀ = (x⁻¹ gᵀ)ᵀ`, the solve in `scratch`.
pub fn factor_solve_right_adjoint_b_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    lu: DMatrixView<'_, T>,
    piv: DMatrixView<'_, T>,
    g: DMatrixView<'_, T>,
    scratch: &mut DMatrix<T>,
) {
    const WHAT: &str = "factor_solve_right_adjoint_b_to";
    solve_into(scratch, &lu, &piv, MatRef::new(&g), true, false, WHAT);
    unary(out, acc, MatRef::new(&*scratch).t(), WHAT, |v| v);
}

/// Adjoint of `y = b x⁻¹` for `x`: `out (+)= −yᵀ (g x⁻ᵀ)`, with `(g x⁻ᵀ)ᵀ = x⁻¹ gᵀ`
/// solved in `scratch`, then one product.
pub fn factor_solve_right_adjoint_x_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    lu: DMatrixView<'_, T>,
    piv: DMatrixView<'_, T>,
    g: DMatrixView<'_, T>,
    y: DMatrixView<'_, T>,
    scratch: &mut DMatrix<T>,
) {
    const WHAT: &str = "factor_solve_right_adjoint_x_to";
    solve_into(scratch, &lu, &piv, MatRef::new(&g), true, false, WHAT);
    let n = lu.nrows();
    ready(out, acc, n, n, WHAT);
    let beta = if acc { T::one() } else { T::zero() };
    gemm_ref(
        -T::one(),
        MatRef::new(&y).t(),
        MatRef::new(&*scratch).t(),
        beta,
        out,
    );
}

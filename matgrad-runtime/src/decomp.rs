//! Log-determinants and inverses from one in-place factorisation: Cholesky for
//! exactly symmetric positive definite matrices, LU with partial pivoting otherwise.

use crate::kernel::{is_nan, prepare, unary, MatRef};
use crate::Real;
use nalgebra::{ComplexField, DMatrix, DMatrixView, Dim, Matrix, Matrix4, RawStorage};

/// The largest number of entries [`ln_det`] and [`ln_det_inverse_static`] factorise
/// in a stack buffer (a 6×6 matrix).
const SMALL: usize = 36;

/// `(ln |det a|, a⁻¹)` of a statically sized square matrix, on the stack: the value
/// has the same bits as [`ln_det`] (and the dynamic kernels), no allocation. Used by
/// the code `#[grad]` writes for static sizes. The inverse comes from the LU
/// factorisation, which also gives the value unless `a` takes the Cholesky path.
#[inline]
pub fn ln_det_inverse_static<T: Real, const N: usize>(
    a: &nalgebra::SMatrix<T, N, N>,
) -> (T, nalgebra::SMatrix<T, N, N>) {
    let mut chol = *a;
    let by_cholesky = try_cholesky(chol.as_mut_slice(), N);
    let mut inv = nalgebra::SMatrix::<T, N, N>::identity();
    let mut lu = *a;
    let ln = lu_in_place(lu.as_mut_slice(), N, inv.as_mut_slice());
    (by_cholesky.unwrap_or(ln), inv)
}

/// Factorises the `n×n` column-major matrix in `lu` in place by Gaussian elimination
/// with partial pivoting, applying the same row operations (swaps included) to the
/// `n×m` column-major `rhs` (possibly empty), then solves `U x = rhs` in place, so that
/// `rhs` ends as `a⁻¹ rhs`. Returns `ln |det a| = Σ ln |u_kk|`.
///
/// Blocked, right-looking: each panel of [`NB`] columns is factorised unblocked (its
/// row swaps applied at once to the whole rows from the panel on, and to `rhs`), then
/// the rows of the panel in the trailing columns and in `rhs` are solved with the
/// panel's unit lower triangle, and the trailing matrix and `rhs` are updated by one
/// product each. The back substitution goes by block rows, from the last one up, with
/// one product per block for the rows above it.
///
/// The operations on `lu` and the returned value do not depend on `rhs`, so every
/// caller gets the same bits for the same matrix. A zero pivot column (a singular
/// matrix) adds `ln 0 = -∞` and is skipped; dividing by it in the solve gives
/// non-finite entries. A NaN is always chosen as pivot, so it reaches the result.
#[inline]
pub(crate) fn lu_in_place<T: Real>(lu: &mut [T], n: usize, rhs: &mut [T]) -> T {
    lu_factor(lu, n, rhs, &mut [])
}

/// [`lu_in_place`], also recording the row interchanges in `piv` when it is not
/// empty (then `n` entries): step `k` swapped rows `k` and `piv[k]`, so that
/// `P a = L U` with `P` the swaps applied in order, LAPACK's `getrf` convention.
/// The pivots are stored as `T` (exact: indices below 2²⁴ even in `f32`), because
/// the workspace of the generated code holds matrices of `T` only. Whole rows are
/// swapped (the multipliers left of the current panel too), so `lu` ends as the
/// factors [`lu_solve_in_place`] reads.
pub(crate) fn lu_factor<T: Real>(lu: &mut [T], n: usize, rhs: &mut [T], piv: &mut [T]) -> T {
    assert!(lu.len() == n * n && (n == 0 || rhs.len().is_multiple_of(n)));
    assert!(piv.is_empty() || piv.len() == n);
    let mut ln_det = T::zero();
    if n == 0 {
        return ln_det;
    }
    let m = rhs.len() / n;
    for j0 in (0..n).step_by(NB) {
        let j1 = (j0 + NB).min(n);
        // The panel lu[j0.., j0..j1].
        for k in j0..j1 {
            // The pivot: the entry of largest magnitude on or below the diagonal.
            let colk = &lu[k * n..(k + 1) * n];
            let (mut p, mut best) = (k, ComplexField::abs(colk[k]));
            if !is_nan(best) {
                for (i, &v) in colk.iter().enumerate().skip(k + 1) {
                    let v = ComplexField::abs(v);
                    if v > best {
                        (p, best) = (i, v);
                    } else if is_nan(v) {
                        (p, best) = (i, v);
                        break;
                    }
                }
            }
            ln_det += best.ln();
            if let Some(slot) = piv.get_mut(k) {
                *slot = index_to_real(if best.is_zero() { k } else { p });
            }
            if best.is_zero() {
                // Nothing below the diagonal to eliminate.
                continue;
            }
            if p != k {
                // The whole rows: the multipliers left of the panel are the factor
                // `L` that `lu_solve_in_place` reads (O(n) per swap).
                for col in lu.chunks_exact_mut(n) {
                    col.swap(k, p);
                }
                for col in rhs.chunks_exact_mut(n) {
                    col.swap(k, p);
                }
            }
            let (left, right) = lu.split_at_mut((k + 1) * n);
            let colk = &mut left[k * n..];
            let pivot = colk[k];
            for v in &mut colk[k + 1..] {
                *v /= pivot;
            }
            let l = &colk[k + 1..];
            for col in right.chunks_exact_mut(n).take(j1 - k - 1) {
                let f = col[k];
                col[k + 1..]
                    .iter_mut()
                    .zip(l)
                    .for_each(|(c, &li)| *c -= li * f);
            }
        }
        // Rows j0..j1 of the trailing columns and of rhs: L11⁻¹ (unit lower).
        let (left, right) = lu.split_at_mut(j1 * n);
        for col in right.chunks_exact_mut(n).chain(rhs.chunks_exact_mut(n)) {
            for k in j0..j1 {
                let f = col[k];
                col[k + 1..j1]
                    .iter_mut()
                    .zip(&left[k * n + k + 1..k * n + j1])
                    .for_each(|(c, &li)| *c -= li * f);
            }
        }
        if j1 == n {
            continue;
        }
        let (p, r) = (lu.as_mut_ptr(), rhs.as_mut_ptr());
        // lu[j1.., j1..] −= L21 · U12 and rhs[j1.., ..] −= L21 · rhs[j0..j1, ..].
        // SAFETY: in bounds; c (rows and columns j1..) is disjoint from a (columns
        // j0..j1) and b (rows j0..j1); the rhs product writes rows j1.. of rhs and
        // reads rows j0..j1 of it and columns j0..j1 of lu.
        unsafe {
            gemm(
                n - j1,
                j1 - j0,
                n - j1,
                -T::one(),
                (p.add(j0 * n + j1), 1, n),
                (p.add(j1 * n + j0), 1, n),
                T::one(),
                (p.add(j1 * n + j1), 1, n),
            );
            if m > 0 {
                gemm(
                    n - j1,
                    j1 - j0,
                    m,
                    -T::one(),
                    (p.add(j0 * n + j1), 1, n),
                    (r.add(j0), 1, n),
                    T::one(),
                    (r.add(j1), 1, n),
                );
            }
        }
    }
    if m == 0 {
        return ln_det;
    }
    back_substitute_by(lu, n, rhs, NB, false);
    ln_det
}

/// Solves `U x = rhs` in place, `U` the upper triangle of the `n×n` column-major `lu`
/// (`n > 0`) and `rhs` `n×m`, by block rows of `nb`, the last first: each block
/// unblocked (or, when `by_inverses` and `rhs` has many columns, by the inverse of
/// the block, see [`solve_block`]), then one product for the rows above it.
fn back_substitute_by<T: Real>(lu: &[T], n: usize, rhs: &mut [T], nb: usize, by_inverses: bool) {
    let m = rhs.len() / n;
    let last = (n - 1) / nb * nb;
    for i0 in (0..=last).rev().step_by(nb) {
        let i1 = (i0 + nb).min(n);
        if by_inverses && m >= MANY_RHS {
            solve_block(lu, n, i0, i1 - i0, Triangle::Upper, false, rhs);
        } else {
            for col in rhs.chunks_exact_mut(n) {
                for k in (i0..i1).rev() {
                    let xk = col[k] / lu[k * n + k];
                    col[k] = xk;
                    col[i0..k]
                        .iter_mut()
                        .zip(&lu[k * n + i0..k * n + k])
                        .for_each(|(c, &u)| *c -= u * xk);
                }
            }
        }
        if i0 > 0 {
            let r = rhs.as_mut_ptr();
            // rhs[..i0, ..] −= U[..i0, i0..i1] · rhs[i0..i1, ..].
            // SAFETY: in bounds; c (rows ..i0 of rhs) is disjoint from b (rows i0..i1)
            // and a is in lu.
            unsafe {
                gemm(
                    i0,
                    i1 - i0,
                    m,
                    -T::one(),
                    (lu.as_ptr().add(i0 * n), 1, n),
                    (r.add(i0).cast_const(), 1, n),
                    T::one(),
                    (r, 1, n),
                );
            }
        }
    }
}

/// `i` as a `T` (a pivot index, see [`lu_factor`]).
fn index_to_real<T: Real>(i: usize) -> T {
    nalgebra::convert(i as f64)
}

/// A pivot index stored by [`lu_factor`], checked to be a row of an `n×n` matrix.
fn real_to_index<T: Real>(x: T, n: usize) -> usize {
    let i = x.to_subset().map_or(usize::MAX, |v: f64| v as usize);
    assert!(i < n, "matgrad: lu_solve: a pivot index out of range");
    i
}

/// Applies the row interchanges `piv` (see [`lu_factor`]) to each column of `rhs`,
/// in order (`P rhs`) or in reverse (`Pᵀ rhs`).
fn permute_rows<T: Real>(piv: &[T], n: usize, rhs: &mut [T], reverse: bool) {
    let swap = |rhs: &mut [T], k: usize| {
        let p = real_to_index(piv[k], n);
        if p != k {
            for col in rhs.chunks_exact_mut(n) {
                col.swap(k, p);
            }
        }
    };
    if reverse {
        (0..n).rev().for_each(|k| swap(rhs, k));
    } else {
        (0..n).for_each(|k| swap(rhs, k));
    }
}

/// `init − Σ a_i b_i`, with four partial sums (so that the loop vectorises).
#[inline]
fn dot_sub<T: Real>(init: T, a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail = ra.iter().zip(rb).fold(T::zero(), |s, (&x, &y)| s + x * y);
    init - ((acc[0] + acc[1]) + (acc[2] + acc[3]) + tail)
}

/// Block size of the triangular solves: the rows solved unblocked before one product
/// updates the rest of the right-hand side.
const NB_SOLVE: usize = 32;

/// From this many right-hand sides on, a diagonal block of a triangular solve is
/// applied as its inverse by a product ([`solve_block`]) instead of by substitution:
/// forming the inverse costs `nb³/6` once, the substitution `nb²/2` per column in
/// short loops, the product `nb²` per column at the product kernel's speed.
const MANY_RHS: usize = 16;

/// Columns of `rhs` a diagonal block is applied to at once (a stack buffer).
const RHS_CHUNK: usize = 64;

/// Which triangle of a diagonal block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Triangle {
    /// The lower triangle (with a unit diagonal when asked).
    Lower,
    /// The upper triangle.
    Upper,
}

/// `rows r0..r0+nb of rhs ← op(T)⁻¹ · (those rows)`, `T` the `tri` triangle of the
/// diagonal block of `f` (leading dimension `n`) at `(r0, r0)`, with a unit diagonal
/// when `unit`, and `op(T) = Tᵀ` when `tri` is read transposed (`transposed`): the
/// block's inverse is formed on the stack (`nb³/6`), then applied by one product
/// per [`RHS_CHUNK`] columns through a stack copy of the rows.
fn solve_block<T: Real>(
    f: &[T],
    n: usize,
    r0: usize,
    nb: usize,
    tri: Triangle,
    transposed: bool,
    rhs: &mut [T],
) {
    solve_block_unit(f, n, r0, nb, tri, false, transposed, rhs);
}

/// [`solve_block`] with the unit-diagonal choice.
#[allow(clippy::too_many_arguments)]
fn solve_block_unit<T: Real>(
    f: &[T],
    n: usize,
    r0: usize,
    nb: usize,
    tri: Triangle,
    unit: bool,
    transposed: bool,
    rhs: &mut [T],
) {
    assert!(nb <= NB_SOLVE && r0 + nb <= n);
    let mut inv = [T::zero(); NB_SOLVE * NB_SOLVE];
    // Column j of the inverse: the solve of T x = e_j, by columns of T.
    for j in 0..nb {
        let x = &mut inv[j * nb..(j + 1) * nb];
        x[j] = T::one();
        let col = |k: usize| &f[(r0 + k) * n + r0..(r0 + k) * n + r0 + nb];
        match tri {
            Triangle::Lower => {
                for k in j..nb {
                    if !unit {
                        x[k] /= col(k)[k];
                    }
                    let xk = x[k];
                    x[k + 1..]
                        .iter_mut()
                        .zip(&col(k)[k + 1..])
                        .for_each(|(v, &l)| *v -= l * xk);
                }
            }
            Triangle::Upper => {
                for k in (0..=j).rev() {
                    if !unit {
                        x[k] /= col(k)[k];
                    }
                    let xk = x[k];
                    x[..k]
                        .iter_mut()
                        .zip(&col(k)[..k])
                        .for_each(|(v, &u)| *v -= u * xk);
                }
            }
        }
    }
    let m = rhs.len() / n;
    let (a_rs, a_cs) = if transposed { (nb, 1) } else { (1, nb) };
    let mut tmp = [T::zero(); NB_SOLVE * RHS_CHUNK];
    for c0 in (0..m).step_by(RHS_CHUNK) {
        let c1 = (c0 + RHS_CHUNK).min(m);
        for (c, col) in rhs.chunks_exact(n).skip(c0).take(c1 - c0).enumerate() {
            tmp[c * nb..(c + 1) * nb].copy_from_slice(&col[r0..r0 + nb]);
        }
        // SAFETY: in bounds; a and b are stack buffers, c is in rhs.
        unsafe {
            gemm(
                nb,
                nb,
                c1 - c0,
                T::one(),
                (inv.as_ptr(), a_rs, a_cs),
                (tmp.as_ptr(), 1, nb),
                T::zero(),
                (rhs.as_mut_ptr().add(c0 * n + r0), 1, n),
            );
        }
    }
}

/// Factorises the `n×n` column-major `a` for [`lu_solve_in_place`]: by Cholesky when
/// `a` is exactly symmetric and positive definite (then `L` is written in the lower
/// triangle and `Lᵀ` in the upper one, the diagonal shared), returning `true`; else
/// `false`, with `a` partly overwritten (the caller factorises a fresh copy by LU).
pub(crate) fn cholesky_factors<T: Real>(a: &mut [T], n: usize) -> bool {
    if try_cholesky(a, n).is_none() {
        return false;
    }
    for j in 0..n {
        for i in j + 1..n {
            a[i * n + j] = a[j * n + i];
        }
    }
    true
}

/// Solves `a x = rhs` (or `aᵀ x = rhs` when `trans`) in place, `rhs` an `n×m`
/// column-major matrix, from the factors `f` and the `n + 1` entries `piv` of `a`:
///
/// - `piv[n] == 0`: `f` and `piv[..n]` are what [`lu_factor`] wrote, `P a = L U`, and
///   `x = U⁻¹ L⁻¹ P rhs`, or `x = Pᵀ L⁻ᵀ U⁻ᵀ rhs`;
/// - `piv[n] != 0`: `f` is what [`cholesky_factors`] wrote, `a = L Lᵀ = aᵀ`, and
///   `x = L⁻ᵀ L⁻¹ rhs` either way.
///
/// Every triangular solve is blocked by [`NB_SOLVE`] rows: a block is solved unblocked
/// (by columns of the triangle where they are its columns, by dot products with them
/// for the transposed ones; all contiguous reads), and the rest of `rhs` is updated
/// by one product per block. A zero on the diagonal gives non-finite entries (the
/// callers refuse singular matrices first).
pub(crate) fn lu_solve_in_place<T: Real>(f: &[T], piv: &[T], n: usize, rhs: &mut [T], trans: bool) {
    assert!(f.len() == n * n && piv.len() == n + 1 && (n == 0 || rhs.len().is_multiple_of(n)));
    if n == 0 || rhs.is_empty() {
        return;
    }
    let m = rhs.len() / n;
    let cholesky = !piv[n].is_zero();
    if cholesky || !trans {
        if !cholesky {
            permute_rows(&piv[..n], n, rhs, false);
        }
        // L y = P rhs by block columns of L (unit lower for LU).
        for j0 in (0..n).step_by(NB_SOLVE) {
            let j1 = (j0 + NB_SOLVE).min(n);
            if m >= MANY_RHS {
                solve_block_unit(f, n, j0, j1 - j0, Triangle::Lower, !cholesky, false, rhs);
            } else {
                for col in rhs.chunks_exact_mut(n) {
                    for k in j0..j1 {
                        if cholesky {
                            col[k] /= f[k * n + k];
                        }
                        let y = col[k];
                        col[k + 1..j1]
                            .iter_mut()
                            .zip(&f[k * n + k + 1..k * n + j1])
                            .for_each(|(c, &l)| *c -= l * y);
                    }
                }
            }
            if j1 < n {
                let r = rhs.as_mut_ptr();
                // rhs[j1.., ..] −= L[j1.., j0..j1] · rhs[j0..j1, ..].
                // SAFETY: in bounds; c (rows j1.. of rhs) is disjoint from b (rows
                // j0..j1 of rhs), and a is in f.
                unsafe {
                    gemm(
                        n - j1,
                        j1 - j0,
                        m,
                        -T::one(),
                        (f.as_ptr().add(j0 * n + j1), 1, n),
                        (r.add(j0).cast_const(), 1, n),
                        T::one(),
                        (r.add(j1), 1, n),
                    );
                }
            }
        }
        back_substitute_by(f, n, rhs, NB_SOLVE, true);
        return;
    }
    // Uᵀ z = rhs (lower, non-unit), by block rows, the first first.
    for i0 in (0..n).step_by(NB_SOLVE) {
        let i1 = (i0 + NB_SOLVE).min(n);
        if i0 > 0 {
            let r = rhs.as_mut_ptr();
            // rhs[i0..i1, ..] −= U[..i0, i0..i1]ᵀ · rhs[..i0, ..].
            // SAFETY: in bounds; c (rows i0..i1 of rhs) is disjoint from b (rows ..i0),
            // and a is in f (read transposed: row stride n, column stride 1).
            unsafe {
                gemm(
                    i1 - i0,
                    i0,
                    m,
                    -T::one(),
                    (f.as_ptr().add(i0 * n), n, 1),
                    (r.cast_const(), 1, n),
                    T::one(),
                    (r.add(i0), 1, n),
                );
            }
        }
        if m >= MANY_RHS {
            // (U11ᵀ)⁻¹ = (U11⁻¹)ᵀ
            solve_block(f, n, i0, i1 - i0, Triangle::Upper, true, rhs);
        } else {
            for col in rhs.chunks_exact_mut(n) {
                for k in i0..i1 {
                    let s = dot_sub(col[k], &f[k * n + i0..k * n + k], &col[i0..k]);
                    col[k] = s / f[k * n + k];
                }
            }
        }
    }
    // Lᵀ w = z (unit upper), by block rows, the last first.
    let last = (n - 1) / NB_SOLVE * NB_SOLVE;
    for i0 in (0..=last).rev().step_by(NB_SOLVE) {
        let i1 = (i0 + NB_SOLVE).min(n);
        if i1 < n {
            let r = rhs.as_mut_ptr();
            // rhs[i0..i1, ..] −= L[i1.., i0..i1]ᵀ · rhs[i1.., ..].
            // SAFETY: in bounds; c (rows i0..i1 of rhs) is disjoint from b (rows i1..),
            // and a is in f (read transposed).
            unsafe {
                gemm(
                    i1 - i0,
                    n - i1,
                    m,
                    -T::one(),
                    (f.as_ptr().add(i0 * n + i1), n, 1),
                    (r.add(i1).cast_const(), 1, n),
                    T::one(),
                    (r.add(i0), 1, n),
                );
            }
        }
        if m >= MANY_RHS {
            // (L11ᵀ)⁻¹ = (L11⁻¹)ᵀ, L11 unit lower
            solve_block_unit(f, n, i0, i1 - i0, Triangle::Lower, true, true, rhs);
        } else {
            for col in rhs.chunks_exact_mut(n) {
                for k in (i0..i1).rev() {
                    col[k] = dot_sub(col[k], &f[k * n + k + 1..k * n + i1], &col[k + 1..i1]);
                }
            }
        }
    }
    permute_rows(&piv[..n], n, rhs, true);
}

/// Panics unless `a` is square.
fn check_square<T: Copy>(a: &MatRef<'_, T>, op: &str) -> usize {
    assert!(
        a.nrows == a.ncols,
        "matgrad: {op}: cannot take the log-determinant of a {} matrix",
        a.sh(),
    );
    a.nrows
}

/// Block size of the blocked Cholesky factorisation, triangular inverse and product.
const NB: usize = 32;

/// Whether the `n×n` column-major `a` equals its transpose (`a[i,j] == a[j,i]`, so a
/// NaN off the diagonal makes it non-symmetric). Tiled, so that the strided reads
/// of the transposed tile stay in L1.
fn is_symmetric<T: Real>(a: &[T], n: usize) -> bool {
    const T_: usize = 16;
    for j0 in (0..n).step_by(T_) {
        for i0 in (j0..n).step_by(T_) {
            for j in j0..(j0 + T_).min(n) {
                let col = &a[j * n..(j + 1) * n];
                for (i, &v) in col
                    .iter()
                    .enumerate()
                    .take((i0 + T_).min(n))
                    .skip(i0.max(j + 1))
                {
                    if v != a[i * n + j] {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// `c ← alpha · a · b + beta · c` on column-major blocks of the same `n×n` buffer
/// (or of two buffers): `a` is `m×k`, `b` is `k×nn`, `c` is `m×nn`, each given by its
/// first entry and its row and column strides.
///
/// # Safety
///
/// That of [`Real::__gemm`]: every entry in bounds, `c` not overlapping `a` or `b`.
#[allow(clippy::too_many_arguments)] // the BLAS argument list
#[inline]
unsafe fn gemm<T: Real>(
    m: usize,
    k: usize,
    nn: usize,
    alpha: T,
    a: (*const T, usize, usize),
    b: (*const T, usize, usize),
    beta: T,
    c: (*mut T, usize, usize),
) {
    // SAFETY: forwarded from the caller (strides of in-bounds buffers fit in isize).
    unsafe {
        T::__gemm(
            m,
            k,
            nn,
            alpha,
            a.0,
            a.1 as isize,
            a.2 as isize,
            b.0,
            b.1 as isize,
            b.2 as isize,
            beta,
            c.0,
            c.1 as isize,
            c.2 as isize,
        );
    }
}

/// Factorises the symmetric `n×n` column-major `a = L Lᵀ` in place (its lower triangle
/// becomes `L`; the strict upper triangle is left unspecified), by a blocked
/// left-looking Cholesky: each block column is first updated by one product with the
/// columns already factorised, then factorised unblocked. Returns
/// `Σ ln pivot_k = ln det a` (the pivot is `L_kk²`), or `None` as soon as a pivot is
/// not a finite positive number (`a` not positive definite, or not finite); `a` is
/// then partly overwritten.
pub(crate) fn cholesky_in_place<T: Real>(a: &mut [T], n: usize) -> Option<T> {
    assert!(a.len() == n * n);
    let mut ln_det = T::zero();
    for j0 in (0..n).step_by(NB) {
        let j1 = (j0 + NB).min(n);
        if j0 > 0 {
            // (Taken afresh: the panel below reborrows `a`.)
            let p = a.as_mut_ptr();
            // a[j0.., j0..j1] −= L[j0.., ..j0] · L[j0..j1, ..j0]ᵀ (the strict upper
            // triangle of the diagonal block is computed too, and never read).
            // SAFETY: the entries are in bounds; c is in columns j0..j1, a and b in
            // columns ..j0: distinct entries.
            unsafe {
                gemm(
                    n - j0,
                    j0,
                    j1 - j0,
                    -T::one(),
                    (p.add(j0), 1, n),
                    (p.add(j0), n, 1),
                    T::one(),
                    (p.add(j0 * n + j0), 1, n),
                );
            }
        }
        // The panel a[j0.., j0..j1], right-looking within its columns.
        for k in j0..j1 {
            let (left, right) = a.split_at_mut((k + 1) * n);
            let col = &mut left[k * n..];
            let pivot = col[k];
            if !(pivot > T::zero() && pivot.is_finite()) {
                return None;
            }
            ln_det += pivot.ln();
            let d = pivot.sqrt();
            col[k] = d;
            let r = T::one() / d;
            for v in &mut col[k + 1..] {
                *v *= r;
            }
            let lk = &col[k + 1..];
            for (jj, cj) in right.chunks_exact_mut(n).take(j1 - k - 1).enumerate() {
                let f = lk[jj];
                cj[k + 1 + jj..]
                    .iter_mut()
                    .zip(&lk[jj..])
                    .for_each(|(c, &l)| *c -= f * l);
            }
        }
    }
    Some(ln_det)
}

/// Inverts in place the lower triangular `nb×nb` diagonal block at `(o, o)` of the
/// column-major buffer `a` with leading dimension `n`, unblocked, last column first:
/// column `j` of the inverse is `−(1/l_jj) · T · l[j+1.., j]`, with `T` the trailing
/// block already inverted. Reads and writes the lower triangle of the block only.
fn invert_lower_unblocked<T: Real>(a: &mut [T], n: usize, o: usize, nb: usize) {
    for j in (o..o + nb).rev() {
        let (left, right) = a.split_at_mut((j + 1) * n);
        let col = &mut left[j * n..j * n + o + nb];
        col[j] = T::one() / col[j];
        let ajj = -col[j];
        let x = &mut col[j + 1..];
        // x ← T x in place from the last entry up (T lower triangular), then x ← ajj·x.
        for l in (0..x.len()).rev() {
            let t = &right[l * n + j + 1..l * n + o + nb];
            let xl = x[l];
            x[l] = t[l] * xl;
            x[l + 1..]
                .iter_mut()
                .zip(&t[l + 1..])
                .for_each(|(xi, &ti)| *xi += ti * xl);
        }
        for v in x.iter_mut() {
            *v *= ajj;
        }
    }
}

/// Replaces the lower triangular `n×n` column-major `l` (non-zero diagonal, strict upper
/// triangle zero) by `L⁻¹`, blocked: with `L = [D 0; B T]`, `L⁻¹ = [D⁻¹ 0; −T⁻¹ B D⁻¹
/// T⁻¹]`, the trailing `T⁻¹` formed first. Uses `tmp` (at least `n·NB` entries) for
/// `T⁻¹ B`.
fn invert_lower_in_place<T: Real>(l: &mut [T], n: usize, tmp: &mut [T]) {
    assert!(l.len() == n * n && tmp.len() >= n.min(NB) * n);
    let last = if n == 0 { 0 } else { (n - 1) / NB * NB };
    for j0 in (0..=last).rev().step_by(NB) {
        let j1 = (j0 + NB).min(n);
        let jb = j1 - j0;
        invert_lower_unblocked(l, n, j0, jb);
        if j1 == n {
            continue;
        }
        let m = n - j1;
        let (p, t) = (l.as_mut_ptr(), tmp.as_mut_ptr());
        // tmp (m×jb, leading dimension m) = T⁻¹ · B, one row block of T⁻¹ at a time
        // (T⁻¹ is lower triangular: row block r0..r1 needs its columns j1..r1 only).
        for r0 in (j1..n).step_by(NB) {
            let r1 = (r0 + NB).min(n);
            // SAFETY: in bounds; c is in tmp, a distinct buffer.
            unsafe {
                gemm(
                    r1 - r0,
                    r1 - j1,
                    jb,
                    T::one(),
                    (p.add(j1 * n + r0), 1, n),
                    (p.add(j0 * n + j1), 1, n),
                    T::zero(),
                    (t.add(r0 - j1), 1, m),
                );
            }
        }
        // B = −tmp · D⁻¹ (the strict upper triangle of D⁻¹ is zero).
        // SAFETY: in bounds; c is rows j1.. of columns j0..j1, b rows j0..j1 of the
        // same columns, a in tmp: distinct entries.
        unsafe {
            gemm(
                m,
                jb,
                jb,
                -T::one(),
                (t.cast_const(), 1, m),
                (p.add(j0 * n + j0), 1, n),
                T::zero(),
                (p.add(j0 * n + j1), 1, n),
            );
        }
    }
}

/// `ln |det a|` by Cholesky when `a` (copied in `s`) is exactly symmetric and the
/// factorisation succeeds, else `None` (and `s` is partly overwritten).
fn try_cholesky<T: Real>(s: &mut [T], n: usize) -> Option<T> {
    if !is_symmetric(s, n) {
        return None;
    }
    cholesky_in_place(s, n)
}

/// `ln |det a|`, factorising a copy of `a` in `scratch` (resized to `n×n` if needed):
/// by Cholesky when `a` is exactly symmetric and positive definite, else by LU.
pub(crate) fn ln_det_ref<T: Real>(a: MatRef<'_, T>, scratch: &mut DMatrix<T>, op: &str) -> T {
    let n = check_square(&a, op);
    unary(scratch, false, a, op, |x| x);
    if let Some(l) = try_cholesky(scratch.as_mut_slice(), n) {
        return l;
    }
    unary(scratch, false, a, op, |x| x);
    lu_in_place(scratch.as_mut_slice(), n, &mut [])
}

/// `ln |det a|` and `inv = a⁻¹` from one factorisation in `scratch`, chosen as in
/// [`ln_det_ref`] (so the value has the same bits). On the Cholesky path
/// `a⁻¹ = L⁻ᵀ L⁻¹` (`L⁻¹` formed in place, `inv` used as scratch for it); the product
/// is one GEMM per block column `j` over rows `j0..` of `L⁻¹` only (the rows above are
/// zero in those columns).
pub(crate) fn ln_det_inverse_ref<T: Real>(
    inv: &mut DMatrix<T>,
    a: MatRef<'_, T>,
    scratch: &mut DMatrix<T>,
    op: &str,
) -> T {
    let n = check_square(&a, op);
    unary(scratch, false, a, op, |x| x);
    prepare(inv, n, n);
    let s = scratch.as_mut_slice();
    if let Some(l) = try_cholesky(s, n) {
        for (j, col) in s.chunks_exact_mut(n).enumerate() {
            col[..j].fill(T::zero());
        }
        invert_lower_in_place(s, n, inv.as_mut_slice());
        let (p, c) = (s.as_ptr(), inv.as_mut_ptr());
        // inv[.., j0..j1] = (L⁻¹[j0.., ..])ᵀ · L⁻¹[j0.., j0..j1].
        for j0 in (0..n).step_by(NB) {
            let j1 = (j0 + NB).min(n);
            // SAFETY: in bounds; c is in inv, a distinct buffer.
            unsafe {
                gemm(
                    n,
                    n - j0,
                    j1 - j0,
                    T::one(),
                    (p.add(j0), n, 1),
                    (p.add(j0 * n + j0), 1, n),
                    T::zero(),
                    (c.add(j0 * n), 1, n),
                );
            }
        }
        return l;
    }
    unary(scratch, false, a, op, |x| x);
    inv.fill_with_identity();
    lu_in_place(scratch.as_mut_slice(), n, inv.as_mut_slice())
}

/// `out = a⁻¹` with nalgebra's `try_inverse` (same bits; allocates for n > 4 as nalgebra does),
/// for a square `a` (checked by the caller). A singular `a` panics with `expect` when given
/// (the user's `.expect(msg)`), otherwise with
/// `matgrad: {op}: the matrix is singular (called unwrap on None)`.
pub(crate) fn inverse_as_nalgebra<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    op: &str,
    expect: Option<&str>,
) {
    let n = a.nrows();
    prepare(out, n, n);
    let ok = if n == 4 {
        // nalgebra copies a 4×4 matrix before inverting it in place: a static copy
        // takes no heap allocation and gives the same bits.
        let mut m4 = Matrix4::from_fn(|i, j| a[(i, j)]);
        let ok = m4.try_inverse_mut();
        out.copy_from(&m4);
        ok
    } else {
        // `try_inverse` is `into_owned` + `try_inverse_mut`: the same bits, with `out`
        // as the owned copy (nalgebra still clones it for n > 4).
        out.copy_from(&a);
        out.try_inverse_mut()
    };
    if !ok {
        match expect {
            Some(msg) => panic!("{msg}"),
            None => panic!("matgrad: {op}: the matrix is singular (called unwrap on None)"),
        }
    }
}

/// `out (+)= alpha · a⁻ᵀ` (adjoint of `determinant` with `alpha = s̄ det a`), with
/// scratch buffers instead of allocation; a singular `a` gives non-finite entries.
pub(crate) fn inv_transpose_ref<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: MatRef<'_, T>,
    scratch1: &mut DMatrix<T>,
    scratch2: &mut DMatrix<T>,
) {
    assert!(
        a.nrows == a.ncols,
        "matgrad: inv_transpose_to: cannot invert a {} matrix",
        a.sh(),
    );
    // scratch2 = a⁻¹ (factorising in scratch1), then out (+)= alpha · scratch2ᵀ.
    ln_det_inverse_ref(scratch2, a, scratch1, "inv_transpose_to");
    unary(
        out,
        acc,
        MatRef::new(&*scratch2).t(),
        "inv_transpose_to",
        |x| alpha * x,
    );
}

/// Computes `ln |det a|`, the logarithm of the absolute value of the determinant.
///
/// Computed as a sum of logarithms of pivots, so it neither overflows nor underflows
/// where `det a` would:
///
/// - when `a` is exactly symmetric (`a[(i, j)] == a[(j, i)]` for every `i ≠ j`, an
///   O(n²) check), by a blocked Cholesky factorisation `a = L Lᵀ`: if every pivot
///   `p_k = L_kk²` is finite and positive, `ln |det a| = Σ ln p_k`;
/// - otherwise (not symmetric, or a pivot `≤ 0`, infinite or NaN: `a` is not positive
///   definite), by an LU factorisation with partial pivoting: `ln |det a| = Σ ln |u_kk|`.
///
/// The gradient the `_grad` functions compute (`a⁻ᵀ`, from the same factorisation:
/// `a⁻¹ = L⁻ᵀ L⁻¹` on the Cholesky path) comes with exactly this value, bit for bit.
/// A NaN entry gives NaN. A singular matrix gives `-∞` (a symmetric positive
/// semidefinite one only when a Cholesky pivot is exactly 0; rounding may leave a
/// tiny positive pivot, and so a large negative finite value, as for LU); the
/// determinant of the empty matrix is 1, so it gives 0.
///
/// # Panics
///
/// Panics if `a` is not square, with a message such as
/// `matgrad: ln_det: cannot take the log-determinant of a 2×3 matrix`.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::ln_det;
/// use nalgebra::{DMatrix, Matrix2};
///
/// let a = DMatrix::<f64>::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, -3.0, 2.0, 0.0, 2.0, 5.0]);
/// assert_relative_eq!(ln_det(&a), a.determinant().abs().ln(), epsilon = 1e-12);
///
/// // det(1e-200 · I) underflows to 0 in f64 at n = 2; its logarithm does not.
/// let tiny = DMatrix::<f64>::identity(2, 2) * 1e-200;
/// assert_relative_eq!(ln_det(&tiny), 2.0 * 1e-200_f64.ln(), epsilon = 1e-12);
///
/// assert_eq!(ln_det(&Matrix2::new(1.0, 2.0, 2.0, 4.0)), f64::NEG_INFINITY);
/// ```
#[must_use]
pub fn ln_det<T: Real, R: Dim, C: Dim, S: RawStorage<T, R, C>>(a: &Matrix<T, R, C, S>) -> T {
    let n = a.nrows();
    if n == a.ncols() && n * n <= SMALL {
        // Small matrices (every static size up to 6×6) factorise on the stack: no
        // allocation, the same choice and operations as `ln_det_ref`, so the same bits.
        let mut buf = [T::zero(); SMALL];
        let copy = |buf: &mut [T; SMALL]| {
            for (x, &v) in buf.iter_mut().zip(a.iter()) {
                *x = v;
            }
        };
        copy(&mut buf);
        if let Some(l) = try_cholesky(&mut buf[..n * n], n) {
            return l;
        }
        copy(&mut buf);
        return lu_in_place(&mut buf[..n * n], n, &mut []);
    }
    let mut scratch = DMatrix::zeros(0, 0);
    ln_det_ref(MatRef::new(a), &mut scratch, "ln_det")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `M Mᵀ / n + I`, exactly symmetric.
    fn spd(n: usize) -> DMatrix<f64> {
        let m = DMatrix::from_fn(n, n, |i, j| ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.4);
        let x = &m * m.transpose() / n as f64 + DMatrix::identity(n, n);
        (&x + x.transpose()) * 0.5
    }

    #[test]
    fn symmetry_test() {
        for n in [0, 1, 5, 16, 17, 40] {
            let mut a = spd(n);
            assert!(is_symmetric(a.as_slice(), n));
            if n > 1 {
                a[(n - 1, 0)] += 1.0;
                assert!(!is_symmetric(a.as_slice(), n));
                a[(0, n - 1)] += 1.0;
                assert!(is_symmetric(a.as_slice(), n));
                a[(n / 2, n / 2)] = f64::NAN; // the diagonal is not compared
                assert!(is_symmetric(a.as_slice(), n));
                a[(n - 1, 0)] = f64::NAN;
                a[(0, n - 1)] = f64::NAN;
                assert!(!is_symmetric(a.as_slice(), n));
            }
        }
    }

    #[test]
    fn cholesky_and_triangular_inverse_match_nalgebra() {
        for n in [1, 2, 31, 32, 33, 64, 70, 100] {
            let a = spd(n);
            let mut s = a.clone();
            let l = cholesky_in_place(s.as_mut_slice(), n).expect("SPD");
            let want = a.clone().cholesky().unwrap().l();
            let got = s.lower_triangle();
            assert!((&got - &want).norm() <= 1e-12 * want.norm(), "n = {n}");
            let want_l = 2.0 * want.diagonal().map(f64::ln).sum();
            assert!((l - want_l).abs() <= 1e-12 * want_l.abs().max(1.0));
            let mut tmp = vec![0.0; n * n];
            let mut got = got;
            invert_lower_in_place(got.as_mut_slice(), n, &mut tmp);
            let want = want.try_inverse().unwrap();
            assert!((&got - &want).norm() <= 1e-12 * want.norm(), "n = {n}");
            // Not positive definite: refused.
            let mut s = -a;
            assert_eq!(cholesky_in_place(s.as_mut_slice(), n), None);
        }
        let mut s = spd(40);
        s[(35, 35)] = -100.0;
        assert_eq!(cholesky_in_place(s.as_mut_slice(), 40), None);
    }
}

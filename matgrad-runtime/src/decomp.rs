//! Log-determinants and inverses from one in-place LU factorisation.

use crate::kernel::{is_nan, prepare, unary, MatRef};
use crate::Real;
use nalgebra::{ComplexField, DMatrix, Dim, Matrix, RawStorage};

/// The largest number of entries [`ln_det`] and [`ln_det_inverse_static`] factorise
/// in a stack buffer (a 6×6 matrix).
const SMALL: usize = 36;

/// `(ln |det a|, a⁻¹)` of a statically sized square matrix from one factorisation on
/// the stack: the same bits as [`ln_det`] (and the dynamic kernels), no allocation.
/// Used by the code `#[grad]` writes for static sizes.
pub fn ln_det_inverse_static<T: Real, const N: usize>(
    a: &nalgebra::SMatrix<T, N, N>,
) -> (T, nalgebra::SMatrix<T, N, N>) {
    let mut inv = nalgebra::SMatrix::<T, N, N>::identity();
    let mut lu = *a;
    let ln = lu_in_place(lu.as_mut_slice(), N, inv.as_mut_slice());
    (ln, inv)
}

/// Factorises the `n×n` column-major matrix in `lu` in place by Gaussian elimination
/// with partial pivoting, applying the same row operations (swaps included) to the
/// `n×m` column-major `rhs` (possibly empty), then solves `U x = rhs` in place, so that
/// `rhs` ends as `a⁻¹ rhs`. Returns `ln |det a| = Σ ln |u_kk|`.
///
/// The operations on `lu` and the returned value do not depend on `rhs`, so every
/// caller gets the same bits for the same matrix. A zero pivot column (a singular
/// matrix) adds `ln 0 = -∞` and is skipped; dividing by it in the solve gives
/// non-finite entries. A NaN is always chosen as pivot, so it reaches the result.
pub(crate) fn lu_in_place<T: Real>(lu: &mut [T], n: usize, rhs: &mut [T]) -> T {
    assert!(lu.len() == n * n && (n == 0 || rhs.len() % n == 0));
    let mut ln_det = T::zero();
    if n == 0 {
        return ln_det;
    }
    for k in 0..n {
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
        if best.is_zero() {
            // Nothing below the diagonal to eliminate.
            continue;
        }
        if p != k {
            // Columns left of k hold multipliers nobody reads again: not swapped.
            for col in lu[k * n..].chunks_exact_mut(n) {
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
        for col in right.chunks_exact_mut(n).chain(rhs.chunks_exact_mut(n)) {
            let f = col[k];
            col[k + 1..]
                .iter_mut()
                .zip(l)
                .for_each(|(c, &li)| *c -= li * f);
        }
    }
    // Back substitution, column by column of rhs (columns of U are contiguous).
    for col in rhs.chunks_exact_mut(n) {
        for k in (0..n).rev() {
            let xk = col[k] / lu[k * n + k];
            col[k] = xk;
            col[..k]
                .iter_mut()
                .zip(&lu[k * n..k * n + k])
                .for_each(|(c, &u)| *c -= u * xk);
        }
    }
    ln_det
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

/// `ln |det a|`, factorising a copy of `a` in `scratch` (resized to `n×n` if needed).
pub(crate) fn ln_det_ref<T: Real>(a: MatRef<'_, T>, scratch: &mut DMatrix<T>, op: &str) -> T {
    let n = check_square(&a, op);
    unary(scratch, false, a, op, |x| x);
    lu_in_place(scratch.as_mut_slice(), n, &mut [])
}

/// `ln |det a|` and `inv = a⁻¹` from one factorisation in `scratch`.
pub(crate) fn ln_det_inverse_ref<T: Real>(
    inv: &mut DMatrix<T>,
    a: MatRef<'_, T>,
    scratch: &mut DMatrix<T>,
    op: &str,
) -> T {
    let n = check_square(&a, op);
    unary(scratch, false, a, op, |x| x);
    prepare(inv, n, n);
    inv.fill_with_identity();
    lu_in_place(scratch.as_mut_slice(), n, inv.as_mut_slice())
}

/// Computes `ln |det a|`, the logarithm of the absolute value of the determinant.
///
/// Computed from an LU factorisation with partial pivoting as `Σ ln |u_ii|`, so it
/// neither overflows nor underflows where `det a` would. A singular matrix gives
/// `-∞`; the determinant of the empty matrix is 1, so it gives 0.
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
        // allocation, the same operations, so the same bits.
        let mut lu = [T::zero(); SMALL];
        for (x, &v) in lu.iter_mut().zip(a.iter()) {
            *x = v;
        }
        return lu_in_place(&mut lu[..n * n], n, &mut []);
    }
    let mut scratch = DMatrix::zeros(0, 0);
    ln_det_ref(MatRef::new(a), &mut scratch, "ln_det")
}

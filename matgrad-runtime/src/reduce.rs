//! Stable reductions: log-sum-exp and softmax cross-entropy.
//!
//! Both shift by the maximum before exponentiating, so they neither overflow nor
//! lose everything to underflow. Sums run in a fixed order (column-major for
//! [`log_sum_exp`], row by row for [`softmax_cross_entropy`]), shared with the
//! kernels of the generated code, which therefore give the same bits.

// The row-block loops index several per-row arrays (and the matrices) by the same
// row offset; iterator chains over them would hide that, not simplify it.
#![allow(clippy::needless_range_loop)]

use crate::kernel::{self, is_nan, neg_infinity, prepare, ready, unary, MatRef};
use crate::Real;
use nalgebra::{ComplexField, DMatrix, Dim, Matrix, RawStorage};

/// Rows handled together by the row-wise kernels (their per-row state lives on the
/// stack, and a block of rows of a column-major matrix is a contiguous run).
const ROWS: usize = 8;

/// `max(acc, v)`, where a NaN wins and then stays (so a running maximum is NaN if
/// any entry is).
#[inline]
fn nan_max<T: Real>(acc: T, v: T) -> T {
    if v > acc || (is_nan(v) && !is_nan(acc)) {
        v
    } else {
        acc
    }
}

/// `max + ln(sum)`, where `sum = Σ e^(x − max)`; an infinite or NaN `max` is the
/// answer itself (all `-∞` gives `-∞`, any `+∞` gives `+∞`, any NaN gives NaN).
#[inline]
fn finish_lse<T: Real>(max: T, sum: T) -> T {
    if ComplexField::is_finite(&max) {
        max + sum.ln()
    } else {
        max
    }
}

/// `ln Σ_ij e^(a_ij)`, in column-major order.
pub(crate) fn log_sum_exp_ref<T: Real>(a: MatRef<'_, T>) -> T {
    let (nrows, ncols) = a.shape();
    let mut max = neg_infinity::<T>();
    for j in 0..ncols {
        for i in 0..nrows {
            max = nan_max(max, a.get(i, j));
        }
    }
    if !ComplexField::is_finite(&max) {
        return max;
    }
    let mut sum = T::zero();
    for j in 0..ncols {
        for i in 0..nrows {
            sum += (a.get(i, j) - max).exp();
        }
    }
    finish_lse(max, sum)
}

/// Per-row maxima of rows `i0..i0 + n` of `z` (NaN-propagating).
#[inline]
fn row_max<T: Real>(z: &MatRef<'_, T>, i0: usize, n: usize) -> [T; ROWS] {
    let mut max = [neg_infinity::<T>(); ROWS];
    for j in 0..z.ncols {
        for (r, m) in max[..n].iter_mut().enumerate() {
            *m = nan_max(*m, z.get(i0 + r, j));
        }
    }
    max
}

/// Per-row `Σ_j e^(z_ij − max_i)` of rows `i0..i0 + n`.
#[inline]
fn row_sum_exp<T: Real>(z: &MatRef<'_, T>, i0: usize, n: usize, max: &[T; ROWS]) -> [T; ROWS] {
    let mut sum = [T::zero(); ROWS];
    for j in 0..z.ncols {
        for r in 0..n {
            sum[r] += (z.get(i0 + r, j) - max[r]).exp();
        }
    }
    sum
}

/// Per-row log-sum-exp of rows `i0..i0 + n`.
#[inline]
fn row_lse<T: Real>(z: &MatRef<'_, T>, i0: usize, n: usize) -> [T; ROWS] {
    let max = row_max(z, i0, n);
    let sum = row_sum_exp(z, i0, n, &max);
    let mut lse = max;
    for r in 0..n {
        lse[r] = finish_lse(max[r], sum[r]);
    }
    lse
}

/// The row blocks `(i0, n)` of a matrix with `nrows` rows.
#[inline]
fn row_blocks(nrows: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..nrows)
        .step_by(ROWS)
        .map(move |i0| (i0, ROWS.min(nrows - i0)))
}

fn check_ce<T: Copy>(z: &MatRef<'_, T>, y: &MatRef<'_, T>, op: &str) {
    assert!(
        z.shape() == y.shape(),
        "matgrad: {op}: cannot compare {} scores with {} targets",
        z.sh(),
        y.sh(),
    );
}

/// `−Σ y ⊙ log softmax(z) = Σ_ij y_ij (lse_i − z_ij)`: each row's terms in column
/// order, then the rows in order.
pub(crate) fn softmax_ce_ref<T: Real>(z: MatRef<'_, T>, y: MatRef<'_, T>, op: &str) -> T {
    check_ce(&z, &y, op);
    let mut total = T::zero();
    for (i0, n) in row_blocks(z.nrows) {
        let lse = row_lse(&z, i0, n);
        let mut loss = [T::zero(); ROWS];
        for j in 0..z.ncols {
            for r in 0..n {
                loss[r] += y.get(i0 + r, j) * (lse[r] - z.get(i0 + r, j));
            }
        }
        for r in 0..n {
            total += loss[r];
        }
    }
    total
}

/// [`softmax_ce_ref`]'s value (the same operations in the same order, so the same
/// bits) and, in `out`, its gradient with respect to `z`, `softmax(z) ⊙ rowsum(y) − y`,
/// from one exponential per entry.
pub(crate) fn softmax_ce_with_adjoint_ref<T: Real>(
    out: &mut DMatrix<T>,
    z: MatRef<'_, T>,
    y: MatRef<'_, T>,
    op: &str,
) -> T {
    check_ce(&z, &y, op);
    ready(out, false, z.nrows, z.ncols, op);
    let nrows = z.nrows;
    let o = out.as_mut_slice();
    let mut total = T::zero();
    for (i0, n) in row_blocks(nrows) {
        let max = row_max(&z, i0, n);
        let mut sum = [T::zero(); ROWS];
        for j in 0..z.ncols {
            for r in 0..n {
                let e = (z.get(i0 + r, j) - max[r]).exp();
                o[i0 + r + j * nrows] = e;
                sum[r] += e;
            }
        }
        let (mut lse, mut loss, mut ysum) = (max, [T::zero(); ROWS], [T::zero(); ROWS]);
        for r in 0..n {
            lse[r] = finish_lse(max[r], sum[r]);
        }
        for j in 0..z.ncols {
            for r in 0..n {
                let yij = y.get(i0 + r, j);
                loss[r] += yij * (lse[r] - z.get(i0 + r, j));
                ysum[r] += yij;
            }
        }
        for r in 0..n {
            total += loss[r];
        }
        for j in 0..z.ncols {
            for r in 0..n {
                let i = i0 + r;
                let e = &mut o[i + j * nrows];
                *e = *e * (ysum[r] / sum[r]) - y.get(i, j);
            }
        }
    }
    total
}

/// `out (+)= −s · log softmax(z) = s · (lse_r − z)`, per row.
pub(crate) fn softmax_ce_adjoint_y_ref<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    z: MatRef<'_, T>,
) {
    ready(out, acc, z.nrows, z.ncols, "softmax_ce_adjoint_y_to");
    let nrows = z.nrows;
    let o = out.as_mut_slice();
    for (i0, n) in row_blocks(nrows) {
        let lse = row_lse(&z, i0, n);
        for j in 0..z.ncols {
            for r in 0..n {
                let (i, v) = (i0 + r, s * (lse[r] - z.get(i0 + r, j)));
                if acc {
                    o[i + j * nrows] += v;
                } else {
                    o[i + j * nrows] = v;
                }
            }
        }
    }
}

/// `out (+)= s · e^(a − lse)` (the adjoint of log-sum-exp, `lse` its value).
pub(crate) fn log_sum_exp_adjoint_ref<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    a: MatRef<'_, T>,
    lse: T,
) {
    unary(out, acc, a, "log_sum_exp_adjoint_to", |x| {
        s * (x - lse).exp()
    });
}
/// `Σ_i x_ij`, the sum of column `j` (eight partial sums when it is contiguous, in
/// order otherwise).
fn column_sum<T: Real>(x: &MatRef<'_, T>, j: usize) -> T {
    match x.col(j) {
        Some(c) => kernel::sum(c),
        None => (0..x.nrows).fold(T::zero(), |acc, i| acc + x.get(i, j)),
    }
}

/// `s_i += Σ_j x_ij`, adding `x`'s columns to `s` one after the other.
fn add_columns<T: Real>(s: &mut [T], x: &MatRef<'_, T>) {
    for j in 0..x.ncols {
        match x.col(j) {
            Some(c) => s.iter_mut().zip(c).for_each(|(s, &v)| *s += v),
            None => s
                .iter_mut()
                .enumerate()
                .for_each(|(i, s)| *s += x.get(i, j)),
        }
    }
}

/// `sums_j = Σ_i x_ij` (length `x.ncols`).
pub(crate) fn column_sums<T: Real>(x: MatRef<'_, T>, sums: &mut DMatrix<T>) {
    prepare(sums, x.ncols, 1);
    for (j, s) in sums.iter_mut().enumerate() {
        *s = column_sum(&x, j);
    }
}

/// `sums_i = Σ_j x_ij` (length `x.nrows`).
pub(crate) fn row_sums<T: Real>(x: MatRef<'_, T>, sums: &mut DMatrix<T>) {
    prepare(sums, x.nrows, 1);
    sums.fill(T::zero());
    add_columns(sums.as_mut_slice(), &x);
}

/// `out (+)= 1ᵀ g`, the column sums of `g` as a `1×n` row (nalgebra's `row_sum`; the adjoint of `add_row`'s row).
pub(crate) fn row_sum_ref<T: Real>(out: &mut DMatrix<T>, acc: bool, g: MatRef<'_, T>) {
    ready(out, acc, 1, g.ncols, "row_sum_to");
    for (j, o) in out.iter_mut().enumerate() {
        let s = column_sum(&g, j);
        if acc {
            *o += s;
        } else {
            *o = s;
        }
    }
}

/// `out (+)= g 1`, the row sums of `g` as an `m×1` column (adjoint of `add_col`'s column).
pub(crate) fn column_sum_ref<T: Real>(out: &mut DMatrix<T>, acc: bool, g: MatRef<'_, T>) {
    ready(out, acc, g.nrows, 1, "column_sum_to");
    let o = out.as_mut_slice();
    if !acc {
        o.fill(T::zero());
    }
    add_columns(o, &g);
}

/// Computes `ln Σ_ij e^(a_ij)` over all entries of `a`, stably.
///
/// The maximum is subtracted before exponentiating, so large entries do not overflow
/// and the result is accurate when every entry is very negative. An empty matrix or
/// one whose entries are all `-∞` gives `-∞`; any `+∞` gives `+∞`, any NaN gives NaN.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::log_sum_exp;
/// use nalgebra::{dvector, DMatrix};
///
/// let a = DMatrix::from_row_slice(2, 3, &[0.5, -1.0, 2.0, 0.0, 3.0, -2.5]);
/// assert_relative_eq!(log_sum_exp(&a), a.map(|x: f64| x.exp()).sum().ln(), epsilon = 1e-14);
///
/// // e^1000 overflows; log-sum-exp does not.
/// assert_relative_eq!(log_sum_exp(&dvector![1000.0, 1000.0]), 1000.0 + 2.0_f64.ln());
/// ```
#[must_use]
pub fn log_sum_exp<T: Real, R: Dim, C: Dim, S: RawStorage<T, R, C>>(a: &Matrix<T, R, C, S>) -> T {
    log_sum_exp_ref(MatRef::new(a))
}

/// Computes the softmax cross-entropy `−Σ y ⊙ log softmax(z)` of scores `z` against
/// targets `y`, the softmax taken per row.
///
/// Rows are samples and columns classes; the rows' losses are summed, not averaged.
/// For targets whose rows sum to 1 (one-hot labels, probabilities) this is
/// `Σ_rows (logsumexp(z_r) − y_r · z_r)`; in general each row's log-sum-exp is weighted
/// by the row's sum, as in `Σ_rows (rowsum(y_r) · logsumexp(z_r) − y_r · z_r)`, which is
/// what makes the gradient `softmax(z) ⊙ rowsum(y) − y`. It is computed stably (the row
/// maximum is subtracted before exponentiating).
///
/// # Panics
///
/// Panics if `z` and `y` differ in shape, with a message such as
/// `matgrad: softmax_cross_entropy: cannot compare 4×3 scores with 4×2 targets`.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::softmax_cross_entropy;
/// use nalgebra::DMatrix;
///
/// let z = DMatrix::<f64>::from_row_slice(2, 3, &[2.0, 1.0, 0.1, -1.0, 0.5, 3.0]);
/// let y = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
///
/// let mut expected = 0.0;
/// for (zr, yr) in z.row_iter().zip(y.row_iter()) {
///     let softmax = zr.map(|v| v.exp()) / zr.map(|v| v.exp()).sum();
///     expected -= yr.dot(&softmax.map(|p| p.ln()));
/// }
/// assert_relative_eq!(softmax_cross_entropy(&z, &y), expected, epsilon = 1e-14);
/// ```
#[must_use]
pub fn softmax_cross_entropy<T, R1, C1, S1, R2, C2, S2>(
    z: &Matrix<T, R1, C1, S1>,
    y: &Matrix<T, R2, C2, S2>,
) -> T
where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
{
    softmax_ce_ref(MatRef::new(z), MatRef::new(y), "softmax_cross_entropy")
}

//! Reductions along one dimension, as nalgebra computes them (`row_sum`,
//! `column_sum`, `row_mean`, `column_mean`), their adjoints (a broadcast of the
//! reduced adjoint back along that dimension), and the adjoint of an extreme entry
//! (`max`, `min`).

use crate::kernel::{prepare, ready, Shape};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// `out = a.row_sum()`, the `1×n` row of column sums, or `a.row_mean()` when
/// `mean`: nalgebra's values bit for bit (each column summed in order from zero,
/// then divided by the number of rows).
///
/// ```
/// use matgrad_runtime::__private::{row_reduce_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 7.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// row_reduce_to(&mut out, view(&a), false);
/// assert_eq!(out.as_slice(), a.row_sum().as_slice());
/// row_reduce_to(&mut out, view(&a), true);
/// assert_eq!(out.as_slice(), a.row_mean().as_slice());
/// ```
pub fn row_reduce_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, mean: bool) {
    prepare(out, 1, a.ncols());
    let rows = T::from_usize(a.nrows()).unwrap_or_else(T::zero);
    for (o, column) in out.iter_mut().zip(a.column_iter()) {
        let sum = column.iter().fold(T::zero(), |s, &x| s + x);
        *o = match (mean, a.nrows()) {
            (false, _) => sum,
            (true, 0) => T::zero(),
            (true, _) => sum / rows,
        };
    }
}

/// `out = a.column_sum()`, the `m×1` column of row sums, or `a.column_mean()` when
/// `mean`: nalgebra's values bit for bit (the columns added in order to zeros, each
/// times `1/n` for the mean).
///
/// ```
/// use matgrad_runtime::__private::{column_reduce_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 7.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// column_reduce_to(&mut out, view(&a), false);
/// assert_eq!(out.as_slice(), a.column_sum().as_slice());
/// column_reduce_to(&mut out, view(&a), true);
/// assert_eq!(out.as_slice(), a.column_mean().as_slice());
/// ```
pub fn column_reduce_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, mean: bool) {
    prepare(out, a.nrows(), 1);
    out.fill(T::zero());
    let scale = T::one() / T::from_usize(a.ncols()).unwrap_or_else(T::zero);
    for column in a.column_iter() {
        for (o, &x) in out.iter_mut().zip(column.iter()) {
            *o = if mean { scale * x + *o } else { *o + x };
        }
    }
}

/// `out (+)= 𝟙 g`: the `1×n` row `g` in every row of a matrix shaped like `a` (the
/// adjoint of `row_sum`).
///
/// ```
/// use matgrad_runtime::__private::{broadcast_row_mean_to, broadcast_row_to, view};
/// use nalgebra::{DMatrix, RowDVector};
/// let (a, g) = (DMatrix::<f64>::zeros(2, 3), RowDVector::from_vec(vec![1.0, 2.0, 4.0]));
/// let mut out = DMatrix::zeros(0, 0);
/// broadcast_row_to(&mut out, false, view(&g), view(&a));
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 4.0, 1.0, 2.0, 4.0]));
/// broadcast_row_mean_to(&mut out, true, view(&g), view(&a));
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.5, 3.0, 6.0, 1.5, 3.0, 6.0]));
/// ```
pub fn broadcast_row_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
) {
    broadcast_row(out, acc, g, a, false);
}

/// `out (+)= 𝟙 g / m`, `m` the row count of `a` (the adjoint of `row_mean`).
pub fn broadcast_row_mean_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
) {
    broadcast_row(out, acc, g, a, true);
}

/// [`broadcast_row_to`], divided by the row count when `mean`.
fn broadcast_row<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    mean: bool,
) {
    let (rows, cols) = a.shape();
    assert!(
        g.len() == cols,
        "matgrad: broadcast_row_to: a {}-entry row cannot be broadcast over a {} matrix",
        g.len(),
        Shape(rows, cols),
    );
    ready(out, acc, rows, cols, "broadcast_row_to");
    let divisor = T::from_usize(rows).unwrap_or_else(T::one);
    for (mut column, &x) in out.column_iter_mut().zip(g.iter()) {
        let x = if mean { x / divisor } else { x };
        for o in column.iter_mut() {
            *o = if acc { *o + x } else { x };
        }
    }
}

/// `out (+)= g 𝟙ᵀ`: the `m×1` column `g` in every column of a matrix shaped like `a`
/// (the adjoint of `column_sum`).
///
/// ```
/// use matgrad_runtime::__private::{broadcast_column_mean_to, broadcast_column_to, view};
/// use nalgebra::{DMatrix, DVector};
/// let (a, g) = (DMatrix::<f64>::zeros(2, 3), DVector::from_vec(vec![1.0, 3.0]));
/// let mut out = DMatrix::zeros(0, 0);
/// broadcast_column_to(&mut out, false, view(&g), view(&a));
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.0, 1.0, 1.0, 3.0, 3.0, 3.0]));
/// broadcast_column_mean_to(&mut out, false, view(&g), view(&a));
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 1.0, 1.0, 1.0]));
/// ```
pub fn broadcast_column_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
) {
    broadcast_column(out, acc, g, a, false);
}

/// `out (+)= g 𝟙ᵀ / n`, `n` the column count of `a` (the adjoint of `column_mean`).
pub fn broadcast_column_mean_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
) {
    broadcast_column(out, acc, g, a, true);
}

/// [`broadcast_column_to`], divided by the column count when `mean`.
fn broadcast_column<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    mean: bool,
) {
    let (rows, cols) = a.shape();
    assert!(
        g.len() == rows,
        "matgrad: broadcast_column_to: a {}-entry column cannot be broadcast over a {} matrix",
        g.len(),
        Shape(rows, cols),
    );
    ready(out, acc, rows, cols, "broadcast_column_to");
    let divisor = T::from_usize(cols).unwrap_or_else(T::one);
    for mut column in out.column_iter_mut() {
        for (o, &x) in column.iter_mut().zip(g.iter()) {
            let x = if mean { x / divisor } else { x };
            *o = if acc { *o + x } else { x };
        }
    }
}

/// `out (+)= s e_k`, `k` the first entry of `a` (in column-major order, nalgebra's
/// order) equal to `value`: the adjoint of `a.max()` or `a.min()`, whose value is
/// `value`. When no entry equals it (`value` is NaN) every entry gets `s · value`,
/// so the NaN propagates.
///
/// ```
/// use matgrad_runtime::__private::{extreme_adjoint_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 2, &[1.0, 5.0, 5.0, 2.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// extreme_adjoint_to(&mut out, false, 3.0, view(&a), a.max());
/// // (1, 0) comes before (0, 1) in column-major order
/// assert_eq!(out, DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 3.0, 0.0]));
/// ```
pub fn extreme_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    a: DMatrixView<'_, T>,
    value: T,
) {
    let (rows, cols) = a.shape();
    ready(out, acc, rows, cols, "extreme_adjoint_to");
    if !acc {
        out.fill(T::zero());
    }
    match a.iter().position(|&x| x == value) {
        Some(k) => {
            if let Some(o) = out.as_mut_slice().get_mut(k) {
                *o += s;
            }
        }
        None => out.iter_mut().for_each(|o| *o += s * value),
    }
}

//! Parts of a matrix, and their adjoints: `a.diagonal()` and `a.column(j)`, copied
//! into the caller's buffer; each adjoint places `ḡ` back where the part came from,
//! in one pass over the part (plus one zero fill when it overwrites).

use crate::kernel::{prepare, ready, Shape};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// `out = diag(a)`, the diagonal of the square `a` as an `n×1` column.
///
/// Panics `matgrad: {op}: cannot take the diagonal of a {r}×{c} matrix` when `a` is
/// not square (nalgebra's `diagonal()` panics there too).
///
/// ```
/// use matgrad_runtime::__private::{diagonal_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// diagonal_to(&mut out, view(&a), "a.diagonal()");
/// assert_eq!(out.as_slice(), a.diagonal().as_slice());
/// ```
pub fn diagonal_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, op: &str) {
    assert!(
        a.is_square(),
        "matgrad: {op}: cannot take the diagonal of a {} matrix",
        Shape(a.nrows(), a.ncols()),
    );
    let n = a.nrows();
    prepare(out, n, 1);
    for (i, o) in out.iter_mut().enumerate() {
        *o = a[(i, i)];
    }
}

/// `out (+)= diag(g)`: the `n×n` matrix with the `n×1` column `g` on its diagonal
/// (the adjoint of [`diagonal_to`]).
///
/// ```
/// use matgrad_runtime::__private::{diagonal_adjoint_to, view};
/// use nalgebra::{DMatrix, DVector};
/// let g = DVector::from_vec(vec![1.0, 2.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// diagonal_adjoint_to(&mut out, false, view(&g));
/// assert_eq!(out, DMatrix::from_diagonal(&g));
/// diagonal_adjoint_to(&mut out, true, view(&g));
/// assert_eq!(out, DMatrix::from_diagonal(&(&g * 2.0)));
/// ```
pub fn diagonal_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    let n = g.len();
    ready(out, acc, n, n, "diagonal_adjoint_to");
    if !acc {
        out.fill(T::zero());
    }
    for (i, &x) in g.iter().enumerate() {
        out[(i, i)] += x;
    }
}

/// `out = a e_j`, column `j` of `a` as an `m×1` column.
///
/// Panics `matgrad: {op}: column {j} is out of range for a {r}×{c} matrix` (nalgebra's
/// `column(j)` panics there too).
///
/// ```
/// use matgrad_runtime::__private::{column_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// column_to(&mut out, view(&a), 2, "a.column(2)");
/// assert_eq!(out.as_slice(), &[3.0, 6.0]);
/// ```
pub fn column_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, j: usize, op: &str) {
    assert!(
        j < a.ncols(),
        "matgrad: {op}: column {j} is out of range for a {} matrix",
        Shape(a.nrows(), a.ncols()),
    );
    prepare(out, a.nrows(), 1);
    out.column_mut(0).copy_from(&a.column(j));
}

/// `out (+)= g e_jᵀ`: the `m×1` column `g` in column `j` of a matrix shaped like `a`,
/// zero elsewhere (the adjoint of [`column_to`]; `a` gives only the shape).
///
/// ```
/// use matgrad_runtime::__private::{column_adjoint_to, view};
/// use nalgebra::{DMatrix, DVector};
/// let a = DMatrix::<f64>::zeros(2, 3);
/// let g = DVector::from_vec(vec![1.0, 2.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// column_adjoint_to(&mut out, false, view(&g), view(&a), 1);
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 0.0, 0.0, 2.0, 0.0]));
/// ```
pub fn column_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    j: usize,
) {
    let (rows, cols) = a.shape();
    assert!(
        j < cols && g.len() == rows,
        "matgrad: column_adjoint_to: a {}-entry column cannot be column {j} of a {} matrix",
        g.len(),
        Shape(rows, cols),
    );
    ready(out, acc, rows, cols, "column_adjoint_to");
    if !acc {
        out.fill(T::zero());
    }
    for (o, &x) in out.column_mut(j).iter_mut().zip(g.iter()) {
        *o += x;
    }
}

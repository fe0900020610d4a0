//! Parts of a matrix, and their adjoints: `a.diagonal()`, `a.column(j)`, `a.row(i)`,
//! `a.rows(i, n)` and `a.columns(j, n)`, copied into the caller's buffer; each
//! adjoint places `ḡ` back where the part came from, in one pass over the part (plus
//! one zero fill when it overwrites).

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

/// `out (+)= diag(g)`: the diagonal of the square `g` as an `n×1` column (the adjoint
/// of `DMatrix::from_diagonal(&v)`, whose forward form is [`diagonal_adjoint_to`]).
///
/// ```
/// use matgrad_runtime::__private::{from_diagonal_adjoint_to, view};
/// use nalgebra::DMatrix;
/// let g = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// from_diagonal_adjoint_to(&mut out, false, view(&g));
/// assert_eq!(out.as_slice(), &[1.0, 4.0]);
/// from_diagonal_adjoint_to(&mut out, true, view(&g));
/// assert_eq!(out.as_slice(), &[2.0, 8.0]);
/// ```
pub fn from_diagonal_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    let n = g.nrows().min(g.ncols());
    ready(out, acc, n, 1, "from_diagonal_adjoint_to");
    for (i, o) in out.iter_mut().enumerate() {
        *o = if acc { *o + g[(i, i)] } else { g[(i, i)] };
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

/// Whether the block of `shape` at `start` lies within a matrix of shape `of`
/// (nalgebra's condition: an empty block may start one past the end).
fn fits(start: (usize, usize), shape: (usize, usize), of: (usize, usize)) -> bool {
    let end = |s: usize, n: usize, m: usize| s.checked_add(n).is_some_and(|e| e <= m);
    end(start.0, shape.0, of.0) && end(start.1, shape.1, of.1)
}

/// `out = a[start.., shape]`, the block of `a` with `shape` at `start` (the forward
/// kernels below, once their block fits).
fn block_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    start: (usize, usize),
    shape: (usize, usize),
) {
    prepare(out, shape.0, shape.1);
    out.copy_from(&a.view(start, shape));
}

/// `out (+)= g` placed at `start` in a matrix shaped like `a`, zero elsewhere: one
/// zero fill when overwriting, then the block only (the adjoint kernels below).
fn block_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    start: (usize, usize),
    what: &str,
) {
    assert!(
        fits(start, g.shape(), a.shape()),
        "matgrad: {what}: a {} block cannot start at ({}, {}) of a {} matrix",
        Shape(g.nrows(), g.ncols()),
        start.0,
        start.1,
        Shape(a.nrows(), a.ncols()),
    );
    ready(out, acc, a.nrows(), a.ncols(), what);
    if !acc {
        out.fill(T::zero());
    }
    let mut block = out.view_mut(start, g.shape());
    block += g;
}

/// `out = e_iᵀ a`, row `i` of `a` as a `1×n` row.
///
/// Panics `matgrad: {op}: row {i} is out of range for a {r}×{c} matrix` (nalgebra's
/// `row(i)` panics there too).
///
/// ```
/// use matgrad_runtime::__private::{row_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// row_to(&mut out, view(&a), 1, "a.row(1)");
/// assert_eq!(out, a.row(1).into_owned());
/// ```
pub fn row_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, i: usize, op: &str) {
    assert!(
        i < a.nrows(),
        "matgrad: {op}: row {i} is out of range for a {} matrix",
        Shape(a.nrows(), a.ncols()),
    );
    block_to(out, a, (i, 0), (1, a.ncols()));
}

/// `out (+)= e_i g`: the `1×n` row `g` in row `i` of a matrix shaped like `a`, zero
/// elsewhere (the adjoint of [`row_to`]; `a` gives only the shape).
///
/// ```
/// use matgrad_runtime::__private::{row_adjoint_to, view};
/// use nalgebra::{DMatrix, RowDVector};
/// let a = DMatrix::<f64>::zeros(2, 3);
/// let g = RowDVector::from_vec(vec![1.0, 2.0, 3.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// row_adjoint_to(&mut out, false, view(&g), view(&a), 1);
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 0.0, 1.0, 2.0, 3.0]));
/// row_adjoint_to(&mut out, true, view(&g), view(&a), 0);
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]));
/// ```
pub fn row_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    i: usize,
) {
    block_adjoint_to(out, acc, g, a, (i, 0), "row_adjoint_to");
}

/// `out = a[i..i + n, :]`, rows `i..i + n` of `a` as an `n×cols` block.
///
/// Panics `matgrad: {op}: rows {i}..{i + n} are out of range for a {r}×{c} matrix`
/// (nalgebra's `rows(i, n)` panics there too).
///
/// ```
/// use matgrad_runtime::__private::{rows_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// rows_to(&mut out, view(&a), 1, 2, "a.rows(1, 2)");
/// assert_eq!(out, a.rows(1, 2).into_owned());
/// ```
pub fn rows_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, i: usize, n: usize, op: &str) {
    assert!(
        fits((i, 0), (n, 0), a.shape()),
        "matgrad: {op}: rows {i}..{} are out of range for a {} matrix",
        i.saturating_add(n),
        Shape(a.nrows(), a.ncols()),
    );
    block_to(out, a, (i, 0), (n, a.ncols()));
}

/// `out (+)= g` placed in rows `i..i + n` of a matrix shaped like `a`, zero elsewhere
/// (the adjoint of [`rows_to`]; `a` gives only the shape, `g` is `n×cols`).
///
/// ```
/// use matgrad_runtime::__private::{rows_adjoint_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::<f64>::zeros(3, 2);
/// let g = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// rows_adjoint_to(&mut out, false, view(&g), view(&a), 1, 2);
/// assert_eq!(out, DMatrix::from_row_slice(3, 2, &[0.0, 0.0, 1.0, 2.0, 3.0, 4.0]));
/// ```
pub fn rows_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    i: usize,
    n: usize,
) {
    assert_eq!(
        g.nrows(),
        n,
        "matgrad: rows_adjoint_to: a {}-row adjoint for {n} rows",
        g.nrows()
    );
    block_adjoint_to(out, acc, g, a, (i, 0), "rows_adjoint_to");
}

/// `out = a[:, j..j + n]`, columns `j..j + n` of `a` as an `rows×n` block.
///
/// Panics `matgrad: {op}: columns {j}..{j + n} are out of range for a {r}×{c} matrix`
/// (nalgebra's `columns(j, n)` panics there too).
///
/// ```
/// use matgrad_runtime::__private::{columns_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// columns_to(&mut out, view(&a), 1, 2, "a.columns(1, 2)");
/// assert_eq!(out, a.columns(1, 2).into_owned());
/// ```
pub fn columns_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    j: usize,
    n: usize,
    op: &str,
) {
    assert!(
        fits((0, j), (0, n), a.shape()),
        "matgrad: {op}: columns {j}..{} are out of range for a {} matrix",
        j.saturating_add(n),
        Shape(a.nrows(), a.ncols()),
    );
    block_to(out, a, (0, j), (a.nrows(), n));
}

/// `out (+)= g` placed in columns `j..j + n` of a matrix shaped like `a`, zero
/// elsewhere (the adjoint of [`columns_to`]; `a` gives only the shape, `g` is
/// `rows×n`).
///
/// ```
/// use matgrad_runtime::__private::{columns_adjoint_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::<f64>::zeros(2, 3);
/// let g = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// columns_adjoint_to(&mut out, false, view(&g), view(&a), 0, 2);
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 0.0, 3.0, 4.0, 0.0]));
/// columns_adjoint_to(&mut out, true, view(&g), view(&a), 1, 2);
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[1.0, 3.0, 2.0, 3.0, 7.0, 4.0]));
/// ```
pub fn columns_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    j: usize,
    n: usize,
) {
    assert_eq!(
        g.ncols(),
        n,
        "matgrad: columns_adjoint_to: a {}-column adjoint for {n} columns",
        g.ncols()
    );
    block_adjoint_to(out, acc, g, a, (0, j), "columns_adjoint_to");
}

/// `out = a.view((i, j), (r, c))`, the `r×c` block of `a` at `(i, j)`, copied.
///
/// Panics `matgrad: {op}: the r×c block at (i, j) is out of range for a {rows}×{cols}
/// matrix` (nalgebra's `view` panics there too).
///
/// ```
/// use matgrad_runtime::__private::{view, view_to};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(3, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// view_to(&mut out, view(&a), (1, 1), (2, 2), "a.view((1, 1), (2, 2))");
/// assert_eq!(out, DMatrix::from(a.view((1, 1), (2, 2))));
/// ```
pub fn view_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    start: (usize, usize),
    shape: (usize, usize),
    op: &str,
) {
    assert!(
        fits(start, shape, a.shape()),
        "matgrad: {op}: the {} block at ({}, {}) is out of range for a {} matrix",
        Shape(shape.0, shape.1),
        start.0,
        start.1,
        Shape(a.nrows(), a.ncols()),
    );
    block_to(out, a, start, shape);
}

/// `out (+)= g` placed at `(i, j)` in a matrix shaped like `a`, zero elsewhere (the
/// adjoint of [`view_to`]; `a` gives only the shape).
///
/// ```
/// use matgrad_runtime::__private::{view, view_adjoint_to};
/// use nalgebra::DMatrix;
/// let (a, g) = (DMatrix::<f64>::zeros(2, 3), DMatrix::from_element(1, 2, 5.0));
/// let mut out = DMatrix::zeros(0, 0);
/// view_adjoint_to(&mut out, false, view(&g), view(&a), 1, 1);
/// assert_eq!(out, DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 0.0, 0.0, 5.0, 5.0]));
/// ```
pub fn view_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
    i: usize,
    j: usize,
) {
    block_adjoint_to(out, acc, g, a, (i, j), "view_adjoint_to");
}

/// `out (+)= lower(a)`: `a` with the entries above the diagonal zero (nalgebra's
/// `lower_triangle()`, any shape). Its own adjoint: `ā += lower(Ḡ)`.
///
/// ```
/// use matgrad_runtime::__private::{lower_triangle_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// lower_triangle_to(&mut out, false, view(&a));
/// assert_eq!(out, a.lower_triangle());
/// ```
pub fn lower_triangle_to<T: Real>(out: &mut DMatrix<T>, acc: bool, a: DMatrixView<'_, T>) {
    triangle_to(out, acc, a, true);
}

/// `out (+)= upper(a)`: `a` with the entries below the diagonal zero (nalgebra's
/// `upper_triangle()`, any shape). Its own adjoint: `ā += upper(Ḡ)`.
///
/// ```
/// use matgrad_runtime::__private::{upper_triangle_to, view};
/// use nalgebra::DMatrix;
/// let a = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = DMatrix::zeros(0, 0);
/// upper_triangle_to(&mut out, false, view(&a));
/// assert_eq!(out, a.upper_triangle());
/// upper_triangle_to(&mut out, true, view(&a));
/// assert_eq!(out, a.upper_triangle() * 2.0);
/// ```
pub fn upper_triangle_to<T: Real>(out: &mut DMatrix<T>, acc: bool, a: DMatrixView<'_, T>) {
    triangle_to(out, acc, a, false);
}

/// The lower (`lower`) or upper triangle of `a`, diagonal included, written or added.
fn triangle_to<T: Real>(out: &mut DMatrix<T>, acc: bool, a: DMatrixView<'_, T>, lower: bool) {
    let (rows, cols) = a.shape();
    ready(out, acc, rows, cols, "triangle_to");
    for j in 0..cols {
        for i in 0..rows {
            let keep = if lower { i >= j } else { i <= j };
            let x = if keep { a[(i, j)] } else { T::zero() };
            if acc {
                out[(i, j)] += x;
            } else {
                out[(i, j)] = x;
            }
        }
    }
}

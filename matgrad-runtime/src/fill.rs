//! Constant patterns, written without a product: the adjoints `s 𝟙` (of a sum),
//! `s I` (of a trace) and `s e_i e_jᵀ` (of an entry), and the constructors
//! `DMatrix::identity` and `DMatrix::from_element` (`fill_to`). Re-exported by
//! [`crate::__private`]; not a stable API.

use crate::kernel::{ready, Shape};
use crate::Real;
use nalgebra::DMatrix;

/// `out (+)= s · 1` (a `rows×cols` matrix of `s`).
pub fn fill_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, rows: usize, cols: usize) {
    ready(out, acc, rows, cols, "fill_to");
    if acc {
        out.iter_mut().for_each(|o| *o += s);
    } else {
        out.fill(s);
    }
}

/// `out = I`, the `rows×cols` identity (ones on the main diagonal, as nalgebra's
/// `DMatrix::identity(rows, cols)`).
///
/// ```
/// use matgrad_runtime::__private::identity_to;
/// use nalgebra::DMatrix;
/// let mut out = DMatrix::zeros(0, 0);
/// identity_to(&mut out, 2, 3);
/// assert_eq!(out, DMatrix::<f64>::identity(2, 3));
/// ```
pub fn identity_to<T: Real>(out: &mut DMatrix<T>, rows: usize, cols: usize) {
    ready(out, false, rows, cols, "identity_to");
    out.fill(T::zero());
    out.fill_diagonal(T::one());
}

/// `out (+)= s · I` (`n×n`).
pub fn add_diag_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, n: usize) {
    ready(out, acc, n, n, "add_diag_to");
    if acc {
        (0..n).for_each(|i| out[(i, i)] += s);
    } else {
        out.fill(T::zero());
        out.fill_diagonal(s);
    }
}

/// `out (+)= s · e_i e_jᵀ` (`rows×cols`).
pub fn index_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    i: usize,
    j: usize,
    rows: usize,
    cols: usize,
) {
    assert!(
        i < rows && j < cols,
        "matgrad: index_adjoint_to: index ({i}, {j}) is out of range for a {} matrix",
        Shape(rows, cols),
    );
    ready(out, acc, rows, cols, "index_adjoint_to");
    if acc {
        out[(i, j)] += s;
    } else {
        out.fill(T::zero());
        out[(i, j)] = s;
    }
}

/// `out = M`, the `rows×cols` matrix whose entries are `entries` given row by row
/// (nalgebra's `Matrix2x3::new(..)` order), for a static `new` in a function on
/// dynamic sizes.
///
/// ```
/// use matgrad_runtime::__private::from_rows_to;
/// use nalgebra::{DMatrix, Matrix2x3};
/// let mut out = DMatrix::zeros(0, 0);
/// from_rows_to(&mut out, 2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(out.as_slice(), Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0).as_slice());
/// ```
pub fn from_rows_to<T: Real>(out: &mut DMatrix<T>, rows: usize, cols: usize, entries: &[T]) {
    ready(out, false, rows, cols, "from_rows_to");
    for (k, &v) in entries.iter().enumerate().take(rows * cols) {
        out[(k / cols, k % cols)] = v;
    }
}

//! Broadcasting additions: a row added to every row, a column added to every column.

use crate::kernel::{prepare, MatRef};
use crate::Real;
use nalgebra::{DMatrix, Dim, Matrix, RawStorage};

/// `out = m + 1 r` (the `1×n` row `r` added to every row of the `p×n` matrix `m`).
pub(crate) fn add_row_ref<T: Real>(
    out: &mut DMatrix<T>,
    m: MatRef<'_, T>,
    r: MatRef<'_, T>,
    op: &str,
) {
    assert!(
        r.nrows == 1 && r.ncols == m.ncols,
        "matgrad: {op}: cannot add a {} row to each row of a {} matrix",
        r.sh(),
        m.sh(),
    );
    prepare(out, m.nrows, m.ncols);
    let nrows = m.nrows;
    if nrows == 0 {
        return;
    }
    for (j, oc) in out.as_mut_slice().chunks_exact_mut(nrows).enumerate() {
        let rj = r.get(0, j);
        match m.col(j) {
            Some(mc) => oc.iter_mut().zip(mc).for_each(|(o, &x)| *o = x + rj),
            None => oc
                .iter_mut()
                .enumerate()
                .for_each(|(i, o)| *o = m.get(i, j) + rj),
        }
    }
}

/// `out = m + c 1ᵀ` (the `p×1` column `c` added to every column of the `p×n` matrix `m`).
pub(crate) fn add_col_ref<T: Real>(
    out: &mut DMatrix<T>,
    m: MatRef<'_, T>,
    c: MatRef<'_, T>,
    op: &str,
) {
    assert!(
        c.ncols == 1 && c.nrows == m.nrows,
        "matgrad: {op}: cannot add a {} column to each column of a {} matrix",
        c.sh(),
        m.sh(),
    );
    prepare(out, m.nrows, m.ncols);
    let nrows = m.nrows;
    if nrows == 0 {
        return;
    }
    let cc = c.col(0);
    for (j, oc) in out.as_mut_slice().chunks_exact_mut(nrows).enumerate() {
        match (m.col(j), cc) {
            (Some(mc), Some(cc)) => oc
                .iter_mut()
                .zip(mc.iter().zip(cc))
                .for_each(|(o, (&x, &y))| *o = x + y),
            _ => oc
                .iter_mut()
                .enumerate()
                .for_each(|(i, o)| *o = m.get(i, j) + c.get(i, 0)),
        }
    }
}

/// Computes `m + 1 r`: the row vector `r` (`1×n`) added to every row of `m` (`p×n`).
///
/// This is the row-broadcast addition of a bias to a batch whose rows are samples.
///
/// # Panics
///
/// Panics unless `r` is a single row as wide as `m`, with a message such as
/// `matgrad: add_row: cannot add a 1×3 row to each row of a 4×5 matrix`.
///
/// # Example
///
/// ```
/// use matgrad_runtime::add_row;
/// use nalgebra::{DMatrix, RowDVector};
///
/// let m = DMatrix::from_fn(4, 3, |i, j| (i * 3 + j) as f64);
/// let r = RowDVector::from_vec(vec![10.0, 20.0, 30.0]);
///
/// let expected = DMatrix::from_fn(4, 3, |i, j| m[(i, j)] + r[j]);
/// assert_eq!(add_row(&m, &r), expected);
/// ```
#[must_use]
pub fn add_row<T, R1, C1, S1, R2, C2, S2>(
    m: &Matrix<T, R1, C1, S1>,
    r: &Matrix<T, R2, C2, S2>,
) -> DMatrix<T>
where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
{
    let mut out = DMatrix::zeros(0, 0);
    add_row_ref(&mut out, MatRef::new(m), MatRef::new(r), "add_row");
    out
}

/// Computes `m + c 1ᵀ`: the column vector `c` (`p×1`) added to every column of `m`
/// (`p×n`).
///
/// # Panics
///
/// Panics unless `c` is a single column as tall as `m`, with a message such as
/// `matgrad: add_col: cannot add a 3×1 column to each column of a 4×5 matrix`.
///
/// # Example
///
/// ```
/// use matgrad_runtime::add_col;
/// use nalgebra::{DMatrix, DVector};
///
/// let m = DMatrix::from_fn(3, 4, |i, j| (i * 4 + j) as f64);
/// let c = DVector::from_vec(vec![10.0, 20.0, 30.0]);
///
/// let expected = DMatrix::from_fn(3, 4, |i, j| m[(i, j)] + c[i]);
/// assert_eq!(add_col(&m, &c), expected);
/// ```
#[must_use]
pub fn add_col<T, R1, C1, S1, R2, C2, S2>(
    m: &Matrix<T, R1, C1, S1>,
    c: &Matrix<T, R2, C2, S2>,
) -> DMatrix<T>
where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
{
    let mut out = DMatrix::zeros(0, 0);
    add_col_ref(&mut out, MatRef::new(m), MatRef::new(c), "add_col");
    out
}

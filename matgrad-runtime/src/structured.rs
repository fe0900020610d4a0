//! Structured Jacobians (`#[jacobian]`): the terms `s · diag(c) A`, `s · diag(c)` and
//! `s · c e_kᵀ` written straight into a Jacobian `J`, one pass over its entries (or
//! over one column), instead of one tangent sweep per column.
//!
//! `J` must already have its final shape (the generated code sizes it); `c` is a
//! column of `J.nrows()` entries (`None`: all ones).

use crate::real::Real;
use nalgebra::{DMatrix, DMatrixView};

/// Panics `matgrad: {op}: …` unless `c` is a column of `m` entries.
fn check_coef<T: Real>(c: Option<&DMatrixView<'_, T>>, m: usize, op: &str) {
    if let Some(c) = c {
        assert!(
            c.ncols() == 1 && c.nrows() == m,
            "matgrad: {op}: a row scale of {}×{} for a Jacobian of {m} rows",
            c.nrows(),
            c.ncols()
        );
    }
}

/// `J (+)= s · diag(c) A` (`acc`: add, else overwrite), `A` of `J`'s shape: each
/// column of `A` scaled entrywise by `c` and `s`, in one pass.
pub fn jac_rows_to<T: Real>(
    j: &mut DMatrix<T>,
    acc: bool,
    s: T,
    c: Option<DMatrixView<'_, T>>,
    a: DMatrixView<'_, T>,
    op: &str,
) {
    let (m, n) = j.shape();
    assert!(
        a.shape() == (m, n),
        "matgrad: {op}: a Jacobian of {m}×{n} from a matrix of {}×{}",
        a.nrows(),
        a.ncols()
    );
    check_coef(c.as_ref(), m, op);
    for k in 0..n {
        let (mut out, col) = (j.column_mut(k), a.column(k));
        match (&c, acc) {
            (Some(c), false) => {
                for ((o, &x), &d) in out.iter_mut().zip(col.iter()).zip(c.iter()) {
                    *o = s * d * x;
                }
            }
            (Some(c), true) => {
                for ((o, &x), &d) in out.iter_mut().zip(col.iter()).zip(c.iter()) {
                    *o += s * d * x;
                }
            }
            (None, false) => {
                for (o, &x) in out.iter_mut().zip(col.iter()) {
                    *o = s * x;
                }
            }
            (None, true) => {
                for (o, &x) in out.iter_mut().zip(col.iter()) {
                    *o += s * x;
                }
            }
        }
    }
}

/// `J (+)= s · diag(c)` (`acc`: add, else overwrite, zeros off the diagonal), `J`
/// square.
pub fn jac_diag_to<T: Real>(
    j: &mut DMatrix<T>,
    acc: bool,
    s: T,
    c: Option<DMatrixView<'_, T>>,
    op: &str,
) {
    let (m, n) = j.shape();
    assert!(
        m == n,
        "matgrad: {op}: the residuals ({m}) and the variable ({n}) differ in length"
    );
    check_coef(c.as_ref(), m, op);
    if !acc {
        j.fill(T::zero());
    }
    for i in 0..m {
        let d = c.as_ref().map_or(T::one(), |c| c[(i, 0)]);
        j[(i, i)] += s * d;
    }
}

/// `J[:, k] += s · c`: column `k` of `J` (panics `matgrad: {op}: …` past its last
/// column, as the index of the variable would).
pub fn jac_column_to<T: Real>(
    j: &mut DMatrix<T>,
    k: usize,
    s: T,
    c: Option<DMatrixView<'_, T>>,
    op: &str,
) {
    let (m, n) = j.shape();
    assert!(
        k < n,
        "matgrad: {op}: index {k} of a variable of {n} entries"
    );
    check_coef(c.as_ref(), m, op);
    let mut out = j.column_mut(k);
    match c {
        Some(c) => {
            for (o, &d) in out.iter_mut().zip(c.iter()) {
                *o += s * d;
            }
        }
        None => {
            for o in out.iter_mut() {
                *o += s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_against_dense_products() {
        let a = DMatrix::from_fn(4, 3, |i, k| (i * 3 + k) as f64 - 2.5);
        let c = DMatrix::from_fn(4, 1, |i, _| 0.5 + i as f64);
        let mut j = DMatrix::from_element(4, 3, 7.0);
        jac_rows_to(&mut j, false, 2.0, Some(c.as_view()), a.as_view(), "t");
        let want = DMatrix::from_diagonal(&c.column(0)) * &a * 2.0;
        assert_eq!(j, want);
        jac_column_to(&mut j, 1, -1.0, Some(c.as_view()), "t");
        let mut want2 = want.clone();
        for i in 0..4 {
            want2[(i, 1)] -= c[(i, 0)];
        }
        assert_eq!(j, want2);
        jac_rows_to(&mut j, true, 1.0, None, a.as_view(), "t");
        assert_eq!(j, &want2 + &a);
        let mut d = DMatrix::from_element(4, 4, 3.0);
        jac_diag_to(&mut d, false, 3.0, Some(c.as_view()), "t");
        assert_eq!(d, DMatrix::from_diagonal(&c.column(0)) * 3.0);
    }

    #[test]
    #[should_panic(expected = "index 3 of a variable of 3 entries")]
    fn a_column_past_the_end_panics() {
        let mut j = DMatrix::<f64>::zeros(2, 3);
        jac_column_to(&mut j, 3, 1.0, None, "p[3]");
    }
}

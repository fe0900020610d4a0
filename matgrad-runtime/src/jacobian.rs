//! Structured Jacobians (`#[jacobian]`): the terms `s · diag(c) A`, `s · diag(c)` and
//! `s · c e_kᵀ` written straight into a Jacobian `J`, one pass over its entries (or
//! over one column), instead of one tangent sweep per column; the columns no term
//! writes zeroed.
//!
//! `J` must already have its final shape (the generated code sizes it); `c` is a
//! column of `J.nrows()` entries (`None`: all ones).

use crate::kernel::MatRef;
use crate::real::Real;
use nalgebra::{DMatrix, DMatrixView};

/// The row scale `c` as a slice of `m` entries (copied into `buf` when strided),
/// or `None` for ones; panics `matgrad: {op}: …` unless `c` is a column of `m`
/// entries.
fn coef<'a, T: Real>(
    c: Option<&'a DMatrixView<'a, T>>,
    m: usize,
    op: &str,
    buf: &'a mut Vec<T>,
) -> Option<&'a [T]> {
    let c = c?;
    assert!(
        c.ncols() == 1 && c.nrows() == m,
        "matgrad: {op}: a row scale of {}×{} for a Jacobian of {m} rows",
        c.nrows(),
        c.ncols()
    );
    let r = MatRef::new(c);
    match r.as_slice() {
        Some(s) => Some(s),
        None => {
            buf.extend((0..m).map(|i| r.get(i, 0)));
            Some(buf.as_slice())
        }
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
    if m == 0 {
        return;
    }
    let mut buf = Vec::new();
    let c = coef(c.as_ref(), m, op, &mut buf);
    let a = MatRef::new(&a);
    let contiguous = a.as_slice();
    for (k, out) in j.as_mut_slice().chunks_exact_mut(m).enumerate() {
        let col: Option<&[T]> = contiguous.and_then(|x| x.get(k * m..(k + 1) * m));
        match (col, c, acc) {
            (Some(col), Some(c), false) => {
                for ((o, &x), &d) in out.iter_mut().zip(col).zip(c) {
                    *o = s * d * x;
                }
            }
            (Some(col), Some(c), true) => {
                for ((o, &x), &d) in out.iter_mut().zip(col).zip(c) {
                    *o += s * d * x;
                }
            }
            (Some(col), None, false) => {
                for (o, &x) in out.iter_mut().zip(col) {
                    *o = s * x;
                }
            }
            (Some(col), None, true) => {
                for (o, &x) in out.iter_mut().zip(col) {
                    *o += s * x;
                }
            }
            (None, c, acc) => {
                for (i, o) in out.iter_mut().enumerate() {
                    let d = c.map_or(T::one(), |c| c[i]);
                    let v = s * d * a.get(i, k);
                    *o = if acc { *o + v } else { v };
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
    let mut buf = Vec::new();
    let c = coef(c.as_ref(), m, op, &mut buf);
    if !acc {
        j.fill(T::zero());
    }
    for i in 0..m {
        let d = c.map_or(T::one(), |c| c[i]);
        j[(i, i)] += s * d;
    }
}

/// Zeroes the columns of `J` not in `keep` (the columns the terms `c e_kᵀ` write).
pub fn jac_zero_columns_except<T: Real>(j: &mut DMatrix<T>, keep: &[usize]) {
    let m = j.nrows();
    if m == 0 {
        return;
    }
    for (k, col) in j.as_mut_slice().chunks_exact_mut(m).enumerate() {
        if !keep.contains(&k) {
            col.fill(T::zero());
        }
    }
}

/// `J[:, k] (+)= s · c` (`acc`: add, else overwrite): column `k` of `J` (panics
/// `matgrad: {op}: …` past its last column, as the index of the variable would).
pub fn jac_column_to<T: Real>(
    j: &mut DMatrix<T>,
    acc: bool,
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
    let mut buf = Vec::new();
    let c = coef(c.as_ref(), m, op, &mut buf);
    let Some(out) = j.as_mut_slice().chunks_exact_mut(m.max(1)).nth(k) else {
        return;
    };
    match (c, acc) {
        (Some(c), true) => {
            for (o, &d) in out.iter_mut().zip(c) {
                *o += s * d;
            }
        }
        (Some(c), false) => {
            for (o, &d) in out.iter_mut().zip(c) {
                *o = s * d;
            }
        }
        (None, true) => {
            for o in out.iter_mut() {
                *o += s;
            }
        }
        (None, false) => out.fill(s),
    }
}

/// Column `k` of `J` as a column of `m` entries; panics `matgrad: {op}: …` past
/// its last column.
fn column_mut<'a, T: Real>(j: &'a mut DMatrix<T>, k: usize, op: &str) -> &'a mut [T] {
    let (m, n) = j.shape();
    assert!(
        k < n,
        "matgrad: {op}: index {k} of a variable of {n} entries"
    );
    let start = k * m;
    j.as_mut_slice()
        .get_mut(start..start + m)
        .unwrap_or(&mut [])
}

/// `J[:, k] (+)= s · f(a)` entrywise (`acc`: add, else overwrite): a coefficient
/// computed straight into its column, `a` a column of `J.nrows()` entries.
pub fn jac_column_map_to<T: Real, F: Fn(T) -> T>(
    j: &mut DMatrix<T>,
    acc: bool,
    k: usize,
    s: T,
    a: DMatrixView<'_, T>,
    f: F,
    op: &str,
) {
    let m = j.nrows();
    let mut buf = Vec::new();
    let a = coef(Some(&a), m, op, &mut buf).unwrap_or(&[]);
    let out = column_mut(j, k, op);
    if acc {
        for (o, &x) in out.iter_mut().zip(a) {
            *o += s * f(x);
        }
    } else {
        for (o, &x) in out.iter_mut().zip(a) {
            *o = s * f(x);
        }
    }
}

/// `J[:, k] (+)= s · f(a, b)` entrywise (`acc`: add, else overwrite), `a` and `b`
/// columns of `J.nrows()` entries.
// The kernels' convention (out, acc, …, op), as in `__private`.
#[allow(clippy::too_many_arguments)]
pub fn jac_column_zip_to<T: Real, F: Fn(T, T) -> T>(
    j: &mut DMatrix<T>,
    acc: bool,
    k: usize,
    s: T,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    f: F,
    op: &str,
) {
    let m = j.nrows();
    let (mut ba, mut bb) = (Vec::new(), Vec::new());
    let a = coef(Some(&a), m, op, &mut ba).unwrap_or(&[]);
    let b = coef(Some(&b), m, op, &mut bb).unwrap_or(&[]);
    let out = column_mut(j, k, op);
    if acc {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o += s * f(x, y);
        }
    } else {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = s * f(x, y);
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
        jac_column_to(&mut j, true, 1, -1.0, Some(c.as_view()), "t");
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

    /// Strided views (rows of a larger matrix) take the same values as contiguous
    /// ones.
    #[test]
    fn strided_views() {
        let big = DMatrix::from_fn(6, 3, |i, k| (i * 3 + k) as f64 * 0.5 - 2.0);
        let cbig = DMatrix::from_fn(6, 2, |i, k| 1.0 + i as f64 + k as f64);
        let (a, c) = (big.rows(1, 4), cbig.view((1, 1), (4, 1)));
        let (a_own, c_own) = (a.into_owned(), c.into_owned());
        let (mut j1, mut j2) = (DMatrix::zeros(4, 3), DMatrix::zeros(4, 3));
        jac_rows_to(&mut j1, false, -1.5, Some(c), a, "t");
        jac_rows_to(
            &mut j2,
            false,
            -1.5,
            Some(c_own.as_view()),
            a_own.as_view(),
            "t",
        );
        assert_eq!(j1, j2);
        assert_eq!(j1, DMatrix::from_diagonal(&c_own.column(0)) * &a_own * -1.5);
        jac_column_to(&mut j1, true, 2, 2.0, Some(c), "t");
        jac_column_to(&mut j2, true, 2, 2.0, Some(c_own.as_view()), "t");
        assert_eq!(j1, j2);
        assert_ne!(j1, DMatrix::from_diagonal(&c_own.column(0)) * &a_own * -1.5);
    }

    /// Columns overwritten, the others zeroed: `J = c e₁ᵀ + 2 e₃ᵀ`.
    #[test]
    fn columns_only() {
        let c = DMatrix::from_fn(3, 1, |i, _| i as f64 + 1.0);
        let mut j = DMatrix::from_element(3, 4, 9.0);
        jac_zero_columns_except(&mut j, &[1, 3]);
        jac_column_to(&mut j, false, 1, 1.0, Some(c.as_view()), "t");
        jac_column_to(&mut j, false, 3, 2.0, None, "t");
        let want = DMatrix::from_fn(3, 4, |i, k| match k {
            1 => c[(i, 0)],
            3 => 2.0,
            _ => 0.0,
        });
        assert_eq!(j, want);
    }

    /// Coefficients computed into their columns: `J[:, 0] = 2 exp(a)`, then
    /// `J[:, 0] += a b`.
    #[test]
    fn coefficients_into_columns() {
        let a = DMatrix::from_fn(3, 1, |i, _| i as f64 - 1.0);
        let b = DMatrix::from_fn(3, 1, |i, _| 2.0 + i as f64);
        let mut j = DMatrix::from_element(3, 2, 5.0);
        jac_column_map_to(&mut j, false, 0, 2.0, a.as_view(), |x: f64| x.exp(), "t");
        jac_column_zip_to(
            &mut j,
            true,
            0,
            1.0,
            a.as_view(),
            b.as_view(),
            |x, y| x * y,
            "t",
        );
        for i in 0..3 {
            assert_eq!(j[(i, 0)], 2.0 * a[(i, 0)].exp() + a[(i, 0)] * b[(i, 0)]);
            assert_eq!(j[(i, 1)], 5.0);
        }
    }

    #[test]
    #[should_panic(expected = "index 3 of a variable of 3 entries")]
    fn a_column_past_the_end_panics() {
        let mut j = DMatrix::<f64>::zeros(2, 3);
        jac_column_to(&mut j, true, 3, 1.0, None, "p[3]");
    }
}

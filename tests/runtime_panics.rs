//! Runtime behaviour (SPEC §6): `NAME_grad` panics where `NAME` panics, with a
//! message naming the operation (the user's own source text) and the shapes; it does
//! not panic where `NAME` does not; NaN and infinity propagate as in `NAME`, nothing
//! clamped.
//!
//! Each panic is tested twice: the original panics (nalgebra's message, or the
//! runtime function's own), and the companion panics with matgrad's. A runtime
//! function (`add_row`, `softmax_cross_entropy`) names itself in the original; the
//! companion names the whole call as written, so a loss with two `add_row`s says
//! which one failed.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad::{add_row, grad, softmax_cross_entropy, Workspace};
use nalgebra::{DMatrix, DVector, RowDVector};

#[allow(clippy::cast_precision_loss)]
fn m(rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| 0.1 * (i * cols + j) as f64 + 0.3)
}

// ---------------------------------------------------------------------------
// Shape mismatches
// ---------------------------------------------------------------------------

#[grad(wrt = w)]
fn product(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.norm_squared()
}

#[test]
#[should_panic = "dimensions mismatch"]
fn original_panics_on_a_mismatched_product() {
    let _ = product(&m(3, 4), &m(5, 2));
}

#[test]
#[should_panic = "matgrad: x * w: cannot multiply 3×4 by 5×2"]
fn grad_panics_on_a_mismatched_product() {
    let _ = product_grad(&m(3, 4), &m(5, 2));
}

#[test]
#[should_panic = "matgrad: x * w: cannot multiply 3×4 by 5×2"]
fn grad_into_panics_on_a_mismatched_product() {
    let mut dw = DMatrix::zeros(0, 0);
    let _ = product_grad_into(&m(3, 4), &m(5, 2), &mut dw, &mut Workspace::new());
}

#[test]
#[should_panic = "matgrad: x * w: cannot multiply 3×4 by 5×2"]
fn grad_into_panics_after_a_call_with_other_shapes() {
    // The workspace holds buffers of the first call's shapes: they do not hide the check.
    let (mut dw, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
    let _ = product_grad_into(&m(3, 4), &m(4, 2), &mut dw, &mut ws);
    let _ = product_grad_into(&m(3, 4), &m(5, 2), &mut dw, &mut ws);
}

#[grad(wrt = (a, b))]
fn sum(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a + b).sum()
}

#[test]
#[should_panic = "Matrix addition/subtraction dimensions mismatch"]
fn original_panics_on_a_mismatched_sum() {
    let _ = sum(&m(2, 3), &m(3, 2));
}

#[test]
#[should_panic = "matgrad: a + b: cannot add 2×3 and 3×2"]
fn grad_panics_on_a_mismatched_sum() {
    let _ = sum_grad(&m(2, 3), &m(3, 2));
}

#[grad(wrt = a)]
fn difference(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let d = a - b;
    d.norm()
}

#[test]
#[should_panic = "Matrix addition/subtraction dimensions mismatch"]
fn original_panics_on_a_mismatched_difference() {
    let _ = difference(&m(2, 3), &m(2, 2));
}

#[test]
#[should_panic = "matgrad: a - b: cannot subtract 2×2 from 2×3"]
fn grad_panics_on_a_mismatched_difference() {
    let _ = difference_grad(&m(2, 3), &m(2, 2));
}

#[grad(wrt = (x, b))]
fn layer(x: &DMatrix<f64>, b: &RowDVector<f64>) -> f64 {
    add_row(x, b).norm_squared()
}

#[test]
#[should_panic = "matgrad: add_row: cannot add a 1×3 row to each row of a 4×5 matrix"]
fn original_panics_on_add_row_with_a_wrong_length_row() {
    let _ = layer(&m(4, 5), &RowDVector::from_element(3, 1.0));
}

#[test]
#[should_panic = "matgrad: add_row(x, b): cannot add a 1×3 row to each row of a 4×5 matrix"]
fn grad_panics_on_add_row_with_a_wrong_length_row() {
    let _ = layer_grad(&m(4, 5), &RowDVector::from_element(3, 1.0));
}

#[grad(wrt = (a, b))]
fn entrywise(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    a.component_mul(b).sum()
}

#[test]
#[should_panic]
fn original_panics_on_a_mismatched_entrywise_product() {
    let _ = entrywise(&m(2, 3), &m(3, 3));
}

#[test]
#[should_panic = "matgrad: a.component_mul(b): cannot multiply entrywise 2×3 and 3×3"]
fn grad_panics_on_a_mismatched_entrywise_product() {
    let _ = entrywise_grad(&m(2, 3), &m(3, 3));
}

#[grad(wrt = (a, b))]
fn inner(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    a.dot(b)
}

#[test]
#[should_panic = "Dot product dimensions mismatch"]
fn original_panics_on_a_mismatched_dot_product() {
    let _ = inner(&DVector::zeros(3), &DVector::zeros(4));
}

#[test]
#[should_panic = "matgrad: a.dot(b): cannot take the dot product of 3×1 and 4×1"]
fn grad_panics_on_a_mismatched_dot_product() {
    let _ = inner_grad(&DVector::zeros(3), &DVector::zeros(4));
}

#[grad(wrt = a)]
fn corner(a: &DMatrix<f64>) -> f64 {
    (a * a.transpose())[(2, 0)]
}

#[test]
#[should_panic = "Matrix index out of bounds"]
fn original_panics_on_an_index_out_of_range() {
    let _ = corner(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: (a * a.transpose())[(2, 0)]: index (2, 0) is out of range for a 2×2 matrix"]
fn grad_panics_on_an_index_out_of_range() {
    let _ = corner_grad(&m(2, 3));
}

#[grad(wrt = a)]
fn trace(a: &DMatrix<f64>) -> f64 {
    a.trace()
}

#[test]
#[should_panic = "Cannot compute the trace of non-square matrix"]
fn original_panics_on_the_trace_of_a_non_square_matrix() {
    let _ = trace(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.trace(): cannot take the trace of a 2×3 matrix"]
fn grad_panics_on_the_trace_of_a_non_square_matrix() {
    let _ = trace_grad(&m(2, 3));
}

#[grad(wrt = z)]
fn classify(z: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    softmax_cross_entropy(z, y)
}

#[test]
#[should_panic = "matgrad: softmax_cross_entropy: cannot compare 4×3 scores with 4×2 targets"]
fn original_panics_on_mismatched_scores_and_targets() {
    let _ = classify(&m(4, 3), &m(4, 2));
}

#[test]
#[should_panic = "matgrad: softmax_cross_entropy(z, y): cannot compare 4×3 scores with 4×2 targets"]
fn grad_panics_on_mismatched_scores_and_targets() {
    let _ = classify_grad(&m(4, 3), &m(4, 2));
}

// ---------------------------------------------------------------------------
// Singular inverses
// ---------------------------------------------------------------------------

fn singular() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 1.0, 1.0])
}

#[grad(wrt = a)]
fn inverse_unwrap(a: &DMatrix<f64>) -> f64 {
    let i = a.clone().try_inverse().unwrap();
    i.sum()
}

#[test]
#[should_panic = "called `Option::unwrap()` on a `None` value"]
fn original_panics_on_the_unwrap_of_a_singular_inverse() {
    let _ = inverse_unwrap(&singular());
}

#[test]
#[should_panic = "matgrad: a.clone().try_inverse().unwrap(): the matrix is singular"]
fn grad_panics_on_the_unwrap_of_a_singular_inverse() {
    let _ = inverse_unwrap_grad(&singular());
}

#[grad(wrt = a)]
fn inverse_expect(a: &DMatrix<f64>) -> f64 {
    let i = a.clone().try_inverse().expect("the covariance is singular");
    i.trace()
}

#[test]
#[should_panic = "the covariance is singular"]
fn original_panics_with_the_message_of_expect() {
    let _ = inverse_expect(&singular());
}

#[test]
#[should_panic = "the covariance is singular"]
fn grad_panics_with_the_message_of_expect() {
    let _ = inverse_expect_grad(&singular());
}

/// Under `reassociate` the inverse, used only in a product, is an LU factorisation
/// and a solve: it panics where `try_inverse` would, with the same message.
#[grad(wrt = a, reassociate)]
fn solve_unwrap(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a.clone().try_inverse().unwrap() * b).sum()
}

#[test]
#[should_panic = "called `Option::unwrap()` on a `None` value"]
fn original_panics_on_the_unwrap_of_a_singular_matrix_solved() {
    let _ = solve_unwrap(&singular(), &m(3, 2));
}

#[test]
#[should_panic = "matgrad: a.clone().try_inverse().unwrap(): the matrix is singular (called unwrap on None)"]
fn grad_panics_on_the_unwrap_of_a_singular_matrix_solved() {
    let _ = solve_unwrap_grad(&singular(), &m(3, 2));
}

#[grad(wrt = (a, b), reassociate)]
fn solve_expect(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (b * a.clone().try_inverse().expect("the covariance is singular")).norm()
}

#[test]
#[should_panic = "the covariance is singular"]
fn grad_panics_with_the_message_of_expect_when_solving() {
    let _ = solve_expect_grad(&singular(), &m(2, 3));
}

#[test]
fn a_regular_inverse_does_not_panic() {
    let a = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 3.0]);
    assert_eq!(inverse_expect_grad(&a).0, inverse_expect(&a));
}

// ---------------------------------------------------------------------------
// No panic where the original has none
// ---------------------------------------------------------------------------

#[grad(wrt = (x, w))]
fn empty(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.map(|v| v.tanh()).sum() + z.norm_squared() + w.mean()
}

#[test]
fn empty_matrices_give_empty_gradients() {
    let (x, w) = (DMatrix::zeros(0, 3), m(3, 2));
    let (v, dx, dw) = empty_grad(&x, &w);
    assert_eq!(v.to_bits(), empty(&x, &w).to_bits());
    assert_eq!(dx.shape(), (0, 3));
    assert_eq!(dw.shape(), (3, 2));
    assert_eq!(dw, DMatrix::from_element(3, 2, 1.0 / 6.0));

    let (x, w) = (m(2, 0), DMatrix::zeros(0, 2));
    let (v, dx, dw) = empty_grad(&x, &w);
    assert_eq!(v.to_bits(), empty(&x, &w).to_bits());
    assert_eq!((dx.shape(), dw.shape()), ((2, 0), (0, 2)));
}

// ---------------------------------------------------------------------------
// NaN and infinity
// ---------------------------------------------------------------------------

#[grad(wrt = w)]
fn tanh_layer(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}

/// `∂/∂w ‖tanh(x w) − y‖² = xᵀ (2 (a − y) ⊙ (1 − a²))`, computed directly.
fn tanh_layer_gradient(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> DMatrix<f64> {
    let a = (x * w).map(f64::tanh);
    x.transpose() * (2.0 * (&a - y)).component_mul(&a.map(|v| 1.0 - v * v))
}

#[test]
fn a_nan_input_gives_nan_exactly_where_the_gradient_is_nan() {
    let (x, w) = (m(4, 3), m(3, 2) * 0.1);
    let mut y = DMatrix::from_element(4, 2, 0.5);
    y[(1, 0)] = f64::NAN;
    let (value, dw) = tanh_layer_grad(&x, &w, &y);
    assert!(value.is_nan() && tanh_layer(&x, &w, &y).is_nan());
    let expected = tanh_layer_gradient(&x, &w, &y);
    // Column 0 of the residual holds the NaN: column 0 of ∂f/∂w is NaN, column 1 is not.
    for ((i, j), (&g, &e)) in (0..3)
        .flat_map(|i| (0..2).map(move |j| (i, j)))
        .zip(dw.transpose().iter().zip(expected.transpose().iter()))
    {
        assert_eq!(g.is_nan(), j == 0, "∂f/∂w[({i}, {j})] = {g}");
        assert_eq!(e.is_nan(), j == 0);
        if j == 1 {
            assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
        }
    }
}

#[test]
fn a_nan_in_a_wrt_variable_makes_everything_nan() {
    let (x, y) = (m(4, 3), DMatrix::from_element(4, 2, 0.5));
    let mut w = m(3, 2) * 0.1;
    w[(2, 1)] = f64::NAN;
    let (value, dw) = tanh_layer_grad(&x, &w, &y);
    assert!(value.is_nan());
    let expected = tanh_layer_gradient(&x, &w, &y);
    for (g, e) in dw.iter().zip(expected.iter()) {
        assert_eq!(g.is_nan(), e.is_nan(), "{dw} vs {expected}");
    }
}

#[grad(wrt = x)]
fn log_sum(x: &DMatrix<f64>) -> f64 {
    x.map(|v| v.ln()).sum()
}

#[test]
fn ln_of_zero_gives_minus_infinity_and_an_infinite_gradient() {
    let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 2.0, 4.0]);
    let (value, dx) = log_sum_grad(&x);
    assert_eq!(value, f64::NEG_INFINITY);
    assert_eq!(log_sum(&x), f64::NEG_INFINITY);
    // ∂/∂x Σ ln x = 1/x: +∞ at the zero, not clamped to a large finite number.
    assert_eq!(dx[(0, 1)], f64::INFINITY);
    assert_eq!((dx[(0, 0)], dx[(1, 0)], dx[(1, 1)]), (1.0, 0.5, 0.25));
}

#[grad(wrt = (s, a))]
fn scalar_logs(s: f64, a: &DMatrix<f64>) -> f64 {
    s.ln() + a.map(|v| v.sqrt()).sum()
}

#[test]
fn scalar_ln_and_sqrt_at_zero_are_not_clamped() {
    let a = DMatrix::from_row_slice(1, 2, &[0.0, 4.0]);
    let (value, ds, da) = scalar_logs_grad(0.0, &a);
    assert_eq!(value, f64::NEG_INFINITY);
    assert_eq!(value, scalar_logs(0.0, &a));
    assert_eq!(ds, f64::INFINITY);
    // ∂/∂a √a = 1/(2√a): +∞ at 0, ¼ at 4.
    assert_eq!(da[(0, 0)], f64::INFINITY);
    assert_eq!(da[(0, 1)], 0.25);
}

#[test]
fn infinite_inputs_propagate() {
    let x = DMatrix::from_row_slice(1, 2, &[f64::INFINITY, 1.0]);
    let (value, dx) = log_sum_grad(&x);
    assert_eq!(value, f64::INFINITY);
    assert_eq!(value, log_sum(&x));
    assert_eq!((dx[(0, 0)], dx[(0, 1)]), (0.0, 1.0));
}

// ---------------------------------------------------------------------------
// Parts of a matrix
// ---------------------------------------------------------------------------

#[grad(wrt = a)]
fn diagonal(a: &DMatrix<f64>) -> f64 {
    a.diagonal().norm_squared()
}

#[test]
#[should_panic = "Unable to get the diagonal of a non-square matrix"]
fn original_panics_on_the_diagonal_of_a_non_square_matrix() {
    let _ = diagonal(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.diagonal(): cannot take the diagonal of a 2×3 matrix"]
fn grad_panics_on_the_diagonal_of_a_non_square_matrix() {
    let _ = diagonal_grad(&m(2, 3));
}

#[grad(wrt = a)]
fn last_column(a: &DMatrix<f64>) -> f64 {
    a.column(a.ncols() + 1).norm_squared()
}

#[test]
#[should_panic = "Matrix slicing out of bounds"]
fn original_panics_on_a_column_out_of_range() {
    let _ = last_column(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.column(a.ncols() + 1): column 4 is out of range for a 2×3 matrix"]
fn grad_panics_on_a_column_out_of_range() {
    let _ = last_column_grad(&m(2, 3));
}

#[grad(wrt = a)]
fn past_the_last_row(a: &DMatrix<f64>) -> f64 {
    a.row(a.nrows()).norm_squared()
}

#[test]
#[should_panic = "Matrix slicing out of bounds"]
fn original_panics_on_a_row_out_of_range() {
    let _ = past_the_last_row(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.row(a.nrows()): row 2 is out of range for a 2×3 matrix"]
fn grad_panics_on_a_row_out_of_range() {
    let _ = past_the_last_row_grad(&m(2, 3));
}

#[grad(wrt = a)]
fn rows_past_the_end(a: &DMatrix<f64>) -> f64 {
    a.rows(1, a.nrows()).sum()
}

#[test]
#[should_panic = "Matrix slicing out of bounds"]
fn original_panics_on_rows_out_of_range() {
    let _ = rows_past_the_end(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.rows(1, a.nrows()): rows 1..3 are out of range for a 2×3 matrix"]
fn grad_panics_on_rows_out_of_range() {
    let _ = rows_past_the_end_grad(&m(2, 3));
}

#[grad(wrt = a)]
fn columns_past_the_end(a: &DMatrix<f64>) -> f64 {
    a.columns(a.ncols() - 1, 2).sum()
}

#[test]
#[should_panic = "Matrix slicing out of bounds"]
fn original_panics_on_columns_out_of_range() {
    let _ = columns_past_the_end(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.columns(a.ncols() - 1, 2): columns 2..4 are out of range for a 2×3 matrix"]
fn grad_panics_on_columns_out_of_range() {
    let _ = columns_past_the_end_grad(&m(2, 3));
}

#[grad(wrt = a)]
fn block(a: &DMatrix<f64>) -> f64 {
    a.view((1, 1), (2, 2)).sum()
}

#[test]
#[should_panic = "Matrix slicing out of bounds"]
fn original_panics_on_a_view_out_of_range() {
    let _ = block(&m(2, 3));
}

#[test]
#[should_panic = "matgrad: a.view((1, 1), (2, 2)): the 2×2 block at (1, 1) is out of range for a 2×3 matrix"]
fn grad_panics_on_a_view_out_of_range() {
    let _ = block_grad(&m(2, 3));
}

//! Static sizes (`SMatrix`, `Matrix3`, `Vector3`, …): gradients against central finite
//! differences with the same harness as `tests/gradcheck/` (value, shapes,
//! `_grad_into`), at several shapes including 1×1 and non-square ones, with the
//! static versions of the seeds' examples: xᵀAx, ln|det X|, a pose-fitting loss.
//!
//! Annotated functions are named `f_<what>`; `_grad` returns the static types.

use super::grad;
use crate::common::{self, gradcheck, rng, uniform, Value};
use matgrad::{
    add_col, add_row, ln_det, log_sum_exp, relu, sigmoid, softmax_cross_entropy, softplus,
    Workspace,
};
use nalgebra as na;
use nalgebra::{
    DMatrix, DVector, Matrix1, Matrix2, Matrix2x3, Matrix3, Matrix4, Matrix6, RowVector3, SMatrix,
    SVector, Vector2, Vector3, Vector6,
};
use rand_chacha::ChaCha8Rng;

/// An `R×C` matrix with entries uniform in `[-1, 1]`.
fn s<const R: usize, const C: usize>(r: &mut ChaCha8Rng) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|_, _| uniform(r, -1.0, 1.0))
}

/// Entries uniform in `[0.5, 1.5]` (divisors, `ln`).
fn positive<const R: usize, const C: usize>(r: &mut ChaCha8Rng) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|_, _| uniform(r, 0.5, 1.5))
}

/// A well-conditioned square matrix: `n` on the diagonal plus noise.
fn dominant<const N: usize>(r: &mut ChaCha8Rng) -> SMatrix<f64, N, N> {
    s::<N, N>(r) + SMatrix::<f64, N, N>::identity() * (N as f64 + 1.0)
}

/// A rotation about a random axis.
fn rotation(r: &mut ChaCha8Rng) -> Matrix3<f64> {
    let axis = na::Unit::new_normalize(s::<3, 1>(r) + Vector3::new(0.1, 0.2, 0.3));
    *na::Rotation3::from_axis_angle(&axis, uniform(r, -3.0, 3.0)).matrix()
}

// ===========================================================================
// The seeds' examples
// ===========================================================================

#[grad(wrt = (x, a))]
fn f_quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

#[test]
fn quadratic_form_vector3_matrix3() {
    let (r, mut ws) = (&mut rng(1), Workspace::new());
    for _ in 0..3 {
        let (x, a) = (s::<3, 1>(r), s::<3, 3>(r));
        gradcheck!(&mut ws; f_quadratic, f_quadratic_grad, f_quadratic_grad_into; (&x, &a);
            x = x, a = a);
        // ∂/∂x = (A + Aᵀ) x, ∂/∂A = x xᵀ, with the static types.
        let (_, gx, ga): (f64, Vector3<f64>, Matrix3<f64>) = f_quadratic_grad(&x, &a);
        assert!((gx - (a + a.transpose()) * x).norm() < 1e-12);
        assert!((ga - x * x.transpose()).norm() < 1e-12);
    }
}

#[grad(wrt = x)]
fn f_ln_det4(x: &Matrix4<f64>) -> f64 {
    ln_det(x)
}

#[grad(wrt = x)]
fn f_ln_abs_det4(x: &Matrix4<f64>) -> f64 {
    x.determinant().abs().ln()
}

#[test]
fn ln_det_matrix4() {
    let (r, mut ws) = (&mut rng(2), Workspace::new());
    for _ in 0..3 {
        let x = dominant::<4>(r);
        gradcheck!(&mut ws; f_ln_det4, f_ln_det4_grad, f_ln_det4_grad_into; (&x); x = x);
        gradcheck!(&mut ws; f_ln_abs_det4, f_ln_abs_det4_grad, f_ln_abs_det4_grad_into; (&x); x = x);
        // Exactly symmetric positive definite: `ln_det` takes its Cholesky path.
        let m = x * x.transpose();
        let spd = (m + m.transpose()) * 0.5;
        gradcheck!(&mut ws; f_ln_det4, f_ln_det4_grad, f_ln_det4_grad_into; (&x); x = spd);
        // ∂ ln|det X| / ∂X = X⁻ᵀ
        let (_, g) = f_ln_det4_grad(&x);
        let want = x.try_inverse().unwrap().transpose();
        assert!((g - want).norm() < 1e-10);
    }
}

/// ‖R p + t − q‖² summed over three points.
#[grad(wrt = (r, t))]
#[allow(clippy::too_many_arguments)]
fn f_pose(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p1: &Vector3<f64>,
    q1: &Vector3<f64>,
    p2: &Vector3<f64>,
    q2: &Vector3<f64>,
    p3: &Vector3<f64>,
    q3: &Vector3<f64>,
) -> f64 {
    let e1 = r * p1 + t - q1;
    let e2 = r * p2 + t - q2;
    let e3 = r * p3 + t - q3;
    e1.norm_squared() + e2.norm_squared() + e3.norm_squared()
}

#[test]
fn pose_fitting_three_points() {
    let (rg, mut ws) = (&mut rng(3), Workspace::new());
    for _ in 0..3 {
        let (r, t) = (rotation(rg), s::<3, 1>(rg));
        let p: Vec<Vector3<f64>> = (0..3).map(|_| s::<3, 1>(rg)).collect();
        let q: Vec<Vector3<f64>> = (0..3).map(|_| s::<3, 1>(rg)).collect();
        gradcheck!(&mut ws; f_pose, f_pose_grad, f_pose_grad_into;
            (&r, &t, &p[0], &q[0], &p[1], &q[1], &p[2], &q[2]);
            r = r, t = t);
    }
}

/// The same loss over five points at once, the points as the columns of `p` and `q`:
/// ‖R P + t 1ᵀ − Q‖².
#[grad(wrt = (r, t))]
fn f_pose_columns(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &SMatrix<f64, 3, 5>,
    q: &SMatrix<f64, 3, 5>,
) -> f64 {
    (add_col(&(r * p), t) - q).norm_squared()
}

#[test]
fn pose_fitting_columns() {
    let (rg, mut ws) = (&mut rng(4), Workspace::new());
    for _ in 0..3 {
        let (r, t, p, q) = (rotation(rg), s::<3, 1>(rg), s::<3, 5>(rg), s::<3, 5>(rg));
        gradcheck!(&mut ws; f_pose_columns, f_pose_columns_grad, f_pose_columns_grad_into;
            (&r, &t, &p, &q); r = r, t = t);
    }
}

// ===========================================================================
// Products and linear maps, at 1×1 and non-square shapes
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_product_1x1(a: &Matrix1<f64>, b: &Matrix1<f64>) -> f64 {
    (a * b).sum()
}

#[grad(wrt = (a, b))]
fn f_product_2x3_3x4(a: &Matrix2x3<f64>, b: &SMatrix<f64, 3, 4>) -> f64 {
    let c = a * b;
    c.map(|v| v.tanh()).norm_squared()
}

#[grad(wrt = (a, b))]
fn f_product_4x1_1x3(a: SVector<f64, 4>, b: na::RowVector3<f64>) -> f64 {
    (a * b).map(|v| v * v * v).sum()
}

#[test]
fn products() {
    let (r, mut ws) = (&mut rng(5), Workspace::new());
    for _ in 0..3 {
        let (a, b) = (s::<1, 1>(r), s::<1, 1>(r));
        gradcheck!(&mut ws; f_product_1x1, f_product_1x1_grad, f_product_1x1_grad_into;
            (&a, &b); a = a, b = b);
        let (a, b) = (s::<2, 3>(r), s::<3, 4>(r));
        gradcheck!(&mut ws; f_product_2x3_3x4, f_product_2x3_3x4_grad, f_product_2x3_3x4_grad_into;
            (&a, &b); a = a, b = b);
        let (a, b) = (s::<4, 1>(r), s::<1, 3>(r));
        gradcheck!(&mut ws; f_product_4x1_1x3, f_product_4x1_1x3_grad, f_product_4x1_1x3_grad_into;
            (a, b); a = a, b = b);
    }
}

#[grad(wrt = (a, b, s))]
fn f_linear(a: &SMatrix<f64, 4, 2>, b: &SMatrix<f64, 2, 4>, s: f64) -> f64 {
    let c = a - b.transpose() * s;
    let d = -c / (s * s + 1.0);
    (d.add_scalar(s) + a.scale(0.5)).norm()
}

#[grad(wrt = (a, b))]
fn f_sub_neg_row(a: &RowVector3<f64>, b: &nalgebra::RowSVector<f64, 3>) -> f64 {
    let c = -(a - b);
    c.dot(a) + c.mean() + c[(0, 2)]
}

#[test]
fn linear_maps() {
    let (r, mut ws) = (&mut rng(6), Workspace::new());
    for _ in 0..3 {
        let (a, b, k) = (s::<4, 2>(r), s::<2, 4>(r), uniform(r, 0.5, 1.5));
        gradcheck!(&mut ws; f_linear, f_linear_grad, f_linear_grad_into; (&a, &b, k);
            a = a, b = b, k = k);
        let (a, b) = (s::<1, 3>(r), s::<1, 3>(r));
        gradcheck!(&mut ws; f_sub_neg_row, f_sub_neg_row_grad, f_sub_neg_row_grad_into;
            (&a, &b); a = a, b = b);
    }
}

// ===========================================================================
// Elementwise operations, maps and runtime functions
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_elementwise(a: &Matrix2x3<f64>, b: &Matrix2x3<f64>) -> f64 {
    let c = a.component_mul(b) + a.component_div(b);
    let d = c.map(|v| (v * 0.5).sin() + v.exp());
    d.sum() + sigmoid(a).sum() + softplus(b).dot(a) + relu(&c).norm_squared()
}

#[grad(wrt = (a, k))]
fn f_map_capture(a: &Vector6<f64>, k: f64) -> f64 {
    a.map(|v| (v * k).tanh()).sum() + log_sum_exp(a)
}

#[grad(wrt = (m, b))]
fn f_add_row(m: &Matrix2x3<f64>, b: &RowVector3<f64>) -> f64 {
    add_row(m, b).map(|v| v.sin()).sum()
}

#[grad(wrt = (z, y))]
fn f_softmax_ce(z: &SMatrix<f64, 4, 3>, y: &SMatrix<f64, 4, 3>) -> f64 {
    softmax_cross_entropy(z, y)
}

#[grad(wrt = z)]
fn f_softmax_ce_z(z: &Matrix3<f64>, y: &Matrix3<f64>) -> f64 {
    softmax_cross_entropy(&(z * 2.0), y)
}

#[test]
fn elementwise() {
    let (r, mut ws) = (&mut rng(7), Workspace::new());
    for _ in 0..3 {
        // b positive: it divides; a away from relu's kink through c
        let (a, b) = (positive::<2, 3>(r), positive::<2, 3>(r));
        gradcheck!(&mut ws; f_elementwise, f_elementwise_grad, f_elementwise_grad_into;
            (&a, &b); a = a, b = b);
        let (z, y) = (s::<4, 3>(r), positive::<4, 3>(r));
        gradcheck!(&mut ws; f_softmax_ce, f_softmax_ce_grad, f_softmax_ce_grad_into; (&z, &y);
            z = z, y = y);
        let (z, y) = (s::<3, 3>(r), positive::<3, 3>(r));
        gradcheck!(&mut ws; f_softmax_ce_z, f_softmax_ce_z_grad, f_softmax_ce_z_grad_into;
            (&z, &y); z = z);
        let (m, b) = (s::<2, 3>(r), s::<1, 3>(r));
        gradcheck!(&mut ws; f_add_row, f_add_row_grad, f_add_row_grad_into; (&m, &b);
            m = m, b = b);
        let (a, k) = (s::<6, 1>(r), uniform(r, 0.5, 1.5));
        gradcheck!(&mut ws; f_map_capture, f_map_capture_grad, f_map_capture_grad_into;
            (&a, k); a = a, k = k);
    }
}

// ===========================================================================
// Square matrices: trace, determinant, inverse
// ===========================================================================

#[grad(wrt = a)]
fn f_det1(a: &Matrix1<f64>) -> f64 {
    a.determinant()
}

#[grad(wrt = a)]
fn f_det2(a: &Matrix2<f64>) -> f64 {
    a.determinant() * a.trace()
}

#[grad(wrt = a)]
fn f_det3(a: &Matrix3<f64>) -> f64 {
    a.determinant()
}

#[grad(wrt = (a, b))]
fn f_inverse(a: &Matrix3<f64>, b: &SMatrix<f64, 3, 2>) -> f64 {
    let inv = a.try_inverse().unwrap();
    (inv * b).norm_squared() + inv.trace()
}

#[grad(wrt = a)]
fn f_inverse6(a: &Matrix6<f64>) -> f64 {
    a.try_inverse().expect("singular").sum()
}

#[test]
fn square_matrices() {
    let (r, mut ws) = (&mut rng(8), Workspace::new());
    for _ in 0..3 {
        let a = dominant::<1>(r);
        gradcheck!(&mut ws; f_det1, f_det1_grad, f_det1_grad_into; (&a); a = a);
        let a = dominant::<2>(r);
        gradcheck!(&mut ws; f_det2, f_det2_grad, f_det2_grad_into; (&a); a = a);
        let a = dominant::<3>(r);
        gradcheck!(&mut ws; f_det3, f_det3_grad, f_det3_grad_into; (&a); a = a);
        let (a, b) = (dominant::<3>(r), s::<3, 2>(r));
        gradcheck!(&mut ws; f_inverse, f_inverse_grad, f_inverse_grad_into; (&a, &b);
            a = a, b = b);
        let a = dominant::<6>(r);
        gradcheck!(&mut ws; f_inverse6, f_inverse6_grad, f_inverse6_grad_into; (&a); a = a);
    }
}

#[grad(wrt = (a, b))]
fn f_kronecker(a: &Matrix2<f64>, b: &Matrix2x3<f64>) -> f64 {
    a.kronecker(b).map(|v| v.sin()).sum()
}

#[grad(wrt = (p, q))]
fn f_trace_of_product(p: &SMatrix<f64, 2, 3>, q: &SMatrix<f64, 3, 2>) -> f64 {
    (p * q).trace()
}

#[grad(wrt = (a, x, b), reassociate)]
fn f_chain(a: &SMatrix<f64, 2, 3>, x: &Matrix3<f64>, b: &SMatrix<f64, 3, 4>) -> f64 {
    (a * x * b).map(|v| v.sin()).sum()
}

#[test]
fn trace_of_product_and_reassociated_chain() {
    let (r, mut ws) = (&mut rng(13), Workspace::new());
    for _ in 0..3 {
        let (p, q) = (s::<2, 3>(r), s::<3, 2>(r));
        gradcheck!(&mut ws; f_trace_of_product, f_trace_of_product_grad,
            f_trace_of_product_grad_into; (&p, &q); p = p, q = q);
        let (a, x, b) = (s::<2, 3>(r), s::<3, 3>(r), s::<3, 4>(r));
        // reassociate may change the value's last bits: check the gradient by hand.
        let (v, ga, gx, gb) = f_chain_grad(&a, &x, &b);
        assert!((v - f_chain(&a, &x, &b)).abs() < 1e-12);
        let gy = (a * x * b).map(f64::cos);
        assert!((ga - gy * (x * b).transpose()).norm() < 1e-12);
        assert!((gx - a.transpose() * gy * b.transpose()).norm() < 1e-12);
        assert!((gb - (a * x).transpose() * gy).norm() < 1e-12);
    }
}

#[test]
fn kronecker() {
    let (r, mut ws) = (&mut rng(9), Workspace::new());
    for _ in 0..3 {
        let (a, b) = (s::<2, 2>(r), s::<2, 3>(r));
        gradcheck!(&mut ws; f_kronecker, f_kronecker_grad, f_kronecker_grad_into; (&a, &b);
            a = a, b = b);
    }
}

// ===========================================================================
// Parts: a.diagonal(), a.column(j)
// ===========================================================================

#[grad(wrt = a)]
fn f_diagonal1(a: &Matrix1<f64>) -> f64 {
    a.diagonal().norm_squared() + a.column(0).sum()
}

#[grad(wrt = (a, v))]
fn f_diagonal3(a: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    a.diagonal().component_mul(v).sum() + (a * a).diagonal().map(|d| d.sin()).sum()
}

#[grad(wrt = (a, b))]
fn f_column2x3(a: &Matrix2x3<f64>, b: &Matrix2<f64>) -> f64 {
    (b * a.column(2)).norm_squared() + a.column(0).dot(&a.column(a.ncols() - 2))
}

#[grad(wrt = x)]
fn f_diagonal_of_product(x: &SMatrix<f64, 4, 2>, w: &SMatrix<f64, 2, 4>) -> f64 {
    (x * w).diagonal().map(|d| d.tanh()).sum() + x.column(1).norm()
}

#[test]
fn diagonal_and_column() {
    let (r, mut ws) = (&mut rng(14), Workspace::new());
    for _ in 0..3 {
        let a = s::<1, 1>(r);
        gradcheck!(&mut ws; f_diagonal1, f_diagonal1_grad, f_diagonal1_grad_into; (&a); a = a);
        let (a, v) = (s::<3, 3>(r), s::<3, 1>(r));
        gradcheck!(&mut ws; f_diagonal3, f_diagonal3_grad, f_diagonal3_grad_into; (&a, &v);
            a = a, v = v);
        let (a, b) = (s::<2, 3>(r), s::<2, 2>(r));
        gradcheck!(&mut ws; f_column2x3, f_column2x3_grad, f_column2x3_grad_into; (&a, &b);
            a = a, b = b);
        let (x, w) = (s::<4, 2>(r), s::<2, 4>(r));
        gradcheck!(&mut ws; f_diagonal_of_product, f_diagonal_of_product_grad,
            f_diagonal_of_product_grad_into; (&x, &w); x = x);
    }
}

// ===========================================================================
// Views: a.row(i), a.rows(i, n), a.columns(j, n), as nalgebra's fixed views
// ===========================================================================

#[grad(wrt = a)]
fn f_views1(a: &Matrix1<f64>) -> f64 {
    a.row(0).sum() + a.rows(0, 1).norm_squared() + a.columns(0, 1).map(|v| v.sin()).sum()
}

#[grad(wrt = (a, b))]
fn f_views3(a: &Matrix3<f64>, b: &Matrix2x3<f64>) -> f64 {
    // `rows(0, 2)` of a `Matrix3` is 2×3 for matgrad (`fixed_rows::<2>(0)`); the
    // views overlap, so the adjoints accumulate.
    (a.rows(0, 2) - b).norm_squared()
        + a.row(2).sum()
        + a.columns(1, 2).map(|v| v.sin()).sum()
        + a.row(a.nrows() - 2).norm_squared()
}

#[grad(wrt = (x, w))]
fn f_views_of_product(x: &SMatrix<f64, 4, 2>, w: &SMatrix<f64, 2, 3>) -> f64 {
    let z = x * w;
    z.rows(1, 2).map(|v| v.tanh()).sum()
        + z.columns(w.ncols() - 2, 2).norm_squared()
        + x.row(3).dot(&w.column(0).transpose())
}

#[test]
fn views() {
    let (r, mut ws) = (&mut rng(16), Workspace::new());
    for _ in 0..3 {
        let a = s::<1, 1>(r);
        gradcheck!(&mut ws; f_views1, f_views1_grad, f_views1_grad_into; (&a); a = a);
        let (a, b) = (s::<3, 3>(r), s::<2, 3>(r));
        gradcheck!(&mut ws; f_views3, f_views3_grad, f_views3_grad_into; (&a, &b);
            a = a, b = b);
        let (x, w) = (s::<4, 2>(r), s::<2, 3>(r));
        gradcheck!(&mut ws; f_views_of_product, f_views_of_product_grad,
            f_views_of_product_grad_into; (&x, &w); x = x, w = w);
    }
}

// ===========================================================================
// Reductions along one dimension, extreme entries, abs
// ===========================================================================

#[grad(wrt = a)]
fn f_lines(a: &Matrix2x3<f64>, r: &RowVector3<f64>) -> f64 {
    (a.row_sum() - r).norm_squared()
        + a.column_mean().map(|v| v.sin()).sum()
        + a.row_mean().norm()
        + a.column_sum().sum()
}

#[grad(wrt = a)]
fn f_extremes(a: &Matrix3<f64>) -> f64 {
    a.max() * a.min() + a.abs().sum()
}

#[grad(wrt = (x, w))]
fn f_batch_mean(x: &SMatrix<f64, 4, 2>, w: &Vector2<f64>) -> f64 {
    (x * w).norm_squared() / (x.nrows() as f64) + w.sum() / (w.len() as f64)
}

#[grad(wrt = a)]
fn f_lines1(a: &Matrix1<f64>) -> f64 {
    a.row_mean().sum() * a.column_sum().sum() + a.max()
}

#[test]
fn reductions_along_lines_and_extremes() {
    let (r, mut ws) = (&mut rng(15), Workspace::new());
    for _ in 0..3 {
        let (a, rr) = (s::<2, 3>(r), s::<1, 3>(r));
        gradcheck!(&mut ws; f_lines, f_lines_grad, f_lines_grad_into; (&a, &rr); a = a);
        // Entries away from abs's kink.
        let a = s::<3, 3>(r).map(|v| if v.abs() < 0.2 { v + 0.4 } else { v });
        gradcheck!(&mut ws; f_extremes, f_extremes_grad, f_extremes_grad_into; (&a); a = a);
        let a = s::<1, 1>(r);
        gradcheck!(&mut ws; f_lines1, f_lines1_grad, f_lines1_grad_into; (&a); a = a);
        let (x, w) = (s::<4, 2>(r), s::<2, 1>(r));
        gradcheck!(&mut ws; f_batch_mean, f_batch_mean_grad, f_batch_mean_grad_into; (&x, &w);
            x = x, w = w);
    }
}

// ===========================================================================
// Constructors
// ===========================================================================

#[grad(wrt = (a, c))]
fn f_static_constructors(a: &Matrix3<f64>, b: &Matrix2x3<f64>, c: f64) -> f64 {
    (a - Matrix3::identity()).norm_squared()
        + (b + Matrix2x3::from_element(c)).norm_squared()
        + (a * Vector3::zeros()).sum()
        + (SMatrix::<f64, 2, 2>::identity() * b * a).sum()
}

#[grad(wrt = a)]
fn f_dynamic_constructor_among_static(a: &Matrix3<f64>) -> f64 {
    // A `DMatrix` constructor: the dynamic backend takes the function, the gradient
    // keeps the static type.
    (a * DMatrix::identity(3, 3)).norm_squared()
}

#[grad(wrt = a)]
fn f_static_piecewise(a: &Matrix2x3<f64>) -> f64 {
    a.map(|v| {
        if v.abs() <= 0.5 {
            v * v
        } else {
            v.abs() - 0.25
        }
    })
    .sum()
}

#[grad(wrt = (a, b))]
fn f_static_zip_map(a: &Matrix2x3<f64>, b: &Matrix2x3<f64>) -> f64 {
    a.zip_map(b, |p, q| p * q.exp() + if p > q { p } else { q * q })
        .sum()
}

#[grad(wrt = (v, a))]
fn f_static_entries(v: &Vector3<f64>, a: &Matrix2x3<f64>) -> f64 {
    v[2] * v[0] + a[(1, a.ncols() - 1)] * v[v.len() - 2]
}

#[grad(wrt = a)]
fn f_static_view(a: &Matrix3<f64>) -> f64 {
    a.view((1, 0), (2, 2)).norm_squared() + a.view((0, 2), (3, 1)).sum() * a[(0, 0)]
}

#[grad(wrt = a)]
fn f_static_triangles(a: &Matrix2x3<f64>) -> f64 {
    a.lower_triangle().norm_squared() * a.upper_triangle().sum()
}

#[test]
fn static_triangles() {
    let (r, mut ws) = (&mut rng(20), Workspace::new());
    for _ in 0..3 {
        let a = s::<2, 3>(r);
        gradcheck!(&mut ws; f_static_triangles, f_static_triangles_grad, f_static_triangles_grad_into;
            (&a); a = a);
    }
}

#[test]
fn static_view() {
    let (r, mut ws) = (&mut rng(19), Workspace::new());
    for _ in 0..3 {
        let a = s::<3, 3>(r);
        gradcheck!(&mut ws; f_static_view, f_static_view_grad, f_static_view_grad_into; (&a); a = a);
    }
}

#[test]
fn entries() {
    let (r, mut ws) = (&mut rng(18), Workspace::new());
    for _ in 0..3 {
        let (v, a) = (s::<3, 1>(r), s::<2, 3>(r));
        gradcheck!(&mut ws; f_static_entries, f_static_entries_grad, f_static_entries_grad_into;
            (&v, &a); v = v, a = a);
    }
}

#[test]
fn piecewise_closure() {
    let (r, mut ws) = (&mut rng(17), Workspace::new());
    for _ in 0..3 {
        // Entries away from the kinks at ±0.5 and 0.
        let a = s::<2, 3>(r).map(|v| {
            if (v.abs() - 0.5).abs() < 0.1 {
                v * 1.5
            } else {
                v
            }
        });
        gradcheck!(&mut ws; f_static_piecewise, f_static_piecewise_grad, f_static_piecewise_grad_into;
            (&a); a = a);
        // a − b away from the kink at 0.
        let (a, d) = (
            s::<2, 3>(r),
            s::<2, 3>(r).map(|v| if v.abs() < 0.2 { v + 0.5 } else { v }),
        );
        let b = a - d;
        gradcheck!(&mut ws; f_static_zip_map, f_static_zip_map_grad, f_static_zip_map_grad_into;
            (&a, &b); a = a, b = b);
    }
}

#[test]
fn constructors() {
    let (r, mut ws) = (&mut rng(16), Workspace::new());
    for _ in 0..3 {
        let (a, b, c) = (s::<3, 3>(r), s::<2, 3>(r), uniform(r, -1.0, 1.0));
        gradcheck!(&mut ws; f_static_constructors, f_static_constructors_grad,
            f_static_constructors_grad_into; (&a, &b, c); a = a, c = c);
        let a = s::<3, 3>(r);
        gradcheck!(&mut ws; f_dynamic_constructor_among_static, f_dynamic_constructor_among_static_grad,
            f_dynamic_constructor_among_static_grad_into; (&a); a = a);
        let (_, g): (f64, Matrix3<f64>) = f_dynamic_constructor_among_static_grad(&a);
        assert!((g - 2.0 * a).norm() < 1e-12);
    }
}

// ===========================================================================
// Static and dynamic sizes in one function
// ===========================================================================

#[grad(wrt = (x, w, b))]
fn f_mixed_layer(x: &DMatrix<f64>, w: &Matrix3<f64>, b: &RowVector3<f64>) -> f64 {
    let z = add_row(&(x * w), b);
    z.map(|v| v.tanh()).norm_squared() + w.determinant()
}

#[grad(wrt = (u, v))]
fn f_mixed_vectors(u: &DVector<f64>, v: Vector3<f64>, m: &Matrix3<f64>) -> f64 {
    (u + m * v).norm() + u.dot(&v)
}

#[grad(wrt = (u, w))]
#[allow(unused_variables)]
fn f_mixed_unused(u: &DVector<f64>, w: &Matrix2<f64>) -> f64 {
    u.sum()
}

#[test]
fn mixed_static_and_dynamic() {
    let (r, mut ws) = (&mut rng(12), Workspace::new());
    for n in [1, 4] {
        let (x, w, b) = (common::mat(r, n, 3), dominant::<3>(r), s::<1, 3>(r));
        gradcheck!(&mut ws; f_mixed_layer, f_mixed_layer_grad, f_mixed_layer_grad_into;
            (&x, &w, &b); x = x.clone(), w = w, b = b);
        let (_, _, gw, gb): (f64, DMatrix<f64>, Matrix3<f64>, RowVector3<f64>) =
            f_mixed_layer_grad(&x, &w, &b);
        assert!(gw.norm() > 0.0 && gb.norm() > 0.0);
    }
    let (u, v, m) = (common::vector(r, 3), s::<3, 1>(r), s::<3, 3>(r));
    gradcheck!(&mut ws; f_mixed_vectors, f_mixed_vectors_grad, f_mixed_vectors_grad_into;
        (&u, v, &m); u = u, v = v);
    let (u, w) = (common::vector(r, 2), s::<2, 2>(r));
    gradcheck!(&mut ws; f_mixed_unused, f_mixed_unused_grad, f_mixed_unused_grad_into;
        (&u, &w); u = u, w = w);
}

// ===========================================================================
// A layer at 6×6, f32, constants, unused variables
// ===========================================================================

#[grad(wrt = (w, x))]
fn f_layer(w: &Matrix6<f64>, x: &Vector6<f64>, y: &Vector6<f64>) -> f64 {
    let z = w * x;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}

#[grad(wrt = w)]
fn f_layer32(w: &Matrix3<f32>, x: &Vector3<f32>) -> f32 {
    (w * x).map(|v| v.tanh()).sum()
}

#[grad(wrt = (a, b))]
#[allow(unused_variables)]
fn f_unused(a: &Matrix2<f64>, b: &Matrix2<f64>) -> f64 {
    a.sum() * 2.0
}

#[test]
fn layers_and_types() {
    let (r, mut ws) = (&mut rng(10), Workspace::new());
    for _ in 0..3 {
        let (w, x, y) = (s::<6, 6>(r), s::<6, 1>(r), s::<6, 1>(r));
        gradcheck!(&mut ws; f_layer, f_layer_grad, f_layer_grad_into; (&w, &x, &y);
            w = w, x = x);
        let (a, b) = (s::<2, 2>(r), s::<2, 2>(r));
        gradcheck!(&mut ws; f_unused, f_unused_grad, f_unused_grad_into; (&a, &b);
            a = a, b = b);
    }
    let mut ws32 = Workspace::<f32>::new();
    let w = s::<3, 3>(r).cast::<f32>();
    let x = s::<3, 1>(r).cast::<f32>();
    gradcheck!(&mut ws32; f_layer32, f_layer32_grad, f_layer32_grad_into; (&w, &x); w = w);
}

#[test]
fn value_is_the_original() {
    let r = &mut rng(11);
    let (w, x, y) = (s::<6, 6>(r), s::<6, 1>(r), s::<6, 1>(r));
    let (v, _, _) = f_layer_grad(&w, &x, &y);
    let want = f_layer(&w, &x, &y);
    match crate::VALUE {
        Value::Exact => assert_eq!(v.to_bits(), want.to_bits()),
        // `reassociate` promises the value to rounding only.
        Value::Rounded => assert!(Value::Rounded.holds(v, want), "{v} vs {want}"),
    }
}

#[grad(wrt = (a, v))]
fn f_generic_static<T: na::RealField + Copy>(a: &Matrix3<T>, v: &Vector3<T>, c: T) -> T {
    // One definition for f32 and f64 on the static backend.
    (a * v).map(|e| e.tanh()).norm_squared()
        + a.determinant() * na::convert::<f64, T>(0.5)
        + (a - Matrix3::<T>::identity()).norm_squared() / T::from_usize(a.len()).unwrap()
        + c * v.sum()
}

#[test]
fn generic_float_type() {
    let r = &mut rng(60);
    let mut ws = Workspace::new();
    let mut ws32 = Workspace::<f32>::new();
    for _ in 0..3 {
        let (a, v, c) = (s::<3, 3>(r), s::<3, 1>(r), uniform(r, -1.0, 1.0));
        gradcheck!(&mut ws; f_generic_static, f_generic_static_grad, f_generic_static_grad_into;
            (&a, &v, c); a = a, v = v);
        gradcheck!(&mut ws32; f_generic_static, f_generic_static_grad, f_generic_static_grad_into;
            (&a, &v, c as f32); a = a.cast::<f32>(), v = v.cast::<f32>());
    }
}

#[grad(wrt = (p, v))]
fn f_scalar_constructors(p: &Vector3<f64>, v: &Vector3<f64>, t: f64) -> f64 {
    // A rotation-like 2×2 from scalars, a diagonal scaling, a point from entries.
    let c = Matrix2::new(t.cos(), -p[2].sin(), p[2].sin(), t.cos() * p[0]);
    let s = Matrix3::from_diagonal(&v.map(|x| x * x));
    let q = Vector2::new(p[0] + p[1], p[1] * v[0]);
    (c * q).norm_squared() + (s * p).sum() + na::RowVector3::new(p[0], 1.0, v[2]).sum()
}

#[grad(wrt = v)]
fn f_scalar_constructors32(v: &Vector2<f32>) -> f32 {
    (Matrix2::from_diagonal(v) * Vector2::new(v[1], 2.0 * v[0])).norm_squared()
}

#[test]
fn constructors_from_scalars_and_diagonals() {
    let r = &mut rng(61);
    let mut ws = Workspace::new();
    let mut ws32 = Workspace::<f32>::new();
    for _ in 0..3 {
        let t = uniform(r, -1.0, 1.0);
        gradcheck!(&mut ws; f_scalar_constructors, f_scalar_constructors_grad,
            f_scalar_constructors_grad_into; (&p, &v, t); p = s::<3, 1>(r), v = s::<3, 1>(r));
        gradcheck!(&mut ws32; f_scalar_constructors32, f_scalar_constructors32_grad,
            f_scalar_constructors32_grad_into; (&v,); v = s::<2, 1>(r).cast::<f32>());
    }
}

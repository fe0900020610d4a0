//! Gradient correctness of `#[grad]`: every rule of SPEC §3 and every runtime function
//! of §4, checked against central finite differences (see `tests/common/mod.rs`) at
//! several shapes, in f64 and f32, together with the value and `_grad_into` checks
//! that `gradcheck!` makes for every function.
//!
//! Annotated functions are named `f_<rule>`; the test of a rule is named after it.

use super::grad;
use crate::common::{
    assert_close, away_from, dominant, gradcheck, mat, negative_det, one_hot, positive, rng, row,
    spd, uniform, vector,
};
use matgrad::{
    add_col, add_row, ln_det, log_sum_exp, sigmoid, softmax_cross_entropy, softplus, Workspace,
};
use nalgebra as na;
use nalgebra::{DMatrix, DVector, RowDVector};

/// Matrix shapes `m×n`: 1×1, non-square both ways.
const SHAPES: [(usize, usize); 3] = [(1, 1), (2, 3), (4, 2)];
/// Square sizes, for trace, determinant, inverse, ln_det.
const SQUARE: [usize; 3] = [1, 2, 5];
/// Product shapes `(m, k, n)` for `(m×k) · (k×n)`.
const PRODUCT: [(usize, usize, usize); 3] = [(1, 1, 1), (2, 3, 4), (4, 1, 3)];

// ===========================================================================
// a + b, a - b, -a
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_add(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a + b).norm_squared()
}

#[test]
fn add_both_operands() {
    let (r, mut ws) = (&mut rng(1), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_add, f_add_grad, f_add_grad_into; (&a, &b);
            a = mat(r, m, n), b = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_sub(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).norm_squared()
}

#[test]
fn sub_both_operands() {
    let (r, mut ws) = (&mut rng(2), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_sub, f_sub_grad, f_sub_grad_into; (&a, &b);
            a = mat(r, m, n), b = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_neg(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (-a + c).norm_squared()
}

#[test]
fn neg() {
    let (r, mut ws) = (&mut rng(3), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_neg, f_neg_grad, f_neg_grad_into; (&a, &c); a = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_add_sub_neg_f32(a: &DMatrix<f32>, b: &na::DMatrix<f32>, c: &DMatrix<f32>) -> f32 {
    (-a + b - c).norm_squared()
}

#[test]
fn add_sub_neg_f32() {
    let (r, mut ws) = (&mut rng(4), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n).cast::<f32>();
        gradcheck!(&mut ws; f_add_sub_neg_f32, f_add_sub_neg_f32_grad, f_add_sub_neg_f32_grad_into;
            (&a, &b, &c);
            a = mat(r, m, n).cast(), b = mat(r, m, n).cast());
    }
}

// ===========================================================================
// a * b (matrix product)
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_matmul(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b - c).norm_squared()
}

#[test]
fn matmul_both_operands() {
    let (r, mut ws) = (&mut rng(10), Workspace::new());
    for (m, k, n) in PRODUCT {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_matmul, f_matmul_grad, f_matmul_grad_into; (&a, &b, &c);
            a = mat(r, m, k), b = mat(r, k, n));
    }
}

/// Sums and means of products: their adjoints `s̄ 𝟙𝟙ᵀ` are never formed, and each
/// product's adjoint is a broadcast of the other factor's row or column sums.
#[grad(wrt = (a, b))]
fn f_summed_products(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b).sum() + 0.5 * (b.transpose() * a.transpose()).mean() + (a * b * c).sum()
}

#[test]
fn sums_of_products() {
    let (r, mut ws) = (&mut rng(13), Workspace::new());
    for (m, k, n) in PRODUCT {
        let c = mat(r, n, 2);
        gradcheck!(&mut ws; f_summed_products, f_summed_products_grad, f_summed_products_grad_into;
            (&a, &b, &c); a = mat(r, m, k), b = mat(r, k, n));
    }
}

#[grad(wrt = (w, x))]
fn f_matvec(w: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (w * x - y).norm_squared()
}

#[test]
fn matmul_matrix_vector() {
    let (r, mut ws) = (&mut rng(11), Workspace::new());
    for (m, n) in SHAPES {
        let y = vector(r, m);
        gradcheck!(&mut ws; f_matvec, f_matvec_grad, f_matvec_grad_into; (&w, &x, &y);
            w = mat(r, m, n), x = vector(r, n));
    }
}

#[grad(wrt = (x, w))]
fn f_vecmat(x: &RowDVector<f64>, w: &DMatrix<f64>, y: &RowDVector<f64>) -> f64 {
    (x * w - y).norm_squared()
}

#[test]
fn matmul_row_vector_matrix() {
    let (r, mut ws) = (&mut rng(12), Workspace::new());
    for (m, n) in SHAPES {
        let y = row(r, n);
        gradcheck!(&mut ws; f_vecmat, f_vecmat_grad, f_vecmat_grad_into; (&x, &w, &y);
            x = row(r, m), w = mat(r, m, n));
    }
}

#[grad(wrt = (a, b, c))]
fn f_matmul_chain(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b * c).norm_squared()
}

#[test]
fn matmul_chain_of_three() {
    let (r, mut ws) = (&mut rng(13), Workspace::new());
    for (m, k, n) in PRODUCT {
        gradcheck!(&mut ws; f_matmul_chain, f_matmul_chain_grad, f_matmul_chain_grad_into;
            (&a, &b, &c);
            a = mat(r, m, k), b = mat(r, k, n), c = mat(r, n, m));
    }
}

#[grad(wrt = (a, b))]
fn f_matmul_f32(a: &na::DMatrix<f32>, b: &na::DMatrix<f32>, c: &na::DMatrix<f32>) -> f32 {
    (a * b - c).norm_squared()
}

#[test]
fn matmul_f32() {
    let (r, mut ws) = (&mut rng(14), Workspace::new());
    for (m, k, n) in PRODUCT {
        let c = mat(r, m, n).cast::<f32>();
        gradcheck!(&mut ws; f_matmul_f32, f_matmul_f32_grad, f_matmul_f32_grad_into; (&a, &b, &c);
            a = mat(r, m, k).cast(), b = mat(r, k, n).cast());
    }
}

// ===========================================================================
// s * a, a * s, a / s, a.scale(s): matrix and scalar wrt
// ===========================================================================

#[grad(wrt = (s, a))]
fn f_scalar_times_matrix(s: f64, a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (s * a - c).norm_squared()
}

#[test]
fn scalar_times_matrix() {
    let (r, mut ws) = (&mut rng(20), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_scalar_times_matrix, f_scalar_times_matrix_grad, f_scalar_times_matrix_grad_into;
            (s, &a, &c); s = uniform(r, -2.0, 2.0), a = mat(r, m, n));
    }
}

#[grad(wrt = (a, s))]
fn f_matrix_times_scalar(a: &DMatrix<f64>, s: f64, c: &DMatrix<f64>) -> f64 {
    (a * s - c).norm_squared()
}

#[test]
fn matrix_times_scalar() {
    let (r, mut ws) = (&mut rng(21), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_matrix_times_scalar, f_matrix_times_scalar_grad, f_matrix_times_scalar_grad_into;
            (&a, s, &c); a = mat(r, m, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s))]
fn f_matrix_div_scalar(a: &DMatrix<f64>, s: f64, c: &DMatrix<f64>) -> f64 {
    (a / s - c).norm_squared()
}

#[test]
fn matrix_div_scalar() {
    let (r, mut ws) = (&mut rng(22), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_matrix_div_scalar, f_matrix_div_scalar_grad, f_matrix_div_scalar_grad_into;
            (&a, s, &c); a = mat(r, m, n), s = uniform(r, 0.5, 2.0));
    }
}

#[grad(wrt = (a, s))]
fn f_scale(a: &DMatrix<f64>, s: f64, c: &DMatrix<f64>) -> f64 {
    (a.scale(s) - c).norm_squared()
}

#[test]
fn scale_matrix_and_scalar() {
    let (r, mut ws) = (&mut rng(23), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_scale, f_scale_grad, f_scale_grad_into; (&a, s, &c);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s, t, u))]
fn f_scalar_matrix_f32(a: &DMatrix<f32>, s: f32, t: f32, u: f32) -> f32 {
    (s * a + a * t - a / u + a.scale(s * t)).norm_squared()
}

#[test]
fn scalar_matrix_f32() {
    let (r, mut ws) = (&mut rng(24), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_scalar_matrix_f32, f_scalar_matrix_f32_grad, f_scalar_matrix_f32_grad_into;
            (&a, s, t, u);
            a = mat(r, m, n).cast(), s = uniform(r, -1.0, 1.0) as f32,
            t = uniform(r, -1.0, 1.0) as f32, u = uniform(r, 0.5, 2.0) as f32);
    }
}

// ===========================================================================
// Scalar arithmetic: s * t, s / t, s + t, s - t, -s
// ===========================================================================

#[grad(wrt = (a, s, t))]
fn f_scalar_mul(a: &DMatrix<f64>, s: f64, t: f64) -> f64 {
    let u = a.sum();
    let v = s * t;
    v * u * u
}

#[test]
fn scalar_mul() {
    let (r, mut ws) = (&mut rng(30), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_mul, f_scalar_mul_grad, f_scalar_mul_grad_into; (&a, s, t);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0), t = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s, t))]
fn f_scalar_div(a: &DMatrix<f64>, s: f64, t: f64) -> f64 {
    let u = a.norm_squared();
    s / (t + u) / t
}

#[test]
fn scalar_div() {
    let (r, mut ws) = (&mut rng(31), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_div, f_scalar_div_grad, f_scalar_div_grad_into; (&a, s, t);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0), t = uniform(r, 0.5, 2.0));
    }
}

#[grad(wrt = (a, s, t))]
fn f_scalar_add(a: &DMatrix<f64>, s: f64, t: f64) -> f64 {
    let u = a.sum();
    (u + s) * (t + u)
}

#[test]
fn scalar_add() {
    let (r, mut ws) = (&mut rng(32), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_add, f_scalar_add_grad, f_scalar_add_grad_into; (&a, s, t);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0), t = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s, t))]
fn f_scalar_sub(a: &DMatrix<f64>, s: f64, t: f64) -> f64 {
    let u = a.sum();
    (u - s) * (t - u)
}

#[test]
fn scalar_sub() {
    let (r, mut ws) = (&mut rng(33), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_sub, f_scalar_sub_grad, f_scalar_sub_grad_into; (&a, s, t);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0), t = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s))]
fn f_scalar_neg(a: &DMatrix<f64>, s: f64) -> f64 {
    let u = a.mean();
    let v = -u;
    v * v * v + (-s) * u
}

#[test]
fn scalar_neg() {
    let (r, mut ws) = (&mut rng(34), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_neg, f_scalar_neg_grad, f_scalar_neg_grad_into; (&a, s);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s, t))]
fn f_scalar_ops_f32(a: &DMatrix<f32>, s: f32, t: f32) -> f32 {
    let u = a.sum();
    (s * t + s / t + (s - t) * u) * u - (-u) * s
}

#[test]
fn scalar_arithmetic_f32() {
    let (r, mut ws) = (&mut rng(35), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_scalar_ops_f32, f_scalar_ops_f32_grad, f_scalar_ops_f32_grad_into;
            (&a, s, t);
            a = mat(r, m, n).cast(), s = uniform(r, -1.0, 1.0) as f32,
            t = uniform(r, 0.5, 2.0) as f32);
    }
}

// ===========================================================================
// a.transpose()
// ===========================================================================

#[grad(wrt = a)]
fn f_transpose(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.transpose() - c).norm_squared()
}

#[test]
fn transpose() {
    let (r, mut ws) = (&mut rng(40), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, n, m);
        gradcheck!(&mut ws; f_transpose, f_transpose_grad, f_transpose_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_transpose_in_product(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.transpose() * b.transpose() - c).norm_squared()
}

#[test]
fn transpose_in_product() {
    let (r, mut ws) = (&mut rng(41), Workspace::new());
    for (m, k, n) in PRODUCT {
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_transpose_in_product, f_transpose_in_product_grad, f_transpose_in_product_grad_into;
            (&a, &b, &c); a = mat(r, k, m), b = mat(r, n, k));
    }
}

#[grad(wrt = (a, b))]
fn f_transpose_f32(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    (a.transpose() * b).norm_squared()
}

#[test]
fn transpose_f32() {
    let (r, mut ws) = (&mut rng(42), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_transpose_f32, f_transpose_f32_grad, f_transpose_f32_grad_into;
            (&a, &b);
            a = mat(r, m, n).cast(), b = mat(r, m, n + 1).cast());
    }
}

// ===========================================================================
// a.component_mul(&b), a.component_div(&b)
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_component_mul(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.component_mul(b) - c).norm_squared()
}

#[test]
fn component_mul_both_operands() {
    let (r, mut ws) = (&mut rng(50), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_component_mul, f_component_mul_grad, f_component_mul_grad_into;
            (&a, &b, &c);
            a = mat(r, m, n), b = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_component_div(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.component_div(b) - c).norm_squared()
}

#[test]
fn component_div_both_operands() {
    let (r, mut ws) = (&mut rng(51), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_component_div, f_component_div_grad, f_component_div_grad_into;
            (&a, &b, &c);
            a = mat(r, m, n), b = positive(r, m, n));
    }
}

#[grad(wrt = (a, b, d))]
fn f_component_f32(a: &DMatrix<f32>, b: &DMatrix<f32>, d: &DMatrix<f32>) -> f32 {
    a.component_mul(b).component_div(d).norm_squared()
}

#[test]
fn component_mul_div_f32() {
    let (r, mut ws) = (&mut rng(52), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_component_f32, f_component_f32_grad, f_component_f32_grad_into;
            (&a, &b, &d);
            a = mat(r, m, n).cast(), b = mat(r, m, n).cast(), d = positive(r, m, n).cast());
    }
}

// ===========================================================================
// a.map(|v| body)
// ===========================================================================

#[grad(wrt = a)]
fn f_map_tanh(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.tanh()) - c).norm_squared()
}

#[test]
fn map_tanh() {
    let (r, mut ws) = (&mut rng(60), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_tanh, f_map_tanh_grad, f_map_tanh_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_polynomial(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v * v + 2.0 * v) - c).norm_squared()
}

#[test]
fn map_polynomial() {
    let (r, mut ws) = (&mut rng(61), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_polynomial, f_map_polynomial_grad, f_map_polynomial_grad_into;
            (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_exp_half(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| (v * 0.5).exp()) - c).norm_squared()
}

#[test]
fn map_exp_of_product() {
    let (r, mut ws) = (&mut rng(62), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_exp_half, f_map_exp_half_grad, f_map_exp_half_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_sin_cos(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.sin() * v.cos()) - c).norm_squared()
}

#[test]
fn map_sin_times_cos() {
    let (r, mut ws) = (&mut rng(63), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_sin_cos, f_map_sin_cos_grad, f_map_sin_cos_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_max(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.max(0.1)) - c).norm_squared()
}

#[test]
fn map_max_constant() {
    let (r, mut ws) = (&mut rng(64), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_max, f_map_max_grad, f_map_max_grad_into; (&a, &c);
            a = away_from(r, m, n, 0.1));
    }
}

#[grad(wrt = (a, s))]
fn f_map_capture(a: &DMatrix<f64>, s: f64, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v * s) - c).norm_squared()
}

#[test]
fn map_capturing_scalar_wrt() {
    let (r, mut ws) = (&mut rng(65), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_capture, f_map_capture_grad, f_map_capture_grad_into; (&a, s, &c);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s))]
fn f_map_capture_tanh(a: &DMatrix<f64>, s: f64, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| (v * s).tanh() + s * s * v) - c).norm_squared()
}

#[test]
fn map_capturing_scalar_nonlinear() {
    let (r, mut ws) = (&mut rng(66), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_map_capture_tanh, f_map_capture_tanh_grad, f_map_capture_tanh_grad_into;
            (&a, s, &c); a = mat(r, m, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s))]
fn f_map_bodies_f32(a: &DMatrix<f32>, s: f32) -> f32 {
    a.map(|v| v.tanh() + v * v + 2.0 * v + (v * 0.5).exp() + v.sin() * v.cos() + v.max(0.1) + v * s)
        .norm_squared()
}

#[test]
fn map_bodies_f32() {
    let (r, mut ws) = (&mut rng(67), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_map_bodies_f32, f_map_bodies_f32_grad, f_map_bodies_f32_grad_into;
            (&a, s);
            a = away_from(r, m, n, 0.1).cast(), s = uniform(r, -1.0, 1.0) as f32);
    }
}

// `map` given a scalar method by path, `f64::tanh(v)` called in a closure, and `*t`
// of a captured `&f64`: the same functions as their closure spellings.

#[grad(wrt = a)]
fn f_map_path_tanh(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(f64::tanh) - c).norm_squared()
}

#[test]
fn map_method_path_f64() {
    let (r, mut ws) = (&mut rng(68), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_path_tanh, f_map_path_tanh_grad, f_map_path_tanh_grad_into;
            (&a, &c); a = mat(r, m, n));
        let a = mat(r, m, n);
        assert_eq!(f_map_path_tanh(&a, &c), f_map_tanh(&a, &c));
        assert_eq!(f_map_path_tanh_grad(&a, &c).1, f_map_tanh_grad(&a, &c).1);
    }
}

#[grad(wrt = a)]
fn f_map_path_exp_f32(a: &DMatrix<f32>, c: &DMatrix<f32>) -> f32 {
    (a.map(f32::exp) - c).norm_squared()
}

#[test]
fn map_method_path_f32() {
    let (r, mut ws) = (&mut rng(69), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n).cast::<f32>();
        gradcheck!(&mut ws; f_map_path_exp_f32, f_map_path_exp_f32_grad, f_map_path_exp_f32_grad_into;
            (&a, &c); a = mat(r, m, n).cast());
    }
}

#[grad(wrt = (a, s))]
fn f_map_ufcs_deref(a: &DMatrix<f64>, s: f64, t: &f64, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| f64::tanh(v * s) + f64::max(v, *t) + f64::powi(v, 2) * *t) - c).norm_squared()
}

#[test]
fn map_ufcs_calls_and_deref_capture() {
    let (r, mut ws) = (&mut rng(600), Workspace::new());
    for (m, n) in SHAPES {
        let (c, t) = (mat(r, m, n), 0.1);
        gradcheck!(&mut ws; f_map_ufcs_deref, f_map_ufcs_deref_grad, f_map_ufcs_deref_grad_into;
            (&a, s, &t, &c); a = away_from(r, m, n, 0.1), s = uniform(r, -1.0, 1.0));
    }
}

// Every scalar method inside a `map` closure.

#[grad(wrt = a)]
fn f_map_ln(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.ln()) - c).norm_squared()
}

#[test]
fn map_ln() {
    let (r, mut ws) = (&mut rng(70), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_ln, f_map_ln_grad, f_map_ln_grad_into; (&a, &c);
            a = positive(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_exp(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.exp()) - c).norm_squared()
}

#[test]
fn map_exp() {
    let (r, mut ws) = (&mut rng(71), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_exp, f_map_exp_grad, f_map_exp_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_sqrt(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.sqrt()) - c).norm_squared()
}

#[test]
fn map_sqrt() {
    let (r, mut ws) = (&mut rng(72), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_sqrt, f_map_sqrt_grad, f_map_sqrt_grad_into; (&a, &c);
            a = positive(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_powi(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.powi(3)) - c).norm_squared()
}

#[test]
fn map_powi() {
    let (r, mut ws) = (&mut rng(73), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_powi, f_map_powi_grad, f_map_powi_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_powi_negative(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.powi(-2)) - c).norm_squared()
}

#[test]
fn map_powi_negative_exponent() {
    let (r, mut ws) = (&mut rng(74), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_map_powi_negative, f_map_powi_negative_grad, f_map_powi_negative_grad_into;
            (&a, &c); a = positive(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_powf(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.powf(1.5)) - c).norm_squared()
}

#[test]
fn map_powf() {
    let (r, mut ws) = (&mut rng(75), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_powf, f_map_powf_grad, f_map_powf_grad_into; (&a, &c);
            a = positive(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_sin(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.sin()) - c).norm_squared()
}

#[test]
fn map_sin() {
    let (r, mut ws) = (&mut rng(76), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_sin, f_map_sin_grad, f_map_sin_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_cos(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.cos()) - c).norm_squared()
}

#[test]
fn map_cos() {
    let (r, mut ws) = (&mut rng(77), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_cos, f_map_cos_grad, f_map_cos_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_tan(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.tan()) - c).norm_squared()
}

#[test]
fn map_tan() {
    let (r, mut ws) = (&mut rng(78), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_tan, f_map_tan_grad, f_map_tan_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_sinh(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.sinh()) - c).norm_squared()
}

#[test]
fn map_sinh() {
    let (r, mut ws) = (&mut rng(79), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_sinh, f_map_sinh_grad, f_map_sinh_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_cosh(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.cosh()) - c).norm_squared()
}

#[test]
fn map_cosh() {
    let (r, mut ws) = (&mut rng(80), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_cosh, f_map_cosh_grad, f_map_cosh_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_map_abs(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.abs()) - c).norm_squared()
}

#[test]
fn map_abs() {
    let (r, mut ws) = (&mut rng(81), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_abs, f_map_abs_grad, f_map_abs_grad_into; (&a, &c);
            a = away_from(r, m, n, 0.0));
    }
}

#[grad(wrt = a)]
fn f_map_recip(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.recip()) - c).norm_squared()
}

#[test]
fn map_recip() {
    let (r, mut ws) = (&mut rng(82), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_recip, f_map_recip_grad, f_map_recip_grad_into; (&a, &c);
            a = away_from(r, m, n, 0.0));
    }
}

#[grad(wrt = a)]
fn f_map_min(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.min(0.1)) - c).norm_squared()
}

#[test]
fn map_min_constant() {
    let (r, mut ws) = (&mut rng(83), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_min, f_map_min_grad, f_map_min_grad_into; (&a, &c);
            a = away_from(r, m, n, 0.1));
    }
}

#[grad(wrt = a)]
fn f_map_ln_1p(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.ln_1p()) - c).norm_squared()
}

#[test]
fn map_ln_1p() {
    let (r, mut ws) = (&mut rng(84), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_ln_1p, f_map_ln_1p_grad, f_map_ln_1p_grad_into; (&a, &c);
            a = positive(r, m, n) - DMatrix::from_element(m, n, 0.9));
    }
}

#[grad(wrt = a)]
fn f_map_exp_m1(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.map(|v| v.exp_m1()) - c).norm_squared()
}

#[test]
fn map_exp_m1() {
    let (r, mut ws) = (&mut rng(85), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_map_exp_m1, f_map_exp_m1_grad, f_map_exp_m1_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

/// Every scalar method at once, in f32, on inputs in `[0.5, 1.5]` (in every domain;
/// `max`/`min` against constants on both sides of that range, so each picks one side).
#[grad(wrt = a)]
fn f_map_methods_f32(a: &DMatrix<f32>) -> f32 {
    a.map(|v| {
        v.ln()
            + v.exp()
            + v.sqrt()
            + v.powi(3)
            + v.powf(1.5)
            + v.sin()
            + v.cos()
            + v.tan()
            + v.tanh()
            + v.sinh()
            + v.cosh()
            + v.abs()
            + v.recip()
            + v.max(0.1)
            + v.max(2.0)
            + v.min(0.1)
            + v.min(2.0)
            + v.ln_1p()
            + v.exp_m1()
    })
    .norm_squared()
}

#[test]
fn map_scalar_methods_f32() {
    let (r, mut ws) = (&mut rng(86), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_map_methods_f32, f_map_methods_f32_grad, f_map_methods_f32_grad_into;
            (&a);
            a = positive(r, m, n).cast());
    }
}

// ===========================================================================
// a.add_scalar(s)
// ===========================================================================

#[grad(wrt = (a, s))]
fn f_add_scalar(a: &DMatrix<f64>, s: f64, c: &DMatrix<f64>) -> f64 {
    (a.add_scalar(s) - c).norm_squared()
}

#[test]
fn add_scalar_matrix_and_scalar() {
    let (r, mut ws) = (&mut rng(90), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_add_scalar, f_add_scalar_grad, f_add_scalar_grad_into; (&a, s, &c);
            a = mat(r, m, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, s))]
fn f_add_scalar_f32(a: &DMatrix<f32>, s: f32) -> f32 {
    a.add_scalar(s).norm_squared()
}

#[test]
fn add_scalar_f32() {
    let (r, mut ws) = (&mut rng(91), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_add_scalar_f32, f_add_scalar_f32_grad, f_add_scalar_f32_grad_into;
            (&a, s);
            a = mat(r, m, n).cast(), s = uniform(r, -1.0, 1.0) as f32);
    }
}

// ===========================================================================
// Reductions: sum, mean, norm_squared, norm, dot
// ===========================================================================

#[grad(wrt = a)]
fn f_sum(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    s * s
}

#[test]
fn sum() {
    let (r, mut ws) = (&mut rng(100), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_sum, f_sum_grad, f_sum_grad_into; (&a); a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_mean(a: &DMatrix<f64>) -> f64 {
    let m = a.mean();
    m * m * m
}

#[test]
fn mean() {
    let (r, mut ws) = (&mut rng(101), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_mean, f_mean_grad, f_mean_grad_into; (&a); a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_norm_squared(a: &DMatrix<f64>) -> f64 {
    let n = a.norm_squared();
    n * n
}

#[test]
fn norm_squared() {
    let (r, mut ws) = (&mut rng(102), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_norm_squared, f_norm_squared_grad, f_norm_squared_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = x)]
fn f_norm_squared_vector(x: &DVector<f64>) -> f64 {
    x.norm_squared()
}

#[test]
fn norm_squared_of_vector() {
    let (r, mut ws) = (&mut rng(103), Workspace::new());
    for n in [1, 3, 7] {
        let x = vector(r, n);
        let (gx, ()) = gradcheck!(&mut ws;
            f_norm_squared_vector, f_norm_squared_vector_grad, f_norm_squared_vector_grad_into;
            (&x); x = x.clone());
        assert_close("∂‖x‖²/∂x = 2x", &gx, &(2.0 * &x), 1e-12);
    }
}

#[grad(wrt = a)]
fn f_norm(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a - c).norm()
}

#[test]
fn norm() {
    let (r, mut ws) = (&mut rng(104), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_norm, f_norm_grad, f_norm_grad_into; (&a, &c); a = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_dot(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let d = a.dot(b);
    d * d + d
}

#[test]
fn dot_both_operands() {
    let (r, mut ws) = (&mut rng(105), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_dot, f_dot_grad, f_dot_grad_into; (&a, &b);
            a = mat(r, m, n), b = mat(r, m, n));
    }
}

#[grad(wrt = (x, y))]
fn f_dot_vectors(x: &DVector<f64>, y: &DVector<f64>, w: &DMatrix<f64>) -> f64 {
    (w * x).dot(y)
}

#[test]
fn dot_of_vectors() {
    let (r, mut ws) = (&mut rng(106), Workspace::new());
    for (m, n) in SHAPES {
        let w = mat(r, m, n);
        gradcheck!(&mut ws; f_dot_vectors, f_dot_vectors_grad, f_dot_vectors_grad_into;
            (&x, &y, &w);
            x = vector(r, n), y = vector(r, m));
    }
}

#[grad(wrt = (a, b))]
fn f_reductions_f32(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    a.sum() * a.mean() + a.norm_squared() + a.norm() + a.dot(b) * b.sum()
}

#[test]
fn reductions_f32() {
    let (r, mut ws) = (&mut rng(107), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_reductions_f32, f_reductions_f32_grad, f_reductions_f32_grad_into;
            (&a, &b);
            a = mat(r, m, n).cast(), b = mat(r, m, n).cast());
    }
}

// ===========================================================================
// trace, determinant, inverse
// ===========================================================================

#[grad(wrt = a)]
fn f_trace(a: &DMatrix<f64>) -> f64 {
    let t = a.trace();
    t * t
}

#[test]
fn trace() {
    let (r, mut ws) = (&mut rng(110), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_trace, f_trace_grad, f_trace_grad_into; (&a); a = mat(r, n, n));
    }
}

#[grad(wrt = (a, b))]
fn f_trace_of_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * b).trace()
}

#[test]
fn trace_of_product() {
    let (r, mut ws) = (&mut rng(111), Workspace::new());
    for (m, n) in SHAPES {
        let (ga, (gb, ())) = gradcheck!(&mut ws;
            f_trace_of_product, f_trace_of_product_grad, f_trace_of_product_grad_into;
            (&a, &b); a = mat(r, m, n), b = mat(r, n, m));
        assert_eq!((ga.shape(), gb.shape()), ((m, n), (n, m)));
    }
}

/// The adjoint of a trace is `s̄ I`, and of the product under it `s̄ Bᵀ`: neither is
/// stored, so these check every way a product or an axpy can read them (a transposed
/// operand, a transpose node, a scale, a second use, a trace of a product chain).
#[grad(wrt = (x, c))]
fn f_trace_folds(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, c: f64) -> f64 {
    let t = (a * x.transpose() * b).trace();
    let u = ((a * x.transpose()).transpose() * b.transpose()).trace();
    let v = (x.transpose() * x).trace() * c - 3.0 * (a * x.transpose()).trace();
    t * c + u + v + (x * x.transpose()).trace()
}

#[test]
fn trace_folds() {
    let (r, mut ws) = (&mut rng(122), Workspace::new());
    for (m, n) in SHAPES {
        let (a, b) = (mat(r, m, n), mat(r, m, m));
        let (gx, (gc, ())) = gradcheck!(&mut ws;
            f_trace_folds, f_trace_folds_grad, f_trace_folds_grad_into;
            (&a, &x, &b, c); x = mat(r, m, n), c = 0.7);
        assert_eq!(gx.shape(), (m, n));
        assert!(gc.is_finite());
    }
}

/// `∂f/∂(a b) = 2 (a b c) cᵀ` is read only by the two products that send it to `a`
/// and `b`, as the chains `2 (a b c) cᵀ bᵀ` and `2 aᵀ (a b c) cᵀ`: the shapes decide at
/// run time whether to store it or let each chain take its cheaper order. A narrow
/// `c` (p = 1) makes the chains cheaper, a wide one (p = 20) storing it.
#[grad(wrt = (a, b))]
fn f_product_chain(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b * c).norm_squared()
}

#[test]
fn product_chain_both_orders() {
    let (r, mut ws) = (&mut rng(123), Workspace::new());
    for (m, k, n, p) in [
        (1, 1, 1, 1),
        (2, 3, 4, 1),
        (5, 5, 5, 1),
        (5, 5, 5, 20),
        (3, 1, 4, 2),
    ] {
        let c = mat(r, n, p);
        let (ga, (gb, ())) = gradcheck!(&mut ws;
            f_product_chain, f_product_chain_grad, f_product_chain_grad_into;
            (&a, &b, &c); a = mat(r, m, k), b = mat(r, k, n));
        assert_eq!((ga.shape(), gb.shape()), ((m, k), (k, n)));
    }
}

#[grad(wrt = a)]
fn f_determinant(a: &DMatrix<f64>) -> f64 {
    a.determinant()
}

#[test]
fn determinant() {
    let (r, mut ws) = (&mut rng(112), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_determinant, f_determinant_grad, f_determinant_grad_into; (&a);
            a = dominant(r, n));
    }
    for n in SQUARE {
        gradcheck!(&mut ws; f_determinant, f_determinant_grad, f_determinant_grad_into; (&a);
            a = negative_det(r, n));
    }
}

#[grad(wrt = (a, b))]
fn f_inverse_unwrap(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let inv = a.clone().try_inverse().unwrap();
    (inv * b).norm_squared()
}

#[test]
fn inverse_unwrap() {
    let (r, mut ws) = (&mut rng(113), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_inverse_unwrap, f_inverse_unwrap_grad, f_inverse_unwrap_grad_into;
            (&a, &b);
            a = dominant(r, n), b = mat(r, n, 2));
    }
}

/// A quadratic form through an inverse: `P̄ = u ḡ wᵀ` is never stored, and the
/// inverse's adjoint `−Pᵀ P̄ Pᵀ` is one chain, `−(Pᵀu) ḡ (wᵀPᵀ)`; with a matrix in
/// the middle too (`(c P) w`), and in f64 at sizes 1, 2, 5.
#[grad(wrt = (a, u, w))]
fn f_inverse_quadratic(
    a: &DMatrix<f64>,
    u: &DVector<f64>,
    w: &DVector<f64>,
    c: &DMatrix<f64>,
) -> f64 {
    let p = a.clone().try_inverse().unwrap();
    (u.transpose() * &p * w)[(0, 0)] + (c * &p * w).norm_squared()
}

#[test]
fn inverse_in_a_quadratic_form() {
    let (r, mut ws) = (&mut rng(116), Workspace::new());
    for n in SQUARE {
        let c = mat(r, 3, n);
        gradcheck!(&mut ws; f_inverse_quadratic, f_inverse_quadratic_grad, f_inverse_quadratic_grad_into;
            (&a, &u, &w, &c);
            a = dominant(r, n), u = vector(r, n), w = vector(r, n));
    }
}

#[grad(wrt = a)]
fn f_inverse_expect(a: DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let inv = a.try_inverse().expect("a is invertible");
    inv.component_mul(c).sum()
}

#[test]
fn inverse_expect_by_value() {
    let (r, mut ws) = (&mut rng(114), Workspace::new());
    for n in SQUARE {
        let c = mat(r, n, n);
        gradcheck!(&mut ws; f_inverse_expect, f_inverse_expect_grad, f_inverse_expect_grad_into;
            (a, &c);
            a = negative_det(r, n));
    }
}

/// `det a` and `ln |det a|` reuse the function's own `a⁻¹` for their adjoints.
#[grad(wrt = a)]
fn f_shared_inverse(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let inv = a.clone().try_inverse().unwrap();
    ln_det(a) + 0.5 * a.determinant() + (inv * c).trace()
}

#[test]
fn determinant_and_ln_det_share_the_inverse() {
    let (r, mut ws) = (&mut rng(124), Workspace::new());
    for n in [1, 2, 3, 5] {
        let c = mat(r, n, n);
        gradcheck!(&mut ws; f_shared_inverse, f_shared_inverse_grad, f_shared_inverse_grad_into;
            (&a, &c); a = dominant(r, n));
    }
}

#[grad(wrt = (a, b))]
fn f_matrix_fns_f32(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    let inv = (a + b).try_inverse().expect("invertible");
    (a * b).trace() + a.determinant() + inv.norm_squared()
}

#[test]
fn trace_determinant_inverse_f32() {
    let (r, mut ws) = (&mut rng(115), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws;
            f_matrix_fns_f32, f_matrix_fns_f32_grad, f_matrix_fns_f32_grad_into;
            (&a, &b);
            a = (dominant(r, n) / (n as f64 + 1.0)).cast(), b = (0.1 * mat(r, n, n)).cast());
    }
}

// ===========================================================================
// a.kronecker(&b)
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_kronecker(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.kronecker(b) - c).norm_squared()
}

#[test]
fn kronecker_both_operands() {
    let (r, mut ws) = (&mut rng(120), Workspace::new());
    for ((ma, na), (mb, nb)) in [
        ((1, 1), (1, 1)),
        ((2, 3), (3, 1)),
        ((1, 2), (2, 2)),
        ((3, 1), (1, 4)),
    ] {
        let c = mat(r, ma * mb, na * nb);
        gradcheck!(&mut ws; f_kronecker, f_kronecker_grad, f_kronecker_grad_into; (&a, &b, &c);
            a = mat(r, ma, na), b = mat(r, mb, nb));
    }
}

#[grad(wrt = (a, b))]
fn f_kronecker_f32(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    a.kronecker(b).map(|v| v.sin()).sum()
}

#[test]
fn kronecker_f32() {
    let (r, mut ws) = (&mut rng(121), Workspace::new());
    for ((ma, na), (mb, nb)) in [((1, 1), (1, 1)), ((2, 3), (3, 1)), ((1, 2), (2, 2))] {
        gradcheck!(&mut ws; f_kronecker_f32, f_kronecker_f32_grad, f_kronecker_f32_grad_into;
            (&a, &b);
            a = mat(r, ma, na).cast(), b = mat(r, mb, nb).cast());
    }
}

// ===========================================================================
// a[(i, j)]
// ===========================================================================

#[grad(wrt = (x, a))]
fn f_index_quadratic(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

#[test]
fn index_of_1x1_product() {
    let (r, mut ws) = (&mut rng(130), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_index_quadratic, f_index_quadratic_grad, f_index_quadratic_grad_into;
            (&x, &a);
            x = vector(r, n), a = mat(r, n, n));
    }
}

#[grad(wrt = (a, b))]
fn f_index_entries(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let p = a * b;
    p[(1, 0)] * p[(0, 1)] + p[(1, 1)]
}

#[test]
fn index_entries() {
    let (r, mut ws) = (&mut rng(131), Workspace::new());
    for (m, k, n) in [(2, 1, 2), (3, 4, 2), (2, 3, 5)] {
        gradcheck!(&mut ws; f_index_entries, f_index_entries_grad, f_index_entries_grad_into;
            (&a, &b);
            a = mat(r, m, k), b = mat(r, k, n));
    }
}

#[grad(wrt = (x, a))]
fn f_index_f32(x: &na::DVector<f32>, a: &na::DMatrix<f32>) -> f32 {
    (x.transpose() * a * x)[(0, 0)] + a[(0, 0)]
}

#[test]
fn index_f32() {
    let (r, mut ws) = (&mut rng(132), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_index_f32, f_index_f32_grad, f_index_f32_grad_into; (&x, &a);
            x = vector(r, n).cast(), a = mat(r, n, n).cast());
    }
}

// ===========================================================================
// a.diagonal(), a.column(j): parts of a matrix
// ===========================================================================

#[grad(wrt = (a, v))]
fn f_diagonal(a: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    // Twice, and beside another use of `a`: the first contribution overwrites, the
    // later ones accumulate.
    a.diagonal().component_mul(v).sum() + a.diagonal().norm_squared() + a.norm_squared()
}

#[test]
fn diagonal() {
    let (r, mut ws) = (&mut rng(133), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_diagonal, f_diagonal_grad, f_diagonal_grad_into; (&a, &v);
            a = mat(r, n, n), v = vector(r, n));
    }
}

#[grad(wrt = (x, w))]
fn f_diagonal_of_product(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    (x * w).diagonal().map(|d| d.tanh()).sum()
}

#[test]
fn diagonal_of_a_product() {
    let (r, mut ws) = (&mut rng(134), Workspace::new());
    for (m, k) in [(1, 1), (2, 3), (4, 2)] {
        gradcheck!(&mut ws; f_diagonal_of_product, f_diagonal_of_product_grad, f_diagonal_of_product_grad_into;
            (&x, &w);
            x = mat(r, m, k), w = mat(r, k, m));
    }
}

#[grad(wrt = a)]
fn f_diagonal_f32(a: &DMatrix<f32>) -> f32 {
    a.diagonal().map(|d| d * d * d).sum()
}

#[test]
fn diagonal_f32() {
    let (r, mut ws) = (&mut rng(135), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_diagonal_f32, f_diagonal_f32_grad, f_diagonal_f32_grad_into; (&a,);
            a = mat(r, n, n).cast());
    }
}

#[grad(wrt = (a, b))]
fn f_column(a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    // A literal index and an expression of the shapes: the same column when `a` has
    // one, so its adjoint accumulates.
    a.column(0).dot(b) + a.column(a.ncols() - 1).norm_squared()
}

#[test]
fn column() {
    let (r, mut ws) = (&mut rng(136), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_column, f_column_grad, f_column_grad_into; (&a, &b);
            a = mat(r, m, n), b = vector(r, m));
    }
}

#[grad(wrt = (x, w))]
fn f_column_of_product(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let z = x * w;
    (z.column(1) - y).norm_squared() + w.column(0).sum()
}

#[test]
fn column_of_a_product() {
    let (r, mut ws) = (&mut rng(137), Workspace::new());
    for (m, k, n) in [(1, 1, 2), (2, 3, 4), (4, 1, 3)] {
        let y = vector(r, m);
        gradcheck!(&mut ws; f_column_of_product, f_column_of_product_grad, f_column_of_product_grad_into;
            (&x, &w, &y);
            x = mat(r, m, k), w = mat(r, k, n));
    }
}

#[grad(wrt = a)]
fn f_column_f32(a: &DMatrix<f32>) -> f32 {
    a.column(a.ncols() / 2).map(|c| c.sin()).sum()
}

#[test]
fn column_f32() {
    let (r, mut ws) = (&mut rng(138), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_column_f32, f_column_f32_grad, f_column_f32_grad_into; (&a,);
            a = mat(r, m, n).cast());
    }
}

// ===========================================================================
// Views: a.row(i), a.rows(i, n), a.columns(j, n)
// ===========================================================================

#[grad(wrt = a)]
fn f_row(a: &DMatrix<f64>, r: &RowDVector<f64>) -> f64 {
    // A literal index and an expression of the shapes: the same row when `a` has
    // one, so its adjoint accumulates.
    a.row(0).dot(r) + a.row(a.nrows() - 1).norm_squared()
}

#[test]
fn row_of_a_matrix() {
    let (r, mut ws) = (&mut rng(301), Workspace::new());
    for (m, n) in SHAPES {
        let rr = row(r, n);
        gradcheck!(&mut ws; f_row, f_row_grad, f_row_grad_into; (&a, &rr);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_rows(a: &DMatrix<f64>) -> f64 {
    // Blocks that overlap (all of `a` when it has one row): adjoints accumulate.
    a.rows(0, 1).map(|v| v.sin()).sum()
        + a.rows(a.nrows() / 2, a.nrows() - a.nrows() / 2)
            .norm_squared()
        + a.rows(0, a.nrows()).sum()
}

#[test]
fn rows_of_a_matrix() {
    let (r, mut ws) = (&mut rng(302), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_rows, f_rows_grad, f_rows_grad_into; (&a,);
            a = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_columns(a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    (a.columns(0, 1) - b).norm_squared()
        + a.columns(a.ncols() - 1, 1).sum() * a.columns(0, a.ncols()).norm()
}

#[test]
fn columns_of_a_matrix() {
    let (r, mut ws) = (&mut rng(303), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_columns, f_columns_grad, f_columns_grad_into; (&a, &b);
            a = mat(r, m, n), b = vector(r, m));
    }
}

#[grad(wrt = (x, w))]
fn f_views_of_product(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &RowDVector<f64>) -> f64 {
    let z = x * w;
    (z.row(0) - y).norm_squared() + z.columns(0, 1).sum() + w.rows(0, w.nrows() - 1).norm_squared()
}

#[test]
fn views_of_a_product() {
    let (r, mut ws) = (&mut rng(304), Workspace::new());
    for (m, k, n) in PRODUCT {
        let y = row(r, n);
        gradcheck!(&mut ws; f_views_of_product, f_views_of_product_grad,
            f_views_of_product_grad_into; (&x, &w, &y);
            x = mat(r, m, k), w = mat(r, k, n));
    }
}

#[grad(wrt = a)]
fn f_views_f32(a: &DMatrix<f32>) -> f32 {
    a.rows(a.nrows() - 1, 1).map(|c| c.sin()).sum()
        + a.row(0).sum()
        + a.columns(0, 1).norm_squared()
}

#[test]
fn views_f32() {
    let (r, mut ws) = (&mut rng(305), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_views_f32, f_views_f32_grad, f_views_f32_grad_into; (&a,);
            a = mat(r, m, n).cast());
    }
}

#[grad(wrt = theta)]
fn f_weights_and_bias(theta: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    // The last entry of `theta` is the bias.
    let w = theta.rows(0, theta.len() - 1);
    let b = theta.rows(theta.len() - 1, 1).sum();
    ((x * w).add_scalar(b) - y).norm_squared()
}

#[test]
fn weights_and_bias_from_one_vector() {
    let (r, mut ws) = (&mut rng(306), Workspace::new());
    for (m, d) in SHAPES {
        let (x, y) = (mat(r, m, d), vector(r, m));
        gradcheck!(&mut ws; f_weights_and_bias, f_weights_and_bias_grad,
            f_weights_and_bias_grad_into; (&theta, &x, &y);
            theta = vector(r, d + 1));
    }
}

// ===========================================================================
// Reductions along one dimension, extreme entries, abs
// ===========================================================================

#[grad(wrt = (a, b))]
fn f_row_column_sums(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    r: &RowDVector<f64>,
    c: &DVector<f64>,
) -> f64 {
    // nalgebra's meanings: `row_sum()` is the 1×n row of column sums, `column_sum()`
    // the m×1 column of row sums.
    (a.row_sum() - r).norm_squared()
        + a.column_sum().dot(c)
        + b.row_sum().sum() * b.column_sum().sum()
}

#[test]
fn row_sum_and_column_sum() {
    let (r, mut ws) = (&mut rng(139), Workspace::new());
    for (m, n) in SHAPES {
        let (rr, c) = (row(r, n), vector(r, m));
        gradcheck!(&mut ws; f_row_column_sums, f_row_column_sums_grad, f_row_column_sums_grad_into;
            (&a, &b, &rr, &c);
            a = mat(r, m, n), b = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_row_column_means(a: &DMatrix<f64>) -> f64 {
    a.row_mean().map(|v| v.sin()).sum() + a.column_mean().norm_squared() + a.row_mean().norm()
}

#[test]
fn row_mean_and_column_mean() {
    let (r, mut ws) = (&mut rng(140), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_row_column_means, f_row_column_means_grad, f_row_column_means_grad_into;
            (&a,); a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_means_f32(a: &DMatrix<f32>) -> f32 {
    a.column_mean().map(|v| v * v).sum() + a.row_sum().norm_squared()
}

#[test]
fn means_f32() {
    let (r, mut ws) = (&mut rng(141), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_means_f32, f_means_f32_grad, f_means_f32_grad_into; (&a,);
            a = mat(r, m, n).cast());
    }
}

#[grad(wrt = (x, w))]
fn f_max_min(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.max() - 2.0 * z.min() + x.max() * x.min()
}

#[test]
fn max_and_min() {
    let (r, mut ws) = (&mut rng(142), Workspace::new());
    for (m, k, n) in PRODUCT {
        gradcheck!(&mut ws; f_max_min, f_max_min_grad, f_max_min_grad_into; (&x, &w);
            x = mat(r, m, k), w = mat(r, k, n));
    }
}

#[grad(wrt = a)]
fn f_abs(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).abs().sum() + a.abs().component_mul(b).norm_squared()
}

#[test]
fn abs() {
    let (r, mut ws) = (&mut rng(143), Workspace::new());
    for (m, n) in SHAPES {
        // Entries of a and of a − b away from abs's kink at 0.
        let a = away_from(r, m, n, 0.0);
        let b = &a - away_from(r, m, n, 0.0);
        gradcheck!(&mut ws; f_abs, f_abs_grad, f_abs_grad_into; (&a, &b); a = a);
    }
}

// ===========================================================================
// Counts as floats: batch means
// ===========================================================================

const BATCH_SCALE: usize = 2;

// `3 as f64`: the literal form of a count, on purpose.
#[allow(clippy::unnecessary_cast)]
#[grad(wrt = w)]
fn f_batch_mean(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    // The mean squared error over the batch (the rows of x), and counts of every form.
    let n = x.nrows() as f64;
    (x * w - y).norm_squared() / n
        + w.sum() / ((w.nrows() * w.ncols()) as f64)
        + w.map(|v| v / (w.len() as f64)).sum() * (BATCH_SCALE as f64)
        + 3 as f64 * w.norm_squared() / (x.ncols() + 1) as f64
}

#[test]
fn batch_mean() {
    let (r, mut ws) = (&mut rng(144), Workspace::new());
    for (m, k, n) in PRODUCT {
        let (x, y) = (mat(r, m, k), mat(r, m, n));
        gradcheck!(&mut ws; f_batch_mean, f_batch_mean_grad, f_batch_mean_grad_into; (&x, &w, &y);
            w = mat(r, k, n));
    }
}

// `w.sum() as f32`: a float cast to its own type, the no-op form, on purpose.
#[allow(clippy::unnecessary_cast)]
#[grad(wrt = w)]
fn f_batch_mean_f32(x: &DMatrix<f32>, w: &DVector<f32>) -> f32 {
    (x * w).norm_squared() / (x.nrows() as f32) + w.sum() as f32
}

#[test]
fn batch_mean_f32() {
    let (r, mut ws) = (&mut rng(145), Workspace::new());
    for (m, k, _) in PRODUCT {
        let x = mat(r, m, k).cast();
        gradcheck!(&mut ws; f_batch_mean_f32, f_batch_mean_f32_grad, f_batch_mean_f32_grad_into;
            (&x, &w); w = vector(r, k).cast());
    }
}

// ===========================================================================
// Scalar methods in the body
// ===========================================================================

#[grad(wrt = a)]
fn f_scalar_ln(a: &DMatrix<f64>) -> f64 {
    let s = a.norm_squared() + 0.5;
    s.ln()
}

#[test]
fn scalar_ln() {
    let (r, mut ws) = (&mut rng(140), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_ln, f_scalar_ln_grad, f_scalar_ln_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_exp(a: &DMatrix<f64>) -> f64 {
    let s = a.mean();
    s.exp()
}

#[test]
fn scalar_exp() {
    let (r, mut ws) = (&mut rng(141), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_exp, f_scalar_exp_grad, f_scalar_exp_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_sqrt(a: &DMatrix<f64>) -> f64 {
    let s = a.norm_squared() + 0.1;
    s.sqrt()
}

#[test]
fn scalar_sqrt() {
    let (r, mut ws) = (&mut rng(142), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_sqrt, f_scalar_sqrt_grad, f_scalar_sqrt_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_powi(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    s.powi(3) + (1.0 + a.norm_squared()).powi(-2)
}

#[test]
fn scalar_powi() {
    let (r, mut ws) = (&mut rng(143), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_powi, f_scalar_powi_grad, f_scalar_powi_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_powf(a: &DMatrix<f64>) -> f64 {
    let s = 1.0 + a.norm_squared();
    s.powf(1.5)
}

#[test]
fn scalar_powf() {
    let (r, mut ws) = (&mut rng(144), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_powf, f_scalar_powf_grad, f_scalar_powf_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_sin(a: &DMatrix<f64>) -> f64 {
    a.sum().sin()
}

#[test]
fn scalar_sin() {
    let (r, mut ws) = (&mut rng(145), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_sin, f_scalar_sin_grad, f_scalar_sin_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_cos(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    s.cos()
}

#[test]
fn scalar_cos() {
    let (r, mut ws) = (&mut rng(146), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_cos, f_scalar_cos_grad, f_scalar_cos_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_tan(a: &DMatrix<f64>) -> f64 {
    let s = a.mean();
    s.tan()
}

#[test]
fn scalar_tan() {
    let (r, mut ws) = (&mut rng(147), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_tan, f_scalar_tan_grad, f_scalar_tan_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_tanh(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    s.tanh()
}

#[test]
fn scalar_tanh() {
    let (r, mut ws) = (&mut rng(148), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_tanh, f_scalar_tanh_grad, f_scalar_tanh_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_sinh(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    s.sinh()
}

#[test]
fn scalar_sinh() {
    let (r, mut ws) = (&mut rng(149), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_sinh, f_scalar_sinh_grad, f_scalar_sinh_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_cosh(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    s.cosh()
}

#[test]
fn scalar_cosh() {
    let (r, mut ws) = (&mut rng(150), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_cosh, f_scalar_cosh_grad, f_scalar_cosh_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_abs(a: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    (s + 20.0).abs() * s + (s - 20.0).abs() * s
}

#[test]
fn scalar_abs() {
    let (r, mut ws) = (&mut rng(151), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_abs, f_scalar_abs_grad, f_scalar_abs_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_recip(a: &DMatrix<f64>) -> f64 {
    let s = 2.0 + a.mean();
    s.recip()
}

#[test]
fn scalar_recip() {
    let (r, mut ws) = (&mut rng(152), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_recip, f_scalar_recip_grad, f_scalar_recip_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_max(a: &DMatrix<f64>) -> f64 {
    let s = a.mean();
    s.max(5.0) * s + s.max(-5.0) * s
}

#[test]
fn scalar_max() {
    let (r, mut ws) = (&mut rng(153), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_max, f_scalar_max_grad, f_scalar_max_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_min(a: &DMatrix<f64>) -> f64 {
    let s = a.mean();
    s.min(5.0) * s + s.min(-5.0) * s
}

#[test]
fn scalar_min() {
    let (r, mut ws) = (&mut rng(154), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_min, f_scalar_min_grad, f_scalar_min_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_ln_1p(a: &DMatrix<f64>) -> f64 {
    a.norm_squared().ln_1p()
}

#[test]
fn scalar_ln_1p() {
    let (r, mut ws) = (&mut rng(155), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_ln_1p, f_scalar_ln_1p_grad, f_scalar_ln_1p_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_scalar_exp_m1(a: &DMatrix<f64>) -> f64 {
    let s = a.mean();
    s.exp_m1()
}

#[test]
fn scalar_exp_m1() {
    let (r, mut ws) = (&mut rng(156), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_scalar_exp_m1, f_scalar_exp_m1_grad, f_scalar_exp_m1_grad_into; (&a);
            a = mat(r, m, n));
    }
}

#[grad(wrt = (a, s))]
fn f_method_on_param(a: &DMatrix<f64>, s: f64) -> f64 {
    s.exp() * a.norm_squared() + s.sin()
}

#[test]
fn scalar_method_on_scalar_parameter() {
    let (r, mut ws) = (&mut rng(157), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_method_on_param, f_method_on_param_grad, f_method_on_param_grad_into;
            (&a, s); a = mat(r, m, n), s = uniform(r, -1.0, 1.0));
    }
}

/// Every scalar method on a scalar in the body, in f32; `s` in `[0.5, 1.5]`.
#[grad(wrt = a)]
fn f_scalar_methods_f32(a: &DMatrix<f32>) -> f32 {
    let s = a.mean();
    s.ln()
        + s.exp()
        + s.sqrt()
        + s.powi(3)
        + s.powf(1.5)
        + s.sin()
        + s.cos()
        + s.tan()
        + s.tanh()
        + s.sinh()
        + s.cosh()
        + s.abs()
        + s.recip()
        + s.max(0.1)
        + s.max(2.0)
        + s.min(0.1)
        + s.min(2.0)
        + s.ln_1p()
        + s.exp_m1()
}

#[test]
fn scalar_methods_f32() {
    let (r, mut ws) = (&mut rng(158), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_scalar_methods_f32, f_scalar_methods_f32_grad, f_scalar_methods_f32_grad_into;
            (&a); a = positive(r, m, n).cast());
    }
}

// ===========================================================================
// Runtime functions (SPEC §4)
// ===========================================================================

#[grad(wrt = a)]
fn f_sigmoid(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (sigmoid(a) - c).norm_squared()
}

#[test]
fn sigmoid_rule() {
    let (r, mut ws) = (&mut rng(160), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_sigmoid, f_sigmoid_grad, f_sigmoid_grad_into; (&a, &c);
            a = 3.0 * mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_relu(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (matgrad::relu(a) - c).norm_squared()
}

#[test]
fn relu_rule() {
    let (r, mut ws) = (&mut rng(161), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_relu, f_relu_grad, f_relu_grad_into; (&a, &c);
            a = away_from(r, m, n, 0.0));
    }
}

#[grad(wrt = a)]
fn f_softplus(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (softplus(a) - c).norm_squared()
}

#[test]
fn softplus_rule() {
    let (r, mut ws) = (&mut rng(162), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_softplus, f_softplus_grad, f_softplus_grad_into; (&a, &c);
            a = 3.0 * mat(r, m, n));
    }
}

#[grad(wrt = x)]
fn f_activations_vector(x: &DVector<f64>) -> f64 {
    (sigmoid(x) + matgrad::relu(x) + matgrad::softplus(x)).norm_squared()
}

#[test]
fn activations_of_vector() {
    let (r, mut ws) = (&mut rng(163), Workspace::new());
    for n in [1, 3, 6] {
        gradcheck!(&mut ws;
            f_activations_vector, f_activations_vector_grad, f_activations_vector_grad_into;
            (&x); x = DVector::from_column_slice(away_from(r, n, 1, 0.0).as_slice()));
    }
}

#[grad(wrt = (m, b))]
fn f_add_row(m: &DMatrix<f64>, b: &RowDVector<f64>, c: &DMatrix<f64>) -> f64 {
    (add_row(m, b) - c).norm_squared()
}

#[test]
fn add_row_both_operands() {
    let (r, mut ws) = (&mut rng(164), Workspace::new());
    for (p, n) in SHAPES {
        let c = mat(r, p, n);
        gradcheck!(&mut ws; f_add_row, f_add_row_grad, f_add_row_grad_into; (&m, &b, &c);
            m = mat(r, p, n), b = row(r, n));
    }
}

#[grad(wrt = (m, b))]
fn f_add_col(m: &DMatrix<f64>, b: &DVector<f64>, c: &DMatrix<f64>) -> f64 {
    (add_col(m, b) - c).norm_squared()
}

#[test]
fn add_col_both_operands() {
    let (r, mut ws) = (&mut rng(165), Workspace::new());
    for (p, n) in SHAPES {
        let c = mat(r, p, n);
        gradcheck!(&mut ws; f_add_col, f_add_col_grad, f_add_col_grad_into; (&m, &b, &c);
            m = mat(r, p, n), b = vector(r, p));
    }
}

#[grad(wrt = a)]
fn f_ln_det(a: &DMatrix<f64>) -> f64 {
    ln_det(a)
}

#[test]
fn ln_det_spd() {
    let (r, mut ws) = (&mut rng(166), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_ln_det, f_ln_det_grad, f_ln_det_grad_into; (&a); a = spd(r, n));
    }
}

#[test]
fn ln_det_general() {
    let (r, mut ws) = (&mut rng(167), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_ln_det, f_ln_det_grad, f_ln_det_grad_into; (&a); a = dominant(r, n));
    }
}

#[test]
fn ln_det_negative_determinant() {
    let (r, mut ws) = (&mut rng(168), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_ln_det, f_ln_det_grad, f_ln_det_grad_into; (&a);
            a = negative_det(r, n));
    }
}

#[grad(wrt = (a, b))]
fn f_ln_det_of_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let l = matgrad::ln_det(&(a * b));
    l * l
}

#[test]
fn ln_det_of_product() {
    let (r, mut ws) = (&mut rng(169), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws;
            f_ln_det_of_product, f_ln_det_of_product_grad, f_ln_det_of_product_grad_into;
            (&a, &b); a = dominant(r, n), b = negative_det(r, n));
    }
}

#[grad(wrt = a)]
fn f_log_sum_exp(a: &DMatrix<f64>) -> f64 {
    let l = log_sum_exp(a);
    l * l
}

#[test]
fn log_sum_exp_rule() {
    let (r, mut ws) = (&mut rng(170), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_log_sum_exp, f_log_sum_exp_grad, f_log_sum_exp_grad_into; (&a);
            a = 3.0 * mat(r, m, n));
    }
}

#[test]
fn log_sum_exp_large_entries() {
    let (r, mut ws) = (&mut rng(171), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_log_sum_exp, f_log_sum_exp_grad, f_log_sum_exp_grad_into; (&a);
            a = mat(r, m, n).add_scalar(800.0));
    }
}

#[grad(wrt = (z, y))]
fn f_softmax_ce(z: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    softmax_cross_entropy(z, y)
}

#[test]
fn softmax_cross_entropy_both_operands() {
    let (r, mut ws) = (&mut rng(172), Workspace::new());
    for (m, n) in SHAPES {
        // Targets: positive weights whose rows do not sum to 1, then one-hot rows.
        gradcheck!(&mut ws;
            f_softmax_ce, f_softmax_ce_grad, f_softmax_ce_grad_into;
            (&z, &y); z = 3.0 * mat(r, m, n), y = positive(r, m, n));
        gradcheck!(&mut ws;
            f_softmax_ce, f_softmax_ce_grad, f_softmax_ce_grad_into;
            (&z, &y); z = 3.0 * mat(r, m, n), y = one_hot(r, m, n));
    }
}

#[grad(wrt = (w, b))]
fn f_softmax_classifier(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    let z = add_row(&(x * w), b);
    matgrad::softmax_cross_entropy(&z, y)
}

#[test]
fn softmax_cross_entropy_classifier() {
    let (r, mut ws) = (&mut rng(173), Workspace::new());
    for (m, k, n) in [(1, 1, 1), (3, 2, 4), (5, 3, 2)] {
        let (x, y) = (mat(r, m, k), one_hot(r, m, n));
        gradcheck!(&mut ws;
            f_softmax_classifier, f_softmax_classifier_grad, f_softmax_classifier_grad_into;
            (&x, &w, &b, &y); w = mat(r, k, n), b = row(r, n));
    }
}

#[grad(wrt = a)]
fn f_activations_f32(a: &DMatrix<f32>, c: &DMatrix<f32>) -> f32 {
    (sigmoid(a) + matgrad::relu(a) + softplus(a) - c).norm_squared()
}

#[test]
fn activations_f32() {
    let (r, mut ws) = (&mut rng(174), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n).cast::<f32>();
        gradcheck!(&mut ws; f_activations_f32, f_activations_f32_grad, f_activations_f32_grad_into;
            (&a, &c);
            a = away_from(r, m, n, 0.0).cast());
    }
}

#[grad(wrt = (m, b, d))]
fn f_broadcast_f32(m: &DMatrix<f32>, b: &na::RowDVector<f32>, d: &na::DVector<f32>) -> f32 {
    add_col(&add_row(m, b), d).map(|v| v.tanh()).sum()
}

#[test]
fn add_row_add_col_f32() {
    let (r, mut ws) = (&mut rng(175), Workspace::new());
    for (p, n) in SHAPES {
        gradcheck!(&mut ws; f_broadcast_f32, f_broadcast_f32_grad, f_broadcast_f32_grad_into;
            (&m, &b, &d);
            m = mat(r, p, n).cast(), b = row(r, n).cast(), d = vector(r, p).cast());
    }
}

#[grad(wrt = (a, z))]
fn f_runtime_fns_f32(a: &DMatrix<f32>, z: &DMatrix<f32>, y: &DMatrix<f32>) -> f32 {
    ln_det(a) + log_sum_exp(z) + softmax_cross_entropy(z, y)
}

#[test]
fn ln_det_log_sum_exp_softmax_cross_entropy_f32() {
    let (r, mut ws) = (&mut rng(176), Workspace::new());
    for n in SQUARE {
        let y = positive(r, n, n + 1).cast::<f32>();
        gradcheck!(&mut ws;
            f_runtime_fns_f32, f_runtime_fns_f32_grad, f_runtime_fns_f32_grad_into;
            (&a, &z, &y); a = dominant(r, n).cast(), z = mat(r, n, n + 1).cast());
    }
}

#[grad(wrt = (z, y))]
fn f_softmax_ce_f32(z: &DMatrix<f32>, y: &DMatrix<f32>) -> f32 {
    softmax_cross_entropy(z, y)
}

#[test]
fn softmax_cross_entropy_f32() {
    let (r, mut ws) = (&mut rng(177), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_softmax_ce_f32, f_softmax_ce_f32_grad, f_softmax_ce_f32_grad_into;
            (&z, &y); z = mat(r, m, n).cast(), y = positive(r, m, n).cast());
    }
}

// ===========================================================================
// Combinations
// ===========================================================================

/// `f_matmul` with its `wrt` list reversed: the gradients come back in `wrt` order.
#[grad(wrt = (b, a))]
fn f_matmul_reversed(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b - c).norm_squared()
}

#[test]
fn several_wrt_reversed_order() {
    let (r, mut ws) = (&mut rng(200), Workspace::new());
    for (m, k, n) in PRODUCT {
        let c = mat(r, m, n);
        let (gb, (ga, ())) = gradcheck!(&mut ws;
            f_matmul_reversed, f_matmul_reversed_grad, f_matmul_reversed_grad_into;
            (&a, &b, &c); b = mat(r, k, n), a = mat(r, m, k));
        assert_eq!((gb.shape(), ga.shape()), ((k, n), (m, k)));
    }
    let (a, b, c) = (mat(r, 2, 3), mat(r, 3, 4), mat(r, 2, 4));
    let (v, ga, gb) = f_matmul_grad(&a, &b, &c);
    let (v_rev, gb_rev, ga_rev) = f_matmul_reversed_grad(&a, &b, &c);
    assert_eq!(v, v_rev);
    assert_close("∂f/∂a, wrt = (b, a)", &ga_rev, &ga, 1e-12);
    assert_close("∂f/∂b, wrt = (b, a)", &gb_rev, &gb, 1e-12);
}

/// Ridge-regularised affine regression: three `wrt`, one of them the scalar weight λ.
#[grad(wrt = (w, lambda, b))]
fn f_ridge(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    y: &DMatrix<f64>,
    lambda: f64,
) -> f64 {
    let z = add_row(&(x * w), b);
    (z - y).norm_squared() + lambda * w.norm_squared()
}

#[test]
fn scalar_wrt_regularisation_weight() {
    let (r, mut ws) = (&mut rng(201), Workspace::new());
    for (m, k, n) in PRODUCT {
        let (x, y) = (mat(r, m, k), mat(r, m, n));
        let (_, (glambda, _)) = gradcheck!(&mut ws; f_ridge, f_ridge_grad, f_ridge_grad_into;
            (&x, &w, &b, &y, lambda);
            w = mat(r, k, n), lambda = uniform(r, 0.01, 1.0), b = row(r, n));
        assert!(glambda >= 0.0, "∂f/∂λ = ‖w‖² ≥ 0, got {glambda}");
    }
}

#[grad(wrt = (w, lambda))]
fn f_ridge_f32(x: &DMatrix<f32>, w: &DMatrix<f32>, y: &DMatrix<f32>, lambda: f32) -> f32 {
    (x * w - y).norm_squared() + lambda * w.norm_squared()
}

#[test]
fn scalar_wrt_regularisation_weight_f32() {
    let (r, mut ws) = (&mut rng(202), Workspace::new());
    for (m, k, n) in PRODUCT {
        let (x, y) = (mat(r, m, k).cast::<f32>(), mat(r, m, n).cast::<f32>());
        gradcheck!(&mut ws; f_ridge_f32, f_ridge_f32_grad, f_ridge_f32_grad_into;
            (&x, &w, &y, lambda);
            w = mat(r, k, n).cast(), lambda = uniform(r, 0.01, 1.0) as f32);
    }
}

#[grad(wrt = w)]
fn f_shadowed(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let z = z.map(|v| v.tanh());
    let z = z - y;
    z.norm_squared()
}

#[test]
fn shadowed_lets() {
    let (r, mut ws) = (&mut rng(203), Workspace::new());
    for (m, k, n) in PRODUCT {
        let (x, y) = (mat(r, m, k), mat(r, m, n));
        gradcheck!(&mut ws; f_shadowed, f_shadowed_grad, f_shadowed_grad_into; (&x, &w, &y);
            w = mat(r, k, n));
    }
}

#[grad(wrt = x)]
fn f_quadratic_form(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

#[test]
fn variable_used_twice_quadratic_form() {
    let (r, mut ws) = (&mut rng(204), Workspace::new());
    for n in [1, 2, 5, 8] {
        let (a, x) = (mat(r, n, n), vector(r, n));
        let (gx, ()) = gradcheck!(&mut ws;
            f_quadratic_form, f_quadratic_form_grad, f_quadratic_form_grad_into;
            (&x, &a); x = x.clone());
        let closed = (&a + a.transpose()) * &x;
        assert_close("∂(xᵀAx)/∂x = (A + Aᵀ)x", &gx, &closed, 1e-12);
    }
}

#[grad(wrt = a)]
fn f_used_many_times(a: &DMatrix<f64>) -> f64 {
    let p = a * a;
    (p - a).norm_squared() + a.component_mul(a).sum() + a.dot(a) * a.trace()
}

#[test]
fn variable_used_many_times() {
    let (r, mut ws) = (&mut rng(205), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_used_many_times, f_used_many_times_grad, f_used_many_times_grad_into;
            (&a);
            a = mat(r, n, n));
    }
}

#[grad(wrt = (a, x, s))]
fn f_by_value(a: DMatrix<f64>, x: DVector<f64>, s: f64, y: DVector<f64>) -> f64 {
    ((a * x).scale(s) - y).norm_squared()
}

#[test]
fn by_value_parameters() {
    let (r, mut ws) = (&mut rng(206), Workspace::new());
    for (m, n) in SHAPES {
        let y = vector(r, m);
        gradcheck!(&mut ws; f_by_value, f_by_value_grad, f_by_value_grad_into; (a, x, s, y.clone());
            a = mat(r, m, n), x = vector(r, n), s = uniform(r, -2.0, 2.0));
    }
}

#[grad(wrt = (a, b))]
#[allow(clippy::needless_return)]
fn f_return_tail(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let p = a * b;
    return p.map(|v| v.sin()).sum();
}

#[test]
fn return_tail() {
    let (r, mut ws) = (&mut rng(207), Workspace::new());
    for (m, k, n) in PRODUCT {
        gradcheck!(&mut ws; f_return_tail, f_return_tail_grad, f_return_tail_grad_into; (&a, &b);
            a = mat(r, m, k), b = mat(r, k, n));
    }
}

#[grad(wrt = w)]
fn f_annotated_lets(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z: DMatrix<f64> = x * w;
    let h: nalgebra::DMatrix<f64> = z.map(|v| v.tanh());
    let s: f64 = h.norm_squared();
    s * 0.5
}

#[test]
fn let_type_annotations() {
    let (r, mut ws) = (&mut rng(208), Workspace::new());
    for (m, k, n) in PRODUCT {
        let x = mat(r, m, k);
        gradcheck!(&mut ws; f_annotated_lets, f_annotated_lets_grad, f_annotated_lets_grad_into;
            (&x, &w);
            w = mat(r, k, n));
    }
}

const LAMBDA: f64 = 0.1;

#[grad(wrt = w)]
fn f_outside_constant(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    (x * w - y).norm_squared() + LAMBDA * w.norm_squared() + std::f64::consts::PI * w.sum()
}

#[test]
fn outside_constants() {
    let (r, mut ws) = (&mut rng(209), Workspace::new());
    for (m, k, n) in PRODUCT {
        let (x, y) = (mat(r, m, k), mat(r, m, n));
        gradcheck!(&mut ws;
            f_outside_constant, f_outside_constant_grad, f_outside_constant_grad_into;
            (&x, &w, &y); w = mat(r, k, n));
    }
}

#[grad(wrt = (a, b, s))]
#[allow(unused_variables)]
fn f_unused_wrt(a: &DMatrix<f64>, b: &DVector<f64>, s: f64) -> f64 {
    a.norm_squared()
}

#[test]
fn wrt_variable_not_used_gets_zero_gradient() {
    let (r, mut ws) = (&mut rng(210), Workspace::new());
    for (m, n) in SHAPES {
        let (_, (gb, (gs, ()))) = gradcheck!(&mut ws;
            f_unused_wrt, f_unused_wrt_grad, f_unused_wrt_grad_into;
            (&a, &b, s); a = mat(r, m, n), b = vector(r, n + 1), s = uniform(r, -1.0, 1.0));
        assert_eq!(gb, DVector::zeros(n + 1));
        assert_eq!(gs, 0.0);
    }
}

#[grad(wrt = (w, x, r))]
fn f_paths(w: &nalgebra::DMatrix<f64>, x: &na::DVector<f64>, r: &na::RowDVector<f64>) -> f64 {
    let p = r * w * x;
    p[(0, 0)] * p[(0, 0)]
}

#[test]
fn nalgebra_paths_and_vector_types() {
    let (g, mut ws) = (&mut rng(211), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_paths, f_paths_grad, f_paths_grad_into; (&w, &x, &r);
            w = mat(g, m, n), x = vector(g, n), r = row(g, m));
    }
}

#[grad(wrt = (w, x))]
fn f_paths_f32(w: &nalgebra::DMatrix<f32>, x: na::DVector<f32>) -> f32 {
    (w * x).map(|v| v.tanh()).norm_squared()
}

#[test]
fn nalgebra_paths_by_value_f32() {
    let (r, mut ws) = (&mut rng(212), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_paths_f32, f_paths_f32_grad, f_paths_f32_grad_into; (&w, x);
            w = mat(r, m, n).cast(), x = vector(r, n).cast());
    }
}

#[grad(wrt = (a, b))]
fn f_no_ops(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let c = a.clone();
    let d = (&c) * (b);
    let e = &c;
    (d).norm_squared() + e.sum()
}

#[test]
fn borrow_parens_clone_are_no_ops() {
    let (r, mut ws) = (&mut rng(213), Workspace::new());
    for (m, k, n) in PRODUCT {
        gradcheck!(&mut ws; f_no_ops, f_no_ops_grad, f_no_ops_grad_into; (&a, &b);
            a = mat(r, m, k), b = mat(r, k, n));
    }
}

/// A two-layer network with every kind of parameter, to exercise `_grad_into`'s
/// workspace across calls at changing shapes.
#[grad(wrt = (w1, b1, w2, lambda))]
fn f_network(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    y: &DMatrix<f64>,
    lambda: f64,
) -> f64 {
    let h = sigmoid(&add_row(&(x * w1), b1));
    let z = h * w2;
    softmax_cross_entropy(&z, y) + lambda * (w1.norm_squared() + w2.norm_squared())
}

#[test]
fn network_workspace_reused_across_shapes() {
    let (r, mut ws) = (&mut rng(214), Workspace::new());
    for (m, k, h, n) in [(4, 3, 5, 2), (1, 1, 1, 1), (6, 2, 3, 4), (4, 3, 5, 2)] {
        let (x, y) = (mat(r, m, k), one_hot(r, m, n));
        gradcheck!(&mut ws; f_network, f_network_grad, f_network_grad_into;
            (&x, &w1, &b1, &w2, &y, lambda);
            w1 = mat(r, k, h), b1 = row(r, h), w2 = mat(r, h, n), lambda = uniform(r, 0.0, 0.5));
    }
}

// ===========================================================================
// The harness itself: it must reject a wrong gradient and an accumulating
// `_grad_into` (hand-written stand-ins for generated companions).
// ===========================================================================

fn hand_norm_squared(a: &DMatrix<f64>) -> f64 {
    a.norm_squared()
}

fn hand_norm_squared_grad_off(a: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    (
        a.norm_squared(),
        a * 2.0 + DMatrix::from_element(a.nrows(), a.ncols(), 1e-4),
    )
}

fn hand_norm_squared_grad(a: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    (a.norm_squared(), a * 2.0)
}

fn hand_norm_squared_grad_into_accumulating(
    a: &DMatrix<f64>,
    g: &mut DMatrix<f64>,
    _ws: &mut Workspace<f64>,
) -> f64 {
    if g.shape() != a.shape() {
        *g = DMatrix::zeros(a.nrows(), a.ncols());
    }
    *g += a * 2.0;
    a.norm_squared()
}

fn hand_norm_squared_grad_into(
    a: &DMatrix<f64>,
    g: &mut DMatrix<f64>,
    _ws: &mut Workspace<f64>,
) -> f64 {
    *g = a * 2.0;
    a.norm_squared()
}

#[test]
#[should_panic(expected = "gradient of `a` vs finite differences: 6 of 6 entries off")]
fn harness_rejects_wrong_gradient() {
    gradcheck!(&mut Workspace::new();
        hand_norm_squared, hand_norm_squared_grad_off, hand_norm_squared_grad_into;
        (&a); a = mat(&mut rng(0), 2, 3));
}

#[test]
#[should_panic(expected = "(second call, same outputs and workspace) gradient of `a`")]
fn harness_rejects_accumulating_grad_into() {
    gradcheck!(&mut Workspace::new();
        hand_norm_squared, hand_norm_squared_grad, hand_norm_squared_grad_into_accumulating;
        (&a); a = mat(&mut rng(0), 2, 3));
}

#[test]
fn harness_accepts_correct_gradient() {
    gradcheck!(&mut Workspace::new();
        hand_norm_squared, hand_norm_squared_grad, hand_norm_squared_grad_into;
        (&a); a = mat(&mut rng(0), 2, 3));
}

// ===========================================================================
// SPEC §6: the companions panic where the original panics; NaN and infinity
// propagate as in the original
// ===========================================================================

/// Runs `f`, which must panic, and returns its panic message.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("expected a panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .unwrap_or_default(),
    }
}

#[test]
fn shape_mismatch_panics_naming_the_shapes() {
    let (a, b, c) = (
        DMatrix::zeros(2, 3),
        DMatrix::zeros(4, 2),
        DMatrix::zeros(2, 2),
    );
    let original = panic_message(|| {
        f_matmul(&a, &b, &c);
    });
    let grad = panic_message(|| {
        f_matmul_grad(&a, &b, &c);
    });
    let into = panic_message(|| {
        let (mut ga, mut gb) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        f_matmul_grad_into(&a, &b, &c, &mut ga, &mut gb, &mut Workspace::new());
    });
    for (what, msg) in [("_grad", &grad), ("_grad_into", &into)] {
        assert!(
            msg.contains("2×3") && msg.contains("4×2"),
            "f_matmul{what} must panic naming the shapes 2×3 and 4×2 (original: {original:?}), got {msg:?}"
        );
    }
}

#[test]
fn singular_inverse_panics() {
    let (a, b) = (DMatrix::<f64>::zeros(2, 2), DMatrix::<f64>::identity(2, 2));
    panic_message(|| {
        f_inverse_unwrap(&a, &b);
    });
    panic_message(|| {
        f_inverse_unwrap_grad(&a, &b);
    });
    let original = panic_message(|| {
        f_inverse_expect(a.clone(), &b);
    });
    let grad = panic_message(|| {
        f_inverse_expect_grad(a.clone(), &b);
    });
    assert!(original.contains("a is invertible"));
    assert!(
        grad.contains("a is invertible"),
        "f_inverse_expect_grad must panic with the `expect` message, got {grad:?}"
    );
}

#[test]
fn nan_propagates() {
    let r = &mut rng(300);
    let (mut a, c) = (mat(r, 2, 3), mat(r, 2, 3));
    a[(1, 2)] = f64::NAN;
    assert!(f_neg(&a, &c).is_nan());
    let (v, g) = f_neg_grad(&a, &c);
    assert!(v.is_nan(), "value {v}");
    assert!(g[(1, 2)].is_nan(), "gradient {g}");
    let (v, g) = f_map_tanh_grad(&a, &c);
    assert!(v.is_nan(), "value {v}");
    assert!(g[(1, 2)].is_nan(), "gradient {g}");
}

#[test]
fn infinity_propagates() {
    let r = &mut rng(301);
    let (mut a, c) = (mat(r, 2, 3), mat(r, 2, 3));
    a[(0, 1)] = f64::INFINITY;
    assert_eq!(f_map_exp(&a, &c), f64::INFINITY);
    let (v, g) = f_map_exp_grad(&a, &c);
    assert_eq!(v, f64::INFINITY);
    assert_eq!(g[(0, 1)], f64::INFINITY, "gradient {g}");
    assert!(
        g.iter().filter(|x| x.is_finite()).count() == 5,
        "gradient {g}"
    );
}

// ===========================================================================
// More combinations: scalar parameters by reference, captured intermediates,
// shadowed parameters, literals, name clashes with the generated code, and
// variables reaching the value along several paths
// ===========================================================================

#[grad(wrt = (a, s))]
fn f_scalar_by_reference(a: &DMatrix<f64>, s: &f64) -> f64 {
    a.map(|v| v * s).norm_squared() + s.exp()
}

#[test]
fn scalar_parameter_by_reference() {
    let (r, mut ws) = (&mut rng(220), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_scalar_by_reference, f_scalar_by_reference_grad, f_scalar_by_reference_grad_into;
            (&a, &s); a = mat(r, m, n), s = uniform(r, -1.0, 1.0));
    }
}

#[grad(wrt = (a, b))]
fn f_capture_intermediate(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let s = a.sum();
    b.map(|v| (v * s).sin()).norm_squared()
}

#[test]
fn map_capturing_intermediate_scalar() {
    let (r, mut ws) = (&mut rng(221), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_capture_intermediate, f_capture_intermediate_grad, f_capture_intermediate_grad_into;
            (&a, &b); a = mat(r, m, n), b = mat(r, n, m));
    }
}

#[grad(wrt = w)]
fn f_shadow_parameter(w: &DMatrix<f64>) -> f64 {
    let w = w * 2.0;
    let w = w.map(|v| v.sin());
    w.norm_squared()
}

#[test]
fn shadowing_the_wrt_parameter() {
    let (r, mut ws) = (&mut rng(222), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_shadow_parameter, f_shadow_parameter_grad, f_shadow_parameter_grad_into;
            (&w); w = mat(r, m, n));
    }
}

#[grad(wrt = (a, s))]
fn f_literals(a: &DMatrix<f64>, s: f64) -> f64 {
    (-0.5 * a + a / 4.0 - a * 1e-1).norm_squared() * s.powi(2) + 1.0 / s + 2.5_f64 * s
}

#[test]
fn literals() {
    let (r, mut ws) = (&mut rng(223), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_literals, f_literals_grad, f_literals_grad_into; (&a, s);
            a = mat(r, m, n), s = uniform(r, 0.5, 2.0));
    }
}

#[grad(wrt = a)]
fn f_literal_suffixes_f32(a: &DMatrix<f32>) -> f32 {
    a.map(|v| v * 2.0_f32 + 0.5f32 * v * v).sum() * 1e-1
}

#[test]
fn literal_suffixes_f32() {
    let (r, mut ws) = (&mut rng(224), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws;
            f_literal_suffixes_f32, f_literal_suffixes_f32_grad, f_literal_suffixes_f32_grad_into;
            (&a); a = mat(r, m, n).cast());
    }
}

/// Parameters named like what the generated code might use internally.
#[grad(wrt = (ws, value, grad))]
fn f_clashing_names(ws: &DMatrix<f64>, value: &DMatrix<f64>, grad: f64, out: &DMatrix<f64>) -> f64 {
    let tmp = ws.component_mul(value);
    (tmp.scale(grad) - out).norm_squared()
}

#[test]
fn parameter_names_clashing_with_generated_code() {
    let (r, mut w) = (&mut rng(225), Workspace::new());
    for (m, n) in SHAPES {
        let out = mat(r, m, n);
        gradcheck!(&mut w; f_clashing_names, f_clashing_names_grad, f_clashing_names_grad_into;
            (&ws, &value, grad, &out);
            ws = mat(r, m, n), value = mat(r, m, n), grad = uniform(r, -1.0, 1.0));
    }
}

#[grad(wrt = a)]
fn f_gram(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a.transpose() * a - c).norm_squared()
}

#[test]
fn same_variable_both_matmul_operands() {
    let (r, mut ws) = (&mut rng(226), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, n, n);
        gradcheck!(&mut ws; f_gram, f_gram_grad, f_gram_grad_into; (&a, &c); a = mat(r, m, n));
    }
}

#[grad(wrt = a)]
fn f_normalise(a: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a / a.norm() - c).norm_squared() + (a.norm() * a).sum()
}

#[test]
fn scalar_intermediate_of_the_same_variable() {
    let (r, mut ws) = (&mut rng(227), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_normalise, f_normalise_grad, f_normalise_grad_into; (&a, &c);
            a = mat(r, m, n));
    }
}

#[grad(wrt = (a, b))]
fn f_transposes(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let p = (a * b).transpose();
    (p.transpose().transpose() - b.transpose() * a.transpose()).norm_squared() + p.trace()
}

#[test]
fn transposes_of_products() {
    let (r, mut ws) = (&mut rng(228), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_transposes, f_transposes_grad, f_transposes_grad_into; (&a, &b);
            a = mat(r, m, n), b = mat(r, n, m));
    }
}

#[grad(wrt = (x, y))]
fn f_vector_ops(x: &DVector<f64>, y: &RowDVector<f64>) -> f64 {
    let k = x.kronecker(y);
    log_sum_exp(x)
        + k.norm()
        + softmax_cross_entropy(y, &x.transpose())
        + (x.transpose() - y).mean()
}

#[test]
fn vector_kronecker_log_sum_exp_cross_entropy() {
    let (r, mut ws) = (&mut rng(229), Workspace::new());
    for n in [1, 3, 6] {
        gradcheck!(&mut ws; f_vector_ops, f_vector_ops_grad, f_vector_ops_grad_into; (&x, &y);
            x = vector(r, n), y = row(r, n));
    }
}

#[grad(wrt = (b, c))]
fn f_ln_det_gram(b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    ln_det(&(b * b.transpose() + c.component_mul(c))) + (b * b.transpose()).determinant().ln_1p()
}

#[test]
fn ln_det_of_gram_matrix() {
    let (r, mut ws) = (&mut rng(230), Workspace::new());
    for (m, n) in [(1, 1), (2, 3), (4, 5)] {
        gradcheck!(&mut ws; f_ln_det_gram, f_ln_det_gram_grad, f_ln_det_gram_grad_into; (&b, &c);
            b = mat(r, m, n), c = DMatrix::identity(m, m) + 0.1 * mat(r, m, m));
    }
}

#[grad(wrt = (x, w))]
fn f_two_paths(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let h = x * w;
    let a = h.map(|v| v.tanh());
    (&a - y).norm_squared() + h.sum() * h.mean() + a.component_div(&h.map(|v| v * v + 1.0)).sum()
}

#[test]
fn intermediate_used_along_several_paths() {
    let (r, mut ws) = (&mut rng(231), Workspace::new());
    for (m, k, n) in PRODUCT {
        let y = mat(r, m, n);
        gradcheck!(&mut ws; f_two_paths, f_two_paths_grad, f_two_paths_grad_into; (&x, &w, &y);
            x = mat(r, m, k), w = mat(r, k, n));
    }
}

// ===========================================================================
// Larger shapes (the kernels' blocked paths) and one workspace shared by
// several functions
// ===========================================================================

#[test]
fn larger_shapes() {
    let (r, mut ws) = (&mut rng(240), Workspace::new());
    let mut ws32 = Workspace::new();
    for (m, k, n) in [(8, 7, 6), (5, 8, 8), (13, 9, 11)] {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_matmul, f_matmul_grad, f_matmul_grad_into; (&a, &b, &c);
            a = mat(r, m, k), b = mat(r, k, n));
        let c = mat(r, m, n);
        gradcheck!(&mut ws;
            f_transpose_in_product, f_transpose_in_product_grad, f_transpose_in_product_grad_into;
            (&a, &b, &c); a = mat(r, k, m), b = mat(r, n, k));
        let c32 = c.cast::<f32>();
        gradcheck!(&mut ws32; f_matmul_f32, f_matmul_f32_grad, f_matmul_f32_grad_into;
            (&a, &b, &c32); a = mat(r, m, k).cast(), b = mat(r, k, n).cast());
        let (x, y) = (mat(r, m, k), one_hot(r, m, n));
        gradcheck!(&mut ws;
            f_softmax_classifier, f_softmax_classifier_grad, f_softmax_classifier_grad_into;
            (&x, &w, &b, &y); w = mat(r, k, n), b = row(r, n));
        gradcheck!(&mut ws; f_log_sum_exp, f_log_sum_exp_grad, f_log_sum_exp_grad_into; (&a);
            a = mat(r, m, n));
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_norm, f_norm_grad, f_norm_grad_into; (&a, &c); a = mat(r, m, n));
        gradcheck!(&mut ws; f_two_paths, f_two_paths_grad, f_two_paths_grad_into; (&x, &w, &y);
            x = mat(r, m, k), w = mat(r, k, n));
    }
    for n in [8, 11] {
        gradcheck!(&mut ws; f_ln_det, f_ln_det_grad, f_ln_det_grad_into; (&a); a = spd(r, n));
        gradcheck!(&mut ws; f_ln_det, f_ln_det_grad, f_ln_det_grad_into; (&a); a = dominant(r, n));
        gradcheck!(&mut ws; f_inverse_unwrap, f_inverse_unwrap_grad, f_inverse_unwrap_grad_into;
            (&a, &b); a = dominant(r, n), b = mat(r, n, 3));
    }
}

#[test]
fn workspace_shared_between_functions() {
    let (r, mut ws) = (&mut rng(241), Workspace::new());
    for (m, k, n) in [(2, 3, 4), (4, 1, 3), (2, 3, 4)] {
        let (x, y) = (mat(r, m, k), mat(r, m, n));
        gradcheck!(&mut ws; f_shadowed, f_shadowed_grad, f_shadowed_grad_into; (&x, &w, &y);
            w = mat(r, k, n));
        gradcheck!(&mut ws; f_ridge, f_ridge_grad, f_ridge_grad_into; (&x, &w, &b, &y, lambda);
            w = mat(r, k, n), lambda = 0.3, b = row(r, n));
        let c = mat(r, 2 * m, k);
        gradcheck!(&mut ws; f_kronecker, f_kronecker_grad, f_kronecker_grad_into; (&a, &b, &c);
            a = mat(r, m, k), b = mat(r, 2, 1));
        gradcheck!(&mut ws; f_ln_det, f_ln_det_grad, f_ln_det_grad_into; (&a); a = spd(r, m));
    }
}

// ===========================================================================
// Vector shapes: outer products, 1×1 results, row and column vectors
// ===========================================================================

#[grad(wrt = (x, y))]
fn f_outer_product(x: &DVector<f64>, y: &RowDVector<f64>, c: &DMatrix<f64>) -> f64 {
    (x * y - c).norm_squared() + (x * x.transpose()).trace()
}

#[test]
fn outer_product_of_vectors() {
    let (r, mut ws) = (&mut rng(250), Workspace::new());
    for (m, n) in SHAPES {
        let c = mat(r, m, n);
        gradcheck!(&mut ws; f_outer_product, f_outer_product_grad, f_outer_product_grad_into;
            (&x, &y, &c); x = vector(r, m), y = row(r, n));
    }
}

#[grad(wrt = (x, y))]
fn f_one_by_one(x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let p = x.transpose() * y;
    let q = y.transpose() * y + p;
    ln_det(&q) + q.map(|v| v.sin()).sum() + (p * 2.0).norm() + q.determinant()
}

#[test]
fn one_by_one_static_products() {
    let (r, mut ws) = (&mut rng(251), Workspace::new());
    for n in [1, 3, 6] {
        gradcheck!(&mut ws; f_one_by_one, f_one_by_one_grad, f_one_by_one_grad_into; (&x, &y);
            x = vector(r, n), y = DVector::from_column_slice(positive(r, n, 1).as_slice()));
    }
}

#[grad(wrt = (x, r, s))]
fn f_vector_methods(x: &DVector<f64>, r: &RowDVector<f64>, s: f64) -> f64 {
    let u = x.add_scalar(s).scale(s) / (1.0 + s * s);
    let v = r.component_mul(&r.transpose().transpose()).map(|t| t.exp());
    u.dot(&x.map(|t| t.cos())) + v.dot(r) + (x.transpose() - r).norm_squared() + u.mean()
}

#[test]
fn row_and_column_vector_methods() {
    let (g, mut ws) = (&mut rng(252), Workspace::new());
    for n in [1, 2, 7] {
        gradcheck!(&mut ws; f_vector_methods, f_vector_methods_grad, f_vector_methods_grad_into;
            (&x, &r, s); x = vector(g, n), r = row(g, n), s = uniform(g, -1.0, 1.0));
    }
}

// ===========================================================================
// f32 against the f64 twin of the same function (sharper than f32 finite
// differences)
// ===========================================================================

#[test]
fn f32_gradients_match_their_f64_twins() {
    let r = &mut rng(260);
    let tol = 1e-4;
    for (m, k, n) in PRODUCT {
        let (a, b, c) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let (_, ga, gb) = f_matmul_grad(&a, &b, &c);
        let (_, ga32, gb32) = f_matmul_f32_grad(&a.cast(), &b.cast(), &c.cast());
        assert_close("f_matmul_f32 ∂/∂a vs f64", &ga32.cast::<f64>(), &ga, tol);
        assert_close("f_matmul_f32 ∂/∂b vs f64", &gb32.cast::<f64>(), &gb, tol);

        let (z, y) = (3.0 * mat(r, m, n), positive(r, m, n));
        let (_, gz, gy) = f_softmax_ce_grad(&z, &y);
        let (_, gz32, gy32) = f_softmax_ce_f32_grad(&z.cast(), &y.cast());
        assert_close(
            "f_softmax_ce_f32 ∂/∂z vs f64",
            &gz32.cast::<f64>(),
            &gz,
            tol,
        );
        assert_close(
            "f_softmax_ce_f32 ∂/∂y vs f64",
            &gy32.cast::<f64>(),
            &gy,
            tol,
        );
    }
}

// ===========================================================================
// Constructors: identity, zeros, from_element
// ===========================================================================

#[grad(wrt = (s, c))]
fn f_constructors(s: &DMatrix<f64>, c: f64, v: &DVector<f64>) -> f64 {
    // The distance to the identity, a constant fill, and a variable one.
    let n = s.nrows();
    (s - DMatrix::identity(n, s.ncols())).norm_squared()
        + (s + DMatrix::<f64>::zeros(s.nrows(), s.ncols())).sum()
        + (s.component_mul(&DMatrix::from_element(s.nrows(), s.ncols(), c))).sum()
        + DVector::from_element(v.len(), c * c).dot(v)
        + nalgebra::DVector::<f64>::zeros(v.len()).sum()
}

#[test]
fn constructors() {
    let (r, mut ws) = (&mut rng(146), Workspace::new());
    for (m, n) in SHAPES {
        let v = vector(r, m);
        gradcheck!(&mut ws; f_constructors, f_constructors_grad, f_constructors_grad_into; (&s, c, &v);
            s = mat(r, m, n), c = uniform(r, -1.0, 1.0));
    }
}

#[grad(wrt = w)]
fn f_identity_f32(w: &DMatrix<f32>) -> f32 {
    (w * w.transpose() - DMatrix::identity(w.nrows(), w.nrows())).norm_squared()
}

#[test]
fn identity_f32() {
    let (r, mut ws) = (&mut rng(147), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_identity_f32, f_identity_f32_grad, f_identity_f32_grad_into; (&w,);
            w = mat(r, m, n).cast());
    }
}

// ===========================================================================
// Piecewise closures: `if … { } else { }` on comparisons
// ===========================================================================

#[grad(wrt = (x, w, d))]
fn f_huber(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>, d: f64) -> f64 {
    let r = x * w - y;
    r.map(|v| {
        if v.abs() <= d {
            0.5 * v * v
        } else {
            d * (v.abs() - 0.5 * d)
        }
    })
    .sum()
}

#[test]
fn huber() {
    let (r, mut ws) = (&mut rng(148), Workspace::new());
    for (m, k, n) in PRODUCT {
        let (x, w) = (mat(r, m, k), mat(r, k, n));
        // Residuals away from the kinks at ±d (and at 0, where |v| has one).
        let d = 0.4;
        let kinks = away_from(r, m, n, 0.0) * 1.5;
        let y = &x * &w
            - kinks.map(|v| {
                if (v.abs() - d).abs() < 0.1 {
                    v + 0.25
                } else {
                    v
                }
            });
        gradcheck!(&mut ws; f_huber, f_huber_grad, f_huber_grad_into; (&x, &w, &y, d);
            x = x, w = w, d = d);
    }
}

#[grad(wrt = a)]
fn f_piecewise_chain(a: &DMatrix<f64>) -> f64 {
    // An `else if` chain: leaky below −1, linear in between, quadratic above 1.
    a.map(|v| {
        if v < -1.0 {
            0.01 * v
        } else if v <= 1.0 {
            v
        } else {
            v * v
        }
    })
    .sum()
}

#[test]
fn piecewise_chain() {
    let (r, mut ws) = (&mut rng(149), Workspace::new());
    for (m, n) in SHAPES {
        // Away from −1 and 1: entries of ±(1 ± [0.2, 1)) and of (−0.8, 0.8).
        let a = away_from(r, m, n, 1.0).zip_map(&away_from(r, m, n, -1.0), |p, q| {
            if p > 1.0 {
                p
            } else {
                q.clamp(-1.8, 0.8)
            }
        });
        gradcheck!(&mut ws; f_piecewise_chain, f_piecewise_chain_grad, f_piecewise_chain_grad_into;
            (&a,); a = a);
    }
}

#[grad(wrt = a)]
fn f_leaky_relu_f32(a: &DMatrix<f32>) -> f32 {
    a.map(|v| if v > 0.0 { v } else { 0.01 * v }).norm_squared()
}

#[test]
fn leaky_relu_f32() {
    let (r, mut ws) = (&mut rng(150), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_leaky_relu_f32, f_leaky_relu_f32_grad, f_leaky_relu_f32_grad_into;
            (&a,); a = away_from(r, m, n, 0.0).cast());
    }
}

// ===========================================================================
// zip_map closures
// ===========================================================================

#[grad(wrt = (p, q, t))]
fn f_kl_divergence(p: &DMatrix<f64>, q: &DMatrix<f64>, t: f64) -> f64 {
    // A divergence, a closure capturing a variable scalar, and a piecewise one.
    p.zip_map(q, |a, b| a * (a / b).ln()).sum()
        + p.zip_map(q, |a, b| t * a * b + (a - b).powi(2)).sum()
        + p.zip_map(q, |a, b| if a > b { a - b } else { 0.5 * (b - a) })
            .sum()
}

#[test]
fn zip_map() {
    let (r, mut ws) = (&mut rng(151), Workspace::new());
    for (m, n) in SHAPES {
        // Positive entries for the logarithm, p − q away from the kink at 0.
        let p = positive(r, m, n) + DMatrix::from_element(m, n, 1.0);
        let q = &p - away_from(r, m, n, 0.0) * 0.5;
        gradcheck!(&mut ws; f_kl_divergence, f_kl_divergence_grad, f_kl_divergence_grad_into;
            (&p, &q, t); p = p, q = q, t = uniform(r, -1.0, 1.0));
    }
}

#[grad(wrt = a)]
fn f_zip_map_f32(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    a.zip_map(b, |x, y| x * y.sin()).norm_squared()
}

#[test]
fn zip_map_f32() {
    let (r, mut ws) = (&mut rng(152), Workspace::new());
    for (m, n) in SHAPES {
        let b = mat(r, m, n).cast();
        gradcheck!(&mut ws; f_zip_map_f32, f_zip_map_f32_grad, f_zip_map_f32_grad_into; (&a, &b);
            a = mat(r, m, n).cast());
    }
}

// ===========================================================================
// Entries at counts: v[i], a[(i, j)]
// ===========================================================================

#[grad(wrt = theta)]
fn f_bias_stored_last(x: &DMatrix<f64>, theta: &DVector<f64>, y: &DVector<f64>) -> f64 {
    // The weights are theta's first entries and the bias its last one.
    let n = theta.len();
    let b = theta[n - 1];
    let w0 = theta[0];
    (x.column(0) * w0 - y).add_scalar(b).norm_squared() + theta[(n - 1, 0)] * w0
}

#[test]
fn bias_stored_last() {
    let (r, mut ws) = (&mut rng(153), Workspace::new());
    for (m, k) in [(1, 1), (3, 2), (5, 4)] {
        let (x, y) = (mat(r, m, k), vector(r, m));
        gradcheck!(&mut ws; f_bias_stored_last, f_bias_stored_last_grad, f_bias_stored_last_grad_into;
            (&x, &theta, &y); theta = vector(r, k + 1));
    }
}

#[grad(wrt = a)]
fn f_entries_at_counts(a: &DMatrix<f64>, r: &RowDVector<f64>) -> f64 {
    a[(a.nrows() - 1, a.ncols() / 2)] * a[(0, a.ncols() - 1)] + r[r.len() - 1] * a[(0, 0)]
}

#[test]
fn entries_at_counts() {
    let (r, mut ws) = (&mut rng(154), Workspace::new());
    for (m, n) in SHAPES {
        let rr = row(r, n);
        gradcheck!(&mut ws; f_entries_at_counts, f_entries_at_counts_grad, f_entries_at_counts_grad_into;
            (&a, &rr); a = mat(r, m, n));
    }
}

// ===========================================================================
// usize parameters: counts
// ===========================================================================

#[grad(wrt = (x, w))]
fn f_count_parameters(x: &DMatrix<f64>, w: &DMatrix<f64>, k: usize, batch: &usize) -> f64 {
    // A column chosen by a parameter, a block as long as another, a mean over a batch
    // size passed in.
    (x * w).column(k).norm_squared() / (*batch as f64)
        + w.rows(0, k + 1).sum() * (k as f64)
        + DMatrix::<f64>::identity(k + 1, k + 1).sum() * x[(0, k)]
}

#[test]
fn count_parameters() {
    let (r, mut ws) = (&mut rng(155), Workspace::new());
    for (m, n, k) in [(1, 1, 0), (3, 2, 1), (4, 3, 2)] {
        // x is m×n, w is n×n, so k < n indexes both.
        let batch = m + 1;
        gradcheck!(&mut ws; f_count_parameters, f_count_parameters_grad, f_count_parameters_grad_into;
            (&x, &w, k, &batch); x = mat(r, m, n), w = mat(r, n, n));
    }
}

// ===========================================================================
// a.view((i, j), (r, c))
// ===========================================================================

#[grad(wrt = (a, w))]
fn f_view(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    // A literal block, a block sized by the shapes, overlapping: the adjoint accumulates.
    a.view((0, 0), (1, 1)).sum() * 3.0
        + a.view((a.nrows() - 1, 0), (1, a.ncols())).norm_squared()
        + (a * w).view((0, 0), (a.nrows(), 1)).map(|v| v.sin()).sum()
}

#[test]
fn view() {
    let (r, mut ws) = (&mut rng(156), Workspace::new());
    for (m, k, n) in PRODUCT {
        gradcheck!(&mut ws; f_view, f_view_grad, f_view_grad_into; (&a, &w);
            a = mat(r, m, k), w = mat(r, k, n));
    }
}

#[grad(wrt = a)]
fn f_view_f32(a: &DMatrix<f32>) -> f32 {
    a.view((0, a.ncols() - 1), (a.nrows(), 1))
        .map(|v| v * v * v)
        .sum()
}

#[test]
fn view_f32() {
    let (r, mut ws) = (&mut rng(157), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_view_f32, f_view_f32_grad, f_view_f32_grad_into; (&a,);
            a = mat(r, m, n).cast());
    }
}

// ===========================================================================
// lower_triangle, upper_triangle
// ===========================================================================

#[grad(wrt = (l, w))]
fn f_triangles(l: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    // A Cholesky-style parameterisation, and both triangles of a product.
    let t = l.lower_triangle();
    (&t * t.transpose()).norm_squared() + (l * w).upper_triangle().map(|v| v.sin()).sum()
}

#[test]
fn triangles() {
    let (r, mut ws) = (&mut rng(158), Workspace::new());
    for (m, k, n) in PRODUCT {
        gradcheck!(&mut ws; f_triangles, f_triangles_grad, f_triangles_grad_into; (&l, &w);
            l = mat(r, m, k), w = mat(r, k, n));
    }
}

// ===========================================================================
// Functions generic over the float type: one definition, f64 and f32
// ===========================================================================

#[grad(wrt = (w, b))]
fn f_generic_regression<T: na::RealField + Copy>(
    x: &DMatrix<T>,
    w: &DVector<T>,
    b: T,
    y: &DVector<T>,
) -> T {
    // A batch mean, constants written as generic code writes them, a closure.
    let n = T::from_usize(x.nrows()).unwrap();
    let r = (x * w).add_scalar(b) - y;
    let half = T::from_f64(0.5).unwrap();
    r.map(|v| half * v * v + (v * nalgebra::convert(0.3)).tanh())
        .sum()
        / n
        + na::convert::<f64, T>(1e-2) * w.norm_squared()
        + T::one() * b * b
}

#[grad(wrt = (w, s))]
fn f_generic_where<T>(x: &DMatrix<T>, w: &DMatrix<T>, s: T) -> T
where
    // matgrad's own functions (`sigmoid`) are defined for `matgrad::Real`.
    T: na::RealField + Copy + matgrad::Real,
{
    // Piecewise in a closure, sigmoid, a mean over columns and an identity.
    let z = sigmoid(&(x * w)).map(|v| {
        if v > T::from_f64(0.5).unwrap() {
            v * v
        } else {
            v * s
        }
    });
    let i = DMatrix::<T>::identity(w.nrows(), w.ncols());
    z.column_mean().norm_squared() + (w - i).norm_squared() / T::from_usize(w.len()).unwrap()
}

#[test]
fn generic_float_type() {
    let (r, mut ws) = (&mut rng(160), Workspace::new());
    let mut ws32 = Workspace::<f32>::new();
    for (m, k, n) in PRODUCT {
        let (x, w, y) = (mat(r, m, k), vector(r, k), vector(r, m));
        let b = uniform(r, -1.0, 1.0);
        gradcheck!(&mut ws; f_generic_regression, f_generic_regression_grad,
            f_generic_regression_grad_into; (&x, &w, b, &y); w = w.clone(), b = b);
        let (x32, y32) = (x.cast::<f32>(), y.cast::<f32>());
        gradcheck!(&mut ws32; f_generic_regression, f_generic_regression_grad,
            f_generic_regression_grad_into; (&x32, &w, b, &y32); w = w.cast::<f32>(), b = b as f32);
        // x w away from 0 so that σ(x w) stays away from the branch at ½.
        let (x, w) = (positive(r, m, k), positive(r, k, n));
        let s = uniform(r, -1.0, 1.0);
        gradcheck!(&mut ws; f_generic_where, f_generic_where_grad, f_generic_where_grad_into;
            (&x, &w, s); w = w.clone(), s = s);
        let x32 = x.cast::<f32>();
        gradcheck!(&mut ws32; f_generic_where, f_generic_where_grad, f_generic_where_grad_into;
            (&x32, &w, s); w = w.cast::<f32>(), s = s as f32);
    }
}

// ===========================================================================
// from_diagonal, and static matrices from scalars (`Vector2::new`, `Matrix2::new`)
// ===========================================================================

#[grad(wrt = (v, a))]
fn f_from_diagonal(v: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    // A Cholesky-style factor from a diagonal and a strictly lower part.
    let d = DMatrix::from_diagonal(&v.map(|x| x.exp()));
    let l = d + a.lower_triangle() - DMatrix::from_diagonal(&a.diagonal());
    (&l * l.transpose()).norm_squared() + DMatrix::<f64>::from_diagonal(v).sum()
}

#[test]
fn from_diagonal() {
    let (r, mut ws) = (&mut rng(161), Workspace::new());
    for n in SQUARE {
        gradcheck!(&mut ws; f_from_diagonal, f_from_diagonal_grad, f_from_diagonal_grad_into;
            (&v, &a); v = vector(r, n), a = mat(r, n, n));
    }
}

#[grad(wrt = (x, a, b))]
fn f_new_from_scalars(x: &DMatrix<f64>, a: f64, b: f64, theta: &DVector<f64>) -> f64 {
    // A 2-parameter model x [a; b] with parameters built from scalars, a 2×2 built
    // from entries of theta (row-major argument order), and a row.
    let w = na::Vector2::new(a, b * b);
    let m = na::Matrix2::new(theta[0], 2.0 * theta[1], a, theta[0] * b);
    let r = na::RowVector2::new(a.sin(), b);
    (x * w).norm_squared() + (m * w).sum() + (r * m * w)[(0, 0)] + m[(0, 1)]
}

#[test]
fn new_from_scalars() {
    let (r, mut ws) = (&mut rng(162), Workspace::new());
    for m in [1, 3, 5] {
        let (x, theta) = (mat(r, m, 2), vector(r, 2));
        gradcheck!(&mut ws; f_new_from_scalars, f_new_from_scalars_grad,
            f_new_from_scalars_grad_into; (&x, a, b, &theta);
            x = x.clone(), a = uniform(r, -1.0, 1.0), b = uniform(r, -1.0, 1.0));
    }
}

#[grad(wrt = (z, k))]
fn f_map_captures_entry(z: &DMatrix<f64>, k: &DMatrix<f64>) -> f64 {
    // Entries of the body captured by closures: each a scalar of the body, whose
    // adjoint collects every entry's share.
    z.map(|v| v * k[(0, 0)] + (v * z[(0, 0)]).tanh()).sum()
        + z.zip_map(z, |p, q| p * q * k[(k.nrows() - 1, 0)]).sum()
}

#[test]
fn map_captures_entry() {
    let (r, mut ws) = (&mut rng(163), Workspace::new());
    for (m, n) in SHAPES {
        gradcheck!(&mut ws; f_map_captures_entry, f_map_captures_entry_grad,
            f_map_captures_entry_grad_into; (&z, &k); z = mat(r, m, n), k = mat(r, n, m));
    }
}

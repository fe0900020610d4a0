//! The generated companions pass the strictest lint levels a user may set: rustc's
//! warnings, `missing_docs`, `clippy::all` and `clippy::pedantic` (checked by
//! `cargo clippy --workspace --all-targets -- -D warnings`), and the allow-by-default
//! rustc lints careful crates turn on. (`tests/ui-pass/` checks the same under plain
//! `rustc` with trybuild, and the hygiene of the generated names.)
#![deny(
    warnings,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rust_2018_idioms,
    unused_qualifications,
    trivial_casts,
    trivial_numeric_casts,
    unused_results,
    unsafe_code,
    unreachable_pub,
    single_use_lifetimes,
    let_underscore_drop,
    missing_debug_implementations
)]
// Pedantic lints that fire on the user's own code, not on what `#[grad]` generates:
// the one-letter names of the formulas (x, w, y, z, a), and `map(|v| v.tanh())`,
// which matgrad requires where clippy would write `map(f64::tanh)`.
#![allow(
    clippy::many_single_char_names,
    clippy::redundant_closure_for_method_calls
)]

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

/// Annotated functions covering each parameter kind and each family of operations.
pub mod losses {
    use matgrad::{add_col, add_row, grad, ln_det, log_sum_exp, relu, sigmoid};
    use matgrad::{softmax_cross_entropy, softplus};
    use nalgebra::{DMatrix, DVector, RowDVector};

    /// Tanh layer with squared error.
    #[grad(wrt = w)]
    #[must_use]
    pub fn tanh_layer(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        let z = x * w;
        let a = z.map(|v| v.tanh());
        (a - y).norm_squared()
    }

    /// Two-layer classifier: eight parameters for `_grad_into`.
    #[grad(wrt = (w1, b1, w2, b2))]
    #[must_use]
    pub fn mlp(
        x: &DMatrix<f64>,
        y: &DMatrix<f64>,
        w1: &DMatrix<f64>,
        b1: &RowDVector<f64>,
        w2: &DMatrix<f64>,
        b2: &RowDVector<f64>,
    ) -> f64 {
        let h = relu(&add_row(&(x * w1), b1));
        let z = add_row(&(h * w2), b2);
        softmax_cross_entropy(&z, y)
    }

    /// Every runtime function, a column broadcast and a vector parameter.
    #[grad(wrt = (a, c))]
    #[must_use]
    pub fn runtime(a: &DMatrix<f64>, c: &DVector<f64>) -> f64 {
        let b = add_col(a, c);
        let s = sigmoid(&b).sum() + softplus(&b).mean();
        s + log_sum_exp(&b) + ln_det(&(a * a.transpose()))
    }

    /// Scalars by value and by reference, `map` with captures and `return`.
    #[grad(wrt = (a, s, t))]
    #[allow(clippy::needless_pass_by_value, clippy::needless_return)]
    #[must_use]
    pub fn scalars(a: DMatrix<f64>, s: f64, t: &f64) -> f64 {
        let t = *t;
        let b = a.map(|v| (v * s).sin() + t * v.powi(2) - (v / s).exp().max(0.5));
        let u = (s * t).sqrt().ln() + s.recip().abs();
        return b.dot(&a) * u + a.scale(s).add_scalar(t).trace();
    }

    /// Kronecker product, inverse, determinant and one entry.
    ///
    /// # Panics
    ///
    /// When `a` is singular.
    #[grad(wrt = (a, b))]
    #[must_use]
    pub fn linear_algebra(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        let k = a.kronecker(b);
        let i = a.clone().try_inverse().unwrap();
        let q = (b.transpose() * &i * b)[(0, 0)];
        k.norm() + i.component_div(&b.add_scalar(5.0)).sum() + a.determinant() * q
    }

    /// In `f32`, with an outside constant and a row vector by value.
    #[grad(wrt = (w, r))]
    #[allow(clippy::needless_pass_by_value)]
    #[must_use]
    pub fn single(x: &DMatrix<f32>, w: &DMatrix<f32>, r: RowDVector<f32>) -> f32 {
        let z = add_row(&(x * w), &r).component_mul(&(x * w));
        -z.sum() * std::f32::consts::PI / 2.0
    }
}

/// Static sizes: the straight-line backend under the same lints.
pub mod fixed {
    use matgrad::{add_row, grad, ln_det, log_sum_exp, relu, sigmoid, softplus};
    use nalgebra::{Matrix2, Matrix2x3, Matrix3, RowVector3, Vector3};

    /// Pose residual with every family of operations on static types.
    ///
    /// # Panics
    ///
    /// When `r` is singular.
    #[grad(wrt = (r, t, s))]
    #[allow(clippy::needless_pass_by_value)]
    #[must_use]
    pub fn everything(
        r: &Matrix3<f64>,
        t: Vector3<f64>,
        s: f64,
        m: &Matrix2x3<f64>,
        b: &RowVector3<f64>,
        q: &Matrix2<f64>,
    ) -> f64 {
        let e = r * t + t.scale(s) - t / (s * s + 1.0);
        let i = r.try_inverse().unwrap();
        let k = q.kronecker(&r.transpose());
        let h = add_row(m, b).component_mul(m).map(|v| v.tanh() * s);
        let l = sigmoid(&e).sum() + softplus(&h).mean() + relu(&h).norm() + log_sum_exp(&e);
        l + e.dot(&t) + i.trace() + r.determinant() + ln_det(r) + k.norm_squared() + e[(2, 0)]
    }
}

use losses::tanh_layer_grad_into;
use losses::{linear_algebra, linear_algebra_grad, mlp, mlp_grad, runtime, runtime_grad};
use losses::{scalars, scalars_grad, single, single_grad, tanh_layer, tanh_layer_grad};
use matgrad::Workspace;
use nalgebra::{DMatrix, DVector, RowDVector};

#[allow(clippy::cast_precision_loss)]
fn m(rows: usize, cols: usize, shift: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let diagonal = if i == j { 2.0 } else { 0.0 };
        0.3 * i as f64 - 0.2 * j as f64 + shift + diagonal
    })
}

#[test]
fn the_companions_agree_with_the_originals() {
    let (x, w, y) = (m(3, 2, 0.1), m(2, 2, 0.2), m(3, 2, 0.3));
    assert!((tanh_layer_grad(&x, &w, &y).0 - tanh_layer(&x, &w, &y)).abs() < 1e-12);
    let mut ws = Workspace::new();
    let mut dw = DMatrix::zeros(0, 0);
    let v = tanh_layer_grad_into(&x, &w, &y, &mut dw, &mut ws);
    assert!((v - tanh_layer(&x, &w, &y)).abs() < 1e-12);

    let b = RowDVector::from_element(2, 0.1);
    assert!((mlp_grad(&x, &y, &w, &b, &w, &b).0 - mlp(&x, &y, &w, &b, &w, &b)).abs() < 1e-12);

    let c = DVector::from_element(2, 0.5);
    assert!((runtime_grad(&w, &c).0 - runtime(&w, &c)).abs() < 1e-12);
    assert!((scalars_grad(w.clone(), 0.7, &1.5).0 - scalars(w.clone(), 0.7, &1.5)).abs() < 1e-12);
    let v = linear_algebra(&w, &w);
    let g = linear_algebra_grad(&w, &w).0;
    assert!((g - v).abs() < 1e-12, "{g} {v}");

    let r = nalgebra::Matrix3::new(2.0, 0.1, 0.2, 0.3, 2.5, 0.1, 0.0, 0.2, 3.0);
    let (t, h) = (
        nalgebra::Vector3::new(0.1, -0.2, 0.3),
        nalgebra::Matrix2x3::repeat(0.4),
    );
    let b = nalgebra::RowVector3::new(0.5, -0.5, 0.1);
    let q = nalgebra::Matrix2::new(1.0, 0.5, -0.5, 2.0);
    let v = fixed::everything(&r, t, 0.7, &h, &b, &q);
    assert!((fixed::everything_grad(&r, t, 0.7, &h, &b, &q).0 - v).abs() < 1e-12);

    let (xf, wf) = (x.cast::<f32>(), w.cast::<f32>());
    let rf = RowDVector::from_element(2, 0.5_f32);
    assert!((single_grad(&xf, &wf, rf.clone()).0 - single(&xf, &wf, rf)).abs() < 1e-5);
}

//! `#[differentiable]` helpers called from `#[grad]` bodies: defined before or after
//! their use, in another module and called by path or imported, calling each other,
//! generic over the float type, taking counts; each function checked against central
//! finite differences (f64, f32, static sizes).

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "../common/mod.rs"]
mod common;

use common::{gradcheck, mat, rng, uniform};
use matgrad::{differentiable, grad, Workspace};
use nalgebra::{DMatrix, DVector, Matrix3, RealField, RowDVector, Vector3};

/// `_grad`'s value is the original function's, bit for bit.
const VALUE: common::Value = common::Value::Exact;

// Used before its definition (below), by a plain call.
#[grad(wrt = (w1, b1, w2))]
fn two_layer(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    let h = dense(x, w1, b1);
    layers::squared_error(&(h * w2), y) / (x.nrows() as f64)
}

/// One tanh layer with a bias per column.
#[differentiable]
fn dense(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    matgrad::add_row(&(x * w), b).map(|v| v.tanh())
}

mod layers {
    use matgrad::differentiable;
    use nalgebra::DMatrix;

    /// ‖a − y‖², through another helper.
    #[differentiable]
    pub fn squared_error(a: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        let r = difference(a, y);
        r.norm_squared()
    }

    /// `a − y`, called by `squared_error` by a path that also resolves in the
    /// calling function's module.
    #[differentiable]
    pub fn difference(a: &DMatrix<f64>, y: &DMatrix<f64>) -> DMatrix<f64> {
        a - y
    }
}

use layers::difference;

/// A generic helper with a count parameter and a batch mean of its own parameter.
#[differentiable]
fn column_energy<T: RealField + Copy>(a: &DMatrix<T>, j: usize) -> T {
    a.column(j).norm_squared() / T::from_usize(a.nrows()).unwrap()
}

#[grad(wrt = a)]
fn uses_generic_helper<T: RealField + Copy>(a: &DMatrix<T>, k: usize) -> T {
    let mut total = column_energy(a, k);
    for j in 0..1 {
        total += column_energy(a, j) * T::from_f64(0.5).unwrap();
    }
    total
}

/// A helper on static sizes, called twice.
#[differentiable]
fn rotate_and_shift(r: &Matrix3<f64>, p: &Vector3<f64>, t: &Vector3<f64>) -> Vector3<f64> {
    r * p + t
}

#[grad(wrt = (r, t))]
fn pose(r: &Matrix3<f64>, t: &Vector3<f64>, p: &Vector3<f64>, q: &Vector3<f64>) -> f64 {
    (rotate_and_shift(r, p, t) - q).norm_squared() + (rotate_and_shift(r, q, t) - p).norm_squared()
}

/// The same helper through its imported name and its path in one body.
#[grad(wrt = a)]
fn by_import_and_path(a: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    difference(a, y).sum() + crate::layers::difference(&a.map(|v| v * v), y).norm_squared()
}

#[test]
fn helpers_match_finite_differences() {
    let (r, mut ws) = (&mut rng(400), Workspace::new());
    let mut ws32 = Workspace::<f32>::new();
    for (m, n, h, o) in [(1, 1, 1, 1), (4, 3, 5, 2), (6, 2, 3, 4)] {
        let (x, y) = (mat(r, m, n), mat(r, m, o));
        let b1 = RowDVector::from_fn(h, |_, _| uniform(r, -1.0, 1.0));
        gradcheck!(&mut ws; two_layer, two_layer_grad, two_layer_grad_into; (&x, &w1, &b1, &w2, &y);
            w1 = mat(r, n, h), b1 = b1, w2 = mat(r, h, o));
        let k = n - 1;
        gradcheck!(&mut ws; uses_generic_helper, uses_generic_helper_grad,
            uses_generic_helper_grad_into; (&a, k); a = mat(r, m, n));
        gradcheck!(&mut ws32; uses_generic_helper, uses_generic_helper_grad,
            uses_generic_helper_grad_into; (&a, k); a = mat(r, m, n).cast::<f32>());
        gradcheck!(&mut ws; by_import_and_path, by_import_and_path_grad,
            by_import_and_path_grad_into; (&a, &y); a = mat(r, m, o));
    }
    for _ in 0..3 {
        let s = |r: &mut _| Vector3::from_fn(|_, _| uniform(r, -1.0, 1.0));
        let (p, q) = (s(r), s(r));
        gradcheck!(&mut ws; pose, pose_grad, pose_grad_into; (&rot, &t, &p, &q);
            rot = Matrix3::from_fn(|_, _| uniform(r, -1.0, 1.0)), t = s(r));
    }
}

/// The helper's value is the helper's: `_grad` of a body that calls it returns what
/// the original function (which calls the ordinary helper) returns.
#[test]
fn helpers_stay_ordinary_functions() {
    let x = DMatrix::from_fn(3, 2, |i, j| (i + j) as f64 / 5.0);
    let w = DMatrix::from_element(2, 4, 0.3);
    let b = RowDVector::from_element(4, -0.1);
    let direct = dense(&x, &w, &b);
    assert_eq!(direct, matgrad::add_row(&(&x * &w), &b).map(|v| v.tanh()));
    assert_eq!(layers::difference(&x, &x), DMatrix::zeros(3, 2));
}

/// Hessian-vector products through a helper: `dense` inlined into the tangent graph.
#[grad(wrt = (w1, w2), hvp)]
fn two_layer_hvp_through_helper(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    let h = dense(x, w1, b1);
    layers::squared_error(&(h * w2), y)
}

#[test]
fn hvp_through_helpers_matches_differences_of_the_gradient() {
    let r = &mut rng(703);
    for (n, d, h, k) in [(1, 1, 1, 1), (5, 3, 4, 2)] {
        let (x, y) = (mat(r, n, d), mat(r, n, k));
        let (w1, w2) = (mat(r, d, h), mat(r, h, k));
        let b1 = RowDVector::from_fn(h, |_, _| uniform(r, -1.0, 1.0));
        let (v1, v2) = (mat(r, d, h), mat(r, h, k));
        let (value, g1, g2, hv1, hv2) =
            two_layer_hvp_through_helper_hvp(&x, &w1, &b1, &w2, &y, &v1, &v2);
        let (gv, gg1, gg2) = two_layer_hvp_through_helper_grad(&x, &w1, &b1, &w2, &y);
        assert_eq!((value, &g1, &g2), (gv, &gg1, &gg2));
        // (∇f(w + εv) − ∇f(w − εv)) / 2ε along the direction (v1, v2).
        let eps = 1e-6;
        let plus =
            two_layer_hvp_through_helper_grad(&x, &(&w1 + &v1 * eps), &b1, &(&w2 + &v2 * eps), &y);
        let minus =
            two_layer_hvp_through_helper_grad(&x, &(&w1 - &v1 * eps), &b1, &(&w2 - &v2 * eps), &y);
        let fd1 = (plus.1 - minus.1) / (2.0 * eps);
        let fd2 = (plus.2 - minus.2) / (2.0 * eps);
        assert!(
            (&hv1 - &fd1).amax() < 1e-6 * (1.0 + fd1.amax()),
            "{hv1} vs {fd1}"
        );
        assert!(
            (&hv2 - &fd2).amax() < 1e-6 * (1.0 + fd2.amax()),
            "{hv2} vs {fd2}"
        );
    }
}

/// Hessian-vector products through a helper called in a run-time loop: the loop's
/// tangent step function inlines `dense` too.
#[grad(wrt = (w1, w2), hvp)]
fn recurrent_hvp_through_helper(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    steps: usize,
) -> f64 {
    let mut h = x.clone();
    let mut total = 0.0;
    for _ in 0..steps {
        h = dense(&h, w1, b1) * w2;
        total += h.norm_squared();
    }
    total
}

#[test]
fn hvp_through_a_helper_in_a_runtime_loop() {
    let r = &mut rng(704);
    for (n, d, steps) in [(1, 1, 0), (1, 1, 2), (4, 3, 1), (4, 3, 3)] {
        let x = mat(r, n, d);
        let (w1, w2) = (mat(r, d, d) * 0.5, mat(r, d, d) * 0.5);
        let b1 = RowDVector::from_fn(d, |_, _| uniform(r, -1.0, 1.0));
        let (v1, v2) = (mat(r, d, d), mat(r, d, d));
        let (value, g1, g2, hv1, hv2) =
            recurrent_hvp_through_helper_hvp(&x, &w1, &b1, &w2, steps, &v1, &v2);
        let (gv, gg1, gg2) = recurrent_hvp_through_helper_grad(&x, &w1, &b1, &w2, steps);
        assert!((value - gv).abs() <= 1e-12 * gv.abs().max(1.0));
        assert!((&g1 - &gg1).amax() <= 1e-10 * gg1.amax().max(1.0));
        assert!((&g2 - &gg2).amax() <= 1e-10 * gg2.amax().max(1.0));
        let eps = 1e-6;
        let plus = recurrent_hvp_through_helper_grad(
            &x,
            &(&w1 + &v1 * eps),
            &b1,
            &(&w2 + &v2 * eps),
            steps,
        );
        let minus = recurrent_hvp_through_helper_grad(
            &x,
            &(&w1 - &v1 * eps),
            &b1,
            &(&w2 - &v2 * eps),
            steps,
        );
        let fd1 = (plus.1 - minus.1) / (2.0 * eps);
        let fd2 = (plus.2 - minus.2) / (2.0 * eps);
        assert!(
            (&hv1 - &fd1).amax() < 1e-6 * (1.0 + fd1.amax()),
            "{steps} steps: {hv1} vs {fd1}"
        );
        assert!(
            (&hv2 - &fd2).amax() < 1e-6 * (1.0 + fd2.amax()),
            "{steps} steps: {hv2} vs {fd2}"
        );
    }
}

/// `x w + b` with a bias per column: linear in `w`.
#[differentiable]
fn affine(x: &DMatrix<f64>, w: &DVector<f64>, b: f64) -> DVector<f64> {
    (x * w).add_scalar(b)
}

/// A dense Hessian through a helper, with a structure (`2 XᵀX`, built from it).
#[grad(wrt = w, hessian)]
fn least_squares_through_helper(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (affine(x, w, 0.5) - y).norm_squared()
}

/// A dense Hessian through a helper, column by column from HVPs (no structure is
/// recognised for a squared norm of a tanh layer), beside `hvp`.
#[grad(wrt = w1, hvp, hessian)]
fn tanh_layer_through_helper(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    layers::squared_error(&dense(x, w1, b1), y)
}

#[test]
fn hessian_through_helpers() {
    let r = &mut rng(705);
    for (n, d) in [(1, 1), (5, 3), (7, 4)] {
        let (x, y) = (
            mat(r, n, d),
            DVector::from_fn(n, |_, _| uniform(r, -1.0, 1.0)),
        );
        let w = DVector::from_fn(d, |_, _| uniform(r, -1.0, 1.0));
        let (value, g, h) = least_squares_through_helper_hessian(&x, &w, &y);
        let (gv, gg) = least_squares_through_helper_grad(&x, &w, &y);
        assert_eq!((value, &g), (gv, &gg));
        let want = x.transpose() * &x * 2.0;
        assert!(
            (&h - &want).amax() <= 1e-12 * want.amax().max(1.0),
            "{h} vs {want}"
        );

        let (w1, y1) = (mat(r, d, 2), mat(r, n, 2));
        let b1 = RowDVector::from_fn(2, |_, _| uniform(r, -1.0, 1.0));
        let (value, g, h) = tanh_layer_through_helper_hessian(&x, &w1, &b1, &y1);
        let (gv, gg) = tanh_layer_through_helper_grad(&x, &w1, &b1, &y1);
        assert!((value - gv).abs() <= 1e-12 * gv.abs().max(1.0));
        assert!((&g - &gg).amax() <= 1e-10 * gg.amax().max(1.0));
        let m = w1.len();
        assert_eq!(h.shape(), (m, m));
        // Each column is the HVP of its unit direction, and a central difference of
        // the gradient along it.
        let eps = 1e-6;
        for j in 0..m {
            let mut e = DMatrix::zeros(d, 2);
            e[j] = 1.0;
            let (_, _, hv) = tanh_layer_through_helper_hvp(&x, &w1, &b1, &y1, &e);
            let col = DVector::from_column_slice(hv.as_slice());
            assert!((h.column(j) - &col).amax() <= 1e-10 * col.amax().max(1.0));
            let plus = tanh_layer_through_helper_grad(&x, &(&w1 + &e * eps), &b1, &y1).1;
            let minus = tanh_layer_through_helper_grad(&x, &(&w1 - &e * eps), &b1, &y1).1;
            let fd = DVector::from_column_slice((&(plus - minus) / (2.0 * eps)).as_slice());
            assert!(
                (h.column(j) - &fd).amax() <= 1e-6 * (1.0 + fd.amax()),
                "column {j}"
            );
        }
        assert!((&h - h.transpose()).amax() <= 1e-12 * h.amax().max(1.0));
    }
}

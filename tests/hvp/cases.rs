//! The cases of the second-order suite: one annotated function per rule family
//! (`h_<rule>`, each with `hvp` and `hessian` where it has one variable), checked by
//! [`hvp1`]/[`hvp2`] (the HVP against central differences of `_grad` along a random
//! direction; its value and gradient against `_grad`'s) and [`hessian`] (each column
//! against the HVP of its unit direction; symmetric).

use super::grad;
use crate::common::{mat, rng, uniform, vector, Float, Var};
use matgrad::{
    add_col, add_row, ln_det, log_sum_exp, relu, sigmoid, softmax_cross_entropy, softplus,
    Workspace,
};
use nalgebra::{DMatrix, DVector, Matrix2, Matrix3, RowDVector, SMatrix};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------

/// Matrix shapes `m×n`: 1×1, non-square both ways.
const SHAPES: [(usize, usize); 3] = [(1, 1), (2, 3), (4, 2)];
/// Square sizes.
const SQUARE: [usize; 3] = [1, 2, 4];

/// The entries of a variable, widened to f64.
fn flat<V: Var>(v: &V) -> Vec<f64> {
    (0..v.len()).map(|k| v.get(k)).collect()
}

/// A direction shaped like `w`, entries uniform in `[-1, 1]`.
fn direction<V: Var + Clone>(r: &mut ChaCha8Rng, w: &V) -> V {
    let mut d = w.clone();
    for k in 0..w.len() {
        d.set(k, uniform(r, -1.0, 1.0));
    }
    d
}

/// `w + t v`.
fn moved<V: Var + Clone>(w: &V, v: &V, t: f64) -> V {
    let mut x = w.clone();
    for k in 0..w.len() {
        x.set(k, w.get(k) + t * v.get(k));
    }
    x
}

/// `max_k |got_k − want_k| / max(1, max |want|)`.
fn error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths");
    let scale = want.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    got.iter()
        .zip(want)
        .fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()))
        / scale
}

/// The finite-difference step and tolerance of `E`: a central difference of the
/// gradient, `(∇f(w + h v) − ∇f(w − h v)) / 2h`.
fn fd<E: Float>() -> (f64, f64) {
    if E::NAME == "f64" {
        (1e-5, 1e-6)
    } else {
        (1e-2, 3e-2)
    }
}

/// Tolerance between two computations of one quantity that round differently.
fn same<E: Float>() -> f64 {
    if E::NAME == "f64" {
        1e-10
    } else {
        1e-4
    }
}

/// One variable: `hvp(w, v) = (f, ∇f, ∇²f v)` against `grad(w) = (f, ∇f)` and central
/// differences of `grad` along `v`.
#[track_caller]
pub fn hvp1<V, E>(
    what: &str,
    w: &V,
    v: &V,
    grad: impl Fn(&V) -> (E, V),
    hvp: impl Fn(&V, &V) -> (E, V, V),
) where
    V: Var<E = E> + Clone,
    E: Float,
{
    let (f, g, h) = hvp(w, v);
    let (f0, g0) = grad(w);
    let tol = same::<E>();
    assert!(
        error(&[f.to_f64()], &[f0.to_f64()]) <= tol,
        "{what}: the HVP's value {f:?} is not _grad's {f0:?}"
    );
    let e = error(&flat(&g), &flat(&g0));
    assert!(
        e <= tol,
        "{what}: the HVP's gradient is off _grad's by {e:e}"
    );
    let (step, fd_tol) = fd::<E>();
    let gp = flat(&grad(&moved(w, v, step)).1);
    let gm = flat(&grad(&moved(w, v, -step)).1);
    let want: Vec<f64> = gp
        .iter()
        .zip(&gm)
        .map(|(p, m)| (p - m) / (2.0 * step))
        .collect();
    let e = error(&flat(&h), &want);
    assert!(
        e <= fd_tol,
        "{what}: HVP off central differences by {e:e}\n got  {:?}\n want {want:?}",
        flat(&h)
    );
}

/// Two variables: `hvp(a, b, va, vb) = (f, ∇_a f, ∇_b f, (H v)_a, (H v)_b)`.
#[track_caller]
#[allow(clippy::type_complexity)]
pub fn hvp2<A, B, E>(
    what: &str,
    (a, b): (&A, &B),
    (va, vb): (&A, &B),
    grad: impl Fn(&A, &B) -> (E, A, B),
    hvp: impl Fn(&A, &B, &A, &B) -> (E, A, B, A, B),
) where
    A: Var<E = E> + Clone,
    B: Var<E = E> + Clone,
    E: Float,
{
    let (f, ga, gb, ha, hb) = hvp(a, b, va, vb);
    let (f0, ga0, gb0) = grad(a, b);
    let tol = same::<E>();
    assert!(error(&[f.to_f64()], &[f0.to_f64()]) <= tol, "{what}: value");
    assert!(error(&flat(&ga), &flat(&ga0)) <= tol, "{what}: gradient a");
    assert!(error(&flat(&gb), &flat(&gb0)) <= tol, "{what}: gradient b");
    let (step, fd_tol) = fd::<E>();
    let (_, pa, pb) = grad(&moved(a, va, step), &moved(b, vb, step));
    let (_, ma, mb) = grad(&moved(a, va, -step), &moved(b, vb, -step));
    let diff = |p: Vec<f64>, m: Vec<f64>| -> Vec<f64> {
        p.iter()
            .zip(&m)
            .map(|(p, m)| (p - m) / (2.0 * step))
            .collect()
    };
    let (wa, wb) = (diff(flat(&pa), flat(&ma)), diff(flat(&pb), flat(&mb)));
    let (ea, eb) = (error(&flat(&ha), &wa), error(&flat(&hb), &wb));
    assert!(
        ea <= fd_tol,
        "{what}: (H v)_a off by {ea:e}: {:?} vs {wa:?}",
        flat(&ha)
    );
    assert!(
        eb <= fd_tol,
        "{what}: (H v)_b off by {eb:e}: {:?} vs {wb:?}",
        flat(&hb)
    );
}

/// The dense Hessian: value and gradient as the HVP's, column `j` the HVP of the unit
/// direction `e_j`, symmetric to rounding.
#[track_caller]
pub fn hessian<V, H, E>(
    what: &str,
    w: &V,
    hess: impl Fn(&V) -> (E, V, H),
    hvp: impl Fn(&V, &V) -> (E, V, V),
) where
    V: Var<E = E> + Clone,
    H: Var<E = E>,
    E: Float,
{
    let (f, g, h) = hess(w);
    let n = w.len();
    assert_eq!(h.shape(), (n, n), "{what}: the Hessian's shape");
    let tol = same::<E>();
    let mut unit = w.clone();
    for k in 0..n {
        unit.set(k, 0.0);
    }
    for j in 0..n {
        unit.set(j, 1.0);
        let (f1, g1, col) = hvp(w, &unit);
        unit.set(j, 0.0);
        assert!(error(&[f.to_f64()], &[f1.to_f64()]) <= tol, "{what}: value");
        assert!(error(&flat(&g), &flat(&g1)) <= tol, "{what}: gradient");
        let got: Vec<f64> = (0..n).map(|i| h.get(i + j * n)).collect();
        let e = error(&got, &flat(&col));
        assert!(e <= tol, "{what}: column {j} off the unit HVP by {e:e}");
    }
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (h.get(i + j * n), h.get(j + i * n));
            assert!(
                (a - b).abs() <= tol * a.abs().max(1.0),
                "{what}: H[{i},{j}] = {a} but H[{j},{i}] = {b}"
            );
        }
    }
}

/// An f32 copy of an f64 matrix.
fn f32m(m: &DMatrix<f64>) -> DMatrix<f32> {
    m.map(|x| x as f32)
}

// ---------------------------------------------------------------------------
// Linear maps, sums and scalar arithmetic
// ---------------------------------------------------------------------------

#[grad(wrt = a, hvp, hessian)]
fn h_linear(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> f64 {
    let c = (a + b) * s - a.transpose().transpose() / 3.0 + (-a);
    let d = c.add_scalar(s) - b;
    (d.map(|x| x.sin()).sum() + c.mean()) * d.norm_squared()
}

#[test]
fn linear_maps() {
    let r = &mut rng(1);
    for (m, n) in SHAPES {
        let (a, b, s) = (mat(r, m, n), mat(r, m, n), uniform(r, 0.5, 2.0));
        let v = direction(r, &a);
        hvp1(
            "linear",
            &a,
            &v,
            |a| h_linear_grad(a, &b, s),
            |a, v| h_linear_hvp(a, &b, s, v),
        );
        hessian(
            "linear",
            &a,
            |a| h_linear_hessian(a, &b, s),
            |a, v| h_linear_hvp(a, &b, s, v),
        );
    }
}

#[grad(wrt = (s, t), hvp)]
fn h_scalar(a: &DMatrix<f64>, s: f64, t: f64) -> f64 {
    let u = (s * t).sin() + s.exp() / t - t.powi(3) + (s * s + 1.0).ln() * t.tanh();
    let w = u.sqrt().max(0.1) + s.abs() * t.cosh() + (t * 0.3).powf(1.5) + s.recip();
    (a * w).norm_squared() + u * w
}

#[test]
fn scalar_arithmetic() {
    let r = &mut rng(2);
    for (m, n) in SHAPES {
        let a = mat(r, m, n);
        let (s, t) = (uniform(r, 0.5, 1.5), uniform(r, 0.5, 1.5));
        let (vs, vt) = (uniform(r, -1.0, 1.0), uniform(r, -1.0, 1.0));
        hvp2(
            "scalar",
            (&s, &t),
            (&vs, &vt),
            |s, t| h_scalar_grad(&a, *s, *t),
            |s, t, vs, vt| h_scalar_hvp(&a, *s, *t, *vs, *vt),
        );
    }
}

// ---------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------

#[grad(wrt = (a, b), hvp)]
fn h_matmul(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let p = a * b;
    (p.component_mul(&p) - c).map(|x| x.tanh()).sum()
}

#[test]
fn matmul_both_operands() {
    let r = &mut rng(3);
    for (m, k, n) in [(1, 1, 1), (2, 3, 4), (4, 1, 3)] {
        let (a, b, c) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let (va, vb) = (direction(r, &a), direction(r, &b));
        hvp2(
            "matmul",
            (&a, &b),
            (&va, &vb),
            |a, b| h_matmul_grad(a, b, &c),
            |a, b, va, vb| h_matmul_hvp(a, b, &c, va, vb),
        );
    }
}

#[grad(wrt = (a, b), hvp)]
fn h_entrywise(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let q = a.component_div(&b.map(|x| x * x + 1.0));
    let k = a.kronecker(b);
    q.component_mul(a).sum()
        + k.map(|x| x.cos()).sum()
        + a.zip_map(b, |p, q| p * q.exp() + (p - q).powi(2)).sum()
}

#[test]
fn entrywise_products() {
    let r = &mut rng(4);
    for (m, n) in SHAPES {
        let (a, b) = (mat(r, m, n), mat(r, m, n));
        let (va, vb) = (direction(r, &a), direction(r, &b));
        hvp2(
            "entrywise",
            (&a, &b),
            (&va, &vb),
            h_entrywise_grad,
            h_entrywise_hvp,
        );
    }
}

#[grad(wrt = a, hvp, hessian)]
fn h_map_captured(a: &DMatrix<f64>, s: f64) -> f64 {
    let m = a.norm();
    let z = a.map(|x| (x * m).sin() + if x > 0.0 { x * x * s } else { -x * s });
    z.sum() * m
}

#[test]
fn map_with_captured_and_piecewise() {
    let r = &mut rng(5);
    for (m, n) in SHAPES {
        let (a, s) = (mat(r, m, n), uniform(r, 0.5, 2.0));
        let v = direction(r, &a);
        hvp1(
            "map",
            &a,
            &v,
            |a| h_map_captured_grad(a, s),
            |a, v| h_map_captured_hvp(a, s, v),
        );
        hessian(
            "map",
            &a,
            |a| h_map_captured_hessian(a, s),
            |a, v| h_map_captured_hvp(a, s, v),
        );
    }
}

// ---------------------------------------------------------------------------
// Reductions and parts
// ---------------------------------------------------------------------------

#[grad(wrt = a, hvp, hessian)]
fn h_reduce(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let s = a.row_sum().norm_squared() + a.column_mean().norm() * a.dot(b);
    let t = (a * b.transpose()).trace() + a.max() * a.min();
    s * t + a.row_mean().sum().powi(3) + a.column_sum().mean()
}

#[test]
fn reductions() {
    let r = &mut rng(6);
    for (m, n) in SHAPES {
        let (a, b) = (mat(r, m, n), mat(r, m, n));
        let v = direction(r, &a);
        hvp1(
            "reduce",
            &a,
            &v,
            |a| h_reduce_grad(a, &b),
            |a, v| h_reduce_hvp(a, &b, v),
        );
        hessian(
            "reduce",
            &a,
            |a| h_reduce_hessian(a, &b),
            |a, v| h_reduce_hvp(a, &b, v),
        );
    }
}

#[grad(wrt = a, hvp, hessian)]
fn h_parts(a: &DMatrix<f64>) -> f64 {
    let c = a.column(0).map(|x| x.exp()).sum() * a.row(1).norm_squared();
    let d = a.rows(1, 2).sum() * a.columns(0, 2).map(|x| x * x * x).sum();
    let v = a.view((0, 1), (2, 1)).norm_squared() * a[(2, 1)];
    let sq = a.view((0, 0), (3, 3));
    let e = sq.diagonal().map(|x| x.sin()).sum()
        + sq.lower_triangle().norm_squared() * sq.upper_triangle().sum();
    c + d + v * e
}

#[test]
fn parts() {
    let r = &mut rng(7);
    for (m, n) in [(3, 3), (4, 3), (5, 4)] {
        let a = mat(r, m, n);
        let v = direction(r, &a);
        hvp1("parts", &a, &v, h_parts_grad, h_parts_hvp);
        hessian("parts", &a, h_parts_hessian, h_parts_hvp);
    }
}

// ---------------------------------------------------------------------------
// Matrix functions
// ---------------------------------------------------------------------------

#[grad(wrt = a, hvp, hessian)]
fn h_matrix_fns(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let inv = a.clone().try_inverse().unwrap();
    let d = a.determinant();
    (inv * b).map(|x| x.tanh()).sum() + d * d.abs().ln() + ln_det(a) * (b * a).trace()
}

#[test]
fn determinant_inverse_ln_det() {
    let r = &mut rng(8);
    for n in SQUARE {
        let (a, b) = (crate::common::dominant(r, n), mat(r, n, n));
        let v = direction(r, &a);
        hvp1(
            "matrix fns",
            &a,
            &v,
            |a| h_matrix_fns_grad(a, &b),
            |a, v| h_matrix_fns_hvp(a, &b, v),
        );
        hessian(
            "matrix fns",
            &a,
            |a| h_matrix_fns_hessian(a, &b),
            |a, v| h_matrix_fns_hvp(a, &b, v),
        );
    }
}

/// An inverse used only in products: under `reassociate` a factorisation and solves
/// on both sides (`tests/hvp_reassociate.rs`).
#[grad(wrt = (a, b), hvp)]
fn h_solves(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let inv = a.clone().try_inverse().unwrap();
    (&inv * b).map(|x| x.sin()).sum()
        + (c * &inv * b).norm_squared()
        + (c * b * c).map(|x| x * x * x).sum()
}

#[test]
fn solves_and_chains() {
    let r = &mut rng(9);
    for n in SQUARE {
        let (a, b, c) = (crate::common::dominant(r, n), mat(r, n, 3), mat(r, 3, n));
        let (va, vb) = (direction(r, &a), direction(r, &b));
        hvp2(
            "solves",
            (&a, &b),
            (&va, &vb),
            |a, b| h_solves_grad(a, b, &c),
            |a, b, va, vb| h_solves_hvp(a, b, &c, va, vb),
        );
    }
}

// ---------------------------------------------------------------------------
// Runtime functions
// ---------------------------------------------------------------------------

#[grad(wrt = (m, r), hvp)]
fn h_activations(m: &DMatrix<f64>, r: &RowDVector<f64>, c: &DVector<f64>) -> f64 {
    let z = add_col(&add_row(m, r), c);
    sigmoid(&z).norm_squared() + softplus(&(&z * 2.0)).sum() * relu(&z).map(|x| x * x).sum()
}

#[test]
fn sigmoid_softplus_relu_broadcasts() {
    let rg = &mut rng(10);
    for (p, n) in SHAPES {
        let (m, r, c) = (mat(rg, p, n), crate::common::row(rg, n), vector(rg, p));
        let (vm, vr) = (direction(rg, &m), direction(rg, &r));
        hvp2(
            "activations",
            (&m, &r),
            (&vm, &vr),
            |m, r| h_activations_grad(m, r, &c),
            |m, r, vm, vr| h_activations_hvp(m, r, &c, vm, vr),
        );
    }
}

#[grad(wrt = (z, y), hvp)]
fn h_softmax(z: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    softmax_cross_entropy(z, y) * log_sum_exp(z) + log_sum_exp(&(z * 3.0)).powi(2)
}

#[test]
fn log_sum_exp_and_softmax_cross_entropy() {
    let r = &mut rng(11);
    for (m, n) in SHAPES {
        let (z, y) = (mat(r, m, n) * 3.0, crate::common::positive(r, m, n));
        let (vz, vy) = (direction(r, &z), direction(r, &y));
        hvp2(
            "softmax",
            (&z, &y),
            (&vz, &vy),
            h_softmax_grad,
            h_softmax_hvp,
        );
    }
}

// ---------------------------------------------------------------------------
// f32, static sizes, scalar and vector variables
// ---------------------------------------------------------------------------

#[grad(wrt = w, hvp, hessian)]
fn h_f32(x: &DMatrix<f32>, w: &DMatrix<f32>, y: &DMatrix<f32>) -> f32 {
    let z = x * w;
    (sigmoid(&z) - y).norm_squared()
        + log_sum_exp(&z)
        + softmax_cross_entropy(&z, y)
        + ln_det(&(w.transpose() * w).add_scalar(1.0))
}

#[test]
fn f32_variables() {
    let r = &mut rng(12);
    for (m, k, n) in [(1, 1, 1), (3, 2, 2), (4, 3, 2)] {
        let (x, w, y) = (
            f32m(&mat(r, m, k)),
            f32m(&mat(r, k, n)),
            f32m(&crate::common::positive(r, m, n)),
        );
        let v = direction(r, &w);
        hvp1(
            "f32",
            &w,
            &v,
            |w| h_f32_grad(&x, w, &y),
            |w, v| h_f32_hvp(&x, w, &y, v),
        );
        hessian(
            "f32",
            &w,
            |w| h_f32_hessian(&x, w, &y),
            |w, v| h_f32_hvp(&x, w, &y, v),
        );
    }
}

#[grad(wrt = w, hvp, hessian)]
fn h_static(a: &Matrix3<f64>, w: &Matrix3<f64>, b: &SMatrix<f64, 3, 2>) -> f64 {
    let p = a * w * b;
    p.map(|x| x.tanh()).norm_squared() + w.determinant() + (w.transpose() * w).trace().sqrt()
}

#[test]
fn static_sizes() {
    let r = &mut rng(13);
    for _ in 0..3 {
        let a = Matrix3::from_fn(|_, _| uniform(r, -1.0, 1.0));
        let w = Matrix3::from_fn(|_, _| uniform(r, -1.0, 1.0)) + Matrix3::identity() * 4.0;
        let b = SMatrix::<f64, 3, 2>::from_fn(|_, _| uniform(r, -1.0, 1.0));
        let v = direction(r, &w);
        hvp1(
            "static",
            &w,
            &v,
            |w| h_static_grad(&a, w, &b),
            |w, v| h_static_hvp(&a, w, &b, v),
        );
        hessian(
            "static",
            &w,
            |w| h_static_hessian(&a, w, &b),
            |w, v| h_static_hvp(&a, w, &b, v),
        );
        // the Hessian of a 3×3 variable is a 9×9 static matrix
        let (f, _, h): (f64, Matrix3<f64>, SMatrix<f64, 9, 9>) = h_static_hessian(&a, &w, &b);
        assert!(h.iter().all(|x| x.is_finite()));
        assert!((f - h_static(&a, &w, &b)).abs() <= 1e-12 * f.abs().max(1.0));
    }
}

/// A static variable among dynamic parameters: the dynamic backend, reading `w`
/// through a view; its Hessian is still a static 6×6 matrix.
#[grad(wrt = w, hvp, hessian)]
fn h_mixed(x: &DMatrix<f64>, w: &SMatrix<f64, 3, 2>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    (z.map(|v| v.tanh()) - y).norm_squared() + (w.transpose() * w).determinant()
}

#[test]
fn mixed_sizes() {
    let r = &mut rng(17);
    for m in [1, 4] {
        let (x, y) = (mat(r, m, 3), mat(r, m, 2));
        let w = SMatrix::<f64, 3, 2>::from_fn(|_, _| uniform(r, -1.0, 1.0));
        let v = direction(r, &w);
        hvp1(
            "mixed",
            &w,
            &v,
            |w| h_mixed_grad(&x, w, &y),
            |w, v| h_mixed_hvp(&x, w, &y, v),
        );
        hessian(
            "mixed",
            &w,
            |w| h_mixed_hessian(&x, w, &y),
            |w, v| h_mixed_hvp(&x, w, &y, v),
        );
        let (_, _, h): (f64, SMatrix<f64, 3, 2>, SMatrix<f64, 6, 6>) = h_mixed_hessian(&x, &w, &y);
        assert!(h.iter().all(|x| x.is_finite()));
    }
}

#[grad(wrt = s, hvp, hessian)]
fn h_scalar_variable(a: &Matrix2<f64>, s: f64) -> f64 {
    (a * s).map(|x| x.sin()).sum() * s.exp()
}

#[test]
fn scalar_variable_static() {
    let r = &mut rng(14);
    let a = Matrix2::from_fn(|_, _| uniform(r, -1.0, 1.0));
    for s in [0.3, -1.2, 2.0] {
        let v = uniform(r, -1.0, 1.0);
        hvp1(
            "scalar",
            &s,
            &v,
            |s| h_scalar_variable_grad(&a, *s),
            |s, v| h_scalar_variable_hvp(&a, *s, *v),
        );
        let (f, g, h): (f64, f64, f64) = h_scalar_variable_hessian(&a, s);
        let (f1, g1, h1) = h_scalar_variable_hvp(&a, s, 1.0);
        assert_eq!((f, g, h), (f1, g1, h1));
        assert!((f - h_scalar_variable(&a, s)).abs() <= 1e-12 * f.abs().max(1.0));
    }
}

#[grad(wrt = w, hvp, hessian)]
fn h_vector(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let p = sigmoid(&(x * w));
    -(y.dot(&p.map(|v| v.ln())) + y.map(|v| 1.0 - v).dot(&p.map(|v| (1.0 - v).ln())))
}

#[test]
fn vector_variable_into_and_workspace() {
    let r = &mut rng(15);
    let mut ws = Workspace::new();
    for (m, n) in [(1, 1), (5, 3), (8, 4)] {
        let (x, w, y) = (
            mat(r, m, n),
            vector(r, n),
            crate::common::positive(r, m, 1).column(0).into_owned(),
        );
        let v = direction(r, &w);
        hvp1(
            "vector",
            &w,
            &v,
            |w| h_vector_grad(&x, w, &y),
            |w, v| h_vector_hvp(&x, w, &y, v),
        );
        hessian(
            "vector",
            &w,
            |w| h_vector_hessian(&x, w, &y),
            |w, v| h_vector_hvp(&x, w, &y, v),
        );
        // `_hvp_into` into buffers of the wrong size: resized, same results
        let (f, g, h) = h_vector_hvp(&x, &w, &y, &v);
        let (mut gi, mut hi) = (DVector::from_element(7, 7.0), DVector::zeros(0));
        let fi = h_vector_hvp_into(&x, &w, &y, &v, &mut gi, &mut hi, &mut ws);
        assert_eq!((fi, &gi, &hi), (f, &g, &h));
    }
}

/// A matrix taken by value and a scalar by reference: the directions are still
/// `&DMatrix` and `f64` (SPEC §10).
#[grad(wrt = (a, t), hvp)]
fn h_by_value(a: DMatrix<f64>, t: &f64) -> f64 {
    (a.map(|x| x.sin()) * *t).norm_squared() + t.powi(3)
}

#[test]
fn directions_by_reference_for_matrices_by_value_for_scalars() {
    let r = &mut rng(18);
    for (m, n) in SHAPES {
        let (a, t) = (mat(r, m, n), uniform(r, 0.5, 1.5));
        let (va, vt) = (direction(r, &a), uniform(r, -1.0, 1.0));
        hvp2(
            "by value",
            (&a, &t),
            (&va, &vt),
            |a, t| h_by_value_grad(a.clone(), t),
            |a, t, va, vt| h_by_value_hvp(a.clone(), t, va, *vt),
        );
        assert_eq!(h_by_value(a.clone(), &t), h_by_value_grad(a.clone(), &t).0);
        let v = direction(r, &a);
        hessian(
            "by value",
            &a,
            |a| h_owned_hessian(a.clone()),
            |a, v| h_owned_hvp(a.clone(), v),
        );
        hvp1(
            "by value",
            &a,
            &v,
            |a| h_owned_grad(a.clone()),
            |a, v| h_owned_hvp(a.clone(), v),
        );
    }
}

/// One matrix by value, with its Hessian (the unit directions passed by reference).
#[grad(wrt = a, hvp, hessian)]
fn h_owned(a: DMatrix<f64>) -> f64 {
    a.map(|x| x.cos()).sum() * a.norm()
}

/// Counts: a `usize` parameter and a `let`-bound size, in the tangents' blocks too.
#[grad(wrt = a, hvp, hessian)]
fn h_counts(a: &DMatrix<f64>, k: usize) -> f64 {
    let n = a.ncols();
    let top = a.rows(0, k);
    top.columns(0, n - 1).map(|x| x.exp()).sum() * a.column(n - 1).norm_squared()
}

#[test]
fn counts_in_tangents() {
    let r = &mut rng(19);
    for (m, n, k) in [(2, 2, 1), (4, 3, 2)] {
        let a = mat(r, m, n);
        let v = direction(r, &a);
        hvp1(
            "counts",
            &a,
            &v,
            |a| h_counts_grad(a, k),
            |a, v| h_counts_hvp(a, k, v),
        );
        hessian(
            "counts",
            &a,
            |a| h_counts_hessian(a, k),
            |a, v| h_counts_hvp(a, k, v),
        );
    }
}

const GAMMA: f64 = 0.3;

/// Constructors (an identity, `from_element` of a differentiated scalar, zeros),
/// counts as floats and outside constants.
#[grad(wrt = (a, s), hvp)]
fn h_constructors(a: &DMatrix<f64>, s: f64) -> f64 {
    let n = a.nrows();
    let fill = DMatrix::from_element(n, a.ncols(), s * s);
    let eye = DMatrix::identity(n, n);
    let z = DMatrix::<f64>::zeros(n, a.ncols());
    let b = (&eye * a + fill.component_mul(a) + z).scale(s.sin());
    b.map(|x| x.tanh()).sum() * (n as f64) + GAMMA * std::f64::consts::PI * a.norm_squared() * s
}

#[test]
fn constructors_counts_constants() {
    let r = &mut rng(20);
    for (m, n) in SHAPES {
        let (a, s) = (mat(r, m, n), uniform(r, 0.5, 1.5));
        let (va, vs) = (direction(r, &a), uniform(r, -1.0, 1.0));
        hvp2(
            "constructors",
            (&a, &s),
            (&va, &vs),
            |a, s| h_constructors_grad(a, *s),
            |a, s, va, vs| h_constructors_hvp(a, *s, va, *vs),
        );
    }
}

// ---------------------------------------------------------------------------
// Closed forms (the seeds)
// ---------------------------------------------------------------------------

#[grad(wrt = x, hvp, hessian)]
fn c_quadratic(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

#[grad(wrt = w, hessian)]
fn c_least_squares(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (x * w - y).norm_squared()
}

#[grad(wrt = w, hessian)]
fn c_logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    softplus(&(x * w)).sum() - y.dot(&(x * w))
}

#[grad(wrt = a, hessian)]
fn c_log_sum_exp(a: &DVector<f64>) -> f64 {
    log_sum_exp(a)
}

#[grad(wrt = x, hvp)]
fn c_ln_det(x: &DMatrix<f64>) -> f64 {
    ln_det(x)
}

#[test]
fn closed_forms_of_the_seeds() {
    let r = &mut rng(16);
    let close = |what: &str, got: &DMatrix<f64>, want: &DMatrix<f64>| {
        let e = error(got.as_slice(), want.as_slice());
        assert!(
            e <= 1e-10,
            "{what}: off the closed form by {e:e}\n{got}\n{want}"
        );
    };
    for n in [1, 3, 5] {
        let (x, a) = (vector(r, n), mat(r, n, n));
        close(
            "xᵀAx → A + Aᵀ",
            &c_quadratic_hessian(&x, &a).2,
            &(&a + a.transpose()),
        );
        let (m, w, y) = (mat(r, n + 2, n), vector(r, n), vector(r, n + 2));
        close(
            "‖Xw − y‖² → 2XᵀX",
            &c_least_squares_hessian(&m, &w, &y).2,
            &(m.transpose() * &m * 2.0),
        );
        let p = (&m * &w).map(|z| 1.0 / (1.0 + (-z).exp()));
        let d = DMatrix::from_diagonal(&p.map(|s| s * (1.0 - s)));
        close(
            "logistic → Xᵀ diag(σ(1−σ)) X",
            &c_logistic_hessian(&m, &w, &y).2,
            &(m.transpose() * d * &m),
        );
        let e = x.map(|v| v.exp());
        let p = &e / e.sum();
        close(
            "log-sum-exp → diag(p) − ppᵀ",
            &c_log_sum_exp_hessian(&x).2,
            &(DMatrix::from_diagonal(&p) - &p * p.transpose()),
        );
        let xm = crate::common::dominant(r, n);
        let v = mat(r, n, n);
        let inv_t = xm.clone().try_inverse().unwrap().transpose();
        close(
            "ln det X along V → −X⁻ᵀVᵀX⁻ᵀ",
            &c_ln_det_hvp(&xm, &v).2,
            &(-(&inv_t * v.transpose() * &inv_t)),
        );
    }
}

// ---------------------------------------------------------------------------
// The README's example
// ---------------------------------------------------------------------------

#[grad(wrt = w, hvp, hessian)]
fn logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    softplus(&(x * w)).sum() - y.dot(&(x * w))
}

#[test]
fn readme_second_order_example() {
    let x = DMatrix::from_fn(5, 3, |i, j| ((i * 3 + j) % 7) as f64 / 7.0 - 0.4);
    let (w, y) = (
        DVector::from_element(3, 0.1),
        DVector::from_fn(5, |i, _| (i % 2) as f64),
    );
    let (f, g, h) = logistic_hessian(&x, &w, &y);
    let step = h.cholesky().unwrap().solve(&g);
    let (_, _, hv) = logistic_hvp(&x, &w, &y, &step);
    assert!((hv - &g).norm() < 1e-10 && f.is_finite());
}

// ===========================================================================
// The language of issues 15 and 16 under second order: from_diagonal, static
// matrices from scalars, unrolled loops with `let mut`, generic float types
// ===========================================================================

#[grad(wrt = v, hvp, hessian)]
fn h_from_diagonal(v: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    let d = DMatrix::from_diagonal(&v.map(|x| x.exp()));
    (&d * a * &d).norm_squared() + nalgebra::Vector2::new(v.sum(), v[0] * v[0]).norm_squared()
}

#[grad(wrt = w, hvp, hessian)]
fn h_unrolled(xs: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut h = xs.column(0).into_owned();
    let mut total = 0.0;
    for t in 1..3 {
        h = (w * &h).map(|x| x.tanh()) + xs.column(t);
        total += h.norm_squared();
    }
    total
}

#[grad(wrt = w, hvp, hessian)]
fn h_generic<T: nalgebra::RealField + Copy>(x: &DMatrix<T>, w: &DVector<T>) -> T {
    let n = T::from_usize(x.nrows()).unwrap();
    (x * w).map(|z| (z * z + T::one()).ln()).sum() / n
}

#[test]
fn language_of_issues_15_and_16() {
    let r = &mut rng(40);
    for n in [1, 2, 4] {
        let (v, a) = (
            DVector::from_fn(n, |i, _| 0.1 * i as f64 - 0.2),
            mat(r, n, n),
        );
        let dv = direction(r, &v);
        hvp1(
            "from_diagonal",
            &v,
            &dv,
            |v| h_from_diagonal_grad(v, &a),
            |v, d| h_from_diagonal_hvp(v, &a, d),
        );
        hessian(
            "from_diagonal",
            &v,
            |v| h_from_diagonal_hessian(v, &a),
            |v, d| h_from_diagonal_hvp(v, &a, d),
        );
        let (xs, w) = (mat(r, n, 3), mat(r, n, n));
        let dw = direction(r, &w);
        hvp1(
            "unrolled",
            &w,
            &dw,
            |w| h_unrolled_grad(&xs, w),
            |w, d| h_unrolled_hvp(&xs, w, d),
        );
        hessian(
            "unrolled",
            &w,
            |w| h_unrolled_hessian(&xs, w),
            |w, d| h_unrolled_hvp(&xs, w, d),
        );
        let (x, w) = (
            mat(r, n + 1, n),
            DVector::from_fn(n, |i, _| 0.3 - 0.2 * i as f64),
        );
        let dw = direction(r, &w);
        hvp1(
            "generic f64",
            &w,
            &dw,
            |w| h_generic_grad(&x, w),
            |w, d| h_generic_hvp(&x, w, d),
        );
        hessian(
            "generic f64",
            &w,
            |w| h_generic_hessian(&x, w),
            |w, d| h_generic_hvp(&x, w, d),
        );
        let (x32, w32, dw32) = (f32m(&x), w.cast::<f32>(), dw.cast::<f32>());
        hvp1(
            "generic f32",
            &w32,
            &dw32,
            |w| h_generic_grad(&x32, w),
            |w, d| h_generic_hvp(&x32, w, d),
        );
    }
}

// ---------------------------------------------------------------------------
// Run-time loops and branches: the tangent loop (carrying values and tangents, its
// step the tangent of the body's step function)
// ---------------------------------------------------------------------------

/// The trip counts every run-time loop is checked at: none, one, several.
const TRIPS: [usize; 3] = [0, 1, 4];

// A tanh RNN over the columns of `xs`: a vector and a scalar carried, `a` and `b`
// read and differentiated, `xs` read only, the trip count a shape; the initial state
// is a constant (its tangent enters as zero).
#[grad(wrt = (a, b), hvp)]
fn h_rnn(a: &DMatrix<f64>, b: &DMatrix<f64>, xs: &DMatrix<f64>) -> f64 {
    let mut h = DVector::zeros(a.nrows());
    let mut loss = 0.0;
    for t in 0..xs.ncols() {
        h = (a * &h + b * xs.column(t)).map(f64::tanh);
        loss += h.norm_squared() * (t as f64 + 1.0);
    }
    loss + h.sum()
}

// One variable carried from its own value (its tangent is the direction), a
// computed value read (`s`, depending on `w`), a `usize` bound, a branch decided
// at run time, and the dense Hessian.
#[grad(wrt = w, hvp, hessian)]
fn h_power(w: &DMatrix<f64>, c: &DMatrix<f64>, steps: usize, damp: bool) -> f64 {
    let s = w.norm_squared();
    let mut m = w.clone();
    for k in 0..steps {
        m = (&m * c).map(|x| x.sin()) * s + w;
        if damp {
            m *= 0.5;
        }
        if k == 1 {
            m = m.map(|x| x * x);
        }
    }
    m.sum() + (m.transpose() * w).trace()
}

// Nested run-time loops, a scalar variable.
#[grad(wrt = (w, s), hvp)]
fn h_nested(w: &DVector<f64>, s: f64, xs: &DMatrix<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.ncols() {
        let mut acc = w.clone();
        for _ in 0..i {
            acc = acc.map(|x| (x * s).tanh()) + xs.column(i) * s;
        }
        total += acc.norm_squared();
    }
    total * s
}

#[test]
fn runtime_loops() {
    let r = &mut rng(41);
    for (hidden, inputs) in [(1, 1), (3, 2), (4, 5)] {
        for steps in TRIPS {
            let (a, b, xs) = (
                mat(r, hidden, hidden) * 0.5,
                mat(r, hidden, inputs),
                mat(r, inputs, steps),
            );
            let (va, vb) = (direction(r, &a), direction(r, &b));
            hvp2(
                "rnn",
                (&a, &b),
                (&va, &vb),
                |a, b| h_rnn_grad(a, b, &xs),
                |a, b, va, vb| h_rnn_hvp(a, b, &xs, va, vb),
            );
        }
    }
    for (m, n) in SHAPES {
        let c = mat(r, n, n) * 0.5;
        for steps in TRIPS {
            for damp in [false, true] {
                let w = mat(r, m, n) * 0.5;
                let v = direction(r, &w);
                let what = format!("power {m}×{n}, {steps} steps, damp {damp}");
                hvp1(
                    &what,
                    &w,
                    &v,
                    |w| h_power_grad(w, &c, steps, damp),
                    |w, v| h_power_hvp(w, &c, steps, damp, v),
                );
                hessian(
                    &what,
                    &w,
                    |w| h_power_hessian(w, &c, steps, damp),
                    |w, v| h_power_hvp(w, &c, steps, damp, v),
                );
            }
        }
    }
    for rows in [1, 3] {
        for cols in TRIPS {
            let (w, xs) = (vector(r, rows), mat(r, rows, cols));
            let s = uniform(r, 0.5, 1.5);
            let (vw, vs) = (direction(r, &w), uniform(r, -1.0, 1.0));
            hvp2(
                "nested",
                (&w, &s),
                (&vw, &vs),
                |w, s| h_nested_grad(w, *s, &xs),
                |w, s, vw, vs| h_nested_hvp(w, *s, &xs, vw, *vs),
            );
        }
    }
}

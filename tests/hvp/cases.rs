//! The cases of the second-order suite: one annotated function per rule family
//! (`h_<rule>`, each with `hvp` and `hessian` where it has one variable), checked by
//! [`hvp1`]/[`hvp2`] (the HVP against central differences of `_grad` along a random
//! direction; its value and gradient against `_grad`'s) and [`hessian`] (each column
//! against the HVP of its unit direction; symmetric).

use super::grad;
use crate::common::{mat, rng, uniform, vector, Float, Var};
use matgrad::{add_col, add_row, ln_det, log_sum_exp, relu, sigmoid, softplus, Workspace};
use nalgebra::{DMatrix, DVector, Matrix2, Matrix3, RowDVector, SMatrix, Vector3};
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

//! The cases: one annotated function per structure (`s_<name>`, each with `hvp` and
//! `hessian`), checked by [`structured`]; the closed forms of the seeds checked
//! against nalgebra's own products.

use super::grad;
use crate::common::{mat, rng, uniform, vector, Float, Var};
use matgrad::{log_sum_exp, sigmoid, softplus};
use nalgebra::{DMatrix, DVector, Matrix3, RowDVector, SMatrix, Vector3};

// ---------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------

/// `max_k |got_k − want_k| / max(1, max |want|)`.
fn error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths");
    let scale = want.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    got.iter()
        .zip(want)
        .fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()))
        / scale
}

fn flat<V: Var>(v: &V) -> Vec<f64> {
    (0..v.len()).map(|k| v.get(k)).collect()
}

/// The central-difference step and tolerance of `E` for a derivative of the gradient.
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

/// The dense Hessian `hess(w) = (f, ∇f, H)`: its value and gradient are `grad`'s; `H`
/// is `n×n`, exactly symmetric; column `j` is the central difference of `grad` along
/// `e_j`, and the HVP of `e_j` (the column-by-column build).
#[track_caller]
fn structured<V, H, E>(
    what: &str,
    w: &V,
    hess: impl Fn(&V) -> (E, V, H),
    grad: impl Fn(&V) -> (E, V),
    hvp: impl Fn(&V, &V) -> (E, V, V),
) -> Vec<f64>
where
    V: Var<E = E> + Clone,
    H: Var<E = E>,
    E: Float,
{
    let (f, g, h) = hess(w);
    let (f0, g0) = grad(w);
    let n = w.len();
    let tol = same::<E>();
    assert_eq!(h.shape(), (n, n), "{what}: the Hessian's shape");
    assert!(
        error(&[f.to_f64()], &[f0.to_f64()]) <= tol,
        "{what}: value {f:?} is not _grad's {f0:?}"
    );
    let e = error(&flat(&g), &flat(&g0));
    assert!(e <= tol, "{what}: gradient off _grad's by {e:e}");
    for i in 0..n {
        for j in 0..i {
            assert_eq!(
                h.get(i + j * n),
                h.get(j + i * n),
                "{what}: H[{i},{j}] and H[{j},{i}] differ"
            );
        }
    }
    let (step, fd_tol) = fd::<E>();
    let mut unit = w.clone();
    for k in 0..n {
        unit.set(k, 0.0);
    }
    for j in 0..n {
        let got: Vec<f64> = (0..n).map(|i| h.get(i + j * n)).collect();
        let (mut wp, mut wm) = (w.clone(), w.clone());
        wp.set(j, w.get(j) + step);
        wm.set(j, w.get(j) - step);
        let (gp, gm) = (flat(&grad(&wp).1), flat(&grad(&wm).1));
        let want: Vec<f64> = gp
            .iter()
            .zip(&gm)
            .map(|(p, m)| (p - m) / (2.0 * step))
            .collect();
        let e = error(&got, &want);
        assert!(
            e <= fd_tol,
            "{what}: column {j} off central differences by {e:e}\n got  {got:?}\n want {want:?}"
        );
        unit.set(j, 1.0);
        let (_, _, col) = hvp(w, &unit);
        unit.set(j, 0.0);
        let e = error(&got, &flat(&col));
        assert!(e <= tol, "{what}: column {j} off the unit HVP by {e:e}");
    }
    flat(&h)
}

/// `H` against a closed form.
#[track_caller]
fn closed(what: &str, got: &[f64], want: &DMatrix<f64>, tol: f64) {
    let e = error(got, want.as_slice());
    assert!(e <= tol, "{what}: off the closed form by {e:e}\n{want}");
}

/// σ(v).
fn sigma(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

// ---------------------------------------------------------------------------
// Vector variables: Xᵀ diag(d) X, 2XᵀX, A + Aᵀ, diag(p) − ppᵀ
// ---------------------------------------------------------------------------

#[grad(wrt = w, hvp, hessian)]
fn s_logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    softplus(&(x * w)).sum() - y.dot(&(x * w)) + lambda * w.norm_squared()
}

#[grad(wrt = w, hvp, hessian)]
fn s_least_squares(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (x * w - y).norm_squared()
}

#[grad(wrt = w, hvp, hessian)]
fn s_quadratic(w: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (w.transpose() * a * w)[(0, 0)] + w.dot(&(a * w))
}

#[grad(wrt = w, hvp, hessian)]
fn s_log_sum_exp(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 {
    log_sum_exp(&(x * w)) + 0.5 * log_sum_exp(w)
}

/// Entrywise functions through `map`, `zip_map`, products with constants, a mean,
/// and `sigmoid` of a row (`wᵀ xᵀ`, the transpose of `x w`).
#[grad(wrt = w, hvp, hessian)]
fn s_entrywise(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.map(|v| (1.0 + v * v).ln()).sum()
        + (x * w).zip_map(y, |p, q| (p - q).powi(4)).mean()
        + y.component_mul(&(x * w)).map(|v| (0.3 * v).exp()).sum()
        + sigmoid(&(w.transpose() * x.transpose())).sum()
}

/// Two constant factors on one side (`a b w`): under `reassociate` the Hessian of
/// this one is left to the HVPs (through `a (b v)`, cheaper for a tall `a`), that of
/// [`s_square_factors`] is built with one chain product forming `a b`.
#[grad(wrt = w, hvp, hessian)]
fn s_two_factors(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (a * b * w - y).norm_squared() + softplus(&(a * (b * w))).sum()
}

#[grad(wrt = w, hvp, hessian)]
fn s_square_factors(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (a * b * w - y).norm_squared() + a.trace()
}

#[test]
fn vector_variables() {
    let r = &mut rng(71);
    for (m, n) in [(1, 1), (5, 3), (4, 6)] {
        let (x, w, y) = (mat(r, m, n), vector(r, n), vector(r, m));
        let lambda = 0.3;
        let h = structured(
            "logistic",
            &w,
            |w| s_logistic_hessian(&x, w, &y, lambda),
            |w| s_logistic_grad(&x, w, &y, lambda),
            |w, v| s_logistic_hvp(&x, w, &y, lambda, v),
        );
        let d = (&x * &w).map(|z| sigma(z) * (1.0 - sigma(z)));
        let want = x.transpose() * DMatrix::from_diagonal(&d) * &x
            + DMatrix::identity(n, n) * (2.0 * lambda);
        closed("Xᵀ diag(σ(1 − σ)) X + 2λI", &h, &want, 1e-12);

        let h = structured(
            "least squares",
            &w,
            |w| s_least_squares_hessian(&x, w, &y),
            |w| s_least_squares_grad(&x, w, &y),
            |w, v| s_least_squares_hvp(&x, w, &y, v),
        );
        closed("‖Xw − y‖² → 2XᵀX", &h, &(x.transpose() * &x * 2.0), 1e-12);

        let a = mat(r, n, n);
        let h = structured(
            "quadratic",
            &w,
            |w| s_quadratic_hessian(w, &a),
            |w| s_quadratic_grad(w, &a),
            |w, v| s_quadratic_hvp(w, &a, v),
        );
        closed(
            "wᵀAw + ⟨w, Aw⟩ → 2(A + Aᵀ)",
            &h,
            &((&a + a.transpose()) * 2.0),
            1e-12,
        );

        let h = structured(
            "log_sum_exp",
            &w,
            |w| s_log_sum_exp_hessian(&x, w),
            |w| s_log_sum_exp_grad(&x, w),
            |w, v| s_log_sum_exp_hvp(&x, w, v),
        );
        let softmax = |z: &DVector<f64>| {
            let e = z.map(f64::exp);
            &e / e.sum()
        };
        let (p, q) = (softmax(&(&x * &w)), softmax(&w));
        let want = x.transpose() * (DMatrix::from_diagonal(&p) - &p * p.transpose()) * &x
            + (DMatrix::from_diagonal(&q) - &q * q.transpose()) * 0.5;
        closed("Xᵀ(diag(p) − ppᵀ)X + ½(diag(q) − qqᵀ)", &h, &want, 1e-12);

        structured(
            "entrywise",
            &w,
            |w| s_entrywise_hessian(&x, w, &y),
            |w| s_entrywise_grad(&x, w, &y),
            |w, v| s_entrywise_hvp(&x, w, &y, v),
        );

        let (sa, sb) = (mat(r, m, m), mat(r, m, n));
        let h = structured(
            "square factors",
            &w,
            |w| s_square_factors_hessian(&sa, &sb, w, &y),
            |w| s_square_factors_grad(&sa, &sb, w, &y),
            |w, v| s_square_factors_hvp(&sa, &sb, w, &y, v),
        );
        let ab = &sa * &sb;
        closed(
            "‖ABw − y‖² → 2(AB)ᵀ(AB)",
            &h,
            &(ab.transpose() * &ab * 2.0),
            1e-12,
        );

        let (a, b) = (mat(r, m, m + 1), mat(r, m + 1, n));
        structured(
            "two factors",
            &w,
            |w| s_two_factors_hessian(&a, &b, w, &y),
            |w| s_two_factors_grad(&a, &b, w, &y),
            |w, v| s_two_factors_hvp(&a, &b, w, &y, v),
        );
    }
}

// ---------------------------------------------------------------------------
// Matrix and row variables: Kronecker products, block diagonals
// ---------------------------------------------------------------------------

#[grad(wrt = x, hvp, hessian)]
fn s_kronecker(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * x * b - c).norm_squared()
}

#[grad(wrt = x, hvp, hessian)]
fn s_trace_quadratic(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

/// Several outputs: `softplus(X W)` summed is block diagonal (one `Xᵀ diag(d_j) X`
/// per column of `W`); `sigmoid(A W B)` sums Kronecker terms over the columns of
/// `A W B` (the cost model may leave that one to the HVPs).
#[grad(wrt = w, hvp, hessian)]
fn s_columns(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    softplus(&(x * w)).sum() + sigmoid(&(x * w * b)).sum()
}

#[grad(wrt = w, hvp, hessian)]
fn s_row(w: &RowDVector<f64>, x: &DMatrix<f64>, y: &RowDVector<f64>) -> f64 {
    (w * x - y).norm_squared()
}

#[test]
fn matrix_and_row_variables() {
    let r = &mut rng(72);
    for ((m, p), (q, k)) in [((1, 1), (1, 1)), ((4, 2), (3, 5)), ((2, 3), (2, 1))] {
        let (a, x, b, c) = (mat(r, m, p), mat(r, p, q), mat(r, q, k), mat(r, m, k));
        let h = structured(
            "kronecker",
            &x,
            |x| s_kronecker_hessian(&a, x, &b, &c),
            |x| s_kronecker_grad(&a, x, &b, &c),
            |x, v| s_kronecker_hvp(&a, x, &b, &c, v),
        );
        let want = (&b * b.transpose()).kronecker(&(a.transpose() * &a)) * 2.0;
        closed("‖AXB − C‖² → 2 (BBᵀ) ⊗ (AᵀA)", &h, &want, 1e-12);

        let sq = mat(r, p, p);
        let h = structured(
            "tr(XᵀAX)",
            &x,
            |x| s_trace_quadratic_hessian(x, &sq),
            |x| s_trace_quadratic_grad(x, &sq),
            |x, v| s_trace_quadratic_hvp(x, &sq, v),
        );
        let want = DMatrix::<f64>::identity(q, q).kronecker(&(&sq + sq.transpose()));
        closed("tr(XᵀAX) → I ⊗ (A + Aᵀ)", &h, &want, 1e-12);

        let (xm, bq) = (mat(r, m, p), mat(r, q, k));
        structured(
            "columns",
            &x,
            |w| s_columns_hessian(&xm, w, &bq),
            |w| s_columns_grad(&xm, w, &bq),
            |w, v| s_columns_hvp(&xm, w, &bq, v),
        );

        let (w, xr, y) = (
            RowDVector::from_fn(p, |_, _| uniform(r, -1.0, 1.0)),
            mat(r, p, k),
            RowDVector::from_fn(k, |_, _| uniform(r, -1.0, 1.0)),
        );
        let h = structured(
            "row",
            &w,
            |w| s_row_hessian(w, &xr, &y),
            |w| s_row_grad(w, &xr, &y),
            |w, v| s_row_hvp(w, &xr, &y, v),
        );
        closed("‖wX − y‖² → 2XXᵀ", &h, &(&xr * xr.transpose() * 2.0), 1e-12);
    }
}

// ---------------------------------------------------------------------------
// f32, generic floats
// ---------------------------------------------------------------------------

#[grad(wrt = w, hvp, hessian)]
fn s_f32(x: &DMatrix<f32>, w: &DVector<f32>, y: &DVector<f32>) -> f32 {
    softplus(&(x * w)).sum() - y.dot(&(x * w)) + (x * w - y).norm_squared()
}

#[grad(wrt = w, hvp, hessian)]
fn s_generic<T: nalgebra::RealField + Copy>(x: &DMatrix<T>, w: &DVector<T>) -> T {
    let n = T::from_usize(x.nrows()).unwrap();
    (x * w).map(|z| (z * z + T::one()).ln()).sum() / n + w.norm_squared()
}

#[test]
fn f32_and_generic_floats() {
    let r = &mut rng(73);
    for (m, n) in [(1, 1), (6, 4)] {
        let (x, w, y) = (mat(r, m, n), vector(r, n), vector(r, m));
        let (x32, w32, y32) = (
            x.clone().cast::<f32>(),
            w.clone().cast::<f32>(),
            y.cast::<f32>(),
        );
        let h = structured(
            "f32",
            &w32,
            |w| s_f32_hessian(&x32, w, &y32),
            |w| s_f32_grad(&x32, w, &y32),
            |w, v| s_f32_hvp(&x32, w, &y32, v),
        );
        let d = (&x * &w).map(|z| sigma(z) * (1.0 - sigma(z)) + 2.0);
        let want = x.transpose() * DMatrix::from_diagonal(&d) * &x;
        closed("f32 Xᵀ diag(σ(1 − σ) + 2) X", &h, &want, 1e-4);
        structured(
            "generic f64",
            &w,
            |w| s_generic_hessian(&x, w),
            |w| s_generic_grad(&x, w),
            |w, v| s_generic_hvp(&x, w, v),
        );
        structured(
            "generic f32",
            &w32,
            |w| s_generic_hessian(&x32, w),
            |w| s_generic_grad(&x32, w),
            |w, v| s_generic_hvp(&x32, w, v),
        );
    }
}

// ---------------------------------------------------------------------------
// Static and mixed sizes
// ---------------------------------------------------------------------------

#[grad(wrt = w, hvp, hessian)]
fn s_static(a: &Matrix3<f64>, w: &Vector3<f64>, y: &Vector3<f64>, b: &SMatrix<f64, 2, 3>) -> f64 {
    (a * w - y).norm_squared()
        + (w.transpose() * a * w)[(0, 0)]
        + softplus(&(b * w)).sum()
        + log_sum_exp(&(a * w))
}

#[grad(wrt = x, hvp, hessian)]
fn s_static_kronecker(
    a: &SMatrix<f64, 3, 2>,
    x: &SMatrix<f64, 2, 3>,
    b: &SMatrix<f64, 3, 4>,
    c: &SMatrix<f64, 3, 4>,
) -> f64 {
    (a * x * b - c).norm_squared() + (x.transpose() * x).trace()
}

#[grad(wrt = w, hvp, hessian)]
fn s_static_f32(x: &SMatrix<f32, 4, 3>, w: &Vector3<f32>) -> f32 {
    (x * w).map(|v| v.tanh()).sum()
}

/// A static variable among dynamic parameters: the dynamic backend, its Hessian a
/// static matrix.
#[grad(wrt = w, hvp, hessian)]
fn s_mixed(x: &DMatrix<f64>, w: &Vector3<f64>, y: &DVector<f64>) -> f64 {
    (x * w - y).norm_squared() + softplus(&(x * w)).sum()
}

#[test]
fn static_and_mixed_sizes() {
    let r = &mut rng(74);
    for _ in 0..3 {
        let u = |r: &mut _| uniform(r, -1.0, 1.0);
        let a = Matrix3::from_fn(|_, _| u(r));
        let (w, y) = (Vector3::from_fn(|_, _| u(r)), Vector3::from_fn(|_, _| u(r)));
        let b = SMatrix::<f64, 2, 3>::from_fn(|_, _| u(r));
        let h = structured(
            "static",
            &w,
            |w| s_static_hessian(&a, w, &y, &b),
            |w| s_static_grad(&a, w, &y, &b),
            |w, v| s_static_hvp(&a, w, &y, &b, v),
        );
        let (_, _, hs): (f64, Vector3<f64>, SMatrix<f64, 3, 3>) = s_static_hessian(&a, &w, &y, &b);
        assert_eq!(hs.as_slice(), h.as_slice());

        let a = SMatrix::<f64, 3, 2>::from_fn(|_, _| u(r));
        let x = SMatrix::<f64, 2, 3>::from_fn(|_, _| u(r));
        let b = SMatrix::<f64, 3, 4>::from_fn(|_, _| u(r));
        let c = SMatrix::<f64, 3, 4>::from_fn(|_, _| u(r));
        let h = structured(
            "static kronecker",
            &x,
            |x| s_static_kronecker_hessian(&a, x, &b, &c),
            |x| s_static_kronecker_grad(&a, x, &b, &c),
            |x, v| s_static_kronecker_hvp(&a, x, &b, &c, v),
        );
        let (ad, bd) = (
            DMatrix::from_column_slice(3, 2, a.as_slice()),
            DMatrix::from_column_slice(3, 4, b.as_slice()),
        );
        let want = (&bd * bd.transpose()).kronecker(&(ad.transpose() * &ad)) * 2.0
            + DMatrix::<f64>::identity(6, 6) * 2.0;
        closed("static 2 (BBᵀ) ⊗ (AᵀA) + 2I", &h, &want, 1e-12);

        let x = SMatrix::<f32, 4, 3>::from_fn(|_, _| u(r) as f32);
        let w = Vector3::<f32>::from_fn(|_, _| u(r) as f32);
        structured(
            "static f32",
            &w,
            |w| s_static_f32_hessian(&x, w),
            |w| s_static_f32_grad(&x, w),
            |w, v| s_static_f32_hvp(&x, w, v),
        );

        let (x, w, y) = (mat(r, 5, 3), Vector3::from_fn(|_, _| u(r)), vector(r, 5));
        let (_, _, hm): (f64, Vector3<f64>, SMatrix<f64, 3, 3>) = s_mixed_hessian(&x, &w, &y);
        let h = structured(
            "mixed",
            &w,
            |w| s_mixed_hessian(&x, w, &y),
            |w| s_mixed_grad(&x, w, &y),
            |w, v| s_mixed_hvp(&x, w, &y, v),
        );
        assert_eq!(hm.as_slice(), h.as_slice());
    }
}

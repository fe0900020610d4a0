//! `#[jacobian]`: Jacobians of vector-valued functions against central finite
//! differences of the function itself, column by column (dynamic and static sizes,
//! matrix, vector and scalar variables, f32 and f64), and against closed forms:
//! a linear residual (J = A), Rosenbrock's residual, an exponential fit, a rigid
//! transform. `_jacobian_into` reuses its workspace across calls and sizes. The
//! form is the one the costs choose: structured for the exponential fit of three
//! parameters to 100 points (a column of `J` per entry `p[k]`), reverse for a layer
//! of 120 weights and 4 outputs (chosen at run time; `matgrad-core`'s
//! `jacobian::tests` pins the choices, `tests/jacobian_modes` checks every rule in
//! each mode forced, `tests/jacobian_structured.rs` the structured forms).

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad::{
    __jacobian_forward, __jacobian_reassociated, __jacobian_reverse, jacobian, Workspace,
};
use nalgebra::{DMatrix, DVector, Matrix3, RealField, SMatrix, Vector2, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Column k of the Jacobian of `f` at `x` by central differences, for every k.
fn fd_jacobian(x: &[f64], f: impl Fn(&[f64]) -> Vec<f64>) -> DMatrix<f64> {
    let m = f(x).len();
    let mut j = DMatrix::zeros(m, x.len());
    for k in 0..x.len() {
        let h = 1e-6 * x[k].abs().max(1.0);
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[k] += h;
        down[k] -= h;
        let (fu, fd) = (f(&up), f(&down));
        for i in 0..m {
            j[(i, k)] = (fu[i] - fd[i]) / (2.0 * h);
        }
    }
    j
}

/// `|got − want| ≤ tol · max(1, |want|)` entry by entry.
fn assert_close(what: &str, got: &DMatrix<f64>, want: &DMatrix<f64>, tol: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (g, w) in got.iter().zip(want.iter()) {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: got\n{got}\nwant\n{want}"
        );
    }
}

fn random(r: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |_, _| r.random_range(-1.0..=1.0))
}

#[jacobian(wrt = x)]
fn linear(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> DVector<f64> {
    a * x - b
}

#[test]
fn linear_residual_is_a() {
    let r = &mut ChaCha8Rng::seed_from_u64(1);
    for (m, n) in [(1, 1), (3, 5), (6, 2)] {
        let (a, x, b) = (
            random(r, m, n),
            random(r, n, 1).column(0).into_owned(),
            random(r, m, 1).column(0).into_owned(),
        );
        let (value, j) = linear_jacobian(&a, &x, &b);
        assert_eq!(value, linear(&a, &x, &b));
        assert_close("A x − b", &j, &a, 1e-14);
    }
}

/// Rosenbrock's function as a least-squares residual: (10 (y − x²), 1 − x).
#[jacobian(wrt = p)]
fn rosenbrock(p: &Vector2<f64>) -> Vector2<f64> {
    Vector2::new(10.0 * (p[1] - p[0] * p[0]), 1.0 - p[0])
}

#[test]
fn rosenbrock_closed_form() {
    let p = Vector2::new(-1.2, 1.0);
    let (r, j): (Vector2<f64>, SMatrix<f64, 2, 2>) = rosenbrock_jacobian(&p);
    assert_eq!(r, rosenbrock(&p));
    let want = SMatrix::<f64, 2, 2>::new(-20.0 * p[0], 10.0, -1.0, 0.0);
    assert!((j - want).norm() < 1e-14, "{j}");
}

/// y ≈ b₁ (1 − e^{−b₂ t}) (the model of NIST's Misra1a problem), several fits at once.
#[jacobian(wrt = (b1, b2))]
fn exponential_fit(b1: f64, b2: f64, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    t.map(|v| b1 * (1.0 - (-b2 * v).exp())) - y
}

#[test]
fn exponential_fit_scalar_variables() {
    let t = DVector::from_fn(14, |i, _| 77.6 + 50.0 * i as f64);
    let y = t.map(|v| 238.9 * (1.0 - (-5.5e-4 * v).exp()));
    let (b1, b2) = (250.0, 5e-4);
    let (r, j1, j2) = exponential_fit_jacobian(b1, b2, &t, &y);
    assert_eq!(r, exponential_fit(b1, b2, &t, &y));
    let want1 = DMatrix::from_fn(14, 1, |i, _| 1.0 - (-b2 * t[i]).exp());
    let want2 = DMatrix::from_fn(14, 1, |i, _| b1 * t[i] * (-b2 * t[i]).exp());
    assert_close("∂r/∂b₁", &j1, &want1, 1e-12);
    assert_close("∂r/∂b₂", &j2, &want2, 1e-12);
}

/// A rigid transform of several points, static sizes: J over R's 9 entries
/// (column-major) and t's 3.
#[jacobian(wrt = (rot, t))]
fn transform(rot: &Matrix3<f64>, t: &Vector3<f64>, p: &Vector3<f64>) -> Vector3<f64> {
    rot * p + t
}

#[test]
fn rigid_transform_static() {
    let r = &mut ChaCha8Rng::seed_from_u64(2);
    let rot = Matrix3::from_fn(|_, _| r.random_range(-1.0..=1.0));
    let (t, p) = (Vector3::new(0.1, -0.2, 0.3), Vector3::new(1.0, 2.0, -1.0));
    let (value, jr, jt): (Vector3<f64>, SMatrix<f64, 3, 9>, Matrix3<f64>) =
        transform_jacobian(&rot, &t, &p);
    assert_eq!(value, transform(&rot, &t, &p));
    // ∂(R p)_i/∂R_ab = δ_ia p_b: with column-major k = a + 3 b.
    let want_r = SMatrix::<f64, 3, 9>::from_fn(|i, k| if k % 3 == i { p[k / 3] } else { 0.0 });
    assert_eq!(jr, want_r);
    assert_eq!(jt, Matrix3::identity());
}

/// A matrix variable and a nonlinear body, checked by finite differences.
#[jacobian(wrt = (w, s))]
fn layer(w: &DMatrix<f64>, s: f64, x: &DVector<f64>) -> DVector<f64> {
    let z = w * x;
    let mut out = z.map(|v| v.tanh());
    for _ in 0..2 {
        out = out.component_mul(&z) * s;
    }
    out
}

#[test]
fn matrix_and_scalar_variables_match_finite_differences() {
    let r = &mut ChaCha8Rng::seed_from_u64(3);
    let mut ws = Workspace::new();
    let (mut value, mut jw, mut js) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (m, n) in [(1, 1), (4, 3), (2, 5), (4, 3)] {
        let (w, x) = (random(r, m, n), random(r, n, 1).column(0).into_owned());
        let s = 0.7;
        layer_jacobian_into(&w, s, &x, &mut value, &mut jw, &mut js, &mut ws);
        assert_eq!(value, layer(&w, s, &x));
        let fw = fd_jacobian(w.as_slice(), |e| {
            layer(&DMatrix::from_column_slice(m, n, e), s, &x)
                .as_slice()
                .to_vec()
        });
        let fs = fd_jacobian(&[s], |e| layer(&w, e[0], &x).as_slice().to_vec());
        assert_close("∂r/∂W", &jw, &fw, 1e-7);
        assert_close("∂r/∂s", &js, &fs, 1e-7);
        let (_, jw2, _) = layer_jacobian(&w, s, &x);
        assert_eq!(jw2, jw, "_jacobian and _jacobian_into agree");
    }
}

/// One definition for f32 and f64, and `reassociate` on.
#[__jacobian_reassociated(wrt = a)]
fn generic<T: RealField + Copy>(a: &DMatrix<T>, b: &DMatrix<T>) -> DVector<T> {
    let c = a * b * a.transpose();
    c.column(0).map(|v| v * v) + a.column(0)
}

#[test]
fn generic_float_types() {
    let r = &mut ChaCha8Rng::seed_from_u64(4);
    for n in [1, 3] {
        let (a, b) = (random(r, n, n), random(r, n, n));
        let (value, j) = generic_jacobian(&a, &b);
        assert!((value - generic(&a, &b)).norm() < 1e-12);
        let fd = fd_jacobian(a.as_slice(), |e| {
            generic(&DMatrix::from_column_slice(n, n, e), &b)
                .as_slice()
                .to_vec()
        });
        assert_close("f64", &j, &fd, 1e-7);
        let (_, j32) = generic_jacobian(&a.cast::<f32>(), &b.cast::<f32>());
        assert_close("f32", &j32.cast::<f64>(), &fd, 1e-3);
    }
}

/// Many rules in one residual: products, inverse, determinant, Kronecker, parts,
/// reductions, runtime functions, closures, a loop.
#[jacobian(wrt = (a, v))]
fn many_rules(a: &DMatrix<f64>, v: &DVector<f64>) -> DVector<f64> {
    let n = a.nrows();
    let inv = a.clone().try_inverse().unwrap();
    let mut out = (&inv * v).map(|x| x.tanh()) + a.diagonal() * a.determinant();
    out += matgrad::sigmoid(&(a * v)) * matgrad::log_sum_exp(&a.transpose());
    out += a.kronecker(&DMatrix::identity(1, 1)).column(0) * (v.norm_squared() / n as f64);
    for k in 0..2 {
        out += a
            .column(k % a.ncols())
            .component_mul(v)
            .map(|x| if x > 0.0 { x } else { 0.1 * x });
    }
    out + a.row_mean().transpose() + a.lower_triangle() * v
}

#[test]
fn many_rules_match_finite_differences() {
    let r = &mut ChaCha8Rng::seed_from_u64(5);
    for n in [1, 2, 4] {
        let a = random(r, n, n) + DMatrix::identity(n, n) * (n as f64 + 1.0);
        // v away from the kink of the piecewise closure.
        let v = DVector::from_fn(n, |i, _| if i % 2 == 0 { 0.6 } else { -0.7 });
        let (value, ja, jv) = many_rules_jacobian(&a, &v);
        assert_eq!(value, many_rules(&a, &v));
        let fa = fd_jacobian(a.as_slice(), |e| {
            many_rules(&DMatrix::from_column_slice(n, n, e), &v)
                .as_slice()
                .to_vec()
        });
        let fv = fd_jacobian(v.as_slice(), |e| {
            many_rules(&a, &DVector::from_column_slice(e))
                .as_slice()
                .to_vec()
        });
        assert_close("∂r/∂A", &ja, &fa, 1e-6);
        assert_close("∂r/∂v", &jv, &fv, 1e-6);
    }
}

/// The exponential fit: three parameters in a `DVector`, m points.
#[jacobian(wrt = p)]
fn exp_fit3(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    t.map(|v| p[0] * (-p[1] * v).exp() + p[2]) - y
}

#[__jacobian_forward(wrt = p)]
fn exp_fit3_forward(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    t.map(|v| p[0] * (-p[1] * v).exp() + p[2]) - y
}

/// The structured form where it is cheaper than 3 tangent sweeps for 100 residuals
/// (each column of `J` the coefficient of `p[k]`, written once). The Jacobian is
/// the closed form's, and forward mode's bit for bit.
#[test]
fn structured_for_few_parameters_and_many_residuals() {
    let t = DVector::from_fn(100, |i, _| i as f64 / 20.0);
    let y = t.map(|v| 3.0 * (-0.5 * v).exp() + 0.2);
    let p = DVector::from_vec(vec![2.0, 0.3, 0.1]);
    let (r, j) = exp_fit3_jacobian(&p, &t, &y);
    assert_eq!(r, exp_fit3(&p, &t, &y));
    let want = DMatrix::from_fn(100, 3, |i, k| {
        let e = (-p[1] * t[i]).exp();
        [e, -p[0] * t[i] * e, 1.0][k]
    });
    assert_close("closed form", &j, &want, 1e-14);
    let fd = fd_jacobian(p.as_slice(), |e| {
        exp_fit3(&DVector::from_column_slice(e), &t, &y)
            .as_slice()
            .to_vec()
    });
    assert_close("finite differences", &j, &fd, 1e-7);
    assert_eq!((r, j), exp_fit3_forward_jacobian(&p, &t, &y));
}

/// Residuals of a layer with many weights and few outputs.
#[jacobian(wrt = w)]
fn wide_layer(w: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    (w * x).map(|v| v.tanh())
}

#[__jacobian_reverse(wrt = w)]
fn wide_layer_reverse(w: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    (w * x).map(|v| v.tanh())
}

/// Reverse mode where it is cheaper: 4 reverse sweeps for 120 weights. Closed form:
/// `∂r_i/∂W_ab = δ_ia (1 − r_i²) x_b`, `W_ab` entry `a + 4 b` in column-major order.
#[test]
fn reverse_mode_for_many_parameters_and_few_residuals() {
    let r = &mut ChaCha8Rng::seed_from_u64(6);
    let (w, x) = (random(r, 4, 30), random(r, 30, 1).column(0).into_owned());
    let (value, j) = wide_layer_jacobian(&w, &x);
    assert_eq!(value, wide_layer(&w, &x));
    let want = DMatrix::from_fn(4, 120, |i, k| {
        if k % 4 == i {
            (1.0 - value[i] * value[i]) * x[k / 4]
        } else {
            0.0
        }
    });
    assert_close("closed form", &j, &want, 1e-14);
    assert_eq!((value, j), wide_layer_reverse_jacobian(&w, &x));
}

//! Residual functions over every family of rules, each checked column by column
//! against central finite differences of the function itself, at several shapes,
//! in f64 and (generic functions) f32; `_jacobian_into` with one workspace across the
//! shapes against `_jacobian`; the residuals against the function's.
//!
//! The crate root chooses the mode: `tests/jacobian_modes/main.rs` imports
//! `matgrad::__jacobian_forward` as `jacobian` (one tangent sweep per variable entry,
//! whatever the costs), `tests/jacobian_modes_reverse.rs` `__jacobian_reverse` (one
//! reverse sweep per residual).

use super::jacobian;
use matgrad::Workspace;
use matgrad::{
    add_col, add_row, ln_det, log_sum_exp, relu, sigmoid, softmax_cross_entropy, softplus,
};
use nalgebra::{
    DMatrix, DVector, Matrix2, Matrix3, RealField, RowDVector, SMatrix, Vector2, Vector3, Vector6,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------
// Finite differences
// ---------------------------------------------------------------------------

/// The Jacobian of `f` at `x` (a flat list of entries) by central differences.
fn fd(x: &[f64], f: impl Fn(&[f64]) -> Vec<f64>) -> DMatrix<f64> {
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

/// `|got − want| ≤ tol · max(1, |want|)`, entry by entry, and the same shape.
fn close(what: &str, got: &DMatrix<f64>, want: &DMatrix<f64>, tol: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: entry {i} (column-major) is {g}, finite differences give {w}\ngot\n{got}\nwant\n{want}"
        );
    }
}

/// The residuals' values to rounding (`reassociate` may change their last bits;
/// by default they are the function's own bits, but both modes are checked here).
fn same_values(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: number of residuals");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{what}: residual {g}, the function gives {w}"
        );
    }
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn mat(r: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |_, _| r.random_range(-1.0..=1.0))
}

fn vector(r: &mut ChaCha8Rng, n: usize) -> DVector<f64> {
    DVector::from_fn(n, |_, _| r.random_range(-1.0..=1.0))
}

/// Entries at least `gap` away from zero (kinks of `abs`, `relu`, branches).
fn away(r: &mut ChaCha8Rng, n: usize, gap: f64) -> DVector<f64> {
    DVector::from_fn(n, |_, _| {
        let v: f64 = r.random_range(gap..=1.0);
        if r.random_bool(0.5) {
            v
        } else {
            -v
        }
    })
}

fn flat<T: Copy + Into<f64>>(x: &[T]) -> Vec<f64> {
    x.iter().map(|&v| v.into()).collect()
}

fn to64(j: &DMatrix<f32>) -> DMatrix<f64> {
    j.map(f64::from)
}

// ---------------------------------------------------------------------------
// Products, sums and linear maps (matrix and vector variables)
// ---------------------------------------------------------------------------

#[jacobian(wrt = (a, x))]
fn j_linear(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> DVector<f64> {
    let y = a * x - b;
    -(a.transpose() * &y) * 0.5 + x / 3.0 + x.add_scalar(0.25).scale(2.0)
}

#[test]
fn linear_maps() {
    let (r, mut ws) = (&mut rng(1), Workspace::new());
    let (mut value, mut ja, mut jx) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (m, n) in [(1, 1), (3, 2), (2, 4), (3, 2)] {
        let (a, x, b) = (mat(r, m, n), vector(r, n), vector(r, m));
        j_linear_jacobian_into(&a, &x, &b, &mut value, &mut ja, &mut jx, &mut ws);
        same_values("linear", value.as_slice(), j_linear(&a, &x, &b).as_slice());
        let fa = fd(a.as_slice(), |e| {
            j_linear(&DMatrix::from_column_slice(m, n, e), &x, &b)
                .as_slice()
                .to_vec()
        });
        let fx = fd(x.as_slice(), |e| {
            j_linear(&a, &DVector::from_column_slice(e), &b)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂a", &ja, &fa, 1e-7);
        close("∂r/∂x", &jx, &fx, 1e-7);
        let (v2, ja2, jx2) = j_linear_jacobian(&a, &x, &b);
        assert_eq!(
            (v2, ja2, jx2),
            (value.clone(), ja.clone(), jx.clone()),
            "_jacobian agrees with _jacobian_into"
        );
    }
}

/// The exponential model of the issue: three parameters in a `DVector`, read by
/// index and captured in a closure over the data.
#[jacobian(wrt = p)]
fn j_exp_model(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c) = (p[0], p[1], p[2]);
    t.map(|v| a * (-b * v).exp() + c) - y
}

#[test]
fn exponential_model_closure_captures() {
    let (r, mut ws) = (&mut rng(2), Workspace::new());
    let (mut value, mut jp) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for m in [1, 7, 100] {
        let t = DVector::from_fn(m, |i, _| i as f64 / 10.0);
        let (p, y) = (DVector::from_vec(vec![2.0, 0.7, -0.3]), vector(r, m));
        j_exp_model_jacobian_into(&p, &t, &y, &mut value, &mut jp, &mut ws);
        same_values("exp", value.as_slice(), j_exp_model(&p, &t, &y).as_slice());
        let want = DMatrix::from_fn(m, 3, |i, k| {
            let e = (-p[1] * t[i]).exp();
            [e, -p[0] * t[i] * e, 1.0][k]
        });
        close("closed form", &jp, &want, 1e-14);
        let f = fd(p.as_slice(), |e| {
            j_exp_model(&DVector::from_column_slice(e), &t, &y)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂p", &jp, &f, 1e-7);
    }
}

// ---------------------------------------------------------------------------
// Entrywise: component products, scalar methods in closures, zip_map, branches
// ---------------------------------------------------------------------------

#[jacobian(wrt = (x, y))]
fn j_entrywise(x: &DVector<f64>, y: &DVector<f64>, z: &DVector<f64>) -> DVector<f64> {
    let q = x.component_mul(y).component_div(z);
    let s = x.map(|v| {
        v.sin()
            + v.cos() * 0.5
            + (v * v + 1.0).sqrt()
            + (v * v + 1.0).ln()
            + v.powi(3)
            + (v * v + 2.0).powf(0.3)
            + (v * v + 2.0).recip()
            + v.tanh()
            + v.sinh() * 0.2
            + v.cosh() * 0.1
            + v.exp_m1()
            + (v * v).ln_1p()
            + (0.3 * v).tan()
            + v.exp() * 0.1
    });
    q + s + x.zip_map(y, |p, w| p * w.exp() + (p - w).abs())
}

#[test]
fn entrywise_rules() {
    let (r, mut ws) = (&mut rng(3), Workspace::new());
    let (mut value, mut jx, mut jy) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for n in [1, 4, 9] {
        // x − y away from the kink of `abs`.
        let x = away(r, n, 0.2);
        let y = x.map(|v| v - 0.15 * v.signum()) * 0.5;
        let z = away(r, n, 0.5);
        j_entrywise_jacobian_into(&x, &y, &z, &mut value, &mut jx, &mut jy, &mut ws);
        same_values(
            "entrywise",
            value.as_slice(),
            j_entrywise(&x, &y, &z).as_slice(),
        );
        let fx = fd(x.as_slice(), |e| {
            j_entrywise(&DVector::from_column_slice(e), &y, &z)
                .as_slice()
                .to_vec()
        });
        let fy = fd(y.as_slice(), |e| {
            j_entrywise(&x, &DVector::from_column_slice(e), &z)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂x", &jx, &fx, 1e-6);
        close("∂r/∂y", &jy, &fy, 1e-6);
    }
}

/// Huber's loss as residuals (a piecewise closure with a captured scalar variable),
/// a branch on a run-time flag, max and min.
#[jacobian(wrt = (x, d))]
fn j_piecewise(x: &DVector<f64>, d: f64, robust: bool) -> DVector<f64> {
    let h = x.map(|v| {
        if v.abs() <= d {
            0.5 * v * v
        } else {
            d * (v.abs() - 0.5 * d)
        }
    });
    let g = x.map(|v| if robust { (1.0 + v * v).ln() } else { v * v });
    h + g * (x.max() - x.min())
}

#[test]
fn piecewise_closures_and_flags() {
    let mut ws = Workspace::new();
    let (mut value, mut jx, mut jd) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (n, robust) in [(1, true), (5, false), (8, true)] {
        // Entries on both sides of d = 0.5, away from it and from each other.
        let x = DVector::from_fn(n, |i, _| {
            (if i % 2 == 0 { 0.2 } else { -0.9 }) - 0.01 * i as f64
        });
        let d = 0.5;
        j_piecewise_jacobian_into(&x, d, robust, &mut value, &mut jx, &mut jd, &mut ws);
        same_values(
            "piecewise",
            value.as_slice(),
            j_piecewise(&x, d, robust).as_slice(),
        );
        let fx = fd(x.as_slice(), |e| {
            j_piecewise(&DVector::from_column_slice(e), d, robust)
                .as_slice()
                .to_vec()
        });
        let fdd = fd(&[d], |e| j_piecewise(&x, e[0], robust).as_slice().to_vec());
        close("∂r/∂x", &jx, &fx, 1e-6);
        close("∂r/∂d", &jd, &fdd, 1e-6);
    }
}

// ---------------------------------------------------------------------------
// Runtime functions, broadcasts, reductions
// ---------------------------------------------------------------------------

#[jacobian(wrt = (w, b))]
fn j_layer(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    c: &DVector<f64>,
) -> DVector<f64> {
    let z = add_row(&(x * w), b);
    let h = sigmoid(&z) + relu(&z) + softplus(&z);
    let u = add_col(&h, c);
    u.column(0) * log_sum_exp(&z)
        + u.row_sum().transpose().rows(0, 1)[0] * u.column_sum()
        + u.column_mean() * u.row_mean()[(0, 0)]
}

#[test]
fn runtime_functions_and_broadcasts() {
    let (r, mut ws) = (&mut rng(5), Workspace::new());
    let (mut value, mut jw, mut jb) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (m, k, n) in [(1, 1, 1), (4, 3, 2), (3, 2, 5)] {
        let (x, w) = (mat(r, m, k), mat(r, k, n));
        let (b, c) = (
            RowDVector::from_fn(n, |_, j| 0.3 + 0.1 * j as f64),
            vector(r, m),
        );
        // relu's kink away from every z entry: z = x w + b has no entry near 0?
        // Shift b until it does not.
        let mut b = b;
        while add_row(&(&x * &w), &b).iter().any(|v| v.abs() < 1e-3) {
            b.add_scalar_mut(0.05);
        }
        j_layer_jacobian_into(&x, &w, &b, &c, &mut value, &mut jw, &mut jb, &mut ws);
        same_values(
            "layer",
            value.as_slice(),
            j_layer(&x, &w, &b, &c).as_slice(),
        );
        let fw = fd(w.as_slice(), |e| {
            j_layer(&x, &DMatrix::from_column_slice(k, n, e), &b, &c)
                .as_slice()
                .to_vec()
        });
        let fb = fd(b.as_slice(), |e| {
            j_layer(&x, &w, &RowDVector::from_row_slice(e), &c)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂w", &jw, &fw, 1e-6);
        close("∂r/∂b", &jb, &fb, 1e-6);
    }
}

#[jacobian(wrt = (a, v))]
fn j_reductions(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    v: &DVector<f64>,
    y: &DMatrix<f64>,
) -> DVector<f64> {
    let s = a.sum() + a.mean() * 2.0 + a.norm_squared() + a.norm() + a.dot(b) + a.trace();
    v * s + v * (a.max() - a.min()) + v * softmax_cross_entropy(&(a * 2.0), y) + a * v * v.norm()
}

#[test]
fn reductions() {
    let (r, mut ws) = (&mut rng(6), Workspace::new());
    let (mut value, mut ja, mut jv) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for n in [1, 3, 4] {
        // Distinct entries: max and min are unique, away from ties.
        let a = DMatrix::from_fn(n, n, |i, j| {
            0.1 * (i * n + j) as f64 - 0.3 + 0.01 * r.random::<f64>()
        });
        let (b, v) = (mat(r, n, n), vector(r, n));
        let y = DMatrix::from_fn(n, n, |i, j| if j == i % n { 1.0 } else { 0.0 });
        j_reductions_jacobian_into(&a, &b, &v, &y, &mut value, &mut ja, &mut jv, &mut ws);
        same_values(
            "reductions",
            value.as_slice(),
            j_reductions(&a, &b, &v, &y).as_slice(),
        );
        let fa = fd(a.as_slice(), |e| {
            j_reductions(&DMatrix::from_column_slice(n, n, e), &b, &v, &y)
                .as_slice()
                .to_vec()
        });
        let fv = fd(v.as_slice(), |e| {
            j_reductions(&a, &b, &DVector::from_column_slice(e), &y)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂a", &ja, &fa, 1e-6);
        close("∂r/∂v", &jv, &fv, 1e-6);
    }
}

// ---------------------------------------------------------------------------
// Square-matrix functions, Kronecker, parts, constructors
// ---------------------------------------------------------------------------

#[jacobian(wrt = a)]
fn j_matrix_functions(a: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    let n = a.nrows();
    let inv = a.clone().try_inverse().unwrap();
    &inv * x
        + a.diagonal() * a.determinant()
        + x * ln_det(a)
        + a.kronecker(&DMatrix::identity(1, 1)).column(n - 1)
        + DMatrix::from_diagonal(&a.column(0)) * x
}

#[test]
fn matrix_functions() {
    let (r, mut ws) = (&mut rng(7), Workspace::new());
    let (mut value, mut ja) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for n in [1, 2, 4] {
        let a = mat(r, n, n) + DMatrix::identity(n, n) * (n as f64 + 1.0);
        let x = vector(r, n);
        j_matrix_functions_jacobian_into(&a, &x, &mut value, &mut ja, &mut ws);
        same_values(
            "matrix functions",
            value.as_slice(),
            j_matrix_functions(&a, &x).as_slice(),
        );
        let fa = fd(a.as_slice(), |e| {
            j_matrix_functions(&DMatrix::from_column_slice(n, n, e), &x)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂a", &ja, &fa, 1e-6);
    }
}

#[jacobian(wrt = (a, s))]
fn j_parts(a: &DMatrix<f64>, s: f64, x: &DVector<f64>) -> DVector<f64> {
    let n = a.nrows();
    let top = a.rows(0, n).column(a.ncols() - 1) + a.row(n - 1).transpose().rows(0, n) * s;
    let blocks = a.view((0, 0), (n, 1)) + a.columns(0, 1) * (s * s);
    let tri = a.lower_triangle() * x - a.upper_triangle().transpose() * x;
    let ones = DVector::from_element(n, s) + DMatrix::identity(n, n) * x * s + DVector::zeros(n);
    top + blocks
        + tri
        + ones
        + Vector2::new(s, 2.0 * s).rows(0, 1)[0] * x
        + DVector::from_element(n, a[(0, 0)])
}

#[test]
fn parts_and_constructors() {
    let (r, mut ws) = (&mut rng(8), Workspace::new());
    let (mut value, mut ja, mut js) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for n in [1, 3, 4] {
        let (a, x, s) = (mat(r, n, n), vector(r, n), 0.7);
        j_parts_jacobian_into(&a, s, &x, &mut value, &mut ja, &mut js, &mut ws);
        same_values("parts", value.as_slice(), j_parts(&a, s, &x).as_slice());
        let fa = fd(a.as_slice(), |e| {
            j_parts(&DMatrix::from_column_slice(n, n, e), s, &x)
                .as_slice()
                .to_vec()
        });
        let fs = fd(&[s], |e| j_parts(&a, e[0], &x).as_slice().to_vec());
        close("∂r/∂a", &ja, &fa, 1e-6);
        close("∂r/∂s", &js, &fs, 1e-6);
    }
}

// ---------------------------------------------------------------------------
// Program structure: lets, shadowing, an unrolled loop, an early return
// ---------------------------------------------------------------------------

#[jacobian(wrt = (w, h0))]
fn j_recurrence(w: &DMatrix<f64>, h0: &DVector<f64>, xs: &DMatrix<f64>) -> DVector<f64> {
    let mut h = h0.clone();
    for t in 0..4 {
        h = (w * &h + xs.column(t)).map(|v| v.tanh());
        if t == 2 {
            let h2 = h.component_mul(&h);
            return h2 + h * 2.0;
        }
    }
    h
}

#[test]
fn loops_and_early_return() {
    let (r, mut ws) = (&mut rng(9), Workspace::new());
    let (mut value, mut jw, mut jh) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for n in [1, 3, 4] {
        let (w, h0, xs) = (mat(r, n, n) * 0.5, vector(r, n), mat(r, n, 4));
        j_recurrence_jacobian_into(&w, &h0, &xs, &mut value, &mut jw, &mut jh, &mut ws);
        same_values(
            "recurrence",
            value.as_slice(),
            j_recurrence(&w, &h0, &xs).as_slice(),
        );
        let fw = fd(w.as_slice(), |e| {
            j_recurrence(&DMatrix::from_column_slice(n, n, e), &h0, &xs)
                .as_slice()
                .to_vec()
        });
        let fh = fd(h0.as_slice(), |e| {
            j_recurrence(&w, &DVector::from_column_slice(e), &xs)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂w", &jw, &fw, 1e-6);
        close("∂r/∂h0", &jh, &fh, 1e-6);
    }
}

// ---------------------------------------------------------------------------
// reassociate: chains of products and solves
// ---------------------------------------------------------------------------

#[jacobian(wrt = (a, b), reassociate)]
fn j_chain_and_solve(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    c: &DMatrix<f64>,
    x: &DVector<f64>,
) -> DVector<f64> {
    a * b * c * x + c.clone().try_inverse().unwrap() * (a * (b * x))
}

#[test]
fn reassociated_chains_and_solves() {
    let (r, mut ws) = (&mut rng(10), Workspace::new());
    let (mut value, mut ja, mut jb) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (n, k) in [(1, 1), (3, 2), (2, 5)] {
        let (a, b) = (mat(r, n, k), mat(r, k, n));
        let c = mat(r, n, n) + DMatrix::identity(n, n) * 3.0;
        let x = vector(r, n);
        j_chain_and_solve_jacobian_into(&a, &b, &c, &x, &mut value, &mut ja, &mut jb, &mut ws);
        same_values(
            "chain",
            value.as_slice(),
            j_chain_and_solve(&a, &b, &c, &x).as_slice(),
        );
        let fa = fd(a.as_slice(), |e| {
            j_chain_and_solve(&DMatrix::from_column_slice(n, k, e), &b, &c, &x)
                .as_slice()
                .to_vec()
        });
        let fb = fd(b.as_slice(), |e| {
            j_chain_and_solve(&a, &DMatrix::from_column_slice(k, n, e), &c, &x)
                .as_slice()
                .to_vec()
        });
        close("∂r/∂a", &ja, &fa, 1e-6);
        close("∂r/∂b", &jb, &fb, 1e-6);
    }
}

// ---------------------------------------------------------------------------
// Generic float types: f64 and f32
// ---------------------------------------------------------------------------

#[jacobian(wrt = (w, p))]
fn j_generic<T: RealField + Copy>(w: &DMatrix<T>, p: &DVector<T>, t: &DVector<T>) -> DVector<T> {
    let half = T::from_f64(0.5).unwrap();
    let (a, b) = (p[0], p[1]);
    (w * t).map(|v| (v * half).tanh()) + t.map(|v| a * (b * v).exp()) - t * p.norm_squared()
}

#[test]
fn generic_f64_and_f32() {
    let (r, mut ws64, mut ws32) = (&mut rng(11), Workspace::new(), Workspace::new());
    let (mut v64, mut jw64, mut jp64) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    let (mut v32, mut jw32, mut jp32) = (
        DVector::<f32>::zeros(0),
        DMatrix::<f32>::zeros(0, 0),
        DMatrix::<f32>::zeros(0, 0),
    );
    for n in [1, 2, 6] {
        let (w, t) = (mat(r, n, n), vector(r, n));
        let p = DVector::from_vec(vec![0.8, -0.4]);
        j_generic_jacobian_into(&w, &p, &t, &mut v64, &mut jw64, &mut jp64, &mut ws64);
        same_values("f64", v64.as_slice(), j_generic(&w, &p, &t).as_slice());
        let fw = fd(w.as_slice(), |e| {
            j_generic(&DMatrix::from_column_slice(n, n, e), &p, &t)
                .as_slice()
                .to_vec()
        });
        let fp = fd(p.as_slice(), |e| {
            j_generic(&w, &DVector::from_column_slice(e), &t)
                .as_slice()
                .to_vec()
        });
        close("f64 ∂r/∂w", &jw64, &fw, 1e-7);
        close("f64 ∂r/∂p", &jp64, &fp, 1e-7);
        let (w32, p32, t32) = (w.cast::<f32>(), p.cast::<f32>(), t.cast::<f32>());
        j_generic_jacobian_into(&w32, &p32, &t32, &mut v32, &mut jw32, &mut jp32, &mut ws32);
        let want32 = j_generic(&w32, &p32, &t32);
        let got = DMatrix::from_column_slice(n, 1, &flat(v32.as_slice()));
        let want = DMatrix::from_column_slice(n, 1, &flat(want32.as_slice()));
        close("f32 value", &got, &want, 1e-6);
        close("f32 ∂r/∂w", &to64(&jw32), &fw, 2e-3);
        close("f32 ∂r/∂p", &to64(&jp32), &fp, 2e-3);
    }
}

// ---------------------------------------------------------------------------
// Static sizes (the static backend), f64 and f32; mixed sizes (the dynamic one)
// ---------------------------------------------------------------------------

/// A 2-D rigid motion of three points: R(θ) p_k + t − q_k.
#[jacobian(wrt = (theta, t))]
fn j_pose2d<T: RealField + Copy>(
    theta: T,
    t: &Vector2<T>,
    p: &SMatrix<T, 2, 3>,
    q: &SMatrix<T, 2, 3>,
) -> Vector6<T> {
    let (c, s) = (theta.cos(), theta.sin());
    let rot = Matrix2::new(c, -s, s, c);
    let moved = rot * p - q;
    Vector6::new(
        moved[(0, 0)] + t[0],
        moved[(1, 0)] + t[1],
        moved[(0, 1)] + t[0],
        moved[(1, 1)] + t[1],
        moved[(0, 2)] + t[0],
        moved[(1, 2)] + t[1],
    )
}

#[test]
fn static_pose_f64_and_f32() {
    let r = &mut rng(12);
    let p = SMatrix::<f64, 2, 3>::from_fn(|_, _| r.random_range(-1.0..=1.0));
    let q = SMatrix::<f64, 2, 3>::from_fn(|_, _| r.random_range(-1.0..=1.0));
    let (theta, t) = (0.4, Vector2::new(0.1, -0.3));
    let (value, jtheta, jt): (SMatrix<f64, 6, 1>, SMatrix<f64, 6, 1>, SMatrix<f64, 6, 2>) =
        j_pose2d_jacobian(theta, &t, &p, &q);
    same_values(
        "pose",
        value.as_slice(),
        j_pose2d(theta, &t, &p, &q).as_slice(),
    );
    let f_theta = fd(&[theta], |e| j_pose2d(e[0], &t, &p, &q).as_slice().to_vec());
    let f_t = fd(t.as_slice(), |e| {
        j_pose2d(theta, &Vector2::from_column_slice(e), &p, &q)
            .as_slice()
            .to_vec()
    });
    let dyn_of = |m: &[f64], c: usize| DMatrix::from_column_slice(m.len() / c, c, m);
    close("∂r/∂θ", &dyn_of(jtheta.as_slice(), 1), &f_theta, 1e-7);
    close("∂r/∂t", &dyn_of(jt.as_slice(), 2), &f_t, 1e-7);
    let mut ws = Workspace::new();
    let (mut v2, mut jth2, mut jt2) = (SMatrix::zeros(), SMatrix::zeros(), SMatrix::zeros());
    j_pose2d_jacobian_into(theta, &t, &p, &q, &mut v2, &mut jth2, &mut jt2, &mut ws);
    assert_eq!(
        (v2, jth2, jt2),
        (value, jtheta, jt),
        "_jacobian_into agrees"
    );
    let (_, jth32, jt32): (SMatrix<f32, 6, 1>, SMatrix<f32, 6, 1>, SMatrix<f32, 6, 2>) =
        j_pose2d_jacobian(
            theta as f32,
            &t.cast::<f32>(),
            &p.cast::<f32>(),
            &q.cast::<f32>(),
        );
    close(
        "f32 ∂r/∂θ",
        &dyn_of(&flat(jth32.as_slice()), 1),
        &f_theta,
        1e-3,
    );
    close("f32 ∂r/∂t", &dyn_of(&flat(jt32.as_slice()), 2), &f_t, 1e-3);
}

/// A static 3×3 matrix variable: inverse, determinant, products, entrywise maps.
#[jacobian(wrt = (a, v))]
fn j_static_matrix(a: &Matrix3<f64>, v: &Vector3<f64>) -> Vector3<f64> {
    let inv = a.try_inverse().unwrap();
    (inv * v).map(|x| x.sin())
        + a.transpose() * v * a.determinant()
        + a.diagonal().component_mul(v)
        + Vector3::new(a[(0, 1)], v.norm_squared(), a.trace())
}

#[test]
fn static_matrix_functions() {
    let r = &mut rng(13);
    let a = Matrix3::from_fn(|_, _| r.random_range(-1.0..=1.0)) + Matrix3::identity() * 3.0;
    let v = Vector3::new(0.3, -0.7, 0.2);
    let (value, ja, jv): (Vector3<f64>, SMatrix<f64, 3, 9>, Matrix3<f64>) =
        j_static_matrix_jacobian(&a, &v);
    same_values(
        "static",
        value.as_slice(),
        j_static_matrix(&a, &v).as_slice(),
    );
    let fa = fd(a.as_slice(), |e| {
        j_static_matrix(&Matrix3::from_column_slice(e), &v)
            .as_slice()
            .to_vec()
    });
    let fv = fd(v.as_slice(), |e| {
        j_static_matrix(&a, &Vector3::from_column_slice(e))
            .as_slice()
            .to_vec()
    });
    close(
        "∂r/∂a",
        &DMatrix::from_column_slice(3, 9, ja.as_slice()),
        &fa,
        1e-6,
    );
    close(
        "∂r/∂v",
        &DMatrix::from_column_slice(3, 3, jv.as_slice()),
        &fv,
        1e-6,
    );
}

/// Static parameters read by the dynamic backend (the data is a `DMatrix`); the
/// Jacobians are dynamic (the residuals' length is known at run time only).
#[jacobian(wrt = (w, b))]
fn j_mixed(x: &DMatrix<f64>, w: &Matrix3<f64>, b: &Vector3<f64>) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) * b
}

#[test]
fn mixed_static_and_dynamic() {
    let (r, mut ws) = (&mut rng(14), Workspace::new());
    let (mut value, mut jw, mut jb) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for m in [1, 5, 2] {
        let x = mat(r, m, 3);
        let w = Matrix3::from_fn(|_, _| r.random_range(-1.0..=1.0));
        let b = Vector3::new(0.5, -1.0, 2.0);
        j_mixed_jacobian_into(&x, &w, &b, &mut value, &mut jw, &mut jb, &mut ws);
        same_values("mixed", value.as_slice(), j_mixed(&x, &w, &b).as_slice());
        let fw = fd(w.as_slice(), |e| {
            j_mixed(&x, &Matrix3::from_column_slice(e), &b)
                .as_slice()
                .to_vec()
        });
        let fb = fd(b.as_slice(), |e| {
            j_mixed(&x, &w, &Vector3::from_column_slice(e))
                .as_slice()
                .to_vec()
        });
        close("∂r/∂w", &jw, &fw, 1e-7);
        close("∂r/∂b", &jb, &fb, 1e-7);
    }
}

/// A variable the residuals do not depend on: its Jacobian is zero (and stays zero
/// when the buffers are reused).
#[jacobian(wrt = (x, _unused))]
fn j_unused(x: &DVector<f64>, _unused: &DVector<f64>) -> DVector<f64> {
    x.map(|v| v * v)
}

#[test]
fn a_variable_without_influence_has_a_zero_jacobian() {
    let mut ws = Workspace::new();
    let (mut value, mut jx, mut ju) = (
        DVector::zeros(0),
        DMatrix::from_element(3, 2, 9.0),
        DMatrix::from_element(3, 2, 9.0),
    );
    let (x, u) = (
        DVector::from_vec(vec![1.0, -2.0, 3.0]),
        DVector::from_vec(vec![4.0, 5.0]),
    );
    j_unused_jacobian_into(&x, &u, &mut value, &mut jx, &mut ju, &mut ws);
    assert_eq!(jx, DMatrix::from_diagonal(&(x.clone() * 2.0)));
    assert_eq!(ju, DMatrix::zeros(3, 2));
}

/// Static residuals of dynamic variables (the dynamic backend writing a static
/// result), a scalar variable among them: `J` is a `DMatrix` for the matrix, an
/// `SMatrix<f64, 2, 1>` for the scalar.
#[jacobian(wrt = (w, s))]
fn j_summary(w: &DMatrix<f64>, s: f64, x: &DVector<f64>) -> Vector2<f64> {
    Vector2::new(
        (w * x).map(|v| (s * v).sin()).sum(),
        w.norm_squared() * s.exp(),
    )
}

#[test]
fn static_result_of_dynamic_variables() {
    let (r, mut ws) = (&mut rng(15), Workspace::new());
    let (mut value, mut jw, mut js) = (
        Vector2::zeros(),
        DMatrix::zeros(0, 0),
        SMatrix::<f64, 2, 1>::zeros(),
    );
    for (m, n) in [(1, 1), (3, 2), (2, 5)] {
        let (w, x, s) = (mat(r, m, n), vector(r, n), 0.3);
        j_summary_jacobian_into(&w, s, &x, &mut value, &mut jw, &mut js, &mut ws);
        same_values("summary", value.as_slice(), j_summary(&w, s, &x).as_slice());
        let fw = fd(w.as_slice(), |e| {
            j_summary(&DMatrix::from_column_slice(m, n, e), s, &x)
                .as_slice()
                .to_vec()
        });
        let fs = fd(&[s], |e| j_summary(&w, e[0], &x).as_slice().to_vec());
        close("∂r/∂w", &jw, &fw, 1e-7);
        close(
            "∂r/∂s",
            &DMatrix::from_column_slice(2, 1, js.as_slice()),
            &fs,
            1e-7,
        );
    }
}

/// Parameters by value, a count and a flag among them.
#[jacobian(wrt = (a, s))]
fn j_by_value(a: DMatrix<f64>, s: f64, k: usize, twice: bool) -> DVector<f64> {
    (a.column(k) * s + a.row(0).transpose()).map(|v| if twice { 2.0 * v * v } else { v * v })
}

#[test]
fn parameters_by_value_counts_and_flags() {
    let (r, mut ws) = (&mut rng(16), Workspace::new());
    let (mut value, mut ja, mut js) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (n, k, twice) in [(1, 0, true), (3, 2, false), (4, 1, true)] {
        let (a, s) = (mat(r, n, n), 0.6);
        j_by_value_jacobian_into(
            a.clone(),
            s,
            k,
            twice,
            &mut value,
            &mut ja,
            &mut js,
            &mut ws,
        );
        same_values(
            "by value",
            value.as_slice(),
            j_by_value(a.clone(), s, k, twice).as_slice(),
        );
        let fa = fd(a.as_slice(), |e| {
            j_by_value(DMatrix::from_column_slice(n, n, e), s, k, twice)
                .as_slice()
                .to_vec()
        });
        let fs = fd(&[s], |e| {
            j_by_value(a.clone(), e[0], k, twice).as_slice().to_vec()
        });
        close("∂r/∂a", &ja, &fa, 1e-7);
        close("∂r/∂s", &js, &fs, 1e-7);
    }
}

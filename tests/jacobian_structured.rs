//! Structured Jacobians (`matgrad-core/src/jacobian_structure.rs`): residuals whose tangent
//! is a sum of `diag(c) A`, `diag(c)` and `c e_kᵀ` terms, for which the cost model
//! chooses the structured form (pinned in `matgrad-core`'s `jacobian::tests` and the
//! snapshot `jacobian_structured`). Each case is derived three times: as
//! `#[jacobian]` chooses, and in forward and reverse mode forced; the three
//! Jacobians agree to rounding, and agree with central finite differences, at
//! several shapes with one workspace, in f64 and (generic cases) f32.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad::Workspace;
use nalgebra::{DMatrix, DVector, RealField, Vector2};

/// The same function (returning a `DVector<f64>`) as `#[jacobian]` chooses
/// (`$name`), in forward mode (`$fwd`) and in reverse mode (`$rev`).
macro_rules! three {
    ($wrt:tt, $name:ident, $fwd:ident, $rev:ident, ($($p:tt)*) $body:block) => {
        #[matgrad::jacobian(wrt = $wrt)]
        fn $name($($p)*) -> DVector<f64> $body
        #[matgrad::__jacobian_forward(wrt = $wrt)]
        fn $fwd($($p)*) -> DVector<f64> $body
        #[matgrad::__jacobian_reverse(wrt = $wrt)]
        fn $rev($($p)*) -> DVector<f64> $body
    };
}

/// The Jacobian of `f` at `x` by central differences.
fn fd(x: &[f64], f: impl Fn(&[f64]) -> Vec<f64>) -> DMatrix<f64> {
    let m = f(x).len();
    let mut j = DMatrix::zeros(m, x.len());
    for k in 0..x.len() {
        let h = 1e-6 * x[k].abs().max(1.0);
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[k] += h;
        down[k] -= h;
        let (fu, fdn) = (f(&up), f(&down));
        for i in 0..m {
            j[(i, k)] = (fu[i] - fdn[i]) / (2.0 * h);
        }
    }
    j
}

/// `|got − want| ≤ tol · max(1, |want|)` entry by entry, and the same shape.
fn close(what: &str, got: &DMatrix<f64>, want: &DMatrix<f64>, tol: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: entry {i} (column-major) is {g}, want {w}\ngot\n{got}\nwant\n{want}"
        );
    }
}

/// A deterministic matrix with entries in (−1, 1), different per `seed`.
fn mat(seed: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| {
        let v = ((i * 131 + j * 71 + seed * 37) % 97) as f64 / 97.0;
        2.0 * v - 1.0 + 0.003 * (seed % 5) as f64
    })
}

fn vector(seed: usize, n: usize) -> DVector<f64> {
    DVector::from_column_slice(mat(seed, n, 1).as_slice())
}

const SHAPES: [(usize, usize); 4] = [(1, 1), (5, 3), (3, 6), (5, 3)];

three!(x, linear, linear_fwd, linear_rev, (a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) {
    a * x - b
});

/// `J = A`: equal to `A` itself, and to both sweeps.
#[test]
fn a_linear_map_is_its_matrix() {
    let mut ws = Workspace::new();
    let (mut r, mut j) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for (k, (m, n)) in SHAPES.into_iter().enumerate() {
        let (a, x, b) = (mat(k, m, n), vector(k + 10, n), vector(k + 20, m));
        linear_jacobian_into(&a, &x, &b, &mut r, &mut j, &mut ws);
        assert_eq!(r, linear(&a, &x, &b));
        assert_eq!(j, a, "J = A at {m}×{n}");
        assert_eq!(linear_jacobian(&a, &x, &b).1, a);
        let (_, jf) = linear_fwd_jacobian(&a, &x, &b);
        let (_, jr) = linear_rev_jacobian(&a, &x, &b);
        close("forward", &jf, &j, 1e-14);
        close("reverse", &jr, &j, 1e-14);
    }
}

three!(w, affine, affine_fwd, affine_rev, (w: &DVector<f64>, s: f64, x: &DMatrix<f64>, b: &DVector<f64>) {
    (x * w) * s + b
});

/// `J = s X` (a scalar of the values as the row scale), the variable second in the
/// product.
#[test]
fn a_scaled_product_in_the_second_place() {
    let mut ws = Workspace::new();
    let (mut r, mut j) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for (k, (m, n)) in SHAPES.into_iter().enumerate() {
        let (x, w, b, s) = (mat(k, m, n), vector(k + 10, n), vector(k + 20, m), -1.5);
        affine_jacobian_into(&w, s, &x, &b, &mut r, &mut j, &mut ws);
        assert_eq!(r, affine(&w, s, &x, &b));
        close("J = s X", &j, &(&x * s), 1e-15);
        close("forward", &affine_fwd_jacobian(&w, s, &x, &b).1, &j, 1e-14);
        close("reverse", &affine_rev_jacobian(&w, s, &x, &b).1, &j, 1e-14);
    }
}

three!(w, dense, dense_fwd, dense_rev, (w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) {
    (x * w).map(|v| v.tanh()) - y
});

/// `J = diag(1 − tanh²(X w)) X` against finite differences and both sweeps.
#[test]
fn an_entrywise_map_of_a_product() {
    let mut ws = Workspace::new();
    let (mut r, mut j) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for (k, (m, n)) in SHAPES.into_iter().enumerate() {
        let (x, w, y) = (mat(k, m, n), vector(k + 10, n), vector(k + 20, m));
        dense_jacobian_into(&w, &x, &y, &mut r, &mut j, &mut ws);
        assert_eq!(r, dense(&w, &x, &y));
        let want = fd(w.as_slice(), |e| {
            dense(&DVector::from_column_slice(e), &x, &y)
                .as_slice()
                .to_vec()
        });
        close("finite differences", &j, &want, 1e-7);
        close("forward", &dense_fwd_jacobian(&w, &x, &y).1, &j, 1e-14);
        close("reverse", &dense_rev_jacobian(&w, &x, &y).1, &j, 1e-14);
    }
}

three!((x, z), sums, sums_fwd, sums_rev, (a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DVector<f64>, z: &DVector<f64>) {
    (a * x).map(|v| v.sin()) + b * x - x.map(|v| v * v) + (b * z).component_mul(&(a * x))
});

/// Sums of terms: `diag(cos(A x)) A + B − diag(2x) + diag(B z) A` for `x` and
/// `diag(A x) B` for `z`.
#[test]
fn sums_of_terms_with_two_variables() {
    let mut ws = Workspace::new();
    let (mut r, mut jx, mut jz) = (
        DVector::zeros(0),
        DMatrix::zeros(0, 0),
        DMatrix::zeros(0, 0),
    );
    for (k, n) in [1, 3, 4, 3].into_iter().enumerate() {
        let (a, b) = (mat(k, n, n), mat(k + 1, n, n));
        let (x, z) = (vector(k + 10, n), vector(k + 20, n));
        sums_jacobian_into(&a, &b, &x, &z, &mut r, &mut jx, &mut jz, &mut ws);
        assert_eq!(r, sums(&a, &b, &x, &z));
        let fx = fd(x.as_slice(), |e| {
            sums(&a, &b, &DVector::from_column_slice(e), &z)
                .as_slice()
                .to_vec()
        });
        let fz = fd(z.as_slice(), |e| {
            sums(&a, &b, &x, &DVector::from_column_slice(e))
                .as_slice()
                .to_vec()
        });
        close("x, finite differences", &jx, &fx, 1e-7);
        close("z, finite differences", &jz, &fz, 1e-7);
        let (_, fx2, fz2) = sums_fwd_jacobian(&a, &b, &x, &z);
        let (_, rx, rz) = sums_rev_jacobian(&a, &b, &x, &z);
        close("x, forward", &fx2, &jx, 1e-13);
        close("z, forward", &fz2, &jz, 1e-13);
        close("x, reverse", &rx, &jx, 1e-13);
        close("z, reverse", &rz, &jz, 1e-13);
    }
}

three!(p, exp_rational, exp_rational_fwd, exp_rational_rev, (p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    t.map(|v| a * (-b * v).exp() + c / (1.0 + d * v)) - y
});

/// Columns `c e_kᵀ` for the entries `p[k]` read as scalars, and zero columns for
/// the entries the body never reads (a variable longer than four).
#[test]
fn columns_of_entries_read_as_scalars() {
    let mut ws = Workspace::new();
    let (mut r, mut j) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for (m, n) in [(1, 4), (7, 4), (5, 6), (7, 4)] {
        let t = DVector::from_fn(m, |i, _| i as f64 / 3.0);
        let y = vector(m, m);
        let p = DVector::from_fn(n, |i, _| 0.5 + 0.25 * i as f64);
        exp_rational_jacobian_into(&p, &t, &y, &mut r, &mut j, &mut ws);
        assert_eq!(r, exp_rational(&p, &t, &y));
        let want = fd(p.as_slice(), |e| {
            exp_rational(&DVector::from_column_slice(e), &t, &y)
                .as_slice()
                .to_vec()
        });
        close("finite differences", &j, &want, 1e-7);
        assert!(j.columns(4, n - 4).iter().all(|&v| v == 0.0));
        close(
            "forward",
            &exp_rational_fwd_jacobian(&p, &t, &y).1,
            &j,
            1e-14,
        );
        close(
            "reverse",
            &exp_rational_rev_jacobian(&p, &t, &y).1,
            &j,
            1e-14,
        );
    }
}

three!(p, fixed_var, fixed_var_fwd, fixed_var_rev, (p: &Vector2<f64>, t: &DVector<f64>) {
    t.map(|v| p[0] * (p[1] * v).exp()) - t * 0.5
});

/// A static variable of dynamic residuals: `J` is a `DMatrix` with two columns.
#[test]
fn a_static_variable() {
    let mut ws = Workspace::new();
    let (mut r, mut j) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    let p = Vector2::new(1.5, -0.7);
    for m in [1, 6, 3] {
        let t = DVector::from_fn(m, |i, _| i as f64 / 2.0);
        fixed_var_jacobian_into(&p, &t, &mut r, &mut j, &mut ws);
        assert_eq!(r, fixed_var(&p, &t));
        let want = fd(p.as_slice(), |e| {
            fixed_var(&Vector2::new(e[0], e[1]), &t).as_slice().to_vec()
        });
        close("finite differences", &j, &want, 1e-7);
        close("forward", &fixed_var_fwd_jacobian(&p, &t).1, &j, 1e-14);
        close("reverse", &fixed_var_rev_jacobian(&p, &t).1, &j, 1e-14);
    }
}

#[matgrad::jacobian(wrt = w)]
fn generic<T: RealField + Copy>(w: &DVector<T>, x: &DMatrix<T>, y: &DVector<T>) -> DVector<T> {
    (x * w).map(|v| v.sin()) + x * w - y
}

#[matgrad::__jacobian_reverse(wrt = w)]
fn generic_rev<T: RealField + Copy>(w: &DVector<T>, x: &DMatrix<T>, y: &DVector<T>) -> DVector<T> {
    (x * w).map(|v| v.sin()) + x * w - y
}

/// A generic function in f64 and f32: `diag(cos(X w) + 1) X`, against reverse mode
/// in the same type and finite differences in f64.
#[test]
fn generic_f64_and_f32() {
    let (mut ws64, mut ws32) = (Workspace::new(), Workspace::new());
    let (mut r64, mut j64) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    let (mut r32, mut j32) = (DVector::<f32>::zeros(0), DMatrix::<f32>::zeros(0, 0));
    for (k, (m, n)) in SHAPES.into_iter().enumerate() {
        let (x, w, y) = (mat(k, m, n), vector(k + 10, n), vector(k + 20, m));
        generic_jacobian_into(&w, &x, &y, &mut r64, &mut j64, &mut ws64);
        let want = fd(w.as_slice(), |e| {
            generic(&DVector::from_column_slice(e), &x, &y)
                .as_slice()
                .to_vec()
        });
        close("f64, finite differences", &j64, &want, 1e-7);
        close(
            "f64, reverse",
            &generic_rev_jacobian(&w, &x, &y).1,
            &j64,
            1e-14,
        );
        let (x32, w32, y32) = (
            x.map(|v| v as f32),
            w.map(|v| v as f32),
            y.map(|v| v as f32),
        );
        generic_jacobian_into(&w32, &x32, &y32, &mut r32, &mut j32, &mut ws32);
        assert_eq!(r32, generic(&w32, &x32, &y32));
        close("f32, f64", &j32.map(f64::from), &j64, 1e-5);
        let (_, jr32) = generic_rev_jacobian(&w32, &x32, &y32);
        close(
            "f32, reverse",
            &jr32.map(f64::from),
            &j32.map(f64::from),
            1e-6,
        );
    }
}

three!(p, zipped, zipped_fwd, zipped_rev, (p: &DVector<f64>, t: &DVector<f64>, u: &DVector<f64>) {
    let (a, b) = (p[0], p[1]);
    t.zip_map(u, |x, y| a * x * y.exp() + b * (x - y).sin())
});

/// Columns whose coefficients read two columns (`exp(u) ⊙ t`, `sin(t − u)`),
/// computed straight into `J`.
#[test]
fn columns_of_two_columns() {
    let mut ws = Workspace::new();
    let (mut r, mut j) = (DVector::zeros(0), DMatrix::zeros(0, 0));
    for (k, (m, n)) in [(1, 2), (6, 2), (4, 3), (6, 2)].into_iter().enumerate() {
        let (t, u) = (vector(k, m), vector(k + 10, m));
        let p = DVector::from_fn(n, |i, _| 0.7 - 0.3 * i as f64);
        zipped_jacobian_into(&p, &t, &u, &mut r, &mut j, &mut ws);
        assert_eq!(r, zipped(&p, &t, &u));
        let want = fd(p.as_slice(), |e| {
            zipped(&DVector::from_column_slice(e), &t, &u)
                .as_slice()
                .to_vec()
        });
        close("finite differences", &j, &want, 1e-7);
        close("forward", &zipped_fwd_jacobian(&p, &t, &u).1, &j, 1e-14);
        close("reverse", &zipped_rev_jacobian(&p, &t, &u).1, &j, 1e-14);
    }
}

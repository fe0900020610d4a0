//! `#[custom_adjoint]`: bodies that call a user's scalar function use the user's
//! adjoint, on scalars, in `map`, `zip_map` and `map(f)` by path, in f64 and f32, on
//! static sizes; functions of matrices (an external solve, a log-determinant, an
//! entrywise map with a scalar) too, called on parameters and on values of the body,
//! also inside a loop with a run-time trip count; checked against finite differences
//! when the adjoint is right, and shown to be the user's rule (not a derivative
//! matgrad found itself) when it is deliberately another.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

mod common;

use common::{gradcheck, mat, positive, rng, uniform};
use matgrad::{custom_adjoint, grad, Workspace};
use nalgebra::{DMatrix, DVector, Matrix2, RealField};

const VALUE: common::Value = common::Value::Exact;

/// Functions of another module, called by path.
mod special {
    use matgrad::custom_adjoint;

    /// x ln x − x, with an adjoint of its own.
    #[custom_adjoint(xlogx_adjoint)]
    pub fn xlogx(x: f64) -> f64 {
        x * x.ln() - x
    }

    /// ḡ ln x.
    pub fn xlogx_adjoint(x: f64, g: f64) -> f64 {
        g * x.ln()
    }
}

/// A function of two arguments with a tuple adjoint.
#[custom_adjoint(hypot_adjoint)]
fn hypot(a: f64, b: f64) -> f64 {
    a.hypot(b)
}

/// (ḡ a / r, ḡ b / r).
fn hypot_adjoint(a: f64, b: f64, g: f64) -> (f64, f64) {
    let r = a.hypot(b);
    (g * a / r, g * b / r)
}

/// Generic, for f32 and f64.
#[custom_adjoint(cube_adjoint)]
fn cube<T: RealField + Copy>(x: T) -> T {
    x * x * x
}

/// 3 x² ḡ.
fn cube_adjoint<T: RealField + Copy>(x: T, g: T) -> T {
    T::from_f64(3.0).unwrap() * x * x * g
}

#[grad(wrt = (p, s))]
fn uses_special(p: &DMatrix<f64>, q: &DMatrix<f64>, s: f64) -> f64 {
    p.map(|v| 2.0 * special::xlogx(v)).sum()
        + p.map(special::xlogx).norm_squared()
        + p.zip_map(q, |a, b| hypot(a, b * s)).sum()
        + hypot(s, p.sum())
}

#[grad(wrt = a)]
fn uses_generic<T: RealField + Copy>(a: &DMatrix<T>) -> T {
    a.map(|v| cube(v)).sum() + cube(a.sum())
}

#[grad(wrt = m)]
fn uses_static(m: &Matrix2<f64>) -> f64 {
    m.map(|v| hypot(v, 1.0)).sum()
}

#[test]
fn custom_adjoints_match_finite_differences() {
    let (r, mut ws) = (&mut rng(500), Workspace::new());
    let mut ws32 = Workspace::<f32>::new();
    for (m, n) in [(1, 1), (2, 3), (4, 2)] {
        let q = mat(r, m, n);
        gradcheck!(&mut ws; uses_special, uses_special_grad, uses_special_grad_into; (&p, &q, s);
            p = positive(r, m, n), s = uniform(r, 0.5, 1.0));
        gradcheck!(&mut ws; uses_generic, uses_generic_grad, uses_generic_grad_into; (&a,);
            a = mat(r, m, n));
        gradcheck!(&mut ws32; uses_generic, uses_generic_grad, uses_generic_grad_into; (&a,);
            a = mat(r, m, n).cast::<f32>());
    }
    for _ in 0..3 {
        gradcheck!(&mut ws; uses_static, uses_static_grad, uses_static_grad_into; (&m,);
            m = Matrix2::from_fn(|_, _| uniform(r, -1.0, 1.0)));
    }
}

/// `tanh` with an adjoint that is deliberately not its derivative: ḡ · 7.
#[custom_adjoint(seven)]
fn odd_tanh(x: f64) -> f64 {
    x.tanh()
}

fn seven(_x: f64, g: f64) -> f64 {
    7.0 * g
}

#[grad(wrt = a)]
fn uses_odd(a: &DMatrix<f64>) -> f64 {
    a.map(odd_tanh).sum() + a.map(|v| odd_tanh(v) * 2.0).sum() + odd_tanh(a.sum())
}

#[test]
fn the_users_rule_is_used() {
    let a = DMatrix::from_row_slice(2, 2, &[0.1, -0.4, 0.8, 2.0]);
    let (value, g) = uses_odd_grad(&a);
    assert_eq!(value, uses_odd(&a));
    // Each entry: 7 from `map(odd_tanh)`, 2 · 7 from the closure, 7 from the sum's
    // one use: 28, whatever tanh′ is.
    assert_eq!(g, DMatrix::from_element(2, 2, 28.0));
}

/// Functions of matrices matgrad does not look into, with their adjoints.
mod external {
    use matgrad::custom_adjoint;
    use nalgebra::{DMatrix, DVector};

    /// `A⁻¹ b` by an LU factorisation (an "external solver").
    #[custom_adjoint(solve_adjoint)]
    pub fn solve(a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
        a.clone().lu().solve(b).expect("invertible")
    }

    /// `b̄ = A⁻ᵀ ḡ`, `Ā = −b̄ xᵀ` with `x = A⁻¹ b`.
    pub fn solve_adjoint(
        a: &DMatrix<f64>,
        b: &DVector<f64>,
        g: &DVector<f64>,
    ) -> (DMatrix<f64>, DVector<f64>) {
        let x = solve(a, b);
        let bbar = a.transpose().lu().solve(g).expect("invertible");
        (-&bbar * x.transpose(), bbar)
    }

    /// `ln det A` of a symmetric positive definite `A`, by Cholesky.
    #[custom_adjoint(logdet_adjoint)]
    pub fn logdet(a: &DMatrix<f64>) -> f64 {
        let l = a.clone().cholesky().expect("positive definite");
        2.0 * l.l().diagonal().map(f64::ln).sum()
    }

    /// `ḡ A⁻ᵀ`.
    pub fn logdet_adjoint(a: &DMatrix<f64>, g: f64) -> DMatrix<f64> {
        a.clone().try_inverse().expect("invertible").transpose() * g
    }

    /// `s a³` entrywise.
    #[custom_adjoint(scaled_cube_adjoint)]
    pub fn scaled_cube(a: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
        a.map(|v| s * v * v * v)
    }

    /// `(3 s a² ⊙ ḡ, Σ a³ ⊙ ḡ)`.
    pub fn scaled_cube_adjoint(a: &DMatrix<f64>, s: f64, g: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
        (
            a.zip_map(g, |v, gv| 3.0 * s * v * v * gv),
            a.zip_map(g, |v, gv| v * v * v * gv).sum(),
        )
    }
}

#[grad(wrt = (a, b, s))]
fn uses_external(a: &DMatrix<f64>, b: &DVector<f64>, s: f64, y: &DVector<f64>) -> f64 {
    let spd = a * a.transpose() + DMatrix::identity(a.nrows(), a.nrows());
    let x = external::solve(&spd, b);
    let c = external::scaled_cube(a, s);
    (x - y).norm_squared() + external::logdet(&spd) * 0.5 + c.sum()
}

#[grad(wrt = w)]
fn external_in_a_loop(w: &DMatrix<f64>, xs: &DMatrix<f64>) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    for t in 0..xs.ncols() {
        let m = external::scaled_cube(w, 0.5);
        h = (m * &h + xs.column(t)).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn matrix_custom_adjoints_match_finite_differences() {
    let (r, mut ws) = (&mut rng(501), Workspace::new());
    for n in [1, 2, 4] {
        let y = common::vector(r, n);
        gradcheck!(&mut ws; uses_external, uses_external_grad, uses_external_grad_into;
            (&a, &b, s, &y); a = mat(r, n, n), b = common::vector(r, n), s = uniform(r, 0.5, 1.5));
        for steps in [0, 1, 4] {
            let xs = mat(r, n, steps);
            gradcheck!(&mut ws; external_in_a_loop, external_in_a_loop_grad,
                external_in_a_loop_grad_into; (&w, &xs); w = mat(r, n, n));
        }
    }
}

/// The identity with an adjoint that is deliberately not its derivative: `3 ḡ`.
#[custom_adjoint(triple)]
fn same(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.clone()
}

fn triple(_a: &DMatrix<f64>, g: &DMatrix<f64>) -> DMatrix<f64> {
    g * 3.0
}

#[grad(wrt = a)]
fn uses_same(a: &DMatrix<f64>) -> f64 {
    same(a).sum() + same(&(a * 2.0)).sum()
}

#[test]
fn the_users_matrix_rule_is_used() {
    let a = DMatrix::from_row_slice(2, 3, &[0.1, -0.4, 0.8, 2.0, 0.0, 1.0]);
    let (value, g) = uses_same_grad(&a);
    assert_eq!(value, uses_same(&a));
    // Each entry: 3 from `same(a)`, 3 · 2 through `a * 2.0`: 9, where the identity's
    // derivative would give 3.
    assert_eq!(g, DMatrix::from_element(2, 3, 9.0));
}

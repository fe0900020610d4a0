//! `#[custom_adjoint]`: bodies that call a user's scalar function use the user's
//! adjoint, on scalars, in `map`, `zip_map` and `map(f)` by path, in f64 and f32, on
//! static sizes; checked against finite differences when the adjoint is right, and
//! shown to be the user's rule (not a derivative matgrad found itself) when it is
//! deliberately another.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

mod common;

use common::{gradcheck, mat, positive, rng, uniform};
use matgrad::{custom_adjoint, grad, Workspace};
use nalgebra::{DMatrix, Matrix2, RealField};

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

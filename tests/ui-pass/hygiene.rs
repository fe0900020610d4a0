//! The generated code names nothing of the user's: a crate that defines its own
//! `grad`, `sigmoid`, `relu`, `Workspace`, `view`, `Real`, `Default` and `core`, and
//! whose parameters are named like matgrad's temporaries (`ws`, `grad_w`, `__mg_v0`,
//! `__mg_g1`, `__mg_value`, `x`, `value`), still compiles warning-free and computes
//! the right gradients; so does a module with `#![no_implicit_prelude]`.
#![deny(warnings, missing_docs)]

use nalgebra::DMatrix;

/// A user item named like the attribute.
pub fn grad() -> u8 {
    1
}

/// A user `sigmoid` that is not matgrad's (not called in annotated bodies).
pub fn sigmoid(v: u8) -> u8 {
    v
}

/// A user `relu`.
pub fn relu() {}

/// A user `view`.
pub fn view(v: &str) -> &str {
    v
}

/// A user `Workspace`.
#[derive(Default)]
pub struct Workspace {
    /// A field.
    pub slots: Vec<u8>,
}

/// A user `Real`.
pub trait Real {}

/// A user `Default` shadowing the prelude's.
pub trait Default {}

/// A user module named `core`.
pub mod core {
    /// Nothing.
    pub fn unreachable() {}
}

/// Parameters named like matgrad's temporaries and outputs.
#[matgrad::grad(wrt = (ws, grad_w, __mg_v0, x))]
pub fn clash(
    ws: &DMatrix<f64>,
    grad_w: &DMatrix<f64>,
    __mg_v0: f64,
    __mg_g1: &DMatrix<f64>,
    __mg_value: f64,
    x: f64,
    value: &DMatrix<f64>,
) -> f64 {
    let __mg_v1 = ws * grad_w;
    let __mg_g0 = __mg_v1.map(|v| (v * __mg_v0).tanh());
    (__mg_g0 - __mg_g1).norm_squared() * x + value.sum() * __mg_value
}

/// `w` and a parameter named like its gradient output.
#[matgrad::grad(wrt = w)]
pub fn outputs(w: &DMatrix<f64>, grad_w: &DMatrix<f64>, ws: f64) -> f64 {
    (w.component_mul(grad_w)).sum() * ws
}

/// A parameter named like the direction of `w`: the direction is `_v_w`.
#[matgrad::grad(wrt = w, hvp, hessian)]
pub fn directions(w: &DMatrix<f64>, v_w: &DMatrix<f64>) -> f64 {
    w.component_mul(v_w).map(|x| x.sin()).sum()
}

/// A module without the prelude: the generated code names everything by absolute path.
pub mod no_prelude {
    #![no_implicit_prelude]

    use ::matgrad::{add_row, grad, log_sum_exp, softmax_cross_entropy, softplus};
    use ::nalgebra::{DMatrix, DVector, Matrix3, RowDVector, Vector3};

    /// A classifier layer.
    #[grad(wrt = (w, b), hvp)]
    pub fn layer(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>, y: &DMatrix<f64>) -> f64 {
        let z = add_row(&(x * w), b);
        softmax_cross_entropy(&z, y) + w.map(|v| v.tanh()).norm_squared()
    }

    /// The same layer without its bias, with its Hessian.
    #[grad(wrt = w, hessian)]
    pub fn layer_w(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        softmax_cross_entropy(&(x * w), y) + w.map(|v| v.tanh()).norm_squared()
    }

    /// A Hessian built from its structure (every kind of term), dynamic sizes.
    #[grad(wrt = w, hessian)]
    pub fn structured(x: &DMatrix<f64>, w: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
        softplus(&(x * w)).sum() + (w.transpose() * a * w)[(0, 0)] + log_sum_exp(&(x * w))
    }

    /// The same with static sizes.
    #[grad(wrt = w, hessian)]
    pub fn structured_static(x: &Matrix3<f64>, w: &Vector3<f64>) -> f64 {
        softplus(&(x * w)).sum() + (x * w).norm_squared() + log_sum_exp(&(x * w))
    }
}

fn main() {
    assert_eq!(grad() + sigmoid(0), 1);
    relu();
    core::unreachable();
    assert_eq!(view("v"), "v");
    assert!(Workspace::default().slots.is_empty());

    let a = DMatrix::from_fn(2, 2, |i, j| 0.3 * (i as f64) - 0.2 * (j as f64) + 0.1);
    let b = DMatrix::from_fn(2, 2, |i, j| 0.1 * (i + j) as f64 + 0.5);
    let (v, da, db, dv0, dx) = clash_grad(&a, &b, 0.7, &a, 2.0, 1.5, &b);
    assert_eq!(v, clash(&a, &b, 0.7, &a, 2.0, 1.5, &b));
    assert_eq!((da.shape(), db.shape()), ((2, 2), (2, 2)));
    assert!(dv0.is_finite());
    assert_eq!(dx, clash(&a, &b, 0.7, &a, 0.0, 1.0, &b));

    let mut ws = matgrad::Workspace::new();
    let mut grad_w = DMatrix::zeros(0, 0);
    let v = outputs_grad_into(&a, &b, 3.0, &mut grad_w, &mut ws);
    assert_eq!(v, outputs(&a, &b, 3.0));
    assert_eq!(grad_w, &b * 3.0);

    let r = nalgebra::RowDVector::from_element(2, 0.1);
    let (v, _, db) = no_prelude::layer_grad(&a, &b, &r, &a);
    assert_eq!(v, no_prelude::layer(&a, &b, &r, &a));
    assert_eq!(no_prelude::layer_hvp(&a, &b, &r, &a, &b, &r).0, v);
    let n = b.len();
    assert_eq!(directions_hvp(&a, &b, &b).0, directions(&a, &b));
    assert_eq!(directions_hessian(&a, &b).2.shape(), (4, 4));
    assert_eq!(no_prelude::layer_w_hessian(&a, &b, &a).2.shape(), (n, n));
    let (x3, w3) = (nalgebra::DMatrix::from_element(3, 2, 0.5), nalgebra::DVector::from_element(2, 0.1));
    let sq = nalgebra::DMatrix::from_element(2, 2, 0.25);
    assert_eq!(no_prelude::structured_hessian(&x3, &w3, &sq).2.shape(), (2, 2));
    let m3 = nalgebra::Matrix3::from_element(0.5);
    let v3 = nalgebra::Vector3::from_element(0.1);
    assert_eq!(no_prelude::structured_static_hessian(&m3, &v3).2.shape(), (3, 3));
    assert_eq!(db.shape(), (1, 2));
}

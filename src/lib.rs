//! # matgrad: gradients of nalgebra matrix functions, derived at compile time
//!
//! Write a loss in plain nalgebra, put `#[grad(wrt = w)]` on it, and a procedural
//! macro reads the body, applies the reverse-mode rules of matrix calculus to it
//! symbolically, and writes `loss_grad` beside it: straight-line Rust calling fast
//! kernels. No tape, no runtime graph.
//!
//! ```
//! use matgrad::grad;
//! use nalgebra::DMatrix;
//!
//! /// Single-layer network with squared error.
//! #[grad(wrt = w)]
//! pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
//!     let z = x * w;
//!     let a = z.map(|v| v.tanh());
//!     (a - y).norm_squared()
//! }
//!
//! let x = DMatrix::from_fn(4, 3, |i, j| (i as f64 - j as f64) / 4.0);
//! let w = DMatrix::from_fn(3, 2, |i, j| 0.1 * (i + j) as f64);
//! let y = DMatrix::from_element(4, 2, 0.5);
//! let (value, dw) = loss_grad(&x, &w, &y);
//! assert_eq!(value, loss(&x, &w, &y));
//! // ∂f/∂w = xᵀ (2 (a − y) ⊙ (1 − a²))
//! let a = (&x * &w).map(|v| v.tanh());
//! let expected = x.transpose() * (2.0 * (&a - &y)).component_mul(&a.map(|v| 1.0 - v * v));
//! assert!((dw - expected).norm() < 1e-12);
//! ```
//!
//! ## What the attribute generates
//!
//! Beside the unchanged function `NAME` come, with the same visibility and parameters:
//!
//! - `NAME_grad(params…) -> (T, G1, …, Gk)`: the value, then the gradient of each
//!   `wrt` variable in the order written. `Gi` is the owned type of that parameter
//!   (`DMatrix<T>` for `&DMatrix<T>`, `DVector<T>`, `RowDVector<T>`, or `T`).
//! - `NAME_grad_into(params…, grad_1: &mut G1, …, ws: &mut Workspace<T>) -> T`: the same,
//!   writing into caller-owned buffers (resized when their shape differs) and reusing
//!   the intermediates stored in a [`Workspace`]: in a training loop, after the
//!   first call it allocates nothing.
//!
//! Both carry a doc comment with the derived gradient of each variable.
//!
//! ## Layout convention
//!
//! A gradient has the shape of its variable: entry `(i, j)` of `∂f/∂X` is
//! `∂f/∂X_ij` (the layout of the backprop-rules convention; some texts, in
//! numerator layout, write the transpose).
//!
//! ## The language
//!
//! The body is straight-line nalgebra: `let` statements (shadowing allowed, type
//! annotations optional) and a final scalar expression (or `return expr;`). Parameters
//! are `DMatrix<T>`, `DVector<T>`, `RowDVector<T>` or `T` (by value or `&`), with
//! one `T` of `f32`/`f64`. Parameters not in `wrt` are constants and cost nothing in
//! the backward pass; names that are neither parameters nor `let`s (`LAMBDA`,
//! `std::f64::consts::PI`) are treated as outside scalar constants.
//!
//! | form | adjoint rule |
//! | --- | --- |
//! | `a + b`, `a - b`, `-a` | ā += Ḡ, b̄ ∓= Ḡ |
//! | `a * b` (matrices) | ā += Ḡ bᵀ, b̄ += aᵀ Ḡ |
//! | `s * a`, `a * s`, `a / s`, `a.scale(s)` | ā += s Ḡ, s̄ += Σ Ḡ ⊙ a |
//! | `a.transpose()` | ā += Ḡᵀ |
//! | `a.component_mul(&b)`, `a.component_div(&b)` | ā += Ḡ ⊙ b, b̄ += Ḡ ⊙ a; ā += Ḡ ⊘ b, b̄ −= Ḡ ⊙ a ⊘ b² |
//! | `a.map(\|v\| body)` | ā += Ḡ ⊙ g′(a), g′ derived from `body` |
//! | `a.add_scalar(s)` | ā += Ḡ, s̄ += Σ Ḡ |
//! | `a.sum()`, `a.mean()` | ā += s̄ 1, ā += s̄/(mn) 1 |
//! | `a.norm_squared()`, `a.norm()` | ā += 2 s̄ a, ā += s̄ a/‖a‖ |
//! | `a.dot(&b)` | ā += s̄ b, b̄ += s̄ a |
//! | `a.trace()` | ā += s̄ I |
//! | `a.determinant()` | ā += s̄ det(a) a⁻ᵀ |
//! | `a.try_inverse().unwrap()` / `.expect(msg)` | ā += −a⁻ᵀ Ḡ a⁻ᵀ |
//! | `a.kronecker(&b)` | ā_ij += Σ Ḡ_block(i,j) ⊙ b, b̄ += Σ_ij a_ij Ḡ_block(i,j) |
//! | `a[(i, j)]` | ā_ij += s̄ |
//! | scalar `+ - * /`, `ln exp sqrt powi powf sin cos tan tanh sinh cosh abs recip max min ln_1p exp_m1` | the scalar derivative |
//! | [`sigmoid`], [`relu`], [`softplus`], [`add_row`], [`add_col`], [`ln_det`], [`log_sum_exp`], [`softmax_cross_entropy`] | see each function |
//!
//! Anything else (control flow, `mut`, macros, unknown methods) is rejected at compile
//! time with an error pointing at the construct.
//!
//! ## Static sizes
//!
//! Parameters may instead be statically sized: `SMatrix<T, R, C>`, `SVector<T, N>`,
//! `RowSVector<T, N>`, `Matrix1`…`Matrix6`, `Matrix2x3`-style, `Vector1`…`Vector6`,
//! `RowVector1`…`RowVector6` (integer-literal sizes). The gradients then have the
//! static types, the generated code works on stack values with nalgebra's static
//! kernels and allocates nothing, and static shapes that cannot match are a compile
//! error on the operation (`cannot multiply a 3×3 matrix by a 2×1 vector`).
//! `NAME_grad_into` keeps its signature and ignores the workspace. A function may mix
//! static and dynamic matrices where nalgebra allows the operation; it then takes the
//! dynamic code path, and the gradients of static parameters keep their types.
//!
//! ```
//! use matgrad::grad;
//! use nalgebra::{Matrix3, Vector3};
//!
//! #[grad(wrt = (x, a))]
//! fn quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
//!     (x.transpose() * a * x)[(0, 0)]
//! }
//!
//! let (x, a) = (Vector3::new(1.0, 2.0, 3.0), Matrix3::from_fn(|i, j| (i + 2 * j) as f64));
//! let (value, dx, da): (f64, Vector3<f64>, Matrix3<f64>) = quadratic_grad(&x, &a);
//! assert_eq!(value, quadratic(&x, &a));
//! assert_eq!(dx, (a + a.transpose()) * x);
//! assert_eq!(da, x * x.transpose());
//! ```
//!
//! ## Runtime behaviour
//!
//! `NAME_grad` panics where `NAME` panics (mismatched shapes, the `unwrap` of a
//! singular inverse), with a message naming the operation and the shapes, such as
//! `matgrad: x * w: cannot multiply 3×4 by 5×2`. NaN and infinity propagate.
#![deny(missing_docs)]

/// Derives the gradient of a nalgebra loss function at compile time.
///
/// `#[grad(wrt = w)]` or `#[grad(wrt = (a, b, c))]` on a function returning `f64`
/// (or `f32`) adds `NAME_grad` and `NAME_grad_into` beside it; see the
/// [crate documentation](crate).
pub use matgrad_macros::grad;

pub use matgrad_runtime::{
    add_col, add_row, gemm_nn, gemm_nt, gemm_tn, gemm_tt, ln_det, log_sum_exp, relu, sigmoid,
    softmax_cross_entropy, softplus, Real, Workspace,
};

#[doc(hidden)]
pub use matgrad_runtime::__private;

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
//! | `a.map(\|v\| body)`, `a.map(f64::tanh)` | ā += Ḡ ⊙ g′(a), g′ derived from `body` |
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
//! A `map` closure body is one scalar expression in its variable: the scalar methods
//! (also called as `f64::tanh(v)`), `+ - * /`, float literals, and captured scalars
//! (`*t` of a `t: &f64` parameter included). `a.map(f64::tanh)` (or `f32::…`, any
//! one-argument scalar method) is `a.map(|v| v.tanh())`.
//!
//! **Runtime functions** are recognised by name: `sigmoid(&z)` (with `use
//! matgrad::sigmoid;`) or `matgrad::sigmoid(&z)`. The name must resolve to matgrad's
//! function: the macro cannot see what a name resolves to, so the expansion checks
//! it, and a function of your own called `sigmoid` is a compile error at the call
//! (rename it, or differentiate its formula inline). Any other path, such as
//! `crate::act::relu(&z)`, names a function matgrad cannot see into and is rejected.
//!
//! Anything else (control flow, `mut`, macros, unknown methods) is rejected at compile
//! time with one error pointing at the construct, and with `NAME_grad` and
//! `NAME_grad_into` still declared whenever the signature and `wrt` can be read,
//! so that their callers add no errors of their own.
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

/// The compile-time check that a runtime function named in a `#[grad]` body is
/// matgrad's own (the macro sees only the name). For `sigmoid(&z)` in a body,
/// `#[grad]` emits, in a function nothing calls, `sigmoid(__resolve::sigmoid())`:
/// the name as written, called on a probe whose type is inferred from that
/// function's parameter. matgrad's `sigmoid` takes any `&Matrix<T, R, C, S>`, and the
/// probe's bound then picks `&SMatrix<f64, 7, 3>`; a function of the user's named
/// `sigmoid` (taking `&DMatrix<f64>`, `f64`, …) leaves the bound unsatisfied, and
/// rustc reports the message below at the call. A name not in scope at all gives
/// exactly rustc's own error for the call in the body.
#[doc(hidden)]
pub mod __resolve {
    /// The only type the probes are implemented for: a matrix type user functions
    /// are unlikely to take, and every runtime function accepts.
    pub type Probe<'a> = &'a nalgebra::SMatrix<f64, 7, 3>;

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `sigmoid` is not matgrad's: #[grad] can differentiate only `matgrad::sigmoid`",
        label = "another function named `sigmoid`",
        note = "bring matgrad's into scope with `use matgrad::sigmoid;` (or call `matgrad::sigmoid`), and give your own function another name"
    )]
    pub trait Sigmoid {}
    #[diagnostic::do_not_recommend]
    impl Sigmoid for Probe<'_> {}
    /// A value for `sigmoid`'s parameter; never called.
    pub fn sigmoid<A: Sigmoid>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `relu` is not matgrad's: #[grad] can differentiate only `matgrad::relu`",
        label = "another function named `relu`",
        note = "bring matgrad's into scope with `use matgrad::relu;` (or call `matgrad::relu`), and give your own function another name"
    )]
    pub trait Relu {}
    #[diagnostic::do_not_recommend]
    impl Relu for Probe<'_> {}
    /// A value for `relu`'s parameter; never called.
    pub fn relu<A: Relu>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `softplus` is not matgrad's: #[grad] can differentiate only `matgrad::softplus`",
        label = "another function named `softplus`",
        note = "bring matgrad's into scope with `use matgrad::softplus;` (or call `matgrad::softplus`), and give your own function another name"
    )]
    pub trait Softplus {}
    #[diagnostic::do_not_recommend]
    impl Softplus for Probe<'_> {}
    /// A value for `softplus`'s parameter; never called.
    pub fn softplus<A: Softplus>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `add_row` is not matgrad's: #[grad] can differentiate only `matgrad::add_row`",
        label = "another function named `add_row`",
        note = "bring matgrad's into scope with `use matgrad::add_row;` (or call `matgrad::add_row`), and give your own function another name"
    )]
    pub trait AddRow {}
    #[diagnostic::do_not_recommend]
    impl AddRow for Probe<'_> {}
    /// A value for `add_row`'s parameter; never called.
    pub fn add_row<A: AddRow>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `add_col` is not matgrad's: #[grad] can differentiate only `matgrad::add_col`",
        label = "another function named `add_col`",
        note = "bring matgrad's into scope with `use matgrad::add_col;` (or call `matgrad::add_col`), and give your own function another name"
    )]
    pub trait AddCol {}
    #[diagnostic::do_not_recommend]
    impl AddCol for Probe<'_> {}
    /// A value for `add_col`'s parameter; never called.
    pub fn add_col<A: AddCol>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `ln_det` is not matgrad's: #[grad] can differentiate only `matgrad::ln_det`",
        label = "another function named `ln_det`",
        note = "bring matgrad's into scope with `use matgrad::ln_det;` (or call `matgrad::ln_det`), and give your own function another name"
    )]
    pub trait LnDet {}
    #[diagnostic::do_not_recommend]
    impl LnDet for Probe<'_> {}
    /// A value for `ln_det`'s parameter; never called.
    pub fn ln_det<A: LnDet>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `log_sum_exp` is not matgrad's: #[grad] can differentiate only `matgrad::log_sum_exp`",
        label = "another function named `log_sum_exp`",
        note = "bring matgrad's into scope with `use matgrad::log_sum_exp;` (or call `matgrad::log_sum_exp`), and give your own function another name"
    )]
    pub trait LogSumExp {}
    #[diagnostic::do_not_recommend]
    impl LogSumExp for Probe<'_> {}
    /// A value for `log_sum_exp`'s parameter; never called.
    pub fn log_sum_exp<A: LogSumExp>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }

    /// Implemented by [`Probe`] alone: see the module.
    #[diagnostic::on_unimplemented(
        message = "this `softmax_cross_entropy` is not matgrad's: #[grad] can differentiate only `matgrad::softmax_cross_entropy`",
        label = "another function named `softmax_cross_entropy`",
        note = "bring matgrad's into scope with `use matgrad::softmax_cross_entropy;` (or call `matgrad::softmax_cross_entropy`), and give your own function another name"
    )]
    pub trait SoftmaxCrossEntropy {}
    #[diagnostic::do_not_recommend]
    impl SoftmaxCrossEntropy for Probe<'_> {}
    /// A value for `softmax_cross_entropy`'s parameter; never called.
    pub fn softmax_cross_entropy<A: SoftmaxCrossEntropy>() -> A {
        unreachable!("matgrad: a resolution probe is never called")
    }
}

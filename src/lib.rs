//! # matgrad: gradients of nalgebra matrix functions, derived at compile time
//!
//! Write a loss in plain nalgebra, put `#[grad(wrt = w)]` on it, and a procedural
//! macro reads the body, applies the reverse-mode rules of matrix calculus to it
//! symbolically, and writes `loss_grad` beside it: straight-line Rust calling fast
//! kernels. No tape, no runtime graph.
//!
//! This page is the guide: [quick start](#quick-start), [what the attribute
//! generates](#what-the-attribute-generates), [the layout
//! convention](#layout-convention), [the language](#the-language), [the runtime
//! vocabulary](#the-runtime-vocabulary), [training loops and
//! performance](#training-loops-and-performance), [errors](#errors).
//!
//! ## Quick start
//!
//! ```toml
//! [dependencies]
//! matgrad = "0.1"
//! nalgebra = "0.35"
//! ```
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
//! // ∂f/∂w = xᵀ (2 (a − y) ⊙ (1 − a²)), as the doc comment of `loss_grad` says
//! let a = (&x * &w).map(|v| v.tanh());
//! let expected = x.transpose() * (2.0 * (&a - &y)).component_mul(&a.map(|v| 1.0 - v * v));
//! assert!((dw - expected).norm() < 1e-12);
//! ```
//!
//! nalgebra 0.34 (the version of argmin-math 0.5 and levenberg-marquardt 0.15) works as
//! well: `matgrad = { version = "0.1", default-features = false, features =
//! ["nalgebra_v0_34"] }`. The features are argmin-math's: `nalgebra_v0_34`,
//! `nalgebra_v0_35`, and `nalgebra_latest` (= 0.35, the default); enabling two versions
//! is a compile error that says so. With the feature `argmin`, the module
//! `matgrad::argmin` turns a `_grad_into` function into an argmin problem whose cost
//! and gradient at a point come from one call.
//!
//! `cargo run --release --example quickstart` runs this function and compares its
//! gradient with finite differences; `cargo run --release --example digits` trains a
//! classifier on real data.
//!
//! ## What the attribute generates
//!
//! Beside the unchanged function `NAME` come, with the same visibility and parameters:
//!
//! - `NAME_grad(params…) -> (T, G1, …, Gk)`: the value, then the gradient of each
//!   `wrt` variable in the order written (`#[grad(wrt = (w, b))]` gives
//!   `(value, dw, db)`). `Gi` is the owned type of that parameter (`DMatrix<T>` for
//!   `&DMatrix<T>` or `DMatrix<T>`, `DVector<T>`, `RowDVector<T>`, or `T`).
//! - `NAME_grad_into(params…, grad_1: &mut G1, …, ws: &mut Workspace<T>) -> T`: the
//!   same, writing into caller-owned buffers (resized when their shape differs) and
//!   reusing the intermediates stored in a [`Workspace`]; it returns the value.
//!
//! The value is computed by the same operations in the same order as `NAME`, so it is
//! the same number. Both companions carry a doc comment with the derived gradient of
//! each variable, in Unicode math (in the names of the body's `let`s) and LaTeX, so
//! `cargo doc` shows, for the function above:
//!
//! ```text
//! ∂f/∂w = xᵀ (2 (a − y) ⊙ (1 − a²))
//! where  z = x w,  a = tanh(z)
//! ```
//!
//! The command-line deriver `matgrad` (crate `matgrad-cli`) prints the same formulas,
//! the reverse sweep step by step, and the generated Rust, without compiling
//! anything: `matgrad derive loss.rs`, or
//! `matgrad derive --expr 'x: DVector, a: DMatrix => x.transpose() * a * x'`.
//!
//! ## Layout convention
//!
//! A gradient has the shape of its variable: entry `(i, j)` of `∂f/∂X` is
//! `∂f/∂X_ij`, so that `w -= lr * dw` is a gradient step. This is the "gradient"
//! (denominator) layout of backprop texts and deep-learning frameworks. Texts in
//! numerator layout, such as many matrix-calculus tutorials, write the transpose:
//! their `∂ tr(AXB)/∂X = BA` is matgrad's `AᵀBᵀ`.
//!
//! ```
//! use matgrad::grad;
//! use nalgebra::DMatrix;
//!
//! #[grad(wrt = x)]
//! fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
//!     (a * x * b).trace()
//! }
//!
//! let a = DMatrix::from_fn(2, 3, |i, j| (i + 2 * j) as f64);
//! let x = DMatrix::from_fn(3, 4, |i, j| (i * j) as f64 / 7.0);
//! let b = DMatrix::from_fn(4, 2, |i, j| 1.0 + i as f64 - j as f64);
//! let (_, dx) = f_grad(&a, &x, &b);
//! assert_eq!(dx.shape(), x.shape()); // 3×4, like x
//! assert!((dx - a.transpose() * b.transpose()).norm() < 1e-12); // Aᵀ Bᵀ, not B A
//! ```
//!
//! ## The language
//!
//! The body is nalgebra code: `let` and `let mut` statements (shadowing allowed, type
//! annotations optional), assignments and compound assignments (each a new value),
//! `for` loops and iterator sums over ranges with literal bounds (unrolled), `if`
//! decided at compile time (on loop indices and literals), calls of
//! [`macro@differentiable`] helpers (inlined) and of [`macro@custom_adjoint`] scalar
//! functions, and a final scalar expression (or `return expr;`). Parameters
//! are `DMatrix<T>`, `DVector<T>`, `RowDVector<T>` or `T` (by value or `&`, paths such
//! as `nalgebra::DMatrix<f64>` included), with one `T` of `f32`/`f64` for the whole
//! function, which returns `T`; or the function is generic over `T`
//! (`fn f<T: RealField + Copy>`, see the README's "Generic float types": the
//! companions add the bound `T: matgrad::Real`, and constants are written
//! `T::from_f64(0.5).unwrap()`, `T::from_usize(x.nrows()).unwrap()`,
//! `nalgebra::convert(0.5)`). Parameters not in `wrt` are constants and cost nothing
//! in the backward pass; names that are neither parameters nor `let`s (`LAMBDA`,
//! `std::f64::consts::PI`) are outside scalar constants. The original function
//! compiles and runs as written: it is ordinary Rust.
//!
//! | form | adjoint rule |
//! | --- | --- |
//! | `a + b`, `a - b`, `-a` | ā += Ḡ, b̄ ∓= Ḡ |
//! | `a * b` (matrices) | ā += Ḡ bᵀ, b̄ += aᵀ Ḡ |
//! | `s * a`, `a * s`, `a / s`, `a.scale(s)` | ā += s Ḡ, s̄ += Σ Ḡ ⊙ a |
//! | `a.transpose()` | ā += Ḡᵀ |
//! | `a.component_mul(&b)`, `a.component_div(&b)` | ā += Ḡ ⊙ b, b̄ += Ḡ ⊙ a; ā += Ḡ ⊘ b, b̄ −= Ḡ ⊙ a ⊘ b² |
//! | `a.map(\|v\| body)`, `a.map(f64::tanh)` | ā += Ḡ ⊙ g′(a), g′ derived from `body` (which may capture scalars) |
//! | `a.zip_map(&b, \|p, q\| body)` | ā += Ḡ ⊙ ∂body/∂p, b̄ += Ḡ ⊙ ∂body/∂q |
//! | `map` closures with `if a < b { e1 } else if … { e2 } else { e3 }` (`<`, `<=`, `>`, `>=`) | the derivative of the branch taken; on a boundary, of the branch the comparison picks |
//! | `a.add_scalar(s)` | ā += Ḡ, s̄ += Σ Ḡ |
//! | `a.sum()`, `a.mean()` | ā += s̄ 𝟙, ā += s̄/(mn) 𝟙 |
//! | `a.norm_squared()`, `a.norm()` | ā += 2 s̄ a, ā += s̄ a/‖a‖ |
//! | `a.dot(&b)` | ā += s̄ b, b̄ += s̄ a |
//! | `a.trace()` | ā += s̄ I |
//! | `a.determinant()` | ā += s̄ det(a) a⁻ᵀ |
//! | `a.try_inverse().unwrap()` / `.expect(msg)` | ā += −a⁻ᵀ Ḡ a⁻ᵀ |
//! | `a.kronecker(&b)` | ā_ij += Σ Ḡ_block(i,j) ⊙ b, b̄ += Σ_ij a_ij Ḡ_block(i,j) |
//! | `a[(i, j)]`, `v[i]` of a vector (counts: `theta[theta.len() - 1]`), e.g. the entry of a 1×1 product | ā_ij += s̄ |
//! | `a.diagonal()` (square `a`), as a column | ā += diag(Ḡ) |
//! | `DMatrix::identity(r, c)`, `DMatrix::zeros(r, c)`, `DMatrix::from_element(r, c, s)`, `DVector::zeros(n)`, static `Matrix3::identity()`, `Vector3::zeros()`, `Matrix2x3::from_element(s)` (sizes are counts) | s̄ += Σ Ḡ |
//! | `let n = x.nrows();`, then `n` wherever a count goes | — |
//! | `k: usize` (or `&usize`) parameters: counts, wherever a count goes | — |
//! | `x.nrows() as f64`, `(a.len() - 1) as f64`, `N as f64` (counts: literals, constants, parameters' shapes) | — (a constant) |
//! | `a.row_sum()`, `a.column_sum()` (nalgebra's: the 1×n row of column sums, the m×1 column of row sums), `a.row_mean()`, `a.column_mean()` | ā += 𝟙 Ḡ, ā += Ḡ 𝟙ᵀ (divided by the count for the means) |
//! | `a.max()`, `a.min()` | ā += s̄ at the first entry (column-major) equal to the value |
//! | `a.abs()` | ā += Ḡ ⊙ sign(a) |
//! | `DMatrix::from_diagonal(&v)` | v̄ += diag(Ḡ) |
//! | `Vector3::new(a, b, c)`, `Matrix2::new(..)` (static, from scalars) | each scalar gets its entry of Ḡ |
//! | `flag: bool` parameter in a closure's `if flag { .. } else { .. }` | the derivative of the branch taken |
//! | `a.column(j)` (`j` a literal, or literals and parameters' shapes: `a.ncols() - 1`) | ā += Ḡ e_jᵀ |
//! | `a.row(i)` (`i` a count, as for `column`) | ā += e_i Ḡ |
//! | `a.rows(i, n)`, `a.columns(j, n)` (counts; `n` a literal when `a`'s size is static) | ā += Ḡ placed in those rows / columns |
//! | `a.view((i, j), (r, c))` (the r×c block at (i, j); counts) | ā += Ḡ placed at (i, j) |
//! | `a.lower_triangle()`, `a.upper_triangle()` | ā += lower(Ḡ), ā += upper(Ḡ) |
//! | `&a`, `(a)`, `a.clone()` | no-ops |
//! | scalar `+ - * /`, `ln exp sqrt powi powf sin cos tan tanh sinh cosh abs recip max min ln_1p exp_m1` | the scalar derivative |
//! | [`sigmoid`], [`relu`], [`softplus`], [`add_row`], [`add_col`], [`ln_det`], [`log_sum_exp`], [`softmax_cross_entropy`] | see [the runtime vocabulary](#the-runtime-vocabulary) |
//!
//! Ḡ is the adjoint of a matrix result, s̄ of a scalar one; ⊙ and ⊘ are the entrywise
//! product and quotient. Float literals are constants; `powi` takes an integer literal.
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
//! ## The runtime vocabulary
//!
//! These functions are re-exported here, work on any nalgebra matrix or vector in
//! `f32` and `f64` (see [`Real`]), and are recognised inside annotated bodies by name
//! (`sigmoid(..)` or `matgrad::sigmoid(..)`). They are ordinary functions in plain code
//! too, each a single pass where one suffices.
//!
//! | function | meaning | adjoint |
//! | --- | --- | --- |
//! | [`sigmoid`]`(&a)`, [`relu`]`(&a)`, [`softplus`]`(&a)` | entrywise activations | Ḡ ⊙ σ(a)(1−σ(a)), Ḡ ⊙ \[a > 0\], Ḡ ⊙ σ(a) |
//! | [`add_row`]`(&m, &r)` | adds the row `r` (1×n) to every row of `m` (m×n): a bias | m̄ += Ḡ, r̄ += column sums of Ḡ |
//! | [`add_col`]`(&m, &c)` | adds the column `c` (m×1) to every column of `m` | m̄ += Ḡ, c̄ += row sums of Ḡ |
//! | [`ln_det`]`(&a)` | ln \|det a\|, computed stably by LU | ā += s̄ a⁻ᵀ |
//! | [`log_sum_exp`]`(&a)` | ln Σ exp(a_ij), stable | ā += s̄ softmax(a) |
//! | [`softmax_cross_entropy`]`(&z, &y)` | rows are samples: −Σ y ⊙ log softmax(z), summed over rows | z̄ += s̄ (softmax(z) ⊙ rowsum(y) − y), ȳ += −s̄ log softmax(z) |
//!
//! A classifier's loss, with biases broadcast over the rows of a batch:
//!
//! ```
//! use matgrad::{add_row, grad, relu, softmax_cross_entropy};
//! use nalgebra::{DMatrix, RowDVector};
//!
//! #[grad(wrt = (w1, b1, w2))]
//! fn loss(x: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>,
//!         w2: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
//!     let h = relu(&add_row(&(x * w1), &b1));
//!     softmax_cross_entropy(&(h * w2), &y)
//! }
//!
//! let x = DMatrix::from_fn(6, 4, |i, j| ((i * 4 + j) as f64).sin());
//! let w1 = DMatrix::from_fn(4, 5, |i, j| ((i + 3 * j) as f64).cos() / 2.0);
//! let b1 = RowDVector::from_fn(5, |_, j| 0.1 * j as f64);
//! let w2 = DMatrix::from_fn(5, 3, |i, j| ((2 * i + j) as f64).sin());
//! let y = DMatrix::from_fn(6, 3, |i, j| if i % 3 == j { 1.0 } else { 0.0 }); // one-hot
//! let (value, dw1, db1, dw2) = loss_grad(&x, &w1, &b1, &w2, &y);
//! assert_eq!(value, loss(&x, &w1, &b1, &w2, &y));
//! assert_eq!((dw1.shape(), db1.len(), dw2.shape()), ((4, 5), 5, (5, 3)));
//!
//! // One entry against a central finite difference.
//! let h = 1e-6;
//! let (mut up, mut down) = (w2.clone(), w2.clone());
//! up[(1, 2)] += h;
//! down[(1, 2)] -= h;
//! let fd = (loss(&x, &w1, &b1, &up, &y) - loss(&x, &w1, &b1, &down, &y)) / (2.0 * h);
//! assert!((dw2[(1, 2)] - fd).abs() < 1e-6);
//! ```
//!
//! [`Workspace`] is the store of intermediates of the `_grad_into` functions;
//! [`gemm_nn`], [`gemm_nt`], [`gemm_tn`] and [`gemm_tt`] are the products with
//! transposed operands that the generated code uses, for your own code too.
//!
//! ## Training loops and performance
//!
//! - The generated code computes the forward pass once, differentiates only what
//!   leads to a `wrt` variable, folds scalar factors into products, fuses chains of
//!   entrywise adjoints into one pass, and multiplies by transposes without building
//!   them. It never builds what is only traced (`tr(A X B)` sends `s̄ AᵀBᵀ` with one
//!   product), a sum's adjoint `s̄ 𝟙𝟙ᵀ` is never formed (a product with it is a
//!   broadcast of row or column sums), a product's adjoint read only by other
//!   products is multiplied as a chain of three in the association the shapes make
//!   cheaper at run time (`(a * b * v).norm_squared()` wrt `a` and `b`: matrix–vector
//!   work only), and an inverse's adjoint `−Pᵀ Ḡ Pᵀ` is a chain too (`vᵀ S⁻¹ v`:
//!   `−(S⁻ᵀv) ḡ (vᵀS⁻ᵀ)`, no n³ product).
//!   [`BENCHMARKS.md`](https://github.com/matgrad/matgrad/blob/main/BENCHMARKS.md)
//!   compares it with hand-written gradients and with candle's tape.
//! - `NAME_grad` keeps its intermediates in a per-thread workspace between calls and
//!   allocates only the gradients it returns. In a loop, call `NAME_grad_into` with
//!   buffers and a [`Workspace`] kept across steps: once the shapes are steady it
//!   allocates nothing.
//! - Build with `--release`: the kernels are generic Rust, slow in debug builds.
//! - The `parallel` feature splits large products (≥ 2²¹ multiply-adds) over rayon's
//!   threads, with the same results; rayon then allocates now and then, so the
//!   zero-allocation guarantee holds without it.
//!
//! ```
//! use matgrad::{grad, Workspace};
//! use nalgebra::{DMatrix, DVector};
//!
//! /// Least squares.
//! #[grad(wrt = w)]
//! fn loss(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
//!     (x * w - y).norm_squared()
//! }
//!
//! let x = DMatrix::from_fn(20, 3, |i, j| ((i + j) as f64 / 5.0).sin());
//! let y = DVector::from_fn(20, |i, _| (i as f64 / 7.0).cos());
//! let mut w = DVector::zeros(3);
//! let (mut dw, mut ws) = (DVector::zeros(3), Workspace::new());
//! let first = loss(&x, &w, &y);
//! let mut last = first;
//! for _ in 0..200 {
//!     last = loss_grad_into(&x, &w, &y, &mut dw, &mut ws);
//!     w.axpy(-0.005, &dw, 1.0); // w −= 0.005 ∂f/∂w
//! }
//! assert!(last < 0.5 * first);
//! ```
//!
//! ## Value semantics and `reassociate`
//!
//! By default the value is computed as written: `NAME_grad` returns the very bits
//! `NAME` returns. Only the gradient is computed in whatever mathematically equal way
//! is cheapest, and the value only where the bits stay the same: `(p * q).trace()`
//! computes just the product's diagonal, each entry as the product would. With
//! `#[grad(wrt = x, reassociate)]` the value may be rewritten too, which changes its
//! last bits: a product of any number of factors is multiplied in the association
//! with the fewest multiply-adds (chosen at run time from the shapes, or at expansion
//! for static sizes; the `_grad` docs list the candidates) and differentiated through
//! it, `(a * b * c).sum()` is `𝟙ᵀ a b c 𝟙` (matrix–vector products only), a trace
//! linear in the variable, `(a * x * b).trace()`, becomes `⟨x, (b a)ᵀ⟩` (one product
//! for value and gradient instead of two), and an inverse used only in products,
//! `x.try_inverse().unwrap() * b`, is one factorisation of `x` and triangular solves.
//!
//! ```
//! use matgrad::grad;
//! use nalgebra::{DMatrix, DVector};
//!
//! #[grad(wrt = x, reassociate)]
//! fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
//!     (a * x * b).trace() + (a * b * v).norm_squared()
//! }
//!
//! let a = DMatrix::from_fn(3, 3, |i, j| (i + 2 * j) as f64 / 4.0);
//! let b = DMatrix::from_fn(3, 3, |i, j| (i as f64 - j as f64) / 3.0);
//! let (x, v) = (DMatrix::identity(3, 3), DVector::from_element(3, 1.0));
//! let (value, dx) = f_grad(&a, &x, &b, &v);
//! assert!((value - f(&a, &x, &b, &v)).abs() < 1e-12); // equal to rounding, not bitwise
//! assert!((&dx - (a.transpose() * b.transpose())).norm() < 1e-12); // ∂f/∂x = aᵀ bᵀ
//! ```
//!
//! ## Errors
//!
//! Anything outside the language is a compile-time error whose span is the construct,
//! saying what is unsupported and what to write instead; a function with several
//! problems gets every error at once. The original function is still emitted, and
//! so are the companions' signatures, so calls to `NAME_grad` add no "cannot find
//! function" error. The macro never panics.
//!
//! ```compile_fail
//! use matgrad::grad;
//! use nalgebra::DMatrix;
//!
//! #[grad(wrt = w)]
//! fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
//!     let s = (x * w).sum();
//!     if s > 0.0 { s } else { -s } // error: `if` is not supported in a #[grad] function
//! }
//! # fn main() {}
//! ```
//!
//! gives
//!
//! ```text
//! error: `if` is not supported in a #[grad] function: matgrad differentiates straight-line code; compute both branches or use `relu`/`max`
//! ```
//!
//! At run time `NAME_grad` panics where `NAME` panics (mismatched shapes, the
//! `unwrap` of a singular inverse), with a message naming the operation and the
//! shapes. NaN and infinity propagate as in the original; nothing is clamped.
//!
//! ```should_panic
//! use matgrad::grad;
//! use nalgebra::DMatrix;
//!
//! #[grad(wrt = w)]
//! fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
//!     (x * w).sum()
//! }
//!
//! // panics with "matgrad: x * w: cannot multiply 3×4 by 5×2"
//! let _ = loss_grad(&DMatrix::zeros(3, 4), &DMatrix::zeros(5, 2));
//! ```
#![deny(missing_docs)]

// One nalgebra, chosen by feature as argmin-math does (see Cargo.toml): 0.35 is the
// dependency named `nalgebra`, 0.34 is renamed and aliased here, so that every path
// in the crate says `nalgebra::` whichever it is.
#[cfg(all(feature = "nalgebra_v0_34", not(feature = "nalgebra_v0_35")))]
extern crate nalgebra_0_34 as nalgebra;
#[cfg(all(feature = "nalgebra_v0_34", feature = "nalgebra_v0_35"))]
compile_error!(
    "matgrad: features `nalgebra_v0_34` and `nalgebra_v0_35` are both enabled, and matgrad works on one nalgebra; \
     `nalgebra_latest` (0.35) is a default feature, so for 0.34 write \
     `matgrad = { version = \"0.1\", default-features = false, features = [\"nalgebra_v0_34\"] }`"
);
#[cfg(not(any(feature = "nalgebra_v0_34", feature = "nalgebra_v0_35")))]
compile_error!(
    "matgrad: no nalgebra version selected; enable one of the features `nalgebra_latest` (the default, 0.35), \
     `nalgebra_v0_35` or `nalgebra_v0_34`"
);

/// Derives the gradient of a nalgebra loss function at compile time.
///
/// `#[grad(wrt = w)]` or `#[grad(wrt = (a, b, c))]` on a function returning `f64`
/// (or `f32`) keeps the function unchanged and adds, with the same visibility and
/// parameters, `NAME_grad` (the value and one gradient per `wrt` variable, in the
/// order written) and `NAME_grad_into` (the same into caller buffers and a
/// [`Workspace`]). `wrt` is the only key; each name must be a parameter, listed once.
///
/// Each gradient has the shape of its variable (entry `(i, j)` is `∂f/∂X_ij`). See
/// the [crate documentation](crate) for the language accepted in the body.
///
/// ```
/// use matgrad::grad;
/// use nalgebra::DVector;
///
/// #[grad(wrt = x)]
/// fn f(x: &DVector<f64>) -> f64 {
///     x.dot(&x)
/// }
///
/// let x = DVector::from_vec(vec![1.0, -2.0, 3.0]);
/// let (value, dx) = f_grad(&x);
/// assert_eq!((value, dx), (14.0, 2.0 * &x)); // ∂(xᵀx)/∂x = 2x
/// ```
pub use matgrad_macros::grad;

/// Makes a helper function callable from `#[grad]` bodies (and from other helpers),
/// where it is inlined: differentiated as if its body were written at the call, so a
/// network written with a `dense` helper costs what the same network written inline
/// costs. The helper stays an ordinary function.
///
/// ```
/// use matgrad::{differentiable, grad};
/// use nalgebra::{DMatrix, RowDVector};
///
/// /// One fully connected tanh layer.
/// #[differentiable]
/// fn dense(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
///     matgrad::add_row(&(x * w), b).map(|v| v.tanh())
/// }
///
/// #[grad(wrt = (w1, w2))]
/// fn net(x: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>, w2: &DMatrix<f64>,
///        b2: &RowDVector<f64>, y: &DMatrix<f64>) -> f64 {
///     let h = dense(x, w1, b1);
///     (dense(&h, w2, b2) - y).norm_squared()
/// }
///
/// let x = DMatrix::from_fn(4, 3, |i, j| (i as f64 - j as f64) / 4.0);
/// let (w1, b1) = (DMatrix::from_element(3, 5, 0.1), RowDVector::from_element(5, 0.0));
/// let (w2, b2) = (DMatrix::from_element(5, 2, 0.2), RowDVector::from_element(2, 0.1));
/// let y = DMatrix::from_element(4, 2, 0.5);
/// let (value, g1, g2) = net_grad(&x, &w1, &b1, &w2, &b2, &y);
/// assert_eq!((value, g1.shape(), g2.shape()), (net(&x, &w1, &b1, &w2, &b2, &y), (3, 5), (5, 2)));
/// ```
///
/// How: `#[differentiable]` writes, beside the helper, a hidden `macro_rules!` of the
/// same name (re-exported within the crate, so `use layers::dense;` imports it with
/// the function) that hands the helper's tokens to the `#[grad]` expansion that asks
/// for them. Limits: a helper is visible within its crate; it is called by a path
/// that resolves where the `#[grad]` function is (`dense(..)`, `layers::dense(..)`),
/// also when one helper calls another; a `usize` parameter takes a count; a helper's
/// body may use `x.nrows()` of a parameter when the caller passes one of its own
/// parameters there; recursion is an error. Calling a function that is not marked
/// `#[differentiable]` is rustc's error "cannot find macro `f`" at the call.
pub use matgrad_macros::differentiable;

/// Registers the user's adjoint of a scalar function, so that `#[grad]` bodies can
/// call a function matgrad cannot see into (a special function, an external
/// routine), as Swift's `@derivative(of:)` and JAX's `custom_vjp` do.
///
/// `#[custom_adjoint(f_adjoint)] fn f(a: T, b: T, …) -> T` says that for an adjoint
/// ḡ of `f`'s value, `f_adjoint(a, b, …, ḡ)` returns the adjoints of the arguments:
/// `ā` alone for one argument, a tuple `(ā, b̄, …)` for several (ḡ ∂f/∂a, …).
/// Calls of `f` in a `#[grad]` body, on scalars or in `map`/`zip_map` closures, call
/// `f` for the value and `f_adjoint` for the gradient; matgrad reads neither body.
///
/// ```
/// use matgrad::{custom_adjoint, grad};
/// use nalgebra::DMatrix;
///
/// /// log(1 + eˣ), computed by a routine matgrad does not read.
/// #[custom_adjoint(softplus_adjoint)]
/// fn softplus1(x: f64) -> f64 {
///     if x > 30.0 { x } else { x.exp().ln_1p() }
/// }
///
/// /// ḡ · σ(x).
/// fn softplus_adjoint(x: f64, g: f64) -> f64 {
///     g / (1.0 + (-x).exp())
/// }
///
/// #[grad(wrt = w)]
/// fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
///     (x * w).map(|v| softplus1(v)).sum()
/// }
///
/// let x = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, -1.0, 0.5]);
/// let w = DMatrix::from_element(2, 1, 0.3);
/// let (_, g) = loss_grad(&x, &w);
/// let sigma = (&x * &w).map(|v| 1.0 / (1.0 + (-v).exp()));
/// assert!((g - x.transpose() * sigma).norm() < 1e-12);
/// ```
///
/// The adjoint is named by a path that resolves where the `#[grad]` function is (an
/// identifier beside a function called by path, `special::j0`, is looked up by the
/// same path). Scalar functions only: apply one to a matrix with `map`. Second
/// derivatives of such a function are not available.
pub use matgrad_macros::custom_adjoint;

/// Derives the Jacobian of a function returning a vector of residuals, for least
/// squares (Gauss–Newton, Levenberg–Marquardt).
///
/// `#[jacobian(wrt = p)]` (or `wrt = (a, b)`) on `fn r(..) -> DVector<T>` (or a
/// static `SVector<T, M>`, `Vector3<T>`, …) adds `r_jacobian(..) -> (r, J_p, …)`
/// and `r_jacobian_into(.., &mut r, &mut j_p, …, &mut ws)`, with
/// `J[(i, k)] = ∂r_i / ∂vec(p)_k`: one row per residual, the variable's entries in
/// column-major order. `J` is a `DMatrix<T>`, or an `SMatrix<T, M, N>` when the
/// result and the variable are both static (a scalar variable has one column). The
/// body is the language of `#[grad]`.
///
/// ```
/// use matgrad::jacobian;
/// use nalgebra::{DMatrix, DVector};
///
/// /// Residuals of the model y ≈ a e^{b t}.
/// #[jacobian(wrt = p)]
/// fn residual(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
///     let (a, b) = (p[0], p[1]);
///     t.map(|v| a * (b * v).exp()) - y
/// }
///
/// let (p, t) = (DVector::from_vec(vec![2.0, -0.5]), DVector::from_vec(vec![0.0, 1.0, 2.0]));
/// let y = DVector::from_vec(vec![2.0, 1.2, 0.8]);
/// let (r, j) = residual_jacobian(&p, &t, &y);
/// assert_eq!(r, residual(&p, &t, &y));
/// // ∂r_i/∂a = e^{b t_i}, ∂r_i/∂b = a t_i e^{b t_i}
/// let want = DMatrix::from_fn(3, 2, |i, k| {
///     let e = (p[1] * t[i]).exp();
///     if k == 0 { e } else { p[0] * t[i] * e }
/// });
/// assert!((j - want).norm() < 1e-12);
/// ```
///
/// How: forward mode (per entry k of the variables, the residuals' tangent along
/// e_k is column k of `J`) or reverse mode (per residual i, the gradient of
/// `⟨r, s⟩` at the seed `s = e_i` is row i), whichever the cost model finds cheaper
/// for the shapes: decided at expansion for static sizes, at each call from the
/// shapes otherwise (here forward: 2 sweeps for 3 residuals). The values, and the
/// parts of the tangents that do not depend on the direction, are computed once.
/// The companions' docs say which mode, with its costs and the Jacobian's formula
/// (`J_p v_p`, `J_pᵀ s`). `_jacobian_into` keeps its buffers in the workspace and
/// allocates nothing once the shapes are steady. A body calling `#[differentiable]`
/// helpers is derived in reverse mode through `#[grad]` on a hidden seeded function.
pub use matgrad_macros::jacobian;

/// `#[jacobian]` in forward mode whatever the costs. Not part of the API.
#[doc(hidden)]
pub use matgrad_macros::jacobian_forward as __jacobian_forward;
/// `#[jacobian]` with `reassociate` forced on. Not part of the API.
#[doc(hidden)]
pub use matgrad_macros::jacobian_reassociated as __jacobian_reassociated;
/// `#[jacobian]` in reverse mode whatever the costs. Not part of the API.
#[doc(hidden)]
pub use matgrad_macros::jacobian_reverse as __jacobian_reverse;

/// Continues a `#[grad]` expansion with a helper's tokens. Not part of the API.
#[doc(hidden)]
pub use matgrad_macros::__grad_continue;

/// `#[grad]` with `reassociate` forced on: matgrad's test suites import it as `grad`
/// to run their finite-difference checks with the value rewrites on. Not part of the
/// API.
#[doc(hidden)]
pub use matgrad_macros::grad_reassociated as __grad_reassociated;

pub use matgrad_runtime::{
    add_col, add_row, gemm_nn, gemm_nt, gemm_tn, gemm_tt, ln_det, log_sum_exp, relu, sigmoid,
    softmax_cross_entropy, softplus, Real, Workspace,
};

#[doc(hidden)]
pub use matgrad_runtime::__private;

#[cfg(feature = "argmin")]
pub mod argmin;

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

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

//! [argmin](https://argmin-rs.org) problems from `#[grad]` functions (feature `argmin`).
//!
//! argmin asks a problem for the cost and the gradient in separate calls,
//! [`CostFunction::cost`] and [`Gradient::gradient`], often at the same point (a line
//! search that accepts a step needs the gradient where it just evaluated the cost).
//! A generated `NAME_grad_into` computes both at once, so [`Problem`] keeps the last
//! point with its value and gradient: each distinct point costs one `_grad_into` call,
//! whichever of `cost` and `gradient` argmin asks for first, and however often.
//!
//! The parameter type `P` is argmin's: anything the solver accepts (through
//! argmin-math) that is `Clone + PartialEq`, usually `Vec<f64>`. argmin-math 0.5
//! implements its traits for nalgebra 0.34 only, not 0.35; with matgrad's
//! `nalgebra_v0_34` feature (which turns on argmin-math's), `DVector<f64>` can be the
//! parameter itself, and a loss with one `wrt` vector then reads argmin's parameter
//! and writes argmin's gradient with no copy.
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::linesearch::MoreThuenteLineSearch;
//! use argmin::solver::quasinewton::LBFGS;
//! use matgrad::grad;
//! use nalgebra::{DMatrix, DVector};
//!
//! /// Least squares ‖a x − y‖².
//! #[grad(wrt = x)]
//! fn loss(a: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
//!     (a * x - y).norm_squared()
//! }
//!
//! let a = DMatrix::from_fn(5, 3, |i, j| 1.0 / (1 + i + j) as f64);
//! let y = DVector::from_fn(5, |i, _| i as f64);
//! let (a_data, y_data) = (a.clone(), y.clone());
//! // The data lives in the closure; `x` and `dx` are reused at every point.
//! let (mut x, mut dx) = (DVector::zeros(3), DVector::zeros(3));
//! let problem = matgrad::argmin::Problem::new(move |p: &Vec<f64>, g: &mut Vec<f64>, ws| {
//!     x.copy_from_slice(p);
//!     let value = loss_grad_into(&a_data, &x, &y_data, &mut dx, ws);
//!     g.copy_from_slice(dx.as_slice());
//!     value
//! });
//! let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
//! let res = Executor::new(problem, solver)
//!     .configure(|state| state.param(vec![0.0; 3]).max_iters(100))
//!     .run()?;
//! let state = res.state();
//! // the residual of the least-squares solution
//! let exact = a.clone().svd(true, true).solve(&y, 1e-14).unwrap();
//! let best = (&a * exact - &y).norm_squared();
//! assert!((state.get_best_cost() - best).abs() < 1e-9, "{} vs {best}", state.get_best_cost());
//! // One `loss_grad_into` per point, where argmin asked for more cost and gradient calls.
//! let evaluations = res.problem.problem.as_ref().unwrap().evaluations();
//! let asked = res.problem.counts["cost_count"] + res.problem.counts["gradient_count"];
//! assert!(evaluations < asked, "{evaluations} evaluations for {asked} calls");
//! # Ok::<(), argmin::core::Error>(())
//! ```
//!
//! # Several `wrt` variables
//!
//! argmin optimises one parameter vector. Pack the variables one after the other,
//! each in nalgebra's column-major order, and copy them in and the gradients out
//! with [`unpack`] and [`pack`] (a copy of the parameters per point, negligible next to
//! the gradient itself; the buffers live in the closure, so nothing is allocated):
//!
//! ```
//! use matgrad::argmin::{pack, unpack, Problem};
//! use matgrad::grad;
//! use nalgebra::{DMatrix, DVector};
//!
//! #[grad(wrt = (w, b))]
//! fn loss(x: &DMatrix<f64>, w: &DVector<f64>, b: f64, y: &DVector<f64>) -> f64 {
//!     ((x * w).add_scalar(b) - y).norm_squared()
//! }
//!
//! let x = DMatrix::from_fn(4, 2, |i, j| (i * j) as f64);
//! let y = DVector::from_element(4, 1.0);
//! let (mut w, mut dw) = (DVector::zeros(2), DVector::zeros(2));
//! let (mut b, mut db) = (0.0, 0.0);
//! let problem = Problem::new(move |p: &Vec<f64>, g: &mut Vec<f64>, ws| {
//!     // p = [w₀, w₁, b]
//!     unpack(p, &mut [w.as_mut_slice(), std::slice::from_mut(&mut b)]);
//!     let value = loss_grad_into(&x, &w, b, &y, &mut dw, &mut db, ws);
//!     pack(&[dw.as_slice(), std::slice::from_ref(&db)], g);
//!     value
//! });
//! let (value, gradient) = problem.value_and_gradient(&vec![0.0, 0.0, 0.0])?;
//! assert_eq!((value, gradient), (4.0, vec![0.0, -12.0, -8.0])); // 2 xᵀ(x w + b − y), 2 Σ(x w + b − y)
//! # Ok::<(), argmin::core::Error>(())
//! ```
//!
//! # Conventions
//!
//! [`Problem`] implements argmin's [`CostFunction`] and [`Gradient`] with
//! `Output = T` and `Gradient = P`, and returns argmin's [`Error`]; run it with
//! argmin's `Executor`, with any observer (argmin counts the `cost` and `gradient`
//! calls in `res.problem.counts`; [`Problem::evaluations`] counts the `_grad_into`
//! calls). The problem is `Send + Sync` (the cache is behind a mutex), so argmin's
//! `rayon` feature can call it from several threads, one evaluation at a time.
//!
//! # Second order: Newton-CG on Hessian-vector products
//!
//! With `#[grad(wrt = w, hvp)]`, [`Problem::with_hvp`] adds a second closure, a call
//! of the generated `NAME_hvp_into`, and the problem implements argmin's [`Hessian`]:
//! [`hessian`](Hessian::hessian) at a point computes nothing and returns a
//! [`HessianOperator`], which holds the point and applies the Hessian there to a
//! direction with one `_hvp_into` call ([`ArgminDot`], which argmin's `NewtonCG`
//! asks of its Hessian type, and [`Operator`]). No Hessian is ever formed: each
//! conjugate-gradient step of Newton-CG costs one Hessian-vector product (1.6 to 3.4
//! gradients on the README's benchmark workloads).
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::linesearch::MoreThuenteLineSearch;
//! use argmin::solver::newton::NewtonCG;
//! use matgrad::argmin::Problem;
//! use matgrad::{grad, softplus};
//! use nalgebra::{DMatrix, DVector};
//!
//! /// Logistic regression (labels y ∈ {0, 1}) with a ridge penalty.
//! #[grad(wrt = w, hvp)]
//! fn loss(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
//!     softplus(&(x * w)).sum() - y.dot(&(x * w)) + 0.5 * w.norm_squared()
//! }
//!
//! let x = DMatrix::from_fn(30, 3, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
//! let y = DVector::from_fn(30, |i, _| f64::from(x[(i, 0)] + 0.3 * x[(i, 2)] > (i % 3) as f64 / 4.0));
//! let n = x.ncols();
//! // The closures borrow the data; each owns the nalgebra buffers it copies argmin's
//! // `Vec`s into and out of (on nalgebra 0.35; see "Several `wrt` variables").
//! let (mut w, mut dw) = (DVector::zeros(n), DVector::zeros(n));
//! let (mut w2, mut v, mut dw2, mut hv) = (w.clone(), w.clone(), w.clone(), w.clone());
//! let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, ws| {
//!     w.copy_from_slice(p);
//!     let value = loss_grad_into(&x, &w, &y, &mut dw, ws);
//!     g.copy_from_slice(dw.as_slice());
//!     value
//! })
//! .with_hvp(|p: &Vec<f64>, d: &Vec<f64>, g: &mut Vec<f64>, h: &mut Vec<f64>, ws| {
//!     (w2.copy_from_slice(p), v.copy_from_slice(d));
//!     let value = loss_hvp_into(&x, &w2, &y, &v, &mut dw2, &mut hv, ws);
//!     (g.copy_from_slice(dw2.as_slice()), h.copy_from_slice(hv.as_slice()));
//!     value
//! });
//! let res = Executor::new(problem, NewtonCG::new(MoreThuenteLineSearch::new()))
//!     .configure(|state| state.param(vec![0.0; n]).max_iters(20))
//!     .run()?;
//! let best = res.state().get_best_param().unwrap();
//! let problem = res.problem.problem.as_ref().unwrap();
//! let (_, gradient) = problem.value_and_gradient(best)?;
//! assert!(gradient.iter().all(|g| g.abs() < 1e-6), "a stationary point: {gradient:?}");
//! assert!(problem.hessian_evaluations() > 0); // the Hessian-vector products
//! # Ok::<(), argmin::core::Error>(())
//! ```
//!
//! **What is computed once.** A generated `_hvp_into` returns the value and the
//! gradient with the product (it computes them on the way), so one call at a point
//! answers `cost`, `gradient` and one product there; but it has no entry point that
//! takes the value and gradient of an earlier call, so every product recomputes them
//! (the part of its work that does not depend on the direction), and a `_grad_into`
//! call stays the cheapest way to the gradient alone. Hence:
//!
//! - `cost` and `gradient` are answered as in the first-order problem, from one
//!   `_grad_into` call per point; a product at a point the problem does not hold
//!   fills that cache too (its value and gradient answer `cost` and `gradient` there,
//!   with no `_grad_into` call);
//! - [`hessian`](Hessian::hessian) calls nothing: it clones the point into the
//!   operator;
//! - the operator keeps its last direction and product: argmin's Newton-CG applies it
//!   twice to each conjugate-gradient direction (once in CG, once in its curvature
//!   test), which is one `_hvp_into` call; and the zero direction, which CG's
//!   initialisation applies it to, is answered with zero, no call (the Hessian is
//!   linear).
//!
//! So a Newton-CG iteration costs the line search's `_grad_into` calls (the gradient
//! at the new point is the line search's last one) plus one `_hvp_into` per CG step;
//! [`Problem::evaluations`] and [`Problem::hessian_evaluations`] count both.
//!
//! **argmin's Newton-CG converges linearly.** argmin 0.11 stops the inner conjugate
//! gradients when the *squared* residual norm is below min(½, √‖g‖)·‖g‖ (its CG
//! reports ‖r‖² as the cost): for small ‖g‖ that asks ‖r‖ ≤ ‖g‖^¾ where ‖g‖^³ᐟ² was
//! meant. On the breast-cancer logistic regression of `examples/argmin_newton.rs` it
//! holds after the first CG step at every iteration: each iteration is one product
//! and a line search, a scaled steepest descent (101 iterations of one product each,
//! against L-BFGS's 21). The operator also serves argmin's
//! `ConjugateGradient` (it is an [`Operator`]), and that example writes Newton-CG out
//! in a few lines with the textbook tolerance ‖r‖ ≤ min(½, √‖g‖)·‖g‖: 8 iterations,
//! 29 products.
//!
//! With several `wrt` variables the direction and the products are packed like the
//! parameters, with [`unpack`] and [`pack`]. With nalgebra 0.34 (matgrad's
//! `nalgebra_v0_34`) and `DVector<f64>` as the parameter, both closures are one
//! line, with no copies (`tests/argmin.rs` runs this on 0.34; the doctests here are
//! built on 0.35):
//!
//! ```ignore
//! let problem = Problem::new(|w: &DVector<f64>, g: &mut DVector<f64>, ws| loss_grad_into(&x, w, &y, g, ws))
//!     .with_hvp(|w: &DVector<f64>, v: &DVector<f64>, g: &mut DVector<f64>, h: &mut DVector<f64>, ws| {
//!         loss_hvp_into(&x, w, &y, v, g, h, ws)
//!     });
//! ```
//!
//! # Second order: a dense Hessian
//!
//! With `#[grad(wrt = w, hessian)]`, [`Problem::with_hessian`] takes a closure
//! returning `NAME_hessian`'s `(value, gradient, Hessian)` with the Hessian in the
//! type the solver wants, and [`hessian`](Hessian::hessian) returns it (the value and
//! gradient fill the cache if the problem does not hold the point). argmin's `Newton`
//! needs a Hessian it can invert (`ArgminInv`): with nalgebra 0.34, `DMatrix<f64>`
//! beside a `DVector<f64>` parameter, where the closure is
//! `|w: &DVector<f64>| loss_hessian(&x, w, &y)`. argmin-math has no inverse for
//! `Vec<Vec<f64>>`, so on nalgebra 0.35 a dense Hessian serves Newton-CG only
//! (`Vec<Vec<f64>>`, row by row), where the operator is the better choice.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ::argmin::core::{CostFunction, Error, Gradient, Hessian, Operator};
use ::argmin_math::{ArgminDot, ArgminZeroLike};

use crate::{Real, Workspace};

/// An argmin problem from a closure that writes the gradient at a point into a buffer
/// and returns the value there (a call of a generated `NAME_grad_into`).
///
/// The closure is called once per distinct point: [`cost`](CostFunction::cost) and
/// [`gradient`](Gradient::gradient) at the point last evaluated (compared with
/// `PartialEq`) return the stored value and a clone of the stored gradient. The
/// closure receives the point, the gradient buffer (a clone of the first point at the
/// first call, then the previous gradient; overwrite all of it) and the problem's
/// [`Workspace`].
///
/// The last type parameter says what second-order information the problem has:
/// none ([`FirstOrder`], from [`Problem::new`]), Hessian-vector products
/// ([`Hvp`], from [`Problem::with_hvp`]) or a dense Hessian ([`DenseHessian`], from
/// [`Problem::with_hessian`]); with either of the last two it implements argmin's
/// [`Hessian`] (see [the module docs](self#second-order-newton-cg-on-hessian-vector-products)).
///
/// ```
/// use argmin::core::{CostFunction, Gradient};
/// use matgrad::argmin::Problem;
///
/// // f(p) = Σ pᵢ², ∇f = 2p, written by hand here (a `_grad_into` call in practice)
/// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, _ws| {
///     g.iter_mut().zip(p).for_each(|(g, p)| *g = 2.0 * p);
///     p.iter().map(|p| p * p).sum::<f64>()
/// });
/// let p = vec![1.0, -2.0];
/// assert_eq!(problem.cost(&p)?, 5.0);
/// assert_eq!(problem.gradient(&p)?, vec![2.0, -4.0]); // the same point: no new call
/// assert_eq!(problem.evaluations(), 1);
/// # Ok::<(), argmin::core::Error>(())
/// ```
pub struct Problem<P, F, T = f64, S = FirstOrder> {
    /// Shared with the [`HessianOperator`]s of a problem with [`Hvp`].
    inner: Shared<P, F, T, S>,
}

/// A problem's state, shared by the problem and its Hessian operators.
type Shared<P, F, T, S> = Arc<Mutex<Inner<P, F, T, S>>>;

/// The second-order part of a [`Problem`] made by [`Problem::new`]: none (argmin's
/// first-order solvers: L-BFGS, BFGS, nonlinear CG, steepest descent, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstOrder;

/// The second-order part of a [`Problem`] made by [`Problem::with_hvp`]: the closure
/// computing a Hessian-vector product (a call of a generated `NAME_hvp_into`).
pub struct Hvp<H>(H);

/// The second-order part of a [`Problem`] made by [`Problem::with_hessian`]: the
/// closure computing the value, the gradient and the dense Hessian (from a generated
/// `NAME_hessian`).
pub struct DenseHessian<D>(D);

/// The closures, their workspaces, and the last point evaluated.
struct Inner<P, F, T, S> {
    f: F,
    ws: Workspace<T>,
    /// The last point evaluated (its allocation is reused for the next one).
    point: Option<P>,
    /// `point`, `value` and `gradient` belong together (false while a closure writing
    /// them runs, so a panic in it leaves no stale pairing behind).
    valid: bool,
    value: T,
    /// The gradient at `point`, and the buffer of the next evaluation.
    gradient: Option<P>,
    /// Calls of `f`.
    evaluations: u64,
    /// The second-order closure, if any.
    second: S,
    /// The workspace of an [`Hvp`] closure (its slots are not `f`'s).
    second_ws: Workspace<T>,
    /// Where a Hessian-vector product at the stored point writes its gradient, which
    /// the cache has already.
    scratch: Option<P>,
    /// Calls of the second-order closure.
    second_evaluations: u64,
}

impl<P: PartialEq + Clone, F, T, S> Inner<P, F, T, S> {
    /// True if `value` and `gradient` are those at `x`.
    fn holds(&self, x: &P) -> bool {
        self.valid && self.point.as_ref() == Some(x)
    }

    /// Records `x` as the point of `value` and `gradient`, reusing the allocation.
    fn set_point(&mut self, x: &P) {
        match &mut self.point {
            Some(point) => point.clone_from(x),
            None => self.point = Some(x.clone()),
        }
        self.valid = true;
    }

    /// The same problem with another second-order part.
    fn with_second<S2>(self, second: S2) -> Inner<P, F, T, S2> {
        Inner {
            f: self.f,
            ws: self.ws,
            point: self.point,
            valid: self.valid,
            value: self.value,
            gradient: self.gradient,
            evaluations: self.evaluations,
            second,
            second_ws: self.second_ws,
            scratch: self.scratch,
            second_evaluations: self.second_evaluations,
        }
    }
}

/// The error of every call after a closure of the problem panicked.
fn poisoned() -> Error {
    Error::msg("matgrad::argmin::Problem: an earlier evaluation panicked")
}

impl<P, F, T> Problem<P, F, T>
where
    P: Clone + PartialEq,
    T: Real,
    F: FnMut(&P, &mut P, &mut Workspace<T>) -> T,
{
    /// A problem evaluating `f(point, gradient, workspace) -> value`.
    ///
    /// ```
    /// use matgrad::argmin::Problem;
    /// use matgrad::grad;
    /// use nalgebra::DVector;
    ///
    /// #[grad(wrt = x)]
    /// fn f(x: &DVector<f64>) -> f64 {
    ///     x.norm_squared()
    /// }
    ///
    /// let (mut x, mut dx) = (DVector::zeros(2), DVector::zeros(2));
    /// let problem = Problem::new(move |p: &Vec<f64>, g: &mut Vec<f64>, ws| {
    ///     x.copy_from_slice(p);
    ///     let value = f_grad_into(&x, &mut dx, ws);
    ///     g.copy_from_slice(dx.as_slice());
    ///     value
    /// });
    /// assert_eq!(problem.value_and_gradient(&vec![3.0, 4.0])?, (25.0, vec![6.0, 8.0]));
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn new(f: F) -> Self {
        Problem {
            inner: Arc::new(Mutex::new(Inner {
                f,
                ws: Workspace::new(),
                point: None,
                valid: false,
                value: T::zero(),
                gradient: None,
                evaluations: 0,
                second: FirstOrder,
                second_ws: Workspace::new(),
                scratch: None,
                second_evaluations: 0,
            })),
        }
    }

    /// The problem with Hessian-vector products from
    /// `hvp(point, direction, gradient, product, workspace) -> value` (a call of a
    /// generated `NAME_hvp_into`, which writes the gradient and the product into the
    /// buffers and returns the value): argmin's [`Hessian`] as a
    /// [`HessianOperator`], for `NewtonCG`. The buffers are a clone of the point
    /// (gradient) and of the direction (product) at the first call, then the previous
    /// ones; overwrite all of them. The closure has its own [`Workspace`].
    ///
    /// ```
    /// use argmin::core::{CostFunction, Hessian};
    /// use argmin_math::ArgminDot;
    /// use matgrad::argmin::Problem;
    ///
    /// // f(p) = p₀² p₁, by hand here (`_grad_into` and `_hvp_into` calls in practice)
    /// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, _ws| {
    ///     *g = vec![2.0 * p[0] * p[1], p[0] * p[0]];
    ///     p[0] * p[0] * p[1]
    /// })
    /// .with_hvp(|p: &Vec<f64>, v: &Vec<f64>, g: &mut Vec<f64>, h: &mut Vec<f64>, _ws| {
    ///     *g = vec![2.0 * p[0] * p[1], p[0] * p[0]];
    ///     // ∇²f = [[2 p₁, 2 p₀], [2 p₀, 0]]
    ///     *h = vec![2.0 * p[1] * v[0] + 2.0 * p[0] * v[1], 2.0 * p[0] * v[0]];
    ///     p[0] * p[0] * p[1]
    /// });
    /// let p = vec![1.0, 3.0];
    /// let hessian = problem.hessian(&p)?; // no call yet
    /// assert_eq!(hessian.dot(&vec![1.0, 0.0]), vec![6.0, 2.0]);
    /// assert_eq!(hessian.dot(&vec![0.0, 1.0]), vec![2.0, 0.0]);
    /// assert_eq!(problem.hessian_evaluations(), 2);
    /// // The products' calls computed the value and the gradient at p too.
    /// assert_eq!((problem.cost(&p)?, problem.evaluations()), (3.0, 0));
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn with_hvp<H>(self, hvp: H) -> Problem<P, F, T, Hvp<H>>
    where
        H: FnMut(&P, &P, &mut P, &mut P, &mut Workspace<T>) -> T,
    {
        Problem {
            inner: Arc::new(Mutex::new(self.into_inner().with_second(Hvp(hvp)))),
        }
    }

    /// The problem with a dense Hessian from `hessian(point) -> (value, gradient,
    /// Hessian)` (a call of a generated `NAME_hessian`, the Hessian converted to the
    /// type the solver wants): argmin's [`Hessian`], for `Newton` (with nalgebra
    /// 0.34's `DMatrix<f64>`, which argmin-math can invert) or `NewtonCG`. The value
    /// and the gradient fill the cache of `cost` and `gradient` when the problem does
    /// not hold the point already.
    ///
    /// ```
    /// use argmin::core::{Gradient, Hessian};
    /// use matgrad::argmin::Problem;
    /// use matgrad::grad;
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// #[grad(wrt = x, hessian)]
    /// fn f(a: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    ///     (a * x).norm_squared() + x.map(|v| v.exp()).sum()
    /// }
    ///
    /// let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 0.0, 1.0]);
    /// let (mut x, mut dx) = (DVector::zeros(2), DVector::zeros(2));
    /// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, ws| {
    ///     x.copy_from_slice(p);
    ///     let value = f_grad_into(&a, &x, &mut dx, ws);
    ///     g.copy_from_slice(dx.as_slice());
    ///     value
    /// })
    /// .with_hessian(|p: &Vec<f64>| {
    ///     let (value, g, h) = f_hessian(&a, &DVector::from_column_slice(p));
    ///     let rows = h.row_iter().map(|row| row.iter().copied().collect()).collect();
    ///     (value, g.as_slice().to_vec(), rows) // Vec<Vec<f64>>, row by row
    /// });
    /// let h: Vec<Vec<f64>> = problem.hessian(&vec![0.0, 0.0])?;
    /// assert_eq!(h, [[3.0, 4.0], [4.0, 11.0]]); // 2 aᵀa + diag(eˣ)
    /// assert_eq!(problem.gradient(&vec![0.0, 0.0])?, [1.0, 1.0]); // from the same call
    /// assert_eq!((problem.evaluations(), problem.hessian_evaluations()), (0, 1));
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn with_hessian<D, M>(self, hessian: D) -> Problem<P, F, T, DenseHessian<D>>
    where
        D: FnMut(&P) -> (T, P, M),
    {
        Problem {
            inner: Arc::new(Mutex::new(
                self.into_inner().with_second(DenseHessian(hessian)),
            )),
        }
    }

    /// The state of a first-order problem (whose `Arc` nothing else holds: only the
    /// operators of a problem with [`Hvp`] share it).
    fn into_inner(self) -> Inner<P, F, T, FirstOrder> {
        Arc::into_inner(self.inner)
            .expect("a first-order problem's state has one owner")
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P, F, T, S> Problem<P, F, T, S>
where
    P: Clone + PartialEq,
    T: Real,
    F: FnMut(&P, &mut P, &mut Workspace<T>) -> T,
{
    /// The number of calls of the first closure (the `_grad_into` call) so far: one
    /// per distinct point asked for, except points whose value and gradient came from
    /// a second-order call.
    ///
    /// ```
    /// use argmin::core::{CostFunction, Gradient};
    /// use matgrad::argmin::Problem;
    ///
    /// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, _ws| {
    ///     g[0] = 1.0;
    ///     p[0]
    /// });
    /// for x in [1.0, 1.0, 2.0] {
    ///     problem.gradient(&vec![x])?;
    ///     problem.cost(&vec![x])?;
    /// }
    /// assert_eq!(problem.evaluations(), 2); // at 1 and at 2
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn evaluations(&self) -> u64 {
        self.read(|inner| inner.evaluations)
    }

    /// The number of calls of the second-order closure so far: Hessian-vector
    /// products ([`Problem::with_hvp`]) or dense Hessians ([`Problem::with_hessian`]);
    /// 0 for a first-order problem.
    ///
    /// ```
    /// use argmin::core::Hessian;
    /// use argmin_math::ArgminDot;
    /// use matgrad::argmin::Problem;
    ///
    /// // f(p) = p₀², by hand
    /// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, _ws| {
    ///     g[0] = 2.0 * p[0];
    ///     p[0] * p[0]
    /// })
    /// .with_hvp(|p: &Vec<f64>, v: &Vec<f64>, g: &mut Vec<f64>, h: &mut Vec<f64>, _ws| {
    ///     (g[0], h[0]) = (2.0 * p[0], 2.0 * v[0]);
    ///     p[0] * p[0]
    /// });
    /// let hessian = problem.hessian(&vec![1.0])?;
    /// for v in [1.0, 1.0, 0.0, 2.0] {
    ///     assert_eq!(hessian.dot(&vec![v]), vec![2.0 * v]);
    /// }
    /// // The repeated direction is remembered, and the zero direction needs no call.
    /// assert_eq!(problem.hessian_evaluations(), 2);
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn hessian_evaluations(&self) -> u64 {
        self.read(|inner| inner.second_evaluations)
    }

    /// The value and the gradient at `param`, from one call of the closure (none if
    /// `param` is the point last evaluated). An error only if an earlier call of a
    /// closure panicked while holding the problem.
    ///
    /// ```
    /// use matgrad::argmin::Problem;
    ///
    /// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, _ws| {
    ///     g[0] = 3.0 * p[0] * p[0];
    ///     p[0] * p[0] * p[0]
    /// });
    /// assert_eq!(problem.value_and_gradient(&vec![2.0])?, (8.0, vec![12.0]));
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn value_and_gradient(&self, param: &P) -> Result<(T, P), Error> {
        self.at(param, |value, gradient| (value, gradient.clone()))
    }

    /// Evaluates at `param` unless it is the stored point, then reads the value and
    /// the gradient there.
    fn at<R>(&self, param: &P, read: impl FnOnce(T, &P) -> R) -> Result<R, Error> {
        let mut guard = self.lock()?;
        let inner = &mut *guard;
        if !inner.holds(param) {
            inner.valid = false;
            let gradient = inner.gradient.get_or_insert_with(|| param.clone());
            inner.value = (inner.f)(param, gradient, &mut inner.ws);
            inner.set_point(param);
            inner.evaluations += 1;
        }
        let gradient = inner.gradient.as_ref().expect("set by the evaluation");
        Ok(read(inner.value, gradient))
    }
}

impl<P, F, T, S> Problem<P, F, T, S> {
    /// The state, or argmin's error if a closure panicked while holding it.
    fn lock(&self) -> Result<MutexGuard<'_, Inner<P, F, T, S>>, Error> {
        self.inner.lock().map_err(|_| poisoned())
    }

    /// Reads the state even after a panic (for the counters).
    fn read<R>(&self, read: impl FnOnce(&Inner<P, F, T, S>) -> R) -> R {
        read(&self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<P, F, T, S> CostFunction for Problem<P, F, T, S>
where
    P: Clone + PartialEq,
    T: Real,
    F: FnMut(&P, &mut P, &mut Workspace<T>) -> T,
{
    type Param = P;
    type Output = T;

    /// The value at `param` (stored with the gradient; see [`Problem`]).
    fn cost(&self, param: &P) -> Result<T, Error> {
        self.at(param, |value, _| value)
    }
}

impl<P, F, T, S> Gradient for Problem<P, F, T, S>
where
    P: Clone + PartialEq,
    T: Real,
    F: FnMut(&P, &mut P, &mut Workspace<T>) -> T,
{
    type Param = P;
    type Gradient = P;

    /// The gradient at `param` (stored with the value; see [`Problem`]).
    fn gradient(&self, param: &P) -> Result<P, Error> {
        self.at(param, |_, gradient| gradient.clone())
    }
}

impl<P, F, T, H> Hessian for Problem<P, F, T, Hvp<H>>
where
    P: Clone + PartialEq,
    T: Real,
    H: FnMut(&P, &P, &mut P, &mut P, &mut Workspace<T>) -> T,
{
    type Param = P;
    type Hessian = HessianOperator<P, F, H, T>;

    /// The Hessian at `param` as an operator: no call here, one `_hvp_into` call per
    /// direction it is applied to (see [`HessianOperator`]).
    fn hessian(&self, param: &P) -> Result<HessianOperator<P, F, H, T>, Error> {
        drop(self.lock()?);
        Ok(HessianOperator {
            inner: Arc::clone(&self.inner),
            point: param.clone(),
            memo: Mutex::new(Memo {
                direction: None,
                product: None,
                zero: None,
            }),
        })
    }
}

impl<P, F, T, D, M> Hessian for Problem<P, F, T, DenseHessian<D>>
where
    P: Clone + PartialEq,
    T: Real,
    D: FnMut(&P) -> (T, P, M),
{
    type Param = P;
    type Hessian = M;

    /// The dense Hessian at `param`, from one call of the closure; its value and
    /// gradient answer `cost` and `gradient` at `param` if the problem does not hold
    /// that point already.
    fn hessian(&self, param: &P) -> Result<M, Error> {
        let mut guard = self.lock()?;
        let inner = &mut *guard;
        let (value, gradient, hessian) = (inner.second.0)(param);
        inner.second_evaluations += 1;
        if !inner.holds(param) {
            (inner.value, inner.gradient) = (value, Some(gradient));
            inner.set_point(param);
        }
        Ok(hessian)
    }
}

/// Shows the numbers of evaluations (not the closures or the stored point).
impl<P, F, T, S> fmt::Debug for Problem<P, F, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (evaluations, second) = self.read(|i| (i.evaluations, i.second_evaluations));
        let mut s = f.debug_struct("Problem");
        s.field("evaluations", &evaluations);
        if second > 0 {
            s.field("hessian_evaluations", &second);
        }
        s.finish_non_exhaustive()
    }
}

/// The Hessian of a [`Problem`] with [`Hvp`] at one point, as an operator: argmin's
/// `Hessian` type for `NewtonCG`, which applies it through [`ArgminDot`]
/// (`hessian.dot(&v)` is ∇²f · v); also an argmin [`Operator`], e.g. for argmin's
/// `ConjugateGradient`.
///
/// Each product is one call of the problem's Hessian-vector-product closure at the
/// operator's point, except that the operator remembers its last direction and
/// product (argmin's Newton-CG asks twice for each), and answers the zero direction
/// with zero. The call's value and gradient fill the problem's cache when it does
/// not hold the point. [`ArgminDot::dot`] cannot return an error: it panics where
/// [`Operator::apply`] returns one (after a closure of the problem panicked).
///
/// ```
/// use argmin::core::{Hessian, Operator};
/// use argmin_math::ArgminDot;
/// use matgrad::argmin::Problem;
/// use matgrad::grad;
/// use nalgebra::{DMatrix, DVector};
///
/// #[grad(wrt = x, hvp)]
/// fn f(a: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
///     (a * x).norm_squared()
/// }
///
/// let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 0.0, 1.0]);
/// let (mut x, mut dx) = (DVector::zeros(2), DVector::zeros(2));
/// let (mut x2, mut v, mut dx2, mut hv) = (x.clone(), x.clone(), x.clone(), x.clone());
/// let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, ws| {
///     x.copy_from_slice(p);
///     let value = f_grad_into(&a, &x, &mut dx, ws);
///     g.copy_from_slice(dx.as_slice());
///     value
/// })
/// .with_hvp(|p: &Vec<f64>, d: &Vec<f64>, g: &mut Vec<f64>, h: &mut Vec<f64>, ws| {
///     (x2.copy_from_slice(p), v.copy_from_slice(d));
///     let value = f_hvp_into(&a, &x2, &v, &mut dx2, &mut hv, ws);
///     (g.copy_from_slice(dx2.as_slice()), h.copy_from_slice(hv.as_slice()));
///     value
/// });
/// let hessian = problem.hessian(&vec![1.0, 1.0])?;
/// assert_eq!(hessian.point(), &vec![1.0, 1.0]);
/// assert_eq!(hessian.dot(&vec![1.0, 0.0]), [2.0, 4.0]); // 2 aᵀa e₀
/// assert_eq!(hessian.apply(&vec![0.0, 1.0])?, [4.0, 10.0]);
/// # Ok::<(), argmin::core::Error>(())
/// ```
pub struct HessianOperator<P, F, H, T = f64> {
    inner: Shared<P, F, T, Hvp<H>>,
    point: P,
    memo: Mutex<Memo<P>>,
}

/// A [`HessianOperator`]'s last direction and product, and a zero to compare with.
#[derive(Clone)]
struct Memo<P> {
    /// The last direction, if `product` is its product.
    direction: Option<P>,
    /// The last product, and the buffer of the next.
    product: Option<P>,
    /// The zero of the directions' type, once made.
    zero: Option<P>,
}

impl<P, F, H, T> HessianOperator<P, F, H, T> {
    /// The point where this is the Hessian.
    pub fn point(&self) -> &P {
        &self.point
    }
}

impl<P, F, H, T> Operator for HessianOperator<P, F, H, T>
where
    P: Clone + PartialEq + ArgminZeroLike,
    T: Real,
    H: FnMut(&P, &P, &mut P, &mut P, &mut Workspace<T>) -> T,
{
    type Param = P;
    type Output = P;

    /// ∇²f · `direction` at the operator's point: one call of the problem's
    /// Hessian-vector-product closure, none for the last direction again or for zero.
    /// An error if a closure of the problem panicked earlier.
    fn apply(&self, direction: &P) -> Result<P, Error> {
        // A panic in the closure leaves `direction: None` behind, never a stale pair.
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        let memo = &mut *memo;
        if let (Some(last), Some(product)) = (&memo.direction, &memo.product) {
            if last == direction {
                return Ok(product.clone());
            }
        }
        let zero = memo.zero.get_or_insert_with(|| direction.zero_like());
        if direction == zero {
            return Ok(zero.clone());
        }
        let mut guard = self.inner.lock().map_err(|_| poisoned())?;
        let inner = &mut *guard;
        let product = memo.product.get_or_insert_with(|| direction.clone());
        let last = memo.direction.take();
        let x = &self.point;
        if inner.holds(x) {
            let gradient = inner.scratch.get_or_insert_with(|| x.clone());
            (inner.second.0)(x, direction, gradient, product, &mut inner.second_ws);
        } else {
            inner.valid = false;
            let gradient = inner.gradient.get_or_insert_with(|| x.clone());
            inner.value = (inner.second.0)(x, direction, gradient, product, &mut inner.second_ws);
            inner.set_point(x);
        }
        inner.second_evaluations += 1;
        memo.direction = Some(match last {
            Some(mut last) => {
                last.clone_from(direction);
                last
            }
            None => direction.clone(),
        });
        Ok(product.clone())
    }
}

impl<P, F, H, T> ArgminDot<P, P> for HessianOperator<P, F, H, T>
where
    P: Clone + PartialEq + ArgminZeroLike,
    T: Real,
    H: FnMut(&P, &P, &mut P, &mut P, &mut Workspace<T>) -> T,
{
    /// ∇²f · `direction`, as [`Operator::apply`].
    ///
    /// # Panics
    ///
    /// If a closure of the problem panicked earlier (argmin's `dot` returns no error).
    fn dot(&self, direction: &P) -> P {
        match self.apply(direction) {
            Ok(product) => product,
            Err(error) => panic!("{error}"),
        }
    }
}

/// Another operator at the same point of the same problem, with the same memory of
/// the last product.
impl<P: Clone, F, H, T> Clone for HessianOperator<P, F, H, T> {
    fn clone(&self) -> Self {
        let memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        HessianOperator {
            inner: Arc::clone(&self.inner),
            point: self.point.clone(),
            memo: Mutex::new(memo.clone()),
        }
    }
}

/// Shows nothing of the closures or the point.
impl<P, F, H, T> fmt::Debug for HessianOperator<P, F, H, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HessianOperator").finish_non_exhaustive()
    }
}

/// Shows nothing of the closure.
impl<H> fmt::Debug for Hvp<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hvp").finish_non_exhaustive()
    }
}

/// Shows nothing of the closure.
impl<D> fmt::Debug for DenseHessian<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DenseHessian").finish_non_exhaustive()
    }
}

/// Copies consecutive pieces of `packed` into `parts`, in order: the variables of a
/// loss out of argmin's one parameter vector.
///
/// # Panics
///
/// If the lengths of `parts` do not add up to `packed.len()`.
///
/// ```
/// use matgrad::argmin::unpack;
/// use nalgebra::DMatrix;
///
/// let (mut w, mut b) = (DMatrix::zeros(2, 2), 0.0);
/// unpack(&[1.0, 2.0, 3.0, 4.0, 5.0], &mut [w.as_mut_slice(), std::slice::from_mut(&mut b)]);
/// assert_eq!(w, DMatrix::from_column_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]));
/// assert_eq!(b, 5.0);
/// ```
pub fn unpack<T: Copy>(packed: &[T], parts: &mut [&mut [T]]) {
    let total: usize = parts.iter().map(|part| part.len()).sum();
    assert_eq!(
        total,
        packed.len(),
        "matgrad::argmin::unpack: the parts hold {total} entries, the parameter vector {}",
        packed.len()
    );
    let mut rest = packed;
    for part in parts.iter_mut() {
        let (head, tail) = rest.split_at(part.len());
        part.copy_from_slice(head);
        rest = tail;
    }
}

/// Copies `parts` one after the other into `packed`: the gradients of a loss into
/// argmin's one gradient vector, in the order [`unpack`] read the variables.
///
/// # Panics
///
/// If the lengths of `parts` do not add up to `packed.len()`.
///
/// ```
/// use matgrad::argmin::pack;
/// use nalgebra::DVector;
///
/// let (dw, db) = (DVector::from_vec(vec![1.0, 2.0]), 3.0);
/// let mut g = vec![0.0; 3];
/// pack(&[dw.as_slice(), std::slice::from_ref(&db)], &mut g);
/// assert_eq!(g, [1.0, 2.0, 3.0]);
/// ```
pub fn pack<T: Copy>(parts: &[&[T]], packed: &mut [T]) {
    let total: usize = parts.iter().map(|part| part.len()).sum();
    assert_eq!(
        total,
        packed.len(),
        "matgrad::argmin::pack: the parts hold {total} entries, the gradient vector {}",
        packed.len()
    );
    let mut rest = packed;
    for part in parts {
        let (head, tail) = rest.split_at_mut(part.len());
        head.copy_from_slice(part);
        rest = tail;
    }
}

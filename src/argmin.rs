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
//! Second order is not here yet: a `Hessian` (or Hessian-vector product for
//! Newton-CG) from `#[grad(wrt = …, hessian)]` would be one more slot of the cached
//! point, filled by the same call, and one more trait implemented on [`Problem`].

use std::fmt;
use std::sync::Mutex;

use ::argmin::core::{CostFunction, Error, Gradient};

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
pub struct Problem<P, F, T = f64> {
    inner: Mutex<Inner<P, F, T>>,
}

/// The closure, its workspace, and the last point evaluated.
struct Inner<P, F, T> {
    f: F,
    ws: Workspace<T>,
    /// The last point evaluated (its allocation is reused for the next one).
    point: Option<P>,
    /// `point`, `value` and `gradient` belong together (false while the closure runs,
    /// so a panic in it leaves no stale pairing behind).
    valid: bool,
    value: T,
    /// The gradient at `point`, and the buffer of the next evaluation.
    gradient: Option<P>,
    evaluations: u64,
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
            inner: Mutex::new(Inner {
                f,
                ws: Workspace::new(),
                point: None,
                valid: false,
                value: T::zero(),
                gradient: None,
                evaluations: 0,
            }),
        }
    }

    /// The number of calls of the closure so far: one per distinct point asked for.
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
        match self.inner.lock() {
            Ok(inner) => inner.evaluations,
            Err(poisoned) => poisoned.into_inner().evaluations,
        }
    }

    /// The value and the gradient at `param`, from one call of the closure (none if
    /// `param` is the point last evaluated). An error only if an earlier call of the
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
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| Error::msg("matgrad::argmin::Problem: an earlier evaluation panicked"))?;
        let inner = &mut *guard;
        if !(inner.valid && inner.point.as_ref() == Some(param)) {
            inner.valid = false;
            let gradient = inner.gradient.get_or_insert_with(|| param.clone());
            inner.value = (inner.f)(param, gradient, &mut inner.ws);
            match &mut inner.point {
                Some(point) => point.clone_from(param),
                None => inner.point = Some(param.clone()),
            }
            inner.valid = true;
            inner.evaluations += 1;
        }
        let gradient = inner.gradient.as_ref().expect("set by the evaluation");
        Ok(read(inner.value, gradient))
    }
}

impl<P, F, T> CostFunction for Problem<P, F, T>
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

impl<P, F, T> Gradient for Problem<P, F, T>
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

/// Shows the number of evaluations (not the closure or the stored point).
impl<P, F, T> fmt::Debug for Problem<P, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let evaluations = match self.inner.lock() {
            Ok(inner) => inner.evaluations,
            Err(poisoned) => poisoned.into_inner().evaluations,
        };
        f.debug_struct("Problem")
            .field("evaluations", &evaluations)
            .finish_non_exhaustive()
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

//! `matgrad::argmin` (feature `argmin`): a generated `_grad_into` as an argmin
//! problem. One `_grad_into` call per distinct point, however argmin interleaves its
//! `cost` and `gradient` calls (proved by counting both sides through a logging
//! wrapper); values and gradients bit for bit those of `_grad`; L-BFGS with the
//! More–Thuente line search converging through argmin's `Executor` with an observer;
//! several `wrt` variables through `pack`/`unpack`; under nalgebra 0.34, nalgebra's
//! `DVector` as argmin's parameter itself (argmin-math's `nalgebra_v0_34`).
#![cfg(feature = "argmin")]

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Error, Executor, Gradient, IterState, State, KV};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use matgrad::argmin::{pack, unpack, Problem};
use matgrad::{grad, softplus, Workspace};
use nalgebra::{DMatrix, DVector};

/// Mean logistic loss of labels `s ∈ {−1, +1}` with a ridge penalty (not on `b`).
#[grad(wrt = (w, b))]
fn logistic(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, b: f64, lambda: f64) -> f64 {
    let z = (x * w).add_scalar(b);
    softplus(&(-s.component_mul(&z))).mean() + lambda * w.norm_squared()
}

/// Least squares `‖a x − y‖²` in one vector.
#[grad(wrt = x)]
fn least_squares(a: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (a * x - y).norm_squared()
}

/// Deterministic, not separable data: 40 rows, 3 features.
fn data() -> (DMatrix<f64>, DVector<f64>) {
    let x = DMatrix::from_fn(40, 3, |i, j| ((i * 7 + j * 13) % 11) as f64 / 5.0 - 1.0);
    let s = DVector::from_fn(40, |i, _| {
        let t = x[(i, 0)] - 0.5 * x[(i, 1)] + 0.25 * x[(i, 2)];
        if (t > 0.1) ^ (i % 9 == 0) {
            1.0
        } else {
            -1.0
        }
    });
    (x, s)
}

/// What `Problem` calls: point, gradient buffer, workspace → value.
type Evaluate = Box<dyn FnMut(&Vec<f64>, &mut Vec<f64>, &mut Workspace<f64>) -> f64>;

/// The logistic loss as an argmin problem on `[w₀, w₁, w₂, b]`, counting its calls
/// of `logistic_grad_into` in `calls`.
fn logistic_problem(calls: Rc<Cell<u64>>) -> Problem<Vec<f64>, Evaluate> {
    let (x, s) = data();
    let (mut w, mut dw) = (DVector::zeros(3), DVector::zeros(3));
    let (mut b, mut db) = (0.0, 0.0);
    Problem::new(Box::new(
        move |p: &Vec<f64>, g: &mut Vec<f64>, ws: &mut Workspace<f64>| {
            calls.set(calls.get() + 1);
            unpack(p, &mut [w.as_mut_slice(), std::slice::from_mut(&mut b)]);
            let value = logistic_grad_into(&x, &s, &w, b, 1e-2, &mut dw, &mut db, ws);
            pack(&[dw.as_slice(), std::slice::from_ref(&db)], g);
            value
        },
    ))
}

/// Delegates to a problem and logs each call argmin makes: (`"cost"` or
/// `"gradient"`, the point).
struct Logged<O> {
    inner: O,
    log: Mutex<Vec<(&'static str, Vec<f64>)>>,
}

impl<O: CostFunction<Param = Vec<f64>, Output = f64>> CostFunction for Logged<O> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> Result<f64, Error> {
        self.log.lock().unwrap().push(("cost", p.clone()));
        self.inner.cost(p)
    }
}

impl<O: Gradient<Param = Vec<f64>, Gradient = Vec<f64>>> Gradient for Logged<O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, Error> {
        self.log.lock().unwrap().push(("gradient", p.clone()));
        self.inner.gradient(p)
    }
}

#[test]
fn cost_and_gradient_at_a_point_are_one_call_in_either_order() {
    let calls = Rc::new(Cell::new(0));
    let problem = logistic_problem(calls.clone());
    let (p, q) = (vec![0.1, -0.2, 0.3, 0.05], vec![0.0, 0.5, -0.5, 0.0]);

    let value = problem.cost(&p).unwrap();
    let gradient = problem.gradient(&p).unwrap();
    assert_eq!(calls.get(), 1);
    // gradient first, then cost, then both again: still one call per point
    let gradient_q = problem.gradient(&q).unwrap();
    let value_q = problem.cost(&q).unwrap();
    assert_eq!(
        (problem.gradient(&q).unwrap(), problem.cost(&q).unwrap()),
        (gradient_q.clone(), value_q)
    );
    assert_eq!(calls.get(), 2);
    // back to p: the cache holds the last point only, so p is evaluated again, with
    // the same bits
    assert_eq!(
        problem.value_and_gradient(&p).unwrap(),
        (value, gradient.clone())
    );
    assert_eq!(calls.get(), 3);
    assert_eq!(problem.evaluations(), 3);

    // The same bits as `_grad`.
    let (x, s) = data();
    let w = DVector::from_column_slice(&p[..3]);
    let (v, dw, db) = logistic_grad(&x, &s, &w, p[3], 1e-2);
    assert_eq!(value.to_bits(), v.to_bits());
    assert_eq!(gradient[..3], *dw.as_slice());
    assert_eq!(gradient[3].to_bits(), db.to_bits());
    assert_eq!(value.to_bits(), logistic(&x, &s, &w, p[3], 1e-2).to_bits());
}

/// Records the cost argmin reports at each iteration (argmin's observer convention).
#[derive(Clone, Default)]
struct Costs(Arc<Mutex<Vec<f64>>>);

impl Observe<IterState<Vec<f64>, Vec<f64>, (), (), (), f64>> for Costs {
    fn observe_iter(
        &mut self,
        state: &IterState<Vec<f64>, Vec<f64>, (), (), (), f64>,
        _kv: &KV,
    ) -> Result<(), Error> {
        self.0.lock().unwrap().push(state.get_cost());
        Ok(())
    }
}

#[test]
fn lbfgs_makes_one_grad_into_call_per_distinct_point() {
    let calls = Rc::new(Cell::new(0));
    let problem = Logged {
        inner: logistic_problem(calls.clone()),
        log: Mutex::new(Vec::new()),
    };
    let costs = Costs::default();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-10)
        .unwrap();
    let res = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; 4]).max_iters(200))
        .add_observer(costs.clone(), ObserverMode::Always)
        .run()
        .unwrap();
    let state = res.state();
    let logged = res.problem.problem.as_ref().unwrap();
    let log = logged.log.lock().unwrap();

    // Consecutive calls at the same point share one evaluation: the evaluations are
    // exactly the changes of point in argmin's sequence of calls.
    let changes = 1 + log.windows(2).filter(|w| w[0].1 != w[1].1).count() as u64;
    assert_eq!(calls.get(), changes);
    assert_eq!(logged.inner.evaluations(), calls.get());
    let asked = res.problem.counts["cost_count"] + res.problem.counts["gradient_count"];
    assert_eq!(asked, log.len() as u64);
    // Without the cache every call would have been a `_grad_into`.
    assert!(
        calls.get() < asked,
        "{} evaluations for {asked} calls",
        calls.get()
    );
    let both = log
        .windows(2)
        .filter(|w| w[0].1 == w[1].1 && w[0].0 != w[1].0)
        .count();
    assert!(
        both > 0,
        "argmin asked for cost and gradient at the same point"
    );

    // Converged: a stationary point, and the observer saw the costs decrease.
    let best = state.get_best_param().unwrap();
    let (_, gradient) = logged.inner.value_and_gradient(best).unwrap();
    let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert!(norm < 1e-6, "gradient norm {norm} at {best:?}");
    let costs = costs.0.lock().unwrap();
    assert_eq!(costs.len() as u64, state.get_iter());
    assert!(costs.windows(2).all(|c| c[1] <= c[0]), "{costs:?}");
}

#[test]
fn lbfgs_solves_least_squares() {
    let a = DMatrix::from_fn(6, 3, |i, j| {
        1.0 / (1 + i + j) as f64 + if i == j { 1.0 } else { 0.0 }
    });
    let y = DVector::from_fn(6, |i, _| (i as f64).sin());
    let exact = a.clone().svd(true, true).solve(&y, 1e-14).unwrap();
    let (a_data, y_data) = (a.clone(), y.clone());
    let (mut x, mut dx) = (DVector::zeros(3), DVector::zeros(3));
    let problem = Problem::new(move |p: &Vec<f64>, g: &mut Vec<f64>, ws| {
        x.copy_from_slice(p);
        let value = least_squares_grad_into(&a_data, &x, &y_data, &mut dx, ws);
        g.copy_from_slice(dx.as_slice());
        value
    });
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
    let res = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; 3]).max_iters(100))
        .run()
        .unwrap();
    let found = DVector::from_column_slice(res.state().get_best_param().unwrap());
    assert!((found - exact).norm() < 1e-7);
}

/// nalgebra 0.34's `DVector` is argmin's parameter itself (argmin-math's
/// `nalgebra_v0_34`, turned on by matgrad's): the closure passes argmin's vectors to
/// `_grad_into` with no copy.
#[cfg(not(feature = "nalgebra_v0_35"))]
#[test]
fn lbfgs_on_nalgebra_0_34_vectors_without_copies() {
    let a = DMatrix::from_fn(6, 3, |i, j| {
        1.0 / (1 + i + j) as f64 + if i == j { 1.0 } else { 0.0 }
    });
    let y = DVector::from_fn(6, |i, _| (i as f64).sin());
    let exact = a.clone().svd(true, true).solve(&y, 1e-14).unwrap();
    let (a_data, y_data) = (a.clone(), y.clone());
    let problem = Problem::new(move |x: &DVector<f64>, dx: &mut DVector<f64>, ws| {
        least_squares_grad_into(&a_data, x, &y_data, dx, ws)
    });
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
    let res = Executor::new(problem, solver)
        .configure(|state| state.param(DVector::zeros(3)).max_iters(100))
        .run()
        .unwrap();
    let found = res.state().get_best_param().unwrap();
    assert!((found - exact).norm() < 1e-7);
    let evaluations = res.problem.problem.as_ref().unwrap().evaluations();
    let asked = res.problem.counts["cost_count"] + res.problem.counts["gradient_count"];
    assert!(
        evaluations < asked,
        "{evaluations} evaluations for {asked} calls"
    );
}

#[test]
fn a_panicking_closure_gives_argmin_errors_afterwards() {
    let problem = Problem::new(|p: &Vec<f64>, _g: &mut Vec<f64>, _ws| {
        assert!(p[0] >= 0.0, "negative");
        p[0]
    });
    assert_eq!(problem.cost(&vec![1.0]).unwrap(), 1.0);
    let panicked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| problem.cost(&vec![-1.0])));
    assert!(panicked.is_err());
    let err = problem.cost(&vec![1.0]).unwrap_err();
    assert!(
        err.to_string().contains("an earlier evaluation panicked"),
        "{err}"
    );
    assert_eq!(problem.evaluations(), 1);
    assert_eq!(format!("{problem:?}"), "Problem { evaluations: 1, .. }");
}

#[test]
#[should_panic(
    expected = "matgrad::argmin::unpack: the parts hold 3 entries, the parameter vector 4"
)]
fn unpack_checks_the_lengths() {
    let (mut w, mut b) = (DVector::<f64>::zeros(2), 0.0);
    unpack(
        &[1.0, 2.0, 3.0, 4.0],
        &mut [w.as_mut_slice(), std::slice::from_mut(&mut b)],
    );
}

#[test]
#[should_panic(expected = "matgrad::argmin::pack: the parts hold 3 entries, the gradient vector 2")]
fn pack_checks_the_lengths() {
    let mut g = vec![0.0; 2];
    pack(&[&[1.0, 2.0], &[3.0]], &mut g);
}

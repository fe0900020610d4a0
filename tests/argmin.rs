//! `matgrad::argmin` (feature `argmin`): a generated `_grad_into` as an argmin
//! problem. One `_grad_into` call per distinct point, however argmin interleaves its
//! `cost` and `gradient` calls (proved by counting both sides through a logging
//! wrapper); values and gradients bit for bit those of `_grad`; L-BFGS with the
//! More–Thuente line search converging through argmin's `Executor` with an observer;
//! several `wrt` variables through `pack`/`unpack`; under nalgebra 0.34, nalgebra's
//! `DVector` as argmin's parameter itself (argmin-math's `nalgebra_v0_34`). Second
//! order: the Hessian operator's products against finite differences of the gradient
//! and the generated dense Hessian; one `_hvp_into` call per point and direction
//! (counted on both sides); argmin's Newton-CG converging to the optimum that
//! Newton's method with the dense Hessian finds; the dense Hessian in Newton-CG and,
//! on nalgebra 0.34, in argmin's `Newton`.
#![cfg(feature = "argmin")]

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{
    CostFunction, Error, Executor, Gradient, Hessian, IterState, Operator, State, KV,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::NewtonCG;
use argmin::solver::quasinewton::LBFGS;
use argmin_math::ArgminDot;
use matgrad::argmin::{pack, unpack, Hvp, Problem};
use matgrad::{grad, softplus, Workspace};
use nalgebra::{DMatrix, DVector};

/// Mean logistic loss of labels `s ∈ {−1, +1}` with a ridge penalty (not on `b`).
#[grad(wrt = (w, b))]
fn logistic(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, b: f64, lambda: f64) -> f64 {
    let z = (x * w).add_scalar(b);
    softplus(&(-s.component_mul(&z))).mean() + lambda * w.norm_squared()
}

/// The same loss with the bias as the weight of a column of ones (penalised too):
/// one `wrt` variable, as `hessian` needs.
#[grad(wrt = w, hvp, hessian)]
fn logistic_w(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, lambda: f64) -> f64 {
    softplus(&(-s.component_mul(&(x * w)))).mean() + lambda * w.norm_squared()
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

/// `data()` with a column of ones appended (the bias of `logistic_w`).
fn data_with_ones() -> (DMatrix<f64>, DVector<f64>) {
    let (x, s) = data();
    (x.insert_column(3, 1.0), s)
}

/// What `Problem::with_hvp` calls: point, direction, gradient buffer, product
/// buffer, workspace → value.
type EvaluateHvp =
    Box<dyn FnMut(&Vec<f64>, &Vec<f64>, &mut Vec<f64>, &mut Vec<f64>, &mut Workspace<f64>) -> f64>;

/// `logistic_w` as an argmin problem with Hessian-vector products, counting its calls
/// of `logistic_w_grad_into` and `logistic_w_hvp_into`.
fn logistic_w_problem(
    calls: Rc<Cell<u64>>,
    hvps: Rc<Cell<u64>>,
) -> Problem<Vec<f64>, Evaluate, f64, Hvp<EvaluateHvp>> {
    let (x, s) = data_with_ones();
    let (x2, s2) = (x.clone(), s.clone());
    let (mut w, mut dw) = (DVector::zeros(4), DVector::zeros(4));
    let (mut w2, mut v, mut dw2, mut hv) = (w.clone(), w.clone(), w.clone(), w.clone());
    let grad: Evaluate = Box::new(move |p, g, ws| {
        calls.set(calls.get() + 1);
        w.copy_from_slice(p);
        let value = logistic_w_grad_into(&x, &s, &w, 1e-2, &mut dw, ws);
        g.copy_from_slice(dw.as_slice());
        value
    });
    let hvp: EvaluateHvp = Box::new(move |p, d, g, h, ws| {
        hvps.set(hvps.get() + 1);
        w2.copy_from_slice(p);
        v.copy_from_slice(d);
        let value = logistic_w_hvp_into(&x2, &s2, &w2, 1e-2, &v, &mut dw2, &mut hv, ws);
        g.copy_from_slice(dw2.as_slice());
        h.copy_from_slice(hv.as_slice());
        value
    });
    Problem::new(grad).with_hvp(hvp)
}

/// The dense Hessian of `logistic_w` at `p`, row by row, from `logistic_w_hessian`.
fn dense_hessian(p: &[f64]) -> Vec<Vec<f64>> {
    let (x, s) = data_with_ones();
    let h = logistic_w_hessian(&x, &s, &DVector::from_column_slice(p), 1e-2).2;
    h.row_iter()
        .map(|row| row.iter().copied().collect())
        .collect()
}

/// The minimiser of `logistic_w` by Newton's method with the generated dense Hessian
/// (written out here: w ← w − H⁻¹ ∇f until ‖∇f‖ < 1e-13).
fn newton_optimum() -> DVector<f64> {
    let (x, s) = data_with_ones();
    let mut w = DVector::zeros(4);
    for _ in 0..50 {
        let (_, g, h) = logistic_w_hessian(&x, &s, &w, 1e-2);
        if g.norm() < 1e-13 {
            return w;
        }
        w -= h.cholesky().expect("positive definite").solve(&g);
    }
    panic!("Newton's method did not converge");
}

/// Delegates to a problem and logs each call argmin makes: (`"cost"` or
/// `"gradient"`, the point); counts the products argmin asks of its Hessians.
struct Logged<O> {
    inner: O,
    log: Mutex<Vec<(&'static str, Vec<f64>)>>,
    dots: Arc<AtomicU64>,
}

impl<O> Logged<O> {
    fn new(inner: O) -> Self {
        Logged {
            inner,
            log: Mutex::new(Vec::new()),
            dots: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<O: Hessian<Param = Vec<f64>>> Hessian for Logged<O> {
    type Param = Vec<f64>;
    type Hessian = Counted<O::Hessian>;
    fn hessian(&self, p: &Vec<f64>) -> Result<Self::Hessian, Error> {
        self.log.lock().unwrap().push(("hessian", p.clone()));
        Ok(Counted(self.inner.hessian(p)?, self.dots.clone()))
    }
}

/// A Hessian that counts the products argmin asks of it.
#[derive(Clone)]
struct Counted<H>(H, Arc<AtomicU64>);

impl<H: ArgminDot<Vec<f64>, Vec<f64>>> ArgminDot<Vec<f64>, Vec<f64>> for Counted<H> {
    fn dot(&self, v: &Vec<f64>) -> Vec<f64> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.dot(v)
    }
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

/// Records the cost argmin reports at each iteration (argmin's observer convention),
/// whatever the solver's Hessian type `H`.
#[derive(Clone, Default)]
struct Costs(Arc<Mutex<Vec<f64>>>);

impl<H> Observe<IterState<Vec<f64>, Vec<f64>, (), H, (), f64>> for Costs {
    fn observe_iter(
        &mut self,
        state: &IterState<Vec<f64>, Vec<f64>, (), H, (), f64>,
        _kv: &KV,
    ) -> Result<(), Error> {
        self.0.lock().unwrap().push(state.get_cost());
        Ok(())
    }
}

#[test]
fn lbfgs_makes_one_grad_into_call_per_distinct_point() {
    let calls = Rc::new(Cell::new(0));
    let problem = Logged::new(logistic_problem(calls.clone()));
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

/// e_j in `n` dimensions.
fn unit(n: usize, j: usize) -> Vec<f64> {
    (0..n).map(|i| f64::from(u8::from(i == j))).collect()
}

#[test]
fn hessian_operator_matches_finite_differences_of_the_gradient() {
    let problem = logistic_w_problem(Rc::default(), Rc::default());
    let p = vec![0.3, -0.2, 0.5, 0.1];
    let hessian = problem.hessian(&p).unwrap();
    assert_eq!(hessian.point(), &p);
    let exact = dense_hessian(&p);
    let h = 1e-5;
    for j in 0..4 {
        let (mut plus, mut minus) = (p.clone(), p.clone());
        plus[j] += h;
        minus[j] -= h;
        let (g_plus, g_minus) = (
            problem.gradient(&plus).unwrap(),
            problem.gradient(&minus).unwrap(),
        );
        let column = hessian.dot(&unit(4, j));
        for i in 0..4 {
            let fd = (g_plus[i] - g_minus[i]) / (2.0 * h);
            assert!(
                (column[i] - fd).abs() < 1e-8 * (1.0 + fd.abs()),
                "H[{i}][{j}]: {} vs finite difference {fd}",
                column[i]
            );
            assert!(
                (column[i] - exact[i][j]).abs() < 1e-14,
                "H[{i}][{j}]: {} vs logistic_w_hessian {}",
                column[i],
                exact[i][j]
            );
        }
    }
    // Any direction, through `dot` and argmin's `Operator`.
    let v = vec![0.7, -1.1, 0.4, 2.0];
    let hv = hessian.dot(&v);
    assert_eq!(hessian.apply(&v).unwrap(), hv);
    for (i, row) in exact.iter().enumerate() {
        let expected: f64 = row.iter().zip(&v).map(|(h, v)| h * v).sum();
        assert!((hv[i] - expected).abs() < 1e-14, "{hv:?}");
    }
}

#[test]
fn one_hvp_into_call_per_point_and_direction() {
    let (calls, hvps) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let problem = logistic_w_problem(calls.clone(), hvps.clone());
    let (p, q) = (vec![0.3, -0.2, 0.5, 0.1], vec![-0.1, 0.4, 0.0, 0.2]);
    let (u, v) = (vec![1.0, 0.0, -1.0, 0.5], vec![0.0, 2.0, 0.0, -1.0]);

    let gradient = problem.gradient(&p).unwrap();
    let hessian = problem.hessian(&p).unwrap();
    assert_eq!(
        (calls.get(), hvps.get()),
        (1, 0),
        "hessian() computes nothing"
    );
    let hu = hessian.dot(&u);
    assert_eq!(hessian.dot(&u), hu, "the last direction is remembered");
    assert_eq!(hessian.clone().dot(&u), hu, "by clones too");
    assert_eq!(hvps.get(), 1);
    assert_eq!(hessian.dot(&vec![0.0; 4]), vec![0.0; 4]);
    assert_eq!(hvps.get(), 1, "the zero direction needs no call");
    let hv = hessian.dot(&v);
    assert_eq!(hessian.dot(&u), hu, "the same bits again");
    assert_eq!(hvps.get(), 3, "only the last direction is remembered");
    // The value and gradient at p are still the `_grad_into` call's.
    assert_eq!(problem.gradient(&p).unwrap(), gradient);
    assert_eq!(calls.get(), 1);
    assert_eq!(
        (problem.evaluations(), problem.hessian_evaluations()),
        (1, 3)
    );

    // At a point the problem does not hold, the product's call computes the value
    // and the gradient there too: they answer cost and gradient with no
    // `_grad_into` call, equal to `_grad`'s.
    let hq = problem.hessian(&q).unwrap().dot(&v);
    assert_eq!(hvps.get(), 4);
    let (value_q, gradient_q) = problem.value_and_gradient(&q).unwrap();
    assert_eq!(problem.cost(&q).unwrap(), value_q);
    assert_eq!(calls.get(), 1);
    let (x, s) = data_with_ones();
    let (value, dw) = logistic_w_grad(&x, &s, &DVector::from_column_slice(&q), 1e-2);
    assert_eq!(value_q.to_bits(), value.to_bits());
    assert_eq!(gradient_q, dw.as_slice());
    let exact = dense_hessian(&q);
    for (i, row) in exact.iter().enumerate() {
        let expected: f64 = row.iter().zip(&v).map(|(h, v)| h * v).sum();
        assert!((hq[i] - expected).abs() < 1e-14, "{hq:?}");
    }
    // The operator at p still applies the Hessian at p (one call, which moves the
    // cache back to p).
    assert_eq!(hessian.dot(&v), hv);
    assert_eq!(hvps.get(), 5);
    assert_eq!(problem.gradient(&p).unwrap(), gradient);
    assert_eq!(calls.get(), 1);
    assert_eq!(
        format!("{problem:?}"),
        "Problem { evaluations: 1, hessian_evaluations: 5, .. }"
    );
}

#[test]
fn newton_cg_converges_with_one_hvp_into_call_per_direction() {
    let (calls, hvps) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let problem = Logged::new(logistic_w_problem(calls.clone(), hvps.clone()));
    let costs = Costs::default();
    let res = Executor::new(problem, NewtonCG::new(MoreThuenteLineSearch::new()))
        .configure(|state| state.param(vec![0.0; 4]).max_iters(100))
        .add_observer(costs.clone(), ObserverMode::Always)
        .run()
        .unwrap();
    let state = res.state();
    assert_eq!(
        state.get_termination_reason().map(|r| r.text()),
        Some("Solver converged")
    );
    // The optimum Newton's method with the dense Hessian finds.
    let best = DVector::from_column_slice(state.get_best_param().unwrap());
    let optimum = newton_optimum();
    assert!((&best - &optimum).norm() < 1e-6, "{best} vs {optimum}");
    let costs = costs.0.lock().unwrap();
    assert!(costs.windows(2).all(|c| c[1] <= c[0]), "{costs:?}");

    let logged = res.problem.problem.as_ref().unwrap();
    let log = logged.log.lock().unwrap();
    let hessians = res.problem.counts["hessian_count"];
    assert_eq!(hessians, state.get_iter());
    assert_eq!(logged.inner.hessian_evaluations(), hvps.get());
    // argmin applies each Hessian to zero once (CG's start) and twice to each CG
    // direction (CG, then its curvature test): one `_hvp_into` call per direction.
    let dots = logged.dots.load(Ordering::Relaxed);
    assert!(hvps.get() >= hessians, "at least one CG step per iteration");
    assert_eq!(dots, hessians + 2 * hvps.get());
    // Newton-CG asks for the Hessian where the line search ended, whose gradient it
    // has just asked for: the products there reuse nothing but need no `_grad_into`.
    for (k, entry) in log.iter().enumerate().filter(|(_, e)| e.0 == "hessian") {
        assert_eq!(log[k - 1], ("gradient", entry.1.clone()), "at {k}");
    }
    // Cost and gradient: one `_grad_into` call per change of point, as for L-BFGS.
    let first_order: Vec<_> = log.iter().filter(|e| e.0 != "hessian").collect();
    let changes = 1 + first_order.windows(2).filter(|w| w[0].1 != w[1].1).count() as u64;
    assert_eq!(calls.get(), changes);
    let asked = res.problem.counts["cost_count"] + res.problem.counts["gradient_count"];
    assert!(calls.get() < asked, "{} calls for {asked}", calls.get());
}

#[test]
fn newton_cg_with_the_dense_hessian_finds_the_same_optimum() {
    let (x, s) = data_with_ones();
    let (mut w, mut dw) = (DVector::zeros(4), DVector::zeros(4));
    let problem = Problem::new(|p: &Vec<f64>, g: &mut Vec<f64>, ws| {
        w.copy_from_slice(p);
        let value = logistic_w_grad_into(&x, &s, &w, 1e-2, &mut dw, ws);
        g.copy_from_slice(dw.as_slice());
        value
    })
    .with_hessian(|p: &Vec<f64>| {
        let (value, g, h) = logistic_w_hessian(&x, &s, &DVector::from_column_slice(p), 1e-2);
        let rows: Vec<Vec<f64>> = h.row_iter().map(|r| r.iter().copied().collect()).collect();
        (value, g.as_slice().to_vec(), rows)
    });
    let res = Executor::new(problem, NewtonCG::new(MoreThuenteLineSearch::new()))
        .configure(|state| state.param(vec![0.0; 4]).max_iters(100))
        .run()
        .unwrap();
    let best = DVector::from_column_slice(res.state().get_best_param().unwrap());
    let optimum = newton_optimum();
    assert!((&best - &optimum).norm() < 1e-6, "{best} vs {optimum}");
    let problem = res.problem.problem.as_ref().unwrap();
    assert_eq!(
        problem.hessian_evaluations(),
        res.problem.counts["hessian_count"]
    );
}

/// nalgebra 0.34: `DVector` parameters and `DMatrix` Hessians are argmin's own, so
/// the closures pass them to the generated functions with no copy, and argmin's
/// `Newton` (which inverts the Hessian) runs on the dense one.
#[cfg(not(feature = "nalgebra_v0_35"))]
#[test]
fn newton_and_newton_cg_on_nalgebra_0_34_without_copies() {
    use argmin::solver::newton::Newton;
    let (x, s) = data_with_ones();
    let optimum = newton_optimum();

    let problem = Problem::new(|w: &DVector<f64>, g: &mut DVector<f64>, ws| {
        logistic_w_grad_into(&x, &s, w, 1e-2, g, ws)
    })
    .with_hessian(|w: &DVector<f64>| logistic_w_hessian(&x, &s, w, 1e-2));
    let res = Executor::new(problem, Newton::<f64>::new())
        .configure(|state| state.param(DVector::zeros(4)).max_iters(10))
        .run()
        .unwrap();
    let found = res.state().get_param().unwrap();
    assert!((found - &optimum).norm() < 1e-12, "{found} vs {optimum}");
    let problem = res.problem.problem.as_ref().unwrap();
    // One gradient and one Hessian per iteration.
    assert_eq!(
        (problem.evaluations(), problem.hessian_evaluations()),
        (10, 10)
    );

    let problem = Problem::new(|w: &DVector<f64>, g: &mut DVector<f64>, ws| {
        logistic_w_grad_into(&x, &s, w, 1e-2, g, ws)
    })
    .with_hvp(
        |w: &DVector<f64>, v: &DVector<f64>, g: &mut DVector<f64>, h: &mut DVector<f64>, ws| {
            logistic_w_hvp_into(&x, &s, w, 1e-2, v, g, h, ws)
        },
    );
    let res = Executor::new(problem, NewtonCG::new(MoreThuenteLineSearch::new()))
        .configure(|state| state.param(DVector::zeros(4)).max_iters(100))
        .run()
        .unwrap();
    let best = res.state().get_best_param().unwrap();
    assert!((best - &optimum).norm() < 1e-6, "{best} vs {optimum}");
    assert!(res.problem.problem.as_ref().unwrap().hessian_evaluations() > 0);
}

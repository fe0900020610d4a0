//! Newton-CG from argmin on the breast-cancer logistic regression of
//! `examples/logistic.rs` and `examples/argmin_lbfgs.rs` (the same loss, data, split
//! and penalty), with the Hessian applied by the `loss_hvp_into` that
//! `#[grad(wrt = (w, b), hvp)]` generates, through `matgrad::argmin::Problem::with_hvp`:
//! no Hessian is ever formed. Compared with argmin's L-BFGS on the same problem (the
//! `argmin_lbfgs` example's run).
//!
//! ```text
//! cargo run --release --example argmin_newton --features argmin
//! cargo run --release --example argmin_newton --features argmin -- --every 1 --no-lbfgs
//! ```
//!
//! argmin's Newton-CG asks for the gradient at each iterate, then for the Hessian
//! there (a `matgrad::argmin::HessianOperator` holding the point: no call), which its
//! conjugate-gradient loop applies to one direction per step (one `loss_hvp_into`
//! call each; argmin applies the operator twice to each direction and once to zero,
//! which the operator answers without a call), then runs a line search (one
//! `loss_grad_into` call per point tried). The weights `w` (30) and the bias `b` are
//! packed into argmin's one parameter vector `[w₀, …, w₂₉, b]`, and the directions
//! and products the same way.
//!
//! argmin 0.11's Newton-CG stops its inner conjugate gradients when the *squared*
//! residual norm is below min(½, √‖g‖)·‖g‖ (its CG reports ‖r‖² as the cost): for
//! small ‖g‖ that asks ‖r‖ ≤ ‖g‖^¾ where ‖g‖^³ᐟ² was meant. Here it holds after the
//! first CG step at every iteration: every iteration is one Hessian-vector product
//! and a line search, a scaled steepest descent that converges linearly (about 100
//! iterations, one product each, against L-BFGS's 21). The third run is Newton-CG with the textbook inner tolerance
//! ‖r‖ ≤ min(½, √‖g‖)·‖g‖ (Nocedal and Wright, 7.1), written out in a few lines
//! around the same problem, its `HessianOperator` and argmin's `ConjugateGradient`:
//! a handful of iterations.
//!
//! Data: UCI "Breast Cancer Wisconsin (Diagnostic)" (W. Wolberg, O. Mangasarian,
//! N. Street, W. Street, 1995), CC BY 4.0, as distributed with scikit-learn.

/// The data, the loss and the L-BFGS run: `examples/argmin_lbfgs.rs` as it is.
#[allow(dead_code)]
#[path = "argmin_lbfgs.rs"]
mod argmin_lbfgs;

use std::time::{Duration, Instant};

use argmin::core::observers::ObserverMode;
use argmin::core::{CostFunction, Executor, Gradient, Hessian, State};
use argmin::solver::conjugategradient::ConjugateGradient;
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::NewtonCG;
use matgrad::argmin::{pack, unpack, Hvp, Problem};
use matgrad::Workspace;
use nalgebra::DVector;

use argmin_lbfgs::logistic::{loss_grad_into, loss_hvp_into};
use argmin_lbfgs::{common, Split};

/// Settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most Newton-CG iterations.
    pub max_iters: u64,
    /// argmin's Newton-CG stops when the loss changes by less than this in an
    /// iteration (its default is `f64::EPSILON`).
    pub tol_cost: f64,
    /// Newton-CG by hand stops when the gradient norm is below this (the L-BFGS
    /// run's tolerance).
    pub tol_grad: f64,
    /// Weight of the ridge penalty λ‖w‖² (the logistic example's default).
    pub lambda: f64,
    /// Seed of the 80/20 split (the logistic example's default).
    pub seed: u64,
    /// Print the loss every this many iterations (0: never), from an argmin observer.
    pub print_every: u64,
    /// Settings of the L-BFGS run (`examples/argmin_lbfgs.rs`); `None` skips it.
    pub lbfgs: Option<argmin_lbfgs::Config>,
}

impl Default for Config {
    fn default() -> Self {
        let lbfgs = argmin_lbfgs::Config {
            print_every: 0,
            baseline: None,
            ..argmin_lbfgs::Config::default()
        };
        Config {
            max_iters: 500,
            tol_cost: f64::EPSILON,
            tol_grad: lbfgs.tol_grad,
            lambda: lbfgs.lambda,
            seed: lbfgs.seed,
            print_every: 10,
            lbfgs: Some(lbfgs),
        }
    }
}

/// What a Newton-CG run measured.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Training loss (penalty included) at the solution.
    pub train_loss: f64,
    /// Test loss (penalty included) at the solution.
    pub test_loss: f64,
    /// Fraction of training rows classified correctly.
    pub train_accuracy: f64,
    /// Fraction of test rows classified correctly.
    pub test_accuracy: f64,
    /// Newton-CG iterations.
    pub iterations: u64,
    /// Calls of `loss_grad_into` (one per distinct point the line searches tried).
    pub grad_calls: u64,
    /// Calls of `loss_hvp_into` (one per conjugate-gradient step).
    pub hvp_calls: u64,
    /// The solver's `cost`, `gradient` and `hessian` calls (argmin's counts for
    /// argmin's Newton-CG; for the loop by hand, the line searches' costs, one
    /// gradient and one Hessian per iteration).
    pub cost_calls: u64,
    /// See `cost_calls`.
    pub gradient_calls: u64,
    /// See `cost_calls`.
    pub hessian_calls: u64,
    /// Gradient norm at the solution.
    pub gradient_norm: f64,
    /// Why the solver stopped.
    pub termination: String,
    /// Time spent optimising.
    pub time: Duration,
}

/// The three runs.
#[derive(Debug, Clone)]
pub struct Report {
    /// argmin's Newton-CG.
    pub newton_cg: Fit,
    /// Newton-CG written out, with the textbook inner tolerance.
    pub by_hand: Fit,
    /// The argmin_lbfgs example's L-BFGS run, if asked.
    pub lbfgs: Option<argmin_lbfgs::Fit>,
    /// Number of training and test rows.
    pub sizes: (usize, usize),
}

/// The loss on argmin's packed vectors `[w₀, …, w₂₉, b]`: value and gradient from
/// `loss_grad_into`, Hessian-vector products from `loss_hvp_into`. The closures
/// borrow the training data and own the unpacked variables, directions, gradients
/// and products.
#[allow(clippy::type_complexity)]
fn problem(
    data: &Split,
    lambda: f64,
) -> Problem<
    Vec<f64>,
    impl FnMut(&Vec<f64>, &mut Vec<f64>, &mut Workspace<f64>) -> f64 + '_,
    f64,
    Hvp<
        impl FnMut(&Vec<f64>, &Vec<f64>, &mut Vec<f64>, &mut Vec<f64>, &mut Workspace<f64>) -> f64 + '_,
    >,
> {
    let (x, s) = (&data.x_train, &data.s_train);
    let n = x.ncols();
    let inv_n = 1.0 / x.nrows() as f64;
    let (mut w, mut g_w, mut b, mut g_b) = (DVector::zeros(n), DVector::zeros(n), 0.0, 0.0);
    let (mut w2, mut v_w, mut h_w, mut g_w2) = (w.clone(), w.clone(), w.clone(), w.clone());
    let (mut b2, mut v_b, mut h_b, mut g_b2) = (0.0, 0.0, 0.0, 0.0);
    Problem::new(
        move |p: &Vec<f64>, g: &mut Vec<f64>, ws: &mut Workspace<f64>| {
            unpack(p, &mut [w.as_mut_slice(), std::slice::from_mut(&mut b)]);
            let value = loss_grad_into(x, s, &w, b, inv_n, lambda, &mut g_w, &mut g_b, ws);
            pack(&[g_w.as_slice(), std::slice::from_ref(&g_b)], g);
            value
        },
    )
    .with_hvp(
        move |p: &Vec<f64>,
              d: &Vec<f64>,
              g: &mut Vec<f64>,
              h: &mut Vec<f64>,
              ws: &mut Workspace<f64>| {
            unpack(p, &mut [w2.as_mut_slice(), std::slice::from_mut(&mut b2)]);
            unpack(d, &mut [v_w.as_mut_slice(), std::slice::from_mut(&mut v_b)]);
            let value = loss_hvp_into(
                x, s, &w2, b2, inv_n, lambda, &v_w, v_b, &mut g_w2, &mut g_b2, &mut h_w, &mut h_b,
                ws,
            );
            pack(&[g_w2.as_slice(), std::slice::from_ref(&g_b2)], g);
            pack(&[h_w.as_slice(), std::slice::from_ref(&h_b)], h);
            value
        },
    )
}

/// Euclidean norm.
fn norm(v: &[f64]) -> f64 {
    v.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// argmin's Newton-CG with the More–Thuente line search, from zero.
fn argmin_newton_cg(data: &Split, config: &Config) -> common::Result<Fit> {
    let n = data.x_train.ncols();
    let solver = NewtonCG::new(MoreThuenteLineSearch::new()).with_tolerance(config.tol_cost)?;
    let mut executor = Executor::new(problem(data, config.lambda), solver)
        .configure(|state| state.param(vec![0.0; n + 1]).max_iters(config.max_iters));
    if config.print_every > 0 {
        println!("argmin's Newton-CG (More–Thuente line search):");
        executor = executor.add_observer(
            argmin_lbfgs::Progress,
            ObserverMode::Every(config.print_every),
        );
    }
    let start = Instant::now();
    let res = executor.run()?;
    let time = start.elapsed();

    let state = res.state();
    let best = state
        .get_best_param()
        .ok_or("Newton-CG returned no parameter")?;
    let problem = res
        .problem
        .problem
        .as_ref()
        .ok_or("argmin kept no problem")?;
    let count = |name: &str| res.problem.counts.get(name).copied().unwrap_or(0);
    let (train_loss, test_loss, train_accuracy, test_accuracy) = argmin_lbfgs::evaluate(
        data,
        &DVector::from_column_slice(&best[..n]),
        best[n],
        config.lambda,
    );
    Ok(Fit {
        train_loss,
        test_loss,
        train_accuracy,
        test_accuracy,
        iterations: state.get_iter(),
        grad_calls: problem.evaluations(),
        hvp_calls: problem.hessian_evaluations(),
        cost_calls: count("cost_count"),
        gradient_calls: count("gradient_count"),
        hessian_calls: count("hessian_count"),
        gradient_norm: norm(&problem.gradient(best)?),
        termination: state
            .get_termination_reason()
            .map_or_else(|| "running".to_string(), |r| r.text().to_string()),
        time,
    })
}

/// Newton-CG written out: at each iterate, the Newton system H d = −g solved by
/// argmin's `ConjugateGradient` on the problem's `HessianOperator` until
/// ‖r‖ ≤ min(½, √‖g‖)·‖g‖ (argmin's CG reports ‖r‖² as its cost, hence the square
/// in its target), then a backtracking (Armijo) line search on the cost, until
/// ‖g‖ < `config.tol_grad`.
fn newton_cg_by_hand(data: &Split, config: &Config) -> common::Result<Fit> {
    let n = data.x_train.ncols();
    let problem = problem(data, config.lambda);
    let (mut cost_calls, mut gradient_calls, mut hessian_calls) = (0, 0, 0);
    if config.print_every > 0 {
        println!("\nNewton-CG by hand (CG to min(½, √‖g‖)‖g‖, Armijo backtracking):");
    }
    let start = Instant::now();
    let mut p = vec![0.0; n + 1];
    let mut iterations = 0;
    let termination = loop {
        let g = problem.gradient(&p)?;
        gradient_calls += 1;
        let g_norm = norm(&g);
        if config.print_every > 0 {
            println!(
                "iter {iterations:>4}  train loss {:.6}  gradient norm {g_norm:.1e}",
                problem.cost(&p)?
            );
        }
        if g_norm < config.tol_grad {
            break "gradient norm below tolerance";
        }
        if iterations == config.max_iters {
            break "maximum number of iterations reached";
        }
        let hessian = problem.hessian(&p)?;
        hessian_calls += 1;
        let eta = g_norm.sqrt().min(0.5) * g_norm;
        let minus_g: Vec<f64> = g.iter().map(|g| -g).collect();
        let cg = Executor::new(hessian, ConjugateGradient::new(minus_g))
            .configure(|state| {
                state
                    .param(vec![0.0; n + 1])
                    .max_iters(2 * n as u64)
                    .target_cost(eta * eta)
            })
            .run()?;
        let d = cg
            .state()
            .get_best_param()
            .ok_or("conjugate gradients returned no direction")?;
        // Armijo backtracking from the full Newton step.
        let (f0, slope) = (
            problem.cost(&p)?,
            d.iter().zip(&g).map(|(d, g)| d * g).sum::<f64>(),
        );
        let mut t = 1.0;
        let next = loop {
            let trial: Vec<f64> = p.iter().zip(d).map(|(p, d)| p + t * d).collect();
            cost_calls += 1;
            if problem.cost(&trial)? <= f0 + 1e-4 * t * slope || t < 1e-10 {
                break trial;
            }
            t *= 0.5;
        };
        p = next;
        iterations += 1;
    };
    let time = start.elapsed();
    let (train_loss, test_loss, train_accuracy, test_accuracy) = argmin_lbfgs::evaluate(
        data,
        &DVector::from_column_slice(&p[..n]),
        p[n],
        config.lambda,
    );
    Ok(Fit {
        train_loss,
        test_loss,
        train_accuracy,
        test_accuracy,
        iterations,
        grad_calls: problem.evaluations(),
        hvp_calls: problem.hessian_evaluations(),
        cost_calls,
        gradient_calls,
        hessian_calls,
        gradient_norm: norm(&problem.gradient(&p)?),
        termination: termination.to_string(),
        time,
    })
}

/// Runs argmin's Newton-CG and Newton-CG by hand from zero and, if asked, L-BFGS.
pub fn run(config: &Config) -> common::Result<Report> {
    let data = argmin_lbfgs::split(config.seed)?;
    let newton_cg = argmin_newton_cg(&data, config)?;
    let by_hand = newton_cg_by_hand(&data, config)?;
    let lbfgs = match &config.lbfgs {
        Some(lbfgs) => Some(argmin_lbfgs::run(lbfgs)?.lbfgs),
        None => None,
    };
    Ok(Report {
        newton_cg,
        by_hand,
        lbfgs,
        sizes: (data.x_train.nrows(), data.x_test.nrows()),
    })
}

const USAGE: &str = "\
Newton-CG (argmin) on the breast cancer logistic regression, with Hessian-vector products
derived by #[grad(hvp)], compared with argmin's L-BFGS (the argmin_lbfgs example).

usage: cargo run --release --example argmin_newton --features argmin -- [options]

options:
  --iters N      most Newton-CG iterations (default 500)
  --tol X        stop argmin's Newton-CG when the loss changes by less than X
                 (default f64::EPSILON)
  --tol-grad X   stop Newton-CG by hand when the gradient norm is below X (default 1e-6)
  --every N      print the loss every N iterations of argmin's Newton-CG and every
                 iteration by hand (default 10; 0: never)
  --no-lbfgs     skip the L-BFGS run
  -h, --help     print this help";

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> common::Result<Option<Config>> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iters" => config.max_iters = common::flag_value(&mut args, "--iters")?,
            "--tol" => config.tol_cost = common::flag_value(&mut args, "--tol")?,
            "--tol-grad" => config.tol_grad = common::flag_value(&mut args, "--tol-grad")?,
            "--every" => config.print_every = common::flag_value(&mut args, "--every")?,
            "--no-lbfgs" => config.lbfgs = None,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(Some(config))
}

fn main() {
    common::exit_on_error(try_main());
}

fn try_main() -> common::Result<()> {
    let Some(config) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let report = run(&config)?;
    let (n_train, n_test) = report.sizes;
    let (argmin, by_hand) = (&report.newton_cg, &report.by_hand);
    println!();
    for (name, fit) in [
        ("argmin's Newton-CG", argmin),
        ("Newton-CG by hand", by_hand),
    ] {
        println!(
            "{name}: {} iterations in {:.2?} ({}); gradient norm {:.1e}",
            fit.iterations, fit.time, fit.termination, fit.gradient_norm
        );
        println!(
            "    {} loss_grad_into + {} loss_hvp_into calls for {} cost, {} gradient and {} Hessian calls",
            fit.grad_calls, fit.hvp_calls, fit.cost_calls, fit.gradient_calls, fit.hessian_calls
        );
    }
    println!("trained on {n_train} rows, tested on {n_test}\n");
    println!(
        "                     train loss  test loss  train acc  test acc  iterations  _grad_into  _hvp_into       time"
    );
    let row = |name: &str, fit: &Fit| {
        println!(
            "{name:<19}  {:>10.6}  {:>9.6}  {:>9.3}  {:>8.3}  {:>10}  {:>10}  {:>9}  {:>9.2?}",
            fit.train_loss,
            fit.test_loss,
            fit.train_accuracy,
            fit.test_accuracy,
            fit.iterations,
            fit.grad_calls,
            fit.hvp_calls,
            fit.time
        );
    };
    row("Newton-CG (argmin)", argmin);
    row("Newton-CG (by hand)", by_hand);
    if let Some(lbfgs) = &report.lbfgs {
        println!(
            "{:<19}  {:>10.6}  {:>9.6}  {:>9.3}  {:>8.3}  {:>10}  {:>10}  {:>9}  {:>9.2?}",
            "L-BFGS (argmin)",
            lbfgs.train_loss,
            lbfgs.test_loss,
            lbfgs.train_accuracy,
            lbfgs.test_accuracy,
            lbfgs.iterations,
            lbfgs.evaluations,
            0,
            lbfgs.time
        );
    }
    Ok(())
}

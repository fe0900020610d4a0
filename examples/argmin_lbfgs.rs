//! L-BFGS from argmin on the breast-cancer logistic regression of
//! `examples/logistic.rs` (the same loss, data, split and penalty), with the value and
//! gradient from its `#[grad]` function through `matgrad::argmin::Problem`, compared
//! with that example's own loop (full-batch Adam, 300 iterations).
//!
//! ```text
//! cargo run --release --example argmin_lbfgs --features argmin
//! cargo run --release --example argmin_lbfgs --features argmin -- --memory 10 --tol 1e-8
//! ```
//!
//! The weights `w` (30) and the bias `b` are packed into argmin's one parameter
//! vector `[w₀, …, w₂₉, b]`; the closure unpacks them into buffers it owns, calls
//! `loss_grad_into` once, and packs the gradients. argmin asks for the cost and the
//! gradient separately, often at the same point; the problem answers both from one
//! call, and the output counts both sides.
//!
//! Data: UCI "Breast Cancer Wisconsin (Diagnostic)" (W. Wolberg, O. Mangasarian,
//! N. Street, W. Street, 1995), CC BY 4.0, as distributed with scikit-learn.
// `logistic.rs` includes `common/mod.rs` too, as a standalone example must.
#![allow(clippy::duplicate_mod)]

#[path = "common/mod.rs"]
pub mod common;
/// The loss and the baseline: `examples/logistic.rs` as it is.
#[allow(dead_code)]
#[path = "logistic.rs"]
pub mod logistic;

use std::time::{Duration, Instant};

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Error, Executor, IterState, State, KV};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use matgrad::argmin::{pack, unpack, Problem};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use logistic::{loss, loss_grad_into};

/// Settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most L-BFGS iterations.
    pub max_iters: u64,
    /// L-BFGS history length.
    pub memory: usize,
    /// Stop when the gradient norm is below this.
    pub tol_grad: f64,
    /// Weight of the ridge penalty λ‖w‖² (the logistic example's default).
    pub lambda: f64,
    /// Seed of the 80/20 split (the logistic example's default).
    pub seed: u64,
    /// Print the loss every this many iterations (0: never), from an argmin observer.
    pub print_every: u64,
    /// Settings of the baseline (`examples/logistic.rs`); `None` skips it.
    pub baseline: Option<logistic::Config>,
}

impl Default for Config {
    fn default() -> Self {
        let baseline = logistic::Config {
            print_every: 0,
            ..logistic::Config::default()
        };
        Config {
            max_iters: 200,
            memory: 7,
            tol_grad: 1e-6,
            lambda: baseline.lambda,
            seed: baseline.seed,
            print_every: 10,
            baseline: Some(baseline),
        }
    }
}

/// What the L-BFGS run measured.
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
    /// L-BFGS iterations.
    pub iterations: u64,
    /// Calls of `loss_grad_into` (one per distinct point).
    pub evaluations: u64,
    /// argmin's `cost` and `gradient` calls.
    pub cost_calls: u64,
    /// See `cost_calls`.
    pub gradient_calls: u64,
    /// Gradient norm at the solution.
    pub gradient_norm: f64,
    /// Why argmin stopped.
    pub termination: String,
    /// Time spent optimising.
    pub time: Duration,
}

/// Both runs.
#[derive(Debug, Clone)]
pub struct Report {
    /// L-BFGS through argmin.
    pub lbfgs: Fit,
    /// The logistic example's Adam loop, if run.
    pub baseline: Option<logistic::Report>,
    /// Number of training and test rows.
    pub sizes: (usize, usize),
}

/// Prints the loss every few iterations: an argmin observer (for any solver's
/// Hessian type `H`; `examples/argmin_newton.rs` uses it too).
pub struct Progress;

impl<H> Observe<IterState<Vec<f64>, Vec<f64>, (), H, (), f64>> for Progress {
    fn observe_iter(
        &mut self,
        state: &IterState<Vec<f64>, Vec<f64>, (), H, (), f64>,
        _kv: &KV,
    ) -> Result<(), Error> {
        println!(
            "iter {:>4}  train loss {:.6}",
            state.get_iter(),
            state.get_cost()
        );
        Ok(())
    }
}

/// The logistic example's data: its 80/20 split of the rows, standardised with the
/// training rows' statistics, the labels as signs ±1.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training rows.
    pub x_train: DMatrix<f64>,
    /// Their labels, −1 or +1.
    pub s_train: DVector<f64>,
    /// Test rows.
    pub x_test: DMatrix<f64>,
    /// Their labels, −1 or +1.
    pub s_test: DVector<f64>,
}

/// Loads and standardises the data as `examples/logistic.rs` does, the split drawn
/// from `seed`.
pub fn split(seed: u64) -> common::Result<Split> {
    let (x, labels) = common::load_breast_cancer()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (train, test) = common::train_test_split(x.nrows(), 0.2, &mut rng);
    let (x_train, x_test) = (
        common::select_rows(&x, &train),
        common::select_rows(&x, &test),
    );
    let (mean, std) = common::column_stats(&x_train);
    let signs = |idx: &[usize]| {
        DVector::from_iterator(idx.len(), idx.iter().map(|&i| 2.0 * labels[i] - 1.0))
    };
    Ok(Split {
        x_train: common::standardise(&x_train, &mean, &std),
        s_train: signs(&train),
        x_test: common::standardise(&x_test, &mean, &std),
        s_test: signs(&test),
    })
}

/// The losses (penalty included) and accuracies of the weights `w` and bias `b`:
/// train loss, test loss, train accuracy, test accuracy.
pub fn evaluate(data: &Split, w: &DVector<f64>, b: f64, lambda: f64) -> (f64, f64, f64, f64) {
    let mean_loss =
        |x: &DMatrix<f64>, s: &DVector<f64>| loss(x, s, w, b, 1.0 / x.nrows() as f64, lambda);
    (
        mean_loss(&data.x_train, &data.s_train),
        mean_loss(&data.x_test, &data.s_test),
        accuracy(&data.x_train, &data.s_train, w, b),
        accuracy(&data.x_test, &data.s_test, w, b),
    )
}

/// Fraction of rows where the sign of `x w + b` matches the label sign `s`.
pub fn accuracy(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, b: f64) -> f64 {
    let z = (x * w).add_scalar(b);
    let hits = z
        .iter()
        .zip(s.iter())
        .filter(|(z, s)| **z * **s > 0.0)
        .count();
    hits as f64 / s.len() as f64
}

/// Loads and standardises the data as `examples/logistic.rs` does, runs L-BFGS and,
/// if asked, the baseline.
pub fn run(config: &Config) -> common::Result<Report> {
    let data = split(config.seed)?;
    let (n, lambda) = (data.x_train.ncols(), config.lambda);
    let inv_train = 1.0 / data.x_train.nrows() as f64;

    // The problem borrows the training data and owns the unpacked variables and
    // gradients.
    let (xt, st) = (&data.x_train, &data.s_train);
    let (mut w, mut g_w) = (DVector::zeros(n), DVector::zeros(n));
    let (mut b, mut g_b) = (0.0, 0.0);
    let problem = Problem::new(move |p: &Vec<f64>, g: &mut Vec<f64>, ws| {
        unpack(p, &mut [w.as_mut_slice(), std::slice::from_mut(&mut b)]);
        let value = loss_grad_into(xt, st, &w, b, inv_train, lambda, &mut g_w, &mut g_b, ws);
        pack(&[g_w.as_slice(), std::slice::from_ref(&g_b)], g);
        value
    });
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), config.memory)
        .with_tolerance_grad(config.tol_grad)?;
    let mut executor = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; n + 1]).max_iters(config.max_iters));
    if config.print_every > 0 {
        executor = executor.add_observer(Progress, ObserverMode::Every(config.print_every));
    }
    let start = Instant::now();
    let res = executor.run()?;
    let time = start.elapsed();

    let state = res.state();
    let best = state
        .get_best_param()
        .ok_or("L-BFGS returned no parameter")?;
    let (w, b) = (DVector::from_column_slice(&best[..n]), best[n]);
    let problem = res
        .problem
        .problem
        .as_ref()
        .ok_or("argmin kept no problem")?;
    let evaluations = problem.evaluations();
    let (_, gradient) = problem.value_and_gradient(best)?;
    let (train_loss, test_loss, train_accuracy, test_accuracy) = evaluate(&data, &w, b, lambda);
    let lbfgs = Fit {
        train_loss,
        test_loss,
        train_accuracy,
        test_accuracy,
        iterations: state.get_iter(),
        evaluations,
        cost_calls: res.problem.counts.get("cost_count").copied().unwrap_or(0),
        gradient_calls: res
            .problem
            .counts
            .get("gradient_count")
            .copied()
            .unwrap_or(0),
        gradient_norm: gradient.iter().map(|g| g * g).sum::<f64>().sqrt(),
        termination: state
            .get_termination_reason()
            .map_or_else(|| "running".to_string(), |r| r.text().to_string()),
        time,
    };
    let baseline = config.baseline.as_ref().map(logistic::run).transpose()?;
    Ok(Report {
        lbfgs,
        baseline,
        sizes: (data.x_train.nrows(), data.x_test.nrows()),
    })
}

const USAGE: &str = "\
L-BFGS (argmin) on the breast cancer logistic regression, with the gradient derived by #[grad],
compared with the logistic example's full-batch Adam loop.

usage: cargo run --release --example argmin_lbfgs --features argmin -- [options]

options:
  --iters N      most L-BFGS iterations (default 200)
  --memory N     L-BFGS history length (default 7)
  --tol X        stop when the gradient norm is below X (default 1e-6)
  --no-baseline  skip the Adam run
  -h, --help     print this help";

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> common::Result<Option<Config>> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iters" => config.max_iters = common::flag_value(&mut args, "--iters")?,
            "--memory" => config.memory = common::flag_value(&mut args, "--memory")?,
            "--tol" => config.tol_grad = common::flag_value(&mut args, "--tol")?,
            "--no-baseline" => config.baseline = None,
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
    let fit = &report.lbfgs;
    println!(
        "L-BFGS: {} iterations in {:.2?} ({}); gradient norm {:.1e}",
        fit.iterations, fit.time, fit.termination, fit.gradient_norm
    );
    println!(
        "        {} loss_grad_into calls for {} cost + {} gradient calls from argmin",
        fit.evaluations, fit.cost_calls, fit.gradient_calls
    );
    println!("trained on {n_train} rows, tested on {n_test}\n");
    println!("                 train loss  test loss  train acc  test acc  iterations       time");
    println!(
        "L-BFGS (argmin)  {:>10.6}  {:>9.6}  {:>9.3}  {:>8.3}  {:>10}  {:>9.2?}",
        fit.train_loss,
        fit.test_loss,
        fit.train_accuracy,
        fit.test_accuracy,
        fit.iterations,
        fit.time
    );
    if let (Some(adam), Some(baseline)) = (&report.baseline, &config.baseline) {
        let final_loss = adam.train_loss.last().copied().unwrap_or(f64::NAN);
        println!(
            "Adam (logistic)  {:>10.6}  {:>9.6}  {:>9.3}  {:>8.3}  {:>10}  {:>9.2?}",
            final_loss,
            adam.test_loss,
            adam.train_accuracy,
            adam.test_accuracy,
            baseline.iters,
            adam.train_time
        );
    }
    Ok(())
}

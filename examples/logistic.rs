//! L2-regularised logistic regression on the Wisconsin breast cancer data, with
//! the gradient in the weights and the bias derived by `#[grad]`.
//!
//! ```text
//! cargo run --release --example logistic
//! cargo run --release --example logistic -- --iters 500 --lr 0.02 --lambda 0.003 --seed 3
//! ```
//!
//! Data: UCI "Breast Cancer Wisconsin (Diagnostic)" (W. Wolberg, O. Mangasarian,
//! N. Street, W. Street, 1995), CC BY 4.0, as distributed with scikit-learn.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use matgrad::{grad, softplus, Workspace};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `Σᵢ softplus(−sᵢ (xᵢ·w + b)) / n + λ‖w‖²`: the mean logistic loss of the
/// labels `s ∈ {−1, +1}` plus a ridge penalty on the weights (not the bias).
///
/// `inv_n` is one over the number of rows of `x`. `hvp` adds `loss_hvp_into`, the
/// Hessian-vector products of `examples/argmin_newton.rs`.
#[grad(wrt = (w, b), hvp)]
pub fn loss(
    x: &DMatrix<f64>,
    s: &DVector<f64>,
    w: &DVector<f64>,
    b: f64,
    inv_n: f64,
    lambda: f64,
) -> f64 {
    let z = (x * w).add_scalar(b);
    softplus(&(-s.component_mul(&z))).sum() * inv_n + lambda * w.norm_squared()
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Full-batch Adam iterations.
    pub iters: usize,
    /// Adam step size.
    pub lr: f64,
    /// Weight of the ridge penalty λ‖w‖².
    pub lambda: f64,
    /// Seed of the 80/20 split.
    pub seed: u64,
    /// Print the losses every this many iterations (0: never).
    pub print_every: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            iters: 300,
            lr: 0.05,
            lambda: 1e-2,
            seed: 42,
            print_every: 50,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Training loss (penalty included) before each iteration, and after the last.
    pub train_loss: Vec<f64>,
    /// Test loss (penalty included) at the end.
    pub test_loss: f64,
    /// Fraction of training rows classified correctly at the end.
    pub train_accuracy: f64,
    /// Fraction of test rows classified correctly at the end.
    pub test_accuracy: f64,
    /// Number of training and test rows.
    pub sizes: (usize, usize),
    /// Time spent training.
    pub train_time: Duration,
}

/// Fraction of rows where the sign of `x w + b` matches the label sign `s`.
fn accuracy(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, b: f64) -> f64 {
    let z = (x * w).add_scalar(b);
    let hits = z
        .iter()
        .zip(s.iter())
        .filter(|(z, s)| **z * **s > 0.0)
        .count();
    hits as f64 / s.len() as f64
}

/// Loads the data, standardises it with the training statistics, and trains.
pub fn run(config: &Config) -> common::Result<Report> {
    let (x, labels) = common::load_breast_cancer()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let (train, test) = common::train_test_split(x.nrows(), 0.2, &mut rng);

    // Standardise with statistics of the training rows only.
    let (x_train, x_test) = (
        common::select_rows(&x, &train),
        common::select_rows(&x, &test),
    );
    let (mean, std) = common::column_stats(&x_train);
    let x_train = common::standardise(&x_train, &mean, &std);
    let x_test = common::standardise(&x_test, &mean, &std);
    // Labels 0/1 as signs −1/+1.
    let signs = |idx: &[usize]| {
        DVector::from_iterator(idx.len(), idx.iter().map(|&i| 2.0 * labels[i] - 1.0))
    };
    let (s_train, s_test) = (signs(&train), signs(&test));
    let (inv_train, inv_test) = (1.0 / train.len() as f64, 1.0 / test.len() as f64);

    let start = Instant::now();
    let mut w = DVector::zeros(x.ncols());
    let mut b = 0.0;
    let mut adam = common::Adam::new(config.lr);
    let mut ws = Workspace::new();
    let mut g_w = DVector::zeros(0);
    let mut g_b = 0.0;
    let mut train_loss = Vec::with_capacity(config.iters + 1);
    for it in 0..config.iters {
        let value = loss_grad_into(
            &x_train,
            &s_train,
            &w,
            b,
            inv_train,
            config.lambda,
            &mut g_w,
            &mut g_b,
            &mut ws,
        );
        train_loss.push(value);
        if config.print_every > 0 && it % config.print_every == 0 {
            let test = loss(&x_test, &s_test, &w, b, inv_test, config.lambda);
            println!("iter {it:>4}  train loss {value:.5}  test loss {test:.5}");
        }
        adam.next_step();
        adam.update(0, w.as_mut_slice(), g_w.as_slice());
        adam.update(1, std::slice::from_mut(&mut b), std::slice::from_ref(&g_b));
    }
    train_loss.push(loss(&x_train, &s_train, &w, b, inv_train, config.lambda));
    let train_time = start.elapsed();

    Ok(Report {
        train_loss,
        test_loss: loss(&x_test, &s_test, &w, b, inv_test, config.lambda),
        train_accuracy: accuracy(&x_train, &s_train, &w, b),
        test_accuracy: accuracy(&x_test, &s_test, &w, b),
        sizes: (train.len(), test.len()),
        train_time,
    })
}

const USAGE: &str = "\
L2-regularised logistic regression on the breast cancer data with a gradient derived by #[grad].

usage: cargo run --release --example logistic -- [options]

options:
  --iters N    full-batch Adam iterations (default 300)
  --lr X       Adam step size (default 0.05)
  --lambda X   ridge penalty weight (default 0.01)
  --seed N     seed of the 80/20 split (default 42)
  -h, --help   print this help";

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> common::Result<Option<Config>> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iters" => config.iters = common::flag_value(&mut args, "--iters")?,
            "--lr" => config.lr = common::flag_value(&mut args, "--lr")?,
            "--lambda" => config.lambda = common::flag_value(&mut args, "--lambda")?,
            "--seed" => config.seed = common::flag_value(&mut args, "--seed")?,
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
    let final_loss = report.train_loss.last().copied().unwrap_or(f64::NAN);
    println!(
        "trained on {n_train} rows for {} iterations in {:.2?}; tested on {n_test}",
        config.iters, report.train_time
    );
    println!(
        "final loss: train {final_loss:.5}, test {:.5}",
        report.test_loss
    );
    println!("train accuracy: {:.3}", report.train_accuracy);
    println!("test accuracy: {:.3}", report.test_accuracy);
    Ok(())
}

//! Maximum-likelihood precision matrix of a Gaussian by gradient ascent.
//!
//! For samples with covariance `S`, the log-likelihood of a precision matrix `P`
//! is, up to constants and a factor n/2, `ln det P − tr(S P)`. `#[grad]` derives its
//! gradient `P⁻ᵀ − Sᵀ`; ascent from the identity converges to the closed form
//! `S⁻¹`, and the example prints the distance to it shrinking.
//!
//! ```text
//! cargo run --release --example gaussian
//! cargo run --release --example gaussian -- --dim 6 --samples 2000 --seed 3
//! ```

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use matgrad::{grad, ln_det, Workspace};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The Gaussian log-likelihood of the precision matrix `p` given the sample
/// covariance `s` (per sample, times 2, without the constant): `ln det P − tr(S P)`.
#[grad(wrt = p)]
pub fn log_likelihood(s: &DMatrix<f64>, p: &DMatrix<f64>) -> f64 {
    ln_det(p) - (s * p).trace()
}

/// Settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Dimension of the Gaussian.
    pub dim: usize,
    /// Number of samples drawn.
    pub samples: usize,
    /// Gradient-ascent iterations (at most: the run stops once the distance to
    /// `S⁻¹` is below `tolerance`).
    pub iters: usize,
    /// Stop when ‖P − S⁻¹‖ falls below this.
    pub tolerance: f64,
    /// Seed of the samples.
    pub seed: u64,
    /// Record (and print, if `verbose`) the distance every this many iterations.
    pub every: usize,
    /// Print the distance as it falls.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dim: 5,
            samples: 1000,
            iters: 20_000,
            tolerance: 1e-7,
            seed: 42,
            every: 250,
            verbose: true,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// `(iteration, ‖P − S⁻¹‖_F)`, from the start to the last iteration.
    pub distances: Vec<(usize, f64)>,
    /// The log-likelihood at the start and at the end.
    pub objective: (f64, f64),
    /// The step size used: `1 / λ_max(S)²`.
    pub step: f64,
    /// Iterations run.
    pub iters: usize,
    /// ‖S⁻¹ − Σ⁻¹‖_F / ‖Σ⁻¹‖_F: how far the estimate is from the true precision
    /// (sampling error, not optimisation error).
    pub true_rel_error: f64,
    /// Time spent in the ascent.
    pub time: Duration,
}

/// A covariance with correlations decaying along the diagonal, `Σᵢⱼ = σᵢσⱼ 0.6^|i−j|`
/// with scales σ between 1 and 1.5: well conditioned, and not diagonal.
pub fn true_covariance(dim: usize) -> DMatrix<f64> {
    let sigma = |i: usize| 1.0 + 0.5 * (i as f64) / (dim.max(2) - 1) as f64;
    DMatrix::from_fn(dim, dim, |i, j| {
        sigma(i) * sigma(j) * 0.6f64.powi(i.abs_diff(j) as i32)
    })
}

/// `n` samples (rows) of a centred Gaussian with covariance `cov`, via its Cholesky
/// factor: `x = L z` with `z` standard normal.
pub fn sample(cov: &DMatrix<f64>, n: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    let l = cov
        .clone()
        .cholesky()
        .expect("a covariance is positive definite")
        .l();
    let z = DMatrix::from_fn(n, cov.nrows(), |_, _| common::standard_normal(rng));
    z * l.transpose()
}

/// The sample covariance (centred, divided by n: the maximum-likelihood one).
pub fn sample_covariance(x: &DMatrix<f64>) -> DMatrix<f64> {
    let n = x.nrows() as f64;
    let mean = x.row_mean();
    let centred = DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - mean[j]);
    centred.tr_mul(&centred) / n
}

/// Samples the data and runs gradient ascent on `P` from the identity.
pub fn run(config: &Config) -> common::Result<Report> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let sigma = true_covariance(config.dim);
    let x = sample(&sigma, config.samples, &mut rng);
    let s = sample_covariance(&x);
    let target = s
        .clone()
        .try_inverse()
        .ok_or("the sample covariance is singular: draw more samples")?;
    let true_precision = sigma.try_inverse().ok_or("Σ is singular")?;
    let true_rel_error = (&target - &true_precision).norm() / true_precision.norm();

    // The Hessian at the optimum is −S ⊗ S, so steps up to about 1/λ_max(S)² are stable.
    let lambda_max = s.symmetric_eigenvalues().max();
    let step = 1.0 / (lambda_max * lambda_max);

    let start = Instant::now();
    let mut p = DMatrix::identity(config.dim, config.dim);
    let mut g = DMatrix::zeros(0, 0);
    let mut ws = Workspace::new();
    let first = log_likelihood(&s, &p);
    let mut distances = vec![(0, (&p - &target).norm())];
    if config.verbose {
        println!(
            "iter {:>5}  ‖P − S⁻¹‖ = {:.3e}  log-likelihood {first:.6}",
            0, distances[0].1
        );
    }
    let mut iters = 0;
    for it in 1..=config.iters {
        let value = log_likelihood_grad_into(&s, &p, &mut g, &mut ws);
        // Ascent, with the gradient symmetrised so that P stays exactly symmetric.
        for i in 0..config.dim {
            for j in 0..config.dim {
                p[(i, j)] += step * 0.5 * (g[(i, j)] + g[(j, i)]);
            }
        }
        iters = it;
        let dist = (&p - &target).norm();
        let done = dist < config.tolerance;
        if it % config.every.max(1) == 0 || done || it == config.iters {
            distances.push((it, dist));
            if config.verbose {
                println!("iter {it:>5}  ‖P − S⁻¹‖ = {dist:.3e}  log-likelihood {value:.6}");
            }
        }
        if done {
            break;
        }
    }
    let time = start.elapsed();
    Ok(Report {
        distances,
        objective: (first, log_likelihood(&s, &p)),
        step,
        iters,
        true_rel_error,
        time,
    })
}

const USAGE: &str = "\
Maximum-likelihood precision matrix by gradient ascent on ln det P − tr(S P), gradient derived by #[grad].

usage: cargo run --release --example gaussian -- [options]

options:
  --dim N       dimension (default 5)
  --samples N   samples drawn (default 1000)
  --iters N     at most N iterations (default 20000)
  --seed N      seed of the samples (default 42)
  -h, --help    print this help";

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> common::Result<Option<Config>> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dim" => config.dim = common::flag_value(&mut args, "--dim")?,
            "--samples" => config.samples = common::flag_value(&mut args, "--samples")?,
            "--iters" => config.iters = common::flag_value(&mut args, "--iters")?,
            "--seed" => config.seed = common::flag_value(&mut args, "--seed")?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    if config.dim == 0 || config.samples <= config.dim {
        return Err("need --dim ≥ 1 and --samples > --dim".into());
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
    println!(
        "{} iterations with step {:.4} in {:.2?}; log-likelihood {:.6} → {:.6}",
        report.iters, report.step, report.time, report.objective.0, report.objective.1
    );
    println!(
        "S⁻¹ vs the true precision Σ⁻¹ (sampling error): {:.3} relative",
        report.true_rel_error
    );
    if let Some((_, d)) = report.distances.last() {
        println!("distance to S⁻¹: {d:.3e}");
    }
    Ok(())
}

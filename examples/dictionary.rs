//! Dictionary learning on the hand-written digits, the second example of the
//! backprop-rules post: minimise `‖X − D R‖² + λ‖R‖²` over a dictionary `D` of `k`
//! atoms (64 × k) and codes `R` (k × m) by alternating gradient steps, each
//! gradient derived by `#[grad]`.
//!
//! ```text
//! cargo run --release --example dictionary
//! cargo run --release --example dictionary -- --atoms 25 --iters 400 --lambda 0.05
//! ```
//!
//! Data: UCI "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak,
//! 1998), CC BY 4.0, as distributed with scikit-learn.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use matgrad::{grad, Workspace};
use nalgebra::DMatrix;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

// One objective, differentiated twice: in D (R held constant) for the dictionary
// step and in R (D held constant) for the coding step. A parameter outside `wrt`
// is a constant, so each companion computes only the gradient its step needs.

/// `‖X − D R‖² + λ‖R‖²`, differentiated in the dictionary `d`:
/// ∂/∂D = −2 (X − D R) Rᵀ.
#[grad(wrt = d)]
pub fn objective_d(x: &DMatrix<f64>, d: &DMatrix<f64>, r: &DMatrix<f64>, lambda: f64) -> f64 {
    (x - d * r).norm_squared() + lambda * r.norm_squared()
}

/// `‖X − D R‖² + λ‖R‖²`, differentiated in the codes `r`:
/// ∂/∂R = −2 Dᵀ (X − D R) + 2λ R.
#[grad(wrt = r)]
pub fn objective_r(x: &DMatrix<f64>, d: &DMatrix<f64>, r: &DMatrix<f64>, lambda: f64) -> f64 {
    (x - d * r).norm_squared() + lambda * r.norm_squared()
}

/// Settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Number of atoms k.
    pub atoms: usize,
    /// Alternating iterations (one step in R, then one in D).
    pub iters: usize,
    /// Weight λ of the penalty on the codes.
    pub lambda: f64,
    /// Use at most this many images (all 1797 when `None`).
    pub images: Option<usize>,
    /// Seed of the image subset and of the initial atoms.
    pub seed: u64,
    /// Record (and print, if `verbose`) the error every this many iterations.
    pub every: usize,
    /// Print the error as it falls.
    pub verbose: bool,
    /// Where to draw the atoms, if anywhere.
    pub plot: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            atoms: 16,
            iters: 300,
            lambda: 0.1,
            images: None,
            seed: 42,
            every: 25,
            verbose: true,
            plot: None,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// `(iteration, ‖X − D R‖ / ‖X‖)`, from before the first iteration to after the last.
    pub errors: Vec<(usize, f64)>,
    /// The objective after the last iteration.
    pub objective: f64,
    /// The learned dictionary (64 × k, one 8×8 atom per column).
    pub dictionary: DMatrix<f64>,
    /// Number of images used.
    pub images: usize,
    /// Time spent learning.
    pub time: Duration,
}

/// The largest eigenvalue of the symmetric positive semi-definite matrix `aᵀ a`
/// (`transpose_first`) or `a aᵀ`: the Lipschitz constant of each step is twice it.
fn gram_norm(a: &DMatrix<f64>, transpose_first: bool) -> f64 {
    let gram = if transpose_first {
        a.tr_mul(a)
    } else {
        a * a.transpose()
    };
    gram.symmetric_eigenvalues().max()
}

/// Scales every column of `d` with a norm above 1 back onto the unit sphere: the
/// projection onto the constraint that keeps `D R` from trading a large `D` for
/// a small penalised `R`.
fn project_columns(d: &mut DMatrix<f64>) {
    for mut col in d.column_iter_mut() {
        let norm = col.norm();
        if norm > 1.0 {
            col /= norm;
        }
    }
}

/// Learns a dictionary of `config.atoms` atoms for the digit images.
pub fn run(config: &Config) -> common::Result<Report> {
    let (pixels, _labels) = common::load_digits()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let m = config
        .images
        .unwrap_or(pixels.nrows())
        .clamp(1, pixels.nrows());
    let k = config.atoms.max(1);
    // X is 64 × m: one image per column.
    let chosen = sample(&mut rng, pixels.nrows(), m).into_vec();
    let x = common::select_rows(&pixels, &chosen).transpose();
    let x_norm = x.norm();

    let start = Instant::now();
    // Start from k distinct images, normalised, and zero codes.
    let first = sample(&mut rng, m, k.min(m)).into_vec();
    let mut d = DMatrix::from_fn(64, k, |i, j| x[(i, first[j % first.len()])]);
    for mut col in d.column_iter_mut() {
        col.normalize_mut();
    }
    let mut r = DMatrix::zeros(k, m);
    let (mut g_d, mut g_r) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    let mut ws = Workspace::new();

    let rel_err = |d: &DMatrix<f64>, r: &DMatrix<f64>| (&x - d * r).norm() / x_norm;
    let mut errors = vec![(0, rel_err(&d, &r))];
    if config.verbose {
        println!("iter {:>4}  relative error {:.4}", 0, errors[0].1);
    }
    for it in 1..=config.iters {
        // Coding step: R ← R − ∂f/∂R / L_R with L_R = 2 (‖DᵀD‖₂ + λ).
        objective_r_grad_into(&x, &d, &r, config.lambda, &mut g_r, &mut ws);
        let step_r = 1.0 / (2.0 * (gram_norm(&d, true) + config.lambda));
        r -= &g_r * step_r;
        // Dictionary step: D ← D − ∂f/∂D / L_D with L_D = 2 ‖R Rᵀ‖₂, then projected.
        objective_d_grad_into(&x, &d, &r, config.lambda, &mut g_d, &mut ws);
        let l_d = 2.0 * gram_norm(&r, false);
        if l_d > 0.0 {
            d -= &g_d / l_d;
            project_columns(&mut d);
        }
        if it % config.every.max(1) == 0 || it == config.iters {
            let e = rel_err(&d, &r);
            errors.push((it, e));
            if config.verbose {
                let f = objective_d(&x, &d, &r, config.lambda);
                println!("iter {it:>4}  relative error {e:.4}  objective {f:.3}");
            }
        }
    }
    let time = start.elapsed();

    if let Some(path) = &config.plot {
        common::plot_image_grid(
            path,
            &format!("{k} atoms, λ = {} (red +, blue −)", config.lambda),
            &d,
            8,
            (k as f64).sqrt().ceil() as usize,
        )?;
    }
    Ok(Report {
        errors,
        objective: objective_d(&x, &d, &r, config.lambda),
        dictionary: d,
        images: m,
        time,
    })
}

const USAGE: &str = "\
Dictionary learning on the digits, ‖X − D R‖² + λ‖R‖², with gradients derived by #[grad].

usage: cargo run --release --example dictionary -- [options]

options:
  --atoms N    number of atoms (default 16)
  --iters N    alternating iterations (default 300)
  --lambda X   penalty on the codes (default 0.1)
  --images N   use at most N images (default all 1797)
  --seed N     seed of the subset and of the initial atoms (default 42)
  -h, --help   print this help";

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> common::Result<Option<Config>> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--atoms" => config.atoms = common::flag_value(&mut args, "--atoms")?,
            "--iters" => config.iters = common::flag_value(&mut args, "--iters")?,
            "--lambda" => config.lambda = common::flag_value(&mut args, "--lambda")?,
            "--images" => config.images = Some(common::flag_value(&mut args, "--images")?),
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
    let Some(mut config) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let plot = common::output_dir()?.join("dictionary-atoms.png");
    config.plot = Some(plot.clone());
    let report = run(&config)?;
    println!(
        "{} atoms learned from {} images in {:.2?}",
        config.atoms, report.images, report.time
    );
    println!("atoms: {}", plot.display());
    if let Some((_, e)) = report.errors.last() {
        println!("relative error: {e:.4}");
    }
    Ok(())
}

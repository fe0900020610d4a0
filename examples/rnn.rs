//! A tanh recurrent network forecasting the yearly sunspot number: from the 12
//! previous years, predict the next one. Trained by minibatch Adam on the years up to
//! 1948 and tested on 1949–2008, against the naive forecast "next year = this year".
//!
//! The loss is ordinary nalgebra code with a `let mut` state and a `for` loop over
//! the window's columns, a trip count known only at run time: `#[grad]` does not
//! unroll it; `loss_grad_into` backpropagates through time over the iterations it
//! saved, with reused gradient buffers and a [`Workspace`].
//!
//! Layout: one window per row. `xs` is windows × 12 (column `t` holds every window's
//! value at step `t`, contiguous in nalgebra's column-major storage, so
//! `xs.column(t)` is a cheap copy), and the state `h` is windows × hidden: each step
//! is one `h · W` product for the whole minibatch, plus the outer product
//! `xs.column(t) · u` of the inputs with the input weights.
//!
//! ```text
//! cargo run --release --example rnn
//! cargo run --release --example rnn -- --epochs 400 --hidden 16 --lr 0.01 --seed 7
//! ```
//!
//! Data: yearly mean total sunspot number 1700–2008, National Geophysical Data
//! Center (NOAA); public domain; this copy as distributed with statsmodels.

#[path = "common/mod.rs"]
mod common;

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use matgrad::{add_row, grad, Workspace};
use nalgebra::{DMatrix, DVector, RowDVector};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Years in a window: the columns of `xs`, the steps of the recurrence in [`loss`].
pub const WINDOW: usize = 12;

/// Mean squared error of a tanh RNN that reads a window of 12 values and predicts
/// the next one: `h_t = tanh(h_{t−1} W + x_t u + b)` from `h = 0`, then `h wo + bo`.
///
/// `xs` holds one window per row (oldest first), `y` the value that follows each.
#[grad(wrt = (w, u, b, wo, bo))]
pub fn loss(
    xs: &DMatrix<f64>,
    y: &DVector<f64>,
    w: &DMatrix<f64>,
    u: &RowDVector<f64>,
    b: &RowDVector<f64>,
    wo: &DVector<f64>,
    bo: f64,
) -> f64 {
    let mut h = DMatrix::zeros(xs.nrows(), w.nrows());
    for t in 0..xs.ncols() {
        h = add_row(&(&h * w + xs.column(t) * u), b).map(|v| v.tanh());
    }
    ((h * wo).add_scalar(bo) - y).norm_squared() / (xs.nrows() as f64)
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Passes over the training windows.
    pub epochs: usize,
    /// Width of the state `h`.
    pub hidden: usize,
    /// Adam step size.
    pub lr: f64,
    /// Seed of the initial weights and the shuffles.
    pub seed: u64,
    /// Minibatch size (the last, incomplete minibatch of an epoch is skipped so that
    /// every call has the same shapes; the shuffle changes it every epoch).
    pub batch: usize,
    /// The first year predicted in the test set; earlier years train.
    pub test_from: i32,
    /// Show a progress bar.
    pub progress: bool,
    /// Where to draw the loss curves, if anywhere.
    pub plot: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            epochs: 300,
            hidden: 12,
            lr: 0.01,
            seed: 42,
            batch: 32,
            test_from: 1949,
            progress: true,
            plot: None,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Mean squared error (standardised units) on the training windows after each epoch.
    pub train_loss: Vec<f64>,
    /// Mean squared error (standardised units) on the test windows after each epoch.
    pub test_loss: Vec<f64>,
    /// Root mean squared error of the network on the test years, in sunspots.
    pub test_rmse: f64,
    /// The same for the naive forecast (next year = last year of the window).
    pub naive_rmse: f64,
    /// Number of training and test windows.
    pub sizes: (usize, usize),
    /// Time spent training (evaluation included, data loading excluded).
    pub train_time: Duration,
}

/// The yearly sunspot series: (year, value) from 1700 to 2008.
pub fn load_sunspots() -> common::Result<Vec<(i32, f64)>> {
    let path = common::data_path("sunspots.csv");
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(BufReader::new(file));
    let mut series = Vec::new();
    for record in reader.records() {
        let record = record?;
        if record.len() != 2 {
            return Err(format!("sunspots: expected 2 fields, found {}", record.len()).into());
        }
        // Years are written as integers or as `1700.0`.
        let year = record[0].trim().parse::<f64>()?;
        series.push((year as i32, record[1].trim().parse::<f64>()?));
    }
    Ok(series)
}

/// Windows of `WINDOW` standardised values (rows of `xs`) and the value that follows
/// each (`y`), for the targets at indices `targets` of `z`.
fn windows(z: &[f64], targets: std::ops::Range<usize>) -> (DMatrix<f64>, DVector<f64>) {
    let n = targets.len();
    let start = targets.start;
    let xs = DMatrix::from_fn(n, WINDOW, |i, t| z[start + i - WINDOW + t]);
    let y = DVector::from_fn(n, |i, _| z[start + i]);
    (xs, y)
}

/// The network's parameters.
struct Params {
    w: DMatrix<f64>,
    u: RowDVector<f64>,
    b: RowDVector<f64>,
    wo: DVector<f64>,
    bo: f64,
}

impl Params {
    /// Uniform weights of scale 1/√hidden for the recurrence and the output, ±1 for
    /// the inputs (which are standardised), zero biases.
    fn init(hidden: usize, rng: &mut impl Rng) -> Self {
        let s = 1.0 / (hidden as f64).sqrt();
        let mut uniform = |rows: usize, cols: usize, limit: f64| {
            DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-limit..limit))
        };
        let w = uniform(hidden, hidden, s);
        let u = RowDVector::from_row_slice(uniform(1, hidden, 1.0).as_slice());
        let wo = DVector::from_column_slice(uniform(hidden, 1, s).as_slice());
        Params {
            w,
            u,
            b: RowDVector::zeros(hidden),
            wo,
            bo: 0.0,
        }
    }

    /// Mean squared error on `(xs, y)`, by the original (undifferentiated) function.
    fn loss(&self, xs: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
        loss(xs, y, &self.w, &self.u, &self.b, &self.wo, self.bo)
    }
}

/// Loads the series, standardises it by the training years' mean and deviation,
/// trains, and evaluates on the test years.
pub fn run(config: &Config) -> common::Result<Report> {
    let series = load_sunspots()?;
    let split = series
        .iter()
        .position(|&(year, _)| year >= config.test_from)
        .filter(|&k| k > WINDOW + 1)
        .ok_or_else(|| format!("no training years before {}", config.test_from))?;
    if split >= series.len() {
        return Err(format!("no test years from {}", config.test_from).into());
    }
    let values: Vec<f64> = series.iter().map(|&(_, v)| v).collect();
    // Only the training years set the scale: the test years stay unseen.
    let train_values = &values[..split];
    let mean = train_values.iter().sum::<f64>() / split as f64;
    let var = train_values
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / split as f64;
    let std = var.sqrt();
    let z: Vec<f64> = values.iter().map(|v| (v - mean) / std).collect();
    let (x_train, y_train) = windows(&z, WINDOW..split);
    let (x_test, y_test) = windows(&z, split..z.len());
    let (n_train, n_test) = (y_train.len(), y_test.len());

    // The naive forecast: next year = the window's last year.
    let naive_mse = (0..n_test)
        .map(|i| (y_test[i] - x_test[(i, WINDOW - 1)]).powi(2))
        .sum::<f64>()
        / n_test as f64;

    let batch = config.batch.clamp(1, n_train);
    let start = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut p = Params::init(config.hidden, &mut rng);
    let mut adam = common::Adam::new(config.lr);
    // Buffers reused by every step: empty at first, sized by the first call.
    let mut ws = Workspace::new();
    let (mut g_w, mut g_u, mut g_b) = (
        DMatrix::zeros(0, 0),
        RowDVector::zeros(0),
        RowDVector::zeros(0),
    );
    let (mut g_wo, mut g_bo) = (DVector::zeros(0), 0.0);
    let (mut xb, mut yb) = (DMatrix::zeros(0, 0), DVector::zeros(batch));
    let mut order: Vec<usize> = (0..n_train).collect();

    let bar = if config.progress {
        ProgressBar::new(config.epochs as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")?
            .progress_chars("=> "),
    );
    bar.set_prefix("epochs");
    let mut report = Report {
        train_loss: Vec::with_capacity(config.epochs),
        test_loss: Vec::with_capacity(config.epochs),
        test_rmse: f64::NAN,
        naive_rmse: naive_mse.sqrt() * std,
        sizes: (n_train, n_test),
        train_time: Duration::ZERO,
    };
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        for idx in order.chunks_exact(batch) {
            common::gather_rows_into(&mut xb, &x_train, idx);
            for (yk, &i) in yb.iter_mut().zip(idx) {
                *yk = y_train[i];
            }
            loss_grad_into(
                &xb, &yb, &p.w, &p.u, &p.b, &p.wo, p.bo, &mut g_w, &mut g_u, &mut g_b, &mut g_wo,
                &mut g_bo, &mut ws,
            );
            adam.next_step();
            adam.update(0, p.w.as_mut_slice(), g_w.as_slice());
            adam.update(1, p.u.as_mut_slice(), g_u.as_slice());
            adam.update(2, p.b.as_mut_slice(), g_b.as_slice());
            adam.update(3, p.wo.as_mut_slice(), g_wo.as_slice());
            adam.update(4, std::slice::from_mut(&mut p.bo), &[g_bo]);
        }
        let (train_loss, test_loss) = (p.loss(&x_train, &y_train), p.loss(&x_test, &y_test));
        report.train_loss.push(train_loss);
        report.test_loss.push(test_loss);
        let summary = format!(
            "train RMSE {:.1}  test RMSE {:.1}",
            train_loss.sqrt() * std,
            test_loss.sqrt() * std
        );
        if config.progress && bar.is_hidden() && (epoch % 50 == 0 || epoch == config.epochs) {
            // No terminal to draw the bar on: a plain line every 50 epochs instead.
            println!("epoch {epoch:>4}/{}  {summary}", config.epochs);
        }
        bar.set_message(summary);
        bar.inc(1);
    }
    bar.finish();
    report.test_rmse = report.test_loss.last().map_or(f64::NAN, |l| l.sqrt() * std);
    report.train_time = start.elapsed();

    if let Some(path) = &config.plot {
        common::plot_curves(
            path,
            &format!(
                "sunspots: tanh RNN, {WINDOW} steps, hidden {}, Adam (lr {})",
                config.hidden, config.lr
            ),
            "mean squared error (standardised)",
            &[("train", &report.train_loss), ("test", &report.test_loss)],
        )?;
    }
    Ok(report)
}

const USAGE: &str = "\
Trains a tanh RNN to forecast the yearly sunspot number from the 12 previous years,
with a gradient (backpropagation through time) derived by #[grad].

usage: cargo run --release --example rnn -- [options]

options:
  --epochs N     passes over the training windows (default 300)
  --hidden N     width of the state (default 12)
  --lr X         Adam step size (default 0.01)
  --seed N       seed of the initial weights and the shuffles (default 42)
  --batch N      minibatch size (default 32)
  --test-from Y  first year of the test set (default 1949)
  -h, --help     print this help";

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> common::Result<Option<Config>> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--epochs" => config.epochs = common::flag_value(&mut args, "--epochs")?,
            "--hidden" => config.hidden = common::flag_value(&mut args, "--hidden")?,
            "--lr" => config.lr = common::flag_value(&mut args, "--lr")?,
            "--seed" => config.seed = common::flag_value(&mut args, "--seed")?,
            "--batch" => config.batch = common::flag_value(&mut args, "--batch")?,
            "--test-from" => config.test_from = common::flag_value(&mut args, "--test-from")?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    if config.hidden == 0 || config.batch == 0 {
        return Err("--hidden and --batch must be positive".into());
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
    let plot = common::output_dir()?.join("rnn-loss.png");
    config.plot = Some(plot.clone());
    let report = run(&config)?;
    let (n_train, n_test) = report.sizes;
    println!(
        "trained on {n_train} windows (years to {}) for {} epochs in {:.2?}; tested on {n_test} years",
        config.test_from - 1,
        config.epochs,
        report.train_time
    );
    println!("loss curves: {}", plot.display());
    println!(
        "test RMSE (sunspots): RNN {:.2}, naive (next year = this year) {:.2}",
        report.test_rmse, report.naive_rmse
    );
    Ok(())
}

//! A two-layer network on the hand-written digits: 64 pixels → hidden ReLU layer →
//! 10 classes, softmax cross-entropy, trained by minibatch Adam.
//!
//! The loss is written once, as ordinary nalgebra code; `#[grad]` derives
//! `loss_grad_into`, which the training loop calls with reused gradient buffers and
//! a [`Workspace`]: after the first minibatch it allocates no matrices.
//!
//! ```text
//! cargo run --release --example digits
//! cargo run --release --example digits -- --epochs 40 --hidden 128 --lr 0.005 --seed 7
//! ```
//!
//! Data: UCI "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak,
//! 1998), CC BY 4.0, as distributed with scikit-learn.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use matgrad::{add_row, grad, relu, softmax_cross_entropy, Workspace};
use nalgebra::{DMatrix, RowDVector};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mean softmax cross-entropy of a 64 → hidden → 10 network with biases.
///
/// `x` holds one image per row, `y` the one-hot labels, `inv_n` is one over the
/// number of rows (a parameter, so that the caller picks the scale; writing
/// `/ (x.nrows() as f64)` in the body works as well).
#[grad(wrt = (w1, b1, w2, b2))]
pub fn loss(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    inv_n: f64,
) -> f64 {
    let h = relu(&add_row(&(x * w1), b1));
    let z = add_row(&(h * w2), b2);
    softmax_cross_entropy(&z, y) * inv_n
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Passes over the training set.
    pub epochs: usize,
    /// Width of the hidden layer.
    pub hidden: usize,
    /// Adam step size.
    pub lr: f64,
    /// Seed of the shuffle, the split and the initial weights.
    pub seed: u64,
    /// Minibatch size (the last, incomplete minibatch of an epoch is skipped so
    /// that every call has the same shapes; the shuffle changes it every epoch).
    pub batch: usize,
    /// Use at most this many training images (all of the 80 % when `None`).
    pub max_train: Option<usize>,
    /// Show a progress bar per epoch.
    pub progress: bool,
    /// Where to draw the loss curves, if anywhere.
    pub plot: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            epochs: 25,
            hidden: 64,
            lr: 0.005,
            seed: 42,
            batch: 32,
            max_train: None,
            progress: true,
            plot: None,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Mean cross-entropy on the training set after each epoch.
    pub train_loss: Vec<f64>,
    /// Mean cross-entropy on the test set after each epoch.
    pub test_loss: Vec<f64>,
    /// Fraction of test images classified correctly at the end.
    pub test_accuracy: f64,
    /// Number of training and test images.
    pub sizes: (usize, usize),
    /// Time spent training (evaluation included, data loading excluded).
    pub train_time: Duration,
}

/// The network's parameters.
struct Params {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

impl Params {
    /// He-uniform weights for the ReLU layer, Glorot-uniform for the output layer,
    /// zero biases.
    fn init(hidden: usize, rng: &mut impl Rng) -> Self {
        let mut uniform = |rows: usize, cols: usize, limit: f64| {
            DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-limit..limit))
        };
        let w1 = uniform(64, hidden, (6.0 / 64.0_f64).sqrt());
        let w2 = uniform(hidden, 10, (6.0 / (hidden + 10) as f64).sqrt());
        Params {
            w1,
            b1: RowDVector::zeros(hidden),
            w2,
            b2: RowDVector::zeros(10),
        }
    }

    /// Mean cross-entropy on `(x, y)`, by the original (undifferentiated) function.
    fn loss(&self, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        loss(
            x,
            y,
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            1.0 / x.nrows() as f64,
        )
    }

    /// Fraction of rows of `x` whose highest logit is the label.
    fn accuracy(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        let h = relu(&add_row(&(x * &self.w1), &self.b1));
        let z = add_row(&(h * &self.w2), &self.b2);
        let hits = common::argmax_rows(&z)
            .iter()
            .zip(labels)
            .filter(|(p, l)| p == l)
            .count();
        hits as f64 / labels.len() as f64
    }
}

/// Loads the digits, splits them 80/20, trains, and evaluates.
pub fn run(config: &Config) -> common::Result<Report> {
    let (x, labels) = common::load_digits()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let (mut train, test) = common::train_test_split(x.nrows(), 0.2, &mut rng);
    if let Some(max) = config.max_train {
        train.truncate(max);
    }
    let y = common::one_hot(&labels, 10);
    let (x_train, y_train) = (
        common::select_rows(&x, &train),
        common::select_rows(&y, &train),
    );
    let (x_test, y_test) = (
        common::select_rows(&x, &test),
        common::select_rows(&y, &test),
    );
    let test_labels: Vec<usize> = test.iter().map(|&i| labels[i]).collect();

    let batch = config.batch.clamp(1, train.len());
    let batches = train.len() / batch;
    let inv_batch = 1.0 / batch as f64;

    let start = Instant::now();
    let mut p = Params::init(config.hidden, &mut rng);
    let mut adam = common::Adam::new(config.lr);
    // Buffers reused by every step: empty at first, sized by the first call.
    let mut ws = Workspace::new();
    let (mut g_w1, mut g_b1) = (DMatrix::zeros(0, 0), RowDVector::zeros(0));
    let (mut g_w2, mut g_b2) = (DMatrix::zeros(0, 0), RowDVector::zeros(0));
    let (mut xb, mut yb) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    let mut order: Vec<usize> = (0..train.len()).collect();

    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")?
        .progress_chars("=> ");
    let mut report = Report {
        train_loss: Vec::with_capacity(config.epochs),
        test_loss: Vec::with_capacity(config.epochs),
        test_accuracy: 0.0,
        sizes: (train.len(), test.len()),
        train_time: Duration::ZERO,
    };
    for epoch in 1..=config.epochs {
        let bar = if config.progress {
            ProgressBar::new(batches as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(style.clone());
        bar.set_prefix(format!("epoch {epoch:>3}/{}", config.epochs));
        order.shuffle(&mut rng);
        let mut running = 0.0;
        for (k, idx) in order.chunks_exact(batch).enumerate() {
            common::gather_rows_into(&mut xb, &x_train, idx);
            common::gather_rows_into(&mut yb, &y_train, idx);
            let value = loss_grad_into(
                &xb, &yb, &p.w1, &p.b1, &p.w2, &p.b2, inv_batch, &mut g_w1, &mut g_b1, &mut g_w2,
                &mut g_b2, &mut ws,
            );
            adam.next_step();
            adam.update(0, p.w1.as_mut_slice(), g_w1.as_slice());
            adam.update(1, p.b1.as_mut_slice(), g_b1.as_slice());
            adam.update(2, p.w2.as_mut_slice(), g_w2.as_slice());
            adam.update(3, p.b2.as_mut_slice(), g_b2.as_slice());
            running += (value - running) / (k + 1) as f64;
            bar.set_message(format!("loss {running:.4}"));
            bar.inc(1);
        }
        let (train_loss, test_loss) = (p.loss(&x_train, &y_train), p.loss(&x_test, &y_test));
        report.train_loss.push(train_loss);
        report.test_loss.push(test_loss);
        let summary = format!("loss {running:.4}  train {train_loss:.4}  test {test_loss:.4}");
        if config.progress && bar.is_hidden() {
            // No terminal to draw the bar on: one plain line per epoch instead.
            println!("epoch {epoch:>3}/{}  {summary}", config.epochs);
        }
        bar.finish_with_message(summary);
    }
    report.test_accuracy = p.accuracy(&x_test, &test_labels);
    report.train_time = start.elapsed();

    if let Some(path) = &config.plot {
        common::plot_curves(
            path,
            &format!(
                "digits: 64 → {} → 10 MLP, Adam (lr {})",
                config.hidden, config.lr
            ),
            "mean cross-entropy",
            &[("train", &report.train_loss), ("test", &report.test_loss)],
        )?;
    }
    Ok(report)
}

const USAGE: &str = "\
Trains a 64 → hidden → 10 network on the hand-written digits with a gradient derived by #[grad].

usage: cargo run --release --example digits -- [options]

options:
  --epochs N   passes over the training set (default 25)
  --hidden N   width of the hidden layer (default 64)
  --lr X       Adam step size (default 0.005)
  --seed N     seed of the split, the shuffles and the initial weights (default 42)
  --batch N    minibatch size (default 32)
  -h, --help   print this help";

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
    let plot = common::output_dir()?.join("digits-loss.png");
    config.plot = Some(plot.clone());
    let report = run(&config)?;
    let (n_train, n_test) = report.sizes;
    println!(
        "trained on {n_train} images for {} epochs in {:.2?}; tested on {n_test}",
        config.epochs, report.train_time
    );
    if let (Some(train), Some(test)) = (report.train_loss.last(), report.test_loss.last()) {
        println!("final loss: train {train:.4}, test {test:.4}");
    }
    println!("loss curves: {}", plot.display());
    println!("test accuracy: {:.3}", report.test_accuracy);
    Ok(())
}

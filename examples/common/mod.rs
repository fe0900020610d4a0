//! Helpers shared by the examples: data loading, seeded randomness, the Adam
//! optimizer, command-line flags and plotting.
//!
//! Each example includes this file with `#[path = "common/mod.rs"] mod common;`, so
//! an example uses only part of it.
#![allow(dead_code)]

use std::error::Error;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Once;

use flate2::read::GzDecoder;
use nalgebra::{DMatrix, DVector};
use plotters::prelude::*;
use rand::Rng;

/// The error type of the examples' fallible steps.
pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/// A data file shipped in `examples/data/`.
pub fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("data")
        .join(name)
}

/// `target/matgrad-examples/` of the workspace, where the examples write their
/// pictures; created if missing.
pub fn output_dir() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("matgrad-examples");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

/// The 1797 hand-written digits (UCI, as distributed with scikit-learn): one image
/// per row, 64 pixels scaled from 0..16 to [0, 1], and the labels 0..9.
pub fn load_digits() -> Result<(DMatrix<f64>, Vec<usize>)> {
    let path = data_path("digits.csv.gz");
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(GzDecoder::new(BufReader::new(file)));
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for record in reader.records() {
        let record = record?;
        if record.len() != 65 {
            return Err(format!("digits: expected 65 fields, found {}", record.len()).into());
        }
        for field in record.iter().take(64) {
            pixels.push(field.trim().parse::<f64>()? / 16.0);
        }
        labels.push(record[64].trim().parse::<usize>()?);
    }
    let n = labels.len();
    Ok((DMatrix::from_row_slice(n, 64, &pixels), labels))
}

/// The Wisconsin diagnostic breast cancer data (UCI, as distributed with
/// scikit-learn): 569 rows of 30 features, and the labels (0 malignant, 1 benign).
pub fn load_breast_cancer() -> Result<(DMatrix<f64>, Vec<f64>)> {
    let path = data_path("breast_cancer.csv");
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    // The first line is a header of another width: `569,30,malignant,benign`.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for record in reader.records() {
        let record = record?;
        if record.len() != 31 {
            return Err(
                format!("breast_cancer: expected 31 fields, found {}", record.len()).into(),
            );
        }
        for field in record.iter().take(30) {
            features.push(field.trim().parse::<f64>()?);
        }
        labels.push(record[30].trim().parse::<f64>()?);
    }
    let n = labels.len();
    Ok((DMatrix::from_row_slice(n, 30, &features), labels))
}

/// The rows `idx` of `m`, in that order.
pub fn select_rows(m: &DMatrix<f64>, idx: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(idx.len(), m.ncols(), |i, j| m[(idx[i], j)])
}

/// Copies the rows `idx` of `m` into `out` (resized only when its shape differs).
pub fn gather_rows_into(out: &mut DMatrix<f64>, m: &DMatrix<f64>, idx: &[usize]) {
    if out.shape() != (idx.len(), m.ncols()) {
        *out = DMatrix::zeros(idx.len(), m.ncols());
    }
    for j in 0..m.ncols() {
        for (i, &r) in idx.iter().enumerate() {
            out[(i, j)] = m[(r, j)];
        }
    }
}

/// The one-hot encoding of `labels` as an `n × classes` matrix.
pub fn one_hot(labels: &[usize], classes: usize) -> DMatrix<f64> {
    DMatrix::from_fn(labels.len(), classes, |i, j| {
        f64::from(u8::from(labels[i] == j))
    })
}

/// The index of the largest entry of each row.
pub fn argmax_rows(m: &DMatrix<f64>) -> Vec<usize> {
    m.row_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (j, &v)| {
                    if v > best.1 {
                        (j, v)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect()
}

/// Splits `0..n` at random into a training and a test part, `test_fraction` of
/// the rows going to the test part.
pub fn train_test_split(
    n: usize,
    test_fraction: f64,
    rng: &mut impl Rng,
) -> (Vec<usize>, Vec<usize>) {
    use rand::seq::SliceRandom;
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    // Rounded, and clamped so that neither part is empty.
    let n_test = ((n as f64 * test_fraction).round() as usize).clamp(1, n.saturating_sub(1));
    let test = idx.split_off(n - n_test);
    (idx, test)
}

/// Column means and standard deviations of `x` (a constant column gets 1).
pub fn column_stats(x: &DMatrix<f64>) -> (DVector<f64>, DVector<f64>) {
    let n = x.nrows() as f64;
    let mean = DVector::from_fn(x.ncols(), |j, _| x.column(j).sum() / n);
    let std = DVector::from_fn(x.ncols(), |j, _| {
        let var = x
            .column(j)
            .iter()
            .map(|v| (v - mean[j]).powi(2))
            .sum::<f64>()
            / n;
        if var > 0.0 {
            var.sqrt()
        } else {
            1.0
        }
    });
    (mean, std)
}

/// `(x - mean) / std`, column by column.
pub fn standardise(x: &DMatrix<f64>, mean: &DVector<f64>, std: &DVector<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - mean[j]) / std[j])
}

/// One draw of a standard normal variable (Box–Muller).
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]: ln is finite
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

// ---------------------------------------------------------------------------
// Optimizer
// ---------------------------------------------------------------------------

/// Adam (Kingma and Ba, 2015) over any number of parameters, each seen as a slice
/// of `f64` (`DMatrix::as_mut_slice`, or `std::slice::from_mut` for a scalar).
///
/// Call [`Adam::next_step`] once per iteration, then [`Adam::update`] once per
/// parameter with its own `slot` number. Allocates only on the first update of
/// each slot.
pub struct Adam {
    /// Step size.
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    t: i32,
    moments: Vec<(Vec<f64>, Vec<f64>)>,
}

impl Adam {
    /// Adam with step size `lr` and the usual β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            moments: Vec::new(),
        }
    }

    /// Starts an iteration (advances the bias corrections).
    pub fn next_step(&mut self) {
        self.t += 1;
    }

    /// `param -= lr · m̂ / (√v̂ + ε)` with the moment estimates of `slot` updated by `grad`.
    pub fn update(&mut self, slot: usize, param: &mut [f64], grad: &[f64]) {
        assert_eq!(
            param.len(),
            grad.len(),
            "adam: parameter and gradient sizes differ"
        );
        assert!(self.t > 0, "adam: call next_step before update");
        if self.moments.len() <= slot {
            self.moments.resize_with(slot + 1, Default::default);
        }
        let (m, v) = &mut self.moments[slot];
        if m.len() != param.len() {
            *m = vec![0.0; param.len()];
            *v = vec![0.0; param.len()];
        }
        let (b1, b2) = (self.beta1, self.beta2);
        let step = self.lr * (1.0 - b2.powi(self.t)).sqrt() / (1.0 - b1.powi(self.t));
        for (((p, &g), m), v) in param
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() + self.eps);
        }
    }
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

/// Runs an example's `main`, printing its error (if any) the way a command-line
/// tool does and exiting with status 1.
pub fn exit_on_error(result: Result<()>) {
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The value after `flag` on the command line, parsed.
pub fn flag_value<T: FromStr>(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let raw = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
    raw.parse().map_err(|e| format!("{flag} {raw}: {e}").into())
}

// ---------------------------------------------------------------------------
// Plotting
// ---------------------------------------------------------------------------

/// The font family name the plots use.
const FONT: &str = "sans-serif";

/// Registers the bundled DejaVu Sans for plotters' `ab_glyph` text backend, which
/// loads no system fonts: labels render the same on every machine.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the bundled DejaVu Sans font is a valid font"));
    });
}

/// Draws curves of one value per epoch (epochs counted from 1) into a PNG.
pub fn plot_curves(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[(&str, &[f64])],
) -> Result<()> {
    register_font();
    let n = series
        .iter()
        .map(|(_, ys)| ys.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let values = || {
        series
            .iter()
            .flat_map(|(_, ys)| ys.iter().copied())
            .filter(|v| v.is_finite())
    };
    let y_max = values().fold(f64::NEG_INFINITY, f64::max);
    let y_min = values().fold(f64::INFINITY, f64::min).min(0.0);
    let y_max = if y_max > y_min {
        y_max * 1.05
    } else {
        y_min + 1.0
    };

    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..n as f64, y_min..y_max)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .x_labels(n.min(12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FONT, 14))
        .draw()?;
    let colours = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (k, (name, ys)) in series.iter().enumerate() {
        let colour = colours[k % colours.len()];
        chart
            .draw_series(LineSeries::new(
                ys.iter().enumerate().map(|(i, &y)| ((i + 1) as f64, y)),
                colour.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Draws each column of `images` (each `side × side` pixels, stored column by
/// column as nalgebra does, i.e. row-major pixels of the image at row `r`, column
/// `c` sit at `r * side + c`) as a tile of a grid `cols` tiles wide, each tile
/// scaled to its own range: blue negative, white zero, red positive.
pub fn plot_image_grid(
    path: &Path,
    title: &str,
    images: &DMatrix<f64>,
    side: usize,
    cols: usize,
) -> Result<()> {
    assert_eq!(
        images.nrows(),
        side * side,
        "plot_image_grid: images must have side² rows"
    );
    register_font();
    let count = images.ncols();
    let cols = cols.max(1);
    let rows = count.div_ceil(cols).max(1);
    let (cell, gap, top) = (14u32, 8u32, 40u32);
    let tile = cell * side as u32;
    let width = gap + cols as u32 * (tile + gap);
    let height = top + gap + rows as u32 * (tile + gap);

    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        title.to_string(),
        (gap as i32, 10),
        (FONT, 18).into_font().color(&BLACK),
    ))?;
    for k in 0..count {
        let atom = images.column(k);
        let scale = atom.amax().max(f64::MIN_POSITIVE);
        let x0 = (gap + (k % cols) as u32 * (tile + gap)) as i32;
        let y0 = (top + gap + (k / cols) as u32 * (tile + gap)) as i32;
        for r in 0..side {
            for c in 0..side {
                let v = (atom[r * side + c] / scale).clamp(-1.0, 1.0);
                let fade = |t: f64| (255.0 * (1.0 - t.abs())).round() as u8;
                let colour = if v >= 0.0 {
                    RGBColor(255, fade(v), fade(v))
                } else {
                    RGBColor(fade(v), fade(v), 255)
                };
                let (x, y) = (x0 + (c as u32 * cell) as i32, y0 + (r as u32 * cell) as i32);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell as i32, y + cell as i32)],
                    colour.filled(),
                ))?;
            }
        }
    }
    root.present()?;
    Ok(())
}

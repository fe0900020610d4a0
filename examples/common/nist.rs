//! The NIST StRD nonlinear regression problems of the examples (Misra1a, Chwirut2,
//! DanWood): their data and certified values, read from `examples/data/nist/`, and
//! their residuals with Jacobians derived by `#[jacobian]`. Shared by `curve_fit`
//! (Levenberg–Marquardt written out, nalgebra 0.35) and `levenberg_marquardt` (the
//! `levenberg-marquardt` crate, nalgebra 0.34), which include this file beside
//! `common/mod.rs` with `#[path = "common/nist.rs"] mod nist;`.
//!
//! Data: NIST Statistical Reference Datasets, nonlinear regression; works of the US
//! government, public domain.
#![allow(dead_code)]

use matgrad::jacobian;
use nalgebra::{DMatrix, DVector};

use super::common::{data_path, Result};

/// Misra1a: y = b₁ (1 − e^{−b₂ x}).
#[jacobian(wrt = b)]
pub fn misra1a(b: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (b1, b2) = (b[0], b[1]);
    x.map(|v| b1 * (1.0 - (-b2 * v).exp())) - y
}

/// Chwirut2: y = e^{−b₁ x} / (b₂ + b₃ x).
#[jacobian(wrt = b)]
pub fn chwirut2(b: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (b1, b2, b3) = (b[0], b[1], b[2]);
    x.map(|v| (-b1 * v).exp() / (b2 + b3 * v)) - y
}

/// DanWood: y = b₁ x^{b₂}.
#[jacobian(wrt = b)]
pub fn danwood(b: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (b1, b2) = (b[0], b[1]);
    x.map(|v| b1 * v.powf(b2)) - y
}

/// A model's residuals `r(b; x, y)`, the `#[jacobian]` function itself.
pub type Residuals = fn(&DVector<f64>, &DVector<f64>, &DVector<f64>) -> DVector<f64>;

/// A model's residuals and their Jacobian at `b`, the generated `_jacobian`.
pub type Jacobian = fn(&DVector<f64>, &DVector<f64>, &DVector<f64>) -> (DVector<f64>, DMatrix<f64>);

/// One NIST model: its residuals and their Jacobian.
#[derive(Clone, Copy)]
pub struct Model {
    /// `r(b; x, y)`.
    pub residuals: Residuals,
    /// `(r, ∂r/∂b)`, derived by `#[jacobian(wrt = b)]`.
    pub jacobian: Jacobian,
}

/// One NIST problem: its data, its two starting points and its certified values.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The file's name without `.dat`.
    pub name: &'static str,
    /// The predictor.
    pub x: DVector<f64>,
    /// The response.
    pub y: DVector<f64>,
    /// NIST's first and second starting points.
    pub starts: [DVector<f64>; 2],
    /// The certified parameters.
    pub certified: DVector<f64>,
    /// The certified residual sum of squares.
    pub certified_rss: f64,
}

/// Reads `examples/data/nist/NAME.dat`: the `b_k =` lines (two starts, then the
/// certified value), the certified residual sum of squares, and the data after the
/// last `Data:` line (`y x` per line).
pub fn load(name: &'static str) -> Result<Problem> {
    let text = std::fs::read_to_string(data_path(&format!("nist/{name}.dat")))?;
    let (mut s1, mut s2, mut cert) = (Vec::new(), Vec::new(), Vec::new());
    let mut rss = f64::NAN;
    let mut data_start = 0;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('b') && t.contains('=') {
            let nums: Vec<f64> = t
                .split_once('=')
                .map(|(_, rest)| {
                    rest.split_whitespace()
                        .filter_map(|w| w.parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            if let [a, b, c, _] = nums.as_slice() {
                s1.push(*a);
                s2.push(*b);
                cert.push(*c);
            }
        } else if t.starts_with("Residual Sum of Squares:") {
            rss = t
                .rsplit(' ')
                .next()
                .and_then(|w| w.parse().ok())
                .unwrap_or(f64::NAN);
        } else if t.starts_with("Data:") {
            data_start = i + 1;
        }
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in text.lines().skip(data_start) {
        let nums: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [yy, xx] = nums.as_slice() {
            y.push(*yy);
            x.push(*xx);
        }
    }
    if cert.is_empty() || x.is_empty() || rss.is_nan() {
        return Err(format!("{name}.dat: no certified values or data").into());
    }
    Ok(Problem {
        name,
        x: DVector::from_vec(x),
        y: DVector::from_vec(y),
        starts: [DVector::from_vec(s1), DVector::from_vec(s2)],
        certified: DVector::from_vec(cert),
        certified_rss: rss,
    })
}

/// The problems fitted by the examples, by file name.
pub const NAMES: [&str; 3] = ["Misra1a", "Chwirut2", "DanWood"];

/// The model of a problem (one of [`NAMES`]).
pub fn model(name: &str) -> Model {
    match name {
        "Misra1a" => Model {
            residuals: misra1a,
            jacobian: misra1a_jacobian,
        },
        "Chwirut2" => Model {
            residuals: chwirut2,
            jacobian: chwirut2_jacobian,
        },
        _ => Model {
            residuals: danwood,
            jacobian: danwood_jacobian,
        },
    }
}

//! Levenberg–Marquardt on three NIST StRD nonlinear least-squares problems, with
//! the Jacobians derived at compile time by `#[jacobian]`.
//!
//! Each model is written once as the vector of its residuals; `#[jacobian(wrt = b)]`
//! derives `∂r/∂b`. The fit starts from both of NIST's starting points and must
//! reproduce the certified parameters (read from the same files) to at least six
//! significant digits, as NIST asks of nonlinear least-squares software.
//!
//! ```text
//! cargo run --release --example curve_fit
//! ```
//!
//! The solver step is written here (a few lines of Marquardt-scaled damped
//! Gauss–Newton) rather than taken from the `levenberg-marquardt` crate, which is
//! built on nalgebra 0.34 while this example uses the 0.35 that matgrad defaults to.
//!
//! Data: NIST Statistical Reference Datasets, nonlinear regression (Misra1a,
//! Chwirut2, DanWood); works of the US government, public domain.

#[path = "common/mod.rs"]
mod common;

use matgrad::jacobian;
use nalgebra::{DMatrix, DVector};

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

/// Residuals and Jacobian of one model at `b`.
type Model = fn(&DVector<f64>, &DVector<f64>, &DVector<f64>) -> (DVector<f64>, DMatrix<f64>);

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
pub fn load(name: &'static str) -> common::Result<Problem> {
    let text = std::fs::read_to_string(common::data_path(&format!("nist/{name}.dat")))?;
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

/// The model of a problem.
fn model(name: &str) -> Model {
    match name {
        "Misra1a" => misra1a_jacobian,
        "Chwirut2" => chwirut2_jacobian,
        _ => danwood_jacobian,
    }
}

/// A finished fit.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The parameters found.
    pub b: DVector<f64>,
    /// The residual sum of squares at each accepted iterate, from the start.
    pub history: Vec<f64>,
}

/// Levenberg–Marquardt: solve (JᵀJ + λ diag(JᵀJ)) δ = −Jᵀr; accept the step when the
/// sum of squares drops (λ /= 3), else retry with λ × 2; stop when a step changes the
/// sum of squares by less than 1e-15 relatively, or after `max_iter` steps.
pub fn levenberg_marquardt(
    model: Model,
    start: &DVector<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
    max_iter: usize,
) -> Fit {
    let mut b = start.clone();
    let (mut r, mut j) = model(&b, x, y);
    let mut cost = r.norm_squared();
    let mut history = vec![cost];
    let mut lambda = 1e-3;
    for _ in 0..max_iter {
        let jtj = j.transpose() * &j;
        let g = j.transpose() * &r;
        let mut improved = false;
        for _ in 0..60 {
            let mut a = jtj.clone();
            for k in 0..a.nrows() {
                a[(k, k)] += lambda * jtj[(k, k)].max(1e-300);
            }
            let Some(chol) = a.cholesky() else {
                lambda *= 2.0;
                continue;
            };
            let trial = &b - chol.solve(&g);
            let (r2, j2) = model(&trial, x, y);
            let c2 = r2.norm_squared();
            if c2.is_finite() && c2 < cost {
                let done = (cost - c2) <= 1e-15 * cost;
                (b, r, j, cost) = (trial, r2, j2, c2);
                history.push(cost);
                lambda = (lambda / 3.0).max(1e-12);
                improved = !done;
                break;
            }
            lambda *= 2.0;
        }
        if !improved {
            break;
        }
    }
    Fit { b, history }
}

/// One fit of one problem from one start, with its agreement with NIST.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The problem's name.
    pub problem: &'static str,
    /// 1 or 2: NIST's starting point.
    pub start: usize,
    /// The fit.
    pub fit: Fit,
    /// The certified parameters.
    pub certified: DVector<f64>,
    /// max_k |b_k − certified_k| / |certified_k|.
    pub worst_relative_error: f64,
    /// The certified residual sum of squares.
    pub certified_rss: f64,
}

/// Fits every problem from both starts.
pub fn run() -> common::Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for name in ["Misra1a", "Chwirut2", "DanWood"] {
        let p = load(name)?;
        for (k, start) in p.starts.iter().enumerate() {
            let fit = levenberg_marquardt(model(name), start, &p.x, &p.y, 500);
            let worst = fit
                .b
                .iter()
                .zip(p.certified.iter())
                .map(|(b, c)| ((b - c) / c).abs())
                .fold(0.0, f64::max);
            out.push(Outcome {
                problem: name,
                start: k + 1,
                fit,
                certified: p.certified.clone(),
                worst_relative_error: worst,
                certified_rss: p.certified_rss,
            });
        }
    }
    Ok(out)
}

fn main() {
    common::exit_on_error((|| {
        for o in run()? {
            let h = &o.fit.history;
            let shown: Vec<String> = h
                .iter()
                .step_by((h.len() / 6).max(1))
                .chain(h.last())
                .map(|c| format!("{c:.6e}"))
                .collect();
            println!(
                "{} from start {}: {} steps",
                o.problem,
                o.start,
                h.len() - 1
            );
            println!("  residual sum of squares: {}", shown.join(" → "));
            println!("  certified:               {:.10e}", o.certified_rss);
            for (k, (b, c)) in o.fit.b.iter().zip(o.certified.iter()).enumerate() {
                println!("  b{} = {b:.10e}   certified {c:.10e}", k + 1);
            }
            println!(
                "  worst relative error {:.1e}: {}",
                o.worst_relative_error,
                if o.worst_relative_error < 1e-6 {
                    "agrees to 6 significant digits"
                } else {
                    "DOES NOT AGREE"
                }
            );
        }
        Ok(())
    })());
}

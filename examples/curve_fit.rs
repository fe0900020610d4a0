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
//! built on nalgebra 0.34 while this example uses the 0.35 that matgrad defaults to;
//! `examples/levenberg_marquardt_nist.rs` does the same fits with that crate on
//! nalgebra 0.34. The data and the models are in `examples/common/nist.rs`, shared by
//! both.
//!
//! Data: NIST Statistical Reference Datasets, nonlinear regression (Misra1a,
//! Chwirut2, DanWood); works of the US government, public domain.

#[path = "common/mod.rs"]
mod common;
/// The NIST problems and their `#[jacobian]` residuals, shared with
/// `examples/levenberg_marquardt.rs`.
#[path = "common/nist.rs"]
pub mod nist;

use nalgebra::DVector;

use nist::Jacobian;

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
    model: Jacobian,
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
    for name in nist::NAMES {
        let p = nist::load(name)?;
        for (k, start) in p.starts.iter().enumerate() {
            let fit = levenberg_marquardt(nist::model(name).jacobian, start, &p.x, &p.y, 500);
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

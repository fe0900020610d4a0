//! The NIST StRD problems of `examples/curve_fit.rs` (Misra1a, Chwirut2 and DanWood,
//! each from both of NIST's starting points) fitted by the `levenberg-marquardt`
//! crate (0.15, MINPACK's algorithm), its `LeastSquaresProblem` implemented from the
//! `#[jacobian]` residuals of `examples/common/nist.rs`: the README's
//! levenberg-marquardt pattern, for any of the three models.
//!
//! The crate is built on nalgebra 0.34, so matgrad must be too (one `DMatrix` type):
//!
//! ```text
//! cargo run --release --example levenberg_marquardt_nist --no-default-features --features nalgebra_v0_34
//! ```
//!
//! Each fit must reproduce NIST's certified parameters to six significant digits (as
//! NIST asks of nonlinear least-squares software) and its certified residual sum of
//! squares. The crate asks for the residuals at every trial point and for the
//! Jacobian only at accepted ones; the residuals come from the `#[jacobian]` function
//! itself, the Jacobian from the generated `_jacobian` (which computes the residuals
//! again on the way, a small part of its work: one reverse pass per residual).
//!
//! Data: NIST Statistical Reference Datasets, nonlinear regression (Misra1a,
//! Chwirut2, DanWood); works of the US government, public domain.

// The crate's nalgebra (0.34) is matgrad's renamed dependency `nalgebra_0_34` (the
// example requires the feature `nalgebra_v0_34`).
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "common/mod.rs"]
mod common;
/// The NIST problems and their `#[jacobian]` residuals, shared with
/// `examples/curve_fit.rs`.
#[path = "common/nist.rs"]
pub mod nist;

use std::cell::Cell;

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{DMatrix, DVector, Dyn, Owned};

/// One fit as the crate's problem: the parameters, the data, and the model's
/// residuals and generated Jacobian; counts the Jacobians the crate asks for.
pub struct Curve<'a> {
    b: DVector<f64>,
    x: &'a DVector<f64>,
    y: &'a DVector<f64>,
    model: nist::Model,
    jacobians: Cell<usize>,
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for Curve<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, b: &DVector<f64>) {
        self.b.copy_from(b);
    }
    fn params(&self) -> DVector<f64> {
        self.b.clone()
    }
    fn residuals(&self) -> Option<DVector<f64>> {
        Some((self.model.residuals)(&self.b, self.x, self.y))
    }
    fn jacobian(&self) -> Option<DMatrix<f64>> {
        self.jacobians.set(self.jacobians.get() + 1);
        Some((self.model.jacobian)(&self.b, self.x, self.y).1)
    }
}

/// One fit of one problem from one start, with its agreement with NIST.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The problem's name.
    pub problem: &'static str,
    /// 1 or 2: NIST's starting point.
    pub start: usize,
    /// The parameters found.
    pub b: DVector<f64>,
    /// The certified parameters.
    pub certified: DVector<f64>,
    /// max_k |b_k − certified_k| / |certified_k|.
    pub worst_relative_error: f64,
    /// The residual sum of squares at `b`.
    pub rss: f64,
    /// The certified residual sum of squares.
    pub certified_rss: f64,
    /// Residual vectors the crate computed.
    pub residual_evaluations: usize,
    /// Jacobians the crate asked for.
    pub jacobians: usize,
    /// Why the crate stopped.
    pub termination: String,
    /// Whether the crate calls that a success.
    pub success: bool,
}

/// Fits every problem from both starts with the crate's defaults.
pub fn run() -> common::Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for name in nist::NAMES {
        let p = nist::load(name)?;
        for (k, start) in p.starts.iter().enumerate() {
            let curve = Curve {
                b: start.clone(),
                x: &p.x,
                y: &p.y,
                model: nist::model(name),
                jacobians: Cell::new(0),
            };
            let (curve, report) = LevenbergMarquardt::new().minimize(curve);
            let worst = curve
                .b
                .iter()
                .zip(p.certified.iter())
                .map(|(b, c)| ((b - c) / c).abs())
                .fold(0.0, f64::max);
            out.push(Outcome {
                problem: name,
                start: k + 1,
                rss: (curve.model.residuals)(&curve.b, &p.x, &p.y).norm_squared(),
                b: curve.b,
                certified: p.certified.clone(),
                worst_relative_error: worst,
                certified_rss: p.certified_rss,
                residual_evaluations: report.number_of_evaluations,
                jacobians: curve.jacobians.get(),
                termination: format!("{:?}", report.termination),
                success: report.termination.was_successful(),
            });
        }
    }
    Ok(out)
}

fn main() {
    common::exit_on_error((|| {
        for o in run()? {
            println!(
                "{} from start {}: {:?} after {} residual evaluations and {} Jacobians",
                o.problem, o.start, o.termination, o.residual_evaluations, o.jacobians
            );
            println!(
                "  residual sum of squares {:.10e}   certified {:.10e}",
                o.rss, o.certified_rss
            );
            for (k, (b, c)) in o.b.iter().zip(o.certified.iter()).enumerate() {
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

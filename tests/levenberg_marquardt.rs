//! The levenberg-marquardt crate (0.15, on nalgebra 0.34) with a `#[jacobian]`
//! residual: the pattern of the README's "Ecosystem" section, fitting NIST's Misra1a
//! problem from both starting points to the certified parameters. It runs in the
//! nalgebra 0.34 step of `.ci/run`, where matgrad's types are the crate's.
#![cfg(not(feature = "nalgebra_v0_35"))]

extern crate nalgebra_0_34 as nalgebra;

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use matgrad::jacobian;
use nalgebra::{DMatrix, DVector, Dyn, Owned};

/// Misra1a: y = b₁ (1 − e^{−b₂ x}).
#[jacobian(wrt = b)]
fn misra1a(b: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (b1, b2) = (b[0], b[1]);
    x.map(|v| b1 * (1.0 - (-b2 * v).exp())) - y
}

/// The pattern: the parameters and the data in a struct, the residuals and the
/// Jacobian from the generated `misra1a_jacobian` (one call for both would halve the
/// work; the crate asks for them separately).
struct Fit {
    b: DVector<f64>,
    x: DVector<f64>,
    y: DVector<f64>,
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for Fit {
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
        Some(misra1a(&self.b, &self.x, &self.y))
    }
    fn jacobian(&self) -> Option<DMatrix<f64>> {
        Some(misra1a_jacobian(&self.b, &self.x, &self.y).1)
    }
}

#[test]
fn misra1a_reaches_the_certified_parameters() {
    // The data and the certified values of NIST's Misra1a (examples/data/nist).
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/nist/Misra1a.dat"
    ))
    .expect("the NIST file is in the repository");
    let data_start = text
        .lines()
        .position(|l| l.trim_start().starts_with("Data:   y"))
        .expect("a data header")
        + 1;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in text.lines().skip(data_start) {
        let v: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [yy, xx] = v.as_slice() {
            y.push(*yy);
            x.push(*xx);
        }
    }
    assert_eq!(x.len(), 14);
    let certified = [2.389_421_291_8e2, 5.501_564_318_1e-4];
    for start in [[500.0, 1e-4], [250.0, 5e-4]] {
        let fit = Fit {
            b: DVector::from_column_slice(&start),
            x: DVector::from_vec(x.clone()),
            y: DVector::from_vec(y.clone()),
        };
        let (fit, report) = LevenbergMarquardt::new().minimize(fit);
        assert!(report.termination.was_successful(), "{report:?}");
        for (b, c) in fit.b.iter().zip(certified) {
            assert!(((b - c) / c).abs() < 1e-6, "from {start:?}: {} vs {c}", b);
        }
    }
}

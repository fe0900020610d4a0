//! The levenberg-marquardt crate (0.15, on nalgebra 0.34) with a `#[jacobian]`
//! residual: the README's code for it, verbatim (checked below, line by line), fitting
//! NIST's Misra1a problem from both starting points to the certified parameters. It
//! runs in the nalgebra 0.34 step of `.ci/run`, where matgrad's types are the
//! crate's. `examples/levenberg_marquardt_nist.rs` fits all three NIST problems of
//! the examples the same way.
#![cfg(not(feature = "nalgebra_v0_35"))]
// The NIST data comes from the examples' loader, which includes `common/mod.rs`.
#![allow(dead_code)]

extern crate nalgebra_0_34 as nalgebra;

#[path = "../examples/common/mod.rs"]
mod common;
#[path = "../examples/common/nist.rs"]
mod nist;

// ---- the README's code (its layout kept: the check below compares lines) ----
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{DMatrix, DVector, Dyn, Owned};

#[matgrad::jacobian(wrt = b)]
fn misra1a(b: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (b1, b2) = (b[0], b[1]);
    x.map(|v| b1 * (1.0 - (-b2 * v).exp())) - y
}

#[rustfmt::skip]
struct Fit { b: DVector<f64>, x: DVector<f64>, y: DVector<f64> }

#[rustfmt::skip]
impl LeastSquaresProblem<f64, Dyn, Dyn> for Fit {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;
    fn set_params(&mut self, b: &DVector<f64>) { self.b.copy_from(b); }
    fn params(&self) -> DVector<f64> { self.b.clone() }
    fn residuals(&self) -> Option<DVector<f64>> { Some(misra1a(&self.b, &self.x, &self.y)) }
    fn jacobian(&self) -> Option<DMatrix<f64>> { Some(misra1a_jacobian(&self.b, &self.x, &self.y).1) }
}
// ---- end of the README's code ----

#[test]
fn misra1a_reaches_the_certified_parameters() {
    let problem = nist::load("Misra1a").expect("the NIST file is in the repository");
    assert_eq!(problem.x.len(), 14);
    for start in &problem.starts {
        let (b, x, y) = (start.clone(), problem.x.clone(), problem.y.clone());
        let (fit, report) = LevenbergMarquardt::new().minimize(Fit { b, x, y });
        assert!(report.termination.was_successful(), "{report:?}");
        for (b, c) in fit.b.iter().zip(problem.certified.iter()) {
            assert!(((b - c) / c).abs() < 1e-6, "from {start}: {b} vs {c}");
        }
    }
}

/// The README's levenberg-marquardt block (not a doctest: the README's doctests are
/// built on nalgebra 0.35) is this file's code: each of its lines is a line here.
#[test]
fn the_readme_shows_this_code() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("### levenberg-marquardt")
        .nth(1)
        .expect("the README's levenberg-marquardt section");
    let block = section
        .split("```rust")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a rust block in that section");
    let source: Vec<&str> = include_str!("levenberg_marquardt.rs")
        .lines()
        .map(str::trim)
        .collect();
    let lines: Vec<&str> = block
        .lines()
        .skip(1) // the rest of the fence line (",ignore")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines.len() >= 15, "{block}");
    for line in lines {
        assert!(
            source.contains(&line),
            "README line not in the test: {line}"
        );
    }
}

//! The first snippet of the specification, runnable: a single-layer tanh network
//! with squared error, differentiated with respect to its weights by `#[grad]`, and
//! the derived gradient checked against central finite differences.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use matgrad::grad;
use nalgebra::DMatrix;

/// Single-layer network with squared error.
#[grad(wrt = w)]
pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}

/// What [`run`] found.
#[derive(Debug, Clone)]
pub struct Report {
    /// `loss(x, w, y)` as the original function computes it.
    pub value: f64,
    /// The value returned by `loss_grad`.
    pub grad_value: f64,
    /// The derived gradient ∂loss/∂w.
    pub grad: DMatrix<f64>,
    /// `(i, j, derived, finite difference)` for the entries checked.
    pub checks: Vec<(usize, usize, f64, f64)>,
    /// The largest relative error among the checked entries.
    pub max_rel_err: f64,
}

/// Central finite difference of `loss` in the entry (i, j) of `w`.
pub fn finite_difference(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    y: &DMatrix<f64>,
    i: usize,
    j: usize,
    h: f64,
) -> f64 {
    let mut wp = w.clone();
    wp[(i, j)] += h;
    let mut wm = w.clone();
    wm[(i, j)] -= h;
    (loss(x, &wp, y) - loss(x, &wm, y)) / (2.0 * h)
}

/// Evaluates the loss and its gradient on small deterministic inputs and checks
/// the gradient entries against central finite differences.
pub fn run() -> Report {
    // A 5×4 batch, 4×3 weights, 5×3 targets: deterministic so the output is stable.
    let x = DMatrix::from_fn(5, 4, |i, j| ((i * 4 + j) as f64 * 0.7).sin());
    let w = DMatrix::from_fn(4, 3, |i, j| 0.3 * ((i + 2 * j) as f64).cos());
    let y = DMatrix::from_fn(5, 3, |i, j| if (i + j) % 3 == 0 { 0.8 } else { -0.2 });

    let value = loss(&x, &w, &y);
    let (grad_value, dw) = loss_grad(&x, &w, &y);

    let entries = [(0, 0), (1, 2), (2, 1), (3, 0), (3, 2)];
    let checks: Vec<_> = entries
        .iter()
        .map(|&(i, j)| (i, j, dw[(i, j)], finite_difference(&x, &w, &y, i, j, 1e-6)))
        .collect();
    let max_rel_err = checks
        .iter()
        .map(|&(_, _, g, fd)| (g - fd).abs() / g.abs().max(fd.abs()).max(1e-12))
        .fold(0.0, f64::max);
    Report {
        value,
        grad_value,
        grad: dw,
        checks,
        max_rel_err,
    }
}

fn main() {
    let report = run();
    println!("loss(x, w, y)      = {:.12}", report.value);
    println!("loss_grad(..).0    = {:.12}", report.grad_value);
    println!("∂loss/∂w (4×3) ={:.6}", report.grad);
    println!("entry    derived          finite difference  rel. error");
    for &(i, j, g, fd) in &report.checks {
        let rel = (g - fd).abs() / g.abs().max(fd.abs()).max(1e-12);
        println!("w[({i}, {j})]  {g:+.10}  {fd:+.10}   {rel:.1e}");
    }
    println!("max relative error: {:.1e}", report.max_rel_err);
}

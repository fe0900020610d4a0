//! A 2-D pose (rotation angle and translation) from three point correspondences, by
//! Gauss–Newton on static sizes, with the 6×3 Jacobian derived by `#[jacobian]`.
//!
//! ```text
//! cargo run --release --example pose
//! ```
//!
//! Everything is on the stack: the residual is a `Vector6`, the Jacobian an
//! `SMatrix<f64, 6, 3>`, the normal equations a `Matrix3`.

use matgrad::jacobian;
use nalgebra::{Matrix2, SMatrix, Vector3, Vector6};

/// Residuals `R(θ) p_k + t − q_k` of three correspondences, stacked: `θ = (angle,
/// t_x, t_y)`.
#[jacobian(wrt = theta)]
pub fn residual(
    theta: &Vector3<f64>,
    p: &SMatrix<f64, 2, 3>,
    q: &SMatrix<f64, 2, 3>,
) -> Vector6<f64> {
    let (c, s) = (theta[0].cos(), theta[0].sin());
    let e = Matrix2::new(c, -s, s, c) * p - q;
    let (tx, ty) = (theta[1], theta[2]);
    Vector6::new(
        e[(0, 0)] + tx,
        e[(1, 0)] + ty,
        e[(0, 1)] + tx,
        e[(1, 1)] + ty,
        e[(0, 2)] + tx,
        e[(1, 2)] + ty,
    )
}

/// The points moved by the pose `theta`.
pub fn moved(theta: &Vector3<f64>, p: &SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> {
    let (s, c) = theta[0].sin_cos();
    let mut q = Matrix2::new(c, -s, s, c) * p;
    for mut col in q.column_iter_mut() {
        col[0] += theta[1];
        col[1] += theta[2];
    }
    q
}

/// Gauss–Newton from `start`: `θ ← θ − (JᵀJ)⁻¹ Jᵀ r` until the step is below 1e-12
/// or after 20 steps. Returns the pose and ‖r‖² before each step and at the end.
pub fn gauss_newton(
    start: Vector3<f64>,
    p: &SMatrix<f64, 2, 3>,
    q: &SMatrix<f64, 2, 3>,
) -> (Vector3<f64>, Vec<f64>) {
    let mut theta = start;
    let mut history = Vec::new();
    for _ in 0..20 {
        let (r, j) = residual_jacobian(&theta, p, q);
        history.push(r.norm_squared());
        let Some(step) = (j.transpose() * j)
            .cholesky()
            .map(|c| c.solve(&(j.transpose() * r)))
        else {
            break;
        };
        theta -= step;
        if step.norm() < 1e-12 {
            break;
        }
    }
    history.push(residual(&theta, p, q).norm_squared());
    (theta, history)
}

fn main() {
    let p = SMatrix::<f64, 2, 3>::new(1.0, -0.5, 0.2, 0.0, 1.5, -1.0);
    let truth = Vector3::new(0.7, 0.3, -0.5);
    let q = moved(&truth, &p);
    let (theta, history) = gauss_newton(Vector3::zeros(), &p, &q);
    println!("exact correspondences, from θ = 0:");
    for (k, c) in history.iter().enumerate() {
        println!("  step {k}: ‖r‖² = {c:.3e}");
    }
    println!(
        "  found θ = ({:.9}, {:.9}, {:.9}), true ({}, {}, {})",
        theta[0], theta[1], theta[2], truth[0], truth[1], truth[2]
    );
    let noise = SMatrix::<f64, 2, 3>::new(0.01, -0.02, 0.015, -0.01, 0.005, 0.02);
    let (theta, history) = gauss_newton(Vector3::zeros(), &p, &(q + noise));
    println!(
        "noisy correspondences: ‖r‖² {:.3e} → {:.3e} in {} steps, θ = ({:.4}, {:.4}, {:.4})",
        history[0],
        history[history.len() - 1],
        history.len() - 1,
        theta[0],
        theta[1],
        theta[2]
    );
}

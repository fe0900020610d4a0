//! The losses, one per `#[grad]` function, each with its finite-difference test.

use super::grad;
use crate::common::{away_from, gradcheck, mat, one_hot, positive, rng, spd, uniform, vector};
use matgrad::{
    add_col, add_row, log_sum_exp, relu, sigmoid, softmax_cross_entropy, softplus, Workspace,
};
use nalgebra::{DMatrix, DVector, Matrix2, RealField, RowDVector, Vector2};

/// Data shapes `(samples, features)`: one sample of one feature, wide, tall.
const DATA: [(usize, usize); 3] = [(1, 1), (3, 5), (8, 3)];

// 1. Mean squared error over a batch.
#[grad(wrt = w)]
fn mse(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (x * w - y).norm_squared() / (x.nrows() as f64)
}

// 2. Distance of a matrix to the identity (an orthogonality-style penalty).
#[grad(wrt = s)]
fn distance_to_identity(s: &DMatrix<f64>) -> f64 {
    (s - DMatrix::identity(s.nrows(), s.ncols())).norm_squared()
}

// 3. Linear regression whose parameter vector stores the bias last.
#[grad(wrt = theta)]
fn bias_stored_last(x: &DMatrix<f64>, theta: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let b = theta[theta.len() - 1];
    let w = theta.rows(0, theta.len() - 1);
    let r = (x * w).add_scalar(b) - y;
    r.norm_squared() / (x.nrows() as f64)
}

// 4. The log-determinant of L Lᵀ from its Cholesky factor.
#[grad(wrt = l)]
fn cholesky_log_det(l: &DMatrix<f64>) -> f64 {
    -2.0 * l.diagonal().map(|v| v.ln()).sum()
}

// 5. Centering penalties: per-column and per-row means near zero.
#[grad(wrt = x)]
fn centering(x: &DMatrix<f64>) -> f64 {
    x.column_mean().norm_squared() + x.row_mean().norm_squared()
}

// 6. Huber regression.
#[grad(wrt = w)]
fn huber(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, d: f64) -> f64 {
    let r = x * w - y;
    r.map(|v| {
        if v.abs() <= d {
            0.5 * v * v
        } else {
            d * (v.abs() - 0.5 * d)
        }
    })
    .sum()
}

// 7. Kullback–Leibler divergence between two positive tables.
#[grad(wrt = (p, q))]
fn kl(p: &DMatrix<f64>, q: &DMatrix<f64>) -> f64 {
    p.zip_map(q, |a, b| a * (a / b).ln()).sum()
}

// 8. One least-squares loss for f32 and f64.
#[grad(wrt = w)]
fn generic_least_squares<T: RealField + Copy>(x: &DMatrix<T>, w: &DVector<T>, y: &DVector<T>) -> T {
    let n = T::from_usize(x.nrows()).unwrap();
    (x * w - y).norm_squared() / n
}

// 9. L2-regularised logistic regression, labels in {0, 1}, mean over the batch.
#[grad(wrt = w)]
fn logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    let z = x * w;
    let nll = softplus(&z) - y.component_mul(&z);
    nll.sum() / (x.nrows() as f64) + 0.5 * lambda * w.norm_squared()
}

// 10. A two-layer ReLU network with biases and a softmax classifier.
#[grad(wrt = (w1, b1, w2, b2))]
fn mlp(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    let h = relu(&add_row(&(x * w1), b1));
    let logits = add_row(&(h * w2), b2);
    softmax_cross_entropy(&logits, y) / (x.nrows() as f64)
}

// 11. Gaussian negative log-likelihood of centred samples under a covariance.
#[grad(wrt = sigma)]
fn gaussian_nll(x: &DMatrix<f64>, sigma: &DMatrix<f64>) -> f64 {
    let n = x.nrows() as f64;
    let precision = sigma.clone().try_inverse().unwrap();
    0.5 * (x * precision * x.transpose()).trace() / n + 0.5 * matgrad::ln_det(sigma)
}

// 12. Matrix completion: low-rank fit on observed entries, with weight decay.
#[grad(wrt = (u, v))]
fn completion(
    r: &DMatrix<f64>,
    mask: &DMatrix<f64>,
    u: &DMatrix<f64>,
    v: &DMatrix<f64>,
    lam: f64,
) -> f64 {
    let fit = (r - u * v.transpose()).component_mul(mask);
    fit.norm_squared() + lam * (u.norm_squared() + v.norm_squared())
}

// 13. Elastic net.
#[grad(wrt = w)]
fn elastic_net(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let n = x.nrows() as f64;
    (x * w - y).norm_squared() / (2.0 * n) + 0.1 * w.abs().sum() + 0.05 * w.norm_squared()
}

// 14. A 2-D rigid fit: rotation angle and translation from scalars.
#[grad(wrt = (angle, tx, ty))]
fn rigid_2d(p: &DMatrix<f64>, q: &DMatrix<f64>, angle: f64, tx: f64, ty: f64) -> f64 {
    let r = Matrix2::new(angle.cos(), -angle.sin(), angle.sin(), angle.cos());
    let t = Vector2::new(tx, ty);
    let moved = r * p;
    (add_col(&moved, &t) - q).norm_squared()
}

// 15. Soft-max pooling and a smooth maximum.
#[grad(wrt = z)]
fn smooth_max(z: &DMatrix<f64>, t: f64) -> f64 {
    t * log_sum_exp(&(z / t)) - z.max() + z.column_sum().norm_squared()
}

// 16. Hinge loss of a linear classifier, labels ±1.
#[grad(wrt = w)]
fn hinge(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let margins = y.component_mul(&(x * w));
    margins.map(|m| if m < 1.0 { 1.0 - m } else { 0.0 }).sum() + 0.01 * w.norm_squared()
}

// 17. Diagonal preconditioning: scale features by learned positive weights.
#[grad(wrt = (s, w))]
fn scaled_features(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let d = DMatrix::from_diagonal(&s.map(|v| v.exp()));
    let pred = sigmoid(&(x * d * w));
    (pred - y).norm_squared() + s.column(0).rows(0, 1).sum().powi(2)
}

// 18. Total-variation smoothing along the columns of a signal.
#[grad(wrt = u)]
fn smoothing(u: &DMatrix<f64>, f: &DMatrix<f64>, lam: f64) -> f64 {
    let n = u.nrows();
    let diff = u.rows(1, n - 1) - u.rows(0, n - 1);
    (u - f).norm_squared() + lam * diff.map(|v| (v * v + 1e-2).sqrt()).sum()
}

#[test]
fn regressions() {
    let (r, mut ws) = (&mut rng(300), Workspace::new());
    let mut ws32 = Workspace::<f32>::new();
    for (m, n) in DATA {
        let (x, y) = (mat(r, m, n), vector(r, m));
        gradcheck!(&mut ws; mse, mse_grad, mse_grad_into; (&x, &w, &y); w = vector(r, n));
        gradcheck!(&mut ws; bias_stored_last, bias_stored_last_grad, bias_stored_last_grad_into;
            (&x, &theta, &y); theta = vector(r, n + 1));
        gradcheck!(&mut ws; generic_least_squares, generic_least_squares_grad,
            generic_least_squares_grad_into; (&x, &w, &y); w = vector(r, n));
        let (x32, y32) = (x.clone().cast::<f32>(), y.clone().cast::<f32>());
        gradcheck!(&mut ws32; generic_least_squares, generic_least_squares_grad,
            generic_least_squares_grad_into; (&x32, &w, &y32); w = vector(r, n).cast::<f32>());
        let labels = y.map(|v| if v > 0.0 { 1.0 } else { 0.0 });
        gradcheck!(&mut ws; logistic, logistic_grad, logistic_grad_into;
            (&x, &w, &labels, 0.1); w = vector(r, n));
        gradcheck!(&mut ws; elastic_net, elastic_net_grad, elastic_net_grad_into;
            (&x, &w, &y); w = away_from(r, n, 1, 0.0).column(0).into_owned());
        // Residuals and margins away from the kinks of Huber (±d) and the hinge (1).
        let w = vector(r, n);
        let d = 0.3;
        let y_huber = &x * &w - DVector::from_fn(m, |i, _| if i % 2 == 0 { 0.1 } else { 0.9 });
        gradcheck!(&mut ws; huber, huber_grad, huber_grad_into; (&x, &w, &y_huber, d); w = w.clone());
        let signs = DVector::from_fn(m, |i, _| if i % 3 == 0 { -1.0 } else { 1.0 });
        let scale = (&x * &w).component_mul(&signs);
        let y_hinge = signs.zip_map(&scale, |s, v| if (v - 1.0).abs() < 0.2 { -s } else { s });
        gradcheck!(&mut ws; hinge, hinge_grad, hinge_grad_into; (&x, &w, &y_hinge); w = w.clone());
        let s = vector(r, n) * 0.3;
        gradcheck!(&mut ws; scaled_features, scaled_features_grad, scaled_features_grad_into;
            (&x, &s, &w, &y); s = s.clone(), w = w.clone());
    }
}

#[test]
fn matrices() {
    let (r, mut ws) = (&mut rng(301), Workspace::new());
    for (m, n) in DATA {
        gradcheck!(&mut ws; distance_to_identity, distance_to_identity_grad,
            distance_to_identity_grad_into; (&s,); s = mat(r, m, n));
        gradcheck!(&mut ws; centering, centering_grad, centering_grad_into; (&x,); x = mat(r, m, n));
        let a = mat(r, n, n);
        let l = a.lower_triangle() - DMatrix::from_diagonal(&a.diagonal())
            + DMatrix::from_diagonal(&positive(r, n, 1).column(0));
        gradcheck!(&mut ws; cholesky_log_det, cholesky_log_det_grad, cholesky_log_det_grad_into;
            (&l,); l = l.clone());
        gradcheck!(&mut ws; kl, kl_grad, kl_grad_into; (&p, &q); p = positive(r, m, n), q = positive(r, m, n));
        let x = mat(r, m + 1, n);
        gradcheck!(&mut ws; gaussian_nll, gaussian_nll_grad, gaussian_nll_grad_into;
            (&x, &sigma); sigma = spd(r, n));
        let (rank, mask) = (
            2,
            positive(r, m, n).map(|v| if v > 1.0 { 1.0 } else { 0.0 }),
        );
        let ratings = mat(r, m, n);
        gradcheck!(&mut ws; completion, completion_grad, completion_grad_into;
            (&ratings, &mask, &u, &v, 0.1); u = mat(r, m, rank), v = mat(r, n, rank));
        gradcheck!(&mut ws; smooth_max, smooth_max_grad, smooth_max_grad_into;
            (&z, 0.7); z = mat(r, m, n) + DMatrix::from_fn(m, n, |i, j| (i * n + j) as f64));
        let rows = m + 1;
        let signal = mat(r, rows, n);
        gradcheck!(&mut ws; smoothing, smoothing_grad, smoothing_grad_into;
            (&u, &signal, 0.5); u = mat(r, rows, n));
    }
}

#[test]
fn networks_and_geometry() {
    let (r, mut ws) = (&mut rng(302), Workspace::new());
    for (m, n) in DATA {
        let (hidden, classes) = (4, 3);
        let (x, y) = (mat(r, m, n), one_hot(r, m, classes));
        // Pre-activations away from ReLU's kink: first-layer weights and biases
        // re-drawn until every |x w1 + b1| ≥ 0.05.
        let (mut w1, mut b1) = (mat(r, n, hidden), mat(r, 1, hidden));
        while (&x * &w1 + DMatrix::from_fn(m, hidden, |_, j| b1[(0, j)]))
            .iter()
            .any(|v| v.abs() < 0.05)
        {
            w1 = mat(r, n, hidden);
            b1 = mat(r, 1, hidden);
        }
        let b1 = RowDVector::from_iterator(hidden, b1.iter().copied());
        gradcheck!(&mut ws; mlp, mlp_grad, mlp_grad_into; (&x, &w1, &b1, &w2, &b2, &y);
            w1 = w1.clone(), b1 = b1.clone(), w2 = mat(r, hidden, classes),
            b2 = RowDVector::from_fn(classes, |_, _| uniform(r, -1.0, 1.0)));
        let (p, q) = (mat(r, 2, n + 1), mat(r, 2, n + 1));
        gradcheck!(&mut ws; rigid_2d, rigid_2d_grad, rigid_2d_grad_into; (&p, &q, angle, tx, ty);
            angle = uniform(r, -3.0, 3.0), tx = uniform(r, -1.0, 1.0), ty = uniform(r, -1.0, 1.0));
    }
}

// ===========================================================================
// Program structure (SPEC §9): `let mut`, assignment, compound assignment,
// loops and `if` decided at compile time, iterator sums
// ===========================================================================

// 19. A tanh recurrent network unrolled over 4 steps, the state a `let mut`.
#[grad(wrt = (w, u))]
fn rnn(xs: &DMatrix<f64>, w: &DMatrix<f64>, u: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    let mut loss = 0.0;
    for t in 0..4 {
        h = (w * &h + u * xs.column(t)).map(|v| v.tanh());
        if t >= 2 {
            loss += (&h - y).norm_squared();
        }
    }
    loss / 2.0
}

// 20. Compound assignment on matrices and scalars, and an iterator sum.
#[grad(wrt = (a, s))]
fn accumulate(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> f64 {
    let mut m = a.clone();
    m += b;
    m *= s;
    m -= &a.map(|v| v * v);
    let mut total = (0..3)
        .map(|k| m.column(k % a.ncols()).norm_squared())
        .sum::<f64>();
    total /= 3.0;
    total -= s;
    for i in 0..=2 {
        let w = if i == 0 {
            1.0
        } else if i == 1 {
            0.5
        } else {
            0.25
        };
        total += w * m.sum();
    }
    total
}

#[test]
fn program_structure() {
    let (r, mut ws) = (&mut rng(303), Workspace::new());
    for (hidden, inputs) in [(1, 1), (3, 2), (5, 4)] {
        let (xs, y) = (mat(r, inputs, 4), vector(r, hidden));
        gradcheck!(&mut ws; rnn, rnn_grad, rnn_grad_into; (&xs, &w, &u, &y);
            w = mat(r, hidden, hidden) * 0.5, u = mat(r, hidden, inputs));
    }
    for (m, n) in DATA {
        let b = mat(r, m, n);
        gradcheck!(&mut ws; accumulate, accumulate_grad, accumulate_grad_into; (&a, &b, s);
            a = mat(r, m, n), s = uniform(r, -1.0, 1.0));
    }
}

// 21. Nested loops, a loop of zero iterations and one of one, on static sizes.
#[grad(wrt = (a, b))]
#[allow(clippy::reversed_empty_ranges)]
fn nested_static(a: &nalgebra::Matrix2x3<f64>, b: &nalgebra::Matrix3x2<f64>) -> f64 {
    let mut acc = 0.0;
    for i in 0..2 {
        for j in 0..3 {
            acc += a[(i, j)] * b[(j, i)] + (a[(i, j)] - b[(j, 1 - i)]).powi(2);
        }
    }
    let mut m = a * b;
    // No iteration.
    for _ in 2..2 {
        m = m * m;
    }
    for _ in 1..2 {
        m *= 0.5;
    }
    acc + m.trace()
}

// 22. One recurrent cell for f32 and f64, unrolled over 3 steps.
#[grad(wrt = w)]
fn generic_rnn<T: RealField + Copy>(xs: &DMatrix<T>, w: &DMatrix<T>) -> T {
    let mut h = xs.column(0).into_owned();
    for t in 1..3 {
        h = (w * &h).map(|v| v.tanh()) + xs.column(t);
    }
    h.norm_squared()
}

#[test]
fn loops() {
    let (r, mut ws) = (&mut rng(304), Workspace::new());
    let mut ws32 = Workspace::<f32>::new();
    for _ in 0..3 {
        let a = nalgebra::Matrix2x3::from_fn(|_, _| uniform(r, -1.0, 1.0));
        let b = nalgebra::Matrix3x2::from_fn(|_, _| uniform(r, -1.0, 1.0));
        gradcheck!(&mut ws; nested_static, nested_static_grad, nested_static_grad_into;
            (&a, &b); a = a, b = b);
    }
    for n in [1, 2, 4] {
        let xs = mat(r, n, 3);
        gradcheck!(&mut ws; generic_rnn, generic_rnn_grad, generic_rnn_grad_into; (&xs, &w);
            w = mat(r, n, n));
        let xs32 = xs.cast::<f32>();
        gradcheck!(&mut ws32; generic_rnn, generic_rnn_grad, generic_rnn_grad_into; (&xs32, &w);
            w = mat(r, n, n).cast::<f32>());
    }
}

// 23. A `bool` parameter switching a robust loss on and off, entry by entry.
#[grad(wrt = w)]
fn switchable_loss(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, robust: bool) -> f64 {
    let r = x * w - y;
    r.map(|v| if robust { (1.0 + v * v).ln() } else { v * v })
        .sum()
        + w.map(|v| if !robust { 0.0 } else { 0.1 * v * v }).sum()
}

#[test]
fn bool_parameters() {
    let (r, mut ws) = (&mut rng(305), Workspace::new());
    for (m, n) in DATA {
        let (x, y) = (mat(r, m, n), vector(r, m));
        for robust in [false, true] {
            gradcheck!(&mut ws; switchable_loss, switchable_loss_grad, switchable_loss_grad_into;
                (&x, &w, &y, robust); w = vector(r, n));
        }
        // The two settings differ: the flag is read.
        let w = vector(r, n);
        assert_ne!(
            switchable_loss_grad(&x, &w, &y, true).1,
            switchable_loss_grad(&x, &w, &y, false).1
        );
    }
}

// 24. An early `return` in a branch decided at compile time: a truncated sequence.
#[grad(wrt = w)]
fn truncated(xs: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut h = xs.column(0).into_owned();
    let mut total = 0.0;
    for t in 0..6 {
        if t == 3 {
            return total + h.norm_squared();
        }
        h = (w * &h).map(|v| v.tanh());
        total += h.sum();
    }
    total
}

#[test]
fn early_return() {
    let (r, mut ws) = (&mut rng(306), Workspace::new());
    for n in [1, 2, 4] {
        let xs = mat(r, n, 2);
        gradcheck!(&mut ws; truncated, truncated_grad, truncated_grad_into; (&xs, &w); w = mat(r, n, n));
    }
}

//! Large dynamic residuals for `#[jacobian]` (issue 18), shared by
//! `benches/jacobian.rs` (generated against an expert's Jacobian) and
//! `tests/alloc.rs` (`_jacobian_into` allocates nothing once warm):
//!
//! - `exp_rational`: few parameters, many residuals, `r_i = p₀ e^{−p₁ t_i} +
//!   p₂ / (1 + p₃ t_i) − y_i` (an exponential decay plus a Michaelis–Menten-like
//!   rational term), m = 10 000 data points: the costs pick the structured form
//!   (column k of `J` the coefficient of `p[k]`, written once) over 4 tangent sweeps
//!   and m reverse sweeps;
//! - `dense`: many parameters, `r = tanh(X w) − y`, `X` m × n: one parameter per
//!   feature, every residual depending on every parameter; the structured
//!   `J = diag(1 − tanh²(X w)) X`.
//!
//! Each also in forced forward and reverse modes (`matgrad::__jacobian_forward`,
//! `__jacobian_reverse`), to time and check each mode on the same function.

use nalgebra::{DMatrix, DVector};

/// The data of a fit and the point: `t`, `y` and `p` for [`exp_rational`]; `x`, `y`
/// and `p` (the weights `w`) for [`dense`].
pub struct Fit {
    pub t: DVector<f64>,
    pub x: DMatrix<f64>,
    pub y: DVector<f64>,
    pub p: DVector<f64>,
}

/// `m` deterministic data points near the model of [`exp_rational`] and a point near
/// its fit.
pub fn exp_data(m: usize) -> Fit {
    let t = DVector::from_fn(m, |i, _| 10.0 * i as f64 / m.max(1) as f64);
    let y = DVector::from_fn(m, |i, _| {
        let v = t[i];
        2.0 * (-0.35 * v).exp() + 1.2 / (1.0 + 0.7 * v) + 0.01 * ((i * 7919) % 13) as f64
    });
    Fit {
        t,
        x: DMatrix::zeros(0, 0),
        y,
        p: DVector::from_vec(vec![2.5, 0.4, 1.5, 0.8]),
    }
}

/// `m` deterministic samples of `n` features for [`dense`], targets, and weights.
pub fn dense_data(m: usize, n: usize) -> Fit {
    let x = DMatrix::from_fn(m, n, |i, j| {
        ((((i * 31 + j * 17) % 23) as f64) / 23.0 - 0.5) * 0.4
    });
    Fit {
        t: DVector::zeros(0),
        x,
        y: DVector::from_fn(m, |i, _| ((i % 11) as f64 / 11.0 - 0.5) * 0.8),
        p: DVector::from_fn(n, |j, _| ((j * 5 % 7) as f64 / 7.0 - 0.5) * 0.3),
    }
}

/// Residuals of y ≈ p₀ e^{−p₁ t} + p₂ / (1 + p₃ t).
#[matgrad::jacobian(wrt = p)]
pub fn exp_rational(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    t.map(|v| a * (-b * v).exp() + c / (1.0 + d * v)) - y
}

/// [`exp_rational`] in forward mode whatever the costs.
#[matgrad::__jacobian_forward(wrt = p)]
pub fn exp_rational_fwd(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    t.map(|v| a * (-b * v).exp() + c / (1.0 + d * v)) - y
}

/// [`exp_rational`] in reverse mode whatever the costs.
#[matgrad::__jacobian_reverse(wrt = p)]
pub fn exp_rational_rev(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    t.map(|v| a * (-b * v).exp() + c / (1.0 + d * v)) - y
}

/// The expert's Jacobian of [`exp_rational`]: one pass over the data, each
/// exponential and quotient computed once, `J` written column-major through slices.
pub fn exp_rational_expert(f: &Fit, r: &mut DVector<f64>, j: &mut DMatrix<f64>) {
    let m = f.t.len();
    if r.len() != m {
        *r = DVector::zeros(m);
    }
    if j.shape() != (m, 4) {
        *j = DMatrix::zeros(m, 4);
    }
    let (a, b, c, d) = (f.p[0], f.p[1], f.p[2], f.p[3]);
    let (t, y) = (f.t.as_slice(), f.y.as_slice());
    let (j0, rest) = j.as_mut_slice().split_at_mut(m);
    let (j1, rest) = rest.split_at_mut(m);
    let (j2, j3) = rest.split_at_mut(m);
    for i in 0..m {
        let v = t[i];
        let e = (-b * v).exp();
        let q = 1.0 / (1.0 + d * v);
        r[i] = a * e + c * q - y[i];
        j0[i] = e;
        j1[i] = -a * v * e;
        j2[i] = q;
        j3[i] = -c * v * q * q;
    }
}

/// Residuals of a one-layer model, tanh(X w) − y.
#[matgrad::jacobian(wrt = w)]
pub fn dense(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) - y
}

/// [`dense`] in forward mode whatever the costs (one sweep per weight, the
/// sweeps the structured form replaces).
#[matgrad::__jacobian_forward(wrt = w)]
pub fn dense_fwd(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) - y
}

/// [`dense`] in reverse mode whatever the costs.
#[matgrad::__jacobian_reverse(wrt = w)]
pub fn dense_rev(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) - y
}

/// The expert's Jacobian of [`dense`], from its structure: `diag(1 − tanh²(X w)) X`,
/// one matrix–vector product (nalgebra's `gemv`) and one scaling pass over `X`.
pub fn dense_expert(f: &Fit, r: &mut DVector<f64>, j: &mut DMatrix<f64>, z: &mut DVector<f64>) {
    let (m, n) = f.x.shape();
    if r.len() != m {
        *r = DVector::zeros(m);
    }
    if z.len() != m {
        *z = DVector::zeros(m);
    }
    if j.shape() != (m, n) {
        *j = DMatrix::zeros(m, n);
    }
    z.gemv(1.0, &f.x, &f.p, 0.0);
    for i in 0..m {
        let h = z[i].tanh();
        r[i] = h - f.y[i];
        z[i] = 1.0 - h * h;
    }
    let (x, z) = (f.x.as_slice(), z.as_slice());
    for (jc, xc) in j.as_mut_slice().chunks_exact_mut(m).zip(x.chunks_exact(m)) {
        for ((o, &xv), &d) in jc.iter_mut().zip(xc).zip(z) {
            *o = d * xv;
        }
    }
}

//! Newton's method on L2-regularised logistic regression (the Wisconsin breast cancer
//! data), with the Hessian derived by `#[grad(wrt = w, hvp, hessian)]`, beside the
//! iterations gradient descent needs for the same loss; then Newton-CG, which solves
//! each Newton system by conjugate gradients on Hessian-vector products
//! (`loss_hvp_into`) and never forms the Hessian.
//!
//! With 31 weights the dense Hessian is cheap, so a second part shows the case
//! Newton-CG exists for: multinomial (softmax) logistic regression on the
//! hand-written digits, each image mapped to D = 2000 random Fourier features
//! (`√(2/D) cos(x Ω + b)`, which approximate the Gaussian kernel `exp(−γ‖x − x'‖²)`),
//! so the weights are a 2000 × 10 matrix: 20 000 weights, whose dense Hessian,
//! 20 000² f64, would take 3.2 GB. The loss is plain nalgebra,
//! `softmax_cross_entropy(&(phi * w), y) * inv_n + lambda * w.norm_squared()` under
//! `#[grad(wrt = w, hvp)]`; each Newton system `H p = −∇f` is solved by CG on
//! `softmax_loss_hvp_into` (buffers allocated once), stopped at the relative residual
//! `min(0.5, √‖∇f‖)`, and the step is chosen by Armijo backtracking. L-BFGS (10
//! pairs, the same line search) runs beside it. The 1797 images are split 80/20 by a
//! seeded shuffle (1438 / 359), as in `examples/digits.rs`.
//!
//! ```text
//! cargo run --release --example newton
//! cargo run --release --example newton -- --lambda 0.001 --tol 1e-10
//! cargo run --release --example newton -- --large-only --features 4000 --ridge 1e-6
//! ```
//!
//! Options of the first part: `--lambda`, `--tol`, `--max-gd`; of the second:
//! `--features` (D, default 2000), `--gamma` (0.25, pixels in [0, 1]), `--ridge` (λ,
//! 1e-5), `--rel-tol` (stop at `‖∇f‖ ≤ rel-tol · ‖∇f(0)‖`, 1e-8), `--seed` (42),
//! `--max-lbfgs` (0 skips L-BFGS), `--large-only` (skip the first part).
//!
//! The end of a run (`uptime` load 1.8 on a shared 2-core machine; under load 3.7
//! the same run took 3.65 s for Newton-CG and 0.99–1.41 s for L-BFGS):
//!
//! ```text
//! Newton (dense Hessian)       7 iterations  loss 0.120881646811  1.09ms
//! Newton-CG (HVPs only)        8 iterations  loss 0.120881646811  983.39µs  (31 HVPs)
//! gradient descent (1/L)    2174 iterations  loss 0.120881646811  31.83ms
//! ...
//! newton-cg  9  loss 0.056271412786  ‖∇f‖ 7.819e-8  CG  24 HVPs  step 1
//!
//! digits, 2000 random Fourier features (γ 0.25) × 10 classes = 20000 weights, λ 0.00001; 1438 training / 359 test images
//! a dense Hessian would take 20000² × 8 bytes = 3.20 GB (Φ itself: 23.0 MB)
//! Newton-CG     10 iterations  135 HVPs       loss 0.056271412758  ‖∇f‖ 2.01e-11 (1.4e-10 of ‖∇f(0)‖)  train 1.000  test 0.981  2.43s
//! L-BFGS(10)    57 iterations  58 gradients   loss 0.056271412758  ‖∇f‖ 1.15e-9 (8.1e-9 of ‖∇f(0)‖)  train 1.000  test 0.981  850.97ms
//! ```
//!
//! Newton-CG reaches the minimum in 10 outer iterations and 135 HVPs, 0.7 % of the
//! 20 000 HVPs a dense Hessian would be built from, with the quadratic endgame of
//! Newton's method (‖∇f‖ 6.5e-6 → 7.8e-8 → 2.0e-11). It is not the fastest here:
//! L-BFGS gets there in 57 iterations (58 gradients, each cheaper than an HVP), in
//! about a third of the time, and still needs only 66 at `--ridge 1e-7`, where
//! Newton-CG takes 15 iterations and 349 HVPs. Both classify 352 of the 359 test
//! images correctly.
//!
//! Data: UCI "Breast Cancer Wisconsin (Diagnostic)" (W. Wolberg, O. Mangasarian,
//! N. Street, W. Street, 1995), CC BY 4.0, and UCI "Optical Recognition of
//! Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998), CC BY 4.0, both as
//! distributed with scikit-learn.

#[path = "common/mod.rs"]
mod common;

use matgrad::{grad, softmax_cross_entropy, softplus, Workspace};
use nalgebra::{DMatrix, DVector, RowDVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// `Σᵢ softplus(−sᵢ xᵢ·w) / n + λ‖m ⊙ w‖²`: the mean logistic loss of the labels
/// `s ∈ {−1, +1}`, the bias being the weight of `x`'s last column of ones, which the
/// mask `m` leaves out of the ridge penalty.
#[grad(wrt = w, hvp, hessian)]
pub fn loss(
    x: &DMatrix<f64>,
    s: &DVector<f64>,
    w: &DVector<f64>,
    m: &DVector<f64>,
    inv_n: f64,
    lambda: f64,
) -> f64 {
    let z = x * w;
    softplus(&(-s.component_mul(&z))).sum() * inv_n + lambda * w.component_mul(m).norm_squared()
}

/// Settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Weight of the ridge penalty.
    pub lambda: f64,
    /// Stop when the gradient's norm is below this.
    pub tol: f64,
    /// At most this many gradient-descent iterations.
    pub max_gd: usize,
    /// Print each Newton iteration.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lambda: 1e-2,
            tol: 1e-8,
            max_gd: 200_000,
            verbose: true,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The loss before each Newton iteration, and after the last.
    pub newton_loss: Vec<f64>,
    /// Newton iterations to reach the tolerance.
    pub newton_iters: usize,
    /// Newton-CG outer iterations, and the HVPs they took in all.
    pub newton_cg: (usize, usize),
    /// The loss Newton-CG reached.
    pub newton_cg_loss: f64,
    /// Gradient-descent iterations (step 1/L) to reach the tolerance, or `max_gd`.
    pub gd_iters: usize,
    /// The loss gradient descent reached.
    pub gd_loss: f64,
    /// Time of Newton, Newton-CG and gradient descent.
    pub times: (Duration, Duration, Duration),
}

/// Conjugate gradients on `H d = −g`, H applied by `hvp`: at most `max` products,
/// stopping at the usual relative residual `min(0.5, √‖g‖) ‖g‖`.
fn cg(
    g: &DVector<f64>,
    max: usize,
    mut hvp: impl FnMut(&DVector<f64>) -> DVector<f64>,
) -> (DVector<f64>, usize) {
    let gn = g.norm();
    let tol = gn * gn.sqrt().min(0.5);
    let mut d = DVector::zeros(g.len());
    let mut r = -g;
    let mut p = r.clone();
    let mut rr = r.dot(&r);
    for k in 0..max {
        if rr.sqrt() <= tol {
            return (d, k);
        }
        let hp = hvp(&p);
        let alpha = rr / p.dot(&hp);
        d.axpy(alpha, &p, 1.0);
        r.axpy(-alpha, &hp, 1.0);
        let rr_new = r.dot(&r);
        p = &r + &p * (rr_new / rr);
        rr = rr_new;
    }
    (d, max)
}

/// Loads and standardises the data (a column of ones appended), then runs Newton,
/// Newton-CG and gradient descent from zero.
pub fn run(config: &Config) -> common::Result<Report> {
    let (x, labels) = common::load_breast_cancer()?;
    let (mean, std) = common::column_stats(&x);
    let x = common::standardise(&x, &mean, &std).insert_column(x.ncols(), 1.0);
    let s = DVector::from_iterator(labels.len(), labels.iter().map(|&l| 2.0 * l - 1.0));
    let n = x.ncols();
    let mut m = DVector::from_element(n, 1.0);
    m[n - 1] = 0.0;
    let (inv_n, lambda) = (1.0 / x.nrows() as f64, config.lambda);

    // Newton: w ← w − H⁻¹ ∇f, H from `loss_hessian`.
    let start = Instant::now();
    let mut w = DVector::zeros(n);
    let mut newton_loss = Vec::new();
    let mut newton_iters = 0;
    loop {
        let (f, g, h) = loss_hessian(&x, &s, &w, &m, inv_n, lambda);
        newton_loss.push(f);
        if config.verbose {
            println!(
                "newton {newton_iters:>2}  loss {f:.12}  ‖∇f‖ {:.3e}",
                g.norm()
            );
        }
        if g.norm() < config.tol || newton_iters == 50 {
            break;
        }
        let step = h
            .cholesky()
            .ok_or("the Hessian of a ridge-regularised logistic loss is positive definite")?
            .solve(&g);
        w -= step;
        newton_iters += 1;
    }
    let t_newton = start.elapsed();
    let optimum = w.clone();
    let h_opt = loss_hessian(&x, &s, &optimum, &m, inv_n, lambda).2;

    // Newton-CG: the same iteration, the system solved by CG on HVPs.
    let start = Instant::now();
    let mut w = DVector::zeros(n);
    let (mut ws, mut gb, mut hb) = (Workspace::new(), DVector::zeros(0), DVector::zeros(0));
    let (mut outer, mut hvps) = (0, 0);
    let mut newton_cg_loss;
    loop {
        let (f, g) = loss_grad(&x, &s, &w, &m, inv_n, lambda);
        newton_cg_loss = f;
        if g.norm() < config.tol || outer == 50 {
            break;
        }
        let (d, k) = cg(&g, 4 * n, |p| {
            loss_hvp_into(&x, &s, &w, &m, inv_n, lambda, p, &mut gb, &mut hb, &mut ws);
            hb.clone()
        });
        w += d;
        outer += 1;
        hvps += k;
    }
    let t_cg = start.elapsed();

    // Gradient descent with step 1/L, L the largest eigenvalue of the Hessian at the
    // optimum (the loss's curvature is largest near w = 0, so take the larger of both).
    let start = Instant::now();
    let h0 = loss_hessian(&x, &s, &DVector::zeros(n), &m, inv_n, lambda).2;
    let l = h0
        .symmetric_eigenvalues()
        .max()
        .max(h_opt.symmetric_eigenvalues().max());
    let mut w = DVector::zeros(n);
    let (mut gd_iters, mut gd_loss) = (0, 0.0);
    let mut ws = Workspace::new();
    let mut g = DVector::zeros(0);
    while gd_iters < config.max_gd {
        gd_loss = loss_grad_into(&x, &s, &w, &m, inv_n, lambda, &mut g, &mut ws);
        if g.norm() < config.tol {
            break;
        }
        w.axpy(-1.0 / l, &g, 1.0);
        gd_iters += 1;
    }
    let t_gd = start.elapsed();

    Ok(Report {
        newton_loss,
        newton_iters,
        newton_cg: (outer, hvps),
        newton_cg_loss,
        gd_iters,
        gd_loss,
        times: (t_newton, t_cg, t_gd),
    })
}

// ---------------------------------------------------------------------------
// Part 2: Newton-CG where a dense Hessian does not fit
// ---------------------------------------------------------------------------

/// `softmax_cross_entropy(Φ W, Y) / n + λ‖W‖²`: the mean cross-entropy of the linear
/// classifier `Φ W` (one row of features per image, `y` one-hot), plus a ridge
/// penalty that makes it strongly convex. Its Hessian has `(D·10)²` entries; Newton-CG
/// only ever applies it, by `softmax_loss_hvp_into`.
#[grad(wrt = w, hvp)]
pub fn softmax_loss(
    phi: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w: &DMatrix<f64>,
    inv_n: f64,
    lambda: f64,
) -> f64 {
    softmax_cross_entropy(&(phi * w), y) * inv_n + lambda * w.norm_squared()
}

/// Settings of the large problem.
#[derive(Debug, Clone)]
pub struct LargeConfig {
    /// Number D of random Fourier features (the weights are D × 10).
    pub features: usize,
    /// Width of the Gaussian kernel the features approximate, `exp(−γ‖x − x'‖²)`
    /// (pixels in [0, 1]).
    pub gamma: f64,
    /// Weight of the ridge penalty.
    pub lambda: f64,
    /// Stop when `‖∇f‖ ≤ rel_tol · ‖∇f(0)‖`.
    pub rel_tol: f64,
    /// At most this many Newton-CG (outer) iterations.
    pub max_outer: usize,
    /// At most this many CG iterations (HVPs) per Newton system.
    pub max_cg: usize,
    /// Seed of the 80/20 split and of the random features.
    pub seed: u64,
    /// Also run L-BFGS on the same loss, at most this many iterations (0: skip it).
    pub max_lbfgs: usize,
    /// Print each Newton-CG iteration.
    pub verbose: bool,
}

impl Default for LargeConfig {
    fn default() -> Self {
        LargeConfig {
            features: 2000,
            gamma: 0.25,
            lambda: 1e-5,
            rel_tol: 1e-8,
            max_outer: 50,
            max_cg: 1000,
            seed: 42,
            max_lbfgs: 20_000,
            verbose: true,
        }
    }
}

/// The digits as random Fourier features, split 80/20.
#[derive(Debug, Clone)]
pub struct Features {
    /// `Φ` of the training images: `√(2/D) cos(x Ω + b)`, one row per image.
    pub phi_train: DMatrix<f64>,
    /// One-hot labels of the training images.
    pub y_train: DMatrix<f64>,
    /// Labels of the training images.
    pub labels_train: Vec<usize>,
    /// `Φ` of the test images.
    pub phi_test: DMatrix<f64>,
    /// Labels of the test images.
    pub labels_test: Vec<usize>,
}

/// Loads the digits, splits them 80/20 (seeded shuffle), and maps each image `x`
/// to `√(2/D) cos(x Ω + b)`, `Ω` of N(0, 2γ) entries and `b` uniform in [0, 2π)
/// (Rahimi and Recht, 2007): `φ(x)·φ(x') ≈ exp(−γ‖x − x'‖²)`.
pub fn random_features(config: &LargeConfig) -> common::Result<Features> {
    if config.features == 0 {
        return Err("--features must be positive".into());
    }
    let (x, labels) = common::load_digits()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let (train, test) = common::train_test_split(x.nrows(), 0.2, &mut rng);
    let d = config.features;
    let sd = (2.0 * config.gamma).sqrt();
    let omega = DMatrix::from_fn(x.ncols(), d, |_, _| sd * common::standard_normal(&mut rng));
    let b = RowDVector::from_fn(d, |_, _| rng.random_range(0.0..std::f64::consts::TAU));
    let scale = (2.0 / d as f64).sqrt();
    let phi = |idx: &[usize]| {
        let mut z = common::select_rows(&x, idx) * &omega;
        for (j, mut col) in z.column_iter_mut().enumerate() {
            col.apply(|v| *v = scale * (*v + b[j]).cos());
        }
        z
    };
    let labels_of = |idx: &[usize]| idx.iter().map(|&i| labels[i]).collect::<Vec<_>>();
    let labels_train = labels_of(&train);
    Ok(Features {
        phi_train: phi(&train),
        y_train: common::one_hot(&labels_train, 10),
        labels_train,
        phi_test: phi(&test),
        labels_test: labels_of(&test),
    })
}

/// Fraction of the rows of `phi * w` whose largest entry is the label.
pub fn accuracy(phi: &DMatrix<f64>, w: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hits = common::argmax_rows(&(phi * w))
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    hits as f64 / labels.len() as f64
}

/// What an optimiser reached on the large problem.
#[derive(Debug, Clone)]
pub struct Solve {
    /// Iterations (Newton-CG: outer ones).
    pub iters: usize,
    /// Hessian-vector products (Newton-CG's CG iterations; 0 for L-BFGS).
    pub hvps: usize,
    /// Gradients evaluated (`_grad_into` calls).
    pub grads: usize,
    /// Loss values evaluated by the line search.
    pub loss_evals: usize,
    /// The final loss.
    pub loss: f64,
    /// `‖∇f‖` at the start (w = 0) and at the end.
    pub grad_norm: (f64, f64),
    /// Training and test accuracy of the final weights.
    pub accuracy: (f64, f64),
    /// Wall time (features excluded).
    pub time: Duration,
}

/// What the large run measured.
#[derive(Debug, Clone)]
pub struct LargeReport {
    /// Training and test images.
    pub sizes: (usize, usize),
    /// Number of weights, D × 10.
    pub weights: usize,
    /// Bytes a dense f64 Hessian of the weights would take.
    pub dense_hessian_bytes: u64,
    /// Bytes of the training features `Φ`.
    pub phi_bytes: u64,
    /// Newton-CG's result.
    pub newton_cg: Solve,
    /// The loss and `‖∇f‖` before each Newton-CG iteration, and after the last.
    pub newton_cg_history: Vec<(f64, f64)>,
    /// CG iterations (HVPs) of each Newton system.
    pub cg_iters: Vec<usize>,
    /// L-BFGS's result, when run.
    pub lbfgs: Option<Solve>,
}

/// Truncated conjugate gradients on `H d = −g`, `H` applied by `hvp(p, &mut hp)`, in
/// the caller's buffers: stops when `‖r‖ ≤ min(0.5, √‖g‖) ‖g‖` (so Newton-CG
/// converges superlinearly) or after `max` products; returns the products made.
/// A direction of non-positive curvature (impossible for a strongly convex loss)
/// ends it, with `−g` if it comes first.
fn cg_into(
    g: &DMatrix<f64>,
    max: usize,
    (d, r, p, hp): (
        &mut DMatrix<f64>,
        &mut DMatrix<f64>,
        &mut DMatrix<f64>,
        &mut DMatrix<f64>,
    ),
    mut hvp: impl FnMut(&DMatrix<f64>, &mut DMatrix<f64>),
) -> usize {
    let gn = g.norm();
    let tol = gn * gn.sqrt().min(0.5);
    d.fill(0.0);
    r.copy_from(g);
    r.neg_mut();
    p.copy_from(r);
    let mut rr = r.norm_squared();
    for k in 0..max {
        if rr.sqrt() <= tol {
            return k;
        }
        hvp(p, hp);
        let curvature = p.dot(hp);
        if curvature <= 0.0 {
            if k == 0 {
                d.copy_from(r);
            }
            return k + 1;
        }
        let alpha = rr / curvature;
        axpy(d, alpha, p, 1.0);
        axpy(r, -alpha, hp, 1.0);
        let rr_new = r.norm_squared();
        axpy(p, 1.0, r, rr_new / rr); // p ← r + β p
        rr = rr_new;
    }
    max
}

/// `y ← a x + b y`, entry by entry (nalgebra's `axpy` is for vectors).
fn axpy(y: &mut DMatrix<f64>, a: f64, x: &DMatrix<f64>, b: f64) {
    y.zip_apply(x, |yi, xi| *yi = a * xi + b * *yi);
}

/// Backtracking (Armijo) line search from `w` along `d`, `slope = ∇f·d < 0`: the
/// first `t = 1, ½, ¼, …` with `f(w + t d) ≤ f + 10⁻⁴ t slope`, written into
/// `trial`; returns `(t, f(trial), evaluations)`.
fn armijo(
    f: f64,
    slope: f64,
    w: &DMatrix<f64>,
    d: &DMatrix<f64>,
    trial: &mut DMatrix<f64>,
    loss: impl Fn(&DMatrix<f64>) -> f64,
) -> (f64, f64, usize) {
    let mut t = 1.0;
    for evals in 1.. {
        trial.copy_from(w);
        axpy(trial, t, d, 1.0);
        let ft = loss(trial);
        if ft <= f + 1e-4 * t * slope || t < 1e-12 {
            return (t, ft, evals);
        }
        t *= 0.5;
    }
    unreachable!("the loop returns")
}

/// L-BFGS with the last 10 pairs (`H₀ = sᵀy / yᵀy`) and the same Armijo line
/// search, from zero until `‖∇f‖ ≤ tol` or `max` iterations: the usual first-order
/// alternative when the Hessian is too large. Returns its counts (time and
/// accuracy left to the caller) and the weights.
fn run_lbfgs(
    max: usize,
    tol: f64,
    shape: (usize, usize),
    mut grad_into: impl FnMut(&DMatrix<f64>, &mut DMatrix<f64>, &mut Workspace<f64>) -> f64,
    loss: impl Fn(&DMatrix<f64>) -> f64,
) -> (Solve, DMatrix<f64>) {
    const M: usize = 10;
    let zeros = || DMatrix::zeros(shape.0, shape.1);
    let (mut w, mut trial, mut g, mut g_new, mut d) = (zeros(), zeros(), zeros(), zeros(), zeros());
    let mut ws = Workspace::new();
    // (s, y, 1 / sᵀy), oldest first; popped pairs are reused as the new ones' buffers.
    let mut pairs: VecDeque<(DMatrix<f64>, DMatrix<f64>, f64)> = VecDeque::with_capacity(M);
    let mut alphas = [0.0; M];
    let mut f = grad_into(&w, &mut g, &mut ws);
    let g0 = g.norm();
    let (mut iters, mut grads, mut loss_evals) = (0, 1, 0);
    while g.norm() > tol && iters < max {
        // Two-loop recursion: d = −H g.
        d.copy_from(&g);
        for (a, (s, yv, rho)) in alphas.iter_mut().zip(pairs.iter()).rev() {
            *a = rho * s.dot(&d);
            axpy(&mut d, -*a, yv, 1.0);
        }
        if let Some((s, yv, _)) = pairs.back() {
            d *= s.dot(yv) / yv.norm_squared();
        }
        for (a, (s, yv, rho)) in alphas.iter().zip(pairs.iter()) {
            let b = rho * yv.dot(&d);
            axpy(&mut d, a - b, s, 1.0);
        }
        d.neg_mut();
        let (_, _, evals) = armijo(f, g.dot(&d), &w, &d, &mut trial, &loss);
        let f_new = grad_into(&trial, &mut g_new, &mut ws);
        (grads, loss_evals, iters) = (grads + 1, loss_evals + evals, iters + 1);
        if f_new >= f {
            break; // no decrease left at this precision
        }
        let (mut s, mut yv, _) = if pairs.len() == M {
            pairs.pop_front().expect("M pairs")
        } else {
            (zeros(), zeros(), 0.0)
        };
        s.copy_from(&trial);
        s -= &w;
        yv.copy_from(&g_new);
        yv -= &g;
        let sy = s.dot(&yv);
        if sy > 0.0 {
            pairs.push_back((s, yv, 1.0 / sy));
        }
        std::mem::swap(&mut w, &mut trial);
        std::mem::swap(&mut g, &mut g_new);
        f = f_new;
    }
    let solve = Solve {
        iters,
        hvps: 0,
        grads,
        loss_evals,
        loss: f,
        grad_norm: (g0, g.norm()),
        accuracy: (0.0, 0.0),
        time: Duration::ZERO,
    };
    (solve, w)
}

/// Builds the features and runs Newton-CG (and L-BFGS, if asked) from `W = 0`.
pub fn run_large(config: &LargeConfig) -> common::Result<LargeReport> {
    let data = random_features(config)?;
    let (phi, y) = (&data.phi_train, &data.y_train);
    let (inv_n, lambda) = (1.0 / phi.nrows() as f64, config.lambda);
    let shape = (phi.ncols(), y.ncols());
    let weights = shape.0 * shape.1;
    let loss = |w: &DMatrix<f64>| softmax_loss(phi, y, w, inv_n, lambda);
    let accuracies = |w: &DMatrix<f64>| {
        (
            accuracy(phi, w, &data.labels_train),
            accuracy(&data.phi_test, w, &data.labels_test),
        )
    };
    let zeros = || DMatrix::zeros(shape.0, shape.1);

    // Newton-CG. Every buffer is allocated here, once; `_grad_into` and `_hvp_into`
    // each keep one workspace (one per function, as `Workspace` advises).
    let start = Instant::now();
    let (mut w, mut trial, mut g) = (zeros(), zeros(), zeros());
    let (mut d, mut r, mut p, mut hp, mut g_hvp) = (zeros(), zeros(), zeros(), zeros(), zeros());
    let (mut ws_grad, mut ws_hvp) = (Workspace::new(), Workspace::new());
    let mut f = softmax_loss_grad_into(phi, y, &w, inv_n, lambda, &mut g, &mut ws_grad);
    let g0 = g.norm();
    let (mut grads, mut loss_evals, mut hvps) = (1, 0, 0);
    let (mut history, mut cg_iters) = (Vec::new(), Vec::new());
    loop {
        let gn = g.norm();
        history.push((f, gn));
        if gn <= config.rel_tol * g0 || cg_iters.len() == config.max_outer {
            break;
        }
        let k = cg_into(
            &g,
            config.max_cg,
            (&mut d, &mut r, &mut p, &mut hp),
            |v, hv| {
                softmax_loss_hvp_into(phi, y, &w, inv_n, lambda, v, &mut g_hvp, hv, &mut ws_hvp);
            },
        );
        let (t, ft, evals) = armijo(f, g.dot(&d), &w, &d, &mut trial, loss);
        if config.verbose {
            println!(
                "newton-cg {:>2}  loss {f:.12}  ‖∇f‖ {gn:.3e}  CG {k:>3} HVPs  step {t}",
                cg_iters.len()
            );
        }
        (loss_evals, hvps) = (loss_evals + evals, hvps + k);
        if ft >= f {
            break; // no decrease left at this precision
        }
        std::mem::swap(&mut w, &mut trial);
        f = softmax_loss_grad_into(phi, y, &w, inv_n, lambda, &mut g, &mut ws_grad);
        grads += 1;
        cg_iters.push(k);
    }
    let newton_cg = Solve {
        iters: cg_iters.len(),
        hvps,
        grads,
        loss_evals,
        loss: f,
        grad_norm: (g0, g.norm()),
        accuracy: accuracies(&w),
        time: start.elapsed(),
    };

    let lbfgs = (config.max_lbfgs > 0).then(|| {
        let start = Instant::now();
        let (mut solve, w) = run_lbfgs(
            config.max_lbfgs,
            config.rel_tol * g0,
            shape,
            |w, g, ws| softmax_loss_grad_into(phi, y, w, inv_n, lambda, g, ws),
            loss,
        );
        solve.time = start.elapsed();
        solve.accuracy = accuracies(&w);
        solve
    });

    Ok(LargeReport {
        sizes: (phi.nrows(), data.phi_test.nrows()),
        weights,
        dense_hessian_bytes: (weights as u64).pow(2) * 8,
        phi_bytes: (phi.len() as u64) * 8,
        newton_cg,
        newton_cg_history: history,
        cg_iters,
        lbfgs,
    })
}

fn main() {
    common::exit_on_error(try_main());
}

fn try_main() -> common::Result<()> {
    let mut config = Config::default();
    let mut large = LargeConfig::default();
    let mut small = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--lambda" => config.lambda = common::flag_value(&mut args, "--lambda")?,
            "--tol" => config.tol = common::flag_value(&mut args, "--tol")?,
            "--max-gd" => config.max_gd = common::flag_value(&mut args, "--max-gd")?,
            "--features" => large.features = common::flag_value(&mut args, "--features")?,
            "--gamma" => large.gamma = common::flag_value(&mut args, "--gamma")?,
            "--ridge" => large.lambda = common::flag_value(&mut args, "--ridge")?,
            "--rel-tol" => large.rel_tol = common::flag_value(&mut args, "--rel-tol")?,
            "--seed" => large.seed = common::flag_value(&mut args, "--seed")?,
            "--max-lbfgs" => large.max_lbfgs = common::flag_value(&mut args, "--max-lbfgs")?,
            "--large-only" => small = false,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    if small {
        print_small(&run(&config)?);
        println!();
    }
    print_large(&large, &run_large(&large)?);
    Ok(())
}

fn print_small(r: &Report) {
    let last = r.newton_loss.last().copied().unwrap_or(f64::NAN);
    println!();
    println!(
        "Newton (dense Hessian)  {:>6} iterations  loss {last:.12}  {:.2?}",
        r.newton_iters, r.times.0
    );
    println!(
        "Newton-CG (HVPs only)   {:>6} iterations  loss {:.12}  {:.2?}  ({} HVPs)",
        r.newton_cg.0, r.newton_cg_loss, r.times.1, r.newton_cg.1
    );
    println!(
        "gradient descent (1/L)  {:>6} iterations  loss {:.12}  {:.2?}",
        r.gd_iters, r.gd_loss, r.times.2
    );
}

fn print_large(config: &LargeConfig, r: &LargeReport) {
    let gb = |bytes: u64| bytes as f64 / 1e9;
    println!();
    println!(
        "digits, {} random Fourier features (γ {}) × 10 classes = {} weights, λ {}; {} training / {} test images",
        config.features, config.gamma, r.weights, config.lambda, r.sizes.0, r.sizes.1
    );
    println!(
        "a dense Hessian would take {}² × 8 bytes = {:.2} GB (Φ itself: {:.1} MB)",
        r.weights,
        gb(r.dense_hessian_bytes),
        r.phi_bytes as f64 / 1e6
    );
    let line = |name: &str, s: &Solve, work: String| {
        println!(
            "{name:<10} {:>5} iterations  {work:<14} loss {:.12}  ‖∇f‖ {:.2e} ({:.1e} of ‖∇f(0)‖)  train {:.3}  test {:.3}  {:.2?}",
            s.iters,
            s.loss,
            s.grad_norm.1,
            s.grad_norm.1 / s.grad_norm.0,
            s.accuracy.0,
            s.accuracy.1,
            s.time
        );
    };
    let n = &r.newton_cg;
    line("Newton-CG", n, format!("{} HVPs", n.hvps));
    if let Some(l) = &r.lbfgs {
        line("L-BFGS(10)", l, format!("{} gradients", l.grads));
    }
}

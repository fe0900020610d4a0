//! Static sizes (issue 8): small fixed-size workloads, 3×3 and 6×6, timed side by side:
//!
//! - `generated`: `NAME_grad` as `#[grad]` writes it for static types (stack values,
//!   nalgebra's static kernels, no allocation);
//! - `hand`: the gradient written by hand with nalgebra's static types
//!   (`benches/common/static_losses.rs`), the forward pass once, with the algebra the
//!   expression allows (`x·(Ax)` for the value of `xᵀAx`, one LU for `ln|det X|` and
//!   `X⁻ᵀ`);
//! - `num_dual`: forward-mode gradients with `num-dual`'s `DualSVec64<N>` (one dual
//!   number carries all `N` partials), the usual alternative for small fixed-size
//!   problems in Rust.
//!
//! All three are checked against each other before timing.
//!
//! Run: `cargo bench --bench static_sizes` (about a minute on 2 cores).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::{Matrix2, Matrix3, Matrix6, SMatrix, SVector, Vector3, Vector6};
use num_dual::{gradient, jacobian, DualNum, DualSVec64};

#[path = "common/static_losses.rs"]
mod static_losses;

use static_losses::*;

/// Deterministic inputs in [-0.5, 0.5].
fn entries<const R: usize, const C: usize>(seed: usize) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|i, j| (((i * 7 + j * 13 + seed * 31) % 17) as f64) / 17.0 - 0.5)
}

/// The first `R×C` entries of `v` from `offset` on, column-major.
fn take<T: nalgebra::Scalar + Copy, const N: usize, const R: usize, const C: usize>(
    v: &SVector<T, N>,
    offset: usize,
) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|i, j| v[offset + i + R * j])
}

fn close(a: &[f64], b: &[f64], what: &str) {
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-9 * x.abs().max(1.0),
            "{what}: {x} vs {y}"
        );
    }
}

fn pose_bench(c: &mut Criterion) {
    type D = DualSVec64<12>;
    let r = nalgebra::Rotation3::from_euler_angles(0.3, -0.2, 0.9).into_inner();
    let (t, p, q) = (entries::<3, 1>(1), entries::<3, 16>(2), entries::<3, 16>(3));
    // num-dual: the 12 variables (R column-major, then t) in one vector.
    let x = SVector::<f64, 12>::from_fn(|k, _| if k < 9 { r[k] } else { t[k - 9] });
    let (pd, qd) = (p.map(D::from_re), q.map(D::from_re));
    let dual = |v: SVector<D, 12>| {
        let (r, t) = (take::<D, 12, 3, 3>(&v, 0), take::<D, 12, 3, 1>(&v, 9));
        let mut e = r * pd - qd;
        for mut col in e.column_iter_mut() {
            col += t;
        }
        e.norm_squared()
    };
    let (v0, gr, gt) = pose_grad(&r, &t, &p, &q);
    let (v1, hr, ht) = pose_hand(&r, &t, &p, &q);
    let (v2, gd) = gradient(dual, &x);
    assert_eq!(v0.to_bits(), pose(&r, &t, &p, &q).to_bits());
    close(&[v0, v0], &[v1, v2], "pose value");
    close(gr.as_slice(), hr.as_slice(), "pose ∂R hand");
    close(gt.as_slice(), ht.as_slice(), "pose ∂t hand");
    close(gr.as_slice(), &gd.as_slice()[..9], "pose ∂R num-dual");
    close(gt.as_slice(), &gd.as_slice()[9..], "pose ∂t num-dual");

    let mut g = c.benchmark_group("pose 3x3, 16 points");
    g.bench_function("generated", |b| {
        b.iter(|| pose_grad(black_box(&r), black_box(&t), black_box(&p), black_box(&q)))
    });
    g.bench_function("hand", |b| {
        b.iter(|| pose_hand(black_box(&r), black_box(&t), black_box(&p), black_box(&q)))
    });
    g.bench_function("num_dual", |b| b.iter(|| gradient(dual, black_box(&x))));
    g.finish();
}

fn quadratic_bench(c: &mut Criterion) {
    // 3×3
    type D3 = DualSVec64<12>;
    let (x3, a3): (Vector3<f64>, Matrix3<f64>) = (entries(4), entries(5));
    let v3 = SVector::<f64, 12>::from_fn(|k, _| if k < 3 { x3[k] } else { a3[k - 3] });
    let dual3 = |v: SVector<D3, 12>| {
        let (x, a) = (take::<D3, 12, 3, 1>(&v, 0), take::<D3, 12, 3, 3>(&v, 3));
        x.dot(&(a * x))
    };
    let (v, gx, ga) = quadratic3_grad(&x3, &a3);
    assert_eq!(v.to_bits(), quadratic3(&x3, &a3).to_bits());
    let (_, hx, ha) = quadratic_hand(&x3, &a3);
    let (_, gd) = gradient(dual3, &v3);
    close(gx.as_slice(), hx.as_slice(), "xᵀAx 3 ∂x hand");
    close(ga.as_slice(), ha.as_slice(), "xᵀAx 3 ∂A hand");
    close(gx.as_slice(), &gd.as_slice()[..3], "xᵀAx 3 ∂x num-dual");
    close(ga.as_slice(), &gd.as_slice()[3..], "xᵀAx 3 ∂A num-dual");

    let mut g = c.benchmark_group("quadratic 3x3");
    g.bench_function("generated", |b| {
        b.iter(|| quadratic3_grad(black_box(&x3), black_box(&a3)))
    });
    g.bench_function("hand", |b| {
        b.iter(|| quadratic_hand(black_box(&x3), black_box(&a3)))
    });
    g.bench_function("num_dual", |b| b.iter(|| gradient(dual3, black_box(&v3))));
    g.finish();

    // 6×6
    type D6 = DualSVec64<42>;
    let (x6, a6): (Vector6<f64>, Matrix6<f64>) = (entries(6), entries(7));
    let v6 = SVector::<f64, 42>::from_fn(|k, _| if k < 6 { x6[k] } else { a6[k - 6] });
    let dual6 = |v: SVector<D6, 42>| {
        let (x, a) = (take::<D6, 42, 6, 1>(&v, 0), take::<D6, 42, 6, 6>(&v, 6));
        x.dot(&(a * x))
    };
    let (v, gx, ga) = quadratic6_grad(&x6, &a6);
    assert_eq!(v.to_bits(), quadratic6(&x6, &a6).to_bits());
    let (_, hx, ha) = quadratic_hand(&x6, &a6);
    let (_, gd) = gradient(dual6, &v6);
    close(gx.as_slice(), hx.as_slice(), "xᵀAx 6 ∂x hand");
    close(ga.as_slice(), ha.as_slice(), "xᵀAx 6 ∂A hand");
    close(gx.as_slice(), &gd.as_slice()[..6], "xᵀAx 6 ∂x num-dual");
    close(ga.as_slice(), &gd.as_slice()[6..], "xᵀAx 6 ∂A num-dual");

    let mut g = c.benchmark_group("quadratic 6x6");
    g.bench_function("generated", |b| {
        b.iter(|| quadratic6_grad(black_box(&x6), black_box(&a6)))
    });
    g.bench_function("hand", |b| {
        b.iter(|| quadratic_hand(black_box(&x6), black_box(&a6)))
    });
    g.bench_function("num_dual", |b| b.iter(|| gradient(dual6, black_box(&v6))));
    g.finish();
}

fn layer_bench(c: &mut Criterion) {
    type D = DualSVec64<42>;
    let (w, x, y): (Matrix6<f64>, Vector6<f64>, Vector6<f64>) =
        (entries(8), entries(9), entries(10));
    let v = SVector::<f64, 42>::from_fn(|k, _| if k < 36 { w[k] } else { x[k - 36] });
    let yd = y.map(D::from_re);
    let dual = |v: SVector<D, 42>| {
        let (w, x) = (take::<D, 42, 6, 6>(&v, 0), take::<D, 42, 6, 1>(&v, 36));
        ((w * x).map(|z| z.tanh()) - yd).norm_squared()
    };
    let (value, gw, gx) = layer6_grad(&w, &x, &y);
    assert_eq!(value.to_bits(), layer6(&w, &x, &y).to_bits());
    let (_, hw, hx) = layer6_hand(&w, &x, &y);
    let (_, gd) = gradient(dual, &v);
    close(gw.as_slice(), hw.as_slice(), "layer ∂W hand");
    close(gx.as_slice(), hx.as_slice(), "layer ∂x hand");
    close(gw.as_slice(), &gd.as_slice()[..36], "layer ∂W num-dual");
    close(gx.as_slice(), &gd.as_slice()[36..], "layer ∂x num-dual");

    let mut g = c.benchmark_group("layer 6x6");
    g.bench_function("generated", |b| {
        b.iter(|| layer6_grad(black_box(&w), black_box(&x), black_box(&y)))
    });
    g.bench_function("hand", |b| {
        b.iter(|| layer6_hand(black_box(&w), black_box(&x), black_box(&y)))
    });
    g.bench_function("num_dual", |b| b.iter(|| gradient(dual, black_box(&v))));
    g.finish();
}

fn ln_det_bench(c: &mut Criterion) {
    type D = DualSVec64<36>;
    let x: Matrix6<f64> = entries::<6, 6>(11) + Matrix6::identity() * 3.0;
    let v = SVector::<f64, 36>::from_column_slice(x.as_slice());
    // num-dual: nalgebra's LU on dual numbers, ln|det| = Σ ln|u_ii|.
    let dual = |v: SVector<D, 36>| {
        let x = take::<D, 36, 6, 6>(&v, 0);
        x.lu()
            .u()
            .diagonal()
            .iter()
            .map(|d| nalgebra::ComplexField::abs(*d).ln())
            .sum::<D>()
    };
    let (value, gx) = ln_det6_grad(&x);
    assert_eq!(value.to_bits(), ln_det6(&x).to_bits());
    let (_, hx) = ln_det6_hand(&x);
    let (_, gd) = gradient(dual, &v);
    close(gx.as_slice(), hx.as_slice(), "ln_det ∂X hand");
    close(gx.as_slice(), gd.as_slice(), "ln_det ∂X num-dual");

    let mut g = c.benchmark_group("ln_det 6x6");
    g.bench_function("generated", |b| b.iter(|| ln_det6_grad(black_box(&x))));
    g.bench_function("hand", |b| b.iter(|| ln_det6_hand(black_box(&x))));
    g.bench_function("num_dual", |b| b.iter(|| gradient(dual, black_box(&v))));
    g.finish();
}

/// 2-D pose from three correspondences, residuals `R(θ) p_k + t − q_k` stacked.
#[matgrad::jacobian(wrt = theta)]
fn pose2d(theta: &Vector3<f64>, p: &SMatrix<f64, 2, 3>, q: &SMatrix<f64, 2, 3>) -> Vector6<f64> {
    let (c, s) = (theta[0].cos(), theta[0].sin());
    let rot = Matrix2::new(c, -s, s, c);
    let e = rot * p - q;
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

/// The same Jacobian by hand: ∂r/∂θ = R′(θ) p_k, ∂r/∂t = I per point.
fn pose2d_hand(
    theta: &Vector3<f64>,
    p: &SMatrix<f64, 2, 3>,
    q: &SMatrix<f64, 2, 3>,
) -> (Vector6<f64>, SMatrix<f64, 6, 3>) {
    let (s, c) = theta[0].sin_cos();
    let (rot, drot) = (Matrix2::new(c, -s, s, c), Matrix2::new(-s, -c, c, -s));
    let mut r = Vector6::zeros();
    let mut j = SMatrix::<f64, 6, 3>::zeros();
    for k in 0..3 {
        let (pk, qk) = (p.column(k), q.column(k));
        let e = rot * pk - qk;
        let de = drot * pk;
        r[2 * k] = e[0] + theta[1];
        r[2 * k + 1] = e[1] + theta[2];
        j[(2 * k, 0)] = de[0];
        j[(2 * k + 1, 0)] = de[1];
        j[(2 * k, 1)] = 1.0;
        j[(2 * k + 1, 2)] = 1.0;
    }
    (r, j)
}

fn jacobian_bench(c: &mut Criterion) {
    type D = DualSVec64<3>;
    let theta = Vector3::new(0.4, 0.1, -0.2);
    let (p, q): (SMatrix<f64, 2, 3>, SMatrix<f64, 2, 3>) = (entries(8), entries(9));
    let (pd, qd) = (p.map(D::from_re), q.map(D::from_re));
    let dual = |v: SVector<D, 3>| {
        let (s, c) = (v[0].sin(), v[0].cos());
        let rot = nalgebra::Matrix2::new(c, -s, s, c);
        let e = rot * pd - qd;
        Vector6::from_fn(|i, _| e[(i % 2, i / 2)] + v[1 + i % 2])
    };
    let (r0, j0) = pose2d_jacobian(&theta, &p, &q);
    let (r1, j1) = pose2d_hand(&theta, &p, &q);
    let (r2, j2) = jacobian(dual, &theta);
    assert_eq!(r0, pose2d(&theta, &p, &q));
    close(r0.as_slice(), r1.as_slice(), "pose2d value hand");
    close(r0.as_slice(), r2.as_slice(), "pose2d value num-dual");
    close(j0.as_slice(), j1.as_slice(), "pose2d J hand");
    close(j0.as_slice(), j2.as_slice(), "pose2d J num-dual");

    let mut g = c.benchmark_group("jacobian pose2d 6x3");
    g.bench_function("generated", |b| {
        b.iter(|| pose2d_jacobian(black_box(&theta), black_box(&p), black_box(&q)))
    });
    g.bench_function("hand", |b| {
        b.iter(|| pose2d_hand(black_box(&theta), black_box(&p), black_box(&q)))
    });
    g.bench_function("num_dual", |b| b.iter(|| jacobian(dual, black_box(&theta))));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = pose_bench, quadratic_bench, layer_bench, ln_det_bench, jacobian_bench
}
criterion_main!(benches);

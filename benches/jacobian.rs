//! Jacobians of large dynamic residuals (issue 18): `NAME_jacobian_into` as
//! `#[jacobian]` writes it against the fastest Jacobian we could write by hand, on the
//! residuals of `benches/common/jacobian_residuals.rs`:
//!
//! - `jacobian_exp`: an exponential–rational model, 4 parameters, m = 1 000 and
//!   10 000 residuals (the structured form: a column per entry `p[k]`);
//! - `jacobian_dense`: `tanh(X w) − y`, n = 40 parameters, m = 1 000 and 10 000
//!   residuals (the structured form `diag(1 − tanh²(X w)) X`).
//!
//! Functions of each group: `generated` (the form the costs choose, workspace and
//! outputs reused), `generated_forward` / `generated_reverse` (the same function with
//! the mode forced; reverse only at the small size, where its m sweeps still run in
//! milliseconds), `expert` (one pass over the data with each exponential computed
//! once; for the dense model the structured `diag(1 − tanh²(X w)) X`). Every Jacobian
//! is checked against the expert's before timing (relative error ≤ 1e-12).
//!
//! Run: `cargo bench --bench jacobian` (≈ 30 s), then
//! `python3 benches/report.py target/criterion` for the table.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use matgrad::Workspace;
use nalgebra::{DMatrix, DVector};

#[path = "common/jacobian_residuals.rs"]
mod jacobian_residuals;

use jacobian_residuals::*;

/// ‖a − b‖ ≤ 1e-12 ‖b‖.
fn check(what: &str, a: &DMatrix<f64>, b: &DMatrix<f64>) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let err = (a - b).norm() / b.norm().max(1e-300);
    assert!(err <= 1e-12, "{what}: relative error {err:e}");
}

fn exp_bench(c: &mut Criterion) {
    for (size, m) in [("small", 1_000), ("large", 10_000)] {
        let mut g = c.benchmark_group(format!("jacobian_exp/{size}"));
        let f = exp_data(m);
        let label = format!("m={m} n=4");
        let (mut r, mut j, mut ws) = (DVector::zeros(0), DMatrix::zeros(0, 0), Workspace::new());
        let (mut re, mut je) = (DVector::zeros(0), DMatrix::zeros(0, 0));
        exp_rational_expert(&f, &mut re, &mut je);
        exp_rational_jacobian_into(&f.p, &f.t, &f.y, &mut r, &mut j, &mut ws);
        assert_eq!(
            r,
            exp_rational(&f.p, &f.t, &f.y),
            "the residuals, bit for bit"
        );
        check("exp generated", &j, &je);
        let (mut rf, mut jf, mut wsf) = (DVector::zeros(0), DMatrix::zeros(0, 0), Workspace::new());
        exp_rational_fwd_jacobian_into(&f.p, &f.t, &f.y, &mut rf, &mut jf, &mut wsf);
        check("exp forward", &jf, &je);
        g.bench_function(BenchmarkId::new("generated", &label), |b| {
            b.iter(|| {
                exp_rational_jacobian_into(
                    black_box(&f.p),
                    black_box(&f.t),
                    black_box(&f.y),
                    &mut r,
                    &mut j,
                    &mut ws,
                )
            })
        });
        g.bench_function(BenchmarkId::new("generated_forward", &label), |b| {
            b.iter(|| {
                exp_rational_fwd_jacobian_into(
                    black_box(&f.p),
                    black_box(&f.t),
                    black_box(&f.y),
                    &mut rf,
                    &mut jf,
                    &mut wsf,
                )
            })
        });
        if size == "small" {
            let (mut rr, mut jr, mut wsr) =
                (DVector::zeros(0), DMatrix::zeros(0, 0), Workspace::new());
            exp_rational_rev_jacobian_into(&f.p, &f.t, &f.y, &mut rr, &mut jr, &mut wsr);
            check("exp reverse", &jr, &je);
            g.bench_function(BenchmarkId::new("generated_reverse", &label), |b| {
                b.iter(|| {
                    exp_rational_rev_jacobian_into(
                        black_box(&f.p),
                        black_box(&f.t),
                        black_box(&f.y),
                        &mut rr,
                        &mut jr,
                        &mut wsr,
                    )
                })
            });
        }
        g.bench_function(BenchmarkId::new("expert", &label), |b| {
            b.iter(|| exp_rational_expert(black_box(&f), &mut re, &mut je))
        });
        g.finish();
    }
}

fn dense_bench(c: &mut Criterion) {
    let n = 40;
    for (size, m) in [("small", 1_000), ("large", 10_000)] {
        let mut g = c.benchmark_group(format!("jacobian_dense/{size}"));
        let f = dense_data(m, n);
        let label = format!("m={m} n={n}");
        let (mut r, mut j, mut ws) = (DVector::zeros(0), DMatrix::zeros(0, 0), Workspace::new());
        let (mut re, mut je, mut z) = (DVector::zeros(0), DMatrix::zeros(0, 0), DVector::zeros(0));
        dense_expert(&f, &mut re, &mut je, &mut z);
        dense_jacobian_into(&f.p, &f.x, &f.y, &mut r, &mut j, &mut ws);
        assert_eq!(r, dense(&f.p, &f.x, &f.y), "the residuals, bit for bit");
        check("dense generated", &j, &je);
        g.bench_function(BenchmarkId::new("generated", &label), |b| {
            b.iter(|| {
                dense_jacobian_into(
                    black_box(&f.p),
                    black_box(&f.x),
                    black_box(&f.y),
                    &mut r,
                    &mut j,
                    &mut ws,
                )
            })
        });
        let (mut rf, mut jf, mut wsf) = (DVector::zeros(0), DMatrix::zeros(0, 0), Workspace::new());
        dense_fwd_jacobian_into(&f.p, &f.x, &f.y, &mut rf, &mut jf, &mut wsf);
        check("dense forward", &jf, &je);
        g.bench_function(BenchmarkId::new("generated_forward", &label), |b| {
            b.iter(|| {
                dense_fwd_jacobian_into(
                    black_box(&f.p),
                    black_box(&f.x),
                    black_box(&f.y),
                    &mut rf,
                    &mut jf,
                    &mut wsf,
                )
            })
        });
        if size == "small" {
            let (mut rr, mut jr, mut wsr) =
                (DVector::zeros(0), DMatrix::zeros(0, 0), Workspace::new());
            dense_rev_jacobian_into(&f.p, &f.x, &f.y, &mut rr, &mut jr, &mut wsr);
            check("dense reverse", &jr, &je);
            g.bench_function(BenchmarkId::new("generated_reverse", &label), |b| {
                b.iter(|| {
                    dense_rev_jacobian_into(
                        black_box(&f.p),
                        black_box(&f.x),
                        black_box(&f.y),
                        &mut rr,
                        &mut jr,
                        &mut wsr,
                    )
                })
            });
        }
        g.bench_function(BenchmarkId::new("expert", &label), |b| {
            b.iter(|| dense_expert(black_box(&f), &mut re, &mut je, &mut z))
        });
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = exp_bench, dense_bench
}
criterion_main!(benches);

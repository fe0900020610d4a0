//! The benchmark workloads of BENCHMARKS.md, each at a small, a medium and a large
//! size, timed side by side in one criterion group per size:
//!
//! - `generated`: `NAME_grad`, what `#[grad]` writes (allocates its outputs and
//!   intermediates on every call);
//! - `generated_into`: `NAME_grad_into` with a reused `Workspace` and output buffers;
//! - `expert`: the best gradient we can write by hand: forward pass once, buffers
//!   preallocated and reused, transposed operands handed to `matrixmultiply::dgemm`
//!   as swapped strides (never materialised, never nalgebra's `tr_mul`/`gemm_tr`),
//!   nalgebra `gemv`/`gemv_tr` for matrix × vector, scalars folded into GEMM
//!   `alpha`/`beta`, fused elementwise loops, and any algebra the whole expression
//!   allows (noted where used);
//! - `naive`: the textbook formulas in nalgebra, an allocation per operation and
//!   explicit `.transpose()`s.
//!
//! Every expert and naive gradient (and `_grad_into`) is checked against the
//! generated one at the start of its group, outside the timing, to 1e-9 relative.
//!
//! `gemm_rate` times one 512×512×512 `dgemm` (single thread): the machine's GEMM rate
//! that the GFLOP/s of the large sizes are compared with. Each group's throughput is
//! set to its model flop count (see `flops` in each workload), so criterion prints
//! `thrpt` in Gelem/s = GFLOP/s.
//!
//! The recurrent network (`rnn`, issue 16) is timed at two sequence lengths instead
//! of three sizes: groups `rnn/T10` and `rnn/T100` (`cargo bench --bench workloads
//! -- rnn`); `generated` is the loop with a run-time trip count, and at T = 10
//! `generated_unrolled_into` the same loss with a literal one, unrolled.
//!
//! Run: `cargo bench --bench workloads` (about 6 minutes on 2 cores).

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use criterion::{BenchmarkId, Throughput};
use matgrad::{add_row, relu, sigmoid, softmax_cross_entropy, softplus, Workspace};
use nalgebra::{DMatrix, DVector, RowDVector};

#[path = "common/data.rs"]
mod data;

use data::SIZE_NAMES;

#[path = "common/losses.rs"]
mod losses;

#[path = "common/expert.rs"]
mod expert;

#[path = "common/rnn_losses.rs"]
mod rnn_losses;

use expert::{dgemm, dot, gemv_add, Op};

use losses::*;

// ---------------------------------------------------------------------------
// The expert's kernels
// ---------------------------------------------------------------------------

/// The GEMM kernel of an expert gradient.
#[derive(Clone, Copy)]
enum Kernel {
    /// `matrixmultiply::dgemm`, transposed operands as swapped strides (`expert`).
    Mm,
    /// matgrad-runtime's public `gemm_nn`/`gemm_tn`/`gemm_nt`/`gemm_tt`, the kernels
    /// the generated code calls (`expert_mg`): the same hand-written algorithm, so
    /// that `generated_into` against `expert_mg` compares code generation alone.
    Mg,
}

impl Kernel {
    /// `c = alpha · op(a) · op(b) + beta · c`; if `beta` is zero, `c` is not read.
    #[allow(clippy::too_many_arguments)] // the BLAS signature
    fn gemm(
        self,
        alpha: f64,
        a: &DMatrix<f64>,
        ta: Op,
        b: &DMatrix<f64>,
        tb: Op,
        beta: f64,
        c: &mut DMatrix<f64>,
    ) {
        match self {
            Kernel::Mm => dgemm(alpha, a, ta, b, tb, beta, c),
            Kernel::Mg => {
                let (av, bv) = (a.as_view(), b.as_view());
                match (ta, tb) {
                    (Op::N, Op::N) => matgrad::gemm_nn(alpha, av, bv, beta, c),
                    (Op::T, Op::N) => matgrad::gemm_tn(alpha, av, bv, beta, c),
                    (Op::N, Op::T) => matgrad::gemm_nt(alpha, av, bv, beta, c),
                    (Op::T, Op::T) => matgrad::gemm_tt(alpha, av, bv, beta, c),
                }
            }
        }
    }
}

/// Fills every column `j` of `m` with `row[j]` (a broadcast row, ready for `beta = 1`).
fn fill_rows(m: &mut DMatrix<f64>, row: &RowDVector<f64>) {
    let n = m.nrows();
    if n > 0 {
        for (col, &v) in m.as_mut_slice().chunks_exact_mut(n).zip(row.iter()) {
            col.fill(v);
        }
    }
}

/// `Σ f(x_i)` with eight partial sums, so that the loop vectorises.
fn sum_by(xs: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
    acc.iter().sum::<f64>() + tail
}

/// `Σ x_i²`.
fn norm_sq(xs: &[f64]) -> f64 {
    sum_by(xs, |v| v * v)
}

// ---------------------------------------------------------------------------
// Checks (outside the timing)
// ---------------------------------------------------------------------------

const TOLERANCE: f64 = 1e-9;

fn check_value(what: &str, got: f64, want: f64) {
    let err = (got - want).abs() / want.abs().max(1.0);
    assert!(
        err <= TOLERANCE,
        "{what}: value {got} vs generated {want} (relative error {err:e})"
    );
}

fn check_grad(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: gradient length");
    let diff: f64 = got.iter().zip(want).map(|(g, w)| (g - w) * (g - w)).sum();
    let norm: f64 = want.iter().map(|w| w * w).sum();
    let err = (diff / norm.max(f64::MIN_POSITIVE)).sqrt();
    assert!(
        err <= TOLERANCE,
        "{what}: gradient differs from generated (relative error {err:e})"
    );
}

// ---------------------------------------------------------------------------
// Group settings
// ---------------------------------------------------------------------------

/// A group for one workload at one size, its throughput set to the model flop count.
fn group<'a>(
    c: &'a mut Criterion,
    workload: &str,
    size: usize,
    flops: f64,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{workload}/{}", SIZE_NAMES[size]));
    // The flop counts are exact integers well below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    g.throughput(Throughput::Elements(flops as u64));
    match size {
        0 => {
            g.sample_size(40)
                .warm_up_time(Duration::from_millis(400))
                .measurement_time(Duration::from_millis(1200));
        }
        1 => {
            g.sample_size(30)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_millis(1500));
        }
        _ => {
            g.sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_millis(2500));
        }
    }
    g
}

fn id(name: &str, label: &str) -> BenchmarkId {
    BenchmarkId::new(name, label)
}

// ---------------------------------------------------------------------------
// 1. Two-layer network
// ---------------------------------------------------------------------------

struct TwoLayerExpert {
    k: Kernel,
    h: DMatrix<f64>,
    r: DMatrix<f64>,
    g: DMatrix<f64>,
    dw1: DMatrix<f64>,
    dw2: DMatrix<f64>,
}

impl TwoLayerExpert {
    fn new(kernel: Kernel, (n, d, h, k): (usize, usize, usize, usize)) -> Self {
        TwoLayerExpert {
            k: kernel,
            h: DMatrix::zeros(n, h),
            r: DMatrix::zeros(n, k),
            g: DMatrix::zeros(n, h),
            dw1: DMatrix::zeros(d, h),
            dw2: DMatrix::zeros(h, k),
        }
    }

    fn grad(
        &mut self,
        x: &DMatrix<f64>,
        w1: &DMatrix<f64>,
        w2: &DMatrix<f64>,
        y: &DMatrix<f64>,
    ) -> f64 {
        // H = tanh(X W1), in place.
        self.k.gemm(1.0, x, Op::N, w1, Op::N, 0.0, &mut self.h);
        for v in self.h.as_mut_slice() {
            *v = v.tanh();
        }
        // R = H W2 − Y: the subtraction folded into beta = −1.
        self.r.copy_from(y);
        self.k
            .gemm(1.0, &self.h, Op::N, w2, Op::N, -1.0, &mut self.r);
        let value = norm_sq(self.r.as_slice());
        // dW2 = 2 Hᵀ R; G = (2 R W2ᵀ) ⊙ (1 − H²); dW1 = Xᵀ G.
        self.k
            .gemm(2.0, &self.h, Op::T, &self.r, Op::N, 0.0, &mut self.dw2);
        self.k
            .gemm(2.0, &self.r, Op::N, w2, Op::T, 0.0, &mut self.g);
        for (g, &h) in self.g.as_mut_slice().iter_mut().zip(self.h.as_slice()) {
            *g *= 1.0 - h * h;
        }
        self.k
            .gemm(1.0, x, Op::T, &self.g, Op::N, 0.0, &mut self.dw1);
        value
    }
}

fn two_layer_naive(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let z = x * w1;
    let h = z.map(f64::tanh);
    let r = &h * w2 - y;
    let value = r.norm_squared();
    let gr = &r * 2.0;
    let dw2 = h.transpose() * &gr;
    let gh = &gr * w2.transpose();
    let gz = gh.component_mul(&h.map(|t| 1.0 - t * t));
    let dw1 = x.transpose() * gz;
    (value, dw1, dw2)
}

fn bench_two_layer(c: &mut Criterion) {
    for size in 0..3 {
        let shape @ (n, d, h, k) = data::TWO_LAYER_SIZES[size];
        let p = data::two_layer(size);
        let (x, w1, w2, y) = (&p.x, &p.w1, &p.w2, &p.y);
        let label = format!("{n}x{d}x{h}x{k}");

        let (v, g1, g2) = two_layer_grad(x, w1, w2, y);
        check_value("two_layer original", two_layer(x, w1, w2, y), v);
        let mut expert = TwoLayerExpert::new(Kernel::Mm, shape);
        let mut expert_mg = TwoLayerExpert::new(Kernel::Mg, shape);
        for (what, e) in [("expert", &mut expert), ("expert_mg", &mut expert_mg)] {
            check_value(&format!("two_layer {what}"), e.grad(x, w1, w2, y), v);
            check_grad(
                &format!("two_layer {what} dw1"),
                e.dw1.as_slice(),
                g1.as_slice(),
            );
            check_grad(
                &format!("two_layer {what} dw2"),
                e.dw2.as_slice(),
                g2.as_slice(),
            );
        }
        let (nv, n1, n2) = two_layer_naive(x, w1, w2, y);
        check_value("two_layer naive", nv, v);
        check_grad("two_layer naive dw1", n1.as_slice(), g1.as_slice());
        check_grad("two_layer naive dw2", n2.as_slice(), g2.as_slice());
        let (mut i1, mut i2, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        check_value(
            "two_layer _grad_into",
            two_layer_grad_into(x, w1, w2, y, &mut i1, &mut i2, &mut ws),
            v,
        );
        check_grad("two_layer _grad_into dw1", i1.as_slice(), g1.as_slice());
        check_grad("two_layer _grad_into dw2", i2.as_slice(), g2.as_slice());

        let (n, d, h, k) = (n as f64, d as f64, h as f64, k as f64);
        let flops = 4.0 * n * d * h + 6.0 * n * h * k;
        let mut g = group(c, "two_layer", size, flops);
        g.bench_function(id("generated", &label), |b| {
            b.iter(|| two_layer_grad(black_box(x), w1, w2, y));
        });
        g.bench_function(id("generated_into", &label), |b| {
            b.iter(|| two_layer_grad_into(black_box(x), w1, w2, y, &mut i1, &mut i2, &mut ws));
        });
        g.bench_function(id("expert", &label), |b| {
            b.iter(|| expert.grad(black_box(x), w1, w2, y));
        });
        g.bench_function(id("expert_mg", &label), |b| {
            b.iter(|| expert_mg.grad(black_box(x), w1, w2, y));
        });
        g.bench_function(id("naive", &label), |b| {
            b.iter(|| two_layer_naive(black_box(x), w1, w2, y));
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 2. MLP classifier
// ---------------------------------------------------------------------------

struct MlpGrads {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

struct MlpExpert {
    k: Kernel,
    /// x w1 + b1, then relu in place
    h: DMatrix<f64>,
    /// h w2 + b2, the scores
    z: DMatrix<f64>,
    /// the adjoint of the scores
    gz: DMatrix<f64>,
    /// the adjoint of the hidden pre-activation
    gh: DMatrix<f64>,
    /// per-row max, sum of exponentials, sum of targets, targets · scores
    rows: [Vec<f64>; 4],
    d: MlpGrads,
}

impl MlpExpert {
    fn new(kernel: Kernel, n: usize) -> Self {
        let (d, h, k) = data::MLP_LAYERS;
        MlpExpert {
            k: kernel,
            h: DMatrix::zeros(n, h),
            z: DMatrix::zeros(n, k),
            gz: DMatrix::zeros(n, k),
            gh: DMatrix::zeros(n, h),
            rows: [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            d: MlpGrads {
                w1: DMatrix::zeros(d, h),
                b1: RowDVector::zeros(h),
                w2: DMatrix::zeros(h, k),
                b2: RowDVector::zeros(k),
            },
        }
    }

    fn grad(&mut self, p: &data::Mlp) -> f64 {
        let (x, y) = (&p.x, &p.y);
        let n = x.nrows();
        // Forward: the bias rows are the GEMMs' initial C (beta = 1); relu in place.
        fill_rows(&mut self.h, &p.b1);
        self.k.gemm(1.0, x, Op::N, &p.w1, Op::N, 1.0, &mut self.h);
        for v in self.h.as_mut_slice() {
            *v = v.max(0.0);
        }
        fill_rows(&mut self.z, &p.b2);
        self.k
            .gemm(1.0, &self.h, Op::N, &p.w2, Op::N, 1.0, &mut self.z);

        // Softmax cross-entropy and its adjoint, column by column (column-major),
        // with per-row accumulators: value = Σ_r rowsum(y_r) lse(z_r) − y_r · z_r,
        // gz = softmax(z) ⊙ rowsum(y) − y.
        let [mx, se, ys, yz] = &mut self.rows;
        let (z, ya) = (self.z.as_slice(), y.as_slice());
        mx.copy_from_slice(&z[..n]);
        for zc in z.chunks_exact(n).skip(1) {
            for (m, &v) in mx.iter_mut().zip(zc) {
                *m = m.max(v);
            }
        }
        se.fill(0.0);
        ys.fill(0.0);
        yz.fill(0.0);
        let cols = z.chunks_exact(n).zip(ya.chunks_exact(n));
        for ((zc, yc), gc) in cols.zip(self.gz.as_mut_slice().chunks_exact_mut(n)) {
            for i in 0..n {
                let e = (zc[i] - mx[i]).exp();
                gc[i] = e;
                se[i] += e;
                ys[i] += yc[i];
                yz[i] += yc[i] * zc[i];
            }
        }
        let mut value = 0.0;
        for i in 0..n {
            value += ys[i] * (mx[i] + se[i].ln()) - yz[i];
            se[i] = ys[i] / se[i];
        }
        let cols = self
            .gz
            .as_mut_slice()
            .chunks_exact_mut(n)
            .zip(ya.chunks_exact(n));
        for ((gc, yc), db) in cols.zip(self.d.b2.iter_mut()) {
            for i in 0..n {
                gc[i] = gc[i] * se[i] - yc[i];
            }
            *db = sum_by(gc, |g| g);
        }

        // Backward through the second layer.
        self.k
            .gemm(1.0, &self.h, Op::T, &self.gz, Op::N, 0.0, &mut self.d.w2);
        self.k
            .gemm(1.0, &self.gz, Op::N, &p.w2, Op::T, 0.0, &mut self.gh);
        // relu mask (h > 0 exactly where the pre-activation is), then db1.
        let cols = self
            .gh
            .as_mut_slice()
            .chunks_exact_mut(n)
            .zip(self.h.as_slice().chunks_exact(n));
        for ((gc, hc), db) in cols.zip(self.d.b1.iter_mut()) {
            for (g, &h) in gc.iter_mut().zip(hc) {
                *g = if h > 0.0 { *g } else { 0.0 };
            }
            *db = sum_by(gc, |g| g);
        }
        self.k
            .gemm(1.0, x, Op::T, &self.gh, Op::N, 0.0, &mut self.d.w1);
        value
    }
}

fn mlp_naive(p: &data::Mlp) -> (f64, MlpGrads) {
    let (x, y) = (&p.x, &p.y);
    let a1 = add_row(&(x * &p.w1), &p.b1);
    let h = relu(&a1);
    let z = add_row(&(&h * &p.w2), &p.b2);
    let value = softmax_cross_entropy(&z, y);
    let mut sm = z.clone();
    for mut row in sm.row_iter_mut() {
        let m = row.max();
        row.apply(|v| *v = (*v - m).exp());
        let s = row.sum();
        row /= s;
    }
    let ysum = y.column_sum();
    let gz = DMatrix::from_fn(z.nrows(), z.ncols(), |i, j| sm[(i, j)] * ysum[i]) - y;
    let b2 = gz.row_sum();
    let w2 = h.transpose() * &gz;
    let gh = &gz * p.w2.transpose();
    let ga = gh.component_mul(&a1.map(|v| if v > 0.0 { 1.0 } else { 0.0 }));
    let b1 = ga.row_sum();
    let w1 = x.transpose() * &ga;
    (value, MlpGrads { w1, b1, w2, b2 })
}

fn check_mlp(what: &str, got: &MlpGrads, want: &MlpGrads) {
    check_grad(
        &format!("{what} dw1"),
        got.w1.as_slice(),
        want.w1.as_slice(),
    );
    check_grad(
        &format!("{what} db1"),
        got.b1.as_slice(),
        want.b1.as_slice(),
    );
    check_grad(
        &format!("{what} dw2"),
        got.w2.as_slice(),
        want.w2.as_slice(),
    );
    check_grad(
        &format!("{what} db2"),
        got.b2.as_slice(),
        want.b2.as_slice(),
    );
}

fn bench_mlp(c: &mut Criterion) {
    for size in 0..3 {
        let n = data::MLP_SIZES[size];
        let (d, h, k) = data::MLP_LAYERS;
        let p = data::mlp(size);
        let label = format!("{n}x{d}x{h}x{k}");

        let (v, w1, b1, w2, b2) = mlp_grad(&p.x, &p.w1, &p.b1, &p.w2, &p.b2, &p.y);
        let want = MlpGrads { w1, b1, w2, b2 };
        check_value(
            "mlp original",
            mlp(&p.x, &p.w1, &p.b1, &p.w2, &p.b2, &p.y),
            v,
        );
        let mut expert = MlpExpert::new(Kernel::Mm, n);
        let mut expert_mg = MlpExpert::new(Kernel::Mg, n);
        for (what, e) in [("expert", &mut expert), ("expert_mg", &mut expert_mg)] {
            check_value(&format!("mlp {what}"), e.grad(&p), v);
            check_mlp(&format!("mlp {what}"), &e.d, &want);
        }
        let (nv, naive) = mlp_naive(&p);
        check_value("mlp naive", nv, v);
        check_mlp("mlp naive", &naive, &want);
        let mut into = MlpGrads {
            w1: DMatrix::zeros(0, 0),
            b1: RowDVector::zeros(0),
            w2: DMatrix::zeros(0, 0),
            b2: RowDVector::zeros(0),
        };
        let mut ws = Workspace::new();
        let run_into = |o: &mut MlpGrads, ws: &mut Workspace<f64>| {
            mlp_grad_into(
                black_box(&p.x),
                &p.w1,
                &p.b1,
                &p.w2,
                &p.b2,
                &p.y,
                &mut o.w1,
                &mut o.b1,
                &mut o.w2,
                &mut o.b2,
                ws,
            )
        };
        check_value("mlp _grad_into", run_into(&mut into, &mut ws), v);
        check_mlp("mlp _grad_into", &into, &want);

        let (n, d, h, k) = (n as f64, d as f64, h as f64, k as f64);
        let flops = 4.0 * n * d * h + 6.0 * n * h * k;
        let mut g = group(c, "mlp", size, flops);
        g.bench_function(id("generated", &label), |b| {
            b.iter(|| mlp_grad(black_box(&p.x), &p.w1, &p.b1, &p.w2, &p.b2, &p.y));
        });
        g.bench_function(id("generated_into", &label), |b| {
            b.iter(|| run_into(&mut into, &mut ws));
        });
        g.bench_function(id("expert", &label), |b| {
            b.iter(|| expert.grad(black_box(&p)));
        });
        g.bench_function(id("expert_mg", &label), |b| {
            b.iter(|| expert_mg.grad(black_box(&p)));
        });
        g.bench_function(id("naive", &label), |b| b.iter(|| mlp_naive(black_box(&p))));
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 3. Least squares and logistic regression
// ---------------------------------------------------------------------------

/// The matrix–vector kernels of the regression experts, timed side by side: the
/// fastest is the one named `expert` in BENCHMARKS.md's tables.
#[derive(Clone, Copy)]
enum Mv {
    /// matgrad-runtime's public `gemm_nn`/`gemm_tn` with a one-column operand: a
    /// four-column sweep for `X w`, dot products of four columns at a time for `Xᵀ r`.
    Mg,
    /// The same two loops written out by hand (`expert::gemv_add4`, `gemv_tr4`).
    Sweep4,
    /// `matrixmultiply::dgemm` with a one-column operand (it packs both operands).
    Mm,
    /// The expert of BENCHMARKS.md before 2026-12-06: an eight-column sweep for
    /// `X w` and nalgebra's `gemv_tr` (one dot product per column of `X`) for `Xᵀ r`.
    Old,
}

/// `matrixmultiply::dgemm` for `out = alpha · op(X) v + beta · out`, `v` a vector.
fn mm_gemv(alpha: f64, x: &DMatrix<f64>, trans: bool, v: &[f64], beta: f64, out: &mut [f64]) {
    let (r, c) = x.shape();
    let ((m, k), (rs, cs)) = if trans {
        ((c, r), (r, 1))
    } else {
        ((r, c), (1, r))
    };
    assert!(v.len() == k && out.len() == m, "mm_gemv: shapes");
    let i = |v: usize| isize::try_from(v).unwrap();
    // SAFETY: `x` is m×k through (rs, cs) (its column-major storage, transposed when
    // `trans`), `v` is k×1 and `out` m×1, contiguous; `out` is borrowed mutably.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            1,
            alpha,
            x.as_ptr(),
            i(rs),
            i(cs),
            v.as_ptr(),
            1,
            1,
            beta,
            out.as_mut_ptr(),
            1,
            1,
        );
    }
}

impl Mv {
    /// `r += X w`.
    fn xw(self, x: &DMatrix<f64>, w: &[f64], r: &mut DMatrix<f64>) {
        match self {
            Mv::Mg => {
                let wv = nalgebra::DMatrixView::from_slice(w, w.len(), 1);
                matgrad::gemm_nn(1.0, x.as_view(), wv, 1.0, r);
            }
            Mv::Sweep4 => expert::gemv_add4(x, w, r.as_mut_slice()),
            Mv::Mm => mm_gemv(1.0, x, false, w, 1.0, r.as_mut_slice()),
            Mv::Old => gemv_add(x, w, r.as_mut_slice()),
        }
    }

    /// `g = alpha · Xᵀ r + beta · g`.
    fn xtr(self, alpha: f64, x: &DMatrix<f64>, r: &DMatrix<f64>, beta: f64, g: &mut DMatrix<f64>) {
        match self {
            Mv::Mg => matgrad::gemm_tn(alpha, x.as_view(), r.as_view(), beta, g),
            Mv::Sweep4 => expert::gemv_tr4(alpha, x, r.as_slice(), beta, g.as_mut_slice()),
            Mv::Mm => mm_gemv(alpha, x, true, r.as_slice(), beta, g.as_mut_slice()),
            Mv::Old => g.column_mut(0).gemv_tr(alpha, x, &r.column(0), beta),
        }
    }
}

/// The four regression experts of one workload, by kernel, with their names.
const REGRESSION_EXPERTS: [(&str, Mv); 4] = [
    ("expert", Mv::Mg),
    ("expert_sweep4", Mv::Sweep4),
    ("expert_mm", Mv::Mm),
    ("expert_old", Mv::Old),
];

struct LeastSquaresExpert {
    k: Mv,
    r: DMatrix<f64>,
    g: DMatrix<f64>,
}

impl LeastSquaresExpert {
    fn new(k: Mv, (n, d): (usize, usize)) -> Self {
        LeastSquaresExpert {
            k,
            r: DMatrix::zeros(n, 1),
            g: DMatrix::zeros(d, 1),
        }
    }

    fn grad(&mut self, x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
        // r = X w − y (starting from −y); g = 2 Xᵀ r.
        for (r, &y) in self.r.as_mut_slice().iter_mut().zip(y.as_slice()) {
            *r = -y;
        }
        self.k.xw(x, w.as_slice(), &mut self.r);
        self.k.xtr(2.0, x, &self.r, 0.0, &mut self.g);
        norm_sq(self.r.as_slice())
    }
}

fn least_squares_naive(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    y: &DVector<f64>,
) -> (f64, DVector<f64>) {
    let r = x * w - y;
    let value = r.norm_squared();
    let g = x.transpose() * (&r * 2.0);
    (value, g)
}

struct LogisticExpert {
    k: Mv,
    u: DMatrix<f64>,
    g: DMatrix<f64>,
}

impl LogisticExpert {
    fn new(k: Mv, (n, d): (usize, usize)) -> Self {
        LogisticExpert {
            k,
            u: DMatrix::zeros(n, 1),
            g: DMatrix::zeros(d, 1),
        }
    }

    fn grad(&mut self, x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
        // u = X w; one pass: t = −u y, softplus(t) and c = −σ(t) y from one exp(−|t|);
        // g = Xᵀ c + 2λ w (the ridge term as beta).
        self.u.fill(0.0);
        self.k.xw(x, w.as_slice(), &mut self.u);
        let mut value = 0.0;
        for (u, &y) in self.u.as_mut_slice().iter_mut().zip(y.as_slice()) {
            let t = -*u * y;
            let e = (-t.abs()).exp();
            value += t.max(0.0) + e.ln_1p();
            let sigma = if t >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            *u = -sigma * y;
        }
        self.g.as_mut_slice().copy_from_slice(w.as_slice());
        self.k.xtr(1.0, x, &self.u, 2.0 * lambda, &mut self.g);
        value + lambda * norm_sq(w.as_slice())
    }
}

fn logistic_naive(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let t = -(x * w).component_mul(y);
    let value = softplus(&t).sum() + lambda * w.norm_squared();
    let c = -sigmoid(&t).component_mul(y);
    let g = x.transpose() * c + w * (2.0 * lambda);
    (value, g)
}

fn bench_regression(c: &mut Criterion) {
    for size in 0..3 {
        let (n, d) = data::REGRESSION_SIZES[size];
        let label = format!("{n}x{d}");
        let flops = 4.0 * n as f64 * d as f64;

        let p = data::least_squares(size);
        let (x, w, y) = (&p.x, &p.w, &p.y);
        let (v, gw) = least_squares_grad(x, w, y);
        check_value("least_squares original", least_squares(x, w, y), v);
        let mut experts =
            REGRESSION_EXPERTS.map(|(name, k)| (name, LeastSquaresExpert::new(k, (n, d))));
        for (what, e) in &mut experts {
            check_value(&format!("least_squares {what}"), e.grad(x, w, y), v);
            check_grad(
                &format!("least_squares {what}"),
                e.g.as_slice(),
                gw.as_slice(),
            );
        }
        let (nv, ng) = least_squares_naive(x, w, y);
        check_value("least_squares naive", nv, v);
        check_grad("least_squares naive", ng.as_slice(), gw.as_slice());
        let (mut into, mut ws) = (DVector::zeros(0), Workspace::new());
        check_value(
            "least_squares _grad_into",
            least_squares_grad_into(x, w, y, &mut into, &mut ws),
            v,
        );
        check_grad("least_squares _grad_into", into.as_slice(), gw.as_slice());

        let mut g = group(c, "least_squares", size, flops);
        g.bench_function(id("generated", &label), |b| {
            b.iter(|| least_squares_grad(black_box(x), w, y))
        });
        g.bench_function(id("generated_into", &label), |b| {
            b.iter(|| least_squares_grad_into(black_box(x), w, y, &mut into, &mut ws));
        });
        for (what, e) in &mut experts {
            g.bench_function(id(what, &label), |b| b.iter(|| e.grad(black_box(x), w, y)));
        }
        g.bench_function(id("naive", &label), |b| {
            b.iter(|| least_squares_naive(black_box(x), w, y))
        });
        g.finish();

        let p = data::logistic(size);
        let (x, w, y, lambda) = (&p.x, &p.w, &p.y, p.lambda);
        let (v, gw) = logistic_grad(x, w, y, lambda);
        check_value("logistic original", logistic(x, w, y, lambda), v);
        let mut experts =
            REGRESSION_EXPERTS.map(|(name, k)| (name, LogisticExpert::new(k, (n, d))));
        for (what, e) in &mut experts {
            check_value(&format!("logistic {what}"), e.grad(x, w, y, lambda), v);
            check_grad(&format!("logistic {what}"), e.g.as_slice(), gw.as_slice());
        }
        let (nv, ng) = logistic_naive(x, w, y, lambda);
        check_value("logistic naive", nv, v);
        check_grad("logistic naive", ng.as_slice(), gw.as_slice());
        let (mut into, mut ws) = (DVector::zeros(0), Workspace::new());
        check_value(
            "logistic _grad_into",
            logistic_grad_into(x, w, y, lambda, &mut into, &mut ws),
            v,
        );
        check_grad("logistic _grad_into", into.as_slice(), gw.as_slice());

        let mut g = group(c, "logistic", size, flops);
        g.bench_function(id("generated", &label), |b| {
            b.iter(|| logistic_grad(black_box(x), w, y, lambda))
        });
        g.bench_function(id("generated_into", &label), |b| {
            b.iter(|| logistic_grad_into(black_box(x), w, y, lambda, &mut into, &mut ws));
        });
        for (what, e) in &mut experts {
            g.bench_function(id(what, &label), |b| {
                b.iter(|| e.grad(black_box(x), w, y, lambda))
            });
        }
        g.bench_function(id("naive", &label), |b| {
            b.iter(|| logistic_naive(black_box(x), w, y, lambda))
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 4. tr(A X B) and ln_det(X) − tr(S X)
// ---------------------------------------------------------------------------

/// The expert sees the whole expression: ∇ = Aᵀ Bᵀ, and tr(A X B) = ⟨Aᵀ Bᵀ, X⟩, so
/// one product and one dot give both.
struct TraceExpert {
    k: Kernel,
    g: DMatrix<f64>,
}

impl TraceExpert {
    fn grad(&mut self, a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        self.k.gemm(1.0, a, Op::T, b, Op::T, 0.0, &mut self.g);
        dot(self.g.as_slice(), x.as_slice())
    }
}

/// The expert who follows the formula literally: P = A X, tr(P B) as a sum of
/// products (no third product), then ∇ = Aᵀ Bᵀ: two products.
struct TraceExpertLiteral {
    k: Kernel,
    p: DMatrix<f64>,
    g: DMatrix<f64>,
}

impl TraceExpertLiteral {
    fn grad(&mut self, a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        self.k.gemm(1.0, a, Op::N, x, Op::N, 0.0, &mut self.p);
        // tr(P B) = Σ_ij P_ji B_ij: column i of P against row i of B.
        let mut value = 0.0;
        for (i, pc) in self.p.column_iter().enumerate() {
            for (j, &pji) in pc.iter().enumerate() {
                value += pji * b[(i, j)];
            }
        }
        self.k.gemm(1.0, a, Op::T, b, Op::T, 0.0, &mut self.g);
        value
    }
}

fn trace_naive(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let value = (a * x * b).trace();
    let g = a.transpose() * b.transpose();
    (value, g)
}

/// How an `ln det X − tr(S X)` expert forms `X⁻¹` (X is symmetric positive definite,
/// the ln_det domain): `ln det X = Σ ln L_ii²` from `X = L Lᵀ` and `X⁻¹ = L⁻ᵀ L⁻¹`.
#[derive(Clone, Copy)]
enum Inverse {
    /// A blocked Cholesky and blocked triangular inverse (`expert::
    /// blocked_cholesky_and_inverse`, GEMMs by matgrad-runtime's kernel), then only
    /// the lower half of the symmetric `L⁻ᵀ L⁻¹` (`expert::lower_inverse_gram`); no
    /// symmetry check (the expert knows X is SPD).
    Blocked,
    /// matgrad-runtime's `__private::ln_det_inverse_to`, the code the generated
    /// gradient calls (symmetry check, blocked Cholesky and inverse, full product).
    Mg,
    /// The expert of BENCHMARKS.md before 2026-12-06: an unblocked scalar Cholesky and
    /// triangular inverse, then the full product `L⁻ᵀ L⁻¹` by matrixmultiply.
    Old,
}

struct LnDetExpert {
    k: Inverse,
    l: DMatrix<f64>,
    tmp: Vec<f64>,
    g: DMatrix<f64>,
}

impl LnDetExpert {
    fn new(k: Inverse, n: usize) -> Self {
        LnDetExpert {
            k,
            l: DMatrix::zeros(n, n),
            tmp: vec![0.0; n * n.min(32)],
            g: DMatrix::zeros(n, n),
        }
    }

    fn grad(&mut self, x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
        let n = x.nrows();
        // g = X⁻¹ (= X⁻ᵀ), ln det X.
        let ln_det = match self.k {
            Inverse::Blocked => {
                self.l.copy_from(x);
                let l =
                    expert::blocked_cholesky_and_inverse(self.l.as_mut_slice(), n, &mut self.tmp);
                expert::lower_inverse_gram(self.l.as_slice(), n, self.g.as_mut_slice());
                l
            }
            Inverse::Mg => matgrad::__private::ln_det_inverse_to(
                &mut self.g,
                x.as_view(),
                &mut self.l,
                "ln_det",
            ),
            Inverse::Old => {
                self.l.copy_from(x);
                let l = expert::cholesky_and_inverse(self.l.as_mut_slice(), n);
                Kernel::Mm.gemm(1.0, &self.l, Op::T, &self.l, Op::N, 0.0, &mut self.g);
                l
            }
        };
        // ∇ = X⁻ᵀ − Sᵀ, and tr(S X) = Σ_ij S_ji X_ij, in one pass.
        let mut tr = 0.0;
        let (ss, xs) = (s.as_slice(), x.as_slice());
        let cols = self
            .g
            .as_mut_slice()
            .chunks_exact_mut(n)
            .zip(xs.chunks_exact(n));
        for (j, (gc, xc)) in cols.enumerate() {
            for (i, (g, &xij)) in gc.iter_mut().zip(xc).enumerate() {
                let sji = ss[i * n + j];
                *g -= sji;
                tr += sji * xij;
            }
        }
        ln_det - tr
    }
}

fn ln_det_naive(x: &DMatrix<f64>, s: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let value = x.determinant().abs().ln() - (s * x).trace();
    let inv = x.clone().try_inverse().expect("X is invertible");
    let g = inv.transpose() - s.transpose();
    (value, g)
}

fn bench_square(c: &mut Criterion) {
    for size in 0..3 {
        let n = data::SQUARE_SIZES[size];
        let label = format!("n={n}");
        let nf = n as f64;

        let p = data::trace_axb(size);
        let (a, x, b) = (&p.a, &p.x, &p.b);
        let (v, gx) = trace_axb_grad(a, x, b);
        check_value("trace_axb original", trace_axb(a, x, b), v);
        let mut expert = TraceExpert {
            k: Kernel::Mm,
            g: DMatrix::zeros(n, n),
        };
        let mut expert_mg = TraceExpert {
            k: Kernel::Mg,
            g: DMatrix::zeros(n, n),
        };
        for (what, e) in [("expert", &mut expert), ("expert_mg", &mut expert_mg)] {
            check_value(&format!("trace_axb {what}"), e.grad(a, x, b), v);
            check_grad(&format!("trace_axb {what}"), e.g.as_slice(), gx.as_slice());
        }
        let mut literal = TraceExpertLiteral {
            k: Kernel::Mm,
            p: DMatrix::zeros(n, n),
            g: DMatrix::zeros(n, n),
        };
        check_value("trace_axb expert_literal", literal.grad(a, x, b), v);
        check_grad(
            "trace_axb expert_literal",
            literal.g.as_slice(),
            gx.as_slice(),
        );
        let (nv, ng) = trace_naive(a, x, b);
        check_value("trace_axb naive", nv, v);
        check_grad("trace_axb naive", ng.as_slice(), gx.as_slice());
        let (mut into, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        check_value(
            "trace_axb _grad_into",
            trace_axb_grad_into(a, x, b, &mut into, &mut ws),
            v,
        );
        check_grad("trace_axb _grad_into", into.as_slice(), gx.as_slice());

        // flops: the one product Aᵀ Bᵀ the gradient needs.
        let mut g = group(c, "trace_axb", size, 2.0 * nf * nf * nf);
        g.bench_function(id("generated", &label), |bch| {
            bch.iter(|| trace_axb_grad(black_box(a), x, b))
        });
        g.bench_function(id("generated_into", &label), |bch| {
            bch.iter(|| trace_axb_grad_into(black_box(a), x, b, &mut into, &mut ws));
        });
        g.bench_function(id("expert", &label), |bch| {
            bch.iter(|| expert.grad(black_box(a), x, b));
        });
        g.bench_function(id("expert_mg", &label), |bch| {
            bch.iter(|| expert_mg.grad(black_box(a), x, b));
        });
        g.bench_function(id("expert_literal", &label), |bch| {
            bch.iter(|| literal.grad(black_box(a), x, b))
        });
        g.bench_function(id("naive", &label), |bch| {
            bch.iter(|| trace_naive(black_box(a), x, b))
        });
        g.finish();

        let p = data::ln_det(size);
        let (x, s) = (&p.x, &p.s);
        let (v, gx) = ln_det_trace_grad(x, s);
        check_value("ln_det original", ln_det_trace(x, s), v);
        let mut experts = [
            ("expert", Inverse::Blocked),
            ("expert_mg", Inverse::Mg),
            ("expert_old", Inverse::Old),
        ]
        .map(|(name, k)| (name, LnDetExpert::new(k, n)));
        for (what, e) in &mut experts {
            check_value(&format!("ln_det {what}"), e.grad(x, s), v);
            check_grad(&format!("ln_det {what}"), e.g.as_slice(), gx.as_slice());
        }
        let (nv, ng) = ln_det_naive(x, s);
        check_value("ln_det naive", nv, v);
        check_grad("ln_det naive", ng.as_slice(), gx.as_slice());
        let (mut into, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        check_value(
            "ln_det _grad_into",
            ln_det_trace_grad_into(x, s, &mut into, &mut ws),
            v,
        );
        check_grad("ln_det _grad_into", into.as_slice(), gx.as_slice());

        // flops: n³, the count of a Cholesky-based inverse (potrf + potri).
        let mut g = group(c, "ln_det", size, nf * nf * nf);
        g.bench_function(id("generated", &label), |bch| {
            bch.iter(|| ln_det_trace_grad(black_box(x), s))
        });
        g.bench_function(id("generated_into", &label), |bch| {
            bch.iter(|| ln_det_trace_grad_into(black_box(x), s, &mut into, &mut ws));
        });
        for (what, e) in &mut experts {
            g.bench_function(id(what, &label), |bch| bch.iter(|| e.grad(black_box(x), s)));
        }
        g.bench_function(id("naive", &label), |bch| {
            bch.iter(|| ln_det_naive(black_box(x), s))
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 5. Dictionary learning
// ---------------------------------------------------------------------------

struct DictionaryExpert {
    k: Kernel,
    e: DMatrix<f64>,
    dd: DMatrix<f64>,
    dr: DMatrix<f64>,
}

impl DictionaryExpert {
    fn grad(&mut self, x: &DMatrix<f64>, d: &DMatrix<f64>, r: &DMatrix<f64>, lambda: f64) -> f64 {
        // E = X − D R (beta = 1 on a copy of X); dD = −2 E Rᵀ; dR = −2 Dᵀ E + 2λ R
        // (the ridge term as beta on a copy of R).
        self.e.copy_from(x);
        self.k.gemm(-1.0, d, Op::N, r, Op::N, 1.0, &mut self.e);
        let value = norm_sq(self.e.as_slice()) + lambda * norm_sq(r.as_slice());
        self.k
            .gemm(-2.0, &self.e, Op::N, r, Op::T, 0.0, &mut self.dd);
        self.dr.copy_from(r);
        self.k
            .gemm(-2.0, d, Op::T, &self.e, Op::N, 2.0 * lambda, &mut self.dr);
        value
    }
}

fn dictionary_naive(
    x: &DMatrix<f64>,
    d: &DMatrix<f64>,
    r: &DMatrix<f64>,
    lambda: f64,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let e = x - d * r;
    let value = e.norm_squared() + lambda * r.norm_squared();
    let ge = &e * -2.0;
    let dd = &ge * r.transpose();
    let dr = d.transpose() * &ge + r * (2.0 * lambda);
    (value, dd, dr)
}

fn bench_dictionary(c: &mut Criterion) {
    for size in 0..3 {
        let (pl, k, m) = data::DICTIONARY_SIZES[size];
        let label = format!("{pl}x{k}x{m}");
        let p = data::dictionary(size);
        let (x, d, r, lambda) = (&p.x, &p.d, &p.r, p.lambda);

        let (v, gd, gr) = dictionary_grad(x, d, r, lambda);
        check_value("dictionary original", dictionary(x, d, r, lambda), v);
        let new = |kernel| DictionaryExpert {
            k: kernel,
            e: DMatrix::zeros(pl, m),
            dd: DMatrix::zeros(pl, k),
            dr: DMatrix::zeros(k, m),
        };
        let (mut expert, mut expert_mg) = (new(Kernel::Mm), new(Kernel::Mg));
        for (what, e) in [("expert", &mut expert), ("expert_mg", &mut expert_mg)] {
            check_value(&format!("dictionary {what}"), e.grad(x, d, r, lambda), v);
            check_grad(
                &format!("dictionary {what} dd"),
                e.dd.as_slice(),
                gd.as_slice(),
            );
            check_grad(
                &format!("dictionary {what} dr"),
                e.dr.as_slice(),
                gr.as_slice(),
            );
        }
        let (nv, nd, nr) = dictionary_naive(x, d, r, lambda);
        check_value("dictionary naive", nv, v);
        check_grad("dictionary naive dd", nd.as_slice(), gd.as_slice());
        check_grad("dictionary naive dr", nr.as_slice(), gr.as_slice());
        let (mut id_, mut ir, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        check_value(
            "dictionary _grad_into",
            dictionary_grad_into(x, d, r, lambda, &mut id_, &mut ir, &mut ws),
            v,
        );
        check_grad("dictionary _grad_into dd", id_.as_slice(), gd.as_slice());
        check_grad("dictionary _grad_into dr", ir.as_slice(), gr.as_slice());

        let flops = 6.0 * pl as f64 * k as f64 * m as f64;
        let mut g = group(c, "dictionary", size, flops);
        g.bench_function(id("generated", &label), |b| {
            b.iter(|| dictionary_grad(black_box(x), d, r, lambda))
        });
        g.bench_function(id("generated_into", &label), |b| {
            b.iter(|| dictionary_grad_into(black_box(x), d, r, lambda, &mut id_, &mut ir, &mut ws));
        });
        g.bench_function(id("expert", &label), |b| {
            b.iter(|| expert.grad(black_box(x), d, r, lambda));
        });
        g.bench_function(id("expert_mg", &label), |b| {
            b.iter(|| expert_mg.grad(black_box(x), d, r, lambda));
        });
        g.bench_function(id("naive", &label), |b| {
            b.iter(|| dictionary_naive(black_box(x), d, r, lambda))
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 6. Low-rank factorisation
// ---------------------------------------------------------------------------

/// Everything folded into GEMM `alpha`/`beta`: R = U Vᵀ − M starts from a copy of M
/// (beta = −1); ∂U = 2 R V + 2λU and ∂V = 2 Rᵀ U + 2λV start from copies of U and V
/// (beta = 2λ); Vᵀ and Rᵀ are read through strides.
struct LowRankExpert {
    k: Kernel,
    r: DMatrix<f64>,
    du: DMatrix<f64>,
    dv: DMatrix<f64>,
}

impl LowRankExpert {
    fn new(k: Kernel, (rows, cols, rank): (usize, usize, usize)) -> Self {
        LowRankExpert {
            k,
            r: DMatrix::zeros(rows, cols),
            du: DMatrix::zeros(rows, rank),
            dv: DMatrix::zeros(cols, rank),
        }
    }

    fn grad(&mut self, u: &DMatrix<f64>, v: &DMatrix<f64>, m: &DMatrix<f64>, lambda: f64) -> f64 {
        self.r.copy_from(m);
        self.k.gemm(1.0, u, Op::N, v, Op::T, -1.0, &mut self.r);
        let value =
            norm_sq(self.r.as_slice()) + lambda * (norm_sq(u.as_slice()) + norm_sq(v.as_slice()));
        self.du.copy_from(u);
        self.k
            .gemm(2.0, &self.r, Op::N, v, Op::N, 2.0 * lambda, &mut self.du);
        self.dv.copy_from(v);
        self.k
            .gemm(2.0, &self.r, Op::T, u, Op::N, 2.0 * lambda, &mut self.dv);
        value
    }
}

fn low_rank_naive(
    u: &DMatrix<f64>,
    v: &DMatrix<f64>,
    m: &DMatrix<f64>,
    lambda: f64,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let r = u * v.transpose() - m;
    let value = r.norm_squared() + lambda * (u.norm_squared() + v.norm_squared());
    let du = &r * v * 2.0 + u * (2.0 * lambda);
    let dv = r.transpose() * u * 2.0 + v * (2.0 * lambda);
    (value, du, dv)
}

fn bench_low_rank(c: &mut Criterion) {
    for size in 0..3 {
        let shape @ (rows, cols, rank) = data::LOW_RANK_SIZES[size];
        let label = format!("{rows}x{cols}x{rank}");
        let p = data::low_rank(size);
        let (u, v, m, lambda) = (&p.u, &p.v, &p.m, p.lambda);

        let (val, gu, gv) = low_rank_grad(u, v, m, lambda);
        check_value("low_rank original", low_rank(u, v, m, lambda), val);
        let mut expert = LowRankExpert::new(Kernel::Mm, shape);
        let mut expert_mg = LowRankExpert::new(Kernel::Mg, shape);
        for (what, e) in [("expert", &mut expert), ("expert_mg", &mut expert_mg)] {
            check_value(&format!("low_rank {what}"), e.grad(u, v, m, lambda), val);
            check_grad(
                &format!("low_rank {what} du"),
                e.du.as_slice(),
                gu.as_slice(),
            );
            check_grad(
                &format!("low_rank {what} dv"),
                e.dv.as_slice(),
                gv.as_slice(),
            );
        }
        let (nv, nu, nvv) = low_rank_naive(u, v, m, lambda);
        check_value("low_rank naive", nv, val);
        check_grad("low_rank naive du", nu.as_slice(), gu.as_slice());
        check_grad("low_rank naive dv", nvv.as_slice(), gv.as_slice());
        let (mut iu, mut iv, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        check_value(
            "low_rank _grad_into",
            low_rank_grad_into(u, v, m, lambda, &mut iu, &mut iv, &mut ws),
            val,
        );
        check_grad("low_rank _grad_into du", iu.as_slice(), gu.as_slice());
        check_grad("low_rank _grad_into dv", iv.as_slice(), gv.as_slice());

        let flops = 6.0 * rows as f64 * cols as f64 * rank as f64;
        let mut g = group(c, "low_rank", size, flops);
        g.bench_function(id("generated", &label), |b| {
            b.iter(|| low_rank_grad(black_box(u), v, m, lambda))
        });
        g.bench_function(id("generated_into", &label), |b| {
            b.iter(|| low_rank_grad_into(black_box(u), v, m, lambda, &mut iu, &mut iv, &mut ws));
        });
        g.bench_function(id("expert", &label), |b| {
            b.iter(|| expert.grad(black_box(u), v, m, lambda));
        });
        g.bench_function(id("expert_mg", &label), |b| {
            b.iter(|| expert_mg.grad(black_box(u), v, m, lambda));
        });
        g.bench_function(id("naive", &label), |b| {
            b.iter(|| low_rank_naive(black_box(u), v, m, lambda))
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 8. Tanh recurrent network (backpropagation through time)
// ---------------------------------------------------------------------------

/// An expert's backpropagation through time for `rnn` (batch × hidden
/// states, one sequence per row): the forward pass keeps every state `H_t` in its
/// own preallocated buffer; each step is one GEMM `H_{t−1} W` (skipped at `t = 0`,
/// where `H_{−1} = 0`) and one fused pass `tanh(· + x_t u + b)`. Backward, each
/// step is one fused pass `dZ = dH ⊙ (1 − H_t²)` that also accumulates `db` (column
/// sums) and `du` (`x_tᵀ dZ`), then `dW += H_{t−1}ᵀ dZ` and `dH_{t−1} = dZ Wᵀ`,
/// both read through strides. Nothing is allocated per call (with `Kernel::Mg`;
/// matrixmultiply allocates its packing buffer in each product).
struct RnnExpert {
    k: Kernel,
    hs: Vec<DMatrix<f64>>,
    dz: DMatrix<f64>,
    dh: DMatrix<f64>,
    r: Vec<f64>,
    dw: DMatrix<f64>,
    du: RowDVector<f64>,
    db: RowDVector<f64>,
    dwo: DVector<f64>,
    dbo: f64,
}

impl RnnExpert {
    fn new(k: Kernel, (batch, hidden, steps): (usize, usize, usize)) -> Self {
        RnnExpert {
            k,
            hs: (0..steps).map(|_| DMatrix::zeros(batch, hidden)).collect(),
            dz: DMatrix::zeros(batch, hidden),
            dh: DMatrix::zeros(batch, hidden),
            r: vec![0.0; batch],
            dw: DMatrix::zeros(hidden, hidden),
            du: RowDVector::zeros(hidden),
            db: RowDVector::zeros(hidden),
            dwo: DVector::zeros(hidden),
            dbo: 0.0,
        }
    }

    fn grad(&mut self, p: &rnn_losses::Rnn) -> f64 {
        let (n, steps) = p.xs.shape();
        let hidden = p.w.nrows();
        assert!(n > 0 && steps > 0 && steps == self.hs.len());
        // Forward: H_t = tanh(H_{t−1} W + x_t u + 𝟙 b).
        for t in 0..steps {
            let (prev, rest) = self.hs.split_at_mut(t);
            let h = &mut rest[0];
            let beta = if t == 0 {
                0.0
            } else {
                self.k.gemm(1.0, &prev[t - 1], Op::N, &p.w, Op::N, 0.0, h);
                1.0
            };
            let x = p.xs.column(t);
            for (j, col) in h.as_mut_slice().chunks_exact_mut(n).enumerate() {
                let (uj, bj) = (p.u[j], p.b[j]);
                for (v, &xi) in col.iter_mut().zip(x.iter()) {
                    *v = (beta * *v + xi * uj + bj).tanh();
                }
            }
        }
        // Output: r = H_T wo + bo − y, value = ‖r‖² / n.
        let last = &self.hs[steps - 1];
        self.r.copy_from_slice(p.y.as_slice());
        for v in &mut self.r {
            *v = p.bo - *v;
        }
        gemv_add(last, p.wo.as_slice(), &mut self.r);
        let value = norm_sq(&self.r) / n as f64;
        // Backward through the output: r̄ = 2 r / n.
        let scale = 2.0 / n as f64;
        for v in &mut self.r {
            *v *= scale;
        }
        self.dbo = self.r.iter().sum();
        for (d, col) in self.dwo.iter_mut().zip(last.as_slice().chunks_exact(n)) {
            *d = dot(col, &self.r);
        }
        // dH_T = r̄ woᵀ, folded into the first fused pass below.
        self.du.fill(0.0);
        self.db.fill(0.0);
        for t in (0..steps).rev() {
            let h = &self.hs[t];
            let x = p.xs.column(t);
            let cols = self
                .dz
                .as_mut_slice()
                .chunks_exact_mut(n)
                .zip(h.as_slice().chunks_exact(n))
                .enumerate();
            for (j, (dz, hc)) in cols {
                let (mut sb, mut su) = (0.0, 0.0);
                if t == steps - 1 {
                    let woj = p.wo[j];
                    for (((d, &hv), &rv), &xi) in dz.iter_mut().zip(hc).zip(&self.r).zip(x.iter()) {
                        let g = rv * woj * (1.0 - hv * hv);
                        *d = g;
                        sb += g;
                        su += xi * g;
                    }
                } else {
                    let dhc = &self.dh.as_slice()[j * n..(j + 1) * n];
                    for (((d, &hv), &gh), &xi) in dz.iter_mut().zip(hc).zip(dhc).zip(x.iter()) {
                        let g = gh * (1.0 - hv * hv);
                        *d = g;
                        sb += g;
                        su += xi * g;
                    }
                }
                self.db[j] += sb;
                self.du[j] += su;
            }
            if t > 0 {
                // dW += H_{t−1}ᵀ dZ (the first product overwrites); dH_{t−1} = dZ Wᵀ.
                let beta = if t == steps - 1 { 0.0 } else { 1.0 };
                self.k.gemm(
                    1.0,
                    &self.hs[t - 1],
                    Op::T,
                    &self.dz,
                    Op::N,
                    beta,
                    &mut self.dw,
                );
                self.k
                    .gemm(1.0, &self.dz, Op::N, &p.w, Op::T, 0.0, &mut self.dh);
            } else if steps == 1 {
                self.dw.fill(0.0);
            }
        }
        debug_assert_eq!(self.dw.shape(), (hidden, hidden));
        value
    }
}

fn bench_rnn(c: &mut Criterion) {
    for steps in [10, 100] {
        let p = rnn_losses::inputs(steps);
        let (grad, grad_into, original) = (
            rnn_losses::rnn_grad,
            rnn_losses::rnn_grad_into,
            rnn_losses::rnn,
        );
        let (xs, y, w, u, b, wo, bo) = (&p.xs, &p.y, &p.w, &p.u, &p.b, &p.wo, p.bo);
        let (batch, hidden) = (rnn_losses::BATCH, rnn_losses::HIDDEN);
        let label = format!("{batch}x{hidden}x{steps}");

        let (v, gw, gu, gb, gwo, gbo) = grad(xs, y, w, u, b, wo, bo);
        check_value("rnn original", original(xs, y, w, u, b, wo, bo), v);
        let mut expert = RnnExpert::new(Kernel::Mm, (batch, hidden, steps));
        let mut expert_mg = RnnExpert::new(Kernel::Mg, (batch, hidden, steps));
        for (what, e) in [("expert", &mut expert), ("expert_mg", &mut expert_mg)] {
            check_value(&format!("rnn {what}"), e.grad(&p), v);
            check_grad(&format!("rnn {what} dw"), e.dw.as_slice(), gw.as_slice());
            check_grad(&format!("rnn {what} du"), e.du.as_slice(), gu.as_slice());
            check_grad(&format!("rnn {what} db"), e.db.as_slice(), gb.as_slice());
            check_grad(&format!("rnn {what} dwo"), e.dwo.as_slice(), gwo.as_slice());
            check_value(&format!("rnn {what} dbo"), e.dbo, gbo);
        }
        let mut ws = Workspace::new();
        let (mut iw, mut iu, mut ib) = (
            DMatrix::zeros(0, 0),
            RowDVector::zeros(0),
            RowDVector::zeros(0),
        );
        let (mut iwo, mut ibo) = (DVector::zeros(0), 0.0);
        check_value(
            "rnn _grad_into",
            grad_into(
                xs, y, w, u, b, wo, bo, &mut iw, &mut iu, &mut ib, &mut iwo, &mut ibo, &mut ws,
            ),
            v,
        );
        check_grad("rnn _grad_into dw", iw.as_slice(), gw.as_slice());
        check_grad("rnn _grad_into du", iu.as_slice(), gu.as_slice());
        check_grad("rnn _grad_into db", ib.as_slice(), gb.as_slice());
        check_grad("rnn _grad_into dwo", iwo.as_slice(), gwo.as_slice());
        check_value("rnn _grad_into dbo", ibo, gbo);
        // At T = 10 the same loss unrolled (literal trip count), for comparison.
        let mut ws_unrolled = Workspace::new();
        let mut unrolled = (
            DMatrix::zeros(0, 0),
            RowDVector::zeros(0),
            RowDVector::zeros(0),
            DVector::zeros(0),
            0.0,
        );
        if steps == 10 {
            let (uw, uu, ub, uwo, ubo) = &mut unrolled;
            check_value(
                "rnn unrolled _grad_into",
                rnn_losses::rnn_t10_grad_into(
                    xs,
                    y,
                    w,
                    u,
                    b,
                    wo,
                    bo,
                    uw,
                    uu,
                    ub,
                    uwo,
                    ubo,
                    &mut ws_unrolled,
                ),
                v,
            );
            check_grad("rnn unrolled dw", uw.as_slice(), gw.as_slice());
            check_grad("rnn unrolled du", uu.as_slice(), gu.as_slice());
            check_grad("rnn unrolled db", ub.as_slice(), gb.as_slice());
            check_grad("rnn unrolled dwo", uwo.as_slice(), gwo.as_slice());
            check_value("rnn unrolled dbo", *ubo, gbo);
        }

        // Per step: H W forward, dZ Wᵀ and H_{t−1}ᵀ dZ backward.
        let (nf, hf, tf) = (batch as f64, hidden as f64, steps as f64);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let flops = (6.0 * nf * hf * hf * tf) as u64;
        let mut g = c.benchmark_group(format!("rnn/T{steps}"));
        g.throughput(Throughput::Elements(flops));
        if steps == 10 {
            g.sample_size(30)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_millis(2000));
        } else {
            g.sample_size(15)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_millis(3000));
        }
        g.bench_function(id("generated", &label), |bch| {
            bch.iter(|| grad(black_box(xs), y, w, u, b, wo, bo));
        });
        g.bench_function(id("generated_into", &label), |bch| {
            bch.iter(|| {
                grad_into(
                    black_box(xs),
                    y,
                    w,
                    u,
                    b,
                    wo,
                    bo,
                    &mut iw,
                    &mut iu,
                    &mut ib,
                    &mut iwo,
                    &mut ibo,
                    &mut ws,
                )
            });
        });
        if steps == 10 {
            let (uw, uu, ub, uwo, ubo) = &mut unrolled;
            g.bench_function(id("generated_unrolled_into", &label), |bch| {
                bch.iter(|| {
                    rnn_losses::rnn_t10_grad_into(
                        black_box(xs),
                        y,
                        w,
                        u,
                        b,
                        wo,
                        bo,
                        uw,
                        uu,
                        ub,
                        uwo,
                        ubo,
                        &mut ws_unrolled,
                    )
                });
            });
        }
        g.bench_function(id("expert", &label), |bch| {
            bch.iter(|| expert.grad(black_box(&p)));
        });
        g.bench_function(id("expert_mg", &label), |bch| {
            bch.iter(|| expert_mg.grad(black_box(&p)));
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// The machine's single-core GEMM rate
// ---------------------------------------------------------------------------

fn bench_gemm_rate(c: &mut Criterion) {
    const N: usize = 512;
    let p = data::trace_axb(2);
    let a = DMatrix::from_fn(N, N, |i, j| p.a[(i % p.a.nrows(), j % p.a.ncols())]);
    let b = DMatrix::from_fn(N, N, |i, j| p.b[(i % p.b.nrows(), j % p.b.ncols())]);
    let mut out = DMatrix::zeros(N, N);
    let nf = N as f64;
    let mut g = c.benchmark_group("gemm_rate");
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    g.throughput(Throughput::Elements((2.0 * nf * nf * nf) as u64));
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function(id("matrixmultiply_dgemm", "512"), |bch| {
        bch.iter(|| Kernel::Mm.gemm(1.0, black_box(&a), Op::N, &b, Op::N, 0.0, &mut out));
    });
    g.bench_function(id("matrixmultiply_dgemm_tn", "512"), |bch| {
        bch.iter(|| Kernel::Mm.gemm(1.0, black_box(&a), Op::T, &b, Op::N, 0.0, &mut out));
    });
    g.bench_function(id("matgrad_gemm_nn", "512"), |bch| {
        bch.iter(|| Kernel::Mg.gemm(1.0, black_box(&a), Op::N, &b, Op::N, 0.0, &mut out));
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000).without_plots();
    targets = bench_gemm_rate, bench_two_layer, bench_mlp, bench_regression, bench_square, bench_dictionary, bench_low_rank, bench_rnn
}
criterion_main!(benches);

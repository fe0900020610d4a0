//! Issue 9's benchmarks: what the algebra of the whole expression buys, side by side
//! with a hand-written gradient that follows the expression as it reads.
//!
//! Each workload is one criterion group with these functions, on the same seeded
//! inputs (`benches/common/algebra_data.rs`):
//!
//! - `generated`: `NAME_grad_into` of the default `#[grad]` (the value computed as
//!   written), with its `Workspace` and outputs reused;
//! - `generated_reassociate`: the same loss under `#[grad(..., reassociate)]`
//!   (`NAME_re_grad_into` in `benches/common/algebra_losses.rs`);
//! - `expert`: the baseline, written by hand the way the expression reads:
//!   every product of the forward pass as written (also those only traced or
//!   summed), the textbook adjoint of each operation (`C = A B`: `Ā = C̄ Bᵀ`,
//!   `B̄ = Aᵀ C̄`; `tr`: `s̄ I`; `sum`: `s̄ 1 1ᵀ`; `y = P v`: `P̄ = ȳ vᵀ`), with the
//!   obvious simplifications of a person (a product by `s̄ I` is a scaling), buffers
//!   reused, `matrixmultiply::dgemm` with swapped strides for transposed operands (no
//!   transpose materialised), nalgebra `gemv_tr` and an eight-column loop for
//!   matrix × vector;
//! - `expert_algebra`: the best a person can do with the algebra of the whole
//!   expression (noted at each workload);
//! - `expert_chain` (the four-factor chain only): the expert with the cheapest
//!   association of the chain and nothing else, what matrix-chain ordering alone buys.
//!
//! Before each group, outside the timing, every implementation's value and gradients
//! are checked against the default `NAME_grad`'s to 1e-12 relative (‖Δ‖/‖g‖), and the
//! default `NAME_grad`'s value against the original function's.
//!
//! Run: `cargo bench --bench algebra` (about 85 s on 2 cores);
//! `cargo bench --bench algebra -- --test` runs each function once, with the checks.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::SamplingMode;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use matgrad::Workspace;
use nalgebra::{DMatrix, DVector};

#[path = "common/algebra_data.rs"]
mod data;

#[path = "common/algebra_losses.rs"]
mod losses;

#[path = "common/expert.rs"]
mod expert;

use expert::{dgemm, dot, gemv_add, Op};

use losses::*;

// ---------------------------------------------------------------------------
// Kernels only this benchmark needs (the shared ones are in common/expert.rs)
// ---------------------------------------------------------------------------

/// `Σ x_i` with eight partial sums.
fn sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f64>() + chunks.remainder().iter().sum::<f64>()
}

/// `m = alpha · u wᵀ` (an outer product, column by column).
fn outer(m: &mut DMatrix<f64>, alpha: f64, u: &[f64], w: &[f64]) {
    assert_eq!(m.shape(), (u.len(), w.len()), "outer: shape");
    if u.is_empty() {
        return;
    }
    for (col, &wj) in m.as_mut_slice().chunks_exact_mut(u.len()).zip(w) {
        let f = alpha * wj;
        for (c, &ui) in col.iter_mut().zip(u) {
            *c = f * ui;
        }
    }
}

// ---------------------------------------------------------------------------
// Checks (outside the timing)
// ---------------------------------------------------------------------------

const TOLERANCE: f64 = 1e-12;

fn check_value(what: &str, got: f64, want: f64) {
    let err = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
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

/// The default `NAME_grad`'s value against the original function's: to the tolerance,
/// and a note on stderr if the bits differ (the default computes the value as written).
fn check_original(what: &str, original: f64, generated: f64) {
    check_value(&format!("{what} original"), original, generated);
    if original.to_bits() != generated.to_bits() {
        eprintln!("note: {what}: NAME_grad's value {generated:e} is not bit-identical to NAME's {original:e}");
    }
}

// ---------------------------------------------------------------------------
// Group settings
// ---------------------------------------------------------------------------

fn group<'a>(c: &'a mut Criterion, workload: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("algebra_{workload}"));
    g.sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

fn id(name: &str, label: &str) -> BenchmarkId {
    BenchmarkId::new(name, label)
}

// ---------------------------------------------------------------------------
// 1. tr(A X B) wrt X
// ---------------------------------------------------------------------------

/// As the expression reads: P = A X, Q = P B, tr Q (two products), then
/// X̄ = Aᵀ (s̄ I) Bᵀ = Aᵀ Bᵀ (one product): three n³ products.
struct TraceExpert {
    p: DMatrix<f64>,
    q: DMatrix<f64>,
    g: DMatrix<f64>,
}

impl TraceExpert {
    fn grad(&mut self, a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        dgemm(1.0, a, Op::N, x, Op::N, 0.0, &mut self.p);
        dgemm(1.0, &self.p, Op::N, b, Op::N, 0.0, &mut self.q);
        let value = self.q.trace();
        dgemm(1.0, a, Op::T, b, Op::T, 0.0, &mut self.g);
        value
    }
}

/// With the algebra: ∇ = Aᵀ Bᵀ and tr(A X B) = ⟨Aᵀ Bᵀ, X⟩: one product and a dot.
struct TraceExpertAlgebra {
    g: DMatrix<f64>,
}

impl TraceExpertAlgebra {
    fn grad(&mut self, a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        dgemm(1.0, a, Op::T, b, Op::T, 0.0, &mut self.g);
        dot(self.g.as_slice(), x.as_slice())
    }
}

fn bench_trace(c: &mut Criterion) {
    for (size, &n) in data::TRACE_SIZES.iter().enumerate() {
        let [a, x, b] = &data::trace_axb(size);
        let label = format!("n={n}");

        let (v, gx) = trace_axb_grad(a, x, b);
        check_original("trace_axb", trace_axb(a, x, b), v);
        check_value(
            "trace_axb _re_grad vs _re",
            trace_axb_re_grad(a, x, b).0,
            trace_axb_re(a, x, b),
        );
        let (mut gen, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        let (mut gen_re, mut ws_re) = (DMatrix::zeros(0, 0), Workspace::new());
        let mut expert = TraceExpert {
            p: DMatrix::zeros(n, n),
            q: DMatrix::zeros(n, n),
            g: DMatrix::zeros(n, n),
        };
        let mut algebra = TraceExpertAlgebra {
            g: DMatrix::zeros(n, n),
        };
        let checks = [
            (
                "generated",
                trace_axb_grad_into(a, x, b, &mut gen, &mut ws),
                &gen,
            ),
            (
                "generated_reassociate",
                trace_axb_re_grad_into(a, x, b, &mut gen_re, &mut ws_re),
                &gen_re,
            ),
            ("expert", expert.grad(a, x, b), &expert.g),
            ("expert_algebra", algebra.grad(a, x, b), &algebra.g),
        ];
        for (what, value, g) in checks {
            check_value(&format!("trace_axb {what}"), value, v);
            check_grad(&format!("trace_axb {what}"), g.as_slice(), gx.as_slice());
        }

        let mut g = group(c, "trace_axb");
        g.bench_function(id("generated", &label), |bch| {
            bch.iter(|| trace_axb_grad_into(black_box(a), x, b, &mut gen, &mut ws));
        });
        g.bench_function(id("generated_reassociate", &label), |bch| {
            bch.iter(|| trace_axb_re_grad_into(black_box(a), x, b, &mut gen_re, &mut ws_re));
        });
        g.bench_function(id("expert", &label), |bch| {
            bch.iter(|| expert.grad(black_box(a), x, b));
        });
        g.bench_function(id("expert_algebra", &label), |bch| {
            bch.iter(|| algebra.grad(black_box(a), x, b));
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------
// 2. ‖a b v‖² wrt a and b
// ---------------------------------------------------------------------------

/// As the expression reads: P = a b (n³), y = P v, f = ‖y‖²; ȳ = 2 y, P̄ = ȳ vᵀ,
/// ā = P̄ bᵀ, b̄ = aᵀ P̄: three n³ products.
struct AbvExpert {
    p: DMatrix<f64>,
    y: DVector<f64>,
    pbar: DMatrix<f64>,
    da: DMatrix<f64>,
    db: DMatrix<f64>,
}

impl AbvExpert {
    fn grad(&mut self, a: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
        dgemm(1.0, a, Op::N, b, Op::N, 0.0, &mut self.p);
        self.y.fill(0.0);
        gemv_add(&self.p, v.as_slice(), self.y.as_mut_slice());
        let value = dot(self.y.as_slice(), self.y.as_slice());
        outer(&mut self.pbar, 2.0, self.y.as_slice(), v.as_slice());
        dgemm(1.0, &self.pbar, Op::N, b, Op::T, 0.0, &mut self.da);
        dgemm(1.0, a, Op::T, &self.pbar, Op::N, 0.0, &mut self.db);
        value
    }
}

/// With the algebra: w = b v, y = a w (two matrix–vector products), ā = 2 y wᵀ,
/// b̄ = 2 (aᵀ y) vᵀ: three matrix–vector products and two outer products, no n³.
struct AbvExpertAlgebra {
    w: DVector<f64>,
    y: DVector<f64>,
    z: DVector<f64>,
    da: DMatrix<f64>,
    db: DMatrix<f64>,
}

impl AbvExpertAlgebra {
    fn grad(&mut self, a: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
        self.w.fill(0.0);
        gemv_add(b, v.as_slice(), self.w.as_mut_slice());
        self.y.fill(0.0);
        gemv_add(a, self.w.as_slice(), self.y.as_mut_slice());
        let value = dot(self.y.as_slice(), self.y.as_slice());
        outer(&mut self.da, 2.0, self.y.as_slice(), self.w.as_slice());
        self.z.gemv_tr(2.0, a, &self.y, 0.0);
        outer(&mut self.db, 1.0, self.z.as_slice(), v.as_slice());
        value
    }
}

fn bench_abv(c: &mut Criterion) {
    let n = data::ABV_N;
    let (a, b, v) = &data::abv();
    let label = format!("n={n}");

    let (val, ga, gb) = abv_grad(a, b, v);
    check_original("abv", abv(a, b, v), val);
    check_value(
        "abv _re_grad vs _re",
        abv_re_grad(a, b, v).0,
        abv_re(a, b, v),
    );
    let mut gen = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
    let mut gen_re = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
    let mut expert = AbvExpert {
        p: DMatrix::zeros(n, n),
        y: DVector::zeros(n),
        pbar: DMatrix::zeros(n, n),
        da: DMatrix::zeros(n, n),
        db: DMatrix::zeros(n, n),
    };
    let mut algebra = AbvExpertAlgebra {
        w: DVector::zeros(n),
        y: DVector::zeros(n),
        z: DVector::zeros(n),
        da: DMatrix::zeros(n, n),
        db: DMatrix::zeros(n, n),
    };
    let checks = [
        (
            "generated",
            abv_grad_into(a, b, v, &mut gen.0, &mut gen.1, &mut gen.2),
            &gen.0,
            &gen.1,
        ),
        (
            "generated_reassociate",
            abv_re_grad_into(a, b, v, &mut gen_re.0, &mut gen_re.1, &mut gen_re.2),
            &gen_re.0,
            &gen_re.1,
        ),
        ("expert", expert.grad(a, b, v), &expert.da, &expert.db),
        (
            "expert_algebra",
            algebra.grad(a, b, v),
            &algebra.da,
            &algebra.db,
        ),
    ];
    for (what, value, da, db) in checks {
        check_value(&format!("abv {what}"), value, val);
        check_grad(&format!("abv {what} da"), da.as_slice(), ga.as_slice());
        check_grad(&format!("abv {what} db"), db.as_slice(), gb.as_slice());
    }

    let mut g = group(c, "abv");
    g.bench_function(id("generated", &label), |bch| {
        bch.iter(|| abv_grad_into(black_box(a), b, v, &mut gen.0, &mut gen.1, &mut gen.2));
    });
    g.bench_function(id("generated_reassociate", &label), |bch| {
        bch.iter(|| {
            abv_re_grad_into(
                black_box(a),
                b,
                v,
                &mut gen_re.0,
                &mut gen_re.1,
                &mut gen_re.2,
            )
        });
    });
    g.bench_function(id("expert", &label), |bch| {
        bch.iter(|| expert.grad(black_box(a), b, v));
    });
    g.bench_function(id("expert_algebra", &label), |bch| {
        bch.iter(|| algebra.grad(black_box(a), b, v));
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 3. ln |det X| − tr(S X) wrt X
// ---------------------------------------------------------------------------

/// As the expression reads, with nalgebra's LU (partial pivoting, as for any square
/// X): ln |det X| from the LU's determinant, X⁻¹ from the same LU, the product S X
/// (n³) and its trace; ∇ = X⁻ᵀ − Sᵀ in one pass, both read transposed. The LU
/// consumes a copy of X: one n×n allocation per call.
struct LnDetExpert {
    inv: DMatrix<f64>,
    p: DMatrix<f64>,
    g: DMatrix<f64>,
}

impl LnDetExpert {
    fn grad(&mut self, x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
        let n = x.nrows();
        let lu = x.clone().lu();
        let ln_det = lu.determinant().abs().ln();
        assert!(lu.try_inverse_to(&mut self.inv), "X is invertible");
        dgemm(1.0, s, Op::N, x, Op::N, 0.0, &mut self.p);
        let value = ln_det - self.p.trace();
        let (inv, ss) = (self.inv.as_slice(), s.as_slice());
        for (j, gc) in self.g.as_mut_slice().chunks_exact_mut(n).enumerate() {
            for (i, g) in gc.iter_mut().enumerate() {
                *g = inv[i * n + j] - ss[i * n + j];
            }
        }
        value
    }
}

/// With the algebra (and the knowledge that X is symmetric positive definite, which
/// the macro cannot have): Cholesky X = L Lᵀ, ln det X = 2 Σ ln L_ii, L⁻¹ in place,
/// X⁻¹ = L⁻ᵀ L⁻¹ (one product); tr(S X) = Σ S_ji X_ij without the product, in the
/// same pass as ∇ = X⁻¹ − Sᵀ. The code of `expert` in `benches/workloads.rs`.
struct LnDetExpertAlgebra {
    l: DMatrix<f64>,
    g: DMatrix<f64>,
}

impl LnDetExpertAlgebra {
    fn grad(&mut self, x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
        let n = x.nrows();
        self.l.copy_from(x);
        let ln_det = expert::cholesky_and_inverse(self.l.as_mut_slice(), n);
        dgemm(1.0, &self.l, Op::T, &self.l, Op::N, 0.0, &mut self.g);
        // ∇ −= Sᵀ and tr(S X) = Σ_ij S_ji X_ij in one pass.
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

fn bench_ln_det(c: &mut Criterion) {
    let n = data::LN_DET_N;
    let (x, s) = &data::ln_det();
    let label = format!("n={n}");

    let (v, gx) = ln_det_trace_grad(x, s);
    check_original("ln_det", ln_det_trace(x, s), v);
    check_value(
        "ln_det _re_grad vs _re",
        ln_det_trace_re_grad(x, s).0,
        ln_det_trace_re(x, s),
    );
    let (mut gen, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
    let (mut gen_re, mut ws_re) = (DMatrix::zeros(0, 0), Workspace::new());
    let mut expert = LnDetExpert {
        inv: DMatrix::zeros(n, n),
        p: DMatrix::zeros(n, n),
        g: DMatrix::zeros(n, n),
    };
    let mut algebra = LnDetExpertAlgebra {
        l: DMatrix::zeros(n, n),
        g: DMatrix::zeros(n, n),
    };
    let checks = [
        (
            "generated",
            ln_det_trace_grad_into(x, s, &mut gen, &mut ws),
            &gen,
        ),
        (
            "generated_reassociate",
            ln_det_trace_re_grad_into(x, s, &mut gen_re, &mut ws_re),
            &gen_re,
        ),
        ("expert", expert.grad(x, s), &expert.g),
        ("expert_algebra", algebra.grad(x, s), &algebra.g),
    ];
    for (what, value, g) in checks {
        check_value(&format!("ln_det {what}"), value, v);
        check_grad(&format!("ln_det {what}"), g.as_slice(), gx.as_slice());
    }

    let mut g = group(c, "ln_det");
    g.bench_function(id("generated", &label), |bch| {
        bch.iter(|| ln_det_trace_grad_into(black_box(x), s, &mut gen, &mut ws));
    });
    g.bench_function(id("generated_reassociate", &label), |bch| {
        bch.iter(|| ln_det_trace_re_grad_into(black_box(x), s, &mut gen_re, &mut ws_re));
    });
    g.bench_function(id("expert", &label), |bch| {
        bch.iter(|| expert.grad(black_box(x), s));
    });
    g.bench_function(id("expert_algebra", &label), |bch| {
        bch.iter(|| algebra.grad(black_box(x), s));
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 4. xᵀ a b x wrt x
// ---------------------------------------------------------------------------

/// As the expression reads: r = aᵀ x (the row xᵀ a), q = bᵀ r (the row (xᵀ a) b),
/// f = q · x; x̄ = q + a (b x) from the textbook adjoints of the last and the first
/// factor (the row adjoint xᵀ through b, then a): four matrix–vector passes.
struct XabxExpert {
    r: DVector<f64>,
    q: DVector<f64>,
    w: DVector<f64>,
    g: DVector<f64>,
}

impl XabxExpert {
    fn grad(&mut self, x: &DVector<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        self.r.gemv_tr(1.0, a, x, 0.0);
        self.q.gemv_tr(1.0, b, &self.r, 0.0);
        let value = dot(self.q.as_slice(), x.as_slice());
        self.w.fill(0.0);
        gemv_add(b, x.as_slice(), self.w.as_mut_slice());
        self.g.copy_from(&self.q);
        gemv_add(a, self.w.as_slice(), self.g.as_mut_slice());
        value
    }
}

/// With the algebra: w = b x (a pass over b), then one pass over a for both
/// u = aᵀ x and a w, f = u · w, ∇ = a w + bᵀ u (a second pass over b): three
/// matrix passes instead of four, the least the expression allows (a w needs all of
/// b x, bᵀ u all of aᵀ x).
struct XabxExpertAlgebra {
    w: DVector<f64>,
    u: DVector<f64>,
    g: DVector<f64>,
}

impl XabxExpertAlgebra {
    fn grad(&mut self, x: &DVector<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        let n = x.len();
        self.w.fill(0.0);
        gemv_add(b, x.as_slice(), self.w.as_mut_slice());
        self.g.fill(0.0);
        let (xs, ws, g) = (x.as_slice(), self.w.as_slice(), self.g.as_mut_slice());
        // Four columns at a time (32 KiB at n = 1000, in L1): their dots with x, then
        // one sweep g += a[:, j..j+4] w[j..j+4], so that a is read once from memory.
        let mut cols = a.as_slice().chunks_exact(4 * n);
        let (mut wb, mut ub) = (
            ws.chunks_exact(4),
            self.u.as_mut_slice().chunks_exact_mut(4),
        );
        for ((block, w4), u4) in (&mut cols).zip(&mut wb).zip(&mut ub) {
            let c: [&[f64]; 4] = std::array::from_fn(|l| &block[l * n..(l + 1) * n]);
            for l in 0..4 {
                u4[l] = dot(c[l], xs);
            }
            for (i, gi) in g.iter_mut().enumerate() {
                *gi += w4[0] * c[0][i] + w4[1] * c[1][i] + w4[2] * c[2][i] + w4[3] * c[3][i];
            }
        }
        let rest = cols.remainder().chunks_exact(n);
        for ((col, &wj), uj) in rest.zip(wb.remainder()).zip(ub.into_remainder()) {
            *uj = dot(col, xs);
            for (gi, &aij) in g.iter_mut().zip(col) {
                *gi += wj * aij;
            }
        }
        let value = dot(self.u.as_slice(), self.w.as_slice());
        self.g.gemv_tr(1.0, b, &self.u, 1.0);
        value
    }
}

fn bench_xabx(c: &mut Criterion) {
    let n = data::XABX_N;
    let (x, a, b) = &data::xabx();
    let label = format!("n={n}");

    let (v, gx) = xabx_grad(x, a, b);
    check_original("xabx", xabx(x, a, b), v);
    check_value(
        "xabx _re_grad vs _re",
        xabx_re_grad(x, a, b).0,
        xabx_re(x, a, b),
    );
    let (mut gen, mut ws) = (DVector::zeros(0), Workspace::new());
    let (mut gen_re, mut ws_re) = (DVector::zeros(0), Workspace::new());
    let mut expert = XabxExpert {
        r: DVector::zeros(n),
        q: DVector::zeros(n),
        w: DVector::zeros(n),
        g: DVector::zeros(n),
    };
    let mut algebra = XabxExpertAlgebra {
        w: DVector::zeros(n),
        u: DVector::zeros(n),
        g: DVector::zeros(n),
    };
    let checks = [
        (
            "generated",
            xabx_grad_into(x, a, b, &mut gen, &mut ws),
            &gen,
        ),
        (
            "generated_reassociate",
            xabx_re_grad_into(x, a, b, &mut gen_re, &mut ws_re),
            &gen_re,
        ),
        ("expert", expert.grad(x, a, b), &expert.g),
        ("expert_algebra", algebra.grad(x, a, b), &algebra.g),
    ];
    for (what, value, g) in checks {
        check_value(&format!("xabx {what}"), value, v);
        check_grad(&format!("xabx {what}"), g.as_slice(), gx.as_slice());
    }

    let mut g = group(c, "xabx");
    g.bench_function(id("generated", &label), |bch| {
        bch.iter(|| xabx_grad_into(black_box(x), a, b, &mut gen, &mut ws));
    });
    g.bench_function(id("generated_reassociate", &label), |bch| {
        bch.iter(|| xabx_re_grad_into(black_box(x), a, b, &mut gen_re, &mut ws_re));
    });
    g.bench_function(id("expert", &label), |bch| {
        bch.iter(|| expert.grad(black_box(x), a, b));
    });
    g.bench_function(id("expert_algebra", &label), |bch| {
        bch.iter(|| algebra.grad(black_box(x), a, b));
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 5. Σ (a b c d) wrt a, b, c, d
// ---------------------------------------------------------------------------

/// The four gradients of the chain.
struct Chain4Grads {
    a: DMatrix<f64>,
    b: DMatrix<f64>,
    c: DMatrix<f64>,
    d: DMatrix<f64>,
}

impl Chain4Grads {
    fn zeros((m, k): (usize, usize)) -> Self {
        Chain4Grads {
            a: DMatrix::zeros(m, k),
            b: DMatrix::zeros(k, m),
            c: DMatrix::zeros(m, k),
            d: DMatrix::zeros(k, m),
        }
    }
}

/// As the expression reads, left to right: P₁ = a b (m×m), P₂ = P₁ c (m×k),
/// P₃ = P₂ d (m×m), f = Σ P₃; P̄₃ = 1 1ᵀ (m×m, filled), P̄₂ = P̄₃ dᵀ, d̄ = P₂ᵀ P̄₃,
/// P̄₁ = P̄₂ cᵀ, c̄ = P₁ᵀ P̄₂, b̄ = aᵀ P̄₁, ā = P̄₁ bᵀ: nine products of 2 m² k flops.
struct Chain4Expert {
    p1: DMatrix<f64>,
    p2: DMatrix<f64>,
    p3: DMatrix<f64>,
    p3bar: DMatrix<f64>,
    p2bar: DMatrix<f64>,
    p1bar: DMatrix<f64>,
    d: Chain4Grads,
}

impl Chain4Expert {
    fn new((m, k): (usize, usize)) -> Self {
        Chain4Expert {
            p1: DMatrix::zeros(m, m),
            p2: DMatrix::zeros(m, k),
            p3: DMatrix::zeros(m, m),
            p3bar: DMatrix::zeros(m, m),
            p2bar: DMatrix::zeros(m, k),
            p1bar: DMatrix::zeros(m, m),
            d: Chain4Grads::zeros((m, k)),
        }
    }

    fn grad(&mut self, [a, b, c, d]: &[DMatrix<f64>; 4]) -> f64 {
        dgemm(1.0, a, Op::N, b, Op::N, 0.0, &mut self.p1);
        dgemm(1.0, &self.p1, Op::N, c, Op::N, 0.0, &mut self.p2);
        dgemm(1.0, &self.p2, Op::N, d, Op::N, 0.0, &mut self.p3);
        let value = sum(self.p3.as_slice());
        self.p3bar.fill(1.0);
        dgemm(1.0, &self.p3bar, Op::N, d, Op::T, 0.0, &mut self.p2bar);
        dgemm(1.0, &self.p2, Op::T, &self.p3bar, Op::N, 0.0, &mut self.d.d);
        dgemm(1.0, &self.p2bar, Op::N, c, Op::T, 0.0, &mut self.p1bar);
        dgemm(1.0, &self.p1, Op::T, &self.p2bar, Op::N, 0.0, &mut self.d.c);
        dgemm(1.0, a, Op::T, &self.p1bar, Op::N, 0.0, &mut self.d.b);
        dgemm(1.0, &self.p1bar, Op::N, b, Op::T, 0.0, &mut self.d.a);
        value
    }
}

/// The best association, the adjoint of the sum still the filled m×m matrix of ones
/// (what a matrix-chain ordering alone gives): M = b c (k×k), N = M d (k×m),
/// P = a N (m×m), f = Σ P; with G = 1 1ᵀ: ā = G Nᵀ, H = aᵀ G (= N̄), M̄ = H dᵀ,
/// d̄ = Mᵀ H, b̄ = M̄ cᵀ, c̄ = bᵀ M̄: three products of 2 m² k flops and five of
/// 2 m k² instead of nine of 2 m² k.
struct Chain4ExpertChain {
    mm: DMatrix<f64>,
    nn: DMatrix<f64>,
    p: DMatrix<f64>,
    g: DMatrix<f64>,
    h: DMatrix<f64>,
    mbar: DMatrix<f64>,
    d: Chain4Grads,
}

impl Chain4ExpertChain {
    fn new((m, k): (usize, usize)) -> Self {
        Chain4ExpertChain {
            mm: DMatrix::zeros(k, k),
            nn: DMatrix::zeros(k, m),
            p: DMatrix::zeros(m, m),
            g: DMatrix::zeros(m, m),
            h: DMatrix::zeros(k, m),
            mbar: DMatrix::zeros(k, k),
            d: Chain4Grads::zeros((m, k)),
        }
    }

    fn grad(&mut self, [a, b, c, d]: &[DMatrix<f64>; 4]) -> f64 {
        dgemm(1.0, b, Op::N, c, Op::N, 0.0, &mut self.mm);
        dgemm(1.0, &self.mm, Op::N, d, Op::N, 0.0, &mut self.nn);
        dgemm(1.0, a, Op::N, &self.nn, Op::N, 0.0, &mut self.p);
        let value = sum(self.p.as_slice());
        self.g.fill(1.0);
        dgemm(1.0, &self.g, Op::N, &self.nn, Op::T, 0.0, &mut self.d.a);
        dgemm(1.0, a, Op::T, &self.g, Op::N, 0.0, &mut self.h);
        dgemm(1.0, &self.h, Op::N, d, Op::T, 0.0, &mut self.mbar);
        dgemm(1.0, &self.mm, Op::T, &self.h, Op::N, 0.0, &mut self.d.d);
        dgemm(1.0, &self.mbar, Op::N, c, Op::T, 0.0, &mut self.d.b);
        dgemm(1.0, b, Op::T, &self.mbar, Op::N, 0.0, &mut self.d.c);
        value
    }
}

/// With the algebra: f = 1ᵀ a b c d 1, so every gradient is an outer product of
/// vectors from matrix–vector products: with u = d 1, w = c u, z = b w and
/// r = aᵀ 1, s = bᵀ r, t = cᵀ s: f = r · z, ā = 1 zᵀ, b̄ = r wᵀ, c̄ = s uᵀ,
/// d̄ = t 1ᵀ. No product of two matrices at all.
struct Chain4ExpertAlgebra {
    u: DVector<f64>,
    w: DVector<f64>,
    z: DVector<f64>,
    r: DVector<f64>,
    s: DVector<f64>,
    t: DVector<f64>,
    d: Chain4Grads,
}

impl Chain4ExpertAlgebra {
    fn new((m, k): (usize, usize)) -> Self {
        Chain4ExpertAlgebra {
            u: DVector::zeros(k),
            w: DVector::zeros(m),
            z: DVector::zeros(k),
            r: DVector::zeros(k),
            s: DVector::zeros(m),
            t: DVector::zeros(k),
            d: Chain4Grads::zeros((m, k)),
        }
    }

    fn grad(&mut self, [a, b, c, d]: &[DMatrix<f64>; 4]) -> f64 {
        // u = d 1 (row sums of d), w = c u, z = b w.
        self.u.fill(0.0);
        for col in d.as_slice().chunks_exact(d.nrows()) {
            for (ui, &v) in self.u.iter_mut().zip(col) {
                *ui += v;
            }
        }
        self.w.fill(0.0);
        gemv_add(c, self.u.as_slice(), self.w.as_mut_slice());
        self.z.fill(0.0);
        gemv_add(b, self.w.as_slice(), self.z.as_mut_slice());
        // r = aᵀ 1 (column sums of a), s = bᵀ r, t = cᵀ s.
        for (ri, col) in self.r.iter_mut().zip(a.as_slice().chunks_exact(a.nrows())) {
            *ri = sum(col);
        }
        self.s.gemv_tr(1.0, b, &self.r, 0.0);
        self.t.gemv_tr(1.0, c, &self.s, 0.0);
        let value = dot(self.r.as_slice(), self.z.as_slice());
        // ā = 1 zᵀ: column j is z_j; d̄ = t 1ᵀ: every column is t.
        for (col, &zj) in self
            .d
            .a
            .as_mut_slice()
            .chunks_exact_mut(a.nrows())
            .zip(&self.z)
        {
            col.fill(zj);
        }
        outer(&mut self.d.b, 1.0, self.r.as_slice(), self.w.as_slice());
        outer(&mut self.d.c, 1.0, self.s.as_slice(), self.u.as_slice());
        for col in self.d.d.as_mut_slice().chunks_exact_mut(d.nrows()) {
            col.copy_from_slice(self.t.as_slice());
        }
        value
    }
}

fn bench_chain4(c: &mut Criterion) {
    let size @ (m, k) = data::CHAIN4_SIZE;
    let p = &data::chain4();
    let [a, b, cc, d] = p;
    let label = format!("{m}x{k}");

    let (v, ga, gb, gc, gd) = chain4_grad(a, b, cc, d);
    check_original("chain4", chain4(a, b, cc, d), v);
    check_value(
        "chain4 _re_grad vs _re",
        chain4_re_grad(a, b, cc, d).0,
        chain4_re(a, b, cc, d),
    );
    let want = Chain4Grads {
        a: ga,
        b: gb,
        c: gc,
        d: gd,
    };
    let (mut gen, mut ws) = (Chain4Grads::zeros((0, 0)), Workspace::new());
    let (mut gen_re, mut ws_re) = (Chain4Grads::zeros((0, 0)), Workspace::new());
    let run = |o: &mut Chain4Grads, ws: &mut Workspace<f64>| {
        chain4_grad_into(
            black_box(a),
            b,
            cc,
            d,
            &mut o.a,
            &mut o.b,
            &mut o.c,
            &mut o.d,
            ws,
        )
    };
    let run_re = |o: &mut Chain4Grads, ws: &mut Workspace<f64>| {
        chain4_re_grad_into(
            black_box(a),
            b,
            cc,
            d,
            &mut o.a,
            &mut o.b,
            &mut o.c,
            &mut o.d,
            ws,
        )
    };
    let mut expert = Chain4Expert::new(size);
    let mut chain = Chain4ExpertChain::new(size);
    let mut algebra = Chain4ExpertAlgebra::new(size);
    let checks = [
        ("generated", run(&mut gen, &mut ws), &gen),
        (
            "generated_reassociate",
            run_re(&mut gen_re, &mut ws_re),
            &gen_re,
        ),
        ("expert", expert.grad(p), &expert.d),
        ("expert_chain", chain.grad(p), &chain.d),
        ("expert_algebra", algebra.grad(p), &algebra.d),
    ];
    for (what, value, g) in checks {
        check_value(&format!("chain4 {what}"), value, v);
        for (x, got, want) in [
            ("a", &g.a, &want.a),
            ("b", &g.b, &want.b),
            ("c", &g.c, &want.c),
            ("d", &g.d, &want.d),
        ] {
            check_grad(
                &format!("chain4 {what} d{x}"),
                got.as_slice(),
                want.as_slice(),
            );
        }
    }

    let mut g = group(c, "chain4");
    g.bench_function(id("generated", &label), |bch| {
        bch.iter(|| run(&mut gen, &mut ws));
    });
    g.bench_function(id("generated_reassociate", &label), |bch| {
        bch.iter(|| run_re(&mut gen_re, &mut ws_re));
    });
    g.bench_function(id("expert", &label), |bch| {
        bch.iter(|| expert.grad(black_box(p)));
    });
    g.bench_function(id("expert_chain", &label), |bch| {
        bch.iter(|| chain.grad(black_box(p)));
    });
    g.bench_function(id("expert_algebra", &label), |bch| {
        bch.iter(|| algebra.grad(black_box(p)));
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 6. ln |det S| + vᵀ S⁻¹ v wrt S and v
// ---------------------------------------------------------------------------

/// The gradients of the Gaussian negative log-likelihood.
struct NllGrads {
    s: DMatrix<f64>,
    v: DVector<f64>,
}

/// As the expression reads, with nalgebra's LU (partial pivoting, as for any square
/// S): ln |det S| and S⁻¹ from one LU, the row q = vᵀ S⁻¹ (gemv_tr), the value
/// ln |det S| plus q v; the textbook adjoints: v̄ = qᵀ (right factor) plus S⁻¹ v (left
/// factor, through vᵀ S⁻¹), P̄ = v vᵀ for P = S⁻¹ (an outer product), S̄ = S⁻ᵀ −
/// S⁻ᵀ P̄ S⁻ᵀ (the inverse's rule: two n³ products). The LU consumes a copy of S: one
/// n×n allocation per call.
struct NllExpert {
    inv: DMatrix<f64>,
    q: DVector<f64>,
    pbar: DMatrix<f64>,
    t: DMatrix<f64>,
    d: NllGrads,
}

impl NllExpert {
    fn grad(&mut self, s: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
        let n = s.nrows();
        let lu = s.clone().lu();
        let ln_det = lu.determinant().abs().ln();
        assert!(lu.try_inverse_to(&mut self.inv), "S is invertible");
        self.q.gemv_tr(1.0, &self.inv, v, 0.0);
        let value = ln_det + dot(self.q.as_slice(), v.as_slice());
        self.d.v.copy_from(&self.q);
        gemv_add(&self.inv, v.as_slice(), self.d.v.as_mut_slice());
        outer(&mut self.pbar, 1.0, v.as_slice(), v.as_slice());
        dgemm(1.0, &self.inv, Op::T, &self.pbar, Op::N, 0.0, &mut self.t);
        dgemm(-1.0, &self.t, Op::N, &self.inv, Op::T, 0.0, &mut self.d.s);
        let inv = self.inv.as_slice();
        for (j, gc) in self.d.s.as_mut_slice().chunks_exact_mut(n).enumerate() {
            for (i, g) in gc.iter_mut().enumerate() {
                *g += inv[i * n + j];
            }
        }
        value
    }
}

/// With the algebra (and the knowledge that S is symmetric positive definite, which
/// the macro cannot have): Cholesky S = L Lᵀ once, ln det S = 2 Σ ln L_ii, L⁻¹ in place,
/// S⁻¹ = L⁻ᵀ L⁻¹ (one product: the gradient needs S⁻¹ itself), α = S⁻¹ v (gemv),
/// f = ln det S + v · α, S̄ = S⁻¹ − α αᵀ, v̄ = 2 α.
struct NllExpertAlgebra {
    l: DMatrix<f64>,
    alpha: DVector<f64>,
    d: NllGrads,
}

impl NllExpertAlgebra {
    fn grad(&mut self, s: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
        let n = s.nrows();
        self.l.copy_from(s);
        let ln_det = expert::cholesky_and_inverse(self.l.as_mut_slice(), n);
        dgemm(1.0, &self.l, Op::T, &self.l, Op::N, 0.0, &mut self.d.s);
        self.alpha.fill(0.0);
        gemv_add(&self.d.s, v.as_slice(), self.alpha.as_mut_slice());
        let value = ln_det + dot(v.as_slice(), self.alpha.as_slice());
        let a = self.alpha.as_slice();
        for (gc, &aj) in self.d.s.as_mut_slice().chunks_exact_mut(n).zip(a) {
            for (g, &ai) in gc.iter_mut().zip(a) {
                *g -= ai * aj;
            }
        }
        for (g, &ai) in self.d.v.iter_mut().zip(a) {
            *g = 2.0 * ai;
        }
        value
    }
}

fn bench_nll(c: &mut Criterion) {
    let n = data::NLL_N;
    let (s, v) = &data::gaussian_nll();
    let label = format!("n={n}");

    let (val, gs, gv) = gaussian_nll_grad(s, v);
    check_original("gaussian_nll", gaussian_nll(s, v), val);
    check_value(
        "gaussian_nll _re_grad vs _re",
        gaussian_nll_re_grad(s, v).0,
        gaussian_nll_re(s, v),
    );
    let zeros = |n| NllGrads {
        s: DMatrix::zeros(n, n),
        v: DVector::zeros(n),
    };
    let (mut gen, mut ws) = (zeros(0), Workspace::new());
    let (mut gen_re, mut ws_re) = (zeros(0), Workspace::new());
    let mut expert = NllExpert {
        inv: DMatrix::zeros(n, n),
        q: DVector::zeros(n),
        pbar: DMatrix::zeros(n, n),
        t: DMatrix::zeros(n, n),
        d: zeros(n),
    };
    let mut algebra = NllExpertAlgebra {
        l: DMatrix::zeros(n, n),
        alpha: DVector::zeros(n),
        d: zeros(n),
    };
    let checks = [
        (
            "generated",
            gaussian_nll_grad_into(s, v, &mut gen.s, &mut gen.v, &mut ws),
            &gen,
        ),
        (
            "generated_reassociate",
            gaussian_nll_re_grad_into(s, v, &mut gen_re.s, &mut gen_re.v, &mut ws_re),
            &gen_re,
        ),
        ("expert", expert.grad(s, v), &expert.d),
        ("expert_algebra", algebra.grad(s, v), &algebra.d),
    ];
    for (what, value, g) in checks {
        check_value(&format!("gaussian_nll {what}"), value, val);
        check_grad(
            &format!("gaussian_nll {what} ds"),
            g.s.as_slice(),
            gs.as_slice(),
        );
        check_grad(
            &format!("gaussian_nll {what} dv"),
            g.v.as_slice(),
            gv.as_slice(),
        );
    }

    let mut g = group(c, "gaussian_nll");
    g.bench_function(id("generated", &label), |bch| {
        bch.iter(|| gaussian_nll_grad_into(black_box(s), v, &mut gen.s, &mut gen.v, &mut ws));
    });
    g.bench_function(id("generated_reassociate", &label), |bch| {
        bch.iter(|| {
            gaussian_nll_re_grad_into(black_box(s), v, &mut gen_re.s, &mut gen_re.v, &mut ws_re)
        });
    });
    g.bench_function(id("expert", &label), |bch| {
        bch.iter(|| expert.grad(black_box(s), v));
    });
    g.bench_function(id("expert_algebra", &label), |bch| {
        bch.iter(|| algebra.grad(black_box(s), v));
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000).without_plots();
    targets = bench_trace, bench_abv, bench_ln_det, bench_xabx, bench_chain4, bench_nll
}
criterion_main!(benches);

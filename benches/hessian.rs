//! Dense Hessians (issue 17): `NAME_hessian` (value, gradient and Hessian, built from
//! the Hessian's structure: `matgrad-core/src/hessian_structure.rs`) against
//!
//! - `expert`: the same three written by hand, the fastest way we know, buffers
//!   reused: the forward pass once; matrix–vector products by the loops of
//!   `benches/common/expert.rs` (eight columns per sweep; `Xᵀ r` four dot products
//!   per pass); each symmetric product (`Xᵀ diag(d) X` for logistic regression, `XᵀX`
//!   for least squares, `AᵀA` and `BBᵀ` for a matrix variable) as a BLAS `syrk`
//!   computes it, its lower triangle only, in column panels of 32, each one
//!   `matrixmultiply::dgemm` (transposes as swapped strides; a tiny product by dot
//!   products), then mirrored; the other products by `matrixmultiply::dgemm`, or,
//!   when tiny (≤ 6³ multiply-adds), by matgrad-runtime's public `gemm_*`, whose
//!   loops pack nothing; `A + Aᵀ` (quadratic form) in 16×16 tiles; the Kronecker
//!   product `2 (BBᵀ) ⊗ (AᵀA)` column by column. Each choice is the faster of those
//!   measured (the constants' docs say by how much); matrixmultiply beat
//!   matgrad-runtime's blocked product on every non-tiny shape here, so `syrk` uses
//!   it;
//! - `expert_owned`: the same, returning its gradient and Hessian as new matrices,
//!   as `NAME_hessian` does (it has no `_into` form): the allocation of an `n×n`
//!   result (and its first touch) is part of both;
//! - `hvp_columns`: the column-by-column build, `n` calls of `NAME_hvp_into` with
//!   the unit directions (what `NAME_hessian` costs without a structure, before the
//!   direction-independent half is hoisted);
//! - `num_dual`: forward-mode second-order duals (`num_dual::hessian` with
//!   `Dual2DVec64`, every operation carrying `n + n²` derivatives), at the small
//!   sizes only;
//! - `finite_diff`: central differences of the generated gradient, `2n` calls of
//!   `NAME_grad_into`, symmetrised.
//!
//! Before timing, each group checks every method against `expert` and records the
//! largest entry error `max |H − H_expert| / max(1, max |H_expert|)` in
//! `target/criterion/hessian_accuracy.json` (`CRITERION_HOME` or `CARGO_TARGET_DIR`
//! move it), which `benches/report.py` prints beside the times; the exact methods
//! must agree to 1e-10.
//!
//! ```sh
//! cargo bench --bench hessian                  # all groups
//! cargo test --bench hessian                   # each function once, with the checks
//! python3 benches/report.py target/criterion   # the tables, accuracy included
//! ```

#[path = "common/data.rs"]
#[allow(dead_code)]
mod data;
#[path = "common/expert.rs"]
mod kernels;
#[path = "common/losses.rs"]
#[allow(dead_code)]
mod losses;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use matgrad::{gemm_nn, gemm_nt, gemm_tn, gemm_tt, grad, Workspace};
use nalgebra::{DMatrix, DVector};
use num_dual::{hessian, Dual2DVec64, DualNum};

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

// ---------------------------------------------------------------------------
// The two losses not in benches/common/losses.rs
// ---------------------------------------------------------------------------

/// A quadratic form `xᵀ A x`.
#[grad(wrt = x, hvp, hessian)]
pub fn quadratic(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

/// A matrix variable, `‖A X B − C‖²`.
#[grad(wrt = x, hvp, hessian)]
pub fn kron_ls(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * x * b - c).norm_squared()
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// Quadratic form: n.
const QUADRATIC_SIZES: [usize; 2] = [16, 256];
/// `‖A X B − C‖²`: (m, p, q, r) for A m×p, X p×q, B q×r.
const KRON_SIZES: [(usize, usize, usize, usize); 2] = [(8, 4, 3, 6), (64, 16, 12, 48)];

/// Deterministic entries in [-0.5, 0.5).
fn entries(r: usize, c: usize, seed: usize) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |i, j| {
        (((i * 7 + j * 13 + seed * 31) % 17) as f64) / 17.0 - 0.5
    })
}

// ---------------------------------------------------------------------------
// Hand-written kernels
// ---------------------------------------------------------------------------

fn isz(v: usize) -> isize {
    isize::try_from(v).unwrap()
}

/// `out = alpha · op(a) · op(b) + beta · out` with `matrixmultiply::dgemm`, a
/// transposed operand as swapped strides.
fn dgemm(
    alpha: f64,
    a: &DMatrix<f64>,
    ta: bool,
    b: &DMatrix<f64>,
    tb: bool,
    beta: f64,
    out: &mut DMatrix<f64>,
) {
    let op = |m: &DMatrix<f64>, t: bool| {
        let (r, c) = m.shape();
        if t {
            ((c, r), (r, 1))
        } else {
            ((r, c), (1, r))
        }
    };
    let (((m, k), (rsa, csa)), ((k2, n), (rsb, csb))) = (op(a, ta), op(b, tb));
    assert!(k == k2 && out.shape() == (m, n), "dgemm: shapes");
    // SAFETY: a is m×k and b k×n through their strides (their column-major storage,
    // transposed when flagged); out is m×n, contiguous and borrowed mutably.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            isz(rsa),
            isz(csa),
            b.as_ptr(),
            isz(rsb),
            isz(csb),
            beta,
            out.as_mut_ptr(),
            isz(1),
            isz(m),
        );
    }
}

/// Products of at most this many multiply-adds go to matgrad-runtime's `gemm_*`
/// ([`mul`]), whose column-by-column loops (its own threshold) pack nothing, where
/// matrixmultiply packs both operands into a buffer it allocates on every call:
/// 0.4–0.5× matrixmultiply's time at 8×4×3 and 4×8×4. Above it matgrad-runtime
/// uses its blocked product, which measured 1.1–1.95× matrixmultiply's time on this
/// file's shapes (1.1× at 64×16×12, 1.5× for `AᵀA` at 64×16, 1.95× for `Xᵀ S` at
/// 64×8; load ≈ 1.4).
const LOOP_WORK: usize = 6 * 6 * 6;

/// `out = alpha · op(a) · op(b) + beta · out`: matgrad-runtime's public `gemm_*` for
/// tiny products (at most [`LOOP_WORK`] multiply-adds), [`dgemm`] otherwise.
fn mul(
    alpha: f64,
    a: &DMatrix<f64>,
    ta: bool,
    b: &DMatrix<f64>,
    tb: bool,
    beta: f64,
    out: &mut DMatrix<f64>,
) {
    let (m, k) = if ta {
        (a.ncols(), a.nrows())
    } else {
        a.shape()
    };
    let n = if tb { b.nrows() } else { b.ncols() };
    if m * k * n > LOOP_WORK {
        return dgemm(alpha, a, ta, b, tb, beta, out);
    }
    let (a, b) = (a.as_view(), b.as_view());
    match (ta, tb) {
        (false, false) => gemm_nn(alpha, a, b, beta, out),
        (true, false) => gemm_tn(alpha, a, b, beta, out),
        (false, true) => gemm_nt(alpha, a, b, beta, out),
        (true, true) => gemm_tt(alpha, a, b, beta, out),
    }
}

fn sigma(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

fn softplus(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

/// Width of [`syrk`]'s column panels: of 16, 32 and 64, 32 measured fastest for
/// `Xᵀ S` at 1024×128 (0.75× the full `dgemm`; 16 and 64 0.8–0.95×).
const PANEL: usize = 32;

/// Tile of [`mirror_lower`] and [`sum_with_transpose`]: 16×16. For `A + Aᵀ` at
/// n = 256 (a power-of-two column stride, 2 KB) 16 measured 0.53× the time of 32
/// (whose transposed reads conflict in the cache) and 0.63× the untiled loop.
const TILE: usize = 16;

/// `h = alpha · Xᵀ S` for `k×n` matrices `X`, `S` (or `h = alpha · X Sᵀ` for `n×k`
/// ones when `outer`) whose product is symmetric (`S = diag(d) X` with `d ≥ 0`, or
/// `S = X`), as BLAS `dsyrk` does it: only the lower triangle is multiplied, in
/// column panels of [`PANEL`] (panel `j0..j1` is one `matrixmultiply::dgemm` of rows
/// `j0..n`, its diagonal block whole), then mirrored into the upper triangle
/// ([`mirror_lower`]). At n = 128 that is 62.5 % of the multiply-adds of the full
/// product; for `n ≤ PANEL` it is the full product, one call ([`mul`]), or for a
/// tiny one (at most [`LOOP_WORK`] multiply-adds) one dot product per entry.
/// matrixmultiply rather than matgrad-runtime's blocked product (`Real::__gemm`):
/// 0.87× its time for the full `Xᵀ S` at 1024×128, 0.5× at 64×8.
fn syrk(alpha: f64, x: &DMatrix<f64>, s: &DMatrix<f64>, outer: bool, h: &mut DMatrix<f64>) {
    assert!(s.shape() == x.shape(), "syrk: shapes");
    let (k, n) = if outer {
        (x.ncols(), x.nrows())
    } else {
        x.shape()
    };
    // The strides of the n×k left operand (Xᵀ, or X) and the k×n right one (S, or
    // Sᵀ), and the offset of row / column j in them.
    let ((rs, cs), at) = if outer {
        ((1, isz(n)), 1)
    } else {
        ((isz(k), 1), k)
    };
    ready(h, n, n);
    if !outer && n * n * k <= LOOP_WORK {
        // Tiny (`AᵀA` of the small Kronecker case): one dot product per entry of the
        // lower triangle, written to both places; the whole `‖AXB − C‖²` 0.95× the
        // time of the loops of `mul`. At 64×8 this took 1.1–1.3× matrixmultiply's
        // time (the whole logistic and least-squares calls), so only here.
        let (xs, ss, hs) = (x.as_slice(), s.as_slice(), h.as_mut_slice());
        for j in 0..n {
            let sj = &ss[j * k..(j + 1) * k];
            for i in j..n {
                let v = alpha * kernels::dot(&xs[i * k..(i + 1) * k], sj);
                hs[i + j * n] = v;
                hs[j + i * n] = v;
            }
        }
        return;
    }
    if n <= PANEL {
        return mul(alpha, x, !outer, s, outer, 0.0, h);
    }
    let hp = h.as_mut_ptr();
    for j0 in (0..n).step_by(PANEL) {
        let w = PANEL.min(n - j0);
        // SAFETY: rows j0..n of the left operand and columns j0..j0+w of the right one
        // are in bounds of x and s through the strides above (their column-major
        // storage, transposed where needed); the block (j0.., j0..j0+w) of the n×n h
        // lies inside it (column stride n), and h, borrowed mutably, overlaps neither.
        unsafe {
            matrixmultiply::dgemm(
                n - j0,
                k,
                w,
                alpha,
                x.as_ptr().add(j0 * at),
                rs,
                cs,
                s.as_ptr().add(j0 * at),
                cs,
                rs,
                0.0,
                hp.add(j0 + j0 * n),
                1,
                isz(n),
            );
        }
    }
    mirror_lower(h);
}

/// Copies the strict lower triangle of the square `h` onto its upper triangle, tile
/// by tile (the transposed writes stay in cache).
fn mirror_lower(h: &mut DMatrix<f64>) {
    let n = h.nrows();
    let hs = h.as_mut_slice();
    for j0 in (0..n).step_by(TILE) {
        for i0 in (j0..n).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for i in i0.max(j + 1)..(i0 + TILE).min(n) {
                    hs[j + i * n] = hs[i + j * n];
                }
            }
        }
    }
}

/// `h = a + aᵀ` for a square column-major `a`, tile by tile: down each column of a
/// tile of `h` (contiguous writes and reads of `a`), the transposed tile of `a` read
/// across. Writing each pair once into both places (half the reads) measured 2.4×
/// slower at n = 256: its transposed writes miss.
fn sum_with_transpose(a: &DMatrix<f64>, h: &mut DMatrix<f64>) {
    let n = a.nrows();
    assert!(a.shape() == (n, n), "sum_with_transpose: square");
    ready(h, n, n);
    let (a, hs) = (a.as_slice(), h.as_mut_slice());
    for j0 in (0..n).step_by(TILE) {
        for i0 in (0..n).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for i in i0..(i0 + TILE).min(n) {
                    hs[i + j * n] = a[i + j * n] + a[j + i * n];
                }
            }
        }
    }
}

/// Reused buffers of the hand-written Hessians.
#[derive(Default)]
struct Expert {
    z: DVector<f64>,
    u: DVector<f64>,
    /// The gradient, `n×1` for a vector variable.
    g: DMatrix<f64>,
    s: DMatrix<f64>,
    t: DMatrix<f64>,
    r: DMatrix<f64>,
    h: DMatrix<f64>,
}

/// Gives `m` the shape `r×c` (new zeros if it had another).
fn ready(m: &mut DMatrix<f64>, r: usize, c: usize) {
    if m.shape() != (r, c) {
        *m = DMatrix::zeros(r, c);
    }
}

/// Gives `v` the length `n` (new zeros if it had another).
fn ready_v(v: &mut DVector<f64>, n: usize) {
    if v.len() != n {
        *v = DVector::zeros(n);
    }
}

impl Expert {
    /// `Σ softplus(−y ⊙ X w) + λ‖w‖²`: value, `Xᵀ (−y ⊙ σ(−y ⊙ z)) + 2λw`,
    /// `Xᵀ diag(σ(1 − σ)) X + 2λI` (y² = 1; the weights are ≥ 0) by [`syrk`].
    fn logistic(
        &mut self,
        x: &DMatrix<f64>,
        w: &DVector<f64>,
        y: &DVector<f64>,
        lambda: f64,
    ) -> f64 {
        let (m, n) = x.shape();
        ready_v(&mut self.z, m);
        self.z.fill(0.0);
        kernels::gemv_add(x, w.as_slice(), self.z.as_mut_slice());
        let mut value = lambda * w.norm_squared();
        ready_v(&mut self.u, m);
        // z becomes the weights d = σ(1 − σ) y².
        for ((zi, ui), &yi) in self.z.iter_mut().zip(self.u.iter_mut()).zip(y.iter()) {
            let t = -yi * *zi;
            value += softplus(t);
            let sg = sigma(t);
            *ui = -yi * sg;
            *zi = sg * (1.0 - sg) * yi * yi;
        }
        ready(&mut self.g, n, 1);
        self.g.copy_from_slice(w.as_slice());
        kernels::gemv_tr4(
            1.0,
            x,
            self.u.as_slice(),
            2.0 * lambda,
            self.g.as_mut_slice(),
        );
        ready(&mut self.s, m, n);
        for (sc, xc) in self
            .s
            .as_mut_slice()
            .chunks_exact_mut(m)
            .zip(x.as_slice().chunks_exact(m))
        {
            for ((o, &v), &d) in sc.iter_mut().zip(xc).zip(self.z.iter()) {
                *o = d * v;
            }
        }
        syrk(1.0, x, &self.s, false, &mut self.h);
        for j in 0..n {
            self.h[(j, j)] += 2.0 * lambda;
        }
        value
    }

    /// `‖X w − y‖²`: value, `2 Xᵀ r`, `2 XᵀX` by [`syrk`].
    fn least_squares(&mut self, x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
        let (m, n) = x.shape();
        ready_v(&mut self.z, m);
        self.z.copy_from(y);
        self.z.neg_mut();
        kernels::gemv_add(x, w.as_slice(), self.z.as_mut_slice());
        let value = self.z.norm_squared();
        ready(&mut self.g, n, 1);
        kernels::gemv_tr4(2.0, x, self.z.as_slice(), 0.0, self.g.as_mut_slice());
        syrk(2.0, x, x, false, &mut self.h);
        value
    }

    /// `xᵀ A x`: value `x · (A x)`, `A x + Aᵀ x`, `A + Aᵀ` ([`sum_with_transpose`]).
    fn quadratic(&mut self, x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
        let n = x.len();
        ready_v(&mut self.z, n);
        self.z.fill(0.0);
        kernels::gemv_add(a, x.as_slice(), self.z.as_mut_slice());
        let value = kernels::dot(x.as_slice(), self.z.as_slice());
        ready(&mut self.g, n, 1);
        self.g.copy_from_slice(self.z.as_slice());
        kernels::gemv_tr4(1.0, a, x.as_slice(), 1.0, self.g.as_mut_slice());
        sum_with_transpose(a, &mut self.h);
        value
    }

    /// `‖A X B − C‖²`: value, `2 Aᵀ R Bᵀ`, `2 (B Bᵀ) ⊗ (AᵀA)` ([`syrk`] for both
    /// Gram matrices, the Kronecker product written column by column).
    fn kron_ls(
        &mut self,
        a: &DMatrix<f64>,
        x: &DMatrix<f64>,
        b: &DMatrix<f64>,
        c: &DMatrix<f64>,
    ) -> f64 {
        let ((m, p), (q, r)) = (a.shape(), b.shape());
        ready(&mut self.t, m, q);
        mul(1.0, a, false, x, false, 0.0, &mut self.t);
        ready(&mut self.r, m, r);
        self.r.copy_from(c);
        mul(1.0, &self.t, false, b, false, -1.0, &mut self.r);
        let value = self.r.norm_squared();
        ready(&mut self.s, p, r);
        mul(1.0, a, true, &self.r, false, 0.0, &mut self.s);
        ready(&mut self.g, p, q);
        mul(2.0, &self.s, false, b, true, 0.0, &mut self.g);
        // AᵀA (p×p) in s, 2 BBᵀ (q×q) in t.
        syrk(1.0, a, a, false, &mut self.s);
        syrk(2.0, b, b, true, &mut self.t);
        let n = p * q;
        ready(&mut self.h, n, n);
        // Column k + p l of H: the blocks t[(j, l)] · s[:, k], j = 0..q.
        let (s, t) = (self.s.as_slice(), self.t.as_slice());
        for (col, hc) in self.h.as_mut_slice().chunks_exact_mut(n).enumerate() {
            let (k, l) = (col % p, col / p);
            let sk = &s[k * p..(k + 1) * p];
            for (blk, &tj) in hc.chunks_exact_mut(p).zip(&t[l * q..(l + 1) * q]) {
                for (o, &v) in blk.iter_mut().zip(sk) {
                    *o = tj * v;
                }
            }
        }
        value
    }
}

/// The Hessian by central differences of `grad` (writing the gradient at a point
/// into its second argument), `2n` calls, symmetrised.
fn finite_diff(w: &[f64], mut grad: impl FnMut(&[f64], &mut Vec<f64>), h: &mut DMatrix<f64>) {
    let n = w.len();
    ready(h, n, n);
    let (mut p, mut gp, mut gm) = (w.to_vec(), Vec::new(), Vec::new());
    for j in 0..n {
        let step = 1e-5 * w[j].abs().max(1.0);
        p[j] = w[j] + step;
        grad(&p, &mut gp);
        p[j] = w[j] - step;
        grad(&p, &mut gm);
        p[j] = w[j];
        for i in 0..n {
            h[(i, j)] = (gp[i] - gm[i]) / (2.0 * step);
        }
    }
    for j in 0..n {
        for i in 0..j {
            let m = 0.5 * (h[(i, j)] + h[(j, i)]);
            h[(i, j)] = m;
            h[(j, i)] = m;
        }
    }
}

// ---------------------------------------------------------------------------
// Checks and the accuracy record
// ---------------------------------------------------------------------------

/// `(group, method) → max entry error against the expert`, written at the end.
static ACCURACY: Mutex<BTreeMap<String, BTreeMap<String, f64>>> = Mutex::new(BTreeMap::new());

fn error(got: &DMatrix<f64>, want: &DMatrix<f64>) -> f64 {
    assert_eq!(got.shape(), want.shape(), "Hessian shapes");
    let scale = want.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    got.iter()
        .zip(want.iter())
        .fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()))
        / scale
}

/// Asserts that `NAME_hessian`'s value and gradient (`got`) agree with the expert's
/// (`want`) to 1e-10, relative to `max(1, |entry|)`.
fn same_value_and_gradient(group: &str, got: (f64, &[f64]), want: (f64, &[f64])) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1.0);
    assert!(
        close(got.0, want.0),
        "{group}: value {} ≠ {}",
        got.0,
        want.0
    );
    assert_eq!(got.1.len(), want.1.len(), "{group}: gradient lengths");
    assert!(
        got.1.iter().zip(want.1).all(|(&a, &b)| close(a, b)),
        "{group}: gradient"
    );
}

/// Records `method`'s error in `group`; an exact method must be within 1e-10.
fn record(group: &str, method: &str, got: &DMatrix<f64>, want: &DMatrix<f64>, exact: bool) {
    let e = error(got, want);
    if exact {
        assert!(
            e <= 1e-10,
            "{group}: {method} is off the expert's Hessian by {e:e}"
        );
    } else {
        assert!(
            e <= 1e-3,
            "{group}: {method} is off the expert's Hessian by {e:e}"
        );
    }
    ACCURACY
        .lock()
        .unwrap()
        .entry(group.to_owned())
        .or_default()
        .insert(method.to_owned(), e);
}

/// Where criterion writes: `CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `target/criterion`.
fn criterion_dir() -> std::path::PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return h.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| "target".into(), std::path::PathBuf::from);
    target.join("criterion")
}

fn write_accuracy(_: &mut Criterion) {
    let acc = ACCURACY.lock().unwrap();
    let mut s = String::from("{\n");
    let groups: Vec<String> = acc
        .iter()
        .map(|(g, methods)| {
            let m: Vec<String> = methods
                .iter()
                .map(|(k, v)| format!("    \"{k}\": {v:e}"))
                .collect();
            format!("  \"{g}\": {{\n{}\n  }}", m.join(",\n"))
        })
        .collect();
    s.push_str(&groups.join(",\n"));
    s.push_str("\n}\n");
    let dir = criterion_dir();
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("hessian_accuracy.json"), s).expect("write hessian_accuracy.json");
}

fn group<'a>(c: &'a mut Criterion, name: &str, size: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{name}/{}", data::SIZE_NAMES[size]));
    g.sample_size(if size == 0 { 30 } else { 15 })
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(if size == 0 { 1000 } else { 2000 }));
    g
}

// ---------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------

fn logistic(c: &mut Criterion) {
    for size in 0..2 {
        let d = data::logistic(size);
        let (x, w, y, lambda) = (&d.x, &d.w, &d.y, d.lambda);
        let n = w.len();
        let label = format!("{}×{}", x.nrows(), n);
        let name = format!("hessian_logistic/{}", data::SIZE_NAMES[size]);
        let mut ex = Expert::default();
        let fe = ex.logistic(x, w, y, lambda);
        let want = ex.h.clone();
        let (f, g, h) = losses::logistic_hessian(x, w, y, lambda);
        same_value_and_gradient(&name, (f, g.as_slice()), (fe, ex.g.as_slice()));
        record(&name, "generated", &h, &want, true);
        let (mut ws, mut gb, mut hb, mut k) = (
            Workspace::new(),
            DVector::zeros(0),
            DVector::zeros(0),
            DVector::zeros(0),
        );
        let mut cols = DMatrix::zeros(0, 0);
        let mut e = DVector::zeros(n);
        let mut by_hvp = |h: &mut DMatrix<f64>, ws: &mut Workspace<f64>| {
            ready(h, n, n);
            for j in 0..n {
                e[j] = 1.0;
                losses::logistic_hvp_into(x, w, y, lambda, &e, &mut gb, &mut hb, ws);
                e[j] = 0.0;
                h.column_mut(j).copy_from_slice(hb.as_slice());
            }
        };
        by_hvp(&mut cols, &mut ws);
        record(&name, "hvp_columns", &cols, &want, true);
        let mut ws2 = Workspace::new();
        let mut fd = DMatrix::zeros(0, 0);
        let mut pv = w.clone();
        let mut grad_at = |p: &[f64], out: &mut Vec<f64>, ws: &mut Workspace<f64>| {
            pv.copy_from_slice(p);
            losses::logistic_grad_into(x, &pv, y, lambda, &mut k, ws);
            out.clear();
            out.extend_from_slice(k.as_slice());
        };
        finite_diff(w.as_slice(), |p, o| grad_at(p, o, &mut ws2), &mut fd);
        record(&name, "finite_diff", &fd, &want, false);
        let xd = x.map(Dual2DVec64::from_re);
        let dual = |v: DVector<Dual2DVec64>| {
            let z = &xd * &v;
            let mut total = v.dot(&v) * lambda;
            for (zi, yi) in z.iter().zip(y.iter()) {
                total += (zi.clone() * (-yi)).exp().ln_1p();
            }
            total
        };
        if size == 0 {
            let (_, _, hd) = hessian(dual, w);
            let hd = DMatrix::from_column_slice(n, n, hd.as_slice());
            record(&name, "num_dual", &hd, &want, true);
        }
        let mut gr = group(c, "hessian_logistic", size);
        gr.bench_function(BenchmarkId::new("generated", &label), |b| {
            b.iter(|| losses::logistic_hessian(black_box(x), w, y, lambda))
        });
        gr.bench_function(BenchmarkId::new("expert", &label), |b| {
            b.iter(|| ex.logistic(black_box(x), w, y, lambda))
        });
        gr.bench_function(BenchmarkId::new("expert_owned", &label), |b| {
            b.iter(|| {
                let f = ex.logistic(black_box(x), w, y, lambda);
                (f, std::mem::take(&mut ex.g), std::mem::take(&mut ex.h))
            })
        });
        gr.bench_function(BenchmarkId::new("hvp_columns", &label), |b| {
            b.iter(|| by_hvp(&mut cols, &mut ws))
        });
        gr.bench_function(BenchmarkId::new("finite_diff", &label), |b| {
            b.iter(|| {
                finite_diff(
                    black_box(w).as_slice(),
                    |p, o| grad_at(p, o, &mut ws2),
                    &mut fd,
                )
            })
        });
        if size == 0 {
            gr.bench_function(BenchmarkId::new("num_dual", &label), |b| {
                b.iter(|| hessian(dual, black_box(w)))
            });
        }
        gr.finish();
    }
}

fn least_squares(c: &mut Criterion) {
    for size in 0..2 {
        let d = data::least_squares(size);
        let (x, w, y) = (&d.x, &d.w, &d.y);
        let n = w.len();
        let label = format!("{}×{}", x.nrows(), n);
        let name = format!("hessian_least_squares/{}", data::SIZE_NAMES[size]);
        let mut ex = Expert::default();
        let fe = ex.least_squares(x, w, y);
        let want = ex.h.clone();
        let (f, g, h) = losses::least_squares_hessian(x, w, y);
        same_value_and_gradient(&name, (f, g.as_slice()), (fe, ex.g.as_slice()));
        record(&name, "generated", &h, &want, true);
        let (mut ws, mut gb, mut hb, mut k) = (
            Workspace::new(),
            DVector::zeros(0),
            DVector::zeros(0),
            DVector::zeros(0),
        );
        let mut cols = DMatrix::zeros(0, 0);
        let mut e = DVector::zeros(n);
        let mut by_hvp = |h: &mut DMatrix<f64>, ws: &mut Workspace<f64>| {
            ready(h, n, n);
            for j in 0..n {
                e[j] = 1.0;
                losses::least_squares_hvp_into(x, w, y, &e, &mut gb, &mut hb, ws);
                e[j] = 0.0;
                h.column_mut(j).copy_from_slice(hb.as_slice());
            }
        };
        by_hvp(&mut cols, &mut ws);
        record(&name, "hvp_columns", &cols, &want, true);
        let mut ws2 = Workspace::new();
        let mut fd = DMatrix::zeros(0, 0);
        let mut pv = w.clone();
        let mut grad_at = |p: &[f64], out: &mut Vec<f64>, ws: &mut Workspace<f64>| {
            pv.copy_from_slice(p);
            losses::least_squares_grad_into(x, &pv, y, &mut k, ws);
            out.clear();
            out.extend_from_slice(k.as_slice());
        };
        finite_diff(w.as_slice(), |p, o| grad_at(p, o, &mut ws2), &mut fd);
        record(&name, "finite_diff", &fd, &want, false);
        let (xd, yd) = (x.map(Dual2DVec64::from_re), y.map(Dual2DVec64::from_re));
        let dual = |v: DVector<Dual2DVec64>| {
            let r = &xd * &v - &yd;
            r.dot(&r)
        };
        if size == 0 {
            let (_, _, hd) = hessian(dual, w);
            let hd = DMatrix::from_column_slice(n, n, hd.as_slice());
            record(&name, "num_dual", &hd, &want, true);
        }
        let mut gr = group(c, "hessian_least_squares", size);
        gr.bench_function(BenchmarkId::new("generated", &label), |b| {
            b.iter(|| losses::least_squares_hessian(black_box(x), w, y))
        });
        gr.bench_function(BenchmarkId::new("expert", &label), |b| {
            b.iter(|| ex.least_squares(black_box(x), w, y))
        });
        gr.bench_function(BenchmarkId::new("expert_owned", &label), |b| {
            b.iter(|| {
                let f = ex.least_squares(black_box(x), w, y);
                (f, std::mem::take(&mut ex.g), std::mem::take(&mut ex.h))
            })
        });
        gr.bench_function(BenchmarkId::new("hvp_columns", &label), |b| {
            b.iter(|| by_hvp(&mut cols, &mut ws))
        });
        gr.bench_function(BenchmarkId::new("finite_diff", &label), |b| {
            b.iter(|| {
                finite_diff(
                    black_box(w).as_slice(),
                    |p, o| grad_at(p, o, &mut ws2),
                    &mut fd,
                )
            })
        });
        if size == 0 {
            gr.bench_function(BenchmarkId::new("num_dual", &label), |b| {
                b.iter(|| hessian(dual, black_box(w)))
            });
        }
        gr.finish();
    }
}

fn quadratic_form(c: &mut Criterion) {
    for (size, &n) in QUADRATIC_SIZES.iter().enumerate() {
        let a = entries(n, n, 1);
        let x = DVector::from_column_slice(entries(n, 1, 2).as_slice());
        let label = format!("n={n}");
        let name = format!("hessian_quadratic/{}", data::SIZE_NAMES[size]);
        let mut ex = Expert::default();
        let fe = ex.quadratic(&x, &a);
        let want = ex.h.clone();
        let (f, g, h) = quadratic_hessian(&x, &a);
        same_value_and_gradient(&name, (f, g.as_slice()), (fe, ex.g.as_slice()));
        record(&name, "generated", &h, &want, true);
        let (mut ws, mut gb, mut hb, mut k) = (
            Workspace::new(),
            DVector::zeros(0),
            DVector::zeros(0),
            DVector::zeros(0),
        );
        let mut cols = DMatrix::zeros(0, 0);
        let mut e = DVector::zeros(n);
        let mut by_hvp = |h: &mut DMatrix<f64>, ws: &mut Workspace<f64>| {
            ready(h, n, n);
            for j in 0..n {
                e[j] = 1.0;
                quadratic_hvp_into(&x, &a, &e, &mut gb, &mut hb, ws);
                e[j] = 0.0;
                h.column_mut(j).copy_from_slice(hb.as_slice());
            }
        };
        by_hvp(&mut cols, &mut ws);
        record(&name, "hvp_columns", &cols, &want, true);
        let mut ws2 = Workspace::new();
        let mut fd = DMatrix::zeros(0, 0);
        let mut pv = x.clone();
        let mut grad_at = |p: &[f64], out: &mut Vec<f64>, ws: &mut Workspace<f64>| {
            pv.copy_from_slice(p);
            quadratic_grad_into(&pv, &a, &mut k, ws);
            out.clear();
            out.extend_from_slice(k.as_slice());
        };
        finite_diff(x.as_slice(), |p, o| grad_at(p, o, &mut ws2), &mut fd);
        record(&name, "finite_diff", &fd, &want, false);
        let ad = a.map(Dual2DVec64::from_re);
        let dual = |v: DVector<Dual2DVec64>| v.dot(&(&ad * &v));
        if size == 0 {
            let (_, _, hd) = hessian(dual, &x);
            let hd = DMatrix::from_column_slice(n, n, hd.as_slice());
            record(&name, "num_dual", &hd, &want, true);
        }
        let mut gr = group(c, "hessian_quadratic", size);
        gr.bench_function(BenchmarkId::new("generated", &label), |b| {
            b.iter(|| quadratic_hessian(black_box(&x), &a))
        });
        gr.bench_function(BenchmarkId::new("expert", &label), |b| {
            b.iter(|| ex.quadratic(black_box(&x), &a))
        });
        gr.bench_function(BenchmarkId::new("expert_owned", &label), |b| {
            b.iter(|| {
                let f = ex.quadratic(black_box(&x), &a);
                (f, std::mem::take(&mut ex.g), std::mem::take(&mut ex.h))
            })
        });
        gr.bench_function(BenchmarkId::new("hvp_columns", &label), |b| {
            b.iter(|| by_hvp(&mut cols, &mut ws))
        });
        gr.bench_function(BenchmarkId::new("finite_diff", &label), |b| {
            b.iter(|| {
                finite_diff(
                    black_box(&x).as_slice(),
                    |p, o| grad_at(p, o, &mut ws2),
                    &mut fd,
                )
            })
        });
        if size == 0 {
            gr.bench_function(BenchmarkId::new("num_dual", &label), |b| {
                b.iter(|| hessian(dual, black_box(&x)))
            });
        }
        gr.finish();
    }
}

fn kronecker(c: &mut Criterion) {
    for (size, &(m, p, q, r)) in KRON_SIZES.iter().enumerate() {
        let (a, x, b, cc) = (
            entries(m, p, 3),
            entries(p, q, 4),
            entries(q, r, 5),
            entries(m, r, 6),
        );
        let n = p * q;
        let label = format!("{m}×{p}×{q}×{r}");
        let name = format!("hessian_kronecker/{}", data::SIZE_NAMES[size]);
        let mut ex = Expert::default();
        let fe = ex.kron_ls(&a, &x, &b, &cc);
        let want = ex.h.clone();
        let (f, g, h) = kron_ls_hessian(&a, &x, &b, &cc);
        same_value_and_gradient(&name, (f, g.as_slice()), (fe, ex.g.as_slice()));
        record(&name, "generated", &h, &want, true);
        let (mut ws, mut gb, mut hb, mut k) = (
            Workspace::new(),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
        );
        let mut cols = DMatrix::zeros(0, 0);
        let mut e = DMatrix::zeros(p, q);
        let mut by_hvp = |h: &mut DMatrix<f64>, ws: &mut Workspace<f64>| {
            ready(h, n, n);
            for j in 0..n {
                e[j] = 1.0;
                kron_ls_hvp_into(&a, &x, &b, &cc, &e, &mut gb, &mut hb, ws);
                e[j] = 0.0;
                h.column_mut(j).copy_from_slice(hb.as_slice());
            }
        };
        by_hvp(&mut cols, &mut ws);
        record(&name, "hvp_columns", &cols, &want, true);
        let mut ws2 = Workspace::new();
        let mut fd = DMatrix::zeros(0, 0);
        let mut pv = x.clone();
        let mut grad_at = |pt: &[f64], out: &mut Vec<f64>, ws: &mut Workspace<f64>| {
            pv.copy_from_slice(pt);
            kron_ls_grad_into(&a, &pv, &b, &cc, &mut k, ws);
            out.clear();
            out.extend_from_slice(k.as_slice());
        };
        finite_diff(x.as_slice(), |pt, o| grad_at(pt, o, &mut ws2), &mut fd);
        record(&name, "finite_diff", &fd, &want, false);
        let xv = DVector::from_column_slice(x.as_slice());
        let (ad, bd, cd) = (
            a.map(Dual2DVec64::from_re),
            b.map(Dual2DVec64::from_re),
            cc.map(Dual2DVec64::from_re),
        );
        let dual = |v: DVector<Dual2DVec64>| {
            let xd = DMatrix::from_column_slice(p, q, v.as_slice());
            let res = &ad * xd * &bd - &cd;
            res.dot(&res)
        };
        if size == 0 {
            let (_, _, hd) = hessian(dual, &xv);
            let hd = DMatrix::from_column_slice(n, n, hd.as_slice());
            record(&name, "num_dual", &hd, &want, true);
        }
        let mut gr = group(c, "hessian_kronecker", size);
        gr.bench_function(BenchmarkId::new("generated", &label), |bn| {
            bn.iter(|| kron_ls_hessian(&a, black_box(&x), &b, &cc))
        });
        gr.bench_function(BenchmarkId::new("expert", &label), |bn| {
            bn.iter(|| ex.kron_ls(&a, black_box(&x), &b, &cc))
        });
        gr.bench_function(BenchmarkId::new("expert_owned", &label), |bn| {
            bn.iter(|| {
                let f = ex.kron_ls(&a, black_box(&x), &b, &cc);
                (f, std::mem::take(&mut ex.g), std::mem::take(&mut ex.h))
            })
        });
        gr.bench_function(BenchmarkId::new("hvp_columns", &label), |bn| {
            bn.iter(|| by_hvp(&mut cols, &mut ws))
        });
        gr.bench_function(BenchmarkId::new("finite_diff", &label), |bn| {
            bn.iter(|| {
                finite_diff(
                    black_box(&x).as_slice(),
                    |pt, o| grad_at(pt, o, &mut ws2),
                    &mut fd,
                )
            })
        });
        if size == 0 {
            gr.bench_function(BenchmarkId::new("num_dual", &label), |bn| {
                bn.iter(|| hessian(dual, black_box(&xv)))
            });
        }
        gr.finish();
    }
}

criterion_group!(
    benches,
    logistic,
    least_squares,
    quadratic_form,
    kronecker,
    write_accuracy
);
criterion_main!(benches);

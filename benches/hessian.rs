//! Dense Hessians (issue 17): `NAME_hessian` (value, gradient and Hessian, built from
//! the Hessian's structure: `matgrad-core/src/hessian_structure.rs`) against
//!
//! - `expert`: the same three written by hand, the way an expert who knows the
//!   closed form writes them: the forward pass once, the gradient, then the
//!   structured Hessian with `matrixmultiply::dgemm` (transposed operands as swapped
//!   strides), buffers reused: `Xᵀ diag(d) X + 2λI` for logistic regression, `2XᵀX`
//!   for least squares, `A + Aᵀ` for a quadratic form, `2 (BBᵀ) ⊗ (AᵀA)` for a matrix
//!   variable;
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
#[path = "common/losses.rs"]
#[allow(dead_code)]
mod losses;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use matgrad::{grad, Workspace};
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

/// Reused buffers of the hand-written Hessians.
#[derive(Default)]
struct Expert {
    z: DMatrix<f64>,
    s: DMatrix<f64>,
    g: DMatrix<f64>,
    h: DMatrix<f64>,
    t: DMatrix<f64>,
    u: DMatrix<f64>,
    /// The variable as an n×1 matrix, for `dgemm`.
    v: DMatrix<f64>,
}

fn ready(m: &mut DMatrix<f64>, r: usize, c: usize) {
    if m.shape() != (r, c) {
        *m = DMatrix::zeros(r, c);
    }
}

impl Expert {
    /// `Σ softplus(−y ⊙ X w) + λ‖w‖²`: value, `Xᵀ (−y ⊙ σ(−y ⊙ z)) + 2λw`,
    /// `Xᵀ diag(σ(1 − σ)) X + 2λI` (y² = 1).
    fn logistic(
        &mut self,
        x: &DMatrix<f64>,
        w: &DVector<f64>,
        y: &DVector<f64>,
        lambda: f64,
    ) -> f64 {
        let (m, n) = x.shape();
        ready(&mut self.v, n, 1);
        self.v.copy_from_slice(w.as_slice());
        ready(&mut self.z, m, 1);
        dgemm(1.0, x, false, &self.v, false, 0.0, &mut self.z);
        let mut value = lambda * w.norm_squared();
        ready(&mut self.u, m, 1);
        ready(&mut self.s, m, n);
        for i in 0..m {
            let t = -y[i] * self.z[i];
            value += softplus(t);
            let sg = sigma(t);
            self.u[i] = -y[i] * sg;
            let d = sg * (1.0 - sg) * y[i] * y[i];
            for j in 0..n {
                self.s[(i, j)] = d * x[(i, j)];
            }
        }
        ready(&mut self.g, n, 1);
        for j in 0..n {
            self.g[j] = 2.0 * lambda * w[j];
        }
        dgemm(1.0, x, true, &self.u, false, 1.0, &mut self.g);
        ready(&mut self.h, n, n);
        dgemm(1.0, x, true, &self.s, false, 0.0, &mut self.h);
        for j in 0..n {
            self.h[(j, j)] += 2.0 * lambda;
        }
        value
    }

    /// `‖X w − y‖²`: value, `2 Xᵀ r`, `2 XᵀX`.
    fn least_squares(&mut self, x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
        let (m, n) = x.shape();
        ready(&mut self.v, n, 1);
        self.v.copy_from_slice(w.as_slice());
        ready(&mut self.z, m, 1);
        self.z.copy_from_slice(y.as_slice());
        dgemm(1.0, x, false, &self.v, false, -1.0, &mut self.z);
        let value = self.z.norm_squared();
        ready(&mut self.g, n, 1);
        dgemm(2.0, x, true, &self.z, false, 0.0, &mut self.g);
        ready(&mut self.h, n, n);
        dgemm(2.0, x, true, x, false, 0.0, &mut self.h);
        value
    }

    /// `xᵀ A x`: value `x · (A x)`, `A x + Aᵀ x`, `A + Aᵀ`.
    fn quadratic(&mut self, x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
        let n = x.len();
        ready(&mut self.v, n, 1);
        self.v.copy_from_slice(x.as_slice());
        ready(&mut self.z, n, 1);
        dgemm(1.0, a, false, &self.v, false, 0.0, &mut self.z);
        let value: f64 = x.iter().zip(self.z.iter()).map(|(p, q)| p * q).sum();
        ready(&mut self.g, n, 1);
        self.g.copy_from(&self.z);
        dgemm(1.0, a, true, &self.v, false, 1.0, &mut self.g);
        ready(&mut self.h, n, n);
        for j in 0..n {
            for i in 0..n {
                self.h[(i, j)] = a[(i, j)] + a[(j, i)];
            }
        }
        value
    }

    /// `‖A X B − C‖²`: value, `2 Aᵀ R Bᵀ`, `2 (B Bᵀ) ⊗ (AᵀA)`.
    fn kron_ls(
        &mut self,
        a: &DMatrix<f64>,
        x: &DMatrix<f64>,
        b: &DMatrix<f64>,
        c: &DMatrix<f64>,
    ) -> f64 {
        let ((m, p), (q, r)) = (a.shape(), b.shape());
        ready(&mut self.t, m, q);
        dgemm(1.0, a, false, x, false, 0.0, &mut self.t);
        ready(&mut self.z, m, r);
        self.z.copy_from(c);
        dgemm(1.0, &self.t, false, b, false, -1.0, &mut self.z);
        let value = self.z.norm_squared();
        ready(&mut self.u, p, r);
        dgemm(1.0, a, true, &self.z, false, 0.0, &mut self.u);
        ready(&mut self.g, p, q);
        dgemm(2.0, &self.u, false, b, true, 0.0, &mut self.g);
        ready(&mut self.s, p, p);
        dgemm(1.0, a, true, a, false, 0.0, &mut self.s);
        ready(&mut self.t, q, q);
        dgemm(2.0, b, false, b, true, 0.0, &mut self.t);
        let n = p * q;
        ready(&mut self.h, n, n);
        for l in 0..q {
            for j in 0..q {
                let y = self.t[(j, l)];
                for k in 0..p {
                    for i in 0..p {
                        self.h[(i + p * j, k + p * l)] = y * self.s[(i, k)];
                    }
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
        assert!((f - fe).abs() <= 1e-10 * fe.abs().max(1.0), "{name}: value");
        assert!(
            (g.as_slice().iter().zip(ex.g.iter()))
                .all(|(a, b)| (a - b).abs() <= 1e-10 * b.abs().max(1.0)),
            "{name}: gradient"
        );
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
        let (f, _, h) = losses::least_squares_hessian(x, w, y);
        assert!((f - fe).abs() <= 1e-10 * fe.abs().max(1.0), "{name}: value");
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
        let (f, _, h) = quadratic_hessian(&x, &a);
        assert!((f - fe).abs() <= 1e-10 * fe.abs().max(1.0), "{name}: value");
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
        let (f, _, h) = kron_ls_hessian(&a, &x, &b, &cc);
        assert!((f - fe).abs() <= 1e-10 * fe.abs().max(1.0), "{name}: value");
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

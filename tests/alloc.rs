//! `NAME_grad_into` allocates nothing once its workspace and gradient buffers have
//! their shapes, for every benchmark workload (the losses of `benches/common/`, on the
//! benchmarks' own inputs); `NAME_grad` allocates only the gradients it returns.
//!
//! The static-size workloads (`benches/common/static_losses.rs`) allocate nothing at
//! all, from the first call of either companion on.
//!
//! `NAME_jacobian_into` (the residuals of `benches/common/jacobian_residuals.rs`)
//! allocates nothing once warm either, in the structured form, in forward and in
//! reverse mode; a static one never does.
//!
//! A counting global allocator counts the allocations of the calling thread only, so
//! the test harness's other threads do not disturb the count.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "../benches/common/algebra_data.rs"]
#[allow(dead_code)]
mod algebra_data;
#[path = "../benches/common/algebra_losses.rs"]
#[allow(dead_code)]
mod algebra_losses;
#[path = "../benches/common/data.rs"]
#[allow(dead_code)]
mod data;
#[path = "../benches/common/jacobian_residuals.rs"]
#[allow(dead_code)]
mod jacobian_residuals;
#[path = "../benches/common/losses.rs"]
#[allow(dead_code)]
mod losses;
#[path = "../benches/common/rnn_losses.rs"]
#[allow(dead_code)]
mod rnn_losses;
#[path = "../benches/common/static_losses.rs"]
#[allow(dead_code)]
mod static_losses;

use matgrad::Workspace;
use nalgebra::{DMatrix, DVector, RowDVector};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` unchanged; the count is a side effect on a
// thread-local `Cell` without a destructor, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

/// Runs `into` three times on the same buffers: the first call may allocate (the
/// workspace, the gradients, the product kernel's packing buffers), the next two must
/// not, and all three return the same value. Then `grad` (warmed up by one call) must
/// allocate exactly its `outputs` returned gradients and agree with `into`.
fn check(name: &str, outputs: usize, mut into: impl FnMut() -> f64, grad: impl Fn() -> f64) {
    let (first, v0) = allocations(&mut into);
    assert!(first > 0, "{name}: the first call fills the workspace");
    for call in 2..=3 {
        let (n, v) = allocations(&mut into);
        assert_eq!(
            n, 0,
            "{name}: call {call} of _grad_into allocated {n} times"
        );
        assert_eq!(
            v.to_bits(),
            v0.to_bits(),
            "{name}: call {call} changed the value"
        );
    }
    let _ = grad();
    let (n, v) = allocations(&grad);
    assert_eq!(
        n, outputs,
        "{name}: _grad allocated {n} times for {outputs} gradients"
    );
    assert_eq!(
        v.to_bits(),
        v0.to_bits(),
        "{name}: _grad and _grad_into disagree"
    );
}

/// Every benchmark size: small, medium and large (the sizes `benches/workloads.rs`
/// times; the large ones take a few seconds each in an unoptimised test build).
const SIZES: [usize; 3] = [0, 1, 2];

#[test]
fn two_layer_grad_into_allocates_nothing() {
    for size in SIZES {
        let d = data::two_layer(size);
        let (mut g1, mut g2, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("two_layer {size}"),
            2,
            || losses::two_layer_grad_into(&d.x, &d.w1, &d.w2, &d.y, &mut g1, &mut g2, &mut ws),
            || losses::two_layer_grad(&d.x, &d.w1, &d.w2, &d.y).0,
        );
    }
}

#[test]
fn mlp_grad_into_allocates_nothing() {
    for size in SIZES {
        let d = data::mlp(size);
        let (mut g1, mut g2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let (mut gb1, mut gb2) = (RowDVector::zeros(0), RowDVector::zeros(0));
        let mut ws = Workspace::new();
        check(
            &format!("mlp {size}"),
            4,
            || {
                losses::mlp_grad_into(
                    &d.x, &d.w1, &d.b1, &d.w2, &d.b2, &d.y, &mut g1, &mut gb1, &mut g2, &mut gb2,
                    &mut ws,
                )
            },
            || losses::mlp_grad(&d.x, &d.w1, &d.b1, &d.w2, &d.b2, &d.y).0,
        );
    }
}

#[test]
fn regressions_grad_into_allocate_nothing() {
    for size in SIZES {
        let d = data::least_squares(size);
        let (mut g, mut ws) = (DVector::zeros(0), Workspace::new());
        check(
            &format!("least_squares {size}"),
            1,
            || losses::least_squares_grad_into(&d.x, &d.w, &d.y, &mut g, &mut ws),
            || losses::least_squares_grad(&d.x, &d.w, &d.y).0,
        );
        let d = data::logistic(size);
        let (mut g, mut ws) = (DVector::zeros(0), Workspace::new());
        check(
            &format!("logistic {size}"),
            1,
            || losses::logistic_grad_into(&d.x, &d.w, &d.y, d.lambda, &mut g, &mut ws),
            || losses::logistic_grad(&d.x, &d.w, &d.y, d.lambda).0,
        );
    }
}

#[test]
fn traces_and_ln_det_grad_into_allocate_nothing() {
    for size in SIZES {
        let d = data::trace_axb(size);
        let (mut g, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("trace_axb {size}"),
            1,
            || losses::trace_axb_grad_into(&d.a, &d.x, &d.b, &mut g, &mut ws),
            || losses::trace_axb_grad(&d.a, &d.x, &d.b).0,
        );
        let d = data::ln_det(size);
        let (mut g, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("ln_det {size}"),
            1,
            || losses::ln_det_trace_grad_into(&d.x, &d.s, &mut g, &mut ws),
            || losses::ln_det_trace_grad(&d.x, &d.s).0,
        );
    }
}

#[test]
fn dictionary_grad_into_allocates_nothing() {
    for size in SIZES {
        let d = data::dictionary(size);
        let (mut gd, mut gr, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("dictionary {size}"),
            2,
            || losses::dictionary_grad_into(&d.x, &d.d, &d.r, d.lambda, &mut gd, &mut gr, &mut ws),
            || losses::dictionary_grad(&d.x, &d.d, &d.r, d.lambda).0,
        );
    }
}

#[test]
fn low_rank_grad_into_allocates_nothing() {
    for size in SIZES {
        let d = data::low_rank(size);
        let (mut gu, mut gv, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("low_rank {size}"),
            2,
            || losses::low_rank_grad_into(&d.u, &d.v, &d.m, d.lambda, &mut gu, &mut gv, &mut ws),
            || losses::low_rank_grad(&d.u, &d.v, &d.m, d.lambda).0,
        );
    }
}

/// Under `reassociate` the inverse of the Gaussian negative log-likelihood is an LU
/// factorisation and solves, kept in the workspace: nothing allocates after the first
/// call. (The default computes `try_inverse` as written, and nalgebra's inverse
/// allocates a copy for n > 4.)
#[test]
fn solves_grad_into_allocate_nothing() {
    let (s, v) = algebra_data::gaussian_nll();
    let (mut gs, mut gv, mut ws) = (DMatrix::zeros(0, 0), DVector::zeros(0), Workspace::new());
    check(
        "gaussian_nll_re",
        2,
        || algebra_losses::gaussian_nll_re_grad_into(&s, &v, &mut gs, &mut gv, &mut ws),
        || algebra_losses::gaussian_nll_re_grad(&s, &v).0,
    );
}

/// Asserts that the first and a later call of `f` allocate nothing, and agree.
fn never_allocates(name: &str, mut f: impl FnMut() -> f64) {
    let (first, v0) = allocations(&mut f);
    let (second, v1) = allocations(&mut f);
    assert_eq!((first, second), (0, 0), "{name} allocated");
    assert_eq!(v0.to_bits(), v1.to_bits(), "{name}: the value changed");
}

#[test]
fn static_sizes_allocate_nothing() {
    use nalgebra::{Matrix3, Matrix6, SMatrix, Vector3, Vector6};
    use static_losses::POINTS;
    let entry = |i: usize, j: usize| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4;
    let r = Matrix3::from_fn(entry);
    let t = Vector3::from_fn(entry);
    let p = SMatrix::<f64, 3, POINTS>::from_fn(entry);
    let q = SMatrix::<f64, 3, POINTS>::from_fn(|i, j| entry(j, i));
    let w = Matrix6::from_fn(entry) + Matrix6::identity() * 3.0;
    let (x6, y6) = (
        Vector6::from_fn(entry),
        Vector6::from_fn(|i, j| entry(j, i)),
    );
    let mut ws = Workspace::new();
    never_allocates("pose_grad", || static_losses::pose_grad(&r, &t, &p, &q).0);
    let (mut gr, mut gt) = (Matrix3::zeros(), Vector3::zeros());
    never_allocates("pose_grad_into", || {
        static_losses::pose_grad_into(&r, &t, &p, &q, &mut gr, &mut gt, &mut ws)
    });
    never_allocates("quadratic3_grad", || {
        static_losses::quadratic3_grad(&t, &r).0
    });
    never_allocates("quadratic6_grad", || {
        static_losses::quadratic6_grad(&x6, &w).0
    });
    never_allocates("layer6_grad", || static_losses::layer6_grad(&w, &x6, &y6).0);
    never_allocates("ln_det6_grad", || static_losses::ln_det6_grad(&w).0);
    let (mut gw, mut gx) = (Matrix6::zeros(), Vector6::zeros());
    never_allocates("layer6_grad_into", || {
        static_losses::layer6_grad_into(&w, &x6, &y6, &mut gw, &mut gx, &mut ws)
    });
}

/// Static and dynamic sizes in one function: the dynamic path, static parameters read
/// in place, their gradients copied out of the workspace.
#[matgrad::grad(wrt = (x, w))]
fn mixed(x: &DMatrix<f64>, w: &nalgebra::Matrix3<f64>, b: &nalgebra::RowVector3<f64>) -> f64 {
    matgrad::add_row(&(x * w), b)
        .map(|v| v.tanh())
        .norm_squared()
}

#[test]
fn mixed_sizes_grad_into_allocates_nothing() {
    let x = DMatrix::from_fn(5, 3, |i, j| (i as f64 - j as f64) / 5.0);
    let w = nalgebra::Matrix3::from_fn(|i, j| 0.1 * (i + 2 * j) as f64);
    let b = nalgebra::RowVector3::new(0.1, -0.2, 0.3);
    let (mut gx, mut gw, mut ws) = (
        DMatrix::zeros(0, 0),
        nalgebra::Matrix3::zeros(),
        Workspace::new(),
    );
    check(
        "mixed",
        1,
        || mixed_grad_into(&x, &w, &b, &mut gx, &mut gw, &mut ws),
        || mixed_grad(&x, &w, &b).0,
    );
    assert_eq!(
        mixed_grad(&x, &w, &b).0.to_bits(),
        mixed(&x, &w, &b).to_bits()
    );
}

/// A chain of four under `reassociate` (one `chain` node: its kept products and their
/// adjoints live in the workspace).
#[matgrad::grad(wrt = (a, b, c, d), reassociate)]
fn chain4(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, d: &DMatrix<f64>) -> f64 {
    (a * b * c * d).sum()
}

/// `xᵀ a b x` under `reassociate`.
#[matgrad::grad(wrt = x, reassociate)]
fn xabx(x: &DVector<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * b * x)[(0, 0)]
}

#[test]
fn reassociated_chains_allocate_nothing() {
    let m =
        |r: usize, c: usize| DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0);
    for (p, q) in [(40, 4), (4, 40), (9, 9)] {
        let (a, b, c, d) = (m(p, q), m(q, p), m(p, q), m(q, p));
        let mut g = [0; 4].map(|_| DMatrix::zeros(0, 0));
        let [ga, gb, gc, gd] = &mut g;
        let mut ws = Workspace::new();
        check(
            &format!("chain4 {p}×{q}"),
            4,
            || chain4_grad_into(&a, &b, &c, &d, ga, gb, gc, gd, &mut ws),
            || chain4_grad(&a, &b, &c, &d).0,
        );
    }
    let (x, a, b) = (
        DVector::from_fn(30, |i, _| i as f64 / 30.0),
        m(30, 30),
        m(30, 30),
    );
    let (mut g, mut ws) = (DVector::zeros(0), Workspace::new());
    check(
        "xabx",
        1,
        || xabx_grad_into(&x, &a, &b, &mut g, &mut ws),
        || xabx_grad(&x, &a, &b).0,
    );
}

/// The language of SPEC §8 in one generic function: a batch mean, an identity, a
/// column, a view, the diagonal, line means, `max`, `abs`, `zip_map` and a piecewise
/// closure.
#[matgrad::grad(wrt = w)]
fn language<T: nalgebra::RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<T>, j: usize) -> T {
    let n = T::from_usize(x.nrows()).unwrap();
    let z = x * w;
    let d = T::from_f64(0.5).unwrap();
    let huber = z.map(|v| if v.abs() <= d { v * v } else { d * v.abs() });
    let s = w.rows(0, w.ncols()) - DMatrix::<T>::identity(w.ncols(), w.ncols());
    huber.sum() / n
        + s.norm_squared()
        + w.column(j).norm_squared()
        + w.view((0, 0), (1, 1)).sum()
        + s.diagonal().sum()
        + z.row_mean().norm_squared()
        + z.column_mean().norm_squared()
        + z.max()
        + z.abs().sum()
        + z.zip_map(&z, |p, q| p * q).sum()
}

#[test]
fn language_grad_into_allocates_nothing() {
    let m = |r: usize, c: usize| {
        DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4)
    };
    for (rows, k, cols) in [(1, 1, 1), (40, 12, 8), (200, 30, 20)] {
        let (x, w) = (m(rows, k), m(k, cols));
        let (mut g, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("language f64 {rows}×{k}×{cols}"),
            1,
            || language_grad_into(&x, &w, cols - 1, &mut g, &mut ws),
            || language_grad(&x, &w, cols - 1).0,
        );
        let (x, w) = (x.cast::<f32>(), w.cast::<f32>());
        let (mut g, mut ws) = (DMatrix::zeros(0, 0), Workspace::new());
        check(
            &format!("language f32 {rows}×{k}×{cols}"),
            1,
            || f64::from(language_grad_into(&x, &w, cols - 1, &mut g, &mut ws)),
            || f64::from(language_grad(&x, &w, cols - 1).0),
        );
    }
}

/// A loop with a run-time trip count (the `rnn` benchmark's loss, T = 10 and 100):
/// its saved iterations and the per-iteration workspaces of its body are the
/// workspace's, so once the trip count is steady `_grad_into` allocates nothing; a
/// shorter sequence on the same workspace allocates nothing either.
#[test]
fn run_time_loop_grad_into_allocates_nothing() {
    for steps in [10, 100] {
        let p = rnn_losses::inputs(steps);
        let (xs, y, w, u, b, wo, bo) = (&p.xs, &p.y, &p.w, &p.u, &p.b, &p.wo, p.bo);
        let mut ws = Workspace::new();
        let (mut gw, mut gu, mut gb) = (
            DMatrix::zeros(0, 0),
            RowDVector::zeros(0),
            RowDVector::zeros(0),
        );
        let (mut gwo, mut gbo) = (DVector::zeros(0), 0.0);
        check(
            &format!("rnn T = {steps}"),
            4,
            || {
                rnn_losses::rnn_grad_into(
                    xs, y, w, u, b, wo, bo, &mut gw, &mut gu, &mut gb, &mut gwo, &mut gbo, &mut ws,
                )
            },
            || rnn_losses::rnn_grad(xs, y, w, u, b, wo, bo).0,
        );
        let shorter = xs.columns(0, steps / 2).into_owned();
        let (n, _) = allocations(|| {
            rnn_losses::rnn_grad_into(
                &shorter, y, w, u, b, wo, bo, &mut gw, &mut gu, &mut gb, &mut gwo, &mut gbo,
                &mut ws,
            )
        });
        assert_eq!(
            n,
            0,
            "rnn: {} steps after {steps} allocated {n} times",
            steps / 2
        );
    }
}

/// `NAME_hvp_into` through a run-time loop (the `rnn` loss at T = 10): the loop's
/// tangent, a loop of its own, keeps its saved iterations in the workspace too.
#[test]
fn run_time_loop_hvp_into_allocates_nothing() {
    let p = rnn_losses::inputs(10);
    let (xs, y, w, u, b, wo, bo) = (&p.xs, &p.y, &p.w, &p.u, &p.b, &p.wo, p.bo);
    let (vw, vu, vb, vwo, vbo) = (w * 0.5, u * 0.5, b * 0.5, wo * 0.5, 0.5);
    let mut ws = Workspace::new();
    let (mut gw, mut gu, mut gb, mut gwo, mut gbo) = (
        DMatrix::zeros(0, 0),
        RowDVector::zeros(0),
        RowDVector::zeros(0),
        DVector::zeros(0),
        0.0,
    );
    let (mut hw, mut hu, mut hb, mut hwo, mut hbo) = (
        DMatrix::zeros(0, 0),
        RowDVector::zeros(0),
        RowDVector::zeros(0),
        DVector::zeros(0),
        0.0,
    );
    // `_hvp` returns eight matrices (the two scalars' gradient and product are not
    // allocated).
    check(
        "rnn hvp T = 10",
        8,
        || {
            rnn_losses::rnn_hvp_into(
                xs, y, w, u, b, wo, bo, &vw, &vu, &vb, &vwo, vbo, &mut gw, &mut gu, &mut gb,
                &mut gwo, &mut gbo, &mut hw, &mut hu, &mut hb, &mut hwo, &mut hbo, &mut ws,
            )
        },
        || rnn_losses::rnn_hvp(xs, y, w, u, b, wo, bo, &vw, &vu, &vb, &vwo, vbo).0,
    );
}

/// `NAME_hvp_into` (SPEC §10) allocates nothing once its workspace and output buffers
/// have their shapes, on the workloads with `hvp`: the tangent graph is emitted by the
/// same backend as the gradient. `NAME_hvp` allocates exactly its `2k` outputs.
#[test]
fn hvp_into_allocates_nothing() {
    for size in [0, 1] {
        let d = data::two_layer(size);
        let (va, vb) = (d.w1.map(|x| 0.5 - x), d.w2.map(|x| x * 0.25));
        let mut g = [0; 4].map(|_| DMatrix::zeros(0, 0));
        let [g1, g2, h1, h2] = &mut g;
        let mut ws = Workspace::new();
        check(
            &format!("two_layer hvp {size}"),
            4,
            || {
                losses::two_layer_hvp_into(
                    &d.x, &d.w1, &d.w2, &d.y, &va, &vb, g1, g2, h1, h2, &mut ws,
                )
            },
            || losses::two_layer_hvp(&d.x, &d.w1, &d.w2, &d.y, &va, &vb).0,
        );
        let d = data::mlp(size);
        let (v1, vb1, v2, vb2) = (
            d.w1.map(|x| -x),
            d.b1.map(|x| x + 1.0),
            d.w2.map(|x| x * 2.0),
            d.b2.map(|x| 1.0 - x),
        );
        let mut gm = [0; 4].map(|_| DMatrix::zeros(0, 0));
        let mut gr = [0; 4].map(|_| RowDVector::zeros(0));
        let ([g1, g2, h1, h2], [gb1, gb2, hb1, hb2]) = (&mut gm, &mut gr);
        let mut ws = Workspace::new();
        check(
            &format!("mlp hvp {size}"),
            8,
            || {
                losses::mlp_hvp_into(
                    &d.x, &d.w1, &d.b1, &d.w2, &d.b2, &d.y, &v1, &vb1, &v2, &vb2, g1, gb1, g2, gb2,
                    h1, hb1, h2, hb2, &mut ws,
                )
            },
            || losses::mlp_hvp(&d.x, &d.w1, &d.b1, &d.w2, &d.b2, &d.y, &v1, &vb1, &v2, &vb2).0,
        );
        let d = data::logistic(size);
        let v = d.w.map(|x| x - 0.5);
        let (mut g, mut h, mut ws) = (DVector::zeros(0), DVector::zeros(0), Workspace::new());
        check(
            &format!("logistic hvp {size}"),
            2,
            || losses::logistic_hvp_into(&d.x, &d.w, &d.y, d.lambda, &v, &mut g, &mut h, &mut ws),
            || losses::logistic_hvp(&d.x, &d.w, &d.y, d.lambda, &v).0,
        );
        let d = data::dictionary(size);
        let (vd, vr) = (d.d.map(|x| x * x), d.r.map(|x| -x));
        let mut g = [0; 4].map(|_| DMatrix::zeros(0, 0));
        let [gd, gr, hd, hr] = &mut g;
        let mut ws = Workspace::new();
        check(
            &format!("dictionary hvp {size}"),
            4,
            || {
                losses::dictionary_hvp_into(
                    &d.x, &d.d, &d.r, d.lambda, &vd, &vr, gd, gr, hd, hr, &mut ws,
                )
            },
            || losses::dictionary_hvp(&d.x, &d.d, &d.r, d.lambda, &vd, &vr).0,
        );
        // The tangent of `ln_det` needs `X⁻¹`: from matgrad's factorisation in the
        // workspace (`Op::FactorInverse`), not nalgebra's allocating `try_inverse`.
        let d = data::ln_det(size);
        let v = d.x.map(|x| x * 0.5);
        let mut g = [0; 2].map(|_| DMatrix::zeros(0, 0));
        let [gx, hx] = &mut g;
        let mut ws = Workspace::new();
        check(
            &format!("ln_det hvp {size}"),
            2,
            || losses::ln_det_trace_hvp_into(&d.x, &d.s, &v, gx, hx, &mut ws),
            || losses::ln_det_trace_hvp(&d.x, &d.s, &v).0,
        );
    }
}

/// Runs `into` three times on the same buffers: the first call may allocate, the next
/// two must not, and all three write the same residuals and Jacobian (`read` gives
/// them).
fn jacobian_steady(
    name: &str,
    mut into: impl FnMut(),
    read: impl Fn() -> (DVector<f64>, DMatrix<f64>),
) {
    let (first, ()) = allocations(&mut into);
    assert!(
        first > 0,
        "{name}: the first call fills the workspace and the outputs"
    );
    let want = read();
    for call in 2..=3 {
        let (n, ()) = allocations(&mut into);
        assert_eq!(
            n, 0,
            "{name}: call {call} of _jacobian_into allocated {n} times"
        );
        assert!(read() == want, "{name}: call {call} changed the result");
    }
}

#[test]
fn jacobian_into_allocates_nothing_in_either_mode() {
    use jacobian_residuals::*;
    use std::cell::RefCell;
    let f = exp_data(300);
    let g = dense_data(50, 6);
    let out = RefCell::new((DVector::zeros(0), DMatrix::zeros(0, 0)));
    let read = || out.borrow().clone();
    // The form the costs choose (structured, for both), then each mode forced.
    let mut ws = Workspace::new();
    jacobian_steady(
        "exp_rational",
        || {
            let (r, j) = &mut *out.borrow_mut();
            exp_rational_jacobian_into(&f.p, &f.t, &f.y, r, j, &mut ws);
        },
        read,
    );
    let mut ws = Workspace::new();
    jacobian_steady(
        "exp_rational, forward",
        || {
            let (r, j) = &mut *out.borrow_mut();
            exp_rational_fwd_jacobian_into(&f.p, &f.t, &f.y, r, j, &mut ws);
        },
        read,
    );
    let mut ws = Workspace::new();
    jacobian_steady(
        "exp_rational, reverse",
        || {
            let (r, j) = &mut *out.borrow_mut();
            exp_rational_rev_jacobian_into(&f.p, &f.t, &f.y, r, j, &mut ws);
        },
        read,
    );
    let mut ws = Workspace::new();
    jacobian_steady(
        "dense",
        || {
            let (r, j) = &mut *out.borrow_mut();
            dense_jacobian_into(&g.p, &g.x, &g.y, r, j, &mut ws);
        },
        read,
    );
    let mut ws = Workspace::new();
    jacobian_steady(
        "dense, forward",
        || {
            let (r, j) = &mut *out.borrow_mut();
            dense_fwd_jacobian_into(&g.p, &g.x, &g.y, r, j, &mut ws);
        },
        read,
    );
    let mut ws = Workspace::new();
    jacobian_steady(
        "dense, reverse",
        || {
            let (r, j) = &mut *out.borrow_mut();
            dense_rev_jacobian_into(&g.p, &g.x, &g.y, r, j, &mut ws);
        },
        read,
    );
}

/// Forward mode on static sizes (one variable entry, six residuals).
#[matgrad::jacobian(wrt = theta)]
fn rotate(theta: f64, p: &nalgebra::SMatrix<f64, 2, 3>) -> nalgebra::Vector6<f64> {
    let (c, s) = (theta.cos(), theta.sin());
    let q = nalgebra::Matrix2::new(c, -s, s, c) * p;
    nalgebra::Vector6::new(
        q[(0, 0)],
        q[(1, 0)],
        q[(0, 1)],
        q[(1, 1)],
        q[(0, 2)],
        q[(1, 2)],
    )
}

/// Reverse mode on static sizes (twelve variable entries, three residuals).
#[matgrad::jacobian(wrt = (r, t))]
fn transform(
    r: &nalgebra::Matrix3<f64>,
    t: &nalgebra::Vector3<f64>,
    p: &nalgebra::Vector3<f64>,
) -> nalgebra::Vector3<f64> {
    r * p + t
}

#[test]
fn static_jacobians_never_allocate() {
    use nalgebra::{Matrix3, SMatrix, Vector3, Vector6};
    let p = SMatrix::<f64, 2, 3>::from_fn(|i, j| (i + 2 * j) as f64 - 1.5);
    never_allocates("rotate_jacobian", || rotate_jacobian(0.3, &p).1[(4, 0)]);
    let (mut r, mut j, mut ws) = (
        Vector6::zeros(),
        SMatrix::<f64, 6, 1>::zeros(),
        Workspace::new(),
    );
    never_allocates("rotate_jacobian_into", || {
        rotate_jacobian_into(0.3, &p, &mut r, &mut j, &mut ws);
        j[(4, 0)]
    });
    let (rot, t, q) = (
        Matrix3::identity() * 2.0,
        Vector3::new(0.1, 0.2, 0.3),
        Vector3::new(1.0, -1.0, 0.5),
    );
    never_allocates("transform_jacobian", || {
        transform_jacobian(&rot, &t, &q).1[(0, 3)]
    });
    let (mut v, mut jr, mut jt) = (
        Vector3::zeros(),
        SMatrix::<f64, 3, 9>::zeros(),
        Matrix3::zeros(),
    );
    never_allocates("transform_jacobian_into", || {
        transform_jacobian_into(&rot, &t, &q, &mut v, &mut jr, &mut jt, &mut ws);
        jr[(0, 3)] + jt[(2, 2)]
    });
}

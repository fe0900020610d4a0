//! Second order (SPEC §10): the time of `NAME_hvp_into` ÷ the time of
//! `NAME_grad_into` on the benchmark workloads (`benches/common/`), each at its small
//! and medium size, and of `NAME_hessian` ÷ `NAME_grad_into` for the regressions. The
//! HVP is reverse mode over the forward-mode tangent (see `matgrad-core/src/tangent.rs`);
//! the target of issue 17 is at most 2.5×.
//!
//! `cargo bench --bench hvp` prints one line per workload: the median over repeated
//! batches of each, and their ratio. Plain timing (no criterion): the ratio is what
//! matters, and both sides are timed the same way, interleaved.

#[path = "common/data.rs"]
#[allow(dead_code)]
mod data;
#[path = "common/losses.rs"]
#[allow(dead_code)]
mod losses;
#[path = "common/rnn_losses.rs"]
#[allow(dead_code)]
mod rnn_losses;

use matgrad::Workspace;
use nalgebra::{DMatrix, DVector, RowDVector};
use std::hint::black_box;
use std::time::Instant;

/// The median time of one call of `f`, in seconds, over batches of calls long
/// enough to time (after a warm-up, so workspaces are filled).
fn median(mut f: impl FnMut() -> f64) -> f64 {
    for _ in 0..3 {
        black_box(f());
    }
    let start = Instant::now();
    let mut reps = 0usize;
    while start.elapsed().as_secs_f64() < 0.05 {
        black_box(f());
        reps += 1;
    }
    let reps = reps.max(1);
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                black_box(f());
            }
            t.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn row(name: &str, grad: f64, other: f64, what: &str) {
    println!(
        "{name:<24} grad {:>10.2} µs   {what} {:>10.2} µs   ratio {:>5.2}×",
        grad * 1e6,
        other * 1e6,
        other / grad
    );
}

fn main() {
    for size in [0, 1] {
        let d = data::two_layer(size);
        let (va, vb) = (d.w1.map(|x| 0.5 - x), d.w2.map(|x| x * 0.25));
        let mut b = [0; 6].map(|_| DMatrix::zeros(0, 0));
        let [g1, g2, h1, h2, k1, k2] = &mut b;
        let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
        let tg = median(|| losses::two_layer_grad_into(&d.x, &d.w1, &d.w2, &d.y, k1, k2, &mut ws2));
        let th = median(|| {
            losses::two_layer_hvp_into(&d.x, &d.w1, &d.w2, &d.y, &va, &vb, g1, g2, h1, h2, &mut ws)
        });
        row(&format!("two_layer/{size}"), tg, th, "hvp");

        let d = data::mlp(size);
        let (v1, vb1, v2, vb2) = (
            d.w1.map(|x| -x),
            d.b1.map(|x| x + 1.0),
            d.w2.map(|x| x * 2.0),
            d.b2.map(|x| 1.0 - x),
        );
        let mut m = [0; 6].map(|_| DMatrix::zeros(0, 0));
        let mut r = [0; 6].map(|_| RowDVector::zeros(0));
        let ([g1, g2, h1, h2, k1, k2], [gb1, gb2, hb1, hb2, kb1, kb2]) = (&mut m, &mut r);
        let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
        let tg = median(|| {
            losses::mlp_grad_into(
                &d.x, &d.w1, &d.b1, &d.w2, &d.b2, &d.y, k1, kb1, k2, kb2, &mut ws2,
            )
        });
        let th = median(|| {
            losses::mlp_hvp_into(
                &d.x, &d.w1, &d.b1, &d.w2, &d.b2, &d.y, &v1, &vb1, &v2, &vb2, g1, gb1, g2, gb2, h1,
                hb1, h2, hb2, &mut ws,
            )
        });
        row(&format!("mlp/{size}"), tg, th, "hvp");

        for (name, d) in [
            ("least_squares", data::least_squares(size)),
            ("logistic", data::logistic(size)),
        ] {
            let v = d.w.map(|x| x - 0.5);
            let mut b = [0; 3].map(|_| DVector::zeros(0));
            let [g, h, k] = &mut b;
            let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
            let (tg, th, tf) = if name == "logistic" {
                (
                    median(|| losses::logistic_grad_into(&d.x, &d.w, &d.y, d.lambda, k, &mut ws2)),
                    median(|| {
                        losses::logistic_hvp_into(&d.x, &d.w, &d.y, d.lambda, &v, g, h, &mut ws)
                    }),
                    median(|| losses::logistic_hessian(&d.x, &d.w, &d.y, d.lambda).0),
                )
            } else {
                (
                    median(|| losses::least_squares_grad_into(&d.x, &d.w, &d.y, k, &mut ws2)),
                    median(|| losses::least_squares_hvp_into(&d.x, &d.w, &d.y, &v, g, h, &mut ws)),
                    median(|| losses::least_squares_hessian(&d.x, &d.w, &d.y).0),
                )
            };
            row(&format!("{name}/{size}"), tg, th, "hvp");
            row(
                &format!("{name}/{size} (n={})", d.w.len()),
                tg,
                tf,
                "hessian",
            );
        }

        let d = data::dictionary(size);
        let (vd, vr) = (d.d.map(|x| x * x), d.r.map(|x| -x));
        let mut b = [0; 6].map(|_| DMatrix::zeros(0, 0));
        let [gd, gr, hd, hr, kd, kr] = &mut b;
        let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
        let tg =
            median(|| losses::dictionary_grad_into(&d.x, &d.d, &d.r, d.lambda, kd, kr, &mut ws2));
        let th = median(|| {
            losses::dictionary_hvp_into(
                &d.x, &d.d, &d.r, d.lambda, &vd, &vr, gd, gr, hd, hr, &mut ws,
            )
        });
        row(&format!("dictionary/{size}"), tg, th, "hvp");

        let d = data::trace_axb(size);
        let v = d.x.map(|x| x * 0.5);
        let mut b = [0; 3].map(|_| DMatrix::zeros(0, 0));
        let [g, h, k] = &mut b;
        let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
        let tg = median(|| losses::trace_axb_grad_into(&d.a, &d.x, &d.b, k, &mut ws2));
        let th = median(|| losses::trace_axb_hvp_into(&d.a, &d.x, &d.b, &v, g, h, &mut ws));
        row(&format!("trace_axb/{size}"), tg, th, "hvp");

        let d = data::ln_det(size);
        let v = d.x.map(|x| x * 0.5);
        let mut b = [0; 3].map(|_| DMatrix::zeros(0, 0));
        let [g, h, k] = &mut b;
        let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
        let tg = median(|| losses::ln_det_trace_grad_into(&d.x, &d.s, k, &mut ws2));
        let th = median(|| losses::ln_det_trace_hvp_into(&d.x, &d.s, &v, g, h, &mut ws));
        row(&format!("ln_det/{size}"), tg, th, "hvp");
    }
    // A run-time loop (the `rnn` workload at T = 10 and 100): the HVP runs the loop's
    // tangent, carrying the state and its tangent.
    for steps in [10, 100] {
        let p = rnn_losses::inputs(steps);
        let (xs, y, w, u, b, wo, bo) = (&p.xs, &p.y, &p.w, &p.u, &p.b, &p.wo, p.bo);
        let (vw, vu, vb, vwo, vbo) = (w * 0.5, u * 0.5, b * 0.5, wo * 0.5, 0.5);
        let (mut ws, mut ws2) = (Workspace::new(), Workspace::new());
        let mut m = [0; 3].map(|_| DMatrix::zeros(0, 0));
        let mut r = [0; 6].map(|_| RowDVector::zeros(0));
        let mut c = [0; 3].map(|_| DVector::zeros(0));
        let ([gw, hw, kw], [gu, gb, hu, hb, ku, kb], [gwo, hwo, kwo]) = (&mut m, &mut r, &mut c);
        let (mut gbo, mut hbo, mut kbo) = (0.0, 0.0, 0.0);
        let tg = median(|| {
            rnn_losses::rnn_grad_into(xs, y, w, u, b, wo, bo, kw, ku, kb, kwo, &mut kbo, &mut ws2)
        });
        let th = median(|| {
            rnn_losses::rnn_hvp_into(
                xs, y, w, u, b, wo, bo, &vw, &vu, &vb, &vwo, vbo, gw, gu, gb, gwo, &mut gbo, hw,
                hu, hb, hwo, &mut hbo, &mut ws,
            )
        });
        row(&format!("rnn/T{steps}"), tg, th, "hvp");
    }
}

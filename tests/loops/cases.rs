//! The cases, shared with `tests/loops_reassociate.rs`.

use super::grad;
use crate::common::{gradcheck, mat, rng, row, uniform, vector};
use matgrad::Workspace;
use nalgebra::{DMatrix, DVector, RealField, RowDVector};

/// The trip counts every loop is checked at: none, one, several.
const TRIPS: [usize; 3] = [0, 1, 5];

// 1. A tanh RNN over the columns of `xs`: a vector and a scalar carried, parameters
//    read (`a`, `b` differentiated, `xs` not), the trip count a shape.
#[grad(wrt = (a, b))]
fn rnn(a: &DMatrix<f64>, b: &DMatrix<f64>, xs: &DMatrix<f64>, h0: &DVector<f64>) -> f64 {
    let mut h = h0.clone();
    let mut loss = 0.0;
    for t in 0..xs.ncols() {
        h = (a * &h + b * xs.column(t)).map(f64::tanh);
        loss += h.norm_squared();
    }
    loss
}

#[test]
fn recurrent_network() {
    let (r, mut ws) = (&mut rng(401), Workspace::new());
    for (hidden, inputs) in [(1, 1), (3, 2), (4, 6)] {
        for steps in TRIPS {
            let (xs, h0) = (mat(r, inputs, steps), vector(r, hidden));
            gradcheck!(&mut ws; rnn, rnn_grad, rnn_grad_into; (&a, &b, &xs, &h0);
                a = mat(r, hidden, hidden) * 0.5, b = mat(r, hidden, inputs));
        }
    }
}

// 2. Bounds from a `usize` parameter, a `let` count and an offset, `..=`; the index
//    read as a float and as a column; a `DMatrix` carried.
#[grad(wrt = (w, s))]
fn bounds(x: &DMatrix<f64>, w: &DMatrix<f64>, s: f64, first: usize) -> f64 {
    let n = x.ncols();
    let mut m = w.clone();
    let mut total = 0.0;
    for t in first..n {
        m = (&m * 0.5).map(|v| v.sin()) + x.columns(t, 1) * (s * t as f64);
        total += m.sum();
    }
    for k in 1..=first {
        total += s * (k as f64) * m[(0, 0)];
    }
    total + m.norm_squared()
}

#[test]
fn bounds_and_indices() {
    let (r, mut ws) = (&mut rng(402), Workspace::new());
    for rows in [1, 3] {
        for (cols, first) in [(1, 0), (4, 1), (6, 2), (2, 3)] {
            let x = mat(r, rows, cols);
            gradcheck!(&mut ws; bounds, bounds_grad, bounds_grad_into; (&x, &w, s, first);
                w = mat(r, rows, 1), s = uniform(r, -1.0, 1.0));
        }
    }
}

// 3. Values computed before the loop and read in it: a matrix and a scalar that
//    depend on `w` (differentiated through the loop), one that does not.
#[grad(wrt = w)]
fn reads(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let z = x * w;
    let scale = w.norm_squared() + 1.0;
    let yt = y.transpose();
    let mut acc = 0.0;
    for i in 0..x.nrows() {
        acc += (z[i] - y[i]).powi(2) / scale + yt[i] * z[i];
    }
    acc
}

#[test]
fn values_read_in_the_body() {
    let (r, mut ws) = (&mut rng(403), Workspace::new());
    for (m, n) in [(1, 1), (4, 3), (7, 2)] {
        let (x, y) = (mat(r, m, n), vector(r, m));
        gradcheck!(&mut ws; reads, reads_grad, reads_grad_into; (&x, &w, &y); w = vector(r, n));
    }
}

// 4. Nested run-time loops (the inner one's bound the outer index), a row vector
//    carried, a `bool` parameter read in a closure.
#[grad(wrt = (v, c))]
fn nested(v: &RowDVector<f64>, c: &DMatrix<f64>, n: usize, soft: bool) -> f64 {
    let mut r = v.clone();
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..i {
            total += (&r * c.transpose().column(j % c.nrows()))[(0, 0)] * 0.1;
        }
        r = (&r * c.transpose() * c).map(|e| if soft { e.tanh() } else { e * 0.3 });
    }
    total + r.norm_squared()
}

#[test]
fn nested_loops() {
    let (r, mut ws) = (&mut rng(404), Workspace::new());
    for k in [1, 3] {
        for n in [0, 1, 4] {
            for soft in [false, true] {
                gradcheck!(&mut ws; nested, nested_grad, nested_grad_into; (&v, &c, n, soft);
                    v = row(r, k), c = mat(r, 2, k) * 0.5);
            }
        }
    }
}

// 5. Generic over the float type: f64 and f32.
#[grad(wrt = w)]
fn generic<T: RealField + Copy>(xs: &DMatrix<T>, w: &DMatrix<T>) -> T {
    let mut h = xs.column(0).into_owned();
    for t in 1..xs.ncols() {
        h = (w * &h).map(|v| v.tanh()) + xs.column(t);
    }
    h.norm_squared() * T::from_f64(0.5).unwrap()
}

#[test]
fn generic_floats() {
    let (r, mut ws) = (&mut rng(405), Workspace::new());
    let mut ws32 = Workspace::<f32>::new();
    for n in [1, 2, 4] {
        for steps in [1, 2, 6] {
            let xs = mat(r, n, steps);
            gradcheck!(&mut ws; generic, generic_grad, generic_grad_into; (&xs, &w);
                w = mat(r, n, n));
            let xs32 = xs.cast::<f32>();
            gradcheck!(&mut ws32; generic, generic_grad, generic_grad_into; (&xs32, &w);
                w = mat(r, n, n).cast::<f32>());
        }
    }
}

// 6. A literal trip count beyond what is unrolled (1024): a run-time loop.
#[grad(wrt = w)]
fn long(w: &DVector<f64>) -> f64 {
    let mut acc = 0.0;
    for t in 0..3000 {
        acc += (w[t % w.nrows()] * 1e-3).sin();
    }
    acc
}

#[test]
fn long_literal_loop() {
    let (r, mut ws) = (&mut rng(406), Workspace::new());
    for n in [1, 3] {
        gradcheck!(&mut ws; long, long_grad, long_grad_into; (&w); w = vector(r, n));
    }
}

/// One workspace, trip counts changing between calls: each call agrees with a fresh
/// workspace's, bit for bit.
#[test]
fn trip_count_changes_on_one_workspace() {
    let r = &mut rng(407);
    let (a, b, h0) = (mat(r, 3, 3) * 0.5, mat(r, 3, 2), vector(r, 3));
    let mut ws = Workspace::new();
    let (mut ga, mut gb) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    for steps in [5, 2, 0, 9, 1, 9] {
        let xs = mat(r, 2, steps);
        let v = rnn_grad_into(&a, &b, &xs, &h0, &mut ga, &mut gb, &mut ws);
        let (v0, ga0, gb0) = rnn_grad(&a, &b, &xs, &h0);
        let (mut ga1, mut gb1) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let v1 = rnn_grad_into(&a, &b, &xs, &h0, &mut ga1, &mut gb1, &mut Workspace::new());
        assert_eq!((v, &ga, &gb), (v1, &ga1, &gb1), "{steps} steps");
        assert_eq!((v, &ga, &gb), (v0, &ga0, &gb0), "{steps} steps");
    }
}

// 7. An iterator sum with a run-time bound (a loop into a hidden accumulator).
#[grad(wrt = w)]
fn weighted(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 {
    let z = x * w;
    (0..x.nrows())
        .map(|i| (z[i] - 0.5).powi(2) * (i as f64 + 1.0))
        .sum::<f64>()
        / x.nrows() as f64
}

#[test]
fn run_time_iterator_sum() {
    let (r, mut ws) = (&mut rng(408), Workspace::new());
    for (m, n) in [(1, 1), (5, 3), (8, 2)] {
        let x = mat(r, m, n);
        gradcheck!(&mut ws; weighted, weighted_grad, weighted_grad_into; (&x, &w); w = vector(r, n));
    }
}

// 8. A loop whose body calls a #[differentiable] helper.
#[matgrad::differentiable]
fn cell(w: &DMatrix<f64>, h: &DVector<f64>, x: &DVector<f64>) -> DVector<f64> {
    (w * h + x).map(|v| v.tanh())
}

#[grad(wrt = w)]
fn with_helper(w: &DMatrix<f64>, xs: &DMatrix<f64>) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    for t in 0..xs.ncols() {
        h = cell(w, &h, &xs.column(t).into_owned());
    }
    h.sum()
}

#[test]
fn helper_in_the_body() {
    let (r, mut ws) = (&mut rng(409), Workspace::new());
    for n in [1, 3] {
        for steps in TRIPS {
            let xs = mat(r, n, steps);
            gradcheck!(&mut ws; with_helper, with_helper_grad, with_helper_grad_into; (&w, &xs);
                w = mat(r, n, n) * 0.5);
        }
    }
}

// 9. Branches decided at run time: on the index of a run-time loop, on a `usize`
//    parameter, on `bool` parameters (an `else if` chain), each taken and not.
#[grad(wrt = (w, u))]
fn branches(
    w: &DMatrix<f64>,
    u: &DMatrix<f64>,
    xs: &DMatrix<f64>,
    warmup: usize,
    robust: bool,
    scaled: bool,
) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    let mut loss = 0.0;
    for t in 0..xs.ncols() {
        h = (w * &h + u * xs.column(t)).map(|v| v.tanh());
        if t >= warmup {
            loss += h.norm_squared();
        } else if t + 1 == warmup {
            loss += 0.5 * h.sum();
        }
    }
    let mut total = loss;
    if robust {
        total = (1.0 + loss).ln();
    } else if scaled && warmup > 0 {
        total *= 2.0;
        total += w.norm_squared();
    } else {
        total -= u.sum() * 0.1;
    }
    total
}

#[test]
fn run_time_branches() {
    let (r, mut ws) = (&mut rng(410), Workspace::new());
    for n in [1, 3] {
        for (steps, warmup) in [(0, 0), (1, 0), (4, 2), (5, 7)] {
            for (robust, scaled) in [(false, false), (false, true), (true, false), (true, true)] {
                let xs = mat(r, 2, steps);
                gradcheck!(&mut ws; branches, branches_grad, branches_grad_into;
                    (&w, &u, &xs, warmup, robust, scaled);
                    w = mat(r, n, n) * 0.5, u = mat(r, n, 2));
            }
        }
    }
    // The branches are taken: the flags change the value.
    let (w, u, xs) = (mat(r, 2, 2), mat(r, 2, 2), mat(r, 2, 3));
    let values: Vec<f64> = [(false, false), (false, true), (true, false)]
        .iter()
        .map(|&(a, b)| branches(&w, &u, &xs, 1, a, b))
        .collect();
    assert!(values[0] != values[1] && values[1] != values[2] && values[0] != values[2]);
}

// 10. `if` as a scalar value decided at run time: the function's value, and a `let`
//     in a run-time loop's body.
#[grad(wrt = w)]
fn if_values(w: &DMatrix<f64>, flag: bool, k: usize) -> f64 {
    let mut acc = 0.0;
    for t in 0..w.ncols() {
        let c = if t < k {
            w.column(t).sum()
        } else {
            w.column(t).norm_squared() * 0.5
        };
        acc += c * c;
    }
    if flag {
        acc + w.sum()
    } else if k > 1 {
        acc.sqrt()
    } else {
        acc * 3.0
    }
}

#[test]
fn run_time_if_values() {
    let (r, mut ws) = (&mut rng(411), Workspace::new());
    for (m, n) in [(1, 1), (3, 2), (2, 5)] {
        for k in [0, 1, 3] {
            for flag in [false, true] {
                gradcheck!(&mut ws; if_values, if_values_grad, if_values_grad_into;
                    (&w, flag, k); w = mat(r, m, n) + DMatrix::from_element(m, n, 0.5));
            }
        }
    }
}

// 11. The Jacobian of a residual computed by a run-time loop (`#[jacobian]` reads it
//     through its hidden `#[grad]` function, in reverse mode).
#[matgrad::jacobian(wrt = w)]
fn unrolled_residual(w: &DMatrix<f64>, xs: &DMatrix<f64>) -> DVector<f64> {
    let mut h = DVector::zeros(w.nrows());
    for t in 0..xs.ncols() {
        h = (w * &h + xs.column(t)).map(|v| v.tanh());
    }
    h
}

#[test]
fn jacobian_through_a_run_time_loop() {
    let r = &mut rng(412);
    for (n, steps) in [(1, 0), (2, 1), (3, 5)] {
        let (w, xs) = (mat(r, n, n) * 0.5, mat(r, n, steps));
        let (res, j) = unrolled_residual_jacobian(&w, &xs);
        assert_eq!(res, unrolled_residual(&w, &xs));
        assert_eq!(j.shape(), (n, n * n));
        let eps = 1e-6;
        for k in 0..n * n {
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[k] += eps;
            wm[k] -= eps;
            let fd = (unrolled_residual(&wp, &xs) - unrolled_residual(&wm, &xs)) / (2.0 * eps);
            for i in 0..n {
                assert!(
                    (fd[i] - j[(i, k)]).abs() < 1e-7,
                    "({i}, {k}): {} vs {}",
                    fd[i],
                    j[(i, k)]
                );
            }
        }
    }
}

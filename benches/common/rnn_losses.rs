//! The recurrent-network losses of `benches/workloads.rs` (group `rnn`), as a user
//! writes them, and their seeded inputs: the loop over the steps with a run-time trip
//! count (`rnn`), and unrolled over 10 literal steps (`rnn_t10`). In a file of their
//! own so that the candle comparison, which includes `losses.rs` and `data.rs`, does
//! not compile them.
//!
//! Layout: one sequence per row. `xs` is batch × T (column `t` holds every
//! sequence's input at step `t`, contiguous in nalgebra's column-major storage), the
//! state `h` is batch × hidden, so each step is one `h · W` product of the whole
//! batch, and the prediction `h · wo + bo` is a batch vector compared with `y`.

use matgrad::{add_row, grad};
use nalgebra::{DMatrix, DVector, RowDVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Sequences per batch.
pub const BATCH: usize = 64;
/// Hidden units.
pub const HIDDEN: usize = 32;

/// Mean squared error of a tanh RNN over 10 steps (one input feature per step).
#[grad(wrt = (w, u, b, wo, bo))]
pub fn rnn_t10(
    xs: &DMatrix<f64>,
    y: &DVector<f64>,
    w: &DMatrix<f64>,
    u: &RowDVector<f64>,
    b: &RowDVector<f64>,
    wo: &DVector<f64>,
    bo: f64,
) -> f64 {
    let mut h = DMatrix::zeros(xs.nrows(), w.nrows());
    for t in 0..10 {
        h = add_row(&(&h * w + xs.column(t) * u), b).map(|v| v.tanh());
    }
    ((h * wo).add_scalar(bo) - y).norm_squared() / (xs.nrows() as f64)
}

/// The same loss over `xs.ncols()` steps: a loop with a run-time trip count, not
/// unrolled (one definition for every sequence length); with Hessian-vector
/// products (the loop's tangent is a loop carrying the state and its tangent).
#[grad(wrt = (w, u, b, wo, bo), hvp)]
pub fn rnn(
    xs: &DMatrix<f64>,
    y: &DVector<f64>,
    w: &DMatrix<f64>,
    u: &RowDVector<f64>,
    b: &RowDVector<f64>,
    wo: &DVector<f64>,
    bo: f64,
) -> f64 {
    let mut h = DMatrix::zeros(xs.nrows(), w.nrows());
    for t in 0..xs.ncols() {
        h = add_row(&(&h * w + xs.column(t) * u), b).map(|v| v.tanh());
    }
    ((h * wo).add_scalar(bo) - y).norm_squared() / (xs.nrows() as f64)
}

/// Inputs and parameters of the RNN losses.
pub struct Rnn {
    /// batch × T inputs
    pub xs: DMatrix<f64>,
    /// batch targets
    pub y: DVector<f64>,
    /// hidden × hidden recurrence
    pub w: DMatrix<f64>,
    /// 1 × hidden input weights
    pub u: RowDVector<f64>,
    /// 1 × hidden bias
    pub b: RowDVector<f64>,
    /// hidden output weights
    pub wo: DVector<f64>,
    /// output bias
    pub bo: f64,
}

/// Seeded inputs for `steps` steps: uniform draws, the recurrence scaled so that the
/// state neither saturates nor vanishes over 100 steps.
pub fn inputs(steps: usize) -> Rnn {
    let mut rng = ChaCha8Rng::seed_from_u64(0x726e_6e00 ^ steps as u64);
    let mut uniform = |r: usize, c: usize, scale: f64| {
        DMatrix::from_fn(r, c, |_, _| scale * rng.random_range(-1.0..1.0))
    };
    let hs = (1.0 / HIDDEN as f64).sqrt();
    Rnn {
        xs: uniform(BATCH, steps, 1.0),
        y: DVector::from_column_slice(uniform(BATCH, 1, 1.0).as_slice()),
        w: uniform(HIDDEN, HIDDEN, 1.5 * hs),
        u: RowDVector::from_row_slice(uniform(1, HIDDEN, 1.0).as_slice()),
        b: RowDVector::from_row_slice(uniform(1, HIDDEN, 0.1).as_slice()),
        wo: DVector::from_column_slice(uniform(HIDDEN, 1, hs).as_slice()),
        bo: 0.1,
    }
}

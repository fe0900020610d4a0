//! Seeded inputs of the benchmark workloads, shared by `benches/workloads.rs` and the
//! candle comparison in `benches/candle/` (which includes this file by path), so that
//! every implementation is timed on the same numbers.
//!
//! Each workload and size has its own ChaCha8 stream, seeded from the workload's
//! number and the size's index: adding a size or a workload changes no other input.

use nalgebra::{DMatrix, DVector, RowDVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Small, medium and large.
pub const SIZE_NAMES: [&str; 3] = ["small", "medium", "large"];

/// Two-layer network: batch × inputs × hidden × outputs.
pub const TWO_LAYER_SIZES: [(usize, usize, usize, usize); 3] =
    [(32, 16, 16, 4), (256, 64, 128, 10), (1024, 256, 512, 10)];

/// MLP classifier: batch sizes (the layers are 64 → 128 → 10, as for 8×8 digits).
pub const MLP_SIZES: [usize; 3] = [32, 256, 2048];
/// MLP classifier: inputs, hidden units, classes.
pub const MLP_LAYERS: (usize, usize, usize) = (64, 128, 10);

/// Least squares and logistic regression: samples × features.
pub const REGRESSION_SIZES: [(usize, usize); 3] = [(64, 8), (1024, 128), (4096, 512)];

/// `tr(A X B)` and `ln_det(X) − tr(S X)`: n.
pub const SQUARE_SIZES: [usize; 3] = [8, 64, 256];

/// Dictionary learning: signal length × atoms × signals.
pub const DICTIONARY_SIZES: [(usize, usize, usize); 3] =
    [(64, 16, 100), (64, 32, 1000), (64, 64, 4000)];

/// Low-rank factorisation: rows of `M` × columns of `M` × rank.
pub const LOW_RANK_SIZES: [(usize, usize, usize); 3] =
    [(48, 32, 4), (480, 320, 16), (1024, 768, 32)];

fn rng(workload: u64, size: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0x6d61_7467_7261_6400 ^ (workload << 8) ^ size as u64)
}

/// An `r×c` matrix of independent uniform draws in `[-scale, scale)`, column by column.
fn uniform(rng: &mut ChaCha8Rng, r: usize, c: usize, scale: f64) -> DMatrix<f64> {
    let data: Vec<f64> = (0..r * c)
        .map(|_| scale * rng.random_range(-1.0..1.0))
        .collect();
    DMatrix::from_vec(r, c, data)
}

fn uniform_vector(rng: &mut ChaCha8Rng, n: usize, scale: f64) -> DVector<f64> {
    DVector::from_vec(uniform(rng, n, 1, scale).data.into())
}

fn uniform_row(rng: &mut ChaCha8Rng, n: usize, scale: f64) -> RowDVector<f64> {
    RowDVector::from_vec(uniform(rng, 1, n, scale).data.into())
}

/// `n×k` one-hot rows with uniformly drawn classes.
fn one_hot(rng: &mut ChaCha8Rng, n: usize, k: usize) -> DMatrix<f64> {
    let mut y = DMatrix::zeros(n, k);
    for i in 0..n {
        y[(i, rng.random_range(0..k))] = 1.0;
    }
    y
}

/// Inputs of `‖tanh(X W1) W2 − Y‖²`.
pub struct TwoLayer {
    /// batch × inputs
    pub x: DMatrix<f64>,
    /// inputs × hidden
    pub w1: DMatrix<f64>,
    /// hidden × outputs
    pub w2: DMatrix<f64>,
    /// batch × outputs
    pub y: DMatrix<f64>,
}

/// The two-layer inputs of size index `size`.
pub fn two_layer(size: usize) -> TwoLayer {
    let (n, d, h, k) = TWO_LAYER_SIZES[size];
    let mut rng = rng(1, size);
    TwoLayer {
        x: uniform(&mut rng, n, d, 1.0),
        w1: uniform(&mut rng, d, h, 1.0 / (d as f64).sqrt()),
        w2: uniform(&mut rng, h, k, 1.0 / (h as f64).sqrt()),
        y: uniform(&mut rng, n, k, 1.0),
    }
}

/// Inputs of the MLP classifier
/// `softmax_cross_entropy(add_row(relu(add_row(x w1, b1)) w2, b2), y)`.
pub struct Mlp {
    /// batch × 64, "pixels" in [0, 1)
    pub x: DMatrix<f64>,
    /// 64 × 128
    pub w1: DMatrix<f64>,
    /// 1 × 128
    pub b1: RowDVector<f64>,
    /// 128 × 10
    pub w2: DMatrix<f64>,
    /// 1 × 10
    pub b2: RowDVector<f64>,
    /// batch × 10, one-hot
    pub y: DMatrix<f64>,
}

/// The MLP inputs of size index `size`.
pub fn mlp(size: usize) -> Mlp {
    let n = MLP_SIZES[size];
    let (d, h, k) = MLP_LAYERS;
    let mut rng = rng(2, size);
    let x = uniform(&mut rng, n, d, 0.5).add_scalar(0.5);
    Mlp {
        x,
        w1: uniform(&mut rng, d, h, 1.0 / (d as f64).sqrt()),
        b1: uniform_row(&mut rng, h, 0.1),
        w2: uniform(&mut rng, h, k, 1.0 / (h as f64).sqrt()),
        b2: uniform_row(&mut rng, k, 0.1),
        y: one_hot(&mut rng, n, k),
    }
}

/// Inputs of least squares `‖X w − y‖²` and logistic regression
/// `Σ softplus(−y ⊙ X w) + λ ‖w‖²`.
pub struct Regression {
    /// samples × features
    pub x: DMatrix<f64>,
    /// features
    pub w: DVector<f64>,
    /// samples: uniform in [-1, 1) for least squares, ±1 for logistic regression
    pub y: DVector<f64>,
    /// the ridge weight of logistic regression
    pub lambda: f64,
}

/// Least-squares inputs of size index `size`.
pub fn least_squares(size: usize) -> Regression {
    let (n, d) = REGRESSION_SIZES[size];
    let mut rng = rng(3, size);
    Regression {
        x: uniform(&mut rng, n, d, 1.0),
        w: uniform_vector(&mut rng, d, 1.0),
        y: uniform_vector(&mut rng, n, 1.0),
        lambda: 0.0,
    }
}

/// Logistic-regression inputs of size index `size` (labels ±1, λ = 0.01).
pub fn logistic(size: usize) -> Regression {
    let (n, d) = REGRESSION_SIZES[size];
    let mut rng = rng(4, size);
    let x = uniform(&mut rng, n, d, 1.0);
    let w = uniform_vector(&mut rng, d, 1.0 / (d as f64).sqrt());
    let y = DVector::from_fn(n, |_, _| if rng.random_bool(0.5) { 1.0 } else { -1.0 });
    Regression {
        x,
        w,
        y,
        lambda: 0.01,
    }
}

/// Inputs of `tr(A X B)`.
pub struct TraceAxb {
    /// n × n
    pub a: DMatrix<f64>,
    /// n × n
    pub x: DMatrix<f64>,
    /// n × n
    pub b: DMatrix<f64>,
}

/// `tr(A X B)` inputs of size index `size`.
pub fn trace_axb(size: usize) -> TraceAxb {
    let n = SQUARE_SIZES[size];
    let mut rng = rng(5, size);
    TraceAxb {
        a: uniform(&mut rng, n, n, 1.0),
        x: uniform(&mut rng, n, n, 1.0),
        b: uniform(&mut rng, n, n, 1.0),
    }
}

/// Inputs of `ln_det(X) − tr(S X)`.
pub struct LnDet {
    /// n × n, symmetric positive definite: `M Mᵀ / n + I`
    pub x: DMatrix<f64>,
    /// n × n, unstructured
    pub s: DMatrix<f64>,
}

/// `ln_det(X) − tr(S X)` inputs of size index `size`.
pub fn ln_det(size: usize) -> LnDet {
    let n = SQUARE_SIZES[size];
    let mut rng = rng(6, size);
    let m = uniform(&mut rng, n, n, 1.0);
    let mut x = &m * m.transpose() / n as f64;
    for i in 0..n {
        x[(i, i)] += 1.0;
    }
    // Exactly symmetric, whatever the rounding of the product.
    let x = (&x + x.transpose()) * 0.5;
    LnDet {
        x,
        s: uniform(&mut rng, n, n, 1.0),
    }
}

/// Inputs of dictionary learning `‖X − D R‖² + λ ‖R‖²`.
pub struct Dictionary {
    /// signal length × signals
    pub x: DMatrix<f64>,
    /// signal length × atoms
    pub d: DMatrix<f64>,
    /// atoms × signals
    pub r: DMatrix<f64>,
    /// the ridge weight on the codes
    pub lambda: f64,
}

/// Dictionary-learning inputs of size index `size` (λ = 0.1).
pub fn dictionary(size: usize) -> Dictionary {
    let (p, k, m) = DICTIONARY_SIZES[size];
    let mut rng = rng(7, size);
    Dictionary {
        x: uniform(&mut rng, p, m, 1.0),
        d: uniform(&mut rng, p, k, 1.0 / (p as f64).sqrt()),
        r: uniform(&mut rng, k, m, 1.0),
        lambda: 0.1,
    }
}

/// Inputs of the low-rank factorisation `‖U Vᵀ − M‖² + λ (‖U‖² + ‖V‖²)`.
pub struct LowRank {
    /// rows × rank
    pub u: DMatrix<f64>,
    /// columns × rank
    pub v: DMatrix<f64>,
    /// rows × columns
    pub m: DMatrix<f64>,
    /// the ridge weight on both factors
    pub lambda: f64,
}

/// Low-rank inputs of size index `size` (λ = 0.1).
pub fn low_rank(size: usize) -> LowRank {
    let (rows, cols, rank) = LOW_RANK_SIZES[size];
    let mut rng = rng(8, size);
    let scale = 1.0 / (rank as f64).sqrt();
    LowRank {
        u: uniform(&mut rng, rows, rank, scale),
        v: uniform(&mut rng, cols, rank, scale),
        m: uniform(&mut rng, rows, cols, 1.0),
        lambda: 0.1,
    }
}

//! Seeded inputs of issue 9's benchmarks (`benches/algebra.rs`): one ChaCha8 stream per
//! workload and size, as in `data.rs`, from a seed base of their own.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `tr(A X B)`: n.
pub const TRACE_SIZES: [usize; 2] = [64, 512];
/// `‖a b v‖²`: n (a, b n×n, v of length n).
pub const ABV_N: usize = 512;
/// `ln |det X| − tr(S X)`: n.
pub const LN_DET_N: usize = 256;
/// `xᵀ a b x`: n.
pub const XABX_N: usize = 1000;
/// `Σ (a b c d)`: (m, k) for a m×k, b k×m, c m×k, d k×m.
pub const CHAIN4_SIZE: (usize, usize) = (400, 20);
/// `ln |det S| + vᵀ S⁻¹ v`: n.
pub const NLL_N: usize = 256;

fn rng(workload: u64, size: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0x616c_6765_6272_6100 ^ (workload << 8) ^ size as u64)
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

/// `tr(A X B)` inputs, all n×n (`size` indexes [`TRACE_SIZES`]).
pub fn trace_axb(size: usize) -> [DMatrix<f64>; 3] {
    let n = TRACE_SIZES[size];
    let mut rng = rng(1, size);
    std::array::from_fn(|_| uniform(&mut rng, n, n, 1.0))
}

/// `‖a b v‖²` inputs: (a, b, v).
pub fn abv() -> (DMatrix<f64>, DMatrix<f64>, DVector<f64>) {
    let n = ABV_N;
    let mut rng = rng(2, 0);
    let scale = 1.0 / (n as f64).sqrt();
    let a = uniform(&mut rng, n, n, scale);
    let b = uniform(&mut rng, n, n, scale);
    (a, b, uniform_vector(&mut rng, n, 1.0))
}

/// `ln |det X| − tr(S X)` inputs: X = M Mᵀ / n + I (symmetric positive definite,
/// exactly symmetric), S unstructured.
pub fn ln_det() -> (DMatrix<f64>, DMatrix<f64>) {
    let n = LN_DET_N;
    let mut rng = rng(3, 0);
    let m = uniform(&mut rng, n, n, 1.0);
    let mut x = &m * m.transpose() / n as f64;
    for i in 0..n {
        x[(i, i)] += 1.0;
    }
    let x = (&x + x.transpose()) * 0.5;
    (x, uniform(&mut rng, n, n, 1.0))
}

/// `xᵀ a b x` inputs: (x, a, b).
pub fn xabx() -> (DVector<f64>, DMatrix<f64>, DMatrix<f64>) {
    let n = XABX_N;
    let mut rng = rng(4, 0);
    let x = uniform_vector(&mut rng, n, 1.0);
    let scale = 1.0 / (n as f64).sqrt();
    let a = uniform(&mut rng, n, n, scale);
    (x, a, uniform(&mut rng, n, n, scale))
}

/// `Σ (a b c d)` inputs: a m×k, b k×m, c m×k, d k×m.
pub fn chain4() -> [DMatrix<f64>; 4] {
    let (m, k) = CHAIN4_SIZE;
    let mut rng = rng(5, 0);
    let (sm, sk) = (1.0 / (m as f64).sqrt(), 1.0 / (k as f64).sqrt());
    [
        uniform(&mut rng, m, k, sk),
        uniform(&mut rng, k, m, sm),
        uniform(&mut rng, m, k, sk),
        uniform(&mut rng, k, m, sm),
    ]
}

/// `ln |det S| + vᵀ S⁻¹ v` inputs: S = M Mᵀ / n + I (symmetric positive definite,
/// exactly symmetric), v.
pub fn gaussian_nll() -> (DMatrix<f64>, DVector<f64>) {
    let n = NLL_N;
    let mut rng = rng(6, 0);
    let m = uniform(&mut rng, n, n, 1.0);
    let mut s = &m * m.transpose() / n as f64;
    for i in 0..n {
        s[(i, i)] += 1.0;
    }
    let s = (&s + s.transpose()) * 0.5;
    (s, uniform_vector(&mut rng, n, 1.0))
}

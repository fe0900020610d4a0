//! Every size- and layout-dependent branch of the public products (`blas.rs`'s
//! dispatch and matrix × vector loops, `gemm.rs`'s blocking), each reached by a shape
//! just past its threshold (and, where it matters, just before it), compared with a
//! naive triple loop, and the blocked paths bit for bit with matrixmultiply.
//!
//! The thresholds, as read from the sources (update here if they move):
//!
//! - `blas.rs`: `m == 0 || n == 0`; `k == 0` (c = beta·c); `n == 1` and `m == 1`
//!   (matrix × vector); `k == 1` (outer product, contiguous or strided `a`, `beta`
//!   zero or not); `m·k·n ≤ TINY_WORK = 125` (column loops, any layout);
//!   `m·k·n ≤ SMALL_WORK = 216` when `a`'s columns are contiguous, or its rows and
//!   `b`'s columns are (column loops), otherwise the blocked product;
//! - `blas.rs`'s `gemv`: contiguous columns (four per sweep, then a remainder);
//!   contiguous rows and a contiguous `x`: one row per dot when
//!   `k ≤ ONE_ROW_MAX_LEN = 2048` and `m·k ≥ ONE_ROW_MIN_ENTRIES = 512·1024`, else
//!   four rows per pass (then a remainder); anything else, the strided loop;
//! - `gemm.rs`: depth blocks of `KC = 256`, row blocks of `MC_TARGET = 128` (rounded
//!   down to the tile height), column blocks of `NC_TARGET = 1024`, and partial edge
//!   tiles when `m` or `n` is not a multiple of the tile.

// The nalgebra the runtime is built with: the dependency `nalgebra` (0.35, the
// default) or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad_runtime::{gemm_nn, gemm_nt, gemm_tn, gemm_tt};
use nalgebra::{DMatrix, DMatrixView};

/// Deterministic entries in [-1, 1) (a small LCG, so every run sees the same numbers).
fn filled(r: usize, c: usize, seed: u64) -> DMatrix<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    DMatrix::from_fn(r, c, |_, _| {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// `alpha · a · b + beta · c` by the textbook loop (`a`, `b` already transposed).
fn naive(
    alpha: f64,
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    beta: f64,
    c: &DMatrix<f64>,
) -> DMatrix<f64> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    DMatrix::from_fn(m, n, |i, j| {
        let s: f64 = (0..k).map(|l| a[(i, l)] * b[(l, j)]).sum();
        alpha * s + if beta == 0.0 { 0.0 } else { beta * c[(i, j)] }
    })
}

/// The stored operand whose (possibly transposed) use is `m×k`.
fn stored(m: usize, k: usize, t: bool, seed: u64) -> DMatrix<f64> {
    if t {
        filled(k, m, seed)
    } else {
        filled(m, k, seed)
    }
}

fn op(x: &DMatrix<f64>, t: bool) -> DMatrix<f64> {
    if t {
        x.transpose()
    } else {
        x.clone()
    }
}

/// One public kernel on views, by transpose flags.
fn product(
    ta: bool,
    tb: bool,
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    match (ta, tb) {
        (false, false) => gemm_nn(alpha, a, b, beta, c),
        (true, false) => gemm_tn(alpha, a, b, beta, c),
        (false, true) => gemm_nt(alpha, a, b, beta, c),
        (true, true) => gemm_tt(alpha, a, b, beta, c),
    }
}

/// `c = alpha · op(a) · op(b) + beta · c` for an `m×k` by `k×n` product, against the
/// naive loop (tolerance scaled by `k`); with `beta = 0`, `c` starts as NaN (never read).
fn check(ta: bool, tb: bool, (m, k, n): (usize, usize, usize), beta: f64) -> DMatrix<f64> {
    let seed = (m * 1_000_003 + k * 1009 + n) as u64;
    let a = stored(m, k, ta, seed);
    let b = stored(k, n, tb, seed + 1);
    let c0 = filled(m, n, seed + 2);
    let want = naive(0.75, &op(&a, ta), &op(&b, tb), beta, &c0);
    let mut c = if beta == 0.0 {
        DMatrix::from_element(m, n, f64::NAN)
    } else {
        c0.clone()
    };
    product(ta, tb, 0.75, a.as_view(), b.as_view(), beta, &mut c);
    let tol = 1e-14 * (k as f64 + 4.0);
    for (g, w) in c.iter().zip(want.iter()) {
        assert!(
            (g - w).abs() <= tol,
            "{m}×{k}×{n} (ta {ta}, tb {tb}, beta {beta}): {g} vs {w}"
        );
    }
    c
}

const FLAGS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

#[test]
fn empty_and_zero_depth() {
    for (ta, tb) in FLAGS {
        for beta in [0.0, 0.5] {
            check(ta, tb, (0, 3, 4), beta);
            check(ta, tb, (3, 4, 0), beta);
            // k == 0: c = beta · c
            let c = check(ta, tb, (3, 0, 4), beta);
            if beta == 0.0 {
                assert!(c.iter().all(|&v| v == 0.0));
            }
        }
    }
}

#[test]
fn matrix_times_vector_columns_contiguous() {
    // n == 1 with `a` used as stored: four columns per sweep, then 0..=3 remaining.
    for k in [1, 3, 4, 5, 7, 8, 9, 130] {
        for beta in [0.0, -1.5] {
            check(false, false, (37, k, 1), beta);
            check(false, true, (37, k, 1), beta);
        }
    }
}

#[test]
fn matrix_times_vector_rows_contiguous() {
    // n == 1 with `a` transposed: four rows per pass over x, m = 4q + 0..=3.
    for m in [1, 2, 3, 4, 5, 6, 7, 9, 64] {
        check(true, false, (m, 33, 1), 0.0);
        check(true, true, (m, 35, 1), 0.25);
    }
}

#[test]
fn transposed_matrix_times_vector_one_row_per_dot() {
    // k ≤ 2048 and m·k ≥ 512·1024: one row per dot (m·k = 257·2048 = 526 336) …
    check(true, false, (257, 2048, 1), 0.0);
    check(true, false, (257, 2048, 1), 1.0);
    // … and just outside: m·k = 255·2048 = 522 240 (four rows), k = 2049 (four rows).
    check(true, false, (255, 2048, 1), 0.0);
    check(true, false, (257, 2049, 1), 0.0);
    // the same branch through m == 1: (1×k)·(k×n) as (bᵀ)·(aᵀ)
    check(false, false, (1, 2048, 257), 0.5);
}

#[test]
fn row_vector_times_matrix() {
    // m == 1: c (1×n) computed as cᵀ = bᵀ aᵀ.
    for n in [1, 2, 5, 9, 40] {
        for (ta, tb) in FLAGS {
            check(ta, tb, (1, 13, n), 0.0);
            check(ta, tb, (1, 6, n), 2.0);
        }
    }
}

#[test]
fn strided_matrix_times_vector() {
    // Neither `a`'s columns nor `x` contiguous: `a` transposed (rows contiguous) and x a
    // row of a larger matrix, read through its column stride.
    let (m, k) = (6, 9);
    let a = filled(k, m, 1);
    let big = filled(3, k, 2);
    // row 1 of the 3×k `big`: 1×k, column stride 3
    let x = big.rows(1, 1);
    let want = naive(
        1.0,
        &a.transpose(),
        &x.transpose(),
        0.0,
        &DMatrix::zeros(m, 1),
    );
    let mut c = DMatrix::from_element(m, 1, f64::NAN);
    gemm_tt(1.0, a.as_view(), x, 0.0, &mut c);
    assert!((&c - &want).amax() <= 1e-14 * 16.0, "{c} vs {want}");
}

#[test]
fn outer_products() {
    // k == 1: one pass over c; `a` contiguous with beta zero and non-zero …
    for (ta, tb) in FLAGS {
        check(ta, tb, (7, 1, 5), 0.0);
        check(ta, tb, (7, 1, 5), 3.0);
    }
    // … and `a` strided: aᵀ of a row of a larger matrix (column stride 3).
    let big = filled(3, 7, 3);
    let a = big.rows(2, 1);
    let b = filled(1, 5, 4);
    for beta in [0.0, -2.0] {
        let c0 = filled(7, 5, 5);
        let want = naive(0.75, &a.transpose(), &b, beta, &c0);
        let mut c = c0.clone();
        gemm_tn(0.75, a, b.as_view(), beta, &mut c);
        assert!((&c - &want).amax() <= 1e-14 * 8.0, "beta {beta}");
    }
}

#[test]
fn tiny_and_small_products() {
    for (ta, tb) in FLAGS {
        for beta in [0.0, 1.0] {
            // m·k·n = 125 = TINY_WORK (column loops, any layout) and 126 (just past)
            check(ta, tb, (5, 5, 5), beta);
            check(ta, tb, (2, 7, 9), beta);
            // SMALL_WORK = 216: 6×6×6 takes the loops when the layout allows, the
            // blocked product otherwise (both transposed); 6×6×7 = 252 always blocked
            check(ta, tb, (6, 6, 6), beta);
            check(ta, tb, (6, 6, 7), beta);
            check(ta, tb, (2, 2, 2), beta);
        }
    }
}

/// The blocked product against matrixmultiply, bit for bit (the crate's claim), for
/// `c = 0.75 · op(a) · op(b) + beta · c`.
fn check_bits(ta: bool, tb: bool, (m, k, n): (usize, usize, usize), beta: f64) {
    let a = stored(m, k, ta, 11);
    let b = stored(k, n, tb, 12);
    let c0 = filled(m, n, 13);
    let mut c = c0.clone();
    product(ta, tb, 0.75, a.as_view(), b.as_view(), beta, &mut c);
    let (rsa, csa) = if ta { (a.nrows(), 1) } else { (1, a.nrows()) };
    let (rsb, csb) = if tb { (b.nrows(), 1) } else { (1, b.nrows()) };
    let mut want = c0.clone();
    let s = |v: usize| isize::try_from(v).unwrap();
    // SAFETY: column-major storage of a (m×k after the transpose), b (k×n) and
    // want (m×n), with their strides; want is a separate buffer.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            0.75,
            a.as_ptr(),
            s(rsa),
            s(csa),
            b.as_ptr(),
            s(rsb),
            s(csb),
            beta,
            want.as_mut_ptr(),
            1,
            s(m),
        );
    }
    let same = c
        .iter()
        .zip(want.iter())
        .all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(
        same,
        "{m}×{k}×{n} (ta {ta}, tb {tb}, beta {beta}): bits differ from matrixmultiply"
    );
}

#[test]
fn blocked_depth_row_and_edge_blocks() {
    for (ta, tb) in FLAGS {
        // k = 257: two depth blocks (KC = 256), the second with beta = 1; m = 129: two
        // row blocks (MC_TARGET = 128) and a partial edge tile; n = 13 partial too.
        check(ta, tb, (129, 257, 13), 0.0);
        check_bits(ta, tb, (129, 257, 13), 0.0);
        check_bits(ta, tb, (129, 257, 13), -0.5);
        // exactly one block of each, full tiles only
        check_bits(ta, tb, (128, 256, 48), 1.0);
    }
}

#[test]
fn blocked_column_blocks() {
    // n = 1025: two column blocks (NC_TARGET = 1024), the last one column wide.
    check(false, false, (9, 7, 1025), 0.5);
    check_bits(false, false, (9, 7, 1025), 0.5);
    check_bits(true, true, (9, 7, 1025), 0.0);
}

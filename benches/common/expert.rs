//! The hand-written "expert" kernels shared by `benches/workloads.rs` and
//! `benches/algebra.rs`: matrixmultiply with transposes read through strides, a
//! matrix–vector loop eight columns per sweep, and a vectorising dot product.
#![allow(dead_code)]

use nalgebra::DMatrix;

/// How a GEMM operand is used: as stored, or transposed (through its strides).
#[derive(Clone, Copy)]
pub enum Op {
    /// As stored.
    N,
    /// Transposed.
    T,
}

/// `c = alpha · op(a) · op(b) + beta · c` with `matrixmultiply::dgemm` on nalgebra's
/// column-major storage; a transposed operand is read through swapped strides. If
/// `beta` is zero, `c` is not read.
pub fn dgemm(
    alpha: f64,
    a: &DMatrix<f64>,
    ta: Op,
    b: &DMatrix<f64>,
    tb: Op,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    let ((m, k), (rsa, csa)) = match ta {
        Op::N => (a.shape(), (1, a.nrows())),
        Op::T => ((a.ncols(), a.nrows()), (a.nrows(), 1)),
    };
    let ((kb, n), (rsb, csb)) = match tb {
        Op::N => (b.shape(), (1, b.nrows())),
        Op::T => ((b.ncols(), b.nrows()), (b.nrows(), 1)),
    };
    assert_eq!(k, kb, "gemm: inner dimensions");
    assert_eq!(c.shape(), (m, n), "gemm: output shape");
    let strides = |r: usize, c: usize| (isize::try_from(r).unwrap(), isize::try_from(c).unwrap());
    let ((rsa, csa), (rsb, csb), (rsc, csc)) =
        (strides(rsa, csa), strides(rsb, csb), strides(1, m));
    // SAFETY: the pointers address the column-major storage of `a`, `b` and `c`, whose
    // shapes (m×k, k×n, m×n after the transposes) were checked above, with the
    // strides of that storage; `c` is borrowed mutably, so it aliases neither input.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

/// `y += A x` for a column-major `A`, eight columns per sweep over `y`: as fast as
/// matgrad-runtime's matrix–vector loop, where nalgebra's `gemv` (one sweep per
/// column) measured 1.6–2× slower at 1024×128 and 4096×512.
pub fn gemv_add(a: &DMatrix<f64>, x: &[f64], y: &mut [f64]) {
    let (m, k) = a.shape();
    assert!(x.len() == k && y.len() == m, "gemv_add: shapes");
    if m == 0 {
        return;
    }
    let mut cols = a.as_slice().chunks_exact(m);
    let mut xs = x.chunks_exact(8);
    for xl in &mut xs {
        let c: [&[f64]; 8] = std::array::from_fn(|_| cols.next().expect("a column"));
        for (i, yi) in y.iter_mut().enumerate() {
            let mut acc = 0.0;
            for j in 0..8 {
                acc += xl[j] * c[j][i];
            }
            *yi += acc;
        }
    }
    for (&xl, col) in xs.remainder().iter().zip(cols) {
        for (yi, &v) in y.iter_mut().zip(col) {
            *yi += xl * v;
        }
    }
}

/// `Σ a_i b_i` with eight partial sums.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot: lengths");
    let mut acc = [0.0; 8];
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((s, &u), &v) in acc.iter_mut().zip(x).zip(y) {
            *s += u * v;
        }
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(u, v)| u * v)
        .sum();
    acc.iter().sum::<f64>() + tail
}

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

/// The column-major `n×n` symmetric positive definite `a` replaced by `L⁻¹`, the
/// inverse of its Cholesky factor (`a = L Lᵀ`; upper triangle zeroed), so that
/// `a⁻¹ = L⁻ᵀ L⁻¹` is one product; returns `ln det a = 2 Σ ln L_ii`.
pub fn cholesky_and_inverse(a: &mut [f64], n: usize) -> f64 {
    // Right-looking Cholesky on the lower triangle (columns are contiguous).
    let mut ln_det = 0.0;
    for k in 0..n {
        let (left, right) = a.split_at_mut((k + 1) * n);
        let col = &mut left[k * n..];
        let pivot = col[k];
        assert!(pivot > 0.0, "expert: the matrix is not positive definite");
        ln_det += pivot.ln();
        let d = pivot.sqrt();
        col[k] = d;
        let inv = 1.0 / d;
        for v in &mut col[k + 1..] {
            *v *= inv;
        }
        let lk = &col[k + 1..];
        for (jj, cj) in right.chunks_exact_mut(n).enumerate() {
            let f = lk[jj];
            for (c, &l) in cj[k + 1 + jj..].iter_mut().zip(&lk[jj..]) {
                *c -= f * l;
            }
        }
    }
    // L⁻¹ in place, last column first: column j = −L⁻¹_jj · (L⁻¹ of the trailing
    // block) · L[j+1.., j], the trailing block already inverted.
    for j in (0..n).rev() {
        let (left, right) = a.split_at_mut((j + 1) * n);
        let col = &mut left[j * n..];
        col[j] = 1.0 / col[j];
        let ajj = -col[j];
        let x = &mut col[j + 1..];
        for l in (0..x.len()).rev() {
            let t = &right[l * n + j + 1..(l + 1) * n];
            let xl = x[l];
            x[l] = t[l] * xl;
            for (xi, &ti) in x[l + 1..].iter_mut().zip(&t[l + 1..]) {
                *xi += ti * xl;
            }
        }
        for v in x.iter_mut() {
            *v *= ajj;
        }
    }
    // The strict upper triangle still holds a: zero it for the product.
    for (j, col) in a.chunks_exact_mut(n).enumerate() {
        col[..j].fill(0.0);
    }
    ln_det
}

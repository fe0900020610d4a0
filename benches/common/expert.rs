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

/// `y += A x` for a column-major `A`, four columns per sweep over `y` (the loop of
/// matgrad-runtime's matrix–vector kernel, written out by hand).
pub fn gemv_add4(a: &DMatrix<f64>, x: &[f64], y: &mut [f64]) {
    let (m, k) = a.shape();
    assert!(x.len() == k && y.len() == m, "gemv_add4: shapes");
    if m == 0 {
        return;
    }
    let mut cols = a.as_slice().chunks_exact(4 * m);
    let mut xs = x.chunks_exact(4);
    for (c4, x4) in (&mut cols).zip(&mut xs) {
        let (c0, rest) = c4.split_at(m);
        let (c1, rest) = rest.split_at(m);
        let (c2, c3) = rest.split_at(m);
        for ((((y, &v0), &v1), &v2), &v3) in y.iter_mut().zip(c0).zip(c1).zip(c2).zip(c3) {
            *y += x4[0] * v0 + x4[1] * v1 + x4[2] * v2 + x4[3] * v3;
        }
    }
    for (&xl, col) in xs.remainder().iter().zip(cols.remainder().chunks_exact(m)) {
        for (yi, &v) in y.iter_mut().zip(col) {
            *yi += xl * v;
        }
    }
}

/// `g = alpha · Aᵀ r + beta · g` for a column-major `A`: the dot products of four
/// columns of `A` with `r` per pass over `r`, four partial sums each.
pub fn gemv_tr4(alpha: f64, a: &DMatrix<f64>, r: &[f64], beta: f64, g: &mut [f64]) {
    let (m, k) = a.shape();
    assert!(r.len() == m && g.len() == k, "gemv_tr4: shapes");
    let out = |g: &mut f64, d: f64| *g = alpha * d + if beta == 0.0 { 0.0 } else { beta * *g };
    if m == 0 {
        g.iter_mut().for_each(|g| out(g, 0.0));
        return;
    }
    let mut cols = a.as_slice().chunks_exact(4 * m);
    let mut gs = g.chunks_exact_mut(4);
    for (c4, g4) in (&mut cols).zip(&mut gs) {
        let mut acc = [[0.0; 4]; 4];
        let (c0, rest) = c4.split_at(m);
        let (c1, rest) = rest.split_at(m);
        let (c2, c3) = rest.split_at(m);
        let chunks = c0
            .chunks_exact(4)
            .zip(c1.chunks_exact(4))
            .zip(c2.chunks_exact(4).zip(c3.chunks_exact(4)))
            .zip(r.chunks_exact(4));
        for (((a0, a1), (a2, a3)), rr) in chunks {
            for l in 0..4 {
                acc[0][l] += a0[l] * rr[l];
                acc[1][l] += a1[l] * rr[l];
                acc[2][l] += a2[l] * rr[l];
                acc[3][l] += a3[l] * rr[l];
            }
        }
        let tail = m - m % 4;
        for ((g, col), s) in g4.iter_mut().zip([c0, c1, c2, c3]).zip(acc) {
            let mut d = (s[0] + s[2]) + (s[1] + s[3]);
            for (&v, &rv) in col[tail..].iter().zip(&r[tail..]) {
                d += v * rv;
            }
            out(g, d);
        }
    }
    for (g, col) in gs
        .into_remainder()
        .iter_mut()
        .zip(cols.remainder().chunks_exact(m))
    {
        out(g, dot(col, r));
    }
}

/// Block size of the blocked Cholesky factorisation and triangular inverse below
/// (matgrad-runtime's `decomp` uses the same).
const NB: usize = 32;

/// `c ← alpha · a · b + beta · c` on strided blocks, by matgrad-runtime's blocked
/// product (`Real::__gemm`, which keeps its packing buffer per thread; matrixmultiply
/// would allocate one per call).
///
/// # Safety
///
/// That of `Real::__gemm`: every entry in bounds, `c` overlapping neither `a` nor `b`.
#[allow(clippy::too_many_arguments)] // the BLAS argument list
unsafe fn block_gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: (*const f64, usize, usize),
    b: (*const f64, usize, usize),
    beta: f64,
    c: (*mut f64, usize, usize),
) {
    let s = |x: usize| isize::try_from(x).unwrap();
    // SAFETY: forwarded from the caller.
    unsafe {
        <f64 as matgrad::Real>::__gemm(
            m,
            k,
            n,
            alpha,
            a.0,
            s(a.1),
            s(a.2),
            b.0,
            s(b.1),
            s(b.2),
            beta,
            c.0,
            s(c.1),
            s(c.2),
        );
    }
}

/// The column-major `n×n` symmetric positive definite `a` replaced by `L⁻¹`
/// (`a = L Lᵀ`; upper triangle zeroed), both steps blocked so that nearly all the
/// work is in GEMMs: a left-looking Cholesky (each block column updated by one
/// product with the columns already factorised) and `L⁻¹ = [D⁻¹ 0; −T⁻¹ B D⁻¹ T⁻¹]`,
/// the trailing `T⁻¹` first. `tmp` holds at least `n · min(n, 32)` entries. Returns
/// `ln det a = Σ ln L_ii²`.
pub fn blocked_cholesky_and_inverse(a: &mut [f64], n: usize, tmp: &mut [f64]) -> f64 {
    assert!(a.len() == n * n && tmp.len() >= n.min(NB) * n);
    let mut ln_det = 0.0;
    for j0 in (0..n).step_by(NB) {
        let j1 = (j0 + NB).min(n);
        if j0 > 0 {
            let p = a.as_mut_ptr();
            // a[j0.., j0..j1] −= L[j0.., ..j0] · L[j0..j1, ..j0]ᵀ
            // SAFETY: in bounds; c in columns j0..j1, a and b in columns ..j0.
            unsafe {
                block_gemm(
                    n - j0,
                    j0,
                    j1 - j0,
                    -1.0,
                    (p.add(j0), 1, n),
                    (p.add(j0), n, 1),
                    1.0,
                    (p.add(j0 * n + j0), 1, n),
                );
            }
        }
        for k in j0..j1 {
            let (left, right) = a.split_at_mut((k + 1) * n);
            let col = &mut left[k * n..];
            let pivot = col[k];
            assert!(pivot > 0.0, "expert: the matrix is not positive definite");
            ln_det += pivot.ln();
            let d = pivot.sqrt();
            col[k] = d;
            let r = 1.0 / d;
            for v in &mut col[k + 1..] {
                *v *= r;
            }
            let lk = &col[k + 1..];
            for (jj, cj) in right.chunks_exact_mut(n).take(j1 - k - 1).enumerate() {
                let f = lk[jj];
                for (c, &l) in cj[k + 1 + jj..].iter_mut().zip(&lk[jj..]) {
                    *c -= f * l;
                }
            }
        }
    }
    for (j, col) in a.chunks_exact_mut(n).enumerate() {
        col[..j].fill(0.0);
    }
    let last = if n == 0 { 0 } else { (n - 1) / NB * NB };
    for j0 in (0..=last).rev().step_by(NB) {
        let j1 = (j0 + NB).min(n);
        let jb = j1 - j0;
        // The diagonal block, unblocked, last column first.
        for j in (j0..j1).rev() {
            let (left, right) = a.split_at_mut((j + 1) * n);
            let col = &mut left[j * n..j * n + j1];
            col[j] = 1.0 / col[j];
            let ajj = -col[j];
            let x = &mut col[j + 1..];
            for l in (0..x.len()).rev() {
                let t = &right[l * n + j + 1..l * n + j1];
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
        if j1 == n {
            continue;
        }
        let m = n - j1;
        let (p, t) = (a.as_mut_ptr(), tmp.as_mut_ptr());
        // tmp = T⁻¹ B, a row block of the lower triangular T⁻¹ at a time.
        for r0 in (j1..n).step_by(NB) {
            let r1 = (r0 + NB).min(n);
            // SAFETY: in bounds; c is in tmp, a distinct buffer.
            unsafe {
                block_gemm(
                    r1 - r0,
                    r1 - j1,
                    jb,
                    1.0,
                    (p.add(j1 * n + r0), 1, n),
                    (p.add(j0 * n + j1), 1, n),
                    0.0,
                    (t.add(r0 - j1), 1, m),
                );
            }
        }
        // B = −tmp · D⁻¹.
        // SAFETY: in bounds; c is rows j1.. of columns j0..j1, b rows j0..j1 of those
        // columns, a in tmp: distinct entries.
        unsafe {
            block_gemm(
                m,
                jb,
                jb,
                -1.0,
                (t.cast_const(), 1, m),
                (p.add(j0 * n + j0), 1, n),
                0.0,
                (p.add(j0 * n + j1), 1, n),
            );
        }
    }
    ln_det
}

/// `g = L⁻ᵀ L⁻¹` for the lower triangular `n×n` `linv`, using the symmetry of the
/// result: block column `j0..j1` of `g` is computed on rows `j0..` only (one GEMM over
/// rows `j0..` of `L⁻¹`, ≈ n³/3 multiply-adds instead of n³/2), then the strict upper
/// triangle is copied from the lower one, in tiles.
pub fn lower_inverse_gram(linv: &[f64], n: usize, g: &mut [f64]) {
    assert!(linv.len() == n * n && g.len() == n * n);
    let (p, c) = (linv.as_ptr(), g.as_mut_ptr());
    for j0 in (0..n).step_by(NB) {
        let j1 = (j0 + NB).min(n);
        // g[j0.., j0..j1] = (L⁻¹[j0.., j0..])ᵀ · L⁻¹[j0.., j0..j1]
        // SAFETY: in bounds; c is in g, a distinct buffer.
        unsafe {
            block_gemm(
                n - j0,
                n - j0,
                j1 - j0,
                1.0,
                (p.add(j0 * n + j0), n, 1),
                (p.add(j0 * n + j0), 1, n),
                0.0,
                (c.add(j0 * n + j0), 1, n),
            );
        }
    }
    const T: usize = 32;
    for j0 in (0..n).step_by(T) {
        for i0 in (0..=j0).step_by(T) {
            for j in j0..(j0 + T).min(n) {
                for i in i0..(i0 + T).min(j) {
                    g[j * n + i] = g[i * n + j];
                }
            }
        }
    }
}

//! Matrix products with transposed operands, computed without building a transpose.
//!
//! nalgebra's own `tr_mul`, `tr_mul_to` and `gemm_tr` are loops of dot products,
//! several times slower than `a * b` at moderate sizes, and its `gemm` must not be
//! given a transposed view (nalgebra issue #1616). These kernels hand transposed
//! operands to the crate's blocked product with swapped strides instead (as fast as
//! `a * b`), and use simple loops for matrix–vector shapes and tiny products. None of
//! them allocates: the blocked product keeps its packing buffers per thread (a
//! thread's first product of a given size may allocate them).
//!
//! The names follow BLAS: the two letters say whether `a` and `b` are used as they
//! are (`n`) or transposed (`t`).

use crate::kernel::{axpy, dot, prepare, ready, scale_by, shape_of, MatRef, Shape};
use crate::reduce::{column_sums, row_sums};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// Products with at most this many multiply-adds (`m·k·n`) use the loops below
/// instead of the blocked product: up to about 6×6×6 they are as fast or faster
/// (measured against matrixmultiply, which the blocked product matches).
const SMALL_WORK: usize = 6 * 6 * 6;

/// Below this, even the strided fallback loop (both operands transposed) beats
/// the blocked product.
const TINY_WORK: usize = 5 * 5 * 5;

/// Computes `c = alpha · a · b + beta · c`.
///
/// If `beta` is zero, `c` is never read.
///
/// # Panics
///
/// Panics if the number of columns of `a` differs from the number of rows of `b`,
/// or if `c` does not have the shape of `a · b`.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::gemm_nn;
/// use nalgebra::DMatrix;
///
/// let a = DMatrix::from_fn(3, 4, |i, j| (i + 2 * j) as f64 * 0.5);
/// let b = DMatrix::from_fn(4, 2, |i, j| (i * j) as f64 - 1.0);
/// let mut c = DMatrix::from_element(3, 2, 1.0);
/// let expected = &a * &b * 2.0 + &c * 0.5;
///
/// gemm_nn(2.0, a.as_view(), b.as_view(), 0.5, &mut c);
/// assert_relative_eq!(c, expected);
/// ```
pub fn gemm_nn<T: Real>(
    alpha: T,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    beta: T,
    c: &mut DMatrix<T>,
) {
    gemm_checked(
        "gemm_nn",
        alpha,
        MatRef::new(&a),
        false,
        MatRef::new(&b),
        false,
        beta,
        c,
    );
}

/// Computes `c = alpha · aᵀ · b + beta · c`.
///
/// If `beta` is zero, `c` is never read.
///
/// # Panics
///
/// Panics if the number of rows of `a` differs from the number of rows of `b`,
/// or if `c` does not have the shape of `aᵀ · b`.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::gemm_tn;
/// use nalgebra::DMatrix;
///
/// let a = DMatrix::from_fn(4, 3, |i, j| (i + 2 * j) as f64 * 0.5);
/// let b = DMatrix::from_fn(4, 2, |i, j| (i * j) as f64 - 1.0);
/// let mut c = DMatrix::from_element(3, 2, 1.0);
/// let expected = a.transpose() * &b * 2.0 + &c * 0.5;
///
/// gemm_tn(2.0, a.as_view(), b.as_view(), 0.5, &mut c);
/// assert_relative_eq!(c, expected);
/// ```
pub fn gemm_tn<T: Real>(
    alpha: T,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    beta: T,
    c: &mut DMatrix<T>,
) {
    gemm_checked(
        "gemm_tn",
        alpha,
        MatRef::new(&a),
        true,
        MatRef::new(&b),
        false,
        beta,
        c,
    );
}

/// Computes `c = alpha · a · bᵀ + beta · c`.
///
/// If `beta` is zero, `c` is never read.
///
/// # Panics
///
/// Panics if the number of columns of `a` differs from the number of columns of `b`,
/// or if `c` does not have the shape of `a · bᵀ`.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::gemm_nt;
/// use nalgebra::DMatrix;
///
/// let a = DMatrix::from_fn(3, 4, |i, j| (i + 2 * j) as f64 * 0.5);
/// let b = DMatrix::from_fn(2, 4, |i, j| (i * j) as f64 - 1.0);
/// let mut c = DMatrix::from_element(3, 2, 1.0);
/// let expected = &a * b.transpose() * 2.0 + &c * 0.5;
///
/// gemm_nt(2.0, a.as_view(), b.as_view(), 0.5, &mut c);
/// assert_relative_eq!(c, expected);
/// ```
pub fn gemm_nt<T: Real>(
    alpha: T,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    beta: T,
    c: &mut DMatrix<T>,
) {
    gemm_checked(
        "gemm_nt",
        alpha,
        MatRef::new(&a),
        false,
        MatRef::new(&b),
        true,
        beta,
        c,
    );
}

/// Computes `c = alpha · aᵀ · bᵀ + beta · c`.
///
/// If `beta` is zero, `c` is never read.
///
/// # Panics
///
/// Panics if the number of rows of `a` differs from the number of columns of `b`,
/// or if `c` does not have the shape of `aᵀ · bᵀ`.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::gemm_tt;
/// use nalgebra::DMatrix;
///
/// let a = DMatrix::from_fn(4, 3, |i, j| (i + 2 * j) as f64 * 0.5);
/// let b = DMatrix::from_fn(2, 4, |i, j| (i * j) as f64 - 1.0);
/// let mut c = DMatrix::from_element(3, 2, 1.0);
/// let expected = a.transpose() * b.transpose() * 2.0 + &c * 0.5;
///
/// gemm_tt(2.0, a.as_view(), b.as_view(), 0.5, &mut c);
/// assert_relative_eq!(c, expected);
/// ```
pub fn gemm_tt<T: Real>(
    alpha: T,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    beta: T,
    c: &mut DMatrix<T>,
) {
    gemm_checked(
        "gemm_tt",
        alpha,
        MatRef::new(&a),
        true,
        MatRef::new(&b),
        true,
        beta,
        c,
    );
}

/// The public kernels: checks the shapes (naming the operands as the kernel sees
/// them), then [`gemm_ref`].
#[allow(clippy::too_many_arguments)] // the BLAS argument list, plus the kernel's name
fn gemm_checked<T: Real>(
    name: &str,
    alpha: T,
    a: MatRef<'_, T>,
    ta: bool,
    b: MatRef<'_, T>,
    tb: bool,
    beta: T,
    c: &mut DMatrix<T>,
) {
    let (oa, ob) = (a.op(ta), b.op(tb));
    let (na, nb) = (if ta { "aᵀ" } else { "a" }, if tb { "bᵀ" } else { "b" });
    assert!(
        oa.ncols == ob.nrows,
        "matgrad: {name}: cannot multiply {na} ({}) by {nb} ({})",
        oa.sh(),
        ob.sh(),
    );
    assert!(
        c.shape() == (oa.nrows, ob.ncols),
        "matgrad: {name}: c is {} but {na} · {nb} is {}",
        shape_of(c),
        Shape(oa.nrows, ob.ncols),
    );
    gemm_ref(alpha, oa, ob, beta, c);
}

/// `c = alpha · a · b + beta · c` for strided `a` (`m×k`) and `b` (`k×n`) and a
/// `c` of shape `m×n`; a zero `beta` never reads `c`.
///
/// Dispatch: a matrix–vector loop when `m` or `n` is 1, one pass when `k` is 1 (an
/// outer product), column-by-column loops for tiny products, the blocked product [`Real::__gemm`] (any strides, so transposes
/// are free) otherwise.
pub(crate) fn gemm_ref<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: &mut DMatrix<T>,
) {
    let (m, k, n) = (a.nrows, a.ncols, b.ncols);
    assert!(
        b.nrows == k && c.shape() == (m, n),
        "matgrad: gemm: shape mismatch"
    );
    if m == 0 || n == 0 {
        return;
    }
    let cs = c.as_mut_slice();
    if k == 0 {
        scale_by(cs, beta);
    } else if n == 1 {
        gemv(alpha, a, b, beta, cs);
    } else if m == 1 {
        // c is 1×n, which is also cᵀ (n×1) in memory: cᵀ = alpha · bᵀ aᵀ + beta · cᵀ.
        gemv(alpha, b.t(), a.t(), beta, cs);
    } else if k == 1 {
        outer(alpha, a, b, beta, cs);
    } else if m * k * n <= TINY_WORK
        || (m * k * n <= SMALL_WORK
            && (cols_contiguous(&a) || (rows_contiguous(&a) && cols_contiguous(&b))))
    {
        for (j, cj) in cs.chunks_exact_mut(m).enumerate() {
            gemv(alpha, a, b.column(j), beta, cj);
        }
    } else {
        blocked_gemm(alpha, a, b, beta, cs);
    }
}

/// `c = alpha · a bᵀ + beta · c` for a column `a` (`m×1`) and a row `b` (`1×n`): one
/// pass over `c`, column by column (the blocked kernel would pack both for an inner
/// dimension of 1; measured 40 % of `‖a b v‖²`'s gradient at n = 512).
fn outer<T: Real>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: &mut [T]) {
    let m = a.nrows;
    for (j, cj) in c.chunks_exact_mut(m).enumerate() {
        let s = alpha * b.get(0, j);
        match (a.as_slice(), beta.is_zero()) {
            (Some(av), true) => cj.iter_mut().zip(av).for_each(|(c, &x)| *c = s * x),
            (Some(av), false) => {
                scale_by(cj, beta);
                axpy(cj, s, av);
            }
            (None, _) => {
                scale_by(cj, beta);
                for (i, c) in cj.iter_mut().enumerate() {
                    *c += s * a.get(i, 0);
                }
            }
        }
    }
}

#[inline]
fn cols_contiguous<T: Copy>(a: &MatRef<'_, T>) -> bool {
    a.nrows <= 1 || a.rs == 1
}

#[inline]
fn rows_contiguous<T: Copy>(a: &MatRef<'_, T>) -> bool {
    a.ncols <= 1 || a.cs == 1
}

/// A transposed matrix × vector product takes one row per dot when `x` has at most
/// this many entries (16 KiB of f64: half an L1 cache)…
const ONE_ROW_MAX_LEN: usize = 2048;
/// …and the matrix at least this many (4 MiB of f64: twice an L2 cache).
const ONE_ROW_MIN_ENTRIES: usize = 512 * 1024;

/// `y = alpha · a · x + beta · y` for `a` `m×k`, `x` `k×1` and `y` of length `m`;
/// a zero `beta` never reads `y`.
fn gemv<T: Real>(alpha: T, a: MatRef<'_, T>, x: MatRef<'_, T>, beta: T, y: &mut [T]) {
    let (m, k) = a.shape();
    debug_assert!(x.shape() == (k, 1) && y.len() == m);
    scale_by(y, beta);
    if m == 0 || k == 0 {
        return;
    }
    if cols_contiguous(&a) {
        // y += Σ_l (alpha x_l) a_l over the columns a_l, four columns per sweep over y.
        let col = |l: usize| a.col(l).expect("contiguous columns");
        let mut l = 0;
        while l + 4 <= k {
            let (c0, c1, c2, c3) = (
                alpha * x.get(l, 0),
                alpha * x.get(l + 1, 0),
                alpha * x.get(l + 2, 0),
                alpha * x.get(l + 3, 0),
            );
            let (a0, a1, a2, a3) = (col(l), col(l + 1), col(l + 2), col(l + 3));
            for ((((y, &v0), &v1), &v2), &v3) in y.iter_mut().zip(a0).zip(a1).zip(a2).zip(a3) {
                *y += c0 * v0 + c1 * v1 + c2 * v2 + c3 * v3;
            }
            l += 4;
        }
        for l in l..k {
            axpy(y, alpha * x.get(l, 0), col(l));
        }
    } else if let (true, Some(xs)) = (rows_contiguous(&a), x.col(0)) {
        // y_i += alpha (row_i · x): contiguous dot products. Four rows per pass over x
        // (x read once for four rows) unless x is short and `a` far larger than L2:
        // there the four interleaved streams of `a` ran 1.5–2× slower than one
        // (1000×1000 read out of cache), while for a long x (4096) or an `a` in L2
        // four rows were 1.1–1.7× faster.
        let row = |i: usize| a.row(i).expect("contiguous rows");
        if k <= ONE_ROW_MAX_LEN && m * k >= ONE_ROW_MIN_ENTRIES {
            for (i, y) in y.iter_mut().enumerate() {
                *y += alpha * dot(row(i), xs);
            }
            return;
        }
        let mut blocks = y.chunks_exact_mut(4);
        for (b, y4) in (&mut blocks).enumerate() {
            let i = 4 * b;
            let d = dot4([row(i), row(i + 1), row(i + 2), row(i + 3)], xs);
            for (y, d) in y4.iter_mut().zip(d) {
                *y += alpha * d;
            }
        }
        let done = m - blocks.into_remainder().len();
        for (i, y) in y.iter_mut().enumerate().skip(done) {
            *y += alpha * dot(row(i), xs);
        }
    } else {
        for l in 0..k {
            let c = alpha * x.get(l, 0);
            for (i, y) in y.iter_mut().enumerate() {
                *y += c * a.get(i, l);
            }
        }
    }
}

/// The dot products of four rows with `x`, each with four partial sums.
#[inline]
fn dot4<T: Real>(rows: [&[T]; 4], x: &[T]) -> [T; 4] {
    let n = x.len();
    let [r0, r1, r2, r3] = rows.map(|r| &r[..n]);
    let mut acc = [[T::zero(); 4]; 4];
    let chunks = r0
        .chunks_exact(4)
        .zip(r1.chunks_exact(4))
        .zip(r2.chunks_exact(4).zip(r3.chunks_exact(4)))
        .zip(x.chunks_exact(4));
    for (((c0, c1), (c2, c3)), cx) in chunks {
        for l in 0..4 {
            acc[0][l] += c0[l] * cx[l];
            acc[1][l] += c1[l] * cx[l];
            acc[2][l] += c2[l] * cx[l];
            acc[3][l] += c3[l] * cx[l];
        }
    }
    let tail = n - n % 4;
    let mut out = [T::zero(); 4];
    for (r, (o, a)) in [r0, r1, r2, r3].iter().zip(out.iter_mut().zip(acc)) {
        let mut s = (a[0] + a[2]) + (a[1] + a[3]);
        for (&v, &xv) in r[tail..].iter().zip(&x[tail..]) {
            s += v * xv;
        }
        *o = s;
    }
    out
}

/// `out (+)= alpha · a b`, `out` resized and overwritten unless `acc`; `what` names
/// the kernel in the panics (`matgrad: {what}: cannot multiply {r}×{c} by {r}×{c}`,
/// or an accumulation into a buffer of the wrong shape).
pub(crate) fn gemm_into<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    what: &str,
) {
    assert!(
        a.ncols == b.nrows,
        "matgrad: {what}: cannot multiply {} by {}",
        a.sh(),
        b.sh(),
    );
    ready(out, acc, a.nrows, b.ncols, what);
    let beta = if acc { T::one() } else { T::zero() };
    gemm_ref(alpha, a, b, beta, out);
}

/// `out = a * b`, bit-for-bit nalgebra's `&a * &b`, allocating nothing once `out` has
/// its shape; `a.ncols() == b.nrows()` (checked by the caller).
///
/// nalgebra multiplies with matrixmultiply when every dimension exceeds 5 (which
/// allocates a packing buffer on every call) and with its own `gemv` loops otherwise.
/// Here the first case goes to [`Real::__gemm`], whose blocked kernel computes the
/// same bits as matrixmultiply with per-thread packing buffers; the second follows
/// nalgebra's order of operations ([`mul_in_column_order`], no allocation).
pub(crate) fn mul_as_nalgebra<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    prepare(out, m, n);
    if m > 5 && k > 5 && n > 5 {
        gemm_onto(out, a, b, T::one(), T::zero());
    } else {
        mul_in_column_order(out, a, b);
    }
}

/// The depth of one matrixmultiply pass (its `KC`, 256 for `f32` and `f64` unless
/// matrixmultiply is built with `MATMUL_*GEMM_KC` set): a product no deeper is
/// computed in one block, whose kernel rounds `α (a b) + β c` once per entry.
const ONE_PASS_DEPTH: usize = 256;

/// Whether nalgebra computes the m×k by k×n product `a * b` in one matrixmultiply
/// pass (every dimension above 5, the depth within one block): then the kernel's
/// accumulator `ab` is exactly the product nalgebra stores, and GEMM's epilogue
/// `fma(α, ab, β c)` with `α, β ∈ {1, −1}` rounds `±ab ± c` once, as nalgebra's
/// product followed by a separate sum does. [`gemm_onto`] is then bit-exact.
pub(crate) fn one_pass(m: usize, k: usize, n: usize) -> bool {
    m > 5 && k > 5 && n > 5 && k <= ONE_PASS_DEPTH
}

/// `out = α (a b) + β out` by matrixmultiply, `out` already m×n (see [`one_pass`]).
pub(crate) fn gemm_onto<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    alpha: T,
    beta: T,
) {
    debug_assert!(b.nrows() == a.ncols() && out.shape() == (a.nrows(), b.ncols()));
    blocked_gemm(
        alpha,
        MatRef::new(&a),
        MatRef::new(&b),
        beta,
        out.as_mut_slice(),
    );
}

/// `c = α a b + β c` by the blocked product (`T::__gemm`: matrixmultiply's bits),
/// `c` a contiguous column-major `a.nrows × b.ncols` buffer.
fn blocked_gemm<T: Real>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: &mut [T]) {
    let (m, k, n) = (a.nrows, a.ncols, b.ncols);
    assert!(b.nrows == k && c.len() == m * n);
    // SAFETY: `a` and `b` address their entries through their strides (MatRef's
    // invariant); `c` holds the m×n result contiguously and, borrowed mutably, cannot
    // overlap them.
    unsafe {
        T::__gemm(
            m,
            k,
            n,
            alpha,
            a.ptr(),
            a.rs as isize,
            a.cs as isize,
            b.ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            1,
            m as isize,
        );
    }
}

/// `out = a * b` for the shapes nalgebra does not send to matrixmultiply (a dimension
/// ≤ 5: matrix × vector, thin products): bit for bit nalgebra's `gemm` fallback.
///
/// nalgebra computes each output column as a `gemv`, one `axpy` sweep over the column
/// per term, `y = a₀ x₀`, then `y = aₖ xₖ + y` for k = 1, 2, …. This loop performs
/// the same multiplications and additions in the same order for every entry (so the
/// same bits: Rust never contracts them into FMAs), but four terms per sweep, which
/// reads and writes `y` a quarter as often: 1.6× faster for a 4096×512 `X w`.
fn mul_in_column_order<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
) {
    let (m, k) = a.shape();
    if m < 4 && k > 0 {
        return mul_few_rows(out, a, b);
    }
    let a = MatRef::new(&a);
    // A `DMatrixView` has a unit row stride: its columns are slices.
    let col = |p: usize| &a.col(p).expect("a view's columns are contiguous")[..m];
    for j in 0..b.ncols() {
        let y = &mut out.as_mut_slice()[j * m..(j + 1) * m];
        let x = b.column(j);
        if k == 0 {
            y.fill(T::zero());
            continue;
        }
        for (yi, &ai) in y.iter_mut().zip(col(0)) {
            *yi = ai * x[0];
        }
        let mut p = 1;
        while p + 4 <= k {
            let (x0, x1, x2, x3) = (x[p], x[p + 1], x[p + 2], x[p + 3]);
            let columns = col(p)
                .iter()
                .zip(col(p + 1))
                .zip(col(p + 2))
                .zip(col(p + 3));
            for (yi, (((&a0, &a1), &a2), &a3)) in y.iter_mut().zip(columns) {
                let mut t = a0 * x0 + *yi;
                t = a1 * x1 + t;
                t = a2 * x2 + t;
                *yi = a3 * x3 + t;
            }
            p += 4;
        }
        for p in p..k {
            for (yi, &ai) in y.iter_mut().zip(col(p)) {
                *yi = ai * x[p] + *yi;
            }
        }
    }
}

/// [`mul_in_column_order`] for an `a` of fewer than four rows (`xᵀ A`): each entry
/// is one chain of `k` dependent multiply-adds, so eight output columns are summed
/// side by side, each in nalgebra's order (`y = a₀ b₀`, then `y = aₗ bₗ + y`): the
/// same bits, eight independent chains instead of one.
fn mul_few_rows<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>) {
    const LANES: usize = 8;
    let (m, k) = a.shape();
    let (bm, n) = (MatRef::new(&b), b.ncols());
    // A `DMatrixView` has a unit row stride: its columns are slices.
    let col = |j: usize| &bm.col(j).expect("a view's columns are contiguous")[..k];
    let o = out.as_mut_slice();
    for i in 0..m {
        let mut j0 = 0;
        while j0 < n {
            let lanes = LANES.min(n - j0);
            // Past the last column, lanes repeat it and are not stored.
            let cols: [&[T]; LANES] = std::array::from_fn(|c| col(j0 + c.min(lanes - 1)));
            let mut acc = [T::zero(); LANES];
            let a0 = a[(i, 0)];
            for c in 0..LANES {
                acc[c] = a0 * cols[c][0];
            }
            for l in 1..k {
                let al = a[(i, l)];
                for c in 0..LANES {
                    acc[c] = al * cols[c][l] + acc[c];
                }
            }
            for c in 0..lanes {
                o[i + (j0 + c) * m] = acc[c];
            }
            j0 += lanes;
        }
    }
}

/// `(p * q).trace()` without forming the product, bit for bit what
/// [`mul_to`](crate::__private::mul_to) and [`trace`](crate::__private::trace) give: each diagonal entry is computed as the product computes it (the
/// blocked kernel's arithmetic, see [`Real::__product_entry`], or nalgebra's `gemv`
/// order for a dimension ≤ 5) and the entries are summed in order, as nalgebra's
/// `trace` does. O(m k) instead of O(m k n). `p` is `m×k` and `q` is `k×m` (checked
/// by the caller).
pub(crate) fn trace_of_product_ref<T: Real>(p: DMatrixView<'_, T>, q: DMatrixView<'_, T>) -> T {
    let (m, k) = p.shape();
    let (pr, qr) = (MatRef::new(&p), MatRef::new(&q));
    let blocked = m > 5 && k > 5;
    let mut trace = T::zero();
    for i in 0..m {
        let entry = if k == 0 {
            T::zero()
        } else if blocked {
            // SAFETY: row i of p (k entries, stride cs) and column i of q (k entries,
            // stride rs) are entries of the views (MatRef's invariant).
            unsafe {
                T::__product_entry(
                    (m, m),
                    (i, i),
                    k,
                    pr.ptr().wrapping_add(i * pr.rs),
                    pr.cs as isize,
                    qr.ptr().wrapping_add(i * qr.cs),
                    qr.rs as isize,
                )
            }
        } else {
            // `mul_in_column_order`: y = p₀ q₀, then y = pₗ qₗ + y.
            let mut y = pr.get(i, 0) * qr.get(0, i);
            for l in 1..k {
                y = pr.get(i, l) * qr.get(l, i) + y;
            }
            y
        };
        trace += entry;
    }
    trace
}

/// `out (+)= alpha · 𝟙𝟙ᵀ op(b)`, the left factor `rows×k` all ones: every row of the
/// result is `alpha` times the column sums of `op(b)`, with no matrix product (the
/// adjoint of a product whose own adjoint is a sum's `s̄ 𝟙𝟙ᵀ`). `sums` is scratch.
pub(crate) fn fill_gemm_ref<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    rows: usize,
    b: MatRef<'_, T>,
    tb: bool,
    sums: &mut DMatrix<T>,
) {
    // The column sums of op(b): of b's columns, or of bᵀ's (b's rows).
    if tb {
        row_sums(b, sums);
    } else {
        column_sums(b, sums);
    }
    ready(out, acc, rows, sums.len(), "ones_mul_to");
    for (c, &s) in out
        .as_mut_slice()
        .chunks_exact_mut(rows.max(1))
        .zip(sums.iter())
    {
        let v = alpha * s;
        if acc {
            c.iter_mut().for_each(|o| *o += v);
        } else {
            c.fill(v);
        }
    }
}

/// `out (+)= alpha · op(a) 𝟙𝟙ᵀ`, the right factor `k×cols` all ones: every column of
/// the result is `alpha` times the row sums of `op(a)`. `sums` is scratch.
pub(crate) fn gemm_fill_ref<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: MatRef<'_, T>,
    ta: bool,
    cols: usize,
    sums: &mut DMatrix<T>,
) {
    if ta {
        column_sums(a, sums);
    } else {
        row_sums(a, sums);
    }
    let rows = sums.len();
    ready(out, acc, rows, cols, "mul_ones_to");
    if rows == 0 {
        return;
    }
    for c in out.as_mut_slice().chunks_exact_mut(rows) {
        if acc {
            axpy(c, alpha, sums.as_slice());
        } else {
            c.iter_mut()
                .zip(sums.iter())
                .for_each(|(o, &s)| *o = alpha * s);
        }
    }
}

#[cfg(test)]
mod summed_tests {
    use super::*;
    use crate::__private::{mul_add_col_to, mul_add_row_to, mul_add_to};

    fn mat(m: usize, n: usize, seed: f64) -> DMatrix<f64> {
        DMatrix::from_fn(m, n, |i, j| ((i * 7 + j * 13) as f64 * seed).sin())
    }

    /// The one GEMM is taken exactly where it keeps nalgebra's bits (the scratch
    /// buffer stays empty), and every path gives the bits of nalgebra's product
    /// followed by the sum.
    #[test]
    fn one_gemm_where_it_keeps_nalgebras_bits() {
        for (m, k, n, one) in [
            (6, 6, 6, true),
            (40, 256, 9, true),
            (5, 6, 6, false),
            (6, 5, 6, false),
            (6, 6, 5, false),
            (8, 257, 7, false),
        ] {
            assert_eq!(one_pass(m, k, n), one);
            let (a, b, c) = (mat(m, k, 0.3), mat(k, n, 0.7), mat(m, n, 1.1));
            let (row, col) = (mat(1, n, 0.9), mat(m, 1, 0.4));
            let p = &a * &b;
            let (av, bv) = (a.as_view(), b.as_view());
            for (sub, first, want) in [
                (true, true, &p - &c),
                (true, false, &c - &p),
                (false, true, &p + &c),
                (false, false, &c + &p),
            ] {
                let (mut out, mut scratch) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
                mul_add_to(
                    &mut out,
                    &mut scratch,
                    av,
                    bv,
                    c.as_view(),
                    sub,
                    first,
                    "p",
                    "s",
                );
                assert_eq!(scratch.is_empty(), one, "{m}×{k}×{n}");
                assert_eq!(out, want, "{m}×{k}×{n}, sub {sub}, product first {first}");
            }
            let (mut out, mut scratch) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            mul_add_row_to(&mut out, &mut scratch, av, bv, row.as_view(), "p", "r");
            assert_eq!(scratch.is_empty(), one);
            assert_eq!(out, crate::add_row(&p, &row), "{m}×{k}×{n} add_row");
            let (mut out, mut scratch) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            mul_add_col_to(&mut out, &mut scratch, av, bv, col.as_view(), "p", "c");
            assert_eq!(scratch.is_empty(), one);
            assert_eq!(out, crate::add_col(&p, &col), "{m}×{k}×{n} add_col");
        }
    }
}

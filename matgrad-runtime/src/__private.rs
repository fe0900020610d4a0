//! Kernels called by the code `#[grad]` generates. Not a stable API.
//!
//! Conventions, shared by every kernel here:
//!
//! - inputs are [`DMatrixView`]s (any owned nalgebra matrix becomes one through [`view`]);
//! - the output is `out: &mut DMatrix<T>`; forward kernels (`*_to` without `acc`)
//!   resize `out` when its shape differs (allocating only then) and overwrite it;
//! - backward kernels take `acc: bool`: when `false` they resize and overwrite `out`
//!   with the contribution (`out` is never read), when `true` they add the
//!   contribution to `out`, whose shape must already be right;
//! - `op: &str` is the source text of the user's expression, used in panic
//!   messages of the form `matgrad: x * w: cannot multiply 3×4 by 5×2`;
//! - no kernel allocates once `out` (and any scratch) has its final shape, except
//!   where documented (nalgebra's inverse). Matrix products use the crate's blocked
//!   kernel ([`Real::__gemm`]), whose packing buffers are kept per thread: a thread's
//!   first product of a given size may allocate them, later ones do not;
//! - [`mul_to`] is bit-for-bit nalgebra's `&a * &b`, for every shape: products with a
//!   dimension ≤ 5 (and matrix–vector products) follow nalgebra's own `gemv` order of
//!   operations four columns per sweep, the others go through the blocked kernel, which reproduces matrixmultiply's arithmetic
//!   (its blocking over `k`, its fused or unfused multiply-adds, its edge tiles).
#![allow(missing_docs, clippy::missing_panics_doc, clippy::too_many_arguments)]

pub use crate::chain::{chain_backward, chain_factor_adjoint_to, chain_product_to, chain_to, Plan};
pub use crate::fused::{relu_step, sigmoid_scalar, zip_n_to};
pub use nalgebra::SMatrix;

use crate::Workspace;
use std::cell::RefCell;
use std::thread::LocalKey;

/// Runs `f` with the calling thread's workspace for one `NAME_grad` function (a
/// `thread_local!` the generated code declares in the function), so that repeated
/// `NAME_grad` calls reuse their intermediates instead of allocating (and, for large
/// ones, page-faulting) them anew. A fresh workspace serves when the cached one is
/// unavailable (being destroyed with its thread, or already borrowed).
pub fn with_workspace<T: 'static, R>(
    key: &'static LocalKey<RefCell<Workspace<T>>>,
    f: impl FnOnce(&mut Workspace<T>) -> R,
) -> R {
    let mut f = Some(f);
    let cached = key.try_with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .map(|mut ws| (f.take().expect("called once"))(&mut ws))
    });
    match (cached, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(&mut Workspace::new()),
        (_, None) => unreachable!("`f` ran and returned"),
    }
}

use crate::blas::gemm_ref;
use crate::broadcast::{add_col_ref, add_row_ref};
pub use crate::decomp::ln_det_inverse_static;
use crate::decomp::{ln_det_inverse_ref, ln_det_ref};
use crate::elementwise::{relu_scalar, softplus_scalar};
use crate::kernel::{self, binary, prepare, ready, same_shape, ternary, unary, MatRef, Shape};
use crate::reduce::{
    log_sum_exp_adjoint_ref, log_sum_exp_ref, softmax_ce_adjoint_y_ref, softmax_ce_ref,
    softmax_ce_with_adjoint_ref,
};
pub use crate::solve::{
    lu_solve_adjoint_b_to, lu_solve_adjoint_x_to, lu_solve_right_adjoint_b_to,
    lu_solve_right_adjoint_x_to, lu_solve_right_to, lu_solve_to, lu_to,
};
use crate::Real;
use nalgebra::{
    DMatrix, DMatrixView, DVector, Dim, Dyn, IsContiguous, Matrix, Matrix4, RawStorage, RowDVector,
    Scalar, U1,
};

// ---------------------------------------------------------------------------
// Views and gradient buffers
// ---------------------------------------------------------------------------

/// Anything with contiguous column-major storage, seen as a dynamic matrix.
pub trait AsView<T> {
    /// The whole matrix as a `DMatrixView`, without copying.
    fn dview(&self) -> DMatrixView<'_, T>;
}

impl<T: Scalar, R: Dim, C: Dim, S: RawStorage<T, R, C> + IsContiguous> AsView<T>
    for Matrix<T, R, C, S>
{
    #[inline]
    fn dview(&self) -> DMatrixView<'_, T> {
        let (r, c) = self.shape();
        DMatrixView::from_slice(self.as_slice(), r, c)
    }
}

impl<T, M: AsView<T> + ?Sized> AsView<T> for &M {
    #[inline]
    fn dview(&self) -> DMatrixView<'_, T> {
        (**self).dview()
    }
}

/// `m` as a `DMatrixView` (no copy).
#[inline]
pub fn view<T, M: AsView<T> + ?Sized>(m: &M) -> DMatrixView<'_, T> {
    m.dview()
}

/// The owned matrix types a gradient can be written into (`DMatrix`, `DVector`,
/// `RowDVector`): the generated code takes the buffer out as a `DMatrix`, fills it,
/// and puts it back, so no copy and no allocation happen in steady state.
pub trait GradBuf<T> {
    /// Moves the storage out as a `DMatrix` (same shape), leaving an empty buffer.
    fn take_matrix(&mut self) -> DMatrix<T>;
    /// Moves `m` back in. `m` has the shape of the variable (a column for `DVector`,
    /// a row for `RowDVector`).
    fn put_matrix(&mut self, m: DMatrix<T>);
}

impl<T: Scalar> GradBuf<T> for DMatrix<T> {
    #[inline]
    fn take_matrix(&mut self) -> DMatrix<T> {
        std::mem::take(self)
    }

    #[inline]
    fn put_matrix(&mut self, m: DMatrix<T>) {
        *self = m;
    }
}

impl<T: Scalar> GradBuf<T> for DVector<T> {
    #[inline]
    fn take_matrix(&mut self) -> DMatrix<T> {
        let v = std::mem::take(self);
        let n = v.nrows();
        v.reshape_generic(Dyn(n), Dyn(1))
    }

    #[inline]
    fn put_matrix(&mut self, m: DMatrix<T>) {
        assert!(
            m.ncols() == 1,
            "matgrad: the gradient of a DVector must be a column, not {}×{}",
            m.nrows(),
            m.ncols(),
        );
        let n = m.nrows();
        *self = m.reshape_generic(Dyn(n), U1);
    }
}

impl<T: Scalar> GradBuf<T> for RowDVector<T> {
    #[inline]
    fn take_matrix(&mut self) -> DMatrix<T> {
        let v = std::mem::take(self);
        let n = v.ncols();
        v.reshape_generic(Dyn(1), Dyn(n))
    }

    #[inline]
    fn put_matrix(&mut self, m: DMatrix<T>) {
        assert!(
            m.nrows() == 1,
            "matgrad: the gradient of a RowDVector must be a row, not {}×{}",
            m.nrows(),
            m.ncols(),
        );
        let n = m.ncols();
        *self = m.reshape_generic(U1, Dyn(n));
    }
}

/// The shape of `a`, for messages (`3×4`).
#[inline]
fn dims<T>(a: &DMatrixView<'_, T>) -> Shape {
    Shape(a.nrows(), a.ncols())
}

/// The shape `p×q` of the factor `x` of `g = x ⊗ y` (or `y ⊗ x`), the other factor
/// being `r×s`. When that factor is empty, `g` is empty and cannot tell: `out`'s
/// current shape is kept in that dimension.
fn kron_factor_shape<T: Real>(
    out: &DMatrix<T>,
    g: &MatRef<'_, T>,
    r: usize,
    s: usize,
    what: &str,
) -> (usize, usize) {
    assert!(
        (r == 0 || g.nrows % r == 0) && (s == 0 || g.ncols % s == 0),
        "matgrad: {what}: a {} adjoint is not a Kronecker product with a {} factor",
        g.sh(),
        Shape(r, s),
    );
    let p = g.nrows.checked_div(r).unwrap_or(out.nrows());
    let q = g.ncols.checked_div(s).unwrap_or(out.ncols());
    (p, q)
}

// ---------------------------------------------------------------------------
// Forward kernels: out = f(inputs), resizing out when needed
// ---------------------------------------------------------------------------

/// `out = a * b`, bit-for-bit nalgebra's `&a * &b`, allocating nothing once `out` has
/// its shape. Panics `matgrad: {op}: cannot multiply {r}×{c} by {r}×{c}`.
///
/// nalgebra multiplies with matrixmultiply when every dimension exceeds 5 (which
/// allocates a packing buffer on every call) and with its own `gemv` loops otherwise.
/// Here the first case goes to [`Real::__gemm`], whose blocked kernel computes the
/// same bits as matrixmultiply with per-thread packing buffers; the second still
/// calls nalgebra's `gemm` (no allocation).
pub fn mul_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    op: &str,
) {
    assert!(
        a.ncols() == b.nrows(),
        "matgrad: {op}: cannot multiply {} by {}",
        dims(&a),
        dims(&b),
    );
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    prepare(out, m, n);
    if m > 5 && k > 5 && n > 5 {
        let (a, b) = (MatRef::new(&a), MatRef::new(&b));
        // SAFETY: `a` and `b` address their entries through their strides (MatRef's
        // invariant); `out` is an owned, contiguous m×n column-major buffer, borrowed
        // mutably, so it overlaps neither.
        unsafe {
            T::__gemm(
                m,
                k,
                n,
                T::one(),
                a.ptr(),
                a.rs as isize,
                a.cs as isize,
                b.ptr(),
                b.rs as isize,
                b.cs as isize,
                T::zero(),
                out.as_mut_slice().as_mut_ptr(),
                1,
                m as isize,
            );
        }
    } else {
        mul_in_column_order(out, a, b);
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

/// `out = a + b`. Panics `matgrad: {op}: cannot add {r}×{c} and {r}×{c}`.
pub fn add_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    op: &str,
) {
    assert!(
        a.shape() == b.shape(),
        "matgrad: {op}: cannot add {} and {}",
        dims(&a),
        dims(&b),
    );
    binary(out, false, MatRef::new(&a), MatRef::new(&b), op, |x, y| {
        x + y
    });
}

/// `out = a - b`. Panics `matgrad: {op}: cannot subtract {r}×{c} from {r}×{c}` (b's shape first).
pub fn sub_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    op: &str,
) {
    assert!(
        a.shape() == b.shape(),
        "matgrad: {op}: cannot subtract {} from {}",
        dims(&b),
        dims(&a),
    );
    binary(out, false, MatRef::new(&a), MatRef::new(&b), op, |x, y| {
        x - y
    });
}

/// `out = -a`.
pub fn neg_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    unary(out, false, MatRef::new(&a), "neg_to", |x| -x);
}

/// `out_ij = a_ij * s` (what nalgebra computes for `a * s`, `s * a` and `a.scale(s)`).
pub fn scale_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, s: T) {
    unary(out, false, MatRef::new(&a), "scale_to", |x| x * s);
}

/// `out_ij = a_ij / s` (nalgebra's `a / s`: a division, not a multiplication by `1/s`).
pub fn div_scalar_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, s: T) {
    unary(out, false, MatRef::new(&a), "div_scalar_to", |x| x / s);
}

/// `out = aᵀ`.
pub fn transpose_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    unary(out, false, MatRef::new(&a).t(), "transpose_to", |x| x);
}

/// `out = a ⊙ b`. Panics `matgrad: {op}: cannot multiply entrywise {r}×{c} and {r}×{c}`.
pub fn component_mul_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    op: &str,
) {
    assert!(
        a.shape() == b.shape(),
        "matgrad: {op}: cannot multiply entrywise {} and {}",
        dims(&a),
        dims(&b),
    );
    binary(out, false, MatRef::new(&a), MatRef::new(&b), op, |x, y| {
        x * y
    });
}

/// `out = a ⊘ b`. Panics `matgrad: {op}: cannot divide entrywise {r}×{c} by {r}×{c}`.
pub fn component_div_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    op: &str,
) {
    assert!(
        a.shape() == b.shape(),
        "matgrad: {op}: cannot divide entrywise {} by {}",
        dims(&a),
        dims(&b),
    );
    binary(out, false, MatRef::new(&a), MatRef::new(&b), op, |x, y| {
        x / y
    });
}

/// `out_ij = f(a_ij)`, in column-major order (as nalgebra's `map`).
pub fn map_to<T: Real, F: Fn(T) -> T>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, f: F) {
    unary(out, false, MatRef::new(&a), "map_to", f);
}

/// `out_ij = a_ij + s`.
pub fn add_scalar_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, s: T) {
    unary(out, false, MatRef::new(&a), "add_scalar_to", |x| x + s);
}

/// `out = a ⊗ b` (bit-for-bit nalgebra's `kronecker`).
pub fn kronecker_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>) {
    let (a, b) = (MatRef::new(&a), MatRef::new(&b));
    let ((p, q), (r, s)) = (a.shape(), b.shape());
    prepare(out, p * r, q * s);
    if p * r == 0 {
        return;
    }
    // nalgebra's loop order and products (`a_ij * b_kl`), one output column at a time.
    for (jo, oc) in out.as_mut_slice().chunks_exact_mut(p * r).enumerate() {
        let (j1, j2) = (jo / s, jo % s);
        for (i1, block) in oc.chunks_exact_mut(r).enumerate() {
            let coeff = a.get(i1, j1);
            match b.col(j2) {
                Some(bc) => block.iter_mut().zip(bc).for_each(|(o, &x)| *o = coeff * x),
                None => block
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i2, o)| *o = coeff * b.get(i2, j2)),
            }
        }
    }
}

/// `out = a⁻¹` with nalgebra's `try_inverse` (same bits; allocates for n > 4 as nalgebra does).
/// A non-square `a` panics `matgrad: {op}: cannot invert a {r}×{c} matrix`; a singular one
/// panics with `expect` when given (the user's `.expect(msg)`), otherwise with
/// `matgrad: {op}: the matrix is singular (called unwrap on None)`.
pub fn inverse_to<T: Real>(
    out: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    op: &str,
    expect: Option<&str>,
) {
    let (n, c) = a.shape();
    assert!(n == c, "matgrad: {op}: cannot invert a {} matrix", dims(&a));
    prepare(out, n, n);
    let ok = if n == 4 {
        // nalgebra copies a 4×4 matrix before inverting it in place: a static copy
        // takes no heap allocation and gives the same bits.
        let mut m4 = Matrix4::from_fn(|i, j| a[(i, j)]);
        let ok = m4.try_inverse_mut();
        out.copy_from(&m4);
        ok
    } else {
        // `try_inverse` is `into_owned` + `try_inverse_mut`: the same bits, with `out`
        // as the owned copy (nalgebra still clones it for n > 4).
        out.copy_from(&a);
        out.try_inverse_mut()
    };
    if !ok {
        match expect {
            Some(msg) => panic!("{msg}"),
            None => panic!("matgrad: {op}: the matrix is singular (called unwrap on None)"),
        }
    }
}

/// `a.dot(b)`; panics `matgrad: {op}: cannot take the dot product of {r}×{c} and {r}×{c}`.
pub fn dot<T: Real>(a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) -> T {
    assert!(
        a.shape() == b.shape(),
        "matgrad: {op}: cannot take the dot product of {} and {}",
        dims(&a),
        dims(&b),
    );
    a.dot(&b)
}

/// `a[(i, j)]`; panics `matgrad: {op}: index ({i}, {j}) is out of range for a {r}×{c} matrix`.
pub fn index<T: Real>(a: DMatrixView<'_, T>, i: usize, j: usize, op: &str) -> T {
    assert!(
        i < a.nrows() && j < a.ncols(),
        "matgrad: {op}: index ({i}, {j}) is out of range for a {} matrix",
        dims(&a),
    );
    a[(i, j)]
}

/// `a.trace()`; panics `matgrad: {op}: cannot take the trace of a {r}×{c} matrix` if not square.
pub fn trace<T: Real>(a: DMatrixView<'_, T>, op: &str) -> T {
    assert!(
        a.is_square(),
        "matgrad: {op}: cannot take the trace of a {} matrix",
        dims(&a),
    );
    a.trace()
}

/// `(p * q).trace()` without forming the product, bit for bit what [`mul_to`] and
/// [`trace`] give: each diagonal entry is computed as the product computes it (the
/// blocked kernel's arithmetic, see [`Real::__product_entry`], or nalgebra's `gemv`
/// order for a dimension ≤ 5) and the entries are summed in order, as nalgebra's
/// `trace` does. O(m k) instead of O(m k n). Panics as `p * q` and `.trace()` would.
pub fn trace_of_product<T: Real>(p: DMatrixView<'_, T>, q: DMatrixView<'_, T>, op: &str) -> T {
    assert!(
        p.ncols() == q.nrows(),
        "matgrad: {op}: cannot multiply {} by {}",
        dims(&p),
        dims(&q),
    );
    assert!(
        p.nrows() == q.ncols(),
        "matgrad: {op}: cannot take the trace of a {} matrix",
        Shape(p.nrows(), q.ncols()),
    );
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

/// `a.determinant()` (nalgebra's, same bits); panics on non-square as `trace`.
pub fn determinant<T: Real>(a: DMatrixView<'_, T>, op: &str) -> T {
    assert!(
        a.is_square(),
        "matgrad: {op}: cannot take the determinant of a {} matrix",
        dims(&a),
    );
    a.determinant()
}

/// `out = sigmoid(a)`, the same bits as [`crate::sigmoid`].
pub fn sigmoid_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    unary(out, false, MatRef::new(&a), "sigmoid_to", sigmoid_scalar);
}

/// `out = relu(a)`, the same bits as [`crate::relu`].
pub fn relu_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    unary(out, false, MatRef::new(&a), "relu_to", relu_scalar);
}

/// `out = softplus(a)`, the same bits as [`crate::softplus`].
pub fn softplus_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    unary(out, false, MatRef::new(&a), "softplus_to", softplus_scalar);
}

/// `out = add_row(m, r)`. Panics `matgrad: {op}: cannot add a {r}×{c} row to each row of a {r}×{c} matrix`.
pub fn add_row_to<T: Real>(
    out: &mut DMatrix<T>,
    m: DMatrixView<'_, T>,
    r: DMatrixView<'_, T>,
    op: &str,
) {
    add_row_ref(out, MatRef::new(&m), MatRef::new(&r), op);
}

/// `out = add_col(m, c)`. Panics `matgrad: {op}: cannot add a {r}×{c} column to each column of a {r}×{c} matrix`.
pub fn add_col_to<T: Real>(
    out: &mut DMatrix<T>,
    m: DMatrixView<'_, T>,
    c: DMatrixView<'_, T>,
    op: &str,
) {
    add_col_ref(out, MatRef::new(&m), MatRef::new(&c), op);
}

/// `ln |det a|`, the same bits as [`crate::ln_det`], using `scratch` (resized to
/// what it needs) instead of allocating.
pub fn ln_det_with<T: Real>(a: DMatrixView<'_, T>, scratch: &mut DMatrix<T>, op: &str) -> T {
    ln_det_ref(MatRef::new(&a), scratch, op)
}

/// `ln |det a|` (the same bits as [`crate::ln_det`]) and `inv = a⁻¹`, from one
/// factorisation, using `scratch` instead of allocating. A singular `a` gives
/// `-inf` and a non-finite `inv` (no panic).
pub fn ln_det_inverse_to<T: Real>(
    inv: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    scratch: &mut DMatrix<T>,
    op: &str,
) -> T {
    ln_det_inverse_ref(inv, MatRef::new(&a), scratch, op)
}

/// The same bits as [`crate::log_sum_exp`].
pub fn log_sum_exp<T: Real>(a: DMatrixView<'_, T>) -> T {
    log_sum_exp_ref(MatRef::new(&a))
}

/// The same bits as [`crate::softmax_cross_entropy`]; panics on mismatched shapes
/// (`matgrad: {op}: cannot compare {r}×{c} scores with {r}×{c} targets`).
pub fn softmax_cross_entropy<T: Real>(z: DMatrixView<'_, T>, y: DMatrixView<'_, T>, op: &str) -> T {
    softmax_ce_ref(MatRef::new(&z), MatRef::new(&y), op)
}

/// [`softmax_cross_entropy`]'s value, bit for bit, and in `adjoint` the gradient of
/// that value with respect to `z`, `softmax(z) ⊙ rowsum(y) − y` (softmax per row),
/// from one exponential per entry; the reverse sweep scales it by the incoming
/// adjoint, usually inside a product's `alpha`.
pub fn softmax_cross_entropy_with_adjoint<T: Real>(
    adjoint: &mut DMatrix<T>,
    z: DMatrixView<'_, T>,
    y: DMatrixView<'_, T>,
    op: &str,
) -> T {
    softmax_ce_with_adjoint_ref(adjoint, MatRef::new(&z), MatRef::new(&y), op)
}

// ---------------------------------------------------------------------------
// Backward kernels: out (+)= contribution
// ---------------------------------------------------------------------------

/// `out (+)= alpha · op(a)`, `op(a) = aᵀ` when `ta`.
pub fn axpy_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    ta: bool,
) {
    unary(out, acc, MatRef::new(&a).op(ta), "axpy_to", |x| alpha * x);
}

/// `out (+)= alpha · op(a) · op(b)`. Uses the blocked kernel ([`Real::__gemm`]) with
/// swapped strides for the transposed operands (never nalgebra's `gemm` on a
/// transposed view, never a materialised transpose), a matrix–vector loop when a
/// dimension is 1, and simple loops for tiny products; allocates nothing once `out`
/// has its shape (and the thread's packing buffers their size).
pub fn gemm_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    ta: bool,
    b: DMatrixView<'_, T>,
    tb: bool,
) {
    let (a, b) = (MatRef::new(&a).op(ta), MatRef::new(&b).op(tb));
    assert!(
        a.ncols == b.nrows,
        "matgrad: gemm_to: cannot multiply {} by {}",
        a.sh(),
        b.sh(),
    );
    ready(out, acc, a.nrows, b.ncols, "gemm_to");
    let beta = if acc { T::one() } else { T::zero() };
    gemm_ref(alpha, a, b, beta, out);
}

/// The shape of `op(a)`.
fn op_shape<T>(a: &DMatrixView<'_, T>, t: bool) -> (usize, usize) {
    let (r, c) = a.shape();
    if t {
        (c, r)
    } else {
        (r, c)
    }
}

/// Multiply-adds of `op(a) · op(b)`.
pub fn product_cost<T>(a: DMatrixView<'_, T>, ta: bool, b: DMatrixView<'_, T>, tb: bool) -> usize {
    let ((m, k), (_, n)) = (op_shape(&a, ta), op_shape(&b, tb));
    m * k * n
}

/// Multiply-adds of the chain `op(a) · op(b) · op(c)`: in its cheaper order, and with
/// the pair `a b` (when `left`, else `b c`) already formed. For an `m×k`, `k×n`, `n×p`
/// chain, `(a b) c` costs `m k n + m n p` and `a (b c)` costs `k n p + m k p`.
pub fn chain_costs<T>(
    a: DMatrixView<'_, T>,
    ta: bool,
    b: DMatrixView<'_, T>,
    tb: bool,
    c: DMatrixView<'_, T>,
    tc: bool,
    left: bool,
) -> (usize, usize) {
    let ((m, k), (_, n), (_, p)) = (op_shape(&a, ta), op_shape(&b, tb), op_shape(&c, tc));
    let (ab_c, a_bc) = (m * k * n + m * n * p, k * n * p + m * k * p);
    (ab_c.min(a_bc), if left { m * n * p } else { m * k * p })
}

/// `out (+)= alpha · op(a) · op(b) · op(c)` in the cheaper association (see
/// [`chain_costs`]), the intermediate product in `tmp`.
pub fn chain3_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    ta: bool,
    b: DMatrixView<'_, T>,
    tb: bool,
    c: DMatrixView<'_, T>,
    tc: bool,
    tmp: &mut DMatrix<T>,
) {
    let ((m, k), (_, n), (_, p)) = (op_shape(&a, ta), op_shape(&b, tb), op_shape(&c, tc));
    if m * k * n + m * n * p <= k * n * p + m * k * p {
        gemm_to(tmp, false, T::one(), a, ta, b, tb);
        gemm_to(out, acc, alpha, view(&*tmp), false, c, tc);
    } else {
        gemm_to(tmp, false, T::one(), b, tb, c, tc);
        gemm_to(out, acc, alpha, a, ta, view(&*tmp), false);
    }
}

/// `sums_j = Σ_i x_ij` (length `x.ncols`).
fn column_sums<T: Real>(x: MatRef<'_, T>, sums: &mut DMatrix<T>) {
    prepare(sums, x.ncols, 1);
    for (j, s) in sums.iter_mut().enumerate() {
        *s = match x.col(j) {
            Some(c) => kernel::sum(c),
            None => (0..x.nrows).fold(T::zero(), |acc, i| acc + x.get(i, j)),
        };
    }
}

/// `sums_i = Σ_j x_ij` (length `x.nrows`).
fn row_sums<T: Real>(x: MatRef<'_, T>, sums: &mut DMatrix<T>) {
    prepare(sums, x.nrows, 1);
    sums.fill(T::zero());
    let s = sums.as_mut_slice();
    for j in 0..x.ncols {
        match x.col(j) {
            Some(c) => kernel::axpy(s, T::one(), c),
            None => s
                .iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v += x.get(i, j)),
        }
    }
}

/// `out (+)= alpha · 𝟙𝟙ᵀ op(b)`, the left factor `rows×k` all ones: every row of the
/// result is `alpha` times the column sums of `op(b)`, with no matrix product (the
/// adjoint of a product whose own adjoint is a sum's `s̄ 𝟙𝟙ᵀ`). `sums` is scratch.
pub fn fill_gemm_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    rows: usize,
    b: DMatrixView<'_, T>,
    tb: bool,
    sums: &mut DMatrix<T>,
) {
    let b = MatRef::new(&b);
    // The column sums of op(b): of b's columns, or of bᵀ's (b's rows).
    if tb {
        row_sums(b, sums);
    } else {
        column_sums(b, sums);
    }
    ready(out, acc, rows, sums.len(), "fill_gemm_to");
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
pub fn gemm_fill_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    ta: bool,
    cols: usize,
    sums: &mut DMatrix<T>,
) {
    let a = MatRef::new(&a);
    if ta {
        column_sums(a, sums);
    } else {
        row_sums(a, sums);
    }
    let rows = sums.len();
    ready(out, acc, rows, cols, "gemm_fill_to");
    if rows == 0 {
        return;
    }
    for c in out.as_mut_slice().chunks_exact_mut(rows) {
        if acc {
            kernel::axpy(c, alpha, sums.as_slice());
        } else {
            c.iter_mut()
                .zip(sums.iter())
                .for_each(|(o, &s)| *o = alpha * s);
        }
    }
}

/// `out (+)= alpha · a ⊙ b`.
pub fn hadamard_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
) {
    binary(
        out,
        acc,
        MatRef::new(&a),
        MatRef::new(&b),
        "hadamard_to",
        |x, y| alpha * x * y,
    );
}

/// `out_ij (+)= f(a_ij, b_ij)`.
pub fn zip_map_to<T: Real, F: Fn(T, T) -> T>(
    out: &mut DMatrix<T>,
    acc: bool,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    f: F,
) {
    binary(out, acc, MatRef::new(&a), MatRef::new(&b), "zip_map_to", f);
}

/// `out_ij (+)= f(a_ij, b_ij, c_ij)`.
pub fn zip3_map_to<T: Real, F: Fn(T, T, T) -> T>(
    out: &mut DMatrix<T>,
    acc: bool,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    c: DMatrixView<'_, T>,
    f: F,
) {
    let (a, b, c) = (MatRef::new(&a), MatRef::new(&b), MatRef::new(&c));
    ternary(out, acc, a, b, c, "zip3_map_to", f);
}

/// `Σ_ij f(a_ij, b_ij)`.
pub fn zip_map_sum<T: Real, F: Fn(T, T) -> T>(
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    f: F,
) -> T {
    let (a, b) = (MatRef::new(&a), MatRef::new(&b));
    same_shape("zip_map_sum", &a, &b);
    let mut total = T::zero();
    if let (Some(sa), Some(sb)) = (a.as_slice(), b.as_slice()) {
        for (&x, &y) in sa.iter().zip(sb) {
            total += f(x, y);
        }
    } else {
        for j in 0..a.ncols {
            for i in 0..a.nrows {
                total += f(a.get(i, j), b.get(i, j));
            }
        }
    }
    total
}

/// `out (+)= s · 1` (a `rows×cols` matrix of `s`).
pub fn fill_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, rows: usize, cols: usize) {
    ready(out, acc, rows, cols, "fill_to");
    if acc {
        out.iter_mut().for_each(|o| *o += s);
    } else {
        out.fill(s);
    }
}

/// `out (+)= s · I` (`n×n`).
pub fn add_diag_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, n: usize) {
    ready(out, acc, n, n, "add_diag_to");
    if acc {
        (0..n).for_each(|i| out[(i, i)] += s);
    } else {
        out.fill(T::zero());
        out.fill_diagonal(s);
    }
}

/// `out (+)= s · e_i e_jᵀ` (`rows×cols`).
pub fn index_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    i: usize,
    j: usize,
    rows: usize,
    cols: usize,
) {
    assert!(
        i < rows && j < cols,
        "matgrad: index_adjoint_to: index ({i}, {j}) is out of range for a {} matrix",
        Shape(rows, cols),
    );
    ready(out, acc, rows, cols, "index_adjoint_to");
    if acc {
        out[(i, j)] += s;
    } else {
        out.fill(T::zero());
        out[(i, j)] = s;
    }
}

/// `out (+)= 1ᵀ g`, the column sums of `g` as a `1×n` row (adjoint of `add_row`'s row).
pub fn sum_rows_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    let g = MatRef::new(&g);
    ready(out, acc, 1, g.ncols, "sum_rows_to");
    for (j, o) in out.iter_mut().enumerate() {
        let s = match g.col(j) {
            Some(col) => kernel::sum(col),
            None => (0..g.nrows).fold(T::zero(), |s, i| s + g.get(i, j)),
        };
        if acc {
            *o += s;
        } else {
            *o = s;
        }
    }
}

/// `out (+)= g 1`, the row sums of `g` as an `m×1` column (adjoint of `add_col`'s column).
pub fn sum_cols_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    let g = MatRef::new(&g);
    ready(out, acc, g.nrows, 1, "sum_cols_to");
    let o = out.as_mut_slice();
    if !acc {
        o.fill(T::zero());
    }
    for j in 0..g.ncols {
        match g.col(j) {
            Some(col) => o.iter_mut().zip(col).for_each(|(o, &x)| *o += x),
            None => o
                .iter_mut()
                .enumerate()
                .for_each(|(i, o)| *o += g.get(i, j)),
        }
    }
}

/// Adjoint of `a ⊗ b` for `a` (`p×q`): `out_ij (+)= Σ (g_block(i,j) ⊙ b)`.
pub fn kron_adjoint_a_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
) {
    let (g, b) = (MatRef::new(&g), MatRef::new(&b));
    let (r, s) = b.shape();
    let (p, q) = kron_factor_shape(out, &g, r, s, "kron_adjoint_a_to");
    ready(out, acc, p, q, "kron_adjoint_a_to");
    if !acc {
        out.fill(T::zero());
    }
    // out_ij += Σ_l (column l of block (i, j)) · (column l of b).
    for j in 0..q {
        for l in 0..s {
            let gc = g.column(j * s + l);
            let bc = b.column(l);
            for i in 0..p {
                let t = match (gc.col(0), bc.col(0)) {
                    (Some(gc), Some(bc)) => kernel::dot(&gc[i * r..(i + 1) * r], bc),
                    _ => (0..r).fold(T::zero(), |t, k| t + gc.get(i * r + k, 0) * bc.get(k, 0)),
                };
                out[(i, j)] += t;
            }
        }
    }
}

/// Adjoint of `a ⊗ b` for `b` (`r×s`): `out (+)= Σ_ij a_ij g_block(i,j)`.
pub fn kron_adjoint_b_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    g: DMatrixView<'_, T>,
    a: DMatrixView<'_, T>,
) {
    let (g, a) = (MatRef::new(&g), MatRef::new(&a));
    let (p, q) = a.shape();
    let (r, s) = kron_factor_shape(out, &g, p, q, "kron_adjoint_b_to");
    ready(out, acc, r, s, "kron_adjoint_b_to");
    let o = out.as_mut_slice();
    if !acc {
        o.fill(T::zero());
    }
    if r == 0 {
        return;
    }
    // column l of out += Σ_ij a_ij (column l of block (i, j)).
    for (l, oc) in o.chunks_exact_mut(r).enumerate() {
        for j in 0..q {
            let gc = g.column(j * s + l);
            for i in 0..p {
                let aij = a.get(i, j);
                match gc.col(0) {
                    Some(gc) => kernel::axpy(oc, aij, &gc[i * r..(i + 1) * r]),
                    None => oc
                        .iter_mut()
                        .enumerate()
                        .for_each(|(k, o)| *o += aij * gc.get(i * r + k, 0)),
                }
            }
        }
    }
}

/// `out (+)= alpha · a⁻ᵀ` (adjoint of `determinant` with `alpha = s̄ det a`), with
/// scratch buffers instead of allocation; a singular `a` gives non-finite entries.
pub fn inv_transpose_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    scratch1: &mut DMatrix<T>,
    scratch2: &mut DMatrix<T>,
) {
    let a = MatRef::new(&a);
    assert!(
        a.nrows == a.ncols,
        "matgrad: inv_transpose_to: cannot invert a {} matrix",
        a.sh(),
    );
    // scratch2 = a⁻¹ (factorising in scratch1), then out (+)= alpha · scratch2ᵀ.
    ln_det_inverse_ref(scratch2, a, scratch1, "inv_transpose_to");
    unary(
        out,
        acc,
        MatRef::new(&*scratch2).t(),
        "inv_transpose_to",
        |x| alpha * x,
    );
}

/// Adjoint of `log_sum_exp` (value `lse`): `out (+)= s · exp(a − lse)`.
pub fn log_sum_exp_adjoint_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    a: DMatrixView<'_, T>,
    lse: T,
) {
    log_sum_exp_adjoint_ref(out, acc, s, MatRef::new(&a), lse);
}

/// Adjoint of `softmax_cross_entropy(z, y)` for `y`: `out (+)= −s · log softmax(z)` (per row).
pub fn softmax_ce_adjoint_y_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    s: T,
    z: DMatrixView<'_, T>,
) {
    softmax_ce_adjoint_y_ref(out, acc, s, MatRef::new(&z));
}

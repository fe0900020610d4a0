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
//!   operations four columns per sweep, the others go through the blocked kernel,
//!   which reproduces matrixmultiply's arithmetic (its blocking over `k`, its fused
//!   or unfused multiply-adds, its edge tiles).
//!
//! This module is the interface only: re-exports, and wrappers of a few lines that
//! check shapes (naming `op`), turn views into the crate's strided references and call
//! the algorithm in its family module (`blas`, `broadcast`, `chain`, `decomp`,
//! `elementwise`, `fill`, `fused`, `hessian`, `kron`, `lines`, `part`, `reduce`, `jacobian`, `solve`, `view`, `workspace`).
//! Kernels whose family module is private are re-exported as they are.
#![allow(missing_docs, clippy::missing_panics_doc, clippy::too_many_arguments)]

pub use crate::chain::{
    chain_backward, chain_factor_adjoint_to, chain_product_to, chain_to, mul3_costs, mul3_to,
    product_cost, Plan,
};
pub use crate::decomp::ln_det_inverse_static;
pub use crate::fill::{add_diag_to, fill_to, from_rows_to, identity_to, index_adjoint_to};
pub use crate::fused::{relu_step, sigmoid_scalar, zip3_map_sum, zip_map_sum, zip_n_to};
pub use crate::hessian::{kron_cross_to, kron_gram_to, softmax_gram_to, Side};
pub use crate::jacobian::{
    jac_column_map_to, jac_column_to, jac_column_zip_to, jac_diag_to, jac_rows_to,
    jac_zero_columns_except,
};
pub use crate::kron::{kron_adjoint_a_to, kron_adjoint_b_to, kronecker_to};
pub use crate::lines::{
    broadcast_column_mean_to, broadcast_column_to, broadcast_row_mean_to, broadcast_row_to,
    column_reduce_to, extreme_adjoint_to, row_reduce_to,
};
pub use crate::part::{
    column_adjoint_to, column_to, diagonal_adjoint_to, diagonal_to, from_diagonal_adjoint_to,
};
pub use crate::part::{
    columns_adjoint_to, columns_to, lower_triangle_to, row_adjoint_to, row_to, rows_adjoint_to,
    rows_to, upper_triangle_to, view_adjoint_to, view_to,
};
pub use crate::solve::{
    factor_solve_adjoint_b_to, factor_solve_adjoint_x_to, factor_solve_right_adjoint_b_to,
    factor_solve_right_adjoint_x_to, factor_solve_right_to, factor_solve_to, factor_to,
};
pub use crate::view::{view, AsView, GradBuf};
pub use crate::workspace::{with_workspace, with_workspace_of, Workspaces};

/// `v` in the float type `T` of a function generic over it: `nalgebra::convert`
/// (exact in `f64`, rounded to nearest in `f32`, as a literal of that type is).
#[inline(always)]
pub fn real<T: Real>(v: f64) -> T {
    nalgebra::convert(v)
}
pub use crate::looped::{loop_put, loop_stack, loop_take, set_scalar, LoopValue};
pub use nalgebra::{ComplexField, DMatrix, DVector, RowDVector, SMatrix};

use crate::blas::{
    fill_gemm_ref, gemm_fill_ref, gemm_into, gemm_onto, mul_as_nalgebra, one_pass,
    trace_of_product_ref,
};
use crate::broadcast::{add_col_ref, add_row_ref};
use crate::decomp::{inv_transpose_ref, inverse_as_nalgebra, ln_det_inverse_ref, ln_det_ref};
use crate::elementwise::{relu_scalar, softplus_scalar};
use crate::kernel::{binary, prepare, ternary, unary, MatRef, Shape};
use crate::reduce::{
    column_sum_ref, log_sum_exp_adjoint_ref, log_sum_exp_ref, row_sum_ref,
    softmax_ce_adjoint_y_ref, softmax_ce_ref, softmax_ce_with_adjoint_ref,
};
use crate::Real;
use nalgebra::DMatrixView;

/// The shape of `a`, for messages (`3×4`).
#[inline]
fn dims<T>(a: &DMatrixView<'_, T>) -> Shape {
    Shape(a.nrows(), a.ncols())
}

// ---------------------------------------------------------------------------
// Forward kernels: out = f(inputs), resizing out when needed
// ---------------------------------------------------------------------------

/// `out = a * b`, bit-for-bit nalgebra's `&a * &b` (see `blas::mul_as_nalgebra`),
/// allocating nothing once `out` has its shape. Panics `matgrad: {op}: cannot multiply {r}×{c} by {r}×{c}`.
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
    mul_as_nalgebra(out, a, b);
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

/// `out = p ± c` or `c ± p` for the product `p = a * b` (`sub` a difference,
/// `product_first` the product on the left), with the bits and the panics of
/// [`mul_to`] into `scratch` followed by [`add_to`] or [`sub_to`]: in one GEMM
/// starting from `c` where that rounds the same (see `blas::one_pass`), else in
/// those two steps. `mul_op` is the product's text, `op` the sum's.
#[allow(clippy::too_many_arguments)]
pub fn mul_add_to<T: Real>(
    out: &mut DMatrix<T>,
    scratch: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    c: DMatrixView<'_, T>,
    sub: bool,
    product_first: bool,
    mul_op: &str,
    op: &str,
) {
    let (one, minus) = (T::one(), -T::one());
    let alpha = if sub && !product_first { minus } else { one };
    let beta = if sub && product_first { minus } else { one };
    let fits = c.shape() == (a.nrows(), b.ncols());
    let start = |out: &mut DMatrix<T>| unary(out, false, MatRef::new(&c), op, |x| x);
    let then = |out: &mut DMatrix<T>, p: DMatrixView<'_, T>| match (sub, product_first) {
        (true, true) => sub_to(out, p, c, op),
        (true, false) => sub_to(out, c, p, op),
        (false, true) => add_to(out, p, c, op),
        (false, false) => add_to(out, c, p, op),
    };
    mul_onto(out, scratch, a, b, (fits, start, alpha, beta), mul_op, then);
}

/// `out = add_row(a * b, r)`, the bits and panics of [`mul_to`] into `scratch`
/// followed by [`add_row_to`]: one GEMM starting from the broadcast row where that
/// rounds the same (see [`mul_add_to`]).
pub fn mul_add_row_to<T: Real>(
    out: &mut DMatrix<T>,
    scratch: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    r: DMatrixView<'_, T>,
    mul_op: &str,
    op: &str,
) {
    let (m, fits) = (a.nrows(), r.shape() == (1, b.ncols()));
    // Slices, not column views: a view's `fill` was a strided loop, a tenth of a
    // small MLP's gradient.
    let start = |out: &mut DMatrix<T>| {
        for (j, column) in out.as_mut_slice().chunks_exact_mut(m).enumerate() {
            column.fill(r[(0, j)]);
        }
    };
    let (one, then) = (T::one(), |out: &mut DMatrix<T>, p: DMatrixView<'_, T>| {
        add_row_to(out, p, r, op)
    });
    mul_onto(out, scratch, a, b, (fits, start, one, one), mul_op, then);
}

/// `out = add_col(a * b, c)`, as [`mul_add_row_to`] with a broadcast column.
pub fn mul_add_col_to<T: Real>(
    out: &mut DMatrix<T>,
    scratch: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    c: DMatrixView<'_, T>,
    mul_op: &str,
    op: &str,
) {
    let (m, fits) = (a.nrows(), c.shape() == (a.nrows(), 1));
    let start = |out: &mut DMatrix<T>| {
        let c = MatRef::new(&c);
        for column in out.as_mut_slice().chunks_exact_mut(m) {
            for (i, e) in column.iter_mut().enumerate() {
                *e = c.get(i, 0);
            }
        }
    };
    let (one, then) = (T::one(), |out: &mut DMatrix<T>, p: DMatrixView<'_, T>| {
        add_col_to(out, p, c, op)
    });
    mul_onto(out, scratch, a, b, (fits, start, one, one), mul_op, then);
}

/// The shared shape of the three above: when the product is one matrixmultiply pass
/// (`blas::one_pass`) and the other term `fits`, `start` writes it into `out` (m×n)
/// and one GEMM adds `alpha · a b` to `beta · out`; else the product goes into
/// `scratch` and `then` adds the term to it, with its own checks and messages.
#[allow(clippy::type_complexity)]
fn mul_onto<T: Real>(
    out: &mut DMatrix<T>,
    scratch: &mut DMatrix<T>,
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    (fits, start, alpha, beta): (bool, impl FnOnce(&mut DMatrix<T>), T, T),
    mul_op: &str,
    then: impl FnOnce(&mut DMatrix<T>, DMatrixView<'_, T>),
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if fits && b.nrows() == k && one_pass(m, k, n) {
        prepare(out, m, n);
        start(out);
        return gemm_onto(out, a, b, alpha, beta);
    }
    mul_to(scratch, a, b, mul_op);
    then(out, crate::view::view(&*scratch));
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
    assert!(
        a.is_square(),
        "matgrad: {op}: cannot invert a {} matrix",
        dims(&a)
    );
    inverse_as_nalgebra(out, a, op, expect);
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
/// [`trace`] give (see `blas::trace_of_product_ref`),
/// in O(m k) instead of O(m k n). Panics as `p * q` and `.trace()` would.
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
    trace_of_product_ref(p, q)
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
    gemm_into(out, acc, alpha, a, b, "gemm_to");
}

/// `out (+)= alpha · 𝟙𝟙ᵀ op(b)`, the left factor `rows×k` all ones, with no matrix
/// product (`blas::fill_gemm_ref`). `sums` is scratch.
pub fn ones_mul_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    rows: usize,
    b: DMatrixView<'_, T>,
    tb: bool,
    sums: &mut DMatrix<T>,
) {
    fill_gemm_ref(out, acc, alpha, rows, MatRef::new(&b), tb, sums);
}

/// `out (+)= alpha · op(a) 𝟙𝟙ᵀ`, the right factor `k×cols` all ones, with no matrix
/// product (`blas::gemm_fill_ref`). `sums` is scratch.
pub fn mul_ones_to<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: DMatrixView<'_, T>,
    ta: bool,
    cols: usize,
    sums: &mut DMatrix<T>,
) {
    gemm_fill_ref(out, acc, alpha, MatRef::new(&a), ta, cols, sums);
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

/// `out (+)= 1ᵀ g`, the column sums of `g` as a `1×n` row (adjoint of `add_row`'s row).
pub fn row_sum_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    row_sum_ref(out, acc, MatRef::new(&g));
}

/// `out (+)= g 1`, the row sums of `g` as an `m×1` column (adjoint of `add_col`'s column).
pub fn column_sum_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    column_sum_ref(out, acc, MatRef::new(&g));
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
    inv_transpose_ref(out, acc, alpha, MatRef::new(&a), scratch1, scratch2);
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

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
//!   where documented (nalgebra's inverse).
#![allow(missing_docs, clippy::missing_panics_doc, clippy::too_many_arguments)]

pub use nalgebra::{DMatrix, DMatrixView, DVector, RowDVector};

use crate::Real;
use nalgebra::{Dim, IsContiguous, Matrix, RawStorage, Scalar};

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

// ---------------------------------------------------------------------------
// Forward kernels: out = f(inputs), resizing out when needed
// ---------------------------------------------------------------------------

/// `out = a * b`, with nalgebra's `gemm` (so the result is bit-for-bit `&a * &b`).
/// Panics `matgrad: {op}: cannot multiply {r}×{c} by {r}×{c}`.
pub fn mul_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `out = a + b`. Panics `matgrad: {op}: cannot add {r}×{c} and {r}×{c}`.
pub fn add_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `out = a - b`. Panics `matgrad: {op}: cannot subtract {r}×{c} from {r}×{c}` (b's shape first).
pub fn sub_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `out = -a`.
pub fn neg_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// `out_ij = a_ij * s` (what nalgebra computes for `a * s`, `s * a` and `a.scale(s)`).
pub fn scale_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, s: T) {
    todo!()
}

/// `out_ij = a_ij / s` (nalgebra's `a / s`: a division, not a multiplication by `1/s`).
pub fn div_scalar_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, s: T) {
    todo!()
}

/// `out = aᵀ`.
pub fn transpose_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// `out = a ⊙ b`. Panics `matgrad: {op}: cannot multiply entrywise {r}×{c} and {r}×{c}`.
pub fn component_mul_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `out = a ⊘ b`. Panics `matgrad: {op}: cannot divide entrywise {r}×{c} by {r}×{c}`.
pub fn component_div_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `out_ij = f(a_ij)`, in column-major order (as nalgebra's `map`).
pub fn map_to<T: Real, F: Fn(T) -> T>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, f: F) {
    todo!()
}

/// `out_ij = a_ij + s`.
pub fn add_scalar_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, s: T) {
    todo!()
}

/// `out = a ⊗ b` (bit-for-bit nalgebra's `kronecker`).
pub fn kronecker_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>) {
    todo!()
}

/// `out = a⁻¹` with nalgebra's `try_inverse` (same bits; allocates for n > 4 as nalgebra does).
/// A non-square `a` panics `matgrad: {op}: cannot invert a {r}×{c} matrix`; a singular one
/// panics with `expect` when given (the user's `.expect(msg)`), otherwise with
/// `matgrad: {op}: the matrix is singular (called unwrap on None)`.
pub fn inverse_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>, op: &str, expect: Option<&str>) {
    todo!()
}

/// `a.dot(b)`; panics `matgrad: {op}: cannot take the dot product of {r}×{c} and {r}×{c}`.
pub fn dot<T: Real>(a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, op: &str) -> T {
    todo!()
}

/// `a[(i, j)]`; panics `matgrad: {op}: index ({i}, {j}) is out of range for a {r}×{c} matrix`.
pub fn index<T: Real>(a: DMatrixView<'_, T>, i: usize, j: usize, op: &str) -> T {
    todo!()
}

/// `a.trace()`; panics `matgrad: {op}: cannot take the trace of a {r}×{c} matrix` if not square.
pub fn trace<T: Real>(a: DMatrixView<'_, T>, op: &str) -> T {
    todo!()
}

/// `a.determinant()` (nalgebra's, same bits); panics on non-square as `trace`.
pub fn determinant<T: Real>(a: DMatrixView<'_, T>, op: &str) -> T {
    todo!()
}

/// `out = sigmoid(a)`, the same bits as [`crate::sigmoid`].
pub fn sigmoid_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// `out = relu(a)`, the same bits as [`crate::relu`].
pub fn relu_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// `out = softplus(a)`, the same bits as [`crate::softplus`].
pub fn softplus_to<T: Real>(out: &mut DMatrix<T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// `out = add_row(m, r)`. Panics `matgrad: {op}: cannot add a {r}×{c} row to each row of a {r}×{c} matrix`.
pub fn add_row_to<T: Real>(out: &mut DMatrix<T>, m: DMatrixView<'_, T>, r: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `out = add_col(m, c)`. Panics `matgrad: {op}: cannot add a {r}×{c} column to each column of a {r}×{c} matrix`.
pub fn add_col_to<T: Real>(out: &mut DMatrix<T>, m: DMatrixView<'_, T>, c: DMatrixView<'_, T>, op: &str) {
    todo!()
}

/// `ln |det a|`, the same bits as [`crate::ln_det`], using `scratch` (resized to
/// what it needs) instead of allocating.
pub fn ln_det_with<T: Real>(a: DMatrixView<'_, T>, scratch: &mut DMatrix<T>, op: &str) -> T {
    todo!()
}

/// `ln |det a|` (the same bits as [`crate::ln_det`]) and `inv = a⁻¹`, from one
/// factorisation, using `scratch` instead of allocating. A singular `a` gives
/// `-inf` and a non-finite `inv` (no panic).
pub fn ln_det_inverse_to<T: Real>(inv: &mut DMatrix<T>, a: DMatrixView<'_, T>, scratch: &mut DMatrix<T>, op: &str) -> T {
    todo!()
}

/// The same bits as [`crate::log_sum_exp`].
pub fn log_sum_exp<T: Real>(a: DMatrixView<'_, T>) -> T {
    todo!()
}

/// The same bits as [`crate::softmax_cross_entropy`]; panics on mismatched shapes
/// (`matgrad: {op}: cannot compare {r}×{c} scores with {r}×{c} targets`).
pub fn softmax_cross_entropy<T: Real>(z: DMatrixView<'_, T>, y: DMatrixView<'_, T>, op: &str) -> T {
    todo!()
}

// ---------------------------------------------------------------------------
// Backward kernels: out (+)= contribution
// ---------------------------------------------------------------------------

/// `out (+)= alpha · op(a)`, `op(a) = aᵀ` when `ta`.
pub fn axpy_to<T: Real>(out: &mut DMatrix<T>, acc: bool, alpha: T, a: DMatrixView<'_, T>, ta: bool) {
    todo!()
}

/// `out (+)= alpha · op(a) · op(b)`. Uses matrixmultiply with swapped strides for the
/// transposed operands (never nalgebra's `gemm` on a transposed view, never a
/// materialised transpose), and a matrix–vector loop when a dimension is 1.
pub fn gemm_to<T: Real>(out: &mut DMatrix<T>, acc: bool, alpha: T, a: DMatrixView<'_, T>, ta: bool, b: DMatrixView<'_, T>, tb: bool) {
    todo!()
}

/// `out (+)= alpha · a ⊙ b`.
pub fn hadamard_to<T: Real>(out: &mut DMatrix<T>, acc: bool, alpha: T, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>) {
    todo!()
}

/// `out_ij (+)= f(a_ij, b_ij)`.
pub fn zip_map_to<T: Real, F: Fn(T, T) -> T>(out: &mut DMatrix<T>, acc: bool, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, f: F) {
    todo!()
}

/// `out_ij (+)= f(a_ij, b_ij, c_ij)`.
pub fn zip3_map_to<T: Real, F: Fn(T, T, T) -> T>(out: &mut DMatrix<T>, acc: bool, a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, c: DMatrixView<'_, T>, f: F) {
    todo!()
}

/// `Σ_ij f(a_ij, b_ij)`.
pub fn zip_map_sum<T: Real, F: Fn(T, T) -> T>(a: DMatrixView<'_, T>, b: DMatrixView<'_, T>, f: F) -> T {
    todo!()
}

/// `out (+)= s · 1` (a `rows×cols` matrix of `s`).
pub fn fill_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, rows: usize, cols: usize) {
    todo!()
}

/// `out (+)= s · I` (`n×n`).
pub fn add_diag_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, n: usize) {
    todo!()
}

/// `out (+)= s · e_i e_jᵀ` (`rows×cols`).
pub fn index_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, i: usize, j: usize, rows: usize, cols: usize) {
    todo!()
}

/// `out (+)= 1ᵀ g`, the column sums of `g` as a `1×n` row (adjoint of `add_row`'s row).
pub fn sum_rows_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    todo!()
}

/// `out (+)= g 1`, the row sums of `g` as an `m×1` column (adjoint of `add_col`'s column).
pub fn sum_cols_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of `a ⊗ b` for `a` (`p×q`): `out_ij (+)= Σ (g_block(i,j) ⊙ b)`.
pub fn kron_adjoint_a_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>, b: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of `a ⊗ b` for `b` (`r×s`): `out (+)= Σ_ij a_ij g_block(i,j)`.
pub fn kron_adjoint_b_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of an inverse `inv = a⁻¹`: `out (+)= −invᵀ g invᵀ`, with one scratch buffer.
pub fn inv_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, inv: DMatrixView<'_, T>, g: DMatrixView<'_, T>, scratch: &mut DMatrix<T>) {
    todo!()
}

/// `out (+)= alpha · a⁻ᵀ` (adjoint of `determinant` with `alpha = s̄ det a`), with
/// scratch buffers instead of allocation; a singular `a` gives non-finite entries.
pub fn inv_transpose_to<T: Real>(out: &mut DMatrix<T>, acc: bool, alpha: T, a: DMatrixView<'_, T>, scratch1: &mut DMatrix<T>, scratch2: &mut DMatrix<T>) {
    todo!()
}

/// Adjoint of `sigmoid` from its output `y`: `out (+)= g ⊙ y ⊙ (1 − y)`.
pub fn sigmoid_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>, y: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of `relu` from its input `a`: `out (+)= g ⊙ [a > 0]`.
pub fn relu_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of `softplus` from its input `a`: `out (+)= g ⊙ σ(a)`.
pub fn softplus_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, g: DMatrixView<'_, T>, a: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of `log_sum_exp` (value `lse`): `out (+)= s · exp(a − lse)`.
pub fn log_sum_exp_adjoint_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, a: DMatrixView<'_, T>, lse: T) {
    todo!()
}

/// Adjoint of `softmax_cross_entropy(z, y)` for `z`: `out (+)= s · (softmax(z) ⊙ rowsum(y) − y)`
/// (softmax taken per row).
pub fn softmax_ce_adjoint_z_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, z: DMatrixView<'_, T>, y: DMatrixView<'_, T>) {
    todo!()
}

/// Adjoint of `softmax_cross_entropy(z, y)` for `y`: `out (+)= −s · log softmax(z)` (per row).
pub fn softmax_ce_adjoint_y_to<T: Real>(out: &mut DMatrix<T>, acc: bool, s: T, z: DMatrixView<'_, T>) {
    todo!()
}

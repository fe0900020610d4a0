//! What the code generated for a `for` loop with a run-time trip count uses: the
//! values saved at each iteration live in a workspace stack of `DMatrix` buffers,
//! and each is passed to the loop body's step function as the type the body declares
//! (`DVector`, `RowDVector` or `DMatrix`) by moving its storage, never copying it.

use nalgebra::{DMatrix, DVector, Dyn, RowDVector, Scalar, U1};

/// A value of a loop body's step function held in a `DMatrix` buffer: converted both
/// ways by moving the storage (no copy, no allocation).
///
/// ```
/// use matgrad_runtime::__private::LoopValue;
/// use nalgebra::{DMatrix, DVector};
///
/// let m = DMatrix::from_column_slice(3, 1, &[1.0, 2.0, 3.0]);
/// let v: DVector<f64> = LoopValue::from_matrix(m);
/// assert_eq!(v, DVector::from_column_slice(&[1.0, 2.0, 3.0]));
/// let back = v.into_matrix();
/// assert_eq!(back.shape(), (3, 1));
/// ```
pub trait LoopValue<T: Scalar>: Sized {
    /// `m` as this type (a vector takes `m`'s entries as its column or row).
    fn from_matrix(m: DMatrix<T>) -> Self;
    /// Back into a `DMatrix` of the same shape.
    fn into_matrix(self) -> DMatrix<T>;
}

impl<T: Scalar> LoopValue<T> for DMatrix<T> {
    #[inline]
    fn from_matrix(m: DMatrix<T>) -> Self {
        m
    }
    #[inline]
    fn into_matrix(self) -> DMatrix<T> {
        self
    }
}

impl<T: Scalar> LoopValue<T> for DVector<T> {
    #[inline]
    fn from_matrix(m: DMatrix<T>) -> Self {
        let n = m.len();
        m.reshape_generic(Dyn(n), U1)
    }
    #[inline]
    fn into_matrix(self) -> DMatrix<T> {
        let n = self.len();
        self.reshape_generic(Dyn(n), Dyn(1))
    }
}

impl<T: Scalar> LoopValue<T> for RowDVector<T> {
    #[inline]
    fn from_matrix(m: DMatrix<T>) -> Self {
        let n = m.len();
        m.reshape_generic(U1, Dyn(n))
    }
    #[inline]
    fn into_matrix(self) -> DMatrix<T> {
        let n = self.len();
        self.reshape_generic(Dyn(1), Dyn(n))
    }
}

/// Moves buffer `m` out as a `V` (see [`LoopValue`]), leaving an empty matrix.
#[inline]
pub fn loop_take<T: Scalar, V: LoopValue<T>>(m: &mut DMatrix<T>) -> V {
    V::from_matrix(std::mem::take(m))
}

/// Moves `v` back into buffer `m`.
#[inline]
pub fn loop_put<T: Scalar, V: LoopValue<T>>(m: &mut DMatrix<T>, v: V) {
    *m = v.into_matrix();
}

/// Makes `stack` hold at least `len` buffers (allocating only when it grows).
#[inline]
pub fn loop_stack<T: Scalar>(stack: &mut Vec<DMatrix<T>>, len: usize) {
    if stack.len() < len {
        stack.resize_with(len, || DMatrix::from_vec(0, 0, Vec::new()));
    }
}

/// `m = [v]`, a 1×1 matrix holding a scalar carried by a loop (resized only the
/// first time).
#[inline]
pub fn set_scalar<T: Scalar + Copy>(m: &mut DMatrix<T>, v: T) {
    if m.shape() != (1, 1) {
        *m = DMatrix::from_element(1, 1, v);
    }
    m[(0, 0)] = v;
}

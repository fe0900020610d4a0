//! How the generated code reads the user's matrices and writes their gradients:
//! every matrix argument becomes a [`DMatrixView`] through [`view`] (no copy), and
//! every gradient is computed in the user's own buffer, taken out and put back as a
//! `DMatrix` through [`GradBuf`]. Re-exported by [`crate::__private`]; not a stable API.

use nalgebra::{
    DMatrix, DMatrixView, DVector, Dim, Dyn, IsContiguous, Matrix, RawStorage, RowDVector, Scalar,
    U1,
};

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

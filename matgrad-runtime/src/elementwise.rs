//! Elementwise activation functions.
//!
//! Each works on any nalgebra matrix or vector (dynamic or static, owned or view) and
//! returns an owned matrix of the same shape. The scalar functions here are the ones
//! the `#[grad]` kernels use, so the generated code gives the same bits.

use crate::Real;
use nalgebra::allocator::Allocator;
use nalgebra::{ComplexField, DefaultAllocator, Dim, Matrix, OMatrix, RawStorage};

/// The logistic function `σ(x) = 1 / (1 + e^−x)`, without overflow for large `|x|`.
#[inline]
pub(crate) fn sigmoid_scalar<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        // Also the branch a NaN takes: e^NaN / (1 + e^NaN) is NaN.
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `max(x, 0)`, keeping a NaN as NaN.
#[inline]
pub(crate) fn relu_scalar<T: Real>(x: T) -> T {
    if x <= T::zero() {
        T::zero()
    } else {
        x
    }
}

/// The derivative of [`relu_scalar`] as used in its adjoint: `1` for `x > 0`, `0` for
/// `x ≤ 0`, and NaN for a NaN (the indicator `[x > 0]` of a NaN is not silently 0).
#[inline]
pub(crate) fn relu_step<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x <= T::zero() {
        T::zero()
    } else {
        x
    }
}

/// `ln(1 + e^x)`, computed as `max(x, 0) + ln_1p(e^−|x|)`: no overflow for large `x`,
/// no loss of precision for very negative `x`.
#[inline]
pub(crate) fn softplus_scalar<T: Real>(x: T) -> T {
    let pos = if x > T::zero() { x } else { T::zero() };
    pos + (-ComplexField::abs(x)).exp().ln_1p()
}

/// Computes `σ(a)` entrywise, where `σ(x) = 1 / (1 + e^−x)` is the logistic function.
///
/// Stable for large `|x|` (no overflow, no NaN from `∞/∞`); a NaN entry gives NaN.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::sigmoid;
/// use nalgebra::{dvector, DMatrix};
///
/// let a = DMatrix::from_row_slice(2, 2, &[-1.0, 0.0, 2.0, 30.0]);
/// assert_relative_eq!(sigmoid(&a), a.map(|x: f64| 1.0 / (1.0 + (-x).exp())), epsilon = 1e-15);
///
/// // Any matrix or vector type; extreme arguments saturate without overflow.
/// let v = sigmoid(&dvector![-1000.0_f32, 1000.0]);
/// assert_eq!(v, dvector![0.0, 1.0]);
/// ```
#[must_use]
pub fn sigmoid<T: Real, R: Dim, C: Dim, S: RawStorage<T, R, C>>(
    a: &Matrix<T, R, C, S>,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    a.map(sigmoid_scalar)
}

/// Computes `max(a, 0)` entrywise (the rectified linear unit).
///
/// A NaN entry stays NaN.
///
/// # Example
///
/// ```
/// use matgrad_runtime::relu;
/// use nalgebra::{DMatrix, Matrix2};
///
/// let a = DMatrix::from_row_slice(2, 3, &[-1.0, 0.5, 2.0, -0.0, 3.0, -7.0]);
/// assert_eq!(relu(&a), a.map(|x: f64| x.max(0.0)));
///
/// // Static matrices too.
/// assert_eq!(relu(&Matrix2::new(-1.0, 2.0, 3.0, -4.0)), Matrix2::new(0.0, 2.0, 3.0, 0.0));
/// ```
#[must_use]
pub fn relu<T: Real, R: Dim, C: Dim, S: RawStorage<T, R, C>>(
    a: &Matrix<T, R, C, S>,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    a.map(relu_scalar)
}

/// Computes `ln(1 + eᵃ)` entrywise (the softplus function, a smooth [`relu`]).
///
/// Computed as `max(x, 0) + ln(1 + e^−|x|)`, so large arguments do not overflow and
/// very negative ones keep their precision.
///
/// # Example
///
/// ```
/// # use approx::assert_relative_eq;
/// use matgrad_runtime::softplus;
/// use nalgebra::{DMatrix, RowDVector};
///
/// let a = DMatrix::from_row_slice(2, 2, &[-3.0, 0.0, 1.5, 20.0]);
/// assert_relative_eq!(softplus(&a), a.map(|x: f64| x.exp().ln_1p()), epsilon = 1e-14);
///
/// // e^1000 overflows; softplus does not.
/// assert_eq!(softplus(&RowDVector::from_vec(vec![1000.0_f64])), RowDVector::from_vec(vec![1000.0]));
/// ```
#[must_use]
pub fn softplus<T: Real, R: Dim, C: Dim, S: RawStorage<T, R, C>>(
    a: &Matrix<T, R, C, S>,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    a.map(softplus_scalar)
}

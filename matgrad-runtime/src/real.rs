//! The scalar types matgrad works with.

mod sealed {
    /// Keeps [`Real`](super::Real) implemented for `f32` and `f64` only.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The real scalar types matgrad supports: `f32` and `f64`.
///
/// Every function in this crate is generic over `T: Real`. The trait is sealed (it
/// cannot be implemented outside this crate): its hidden method dispatches to the
/// crate's single- and double-precision matrix product.
///
/// # Example
///
/// ```
/// use matgrad_runtime::Real;
/// use nalgebra::DMatrix;
///
/// fn total<T: Real>(m: &DMatrix<T>) -> T {
///     m.sum()
/// }
///
/// assert_eq!(total(&DMatrix::from_element(2, 3, 1.5_f32)), 9.0);
/// assert_eq!(total(&DMatrix::from_element(2, 3, 1.5_f64)), 9.0);
/// ```
pub trait Real:
    nalgebra::RealField + Copy + Default + Send + Sync + 'static + sealed::Sealed
{
    /// Computes `c = alpha · a · b + beta · c` for an `m×k` matrix `a`, a `k×n`
    /// matrix `b` and an `m×n` matrix `c`, all given by a pointer to their first
    /// entry and their row and column strides (in elements).
    ///
    /// The result is bit-for-bit what matrixmultiply's `sgemm` or `dgemm` computes
    /// with the same arguments on the same machine (and so what nalgebra's `a * b`
    /// computes when every dimension exceeds 5), but no heap allocation happens once
    /// the calling thread has multiplied matrices at least this large: the packing
    /// buffers are kept per thread. With the `parallel` feature, large products are
    /// split over rayon's threads (the same bits).
    ///
    /// If `beta` is zero, `c` is never read.
    ///
    /// # Safety
    ///
    /// For every `i < m`, `l < k`, `j < n`, the entries `a + i·rsa + l·csa` and
    /// `b + l·rsb + j·csb` must be readable and `c + i·rsc + j·csc` writable
    /// (and readable when `beta` is not zero); distinct `(i, j)` must address
    /// distinct entries of `c`, and `c` must not overlap `a` or `b`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // the BLAS argument list
    unsafe fn __gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );

    /// Entry `(i, j)` of the `m×n` product `a · b` with the bits of [`Real::__gemm`]
    /// (`alpha = 1`, `beta = 0`); `a` points to row `i` of `a` (stride `sa`), `b` to
    /// column `j` of `b` (stride `sb`).
    ///
    /// # Safety
    ///
    /// `a.offset(l · sa)` and `b.offset(l · sb)` are readable for every `l < k`.
    #[doc(hidden)]
    unsafe fn __product_entry(
        shape: (usize, usize),
        at: (usize, usize),
        k: usize,
        a: *const Self,
        sa: isize,
        b: *const Self,
        sb: isize,
    ) -> Self;
}

/// The two implementations are the same code over the two float types: each forwards
/// to the generic blocked product of [`crate::gemm`].
macro_rules! real {
    ($($t:ty),*) => {$(
        impl Real for $t {
            #[inline]
            #[allow(clippy::too_many_arguments)] // the BLAS argument list
            unsafe fn __gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: *const $t,
                rsa: isize,
                csa: isize,
                b: *const $t,
                rsb: isize,
                csb: isize,
                beta: $t,
                c: *mut $t,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded from the caller, under the same contract.
                unsafe { crate::gemm::gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }

            #[inline]
            unsafe fn __product_entry(
                shape: (usize, usize),
                at: (usize, usize),
                k: usize,
                a: *const $t,
                sa: isize,
                b: *const $t,
                sb: isize,
            ) -> $t {
                // SAFETY: forwarded from the caller, under the same contract.
                unsafe { crate::gemm::product_entry(shape, at, k, a, sa, b, sb) }
            }
        }
    )*};
}

real!(f32, f64);

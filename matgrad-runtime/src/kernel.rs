//! Private building blocks shared by the public functions and the `__private` kernels:
//! a strided read-only matrix reference, output-buffer preparation, elementwise loops
//! and the dot/axpy primitives.
//!
//! Every public function and its `__private` counterpart go through the same helper
//! here, in the same order of operations, which is what makes their results
//! bit-for-bit identical whatever the storage of the input.

use crate::Real;
use nalgebra::{DMatrix, Dim, Matrix, RawStorage};
use std::fmt;
use std::marker::PhantomData;

/// Tile size of the loops over non-contiguous inputs (transposed views), so that the
/// cache lines of a strided source stay in L1 while a tile is written.
const TILE: usize = 32;

/// A read-only, strided view of a matrix of `T`, built from any nalgebra matrix.
///
/// Invariant: for every `i < nrows` and `j < ncols`, `ptr + i·rs + j·cs` points to an
/// initialised `T` that stays valid and unmutated for `'a` (it is an entry of the matrix
/// the reference was built from). Nothing outside the entries is ever read, and slices
/// are only formed over runs of entries.
pub(crate) struct MatRef<'a, T> {
    ptr: *const T,
    pub(crate) nrows: usize,
    pub(crate) ncols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
    _marker: PhantomData<&'a T>,
}

impl<T> Clone for MatRef<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for MatRef<'_, T> {}

impl<'a, T: Copy> MatRef<'a, T> {
    /// A reference to all of `m`.
    #[inline]
    pub(crate) fn new<R: Dim, C: Dim, S: RawStorage<T, R, C>>(m: &'a Matrix<T, R, C, S>) -> Self {
        let (nrows, ncols) = m.shape();
        let (rs, cs) = m.strides();
        MatRef {
            ptr: m.data.ptr(),
            nrows,
            ncols,
            rs,
            cs,
            _marker: PhantomData,
        }
    }

    /// `(nrows, ncols)`.
    #[inline]
    pub(crate) fn shape(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// The shape, for messages (`3×4`).
    #[inline]
    pub(crate) fn sh(&self) -> Shape {
        Shape(self.nrows, self.ncols)
    }

    /// The transpose (no copy: the strides are swapped).
    #[inline]
    pub(crate) fn t(self) -> Self {
        MatRef {
            ptr: self.ptr,
            nrows: self.ncols,
            ncols: self.nrows,
            rs: self.cs,
            cs: self.rs,
            _marker: PhantomData,
        }
    }

    /// The transpose when `t`, else `self`.
    #[inline]
    pub(crate) fn op(self, t: bool) -> Self {
        if t {
            self.t()
        } else {
            self
        }
    }

    /// Entry `(i, j)`.
    #[inline]
    pub(crate) fn get(&self, i: usize, j: usize) -> T {
        assert!(i < self.nrows && j < self.ncols);
        // SAFETY: (i, j) is an entry (checked above), see the type invariant.
        unsafe { *self.ptr.add(i * self.rs + j * self.cs) }
    }

    /// Column `j` as a reference to an `nrows×1` matrix.
    #[inline]
    pub(crate) fn column(&self, j: usize) -> Self {
        assert!(j < self.ncols);
        MatRef {
            // j < ncols: the column's entries are entries of `self`, so the invariant
            // holds (`wrapping_add`: no in-bounds requirement when nrows == 0).
            ptr: self.ptr.wrapping_add(j * self.cs),
            nrows: self.nrows,
            ncols: 1,
            rs: self.rs,
            cs: self.cs,
            _marker: PhantomData,
        }
    }

    /// All entries as one column-major slice, when they are stored so.
    #[inline]
    pub(crate) fn as_slice(&self) -> Option<&'a [T]> {
        let len = self.nrows * self.ncols;
        if len == 0 {
            return Some(&[]);
        }
        if (self.nrows == 1 || self.rs == 1) && (self.ncols == 1 || self.cs == self.nrows) {
            // SAFETY: the entries are exactly the `len` consecutive elements from `ptr`.
            Some(unsafe { std::slice::from_raw_parts(self.ptr, len) })
        } else {
            None
        }
    }

    /// Column `j` as a slice, when its entries are consecutive.
    #[inline]
    pub(crate) fn col(&self, j: usize) -> Option<&'a [T]> {
        assert!(j < self.ncols);
        if self.nrows == 0 {
            return Some(&[]);
        }
        if self.nrows == 1 || self.rs == 1 {
            // SAFETY: the entries (0..nrows, j) are the `nrows` consecutive elements
            // from `ptr + j·cs`.
            Some(unsafe { std::slice::from_raw_parts(self.ptr.add(j * self.cs), self.nrows) })
        } else {
            None
        }
    }

    /// Row `i` as a slice, when its entries are consecutive.
    #[inline]
    pub(crate) fn row(&self, i: usize) -> Option<&'a [T]> {
        self.t().col(i)
    }

    /// The pointer to entry `(0, 0)` (for the blocked product).
    #[inline]
    pub(crate) fn ptr(&self) -> *const T {
        self.ptr
    }
}

/// A shape in messages: `3×4`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape(pub(crate) usize, pub(crate) usize);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}", self.0, self.1)
    }
}

/// The shape of `m`, for messages.
#[inline]
pub(crate) fn shape_of<T>(m: &DMatrix<T>) -> Shape {
    Shape(m.nrows(), m.ncols())
}

// ---------------------------------------------------------------------------
// Output buffers
// ---------------------------------------------------------------------------

/// Gives `out` the shape `rows×cols`, replacing it (the only allocation) when its shape
/// differs. Its entries are unspecified afterwards: the caller overwrites them.
#[inline]
pub(crate) fn prepare<T: Real>(out: &mut DMatrix<T>, rows: usize, cols: usize) {
    if out.shape() != (rows, cols) {
        *out = DMatrix::zeros(rows, cols);
    }
}

/// When accumulating, checks that `out` is `rows×cols`; otherwise [`prepare`]s it.
#[inline]
pub(crate) fn ready<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    rows: usize,
    cols: usize,
    what: &str,
) {
    if acc {
        assert!(
            out.shape() == (rows, cols),
            "matgrad: {what}: cannot accumulate a {} result into a {} buffer",
            Shape(rows, cols),
            shape_of(out),
        );
    } else {
        prepare(out, rows, cols);
    }
}

/// Panics unless `a` and `b` have the same shape (a generated-code invariant).
#[inline]
pub(crate) fn same_shape<T: Copy>(what: &str, a: &MatRef<'_, T>, b: &MatRef<'_, T>) {
    assert!(
        a.shape() == b.shape(),
        "matgrad: {what}: shapes differ: {} and {}",
        a.sh(),
        b.sh(),
    );
}

// ---------------------------------------------------------------------------
// Elementwise loops: out (+)= f(a, ...), out already of a's shape
// ---------------------------------------------------------------------------

/// Visits the entries of an `nrows×ncols` matrix tile by tile (column-major inside a
/// tile), for inputs that are not contiguous.
#[inline]
fn tiled(nrows: usize, ncols: usize, mut f: impl FnMut(usize, usize)) {
    for jb in (0..ncols).step_by(TILE) {
        for ib in (0..nrows).step_by(TILE) {
            for j in jb..(jb + TILE).min(ncols) {
                for i in ib..(ib + TILE).min(nrows) {
                    f(i, j);
                }
            }
        }
    }
}

/// `out_ij (+)= f(a_ij)`, preparing `out` (shape of `a`) unless `acc`.
#[inline]
pub(crate) fn unary<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    a: MatRef<'_, T>,
    what: &str,
    f: impl Fn(T) -> T,
) {
    ready(out, acc, a.nrows, a.ncols, what);
    let nrows = a.nrows;
    let o = out.as_mut_slice();
    if let Some(s) = a.as_slice() {
        if acc {
            o.iter_mut().zip(s).for_each(|(o, &x)| *o += f(x));
        } else {
            o.iter_mut().zip(s).for_each(|(o, &x)| *o = f(x));
        }
    } else if acc {
        tiled(a.nrows, a.ncols, |i, j| o[i + j * nrows] += f(a.get(i, j)));
    } else {
        tiled(a.nrows, a.ncols, |i, j| o[i + j * nrows] = f(a.get(i, j)));
    }
}

/// `out_ij (+)= f(a_ij, b_ij)`, preparing `out` (shape of `a`) unless `acc`.
#[inline]
pub(crate) fn binary<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    what: &str,
    f: impl Fn(T, T) -> T,
) {
    same_shape(what, &a, &b);
    ready(out, acc, a.nrows, a.ncols, what);
    let nrows = a.nrows;
    let o = out.as_mut_slice();
    if let (Some(sa), Some(sb)) = (a.as_slice(), b.as_slice()) {
        let it = o.iter_mut().zip(sa.iter().zip(sb));
        if acc {
            it.for_each(|(o, (&x, &y))| *o += f(x, y));
        } else {
            it.for_each(|(o, (&x, &y))| *o = f(x, y));
        }
    } else if acc {
        tiled(a.nrows, a.ncols, |i, j| {
            o[i + j * nrows] += f(a.get(i, j), b.get(i, j));
        });
    } else {
        tiled(a.nrows, a.ncols, |i, j| {
            o[i + j * nrows] = f(a.get(i, j), b.get(i, j));
        });
    }
}

/// `out_ij (+)= f(a_ij, b_ij, c_ij)`, preparing `out` (shape of `a`) unless `acc`.
#[inline]
pub(crate) fn ternary<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatRef<'_, T>,
    what: &str,
    f: impl Fn(T, T, T) -> T,
) {
    same_shape(what, &a, &b);
    same_shape(what, &a, &c);
    ready(out, acc, a.nrows, a.ncols, what);
    let nrows = a.nrows;
    let o = out.as_mut_slice();
    if let (Some(sa), Some(sb), Some(sc)) = (a.as_slice(), b.as_slice(), c.as_slice()) {
        let it = o.iter_mut().zip(sa.iter().zip(sb).zip(sc));
        if acc {
            it.for_each(|(o, ((&x, &y), &z))| *o += f(x, y, z));
        } else {
            it.for_each(|(o, ((&x, &y), &z))| *o = f(x, y, z));
        }
    } else if acc {
        tiled(a.nrows, a.ncols, |i, j| {
            o[i + j * nrows] += f(a.get(i, j), b.get(i, j), c.get(i, j));
        });
    } else {
        tiled(a.nrows, a.ncols, |i, j| {
            o[i + j * nrows] = f(a.get(i, j), b.get(i, j), c.get(i, j));
        });
    }
}

// ---------------------------------------------------------------------------
// Vector primitives on slices
// ---------------------------------------------------------------------------

/// `Σ a_i b_i` over the common length, with eight independent partial sums (so the loop
/// vectorises; the order of additions is fixed).
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::zero(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (&x, &y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `Σ a_i`, with eight independent partial sums.
#[inline]
pub(crate) fn sum<T: Real>(a: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let ca = a.chunks_exact(8);
    let ra = ca.remainder();
    for x in ca {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for &x in ra {
        s += x;
    }
    s
}

/// `y += c · x`.
#[inline]
pub(crate) fn axpy<T: Real>(y: &mut [T], c: T, x: &[T]) {
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += c * x);
}

/// `y = beta · y`, where a zero `beta` writes zeros without reading `y`.
#[inline]
pub(crate) fn scale_by<T: Real>(y: &mut [T], beta: T) {
    if beta.is_zero() {
        y.fill(T::zero());
    } else if beta != T::one() {
        y.iter_mut().for_each(|y| *y *= beta);
    }
}

/// `-∞` in `T`.
#[inline]
pub(crate) fn neg_infinity<T: Real>() -> T {
    nalgebra::convert(f64::NEG_INFINITY)
}

/// `true` for a NaN.
#[inline]
#[allow(clippy::eq_op)] // `x != x` is the NaN test that needs no further trait bound
pub(crate) fn is_nan<T: Real>(x: T) -> bool {
    x != x
}

//! The elementwise kernels the generated code fuses chains into: [`zip_n_to`], any
//! number of same-shaped inputs, one pass, one output, and [`zip_map_sum`], the sum
//! of a function of two matrices' entries. The code generator writes the closure
//! (for example `|[g, a]| 2.0 * g * (1.0 - a * a)` for a `tanh` layer's adjoint).

use crate::kernel::{ready, same_shape, MatRef};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// `out_k (+)= f([in_0[k], in_1[k], …])` for every entry `k` of a `rows×cols`
/// matrix stored column-major; with `acc == false`, `out` is resized if needed and
/// overwritten (never read).
///
/// Every input must hold exactly `rows · cols` entries (checked). This is how the
/// generated code evaluates a chain of elementwise adjoints, such as
/// `Ḡ ⊙ 2 (a − y) ⊙ (1 − a²)`, in one pass without temporaries.
///
/// ```
/// use matgrad_runtime::__private::zip_n_to;
/// use nalgebra::DMatrix;
/// let (g, a) = (DMatrix::from_element(2, 3, 2.0), DMatrix::from_element(2, 3, 0.5));
/// let mut out = DMatrix::zeros(0, 0);
/// zip_n_to(&mut out, false, 2, 3, [g.as_slice(), a.as_slice()], |[g, a]| g * (1.0 - a * a));
/// assert_eq!(out, g.component_mul(&a.map(|v| 1.0 - v * v)));
/// ```
#[inline]
pub fn zip_n_to<T: Real, const N: usize, F: Fn([T; N]) -> T>(
    out: &mut DMatrix<T>,
    acc: bool,
    rows: usize,
    cols: usize,
    inputs: [&[T]; N],
    f: F,
) {
    let len = rows * cols;
    for (k, input) in inputs.iter().enumerate() {
        assert!(
            input.len() == len,
            "matgrad: fused kernel: input {k} has {} entries, expected {rows}×{cols}",
            input.len()
        );
    }
    ready(out, acc, rows, cols, "fused kernel");
    let o = &mut out.as_mut_slice()[..len];
    let inputs = inputs.map(|s| &s[..len]);
    if acc {
        for (i, o) in o.iter_mut().enumerate() {
            *o += f(inputs.map(|s| s[i]));
        }
    } else {
        for (i, o) in o.iter_mut().enumerate() {
            *o = f(inputs.map(|s| s[i]));
        }
    }
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

/// `Σ_ij f(a_ij, b_ij, c_ij)`: the sum of an entrywise function of three matrices of
/// one shape, in one pass (a captured scalar's adjoint in a `zip_map` closure).
///
/// ```
/// use matgrad_runtime::__private::{view, zip3_map_sum};
/// use nalgebra::DMatrix;
/// let (a, b, c) = (DMatrix::from_element(2, 2, 1.0), DMatrix::from_element(2, 2, 2.0), DMatrix::from_element(2, 2, 3.0));
/// assert_eq!(zip3_map_sum(view(&a), view(&b), view(&c), |x, y, z| x * y + z), 20.0);
/// ```
pub fn zip3_map_sum<T: Real, F: Fn(T, T, T) -> T>(
    a: DMatrixView<'_, T>,
    b: DMatrixView<'_, T>,
    c: DMatrixView<'_, T>,
    f: F,
) -> T {
    let (a, b, c) = (MatRef::new(&a), MatRef::new(&b), MatRef::new(&c));
    same_shape("zip3_map_sum", &a, &b);
    same_shape("zip3_map_sum", &a, &c);
    let mut total = T::zero();
    for j in 0..a.ncols {
        for i in 0..a.nrows {
            total += f(a.get(i, j), b.get(i, j), c.get(i, j));
        }
    }
    total
}

/// The logistic function `1 / (1 + e^−x)`, computed stably (the scalar behind [`crate::sigmoid`]).
#[inline]
pub fn sigmoid_scalar<T: Real>(x: T) -> T {
    crate::elementwise::sigmoid_scalar(x)
}

/// `1` for `x > 0`, `0` for `x ≤ 0`, NaN for NaN: the derivative of [`crate::relu`].
#[inline]
pub fn relu_step<T: Real>(x: T) -> T {
    crate::elementwise::relu_step(x)
}

//! A function generic over its float type, with bounds inline and in a `where`
//! clause, used at f32 and f64, compiles without warnings.
#![deny(warnings)]

use matgrad::grad;
use nalgebra::{DMatrix, Matrix2, RealField};

/// Least squares, one definition for both float types.
#[grad(wrt = w)]
pub fn loss<T: RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<T>) -> T {
    (x * w).norm_squared() / T::from_usize(x.nrows()).unwrap()
}

/// The same on static sizes, bounds in a `where` clause.
#[grad(wrt = w)]
pub fn small<T>(w: &Matrix2<T>) -> T
where
    T: RealField + Copy,
{
    (w * w).trace() + nalgebra::convert::<f64, T>(0.5) * w.norm_squared()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let (_, g) = loss_grad(&x, &x);
    let x32 = x.cast::<f32>();
    let (_, g32) = loss_grad(&x32, &x32);
    assert_eq!(g.cast::<f32>(), g32);
    let (_, _) = small_grad(&Matrix2::<f32>::identity());
}

//! A product read only by one sum (`a * b − c`, `c − a * b`, `a * b + c`,
//! `c + a * b`, `add_row(&(a * b), r)`, `add_col(&(a * b), c)`) is computed by one GEMM starting from `c` where that keeps
//! nalgebra's bits (every dimension above 5, the depth within one matrixmultiply
//! block), else in two steps (`matgrad_runtime::__private::mul_add_to`). Either way
//! the value is the original function's, bit for bit (`Value::Exact`), and the
//! gradients agree with central differences: shapes on both sides of each
//! threshold (dimensions 5 and 6, depths 256 and 257), f64 and f32.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[allow(unused_macros, unused_imports)]
mod common;

use common::{gradcheck, mat, rng};
use matgrad::{add_col, add_row, grad, Workspace};
use nalgebra::{DMatrix, DVector, RowDVector};

/// Every value is compared with the original's bits.
const VALUE: common::Value = common::Value::Exact;

#[grad(wrt = (a, b))]
fn product_minus(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b - c).norm_squared()
}

#[grad(wrt = (a, b, c))]
fn minus_product(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (c - a * b).map(|v| v.tanh()).sum()
}

#[grad(wrt = (a, c))]
fn product_plus(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let z = a * b + c;
    z.norm_squared() + z.sum()
}

#[grad(wrt = (b, c))]
fn plus_product(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (c + a * b).component_mul(c).sum()
}

/// A product read twice is stored: the sum cannot compute it.
#[grad(wrt = (a, b))]
fn product_read_twice(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let p = a * b;
    (&p - c).norm_squared() + p.sum()
}

/// Two products summed (`a b + c d`): the sum computes the first, the second is
/// its other operand.
#[grad(wrt = (a, b))]
fn two_products(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    (a * b + c * b.transpose()).norm_squared() + (c * c - a * a.transpose()).sum()
}

/// A dense layer with a bias per column, and one with a bias per row.
#[grad(wrt = (a, b, r, c))]
fn biases(a: &DMatrix<f64>, b: &DMatrix<f64>, r: &RowDVector<f64>, c: &DVector<f64>) -> f64 {
    add_row(&(a * b), r).map(|v| v.tanh()).sum() + add_col(&(a * b), c).norm_squared()
}

/// f32, the same thresholds.
#[grad(wrt = (a, b))]
fn product_minus_f32(a: &DMatrix<f32>, b: &DMatrix<f32>, c: &DMatrix<f32>) -> f32 {
    (a * b - c).norm_squared()
}

/// (rows, depth, columns): each threshold from both sides, 1×1 included.
const SHAPES: [(usize, usize, usize); 8] = [
    (1, 1, 1),
    (5, 6, 6),
    (6, 5, 6),
    (6, 6, 5),
    (6, 6, 6),
    (9, 40, 7),
    (7, 256, 8),
    (8, 257, 6),
];

#[test]
fn sums_of_products_keep_the_bits_and_the_gradients() {
    let (r, mut ws) = (&mut rng(1101), Workspace::new());
    for (m, k, n) in SHAPES {
        let c = mat(r, m, n);
        let (a, b) = (mat(r, m, k), mat(r, k, n));
        gradcheck!(&mut ws; product_minus, product_minus_grad, product_minus_grad_into;
            (&a, &b, &c); a = a.clone(), b = b.clone());
        gradcheck!(&mut ws; minus_product, minus_product_grad, minus_product_grad_into;
            (&a, &b, &c); a = a.clone(), b = b.clone(), c = c.clone());
        gradcheck!(&mut ws; product_plus, product_plus_grad, product_plus_grad_into;
            (&a, &b, &c); a = a.clone(), c = c.clone());
        gradcheck!(&mut ws; plus_product, plus_product_grad, plus_product_grad_into;
            (&a, &b, &c); b = b.clone(), c = c.clone());
        gradcheck!(&mut ws; product_read_twice, product_read_twice_grad,
            product_read_twice_grad_into; (&a, &b, &c); a = a.clone(), b = b.clone());
        let (rw, cl) = (mat(r, 1, n), mat(r, m, 1));
        let (rw, cl) = (
            RowDVector::from_row_slice(rw.as_slice()),
            DVector::from_column_slice(cl.as_slice()),
        );
        gradcheck!(&mut ws; biases, biases_grad, biases_grad_into; (&a, &b, &rw, &cl);
            a = a.clone(), b = b.clone(), rw = rw.clone(), cl = cl.clone());
        // Square shapes for the two products.
        let (a, b, c) = (mat(r, m, m), mat(r, m, m), mat(r, m, m));
        gradcheck!(&mut ws; two_products, two_products_grad, two_products_grad_into;
            (&a, &b, &c); a = a.clone(), b = b.clone());
    }
}

#[test]
fn f32_keeps_the_bits() {
    let mut ws = Workspace::new();
    let r = &mut rng(1102);
    for (m, k, n) in SHAPES {
        let (a, b, c) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let (a, b, c) = (a.cast::<f32>(), b.cast::<f32>(), c.cast::<f32>());
        let want = product_minus_f32(&a, &b, &c);
        let (v, _, _) = product_minus_f32_grad(&a, &b, &c);
        assert_eq!(v.to_bits(), want.to_bits(), "{m}×{k}×{n}");
        let (mut ga, mut gb) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let w = product_minus_f32_grad_into(&a, &b, &c, &mut ga, &mut gb, &mut ws);
        assert_eq!(w.to_bits(), want.to_bits(), "{m}×{k}×{n} (_grad_into)");
    }
}

/// A mismatched sum still panics with the sum's message, whichever path runs.
#[test]
#[should_panic(expected = "cannot subtract 7×7 from 7×6")]
fn mismatched_sum_panics_with_its_message() {
    let r = &mut rng(1103);
    let (a, b, c) = (mat(r, 7, 7), mat(r, 7, 6), mat(r, 7, 7));
    let _ = product_minus_grad(&a, &b, &c);
}

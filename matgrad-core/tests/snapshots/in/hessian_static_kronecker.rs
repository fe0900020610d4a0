// A static matrix variable: 2 (B Bᵀ) ⊗ (AᵀA) as nalgebra products on the stack.
#[grad(wrt = x, hessian)]
fn kron_ls(a: &SMatrix<f64, 3, 2>, x: &SMatrix<f64, 2, 2>, b: &SMatrix<f64, 2, 3>, c: &SMatrix<f64, 3, 3>) -> f64 {
    (a * x * b - c).norm_squared()
}

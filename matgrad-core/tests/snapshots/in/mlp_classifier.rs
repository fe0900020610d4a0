#[grad(wrt = (w1, b1, w2, b2))]
pub fn loss(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
) -> f64 {
    let h = relu(&add_row(&(x * w1), b1));
    let z = add_row(&(h * w2), b2);
    softmax_cross_entropy(&z, y)
}

use matgrad::grad;
use nalgebra::DMatrix;

mod activations {
    use nalgebra::DMatrix;
    pub fn relu(m: &DMatrix<f64>) -> DMatrix<f64> {
        m.map(|v| v.max(0.0))
    }
}

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    activations::relu(&z).sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

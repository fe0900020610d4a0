use matgrad::grad;
use nalgebra::DMatrix;

struct Model {
    x: DMatrix<f64>,
}

impl Model {
    #[grad(wrt = w)]
    fn loss(&self, w: &DMatrix<f64>) -> f64 {
        (w * w).sum()
    }
}

fn main() {
    let model = Model {
        x: DMatrix::identity(2, 2),
    };
    let _ = model.loss(&model.x);
}

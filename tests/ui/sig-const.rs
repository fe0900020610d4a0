use matgrad::grad;

#[grad(wrt = w)]
const fn loss(x: f64, w: f64) -> f64 {
    x * w
}

fn main() {
    let _ = loss(1.0, 2.0);
    let _ = loss_grad(1.0, 2.0);
}

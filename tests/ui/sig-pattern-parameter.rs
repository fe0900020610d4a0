use matgrad::grad;

#[grad(wrt = a)]
fn loss((a, b): (f64, f64)) -> f64 {
    a * b
}

fn main() {
    let _ = loss((1.0, 2.0));
    let _ = loss_grad((1.0, 2.0));
}

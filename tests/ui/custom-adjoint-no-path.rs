use matgrad::custom_adjoint;

#[custom_adjoint("f_adjoint")]
fn f(x: f64) -> f64 {
    x
}

fn main() {
    let _ = f(1.0);
}

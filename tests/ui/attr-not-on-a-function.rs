use matgrad::grad;

#[grad(wrt = w)]
struct Loss {
    w: f64,
}

fn main() {
    let _ = Loss { w: 1.0 }.w;
}

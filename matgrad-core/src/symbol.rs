//! The names matgrad accepts, in one place (as serde_derive's `symbol.rs`).

/// The attribute key.
pub const WRT: &str = "wrt";
/// The attribute flag allowing value rewrites that change rounding.
pub const REASSOCIATE: &str = "reassociate";

/// Matrix types accepted for parameters, with the shape each stands for.
pub const MATRIX_TYPES: [(&str, crate::ir::Shape); 3] = [
    ("DMatrix", crate::ir::Shape::MATRIX),
    ("DVector", crate::ir::Shape::COLUMN),
    ("RowDVector", crate::ir::Shape::ROW),
];

/// Runtime functions recognised by name (`sigmoid(..)` or `matgrad::sigmoid(..)`):
/// name and number of arguments.
///
/// A bare name must resolve to matgrad's function, which the macro cannot see:
/// [`crate::emit::resolve`] has rustc check it, so a user's own `sigmoid` is an
/// error at the call, not silently differentiated as matgrad's. Other paths
/// (`crate::sigmoid`, `act::relu`) are the user's functions and are rejected
/// ([`crate::parse::body::runtime_fn_name`]).
pub const RUNTIME_FNS: [(&str, usize); 8] = [
    ("sigmoid", 1),
    ("relu", 1),
    ("softplus", 1),
    ("add_row", 2),
    ("add_col", 2),
    ("ln_det", 1),
    ("log_sum_exp", 1),
    ("softmax_cross_entropy", 2),
];

/// Matrix methods accepted, for the "did you mean" lists of diagnostics.
pub const MATRIX_METHODS: [&str; 19] = [
    "transpose",
    "component_mul",
    "component_div",
    "map",
    "add_scalar",
    "scale",
    "sum",
    "mean",
    "norm_squared",
    "norm",
    "dot",
    "trace",
    "determinant",
    "try_inverse",
    "kronecker",
    "clone",
    "unwrap",
    "expect",
    "powi",
];

//! The names matgrad accepts, in one place (as serde_derive's `symbol.rs`): the
//! attribute's keys, the parameter types, and the tables the parser looks
//! operations up in. A new method or function is one line here (and its rule in
//! [`crate::rules`]).

use crate::ir::{Closure, Count, Op, Shape};
use crate::sym::{Method, Sym};

/// The attribute key.
pub const WRT: &str = "wrt";
/// The attribute flag allowing value rewrites that change rounding.
pub const REASSOCIATE: &str = "reassociate";
/// The attribute flag for `NAME_hvp` and `NAME_hvp_into` (SPEC §10).
pub const HVP: &str = "hvp";
/// The attribute flag for `NAME_hessian` (SPEC §10).
pub const HESSIAN: &str = "hessian";
/// The hidden option of a run-time loop's step function (see [`crate::ir::Loop`]):
/// the carried variables whose values at the end of the body `NAME_step_into` writes.
pub const LOOP_STEP: &str = "loop_step";
/// The hidden flag of a step function's tangent (see [`crate::tangent::loop_step`]):
/// the function's step companions are those of its tangent graph.
pub const LOOP_TANGENT: &str = "loop_tangent";

/// Matrix types accepted for parameters, with the shape each stands for.
pub const MATRIX_TYPES: [(&str, Shape); 3] = [
    ("DMatrix", Shape::MATRIX),
    ("DVector", Shape::COLUMN),
    ("RowDVector", Shape::ROW),
];

/// What a matrix method takes besides its receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// Nothing: `a.sum()`.
    Nothing,
    /// A matrix: `a.dot(&b)`.
    Matrix,
    /// A scalar: `a.scale(s)`.
    Scalar,
    /// A `usize`: `a.column(j)`.
    Count,
    /// That many `usize`s: `a.rows(i, n)`.
    Counts(usize),
    /// Read by the parser in its own way (`map`'s closure, `try_inverse().unwrap()`).
    Special,
}

impl Takes {
    /// The number of arguments.
    pub fn arity(self) -> usize {
        match self {
            Takes::Nothing | Takes::Special => 0,
            Takes::Matrix | Takes::Scalar | Takes::Count => 1,
            Takes::Counts(n) => n,
        }
    }
}

/// What a matrix method needs of its receiver and argument, checked on the static
/// shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing.
    Nothing,
    /// A square receiver.
    Square,
    /// An argument of the receiver's shape.
    SameShape,
    /// A column index within the receiver's columns.
    ColumnIndex,
    /// A row index within the receiver's rows.
    RowIndex,
    /// A start and a number of rows within the receiver's rows, the number a literal
    /// when the receiver's rows are static.
    RowRange,
    /// A start and a number of columns within the receiver's columns, the number a
    /// literal when the receiver's columns are static.
    ColumnRange,
    /// A block's start and shape (two pairs) within the receiver, its lengths literals
    /// where the receiver's dimensions are static.
    Block,
}

/// One matrix method: its name, how the diagnostics show it, what it takes and
/// needs, and the operation it becomes.
pub struct MatrixMethod {
    /// The method's name.
    pub name: &'static str,
    /// How the diagnostics list it.
    pub shown: &'static str,
    /// Its argument.
    pub takes: Takes,
    /// Its checks.
    pub needs: Needs,
    /// The operation, given the method's count arguments (for [`Takes::Count`] and
    /// [`Takes::Counts`]).
    pub op: fn(&[Count]) -> Option<Op>,
}

const fn method(
    name: &'static str,
    takes: Takes,
    needs: Needs,
    op: fn(&[Count]) -> Option<Op>,
) -> MatrixMethod {
    MatrixMethod {
        name,
        shown: name,
        takes,
        needs,
        op,
    }
}

/// The matrix methods, in the order the diagnostics list them.
pub const MATRIX_METHODS: [MatrixMethod; 31] = [
    method("transpose", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::Transpose)
    }),
    method("component_mul", Takes::Matrix, Needs::SameShape, |_| {
        Some(Op::ComponentMul)
    }),
    method("component_div", Takes::Matrix, Needs::SameShape, |_| {
        Some(Op::ComponentDiv)
    }),
    method("map", Takes::Special, Needs::Nothing, |_| None),
    method("zip_map", Takes::Special, Needs::Nothing, |_| None),
    method("add_scalar", Takes::Scalar, Needs::Nothing, |_| {
        Some(Op::AddScalar)
    }),
    method("scale", Takes::Scalar, Needs::Nothing, |_| Some(Op::Scale)),
    method("sum", Takes::Nothing, Needs::Nothing, |_| Some(Op::Sum)),
    method("mean", Takes::Nothing, Needs::Nothing, |_| Some(Op::Mean)),
    method("norm_squared", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::NormSquared)
    }),
    method("norm", Takes::Nothing, Needs::Nothing, |_| Some(Op::Norm)),
    method("dot", Takes::Matrix, Needs::SameShape, |_| Some(Op::Dot)),
    method("trace", Takes::Nothing, Needs::Square, |_| Some(Op::Trace)),
    method("determinant", Takes::Nothing, Needs::Square, |_| {
        Some(Op::Determinant)
    }),
    MatrixMethod {
        shown: "try_inverse().unwrap()",
        ..method("try_inverse", Takes::Special, Needs::Square, |_| None)
    },
    method("kronecker", Takes::Matrix, Needs::Nothing, |_| {
        Some(Op::Kronecker)
    }),
    method("diagonal", Takes::Nothing, Needs::Square, |_| {
        Some(Op::Diagonal)
    }),
    method("lower_triangle", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::Triangle { lower: true })
    }),
    method("upper_triangle", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::Triangle { lower: false })
    }),
    MatrixMethod {
        shown: "column(j)",
        ..method("column", Takes::Count, Needs::ColumnIndex, |j| {
            j.first().cloned().map(Op::Column)
        })
    },
    MatrixMethod {
        shown: "row(i)",
        ..method("row", Takes::Count, Needs::RowIndex, |i| {
            i.first().cloned().map(Op::Row)
        })
    },
    MatrixMethod {
        shown: "rows(i, n)",
        ..method("rows", Takes::Counts(2), Needs::RowRange, |c| match c {
            [i, n] => Some(Op::Rows(i.clone(), n.clone())),
            _ => None,
        })
    },
    MatrixMethod {
        shown: "columns(j, n)",
        ..method(
            "columns",
            Takes::Counts(2),
            Needs::ColumnRange,
            |c| match c {
                [j, n] => Some(Op::Columns(j.clone(), n.clone())),
                _ => None,
            },
        )
    },
    MatrixMethod {
        shown: "view((i, j), (r, c))",
        ..method("view", Takes::Counts(2), Needs::Block, |c| {
            <&[Count; 4]>::try_from(c).ok().map(|c| Op::View(c.clone()))
        })
    },
    method("row_sum", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::RowSum { mean: false })
    }),
    method("column_sum", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::ColumnSum { mean: false })
    }),
    method("row_mean", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::RowSum { mean: true })
    }),
    method("column_mean", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::ColumnSum { mean: true })
    }),
    method("max", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::Extreme { max: true })
    }),
    method("min", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::Extreme { max: false })
    }),
    method("abs", Takes::Nothing, Needs::Nothing, |_| {
        Some(Op::Map(Closure {
            body: Sym::Call(Method::Abs, Box::new(Sym::Var), None),
        }))
    }),
];

/// The matrix method called `name`.
pub fn matrix_method(name: &str) -> Option<&'static MatrixMethod> {
    MATRIX_METHODS.iter().find(|m| m.name == name)
}

/// The matrix methods as the diagnostics list them: `transpose, component_mul, …`.
pub fn matrix_method_list() -> String {
    let shown: Vec<&str> = MATRIX_METHODS.iter().map(|m| m.shown).collect();
    shown.join(", ")
}

/// Methods accepted on any value that are no operation of their own: `clone`,
/// `into_owned`, `clone_owned` (no-ops: a view made a matrix), `unwrap`/`expect`
/// (after `try_inverse()`), `powi` (a scalar method with an integer argument).
pub const OTHER_METHODS: [&str; 6] = [
    "clone",
    "into_owned",
    "clone_owned",
    "unwrap",
    "expect",
    "powi",
];

/// The methods that only copy their receiver (a view into a matrix of its own).
pub const NO_OP_METHODS: [&str; 3] = ["clone", "into_owned", "clone_owned"];

/// One of matgrad's runtime functions, recognised by name (`sigmoid(..)` or
/// `matgrad::sigmoid(..)`).
///
/// A bare name must resolve to matgrad's function, which the macro cannot see:
/// [`crate::emit::resolve`] has rustc check it, so a user's own `sigmoid` is an
/// error at the call, not silently differentiated as matgrad's. Other paths
/// (`crate::sigmoid`, `act::relu`) are the user's functions and are rejected
/// ([`crate::parse::body::runtime_fn_name`]).
pub struct RuntimeFn {
    /// The function's name.
    pub name: &'static str,
    /// Its number of (matrix) arguments.
    pub arity: usize,
    /// Whether its first argument must be square.
    pub square: bool,
    /// The operation.
    pub op: fn() -> Op,
}

const fn runtime_fn(name: &'static str, arity: usize, op: fn() -> Op) -> RuntimeFn {
    RuntimeFn {
        name,
        arity,
        square: false,
        op,
    }
}

/// matgrad's runtime functions, as the diagnostics list them.
pub const RUNTIME_FNS: [RuntimeFn; 8] = [
    runtime_fn("sigmoid", 1, || Op::Sigmoid),
    runtime_fn("relu", 1, || Op::Relu),
    runtime_fn("softplus", 1, || Op::Softplus),
    runtime_fn("add_row", 2, || Op::AddRow),
    runtime_fn("add_col", 2, || Op::AddCol),
    RuntimeFn {
        square: true,
        ..runtime_fn("ln_det", 1, || Op::LnDet)
    },
    runtime_fn("log_sum_exp", 1, || Op::LogSumExp),
    runtime_fn("softmax_cross_entropy", 2, || Op::SoftmaxCrossEntropy),
];

/// The runtime function called `name`.
pub fn runtime_fn_named(name: &str) -> Option<&'static RuntimeFn> {
    RUNTIME_FNS.iter().find(|f| f.name == name)
}

/// The runtime functions' names, for the diagnostics.
pub fn runtime_fn_names() -> Vec<&'static str> {
    RUNTIME_FNS.iter().map(|f| f.name).collect()
}

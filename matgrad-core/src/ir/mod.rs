//! The intermediate representation: one annotated function as a flat list of nodes.
//!
//! Invariants, which every pass may rely on:
//!
//! - [`Graph::nodes`] is in evaluation order: a node's arguments always have smaller
//!   ids than the node itself (a straight-line body is already topologically sorted,
//!   as egg's `RecExpr`). The reverse sweep is a backwards iteration.
//! - Every node has a [`Kind`], fixed when the node is built: a scalar of the
//!   function's float type, or a matrix with a [`Shape`].
//! - Parameters come first, one [`Op::Param`] node per parameter, in signature order,
//!   so the node id of parameter `i` is `i`.
//! - No-op syntax (`&a`, `(a)`, `a.clone()`) makes no node: it is the node of `a`.
//! - [`Graph::output`] is a scalar node: the function's value.

mod sexpr;

use crate::sym::{SOp, Sym};
use proc_macro2::{Span, TokenStream};

/// Index of a node in [`Graph::nodes`].
pub type NodeId = usize;

/// A dimension as far as the types tell: one, another size fixed by the type, or
/// known only at run time.
///
/// A size of one is always [`Dim::One`], whether it comes from a `DVector`'s column
/// count or a `Vector3`'s: nalgebra's `U1` is the same dimension in both. So
/// `Dim::Fixed(n)` always has `n != 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// Statically one (the column count of a `DVector` or a `Vector3`).
    One,
    /// Statically `n`, from a type such as `Matrix3` or `SMatrix<T, 4, 2>` (`n != 1`).
    Fixed(usize),
    /// Known at run time (`Dyn`).
    Dyn,
}

impl Dim {
    /// The dimension of a static size: [`Dim::One`] for 1, else [`Dim::Fixed`].
    pub fn fixed(n: usize) -> Dim {
        if n == 1 {
            Dim::One
        } else {
            Dim::Fixed(n)
        }
    }

    /// The size, when the type fixes it.
    pub fn size(self) -> Option<usize> {
        match self {
            Dim::One => Some(1),
            Dim::Fixed(n) => Some(n),
            Dim::Dyn => None,
        }
    }

    /// Whether `self` and `other` are both known and differ: the operation needing
    /// them equal cannot compile.
    pub fn conflicts(self, other: Dim) -> bool {
        matches!((self.size(), other.size()), (Some(a), Some(b)) if a != b)
    }
}

/// The static shape of a matrix value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Rows.
    pub rows: Dim,
    /// Columns.
    pub cols: Dim,
}

impl Shape {
    /// `DMatrix`.
    pub const MATRIX: Shape = Shape {
        rows: Dim::Dyn,
        cols: Dim::Dyn,
    };
    /// `DVector` (a column).
    pub const COLUMN: Shape = Shape {
        rows: Dim::Dyn,
        cols: Dim::One,
    };
    /// `RowDVector`.
    pub const ROW: Shape = Shape {
        rows: Dim::One,
        cols: Dim::Dyn,
    };

    /// Whether both dimensions are fixed by the types (`Matrix3`, `Vector2`, …).
    pub fn is_static(self) -> bool {
        self.rows != Dim::Dyn && self.cols != Dim::Dyn
    }

    /// The shape for messages: `3×3 matrix`, `2×1 vector`, `1×4 row vector`, with
    /// `n` for a size known only at run time.
    pub fn describe(self) -> String {
        let d = |d: Dim| d.size().map_or_else(|| "n".to_string(), |n| n.to_string());
        let noun = match (self.rows, self.cols) {
            (Dim::One, Dim::One) => "matrix",
            (_, Dim::One) => "vector",
            (Dim::One, _) => "row vector",
            _ => "matrix",
        };
        format!("{}×{} {noun}", d(self.rows), d(self.cols))
    }

    /// [`Shape::describe`] with its article: `a 3×3 matrix`, `an n×3 matrix`,
    /// `an 8×1 vector`.
    pub fn describe_a(self) -> String {
        let d = self.describe();
        let vowel_sound = d.starts_with('n')
            || d.starts_with('8')
            || d.starts_with("11×")
            || d.starts_with("18×");
        format!("{} {d}", if vowel_sound { "an" } else { "a" })
    }

    /// The shape of the transpose.
    pub fn transpose(self) -> Shape {
        Shape {
            rows: self.cols,
            cols: self.rows,
        }
    }
}

/// What a node evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A scalar of the function's float type.
    Scalar,
    /// A matrix (or vector) of that float type.
    Matrix(Shape),
}

impl Kind {
    /// Whether this is a matrix kind.
    pub fn is_matrix(self) -> bool {
        matches!(self, Kind::Matrix(_))
    }
}

/// The closure of a `map`: `|v| body`, with `body` a scalar expression in
/// [`Sym::Var`] and captured scalar nodes ([`Sym::Val`]).
#[derive(Clone, Debug)]
pub struct Closure {
    /// The closure's body.
    pub body: Sym,
}

/// An operation. Arguments are in [`Node::args`], in the order listed.
#[derive(Clone, Debug)]
pub enum Op {
    /// Parameter `i` of the signature.
    Param(usize),
    /// A float literal.
    Lit(f64),
    /// An outside scalar constant, such as `LAMBDA` or `std::f64::consts::PI`.
    Const(TokenStream),
    /// `count as f64` (or `as f32`): a count of the body (`x.nrows()`, `n - 1`) as a
    /// scalar of the function's float type, a constant.
    Cast(Count),
    /// Scalar arithmetic or a scalar method; args: the operands.
    Scalar(SOp),

    /// `a + b` on matrices.
    Add,
    /// `a - b` on matrices.
    Sub,
    /// `-a` on a matrix.
    Neg,
    /// `a * b`, the matrix product.
    MatMul,
    /// `s * a`, `a * s`, `a.scale(s)`; args: (a, s).
    Scale,
    /// `a / s`; args: (a, s).
    DivScalar,
    /// `a.transpose()`.
    Transpose,
    /// `a.component_mul(&b)`.
    ComponentMul,
    /// `a.component_div(&b)`.
    ComponentDiv,
    /// `a.map(|v| body)`; args: (a, captured scalars...).
    Map(Closure),
    /// `a.zip_map(&b, |p, q| body)`, `body` in [`Sym::Arg`]`(0)` (p) and `Arg(1)` (q);
    /// args: (a, b, captured scalars...).
    ZipMap(Closure),
    /// `a.add_scalar(s)`; args: (a, s).
    AddScalar,
    /// `a.kronecker(&b)`.
    Kronecker,
    /// `a.try_inverse().unwrap()` or `.expect(msg)`.
    Inverse(Option<String>),
    /// `a⁻¹` that no user wrote (the tangents of `det` and `ln_det`): from
    /// matgrad's own factorisation (Cholesky when `a` is exactly symmetric positive
    /// definite, else LU), in the workspace, where [`Op::Inverse`] keeps nalgebra's
    /// bits and allocates as nalgebra does; non-finite for a singular `a`.
    FactorInverse,
    /// `a` itself, held factorised (Cholesky `a = L Lᵀ` when `a` is exactly symmetric
    /// positive definite, else LU with partial pivoting, `P a = L U`), for the solves of an inverse used only in products; only under
    /// `#[grad(reassociate)]` (see [`crate::solve`]). Keeps the panic (and the
    /// `.expect` message) of the `try_inverse` it replaces. Adjoint: `ā += Ḡ`.
    Factor(Option<String>),
    /// `a⁻¹ b` by triangular solves with the factors of an [`Op::Factor`] of `a`, for
    /// `a.try_inverse().unwrap() * b`. Args: (the `Factor` node, b).
    Solve,
    /// `b a⁻¹ = (a⁻ᵀ bᵀ)ᵀ` by triangular solves with the factors of an [`Op::Factor`] of
    /// `a`, for `b * a.try_inverse().unwrap()`. Args: (b, the `Factor` node).
    SolveRight,

    /// `a.sum()`.
    Sum,
    /// `a.mean()`.
    Mean,
    /// `a.norm_squared()`.
    NormSquared,
    /// `a.norm()`.
    Norm,
    /// `a.dot(&b)`.
    Dot,
    /// `a.trace()`.
    Trace,
    /// `a.row_sum()` (`mean`: `a.row_mean()`): the `1×n` row of column sums (means).
    RowSum {
        /// `row_mean`.
        mean: bool,
    },
    /// `a.column_sum()` (`mean`: `a.column_mean()`): the `m×1` column of row sums
    /// (means).
    ColumnSum {
        /// `column_mean`.
        mean: bool,
    },
    /// `a.max()` (`max`) or `a.min()`: the largest (smallest) entry.
    Extreme {
        /// `max`, else `min`.
        max: bool,
    },
    /// `(p * q).trace()` from the product's diagonal entries only, with the bits the
    /// product and the trace give (see [`crate::rewrite`]). Args: (p, q).
    TraceMul,
    /// `a₀ a₁ ⋯ a_{n−1}` (n ≥ 3) in the association with the fewest multiply-adds,
    /// chosen at run time from the shapes (at expansion for static ones); only under
    /// `#[grad(reassociate)]` (see [`crate::rewrite`]). Args: the factors.
    Chain,
    /// A vector of ones, `𝟙ᵀ` (a row as long as node `of` has rows) when `row`, else
    /// `𝟙` (a column as long as `of` has columns): the ends of a summed chain,
    /// `(a b).sum() = 𝟙ᵀ a b 𝟙`; only under `#[grad(reassociate)]`. No args: a
    /// constant, whatever `of` is.
    Ones {
        /// The node whose size it takes.
        of: NodeId,
        /// A row (`1×rows`), else a column (`cols×1`).
        row: bool,
    },
    /// `a.determinant()`.
    Determinant,
    /// `a[(i, j)]` (and `v[i]` of a vector), `i` and `j` counts.
    Index(Count, Count),
    /// `DMatrix::identity(rows, cols)`, `Matrix3::identity()`: the node's kind is the
    /// type's; the sizes are counts (`1` for a static dimension, unused).
    Identity(Count, Count),
    /// `DMatrix::from_element(rows, cols, s)` (and `zeros`, with `s` the literal 0):
    /// every entry `s`; args: (s).
    Fill(Count, Count),
    /// `DMatrix::from_diagonal(&v)`, `Matrix3::from_diagonal(&v)`: the square matrix
    /// with the column `v` on its diagonal; the node's kind is the type's.
    FromDiagonal,
    /// `Vector2::new(a, b)`, `Matrix2x3::new(..)`: a static `rows × cols` matrix from
    /// its entries, in nalgebra's row-major argument order; args: the entries.
    FromScalars(usize, usize),
    /// `f(a, b, …)` of scalars, a user's function with a user-supplied adjoint.
    User(Box<crate::sym::UserFn>),
    /// `f(&a, &b, s, …)` of matrices and scalars returning a matrix or a scalar, a
    /// user's function with a user-supplied adjoint `f_adjoint(&a, &b, s, …, &ḡ)`
    /// returning the arguments' adjoints; args: the arguments.
    UserCall(Box<UserCall>),
    /// `a.diagonal()` of a square `a`.
    Diagonal,
    /// `a.lower_triangle()` (`lower`) or `a.upper_triangle()`: `a` with the entries on
    /// the other side of the diagonal zero.
    Triangle {
        /// The lower triangle, else the upper one.
        lower: bool,
    },
    /// `a.column(j)`.
    Column(Count),
    /// `a.row(i)`.
    Row(Count),
    /// `a.rows(i, n)`: rows `i..i + n`, all columns.
    Rows(Count, Count),
    /// `a.columns(j, n)`: columns `j..j + n`, all rows.
    Columns(Count, Count),
    /// `a.view((i, j), (r, c))`: the `r×c` block at `(i, j)`; the counts in that order
    /// (i, j, r, c).
    View([Count; 4]),

    /// `sigmoid(&a)`.
    Sigmoid,
    /// `relu(&a)`.
    Relu,
    /// `softplus(&a)`.
    Softplus,
    /// `add_row(&m, &r)`.
    AddRow,
    /// `add_col(&m, &c)`.
    AddCol,
    /// `ln_det(&a)`.
    LnDet,
    /// `log_sum_exp(&a)`.
    LogSumExp,
    /// `softmax_cross_entropy(&z, &y)`.
    SoftmaxCrossEntropy,

    /// A `for` loop whose trip count is known only at run time (SPEC §9), not
    /// unrolled: the value one of its carried variables has after it; args: the
    /// carried variables' values before it, then the values its body reads (see
    /// [`Loop`]).
    Loop(Box<Loop>),
    /// The value carried variable `j` of a run-time loop (the node's one argument,
    /// whose own value is another carried variable's) has after the loop. Its adjoint
    /// seeds that variable's in the loop's reverse sweep.
    LoopOut(usize),

    /// A scalar expression of scalar nodes ([`Sym::Val`] leaves, each also an
    /// argument, in order): made by [`crate::tangent`] for the tangents of scalar
    /// operations (`ṡ = cos(s) ṫ`), never by the parser.
    Expr(Closure),
}

/// A `for` loop with a run-time trip count, `for t in start..end { body }`.
///
/// Its body becomes a hidden function of its own (`step`, written by the parser
/// into [`Graph::items`]), differentiated by `#[grad]` like any other: with the
/// carried variables `c` and the values it reads `k` as parameters, the loop index
/// `t` and seeds `s`, its value is `Σᵢ ⟨cᵢ', sᵢ⟩` (`cᵢ'` the carried values at the
/// end of the body). So `step_grad_into` is the body's vector-Jacobian product, and
/// `step_step_into` (the hidden `loop_step` option) its forward pass alone, writing
/// `c'`. The forward pass of the loop saves `c` before every iteration in the
/// workspace; the reverse sweep runs the iterations backwards from those values
/// (see `emit::looped`).
#[derive(Clone, Debug)]
pub struct Loop {
    /// The loop's number in its function: its workspace child and stack.
    pub ordinal: usize,
    /// The hidden function of the body.
    pub step: proc_macro2::Ident,
    /// The carried variables' kinds; args `0..carried.len()` are their values before
    /// the loop.
    pub carried: Vec<Kind>,
    /// How many of the following args are differentiated in the body (values
    /// depending on a `wrt` variable); the args after them are read only.
    pub active: usize,
    /// The arguments after the values, as the generated code reads them: counts
    /// and `bool` flags the body uses.
    pub extra: Vec<TokenStream>,
    /// The first index.
    pub start: Count,
    /// One past the last index.
    pub end: Count,
    /// The carried variable whose final value the node is.
    pub result: usize,
    /// Its name, for formulas.
    pub result_name: String,
}

/// A call of a user's function of matrices with a user-supplied adjoint
/// (`#[custom_adjoint]`), which matgrad does not look into.
#[derive(Clone, Debug)]
pub struct UserCall {
    /// The function's path, as written at the call.
    pub path: TokenStream,
    /// The adjoint's path (resolved beside the function when it is one name).
    pub adjoint: TokenStream,
    /// The function's name, for formulas.
    pub name: String,
    /// Its parameters: kind, and whether taken by reference.
    pub params: Vec<(Kind, bool)>,
}

impl Op {
    /// The operation with the node ids its closure holds ([`Sym::Val`] leaves: the
    /// captured scalars of a `map`, a `zip_map` or an [`Op::Expr`]) renumbered by
    /// `map`, as passes that renumber the nodes do for the arguments.
    pub fn renumbered(self, map: &dyn Fn(NodeId) -> NodeId) -> Op {
        let closure = |c: Closure| Closure {
            body: c.body.map_leaves(&|s| match s {
                Sym::Val(id) => Some(Sym::Val(map(*id))),
                _ => None,
            }),
        };
        match self {
            Op::Map(c) => Op::Map(closure(c)),
            Op::ZipMap(c) => Op::ZipMap(closure(c)),
            Op::Expr(c) => Op::Expr(closure(c)),
            other => other,
        }
    }
}

impl Loop {
    /// The type a step function gives a value of `kind` (`t` the float type): a
    /// scalar, `DMatrix`, `DVector` or `RowDVector`; `None` for any other shape.
    pub fn value_type(kind: Kind, t: &TokenStream) -> Option<TokenStream> {
        let rt = quote::quote!(::matgrad::__private);
        match kind {
            Kind::Scalar => Some(t.clone()),
            Kind::Matrix(Shape {
                rows: Dim::Dyn,
                cols: Dim::Dyn,
            }) => Some(quote::quote!(#rt::DMatrix<#t>)),
            Kind::Matrix(Shape {
                rows: Dim::Dyn,
                cols: Dim::One,
            }) => Some(quote::quote!(#rt::DVector<#t>)),
            Kind::Matrix(Shape {
                rows: Dim::One,
                cols: Dim::Dyn,
            }) => Some(quote::quote!(#rt::RowDVector<#t>)),
            Kind::Matrix(_) => None,
        }
    }
}

/// A `usize` the body computes (a column index): an integer literal, or an
/// expression of literals and the shapes of parameters (`x.ncols() - 1`), evaluated
/// where it is used, as written.
#[derive(Clone, Debug)]
pub enum Count {
    /// An integer literal.
    Lit(usize),
    /// An expression, with its tokens as written.
    Expr(TokenStream),
}

impl Count {
    /// The count as a Rust expression of type `usize`.
    pub fn tokens(&self) -> TokenStream {
        match self {
            Count::Lit(n) => {
                let n = proc_macro2::Literal::usize_suffixed(*n);
                quote::quote!(#n)
            }
            Count::Expr(t) => quote::quote!((#t)),
        }
    }

    /// The count as a subscript: `₂`, or `[x.ncols() - 1]`.
    pub fn subscript(&self) -> String {
        match self {
            Count::Lit(n) => n
                .to_string()
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => char::from_u32(0x2080 + d).unwrap_or(c),
                    None => c,
                })
                .collect(),
            Count::Expr(_) => format!("[{self}]"),
        }
    }
}

impl std::fmt::Display for Count {
    /// `2`, or the expression's tokens without spaces where Rust writes none.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Lit(n) => write!(f, "{n}"),
            Count::Expr(t) => write!(
                f,
                "{}",
                t.to_string()
                    .replace(" . ", ".")
                    .replace(" ()", "()")
                    .replace(" (", "(")
            ),
        }
    }
}

impl PartialEq for Count {
    fn eq(&self, other: &Count) -> bool {
        self.to_string() == other.to_string()
    }
}

/// One operation applied to earlier nodes.
#[derive(Clone, Debug)]
pub struct Node {
    /// What it computes.
    pub op: Op,
    /// Its operands (ids of earlier nodes).
    pub args: Vec<NodeId>,
    /// What it evaluates to.
    pub kind: Kind,
    /// Where the user wrote it.
    pub span: Span,
    /// The source text, for messages at run time (`x * w`).
    pub text: String,
    /// The name the user gave it (a parameter or the first `let` that binds it).
    pub name: Option<String>,
}

/// The float type of the whole function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Float {
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// The function's generic float parameter (`T` in `fn f<T: RealField + Copy>`):
    /// the companions are generic over it, for `f32` and `f64`.
    Generic(proc_macro2::Ident),
}

impl Float {
    /// `"f32"`, `"f64"` or the generic parameter's name.
    pub fn name(&self) -> String {
        match self {
            Float::F32 => "f32".into(),
            Float::F64 => "f64".into(),
            Float::Generic(t) => t.to_string(),
        }
    }

    /// The type as tokens.
    pub fn ty(&self) -> proc_macro2::Ident {
        match self {
            Float::Generic(t) => t.clone(),
            _ => proc_macro2::Ident::new(&self.name(), proc_macro2::Span::call_site()),
        }
    }
}

/// A whole function body.
#[derive(Clone, Debug)]
pub struct Graph {
    /// The nodes, in evaluation order.
    pub nodes: Vec<Node>,
    /// The node of the function's value.
    pub output: NodeId,
    /// The float type.
    pub float: Float,
    /// The values a loop body's step function returns besides its seeded value (the
    /// carried variables at the end of the body, see [`Loop`]); empty otherwise.
    pub results: Vec<NodeId>,
    /// Items the generated code declares before the forward pass: the step
    /// functions of run-time loops.
    pub items: Vec<TokenStream>,
}

impl Graph {
    /// The node with id `id`.
    // Every id a pass holds comes from the graph itself (a node's arguments are
    // earlier nodes, the output is a node), so the index is in range by the
    // invariants above; an `Option` here would give its 66 callers a case that
    // cannot happen, and a fallback node cannot be built without a `Span`.
    #[allow(clippy::indexing_slicing)]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// A readable name for node `id`: its user name, else `%id`.
    pub fn label(&self, id: NodeId) -> String {
        match self.nodes.get(id).and_then(|node| node.name.as_ref()) {
            Some(n) => n.clone(),
            None => format!("%{id}"),
        }
    }

    /// `active[id]`: node `id` depends on a parameter in `wrt` (parameter indices).
    pub(crate) fn active(&self, wrt: &[usize]) -> Vec<bool> {
        let mut active = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let a = match node.op {
                Op::Param(i) => wrt.contains(&i),
                _ => node.args.iter().any(|&a| flag(&active, a)),
            };
            active.push(a);
        }
        active
    }
}

/// Entry `id` of a per-node table of flags, `false` past its end.
pub(crate) fn flag(flags: &[bool], id: NodeId) -> bool {
    flags.get(id).copied().unwrap_or(false)
}

//! Constructors: `DMatrix::identity(r, c)`, `DMatrix::zeros(r, c)`,
//! `DMatrix::from_element(r, c, s)` and their vector and static forms
//! (`DVector::zeros(n)`, `Matrix3::identity()`). The node's kind is the constructor's
//! type, and its sizes are counts of the body; only `from_element`'s scalar can carry
//! an adjoint.

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, value, Contrib, Formula, Forward, KArg, Kernel, KernelRef, Names, Rule, ShapeRule, Site,
    StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::ir::{Count, NodeId, Shape};
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use proc_macro2::TokenStream;
use quote::quote;

/// `rows, cols` as the runtime kernels take them (a vector's other dimension is the
/// count 1).
fn sizes(rows: &Count, cols: &Count) -> proc_macro2::TokenStream {
    let (r, c) = (rows.tokens(), cols.tokens());
    quote!(#r, #c)
}

/// `I`, `rows × cols` (ones on the main diagonal): `DMatrix::identity(r, c)`,
/// `Matrix3::identity()`. A constant.
pub struct Identity<'a>(pub &'a Count, pub &'a Count);

impl Rule for Identity<'_> {
    fn name(&self) -> String {
        format!("identity[{},{}]", self.0, self.1)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, _: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, sizes) = (n.rt(), n.out(), sizes(self.0, self.1));
        Forward::Matrix(quote!(#rt::identity_to(&mut #out, #sizes);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let t = n.ty(n.shape(s.id));
        StaticForward::Expr(quote!(#t::identity()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, _: Site<'_>, _: &dyn Formula) -> Term {
        Term::sym("I")
    }
    /// A constant: ẏ = 0.
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Ok(None)
    }
}

/// `s 𝟙`, `rows × cols`: `DMatrix::from_element(r, c, s)`, and `zeros` with `s` the
/// literal 0; args (s)  →  s̄ += Σ Ḡ.
pub struct Fill<'a>(pub &'a Count, pub &'a Count);

impl Rule for Fill<'_> {
    fn name(&self) -> String {
        format!("fill[{},{}]", self.0, self.1)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, sizes) = (n.rt(), n.out(), sizes(self.0, self.1));
        let x = n.scalar(s.arg_id(0));
        Forward::Matrix(quote!(#rt::fill_to(&mut #out, false, #x, #sizes);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (t, x) = (n.ty(n.shape(s.id)), n.value(s.arg_id(0)));
        StaticForward::Expr(quote!(#t::from_element(#x)))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, Contrib::Scalar(Sym::Sum(Operand::Grad)))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("scale", vec![value(s, f, 0), Term::sym("𝟙")])
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `DMatrix::from_diagonal(&v)`, `Matrix3::from_diagonal(&v)`: diag(v), the square
/// matrix with the column `v` on its diagonal; args (v)  →  v̄ += diag(Ḡ), the
/// diagonal of Ḡ as a column. Its forward form is the adjoint kernel of
/// `a.diagonal()`, and its adjoint that rule's forward form.
pub struct FromDiagonal;

impl Rule for FromDiagonal {
    fn name(&self) -> String {
        "from_diagonal".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, v) = (n.rt(), n.out(), n.view(s.arg_id(0)));
        Forward::Matrix(quote!(#rt::diagonal_adjoint_to(&mut #out, false, #v);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (t, v) = (n.ty(n.shape(s.id)), n.value(s.arg_id(0)));
        StaticForward::Expr(quote!(#t::from_diagonal(&#v)))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![KArg::Mat(Operand::Grad)];
        vec![(0, Contrib::Kernel(KernelRef(&FromDiagonalAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("diag", vec![value(s, f, 0)])
    }
    /// Linear in its argument: the same operation on v̇.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `diag(Ḡ)`: the diagonal of the square Ḡ, as a column; args (Ḡ).
struct FromDiagonalAdjoint;

impl Kernel for FromDiagonalAdjoint {
    fn runtime(&self) -> &'static str {
        "from_diagonal_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        let (g, _) = StaticArg::mat(args, 0);
        quote!(#g.diagonal())
    }
    fn formula(&self, args: &[Term]) -> Term {
        app("diag", args.to_vec())
    }
}

/// `Vector3::new(a, b, c)`, `Matrix2::new(a, b, c, d)`, `Matrix2x3::new(..)`: a static
/// `rows × cols` matrix of scalars, given row by row as nalgebra's `new` takes them;
/// args (the entries)  →  each entry's scalar gets its entry of Ḡ.
pub struct FromScalars(pub usize, pub usize);

impl FromScalars {
    /// `(i, j)` of argument `k` (row-major).
    fn at(&self, k: usize) -> (usize, usize) {
        let cols = self.1.max(1);
        (k / cols, k % cols)
    }
}

impl Rule for FromScalars {
    fn name(&self) -> String {
        format!("new{}x{}", self.0, self.1)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, (r, c)) = (n.rt(), n.out(), (self.0, self.1));
        let entries = (0..s.node().args.len()).map(|k| n.scalar(s.arg_id(k)));
        Forward::Matrix(quote!(#rt::from_rows_to(&mut #out, #r, #c, &[#(#entries),*]);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let t = n.ty(n.shape(s.id));
        let entries = (0..s.node().args.len()).map(|k| n.value(s.arg_id(k)));
        StaticForward::Expr(quote!(#t::new(#(#entries),*)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        (0..s.node().args.len())
            .map(|k| {
                let (i, j) = self.at(k);
                (k, Contrib::Scalar(Sym::Entry(Operand::Grad, i, j)))
            })
            .collect()
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let entries = (0..s.node().args.len()).map(|k| value(s, f, k)).collect();
        app(&format!("new{}x{}", self.0, self.1), entries)
    }
    /// Linear in its entries: the matrix of their tangents (zero for a constant one).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let n = s.node().args.len();
        let tangents: Vec<Option<NodeId>> = (0..n).map(|k| tg::darg(s, t, k)).collect();
        if tangents.iter().all(Option::is_none) {
            return Ok(None);
        }
        let args = tangents
            .into_iter()
            .map(|d| d.unwrap_or_else(|| t.push(crate::ir::Op::Lit(0.0), Vec::new())))
            .collect();
        Ok(Some(t.push(s.node().op.clone(), args)))
    }
}

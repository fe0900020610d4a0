//! Parts of a matrix: `a.diagonal()`, `a.column(j)`, `a.row(i)` and the blocks
//! `a.rows(i, n)`, `a.columns(j, n)`. Each adjoint places Ḡ back where the part came
//! from, into a gradient that is zero elsewhere: one pass over the part, never a zero
//! matrix per entry.

use super::linear::count_term;
use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, apply, value, Contrib, Extent, Formula, Forward, KArg, Kernel, KernelRef, Names, Rule,
    ShapeRule, Site, StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::emit::mixed;
use crate::ir::{Count, Shape};
use crate::simplify::Term;
use crate::sym::Operand;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// `a.diagonal()` of a square `a`, a column  →  ā += diag(Ḡ), a diagonal matrix.
pub struct Diagonal;

impl Rule for Diagonal {
    fn name(&self) -> String {
        "diagonal".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Column(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        Forward::Matrix(quote!(#rt::diagonal_to(&mut #out, #a, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        StaticForward::Expr(quote!(#a.diagonal()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![KArg::Mat(Operand::Grad)];
        vec![(0, Contrib::Kernel(KernelRef(&DiagonalAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "diag", 1)
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `diag(ḡ)`: the square matrix with ḡ on its diagonal; args (ḡ).
struct DiagonalAdjoint;

impl Kernel for DiagonalAdjoint {
    fn runtime(&self) -> &'static str {
        "diagonal_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), t) = (StaticArg::mat(args, 0), n.ty(target));
        quote!(#t::from_diagonal(&#g))
    }
    fn formula(&self, args: &[Term]) -> Term {
        app("diag", args.to_vec())
    }
}

/// `a.column(j)`, a column  →  ā += Ḡ e_jᵀ: Ḡ placed in column j.
pub struct Column<'a>(pub &'a Count);

impl Rule for Column<'_> {
    fn name(&self) -> String {
        format!("column{}", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Column(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        let j = self.0.tokens();
        Forward::Matrix(quote!(#rt::column_to(&mut #out, #a, #j, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, j) = (n.value(s.arg_id(0)), self.0.tokens());
        StaticForward::Expr(quote!(#a.column(#j).into_owned()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![
            KArg::Mat(Operand::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Count(self.0.clone()),
        ];
        vec![(0, Contrib::Kernel(KernelRef(&ColumnAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("*", vec![value(s, f, 0), unit(self.0)])
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `e_j`, the j-th unit column, as math.
fn unit(j: &Count) -> Term {
    Term::sym(&format!("e{}", j.subscript()))
}

/// `Ḡ e_jᵀ`: ḡ in column j of a matrix shaped like `a`, zero elsewhere; args (ḡ, a, j).
struct ColumnAdjoint;

impl Kernel for ColumnAdjoint {
    fn runtime(&self) -> &'static str {
        "column_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), j, t) = (
            StaticArg::mat(args, 0),
            StaticArg::count(args, 2),
            n.ty(target),
        );
        let m = mixed("__mg_e");
        quote!({
            let mut #m = #t::zeros();
            #m.set_column(#j, &#g);
            #m
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        let g = args.first().cloned().unwrap_or(Term::Num(0.0));
        app("*", vec![g, app("t", vec![unit_arg(args.get(2))])])
    }
}

/// `e_i` from a kernel's count argument as math: `e₂`, `e[x.nrows() - 1]`.
fn unit_arg(arg: Option<&Term>) -> Term {
    Term::sym(&match arg {
        Some(Term::Num(v)) => format!("e{}", Count::Lit(*v as usize).subscript()),
        Some(Term::Sym(s)) => format!("e[{s}]"),
        _ => "e".to_owned(),
    })
}

/// `a.row(i)`, a row  →  ā += e_i Ḡ: Ḡ placed in row i.
pub struct Row<'a>(pub &'a Count);

impl Rule for Row<'_> {
    fn name(&self) -> String {
        format!("row{}", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Row(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        let i = self.0.tokens();
        Forward::Matrix(quote!(#rt::row_to(&mut #out, #a, #i, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, i) = (n.value(s.arg_id(0)), self.0.tokens());
        StaticForward::Expr(quote!(#a.row(#i).into_owned()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![
            KArg::Mat(Operand::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Count(self.0.clone()),
        ];
        vec![(0, Contrib::Kernel(KernelRef(&RowAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("*", vec![app("t", vec![unit(self.0)]), value(s, f, 0)])
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `e_i Ḡ`: ḡ in row i of a matrix shaped like `a`, zero elsewhere; args (ḡ, a, i).
struct RowAdjoint;

impl Kernel for RowAdjoint {
    fn runtime(&self) -> &'static str {
        "row_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), i, t) = (
            StaticArg::mat(args, 0),
            StaticArg::count(args, 2),
            n.ty(target),
        );
        let m = mixed("__mg_e");
        quote!({
            let mut #m = #t::zeros();
            #m.set_row(#i, &#g);
            #m
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        let g = args.first().cloned().unwrap_or(Term::Num(0.0));
        app("*", vec![unit_arg(args.get(2)), g])
    }
}

/// `a.rows(i, n)` (rows `i..i + n`, when `rows`) or `a.columns(j, n)` (columns
/// `j..j + n`)  →  ā += Ḡ placed in those lines. One rule for both: they differ only
/// in the dimension they cut.
pub struct Lines<'a> {
    /// The first line taken.
    pub start: &'a Count,
    /// How many lines.
    pub len: &'a Count,
    /// Rows, else columns.
    pub rows: bool,
}

impl Lines<'_> {
    /// `rows` or `columns`: the method, the runtime kernels' stem and the formula.
    fn word(&self) -> &'static str {
        if self.rows {
            "rows"
        } else {
            "columns"
        }
    }
}

impl Rule for Lines<'_> {
    fn name(&self) -> String {
        format!("{}{}_{}", self.word(), self.start, self.len)
    }
    fn shape(&self) -> ShapeRule {
        let (cut, all) = (Extent::of(self.len), Extent::All);
        let (rows, cols) = if self.rows { (cut, all) } else { (all, cut) };
        ShapeRule::Block { of: 0, rows, cols }
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        let (i, k) = (self.start.tokens(), self.len.tokens());
        let kernel = Ident::new(&format!("{}_to", self.word()), Span::call_site());
        Forward::Matrix(quote!(#rt::#kernel(&mut #out, #a, #i, #k, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        // The parser takes a static receiver's count only as a literal.
        let (a, i, k) = (n.value(s.arg_id(0)), self.start.tokens(), self.len.tokens());
        let fixed = Ident::new(&format!("fixed_{}", self.word()), Span::call_site());
        StaticForward::Expr(quote!(#a.#fixed::<#k>(#i).into_owned()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![
            KArg::Mat(Operand::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Count(self.start.clone()),
            KArg::Count(self.len.clone()),
        ];
        let kernel: &'static LinesAdjoint = if self.rows {
            &ROWS_ADJOINT
        } else {
            &COLUMNS_ADJOINT
        };
        vec![(0, Contrib::Kernel(KernelRef(kernel), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let (i, k) = (count_term(self.start), count_term(self.len));
        app(self.word(), vec![value(s, f, 0), i, k])
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `place_rows(Ḡ, i, n)` (when `.0`) or `place_columns(Ḡ, j, n)`: ḡ in those lines
/// of a matrix shaped like `a`, zero elsewhere; args (ḡ, a, start, n).
struct LinesAdjoint(bool);

/// The adjoint kernel of `a.rows(i, n)`.
static ROWS_ADJOINT: LinesAdjoint = LinesAdjoint(true);
/// The adjoint kernel of `a.columns(j, n)`.
static COLUMNS_ADJOINT: LinesAdjoint = LinesAdjoint(false);

impl Kernel for LinesAdjoint {
    fn runtime(&self) -> &'static str {
        if self.0 {
            "rows_adjoint_to"
        } else {
            "columns_adjoint_to"
        }
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), i, k, t) = (
            StaticArg::mat(args, 0),
            StaticArg::count(args, 2),
            StaticArg::count(args, 3),
            n.ty(target),
        );
        let m = mixed("__mg_e");
        let fixed_mut = Ident::new(
            if self.0 {
                "fixed_rows_mut"
            } else {
                "fixed_columns_mut"
            },
            Span::call_site(),
        );
        quote!({
            let mut #m = #t::zeros();
            #m.#fixed_mut::<#k>(#i).copy_from(&#g);
            #m
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        place(
            if self.0 {
                "place_rows"
            } else {
                "place_columns"
            },
            args,
        )
    }
}

/// `head(ḡ, start, n)` from a block kernel's args (ḡ, a, start, n).
fn place(head: &str, args: &[Term]) -> Term {
    let arg = |k: usize| args.get(k).cloned().unwrap_or(Term::Num(0.0));
    app(head, vec![arg(0), arg(2), arg(3)])
}

/// `a.view((i, j), (r, c))`, the `r×c` block at `(i, j)`  →  ā += Ḡ placed there.
pub struct View<'a>(pub &'a [Count; 4]);

impl Rule for View<'_> {
    fn name(&self) -> String {
        let [i, j, r, c] = self.0;
        format!("view{i}_{j}_{r}_{c}")
    }
    fn shape(&self) -> ShapeRule {
        let [_, _, r, c] = self.0;
        ShapeRule::Block {
            of: 0,
            rows: Extent::of(r),
            cols: Extent::of(c),
        }
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        let [i, j, r, c] = self.0.each_ref().map(Count::tokens);
        Forward::Matrix(quote!(#rt::view_to(&mut #out, #a, (#i, #j), (#r, #c), #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        // The parser takes a static receiver's lengths only as literals.
        let a = n.value(s.arg_id(0));
        let [i, j, r, c] = self.0.each_ref().map(Count::tokens);
        StaticForward::Expr(quote!(#a.fixed_view::<#r, #c>(#i, #j).into_owned()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let [i, j, _, _] = self.0;
        let args = vec![
            KArg::Mat(Operand::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Count(i.clone()),
            KArg::Count(j.clone()),
        ];
        vec![(0, Contrib::Kernel(KernelRef(&ViewAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let mut args = vec![value(s, f, 0)];
        args.extend(self.0.iter().map(count_term));
        app("view", args)
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `place(Ḡ, i, j)`: ḡ at `(i, j)` of a matrix shaped like `a`, zero elsewhere; args
/// (ḡ, a, i, j).
struct ViewAdjoint;

impl Kernel for ViewAdjoint {
    fn runtime(&self) -> &'static str {
        "view_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, gs), i, j, t) = (
            StaticArg::mat(args, 0),
            StaticArg::count(args, 2),
            StaticArg::count(args, 3),
            n.ty(target),
        );
        let (r, c) = (gs.rows.size().unwrap_or(0), gs.cols.size().unwrap_or(0));
        let m = mixed("__mg_e");
        quote!({
            let mut #m = #t::zeros();
            #m.fixed_view_mut::<#r, #c>(#i, #j).copy_from(&#g);
            #m
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        let mut a: Vec<Term> = args.first().cloned().into_iter().collect();
        a.extend(args.iter().skip(2).cloned());
        app("place", a)
    }
}

/// `a.lower_triangle()` (`lower`) or `a.upper_triangle()`, any shape, diagonal
/// included  →  ā += lower(Ḡ) (upper(Ḡ)): a linear map that is its own adjoint.
pub struct Triangle(pub bool);

impl Triangle {
    fn method(&self) -> &'static str {
        if self.0 {
            "lower_triangle"
        } else {
            "upper_triangle"
        }
    }

    fn kernel(&self) -> &'static TriangleKernel {
        if self.0 {
            &LOWER
        } else {
            &UPPER
        }
    }
}

impl Rule for Triangle {
    fn name(&self) -> String {
        self.method().into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    /// The adjoint's kernel, overwriting: the map is its own adjoint.
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, a) = (n.rt(), n.out(), n.view(s.arg_id(0)));
        let k = Ident::new(self.kernel().runtime(), Span::call_site());
        Forward::Matrix(quote!(#rt::#k(&mut #out, false, #a);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, m) = (
            n.value(s.arg_id(0)),
            Ident::new(self.method(), Span::call_site()),
        );
        StaticForward::Expr(quote!(#a.#m()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![KArg::Mat(Operand::Grad)];
        vec![(0, Contrib::Kernel(KernelRef(self.kernel()), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, if self.0 { "lower" } else { "upper" }, 1)
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// The lower (upper) triangle of Ḡ (args: Ḡ).
struct TriangleKernel(bool);

static LOWER: TriangleKernel = TriangleKernel(true);
static UPPER: TriangleKernel = TriangleKernel(false);

impl Kernel for TriangleKernel {
    fn runtime(&self) -> &'static str {
        if self.0 {
            "lower_triangle_to"
        } else {
            "upper_triangle_to"
        }
    }
    fn lower_static(&self, args: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        let (g, _) = StaticArg::mat(args, 0);
        let m = Ident::new(Triangle(self.0).method(), Span::call_site());
        quote!(#g.#m())
    }
    fn formula(&self, args: &[Term]) -> Term {
        app(if self.0 { "lower" } else { "upper" }, args.to_vec())
    }
}

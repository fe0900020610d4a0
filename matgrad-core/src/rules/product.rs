//! Products: `a * b`, chains of products, `a.component_mul(&b)`,
//! `a.component_div(&b)`, `a.kronecker(&b)`, and elementwise maps `a.map(|v| g(v))`.

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, apply, value, Contrib, Formula, Forward, KArg, Keeps, Kernel, KernelRef, Names, Rule,
    ShapeRule, Site, StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::emit::fixed::{associated, cheapest};
use crate::emit::mixed;
use crate::ir::{Closure, Shape};
use crate::ir::{NodeId, Op};
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use proc_macro2::TokenStream;
use quote::quote;

/// The sum (`p + c`, `c + p`, `p − c`, `c − p`, `add_row(p, r)` or `add_col(p, c)`)
/// that computes product node `id`
/// with itself, GEMM starting from `c` (`mul_add_to`), when that sum is the
/// product's only reader: nothing else reads the product's value, forward or
/// backward (a product's adjoint reads its factors, a sum's none of its operands),
/// and it is neither the function's value nor a loop body's result. The kernel
/// keeps nalgebra's bits, so this holds without `reassociate`.
pub fn summed_into(g: &crate::ir::Graph, id: NodeId) -> Option<NodeId> {
    let sum = sole_sum(g, id)?;
    // Of two such products (`a b + c d`), the sum computes the first; the second
    // is its `c`.
    match g.node(sum).args.as_slice() {
        [first, second] if *second == id && sole_sum(g, *first) == Some(sum) => None,
        _ => Some(sum),
    }
}

/// The sum that is product node `id`'s only reader (see [`summed_into`]).
fn sole_sum(g: &crate::ir::Graph, id: NodeId) -> Option<NodeId> {
    let node = g.node(id);
    if !matches!(node.op, Op::MatMul) || !node.kind.is_matrix() {
        return None;
    }
    if g.output == id || g.results.contains(&id) {
        return None;
    }
    let mut readers =
        g.nodes.iter().enumerate().skip(id + 1).filter(|(_, n)| {
            n.args.contains(&id) || matches!(n.op, Op::Ones { of, .. } if of == id)
        });
    let (sum, reader) = readers.next()?;
    if readers.next().is_some() {
        return None;
    }
    match (&reader.op, reader.args.as_slice()) {
        (Op::Add | Op::Sub, &[x, y]) if x != y => {
            let other = if x == id { y } else { x };
            (g.node(other).kind == node.kind).then_some(sum)
        }
        // The product is the matrix a row or column is added to.
        (Op::AddRow | Op::AddCol, &[x, y]) if x == id && y != id => Some(sum),
        _ => None,
    }
}

/// The forward pass of `add_row`/`add_col` node `s` when its matrix is a product it
/// computes ([`summed_into`]): `mul_add_row_to`/`mul_add_col_to` (`row`).
pub fn broadcast_summed_forward(s: Site<'_>, n: &dyn Names, row: bool) -> Option<Forward> {
    let p = s.arg_id(0);
    if summed_into(s.g, p) != Some(s.id) {
        return None;
    }
    let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
    let product = s.g.node(p);
    let (a, b) = (
        n.view(*product.args.first()?),
        n.view(*product.args.get(1)?),
    );
    let (v, scratch, mul_text) = (n.view(s.arg_id(1)), n.buffer(p), n.text(p));
    let f = if row {
        quote!(#rt::mul_add_row_to)
    } else {
        quote!(#rt::mul_add_col_to)
    };
    Some(Forward::Matrix(quote!(
        #f(&mut #out, &mut #scratch, #a, #b, #v, #mul_text, #text);
    )))
}

/// The forward pass of sum node `s` (`sub` a difference) when one of its operands
/// is a product it computes ([`summed_into`]): `mul_add_to`.
pub fn summed_forward(s: Site<'_>, n: &dyn Names, sub: bool) -> Option<Forward> {
    let (k, p) = (0..2).find_map(|k| {
        let p = s.arg_id(k);
        (summed_into(s.g, p) == Some(s.id)).then_some((k, p))
    })?;
    let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
    let product = s.g.node(p);
    let (a, b) = (
        n.view(*product.args.first()?),
        n.view(*product.args.get(1)?),
    );
    let (c, scratch, mul_text) = (n.view(s.arg_id(1 - k)), n.buffer(p), n.text(p));
    let first = k == 0;
    Some(Forward::Matrix(quote!(
        #rt::mul_add_to(&mut #out, &mut #scratch, #a, #b, #c, #sub, #first, #mul_text, #text);
    )))
}

/// `a b`  →  ā += Ḡ bᵀ, b̄ += aᵀ Ḡ.
pub struct MatMul;

impl Rule for MatMul {
    fn name(&self) -> String {
        "matmul".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Product(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::product(s, shapes)
    }
    /// `mul_to`; nothing when the one sum reading it computes it (its buffer is
    /// then that sum's scratch, see [`summed_into`]).
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        if summed_into(s.g, s.id).is_some() {
            return Forward::Matrix(TokenStream::new());
        }
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::mul_to(&mut #out, #a, #b, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a * #b))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let one = || Sym::Lit(1.0);
        vec![
            (
                0,
                Contrib::Gemm {
                    alpha: one(),
                    a: Operand::Grad,
                    ta: false,
                    b: s.arg(1),
                    tb: true,
                },
            ),
            (
                1,
                Contrib::Gemm {
                    alpha: one(),
                    a: s.arg(0),
                    ta: true,
                    b: Operand::Grad,
                    tb: false,
                },
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "*", 2)
    }
    /// Bilinear: ẏ = op(ȧ, b) + op(a, ḃ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::bilinear(s, t)
    }
}

/// `a₀ a₁ ⋯ a_{n−1}` (n ≥ 3, under `reassociate`), associated by the shapes, the
/// tree's products kept  →  by reverse mode through that tree:
/// ā_f += (a₀ ⋯ a_{f−1})ᵀ Ḡ (a_{f+1} ⋯ a_{n−1})ᵀ, each shared partial product and
/// partial adjoint computed once.
pub struct Chain;

impl Rule for Chain {
    fn name(&self) -> String {
        "chain".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Chain
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        match cost::chain_dims(s.g, s.id, shapes) {
            Some(dims) => cost::chain_cost(&dims),
            None => Cost::fixed(Poly::num(1)),
        }
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let views = s.node().args.iter().map(|&x| n.view(x));
        let temps = n.temps(s.id);
        Forward::Matrix(quote!(#rt::chain_to(&mut #out, &[#(#views),*], #temps, #text);))
    }
    /// The cheapest association, which the static shapes decide here (the cost
    /// model's [`crate::cost::Assoc::cheapest`]).
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let args = &s.node().args;
        let xs: Vec<TokenStream> = args.iter().map(|&x| n.value(x)).collect();
        let shapes: Vec<Shape> = args.iter().map(|&x| n.shape(x)).collect();
        StaticForward::Expr(associated(&cheapest(&shapes), &xs))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        (0..s.node().args.len())
            .map(|factor| {
                let c = Contrib::ChainFactor {
                    alpha: Sym::Lit(1.0),
                    g: Operand::Grad,
                    factor,
                };
                (factor, c)
            })
            .collect()
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "*", s.node().args.len())
    }
    /// `n − 2` buffers for a chain of `n` factors, whose tree has `n − 1` products
    /// and writes the last into the node's value.
    fn keeps(&self, s: Site<'_>) -> Keeps {
        Keeps {
            aux: false,
            temps: s.node().args.len().saturating_sub(2),
        }
    }
    /// ẏ = Σₖ a₀ ⋯ ȧₖ ⋯ aₙ₋₁, each term a chain.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let n = s.node().args.len();
        let vals: Vec<NodeId> = (0..n).map(|k| tg::arg(s, t, k)).collect();
        let mut terms = Vec::new();
        for k in 0..n {
            if let Some(d) = tg::darg(s, t, k) {
                let mut args = vals.clone();
                if let Some(slot) = args.get_mut(k) {
                    *slot = d;
                }
                terms.push(Some(t.push(Op::Chain, args)));
            }
        }
        Ok(tg::sum(t, terms))
    }
}

/// `a ⊙ b`  →  ā += Ḡ ⊙ b, b̄ += Ḡ ⊙ a.
pub struct ComponentMul;

impl Rule for ComponentMul {
    fn name(&self) -> String {
        "hadamard".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Entrywise(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::component_mul_to(&mut #out, #a, #b, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a.component_mul(&#b)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let times = |k: usize| Contrib::Hadamard {
            alpha: Sym::Lit(1.0),
            a: Operand::Grad,
            b: s.arg(k),
        };
        vec![(0, times(1)), (1, times(0))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "⊙", 2)
    }
    /// Bilinear: ẏ = op(ȧ, b) + op(a, ḃ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::bilinear(s, t)
    }
}

/// `a ⊘ b`  →  ā += Ḡ ⊘ b, b̄ −= Ḡ ⊙ a ⊘ b².
pub struct ComponentDiv;

impl Rule for ComponentDiv {
    fn name(&self) -> String {
        "hdiv".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Entrywise(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::component_div_to(&mut #out, #a, #b, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a.component_div(&#b)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let (g0, a, b) = (Sym::Arg(0), Sym::Arg(1), Sym::Arg(2));
        vec![
            (
                0,
                Contrib::ZipMap(
                    vec![Operand::Grad, s.arg(1)],
                    Sym::div(g0.clone(), Sym::Arg(1)),
                ),
            ),
            (
                1,
                Contrib::ZipMap(
                    vec![Operand::Grad, s.arg(0), s.arg(1)],
                    Sym::neg(Sym::div(Sym::mul(g0, a), Sym::mul(b.clone(), b))),
                ),
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "⊘", 2)
    }
    /// ẏ = (ȧ − y ⊙ ḃ) ⊘ b.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (b, y) = (tg::arg(s, t, 1), tg::this(s, t));
        let d1 = tg::darg(s, t, 1);
        let yb = tg::push_all(t, Op::ComponentMul, &[Some(y), d1]);
        let da = tg::darg(s, t, 0);
        let num = tg::sub(t, da, yb);
        Ok(tg::push_all(t, Op::ComponentDiv, &[num, Some(b)]))
    }
}

/// `a ⊗ b`  →  ā_ij += Σ Ḡ_block(i,j) ⊙ b, b̄ += Σ_ij a_ij Ḡ_block(i,j).
pub struct Kronecker;

impl Rule for Kronecker {
    fn name(&self) -> String {
        "kron".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Kronecker(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out) = (n.rt(), n.out());
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::kronecker_to(&mut #out, #a, #b);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a.kronecker(&#b)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let g = KArg::Mat(Operand::Grad);
        vec![
            (
                0,
                Contrib::Kernel(
                    KernelRef(&KronAdjointA),
                    vec![g.clone(), KArg::Mat(s.arg(1))],
                ),
            ),
            (
                1,
                Contrib::Kernel(KernelRef(&KronAdjointB), vec![g, KArg::Mat(s.arg(0))]),
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "⊗", 2)
    }
    /// Bilinear: ẏ = op(ȧ, b) + op(a, ḃ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::bilinear(s, t)
    }
}

/// ā_ij = Σ Ḡ_block(i,j) ⊙ b; args (Ḡ, b).
struct KronAdjointA;

impl Kernel for KronAdjointA {
    fn runtime(&self) -> &'static str {
        "kron_adjoint_a_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), (b, bs)) = (StaticArg::mat(args, 0), StaticArg::mat(args, 1));
        let (t, p, q) = (n.ty(target), size(bs.rows), size(bs.cols));
        let (i, j) = (mixed("__mg_i"), mixed("__mg_j"));
        quote!(#t::from_fn(|#i, #j| #g.fixed_view::<#p, #q>(#i * #p, #j * #q).component_mul(&#b).sum()))
    }
    fn formula(&self, args: &[Term]) -> Term {
        app("kron_adjoint_a", args.to_vec())
    }
}

/// b̄ = Σ_ij a_ij Ḡ_block(i,j); args (Ḡ, a).
struct KronAdjointB;

impl Kernel for KronAdjointB {
    fn runtime(&self) -> &'static str {
        "kron_adjoint_b_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), (a, as_)) = (StaticArg::mat(args, 0), StaticArg::mat(args, 1));
        let t = n.ty(target);
        let (p, q) = (size(target.rows), size(target.cols));
        let (r, c) = (size(as_.rows), size(as_.cols));
        let (i, j, acc) = (mixed("__mg_i"), mixed("__mg_j"), mixed("__mg_acc"));
        quote!({
            let mut #acc = #t::zeros();
            for #j in 0..#c {
                for #i in 0..#r {
                    #acc += #g.fixed_view::<#p, #q>(#i * #p, #j * #q) * #a[(#i, #j)];
                }
            }
            #acc
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        app("kron_adjoint_b", args.to_vec())
    }
}

/// The size of a static dimension.
fn size(d: crate::ir::Dim) -> usize {
    d.size().unwrap_or(0)
}

/// `g(a)` entrywise (`a.map(|v| body)`); args (a, captured scalars…)  →
/// ā += Ḡ ⊙ g′(a); a captured scalar c: c̄ += Σ Ḡ ⊙ ∂g/∂c.
pub struct Map<'a>(pub &'a Closure);

impl Rule for Map<'_> {
    fn name(&self) -> String {
        "map".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, a) = (n.rt(), n.out(), n.view(s.arg_id(0)));
        let x = mixed("__mg_x");
        let body = n.sym(&self.0.body);
        Forward::Matrix(quote!(#rt::map_to(&mut #out, #a, |#x| #body);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let x = mixed("__mg_x");
        let (a, body) = (n.value(s.arg_id(0)), n.sym(&self.0.body, 0));
        StaticForward::Expr(quote!(#a.map(|#x| #body)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let body = &self.0.body;
        // Read g′ from the stored output when it can be (tanh, exp, …).
        let from_output = match body.as_op() {
            Some((op, args))
                if matches!(args.as_slice(), [arg] if **arg == Sym::Var)
                    && op.partial_uses_only_output() =>
            {
                op.partials(&Sym::Var, None, &Sym::Arg(1))
                    .into_iter()
                    .next()
            }
            _ => None,
        };
        let zip = match from_output {
            Some(d) => Contrib::ZipMap(
                vec![Operand::Grad, Operand::Value(s.id)],
                Sym::mul(Sym::Arg(0), d),
            ),
            None => {
                let d = body.derivative(&Sym::Var).subst_var(&Sym::Arg(1));
                Contrib::ZipMap(vec![Operand::Grad, s.arg(0)], Sym::mul(Sym::Arg(0), d))
            }
        };
        let mut out = vec![(0, zip)];
        for (k, &cap) in s.node().args.iter().enumerate().skip(1) {
            let d = body.derivative(&Sym::Val(cap)).subst_var(&Sym::Arg(1));
            out.push((
                k,
                Contrib::Scalar(Sym::ZipSum(
                    vec![Operand::Grad, s.arg(0)],
                    Box::new(Sym::mul(Sym::Arg(0), d)),
                )),
            ));
        }
        out
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let body = self.0.body.subst_var(&Sym::Arg(0));
        f.sym(&body, &[value(s, f, 0)])
    }
    /// ẏ = g′(a) ⊙ ȧ + Σ_c ∂g/∂c ċ over the captured scalars c.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let body = tg::remap(&self.0.body, t);
        let a = tg::arg(s, t, 0);
        // g′ from the value when it can be (tanh, exp, …), as the adjoint reads it:
        // ẏ = g′(y) ⊙ ȧ, no transcendental function recomputed, here or in the sweep.
        if let (Some(da), Some((op, args))) = (tg::darg(s, t, 0), body.as_op()) {
            if matches!(args.as_slice(), [arg] if **arg == Sym::Var)
                && op.partial_uses_only_output()
            {
                if let Some(d) = op
                    .partials(&Sym::Var, None, &Sym::Arg(0))
                    .into_iter()
                    .next()
                {
                    let y = tg::this(s, t);
                    return Ok(tg::entrywise(t, &[y, da], Sym::mul(d, Sym::Arg(1))));
                }
            }
        }
        let caps: Vec<NodeId> = s.node().args.iter().skip(1).copied().collect();
        let from_caps = tg::captured(&body, &caps, t);
        Ok(match tg::darg(s, t, 0) {
            Some(da) => {
                let d = Sym::mul(body.derivative(&Sym::Var), Sym::Arg(1));
                let f = Sym::add(d, from_caps).subst_var(&Sym::Arg(0));
                tg::entrywise(t, &[a, da], f)
            }
            None => tg::entrywise(t, &[a], from_caps),
        })
    }
}

/// `f(a, b)` entrywise (`a.zip_map(&b, |p, q| body)`, `body` in `Sym::Arg(0)` for p
/// and `Arg(1)` for q); args (a, b, captured scalars…)  →  ā += Ḡ ⊙ ∂f/∂p(a, b),
/// b̄ += Ḡ ⊙ ∂f/∂q(a, b); a captured scalar c: c̄ += Σ Ḡ ⊙ ∂f/∂c.
pub struct ZipMap<'a>(pub &'a Closure);

impl ZipMap<'_> {
    /// A partial of the body, over the kernel's operands (Ḡ, a, b): its `Arg(k)`s
    /// shifted to `Arg(k + 1)`, times `Arg(0)` (Ḡ).
    fn times_grad(d: &Sym) -> Sym {
        let shifted = d.map_leaves(&|x| match x {
            Sym::Arg(k) => Some(Sym::Arg(k + 1)),
            _ => None,
        });
        Sym::mul(Sym::Arg(0), shifted)
    }
}

impl Rule for ZipMap<'_> {
    fn name(&self) -> String {
        "zip_map".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Entrywise(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out) = (n.rt(), n.out());
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        let (p, q, body) = (mixed("__mg_a0"), mixed("__mg_a1"), n.sym(&self.0.body));
        Forward::Matrix(quote!(#rt::zip_map_to(&mut #out, false, #a, #b, |#p, #q| #body);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        let (p, q, body) = (mixed("__mg_a0"), mixed("__mg_a1"), n.sym(&self.0.body, 0));
        StaticForward::Expr(quote!(#a.zip_map(&#b, |#p, #q| #body)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let body = &self.0.body;
        let ops = || vec![Operand::Grad, s.arg(0), s.arg(1)];
        let mut out: Vec<(usize, Contrib)> = (0..2)
            .map(|k| {
                let d = body.derivative(&Sym::Arg(k));
                (k, Contrib::ZipMap(ops(), ZipMap::times_grad(&d)))
            })
            .collect();
        for (k, &cap) in s.node().args.iter().enumerate().skip(2) {
            let d = body.derivative(&Sym::Val(cap));
            out.push((
                k,
                Contrib::Scalar(Sym::ZipSum(ops(), Box::new(ZipMap::times_grad(&d)))),
            ));
        }
        out
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        f.sym(&self.0.body, &[value(s, f, 0), value(s, f, 1)])
    }
    /// ẏ = ∂f/∂p ⊙ ȧ + ∂f/∂q ⊙ ḃ + Σ_c ∂f/∂c ċ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let body = tg::remap(&self.0.body, t);
        let (a, b) = (tg::arg(s, t, 0), tg::arg(s, t, 1));
        let mut terms = Vec::new();
        for k in 0..2 {
            if let Some(d) = tg::darg(s, t, k) {
                let partial = tg::entrywise(t, &[a, b], body.derivative(&Sym::Arg(k)));
                terms.push(tg::push_all(t, Op::ComponentMul, &[partial, Some(d)]));
            }
        }
        let caps: Vec<NodeId> = s.node().args.iter().skip(2).copied().collect();
        let from_caps = tg::captured(&body, &caps, t);
        terms.push(tg::entrywise(t, &[a, b], from_caps));
        Ok(tg::sum(t, terms))
    }
}

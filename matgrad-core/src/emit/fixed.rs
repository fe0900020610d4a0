//! The backend of functions whose matrices all have static sizes (`Matrix3<f64>`,
//! `SVector<f64, 6>`, …): straight-line nalgebra expressions on stack values.
//!
//! Every shape is known from the types, so there is nothing to allocate and nothing
//! to check at run time: the forward pass is the body's own operations
//! (`let v3 = v1 * v2;`), and each adjoint is the sum of its [`Contrib`]s, each
//! lowered to one nalgebra expression (`Gemm` with `ta` becomes `a.tr_mul(&g)`, `Fill`
//! a `from_element`). nalgebra's static kernels do the work and rustc sees every
//! loop bound, so it unrolls and vectorises what it can. The rules are the
//! dynamic backend's: only their lowering differs.
//!
//! `NAME_grad` holds the code and returns the gradients by value, with the
//! parameters' own static types. `NAME_grad_into` keeps the signature of SPEC §2
//! (outputs by `&mut`, then a `matgrad::Workspace`) so that callers
//! can switch between static and dynamic types freely; it writes the outputs and
//! leaves the workspace untouched.

use super::{
    adj, aux, float_ty, formula, grad_out, heads, lit, mixed, rt, scalar, val, Companion, Input,
};
use crate::cost::Assoc;
use crate::ir::{flag, Dim, Graph, Kind, NodeId, Shape};
use crate::parse::signature::Param;
use crate::rules::{self, Contrib, KArg, Kernel, Site, StaticArg, StaticForward};
use crate::sym::{Operand, Sym};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// Whether the function is for this backend: every matrix parameter has a static
/// shape. (A function mixing sizes goes to the dynamic backend, which reads static
/// parameters through views and copies their gradients out.)
pub fn applies(input: &Input<'_>) -> bool {
    // A constructor of a dynamic type (`DMatrix::identity(3, 3)`) makes a dynamic value
    // even among static parameters: the dynamic backend takes the function then.
    input.sig.is_static()
        && input.graph.nodes.iter().all(|n| match n.kind {
            Kind::Matrix(s) => s.is_static(),
            Kind::Scalar => true,
        })
}

/// The size of a static dimension.
fn size(d: Dim) -> usize {
    d.size().unwrap_or(0)
}

/// `SMatrix<T, R, C>` of a static shape.
fn ty(shape: Shape, t: &Ident) -> TokenStream {
    let (r, c) = (size(shape.rows), size(shape.cols));
    let rt = rt();
    quote!(#rt::SMatrix::<#t, #r, #c>)
}

struct Fixed<'a> {
    g: &'a Graph,
    params: &'a [Param],
    t: Ident,
    /// Which nodes carry an adjoint.
    differentiated: &'a [bool],
}

impl scalar::Leaves for Fixed<'_> {
    fn float(&self) -> crate::ir::Float {
        self.g.float.clone()
    }
    fn scalar(&self, id: NodeId) -> TokenStream {
        let v = val(id);
        quote!(#v)
    }
    fn operand(&self, o: Operand, consumer: NodeId) -> TokenStream {
        Fixed::operand(self, o, consumer)
    }
    /// Known at expansion: the static shape's entry count.
    fn len(&self, o: Operand, _: NodeId) -> (TokenStream, u8) {
        let s = self.operand_shape(o);
        (lit((size(s.rows) * size(s.cols)) as f64, &self.g.float), 4)
    }
    fn zip_sum(&self, args: &[Operand], body: &Sym, consumer: NodeId) -> (TokenStream, u8) {
        let z = self.zip(args, body, consumer);
        (quote!(#z.sum()), 4)
    }
}

impl rules::StaticNames for Fixed<'_> {
    fn value(&self, id: NodeId) -> TokenStream {
        let v = val(id);
        quote!(#v)
    }
    fn param(&self, i: usize) -> TokenStream {
        match self.params.get(i) {
            Some(p) if p.by_ref => {
                let n = &p.name;
                quote!(*#n)
            }
            Some(p) => {
                let n = &p.name;
                quote!(#n)
            }
            None => TokenStream::new(),
        }
    }
    fn sym(&self, s: &Sym, prec: u8) -> TokenStream {
        // Forward forms are the node's own: `Grad` names no adjoint there.
        scalar::sym(self, s, usize::MAX, prec)
    }
    fn ty(&self, shape: Shape) -> TokenStream {
        ty(shape, &self.t)
    }
    fn shape(&self, id: NodeId) -> Shape {
        Fixed::shape(self, id)
    }
    fn float(&self) -> crate::ir::Float {
        self.g.float.clone()
    }
    fn aux(&self, id: NodeId) -> TokenStream {
        let a = aux(id);
        quote!(#a)
    }
    fn differentiated(&self, id: NodeId) -> bool {
        flag(self.differentiated, id)
    }
}

impl Fixed<'_> {
    fn shape(&self, id: NodeId) -> Shape {
        match self.g.node(id).kind {
            Kind::Matrix(s) => s,
            Kind::Scalar => Shape {
                rows: Dim::One,
                cols: Dim::One,
            },
        }
    }

    /// The cheapest association of a chain of these static factors.
    fn chain_plan(&self, factors: &[NodeId]) -> Assoc {
        let shapes: Vec<Shape> = factors.iter().map(|&f| self.shape(f)).collect();
        cheapest(&shapes)
    }

    /// The shape of an operand (an aux is the inverse kept by `ln_det`: its
    /// argument's shape).
    fn operand_shape(&self, o: Operand) -> Shape {
        match o {
            Operand::Aux(id) => self.shape(self.g.node(id).args.first().copied().unwrap_or(id)),
            Operand::Value(id) | Operand::Adj(id) => self.shape(id),
            Operand::Grad => self.shape(0),
            // Run-time loops take the dynamic backend.
            Operand::Part(id, _) => self.shape(id),
        }
    }

    fn operand(&self, o: Operand, consumer: NodeId) -> TokenStream {
        let name = match o {
            Operand::Grad => adj(consumer),
            Operand::Value(id) => val(id),
            Operand::Aux(id) => aux(id),
            Operand::Adj(id) => adj(id),
            Operand::Part(id, k) => super::part(id, k),
        };
        quote!(#name)
    }

    /// A scalar expression (see [`scalar::sym`]).
    fn sym(&self, s: &Sym, consumer: NodeId, prec: u8) -> TokenStream {
        scalar::sym(self, s, consumer, prec)
    }

    /// `f(args_0[i, j], …)` entrywise, as a new static matrix.
    fn zip(&self, args: &[Operand], f: &Sym, consumer: NodeId) -> TokenStream {
        let ops: Vec<TokenStream> = args.iter().map(|o| self.operand(*o, consumer)).collect();
        let params: Vec<Ident> = (0..args.len())
            .map(|k| mixed(&format!("__mg_a{k}")))
            .collect();
        let body = self.sym(f, consumer, 0);
        match (ops.as_slice(), params.as_slice()) {
            ([a], [p]) => quote!(#a.map(|#p| #body)),
            ([a, b], [p, q]) => quote!(#a.zip_map(&#b, |#p, #q| #body)),
            ([a, b, c], [p, q, r]) => quote!(#a.zip_zip_map(&#b, &#c, |#p, #q, #r| #body)),
            _ => quote!(::core::compile_error!(
                "matgrad: an elementwise adjoint of more than three operands"
            )),
        }
    }

    /// The value of node `id`, as a `let` statement: its rule's static form.
    fn forward(&self, id: NodeId) -> TokenStream {
        let v = val(id);
        match rules::rule(&self.g.node(id).op).forward_static(Site::new(self.g, id), self) {
            StaticForward::Expr(e) => quote!(let #v = #e;),
            StaticForward::Stmts(s) => s,
        }
    }

    /// `alpha · op(a) · op(b)` on static values: a 1×1 factor is a scalar, a row
    /// times a transpose a matrix–vector product.
    fn gemm(&self, c: &Contrib, consumer: NodeId) -> TokenStream {
        let Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } = c
        else {
            return TokenStream::new();
        };
        let o = |x: &Operand| self.operand(*x, consumer);
        let scaled = |e: TokenStream, alpha: &Sym| self.scaled(e, alpha, consumer);
        // A 1×1 factor is a scalar: `op(b) · a₀₀`, not a product kernel (the
        // adjoints of `(xᵀ A x)[(0, 0)]` are full of them).
        let one = |x: &Operand| {
            let s = self.operand_shape(*x);
            s.rows == Dim::One && s.cols == Dim::One
        };
        let t_of = |x: TokenStream, t: bool| if t { quote!(#x.transpose()) } else { x };
        if one(a) || one(b) {
            let (m, tm, k) = if one(a) { (b, *tb, a) } else { (a, *ta, b) };
            let (m, k) = (t_of(o(m), tm), o(k));
            return scaled(quote!(#m * #k[(0, 0)]), alpha);
        }
        // A row times a transpose is a matrix–vector product: `(b aᵀ)ᵀ` reads
        // b in place instead of building bᵀ.
        let row = |x: &Operand| self.operand_shape(*x).rows == Dim::One;
        let a_row = row(a);
        let (a, b) = (o(a), o(b));
        let e = match (ta, tb) {
            (false, false) => quote!(#a * #b),
            (true, false) => quote!(#a.tr_mul(&#b)),
            (false, true) if a_row => quote!((#b * #a.transpose()).transpose()),
            (false, true) => quote!(#a * #b.transpose()),
            (true, true) => quote!((#b * #a).transpose()),
        };
        scaled(e, alpha)
    }

    /// `alpha · e`, with `±1` written as a sign.
    fn scaled(&self, e: TokenStream, alpha: &Sym, consumer: NodeId) -> TokenStream {
        if alpha.is_lit(1.0) {
            e
        } else if alpha.is_lit(-1.0) {
            quote!(-(#e))
        } else {
            let s = self.sym(alpha, consumer, 3);
            quote!((#e) * #s)
        }
    }

    // Long by design: one arm per kind of contribution, the static lowering of the shared adjoint vocabulary in one match.
    /// A contribution as an expression of the target's static type (or a scalar).
    fn contrib(&self, c: &Contrib, consumer: NodeId, target: NodeId) -> TokenStream {
        let o = |x: &Operand| self.operand(*x, consumer);
        let scaled = |e: TokenStream, alpha: &Sym| self.scaled(e, alpha, consumer);
        let t = ty(self.shape(target), &self.t);
        match c {
            Contrib::Axpy { alpha, a, ta } => {
                let a = o(a);
                let e = if *ta { quote!(#a.transpose()) } else { a };
                scaled(e, alpha)
            }
            Contrib::Gemm { .. } => self.gemm(c, consumer),
            // A chain of (transposed) factors in the association the static shapes make
            // cheapest (the cost model's).
            Contrib::Chain { alpha, factors } => {
                let xs: Vec<TokenStream> = factors
                    .iter()
                    .map(|(f, t)| {
                        let x = o(f);
                        if *t {
                            quote!(#x.transpose())
                        } else {
                            x
                        }
                    })
                    .collect();
                let shapes: Vec<Shape> = factors
                    .iter()
                    .map(|(f, t)| {
                        let s = self.operand_shape(*f);
                        if *t {
                            s.transpose()
                        } else {
                            s
                        }
                    })
                    .collect();
                scaled(associated(&cheapest(&shapes), &xs), alpha)
            }
            // Reverse mode through the chain's association: from the root down to the
            // factor, a left child takes `P̄ Rᵀ`, a right child `Lᵀ P̄`.
            Contrib::ChainFactor { alpha, g, factor } => {
                let args = match g {
                    Operand::Adj(c) => self.g.node(*c).args.clone(),
                    _ => Vec::new(),
                };
                let xs: Vec<TokenStream> = args.iter().map(|&x| o(&Operand::Value(x))).collect();
                let mut node = self.chain_plan(&args);
                let mut adj = o(g);
                while let Assoc::Product(l, r) = node {
                    if *factor <= l.span().1 {
                        let r = associated(&r, &xs);
                        adj = quote!((#adj * (#r).transpose()));
                        node = *l;
                    } else {
                        let l = associated(&l, &xs);
                        adj = quote!(((#l).transpose() * #adj));
                        node = *r;
                    }
                }
                scaled(adj, alpha)
            }
            Contrib::Hadamard { alpha, a, b } => {
                let (a, b) = (o(a), o(b));
                scaled(quote!(#a.component_mul(&#b)), alpha)
            }
            Contrib::Fill(s) => {
                let s = self.sym(s, consumer, 0);
                quote!(#t::from_element(#s))
            }
            Contrib::Diag(s) => {
                let s = self.sym(s, consumer, 0);
                quote!(#t::from_diagonal_element(#s))
            }
            Contrib::Index(s, i, j) => {
                let (s, i, j) = (self.sym(s, consumer, 0), i.tokens(), j.tokens());
                let m = mixed("__mg_e");
                quote!({
                    let mut #m = #t::zeros();
                    #m[(#i, #j)] = #s;
                    #m
                })
            }
            Contrib::ZipMap(ops, f) => self.zip(ops, f, consumer),
            Contrib::Kernel(k, args) => self.kernel(&**k, args, consumer, target),
            Contrib::Scalar(s) => self.sym(s, consumer, 1),
        }
    }

    /// An adjoint kernel, as its rule lowers it to nalgebra on static values.
    fn kernel(
        &self,
        k: &dyn Kernel,
        args: &[KArg],
        consumer: NodeId,
        target: NodeId,
    ) -> TokenStream {
        let args: Vec<StaticArg> = args
            .iter()
            .filter_map(|a| match a {
                KArg::Mat(x) => Some(StaticArg::Mat(
                    self.operand(*x, consumer),
                    self.operand_shape(*x),
                )),
                KArg::Scal(x) => Some(StaticArg::Scal(self.sym(x, consumer, 3))),
                KArg::Count(c) => Some(StaticArg::Count(c.tokens())),
                KArg::Scratch => None,
            })
            .collect();
        k.lower_static(&args, self.shape(target), self)
    }

    /// `let g_t = …;`: the adjoint of node `t`, the sum of its contributions.
    fn adjoint(&self, t: NodeId, incoming: &[(NodeId, Contrib)]) -> TokenStream {
        let g = adj(t);
        let node = self.g.node(t);
        let parts: Vec<TokenStream> = incoming
            .iter()
            .filter(|(_, c)| node.kind.is_matrix() != matches!(c, Contrib::Scalar(_)))
            .map(|(c, contrib)| self.contrib(contrib, *c, t))
            .collect();
        if let Kind::Matrix(shape) = node.kind {
            if parts.is_empty() {
                let ty = ty(shape, &self.t);
                return quote!(let #g = #ty::zeros(););
            }
            if let [only] = parts.as_slice() {
                return quote!(let #g = #only;);
            }
            let parts = parts.iter().map(|p| quote!((#p)));
            return quote!(let #g = #(#parts)+*;);
        }
        let ty = &self.t;
        let mut parts = parts;
        if t == self.g.output || parts.is_empty() {
            let seed = lit(if t == self.g.output { 1.0 } else { 0.0 }, &self.g.float);
            parts.insert(0, seed);
        }
        quote!(let #g: #ty = #(#parts)+*;)
    }
}

/// The cheapest association of a chain of factors with these static shapes (the
/// cost model's [`Assoc::cheapest`]).
pub(crate) fn cheapest(shapes: &[Shape]) -> Assoc {
    let mut dims: Vec<u128> = shapes.iter().map(|s| size(s.rows) as u128).collect();
    dims.extend(shapes.last().map(|s| size(s.cols) as u128));
    Assoc::cheapest(&dims)
}

/// The product of the factors `xs` in the association `a`.
pub(crate) fn associated(a: &Assoc, xs: &[TokenStream]) -> TokenStream {
    match a {
        Assoc::Leaf(i) => xs.get(*i).cloned().unwrap_or_default(),
        Assoc::Product(l, r) => {
            let (l, r) = (associated(l, xs), associated(r, xs));
            quote!((#l * #r))
        }
    }
}

/// The body of `NAME_grad`: the forward pass, then each adjoint; with the value and
/// the gradient of each `wrt` variable (zero when the value does not depend on it).
fn code(input: &Input<'_>) -> (TokenStream, Ident, Vec<TokenStream>) {
    let Input {
        sig,
        wrt,
        graph: g,
        adjoints,
        ..
    } = *input;
    let t = float_ty(&g.float);
    let cx = Fixed {
        g,
        params: &sig.params,
        t: t.clone(),
        differentiated: &adjoints.differentiated,
    };
    let mut body = TokenStream::new();
    for id in 0..g.nodes.len() {
        body.extend(cx.forward(id));
    }
    for id in (0..g.nodes.len()).rev() {
        if adjoints.is_differentiated(id) {
            body.extend(cx.adjoint(id, adjoints.incoming_to(id)));
        }
    }
    let grads = wrt
        .iter()
        .map(|&i| {
            let differentiated = adjoints.differentiated.get(i).copied().unwrap_or(false);
            match (g.node(i).kind, differentiated) {
                (_, true) => {
                    let a = adj(i);
                    quote!(#a)
                }
                (Kind::Matrix(s), false) => {
                    let ty = ty(s, &t);
                    quote!(#ty::zeros())
                }
                (Kind::Scalar, false) => lit(0.0, &g.float),
            }
        })
        .collect();
    (body, val(input.value), grads)
}

/// For `NAME_hessian` built from its structure: the code of `NAME_grad` for the
/// first-order `input` (its forward pass, its reverse sweep), its value, the gradient
/// of its one variable, and the Hessian as an `SMatrix<T, N, N>` expression of the
/// pieces (see [`crate::hessian_structure::lower_static`]) on the forward pass's values.
pub(crate) fn structured_hessian(
    input: &Input<'_>,
    pieces: &[crate::hessian_structure::Piece],
    wshape: Shape,
) -> (TokenStream, Ident, TokenStream, TokenStream) {
    let (body, value, grads) = code(input);
    let cx = Fixed {
        g: input.graph,
        params: &input.sig.params,
        t: float_ty(&input.graph.float),
        differentiated: &input.adjoints.differentiated,
    };
    let h = crate::hessian_structure::lower_static(pieces, wshape, &cx);
    let grad = grads.into_iter().next().unwrap_or_default();
    (body, value, grad, h)
}

/// The body of a `NAME_grad_into` with the dynamic backend's signature
/// ([`super::signatures`]) computing an all-static function with stack values: the
/// code of `NAME_grad`, the gradients stored in the outputs.
pub fn into_body(input: &Input<'_>) -> TokenStream {
    let (body, value, grads) = code(input);
    let outs = input
        .wrt
        .iter()
        .filter_map(|&i| input.sig.params.get(i))
        .map(grad_out);
    quote! {
        #body
        #(*#outs = #grads;)*
        #value
    }
}

/// `NAME_grad` (the code) and `NAME_grad_into` (a wrapper with the signature of
/// SPEC §2) of an all-static function.
pub fn companions(input: &Input<'_>) -> TokenStream {
    let Input {
        item,
        sig,
        wrt,
        graph: g,
        companion,
        ..
    } = *input;
    let t = float_ty(&g.float);
    let (body, value, grads) = code(input);
    let wrt_params: Vec<&Param> = wrt.iter().filter_map(|&i| sig.params.get(i)).collect();
    let vis = &item.vis;
    let name = &item.sig.ident;
    let cfgs: Vec<_> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    let (grad_name, into_name) = companion.names(name);
    let super::Generics {
        params: generic_params,
        bounds,
        turbofish,
    } = super::generics(item, &g.float);
    let params: Vec<TokenStream> = sig
        .params
        .iter()
        .map(|p| {
            let (n, ty) = (&p.name, &p.ty);
            quote!(#n: #ty)
        })
        .collect();
    let args: Vec<&Ident> = sig.params.iter().map(|p| &p.name).collect();
    let outs: Vec<Ident> = wrt_params.iter().map(|p| grad_out(p)).collect();
    let out_params: Vec<TokenStream> = wrt_params
        .iter()
        .zip(&outs)
        .map(|(p, o)| {
            let ty = &p.owned;
            quote!(#o: &mut #ty)
        })
        .collect();
    let owned: Vec<&TokenStream> = wrt_params.iter().map(|p| &p.owned).collect();
    let locals: Vec<Ident> = (0..outs.len())
        .map(|k| mixed(&format!("__mg_r{k}")))
        .collect();
    let ret = mixed("__mg_value");
    let ws = mixed("ws");
    let (head, into_head) = heads(name, &wrt_params, companion, true);
    let hidden = match companion {
        Companion::Hvp { hidden: true } => quote!(#[doc(hidden)] #[allow(dead_code)]),
        _ => TokenStream::new(),
    };
    let doc = match companion {
        Companion::Grad => formula::doc(input),
        Companion::Hvp { .. } => formula::hvp_doc(input),
    };
    let (doc1, doc2) = (doc.iter(), doc.iter());
    quote! {
        #(#cfgs)*
        #hidden
        #[doc = #head]
        #[doc = ""]
        #(#[doc = #doc1])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, unused_braces, non_snake_case)]
        #vis fn #grad_name #generic_params (#(#params),*) -> (#t, #(#owned),*) #bounds {
            #body
            (#value, #(#grads),*)
        }

        #(#cfgs)*
        #hidden
        #[doc = #into_head]
        #[doc = ""]
        #(#[doc = #doc2])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, non_snake_case)]
        #vis fn #into_name #generic_params (#(#params,)* #(#out_params,)* #ws: &mut ::matgrad::Workspace<#t>) -> #t #bounds {
            let (#ret, #(#locals),*) = #grad_name #turbofish (#(#args),*);
            #(*#outs = #locals;)*
            #ret
        }
    }
}

/// The body of `NAME_jacobian_into` for an all-static function (see
/// [`super::jacobian`]): the values once, on the stack, then per entry of each
/// variable its tangent sweep into a column (forward mode), or per residual the
/// reverse sweep into a row (reverse mode).
pub(crate) fn jacobian_body(
    j: &super::jacobian::Jac<'_>,
    o: &super::jacobian::Outs,
) -> TokenStream {
    use super::jacobian::Mode;
    let g = j.graph;
    let t = float_ty(&g.float);
    let (zero, one) = (lit(0.0, &g.float), lit(1.0, &g.float));
    let cx = Fixed {
        g,
        params: &j.sig.params,
        t: t.clone(),
        differentiated: &j.adjoints.differentiated,
    };
    let once = j.once();
    let mut body = TokenStream::new();
    for id in (0..g.nodes.len()).filter(|&id| flag(&once, id)) {
        body.extend(cx.forward(id));
    }
    let (Some(seed), rr) = (j.param(j.seed), &o.r) else {
        return quote!(::core::compile_error!(
            "matgrad: a Jacobian without its seed"
        ));
    };
    let rv = val(j.r);
    body.extend(quote!(*#rr = #rv;));
    let m = match seed.kind {
        Kind::Matrix(s) => size(s.rows),
        Kind::Scalar => 1,
    };
    let entries = |p: &Param| match p.kind {
        Kind::Matrix(s) => size(s.rows) * size(s.cols),
        Kind::Scalar => 1,
    };
    // Forward mode: column k of each Jacobian.
    let mut forward = TokenStream::new();
    for (v, jout) in j.vars.iter().zip(&o.jac) {
        let (Some(p), Some(d)) = (j.param(v.param), j.param(v.dir)) else {
            continue;
        };
        let Some(tangent) = v.tangent else {
            forward.extend(quote!(#jout.fill(#zero);));
            continue;
        };
        let mut each = TokenStream::new();
        for id in j.section(v) {
            each.extend(cx.forward(id));
        }
        let (tv, dname, owned) = (val(tangent), &d.name, &p.owned);
        let (k, dir) = (mixed("__mg_k"), mixed("__mg_dir"));
        forward.extend(match p.kind {
            Kind::Scalar => quote! {
                {
                    let #dname: #t = #one;
                    #each
                    #jout.set_column(0, &#tv);
                }
            },
            Kind::Matrix(_) => {
                let n = entries(p);
                quote! {
                    for #k in 0..#n {
                        let mut #dir = <#owned>::zeros();
                        #dir[#k] = #one;
                        let #dname = &#dir;
                        #each
                        #jout.set_column(#k, &#tv);
                    }
                }
            }
        });
    }
    // Reverse mode: row i of each Jacobian.
    let (i, sbuf, kk, x) = (
        mixed("__mg_i"),
        mixed("__mg_seed"),
        mixed("__mg_k"),
        mixed("__mg_x"),
    );
    let (sname, sowned) = (&seed.name, &seed.owned);
    let mut each = quote! {
        let mut #sbuf = <#sowned>::zeros();
        #sbuf[#i] = #one;
        let #sname = &#sbuf;
    };
    each.extend(cx.forward(j.seed));
    for id in (0..g.nodes.len()).rev() {
        if j.adjoints.is_differentiated(id) {
            each.extend(cx.adjoint(id, j.adjoints.incoming_to(id)));
        }
    }
    let mut zeros = TokenStream::new();
    for (v, jout) in j.vars.iter().zip(&o.jac) {
        let Some(p) = j.param(v.param) else { continue };
        if !j.adjoints.is_differentiated(v.param) {
            zeros.extend(quote!(#jout.fill(#zero);));
            continue;
        }
        let a = adj(v.param);
        each.extend(match p.kind {
            Kind::Scalar => quote!(#jout[(#i, 0)] = #a;),
            Kind::Matrix(_) => quote! {
                for (#kk, #x) in #a.iter().enumerate() {
                    #jout[(#i, #kk)] = *#x;
                }
            },
        });
    }
    let reverse = quote! {
        #zeros
        for #i in 0..#m {
            #each
        }
    };
    body.extend(match j.mode {
        // Structured Jacobians are chosen for dynamic ones only.
        Mode::Forward | Mode::Structured => forward,
        Mode::Reverse => reverse,
        // Static costs are numbers: decided at expansion; should a choice remain, by
        // the number of sweeps.
        Mode::AtRunTime { .. } => {
            let n: usize = j
                .vars
                .iter()
                .filter_map(|v| j.param(v.param))
                .map(entries)
                .sum();
            quote! {
                if #n <= #m {
                    #forward
                } else {
                    #reverse
                }
            }
        }
    });
    body
}

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

use super::{adj, aux, float_ty, formula, grad_out, lit, mixed, rt, scalar, val, Input};
use crate::cost::Assoc;
use crate::ir::{Dim, Graph, Kind, NodeId, Op, Shape};
use crate::parse::signature::Param;
use crate::rules::{Contrib, KArg};
use crate::sym::{Operand, Sym};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// Whether the function is for this backend: every matrix parameter has a static
/// shape. (A function mixing sizes goes to the dynamic backend, which reads static
/// parameters through views and copies their gradients out.)
pub fn applies(input: &Input<'_>) -> bool {
    input.sig.is_static()
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
    t: Ident,
    /// Which nodes carry an adjoint.
    differentiated: &'a [bool],
}

impl scalar::Leaves for Fixed<'_> {
    fn float(&self) -> crate::ir::Float {
        self.g.float
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
        (lit((size(s.rows) * size(s.cols)) as f64, self.g.float), 4)
    }
    fn zip_sum(&self, args: &[Operand], body: &Sym, consumer: NodeId) -> (TokenStream, u8) {
        let z = self.zip(args, body, consumer);
        (quote!(#z.sum()), 4)
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

    /// The shape of an operand (an aux is the inverse kept by `ln_det`: its
    /// argument's shape).
    /// The cheapest association of a chain of these static factors.
    fn chain_plan(&self, factors: &[NodeId]) -> Assoc {
        let mut dims: Vec<u128> = factors
            .iter()
            .map(|&f| size(self.shape(f).rows) as u128)
            .collect();
        dims.extend(factors.last().map(|&f| size(self.shape(f).cols) as u128));
        Assoc::cheapest(&dims)
    }

    fn operand_shape(&self, o: Operand) -> Shape {
        match o {
            Operand::Aux(id) => self.shape(self.g.node(id).args[0]),
            Operand::Value(id) | Operand::Adj(id) => self.shape(id),
            Operand::Grad => self.shape(0),
        }
    }

    fn operand(&self, o: Operand, consumer: NodeId) -> TokenStream {
        let name = match o {
            Operand::Grad => adj(consumer),
            Operand::Value(id) => val(id),
            Operand::Aux(id) => aux(id),
            Operand::Adj(id) => adj(id),
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

    /// The value of node `id`, as a `let` statement.
    fn forward(&self, id: NodeId, params: &[Param]) -> TokenStream {
        let node = self.g.node(id);
        let v = val(id);
        let a = |k: usize| {
            let x = val(node.args[k]);
            quote!(#x)
        };
        let text = &node.text;
        let e = match &node.op {
            Op::Param(i) => {
                let Some(p) = params.get(*i) else {
                    return TokenStream::new();
                };
                let n = &p.name;
                if p.by_ref {
                    quote!(*#n)
                } else {
                    quote!(#n)
                }
            }
            Op::Lit(x) => lit(*x, self.g.float),
            Op::Const(tokens) => tokens.clone(),
            Op::Scalar(op) => {
                let args = (0..node.args.len())
                    .map(|k| Sym::Val(node.args[k]))
                    .collect();
                self.sym(&Sym::apply(*op, args), id, 0)
            }
            Op::Add => binary(a(0), quote!(+), a(1)),
            Op::Sub => binary(a(0), quote!(-), a(1)),
            Op::Neg => {
                let x = a(0);
                quote!(-#x)
            }
            Op::MatMul => binary(a(0), quote!(*), a(1)),
            Op::Ones { .. } => {
                let (t, one) = (ty(self.shape(id), &self.t), lit(1.0, self.g.float));
                quote!(#t::from_element(#one))
            }
            // `(p * q).trace()` as written: the product's bits, then its trace.
            Op::TraceMul => {
                let (p, q) = (a(0), a(1));
                quote!((#p * #q).trace())
            }
            // `a * b * c * ⋯` under `reassociate`: the cheapest association, which the
            // static shapes decide here (the cost model's `Assoc::cheapest`).
            Op::Chain => {
                let xs: Vec<TokenStream> = (0..node.args.len()).map(a).collect();
                associated(&self.chain_plan(&node.args), &xs)
            }
            Op::Scale => binary(a(0), quote!(*), a(1)),
            Op::DivScalar => binary(a(0), quote!(/), a(1)),
            Op::Transpose => method(a(0), "transpose", None),
            Op::ComponentMul => method(a(0), "component_mul", Some(a(1))),
            Op::ComponentDiv => method(a(0), "component_div", Some(a(1))),
            Op::Kronecker => method(a(0), "kronecker", Some(a(1))),
            Op::Map(c) => {
                let x = mixed("__mg_x");
                let body = self.sym(&c.body, id, 0);
                let r = a(0);
                quote!(#r.map(|#x| #body))
            }
            Op::AddScalar => {
                let (r, s) = (a(0), a(1));
                quote!(#r.add_scalar(#s))
            }
            Op::Inverse(msg) => {
                let r = a(0);
                let msg = msg.clone().unwrap_or_else(|| {
                    format!("matgrad: `{text}`: the matrix is singular, it has no inverse")
                });
                quote!(#r.try_inverse().expect(#msg))
            }
            // `crate::solve` leaves static sizes alone.
            Op::Lu(_) | Op::Solve | Op::SolveRight => quote!(::core::compile_error!(
                "matgrad: solves are not written for static sizes"
            )),
            Op::Sum => method(a(0), "sum", None),
            Op::Mean => method(a(0), "mean", None),
            Op::NormSquared => method(a(0), "norm_squared", None),
            Op::Norm => method(a(0), "norm", None),
            Op::Dot => method(a(0), "dot", Some(a(1))),
            Op::Trace => method(a(0), "trace", None),
            Op::Determinant => method(a(0), "determinant", None),
            Op::Index(i, j) => {
                let r = a(0);
                quote!(#r[(#i, #j)])
            }
            Op::Sigmoid => call("sigmoid", &[a(0)]),
            Op::Relu => call("relu", &[a(0)]),
            Op::Softplus => call("softplus", &[a(0)]),
            // The runtime's `add_row`/`add_col` return a `DMatrix`; on the stack, the
            // same sums entry by entry.
            Op::AddRow | Op::AddCol => {
                let (m, b) = (a(0), a(1));
                let (o, line) = (mixed("__mg_o"), mixed("__mg_line"));
                let iter = if matches!(node.op, Op::AddRow) {
                    quote!(row_iter_mut)
                } else {
                    quote!(column_iter_mut)
                };
                quote!({
                    let mut #o = #m;
                    for mut #line in #o.#iter() {
                        #line += &#b;
                    }
                    #o
                })
            }
            Op::LogSumExp => call("log_sum_exp", &[a(0)]),
            Op::SoftmaxCrossEntropy => {
                let value = call("softmax_cross_entropy", &[a(0), a(1)]);
                if !self.differentiated[node.args[0]] {
                    value
                } else {
                    // z̄ += s̄ (softmax(z) ⊙ rowsum(y) − y): the forward pass keeps the
                    // bracket, row by row on the stack.
                    let (z, y, w) = (a(0), a(1), aux(id));
                    let (o, orow, zr, yr, m, e, x) = (
                        mixed("__mg_o"),
                        mixed("__mg_orow"),
                        mixed("__mg_zr"),
                        mixed("__mg_yr"),
                        mixed("__mg_m"),
                        mixed("__mg_e"),
                        mixed("__mg_x"),
                    );
                    return quote!(
                        let #v = #value;
                        let #w = {
                            let mut #o = #z;
                            for (mut #orow, (#zr, #yr)) in #o.row_iter_mut().zip(#z.row_iter().zip(#y.row_iter())) {
                                let #m = #zr.max();
                                let #e = #zr.map(|#x| (#x - #m).exp());
                                #orow.copy_from(&(#e * (#yr.sum() / #e.sum()) - #yr));
                            }
                            #o
                        };
                    );
                }
            }
            Op::LnDet => {
                if !self.differentiated[id] {
                    call("ln_det", &[a(0)])
                } else {
                    // ā += s̄ a⁻ᵀ reads the inverse, from the same factorisation on the
                    // stack (non-finite when a is singular, as the dynamic kernel's).
                    let (x, w) = (a(0), aux(id));
                    let rt = rt();
                    return quote!(let (#v, #w) = #rt::ln_det_inverse_static(&#x););
                }
            }
        };
        quote!(let #v = #e;)
    }

    /// A contribution as an expression of the target's static type (or a scalar).
    fn contrib(&self, c: &Contrib, consumer: NodeId, target: NodeId) -> TokenStream {
        let o = |x: &Operand| self.operand(*x, consumer);
        let scaled = |e: TokenStream, alpha: &Sym| -> TokenStream {
            if alpha.is_lit(1.0) {
                e
            } else if alpha.is_lit(-1.0) {
                quote!(-(#e))
            } else {
                let s = self.sym(alpha, consumer, 3);
                quote!((#e) * #s)
            }
        };
        let t = ty(self.shape(target), &self.t);
        match c {
            Contrib::Axpy { alpha, a, ta } => {
                let a = o(a);
                let e = if *ta { quote!(#a.transpose()) } else { a };
                scaled(e, alpha)
            }
            Contrib::Gemm {
                alpha,
                a,
                ta,
                b,
                tb,
            } => {
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
                let mut dims: Vec<u128> = shapes.iter().map(|s| size(s.rows) as u128).collect();
                dims.extend(shapes.last().map(|s| size(s.cols) as u128));
                scaled(associated(&Assoc::cheapest(&dims), &xs), alpha)
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
                let s = self.sym(s, consumer, 0);
                let m = mixed("__mg_e");
                quote!({
                    let mut #m = #t::zeros();
                    #m[(#i, #j)] = #s;
                    #m
                })
            }
            Contrib::ZipMap(ops, f) => self.zip(ops, f, consumer),
            Contrib::Kernel(name, args) => self.kernel(name, args, consumer, target),
            Contrib::Scalar(s) => self.sym(s, consumer, 1),
        }
    }

    /// The runtime adjoint kernels, as nalgebra expressions on static values.
    fn kernel(&self, name: &str, args: &[KArg], consumer: NodeId, target: NodeId) -> TokenStream {
        let m = |k: usize| match args.get(k) {
            Some(KArg::Mat(x)) => (self.operand(*x, consumer), self.operand_shape(*x)),
            _ => (TokenStream::new(), self.shape(target)),
        };
        let s = |k: usize| match args.get(k) {
            Some(KArg::Scal(x)) => self.sym(x, consumer, 3),
            _ => TokenStream::new(),
        };
        let t = ty(self.shape(target), &self.t);
        let nan = lit(f64::NAN, self.g.float);
        match name {
            // alpha · a⁻ᵀ (determinant); a singular `a` gives non-finite entries
            "inv_transpose_to" => {
                let (alpha, (a, _)) = (s(0), m(1));
                quote!(#a.try_inverse().unwrap_or_else(|| #t::from_element(#nan)).transpose() * #alpha)
            }
            // column sums of Ḡ, a row (add_row)
            "sum_rows_to" => {
                let (g, _) = m(0);
                quote!(#g.row_sum())
            }
            // row sums of Ḡ, a column (add_col)
            "sum_cols_to" => {
                let (g, _) = m(0);
                quote!(#g.column_sum())
            }
            // s̄ e^(a − ℓ) (log_sum_exp)
            "log_sum_exp_adjoint_to" => {
                let (alpha, (a, _), l) = (s(0), m(1), s(2));
                let x = mixed("__mg_x");
                quote!(#a.map(|#x| (#x - #l).exp() * #alpha))
            }
            // ā_ij = Σ Ḡ_block(i,j) ⊙ b
            "kron_adjoint_a_to" => {
                let ((g, _), (b, bs)) = (m(0), m(1));
                let (p, q) = (size(bs.rows), size(bs.cols));
                let (i, j) = (mixed("__mg_i"), mixed("__mg_j"));
                quote!(#t::from_fn(|#i, #j| #g.fixed_view::<#p, #q>(#i * #p, #j * #q).component_mul(&#b).sum()))
            }
            // b̄ = Σ_ij a_ij Ḡ_block(i,j)
            "kron_adjoint_b_to" => {
                let ((g, _), (a, as_)) = (m(0), m(1));
                let bs = self.shape(target);
                let (p, q) = (size(bs.rows), size(bs.cols));
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
            // −s̄ log softmax(z), row by row
            "softmax_ce_adjoint_y_to" => {
                let (alpha, (z, _)) = (s(0), m(1));
                let (o, orow, zr, mx, l, x) = (
                    mixed("__mg_o"),
                    mixed("__mg_orow"),
                    mixed("__mg_zr"),
                    mixed("__mg_m"),
                    mixed("__mg_l"),
                    mixed("__mg_x"),
                );
                quote!({
                    let mut #o = #z;
                    for (mut #orow, #zr) in #o.row_iter_mut().zip(#z.row_iter()) {
                        let #mx = #zr.max();
                        let #l = #mx + #zr.map(|#x| (#x - #mx).exp()).sum().ln();
                        #orow.copy_from(&#zr.map(|#x| (#l - #x) * #alpha));
                    }
                    #o
                })
            }
            other => {
                let msg = format!("matgrad: no static lowering of the adjoint kernel `{other}`");
                quote!(::core::compile_error!(#msg))
            }
        }
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
            let seed = lit(if t == self.g.output { 1.0 } else { 0.0 }, self.g.float);
            parts.insert(0, seed);
        }
        quote!(let #g: #ty = #(#parts)+*;)
    }
}

/// The product of the factors `xs` in the association `a`.
fn associated(a: &Assoc, xs: &[TokenStream]) -> TokenStream {
    match a {
        Assoc::Leaf(i) => xs[*i].clone(),
        Assoc::Product(l, r) => {
            let (l, r) = (associated(l, xs), associated(r, xs));
            quote!((#l * #r))
        }
    }
}

fn binary(a: TokenStream, op: TokenStream, b: TokenStream) -> TokenStream {
    quote!(#a #op #b)
}

fn method(recv: TokenStream, name: &str, arg: Option<TokenStream>) -> TokenStream {
    let m = Ident::new(name, Span::call_site());
    match arg {
        Some(b) => quote!(#recv.#m(&#b)),
        None => quote!(#recv.#m()),
    }
}

fn call(name: &str, args: &[TokenStream]) -> TokenStream {
    let f = Ident::new(name, Span::call_site());
    quote!(::matgrad::#f(#(&#args),*))
}

/// `NAME_grad` (the code) and `NAME_grad_into` (a wrapper with the signature of
/// SPEC §2) of an all-static function.
pub fn companions(input: &Input<'_>) -> TokenStream {
    let Input {
        item,
        sig,
        wrt,
        graph: g,
        adjoints,
    } = *input;
    let t = float_ty(g.float);
    let cx = Fixed {
        g,
        t: t.clone(),
        differentiated: &adjoints.differentiated,
    };

    let mut body = TokenStream::new();
    for id in 0..g.nodes.len() {
        body.extend(cx.forward(id, &sig.params));
    }
    for id in (0..g.nodes.len()).rev() {
        if adjoints.differentiated[id] {
            body.extend(cx.adjoint(id, &adjoints.incoming[id]));
        }
    }
    let value = val(g.output);
    let wrt_params: Vec<&Param> = wrt.iter().filter_map(|&i| sig.params.get(i)).collect();
    let grads: Vec<TokenStream> = wrt
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
                (Kind::Scalar, false) => lit(0.0, g.float),
            }
        })
        .collect();

    let vis = &item.vis;
    let name = &item.sig.ident;
    let cfgs: Vec<_> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    let grad_name = format_ident!("{}_grad", name);
    let into_name = format_ident!("{}_grad_into", name);
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
    let wrt_list = wrt_params
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect::<Vec<_>>()
        .join(", ");
    let head = format!(
        " Value and gradient of [`{name}`] with respect to {wrt_list}, derived by `#[grad]`. Every matrix has a static size: the code works on stack values with nalgebra's static kernels and allocates nothing."
    );
    let into_head = format!(
        " [`{grad_name}`] writing the gradients into `grad_*`. Returns the value of [`{name}`]. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes."
    );
    let doc = formula::doc(input);
    let (doc1, doc2) = (doc.iter(), doc.iter());
    quote! {
        #(#cfgs)*
        #[doc = #head]
        #[doc = ""]
        #(#[doc = #doc1])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, unused_braces, non_snake_case)]
        #vis fn #grad_name(#(#params),*) -> (#t, #(#owned),*) {
            #body
            (#value, #(#grads),*)
        }

        #(#cfgs)*
        #[doc = #into_head]
        #[doc = ""]
        #(#[doc = #doc2])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, non_snake_case)]
        #vis fn #into_name(#(#params,)* #(#out_params,)* #ws: &mut ::matgrad::Workspace<#t>) -> #t {
            let (#ret, #(#locals),*) = #grad_name(#(#args),*);
            #(*#outs = #locals;)*
            #ret
        }
    }
}

//! Code emission: the forward pass, then the adjoint program, as straight-line Rust
//! calling `::matgrad::__private` kernels, in `NAME_grad_into`; `NAME_grad` wraps it.
//!
//! Every temporary is named with `Span::mixed_site()`, so it can never collide
//! with the user's names; matrices live in `Workspace` slots, taken at first use and
//! put back at the end, so a second call with the same shapes allocates nothing.

pub mod fallback;
pub mod fixed;
pub mod formula;
pub mod fuse;
pub mod hessian;
pub mod jacobian;
mod looped;
pub use looped::{back_signature, step_body, step_signature};
pub mod math;
pub mod resolve;
mod scalar;

use crate::diff::Adjoints;
use crate::ir::{Float, Graph, Kind, NodeId, Op};
use crate::parse::signature::{Param, Signature};
use crate::rules::{self, Contrib, Forward, KArg, KernelRef, Names};
use crate::sym::{Operand, Sym};
use fuse::{Fused, Lazy};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use std::cell::RefCell;

/// Everything emission needs about one function.
pub struct Input<'a> {
    /// The original function.
    pub item: &'a syn::ItemFn,
    /// Its checked signature.
    pub sig: &'a Signature,
    /// The `wrt` parameters, as indices into `sig.params`, in the order written.
    pub wrt: &'a [usize],
    /// Its graph.
    pub graph: &'a Graph,
    /// Its adjoint program.
    pub adjoints: &'a Adjoints,
    /// The node whose value the companions return: the output, except for the
    /// tangent graph of `NAME_hvp`, whose output is ḟ and which returns f.
    pub value: NodeId,
    /// Which pair of companions this is.
    pub companion: Companion,
}

/// Which pair of companions a body is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Companion {
    /// `NAME_grad` and `NAME_grad_into`.
    Grad,
    /// `NAME_hvp` and `NAME_hvp_into`, the gradients of the tangent graph (see
    /// [`crate::tangent`]); `hidden`: only `NAME_hessian` was asked for, so they are
    /// named `__NAME_hvp…` and hidden from the docs.
    Hvp {
        /// Not asked for by the user.
        hidden: bool,
    },
}

impl Companion {
    /// The two companions' names for the function `name`: by value, then `_into`.
    pub fn names(self, name: &Ident) -> (Ident, Ident) {
        match self {
            Companion::Grad => (
                format_ident!("{}_grad", name),
                format_ident!("{}_grad_into", name),
            ),
            Companion::Hvp { hidden: false } => (
                format_ident!("{}_hvp", name),
                format_ident!("{}_hvp_into", name),
            ),
            Companion::Hvp { hidden: true } => (
                format_ident!("__{}_hvp", name),
                format_ident!("__{}_hvp_into", name),
            ),
        }
    }
}

thread_local! {
    /// The mixed-site span the generated names take, when it is not this expansion's
    /// own: a `__grad_continue!` expansion writes the body of a function whose
    /// signature the `#[grad]` expansion wrote, and must name its `ws` and `grad_*`.
    static MIXED_SITE: std::cell::Cell<Option<Span>> = const { std::cell::Cell::new(None) };
}

/// An identifier with mixed-site hygiene: it cannot collide with the user's names.
pub(crate) fn mixed(name: &str) -> Ident {
    let span = MIXED_SITE
        .with(std::cell::Cell::get)
        .unwrap_or_else(Span::mixed_site);
    Ident::new(name, span)
}

/// Runs `f` with the generated names taking the mixed-site hygiene of `span`.
pub fn with_mixed_site<R>(span: Span, f: impl FnOnce() -> R) -> R {
    let before = MIXED_SITE.with(|c| c.replace(Some(span)));
    let r = f();
    MIXED_SITE.with(|c| c.set(before));
    r
}

/// The runtime path.
pub(crate) fn rt() -> TokenStream {
    quote!(::matgrad::__private)
}

/// The name of a value, adjoint or aux buffer of node `id`.
fn val(id: NodeId) -> Ident {
    mixed(&format!("__mg_v{id}"))
}
fn adj(id: NodeId) -> Ident {
    mixed(&format!("__mg_g{id}"))
}
fn aux(id: NodeId) -> Ident {
    mixed(&format!("__mg_aux{id}"))
}
fn aux_scratch(id: NodeId) -> Ident {
    mixed(&format!("__mg_auxw{id}"))
}

/// Buffer `k` of chain `id`'s kept products (`memo`: of their adjoints).
fn chain_temp(id: NodeId, k: usize, memo: bool) -> Ident {
    mixed(&format!("__mg_c{}{id}_{k}", if memo { "m" } else { "t" }))
}

/// Whether the product adjoint of `id` is read as chains (see `Emit::product_adjoint`).
/// The buffer of part `k` of node `id`'s reverse sweep ([`Operand::Part`]).
fn part(id: NodeId, k: usize) -> Ident {
    mixed(&format!("__mg_part{id}_{k}"))
}

fn chain_flag(id: NodeId) -> Ident {
    mixed(&format!("__mg_chain{id}"))
}

fn id_of(o: Operand) -> NodeId {
    match o {
        Operand::Value(id) | Operand::Aux(id) | Operand::Adj(id) | Operand::Part(id, _) => id,
        Operand::Grad => usize::MAX,
    }
}

/// The identifier of the gradient output of parameter `p` in `_grad_into`.
pub fn grad_out(p: &Param) -> Ident {
    mixed(&format!("grad_{}", p.name))
}

/// The float type as tokens.
pub fn float_ty(f: &Float) -> Ident {
    f.ty()
}

/// A float literal of the function's type (suffixed, so method calls on it resolve).
pub fn lit(v: f64, f: &Float) -> TokenStream {
    let t = float_ty(f);
    if let Float::Generic(_) = f {
        // `nalgebra::convert`: exact in `f64`, rounded to nearest in `f32`, as a
        // suffixed literal would be.
        let rt = rt();
        let v = if v.is_finite() {
            let l = Literal::f64_suffixed(v.abs());
            if v.is_sign_negative() {
                quote!((-#l))
            } else {
                quote!(#l)
            }
        } else if v.is_nan() {
            quote!(f64::NAN)
        } else if v > 0.0 {
            quote!(f64::INFINITY)
        } else {
            quote!(f64::NEG_INFINITY)
        };
        return quote!(#rt::real::<#t>(#v));
    }
    if v.is_nan() {
        return quote!(#t::NAN);
    }
    if v.is_infinite() {
        return if v > 0.0 {
            quote!(#t::INFINITY)
        } else {
            quote!(#t::NEG_INFINITY)
        };
    }
    #[allow(clippy::cast_possible_truncation)]
    let l = match f {
        Float::F64 => Literal::f64_suffixed(v.abs()),
        Float::F32 | Float::Generic(_) => Literal::f32_suffixed((v as f32).abs()),
    };
    if v.is_sign_negative() {
        quote!((-#l))
    } else {
        quote!(#l)
    }
}

/// Names as seen while emitting one node (or one contribution from `consumer`).
struct At<'a> {
    cx: &'a Emit<'a>,
    /// The node whose `Grad` operands refer to (the consumer).
    consumer: NodeId,
    /// The buffer matrix forward rules write into.
    out: TokenStream,
}

impl Names for At<'_> {
    fn rt(&self) -> TokenStream {
        rt()
    }
    fn out(&self) -> TokenStream {
        self.out.clone()
    }
    fn view(&self, id: NodeId) -> TokenStream {
        self.cx.view(id)
    }
    fn buffer(&self, id: NodeId) -> TokenStream {
        let v = val(id);
        quote!(#v)
    }
    fn scalar(&self, id: NodeId) -> TokenStream {
        self.cx.scalar(id)
    }
    fn sym(&self, s: &Sym) -> TokenStream {
        self.cx.sym(s, self.consumer, 0)
    }
    fn text(&self, id: NodeId) -> TokenStream {
        let t = &self.cx.g.node(id).text;
        quote!(#t)
    }
    fn aux(&self, id: NodeId) -> (TokenStream, TokenStream) {
        let (a, w) = (aux(id), aux_scratch(id));
        (quote!(#a), quote!(#w))
    }
    fn temps(&self, id: NodeId) -> TokenStream {
        let t = (0..rules::chain_temps(self.cx.g, id)).map(|k| chain_temp(id, k, false));
        quote!(&mut [#(&mut #t),*])
    }
    fn differentiated(&self, id: NodeId) -> bool {
        self.cx.adj.is_differentiated(id)
    }
}

struct Emit<'a> {
    g: &'a Graph,
    sig: &'a Signature,
    adj: &'a Adjoints,
    /// Workspace slots taken so far: (variable, slot).
    slots: RefCell<Vec<(Ident, usize)>>,
    ws: Ident,
    /// The adjoints that are not stored (see [`fuse`]).
    lazy: Vec<Option<Lazy>>,
}

impl Emit<'_> {
    fn param(&self, id: NodeId) -> Option<&Param> {
        match self.g.node(id).op {
            Op::Param(i) => self.sig.params.get(i),
            _ => None,
        }
    }

    fn view(&self, id: NodeId) -> TokenStream {
        let rt = rt();
        match self.param(id) {
            Some(p) if p.by_ref => {
                let name = &p.name;
                quote!(#rt::view(#name))
            }
            Some(p) => {
                let name = &p.name;
                quote!(#rt::view(&#name))
            }
            None => {
                let v = val(id);
                quote!(#rt::view(&#v))
            }
        }
    }

    fn scalar(&self, id: NodeId) -> TokenStream {
        match self.param(id) {
            Some(p) if p.by_ref => {
                let name = &p.name;
                quote!((*#name))
            }
            Some(p) => {
                let name = &p.name;
                quote!(#name)
            }
            None => {
                let v = val(id);
                quote!(#v)
            }
        }
    }

    fn operand(&self, o: Operand, consumer: NodeId) -> TokenStream {
        let rt = rt();
        match o {
            Operand::Grad => {
                let g = adj(consumer);
                quote!(#rt::view(&#g))
            }
            Operand::Value(id) => self.view(id),
            Operand::Aux(id) => {
                let a = aux(id);
                quote!(#rt::view(&#a))
            }
            Operand::Adj(id) => {
                let a = adj(id);
                quote!(#rt::view(&#a))
            }
            Operand::Part(id, k) => {
                let p = part(id, k);
                quote!(#rt::view(&#p))
            }
        }
    }

    /// The entries of an operand as a column-major slice (every operand is an owned,
    /// contiguous matrix).
    fn slice(&self, o: Operand) -> TokenStream {
        let name = match o {
            Operand::Value(id) => match self.param(id) {
                Some(p) => {
                    let n = &p.name;
                    quote!(#n)
                }
                None => {
                    let v = val(id);
                    quote!(#v)
                }
            },
            Operand::Aux(id) => {
                let a = aux(id);
                quote!(#a)
            }
            Operand::Adj(_) | Operand::Grad => {
                let a = adj(id_of(o));
                quote!(#a)
            }
            Operand::Part(id, k) => {
                let p = part(id, k);
                quote!(#p)
            }
        };
        quote!(#name.as_slice())
    }

    /// Takes a fresh workspace slot into a new variable `name`.
    fn take(&self, name: &Ident) -> TokenStream {
        let mut slots = self.slots.borrow_mut();
        let k = slots.len();
        slots.push((name.clone(), k));
        let ws = &self.ws;
        quote!(let mut #name = #ws.take(#k);)
    }

    /// A scalar expression (see [`scalar::sym`]).
    fn sym(&self, s: &Sym, consumer: NodeId, prec: u8) -> TokenStream {
        scalar::sym(self, s, consumer, prec)
    }

    fn forward(&self, id: NodeId) -> TokenStream {
        let node = self.g.node(id);
        match &node.op {
            Op::Loop(l) => return self.loop_forward(id, l),
            Op::LoopOut(j) => return self.loop_out_forward(id, *j),
            Op::UserCall(u) => return self.user_call_forward(id, u),
            _ => {}
        }
        let t = float_ty(&self.g.float);
        let v = val(id);
        let mut pre = TokenStream::new();
        if rules::needs_aux(self.g, id) {
            pre.extend(self.take(&aux(id)));
            pre.extend(self.take(&aux_scratch(id)));
        }
        for k in 0..rules::chain_temps(self.g, id) {
            pre.extend(self.take(&chain_temp(id, k, false)));
        }
        let at = At {
            cx: self,
            consumer: id,
            out: quote!(#v),
        };
        match rules::forward(self.g, id, &at) {
            Forward::Nothing => pre,
            Forward::Scalar(e) => quote!(#pre let #v: #t = #e;),
            Forward::Matrix(stmt) => {
                debug_assert!(matches!(node.kind, Kind::Matrix(_)));
                let take = self.take(&v);
                quote!(#pre #take #stmt)
            }
        }
    }

    /// What [`Emit::forward`] binds for node `id`, taken back from the workspace
    /// where a forward pass left it, nothing computed: the same slots in the same
    /// order (a matrix value, its aux and product buffers). A scalar value is
    /// `None` here; [`scalars_slot`] holds it.
    fn restore(&self, id: NodeId) -> TokenStream {
        let node = self.g.node(id);
        let v = val(id);
        if matches!(node.op, Op::Loop(_) | Op::LoopOut(_) | Op::UserCall(_)) {
            return if node.kind.is_matrix() {
                self.take(&v)
            } else {
                TokenStream::new()
            };
        }
        let mut pre = TokenStream::new();
        if rules::needs_aux(self.g, id) {
            pre.extend(self.take(&aux(id)));
            pre.extend(self.take(&aux_scratch(id)));
        }
        for k in 0..rules::chain_temps(self.g, id) {
            pre.extend(self.take(&chain_temp(id, k, false)));
        }
        let at = At {
            cx: self,
            consumer: id,
            out: quote!(#v),
        };
        match rules::forward(self.g, id, &at) {
            Forward::Matrix(_) => {
                let take = self.take(&v);
                quote!(#pre #take)
            }
            Forward::Nothing | Forward::Scalar(_) => pre,
        }
    }

    /// The nodes whose forward value is a scalar local (kept in [`scalars_slot`]
    /// between a step function's two passes).
    fn scalar_locals(&self) -> Vec<NodeId> {
        (0..self.g.nodes.len())
            .filter(|&id| {
                let node = self.g.node(id);
                !node.kind.is_matrix() && !matches!(node.op, Op::Param(_))
            })
            .collect()
    }

    /// The statements defining the adjoint of node `t` from its contributions.
    fn adjoint(&self, t: NodeId, into: Option<&Param>) -> TokenStream {
        let f = self.g.float.clone();
        let ty = float_ty(&f);
        let g = adj(t);
        let incoming = self.adj.incoming_to(t);
        let node = self.g.node(t);
        if !node.kind.is_matrix() {
            let mut total = if t == self.g.output {
                Sym::Lit(1.0)
            } else {
                Sym::Lit(0.0)
            };
            let mut parts = Vec::new();
            for (c, contrib) in incoming {
                if let Contrib::Scalar(s) = contrib {
                    parts.push(self.sym(s, *c, 1));
                }
            }
            if parts.is_empty() {
                let e = self.sym(&total, t, 0);
                return quote!(let #g: #ty = #e;);
            }
            if !total.is_lit(0.0) {
                parts.insert(
                    0,
                    self.sym(&std::mem::replace(&mut total, Sym::Lit(0.0)), t, 1),
                );
            }
            return quote!(let #g: #ty = #(#parts)+*;);
        }
        if into.is_none() {
            match self.lazy.get(t).and_then(Option::as_ref) {
                Some(Lazy::Product {
                    alpha,
                    a,
                    ta,
                    b,
                    tb,
                }) => return self.product_adjoint(t, alpha, (*a, *ta), (*b, *tb)),
                Some(_) => return TokenStream::new(),
                None => {}
            }
        }
        let rt = rt();
        let mut out = match into {
            Some(p) => {
                let o = grad_out(p);
                quote!(let mut #g = #rt::GradBuf::take_matrix(#o);)
            }
            None => self.take(&g),
        };
        if incoming.is_empty() {
            let v = self.view(t);
            let zero = lit(0.0, &f);
            out.extend(quote!(#rt::fill_to(&mut #g, false, #zero, #v.nrows(), #v.ncols());));
            return out;
        }
        // One pass for the sum of the elementwise contributions, then the others in place.
        let mut elementwise: Option<Fused> = None;
        let mut rest = Vec::new();
        for (_, c) in incoming {
            let c = fuse::fold_aliases(c, &self.lazy);
            match c.elementwise() {
                Some((ops, f)) => {
                    let e = Fused { ops, f }.expand(&self.lazy);
                    elementwise = Some(match elementwise {
                        None => e,
                        Some(sum) => sum.plus(e),
                    });
                }
                None => rest.push(c),
            }
        }
        let mut acc = false;
        if let Some(e) = elementwise {
            out.extend(self.fused(t, &e));
            acc = true;
        }
        for c in &rest {
            out.extend(self.lower(c, t, t, acc));
            acc = true;
        }
        out
    }

    /// After a chain's adjoint: the adjoints of the products inside it (see
    /// `matgrad_runtime::__private::chain_backward`), from which each factor's adjoint
    /// is one product.
    fn chain_backward(&self, t: NodeId) -> TokenStream {
        let n = rules::chain_temps(self.g, t);
        if n == 0 {
            return TokenStream::new();
        }
        let rt = rt();
        let mut out = TokenStream::new();
        let memo: Vec<Ident> = (0..n).map(|k| chain_temp(t, k, true)).collect();
        for m in &memo {
            out.extend(self.take(m));
        }
        let temps = (0..n).map(|k| chain_temp(t, k, false));
        let args = &self.g.node(t).args;
        let views = args.iter().map(|&a| self.view(a));
        let need = args.iter().map(|&a| self.adj.is_differentiated(a));
        let g = adj(t);
        out.extend(quote! {
            #rt::chain_backward(&[#(#views),*], &[#(&#temps),*], #rt::view(&#g), &[#(#need),*], &mut [#(&mut #memo),*]);
        });
        out
    }

    /// The product adjoint `adjoint(t) = alpha · op(a) · op(b)`, read only by products:
    /// stored when that costs fewer multiply-adds than letting each reader multiply
    /// a chain of three in its cheaper order, which the shapes decide at run time.
    fn product_adjoint(
        &self,
        t: NodeId,
        alpha: &Sym,
        (a, ta): (Operand, bool),
        (b, tb): (Operand, bool),
    ) -> TokenStream {
        let rt = rt();
        let (g, chained) = (adj(t), chain_flag(t));
        let o = |x: Operand| self.operand(x, t);
        let readers = self
            .adj
            .incoming
            .iter()
            .flatten()
            .filter_map(|(_, c)| fuse::chain(&fuse::fold_aliases(c, &self.lazy), &self.lazy))
            .filter(|ch| ch.of == t);
        let costs = readers.map(|ch| {
            let [(f0, t0), (f1, t1), (f2, t2)] = ch.factors;
            let (f0, f1, f2, left) = (o(f0), o(f1), o(f2), ch.left);
            quote!(#rt::mul3_costs(#f0, #t0, #f1, #t1, #f2, #t2, #left))
        });
        let (va, vb, s) = (o(a), o(b), self.sym(alpha, t, 0));
        let take = self.take(&g);
        // Local names with mixed-site hygiene: the user's parameters stay visible.
        let (sum_c, sum_s, c, s1) = (
            mixed("__mg_chained"),
            mixed("__mg_stored"),
            mixed("__mg_c"),
            mixed("__mg_s"),
        );
        quote! {
            #take
            let #chained: bool = {
                let (mut #sum_c, mut #sum_s) = (0usize, #rt::product_cost(#va, #ta, #vb, #tb));
                #(
                    let (#c, #s1) = #costs;
                    #sum_c += #c;
                    #sum_s += #s1;
                )*
                #sum_c < #sum_s
            };
            if !#chained {
                #rt::gemm_to(&mut #g, false, #s, #va, #ta, #vb, #tb);
            }
        }
    }

    /// `adjoint(t) = e` (entrywise) in one pass.
    fn fused(&self, t: NodeId, e: &Fused) -> TokenStream {
        let rt = rt();
        let g = adj(t);
        let v = self.view(t);
        let slices: Vec<TokenStream> = e.ops.iter().map(|o| self.slice(*o)).collect();
        let params: Vec<Ident> = (0..e.ops.len())
            .map(|k| mixed(&format!("__mg_a{k}")))
            .collect();
        let f = self.sym(&e.f, t, 0);
        quote!(#rt::zip_n_to(&mut #g, false, #v.nrows(), #v.ncols(), [#(#slices),*], |[#(#params),*]| #f);)
    }

    fn lower(&self, contrib: &Contrib, t: NodeId, c: NodeId, acc: bool) -> TokenStream {
        let rt = rt();
        let g = adj(t);
        let o = |x: &Operand| self.operand(*x, c);
        let s = |x: &Sym| self.sym(x, c, 0);
        let shape = || {
            let v = self.view(t);
            quote!(#v.nrows(), #v.ncols())
        };
        match contrib {
            Contrib::Axpy { alpha, a, ta } => {
                let (alpha, a) = (s(alpha), o(a));
                quote!(#rt::axpy_to(&mut #g, #acc, #alpha, #a, #ta);)
            }
            Contrib::Gemm { .. } => self.lower_gemm(contrib, t, c, acc),
            Contrib::Chain { alpha, factors } => {
                let (alpha, factors) = fuse::splice(alpha, factors, &self.lazy);
                let mut take = TokenStream::new();
                let temps: Vec<Ident> = (0..factors.len().saturating_sub(2))
                    .map(|_| {
                        let w = mixed(&format!("__mg_w{}", self.slots.borrow().len()));
                        take.extend(self.take(&w));
                        w
                    })
                    .collect();
                let fs = factors.iter().map(|(f, t)| {
                    let f = o(f);
                    quote!((#f, #t))
                });
                let alpha = s(&alpha);
                quote! {
                    #take
                    #rt::chain_product_to(&mut #g, #acc, #alpha, &[#(#fs),*], &mut [#(&mut #temps),*]);
                }
            }
            Contrib::ChainFactor {
                alpha,
                g: chain,
                factor,
            } => {
                let ch = id_of(*chain);
                let n = rules::chain_temps(self.g, ch);
                let views = self.g.node(ch).args.iter().map(|&a| self.view(a));
                let temps = (0..n).map(|k| chain_temp(ch, k, false));
                let memo = (0..n).map(|k| chain_temp(ch, k, true));
                let (alpha, gc) = (s(alpha), o(chain));
                quote! {
                    #rt::chain_factor_adjoint_to(&mut #g, #acc, #alpha, #factor, &[#(#views),*], &[#(&#temps),*], &[#(&#memo),*], #gc);
                }
            }
            Contrib::Hadamard { alpha, a, b } => {
                let (alpha, a, b) = (s(alpha), o(a), o(b));
                quote!(#rt::hadamard_to(&mut #g, #acc, #alpha, #a, #b);)
            }
            Contrib::Fill(x) => {
                let (x, sh) = (s(x), shape());
                quote!(#rt::fill_to(&mut #g, #acc, #x, #sh);)
            }
            Contrib::Diag(x) => {
                let (x, v) = (s(x), self.view(t));
                quote!(#rt::add_diag_to(&mut #g, #acc, #x, #v.nrows());)
            }
            Contrib::Index(x, i, j) => {
                let (x, sh, i, j) = (s(x), shape(), i.tokens(), j.tokens());
                quote!(#rt::index_adjoint_to(&mut #g, #acc, #x, #i, #j, #sh);)
            }
            Contrib::ZipMap(args, f) => {
                let ops: Vec<_> = args.iter().map(o).collect();
                let params: Vec<_> = (0..args.len())
                    .map(|k| mixed(&format!("__mg_a{k}")))
                    .collect();
                let f = s(f);
                let kernel = if args.len() == 3 {
                    quote!(zip3_map_to)
                } else {
                    quote!(zip_map_to)
                };
                quote!(#rt::#kernel(&mut #g, #acc, #(#ops),*, |#(#params),*| #f);)
            }
            Contrib::Kernel(kernel, args) => self.lower_kernel(*kernel, args, t, c, acc),
            Contrib::Scalar(_) => TokenStream::new(),
        }
    }
    /// `adjoint(t) (+)= alpha · op(a) · op(b)`: a product kernel, a broadcast of sums
    /// when a factor is all ones, or a chain of three when the product adjoint it
    /// reads is not stored.
    fn lower_gemm(&self, contrib: &Contrib, t: NodeId, c: NodeId, acc: bool) -> TokenStream {
        let Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } = contrib
        else {
            return TokenStream::new();
        };
        let rt = rt();
        let g = adj(t);
        let o = |x: &Operand| self.operand(*x, c);
        let s = |x: &Sym| self.sym(x, c, 0);
        // A factor all ones (a sum's adjoint): sums of the other factor, broadcast.
        if let Some((fill, scale, left)) = fuse::filled(contrib, &self.lazy) {
            let v = self.view(fill);
            let alpha = s(&Sym::mul(alpha.clone(), scale));
            let w = mixed(&format!("__mg_w{}", self.slots.borrow().len()));
            let take = self.take(&w);
            return if left {
                let (b, rows) = (o(b), if *ta { quote!(ncols) } else { quote!(nrows) });
                quote!(#take #rt::ones_mul_to(&mut #g, #acc, #alpha, #v.#rows(), #b, #tb, &mut #w);)
            } else {
                let (a, cols) = (o(a), if *tb { quote!(nrows) } else { quote!(ncols) });
                quote!(#take #rt::mul_ones_to(&mut #g, #acc, #alpha, #a, #ta, #v.#cols(), &mut #w);)
            };
        }
        let stored = {
            let (alpha, a, b) = (s(alpha), o(a), o(b));
            quote!(#rt::gemm_to(&mut #g, #acc, #alpha, #a, #ta, #b, #tb);)
        };
        let Some(ch) = fuse::chain(contrib, &self.lazy) else {
            return stored;
        };
        let [(f0, t0), (f1, t1), (f2, t2)] = ch.factors;
        let (f0, f1, f2, alpha) = (o(&f0), o(&f1), o(&f2), s(&ch.alpha));
        let (chained, k) = (chain_flag(ch.of), self.slots.borrow().len());
        let tmp = mixed(&format!("__mg_w{k}"));
        let take = self.take(&tmp);
        quote! {
            #take
            if #chained {
                #rt::mul3_to(&mut #g, #acc, #alpha, #f0, #t0, #f1, #t1, #f2, #t2, &mut #tmp);
            } else {
                #stored
            }
        }
    }

    /// `adjoint(t) (+)= kernel(args…)`: the rule's runtime kernel, with scratch buffers
    /// from the workspace.
    fn lower_kernel(
        &self,
        kernel: KernelRef,
        args: &[KArg],
        t: NodeId,
        c: NodeId,
        acc: bool,
    ) -> TokenStream {
        let rt = rt();
        let g = adj(t);
        let o = |x: &Operand| self.operand(*x, c);
        let s = |x: &Sym| self.sym(x, c, 0);
        let name = Ident::new(kernel.runtime(), Span::call_site());
        let mut pre = TokenStream::new();
        let mut toks = Vec::new();
        for a in args {
            toks.push(match a {
                KArg::Scal(x) => s(x),
                KArg::Mat(x) => o(x),
                KArg::Count(c) => c.tokens(),
                KArg::Scratch => {
                    let k = self.slots.borrow().len();
                    let w = mixed(&format!("__mg_w{k}"));
                    pre.extend(self.take(&w));
                    quote!(&mut #w)
                }
            });
        }
        quote!(#pre #rt::#name(&mut #g, #acc, #(#toks),*);)
    }
}

impl Emit<'_> {
    /// After the sweep: the gradient of parameter `i` into its output `grad_<name>`
    /// (a static one copied out of its slot; zero when the value does not depend on it).
    fn write_out(&self, i: usize) -> TokenStream {
        let (g, adjoints, sig) = (self.g, self.adj, self.sig);
        let Some(p) = sig.params.get(i) else {
            return TokenStream::new();
        };
        let rt = rt();
        let o = grad_out(p);
        let gid = adj(i);
        let differentiated = adjoints.differentiated.get(i).copied().unwrap_or(false);
        let zero = lit(0.0, &g.float);
        if !is_dynamic(p.kind) && p.kind.is_matrix() {
            return if differentiated {
                quote!(#o.copy_from(&#gid);)
            } else {
                quote!(#o.fill(#zero);)
            };
        }
        match (p.kind.is_matrix(), differentiated) {
            (true, true) => quote!(#rt::GradBuf::put_matrix(#o, #gid);),
            (true, false) => {
                let v = self.view(i);
                quote!(
                    let mut #gid = #rt::GradBuf::take_matrix(#o);
                    #rt::fill_to(&mut #gid, false, #zero, #v.nrows(), #v.ncols());
                    #rt::GradBuf::put_matrix(#o, #gid);
                )
            }
            (false, true) => quote!(*#o = #gid;),
            (false, false) => quote!(*#o = #zero;),
        }
    }

    /// Where the adjoint of node `id` is written: a dynamic parameter's gradient in its
    /// output buffer, anything else in a workspace slot.
    fn target_of(&self, id: NodeId) -> Option<&Param> {
        let node = self.g.node(id);
        match node.op {
            Op::Param(i) => self.sig.params.get(i).filter(|_| is_dynamic(node.kind)),
            _ => None,
        }
    }
}

/// The names `NAME_hessian`'s loop works with (see [`hessian_sweeps`]).
pub(crate) struct HessianNames {
    /// The direction buffer, shaped like the variable.
    pub dir: Ident,
    /// The gradient buffer.
    pub g: Ident,
    /// The Hessian-vector product buffer.
    pub hv: Ident,
    /// The Hessian.
    pub h: Ident,
    /// The number of entries of the variable.
    pub n: Ident,
}

/// The body of `NAME_hessian` for the dynamic backend, from the tangent graph's
/// input (its `wrt`: the direction, then the variable): ḟ is linear in the tangents,
/// so the adjoints of the tangent nodes are the first-order adjoints, the same for
/// every direction. They, the values and the gradient are computed once; then, per
/// unit direction e_j, only the tangents and the adjoints of the values (column j of
/// the Hessian). `None` when the graph holds a chain of products through a tangent
/// (its kept inner products would cross the two halves): then n full HVPs.
pub(crate) fn hessian_sweeps(input: &Input<'_>, names: &HessianNames) -> Option<TokenStream> {
    let Input {
        sig,
        wrt,
        graph: g,
        adjoints,
        value: value_node,
        ..
    } = *input;
    let (&d, &w) = (wrt.first()?, wrt.get(1)?);
    let (dp, wp) = (sig.params.get(d)?, sig.params.get(w)?);
    let dep = g.active(&[d]);
    let n_nodes = g.nodes.len();
    if (0..n_nodes).any(|id| crate::ir::flag(&dep, id) && rules::chain_temps(g, id) > 0) {
        return None;
    }
    // A run-time loop's passes are written by `looped`, around its step functions:
    // whole HVPs then.
    if g.nodes.iter().any(|n| matches!(n.op, Op::Loop(_))) {
        return None;
    }
    let ws = mixed("ws");
    let cx = Emit {
        g,
        sig,
        adj: adjoints,
        slots: RefCell::new(Vec::new()),
        ws: ws.clone(),
        lazy: fuse::plan(g, adjoints),
    };
    let t = float_ty(&g.float);
    let (one, zero) = (lit(1.0, &g.float), lit(0.0, &g.float));
    let HessianNames {
        dir,
        g: gbuf,
        hv,
        h,
        n,
    } = names;
    let (dname, go, ho) = (&dp.name, grad_out(dp), grad_out(wp));
    let (i, j) = (mixed("__mg_i"), mixed("__mg_j"));
    let dependent = |id: NodeId| crate::ir::flag(&dep, id);

    // Once: every value (the tangents along the zero direction, which only give
    // their buffers), the first-order adjoints, the gradient.
    let mut once = quote!(let #dname = &#dir; let #go = &mut #gbuf;);
    for id in 0..n_nodes {
        once.extend(cx.forward(id));
    }
    let value = mixed("__mg_value");
    let out = cx.scalar(value_node);
    once.extend(quote!(let #value: #t = #out;));
    for id in (0..n_nodes).rev().filter(|&id| dependent(id)) {
        if adjoints.is_differentiated(id) {
            once.extend(cx.adjoint(id, cx.target_of(id)));
            once.extend(cx.chain_backward(id));
        }
    }
    once.extend(cx.write_out(d));
    let outer = cx.slots.borrow().len();

    // Per direction: the tangents, then the adjoints of the values.
    let mut each = quote!(let #dname = &#dir; let #ho = &mut #hv;);
    for id in (0..n_nodes).filter(|&id| dependent(id)) {
        each.extend(cx.forward(id));
    }
    for id in (0..n_nodes).rev().filter(|&id| !dependent(id)) {
        if adjoints.is_differentiated(id) {
            each.extend(cx.adjoint(id, cx.target_of(id)));
            each.extend(cx.chain_backward(id));
        }
    }
    each.extend(cx.write_out(w));
    let slots = cx.slots.borrow();
    for (name, k) in slots.iter().skip(outer) {
        each.extend(quote!(#ws.put(#k, #name);));
    }
    let puts = slots
        .iter()
        .take(outer)
        .map(|(name, k)| quote!(#ws.put(#k, #name);));
    Some(quote! {
        #once
        for #j in 0..#n {
            #dir[#j] = #one;
            {
                #each
                for #i in 0..#n {
                    #h[(#i, #j)] = #ho[#i];
                }
            }
            #dir[#j] = #zero;
        }
        #(#puts)*
        #value
    })
}

/// The body of `NAME_grad_into` for the first-order `input`, then the statements
/// writing the dense Hessian of the variable `w` (a node) into the `DMatrix` `h` from
/// its structure's `pieces` (see [`crate::hessian_structure`]), on the forward pass's values.
pub(crate) fn structured_hessian(
    input: &Input<'_>,
    pieces: &[crate::hessian_structure::Piece],
    w: NodeId,
    h: &Ident,
) -> TokenStream {
    let then = |cx: &Emit<'_>| crate::hessian_structure::lower(pieces, w, h, cx);
    body_then(input, false, Some(&then))
}

impl crate::hessian_structure::Lowering for Emit<'_> {
    fn view(&self, id: NodeId) -> TokenStream {
        Emit::view(self, id)
    }
    fn slice(&self, id: NodeId) -> TokenStream {
        Emit::slice(self, Operand::Value(id))
    }
    fn sym(&self, s: &Sym) -> TokenStream {
        Emit::sym(self, s, 0, 0)
    }
    fn scratch(&self) -> (TokenStream, Ident) {
        let w = mixed(&format!("__mg_w{}", self.slots.borrow().len()));
        (self.take(&w), w)
    }
}

impl scalar::Leaves for Emit<'_> {
    fn float(&self) -> crate::ir::Float {
        self.g.float.clone()
    }
    fn scalar(&self, id: NodeId) -> TokenStream {
        Emit::scalar(self, id)
    }
    fn operand(&self, o: Operand, consumer: NodeId) -> TokenStream {
        Emit::operand(self, o, consumer)
    }
    fn len(&self, o: Operand, consumer: NodeId) -> (TokenStream, u8) {
        let (o, t) = (Emit::operand(self, o, consumer), float_ty(&self.g.float));
        (quote!((#o.len() as #t)), 4)
    }
    fn zip_sum(&self, args: &[Operand], body: &Sym, consumer: NodeId) -> (TokenStream, u8) {
        let rt = rt();
        let ops: Vec<_> = args
            .iter()
            .map(|o| Emit::operand(self, *o, consumer))
            .collect();
        let params: Vec<_> = (0..args.len())
            .map(|k| mixed(&format!("__mg_a{k}")))
            .collect();
        let body = self.sym(body, consumer, 0);
        let kernel = if args.len() == 3 {
            quote!(zip3_map_sum)
        } else {
            quote!(zip_map_sum)
        };
        (quote!(#rt::#kernel(#(#ops),*, |#(#params),*| #body)), 4)
    }
}

/// The companions `NAME_grad_into` and `NAME_grad`.
pub fn companions(input: &Input<'_>) -> TokenStream {
    let Input {
        item,
        sig,
        wrt,
        companion,
        ..
    } = *input;
    let wrt_params: Vec<&Param> = wrt.iter().filter_map(|&i| sig.params.get(i)).collect();
    let formulas = match companion {
        Companion::Grad => formula::doc(input),
        Companion::Hvp { .. } => formula::hvp_doc(input),
    };
    // A run-time loop's step function: only the two passes its loop calls (its
    // nested items are then expanded twice, not three times).
    if !input.graph.results.is_empty() {
        let mut out = looped::step_companion(input);
        out.extend(back_signature(item, sig, &wrt_params, &back_body(input)));
        return out;
    }
    signatures(
        item,
        sig,
        &wrt_params,
        &formulas,
        &into_body(input),
        companion,
    )
}

/// The body of `NAME_grad_into` on dynamic sizes: the forward pass, the reverse
/// sweep, the gradients written out, the value.
pub fn into_body(input: &Input<'_>) -> TokenStream {
    body_with(input, false)
}

/// The body of a step function's `NAME_back_into`: [`into_body`] reading the
/// forward values `NAME_step_into` left in the same workspace instead of computing
/// them.
pub fn back_body(input: &Input<'_>) -> TokenStream {
    body_with(input, true)
}

/// The name of the slot holding a step function's scalar forward values.
fn scalars_slot() -> Ident {
    mixed("__mg_scalars")
}

/// [`into_body`]; with `restored`, the forward pass is not run: its values are
/// those a `NAME_step_into` left in the workspace (the `_back_into` of a run-time
/// loop's step function, see [`crate::ir::Loop`]).
fn body_with(input: &Input<'_>, restored: bool) -> TokenStream {
    body_then(input, restored, None)
}

/// [`body_with`], with `then`'s statements after the gradients are written out and
/// before the buffers go back to the workspace (so they read the forward pass's
/// values).
fn body_then(
    input: &Input<'_>,
    restored: bool,
    then: Option<&dyn Fn(&Emit<'_>) -> TokenStream>,
) -> TokenStream {
    let Input {
        sig,
        wrt,
        graph: g,
        adjoints,
        value: value_node,
        ..
    } = *input;
    let ws = mixed("ws");
    let lazy = fuse::plan(g, adjoints);
    let cx = Emit {
        g,
        sig,
        adj: adjoints,
        slots: RefCell::new(Vec::new()),
        ws: ws.clone(),
        lazy,
    };
    let t = float_ty(&g.float);

    let mut body = TokenStream::new();
    for it in &g.items {
        body.extend(it.clone());
    }
    if restored {
        for id in 0..g.nodes.len() {
            body.extend(cx.restore(id));
        }
        let sc = scalars_slot();
        body.extend(cx.take(&sc));
        for (k, id) in cx.scalar_locals().into_iter().enumerate() {
            let v = val(id);
            body.extend(quote!(let #v: #t = #sc[#k];));
        }
    } else {
        for id in 0..g.nodes.len() {
            body.extend(cx.forward(id));
        }
    }
    let value = mixed("__mg_value");
    let out = cx.scalar(value_node);
    body.extend(quote!(let #value: #t = #out;));

    // The reverse sweep: adjoints in reverse order, each defined once from all its contributions.
    for id in (0..g.nodes.len()).rev() {
        if !adjoints.is_differentiated(id) {
            continue;
        }
        // A dynamic gradient is written in its output buffer; a static one (of a
        // function mixing sizes) in a workspace slot, copied out at the end.
        body.extend(cx.adjoint(id, cx.target_of(id)));
        body.extend(cx.chain_backward(id));
        body.extend(cx.loop_backward(id));
        body.extend(cx.user_call_backward(id));
    }
    for &i in wrt.iter() {
        body.extend(cx.write_out(i));
    }
    if let Some(then) = then {
        body.extend(then(&cx));
    }
    for (name, k) in cx.slots.borrow().iter() {
        body.extend(quote!(#ws.put(#k, #name);));
    }
    body.extend(quote!(#value));
    body
}

/// Whether `kind` is a matrix whose size is known only at run time (its gradient
/// buffer is resized in place); static matrices of a function mixing sizes are read
/// through views and their gradients copied out.
fn is_dynamic(kind: Kind) -> bool {
    matches!(kind, Kind::Matrix(s) if !s.is_static())
}

/// The per-thread workspace of a companion that has no `ws` parameter: the
/// `thread_local!` declaring it as `cache`, and the `__private` function that runs a
/// closure with it. A `thread_local!` in a function generic over its float type
/// cannot name `T`: it then holds one workspace per float type.
pub(crate) fn cached_workspace(cache: &Ident, float: &Float) -> (TokenStream, TokenStream) {
    if let Float::Generic(_) = float {
        return (
            quote! {
                ::std::thread_local! {
                    static #cache: ::core::cell::RefCell<::matgrad::__private::Workspaces> =
                        const { ::core::cell::RefCell::new(::matgrad::__private::Workspaces::new()) };
                }
            },
            quote!(with_workspace_of),
        );
    }
    let t = float_ty(float);
    (
        quote! {
            ::std::thread_local! {
                static #cache: ::core::cell::RefCell<::matgrad::Workspace<#t>> =
                    const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
            }
        },
        quote!(with_workspace),
    )
}

/// The companions' generic parameters (the function's own, as written), their `where`
/// clause (the function's, plus `T: ::matgrad::Real` for a generic float `T`: the
/// runtime's kernels exist for `f32` and `f64`), and the turbofish that names the
/// function itself (`::<T>`; lifetimes are left to inference).
pub struct Generics {
    /// `<T: RealField + Copy>`, or nothing.
    pub params: TokenStream,
    /// `where T: RealField + Copy, T: ::matgrad::Real`, or nothing.
    pub bounds: TokenStream,
    /// `::<T>`, or nothing.
    pub turbofish: TokenStream,
}

/// The companions' generics for `item` working in `float` (see [`Generics`]).
pub fn generics(item: &syn::ItemFn, float: &Float) -> Generics {
    let mut g = item.sig.generics.clone();
    let Float::Generic(t) = float else {
        return Generics {
            params: TokenStream::new(),
            bounds: TokenStream::new(),
            turbofish: TokenStream::new(),
        };
    };
    g.make_where_clause()
        .predicates
        .push(syn::parse_quote!(#t: ::matgrad::Real));
    let (params, _, bounds) = g.split_for_impl();
    Generics {
        params: quote!(#params),
        bounds: quote!(#bounds),
        turbofish: quote!(::<#t>),
    }
}

/// The two companions around a body for `_grad_into` (also used by the fallback with
/// an unreachable body).
pub fn signatures(
    item: &syn::ItemFn,
    sig: &Signature,
    wrt: &[&Param],
    doc: &[String],
    into_body: &TokenStream,
    companion: Companion,
) -> TokenStream {
    let vis = &item.vis;
    let name = &item.sig.ident;
    let cfgs: Vec<_> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    let (grad_name, into_name) = companion.names(name);
    let t = float_ty(&sig.float);
    let Generics {
        params: generic_params,
        bounds,
        turbofish,
    } = generics(item, &sig.float);
    let params: Vec<TokenStream> = sig
        .params
        .iter()
        .map(|p| {
            let (n, ty) = (&p.name, &p.ty);
            quote!(#n: #ty)
        })
        .collect();
    let args: Vec<&Ident> = sig.params.iter().map(|p| &p.name).collect();
    let outs: Vec<TokenStream> = wrt
        .iter()
        .map(|p| {
            let (o, ty) = (grad_out(p), &p.owned);
            quote!(#o: &mut #ty)
        })
        .collect();
    let owned: Vec<&TokenStream> = wrt.iter().map(|p| &p.owned).collect();
    let locals: Vec<Ident> = wrt.iter().map(|p| grad_out(p)).collect();
    let ws = mixed("ws");
    let value = mixed("__mg_value");
    let cache = format_ident!("__MATGRAD_WORKSPACE");
    let (head, into_head) = heads(name, wrt, companion, false);
    let hidden = match companion {
        Companion::Hvp { hidden: true } => quote!(#[doc(hidden)] #[allow(dead_code)]),
        _ => TokenStream::new(),
    };
    let doc_lines = doc.iter();
    let doc_lines2 = doc.iter();
    let (cached, with) = cached_workspace(&cache, &sig.float);
    quote! {
        #(#cfgs)*
        #hidden
        #[doc = #head]
        #[doc = ""]
        #(#[doc = #doc_lines])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, non_snake_case)]
        #vis fn #grad_name #generic_params (#(#params),*) -> (#t, #(#owned),*) #bounds {
            #cached
            #(let mut #locals: #owned = ::core::default::Default::default();)*
            let #value = ::matgrad::__private::#with(&#cache, |#ws| {
                #into_name(#(#args,)* #(&mut #locals,)* #ws)
            });
            (#value, #(#locals),*)
        }

        #(#cfgs)*
        #hidden
        #[doc = #into_head]
        #[doc = ""]
        #(#[doc = #doc_lines2])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, unused_mut, non_snake_case, dead_code)]
        #vis fn #into_name #generic_params (#(#params,)* #(#outs,)* #ws: &mut ::matgrad::Workspace<#t>) -> #t #bounds {
            // The companions stand for `NAME`: a crate that calls only them does not
            // get "function `NAME` is never used".
            #[allow(deprecated)]
            let _ = #name #turbofish;
            #into_body
        }
    }
}

/// The first doc lines of `NAME_grad` (or `NAME_hvp`) and of its `_into` form, for
/// dynamic sizes or (`fixed`) for the static backend.
pub(crate) fn heads(
    name: &Ident,
    wrt: &[&Param],
    companion: Companion,
    fixed: bool,
) -> (String, String) {
    let (grad_name, _) = companion.names(name);
    let list = |ps: &[&Param]| {
        ps.iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (what, outs, vars) = match companion {
        Companion::Grad => (
            "Value and gradient of".to_owned(),
            "the gradients into `grad_*`".to_owned(),
            list(wrt),
        ),
        Companion::Hvp { .. } => {
            // `wrt` here is the tangent graph's: the directions, then the variables.
            let (dirs, vars) = wrt.split_at(wrt.len() / 2);
            (
                format!(
                    "Value, gradient and Hessian-vector product (reverse mode over the forward-mode tangent, exact to rounding): `(f, ∇f, ∇²f·v)` for the direction {} (one per variable, in the same order, each shaped like its variable), of",
                    list(dirs)
                ),
                "the gradients, then the Hessian-vector products, into the `&mut` outputs".to_owned(),
                list(vars),
            )
        }
    };
    let into = companion.names(name).1;
    if fixed {
        (
            format!(" {what} [`{name}`] with respect to {vars}, derived by `#[grad]`. Every matrix has a static size: the code works on stack values with nalgebra's static kernels and allocates nothing."),
            format!(" [`{grad_name}`] writing {outs}. Returns the value of [`{name}`]. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes."),
        )
    } else {
        (
            format!(" {what} [`{name}`] with respect to {vars}, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`{into}`] takes yours)."),
            format!(" [`{grad_name}`] writing {outs} (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`{name}`]."),
        )
    }
}

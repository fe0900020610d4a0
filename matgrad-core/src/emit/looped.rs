//! The two passes of a run-time loop on the dynamic backend (the rest of its rule
//! is [`crate::rules::looped`]), and the `_step_into` companion of a step function.
//!
//! Forward: the carried values before iteration `i` are saved in the workspace
//! stack of the loop (`C` buffers per iteration, a scalar as a 1×1 matrix), and
//! `step_step_into` computes those of iteration `i + 1`. Reverse (after the node's
//! own adjoint): from `λ` (the node's adjoint for its variable, zero for the others),
//! `step_grad_into` at the values saved for iteration `i`, seeded with `λ`, gives the
//! next `λ` and the read values' adjoints, summed into [`Operand::Part`] buffers.
//! Every buffer is the workspace's: once the trip count and the shapes are steady,
//! neither pass allocates.
//!
//! [`Operand::Part`]: crate::sym::Operand::Part

use super::{adj, float_ty, lit, mixed, part, rt, val, Emit, Input};
use crate::ir::{Kind, Loop, NodeId, Op};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// How the values a loop's body reads are passed to its step function.
struct Reads {
    /// Before the call(s): locals moved into the step's vector types.
    pre: TokenStream,
    /// The arguments.
    args: Vec<TokenStream>,
    /// After: the locals moved back.
    post: TokenStream,
}

impl Emit<'_> {
    /// The read values of loop node `id` (args after the carried ones).
    fn loop_reads(&self, id: NodeId, l: &Loop) -> Reads {
        let rt = rt();
        let t = float_ty(&self.g.float);
        let t = quote!(#t);
        let mut reads = Reads {
            pre: TokenStream::new(),
            args: Vec::new(),
            post: TokenStream::new(),
        };
        for (m, &a) in self
            .g
            .node(id)
            .args
            .iter()
            .enumerate()
            .skip(l.carried.len())
        {
            let kind = self.g.node(a).kind;
            let arg = match (self.param(a), kind) {
                (Some(p), Kind::Matrix(_)) if p.by_ref => {
                    let n = &p.name;
                    quote!(#n)
                }
                (Some(p), Kind::Matrix(_)) => {
                    let n = &p.name;
                    quote!(&#n)
                }
                (Some(p), Kind::Scalar) => {
                    let n = &p.name;
                    quote!(#n)
                }
                (None, Kind::Scalar) => self.scalar(a),
                (None, kind) => {
                    let (v, typed) = (val(a), mixed(&format!("__mg_read{id}_{m}")));
                    let ty = Loop::value_type(kind, &t).unwrap_or_default();
                    reads
                        .pre
                        .extend(quote!(let #typed: #ty = #rt::loop_take(&mut #v);));
                    reads.post.extend(quote!(#rt::loop_put(&mut #v, #typed);));
                    quote!(&#typed)
                }
            };
            reads.args.push(arg);
        }
        reads.args.extend(l.extra.iter().cloned());
        reads
    }

    /// The forward pass of loop node `id`: its value, the carried values saved.
    pub(super) fn loop_forward(&self, id: NodeId, l: &Loop) -> TokenStream {
        let rt = rt();
        let (ws, f) = (&self.ws, &self.g.float);
        let t = float_ty(f);
        let tt = quote!(#t);
        let node = self.g.node(id);
        let (c, k) = (l.carried.len(), l.ordinal);
        let (stack, lo, n, i) = (
            mixed(&format!("__mg_stack{id}")),
            mixed("__mg_lo"),
            mixed("__mg_n"),
            mixed("__mg_i"),
        );
        let (cur, next) = (mixed("__mg_cur"), mixed("__mg_next"));
        let (start, end) = (l.start.tokens(), l.end.tokens());
        let (one, zero) = (lit(1.0, f), lit(0.0, f));
        let mut init = TokenStream::new();
        let (mut take, mut put, mut ins, mut outs) = (
            TokenStream::new(),
            TokenStream::new(),
            Vec::new(),
            Vec::new(),
        );
        for (j, kind) in l.carried.iter().enumerate() {
            let a = node.args.get(j).copied().unwrap_or(id);
            let (x, y) = (
                mixed(&format!("__mg_in{j}")),
                mixed(&format!("__mg_out{j}")),
            );
            if kind.is_matrix() {
                let ty = Loop::value_type(*kind, &tt).unwrap_or_default();
                let v = self.view(a);
                init.extend(quote!(#rt::axpy_to(&mut #stack[#j], false, #one, #v, false);));
                take.extend(quote! {
                    let #x: #ty = #rt::loop_take(&mut #cur[#j]);
                    let mut #y: #ty = #rt::loop_take(&mut #next[#j]);
                });
                put.extend(quote! {
                    #rt::loop_put(&mut #cur[#j], #x);
                    #rt::loop_put(&mut #next[#j], #y);
                });
                ins.push(quote!(&#x));
            } else {
                let s = self.scalar(a);
                init.extend(quote!(#rt::set_scalar(&mut #stack[#j], #s);));
                take.extend(quote! {
                    let #x: #t = #cur[#j][(0, 0)];
                    let mut #y: #t = #zero;
                });
                put.extend(quote!(#rt::set_scalar(&mut #next[#j], #y);));
                ins.push(quote!(#x));
            }
            outs.push(quote!(&mut #y));
        }
        let Reads { pre, args, post } = self.loop_reads(id, l);
        let step_into = format_ident!("{}_step_into", l.step);
        let r = l.result;
        let last = quote!(#stack[#n * #c + #r]);
        let run = quote! {
            let #lo: usize = #start;
            let #n: usize = (#end).saturating_sub(#lo);
            let mut #stack = #ws.take_stack(#k);
            #rt::loop_stack(&mut #stack, (#n + 1) * #c);
            #init
            #pre
            for #i in 0..#n {
                let (#cur, #next) = #stack.split_at_mut((#i + 1) * #c);
                let #cur = &mut #cur[#i * #c..];
                #take
                #step_into(#(#ins,)* #(#args,)* #lo + #i, #(#ins,)* #(#outs,)* #ws.child(#k).child(#i));
                #put
            }
            #post
        };
        self.saved_value(id, &run, &last, &quote!(#ws.put_stack(#k, #stack);))
    }

    /// Node `id`'s value read from a loop's saved buffer `last` (a 1×1 matrix for a
    /// scalar) once `run` has filled it, `after` run last: a matrix copied into the
    /// node's buffer, a scalar bound to the node's local.
    fn saved_value(
        &self,
        id: NodeId,
        run: &TokenStream,
        last: &TokenStream,
        after: &TokenStream,
    ) -> TokenStream {
        let rt = rt();
        let f = &self.g.float;
        let (t, one, v) = (float_ty(f), lit(1.0, f), val(id));
        match self.g.node(id).kind {
            Kind::Matrix(_) => {
                let take = self.take(&v);
                quote! {
                    #take
                    {
                        #run
                        #rt::axpy_to(&mut #v, false, #one, #rt::view(&#last), false);
                        #after
                    }
                }
            }
            Kind::Scalar => quote! {
                let #v: #t = {
                    #run
                    let __mg_value: #t = #last[(0, 0)];
                    #after
                    __mg_value
                };
            },
        }
    }

    /// The value of carried variable `j` after the loop node `id`'s argument (a
    /// [`Op::LoopOut`]): read from the loop's saved values.
    pub(super) fn loop_out_forward(&self, id: NodeId, j: usize) -> TokenStream {
        let of = self.g.node(id).args.first().copied().unwrap_or(id);
        let Op::Loop(l) = &self.g.node(of).op else {
            return TokenStream::new();
        };
        let ws = &self.ws;
        let (c, k) = (l.carried.len(), l.ordinal);
        let (start, end) = (l.start.tokens(), l.end.tokens());
        let (stack, lo, n) = (
            mixed(&format!("__mg_stack{id}")),
            mixed("__mg_lo"),
            mixed("__mg_n"),
        );
        let read = quote! {
            let #lo: usize = #start;
            let #n: usize = (#end).saturating_sub(#lo);
            let #stack = #ws.take_stack(#k);
        };
        let last = quote!(#stack[#n * #c + #j]);
        self.saved_value(id, &read, &last, &quote!(#ws.put_stack(#k, #stack);))
    }

    /// The node holding carried variable `j`'s value after loop node `id`, if the
    /// code after the loop reads it and it carries an adjoint: `id` itself for the
    /// loop's result, else its [`Op::LoopOut`].
    fn loop_seed(&self, id: NodeId, l: &Loop, j: usize) -> Option<NodeId> {
        if j == l.result {
            return Some(id);
        }
        (id + 1..self.g.nodes.len()).find(|&o| {
            matches!(self.g.node(o).op, Op::LoopOut(x) if x == j)
                && self.g.node(o).args.first() == Some(&id)
                && self.adj.is_differentiated(o)
        })
    }

    /// The reverse sweep of loop node `id`, after its adjoint: each differentiated
    /// argument's part ([`crate::sym::Operand::Part`]).
    pub(super) fn loop_backward(&self, id: NodeId) -> TokenStream {
        let Op::Loop(l) = &self.g.node(id).op else {
            return TokenStream::new();
        };
        if !self.adj.is_differentiated(id) {
            return TokenStream::new();
        }
        let rt = rt();
        let (ws, f) = (&self.ws, &self.g.float);
        let t = float_ty(f);
        let tt = quote!(#t);
        let node = self.g.node(id);
        let (c, k) = (l.carried.len(), l.ordinal);
        let (stack, lo, n, i, cur) = (
            mixed(&format!("__mg_stack{id}")),
            mixed("__mg_lo"),
            mixed("__mg_n"),
            mixed("__mg_i"),
            mixed("__mg_cur"),
        );
        let (start, end) = (l.start.tokens(), l.end.tokens());
        let (one, zero) = (lit(1.0, f), lit(0.0, f));
        let mut out = TokenStream::new();
        let (mut setup, mut take, mut put, mut turn, mut finish) = (
            TokenStream::new(),
            TokenStream::new(),
            TokenStream::new(),
            TokenStream::new(),
            TokenStream::new(),
        );
        let (mut ins, mut seeds, mut grads) = (Vec::new(), Vec::new(), Vec::new());
        for (j, kind) in l.carried.iter().enumerate() {
            let p = part(id, j);
            out.extend(self.take(&p));
            let x = mixed(&format!("__mg_in{j}"));
            let (lam, gr) = (
                mixed(&format!("__mg_lambda{id}_{j}")),
                mixed(&format!("__mg_g{id}_{j}")),
            );
            if kind.is_matrix() {
                let ty = Loop::value_type(*kind, &tt).unwrap_or_default();
                let (lam_buf, g_buf) = (
                    mixed(&format!("__mg_lambda_buf{id}_{j}")),
                    mixed(&format!("__mg_g_buf{id}_{j}")),
                );
                out.extend(self.take(&lam_buf));
                out.extend(self.take(&g_buf));
                if let Some(seed) = self.loop_seed(id, l, j) {
                    let g = adj(seed);
                    setup.extend(
                        quote!(#rt::axpy_to(&mut #lam_buf, false, #one, #rt::view(&#g), false);),
                    );
                } else {
                    let s = quote!(#stack[#n * #c + #j]);
                    setup.extend(
                        quote!(#rt::fill_to(&mut #lam_buf, false, #zero, #s.nrows(), #s.ncols());),
                    );
                }
                setup.extend(quote! {
                    let mut #lam: #ty = #rt::loop_take(&mut #lam_buf);
                    let mut #gr: #ty = #rt::loop_take(&mut #g_buf);
                });
                take.extend(quote!(let #x: #ty = #rt::loop_take(&mut #cur[#j]);));
                put.extend(quote!(#rt::loop_put(&mut #cur[#j], #x);));
                turn.extend(quote!(::core::mem::swap(&mut #lam, &mut #gr);));
                finish.extend(quote! {
                    #rt::loop_put(&mut #lam_buf, #lam);
                    #rt::loop_put(&mut #g_buf, #gr);
                    // A copy, not a swap: each buffer keeps its size for the next call.
                    #rt::axpy_to(&mut #p, false, #one, #rt::view(&#lam_buf), false);
                });
                ins.push(quote!(&#x));
                seeds.push(quote!(&#lam));
            } else {
                let init = match self.loop_seed(id, l, j) {
                    Some(seed) => {
                        let g = adj(seed);
                        quote!(#g)
                    }
                    None => quote!(#zero),
                };
                setup.extend(quote! {
                    let mut #lam: #t = #init;
                    let mut #gr: #t = #zero;
                });
                take.extend(quote!(let #x: #t = #cur[#j][(0, 0)];));
                turn.extend(quote!(#lam = #gr;));
                finish.extend(quote!(#rt::set_scalar(&mut #p, #lam);));
                ins.push(quote!(#x));
                seeds.push(quote!(#lam));
            }
            grads.push(quote!(&mut #gr));
        }
        // The read values' adjoints, summed over the iterations.
        for (m, &a) in node.args.iter().enumerate().skip(c).take(l.active) {
            let p = part(id, m);
            out.extend(self.take(&p));
            let gr = mixed(&format!("__mg_g{id}_{m}"));
            let kind = self.g.node(a).kind;
            if kind.is_matrix() {
                let ty = match self.param(a) {
                    Some(param) => param.owned.clone(),
                    None => Loop::value_type(kind, &tt).unwrap_or_default(),
                };
                let g_buf = mixed(&format!("__mg_g_buf{id}_{m}"));
                out.extend(self.take(&g_buf));
                let v = self.view(a);
                setup.extend(quote! {
                    #rt::fill_to(&mut #p, false, #zero, #v.nrows(), #v.ncols());
                    let mut #gr: #ty = #rt::loop_take(&mut #g_buf);
                });
                turn.extend(quote!(#rt::axpy_to(&mut #p, true, #one, #rt::view(&#gr), false);));
                finish.extend(quote!(#rt::loop_put(&mut #g_buf, #gr);));
            } else {
                setup.extend(quote! {
                    #rt::set_scalar(&mut #p, #zero);
                    let mut #gr: #t = #zero;
                });
                turn.extend(quote!(#p[(0, 0)] += #gr;));
            }
            grads.push(quote!(&mut #gr));
        }
        let Reads { pre, args, post } = self.loop_reads(id, l);
        let back_into = format_ident!("{}_back_into", l.step);
        out.extend(quote! {
            {
                let #lo: usize = #start;
                let #n: usize = (#end).saturating_sub(#lo);
                let mut #stack = #ws.take_stack(#k);
                #setup
                #pre
                for #i in (0..#n).rev() {
                    let #cur = &mut #stack[#i * #c..(#i + 1) * #c];
                    #take
                    #back_into(#(#ins,)* #(#args,)* #lo + #i, #(#seeds,)* #(#grads,)* #ws.child(#k).child(#i));
                    #put
                    #turn
                }
                #post
                #finish
                #ws.put_stack(#k, #stack);
            }
        });
        out
    }
}

impl Emit<'_> {
    /// The arguments of a user's function call (node `id`), as its parameters take
    /// them: a parameter by its name, a matrix of the body moved into the user's
    /// vector type and back (see [`Reads`]), a scalar by value or by reference.
    fn call_args(&self, id: NodeId, u: &crate::ir::UserCall) -> Reads {
        let rt = rt();
        let t = float_ty(&self.g.float);
        let t = quote!(#t);
        let mut reads = Reads {
            pre: TokenStream::new(),
            args: Vec::new(),
            post: TokenStream::new(),
        };
        for (m, (&a, &(kind, by_ref))) in self.g.node(id).args.iter().zip(&u.params).enumerate() {
            let arg = match (self.param(a), kind) {
                (Some(p), Kind::Matrix(_)) => {
                    let n = &p.name;
                    if p.by_ref {
                        quote!(#n)
                    } else {
                        quote!(&#n)
                    }
                }
                (None, Kind::Matrix(_)) => {
                    let (v, typed) = (val(a), mixed(&format!("__mg_arg{id}_{m}")));
                    let ty = Loop::value_type(kind, &t).unwrap_or_default();
                    reads
                        .pre
                        .extend(quote!(let #typed: #ty = #rt::loop_take(&mut #v);));
                    reads.post.extend(quote!(#rt::loop_put(&mut #v, #typed);));
                    quote!(&#typed)
                }
                (_, Kind::Scalar) => {
                    let s = self.scalar(a);
                    if by_ref {
                        quote!(&#s)
                    } else {
                        s
                    }
                }
            };
            reads.args.push(arg);
        }
        reads
    }

    /// `f(args…)`, a user's function of matrices (node `id`): called, its result
    /// copied into the node's buffer.
    pub(super) fn user_call_forward(&self, id: NodeId, u: &crate::ir::UserCall) -> TokenStream {
        let rt = rt();
        let f = &self.g.float;
        let t = float_ty(f);
        let (v, path) = (val(id), &u.path);
        let Reads { pre, args, post } = self.call_args(id, u);
        let r = mixed("__mg_result");
        match self.g.node(id).kind {
            Kind::Matrix(_) => {
                let (take, one) = (self.take(&v), lit(1.0, f));
                quote! {
                    #take
                    {
                        #pre
                        let #r = #path(#(#args),*);
                        #post
                        #rt::axpy_to(&mut #v, false, #one, #rt::view(&#r), false);
                    }
                }
            }
            Kind::Scalar => quote! {
                let #v: #t = {
                    #pre
                    let #r: #t = #path(#(#args),*);
                    #post
                    #r
                };
            },
        }
    }

    /// After the adjoint of a user's function call (node `id`): the user's adjoint,
    /// called with the arguments and the node's adjoint, each of its results copied
    /// into the argument's part ([`crate::sym::Operand::Part`]).
    pub(super) fn user_call_backward(&self, id: NodeId) -> TokenStream {
        let Op::UserCall(u) = &self.g.node(id).op else {
            return TokenStream::new();
        };
        if !self.adj.is_differentiated(id) {
            return TokenStream::new();
        }
        let rt = rt();
        let f = &self.g.float;
        let t = float_ty(f);
        let tt = quote!(#t);
        let one = lit(1.0, f);
        let node = self.g.node(id);
        let mut out = TokenStream::new();
        let parts: Vec<_> = (0..u.params.len()).map(|k| part(id, k)).collect();
        for p in &parts {
            out.extend(self.take(p));
        }
        let Reads { pre, args, post } = self.call_args(id, u);
        let g = adj(id);
        let gt = mixed("__mg_gbar");
        let (take_g, seed, put_g) = match node.kind {
            Kind::Matrix(_) => {
                let ty = Loop::value_type(node.kind, &tt).unwrap_or_default();
                (
                    quote!(let #gt: #ty = #rt::loop_take(&mut #g);),
                    quote!(&#gt),
                    quote!(#rt::loop_put(&mut #g, #gt);),
                )
            }
            Kind::Scalar => (TokenStream::new(), quote!(#g), TokenStream::new()),
        };
        let shares: Vec<_> = (0..u.params.len())
            .map(|k| mixed(&format!("__mg_share{k}")))
            .collect();
        let adjoint = &u.adjoint;
        // One argument: the adjoint returns its share; several: a tuple of them.
        let bind = quote!(let (#(#shares),*) = #adjoint(#(#args,)* #seed););
        let mut store = TokenStream::new();
        for ((share, p), &a) in shares.iter().zip(&parts).zip(&node.args) {
            if self.g.node(a).kind.is_matrix() {
                store
                    .extend(quote!(#rt::axpy_to(&mut #p, false, #one, #rt::view(&#share), false);));
            } else {
                store.extend(quote!(#rt::set_scalar(&mut #p, #share);));
            }
        }
        out.extend(quote! {
            {
                #pre
                #take_g
                #bind
                #put_g
                #post
                #store
            }
        });
        out
    }
}

/// `NAME_step_into` of a step function (a graph with [`crate::ir::Graph::results`]):
/// the forward pass alone, writing the carried values at the end of the body into
/// `__mg_r0`, `__mg_r1`, … (typed as the first parameters, the carried values before).
pub fn step_companion(input: &Input<'_>) -> TokenStream {
    if input.graph.results.is_empty() {
        return TokenStream::new();
    }
    step_signature(
        input.item,
        input.sig,
        input.graph.results.len(),
        &step_body(input),
    )
}

/// The body of `NAME_step_into`, a run-time loop's step function's forward pass alone (see [`crate::ir::Loop`]).
pub fn step_body(input: &Input<'_>) -> TokenStream {
    let Input { graph: g, .. } = *input;
    let rt = rt();
    let ws = mixed("ws");
    let cx = input_emit(input, &ws);
    let one = lit(1.0, &g.float);
    let mut body = TokenStream::new();
    for it in &g.items {
        body.extend(it.clone());
    }
    for id in 0..g.nodes.len() {
        body.extend(cx.forward(id));
    }
    // The scalar values, for `_back_into` (the matrices stay in their slots).
    let sc = super::scalars_slot();
    body.extend(cx.take(&sc));
    let scalars = cx.scalar_locals();
    let (n, zero) = (scalars.len(), lit(0.0, &g.float));
    body.extend(quote!(#rt::fill_to(&mut #sc, false, #zero, #n, 1);));
    for (k, id) in scalars.into_iter().enumerate() {
        let v = val(id);
        body.extend(quote!(#sc[#k] = #v;));
    }
    for (j, &r) in g.results.iter().enumerate() {
        let o = mixed(&format!("__mg_r{j}"));
        if g.node(r).kind.is_matrix() {
            let v = cx.view(r);
            body.extend(quote! {
                let mut __mg_m = #rt::GradBuf::take_matrix(#o);
                #rt::axpy_to(&mut __mg_m, false, #one, #v, false);
                #rt::GradBuf::put_matrix(#o, __mg_m);
            });
        } else {
            let s = cx.scalar(r);
            body.extend(quote!(*#o = #s;));
        }
    }
    for (name, k) in cx.slots.borrow().iter() {
        body.extend(quote!(#ws.put(#k, #name);));
    }
    body
}

/// The signature of `NAME_step_into` around `body`: the function's parameters, then
/// one output per carried value (`results` of them, typed as the first parameters),
/// then the workspace.
pub fn step_signature(
    item: &syn::ItemFn,
    sig: &crate::parse::signature::Signature,
    results: usize,
    body: &TokenStream,
) -> TokenStream {
    let ws = mixed("ws");
    let t = float_ty(&sig.float);
    let outs = sig.params.iter().take(results).enumerate().map(|(j, p)| {
        let o = mixed(&format!("__mg_r{j}"));
        let owned = &p.owned;
        if p.kind.is_matrix() {
            quote!(#o: &mut #owned)
        } else {
            quote!(#o: &mut #t)
        }
    });
    let name = format_ident!("{}_step_into", item.sig.ident);
    let super::Generics { params, bounds, .. } = super::generics(item, &sig.float);
    let ps = sig.params.iter().map(|p| {
        let (n, ty) = (&p.name, &p.ty);
        quote!(#n: #ty)
    });
    quote! {
        #[doc(hidden)]
        #[allow(clippy::all, unused_parens, unused_variables, unused_mut, non_snake_case, dead_code)]
        fn #name #params (#(#ps,)* #(#outs,)* #ws: &mut ::matgrad::Workspace<#t>) #bounds {
            #body
        }
    }
}

/// `NAME_back_into` of a step function around `body` ([`super::back_body`]): the
/// signature of `NAME_grad_into`; it reads the forward values `NAME_step_into` left in
/// `ws` (the same workspace, the same point) instead of computing them.
pub fn back_signature(
    item: &syn::ItemFn,
    sig: &crate::parse::signature::Signature,
    wrt: &[&crate::parse::signature::Param],
    body: &TokenStream,
) -> TokenStream {
    let ws = mixed("ws");
    let t = float_ty(&sig.float);
    let outs = wrt.iter().map(|p| {
        let (o, ty) = (super::grad_out(p), &p.owned);
        quote!(#o: &mut #ty)
    });
    let name = format_ident!("{}_back_into", item.sig.ident);
    let super::Generics { params, bounds, .. } = super::generics(item, &sig.float);
    let ps = sig.params.iter().map(|p| {
        let (n, ty) = (&p.name, &p.ty);
        quote!(#n: #ty)
    });
    quote! {
        #[doc(hidden)]
        #[allow(clippy::all, unused_parens, unused_variables, unused_mut, non_snake_case, dead_code)]
        fn #name #params (#(#ps,)* #(#outs,)* #ws: &mut ::matgrad::Workspace<#t>) -> #t #bounds {
            #body
        }
    }
}

/// The emitter of `input`'s graph, its workspace named `ws`.
fn input_emit<'a>(input: &Input<'a>, ws: &proc_macro2::Ident) -> Emit<'a> {
    Emit {
        g: input.graph,
        sig: input.sig,
        adj: input.adjoints,
        slots: std::cell::RefCell::new(Vec::new()),
        ws: ws.clone(),
        lazy: super::fuse::plan(input.graph, input.adjoints),
    }
}

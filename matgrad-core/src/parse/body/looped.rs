//! `for t in a..b { .. }` whose trip count is known only at run time: the body
//! becomes a hidden step function (a `#[grad]` function of its own, see
//! [`crate::ir::Loop`]), and the loop one [`Op::Loop`] node.
//!
//! The step function takes the carried variables (the `let mut` names declared
//! before the loop and assigned in it), the values the body reads (parameters and
//! `let` values of the function), the counts and flags it reads, the index, and a
//! seed per carried variable; it returns `Σ ⟨cᵢ, sᵢ⟩` over the carried values at the
//! end of the body. Its `wrt` are the carried variables and the read values that
//! depend on the function's own `wrt`; the hidden `loop_step` option adds
//! `_step_into`, the forward pass alone.
//!
//! Limits, each a spanned error: the function has dynamic sizes; carried and read
//! `let` values are `DMatrix`, `DVector`, `RowDVector` or scalars; the code after
//! the loop uses one of its carried variables (the others live inside it).

use super::{strip, Binding, Builder, Res};
use crate::ir::{Count, Kind, Loop, NodeId, Op};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use std::collections::BTreeMap;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{BinOp, Expr};

/// The names a piece of code reads, and the names it assigns (in order).
#[derive(Default)]
pub(super) struct NamesIn {
    /// Each name read, with its first occurrence (whose span, and so hygiene, the
    /// step function's parameter of that name takes).
    pub read: BTreeMap<String, syn::Ident>,
    /// The names assigned, in order.
    pub assigned: Vec<String>,
    /// The first `return` (outside closures).
    pub returns: Option<Span>,
}

impl NamesIn {
    pub fn of_stmts(stmts: &[syn::Stmt]) -> NamesIn {
        let mut n = NamesIn::default();
        for s in stmts {
            n.visit_stmt(s);
        }
        n
    }

    fn assign(&mut self, target: &Expr) {
        if let Expr::Path(p) = strip(target) {
            if let Some(i) = p.path.get_ident() {
                let s = i.to_string();
                if !self.assigned.contains(&s) {
                    self.assigned.push(s);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for NamesIn {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(i) = p.path.get_ident() {
            self.read.entry(i.to_string()).or_insert_with(|| i.clone());
        }
        visit::visit_expr_path(self, p);
    }
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        self.returns.get_or_insert(r.return_token.span);
        visit::visit_expr_return(self, r);
    }
    // A closure's `return` is its own (and reported where closures are read).
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let returns = self.returns;
        visit::visit_expr_closure(self, c);
        self.returns = returns;
    }
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        self.assign(&a.left);
        visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        if matches!(
            b.op,
            BinOp::AddAssign(_) | BinOp::SubAssign(_) | BinOp::MulAssign(_) | BinOp::DivAssign(_)
        ) {
            self.assign(&b.left);
        }
        visit::visit_expr_binary(self, b);
    }
}

impl Builder<'_> {
    /// `for var in r { body }` with a bound known only at run time (or more
    /// iterations than are unrolled).
    pub(super) fn run_time_loop(
        &mut self,
        f: &syn::ExprForLoop,
        r: &syn::ExprRange,
        var: Option<String>,
    ) {
        if self.step_sig.is_none() {
            return;
        }
        let _ = self.try_run_time_loop(f, r, var);
    }

    fn try_run_time_loop(
        &mut self,
        f: &syn::ExprForLoop,
        r: &syn::ExprRange,
        var: Option<String>,
    ) -> Result<(), ()> {
        let start = match &r.start {
            Some(e) => self.count_of(e, "a loop bound")?,
            None => Count::Lit(0),
        };
        let Some(end_e) = &r.end else {
            return self
                .err(
                    r,
                    "a `for` loop in a #[grad] function needs an end: `for t in 0..n`",
                )
                .map(|_: NodeId| ());
        };
        let end = self.count_of(end_e, "a loop bound")?;
        let end = if matches!(r.limits, syn::RangeLimits::Closed(_)) {
            let e = end.tokens();
            Count::Expr(quote!(#e + 1))
        } else {
            end
        };
        let site = Site {
            body: &f.body,
            pat: &f.pat,
            at: r.to_token_stream(),
            span: f.for_token.span,
            text: format!(
                "for {} in {}",
                super::source_text(&*f.pat),
                super::source_text(r)
            ),
            what: "loop",
        };
        self.lower_loop(&site, start, end, var)
    }

    /// The [`Op::Loop`] of `site`'s body run `end − start` times.
    fn lower_loop(
        &mut self,
        site: &Site<'_>,
        start: Count,
        end: Count,
        var: Option<String>,
    ) -> Res<()> {
        let r = &site.at;
        let what = site.what;
        let Some(sig) = self.step_sig else {
            return Err(());
        };
        if sig.is_static() {
            let msg = format!("this {what} runs a number of times known only at run time, which needs dynamic sizes: the function's matrices are all static; give a loop a literal trip count (`for t in 0..8`, unrolled) and a branch a condition on loop indices, or use `DMatrix`/`DVector` parameters");
            return self.err(r, msg).map(|_: NodeId| ());
        }
        if !self.inlining.is_empty() {
            let msg = format!("a {what} decided at run time inside a #[differentiable] helper is not supported yet: write it in the #[grad] function (calling the helper in its body), or give a loop a literal trip count");
            return self.err(r, msg).map(|_: NodeId| ());
        }
        let names = NamesIn::of_stmts(&site.body.stmts);
        if let Some(at) = names.returns {
            self.cx.error_at(at, format!("`return` inside a {what} decided at run time is not supported: compute the value after it (a loop with a literal trip count, unrolled, and a branch on loop indices may `return`)"));
            return Err(());
        }
        let t = self.float.ty().to_token_stream();
        // Carried: `let mut` names of the function assigned in the body.
        let mut carried: Vec<(String, NodeId)> = Vec::new();
        for n in &names.assigned {
            if Some(n) == var.as_ref() {
                continue;
            }
            let Some(decl) = self.decls.get(n).copied() else {
                continue;
            };
            match self.env.get(n) {
                Some(Binding::Node(id)) if decl.mutable => carried.push((n.clone(), *id)),
                Some(Binding::Count(_)) if decl.mutable => {
                    return self.err(r, format!("this {what} changes `{n}`, a count: counts in a #[grad] function are fixed once bound; compute the count from the loop index instead")).map(|_: NodeId| ());
                }
                Some(Binding::Poisoned) => return Err(()),
                _ => {}
            }
        }
        if carried.is_empty() {
            let msg = format!("this {what} changes no `let mut` variable declared before it, so it does not change the value: accumulate into one (`let mut total = 0.0; for t in 0..n {{ total += ...; }}`)");
            return self.err(r, msg).map(|_: NodeId| ());
        }
        for (n, id) in &carried {
            let kind = self.kind(*id);
            if Loop::value_type(kind, &t).is_none() {
                let msg = format!("this {what} changes `{n}`, {}: a loop or branch decided at run time changes scalars, `DMatrix`, `DVector` or `RowDVector` values", describe(kind));
                return self.err(r, msg).map(|_: NodeId| ());
            }
        }
        // What the body reads from outside.
        let mut values: Vec<(String, NodeId)> = Vec::new();
        let mut extras: Vec<(String, TokenStream, TokenStream)> = Vec::new();
        for n in names.read.keys() {
            if Some(n) == var.as_ref() || carried.iter().any(|(c, _)| c == n) {
                continue;
            }
            match self.env.get(n) {
                Some(Binding::Node(id)) => values.push((n.clone(), *id)),
                Some(Binding::Count(c)) => extras.push((n.clone(), quote!(usize), c.tokens())),
                Some(Binding::Flag(tk)) => extras.push((n.clone(), quote!(bool), tk.clone())),
                Some(Binding::Poisoned) => return Err(()),
                None => {}
            }
        }
        // The read values depending on a `wrt` variable come first.
        let active = self.active_nodes();
        values.sort_by_key(|(_, id)| !crate::ir::flag(&active, *id));
        let n_active = values
            .iter()
            .filter(|(_, id)| crate::ir::flag(&active, *id))
            .count();
        // The step function.
        let ordinal = self.loops;
        self.loops += 1;
        let step = format_ident!("__mg_loop{}", ordinal);
        let mut params = Vec::new();
        let mut prelude = Vec::new();
        let mut wrt = Vec::new();
        let mut seeded = Vec::new();
        let mut seeds = Vec::new();
        let ident = |n: &str| {
            names
                .read
                .get(n)
                .cloned()
                .unwrap_or_else(|| syn::Ident::new(n, Span::call_site()))
        };
        for (i, (n, id)) in carried.iter().enumerate() {
            let name = ident(n);
            let (c, s) = (format_ident!("__mg_c{}", i), format_ident!("__mg_s{}", i));
            let kind = self.kind(*id);
            let ty = Loop::value_type(kind, &t).unwrap_or_default();
            if kind.is_matrix() {
                params.push(quote!(#c: &#ty));
                seeds.push(quote!(#s: &#ty));
                prelude.push(quote!(let mut #name = #c.clone();));
                seeded.push(quote!(#name.dot(&#s)));
            } else {
                params.push(quote!(#c: #ty));
                seeds.push(quote!(#s: #ty));
                prelude.push(quote!(let mut #name = #c;));
                seeded.push(quote!(#name * #s));
            }
            wrt.push(quote!(#c));
        }
        for (j, (n, id)) in values.iter().enumerate() {
            let name = ident(n);
            let k = format_ident!("__mg_k{}", j);
            let kind = self.kind(*id);
            let param = match self.nodes.get(*id).map(|n| &n.op) {
                Some(Op::Param(i)) => sig.params.get(*i),
                _ => None,
            };
            let (p, w) = match (param, kind) {
                (Some(p), Kind::Scalar) if p.by_ref && p.name != n.as_str() => {
                    prelude.push(quote!(let #name = *#k;));
                    (quote!(#k: &#t), quote!(#k))
                }
                (Some(p), Kind::Scalar) => {
                    let ty = if p.by_ref { quote!(&#t) } else { quote!(#t) };
                    (quote!(#name: #ty), quote!(#name))
                }
                // As declared (less its lifetime): the body reads it as before.
                (Some(p), Kind::Matrix(_)) if p.by_ref && p.name == n.as_str() => {
                    let owned = &p.owned;
                    (quote!(#name: &#owned), quote!(#name))
                }
                (Some(p), Kind::Matrix(_)) => {
                    let owned = &p.owned;
                    prelude.push(quote!(let #name = #k.clone();));
                    (quote!(#k: &#owned), quote!(#k))
                }
                (_, kind) => {
                    let Some(ty) = Loop::value_type(kind, &t) else {
                        let msg = format!("this {what} reads `{n}`, {} computed before it: a loop or branch decided at run time reads scalars, `DMatrix`, `DVector` or `RowDVector` values of the function (and any parameter); compute `{n}` inside it, or make it a parameter", describe(kind));
                        return self.err(r, msg).map(|_: NodeId| ());
                    };
                    if kind.is_matrix() {
                        prelude.push(quote!(let #name = #k.clone();));
                        (quote!(#k: &#ty), quote!(#k))
                    } else {
                        (quote!(#name: #ty), quote!(#name))
                    }
                }
            };
            params.push(p);
            if j < n_active {
                wrt.push(w);
            }
        }
        for (n, ty, _) in &extras {
            let name = ident(n);
            params.push(quote!(#name: #ty));
        }
        let index = match site.pat {
            syn::Pat::Ident(pi) => pi.ident.clone(),
            _ => format_ident!("__mg_t"),
        };
        params.push(quote!(#index: usize));
        params.extend(seeds);
        let results: Vec<syn::Ident> = carried.iter().map(|(n, _)| ident(n)).collect();
        let generics = match &self.float {
            crate::ir::Float::Generic(g) => quote!(<#g: ::matgrad::Real>),
            _ => TokenStream::new(),
        };
        let reassociate = if self.reassociate {
            quote!(, reassociate)
        } else {
            TokenStream::new()
        };
        let stmts = &site.body.stmts;
        self.items.push(quote! {
            #[::matgrad::grad(wrt = (#(#wrt),*), loop_step = (#(#results),*) #reassociate)]
            #[doc(hidden)]
            #[allow(unused_mut, unused_variables, unused_parens, clippy::all)]
            fn #step #generics (#(#params),*) -> #t {
                #(#prelude)*
                #(#stmts)*
                #(#seeded)+*
            }
        });

        // The node: the result's final value.
        let mut args: Vec<NodeId> = carried.iter().map(|(_, id)| *id).collect();
        args.extend(values.iter().map(|(_, id)| *id));
        let result = 0;
        let (rname, rid) = carried.get(result).cloned().ok_or(())?;
        let kind = self.kind(rid);
        let node = self.push(
            Op::Loop(Box::new(Loop {
                ordinal,
                step,
                carried: carried.iter().map(|(_, id)| self.kind(*id)).collect(),
                active: n_active,
                extra: extras.into_iter().map(|(_, _, e)| e).collect(),
                start,
                end,
                result,
                result_name: rname.clone(),
            })),
            args,
            kind,
            site.span,
            site.text.clone(),
        );
        if let Some(n) = self.nodes.get_mut(node) {
            n.name = Some(rname.clone());
        }
        // The carried variables now mean their values after the loop: the node's,
        // and a `LoopOut` of it for each other one.
        for (i, (n, id)) in carried.iter().enumerate() {
            let binding = if i == result {
                Binding::Node(node)
            } else {
                let kind = self.kind(*id);
                let out = self.push(Op::LoopOut(i), vec![node], kind, site.span, n.clone());
                if let Some(o) = self.nodes.get_mut(out) {
                    o.name = Some(n.clone());
                }
                Binding::Node(out)
            };
            if let Some(decl) = self.decls.get(n).copied() {
                self.latest.insert(decl.id, binding.clone());
            }
            self.env.insert(n.clone(), binding);
        }
        Ok(())
    }

    /// `(a..b).map(|i| body).sum()` with a bound known only at run time: the loop
    /// `for i in a..b { sum += body; }` into a hidden accumulator (scalar terms).
    pub(super) fn run_time_sum(
        &mut self,
        c: &syn::ExprClosure,
        r: &syn::ExprRange,
        m: &syn::ExprMethodCall,
    ) -> Res<NodeId> {
        let span = m.span();
        let acc = format_ident!("__mg_sum{}", self.loops);
        let zero = self.push_op(Op::Lit(0.0), Vec::new(), span, "0.0".into());
        self.bind(acc.to_string(), Binding::Node(zero), true);
        let (pat, body) = (c.inputs.first(), &c.body);
        let f: syn::ExprForLoop =
            syn::parse_quote_spanned!(span=> for #pat in #r { #acc += #body; });
        let var = match pat {
            Some(syn::Pat::Ident(pi)) => Some(pi.ident.to_string()),
            _ => None,
        };
        self.try_run_time_loop(&f, r, var)?;
        match self.env.get(&acc.to_string()) {
            Some(Binding::Node(id)) if *id != zero => Ok(*id),
            _ => Err(()),
        }
    }

    /// `if cond { .. } else if .. { .. } else { .. }` as a statement, decided at run
    /// time (`before`: the conditions of the earlier branches all false): each branch
    /// a loop run once when its condition holds, else not at all.
    pub(super) fn run_time_if(&mut self, i: &syn::ExprIf, before: TokenStream) {
        let Some(c) = self.condition_tokens(&i.cond) else {
            self.runtime_condition(i);
            return;
        };
        let wild: syn::Pat = syn::parse_quote!(_);
        let text = format!("if {}", super::source_text(&*i.cond));
        let branch = |this: &mut Self, body: &syn::Block, cond: TokenStream, at: TokenStream| {
            let site = Site {
                body,
                pat: &wild,
                at,
                span: i.if_token.span,
                text: text.clone(),
                what: "branch",
            };
            let end = Count::Expr(quote!(usize::from(#cond)));
            let _ = this.lower_loop(&site, Count::Lit(0), end, None);
        };
        branch(
            self,
            &i.then_branch,
            quote!((#before) && (#c)),
            i.cond.to_token_stream(),
        );
        let rest = quote!((#before) && !(#c));
        match i.else_branch.as_ref().map(|(_, e)| &**e) {
            Some(Expr::If(next)) => self.run_time_if(next, rest),
            Some(Expr::Block(b)) => {
                let at = b.block.brace_token.span.open();
                branch(self, &b.block, rest, quote::quote_spanned!(at=> else))
            }
            Some(other) => self.cx.error_spanned_by(other, "`else` takes a block"),
            None => {}
        }
    }

    /// `if cond { a } else { b }` as a scalar value decided at run time: the branches
    /// assign a hidden accumulator (`let mut v = 0.0; if cond { v = a; } else { v = b; }`).
    pub(super) fn run_time_if_value(&mut self, i: &syn::ExprIf) -> Res<NodeId> {
        let span = i.if_token.span;
        let acc = format_ident!("__mg_if{}", self.loops);
        let zero = self.push_op(Op::Lit(0.0), Vec::new(), span, "0.0".into());
        self.bind(acc.to_string(), Binding::Node(zero), true);
        let assigned = assign_tail(i, &acc).ok_or_else(|| {
            self.cx.error_spanned_by(
                i,
                "an `if` used as a value needs an `else`, and each branch ends with its value",
            );
        })?;
        self.run_time_if(&assigned, quote!(true));
        match self.env.get(&acc.to_string()) {
            Some(Binding::Node(id)) if *id != zero => Ok(*id),
            _ => Err(()),
        }
    }

    /// The condition `e` as the generated code evaluates it, when it is made of
    /// `bool` parameters, literals and comparisons of counts; `None` otherwise.
    pub(super) fn condition_tokens(&self, e: &Expr) -> Option<TokenStream> {
        match strip(e) {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Bool(b),
                ..
            }) => Some(quote!(#b)),
            Expr::Path(p) => match self.env.get(&p.path.get_ident()?.to_string()) {
                Some(Binding::Flag(t)) => Some(t.clone()),
                _ => None,
            },
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                let c = self.condition_tokens(&u.expr)?;
                Some(quote!(!(#c)))
            }
            Expr::Binary(b) => match b.op {
                BinOp::And(_) | BinOp::Or(_) => {
                    let (l, r) = (
                        self.condition_tokens(&b.left)?,
                        self.condition_tokens(&b.right)?,
                    );
                    let op = &b.op;
                    Some(quote!((#l) #op (#r)))
                }
                BinOp::Eq(_)
                | BinOp::Ne(_)
                | BinOp::Lt(_)
                | BinOp::Le(_)
                | BinOp::Gt(_)
                | BinOp::Ge(_)
                    if self.is_count(&b.left) && self.is_count(&b.right) =>
                {
                    let (l, r, op) = (
                        self.count_tokens(&b.left),
                        self.count_tokens(&b.right),
                        &b.op,
                    );
                    Some(quote!(((#l) as usize) #op ((#r) as usize)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The parameters (kind, by reference) and the result kind of a
    /// `#[custom_adjoint]` function `h` that takes or returns a matrix; `None` for a
    /// scalar function (or one whose types cannot be read: left to the scalar path's
    /// diagnostics).
    pub(super) fn matrix_signature(&self, h: &syn::ItemFn) -> Option<(Vec<(Kind, bool)>, Kind)> {
        let generic = h.sig.generics.params.iter().find_map(|g| match g {
            syn::GenericParam::Type(t) => Some(&t.ident),
            _ => None,
        });
        let mut params = Vec::new();
        for i in &h.sig.inputs {
            let syn::FnArg::Typed(pt) = i else {
                return None;
            };
            let (kind, _, by_ref, _) = super::super::signature::param_type(&pt.ty, generic).ok()?;
            params.push((kind, by_ref));
        }
        let syn::ReturnType::Type(_, ret) = &h.sig.output else {
            return None;
        };
        let (ret, _, _, _) = super::super::signature::param_type(ret, generic).ok()?;
        let any_matrix = ret.is_matrix() || params.iter().any(|(k, _)| k.is_matrix());
        any_matrix.then_some((params, ret))
    }

    /// A call of the user's function of matrices `h` with the adjoint `adjoint`: an
    /// [`Op::UserCall`] node.
    pub(super) fn matrix_user_call(
        &mut self,
        c: &syn::ExprCall,
        p: &syn::ExprPath,
        h: &syn::ItemFn,
        adjoint: &syn::Path,
        (params, ret): (Vec<(Kind, bool)>, Kind),
    ) -> Res<NodeId> {
        let name = h.sig.ident.to_string();
        let t = self.float.ty().to_token_stream();
        let bad = |k: Kind| k.is_matrix() && Loop::value_type(k, &t).is_none();
        if bad(ret) || params.iter().any(|&(k, _)| bad(k)) {
            return self.err(&h.sig, format!("`{name}` is a #[custom_adjoint] function of matrices: its matrices are `DMatrix`, `DVector` or `RowDVector` (static sizes are not supported for these yet)"));
        }
        if params.iter().any(|&(k, by_ref)| k.is_matrix() && !by_ref) {
            return self.err(&h.sig, format!("`{name}` takes a matrix by value: a #[custom_adjoint] function takes its matrices by reference (`a: &DMatrix<f64>`)"));
        }
        if self.step_sig.is_some_and(|s| s.is_static()) {
            return self.err(c, format!("`{name}` is a #[custom_adjoint] function of matrices, which needs dynamic sizes: the function's matrices are all static"));
        }
        if c.args.len() != params.len() {
            return self.err_unless_rustc(
                c,
                format!("`{name}` takes {} argument(s)", params.len()),
                true,
            );
        }
        let mut args = Vec::new();
        for (a, &(kind, _)) in c.args.iter().zip(&params) {
            let id = self.expr(a)?;
            if self.kind(id).is_matrix() != kind.is_matrix() {
                let want = if kind.is_matrix() {
                    "a matrix"
                } else {
                    "a scalar"
                };
                return self.err(a, format!("`{name}` takes {want} here"));
            }
            args.push(id);
        }
        // An adjoint named by one identifier lives beside the function.
        let mut adjoint_path = adjoint.clone();
        if adjoint_path.segments.len() == 1 && p.path.segments.len() > 1 {
            let mut full = p.path.clone();
            if let (Some(last), Some(a)) = (full.segments.last_mut(), adjoint_path.segments.first())
            {
                *last = a.clone();
            }
            adjoint_path = full;
        }
        let call = crate::ir::UserCall {
            path: p.path.to_token_stream(),
            adjoint: adjoint_path.to_token_stream(),
            name,
            params,
        };
        Ok(self.push(
            Op::UserCall(Box::new(call)),
            args,
            ret,
            c.span(),
            super::source_text(c),
        ))
    }

    /// `active[id]`: node `id` depends on a `wrt` parameter.
    fn active_nodes(&self) -> Vec<bool> {
        let mut active: Vec<bool> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let a = match node.op {
                Op::Param(i) => self.wrt.contains(&i),
                _ => node.args.iter().any(|&a| crate::ir::flag(&active, a)),
            };
            active.push(a);
        }
        active
    }
}

/// `a 3×3 matrix` for a matrix kind, `a scalar` for a scalar.
fn describe(kind: Kind) -> String {
    match kind {
        Kind::Scalar => "a scalar".into(),
        Kind::Matrix(s) => s.describe_a(),
    }
}

/// A loop (or a branch, run 0 or 1 times) to lower to an [`Op::Loop`].
struct Site<'s> {
    /// The body.
    body: &'s syn::Block,
    /// The index pattern (`t`, `_`).
    pat: &'s syn::Pat,
    /// What errors point at: the range, or the condition.
    at: TokenStream,
    /// The span of the node (the `for`, the `if`).
    span: Span,
    /// The node's text.
    text: String,
    /// `loop` or `branch`, for messages.
    what: &'static str,
}

/// What the parser needs to read run-time loops: the function's `wrt`, its options,
/// and (for a step function) its `loop_step` names.
#[derive(Clone, Debug, Default)]
pub struct Loops {
    /// The `wrt` parameters, by index.
    pub wrt: Vec<usize>,
    /// `reassociate`.
    pub reassociate: bool,
    /// The hidden `loop_step` option's names.
    pub step: Vec<proc_macro2::Ident>,
}

impl Builder<'_> {
    /// [`Graph::results`](crate::ir::Graph::results): the values of the `loop_step`
    /// names now.
    pub(super) fn record_results(&mut self) {
        let mut results = Vec::new();
        for n in &self.step_names {
            match self.env.get(n) {
                Some(Binding::Node(id)) => results.push(*id),
                _ => return,
            }
        }
        self.results = results;
    }
}

/// `if c { ..; a } else { ..; b }` with each branch's value assigned to `acc`
/// (`if c { ..; acc = a; } else { ..; acc = b; }`); `None` without an `else` or a
/// branch value.
fn assign_tail(i: &syn::ExprIf, acc: &syn::Ident) -> Option<syn::ExprIf> {
    let block = |b: &syn::Block| -> Option<syn::Block> {
        let mut b = b.clone();
        match b.stmts.pop()? {
            syn::Stmt::Expr(e, None) => {
                let span = e.span();
                b.stmts.push(syn::parse_quote_spanned!(span=> #acc = #e;));
                Some(b)
            }
            _ => None,
        }
    };
    let mut out = i.clone();
    out.then_branch = block(&i.then_branch)?;
    let (tok, e) = i.else_branch.as_ref()?;
    let e = match &**e {
        Expr::If(next) => Expr::If(assign_tail(next, acc)?),
        Expr::Block(b) => Expr::Block(syn::ExprBlock {
            attrs: b.attrs.clone(),
            label: None,
            block: block(&b.block)?,
        }),
        _ => return None,
    };
    out.else_branch = Some((*tok, Box::new(e)));
    Some(out)
}

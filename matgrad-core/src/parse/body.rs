//! The body: `syn` statements and expressions to IR nodes, with each node's kind
//! inferred as it is built (a straight-line body needs no fixpoint).

extern crate proc_macro;

use super::signature::Signature;
use crate::ctxt::Ctxt;
use crate::ir::{Closure, Count, Dim, Float, Graph, Kind, Node, NodeId, Op, Shape};
use crate::rules;
use crate::sym::{Cmp, Method, SOp, Select, Sym, UserFn};
use crate::symbol::{self, matrix_method, runtime_fn_named, runtime_fn_names, Needs, Takes};
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::{BinOp, Block, Expr, Lit, Pat, Stmt, UnOp};

mod looped;
pub use looped::Loops;

/// The scalar methods, as the diagnostics list them.
const SCALAR_METHOD_LIST: &str =
    "ln exp sqrt powi powf sin cos tan tanh sinh cosh abs recip max min ln_1p exp_m1";

/// What a name in the body refers to.
#[derive(Clone)]
enum Binding {
    Node(NodeId),
    /// A count (`let n = x.nrows();`): its value as the generated code computes it.
    Count(Count),
    /// A `bool` parameter: its value as the generated code reads it.
    Flag(proc_macro2::TokenStream),
    /// A name whose definition was rejected: uses of it are not reported again.
    Poisoned,
}

/// `Err(())` means "already reported to the `Ctxt`".
type Res<T> = Result<T, ()>;

struct Builder<'a> {
    cx: &'a mut Ctxt,
    nodes: Vec<Node>,
    env: HashMap<String, Binding>,
    /// Parameters declared `mut x` (already reported): assigning to them is the
    /// same mistake. A `let` of the same name ends this.
    mut_params: Vec<String>,
    float: Float,
    /// The second variable of the `zip_map` closure being read (`q` of `|p, q|`),
    /// read as [`Sym::Arg`]`(1)`; the first is read as [`Sym::Var`], then made `Arg(0)`.
    second_var: Option<String>,
    /// The declaration each name in scope refers to (its `let` or parameter).
    decls: HashMap<String, Decl>,
    /// The latest value assigned to each `let mut` declaration: what its name means
    /// after the block that assigned it ends.
    latest: HashMap<u32, Binding>,
    /// The next declaration's number.
    next_decl: u32,
    /// The `#[differentiable]` helpers the body may call.
    helpers: &'a [syn::ItemFn],
    /// The helpers being inlined, innermost last (a call of one of them is
    /// recursion).
    inlining: Vec<String>,
    /// The generic float parameter of the helper being inlined, if it has one
    /// (`T::from_f64(0.5)` in its body).
    helper_generic: Option<syn::Ident>,
    /// The value of a `return` met in a branch or a loop body decided at compile
    /// time: the blocks around it stop, and the function (or helper) returns it.
    early: Option<Res<NodeId>>,
    /// The signature, for the step functions of run-time loops (`None`: run-time
    /// loops are not read, as when a helper's body is checked on its own).
    step_sig: Option<&'a Signature>,
    /// The function's `wrt` parameters (indices).
    wrt: Vec<usize>,
    /// `reassociate`, passed on to step functions.
    reassociate: bool,
    /// The run-time loops read so far.
    loops: usize,
    /// The step functions of the run-time loops, for [`Graph::items`].
    items: Vec<proc_macro2::TokenStream>,
    /// The `loop_step` names of a step function (see [`crate::ir::Loop`]).
    step_names: Vec<String>,
    /// Their values at the end of the body, for [`Graph::results`].
    results: Vec<NodeId>,
}

/// One declaration of a name: a parameter or a `let`.
#[derive(Clone, Copy)]
struct Decl {
    id: u32,
    mutable: bool,
}

/// Loops with bounds known at compile time are unrolled up to this many iterations.
const MAX_UNROLLED: usize = 1024;

impl Builder<'_> {
    /// Declares `name` (a parameter or a `let`) as `binding`.
    fn bind(&mut self, name: String, binding: Binding, mutable: bool) {
        let id = self.next_decl;
        self.next_decl += 1;
        self.decls.insert(name.clone(), Decl { id, mutable });
        self.env.insert(name, binding);
    }

    /// Runs `f` in a nested scope (a loop body, a branch): the names it declares
    /// end with it, and the `let mut` names of the enclosing scopes keep the values
    /// it assigned them.
    fn scoped<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let (env, decls) = (self.env.clone(), self.decls.clone());
        let r = f(self);
        self.env = env;
        self.decls = decls;
        for (name, d) in &self.decls {
            if let (true, Some(b)) = (d.mutable, self.latest.get(&d.id)) {
                self.env.insert(name.clone(), b.clone());
            }
        }
        r
    }

    /// The generic float parameter (`T` of `fn f<T: RealField + Copy>`), if any: the
    /// helper's while one is inlined.
    fn generic(&self) -> Option<&syn::Ident> {
        if !self.inlining.is_empty() {
            return self.helper_generic.as_ref();
        }
        match &self.float {
            Float::Generic(t) => Some(t),
            _ => None,
        }
    }
}

/// Builds the graph of `block`. `None` when anything was rejected (all of it reported).
pub fn build(
    cx: &mut Ctxt,
    sig: &Signature,
    block: &Block,
    helpers: &[syn::ItemFn],
    loops: &Loops,
) -> Option<Graph> {
    let before = cx.count();
    let mut b = Builder {
        cx,
        nodes: Vec::new(),
        env: HashMap::new(),
        mut_params: sig
            .params
            .iter()
            .filter(|p| p.mutable)
            .map(|p| p.name.to_string())
            .collect(),
        float: sig.float.clone(),
        second_var: None,
        decls: HashMap::new(),
        latest: HashMap::new(),
        next_decl: 0,
        helpers,
        inlining: Vec::new(),
        helper_generic: None,
        early: None,
        step_sig: Some(sig),
        wrt: loops.wrt.clone(),
        reassociate: loops.reassociate,
        loops: 0,
        items: Vec::new(),
        step_names: loops.step.iter().map(ToString::to_string).collect(),
        results: Vec::new(),
    };
    for (i, p) in sig.params.iter().enumerate() {
        let id = b.push(
            Op::Param(i),
            vec![],
            p.kind,
            p.name.span(),
            p.name.to_string(),
        );
        if let Some(node) = b.nodes.get_mut(id) {
            node.name = Some(p.name.to_string());
        }
        let binding = if p.flag {
            let n = &p.name;
            Binding::Flag(if p.by_ref {
                quote::quote!(*#n)
            } else {
                quote::quote!(#n)
            })
        } else if p.count {
            // A count: the companions have the parameter under the same name.
            let n = &p.name;
            Binding::Count(Count::Expr(if p.by_ref {
                quote::quote!(*#n)
            } else {
                quote::quote!(#n)
            }))
        } else {
            Binding::Node(id)
        };
        b.bind(p.name.to_string(), binding, false);
    }
    let output = b.block(block);
    let failed = b.cx.count() > before;
    let (nodes, results, items) = (b.nodes, b.results, b.items);
    match output {
        Ok(output) if !failed => Some(Graph {
            nodes,
            output,
            float: sig.float.clone(),
            results,
            items,
        }),
        _ => None,
    }
}

/// The source text of `t` for messages: the user's own text when the compiler
/// gives it, else its tokens with the spacing tidied.
pub fn source_text<T: ToTokens + Spanned>(t: &T) -> String {
    let raw = t.to_token_stream().to_string();
    // Inside a real macro expansion a span covers only its first token (joining
    // spans is unstable), so the compiler's text is used only when it is the
    // whole construct. Outside one (the snapshot tests, the CLI), proc-macro2's
    // span locations, when some crate of the build turns them on, would join spans
    // and change the text with the feature set: not read there.
    if let Some(s) = t
        .span()
        .source_text()
        .filter(|_| proc_macro::is_available())
    {
        if s.parse::<proc_macro2::TokenStream>()
            .is_ok_and(|ts| ts.to_string() == raw)
        {
            return s;
        }
    }
    let mut s = raw
        .replace(" . ", ".")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")");
    s = s
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace("& ", "&")
        .replace(" ,", ",")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace(" [", "[")
        // `f((1, 1), (2, 2))`: the space after a comma, taken above before `(`.
        .replace(",(", ", (");
    s
}

impl Builder<'_> {
    fn push(&mut self, op: Op, args: Vec<NodeId>, kind: Kind, span: Span, text: String) -> NodeId {
        self.nodes.push(Node {
            op,
            args,
            kind,
            span,
            text,
            name: None,
        });
        self.nodes.len() - 1
    }

    /// Pushes `op` applied to `args`, its kind given by its rule's shape: the one
    /// place shapes are inferred, by the formula the cost model reads too.
    fn push_op(&mut self, op: Op, args: Vec<NodeId>, span: Span, text: String) -> NodeId {
        let kind = rules::rule(&op).shape().kind(
            &args,
            |a| self.nodes.get(a).map_or(Kind::Scalar, |n| n.kind),
            Kind::Scalar,
        );
        self.push(op, args, kind, span, text)
    }

    fn kind(&self, id: NodeId) -> Kind {
        self.nodes.get(id).map_or(Kind::Scalar, |node| node.kind)
    }

    /// An error of static shapes: the operation cannot type-check (or would panic)
    /// whatever the values.
    fn shape_err<R, T: ToTokens>(&mut self, t: T, msg: impl std::fmt::Display) -> Res<R> {
        self.cx.shape_error(t, msg);
        Err(())
    }

    fn err<R, T: ToTokens>(&mut self, t: T, msg: impl std::fmt::Display) -> Res<R> {
        self.cx.error_spanned_by(t, msg);
        Err(())
    }

    /// Reports `msg`, or leaves it to rustc when rustc reports the same mistake on
    /// the original function.
    fn err_unless_rustc<R, T: ToTokens>(
        &mut self,
        t: T,
        msg: impl std::fmt::Display,
        rustc_reports: bool,
    ) -> Res<R> {
        if rustc_reports {
            self.cx.leave_to_rustc(t, msg);
            Err(())
        } else {
            self.err(t, msg)
        }
    }

    /// Whether the kind of node `id` is certain: it depends on no outside name
    /// (`LAMBDA`, assumed to be a scalar), so rustc types it as matgrad does.
    fn certain(&self, id: NodeId) -> bool {
        // Each node once: values used several times make the graph a DAG, whose
        // paths are exponentially many.
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let Some(node) = self.nodes.get(n) else {
                return false;
            };
            if seen.get_mut(n).is_none_or(|s| std::mem::replace(s, true)) {
                continue;
            }
            if matches!(node.op, Op::Const(_)) {
                return false;
            }
            stack.extend(node.args.iter().copied());
        }
        true
    }

    // -- statements -------------------------------------------------------

    fn block(&mut self, block: &Block) -> Res<NodeId> {
        let mut tail: Option<Res<NodeId>> = None;
        let n = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == n;
            if last && self.inlining.is_empty() && !self.step_names.is_empty() {
                self.record_results();
            }
            self.block_stmt(stmt, last, &mut tail);
            // A `return` in a branch taken: the rest is not run.
            if let Some(r) = self.early.take() {
                tail = Some(r);
                break;
            }
        }
        match tail {
            // Both are type errors of the original function (its return type is a
            // float), which rustc reports at the same place: left to rustc. (A
            // helper may return a matrix.)
            Some(Ok(id)) if self.kind(id).is_matrix() && self.inlining.is_empty() => {
                let Some(node) = self.nodes.get(id) else {
                    return Err(());
                };
                let msg = "this #[grad] function ends with a matrix: its value must be a scalar; reduce it with `.sum()`, `.norm_squared()`, `.dot(&b)` or `[(0, 0)]`";
                self.cx.leave_to_rustc_at(node.span, msg);
                Err(())
            }
            Some(r) => r,
            None => {
                let span = block.brace_token.span.close();
                let msg = "a #[grad] function must end with its scalar value (an expression without `;`, or `return expr;`)";
                self.cx.leave_to_rustc_at(span, msg);
                Err(())
            }
        }
    }

    /// One statement of [`Builder::block`]; `tail` receives the value.
    fn block_stmt(&mut self, stmt: &Stmt, last: bool, tail: &mut Option<Res<NodeId>>) {
        if tail.is_some() {
            self.cx.error_spanned_by(
                    stmt,
                    "code after `return` is never run: the value of a #[grad] function is its last expression",
                );
            return;
        }
        match stmt {
            Stmt::Local(local) => self.local(local),
            Stmt::Expr(Expr::Return(r), _) => {
                let r = match &r.expr {
                    Some(e) => self.expr(e),
                    None => self.err(r, "`return` needs the function's value: `return expr;`"),
                };
                *tail = Some(r);
            }
            Stmt::Expr(e, None) if last => *tail = Some(self.expr(e)),
            // `value;` at the end: the missing tail, which rustc reports
            // ("remove this semicolon"); not also "has no effect".
            Stmt::Expr(e, Some(_)) if last => self.statement_expr(e, false),
            Stmt::Expr(e, _) => self.statement_expr(e, true),
            Stmt::Item(item) => self.cx.error_spanned_by(
                item,
                "items inside a #[grad] function are not supported: move them outside the function",
            ),
            Stmt::Macro(m) => self.macro_error(&m.mac),
        }
    }

    fn local(&mut self, local: &syn::Local) {
        // `let _ = expr;`: read for its errors, bound to nothing.
        if let (Pat::Wild(_), Some(init)) = (&local.pat, &local.init) {
            let _ = self.value_binding(&init.expr, "_");
            return;
        }
        // `let (a, b) = (x, y);`: one `let` per name.
        if let (Pat::Tuple(pt), Some(init)) = (&local.pat, &local.init) {
            if let Expr::Tuple(values) = strip(&init.expr) {
                if pt.elems.len() == values.elems.len() && init.diverge.is_none() {
                    for (pat, value) in pt.elems.iter().zip(&values.elems) {
                        let one = syn::Local {
                            attrs: Vec::new(),
                            let_token: local.let_token,
                            pat: pat.clone(),
                            init: Some(syn::LocalInit {
                                eq_token: init.eq_token,
                                expr: Box::new(value.clone()),
                                diverge: None,
                            }),
                            semi_token: local.semi_token,
                        };
                        self.local(&one);
                    }
                    return;
                }
            }
        }
        let name = match &local.pat {
            Pat::Ident(pi) => Some(pi),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => Some(pi),
                _ => None,
            },
            _ => None,
        };
        let Some(pi) = name.filter(|pi| pi.by_ref.is_none() && pi.subpat.is_none()) else {
            self.cx.error_spanned_by(
                &local.pat,
                "patterns in `let` are not supported in a #[grad] function: bind one name per `let` (`let z = x * w;`), or a tuple of names to a tuple of values (`let (a, b) = (p[0], p[1]);`)",
            );
            return;
        };
        let key = pi.ident.to_string();
        self.mut_params.retain(|n| *n != key);
        let mutable = pi.mutability.is_some();
        let Some(init) = &local.init else {
            self.cx.error_spanned_by(local, "`let` without a value is not supported in a #[grad] function: write `let name = expr;` (with `let mut` to assign it later)");
            self.bind(key, Binding::Poisoned, mutable);
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            self.cx.error_spanned_by(
                else_token,
                "`let ... else` is not supported in a #[grad] function",
            );
        }
        let binding = self.value_binding(&init.expr, &key);
        self.bind(key, binding, mutable);
    }

    /// What a name bound to `e` refers to: a count, a node (named `name` if it has
    /// no name yet), or, when `e` was rejected, nothing.
    fn value_binding(&mut self, e: &Expr, name: &str) -> Binding {
        if self.is_count(e) {
            if let Ok(count) = self.count(e) {
                return Binding::Count(count);
            }
        }
        match self.expr(e) {
            Ok(id) => {
                if let Some(node) = self.nodes.get_mut(id).filter(|n| n.name.is_none()) {
                    node.name = Some(name.to_owned());
                }
                Binding::Node(id)
            }
            Err(()) => Binding::Poisoned,
        }
    }

    fn statement_expr(&mut self, e: &Expr, report_no_effect: bool) {
        match e {
            Expr::Assign(_) | Expr::Binary(_) if is_assignment(e) => {
                let _ = self.expr(e);
            }
            Expr::Macro(m) => self.macro_error(&m.mac),
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::If(i) => self.if_statement(i),
            Expr::Match(_) | Expr::While(_) | Expr::Loop(_) => {
                let _ = self.expr(e);
            }
            other => {
                if self.expr(other).is_ok() && report_no_effect {
                    self.cx.error_spanned_by(
                        other,
                        "this statement has no effect: bind it with `let name = ...;` or make it the function's last expression",
                    );
                }
            }
        }
    }

    /// `target = value`, or `target op= value` when `op` is given (at `at`): the
    /// `let mut` name `target` refers to a new value (a new node: the IR stays in
    /// SSA form). A target whose `let` was rejected is the same mistake and is not
    /// reported again; assigning to an immutable name is rustc's error.
    fn assignment<T: ToTokens>(
        &mut self,
        target: &Expr,
        value: &Expr,
        at: T,
        op: Option<&BinOp>,
    ) -> Res<NodeId> {
        if self.is_poisoned(target) || self.is_mut_param(target) {
            let _ = self.expr(value);
            return Err(());
        }
        let name = match strip(target) {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            Expr::Index(_) => {
                let _ = self.expr(value);
                return self.err(at, "assigning to one entry is not supported in a #[grad] function: build the value as an expression instead (`Vector3::new(a, b, c)`, `DMatrix::from_diagonal(&v)`, a sum of parts)");
            }
            _ => None,
        };
        let Some(name) = name else {
            let _ = self.expr(value);
            return self.err(
                at,
                "only a name can be assigned to in a #[grad] function: `h = expr;`",
            );
        };
        let decl = self.decls.get(&name).copied();
        let Some(decl) = decl.filter(|d| d.mutable) else {
            let _ = self.expr(value);
            // rustc: "cannot assign twice to immutable variable" or "cannot find value".
            self.cx
                .leave_to_rustc(at, format!("`{name}` is not declared `let mut`"));
            return Err(());
        };
        // `h op= v` is `h = h op v`, read with the spans of the statement.
        let combined;
        let value = match op.and_then(plain_op) {
            Some(bin) => {
                combined = Expr::Binary(syn::ExprBinary {
                    attrs: Vec::new(),
                    left: Box::new(target.clone()),
                    op: bin,
                    right: Box::new(value.clone()),
                });
                &combined
            }
            None if op.is_some() => {
                let _ = self.expr(value);
                return self.err(
                    at,
                    "only `+=`, `-=`, `*=` and `/=` are supported in a #[grad] function",
                );
            }
            None => value,
        };
        let binding = self.value_binding(value, &name);
        self.latest.insert(decl.id, binding.clone());
        self.env.insert(name, binding.clone());
        match binding {
            Binding::Node(id) => Ok(id),
            _ => Err(()),
        }
    }

    /// The statements of a block whose value is `()`: a loop body or a branch taken
    /// as a statement.
    fn statements(&mut self, block: &Block) {
        for stmt in &block.stmts {
            if self.early.is_some() {
                return;
            }
            self.statement(stmt);
        }
    }

    /// One statement of [`Builder::statements`].
    fn statement(&mut self, stmt: &Stmt) {
        {
            match stmt {
                Stmt::Local(local) => self.local(local),
                Stmt::Expr(Expr::Return(r), _) => {
                    let value = match &r.expr {
                        Some(e) => self.expr(e),
                        None => self.err(r, "`return` needs the function's value: `return expr;`"),
                    };
                    self.early = Some(value);
                }
                Stmt::Expr(e, _) => self.statement_expr(e, true),
                Stmt::Item(item) => self.cx.error_spanned_by(
                    item,
                    "items inside a #[grad] function are not supported: move them outside the function",
                ),
                Stmt::Macro(m) => self.macro_error(&m.mac),
            }
        }
    }

    /// The value of a block: its statements, then its last expression.
    fn block_value(&mut self, block: &Block) -> Res<NodeId> {
        let Some((last, rest)) = block.stmts.split_last() else {
            return self.err(block, "this block has no value");
        };
        for stmt in rest {
            match stmt {
                Stmt::Local(local) => self.local(local),
                Stmt::Expr(e, _) => self.statement_expr(e, true),
                Stmt::Item(item) => self.cx.error_spanned_by(item, "items inside a #[grad] function are not supported: move them outside the function"),
                Stmt::Macro(m) => self.macro_error(&m.mac),
            }
        }
        match last {
            Stmt::Expr(e, None) => self.expr(e),
            other => self.err(
                other,
                "this block must end with its value (an expression without `;`)",
            ),
        }
    }

    /// `for i in a..b { .. }` with bounds known at compile time: unrolled, `i` a
    /// literal count in each copy of the body.
    fn for_loop(&mut self, f: &syn::ExprForLoop) {
        let var = match &*f.pat {
            Pat::Ident(pi)
                if pi.by_ref.is_none() && pi.subpat.is_none() && pi.mutability.is_none() =>
            {
                Some(pi.ident.to_string())
            }
            Pat::Wild(_) => None,
            other => {
                self.cx.error_spanned_by(
                    other,
                    "a `for` loop in a #[grad] function binds one name (`for t in 0..n`) or `_`",
                );
                return;
            }
        };
        if let Expr::Range(r) = strip(&f.expr) {
            if self.run_time_bounds(r) {
                self.run_time_loop(f, r, var);
                return;
            }
        }
        let Some(range) = self.const_range(&f.expr) else {
            return;
        };
        for k in range {
            if self.early.is_some() {
                break;
            }
            self.scoped(|b| {
                if let Some(v) = &var {
                    b.bind(v.clone(), Binding::Count(Count::Lit(k)), false);
                }
                b.statements(&f.body);
            });
        }
    }

    /// The iterations of `a..b` or `a..=b` whose bounds are integer literals or
    /// counts known at compile time (reported otherwise).
    fn const_range(&mut self, e: &Expr) -> Option<std::ops::Range<usize>> {
        let Expr::Range(r) = strip(e) else {
            self.cx.error_spanned_by(e, "a `for` loop in a #[grad] function runs over a range of counts, as in `for t in 0..8`");
            return None;
        };
        let bound =
            |b: &Option<Box<Expr>>, this: &Self| b.as_deref().and_then(|e| this.const_count(e));
        let (Some(start), Some(end)) = (bound(&r.start, self), bound(&r.end, self)) else {
            self.cx.error_spanned_by(r, "a `for` loop or an iterator sum in a #[grad] function runs over a range with an end, `a..b` or `a..=b`, as in `for t in 0..x.ncols()`");
            return None;
        };
        let end = if matches!(r.limits, syn::RangeLimits::Closed(_)) {
            end + 1
        } else {
            end
        };
        if end.saturating_sub(start) > MAX_UNROLLED {
            self.cx.error_spanned_by(r, format!("this loop runs {} times: loops are unrolled at compile time, up to {MAX_UNROLLED} iterations", end - start));
            return None;
        }
        Some(start..end.max(start))
    }

    /// Whether the range `r` of a `for` loop runs a number of times known only at
    /// run time, or more times than loops are unrolled: then it is not unrolled.
    fn run_time_bounds(&self, r: &syn::ExprRange) -> bool {
        if self.step_sig.is_none() {
            return false;
        }
        let bound = |b: &Option<Box<Expr>>| b.as_deref().map(|e| self.const_count(e));
        match (bound(&r.start), bound(&r.end)) {
            (Some(None), _) | (_, Some(None)) => r.end.is_some(),
            (start, Some(Some(end))) => {
                let start = start.flatten().unwrap_or(0);
                end.saturating_sub(start) > MAX_UNROLLED
            }
            _ => false,
        }
    }

    /// The value of a count made of integer literals and counts known at compile
    /// time (loop indices), if it is one.
    fn const_count(&self, e: &Expr) -> Option<usize> {
        match strip(e) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => i.base10_parse().ok(),
            Expr::Path(p) => match self.env.get(&p.path.get_ident()?.to_string()) {
                Some(Binding::Count(Count::Lit(n))) => Some(*n),
                _ => None,
            },
            Expr::Binary(b) => {
                let (l, r) = (self.const_count(&b.left)?, self.const_count(&b.right)?);
                match b.op {
                    BinOp::Add(_) => l.checked_add(r),
                    BinOp::Sub(_) => l.checked_sub(r),
                    BinOp::Mul(_) => l.checked_mul(r),
                    BinOp::Div(_) => l.checked_div(r),
                    BinOp::Rem(_) => l.checked_rem(r),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A condition known at compile time: comparisons of counts known at compile
    /// time (`t == 0`, `i % 2 == 1`), combined with `&&`, `||`, `!`.
    fn const_condition(&self, e: &Expr) -> Option<bool> {
        match strip(e) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Bool(b), ..
            }) => Some(b.value),
            Expr::Unary(u) if matches!(u.op, UnOp::Not(_)) => {
                self.const_condition(&u.expr).map(|b| !b)
            }
            Expr::Binary(b) => match b.op {
                BinOp::And(_) => {
                    Some(self.const_condition(&b.left)? && self.const_condition(&b.right)?)
                }
                BinOp::Or(_) => {
                    Some(self.const_condition(&b.left)? || self.const_condition(&b.right)?)
                }
                _ => {
                    let (l, r) = (self.const_count(&b.left)?, self.const_count(&b.right)?);
                    match b.op {
                        BinOp::Eq(_) => Some(l == r),
                        BinOp::Ne(_) => Some(l != r),
                        BinOp::Lt(_) => Some(l < r),
                        BinOp::Le(_) => Some(l <= r),
                        BinOp::Gt(_) => Some(l > r),
                        BinOp::Ge(_) => Some(l >= r),
                        _ => None,
                    }
                }
            },
            _ => None,
        }
    }

    /// Reports the condition of `i`, which is not known at compile time.
    fn runtime_condition(&mut self, i: &syn::ExprIf) {
        self.cx.error_spanned_by(&i.cond, "this condition depends on computed values: `if` in a #[grad] function (outside `map` closures) decides on `bool` parameters and counts (loop indices, shapes, `usize` parameters), as in `if t >= 2` or `if robust`; a condition on computed values is supported inside a closure: `a.map(|v| if v > 0.0 { v } else { 0.0 })`");
    }

    /// `if cond { .. } else { .. }` as a statement, `cond` known at compile time.
    fn if_statement(&mut self, i: &syn::ExprIf) {
        let Some(c) = self.const_condition(&i.cond) else {
            self.run_time_if(i, quote::quote!(true));
            return;
        };
        if c {
            self.scoped(|b| b.statements(&i.then_branch));
            return;
        }
        match i.else_branch.as_ref().map(|(_, e)| &**e) {
            Some(Expr::If(next)) => self.if_statement(next),
            Some(Expr::Block(b)) => self.scoped(|this| this.statements(&b.block)),
            Some(other) => self.cx.error_spanned_by(other, "`else` takes a block"),
            None => {}
        }
    }

    /// `if cond { a } else { b }` as a value, `cond` known at compile time.
    fn if_value(&mut self, i: &syn::ExprIf) -> Res<NodeId> {
        let Some(c) = self.const_condition(&i.cond) else {
            if self.condition_tokens(&i.cond).is_some() {
                return self.run_time_if_value(i);
            }
            self.runtime_condition(i);
            return Err(());
        };
        if c {
            return self.scoped(|b| b.block_value(&i.then_branch));
        }
        match i.else_branch.as_ref().map(|(_, e)| &**e) {
            Some(Expr::If(next)) => self.if_value(next),
            Some(Expr::Block(b)) => self.scoped(|this| this.block_value(&b.block)),
            Some(other) => self.err(other, "`else` takes a block"),
            None => self.err(i, "an `if` used as a value needs an `else`"),
        }
    }

    /// The user's function `f` with the adjoint `adjoint` (`#[custom_adjoint]`), called
    /// as `p`: checked to take and return scalars.
    fn user_fn(&mut self, p: &syn::ExprPath, h: &syn::ItemFn, adjoint: &syn::Path) -> Res<UserFn> {
        let scalar = |ty: &syn::Type| {
            let generic = h.sig.generics.params.iter().find_map(|g| match g {
                syn::GenericParam::Type(t) => Some(&t.ident),
                _ => None,
            });
            super::signature::scalar_type(ty, generic).is_some()
        };
        let params_scalar = h
            .sig
            .inputs
            .iter()
            .all(|i| matches!(i, syn::FnArg::Typed(pt) if scalar(&pt.ty)));
        let returns_scalar = matches!(&h.sig.output, syn::ReturnType::Type(_, ty) if scalar(ty));
        if !params_scalar || !returns_scalar {
            return self.err(&h.sig, "#[custom_adjoint] functions take and return scalars (`fn f(a: f64, b: f64) -> f64`): use one entrywise as `x.map(|v| f(v))`");
        }
        // An adjoint named by one identifier lives beside the function: called by a
        // path (`special::j0`), the adjoint is reached by the same path.
        let mut adjoint = adjoint.clone();
        if adjoint.segments.len() == 1 && p.path.segments.len() > 1 {
            let mut full = p.path.clone();
            if let (Some(last), Some(a)) = (full.segments.last_mut(), adjoint.segments.first()) {
                *last = a.clone();
            }
            adjoint = full;
        }
        Ok(UserFn {
            path: p.path.to_token_stream().to_string(),
            adjoint: adjoint.to_token_stream().to_string(),
            arity: h.sig.inputs.len(),
        })
    }

    /// A call of the user's scalar function with a user-supplied adjoint, outside a
    /// closure: a node.
    fn user_call(
        &mut self,
        c: &syn::ExprCall,
        p: &syn::ExprPath,
        h: &syn::ItemFn,
        adjoint: &syn::Path,
    ) -> Res<NodeId> {
        if let Some(params) = self.matrix_signature(h) {
            return self.matrix_user_call(c, p, h, adjoint, params);
        }
        let f = self.user_fn(p, h, adjoint)?;
        if c.args.len() != f.arity {
            return self.err_unless_rustc(
                c,
                format!("`{}` takes {} argument(s)", f.name(), f.arity),
                true,
            );
        }
        let mut args = Vec::new();
        for a in &c.args {
            let id = self.expr(a)?;
            if self.kind(id).is_matrix() {
                return self.err(
                    a,
                    format!(
                        "`{}` takes scalars: apply it to every entry with `a.map(|v| {}(v))`",
                        f.name(),
                        f.name()
                    ),
                );
            }
            args.push(id);
        }
        Ok(self.push_op(Op::User(Box::new(f)), args, c.span(), source_text(c)))
    }

    /// A call of the `#[differentiable]` helper `h`: its body read with its parameters
    /// bound to the arguments, in a scope of its own; the value is its result.
    fn inline(&mut self, c: &syn::ExprCall, h: &syn::ItemFn) -> Res<NodeId> {
        let name = h.sig.ident.to_string();
        if self.inlining.contains(&name) {
            return self.err(c, format!("`{name}` calls itself: recursive helpers are not supported in a #[grad] function"));
        }
        if c.args.len() != h.sig.inputs.len() {
            // rustc reports the argument count of an ordinary call.
            return self.err_unless_rustc(
                c,
                format!("`{name}` takes {} argument(s)", h.sig.inputs.len()),
                true,
            );
        }
        let generic = h.sig.generics.params.iter().find_map(|g| match g {
            syn::GenericParam::Type(t) => Some(t.ident.clone()),
            _ => None,
        });
        // The arguments, read in the caller's scope.
        let mut bound = Vec::new();
        let mut failed = false;
        for (arg, input) in c.args.iter().zip(&h.sig.inputs) {
            let syn::FnArg::Typed(pt) = input else {
                return self.err(
                    input,
                    "a #[differentiable] helper is a free function: it takes no `self`",
                );
            };
            let Pat::Ident(pi) = &*pt.pat else {
                return self.err(
                    &pt.pat,
                    "a #[differentiable] helper's parameters are plain names",
                );
            };
            let is_count = matches!(&*pt.ty, syn::Type::Path(tp) if tp.path.is_ident("usize"))
                || matches!(&*pt.ty, syn::Type::Reference(r) if matches!(&*r.elem, syn::Type::Path(tp) if tp.path.is_ident("usize")));
            let is_flag = matches!(&*pt.ty, syn::Type::Path(tp) if tp.path.is_ident("bool"))
                || matches!(&*pt.ty, syn::Type::Reference(r) if matches!(&*r.elem, syn::Type::Path(tp) if tp.path.is_ident("bool")));
            let binding = if is_flag {
                // A `bool` passes a flag of the caller's (`robust`, or `&robust`).
                let name = match strip(arg) {
                    Expr::Reference(r) => strip(&r.expr),
                    e => e,
                };
                let flag = match name {
                    Expr::Path(p) => {
                        p.path
                            .get_ident()
                            .and_then(|id| match self.env.get(&id.to_string()) {
                                Some(Binding::Flag(t)) => Some(t.clone()),
                                _ => None,
                            })
                    }
                    _ => None,
                };
                match flag {
                    Some(t) => Binding::Flag(t),
                    None => {
                        self.cx.error_spanned_by(
                            arg,
                            "a `bool` argument of a helper is a `bool` parameter of the calling function",
                        );
                        failed = true;
                        continue;
                    }
                }
            } else if is_count {
                match self.count_of(arg, "a count argument") {
                    Ok(n) => Binding::Count(n),
                    Err(()) => {
                        failed = true;
                        continue;
                    }
                }
            } else {
                match self.expr(arg) {
                    Ok(id) => Binding::Node(id),
                    Err(()) => {
                        failed = true;
                        continue;
                    }
                }
            };
            bound.push((pi.ident.to_string(), binding));
        }
        if failed {
            return Err(());
        }
        // The body, in a scope that sees only the helper's parameters.
        let (env, decls, mut_params) = (
            std::mem::take(&mut self.env),
            std::mem::take(&mut self.decls),
            std::mem::take(&mut self.mut_params),
        );
        let outer_generic = std::mem::replace(&mut self.helper_generic, generic);
        for (param, binding) in bound {
            self.bind(param, binding, false);
        }
        self.inlining.push(name);
        let outer_early = self.early.take();
        let value = self.block(&h.block);
        self.early = outer_early;
        self.inlining.pop();
        self.helper_generic = outer_generic;
        self.env = env;
        self.decls = decls;
        self.mut_params = mut_params;
        value
    }

    /// `(a..b).map(|i| body).sum()` (also `.sum::<f64>()`), bounds known at compile
    /// time: the sum of the unrolled bodies.
    fn iterator_sum(&mut self, m: &syn::ExprMethodCall, map: &syn::ExprMethodCall) -> Res<NodeId> {
        let Some(Expr::Closure(c)) = map.args.first().filter(|_| map.args.len() == 1) else {
            return self.err(
                map,
                "an iterator sum takes one closure: `(0..n).map(|i| ...).sum::<f64>()`",
            );
        };
        let var = match c.inputs.first() {
            Some(Pat::Ident(pi)) if c.inputs.len() == 1 => Some(pi.ident.to_string()),
            Some(Pat::Wild(_)) if c.inputs.len() == 1 => None,
            _ => {
                return self.err(
                    &c.inputs,
                    "the closure of an iterator sum takes one index: `|i| ...`",
                )
            }
        };
        if let Expr::Range(r) = strip(&map.receiver) {
            if self.run_time_bounds(r) {
                return self.run_time_sum(c, r, m);
            }
        }
        let Some(range) = self.const_range(&map.receiver) else {
            return Err(());
        };
        let mut total: Option<NodeId> = None;
        let (span, text) = (m.span(), source_text(m));
        for k in range {
            let term = self.scoped(|b| {
                if let Some(v) = &var {
                    b.bind(v.clone(), Binding::Count(Count::Lit(k)), false);
                }
                b.expr(&c.body)
            })?;
            total = Some(match total {
                None => term,
                Some(t) => {
                    let op = match (self.kind(t), self.kind(term)) {
                        (Kind::Scalar, Kind::Scalar) => Op::Scalar(SOp::Add),
                        (Kind::Matrix(_), Kind::Matrix(_)) => Op::Add,
                        _ => {
                            return self.err(
                                &c.body,
                                "the terms of an iterator sum are all scalars or all matrices",
                            )
                        }
                    };
                    self.push_op(op, vec![t, term], span, text.clone())
                }
            });
        }
        match total {
            Some(t) => Ok(t),
            None => Ok(self.push(Op::Lit(0.0), vec![], Kind::Scalar, span, text)),
        }
    }

    /// Whether `e` is (an entry of) a parameter declared `mut` (already reported).
    fn is_mut_param(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|id| self.mut_params.iter().any(|n| id == n)),
            Expr::Index(ix) => self.is_mut_param(&ix.expr),
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.is_mut_param(&u.expr),
            _ => false,
        }
    }

    /// Whether `e` is (an entry of) a name whose definition was rejected.
    fn is_poisoned(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|id| matches!(self.env.get(&id.to_string()), Some(Binding::Poisoned))),
            Expr::Index(ix) => self.is_poisoned(&ix.expr),
            Expr::Field(f) => self.is_poisoned(&f.base),
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.is_poisoned(&u.expr),
            Expr::Reference(r) => self.is_poisoned(&r.expr),
            _ => false,
        }
    }

    fn macro_error(&mut self, mac: &syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string());
        self.cx.error_spanned_by(
            mac,
            format!("macros such as `{name}!` are not supported in a #[grad] function: matgrad cannot see through them; write the expression directly"),
        );
    }

    // -- expressions ------------------------------------------------------

    fn expr(&mut self, e: &Expr) -> Res<NodeId> {
        if let Some(c) = self.generic().and_then(|t| generic_const(e, t)) {
            return self.generic_constant(c, e);
        }
        match e {
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    return self.err(m, "`&mut` is not supported in a #[grad] function: values cannot be modified; use `&`");
                }
                self.expr(&r.expr)
            }
            Expr::Lit(l) => self.literal(&l.lit),
            Expr::Path(p) => self.path(p),
            Expr::Binary(b) => self.binary(b),
            Expr::Unary(u) => self.unary(u),
            Expr::MethodCall(m) => self.method(m),
            Expr::Call(c) => self.call(c),
            Expr::Index(ix) => self.index(ix),
            Expr::Cast(c) => self.cast(c),
            Expr::If(i) => self.if_value(i),
            Expr::Block(b) if b.label.is_none() => self.scoped(|this| this.block_value(&b.block)),
            other => self.unsupported(other),
        }
    }

    fn unsupported(&mut self, e: &Expr) -> Res<NodeId> {
        let msg = match e {
            Expr::If(i) => return self.err(i.if_token, "`if` is not supported in a #[grad] function: matgrad differentiates straight-line code; compute both branches or use `relu`/`max`"),
            Expr::Match(m) => return self.err(m.match_token, "`match` is not supported in a #[grad] function: matgrad differentiates straight-line code; compute every case or use `max`/`min`"),
            Expr::ForLoop(f) => return self.err(f.for_token, "`for` loops are not supported in a #[grad] function: matgrad differentiates straight-line code; use whole-matrix operations (`*`, `.map`, `.sum()`) instead of loops"),
            Expr::While(w) => return self.err(w.while_token, "`while` loops are not supported in a #[grad] function: matgrad differentiates straight-line code; use whole-matrix operations instead of loops"),
            Expr::Loop(l) => return self.err(l.loop_token, "`loop` is not supported in a #[grad] function: matgrad differentiates straight-line code; use whole-matrix operations instead of loops"),
            Expr::Closure(_) => "closures are only supported as the argument of `.map(|v| ...)` in a #[grad] function",
            Expr::Macro(m) => {
                self.macro_error(&m.mac);
                return Err(());
            }
            Expr::Assign(a) => {
                let _ = self.assignment(&a.left, &a.right, a, None);
                return Err(());
            }
            Expr::Try(t) => return self.err(t.question_token, "`?` is not supported in a #[grad] function: the loss returns a plain scalar; use `.unwrap()` or `.expect(\"...\")` on `try_inverse()`"),
            Expr::Block(_) | Expr::Unsafe(_) => "blocks are not supported in a #[grad] function: write the statements at the top level of the body",
            Expr::Return(_) => "`return` is only supported as the last statement of a #[grad] function",
            Expr::Field(_) => "field access is not supported in a #[grad] function: pass the matrices as parameters",
            Expr::Tuple(_) | Expr::Array(_) | Expr::Struct(_) | Expr::Repeat(_) => "tuples, arrays and structs are not supported in a #[grad] function: every value is a matrix or a scalar",
            Expr::Range(_) => "ranges are not supported in a #[grad] function: instead of iterating over indices (`(0..n).map(|i| z[(i, 0)]).sum()`), write the whole-matrix form (`z.column(0).sum()`, `z.rows(0, n).sum()`, `a.dot(&b)`)",
            Expr::Async(_) | Expr::Await(_) => "`async`/`.await` are not supported in a #[grad] function",
            Expr::Index(_) => "this indexing is not supported in a #[grad] function: index a matrix with counts, as in `a[(i, j)]` or `v[i]`",
            Expr::Let(_) => "`let` expressions (`if let`, `while let`) are not supported in a #[grad] function: write `let` statements",
            Expr::Lit(_) => "only float literals are supported in a #[grad] function",
            Expr::Break(_) | Expr::Continue(_) | Expr::Yield(_) => "`break`, `continue` and `yield` are not supported in a #[grad] function: the body is straight-line code",
            Expr::Infer(_) => "`_` is not a value: write the expression",
            Expr::TryBlock(_) | Expr::Const(_) => "`try` and `const` blocks are not supported in a #[grad] function: write the statements at the top level of the body",
            _ => "this kind of expression is not supported in a #[grad] function: the body is nalgebra matrix and scalar expressions (see the language table in matgrad's documentation)",
        };
        self.err(e, msg)
    }

    /// `count as f64`: a count (`x.nrows()`, `x.len() - 1`, a literal) as a scalar of
    /// the function's float type.
    fn cast(&mut self, c: &syn::ExprCast) -> Res<NodeId> {
        let float = self.float.name();
        let to_float =
            matches!(&*c.ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(&float));
        if let (false, Some(t)) = (to_float, self.generic()) {
            let msg = format!("`as` cannot make a `{t}`: write `{t}::from_usize(x.nrows()).unwrap()` for a count and `{t}::from_f64(0.5).unwrap()` (or `nalgebra::convert(0.5)`) for a constant");
            return self.err(c, msg);
        }
        if !to_float {
            let msg = format!("`as` is supported in a #[grad] function only to make a count a float, as in `x.nrows() as {float}`: use float literals (`2.0`) and one float type");
            return self.err(c, msg);
        }
        if !self.is_count(&c.expr) {
            // A float already: `as` its own type changes nothing.
            let id = self.expr(&c.expr)?;
            if self.kind(id).is_matrix() {
                return self.err(c, format!("cannot cast a matrix with `as {float}`"));
            }
            return Ok(id);
        }
        let count = match int_literal(&c.expr) {
            Some(n) => Count::Lit(n),
            None => Count::Expr(self.count_tokens(&c.expr)),
        };
        Ok(self.push(
            Op::Cast(count),
            vec![],
            Kind::Scalar,
            c.span(),
            source_text(c),
        ))
    }

    /// A constant of the generic float type (`T::from_f64(0.5).unwrap()`,
    /// `T::from_usize(x.nrows()).unwrap()`, `nalgebra::convert(2.0)`, `T::one()`).
    fn generic_constant(&mut self, c: GenericConst<'_>, e: &Expr) -> Res<NodeId> {
        match c {
            GenericConst::Value(v) => {
                Ok(self.push(Op::Lit(v), vec![], Kind::Scalar, e.span(), source_text(e)))
            }
            GenericConst::Count(n) => {
                if !self.is_count(n) {
                    let t = self.float.name();
                    return self.err(n, format!("this converts a count to `{t}`, but it is not a count (`x.nrows()`, a `usize` parameter, integer arithmetic on them): write a float constant as `{t}::from_f64(0.5).unwrap()` or `nalgebra::convert(0.5)`"));
                }
                let count = match int_literal(n) {
                    Some(k) => Count::Lit(k),
                    None => Count::Expr(self.count_tokens(n)),
                };
                Ok(self.push(
                    Op::Cast(count),
                    vec![],
                    Kind::Scalar,
                    e.span(),
                    source_text(e),
                ))
            }
        }
    }

    fn literal(&mut self, lit: &Lit) -> Res<NodeId> {
        match lit {
            Lit::Float(f) => {
                let v = parse_float(f.base10_digits(), &self.float);
                Ok(self.push(Op::Lit(v), vec![], Kind::Scalar, f.span(), f.to_string()))
            }
            Lit::Int(i) => self.err(
                i,
                format!(
                    "integer literal `{i}` in float arithmetic: write `{}.0`",
                    i.base10_digits()
                ),
            ),
            other => self.err(
                other,
                "only float literals are supported in a #[grad] function",
            ),
        }
    }

    fn path(&mut self, p: &syn::ExprPath) -> Res<NodeId> {
        if let Some(id) = p.path.get_ident() {
            match self.env.get(&id.to_string()) {
                Some(Binding::Node(n)) => return Ok(*n),
                Some(Binding::Poisoned) => return Err(()),
                Some(Binding::Count(_)) => {
                    let float = self.float.name();
                    return self.err(p, format!("`{id}` is a count (a `usize`): write `{id} as {float}` to use it as a number"));
                }
                Some(Binding::Flag(_)) => {
                    return self.err(p, format!("`{id}` is a `bool`: it can be the condition of an `if` in a `map` or `zip_map` closure (`a.map(|v| if {id} {{ v.abs() }} else {{ v }})`)"));
                }
                None => {}
            }
        }
        // Anything else is a scalar constant from outside (`LAMBDA`, `std::f64::consts::PI`).
        let tokens = p.to_token_stream();
        Ok(self.push(
            Op::Const(tokens),
            vec![],
            Kind::Scalar,
            p.span(),
            source_text(p),
        ))
    }

    fn binary(&mut self, b: &syn::ExprBinary) -> Res<NodeId> {
        if is_compound(&b.op) {
            return self.assignment(&b.left, &b.right, b.op, Some(&b.op));
        }
        let sym = match b.op {
            BinOp::Add(_) => "+",
            BinOp::Sub(_) => "-",
            BinOp::Mul(_) => "*",
            BinOp::Div(_) => "/",
            _ => {
                return self.err(
                    b.op,
                    "this operator is not supported in a #[grad] function: use `+`, `-`, `*`, `/` (comparisons and boolean logic have no gradient)",
                )
            }
        };
        // `2 * x`: an integer literal against a float or a matrix is a type error
        // rustc reports (with "use a float literal"): left to rustc.
        let lone = match (int_literal_expr(&b.left), int_literal_expr(&b.right)) {
            (Some(lit), None) => Some((lit, &*b.right)),
            (None, Some(lit)) => Some((lit, &*b.left)),
            _ => None,
        };
        if let Some((lit, other)) = lone {
            let o = self.expr(other)?;
            if self.certain(o) {
                self.cx.leave_to_rustc(
                    lit,
                    format!(
                        "integer literal `{}` in float arithmetic: write `{}.0`",
                        source_text(lit),
                        source_text(lit)
                    ),
                );
                return Err(());
            }
            return self.expr(lit);
        }
        let l = self.expr(&b.left);
        let r = self.expr(&b.right);
        let (l, r) = (l?, r?);
        let (kl, kr) = (self.kind(l), self.kind(r));
        // A scalar and a matrix that nalgebra cannot combine: rustc reports it, when
        // both kinds are certain (an outside name such as `LAMBDA` is assumed scalar).
        let rustc_reports = self.certain(l) && self.certain(r);
        let text = source_text(b);
        let span = b.span();
        use Kind::{Matrix as M, Scalar as S};
        // Shapes the types fix and that cannot match: say so here, not in a wall of
        // trait-bound errors from nalgebra.
        if let (M(sa), M(sb)) = (kl, kr) {
            let (da, db) = (sa.describe_a(), sb.describe_a());
            let msg = match sym {
                "+" if conflict(sa, sb) => Some(format!("cannot add {da} and {db}: the shapes differ")),
                "-" if conflict(sa, sb) => Some(format!("cannot subtract {db} from {da}: the shapes differ")),
                "*" if sa.cols.conflicts(sb.rows) => Some(format!(
                    "cannot multiply {da} by {db}: the left factor's column count must equal the right factor's row count"
                )),
                _ => None,
            };
            if let Some(msg) = msg {
                return self.shape_err(b, msg);
            }
        }
        let (op, args) = match (sym, kl, kr) {
            ("+", S, S) => (Op::Scalar(SOp::Add), vec![l, r]),
            ("-", S, S) => (Op::Scalar(SOp::Sub), vec![l, r]),
            ("*", S, S) => (Op::Scalar(SOp::Mul), vec![l, r]),
            ("/", S, S) => (Op::Scalar(SOp::Div), vec![l, r]),
            ("+", M(_), M(_)) => (Op::Add, vec![l, r]),
            ("-", M(_), M(_)) => (Op::Sub, vec![l, r]),
            ("*", M(_), M(_)) => (Op::MatMul, vec![l, r]),
            ("*", M(_), S) => (Op::Scale, vec![l, r]),
            ("*", S, M(_)) => (Op::Scale, vec![r, l]),
            ("/", M(_), S) => (Op::DivScalar, vec![l, r]),
            ("/", _, M(_)) => {
                let msg = "cannot divide by a matrix: for an entrywise quotient write `a.component_div(&b)`";
                return self.err_unless_rustc(b, msg, rustc_reports);
            }
            ("+" | "-", M(_), S) | ("+" | "-", S, M(_)) => {
                let msg = format!("cannot `{sym}` a scalar and a matrix: to add a scalar to every entry write `a.add_scalar(s)` (or `a.add_scalar(-s)`)");
                return self.err_unless_rustc(b, msg, rustc_reports);
            }
            _ => return self.err(b, "unsupported operands"),
        };
        Ok(self.push_op(op, args, span, text))
    }

    fn unary(&mut self, u: &syn::ExprUnary) -> Res<NodeId> {
        match u.op {
            UnOp::Neg(_) => {
                let a = self.expr(&u.expr)?;
                let op = match self.kind(a) {
                    Kind::Scalar => Op::Scalar(SOp::Neg),
                    Kind::Matrix(_) => Op::Neg,
                };
                Ok(self.push_op(op, vec![a], u.span(), source_text(u)))
            }
            UnOp::Deref(_) => self.expr(&u.expr),
            _ => self.err(
                u.op,
                "`!` is not supported in a #[grad] function: it has no gradient",
            ),
        }
    }

    /// `a[(i, j)]` with counts `i`, `j`, or `v[i]` of a vector.
    fn index(&mut self, ix: &syn::ExprIndex) -> Res<NodeId> {
        let a = self.expr(&ix.expr)?;
        let Kind::Matrix(shape) = self.kind(a) else {
            return self.err(ix, "cannot index a scalar");
        };
        let (i, j) = match &*ix.index {
            Expr::Tuple(t) if t.elems.len() == 2 => {
                let mut it = t.elems.iter();
                let (Some(i), Some(j)) = (it.next(), it.next()) else {
                    return Err(());
                };
                let (i, j) = (self.count_of(i, "an index"), self.count_of(j, "an index"));
                (i?, j?)
            }
            // `v[i]`: an entry of a vector; a matrix's linear index is not read.
            e if shape.cols == Dim::One => (self.count_of(e, "an index")?, Count::Lit(0)),
            e if shape.rows == Dim::One => (Count::Lit(0), self.count_of(e, "an index")?),
            e => {
                return self.err(
                    e,
                    "index a matrix by its row and column, as in `a[(i, j)]`; `a[k]` is read only on vectors (`DVector`, `RowDVector`, static vectors)",
                )
            }
        };
        let out = |i: &Count, d: Dim| matches!((i, d.size()), (Count::Lit(i), Some(n)) if *i >= n);
        if out(&i, shape.rows) || out(&j, shape.cols) {
            return self.shape_err(
                &ix.index,
                format!(
                    "index ({i}, {j}) is out of bounds for {}",
                    shape.describe_a()
                ),
            );
        }
        Ok(self.push_op(Op::Index(i, j), vec![a], ix.span(), source_text(ix)))
    }

    // -- calls ------------------------------------------------------------

    fn call(&mut self, c: &syn::ExprCall) -> Res<NodeId> {
        let Expr::Path(p) = &*c.func else {
            return self.err(&c.func, "only calls of matgrad's functions (`sigmoid`, `add_row`, …) are supported in a #[grad] function");
        };
        if let Some(id) = p.path.get_ident() {
            match self.env.get(&id.to_string()) {
                // `let f = |v| ..;` was rejected: calling `f` is the same mistake.
                Some(Binding::Poisoned) => return Err(()),
                Some(Binding::Node(_) | Binding::Count(_) | Binding::Flag(_)) => {
                    return self.err(
                        &c.func,
                        format!("`{id}` is a value, not a function: only matgrad's functions (`sigmoid`, `add_row`, …) can be called in a #[grad] function"),
                    )
                }
                None => {}
            }
        }
        if let Some(h) = super::helper::helper_name(p)
            .and_then(|name| self.helpers.iter().find(|h| h.sig.ident == name))
        {
            if let Some(adjoint) = super::helper::custom_adjoint_of(h) {
                return self.user_call(c, p, h, &adjoint);
            }
            return self.inline(c, h);
        }
        if let Some(r) = self.constructor(c, p) {
            return r;
        }
        let name = match runtime_fn_name(p) {
            Ok(name) => name,
            Err(msg) => return self.err(&c.func, msg),
        };
        let Some(spec) = runtime_fn_named(&name) else {
            return self.err(
                &c.func,
                format!(
                    "unknown function `{name}` in a #[grad] function: matgrad can differentiate {}",
                    runtime_fn_names().join(", ")
                ),
            );
        };
        let arity = spec.arity;
        if c.args.len() != arity {
            return self.err(c, format!("`{name}` takes {arity} argument(s)"));
        }
        let mut args = Vec::new();
        let mut failed = false;
        for a in &c.args {
            match self.expr(a) {
                Ok(id) => args.push(id),
                Err(()) => failed = true,
            }
        }
        if failed {
            return Err(());
        }
        for (&id, a) in args.iter().zip(&c.args) {
            if !self.kind(id).is_matrix() {
                return self.err(a, format!("`{name}` takes matrices, but this is a scalar"));
            }
        }
        if let (true, Some(Kind::Matrix(shape))) =
            (spec.square, args.first().map(|&a| self.kind(a)))
        {
            self.square(shape, spec.name, c)?;
        }
        Ok(self.push_op((spec.op)(), args, c.span(), source_text(c)))
    }

    /// A constructor, `TYPE::identity(..)`, `TYPE::zeros(..)` or
    /// `TYPE::from_element(.., s)` with `TYPE` a matrix type (`DMatrix`, `DVector`,
    /// `RowDVector`, `DMatrix::<f64>`, a static `Matrix3`, `SMatrix::<f64, 2, 3>`, …,
    /// by any path); `None` for any other call.
    fn constructor(&mut self, c: &syn::ExprCall, p: &syn::ExprPath) -> Option<Res<NodeId>> {
        let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        let [.., ty, f] = segs.as_slice() else {
            return None;
        };
        let name = f.ident.to_string();
        if !["identity", "zeros", "from_element", "from_diagonal", "new"].contains(&name.as_str()) {
            return None;
        }
        let shape = constructor_shape(ty)?;
        if let Err(()) = self.constructor_float(ty) {
            return Some(Err(()));
        }
        match name.as_str() {
            "from_diagonal" => Some(self.diagonal_matrix(c, ty, shape)),
            "new" => {
                let (Some(r), Some(k)) = (shape.rows.size(), shape.cols.size()) else {
                    // `DMatrix::new` is no constructor of nalgebra's: rustc reports it.
                    return None;
                };
                Some(self.matrix_of_scalars(c, (r, k), shape))
            }
            _ => Some(self.construct(c, ty, &name, shape)),
        }
    }

    /// Checks the float type a constructor names (`DMatrix::<f32>::identity` in an
    /// `f64` function is a mistake).
    fn constructor_float(&mut self, ty: &syn::PathSegment) -> Res<()> {
        let float = self.float.name();
        if let syn::PathArguments::AngleBracketed(ab) = &ty.arguments {
            let written = ab.args.first().and_then(|a| match a {
                syn::GenericArgument::Type(t) => super::signature::scalar_type(t, self.generic()),
                _ => None,
            });
            if written.is_some_and(|w| w != self.float) {
                return self.err(&ty.arguments, format!("mixed float types: this function works in `{float}`; write `{}::<{float}>` or leave the type out", ty.ident));
            }
        }
        Ok(())
    }

    /// `TYPE::from_diagonal(&v)`: the square matrix of type `TYPE` (of `shape`) with
    /// the column `v` on its diagonal.
    fn diagonal_matrix(
        &mut self,
        c: &syn::ExprCall,
        ty: &syn::PathSegment,
        shape: Shape,
    ) -> Res<NodeId> {
        if shape.rows != shape.cols {
            let msg = format!("`{}::from_diagonal` builds a square matrix: use a square type such as `DMatrix` or `Matrix3`", ty.ident);
            return self.err_unless_rustc(c, msg, true);
        }
        let [v] = c.args.iter().collect::<Vec<_>>()[..] else {
            let msg = format!(
                "`{}::from_diagonal` takes one vector: `{}::from_diagonal(&v)`",
                ty.ident, ty.ident
            );
            return self.err_unless_rustc(c, msg, true);
        };
        let id = self.expr(v)?;
        match self.kind(id) {
            Kind::Matrix(s) if s.cols == Dim::One => {}
            _ => {
                // nalgebra's `from_diagonal` takes a column: rustc reports a type it knows.
                let known = self.certain(id);
                return self.err_unless_rustc(v, format!("`{}::from_diagonal` takes a column vector (`DVector`, `Vector3`, `a.column(j)`, `r.transpose()` of a row)", ty.ident), known);
            }
        }
        Ok(self.push(
            Op::FromDiagonal,
            vec![id],
            Kind::Matrix(shape),
            c.span(),
            source_text(c),
        ))
    }

    /// `Vector3::new(a, b, c)`, `Matrix2::new(..)`: a static `r×k` matrix from `r k`
    /// scalar expressions, row by row.
    fn matrix_of_scalars(
        &mut self,
        c: &syn::ExprCall,
        (r, k): (usize, usize),
        shape: Shape,
    ) -> Res<NodeId> {
        if c.args.len() != r * k {
            return self.err_unless_rustc(
                c,
                format!("a {r}×{k} `new` takes its {} entries, row by row", r * k),
                true,
            );
        }
        let mut args = Vec::new();
        let mut failed = false;
        for a in &c.args {
            match self.expr(a) {
                Ok(id) if self.kind(id).is_matrix() => {
                    failed = true;
                    // nalgebra's `new` takes scalars: rustc reports a type it knows.
                    let known = self.certain(id);
                    let _: Res<()> = self.err_unless_rustc(a, "`new` takes the scalar entries of the matrix, but this is a matrix: take one entry (`v[0]`, `a[(i, j)]`) or a reduction (`.sum()`)", known);
                }
                Ok(id) => args.push(id),
                Err(()) => failed = true,
            }
        }
        if failed {
            return Err(());
        }
        Ok(self.push(
            Op::FromScalars(r, k),
            args,
            Kind::Matrix(shape),
            c.span(),
            source_text(c),
        ))
    }

    /// The node of a constructor whose type has `shape`: its sizes (counts for the
    /// dynamic dimensions, in nalgebra's argument order) and, for `from_element`, its
    /// scalar.
    fn construct(
        &mut self,
        c: &syn::ExprCall,
        ty: &syn::PathSegment,
        name: &str,
        shape: Shape,
    ) -> Res<NodeId> {
        let dynamic = [shape.rows, shape.cols]
            .into_iter()
            .filter(|d| *d == Dim::Dyn)
            .count();
        let fill = name == "from_element";
        let want = dynamic + usize::from(fill);
        if c.args.len() != want {
            let sizes = ["", "a length", "a row and a column count"]
                .get(dynamic)
                .copied()
                .unwrap_or("");
            let what = match (fill, dynamic) {
                (true, 0) => "the value of every entry".to_owned(),
                (false, 0) => "no argument (the type gives the size)".to_owned(),
                (true, _) => format!("{sizes}, then the value of every entry"),
                (false, _) => sizes.to_owned(),
            };
            // nalgebra's own function: rustc reports the count too.
            let msg = format!("`{}::{name}` takes {what}", ty.ident);
            return self.err_unless_rustc(c, msg, true);
        }
        let mut args = c.args.iter();
        let mut size = |d: Dim, this: &mut Self| -> Res<Count> {
            match d.size() {
                Some(n) => Ok(Count::Lit(n)),
                None => match args.next() {
                    Some(e) => this.count(e),
                    None => Err(()),
                },
            }
        };
        let rows = size(shape.rows, self);
        let cols = size(shape.cols, self);
        let (rows, cols) = (rows?, cols?);
        let (span, text) = (c.span(), source_text(c));
        let kind = Kind::Matrix(shape);
        if name == "identity" {
            return Ok(self.push(Op::Identity(rows, cols), vec![], kind, span, text));
        }
        let value = match args.next() {
            Some(e) => {
                let v = self.expr(e)?;
                if self.kind(v).is_matrix() {
                    return self.err(
                        e,
                        "`from_element` takes the scalar of every entry, but this is a matrix",
                    );
                }
                v
            }
            None => self.push(Op::Lit(0.0), vec![], Kind::Scalar, span, "0.0".to_owned()),
        };
        Ok(self.push(Op::Fill(rows, cols), vec![value], kind, span, text))
    }

    fn method(&mut self, m: &syn::ExprMethodCall) -> Res<NodeId> {
        if let Some(r) = self.special_method(m) {
            return r;
        }
        let name = m.method.to_string();
        let recv = self.expr(&m.receiver);
        // A method matgrad does not know is a mistake of its own, reported even when
        // the receiver had an error (or names a rejected `let`). Its arguments are
        // not checked: they are arguments of something matgrad does not read.
        let spec = matrix_method(&name);
        let known = spec.is_some()
            || symbol::OTHER_METHODS.contains(&name.as_str())
            || Method::from_name(&name).is_some();
        if !known {
            let list = symbol::matrix_method_list();
            let msg = match recv {
                Ok(r) if !self.kind(r).is_matrix() => format!("unknown scalar method `{name}` in a #[grad] function: matgrad can differentiate {SCALAR_METHOD_LIST}"),
                Ok(_) => format!("unknown method `{name}` in a #[grad] function: matgrad can differentiate {list}"),
                Err(()) => format!("unknown method `{name}` in a #[grad] function: matgrad can differentiate {list} on matrices, and {SCALAR_METHOD_LIST} on scalars"),
            };
            return self.err(&m.method, msg);
        }
        // `powi` and a count take integers, read by their own rules.
        let reads_args = name != "powi"
            && !spec.is_some_and(|m| matches!(m.takes, Takes::Count | Takes::Counts(_)));
        let args = if reads_args {
            self.method_args(m, recv)
        } else {
            Ok(Vec::new())
        };
        let (recv, args) = (recv?, args?);
        match self.kind(recv) {
            Kind::Scalar => self.scalar_method(m, recv, args),
            Kind::Matrix(shape) => {
                if symbol::NO_OP_METHODS.contains(&name.as_str()) {
                    self.arity(m, 0)?;
                    return Ok(recv);
                }
                let Some(spec) = spec.filter(|m| m.takes != Takes::Special) else {
                    return self.err(&m.method, not_a_matrix_method(&name));
                };
                // `z.max(0.0)`: the scalar method, meant entry by entry.
                let scalar_form = Method::from_name(&name).is_some_and(Method::is_binary);
                if scalar_form && m.args.len() == 1 {
                    return self.err(&m.method, not_a_matrix_method(&name));
                }
                self.arity(m, spec.takes.arity())?;
                self.matrix_method(m, spec, recv, shape, args, source_text(m))
            }
        }
    }

    /// The methods read apart from the tables: `a.try_inverse().unwrap()` (or
    /// `.expect(msg)`), `map` with its closure, and the mistakes around them; `None`
    /// for any other method.
    fn special_method(&mut self, m: &syn::ExprMethodCall) -> Option<Res<NodeId>> {
        let name = m.method.to_string();
        // `(0..n).map(|i| ..).sum()`, `.sum::<f64>()`: an iterator sum.
        if let (true, Expr::MethodCall(map)) =
            (name == "sum" && m.args.is_empty(), strip(&m.receiver))
        {
            if map.method == "map" && matches!(strip(&map.receiver), Expr::Range(_)) {
                return Some(self.iterator_sum(m, map));
            }
        }
        if name == "unwrap" || name == "expect" {
            return Some(self.unwrap_inverse(m, &name));
        }
        if name == "try_inverse" {
            return Some(self.err(&m.method, "`try_inverse()` returns an `Option`: write `a.try_inverse().unwrap()` or `.expect(\"singular\")`"));
        }
        if name == "map" {
            return Some(self.map(m));
        }
        if name == "zip_map" {
            return Some(self.zip_map(m));
        }
        let t = m.turbofish.as_ref()?;
        Some(self.err(
            t,
            "turbofish arguments are not supported in a #[grad] function",
        ))
    }

    /// `a.try_inverse().unwrap()` / `.expect(msg)`; any other `unwrap` is rejected.
    fn unwrap_inverse(&mut self, m: &syn::ExprMethodCall, name: &str) -> Res<NodeId> {
        if let Expr::MethodCall(inner) = strip(&m.receiver) {
            if inner.method == "try_inverse" && inner.args.is_empty() {
                let msg = if name == "expect" {
                    match m.args.first() {
                        Some(Expr::Lit(syn::ExprLit {
                            lit: Lit::Str(s), ..
                        })) if m.args.len() == 1 => Some(s.value()),
                        _ => return self.err(m, "`.expect(..)` takes a string literal here"),
                    }
                } else {
                    None
                };
                let a = self.expr(&inner.receiver)?;
                return self.inverse(a, msg, m, source_text(m));
            }
        }
        // `let inv = a.try_inverse();` was rejected: `inv.unwrap()` is the same mistake.
        if self.is_poisoned(&m.receiver) {
            return Err(());
        }
        let _ = self.expr(&m.receiver);
        self.err(
            &m.method,
            format!("`{name}` is only supported after `try_inverse()` in a #[grad] function"),
        )
    }

    /// The arguments of a method, each read (all of them, so that every error is
    /// reported).
    fn method_args(&mut self, m: &syn::ExprMethodCall, recv: Res<NodeId>) -> Res<Vec<NodeId>> {
        let mut args = Vec::new();
        let mut failed = false;
        for a in &m.args {
            // `x.scale(2)`: no method here takes an integer, rustc reports it.
            if let (Some(lit), Ok(r)) = (int_literal_expr(a), recv) {
                if self.certain(r) {
                    self.cx.leave_to_rustc(
                        lit,
                        format!(
                            "`{}` takes a float: write `{}.0`",
                            m.method,
                            source_text(lit)
                        ),
                    );
                    failed = true;
                    continue;
                }
            }
            match self.expr(a) {
                Ok(id) => args.push(id),
                Err(()) => failed = true,
            }
        }
        if failed {
            Err(())
        } else {
            Ok(args)
        }
    }

    /// Reports a method called with other than `n` arguments.
    fn arity(&mut self, m: &syn::ExprMethodCall, n: usize) -> Res<()> {
        if m.args.len() == n {
            Ok(())
        } else {
            let msg = format!("`{}` takes {n} argument(s)", m.method);
            self.err(m, msg)
        }
    }

    /// A scalar method (`x.ln()`, `x.powi(2)`, `x.max(y)`) on the scalar `recv`.
    fn scalar_method(
        &mut self,
        m: &syn::ExprMethodCall,
        recv: NodeId,
        args: Vec<NodeId>,
    ) -> Res<NodeId> {
        let name = m.method.to_string();
        let (text, span) = (source_text(m), m.span());
        if name == "powi" {
            self.arity(m, 1)?;
            let Some(n) = m.args.first().and_then(int_literal_i32) else {
                return self.err(
                    &m.args,
                    "`powi` takes an integer literal in a #[grad] function, as in `x.powi(2)`",
                );
            };
            return Ok(self.push_op(Op::Scalar(SOp::Powi(n)), vec![recv], span, text));
        }
        if name == "clone" {
            self.arity(m, 0)?;
            return Ok(recv);
        }
        let Some(method) = Method::from_name(&name) else {
            return self.err(
                &m.method,
                format!("unknown scalar method `{name}` in a #[grad] function: matgrad can differentiate {SCALAR_METHOD_LIST}"),
            );
        };
        self.arity(m, usize::from(method.is_binary()))?;
        for (&a, e) in args.iter().zip(&m.args) {
            if self.kind(a).is_matrix() {
                // `s.max(z)`: the inherent `f64` method, a type error rustc reports.
                let certain = self.certain(recv) && self.certain(a);
                return self.err_unless_rustc(
                    e,
                    format!("`{name}` takes a scalar argument here"),
                    certain,
                );
            }
        }
        let mut all = vec![recv];
        all.extend(args);
        Ok(self.push_op(Op::Scalar(SOp::Method(method)), all, span, text))
    }

    /// A method of the table [`symbol::MATRIX_METHODS`] on a matrix `recv` (of static
    /// shape `shape`), its arguments (`args`) already read and counted.
    fn matrix_method(
        &mut self,
        m: &syn::ExprMethodCall,
        spec: &symbol::MatrixMethod,
        recv: NodeId,
        shape: Shape,
        mut args: Vec<NodeId>,
        text: String,
    ) -> Res<NodeId> {
        let name = spec.name;
        let mut counts = Vec::new();
        match spec.takes {
            Takes::Matrix => {
                // `want` counted the arguments: one.
                let Some(&b) = args.first() else {
                    return Err(());
                };
                let Kind::Matrix(bs) = self.kind(b) else {
                    // nalgebra's inherent method: rustc reports the type error.
                    let certain = self.certain(recv) && self.certain(b);
                    return self.err_unless_rustc(
                        &m.args,
                        format!("`{name}` takes a matrix argument, but this is a scalar"),
                        certain,
                    );
                };
                if spec.needs == Needs::SameShape && conflict(shape, bs) {
                    return self.shape_err(
                        m,
                        format!(
                            "`{name}` needs two matrices of the same shape, but this is {} and the argument {}",
                            shape.describe_a(),
                            bs.describe_a()
                        ),
                    );
                }
            }
            Takes::Scalar => {
                let Some(&s) = args.first() else {
                    return Err(());
                };
                if self.kind(s).is_matrix() {
                    let certain = self.certain(recv) && self.certain(s);
                    return self.err_unless_rustc(
                        &m.args,
                        format!("`{name}` takes a scalar argument, but this is a matrix"),
                        certain,
                    );
                }
            }
            Takes::Count if spec.needs == Needs::RowIndex => {
                let Some(arg) = m.args.first() else {
                    return Err(());
                };
                let i = self.count_as(arg, "a row index", "x.row(x.nrows() - 1)")?;
                if let (Count::Lit(i), Some(n)) = (&i, shape.rows.size()) {
                    if *i >= n {
                        return self.shape_err(
                            &m.args,
                            format!("row {i} is out of bounds for {}", shape.describe_a()),
                        );
                    }
                }
                counts.push(i);
            }
            Takes::Count => {
                let Some(arg) = m.args.first() else {
                    return Err(());
                };
                let j = self.count(arg)?;
                if let (Count::Lit(j), Some(n)) = (&j, shape.cols.size()) {
                    if *j >= n {
                        return self.shape_err(
                            &m.args,
                            format!("column {j} is out of bounds for {}", shape.describe_a()),
                        );
                    }
                }
                counts.push(j);
            }
            Takes::Counts(_) => counts = self.block_counts(m, spec, shape)?,
            Takes::Nothing | Takes::Special => {}
        }
        if spec.needs == Needs::Square {
            self.square(shape, name, m)?;
        }
        let Some(op) = (spec.op)(&counts) else {
            return self.err(m, format!("`{name}` is not supported here"));
        };
        args.insert(0, recv);
        Ok(self.push_op(op, args, m.span(), text))
    }

    /// A `usize` argument: an integer literal, or an expression of integer literals,
    /// names from outside the function and the shapes of parameters (`x.ncols() - 1`),
    /// kept as written (the generated functions have the same parameters).
    fn count(&mut self, e: &Expr) -> Res<Count> {
        self.count_of(e, "a column index")
    }

    /// [`Builder::count`], saying what the count is for (`an index`) when `e` is none.
    fn count_of(&mut self, e: &Expr, what: &str) -> Res<Count> {
        self.count_as(e, what, "x.column(x.ncols() - 1)")
    }

    /// The tokens of the count `e` as the generated code evaluates it: as written,
    /// with each count bound by a `let` replaced by its own tokens.
    fn count_tokens(&self, e: &Expr) -> proc_macro2::TokenStream {
        // Names to replace: counts bound by `let`, and a helper's names for its
        // caller's parameters.
        let bound = |id: &proc_macro2::Ident| match self.env.get(&id.to_string()) {
            Some(Binding::Count(_)) => true,
            // (Always while inlining: the helper's tokens carry the hygiene of the
            // `macro_rules!` that passed them, and resolve to nothing here.)
            Some(Binding::Node(n)) => self.nodes.get(*n).is_some_and(|node| {
                matches!(node.op, Op::Param(_))
                    && (!self.inlining.is_empty() || node.name.as_deref() != Some(&id.to_string()))
            }),
            _ => false,
        };
        if !mentions(e, &bound) {
            return e.to_token_stream();
        }
        match strip(e) {
            Expr::MethodCall(mc) => self
                .shape_of_param_tokens(mc)
                .unwrap_or_else(|| mc.to_token_stream()),
            Expr::Path(p) => match p
                .path
                .get_ident()
                .and_then(|id| self.env.get(&id.to_string()))
            {
                Some(Binding::Count(c)) => c.tokens(),
                _ => p.to_token_stream(),
            },
            Expr::Binary(b) => {
                let (l, op, r) = (
                    self.count_tokens(&b.left),
                    &b.op,
                    self.count_tokens(&b.right),
                );
                quote::quote!((#l #op #r))
            }
            // `*n` of an `n: &usize` parameter: its binding reads through the reference.
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.count_tokens(&u.expr),
            other => other.to_token_stream(),
        }
    }

    /// `x.nrows()` with `x` a name for a parameter: the parameter's own name (a
    /// helper's parameter is bound to its caller's).
    fn shape_of_param_tokens(&self, mc: &syn::ExprMethodCall) -> Option<proc_macro2::TokenStream> {
        let Expr::Path(p) = strip(&mc.receiver) else {
            return None;
        };
        let Some(Binding::Node(n)) = self.env.get(&p.path.get_ident()?.to_string()) else {
            return None;
        };
        let node = self.nodes.get(*n)?;
        let Op::Param(_) = node.op else {
            return None;
        };
        let param = syn::Ident::new(node.name.as_deref()?, node.span);
        let method = &mc.method;
        Some(quote::quote!(#param.#method()))
    }

    /// The counts of a block on a receiver of static shape `shape`: `a.rows(i, n)`,
    /// `a.columns(j, n)` (start, length) or `a.view((i, j), (r, c))` (starts, then
    /// lengths). A static dimension needs a literal length (the static backend writes
    /// nalgebra's fixed views) and a block within it, when the literals tell.
    fn block_counts(
        &mut self,
        m: &syn::ExprMethodCall,
        spec: &symbol::MatrixMethod,
        shape: Shape,
    ) -> Res<Vec<Count>> {
        if spec.needs == Needs::Block {
            fn pair(e: Option<&Expr>) -> Option<(&Expr, &Expr)> {
                match e.map(strip) {
                    Some(Expr::Tuple(t)) if t.elems.len() == 2 => {
                        let mut it = t.elems.iter();
                        it.next().zip(it.next())
                    }
                    _ => None,
                }
            }
            let (Some((i, j)), Some((r, c))) = (pair(m.args.first()), pair(m.args.get(1))) else {
                return self.err(&m.args, "`view` takes the block's start and shape as two pairs, as in `a.view((0, 1), (2, 2))`");
            };
            let example = "x.view((0, 0), (x.nrows() - 1, 2))";
            let rows = self.block_dim((i, r), &m.args, shape.rows, "rows", shape, example);
            let cols = self.block_dim((j, c), &m.args, shape.cols, "columns", shape, example);
            let ((i, r), (j, c)) = (rows?, cols?);
            return Ok(vec![i, j, r, c]);
        }
        let (Some(start), Some(len)) = (m.args.first(), m.args.get(1)) else {
            return Err(());
        };
        let (i, n) = if spec.needs == Needs::RowRange {
            self.block_dim(
                (start, len),
                &m.args,
                shape.rows,
                "rows",
                shape,
                "x.rows(0, x.nrows() - 1)",
            )?
        } else {
            self.block_dim(
                (start, len),
                &m.args,
                shape.cols,
                "columns",
                shape,
                "x.columns(0, x.ncols() - 1)",
            )?
        };
        Ok(vec![i, n])
    }

    /// The start and the length of a block along one dimension `dim` (`noun`: rows or
    /// columns) of a receiver of shape `shape`, checked against `dim` when it is static.
    fn block_dim(
        &mut self,
        (start, len): (&Expr, &Expr),
        at: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
        dim: Dim,
        noun: &str,
        shape: Shape,
        example: &str,
    ) -> Res<(Count, Count)> {
        let index = if noun == "rows" {
            "a row index"
        } else {
            "a column index"
        };
        let i = self.count_as(start, index, example);
        let n = self.count_as(len, &format!("a number of {noun}"), example);
        let (i, n) = (i?, n?);
        let Some(size) = dim.size() else {
            return Ok((i, n));
        };
        let Count::Lit(k) = n else {
            return self.err(
                len,
                format!(
                    "the number of {noun} of a view of {} must be an integer literal in a #[grad] function, as in `{}`: its static shape is fixed at compile time",
                    shape.describe_a(),
                    literal_example(example),
                ),
            );
        };
        let end = match &i {
            Count::Lit(i) => Some((*i, i.saturating_add(k))),
            Count::Expr(_) => None,
        };
        match end {
            Some((i, e)) if e > size => self.shape_err(
                at,
                format!(
                    "{noun} {i}..{e} are out of bounds for {}",
                    shape.describe_a()
                ),
            ),
            None if k > size => self.shape_err(
                len,
                format!("{k} {noun} are out of bounds for {}", shape.describe_a()),
            ),
            _ => Ok((i, Count::Lit(k))),
        }
    }

    /// [`Builder::count`] for an argument other than a column index: `what` names it
    /// in the message (`a row index`), `example` shows a count.
    fn count_as(&mut self, e: &Expr, what: &str, example: &str) -> Res<Count> {
        if let Some(n) = int_literal(e).or_else(|| self.const_count(e)) {
            return Ok(Count::Lit(n));
        }
        if self.is_count(e) {
            return Ok(Count::Expr(self.count_tokens(e)));
        }
        let msg = format!("`{}` cannot be {what} in a #[grad] function: write an integer literal, or an expression of integer literals, constants and the shapes of parameters, as in `{example}`", source_text(e));
        self.err(e, msg)
    }

    /// Whether `e` is an integer expression of literals, outside names, counts bound
    /// by `let` and parameters' shapes: a count the generated code can evaluate.
    fn is_count(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(_), ..
            }) => true,
            Expr::Binary(b) => {
                matches!(
                    b.op,
                    BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_)
                ) && self.is_count(&b.left)
                    && self.is_count(&b.right)
            }
            // `*n` of a count parameter `n: &usize`.
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.is_count(&u.expr),
            // A name from outside the function (`const N: usize`), written as is, or a
            // count of the body.
            Expr::Path(p) => p.path.get_ident().is_none_or(|id| {
                matches!(
                    self.env.get(&id.to_string()),
                    None | Some(Binding::Count(_))
                )
            }),
            Expr::MethodCall(mc) => {
                let shape_method = ["nrows", "ncols", "len"].iter().any(|n| mc.method == n);
                let of_param = match strip(&mc.receiver) {
                    Expr::Path(p) => p.path.get_ident().is_some_and(|id| {
                        matches!(
                            self.env.get(&id.to_string()),
                            Some(Binding::Node(n)) if self.nodes.get(*n).is_some_and(|node| matches!(node.op, Op::Param(_)))
                        )
                    }),
                    _ => false,
                };
                shape_method && mc.args.is_empty() && mc.turbofish.is_none() && of_param
            }
            _ => false,
        }
    }

    /// `a.try_inverse().unwrap()` (or `.expect(msg)`) of node `a`.
    fn inverse(
        &mut self,
        a: NodeId,
        msg: Option<String>,
        at: &syn::ExprMethodCall,
        text: String,
    ) -> Res<NodeId> {
        let Kind::Matrix(shape) = self.kind(a) else {
            return self.err(
                at,
                "this needs a square matrix, but the receiver is a scalar",
            );
        };
        self.square(shape, "try_inverse", at)?;
        Ok(self.push_op(Op::Inverse(msg), vec![a], at.span(), text))
    }

    /// Reports a matrix whose type fixes it non-square where `what` needs a square one.
    fn square<T: ToTokens>(&mut self, shape: Shape, what: &str, at: T) -> Res<()> {
        if shape.rows.conflicts(shape.cols) {
            self.shape_err(
                at,
                format!(
                    "`{what}` needs a square matrix, but this is {}",
                    shape.describe_a()
                ),
            )?;
        }
        Ok(())
    }

    // -- map closures -----------------------------------------------------

    fn map(&mut self, m: &syn::ExprMethodCall) -> Res<NodeId> {
        let text = source_text(m);
        // A rejected receiver is the one error: its closure is not read.
        let recv = Ok(self.expr(&m.receiver)?);
        let closure = match m.args.first() {
            Some(Expr::Closure(c)) if m.args.len() == 1 => c,
            Some(Expr::Path(p)) if m.args.len() == 1 => {
                // `a.map(f64::tanh)`: the same as `a.map(|v| v.tanh())`.
                let body = self.map_path(p);
                let (recv, body) = (recv?, body?);
                return self.push_map(m, recv, body, Vec::new(), text);
            }
            _ => {
                let _ = recv;
                return self.err(m, "`map` takes one closure, as in `a.map(|v| v.tanh())`");
            }
        };
        let var = match closure.inputs.first() {
            Some(Pat::Ident(pi)) if closure.inputs.len() == 1 => pi.ident.to_string(),
            Some(Pat::Type(pt)) if closure.inputs.len() == 1 => match &*pt.pat {
                Pat::Ident(pi) => pi.ident.to_string(),
                other => {
                    return self.err(
                        other,
                        "the `map` closure takes one plain variable, as in `|v| v.tanh()`",
                    )
                }
            },
            _ => {
                return self.err(
                    &closure.inputs,
                    "the `map` closure takes one plain variable, as in `|v| v.tanh()`",
                )
            }
        };
        if let Some(mv) = &closure.capture {
            return self.err(
                mv,
                "`move` is not needed on a `map` closure in a #[grad] function; remove it",
            );
        }
        let mut captures = Vec::new();
        let body = self.sym(&closure.body, &var, &mut captures);
        let (recv, body) = (recv?, body?);
        self.push_map(m, recv, body, captures, text)
    }

    /// `a.zip_map(&b, |p, q| body)`: an entrywise function of two matrices of the same
    /// shape, `body` a scalar expression in `p`, `q` and captured scalars.
    fn zip_map(&mut self, m: &syn::ExprMethodCall) -> Res<NodeId> {
        let text = source_text(m);
        // A rejected receiver is the one error: its closure is not read.
        let recv = Ok(self.expr(&m.receiver)?);
        let usage = "`zip_map` takes a matrix and a closure of two entries, as in `a.zip_map(&b, |p, q| p * q.ln())`";
        let (Some(other), Some(Expr::Closure(closure)), 2) =
            (m.args.first(), m.args.iter().nth(1), m.args.len())
        else {
            return self.err(m, usage);
        };
        let names: Vec<Option<String>> = closure
            .inputs
            .iter()
            .map(|p| match p {
                Pat::Ident(pi) => Some(pi.ident.to_string()),
                Pat::Type(pt) => match &*pt.pat {
                    Pat::Ident(pi) => Some(pi.ident.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let [Some(p), Some(q)] = names.as_slice() else {
            return self.err(
                &closure.inputs,
                "the `zip_map` closure takes two plain variables, as in `|p, q| p * q`",
            );
        };
        if let Some(mv) = &closure.capture {
            return self.err(
                mv,
                "`move` is not needed on a `zip_map` closure in a #[grad] function; remove it",
            );
        }
        let b = self.expr(other);
        let mut captures = Vec::new();
        self.second_var = Some(q.clone());
        let body = self.sym(&closure.body, p, &mut captures);
        self.second_var = None;
        let (recv, b, body) = (recv?, b?, body?);
        let (Kind::Matrix(sa), Kind::Matrix(sb)) = (self.kind(recv), self.kind(b)) else {
            return self.err(m, usage);
        };
        if conflict(sa, sb) {
            return self.shape_err(m, format!("`zip_map` needs two matrices of the same shape, but this is {} and the argument {}", sa.describe_a(), sb.describe_a()));
        }
        let mut args = vec![recv, b];
        args.extend(captures);
        let body = body.subst_var(&Sym::Arg(0));
        Ok(self.push_op(Op::ZipMap(Closure { body }), args, m.span(), text))
    }

    fn push_map(
        &mut self,
        m: &syn::ExprMethodCall,
        recv: NodeId,
        body: Sym,
        captures: Vec<NodeId>,
        text: String,
    ) -> Res<NodeId> {
        let Kind::Matrix(_) = self.kind(recv) else {
            return self.err(
                &m.receiver,
                "`map` applies to a matrix, but this is a scalar; apply the function directly",
            );
        };
        let mut args = vec![recv];
        args.extend(captures);
        Ok(self.push_op(Op::Map(Closure { body }), args, m.span(), text))
    }

    /// The function passed to `map` by path: `f64::tanh` (or `f32::tanh`), a scalar
    /// method of one argument.
    fn map_path(&mut self, p: &syn::ExprPath) -> Res<Sym> {
        let text = source_text(p);
        // `a.map(f)` with `f` a `#[custom_adjoint]` function of one argument.
        if let Some(h) = super::helper::helper_name(p)
            .and_then(|name| self.helpers.iter().find(|h| h.sig.ident == name))
        {
            let Some(adjoint) = super::helper::custom_adjoint_of(h) else {
                return self.err(p, format!("`{text}` is a #[differentiable] helper: helpers are inlined outside closures only; to apply a scalar function entry by entry mark it `#[custom_adjoint(..)]`, or write its formula in a closure"));
            };
            let f = self.user_fn(p, h, &adjoint)?;
            if f.arity != 1 {
                return self.err(
                    p,
                    format!(
                        "`map` applies a function of one argument; `{}` takes {}",
                        f.name(),
                        f.arity
                    ),
                );
            }
            return Ok(Sym::User(Box::new(f), vec![Sym::Var]));
        }
        match scalar_method_path(p) {
            Some(Ok(method)) if !method.is_binary() => {
                return Ok(Sym::Call(method, Box::new(Sym::Var), None));
            }
            // rustc reports these itself: `map` calls its function with one argument.
            Some(Ok(method)) => {
                let name = method.name();
                self.cx.leave_to_rustc(
                    p,
                    format!("`{text}` takes two arguments: write `a.map(|v| v.{name}(c))`"),
                );
                return Err(());
            }
            Some(Err(name)) if name == "powi" => {
                self.cx.leave_to_rustc(
                    p,
                    format!("`{text}` takes two arguments: write `a.map(|v| v.powi(2))`"),
                );
                return Err(());
            }
            _ => {}
        }
        let last = p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if runtime_fn_named(&last).is_some() {
            if scalar_method_path(p).is_some() {
                // `f64::sigmoid` does not exist: rustc says so.
                self.cx.leave_to_rustc(
                    p,
                    format!("`{text}` does not exist: write `{last}(&a)` for the whole matrix"),
                );
                return Err(());
            }
            return self.err(
                p,
                format!("`{last}` cannot be differentiated entry by entry: matgrad's `{last}` applies to a whole matrix, write `{last}(&a)` instead of `a.map({text})`; a scalar function of your own cannot be differentiated, write its formula in a closure"),
            );
        }
        self.err(
            p,
            format!("unknown function `{text}` passed to `map`: matgrad can differentiate a closure such as `|v| v.tanh()` or a scalar method such as `f64::tanh` ({SCALAR_METHOD_LIST})"),
        )
    }

    /// A call in a `map` closure: `f64::tanh(v)` is `v.tanh()`; any other function is
    /// reported by name.
    fn sym_call(&mut self, c: &syn::ExprCall, var: &str, captures: &mut Vec<NodeId>) -> Res<Sym> {
        let Expr::Path(p) = strip(&c.func) else {
            return self.err(&c.func, "only scalar methods can be called in a `map` closure, as in `v.tanh()` or `f64::tanh(v)`");
        };
        let text = source_text(p);
        // A `#[custom_adjoint]` scalar function.
        if let Some(h) = super::helper::helper_name(p)
            .and_then(|name| self.helpers.iter().find(|h| h.sig.ident == name))
        {
            let Some(adjoint) = super::helper::custom_adjoint_of(h) else {
                return self.err(&c.func, format!("`{text}` is a #[differentiable] helper: helpers are inlined outside closures only; in a closure call a scalar function marked `#[custom_adjoint(..)]`, or write the formula"));
            };
            let f = self.user_fn(p, h, &adjoint)?;
            if c.args.len() != f.arity {
                return self.err(c, format!("`{}` takes {} argument(s)", f.name(), f.arity));
            }
            let args = c
                .args
                .iter()
                .map(|a| self.sym(a, var, captures))
                .collect::<Res<Vec<_>>>()?;
            return Ok(Sym::User(Box::new(f), args));
        }
        match scalar_method_path(p) {
            Some(Ok(method)) => {
                let n = 1 + usize::from(method.is_binary());
                if c.args.len() != n {
                    return self.err(c, format!("`{text}` takes {n} argument(s)"));
                }
                let mut args = c
                    .args
                    .iter()
                    .map(|a| self.sym(a, var, captures))
                    .collect::<Vec<_>>()
                    .into_iter();
                let x = args.next().unwrap_or(Err(()));
                let e = args.next().transpose();
                let (x, e) = (x?, e?);
                return Ok(Sym::Call(method, Box::new(x), e.map(Box::new)));
            }
            Some(Err(name)) if name == "powi" => {
                return match (c.args.first(), c.args.iter().nth(1).and_then(int_literal_i32)) {
                    (Some(x), Some(n)) if c.args.len() == 2 => {
                        let x = self.sym(x, var, captures)?;
                        Ok(Sym::Powi(Box::new(x), n))
                    }
                    _ => self.err(&c.args, "`powi` takes an integer literal in a #[grad] function, as in `f64::powi(v, 2)`"),
                };
            }
            _ => {}
        }
        let name = p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let msg = if runtime_fn_named(&name).is_some() {
            format!("`{name}` cannot be differentiated entry by entry: matgrad's `{name}` applies to a whole matrix, write `{name}(&a)` instead of `a.map(|v| {name}(v))`; a scalar function of your own cannot be differentiated, write its formula in the closure")
        } else {
            format!("unknown function `{text}` in a `map` closure: matgrad can differentiate the scalar methods {SCALAR_METHOD_LIST} (as in `v.tanh()`); write the function's formula in the closure")
        };
        self.err(&c.func, msg)
    }

    // Long by design: one arm per expression form a closure body may take, each with the diagnostic of its mistakes beside it.
    /// `if a cmp b { e1 } else { e2 }` in a closure (with `else if` chains): a
    /// piecewise function, differentiated branch by branch.
    fn sym_if(&mut self, i: &syn::ExprIf, var: &str, captures: &mut Vec<NodeId>) -> Res<Sym> {
        // `if flag { .. }`, `if !flag { .. }` with `flag` a `bool` parameter: the
        // comparison `(flag as usize) as f64 > 0.5` (or `< 0.5`), decided at run time.
        let (negated, c) = match strip(&i.cond) {
            Expr::Unary(u) if matches!(u.op, UnOp::Not(_)) => (true, strip(&u.expr)),
            c => (false, c),
        };
        let flag = match c {
            Expr::Path(p) => {
                p.path
                    .get_ident()
                    .and_then(|id| match self.env.get(&id.to_string()) {
                        Some(Binding::Flag(t)) => Some(t.clone()),
                        _ => None,
                    })
            }
            _ => None,
        };
        if let Some(t) = flag {
            let Some((_, other)) = &i.else_branch else {
                return self.err(i.if_token, "an `if` in a closure needs an `else`: the closure gives a value for every entry");
            };
            let then = match i.then_branch.stmts.as_slice() {
                [Stmt::Expr(e, None)] => self.sym(e, var, captures),
                _ => self.err(
                    &i.then_branch,
                    "each branch of an `if` in a closure is one scalar expression",
                ),
            };
            let other = self.sym(other, var, captures);
            let (then, other) = (then?, other?);
            let count = Count::Expr(quote::quote!((#t as usize)));
            let id = self.push(
                Op::Cast(count),
                vec![],
                Kind::Scalar,
                i.cond.span(),
                source_text(&i.cond),
            );
            captures.push(id);
            return Ok(Sym::Select(Box::new(Select {
                cmp: if negated { Cmp::Lt } else { Cmp::Gt },
                a: Sym::Val(id),
                b: Sym::Lit(0.5),
                then,
                other,
            })));
        }
        let cmp = match strip(&i.cond) {
            Expr::Binary(b) => match b.op {
                BinOp::Gt(_) => Some((Cmp::Gt, b)),
                BinOp::Ge(_) => Some((Cmp::Ge, b)),
                BinOp::Lt(_) => Some((Cmp::Lt, b)),
                BinOp::Le(_) => Some((Cmp::Le, b)),
                _ => None,
            },
            _ => None,
        };
        let Some((cmp, b)) = cmp else {
            return self.err(&i.cond, "the condition of an `if` in a closure compares two scalars with `<`, `<=`, `>` or `>=`, as in `if v.abs() <= d`");
        };
        let Some((_, other)) = &i.else_branch else {
            return self.err(
                i.if_token,
                "an `if` in a closure needs an `else`: the closure gives a value for every entry",
            );
        };
        let then = match i.then_branch.stmts.as_slice() {
            [Stmt::Expr(e, None)] => self.sym(e, var, captures),
            _ => self.err(
                &i.then_branch,
                "each branch of an `if` in a closure is one scalar expression",
            ),
        };
        let (a, b) = (
            self.sym(&b.left, var, captures),
            self.sym(&b.right, var, captures),
        );
        let other = self.sym(other, var, captures);
        let (a, b, then, other) = (a?, b?, then?, other?);
        Ok(Sym::Select(Box::new(Select {
            cmp,
            a,
            b,
            then,
            other,
        })))
    }

    /// A closure body as a scalar expression in `var`.
    fn sym(&mut self, e: &Expr, var: &str, captures: &mut Vec<NodeId>) -> Res<Sym> {
        match self.generic().and_then(|t| generic_const(e, t)) {
            Some(GenericConst::Value(v)) => return Ok(Sym::Lit(v)),
            Some(c @ GenericConst::Count(_)) => {
                let id = self.generic_constant(c, e)?;
                captures.push(id);
                return Ok(Sym::Val(id));
            }
            None => {}
        }
        match e {
            Expr::Paren(p) => self.sym(&p.expr, var, captures),
            Expr::Group(g) => self.sym(&g.expr, var, captures),
            Expr::Block(b) if b.block.stmts.len() == 1 => match b.block.stmts.first() {
                Some(Stmt::Expr(e, None)) => self.sym(e, var, captures),
                _ => {
                    self.cx
                        .error_spanned_by(b, "a `map` closure body must be one scalar expression");
                    Err(())
                }
            },
            Expr::Lit(l) => match &l.lit {
                Lit::Float(f) => Ok(Sym::Lit(parse_float(f.base10_digits(), &self.float))),
                other => {
                    self.cx.error_spanned_by(other, "only float literals are supported in a `map` closure (write `2.0`, not `2`)");
                    Err(())
                }
            },
            Expr::Path(p) if p.path.is_ident(var) => Ok(Sym::Var),
            Expr::Path(p) if self.second_var.as_ref().is_some_and(|q| p.path.is_ident(q)) => {
                Ok(Sym::Arg(1))
            }
            Expr::Path(p) => {
                let id = self.path(p)?;
                if self.kind(id).is_matrix() {
                    self.cx.error_spanned_by(p, "a `map` closure can only capture scalars: this is a matrix; use `component_mul`/`component_div` for entrywise operations between matrices");
                    return Err(());
                }
                if !captures.contains(&id) {
                    captures.push(id);
                }
                Ok(Sym::Val(id))
            }
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => {
                Ok(Sym::Neg(Box::new(self.sym(&u.expr, var, captures)?)))
            }
            // `*t` of a captured `t: &f64` is the value itself. (On the closure's own
            // variable it is rustc's error, not matgrad's: nalgebra's `map` passes each
            // entry by value, `FnMut(T) -> T2`, so `*v` does not compile; reporting it
            // here too would only repeat that error.)
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => {
                if matches!(strip(&u.expr), Expr::Path(p) if p.path.is_ident(var)) {
                    self.cx.leave_to_rustc(
                        u,
                        format!(
                            "`{var}` is an entry, passed by value: write `{var}`, not `*{var}`"
                        ),
                    );
                    return Err(());
                }
                self.sym(&u.expr, var, captures)
            }
            Expr::Binary(b) => {
                let op = match b.op {
                    BinOp::Add(_) => SOp::Add,
                    BinOp::Sub(_) => SOp::Sub,
                    BinOp::Mul(_) => SOp::Mul,
                    BinOp::Div(_) => SOp::Div,
                    _ => {
                        self.cx.error_spanned_by(b.op, "this operator is not supported in a `map` closure: use `+`, `-`, `*`, `/`, or `max`/`min` instead of comparisons");
                        return Err(());
                    }
                };
                for (side, other) in [(&b.left, &b.right), (&b.right, &b.left)] {
                    if let Some(lit) = int_literal_expr(side) {
                        if int_literal_expr(other).is_none() && mentions_var(other, var) {
                            // `v * 2` with `v: f64`: rustc's type error.
                            let _ = self.sym(other, var, captures);
                            self.cx.leave_to_rustc(
                                lit,
                                "integer literal in a `map` closure: write `2.0`, not `2`",
                            );
                            return Err(());
                        }
                    }
                }
                let l = self.sym(&b.left, var, captures);
                let r = self.sym(&b.right, var, captures);
                Ok(Sym::apply(op, vec![l?, r?]))
            }
            Expr::MethodCall(mc) => {
                let name = mc.method.to_string();
                let recv = self.sym(&mc.receiver, var, captures)?;
                if name == "powi" {
                    return match (mc.args.len(), mc.args.first().and_then(int_literal_i32)) {
                        (1, Some(n)) => Ok(Sym::Powi(Box::new(recv), n)),
                        _ => {
                            self.cx.error_spanned_by(&mc.args, "`powi` takes an integer literal in a #[grad] function, as in `v.powi(2)`");
                            Err(())
                        }
                    };
                }
                let Some(method) = Method::from_name(&name) else {
                    self.cx.error_spanned_by(
                        &mc.method,
                        format!("unknown method `{name}` in a `map` closure: matgrad can differentiate {SCALAR_METHOD_LIST}"),
                    );
                    return Err(());
                };
                if mc.args.len() != usize::from(method.is_binary()) {
                    self.cx.error_spanned_by(
                        mc,
                        format!(
                            "`{name}` takes {} argument(s)",
                            usize::from(method.is_binary())
                        ),
                    );
                    return Err(());
                }
                let arg = match mc.args.first() {
                    // `v.powf(2)` with `v: f64`: rustc's type error.
                    Some(a) if int_literal_expr(a).is_some() && mentions_var(&mc.receiver, var) => {
                        self.cx.leave_to_rustc(
                            a,
                            "integer literal in a `map` closure: write `2.0`, not `2`",
                        );
                        return Err(());
                    }
                    Some(a) => Some(Box::new(self.sym(a, var, captures)?)),
                    None => None,
                };
                Ok(Sym::Call(method, Box::new(recv), arg))
            }
            Expr::Call(c) => self.sym_call(c, var, captures),
            Expr::If(i) => self.sym_if(i, var, captures),
            // `x.nrows() as f64` in a closure: a scalar of the body, captured.
            Expr::Cast(c) if self.is_count(&c.expr) => {
                let id = self.cast(c)?;
                captures.push(id);
                Ok(Sym::Val(id))
            }
            // `z[(0, 0)]` in a closure: a scalar of the body, captured.
            Expr::Index(_) if !mentions_var(e, var) => {
                let id = self.expr(e)?;
                captures.push(id);
                Ok(Sym::Val(id))
            }
            Expr::Index(ix) => {
                self.cx.error_spanned_by(ix, "indexing with the closure's variable is not supported: a `map` closure sees one entry at a time; index outside it (`let zi = z[(i, 0)];`) and use `zi` in the closure");
                Err(())
            }
            other => {
                let _ = self.unsupported(other);
                Err(())
            }
        }
    }
}

/// The shape of a matrix type named in a constructor's path: `DMatrix`, `DVector`,
/// `RowDVector` (with or without `::<f64>`), an alias `Matrix3`, `Vector2`,
/// `Matrix2x3`, or `SMatrix::<f64, R, C>`, `SVector::<f64, N>`, `RowSVector::<f64, N>`.
fn constructor_shape(seg: &syn::PathSegment) -> Option<Shape> {
    let name = seg.ident.to_string();
    if let Some((_, shape)) = crate::symbol::MATRIX_TYPES.iter().find(|(n, _)| *n == name) {
        return Some(*shape);
    }
    let fixed = |(r, c): (usize, usize)| Shape {
        rows: Dim::fixed(r),
        cols: Dim::fixed(c),
    };
    if let Some(rc) = super::signature::alias_shape(&name) {
        return Some(fixed(rc));
    }
    let syn::PathArguments::AngleBracketed(ab) = &seg.arguments else {
        return None;
    };
    let sizes: Vec<usize> = ab
        .args
        .iter()
        .skip(1)
        .map(super::signature::size_literal)
        .collect::<Option<_>>()?;
    match (name.as_str(), sizes.as_slice()) {
        ("SMatrix", &[r, c]) => Some(fixed((r, c))),
        ("SVector", &[n]) => Some(fixed((n, 1))),
        ("RowSVector", &[n]) => Some(fixed((1, n))),
        _ => None,
    }
}

/// The literal form of a block's example (`a.rows(0, 2)` for `x.rows(0, x.nrows() - 1)`).
fn literal_example(example: &str) -> &'static str {
    if example.starts_with("x.rows") {
        "a.rows(0, 2)"
    } else if example.starts_with("x.columns") {
        "a.columns(0, 2)"
    } else {
        "a.view((0, 0), (2, 2))"
    }
}

/// Why `name` is no method of a matrix matgrad differentiates, with what to write.
/// (Left to matgrad even when nalgebra has no such method: an extension trait of the
/// user's could provide it.)
fn not_a_matrix_method(name: &str) -> String {
    let powi = name == "powi";
    if Method::from_name(name).is_some() || powi {
        let call = match Method::from_name(name) {
            _ if powi => "powi(2)".to_owned(),
            Some(m) if m.is_binary() => format!("{name}(c)"),
            _ => format!("{name}()"),
        };
        format!(
            "`{name}` applies to scalars; for every entry of a matrix write `a.map(|v| v.{call})`"
        )
    } else if name == "tr_mul" || name == "ad_mul" {
        format!("unknown method `{name}` in a #[grad] function: write `a.transpose() * b` (matgrad multiplies by the transpose without building it)")
    } else {
        format!(
            "unknown method `{name}` in a #[grad] function: matgrad can differentiate {}",
            symbol::matrix_method_list()
        )
    }
}

/// The name of a called function as matgrad reads it: `f` or `matgrad::f` (also
/// `::matgrad::f`). Any other path (`crate::f`, `my_mod::sigmoid`) is a function of
/// the user's, which matgrad cannot see into, even when its last segment is the name
/// of one of matgrad's functions.
pub fn runtime_fn_name(p: &syn::ExprPath) -> Result<String, String> {
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let plain = |s: &syn::PathSegment| matches!(s.arguments, syn::PathArguments::None);
    match segs.as_slice() {
        [f] if p.qself.is_none() && plain(f) => Ok(f.ident.to_string()),
        [m, f] if p.qself.is_none() && m.ident == "matgrad" && plain(m) && plain(f) => {
            Ok(f.ident.to_string())
        }
        _ => {
            let known = runtime_fn_names();
            Err(format!(
                "unknown function `{}` in a #[grad] function: matgrad can differentiate only its own functions, called as `f(..)` or `matgrad::f(..)`: {}",
                source_text(p),
                known.join(", ")
            ))
        }
    }
}

/// `e` itself when it is an integer literal (in parentheses or not).
fn int_literal_expr(e: &Expr) -> Option<&Expr> {
    match strip(e) {
        lit @ Expr::Lit(syn::ExprLit {
            lit: Lit::Int(_), ..
        }) => Some(lit),
        _ => None,
    }
}

/// Whether some identifier among the tokens of `e` satisfies `pred`.
fn mentions(e: &Expr, pred: &dyn Fn(&proc_macro2::Ident) -> bool) -> bool {
    fn walk(ts: proc_macro2::TokenStream, pred: &dyn Fn(&proc_macro2::Ident) -> bool) -> bool {
        ts.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) => pred(&i),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), pred),
            _ => false,
        })
    }
    walk(e.to_token_stream(), pred)
}

/// Whether the tokens of `e` name `var`.
fn mentions_var(e: &Expr, var: &str) -> bool {
    mentions(e, &|i| i == var)
}

/// `a = b` or `a op= b`.
fn is_assignment(e: &Expr) -> bool {
    match e {
        Expr::Assign(_) => true,
        Expr::Binary(b) => is_compound(&b.op),
        _ => false,
    }
}

/// `f64::name` or `f32::name`: `Some(Ok(method))` when `name` is a scalar method
/// matgrad knows, `Some(Err(name))` when it is not, `None` for other paths.
fn scalar_method_path(p: &syn::ExprPath) -> Option<Result<Method, String>> {
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    match segs.as_slice() {
        [t, f]
            if p.qself.is_none()
                && p.path.leading_colon.is_none()
                && (t.ident == "f64" || t.ident == "f32")
                && t.arguments.is_none()
                && f.arguments.is_none() =>
        {
            let name = f.ident.to_string();
            Some(Method::from_name(&name).ok_or(name))
        }
        _ => None,
    }
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

fn int_literal(e: &Expr) -> Option<usize> {
    match strip(e) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

fn int_literal_i32(e: &Expr) -> Option<i32> {
    match strip(e) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => int_literal_i32(&u.expr).map(|n| -n),
        _ => None,
    }
}

/// A float literal's value as the function's float type reads it (an `f32`
/// function's `0.1` is the `f32` nearest 0.1, widened exactly).
fn parse_float(digits: &str, float: &Float) -> f64 {
    match float {
        Float::F64 | Float::Generic(_) => digits.parse::<f64>().unwrap_or(f64::NAN),
        Float::F32 => f64::from(digits.parse::<f32>().unwrap_or(f32::NAN)),
    }
}

/// Whether two shapes cannot be equal: some dimension is fixed differently in each.
fn conflict(a: Shape, b: Shape) -> bool {
    a.rows.conflicts(b.rows) || a.cols.conflicts(b.cols)
}

/// A constant of a generic float type, as generic code writes one.
enum GenericConst<'e> {
    /// `T::from_f64(0.5).unwrap()`, `nalgebra::convert(0.5)`, `T::one()`, `T::pi()`.
    Value(f64),
    /// `T::from_usize(n).unwrap()`, `nalgebra::convert(n as f64)`: the count `n`.
    Count(&'e Expr),
}

/// `e` as a constant of the generic float type `t` (see [`GenericConst`]); `None`
/// when it is not one.
fn generic_const<'e>(e: &'e Expr, t: &syn::Ident) -> Option<GenericConst<'e>> {
    // `T::name`: the function name after the type parameter.
    let on_t = |f: &Expr| -> Option<String> {
        let Expr::Path(p) = strip(f) else { return None };
        let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        match (p.qself.as_ref(), segs.as_slice()) {
            (None, [ty, name]) if ty.ident == *t => Some(name.ident.to_string()),
            // `<T as RealField>::pi()`
            (Some(q), [.., name]) if matches!(&*q.ty, syn::Type::Path(tp) if tp.path.is_ident(t)) => {
                Some(name.ident.to_string())
            }
            _ => None,
        }
    };
    let float = |e: &Expr| -> Option<f64> {
        match strip(e) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Float(f), ..
            }) => f.base10_parse().ok(),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => i.base10_parse::<i64>().ok().map(|v| v as f64),
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => {
                let Expr::Lit(syn::ExprLit { lit, .. }) = strip(&u.expr) else {
                    return None;
                };
                match lit {
                    Lit::Float(f) => f.base10_parse::<f64>().ok().map(|v| -v),
                    Lit::Int(i) => i.base10_parse::<i64>().ok().map(|v| -(v as f64)),
                    _ => None,
                }
            }
            Expr::Reference(r) => match strip(&r.expr) {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Float(f), ..
                }) => f.base10_parse().ok(),
                _ => None,
            },
            _ => None,
        }
    };
    match strip(e) {
        // `T::from_f64(0.5).unwrap()`, `T::from_usize(n).expect("..")`
        Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => {
            let Expr::Call(c) = strip(&m.receiver) else {
                return None;
            };
            let name = on_t(&c.func)?;
            let [arg] = c.args.iter().collect::<Vec<_>>()[..] else {
                return None;
            };
            match name.as_str() {
                "from_f64" | "from_f32" | "from_i32" | "from_i64" | "from_u32" => {
                    float(arg).map(GenericConst::Value)
                }
                "from_usize" | "from_u64" => Some(GenericConst::Count(arg)),
                _ => None,
            }
        }
        Expr::Call(c) => {
            let args: Vec<&Expr> = c.args.iter().collect();
            if let Some(name) = on_t(&c.func) {
                let v = match (name.as_str(), args.as_slice()) {
                    ("one", []) => 1.0,
                    ("zero", []) => 0.0,
                    ("pi", []) => std::f64::consts::PI,
                    ("two_pi", []) => std::f64::consts::TAU,
                    ("frac_pi_2", []) => std::f64::consts::FRAC_PI_2,
                    ("e", []) => std::f64::consts::E,
                    ("ln_2", []) => std::f64::consts::LN_2,
                    ("ln_10", []) => std::f64::consts::LN_10,
                    ("from_subset", [a]) => return float(a).map(GenericConst::Value),
                    _ => return None,
                };
                return Some(GenericConst::Value(v));
            }
            // `nalgebra::convert(0.5)`, `na::convert::<f64, T>(n as f64)`
            let Expr::Path(p) = strip(&c.func) else {
                return None;
            };
            let last = p.path.segments.last()?;
            if last.ident != "convert" {
                return None;
            }
            let [arg] = args.as_slice() else { return None };
            if let Expr::Cast(cast) = strip(arg) {
                return Some(GenericConst::Count(&cast.expr));
            }
            float(arg).map(GenericConst::Value)
        }
        _ => None,
    }
}

/// The operator of a compound assignment (`+=` → `+`); `None` for other operators.
fn plain_op(op: &BinOp) -> Option<BinOp> {
    Some(match op {
        BinOp::AddAssign(t) => BinOp::Add(syn::Token![+](t.spans[0])),
        BinOp::SubAssign(t) => BinOp::Sub(syn::Token![-](t.spans[0])),
        BinOp::MulAssign(t) => BinOp::Mul(syn::Token![*](t.spans[0])),
        BinOp::DivAssign(t) => BinOp::Div(syn::Token![/](t.spans[0])),
        _ => return None,
    })
}

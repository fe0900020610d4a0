//! The body of `NAME_jacobian_into` (see [`crate::jacobian`]) on the dynamic backend:
//! the values once, then one tangent sweep per entry of each variable (forward
//! mode: column k of `J` is the tangent of the residuals along e_k) or one reverse
//! sweep per residual (reverse mode: row i of `J` is the gradient of `⟨r, e_i⟩`), or
//! the structured terms of each `J` written into it ([`crate::jacobian_structure`]), or
//! forward (or structured) and reverse, one of them chosen at run time from the
//! shapes. The static backend's
//! version is `emit::fixed::jacobian_body`.
//!
//! The graph is a [`crate::tangent::JvpGraph`] of the seeded function `⟨r, s⟩`:
//! its values, then one section of tangent nodes per variable. The reverse sweep
//! runs over the same graph (its output is `⟨r, s⟩`, which no tangent node
//! reaches), so the two modes share the values.

use super::{fuse, grad_out, is_dynamic, lit, mixed, rt, Emit};
use crate::cost::Cost;
use crate::diff::Adjoints;
use crate::ir::{flag, Graph, Kind, NodeId, Op};
use crate::jacobian_structure::{reads, Base, Term};
use crate::parse::signature::{Param, Signature};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use std::cell::RefCell;

/// How the Jacobian is computed.
#[derive(Clone, Debug)]
pub enum Mode {
    /// One tangent sweep per entry of the variables.
    Forward,
    /// One reverse sweep per residual.
    Reverse,
    /// Both emitted: forward (or the structured form) when its cost is at most
    /// reverse's, each evaluated at the call's shapes.
    AtRunTime {
        /// The cost of forward mode (of the structured form when `structured`).
        forward: Cost,
        /// The cost of reverse mode.
        reverse: Cost,
        /// The structured form stands for forward mode (it is no dearer for any
        /// sizes).
        structured: bool,
    },
    /// No sweeps: each Jacobian formed from the structure of the residuals' tangent
    /// ([`crate::jacobian_structure`], [`Var::structured`]).
    Structured,
}

impl Mode {
    /// Whether the forward sweeps are emitted.
    pub fn has_forward(&self) -> bool {
        matches!(
            self,
            Mode::Forward
                | Mode::AtRunTime {
                    structured: false,
                    ..
                }
        )
    }
    /// Whether the structured Jacobians are emitted.
    pub fn has_structured(&self) -> bool {
        matches!(
            self,
            Mode::Structured
                | Mode::AtRunTime {
                    structured: true,
                    ..
                }
        )
    }
    /// Whether the reverse sweeps are emitted.
    pub fn has_reverse(&self) -> bool {
        matches!(self, Mode::Reverse | Mode::AtRunTime { .. })
    }
}

/// One `wrt` variable of a Jacobian.
pub struct Var {
    /// Its parameter index.
    pub param: usize,
    /// The parameter index of its direction.
    pub dir: usize,
    /// Its section of tangent nodes: `start..end`.
    pub start: NodeId,
    /// One past the section's last node.
    pub end: NodeId,
    /// The residuals' tangent along its direction (`None`: they do not depend on it).
    pub tangent: Option<NodeId>,
    /// Its Jacobian as structured terms, when the tangent has that form (empty: the
    /// residuals do not depend on it); used in [`Mode::Structured`].
    pub structured: Option<Vec<Term>>,
}

/// A Jacobian to emit.
pub struct Jac<'a> {
    /// The seeded function's parameters, then the directions.
    pub sig: &'a Signature,
    /// The JVP graph.
    pub graph: &'a Graph,
    /// Its reverse sweep for the variables (output `⟨r, s⟩`).
    pub adjoints: &'a Adjoints,
    /// The seed's parameter index.
    pub seed: usize,
    /// The residuals' node.
    pub r: NodeId,
    /// The variables, in `wrt` order.
    pub vars: &'a [Var],
    /// The mode.
    pub mode: &'a Mode,
}

/// The names of `NAME_jacobian_into`'s outputs.
pub struct Outs {
    /// The residuals.
    pub r: Ident,
    /// One Jacobian per variable.
    pub jac: Vec<Ident>,
    /// The workspace.
    pub ws: Ident,
}

/// `flags[id]`: node `id` is one of `roots` or something they are computed from (a
/// vector of ones reads its `of` node's size).
pub fn ancestors(g: &Graph, roots: &[NodeId]) -> Vec<bool> {
    let mut need = vec![false; g.nodes.len()];
    for &r in roots {
        if let Some(x) = need.get_mut(r) {
            *x = true;
        }
    }
    for id in (0..g.nodes.len()).rev() {
        if !flag(&need, id) {
            continue;
        }
        let node = g.node(id);
        let of = match node.op {
            Op::Ones { of, .. } => Some(of),
            _ => None,
        };
        for a in node.args.iter().copied().chain(of) {
            if let Some(x) = need.get_mut(a) {
                *x = true;
            }
        }
    }
    need
}

impl Jac<'_> {
    /// The nodes to compute: what the residuals need, and their tangents in forward
    /// mode.
    pub(crate) fn needed(&self) -> Vec<bool> {
        let mut roots = vec![self.r];
        if self.mode.has_forward() {
            roots.extend(self.vars.iter().filter_map(|v| v.tangent));
        }
        if self.mode.has_structured() {
            let direct = self.direct();
            for v in self.vars {
                for id in v.structured.as_deref().map(reads).unwrap_or_default() {
                    if direct.contains(&id) {
                        roots.extend(self.graph.node(id).args.iter().copied());
                    } else {
                        roots.push(id);
                    }
                }
            }
        }
        ancestors(self.graph, &roots)
    }

    /// The coefficients of `c e_kᵀ` terms computed straight into their column of
    /// `J`, never stored: a `map` or `zip_map` of columns that nothing else reads
    /// (not the residuals, not another term).
    pub(crate) fn direct(&self) -> Vec<NodeId> {
        if !self.mode.has_structured() {
            return Vec::new();
        }
        let g = self.graph;
        let mut uses: Vec<NodeId> = Vec::new();
        let mut candidates: Vec<NodeId> = Vec::new();
        for v in self.vars {
            for t in v.structured.as_deref().unwrap_or_default() {
                uses.extend(t.coef);
                if let Base::Matrix(a) = t.base {
                    uses.push(a);
                }
                if let (Base::Column(_), Some(c)) = (t.base, t.coef) {
                    let node = g.node(c);
                    if node.kind.is_matrix() && matches!(node.op, Op::Map(_) | Op::ZipMap(_)) {
                        candidates.push(c);
                    }
                }
            }
        }
        candidates.retain(|c| uses.iter().filter(|u| *u == c).count() == 1);
        let mut roots = vec![self.r];
        roots.extend(uses.iter().copied().filter(|u| !candidates.contains(u)));
        for &c in &candidates {
            roots.extend(g.node(c).args.iter().copied());
        }
        let need = ancestors(g, &roots);
        candidates.retain(|&c| !flag(&need, c));
        candidates
    }

    /// Nodes that depend on a direction.
    pub(crate) fn on_directions(&self) -> Vec<bool> {
        let dirs: Vec<usize> = self.vars.iter().map(|v| v.dir).collect();
        self.graph.active(&dirs)
    }

    /// The nodes computed once: needed, on no direction and not on the seed.
    pub(crate) fn once(&self) -> Vec<bool> {
        let (need, dirs, seed) = (
            self.needed(),
            self.on_directions(),
            self.graph.active(&[self.seed]),
        );
        (0..self.graph.nodes.len())
            .map(|id| flag(&need, id) && !flag(&dirs, id) && !flag(&seed, id))
            .collect()
    }

    /// The nodes of variable `v`'s sweep, in order.
    pub(crate) fn section(&self, v: &Var) -> Vec<NodeId> {
        let (need, dirs) = (self.needed(), self.on_directions());
        // The direction itself (a parameter: a copy on the static backend), then the
        // section.
        std::iter::once(v.dir)
            .chain(v.start..v.end.min(self.graph.nodes.len()))
            .filter(|&id| flag(&need, id) && flag(&dirs, id))
            .collect()
    }

    pub(crate) fn param(&self, i: usize) -> Option<&Param> {
        self.sig.params.get(i)
    }

    /// Whether the Jacobian of `v` is a static matrix: the residuals and the variable
    /// both have static sizes (a scalar variable counts as static).
    pub(crate) fn static_jacobian(&self, v: &Var) -> bool {
        let ret = self
            .param(self.seed)
            .is_some_and(|p| matches!(p.kind, Kind::Matrix(s) if s.is_static()));
        let var = self.param(v.param).is_some_and(|p| match p.kind {
            Kind::Scalar => true,
            Kind::Matrix(s) => s.is_static(),
        });
        ret && var
    }
}

/// The body of `NAME_jacobian_into` on the dynamic backend.
pub fn dynamic_body(j: &Jac<'_>, o: &Outs) -> TokenStream {
    let g = j.graph;
    let ws = &o.ws;
    let cx = Emit {
        g,
        sig: j.sig,
        adj: j.adjoints,
        slots: RefCell::new(Vec::new()),
        ws: ws.clone(),
        lazy: fuse::plan(g, j.adjoints),
    };
    let rt = rt();
    let once = j.once();
    let mut body = TokenStream::new();
    for id in (0..g.nodes.len()).filter(|&id| flag(&once, id)) {
        body.extend(cx.forward(id));
    }
    let outer = cx.slots.borrow().len();
    let Some(seed) = j.param(j.seed) else {
        return quote!(::core::compile_error!(
            "matgrad: a Jacobian without its seed"
        ));
    };
    // The residuals, and the Jacobians' shapes.
    let (rr, m) = (&o.r, mixed("__mg_m"));
    let rv = cx.view(j.r);
    body.extend(quote!(let #m: usize = #rv.nrows();));
    if is_dynamic(seed.kind) {
        let ret = &seed.owned;
        body.extend(quote! {
            if #rr.len() != #m {
                *#rr = <#ret>::zeros(#m);
            }
        });
    }
    body.extend(quote!(#rr.copy_from(&#rv.column(0));));
    let mut n_total = Vec::new();
    for (v, out) in j.vars.iter().zip(&o.jac) {
        let n = entries(&cx, j, v);
        n_total.push(n.clone());
        if !j.static_jacobian(v) {
            body.extend(quote! {
                if #out.shape() != (#m, #n) {
                    *#out = #rt::DMatrix::zeros(#m, #n);
                }
            });
        }
    }
    let forward = if j.mode.has_structured() {
        Some(structured(&cx, j, o))
    } else {
        j.mode.has_forward().then(|| forward_sweeps(&cx, j, o))
    };
    let reverse = j.mode.has_reverse().then(|| reverse_sweeps(&cx, j, o, &m));
    body.extend(match (j.mode, forward, reverse) {
        (
            Mode::AtRunTime {
                forward: fc,
                reverse: rc,
                ..
            },
            Some(f),
            Some(r),
        ) => {
            let sym = |s: &str| symbol(&cx, g, &once, s);
            let choose = match (fc.tokens(&sym), rc.tokens(&sym)) {
                (Some(fc), Some(rc)) => quote!(#fc <= #rc),
                // A size the cost model names but the code cannot read here: the
                // number of sweeps alone.
                _ => quote!((0usize #(+ #n_total)*) <= #m),
            };
            quote! {
                if #choose {
                    #f
                } else {
                    #r
                }
            }
        }
        (_, f, r) => quote!(#f #r),
    });
    for (name, k) in cx.slots.borrow().iter().take(outer) {
        body.extend(quote!(#ws.put(#k, #name);));
    }
    body
}

/// The number of entries of `v` at run time, a `usize`.
fn entries(cx: &Emit<'_>, j: &Jac<'_>, v: &Var) -> TokenStream {
    match j.param(v.param).map(|p| p.kind) {
        Some(Kind::Matrix(_)) => {
            let pv = cx.view(v.param);
            quote!(#pv.len())
        }
        _ => quote!(1usize),
    }
}

/// A dimension of the cost model (`x.r`, `%12.c`) as an `f64` read at run time from a
/// parameter or a value computed once.
fn symbol(cx: &Emit<'_>, g: &Graph, once: &[bool], s: &str) -> Option<TokenStream> {
    let (label, dim) = s.rsplit_once('.')?;
    let id = (0..g.nodes.len()).find(|&id| {
        let node = g.node(id);
        node.kind.is_matrix()
            && g.label(id) == label
            && (matches!(node.op, Op::Param(_)) || flag(once, id))
    })?;
    let v = cx.view(id);
    match dim {
        "r" => Some(quote!((#v.nrows() as f64))),
        "c" => Some(quote!((#v.ncols() as f64))),
        _ => None,
    }
}

/// Per variable, its Jacobian from its structured terms, written straight into
/// it: the first term on a whole matrix (`diag(c) A`, `diag(c)`) overwrites `J`,
/// the others add; with none, the columns no term writes are zeroed and each
/// column's first term `c e_kᵀ` overwrites it.
fn structured(cx: &Emit<'_>, j: &Jac<'_>, o: &Outs) -> TokenStream {
    let (g, rt) = (j.graph, rt());
    let text = &g.node(j.r).text;
    let mut out = TokenStream::new();
    let direct = j.direct();
    for (v, jout) in j.vars.iter().zip(&o.jac) {
        let Some(terms) = &v.structured else {
            out.extend(
                quote!(::core::compile_error!("matgrad: a structured Jacobian without its terms");),
            );
            continue;
        };
        let mut order: Vec<&Term> = terms.iter().collect();
        order.sort_by_key(|t| match t.base {
            Base::Matrix(_) => 0,
            Base::Identity => 1,
            Base::Column(_) => 2,
        });
        // Columns only: the others zeroed, each column's first term overwrites it.
        let columns_only = order.iter().all(|t| matches!(t.base, Base::Column(_)));
        let mut written: Vec<usize> = Vec::new();
        if columns_only {
            for t in &order {
                if let Base::Column(k) = t.base {
                    if !written.contains(&k) {
                        written.push(k);
                    }
                }
            }
            out.extend(quote!(#rt::jac_zero_columns_except(#jout, &[#(#written),*]);));
        }
        let mut first = true;
        let mut seen: Vec<usize> = Vec::new();
        for t in order {
            let s = lit(t.scale, &g.float);
            let (s, c) = match t.coef {
                Some(id) if g.node(id).kind.is_matrix() => {
                    let cv = cx.view(id);
                    (s, quote!(::core::option::Option::Some(#cv)))
                }
                Some(id) => {
                    let sc = cx.scalar(id);
                    (quote!((#s * #sc)), quote!(::core::option::Option::None))
                }
                None => (s, quote!(::core::option::Option::None)),
            };
            let acc = match t.base {
                Base::Column(k) if columns_only => {
                    let again = seen.contains(&k);
                    seen.push(k);
                    again
                }
                _ => !first,
            };
            first = false;
            // A coefficient computed straight into its column.
            if let (Base::Column(k), Some(cid)) = (t.base, t.coef) {
                if direct.contains(&cid) {
                    let node = g.node(cid);
                    let (a, b) = (node.args.first().copied(), node.args.get(1).copied());
                    out.extend(match (&node.op, a, b) {
                        (Op::Map(cl), Some(a), _) => {
                            let (av, x, body) = (cx.view(a), mixed("__mg_x"), cx.sym(&cl.body, cid, 0));
                            quote!(#rt::jac_column_map_to(#jout, #acc, #k, #s, #av, |#x| #body, #text);)
                        }
                        (Op::ZipMap(cl), Some(a), Some(b)) => {
                            let (av, bv) = (cx.view(a), cx.view(b));
                            let (p, q, body) = (mixed("__mg_a0"), mixed("__mg_a1"), cx.sym(&cl.body, cid, 0));
                            quote!(#rt::jac_column_zip_to(#jout, #acc, #k, #s, #av, #bv, |#p, #q| #body, #text);)
                        }
                        _ => quote!(::core::compile_error!("matgrad: a coefficient that is not entrywise");),
                    });
                    continue;
                }
            }
            out.extend(match t.base {
                Base::Matrix(a) => {
                    let av = cx.view(a);
                    quote!(#rt::jac_rows_to(#jout, #acc, #s, #c, #av, #text);)
                }
                Base::Identity => quote!(#rt::jac_diag_to(#jout, #acc, #s, #c, #text);),
                Base::Column(k) => quote!(#rt::jac_column_to(#jout, #acc, #k, #s, #c, #text);),
            });
        }
    }
    out
}

/// Per variable, per entry k: the unit direction e_k, the variable's section, and
/// its tangent of the residuals into column k of its Jacobian.
fn forward_sweeps(cx: &Emit<'_>, j: &Jac<'_>, o: &Outs) -> TokenStream {
    let (g, ws, rt) = (j.graph, &o.ws, rt());
    let (zero, one, t) = (lit(0.0, &g.float), lit(1.0, &g.float), g.float.ty());
    let mut out = TokenStream::new();
    for (k, (v, jout)) in j.vars.iter().zip(&o.jac).enumerate() {
        let (Some(p), Some(d)) = (j.param(v.param), j.param(v.dir)) else {
            continue;
        };
        let Some(tangent) = v.tangent else {
            out.extend(quote!(#jout.fill(#zero);));
            continue;
        };
        let before = cx.slots.borrow().len();
        let kk = mixed("__mg_k");
        let mut each = TokenStream::new();
        // The direction is the unit vector e_k: `A v` is column k of `A` (m entries
        // copied where the product would make m·n multiply-adds).
        let column_dir = matches!(d.kind, Kind::Matrix(s) if s.cols == crate::ir::Dim::One);
        let on = j.on_directions();
        let section = j.section(v);
        // The residuals' tangent, when a `map` or `zip_map` read by nothing else of
        // the sweep, is evaluated straight into column k of a dynamic `J`.
        let tnode = g.node(tangent);
        let into_column = !j.static_jacobian(v)
            && matches!(tnode.kind, Kind::Matrix(s) if s.cols == crate::ir::Dim::One)
            && matches!(tnode.op, Op::Map(_) | Op::ZipMap(_))
            && section.contains(&tangent)
            && !section.iter().any(|&id| g.node(id).args.contains(&tangent));
        let text = &g.node(j.r).text;
        for id in section {
            let node = g.node(id);
            if into_column && id == tangent {
                let (a, b) = (node.args.first().copied(), node.args.get(1).copied());
                each.extend(match (&node.op, a, b) {
                    (Op::Map(cl), Some(a), _) => {
                        let (av, x, body) = (cx.view(a), mixed("__mg_x"), cx.sym(&cl.body, id, 0));
                        quote!(#rt::jac_column_map_to(#jout, false, #kk, #one, #av, |#x| #body, #text);)
                    }
                    (Op::ZipMap(cl), Some(a), Some(b)) => {
                        let (av, bv) = (cx.view(a), cx.view(b));
                        let (p, q, body) = (mixed("__mg_a0"), mixed("__mg_a1"), cx.sym(&cl.body, id, 0));
                        quote!(#rt::jac_column_zip_to(#jout, false, #kk, #one, #av, #bv, |#p, #q| #body, #text);)
                    }
                    _ => quote!(::core::compile_error!("matgrad: a tangent that is not entrywise");),
                });
                continue;
            }
            match (&node.op, node.args.as_slice()) {
                (Op::MatMul, &[a, x]) if column_dir && x == v.dir && !flag(&on, a) => {
                    let (name, av, text) = (super::val(id), cx.view(a), &node.text);
                    each.extend(cx.take(&name));
                    each.extend(quote!(#rt::column_to(&mut #name, #av, #kk, #text);));
                }
                _ => each.extend(cx.forward(id)),
            }
        }
        if !into_column {
            let tv = cx.view(tangent);
            each.extend(quote!(#jout.column_mut(#kk).copy_from(&#tv.column(0));));
        }
        for (name, slot) in cx.slots.borrow().iter().skip(before) {
            each.extend(quote!(#ws.put(#slot, #name);));
        }
        let (dname, owned) = (&d.name, &p.owned);
        let dir = mixed(&format!("__mg_dir{k}"));
        let sweeps = quote! {
            for #kk in 0..#dir.len() {
                #dir[#kk] = #one;
                {
                    let #dname = &#dir;
                    #each
                }
                #dir[#kk] = #zero;
            }
        };
        out.extend(match p.kind {
            Kind::Scalar => quote! {
                {
                    let #kk: usize = 0;
                    let #dname: #t = #one;
                    #each
                }
            },
            Kind::Matrix(s) if s.is_static() => quote! {
                let mut #dir = <#owned>::zeros();
                #sweeps
            },
            Kind::Matrix(_) => {
                // The direction lives in the workspace between calls.
                let slot = 1 + j.vars.len() + k;
                let (kept, name, pv) = (mixed("__mg_kept"), &p.name, cx.view(v.param));
                quote! {
                    let mut #dir: #owned = ::core::default::Default::default();
                    {
                        let #kept = #ws.take_extra(#slot);
                        if #kept.shape() == #pv.shape() {
                            #rt::GradBuf::put_matrix(&mut #dir, #kept);
                            #dir.fill(#zero);
                        } else {
                            #dir = #name.map(|_| #zero);
                        }
                    }
                    #sweeps
                    #ws.put_extra(#slot, #rt::GradBuf::take_matrix(&mut #dir));
                }
            }
        });
    }
    out
}

/// Per residual i: the seed e_i, the reverse sweep, and each variable's gradient
/// into row i of its Jacobian.
fn reverse_sweeps(cx: &Emit<'_>, j: &Jac<'_>, o: &Outs, m: &Ident) -> TokenStream {
    let (g, ws, rt) = (j.graph, &o.ws, rt());
    let (zero, one, t) = (lit(0.0, &g.float), lit(1.0, &g.float), g.float.ty());
    let Some(seed) = j.param(j.seed) else {
        return TokenStream::new();
    };
    let (sname, sowned) = (&seed.name, &seed.owned);
    let (sbuf, kept, i) = (mixed("__mg_seed"), mixed("__mg_kept"), mixed("__mg_i"));
    let mut init = if is_dynamic(seed.kind) {
        quote! {
            let mut #sbuf: #sowned = ::core::default::Default::default();
            {
                let #kept = #ws.take_extra(0);
                if #kept.nrows() == #m && #kept.ncols() == 1 {
                    #rt::GradBuf::put_matrix(&mut #sbuf, #kept);
                    #sbuf.fill(#zero);
                } else {
                    #sbuf = <#sowned>::zeros(#m);
                }
            }
        }
    } else {
        quote!(let mut #sbuf = <#sowned>::zeros();)
    };
    let mut release = if is_dynamic(seed.kind) {
        quote!(#ws.put_extra(0, #rt::GradBuf::take_matrix(&mut #sbuf));)
    } else {
        TokenStream::new()
    };
    let before = cx.slots.borrow().len();
    let mut each = quote!(let #sname = &#sbuf;);
    let mut rows = TokenStream::new();
    for (k, (v, jout)) in j.vars.iter().zip(&o.jac).enumerate() {
        let Some(p) = j.param(v.param) else { continue };
        let (gb, go, owned) = (mixed(&format!("__mg_grad{k}")), grad_out(p), &p.owned);
        init.extend(match p.kind {
            Kind::Scalar => quote!(let mut #gb: #t = #zero;),
            Kind::Matrix(s) if s.is_static() => quote!(let mut #gb = <#owned>::zeros();),
            Kind::Matrix(_) => {
                let slot = 1 + k;
                release.extend(quote!(#ws.put_extra(#slot, #rt::GradBuf::take_matrix(&mut #gb));));
                quote! {
                    let mut #gb: #owned = ::core::default::Default::default();
                    {
                        let #kept = #ws.take_extra(#slot);
                        if !#kept.is_empty() {
                            #rt::GradBuf::put_matrix(&mut #gb, #kept);
                        }
                    }
                }
            }
        });
        each.extend(quote!(let #go = &mut #gb;));
        let kk = mixed("__mg_k");
        let x = mixed("__mg_x");
        rows.extend(match p.kind {
            Kind::Scalar => quote!(#jout[(#i, 0)] = #gb;),
            Kind::Matrix(_) => quote! {
                for (#kk, #x) in #rt::view(&#gb).iter().enumerate() {
                    #jout[(#i, #kk)] = *#x;
                }
            },
        });
    }
    for id in (0..g.nodes.len()).rev() {
        if j.adjoints.is_differentiated(id) {
            each.extend(cx.adjoint(id, cx.target_of(id)));
            each.extend(cx.chain_backward(id));
        }
    }
    for v in j.vars {
        each.extend(cx.write_out(v.param));
    }
    for (name, slot) in cx.slots.borrow().iter().skip(before) {
        each.extend(quote!(#ws.put(#slot, #name);));
    }
    quote! {
        #init
        for #i in 0..#m {
            #sbuf[#i] = #one;
            {
                #each
            }
            #sbuf[#i] = #zero;
            #rows
        }
        #release
    }
}

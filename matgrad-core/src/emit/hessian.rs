//! `NAME_hessian`: the dense Hessian of one variable.
//!
//! When the Hessian has a structure the cost model finds cheaper than `n`
//! Hessian-vector products (see [`crate::hessian_structure`]: `Xᵀ diag(d) X`, Kronecker
//! products), it is built from it: the forward and reverse passes of `NAME_grad`,
//! then one kernel per term on the forward pass's values. Otherwise it is built
//! column by column from Hessian-vector products with unit directions, symmetrised.
//! For dynamic sizes the half of the HVP that does not depend on the direction (the
//! values, the first-order adjoints, the gradient) is computed once
//! (`emit::hessian_sweeps`); otherwise (static sizes, chains of products through a
//! tangent) each column is one call of `NAME_hvp_into`, all sharing one workspace.

use super::{float_ty, formula, grad_out, lit, mixed, rt, Input};
use crate::hessian_structure::{Piece, Plan};
use crate::ir::{Float, Kind};
use crate::parse::signature::Param;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `NAME_hessian(<params>) -> (T, G, H)`: from the structure `plan` chooses, on the
/// first-order derivation `first`, or else around the HVP companions of `input` (the
/// tangent graph's input: its `wrt` is the direction, then the variable).
pub fn companion(input: &Input<'_>, first: &Input<'_>, plan: Option<&Plan>) -> TokenStream {
    built(input, first, plan).map_or_else(TokenStream::new, |b| {
        wrapper(first.item, &b.params, &b.w, b.float, b.how, &b.doc, &b.body)
    })
}

/// The body of [`companion`] alone, for a function whose companions' signatures are
/// emitted apart (one calling `#[differentiable]` helpers, see [`around`]).
pub fn body(input: &Input<'_>, first: &Input<'_>, plan: Option<&Plan>) -> TokenStream {
    built(input, first, plan).map_or_else(
        || {
            quote!(::core::unreachable!(
                "matgrad: this function was rejected at compile time"
            ))
        },
        |b| b.body,
    )
}

/// `NAME_hessian` around `body` (a helper continuation's, see [`body`]), `w` the
/// variable among `params`.
pub fn around(
    item: &syn::ItemFn,
    params: &[Param],
    w: &Param,
    float: Float,
    body: &TokenStream,
) -> TokenStream {
    let how = "Derived through the `#[differentiable]` helpers the body calls: from the Hessian's structure when the cost model finds one cheaper, else column by column from Hessian-vector products (formulas are not shown for such functions).";
    wrapper(item, params, w, float, how, &[], body)
}

/// `NAME_hessian`'s parts: what [`wrapper`] puts around its body.
struct Built {
    params: Vec<Param>,
    w: Param,
    float: Float,
    how: &'static str,
    doc: Vec<String>,
    body: TokenStream,
}

fn built(input: &Input<'_>, first: &Input<'_>, plan: Option<&Plan>) -> Option<Built> {
    match plan.and_then(Plan::chosen) {
        Some(pieces) => structured(first, pieces, plan),
        None => columns(input, first, plan),
    }
}

/// The symmetrisation of `h` (`n×n`): exactly symmetric, for Cholesky and friends.
fn symmetrise(h: &proc_macro2::Ident, n: &proc_macro2::Ident, float: &Float) -> TokenStream {
    let one = lit(1.0, float);
    let (i, j, m) = (mixed("__mg_i"), mixed("__mg_j"), mixed("__mg_m"));
    quote! {
        for #j in 0..#n {
            for #i in 0..#j {
                let #m = (#h[(#i, #j)] + #h[(#j, #i)]) / (#one + #one);
                #h[(#i, #j)] = #m;
                #h[(#j, #i)] = #m;
            }
        }
    }
}

/// `NAME_hessian` from the structure's `pieces`: `NAME_grad`'s passes, then the
/// Hessian's terms on their values.
fn structured(first: &Input<'_>, pieces: &[Piece], plan: Option<&Plan>) -> Option<Built> {
    let Input { sig, wrt, .. } = *first;
    let (&w, wp) = wrt.first().and_then(|w| Some((w, sig.params.get(*w)?)))?;
    let Kind::Matrix(shape) = wp.kind else {
        return None;
    };
    let t = float_ty(&sig.float);
    let rt = rt();
    let h_ty = hessian_type(wp, sig.float.clone());
    let (h, n, value) = (mixed("__mg_h"), mixed("__mg_n"), mixed("__mg_value"));
    let sym = symmetrise(&h, &n, &sig.float);
    let body = if super::fixed::applies(first) {
        let (code, v, grad, hexpr) = super::fixed::structured_hessian(first, pieces, shape);
        let nn = shape.rows.size().unwrap_or(0) * shape.cols.size().unwrap_or(0);
        quote! {
            #code
            let mut #h: #h_ty = #hexpr;
            let #n: usize = #nn;
            #sym
            (#v, #grad, #h)
        }
    } else {
        let (hd, g, ws) = (mixed("__mg_hd"), mixed("__mg_g"), mixed("ws"));
        let cache = format_ident!("__MATGRAD_WORKSPACE");
        let (cached, with) = super::cached_workspace(&cache, &sig.float);
        let inner = super::structured_hessian(first, pieces, w, &hd);
        let (go, owned) = (grad_out(wp), &wp.owned);
        let convert = if shape.is_static() {
            quote!(<#h_ty>::from_column_slice(#hd.as_slice()))
        } else {
            quote!(#hd)
        };
        quote! {
            #cached
            let mut #g: #owned = ::core::default::Default::default();
            let mut #hd: #rt::DMatrix<#t> = #rt::DMatrix::zeros(0, 0);
            let #value: #t = #rt::#with(&#cache, |#ws| {
                let #go = &mut #g;
                #inner
            });
            // Every kernel adds an exactly symmetric term: no symmetrisation.
            let #h: #h_ty = #convert;
            (#value, #g, #h)
        }
    };
    Some(Built {
        params: sig.params.clone(),
        w: wp.clone(),
        float: sig.float.clone(),
        how: "Built from its structure (the terms below, one product each, on the values of the forward pass; no Hessian-vector product), exact to rounding and exactly symmetric.",
        doc: structured_doc(first, pieces, plan),
        body,
    })
}

/// The doc lines of a structured `NAME_hessian`: the gradient, the Hessian and what
/// it cites, and the costs that chose it.
fn structured_doc(first: &Input<'_>, pieces: &[Piece], plan: Option<&Plan>) -> Vec<String> {
    use super::math::{print, Notation, Terms};
    let terms = Terms::new(first);
    let gradients = terms.gradients();
    let var = first
        .wrt
        .first()
        .and_then(|&w| first.sig.params.get(w))
        .map_or(Kind::Scalar, |p| p.kind);
    let (hess, wheres) = crate::hessian_structure::formula(pieces, &terms, var);
    let mut lines = vec!["# Derived gradient and Hessian".to_owned(), String::new()];
    for (name, g) in &gradients {
        lines.push(format!("- `∂f/∂{name} = {}`", print(g, Notation::Unicode)));
    }
    lines.push(format!("- `∇²f = {}`", print(&hess, Notation::Unicode)));
    let cited = terms.cited();
    let defs = terms.definitions();
    if !defs.is_empty() || !cited.is_empty() || !wheres.is_empty() {
        lines.push(String::new());
        lines.push("where".to_owned());
        lines.push(String::new());
        for (name, t) in cited.iter().rev().chain(&defs).chain(&wheres) {
            lines.push(format!("- `{name} = {}`", print(t, Notation::Unicode)));
        }
    }
    if let Some(p) = plan {
        lines.push(String::new());
        lines.push(cost_line(p));
    }
    lines
        .into_iter()
        .map(|l| if l.is_empty() { l } else { format!(" {l}") })
        .collect()
}

/// What the cost model compared, in one sentence.
pub fn cost_line(p: &Plan) -> String {
    match (&p.structured, p.use_structure) {
        (Some(s), true) => format!(
            "Cost model: this structure takes {s} multiply-adds, against about {} for n Hessian-vector products (a.r, a.c: rows and columns of a).",
            p.columns_text()
        ),
        (Some(s), false) => format!(
            "Cost model: the structure above takes {s} multiply-adds, not at most the {} estimated for n Hessian-vector products for every size, so the Hessian is built from those (a.r, a.c: rows and columns of a).",
            p.columns_text()
        ),
        (None, _) => "No closed structure is recognised (only sums of entrywise functions of `A W B`, their squared norms, inner products of two such maps and `log_sum_exp` of one are): the Hessian is built column by column from Hessian-vector products.".to_owned(),
    }
}

/// `NAME_hessian` column by column, around the HVP companions of `input`.
fn columns(input: &Input<'_>, first: &Input<'_>, plan: Option<&Plan>) -> Option<Built> {
    let Input { item, sig, wrt, .. } = *input;
    let dp = wrt.first().and_then(|&d| sig.params.get(d))?;
    let wp = wrt.get(1).and_then(|&w| sig.params.get(w))?;
    let originals = sig
        .params
        .get(..sig.params.len().saturating_sub(1))
        .unwrap_or(&[]);
    // A matrix taken by value is passed to each HVP as a copy.
    let args: Vec<TokenStream> = originals
        .iter()
        .map(|p| {
            let n = &p.name;
            if p.kind.is_matrix() && !p.by_ref {
                quote!(::core::clone::Clone::clone(&#n))
            } else {
                quote!(#n)
            }
        })
        .collect();
    let name = &item.sig.ident;
    let (_, into) = input.companion.names(name);
    let t = float_ty(&sig.float);
    let (zero, one) = (lit(0.0, &sig.float), lit(1.0, &sig.float));
    let rt = rt();
    let (w, owned) = (&wp.name, &wp.owned);
    let (ws, cache) = (mixed("ws"), format_ident!("__MATGRAD_WORKSPACE"));
    let m = mixed("__mg_m");
    let (dir, g, hv, h, n, i, j, value) = (
        mixed("__mg_dir"),
        mixed("__mg_g"),
        mixed("__mg_hv"),
        mixed("__mg_h"),
        mixed("__mg_n"),
        mixed("__mg_i"),
        mixed("__mg_j"),
        mixed("__mg_value"),
    );
    // Directions are `&M` for a matrix, `T` for a scalar (`tangent::signature`).
    let dir_arg = if dp.by_ref {
        quote!(&#dir)
    } else {
        quote!(#dir)
    };
    let h_ty = hessian_type(wp, sig.float.clone());
    let body = match wp.kind {
        Kind::Scalar => quote! {
            let #dir: #t = #one;
            let mut #g: #t = #zero;
            let mut #hv: #t = #zero;
            let #value = #into(#(#args,)* #dir_arg, &mut #g, &mut #hv, #ws);
            (#value, #g, #hv)
        },
        Kind::Matrix(shape) => {
            let zeros = if shape.is_static() {
                quote!(<#h_ty>::zeros())
            } else {
                quote!(<#h_ty>::zeros(#n, #n))
            };
            let names = super::HessianNames {
                dir: dir.clone(),
                g: g.clone(),
                hv: hv.clone(),
                h: h.clone(),
                n: n.clone(),
            };
            let hoisted = if super::fixed::applies(input) {
                None
            } else {
                super::hessian_sweeps(input, &names)
            };
            let columns = match hoisted {
                // The direction-independent half once, the rest per column.
                Some(sweeps) => quote!(let #value: #t = { #sweeps };),
                // n whole HVPs.
                None => quote! {
                    let mut #value: #t = #zero;
                    // One call even for an empty variable: the value and gradient.
                    for #j in 0..(if #n == 0 { 1 } else { #n }) {
                        if #j < #n {
                            #dir[#j] = #one;
                        }
                        #value = #into(#(#args,)* #dir_arg, &mut #g, &mut #hv, #ws);
                        if #j < #n {
                            #dir[#j] = #zero;
                            for #i in 0..#n {
                                #h[(#i, #j)] = #hv[#i];
                            }
                        }
                    }
                },
            };
            quote! {
                    let #n = #w.len();
                    let mut #dir: #owned = #w.map(|_| #zero);
                    let mut #g: #owned = ::core::default::Default::default();
                    let mut #hv: #owned = ::core::default::Default::default();
                    let mut #h = #zeros;
                    #columns
                    // Symmetric to rounding already; exactly, for Cholesky and friends.
                    for #j in 0..#n {
                        for #i in 0..#j {
                            let #m = (#h[(#i, #j)] + #h[(#j, #i)]) / (#one + #one);
                            #h[(#i, #j)] = #m;
                            #h[(#j, #i)] = #m;
                        }
                    }
                    (#value, #g, #h)
            }
        }
    };
    let mut doc = formula::hvp_doc(input);
    if let Some(p) = plan {
        doc.push(String::new());
        let mut line = cost_line(p);
        if let (Some(pieces), false) = (&p.pieces, p.use_structure) {
            let terms = super::math::Terms::new(first);
            let var = first
                .wrt
                .first()
                .and_then(|&w| first.sig.params.get(w))
                .map_or(Kind::Scalar, |p| p.kind);
            let (h, _) = crate::hessian_structure::formula(pieces, &terms, var);
            line = format!(
                "Structure: `∇²f = {}`. {line}",
                super::math::print(&h, super::math::Notation::Unicode)
            );
        }
        doc.push(format!(" {line}"));
    }
    let (cached, with) = super::cached_workspace(&cache, &sig.float);
    let body = quote! {
        #cached
        #rt::#with(&#cache, |#ws| {
            #body
        })
    };
    Some(Built {
        params: originals.to_vec(),
        w: wp.clone(),
        float: sig.float.clone(),
        how: "Built column by column from Hessian-vector products with unit directions (reverse mode over the forward-mode tangent, exact to rounding), one workspace for all of them, and symmetrised.",
        doc,
        body,
    })
}

/// `NAME_hessian` with an unreachable body, for a rejected function (so the user's
/// calls add no "cannot find function" to matgrad's errors).
pub fn stub(item: &syn::ItemFn, params: &[Param], w: &Param, float: Float) -> TokenStream {
    let body = quote!(::core::unreachable!(
        "matgrad: this function was rejected at compile time"
    ));
    wrapper(item, params, w, float, "", &[], &body)
}

/// The type of the Hessian of `w`: `T`, `SMatrix<T, N, N>` or `DMatrix<T>`.
fn hessian_type(w: &Param, float: Float) -> TokenStream {
    let (t, rt) = (float_ty(&float), rt());
    match w.kind {
        Kind::Scalar => quote!(#t),
        Kind::Matrix(shape) => match (shape.rows.size(), shape.cols.size()) {
            (Some(r), Some(c)) => {
                let nn = r * c;
                quote!(#rt::SMatrix<#t, #nn, #nn>)
            }
            _ => quote!(#rt::DMatrix<#t>),
        },
    }
}

/// `fn NAME_hessian(params) -> (T, G, H) { body }` with its docs.
fn wrapper(
    item: &syn::ItemFn,
    params: &[Param],
    wp: &Param,
    float: Float,
    how: &str,
    doc: &[String],
    body: &TokenStream,
) -> TokenStream {
    let name = &item.sig.ident;
    let vis = &item.vis;
    let cfgs: Vec<_> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    let hess_name = format_ident!("{}_hessian", name);
    let t = float_ty(&float);
    let super::Generics {
        params: generic_params,
        bounds,
        turbofish,
    } = super::generics(item, &float);
    let h_ty = hessian_type(wp, float);
    let (w, owned) = (&wp.name, &wp.owned);
    let shape = match wp.kind {
        Kind::Scalar => "a scalar: the second derivative".to_owned(),
        Kind::Matrix(s) => match (s.rows.size(), s.cols.size()) {
            (Some(r), Some(c)) => format!(
                "{n}×{n}, over the {n} entries of `{w}` in column-major order",
                n = r * c
            ),
            _ => format!("n×n for the n entries of `{w}`, in column-major order"),
        },
    };
    let head = format!(
        " Value, gradient and Hessian of [`{name}`] with respect to `{w}`, derived by `#[grad]`: `H[(i, j)] = ∂²f / ∂vec({w})_i ∂vec({w})_j`, {shape}. {how}"
    );
    let decls: Vec<TokenStream> = params
        .iter()
        .map(|p| {
            let (n, ty) = (&p.name, &p.ty);
            quote!(#n: #ty)
        })
        .collect();
    quote! {
        #(#cfgs)*
        #[doc = #head]
        #[doc = ""]
        #(#[doc = #doc])*
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_parens, unused_variables, unused_mut, non_snake_case)]
        #vis fn #hess_name #generic_params (#(#decls),*) -> (#t, #owned, #h_ty) #bounds {
            // It stands for `NAME`, as the other companions do.
            #[allow(deprecated)]
            let _ = #name #turbofish;
            #body
        }
    }
}

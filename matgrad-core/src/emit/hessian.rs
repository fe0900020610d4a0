//! `NAME_hessian`: the dense Hessian of one variable, column by column, from
//! Hessian-vector products with unit directions, symmetrised. For dynamic sizes the
//! half of the HVP that does not depend on the direction (the values, the first-order
//! adjoints, the gradient) is computed once (`emit::hessian_sweeps`); otherwise
//! (static sizes, chains of products through a tangent) each column is one call of
//! `NAME_hvp_into`, all sharing one workspace.

use super::{float_ty, formula, lit, mixed, rt, Input};
use crate::ir::{Float, Kind};
use crate::parse::signature::Param;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `NAME_hessian(<params>) -> (T, G, H)` around the HVP companions of `input` (the
/// tangent graph's input: its `wrt` is the direction, then the variable).
pub fn companion(input: &Input<'_>) -> TokenStream {
    let Input { item, sig, wrt, .. } = *input;
    let (Some(dp), Some(wp)) = (
        wrt.first().and_then(|&d| sig.params.get(d)),
        wrt.get(1).and_then(|&w| sig.params.get(w)),
    ) else {
        return TokenStream::new();
    };
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
    let doc = formula::hvp_doc(input);
    let (cached, with) = super::cached_workspace(&cache, &sig.float);
    let body = quote! {
        #cached
        #rt::#with(&#cache, |#ws| {
            #body
        })
    };
    wrapper(item, originals, wp, sig.float.clone(), &doc, &body)
}

/// `NAME_hessian` with an unreachable body, for a rejected function (so the user's
/// calls add no "cannot find function" to matgrad's errors).
pub fn stub(item: &syn::ItemFn, params: &[Param], w: &Param, float: Float) -> TokenStream {
    let body = quote!(::core::unreachable!(
        "matgrad: this function was rejected at compile time"
    ));
    wrapper(item, params, w, float, &[], &body)
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
        " Value, gradient and Hessian of [`{name}`] with respect to `{w}`, derived by `#[grad]`: `H[(i, j)] = ∂²f / ∂vec({w})_i ∂vec({w})_j`, {shape}. Built column by column from Hessian-vector products with unit directions (reverse mode over the forward-mode tangent, exact to rounding), one workspace for all of them, and symmetrised."
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

//! `#[jacobian(wrt = p)]`: the Jacobian of a vector-valued function, by reverse mode.
//!
//! For `fn r(p, …) -> DVector<T>` with m residuals, the expansion writes a hidden
//! scalar function `⟨r(p, …), s⟩` of one more parameter, the seed `s`, and puts
//! `#[grad]` on it: its gradient with respect to `p` is `Jᵀ s`, row `i` of `J` when
//! `s = e_i`. `NAME_jacobian_into` calls that gradient once per residual, with the
//! seed and the gradient buffers kept in the workspace, and copies each gradient
//! into its row (a matrix variable's entries in column-major order). So every
//! construct `#[grad]` accepts works here too (static sizes, helpers, generic
//! floats), and the cost is m gradients: `m (1 + 2–3) ×` the residual's forward
//! pass. Forward mode (cheaper when the variables have fewer entries than there are
//! residuals) and structured Jacobians are not chosen yet.

use crate::ctxt::Ctxt;
use crate::emit::{generics, mixed, Generics};
use crate::ir::{Dim, Kind};
use crate::parse;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};

/// Expands `#[jacobian(attr)] item` (and `reassociate` when `reassociate`).
pub fn expand(attr: TokenStream, item: TokenStream, reassociate: bool) -> TokenStream {
    let f: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(
                e.span(),
                "#[jacobian] applies to a function returning a vector: `#[jacobian(wrt = p)] fn residual(p: &DVector<f64>, ..) -> DVector<f64> { .. }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    match companions(attr, &f, reassociate) {
        Ok(tokens) => quote!(#item #tokens),
        Err(errors) => {
            let errors: TokenStream = errors.iter().map(syn::Error::to_compile_error).collect();
            quote!(#item #errors)
        }
    }
}

/// The seeded function, its `#[grad]`, and the two companions.
fn companions(
    attr: TokenStream,
    f: &syn::ItemFn,
    reassociate: bool,
) -> Result<TokenStream, Vec<syn::Error>> {
    if attr.is_empty() {
        return Err(vec![syn::Error::new(
            Span::call_site(),
            "#[jacobian] needs `wrt`: name the variables, as in #[jacobian(wrt = p)] or #[jacobian(wrt = (r, t))]",
        )]);
    }
    let mut cx = Ctxt::new();
    let parsed = parse::attr::parse(&mut cx, attr.clone());
    let syn::ReturnType::Type(_, ret_ty) = &f.sig.output else {
        return Err(vec![syn::Error::new_spanned(
            &f.sig.ident,
            "a #[jacobian] function returns its residuals as a vector: add `-> DVector<f64>` (or a static `SVector<f64, M>`, `Vector3<f64>`, …)",
        )]);
    };
    // The seeded function: the same parameters and a seed of the result's type;
    // its value ⟨r, s⟩.
    let name = &f.sig.ident;
    let seeded = format_ident!("__mg_{}_seeded", name);
    let seed = syn::Ident::new("__mg_seed", Span::call_site());
    let mut sig = f.sig.clone();
    sig.ident = seeded.clone();
    sig.inputs.push(syn::parse_quote!(#seed: &#ret_ty));
    let float_ty = float_of(ret_ty).ok_or_else(|| {
        vec![syn::Error::new_spanned(
            ret_ty,
            "a #[jacobian] function returns a vector: `DVector<T>`, `SVector<T, M>`, `Vector2<T>` … `Vector6<T>`, with `T` its float type",
        )]
    })?;
    sig.output = syn::parse_quote!(-> #float_ty);
    let Some(read) = parse::signature::parse(&mut cx, &sig) else {
        return Err(cx.errors().to_vec());
    };
    let Some(attr_parsed) = parsed else {
        return Err(cx.errors().to_vec());
    };
    // The result must be a column.
    let ret_kind = read.params.last().map(|p| p.kind);
    let rows = match ret_kind {
        Some(Kind::Matrix(s)) if s.cols == Dim::One => s.rows,
        Some(Kind::Matrix(_)) => {
            return Err(vec![syn::Error::new_spanned(
                ret_ty,
                "a #[jacobian] function returns a vector of residuals, not a matrix: return its entries as one column (for a matrix `r`, `DVector::from_column_slice(r.as_slice())` in a wrapper of your own), or take the Jacobian of each column",
            )]);
        }
        _ => {
            return Err(vec![syn::Error::new_spanned(
                ret_ty,
                "a #[jacobian] function returns a vector: `DVector<T>`, `SVector<T, M>`, `Vector2<T>` … `Vector6<T>`",
            )]);
        }
    };
    let mut wrt = Vec::new();
    for w in &attr_parsed.wrt {
        match read.params.iter().position(|p| p.name == *w) {
            Some(i) => wrt.push(i),
            None => cx.error_spanned_by(
                w,
                format!("`wrt` names `{w}`, which is not a parameter of this function"),
            ),
        }
    }
    if cx.has_errors() {
        return Err(cx.errors().to_vec());
    }
    let block = &f.block;
    let r = syn::Ident::new("__mg_r", Span::call_site());
    let seeded_fn = syn::ItemFn {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        sig,
        block: Box::new(syn::parse_quote!({
            let #r = #block;
            #r.dot(#seed)
        })),
    };
    let wrt_names: Vec<&syn::Ident> = wrt
        .iter()
        .filter_map(|&i| read.params.get(i).map(|p| &p.name))
        .collect();
    let grad_attr = if reassociate || attr_parsed.reassociate {
        quote!(#[::matgrad::grad(wrt = (#(#wrt_names),*), reassociate)])
    } else {
        quote!(#[::matgrad::grad(wrt = (#(#wrt_names),*))])
    };

    // The companions.
    let float = read.float.clone();
    let t = float.ty();
    let Generics {
        params: generic_params,
        bounds,
        turbofish,
    } = generics(f, &float);
    let vis = &f.vis;
    let jac = format_ident!("{}_jacobian", name);
    let jac_into = format_ident!("{}_jacobian_into", name);
    let seeded_into = format_ident!("{}_grad_into", seeded);
    let user_params: Vec<&parse::signature::Param> = read
        .params
        .iter()
        .take(read.params.len().saturating_sub(1))
        .collect();
    let params: Vec<TokenStream> = user_params
        .iter()
        .map(|p| {
            let (n, ty) = (&p.name, &p.ty);
            quote!(#n: #ty)
        })
        .collect();
    let args: Vec<&syn::Ident> = user_params.iter().map(|p| &p.name).collect();
    let rt = quote!(::matgrad::__private);
    // The companions' own names: they cannot collide with the user's parameters.
    let (ws, rr) = (mixed("ws"), mixed("r"));
    let ret_static = rows.size();
    let mut jac_types = Vec::new();
    let mut jac_outs = Vec::new();
    let mut grads = Vec::new();
    let mut prepare = TokenStream::new();
    let mut copy_rows = TokenStream::new();
    let mut release = TokenStream::new();
    for (k, &i) in wrt.iter().enumerate() {
        let Some(p) = read.params.get(i) else {
            continue;
        };
        let out = mixed(&format!("jacobian_{}", p.name));
        let g = syn::Ident::new(&format!("__mg_g{k}"), Span::call_site());
        let owned = &p.owned;
        let var_static = match p.kind {
            Kind::Scalar => Some(1),
            Kind::Matrix(s) => s.rows.size().zip(s.cols.size()).map(|(r, c)| r * c),
        };
        let jty = match (ret_static, var_static, p.kind) {
            (Some(m), Some(1), Kind::Scalar) => quote!(#rt::SMatrix<#t, #m, 1>),
            (_, _, Kind::Scalar) => quote!(#rt::DMatrix<#t>),
            (Some(m), Some(n), _) => quote!(#rt::SMatrix<#t, #m, #n>),
            _ => quote!(#rt::DMatrix<#t>),
        };
        let dynamic_j = !matches!((ret_static, var_static), (Some(_), Some(_)));
        let slot = k + 1;
        let dynamic_g = matches!(p.kind, Kind::Matrix(s) if !s.is_static());
        let p_name = &p.name;
        // A dynamic gradient buffer lives in the workspace between calls (empty the
        // first time: `_grad_into` sizes it).
        prepare.extend(if dynamic_g {
            quote! {
                let mut #g: #owned = ::core::default::Default::default();
                let __mg_kept = #ws.take_extra(#slot);
                if !__mg_kept.is_empty() {
                    #rt::GradBuf::put_matrix(&mut #g, __mg_kept);
                }
            }
        } else {
            quote!(let mut #g: #owned = ::core::default::Default::default();)
        });
        if dynamic_j {
            let n = match p.kind {
                Kind::Scalar => quote!(1usize),
                Kind::Matrix(_) => quote!(#p_name.len()),
            };
            prepare.extend(quote! {
                if #out.shape() != (__mg_m, #n) {
                    *#out = #rt::DMatrix::zeros(__mg_m, #n);
                }
            });
        }
        copy_rows.extend(match p.kind {
            Kind::Scalar => quote!(#out[(__mg_i, 0)] = #g;),
            Kind::Matrix(_) => quote! {
                for (__mg_k, __mg_v) in #g.iter().enumerate() {
                    #out[(__mg_i, __mg_k)] = *__mg_v;
                }
            },
        });
        if dynamic_g {
            release.extend(quote!(#ws.put_extra(#slot, #rt::GradBuf::take_matrix(&mut #g));));
        }
        jac_types.push(jty.clone());
        jac_outs.push(quote!(#out: &mut #jty));
        grads.push(g);
    }
    let outs: Vec<TokenStream> = jac_outs;
    let out_names: Vec<syn::Ident> = wrt
        .iter()
        .filter_map(|&i| read.params.get(i))
        .map(|p| mixed(&format!("jacobian_{}", p.name)))
        .collect();
    let (seed_init, seed_set, seed_release) = if ret_static.is_some() {
        (
            quote!(let mut __mg_s: #ret_ty = ::core::default::Default::default();),
            quote! {
                __mg_s.fill(#rt::real::<#t>(0.0));
                __mg_s[__mg_i] = #rt::real::<#t>(1.0);
            },
            TokenStream::new(),
        )
    } else {
        (
            quote! {
                let mut __mg_s: #ret_ty = ::core::default::Default::default();
                let __mg_kept = #ws.take_extra(0);
                if __mg_kept.nrows() == __mg_m && __mg_kept.ncols() == 1 {
                    #rt::GradBuf::put_matrix(&mut __mg_s, __mg_kept);
                } else {
                    __mg_s = <#ret_ty>::zeros(__mg_m);
                }
            },
            quote! {
                __mg_s.fill(#rt::real::<#t>(0.0));
                __mg_s[__mg_i] = #rt::real::<#t>(1.0);
            },
            quote!(#ws.put_extra(0, #rt::GradBuf::take_matrix(&mut __mg_s));),
        )
    };
    let ret_doc = ret_ty.to_token_stream().to_string();
    let head = format!(
        " The value of [`{name}`] and its Jacobian with respect to {}, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order. By reverse mode: one gradient of `⟨r, e_i⟩` per residual.",
        wrt_names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    );
    let into_head = format!(
        " [`{jac}`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing `ws`; the residuals are computed by [`{name}`] itself (one allocation per call for a `{ret_doc}` result)."
    );
    Ok(quote! {
        #[doc(hidden)]
        #[allow(dead_code, non_snake_case, clippy::all, clippy::pedantic)]
        #grad_attr
        #seeded_fn

        #[doc = #head]
        #[allow(clippy::all, clippy::pedantic, unused_mut, non_snake_case)]
        #vis fn #jac #generic_params (#(#params),*) -> (#ret_ty, #(#jac_types),*) #bounds {
            let mut __mg_r: #ret_ty = ::core::default::Default::default();
            #(let mut #out_names: #jac_types = ::core::default::Default::default();)*
            let mut __mg_ws = ::matgrad::Workspace::new();
            #jac_into(#(#args,)* &mut __mg_r, #(&mut #out_names,)* &mut __mg_ws);
            (__mg_r, #(#out_names),*)
        }

        #[doc = #into_head]
        #[allow(clippy::all, clippy::pedantic, unused_mut, non_snake_case, clippy::too_many_arguments)]
        #vis fn #jac_into #generic_params (#(#params,)* #rr: &mut #ret_ty, #(#outs,)* #ws: &mut ::matgrad::Workspace<#t>) #bounds {
            *#rr = #name #turbofish (#(#args),*);
            let __mg_m = #rr.len();
            #seed_init
            #prepare
            for __mg_i in 0..__mg_m {
                #seed_set
                #seeded_into(#(#args,)* &__mg_s, #(&mut #grads,)* #ws);
                #copy_rows
            }
            #seed_release
            #release
        }
    })
}

/// The float type of a vector type (`DVector<f64>` → `f64`), as its first generic
/// argument.
fn float_of(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(tp) = ty else {
        return None;
    };
    let last = tp.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(ab) = &last.arguments else {
        return None;
    };
    match ab.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

//! `#[jacobian(wrt = p)]`: the Jacobian of a vector-valued function, formed directly
//! from its structure, or by forward or reverse mode, whichever the cost model finds
//! cheaper.
//!
//! For `fn r(p, …) -> DVector<T>` with m residuals, the expansion parses the seeded
//! scalar function `⟨r(p, …), s⟩` (one more parameter, the seed `s`) with the whole
//! `#[grad]` pipeline (parser, solves, rewrites), then builds its
//! [`tangent::JvpGraph`]: the values once, then per variable the tangents of the
//! residuals along its direction alone, from each rule's `tangent`. The reverse sweep
//! of `⟨r, s⟩` runs over the same graph. Then:
//!
//! - **forward mode**: per entry k of each variable, the tangent sweep along e_k is
//!   column k of `J` (n sweeps, n the number of variable entries);
//! - **reverse mode**: per residual i, the reverse sweep at `s = e_i` is row i of
//!   `J` (m sweeps).
//!
//! The values are computed once either way, and so is the part of each entrywise
//! tangent that does not depend on the direction (the coefficients `∂g/∂c` of a
//! closure `g` in its captured parameters `c`, `g′(a)` of a closure of a value): a
//! sweep only scales and adds them (`tangent::jvp_graph` with `hoist`). `costs`
//! prices both with the cost
//! model ([`crate::cost`]) over symbolic shapes: a mode no dearer for all sizes is
//! chosen at expansion (every static function); otherwise both are emitted and the
//! cheaper is chosen at each call from the shapes (the two cost polynomials
//! evaluated there: forward for a fit of a few parameters to many points, reverse
//! for many weights and few outputs). The docs of
//! the companions say which, with the Jacobian's formulas (`J_x v_x` for forward
//! mode, `J_xᵀ s` for reverse mode).
//!
//! - **structured**: when the tangent along each (column) variable is a sum of
//!   `diag(c) A`, `diag(c)` and `c e_kᵀ` terms ([`crate::jacobian_structure`]), `J` is
//!   written from them, one pass per term (`J = A` for `A x − b`,
//!   `diag(1 − tanh²(X w)) X` for `tanh(X w) − y`). Its cost replaces forward
//!   mode's when no dearer for all sizes, and is weighed against reverse mode's
//!   as forward mode's would be; the docs give `J` itself.
//!
//! A body calling `#[differentiable]` helpers cannot be read here (an attribute sees
//! only its item): it goes through `#[grad]` on a hidden seeded function, whose
//! continuation inlines the helpers, and reverse mode calling that function's
//! `_grad_into` once per residual (each call with its own forward pass).

use crate::cost::{self, Cost, Poly};
use crate::ctxt::Ctxt;
use crate::diff::{self, Adjoints};
use crate::emit::jacobian::{Jac, Mode, Outs, Var};
use crate::emit::math::{print, Notation, Terms};
use crate::emit::{self, generics, mixed, Generics};
use crate::ir::{flag, Dim, Kind, NodeId, Op};
use crate::parse::{self, signature::Param, signature::Signature};
use crate::simplify::simplify;
use crate::tangent;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};

/// A mode forced on `#[jacobian]` whatever the costs (matgrad's test suites, which
/// check both modes on every case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Force {
    /// Forward mode.
    Forward,
    /// Reverse mode.
    Reverse,
}

/// Expands `#[jacobian(attr)] item` (and `reassociate` when `reassociate`).
pub fn expand(attr: TokenStream, item: TokenStream, reassociate: bool) -> TokenStream {
    expand_forced(attr, item, reassociate, None)
}

/// [`expand`], in the mode `force` when it is `Some` (for a function derived here,
/// see the module docs).
pub fn expand_forced(
    attr: TokenStream,
    item: TokenStream,
    reassociate: bool,
    force: Option<Force>,
) -> TokenStream {
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
    match companions(attr, &f, reassociate, force) {
        Ok(tokens) => quote!(#item #tokens),
        Err(errors) => {
            let errors: TokenStream = errors.iter().map(syn::Error::to_compile_error).collect();
            quote!(#item #errors)
        }
    }
}

/// The two companions (derived here, or through a seeded function and its
/// `#[grad]`).
fn companions(
    attr: TokenStream,
    f: &syn::ItemFn,
    reassociate: bool,
    force: Option<Force>,
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
    // Derived here, forward or reverse mode by the cost model; a body calling
    // `#[differentiable]` helpers goes through `#[grad]`'s continuation instead
    // (reverse mode), as does anything this derivation cannot take (whose errors
    // `#[grad]` then reports).
    let reassociate = reassociate || attr_parsed.reassociate;
    if parse::helper::helper_calls(&f.block, &[]).is_empty() {
        let names: Vec<syn::Ident> = wrt
            .iter()
            .filter_map(|&i| read.params.get(i).map(|p| p.name.clone()))
            .collect();
        if let Some(mut d) = derive(f, ret_ty, &float_ty, &names, reassociate) {
            d.forced = force.is_some();
            match force {
                Some(Force::Forward) => d.mode = Mode::Forward,
                Some(Force::Reverse) => d.mode = Mode::Reverse,
                None => {}
            }
            return Ok(d.companions());
        }
    }
    // A forced mode is for the test suites, which must not pass through the route
    // below (reverse mode whatever they ask) unnoticed.
    if let Some(force) = force {
        return Err(vec![syn::Error::new(
            Span::call_site(),
            format!("matgrad: {force:?} mode is forced, but this function is not derived by `#[jacobian]` itself (it calls `#[differentiable]` helpers, or its seeded function does not derive)"),
        )]);
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
    let grad_attr = if reassociate {
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
        " The value of [`{name}`] and its Jacobian with respect to {}, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order. By reverse mode, as the body calls `#[differentiable]` helpers (read through `#[grad]`'s continuation): one gradient of `⟨r, e_i⟩` per residual, each with its own forward pass (formulas are not shown for such functions).",
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

/// A `#[jacobian]` function derived here (not through `#[grad]`): the graph of its
/// seeded function `⟨r, s⟩` with the residuals' tangents
/// ([`tangent::jvp_graph`]), the reverse sweep over it, and the mode the cost model
/// chose.
pub struct Derivation {
    /// The user's function.
    pub item: syn::ItemFn,
    /// The seeded function's parameters (the user's, then the seed `s`), then one
    /// direction per variable.
    pub sig: Signature,
    /// The variables (parameter indices), in `wrt` order.
    pub wrt: Vec<usize>,
    /// The JVP graph.
    pub jvp: tangent::JvpGraph,
    /// The reverse sweep over it, for the variables.
    pub adjoints: Adjoints,
    /// The seed's parameter index.
    pub seed: usize,
    /// The residuals' node.
    pub r: NodeId,
    /// The variables with their directions and sections.
    pub vars: Vec<Var>,
    /// The mode chosen.
    pub mode: Mode,
    /// The cost of forward mode: the values, then per entry of each variable its
    /// tangent sweep and a column of `J`.
    pub forward_cost: Cost,
    /// The cost of reverse mode: the values, then per residual one reverse sweep
    /// (as costly as the tangent sweep of all the variables at once) and a row of
    /// `J`.
    pub reverse_cost: Cost,
    /// The cost of the structured form, when every variable's Jacobian has one: the
    /// values and coefficients, then one pass over each `J`.
    pub structured_cost: Option<Cost>,
    /// The residuals' name in the formulas (the function's, unless taken).
    pub residual: String,
    /// The mode was forced (matgrad's test suites), not chosen by the costs.
    pub forced: bool,
}

/// Every identifier in `tokens`.
fn idents(tokens: TokenStream, out: &mut Vec<String>) {
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
            proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
            _ => {}
        }
    }
}

/// `base`, with underscores after it while the name is in `taken`.
fn fresh(base: &str, taken: &[String]) -> String {
    let mut name = base.to_owned();
    while taken.contains(&name) {
        name.push('_');
    }
    name
}

/// Derives `f` (checked already: a vector result of float type `float_ty`, the
/// variables `wrt`) for the companions written here. `None` when the seeded
/// function does not derive (its `#[grad]` then reports why) or has an operation
/// without a tangent.
pub fn derive(
    f: &syn::ItemFn,
    ret_ty: &syn::Type,
    float_ty: &syn::Type,
    wrt: &[syn::Ident],
    reassociate: bool,
) -> Option<Derivation> {
    // The seeded function calls the user's as a helper, which the parser inlines in
    // a scope of its own: an early `return` in the body ends the residuals, not
    // `⟨r, s⟩`. Its names must not be the parameters'.
    let mut taken = Vec::new();
    idents(f.sig.inputs.to_token_stream(), &mut taken);
    let residual = fresh(&f.sig.ident.to_string(), &taken);
    // The seed's name is shown in the docs: none the function uses.
    let mut shown = taken.clone();
    idents(f.block.to_token_stream(), &mut shown);
    let seed_name = fresh("s", &shown);
    // The seed's name is only the generated code's (mixed-site): it cannot shadow
    // the user's names there.
    let seed = mixed(&seed_name);
    let r = syn::Ident::new(&residual, Span::call_site());
    let mut sig = f.sig.clone();
    sig.inputs.push(syn::parse_quote!(#seed: &#ret_ty));
    sig.output = syn::parse_quote!(-> #float_ty);
    let name = &f.sig.ident;
    let args: Vec<&syn::Ident> = f
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(pi) => Some(&pi.ident),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let seeded = syn::ItemFn {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        sig,
        block: Box::new(syn::parse_quote!({
            let #r = #name(#(#args),*);
            #r.dot(#seed)
        })),
    };
    let attr = if reassociate {
        quote!(wrt = (#(#wrt),*), reassociate)
    } else {
        quote!(wrt = (#(#wrt),*))
    };
    let options = crate::Options {
        reassociate,
        first_order: true,
    };
    let d = crate::derive_full(attr, &seeded, options, std::slice::from_ref(f)).ok()?;
    let seed_id = d.sig.params.len().checked_sub(1)?;
    let out = d.graph.node(d.graph.output);
    let (Op::Dot, &[r_orig, s_arg]) = (&out.op, out.args.as_slice()) else {
        return None;
    };
    if s_arg != seed_id {
        return None;
    }
    let (mut tsig, twrt) = tangent::signature(&d.sig, &d.wrt);
    let dirs: Vec<usize> = twrt.iter().take(d.wrt.len()).copied().collect();
    let mut names = Vec::new();
    let mut taken = Vec::new();
    idents(f.to_token_stream(), &mut taken);
    for &k in &dirs {
        let p = tsig.params.get_mut(k)?;
        let name = fresh(&p.name.to_string(), &taken);
        p.name = mixed(&name);
        names.push(name);
    }
    let groups: Vec<Vec<usize>> = d.wrt.iter().map(|&w| vec![w]).collect();
    // A run-time loop's tangent is a loop of its own, which the sweeps along one
    // direction after another would each run: reverse mode through the seeded
    // function instead.
    if d.graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, crate::ir::Op::Loop(_)))
    {
        return None;
    }
    let mut jvp = tangent::jvp_graph(&d.graph, &d.wrt, &names, &groups, r_orig, true).ok()?;
    let r_node = *jvp.value.get(r_orig)?;
    // The structured form of each variable's Jacobian (dynamic Jacobians only: its
    // kernels write a `DMatrix`); its coefficients become nodes of the graph.
    let dynamic = !tsig.is_static()
        || jvp.graph.nodes.iter().any(|n| match n.kind {
            Kind::Matrix(s) => !s.is_static(),
            Kind::Scalar => false,
        });
    let ret_static = match tsig.params.get(seed_id).map(|p| p.kind) {
        Some(Kind::Matrix(s)) => s.is_static(),
        _ => false,
    };
    let mut structured = Vec::new();
    for (s, &dir) in jvp.sections.iter().zip(&dirs) {
        let var_static = match tsig.params.get(dir).map(|p| p.kind) {
            Some(Kind::Matrix(s)) => s.is_static(),
            _ => true,
        };
        let raw = match s.tangent {
            _ if !dynamic || (ret_static && var_static) => None,
            None => Some(Vec::new()),
            Some(t) => crate::jacobian_structure::recognise(&jvp.graph, dir, s.start, s.end, t),
        };
        structured.push(raw);
    }
    let structured: Vec<Option<Vec<crate::jacobian_structure::Term>>> = structured
        .into_iter()
        .map(|raw| {
            raw.and_then(|raw| crate::jacobian_structure::materialise(&mut jvp.graph, raw, r_node))
        })
        .collect();
    let adjoints = diff::differentiate(&jvp.graph, &d.wrt);
    let vars: Vec<Var> = d
        .wrt
        .iter()
        .zip(&dirs)
        .zip(&jvp.sections)
        .zip(structured)
        .map(|(((&param, &dir), s), structured)| Var {
            param,
            dir,
            start: s.start,
            end: s.end,
            tangent: s.tangent,
            structured,
        })
        .collect();
    // The sweep of all the variables at once, for the cost of a reverse sweep.
    let all = if d.wrt.len() > 1 {
        tangent::jvp_graph(
            &d.graph,
            &d.wrt,
            &names,
            std::slice::from_ref(&d.wrt),
            r_orig,
            false,
        )
        .ok()
    } else {
        None
    };
    let (forward_cost, reverse_cost, structured_cost) = costs(
        &tsig,
        &jvp.graph,
        &adjoints,
        seed_id,
        r_node,
        &vars,
        all.as_ref(),
    );
    let mode = choose(&forward_cost, &reverse_cost, structured_cost.as_ref());
    Some(Derivation {
        item: f.clone(),
        sig: tsig,
        wrt: d.wrt,
        jvp,
        adjoints,
        seed: seed_id,
        r: r_node,
        vars,
        mode,
        forward_cost,
        reverse_cost,
        structured_cost,
        residual,
        forced: false,
    })
}

/// Structured when it costs at most what each sweep does for all sizes; else
/// forward when it costs at most what reverse does for all sizes, reverse when the
/// converse holds, else at run time.
fn choose(forward: &Cost, reverse: &Cost, structured: Option<&Cost>) -> Mode {
    if forward.choices.is_empty() && reverse.choices.is_empty() {
        // The structured form replaces forward mode when it is no dearer for any
        // sizes; it is then weighed against reverse mode as forward mode would be.
        if let Some(s) = structured.filter(|s| s.choices.is_empty()) {
            if s.fixed.at_most(&forward.fixed) {
                if s.fixed.at_most(&reverse.fixed) {
                    return Mode::Structured;
                }
                if reverse.fixed.at_most(&s.fixed) {
                    return Mode::Reverse;
                }
                return Mode::AtRunTime {
                    forward: s.clone(),
                    reverse: reverse.clone(),
                    structured: true,
                };
            }
        }
        if forward.fixed.at_most(&reverse.fixed) {
            return Mode::Forward;
        }
        if reverse.fixed.at_most(&forward.fixed) {
            return Mode::Reverse;
        }
    }
    Mode::AtRunTime {
        forward: forward.clone(),
        reverse: reverse.clone(),
        structured: false,
    }
}

/// The costs of the two modes, from the cost model's per-node costs on symbolic
/// shapes (a direction in its variable's symbols):
///
/// - forward: `C_v + Σ_x n_x (C_x + m)`, the values `C_v` (and what the tangents read
///   of them), then per entry of each variable `x` (n_x of them) its tangent sweep
///   `C_x` and a column of m entries;
/// - reverse: `C_v + m (C_b + m + n)`, the values, then per residual one reverse
///   sweep `C_b`, counted as the tangent sweep of every variable at once (each rule's
///   adjoint does its tangent's work, transposed), the seed's m entries and a row of
///   n entries;
/// - structured (when every variable has the form): `C_v + Σ_x Σ_terms m n_x` for
///   a term on a whole matrix (`diag(c) A`, `diag(c)`), `m` for a column `c e_kᵀ`
///   (nothing more when its coefficient is computed straight into the column),
///   `m n_x` for a `J` of no terms; `C_v` the values and the coefficients. Zeroing
///   the columns no term writes is a fill, not counted (forward mode sweeps them).
fn costs(
    sig: &Signature,
    g: &crate::ir::Graph,
    adjoints: &Adjoints,
    seed: usize,
    r: NodeId,
    vars: &[Var],
    all: Option<&tangent::JvpGraph>,
) -> (Cost, Cost, Option<Cost>) {
    let dirs: Vec<usize> = vars.iter().map(|v| v.dir).collect();
    let alias = |id: NodeId| {
        dirs.iter()
            .position(|&d| d == id)
            .and_then(|k| vars.get(k).map(|v| v.param))
    };
    let sum = |g: &crate::ir::Graph, ids: &mut dyn Iterator<Item = NodeId>| {
        let shapes = cost::shapes_with(g, &alias);
        ids.fold(Cost::default(), |acc, id| {
            acc.plus(&cost::node_cost(g, id, &shapes))
        })
    };
    let shapes = cost::shapes_with(g, &alias);
    let jac = |mode| Jac {
        sig,
        graph: g,
        adjoints,
        seed,
        r,
        vars,
        mode,
    };
    let (fwd, rev, st) = (Mode::Forward, Mode::Reverse, Mode::Structured);
    let (jf, jr) = (jac(&fwd), jac(&rev));
    let n_nodes = g.nodes.len();
    let once_f = jf.once();
    let once_r = jr.once();
    let values_f = sum(g, &mut (0..n_nodes).filter(|&id| flag(&once_f, id)));
    let values_r = sum(g, &mut (0..n_nodes).filter(|&id| flag(&once_r, id)));
    let m = shapes
        .get(r)
        .cloned()
        .flatten()
        .map_or(Poly::num(1), |(rows, _)| rows);
    let entries = |param: usize| match shapes.get(param).cloned().flatten() {
        Some((rows, cols)) => rows.mul(&cols),
        None => Poly::num(1),
    };
    let mut forward = values_f;
    let mut n = Poly::default();
    for v in vars {
        let nx = entries(v.param);
        n = n.add(&nx);
        if v.tangent.is_some() {
            // `A v` at v = e_k is read as column k of `A` (see
            // `emit::jacobian::forward_sweeps`): m entries, not a product.
            let column_dir = matches!(g.nodes.get(v.dir).map(|n| n.kind), Some(Kind::Matrix(s)) if s.cols == Dim::One);
            let on = g.active(&dirs);
            let (columns, rest): (Vec<NodeId>, Vec<NodeId>) =
                jf.section(v).into_iter().partition(|&id| {
                    let node = g.node(id);
                    column_dir
                        && matches!((&node.op, node.args.as_slice()), (Op::MatMul, &[a, x]) if x == v.dir && !flag(&on, a))
                });
            let mut sweep = sum(g, &mut rest.into_iter());
            for id in columns {
                if let Some((rows, _)) = shapes.get(id).cloned().flatten() {
                    sweep = sweep.plus(&Cost::fixed(rows));
                }
            }
            forward = forward.plus(&sweep.plus(&Cost::fixed(m.clone())).times(&nx));
        }
    }
    let sweep = match (all, vars) {
        (Some(a), _) => {
            let roots: Vec<NodeId> = a.sections.iter().filter_map(|s| s.tangent).collect();
            let need = emit::jacobian::ancestors(&a.graph, &roots);
            let on = a.graph.active(&dirs);
            let range = a.sections.first().map_or(0..0, |s| s.start..s.end);
            sum(
                &a.graph,
                &mut range.filter(|&id| flag(&need, id) && flag(&on, id)),
            )
        }
        (None, [v]) => sum(g, &mut jf.section(v).into_iter()),
        (None, _) => Cost::default(),
    };
    let reverse = values_r.plus(&sweep.plus(&Cost::fixed(m.clone().add(&n))).times(&m));
    let structured = vars.iter().all(|v| v.structured.is_some()).then(|| {
        let js = jac(&st);
        let once_s = js.once();
        let mut c = sum(g, &mut (0..n_nodes).filter(|&id| flag(&once_s, id)));
        // The coefficients computed straight into their columns: that pass is the
        // column's.
        let direct = js.direct();
        c = c.plus(&sum(g, &mut direct.iter().copied()));
        for v in vars {
            let whole = m.mul(&entries(v.param));
            let terms = v.structured.as_deref().unwrap_or_default();
            if terms.is_empty() {
                c = c.plus(&Cost::fixed(whole.clone()));
            }
            for t in terms {
                match (t.base, t.coef) {
                    (crate::jacobian_structure::Base::Column(_), Some(k))
                        if direct.contains(&k) => {}
                    (crate::jacobian_structure::Base::Column(_), _) => {
                        c = c.plus(&Cost::fixed(m.clone()))
                    }
                    _ => c = c.plus(&Cost::fixed(whole.clone())),
                }
            }
        }
        c
    });
    (forward, reverse, structured)
}

/// The type of the Jacobian of variable `p` for results of static length `ret` (`None`:
/// dynamic): `SMatrix<T, M, N>` when both are static (N = 1 for a scalar), else
/// `DMatrix<T>`.
fn jacobian_type(ret: Option<usize>, p: &Param, t: &syn::Ident) -> TokenStream {
    let rt = quote!(::matgrad::__private);
    let var = match p.kind {
        Kind::Scalar => Some(1),
        Kind::Matrix(s) => s.rows.size().zip(s.cols.size()).map(|(r, c)| r * c),
    };
    match (ret, var) {
        (Some(m), Some(n)) => quote!(#rt::SMatrix<#t, #m, #n>),
        _ => quote!(#rt::DMatrix<#t>),
    }
}

impl Derivation {
    fn jac(&self) -> Jac<'_> {
        Jac {
            sig: &self.sig,
            graph: &self.jvp.graph,
            adjoints: &self.adjoints,
            seed: self.seed,
            r: self.r,
            vars: &self.vars,
            mode: &self.mode,
        }
    }

    fn params(&self) -> &[Param] {
        self.sig.params.get(..self.seed).unwrap_or(&[])
    }

    fn var_names(&self) -> Vec<String> {
        self.wrt
            .iter()
            .filter_map(|&i| self.sig.params.get(i).map(|p| p.name.to_string()))
            .collect()
    }

    /// Which mode was chosen: `forward mode`, `reverse mode`, `structured, formed
    /// directly`, or `forward or reverse mode, chosen at run time` (`structured or
    /// reverse mode, …`).
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            Mode::Forward => "forward mode",
            Mode::Reverse => "reverse mode",
            Mode::AtRunTime {
                structured: true, ..
            } => "structured or reverse mode, chosen at run time",
            Mode::AtRunTime { .. } => "forward or reverse mode, chosen at run time",
            Mode::Structured => "structured, formed directly",
        }
    }

    /// Forward mode's formulas: for each variable `x`, the residuals' tangent along
    /// its direction `v_x`, `J_x v_x` (column k of `J_x` at `v_x = e_k`), simplified,
    /// as Unicode math.
    pub fn tangents(&self) -> Vec<(String, String)> {
        let input = self.input();
        let terms = Terms::new(&input);
        self.vars
            .iter()
            .filter_map(|v| {
                let x = self.sig.params.get(v.param)?.name.to_string();
                let d = self.jvp.graph.label(v.dir);
                let t = v.tangent.map_or(crate::simplify::Term::Num(0.0), |t| {
                    simplify(&terms.value(t))
                });
                Some((format!("J_{x} {d}"), print(&t, Notation::Unicode)))
            })
            .collect()
    }

    /// The structured Jacobians' formulas: for each variable `x` with a structured
    /// form, `J_x` as the sum of its terms (`diag(c) A`, `c e_kᵀ`), as Unicode math.
    pub fn structured_formulas(&self) -> Vec<(String, String)> {
        use crate::jacobian_structure::Base;
        let input = self.input();
        let terms = Terms::new(&input);
        let show = |id: NodeId| print(&simplify(&terms.value(id)), Notation::Unicode);
        let wrap = |t: String| {
            if t.contains(" + ") || t.contains(" − ") || t.starts_with('−') {
                format!("({t})")
            } else {
                t
            }
        };
        self.vars
            .iter()
            .filter_map(|v| {
                let x = self.sig.params.get(v.param)?.name.to_string();
                let ts = v.structured.as_ref()?;
                let mut out = String::new();
                for (i, t) in ts.iter().enumerate() {
                    let neg = t.scale < 0.0;
                    let a = t.scale.abs();
                    out.push_str(match (i, neg) {
                        (0, false) => "",
                        (0, true) => "−",
                        (_, false) => " + ",
                        (_, true) => " − ",
                    });
                    let mut parts = Vec::new();
                    if a != 1.0 {
                        parts.push(format!("{a}"));
                    }
                    let column = t
                        .coef
                        .is_some_and(|c| self.jvp.graph.node(c).kind.is_matrix());
                    match (t.coef, t.base, column) {
                        (Some(c), Base::Column(_), _) => parts.push(wrap(show(c))),
                        (Some(c), _, true) => parts.push(format!("diag({})", show(c))),
                        (Some(c), _, false) => parts.push(wrap(show(c))),
                        (None, Base::Column(_), _) => parts.push("𝟙".to_owned()),
                        (None, _, _) => {}
                    }
                    match t.base {
                        Base::Matrix(m) => parts.push(wrap(show(m))),
                        Base::Identity if parts.is_empty() => parts.push("I".to_owned()),
                        Base::Identity => {}
                        Base::Column(k) => {
                            parts.push(format!("e{}ᵀ", crate::ir::Count::Lit(k).subscript()))
                        }
                    }
                    out.push_str(&parts.join(" "));
                }
                if out.is_empty() {
                    out.push('0');
                }
                Some((format!("J_{x}"), out))
            })
            .collect()
    }

    /// Reverse mode's formulas: for each variable `x`, the gradient of `⟨r, s⟩`,
    /// `J_xᵀ s` (row i of `J_x` at `s = e_i`, shaped like `x`), as Unicode math.
    pub fn adjoints(&self) -> Vec<(String, String)> {
        let input = self.input();
        let terms = Terms::new(&input);
        let s = self.jvp.graph.label(self.seed);
        terms
            .gradients()
            .into_iter()
            .map(|(x, t)| (format!("J_{x}ᵀ {s}"), print(&t, Notation::Unicode)))
            .collect()
    }

    /// `(name, definition)` of the values the user named, as Unicode math.
    pub fn definitions(&self) -> Vec<(String, String)> {
        let input = self.input();
        let terms = Terms::new(&input);
        terms
            .definitions()
            .into_iter()
            .filter(|(n, _)| *n != self.residual)
            .map(|(n, t)| (n, print(&t, Notation::Unicode)))
            .collect()
    }

    fn input(&self) -> emit::Input<'_> {
        emit::Input {
            item: &self.item,
            sig: &self.sig,
            wrt: &self.wrt,
            graph: &self.jvp.graph,
            adjoints: &self.adjoints,
            value: self.jvp.graph.output,
            companion: emit::Companion::Grad,
        }
    }

    /// The doc lines of the companions: the mode, why, and the Jacobian's formulas.
    pub fn doc(&self) -> Vec<String> {
        let names = self.var_names();
        let list = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let r = &self.residual;
        let s = self.jvp.graph.label(self.seed);
        let sweeps_f = "one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k)";
        let sweeps_r = format!("one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨{r}, {s}⟩ at the seed {s} = e_i)");
        let structured_how = "each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term)";
        let (fc, rc) = (&self.forward_cost, &self.reverse_cost);
        let costs = format!("forward `{fc}`, reverse `{rc}` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`)");
        let mut lines = vec![
            format!(
                "# Jacobian of `{r}` with respect to {list}: {}",
                self.mode_name()
            ),
            String::new(),
        ];
        lines.push(match self.mode {
            _ if self.forced => format!("{} mode, forced by matgrad's test suite whatever the costs: {costs}.", if self.mode.has_forward() { "Forward" } else { "Reverse" }),
            Mode::Forward => format!("Forward mode, {sweeps_f}, chosen by the cost model over reverse mode, {sweeps_r}, as never dearer for any sizes: {costs}."),
            Mode::Reverse => format!("Reverse mode, {sweeps_r}, chosen by the cost model over forward mode, {sweeps_f}, as never dearer for any sizes: {costs}."),
            Mode::AtRunTime { structured: true, .. } => {
                let sc = self.structured_cost.as_ref().map_or_else(String::new, ToString::to_string);
                format!("Structured, {structured_how}, or reverse mode, {sweeps_r}, whichever the cost model finds cheaper at each call's shapes (neither is for all sizes; the structured form is never dearer than forward mode, {sweeps_f}): structured `{sc}`, {costs}.")
            }
            Mode::AtRunTime { .. } => format!("Forward mode, {sweeps_f}, or reverse mode, {sweeps_r}, whichever the cost model finds cheaper at each call's shapes (neither is for all sizes): {costs}."),
            Mode::Structured => {
                let sc = self.structured_cost.as_ref().map_or_else(String::new, ToString::to_string);
                format!("Structured, {structured_how}, chosen by the cost model over forward mode, {sweeps_f}, and reverse mode, {sweeps_r}, as never dearer for any sizes: structured `{sc}`, {costs}.")
            }
        });
        lines.push(String::new());
        if self.mode.has_structured() {
            lines.push(
                "The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):"
                    .to_owned(),
            );
            lines.push(String::new());
            for (n, t) in self.structured_formulas() {
                lines.push(format!("- `{n} = {}`", limit(&t)));
            }
            lines.push(String::new());
        }
        if self.mode.has_forward() {
            lines.push(format!(
                "Forward: the tangent of `{r}` along the direction of each variable:"
            ));
            lines.push(String::new());
            for (n, t) in self.tangents() {
                lines.push(format!("- `{n} = {}`", limit(&t)));
            }
            lines.push(String::new());
        }
        if self.mode.has_reverse() {
            lines.push(format!("Reverse: the gradient of `⟨{r}, {s}⟩` with respect to each variable (shaped like it):"));
            lines.push(String::new());
            for (n, t) in self.adjoints() {
                lines.push(format!("- `{n} = {}`", limit(&t)));
            }
            lines.push(String::new());
        }
        let defs = self.definitions();
        if !defs.is_empty() {
            lines.push("where".to_owned());
            lines.push(String::new());
            for (n, t) in defs {
                lines.push(format!("- `{n} = {}`", limit(&t)));
            }
            lines.push(String::new());
        }
        lines.push(format!("Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `{r}` with respect to entry k of `x`, in column-major order."));
        lines
            .into_iter()
            .map(|l| if l.is_empty() { l } else { format!(" {l}") })
            .collect()
    }

    /// `NAME_jacobian` and `NAME_jacobian_into`.
    pub fn companions(&self) -> TokenStream {
        let f = &self.item;
        let name = &f.sig.ident;
        let float = self.sig.float.clone();
        let t = float.ty();
        let Generics {
            params: generic_params,
            bounds,
            turbofish,
        } = generics(f, &float);
        let vis = &f.vis;
        let (jac, jac_into) = (
            format_ident!("{}_jacobian", name),
            format_ident!("{}_jacobian_into", name),
        );
        let Some(seed) = self.sig.params.get(self.seed) else {
            return TokenStream::new();
        };
        let ret_ty = &seed.owned;
        let ret_static = match seed.kind {
            Kind::Matrix(s) => s.rows.size(),
            Kind::Scalar => None,
        };
        let params: Vec<TokenStream> = self
            .params()
            .iter()
            .map(|p| {
                let (n, ty) = (&p.name, &p.ty);
                quote!(#n: #ty)
            })
            .collect();
        let args: Vec<&syn::Ident> = self.params().iter().map(|p| &p.name).collect();
        let wrt_params: Vec<&Param> = self
            .wrt
            .iter()
            .filter_map(|&i| self.sig.params.get(i))
            .collect();
        let jac_types: Vec<TokenStream> = wrt_params
            .iter()
            .map(|p| jacobian_type(ret_static, p, &t))
            .collect();
        let out_names: Vec<syn::Ident> = wrt_params
            .iter()
            .map(|p| mixed(&format!("jacobian_{}", p.name)))
            .collect();
        let (ws, rr) = (mixed("ws"), mixed("r"));
        let outs = Outs {
            r: rr.clone(),
            jac: out_names.clone(),
            ws: ws.clone(),
        };
        let j = self.jac();
        let is_static = self.sig.is_static()
            && self.jvp.graph.nodes.iter().all(|n| match n.kind {
                Kind::Matrix(s) => s.is_static(),
                Kind::Scalar => true,
            });
        let body = if is_static {
            emit::fixed::jacobian_body(&j, &outs)
        } else {
            emit::jacobian::dynamic_body(&j, &outs)
        };
        let vars = self
            .var_names()
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let head = format!(
            " The value of [`{name}`] and its Jacobian with respect to {vars}, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order."
        );
        let into_head = if is_static {
            format!(" [`{jac}`] writing the residuals into `r` and the Jacobians into `jacobian_*`. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes.")
        } else {
            format!(" [`{jac}`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing the buffers of `ws`: after the first call with given shapes it allocates nothing.")
        };
        let doc = self.doc();
        let (doc1, doc2) = (doc.iter(), doc.iter());
        let cache = format_ident!("__MATGRAD_WORKSPACE");
        let call = if is_static {
            quote! {
                let mut #ws = ::matgrad::Workspace::new();
                #jac_into(#(#args,)* &mut #rr, #(&mut #out_names,)* &mut #ws);
            }
        } else {
            let (cached, with) = emit::cached_workspace(&cache, &float);
            quote! {
                #cached
                ::matgrad::__private::#with(&#cache, |#ws| {
                    #jac_into(#(#args,)* &mut #rr, #(&mut #out_names,)* #ws);
                });
            }
        };
        let cfgs: Vec<&syn::Attribute> = f
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg"))
            .collect();
        quote! {
            #(#cfgs)*
            #[doc = #head]
            #[doc = ""]
            #(#[doc = #doc1])*
            #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_mut, unused_parens, unused_variables, non_snake_case)]
            #vis fn #jac #generic_params (#(#params),*) -> (#ret_ty, #(#jac_types),*) #bounds {
                let mut #rr: #ret_ty = ::core::default::Default::default();
                #(let mut #out_names: #jac_types = ::core::default::Default::default();)*
                #call
                (#rr, #(#out_names),*)
            }

            #(#cfgs)*
            #[doc = #into_head]
            #[doc = ""]
            #(#[doc = #doc2])*
            #[allow(clippy::all, clippy::pedantic, clippy::nursery, unused_mut, unused_parens, unused_variables, unused_braces, non_snake_case, clippy::too_many_arguments)]
            #vis fn #jac_into #generic_params (#(#params,)* #rr: &mut #ret_ty, #(#out_names: &mut #jac_types,)* #ws: &mut ::matgrad::Workspace<#t>) #bounds {
                // The companions stand for `NAME`.
                #[allow(deprecated)]
                let _ = #name #turbofish;
                #body
            }
        }
    }
}

/// A formula for the docs, or a note when it is too long to read there.
fn limit(t: &str) -> String {
    const LONGEST: usize = 600;
    if t.chars().count() > LONGEST {
        "(a formula too long to show)".to_owned()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{derive, float_of, Derivation, Mode};

    /// `src` derived with respect to `wrt`, as `#[jacobian(wrt = (..))]` would.
    fn derived(wrt: &[&str], src: &str) -> Derivation {
        let f: syn::ItemFn = syn::parse_str(src).expect("a function");
        let syn::ReturnType::Type(_, ret) = &f.sig.output else {
            panic!("a result");
        };
        let float = float_of(ret).expect("a float type");
        let names: Vec<syn::Ident> = wrt
            .iter()
            .map(|w| syn::Ident::new(w, proc_macro2::Span::call_site()))
            .collect();
        derive(&f, ret, &float, &names, false).expect("derives")
    }

    /// The costs of the two modes at sizes given per parameter name (rows, columns).
    fn at(d: &Derivation, sizes: &[(&str, (f64, f64))]) -> (f64, f64) {
        let sym = |s: &str| {
            let (label, dim) = s.rsplit_once('.')?;
            let (_, (r, c)) = sizes.iter().find(|(n, _)| *n == label)?;
            Some(if dim == "r" { *r } else { *c })
        };
        let f = d.forward_cost.eval(&sym);
        let r = d.reverse_cost.eval(&sym);
        match (f, r) {
            (Some(f), Some(r)) => (f, r),
            _ => panic!(
                "a size is missing: forward `{}`, reverse `{}`",
                d.forward_cost, d.reverse_cost
            ),
        }
    }

    /// Static sizes are decided at expansion: forward when the variables have fewer
    /// entries than there are residuals, reverse otherwise.
    #[test]
    fn decided_at_expansion() {
        // 12 variable entries, 3 residuals.
        let transform = derived(
            &["rot", "t"],
            "fn transform(rot: &Matrix3<f64>, t: &Vector3<f64>, p: &Vector3<f64>) -> Vector3<f64> {
                rot * p + t
            }",
        );
        assert!(
            matches!(transform.mode, Mode::Reverse),
            "{}",
            transform.mode_name()
        );
        // 1 variable entry, 6 residuals.
        let pose = derived(
            &["theta"],
            "fn pose(theta: f64, p: &SMatrix<f64, 2, 3>) -> Vector6<f64> {
                let (c, s) = (theta.cos(), theta.sin());
                let q = Matrix2::new(c, -s, s, c) * p;
                Vector6::new(q[(0, 0)], q[(1, 0)], q[(0, 1)], q[(1, 1)], q[(0, 2)], q[(1, 2)])
            }",
        );
        assert!(matches!(pose.mode, Mode::Forward), "{}", pose.mode_name());
        assert!(pose.doc().iter().any(|l| l.contains("forward mode")));
        assert!(transform.doc().iter().any(|l| l.contains("reverse mode")));
    }

    /// Dynamic sizes whose costs do not compare for all sizes: both modes, the
    /// cheaper at each call's shapes.
    #[test]
    fn chosen_at_run_time_by_the_shapes() {
        // The issue's exponential fit: 3 parameters in a DVector, m data points.
        let exp = derived(
            &["p"],
            "fn exp_fit(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
                t.map(|v| p[0] * (-p[1] * v).exp() + p[2]) - y
            }",
        );
        // Structured (its columns are the hoisted coefficients), but the two sweeps
        // still compare by the shapes.
        assert!(matches!(exp.mode, Mode::Structured), "{}", exp.mode_name());
        let (f, r) = at(
            &exp,
            &[("p", (3.0, 1.0)), ("t", (100.0, 1.0)), ("y", (100.0, 1.0))],
        );
        assert!(
            f < r,
            "3 parameters, 100 residuals: forward {f}, reverse {r}"
        );
        let (f, r) = at(
            &exp,
            &[("p", (300.0, 1.0)), ("t", (10.0, 1.0)), ("y", (10.0, 1.0))],
        );
        assert!(
            r < f,
            "300 parameters, 10 residuals: forward {f}, reverse {r}"
        );
        // Two scalar variables, m residuals: 2 tangent sweeps against m reverse
        // ones, reverse only for a single residual.
        let fit = derived(
            &["b1", "b2"],
            "fn fit(b1: f64, b2: f64, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
                t.map(|v| b1 * (1.0 - (-b2 * v).exp())) - y
            }",
        );
        assert!(matches!(fit.mode, Mode::AtRunTime { .. }));
        let (f, r) = at(&fit, &[("t", (14.0, 1.0)), ("y", (14.0, 1.0))]);
        assert!(f < r, "2 scalars, 14 residuals: forward {f}, reverse {r}");
        let (f, r) = at(&fit, &[("t", (1.0, 1.0)), ("y", (1.0, 1.0))]);
        assert!(r < f, "2 scalars, 1 residual: forward {f}, reverse {r}");
        // A layer with many weights and few outputs: reverse.
        let layer = derived(
            &["w"],
            "fn layer(w: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
                (w * x).map(|v| v.tanh())
            }",
        );
        assert!(matches!(layer.mode, Mode::AtRunTime { .. }));
        let (f, r) = at(&layer, &[("w", (4.0, 30.0)), ("x", (30.0, 1.0))]);
        assert!(r < f, "120 weights, 4 residuals: forward {f}, reverse {r}");
        let (f, r) = at(&layer, &[("w", (30.0, 1.0)), ("x", (1.0, 1.0))]);
        assert!(f < r, "30 weights, 30 residuals: forward {f}, reverse {r}");
    }

    /// The docs carry the Jacobian as each mode computes it: `A` times the direction
    /// (a column of `J`) and `Aᵀ` times the seed (a row).
    #[test]
    fn formulas_of_a_linear_residual() {
        let d = derived(
            &["x"],
            "fn linear(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> DVector<f64> {
                a * x - b
            }",
        );
        assert_eq!(d.tangents(), [("J_x v_x".to_owned(), "a v_x".to_owned())]);
        assert_eq!(d.adjoints(), [("J_xᵀ s".to_owned(), "aᵀ s".to_owned())]);
    }

    /// The structured form and its formula, per variable.
    fn structured(d: &Derivation) -> Vec<(String, String)> {
        assert!(
            d.mode.has_structured(),
            "{}: forward `{}`, reverse `{}`, structured {:?}",
            d.mode_name(),
            d.forward_cost,
            d.reverse_cost,
            d.structured_cost.as_ref().map(ToString::to_string)
        );
        d.structured_formulas()
    }

    /// Linear maps: `J = A` for `A x − b`, `A x + b`, and for `x` in the product's
    /// second place whatever it is called.
    #[test]
    fn linear_maps_are_their_matrix() {
        let d = derived(
            &["x"],
            "fn linear(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> DVector<f64> {
                a * x - b
            }",
        );
        assert_eq!(structured(&d), [("J_x".to_owned(), "a".to_owned())]);
        let d = derived(
            &["w"],
            "fn affine(w: &DVector<f64>, x: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
                x * w + b
            }",
        );
        assert_eq!(structured(&d), [("J_w".to_owned(), "x".to_owned())]);
        assert!(d.doc().iter().any(|l| l.contains("`J_w = x`")));
        // A scale of the product: `2 A`.
        let d = derived(
            &["x"],
            "fn twice(a: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
                (a * x) * 2.0
            }",
        );
        assert_eq!(structured(&d), [("J_x".to_owned(), "2 a".to_owned())]);
    }

    /// Entrywise maps of a product: a row scale of the matrix, one pass.
    #[test]
    fn entrywise_maps_scale_the_rows() {
        let d = derived(
            &["w"],
            "fn dense(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
                (x * w).map(|v| v.tanh()) - y
            }",
        );
        assert_eq!(
            structured(&d),
            [("J_w".to_owned(), "diag(1 − tanh(x w)²) x".to_owned())]
        );
        assert!(d
            .doc()
            .iter()
            .any(|l| l.contains("structured, formed directly")));
    }

    /// Sums of such terms: two products, and the variable itself.
    #[test]
    fn sums_of_terms() {
        let d = derived(
            &["x"],
            "fn two(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
                (a * x).map(|v| v.sin()) + b * x - x
            }",
        );
        let f = structured(&d);
        assert_eq!(f.len(), 1);
        let (_, j) = &f[0];
        assert!(j.contains("diag(cos(a x)) a"), "{j}");
        assert!(j.contains(" + b"), "{j}");
        assert!(j.contains(" − I"), "{j}");
    }

    /// Not structured: the tangent on the left of a product with a row scale inside
    /// (`A diag(c)`), and a matrix variable: the sweeps.
    #[test]
    fn other_forms_are_swept() {
        let d = derived(
            &["x"],
            "fn inner(a: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
                a * x.map(|v| v.tanh())
            }",
        );
        assert!(d.vars.iter().all(|v| v.structured.is_none()));
        assert!(!matches!(d.mode, Mode::Structured));
        let d = derived(
            &["w"],
            "fn layer(w: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
                (w * x).map(|v| v.tanh())
            }",
        );
        assert!(!matches!(d.mode, Mode::Structured));
    }
}

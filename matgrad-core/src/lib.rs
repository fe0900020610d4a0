//! The engine of matgrad: from an annotated function to its gradient.
//!
//! [`expand`] is the whole pipeline, and it reads as one:
//! parse the attribute and the signature, build the IR of the body (kinds inferred
//! on the way), differentiate it in reverse mode, emit Rust. Every stage reports to
//! one [`ctxt::Ctxt`], so a function with several problems gets every error at once,
//! and on any error the original function is still emitted, unchanged.
//!
//! This crate is plain (not a proc-macro crate) so that it can be tested, fuzzed
//! and reused by tools; `matgrad-macros` is a two-line shell around [`expand`].
#![deny(missing_docs)]

pub mod ctxt;
pub mod diff;
pub mod emit;
pub mod ir;
pub mod parse;
pub mod rules;
pub mod sym;
pub mod symbol;

use ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[grad(attr)] item`: the item unchanged, then its companions, or the
/// errors (with the item and, where possible, companion signatures).
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let msg = syn::Error::new(
                e.span(),
                "#[grad] applies to a function: `#[grad(wrt = w)] fn loss(...) -> f64 { ... }`",
            );
            let err = msg.to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut cx = Ctxt::new();
    let companions = derive(&mut cx, attr, &item_fn);
    let errors = cx.to_compile_errors();
    quote!(#item_fn #errors #companions)
}

/// Parse, differentiate, emit; on errors, the fallback companions where possible.
fn derive(cx: &mut Ctxt, attr: TokenStream, item: &syn::ItemFn) -> TokenStream {
    let attr = parse::attr::parse(cx, attr);
    let sig = parse::signature::parse(cx, &item.sig);
    let (Some(attr), Some(sig)) = (attr, sig) else {
        return TokenStream::new();
    };
    let wrt = resolve_wrt(cx, &attr, &sig);
    let graph = parse::body::build(cx, &sig, &item.block);
    let wrt_params: Vec<&parse::signature::Param> =
        wrt.iter().filter_map(|&i| sig.params.get(i)).collect();
    match graph {
        Some(graph) if !cx.has_errors() => {
            let adjoints = diff::differentiate(&graph, &wrt);
            emit::companions(&emit::Input {
                item,
                sig: &sig,
                wrt: &wrt,
                graph: &graph,
                adjoints: &adjoints,
            })
        }
        _ if wrt_params.len() == attr.wrt.len() => {
            emit::fallback::companions(item, &sig, &wrt_params)
        }
        _ => TokenStream::new(),
    }
}

/// The parameter index of each `wrt` name, reporting unknown and repeated names.
fn resolve_wrt(
    cx: &mut Ctxt,
    attr: &parse::attr::Attr,
    sig: &parse::signature::Signature,
) -> Vec<usize> {
    let mut out = Vec::new();
    for (k, name) in attr.wrt.iter().enumerate() {
        if attr.wrt[..k].contains(name) {
            cx.error_spanned_by(name, format!("`{name}` is listed twice in `wrt`"));
            continue;
        }
        match sig.params.iter().position(|p| p.name == *name) {
            Some(i) => out.push(i),
            None => {
                let names: Vec<String> =
                    sig.params.iter().map(|p| format!("`{}`", p.name)).collect();
                cx.error_spanned_by(
                    name,
                    format!("`wrt` names `{name}`, which is not a parameter of this function (its parameters: {})", names.join(", ")),
                );
            }
        }
    }
    out
}

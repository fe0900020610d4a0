//! The check that a runtime function called by name in a body is matgrad's.
//!
//! The macro sees `sigmoid(&z)`, not what `sigmoid` resolves to: a function of the
//! user's own named `sigmoid` would be differentiated as matgrad's. So for each such
//! call the expansion also calls the name as written, at the call's span, on a
//! probe (`sigmoid(::matgrad::__resolve::sigmoid())`) that type-checks only when
//! the name is matgrad's; otherwise rustc reports matgrad's message there (see
//! `matgrad::__resolve`). It sits in a function nothing calls: it costs nothing.

use crate::parse::body::runtime_fn_name;
use crate::symbol::runtime_fn_named;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::visit::Visit;

/// The checks for every runtime function called in `block`, one per distinct path.
pub fn checks(block: &syn::Block) -> TokenStream {
    struct Calls<'a> {
        found: Vec<(&'a syn::ExprPath, String)>,
    }
    impl<'a> Visit<'a> for Calls<'a> {
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                if let Ok(name) = runtime_fn_name(p) {
                    let text = quote!(#p).to_string();
                    let known = runtime_fn_named(&name).is_some();
                    if known
                        && !self
                            .found
                            .iter()
                            .any(|(q, _)| quote!(#q).to_string() == text)
                    {
                        self.found.push((p, name));
                    }
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut calls = Calls { found: Vec::new() };
    calls.visit_block(block);
    if calls.found.is_empty() {
        return TokenStream::new();
    }
    let stmts = calls.found.iter().map(|(p, name)| {
        let arity = runtime_fn_named(name).map_or(1, |f| f.arity);
        let span = p
            .path
            .segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span());
        let f = syn::Ident::new(name, span);
        let probes = (0..arity).map(|_| quote_spanned!(span=> ::matgrad::__resolve::#f()));
        quote_spanned!(span=> let _ = #p(#(#probes),*);)
    });
    let check = syn::Ident::new("__mg_resolve", Span::mixed_site());
    quote! {
        const _: () = {
            #[allow(dead_code, let_underscore_drop, unused_results, unused_qualifications, clippy::all, clippy::pedantic, clippy::nursery, clippy::restriction)]
            fn #check() {
                #(#stmts)*
            }
        };
    }
}

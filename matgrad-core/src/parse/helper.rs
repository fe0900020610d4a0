//! Helper functions: `#[differentiable] fn dense(..) -> DMatrix<f64>`, callable from
//! `#[grad]` bodies and from other helpers, and inlined into them.
//!
//! An attribute macro sees only its own item, so a `#[grad]` expansion cannot read
//! the body of a helper defined elsewhere in the crate. The two meet through
//! `macro_rules!` callbacks:
//!
//! 1. `#[differentiable]` emits the helper unchanged and, beside it, a hidden
//!    `macro_rules!` of the same name (`dense!`, in the macro namespace, so that
//!    `use layers::dense;` imports it with the function), re-exported to the crate
//!    with `pub(crate) use`. Invoked with any tokens, it invokes
//!    `::matgrad::__grad_continue!` with those tokens followed by the helper's own.
//! 2. `#[grad]` on a body that calls functions that are not matgrad's (`dense(..)`,
//!    `layers::dense(..)`) emits the original function, then invokes the first such
//!    path as a macro with its state (the attribute, the function, the helpers read
//!    so far, the paths still to read).
//! 3. `__grad_continue!` adds the helper it was given, looks in its body for more
//!    helpers, and either invokes the next path or, when none is left, derives the
//!    function with every helper inlined at its calls.
//!
//! Limits (documented in the README): a helper is called by a path that resolves
//! from the calling function (a helper that calls another helper names it as the
//! calling `#[grad]` function would); helpers are found by their last path segment,
//! so two helpers of one name cannot both be used by one function; a helper is
//! visible within its crate only; recursion is an error.

use crate::symbol::runtime_fn_named;
use proc_macro2::{Delimiter, Ident, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::visit::Visit;

/// The path prefixes of calls that are never helpers: matgrad's own functions,
/// nalgebra's, the standard library's and the float types' associated functions.
const NOT_HELPERS: [&str; 7] = ["matgrad", "nalgebra", "na", "std", "core", "f64", "f32"];

/// The calls in `block` that may be helpers (in order, each path once), other than
/// those named `known`: plain paths of lowercase segments (`dense`, `layers::dense`)
/// that are none of matgrad's runtime functions. Calls inside closures count too:
/// a `#[custom_adjoint]` scalar function may be called there.
pub fn helper_calls(block: &syn::Block, known: &[String]) -> Vec<syn::Path> {
    struct Calls<'a> {
        known: &'a [String],
        found: Vec<syn::Path>,
    }
    impl Calls<'_> {
        fn add(&mut self, p: &syn::ExprPath) {
            if let Some(name) = helper_name(p) {
                let text = p.path.to_token_stream().to_string();
                let seen = self
                    .found
                    .iter()
                    .any(|q| q.to_token_stream().to_string() == text);
                if !seen && !self.known.contains(&name) {
                    self.found.push(p.path.clone());
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Calls<'_> {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                self.add(p);
            }
            syn::visit::visit_expr_call(self, c);
        }
        // `a.map(f)`: `f` called on every entry.
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if let (true, Some(syn::Expr::Path(p))) = (m.method == "map", m.args.first()) {
                self.add(p);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = Calls {
        known,
        found: Vec::new(),
    };
    v.visit_block(block);
    v.found
}

/// The name of the helper a call of `p` would be (its last segment), or `None` when
/// `p` names something else: a runtime function, a constructor (`DMatrix::zeros`),
/// a generic constant (`T::one`), `nalgebra::convert`.
pub fn helper_name(p: &syn::ExprPath) -> Option<String> {
    if p.qself.is_some() {
        return None;
    }
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let (last, first) = (segs.last()?, segs.first()?);
    let plain = segs
        .iter()
        .all(|s| matches!(s.arguments, syn::PathArguments::None));
    let lowercase = segs.iter().all(|s| {
        let name = s.ident.to_string();
        name == "crate"
            || name == "self"
            || name == "super"
            || name
                .chars()
                .next()
                .is_some_and(|c| c.is_lowercase() || c == '_')
    });
    let name = last.ident.to_string();
    let excluded = NOT_HELPERS.iter().any(|n| first.ident == n)
        || name == "convert"
        || (segs.len() == 1 && runtime_fn_named(&name).is_some());
    (plain && lowercase && !excluded).then_some(name)
}

/// The expansion of `#[differentiable]` on `item`: the helper unchanged, and the
/// `macro_rules!` that hands its tokens to `__grad_continue!` (see the module docs).
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let f: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(
                e.span(),
                "#[differentiable] applies to a free function: `#[differentiable] fn dense(x: &DMatrix<f64>, ..) -> DMatrix<f64> { .. }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    if !attr.is_empty() {
        let err = syn::Error::new_spanned(
            &attr,
            "#[differentiable] takes no arguments: the helper's body is differentiated where it is called",
        )
        .to_compile_error();
        return quote!(#item #err);
    }
    callback(&f, &item, TokenStream::new())
}

/// The expansion of `#[custom_adjoint(f_adjoint)]` on `item`: the function unchanged,
/// and the `macro_rules!` that hands its signature and the adjoint's path to
/// `__grad_continue!`, marked so that calls of it are not inlined but call `f` and
/// `f_adjoint` (see [`crate::sym::UserFn`]).
pub fn custom_adjoint(attr: TokenStream, item: TokenStream) -> TokenStream {
    let f: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(
                e.span(),
                "#[custom_adjoint] applies to a free function: `#[custom_adjoint(f_adjoint)] fn f(a: f64) -> f64 { .. }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    if let Err(e) = syn::parse2::<syn::Path>(attr.clone()) {
        let err = syn::Error::new(
            e.span(),
            "#[custom_adjoint] names the adjoint function: `#[custom_adjoint(f_adjoint)]`, with `fn f_adjoint(a: f64, g: f64) -> f64` (one argument) or `-> (f64, f64)` (two)",
        )
        .to_compile_error();
        return quote!(#item #err);
    }
    let marker = quote!(#[__matgrad_custom_adjoint(#attr)]);
    callback(&f, &item, marker)
}

/// The adjoint's path of a helper read from `#[custom_adjoint(path)]`, if it is one.
pub fn custom_adjoint_of(h: &syn::ItemFn) -> Option<syn::Path> {
    h.attrs
        .iter()
        .find(|a| a.path().is_ident("__matgrad_custom_adjoint"))
        .and_then(|a| a.parse_args::<syn::Path>().ok())
}

/// The helper `f` (tokens `item`) and its callback macro, which passes `marker`
/// (an attribute) and the helper's tokens on.
fn callback(f: &syn::ItemFn, item: &TokenStream, marker: TokenStream) -> TokenStream {
    let name = &f.sig.ident;
    // The macro is defined in a module of its own and re-exported from there, so
    // that the `use` brings the macro alone (not a second `fn dense`).
    let module = quote::format_ident!("__matgrad_helper_{}", name);
    quote! {
        #item

        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod #module {
            #[allow(unused_macros, clippy::crate_in_macro_def)]
            macro_rules! #name {
                ($($state:tt)*) => {
                    ::matgrad::__grad_continue! { $($state)* { #marker #item } }
                };
            }
            #[allow(unused_imports)]
            pub(crate) use #name;
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #module::#name;
    }
}

/// What `#[grad]` passes along while it collects helpers.
pub struct State {
    /// `reassociate` forced on (the test suites' `grad_reassociated`).
    pub reassociate: bool,
    /// The mixed-site span of the `#[grad]` expansion, whose names (`ws`,
    /// `grad_w`) the derived body uses.
    pub hygiene: proc_macro2::Span,
    /// The attribute's tokens.
    pub attr: TokenStream,
    /// The annotated function.
    pub item: syn::ItemFn,
    /// The helpers read so far.
    pub helpers: Vec<syn::ItemFn>,
    /// The helper paths still to read.
    pub pending: Vec<syn::Path>,
    /// Which companion's body the continuation derives.
    pub pass: Pass,
}

/// The companion whose body a helper continuation derives: `NAME_grad_into`, or one
/// of the two passes of a run-time loop's step function (see [`crate::ir::Loop`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// `NAME_grad_into`.
    Grad,
    /// `NAME_step_into`, the forward pass alone.
    Step,
    /// `NAME_back_into`, the reverse sweep from the values `NAME_step_into` left.
    Back,
    /// `NAME_hvp_into`, from the tangent graph.
    Hvp,
    /// `NAME_hessian`'s body: from the Hessian's structure, or around `NAME_hvp_into`.
    Hessian,
}

impl State {
    /// The names of the helpers read or to be read.
    fn names(&self) -> Vec<String> {
        let read = self.helpers.iter().map(|h| h.sig.ident.to_string());
        let pending = self
            .pending
            .iter()
            .filter_map(|p| p.segments.last().map(|s| s.ident.to_string()));
        read.chain(pending).collect()
    }

    /// Adds the helpers that `block` calls and that are not known yet to `pending`.
    pub fn discover(&mut self, block: &syn::Block) {
        let known = self.names();
        self.pending.extend(helper_calls(block, &known));
    }

    /// The invocation that fetches the next pending helper, or `None` when none is
    /// left. Its span is the call's, so that a function that is not a helper is
    /// reported there ("cannot find macro `f`").
    pub fn fetch_next(&mut self) -> Option<TokenStream> {
        if self.pending.is_empty() {
            return None;
        }
        let next = self.pending.remove(0);
        let flag = format!(
            "{}{}",
            self.reassociate,
            match self.pass {
                Pass::Grad => "",
                Pass::Step => "_step",
                Pass::Back => "_back",
                Pass::Hvp => "_hvp",
                Pass::Hessian => "_hessian",
            }
        );
        let flag = Ident::new(&flag, proc_macro2::Span::call_site());
        let (attr, item) = (&self.attr, &self.item);
        let hygiene = Ident::new("__mg_hygiene", self.hygiene);
        let helpers = self.helpers.iter();
        let pending = self.pending.iter();
        Some(quote! {
            #next! { #flag #hygiene ( #attr ) { #item } [ #( { #helpers } )* ] [ #( #pending ; )* ] }
        })
    }

    /// Reads the state and the helper appended to it (`__grad_continue!`'s input).
    pub fn parse(input: TokenStream) -> syn::Result<(State, syn::ItemFn)> {
        let mut it = input.into_iter().peekable();
        let mut next = |what: &str| {
            it.next().ok_or_else(|| {
                syn::Error::new(
                    proc_macro2::Span::call_site(),
                    format!("matgrad: malformed helper state (no {what})"),
                )
            })
        };
        let (flag, pass) = match next("flag")? {
            TokenTree::Ident(i) => {
                let s = i.to_string();
                let pass = if s.ends_with("_step") {
                    Pass::Step
                } else if s.ends_with("_back") {
                    Pass::Back
                } else if s.ends_with("_hvp") {
                    Pass::Hvp
                } else if s.ends_with("_hessian") {
                    Pass::Hessian
                } else {
                    Pass::Grad
                };
                (s.starts_with("true"), pass)
            }
            other => return Err(syn::Error::new_spanned(other, "matgrad: malformed state")),
        };
        let hygiene = match next("hygiene")? {
            TokenTree::Ident(i) => i.span(),
            other => return Err(syn::Error::new_spanned(other, "matgrad: malformed state")),
        };
        let group = |t: TokenTree, d: Delimiter| match t {
            TokenTree::Group(g) if g.delimiter() == d => Ok(g.stream()),
            other => Err(syn::Error::new_spanned(other, "matgrad: malformed state")),
        };
        let attr = group(next("attribute")?, Delimiter::Parenthesis)?;
        let item: syn::ItemFn = syn::parse2(group(next("function")?, Delimiter::Brace)?)?;
        let helpers = group(next("helpers")?, Delimiter::Bracket)?
            .into_iter()
            .map(|t| syn::parse2::<syn::ItemFn>(group(t, Delimiter::Brace)?))
            .collect::<syn::Result<Vec<_>>>()?;
        let pending_tokens = group(next("pending")?, Delimiter::Bracket)?;
        let pending = syn::parse::Parser::parse2(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![;]>::parse_terminated,
            pending_tokens,
        )?
        .into_iter()
        .collect();
        let helper: syn::ItemFn = syn::parse2(group(next("helper")?, Delimiter::Brace)?)?;
        let state = State {
            reassociate: flag,
            hygiene,
            attr,
            item,
            helpers,
            pending,
            pass,
        };
        Ok((state, helper))
    }
}

/// A group of `tokens` in braces (for tests).
#[cfg(test)]
fn braced(tokens: TokenStream) -> TokenTree {
    TokenTree::Group(proc_macro2::Group::new(Delimiter::Brace, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_helper_calls_only() {
        let f: syn::ItemFn = syn::parse_quote! {
            fn f(x: &DMatrix<f64>) -> f64 {
                let a = dense(x, &w);
                let b = layers::dense(&a, &w) + sigmoid(&a) + matgrad::relu(&a);
                let c = DMatrix::identity(2, 2) + nalgebra::convert(2.0) * T::one() * f64::max(1.0, 2.0);
                let d = a.map(|v| inside(v));
                dense(&b, &c).sum() + norm2(&d)
            }
        };
        let found: Vec<String> = helper_calls(&f.block, &[])
            .iter()
            .map(|p| p.to_token_stream().to_string())
            .collect();
        assert_eq!(found, ["dense", "layers :: dense", "inside", "norm2"]);
        let known = ["dense".to_owned()];
        assert_eq!(helper_calls(&f.block, &known).len(), 2);
    }

    #[test]
    fn state_round_trips() {
        let mut s = State {
            pass: Pass::Back,
            reassociate: true,
            hygiene: proc_macro2::Span::call_site(),
            attr: quote!(wrt = w),
            item: syn::parse_quote!(
                fn f(w: &DMatrix<f64>) -> f64 {
                    g(w).sum()
                }
            ),
            helpers: vec![syn::parse_quote!(
                fn h(a: f64) -> f64 {
                    a
                }
            )],
            pending: vec![syn::parse_quote!(g), syn::parse_quote!(m::k)],
        };
        let call = s.fetch_next().map(|t| t.to_string()).unwrap_or_default();
        assert!(call.starts_with("g !"), "{call}");
        // What the helper's macro passes on: the arguments, then its own tokens.
        let args: TokenStream = call
            .split_once('!')
            .map(|(_, rest)| rest.parse::<TokenStream>().unwrap_or_default())
            .unwrap_or_default();
        let inner = match args.into_iter().next() {
            Some(TokenTree::Group(g)) => g.stream(),
            _ => TokenStream::new(),
        };
        let mut input = inner;
        input.extend([braced(quote!(
            fn g(w: &DMatrix<f64>) -> DMatrix<f64> {
                w * 2.0
            }
        ))]);
        let (back, helper) = State::parse(input).expect("parses");
        assert!(back.reassociate);
        assert_eq!(back.pass, Pass::Back);
        assert_eq!(back.attr.to_string(), "wrt = w");
        assert_eq!(back.helpers.len(), 1);
        assert_eq!(back.pending.len(), 1);
        assert_eq!(helper.sig.ident, "g");
    }
}

//! Error collection, after serde_derive's `Ctxt`: every pass pushes its errors
//! here and carries on, so one compile reports every problem of a function.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use std::fmt::Display;

/// Collects the errors of one expansion.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
    ill_typed: bool,
}

impl Ctxt {
    /// A collector with no errors yet.
    pub fn new() -> Self {
        Ctxt::default()
    }

    /// Records an error spanning `tokens` (the construct at fault).
    pub fn error_spanned_by<A: ToTokens, M: Display>(&mut self, tokens: A, msg: M) {
        self.errors.push(syn::Error::new_spanned(tokens, msg));
    }

    /// Records an error at `span`.
    pub fn error_at<M: Display>(&mut self, span: Span, msg: M) {
        self.errors.push(syn::Error::new(span, msg));
    }

    /// Records a `syn` error as it is.
    pub fn syn_error(&mut self, err: syn::Error) {
        self.errors.push(err);
    }

    /// Records an error at a construct that cannot type-check either (static shapes
    /// that do not match): the original body is then not emitted, so the user reads
    /// matgrad's message and not nalgebra's trait-bound errors (see [`Ctxt::ill_typed`]).
    pub fn shape_error<A: ToTokens, M: Display>(&mut self, tokens: A, msg: M) {
        self.ill_typed = true;
        self.error_spanned_by(tokens, msg);
    }

    /// Whether some error was a [`Ctxt::shape_error`].
    pub fn ill_typed(&self) -> bool {
        self.ill_typed
    }

    /// Whether any error has been recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The errors as `compile_error!` invocations, one per error.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }

    /// The recorded errors, in order.
    pub fn errors(&self) -> &[syn::Error] {
        &self.errors
    }
}

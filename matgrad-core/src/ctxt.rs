//! Error collection, after serde_derive's `Ctxt`: every pass pushes its errors
//! here and carries on, so one compile reports every problem of a function.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use std::fmt::Display;

/// Collects the errors of one expansion.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
    /// Problems rustc itself reports on the original function (which is emitted
    /// unchanged), so the macro does not report them again.
    left_to_rustc: Vec<syn::Error>,
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

    /// Records a problem that rustc reports by itself on the original function
    /// (`*v` of an `f64`, `map(f64::max)`): the derivation fails, but the macro emits
    /// no error of its own, which would only repeat rustc's. Tools that do not run
    /// rustc show it ([`Ctxt::left_to_rustc`]).
    pub fn leave_to_rustc<A: ToTokens, M: Display>(&mut self, tokens: A, msg: M) {
        self.left_to_rustc
            .push(syn::Error::new_spanned(tokens, msg));
    }

    /// [`Ctxt::leave_to_rustc`] at `span`.
    pub fn leave_to_rustc_at<M: Display>(&mut self, span: Span, msg: M) {
        self.left_to_rustc.push(syn::Error::new(span, msg));
    }

    /// Whether any problem has been recorded (including those left to rustc).
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.left_to_rustc.is_empty()
    }

    /// How many problems have been recorded (including those left to rustc): a pass
    /// compares counts to learn whether it found any.
    pub fn count(&self) -> usize {
        self.errors.len() + self.left_to_rustc.len()
    }

    /// The problems left to rustc, in order.
    pub fn left_to_rustc(&self) -> &[syn::Error] {
        &self.left_to_rustc
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

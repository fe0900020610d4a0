//! What is emitted when the function is rejected: the original, the errors, and,
//! when the signature could be read, the companions with their real signatures and
//! a body that is never reached (the `compile_error!`s already stop the build), so
//! the user's calls to `NAME_grad` add no "cannot find function" to matgrad's errors.

use super::{signatures, Companion};
use crate::parse::signature::{Param, Signature};
use quote::quote;

/// Companions with an unreachable body.
pub fn companions(item: &syn::ItemFn, sig: &Signature, wrt: &[&Param]) -> proc_macro2::TokenStream {
    let body = quote!(::core::unreachable!(
        "matgrad: this function was rejected at compile time"
    ));
    signatures(item, sig, wrt, &[], &body, Companion::Grad)
}

/// `NAME_hvp` and `NAME_hvp_into` with an unreachable body; `sig` and `wrt` are the
/// tangent graph's (see [`crate::tangent::signature`]).
pub fn hvp(item: &syn::ItemFn, sig: &Signature, wrt: &[&Param]) -> proc_macro2::TokenStream {
    let body = quote!(::core::unreachable!(
        "matgrad: this function was rejected at compile time"
    ));
    signatures(item, sig, wrt, &[], &body, Companion::Hvp { hidden: false })
}

//! The `#[grad]` attribute. Use it through the [`matgrad`](https://docs.rs/matgrad) crate,
//! which documents it and re-exports it with the runtime the generated code calls.
#![deny(missing_docs)]

use proc_macro::TokenStream;

/// Derives the gradient of a nalgebra loss function at compile time.
///
/// See the `matgrad` crate for the language and the generated companions.
#[proc_macro_attribute]
pub fn grad(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || matgrad_core::expand(attr.into(), item.clone())).into()
}

/// `#[grad]` with `reassociate` on, whether or not the attribute writes it.
///
/// For matgrad's own test suites, which import it as `grad` to run every
/// finite-difference check a second time with the value rewrites on. Not part of
/// the API.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn grad_reassociated(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = matgrad_core::Options {
        reassociate: true,
        ..matgrad_core::Options::default()
    };
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::expand_with(attr.into(), item.clone(), options)
    })
    .into()
}

/// Makes a helper function callable from `#[grad]` bodies, which inline it.
///
/// See the `matgrad` crate for the mechanism and its limits.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::parse::helper::differentiable(attr.into(), item.clone())
    })
    .into()
}

/// Registers a user-supplied adjoint (a vector-Jacobian product) for a scalar function.
///
/// See the `matgrad` crate.
#[proc_macro_attribute]
pub fn custom_adjoint(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::parse::helper::custom_adjoint(attr.into(), item.clone())
    })
    .into()
}

/// Derives the Jacobian of a vector-valued nalgebra function at compile time.
///
/// See the `matgrad` crate.
#[proc_macro_attribute]
pub fn jacobian(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::jacobian::expand(attr.into(), item.clone(), false)
    })
    .into()
}

/// `#[jacobian]` with `reassociate` forced on (matgrad's test suites). Not part of
/// the API.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn jacobian_reassociated(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::jacobian::expand(attr.into(), item.clone(), true)
    })
    .into()
}

/// `#[jacobian]` in forward mode whatever the costs (matgrad's test suites). Not
/// part of the API.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn jacobian_forward(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::jacobian::expand_forced(
            attr.into(),
            item.clone(),
            false,
            Some(matgrad_core::jacobian::Force::Forward),
        )
    })
    .into()
}

/// `#[jacobian]` in reverse mode whatever the costs (matgrad's test suites). Not
/// part of the API.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn jacobian_reverse(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = item.into();
    matgrad_core::guarded(&item, || {
        matgrad_core::jacobian::expand_forced(
            attr.into(),
            item.clone(),
            false,
            Some(matgrad_core::jacobian::Force::Reverse),
        )
    })
    .into()
}

/// A `#[grad]` expansion continued with one more helper's tokens (invoked by the
/// `macro_rules!` that `#[differentiable]` writes). Not part of the API.
#[doc(hidden)]
#[proc_macro]
pub fn __grad_continue(input: TokenStream) -> TokenStream {
    let input: proc_macro2::TokenStream = input.into();
    matgrad_core::guarded(&proc_macro2::TokenStream::new(), || {
        matgrad_core::expand_continue(input.clone())
    })
    .into()
}

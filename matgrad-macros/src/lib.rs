//! The `#[grad]` attribute. Use it through the [`matgrad`](https://docs.rs/matgrad) crate,
//! which documents it and re-exports it with the runtime the generated code calls.
#![deny(missing_docs)]

use proc_macro::TokenStream;

/// Derives the gradient of a nalgebra loss function at compile time.
///
/// See the `matgrad` crate for the language and the generated companions.
#[proc_macro_attribute]
pub fn grad(attr: TokenStream, item: TokenStream) -> TokenStream {
    matgrad_core::expand(attr.into(), item.into()).into()
}

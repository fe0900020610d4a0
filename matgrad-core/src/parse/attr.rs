//! The attribute's arguments: `wrt = w` or `wrt = (a, b, c)`, and the flag
//! `reassociate`.

use crate::ctxt::Ctxt;
use crate::symbol::{REASSOCIATE, WRT};
use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::{Expr, Ident};

/// What `#[grad(...)]` asked for.
pub struct Attr {
    /// The variables to differentiate with respect to, in the order written.
    pub wrt: Vec<Ident>,
    /// `reassociate`: the value may be computed in another order (see
    /// [`crate::reassociate`]).
    pub reassociate: bool,
}

/// Parses the attribute's tokens, reporting problems to `cx`. `None` when the
/// attribute is unusable (the function is then emitted without companions).
pub fn parse(cx: &mut Ctxt, tokens: TokenStream) -> Option<Attr> {
    let mut wrt: Option<Vec<Ident>> = None;
    let mut reassociate = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident(WRT) {
            if wrt.is_some() {
                return Err(
                    meta.error("duplicate `wrt`: list every variable in one `wrt = (a, b)`")
                );
            }
            let value: Expr = meta.value()?.parse()?;
            wrt = Some(idents(&value)?);
            Ok(())
        } else if meta.path.is_ident(REASSOCIATE) {
            reassociate = true;
            Ok(())
        } else {
            let name = meta
                .path
                .get_ident()
                .map_or_else(|| "this".to_owned(), Ident::to_string);
            Err(meta.error(format!(
                "unknown #[grad] option `{name}`: the options are `wrt = x` or `wrt = (x, y)`, and `reassociate`"
            )))
        }
    });
    if let Err(e) = parser.parse2(tokens) {
        cx.syn_error(e);
        return None;
    }
    match wrt {
        Some(wrt) => Some(Attr { wrt, reassociate }),
        None => {
            cx.error_at(
                Span::call_site(),
                "#[grad] needs `wrt`: name the variables to differentiate, as in #[grad(wrt = w)] or #[grad(wrt = (w, b))]",
            );
            None
        }
    }
}

/// The identifiers of `w`, `(w)`, `(a, b, c)`.
fn idents(e: &Expr) -> syn::Result<Vec<Ident>> {
    let one = |e: &Expr| -> syn::Result<Ident> {
        match e {
            Expr::Path(p) if p.qself.is_none() => {
                p.path.get_ident().cloned().ok_or_else(|| {
                    syn::Error::new_spanned(p, "expected a parameter name, not a path")
                })
            }
            other => Err(syn::Error::new_spanned(
                other,
                "expected a parameter name: write `wrt = w` or `wrt = (w, b)`",
            )),
        }
    };
    match e {
        Expr::Tuple(t) if t.elems.is_empty() => Err(syn::Error::new_spanned(
            t,
            "`wrt` is empty: name at least one parameter",
        )),
        Expr::Tuple(t) => t.elems.iter().map(one).collect(),
        Expr::Paren(p) => Ok(vec![one(&p.expr)?]),
        other => Ok(vec![one(other)?]),
    }
}

//! The attribute's arguments: `wrt = w` or `wrt = (a, b, c)`, and the flags
//! `reassociate`, `hvp` and `hessian`.
//!
//! Common slips (`#[grad(w)]`, `wrt = "w"`, `wrt = [a, b]`) are reported with the
//! spelling to write instead, and the names are still read from them, so the
//! companions can be emitted with their proper signatures beside the error.

use crate::ctxt::Ctxt;
use crate::symbol::{HESSIAN, HVP, LOOP_STEP, LOOP_TANGENT, REASSOCIATE, WRT};
use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, Ident, Lit};

/// What `#[grad(...)]` asked for.
pub struct Attr {
    /// The variables to differentiate with respect to, in the order written.
    pub wrt: Vec<Ident>,
    /// `reassociate`: the value may be computed in another order (see
    /// [`crate::rewrite`]).
    pub reassociate: bool,
    /// `hvp`: also emit `NAME_hvp` and `NAME_hvp_into` (SPEC §10).
    pub hvp: bool,
    /// `hessian`, where it is written: also emit `NAME_hessian` (SPEC §10).
    pub hessian: Option<Span>,
    /// `loop_step = (a, b)`, hidden: the function is the step of a run-time loop
    /// (see [`crate::ir::Loop`]); also emit `NAME_step_into`.
    pub step: Vec<Ident>,
    /// `loop_tangent`, hidden, with `loop_step`: the function is the tangent of a
    /// run-time loop's step function (see [`crate::tangent::loop_step`]).
    pub loop_tangent: bool,
}

/// Parses the attribute's tokens, reporting problems to `cx`. `None` when the
/// attribute is unusable (no variable can be read from it); `Some` also after a
/// reported slip whose intent is clear.
pub fn parse(cx: &mut Ctxt, tokens: TokenStream) -> Option<Attr> {
    let mut reader = Reader::default();
    let parsed = syn::meta::parser(|meta| reader.read(meta)).parse2(tokens);
    for e in reader.slips {
        cx.syn_error(e);
    }
    if let Err(e) = parsed {
        cx.syn_error(e);
        return None;
    }
    match reader.wrt {
        Some(wrt) => Some(Attr {
            wrt,
            reassociate: reader.reassociate,
            hvp: reader.hvp,
            hessian: reader.hessian,
            step: reader.step,
            loop_tangent: reader.loop_tangent,
        }),
        None => {
            cx.error_at(
                Span::call_site(),
                "#[grad] needs `wrt`: name the variables to differentiate, as in #[grad(wrt = w)] or #[grad(wrt = (w, b))]",
            );
            None
        }
    }
}

/// The options read so far.
#[derive(Default)]
struct Reader {
    wrt: Option<Vec<Ident>>,
    reassociate: bool,
    hvp: bool,
    hessian: Option<Span>,
    step: Vec<Ident>,
    loop_tangent: bool,
    /// Slips reported with a hint; the names read from them stand in for `wrt`.
    slips: Vec<syn::Error>,
}

impl Reader {
    /// Reads one option.
    fn read(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident(WRT) {
            self.read_wrt(&meta)
        } else if meta.path.is_ident(REASSOCIATE) {
            if !(meta.input.is_empty() || meta.input.peek(syn::Token![,])) {
                return Err(meta.error(
                    "`reassociate` takes no value: write `#[grad(wrt = x, reassociate)]`, or leave it out",
                ));
            }
            self.reassociate = true;
            Ok(())
        } else if meta.path.is_ident(HVP) || meta.path.is_ident(HESSIAN) {
            let hvp = meta.path.is_ident(HVP);
            if !(meta.input.is_empty() || meta.input.peek(syn::Token![,])) {
                let flag = if hvp { HVP } else { HESSIAN };
                return Err(meta.error(format!(
                    "`{flag}` takes no value: write `#[grad(wrt = x, {flag})]`, or leave it out"
                )));
            }
            if hvp {
                self.hvp = true;
            } else {
                self.hessian = Some(syn::spanned::Spanned::span(&meta.path));
            }
            Ok(())
        } else if meta.path.is_ident(LOOP_STEP) {
            let value: Expr = meta.value()?.parse()?;
            self.step = idents(&value)?.0;
            Ok(())
        } else if meta.path.is_ident(LOOP_TANGENT) {
            self.loop_tangent = true;
            Ok(())
        } else if let Some(name) = meta.path.get_ident() {
            self.read_name(&meta, name)
        } else {
            Err(meta.error(
                "unknown #[grad] option: the options are `wrt = x` or `wrt = (x, y)`, `reassociate`, `hvp` and `hessian`",
            ))
        }
    }

    /// `wrt = w`, `wrt = (a, b)`, or one of their slips.
    fn read_wrt(&mut self, meta: &ParseNestedMeta) -> syn::Result<()> {
        if self.wrt.is_some() {
            return Err(meta.error("duplicate `wrt`: list every variable in one `wrt = (a, b)`"));
        }
        if !meta.input.peek(syn::Token![=]) {
            return Err(meta.error("`wrt` needs the variables: write `wrt = w` or `wrt = (w, b)`"));
        }
        let value: Expr = meta.value()?.parse()?;
        let (names, slip) = idents(&value)?;
        self.slips.extend(slip);
        self.wrt = Some(names);
        Ok(())
    }

    /// An option that is neither `wrt` nor `reassociate`, named `name`: the variables
    /// without `wrt =` (`#[grad(w)]`, `#[grad(a, b)]`), a second list, or unknown.
    fn read_name(&mut self, meta: &ParseNestedMeta, name: &Ident) -> syn::Result<()> {
        let bare = meta.input.is_empty() || meta.input.peek(syn::Token![,]);
        if bare && self.wrt.is_none() {
            // `#[grad(w)]`, `#[grad(a, b)]`: the variables without `wrt =`.
            let mut names = vec![name.clone()];
            while meta.input.peek(syn::Token![,]) {
                let _: syn::Token![,] = meta.input.parse()?;
                if meta.input.is_empty() {
                    break;
                }
                names.push(meta.input.parse()?);
            }
            let list = write_list(&names);
            self.slips.push(meta.error(format!(
                "#[grad] takes the variables after `wrt =`: write `#[grad(wrt = {list})]`"
            )));
            self.wrt = Some(names);
            return Ok(());
        }
        if bare {
            let mut names = self.wrt.clone().unwrap_or_default();
            names.push(name.clone());
            let list = write_list(&names);
            return Err(meta.error(format!(
                "list every variable in one `wrt`: write `wrt = {list}`"
            )));
        }
        Err(meta.error(format!(
            "unknown #[grad] option `{name}`: the options are `wrt = x` or `wrt = (x, y)`, `reassociate`, `hvp` and `hessian`"
        )))
    }
}

/// `w` or `(a, b)`, as the attribute writes a list of names.
fn write_list(names: &[Ident]) -> String {
    match names {
        [one] => one.to_string(),
        _ => format!(
            "({})",
            names
                .iter()
                .map(Ident::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The identifiers of `w`, `(w)`, `(a, b, c)`; and of the slips `"w"`, `"a, b"`,
/// `[a, b]`, returned with the error that shows the right spelling.
fn idents(e: &Expr) -> syn::Result<(Vec<Ident>, Option<syn::Error>)> {
    let one = |e: &Expr| -> syn::Result<Ident> {
        match e {
            Expr::Path(p) if p.qself.is_none() => {
                p.path.get_ident().cloned().ok_or_else(|| {
                    syn::Error::new_spanned(p, "expected a parameter name, not a path")
                })
            }
            Expr::Lit(l) if matches!(l.lit, Lit::Str(_)) => Err(syn::Error::new_spanned(
                l,
                "write the parameter name without quotes, as in `wrt = (w, b)`",
            )),
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
        Expr::Tuple(t) => Ok((t.elems.iter().map(one).collect::<syn::Result<_>>()?, None)),
        Expr::Paren(p) => Ok((vec![one(&p.expr)?], None)),
        Expr::Array(a) if !a.elems.is_empty() => {
            let names: Vec<Ident> = a.elems.iter().map(one).collect::<syn::Result<_>>()?;
            let list = write_list(&names);
            let slip = syn::Error::new_spanned(
                a,
                format!("`wrt` takes a parenthesised list, not brackets: write `wrt = {list}`"),
            );
            Ok((names, Some(slip)))
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            let names: Option<Vec<Ident>> = s
                .value()
                .split(',')
                .map(|n| syn::parse_str::<Ident>(n.trim()).ok())
                .collect();
            match names {
                Some(names) if !names.is_empty() => {
                    let names: Vec<Ident> = names
                        .into_iter()
                        .map(|mut n| {
                            n.set_span(s.span());
                            n
                        })
                        .collect();
                    let list = write_list(&names);
                    let slip = syn::Error::new_spanned(
                        s,
                        format!("write the name without quotes: `wrt = {list}`"),
                    );
                    Ok((names, Some(slip)))
                }
                _ => Err(syn::Error::new_spanned(
                    s,
                    "write the parameter name without quotes, as in `wrt = w` or `wrt = (w, b)`",
                )),
            }
        }
        other => Ok((vec![one(other)?], None)),
    }
}

//! What to derive: the functions of the input, each with its `#[grad]` arguments.
//!
//! A function carrying `#[grad(...)]` (or `#[matgrad::grad(...)]`) is derived with
//! its own arguments. With `--wrt`, plain functions are derived as if they carried
//! `#[grad(wrt = (..))]`: the only one if the file has one, else those having every
//! named parameter (or those picked with `--fn`).

use crate::expr::Expr;
use crate::sources::Sources;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use std::io::Read;
use syn::spanned::Spanned;

/// One function to derive.
pub struct Job {
    /// The function's name (`f` for `--expr`).
    pub name: String,
    /// The `#[grad]` arguments: `wrt = ..`.
    pub attr: TokenStream,
    /// Where it comes from.
    pub source: JobSource,
    /// Where to point an error the engine reports without a span of its own.
    pub anchor: Option<Span>,
}

/// Where a [`Job`]'s function comes from.
pub enum JobSource {
    /// A function of the input file, without its `#[grad]` attribute.
    Item(Box<syn::ItemFn>),
    /// A one-line `--expr`, built into a function when derived.
    Expr(Expr),
}

impl Job {
    /// The job of a one-line expression: with respect to the `--wrt` names, else
    /// every variable.
    pub fn expr(e: Expr, wrt: &WrtFlag, sources: &mut Sources) -> Job {
        let attr = if wrt.names.is_empty() {
            let names: Vec<syn::Ident> = e
                .vars
                .iter()
                .map(|v| quote::format_ident!("{}", v.name))
                .collect();
            wrt_tokens(&names)
        } else {
            wrt.tokens(sources)
        };
        Job {
            name: "f".into(),
            attr,
            source: JobSource::Expr(e),
            anchor: None,
        }
    }
}

/// The `--wrt` names, checked to be identifiers.
pub struct WrtFlag {
    /// The names, in the order given.
    pub names: Vec<String>,
}

impl WrtFlag {
    /// Checks each name of `--wrt x,y`.
    pub fn parse(raw: &[String]) -> Result<WrtFlag, String> {
        let mut names = Vec::new();
        for n in raw.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if syn::parse_str::<syn::Ident>(n).is_err() {
                return Err(format!(
                    "--wrt takes parameter names, and `{n}` is not a Rust identifier"
                ));
            }
            names.push(n.to_owned());
        }
        Ok(WrtFlag { names })
    }

    /// `wrt = (x, y)` with spans into the text `--wrt x,y`, so that the engine's
    /// errors about a name (unknown, repeated) point at the command line.
    pub fn tokens(&self, sources: &mut Sources) -> TokenStream {
        let text = format!("--wrt {}", self.names.join(","));
        let idents: Vec<syn::Ident> = match sources.lex("<command line>", &text) {
            Ok(tokens) => tokens
                .into_iter()
                .filter_map(|t| match t {
                    TokenTree::Ident(i) => Some(i),
                    _ => None,
                })
                .skip(1)
                .collect(),
            Err(_) => self
                .names
                .iter()
                .map(|n| quote::format_ident!("{}", n))
                .collect(),
        };
        wrt_tokens(&idents)
    }
}

fn wrt_tokens(names: &[syn::Ident]) -> TokenStream {
    match names {
        [one] => quote!(wrt = #one),
        many => quote!(wrt = (#(#many),*)),
    }
}

/// Reads `FILE`, or standard input for `-`: `(display name, text)`.
pub fn read(file: &str) -> Result<(String, String), String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(("<stdin>".into(), text))
    } else {
        let text =
            std::fs::read_to_string(file).map_err(|e| format!("cannot read `{file}`: {e}"))?;
        Ok((file.to_owned(), text))
    }
}

/// Why a file gives nothing to derive.
pub enum FileError {
    /// It is not Rust.
    Syntax(syn::Error),
    /// It has no function to derive (the message says why).
    Nothing(String),
}

/// The functions to derive in the file `name` with text `text`.
pub fn jobs_in_file(
    name: &str,
    text: &str,
    wrt: &WrtFlag,
    only: &[String],
    sources: &mut Sources,
) -> Result<Vec<Job>, FileError> {
    let tokens = sources.lex(name, text).map_err(FileError::Syntax)?;
    let file: syn::File = syn::parse2(tokens).map_err(FileError::Syntax)?;
    let mut fns = Vec::new();
    collect_fns(&file.items, &mut fns);

    if let Some(missing) = only
        .iter()
        .find(|n| !fns.iter().any(|f| f.sig.ident == n.as_str()))
    {
        return Err(FileError::Nothing(format!(
            "there is no function `{missing}` in {name} (its functions: {})",
            list(fns.iter().map(|f| f.sig.ident.to_string()))
        )));
    }
    let fns: Vec<syn::ItemFn> = fns
        .into_iter()
        .filter(|f| only.is_empty() || only.iter().any(|n| f.sig.ident == n.as_str()))
        .collect();

    let (annotated, plain): (Vec<_>, Vec<_>) =
        fns.into_iter().partition(|f| grad_attr(f).is_some());
    let mut jobs: Vec<(Span, Job)> = annotated.into_iter().map(annotated_job).collect();

    if !wrt.names.is_empty() {
        let has_all = |f: &syn::ItemFn| {
            wrt.names.iter().all(|n| {
                f.sig.inputs.iter().any(|arg| match arg {
                    syn::FnArg::Typed(t) => {
                        matches!(&*t.pat, syn::Pat::Ident(p) if p.ident == n.as_str())
                    }
                    syn::FnArg::Receiver(_) => false,
                })
            })
        };
        let picked: Vec<syn::ItemFn> = if !only.is_empty() || plain.len() == 1 {
            plain
        } else {
            let with: Vec<_> = plain.iter().filter(|f| has_all(f)).cloned().collect();
            if with.is_empty() && jobs.is_empty() {
                return Err(FileError::Nothing(format!(
                    "no function of {name} has the parameters {} (its functions: {}); pick one with --fn",
                    list(wrt.names.iter().map(|n| format!("`{n}`"))),
                    list(plain.iter().map(|f| f.sig.ident.to_string())),
                )));
            }
            with
        };
        for f in picked {
            let job = Job {
                name: f.sig.ident.to_string(),
                attr: wrt.tokens(sources),
                anchor: Some(f.sig.ident.span()),
                source: JobSource::Item(Box::new(f.clone())),
            };
            jobs.push((f.sig.ident.span(), job));
        }
        // In source order, whichever way each was picked.
        jobs.sort_by_key(|(span, _)| span.byte_range().start);
    }

    if jobs.is_empty() {
        return Err(FileError::Nothing(format!(
            "no function to derive in {name}: mark one with `#[grad(wrt = x)]`, or name its variables with `--wrt x`"
        )));
    }
    Ok(jobs.into_iter().map(|(_, j)| j).collect())
}

/// The functions of `items`, including those of inline modules.
fn collect_fns(items: &[syn::Item], out: &mut Vec<syn::ItemFn>) {
    for item in items {
        match item {
            syn::Item::Fn(f) => out.push(f.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_fns(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// The position of the `#[grad]` (or `#[matgrad::grad]`) attribute of `f`.
fn grad_attr(f: &syn::ItemFn) -> Option<usize> {
    f.attrs
        .iter()
        .position(|a| a.path().segments.last().is_some_and(|s| s.ident == "grad"))
}

/// The job of a function with its own `#[grad(..)]`: the attribute removed, as an
/// attribute macro receives its item.
fn annotated_job(mut f: syn::ItemFn) -> (Span, Job) {
    let at = grad_attr(&f).unwrap_or_default();
    let attr = f.attrs.remove(at);
    let args = match &attr.meta {
        syn::Meta::List(l) => l.tokens.clone(),
        syn::Meta::Path(_) => TokenStream::new(),
        syn::Meta::NameValue(nv) => quote!(#nv),
    };
    let job = Job {
        name: f.sig.ident.to_string(),
        attr: args,
        anchor: Some(attr.span()),
        source: JobSource::Item(Box::new(f.clone())),
    };
    (f.sig.ident.span(), job)
}

fn list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

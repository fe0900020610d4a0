//! The function's signature: parameters, their kinds, the float type.

use crate::ctxt::Ctxt;
use crate::ir::{Float, Kind};
use crate::symbol::MATRIX_TYPES;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, GenericArgument, Ident, Pat, PathArguments, ReturnType, Type};

/// One parameter of the annotated function.
#[derive(Clone)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its type as written.
    pub ty: Type,
    /// Whether it is taken by shared reference.
    pub by_ref: bool,
    /// Scalar or matrix, with the matrix's shape.
    pub kind: Kind,
    /// The owned type (the type of its gradient): the written type without `&`.
    pub owned: TokenStream,
    /// Whether it was declared `mut x` (an error already reported).
    pub mutable: bool,
}

/// The parts of a signature matgrad uses.
pub struct Signature {
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// The float type shared by every parameter and the result.
    pub float: Float,
}

/// Reads and checks the signature, reporting every problem to `cx`. `None` when the
/// parameters or the result cannot be read; `Some` after errors that leave them
/// known (`async fn`, `mut x`), so the companions can still be declared.
pub fn parse(cx: &mut Ctxt, sig: &syn::Signature) -> Option<Signature> {
    if let Some(c) = &sig.constness {
        cx.error_spanned_by(c, "`const fn` is not supported by #[grad]: nalgebra's matrix operations are not const; remove `const`");
    }
    if let Some(a) = &sig.asyncness {
        cx.error_spanned_by(
            a,
            "`async fn` is not supported by #[grad]: a loss is a plain function; remove `async`",
        );
    }
    if let Some(u) = &sig.unsafety {
        cx.error_spanned_by(u, "`unsafe fn` is not supported by #[grad]: the body must be plain matrix code; remove `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(
            abi,
            "`extern` functions are not supported by #[grad]: remove the ABI",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &sig.generics,
            "generic parameters are not supported by #[grad]: write the concrete types, e.g. `&DMatrix<f64>`",
        );
    }
    // The types that use a generic parameter (`DMatrix<T>`, `-> T`) are the same
    // mistake as the generics: they are not reported again.
    let generic_names: Vec<String> = sig
        .generics
        .params
        .iter()
        .filter_map(|g| match g {
            syn::GenericParam::Type(t) => Some(t.ident.to_string()),
            syn::GenericParam::Const(c) => Some(c.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let generic = |ty: &Type| mentions(&quote!(#ty), &generic_names);
    // Set by the errors after which the parameters or the result are unknown; the
    // others (`async`, `const`, `mut x`) leave the companions' signatures known.
    let mut fatal = !generic_names.is_empty() || sig.generics.where_clause.is_some();
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "variadic functions are not supported by #[grad]");
        fatal = true;
    }

    let mut floats: Vec<(Float, &Type)> = Vec::new();
    let mut params = Vec::new();
    for input in &sig.inputs {
        let mut mutable = false;
        match input {
            FnArg::Receiver(r) => {
                fatal = true;
                cx.error_spanned_by(
                    r,
                    "methods are not supported by #[grad]: `self` cannot be differentiated; write a free function taking the matrices as parameters",
                );
            }
            FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        if let Some(m) = &pi.mutability {
                            mutable = true;
                            cx.error_spanned_by(
                                m,
                                "`mut` parameters are not supported by #[grad]: the body must not modify its inputs; remove `mut`",
                            );
                        }
                        pi.ident.clone()
                    }
                    other => {
                        fatal = true;
                        cx.error_spanned_by(
                            other,
                            "patterns in parameters are not supported by #[grad]: use a plain name such as `x: &DMatrix<f64>`",
                        );
                        continue;
                    }
                };
                match param_type(&pt.ty) {
                    Ok((kind, float, by_ref, owned)) => {
                        floats.push((float, &pt.ty));
                        params.push(Param {
                            name,
                            ty: (*pt.ty).clone(),
                            by_ref,
                            kind,
                            owned,
                            mutable,
                        });
                    }
                    Err(_) if generic(&pt.ty) => fatal = true,
                    Err(e) => {
                        fatal = true;
                        cx.syn_error(e);
                    }
                }
            }
        }
    }

    let ret = match &sig.output {
        ReturnType::Default => {
            fatal = true;
            cx.error_spanned_by(
                &sig.ident,
                "a #[grad] function must return its scalar value: add `-> f64` (or `-> f32`)",
            );
            None
        }
        ReturnType::Type(_, ty) => match scalar_type(ty) {
            Some(f) => {
                floats.push((f, ty));
                Some(f)
            }
            None if generic(ty) => {
                fatal = true;
                None
            }
            None => {
                fatal = true;
                cx.error_spanned_by(
                    ty,
                    "a #[grad] function must return a scalar `f64` or `f32`: gradients are taken of scalar losses; reduce a matrix with `.sum()`, `.norm_squared()` or `[(0, 0)]`",
                );
                None
            }
        },
    };

    let float = ret
        .or_else(|| floats.first().map(|f| f.0))
        .unwrap_or(Float::F64);
    // Parameters that agree with each other but not with the result: one mistake,
    // reported once, at the result.
    let n_params = floats.len() - usize::from(ret.is_some());
    let param_floats = floats.get(..n_params).unwrap_or_default();
    if let (Some(r), ReturnType::Type(_, ret_ty), Some(&(p, _))) =
        (ret, &sig.output, param_floats.first())
    {
        if p != r && param_floats.iter().all(|(f, _)| *f == p) {
            cx.error_spanned_by(
                ret_ty,
                format!(
                    "mixed float types: this function returns `{}` but its parameters are `{}`; a #[grad] function uses one float type throughout: write `-> {}`",
                    r.name(),
                    p.name(),
                    p.name()
                ),
            );
            return None;
        }
    }
    for (f, ty) in &floats {
        if *f != float {
            fatal = true;
            cx.error_spanned_by(
                ty,
                format!(
                    "mixed float types: this is `{}` but the function works in `{}`; a #[grad] function uses one float type throughout",
                    f.name(),
                    float.name()
                ),
            );
        }
    }

    if fatal {
        return None;
    }
    Some(Signature { params, float })
}

/// Whether the tokens of `ts` name any of `names` (a generic parameter).
fn mentions(ts: &TokenStream, names: &[String]) -> bool {
    ts.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), names),
        _ => false,
    })
}

/// Kind, float, by-reference flag and owned type of a parameter type.
fn param_type(ty: &Type) -> syn::Result<(Kind, Float, bool, TokenStream)> {
    let (inner, by_ref) = match ungrouped(ty) {
        Type::Reference(r) => {
            if let Some(m) = &r.mutability {
                return Err(syn::Error::new_spanned(
                    m,
                    "`&mut` parameters are not supported by #[grad]: the loss must not modify its inputs; take `&` instead",
                ));
            }
            (ungrouped(&r.elem), true)
        }
        other => (other, false),
    };
    if let Some(f) = scalar_type(inner) {
        return Ok((Kind::Scalar, f, by_ref, quote!(#inner)));
    }
    if let Type::Path(tp) = inner {
        if tp.qself.is_none() {
            if let Some(last) = tp.path.segments.last() {
                let name = last.ident.to_string();
                if let Some((_, shape)) = MATRIX_TYPES.iter().find(|(n, _)| *n == name) {
                    let float = match &last.arguments {
                        PathArguments::AngleBracketed(ab) if ab.args.len() == 1 => {
                            match ab.args.first() {
                                Some(GenericArgument::Type(t)) => scalar_type(t),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    return match float {
                        Some(f) => Ok((Kind::Matrix(*shape), f, by_ref, quote!(#inner))),
                        None => Err(syn::Error::new_spanned(
                            &last.arguments,
                            format!("`{name}` needs a float element type: write `{name}<f64>` or `{name}<f32>`"),
                        )),
                    };
                }
            }
        }
    }
    Err(syn::Error::new_spanned(
        ty,
        "unsupported parameter type for #[grad]: use `DMatrix<T>`, `DVector<T>`, `RowDVector<T>` or `T`, by value or by `&`, with `T` = f64 or f32",
    ))
}

/// `ty` without the invisible group a `macro_rules!` `$t:ty` wraps it in, or
/// parentheses.
fn ungrouped(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungrouped(&g.elem),
        Type::Paren(p) => ungrouped(&p.elem),
        other => other,
    }
}

/// `Some(float)` when `ty` is `f32` or `f64`.
fn scalar_type(ty: &Type) -> Option<Float> {
    let Type::Path(tp) = ungrouped(ty) else {
        return None;
    };
    let id: &Ident = tp.path.get_ident()?;
    if id == "f64" {
        Some(Float::F64)
    } else if id == "f32" {
        Some(Float::F32)
    } else {
        None
    }
}

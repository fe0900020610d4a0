//! The function's signature: parameters, their kinds, the float type.

use crate::ctxt::Ctxt;
use crate::ir::{Dim, Float, Kind, Shape};
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
    /// Whether it is a `usize` (a count: sizes and indices, no gradient).
    pub count: bool,
    /// Whether it is a `bool` (a flag: the condition of an `if`, no gradient).
    pub flag: bool,
}

/// The parts of a signature matgrad uses.
pub struct Signature {
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// The float type shared by every parameter and the result.
    pub float: Float,
}

impl Signature {
    /// Whether every matrix parameter has a static size (`Matrix3<f64>`,
    /// `SVector<f64, 6>`), and there is one: the function is for the static backend.
    /// A function mixing static and dynamic sizes goes to the dynamic one.
    pub fn is_static(&self) -> bool {
        let shapes = self.params.iter().filter_map(|p| match p.kind {
            Kind::Matrix(s) => Some(s),
            Kind::Scalar => None,
        });
        let mut any = false;
        for s in shapes {
            if !s.is_static() {
                return false;
            }
            any = true;
        }
        any
    }
}

/// Reads and checks the signature, reporting every problem to `cx`. `None` when the
/// parameters or the result cannot be read; `Some` after errors that leave them
/// known (`async fn`, `mut x`), so the companions can still be declared.
pub fn parse(cx: &mut Ctxt, sig: &syn::Signature) -> Option<Signature> {
    check_qualifiers(cx, sig);
    // One type parameter is the float type (`fn f<T: RealField + Copy>`); any other
    // generic is refused, and the types that use it (`DMatrix<U>`) are the same
    // mistake: they are not reported again.
    let float_param = float_parameter(cx, sig);
    let generic_names = generic_names(sig, float_param.as_ref());
    let generic = |ty: &Type| mentions(&quote!(#ty), &generic_names);
    let fp = float_param.as_ref();
    // Set by the errors after which the parameters or the result are unknown; the
    // others (`async`, `const`, `mut x`) leave the companions' signatures known.
    let mut fatal = !generic_names.is_empty();
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "variadic functions are not supported by #[grad]");
        fatal = true;
    }

    let mut floats: Vec<(Float, &Type)> = Vec::new();
    let mut params = Vec::new();
    for input in &sig.inputs {
        match parse_param(cx, input, &generic, fp) {
            Some((param, float, ty)) => {
                floats.extend(float.map(|f| (f, ty)));
                params.push(param);
            }
            None => fatal = true,
        }
    }
    let ret = parse_result(cx, sig, &generic, fp);
    match &ret {
        Some(f) => {
            if let ReturnType::Type(_, ty) = &sig.output {
                floats.push((f.clone(), ty));
            }
        }
        None => fatal = true,
    }

    let float = ret
        .clone()
        .or_else(|| floats.first().map(|f| f.0.clone()))
        .unwrap_or(Float::F64);
    if !check_floats(cx, sig, ret.as_ref(), &float, &floats, &mut fatal) {
        return None;
    }
    if fatal {
        return None;
    }
    Some(Signature { params, float })
}

/// Reports `const`, `async`, `unsafe`, `extern` and generics, which #[grad] refuses.
fn check_qualifiers(cx: &mut Ctxt, sig: &syn::Signature) {
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
}

/// The generic float parameter: the one type parameter of `fn f<T: RealField + Copy>`
/// (bounds there or in a `where` clause; rustc checks them on the function itself).
/// Any other generic parameter (a second type, a const size) is reported; lifetimes
/// are allowed.
fn float_parameter(cx: &mut Ctxt, sig: &syn::Signature) -> Option<Ident> {
    let mut float = None;
    for g in &sig.generics.params {
        match g {
            syn::GenericParam::Lifetime(_) => {}
            syn::GenericParam::Type(t) if float.is_none() => float = Some(t.ident.clone()),
            syn::GenericParam::Type(t) => cx.error_spanned_by(
                t,
                format!(
                    "a #[grad] function can be generic over its float type only: `{}` is a second type parameter; use one `T: RealField + Copy` for every matrix and scalar",
                    t.ident
                ),
            ),
            syn::GenericParam::Const(c) => cx.error_spanned_by(
                c,
                format!(
                    "const generic sizes are not supported by #[grad]: `{}` cannot size a matrix; write the size (`SMatrix<T, 3, 3>`) or use a dynamic `DMatrix<T>`",
                    c.ident
                ),
            ),
        }
    }
    float
}

/// The names of the signature's type and const generic parameters other than the
/// float parameter `float` (each already reported).
fn generic_names(sig: &syn::Signature, float: Option<&Ident>) -> Vec<String> {
    sig.generics
        .params
        .iter()
        .filter_map(|g| match g {
            syn::GenericParam::Type(t) => Some(&t.ident),
            syn::GenericParam::Const(c) => Some(&c.ident),
            syn::GenericParam::Lifetime(_) => None,
        })
        .filter(|i| Some(*i) != float)
        .map(ToString::to_string)
        .collect()
}

/// One parameter with its float and its type as written; `None` when it cannot be
/// read (reported, unless its type uses a generic parameter). A `mut x` is reported
/// and read.
fn parse_param<'a>(
    cx: &mut Ctxt,
    input: &'a FnArg,
    generic: &dyn Fn(&Type) -> bool,
    float: Option<&Ident>,
) -> Option<(Param, Option<Float>, &'a Type)> {
    let pt = match input {
        FnArg::Receiver(r) => {
            cx.error_spanned_by(
                r,
                "methods are not supported by #[grad]: `self` cannot be differentiated; write a free function taking the matrices as parameters",
            );
            return None;
        }
        FnArg::Typed(pt) => pt,
    };
    let mut mutable = false;
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
            cx.error_spanned_by(
                other,
                "patterns in parameters are not supported by #[grad]: use a plain name such as `x: &DMatrix<f64>`",
            );
            return None;
        }
    };
    for (ty, flag) in [("usize", false), ("bool", true)] {
        if let Some(by_ref) = plain_type(&pt.ty, ty) {
            let param = Param {
                name,
                ty: (*pt.ty).clone(),
                by_ref,
                kind: Kind::Scalar,
                owned: if flag { quote!(bool) } else { quote!(usize) },
                mutable,
                count: !flag,
                flag,
            };
            return Some((param, None, &pt.ty));
        }
    }
    match param_type(&pt.ty, float) {
        Ok((kind, float, by_ref, owned)) => {
            let param = Param {
                name,
                ty: (*pt.ty).clone(),
                by_ref,
                kind,
                owned,
                mutable,
                count: false,
                flag: false,
            };
            Some((param, Some(float), &pt.ty))
        }
        Err(_) if generic(&pt.ty) => None,
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

/// The float type of the result; `None` when it is none (reported, unless it uses
/// a generic parameter).
fn parse_result(
    cx: &mut Ctxt,
    sig: &syn::Signature,
    generic: &dyn Fn(&Type) -> bool,
    float: Option<&Ident>,
) -> Option<Float> {
    match &sig.output {
        ReturnType::Default => {
            cx.error_spanned_by(
                &sig.ident,
                "a #[grad] function must return its scalar value: add `-> f64` (or `-> f32`)",
            );
            None
        }
        ReturnType::Type(_, ty) => match scalar_type(ty, float) {
            Some(f) => Some(f),
            None if generic(ty) => None,
            None => {
                cx.error_spanned_by(
                    ty,
                    "a #[grad] function must return a scalar `f64` or `f32`: gradients are taken of scalar losses; reduce a matrix with `.sum()`, `.norm_squared()` or `[(0, 0)]`",
                );
                None
            }
        },
    }
}

/// Reports the floats (of the parameters, then of the result `ret`, in `floats`)
/// that are not `float`, setting `fatal`. Parameters that agree with each other but
/// not with the result are one mistake, reported once, at the result: then `false`,
/// the signature unread.
fn check_floats(
    cx: &mut Ctxt,
    sig: &syn::Signature,
    ret: Option<&Float>,
    float: &Float,
    floats: &[(Float, &Type)],
    fatal: &mut bool,
) -> bool {
    let n_params = floats.len() - usize::from(ret.is_some());
    let param_floats = floats.get(..n_params).unwrap_or_default();
    if let (Some(r), ReturnType::Type(_, ret_ty), Some((p, _))) =
        (ret, &sig.output, param_floats.first())
    {
        if p != r && param_floats.iter().all(|(f, _)| f == p) {
            cx.error_spanned_by(
                ret_ty,
                format!(
                    "mixed float types: this function returns `{}` but its parameters are `{}`; a #[grad] function uses one float type throughout: write `-> {}`",
                    r.name(),
                    p.name(),
                    p.name()
                ),
            );
            return false;
        }
    }
    for (f, ty) in floats {
        if f != float {
            *fatal = true;
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
    true
}

/// Whether the tokens of `ts` name any of `names` (a generic parameter).
fn mentions(ts: &TokenStream, names: &[String]) -> bool {
    ts.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), names),
        _ => false,
    })
}

/// `Some(by_ref)` for `name` or `&name` (`usize`: a count parameter; `bool`: a flag).
fn plain_type(ty: &Type, name: &str) -> Option<bool> {
    let (inner, by_ref) = match ungrouped(ty) {
        Type::Reference(r) if r.mutability.is_none() => (ungrouped(&r.elem), true),
        other => (other, false),
    };
    matches!(inner, Type::Path(p) if p.qself.is_none() && p.path.is_ident(name)).then_some(by_ref)
}

/// Kind, float, by-reference flag and owned type of a parameter type.
pub(crate) fn param_type(
    ty: &Type,
    generic: Option<&Ident>,
) -> syn::Result<(Kind, Float, bool, TokenStream)> {
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
    if let Some(f) = scalar_type(inner, generic) {
        return Ok((Kind::Scalar, f, by_ref, quote!(#inner)));
    }
    if let Type::Path(tp) = inner {
        if tp.qself.is_none() {
            if let Some(last) = tp.path.segments.last() {
                let name = last.ident.to_string();
                if let Some(found) = static_type(last, generic) {
                    let (shape, float) = found?;
                    return Ok((Kind::Matrix(shape), float, by_ref, quote!(#inner)));
                }
                if let Some((_, shape)) = MATRIX_TYPES.iter().find(|(n, _)| *n == name) {
                    let float = match &last.arguments {
                        PathArguments::AngleBracketed(ab) if ab.args.len() == 1 => {
                            match ab.args.first() {
                                Some(GenericArgument::Type(t)) => scalar_type(t, generic),
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
        "unsupported parameter type for #[grad]: use `DMatrix<T>`, `DVector<T>`, `RowDVector<T>`, a statically sized `SMatrix<T, R, C>`, `SVector<T, N>`, `Matrix3<T>`, `Vector3<T>`, … or `T`, by value or by `&`, with `T` = f64 or f32, or a count `usize`",
    ))
}

/// The shape and float of a statically sized nalgebra type: `SMatrix<T, R, C>`,
/// `SVector<T, N>`, `RowSVector<T, N>`, or an alias `MatrixN<T>`, `MatrixRxC<T>`,
/// `VectorN<T>`, `RowVectorN<T>` (N, R, C from 1 to 6, as nalgebra defines them).
/// `None` when `name` is none of these; an error when it is one, badly written.
fn static_type(
    seg: &syn::PathSegment,
    float_param: Option<&Ident>,
) -> Option<syn::Result<(Shape, Float)>> {
    let name = seg.ident.to_string();
    let name = name.as_str();
    let generic = match name {
        "SMatrix" => Some(2),
        "SVector" | "RowSVector" => Some(1),
        _ => None,
    };
    let alias = if generic.is_some() {
        None
    } else {
        Some(alias_shape(name)?)
    };
    let usage = match generic {
        Some(2) => format!("`{name}<f64, R, C>` with integer literals R and C"),
        Some(_) => format!("`{name}<f64, N>` with an integer literal N"),
        None => format!("`{name}<f64>` or `{name}<f32>`"),
    };
    let bad = |at: &dyn quote::ToTokens| {
        Some(Err(syn::Error::new_spanned(
            at,
            format!("`{name}` needs a float element type and literal sizes: write {usage}"),
        )))
    };
    let PathArguments::AngleBracketed(ab) = &seg.arguments else {
        return bad(seg);
    };
    let list: Vec<&GenericArgument> = ab.args.iter().collect();
    let want = 1 + generic.unwrap_or(0);
    if list.len() != want {
        return bad(ab);
    }
    let Some((&first, rest)) = list.split_first() else {
        return bad(ab);
    };
    let float = match first {
        GenericArgument::Type(t) => scalar_type(t, float_param),
        _ => None,
    };
    let Some(float) = float else {
        return bad(first);
    };
    let mut sizes = Vec::new();
    for a in rest {
        match size_literal(a) {
            Some(n) => sizes.push(n),
            None => return bad(*a),
        }
    }
    // `sizes` has as many entries as `generic` says (checked above).
    let (rows, cols) = match (name, alias, sizes.as_slice()) {
        (_, Some(rc), _) => rc,
        ("SMatrix", None, &[r, c]) => (r, c),
        ("SVector", None, &[n]) => (n, 1),
        (_, None, &[n]) => (1, n),
        _ => return bad(ab),
    };
    Some(Ok((
        Shape {
            rows: Dim::fixed(rows),
            cols: Dim::fixed(cols),
        },
        float,
    )))
}

/// `(rows, columns)` of nalgebra's aliases `Matrix3`, `Matrix2x3`, `Vector4`, `RowVector2`.
pub(crate) fn alias_shape(name: &str) -> Option<(usize, usize)> {
    let digit = |s: &str| -> Option<usize> {
        let n: usize = s.parse().ok()?;
        (s.len() == 1 && (1..=6).contains(&n)).then_some(n)
    };
    if let Some(n) = name.strip_prefix("RowVector") {
        return Some((1, digit(n)?));
    }
    if let Some(n) = name.strip_prefix("Vector") {
        return Some((digit(n)?, 1));
    }
    let rest = name.strip_prefix("Matrix")?;
    match rest.split_once('x') {
        Some((r, c)) => Some((digit(r)?, digit(c)?)),
        None => {
            let n = digit(rest)?;
            Some((n, n))
        }
    }
}

/// An integer literal size in a generic argument list (`3`, `{ 3 }`).
pub(crate) fn size_literal(a: &GenericArgument) -> Option<usize> {
    let e = match a {
        GenericArgument::Const(e) => e,
        _ => return None,
    };
    let e = match e {
        syn::Expr::Block(b) => match b.block.stmts.as_slice() {
            [syn::Stmt::Expr(e, None)] => e,
            _ => return None,
        },
        e => e,
    };
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
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

/// `Some(float)` when `ty` is `f32`, `f64` or the generic float parameter `generic`.
pub(crate) fn scalar_type(ty: &Type, generic: Option<&Ident>) -> Option<Float> {
    let Type::Path(tp) = ungrouped(ty) else {
        return None;
    };
    let id: &Ident = tp.path.get_ident()?;
    if Some(id) == generic {
        Some(Float::Generic(id.clone()))
    } else if id == "f64" {
        Some(Float::F64)
    } else if id == "f32" {
        Some(Float::F32)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(ty: &str) -> Option<(Option<usize>, Option<usize>)> {
        let ty: Type = syn::parse_str(ty).ok()?;
        match param_type(&ty, None) {
            Ok((Kind::Matrix(s), ..)) => Some((s.rows.size(), s.cols.size())),
            _ => None,
        }
    }

    #[test]
    fn static_types_and_their_shapes() {
        let cases = [
            ("Matrix3<f64>", (Some(3), Some(3))),
            ("&nalgebra::Matrix2x3<f32>", (Some(2), Some(3))),
            ("na::Matrix1<f64>", (Some(1), Some(1))),
            ("Vector6<f64>", (Some(6), Some(1))),
            ("&RowVector4<f64>", (Some(1), Some(4))),
            ("SMatrix<f64, 4, 2>", (Some(4), Some(2))),
            ("&nalgebra::SVector<f64, 7>", (Some(7), Some(1))),
            ("RowSVector<f64, 5>", (Some(1), Some(5))),
            ("DMatrix<f64>", (None, None)),
            ("DVector<f64>", (None, Some(1))),
        ];
        for (ty, want) in cases {
            assert_eq!(shape_of(ty), Some(want), "{ty}");
        }
        for bad in [
            "Matrix7<f64>",
            "Matrix3<i32>",
            "SMatrix<f64, 3, N>",
            "SMatrix<f64, 3>",
            "Matrix3",
            "Vector0<f64>",
            "Matrix3x<f64>",
        ] {
            assert_eq!(shape_of(bad), None, "{bad}");
        }
    }
}

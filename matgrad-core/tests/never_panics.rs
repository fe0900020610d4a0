//! The macro never panics (SPEC §5): `matgrad_core::expand` returns tokens, an
//! expansion or `compile_error!`s, whatever it is given. Four properties feed it:
//!
//! 1. random token streams (identifiers, punctuation, literals and groups nested up
//!    to depth 3) as the attribute and as the item;
//! 2. a valid attribute and signature around a random body;
//! 3. random mutations (delete, duplicate, swap, replace, insert a token, at any
//!    depth) of valid annotated functions from the SPEC examples;
//! 4. random well-formed programs in (and just outside) matgrad's language, which
//!    reach the differentiation, the simplifier and the emitter; when one is
//!    accepted, the tools' views of it (`formulas`, `latex`, `definitions`, `steps`,
//!    and with second order the Hessian's structure and formula and the tangent
//!    sweep) must not panic either.
//!
//! Whenever the item is a function, the expansion must also parse as Rust items
//! (the user's crate then sees matgrad's errors, not a syntax error).
//!
//! `MATGRAD_FUZZ_CASES` cases in all (default 10 000: about 4 s in a debug build on
//! two cores), shared 30/25/25/20 % among the four properties. The long run, a
//! million cases (about 90 s in release on two cores; any larger count works):
//!
//! ```text
//! MATGRAD_FUZZ_CASES=1000000 cargo test --release -p matgrad-core --test never_panics
//! ```
//!
//! A failure prints the input (shrunk by proptest) and the panic message; proptest
//! records its seed under `tests/never_panics.proptest-regressions`, so that the
//! next run tries it first.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The total number of cases, `MATGRAD_FUZZ_CASES` (default 10 000).
fn total_cases() -> u32 {
    std::env::var("MATGRAD_FUZZ_CASES")
        .ok()
        .and_then(|s| s.trim().replace('_', "").parse().ok())
        .unwrap_or(10_000)
}

/// A property's share (in percent) of the total.
fn config(percent: u32) -> ProptestConfig {
    let cases =
        u32::try_from(u64::from(total_cases()) * u64::from(percent) / 100).unwrap_or(u32::MAX);
    ProptestConfig {
        // ChaCha, proptest's default generator, dominates the time of a debug run;
        // XorShift is plenty for fuzzing and several times faster.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        max_shrink_iters: 4096,
        ..ProptestConfig::with_cases(cases.max(1))
    }
}

// ---------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-string panic payload)".to_owned())
}

/// `expand(attr, item)` returns without panicking, and, when `item` is a function,
/// its expansion parses as Rust items.
fn check(attr: &TokenStream, item: &TokenStream) -> Result<(), TestCaseError> {
    // A function whose own syn printing parses back (a `self` in an invisible group,
    // as `macro_rules!` makes, does not: `&〈self〉<f64>` prints as the receiver `&self`).
    let is_fn = syn::parse2::<syn::ItemFn>(item.clone())
        .is_ok_and(|f| syn::parse2::<syn::File>(quote::quote!(#f)).is_ok());
    let (a, i) = (attr.clone(), item.clone());
    let out = catch_unwind(AssertUnwindSafe(move || matgrad_core::expand(a, i)));
    let out = out.map_err(|p| {
        TestCaseError::fail(format!(
            "expand panicked: {}\n  attr: {attr}\n  item: {item}",
            panic_message(&*p)
        ))
    })?;
    if is_fn {
        if let Err(e) = syn::parse2::<syn::File>(out.clone()) {
            return Err(TestCaseError::fail(format!(
                "the expansion of a function is not valid Rust ({e})\n  attr: {attr}\n  item: {item}\n  expansion: {out}"
            )));
        }
    }
    Ok(())
}

/// Parses `src` as the attribute `#[grad(ATTR)]` and its function, then runs the
/// tools' views of the derivation when it succeeds.
fn check_tools(attr: &TokenStream, item: &TokenStream) -> Result<(), TestCaseError> {
    let Ok(f) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        return Ok(());
    };
    let a = attr.clone();
    let out = catch_unwind(AssertUnwindSafe(move || {
        if let Ok(d) = matgrad_core::derive(a, &f) {
            let _ = (d.formulas(), d.latex(), d.definitions(), d.steps());
            // Second order: the Hessian's structure, its formula, the tangent sweep.
            let _ = (
                d.hessian_vector_products(),
                d.hessian_plan(),
                d.hessian_formula(),
                d.tangent_steps(),
            );
        }
    }));
    out.map_err(|p| {
        TestCaseError::fail(format!(
            "derive or a view of it panicked: {}\n  attr: {attr}\n  item: {item}",
            panic_message(&*p)
        ))
    })
}

// ---------------------------------------------------------------------------
// Token trees
// ---------------------------------------------------------------------------

/// A token tree that can be generated, shrunk and printed.
#[derive(Clone, Debug)]
enum Tok {
    Ident(&'static str),
    Raw(&'static str),
    Punct(char, bool),
    Lifetime(&'static str),
    Lit(&'static str),
    Group(u8, Vec<Tok>),
    /// A token read from a seed.
    Tree(TokenTree),
}

const IDENTS: &[&str] = &[
    "wrt",
    "fn",
    "pub",
    "let",
    "mut",
    "if",
    "else",
    "match",
    "for",
    "in",
    "while",
    "loop",
    "return",
    "async",
    "unsafe",
    "const",
    "self",
    "Self",
    "impl",
    "where",
    "move",
    "ref",
    "as",
    "dyn",
    "crate",
    "super",
    "extern",
    "x",
    "w",
    "y",
    "z",
    "a",
    "b",
    "v",
    "s",
    "t",
    "_",
    "DMatrix",
    "DVector",
    "RowDVector",
    "Matrix3",
    "f64",
    "f32",
    "i32",
    "usize",
    "Vec",
    "Option",
    "map",
    "sum",
    "mean",
    "norm",
    "norm_squared",
    "transpose",
    "component_mul",
    "component_div",
    "dot",
    "trace",
    "determinant",
    "try_inverse",
    "unwrap",
    "expect",
    "kronecker",
    "add_scalar",
    "scale",
    "clone",
    "powi",
    "powf",
    "ln",
    "exp",
    "sqrt",
    "tanh",
    "max",
    "min",
    "abs",
    "recip",
    "sigmoid",
    "relu",
    "softplus",
    "add_row",
    "add_col",
    "ln_det",
    "log_sum_exp",
    "softmax_cross_entropy",
    "matgrad",
    "grad",
    "nalgebra",
    "na",
    "std",
    "core",
    "consts",
    "PI",
    "f",
    "loss",
    "lower_triangle",
    "println",
    "dbg",
    "__mg_v0",
    "ws",
];

const RAW_IDENTS: &[&str] = &["match", "fn", "wrt", "x", "map"];

const PUNCTS: &[char] = &[
    '=', '<', '>', '!', '~', '+', '-', '*', '/', '%', '^', '&', '|', '@', '.', ',', ';', ':', '#',
    '$', '?',
];

const LITERALS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "0.0",
    "0.5",
    "2.0",
    "-2.5",
    "1e300",
    "1e999",
    "1e-400",
    "0.1f32",
    "2f64",
    "3usize",
    "4i32",
    "99999999999999999999999999",
    "0x10",
    "1_000.0",
    "\"w\"",
    "\"\"",
    "'c'",
    "b\"x\"",
    "b'x'",
    "c\"x\"",
    "r\"raw\"",
    "2.",
    "1e10",
];

fn leaf() -> impl Strategy<Value = Tok> {
    prop_oneof![
        8 => prop::sample::select(IDENTS).prop_map(Tok::Ident),
        1 => prop::sample::select(RAW_IDENTS).prop_map(Tok::Raw),
        6 => (prop::sample::select(PUNCTS), any::<bool>()).prop_map(|(c, j)| Tok::Punct(c, j)),
        1 => prop::sample::select(&["a", "static", "_"][..]).prop_map(Tok::Lifetime),
        3 => prop::sample::select(LITERALS).prop_map(Tok::Lit),
    ]
}

/// Token trees nested up to depth 3.
fn tok() -> impl Strategy<Value = Tok> {
    leaf().prop_recursive(3, 48, 8, |inner| {
        (0u8..4, prop::collection::vec(inner, 0..8)).prop_map(|(d, v)| Tok::Group(d, v))
    })
}

fn delimiter(d: u8) -> Delimiter {
    match d % 4 {
        0 => Delimiter::Parenthesis,
        1 => Delimiter::Bracket,
        2 => Delimiter::Brace,
        _ => Delimiter::None,
    }
}

fn to_tokens(toks: &[Tok]) -> TokenStream {
    let mut out = TokenStream::new();
    for t in toks {
        let tree: Vec<TokenTree> = match t {
            Tok::Ident(s) => vec![Ident::new(s, Span::call_site()).into()],
            Tok::Raw(s) => vec![Ident::new_raw(s, Span::call_site()).into()],
            Tok::Punct(c, joint) => {
                let spacing = if *joint {
                    Spacing::Joint
                } else {
                    Spacing::Alone
                };
                vec![Punct::new(*c, spacing).into()]
            }
            Tok::Lifetime(name) => vec![
                Punct::new('\'', Spacing::Joint).into(),
                Ident::new(name, Span::call_site()).into(),
            ],
            Tok::Lit(s) => match s.parse::<Literal>() {
                Ok(l) => vec![l.into()],
                Err(_) => vec![Literal::string(s).into()],
            },
            Tok::Group(d, inner) => vec![Group::new(delimiter(*d), to_tokens(inner)).into()],
            Tok::Tree(tt) => vec![tt.clone()],
        };
        out.extend(tree);
    }
    out
}

/// A token stream as a tree of `Tok`s, groups opened so that mutations reach inside.
fn from_tokens(ts: TokenStream) -> Vec<Tok> {
    ts.into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let d = match g.delimiter() {
                    Delimiter::Parenthesis => 0,
                    Delimiter::Bracket => 1,
                    Delimiter::Brace => 2,
                    Delimiter::None => 3,
                };
                Tok::Group(d, from_tokens(g.stream()))
            }
            other => Tok::Tree(other),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Edit {
    Delete,
    Duplicate,
    /// Swap with the sibling at this index (modulo the number of siblings).
    Swap(usize),
    Replace(Tok),
    Insert(Tok),
}

/// An edit of the `at`-th token (in preorder, modulo the count) of the attribute or
/// of the item.
#[derive(Clone, Debug)]
struct Mutation {
    in_attr: bool,
    at: usize,
    edit: Edit,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let edit = prop_oneof![
        3 => Just(Edit::Delete),
        2 => Just(Edit::Duplicate),
        2 => any::<usize>().prop_map(Edit::Swap),
        3 => tok().prop_map(Edit::Replace),
        2 => tok().prop_map(Edit::Insert),
    ];
    (prop::bool::weighted(0.15), any::<usize>(), edit).prop_map(|(in_attr, at, edit)| Mutation {
        in_attr,
        at,
        edit,
    })
}

fn count(toks: &[Tok]) -> usize {
    toks.iter()
        .map(|t| match t {
            Tok::Group(_, inner) => 1 + count(inner),
            _ => 1,
        })
        .sum()
}

/// Applies `edit` to the `k`-th token in preorder; returns whether it was found.
fn apply(toks: &mut Vec<Tok>, k: &mut usize, edit: &Edit) -> bool {
    for i in 0..toks.len() {
        if *k == 0 {
            match edit {
                Edit::Delete => {
                    toks.remove(i);
                }
                Edit::Duplicate => {
                    let t = toks[i].clone();
                    toks.insert(i, t);
                }
                Edit::Swap(j) => {
                    let j = j % toks.len();
                    toks.swap(i, j);
                }
                Edit::Replace(t) => toks[i] = t.clone(),
                Edit::Insert(t) => toks.insert(i, t.clone()),
            }
            return true;
        }
        *k -= 1;
        if let Tok::Group(_, inner) = &mut toks[i] {
            if apply(inner, k, edit) {
                return true;
            }
        }
    }
    false
}

fn mutate(toks: &mut Vec<Tok>, at: usize, edit: &Edit) {
    let n = count(toks);
    if n == 0 {
        if let Edit::Replace(t) | Edit::Insert(t) = edit {
            toks.push(t.clone());
        }
        return;
    }
    let mut k = at % n;
    apply(toks, &mut k, edit);
}

/// Valid annotated functions, from the SPEC examples: (attribute, function).
const SEEDS: &[(&str, &str)] = &[
    (
        "wrt = w",
        "pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
            let z = x * w;
            let a = z.map(|v| v.tanh());
            (a - y).norm_squared()
        }",
    ),
    (
        "wrt = (w1, b1, w2, b2)",
        "pub fn loss(x: &DMatrix<f64>, y: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>,
                     w2: &DMatrix<f64>, b2: &RowDVector<f64>) -> f64 {
            let h = relu(&add_row(&(x * w1), b1));
            let z = add_row(&(h * w2), b2);
            softmax_cross_entropy(&z, y)
        }",
    ),
    (
        "wrt = p",
        "fn log_likelihood(p: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
            ln_det(p) - (s * p).trace()
        }",
    ),
    (
        "wrt = (a, s, t)",
        "fn f(a: DMatrix<f64>, s: f64, t: &f64) -> f64 {
            let u = *t;
            let b = a.map(|v| (v * s).sin() + u * v.powi(2) - (v / s).exp().max(0.5));
            return b.dot(&a) * (s * u).sqrt().ln() + a.scale(s).add_scalar(u).trace();
        }",
    ),
    (
        "wrt = (a, b)",
        "fn k(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
            let k = a.kronecker(&b);
            let i = a.clone().try_inverse().expect(\"singular\");
            k.norm() + i.component_div(b).sum() + a.determinant()
        }",
    ),
    (
        "wrt = x",
        "fn quad(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
            (x.transpose() * a * x)[(0, 0)]
        }",
    ),
    (
        "wrt = (w, b)",
        "fn logistic(x: &DMatrix<f32>, s: &DVector<f32>, w: &DVector<f32>, b: f32, lambda: f32) -> f32 {
            let margin = (x * w).add_scalar(b).component_mul(s);
            softplus(&(-margin)).sum() + lambda * w.norm_squared() / 2.0 + LAMBDA * std::f32::consts::PI
        }",
    ),
    (
        "wrt = (a, c)",
        "fn r(a: &nalgebra::DMatrix<f64>, c: &na::DVector<f64>) -> f64 {
            let b = matgrad::add_col(a, c);
            sigmoid(&b).sum() + log_sum_exp(&b) + b.transpose().mean() * a[(1, 0)]
        }",
    ),
];

fn seed() -> impl Strategy<Value = (Vec<Tok>, Vec<Tok>)> {
    prop::sample::select(SEEDS).prop_map(|(a, i)| {
        let attr: TokenStream = a.parse().unwrap_or_default();
        let item: TokenStream = i.parse().unwrap_or_default();
        (from_tokens(attr), from_tokens(item))
    })
}

// ---------------------------------------------------------------------------
// Well-formed programs
// ---------------------------------------------------------------------------

const PARAMS: &[(&str, &str)] = &[
    ("a", "&DMatrix<f64>"),
    ("b", "&DMatrix<f64>"),
    ("c", "&DVector<f64>"),
    ("r", "RowDVector<f64>"),
    ("s", "f64"),
    ("t", "&f64"),
];

/// The same names with static sizes (the static backend, and static shape errors:
/// `a * c` is 3×3 times 2×1).
const STATIC_PARAMS: &[(&str, &str)] = &[
    ("a", "&Matrix3<f64>"),
    ("b", "&SMatrix<f64, 3, 3>"),
    ("c", "&Vector2<f64>"),
    ("r", "RowVector3<f64>"),
    ("s", "f64"),
    ("t", "&f64"),
];

/// A random expression over `names`, as source text.
fn expr(names: Vec<String>, depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        6 => prop::sample::select(names.clone()),
        2 => prop::sample::select(&["0.5", "2.0", "0.0", "1e300", "1e-320", "3", "std::f64::consts::PI", "LAMBDA"][..])
            .prop_map(str::to_owned),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let sub = || expr(names.clone(), depth - 1);
    const UNARY: &[&str] = &[
        "transpose()",
        "sum()",
        "mean()",
        "norm()",
        "norm_squared()",
        "trace()",
        "determinant()",
        "clone()",
        "try_inverse().unwrap()",
        "try_inverse().expect(\"m\")",
        "try_inverse()",
        "ln()",
        "exp()",
        "sqrt()",
        "tanh()",
        "abs()",
        "recip()",
        "ln_1p()",
        "powi(2)",
        "powi(-1)",
        "powi(0)",
        "lower_triangle()",
        "unwrap()",
    ];
    const BINARY: &[&str] = &[
        "component_mul",
        "component_div",
        "dot",
        "kronecker",
        "add_scalar",
        "scale",
        "max",
        "min",
        "powf",
    ];
    const FUNCS1: &[&str] = &[
        "sigmoid",
        "relu",
        "softplus",
        "ln_det",
        "log_sum_exp",
        "matgrad::sigmoid",
    ];
    const FUNCS2: &[&str] = &["add_row", "add_col", "softmax_cross_entropy"];
    prop_oneof![
        3 => leaf,
        4 => (sub(), prop::sample::select(&["+", "-", "*", "/"][..]), sub())
            .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
        1 => sub().prop_map(|e| format!("(-{e})")),
        4 => (sub(), prop::sample::select(UNARY)).prop_map(|(e, m)| format!("({e}).{m}")),
        3 => (sub(), prop::sample::select(BINARY), sub(), any::<bool>())
            .prop_map(|(e, m, a, r)| format!("({e}).{m}({}{a})", if r { "&" } else { "" })),
        2 => (sub(), closure(names.clone(), 2)).prop_map(|(e, c)| format!("({e}).map(|v| {c})")),
        1 => (sub(), 0usize..3, 0usize..3).prop_map(|(e, i, j)| format!("({e})[({i}, {j})]")),
        2 => (prop::sample::select(FUNCS1), sub()).prop_map(|(f, e)| format!("{f}(&{e})")),
        2 => (prop::sample::select(FUNCS2), sub(), sub())
            .prop_map(|(f, e, g)| format!("{f}(&{e}, &{g})")),
    ]
    .boxed()
}

/// A random `map` closure body in `v`, capturing `names`.
fn closure(names: Vec<String>, depth: u32) -> BoxedStrategy<String> {
    let mut vars = vec!["v".to_owned(), "v".to_owned()];
    vars.extend(names.iter().cloned());
    let leaf = prop_oneof![
        4 => prop::sample::select(vars),
        2 => prop::sample::select(&["0.5", "2.0", "0.0", "1", "LAMBDA"][..]).prop_map(str::to_owned),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let sub = || closure(names.clone(), depth - 1);
    const METHODS: &[&str] = &[
        "ln()", "exp()", "sqrt()", "sin()", "cos()", "tan()", "tanh()", "sinh()", "cosh()",
        "abs()", "recip()", "ln_1p()", "exp_m1()", "powi(3)", "powi(-2)", "cbrt()",
    ];
    prop_oneof![
        2 => leaf,
        3 => (sub(), prop::sample::select(&["+", "-", "*", "/"][..]), sub())
            .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
        3 => (sub(), prop::sample::select(METHODS)).prop_map(|(e, m)| format!("({e}).{m}")),
        2 => (sub(), prop::sample::select(&["max", "min", "powf"][..]), sub())
            .prop_map(|(e, m, a)| format!("({e}).{m}({a})")),
        1 => sub().prop_map(|e| format!("(-{e})")),
    ]
    .boxed()
}

/// A function over `PARAMS` or `STATIC_PARAMS`, with or without `reassociate`, with
/// up to four `let`s (`l0`, `l1`, …; a name used
/// before its `let` is an outside constant) and a tail (or `return`), and a `wrt`
/// list of one to three names (possibly a `let` name, or twice the same), with or
/// without `reassociate` and `hvp, hessian`.
fn program() -> impl Strategy<Value = (String, String)> {
    let mut names: Vec<String> = PARAMS.iter().map(|(n, _)| (*n).to_owned()).collect();
    names.extend((0..4).map(|j| format!("l{j}")));
    let lets = prop::collection::vec(expr(names.clone(), 2), 0..5);
    let wrt = prop::collection::vec(
        prop::sample::select(&["a", "b", "c", "r", "s", "t", "l0"][..]),
        1..4,
    );
    let options = (any::<bool>(), any::<bool>(), any::<bool>());
    (lets, expr(names, 3), any::<bool>(), wrt, options).prop_map(
        |(steps, tail, ret, wrt, (fixed, reassociate, second))| {
            let params = if fixed { STATIC_PARAMS } else { PARAMS };
            let params: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            let mut body = String::new();
            for (k, e) in steps.iter().enumerate() {
                body.push_str(&format!("let l{k} = {e};\n"));
            }
            if ret {
                body.push_str(&format!("return {tail};"));
            } else {
                body.push_str(&tail);
            }
            let mut attr = if wrt.len() == 1 {
                format!("wrt = {}", wrt[0])
            } else {
                format!("wrt = ({})", wrt.join(", "))
            };
            if reassociate {
                attr.push_str(", reassociate");
            }
            // Second order: the tangent graph and its sweep (and, with several
            // variables, the `hessian` error).
            if second {
                attr.push_str(", hvp, hessian");
            }
            (
                attr,
                format!("fn f({}) -> f64 {{\n{body}\n}}", params.join(", ")),
            )
        },
    )
}

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(30))]
    #[test]
    fn random_tokens_never_panic(
        attr in prop::collection::vec(tok(), 0..6),
        item in prop::collection::vec(tok(), 0..24),
        as_fn in any::<bool>(),
    ) {
        let attr = to_tokens(&attr);
        let mut item = to_tokens(&item);
        if as_fn {
            // Random tokens after `fn`, so the item parser gets further.
            let mut f: TokenStream = "fn f".parse().unwrap_or_default();
            f.extend(item);
            item = f;
        }
        check(&attr, &item)?;
    }

}

proptest! {
    #![proptest_config(config(25))]
    #[test]
    fn random_bodies_never_panic(
        attr in prop_oneof![Just("wrt = w"), Just("wrt = (x, w)"), Just("wrt = s")],
        body in prop::collection::vec(tok(), 0..24),
    ) {
        let attr: TokenStream = attr.parse().unwrap_or_default();
        let mut item: TokenStream =
            "fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, s: f64)".parse().unwrap_or_default();
        let brace = Group::new(Delimiter::Brace, to_tokens(&body));
        let mut ret: TokenStream = "-> f64".parse().unwrap_or_default();
        ret.extend([TokenTree::Group(brace)]);
        item.extend(ret);
        check(&attr, &item)?;
    }

}

proptest! {
    #![proptest_config(config(25))]
    #[test]
    fn mutated_functions_never_panic(
        (attr, item) in seed(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let (mut attr, mut item) = (attr, item);
        for m in &mutations {
            let target = if m.in_attr { &mut attr } else { &mut item };
            mutate(target, m.at, &m.edit);
        }
        check(&to_tokens(&attr), &to_tokens(&item))?;
    }

}

proptest! {
    #![proptest_config(config(20))]
    #[test]
    fn random_programs_never_panic((attr, item) in program()) {
        let (attr, item): (TokenStream, TokenStream) =
            (attr.parse().unwrap_or_default(), item.parse().unwrap_or_default());
        check(&attr, &item)?;
        check_tools(&attr, &item)?;
    }
}

/// `#[jacobian(attr)] item` returns without panicking (in the mode the costs choose
/// and in each mode forced: the derivation, both sweeps, the docs' formulas), and its
/// expansion parses as Rust items.
fn check_jacobian(attr: &TokenStream, item: &TokenStream) -> Result<(), TestCaseError> {
    use matgrad_core::jacobian::{expand_forced, Force};
    for force in [None, Some(Force::Forward), Some(Force::Reverse)] {
        let (a, i) = (attr.clone(), item.clone());
        let out = catch_unwind(AssertUnwindSafe(move || expand_forced(a, i, false, force)));
        let out = out.map_err(|p| {
            TestCaseError::fail(format!(
                "jacobian::expand panicked: {}\n  attr: {attr}\n  item: {item}",
                panic_message(&*p)
            ))
        })?;
        if let Err(e) = syn::parse2::<syn::File>(out.clone()) {
            return Err(TestCaseError::fail(format!(
                "the Jacobian expansion is not valid Rust ({e})\n  attr: {attr}\n  item: {item}\n  expansion: {out}"
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(20))]
    #[test]
    fn random_jacobians_never_panic((attr, item) in program()) {
        // The same programs with a vector result: their tails are read as the
        // residuals, whatever they are (a scalar or a matrix is an error).
        let item = item.replace("-> f64", "-> DVector<f64>");
        let (attr, item): (TokenStream, TokenStream) =
            (attr.parse().unwrap_or_default(), item.parse().unwrap_or_default());
        check_jacobian(&attr, &item)?;
    }
}

/// The seeds themselves expand without errors, so the mutations start from
/// functions that reach every stage.
#[test]
fn the_seeds_are_accepted() {
    for (attr, item) in SEEDS {
        let f: syn::ItemFn = syn::parse_str(item).expect("a function");
        let attr: TokenStream = attr.parse().expect("tokens");
        if let Err(e) = matgrad_core::derive(attr, &f) {
            let errors: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
            panic!("seed rejected: {errors:?}\n{item}");
        }
    }
}

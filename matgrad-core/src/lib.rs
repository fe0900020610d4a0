//! The engine of matgrad: from an annotated function to its gradient.
//!
//! [`expand`] is the whole pipeline, and it reads as one:
//! parse the attribute and the signature, build the IR of the body (kinds inferred
//! on the way), differentiate it in reverse mode, emit Rust. Every stage reports to
//! one [`ctxt::Ctxt`], so a function with several problems gets every error at once,
//! and on any error the original function is still emitted, unchanged.
//!
//! This crate is plain (not a proc-macro crate) so that it can be tested, fuzzed
//! and reused by tools; `matgrad-macros` is a two-line shell around [`expand`] (and
//! around [`expand_with`] for the attribute its own test suites use).
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cost;
pub mod ctxt;
pub mod diff;
pub mod emit;
pub mod hessian_structure;
pub mod ir;
pub mod jacobian;
pub mod jacobian_structure;
pub mod parse;
pub mod rewrite;
pub mod rules;
pub mod simplify;
pub mod solve;
pub mod sym;
pub mod symbol;
pub mod tangent;

use ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;

/// Options set by the caller of [`expand_with`] or [`derive_with`], on top of what the
/// attribute's tokens say. The default changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Turn `reassociate` on whether or not the attribute writes it, as if it did.
    /// matgrad's test suites use it to run every finite-difference check a second
    /// time with the value rewrites on.
    pub reassociate: bool,
    /// Derive the gradient only, whatever `hvp`/`hessian` say (a function calling
    /// helpers, whose second order was already refused once).
    pub first_order: bool,
}

/// Expands `#[grad(attr)] item`: the item unchanged, then its companions, or the
/// errors (with the item and, where possible, companion signatures).
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_with(attr, item, Options::default())
}

/// [`expand`], with `options` applied on top of the attribute.
pub fn expand_with(attr: TokenStream, item: TokenStream, options: Options) -> TokenStream {
    let item_fn: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let msg = syn::Error::new(
                e.span(),
                "#[grad] applies to a function: `#[grad(wrt = w)] fn loss(...) -> f64 { ... }`",
            );
            let err = msg.to_compile_error();
            return quote!(#item #err);
        }
    };
    // A body that calls helpers (`dense(..)`): the function now, its companions
    // once `__grad_continue!` has collected the helpers' bodies.
    let mut state = parse::helper::State {
        reassociate: options.reassociate,
        hygiene: proc_macro2::Span::mixed_site(),
        attr: attr.clone(),
        item: item_fn.clone(),
        helpers: Vec::new(),
        pending: Vec::new(),
        pass: parse::helper::Pass::Grad,
    };
    state.discover(&item_fn.block);
    if !state.pending.is_empty() {
        if let Some(companions) = helper_companions(&attr, &item_fn, &mut state) {
            return quote!(#item #companions);
        }
    }
    // The user's own tokens, not a reprint of the parsed function: spans, spacing
    // and anything `syn` would normalise stay exactly as written.
    match derive_with(attr, &item_fn, options) {
        Ok(d) => {
            let companions = d.companions();
            let checks = emit::resolve::checks(&d.item.block);
            quote!(#item #companions #checks)
        }
        Err(failure) => {
            let errors: TokenStream = failure
                .errors
                .iter()
                .map(syn::Error::to_compile_error)
                .collect();
            let fallback = failure.fallback;
            if failure.ill_typed {
                let mut stub = item_fn.clone();
                *stub.block = syn::parse_quote!({
                    ::core::unreachable!("matgrad: this function was rejected at compile time")
                });
                stub.attrs
                    .push(syn::parse_quote!(#[allow(unused_variables)]));
                return quote!(#stub #errors #fallback);
            }
            quote!(#item #errors #fallback)
        }
    }
}

/// The companions of a function that calls helpers: their real signatures (read
/// here), with a `_grad_into` body that fetches the helpers and expands to the
/// derived body (see [`parse::helper`]). `None` when the attribute or the signature
/// has errors: the ordinary expansion reports them.
fn helper_companions(
    attr: &TokenStream,
    item: &syn::ItemFn,
    state: &mut parse::helper::State,
) -> Option<TokenStream> {
    let mut cx = Ctxt::new();
    let parsed = parse::attr::parse(&mut cx, attr.clone())?;
    let sig = parse::signature::parse(&mut cx, &item.sig)?;
    let wrt = resolve_wrt(&mut cx, &parsed, &sig);
    if cx.has_errors() || wrt.len() != parsed.wrt.len() {
        return None;
    }
    let wrt_params: Vec<&parse::signature::Param> =
        wrt.iter().filter_map(|&i| sig.params.get(i)).collect();
    // A run-time loop's step function also gets `_step_into` and `_back_into`, their
    // bodies derived the same way (from the state before any helper is fetched).
    let pass_state = |pass| parse::helper::State {
        pass,
        reassociate: state.reassociate,
        hygiene: state.hygiene,
        attr: state.attr.clone(),
        item: state.item.clone(),
        helpers: state.helpers.clone(),
        pending: state.pending.clone(),
    };
    // `hessian` builds on `_hvp_into` unless the Hessian has a structure, which is
    // known only once the helpers are inlined: hidden HVP companions then.
    let hessian_of_one = parsed.hessian.is_some() && wrt.len() == 1;
    let mut hvp_state =
        (parsed.hvp || hessian_of_one).then(|| pass_state(parse::helper::Pass::Hvp));
    let mut hessian_state = hessian_of_one.then(|| pass_state(parse::helper::Pass::Hessian));
    let mut step_states = (!parsed.step.is_empty()).then(|| {
        (
            pass_state(parse::helper::Pass::Step),
            pass_state(parse::helper::Pass::Back),
        )
    });
    let fetch = state.fetch_next()?;
    let doc = [
        " The gradients are derived through the `#[differentiable]` helpers and `#[custom_adjoint]` functions the body calls (formulas are not shown for such functions).".to_owned(),
    ];
    // (A step function gets only its two passes, below.)
    let companions = if parsed.step.is_empty() {
        emit::signatures(item, &sig, &wrt_params, &doc, &fetch, emit::Companion::Grad)
    } else {
        TokenStream::new()
    };
    let step = match step_states.as_mut() {
        Some((step, back)) => {
            let (ssig, swrt, results) = step_signature(&parsed, &sig, &wrt);
            let swrt_params: Vec<&parse::signature::Param> =
                swrt.iter().filter_map(|&i| ssig.params.get(i)).collect();
            let mut t = emit::step_signature(item, &ssig, results, &step.fetch_next()?);
            t.extend(emit::back_signature(
                item,
                &ssig,
                &swrt_params,
                &back.fetch_next()?,
            ));
            t
        }
        None => TokenStream::new(),
    };
    // `NAME_hvp` and `NAME_hvp_into`: the tangent graph's signature (the directions
    // after the parameters), the body derived by the continuation.
    let hvp = match hvp_state.as_mut() {
        Some(s) => {
            let (tsig, twrt) = tangent::signature(&sig, &wrt);
            let twrt_params: Vec<&parse::signature::Param> =
                twrt.iter().filter_map(|&i| tsig.params.get(i)).collect();
            let doc = [
                " The Hessian-vector products are derived through the `#[differentiable]` helpers the body calls (formulas are not shown for such functions).".to_owned(),
            ];
            emit::signatures(
                item,
                &tsig,
                &twrt_params,
                &doc,
                &s.fetch_next()?,
                emit::Companion::Hvp {
                    hidden: !parsed.hvp,
                },
            )
        }
        None => TokenStream::new(),
    };
    // `NAME_hessian`: its signature here, its body derived by the continuation (a
    // `hessian` of several variables is reported there, by the derivation).
    let hessian = match (hessian_state.as_mut(), wrt_params.first()) {
        (Some(s), Some(w)) => {
            emit::hessian::around(item, &sig.params, w, sig.float.clone(), &s.fetch_next()?)
        }
        _ => TokenStream::new(),
    };
    let several = (parsed.hessian.is_some() && !hessian_of_one).then(|| {
        syn::Error::new_spanned(
            attr,
            format!("`hessian` takes exactly one `wrt` variable (the Hessian is over the entries of one variable), here {}: write `#[grad(wrt = (..), hvp)]` for Hessian-vector products in several variables", wrt.len()),
        )
        .to_compile_error()
    });
    Some(quote!(#companions #step #hvp #hessian #several))
}

/// Continues a `#[grad]` expansion with one more helper (`__grad_continue!`'s input:
/// the state of [`parse::helper::State`], then the helper), in the body of
/// `NAME_grad_into`: fetches the next helper, or expands to the derived body (the
/// function and the companions' signatures were emitted by the attribute).
pub fn expand_continue(input: TokenStream) -> TokenStream {
    let (mut state, helper) = match parse::helper::State::parse(input) {
        Ok(s) => s,
        Err(e) => return e.to_compile_error(),
    };
    state.discover(&helper.block);
    state.helpers.push(helper);
    if let Some(fetch) = state.fetch_next() {
        return fetch;
    }
    let options = Options {
        reassociate: state.reassociate,
        first_order: !matches!(
            state.pass,
            parse::helper::Pass::Hvp | parse::helper::Pass::Hessian
        ),
    };
    let hygiene = state.hygiene;
    emit::with_mixed_site(hygiene, || continued_body(state, options))
}

/// The derived body of `NAME_grad_into` once every helper is read.
fn continued_body(state: parse::helper::State, options: Options) -> TokenStream {
    match derive_full(state.attr, &state.item, options, &state.helpers) {
        Ok(d) => {
            let body = match state.pass {
                parse::helper::Pass::Grad => d.into_body(),
                parse::helper::Pass::Step => emit::step_body(&d.input()),
                parse::helper::Pass::Back => emit::back_body(&d.input()),
                parse::helper::Pass::Hessian => d.hessian_body(),
                parse::helper::Pass::Hvp => match d.hvp_input() {
                    Some(input) if emit::fixed::applies(&input) => emit::fixed::into_body(&input),
                    Some(input) => emit::into_body(&input),
                    None => quote!(::core::unreachable!(
                        "matgrad: this function was rejected at compile time"
                    )),
                },
            };
            let checks = emit::resolve::checks(&d.item.block);
            quote!({ #checks #body })
        }
        Err(failure) => {
            let errors: TokenStream = failure
                .errors
                .iter()
                .map(syn::Error::to_compile_error)
                .collect();
            quote!({ #errors ::core::unreachable!("matgrad: this function was rejected at compile time") })
        }
    }
}

/// Runs `expand` (an expansion of `item`) and, should it panic despite the lints
/// that forbid panicking code in this crate, turns the panic into one
/// `compile_error!` after the original item, so the user's crate still sees the
/// function and gets one clear message instead of "proc macro panicked".
///
/// ```
/// let item = quote::quote!(fn loss(x: f64) -> f64 { x });
/// let out = matgrad_core::guarded(&item, || panic!("a bug")).to_string();
/// assert!(out.starts_with("fn loss"));
/// assert!(out.contains("matgrad: internal error while expanding `loss` (a bug)"));
/// ```
pub fn guarded(item: &TokenStream, expand: impl FnOnce() -> TokenStream) -> TokenStream {
    let payload = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(expand)) {
        Ok(tokens) => return tokens,
        Err(payload) => payload,
    };
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    let name = syn::parse2::<syn::ItemFn>(item.clone())
        .map_or_else(|_| "this item".to_owned(), |f| format!("`{}`", f.sig.ident));
    let msg = format!(
        "matgrad: internal error while expanding {name} ({what}); please report it at https://github.com/matgrad/matgrad/issues with the function"
    );
    quote!(#item ::core::compile_error!(#msg);)
}

/// A function differentiated: what the emitter, the formula renderer and tools use.
pub struct Derivation {
    /// The original function.
    pub item: syn::ItemFn,
    /// Its checked signature.
    pub sig: parse::signature::Signature,
    /// The `wrt` parameters (indices into `sig.params`), in the order written.
    pub wrt: Vec<usize>,
    /// The body as IR.
    pub graph: ir::Graph,
    /// The reverse sweep.
    pub adjoints: diff::Adjoints,
    /// Second order, when `hvp` or `hessian` is asked for.
    pub second: Option<Second>,
}

/// The derivation of `NAME_hvp` (and `NAME_hessian`): the reverse sweep over the
/// tangent graph (see [`tangent`]).
pub struct Second {
    /// The signature with the directions after the parameters.
    pub sig: parse::signature::Signature,
    /// The directions, then the `wrt` variables (indices into `sig.params`).
    pub wrt: Vec<usize>,
    /// The tangent graph.
    pub graph: ir::Graph,
    /// Its reverse sweep.
    pub adjoints: diff::Adjoints,
    /// The node of the function's value.
    pub value: ir::NodeId,
    /// `hvp` was asked for (else the HVP companions are hidden helpers of
    /// `NAME_hessian`).
    pub hvp: bool,
    /// `hessian` was asked for.
    pub hessian: bool,
    /// The tangent graph's node of each original node's tangent (see
    /// [`tangent::TangentGraph::tangents`]).
    pub tangents: Vec<Option<ir::NodeId>>,
}

/// Why a function could not be differentiated.
pub struct Failure {
    /// Every problem the macro reports, in source order of discovery.
    pub errors: Vec<syn::Error>,
    /// Problems rustc reports by itself on the original function (`*v` in a `map`
    /// closure): the macro leaves them to rustc rather than repeat them. Tools that
    /// do not compile the function show them as well ([`Failure::all_errors`]).
    pub left_to_rustc: Vec<syn::Error>,
    /// Whether the body cannot type-check (static shapes that do not match): then
    /// [`expand`] emits the original function with an unreachable body, so that
    /// rustc adds no trait-bound errors to matgrad's.
    pub ill_typed: bool,
    /// The companions with an unreachable body, when the signature allowed them.
    pub fallback: TokenStream,
}

impl Failure {
    /// Every problem: those the macro reports, then those it leaves to rustc.
    pub fn all_errors(self) -> Vec<syn::Error> {
        let mut all = self.errors;
        all.extend(self.left_to_rustc);
        all
    }
}

impl Derivation {
    /// The emitter's view of this derivation.
    pub fn input(&self) -> emit::Input<'_> {
        emit::Input {
            item: &self.item,
            sig: &self.sig,
            wrt: &self.wrt,
            graph: &self.graph,
            adjoints: &self.adjoints,
            value: self.graph.output,
            companion: emit::Companion::Grad,
        }
    }

    /// The emitter's view of the HVP's derivation, when there is one.
    pub fn hvp_input(&self) -> Option<emit::Input<'_>> {
        let s = self.second.as_ref()?;
        Some(emit::Input {
            item: &self.item,
            sig: &s.sig,
            wrt: &s.wrt,
            graph: &s.graph,
            adjoints: &s.adjoints,
            value: s.value,
            companion: emit::Companion::Hvp { hidden: !s.hvp },
        })
    }

    /// `NAME_grad` and `NAME_grad_into`; with `hvp`, `NAME_hvp` and `NAME_hvp_into`;
    /// with `hessian`, `NAME_hessian`.
    pub fn companions(&self) -> TokenStream {
        let emit_one = |input: &emit::Input<'_>| {
            if emit::fixed::applies(input) {
                emit::fixed::companions(input)
            } else {
                emit::companions(input)
            }
        };
        let first = self.input();
        let mut out = emit_one(&first);
        if let (Some(input), Some(s)) = (self.hvp_input(), self.second.as_ref()) {
            let plan = if s.hessian { self.hessian_plan() } else { None };
            let structured = plan
                .as_ref()
                .and_then(hessian_structure::Plan::chosen)
                .is_some();
            // A structured `NAME_hessian` calls no HVP: the hidden ones are not emitted.
            if s.hvp || !structured {
                out.extend(emit_one(&input));
            }
            if s.hessian {
                out.extend(emit::hessian::companion(&input, &first, plan.as_ref()));
            }
        }
        out
    }

    /// The body of `NAME_hessian` (see [`Derivation::companions`]), for a function
    /// whose companions' signatures were emitted apart (one calling helpers).
    pub fn hessian_body(&self) -> TokenStream {
        let unreachable = quote!(::core::unreachable!(
            "matgrad: this function was rejected at compile time"
        ));
        match self.hvp_input() {
            Some(input) => {
                let plan = self.hessian_plan();
                emit::hessian::body(&input, &self.input(), plan.as_ref())
            }
            None => unreachable,
        }
    }

    /// With second order and one `wrt` variable: how its dense Hessian is built (from
    /// its structure, or column by column from Hessian-vector products) and why (see
    /// [`hessian_structure`]). `None` without second order or with several variables.
    pub fn hessian_plan(&self) -> Option<hessian_structure::Plan> {
        let s = self.second.as_ref()?;
        let [w] = self.wrt.as_slice() else {
            return None;
        };
        let &direction = s.wrt.first()?;
        let dynamic = !emit::fixed::applies(&self.input());
        Some(hessian_structure::plan(
            &self.graph,
            *w,
            &s.graph,
            direction,
            dynamic,
        ))
    }

    /// With second order and one matrix variable whose Hessian has a structure (see
    /// [`hessian_structure`]): the Hessian as Unicode math in the function's names
    /// (`xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) x`, `2 (b bᵀ) ⊗ (aᵀ a)`), and the definitions
    /// it cites (`p = softmax(x)`), whether or not `NAME_hessian` builds it so.
    pub fn hessian_formula(&self) -> Option<(String, Vec<(String, String)>)> {
        let plan = self.hessian_plan()?;
        let pieces = plan.pieces?;
        let input = self.input();
        let terms = emit::math::Terms::new(&input);
        let var = self
            .wrt
            .first()
            .and_then(|&w| self.sig.params.get(w))
            .map_or(ir::Kind::Scalar, |p| p.kind);
        let (h, wheres) = hessian_structure::formula(&pieces, &terms, var);
        let print = |t: &simplify::Term| emit::math::print(t, emit::math::Notation::Unicode);
        Some((
            print(&h),
            wheres.iter().map(|(n, t)| (n.clone(), print(t))).collect(),
        ))
    }

    /// With `hvp` or `hessian`: the Hessian-vector product of each `wrt` variable,
    /// simplified, as Unicode math in the variables and the directions `v_<name>`:
    /// `("w", "xᵀ (x v_w ⊙ σ(x w) ⊙ (1 − σ(x w)))")`. Empty without second order.
    pub fn hessian_vector_products(&self) -> Vec<(String, String)> {
        let Some(input) = self.hvp_input() else {
            return Vec::new();
        };
        let terms = emit::math::Terms::new(&input);
        let all = terms.gradients();
        // The tangent graph's `wrt`: the directions (whose gradients are ∇f), then the
        // variables (whose gradients are the products).
        all.into_iter()
            .skip(self.wrt.len())
            .map(|(n, t)| (n, emit::math::print(&t, emit::math::Notation::Unicode)))
            .collect()
    }

    /// The body of `NAME_grad_into` alone, for the companions' signatures of
    /// [`emit::signatures`] (a function that calls helpers gets those before its
    /// body is derived).
    pub fn into_body(&self) -> TokenStream {
        let input = self.input();
        if emit::fixed::applies(&input) {
            emit::fixed::into_body(&input)
        } else {
            emit::into_body(&input)
        }
    }

    /// The derived gradient of each `wrt` variable, simplified, as Unicode math:
    /// `(name, formula)`, e.g. `("w", "xᵀ (2 (a − y) ⊙ (1 − a²))")`.
    pub fn formulas(&self) -> Vec<(String, String)> {
        self.printed(emit::math::Notation::Unicode)
    }

    /// [`Derivation::formulas`] in LaTeX.
    pub fn latex(&self) -> Vec<(String, String)> {
        self.printed(emit::math::Notation::Latex)
    }

    /// The multiply-adds of the forward pass (after the rewrites), over the
    /// parameters' dimensions (`a.r`, `a.c`), as [`cost`] counts them:
    /// `a.c a.r x.c + a.r x.c` for `(a * x * b).trace()`.
    pub fn forward_cost(&self) -> String {
        cost::forward(&self.graph).to_string()
    }

    /// How each chain of products (under `reassociate`) is associated, one line each:
    /// the order chosen for static sizes, or the orders the run-time choice picks
    /// from, with their multiply-adds. The gradients go back through the same order.
    pub fn orders(&self) -> Vec<String> {
        emit::formula::orders(&self.input())
    }

    /// `(name, definition)` of what [`Derivation::formulas`] cites, as Unicode math:
    /// the intermediate adjoints too large to write out (`∂f/∂a3`, latest first), then
    /// each value named with `let`.
    pub fn definitions(&self) -> Vec<(String, String)> {
        let input = self.input();
        let terms = emit::math::Terms::new(&input);
        let _ = terms.gradients();
        let mut cited = terms.cited();
        cited.reverse();
        cited
            .into_iter()
            .chain(terms.definitions())
            .map(|(n, t)| (n, emit::math::print(&t, emit::math::Notation::Unicode)))
            .collect()
    }

    fn printed(&self, notation: emit::math::Notation) -> Vec<(String, String)> {
        let input = self.input();
        let terms = emit::math::Terms::new(&input);
        terms
            .gradients()
            .into_iter()
            .map(|(n, t)| (n, emit::math::print(&t, notation)))
            .collect()
    }
}

impl Derivation {
    /// With second order: the tangent sweep (forward mode along the directions
    /// `v_<name>`), one `(ẏ, its formula)` per value that depends on a variable, in
    /// evaluation order: `("ż", "x v_w")`, …, `("ḟ", …)`. A named value's tangent is
    /// its name with a combining dot above (U+0307: `ż`), another's is its definition
    /// dotted (`(x w)˙`); each
    /// formula cites the earlier tangents by those names. Empty without second order.
    pub fn tangent_steps(&self) -> Vec<(String, String)> {
        use emit::math::{print, Notation, Terms};
        let Some(s) = self.second.as_ref() else {
            return Vec::new();
        };
        let first = self.input();
        let originals = Terms::new(&first);
        let g = &self.graph;
        let mut tg = s.graph.clone();
        let mut steps: Vec<(ir::NodeId, String)> = Vec::new();
        for (id, t) in s.tangents.iter().enumerate() {
            let Some(t) = *t else { continue };
            // A variable's tangent is its direction, already named.
            if matches!(g.node(id).op, ir::Op::Param(_)) || steps.iter().any(|(x, _)| *x == t) {
                continue;
            }
            let name = if id == g.output {
                dotted("f")
            } else {
                match &g.node(id).name {
                    Some(n) => dotted(n),
                    None => format!("{}˙", originals.value_text(id)),
                }
            };
            if let Some(node) = tg.nodes.get_mut(t) {
                node.name = Some(name.clone());
            }
            steps.push((t, name));
        }
        let input = emit::Input {
            item: &self.item,
            sig: &s.sig,
            wrt: &s.wrt,
            graph: &tg,
            adjoints: &s.adjoints,
            value: s.value,
            companion: emit::Companion::Hvp { hidden: !s.hvp },
        };
        let terms = Terms::new(&input);
        steps
            .into_iter()
            .map(|(t, name)| {
                let def = simplify::simplify(&terms.definition(t));
                (name, print(&def, Notation::Unicode))
            })
            .collect()
    }
}

/// `name` with a dot above its first letter (`z` → `ż`, `w1` → `ẇ1`), the tangent's
/// name.
fn dotted(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => format!("{c}\u{307}{}", chars.as_str()),
        None => String::new(),
    }
}

/// One step of the reverse sweep, for step-by-step display: what the adjoint of one
/// value sends back to the values it was computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The value whose adjoint is propagated (its name, or its expression).
    pub node: String,
    /// How that value was computed.
    pub definition: String,
    /// `(argument, contribution)`: the term each argument's adjoint receives.
    pub sends: Vec<(String, String)>,
}

impl Derivation {
    /// The reverse sweep in order, from the output back to the `wrt` variables:
    /// for each differentiated value, what its adjoint sends to each argument.
    pub fn steps(&self) -> Vec<Step> {
        use emit::math::{print, Notation, Terms};
        let input = self.input();
        let terms = Terms::citing(&input);
        let g = &self.graph;
        let show = |t: &simplify::Term| print(&simplify::simplify(t), Notation::Unicode);
        let mut steps = Vec::new();
        for id in (0..g.nodes.len()).rev() {
            // A factorisation is its matrix: the solves' steps send to it by that name.
            if !self.adjoints.is_differentiated(id)
                || matches!(g.node(id).op, ir::Op::Param(_) | ir::Op::Factor(_))
            {
                continue;
            }
            let mut sends = Vec::new();
            for (target, incoming) in self.adjoints.incoming.iter().enumerate() {
                for (c, contrib) in incoming {
                    if *c == id {
                        sends.push((terms.value_text(target), show(&terms.contrib(contrib))));
                    }
                }
            }
            steps.push(Step {
                node: terms.value_text(id),
                definition: show(&terms.step_definition(id)),
                sends,
            });
        }
        steps
    }
}

/// Parses and differentiates `item` as `#[grad(attr)]` would.
///
/// Whenever the signature can be read the body is checked too, so that every
/// problem is reported at once; and when the `wrt` variables are known as well, the
/// failure carries the companions' declarations ([`emit::fallback`]).
pub fn derive(attr: TokenStream, item: &syn::ItemFn) -> Result<Derivation, Failure> {
    derive_with(attr, item, Options::default())
}

/// [`derive`](fn@derive), with `options` applied on top of the attribute.
pub fn derive_with(
    attr: TokenStream,
    item: &syn::ItemFn,
    options: Options,
) -> Result<Derivation, Failure> {
    derive_full(attr, item, options, &[])
}

/// [`derive_with`], the body's calls of `helpers` (`#[differentiable]` functions)
/// inlined.
pub fn derive_full(
    attr: TokenStream,
    item: &syn::ItemFn,
    options: Options,
    helpers: &[syn::ItemFn],
) -> Result<Derivation, Failure> {
    let mut cx = Ctxt::new();
    let attr = parse::attr::parse(&mut cx, attr).map(|mut attr| {
        attr.reassociate |= options.reassociate;
        if options.first_order {
            attr.hvp = false;
            attr.hessian = None;
        }
        attr
    });
    let Some(sig) = parse::signature::parse(&mut cx, &item.sig) else {
        return Err(Failure {
            errors: cx.errors().to_vec(),
            left_to_rustc: cx.left_to_rustc().to_vec(),
            ill_typed: cx.ill_typed(),
            fallback: TokenStream::new(),
        });
    };
    let wrt = attr.as_ref().map(|a| resolve_wrt(&mut cx, a, &sig));
    let loops = parse::body::Loops {
        wrt: wrt.clone().unwrap_or_default(),
        reassociate: attr.as_ref().is_some_and(|a| a.reassociate),
        step: attr.as_ref().map(|a| a.step.clone()).unwrap_or_default(),
    };
    let graph = parse::body::build(&mut cx, &sig, &item.block, helpers, &loops);
    match (attr, wrt, graph) {
        (Some(attr), Some(wrt), Some(graph)) if !cx.has_errors() => {
            let graph = solve::solves(&graph, attr.reassociate);
            let graph = rewrite::rewrite(&graph, &wrt, attr.reassociate);
            // The step function of a run-time loop's tangent: its step companions are
            // those of the tangent graph.
            let (sig, wrt, graph) = if attr.loop_tangent {
                match tangent::loop_step(&graph, &sig, &wrt) {
                    Ok(step) => (step.sig, step.wrt, step.graph),
                    Err(errors) => {
                        for (span, msg) in errors {
                            cx.error_at(span, second_order_error(&msg));
                        }
                        return Err(Failure {
                            errors: cx.errors().to_vec(),
                            left_to_rustc: cx.left_to_rustc().to_vec(),
                            ill_typed: cx.ill_typed(),
                            fallback: fallback(item, &sig, &attr, &wrt),
                        });
                    }
                }
            } else {
                (sig, wrt, graph)
            };
            let adjoints = diff::differentiate(&graph, &wrt);
            let second = second_order(&mut cx, &attr, &sig, &wrt, &graph);
            if cx.has_errors() {
                return Err(Failure {
                    errors: cx.errors().to_vec(),
                    left_to_rustc: cx.left_to_rustc().to_vec(),
                    ill_typed: cx.ill_typed(),
                    fallback: fallback(item, &sig, &attr, &wrt),
                });
            }
            Ok(Derivation {
                item: item.clone(),
                sig,
                wrt,
                graph,
                adjoints,
                second,
            })
        }
        (attr, wrt, _) => {
            let fallback = match (attr, wrt) {
                (Some(attr), Some(wrt)) if wrt.len() == attr.wrt.len() => {
                    fallback(item, &sig, &attr, &wrt)
                }
                _ => TokenStream::new(),
            };
            Err(Failure {
                errors: cx.errors().to_vec(),
                left_to_rustc: cx.left_to_rustc().to_vec(),
                ill_typed: cx.ill_typed(),
                fallback,
            })
        }
    }
}

/// The companions the attribute asks for, with unreachable bodies (see
/// [`emit::fallback`]).
fn fallback(
    item: &syn::ItemFn,
    sig: &parse::signature::Signature,
    attr: &parse::attr::Attr,
    wrt: &[usize],
) -> TokenStream {
    let params =
        |sig: &parse::signature::Signature, ids: &[usize]| -> Vec<parse::signature::Param> {
            ids.iter()
                .filter_map(|&i| sig.params.get(i).cloned())
                .collect()
        };
    let wrt_params = params(sig, wrt);
    let refs: Vec<&parse::signature::Param> = wrt_params.iter().collect();
    let mut out = emit::fallback::companions(item, sig, &refs);
    if attr.hvp {
        let (tsig, twrt) = tangent::signature(sig, wrt);
        let tparams = params(&tsig, &twrt);
        let refs: Vec<&parse::signature::Param> = tparams.iter().collect();
        out.extend(emit::fallback::hvp(item, &tsig, &refs));
    }
    if let (Some(_), [w]) = (attr.hessian, wrt_params.as_slice()) {
        out.extend(emit::hessian::stub(item, &sig.params, w, sig.float.clone()));
    }
    // A run-time loop's step function: the two companions its loop calls, so that
    // the body's error is the only one reported.
    if !attr.step.is_empty() {
        let unreachable = quote!(::core::unreachable!(
            "matgrad: this function was rejected at compile time"
        ));
        let (sig, wrt, results) = step_signature(attr, sig, wrt);
        let step_params = params(&sig, &wrt);
        let refs: Vec<&parse::signature::Param> = step_params.iter().collect();
        out.extend(emit::step_signature(item, &sig, results, &unreachable));
        out.extend(emit::back_signature(item, &sig, &refs, &unreachable));
    }
    out
}

/// A step function's companions' signature, variables and number of carried values:
/// the function's own, or those of its tangent with `loop_tangent` (see
/// [`tangent::loop_step`]).
fn step_signature(
    attr: &parse::attr::Attr,
    sig: &parse::signature::Signature,
    wrt: &[usize],
) -> (parse::signature::Signature, Vec<usize>, usize) {
    let carried = attr.step.len();
    if attr.loop_tangent {
        let (tsig, twrt, _, _) = tangent::loop_step_signature(sig, wrt, carried);
        return (tsig, twrt, 2 * carried);
    }
    let own = parse::signature::Signature {
        params: sig.params.clone(),
        float: sig.float.clone(),
    };
    (own, wrt.to_vec(), carried)
}

/// The tangent graph and its reverse sweep, when `hvp` or `hessian` is asked for;
/// errors (`hessian` of several variables, an operation without a tangent) to `cx`.
fn second_order(
    cx: &mut Ctxt,
    attr: &parse::attr::Attr,
    sig: &parse::signature::Signature,
    wrt: &[usize],
    graph: &ir::Graph,
) -> Option<Second> {
    if !attr.hvp && attr.hessian.is_none() {
        return None;
    }
    if let (Some(span), true) = (attr.hessian, wrt.len() != 1) {
        cx.error_at(
            span,
            format!(
                "`hessian` takes exactly one `wrt` variable (the Hessian is over the entries of one variable), here {}: write `#[grad(wrt = (..), hvp)]` for Hessian-vector products in several variables",
                wrt.len()
            ),
        );
        return None;
    }
    let (tsig, twrt) = tangent::signature(sig, wrt);
    let names: Vec<String> = twrt
        .iter()
        .take(wrt.len())
        .filter_map(|&d| tsig.params.get(d).map(|p| p.name.to_string()))
        .collect();
    match tangent::tangent_graph(graph, wrt, &names) {
        Ok(t) => {
            let adjoints = diff::differentiate(&t.graph, &twrt);
            Some(Second {
                sig: tsig,
                wrt: twrt,
                graph: t.graph,
                adjoints,
                value: t.value,
                hvp: attr.hvp,
                hessian: attr.hessian.is_some(),
                tangents: t.tangents,
            })
        }
        Err(errors) => {
            for (span, msg) in errors {
                cx.error_at(span, second_order_error(&msg));
            }
            None
        }
    }
}

/// The error of an operation without a tangent (`msg` names it and says why).
fn second_order_error(msg: &str) -> String {
    format!("no second derivative for {msg}: `hvp` and `hessian` need one for every operation on the path from the `wrt` variables to the value")
}

/// The parameter index of each `wrt` name, reporting unknown and repeated names.
fn resolve_wrt(
    cx: &mut Ctxt,
    attr: &parse::attr::Attr,
    sig: &parse::signature::Signature,
) -> Vec<usize> {
    let mut out = Vec::new();
    for (k, name) in attr.wrt.iter().enumerate() {
        if attr.wrt.iter().take(k).any(|w| w == name) {
            cx.error_spanned_by(name, format!("`{name}` is listed twice in `wrt`"));
            continue;
        }
        match sig.params.iter().position(|p| p.name == *name) {
            Some(i) if sig.params.get(i).is_some_and(|p| p.count) => cx.error_spanned_by(
                name,
                format!("`{name}` is a `usize`, a count: it has no gradient; `wrt` names float parameters"),
            ),
            Some(i) if sig.params.get(i).is_some_and(|p| p.flag) => cx.error_spanned_by(
                name,
                format!("`{name}` is a `bool`, a flag: it has no gradient; `wrt` names float parameters"),
            ),
            Some(i) => out.push(i),
            None => {
                let names: Vec<String> =
                    sig.params.iter().map(|p| format!("`{}`", p.name)).collect();
                cx.error_spanned_by(
                    name,
                    format!("`wrt` names `{name}`, which is not a parameter of this function (its parameters: {})", names.join(", ")),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{expand, expand_with, Options};
    use quote::quote;

    /// `Options { reassociate: true }` expands exactly as the attribute that writes
    /// `reassociate`, and (on a body with a chain of products) differently from one
    /// that does not, whether or not the attribute writes it already.
    #[test]
    fn forced_reassociate_is_the_written_flag() {
        let item = quote! {
            fn f(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
                (a * b * c).sum()
            }
        };
        let on = Options {
            reassociate: true,
            ..Options::default()
        };
        let written = expand(quote!(wrt = a, reassociate), item.clone()).to_string();
        let forced = expand_with(quote!(wrt = a), item.clone(), on).to_string();
        let both = expand_with(quote!(wrt = a, reassociate), item.clone(), on).to_string();
        assert_eq!(forced, written);
        assert_eq!(both, written);
        assert_ne!(expand(quote!(wrt = a), item.clone()).to_string(), written);
        assert_eq!(
            expand_with(quote!(wrt = a), item.clone(), Options::default()).to_string(),
            expand(quote!(wrt = a), item).to_string()
        );
    }

    /// A network written with a `dense` helper is the network written inline: the
    /// same IR after the rewrites (so the same kernels and buffers), and the same
    /// generated code but for the source text its panic messages quote.
    #[test]
    fn helpers_inline_to_the_same_program() {
        let dense: syn::ItemFn = syn::parse_quote! {
            fn dense(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
                add_row(&(x * w), b).map(|v| v.tanh())
            }
        };
        let with_helper: syn::ItemFn = syn::parse_quote! {
            fn net(x: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>,
                   w2: &DMatrix<f64>, b2: &RowDVector<f64>, y: &DMatrix<f64>) -> f64 {
                let h = dense(x, w1, b1);
                (dense(&h, w2, b2) - y).norm_squared()
            }
        };
        let inline: syn::ItemFn = syn::parse_quote! {
            fn net(x: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>,
                   w2: &DMatrix<f64>, b2: &RowDVector<f64>, y: &DMatrix<f64>) -> f64 {
                let h = add_row(&(x * w1), b1).map(|v| v.tanh());
                (add_row(&(h * w2), b2).map(|v| v.tanh()) - y).norm_squared()
            }
        };
        let attr = quote!(wrt = (w1, b1, w2, b2));
        let opts = Options::default();
        let a = super::derive_full(attr.clone(), &with_helper, opts, &[dense]);
        let b = super::derive_full(attr, &inline, opts, &[]);
        let (Ok(a), Ok(b)) = (a, b) else {
            panic!("both derive");
        };
        assert_eq!(a.graph.sexpr(a.graph.output), b.graph.sexpr(b.graph.output));
        let ops = |d: &super::Derivation| -> Vec<String> {
            d.graph
                .nodes
                .iter()
                .map(|n| format!("{:?} {:?}", n.op, n.args))
                .collect()
        };
        assert_eq!(ops(&a), ops(&b));
        // The code, without the quoted source text of the nodes.
        let code = |d: &super::Derivation| {
            let text = d.companions().to_string();
            text.split('"').step_by(2).collect::<Vec<_>>().join("\"…\"")
        };
        assert_eq!(code(&a), code(&b));
    }
}

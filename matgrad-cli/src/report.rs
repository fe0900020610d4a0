//! What is printed about one derived function, in the order a reader wants it:
//! the gradients (Unicode and LaTeX), the definitions they cite, the reverse sweep
//! step by step, and the generated Rust.

use crate::derive::Done;

/// Everything printed about one function.
pub struct Report {
    /// The function's name.
    pub name: String,
    /// Its signature, pretty-printed (`fn f(x: &DVector<f64>) -> f64`).
    pub signature: String,
    /// For `--expr`: the function built from the expression.
    pub built: Option<String>,
    /// The variables differentiated, in the order of the attribute.
    pub wrt: Vec<String>,
    /// The gradient of each of them.
    pub gradients: Vec<Gradient>,
    /// `(name, definition)` of the values named with `let`, as Unicode math.
    pub definitions: Vec<(String, String)>,
    /// The reverse sweep, from the value back to the variables.
    pub steps: Vec<StepLine>,
    /// `NAME_grad` and `NAME_grad_into`, pretty-printed.
    pub rust: String,
    /// The forward pass's multiply-adds over the parameters' dimensions.
    pub forward_cost: String,
    /// How each chain of products is associated (see `Derivation::orders`).
    pub orders: Vec<String>,
    /// `(variable, ∇²f · v)` when second order was derived (`--show hessian`).
    pub hvps: Vec<(String, String)>,
    /// The dense Hessian of the one variable, when it has a structure.
    pub hessian: Option<Hessian>,
    /// The tangent sweep, `(ẏ, formula)` in evaluation order (`--show hessian`).
    pub tangent_steps: Vec<(String, String)>,
}

/// The dense Hessian of a function of one variable, from its structure.
pub struct Hessian {
    /// `∇²f` in Unicode math.
    pub formula: String,
    /// `(name, definition)` of what it cites (`p = softmax(a)`).
    pub wheres: Vec<(String, String)>,
    /// Whether `#[grad(.., hessian)]` builds `NAME_hessian` from it (else from `n`
    /// Hessian-vector products, the cost model finding those cheaper).
    pub built: bool,
    /// The multiply-adds of building it from this structure.
    pub structured: String,
    /// The cost model's estimate for `n` Hessian-vector products.
    pub columns: String,
}

/// The gradient of one variable.
pub struct Gradient {
    /// The variable.
    pub var: String,
    /// `∂f/∂var` in Unicode math.
    pub unicode: String,
    /// `∂f/∂var` in LaTeX.
    pub latex: String,
}

/// One step of the reverse sweep.
pub struct StepLine {
    /// Its number, from 1.
    pub number: usize,
    /// The value's name: `f` for the function's value, the `let` name, or none.
    pub name: Option<String>,
    /// How the value is computed.
    pub definition: String,
    /// `(argument, contribution)`: `∂f/∂argument += contribution`.
    pub sends: Vec<(String, String)>,
}

impl StepLine {
    /// `a = tanh(z)`, or the bare definition of an unnamed value.
    pub fn heading(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} = {}", self.definition),
            None => self.definition.clone(),
        }
    }

    /// `∂f/∂z += ∂f/∂a ⊙ (1 − a²)` for each argument.
    pub fn updates(&self) -> Vec<String> {
        self.sends
            .iter()
            .map(|(to, c)| format!("∂f/∂{to} += {c}"))
            .collect()
    }

    /// The step on one line: `3. a = tanh(z): ∂f/∂z += ∂f/∂a ⊙ (1 − a²)`.
    pub fn line(&self) -> String {
        let updates = self.updates();
        if updates.is_empty() {
            format!("{}. {}", self.number, self.heading())
        } else {
            format!(
                "{}. {}: {}",
                self.number,
                self.heading(),
                updates.join("; ")
            )
        }
    }
}

/// The report of a derived function.
pub fn build(done: &Done) -> Report {
    let d = &done.derivation;
    let unicode = d.formulas();
    let latex = d.latex();
    let gradients = unicode
        .iter()
        .map(|(var, u)| Gradient {
            var: var.clone(),
            unicode: u.clone(),
            latex: latex
                .iter()
                .find(|(v, _)| v == var)
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
        })
        .collect();
    let steps = d
        .steps()
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            // The sweep starts at the function's value; other values are named when
            // the user named them (`node` is then the name, not the parenthesised
            // definition).
            let unnamed = s.node == s.definition || s.node == format!("({})", s.definition);
            let name = if i == 0 {
                Some("f".to_owned())
            } else if unnamed {
                None
            } else {
                Some(s.node.clone())
            };
            StepLine {
                number: i + 1,
                name,
                definition: s.definition,
                sends: s.sends,
            }
        })
        .collect();
    Report {
        name: done.name.clone(),
        signature: signature(&d.item),
        built: done.built.clone(),
        wrt: unicode.iter().map(|(v, _)| v.clone()).collect(),
        gradients,
        definitions: d.definitions(),
        steps,
        rust: pretty(d.companions()),
        forward_cost: d.forward_cost(),
        orders: d.orders(),
        hvps: d.hessian_vector_products(),
        hessian: hessian(d),
        tangent_steps: d.tangent_steps(),
    }
}

/// The Hessian's structure and the cost model's choice, when there is one.
fn hessian(d: &matgrad_core::Derivation) -> Option<Hessian> {
    let plan = d.hessian_plan()?;
    let (formula, wheres) = d.hessian_formula()?;
    Some(Hessian {
        formula,
        wheres,
        built: plan.use_structure,
        structured: plan
            .structured
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        columns: plan.columns_text(),
    })
}

/// Rust tokens as prettyplease prints a file (their text if they are not one).
pub fn pretty(tokens: proc_macro2::TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

/// `fn f(x: &DVector<f64>) -> f64`.
fn signature(item: &syn::ItemFn) -> String {
    let bare = syn::ItemFn {
        attrs: Vec::new(),
        vis: item.vis.clone(),
        sig: item.sig.clone(),
        block: Box::new(syn::parse_quote!({})),
    };
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![syn::Item::Fn(bare)],
    };
    let text = prettyplease::unparse(&file);
    text.trim_end().trim_end_matches("{}").trim_end().to_owned()
}

/// A variable's name in LaTeX, as the engine writes it: `w`, `\mathit{w2}`, `w_{1}`.
pub fn latex_name(s: &str) -> String {
    if s.chars().count() > 1 && s.chars().all(|c| c.is_alphanumeric() || c == '_') {
        match s.split_once('_') {
            Some((head, sub)) => format!("{head}_{{{sub}}}"),
            None => format!("\\mathit{{{s}}}"),
        }
    } else {
        s.to_owned()
    }
}

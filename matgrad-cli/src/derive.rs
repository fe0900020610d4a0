//! Runs the engine on one [`Job`], as `#[grad]` would.
//!
//! A one-line expression whose value is a 1×1 matrix (`x.transpose() * a * x`) is
//! not a scalar to the engine; it is derived again as `(EXPR)[(0, 0)]`, and that is
//! kept when the types show the product is 1×1 (a row times a column).

use crate::input::{Job, JobSource};
use crate::sources::Sources;
use matgrad_core::ir::{Count, Dim, Kind, Op, Shape};
use matgrad_core::Derivation;

/// A derived function.
pub struct Done {
    /// The function's name.
    pub name: String,
    /// What the engine derived.
    pub derivation: Derivation,
    /// For `--expr`: the function built from it.
    pub built: Option<String>,
}

/// Why a job could not be derived.
pub struct JobFailure {
    /// The engine's errors (or the parser's).
    pub errors: Vec<syn::Error>,
    /// Something to add after them.
    pub note: Option<String>,
}

/// The message the engine gives for a function whose value is a matrix.
const ENDS_WITH_MATRIX: &str = "ends with a matrix";

/// Derives `job`.
pub fn run(job: &Job, sources: &mut Sources) -> Result<Done, JobFailure> {
    match &job.source {
        JobSource::Item(item) => match matgrad_core::derive(job.attr.clone(), item) {
            Ok(derivation) => Ok(Done {
                name: job.name.clone(),
                derivation,
                built: None,
            }),
            Err(f) => Err(JobFailure {
                errors: f.all_errors(),
                note: None,
            }),
        },
        JobSource::Expr(e) => {
            let text = e.function(false);
            let first = build_and_derive(job, &text, sources);
            let failure = match first {
                Ok(derivation) => {
                    return Ok(Done {
                        name: job.name.clone(),
                        derivation,
                        built: Some(text),
                    })
                }
                Err(f) => f,
            };
            if !failure
                .errors
                .iter()
                .any(|e| e.to_string().contains(ENDS_WITH_MATRIX))
            {
                return Err(failure);
            }
            let wrapped = e.function(true);
            match build_and_derive(job, &wrapped, sources) {
                Ok(derivation) if is_entry_of_one_by_one(&derivation) => Ok(Done {
                    name: job.name.clone(),
                    derivation,
                    built: Some(wrapped),
                }),
                _ => Err(JobFailure {
                    note: Some(
                        "the value is a matrix that the types do not show to be 1×1 (a row times a column): reduce it to a scalar"
                            .into(),
                    ),
                    ..failure
                }),
            }
        }
    }
}

fn build_and_derive(
    job: &Job,
    text: &str,
    sources: &mut Sources,
) -> Result<Derivation, JobFailure> {
    let parsed = sources
        .lex("<expr>", text)
        .and_then(syn::parse2::<syn::ItemFn>);
    let item = parsed.map_err(|e| JobFailure {
        errors: vec![e],
        note: None,
    })?;
    matgrad_core::derive(job.attr.clone(), &item).map_err(|f| JobFailure {
        errors: f.all_errors(),
        note: None,
    })
}

/// Whether the value is `m[(0, 0)]` of an `m` the types show to be 1×1.
fn is_entry_of_one_by_one(d: &Derivation) -> bool {
    let g = &d.graph;
    let out = g.node(g.output);
    let one_by_one = Kind::Matrix(Shape {
        rows: Dim::One,
        cols: Dim::One,
    });
    matches!(&out.op, Op::Index(Count::Lit(0), Count::Lit(0)))
        && out
            .args
            .first()
            .is_some_and(|&a| g.node(a).kind == one_by_one)
}

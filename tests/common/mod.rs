//! The gradient-check harness shared by the suites in `tests/gradcheck/`,
//! `tests/seeds/` and `tests/static_sizes/` (each run twice: by the binary in the
//! directory, and with `reassociate` forced on by its `tests/*_reassociate.rs`), and by
//! `tests/reassociate.rs`.
//!
//! - Seeded, well-conditioned inputs: [`rng`], [`mat`], [`vector`], [`row`],
//!   [`positive`], [`away_from`], [`spd`], [`dominant`], [`negative_det`], ….
//! - [`gradcheck!`]: for one point, checks everything the contract says of a function
//!   `f` annotated with `#[grad]` and its companions `f_grad` and `f_grad_into`:
//!   1. `f_grad`'s value equals `f`'s exactly, or to rounding where the test binary
//!      forces `reassociate` on (see [`Value`]);
//!   2. each gradient has the shape of its variable;
//!   3. each entry agrees with central finite differences of `f`,
//!      `(f(x + h e) − f(x − h e)) / 2h` with `h = step · max(1, |x|)`, to
//!      `|g − fd| / max(1, |fd|) ≤ tol` (`1e-6` in f64; `2e-2` in f32 with `h = 1e-2`,
//!      plus an allowance for the rounding of `f` itself, see [`Float::ROUNDING`]);
//!   4. `f_grad_into` returns the same value, bit for bit, and the same gradients,
//!      with a fresh workspace, with the caller's (possibly used at other shapes)
//!      workspace and empty output buffers, when called again with the same buffers
//!      and workspace, and with output buffers of the wrong shape.
//!
//!   Every failure is collected, then reported at once, worst entry first.
//!
//! Each test binary that uses [`gradcheck!`] declares at its root
//! `const VALUE: common::Value`, the value contract its annotated functions are under.
#![allow(dead_code)]

use matgrad::Workspace;
use nalgebra::{DMatrix, DVector, RowDVector, SMatrix};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::{Debug, Write as _};

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// The seeded generator every test draws its inputs from.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A scalar uniform in `[lo, hi]`.
pub fn uniform(r: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    r.random_range(lo..=hi)
}

/// An `m×n` matrix with entries uniform in `[-1, 1]`.
pub fn mat(r: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |_, _| uniform(r, -1.0, 1.0))
}

/// A column vector with entries uniform in `[-1, 1]`.
pub fn vector(r: &mut ChaCha8Rng, n: usize) -> DVector<f64> {
    DVector::from_fn(n, |_, _| uniform(r, -1.0, 1.0))
}

/// A row vector with entries uniform in `[-1, 1]`.
pub fn row(r: &mut ChaCha8Rng, n: usize) -> RowDVector<f64> {
    RowDVector::from_fn(n, |_, _| uniform(r, -1.0, 1.0))
}

/// An `m×n` matrix with entries uniform in `[0.5, 1.5]` (for `ln`, `sqrt`, `powf`,
/// divisors).
pub fn positive(r: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |_, _| uniform(r, 0.5, 1.5))
}

/// An `m×n` matrix whose entries are `kink ± u`, `u` uniform in `[0.2, 1]`, either
/// sign: away from the kink of `abs`, `relu`, `max`, `min`.
pub fn away_from(r: &mut ChaCha8Rng, m: usize, n: usize, kink: f64) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |_, _| {
        let u = uniform(r, 0.2, 1.0);
        if r.random_bool(0.5) {
            kink + u
        } else {
            kink - u
        }
    })
}

/// A symmetric positive definite `n×n` matrix `B Bᵀ + I`.
pub fn spd(r: &mut ChaCha8Rng, n: usize) -> DMatrix<f64> {
    let b = mat(r, n, n);
    &b * b.transpose() + DMatrix::identity(n, n)
}

/// A strictly diagonally dominant `n×n` matrix `Q + (n + 1) I` (`Q` uniform in
/// `[-1, 1]`): well conditioned, positive determinant, not symmetric.
pub fn dominant(r: &mut ChaCha8Rng, n: usize) -> DMatrix<f64> {
    mat(r, n, n) + DMatrix::identity(n, n) * (n as f64 + 1.0)
}

/// [`dominant`] with its first row negated: well conditioned, negative determinant.
pub fn negative_det(r: &mut ChaCha8Rng, n: usize) -> DMatrix<f64> {
    let mut a = dominant(r, n);
    a.row_mut(0).neg_mut();
    a
}

/// An `m×n` matrix of one-hot rows.
pub fn one_hot(r: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f64> {
    let mut y = DMatrix::zeros(m, n);
    for i in 0..m {
        y[(i, r.random_range(0..n))] = 1.0;
    }
    y
}

// ---------------------------------------------------------------------------
// Variables and points
// ---------------------------------------------------------------------------

/// What `f_grad`'s value must be, next to `f`'s: each test binary says it in a
/// `const VALUE` at its root, which [`gradcheck!`] passes to [`check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// The very bits of `f`'s value: the default contract (same operations, same
    /// order).
    Exact,
    /// `f`'s value to rounding, `|v − f| ≤ SAME_TOL · max(1, |f|)` (see
    /// [`Float::SAME_TOL`]): the contract under `reassociate`, which may compute the
    /// value in another order. `f_grad_into`'s value is still `f_grad`'s, bit for
    /// bit.
    Rounded,
}

impl Value {
    /// Whether `got` is `want` under this contract.
    pub fn holds<E: Float>(self, got: E, want: E) -> bool {
        match self {
            Value::Exact => got == want,
            Value::Rounded => {
                got == want || mixed_error(got.to_f64(), want.to_f64()) <= E::SAME_TOL
            }
        }
    }

    /// How the value must match, for failure messages.
    fn describe<E: Float>(self) -> String {
        match self {
            Value::Exact => "must be equal exactly".to_string(),
            Value::Rounded => format!(
                "must be equal to {:e} · max(1, |value|) under reassociate",
                E::SAME_TOL
            ),
        }
    }
}

/// The floating-point types the checker runs in, with their tolerances.
pub trait Float: Copy + PartialEq + Debug + 'static {
    /// `"f64"` or `"f32"`.
    const NAME: &'static str;
    /// Relative finite-difference step: `h = FD_STEP · max(1, |x|)`.
    const FD_STEP: f64;
    /// Tolerance on `|g − fd| / max(1, |fd|)`.
    const FD_TOL: f64;
    /// Tolerance between two computations of one quantity that round differently,
    /// same mixed criterion: `_grad_into`'s gradients and `_grad`'s, and under
    /// [`Value::Rounded`] `_grad`'s value and `f`'s.
    const SAME_TOL: f64;
    /// Relative rounding error assumed for one evaluation of `f`: a finite difference
    /// may be off by `2 · ROUNDING · max(|f(x ± h e)|) / 2h` from cancellation alone,
    /// and that much is added to the allowed error. Zero in f64 (the criterion stays
    /// the plain `1e-6`); one machine epsilon in f32, whose `h = 1e-2` makes it matter
    /// for functions with large values (a determinant).
    const ROUNDING: f64;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    const FD_STEP: f64 = 1e-6;
    const FD_TOL: f64 = 1e-6;
    const SAME_TOL: f64 = 1e-12;
    const ROUNDING: f64 = 0.0;
    fn to_f64(self) -> f64 {
        self
    }
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    const FD_STEP: f64 = 1e-2;
    const FD_TOL: f64 = 2e-2;
    const SAME_TOL: f64 = 1e-5;
    const ROUNDING: f64 = f32::EPSILON as f64;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// One differentiable parameter: a matrix, a vector or a scalar, seen as a flat list
/// of entries (column-major, as nalgebra stores them).
pub trait Var: Debug {
    /// The scalar type.
    type E: Float;
    /// `(rows, columns)`; `(1, 1)` for a scalar.
    fn shape(&self) -> (usize, usize);
    /// A readable description of the shape: `3×2 DMatrix`, `scalar`.
    fn describe(&self) -> String;
    /// Entry `k`, widened to f64.
    fn get(&self, k: usize) -> f64;
    /// Sets entry `k` (rounded to the variable's type).
    fn set(&mut self, k: usize, v: f64);
    /// An output buffer of the wrong shape: empty, or larger and filled with 7.
    /// A scalar output starts at 7.
    fn misshapen(&self, empty: bool) -> Self
    where
        Self: Sized;
    /// Number of entries.
    fn len(&self) -> usize {
        let (m, n) = self.shape();
        m * n
    }
}

macro_rules! impl_var {
    ($t:ty) => {
        impl Var for DMatrix<$t> {
            type E = $t;
            fn shape(&self) -> (usize, usize) {
                self.shape()
            }
            fn describe(&self) -> String {
                format!("{}×{} DMatrix<{}>", self.nrows(), self.ncols(), <$t>::NAME)
            }
            fn get(&self, k: usize) -> f64 {
                self.as_slice()[k].to_f64()
            }
            fn set(&mut self, k: usize, v: f64) {
                self.as_mut_slice()[k] = v as $t;
            }
            fn misshapen(&self, empty: bool) -> Self {
                if empty {
                    DMatrix::zeros(0, 0)
                } else {
                    DMatrix::from_element(self.nrows() + 1, self.ncols() + 2, 7.0)
                }
            }
        }

        impl Var for DVector<$t> {
            type E = $t;
            fn shape(&self) -> (usize, usize) {
                self.shape()
            }
            fn describe(&self) -> String {
                format!("{}×1 DVector<{}>", self.nrows(), <$t>::NAME)
            }
            fn get(&self, k: usize) -> f64 {
                self.as_slice()[k].to_f64()
            }
            fn set(&mut self, k: usize, v: f64) {
                self.as_mut_slice()[k] = v as $t;
            }
            fn misshapen(&self, empty: bool) -> Self {
                if empty {
                    DVector::zeros(0)
                } else {
                    DVector::from_element(self.nrows() + 3, 7.0)
                }
            }
        }

        impl Var for RowDVector<$t> {
            type E = $t;
            fn shape(&self) -> (usize, usize) {
                self.shape()
            }
            fn describe(&self) -> String {
                format!("1×{} RowDVector<{}>", self.ncols(), <$t>::NAME)
            }
            fn get(&self, k: usize) -> f64 {
                self.as_slice()[k].to_f64()
            }
            fn set(&mut self, k: usize, v: f64) {
                self.as_mut_slice()[k] = v as $t;
            }
            fn misshapen(&self, empty: bool) -> Self {
                if empty {
                    RowDVector::zeros(0)
                } else {
                    RowDVector::from_element(self.ncols() + 3, 7.0)
                }
            }
        }

        /// Static sizes (`Matrix3`, `Vector2`, …): a buffer of the wrong shape cannot
        /// exist, so the "misshapen" output is the right shape filled with 7.
        impl<const R: usize, const C: usize> Var for SMatrix<$t, R, C> {
            type E = $t;
            fn shape(&self) -> (usize, usize) {
                (R, C)
            }
            fn describe(&self) -> String {
                format!("SMatrix<{}, {R}, {C}>", <$t>::NAME)
            }
            fn get(&self, k: usize) -> f64 {
                self.as_slice()[k].to_f64()
            }
            fn set(&mut self, k: usize, v: f64) {
                self.as_mut_slice()[k] = v as $t;
            }
            fn misshapen(&self, _empty: bool) -> Self {
                SMatrix::from_element(7.0)
            }
        }

        impl Var for $t {
            type E = $t;
            fn shape(&self) -> (usize, usize) {
                (1, 1)
            }
            fn describe(&self) -> String {
                format!("scalar {}", <$t>::NAME)
            }
            fn get(&self, k: usize) -> f64 {
                assert_eq!(k, 0, "a scalar has one entry");
                self.to_f64()
            }
            fn set(&mut self, k: usize, v: f64) {
                assert_eq!(k, 0, "a scalar has one entry");
                *self = v as $t;
            }
            fn misshapen(&self, _empty: bool) -> Self {
                7.0
            }
        }
    };
}

impl_var!(f64);
impl_var!(f32);

/// The `wrt` variables of one function, in `wrt` order, as nested pairs
/// `(a, (b, (c, ())))` (built by [`nest!`]). The gradients have the same type.
pub trait Point: Clone {
    /// The scalar type.
    type E: Float;
    /// The variables, in order.
    fn vars(&self) -> Vec<&dyn Var<E = Self::E>>;
    /// Variable `k`, mutably.
    fn var_mut(&mut self, k: usize) -> &mut dyn Var<E = Self::E>;
    /// Output buffers of the wrong shape (see [`Var::misshapen`]).
    fn misshapen(&self, empty: bool) -> Self;
}

impl<A: Var + Clone> Point for (A, ()) {
    type E = A::E;
    fn vars(&self) -> Vec<&dyn Var<E = A::E>> {
        vec![&self.0]
    }
    fn var_mut(&mut self, k: usize) -> &mut dyn Var<E = A::E> {
        assert_eq!(k, 0, "variable index out of range");
        &mut self.0
    }
    fn misshapen(&self, empty: bool) -> Self {
        (self.0.misshapen(empty), ())
    }
}

impl<A: Var + Clone, B, R> Point for (A, (B, R))
where
    (B, R): Point<E = A::E>,
{
    type E = A::E;
    fn vars(&self) -> Vec<&dyn Var<E = A::E>> {
        let mut v: Vec<&dyn Var<E = A::E>> = vec![&self.0];
        v.extend(self.1.vars());
        v
    }
    fn var_mut(&mut self, k: usize) -> &mut dyn Var<E = A::E> {
        if k == 0 {
            &mut self.0
        } else {
            self.1.var_mut(k - 1)
        }
    }
    fn misshapen(&self, empty: bool) -> Self {
        (self.0.misshapen(empty), self.1.misshapen(empty))
    }
}

/// `f_grad`'s flat result `(value, g1, …, gk)` as `(value, nested gradients)`.
pub trait Split<P> {
    /// The value type.
    type V;
    /// Splits off the value.
    fn split(self) -> (Self::V, P);
}

impl<T, A> Split<(A, ())> for (T, A) {
    type V = T;
    fn split(self) -> (T, (A, ())) {
        (self.0, (self.1, ()))
    }
}

impl<T, A, B> Split<(A, (B, ()))> for (T, A, B) {
    type V = T;
    fn split(self) -> (T, (A, (B, ()))) {
        (self.0, (self.1, (self.2, ())))
    }
}

impl<T, A, B, C> Split<(A, (B, (C, ())))> for (T, A, B, C) {
    type V = T;
    fn split(self) -> (T, (A, (B, (C, ())))) {
        (self.0, (self.1, (self.2, (self.3, ()))))
    }
}

impl<T, A, B, C, D> Split<(A, (B, (C, (D, ()))))> for (T, A, B, C, D) {
    type V = T;
    fn split(self) -> (T, (A, (B, (C, (D, ()))))) {
        (self.0, (self.1, (self.2, (self.3, (self.4, ())))))
    }
}

/// Nests expressions as a [`Point`]: `nest!(a, b)` is `(a, (b, ()))`.
macro_rules! nest {
    () => { () };
    ($head:expr $(, $tail:expr)* $(,)?) => { ($head, $crate::common::nest!($($tail),*)) };
}
pub(crate) use nest;

/// The pattern matching [`nest!`]: `nest_pat!(a, b)` is `(a, (b, ()))`.
macro_rules! nest_pat {
    () => { () };
    ($head:ident $(, $tail:ident)* $(,)?) => { ($head, $crate::common::nest_pat!($($tail),*)) };
}
pub(crate) use nest_pat;

/// Calls `into(args…, &mut out_1, …, &mut out_k, ws)` with the outputs taken from the
/// nested [`Point`] `outs` (one fresh binding per variable).
macro_rules! call_into {
    ($into:path, ($($arg:expr),*), $outs:expr, $ws:expr, [$($o:ident)*], [$w:ident]) => {{
        let (g, ()) = $outs;
        $into($($arg,)* $($o,)* g, $ws)
    }};
    ($into:path, ($($arg:expr),*), $outs:expr, $ws:expr, [$($o:ident)*], [$w:ident $($rest:ident)+]) => {{
        let (g, rest) = $outs;
        $crate::common::call_into!($into, ($($arg),*), rest, $ws, [$($o)* g], [$($rest)+])
    }};
}
pub(crate) use call_into;

/// Checks `f`, `f_grad` and `f_grad_into` at one point (see the module docs) and
/// returns the gradients as nested pairs `(g1, (g2, ()))`.
///
/// ```ignore
/// gradcheck!(&mut ws; f, f_grad, f_grad_into; (&x, &w, &y); w = mat(r, 3, 2));
/// ```
///
/// The workspace; the three functions; the argument list, written as in a call of
/// `f`, naming the `wrt` variables and any other variable in scope (the constants);
/// then the `wrt` variables in `wrt` order, each with its value.
macro_rules! gradcheck {
    (
        $ws:expr; $f:path, $grad:path, $into:path; ($($arg:expr),* $(,)?);
        $($w:ident = $init:expr),+ $(,)?
    ) => {{
        let point = $crate::common::nest!($($init),+);
        $crate::common::check(
            $crate::VALUE,
            stringify!($f),
            &[$(stringify!($w)),+],
            &point,
            |p| {
                let $crate::common::nest_pat!($($w),+) = p.clone();
                $f($($arg),*)
            },
            |p| {
                let $crate::common::nest_pat!($($w),+) = p.clone();
                $grad($($arg),*)
            },
            |p, outs, ws| {
                let $crate::common::nest_pat!($($w),+) = p.clone();
                $crate::common::call_into!($into, ($($arg),*), outs, ws, [], [$($w)+])
            },
            $ws,
        )
    }};
}
pub(crate) use gradcheck;

// ---------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------

/// `|got − want| / max(1, |want|)`.
pub fn mixed_error(got: f64, want: f64) -> f64 {
    let e = (got - want).abs() / want.abs().max(1.0);
    if e.is_nan() && !(got.is_nan() && want.is_nan()) {
        f64::INFINITY
    } else if e.is_nan() {
        0.0
    } else {
        e
    }
}

/// Central finite differences of `f` with respect to every entry of variable `k`, each
/// with the error it may carry from rounding alone (see [`Float::ROUNDING`]).
pub fn finite_differences<P: Point>(x: &P, f: &impl Fn(&P) -> P::E, k: usize) -> Vec<(f64, f64)> {
    let n = x.vars()[k].len();
    (0..n)
        .map(|i| {
            let xi = x.vars()[k].get(i);
            let h = <P::E as Float>::FD_STEP * xi.abs().max(1.0);
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp.var_mut(k).set(i, xi + h);
            xm.var_mut(k).set(i, xi - h);
            // Divide by the steps actually taken, after rounding to the variable's type.
            let span = xp.vars()[k].get(i) - xm.vars()[k].get(i);
            let (fp, fm) = (f(&xp).to_f64(), f(&xm).to_f64());
            let noise = 2.0 * <P::E as Float>::ROUNDING * fp.abs().max(fm.abs()) / span;
            ((fp - fm) / span, noise)
        })
        .collect()
}

/// `(i, j)` of flat entry `k` of a variable with `rows` rows (column-major).
fn entry(k: usize, rows: usize) -> (usize, usize) {
    (k % rows.max(1), k / rows.max(1))
}

/// Compares `got` with `want` entry by entry: entry `k` fails when
/// `|got − want| > tol · max(1, |want|) + slack`, `want[k] = (want, slack)`. On a
/// failure, appends a report: the worst entry first, then up to 12 failing entries.
fn compare<E: Float>(
    report: &mut String,
    what: &str,
    got: &dyn Var<E = E>,
    want: &[(f64, f64)],
    want_shape: (usize, usize),
    want_name: &str,
    tol: f64,
) {
    if got.shape() != want_shape {
        let _ = writeln!(
            report,
            "- {what}: shape {:?}, expected {want_shape:?}",
            got.shape()
        );
        return;
    }
    // How many times the allowed error each entry is off by.
    let excess: Vec<f64> = want
        .iter()
        .enumerate()
        .map(|(k, &(w, slack))| {
            let allowed = tol * w.abs().max(1.0) + slack;
            let e = mixed_error(got.get(k), w) * w.abs().max(1.0) / allowed;
            if e.is_nan() {
                f64::INFINITY
            } else {
                e
            }
        })
        .collect();
    let bad: Vec<usize> = (0..want.len()).filter(|&k| excess[k] > 1.0).collect();
    let Some(&worst) = bad
        .iter()
        .max_by(|&&a, &&b| excess[a].total_cmp(&excess[b]))
    else {
        return;
    };
    let (i, j) = entry(worst, want_shape.0);
    let (w, slack) = want[worst];
    let slack_note = if slack > 0.0 {
        format!(" + rounding allowance {slack:.2e}")
    } else {
        String::new()
    };
    let _ = writeln!(
        report,
        "- {what}: {} of {} entries off; worst ({i}, {j}): got {:.12e}, {want_name} {w:.12e}, \
         mixed error {:.3e} > {tol:e}{slack_note}",
        bad.len(),
        want.len(),
        got.get(worst),
        mixed_error(got.get(worst), w),
    );
    for &k in bad.iter().take(12) {
        let (i, j) = entry(k, want_shape.0);
        let _ = writeln!(
            report,
            "    ({i}, {j}): got {:+.9e}  {want_name} {:+.9e}",
            got.get(k),
            want[k].0
        );
    }
}

/// The entries of `v`, each with no slack, as [`compare`] takes them.
fn flat<E: Float>(v: &dyn Var<E = E>) -> Vec<(f64, f64)> {
    (0..v.len()).map(|k| (v.get(k), 0.0)).collect()
}

/// The checks behind [`gradcheck!`], with `f_grad`'s value held to `value`; returns
/// `f_grad`'s gradients.
#[allow(clippy::too_many_arguments)]
pub fn check<P, G>(
    value_contract: Value,
    name: &str,
    wrt: &[&str],
    x: &P,
    f: impl Fn(&P) -> P::E,
    grad: impl Fn(&P) -> G,
    grad_into: impl Fn(&P, &mut P, &mut Workspace<P::E>) -> P::E,
    ws: &mut Workspace<P::E>,
) -> P
where
    P: Point,
    G: Split<P, V = P::E>,
{
    let shapes: Vec<String> = x
        .vars()
        .iter()
        .zip(wrt)
        .map(|(v, w)| format!("{w}: {}", v.describe()))
        .collect();
    let context = format!(
        "{name} ({}) wrt ({})",
        <P::E as Float>::NAME,
        shapes.join(", ")
    );
    let mut report = String::new();

    let value = f(x);
    let (grad_value, g) = grad(x).split();
    if !value_contract.holds(grad_value, value) {
        let _ = writeln!(
            report,
            "- {name}_grad value {grad_value:?} != {name} value {value:?} ({})",
            value_contract.describe::<P::E>()
        );
    }
    // What `f_grad_into` must return, bit for bit: `f`'s value, or under `reassociate`
    // `f_grad`'s (the same forward pass).
    let (into_value, into_source) = match value_contract {
        Value::Exact => (value, name.to_string()),
        Value::Rounded => (grad_value, format!("{name}_grad")),
    };

    let mut expected: Vec<Vec<(f64, f64)>> = Vec::new();
    for (k, w) in wrt.iter().enumerate() {
        let var = x.vars()[k];
        let fd = finite_differences(x, &f, k);
        compare(
            &mut report,
            &format!("gradient of `{w}` vs finite differences"),
            g.vars()[k],
            &fd,
            var.shape(),
            "finite diff.",
            <P::E as Float>::FD_TOL,
        );
        expected.push(flat(g.vars()[k]));
    }

    let mut into_run = |label: &str, outs: &mut P, ws: &mut Workspace<P::E>| {
        let v = grad_into(x, outs, ws);
        if v != into_value {
            let _ = writeln!(
                report,
                "- {name}_grad_into ({label}) value {v:?} != {into_source} value {into_value:?}"
            );
        }
        for (k, w) in wrt.iter().enumerate() {
            compare(
                &mut report,
                &format!("{name}_grad_into ({label}) gradient of `{w}` vs {name}_grad"),
                outs.vars()[k],
                &expected[k],
                g.vars()[k].shape(),
                "_grad",
                <P::E as Float>::SAME_TOL,
            );
        }
    };
    let mut outs = x.misshapen(true);
    into_run(
        "empty outputs, fresh workspace",
        &mut outs,
        &mut Workspace::new(),
    );
    let mut outs = x.misshapen(true);
    into_run("empty outputs, shared workspace", &mut outs, ws);
    into_run("second call, same outputs and workspace", &mut outs, ws);
    let mut outs = x.misshapen(false);
    into_run("outputs of the wrong shape, filled with 7", &mut outs, ws);

    assert!(
        report.is_empty(),
        "gradient check failed: {context}\n{report}"
    );
    g
}

/// Asserts `got ≈ want` entrywise, `|got − want| / max(1, |want|) ≤ tol`.
#[track_caller]
pub fn assert_close<V: Var>(what: &str, got: &V, want: &V, tol: f64) {
    let mut report = String::new();
    compare(
        &mut report,
        what,
        got,
        &flat(want),
        want.shape(),
        "expected",
        tol,
    );
    assert!(report.is_empty(), "closed form mismatch\n{report}");
}

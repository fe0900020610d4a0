//! The reusable store of intermediates taken by the `NAME_grad_into` functions.

use nalgebra::{DMatrix, Scalar};
use std::cell::RefCell;
use std::fmt;
use std::thread::LocalKey;

/// A reusable store of intermediate matrices, for the `NAME_grad_into` functions that
/// `#[grad]` generates.
///
/// A `_grad_into` function keeps every intermediate of the forward and backward passes
/// in a numbered slot of the workspace it is given. The first call allocates them;
/// later calls with the same shapes reuse them, so a training loop that keeps one
/// workspace (and its gradient buffers) allocates nothing per step in the kernels
/// matgrad writes itself. Use one workspace per function (sharing one between
/// functions works, but each call may then resize the other's slots), and one per
/// thread.
///
/// # Example
///
/// ```
/// use matgrad_runtime::Workspace;
/// use nalgebra::DMatrix;
///
/// // Stands in for the `loss_grad_into` that `#[grad(wrt = w)]` generates for
/// // `fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 { (x * w).sum() }`.
/// fn loss_grad_into(
///     x: &DMatrix<f64>,
///     w: &DMatrix<f64>,
///     dw: &mut DMatrix<f64>,
///     ws: &mut Workspace<f64>,
/// ) -> f64 {
///     let _ = ws; // the generated code keeps its intermediates there
///     dw.copy_from(&(x.transpose() * DMatrix::from_element(x.nrows(), w.ncols(), 1.0)));
///     (x * w).sum()
/// }
///
/// let x = DMatrix::from_fn(8, 3, |i, j| (i + j) as f64);
/// let mut w = DMatrix::from_element(3, 2, 0.1);
/// let mut dw = DMatrix::zeros(3, 2);
/// let mut ws = Workspace::new();
/// for _ in 0..10 {
///     let _value = loss_grad_into(&x, &w, &mut dw, &mut ws);
///     w -= &dw * 1e-3;
/// }
/// ```
pub struct Workspace<T> {
    slots: Vec<DMatrix<T>>,
    /// Buffers of the functions that call a `_grad_into` (a `_jacobian_into`'s seed
    /// and gradients), apart from that function's own slots.
    extra: Vec<DMatrix<T>>,
    /// The workspaces of the loop bodies a function runs (one per run-time loop).
    children: Vec<Workspace<T>>,
    /// The values a run-time loop saves at each iteration for its reverse sweep.
    stacks: Vec<Vec<DMatrix<T>>>,
}

impl<T> Workspace<T> {
    /// An empty workspace: its slots are created by the first call that uses it.
    #[must_use]
    pub const fn new() -> Self {
        Workspace {
            slots: Vec::new(),
            extra: Vec::new(),
            children: Vec::new(),
            stacks: Vec::new(),
        }
    }
}

impl<T: Scalar> Workspace<T> {
    /// Moves slot `k` out (an empty matrix if it was never filled), leaving an empty
    /// matrix in its place. Allocates only when `k` is beyond every slot seen so far.
    #[doc(hidden)]
    #[inline(always)]
    pub fn take(&mut self, k: usize) -> DMatrix<T> {
        if k >= self.slots.len() {
            grow(&mut self.slots, k, DMatrix::default);
        }
        std::mem::take(&mut self.slots[k])
    }

    /// Moves `m` into slot `k`.
    #[doc(hidden)]
    #[inline(always)]
    pub fn put(&mut self, k: usize, m: DMatrix<T>) {
        if k >= self.slots.len() {
            grow(&mut self.slots, k, DMatrix::default);
        }
        self.slots[k] = m;
    }

    /// [`Workspace::take`] for the buffers of a function that calls a `_grad_into`
    /// with this workspace (which uses the ordinary slots).
    #[doc(hidden)]
    #[inline]
    pub fn take_extra(&mut self, k: usize) -> DMatrix<T> {
        if k >= self.extra.len() {
            grow(&mut self.extra, k, DMatrix::default);
        }
        std::mem::take(&mut self.extra[k])
    }

    /// The workspace of run-time loop `k`'s body (a `_grad_into` of its own, whose
    /// slots must not mix with the caller's). Allocates only the first time.
    #[doc(hidden)]
    #[inline]
    pub fn child(&mut self, k: usize) -> &mut Workspace<T> {
        if k >= self.children.len() {
            grow(&mut self.children, k, Workspace::new);
        }
        &mut self.children[k]
    }

    /// Moves run-time loop `k`'s saved values out (see [`Workspace::put_stack`]).
    #[doc(hidden)]
    #[inline]
    pub fn take_stack(&mut self, k: usize) -> Vec<DMatrix<T>> {
        if k >= self.stacks.len() {
            grow(&mut self.stacks, k, Vec::new);
        }
        std::mem::take(&mut self.stacks[k])
    }

    /// Moves `v`, run-time loop `k`'s saved values, back: its buffers serve the
    /// next call, which allocates only when it runs more iterations.
    #[doc(hidden)]
    #[inline]
    pub fn put_stack(&mut self, k: usize, v: Vec<DMatrix<T>>) {
        if k >= self.stacks.len() {
            grow(&mut self.stacks, k, Vec::new);
        }
        self.stacks[k] = v;
    }

    /// [`Workspace::put`] for those buffers.
    #[doc(hidden)]
    #[inline]
    pub fn put_extra(&mut self, k: usize, m: DMatrix<T>) {
        if k >= self.extra.len() {
            grow(&mut self.extra, k, DMatrix::default);
        }
        self.extra[k] = m;
    }
}

impl<T> Default for Workspace<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the shape of each slot (not their contents).
impl<T> fmt::Debug for Workspace<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Slot(usize, usize);
        impl fmt::Debug for Slot {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}×{}", self.0, self.1)
            }
        }
        f.debug_struct("Workspace")
            .field(
                "slots",
                &self
                    .slots
                    .iter()
                    .map(|m| Slot(m.nrows(), m.ncols()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Runs `f` with the calling thread's workspace for one `NAME_grad` function (a
/// `thread_local!` the generated code declares in the function), so that repeated
/// `NAME_grad` calls reuse their intermediates instead of allocating (and, for large
/// ones, page-faulting) them anew. A fresh workspace serves when the cached one is
/// unavailable (being destroyed with its thread, or already borrowed).
pub fn with_workspace<T: 'static, R>(
    key: &'static LocalKey<RefCell<Workspace<T>>>,
    f: impl FnOnce(&mut Workspace<T>) -> R,
) -> R {
    let mut f = Some(f);
    let cached = key.try_with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .map(|mut ws| (f.take().expect("called once"))(&mut ws))
    });
    match (cached, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(&mut Workspace::new()),
        (_, None) => unreachable!("`f` ran and returned"),
    }
}

/// The per-thread workspaces of a `NAME_grad` that is generic over its float type
/// (`fn loss<T: RealField + Copy>`): one for `f32`, one for `f64`. A `thread_local!`
/// in a generic function cannot name its type parameter, so the generated code
/// declares one of these and [`with_workspace_of`] picks the type's own.
#[derive(Default)]
pub struct Workspaces {
    single: Workspace<f32>,
    double: Workspace<f64>,
}

impl Workspaces {
    /// Two empty workspaces.
    pub const fn new() -> Self {
        Workspaces {
            single: Workspace::new(),
            double: Workspace::new(),
        }
    }
}

/// [`with_workspace`] for a function generic over its float type: runs `f` with the
/// calling thread's workspace for `T` (a fresh one for a type other than `f32` and
/// `f64`, which `Real` does not allow, or when the cached one is unavailable).
pub fn with_workspace_of<T: 'static, R>(
    key: &'static LocalKey<RefCell<Workspaces>>,
    f: impl FnOnce(&mut Workspace<T>) -> R,
) -> R {
    let mut f = Some(f);
    let cached = key.try_with(|cell| {
        let mut all = cell.try_borrow_mut().ok()?;
        let all = &mut *all;
        let any: &mut dyn std::any::Any =
            if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
                &mut all.single
            } else {
                &mut all.double
            };
        let ws = any.downcast_mut::<Workspace<T>>()?;
        f.take().map(|f| f(ws))
    });
    match (cached, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(&mut Workspace::new()),
        (_, None) => unreachable!("`f` ran and returned"),
    }
}

/// Lengthens `v` to hold index `k`: the cold path of [`Workspace::take`] and its
/// kin, out of line so that their hot path (an index, a move) inlines into every
/// generated function (`benches/fixed_cost.rs` measured the calls they were).
#[cold]
#[inline(never)]
fn grow<X>(v: &mut Vec<X>, k: usize, f: impl FnMut() -> X) {
    v.resize_with(k + 1, f);
}

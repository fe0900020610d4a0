//! The blocked matrix product behind [`Real::__gemm`](crate::Real::__gemm): the
//! algorithm and the arithmetic of matrixmultiply 0.3, with the packing buffers kept
//! per thread, so that a product allocates nothing once its thread has packed a
//! product at least as large.
//!
//! matrixmultiply allocates its packing buffer on every call, and the `gemm` crate
//! (0.19) allocates on every blocked call too (a `Vec` of flags and, for most shapes,
//! its packing buffer), besides being 1.2–3× slower than matrixmultiply on the
//! shapes matgrad meets. Hence this module.
//!
//! # The same bits as matrixmultiply
//!
//! Every entry of `C` comes out exactly as matrixmultiply (and so nalgebra's `a * b`,
//! which calls it when all dimensions exceed 5) computes it on the same machine:
//!
//! - the sum over `k` runs in chunks of [`KC`] = 256 terms, as matrixmultiply's;
//!   within a chunk the terms are added in order, fused (`fma`) or not, as the
//!   kernel matrixmultiply selects does ([`Reference`]);
//! - each chunk is added to `C` with that kernel's formula (`alpha` and `beta`
//!   applied in its order, fused or not), where `beta` is the caller's for the
//!   first chunk and 1 afterwards;
//! - entries in matrixmultiply's partial edge tiles (the last `m mod MR` rows and
//!   `n mod NR` columns of its kernel's tile) go through its masked path, whose
//!   formula differs from a full tile's when `alpha ≠ 1` and `beta ≠ 0`.
//!
//! The tiles and block sizes used here are chosen for speed and are free: only the
//! per-entry arithmetic above is fixed. Tests compare against matrixmultiply bit by
//! bit on the machine that runs them (so far: AVX-512; the AVX2 + FMA, AVX, NEON and
//! fallback formulas are transcribed from matrixmultiply 0.3.11's source and are
//! checked wherever the tests run on such a machine); a matrixmultiply release that
//! changed its arithmetic would fail them, and so would building matrixmultiply with
//! its `MATMUL_*GEMM_KC` environment variables set.
//!
//! # Memory
//!
//! Each thread that multiplies keeps one packing buffer, grown to the largest
//! product it has seen and capped by the block sizes: at most ≈ 2.3 MB (`f64`) or
//! ≈ 1.2 MB (`f32`), freed when the thread exits.

use std::cell::{Cell, UnsafeCell};
use std::ops::{Add, Mul};

#[cfg(target_arch = "x86")]
use std::arch::x86 as arch;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64 as arch;

/// matrixmultiply's depth block (`S_KC` = `D_KC` = 256): part of the arithmetic.
const KC: usize = 256;

/// Rows of `A` packed at once (rounded down to the kernel's tile height).
const MC_TARGET: usize = 128;

/// Columns of `B` packed at once (rounded down to the kernel's tile width).
const NC_TARGET: usize = 1024;

/// The largest tile (`MR · NR`) of any kernel here, in elements.
const MAX_TILE: usize = 256;

/// Alignment of the packed panels, in bytes.
const ALIGN: usize = 64;

// ---------------------------------------------------------------------------
// matrixmultiply's arithmetic
// ---------------------------------------------------------------------------

/// How matrixmultiply's selected kernel adds a chunk `ab = Σ a·b` into `c`
/// (one variant per kernel, named after it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Formula {
    /// AVX-512 (`avx512f`, Rust ≥ 1.89): fused sums; `c = fma(α, ab, β·c)`, or
    /// `α·ab` when `β = 0`.
    Avx512,
    /// AVX2 + FMA: fused sums; `c = fma(α, ab, β·c)`, or `fma(α, ab, 0)` when `β = 0`.
    FmaAvx2,
    /// AVX without FMA: unfused sums; `c = β·c + α·ab`, or `0 + α·ab` when `β = 0`.
    Avx,
    /// NEON (aarch64): fused sums; `c = fma(c, β, α·ab)`, or `α·ab` when `β = 0`.
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    Neon,
    /// Portable fallback: unfused sums, every tile through the masked path.
    Fallback,
}

/// matrixmultiply's kernel for one element type on this machine: its formula and
/// its tile (which decides which entries are in partial edge tiles).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reference {
    pub(crate) formula: Formula,
    pub(crate) mr: usize,
    pub(crate) nr: usize,
}

impl Formula {
    /// Whether every tile takes the masked path.
    #[inline(always)]
    fn always_masked(self) -> bool {
        self == Formula::Fallback
    }
}

/// The kernel matrixmultiply's `detect` selects, in its order of preference.
#[inline]
fn formula() -> Formula {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        #[cfg(matgrad_avx512)]
        if std::is_x86_feature_detected!("avx512f") {
            return Formula::Avx512;
        }
        if std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("avx2") {
            return Formula::FmaAvx2;
        }
        if std::is_x86_feature_detected!("avx") {
            return Formula::Avx;
        }
    }
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("neon") {
        return Formula::Neon;
    }
    Formula::Fallback
}

// ---------------------------------------------------------------------------
// Element types
// ---------------------------------------------------------------------------

/// `f32` or `f64`, with what the kernels need.
pub(crate) trait Elem:
    Copy + PartialEq + Add<Output = Self> + Mul<Output = Self> + Send + Sync + 'static
{
    const ZERO: Self;
    const ONE: Self;

    /// `self · a + b`, rounded once.
    fn fma(self, a: Self, b: Self) -> Self;

    /// matrixmultiply's kernel for this type on this machine.
    fn reference() -> Reference;

    /// Runs the blocked product with the kernel that reproduces `p.formula`.
    ///
    /// # Safety
    ///
    /// [`Problem`]'s contract.
    unsafe fn dispatch(p: &Problem<Self>);
}

impl Elem for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;

    #[inline(always)]
    fn fma(self, a: f64, b: f64) -> f64 {
        self.mul_add(a, b)
    }

    #[inline]
    fn reference() -> Reference {
        let formula = formula();
        let (mr, nr) = match formula {
            Formula::Avx512 => (8, 8),
            Formula::FmaAvx2 | Formula::Avx | Formula::Neon => (8, 4),
            Formula::Fallback => (4, 4),
        };
        Reference { formula, mr, nr }
    }

    unsafe fn dispatch(p: &Problem<f64>) {
        // SAFETY (every arm): the caller's contract; each target-feature kernel is
        // called only when `formula()` has detected its features.
        unsafe {
            match p.formula {
                #[cfg(all(matgrad_avx512, any(target_arch = "x86", target_arch = "x86_64")))]
                Formula::Avx512 => x86::f64_avx512(p),
                #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                Formula::FmaAvx2 => x86::f64_fma(p),
                #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                Formula::Avx => x86::f64_avx(p),
                Formula::Neon => run::<f64, Scalar<true>, 8, 4>(p),
                _ => run::<f64, Scalar<false>, 4, 4>(p),
            }
        }
    }
}

impl Elem for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;

    #[inline(always)]
    fn fma(self, a: f32, b: f32) -> f32 {
        self.mul_add(a, b)
    }

    #[inline]
    fn reference() -> Reference {
        let formula = formula();
        let (mr, nr) = match formula {
            Formula::Avx512 => (16, 16),
            Formula::FmaAvx2 | Formula::Avx | Formula::Neon => (8, 8),
            Formula::Fallback => (8, 4),
        };
        Reference { formula, mr, nr }
    }

    unsafe fn dispatch(p: &Problem<f32>) {
        // SAFETY: as for f64.
        unsafe {
            match p.formula {
                #[cfg(all(matgrad_avx512, any(target_arch = "x86", target_arch = "x86_64")))]
                Formula::Avx512 => x86::f32_avx512(p),
                #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                Formula::FmaAvx2 => x86::f32_fma(p),
                #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                Formula::Avx => x86::f32_avx(p),
                Formula::Neon => run::<f32, Scalar<true>, 16, 4>(p),
                _ => run::<f32, Scalar<false>, 8, 4>(p),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

/// One product `c = α·a·b + β·c` (`a` `m×k`, `b` `k×n`), with the entries of `c` in
/// rows `< full_rows` and columns `< full_cols` taking the full-tile formula and the
/// others the masked one (positions relative to this problem's `c`).
///
/// Contract: for `i < m`, `l < k`, `j < n`, `a + i·rsa + l·csa` and `b + l·rsb + j·csb`
/// are readable, `c + i·rsc + j·csc` writable (and readable unless `beta == 0`),
/// distinct `(i, j)` address distinct entries, and `c` overlaps neither `a` nor `b`.
pub(crate) struct Problem<T> {
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
    formula: Formula,
    full_rows: usize,
    full_cols: usize,
}

// SAFETY: a `Problem` is only shared with the threads that compute disjoint parts of
// its `c` (the `parallel` feature), while the caller's borrows keep it alive.
unsafe impl<T: Sync> Sync for Problem<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Problem<T> {}

/// Entry `(i, j)` of the `m×n` product `a · b` (`alpha = 1`, `beta = 0`), with the
/// bits [`gemm`] gives it: the same chunks over `k`, the same fused or unfused sums,
/// the same full-tile or masked formula. `a` points to row `i` of `a` (stride `sa`
/// between its entries), `b` to column `j` of `b` (stride `sb`). O(k): what a trace
/// of a product needs, without the product.
///
/// # Safety
///
/// `a.offset(l · sa)` and `b.offset(l · sb)` are readable for every `l < k`.
pub(crate) unsafe fn product_entry<T: Elem>(
    (m, n): (usize, usize),
    (i, j): (usize, usize),
    k: usize,
    a: *const T,
    sa: isize,
    b: *const T,
    sb: isize,
) -> T {
    let r = T::reference();
    let full = !r.formula.always_masked() && i < m - m % r.mr && j < n - n % r.nr;
    let fused = matches!(
        r.formula,
        Formula::Avx512 | Formula::FmaAvx2 | Formula::Neon
    );
    let mut c = [T::ZERO];
    let mut l0 = 0;
    while l0 < k {
        let kc = KC.min(k - l0);
        // SAFETY: l0 + kc ≤ k (the contract).
        let (a_l, b_l) = unsafe { (a.offset(l0 as isize * sa), b.offset(l0 as isize * sb)) };
        let ab = if fused {
            // SAFETY: the contract; a fused formula was detected on this CPU, so its
            // multiply-add instruction exists.
            unsafe { fused_dot(kc, a_l, sa, b_l, sb) }
        } else {
            let mut ab = T::ZERO;
            for l in 0..kc {
                // SAFETY: l < kc.
                let (x, y) =
                    unsafe { (*a_l.offset(l as isize * sa), *b_l.offset(l as isize * sb)) };
                ab = x * y + ab;
            }
            ab
        };
        let beta = if l0 == 0 { T::ZERO } else { T::ONE };
        update(r.formula, full, T::ONE, beta, &[ab], &mut c);
        l0 += kc;
    }
    c[0]
}

/// `Σ_l a_l b_l` by fused multiply-adds in order (`ab = fma(a_l, b_l, ab)`), `k`
/// entries of strides `sa`, `sb`. Compiled with the FMA feature on x86, where
/// `mul_add` would otherwise be a call per term (a third of `tr(S X)`'s time at
/// n = 8); the same roundings either way.
///
/// # Safety
///
/// The `k` entries are readable; on x86 the CPU has FMA (a fused formula was
/// detected).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "fma")]
unsafe fn fused_dot<T: Elem>(k: usize, a: *const T, sa: isize, b: *const T, sb: isize) -> T {
    let mut ab = T::ZERO;
    for l in 0..k {
        // SAFETY: l < k (the contract).
        let (x, y) = unsafe { (*a.offset(l as isize * sa), *b.offset(l as isize * sb)) };
        ab = x.fma(y, ab);
    }
    ab
}

/// [`fused_dot`] where `mul_add` is an instruction anyway.
///
/// # Safety
///
/// The `k` entries are readable.
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
unsafe fn fused_dot<T: Elem>(k: usize, a: *const T, sa: isize, b: *const T, sb: isize) -> T {
    let mut ab = T::ZERO;
    for l in 0..k {
        // SAFETY: l < k (the contract).
        let (x, y) = unsafe { (*a.offset(l as isize * sa), *b.offset(l as isize * sb)) };
        ab = x.fma(y, ab);
    }
    ab
}

/// `c = alpha · a · b + beta · c`, the same bits as matrixmultiply's `sgemm`/`dgemm`
/// with the same arguments; `c` is not read when `beta` is zero.
///
/// # Safety
///
/// [`Problem`]'s contract (that of matrixmultiply's `dgemm`).
#[allow(clippy::too_many_arguments)] // the BLAS argument list
pub(crate) unsafe fn gemm<T: Elem>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // matrixmultiply's `c_to_beta_c`.
        for j in 0..n {
            for i in 0..m {
                // SAFETY: (i, j) is an entry of c (the contract).
                unsafe {
                    let e = c.offset(i as isize * rsc + j as isize * csc);
                    *e = if beta == T::ZERO { T::ZERO } else { *e * beta };
                }
            }
        }
        return;
    }
    let r = T::reference();
    let (full_rows, full_cols) = if r.formula.always_masked() {
        (0, 0)
    } else {
        (m - m % r.mr, n - n % r.nr)
    };
    let p = Problem {
        m,
        k,
        n,
        alpha,
        a,
        rsa,
        csa,
        b,
        rsb,
        csb,
        beta,
        c,
        rsc,
        csc,
        formula: r.formula,
        full_rows,
        full_cols,
    };
    #[cfg(feature = "parallel")]
    if parallel::worth_it(m, k, n) {
        // SAFETY: the caller's contract.
        unsafe { parallel::split(&p, rayon::current_num_threads()) };
        return;
    }
    // SAFETY: the caller's contract.
    unsafe { T::dispatch(&p) }
}

#[cfg(feature = "parallel")]
mod parallel {
    //! Large products split into column (or row) slabs computed on rayon's threads.
    //! A slab is a product of its own, so each thread packs into its own buffer;
    //! the split points are multiples of every tile size and the edge-tile bounds
    //! are carried over, so the bits do not depend on the split.

    use super::{Elem, Problem};

    /// Below this many multiply-adds (`m·k·n`) one thread is faster (measured on 2
    /// cores: at 128³ ≈ 2.1 M two threads gain ≈ 1.4×, at 64³ they lose).
    pub(super) const PARALLEL_WORK: usize = 1 << 21;

    /// Split points are multiples of this (a multiple of every MR and NR here).
    const GRAIN: usize = 48;

    pub(super) fn worth_it(m: usize, k: usize, n: usize) -> bool {
        m.saturating_mul(k).saturating_mul(n) >= PARALLEL_WORK
            && m.max(n) >= 2 * GRAIN
            && rayon::current_num_threads() > 1
    }

    /// Computes `p` on `threads` threads, halving the larger of `m` and `n`.
    ///
    /// # Safety
    ///
    /// [`Problem`]'s contract.
    pub(super) unsafe fn split<T: Elem>(p: &Problem<T>, threads: usize) {
        let along_n = p.n >= p.m;
        let len = if along_n { p.n } else { p.m };
        if threads < 2 || len < 2 * GRAIN {
            // SAFETY: the caller's contract.
            return unsafe { T::dispatch(p) };
        }
        let first = (len / 2).div_ceil(GRAIN) * GRAIN;
        let (p1, p2) = if along_n {
            let mut p2 = Problem { ..*p };
            p2.n = p.n - first;
            // SAFETY: offsets of entries of b and c (column `first` < n).
            p2.b = p.b.wrapping_offset(first as isize * p.csb);
            p2.c = p.c.wrapping_offset(first as isize * p.csc);
            p2.full_cols = p.full_cols.saturating_sub(first);
            let mut p1 = Problem { ..*p };
            p1.n = first;
            p1.full_cols = p.full_cols.min(first);
            (p1, p2)
        } else {
            let mut p2 = Problem { ..*p };
            p2.m = p.m - first;
            p2.a = p.a.wrapping_offset(first as isize * p.rsa);
            p2.c = p.c.wrapping_offset(first as isize * p.rsc);
            p2.full_rows = p.full_rows.saturating_sub(first);
            let mut p1 = Problem { ..*p };
            p1.m = first;
            p1.full_rows = p.full_rows.min(first);
            (p1, p2)
        };
        let (t1, t2) = (threads / 2, threads - threads / 2);
        rayon::join(
            // SAFETY: the halves write disjoint parts of c, each within the contract.
            || unsafe { split(&p1, t1) },
            || unsafe { split(&p2, t2) },
        );
    }
}

// ---------------------------------------------------------------------------
// Packing buffers, one per thread
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Chunk([u8; ALIGN]);

/// A thread's packing buffer; `busy` while a product on this thread uses it.
struct Pack {
    busy: Cell<bool>,
    buf: UnsafeCell<Vec<Chunk>>,
}

thread_local! {
    static PACK: Pack = const {
        Pack {
            busy: Cell::new(false),
            buf: UnsafeCell::new(Vec::new()),
        }
    };
}

/// At least `bytes` of 64-byte-aligned scratch: this thread's buffer (grown when
/// too small: the only allocation), or a fresh one when it is unavailable (in use
/// further up the stack, or the thread is exiting).
struct Scratch {
    ptr: *mut u8,
    own: Option<Vec<Chunk>>,
}

impl Scratch {
    fn get(bytes: usize) -> Scratch {
        let chunks = bytes.div_ceil(ALIGN);
        let shared = PACK.try_with(|p| {
            if p.busy.get() {
                return None;
            }
            p.busy.set(true);
            // SAFETY: `busy` was false, so no other reference to the vector exists,
            // and this one ends before `with` returns.
            let v = unsafe { &mut *p.buf.get() };
            if v.len() < chunks {
                v.clear();
                v.resize(chunks, Chunk([0; ALIGN]));
            }
            Some(v.as_mut_ptr().cast::<u8>())
        });
        match shared {
            Ok(Some(ptr)) => Scratch { ptr, own: None },
            _ => {
                let mut v = vec![Chunk([0; ALIGN]); chunks];
                Scratch {
                    ptr: v.as_mut_ptr().cast(),
                    own: Some(v),
                }
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.own.is_none() {
            // The buffer is not resized while busy, so `ptr` stayed valid until here.
            let _ = PACK.try_with(|p| p.busy.set(false));
        }
    }
}

// ---------------------------------------------------------------------------
// Vector lanes for the micro-kernels
// ---------------------------------------------------------------------------

/// A SIMD vector of `N` elements of `T` (or one element, for the portable kernels).
trait Lanes<T: Elem> {
    type V: Copy;
    const N: usize;
    unsafe fn zero() -> Self::V;
    unsafe fn load(p: *const T) -> Self::V;
    unsafe fn splat(x: T) -> Self::V;
    /// `a · b + c`, fused or not as the formula wants.
    unsafe fn madd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn store(p: *mut T, v: Self::V);
}

/// One element per "vector": the portable kernels (`FUSED` selects `fma` or `a·b + c`).
struct Scalar<const FUSED: bool>;

impl<T: Elem, const FUSED: bool> Lanes<T> for Scalar<FUSED> {
    type V = T;
    const N: usize = 1;
    #[inline(always)]
    unsafe fn zero() -> T {
        T::ZERO
    }
    #[inline(always)]
    unsafe fn load(p: *const T) -> T {
        // SAFETY: the caller's.
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn splat(x: T) -> T {
        x
    }
    #[inline(always)]
    unsafe fn madd(a: T, b: T, c: T) -> T {
        if FUSED {
            a.fma(b, c)
        } else {
            a * b + c
        }
    }
    #[inline(always)]
    unsafe fn mul(a: T, b: T) -> T {
        a * b
    }
    #[inline(always)]
    unsafe fn store(p: *mut T, v: T) {
        // SAFETY: the caller's.
        unsafe { *p = v }
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86 {
    //! The x86 kernels: AVX (unfused), AVX2 + FMA and AVX-512, each instantiating
    //! the generic driver inside a function compiled for its features.

    use super::arch::*;
    use super::{run, Lanes, Problem};

    macro_rules! lanes {
        ($name:ident, $t:ty, $v:ty, $n:expr, $zero:ident, $load:ident, $splat:ident,
         $store:ident, $mul:ident, |$a:ident, $b:ident, $c:ident| $madd:expr) => {
            pub(super) struct $name;
            impl Lanes<$t> for $name {
                type V = $v;
                const N: usize = $n;
                #[inline(always)]
                unsafe fn zero() -> $v {
                    // SAFETY: called only from functions with the features enabled.
                    unsafe { $zero() }
                }
                #[inline(always)]
                unsafe fn load(p: *const $t) -> $v {
                    // SAFETY: as above; `p` points to `N` elements (the caller's).
                    unsafe { $load(p) }
                }
                #[inline(always)]
                unsafe fn splat(x: $t) -> $v {
                    // SAFETY: as above.
                    unsafe { $splat(x) }
                }
                #[inline(always)]
                unsafe fn madd($a: $v, $b: $v, $c: $v) -> $v {
                    // SAFETY: as above.
                    unsafe { $madd }
                }
                #[inline(always)]
                unsafe fn mul(a: $v, b: $v) -> $v {
                    // SAFETY: as above.
                    unsafe { $mul(a, b) }
                }
                #[inline(always)]
                unsafe fn store(p: *mut $t, v: $v) {
                    // SAFETY: as above.
                    unsafe { $store(p, v) }
                }
            }
        };
    }

    lanes!(
        AvxF64,
        f64,
        __m256d,
        4,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_set1_pd,
        _mm256_storeu_pd,
        _mm256_mul_pd,
        |a, b, c| _mm256_add_pd(_mm256_mul_pd(a, b), c)
    );
    lanes!(
        AvxF32,
        f32,
        __m256,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_set1_ps,
        _mm256_storeu_ps,
        _mm256_mul_ps,
        |a, b, c| _mm256_add_ps(_mm256_mul_ps(a, b), c)
    );
    lanes!(
        FmaF64,
        f64,
        __m256d,
        4,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_set1_pd,
        _mm256_storeu_pd,
        _mm256_mul_pd,
        |a, b, c| _mm256_fmadd_pd(a, b, c)
    );
    lanes!(
        FmaF32,
        f32,
        __m256,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_set1_ps,
        _mm256_storeu_ps,
        _mm256_mul_ps,
        |a, b, c| _mm256_fmadd_ps(a, b, c)
    );
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn f64_avx(p: &Problem<f64>) {
        // SAFETY: the caller's contract; AVX detected by the caller.
        unsafe { run::<f64, AvxF64, 2, 4>(p) }
    }

    #[target_feature(enable = "avx")]
    pub(super) unsafe fn f32_avx(p: &Problem<f32>) {
        // SAFETY: as above.
        unsafe { run::<f32, AvxF32, 2, 4>(p) }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn f64_fma(p: &Problem<f64>) {
        // SAFETY: as above (AVX2 and FMA).
        unsafe { run::<f64, FmaF64, 2, 6>(p) }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn f32_fma(p: &Problem<f32>) {
        // SAFETY: as above.
        unsafe { run::<f32, FmaF32, 2, 6>(p) }
    }

    #[cfg(matgrad_avx512)]
    pub(super) use avx512::{f32_avx512, f64_avx512};

    /// AVX-512 intrinsics are stable from Rust 1.89, which `matgrad_avx512` (set by
    /// build.rs) guarantees: the MSRV lint does not see the cfg.
    #[cfg(matgrad_avx512)]
    #[allow(clippy::incompatible_msrv)]
    mod avx512 {
        use super::super::arch::*;
        use super::super::{run, Lanes, Problem};

        lanes!(
            Avx512F64,
            f64,
            __m512d,
            8,
            _mm512_setzero_pd,
            _mm512_loadu_pd,
            _mm512_set1_pd,
            _mm512_storeu_pd,
            _mm512_mul_pd,
            |a, b, c| _mm512_fmadd_pd(a, b, c)
        );
        lanes!(
            Avx512F32,
            f32,
            __m512,
            16,
            _mm512_setzero_ps,
            _mm512_loadu_ps,
            _mm512_set1_ps,
            _mm512_storeu_ps,
            _mm512_mul_ps,
            |a, b, c| _mm512_fmadd_ps(a, b, c)
        );

        #[target_feature(enable = "avx512f")]
        pub(in super::super) unsafe fn f64_avx512(p: &Problem<f64>) {
            // SAFETY: as above (AVX-512F).
            unsafe { run::<f64, Avx512F64, 2, 8>(p) }
        }

        #[target_feature(enable = "avx512f")]
        pub(in super::super) unsafe fn f32_avx512(p: &Problem<f32>) {
            // SAFETY: as above. One vector per tile column when a second would only
            // hold padding (measured: m = 16 was 1.3–1.7× slower than matrixmultiply).
            unsafe {
                if p.m <= 16 {
                    run::<f32, Avx512F32, 1, 16>(p)
                } else {
                    run::<f32, Avx512F32, 2, 8>(p)
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The blocked driver
// ---------------------------------------------------------------------------

#[inline(always)]
fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

/// The product `p` with `MV` vectors of `L` per tile column (`MR = MV · L::N` rows)
/// and `NR` columns per tile: BLIS's loops around the micro-kernel, as matrixmultiply.
///
/// # Safety
///
/// [`Problem`]'s contract, and the features `L` needs.
#[inline(always)]
unsafe fn run<T: Elem, L: Lanes<T>, const MV: usize, const NR: usize>(p: &Problem<T>) {
    let mr = MV * L::N;
    debug_assert!(mr * NR <= MAX_TILE);
    let mc_block = (MC_TARGET / mr).max(1) * mr;
    let nc_block = (NC_TARGET / NR).max(1) * NR;
    let kc_max = p.k.min(KC);
    let size = std::mem::size_of::<T>();
    let a_len = round_up(round_up(p.m.min(mc_block), mr) * kc_max * size, ALIGN);
    let b_len = round_up(p.n.min(nc_block), NR) * kc_max * size;
    let scratch = Scratch::get(a_len + b_len);
    let ap = scratch.ptr.cast::<T>();
    // SAFETY: inside the scratch buffer (a_len is a multiple of ALIGN).
    let bp = unsafe { scratch.ptr.add(a_len) }.cast::<T>();
    let mut tile = Tile([T::ZERO; MAX_TILE]);
    let tile = tile.0.as_mut_ptr();
    // Whole tiles go straight from the registers to c when its columns are contiguous
    // and the formula is one of the x86 ones (the portable lanes take the tile path).
    let direct = p.rsc == 1
        && L::N > 1
        && matches!(p.formula, Formula::Avx512 | Formula::FmaAvx2 | Formula::Avx);

    let mut jc = 0;
    while jc < p.n {
        let nc = nc_block.min(p.n - jc);
        let mut pc = 0;
        while pc < p.k {
            let kc = KC.min(p.k - pc);
            let beta = if pc == 0 { p.beta } else { T::ONE };
            // SAFETY (the packing and the kernel calls below): the blocks lie inside
            // the operands (the contract), the panels inside the scratch buffer.
            unsafe {
                pack_b(
                    kc,
                    nc,
                    NR,
                    p.b.offset(pc as isize * p.rsb + jc as isize * p.csb),
                    p.rsb,
                    p.csb,
                    bp,
                );
            }
            let mut ic = 0;
            while ic < p.m {
                let mc = mc_block.min(p.m - ic);
                unsafe {
                    pack_a(
                        kc,
                        mc,
                        mr,
                        p.a.offset(ic as isize * p.rsa + pc as isize * p.csa),
                        p.rsa,
                        p.csa,
                        ap,
                    );
                }
                let mut jr = 0;
                while jr < nc {
                    let cols = NR.min(nc - jr);
                    let j0 = jc + jr;
                    let mut ir = 0;
                    while ir < mc {
                        let rows = mr.min(mc - ir);
                        let i0 = ic + ir;
                        let edge = Edge {
                            rows: p.full_rows.saturating_sub(i0).min(rows),
                            cols: p.full_cols.saturating_sub(j0).min(cols),
                        };
                        unsafe {
                            let acc = micro::<T, L, MV, NR>(kc, ap.add(ir * kc), bp.add(jr * kc));
                            let cij = p.c.offset(i0 as isize * p.rsc + j0 as isize * p.csc);
                            if direct && edge.rows == mr && edge.cols == NR {
                                store_full::<T, L, MV, NR>(
                                    &acc, p.formula, p.alpha, beta, cij, p.csc,
                                );
                            } else {
                                store_tile::<T, L, MV, NR>(&acc, tile);
                                write_back(
                                    p.formula, tile, mr, rows, cols, edge, p.alpha, beta, cij,
                                    p.rsc, p.csc,
                                );
                            }
                        }
                        ir += mr;
                    }
                    jr += NR;
                }
                ic += mc;
            }
            pc += kc;
        }
        jc += nc;
    }
    drop(scratch);
}

#[repr(C, align(64))]
struct Tile<T>([T; MAX_TILE]);

/// Packs the `mc×kc` block at `a` into panels of `mr` rows: panel `q` holds, for each
/// `l < kc`, rows `q·mr ..` of column `l` (zero past `mc`).
#[inline(always)]
unsafe fn pack_a<T: Elem>(
    kc: usize,
    mc: usize,
    mr: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    dst: *mut T,
) {
    let mut i0 = 0;
    while i0 < mc {
        let rows = mr.min(mc - i0);
        // SAFETY: entries of the block, and the panel `[i0·kc, i0·kc + mr·kc)` of dst.
        unsafe {
            pack_panel(
                kc,
                rows,
                mr,
                a.offset(i0 as isize * rsa),
                rsa,
                csa,
                dst.add(i0 * kc),
            );
        }
        i0 += mr;
    }
}

/// Packs the `kc×nc` block at `b` into panels of `nr` columns: panel `q` holds, for
/// each `l < kc`, columns `q·nr ..` of row `l` (zero past `nc`).
#[inline(always)]
unsafe fn pack_b<T: Elem>(
    kc: usize,
    nc: usize,
    nr: usize,
    b: *const T,
    rsb: isize,
    csb: isize,
    dst: *mut T,
) {
    let mut j0 = 0;
    while j0 < nc {
        let cols = nr.min(nc - j0);
        // SAFETY: as in `pack_a`, on the transpose.
        unsafe {
            pack_panel(
                kc,
                cols,
                nr,
                b.offset(j0 as isize * csb),
                csb,
                rsb,
                dst.add(j0 * kc),
            );
        }
        j0 += nr;
    }
}

/// One panel: `d[l·w + i] = s[i·si + l·sl]` for `i < len`, `l < kc`, and zero for
/// `len ≤ i < w` (`w` is the kernel's tile size, a constant once inlined).
#[inline(always)]
unsafe fn pack_panel<T: Elem>(
    kc: usize,
    len: usize,
    w: usize,
    s: *const T,
    si: isize,
    sl: isize,
    d: *mut T,
) {
    // SAFETY: the caller's: `s` addresses a len×kc block through (si, sl), `d` has
    // room for kc·w elements.
    unsafe {
        if si == 1 && len == w {
            // Each step of l is a run of `w` elements (a constant: vector moves).
            for l in 0..kc {
                std::ptr::copy_nonoverlapping(s.offset(l as isize * sl), d.add(l * w), w);
            }
        } else if si == 1 {
            // Each step of l is a run of `len` elements.
            for l in 0..kc {
                std::ptr::copy_nonoverlapping(s.offset(l as isize * sl), d.add(l * w), len);
                for i in len..w {
                    *d.add(l * w + i) = T::ZERO;
                }
            }
        } else if len == w {
            // `w` strided streams read in step, written one row of the panel at a time
            // (writing one stream at a time would scatter).
            for l in 0..kc {
                let (sl, dl) = (s.offset(l as isize * sl), d.add(l * w));
                for i in 0..w {
                    *dl.add(i) = *sl.offset(i as isize * si);
                }
            }
        } else {
            for l in 0..kc {
                let (sl, dl) = (s.offset(l as isize * sl), d.add(l * w));
                for i in 0..len {
                    *dl.add(i) = *sl.offset(i as isize * si);
                }
                for i in len..w {
                    *dl.add(i) = T::ZERO;
                }
            }
        }
    }
}

/// The `mr×NR` tile `Σ_l a_l b_lᵀ` of a packed `A` panel and `B` panel, summed in
/// order of `l` (one chain of multiply-adds per entry), column by column.
#[inline(always)]
unsafe fn micro<T: Elem, L: Lanes<T>, const MV: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    b: *const T,
) -> [[L::V; MV]; NR] {
    let mr = MV * L::N;
    // SAFETY: the panels hold kc·mr and kc·NR elements.
    unsafe {
        let mut acc = [[L::zero(); MV]; NR];
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let mut av = [L::zero(); MV];
            for (v, x) in av.iter_mut().enumerate() {
                *x = L::load(a.add(v * L::N));
            }
            for (j, col) in acc.iter_mut().enumerate() {
                let bj = L::splat(*b.add(j));
                for (x, &y) in col.iter_mut().zip(&av) {
                    *x = L::madd(y, bj, *x);
                }
            }
            a = a.add(mr);
            b = b.add(NR);
        }
        acc
    }
}

/// Stores `acc` column-major in `tile` (column stride `MV · L::N`).
#[inline(always)]
unsafe fn store_tile<T: Elem, L: Lanes<T>, const MV: usize, const NR: usize>(
    acc: &[[L::V; MV]; NR],
    tile: *mut T,
) {
    for (j, col) in acc.iter().enumerate() {
        for (v, &x) in col.iter().enumerate() {
            // SAFETY: the tile holds MV·L::N·NR ≤ MAX_TILE elements.
            unsafe { L::store(tile.add((j * MV + v) * L::N), x) };
        }
    }
}

/// Adds a whole tile inside matrixmultiply's full tiles into `c` (unit row stride)
/// straight from the registers, for the x86 formulas: `fma(α, ab, β·c)` is
/// `madd(α, ab, β·c)` with the fused lanes and `β·c + α·ab` with AVX's; for a zero
/// β, AVX-512 multiplies (`α·ab`) and the others add to zero (`madd(α, ab, 0)`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn store_full<T: Elem, L: Lanes<T>, const MV: usize, const NR: usize>(
    acc: &[[L::V; MV]; NR],
    formula: Formula,
    alpha: T,
    beta: T,
    c: *mut T,
    csc: isize,
) {
    // SAFETY: the tile's entries of c (a contiguous run of MV·L::N per column).
    unsafe {
        let (av, bv) = (L::splat(alpha), L::splat(beta));
        for (j, col) in acc.iter().enumerate() {
            let cj = c.offset(j as isize * csc);
            for (v, &x) in col.iter().enumerate() {
                let e = cj.add(v * L::N);
                let r = if beta != T::ZERO {
                    L::madd(av, x, L::mul(L::load(e), bv))
                } else if formula == Formula::Avx512 {
                    L::mul(av, x)
                } else {
                    L::madd(av, x, L::zero())
                };
                L::store(e, r);
            }
        }
    }
}

/// The part of a tile where matrixmultiply uses its full-tile formula: rows `< rows`
/// of columns `< cols`; the rest of the tile is in its partial edge tiles.
#[derive(Clone, Copy)]
struct Edge {
    rows: usize,
    cols: usize,
}

/// Adds the `rows×cols` part of `tile` (column stride `mr`) into `c` with
/// matrixmultiply's formulas ([`Formula`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn write_back<T: Elem>(
    formula: Formula,
    tile: *const T,
    mr: usize,
    rows: usize,
    cols: usize,
    edge: Edge,
    alpha: T,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    debug_assert!(rows <= mr && mr <= MAX_MR);
    let mut buf = [T::ZERO; MAX_MR];
    for j in 0..cols {
        let split = if j < edge.cols { edge.rows } else { 0 };
        // SAFETY: column j of the tile, and entries (0..rows, j) of c (read only when
        // beta is not zero).
        unsafe {
            let t = std::slice::from_raw_parts(tile.add(j * mr), rows);
            let cj = c.offset(j as isize * csc);
            let col: &mut [T] = if rsc == 1 {
                std::slice::from_raw_parts_mut(cj, rows)
            } else {
                if beta != T::ZERO {
                    for (i, x) in buf[..rows].iter_mut().enumerate() {
                        *x = *cj.offset(i as isize * rsc);
                    }
                }
                &mut buf[..rows]
            };
            let (c_full, c_edge) = col.split_at_mut(split);
            let (t_full, t_edge) = t.split_at(split);
            update(formula, true, alpha, beta, t_full, c_full);
            update(formula, false, alpha, beta, t_edge, c_edge);
            if rsc != 1 {
                for (i, &x) in buf[..rows].iter().enumerate() {
                    *cj.offset(i as isize * rsc) = x;
                }
            }
        }
    }
}

/// The longest tile column of any kernel here.
const MAX_MR: usize = 32;

/// `c = f(ab, c)` entrywise: matrixmultiply's full-tile formula when `full`, else
/// its masked one (the tile computed with `β = 0`, then `c = β·c + tile`).
#[inline(always)]
fn update<T: Elem>(formula: Formula, full: bool, alpha: T, beta: T, ab: &[T], c: &mut [T]) {
    let it = c.iter_mut().zip(ab);
    // For β = 0 (and for the masked path's tile): `α·ab` as the kernel computes it.
    if beta == T::ZERO {
        match formula {
            Formula::FmaAvx2 => it.for_each(|(c, &t)| *c = alpha.fma(t, T::ZERO)),
            Formula::Avx => it.for_each(|(c, &t)| *c = T::ZERO + alpha * t),
            _ => it.for_each(|(c, &t)| *c = alpha * t),
        }
    } else if !full {
        match formula {
            Formula::FmaAvx2 => it.for_each(|(c, &t)| *c = *c * beta + alpha.fma(t, T::ZERO)),
            Formula::Avx => it.for_each(|(c, &t)| *c = *c * beta + (T::ZERO + alpha * t)),
            _ => it.for_each(|(c, &t)| *c = *c * beta + alpha * t),
        }
    } else {
        match formula {
            Formula::Avx512 | Formula::FmaAvx2 => {
                it.for_each(|(c, &t)| *c = alpha.fma(t, *c * beta));
            }
            Formula::Avx => it.for_each(|(c, &t)| *c = *c * beta + alpha * t),
            Formula::Neon => it.for_each(|(c, &t)| *c = (*c).fma(beta, alpha * t)),
            // Never a full tile: always masked.
            Formula::Fallback => it.for_each(|(c, &t)| *c = *c * beta + alpha * t),
        }
    }
}

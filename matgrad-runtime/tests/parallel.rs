//! The `parallel` feature (`cargo test -p matgrad-runtime --features parallel`):
//! products of at least 2²¹ multiply-adds are split over rayon's threads, and the
//! documentation promises the same bits as one thread. Checked here on shapes that
//! really split (proved by the packing buffer the second worker thread allocates),
//! along `n` and along `m`, against the same product on a one-thread pool and
//! against matrixmultiply.
#![cfg(feature = "parallel")]

// The nalgebra the runtime is built with: the dependency `nalgebra` (0.35, the
// default) or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use matgrad_runtime::{gemm_nn, gemm_tn, gemm_tt};
use nalgebra::DMatrix;

/// Counts, per rayon worker of the pools built below, the allocations of at least
/// 64 KiB (a packing buffer: a fresh worker's first blocked product allocates one).
struct Counting;

thread_local! {
    /// 1 + the index of the pool worker running on this thread, or 0.
    static WORKER: Cell<usize> = const { Cell::new(0) };
}

static BIG: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

fn note(layout: Layout) {
    if layout.size() >= 64 * 1024 {
        if let Ok(w @ 1..=4) = WORKER.try_with(Cell::get) {
            BIG[w - 1].fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(Layout::from_size_align(new_size, layout.align()).unwrap_or(layout));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Serialises the tests of this file (they share the counters).
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn filled(r: usize, c: usize, seed: u64) -> DMatrix<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    DMatrix::from_fn(r, c, |_, _| {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(|i| WORKER.with(|w| w.set(i + 1)))
        .build()
        .expect("a rayon pool")
}

/// `c = 0.5 · op(a) · op(b) − 0.25 · c` on a fresh pool of `threads` workers; returns
/// the result and how many of the workers allocated a packing buffer.
fn run(
    threads: usize,
    f: &(dyn Fn(&mut DMatrix<f64>) + Sync),
    c0: &DMatrix<f64>,
) -> (DMatrix<f64>, usize) {
    for b in &BIG {
        b.store(0, Ordering::Relaxed);
    }
    let mut c = c0.clone();
    pool(threads).install(|| f(&mut c));
    let workers = BIG.iter().filter(|b| b.load(Ordering::Relaxed) > 0).count();
    (c, workers)
}

fn bits(a: &DMatrix<f64>) -> Vec<u64> {
    a.iter().map(|v| v.to_bits()).collect()
}

/// matrixmultiply's `dgemm` for `c = 0.5 · op(a) · op(b) − 0.25 · c`.
fn reference(
    a: &DMatrix<f64>,
    ta: bool,
    b: &DMatrix<f64>,
    tb: bool,
    c0: &DMatrix<f64>,
) -> DMatrix<f64> {
    let ((m, k), (rsa, csa)) = if ta {
        ((a.ncols(), a.nrows()), (a.nrows(), 1))
    } else {
        (a.shape(), (1, a.nrows()))
    };
    let (n, (rsb, csb)) = if tb {
        (b.nrows(), (b.nrows(), 1))
    } else {
        (b.ncols(), (1, b.nrows()))
    };
    let mut c = c0.clone();
    let s = |v: usize| isize::try_from(v).unwrap();
    // SAFETY: the column-major storage of a, b and c with their strides and shapes.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            0.5,
            a.as_ptr(),
            s(rsa),
            s(csa),
            b.as_ptr(),
            s(rsb),
            s(csb),
            -0.25,
            c.as_mut_ptr(),
            1,
            s(m),
        );
    }
    c
}

/// The product split on a 2-thread pool has the bits of the 1-thread pool and of
/// matrixmultiply, and both workers packed (it really split). rayon's `join` lets an
/// idle worker steal the second half; should it not (a loaded machine), retry on a
/// fresh pool.
fn check(ta: bool, tb: bool, (m, k, n): (usize, usize, usize)) {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert!(m * k * n >= 1 << 21, "too small to split");
    let a = if ta { filled(k, m, 1) } else { filled(m, k, 1) };
    let b = if tb { filled(n, k, 2) } else { filled(k, n, 2) };
    let c0 = filled(m, n, 3);
    let f = |c: &mut DMatrix<f64>| match (ta, tb) {
        (false, false) => gemm_nn(0.5, a.as_view(), b.as_view(), -0.25, c),
        (true, false) => gemm_tn(0.5, a.as_view(), b.as_view(), -0.25, c),
        (true, true) => gemm_tt(0.5, a.as_view(), b.as_view(), -0.25, c),
        (false, true) => matgrad_runtime::gemm_nt(0.5, a.as_view(), b.as_view(), -0.25, c),
    };
    let (serial, w1) = run(1, &f, &c0);
    assert_eq!(w1, 1, "one thread, one packing buffer");
    assert_eq!(
        bits(&serial),
        bits(&reference(&a, ta, &b, tb, &c0)),
        "1 thread vs matrixmultiply"
    );
    for attempt in 1..=10 {
        let (split, workers) = run(2, &f, &c0);
        assert_eq!(bits(&split), bits(&serial), "{m}×{k}×{n}: 2 threads vs 1");
        if workers == 2 {
            return;
        }
        eprintln!("{m}×{k}×{n}: attempt {attempt} was not split across both workers; retrying");
    }
    panic!("{m}×{k}×{n}: the product never ran on both workers");
}

#[test]
fn split_along_n_has_the_serial_bits() {
    // m·k·n = 2²¹ exactly (the threshold), n = 256 ≥ m: halves at column 144.
    check(false, false, (64, 128, 256));
    check(true, true, (64, 128, 256));
}

#[test]
fn split_along_m_has_the_serial_bits() {
    // m > n: rows split at 144 (a multiple of every tile height), edge tiles on both sides.
    check(true, false, (197, 150, 75));
    check(false, true, (197, 150, 75));
}

#[test]
fn below_the_threshold_one_worker_packs() {
    // The control for the proof above: m·k·n = 64·128·255 < 2²¹ is not split, and the
    // counter sees one packing buffer on the 2-thread pool.
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b, c0) = (filled(64, 128, 4), filled(128, 255, 5), filled(64, 255, 6));
    let f = |c: &mut DMatrix<f64>| gemm_nn(0.5, a.as_view(), b.as_view(), -0.25, c);
    let (serial, _) = run(1, &f, &c0);
    for _ in 0..3 {
        let (c, workers) = run(2, &f, &c0);
        assert_eq!(workers, 1, "a product below 2²¹ multiply-adds was split");
        assert_eq!(bits(&c), bits(&serial));
    }
}

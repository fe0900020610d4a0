//! Every kernel against its naive nalgebra composition, on random shapes that include
//! the dimensions 1..=5 (where nalgebra switches algorithms) and larger ones; plus the
//! documented panics, NaN propagation, bit-for-bit agreement of the `_to` kernels with
//! the public functions, and the absence of allocations in steady state.
//!
//! One module per source file of the crate.

// The nalgebra the runtime is built with: the dependency `nalgebra` (0.35, the
// default) or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad_runtime::__private as k;
use nalgebra::{DMatrix, DVector, RowDVector};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Counts the heap allocations of the current thread (tests run in parallel threads).
mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    fn bump() {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }

    // SAFETY: forwards to the system allocator, only counting calls.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            bump();
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            bump();
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            bump();
            unsafe { System.realloc(ptr, layout, new_size) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// The number of allocations `f` makes on this thread.
    pub fn allocations<R>(f: impl FnOnce() -> R) -> usize {
        let before = COUNT.with(Cell::get);
        let r = f();
        let n = COUNT.with(Cell::get) - before;
        drop(r);
        n
    }
}

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

use alloc_count::allocations;

/// `cases` random cases per property (modest, for debug builds), unless
/// `PROPTEST_CASES` asks for another number.
fn cfg(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Mostly the small dimensions where nalgebra changes algorithm, sometimes larger ones.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..=5, 1 => 6usize..=40]
}

/// Dimensions for products: the small ones, and larger ones (up to 70) that take the
/// blocked kernel, with partial edge tiles.
fn gdim() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..=5, 1 => 6usize..=16, 2 => 17usize..=70]
}

/// The product by the definition: a triple loop.
fn naive(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    assert_eq!(a.ncols(), b.nrows());
    DMatrix::from_fn(a.nrows(), b.ncols(), |i, j| {
        (0..a.ncols()).map(|l| a[(i, l)] * b[(l, j)]).sum()
    })
}

fn mat_of(r: usize, c: usize) -> impl Strategy<Value = DMatrix<f64>> {
    proptest::collection::vec(-2.0f64..2.0, r * c).prop_map(move |v| DMatrix::from_vec(r, c, v))
}

fn mat() -> impl Strategy<Value = DMatrix<f64>> {
    (dim(), dim()).prop_flat_map(|(r, c)| mat_of(r, c))
}

fn two_mats() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
    (dim(), dim()).prop_flat_map(|(r, c)| (mat_of(r, c), mat_of(r, c)))
}

fn three_mats() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>)> {
    (dim(), dim()).prop_flat_map(|(r, c)| (mat_of(r, c), mat_of(r, c), mat_of(r, c)))
}

fn scalar() -> impl Strategy<Value = f64> {
    -3.0f64..3.0
}

/// A well-conditioned square matrix: random plus a dominant diagonal.
fn square() -> impl Strategy<Value = DMatrix<f64>> {
    dim().prop_flat_map(|n| mat_of(n, n)).prop_map(|m| {
        let n = m.nrows();
        m + DMatrix::identity(n, n) * (n as f64 + 1.0)
    })
}

/// Entry by entry, to a relative tolerance.
fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
}

fn close_s(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())) || (x == y)
}

fn same_bits(a: &DMatrix<f64>, b: &DMatrix<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// A buffer of the given shape full of NaN: kernels that must not read `out` leave no
/// trace of it.
fn nan_buf(r: usize, c: usize) -> DMatrix<f64> {
    DMatrix::from_element(r, c, f64::NAN)
}

fn tr(m: &DMatrix<f64>, t: bool) -> DMatrix<f64> {
    if t {
        m.transpose()
    } else {
        m.clone()
    }
}

// ---------------------------------------------------------------------------
// real.rs
// ---------------------------------------------------------------------------

mod real {
    use super::*;
    use matgrad_runtime::Real;

    fn generic_sum<T: Real>(xs: &[T]) -> T {
        xs.iter().fold(T::zero(), |s, &x| s + x)
    }

    #[test]
    fn real_is_f32_and_f64() {
        assert_eq!(generic_sum(&[1.0_f32, 2.0]), 3.0);
        assert_eq!(generic_sum(&[1.0_f64, 2.0]), 3.0);
    }

    #[test]
    fn hidden_gemm_computes_the_product() {
        // 2×2 times 2×2, b given transposed through its strides.
        let a = [1.0_f64, 3.0, 2.0, 4.0]; // [[1, 2], [3, 4]] column-major
        let b = [5.0_f64, 6.0, 7.0, 8.0]; // read as bᵀ of [[5, 7], [6, 8]] → [[5, 6], [7, 8]]
        let mut c = [0.0_f64; 4];
        unsafe {
            f64::__gemm(
                2,
                2,
                2,
                1.0,
                a.as_ptr(),
                1,
                2,
                b.as_ptr(),
                2,
                1,
                0.0,
                c.as_mut_ptr(),
                1,
                2,
            );
        }
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
        assert_eq!(c, [19.0, 43.0, 22.0, 50.0]);
        let (a32, b32) = (a.map(|x| x as f32), b.map(|x| x as f32));
        let mut c32 = [f32::NAN; 4];
        unsafe {
            f32::__gemm(
                2,
                2,
                2,
                1.0,
                a32.as_ptr(),
                1,
                2,
                b32.as_ptr(),
                2,
                1,
                0.0,
                c32.as_mut_ptr(),
                1,
                2,
            );
        }
        assert_eq!(c32, [19.0, 43.0, 22.0, 50.0]);
    }

    /// How an operand is stored: column-major, row-major (what a transposed view
    /// gives), or column-major inside a larger matrix (a sub-view).
    #[derive(Clone, Copy, Debug)]
    enum Layout {
        Col,
        Row,
        Padded,
    }

    fn layout() -> impl Strategy<Value = Layout> {
        prop_oneof![Just(Layout::Col), Just(Layout::Row), Just(Layout::Padded)]
    }

    /// `(buffer length, offset of entry (0, 0), row stride, column stride)`.
    fn storage(r: usize, c: usize, l: Layout) -> (usize, usize, isize, isize) {
        match l {
            Layout::Col => (r * c, 0, 1, r.max(1) as isize),
            Layout::Row => (r * c, 0, c.max(1) as isize, 1),
            Layout::Padded => ((r + 3) * c + 2, 2, 1, (r + 3) as isize),
        }
    }

    /// Deterministic values in about [-2, 2] that are not short binary fractions.
    fn values<T: Real>(len: usize, seed: u64) -> Vec<T> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = ((x >> 33) % 4001) as f64 / 997.0 - 2.0;
                nalgebra::convert(v)
            })
            .collect()
    }

    type Gemm<T> = unsafe fn(
        usize,
        usize,
        usize,
        T,
        *const T,
        isize,
        isize,
        *const T,
        isize,
        isize,
        T,
        *mut T,
        isize,
        isize,
    );

    /// `Real::__gemm` and matrixmultiply (`mm`) on the same operands: every element of
    /// the output buffers (padding included) must have the same bits.
    #[allow(clippy::too_many_arguments)]
    fn same_as_matrixmultiply<T: Real>(
        mm: Gemm<T>,
        (m, k, n): (usize, usize, usize),
        (la, lb, lc): (Layout, Layout, Layout),
        alpha: T,
        beta: T,
        seed: u64,
        to_bits: fn(T) -> u64,
    ) -> Result<(), String> {
        let (len_a, off_a, rsa, csa) = storage(m, k, la);
        let (len_b, off_b, rsb, csb) = storage(k, n, lb);
        let (len_c, off_c, rsc, csc) = storage(m, n, lc);
        let a = values::<T>(len_a, seed);
        let b = values::<T>(len_b, seed ^ 0x5555);
        let mut c1 = if beta == T::zero() {
            vec![nalgebra::convert::<f64, T>(f64::NAN); len_c]
        } else {
            values::<T>(len_c, seed ^ 0xaaaa)
        };
        let mut c2 = c1.clone();
        // SAFETY: the storages hold every entry their strides address.
        unsafe {
            T::__gemm(
                m,
                k,
                n,
                alpha,
                a.as_ptr().add(off_a),
                rsa,
                csa,
                b.as_ptr().add(off_b),
                rsb,
                csb,
                beta,
                c1.as_mut_ptr().add(off_c),
                rsc,
                csc,
            );
            mm(
                m,
                k,
                n,
                alpha,
                a.as_ptr().add(off_a),
                rsa,
                csa,
                b.as_ptr().add(off_b),
                rsb,
                csb,
                beta,
                c2.as_mut_ptr().add(off_c),
                rsc,
                csc,
            );
        }
        match c1
            .iter()
            .zip(&c2)
            .position(|(&x, &y)| to_bits(x) != to_bits(y))
        {
            None => Ok(()),
            Some(i) => Err(format!(
                "{m}×{k}×{n} {la:?}·{lb:?}→{lc:?} α={alpha} β={beta}: element {i}: {} vs matrixmultiply {}",
                c1[i], c2[i]
            )),
        }
    }

    fn scalar_or_special() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), Just(1.0), Just(-1.0), -3.0f64..3.0]
    }

    /// m, k, n: the small dimensions, larger ones up to 70, and depths beyond one
    /// 256-deep block (with small m and n, to keep debug builds quick).
    fn gemm_shape() -> impl Strategy<Value = (usize, usize, usize)> {
        (
            gdim(),
            prop_oneof![4 => gdim(), 1 => 250usize..=600],
            gdim(),
        )
            .prop_map(|(m, k, n)| {
                if k > 70 {
                    (m.min(24), k, n.min(24))
                } else {
                    (m, k, n)
                }
            })
    }

    proptest! {
        #![proptest_config(cfg(96))]

        #[test]
        fn hidden_gemm_is_matrixmultiply_bit_for_bit(
            shape in gemm_shape(),
            layouts in (layout(), layout(), layout()),
            alpha in scalar_or_special(),
            beta in scalar_or_special(),
            seed in any::<u64>(),
        ) {
            let r = same_as_matrixmultiply(matrixmultiply::dgemm, shape, layouts, alpha, beta, seed, f64::to_bits);
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }

        #[test]
        fn hidden_gemm_f32_is_matrixmultiply_bit_for_bit(
            shape in gemm_shape(),
            layouts in (layout(), layout(), layout()),
            alpha in scalar_or_special(),
            beta in scalar_or_special(),
            seed in any::<u64>(),
        ) {
            let r = same_as_matrixmultiply(
                matrixmultiply::sgemm, shape, layouts, alpha as f32, beta as f32, seed,
                |x: f32| u64::from(x.to_bits()),
            );
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }
    }

    /// Shapes that cross every block boundary of the blocked kernel: several row
    /// blocks (300), several column blocks (1100), several depth blocks (600), and a
    /// product large enough for the `parallel` feature to split.
    #[test]
    fn hidden_gemm_is_matrixmultiply_bit_for_bit_on_large_shapes() {
        let shapes = [(300, 70, 90), (20, 20, 1100), (37, 600, 41), (130, 90, 200)];
        let layouts = [
            (Layout::Col, Layout::Col, Layout::Col),
            (Layout::Row, Layout::Col, Layout::Col),
            (Layout::Col, Layout::Row, Layout::Padded),
            (Layout::Row, Layout::Row, Layout::Row),
        ];
        for (i, &shape) in shapes.iter().enumerate() {
            for &lay in &layouts {
                for (alpha, beta) in [(1.0, 0.0), (-0.7, 1.3), (2.5, 1.0)] {
                    let seed = i as u64;
                    same_as_matrixmultiply(
                        matrixmultiply::dgemm,
                        shape,
                        lay,
                        alpha,
                        beta,
                        seed,
                        f64::to_bits,
                    )
                    .unwrap();
                    same_as_matrixmultiply(
                        matrixmultiply::sgemm,
                        shape,
                        lay,
                        alpha as f32,
                        beta as f32,
                        seed,
                        |x: f32| u64::from(x.to_bits()),
                    )
                    .unwrap();
                }
            }
        }
    }

    /// Products on several threads at once (each has its own packing buffer).
    #[test]
    fn hidden_gemm_on_many_threads() {
        std::thread::scope(|s| {
            for t in 0..4u64 {
                s.spawn(move || {
                    for (i, shape) in [(64, 64, 64), (70, 33, 9), (9, 300, 17)]
                        .into_iter()
                        .enumerate()
                    {
                        let lay = (Layout::Col, Layout::Row, Layout::Col);
                        same_as_matrixmultiply(
                            matrixmultiply::dgemm,
                            shape,
                            lay,
                            0.5,
                            2.0,
                            t * 10 + i as u64,
                            f64::to_bits,
                        )
                        .unwrap();
                    }
                });
            }
        });
    }
}

// ---------------------------------------------------------------------------
// blas.rs
// ---------------------------------------------------------------------------

mod blas {
    use super::*;
    use matgrad_runtime::{gemm_nn, gemm_nt, gemm_tn, gemm_tt};

    type Gemm = fn(
        f64,
        nalgebra::DMatrixView<'_, f64>,
        nalgebra::DMatrixView<'_, f64>,
        f64,
        &mut DMatrix<f64>,
    );

    fn gemm_of(ta: bool, tb: bool) -> Gemm {
        match (ta, tb) {
            (false, false) => gemm_nn::<f64>,
            (true, false) => gemm_tn::<f64>,
            (false, true) => gemm_nt::<f64>,
            (true, true) => gemm_tt::<f64>,
        }
    }

    /// Operands for `op(a) · op(b)` of shape `m×k` times `k×n`.
    fn operands() -> impl Strategy<Value = (DMatrix<f64>, bool, DMatrix<f64>, bool, DMatrix<f64>)> {
        (gdim(), gdim(), gdim(), any::<bool>(), any::<bool>()).prop_flat_map(
            |(m, kk, n, ta, tb)| {
                let (ar, ac) = if ta { (kk, m) } else { (m, kk) };
                let (br, bc) = if tb { (n, kk) } else { (kk, n) };
                (
                    mat_of(ar, ac),
                    Just(ta),
                    mat_of(br, bc),
                    Just(tb),
                    mat_of(m, n),
                )
            },
        )
    }

    proptest! {
        #![proptest_config(cfg(64))]

        #[test]
        fn gemm_matches_naive((a, ta, b, tb, c) in operands(), alpha in scalar(), beta in scalar()) {
            let want = naive(&tr(&a, ta), &tr(&b, tb)) * alpha + &c * beta;
            let mut got = c.clone();
            gemm_of(ta, tb)(alpha, a.as_view(), b.as_view(), beta, &mut got);
            prop_assert!(close(&got, &want, 1e-12), "{got} vs {want}");
        }

        #[test]
        fn gemm_with_zero_beta_never_reads_c((a, ta, b, tb, c) in operands(), alpha in scalar()) {
            let want = naive(&tr(&a, ta), &tr(&b, tb)) * alpha;
            let mut got = nan_buf(c.nrows(), c.ncols());
            gemm_of(ta, tb)(alpha, a.as_view(), b.as_view(), 0.0, &mut got);
            prop_assert!(close(&got, &want, 1e-12), "{got} vs {want}");
        }

        #[test]
        fn gemm_on_sub_views((a, ta, b, tb, c) in operands(), alpha in scalar()) {
            // The same operands inside larger matrices: views whose column stride is
            // not their row count.
            let mut big_a = DMatrix::from_element(a.nrows() + 3, a.ncols() + 1, f64::NAN);
            big_a.view_mut((2, 1), a.shape()).copy_from(&a);
            let mut big_b = DMatrix::from_element(b.nrows() + 1, b.ncols() + 2, f64::NAN);
            big_b.view_mut((1, 0), b.shape()).copy_from(&b);
            let want = naive(&tr(&a, ta), &tr(&b, tb)) * alpha + &c;
            let mut got = c.clone();
            gemm_of(ta, tb)(alpha, big_a.view((2, 1), a.shape()), big_b.view((1, 0), b.shape()), 1.0, &mut got);
            prop_assert!(close(&got, &want, 1e-12), "{got} vs {want}");
        }

        #[test]
        fn gemm_f32(m in gdim(), kk in gdim(), n in gdim(), seed in 0u32..1000) {
            let a = DMatrix::from_fn(kk, m, |i, j| ((i * 7 + j * 3 + seed as usize) % 11) as f32 - 5.0);
            let b = DMatrix::from_fn(kk, n, |i, j| ((i * 5 + j * 2 + seed as usize) % 13) as f32 - 6.0);
            let mut got = DMatrix::from_element(m, n, f32::NAN);
            gemm_tn(1.0_f32, a.as_view(), b.as_view(), 0.0, &mut got);
            // Small integers: exact in f32.
            prop_assert_eq!(got, a.transpose() * b);
        }
    }

    #[test]
    fn gemm_with_empty_inner_dimension_scales_c() {
        let a = DMatrix::<f64>::zeros(3, 0);
        let b = DMatrix::<f64>::zeros(0, 4);
        let mut c = DMatrix::from_element(3, 4, 2.0);
        gemm_nn(1.0, a.as_view(), b.as_view(), 0.5, &mut c);
        assert_eq!(c, DMatrix::from_element(3, 4, 1.0));
        let mut c = nan_buf(3, 4);
        gemm_nn(1.0, a.as_view(), b.as_view(), 0.0, &mut c);
        assert_eq!(c, DMatrix::zeros(3, 4));
    }

    #[test]
    fn gemm_with_empty_result() {
        let a = DMatrix::<f64>::zeros(0, 3);
        let b = DMatrix::<f64>::from_element(3, 4, 1.0);
        let mut c = DMatrix::zeros(0, 4);
        gemm_nn(1.0, a.as_view(), b.as_view(), 0.0, &mut c);
        assert_eq!(c.shape(), (0, 4));
        let mut c = DMatrix::zeros(4, 0);
        gemm_tn(
            1.0,
            b.as_view(),
            DMatrix::zeros(3, 0).as_view(),
            0.0,
            &mut c,
        );
        assert_eq!(c.shape(), (4, 0));
    }

    #[test]
    #[should_panic(expected = "matgrad: gemm_tn: cannot multiply aᵀ (4×3) by b (5×2)")]
    fn gemm_panics_on_inner_mismatch() {
        let mut c = DMatrix::zeros(4, 2);
        gemm_tn(
            1.0,
            DMatrix::zeros(3, 4).as_view(),
            DMatrix::zeros(5, 2).as_view(),
            0.0,
            &mut c,
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: gemm_nt: c is 3×3 but a · bᵀ is 3×2")]
    fn gemm_panics_on_output_shape() {
        let mut c = DMatrix::zeros(3, 3);
        gemm_nt(
            1.0,
            DMatrix::zeros(3, 4).as_view(),
            DMatrix::zeros(2, 4).as_view(),
            0.0,
            &mut c,
        );
    }
}

// ---------------------------------------------------------------------------
// elementwise.rs
// ---------------------------------------------------------------------------

mod elementwise {
    use super::*;
    use matgrad_runtime::{relu, sigmoid, softplus};
    use nalgebra::{dvector, Matrix2x3, RowDVector};

    fn naive_sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    fn naive_softplus(x: f64) -> f64 {
        x.exp().ln_1p()
    }

    fn wide_mat() -> impl Strategy<Value = DMatrix<f64>> {
        (dim(), dim()).prop_flat_map(|(r, c)| {
            proptest::collection::vec(-30.0f64..30.0, r * c)
                .prop_map(move |v| DMatrix::from_vec(r, c, v))
        })
    }

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn sigmoid_matches_naive(a in wide_mat()) {
            prop_assert!(close(&sigmoid(&a), &a.map(naive_sigmoid), 1e-15));
        }

        #[test]
        fn relu_matches_naive(a in wide_mat()) {
            prop_assert_eq!(relu(&a), a.map(|x| x.max(0.0)));
        }

        #[test]
        fn softplus_matches_naive(a in wide_mat()) {
            prop_assert!(close(&softplus(&a), &a.map(naive_softplus), 1e-14));
        }

        #[test]
        fn to_kernels_give_the_same_bits(a in wide_mat()) {
            let mut out = nan_buf(1, 1);
            k::sigmoid_to(&mut out, k::view(&a));
            prop_assert!(same_bits(&out, &sigmoid(&a)));
            k::relu_to(&mut out, k::view(&a));
            prop_assert!(same_bits(&out, &relu(&a)));
            k::softplus_to(&mut out, k::view(&a));
            prop_assert!(same_bits(&out, &softplus(&a)));
        }
    }

    #[test]
    fn extreme_arguments_do_not_overflow() {
        let a = dvector![
            -1000.0,
            -40.0,
            0.0,
            40.0,
            1000.0,
            f64::NEG_INFINITY,
            f64::INFINITY
        ];
        let s = sigmoid(&a);
        assert!(
            s.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)),
            "{s}"
        );
        assert_eq!((s[0], s[2], s[4], s[5], s[6]), (0.0, 0.5, 1.0, 0.0, 1.0));
        let p = softplus(&a);
        assert_eq!((p[0], p[4], p[5], p[6]), (0.0, 1000.0, 0.0, f64::INFINITY));
        assert!((p[2] - 2.0_f64.ln()).abs() < 1e-16);
        assert!((p[1] - (-40.0_f64).exp()).abs() < 1e-30);
    }

    #[test]
    fn nan_propagates() {
        let a = dvector![f64::NAN, 1.0, -1.0];
        for y in [sigmoid(&a), relu(&a), softplus(&a)] {
            assert!(y[0].is_nan() && !y[1].is_nan() && !y[2].is_nan(), "{y}");
        }
        let mut out = DMatrix::zeros(0, 0);
        let m = DMatrix::from_element(2, 2, f64::NAN);
        k::relu_to(&mut out, k::view(&m));
        assert!(out.iter().all(|x| x.is_nan()));
        k::sigmoid_to(&mut out, k::view(&m));
        assert!(out.iter().all(|x| x.is_nan()));
    }

    #[test]
    fn any_matrix_type() {
        let m = Matrix2x3::new(-1.0, 0.0, 1.0, 2.0, -2.0, 3.0);
        let r: Matrix2x3<f64> = relu(&m);
        assert_eq!(r, Matrix2x3::new(0.0, 0.0, 1.0, 2.0, 0.0, 3.0));
        let v = RowDVector::from_vec(vec![-1.0_f32, 2.0]);
        assert_eq!(relu(&v), RowDVector::from_vec(vec![0.0, 2.0]));
        // A view with a row stride of 2.
        let big = DMatrix::from_fn(6, 3, |i, j| i as f64 - j as f64 - 2.0);
        let strided = big.rows_with_step(0, 3, 1);
        assert_eq!(relu(&strided), relu(&strided.clone_owned()));
        assert_eq!(sigmoid(&strided), sigmoid(&strided.clone_owned()));
        assert_eq!(
            softplus(&big.column(1)),
            softplus(&big.column(1).clone_owned())
        );
    }
}

// ---------------------------------------------------------------------------
// broadcast.rs
// ---------------------------------------------------------------------------

mod broadcast {
    use super::*;
    use matgrad_runtime::{add_col, add_row};

    fn with_row() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
        (dim(), dim()).prop_flat_map(|(r, c)| (mat_of(r, c), mat_of(1, c)))
    }

    fn with_col() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
        (dim(), dim()).prop_flat_map(|(r, c)| (mat_of(r, c), mat_of(r, 1)))
    }

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn add_row_matches_naive((m, r) in with_row()) {
            let want = DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] + r[(0, j)]);
            let got = add_row(&m, &r);
            prop_assert!(same_bits(&got, &want));
            let mut out = nan_buf(2, 7);
            k::add_row_to(&mut out, k::view(&m), k::view(&r), "add_row(&m, &r)");
            prop_assert!(same_bits(&out, &got));
        }

        #[test]
        fn add_col_matches_naive((m, c) in with_col()) {
            let want = DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] + c[(i, 0)]);
            let got = add_col(&m, &c);
            prop_assert!(same_bits(&got, &want));
            let mut out = nan_buf(2, 7);
            k::add_col_to(&mut out, k::view(&m), k::view(&c), "add_col(&m, &c)");
            prop_assert!(same_bits(&out, &got));
        }
    }

    #[test]
    fn vectors_and_views() {
        let m = DMatrix::from_fn(4, 3, |i, j| (i * 3 + j) as f64);
        let r = RowDVector::from_vec(vec![1.0, 2.0, 3.0]);
        let c = DVector::from_vec(vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            add_row(&m, &r),
            add_row(&m, &DMatrix::from_row_slice(1, 3, &[1.0, 2.0, 3.0]))
        );
        // Views, strided ones included.
        let row0 = m.row(0);
        assert_eq!(
            add_row(&m, &row0),
            DMatrix::from_fn(4, 3, |i, j| m[(i, j)] + m[(0, j)])
        );
        let strided = m.rows_with_step(0, 2, 1); // rows 0 and 2
        assert_eq!(
            add_col(&strided, &c.rows(0, 2)),
            DMatrix::from_fn(2, 3, |i, j| m[(2 * i, j)] + c[i])
        );
        assert_eq!(
            add_col(&m, &c),
            DMatrix::from_fn(4, 3, |i, j| m[(i, j)] + c[i])
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: add_row: cannot add a 1×3 row to each row of a 4×5 matrix")]
    fn add_row_panics() {
        let _ = add_row(&DMatrix::<f64>::zeros(4, 5), &RowDVector::<f64>::zeros(3));
    }

    #[test]
    #[should_panic(
        expected = "matgrad: add_row(&z, &b): cannot add a 5×1 row to each row of a 4×5 matrix"
    )]
    fn add_row_to_panics_on_a_column() {
        let mut out = DMatrix::zeros(0, 0);
        let (m, c) = (DMatrix::<f64>::zeros(4, 5), DVector::<f64>::zeros(5));
        k::add_row_to(&mut out, k::view(&m), k::view(&c), "add_row(&z, &b)");
    }

    #[test]
    #[should_panic(
        expected = "matgrad: add_col: cannot add a 3×1 column to each column of a 4×5 matrix"
    )]
    fn add_col_panics() {
        let _ = add_col(&DMatrix::<f64>::zeros(4, 5), &DVector::<f64>::zeros(3));
    }

    #[test]
    #[should_panic(
        expected = "matgrad: add_col(&m, &c): cannot add a 3×1 column to each column of a 4×5 matrix"
    )]
    fn add_col_to_panics() {
        let mut out = DMatrix::zeros(0, 0);
        let (m, c) = (DMatrix::<f64>::zeros(4, 5), DVector::<f64>::zeros(3));
        k::add_col_to(&mut out, k::view(&m), k::view(&c), "add_col(&m, &c)");
    }
}

// ---------------------------------------------------------------------------
// decomp.rs
// ---------------------------------------------------------------------------

mod decomp {
    use super::*;
    use matgrad_runtime::ln_det;

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn ln_det_matches_determinant(a in square()) {
            let want = a.determinant().abs().ln();
            prop_assert!(close_s(ln_det(&a), want, 1e-10), "{} vs {want}", ln_det(&a));
        }

        #[test]
        fn ln_det_of_random_matrices(a in (1usize..=8).prop_flat_map(|n| mat_of(n, n))) {
            // Not necessarily well-conditioned: compare loosely, in the log domain.
            let want = a.determinant().abs().ln();
            prop_assert!(close_s(ln_det(&a), want, 1e-7), "{} vs {want}", ln_det(&a));
        }

        #[test]
        fn scratch_kernels_give_the_same_bits(a in square(), b in square()) {
            let mut scratch = nan_buf(3, 3);
            let mut inv = nan_buf(1, 1);
            for m in [&a, &b, &a] {
                let l = ln_det(m);
                prop_assert_eq!(k::ln_det_with(k::view(m), &mut scratch, "ln_det(&a)").to_bits(), l.to_bits());
                let l2 = k::ln_det_inverse_to(&mut inv, k::view(m), &mut scratch, "ln_det(&a)");
                prop_assert_eq!(l2.to_bits(), l.to_bits());
                let want = m.clone().try_inverse().unwrap();
                prop_assert!(close(&inv, &want, 1e-10), "{inv} vs {want}");
            }
        }
    }

    #[test]
    fn singular_matrices() {
        let a = DMatrix::from_row_slice(3, 3, &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 1.0, 1.0]);
        assert_eq!(ln_det(&a), f64::NEG_INFINITY);
        assert_eq!(ln_det(&DMatrix::<f64>::zeros(4, 4)), f64::NEG_INFINITY);
        let (mut inv, mut scratch) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let l = k::ln_det_inverse_to(&mut inv, k::view(&a), &mut scratch, "ln_det(&a)");
        assert_eq!(l, f64::NEG_INFINITY);
        assert!(inv.iter().any(|x| !x.is_finite()), "{inv}");
    }

    #[test]
    fn edge_cases() {
        assert_eq!(ln_det(&DMatrix::<f64>::zeros(0, 0)), 0.0);
        assert_eq!(ln_det(&nalgebra::Matrix1::new(-2.0_f64)), 2.0_f64.ln());
        let mut a = DMatrix::<f64>::identity(3, 3);
        a[(1, 2)] = f64::NAN;
        assert!(ln_det(&a).is_nan());
        a[(1, 2)] = 0.0;
        a[(2, 0)] = f64::NAN;
        assert!(ln_det(&a).is_nan());
        // Far beyond the range of f64 as a determinant.
        let big = DMatrix::<f64>::identity(40, 40) * 1e20;
        assert!((ln_det(&big) - 40.0 * 1e20_f64.ln()).abs() < 1e-9);
        let f = DMatrix::<f32>::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 3.0]);
        assert!((ln_det(&f) - 5.0_f32.ln()).abs() < 1e-6);
        // A generic input: a strided view.
        let m = DMatrix::from_fn(6, 3, |i, j| {
            if i == 2 * j {
                2.0
            } else {
                0.1 * (i + j) as f64
            }
        });
        let v = m.rows_with_step(0, 3, 1);
        assert_eq!(ln_det(&v).to_bits(), ln_det(&v.clone_owned()).to_bits());
    }

    #[test]
    #[should_panic(expected = "matgrad: ln_det: cannot take the log-determinant of a 2×3 matrix")]
    fn ln_det_panics_on_non_square() {
        let _ = ln_det(&DMatrix::<f64>::zeros(2, 3));
    }

    #[test]
    #[should_panic(
        expected = "matgrad: ln_det(&s): cannot take the log-determinant of a 3×2 matrix"
    )]
    fn ln_det_with_panics_on_non_square() {
        let a = DMatrix::<f64>::zeros(3, 2);
        k::ln_det_with(k::view(&a), &mut DMatrix::zeros(0, 0), "ln_det(&s)");
    }

    /// Sizes for the blocked factorisations (blocks of 32): one block, several, and
    /// partial last blocks.
    fn big_dim() -> impl Strategy<Value = usize> {
        prop_oneof![1usize..=9, Just(32usize), Just(33usize), 30usize..=100]
    }

    /// A random exactly symmetric matrix `(M + Mᵀ)/2` of size `n`.
    fn sym_of(n: usize) -> impl Strategy<Value = DMatrix<f64>> {
        mat_of(n, n).prop_map(|m| (&m + m.transpose()) * 0.5)
    }

    /// Symmetric positive definite, well conditioned: `M Mᵀ / n + I`, symmetrised
    /// exactly.
    fn spd() -> impl Strategy<Value = DMatrix<f64>> {
        big_dim().prop_flat_map(|n| mat_of(n, n)).prop_map(|m| {
            let n = m.nrows();
            let x = &m * m.transpose() / n as f64 + DMatrix::identity(n, n);
            (&x + x.transpose()) * 0.5
        })
    }

    /// `ln |det a|` and `a⁻¹` from nalgebra (LU), for comparison.
    fn reference(a: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
        let inv = a.clone().try_inverse().expect("invertible");
        (a.determinant().abs().ln(), inv)
    }

    /// Both kernels and the public function on `a` (scratch buffers reused across
    /// calls): the three values have the same bits; returns the value and inverse.
    fn all_paths(
        a: &DMatrix<f64>,
        scratch: &mut DMatrix<f64>,
        inv: &mut DMatrix<f64>,
    ) -> Result<f64, TestCaseError> {
        let l = ln_det(a);
        let l1 = k::ln_det_with(k::view(a), scratch, "ln_det(&a)");
        let l2 = k::ln_det_inverse_to(inv, k::view(a), scratch, "ln_det(&a)");
        prop_assert_eq!(l1.to_bits(), l.to_bits());
        prop_assert_eq!(l2.to_bits(), l.to_bits());
        Ok(l)
    }

    /// A symmetric, diagonally dominant matrix with diagonal entries of alternating
    /// sign: invertible and, from n = 2 on, indefinite.
    fn sym_indefinite() -> impl Strategy<Value = DMatrix<f64>> {
        big_dim().prop_flat_map(sym_of).prop_map(|mut m| {
            let n = m.nrows();
            for i in 0..n {
                let s = if i % 3 == 1 { -1.0 } else { 1.0 };
                m[(i, i)] = s * (2.0 * n as f64 + 1.0);
            }
            m
        })
    }

    proptest! {
        #![proptest_config(cfg(24))]

        #[test]
        fn spd_matrices_match_nalgebra(a in spd()) {
            let (mut scratch, mut inv) = (nan_buf(2, 2), nan_buf(1, 3));
            let l = all_paths(&a, &mut scratch, &mut inv)?;
            let chol = a.clone().cholesky().expect("SPD");
            let want = 2.0 * chol.l_dirty().diagonal().map(f64::ln).sum();
            prop_assert!(close_s(l, want, 1e-10), "{l} vs {want}");
            let (want_l, want_inv) = reference(&a);
            prop_assert!(close_s(l, want_l, 1e-10), "{l} vs {want_l}");
            prop_assert!(close(&inv, &want_inv, 1e-9), "{inv} vs {want_inv}");
            prop_assert!(close(&inv, &chol.inverse(), 1e-9));
            // Again on the same buffers: the same bits.
            let inv1 = inv.clone();
            all_paths(&a, &mut scratch, &mut inv)?;
            prop_assert!(same_bits(&inv, &inv1));
        }

        #[test]
        fn symmetric_indefinite_matrices_fall_back(a in sym_indefinite()) {
            let (mut scratch, mut inv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            let l = all_paths(&a, &mut scratch, &mut inv)?;
            let (want_l, want_inv) = reference(&a);
            prop_assert!(close_s(l, want_l, 1e-10), "{l} vs {want_l}");
            prop_assert!(close(&inv, &want_inv, 1e-9), "{inv} vs {want_inv}");
            // Negative definite: the first pivot already fails.
            let neg = -spd_like(&a);
            let l = all_paths(&neg, &mut scratch, &mut inv)?;
            let (want_l, want_inv) = reference(&neg);
            prop_assert!(close_s(l, want_l, 1e-10), "{l} vs {want_l}");
            prop_assert!(close(&inv, &want_inv, 1e-9), "{inv} vs {want_inv}");
        }

        #[test]
        fn non_symmetric_matrices(a in big_dim().prop_flat_map(|n| mat_of(n, n)).prop_map(|m| {
            let n = m.nrows();
            m + DMatrix::identity(n, n) * (n as f64 + 1.0)
        })) {
            let (mut scratch, mut inv) = (nan_buf(1, 1), nan_buf(4, 4));
            let l = all_paths(&a, &mut scratch, &mut inv)?;
            let (want_l, want_inv) = reference(&a);
            prop_assert!(close_s(l, want_l, 1e-10), "{l} vs {want_l}");
            prop_assert!(close(&inv, &want_inv, 1e-9), "{inv} vs {want_inv}");
        }

        #[test]
        fn nan_entries_give_nan(a in spd(), i in 0usize..100, j in 0usize..100, both in any::<bool>()) {
            let n = a.nrows();
            let (i, j) = (i % n, j % n);
            let mut a = a;
            a[(i, j)] = f64::NAN;
            if both {
                a[(j, i)] = f64::NAN;
            }
            let (mut scratch, mut inv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            prop_assert!(ln_det(&a).is_nan());
            prop_assert!(k::ln_det_with(k::view(&a), &mut scratch, "l").is_nan());
            prop_assert!(k::ln_det_inverse_to(&mut inv, k::view(&a), &mut scratch, "l").is_nan());
        }

        #[test]
        fn singular_symmetric_matrices(a in spd(), i in 0usize..100, pd in any::<bool>()) {
            // A zero row and column: exactly singular, whether the rest is positive
            // definite (a zero Cholesky pivot) or not.
            let n = a.nrows();
            let i = i % n;
            let mut a = if pd { a } else { -a };
            a.row_mut(i).fill(0.0);
            a.column_mut(i).fill(0.0);
            let (mut scratch, mut inv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            let l = all_paths(&a, &mut scratch, &mut inv)?;
            prop_assert_eq!(l, f64::NEG_INFINITY);
            prop_assert!(inv.iter().any(|x| !x.is_finite()));
        }
        #[test]
        fn singular_non_symmetric_matrices(a in big_dim().prop_flat_map(|n| mat_of(n, n)), i in 0usize..100, row in any::<bool>()) {
            // A zero column (or row) in a general matrix: exactly singular for LU.
            let n = a.nrows();
            let i = i % n;
            let mut a = a + DMatrix::identity(n, n) * (n as f64 + 1.0);
            if row {
                a.row_mut(i).fill(0.0);
            } else {
                a.column_mut(i).fill(0.0);
            }
            let (mut scratch, mut inv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            let l = all_paths(&a, &mut scratch, &mut inv)?;
            prop_assert_eq!(l, f64::NEG_INFINITY);
            prop_assert!(inv.iter().any(|x| !x.is_finite()));
        }
    }

    /// `|a|` made positive definite: `aᵀa / n + I`, symmetrised exactly.
    fn spd_like(a: &DMatrix<f64>) -> DMatrix<f64> {
        let n = a.nrows();
        let x = a.transpose() * a / n as f64 + DMatrix::identity(n, n);
        (&x + x.transpose()) * 0.5
    }

    #[test]
    fn singular_positive_semidefinite() {
        // The second Cholesky pivot is exactly 0: falls back to LU, which gives -∞.
        let a = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        let (mut scratch, mut inv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        assert_eq!(ln_det(&a), f64::NEG_INFINITY);
        let l = k::ln_det_inverse_to(&mut inv, k::view(&a), &mut scratch, "l");
        assert_eq!(l, f64::NEG_INFINITY);
        assert!(inv.iter().any(|x| !x.is_finite()), "{inv}");
        // Infinite entries: not positive definite by the finiteness test.
        let a = DMatrix::from_row_slice(2, 2, &[f64::INFINITY, 1.0, 1.0, 1.0]);
        assert_eq!(
            ln_det(&a).to_bits(),
            k::ln_det_inverse_to(&mut inv, k::view(&a), &mut scratch, "l").to_bits()
        );
    }

    #[test]
    fn f32_spd() {
        let m = DMatrix::<f32>::from_fn(70, 70, |i, j| ((i * 7 + j * 3) % 11) as f32 / 11.0);
        let x = &m * m.transpose() / 70.0 + DMatrix::identity(70, 70);
        let x = (&x + x.transpose()) * 0.5;
        let (mut scratch, mut inv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let l = k::ln_det_inverse_to(&mut inv, k::view(&x), &mut scratch, "l");
        assert_eq!(l.to_bits(), ln_det(&x).to_bits());
        let want = x.clone().cholesky().unwrap();
        let want_l = 2.0 * want.l_dirty().diagonal().map(f32::ln).sum();
        assert!(
            (l - want_l).abs() < 1e-4 * want_l.abs().max(1.0),
            "{l} vs {want_l}"
        );
        let d = (&inv - want.inverse()).norm() / inv.norm();
        assert!(d < 1e-4, "{d}");
    }
}

// ---------------------------------------------------------------------------
// reduce.rs
// ---------------------------------------------------------------------------

mod reduce {
    use super::*;
    use matgrad_runtime::{log_sum_exp, softmax_cross_entropy};

    fn naive_lse(a: &DMatrix<f64>) -> f64 {
        a.map(f64::exp).sum().ln()
    }

    fn naive_ce(z: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        let mut total = 0.0;
        for (zr, yr) in z.row_iter().zip(y.row_iter()) {
            let e = zr.map(f64::exp);
            let log_softmax = (&e / e.sum()).map(f64::ln);
            total -= yr.dot(&log_softmax);
        }
        total
    }

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn log_sum_exp_matches_naive(a in mat()) {
            prop_assert!(close_s(log_sum_exp(&a), naive_lse(&a), 1e-13));
            prop_assert_eq!(k::log_sum_exp(k::view(&a)).to_bits(), log_sum_exp(&a).to_bits());
        }

        #[test]
        fn log_sum_exp_is_shift_invariant(a in mat(), shift in 500.0f64..2000.0) {
            let shifted = a.add_scalar(shift);
            prop_assert!(close_s(log_sum_exp(&shifted), log_sum_exp(&a) + shift, 1e-13));
            prop_assert!(close_s(log_sum_exp(&(-shifted)), log_sum_exp(&(-&a)) - shift, 1e-13));
        }

        #[test]
        fn softmax_cross_entropy_matches_naive((z, y) in two_mats()) {
            let got = softmax_cross_entropy(&z, &y);
            prop_assert!(close_s(got, naive_ce(&z, &y), 1e-12), "{got} vs {}", naive_ce(&z, &y));
            prop_assert_eq!(k::softmax_cross_entropy(k::view(&z), k::view(&y), "ce").to_bits(), got.to_bits());
        }

        #[test]
        fn softmax_cross_entropy_is_stable((z, y) in two_mats(), shift in 500.0f64..2000.0) {
            // softmax is invariant under a shift of the scores; e^500 overflows.
            let want = naive_ce(&z, &y);
            for shifted in [z.add_scalar(shift), z.add_scalar(-shift)] {
                let got = softmax_cross_entropy(&shifted, &y);
                prop_assert!(close_s(got, want, 1e-9), "{got} vs {want}");
            }
        }

        #[test]
        fn softmax_cross_entropy_with_one_hot_targets((z, y) in two_mats()) {
            // Rows summing to 1: Σ_rows (logsumexp(z_r) − y_r · z_r).
            let y = DMatrix::from_fn(y.nrows(), y.ncols(), |i, j| {
                let hot = (0..y.ncols()).max_by(|&a, &b| y[(i, a)].total_cmp(&y[(i, b)])).unwrap();
                if j == hot { 1.0 } else { 0.0 }
            });
            let want: f64 = (0..z.nrows())
                .map(|i| naive_lse(&z.rows(i, 1).clone_owned()) - y.row(i).dot(&z.row(i)))
                .sum();
            let got = softmax_cross_entropy(&z, &y);
            prop_assert!(close_s(got, want, 1e-12), "{got} vs {want}");
        }
    }

    #[test]
    fn special_values() {
        let inf = f64::INFINITY;
        assert_eq!(log_sum_exp(&DMatrix::<f64>::zeros(0, 3)), -inf);
        assert_eq!(log_sum_exp(&DMatrix::from_element(2, 2, -inf)), -inf);
        assert_eq!(log_sum_exp(&DVector::from_vec(vec![1.0, inf, -inf])), inf);
        assert!(log_sum_exp(&DVector::from_vec(vec![1.0, f64::NAN])).is_nan());
        assert!(log_sum_exp(&DVector::from_vec(vec![inf, f64::NAN])).is_nan());
        assert!(log_sum_exp(&DVector::from_vec(vec![f64::NAN, inf])).is_nan());
        assert_eq!(log_sum_exp(&DVector::from_vec(vec![-inf, 0.0])), 0.0);
        let z = DMatrix::from_row_slice(2, 2, &[f64::NAN, 0.0, 1.0, 2.0]);
        assert!(softmax_cross_entropy(&z, &DMatrix::from_element(2, 2, 0.5)).is_nan());
        assert_eq!(
            softmax_cross_entropy(&DMatrix::<f64>::zeros(0, 3), &DMatrix::zeros(0, 3)),
            0.0
        );
        assert!((log_sum_exp(&DVector::from_vec(vec![0.0_f32, 0.0])) - 2.0_f32.ln()).abs() < 1e-7);
    }

    #[test]
    fn generic_inputs_give_the_same_bits() {
        let m = DMatrix::from_fn(9, 4, |i, j| ((i * 5 + j * 3) % 7) as f64 * 0.3 - 1.0);
        let y = DMatrix::from_fn(9, 4, |i, j| if (i + j) % 4 == 0 { 1.0 } else { 0.0 });
        let (zs, ys) = (m.rows_with_step(0, 5, 1), y.rows_with_step(0, 5, 1));
        assert_eq!(
            log_sum_exp(&zs).to_bits(),
            log_sum_exp(&zs.clone_owned()).to_bits()
        );
        assert_eq!(
            softmax_cross_entropy(&zs, &ys).to_bits(),
            softmax_cross_entropy(&zs.clone_owned(), &ys.clone_owned()).to_bits()
        );
        let v = DVector::from_fn(7, |i, _| i as f64);
        assert_eq!(
            log_sum_exp(&v).to_bits(),
            log_sum_exp(&DMatrix::from_column_slice(7, 1, v.as_slice())).to_bits()
        );
    }

    #[test]
    #[should_panic(
        expected = "matgrad: softmax_cross_entropy: cannot compare 4×3 scores with 4×2 targets"
    )]
    fn softmax_cross_entropy_panics() {
        let _ = softmax_cross_entropy(&DMatrix::<f64>::zeros(4, 3), &DMatrix::<f64>::zeros(4, 2));
    }

    #[test]
    #[should_panic(
        expected = "matgrad: softmax_cross_entropy(&z, &y): cannot compare 2×3 scores with 3×2 targets"
    )]
    fn softmax_cross_entropy_kernel_panics() {
        let (z, y) = (DMatrix::<f64>::zeros(2, 3), DMatrix::<f64>::zeros(3, 2));
        k::softmax_cross_entropy(k::view(&z), k::view(&y), "softmax_cross_entropy(&z, &y)");
    }
}

// ---------------------------------------------------------------------------
// workspace.rs
// ---------------------------------------------------------------------------

mod workspace {
    use super::*;
    use matgrad_runtime::Workspace;

    #[test]
    fn take_and_put_reuse_the_buffers() {
        let mut ws = Workspace::<f64>::new();
        assert_eq!(format!("{ws:?}"), "Workspace { slots: [] }");
        let m = ws.take(2);
        assert_eq!(m.shape(), (0, 0));
        ws.put(2, DMatrix::zeros(3, 4));
        ws.put(0, DMatrix::zeros(1, 2));
        assert_eq!(format!("{ws:?}"), "Workspace { slots: [1×2, 0×0, 3×4] }");
        let m = ws.take(2);
        let ptr = m.as_ptr();
        ws.put(2, m);
        let n = allocations(|| {
            let m = ws.take(2);
            assert_eq!(m.as_ptr(), ptr);
            ws.put(2, m);
        });
        assert_eq!(n, 0);
        assert_eq!(
            format!("{:?}", Workspace::<f32>::default()),
            "Workspace { slots: [] }"
        );
    }
}

// ---------------------------------------------------------------------------
// solve.rs
// ---------------------------------------------------------------------------

mod solve {
    use super::*;

    /// Sizes around the blocks (32) of the factorisation and the solves.
    fn n_dim() -> impl Strategy<Value = usize> {
        prop_oneof![3 => 1usize..=5, 1 => 6usize..=31, 1 => Just(32usize), 1 => Just(33usize), 1 => 34usize..=80]
    }

    /// Right-hand sides: one column, a few, or more than a block.
    fn k_dim() -> impl Strategy<Value = usize> {
        prop_oneof![2 => 1usize..=5, 1 => 6usize..=40]
    }

    /// A random square matrix (partial pivoting swaps rows) with a nudged diagonal,
    /// so that it is comfortably invertible, or an exactly symmetric positive definite
    /// one (the Cholesky path); and `k`.
    fn system() -> impl Strategy<Value = (DMatrix<f64>, usize)> {
        (n_dim(), k_dim(), any::<bool>()).prop_flat_map(|(n, k, spd)| {
            (
                mat_of(n, n).prop_map(move |m| {
                    if spd {
                        let x = &m * m.transpose() / n as f64 + DMatrix::identity(n, n);
                        (&x + x.transpose()) * 0.5
                    } else {
                        m + DMatrix::identity(n, n) * (n as f64).sqrt()
                    }
                }),
                Just(k),
            )
        })
    }

    /// The factors and pivots `factor_to` writes (into NaN-filled buffers of the wrong shape).
    fn factor(x: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>) {
        let (mut lu, mut piv) = (nan_buf(2, 3), nan_buf(1, 1));
        k::factor_to(&mut lu, &mut piv, k::view(x), "x⁻¹", None);
        (lu, piv)
    }

    /// `x⁻¹ b` by nalgebra's LU.
    fn solved(x: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
        x.clone().lu().solve(b).expect("invertible")
    }

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn solves_match_nalgebra((x, kk) in system(), seed in 0u64..1000) {
            let n = x.nrows();
            let entry = |i: usize, j: usize| (((i * 31 + j * 17 + seed as usize) % 23) as f64 - 11.0) / 7.0;
            let b = DMatrix::from_fn(n, kk, entry);
            let (lu, piv) = factor(&x);
            let (lv, pv) = (k::view(&lu), k::view(&piv));
            let tol = 1e-8;
            // y = x⁻¹ b and y = bᵀ x⁻¹.
            let mut y = nan_buf(1, 1);
            k::factor_solve_to(&mut y, lv, pv, k::view(&b), "x⁻¹ b");
            let want = solved(&x, &b);
            prop_assert!(close(&y, &want, tol), "x⁻¹ b: {y} vs {want}");
            let bt = b.transpose();
            let (mut yr, mut tmp) = (nan_buf(2, 2), nan_buf(3, 1));
            k::factor_solve_right_to(&mut yr, k::view(&bt), lv, pv, &mut tmp, "b x⁻¹");
            let want_r = solved(&x.transpose(), &b).transpose();
            prop_assert!(close(&yr, &want_r, tol), "bᵀ x⁻¹: {yr} vs {want_r}");
            // Adjoints of y = x⁻¹ b with ȳ = g: b̄ = x⁻ᵀ g, x̄ = −(x⁻ᵀ g) yᵀ; overwrite,
            // then accumulate onto c.
            let g = DMatrix::from_fn(n, kk, |i, j| entry(j, i + 1));
            let xtg = solved(&x.transpose(), &g);
            let c = DMatrix::from_fn(n, kk, |i, j| entry(i + 3, j));
            let cx = DMatrix::from_fn(n, n, |i, j| entry(i, j + 5));
            let mut w = nan_buf(1, 1);
            for (acc, base_b, base_x) in [(false, None, None), (true, Some(&c), Some(&cx))] {
                let mut out = base_b.cloned().unwrap_or_else(|| nan_buf(2, 1));
                k::factor_solve_adjoint_b_to(&mut out, acc, lv, pv, k::view(&g), &mut w);
                let want = base_b.map_or(xtg.clone(), |c| c + &xtg);
                prop_assert!(close(&out, &want, tol), "b̄ (acc {acc}): {out} vs {want}");
                let mut out = base_x.cloned().unwrap_or_else(|| nan_buf(1, 2));
                k::factor_solve_adjoint_x_to(&mut out, acc, lv, pv, k::view(&g), k::view(&y), &mut w);
                let mx = -(&xtg * y.transpose());
                let want = base_x.map_or(mx.clone(), |c| c + &mx);
                prop_assert!(close(&out, &want, tol), "x̄ (acc {acc}): {out} vs {want}");
            }
            // Adjoints of y = b x⁻¹ (b kk×n) with ȳ = gᵀ: b̄ = gᵀ x⁻ᵀ, x̄ = −yᵀ gᵀ x⁻ᵀ.
            let gt = g.transpose();
            let gxt = solved(&x, &g).transpose();
            for (acc, base_b, base_x) in [(false, None, None), (true, Some(&c), Some(&cx))] {
                let base_b = base_b.map(|c| c.transpose());
                let mut out = base_b.clone().unwrap_or_else(|| nan_buf(3, 3));
                k::factor_solve_right_adjoint_b_to(&mut out, acc, lv, pv, k::view(&gt), &mut w);
                let want = base_b.map_or(gxt.clone(), |c| c + &gxt);
                prop_assert!(close(&out, &want, tol), "right b̄ (acc {acc}): {out} vs {want}");
                let mut out = base_x.cloned().unwrap_or_else(|| nan_buf(1, 1));
                k::factor_solve_right_adjoint_x_to(&mut out, acc, lv, pv, k::view(&gt), k::view(&yr), &mut w);
                let mx = -(yr.transpose() * &gxt);
                let want = base_x.map_or(mx.clone(), |c| c + &mx);
                prop_assert!(close(&out, &want, tol), "right x̄ (acc {acc}): {out} vs {want}");
            }
        }

        #[test]
        fn singular_matrices_panic_as_unwrap_does(n in 2usize..=40, i in 0usize..100, row in any::<bool>()) {
            let i = i % n;
            let mut x = DMatrix::from_fn(n, n, |a, b| ((a * 7 + b * 3) % 5) as f64) + DMatrix::identity(n, n) * 10.0;
            if row {
                x.row_mut(i).fill(0.0);
            } else {
                x.column_mut(i).fill(0.0);
            }
            let (mut lu, mut piv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                k::factor_to(&mut lu, &mut piv, k::view(&x), "s.try_inverse().unwrap()", None);
            }));
            let msg = got.err().and_then(|e| e.downcast_ref::<String>().cloned());
            prop_assert_eq!(
                msg.as_deref(),
                Some("matgrad: s.try_inverse().unwrap(): the matrix is singular (called unwrap on None)")
            );
            prop_assert!(x.clone().try_inverse().is_none());
        }
    }

    #[test]
    #[should_panic(expected = "the covariance is singular")]
    fn singular_matrix_with_expect() {
        let (mut lu, mut piv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let x = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
        k::factor_to(
            &mut lu,
            &mut piv,
            k::view(&x),
            "s",
            Some("the covariance is singular"),
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: s.try_inverse().unwrap(): cannot invert a 2×3 matrix")]
    fn non_square_matrix() {
        let (mut lu, mut piv) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let x = DMatrix::<f64>::zeros(2, 3);
        k::factor_to(
            &mut lu,
            &mut piv,
            k::view(&x),
            "s.try_inverse().unwrap()",
            None,
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: x⁻¹ * b: cannot multiply 3×3 by 2×4")]
    fn solve_with_mismatched_rows() {
        let (lu, piv) = factor(&DMatrix::identity(3, 3));
        let b = DMatrix::<f64>::zeros(2, 4);
        k::factor_solve_to(
            &mut DMatrix::zeros(0, 0),
            k::view(&lu),
            k::view(&piv),
            k::view(&b),
            "x⁻¹ * b",
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: b * x⁻¹: cannot multiply 4×2 by 3×3")]
    fn right_solve_with_mismatched_columns() {
        let (lu, piv) = factor(&DMatrix::identity(3, 3));
        let b = DMatrix::<f64>::zeros(4, 2);
        let (mut out, mut tmp) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        k::factor_solve_right_to(
            &mut out,
            k::view(&b),
            k::view(&lu),
            k::view(&piv),
            &mut tmp,
            "b * x⁻¹",
        );
    }

    #[test]
    fn empty_and_one_by_one() {
        let (lu, piv) = factor(&DMatrix::zeros(0, 0));
        let mut y = nan_buf(1, 1);
        k::factor_solve_to(
            &mut y,
            k::view(&lu),
            k::view(&piv),
            k::view(&DMatrix::zeros(0, 3)),
            "e",
        );
        assert_eq!(y.shape(), (0, 3));
        let (lu, piv) = factor(&DMatrix::from_element(1, 1, -4.0));
        k::factor_solve_to(
            &mut y,
            k::view(&lu),
            k::view(&piv),
            k::view(&DMatrix::from_element(1, 2, 2.0)),
            "o",
        );
        assert_eq!(y, DMatrix::from_element(1, 2, -0.5));
    }

    #[test]
    fn factorisation_kinds() {
        // Exactly symmetric positive definite: Cholesky (piv[n] = 1, no interchanges).
        let s = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0]);
        let (lu, piv) = factor(&s);
        assert_eq!(piv.shape(), (4, 1));
        assert_eq!(piv[3], 1.0);
        let l = s.clone().cholesky().expect("SPD").l();
        assert!((lu.lower_triangle() - &l).norm() <= 1e-12);
        assert!((lu.upper_triangle() - l.transpose()).norm() <= 1e-12);
        // Symmetric but indefinite: LU with interchanges (piv[n] = 0).
        let (lu, piv) = factor(&(-&s + DMatrix::identity(3, 3) * 3.5));
        assert_eq!(piv[3], 0.0);
        assert!(lu.iter().all(|v| v.is_finite()));
        // Not symmetric: LU.
        let mut ns = s.clone();
        ns[(2, 0)] += 1e-9;
        assert_eq!(factor(&ns).1[3], 0.0);
    }

    #[test]
    fn nan_propagates_without_a_panic() {
        let mut x = DMatrix::<f64>::identity(5, 5) * 3.0;
        x[(2, 1)] = f64::NAN;
        let (lu, piv) = factor(&x);
        let mut y = DMatrix::zeros(0, 0);
        k::factor_solve_to(
            &mut y,
            k::view(&lu),
            k::view(&piv),
            k::view(&DMatrix::from_element(5, 1, 1.0)),
            "n",
        );
        assert!(y.iter().any(|v| v.is_nan()));
    }

    #[test]
    fn f32_solves() {
        let x = DMatrix::<f32>::from_fn(6, 6, |i, j| ((i * 5 + j * 3) % 7) as f32 - 3.0)
            + DMatrix::identity(6, 6) * 8.0;
        let b = DMatrix::<f32>::from_fn(6, 2, |i, j| (i + j) as f32);
        let (mut lu, mut piv, mut y) = (
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
        );
        k::factor_to(&mut lu, &mut piv, k::view(&x), "x", None);
        k::factor_solve_to(&mut y, k::view(&lu), k::view(&piv), k::view(&b), "y");
        let want = x.clone().lu().solve(&b).expect("invertible");
        assert!((y - want).norm() <= 1e-5);
    }

    #[test]
    fn steady_state_allocates_nothing() {
        let n = 40;
        let x = DMatrix::from_fn(n, n, |i, j| ((i * 7 + j * 13) % 17) as f64 - 8.0)
            + DMatrix::identity(n, n) * 9.0;
        let b = DMatrix::from_fn(n, 3, |i, j| (i + 2 * j) as f64 / 10.0);
        let bt = b.transpose();
        let (mut lu, mut piv, mut y, mut yr, mut tmp, mut w) = (
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
        );
        let (mut ob, mut ox, mut orb, mut orx) = (
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(n, n),
            DMatrix::zeros(n, n),
        );
        let mut run = || {
            k::factor_to(&mut lu, &mut piv, k::view(&x), "x", None);
            let (lv, pv) = (k::view(&lu), k::view(&piv));
            k::factor_solve_to(&mut y, lv, pv, k::view(&b), "y");
            k::factor_solve_right_to(&mut yr, k::view(&bt), lv, pv, &mut tmp, "yr");
            k::factor_solve_adjoint_b_to(&mut ob, false, lv, pv, k::view(&b), &mut w);
            k::factor_solve_adjoint_b_to(&mut ob, true, lv, pv, k::view(&b), &mut w);
            k::factor_solve_adjoint_x_to(&mut ox, false, lv, pv, k::view(&b), k::view(&y), &mut w);
            k::factor_solve_right_adjoint_b_to(&mut orb, false, lv, pv, k::view(&bt), &mut w);
            k::factor_solve_right_adjoint_x_to(
                &mut orx,
                true,
                lv,
                pv,
                k::view(&bt),
                k::view(&yr),
                &mut tmp,
            );
        };
        run();
        assert_eq!(allocations(&mut run), 0);
    }
}

// ---------------------------------------------------------------------------
// __private.rs: gradient buffers
// ---------------------------------------------------------------------------

mod grad_buf {
    use super::*;
    use k::GradBuf;

    #[test]
    fn vectors_move_without_copying() {
        let mut v = DVector::from_vec(vec![1.0, 2.0, 3.0]);
        let ptr = v.as_ptr();
        let n = allocations(|| {
            let m = v.take_matrix();
            assert_eq!(m.shape(), (3, 1));
            assert_eq!(m.as_ptr(), ptr);
            v.put_matrix(m * 2.0);
        });
        assert_eq!(n, 0);
        assert_eq!(v, DVector::from_vec(vec![2.0, 4.0, 6.0]));
        assert_eq!(v.as_ptr(), ptr);

        let mut r = RowDVector::from_vec(vec![1.0, 2.0]);
        let m = r.take_matrix();
        assert_eq!(m.shape(), (1, 2));
        assert_eq!(r.len(), 0);
        r.put_matrix(m);
        assert_eq!(r, RowDVector::from_vec(vec![1.0, 2.0]));

        let mut d = DMatrix::from_element(2, 3, 1.0);
        let m = d.take_matrix();
        assert_eq!((m.shape(), d.shape()), ((2, 3), (0, 0)));
        d.put_matrix(m);
        assert_eq!(d, DMatrix::from_element(2, 3, 1.0));
    }

    #[test]
    #[should_panic(expected = "must be a column")]
    fn a_row_is_not_a_dvector_gradient() {
        DVector::<f64>::zeros(2).put_matrix(DMatrix::zeros(1, 2));
    }
}

// ---------------------------------------------------------------------------
// __private.rs: forward kernels
// ---------------------------------------------------------------------------

mod forward {
    use super::*;

    fn product() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
        (gdim(), gdim(), gdim()).prop_flat_map(|(m, kk, n)| (mat_of(m, kk), mat_of(kk, n)))
    }

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn mul_to_is_nalgebras_product((a, b) in product()) {
            // Bit for bit `&a * &b` at every shape: nalgebra's gemv path when a
            // dimension is ≤ 5, the blocked kernel (matrixmultiply's arithmetic) above.
            let mut out = nan_buf(2, 2);
            k::mul_to(&mut out, k::view(&a), k::view(&b), "a * b");
            prop_assert!(same_bits(&out, &(&a * &b)));
            prop_assert!(close(&out, &naive(&a, &b), 1e-12));
            // A reused buffer of the right shape.
            out.fill(f64::NAN);
            k::mul_to(&mut out, k::view(&a), k::view(&b), "a * b");
            prop_assert!(same_bits(&out, &(&a * &b)));
        }

        #[test]
        fn trace_of_product_is_the_trace_of_nalgebras_product(
            m in gdim(),
            k in prop_oneof![gdim(), 250usize..=530],
            seed in 0u64..1000,
        ) {
            // Bit for bit `(p * q).trace()`, whichever kernel nalgebra's product takes,
            // over several chunks of the depth, with p a view inside a larger matrix.
            let f = |i: usize, j: usize, s: u64| ((i * 31 + j * 17 + s as usize) % 97) as f64 / 13.0 - 3.5;
            let big = DMatrix::from_fn(m + 3, k, |i, j| f(i, j, seed));
            let p = big.view((2, 0), (m, k));
            let q = DMatrix::from_fn(k, m, |i, j| f(i, j, seed + 1) * 0.7);
            let want = (p * &q).trace();
            let got = k::trace_of_product(p, k::view(&q), "tr");
            prop_assert_eq!(got.to_bits(), want.to_bits(), "{} vs {}", got, want);
        }

        #[test]
        fn mul_to_vectors_is_nalgebras_product(a in mat()) {
            let v = DVector::from_fn(a.ncols(), |i, _| i as f64 - 0.5);
            let mut out = nan_buf(1, 1);
            k::mul_to(&mut out, k::view(&a), k::view(&v), "a * v");
            let want = &a * &v;
            prop_assert!(same_bits(&out, &DMatrix::from_column_slice(a.nrows(), 1, want.as_slice())));
        }

        #[test]
        fn mul_to_on_sub_views_is_nalgebras_product((a, b) in product()) {
            // Views whose column stride is not their row count.
            let mut big_a = DMatrix::from_element(a.nrows() + 2, a.ncols() + 1, f64::NAN);
            big_a.view_mut((1, 1), a.shape()).copy_from(&a);
            let mut big_b = DMatrix::from_element(b.nrows() + 3, b.ncols(), f64::NAN);
            big_b.view_mut((3, 0), b.shape()).copy_from(&b);
            let mut out = nan_buf(1, 1);
            k::mul_to(&mut out, big_a.view((1, 1), a.shape()), big_b.view((3, 0), b.shape()), "a * b");
            prop_assert!(same_bits(&out, &(&a * &b)));
        }

        #[test]
        fn elementwise_forward_kernels_are_nalgebras((a, b) in two_mats(), s in scalar()) {
            let mut out = nan_buf(1, 1);
            k::add_to(&mut out, k::view(&a), k::view(&b), "a + b");
            prop_assert!(same_bits(&out, &(&a + &b)));
            k::sub_to(&mut out, k::view(&a), k::view(&b), "a - b");
            prop_assert!(same_bits(&out, &(&a - &b)));
            k::neg_to(&mut out, k::view(&a));
            prop_assert!(same_bits(&out, &(-&a)));
            k::scale_to(&mut out, k::view(&a), s);
            prop_assert!(same_bits(&out, &(&a * s)));
            prop_assert!(same_bits(&out, &a.scale(s)));
            k::div_scalar_to(&mut out, k::view(&a), s);
            prop_assert!(same_bits(&out, &(&a / s)));
            k::transpose_to(&mut out, k::view(&a));
            prop_assert!(same_bits(&out, &a.transpose()));
            k::component_mul_to(&mut out, k::view(&a), k::view(&b), "a.component_mul(&b)");
            prop_assert!(same_bits(&out, &a.component_mul(&b)));
            k::component_div_to(&mut out, k::view(&a), k::view(&b), "a.component_div(&b)");
            prop_assert!(same_bits(&out, &a.component_div(&b)));
            k::map_to(&mut out, k::view(&a), |v: f64| v.tanh() * s);
            prop_assert!(same_bits(&out, &a.map(|v| v.tanh() * s)));
            k::add_scalar_to(&mut out, k::view(&a), s);
            prop_assert!(same_bits(&out, &a.add_scalar(s)));
        }

        #[test]
        fn scalar_forward_kernels_are_nalgebras((a, b) in two_mats(), i in 0usize..40, j in 0usize..40) {
            prop_assert_eq!(k::dot(k::view(&a), k::view(&b), "a.dot(&b)").to_bits(), a.dot(&b).to_bits());
            let (i, j) = (i % a.nrows(), j % a.ncols());
            prop_assert_eq!(k::index(k::view(&a), i, j, "a[(i, j)]"), a[(i, j)]);
        }

        #[test]
        fn square_forward_kernels_are_nalgebras(a in (1usize..=9).prop_flat_map(|n| mat_of(n, n))) {
            prop_assert_eq!(k::trace(k::view(&a), "a.trace()").to_bits(), a.trace().to_bits());
            prop_assert_eq!(k::determinant(k::view(&a), "a.determinant()").to_bits(), a.determinant().to_bits());
            let mut out = nan_buf(1, 1);
            if let Some(inv) = a.clone().try_inverse() {
                k::inverse_to(&mut out, k::view(&a), "a.try_inverse().unwrap()", None);
                prop_assert!(same_bits(&out, &inv), "{out} vs {inv}");
            }
        }

        #[test]
        fn kronecker_to_is_nalgebras(a in (1usize..=4, 1usize..=4).prop_flat_map(|(r, c)| mat_of(r, c)),
                                     b in (1usize..=5, 1usize..=5).prop_flat_map(|(r, c)| mat_of(r, c))) {
            let mut out = nan_buf(1, 1);
            k::kronecker_to(&mut out, k::view(&a), k::view(&b));
            prop_assert!(same_bits(&out, &a.kronecker(&b)));
        }
    }

    #[test]
    fn kernels_read_sub_views() {
        let big = DMatrix::from_fn(9, 8, |i, j| (i as f64 - 3.5) * 0.3 + j as f64 * 0.1);
        let (a, b) = (big.view((1, 2), (4, 3)), big.view((4, 0), (3, 5)));
        let mut out = DMatrix::zeros(0, 0);
        k::mul_to(&mut out, a, b, "a * b");
        assert!(same_bits(&out, &(a.clone_owned() * b.clone_owned())));
        k::transpose_to(&mut out, a);
        assert_eq!(out, a.transpose());
        k::kronecker_to(&mut out, a, b);
        assert_eq!(out, a.kronecker(&b));
        k::add_to(&mut out, a, big.view((5, 5), (4, 3)), "a + c");
        assert_eq!(out, a + big.view((5, 5), (4, 3)));
    }

    #[test]
    fn inverse_reports_singularity() {
        let s = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
        let r = std::panic::catch_unwind(|| {
            k::inverse_to(
                &mut DMatrix::zeros(0, 0),
                k::view(&s),
                "a.try_inverse().expect(\"x\")",
                Some("not invertible"),
            )
        });
        let msg = r.unwrap_err();
        assert_eq!(
            msg.downcast_ref::<String>().map(String::as_str),
            Some("not invertible")
        );
        let empty = DMatrix::<f64>::zeros(0, 0);
        let mut out = nan_buf(2, 2);
        k::inverse_to(&mut out, k::view(&empty), "e", None);
        assert_eq!(out.shape(), (0, 0));
    }

    #[test]
    #[should_panic(
        expected = "matgrad: a.try_inverse().unwrap(): the matrix is singular (called unwrap on None)"
    )]
    fn inverse_panics_on_singular() {
        let s = DMatrix::from_element(5, 5, 1.0);
        k::inverse_to(
            &mut DMatrix::zeros(0, 0),
            k::view(&s),
            "a.try_inverse().unwrap()",
            None,
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: a.try_inverse().unwrap(): cannot invert a 2×3 matrix")]
    fn inverse_panics_on_non_square() {
        let s = DMatrix::<f64>::zeros(2, 3);
        k::inverse_to(
            &mut DMatrix::zeros(0, 0),
            k::view(&s),
            "a.try_inverse().unwrap()",
            None,
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: x * w: cannot multiply 3×4 by 5×2")]
    fn mul_to_panics() {
        let (x, w) = (DMatrix::<f64>::zeros(3, 4), DMatrix::<f64>::zeros(5, 2));
        k::mul_to(&mut DMatrix::zeros(0, 0), k::view(&x), k::view(&w), "x * w");
    }

    #[test]
    #[should_panic(expected = "matgrad: a + b: cannot add 3×4 and 4×3")]
    fn add_to_panics() {
        let (a, b) = (DMatrix::<f64>::zeros(3, 4), DMatrix::<f64>::zeros(4, 3));
        k::add_to(&mut DMatrix::zeros(0, 0), k::view(&a), k::view(&b), "a + b");
    }

    #[test]
    #[should_panic(expected = "matgrad: a - b: cannot subtract 4×3 from 3×4")]
    fn sub_to_panics() {
        let (a, b) = (DMatrix::<f64>::zeros(3, 4), DMatrix::<f64>::zeros(4, 3));
        k::sub_to(&mut DMatrix::zeros(0, 0), k::view(&a), k::view(&b), "a - b");
    }

    #[test]
    #[should_panic(
        expected = "matgrad: a.component_mul(&b): cannot multiply entrywise 3×4 and 3×1"
    )]
    fn component_mul_to_panics() {
        let (a, b) = (DMatrix::<f64>::zeros(3, 4), DVector::<f64>::zeros(3));
        k::component_mul_to(
            &mut DMatrix::zeros(0, 0),
            k::view(&a),
            k::view(&b),
            "a.component_mul(&b)",
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: a.component_div(&b): cannot divide entrywise 3×4 by 1×4")]
    fn component_div_to_panics() {
        let (a, b) = (DMatrix::<f64>::zeros(3, 4), RowDVector::<f64>::zeros(4));
        k::component_div_to(
            &mut DMatrix::zeros(0, 0),
            k::view(&a),
            k::view(&b),
            "a.component_div(&b)",
        );
    }

    #[test]
    #[should_panic(expected = "matgrad: a.dot(&b): cannot take the dot product of 3×1 and 1×3")]
    fn dot_panics() {
        let (a, b) = (DVector::<f64>::zeros(3), RowDVector::<f64>::zeros(3));
        k::dot(k::view(&a), k::view(&b), "a.dot(&b)");
    }

    #[test]
    #[should_panic(expected = "matgrad: a[(2, 0)]: index (2, 0) is out of range for a 2×2 matrix")]
    fn index_panics() {
        k::index(k::view(&DMatrix::<f64>::zeros(2, 2)), 2, 0, "a[(2, 0)]");
    }

    #[test]
    #[should_panic(expected = "matgrad: a.trace(): cannot take the trace of a 2×3 matrix")]
    fn trace_panics() {
        k::trace(k::view(&DMatrix::<f64>::zeros(2, 3)), "a.trace()");
    }

    #[test]
    #[should_panic(
        expected = "matgrad: a.determinant(): cannot take the determinant of a 2×3 matrix"
    )]
    fn determinant_panics() {
        k::determinant(k::view(&DMatrix::<f64>::zeros(2, 3)), "a.determinant()");
    }
}

// ---------------------------------------------------------------------------
// __private.rs: backward kernels
// ---------------------------------------------------------------------------

mod backward {
    use super::*;

    /// Runs a backward kernel into a NaN-filled buffer (`acc == false`) and into `old`
    /// (`acc == true`), checking both against `contribution` (and `old + contribution`).
    pub(super) fn check_both(
        old: &DMatrix<f64>,
        contribution: &DMatrix<f64>,
        tol: f64,
        mut run: impl FnMut(&mut DMatrix<f64>, bool),
    ) -> Result<(), TestCaseError> {
        let mut out = nan_buf(old.nrows() + 1, old.ncols());
        run(&mut out, false);
        prop_assert!(
            close(&out, contribution, tol),
            "acc = false: {out} vs {contribution}"
        );
        let mut out = nan_buf(old.nrows(), old.ncols());
        run(&mut out, false);
        prop_assert!(
            close(&out, contribution, tol),
            "reused: {out} vs {contribution}"
        );
        let mut out = old.clone();
        run(&mut out, true);
        let want = old + contribution;
        prop_assert!(close(&out, &want, tol), "acc = true: {out} vs {want}");
        Ok(())
    }

    fn gemm_operands(
    ) -> impl Strategy<Value = (DMatrix<f64>, bool, DMatrix<f64>, bool, DMatrix<f64>)> {
        (gdim(), gdim(), gdim(), any::<bool>(), any::<bool>()).prop_flat_map(
            |(m, kk, n, ta, tb)| {
                let (ar, ac) = if ta { (kk, m) } else { (m, kk) };
                let (br, bc) = if tb { (n, kk) } else { (kk, n) };
                (
                    mat_of(ar, ac),
                    Just(ta),
                    mat_of(br, bc),
                    Just(tb),
                    mat_of(m, n),
                )
            },
        )
    }

    fn kron_naive_a(g: &DMatrix<f64>, b: &DMatrix<f64>, p: usize, q: usize) -> DMatrix<f64> {
        let (r, s) = b.shape();
        DMatrix::from_fn(p, q, |i, j| {
            let mut t = 0.0;
            for kk in 0..r {
                for l in 0..s {
                    t += g[(i * r + kk, j * s + l)] * b[(kk, l)];
                }
            }
            t
        })
    }

    fn kron_naive_b(g: &DMatrix<f64>, a: &DMatrix<f64>, r: usize, s: usize) -> DMatrix<f64> {
        let (p, q) = a.shape();
        DMatrix::from_fn(r, s, |kk, l| {
            let mut t = 0.0;
            for i in 0..p {
                for j in 0..q {
                    t += a[(i, j)] * g[(i * r + kk, j * s + l)];
                }
            }
            t
        })
    }

    fn small() -> impl Strategy<Value = usize> {
        1usize..=5
    }

    fn softmax_rows(z: &DMatrix<f64>) -> DMatrix<f64> {
        let mut p = z.map(f64::exp);
        for mut row in p.row_iter_mut() {
            let s = row.sum();
            row /= s;
        }
        p
    }

    proptest! {
        #![proptest_config(cfg(48))]

        #[test]
        fn axpy_to_matches_naive(a in mat(), ta in any::<bool>(), alpha in scalar(), seed in 0u64..100) {
            let want = tr(&a, ta) * alpha;
            let old = DMatrix::from_fn(want.nrows(), want.ncols(), |i, j| (i + j) as f64 + seed as f64);
            check_both(&old, &want, 1e-15, |out, acc| k::axpy_to(out, acc, alpha, k::view(&a), ta))?;
        }

        #[test]
        fn gemm_to_matches_naive((a, ta, b, tb, old) in gemm_operands(), alpha in scalar()) {
            let want = naive(&tr(&a, ta), &tr(&b, tb)) * alpha;
            check_both(&old, &want, 1e-12, |out, acc| {
                k::gemm_to(out, acc, alpha, k::view(&a), ta, k::view(&b), tb);
            })?;
        }

        #[test]
        fn chain3_to_matches_naive(
            (a, ta, b, tb, _) in gemm_operands(),
            p in prop_oneof![Just(1usize), 1usize..=40],
            tc in any::<bool>(),
            alpha in scalar(),
        ) {
            let (ab_rows, n) = (tr(&a, ta).nrows(), tr(&b, tb).ncols());
            let c = if tc { DMatrix::from_fn(p, n, |i, j| (i as f64 - j as f64) * 0.3) } else { DMatrix::from_fn(n, p, |i, j| (i as f64 - j as f64) * 0.3) };
            let want = naive(&naive(&tr(&a, ta), &tr(&b, tb)), &tr(&c, tc)) * alpha;
            let old = DMatrix::from_fn(ab_rows, p, |i, j| (i * 2 + j) as f64);
            let mut tmp = DMatrix::zeros(0, 0);
            check_both(&old, &want, 1e-10, |out, acc| {
                k::mul3_to(out, acc, alpha, k::view(&a), ta, k::view(&b), tb, k::view(&c), tc, &mut tmp);
            })?;
            // The costs: the cheaper order is never dearer than either order.
            let ((m, kk), (_, n)) = (tr(&a, ta).shape(), tr(&b, tb).shape());
            let (best, stored) = k::mul3_costs(k::view(&a), ta, k::view(&b), tb, k::view(&c), tc, true);
            prop_assert_eq!(best, (m * kk * n + m * n * p).min(kk * n * p + m * kk * p));
            prop_assert_eq!(stored, m * n * p);
            prop_assert_eq!(k::product_cost(k::view(&a), ta, k::view(&b), tb), m * kk * n);
        }

        #[test]
        fn elementwise_adjoints_match_naive((a, b, c) in three_mats(), alpha in scalar()) {
            check_both(&c, &(a.component_mul(&b) * alpha), 1e-14, |out, acc| {
                k::hadamard_to(out, acc, alpha, k::view(&a), k::view(&b));
            })?;
            check_both(&c, &a.zip_map(&b, |x, y| x * y.sin()), 1e-14, |out, acc| {
                k::zip_map_to(out, acc, k::view(&a), k::view(&b), |x: f64, y: f64| x * y.sin());
            })?;
            let want = DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] - b[(i, j)] * c[(i, j)]);
            check_both(&a, &want, 1e-14, |out, acc| {
                k::zip3_map_to(out, acc, k::view(&a), k::view(&b), k::view(&c), |x: f64, y: f64, z: f64| x - y * z);
            })?;
            let s = k::zip_map_sum(k::view(&a), k::view(&b), |x: f64, y: f64| x * y + 1.0);
            prop_assert!(close_s(s, a.dot(&b) + (a.len() as f64), 1e-13));
        }

        #[test]
        fn constant_adjoints_match_naive(a in mat(), s in scalar(), i in 0usize..40, j in 0usize..40) {
            let (r, c) = a.shape();
            check_both(&a, &DMatrix::from_element(r, c, s), 0.0, |out, acc| k::fill_to(out, acc, s, r, c))?;
            let sq = DMatrix::from_fn(r, r, |i, j| a[(i % r, j % c)]);
            check_both(&sq, &(DMatrix::identity(r, r) * s), 0.0, |out, acc| k::add_diag_to(out, acc, s, r))?;
            let (i, j) = (i % r, j % c);
            let mut e = DMatrix::zeros(r, c);
            e[(i, j)] = s;
            check_both(&a, &e, 0.0, |out, acc| k::index_adjoint_to(out, acc, s, i, j, r, c))?;
        }

        #[test]
        fn broadcast_adjoints_match_naive((g, old) in two_mats()) {
            let old_row = old.rows(0, 1).clone_owned();
            let rs = g.row_sum();
            let rs = DMatrix::from_row_slice(1, rs.len(), rs.as_slice());
            check_both(&old_row, &rs, 1e-13, |out, acc| k::row_sum_to(out, acc, k::view(&g)))?;
            let old_col = old.columns(0, 1).clone_owned();
            let cs = g.column_sum();
            let cs = DMatrix::from_column_slice(cs.len(), 1, cs.as_slice());
            check_both(&old_col, &cs, 1e-13, |out, acc| k::column_sum_to(out, acc, k::view(&g)))?;
        }

        #[test]
        fn kron_adjoints_match_naive(p in small(), q in small(), r in small(), s in small(), seed in 0u64..1000) {
            let f = |i: usize, j: usize, m: u64| (((i * 31 + j * 17) as u64 + seed * m) % 19) as f64 / 7.0 - 1.3;
            let a = DMatrix::from_fn(p, q, |i, j| f(i, j, 3));
            let b = DMatrix::from_fn(r, s, |i, j| f(i, j, 5));
            let g = DMatrix::from_fn(p * r, q * s, |i, j| f(i, j, 7));
            let (ga, gb) = (kron_naive_a(&g, &b, p, q), kron_naive_b(&g, &a, r, s));
            // Both are gradients of ⟨g, a ⊗ b⟩, which is bilinear.
            prop_assert!(close_s(ga.dot(&a), g.dot(&a.kronecker(&b)), 1e-12));
            prop_assert!(close_s(gb.dot(&b), g.dot(&a.kronecker(&b)), 1e-12));
            check_both(&a, &ga, 1e-13, |out, acc| k::kron_adjoint_a_to(out, acc, k::view(&g), k::view(&b)))?;
            check_both(&b, &gb, 1e-13, |out, acc| k::kron_adjoint_b_to(out, acc, k::view(&g), k::view(&a)))?;
        }

        #[test]
        fn inverse_adjoints_match_naive(a in square(), s in scalar(), seed in 0u64..100) {
            let n = a.nrows();
            let inv = a.clone().try_inverse().unwrap();
            let g = DMatrix::from_fn(n, n, |i, j| ((i * 3 + j * 5) as u64 + seed) as f64 % 7.0 - 3.0);
            // The inverse's own rule is a chain: −invᵀ g invᵀ.
            let want = -(inv.transpose() * &g * inv.transpose());
            let mut t0 = nan_buf(2, 1);
            let factors = [(k::view(&inv), true), (k::view(&g), false), (k::view(&inv), true)];
            check_both(&a, &want, 1e-11, |out, acc| k::chain_product_to(out, acc, -1.0, &factors, &mut [&mut t0]))?;
            let want = inv.transpose() * s;
            let (mut s1, mut s2) = (nan_buf(1, 1), nan_buf(1, 3));
            check_both(&a, &want, 1e-10, |out, acc| k::inv_transpose_to(out, acc, s, k::view(&a), &mut s1, &mut s2))?;
        }

        #[test]
        fn activation_adjoints_match_naive((g, a, old) in three_mats()) {
            let a = a * 4.0;
            let y = matgrad_runtime::sigmoid(&a);
            let want = DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| g[(i, j)] * y[(i, j)] * (1.0 - y[(i, j)]));
            // The closures `#[grad]` writes for these adjoints (`zip_map_to`, or fused).
            check_both(&old, &want, 1e-14, |out, acc| k::zip_map_to(out, acc, k::view(&g), k::view(&y), |g, y| g * (y * (1.0 - y))))?;
            let want = g.zip_map(&a, |g, a| if a > 0.0 { g } else { 0.0 });
            check_both(&old, &want, 0.0, |out, acc| k::zip_map_to(out, acc, k::view(&g), k::view(&a), |g, a| g * k::relu_step(a)))?;
            let want = g.zip_map(&a, |g, a| g / (1.0 + (-a).exp()));
            check_both(&old, &want, 1e-14, |out, acc| k::zip_map_to(out, acc, k::view(&g), k::view(&a), |g, a| g * k::sigmoid_scalar(a)))?;
        }

        #[test]
        fn log_sum_exp_adjoint_matches_naive((a, old) in two_mats(), s in scalar()) {
            let lse = matgrad_runtime::log_sum_exp(&a);
            let e = a.map(f64::exp);
            let want = &e * (s / e.sum());
            check_both(&old, &want, 1e-12, |out, acc| k::log_sum_exp_adjoint_to(out, acc, s, k::view(&a), lse))?;
        }

        #[test]
        fn softmax_ce_adjoints_match_naive((z, y, old) in three_mats(), s in scalar()) {
            let p = softmax_rows(&z);
            let ysum = y.column_sum();
            let want_z = DMatrix::from_fn(z.nrows(), z.ncols(), |i, j| s * (p[(i, j)] * ysum[i] - y[(i, j)]));
            let _ = (s, &old);
            let mut gz = nan_buf(1, 1);
            let v = k::softmax_cross_entropy_with_adjoint(&mut gz, k::view(&z), k::view(&y), "ce");
            prop_assert!(close(&(&gz * s), &want_z, 1e-12));
            prop_assert_eq!(v.to_bits(), matgrad_runtime::softmax_cross_entropy(&z, &y).to_bits());
            let want_y = p.map(|v| -s * v.ln());
            check_both(&old, &want_y, 1e-12, |out, acc| k::softmax_ce_adjoint_y_to(out, acc, s, k::view(&z)))?;
        }

        #[test]
        fn softmax_ce_adjoint_is_the_gradient((z, y) in two_mats()) {
            // Central differences of the loss itself.
            let mut gz = DMatrix::zeros(0, 0);
            k::softmax_cross_entropy_with_adjoint(&mut gz, k::view(&z), k::view(&y), "ce");
            let h = 1e-5;
            for idx in [0, z.len() / 2, z.len() - 1] {
                let (mut zp, mut zm) = (z.clone(), z.clone());
                zp[idx] += h;
                zm[idx] -= h;
                let fd = (matgrad_runtime::softmax_cross_entropy(&zp, &y) - matgrad_runtime::softmax_cross_entropy(&zm, &y)) / (2.0 * h);
                prop_assert!(close_s(gz[idx], fd, 1e-6), "{} vs {fd}", gz[idx]);
            }
            // The loss is linear in y.
            let mut gy = DMatrix::zeros(0, 0);
            k::softmax_ce_adjoint_y_to(&mut gy, false, 1.0, k::view(&z));
            let f0 = matgrad_runtime::softmax_cross_entropy(&z, &DMatrix::zeros(z.nrows(), z.ncols()));
            prop_assert_eq!(f0, 0.0);
            let f = matgrad_runtime::softmax_cross_entropy(&z, &y);
            prop_assert!(close_s(f, gy.dot(&y), 1e-12), "{f} vs {}", gy.dot(&y));
        }
    }

    #[test]
    fn relu_adjoint_propagates_nan() {
        let a = DMatrix::from_row_slice(1, 3, &[f64::NAN, 1.0, -1.0]);
        let g = DMatrix::from_element(1, 3, 2.0);
        let mut out = DMatrix::zeros(0, 0);
        k::zip_map_to(&mut out, false, k::view(&g), k::view(&a), |g, a| {
            g * k::relu_step(a)
        });
        assert!(out[0].is_nan());
        assert_eq!((out[1], out[2]), (2.0, 0.0));
    }

    #[test]
    fn gemm_to_on_sub_views_and_empty_shapes() {
        let big = DMatrix::from_fn(12, 12, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        for (m, kk, n) in [
            (1, 1, 1),
            (1, 7, 1),
            (7, 1, 1),
            (1, 1, 7),
            (3, 4, 5),
            (9, 8, 7),
            (4, 9, 1),
            (1, 9, 4),
        ] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let (ash, bsh) = (
                    if ta { (kk, m) } else { (m, kk) },
                    if tb { (n, kk) } else { (kk, n) },
                );
                let (a, b) = (big.view((1, 2), ash), big.view((2, 1), bsh));
                let want = tr(&a.clone_owned(), ta) * tr(&b.clone_owned(), tb);
                let mut out = nan_buf(m, n);
                k::gemm_to(&mut out, false, 1.0, a, ta, b, tb);
                assert_eq!(out, want, "{m}×{kk}×{n} {ta} {tb}");
            }
        }
        let (a, b) = (DMatrix::<f64>::zeros(3, 0), DMatrix::<f64>::zeros(0, 2));
        let mut out = nan_buf(1, 1);
        k::gemm_to(&mut out, false, 1.0, k::view(&a), false, k::view(&b), false);
        assert_eq!(out, DMatrix::zeros(3, 2));
        k::gemm_to(&mut out, true, 1.0, k::view(&a), false, k::view(&b), false);
        assert_eq!(out, DMatrix::zeros(3, 2));
        k::gemm_to(&mut out, false, 1.0, k::view(&b), true, k::view(&a), true);
        assert_eq!(out, DMatrix::zeros(2, 3));
    }

    #[test]
    #[should_panic(expected = "matgrad: gemm_to: cannot accumulate a 3×2 result into a 2×2 buffer")]
    fn accumulating_into_a_wrong_shape_panics() {
        let (a, b) = (DMatrix::<f64>::zeros(3, 4), DMatrix::<f64>::zeros(4, 2));
        k::gemm_to(
            &mut DMatrix::zeros(2, 2),
            true,
            1.0,
            k::view(&a),
            false,
            k::view(&b),
            false,
        );
    }
}

// ---------------------------------------------------------------------------
// No allocation in steady state
// ---------------------------------------------------------------------------

mod steady_state {
    use super::*;
    use matgrad_runtime::{gemm_nn, gemm_nt, gemm_tn, gemm_tt};

    /// Runs `f` once to size the buffers, then checks that a second run allocates nothing.
    fn no_alloc(name: &str, mut f: impl FnMut()) {
        f();
        let n = allocations(&mut f);
        assert_eq!(n, 0, "{name} allocated {n} times in steady state");
    }

    /// The same for a backward kernel, overwriting then accumulating.
    fn no_alloc_acc(name: &str, mut f: impl FnMut(bool)) {
        f(false);
        let n = allocations(|| {
            f(false);
            f(true);
        });
        assert_eq!(n, 0, "{name} allocated {n} times in steady state");
    }

    fn filled(r: usize, c: usize, salt: usize) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |i, j| {
            ((i * 7 + j * 3 + salt) % 11) as f64 * 0.2 - 1.0
        })
    }

    /// Every product kernel at sizes that take the blocked kernel: the first call may
    /// size `out` and the thread's packing buffer, the next ones allocate nothing.
    #[test]
    #[cfg_attr(
        feature = "parallel",
        ignore = "with `parallel`, rayon's job queue allocates a block every 63 products"
    )]
    fn products_do_not_allocate_once_sized() {
        for (m, kk, n) in [(64, 64, 64), (300, 70, 90), (6, 7, 8), (37, 600, 41)] {
            let (a, b) = (filled(m, kk, 1), filled(kk, n, 2));
            let (at, bt) = (a.transpose(), b.transpose());
            let mut out = DMatrix::zeros(0, 0);
            no_alloc(&format!("mul_to {m}×{kk}×{n}"), || {
                k::mul_to(&mut out, k::view(&a), k::view(&b), "a * b")
            });
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let x = if ta { &at } else { &a };
                let y = if tb { &bt } else { &b };
                no_alloc_acc(&format!("gemm_to {m}×{kk}×{n} {ta} {tb}"), |acc| {
                    k::gemm_to(&mut out, acc, 2.0, k::view(x), ta, k::view(y), tb)
                });
            }
            let mut c = DMatrix::zeros(m, n);
            no_alloc(&format!("gemm_nn {m}×{kk}×{n}"), || {
                gemm_nn(1.5, a.as_view(), b.as_view(), 0.5, &mut c)
            });
            no_alloc(&format!("gemm_tn {m}×{kk}×{n}"), || {
                gemm_tn(1.5, at.as_view(), b.as_view(), 0.5, &mut c)
            });
            no_alloc(&format!("gemm_nt {m}×{kk}×{n}"), || {
                gemm_nt(1.5, a.as_view(), bt.as_view(), 0.5, &mut c)
            });
            no_alloc(&format!("gemm_tt {m}×{kk}×{n}"), || {
                gemm_tt(1.5, at.as_view(), bt.as_view(), 0.5, &mut c)
            });
            let (a32, b32) = (a.map(|x| x as f32), b.map(|x| x as f32));
            let mut out32 = DMatrix::<f32>::zeros(0, 0);
            no_alloc(&format!("mul_to f32 {m}×{kk}×{n}"), || {
                k::mul_to(&mut out32, k::view(&a32), k::view(&b32), "a * b")
            });
            no_alloc_acc(&format!("gemm_to f32 {m}×{kk}×{n}"), |acc| {
                k::gemm_to(
                    &mut out32,
                    acc,
                    2.0,
                    k::view(&a32),
                    false,
                    k::view(&b32),
                    false,
                )
            });
        }
    }

    /// The products of the benchmark workloads (forward and gradient, as the generated
    /// code calls them), one after the other on one thread, as a `_grad_into` does.
    #[test]
    #[cfg_attr(
        feature = "parallel",
        ignore = "with `parallel`, rayon's job queue allocates a block every 63 products"
    )]
    fn workload_products_do_not_allocate_once_sized() {
        // ‖tanh(X W1) W2 − Y‖² (n, d, h, k), ‖X w − y‖² (n, d), tr(A X B) (n).
        let mut bufs: Vec<DMatrix<f64>> = (0..6).map(|_| DMatrix::zeros(0, 0)).collect();
        let mut run = |(n, d, h, kk): (usize, usize, usize, usize)| {
            let (x, w1, w2) = (filled(n, d, 1), filled(d, h, 2), filled(h, kk, 3));
            let g2 = filled(n, kk, 4);
            let [z, a2, dw2, g1, dw1, _] = &mut bufs[..] else {
                unreachable!()
            };
            no_alloc(&format!("MLP {n}×{d}×{h}×{kk}"), || {
                k::mul_to(z, k::view(&x), k::view(&w1), "x * w1");
                k::mul_to(a2, k::view(&*z), k::view(&w2), "a * w2");
                k::gemm_to(dw2, false, 2.0, k::view(&*z), true, k::view(&g2), false);
                k::gemm_to(g1, false, 2.0, k::view(&g2), false, k::view(&w2), true);
                k::gemm_to(dw1, false, 1.0, k::view(&x), true, k::view(&*g1), false);
            });
        };
        run((32, 16, 16, 4));
        run((256, 64, 128, 10));
        run((64, 8, 1, 1));
        run((1024, 128, 1, 1));
        for n in [8, 64] {
            let (a, x, b) = (filled(n, n, 1), filled(n, n, 2), filled(n, n, 3));
            let [ax, axb, g, _, _, _] = &mut bufs[..] else {
                unreachable!()
            };
            no_alloc(&format!("tr(A X B) n = {n}"), || {
                k::mul_to(ax, k::view(&a), k::view(&x), "a * x");
                k::mul_to(axb, k::view(&*ax), k::view(&b), "a * x * b");
                k::gemm_to(g, false, 1.0, k::view(&a), true, k::view(&b), true);
            });
        }
    }

    #[test]
    fn kernels_do_not_allocate_once_sized() {
        let a = DMatrix::from_fn(6, 5, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.2 - 1.0);
        let b = DMatrix::from_fn(6, 5, |i, j| ((i * 5 + j * 2) % 13) as f64 * 0.1 - 0.6);
        let sq = DMatrix::from_fn(7, 7, |i, j| {
            if i == j {
                8.0
            } else {
                ((i + 2 * j) % 5) as f64 * 0.1
            }
        });
        let sq4 = sq.view((0, 0), (4, 4)).clone_owned();
        let sq5 = sq.view((0, 0), (5, 5));
        let small = DMatrix::from_fn(5, 3, |i, j| (i + j) as f64);
        let small_t = small.transpose();
        let v = DVector::from_fn(5, |i, _| i as f64);
        let (av, bv) = (k::view(&a), k::view(&b));
        let mut out = DMatrix::zeros(0, 0);
        let (mut s1, mut s2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));

        no_alloc("mul_to (small)", || {
            k::mul_to(&mut out, k::view(&small_t), k::view(&v), "m")
        });
        no_alloc("mul_to (vector)", || {
            k::mul_to(&mut out, av, k::view(&v), "m")
        });
        no_alloc("add_to", || k::add_to(&mut out, av, bv, "a"));
        no_alloc("sub_to", || k::sub_to(&mut out, av, bv, "a"));
        no_alloc("neg_to", || k::neg_to(&mut out, av));
        no_alloc("scale_to", || k::scale_to(&mut out, av, 2.0));
        no_alloc("div_scalar_to", || k::div_scalar_to(&mut out, av, 2.0));
        no_alloc("transpose_to", || k::transpose_to(&mut out, av));
        no_alloc("component_mul_to", || {
            k::component_mul_to(&mut out, av, bv, "c")
        });
        no_alloc("component_div_to", || {
            k::component_div_to(&mut out, av, bv, "c")
        });
        no_alloc("map_to", || k::map_to(&mut out, av, |x: f64| x.tanh()));
        no_alloc("add_scalar_to", || k::add_scalar_to(&mut out, av, 1.0));
        no_alloc("kronecker_to", || {
            k::kronecker_to(&mut out, av, k::view(&small))
        });
        no_alloc("inverse_to (4×4)", || {
            k::inverse_to(&mut out, k::view(&sq4), "i", None)
        });
        no_alloc("inverse_to (3×3)", || {
            k::inverse_to(&mut out, sq.view((0, 0), (3, 3)), "i", None)
        });
        no_alloc("dot", || {
            k::dot(av, bv, "d");
        });
        no_alloc("trace", || {
            k::trace(k::view(&sq), "t");
        });
        no_alloc("determinant (3×3)", || {
            k::determinant(sq.view((0, 0), (3, 3)), "t");
        });
        no_alloc("sigmoid_to", || k::sigmoid_to(&mut out, av));
        no_alloc("relu_to", || k::relu_to(&mut out, av));
        no_alloc("softplus_to", || k::softplus_to(&mut out, av));
        no_alloc("add_row_to", || {
            k::add_row_to(&mut out, av, a.rows(0, 1), "r")
        });
        no_alloc("add_col_to", || {
            k::add_col_to(&mut out, av, a.columns(0, 1), "c")
        });
        no_alloc("ln_det_with", || {
            k::ln_det_with(k::view(&sq), &mut s1, "l");
        });
        no_alloc("ln_det_inverse_to", || {
            k::ln_det_inverse_to(&mut out, k::view(&sq), &mut s1, "l");
        });
        no_alloc("log_sum_exp", || {
            k::log_sum_exp(av);
        });
        no_alloc("softmax_cross_entropy", || {
            k::softmax_cross_entropy(av, bv, "s");
        });
        no_alloc("softmax_cross_entropy_with_adjoint", || {
            k::softmax_cross_entropy_with_adjoint(&mut out, av, bv, "s");
        });
        no_alloc_acc("axpy_to", |acc| k::axpy_to(&mut out, acc, 2.0, av, true));
        no_alloc_acc("gemm_to (small)", |acc| {
            k::gemm_to(&mut out, acc, 2.0, av, true, bv, false)
        });
        no_alloc_acc("gemm_to (vector)", |acc| {
            k::gemm_to(
                &mut out,
                acc,
                2.0,
                k::view(&sq),
                true,
                sq.columns(0, 1),
                false,
            )
        });
        no_alloc_acc("gemm_to (row)", |acc| {
            k::gemm_to(&mut out, acc, 2.0, sq.rows(0, 1), false, k::view(&sq), true)
        });
        no_alloc_acc("hadamard_to", |acc| {
            k::hadamard_to(&mut out, acc, 2.0, av, bv)
        });
        no_alloc_acc("zip_map_to", |acc| {
            k::zip_map_to(&mut out, acc, av, bv, |x: f64, y: f64| x * y)
        });
        no_alloc_acc("zip3_map_to", |acc| {
            k::zip3_map_to(&mut out, acc, av, bv, av, |x: f64, y: f64, z: f64| {
                x * y + z
            })
        });
        no_alloc_acc("fill_to", |acc| k::fill_to(&mut out, acc, 1.0, 3, 4));
        no_alloc_acc("add_diag_to", |acc| k::add_diag_to(&mut out, acc, 1.0, 4));
        no_alloc_acc("index_adjoint_to", |acc| {
            k::index_adjoint_to(&mut out, acc, 1.0, 1, 2, 3, 4)
        });
        no_alloc_acc("row_sum_to", |acc| k::row_sum_to(&mut out, acc, av));
        no_alloc_acc("column_sum_to", |acc| k::column_sum_to(&mut out, acc, av));
        no_alloc_acc("kron_adjoint_a_to", |acc| {
            k::kron_adjoint_a_to(&mut out, acc, av, a.rows(0, 3))
        });
        no_alloc_acc("kron_adjoint_b_to", |acc| {
            k::kron_adjoint_b_to(&mut out, acc, av, a.rows(0, 2))
        });
        no_alloc_acc("chain_product_to", |acc| {
            k::chain_product_to(
                &mut out,
                acc,
                -1.0,
                &[(sq5, true), (sq5, false), (sq5, true)],
                &mut [&mut s1],
            )
        });
        no_alloc_acc("inv_transpose_to", |acc| {
            k::inv_transpose_to(&mut out, acc, 1.0, k::view(&sq), &mut s1, &mut s2)
        });
        no_alloc_acc("log_sum_exp_adjoint_to", |acc| {
            k::log_sum_exp_adjoint_to(&mut out, acc, 1.0, av, 0.5)
        });
        no_alloc_acc("softmax_ce_adjoint_y_to", |acc| {
            k::softmax_ce_adjoint_y_to(&mut out, acc, 1.0, av)
        });
    }
}

// ---------------------------------------------------------------------------
// chain.rs
// ---------------------------------------------------------------------------

mod chain {
    use super::backward::check_both;
    use super::*;

    /// Factors with dimensions `dims` (factor i is `dims[i] × dims[i+1]`).
    fn factors(dims: &[usize]) -> Vec<DMatrix<f64>> {
        dims.windows(2)
            .enumerate()
            .map(|(f, d)| {
                DMatrix::from_fn(d[0], d[1], |i, j| {
                    ((i * 5 + j * 3 + f * 7) % 13) as f64 / 6.5 - 1.0
                })
            })
            .collect()
    }

    /// The product of `fs` from left to right.
    fn product(fs: &[DMatrix<f64>], rows: usize) -> DMatrix<f64> {
        fs.iter()
            .fold(DMatrix::identity(rows, rows), |acc, f| naive(&acc, f))
    }

    fn dims() -> impl Strategy<Value = Vec<usize>> {
        proptest::collection::vec(prop_oneof![Just(1usize), 1usize..=9, 10usize..=40], 3..=7)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The value, and every factor's adjoint against `(a₀ ⋯ a_{f−1})ᵀ Ḡ (a_{f+1} ⋯)ᵀ`
        /// written out, for chains of 2 to 6 factors of random (often 1) dimensions.
        #[test]
        fn chain_and_its_adjoints_match_naive(d in dims(), alpha in -2.0f64..2.0) {
            let fs = factors(&d);
            let n = fs.len();
            let views: Vec<_> = fs.iter().map(k::view).collect();
            let mut temps = vec![DMatrix::zeros(0, 0); n.saturating_sub(2)];
            let mut out = DMatrix::zeros(0, 0);
            {
                let mut t: Vec<&mut DMatrix<f64>> = temps.iter_mut().collect();
                k::chain_to(&mut out, &views, &mut t, "chain");
            }
            let want = product(&fs, d[0]);
            prop_assert!((&out - &want).norm() <= 1e-12 * want.norm().max(1.0));

            let g = DMatrix::from_fn(d[0], d[n], |i, j| (i as f64 * 0.7 - j as f64 * 0.3).sin());
            let mut memo = vec![DMatrix::zeros(0, 0); n.saturating_sub(2)];
            let t: Vec<&DMatrix<f64>> = temps.iter().collect();
            {
                let mut m: Vec<&mut DMatrix<f64>> = memo.iter_mut().collect();
                k::chain_backward(&views, &t, k::view(&g), &vec![true; n], &mut m);
            }
            let m: Vec<&DMatrix<f64>> = memo.iter().collect();
            for f in 0..n {
                let before = product(&fs[..f], d[0]);
                let after = product(&fs[f + 1..], d[f + 1]);
                let want = naive(&naive(&before.transpose(), &g), &after.transpose()) * alpha;
                let old = DMatrix::from_fn(want.nrows(), want.ncols(), |i, j| (i + 2 * j) as f64);
                check_both(&old, &want, 1e-11, |out, acc| {
                    k::chain_factor_adjoint_to(out, acc, alpha, f, &views, &t, &m, k::view(&g));
                })?;
            }
        }
    }

    /// The run-time plan is the cost model's: the fewest multiply-adds, found by
    /// trying every association.
    #[test]
    fn plans_are_cheapest() {
        fn best(d: &[usize], i: usize, j: usize) -> usize {
            (i..j)
                .map(|s| best(d, i, s) + best(d, s + 1, j) + d[i] * d[s + 1] * d[j + 1])
                .min()
                .unwrap_or(0)
        }
        fn cost(p: &k::Plan, d: &[usize], i: usize, j: usize) -> usize {
            if i == j {
                return 0;
            }
            let s = p.split(i, j);
            cost(p, d, i, s) + cost(p, d, s + 1, j) + d[i] * d[s + 1] * d[j + 1]
        }
        for d in [
            vec![1, 9, 9, 9, 1],
            vec![400, 20, 400, 20, 400],
            vec![3, 1, 4, 1, 5, 9, 2, 6],
            vec![7, 7, 7],
            vec![1, 1, 1, 1],
        ] {
            let shapes: Vec<(usize, usize)> = d.windows(2).map(|w| (w[0], w[1])).collect();
            let p = k::Plan::new(&shapes);
            assert_eq!(
                cost(&p, &d, 0, shapes.len() - 1),
                best(&d, 0, shapes.len() - 1),
                "{d:?}"
            );
        }
    }

    #[test]
    fn a_chain_allocates_nothing_in_steady_state() {
        let fs = factors(&[30, 4, 30, 4, 30]);
        let views: Vec<_> = fs.iter().map(k::view).collect();
        let (mut out, mut t0, mut t1) = (
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
        );
        let g = DMatrix::from_element(30, 30, 1.0);
        let (mut m0, mut m1) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        // One gradient buffer per factor: their shapes differ.
        let mut grads = [0; 4].map(|_| DMatrix::zeros(0, 0));
        let mut run = || {
            k::chain_to(&mut out, &views, &mut [&mut t0, &mut t1], "chain");
            k::chain_backward(
                &views,
                &[&t0, &t1],
                k::view(&g),
                &[true; 4],
                &mut [&mut m0, &mut m1],
            );
            for (f, ga) in grads.iter_mut().enumerate() {
                k::chain_factor_adjoint_to(
                    ga,
                    false,
                    1.0,
                    f,
                    &views,
                    &[&t0, &t1],
                    &[&m0, &m1],
                    k::view(&g),
                );
            }
        };
        run();
        let n = alloc_count::allocations(&mut run);
        assert_eq!(n, 0, "allocations in steady state");
    }
}

mod fill_products {
    use super::backward::check_both;
    use super::*;

    proptest! {
        /// `𝟙𝟙ᵀ op(b)` and `op(a) 𝟙𝟙ᵀ` against the products with a matrix of ones.
        #[test]
        fn products_with_ones_match_naive(
            (m, k, n) in (1usize..=9, 1usize..=9, 1usize..=9),
            (ta, tb) in (any::<bool>(), any::<bool>()),
            alpha in -2.0f64..2.0,
        ) {
            let x = |r: usize, c: usize| DMatrix::from_fn(r, c, |i, j| (i as f64 * 0.3 - j as f64 * 0.7).cos());
            let b = if tb { x(n, k) } else { x(k, n) };
            let opb = if tb { b.transpose() } else { b.clone() };
            let want = naive(&DMatrix::from_element(m, k, 1.0), &opb) * alpha;
            let mut sums = DMatrix::zeros(0, 0);
            check_both(&x(m, n), &want, 1e-12, |out, acc| {
                k::ones_mul_to(out, acc, alpha, m, k::view(&b), tb, &mut sums);
            })?;
            let a = if ta { x(k, m) } else { x(m, k) };
            let opa = if ta { a.transpose() } else { a.clone() };
            let want = naive(&opa, &DMatrix::from_element(k, n, 1.0)) * alpha;
            check_both(&x(m, n), &want, 1e-12, |out, acc| {
                k::mul_ones_to(out, acc, alpha, k::view(&a), ta, n, &mut sums);
            })?;
        }
    }
}

mod chain_products {
    use super::backward::check_both;
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// `alpha · op(f₀) ⋯ op(f_{n−1})` against the product written out, for 1 to 6
        /// factors with random transposes and dimensions (often 1).
        #[test]
        fn chain_products_match_naive(
            d in proptest::collection::vec(prop_oneof![Just(1usize), 1usize..=9, 10usize..=30], 2..=7),
            flags in proptest::collection::vec(any::<bool>(), 6),
            alpha in -2.0f64..2.0,
        ) {
            let n = d.len() - 1;
            let mats: Vec<DMatrix<f64>> = (0..n)
                .map(|f| {
                    let (r, c) = if flags[f] { (d[f + 1], d[f]) } else { (d[f], d[f + 1]) };
                    DMatrix::from_fn(r, c, |i, j| ((i * 3 + j * 5 + f) % 7) as f64 / 3.5 - 1.0)
                })
                .collect();
            let ops: Vec<DMatrix<f64>> = mats
                .iter()
                .zip(&flags)
                .map(|(m, &t)| if t { m.transpose() } else { m.clone() })
                .collect();
            let want = ops[1..].iter().fold(ops[0].clone(), |acc, m| naive(&acc, m)) * alpha;
            let factors: Vec<_> = mats.iter().zip(&flags).map(|(m, &t)| (k::view(m), t)).collect();
            let mut temps = vec![DMatrix::zeros(0, 0); n.saturating_sub(2)];
            check_both(&DMatrix::from_fn(d[0], d[n], |i, j| (i + j) as f64), &want, 1e-11, |out, acc| {
                let mut t: Vec<&mut DMatrix<f64>> = temps.iter_mut().collect();
                k::chain_product_to(out, acc, alpha, &factors, &mut t);
            })?;
        }
    }
}

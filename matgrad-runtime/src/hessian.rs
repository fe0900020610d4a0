//! Dense Hessians from their structure (see `matgrad-core/src/hessian_structure.rs`): the
//! Hessian of a loss whose variable `W` (`p×q`, `n = p q` entries) enters through a
//! linear map `vec(Z) = L vec(W)`, `L = op(B)ᵀ ⊗ op(A)` (that is `Z = op(A) W op(B)`),
//! is one product `Lᵀ D L` instead of `n` Hessian-vector products:
//!
//! - [`kron_gram_to`]: `H (+)= α Lᵀ diag(vec d) L` (`d` absent: `α LᵀL =
//!   α (op(B) op(B)ᵀ) ⊗ (op(A)ᵀ op(A))`), the Hessian of `Σ φ(Z)` (`d = φ″(Z)`), of
//!   `‖Z‖²` (`d = 2`), of logistic regression (`Xᵀ diag(σ ⊙ (1 − σ)) X`);
//! - [`kron_cross_to`]: `H (+)= α (L₁ᵀ L₂ + L₂ᵀ L₁)`, the Hessian of `⟨Z₁, Z₂⟩`
//!   (`xᵀ A x`: `A + Aᵀ`);
//! - [`softmax_gram_to`]: `H (+)= α Lᵀ (diag(p) − p pᵀ) L`, `p = softmax(vec Z)`, the
//!   Hessian of `log_sum_exp(Z)`.
//!
//! A side `A` or `B` that is `None` is the identity (`m = p`, or `r = q`). The
//! entries of `H` are over `vec(W)` (column-major): entry `i + p j` is `W[(i, j)]`.
//! Re-exported by [`crate::__private`]; not a stable API.
//!
//! Each symmetric product (`op(A)ᵀ diag(d) op(A)`, `op(B) op(B)ᵀ`) is made as BLAS
//! `syrk` makes it, the lower triangle only, mirrored (`sym_product`): by dot
//! products up to 8 contiguous columns, the whole blocked product up to 32, and
//! beyond that in column panels of 32. `benches/hessian.rs` times the results
//! against a hand-written expert that does the same with matrixmultiply.

// The kernels take the sides, the weights and the scratch buffers apart, as the
// other backward kernels of `__private` do.
#![allow(clippy::too_many_arguments)]

use crate::blas::gemm_into;
use crate::kernel::{dot, ready, MatRef, Shape};
use crate::Real;
use nalgebra::{DMatrix, DMatrixView};

/// One side of `L = op(B)ᵀ ⊗ op(A)`: a matrix and whether it is transposed, or the
/// identity (`None`).
pub type Side<'a, T> = Option<(DMatrixView<'a, T>, bool)>;

/// The side as a strided reference, transposed as asked.
fn side<'a, T: Real>(s: &'a Side<'_, T>) -> Option<MatRef<'a, T>> {
    s.as_ref().map(|(v, t)| MatRef::new(v).op(*t))
}

/// `(m, r)`: the rows of `op(A)` and the columns of `op(B)`, checking that `op(A)`
/// has `p` columns and `op(B)` `q` rows (an invariant of the generated code).
fn outer<T: Real>(
    a: Option<&MatRef<'_, T>>,
    b: Option<&MatRef<'_, T>>,
    (p, q): (usize, usize),
    what: &str,
) -> (usize, usize) {
    let m = a.map_or(p, |a| {
        assert!(
            a.ncols == p,
            "matgrad: {what}: the left factor is {}, not ?×{p}",
            a.sh()
        );
        a.nrows
    });
    let r = b.map_or(q, |b| {
        assert!(
            b.nrows == q,
            "matgrad: {what}: the right factor is {}, not {q}×?",
            b.sh()
        );
        b.ncols
    });
    (m, r)
}

/// `v` seen as an `m×r` matrix of the same entries in column-major order (a row
/// holds the entries of the column it is the transpose of: `sigmoid(wᵀ xᵀ)` weighs
/// the entries of `x w`). Panics unless it has `m r` entries, stored contiguously (an
/// invariant of the generated code, which passes workspace buffers and parameters).
fn entries_as<'a, T: Real>(
    v: &'a DMatrixView<'_, T>,
    (m, r): (usize, usize),
    what: &str,
) -> DMatrixView<'a, T> {
    if v.shape() == (m, r) {
        return v.as_view();
    }
    match MatRef::new(v).as_slice() {
        Some(s) if s.len() == m * r => DMatrixView::from_slice(s, m, r),
        _ => panic!(
            "matgrad: {what}: {} entries cannot be read as {}",
            Shape(v.nrows(), v.ncols()),
            Shape(m, r)
        ),
    }
}

/// The tile of the loops that read a matrix and its transpose together
/// ([`symmetrise`], `x + xᵀ` in [`kron_cross_to`]): 16×16. At n = 256 (a
/// power-of-two column stride, 2 KB) 32×32 tiles' transposed reads conflict in the
/// cache: `a + aᵀ` took 1.9× the time of 16×16 tiles (and 1.2× an untiled loop).
const TILE: usize = 16;

/// Makes the square `m` exactly symmetric: `m_ij = m_ji = (m_ij + m_ji) / 2`
/// (a product `Aᵀ A` need not be: its kernel may round mirrored entries apart),
/// tile by tile so that the transposed reads stay in cache.
fn symmetrise<T: Real>(m: &mut DMatrix<T>) {
    let n = m.nrows();
    let half = T::one() / (T::one() + T::one());
    for jb in (0..n).step_by(TILE) {
        for ib in (0..=jb).step_by(TILE) {
            for j in jb..(jb + TILE).min(n) {
                for i in ib..(ib + TILE).min(j) {
                    let v = (m[(i, j)] + m[(j, i)]) * half;
                    m[(i, j)] = v;
                    m[(j, i)] = v;
                }
            }
        }
    }
}

/// Beyond this many columns [`sym_product`] multiplies only the lower triangle, in
/// column panels this wide: of 16, 32 and 64, 32 measured fastest for `Xᵀ diag(d) X`
/// at 1024×128 (0.75× the time of the whole product).
const PANEL: usize = 32;

/// Up to this many columns, with contiguous columns, [`sym_product`] takes one dot
/// product per entry: at 64×8 0.6× the time of the blocked product (which packs
/// both operands for 36 distinct entries), 0.3× at 64×4; at 16 columns 1.2–1.3×.
const DOTS_MAX: usize = 8;

/// `out (+)= α lᵀ r` (`p×p`) for `m×p` operands whose product is symmetric
/// (`r = diag(d) l`, or `r = l`), exactly symmetric. Up to [`DOTS_MAX`] contiguous
/// columns, dot products; up to [`PANEL`] columns, the whole product, symmetrised; beyond, as BLAS `syrk` computes it: the lower
/// triangle in column panels of `PANEL` (panel `j0..j1` is one blocked product of
/// rows `j0..p`, its diagonal block whole), mirrored onto the upper triangle: 62.5 %
/// of the multiply-adds at p = 128, 53 % at p = 512. Accumulating, the upper
/// triangle of what `out` held is replaced by its lower one (this module adds only
/// exactly symmetric terms, so they are the same).
fn sym_product<T: Real>(
    out: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    l: &MatRef<'_, T>,
    r: &MatRef<'_, T>,
    what: &str,
) {
    let (m, p) = l.shape();
    assert!(
        r.shape() == (m, p),
        "matgrad: {what}: the factors are {} and {}",
        l.sh(),
        r.sh()
    );
    if let (true, Some(ls), Some(rs)) = (p <= DOTS_MAX, l.as_slice(), r.as_slice()) {
        // A few columns (ridge or logistic regression on 8 features): one dot product
        // per entry of the lower triangle, written to both places.
        ready(out, acc, p, p, what);
        let o = out.as_mut_slice();
        for j in 0..p {
            let rj = &rs[j * m..(j + 1) * m];
            for i in j..p {
                let v = alpha * dot(&ls[i * m..(i + 1) * m], rj);
                let v = if acc { o[i + j * p] + v } else { v };
                o[i + j * p] = v;
                o[j + i * p] = v;
            }
        }
        return;
    }
    if p <= PANEL || m == 0 {
        gemm_into(out, acc, alpha, l.t(), *r, what);
        symmetrise(out);
        return;
    }
    ready(out, acc, p, p, what);
    let beta = if acc { T::one() } else { T::zero() };
    let lt = l.t();
    let c = out.as_mut_ptr();
    for j0 in (0..p).step_by(PANEL) {
        let w = PANEL.min(p - j0);
        // SAFETY: rows j0..p of lᵀ (p×m) and columns j0..j0+w of r (m×p) are in
        // bounds through their strides (MatRef's invariant); the (p − j0)×w block of
        // the p×p, contiguous out at (j0, j0) is in bounds with column stride p, and
        // out, borrowed mutably, overlaps neither operand.
        unsafe {
            T::__gemm(
                p - j0,
                m,
                w,
                alpha,
                lt.ptr().add(j0 * lt.rs),
                lt.rs as isize,
                lt.cs as isize,
                r.ptr().add(j0 * r.cs),
                r.rs as isize,
                r.cs as isize,
                beta,
                c.add(j0 + j0 * p),
                1,
                p as isize,
            );
        }
    }
    mirror_lower(out);
}

/// Copies the strict lower triangle of the square `m` onto its upper triangle, tile
/// by tile.
fn mirror_lower<T: Real>(m: &mut DMatrix<T>) {
    let n = m.nrows();
    let s = m.as_mut_slice();
    for j0 in (0..n).step_by(TILE) {
        for i0 in (j0..n).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for i in i0.max(j + 1)..(i0 + TILE).min(n) {
                    s[j + i * n] = s[i + j * n];
                }
            }
        }
    }
}

/// `out = op(A)ᵀ diag(d) op(A)` (`p×p`), `d` the `m` entries of column `c` of `d`
/// (all ones when `d` is `None`); `op(A)` absent is the identity. Exactly
/// symmetric. `scaled` is scratch.
fn gram<T: Real>(
    out: &mut DMatrix<T>,
    a: Option<&MatRef<'_, T>>,
    d: Option<(&MatRef<'_, T>, usize)>,
    p: usize,
    scaled: &mut DMatrix<T>,
) {
    let what = "kron_gram_to";
    match (a, d) {
        (None, None) => {
            ready(out, false, p, p, what);
            out.fill(T::zero());
            out.fill_diagonal(T::one());
        }
        (None, Some((d, c))) => {
            ready(out, false, p, p, what);
            out.fill(T::zero());
            (0..p).for_each(|i| out[(i, i)] = d.get(i, c));
        }
        (Some(a), None) => sym_product(out, false, T::one(), a, a, what),
        (Some(a), Some((d, c))) => {
            scale_rows(scaled, a, d, c);
            sym_product(out, false, T::one(), a, &MatRef::new(&*scaled), what);
        }
    }
}

/// `out = diag(d_c) op(A)` (`m×p`), `d_c` column `c` of `d`.
fn scale_rows<T: Real>(out: &mut DMatrix<T>, a: &MatRef<'_, T>, d: &MatRef<'_, T>, c: usize) {
    let (m, p) = a.shape();
    ready(out, false, m, p, "kron_gram_to");
    if let (Some(a), Some(d)) = (a.as_slice(), d.col(c)) {
        // Contiguous columns (the usual case): the same products, vectorised.
        for (o, a) in out
            .as_mut_slice()
            .chunks_exact_mut(m)
            .zip(a.chunks_exact(m))
        {
            for ((o, &a), &d) in o.iter_mut().zip(a).zip(d) {
                *o = d * a;
            }
        }
        return;
    }
    for i in 0..p {
        for k in 0..m {
            out[(k, i)] = d.get(k, c) * a.get(k, i);
        }
    }
}

/// `H[(i + p j, k + p l)] (+)= (α · y[(j, l)]) · x[(i, k)]`: `H (+)= α y ⊗ x`, every
/// entry written (so `acc = false` needs no zero fill). Exactly symmetric when `x`
/// and `y` are.
fn add_kron<T: Real>(h: &mut DMatrix<T>, acc: bool, alpha: T, y: &DMatrix<T>, x: &DMatrix<T>) {
    let (q, p) = (y.nrows(), x.nrows());
    let n = p * q;
    assert!(
        y.shape() == (q, q) && x.shape() == (p, p) && h.shape() == (n, n),
        "matgrad: kron_gram_to: the Kronecker factors do not fit the Hessian"
    );
    if n == 0 {
        return;
    }
    let (xs, ys) = (x.as_slice(), y.as_slice());
    // Column k + p l of H: block j (rows p j .. p j + p) is α y[(j, l)] · x[:, k].
    for (col, hc) in h.as_mut_slice().chunks_exact_mut(n).enumerate() {
        let (k, l) = (col % p, col / p);
        let xk = &xs[k * p..(k + 1) * p];
        for (block, &yj) in hc.chunks_exact_mut(p).zip(&ys[l * q..(l + 1) * q]) {
            let c = alpha * yj;
            if acc {
                block.iter_mut().zip(xk).for_each(|(o, &v)| *o += c * v);
            } else {
                block.iter_mut().zip(xk).for_each(|(o, &v)| *o = c * v);
            }
        }
    }
}

/// `H (+)= α Lᵀ diag(vec d) L` with `L = op(B)ᵀ ⊗ op(A)`, the Hessian of a sum of
/// entrywise functions of `Z = op(A) W op(B)` with second derivatives `d` (the `m r`
/// entries of `Z`, in column-major order: a row holding those of a column is read
/// as that column); `d = None` is all ones: `α (op(B) op(B)ᵀ) ⊗ (op(A)ᵀ op(A))`. `W`
/// is `p×q`; `H` is `pq×pq`. A right side `B` absent makes `H` block diagonal (`q`
/// blocks `op(A)ᵀ diag(d_j) op(A)`, one product each); with both sides present it is
/// `Σ_c (b_c b_cᵀ) ⊗ (op(A)ᵀ diag(d_c) op(A))` over the columns `c` of `Z`. What is
/// added is exactly symmetric, so a sum of such terms is too. `s1`, `s2` are scratch.
///
/// ```
/// use matgrad_runtime::__private::{kron_gram_to, view};
/// use nalgebra::{DMatrix, DVector};
/// let x = DMatrix::from_fn(4, 3, |i, j| (i * 3 + j) as f64 / 5.0 - 1.0);
/// let d = DVector::from_fn(4, |i, _| 0.5 + i as f64);
/// let (mut h, mut s1, mut s2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
/// kron_gram_to(&mut h, false, 2.0, Some((view(&x), false)), None, Some(view(&d)), (3, 1), &mut s1, &mut s2);
/// let want = x.transpose() * DMatrix::from_diagonal(&d) * &x * 2.0;
/// assert!((&h - want).abs().max() < 1e-12);
/// assert_eq!(h, h.transpose());
/// ```
pub fn kron_gram_to<T: Real>(
    h: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: Side<'_, T>,
    b: Side<'_, T>,
    d: Option<DMatrixView<'_, T>>,
    (p, q): (usize, usize),
    s1: &mut DMatrix<T>,
    s2: &mut DMatrix<T>,
) {
    let what = "kron_gram_to";
    let (a, b) = (side(&a), side(&b));
    let (m, r) = outer(a.as_ref(), b.as_ref(), (p, q), what);
    let d = d.as_ref().map(|d| entries_as(d, (m, r), what));
    let d = d.as_ref().map(MatRef::new);
    let n = p * q;
    ready(h, acc, n, n, what);
    match (&a, &b, &d) {
        // α I (a ridge term `λ‖W‖²`): its diagonal, the rest zero (or left as it is:
        // adding zero changes nothing).
        (None, None, None) => {
            if !acc {
                h.fill(T::zero());
            }
            (0..n).for_each(|i| h[(i, i)] += alpha);
        }
        // One block (a vector variable): α op(A)ᵀ op(A) straight into H.
        (Some(a), None, None) if q == 1 => sym_product(h, acc, alpha, a, a, what),
        // (op(B) op(B)ᵀ) ⊗ (op(A)ᵀ op(A)), every entry written.
        (_, _, None) => {
            gram(s1, a.as_ref(), None, p, s2);
            match &b {
                // op(B) op(B)ᵀ = (op(B)ᵀ)ᵀ op(B)ᵀ.
                Some(b) => sym_product(s2, false, T::one(), &b.t(), &b.t(), what),
                None => {
                    ready(s2, false, q, q, what);
                    s2.fill(T::zero());
                    s2.fill_diagonal(T::one());
                }
            }
            add_kron(h, acc, alpha, s2, s1);
        }
        // One block (a vector variable): α op(A)ᵀ diag(d) op(A) straight into H.
        (_, None, Some(d)) if q == 1 && a.is_some() => {
            if let Some(a) = &a {
                scale_rows(s1, a, d, 0);
                sym_product(h, acc, alpha, a, &MatRef::new(&*s1), what);
            }
        }
        // Block j: α op(A)ᵀ diag(d_j) op(A); the others zero.
        (_, None, Some(d)) => {
            if !acc {
                h.fill(T::zero());
            }
            for j in 0..q {
                gram(s2, a.as_ref(), Some((d, j)), p, s1);
                for k in 0..p {
                    for i in 0..p {
                        h[(i + p * j, k + p * j)] += alpha * s2[(i, k)];
                    }
                }
            }
        }
        // Σ_c (b_c b_cᵀ) ⊗ (op(A)ᵀ diag(d_c) op(A)).
        (_, Some(b), Some(d)) => {
            if !acc {
                h.fill(T::zero());
            }
            for c in 0..r {
                gram(s2, a.as_ref(), Some((d, c)), p, s1);
                for l in 0..q {
                    for j in 0..q {
                        // α (b_j b_l): the same product for the mirrored entry.
                        let w = alpha * (b.get(j, c) * b.get(l, c));
                        if w == T::zero() {
                            continue;
                        }
                        for k in 0..p {
                            for i in 0..p {
                                h[(i + p * j, k + p * l)] += w * s2[(i, k)];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `out = op(X)ᵀ op(Y)` (`p×p`) for the left sides of two maps, an absent side the
/// identity (`left`), or `out = op(X) op(Y)ᵀ` (`q×q`) for their right sides.
fn pair<T: Real>(
    out: &mut DMatrix<T>,
    x: Option<&MatRef<'_, T>>,
    y: Option<&MatRef<'_, T>>,
    n: usize,
    left: bool,
) {
    let what = "kron_cross_to";
    match (x, y) {
        (None, None) => {
            ready(out, false, n, n, what);
            out.fill(T::zero());
            out.fill_diagonal(T::one());
        }
        (Some(x), Some(y)) if left => gemm_into(out, false, T::one(), x.t(), *y, what),
        (Some(x), Some(y)) => gemm_into(out, false, T::one(), *x, y.t(), what),
        // Iᵀ op(Y) = op(Y); op(X)ᵀ I = op(X)ᵀ; I op(Y)ᵀ = op(Y)ᵀ; op(X) Iᵀ = op(X).
        (None, Some(m)) | (Some(m), None) => {
            let t = (x.is_none() && !left) || (y.is_none() && left);
            let m = m.op(t);
            square(&m, n, what);
            ready(out, false, n, n, what);
            for j in 0..n {
                for i in 0..n {
                    out[(i, j)] = m.get(i, j);
                }
            }
        }
    }
}

/// Panics unless `m` is `n×n` (an invariant of the generated code).
fn square<T: Real>(m: &MatRef<'_, T>, n: usize, what: &str) {
    assert!(
        m.shape() == (n, n),
        "matgrad: {what}: a factor is {}, not {}",
        m.sh(),
        Shape(n, n)
    );
}

/// `H (+)= α (L₁ᵀ L₂ + L₂ᵀ L₁)` with `L_k = op(B_k)ᵀ ⊗ op(A_k)`: the Hessian of
/// `⟨Z₁, Z₂⟩`, `Z_k = op(A_k) W op(B_k)`. `L₁ᵀ L₂ = (op(B₁) op(B₂)ᵀ) ⊗ (op(A₁)ᵀ op(A₂))`.
/// Exactly symmetric (each mirrored pair is the same two products added). `s1`, `s2`
/// are scratch.
///
/// ```
/// use matgrad_runtime::__private::{kron_cross_to, view};
/// use nalgebra::DMatrix;
/// // xᵀ a x = ⟨x, a x⟩: the Hessian a + aᵀ.
/// let a = DMatrix::from_fn(3, 3, |i, j| (i * 3 + j) as f64);
/// let (mut h, mut s1, mut s2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
/// kron_cross_to(&mut h, false, 1.0, None, None, Some((view(&a), false)), None, (3, 1), &mut s1, &mut s2);
/// assert_eq!(h, &a + a.transpose());
/// ```
pub fn kron_cross_to<T: Real>(
    h: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a1: Side<'_, T>,
    b1: Side<'_, T>,
    a2: Side<'_, T>,
    b2: Side<'_, T>,
    (p, q): (usize, usize),
    s1: &mut DMatrix<T>,
    s2: &mut DMatrix<T>,
) {
    let what = "kron_cross_to";
    let (a1, b1, a2, b2) = (side(&a1), side(&b1), side(&a2), side(&b2));
    let (m1, r1) = outer(a1.as_ref(), b1.as_ref(), (p, q), what);
    let (m2, r2) = outer(a2.as_ref(), b2.as_ref(), (p, q), what);
    assert!(
        (m1, r1) == (m2, r2),
        "matgrad: {what}: the two sides give {} and {}",
        Shape(m1, r1),
        Shape(m2, r2)
    );
    let n = p * q;
    ready(h, acc, n, n, what);
    // A vector variable whose one side is the identity (xᵀ a x): α (x + xᵀ) read in
    // place, tile by tile.
    if q == 1 && b1.is_none() && b2.is_none() && (a1.is_none() != a2.is_none()) {
        let x = match (&a1, &a2) {
            (None, Some(m)) => *m,
            (Some(m), None) => m.t(),
            _ => return,
        };
        square(&x, p, what);
        for kb in (0..p).step_by(TILE) {
            for ib in (0..p).step_by(TILE) {
                for k in kb..(kb + TILE).min(p) {
                    for i in ib..(ib + TILE).min(p) {
                        let v = alpha * x.get(i, k) + alpha * x.get(k, i);
                        let o = &mut h[(i, k)];
                        *o = if acc { *o + v } else { v };
                    }
                }
            }
        }
        return;
    }
    pair(s1, a1.as_ref(), a2.as_ref(), p, true);
    pair(s2, b1.as_ref(), b2.as_ref(), q, false);
    let (x, y) = (&*s1, &*s2);
    for l in 0..q {
        for j in 0..q {
            let (c, ct) = (alpha * y[(j, l)], alpha * y[(l, j)]);
            for k in 0..p {
                for i in 0..p {
                    let v = c * x[(i, k)] + ct * x[(k, i)];
                    let o = &mut h[(i + p * j, k + p * l)];
                    *o = if acc { *o + v } else { v };
                }
            }
        }
    }
}

/// `H (+)= α Lᵀ (diag(p) − p pᵀ) L`, `p = softmax(vec z)`, `L = op(B)ᵀ ⊗ op(A)`: the
/// Hessian of `log_sum_exp(Z)`, `Z = op(A) W op(B)`, whose value `z` is passed (its
/// entries in column-major order). Exactly symmetric. `s1`, `s2`, `s3` are scratch.
///
/// ```
/// use matgrad_runtime::__private::{softmax_gram_to, view};
/// use nalgebra::{DMatrix, DVector};
/// let z = DVector::from_vec(vec![0.5, -1.0, 2.0]);
/// let (mut h, mut s1, mut s2, mut s3) =
///     (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
/// softmax_gram_to(&mut h, false, 1.0, None, None, view(&z), (3, 1), &mut s1, &mut s2, &mut s3);
/// let e = z.map(f64::exp);
/// let p = &e / e.sum();
/// let want = DMatrix::from_diagonal(&p) - &p * p.transpose();
/// assert!((&h - want).abs().max() < 1e-15);
/// assert_eq!(h, h.transpose());
/// ```
pub fn softmax_gram_to<T: Real>(
    h: &mut DMatrix<T>,
    acc: bool,
    alpha: T,
    a: Side<'_, T>,
    b: Side<'_, T>,
    z: DMatrixView<'_, T>,
    (p, q): (usize, usize),
    s1: &mut DMatrix<T>,
    s2: &mut DMatrix<T>,
    s3: &mut DMatrix<T>,
) {
    let what = "softmax_gram_to";
    let (sa, sb) = (side(&a), side(&b));
    let (m, r) = outer(sa.as_ref(), sb.as_ref(), (p, q), what);
    let z = entries_as(&z, (m, r), what);
    let zr = MatRef::new(&z);
    ready(s3, false, m, r, what);
    // p = exp(z − max z) / Σ exp(z − max z).
    let mut top = crate::kernel::neg_infinity::<T>();
    for j in 0..r {
        for i in 0..m {
            top = top.max(zr.get(i, j));
        }
    }
    let mut total = T::zero();
    for j in 0..r {
        for i in 0..m {
            let e = (zr.get(i, j) - top).exp();
            s3[(i, j)] = e;
            total += e;
        }
    }
    s3.iter_mut().for_each(|x| *x /= total);
    let probs = std::mem::take(s3);
    kron_gram_to(h, acc, alpha, a, b, Some(probs.as_view()), (p, q), s1, s2);
    // u = Lᵀ vec(P) = vec(op(A)ᵀ P op(B)ᵀ); H −= α u uᵀ.
    let pr = MatRef::new(&probs);
    let u: &DMatrix<T> = match (&sa, &sb) {
        (None, None) => &probs,
        (Some(a), None) => {
            gemm_into(s1, false, T::one(), a.t(), pr, what);
            &*s1
        }
        (None, Some(b)) => {
            gemm_into(s1, false, T::one(), pr, b.t(), what);
            &*s1
        }
        (Some(a), Some(b)) => {
            gemm_into(s2, false, T::one(), a.t(), pr, what);
            gemm_into(s1, false, T::one(), MatRef::new(&*s2), b.t(), what);
            &*s1
        }
    };
    let u = u.as_slice();
    let n = p * q;
    assert!(
        u.len() == n,
        "matgrad: {what}: Lᵀp has {} entries, not {n}",
        u.len()
    );
    for j in 0..n {
        for i in 0..n {
            // α (u_i u_j): the same product for the mirrored entry.
            h[(i, j)] -= alpha * (u[i] * u[j]);
        }
    }
    *s3 = probs;
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// `op(B)ᵀ ⊗ op(A)`, formed.
    fn l_of(
        a: &Option<(DMatrix<f64>, bool)>,
        b: &Option<(DMatrix<f64>, bool)>,
        p: usize,
        q: usize,
    ) -> DMatrix<f64> {
        let op = |m: &(DMatrix<f64>, bool)| if m.1 { m.0.transpose() } else { m.0.clone() };
        let a = a.as_ref().map_or_else(|| DMatrix::identity(p, p), op);
        let b = b.as_ref().map_or_else(|| DMatrix::identity(q, q), op);
        b.transpose().kronecker(&a)
    }

    fn v(s: &Option<(DMatrix<f64>, bool)>) -> Side<'_, f64> {
        s.as_ref().map(|(m, t)| (m.as_view(), *t))
    }

    fn mat(r: usize, c: usize, seed: usize) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |i, j| {
            (((i * 7 + j * 13 + seed * 5) % 11) as f64 - 5.0) / 4.0
        })
    }

    /// Every combination of sides (absent, plain, transposed) against `Lᵀ D L`
    /// formed densely, with and without weights, overwriting and accumulating.
    #[test]
    fn gram_and_cross_against_dense_forms() {
        let (p, q, m, r) = (3, 2, 4, 5);
        let sides_a = [
            None,
            Some((mat(m, p, 1), false)),
            Some((mat(p, m, 2), true)),
        ];
        let sides_b = [
            None,
            Some((mat(q, r, 3), false)),
            Some((mat(r, q, 4), true)),
        ];
        for a in &sides_a {
            for b in &sides_b {
                let (mm, rr) = (
                    if a.is_some() { m } else { p },
                    if b.is_some() { r } else { q },
                );
                let l = l_of(a, b, p, q);
                let d = mat(mm, rr, 9);
                let (mut s1, mut s2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
                let mut h = DMatrix::zeros(0, 0);
                kron_gram_to(
                    &mut h,
                    false,
                    1.5,
                    v(a),
                    v(b),
                    Some(d.as_view()),
                    (p, q),
                    &mut s1,
                    &mut s2,
                );
                let dd = DMatrix::from_diagonal(
                    &DMatrix::from_column_slice(mm * rr, 1, d.as_slice()).column(0),
                );
                let want = l.transpose() * dd * &l * 1.5;
                assert!((&h - &want).abs().max() < 1e-12, "weighted {a:?} {b:?}");
                assert_eq!(
                    h,
                    h.transpose(),
                    "weighted {a:?} {b:?}: not exactly symmetric"
                );
                kron_gram_to(
                    &mut h,
                    true,
                    0.5,
                    v(a),
                    v(b),
                    None,
                    (p, q),
                    &mut s1,
                    &mut s2,
                );
                let want = want + l.transpose() * &l * 0.5;
                assert!((&h - &want).abs().max() < 1e-12, "plain {a:?} {b:?}");
                assert_eq!(h, h.transpose(), "plain {a:?} {b:?}: not exactly symmetric");
                for a2 in &sides_a {
                    for b2 in &sides_b {
                        if a2.is_some() != a.is_some() || b2.is_some() != b.is_some() {
                            continue;
                        }
                        let l2 = l_of(a2, b2, p, q);
                        let mut h = DMatrix::zeros(0, 0);
                        kron_cross_to(
                            &mut h,
                            false,
                            2.0,
                            v(a),
                            v(b),
                            v(a2),
                            v(b2),
                            (p, q),
                            &mut s1,
                            &mut s2,
                        );
                        let m = l.transpose() * &l2;
                        let want = (&m + m.transpose()) * 2.0;
                        assert!(
                            (&h - want).abs().max() < 1e-12,
                            "cross {a:?} {b:?} {a2:?} {b2:?}"
                        );
                        assert_eq!(h, h.transpose(), "cross: not exactly symmetric");
                    }
                }
            }
        }
    }

    /// A vector variable (q = 1), unweighted: `α op(A)ᵀ op(A)` straight into `H`, by
    /// dot products (few contiguous columns), the whole product (transposed, or more
    /// columns) and panels, overwriting and accumulating.
    #[test]
    fn plain_gram_of_a_vector_variable() {
        for (p, m) in [(3, 5), (8, 20), (12, 20), (40, 50)] {
            for t in [false, true] {
                let a = Some((if t { mat(p, m, 2) } else { mat(m, p, 2) }, t));
                let l = l_of(&a, &None, p, 1);
                let (mut h, mut s1, mut s2) = (
                    DMatrix::zeros(0, 0),
                    DMatrix::zeros(0, 0),
                    DMatrix::zeros(0, 0),
                );
                for (acc, times) in [(false, 1.0), (true, 2.0)] {
                    kron_gram_to(
                        &mut h,
                        acc,
                        0.5,
                        v(&a),
                        None,
                        None,
                        (p, 1),
                        &mut s1,
                        &mut s2,
                    );
                    let want = l.transpose() * &l * (0.5 * times);
                    assert!(
                        (&h - &want).abs().max() < 1e-10,
                        "p = {p}, t = {t}, acc = {acc}"
                    );
                    assert_eq!(h, h.transpose(), "p = {p}: not exactly symmetric");
                }
            }
        }
    }

    /// More columns than a panel (70: two whole panels and a partial one), so that
    /// the products go through the lower-triangle build: a vector variable (straight
    /// into `H`, overwriting, then accumulating) and a matrix one (the Gram factors),
    /// weighted and not, plain and transposed, against the dense forms.
    #[test]
    fn gram_beyond_a_panel() {
        let (p, m) = (PANEL * 2 + 6, 90);
        for t in [false, true] {
            let a = Some((if t { mat(p, m, 3) } else { mat(m, p, 3) }, t));
            let d = mat(m, 1, 8).map(|x| x * x);
            let l = l_of(&a, &None, p, 1);
            let (mut h, mut s1, mut s2) = (
                DMatrix::zeros(0, 0),
                DMatrix::zeros(0, 0),
                DMatrix::zeros(0, 0),
            );
            let dd = DMatrix::from_diagonal(&d.column(0));
            let mut want = l.transpose() * dd * &l * 1.5;
            for acc in [false, true] {
                kron_gram_to(
                    &mut h,
                    acc,
                    1.5,
                    v(&a),
                    None,
                    Some(d.as_view()),
                    (p, 1),
                    &mut s1,
                    &mut s2,
                );
                assert!(
                    (&h - &want).abs().max() < 1e-10,
                    "weighted, t = {t}, acc = {acc}"
                );
                assert_eq!(h, h.transpose(), "weighted: not exactly symmetric");
                want *= 2.0;
            }
            // Unweighted (least squares), accumulated onto the weighted sum.
            let want = want * 0.5 + l.transpose() * &l * 0.25;
            kron_gram_to(
                &mut h,
                true,
                0.25,
                v(&a),
                None,
                None,
                (p, 1),
                &mut s1,
                &mut s2,
            );
            assert!((&h - &want).abs().max() < 1e-10, "plain, t = {t}");
            assert_eq!(h, h.transpose(), "plain: not exactly symmetric");
            let b = Some((mat(p, m, 4), false));
            let (q, r) = (p, m);
            let (pa, ma) = (3, 5);
            let a = Some((mat(ma, pa, 5), false));
            let l = l_of(&a, &b, pa, q);
            kron_gram_to(
                &mut h,
                false,
                0.5,
                v(&a),
                v(&b),
                None,
                (pa, q),
                &mut s1,
                &mut s2,
            );
            let want = l.transpose() * &l * 0.5;
            assert_eq!(r, m);
            assert!((&h - &want).abs().max() < 1e-10, "plain (B Bᵀ) ⊗ (AᵀA)");
            assert_eq!(h, h.transpose(), "plain: not exactly symmetric");
        }
    }

    #[test]
    fn softmax_gram_against_the_dense_form() {
        let (p, q, m, r) = (2, 3, 4, 2);
        let a = Some((mat(m, p, 1), false));
        let b = Some((mat(r, q, 2), true));
        let z = mat(m, r, 7);
        let (mut h, mut s1, mut s2, mut s3) = (
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
            DMatrix::zeros(0, 0),
        );
        softmax_gram_to(
            &mut h,
            false,
            3.0,
            v(&a),
            v(&b),
            z.as_view(),
            (p, q),
            &mut s1,
            &mut s2,
            &mut s3,
        );
        let e = z.map(f64::exp);
        let pr = DMatrix::from_column_slice(m * r, 1, (&e / e.sum()).as_slice());
        let l = l_of(&a, &b, p, q);
        let mid = DMatrix::from_diagonal(&pr.column(0)) - &pr * pr.transpose();
        let want = l.transpose() * mid * &l * 3.0;
        assert!((&h - want).abs().max() < 1e-12);
        assert_eq!(h, h.transpose(), "softmax: not exactly symmetric");
    }

    /// One side the identity and the other a square matrix (`⟨x, a x⟩`): the
    /// in-place path of a vector variable (q = 1) and the general one (q = 2),
    /// overwriting, then accumulating onto what is there.
    #[test]
    fn cross_with_one_identity_side() {
        for q in [1, 2] {
            let p = 40; // more than a tile
            let sq = [Some((mat(p, p, 6), false)), Some((mat(p, p, 7), true))];
            for s in &sq {
                for (a1, a2) in [(&None, s), (s, &None)] {
                    let (l1, l2) = (l_of(a1, &None, p, q), l_of(a2, &None, p, q));
                    let m = l1.transpose() * &l2;
                    let want = (&m + m.transpose()) * 0.5;
                    let (mut s1, mut s2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
                    let mut h = DMatrix::zeros(0, 0);
                    for (acc, times) in [(false, 1.0), (true, 2.0)] {
                        kron_cross_to(
                            &mut h,
                            acc,
                            0.5,
                            v(a1),
                            None,
                            v(a2),
                            None,
                            (p, q),
                            &mut s1,
                            &mut s2,
                        );
                        assert!((&h - &want * times).abs().max() < 1e-12, "q = {q}");
                        assert_eq!(h, h.transpose());
                    }
                }
            }
        }
    }
}

//! The association of a matrix chain `a₀ a₁ ⋯ a_{n−1}` with the fewest
//! multiply-adds, by the textbook dynamic program over its intervals.
//!
//! matgrad chooses the order of a product twice: when it expands `#[grad]` for
//! statically sized matrices (`matgrad-core`, at compile time), and at run time for
//! `DMatrix` chains (`matgrad-runtime`). Both call [`cheapest_splits`], so the two
//! always pick the same association, ties included. The crate is `no_std`, does not
//! allocate (the caller lends the tables) and has no dependencies, so that the
//! procedural macro can use it without building the run-time kernels.
#![no_std]
#![deny(missing_docs)]

/// Fills `split` with the cheapest association of a chain of `n = dims.len() − 1`
/// matrices, factor `i` being `dims[i] × dims[i + 1]`, and returns its cost in
/// multiply-adds.
///
/// `cost(i, j) = min_{i ≤ k < j} cost(i, k) + cost(k + 1, j) + dᵢ d_{k+1} d_{j+1}`,
/// with `cost(i, i) = 0`; `split[i * n + j]` (for `i < j`) receives the `k` that
/// attains it: the interval `i..=j` is `(i..=k) (k+1..=j)`. Ties go to the later
/// split, so that a chain whose orders cost the same is associated from the left,
/// `(a b) c`, as written. Costs saturate at `u128::MAX` instead of overflowing.
///
/// `cost` is scratch: `cost[i * n + j]` becomes the cost of `i..=j` for `i ≤ j`.
/// Nothing else is written, and a chain of fewer than two factors costs 0 and
/// writes nothing.
///
/// # Panics
///
/// If `split` or `cost` holds fewer than `n * n` entries (for `n ≥ 2`).
///
/// # Example
///
/// ```
/// use matgrad_plan::cheapest_splits;
///
/// // xᵀ A v for a 1×9 row, a 9×9 matrix and a 9×1 column.
/// let dims = [1, 9, 9, 1];
/// let (mut cost, mut split) = ([0; 9], [0; 9]);
/// let total = cheapest_splits(&dims, &mut cost, &mut split);
/// // Both orders cost 81 + 9: the tie goes to the later split, (xᵀ A) v.
/// assert_eq!(total, 90);
/// assert_eq!(split[2], 1); // the whole chain 0..=2 splits after factor 1
///
/// // A (B v) costs far less than (A B) v.
/// let dims = [9, 9, 9, 1];
/// assert_eq!(cheapest_splits(&dims, &mut cost, &mut split), 162);
/// assert_eq!(split[2], 0);
/// ```
pub fn cheapest_splits(dims: &[u128], cost: &mut [u128], split: &mut [usize]) -> u128 {
    let n = dims.len().saturating_sub(1);
    if n < 2 {
        return 0;
    }
    assert!(
        cost.len() >= n * n && split.len() >= n * n,
        "matgrad-plan: a chain of {n} factors needs tables of {} entries",
        n * n
    );
    for i in 0..n {
        cost[i * n + i] = 0;
    }
    for len in 2..=n {
        for i in 0..=n - len {
            let j = i + len - 1;
            let mut best = (u128::MAX, j - 1);
            for k in (i..j).rev() {
                let own = dims[i]
                    .saturating_mul(dims[k + 1])
                    .saturating_mul(dims[j + 1]);
                let c = cost[i * n + k]
                    .saturating_add(cost[(k + 1) * n + j])
                    .saturating_add(own);
                if c < best.0 {
                    best = (c, k);
                }
            }
            (cost[i * n + j], split[i * n + j]) = best;
        }
    }
    cost[n - 1]
}

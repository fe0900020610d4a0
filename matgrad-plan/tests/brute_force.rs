//! `cheapest_splits` against every association of random small chains: the same
//! cost, and among the cheapest associations the first in the order that puts the
//! later split first (so `(a b) c` before `a (b c)`), which is the tie rule the
//! dynamic program promises.

use matgrad_plan::cheapest_splits;

/// An association of factors `lo..=hi`, as text: `a0`, `(a0 a1)`, …
#[derive(Clone)]
struct Tree {
    text: String,
    cost: u128,
}

/// Every association of factors `lo..=hi`, the last split first and, for one split,
/// the left trees' order, then the right trees'.
fn all(d: &[u128], lo: usize, hi: usize) -> Vec<Tree> {
    if lo == hi {
        return vec![Tree {
            text: format!("a{lo}"),
            cost: 0,
        }];
    }
    let mut out = Vec::new();
    for k in (lo..hi).rev() {
        for l in all(d, lo, k) {
            for r in all(d, k + 1, hi) {
                out.push(Tree {
                    text: format!("({} {})", l.text, r.text),
                    cost: l.cost + r.cost + d[lo] * d[k + 1] * d[hi + 1],
                });
            }
        }
    }
    out
}

fn describe(split: &[usize], n: usize, i: usize, j: usize) -> String {
    if i == j {
        return format!("a{i}");
    }
    let k = split[i * n + j];
    assert!((i..j).contains(&k), "split {k} of {i}..={j}");
    format!(
        "({} {})",
        describe(split, n, i, k),
        describe(split, n, k + 1, j)
    )
}

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[test]
fn the_dynamic_program_is_the_first_cheapest_association() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let n = 2 + rng.below(6) as usize; // 2 to 7 factors: up to 132 associations
                                           // Small dimensions (many ties) in most rounds, wider ones in the others.
        let top = if round % 3 == 0 { 400 } else { 4 };
        let d: Vec<u128> = (0..=n).map(|_| 1 + u128::from(rng.below(top))).collect();
        let (mut cost, mut split) = (vec![0; n * n], vec![usize::MAX; n * n]);
        let total = cheapest_splits(&d, &mut cost, &mut split);
        let trees = all(&d, 0, n - 1);
        let min = trees.iter().map(|t| t.cost).min().unwrap();
        let first = trees.iter().find(|t| t.cost == min).unwrap();
        assert_eq!(total, min, "{d:?}");
        assert_eq!(describe(&split, n, 0, n - 1), first.text, "{d:?}");
    }
}

#[test]
fn short_chains_and_saturation() {
    let (mut cost, mut split) = ([0; 16], [7; 16]);
    assert_eq!(cheapest_splits(&[], &mut cost, &mut split), 0);
    assert_eq!(cheapest_splits(&[3], &mut cost, &mut split), 0);
    assert_eq!(cheapest_splits(&[3, 4], &mut cost, &mut split), 0);
    assert_eq!(split, [7; 16]);
    // Costs beyond u128 saturate, and every split still lies inside its interval.
    let d = [u128::MAX; 5];
    assert_eq!(cheapest_splits(&d, &mut cost, &mut split), u128::MAX);
    assert_eq!(describe(&split, 4, 0, 3), "(((a0 a1) a2) a3)");
}

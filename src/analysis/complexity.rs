//! Representation-theoretic complexity scores of a group (docs/design.md).
//!
//! - C1 = rank + max_k d_k / 10 + 0.5·[non-abelian] (the reference study's).
//!   The reference hand-assigned its `rank` and its values are not published
//!   with the claims; grokscope uses d(G), the least number of generators,
//!   so C1 here is computable and says so wherever it is reported.
//! - C2 = log2(max_k d_k + 1) + (1 − 1/|Ĝ|) + [non-abelian], d_k the complex
//!   irrep dimensions and |Ĝ| their number (the reference study's).
//! - F1 = the dimension of the smallest faithful real representation (a sum
//!   of real irreps whose kernels meet in {e}); exact, found by a shortest
//!   path over kernel intersections, which are normal subgroups.
//! - F2 = the share of non-trivial real irreps that are not faithful.
//!
//! ```
//! use grokscope::{analysis::complexity::ComplexityScores, groups::FiniteGroup};
//! let s = ComplexityScores::of(&FiniteGroup::symmetric(3).unwrap());
//! assert_eq!(s.f1, 2);
//! assert_eq!(s.f2, Some(0.5));
//! ```

use crate::groups::FiniteGroup;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// A score's name and how to read it as a number from [`ComplexityScores`].
pub type ScoreField = (&'static str, fn(&ComplexityScores) -> f64);

/// The four scores as numbers, in the paper's order (F2, undefined for the
/// trivial group, reads as 0).
pub const SCORE_FIELDS: [ScoreField; 4] = [
    ("C1", |s| s.c1),
    ("C2", |s| s.c2),
    ("F1", |s| s.f1 as f64),
    ("F2", |s| s.f2.unwrap_or(0.0)),
];

/// The four scores of one group, with what they are computed from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComplexityScores {
    /// rank + max d / 10 + 0.5 [non-abelian], with rank = d(G).
    #[serde(rename = "C1")]
    pub c1: f64,
    /// log2(max d + 1) + (1 − 1/|Ĝ|) + [non-abelian].
    #[serde(rename = "C2")]
    pub c2: f64,
    /// Smallest faithful real representation dimension.
    #[serde(rename = "F1")]
    pub f1: usize,
    /// Share of non-trivial real irreps that are not faithful (none for the trivial group).
    #[serde(rename = "F2")]
    pub f2: Option<f64>,
    /// d(G), the least number of generators (C1's rank).
    pub rank: usize,
    /// Largest complex irrep dimension.
    pub max_irrep_dim: usize,
    /// Number of complex irreps |Ĝ|.
    pub n_irreps: usize,
    /// Whether G is abelian.
    pub abelian: bool,
}

impl ComplexityScores {
    /// Computes all scores from G's character table and real irreps.
    pub fn of(group: &FiniteGroup) -> Self {
        let reps = group.representations();
        let max_irrep_dim = reps.complex.irreps.iter().map(|i| i.dim).max().unwrap_or(1);
        let n_irreps = reps.complex.irreps.len();
        let abelian = group.is_abelian();
        let na = if abelian { 0.0 } else { 1.0 };
        let rank = group.min_generators();
        let nontrivial: Vec<_> = reps.real.iter().filter(|r| !r.is_trivial()).collect();
        let f2 = (!nontrivial.is_empty()).then(|| {
            nontrivial.iter().filter(|r| !r.is_faithful()).count() as f64 / nontrivial.len() as f64
        });
        Self {
            c1: rank as f64 + max_irrep_dim as f64 / 10.0 + 0.5 * na,
            c2: (max_irrep_dim as f64 + 1.0).log2() + (1.0 - 1.0 / n_irreps as f64) + na,
            f1: smallest_faithful_dim(group),
            f2,
            rank,
            max_irrep_dim,
            n_irreps,
            abelian,
        }
    }
}

/// F1: Dijkstra from K = G, each step K -> K ∩ ker ρ at cost dim ρ, to K = {e}.
/// The states are normal subgroups, so the search is exact and small (the
/// worst case here, (Z/2)^7, has 29,212 subgroups).
pub fn smallest_faithful_dim(group: &FiniteGroup) -> usize {
    let n = group.order();
    let words = n.div_ceil(64);
    let bits = |members: &[usize]| {
        let mut b = vec![0u64; words];
        for &g in members {
            b[g / 64] |= 1 << (g % 64);
        }
        b
    };
    let kernels: Vec<(usize, Vec<u64>)> = group
        .representations()
        .real
        .iter()
        .filter(|r| !r.is_trivial())
        .map(|r| (r.real_dim(), bits(&r.kernel)))
        .collect();
    let target = bits(&[group.identity()]);
    let start = bits(&(0..n).collect::<Vec<_>>());
    let mut best: HashMap<Vec<u64>, usize> = HashMap::from([(start.clone(), 0)]);
    let mut heap = BinaryHeap::from([Reverse((0usize, start))]);
    while let Some(Reverse((cost, k))) = heap.pop() {
        if k == target {
            return cost;
        }
        if best.get(&k).is_some_and(|&c| c < cost) {
            continue;
        }
        for (d, ker) in &kernels {
            let next: Vec<u64> = k.iter().zip(ker).map(|(a, b)| a & b).collect();
            if next == k {
                continue;
            }
            let c = cost + d;
            if best.get(&next).is_none_or(|&old| c < old) {
                best.insert(next.clone(), c);
                heap.push(Reverse((c, next)));
            }
        }
    }
    unreachable!("the regular representation is faithful, so some sum of irreps is")
}

/// Ranks 1..n with ties given their average rank.
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's ρ: the Pearson correlation of average ranks. `None` when
/// either side is constant (ρ undefined).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let (vx, vy): (f64, f64) = (
        rx.iter().map(|a| (a - mx).powi(2)).sum(),
        ry.iter().map(|b| (b - my).powi(2)).sum(),
    );
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

/// Spearman's ρ with operations as the unit and its exact one-sided
/// permutation test (docs/design.md: seeds are never counted as independent
/// groups).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OperationRankTest {
    /// ρ between the operations' scores and their median grok epochs.
    pub rho: f64,
    /// Share of the n! assignments of grok epochs to operations whose ρ is
    /// at least the observed one: the one-sided p-value of "higher score,
    /// later grok". Never below 1/n!.
    pub p_value: f64,
    /// Operations.
    pub n: usize,
}

/// Most operations [`operation_rank_test`] enumerates permutations for
/// (9! = 362 880).
pub const MAX_EXACT_OPERATIONS: usize = 9;

/// The median of an operation's grok epochs, `INFINITY` for a run that never
/// grokked (so an operation most of whose runs never grok is censored too).
pub fn median_grok(epochs: &[Option<u32>]) -> f64 {
    let mut v: Vec<f64> = epochs
        .iter()
        .map(|e| e.map_or(f64::INFINITY, f64::from))
        .collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n if v[n / 2 - 1].is_infinite() || v[n / 2].is_infinite() => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// ρ over operations (`scores[i]`, `times[i]`: one per operation; infinite
/// times tie last) with an exact permutation p-value. `None` when ρ is
/// undefined (a side is constant), with fewer than 3 operations, or with
/// more than [`MAX_EXACT_OPERATIONS`].
pub fn operation_rank_test(scores: &[f64], times: &[f64]) -> Option<OperationRankTest> {
    let n = scores.len();
    if n != times.len() || !(3..=MAX_EXACT_OPERATIONS).contains(&n) {
        return None;
    }
    let rho = spearman(scores, times)?;
    // Heap's algorithm over the assignments of times to operations.
    let mut perm: Vec<f64> = times.to_vec();
    let mut c = vec![0usize; n];
    let (mut at_least, mut total) = (0usize, 0usize);
    let mut count = |p: &[f64]| {
        total += 1;
        if spearman(scores, p).is_some_and(|r| r >= rho - 1e-12) {
            at_least += 1;
        }
    };
    count(&perm);
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                perm.swap(0, i);
            } else {
                perm.swap(c[i], i);
            }
            count(&perm);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    Some(OperationRankTest {
        rho,
        p_value: at_least as f64 / total as f64,
        n,
    })
}

/// One run for the predictive check.
#[derive(Debug, Clone, PartialEq)]
pub struct GrokObservation {
    /// The operation (groups the bootstrap).
    pub op: String,
    /// The score of its group.
    pub score: f64,
    /// Grok epoch, or `None` if it never grokked.
    pub grok_epoch: Option<u32>,
}

/// Spearman's ρ between a score and grok epochs, with a bootstrap interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankCorrelation {
    /// ρ on all runs (`None` if undefined).
    pub rho: Option<f64>,
    /// 2.5th percentile of the bootstrap distribution.
    pub ci_low: Option<f64>,
    /// 97.5th percentile.
    pub ci_high: Option<f64>,
    /// Runs used.
    pub runs: usize,
    /// Runs that never grokked (censored).
    pub censored: usize,
    /// Bootstrap draws where ρ was defined.
    pub draws: usize,
}

/// How well a score predicts grokking order. Runs that never grokked are
/// right-censored: they are given an infinite grok epoch, so they rank after
/// every run that grokked and tie with each other (average rank). The
/// interval resamples runs with replacement within each operation (seeds
/// are the replication unit), `draws` times with a fixed seed.
pub fn predictive_check(obs: &[GrokObservation], draws: usize, seed: u64) -> RankCorrelation {
    let epoch = |o: &GrokObservation| o.grok_epoch.map_or(f64::INFINITY, f64::from);
    let rho_of = |sample: &[&GrokObservation]| {
        let x: Vec<f64> = sample.iter().map(|o| o.score).collect();
        let y: Vec<f64> = sample.iter().map(|o| epoch(o)).collect();
        spearman(&x, &y)
    };
    let all: Vec<&GrokObservation> = obs.iter().collect();
    let mut by_op: std::collections::BTreeMap<&str, Vec<&GrokObservation>> = Default::default();
    for o in obs {
        by_op.entry(o.op.as_str()).or_default().push(o);
    }
    let mut rng = crate::rng::SplitMix64::derived(seed, "bootstrap");
    let mut boot: Vec<f64> = Vec::with_capacity(draws);
    for _ in 0..draws {
        let sample: Vec<&GrokObservation> = by_op
            .values()
            .flat_map(|runs| {
                (0..runs.len())
                    .map(|_| runs[rng.below(runs.len())])
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Some(r) = rho_of(&sample) {
            boot.push(r);
        }
    }
    boot.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        (!boot.is_empty()).then(|| boot[((q * boot.len() as f64) as usize).min(boot.len() - 1)])
    };
    RankCorrelation {
        rho: rho_of(&all),
        ci_low: pct(0.025),
        ci_high: pct(0.975),
        runs: obs.len(),
        censored: obs.iter().filter(|o| o.grok_epoch.is_none()).count(),
        draws: boot.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(name: &str) -> ComplexityScores {
        let op = crate::groups::Operation::parse(name).unwrap();
        ComplexityScores::of(&op.analysis.group)
    }

    // Values worked out by hand from the character tables:
    // S3: irreps 1, sign (kernel A3), [2,1] (faithful). F1 = 2, F2 = 1/2.
    //     C1 = 2 + 2/10 + 0.5 = 2.7; C2 = log2 3 + (1 - 1/3) + 1.
    // D5: trivial, sign (kernel <r>), rho_1, rho_2 (both faithful, 5 prime).
    //     F1 = 2, F2 = 1/3.
    // A4: 1, omega (real dim 2, kernel V4), 3 (faithful). F1 = 3, F2 = 1/2.
    // S4: [4], [1,1,1,1] (kernel A4), [2,2] (kernel V4), [3,1], [2,1,1]
    //     (faithful). F1 = 3, F2 = 2/4.
    // Z/100: faithful iff gcd(k, 100) = 1: phi(100)/2 = 20 of the 50
    //     non-trivial real irreps (f1..f49 and f50). F1 = 2, F2 = 30/50.
    // (Z/2)^7: every non-trivial character has a kernel of index 2, so none
    //     is faithful and seven are needed. F1 = 7, F2 = 1.
    #[test]
    fn f1_f2_match_hand_computation() {
        for (name, f1, f2) in [
            ("s3", 2, 0.5),
            ("d5", 2, 1.0 / 3.0),
            ("a4", 3, 0.5),
            ("s4", 3, 0.5),
            ("ring", 2, 0.6),
            ("xor:7", 7, 1.0),
        ] {
            let s = scores(name);
            assert_eq!(s.f1, f1, "{name} F1");
            assert!((s.f2.unwrap() - f2).abs() < 1e-12, "{name} F2 = {:?}", s.f2);
        }
    }

    #[test]
    fn c1_c2_match_hand_computation() {
        let s = scores("s3");
        assert!((s.c1 - 2.7).abs() < 1e-12);
        assert!((s.c2 - (3f64.log2() + 2.0 / 3.0 + 1.0)).abs() < 1e-12);
        // Z/113: rank 1, all irreps 1-dimensional, 113 of them, abelian.
        let s = scores("add");
        assert!((s.c1 - 1.1).abs() < 1e-12);
        assert!((s.c2 - (1.0 + 1.0 - 1.0 / 113.0)).abs() < 1e-12);
        // S4: rank 2, max dim 3, 5 irreps, non-abelian.
        let s = scores("s4");
        assert!((s.c1 - 2.8).abs() < 1e-12);
        assert!((s.c2 - (2.0 + 0.8 + 1.0)).abs() < 1e-12);
    }

    #[test]
    fn spearman_with_ties_matches_hand_values() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 20.0, 5.0]),
            vec![2.0, 3.5, 3.5, 1.0]
        );
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        // Censored (infinite) epochs tie: y ranks (1, 3, 3, 3); cov 3, var 5 and 3.
        let r = spearman(
            &[1.0, 2.0, 3.0, 4.0],
            &[1.0, f64::INFINITY, f64::INFINITY, f64::INFINITY],
        )
        .unwrap();
        assert!((r - 3.0 / 15f64.sqrt()).abs() < 1e-12, "{r}");
        // x = (1,2,3,4), y ranks (1, 2.5, 2.5, 4): rho = 4.5 / sqrt(5 * 4.5)
        let r2 = spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.5, 2.5, 4.0]).unwrap();
        assert!((r2 - 4.5 / (5.0f64 * 4.5).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn censored_runs_rank_last_and_the_interval_brackets_rho() {
        let obs: Vec<GrokObservation> = [
            ("a", 1.0, Some(100)),
            ("a", 1.0, Some(120)),
            ("b", 2.0, Some(300)),
            ("b", 2.0, Some(280)),
            ("c", 3.0, None),
            ("c", 3.0, None),
        ]
        .iter()
        .map(|&(op, score, e)| GrokObservation {
            op: op.into(),
            score,
            grok_epoch: e,
        })
        .collect();
        let r = predictive_check(&obs, 500, 0);
        assert_eq!((r.runs, r.censored), (6, 2));
        let rho = r.rho.unwrap();
        assert!(rho > 0.9, "{r:?}");
        assert!(
            r.ci_low.unwrap() <= rho && rho <= r.ci_high.unwrap() + 1e-12,
            "{r:?}"
        );
    }

    #[test]
    fn trivial_group_has_no_f2() {
        let s = ComplexityScores::of(&FiniteGroup::cyclic(1).unwrap());
        assert_eq!((s.f1, s.f2), (0, None));
    }

    #[test]
    fn the_operation_permutation_test_counts_assignments_exactly() {
        // Perfect agreement of 4 operations: only the identity assignment
        // reaches ρ = 1, so p = 1/24; of 3, 1/6: never below 0.05.
        let t = operation_rank_test(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]).unwrap();
        assert!((t.rho - 1.0).abs() < 1e-12 && (t.p_value - 1.0 / 24.0).abs() < 1e-12 && t.n == 4);
        let t = operation_rank_test(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((t.p_value - 1.0 / 6.0).abs() < 1e-12);
        // Two operations tied on the score: swapping their times keeps ρ,
        // so 2 of 24 assignments reach it.
        let t = operation_rank_test(&[1.0, 1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((t.p_value - 2.0 / 24.0).abs() < 1e-12, "{t:?}");
        // Reversed order: every assignment is at least as high.
        let t = operation_rank_test(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]).unwrap();
        assert!((t.rho + 1.0).abs() < 1e-12 && t.p_value == 1.0);
        // A constant score (C1 on the abelian operations) has no ρ.
        assert!(operation_rank_test(&[2.0; 4], &[1.0, 2.0, 3.0, 4.0]).is_none());
        assert!(operation_rank_test(&[1.0, 2.0], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn median_grok_censors_never_grokked_runs() {
        assert_eq!(median_grok(&[Some(300), None, Some(100)]), 300.0);
        assert!(median_grok(&[Some(300), None, None]).is_infinite());
        assert_eq!(median_grok(&[Some(100), Some(300)]), 200.0);
        assert!(median_grok(&[Some(100), None]).is_infinite());
    }
}

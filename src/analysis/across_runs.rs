//! Comparisons across a sweep's runs: which runs are paired for CKA and
//! what each comparison computes, and the subsets the complexity scores are
//! correlated on. `grokscope analyze --sweep` loads the weights and writes
//! the rows; the rules live here, free of tch, so they are unit-tested.
//!
//! CKA pairs (docs/design.md, "CKA"):
//! - different operations, `seed_matched`: runs with the same seed; rows
//!   are hidden units (X = Eᵀ, so the element orders of the two groups
//!   need not correspond); `seed_mismatched`: different seeds, the baseline
//!   a shared learned substrate must beat;
//! - the same operation (`same_op_elements`, pairing `different_seeds`):
//!   distinct seeds s < s', rows are group elements in the analysis
//!   group's order;
//! - each at the final and the untrained (`init`) checkpoint, for biased
//!   linear, debiased linear and RBF CKA; final seed-matched and
//!   same-operation comparisons carry a permutation null;
//! - `reference_first_6_rows`: the reference study's statistic (biased
//!   linear CKA of the first 6 embedding rows of seed-matched runs), beside
//!   the same statistic for independent Gaussian 6 × d matrices.

use super::cka::{cka, cka_with_null, reference_first_rows, Estimator, Kernel};
use super::complexity::{predictive_check, ComplexityScores, GrokObservation};
use super::AnalysisError;
use nalgebra::DMatrix;

/// Number of permutation draws behind every CKA null.
pub const CKA_NULL_DRAWS: usize = 1000;

/// The three CKA variants reported everywhere: (name, kernel, estimator).
pub const CKA_VARIANTS: [(&str, Kernel, Estimator); 3] = [
    ("linear", Kernel::Linear, Estimator::Biased),
    ("debiased_linear", Kernel::Linear, Estimator::Debiased),
    ("rbf", Kernel::Rbf { factor: 1.0 }, Estimator::Biased),
];

/// The checkpoints compared: index into [`RunEmbeddings`]' pairs, name.
const CHECKPOINTS: [(usize, &str); 2] = [(0, "final"), (1, "init")];

/// One run's element embeddings as the comparisons need them.
#[derive(Debug, Clone)]
pub struct RunEmbeddings {
    /// The operation as configured.
    pub op: String,
    /// The run's seed.
    pub seed: u64,
    /// Element embedding rows in token order, final and initial: [n, d].
    pub embed: [DMatrix<f64>; 2],
    /// The same rows in the analysis group's order, final and initial.
    pub group_rows: [DMatrix<f64>; 2],
}

pub use crate::results::rows::{CkaRow, ComplexityRow};

/// Mean of the values, NaN when empty.
fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The operations of `runs` in first-appearance order.
fn operations(runs: &[RunEmbeddings]) -> Vec<&str> {
    let mut ops: Vec<&str> = Vec::new();
    for r in runs {
        if !ops.contains(&r.op.as_str()) {
            ops.push(&r.op);
        }
    }
    ops
}

/// The pairs of runs one comparison averages over: for one operation,
/// distinct seeds (s < s'); for two, equal seeds when `matched`, else
/// different seeds.
pub fn run_pairs<'a>(
    a: &[&'a RunEmbeddings],
    b: &[&'a RunEmbeddings],
    matched: bool,
) -> Vec<(&'a RunEmbeddings, &'a RunEmbeddings)> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (*x, *y)))
        .filter(|(x, y)| {
            if x.op == y.op {
                x.seed < y.seed
            } else {
                (x.seed == y.seed) == matched
            }
        })
        .collect()
}

/// Every CKA comparison of a sweep's runs (see the module docs for which).
///
/// # Errors
/// Embeddings CKA cannot compare (different element counts within an
/// operation, too few rows, a constant matrix).
pub fn cka_rows(runs: &[RunEmbeddings]) -> Result<Vec<CkaRow>, AnalysisError> {
    let ops = operations(runs);
    let of = |op: &str| runs.iter().filter(|r| r.op == op).collect::<Vec<_>>();
    let mut rows = Vec::new();
    for (ia, &a) in ops.iter().enumerate() {
        for &b in &ops[ia..] {
            let same_op = a == b;
            let (ra, rb) = (of(a), of(b));
            for (pairing, matched) in [("seed_matched", true), ("seed_mismatched", false)] {
                // Same operation: distinct seeds only; a "matched" pair
                // would be a run with itself.
                if same_op && matched {
                    continue;
                }
                let pairs = run_pairs(&ra, &rb, matched);
                if pairs.is_empty() {
                    continue;
                }
                for (ck, checkpoint) in CHECKPOINTS {
                    let mats = |x: &RunEmbeddings, y: &RunEmbeddings| {
                        if same_op {
                            (x.group_rows[ck].clone(), y.group_rows[ck].clone())
                        } else {
                            (x.embed[ck].transpose(), y.embed[ck].transpose())
                        }
                    };
                    for (name, kernel, est) in CKA_VARIANTS {
                        let with_null = ck == 0 && (matched || same_op);
                        let (mut vals, mut nm, mut np, mut pv) = (vec![], vec![], vec![], vec![]);
                        for (x, y) in &pairs {
                            let (mx, my) = mats(x, y);
                            if with_null {
                                let r =
                                    cka_with_null(&mx, &my, kernel, est, CKA_NULL_DRAWS, x.seed)?;
                                vals.push(r.value);
                                nm.push(r.null_mean);
                                np.push(r.null_p95);
                                pv.push(r.p_value);
                            } else {
                                vals.push(cka(&mx, &my, kernel, est)?);
                            }
                        }
                        rows.push(CkaRow {
                            op_a: a.to_string(),
                            op_b: b.to_string(),
                            comparison: if same_op {
                                "same_op_elements"
                            } else {
                                "cross_op_hidden_units"
                            }
                            .into(),
                            estimator: name.into(),
                            checkpoint: checkpoint.into(),
                            pairing: if same_op { "different_seeds" } else { pairing }.into(),
                            value: mean(&vals),
                            pairs: vals.len() as u32,
                            null_mean: mean(&nm),
                            null_p95: mean(&np),
                            p_value: pv.iter().copied().fold(f64::NAN, f64::max),
                        });
                    }
                }
            }
            if !same_op {
                reference_rows(a, b, &run_pairs(&ra, &rb, true), &mut rows)?;
            }
        }
    }
    Ok(rows)
}

/// The reference study's statistic on seed-matched pairs, beside the same
/// statistic for independent Gaussian matrices (its null).
fn reference_rows(
    a: &str,
    b: &str,
    pairs: &[(&RunEmbeddings, &RunEmbeddings)],
    rows: &mut Vec<CkaRow>,
) -> Result<(), AnalysisError> {
    const K: usize = 6;
    let Some(first) = pairs.first() else {
        return Ok(());
    };
    let d = first.0.embed[0].ncols();
    for (ck, checkpoint) in CHECKPOINTS {
        let vals: Vec<f64> = pairs
            .iter()
            .map(|(x, y)| reference_first_rows(&x.embed[ck], &y.embed[ck], K))
            .collect::<Result<_, _>>()?;
        let mut rng = crate::rng::SplitMix64::derived(0, "reference-null");
        let null: Vec<f64> = (0..CKA_NULL_DRAWS)
            .map(|_| {
                let x = DMatrix::from_fn(K, d, |_, _| rng.normal());
                let y = DMatrix::from_fn(K, d, |_, _| rng.normal());
                reference_first_rows(&x, &y, K)
            })
            .collect::<Result<_, _>>()?;
        let mut sorted = null.clone();
        sorted.sort_by(f64::total_cmp);
        let v = mean(&vals);
        rows.push(CkaRow {
            op_a: a.to_string(),
            op_b: b.to_string(),
            comparison: "reference_first_6_rows".into(),
            estimator: "linear".into(),
            checkpoint: checkpoint.into(),
            pairing: "seed_matched".into(),
            value: v,
            pairs: vals.len() as u32,
            null_mean: mean(&null),
            null_p95: sorted[(0.95 * sorted.len() as f64) as usize - 1],
            p_value: (1 + null.iter().filter(|&&x| x >= v).count()) as f64
                / (1 + null.len()) as f64,
        });
    }
    Ok(())
}

/// One run as the complexity correlation needs it.
#[derive(Debug, Clone)]
pub struct ScoredRun {
    /// The operation (the bootstrap resamples operations' seeds together).
    pub op: String,
    /// Its group's scores.
    pub scores: ComplexityScores,
    /// Sustained grok epoch, `None` if it never grokked (censored, ranked
    /// last).
    pub grok_epoch: Option<u32>,
}

/// Spearman ρ of each score with grok epochs, with bootstrap intervals
/// (2000 draws, seed 0), over all runs (`all`) and over the runs on abelian
/// groups (`abelian`): the reference study's claim is about the abelian
/// grokking order, and over all runs ρ mostly measures the
/// abelian/non-abelian split (non-abelian runs are censored and score
/// higher).
pub fn complexity_rows(runs: &[ScoredRun]) -> Vec<ComplexityRow> {
    let mut rows = Vec::new();
    for (subset, abelian_only) in [("all", false), ("abelian", true)] {
        for (name, f) in super::complexity::SCORE_FIELDS {
            let obs: Vec<GrokObservation> = runs
                .iter()
                .filter(|r| !abelian_only || r.scores.abelian)
                .map(|r| GrokObservation {
                    op: r.op.clone(),
                    score: f(&r.scores),
                    grok_epoch: r.grok_epoch,
                })
                .collect();
            let c = predictive_check(&obs, 2000, 0);
            rows.push(ComplexityRow {
                subset: subset.into(),
                score: name.into(),
                spearman_rho: c.rho,
                ci_low: c.ci_low,
                ci_high: c.ci_high,
                runs: c.runs as u32,
                censored: c.censored as u32,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gaussian;

    fn run(op: &str, seed: u64, e: DMatrix<f64>) -> RunEmbeddings {
        RunEmbeddings {
            op: op.into(),
            seed,
            embed: [e.clone(), gaussian(e.nrows(), e.ncols(), 100 + seed)],
            group_rows: [e.clone(), gaussian(e.nrows(), e.ncols(), 100 + seed)],
        }
    }

    #[test]
    fn pairs_match_seeds_across_operations_and_skip_a_run_with_itself() {
        let runs: Vec<RunEmbeddings> = [("add", 0), ("add", 1), ("s3", 0), ("s3", 1)]
            .iter()
            .map(|&(op, s)| run(op, s, gaussian(8, 4, s)))
            .collect();
        let (add, s3): (Vec<_>, Vec<_>) = runs.iter().partition(|r| r.op == "add");
        let seeds = |p: Vec<(&RunEmbeddings, &RunEmbeddings)>| {
            p.iter().map(|(x, y)| (x.seed, y.seed)).collect::<Vec<_>>()
        };
        assert_eq!(seeds(run_pairs(&add, &s3, true)), [(0, 0), (1, 1)]);
        assert_eq!(seeds(run_pairs(&add, &s3, false)), [(0, 1), (1, 0)]);
        // One operation: each unordered pair of distinct seeds once.
        assert_eq!(seeds(run_pairs(&add, &add, false)), [(0, 1)]);
        assert_eq!(seeds(run_pairs(&add, &add, true)), [(0, 1)]);
    }

    #[test]
    fn rows_say_what_was_compared_and_how_many_pairs() {
        let runs: Vec<RunEmbeddings> = [("add", 0), ("add", 1), ("s3", 0), ("s3", 1)]
            .iter()
            .map(|&(op, s)| run(op, s, gaussian(8, 6, s + 10 * op.len() as u64)))
            .collect();
        let rows = cka_rows(&runs).unwrap();
        let find = |a: &str, b: &str, c: &str, e: &str, k: &str, p: &str| {
            rows.iter()
                .find(|r| {
                    (
                        r.op_a.as_str(),
                        r.op_b.as_str(),
                        r.comparison.as_str(),
                        r.estimator.as_str(),
                    ) == (a, b, c, e)
                        && (r.checkpoint.as_str(), r.pairing.as_str()) == (k, p)
                })
                .unwrap_or_else(|| panic!("no row {a} {b} {c} {e} {k} {p}"))
        };
        let x = "cross_op_hidden_units";
        // A null only where it is read: final, seed-matched.
        let r = find("add", "s3", x, "linear", "final", "seed_matched");
        assert_eq!(r.pairs, 2);
        assert!(r.null_p95.is_finite() && r.p_value > 0.0 && r.p_value <= 1.0);
        assert!(find("add", "s3", x, "linear", "init", "seed_matched")
            .null_mean
            .is_nan());
        assert!(find("add", "s3", x, "rbf", "final", "seed_mismatched")
            .p_value
            .is_nan());
        let same = find(
            "s3",
            "s3",
            "same_op_elements",
            "debiased_linear",
            "final",
            "different_seeds",
        );
        assert_eq!(same.pairs, 1);
        assert!(same.null_p95.is_finite());
        let reference = find(
            "add",
            "s3",
            "reference_first_6_rows",
            "linear",
            "final",
            "seed_matched",
        );
        assert_eq!(reference.pairs, 2);
        // 2 operations: 1 cross pair × (2 pairings × 2 checkpoints × 3
        // estimators + 2 reference rows) + 2 same-op × (2 × 3).
        assert_eq!(rows.len(), 14 + 12);
    }

    #[test]
    fn across_operations_rows_are_hidden_units_so_element_order_does_not_matter() {
        // Run b's embedding is run a's with its elements in another order
        // (rows permuted). With X = Eᵀ the hidden units are the rows CKA
        // pairs, the elements only features: linear CKA is exactly 1. With
        // elements as rows (the same-operation comparison) it is not.
        let e = gaussian(12, 5, 7);
        let perm: Vec<usize> = (0..12).map(|i| (5 * i + 3) % 12).collect();
        let p = DMatrix::from_fn(12, 5, |i, j| e[(perm[i], j)]);
        let runs = vec![run("add", 0, e.clone()), run("ring", 0, p.clone())];
        let rows = cka_rows(&runs).unwrap();
        let r = rows
            .iter()
            .find(|r| {
                r.comparison == "cross_op_hidden_units"
                    && r.estimator == "linear"
                    && r.checkpoint == "final"
                    && r.pairing == "seed_matched"
            })
            .unwrap();
        assert!((r.value - 1.0).abs() < 1e-9, "{}", r.value);
        let by_elements = cka(&e, &p, Kernel::Linear, Estimator::Biased).unwrap();
        assert!(by_elements < 0.9, "{by_elements}");
    }

    #[test]
    fn the_reference_null_is_gaussian_six_row_cka() {
        // Six rows of width d: linear CKA of independent Gaussians is far
        // above 0 (a 6 × 6 Gram carries little freedom), which is why the
        // statistic needs this null. Two runs with identical embeddings
        // score 1, above every null draw.
        let e = gaussian(10, 8, 3);
        let runs = vec![run("add", 0, e.clone()), run("ring", 0, e)];
        let rows = cka_rows(&runs).unwrap();
        let r = rows
            .iter()
            .find(|r| r.comparison == "reference_first_6_rows" && r.checkpoint == "final")
            .unwrap();
        assert!((r.value - 1.0).abs() < 1e-9);
        assert!(r.null_mean > 0.2 && r.null_mean < 0.9, "{}", r.null_mean);
        assert!(r.null_p95 > r.null_mean && r.null_p95 < 1.0);
        assert!((r.p_value - 1.0 / (1 + CKA_NULL_DRAWS) as f64).abs() < 1e-12);
    }

    #[test]
    fn complexity_subsets_keep_the_abelian_runs_and_rank_censored_runs_last() {
        use crate::groups::FiniteGroup;
        let scored = |op: &str, g: FiniteGroup, grok: Option<u32>| ScoredRun {
            op: op.into(),
            scores: ComplexityScores::of(&g),
            grok_epoch: grok,
        };
        let runs = vec![
            scored("z5", FiniteGroup::cyclic(5).unwrap(), Some(100)),
            scored("z7", FiniteGroup::cyclic(7).unwrap(), Some(200)),
            scored("z11", FiniteGroup::cyclic(11).unwrap(), Some(300)),
            scored("s3", FiniteGroup::symmetric(3).unwrap(), None),
        ];
        let rows = complexity_rows(&runs);
        assert_eq!(rows.len(), 8);
        let get = |subset: &str, score: &str| {
            rows.iter()
                .find(|r| r.subset == subset && r.score == score)
                .unwrap()
        };
        assert_eq!(get("all", "C1").runs, 4);
        assert_eq!(get("all", "C1").censored, 1);
        assert_eq!(get("abelian", "C1").runs, 3);
        assert_eq!(get("abelian", "C1").censored, 0);
    }
}

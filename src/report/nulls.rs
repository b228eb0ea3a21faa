//! R5's two nulls, read from the `shuffled-labels` sweep: each non-abelian
//! group trained on its true table and on shuffled training labels, same
//! seeds, splits and initial weights. Every comparison is made per seed on
//! the same irrep (the true-label run's dominant one), then averaged, so a
//! mean never mixes different irreps across seeds.
//!
//! For each group the sweep gives: the dominant irrep's share of the
//! embedding's non-trivial power (true labels, shuffled labels, untrained),
//! the share of the one-dimensional irreps (those that factor through
//! G/[G, G]), the MLP neurons' share on (ρ, ρ) irrep pairs, and the coset
//! test (is the prediction on an informative test pair in the right coset of
//! [G, G]?) against its chance level 1/|G/[G, G]|.

use super::data::{group_of, SweepData};
use super::latex::{p_value, seed_level_numbers, tex, Numbers};
use super::{ReportError, Result};
use crate::analysis::stats::binomial_tails;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One run of the sweep, as the nulls read it.
#[derive(Debug, Clone)]
struct NullRun {
    op: String,
    seed: u64,
    shuffled: bool,
    dominant: String,
    /// Embedding share per irrep: (trained, untrained).
    shares: BTreeMap<String, (f64, f64)>,
    /// Neurons' (ρ, ρ) share: (trained, untrained).
    diagonal: (f64, f64),
    /// Coset test: (trained, untrained, chance, pairs).
    coset: Option<(f64, f64, f64, f64)>,
    /// Coset test on pairs whose transpose is unseen too: (trained, pairs).
    coset_unseen: Option<(f64, f64)>,
}

/// The per-seed comparison of one group, averaged over seeds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupNulls {
    /// The operation.
    pub op: String,
    /// Its analysis group's name (from the sweep's groups table).
    pub group: String,
    /// The true-label runs' dominant irreps with their counts (`3b (2), 3a (1)`).
    pub dominant: String,
    /// That irrep's share: true labels, shuffled labels, untrained.
    pub dominant_share: [f64; 3],
    /// One-dimensional irreps' share: true, shuffled, untrained.
    pub one_dim: [f64; 3],
    /// Neurons' (ρ, ρ) share: true, shuffled, untrained.
    pub diagonal: [f64; 3],
    /// Coset accuracy on informative test pairs: true, shuffled, untrained,
    /// each pooled over seeds (right-coset answers over pairs, so a rate and
    /// its count come from the same aggregation).
    pub coset: [f64; 3],
    /// 1/|G/[G, G]|.
    pub coset_chance: f64,
    /// Pooled informative pairs of the coset test (true arm) and how many
    /// landed in the right coset.
    pub coset_counts: (usize, usize),
    /// The same for the shuffled arm.
    pub coset_counts_shuffled: (usize, usize),
    /// Coset accuracy on the informative pairs whose transpose was not
    /// trained on either: true, shuffled, pooled over seeds.
    pub coset_unseen: [f64; 2],
    /// Pooled (right coset, pairs) of that test, true arm.
    pub coset_unseen_counts: (usize, usize),
    /// The same for the shuffled arm.
    pub coset_unseen_counts_shuffled: (usize, usize),
    /// Each seed's (right coset, pairs), true arm: informative pairs, and
    /// those whose transpose was not trained on (the seed-level reading).
    pub coset_per_seed: Vec<(usize, usize)>,
    /// See `coset_per_seed`.
    pub coset_unseen_per_seed: Vec<(usize, usize)>,
    /// Seeds with both arms.
    pub seeds: usize,
}

/// Reads the sweep's runs (results joined with analysis and spectra by run id).
fn runs(sweep: &SweepData) -> Result<Vec<NullRun>> {
    let analysis = sweep.analysis_rows()?;
    let spectra = super::spectra::spectrum_rows(sweep.need(&sweep.spectra, "spectra")?)?;
    let mut out = Vec::new();
    for r in sweep.runs()? {
        let Some(a) = analysis.iter().find(|a| a.run_id == r.run_id) else {
            return Err(ReportError::Data(format!(
                "{}: run {} has no analysis row; run `grokscope analyze --sweep {0}`",
                sweep.location().display(),
                r.run_id
            )));
        };
        let mut shares: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for k in &spectra {
            let s = &k.row;
            if k.run_id != r.run_id || s.source != "embed" || s.order != "identity" {
                continue;
            }
            let e = shares.entry(s.component.clone()).or_default();
            match s.checkpoint.as_str() {
                "final" => e.0 = s.share,
                "init" => e.1 = s.share,
                _ => {}
            }
        }
        let coset = match (
            a.coset_accuracy,
            a.coset_accuracy_init,
            a.coset_chance,
            a.coset_pairs,
        ) {
            (Some(c), Some(c0), Some(ch), Some(p)) => Some((c, c0, ch, f64::from(p))),
            _ => None,
        };
        out.push(NullRun {
            op: r.op,
            seed: r.seed,
            shuffled: r.shuffle_labels.unwrap_or(false),
            dominant: a.dominant_irrep.clone(),
            shares,
            diagonal: (a.neurons_diagonal_share, a.neurons_diagonal_share_init),
            coset,
            coset_unseen: a
                .coset_accuracy_unseen
                .zip(a.coset_pairs_unseen.map(f64::from)),
        });
    }
    Ok(out)
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Per group, the seed-matched comparison of true-label, shuffled-label and
/// untrained models, in the sweep's operation order.
///
/// # Errors
/// Missing columns or tables, or an unknown operation.
pub fn compare(sweep: &SweepData) -> Result<Vec<GroupNulls>> {
    let runs = runs(sweep)?;
    let groups = sweep.groups()?;
    let mut out = Vec::new();
    for op in sweep.ops()? {
        let row = group_of(&groups, &op)?;
        let one_dim = row.one_dim_irreps();
        let mut g = GroupNulls {
            op: op.clone(),
            group: row.group.clone(),
            ..Default::default()
        };
        let mut cols: [Vec<f64>; 9] = Default::default();
        let mut init_counts = (0, 0);
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for t in runs.iter().filter(|r| r.op == op && !r.shuffled) {
            let Some(s) = runs
                .iter()
                .find(|r| r.op == op && r.shuffled && r.seed == t.seed)
            else {
                continue;
            };
            g.seeds += 1;
            *names.entry(t.dominant.clone()).or_default() += 1;
            let at = |r: &NullRun, irrep: &str| {
                r.shares.get(irrep).copied().unwrap_or((f64::NAN, f64::NAN))
            };
            let (d, d0) = at(t, &t.dominant);
            cols[0].push(d);
            cols[1].push(at(s, &t.dominant).0);
            cols[2].push(d0);
            let sum = |r: &NullRun, init: bool| -> f64 {
                if one_dim.is_empty() {
                    return f64::NAN; // a perfect group has none
                }
                one_dim
                    .iter()
                    .map(|i| {
                        let v = at(r, i);
                        if init {
                            v.1
                        } else {
                            v.0
                        }
                    })
                    .sum()
            };
            cols[3].push(sum(t, false));
            cols[4].push(sum(s, false));
            cols[5].push(sum(t, true));
            cols[6].push(t.diagonal.0);
            cols[7].push(s.diagonal.0);
            cols[8].push(t.diagonal.1);
            // The coset tests are pooled over seeds: answers in the right
            // coset over pairs, so each rate is its count's ratio.
            let count = |acc: f64, pairs: f64| (acc * pairs).round() as usize;
            if let (Some(ct), Some(cs)) = (t.coset, s.coset) {
                g.coset_chance = ct.2;
                g.coset_counts.0 += count(ct.0, ct.3);
                g.coset_counts.1 += ct.3 as usize;
                g.coset_per_seed.push((count(ct.0, ct.3), ct.3 as usize));
                g.coset_counts_shuffled.0 += count(cs.0, cs.3);
                g.coset_counts_shuffled.1 += cs.3 as usize;
                init_counts.0 += count(ct.1, ct.3);
                init_counts.1 += ct.3 as usize;
            }
            if let (Some(ut), Some(us)) = (t.coset_unseen, s.coset_unseen) {
                g.coset_unseen_counts.0 += count(ut.0, ut.1);
                g.coset_unseen_counts.1 += ut.1 as usize;
                g.coset_unseen_per_seed
                    .push((count(ut.0, ut.1), ut.1 as usize));
                g.coset_unseen_counts_shuffled.0 += count(us.0, us.1);
                g.coset_unseen_counts_shuffled.1 += us.1 as usize;
            }
        }
        let m: Vec<f64> = cols.iter().map(|c| mean(c)).collect();
        g.dominant_share = [m[0], m[1], m[2]];
        g.one_dim = [m[3], m[4], m[5]];
        g.diagonal = [m[6], m[7], m[8]];
        let rate = |(c, t): (usize, usize)| {
            if t == 0 {
                f64::NAN
            } else {
                c as f64 / t as f64
            }
        };
        g.coset = [
            rate(g.coset_counts),
            rate(g.coset_counts_shuffled),
            rate(init_counts),
        ];
        g.coset_unseen = [
            rate(g.coset_unseen_counts),
            rate(g.coset_unseen_counts_shuffled),
        ];
        g.dominant = names
            .iter()
            .map(|(k, c)| format!("{k} ({c})"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(g);
    }
    Ok(out)
}

/// Fewest pairs a rate is shown for; below it the table shows the count.
pub const MIN_PAIRS_FOR_RATE: usize = 30;

/// A pooled (right coset, pairs) as a rate, or as `c/t` below
/// [`MIN_PAIRS_FOR_RATE`] pairs.
fn rate_cell((c, t): (usize, usize)) -> String {
    if t == 0 {
        "--".into()
    } else if t < MIN_PAIRS_FOR_RATE {
        format!("{c}/{t}")
    } else {
        format!("{:.2}", c as f64 / t as f64)
    }
}

fn triple(v: [f64; 3]) -> String {
    if v.iter().any(|x| x.is_nan()) {
        return "--".into();
    }
    format!("{:.2} / {:.2} / {:.2}", v[0], v[1], v[2])
}

/// The nulls table (LaTeX) and its numbers (`nulls/<op>/...`).
///
/// # Errors
/// As [`compare`].
pub fn table(sweep: &SweepData, n: &mut Numbers) -> Result<String> {
    let groups = compare(sweep)?;
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{lllllll}\n\\toprule\n& & \\multicolumn{3}{c}{share of the non-trivial power: true / shuffled / untrained} & \\multicolumn{2}{c}{coset accuracy: true / shuffled / chance} \\\\\n\\cmidrule(lr){3-5}\\cmidrule(lr){6-7}\ngroup & dominant irrep (seeds) & that irrep & 1-dim irreps & neurons on $(\\rho,\\rho)$ & informative pairs & transpose unseen \\\\\n\\midrule\n",
    );
    // How far each arm memorised: a shuffled-label model is the null of a
    // memorised model only once it has memorised its table.
    use crate::results::columns::{bools, floats, ints, strings};
    let results = &sweep.results;
    let ops = strings(results, "op").map_err(ReportError::Data)?;
    let shuffled = bools(results, "shuffle_labels").map_err(ReportError::Data)?;
    // Older results tables (and the typed rows) may lack the final training
    // accuracy: its range is then "--".
    let train = floats(results, "final_train_accuracy").unwrap_or_else(|_| vec![None; ops.len()]);
    let memorised = ints(results, "memorised_epoch").map_err(ReportError::Data)?;
    for g in &groups {
        let k = |x: &str| format!("nulls/{}/{x}", g.op);
        for (arm, is_shuffled) in [("true", false), ("shuffled", true)] {
            let mine: Vec<usize> = (0..ops.len())
                .filter(|&i| ops[i] == g.op && shuffled[i] == is_shuffled)
                .collect();
            let done = mine.iter().filter(|&&i| memorised[i].is_some()).count();
            n.set(
                k(&format!("memorised_{arm}")),
                format!("{done}/{}", mine.len()),
            );
            let accs: Vec<f64> = mine.iter().filter_map(|&i| train[i]).collect();
            let (_, lo, hi) = crate::analysis::stats::mean_min_max(&accs);
            n.set(
                k(&format!("final_train_{arm}")),
                if accs.is_empty() {
                    "--".into()
                } else if format!("{lo:.2}") == format!("{hi:.2}") {
                    format!("{lo:.2}")
                } else {
                    format!("{lo:.2}--{hi:.2}")
                },
            );
        }
        for (name, v) in [
            ("dominant", g.dominant_share),
            ("one_dim", g.one_dim),
            ("diagonal", g.diagonal),
            ("coset", g.coset),
        ] {
            for (arm, x) in ["true", "shuffled", "init"].iter().zip(v) {
                n.num(k(&format!("{name}_{arm}")), x, 2);
            }
        }
        n.set(k("dominant_irreps"), tex(&g.dominant));
        n.num(k("coset_chance"), g.coset_chance, 2);
        n.set(k("seeds"), g.seeds.to_string());
        for (arm, (c, t)) in [
            ("true", g.coset_counts),
            ("shuffled", g.coset_counts_shuffled),
        ] {
            n.set(k(&format!("coset_correct_{arm}")), c.to_string());
            n.set(k(&format!("coset_pairs_{arm}")), t.to_string());
            let (above, below) = if g.coset_chance < 1.0 && t > 0 {
                let (below, above) = binomial_tails(c, t, g.coset_chance);
                (p_value(above), p_value(below))
            } else {
                ("--".to_string(), "--".to_string())
            };
            n.set(k(&format!("coset_p_above_{arm}")), above);
            n.set(k(&format!("coset_p_below_{arm}")), below);
        }
        let group = &g.group;
        let (coset, unseen) = if g.coset_chance >= 1.0 {
            ("-- (perfect)".to_string(), "--".to_string())
        } else {
            (
                format!(
                    "{} / {} / {:.2}",
                    rate_cell(g.coset_counts),
                    rate_cell(g.coset_counts_shuffled),
                    g.coset_chance
                ),
                format!(
                    "{} / {} ({} pairs)",
                    rate_cell(g.coset_unseen_counts),
                    rate_cell(g.coset_unseen_counts_shuffled),
                    g.coset_unseen_counts.1
                ),
            )
        };
        if g.coset_chance < 1.0 {
            seed_level_numbers(&k("coset"), &g.coset_per_seed, g.coset_chance, n);
            seed_level_numbers(
                &k("coset_unseen"),
                &g.coset_unseen_per_seed,
                g.coset_chance,
                n,
            );
        }
        n.num(k("coset_unseen_true"), g.coset_unseen[0], 2);
        n.num(k("coset_unseen_shuffled"), g.coset_unseen[1], 2);
        n.set(
            k("coset_unseen_correct"),
            g.coset_unseen_counts.0.to_string(),
        );
        n.set(k("coset_unseen_pairs"), g.coset_unseen_counts.1.to_string());
        if g.coset_chance < 1.0 && g.coset_unseen_counts.1 > 0 {
            let (c, t) = g.coset_unseen_counts;
            n.set(
                k("coset_unseen_p_above"),
                p_value(binomial_tails(c, t, g.coset_chance).1),
            );
        }
        let _ = writeln!(
            s,
            "{} & {} & {} & {} & {} & {} & {} \\\\",
            tex(group),
            tex(&g.dominant),
            triple(g.dominant_share),
            triple(g.one_dim),
            triple(g.diagonal),
            coset,
            unseen
        );
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::record::Record;
    use crate::results::rows::{AnalysisRow, GroupRow, ResultRow};
    use polars::prelude::*;

    /// A two-seed sweep of s3 whose numbers are known by hand.
    fn sweep() -> SweepData {
        let runs: Vec<ResultRow> = [
            ("t0", 0, false),
            ("s0", 0, true),
            ("t1", 1, false),
            ("s1", 1, true),
        ]
        .into_iter()
        .map(|(id, seed, shuffled)| ResultRow {
            run_id: id.into(),
            op: "s3".into(),
            seed,
            shuffle_labels: Some(shuffled),
            // One shuffled run never memorises.
            memorised_epoch: (id != "s1").then_some(60),
            ..Default::default()
        })
        .collect();
        let results = ResultRow::frame(&runs).unwrap();
        let analysis: Vec<AnalysisRow> = [
            ("t0", "[2,1]", (0.5, 0.05), (0.75, 1.0)),
            ("s0", "[2,1]", (0.1, 0.05), (0.5, 0.5)),
            ("t1", "[1,1,1]", (0.7, 0.06), (1.0, 0.5)),
            ("s1", "[2,1]", (0.1, 0.06), (0.25, 0.0)),
        ]
        .into_iter()
        .map(|(run, dominant, diagonal, (coset, unseen))| AnalysisRow {
            run_id: run.into(),
            dominant_irrep: dominant.into(),
            neurons_diagonal_share: diagonal.0,
            neurons_diagonal_share_init: diagonal.1,
            coset_accuracy: Some(coset),
            coset_accuracy_init: Some(0.5),
            coset_chance: Some(0.5),
            // Seed 1 has more pairs than seed 0: a pooled rate differs
            // from the mean of the seeds' rates.
            coset_pairs: Some(if run.ends_with('0') { 4 } else { 8 }),
            coset_accuracy_unseen: Some(unseen),
            coset_pairs_unseen: Some(if run.ends_with('0') { 2 } else { 6 }),
            ..Default::default()
        })
        .collect();
        let analysis = AnalysisRow::frame(&analysis).unwrap();
        // Spectra: [2,1] and sign per run, final and init.
        let mut id = Vec::new();
        let mut ck = Vec::new();
        let mut comp = Vec::new();
        let mut share = Vec::new();
        for (run, fin, init) in [
            ("t0", [0.9, 0.1], [0.8, 0.2]),
            ("s0", [0.7, 0.3], [0.8, 0.2]),
            ("t1", [0.4, 0.6], [0.85, 0.15]),
            ("s1", [0.8, 0.2], [0.85, 0.15]),
        ] {
            for (c, f, i) in [("[2,1]", fin[0], init[0]), ("[1,1,1]", fin[1], init[1])] {
                for (k, v) in [("final", f), ("init", i)] {
                    id.push(run);
                    ck.push(k);
                    comp.push(c);
                    share.push(v);
                }
            }
        }
        let len = id.len();
        let seed: Vec<u64> = id.iter().map(|r| u64::from(r.ends_with('1'))).collect();
        let spectra = df!(
            "run_id" => id,
            "op" => vec!["s3"; len],
            "seed" => seed,
            "source" => vec!["embed"; len],
            "checkpoint" => ck,
            "order" => vec!["identity"; len],
            "component" => comp,
            "real_dim" => vec![1u32; len],
            "share" => share,
            "expected" => vec![0.5; len],
        )
        .unwrap();
        SweepData {
            name: "shuffled-labels".into(),
            results,
            analysis: Some(analysis),
            spectra: Some(spectra),
            groups: Some(GroupRow::frame(&[GroupRow::of("s3").unwrap()]).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn comparisons_are_per_seed_on_the_same_irrep() {
        let g = &compare(&sweep()).unwrap()[0];
        assert_eq!(g.seeds, 2);
        assert_eq!(g.dominant, "[1,1,1] (1), [2,1] (1)");
        // Seed 0 on [2,1]: 0.9 / 0.7 / 0.8; seed 1 on sign: 0.6 / 0.2 / 0.15.
        let close = |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(
            close(g.dominant_share, [0.75, 0.45, 0.475]),
            "{:?}",
            g.dominant_share
        );
        // The one-dimensional irrep of S3 is the sign, [1,1,1].
        assert!(close(g.one_dim, [0.35, 0.25, 0.175]), "{:?}", g.one_dim);
        assert!(close(g.diagonal, [0.6, 0.1, 0.055]), "{:?}", g.diagonal);
        // Coset tests pooled over seeds: 3/4 + 8/8 = 11/12 (the mean of the
        // seeds' rates would be 0.875), shuffled 2/4 + 2/8 = 4/12.
        assert!(
            close(g.coset, [11.0 / 12.0, 4.0 / 12.0, 0.5]),
            "{:?}",
            g.coset
        );
        assert_eq!(
            (g.coset_counts, g.coset_counts_shuffled),
            ((11, 12), (4, 12))
        );
        // Transpose unseen: 2/2 + 3/6 = 5/8 (mean of rates 0.75); 1/2 + 0/6.
        assert!(close(
            [g.coset_unseen[0], g.coset_unseen[1], 0.0],
            [0.625, 0.125, 0.0]
        ));
        assert_eq!(g.coset_unseen_counts, (5, 8));
        assert_eq!(g.coset_unseen_counts_shuffled, (1, 8));
        let mut n = Numbers::default();
        let t = table(&sweep(), &mut n).unwrap();
        assert_eq!(n.get("nulls/s3/memorised_true"), Some("2/2"));
        assert_eq!(n.get("nulls/s3/memorised_shuffled"), Some("1/2"));
        assert_eq!(n.get("nulls/s3/final_train_shuffled"), Some("--"));
        assert!(
            t.contains("0.75 / 0.45 / 0.47") || t.contains("0.75 / 0.45 / 0.48"),
            "{t}"
        );
        // Under 30 pairs a cell is a count, never a rate.
        assert!(t.contains("11/12 / 4/12 / 0.50"), "{t}");
        assert!(t.contains("5/8 / 1/8 (8 pairs)"), "{t}");
        assert_eq!(n.get("nulls/s3/coset_correct_true"), Some("11"));
    }

    #[test]
    fn a_run_without_analysis_is_an_error_that_says_what_to_run() {
        let mut s = sweep();
        s.analysis = Some(s.analysis.unwrap().head(Some(3)));
        let e = compare(&s).unwrap_err().to_string();
        assert!(
            e.contains("s1") && e.contains("grokscope analyze --sweep"),
            "{e}"
        );
    }
}

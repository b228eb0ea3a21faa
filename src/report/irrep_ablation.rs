//! The causal check of the dominant irrep (the audit's part 5): in each
//! grokked run of `past-window`, every non-trivial real irrep's isotypic
//! component is removed from the embedding in turn and the model
//! re-evaluated (`ablations.parquet`, written by `grokscope analyze`).
//! Two nulls: the same runs' untrained models, and the shuffled-label runs
//! of `irrep-ablation-nulls` (same groups, seeds, splits and initial
//! weights), whose accuracy is read on the training pairs they memorised.
//! Only runs that sustain-grokked are read, with the nulls of their seeds.
//! Every comparison is per seed on that seed's dominant irrep, then
//! summarised over seeds (mean, min–max).

use super::data::{canonical, SweepData};
use super::latex::{tex, Numbers};
use super::{ReportError, Result};
use crate::analysis::stats::mean_min_max;
use crate::results::record::Keyed;
use crate::results::rows::AblationRow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A sweep's ablation rows by (canonical op, seed).
fn by_run(sweep: &SweepData) -> Result<Runs> {
    let df = sweep.need(&sweep.ablations, "ablations")?;
    let rows = Keyed::<AblationRow>::read_all(df)
        .map_err(|e| ReportError::Data(format!("{}: {e}", sweep.location().display())))?;
    let canonical: BTreeMap<String, String> = sweep
        .runs()?
        .into_iter()
        .map(|r| (r.run_id, r.canonical_op))
        .collect();
    let mut out = Runs::new();
    for k in rows {
        let op = canonical.get(&k.run_id).cloned().unwrap_or(k.op);
        out.entry((op, k.seed)).or_default().push(k.row);
    }
    Ok(out)
}

/// Ablation rows by (canonical operation, seed).
type Runs = BTreeMap<(String, u64), Vec<AblationRow>>;

impl AblationRow {
    /// Training accuracy if `train`, else test accuracy.
    fn accuracy(&self, train: bool) -> f64 {
        if train {
            self.train_accuracy
        } else {
            self.test_accuracy
        }
    }
}

fn find<'a>(rows: &'a [AblationRow], model: &str, irrep: &str) -> Option<&'a AblationRow> {
    rows.iter().find(|r| r.model == model && r.irrep == irrep)
}

fn cell(v: &[f64]) -> String {
    if v.is_empty() {
        return "--".into();
    }
    let (mean, lo, hi) = mean_min_max(v);
    if v.len() == 1 || hi - lo < 0.0005 {
        format!("{mean:.3}")
    } else {
        format!("{mean:.3} ({lo:.2}--{hi:.2})")
    }
}

/// The table (one block per group, one row per irrep) and the numbers the
/// paper cites (`irrepablation/<op>/...`).
///
/// # Errors
/// A sweep without its ablations or analysis table.
pub fn table(grokked: &SweepData, shuffled: &SweepData, n: &mut Numbers) -> Result<String> {
    let trained = by_run(grokked)?;
    let nulls = by_run(shuffled)?;
    let dominant: BTreeMap<(String, u64), String> = {
        let canonical: BTreeMap<String, String> = grokked
            .runs()?
            .into_iter()
            .map(|r| (r.run_id, r.canonical_op))
            .collect();
        grokked
            .analysis_rows()?
            .into_iter()
            .map(|a| {
                let op = canonical.get(&a.run_id).cloned().unwrap_or(a.op);
                ((op, a.seed), a.dominant_irrep)
            })
            .collect()
    };
    let grokked_runs: std::collections::BTreeSet<(String, u64)> = grokked
        .sustained_outcomes()?
        .into_iter()
        .filter(|o| o.sustained.epoch().is_some())
        .map(|o| (canonical(&o.op), o.seed))
        .collect();
    let mut ops: Vec<String> = trained.keys().map(|k| k.0.clone()).collect();
    ops.dedup();
    let mut t = String::from(
        "\\begin{tabular}{llrrrrr}\n\\toprule\n\
         & & & & \\multicolumn{2}{c}{test accuracy} & train accuracy \\\\\n\
         \\cmidrule(lr){5-6}\\cmidrule(lr){7-7}\n\
         group & irrep removed & dim & dominant & grokked & untrained & shuffled labels \\\\\n\\midrule\n",
    );
    for (gi, op) in ops.iter().enumerate() {
        // Only the runs that sustain-grokked; the nulls of the same seeds.
        let seeds: Vec<u64> = trained
            .keys()
            .filter(|k| &k.0 == op && grokked_runs.contains(k))
            .map(|k| k.1)
            .collect();
        if seeds.is_empty() {
            continue;
        }
        let runs = |m: &Runs, s: u64| m.get(&(op.clone(), s)).cloned().unwrap_or_default();
        let dom = |s: u64| dominant.get(&(op.clone(), s)).cloned().unwrap_or_default();
        // One accuracy per seed: `model`'s in `m` with `irrep(seed)` removed.
        let over_seeds = |m: &Runs, model: &str, irrep: &dyn Fn(u64) -> String, train: bool| {
            seeds
                .iter()
                .filter_map(|&s| find(&runs(m, s), model, &irrep(s)).map(|r| r.accuracy(train)))
                .collect::<Vec<f64>>()
        };
        // The irreps in the group's order, as the first run lists them.
        let irreps: Vec<(String, u32)> = runs(&trained, seeds[0])
            .iter()
            .filter(|r| r.model == "trained")
            .map(|r| (r.irrep.clone(), r.real_dim))
            .collect();
        for (irrep, dim) in &irreps {
            let this = |_: u64| irrep.clone();
            let dominant_in = seeds.iter().filter(|&&s| &dom(s) == irrep).count();
            let (first, none) = (irrep == &irreps[0].0, irrep == "none");
            let _ = writeln!(
                t,
                "{} & {} & {} & {} & {} & {} & {} \\\\",
                if first {
                    format!("\\op{{{}}}", tex(op))
                } else {
                    String::new()
                },
                if none {
                    "none".to_string()
                } else {
                    format!("${irrep}$")
                },
                if none { "--".into() } else { dim.to_string() },
                if none {
                    String::new()
                } else {
                    format!("{dominant_in}/{}", seeds.len())
                },
                cell(&over_seeds(&trained, "trained", &this, false)),
                cell(&over_seeds(&trained, "init", &this, false)),
                cell(&over_seeds(&nulls, "trained", &this, true)),
            );
        }
        if gi + 1 < ops.len() {
            t.push_str("\\midrule\n");
        }
        // Per seed, on that seed's dominant irrep.
        let none = |_: u64| "none".to_string();
        for (name, values) in [
            ("none_test", over_seeds(&trained, "trained", &none, false)),
            (
                "dominant_test",
                over_seeds(&trained, "trained", &dom, false),
            ),
            (
                "shuffled_none_train",
                over_seeds(&nulls, "trained", &none, true),
            ),
            (
                "shuffled_dominant_train",
                over_seeds(&nulls, "trained", &dom, true),
            ),
        ] {
            let (mean, lo, hi) = mean_min_max(&values);
            n.num(format!("irrepablation/{op}/{name}"), mean, 3);
            n.set(
                format!("irrepablation/{op}/{name}_range"),
                format!("{lo:.2}--{hi:.2}"),
            );
        }
        // The lowest test accuracy any other irrep's removal leaves.
        let others: Vec<f64> = seeds
            .iter()
            .flat_map(|&s| {
                let d = dom(s);
                runs(&trained, s)
                    .into_iter()
                    .filter(move |r| r.model == "trained" && r.irrep != "none" && r.irrep != d)
                    .map(|r| r.test_accuracy)
            })
            .collect();
        n.num(
            format!("irrepablation/{op}/other_lowest_test"),
            others.iter().copied().fold(f64::INFINITY, f64::min),
            3,
        );
        // The largest change any removal makes to the untrained model.
        let init_change = seeds
            .iter()
            .flat_map(|&s| {
                let rows = runs(&trained, s);
                let base = find(&rows, "init", "none").map_or(f64::NAN, |r| r.test_accuracy);
                rows.into_iter()
                    .filter(|r| r.model == "init")
                    .map(move |r| (r.test_accuracy - base).abs())
                    .collect::<Vec<_>>()
            })
            .fold(0.0, f64::max);
        n.num(
            format!("irrepablation/{op}/init_largest_change"),
            init_change,
            3,
        );
        n.set(format!("irrepablation/{op}/seeds"), seeds.len().to_string());
        let doms: Vec<String> = seeds.iter().map(|&s| dom(s)).collect();
        let mut distinct = doms.clone();
        distinct.sort();
        distinct.dedup();
        n.set(
            format!("irrepablation/{op}/dominant"),
            distinct
                .iter()
                .map(|d| {
                    format!(
                        "${d}$ ({} of {})",
                        doms.iter().filter(|x| *x == d).count(),
                        doms.len()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    t.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::record::{Cell, Record};
    use crate::results::rows::{AnalysisRow, ResultRow};
    use polars::prelude::DataFrame;

    /// A sweep of two A5 runs (seeds 0 and 1) that sustain-grokked, with
    /// the given dominant irreps and ablation rows (model, irrep, train,
    /// test) per seed.
    fn sweep(dominant: [&str; 2], rows: [&[(&str, &str, f64, f64)]; 2]) -> SweepData {
        let runs: Vec<ResultRow> = (0..2u64)
            .map(|s| ResultRow {
                run_id: format!("r{s}"),
                op: "alternating:5".into(),
                canonical_op: "alternating:5".into(),
                seed: s,
                epochs: 1000,
                sustained_grok_epoch: Some(500),
                last_epoch: Some(1000),
                ..Default::default()
            })
            .collect();
        let analysis: Vec<AnalysisRow> = (0..2u64)
            .map(|s| AnalysisRow {
                run_id: format!("r{s}"),
                op: "alternating:5".into(),
                seed: s,
                dominant_irrep: dominant[s as usize].into(),
                ..Default::default()
            })
            .collect();
        let (mut ids, mut seeds, mut abl) = (Vec::new(), Vec::new(), Vec::new());
        for (s, seed_rows) in rows.iter().enumerate() {
            for &(model, irrep, train, test) in *seed_rows {
                ids.push(format!("r{s}"));
                seeds.push(s as u64);
                abl.push(AblationRow {
                    model: model.into(),
                    irrep: irrep.into(),
                    real_dim: if irrep == "none" { 0 } else { 3 },
                    share: 0.5,
                    train_accuracy: train,
                    test_accuracy: test,
                });
            }
        }
        let mut df: DataFrame = AblationRow::frame(&abl).unwrap();
        let ops = vec!["alternating:5".to_string(); ids.len()];
        for (i, c) in [
            String::column("run_id", ids),
            String::column("op", ops),
            u64::column("seed", seeds),
        ]
        .into_iter()
        .enumerate()
        {
            df.insert_column(i, c).unwrap();
        }
        SweepData {
            name: "t".into(),
            results: ResultRow::frame(&runs).unwrap(),
            analysis: Some(AnalysisRow::frame(&analysis).unwrap()),
            ablations: Some(df),
            ..Default::default()
        }
    }

    #[test]
    fn each_seed_is_read_on_its_own_dominant_irrep() {
        let grokked = sweep(
            ["3a", "3b"],
            [
                &[
                    ("trained", "none", 1.0, 1.0),
                    ("trained", "3a", 0.5, 0.1),
                    ("trained", "3b", 0.9, 0.8),
                    ("init", "none", 0.02, 0.02),
                    ("init", "3a", 0.02, 0.03),
                    ("init", "3b", 0.02, 0.02),
                ],
                &[
                    ("trained", "none", 1.0, 0.98),
                    ("trained", "3a", 0.95, 0.9),
                    ("trained", "3b", 0.4, 0.2),
                    ("init", "none", 0.02, 0.02),
                    ("init", "3a", 0.02, 0.01),
                    ("init", "3b", 0.02, 0.02),
                ],
            ],
        );
        let shuffled = sweep(
            ["3b", "3a"],
            [
                &[
                    ("trained", "none", 1.0, 0.0),
                    ("trained", "3a", 0.4, 0.0),
                    ("trained", "3b", 0.3, 0.0),
                ],
                &[
                    ("trained", "none", 0.96, 0.0),
                    ("trained", "3a", 0.5, 0.0),
                    ("trained", "3b", 0.35, 0.0),
                ],
            ],
        );
        let mut n = Numbers::default();
        let t = table(&grokked, &shuffled, &mut n).unwrap();
        let get = |k: &str| {
            n.get(&format!("irrepablation/alternating:5/{k}"))
                .unwrap()
                .to_string()
        };
        // Seed 0 loses 3a (0.1), seed 1 loses 3b (0.2): mean 0.15.
        assert_eq!(get("dominant_test"), "0.150");
        assert_eq!(get("dominant_test_range"), "0.10--0.20");
        // The other irrep: seed 0 without 3b 0.8, seed 1 without 3a 0.9.
        assert_eq!(get("other_lowest_test"), "0.800");
        // The shuffled runs on the grokked runs' dominant irreps (their own
        // dominant irreps are not read): 0.4 (3a, seed 0), 0.35 (3b, seed 1).
        assert_eq!(get("shuffled_dominant_train"), "0.375");
        assert_eq!(get("shuffled_none_train"), "0.980");
        assert_eq!(get("init_largest_change"), "0.010");
        assert_eq!(get("dominant"), "$3a$ (1 of 2), $3b$ (1 of 2)");
        // One block: the unablated row and one per irrep.
        assert!(t.contains("$3a$ & 3 & 1/2 & 0.500 (0.10--0.90)"), "{t}");
    }
}

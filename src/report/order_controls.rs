//! Two checks of the long-budget verdict on A5 and S5 (the audit's part 5):
//!
//! - **Order-matched cyclic controls** (`cyclic-controls`): Z/60 and Z/120
//!   at the suite's settings beside A5 (`long-budget-a5`, order 60) and S5
//!   (`long-budget-s5`, order 120), so "A5 fails only for budget" is read
//!   against a group of the same order. Seeds are the unit: the exact
//!   rank test counts, over every split of the pooled runs, how often the
//!   cyclic runs' sustained grok epochs are at least as far below the
//!   non-abelian ones as observed: Gehan's exact two-sided test, runs
//!   that did not grok censored at their last epoch.
//! - **Past the window** (`past-window`): the grokked A5 and S5 runs
//!   retrained to twice their sustained grok epoch without stopping, their
//!   relapses (dips below 0.99 after the sustained epoch, recounted from
//!   the curves) and lowest test accuracy after it.

use super::data::{canonical, SweepData};
use super::latex::{kilo, tex, Numbers};
use super::outcome::Grok;
use super::Result;
use crate::analysis::stats::median;
use crate::analysis::survival::gehan;
use crate::grok::relapses;
use std::fmt::Write as _;

/// One operation's runs in a sweep as (epoch, grokked): the sustained grok
/// epoch, or the last epoch trained for a run that did not grok.
fn grok_times(sweep: &SweepData, op: &str) -> Result<Vec<(f64, bool)>> {
    Ok(sweep
        .sustained_outcomes()?
        .into_iter()
        .filter(|o| canonical(&o.op) == op)
        .filter_map(|o| match o.sustained {
            Grok::At(e) => Some((f64::from(e), true)),
            Grok::NotBy(last) => Some((f64::from(last), false)),
            Grok::NotRecorded => None,
        })
        .collect())
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.is_empty() {
        "--".into()
    } else {
        format!("{lo:.0}--{hi:.0}")
    }
}

/// The order-matched table: each cyclic group beside the non-abelian
/// group of its order, with the numbers the paper cites
/// (`ordermatched/<op>/...`, `ordermatched/<order>/...`).
///
/// # Errors
/// An unreadable results table.
pub fn controls_table(
    cyclic: &SweepData,
    pairs: &[(&SweepData, &str, &str)],
    n: &mut Numbers,
) -> Result<String> {
    let mut t = String::from(
        "\\begin{tabular}{llrrrr}\n\\toprule\n$|G|$ & group & budget & grokked & median & range \\\\\n\\midrule\n",
    );
    for (i, &(sweep, op, cyclic_op)) in pairs.iter().enumerate() {
        let (ct, gt) = (grok_times(cyclic, cyclic_op)?, grok_times(sweep, op)?);
        let grokked =
            |t: &[(f64, bool)]| -> Vec<f64> { t.iter().filter(|x| x.1).map(|x| x.0).collect() };
        let (c, c_runs, g, g_runs) = (grokked(&ct), ct.len(), grokked(&gt), gt.len());
        let budget = |s: &SweepData, op: &str| -> Result<f64> {
            Ok(s.runs()?
                .iter()
                .filter(|r| r.canonical_op == op)
                .map(|r| f64::from(r.epochs))
                .fold(0.0, f64::max))
        };
        let order = crate::groups::Operation::parse(op)
            .map(|o| o.order())
            .unwrap_or(0);
        for (name, epochs, runs, b) in [
            (cyclic_op, &c, c_runs, budget(cyclic, cyclic_op)?),
            (op, &g, g_runs, budget(sweep, op)?),
        ] {
            let _ = writeln!(
                t,
                "{order} & \\op{{{}}} & {} & {}/{} & {} & {} \\\\",
                tex(name),
                kilo(b),
                epochs.len(),
                runs,
                if epochs.is_empty() {
                    "--".into()
                } else {
                    format!("{:.0}", median(epochs))
                },
                range(epochs)
            );
            n.set(
                format!("ordermatched/{name}/grokked"),
                format!("{}/{runs}", epochs.len()),
            );
            n.num(format!("ordermatched/{name}/median"), median(epochs), 0);
            n.set(format!("ordermatched/{name}/range"), range(epochs));
        }
        let ratio = median(&g) / median(&c);
        n.num(format!("ordermatched/{order}/ratio"), ratio, 0);
        // Censored non-abelian runs count as later than every cyclic grok
        // only if censored after it.
        let separated = ct.iter().all(|c| c.1 && gt.iter().all(|g| g.0 > c.0));
        n.set(
            format!("ordermatched/{order}/order_of_runs"),
            if separated {
                "every cyclic run groks before every non-abelian one"
            } else {
                "the cyclic and non-abelian runs overlap"
            },
        );
        if let Some(test) = gehan(&gt, &ct) {
            n.num(format!("ordermatched/{order}/gehan_p"), test.p, 3);
            n.set(
                format!("ordermatched/{order}/gehan_w"),
                test.statistic.to_string(),
            );
        }
        if i + 1 < pairs.len() {
            t.push_str("\\midrule\n");
        }
    }
    t.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(t)
}

/// One model's retrained runs and the stopped sweeps they retrain.
pub struct PastWindow<'a> {
    /// The model, as the table's first column names it.
    pub model: &'a str,
    /// The model in number keys (`pastwindow/<key>/<op>/grokked`).
    pub key: &'a str,
    /// The sweep of retrained runs.
    pub retrained: &'a SweepData,
    /// The sweeps whose stopped runs they retrain (matched by operation and seed).
    pub stopped: Vec<&'a SweepData>,
}

/// The past-the-window table: one row per run, with the numbers the paper
/// cites (`pastwindow/...`).
///
/// # Errors
/// An unreadable results or curves table.
pub fn past_window_table(sets: &[PastWindow], n: &mut Numbers) -> Result<String> {
    let mut t = String::from(
        "\\begin{tabular}{llrrrrrr}\n\\toprule\nmodel & group & seed & grok (stopped run) & grok here & trained to & relapses & lowest after grok \\\\\n\\midrule\n",
    );
    let (mut runs, mut with_relapse, mut total_relapses) = (0, 0, 0);
    let mut lowest_all = f64::INFINITY;
    let (mut reproduced, mut grokked) = (0, 0);
    // Runs that grokked when stopped and not when retrained.
    let mut not_regrokked = Vec::new();
    // Retrained runs that sustain-grokked, of all, per model and operation.
    let mut per_op: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for (si, set) in sets.iter().enumerate() {
        let (sweep, label) = (set.retrained, set.model);
        let curves = sweep.curve_rows()?;
        let mut stopped_groks = std::collections::BTreeMap::new();
        for o in set
            .stopped
            .iter()
            .map(|s| s.sustained_outcomes())
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
        {
            stopped_groks.insert((canonical(&o.op), o.seed), o.sustained.epoch());
        }
        let mut first_row = true;
        let mut rows: Vec<_> = sweep
            .runs()?
            .into_iter()
            .zip(sweep.sustained_outcomes()?)
            .collect();
        rows.sort_by(|a, b| (&a.0.canonical_op, a.0.seed).cmp(&(&b.0.canonical_op, b.0.seed)));
        for (r, o) in rows {
            let series: Vec<(u32, f64)> = curves
                .iter()
                .filter(|c| {
                    c.run_id == r.run_id && c.row.split == "test" && c.row.metric == "accuracy"
                })
                .map(|c| (c.row.epoch, c.row.value))
                .collect();
            let before = stopped_groks
                .get(&(r.canonical_op.clone(), r.seed))
                .copied()
                .flatten();
            let here = o.sustained.epoch();
            let (dips, lowest) = match here {
                Some(e) => {
                    let lowest = series
                        .iter()
                        .filter(|(x, _)| *x > e)
                        .map(|&(_, a)| a)
                        .fold(f64::INFINITY, f64::min);
                    (Some(relapses(&series, e).0), lowest)
                }
                None => (None, f64::NAN),
            };
            runs += 1;
            if here.is_some() && here == before {
                reproduced += 1;
            }
            grokked += usize::from(here.is_some());
            let tally = per_op
                .entry(format!("pastwindow/{}/{}/grokked", set.key, r.canonical_op))
                .or_insert((0, 0));
            tally.0 += usize::from(here.is_some());
            tally.1 += 1;
            // R3's long-budget rule reads groks within 30 000 epochs.
            let within = per_op
                .entry(format!(
                    "pastwindow/{}/{}/grokked_by_30000",
                    set.key, r.canonical_op
                ))
                .or_insert((0, 0));
            within.0 += usize::from(here.is_some_and(|e| e <= 30_000));
            within.1 += 1;
            if let (Some(b), None) = (before, here) {
                not_regrokked.push(format!(
                    "\\op{{{}}} seed {} ({label}; stopped run: {b}; retrained to {})",
                    tex(&r.canonical_op),
                    r.seed,
                    r.last_epoch.unwrap_or(r.epochs)
                ));
            }
            if let Some(d) = dips {
                total_relapses += d;
                with_relapse += usize::from(d > 0);
                lowest_all = lowest_all.min(lowest);
            }
            let cell = |e: Option<u32>| e.map_or("--".to_string(), |e| e.to_string());
            let _ = writeln!(
                t,
                "{} & \\op{{{}}} & {} & {} & {} & {} & {} & {} \\\\",
                if first_row { label } else { "" },
                tex(&r.canonical_op),
                r.seed,
                cell(before),
                cell(here),
                r.last_epoch.unwrap_or(r.epochs),
                dips.map_or("--".into(), |d| d.to_string()),
                if lowest.is_finite() {
                    format!("{lowest:.3}")
                } else {
                    "--".into()
                }
            );
            first_row = false;
        }
        if si + 1 < sets.len() {
            t.push_str("\\midrule\n");
        }
    }
    t.push_str("\\bottomrule\n\\end{tabular}\n");
    for (key, (k, of)) in per_op {
        n.set(key, format!("{k} of {of}"));
    }
    n.set("pastwindow/runs", runs.to_string());
    n.set("pastwindow/grokked", grokked.to_string());
    n.set(
        "pastwindow/not_regrokked",
        crate::report::latex::list_or_none(&not_regrokked),
    );
    n.set("pastwindow/reproduced", reproduced.to_string());
    n.set("pastwindow/with_relapse", with_relapse.to_string());
    n.set("pastwindow/relapses", total_relapses.to_string());
    n.num("pastwindow/lowest", lowest_all, 3);
    Ok(t)
}

/// The numbers of one sweep's runs read one by one (`<prefix>/...`): when
/// each sustain-grokked (or "not by" its last epoch), its final test
/// accuracy, and its embedding's dominant irrep with that irrep's share,
/// trained and untrained. For sweeps of a few runs (S5 at Chughtai et
/// al.'s settings with a float64 loss).
///
/// # Errors
/// A sweep without its analysis table, or unreadable results.
pub fn per_run_numbers(sweep: &SweepData, prefix: &str, n: &mut Numbers) -> Result<()> {
    let analysis = sweep.analysis_rows()?;
    let runs = sweep.runs()?;
    let outcomes = sweep.sustained_outcomes()?;
    let ablations = match &sweep.ablations {
        Some(df) => {
            crate::results::record::Keyed::<crate::results::rows::AblationRow>::read_all(df)
                .map_err(|e| {
                    super::ReportError::Data(format!("{}: {e}", sweep.location().display()))
                })?
        }
        None => Vec::new(),
    };
    let mut groks = Vec::new();
    for (r, o) in runs.iter().zip(&outcomes) {
        let a = analysis.iter().find(|a| a.run_id == r.run_id);
        let seed = format!("{prefix}/seed{}", r.seed);
        n.set(format!("{seed}/grok"), o.sustained.to_string());
        n.num(
            format!("{seed}/final_test"),
            r.final_test_accuracy.unwrap_or(f64::NAN),
            3,
        );
        if let Some(a) = a {
            if let Some(removed) = ablations.iter().find(|k| {
                k.run_id == r.run_id && k.row.model == "trained" && k.row.irrep == a.dominant_irrep
            }) {
                n.num(
                    format!("{seed}/without_dominant_test"),
                    removed.row.test_accuracy,
                    3,
                );
            }
            n.set(
                format!("{seed}/dominant"),
                format!("${}$", a.dominant_irrep),
            );
            n.num(format!("{seed}/dominant_share"), a.dominant_share, 2);
            n.num(
                format!("{seed}/dominant_share_init"),
                a.dominant_share_init,
                2,
            );
        }
        groks.push(o.sustained.epoch().is_some());
    }
    n.set(
        format!("{prefix}/grokked"),
        format!(
            "{} of {}",
            groks.iter().filter(|g| **g).count(),
            groks.len()
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::record::{Cell, Record};
    use crate::results::rows::{MetricPoint, ResultRow};

    /// (seed, sustained grok epoch, last epoch, test accuracy curve).
    type Run<'a> = (u64, Option<u32>, u32, &'a [(u32, f64)]);

    /// A sweep of A5 runs.
    fn sweep(runs: &[Run]) -> SweepData {
        let rows: Vec<ResultRow> = runs
            .iter()
            .map(|&(seed, grok, last, _)| ResultRow {
                run_id: format!("r{seed}"),
                op: "alternating:5".into(),
                canonical_op: "alternating:5".into(),
                seed,
                epochs: last,
                sustained_grok_epoch: grok,
                last_epoch: Some(last),
                ..Default::default()
            })
            .collect();
        let (mut ids, mut points) = (Vec::new(), Vec::new());
        for &(seed, _, _, curve) in runs {
            for &(epoch, value) in curve {
                ids.push(format!("r{seed}"));
                points.push(MetricPoint {
                    epoch,
                    split: "test".into(),
                    metric: "accuracy".into(),
                    value,
                });
            }
        }
        let mut curves = MetricPoint::frame(&points).unwrap();
        curves
            .insert_column(0, String::column("run_id", ids))
            .unwrap();
        SweepData {
            name: "t".into(),
            results: ResultRow::frame(&rows).unwrap(),
            curves: Some(curves),
            ..Default::default()
        }
    }

    #[test]
    fn relapses_are_dips_after_the_retrained_runs_own_grok() {
        let stopped = sweep(&[(0, Some(100), 600, &[]), (1, Some(200), 700, &[])]);
        // Seed 0 groks at 100 as before, then dips twice (one dip lasts two
        // evaluations); seed 1 never groks when retrained.
        let curve0 = [
            (0, 0.1),
            (100, 1.0),
            (200, 0.9),
            (300, 0.95),
            (400, 1.0),
            (500, 0.98),
            (600, 1.0),
        ];
        let retrained = sweep(&[
            (0, Some(100), 600, &curve0),
            (1, None, 400, &[(0, 0.1), (400, 0.9)]),
        ]);
        let mut n = Numbers::default();
        let set = PastWindow {
            model: "suite",
            key: "suite",
            retrained: &retrained,
            stopped: vec![&stopped],
        };
        let t = past_window_table(&[set], &mut n).unwrap();
        let get = |k: &str| n.get(&format!("pastwindow/{k}")).unwrap().to_string();
        assert_eq!(get("runs"), "2");
        assert_eq!(get("grokked"), "1");
        assert_eq!(get("suite/alternating:5/grokked"), "1 of 2");
        assert_eq!(get("reproduced"), "1");
        assert_eq!(get("relapses"), "2");
        assert_eq!(get("with_relapse"), "1");
        assert_eq!(get("lowest"), "0.900");
        assert!(get("not_regrokked").contains("seed 1 (suite; stopped run: 200; retrained to 400)"));
        assert!(
            t.contains("suite & \\op{alternating:5} & 0 & 100 & 100 & 600 & 2 & 0.900"),
            "{t}"
        );
        assert!(
            t.contains(" & \\op{alternating:5} & 1 & 200 & -- & 400 & -- & --"),
            "{t}"
        );
    }

    #[test]
    fn ranges_are_whole_epochs() {
        assert_eq!(range(&[9450.0, 24490.0, 14100.0]), "9450--24490");
        assert_eq!(range(&[]), "--");
    }
}

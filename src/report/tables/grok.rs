//! The grok tables of the suite and the controls (one row per operation),
//! the per-operation numbers beside them, and the informative test pairs
//! pooled over seeds against chance.

use crate::analysis::stats::{binomial_tails, mean_sd, wilson};
use crate::report::claims::ops::{op_stats_sustained, OpStats};
use crate::report::data::{group_of, SweepData};
use crate::report::experiments::Experiments;
use crate::report::latex::{epoch_cell, p_value, seed_level_numbers, tex, Numbers};
use crate::report::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Fewer informative test pairs than this (pooled over seeds) are too few
/// to read an accuracy from: the table prints the count, not the rate.
pub const MIN_INFORMATIVE_PAIRS: usize = 30;

/// Per operation of a sweep, informative test pairs answered correctly and
/// informative test pairs, pooled over the runs (each run's accuracy times
/// its pair count, rounded).
/// Per operation, (correct, pairs) of the informative test pairs.
pub(crate) type Pooled = BTreeMap<String, (usize, usize)>;

pub(crate) fn pooled_counts(sweep: &SweepData) -> Result<Pooled> {
    Ok(per_seed_counts(sweep)?
        .into_iter()
        .map(|(op, seeds)| {
            let sum = seeds
                .iter()
                .fold((0, 0), |(c, t), &(dc, dt)| (c + dc, t + dt));
            (op, sum)
        })
        .collect())
}

/// Per operation, each run's (correct, pairs) of the informative test pairs.
pub(crate) fn per_seed_counts(sweep: &SweepData) -> Result<BTreeMap<String, Vec<(usize, usize)>>> {
    let mut per_op: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for r in sweep.runs()? {
        let Some(a) = r.final_informative_accuracy else {
            continue;
        };
        let p = r.informative_pairs as usize;
        per_op
            .entry(r.op)
            .or_default()
            .push(((a * p as f64).round() as usize, p));
    }
    Ok(per_op)
}

/// The pooled informative cell: `k/n` and the rate with its Wilson 95%
/// interval, or `k/n, too few` under [`MIN_INFORMATIVE_PAIRS`].
pub(crate) fn pooled_cell(correct: usize, total: usize) -> String {
    if total < MIN_INFORMATIVE_PAIRS {
        return format!("{correct}/{total}, too few");
    }
    let (lo, hi) = wilson(correct, total);
    format!(
        "{correct}/{total}: {:.3} [{lo:.3}, {hi:.3}]",
        correct as f64 / total as f64
    )
}

/// The grok table of a sweep as LaTeX (one row per operation): grok epochs
/// of `stats` (sustained, from [`op_stats_sustained`]), first crossings of
/// 0.99 beside them, final test accuracy, and the
/// informative test pairs pooled over seeds with a Wilson interval.
pub(crate) fn grok_table(stats: &[OpStats], pooled: &Pooled) -> String {
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{lrllllrl}\n\\toprule\noperation & $|G|$ & group & memorised & grokked (sustained) & first crossing & test acc. & informative: correct/pairs, acc. [95\\% CI] \\\\\n\\midrule\n",
    );
    for st in stats {
        let group = &st.group;
        let kind = if st.abelian { "" } else { " (n.a.)" };
        let (correct, total) = pooled.get(&st.op).copied().unwrap_or_default();
        let _ = writeln!(
            s,
            "\\texttt{{{}}} & {} & {}{} & {} & {} & {} & {:.3} & {} \\\\",
            tex(&st.op),
            st.order,
            tex(group),
            kind,
            tex(&epoch_cell(&st.memorised, "never")),
            tex(&epoch_cell(&st.grokked, "not grokked")),
            tex(&epoch_cell(&st.first_crossing, "none")),
            mean_sd(&st.test_accuracy).0,
            tex(&pooled_cell(correct, total)),
        );
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}

/// The columns of the suite's grok summary.
pub const SUMMARY_COLUMNS: [&str; 7] = [
    "operation",
    "|G|",
    "memorised",
    "grokked (sustained)",
    "first crossing",
    "test acc",
    "informative",
];

/// The suite's grok summary, one row of [`SUMMARY_COLUMNS`] cells per
/// operation.
///
/// # Errors
/// No suite results.
pub fn grok_summary_rows(exp: &Experiments) -> Result<Vec<Vec<String>>> {
    Ok(op_stats_sustained(exp.suite()?)?
        .iter()
        .map(|st| {
            vec![
                st.op.clone(),
                st.order.to_string(),
                epoch_cell(&st.memorised, "never"),
                epoch_cell(&st.grokked, "not grokked"),
                epoch_cell(&st.first_crossing, "none"),
                format!("{:.3}", mean_sd(&st.test_accuracy).0),
                format!("{:.3}", mean_sd(&st.informative_accuracy).0),
            ]
        })
        .collect())
}

/// A plain-text grok table of the suite for the terminal (a notebook shows
/// [`grok_summary_rows`] as an HTML table).
///
/// # Errors
/// No suite results.
pub fn grok_summary(exp: &Experiments) -> Result<String> {
    let line = |c: &[&str]| {
        format!(
            "{:<14} {:>5}  {:<16} {:<22} {:<22} {:>9} {:>12}\n",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6]
        )
    };
    let mut s = line(&SUMMARY_COLUMNS);
    for row in grok_summary_rows(exp)? {
        s.push_str(&line(&row.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    Ok(s)
}

/// Per operation of a sweep: `<sweep>/<op>/grokked_runs`, `grok`,
/// `memorised`, `test` and `informative` (final accuracies, mean over seeds).
pub(crate) fn op_numbers(sweep: &str, stats: &[OpStats], n: &mut Numbers) {
    for st in stats {
        let k = |x: &str| format!("{sweep}/{}/{x}", st.op);
        n.set(k("grokked_runs"), format!("{}/{}", st.n_grokked(), st.n()));
        let crossed = st.first_crossing.iter().flatten().count();
        n.set(k("crossed_runs"), format!("{crossed}/{}", st.n()));
        n.set(
            k("first_crossing"),
            tex(&epoch_cell(&st.first_crossing, "none")),
        );
        n.set(k("grok"), tex(&epoch_cell(&st.grokked, "not grokked")));
        n.set(k("memorised"), tex(&epoch_cell(&st.memorised, "never")));
        n.num(k("test"), mean_sd(&st.test_accuracy).0, 3);
        n.num(k("informative"), mean_sd(&st.informative_accuracy).0, 3);
    }
}

/// Pooled informative test accuracy per operation of a sweep against
/// chance (1/|G|), with one-sided binomial tests both ways:
/// `<sweep>/<op>/inf_correct`, `inf_pairs`, `inf_rate` (with its Wilson
/// interval `inf_ci`), `inf_p_below`, `inf_p_above`; and beside them the
/// seed-level reading ([`seed_level_numbers`], `inf_seed_range`, ...).
pub(crate) fn pooled_informative(
    sweep: &SweepData,
    pooled: &Pooled,
    n: &mut Numbers,
) -> Result<()> {
    let groups = sweep.groups()?;
    let per_seed = per_seed_counts(sweep)?;
    let sweep = &sweep.name;
    for (o, &(correct, total)) in pooled {
        let order = group_of(&groups, o)?.order;
        if let Some(seeds) = per_seed.get(o) {
            seed_level_numbers(
                &format!("{sweep}/{o}/inf"),
                seeds,
                1.0 / f64::from(order),
                n,
            );
        }
        let (below, above) = binomial_tails(correct, total, 1.0 / order as f64);
        let k = |x: &str| format!("{sweep}/{o}/{x}");
        let (lo, hi) = wilson(correct, total);
        n.num(k("inf_rate"), correct as f64 / total.max(1) as f64, 3);
        n.set(k("inf_ci"), format!("[{lo:.3}, {hi:.3}]"));
        n.set(k("inf_correct"), correct.to_string());
        n.set(k("inf_pairs"), total.to_string());
        n.set(k("inf_p_below"), p_value(below));
        n.set(k("inf_p_above"), p_value(above));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_informative_pairs_print_the_count_not_a_rate() {
        assert_eq!(pooled_cell(3, 29), "3/29, too few");
        assert_eq!(pooled_cell(3, 30), "3/30: 0.100 [0.035, 0.256]");
    }
}

//! The long-budget study's tables: sustained groks and Kaplan–Meier
//! medians per setting, R3's long-budget rule with its inputs, the
//! Peter–Weyl reading of the long runs, `fraction-small` and the
//! `layer-norm` numbers.

use crate::analysis::stats::mean_sd;
use crate::report::data::{group_of, SweepData};
use crate::report::latex::{kilo, tex, Numbers};
use crate::report::survival::Setting;
use crate::report::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A value per run, trained and at initialisation.
pub(crate) type TrainedAndInit = (Vec<f64>, Vec<f64>);

/// `layer-norm` (the suite with LayerNorm on): per operation, sustained
/// groks of the runs and the mean final informative accuracy
/// (`layer-norm/<op>/grokked`, `layer-norm/<op>/informative`).
pub(crate) fn layer_norm_numbers(sweep: &SweepData, n: &mut Numbers) -> Result<()> {
    let mut per_op: BTreeMap<String, (usize, usize, Vec<f64>)> = BTreeMap::new();
    for (r, o) in sweep.runs()?.into_iter().zip(sweep.sustained_outcomes()?) {
        let c = per_op.entry(r.op).or_default();
        c.0 += 1;
        c.1 += usize::from(o.sustained.epoch().is_some());
        c.2.extend(r.final_informative_accuracy);
    }
    for (op, (runs, grokked, inf)) in per_op {
        n.set(
            format!("layer-norm/{op}/grokked"),
            format!("{grokked}/{runs}"),
        );
        n.num(format!("layer-norm/{op}/informative"), mean_sd(&inf).0, 3);
    }
    Ok(())
}

/// `fraction-small` by group and training fraction: sustained groks of the
/// runs, the mean number of informative test pairs (those a model cannot
/// answer from a transpose or the identity) and the mean final accuracy on
/// them over the runs that have any. Numbers `fraction-small/<op>/<fraction>/grokked`.
pub(crate) fn fraction_small_table(sweep: &SweepData, n: &mut Numbers) -> Result<String> {
    let mut ops: Vec<String> = Vec::new();
    let mut fracs: Vec<String> = Vec::new();
    #[derive(Default)]
    struct Cell {
        runs: usize,
        grokked: usize,
        informative_pairs: Vec<f64>,
        informative_accuracy: Vec<f64>,
    }
    let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
    for (r, o) in sweep.runs()?.into_iter().zip(sweep.sustained_outcomes()?) {
        let f = format!("{:.1}", r.train_fraction);
        if !ops.contains(&r.canonical_op) {
            ops.push(r.canonical_op.clone());
        }
        if !fracs.contains(&f) {
            fracs.push(f.clone());
        }
        let c = cells.entry((r.canonical_op, f)).or_default();
        c.runs += 1;
        c.grokked += usize::from(o.sustained.epoch().is_some());
        c.informative_pairs.push(r.informative_pairs as f64);
        // A run without informative pairs has no accuracy on them.
        if let Some(a) = r
            .final_informative_accuracy
            .filter(|_| r.informative_pairs > 0)
        {
            c.informative_accuracy.push(a);
        }
    }
    fracs.sort();
    // Non-abelian groups first, then their cyclic controls, each by order.
    let groups = sweep.groups()?;
    let mut keyed: Vec<((bool, u32), String)> = ops
        .into_iter()
        .map(|o| {
            let g = group_of(&groups, &o)?;
            Ok(((g.abelian, g.order), o))
        })
        .collect::<Result<_>>()?;
    keyed.sort_by_key(|(k, _)| *k);
    let ops: Vec<String> = keyed.into_iter().map(|(_, o)| o).collect();
    let mut s = format!(
        "% Generated; do not edit.\n\\begin{{tabular}}{{lr{}}}\n\\toprule\n & & {} \\\\\ngroup & $|G|$ & {} \\\\\n\\midrule\n",
        "r".repeat(fracs.len()),
        fracs.iter().map(|f| format!("fraction {f}")).collect::<Vec<_>>().join(" & "),
        fracs.iter().map(|_| "groks (inf.\\ pairs, acc.)").collect::<Vec<_>>().join(" & "),
    );
    for o in &ops {
        let order = group_of(&groups, o)?.order;
        let cols: Vec<String> = fracs
            .iter()
            .map(|f| match cells.get(&(o.clone(), f.clone())) {
                Some(c) => {
                    n.set(
                        format!("fraction-small/{o}/{f}/grokked"),
                        format!("{}/{}", c.grokked, c.runs),
                    );
                    format!(
                        "{}/{} ({:.0}, {})",
                        c.grokked,
                        c.runs,
                        mean_sd(&c.informative_pairs).0,
                        if c.informative_accuracy.is_empty() {
                            "--".to_string()
                        } else {
                            format!("{:.2}", mean_sd(&c.informative_accuracy).0)
                        }
                    )
                }
                None => "--".into(),
            })
            .collect();
        let _ = writeln!(s, "{} & {order} & {} \\\\", tex(o), cols.join(" & "));
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(s)
}

/// The long-budget study per setting: sustained groks of the runs (of the
/// runs planned), Kaplan–Meier median with its 95% interval, the range of
/// the sustained grok epochs, the runs at risk at five epochs of the budget
/// and the mean final test accuracy.
pub(crate) fn long_budget_table(settings: &[Setting]) -> String {
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{llrrrllll}\n\\toprule\nsweep & group & frac. & budget & grokked & median [95\\% CI] & range & at risk & test acc. \\\\\n\\midrule\n",
    );
    for st in settings.iter().filter(|s| s.sweep != "fraction-small") {
        let of = st
            .planned
            .filter(|p| *p > st.runs.len())
            .map_or(String::new(), |p| format!(" (of {p})"));
        let cell = |x: Option<f64>| x.map_or("--".to_string(), kilo);
        let median = match st.km.median() {
            Some(m) => {
                let (lo, hi) = st.km.median_interval();
                format!("{} [{}, {}]", kilo(m), cell(lo), cell(hi))
            }
            None => "not reached".into(),
        };
        let e = st.grok_epochs();
        let range = match (e.first(), e.last()) {
            (Some(a), Some(b)) => format!("{}--{}", kilo(*a), kilo(*b)),
            _ => "--".into(),
        };
        // Runs neither grokked nor censored before 0, 1/4, ..., 4/4 of the budget.
        let at_risk: Vec<String> = (0..5)
            .map(|q| {
                let t = st.epochs * q as f64 / 4.0;
                st.runs.iter().filter(|r| r.0 >= t).count().to_string()
            })
            .collect();
        let _ = writeln!(
            s,
            "{} & {} & {:.1} & {} & {}/{}{of} & {median} & {range} & {} & {:.3} \\\\",
            tex(&st.sweep),
            tex(&st.op),
            st.fraction,
            kilo(st.epochs),
            st.km.events(),
            st.runs.len(),
            at_risk.join(", "),
            mean_sd(&st.final_test).0
        );
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}

/// R3 by the rule fixed before the long-budget runs: its inputs as a table
/// (the verdict is [`crate::report::claims::r3_long::numbers`]), and per
/// setting the sustained groks, first and last grok and median.
pub(crate) fn r3_long_budget(settings: &[Setting], n: &mut Numbers) -> String {
    let d = crate::report::claims::r3_long::decide_r3(settings);
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{llr}\n\\toprule\nrole & setting & sustained groks \\\\\n\\midrule\n",
    );
    for (role, ts) in [("decisive", &d.decisive), ("control", &d.controls)] {
        for t in ts {
            let count = if t.runs == 0 {
                "no runs yet".to_string()
            } else {
                format!("{}/{}", t.grokked, t.runs)
            };
            let _ = writeln!(s, "{role} & {} & {count} \\\\", tex(&t.setting));
        }
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    for st in settings {
        let k = |x: &str| format!("{}/{}/{x}", st.sweep, st.op);
        n.set(
            k("sustained_runs"),
            format!("{}/{}", st.km.events(), st.runs.len()),
        );
        let e = st.grok_epochs();
        if let (Some(a), Some(b)) = (e.first(), e.last()) {
            n.num(k("first_grok"), *a, 0);
            n.num(k("last_grok"), *b, 0);
        }
        if let Some(m) = st.km.median() {
            n.num(k("median"), m, 0);
        }
    }
    s
}

/// The Peter–Weyl reading of the long-budget runs on non-abelian groups,
/// one row per sweep, group and outcome (sustain-grokked or not): how often
/// each irrep was the dominant one (largest share of the embedding's
/// non-trivial power), the range of that share trained, its mean at
/// initialisation, and what a random function puts on the dominant irreps.
/// Numbers `longpw/<op>/...` give the range of the dominant share over the
/// grokked and ungrokked runs of each operation. `None` when no long-budget
/// sweep has been analysed.
pub(crate) fn long_budget_pw_table(
    sweeps: &[SweepData],
    n: &mut Numbers,
) -> Result<Option<String>> {
    #[derive(Default)]
    struct Cell {
        irreps: BTreeMap<String, usize>,
        share: Vec<f64>,
        init: Vec<f64>,
        random: Vec<f64>,
    }
    // (sweep order, op, grokked) -> runs; ops in first-appearance order.
    let mut cells: Vec<((usize, String, bool), Cell)> = Vec::new();
    for (w, sw) in sweeps.iter().enumerate() {
        if sw.analysis.is_none() {
            continue;
        }
        let groups = sw.groups()?;
        for row in sw.analysis_rows()? {
            let abelian = group_of(&groups, &row.op)?.abelian;
            if row.dominant_irrep.is_empty() || abelian {
                continue;
            }
            let key = (w, row.op.clone(), row.grokked);
            let at = match cells.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    cells.push((key, Cell::default()));
                    cells.len() - 1
                }
            };
            let c = &mut cells[at].1;
            *c.irreps.entry(row.dominant_irrep.clone()).or_default() += 1;
            c.share.push(row.dominant_share);
            c.init.push(row.dominant_share_init);
            c.random.push(row.dominant_expected);
        }
    }
    if cells.is_empty() {
        return Ok(None);
    }
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{llrlrrr}\n\\toprule\nsweep & group & runs & dominant irrep (runs) & share & at init & random \\\\\n\\midrule\n",
    );
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = |v: &[f64]| {
        let (a, b) = (format!("{:.2}", min(v)), format!("{:.2}", max(v)));
        if a == b {
            a
        } else {
            format!("{a}--{b}")
        }
    };
    // (op, grokked) -> dominant shares trained and at initialisation.
    let mut per_op: BTreeMap<(&str, bool), TrainedAndInit> = BTreeMap::new();
    for ((w, op, grokked), c) in &cells {
        let irreps: Vec<String> = c
            .irreps
            .iter()
            .map(|(r, k)| format!("{} ({k})", tex(r)))
            .collect();
        let _ = writeln!(
            s,
            "{} & {} & {} {} & {} & {} & {:.2} & {} \\\\",
            tex(&sweeps[*w].name),
            tex(op),
            c.share.len(),
            if *grokked { "grokked" } else { "not grokked" },
            irreps.join(", "),
            range(&c.share),
            mean_sd(&c.init).0,
            range(&c.random),
        );
        let pooled = per_op.entry((op.as_str(), *grokked)).or_default();
        pooled.0.extend(&c.share);
        pooled.1.extend(&c.init);
    }
    // Per operation and outcome, pooled over the sweeps.
    for ((op, grokked), (share, init)) in per_op {
        let g = if grokked { "grokked" } else { "ungrokked" };
        let k = |x: &str| format!("longpw/{op}/{g}_{x}");
        n.set(k("runs"), share.len().to_string());
        n.num(k("init"), mean_sd(&init).0, 2);
        n.num(k("min"), min(&share), 2);
        n.num(k("max"), max(&share), 2);
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::rows::ResultRow;

    #[test]
    fn results_without_the_sustained_record_are_refused_not_counted_as_not_grokked() {
        use crate::results::record::Record;
        let row = |last: Option<u32>| ResultRow {
            run_id: "r".into(),
            op: "s3".into(),
            canonical_op: "symmetric:3".into(),
            train_fraction: 0.6,
            last_epoch: last,
            ..Default::default()
        };
        let sweep = |last| SweepData {
            name: "layer-norm".into(),
            results: ResultRow::frame(&[row(last)]).unwrap(),
            ..Default::default()
        };
        let mut n = Numbers::default();
        let e = layer_norm_numbers(&sweep(None), &mut n)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no sustained-grok record"), "{e}");
        assert_eq!(n.get("layer-norm/s3/grokked"), None);
        let e = fraction_small_table(&sweep(None), &mut n)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no sustained-grok record"), "{e}");
        // With the record, a run without a sustained epoch is not grokked.
        layer_norm_numbers(&sweep(Some(3000)), &mut n).unwrap();
        assert_eq!(n.get("layer-norm/s3/grokked"), Some("0/1"));
    }
}

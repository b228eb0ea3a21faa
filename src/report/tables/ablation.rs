//! The ablation tables (one row per setting, one column per operation),
//! the Peter–Weyl table of the suite's non-abelian groups and the
//! complexity scores' table.

use crate::analysis::stats::mean_sd;
use crate::report::claims::r5::claimed_rows;
use crate::report::data::{group_of, SweepData, Swept};
use crate::report::experiments::Experiments;
use crate::report::latex::{epoch_cell, tex};
use crate::report::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Grok epochs (`None` = not grokked) and final test accuracies of runs.
pub(crate) type GrokAndAccuracy = (Vec<Option<f64>>, Vec<f64>);

/// An ablation table: one row per setting, one column per operation.
pub(crate) fn ablation_table(sweep: &SweepData, swept: Swept, label: &str) -> Result<String> {
    // Sustained grok epochs, as every count of the paper (R8's verdict
    // alone reads first crossings, as its rule was fixed).
    let groups = sweep.groups()?;
    let outcomes = sweep.sustained_outcomes()?;
    let mut cols: Vec<String> = Vec::new();
    // (row, column) -> grok epochs and final test accuracies of the runs.
    let mut cells: BTreeMap<(String, String), GrokAndAccuracy> = BTreeMap::new();
    let mut rows: Vec<String> = Vec::new();
    for (r, o) in sweep.runs()?.into_iter().zip(&outcomes) {
        let g = group_of(&groups, &r.op)?;
        let x = format!("{}", swept.of(&r, g));
        let col = if swept == Swept::Order {
            g.family.clone()
        } else {
            r.op.clone()
        };
        if !cols.contains(&col) {
            cols.push(col.clone());
        }
        if !rows.contains(&x) {
            rows.push(x.clone());
        }
        let c = cells.entry((x, col)).or_default();
        c.0.push(o.sustained.epoch_f64());
        c.1.push(r.final_test_accuracy.unwrap_or(f64::NAN));
    }
    if swept == Swept::Order {
        rows.sort_by_key(|r| r.parse::<usize>().unwrap_or(0));
    }
    let mut s = format!(
        "% Generated; do not edit.\n\\begin{{tabular}}{{l{}}}\n\\toprule\n{label}",
        "l".repeat(cols.len())
    );
    for c in &cols {
        let _ = write!(s, " & \\texttt{{{}}}", tex(c));
    }
    s.push_str(" \\\\\n\\midrule\n");
    for r in &rows {
        s.push_str(r);
        for c in &cols {
            let cell = cells
                .get(&(r.clone(), c.clone()))
                .map(|(g, t)| {
                    // Where no run grokked, how far they got matters.
                    if g.iter().all(Option::is_none) {
                        format!("not grokked (0/{}; test acc. {:.2})", g.len(), mean_sd(t).0)
                    } else {
                        epoch_cell(g, "not grokked")
                    }
                })
                .unwrap_or_else(|| "--".into());
            let _ = write!(s, " & {}", tex(&cell));
        }
        s.push_str(" \\\\\n");
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(s)
}

/// The Peter–Weyl table of the non-abelian groups (claim vs measurement):
/// per group and seed, the claimed irrep's share trained and untrained,
/// our dominant irrep likewise, and the one-dimensional irreps' share
/// ([`ClaimedRow`], what R5 reads).
pub(crate) fn pw_table(suite: &SweepData) -> Result<String> {
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{lrlrrlrrrr}\n\\toprule\n& & \\multicolumn{3}{c}{claimed irrep} & \\multicolumn{3}{c}{our dominant irrep} & \\multicolumn{2}{c}{1-dim irreps} \\\\\n\\cmidrule(lr){3-5}\\cmidrule(lr){6-8}\\cmidrule(lr){9-10}\ngroup & seed & irrep & trained & untrained & irrep & trained & untrained & trained & untrained \\\\\n\\midrule\n",
    );
    let rows = claimed_rows(suite)?;
    for (i, r) in rows.iter().enumerate() {
        let first_of_group = i == 0 || rows[i - 1].op != r.op;
        let _ = writeln!(
            s,
            "{} & {} & {} & {:.2} & {:.2} & {} & {:.2} & {:.2} & {:.2} & {:.2} \\\\",
            if first_of_group {
                format!("\\texttt{{{}}}", tex(&r.op))
            } else {
                String::new()
            },
            r.seed,
            tex(&r.claimed),
            r.claimed_share,
            r.claimed_init,
            tex(&r.dominant),
            r.dominant_share,
            r.dominant_init,
            r.abelian_share,
            r.abelian_init,
        );
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(s)
}

/// Complexity scores of the suite's and the controls' groups.
pub(crate) fn complexity_table(exp: &Experiments) -> Result<String> {
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{llrrrrrr}\n\\toprule\noperation & group & $d(G)$ & max $d_k$ & C1 & C2 & F1 & F2 \\\\\n\\midrule\n",
    );
    let mut seen = Vec::new();
    for sweep in [exp.suite.as_ref(), exp.controls.as_ref()]
        .into_iter()
        .flatten()
    {
        let groups = sweep.groups()?;
        for op in sweep.ops()? {
            let g = group_of(&groups, &op)?;
            if seen.contains(&g.group) && g.family != "sub" {
                continue;
            }
            seen.push(g.group.clone());
            let sc = g.scores();
            let _ = writeln!(
                s,
                "\\texttt{{{}}} & {} & {} & {} & {:.2} & {:.3} & {} & {} \\\\",
                tex(&op),
                tex(&g.group),
                sc.rank,
                sc.max_irrep_dim,
                sc.c1,
                sc.c2,
                sc.f1,
                sc.f2.map_or("--".to_string(), |f| format!("{f:.3}"))
            );
        }
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    Ok(s)
}

//! Everything `paper/generated/` holds: every table and the number macros,
//! computed from stored results in one pass ([`compute_all`]) and written
//! by [`write_all`].

use super::claims;
use super::claims::ops::op_stats_sustained;
use super::data::Swept;
use super::experiments::Experiments;
use super::latex::Numbers;
use super::tables::ablation::{ablation_table, complexity_table, pw_table};
use super::tables::grok::{grok_table, op_numbers, pooled_counts, pooled_informative};
use super::tables::long_budget::{
    fraction_small_table, layer_norm_numbers, long_budget_pw_table, long_budget_table,
    r3_long_budget,
};
use super::Result;
use crate::store::write_atomic;
use std::path::{Path, PathBuf};

/// Writes every table and `numbers.tex` into `dir`; returns the files.
///
/// # Errors
/// Missing data a table needs, or a write error.
pub fn write_all(exp: &Experiments, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| crate::store::StoreError::new(dir, e))?;
    let (mut files, n) = compute_all(exp)?;
    files.push(("numbers.tex".into(), n.render()));
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// Every table (file name, LaTeX text) and the numbers, from `exp`: what
/// [`write_all`] writes and what the claims' verdicts read
/// ([`super::claims`]).
///
/// # Errors
/// Missing data a table needs.
pub fn compute_all(exp: &Experiments) -> Result<(Vec<(String, String)>, Numbers)> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut n = Numbers::default();
    // Every claim's verdict and the numbers it rests on.
    claims::decide_all(exp, &mut n)?;
    if let Some(suite) = &exp.suite {
        // Every count uses the sustained criterion; first crossings are kept
        // beside it and the first-crossing verdicts disclosed.
        let stats = op_stats_sustained(suite)?;
        let pooled = pooled_counts(suite)?;
        files.push(("grok-table.tex".into(), grok_table(&stats, &pooled)));
        pooled_informative(suite, &pooled, &mut n)?;
        op_numbers("suite", &stats, &mut n);
        n.set(
            "suite/runs",
            stats.iter().map(|s| s.n()).sum::<usize>().to_string(),
        );
        n.set("suite/ops", stats.len().to_string());
        n.num("suite/epochs", stats.first().map_or(0.0, |s| s.epochs), 0);
        let controls = exp.controls.as_ref().map(op_stats_sustained).transpose()?;
        if let (Some(c), Some(sweep)) = (&controls, &exp.controls) {
            let pooled = pooled_counts(sweep)?;
            files.push(("controls-table.tex".into(), grok_table(c, &pooled)));
            pooled_informative(sweep, &pooled, &mut n)?;
            op_numbers("controls", c, &mut n);
        }
        if suite.analysis.is_some() {
            files.push(("pw-table.tex".into(), pw_table(suite)?));
        }
        files.push(("complexity-table.tex".into(), complexity_table(exp)?));
    }
    if let Some(sw) = exp
        .shuffled_labels
        .as_ref()
        .filter(|s| s.analysis.is_some())
    {
        files.push(("nulls-table.tex".into(), super::nulls::table(sw, &mut n)?));
    }
    if let Some(sw) = &exp.numerics {
        files.push((
            "numerics-table.tex".into(),
            super::numerics::table(sw, &mut n)?,
        ));
    }
    let twins = super::twins::pairs(&exp.twins);
    if !twins.is_empty() {
        files.push((
            "twins-table.tex".into(),
            super::twins::table(&twins, &mut n),
        ));
    }
    for (name, sweep, swept, label) in [
        (
            "ablation-fraction-table.tex",
            &exp.fraction,
            Swept::TrainFraction,
            "fraction",
        ),
        (
            "ablation-wd-table.tex",
            &exp.weight_decay,
            Swept::WeightDecay,
            "weight decay",
        ),
        ("ablation-size-table.tex", &exp.size, Swept::Order, "$|G|$"),
    ] {
        if let Some(sw) = sweep {
            files.push((name.into(), ablation_table(sw, swept, label)?));
        }
    }
    if !exp.long_budget.is_empty() {
        files.push((
            "long-budget-table.tex".into(),
            long_budget_table(&exp.long_budget),
        ));
        files.push((
            "r3-rule-table.tex".into(),
            r3_long_budget(&exp.long_budget, &mut n),
        ));
    }
    if let Some(ln) = &exp.layer_norm {
        layer_norm_numbers(ln, &mut n)?;
    }
    if let Some(fs) = exp
        .long_budget_sweeps
        .iter()
        .find(|s| s.name == "fraction-small")
    {
        files.push((
            "fraction-small-table.tex".into(),
            fraction_small_table(fs, &mut n)?,
        ));
    }
    if let Some(t) = long_budget_pw_table(&exp.long_budget_sweeps, &mut n)? {
        files.push(("long-budget-pw-table.tex".into(), t));
    }
    if let Some(atlas) = &exp.atlas {
        files.extend(super::tables::atlas::tables(atlas, &mut n));
    }
    let sweep = |name: &str| exp.long_budget_sweeps.iter().find(|s| s.name == name);
    if let (Some(cyclic), Some(a5), Some(s5)) = (
        &exp.cyclic_controls,
        sweep("long-budget-a5"),
        sweep("long-budget-s5"),
    ) {
        let pairs = [
            (a5, "alternating:5", "ring:60"),
            (s5, "symmetric:5", "ring:120"),
        ];
        files.push((
            "order-matched-table.tex".into(),
            super::order_controls::controls_table(cyclic, &pairs, &mut n)?,
        ));
    }
    if let Some(past) = &exp.past_window {
        use super::order_controls::{past_window_table, PastWindow};
        let mut sets = vec![PastWindow {
            model: "suite",
            key: "suite",
            retrained: past,
            stopped: ["long-budget-a5", "long-budget-s5"]
                .into_iter()
                .filter_map(sweep)
                .collect(),
        }];
        if let Some(chughtai) = &exp.past_window_chughtai {
            sets.push(PastWindow {
                model: "Chughtai et al.",
                key: "chughtai",
                retrained: chughtai,
                stopped: sweep("chughtai").into_iter().collect(),
            });
        }
        files.push((
            "past-window-table.tex".into(),
            past_window_table(&sets, &mut n)?,
        ));
        if let Some(nulls) = &exp.irrep_ablation_nulls {
            files.push((
                "irrep-ablation-table.tex".into(),
                super::irrep_ablation::table(past, nulls, &mut n)?,
            ));
        }
    }
    if let Some(f64_runs) = &exp.chughtai_s5_f64 {
        super::order_controls::per_run_numbers(f64_runs, "s5f64", &mut n)?;
    }
    Ok((files, n))
}

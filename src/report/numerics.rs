//! The `numerics` experiment: float32 vs float64 loss, StableMax, Grokfast
//! and a learning-rate-matched baseline on the same operations and seeds
//! ([`Arm`]), read from its results, curves and analysis: a table, the
//! numbers the paper cites and a figure (train loss by loss arm, test
//! accuracy by optimiser arm, every seed its own line).

use super::data::SweepData;
use super::latex::{tex, Numbers};
use super::Result;
use crate::analysis::stats::median;
use crate::results::rows::{AnalysisRow, ResultRow};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// An arm of the experiment, told apart by the settings it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arm {
    /// The suite's settings.
    Baseline,
    /// `loss_precision = "f64"`.
    F64,
    /// `softmax = "stablemax"`.
    StableMax,
    /// `grokfast_lambda > 0`.
    Grokfast,
    /// The baseline at another learning rate (matched to Grokfast's update).
    Matched,
}

impl Arm {
    /// Every arm, in table order.
    pub const ALL: [Arm; 5] = [
        Arm::Baseline,
        Arm::F64,
        Arm::StableMax,
        Arm::Grokfast,
        Arm::Matched,
    ];

    /// The arm of a run's settings (a setting the results do not record
    /// is its default: the run predates it).
    pub fn of(r: &ResultRow) -> Self {
        if r.grokfast_lambda.unwrap_or(0.0) > 0.0 {
            Arm::Grokfast
        } else if r.softmax.as_deref() == Some("stablemax") {
            Arm::StableMax
        } else if r.loss_precision.as_deref() == Some("f64") {
            Arm::F64
        } else if (r.lr - crate::config::RunConfig::default().lr).abs() > 1e-12 {
            Arm::Matched
        } else {
            Arm::Baseline
        }
    }

    /// Its label in the table and figure.
    pub fn label(self) -> &'static str {
        match self {
            Arm::Baseline => "baseline (f32 softmax)",
            Arm::F64 => "f64 loss",
            Arm::StableMax => "StableMax",
            Arm::Grokfast => "Grokfast",
            Arm::Matched => "baseline, matched lr",
        }
    }

    /// Its key in `numbers.tex`.
    pub fn key(self) -> &'static str {
        match self {
            Arm::Baseline => "baseline",
            Arm::F64 => "f64",
            Arm::StableMax => "stablemax",
            Arm::Grokfast => "grokfast",
            Arm::Matched => "matched",
        }
    }

    pub(crate) fn colour(self) -> RGBColor {
        match self {
            // Okabe-Ito; the baseline blue in both rows, every other arm
            // a hue far from it (StableMax was a green close to it in print).
            Arm::Baseline => RGBColor(0, 114, 178),
            Arm::F64 => RGBColor(213, 94, 0),
            Arm::StableMax => RGBColor(230, 159, 0),
            Arm::Grokfast => RGBColor(0, 158, 115),
            Arm::Matched => RGBColor(204, 121, 167),
        }
    }
}

/// One run as the experiment reads it.
#[derive(Debug, Clone)]
pub struct NumericsRun {
    /// Run id.
    pub id: String,
    /// Operation as configured.
    pub op: String,
    /// Its arm.
    pub arm: Arm,
    /// Learning rate.
    pub lr: f64,
    /// Sustained grok epoch.
    pub grok: Option<f64>,
    /// Test accuracy's dips below 0.99 after the sustained grok
    /// ([`crate::grok::relapses`]).
    pub relapses: f64,
    /// Epochs from the sustained grok to the first relapse, if any.
    pub first_relapse_after: Option<f64>,
    /// Epochs of the train-loss spikes.
    pub spikes: Vec<u32>,
    /// (epoch, value) per metric, `split/metric`.
    pub curves: BTreeMap<String, Vec<(f64, f64)>>,
    /// Mechanism numbers from the analysis (name -> value), when analysed.
    pub mechanism: BTreeMap<String, f64>,
}

impl NumericsRun {
    pub(crate) fn series(&self, key: &str) -> &[(f64, f64)] {
        self.curves.get(key).map_or(&[], Vec::as_slice)
    }

    /// Mean `update_norm` over the evaluations at epochs 1–200.
    pub fn early_update_norm(&self) -> f64 {
        mean(
            &self
                .series("model/update_norm")
                .iter()
                .filter(|p| p.0 <= 200.0)
                .map(|p| p.1)
                .collect::<Vec<_>>(),
        )
    }

    /// The largest share of collapsed training pairs at any evaluation.
    pub fn max_collapse(&self) -> f64 {
        self.series("train/softmax_collapse_share")
            .iter()
            .map(|p| p.1)
            .fold(0.0, f64::max)
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The mechanism numbers read from `analysis.parquet`: their names in
/// `numbers.tex` (the analysis columns' names) and their fields.
type Mechanism = (&'static str, fn(&AnalysisRow) -> Option<f64>);
const MECHANISM: [Mechanism; 9] = [
    ("gradient_symmetricity", |r| r.gradient_symmetricity),
    ("gradient_symmetricity_init", |r| {
        r.gradient_symmetricity_init
    }),
    ("distance_irrelevance", |r| r.distance_irrelevance),
    ("distance_irrelevance_init", |r| r.distance_irrelevance_init),
    ("neuron_purity", |r| r.neuron_purity),
    ("neuron_purity_init", |r| r.neuron_purity_init),
    ("ablation_none_accuracy", |r| r.ablation_none_accuracy),
    ("ablation_keep_key_accuracy", |r| {
        r.ablation_keep_key_accuracy
    }),
    ("ablation_remove_key_min_accuracy", |r| {
        r.ablation_remove_key_min_accuracy
    }),
];

/// Every run of the sweep with its curves and, when analysed, mechanism numbers.
///
/// # Errors
/// Missing columns or tables.
pub fn runs(sweep: &SweepData) -> Result<Vec<NumericsRun>> {
    let results = sweep.runs()?;
    let outcomes = sweep.sustained_outcomes()?;
    let mut out: Vec<NumericsRun> = results
        .iter()
        .zip(&outcomes)
        .map(|(r, o)| NumericsRun {
            id: r.run_id.clone(),
            op: r.op.clone(),
            arm: Arm::of(r),
            lr: r.lr,
            grok: o.sustained.epoch_f64(),
            relapses: r.relapses.map_or(0.0, f64::from),
            first_relapse_after: None,
            spikes: r
                .loss_spikes
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
            curves: BTreeMap::new(),
            mechanism: BTreeMap::new(),
        })
        .collect();
    let index: BTreeMap<String, usize> =
        results.iter().map(|r| r.run_id.clone()).zip(0..).collect();
    for c in sweep.curve_rows()? {
        if let Some(&k) = index.get(&c.run_id) {
            let p = c.row;
            out[k]
                .curves
                .entry(format!("{}/{}", p.split, p.metric))
                .or_default()
                .push((f64::from(p.epoch), p.value));
        }
    }
    // Relapses are dips ([`crate::grok::relapses`]), recounted from the
    // curves: results stored before that definition counted evaluations.
    for r in out.iter_mut() {
        if let (Some(e), Some(test)) = (r.grok, r.curves.get("test/accuracy")) {
            let mut test: Vec<(u32, f64)> = test.iter().map(|&(x, a)| (x as u32, a)).collect();
            test.sort_by_key(|p| p.0);
            let (dips, first) = crate::grok::relapses(&test, e as u32);
            r.relapses = f64::from(dips);
            r.first_relapse_after = first.map(|f| f64::from(f) - e);
        }
    }
    if sweep.analysis.is_some() {
        for row in sweep.analysis_rows()? {
            let Some(&k) = index.get(&row.run_id) else {
                continue;
            };
            for (name, value) in MECHANISM {
                if let Some(v) = value(&row) {
                    out[k].mechanism.insert(name.to_string(), v);
                }
            }
        }
    }
    Ok(out)
}

/// The operations of the runs, in first-seen order.
pub(crate) fn ops(runs: &[NumericsRun]) -> Vec<String> {
    let mut ops: Vec<String> = Vec::new();
    for r in runs {
        if !ops.contains(&r.op) {
            ops.push(r.op.clone());
        }
    }
    ops
}

/// The table of the experiment (`numerics-table.tex`) and its numbers
/// (`numerics/...`).
///
/// # Errors
/// Missing columns or tables.
pub fn table(sweep: &SweepData, n: &mut Numbers) -> Result<String> {
    let runs = runs(sweep)?;
    // How long after the grok the runs that relapse first do (none of them
    // stops, so these are what a stop 500 epochs after the grok would miss).
    let after: Vec<f64> = runs.iter().filter_map(|r| r.first_relapse_after).collect();
    n.set("numerics/relapsing_runs", after.len().to_string());
    if !after.is_empty() {
        let lo = after.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = after.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        n.num("numerics/first_relapse_after_min", lo, 0);
        n.num("numerics/first_relapse_after_max", hi, 0);
    }
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{llrrrrrrr}\n\\toprule\noperation & arm & lr & sustained grok & median epoch & relapses & runs with spikes & spikes & max collapse share \\\\\n\\midrule\n",
    );
    for op in ops(&runs) {
        let of_op: Vec<&NumericsRun> = runs.iter().filter(|r| r.op == op).collect();
        for arm in Arm::ALL {
            let rs: Vec<&&NumericsRun> = of_op.iter().filter(|r| r.arm == arm).collect();
            if rs.is_empty() {
                continue;
            }
            let k = |x: &str| format!("numerics/{op}/{}/{x}", arm.key());
            let grokked = rs.iter().filter(|r| r.grok.is_some()).count();
            let epochs: Vec<f64> = rs.iter().filter_map(|r| r.grok).collect();
            let spike_runs = rs.iter().filter(|r| !r.spikes.is_empty()).count();
            let spikes: usize = rs.iter().map(|r| r.spikes.len()).sum();
            let relapses: f64 = rs.iter().map(|r| r.relapses).sum();
            n.num(k("relapses"), relapses, 0);
            let final_scale = |r: &&&NumericsRun| r.series("train/logit_scale").last().map(|p| p.1);
            n.num(
                k("logit_scale"),
                median(&rs.iter().filter_map(final_scale).collect::<Vec<_>>()),
                0,
            );
            let min_loss = |r: &&&NumericsRun| {
                r.series("train/loss")
                    .iter()
                    .map(|p| p.1)
                    .filter(|v| *v > 0.0)
                    .fold(f64::INFINITY, f64::min)
            };
            n.set(
                k("min_loss"),
                sci(median(&rs.iter().map(min_loss).collect::<Vec<_>>())),
            );
            let collapse = median(&rs.iter().map(|r| r.max_collapse()).collect::<Vec<_>>());
            n.set(k("runs"), rs.len().to_string());
            n.set(k("grokked"), grokked.to_string());
            n.num(k("median_grok"), median(&epochs), 0);
            n.num(
                k("min_grok"),
                epochs.iter().copied().fold(f64::NAN, f64::min),
                0,
            );
            n.num(
                k("max_grok"),
                epochs.iter().copied().fold(f64::NAN, f64::max),
                0,
            );
            n.num(
                k("max_collapse"),
                rs.iter().map(|r| r.max_collapse()).fold(0.0, f64::max),
                3,
            );
            n.set(k("spike_runs"), spike_runs.to_string());
            n.set(k("spikes"), spikes.to_string());
            n.num(k("collapse"), collapse, 3);
            n.num(
                k("update_norm"),
                mean(&rs.iter().map(|r| r.early_update_norm()).collect::<Vec<_>>()),
                4,
            );
            n.set(
                k("first_spikes"),
                rs.iter()
                    .filter_map(|r| r.spikes.first().map(u32::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            let median_epoch = median(&epochs);
            let _ = writeln!(
                s,
                "{} & {} & {} & {grokked}/{} & {} & {} & {spike_runs}/{} & {spikes} & {collapse:.3} \\\\",
                tex(&op),
                arm.label(),
                format_lr(rs[0].lr),
                rs.len(),
                if median_epoch.is_finite() {
                    format!("{median_epoch:.0}")
                } else {
                    "--".into()
                },
                if grokked > 0 {
                    format!("{relapses:.0}")
                } else {
                    "--".into()
                },
                rs.len(),
            );
        }
        // The matching: Grokfast's mean early update norm over the matched arm's.
        let norm = |arm: Arm| {
            mean(
                &of_op
                    .iter()
                    .filter(|r| r.arm == arm)
                    .map(|r| r.early_update_norm())
                    .collect::<Vec<_>>(),
            )
        };
        n.num(
            format!("numerics/{op}/matched_ratio"),
            norm(Arm::Grokfast) / norm(Arm::Matched),
            3,
        );
        n.num(
            format!("numerics/{op}/unmatched_ratio"),
            norm(Arm::Grokfast) / norm(Arm::Baseline),
            3,
        );
        s.push_str("\\midrule\n");
    }
    if s.ends_with("\\midrule\n") {
        s.truncate(s.len() - "\\midrule\n".len());
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    mechanism_numbers(&runs, n);
    Ok(s)
}

/// `v` as LaTeX `$m\times10^{e}$` with one significant digit.
fn sci(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        return "n/a".into();
    }
    let text = format!("{v:.0e}");
    let (m, e) = text.split_once('e').unwrap_or((&text, "0"));
    format!("${m}\\times10^{{{e}}}$")
}

fn format_lr(lr: f64) -> String {
    format!("{:.3}e-3", lr * 1e3)
}

/// Means of the mechanism probes per operation over grokked and
/// non-grokked runs (`numerics/<op>/mech/<grokked|not>/<name>`).
fn mechanism_numbers(runs: &[NumericsRun], n: &mut Numbers) {
    for op in ops(runs) {
        for (status, grokked) in [("grokked", true), ("not", false)] {
            let rs: Vec<&NumericsRun> = runs
                .iter()
                .filter(|r| r.op == op && r.grok.is_some() == grokked)
                .collect();
            n.set(
                format!("numerics/{op}/mech/{status}/runs"),
                rs.len().to_string(),
            );
            for (name, _) in MECHANISM {
                let v: Vec<f64> = rs
                    .iter()
                    .filter_map(|r| r.mechanism.get(name).copied())
                    .collect();
                n.num(format!("numerics/{op}/mech/{status}/{name}"), mean(&v), 2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arms_are_told_apart_by_the_setting_they_change() {
        let run = |precision: &str, softmax: &str, lambda: f64, lr: f64| ResultRow {
            loss_precision: Some(precision.into()),
            softmax: Some(softmax.into()),
            grokfast_lambda: Some(lambda),
            lr,
            ..Default::default()
        };
        assert_eq!(Arm::of(&run("f32", "standard", 0.0, 1e-3)), Arm::Baseline);
        assert_eq!(Arm::of(&run("f64", "standard", 0.0, 1e-3)), Arm::F64);
        assert_eq!(Arm::of(&run("f32", "stablemax", 0.0, 1e-3)), Arm::StableMax);
        assert_eq!(Arm::of(&run("f32", "standard", 2.0, 1e-3)), Arm::Grokfast);
        assert_eq!(
            Arm::of(&run("f32", "standard", 0.0, 1.229e-3)),
            Arm::Matched
        );
        // A run that predates the settings is the baseline.
        let old = ResultRow {
            lr: 1e-3,
            ..Default::default()
        };
        assert_eq!(Arm::of(&old), Arm::Baseline);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(sci(1.6e-7), "$2\\times10^{-7}$");
        assert_eq!(sci(0.0), "n/a");
    }
}

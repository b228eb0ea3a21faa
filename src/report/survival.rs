//! The long-budget study as survival: per sweep, operation and training
//! fraction, the runs' sustained grok epochs (never-grokked runs censored at
//! their last epoch) and their Kaplan–Meier estimate; and R3 decided by the
//! rule fixed before those runs ([`r3_long_budget`]), with whether runs
//! still missing could change the verdict.
//!
//! `grokscope survival`, the paper's long-budget table and its survival
//! figure all read these.

use super::{group_of, ReportError, Result, SweepData};
use crate::analysis::survival::{r3_long_budget, KaplanMeier, R3Verdict, Tally};
use crate::results::rows::GroupRow;
use std::collections::BTreeMap;
use std::path::Path;

/// The runs of one operation at one training fraction in one sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The sweep (`experiments/<sweep>/`).
    pub sweep: String,
    /// The operation, canonical (`symmetric:4`).
    pub op: String,
    /// Its stored group (the sweep's groups table).
    pub group: GroupRow,
    /// Training fraction.
    pub fraction: f64,
    /// The budget in epochs (the largest of the runs').
    pub epochs: f64,
    /// Per run: the sustained grok epoch, or the last epoch and `false`.
    pub runs: Vec<(f64, bool)>,
    /// Per run: final test accuracy.
    pub final_test: Vec<f64>,
    /// Runs the sweep file plans for this setting, where it was read.
    pub planned: Option<usize>,
    /// The Kaplan–Meier estimate of `runs`.
    pub km: KaplanMeier,
}

impl Setting {
    /// `op (sweep, fraction f)`.
    pub fn label(&self) -> String {
        format!(
            "{} ({}, fraction {:.2})",
            self.op, self.sweep, self.fraction
        )
    }
    /// Runs and sustained groks.
    pub fn tally(&self) -> Tally {
        Tally {
            setting: self.label(),
            runs: self.runs.len(),
            grokked: self.km.events(),
        }
    }
    /// Whether every planned run has results (true when the plan is unknown).
    pub fn complete(&self) -> bool {
        self.planned.is_none_or(|p| self.runs.len() >= p)
    }
    /// Sustained grok epochs of the runs that grokked, ascending.
    pub fn grok_epochs(&self) -> Vec<f64> {
        let mut e: Vec<f64> = self.runs.iter().filter(|r| r.1).map(|r| r.0).collect();
        e.sort_by(f64::total_cmp);
        e
    }
}

/// The settings of one sweep's results; `planned` maps (canonical op,
/// fraction to two decimals) to the runs the sweep file plans.
///
/// # Errors
/// Results without the sustained criterion's columns (written before
/// grokscope 0.2), or missing columns.
pub fn settings(
    sweep: &SweepData,
    planned: &BTreeMap<(String, String), usize>,
) -> Result<Vec<Setting>> {
    let runs = sweep.runs_with_sustained()?;
    let rows = sweep.groups()?;
    let mut groups: BTreeMap<(String, String), Setting> = BTreeMap::new();
    for r in &runs {
        let key = (r.canonical_op.clone(), format!("{:.2}", r.train_fraction));
        let group = group_of(&rows, &r.canonical_op)?;
        let s = groups.entry(key.clone()).or_insert_with(|| Setting {
            sweep: sweep.name.clone(),
            op: r.canonical_op.clone(),
            group: group.clone(),
            fraction: r.train_fraction,
            epochs: 0.0,
            runs: Vec::new(),
            final_test: Vec::new(),
            planned: planned.get(&key).copied(),
            km: KaplanMeier::fit(&[]),
        });
        s.runs.push(match r.sustained_grok_epoch {
            Some(e) => (f64::from(e), true),
            None => (r.last_epoch.map_or(f64::NAN, f64::from), false),
        });
        s.final_test.push(r.final_test_accuracy.unwrap_or(f64::NAN));
        s.epochs = s.epochs.max(f64::from(r.epochs));
    }
    Ok(groups
        .into_values()
        .map(|mut s| {
            s.km = KaplanMeier::fit(&s.runs);
            s
        })
        .collect())
}

/// The runs each (operation, fraction) of `experiments/<name>.toml` plans;
/// empty when there is no sweep file. The same in every build (the sweep
/// file needs no libtorch).
fn planned_runs(dir: &Path, name: &str) -> Result<BTreeMap<(String, String), usize>> {
    let mut planned = BTreeMap::new();
    let file = dir.join(format!("{name}.toml"));
    if file.exists() {
        let data = |e: crate::config::ConfigError| ReportError::Data(e.to_string());
        let spec = crate::sweep::SweepSpec::from_file(&file).map_err(data)?;
        for batch in spec.expand().map_err(data)? {
            let op = crate::groups::OperationSpec::parse(&batch[0].op)
                .map_err(|e| ReportError::Data(e.to_string()))?
                .canonical();
            let key = (op, format!("{:.2}", batch[0].train_fraction));
            *planned.entry(key).or_default() += batch.len();
        }
    }
    Ok(planned)
}

/// The settings of loaded sweeps of `dir` (normally the long-budget sweeps
/// [`Experiments`](super::Experiments) holds), each with its sweep file's plan.
///
/// # Errors
/// Results without the sustained criterion, or an unreadable sweep file.
pub fn from_sweeps(dir: &Path, sweeps: &[SweepData]) -> Result<Vec<Setting>> {
    let mut out = Vec::new();
    for sweep in sweeps {
        out.extend(settings(sweep, &planned_runs(dir, &sweep.name)?)?);
    }
    Ok(out)
}

/// The settings of arbitrary sweep directories (`grokscope survival`), each
/// with the plan of the sweep file beside it (`<dir>.toml`) where there is
/// one.
///
/// # Errors
/// An unreadable table or sweep file.
pub fn load_dirs(dirs: &[std::path::PathBuf]) -> Result<Vec<Setting>> {
    let mut out = Vec::new();
    for dir in dirs {
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(ReportError::Data(format!(
                "{} is not a sweep's results directory",
                dir.display()
            )));
        };
        let name = name.to_string_lossy();
        let sweep = SweepData::load(parent, &name)?.ok_or_else(|| {
            ReportError::Data(format!(
                "{} has no results.parquet; aggregate the sweep first",
                dir.display()
            ))
        })?;
        out.extend(settings(&sweep, &planned_runs(parent, &name)?)?);
    }
    Ok(out)
}

/// R3 by the rule fixed before the long-budget runs, with its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct R3Decision {
    /// s4, alternating:5 and symmetric:5 at the suite's settings, and
    /// alternating:5 and symmetric:5 at Chughtai et al.'s.
    pub decisive: Vec<Tally>,
    /// ring:24 and dihedral:12 at the suite's settings.
    pub controls: Vec<Tally>,
    /// The verdict if every missing run fails to grok, and if every one groks.
    pub bounds: (R3Verdict, R3Verdict),
    /// Inputs with runs still missing (or none at all).
    pub incomplete: Vec<String>,
}

impl R3Decision {
    /// The verdict, once no missing run can change it.
    pub fn verdict(&self) -> Option<R3Verdict> {
        (self.bounds.0 == self.bounds.1).then_some(self.bounds.0)
    }
}

/// The rule's inputs: (sweep, operation) for the decisive settings, then
/// the controls.
pub const R3_DECISIVE: &[(&str, &str)] = &[
    ("long-budget", "symmetric:4"),
    ("long-budget-a5", "alternating:5"),
    ("long-budget-s5", "symmetric:5"),
    ("chughtai", "alternating:5"),
    ("chughtai-s5", "symmetric:5"),
];

/// The rule's controls.
pub const R3_CONTROLS: &[(&str, &str)] =
    &[("long-budget", "ring:24"), ("long-budget", "dihedral:12")];

/// Decides R3 from the long-budget settings. An input without results
/// counts as one planned run, which the bounds let go either way.
pub fn decide_r3(settings: &[Setting]) -> R3Decision {
    let mut incomplete = Vec::new();
    let mut pick = |inputs: &[(&str, &str)]| -> Vec<(Tally, usize)> {
        inputs
            .iter()
            .map(|(sweep, op)| {
                match settings
                    .iter()
                    .find(|s| s.sweep == *sweep && super::canonical(&s.op) == *op)
                {
                    Some(s) => {
                        if !s.complete() {
                            incomplete.push(s.label());
                        }
                        (s.tally(), s.planned.unwrap_or(0).max(s.runs.len()))
                    }
                    None => {
                        let setting = format!("{op} ({sweep})");
                        incomplete.push(setting.clone());
                        (
                            Tally {
                                setting,
                                runs: 0,
                                grokked: 0,
                            },
                            1,
                        )
                    }
                }
            })
            .collect()
    };
    let decisive = pick(R3_DECISIVE);
    let controls = pick(R3_CONTROLS);
    // The missing runs counted as failing (`false`) or as grokking (`true`).
    let bound = |ts: &[(Tally, usize)], grok_missing: bool| -> Vec<Tally> {
        ts.iter()
            .map(|(t, planned)| Tally {
                setting: t.setting.clone(),
                runs: *planned,
                grokked: t.grokked + if grok_missing { planned - t.runs } else { 0 },
            })
            .collect()
    };
    let bounds = (
        r3_long_budget(&bound(&decisive, false), &bound(&controls, false)),
        r3_long_budget(&bound(&decisive, true), &bound(&controls, true)),
    );
    R3Decision {
        decisive: decisive.into_iter().map(|t| t.0).collect(),
        controls: controls.into_iter().map(|t| t.0).collect(),
        bounds,
        incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(sweep: &str, op: &str, runs: &[(f64, bool)], planned: usize) -> Setting {
        Setting {
            sweep: sweep.into(),
            op: op.into(),
            group: GroupRow::of(op).expect("a known operation"),
            fraction: 0.6,
            epochs: 50_000.0,
            runs: runs.to_vec(),
            final_test: vec![1.0; runs.len()],
            planned: Some(planned),
            km: KaplanMeier::fit(runs),
        }
    }

    #[test]
    fn three_of_four_planned_groks_decide_before_the_fourth_run() {
        let s = [setting(
            "chughtai",
            "alternating:5",
            &[(6100.0, true), (6300.0, true), (29900.0, true)],
            4,
        )];
        let d = decide_r3(&s);
        assert_eq!(d.verdict(), Some(R3Verdict::BudgetArtefact));
        assert!(d.incomplete.iter().any(|x| x.starts_with("alternating:5")));
    }

    #[test]
    fn two_of_four_with_inputs_missing_is_not_yet_decided() {
        let s = [setting(
            "chughtai",
            "alternating:5",
            &[(6100.0, true), (50000.0, false), (6300.0, true)],
            4,
        )];
        let d = decide_r3(&s);
        assert_eq!(d.verdict(), None);
        assert_eq!(
            d.bounds,
            (R3Verdict::Inconclusive, R3Verdict::BudgetArtefact)
        );
    }

    #[test]
    fn a_complete_study_without_groks_and_grokking_controls_is_a_real_boundary() {
        let fail = [(30000.0, false); 3];
        let grok = [(900.0, true), (1200.0, true), (30000.0, false)];
        let mut s: Vec<Setting> = R3_DECISIVE
            .iter()
            .map(|(sw, op)| setting(sw, op, &fail, 3))
            .collect();
        s.extend(R3_CONTROLS.iter().map(|(sw, op)| setting(sw, op, &grok, 3)));
        let d = decide_r3(&s);
        assert!(d.incomplete.is_empty());
        assert_eq!(d.verdict(), Some(R3Verdict::RealBoundary));
    }

    #[test]
    fn a_setting_named_by_its_short_alias_is_the_same_input() {
        let grok = [(900.0, true), (1200.0, true), (30000.0, false)];
        let d = decide_r3(&[setting("long-budget", "s4", &grok, 3)]);
        assert!(
            !d.incomplete.iter().any(|x| x.starts_with("symmetric:4")),
            "{:?}",
            d.incomplete
        );
        // Two of three S4 runs grok: a budget artefact whatever is missing.
        assert_eq!(d.verdict(), Some(R3Verdict::BudgetArtefact));
    }
}

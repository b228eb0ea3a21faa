//! The long-budget study as survival: per sweep, operation and training
//! fraction, the runs' sustained grok epochs (never-grokked runs censored at
//! their last epoch) and their Kaplan–Meier estimate. R3 at long budgets is
//! decided from these in [`crate::report::claims::r3_long`].
//!
//! `grokscope survival`, the paper's long-budget table and its survival
//! figure all read these.

use super::data::{group_of, SweepData};
use super::outcome::Grok;
use super::{ReportError, Result};
use crate::analysis::survival::{KaplanMeier, Tally};
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
    let runs = sweep.runs()?;
    let outcomes = sweep.sustained_outcomes()?;
    let rows = sweep.groups()?;
    let mut groups: BTreeMap<(String, String), Setting> = BTreeMap::new();
    for (r, o) in runs.iter().zip(&outcomes) {
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
        s.runs.push(match o.sustained {
            Grok::At(e) => (f64::from(e), true),
            Grok::NotBy(last) => (f64::from(last), false),
            // Refused by sustained_outcomes; never reached.
            Grok::NotRecorded => (f64::NAN, false),
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

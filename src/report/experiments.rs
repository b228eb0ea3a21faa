//! The paper's experiments, listed once. Each is a sweep file
//! `experiments/<name>.toml` whose results land in `experiments/<name>/`;
//! the report reads them by these names, `grokscope run --full` and
//! `grokscope run --campaign` train them in this order, and a test checks
//! that every sweep file of the repository (but `quick.toml`, `make run`'s
//! stand-in for the suite) is listed here and every entry has its file.
//! [`Experiments`] loads every one that has results.

use super::atlas::Atlas;
use super::data::SweepData;
use super::survival::{self, Setting};
use super::{ReportError, Result};
use std::path::Path;

/// When an experiment is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `grokscope run --full`: hours on 2 cores.
    Full,
    /// `grokscope run --campaign`: the long-budget study, days on 2 cores;
    /// resumable, its runs kept outside the work tree.
    Campaign,
}

/// Which part of the report reads an experiment beyond its own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Read by name ([`super::Experiments`] has a field for it).
    Named,
    /// One of the long-budget study's sweeps (survival tables, R3long).
    LongBudget,
    /// The twins experiment (equal character tables).
    Twins,
}

/// One experiment of the paper.
#[derive(Debug, Clone, Copy)]
pub struct PaperExperiment {
    /// `experiments/<name>.toml`, results in `experiments/<name>/`.
    pub name: &'static str,
    /// When it is trained.
    pub stage: Stage,
    /// What reads it.
    pub part: Part,
}

const fn e(name: &'static str, stage: Stage, part: Part) -> PaperExperiment {
    PaperExperiment { name, stage, part }
}

/// Every experiment of the paper, in the order they are trained and (for
/// the long-budget study) tabulated.
pub const PAPER_EXPERIMENTS: &[PaperExperiment] = &[
    e("suite", Stage::Full, Part::Named),
    e("controls", Stage::Full, Part::Named),
    e("ablation-size", Stage::Full, Part::Named),
    e("ablation-wd", Stage::Full, Part::Named),
    e("ablation-fraction", Stage::Full, Part::Named),
    e("shuffled-labels", Stage::Full, Part::Named),
    e("numerics", Stage::Full, Part::Named),
    e("twins", Stage::Full, Part::Twins),
    e("chughtai", Stage::Campaign, Part::LongBudget),
    e("chughtai-s5", Stage::Campaign, Part::LongBudget),
    e("long-budget-a5", Stage::Campaign, Part::LongBudget),
    e("long-budget-s5", Stage::Campaign, Part::LongBudget),
    e("long-budget", Stage::Campaign, Part::LongBudget),
    e("fraction-small", Stage::Campaign, Part::LongBudget),
    e("layer-norm", Stage::Campaign, Part::Named),
    e("cyclic-controls", Stage::Campaign, Part::Named),
    e("past-window", Stage::Campaign, Part::Named),
    e("past-window-chughtai", Stage::Campaign, Part::Named),
    e("irrep-ablation-nulls", Stage::Campaign, Part::Named),
    e("chughtai-s5-f64", Stage::Campaign, Part::Named),
];

/// The names of the experiments in `part`, in registry order.
pub fn in_part(part: Part) -> Vec<&'static str> {
    PAPER_EXPERIMENTS
        .iter()
        .filter(|x| x.part == part)
        .map(|x| x.name)
        .collect()
}

/// The names of the experiments trained at `stage`, in registry order.
pub fn at_stage(stage: Stage) -> Vec<&'static str> {
    PAPER_EXPERIMENTS
        .iter()
        .filter(|x| x.stage == stage)
        .map(|x| x.name)
        .collect()
}

/// The registered experiment called `name`.
///
/// # Errors
/// No experiment has that name (the message lists them).
pub fn find(name: &str) -> std::result::Result<&'static PaperExperiment, String> {
    PAPER_EXPERIMENTS
        .iter()
        .find(|x| x.name == name)
        .ok_or_else(|| {
            let all: Vec<&str> = PAPER_EXPERIMENTS.iter().map(|x| x.name).collect();
            format!(
                "{name} is not an experiment of the paper; the experiments are {}",
                all.join(", ")
            )
        })
}

/// Every sweep the paper uses, each present once its results exist.
#[derive(Debug, Clone)]
pub struct Experiments {
    /// `suite`: the reference study's 8 operations.
    pub suite: Option<SweepData>,
    /// `controls`.
    pub controls: Option<SweepData>,
    /// `ablation-fraction`.
    pub fraction: Option<SweepData>,
    /// `ablation-wd`.
    pub weight_decay: Option<SweepData>,
    /// `ablation-size`.
    pub size: Option<SweepData>,
    /// The long-budget study's settings (its sweeps: [`Part::LongBudget`]).
    pub long_budget: Vec<Setting>,
    /// `layer-norm`: the suite with LayerNorm on (the reference study's
    /// architecture).
    pub layer_norm: Option<SweepData>,
    /// The long-budget study's sweeps that have results, in the order of
    /// [`PAPER_EXPERIMENTS`].
    pub long_budget_sweeps: Vec<SweepData>,
    /// `shuffled-labels`: R5's shuffled-label nulls beside true-label runs
    /// of the same seeds ([`super::nulls`]).
    pub shuffled_labels: Option<SweepData>,
    /// The twins experiment's settings ([`Part::Twins`]), empty
    /// until its results exist.
    pub twins: Vec<Setting>,
    /// `numerics`: loss precision, StableMax, Grokfast and a matched
    /// baseline ([`super::numerics`]).
    pub numerics: Option<SweepData>,
    /// `cyclic-controls`: Z/60 and Z/120 beside A5 and S5
    /// ([`super::order_controls`]).
    pub cyclic_controls: Option<SweepData>,
    /// `past-window`: the grokked A5 and S5 runs trained to twice their
    /// grok epoch ([`super::order_controls`], [`super::irrep_ablation`]).
    pub past_window: Option<SweepData>,
    /// `past-window-chughtai`: the grokked A5 runs of Chughtai et al.'s
    /// model trained to twice their grok epoch ([`super::order_controls`]).
    pub past_window_chughtai: Option<SweepData>,
    /// `irrep-ablation-nulls`: shuffled-label A5 and S5 runs, the
    /// irrep ablation's null ([`super::irrep_ablation`]).
    pub irrep_ablation_nulls: Option<SweepData>,
    /// `chughtai-s5-f64`: S5 at Chughtai et al.'s settings with a float64
    /// loss, not stopped ([`super::order_controls::per_run_numbers`]).
    pub chughtai_s5_f64: Option<SweepData>,
    /// The atlas' complete orders ([`Atlas`]), when it has results.
    pub atlas: Option<Atlas>,
    /// The paper's experiments that have no results in the directory read,
    /// in the order of [`PAPER_EXPERIMENTS`]: what the report
    /// cannot draw or decide. `grokscope figures` refuses to write a
    /// partial paper unless asked to.
    pub missing: Vec<&'static str>,
}

impl Experiments {
    /// Loads every sweep under `dir` (normally `experiments/`).
    ///
    /// # Errors
    /// An unreadable table.
    pub fn load(dir: &Path) -> Result<Self> {
        // The named sweeps that have results, in the order named.
        let present = |names: &[&str]| -> Result<Vec<SweepData>> {
            names
                .iter()
                .map(|name| SweepData::load(dir, name))
                .filter_map(Result::transpose)
                .collect()
        };

        let long_budget_sweeps = present(&in_part(Part::LongBudget))?;
        let twins_sweeps = present(&in_part(Part::Twins))?;
        // A sweep read by name must be a registered experiment.
        let named = |name: &str| -> Result<Option<SweepData>> {
            let e = find(name).map_err(ReportError::Data)?;
            debug_assert_eq!(e.part, Part::Named, "{name}");
            SweepData::load(dir, name)
        };
        Ok(Self {
            suite: named("suite")?,
            controls: named("controls")?,
            fraction: named("ablation-fraction")?,
            weight_decay: named("ablation-wd")?,
            size: named("ablation-size")?,
            long_budget: survival::from_sweeps(dir, &long_budget_sweeps)?,
            layer_norm: named("layer-norm")?,
            shuffled_labels: named("shuffled-labels")?,
            twins: survival::from_sweeps(dir, &twins_sweeps)?,
            numerics: named("numerics")?,
            cyclic_controls: named("cyclic-controls")?,
            past_window: named("past-window")?,
            past_window_chughtai: named("past-window-chughtai")?,
            irrep_ablation_nulls: named("irrep-ablation-nulls")?,
            chughtai_s5_f64: named("chughtai-s5-f64")?,
            atlas: if dir.join("atlas.toml").exists() {
                Atlas::load(dir)?
            } else {
                None
            },
            long_budget_sweeps,
            missing: PAPER_EXPERIMENTS
                .iter()
                .map(|e| e.name)
                .filter(|name| !dir.join(name).join("results.parquet").exists())
                .collect(),
        })
    }

    /// The suite, which most figures need.
    ///
    /// # Errors
    /// No suite results.
    pub fn suite(&self) -> Result<&SweepData> {
        self.suite.as_ref().ok_or_else(|| {
            ReportError::Data(
                "experiments/suite has no results; run `grokscope sweep experiments/suite.toml`"
                    .into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sweep_file_is_registered_and_every_entry_has_its_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|f| {
                let name = f.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".toml").map(str::to_string)
            })
            // quick: make run's stand-in for the suite; atlas: read by the
            // atlas' own analysis, not (yet) by the paper's loader.
            .filter(|n| n != "quick" && n != "atlas")
            .collect();
        files.sort();
        let mut listed: Vec<String> = PAPER_EXPERIMENTS
            .iter()
            .map(|x| x.name.to_string())
            .collect();
        listed.sort();
        assert_eq!(files, listed);
    }

    #[test]
    fn names_are_unique_and_lookups_say_what_exists() {
        let mut names: Vec<&str> = PAPER_EXPERIMENTS.iter().map(|x| x.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PAPER_EXPERIMENTS.len());
        assert_eq!(find("twins").unwrap().part, Part::Twins);
        let err = find("sweet").unwrap_err();
        assert!(err.contains("sweet is not") && err.contains("suite, controls"));
        assert_eq!(in_part(Part::LongBudget).len(), 6);
        assert_eq!(at_stage(Stage::Full)[0], "suite");
    }
}

//! The paper's experiments, listed once. Each is a sweep file
//! `experiments/<name>.toml` whose results land in `experiments/<name>/`;
//! the report reads them by these names, `grokscope run --full` and
//! `grokscope run --campaign` train them in this order, and a test checks
//! that every sweep file of the repository (but `quick.toml`, `make run`'s
//! stand-in for the suite) is listed here and every entry has its file.

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
pub fn find(name: &str) -> Result<&'static PaperExperiment, String> {
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

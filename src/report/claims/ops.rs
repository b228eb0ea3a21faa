//! Per-operation outcomes over seeds ([`OpStats`]), what the suite's
//! claims read, and the analysis values and irrep shares they compare.

use crate::report::data::{family, group_of, SweepData, ABELIAN_SUITE_FAMILIES};
use crate::report::spectra::{seed_spectra, SpectrumRow};
use crate::report::Result;
use crate::results::rows::AnalysisRow;

/// Per-operation outcome over seeds.
#[derive(Debug, Clone)]
pub struct OpStats {
    /// Operation as configured.
    pub op: String,
    /// Group order (elements).
    pub order: usize,
    /// Whether the analysis group is abelian.
    pub abelian: bool,
    /// The analysis group's name.
    pub group: String,
    /// Memorised epoch per run.
    pub memorised: Vec<Option<f64>>,
    /// Sustained grok epoch per run ([`op_stats_sustained`]).
    pub grokked: Vec<Option<f64>>,
    /// First evaluated epoch at test accuracy >= 0.99, per run.
    pub first_crossing: Vec<Option<f64>>,
    /// Final test accuracy per run.
    pub test_accuracy: Vec<f64>,
    /// Final informative-test accuracy per run.
    pub informative_accuracy: Vec<f64>,
    /// Informative test pairs (first run).
    pub informative_pairs: f64,
    /// Epoch budget.
    pub epochs: f64,
}

impl OpStats {
    /// Runs that grokked.
    pub fn n_grokked(&self) -> usize {
        self.grokked.iter().flatten().count()
    }
    /// Runs.
    pub fn n(&self) -> usize {
        self.grokked.len()
    }
}

/// Per-operation statistics of a sweep's runs, operations in order, with
/// each operation's order and commutativity from the sweep's groups table,
/// and each run's grok epoch its sustained one ([`SweepData::sustained_outcomes`];
/// first crossings stay in `first_crossing`).
///
/// # Errors
/// An operation the groups table does not list, or a run whose sustained
/// epoch is not recorded.
pub fn op_stats_sustained(sweep: &SweepData) -> Result<Vec<OpStats>> {
    let groups = sweep.groups()?;
    let runs = sweep.runs()?;
    let outcomes = sweep.sustained_outcomes()?;
    let mut out: Vec<OpStats> = Vec::new();
    for (r, o) in runs.iter().zip(&outcomes) {
        let idx = match out.iter().position(|s| s.op == r.op) {
            Some(k) => k,
            None => {
                let g = group_of(&groups, &r.op)?;
                out.push(OpStats {
                    op: r.op.clone(),
                    order: g.order as usize,
                    abelian: g.abelian,
                    group: g.group.clone(),
                    memorised: vec![],
                    grokked: vec![],
                    first_crossing: vec![],
                    test_accuracy: vec![],
                    informative_accuracy: vec![],
                    informative_pairs: r.informative_pairs as f64,
                    epochs: f64::from(r.epochs),
                });
                out.len() - 1
            }
        };
        let s = &mut out[idx];
        s.memorised.push(o.memorised.map(f64::from));
        s.grokked.push(o.sustained.epoch_f64());
        s.first_crossing.push(o.first_crossing.epoch_f64());
        s.test_accuracy
            .push(r.final_test_accuracy.unwrap_or(f64::NAN));
        s.informative_accuracy
            .push(r.final_informative_accuracy.unwrap_or(f64::NAN));
    }
    Ok(out)
}

/// One value of each of `op`'s runs among a sweep's analysis rows, in
/// order; runs where it was not measured (`None`) are left out.
pub(crate) fn analysis_of<T>(
    rows: &[AnalysisRow],
    op: &str,
    value: impl Fn(&AnalysisRow) -> Option<T>,
) -> Vec<T> {
    rows.iter()
        .filter(|r| r.op == op)
        .filter_map(value)
        .collect()
}

/// The non-trivial irreps of complex dimension 1 of `op`'s analysis group
/// (those that factor through its abelianisation G/[G, G]), from the
/// sweep's groups table.
pub(crate) fn one_dim_irreps(sweep: &SweepData, op: &str) -> Result<Vec<String>> {
    Ok(group_of(&sweep.groups()?, op)?.one_dim_irreps())
}

/// Per seed, the share of the embedding's non-trivial power in the irreps of
/// complex dimension 1 (those that factor through the abelianisation
/// G/[G,G]), trained ("final") and untrained ("init"), from the parsed
/// spectra table.
pub(crate) fn abelianisation_shares(
    sweep: &SweepData,
    rows: &[SpectrumRow],
    op: &str,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let one_dim = one_dim_irreps(sweep, op)?;
    let at = |checkpoint: &str| -> Vec<f64> {
        seed_spectra(rows, op, "embed", checkpoint, "identity")
            .values()
            .map(|spec| {
                spec.iter()
                    .filter(|c| one_dim.contains(&c.0))
                    .map(|c| c.1)
                    .sum()
            })
            .collect()
    };
    Ok((at("final"), at("init")))
}

/// Claims about operations use the suite's operations by family.
pub fn abelian_ops(stats: &[OpStats]) -> Vec<&OpStats> {
    stats
        .iter()
        .filter(|s| ABELIAN_SUITE_FAMILIES.contains(&family(&s.op).as_str()))
        .collect()
}

/// The suite's non-abelian operations.
pub fn non_abelian_ops(stats: &[OpStats]) -> Vec<&OpStats> {
    stats.iter().filter(|s| !s.abelian).collect()
}

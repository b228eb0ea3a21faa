//! Test fixtures shared by the rules' tests: operations whose runs grok at
//! given epochs, and a suite sweep with analysis rows.

use super::ops::OpStats;
use crate::report::data::SweepData;
use crate::results::record::Record;
use crate::results::rows::{AnalysisRow, GroupRow, ResultRow};

/// An operation whose runs grok at the given epochs (None: never).
pub(super) fn stats(op: &str, order: usize, abelian: bool, grokked: &[Option<f64>]) -> OpStats {
    OpStats {
        op: op.into(),
        order,
        abelian,
        group: op.into(),
        memorised: vec![Some(100.0); grokked.len()],
        grokked: grokked.to_vec(),
        first_crossing: grokked.to_vec(),
        test_accuracy: vec![0.5; grokked.len()],
        informative_accuracy: vec![0.5; grokked.len()],
        informative_pairs: 10.0,
        epochs: 3000.0,
    }
}

pub(super) fn suite(sub: Option<f64>, s4: Option<f64>) -> Vec<OpStats> {
    vec![
        stats("add", 113, true, &[Some(400.0); 3]),
        stats("sub", 113, true, &[Some(500.0), sub, Some(600.0)]),
        stats("mul", 112, true, &[Some(450.0); 3]),
        stats("ring", 100, true, &[Some(300.0); 3]),
        stats("s4", 24, false, &[None, s4, None]),
    ]
}

pub(super) fn controls(small_cyclic: usize, large_na: usize) -> Vec<OpStats> {
    let runs =
        |k: usize| -> Vec<Option<f64>> { (0..3).map(|i| (i < k).then_some(1000.0)).collect() };
    vec![
        stats("ring:12", 12, true, &runs(small_cyclic)),
        stats("ring:112", 112, true, &runs(3)),
        stats("alternating:5", 60, false, &runs(large_na)),
    ]
}

/// A sweep of the given operations (one row per run in `results`)
/// with the given analysis rows and spectra table.
pub(super) fn sweep_with(
    ops: &[&str],
    analysis: Vec<AnalysisRow>,
    spectra: Option<polars::prelude::DataFrame>,
) -> SweepData {
    let runs: Vec<ResultRow> = ops
        .iter()
        .map(|o| ResultRow {
            op: o.to_string(),
            ..Default::default()
        })
        .collect();
    SweepData {
        name: "t".into(),
        results: ResultRow::frame(&runs).unwrap(),
        analysis: Some(AnalysisRow::frame(&analysis).unwrap()),
        spectra,
        groups: Some(GroupRow::frame(&GroupRow::of_ops(ops.iter().copied()).unwrap()).unwrap()),
        ..Default::default()
    }
}

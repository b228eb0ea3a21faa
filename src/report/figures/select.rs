//! How figures pick and summarise runs: the first operation of each
//! family, the non-abelian ones, runs by operation, panel captions, grok
//! epochs and budgets.

use crate::report::data::{group_of, SweepData};
use crate::report::Result;
use crate::results::rows::{GroupRow, ResultRow};
use std::collections::BTreeMap;

/// The first operation of each family in a sweep, in the families' order.
///
/// # Errors
/// The sweep's groups table is missing or does not list an operation.
pub(crate) fn first_of_families(s: &SweepData, families: &[&str]) -> Result<Vec<String>> {
    let groups = s.groups()?;
    let ops = s.ops()?;
    let mut out = Vec::new();
    for f in families {
        for op in &ops {
            if group_of(&groups, op)?.family == *f {
                out.push(op.clone());
                break;
            }
        }
    }
    Ok(out)
}

/// The sweep's operations whose analysis group is non-abelian, in order.
///
/// # Errors
/// The sweep's groups table is missing or does not list an operation.
pub(crate) fn non_abelian(s: &SweepData) -> Result<Vec<String>> {
    let groups = s.groups()?;
    let mut out = Vec::new();
    for op in s.ops()? {
        if !group_of(&groups, &op)?.abelian {
            out.push(op);
        }
    }
    Ok(out)
}

/// The group rows of several sweeps, for figures that pool them.
pub(crate) fn groups_of(sweeps: &[&SweepData]) -> Result<Vec<GroupRow>> {
    let mut out = Vec::new();
    for s in sweeps {
        out.extend(s.groups()?);
    }
    Ok(out)
}

/// x -> (x as drawn, grok epochs of the runs there; `None` = not grokked).
pub(crate) type GrokEpochsAt = BTreeMap<i64, (f64, Vec<Option<f64>>)>;

/// The run ids of each operation of a sweep, in order.
pub(crate) fn runs_by_op(runs: Vec<ResultRow>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in runs {
        match out.iter_mut().find(|(o, _)| *o == r.op) {
            Some((_, v)) => v.push(r.run_id),
            None => out.push((r.op, vec![r.run_id])),
        }
    }
    out
}

/// A panel's caption: the operation, its group and the group's order.
pub(crate) fn panel_caption(groups: &[GroupRow], op: &str) -> Result<String> {
    let g = group_of(groups, op)?;
    Ok(format!("{op} ({}, |G| = {})", g.group, g.order))
}

/// (op, sustained grok epoch) for every run of a sweep, as the paper
/// counts them.
///
/// # Errors
/// Unreadable results, or a run whose sustained epoch is not recorded.
pub(crate) fn grok_epochs(sweep: &SweepData) -> Result<Vec<(String, Option<f64>)>> {
    Ok(sweep
        .sustained_outcomes()?
        .into_iter()
        .map(|o| (o.op, o.sustained.epoch_f64()))
        .collect())
}

/// The longest training budget of the runs (at least 1).
pub(crate) fn max_epochs(runs: &[ResultRow]) -> f64 {
    runs.iter().map(|r| f64::from(r.epochs)).fold(1.0, f64::max)
}

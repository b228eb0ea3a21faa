//! A sweep's committed results as a record of its complete runs.
//!
//! A campaign's runs directory lives outside the work tree and may not
//! survive (a new machine, a cleaned scratch disk); what survives is
//! `experiments/<name>/results.parquet` and `curves.parquet`, committed as
//! orders complete. A run listed there with the same run id (which hashes
//! its whole configuration) is complete: the sweep does not train it again,
//! and aggregation keeps its committed row and curve beside the rows of
//! the run directories it finds. Whatever the runs directory holds of a
//! run (its directory, or a `.partial` one) wins over its committed row.

use super::TrainError;
use crate::results::rows;
use crate::store::{read_parquet, vstack_all};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The committed results of one sweep (empty when it has none yet).
#[derive(Debug, Default)]
pub struct Committed {
    file: Option<PathBuf>,
    results: DataFrame,
    curves: DataFrame,
    ids: HashSet<String>,
}

fn polars_err(path: &Path) -> impl Fn(PolarsError) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn run_ids(df: &DataFrame, path: &Path) -> Result<Vec<String>, TrainError> {
    let col = crate::column!(rows::ResultRow, run_id);
    let ids = df
        .column(col)
        .and_then(|c| c.str().cloned())
        .map_err(polars_err(path))?;
    Ok(ids.iter().flatten().map(String::from).collect())
}

impl Committed {
    /// Reads `results_dir/results.parquet` and its curves, if the sweep has
    /// committed results.
    ///
    /// # Errors
    /// A results file that is there but unreadable or fails its checksum (it
    /// is not ignored: its runs would be trained again).
    pub fn read(results_dir: &Path) -> Result<Self, TrainError> {
        let file = results_dir.join("results.parquet");
        if !file.exists() {
            return Ok(Self::default());
        }
        let results = read_parquet(&file)?;
        let curves_file = results_dir.join("curves.parquet");
        let curves = if curves_file.exists() {
            read_parquet(&curves_file)?
        } else {
            DataFrame::default()
        };
        let ids = run_ids(&results, &file)?.into_iter().collect();
        Ok(Self {
            file: Some(file),
            results,
            curves,
            ids,
        })
    }

    /// Whether run `id` is in the committed results.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// The committed results file, if there is one.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The results and curves of a sweep: `fresh` (from run directories,
    /// `None` when there are none) and the committed rows of the runs in
    /// `keep`, rows in the order of `order` (the sweep's run ids).
    ///
    /// # Errors
    /// Committed tables with a column this grokscope does not write, or of
    /// a type it cannot convert.
    pub fn merge(
        &self,
        fresh: Option<(DataFrame, DataFrame)>,
        keep: &HashSet<String>,
        order: &[String],
    ) -> Result<(DataFrame, DataFrame), TrainError> {
        let file = self.file.clone().unwrap_or_default();
        let kept = |df: &DataFrame, key: &str| -> Result<DataFrame, TrainError> {
            if df.width() == 0 {
                return Ok(DataFrame::default());
            }
            let mask: BooleanChunked = df
                .column(key)
                .and_then(|c| c.str().cloned())
                .map_err(polars_err(&file))?
                .iter()
                .map(|id| Some(id.is_some_and(|id| keep.contains(id))))
                .collect();
            df.filter(&mask).map_err(polars_err(&file))
        };
        let id_key = crate::column!(rows::ResultRow, run_id);
        let curve_key = rows::CurveRow::KEY[0];
        let old_results = kept(&self.results, id_key)?;
        let old_curves = kept(&self.curves, curve_key)?;
        let (results, curves) = match fresh {
            None => (old_results, old_curves),
            Some((results, curves)) => (
                stack_aligned(results, old_results, &file)?,
                stack_aligned(curves, old_curves, &file)?,
            ),
        };
        let rank: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        Ok((
            in_order(results, id_key, &rank, &file)?,
            in_order(curves, curve_key, &rank, &file)?,
        ))
    }
}

/// `fresh` with `old`'s rows below, `old`'s columns cast to `fresh`'s types
/// (a column `old` lacks, written by a newer grokscope, is null there).
fn stack_aligned(fresh: DataFrame, old: DataFrame, file: &Path) -> Result<DataFrame, TrainError> {
    if old.height() == 0 {
        return Ok(fresh);
    }
    if let Some(extra) = old
        .get_column_names()
        .into_iter()
        .find(|c| fresh.column(c.as_str()).is_err())
    {
        return Err(TrainError::Io {
            path: file.display().to_string(),
            reason: format!(
                "column {extra} is not one this grokscope writes; aggregate with the grokscope that wrote it, or move the file away to aggregate the run directories alone"
            ),
        });
    }
    let mut columns = Vec::new();
    for c in fresh.columns() {
        let column = match old.column(c.name().as_str()) {
            Ok(o) => o.cast(c.dtype()).map_err(polars_err(file))?,
            Err(_) => Column::full_null(c.name().clone(), old.height(), c.dtype()),
        };
        columns.push(column);
    }
    let old = DataFrame::new(old.height(), columns).map_err(polars_err(file))?;
    Ok(vstack_all(&[fresh, old])?)
}

/// The rows of `df` sorted by the rank of their `key` (a stable sort: a
/// run's curve keeps its epoch order).
fn in_order(
    df: DataFrame,
    key: &str,
    rank: &HashMap<&str, usize>,
    file: &Path,
) -> Result<DataFrame, TrainError> {
    if df.height() == 0 {
        return Ok(df);
    }
    let ids = df
        .column(key)
        .and_then(|c| c.str().cloned())
        .map_err(polars_err(file))?;
    let mut idx: Vec<(usize, IdxSize)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let r = id
                .and_then(|id| rank.get(id))
                .copied()
                .unwrap_or(usize::MAX);
            (r, i as IdxSize)
        })
        .collect();
    idx.sort_by_key(|&(r, _)| r);
    let take = IdxCa::from_vec("idx".into(), idx.into_iter().map(|(_, i)| i).collect());
    df.take(&take).map_err(polars_err(file))
}

//! A sweep's stored tables ([`SweepData`]) and what every part of the
//! report reads from them: typed rows, the stored group of an operation,
//! canonical names and families, and what an ablation varies.

use super::{ReportError, Result};
use crate::results::record::Record;
use crate::results::rows::{CurveRow, GroupRow, ResultRow};
use crate::store::read_parquet;
use polars::prelude::*;
use std::path::Path;

/// The column called `name` ([`crate::results::columns::column`]: a scan
/// by name that works on frames from any notebook cell).
///
/// # Errors
/// No such column.
pub fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column> {
    crate::results::columns::column(df, name).map_err(ReportError::Data)
}

/// The named columns as a new table (for display), found like [`column`],
/// so it works on frames created in another notebook cell.
///
/// # Errors
/// A missing column.
pub fn select(df: &DataFrame, names: &[&str]) -> Result<DataFrame> {
    let cols = names
        .iter()
        .map(|n| column(df, n).cloned())
        .collect::<Result<Vec<_>>>()?;
    DataFrame::new(df.height(), cols).map_err(|e| ReportError::Data(e.to_string()))
}

/// The stored tables of one sweep (`experiments/<name>/`).
#[derive(Debug, Clone, Default)]
pub struct SweepData {
    /// The sweep's name.
    pub name: String,
    /// The directory its tables were read from (named in error messages).
    pub dir: std::path::PathBuf,
    /// `results.parquet`: one row per run (config, summary).
    pub results: DataFrame,
    /// `curves.parquet`: every run's metrics.
    pub curves: Option<DataFrame>,
    /// `analysis.parquet`: one row per run of analysis numbers.
    pub analysis: Option<DataFrame>,
    /// `spectra.parquet`: every run's irrep spectra.
    pub spectra: Option<DataFrame>,
    /// `progress.parquet`: every run's progress measures.
    pub progress: Option<DataFrame>,
    /// `ablations.parquet`: every run's irrep ablations
    /// ([`crate::results::rows::AblationRow`]).
    pub ablations: Option<DataFrame>,
    /// `cka.parquet`.
    pub cka: Option<DataFrame>,
    /// `complexity.parquet`.
    pub complexity: Option<DataFrame>,
    /// `groups.parquet`: one row per operation (see [`crate::results::rows::GroupRow`]).
    pub groups: Option<DataFrame>,
}

/// An operation's canonical `family:n` name (`s3` and `symmetric:3` are
/// both `symmetric:3`); rules that name a group compare these, so a sweep
/// written either way is read the same.
pub(crate) fn canonical(op: &str) -> String {
    crate::groups::OperationSpec::parse(op)
        .map(|s| s.canonical())
        .unwrap_or_else(|_| op.to_string())
}

/// An operation's family (`add:47` and `add` are `add`), from its name; the
/// name itself when it does not parse.
pub(crate) fn family(op: &str) -> String {
    crate::groups::OperationSpec::parse(op)
        .map(|s| s.family)
        .unwrap_or_else(|_| op.to_string())
}

/// What an ablation sweep varies across its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swept {
    /// The training fraction (`ablation-fraction`).
    TrainFraction,
    /// AdamW's weight decay (`ablation-wd`).
    WeightDecay,
    /// The group order |G|, from the groups table (`ablation-size`).
    Order,
}

impl Swept {
    /// Its value for run `run` of an operation whose group is `group`.
    pub fn of(self, run: &ResultRow, group: &GroupRow) -> f64 {
        match self {
            Swept::TrainFraction => run.train_fraction,
            Swept::WeightDecay => run.weight_decay,
            Swept::Order => f64::from(group.order),
        }
    }
}

/// The families of the reference suite's abelian operations: R7's subset.
pub(crate) const ABELIAN_SUITE_FAMILIES: [&str; 4] = ["add", "sub", "mul", "ring"];

impl SweepData {
    /// Loads `dir/<name>/`; `None` when the sweep has no results yet.
    ///
    /// # Errors
    /// A file that exists but cannot be read.
    pub fn load(dir: &Path, name: &str) -> Result<Option<Self>> {
        let base = dir.join(name);
        let opt = |file: &str| -> Result<Option<DataFrame>> {
            let p = base.join(format!("{file}.parquet"));
            if p.exists() {
                Ok(Some(read_parquet(&p)?))
            } else {
                Ok(None)
            }
        };
        let Some(results) = opt("results")? else {
            // A sweep never aggregated has no directory; one whose other
            // tables are there has lost its results.
            if base.is_dir() && std::fs::read_dir(&base).is_ok_and(|mut d| d.next().is_some()) {
                return Err(ReportError::Data(format!(
                    "{} holds tables but no results.parquet; restore it (git checkout {0}) or aggregate the sweep again (grokscope sweep {name}.toml --aggregate)",
                    base.display()
                )));
            }
            return Ok(None);
        };
        Ok(Some(Self {
            name: name.to_string(),
            dir: base.clone(),
            results,
            curves: opt("curves")?,
            analysis: opt("analysis")?,
            spectra: opt("spectra")?,
            progress: opt("progress")?,
            ablations: opt("ablations")?,
            cka: opt("cka")?,
            complexity: opt("complexity")?,
            groups: opt("groups")?,
        }))
    }

    /// Operations in first-appearance order.
    ///
    /// # Errors
    /// An unreadable results table.
    pub fn ops(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for r in self.runs()? {
            if !out.contains(&r.op) {
                out.push(r.op);
            }
        }
        Ok(out)
    }

    /// The results table as typed rows, one per run (see [`ResultRow`]).
    ///
    /// # Errors
    /// A column missing or of the wrong type.
    pub fn runs(&self) -> Result<Vec<ResultRow>> {
        ResultRow::read_all(&self.results).map_err(|e| self.table_err("results", e))
    }

    /// The curves table as typed rows (see [`CurveRow`]).
    ///
    /// # Errors
    /// No `curves.parquet` (re-aggregate the sweep) or an unreadable one.
    pub fn curve_rows(&self) -> Result<Vec<CurveRow>> {
        CurveRow::read_all(self.need(&self.curves, "curves")?)
            .map_err(|e| self.table_err("curves", e))
    }

    /// A one-line error about one of the sweep's files.
    fn table_err(&self, what: &str, e: String) -> ReportError {
        ReportError::Data(format!("{}: {e}", self.file(what)))
    }

    /// The sweep's directory, for messages: `experiments/<name>` for a
    /// sweep built in memory without one.
    pub fn location(&self) -> std::path::PathBuf {
        if self.dir.as_os_str().is_empty() {
            Path::new("experiments").join(&self.name)
        } else {
            self.dir.clone()
        }
    }

    /// Where the sweep's `what` table lives, for messages.
    fn file(&self, what: &str) -> String {
        self.location()
            .join(format!("{what}.parquet"))
            .display()
            .to_string()
    }

    /// A table that must exist for a figure.
    ///
    /// # Errors
    /// It was not written: the message names the command that writes it
    /// (`grokscope sweep … --aggregate` for the curves, `grokscope analyze
    /// --sweep` for the analysis tables).
    pub fn need<'a>(&'a self, table: &'a Option<DataFrame>, what: &str) -> Result<&'a DataFrame> {
        table.as_ref().ok_or_else(|| {
            let dir = self.location();
            let fix = if what == "curves" {
                format!(
                    "aggregate the sweep again: `grokscope sweep {}.toml --aggregate`",
                    dir.display()
                )
            } else {
                format!("run `grokscope analyze --sweep {}`", dir.display())
            };
            ReportError::Data(format!("{} is missing; {fix}", self.file(what)))
        })
    }

    /// The stored group of each operation, in the sweep's order.
    ///
    /// # Errors
    /// No `groups.parquet` (the message says to run `grokscope migrate`) or
    /// an unreadable one.
    pub fn groups(&self) -> Result<Vec<GroupRow>> {
        match &self.groups {
            Some(_) => self.need_rows(&self.groups, "groups"),
            None => Err(ReportError::Data(format!(
                "{} is missing (the sweep was aggregated before grokscope stored its groups); run `grokscope migrate {}`",
                self.file("groups"),
                self.location().display()
            ))),
        }
    }

    /// The analysis table as typed rows (see
    /// [`crate::results::rows::AnalysisRow`]).
    ///
    /// # Errors
    /// No `analysis.parquet` (run `grokscope analyze --sweep`) or an
    /// unreadable one.
    pub fn analysis_rows(&self) -> Result<Vec<crate::results::rows::AnalysisRow>> {
        self.need_rows(&self.analysis, "analysis")
    }

    /// The CKA table as typed rows (see [`crate::results::rows::CkaRow`]).
    ///
    /// # Errors
    /// No `cka.parquet` (run `grokscope analyze --sweep`) or an unreadable one.
    pub fn cka_rows(&self) -> Result<Vec<crate::results::rows::CkaRow>> {
        self.need_rows(&self.cka, "cka")
    }

    /// A table's typed rows ([`Self::need`], read through its
    /// [`Record`](crate::results::record::Record)).
    ///
    /// # Errors
    /// As [`Self::need`], or a column missing or of the wrong type.
    pub fn need_rows<R: crate::results::record::Record>(
        &self,
        table: &Option<DataFrame>,
        what: &str,
    ) -> Result<Vec<R>> {
        R::read_all(self.need(table, what)?).map_err(|e| self.table_err(what, e))
    }
}

/// The stored group of operation `op` (as configured or by its canonical
/// name).
///
/// # Errors
/// An operation the groups table does not list.
pub fn group_of<'a>(groups: &'a [GroupRow], op: &str) -> Result<&'a GroupRow> {
    groups.iter().find(|g| g.op == op || g.canonical == op).ok_or_else(|| {
        ReportError::Data(format!(
            "operation {op} is not in the sweep's groups table; run `grokscope migrate` on the sweep's directory"
        ))
    })
}

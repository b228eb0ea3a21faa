//! The layout of every stored table, and its format version.
//!
//! Each Parquet file grokscope writes carries two file-level metadata
//! entries: `grokscope.table` (the table's name below) and
//! `grokscope.format` (its layout version). [`crate::store::write_parquet`]
//! stamps them and refuses a column the layout does not list (so renaming
//! a struct field cannot silently rename a stored column);
//! [`crate::store::read_parquet`] refuses a file without them or of another
//! version, with a one-line error saying what to do: an older file is
//! brought up to date by `grokscope migrate DIR` ([`migrate`]), a newer one
//! needs a newer grokscope.
//!
//! A layout is its required columns (every file has them) and its optional
//! ones: columns added after the first results were stored, absent from
//! older files and read as "not measured". Column names are those users'
//! scripts read; they do not change within a version.
//!
//! Rows of the analysis tables are declared once in [`rows`] (see
//! [`record`]); their layouts here take their columns from those structs.

pub mod columns;
pub mod record;
pub mod rows;

use record::{Record, RUN_KEY};
use rows::{
    AblationRow, AnalysisRow, CkaRow, ComplexityRow, CurveRow, GroupRow, MetricPoint, NeuronRow,
    ProgressRow, RunSpectrumRow,
};
use std::path::Path;

/// Metadata key naming the table.
pub const TABLE_KEY: &str = "grokscope.table";
/// Metadata key holding the table's layout version.
pub const FORMAT_KEY: &str = "grokscope.format";

/// Where a table lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// In a run directory (`runs/<id>/...`).
    Run,
    /// In a sweep's results directory (`experiments/<name>/...`).
    Sweep,
}

/// One stored table's layout.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// The table's name, stamped into its files.
    pub table: &'static str,
    /// Where it lives.
    pub level: Level,
    /// Its file name (run-level analysis tables live in `analysis/`;
    /// resume points' metrics are `resume/metrics-<epoch>.parquet`).
    pub file: &'static str,
    /// Layout version; bump it (and teach [`migrate`] the change) when a
    /// column is renamed, removed or changes meaning.
    pub version: u32,
    /// Columns naming the run a row came from, first in the file
    /// ([`record::RUN_KEY`] for sweep tables of run-level rows).
    pub key: &'static [&'static str],
    /// Columns every file of this version has (after the key).
    pub required: &'static [&'static str],
    /// Columns added later; absent from older files ("not measured").
    /// A function, because the results table's are derived from the
    /// structs its rows flatten ([`results_optional`]).
    pub optional: fn() -> &'static [&'static str],
}

impl Layout {
    /// Whether the layout lists `column`.
    pub fn has(&self, column: &str) -> bool {
        self.key.contains(&column)
            || self.required.contains(&column)
            || (self.optional)().contains(&column)
    }

    /// Checks that the layout lists every column (what a writer may add;
    /// required columns are checked by [`Layout::check`]).
    ///
    /// # Errors
    /// A column the layout does not list.
    pub fn check_known<'a>(
        &self,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), String> {
        match columns.into_iter().find(|c| !self.has(c)) {
            Some(c) => Err(format!(
                "column {c} is not in the {} table's layout (format {}); add it to the table's row in src/results (rows.rs; mod.rs for results and metrics)",
                self.table, self.version
            )),
            None => Ok(()),
        }
    }

    /// Checks a file's columns against the layout.
    ///
    /// # Errors
    /// A required column missing or a column the layout does not list.
    pub fn check<'a>(&self, columns: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
        let columns: Vec<&str> = columns.into_iter().collect();
        self.check_known(columns.iter().copied())?;
        let mut required = self.key.iter().chain(self.required);
        if let Some(c) = required.find(|c| !columns.contains(c)) {
            return Err(format!(
                "the {} table lacks its required column {c}",
                self.table
            ));
        }
        Ok(())
    }
}

/// The columns every results table of format 1 has: the run configuration's
/// and summary's fields as serde names them (flattened
/// [`crate::config::RunConfig`] and [`crate::grok::Summary`]) and the
/// provenance columns, as they were when the format was fixed. Frozen: a
/// column added since is optional ([`results_optional`]).
const RESULTS_REQUIRED: &[&str] = &[
    "beta1",
    "beta2",
    "checkpoint_every",
    "d_mlp",
    "d_model",
    "epochs",
    "eval_every",
    "layer_norm",
    "lr",
    "n_heads",
    "op",
    "seed",
    "threads",
    "train_fraction",
    "weight_decay",
    "final_informative_accuracy",
    "final_test_accuracy",
    "final_test_loss",
    "final_train_accuracy",
    "final_train_loss",
    "grok_delay",
    "grokked_epoch",
    "informative_pairs",
    "memorised_epoch",
    "test_pairs",
    "wall_seconds",
    "canonical_op",
    "config_hash",
    "dataset_hash",
    "crate_version",
    "libtorch_version",
    "git_commit",
    "run_threads",
    "batch_seeds",
];

/// The columns a results row adds after its run's config and summary, in
/// order: where the run came from (written by
/// `train::sweep::results_frame`). `cpu` (the CPU's model name, from the
/// manifest's `kernels`) and `step_revision` came after format 1: rows
/// aggregated before them, and committed rows kept without their run
/// directory, have them null ("not recorded").
pub const RESULTS_PROVENANCE: [&str; 12] = [
    "canonical_op",
    "config_hash",
    "dataset_hash",
    "crate_version",
    "libtorch_version",
    "git_commit",
    "run_threads",
    "kernel_path",
    "host",
    "batch_seeds",
    "cpu",
    "step_revision",
];

/// The columns a results row adds last when its run directory had been
/// analysed (`grokscope analyze RUN`) before aggregation: the embedding's
/// dominant irrep, its complex degree, whether it is faithful, and its
/// share of the embedding's non-constant power, from
/// `<run>/analysis/summary.json`. Null for a run not analysed; a committed
/// row kept without its run directory keeps the values it had.
///
/// Each with its stored type: its values may all be null in one
/// aggregation, so the type cannot be read off them.
pub const RESULTS_ANALYSIS: [(&str, polars::prelude::DataType); 4] = [
    ("dominant_irrep", polars::prelude::DataType::String),
    ("dominant_degree", polars::prelude::DataType::Int64),
    ("dominant_faithful", polars::prelude::DataType::Boolean),
    ("dominant_share", polars::prelude::DataType::Float64),
];

/// The results table's optional columns: every column a results row has
/// (the fields of [`crate::config::RunConfig`] and [`crate::grok::Summary`]
/// as serde names them, and [`RESULTS_PROVENANCE`]) that format 1 did not
/// require. Derived from the structs, so a field added to either is a known
/// column without being listed anywhere.
fn results_optional() -> &'static [&'static str] {
    static COLUMNS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut out: Vec<&'static str> = Vec::new();
        for value in [
            serde_json::to_value(crate::config::RunConfig::default()),
            serde_json::to_value(crate::grok::Summary::default()),
        ] {
            if let Ok(serde_json::Value::Object(fields)) = value {
                // Leaked once per process: a few dozen short names.
                out.extend(
                    fields
                        .keys()
                        .map(|k| &*Box::leak(k.clone().into_boxed_str())),
                );
            }
        }
        out.extend(RESULTS_PROVENANCE);
        out.extend(RESULTS_ANALYSIS.map(|(c, _)| c));
        out.retain(|c| !RESULTS_REQUIRED.contains(c));
        out
    });
    &COLUMNS
}

/// A record's optional columns.
fn optional_of<R: Record>() -> &'static [&'static str] {
    R::OPTIONAL
}

/// A layout whose columns are a [`Record`]'s, after `key`.
const fn of<R: Record>(
    table: &'static str,
    level: Level,
    file: &'static str,
    key: &'static [&'static str],
) -> Layout {
    Layout {
        table,
        level,
        file,
        version: 1,
        key,
        required: R::REQUIRED,
        optional: optional_of::<R>,
    }
}

/// Every stored table.
pub const LAYOUTS: &[Layout] = &[
    Layout {
        table: "results",
        level: Level::Sweep,
        file: "results.parquet",
        version: 1,
        key: &["run_id"],
        required: RESULTS_REQUIRED,
        optional: results_optional,
    },
    of::<MetricPoint>("curves", Level::Sweep, "curves.parquet", CurveRow::KEY),
    of::<RunSpectrumRow>("spectra", Level::Sweep, "spectra.parquet", RUN_KEY),
    of::<ProgressRow>("progress", Level::Sweep, "progress.parquet", RUN_KEY),
    of::<AblationRow>("ablations", Level::Sweep, "ablations.parquet", RUN_KEY),
    of::<AnalysisRow>("analysis", Level::Sweep, "analysis.parquet", &[]),
    of::<CkaRow>("cka", Level::Sweep, "cka.parquet", &[]),
    of::<ComplexityRow>("complexity", Level::Sweep, "complexity.parquet", &[]),
    of::<GroupRow>("groups", Level::Sweep, "groups.parquet", &[]),
    of::<MetricPoint>("run-metrics", Level::Run, "metrics.parquet", &[]),
    of::<RunSpectrumRow>("run-spectra", Level::Run, "spectra.parquet", &[]),
    of::<NeuronRow>("run-neurons", Level::Run, "neurons.parquet", &[]),
    of::<ProgressRow>("run-progress", Level::Run, "progress.parquet", &[]),
    of::<AblationRow>("run-ablations", Level::Run, "ablations.parquet", &[]),
];

/// The layout named `table`.
pub fn layout(table: &str) -> Option<&'static Layout> {
    LAYOUTS.iter().find(|l| l.table == table)
}

/// The layout a file at `path` holds, from where it lives: run-level
/// analysis tables are in `<run>/analysis/`, run metrics are
/// `metrics.parquet` or a resume point's `metrics-<epoch>.parquet`, every
/// other known file name is a sweep table. `None` for another file.
pub fn layout_for_path(path: &Path) -> Option<&'static Layout> {
    let name = path.file_name()?.to_str()?;
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|p| p.to_str())
        .unwrap_or("");
    if name.starts_with("metrics") && name.ends_with(".parquet") {
        return layout("run-metrics");
    }
    let level = if parent == "analysis" {
        Level::Run
    } else {
        Level::Sweep
    };
    LAYOUTS.iter().find(|l| l.level == level && l.file == name)
}

/// What reading a file's stamp found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// Written before format versions existed.
    Missing,
    /// (table, version).
    Found(String, u32),
}

/// Checks a file's stamp against the layout its path says it holds.
///
/// # Errors
/// A file without a stamp, of another table, or of another version: the
/// message says what to do.
pub fn check_stamp(path: &Path, stamp: &Stamp) -> Result<(), String> {
    let Some(expected) = layout_for_path(path) else {
        return Ok(());
    };
    let dir = path
        .parent()
        .map_or_else(|| ".".into(), |p| p.display().to_string());
    match stamp {
        Stamp::Missing => Err(format!(
            "written before tables carried a format version; run `grokscope migrate {dir}` once"
        )),
        Stamp::Found(table, _) if table != expected.table => Err(format!(
            "holds the {table} table where the {} table belongs; move it or re-run what writes it",
            expected.table
        )),
        Stamp::Found(_, v) if *v < expected.version => Err(format!(
            "format {v} of the {} table, this grokscope reads format {}; run `grokscope migrate {dir}`",
            expected.table, expected.version
        )),
        Stamp::Found(_, v) if *v > expected.version => Err(format!(
            "format {v} of the {} table, newer than this grokscope reads ({}); use a newer grokscope",
            expected.table, expected.version
        )),
        Stamp::Found(..) => Ok(()),
    }
}

/// Brings every table under `dir` (recursively) to the current format:
/// checks that its layout lists each of the file's columns and stamps it,
/// writing atomically. Files already current are left untouched; a file of
/// a newer format or with a column the layout does not list is an error
/// naming it. Required columns are not enforced, so hand-made partial
/// tables migrate too. A sweep directory (one with `results.parquet`)
/// without `groups.parquet` gets one, computed from its operations.
///
/// # Errors
/// An unreadable directory or file, or a file that cannot be migrated.
pub fn migrate(dir: &Path) -> Result<Migration, crate::store::StoreError> {
    use crate::store::{read_parquet_unchecked, read_stamp, write_parquet, StoreError};
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| StoreError::new(&d, e))?;
        for e in entries {
            let p = e.map_err(|e| StoreError::new(&d, e))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") && layout_for_path(&p).is_some()
            {
                files.push(p);
            }
        }
    }
    files.sort();
    let sweep_results: Vec<std::path::PathBuf> = files
        .iter()
        .filter(|p| {
            layout_for_path(p).is_some_and(|l| l.table == "results")
                && !p.with_file_name("groups.parquet").exists()
        })
        .cloned()
        .collect();
    let mut done = Migration::default();
    for p in files {
        let stamp = read_stamp(&p)?;
        match (check_stamp(&p, &stamp), &stamp) {
            (Ok(()), _) => {
                // Tables written before checksums were recorded get one.
                if crate::store::has_sum(&p) {
                    done.current += 1;
                } else {
                    let bytes = std::fs::read(&p).map_err(|e| StoreError::new(&p, e))?;
                    crate::store::record_sum(&p, &bytes)?;
                    done.checksummed += 1;
                }
                continue;
            }
            // Only unstamped (format 0) files are migrated by this version;
            // anything else is reported as check_stamp words it.
            (Err(e), Stamp::Found(..)) => return Err(StoreError::new(&p, e)),
            (Err(_), Stamp::Missing) => {}
        }
        // write_parquet refuses a column the layout does not list.
        let mut df = read_parquet_unchecked(&p)?;
        write_parquet(&mut df, &p)?;
        done.stamped += 1;
    }
    for results in sweep_results {
        let dir = results.parent().unwrap_or(Path::new("."));
        write_groups(&crate::store::read_parquet(&results)?, dir)?;
        done.groups_added += 1;
    }
    Ok(done)
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Migration {
    /// Tables stamped with the current format (they had no stamp).
    pub stamped: usize,
    /// Sweeps given the groups table they lacked.
    pub groups_added: usize,
    /// Tables already current whose checksum was recorded (they had none).
    pub checksummed: usize,
    /// Tables already current, left untouched.
    pub current: usize,
}

impl std::fmt::Display for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{} stamped, {} added, {} checksummed, {} already current",
            plural(self.stamped, "table", "tables"),
            plural(self.groups_added, "groups table", "groups tables"),
            plural(self.checksummed, "table", "tables"),
            plural(self.current, "table", "tables"),
        )
    }
}

/// Writes `dir/groups.parquet` (and `.csv`): one [`GroupRow`] per
/// operation of a sweep's results table (its `op` column, or
/// `canonical_op` in a table without one).
///
/// # Errors
/// A results table with neither column, an operation that does not
/// parse, or a write error.
pub fn write_groups(
    results: &polars::prelude::DataFrame,
    dir: &Path,
) -> Result<std::path::PathBuf, crate::store::StoreError> {
    let path = dir.join("groups.parquet");
    let err = |e: String| crate::store::StoreError::new(&path, e);
    // A hand-made table may carry only the canonical names.
    let ops = columns::strings(results, crate::column!(rows::ResultRow, op))
        .or_else(|_| columns::strings(results, crate::column!(rows::ResultRow, canonical_op)))
        .map_err(err)?;
    let rows = GroupRow::of_ops(ops.iter().map(String::as_str)).map_err(err)?;
    let mut df = GroupRow::frame(&rows).map_err(|e| err(e.to_string()))?;
    crate::store::write_parquet(&mut df, &path)?;
    crate::store::write_csv(&mut df, &path.with_extension("csv"))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::record::Record;
    use super::rows::GroupRow;
    use super::*;
    use polars::prelude::*;

    #[test]
    fn results_columns_are_the_fields_of_the_structs_a_row_flattens() {
        let fields = |v: serde_json::Value| match v {
            serde_json::Value::Object(o) => o.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let mut row = fields(serde_json::to_value(crate::config::RunConfig::default()).unwrap());
        row.extend(fields(
            serde_json::to_value(crate::grok::Summary::default()).unwrap(),
        ));
        row.extend(RESULTS_PROVENANCE.iter().map(|c| c.to_string()));
        row.extend(RESULTS_ANALYSIS.iter().map(|(c, _)| c.to_string()));
        let l = layout("results").unwrap();
        // Every field is a column, and every column but the key is a field:
        // the frozen required list has no name the structs lost.
        for f in &row {
            assert!(l.has(f), "{f}");
        }
        for c in l.required.iter().chain((l.optional)()) {
            assert!(row.iter().any(|f| f == c), "{c} is no field");
        }
        assert_eq!(l.required.len() + (l.optional)().len(), row.len());
        // Fields added after format 1 are optional, old files lack them.
        for added in [
            "stop_reason",
            "loss_spikes",
            "host",
            "softmax",
            "cpu",
            "step_revision",
            "dominant_irrep",
            "dominant_faithful",
        ] {
            assert!((l.optional)().contains(&added) && !l.required.contains(&added));
        }
    }

    #[test]
    fn the_results_row_reads_columns_of_the_results_layout() {
        use rows::ResultRow;
        let l = layout("results").unwrap();
        // A required field is a column every results file has; an optional
        // one is a column older files may lack.
        for c in ResultRow::REQUIRED {
            assert!(
                l.key.contains(c) || l.required.contains(c),
                "{c} is not a required results column"
            );
        }
        for c in ResultRow::OPTIONAL {
            assert!(
                (l.optional)().contains(c),
                "{c} is not an optional results column"
            );
        }
    }

    #[test]
    fn paths_name_their_tables() {
        let t = |p: &str| layout_for_path(Path::new(p)).map(|l| l.table);
        assert_eq!(t("experiments/suite/results.parquet"), Some("results"));
        assert_eq!(t("experiments/suite/spectra.parquet"), Some("spectra"));
        assert_eq!(t("runs/x/analysis/spectra.parquet"), Some("run-spectra"));
        assert_eq!(t("runs/x/analysis/progress.parquet"), Some("run-progress"));
        assert_eq!(t("runs/x/metrics.parquet"), Some("run-metrics"));
        assert_eq!(
            t("runs/x/resume/metrics-000100.parquet"),
            Some("run-metrics")
        );
        assert_eq!(t("runs/x/other.parquet"), None);
    }

    #[test]
    fn stamps_are_checked_both_ways_with_what_to_do() {
        let p = Path::new("experiments/suite/cka.parquet");
        assert!(check_stamp(p, &Stamp::Found("cka".into(), 1)).is_ok());
        let e = check_stamp(p, &Stamp::Missing).unwrap_err();
        assert!(e.contains("grokscope migrate experiments/suite"), "{e}");
        let e = check_stamp(p, &Stamp::Found("cka".into(), 0)).unwrap_err();
        assert!(e.contains("run `grokscope migrate"), "{e}");
        let e = check_stamp(p, &Stamp::Found("cka".into(), 2)).unwrap_err();
        assert!(e.contains("newer grokscope"), "{e}");
        let e = check_stamp(p, &Stamp::Found("curves".into(), 1)).unwrap_err();
        assert!(e.contains("holds the curves table"), "{e}");
        // A file that is not one of the tables is not checked.
        assert!(check_stamp(Path::new("x/y.parquet"), &Stamp::Missing).is_ok());
    }

    #[test]
    fn a_renamed_or_missing_column_does_not_fit_the_layout() {
        let l = layout("complexity").unwrap();
        let ok = l.required.to_vec();
        assert!(l.check(ok.iter().copied()).is_ok());
        let mut renamed = ok.clone();
        renamed[2] = "rho";
        let e = l.check(renamed.iter().copied()).unwrap_err();
        assert!(
            e.contains("column rho is not in the complexity table"),
            "{e}"
        );
        let e = l.check(ok[1..].iter().copied()).unwrap_err();
        assert!(e.contains("lacks its required column subset"), "{e}");
        // Optional columns may be absent.
        let a = layout("analysis").unwrap();
        assert!(a.check(a.required.iter().copied()).is_ok());
    }

    #[test]
    fn every_table_name_and_file_is_unique_per_level() {
        for (i, a) in LAYOUTS.iter().enumerate() {
            for b in &LAYOUTS[i + 1..] {
                assert_ne!(a.table, b.table);
                assert!(a.level != b.level || a.file != b.file, "{}", a.file);
            }
        }
    }

    /// Irrep dimensions and types from the character tables in James &
    /// Liebeck, *Representations and Characters of Groups*: S4 has real
    /// irreps of degrees 1, 3, 2, 3, 1; A4 a complex pair of linear
    /// characters (one real irrep of real dimension 2); Q8 one
    /// quaternionic irrep of degree 2 (real dimension 4).
    #[test]
    fn group_rows_match_published_character_tables() {
        let s4 = GroupRow::of("s4").unwrap();
        assert_eq!(
            (s4.order, s4.abelian, s4.irrep_dims.as_str(), s4.n_irreps),
            (24, false, "1 3 2 3 1", 5)
        );
        assert_eq!(s4.canonical, "symmetric:4");
        let a4 = GroupRow::of("a4").unwrap();
        assert_eq!(a4.irrep_dims, "1 2 3");
        assert_eq!(a4.irrep_types, "real complex real");
        let q8 = GroupRow::of("quaternion").unwrap();
        assert!(
            q8.irrep_types.ends_with("quaternionic"),
            "{}",
            q8.irrep_types
        );
        assert_eq!(q8.irrep_dims.split(' ').next_back(), Some("4"));
        let z = GroupRow::of("add:7").unwrap();
        assert_eq!((z.order, z.abelian, z.rank, z.f1), (7, true, 1, 2));
        // The stored scores are the computed ones.
        let g = crate::groups::Operation::parse("s4")
            .unwrap()
            .analysis
            .group;
        assert_eq!(
            s4.scores(),
            crate::analysis::complexity::ComplexityScores::of(&g)
        );
        assert!(GroupRow::of("s99x").is_err());
    }

    #[test]
    fn stored_one_dimensional_irreps_are_the_computed_ones() {
        for op in [
            "s3",
            "d5",
            "a4",
            "s4",
            "add:7",
            "quaternion",
            "alternating:5",
            "ring:12",
            "xor:3",
        ] {
            let row = GroupRow::of(op).unwrap();
            let g = crate::groups::Operation::parse(op).unwrap().analysis.group;
            let computed: Vec<String> = g
                .representations()
                .real
                .iter()
                .filter(|r| !r.is_trivial() && r.complex_dim() == 1)
                .map(|r| r.name.clone())
                .collect();
            assert_eq!(row.one_dim_irreps(), computed, "{op}");
        }
        // S3: only the sign; A5 is perfect: none.
        assert_eq!(GroupRow::of("s3").unwrap().one_dim_irreps(), ["[1,1,1]"]);
        assert!(GroupRow::of("alternating:5")
            .unwrap()
            .one_dim_irreps()
            .is_empty());
    }

    #[test]
    fn migrate_adds_a_groups_table_to_a_sweep_once() {
        let dir = std::env::temp_dir().join(format!("grokscope-groups-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut results = df!(
            "run_id" => ["a", "b", "c"],
            "op" => ["s3", "add:7", "s3"],
        )
        .unwrap();
        crate::store::write_parquet(&mut results, &dir.join("results.parquet")).unwrap();
        let done = migrate(&dir).unwrap();
        assert_eq!((done.stamped, done.groups_added, done.current), (0, 1, 1));
        assert_eq!(
            done.to_string(),
            "0 tables stamped, 1 groups table added, 0 tables checksummed, 1 table already current"
        );
        let groups = crate::store::read_parquet(&dir.join("groups.parquet")).unwrap();
        let rows = GroupRow::read_all(&groups).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.op.as_str()).collect::<Vec<_>>(),
            ["s3", "add:7"]
        );
        assert!(dir.join("groups.csv").exists());
        let again = migrate(&dir).unwrap();
        assert_eq!(
            (again.stamped, again.groups_added, again.current),
            (0, 0, 2)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

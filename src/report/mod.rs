//! Figures and tables from stored results: everything in `figures/` and
//! `paper/generated/` is drawn from `experiments/` alone (no training, no
//! `runs/`), byte-stable from run to run.
//!
//! One figure is one function in [`figures`], generic over the plotters
//! backend: the CLI renders it to SVG and PNG, a notebook renders it inline
//! with `evcxr_figure`. [`tables`] writes the LaTeX tables, the number
//! macros and the verdict on each claim of the reference study.
//!
//! ```no_run
//! use grokscope::report::{figures, Experiments};
//! let exp = Experiments::load(std::path::Path::new("experiments")).unwrap();
//! let suite = exp.suite.as_ref().unwrap();
//! grokscope::report::register_fonts();
//! let svg = grokscope::report::svg_string((900, 600), |area| figures::grok_cdf(&area, &exp)).unwrap();
//! assert!(svg.starts_with("<svg"));
//! # let _ = suite;
//! ```

pub mod atlas;
pub mod atlas_browser;
pub mod atlas_figures;
pub mod claims;
pub mod experiments;
pub mod figures;
pub mod nulls;
pub mod numerics;
pub mod survival;
pub mod tables;
pub mod twins;

/// The plotting and table crates grokscope was built with, re-exported so a
/// notebook's `use grokscope::report::plotters::prelude::*` gets the same
/// versions and features (evcxr, SVG, bitmap) as the library's figures.
pub use plotters;
pub use polars;

use crate::results::record::Record;
use crate::results::rows::{CurveRow, GroupRow, ResultRow};
use crate::store::{read_parquet, StoreError};
use plotters::coord::Shift;
use plotters::prelude::*;
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// What can go wrong drawing figures or writing tables.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A table lacks what a figure needs.
    #[error("{0}")]
    Data(String),
    /// plotters failed.
    #[error("drawing {figure}: {reason}")]
    Draw {
        /// The figure.
        figure: String,
        /// plotters' message.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of a figure or table function.
pub type Result<T> = std::result::Result<T, ReportError>;

/// Wraps a plotters error (any backend) with the figure's name.
pub(crate) fn draw_err<E: std::fmt::Display>(figure: &'static str) -> impl Fn(E) -> ReportError {
    move |e| ReportError::Draw {
        figure: figure.into(),
        reason: e.to_string(),
    }
}

/// Registers the embedded DejaVu Sans as "sans-serif" for plotters, once.
/// PNG text is rasterised from this font, so figures look the same (and have
/// the same bytes) on every machine.
pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font("sans-serif", style, font)
                .unwrap_or_else(|_| panic!("the embedded font is valid"));
        }
    });
}

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

    /// The runs, for counting sustained groks: refuses results stored
    /// before the sustained criterion (no `last_epoch`), where a missing
    /// `sustained_grok_epoch` means "not recorded", which a count must not
    /// read as "not grokked".
    ///
    /// # Errors
    /// As [`SweepData::runs`], or a run without the sustained record.
    pub fn runs_with_sustained(&self) -> Result<Vec<ResultRow>> {
        let runs = self.runs()?;
        if let Some(r) = runs.iter().find(|r| r.last_epoch.is_none()) {
            return Err(ReportError::Data(format!(
                "{}: run {} has no sustained-grok record (these results predate the sustained criterion of grokscope 0.2), so it cannot be counted as grokked or not; retrain the sweep with this grokscope",
                self.location().display(),
                r.run_id
            )));
        }
        Ok(runs)
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
    /// The long-budget study's settings (its sweeps: [`experiments::Part::LongBudget`]).
    pub long_budget: Vec<survival::Setting>,
    /// `layer-norm`: the suite with LayerNorm on (the reference study's
    /// architecture).
    pub layer_norm: Option<SweepData>,
    /// The long-budget study's sweeps that have results, in the order of
    /// [`experiments::PAPER_EXPERIMENTS`].
    pub long_budget_sweeps: Vec<SweepData>,
    /// `shuffled-labels`: R5's shuffled-label nulls beside true-label runs
    /// of the same seeds ([`nulls`]).
    pub shuffled_labels: Option<SweepData>,
    /// The twins experiment's settings ([`experiments::Part::Twins`]), empty
    /// until its results exist.
    pub twins: Vec<survival::Setting>,
    /// `numerics`: loss precision, StableMax, Grokfast and a matched
    /// baseline ([`numerics`]).
    pub numerics: Option<SweepData>,
    /// The atlas' complete orders ([`atlas::Atlas`]), when it has results.
    pub atlas: Option<atlas::Atlas>,
    /// The paper's experiments that have no results in the directory read,
    /// in the order of [`experiments::PAPER_EXPERIMENTS`]: what the report
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
        use experiments::Part;
        let long_budget_sweeps = present(&experiments::in_part(Part::LongBudget))?;
        let twins_sweeps = present(&experiments::in_part(Part::Twins))?;
        // A sweep read by name must be a registered experiment.
        let named = |name: &str| -> Result<Option<SweepData>> {
            let e = experiments::find(name).map_err(ReportError::Data)?;
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
            atlas: if dir.join("atlas.toml").exists() {
                atlas::Atlas::load(dir)?
            } else {
                None
            },
            long_budget_sweeps,
            missing: experiments::PAPER_EXPERIMENTS
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

/// Draws into an SVG string.
///
/// # Errors
/// The figure's error.
pub fn svg_string(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    register_fonts();
    let mut s = String::new();
    {
        let area = SVGBackend::with_string(&mut s, size).into_drawing_area();
        draw(area)?;
    }
    Ok(s)
}

/// Draws into PNG bytes.
///
/// # Errors
/// The figure's error, or PNG encoding.
pub fn png_bytes(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    register_fonts();
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(area)?;
    }
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    image::ImageEncoder::write_image(encoder, &rgb, size.0, size.1, image::ColorType::Rgb8)
        .map_err(|e| ReportError::Draw {
            figure: "png".into(),
            reason: e.to_string(),
        })?;
    Ok(png)
}

/// One figure of the paper: its file name, size and caption
/// ([`figures::PaperFigure`] draws it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureSpec {
    /// File stem in `figures/`.
    pub name: &'static str,
    /// Pixels.
    pub size: (u32, u32),
    /// What it shows (the LaTeX caption's first sentence).
    pub caption: &'static str,
}

/// Renders every figure whose data exist into `out` as SVG and PNG
/// (through temporary files), returning the files written. Figures whose
/// sweep has not been run are skipped and listed in the second vector.
///
/// # Errors
/// A drawing or write error.
pub fn render_figures(exp: &Experiments, out: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    std::fs::create_dir_all(out).map_err(|e| StoreError::new(out, e))?;
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    for spec in figures::ALL {
        let available = figures::available(spec.name, exp);
        if !available {
            skipped.push(spec.name.to_string());
            continue;
        }
        let svg = svg_string(spec.size, |a| figures::draw(spec.name, &a, exp))?;
        let png = png_bytes(spec.size, |a| figures::draw(spec.name, &a, exp))?;
        for (ext, bytes) in [("svg", svg.as_bytes()), ("png", png.as_slice())] {
            let path = out.join(format!("{}.{ext}", spec.name));
            crate::store::write_atomic(&path, bytes)?;
            written.push(path);
        }
    }
    Ok((written, skipped))
}

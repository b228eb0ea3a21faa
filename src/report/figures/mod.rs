//! One function per figure of the paper, each drawing on any plotters
//! backend from stored tables, one file per figure family: [`curves`],
//! [`spectra`], [`cka`], [`complexity`], [`ablation`], [`survival`],
//! [`atlas`]; [`style`] holds what they share (palette, font, legend,
//! colour bar) and [`select`] how they pick runs. [`ALL`] lists the
//! paper's figures with file names, sizes and captions; [`draw`]
//! dispatches by name and [`render_figures`] writes them all.

pub mod ablation;
pub mod atlas;
pub mod cka;
pub mod complexity;
pub mod curves;
pub mod numerics;
pub mod select;
pub mod spectra;
pub mod style;
pub mod survival;

pub use ablation::{ablation, controls, grok_cdf};
pub use cka::cka_matrix;
pub use complexity::complexity_vs_grok;
pub use curves::{curve_grid, grokking_curves, progress_measures};
pub use spectra::{fourier_spectra, mul_discrete_log, peter_weyl};
pub use survival::survival;

use crate::report::data::{SweepData, Swept};
use crate::report::experiments::Experiments;
use crate::report::{png_bytes, svg_string, ReportError, Result};
use crate::store::StoreError;
use plotters::coord::Shift;
use plotters::prelude::*;
use select::{first_of_families, non_abelian};
use std::path::{Path, PathBuf};

fn need<'a>(s: &'a Option<SweepData>, what: &str) -> Result<&'a SweepData> {
    s.as_ref().ok_or_else(|| {
        ReportError::Data(format!(
            "experiments/{what} has no results; run `grokscope sweep experiments/{what}.toml`"
        ))
    })
}

/// Declares the paper's figures in one list: each entry names its variant,
/// file stem, size, caption, when its data exist and how it is drawn (a
/// call of its drawing function). Adding a figure is one entry here and one
/// drawing function.
macro_rules! paper_figures {
    ($(
        $variant:ident = $name:literal, ($w:literal, $h:literal), $caption:literal,
        needs |$needs_exp:ident| $needs:expr,
        draws |$area:ident, $exp:ident| $draw:expr;
    )*) => {
        /// Every figure of the paper, in paper order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum PaperFigure {
            $(#[doc = $caption] $variant,)*
        }

        /// Every figure's file stem, size and caption, in paper order.
        pub const ALL: &[FigureSpec] = &[
            $(FigureSpec { name: $name, size: ($w, $h), caption: $caption },)*
        ];

        impl PaperFigure {
            /// Every figure, in paper order.
            pub const ALL: &'static [PaperFigure] = &[$(PaperFigure::$variant,)*];

            /// Its file stem, size and caption.
            pub fn spec(self) -> FigureSpec {
                match self {
                    $(PaperFigure::$variant => FigureSpec { name: $name, size: ($w, $h), caption: $caption },)*
                }
            }

            /// Whether the tables it needs exist in `exp`.
            pub fn available(self, exp: &Experiments) -> bool {
                match self {
                    $(PaperFigure::$variant => {
                        let $needs_exp = exp;
                        $needs
                    })*
                }
            }

            /// Draws it from `exp`.
            ///
            /// # Errors
            /// Missing data or a drawing error.
            pub fn draw<DB: DrawingBackend>(
                self,
                area: &DrawingArea<DB, Shift>,
                exp: &Experiments,
            ) -> Result<()> {
                match self {
                    $(PaperFigure::$variant => {
                        let ($area, $exp) = (area, exp);
                        $draw
                    })*
                }
            }
        }
    };
}

paper_figures! {
    GrokkingCurves = "grokking-curves", (1500, 720), "Train, test and informative-test accuracy of the reference suite",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.curves.is_some()),
        draws |area, exp| grokking_curves(area, exp.suite()?);
    FourierSpectra = "fourier-spectra", (1500, 430), "Fourier spectra of the token embeddings of add, sub and ring",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.spectra.is_some()),
        draws |area, exp| {
            let s = exp.suite()?;
            let ops = first_of_families(s, &["add", "sub", "ring"])?;
            fourier_spectra(area, s, &ops.iter().map(String::as_str).collect::<Vec<_>>())
        };
    MulDiscreteLog = "mul-discrete-log", (1200, 430), "The multiplication embedding's spectrum in raw label order and in discrete-log order",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.spectra.is_some()),
        draws |area, exp| {
            let s = exp.suite()?;
            let op = first_of_families(s, &["mul"])?
                .pop()
                .ok_or_else(|| ReportError::Data("the suite has no mul operation".into()))?;
            mul_discrete_log(area, s, &op)
        };
    PeterWeyl = "peter-weyl", (1500, 460), "Peter–Weyl power per irrep of the non-abelian groups' embeddings against the untrained null",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.spectra.is_some()),
        draws |area, exp| {
            let s = exp.suite()?;
            let ops = non_abelian(s)?;
            peter_weyl(area, s, &ops.iter().map(String::as_str).collect::<Vec<_>>())
        };
    CkaMatrix = "cka-matrix", (1500, 1000), "Cross-operation CKA of the suite's embeddings with its baselines",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.cka.is_some()),
        draws |area, exp| cka_matrix(area, exp.suite()?);
    ComplexityVsGrok = "complexity-vs-grok", (1500, 420), "Complexity scores against measured grok epochs",
        needs |exp| exp.suite.is_some(),
        draws |area, exp| complexity_vs_grok(area, exp.suite()?, exp.controls.as_ref());
    AblationFraction = "ablation-fraction", (600, 480), "Grok epoch against training fraction",
        needs |exp| exp.fraction.is_some(),
        draws |area, exp| ablation(
            area,
            need(&exp.fraction, "ablation-fraction")?,
            Swept::TrainFraction,
            "training fraction",
        );
    AblationWd = "ablation-wd", (600, 480), "Grok epoch against weight decay",
        needs |exp| exp.weight_decay.is_some(),
        draws |area, exp| ablation(
            area,
            need(&exp.weight_decay, "ablation-wd")?,
            Swept::WeightDecay,
            "weight decay",
        );
    AblationSize = "ablation-size", (600, 480), "Grok epoch against group order",
        needs |exp| exp.size.is_some(),
        draws |area, exp| ablation(
            area,
            need(&exp.size, "ablation-size")?,
            Swept::Order,
            "group order |G|",
        );
    Controls = "controls", (1500, 600), "Final test and informative-test accuracy by group order, abelian and non-abelian",
        needs |exp| exp.suite.is_some() && exp.controls.is_some(),
        draws |area, exp| controls(area, exp.suite()?, need(&exp.controls, "controls")?);
    Survival = "survival", (1500, 680), "Kaplan–Meier share of runs sustain-grokked by each epoch in the long-budget study",
        needs |exp| !exp.long_budget.is_empty(),
        draws |area, exp| survival(area, &exp.long_budget);
    ProgressMeasures = "progress-measures", (1500, 480), "Progress measures over training",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.progress.is_some()),
        draws |area, exp| {
            let s = exp.suite()?;
            let mut ops = first_of_families(s, &["add", "mul"])?;
            ops.extend(non_abelian(s)?.pop());
            progress_measures(area, s, &ops.iter().map(String::as_str).collect::<Vec<_>>())
        };
    Numerics = "numerics", (1500, 900), "Train loss by loss precision and softmax, and test accuracy with Grokfast against baselines, every seed",
        needs |exp| exp.numerics.as_ref().is_some_and(|s| s.curves.is_some()),
        draws |area, exp| numerics::figure(area, need(&exp.numerics, "numerics")?);
    AtlasOverview = "atlas-overview", (1500, 760), "The atlas at a glance: every group of the complete orders, its order against its restricted mean time to a sustained grok",
        needs |exp| exp.atlas.is_some(),
        draws |area, exp| atlas::overview(area, atlas_of(exp)?);
    AtlasWithinA1 = "atlas-within-a1", (1500, 1000), "A1 within each order: the abelianisation order |G/G'| against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[0].is_empty()),
        draws |area, exp| atlas::within_order(area, atlas_of(exp)?, 0);
    AtlasWithinA2 = "atlas-within-a2", (1500, 1000), "A2 within each order: the largest irrep degree b(G) against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[1].is_empty()),
        draws |area, exp| atlas::within_order(area, atlas_of(exp)?, 1);
    AtlasWithinA3 = "atlas-within-a3", (1500, 1000), "A3 within each order: the smallest faithful real representation F1 against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[2].is_empty()),
        draws |area, exp| atlas::within_order(area, atlas_of(exp)?, 2);
    AtlasWithinA4 = "atlas-within-a4", (1500, 1000), "A4 within each order: the commuting probability k(G)/|G| against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[3].is_empty()),
        draws |area, exp| atlas::within_order(area, atlas_of(exp)?, 3);
    AtlasNilpotency = "atlas-nilpotency", (1500, 520), "Exploratory: the 2-groups of each complete order by nilpotency class",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| a.strata()[0].iter().any(|s| s.order.is_power_of_two())),
        draws |area, exp| atlas::nilpotency(area, atlas_of(exp)?);
}

/// The atlas' results, or the error that says how to get them.
fn atlas_of(exp: &Experiments) -> Result<&crate::report::atlas::Atlas> {
    exp.atlas.as_ref().ok_or_else(|| {
        ReportError::Data(
            "experiments/atlas has no results; run `grokscope sweep experiments/atlas.toml`".into(),
        )
    })
}

impl PaperFigure {
    /// The figure whose file stem is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.spec().name == name)
    }
}

/// Whether the tables the figure called `name` needs exist (false for an
/// unknown name).
pub fn available(name: &str, exp: &Experiments) -> bool {
    PaperFigure::from_name(name).is_some_and(|f| f.available(exp))
}

/// Draws the figure called `name`.
///
/// # Errors
/// An unknown name, missing data or a drawing error.
pub fn draw<DB: DrawingBackend>(
    name: &str,
    area: &DrawingArea<DB, Shift>,
    exp: &Experiments,
) -> Result<()> {
    PaperFigure::from_name(name)
        .ok_or_else(|| {
            ReportError::Data(format!(
                "unknown figure {name}; known: {}",
                ALL.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ))
        })?
        .draw(area, exp)
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
    for spec in ALL {
        let available = available(spec.name, exp);
        if !available {
            skipped.push(spec.name.to_string());
            continue;
        }
        let svg = svg_string(spec.size, |a| draw(spec.name, &a, exp))?;
        let png = png_bytes(spec.size, |a| draw(spec.name, &a, exp))?;
        for (ext, bytes) in [("svg", svg.as_bytes()), ("png", png.as_slice())] {
            let path = out.join(format!("{}.{ext}", spec.name));
            crate::store::write_atomic(&path, bytes)?;
            written.push(path);
        }
    }
    Ok((written, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::figures::select::panel_caption;
    use crate::results::record::Record;
    use crate::results::rows::GroupRow;
    use crate::results::rows::ResultRow;

    #[test]
    fn every_figure_has_one_unique_name_that_finds_it() {
        assert_eq!(PaperFigure::ALL.len(), ALL.len());
        for (f, spec) in PaperFigure::ALL.iter().zip(ALL) {
            assert_eq!(f.spec(), *spec);
            assert_eq!(PaperFigure::from_name(spec.name), Some(*f));
        }
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "figure names repeat");
        assert_eq!(PaperFigure::from_name("no-such-figure"), None);
        // Nothing is available without results.
        let empty = Experiments::load(std::path::Path::new("/nonexistent-experiments")).unwrap();
        assert!(PaperFigure::ALL.iter().all(|f| !f.available(&empty)));
    }

    /// A sweep of `ops` whose groups table is `groups` (as stored, so it
    /// may say what the operations' names do not).
    fn sweep(ops: &[&str], groups: Option<Vec<GroupRow>>) -> SweepData {
        let runs: Vec<ResultRow> = ops
            .iter()
            .map(|o| ResultRow {
                run_id: o.to_string(),
                op: o.to_string(),
                grokked_epoch: Some(100),
                epochs: 1000,
                ..Default::default()
            })
            .collect();
        SweepData {
            name: "t".into(),
            results: ResultRow::frame(&runs).unwrap(),
            groups: groups.map(|g| GroupRow::frame(&g).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn figures_take_group_facts_from_the_stored_groups_table() {
        let ops = ["add:7", "s3", "d5"];
        let rows = GroupRow::of_ops(ops).unwrap();
        assert_eq!(
            non_abelian(&sweep(&ops, Some(rows.clone()))).unwrap(),
            ["s3", "d5"]
        );
        assert_eq!(
            first_of_families(&sweep(&ops, Some(rows.clone())), &["dihedral", "add"]).unwrap(),
            ["d5", "add:7"]
        );
        assert_eq!(panel_caption(&rows, "d5").unwrap(), "d5 (D5, |G| = 10)");
        // A table that says otherwise is what the figure draws: the facts are
        // read, not re-derived from the names.
        let mut edited = rows;
        edited[0].abelian = false;
        edited[0].group = "stored".into();
        assert_eq!(
            non_abelian(&sweep(&ops, Some(edited.clone()))).unwrap(),
            ["add:7", "s3", "d5"]
        );
        assert_eq!(
            panel_caption(&edited, "add:7").unwrap(),
            "add:7 (stored, |G| = 7)"
        );
    }

    #[test]
    fn a_missing_table_names_the_command_that_writes_it() {
        let s = sweep(&["add:7"], Some(GroupRow::of_ops(["add:7"]).unwrap()));
        let mut svg = String::new();
        let area = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
        let err = grokking_curves(&area, &s).unwrap_err().to_string();
        assert!(
            err.contains("experiments/t/curves.parquet is missing")
                && err.contains("grokscope sweep experiments/t.toml --aggregate"),
            "{err}"
        );
        let err = progress_measures(&area, &s, &["add:7"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("grokscope analyze --sweep experiments/t"),
            "{err}"
        );
    }

    #[test]
    fn a_sweep_without_its_groups_table_says_to_migrate() {
        let s = sweep(&["add:7"], None);
        let mut svg = String::new();
        let area = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
        let err = ablation(&area, &s, Swept::Order, "order")
            .unwrap_err()
            .to_string();
        assert!(err.contains("grokscope migrate experiments/t"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

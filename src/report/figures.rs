//! One function per figure of the paper, each drawing on any plotters
//! backend from stored tables. [`ALL`] lists them with file names, sizes
//! and captions; [`draw`] dispatches by name.

use super::{draw_err, group_of, Experiments, FigureSpec, ReportError, Result, SweepData, Swept};
use crate::results::record::Keyed;
use crate::results::rows::{GroupRow, ProgressRow, ResultRow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::DataFrame;
use std::collections::BTreeMap;

pub(super) const FONT: &str = "sans-serif";
pub(super) const BLUE: RGBColor = RGBColor(0, 114, 178);
pub(super) const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub(super) const GREEN: RGBColor = RGBColor(0, 158, 115);
pub(super) const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const SKY: RGBColor = RGBColor(86, 180, 233);
const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub(super) const GREY: RGBColor = RGBColor(120, 120, 120);
const PALETTE: [RGBColor; 6] = [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY];

/// One colour per operation family in every ablation panel.
fn family_colour(family: &str, k: usize) -> RGBColor {
    match family {
        "add" => BLUE,
        "ring" => GREEN,
        "dihedral" => VERMILLION,
        _ => [ORANGE, PURPLE, SKY][k % 3],
    }
}

/// The first operation of each family in a sweep, in the families' order.
///
/// # Errors
/// The sweep's groups table is missing or does not list an operation.
fn first_of_families(s: &SweepData, families: &[&str]) -> Result<Vec<String>> {
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
fn non_abelian(s: &SweepData) -> Result<Vec<String>> {
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
fn groups_of(sweeps: &[&SweepData]) -> Result<Vec<GroupRow>> {
    let mut out = Vec::new();
    for s in sweeps {
        out.extend(s.groups()?);
    }
    Ok(out)
}

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
        draws |area, exp| {
            // Sustained grok epochs, as R7's verdict reads them.
            let sustained = |s: &SweepData| -> Result<SweepData> {
                super::tables::verdicts::with_sustained(s)
            };
            let controls = exp.controls.as_ref().map(sustained).transpose()?;
            complexity_vs_grok(area, &sustained(exp.suite()?)?, controls.as_ref())
        };
    AblationFraction = "ablation-fraction", (900, 500), "Grok epoch against training fraction",
        needs |exp| exp.fraction.is_some(),
        draws |area, exp| ablation(
            area,
            &super::tables::verdicts::with_sustained(need(&exp.fraction, "ablation-fraction")?)?,
            Swept::TrainFraction,
            "training fraction",
        );
    AblationWd = "ablation-wd", (900, 500), "Grok epoch against weight decay",
        needs |exp| exp.weight_decay.is_some(),
        draws |area, exp| ablation(
            area,
            &super::tables::verdicts::with_sustained(need(&exp.weight_decay, "ablation-wd")?)?,
            Swept::WeightDecay,
            "weight decay",
        );
    AblationSize = "ablation-size", (900, 500), "Grok epoch against group order",
        needs |exp| exp.size.is_some(),
        draws |area, exp| ablation(
            area,
            &super::tables::verdicts::with_sustained(need(&exp.size, "ablation-size")?)?,
            Swept::Order,
            "group order |G|",
        );
    Controls = "controls", (1500, 600), "Final test and informative-test accuracy by group order, abelian and non-abelian",
        needs |exp| exp.suite.is_some() && exp.controls.is_some(),
        draws |area, exp| controls(area, exp.suite()?, need(&exp.controls, "controls")?);
    Survival = "survival", (1500, 520), "Kaplan–Meier share of runs sustain-grokked by each epoch in the long-budget study",
        needs |exp| !exp.long_budget.is_empty(),
        draws |area, exp| survival(area, &exp.long_budget);
    ProgressMeasures = "progress-measures", (1500, 430), "Progress measures over training",
        needs |exp| exp.suite.as_ref().is_some_and(|s| s.progress.is_some()),
        draws |area, exp| {
            let s = exp.suite()?;
            let mut ops = first_of_families(s, &["add", "mul"])?;
            ops.extend(non_abelian(s)?.pop());
            progress_measures(area, s, &ops.iter().map(String::as_str).collect::<Vec<_>>())
        };
    Numerics = "numerics", (1500, 820), "Train loss by loss precision and softmax, and test accuracy with Grokfast against baselines, every seed",
        needs |exp| exp.numerics.as_ref().is_some_and(|s| s.curves.is_some()),
        draws |area, exp| super::numerics::figure(area, need(&exp.numerics, "numerics")?);
    AtlasOverview = "atlas-overview", (1500, 760), "The atlas at a glance: every group of the complete orders, its order against its restricted mean time to a sustained grok",
        needs |exp| exp.atlas.is_some(),
        draws |area, exp| super::atlas_figures::overview(area, atlas_of(exp)?);
    AtlasWithinA1 = "atlas-within-a1", (1500, 1000), "A1 within each order: the abelianisation order |G/G'| against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[0].is_empty()),
        draws |area, exp| super::atlas_figures::within_order(area, atlas_of(exp)?, 0);
    AtlasWithinA2 = "atlas-within-a2", (1500, 1000), "A2 within each order: the largest irrep degree b(G) against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[1].is_empty()),
        draws |area, exp| super::atlas_figures::within_order(area, atlas_of(exp)?, 1);
    AtlasWithinA3 = "atlas-within-a3", (1500, 1000), "A3 within each order: the smallest faithful real representation F1 against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[2].is_empty()),
        draws |area, exp| super::atlas_figures::within_order(area, atlas_of(exp)?, 2);
    AtlasWithinA4 = "atlas-within-a4", (1500, 1000), "A4 within each order: the commuting probability k(G)/|G| against the restricted mean time to grok",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| !a.strata()[3].is_empty()),
        draws |area, exp| super::atlas_figures::within_order(area, atlas_of(exp)?, 3);
    AtlasNilpotency = "atlas-nilpotency", (1500, 520), "Exploratory: the 2-groups of each complete order by nilpotency class",
        needs |exp| exp.atlas.as_ref().is_some_and(|a| a.strata()[0].iter().any(|s| s.order.is_power_of_two())),
        draws |area, exp| super::atlas_figures::nilpotency(area, atlas_of(exp)?);
}

/// The atlas' results, or the error that says how to get them.
fn atlas_of(exp: &Experiments) -> Result<&super::atlas::Atlas> {
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

/// x -> (x as drawn, grok epochs of the runs there; `None` = not grokked).
type GrokEpochsAt = BTreeMap<i64, (f64, Vec<Option<f64>>)>;

/// Mean, min and max of values.
fn summary(v: &[f64]) -> (f64, f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, min, max)
}

/// The run ids of each operation of a sweep, in order.
fn runs_by_op(runs: Vec<ResultRow>) -> Vec<(String, Vec<String>)> {
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
fn panel_caption(groups: &[GroupRow], op: &str) -> Result<String> {
    let g = group_of(groups, op)?;
    Ok(format!("{op} ({}, |G| = {})", g.group, g.order))
}

/// Rows and columns of a figure with one panel per operation: at most
/// four panels a row.
pub fn curve_grid(panels: usize) -> (usize, usize) {
    let rows = panels.div_ceil(4).max(1);
    (rows, panels.div_ceil(rows).max(1))
}

/// Accuracy curves of every operation: mean over seeds with the min–max
/// band, for train, test and informative test pairs.
///
/// # Errors
/// The sweep has no curves or groups table, a missing column or a drawing
/// error.
pub fn grokking_curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("grokking-curves");
    let curves = sweep.curve_rows()?;
    let group_rows = sweep.groups()?;
    area.fill(&WHITE).map_err(&e)?;
    // (run, split) -> epoch -> accuracy
    let mut acc: BTreeMap<(&str, &str), Vec<(f64, f64)>> = BTreeMap::new();
    for c in &curves {
        if c.row.metric == "accuracy" {
            acc.entry((c.run_id.as_str(), c.row.split.as_str()))
                .or_default()
                .push((f64::from(c.row.epoch), c.row.value));
        }
    }
    let groups = runs_by_op(sweep.runs()?);
    let (rows, cols) = curve_grid(groups.len());
    let panels = area.split_evenly((rows, cols));
    let max_epoch = curves
        .iter()
        .map(|c| f64::from(c.row.epoch))
        .fold(1.0, f64::max);
    for ((op, runs), panel) in groups.iter().zip(panels.iter()) {
        let mut chart = ChartBuilder::on(panel)
            .caption(panel_caption(&group_rows, op)?, (FONT, 22))
            .margin(8)
            // Room for the last x tick's label ("3000"), centred on the edge.
            .margin_right(26)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_epoch, 0.0..1.02)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy")
            .label_style((FONT, 17))
            .light_line_style(WHITE)
            .x_labels(4)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(&e)?;
        for (split, color, label) in [
            ("train", BLUE, "train"),
            ("test", VERMILLION, "test"),
            ("informative_test", GREEN, "informative test"),
        ] {
            let series: Vec<&Vec<(f64, f64)>> = runs
                .iter()
                .filter_map(|r| acc.get(&(r.as_str(), split)))
                .collect();
            let Some(first) = series.first() else {
                continue;
            };
            let pts: Vec<(f64, (f64, f64, f64))> = first
                .iter()
                .enumerate()
                .map(|(k, &(ep, _))| {
                    (
                        ep,
                        summary(
                            &series
                                .iter()
                                .filter_map(|s| s.get(k).map(|p| p.1))
                                .collect::<Vec<_>>(),
                        ),
                    )
                })
                .collect();
            let mut band: Vec<(f64, f64)> = pts.iter().map(|(x, s)| (*x, s.2)).collect();
            band.extend(pts.iter().rev().map(|(x, s)| (*x, s.1)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    color.mix(0.18).filled(),
                )))
                .map_err(&e)?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(x, s)| (*x, s.0)),
                    color.stroke_width(2),
                ))
                .map_err(&e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        // Chance: a uniform guess over the |G| outputs.
        let chance = 1.0 / f64::from(group_of(&group_rows, op)?.order);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, chance), (max_epoch, chance)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(&e)?
            .label("chance, 1/|G|")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(1)));
        // Mid-height on the right: clear of the curves, which sit near 0
        // or 1 there in every panel.
        draw_legend(
            &mut chart,
            SeriesLabelPosition::MiddleRight,
            15,
            "grokking-curves",
        )?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// The legend every figure draws: translucent white box, grey border.
pub(super) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: u32,
    figure: &'static str,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, font_size))
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .draw()
        .map_err(draw_err(figure))
}

pub(super) use crate::results::rows::SpectrumRow;

/// Every row of a sweep's spectra table.
pub(super) fn spectrum_rows(spectra: &DataFrame) -> Result<Vec<SpectrumRow>> {
    SpectrumRow::read_all(spectra).map_err(ReportError::Data)
}

/// A component of a spectrum summarised over seeds: (component, mean,
/// min, max, expected share).
pub(super) type MeanShare = (String, f64, f64, f64, f64);

/// Mean share per component over seeds, keeping the components' order.
fn mean_spectrum(
    rows: &[SpectrumRow],
    op: &str,
    source: &str,
    checkpoint: &str,
    order: Option<&str>,
) -> Vec<MeanShare> {
    let mut by: Vec<(String, Vec<f64>, f64)> = Vec::new();
    for r in rows.iter().filter(|r| {
        r.op == op
            && r.row.source == source
            && r.row.checkpoint == checkpoint
            && order.is_none_or(|o| r.row.order == o)
    }) {
        match by.iter_mut().find(|(c, _, _)| *c == r.row.component) {
            Some((_, v, _)) => v.push(r.row.share),
            None => by.push((r.row.component.clone(), vec![r.row.share], r.row.expected)),
        }
    }
    by.into_iter()
        .map(|(c, v, ex)| {
            let (m, lo, hi) = summary(&v);
            (c, m, lo, hi, ex)
        })
        .collect()
}

/// The spectrum of each seed: seed -> (component, share, expected).
pub(super) fn seed_spectra(
    rows: &[SpectrumRow],
    op: &str,
    source: &str,
    checkpoint: &str,
    order: &str,
) -> BTreeMap<u64, Vec<MeanShare>> {
    let mut out: BTreeMap<u64, Vec<MeanShare>> = BTreeMap::new();
    for r in rows.iter().filter(|r| {
        r.op == op
            && r.row.source == source
            && r.row.checkpoint == checkpoint
            && r.row.order == order
    }) {
        out.entry(r.seed).or_default().push((
            r.row.component.clone(),
            r.row.share,
            r.row.share,
            r.row.share,
            r.row.expected,
        ));
    }
    out
}

/// Mean over seeds of each seed's top-k concentration.
fn mean_top_k(spectra: &BTreeMap<u64, Vec<MeanShare>>, k: usize) -> f64 {
    spectra.values().map(|s| top_k(s, k)).sum::<f64>() / spectra.len().max(1) as f64
}

/// Share of the top-k components of a spectrum.
fn top_k(spec: &[MeanShare], k: usize) -> f64 {
    let mut v: Vec<f64> = spec.iter().map(|s| s.1).collect();
    v.sort_by(|a, b| b.total_cmp(a));
    v.iter().take(k).sum::<f64>() / v.iter().sum::<f64>().max(f64::MIN_POSITIVE)
}

/// Draws one frequency spectrum panel (final mean bars, init mean line).
fn spectrum_panel<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    caption: &str,
    fin: &[MeanShare],
    init: &[MeanShare],
    e: &dyn Fn(String) -> ReportError,
) -> Result<()> {
    let n = fin.len().max(1) as f64;
    let ymax = fin.iter().map(|s| s.3).fold(0.05, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(panel)
        .caption(caption, (FONT, 16))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(0.5..n + 0.5, 0.0..ymax)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("frequency k")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("share of power")
        .label_style((FONT, 12))
        .disable_x_mesh()
        .draw()
        .map_err(|x| e(x.to_string()))?;
    chart
        .draw_series(fin.iter().enumerate().map(|(i, s)| {
            let x = (i + 1) as f64;
            Rectangle::new([(x - 0.4, 0.0), (x + 0.4, s.1)], BLUE.filled())
        }))
        .map_err(|x| e(x.to_string()))?
        .label("trained")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.filled()));
    chart
        .draw_series(LineSeries::new(
            init.iter().enumerate().map(|(i, s)| ((i + 1) as f64, s.1)),
            GREY.stroke_width(2),
        ))
        .map_err(|x| e(x.to_string()))?
        .label("untrained, same seed")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREY.stroke_width(2)));
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 12, "spectra")?;
    Ok(())
}

/// Fourier spectra (embedding rows, frequencies 1..⌊n/2⌋) of the cyclic
/// operations, trained against untrained.
///
/// # Errors
/// Missing columns or a drawing error.
pub fn fourier_spectra<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
    ops: &[&str],
) -> Result<()> {
    let rows = spectrum_rows(sweep.need(&sweep.spectra, "spectra")?)?;
    let panels: Vec<(String, String)> = ops
        .iter()
        .map(|op| (op.to_string(), "identity".to_string()))
        .collect();
    spectrum_panels(area, "fourier-spectra", &rows, &panels)
}

/// A multiplication embedding's spectrum in raw label order and in discrete-log order.
///
/// # Errors
/// Missing columns or a drawing error.
pub fn mul_discrete_log<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
    op: &str,
) -> Result<()> {
    let rows = spectrum_rows(sweep.need(&sweep.spectra, "spectra")?)?;
    let mut orders: Vec<String> = rows
        .iter()
        .filter(|r| r.op == op && r.row.source == "embed")
        .map(|r| r.row.order.clone())
        .collect();
    orders.sort();
    orders.dedup();
    orders.sort_by_key(|x| !x.starts_with("raw")); // raw first
    let panels: Vec<(String, String)> = orders.into_iter().map(|o| (op.to_string(), o)).collect();
    spectrum_panels(area, "mul-discrete-log", &rows, &panels)
}

/// One spectrum panel per (operation, element order), side by side: the
/// first seed's trained spectrum against its untrained one, captioned with
/// the mean top-1 and top-5 concentration over seeds.
fn spectrum_panels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    figure: &str,
    rows: &[SpectrumRow],
    panels: &[(String, String)],
) -> Result<()> {
    super::register_fonts();
    let e = |x: String| ReportError::Draw {
        figure: figure.into(),
        reason: x,
    };
    area.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let areas = area.split_evenly((1, panels.len().max(1)));
    for ((op, order), panel) in panels.iter().zip(areas.iter()) {
        let fin = seed_spectra(rows, op, "embed", "final", order);
        let init = seed_spectra(rows, op, "embed", "init", order);
        let Some((seed, first)) = fin.iter().next() else {
            continue;
        };
        let shown = if order == "identity" {
            String::new()
        } else {
            format!(", {order}")
        };
        let caption = format!(
            "{op}{shown}: bars seed {seed}; top-1 {:.3}, top-5 {:.3} mean of {} seeds",
            mean_top_k(&fin, 1),
            mean_top_k(&fin, 5),
            fin.len()
        );
        spectrum_panel(
            panel,
            &caption,
            first,
            init.get(seed).map_or(&[][..], |v| v),
            &e,
        )?;
    }
    area.present().map_err(|x| e(x.to_string()))?;
    Ok(())
}

/// Peter–Weyl power per non-trivial irrep of each group's embedding:
/// trained (mean bar, min–max whisker), untrained (grey bar) and the
/// isotropic share (black tick).
///
/// # Errors
/// Missing columns or a drawing error.
pub fn peter_weyl<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
    ops: &[&str],
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("peter-weyl");
    let rows = spectrum_rows(sweep.need(&sweep.spectra, "spectra")?)?;
    let groups = sweep.groups()?;
    area.fill(&WHITE).map_err(&e)?;
    let panels = area.split_evenly((1, ops.len().max(1)));
    for (op, panel) in ops.iter().zip(panels.iter()) {
        let fin = mean_spectrum(&rows, op, "embed", "final", None);
        let init = mean_spectrum(&rows, op, "embed", "init", None);
        let k = fin.len();
        let names: Vec<String> = fin.iter().map(|s| s.0.clone()).collect();
        let mut chart = ChartBuilder::on(panel)
            .caption(panel_caption(&groups, op)?, (FONT, 16))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5..k as f64 - 0.5, 0.0..1.0)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(k)
            .x_label_formatter(&|x| {
                names
                    .get(x.round() as usize)
                    .filter(|_| (x - x.round()).abs() < 0.01)
                    .cloned()
                    .unwrap_or_default()
            })
            .y_desc("share of power")
            .label_style((FONT, 12))
            .draw()
            .map_err(&e)?;
        chart
            .draw_series(fin.iter().enumerate().map(|(i, s)| {
                Rectangle::new(
                    [(i as f64 - 0.38, 0.0), (i as f64 - 0.02, s.1)],
                    BLUE.filled(),
                )
            }))
            .map_err(&e)?
            .label("trained")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.filled()));
        chart
            .draw_series(fin.iter().enumerate().map(|(i, s)| {
                PathElement::new(
                    vec![(i as f64 - 0.2, s.2), (i as f64 - 0.2, s.3)],
                    BLACK.stroke_width(2),
                )
            }))
            .map_err(&e)?;
        chart
            .draw_series(init.iter().enumerate().map(|(i, s)| {
                Rectangle::new(
                    [(i as f64 + 0.02, 0.0), (i as f64 + 0.38, s.1)],
                    GREY.mix(0.6).filled(),
                )
            }))
            .map_err(&e)?
            .label("untrained")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], GREY.mix(0.6).filled()));
        chart
            .draw_series(fin.iter().enumerate().map(|(i, s)| {
                PathElement::new(
                    vec![(i as f64 - 0.45, s.4), (i as f64 + 0.45, s.4)],
                    BLACK.stroke_width(2),
                )
            }))
            .map_err(&e)?
            .label("isotropic share")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(2)));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 12, "peter-weyl")?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// A colour for a CKA value in [-0.25, 1] (white to dark blue; red below 0).
/// The colour scale of [`heat`], from -0.25 to 1, with its values beside it.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> std::result::Result<(), String> {
    let err = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(40)
        .margin_right(4)
        .build_cartesian_2d(0.0..1.0, -0.27..1.02)
        .map_err(err)?;
    let steps = 100;
    chart
        .draw_series((0..steps).map(|i| {
            let lo = -0.25 + 1.25 * f64::from(i) / f64::from(steps);
            let hi = lo + 1.25 / f64::from(steps);
            Rectangle::new([(0.05, lo), (0.4, hi)], heat((lo + hi) / 2.0).filled())
        }))
        .map_err(err)?;
    for v in [-0.25, 0.0, 0.25, 0.5, 0.75, 1.0] {
        chart
            .draw_series([PathElement::new(
                vec![(0.4, v), (0.48, v)],
                BLACK.stroke_width(1),
            )])
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{v:.2}"),
                (0.52, v),
                TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(err)?;
    }
    Ok(())
}

fn heat(v: f64) -> RGBColor {
    if v.is_nan() {
        return RGBColor(230, 230, 230);
    }
    if v < 0.0 {
        let t = (-v / 0.25).min(1.0);
        return RGBColor(255, (255.0 - 120.0 * t) as u8, (255.0 - 120.0 * t) as u8);
    }
    let t = v.min(1.0);
    RGBColor(
        (255.0 - 247.0 * t) as u8,
        (255.0 - 167.0 * t) as u8,
        (255.0 - 97.0 * t) as u8,
    )
}

/// CKA heatmaps over the suite's operations: linear CKA of trained,
/// seed-matched models next to its baselines (untrained, seed-mismatched),
/// the debiased and RBF estimators, and the reference study's statistic.
/// Diagonal cells compare different seeds of one operation (rows = elements);
/// off-diagonal cells compare operations (rows = hidden units).
///
/// # Errors
/// Missing columns or a drawing error.
pub fn cka_matrix<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("cka-matrix");
    let (cka, ops) = (&sweep.cka_rows()?, &sweep.ops()?);
    area.fill(&WHITE).map_err(&e)?;
    let panels_spec: [(&str, &str, &str, &str); 6] = [
        (
            "linear CKA, trained, same seed",
            "linear",
            "final",
            "seed_matched",
        ),
        (
            "linear CKA, untrained, same seed",
            "linear",
            "init",
            "seed_matched",
        ),
        (
            "linear CKA, trained, different seeds",
            "linear",
            "final",
            "seed_mismatched",
        ),
        (
            "debiased linear CKA, trained, same seed",
            "debiased_linear",
            "final",
            "seed_matched",
        ),
        (
            "RBF CKA, trained, same seed",
            "rbf",
            "final",
            "seed_matched",
        ),
        (
            "reference: first 6 rows, trained, same seed",
            "reference",
            "final",
            "seed_matched",
        ),
    ];
    let n = ops.len();
    let idx = |op: &str| ops.iter().position(|o| o == op);
    let width = area.dim_in_pixel().0;
    let (main, bar) = area.split_horizontally(width.saturating_sub(110));
    colour_bar(&bar).map_err(|reason| ReportError::Draw {
        figure: "cka-matrix".into(),
        reason,
    })?;
    let panels = main.split_evenly((2, 3));
    for ((title, estimator, checkpoint, pair), panel) in panels_spec.iter().zip(panels.iter()) {
        let mut m = vec![vec![f64::NAN; n]; n];
        // The permutation null's 95th percentile, mean over the off-diagonal cells.
        let mut nulls = Vec::new();
        for r in cka {
            let (Some(x), Some(y)) = (idx(&r.op_a), idx(&r.op_b)) else {
                continue;
            };
            let matches_est = if *estimator == "reference" {
                r.comparison == "reference_first_6_rows"
            } else {
                r.estimator == *estimator && r.comparison != "reference_first_6_rows"
            };
            if !matches_est || r.checkpoint != *checkpoint {
                continue;
            }
            let ok = if x == y {
                r.comparison == "same_op_elements" && *estimator != "reference"
            } else {
                r.pairing == *pair
            };
            if ok {
                m[x][y] = r.value;
                m[y][x] = r.value;
                if x != y && r.null_p95.is_finite() {
                    nulls.push(r.null_p95);
                }
            }
        }
        let title = if nulls.is_empty() {
            title.to_string()
        } else {
            format!("{title} (null p95 {:.2})", summary(&nulls).0)
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(title, (FONT, 15))
            .margin(6)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..n as f64, 0.0..n as f64)
            .map_err(&e)?;
        let label = |x: &f64| {
            ops.get(x.floor() as usize)
                .filter(|_| (x - x.floor() - 0.5).abs() < 0.01)
                .cloned()
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * n + 1)
            .y_labels(2 * n + 1)
            .x_label_formatter(&label)
            .y_label_formatter(&|y| label(&(n as f64 - y)))
            .label_style((FONT, 11))
            .draw()
            .map_err(&e)?;
        for (x, column) in m.iter().enumerate().take(n) {
            for (y, &v) in column.iter().enumerate().take(n) {
                let (x0, y0) = (x as f64, (n - 1 - y) as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                        heat(v).filled(),
                    )))
                    .map_err(&e)?;
                let text = if v.is_nan() {
                    "-".to_string()
                } else {
                    format!("{v:.2}")
                };
                let color = if v > 0.6 { WHITE } else { BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x0 + 0.18, y0 + 0.62),
                        (FONT, 11).into_font().color(&color),
                    )))
                    .map_err(&e)?;
            }
        }
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// (op, grok epoch) for every run.
fn grok_epochs(runs: &[ResultRow]) -> Vec<(String, Option<f64>)> {
    runs.iter()
        .map(|r| (r.op.clone(), r.grokked_epoch.map(f64::from)))
        .collect()
}

/// The longest training budget of the runs (at least 1).
fn max_epochs(runs: &[ResultRow]) -> f64 {
    runs.iter().map(|r| f64::from(r.epochs)).fold(1.0, f64::max)
}

/// Each complexity score against grok epoch, one point per run; runs that
/// never grokked sit on the "not grokked" line at the top.
///
/// # Errors
/// A sweep without its groups table, missing columns or a drawing error.
pub fn complexity_vs_grok<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    suite: &SweepData,
    controls: Option<&SweepData>,
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("complexity-vs-grok");
    area.fill(&WHITE).map_err(&e)?;
    let suite_runs = suite.runs()?;
    let mut runs: Vec<(String, Option<f64>, bool)> = grok_epochs(&suite_runs)
        .into_iter()
        .map(|(o, g)| (o, g, true))
        .collect();
    if let Some(c) = controls {
        runs.extend(
            grok_epochs(&c.runs()?)
                .into_iter()
                .map(|(o, g)| (o, g, false)),
        );
    }
    let mut sweeps = vec![suite];
    sweeps.extend(controls);
    let groups = groups_of(&sweeps)?;
    let max_epoch = max_epochs(&suite_runs);
    let top = max_epoch * 1.08;
    let fields = crate::analysis::complexity::SCORE_FIELDS;
    let panels = area.split_evenly((1, 4));
    for ((name, f), panel) in fields.iter().zip(panels.iter()) {
        let pts: Vec<(f64, f64, bool, bool)> = runs
            .iter()
            .map(|(op, g, in_suite)| {
                let scores = group_of(&groups, op)?.scores();
                Ok((f(&scores), g.unwrap_or(top), g.is_none(), *in_suite))
            })
            .collect::<Result<_>>()?;
        let (lo, hi) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
                (l.min(p.0), h.max(p.0))
            });
        let pad = ((hi - lo) * 0.1).max(0.1);
        let mut chart = ChartBuilder::on(panel)
            .caption(*name, (FONT, 17))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(52)
            .build_cartesian_2d(lo - pad..hi + pad, 0.0..top * 1.04)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc(*name)
            .y_desc("grok epoch")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 12))
            .draw()
            .map_err(&e)?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(lo - pad, top), (hi + pad, top)],
                6,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(&e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "not grokked",
                (lo - pad * 0.8, top * 1.015),
                (FONT, 11),
            )))
            .map_err(&e)?;
        chart
            .draw_series(pts.iter().filter(|p| p.3).map(|p| {
                Circle::new(
                    (p.0, p.1),
                    4,
                    if p.2 {
                        VERMILLION.stroke_width(2)
                    } else {
                        BLUE.filled()
                    },
                )
            }))
            .map_err(&e)?
            .label("suite")
            .legend(|(x, y)| Circle::new((x + 6, y), 4, BLUE.filled()));
        chart
            .draw_series(pts.iter().filter(|p| !p.3).map(|p| {
                TriangleMarker::new(
                    (p.0, p.1),
                    5,
                    if p.2 {
                        VERMILLION.stroke_width(2)
                    } else {
                        GREEN.filled()
                    },
                )
            }))
            .map_err(&e)?
            .label("controls")
            .legend(|(x, y)| TriangleMarker::new((x + 6, y), 5, GREEN.filled()));
        // R7's subset: the suite's abelian operations, ringed in black.
        let mut ringed = Vec::new();
        for (r, p) in runs.iter().zip(&pts) {
            if r.2
                && super::ABELIAN_SUITE_FAMILIES.contains(&group_of(&groups, &r.0)?.family.as_str())
            {
                ringed.push(Circle::new((p.0, p.1), 8, BLACK.stroke_width(1)));
            }
        }
        chart
            .draw_series(ringed)
            .map_err(&e)?
            .label("R7's subset (suite, abelian)")
            .legend(|(x, y)| Circle::new((x + 6, y), 7, BLACK.stroke_width(1)));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(&e)?
            .label("suite, never grokked")
            .legend(|(x, y)| Circle::new((x + 6, y), 4, VERMILLION.stroke_width(2)));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(&e)?
            .label("controls, never grokked")
            .legend(|(x, y)| TriangleMarker::new((x + 6, y), 5, VERMILLION.stroke_width(2)));
        draw_legend(
            &mut chart,
            SeriesLabelPosition::MiddleRight,
            11,
            "complexity-vs-grok",
        )?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// Grok epoch against a swept setting, one series per operation family:
/// mean over the runs that grokked (whisker: min–max); a hollow marker at
/// the top says how many of the runs at that setting never grokked.
///
/// `swept` is what the sweep varies; `xlabel` names it on the axis.
///
/// # Errors
/// A sweep without its groups table, missing columns or a drawing error.
pub fn ablation<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
    swept: Swept,
    xlabel: &str,
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("ablation");
    area.fill(&WHITE).map_err(&e)?;
    let (runs, groups) = (sweep.runs()?, sweep.groups()?);
    let max_epoch = max_epochs(&runs);
    let top = max_epoch * 1.08;
    let mut xs: Vec<f64> = Vec::new();
    // family -> x -> grok epochs (None = not grokked)
    let mut series: BTreeMap<String, GrokEpochsAt> = BTreeMap::new();
    for r in &runs {
        let g = group_of(&groups, &r.op)?;
        let x = swept.of(r, g);
        xs.push(x);
        series
            .entry(g.family.clone())
            .or_default()
            .entry((x * 1e6).round() as i64)
            .or_insert((x, vec![]))
            .1
            .push(r.grokked_epoch.map(f64::from));
    }
    let (xlo, xhi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    let pad = ((xhi - xlo) * 0.06).max(0.05);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(38)
        .y_label_area_size(56)
        .build_cartesian_2d(xlo - pad..xhi + pad, 0.0..top * 1.32)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .y_desc("sustained grok epoch (runs that grokked)")
        .light_line_style(WHITE)
        .y_label_formatter(&|y| {
            if *y <= max_epoch {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, 13))
        .draw()
        .map_err(&e)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(xlo - pad, top), (xhi + pad, top)],
            6,
            4,
            GREY.stroke_width(1),
        ))
        .map_err(&e)?;
    chart
        .draw_series(std::iter::once(Text::new(
            "not grokked (count)",
            (xlo - pad * 0.7, top * 1.09),
            (FONT, 12),
        )))
        .map_err(&e)?;
    for (k, (fam, points)) in series.iter().enumerate() {
        let color = family_colour(fam, k);
        let mut line = Vec::new();
        // Means over only some of a setting's runs: drawn hollow, with k/n.
        let mut partial = Vec::new();
        for (x, runs) in points.values() {
            let grokked: Vec<f64> = runs.iter().flatten().copied().collect();
            let missing = runs.len() - grokked.len();
            if !grokked.is_empty() {
                let (m, lo, hi) = summary(&grokked);
                line.push((*x, m));
                if missing > 0 {
                    partial.push((*x, m, format!("{}/{}", grokked.len(), runs.len())));
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(*x, lo), (*x, hi)],
                        color.stroke_width(2),
                    )))
                    .map_err(&e)?;
            }
            if missing > 0 {
                let dx = (k as f64 - 1.0) * pad * 0.25;
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (*x + dx, top),
                        5,
                        color.stroke_width(2),
                    )))
                    .map_err(&e)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{missing}"),
                        (*x + dx + pad * 0.1, top * 0.97),
                        (FONT, 11).into_font().color(&color),
                    )))
                    .map_err(&e)?;
            }
        }
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
            .map_err(&e)?
            .label(fam.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                line.iter()
                    .filter(|p| !partial.iter().any(|q| q.0 == p.0))
                    .map(|p| Circle::new(*p, 4, color.filled())),
            )
            .map_err(&e)?;
        for (x, m, text) in &partial {
            chart
                .draw_series(std::iter::once(Circle::new((*x, *m), 5, WHITE.filled())))
                .map_err(&e)?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (*x, *m),
                    5,
                    color.stroke_width(2),
                )))
                .map_err(&e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    text.clone(),
                    (*x + pad * 0.12, *m + top * 0.03),
                    (FONT, 11).into_font().color(&color),
                )))
                .map_err(&e)?;
        }
    }
    // Above the not-grokked row, so no censored marker sits under it.
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 13, "ablation")?;
    area.present().map_err(&e)?;
    Ok(())
}

/// Final test accuracy (left) and informative-test accuracy (right) against
/// group order for every operation of the suite and the controls; abelian
/// and non-abelian groups in two colours. Informative pairs are those a model
/// cannot answer by commutativity or the identity, so the right panel is the
/// one that says whether the group structure was learned.
///
/// # Errors
/// A sweep without its groups table, missing columns or a drawing error.
pub fn controls<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    suite: &SweepData,
    controls: &SweepData,
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("controls");
    let groups = groups_of(&[suite, controls])?;
    area.fill(&WHITE).map_err(&e)?;
    let panels = area.split_evenly((1, 2));
    // A panel's accuracy and the pairs it is measured on, per run.
    type Measured = fn(&ResultRow) -> (Option<f64>, u64);
    let measures: [(Measured, &str); 2] = [
        (
            |r| (r.final_test_accuracy, r.test_pairs),
            "final test accuracy",
        ),
        (
            |r| (r.final_informative_accuracy, r.informative_pairs),
            "final informative-test accuracy",
        ),
    ];
    let runs = [suite.runs()?, controls.runs()?].concat();
    for (panel, (measured, desc)) in panels.iter().zip(measures) {
        // op -> (accuracy per run, pairs pooled over runs)
        let mut per_op: Vec<(String, Vec<f64>, f64)> = Vec::new();
        for r in &runs {
            let (acc, k) = measured(r);
            let (acc, k) = (acc.unwrap_or(f64::NAN), k as f64);
            match per_op.iter_mut().find(|(o, _, _)| *o == r.op) {
                Some((_, v, n)) => {
                    v.push(acc);
                    *n += k;
                }
                None => per_op.push((r.op.clone(), vec![acc], k)),
            }
        }
        let mut points = Vec::new();
        for (op, accs, pairs) in &per_op {
            let g = group_of(&groups, op)?;
            let (m, lo, hi) = summary(accs);
            points.push(OrderPoint {
                order: f64::from(g.order),
                abelian: g.abelian,
                op: op.as_str(),
                group: g.group.as_str(),
                mean: m,
                min: lo,
                max: hi,
                pairs: *pairs as usize,
            });
        }
        points.sort_by(|a, b| a.order.total_cmp(&b.order).then(a.op.cmp(b.op)));
        accuracy_by_order(panel, desc, &points).map_err(|reason| ReportError::Draw {
            figure: "controls".into(),
            reason,
        })?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// One operation in [`controls`]: its group order, accuracy over runs and
/// the pairs (pooled over runs) the accuracy is measured on.
struct OrderPoint<'a> {
    order: f64,
    abelian: bool,
    op: &'a str,
    /// The analysis group's name.
    group: &'a str,
    mean: f64,
    min: f64,
    max: f64,
    pairs: usize,
}

/// One panel of [`controls`], points sorted by order. Each label names the
/// operation and its pooled pair count; labels of neighbouring points are
/// stacked so they do not overlap, with a leader line to their point. Points
/// measured on fewer than [`super::tables::MIN_INFORMATIVE_PAIRS`] pairs are
/// hollow. The dashed curve is chance, 1/|G|.
fn accuracy_by_order<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    desc: &str,
    points: &[OrderPoint<'_>],
) -> std::result::Result<(), String> {
    let err = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let mut chart = ChartBuilder::on(panel)
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((4.0f64..220.0f64).log_scale(), -0.02..1.08)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("group order |G| (log scale)")
        .y_desc(desc)
        .x_label_formatter(&|x| {
            let r = x.round();
            if [5.0, 10.0, 20.0, 50.0, 100.0, 200.0].contains(&r) && (x - r).abs() < 1e-6 {
                format!("{r:.0}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            (0..=60).map(|i| {
                let x = 4.0 * (220.0f64 / 4.0).powf(f64::from(i) / 60.0);
                (x, 1.0 / x)
            }),
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(err)?
        .label("chance, 1/|G|")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(1)));
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(err)?
        .label("fewer than 30 pairs")
        .legend(|(x, y)| Circle::new((x + 6, y), 5, GREY.stroke_width(2)));
    let mut drawn = [false, false];
    // Labels placed so far, to stack close neighbours instead of overlapping.
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for p in points {
        let (x, m) = (p.order, p.mean);
        let color = if p.abelian { BLUE } else { VERMILLION };
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, p.min), (x, p.max)],
                color.stroke_width(2),
            )))
            .map_err(err)?;
        let few = p.pairs < super::tables::MIN_INFORMATIVE_PAIRS;
        let style = if few {
            color.stroke_width(2)
        } else {
            color.filled()
        };
        let s = chart
            .draw_series(std::iter::once(Circle::new((x, m), 6, style)))
            .map_err(err)?;
        let slot = usize::from(!p.abelian);
        if !drawn[slot] {
            drawn[slot] = true;
            s.label(if p.abelian { "abelian" } else { "non-abelian" })
                .legend(move |(x, y)| Circle::new((x + 6, y), 5, color.filled()));
        }
        // Low on the right edge the label goes left of the point and below
        // it, clear of its left neighbours' labels.
        let leftward = x > 90.0 && m < 0.5;
        let step = if m > 0.5 { -0.04 } else { 0.04 };
        let home = if m > 0.5 || leftward {
            m - 0.045
        } else {
            m + 0.035
        };
        let mut y = home;
        while placed
            .iter()
            .any(|&(px, py)| x < px * 1.5 && px < x * 1.5 && (y - py).abs() < 0.035)
        {
            y += step;
        }
        placed.push((x, y));
        if (y - home).abs() > 1e-9 {
            // Displaced by a neighbour: a leader line keeps it attached.
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, m), (x * 1.035, y + 0.008)],
                    color.mix(0.6).stroke_width(1),
                )))
                .map_err(err)?;
        }
        // The suite's own names (add, s4, ...), else the group's (Z/6, A5).
        let name = if p.op.contains(':') { p.group } else { p.op };
        let text = format!("{name} ({})", p.pairs);
        let (anchor, at) = if leftward {
            (HPos::Right, x / 1.035)
        } else {
            (HPos::Left, x * 1.04)
        };
        let font = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(anchor, VPos::Center));
        chart
            .draw_series(std::iter::once(Text::new(text, (at, y), font)))
            .map_err(err)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::MiddleRight, 13, "controls")
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The share of runs grokked by each epoch (suite and controls, first
/// crossing), for cyclic, abelian non-cyclic and non-abelian groups. Not in
/// the paper any more: pooling orders 6 to 128 per class hides what
/// [`survival`] shows per group; kept for notebooks.
///
/// # Errors
/// Missing columns or a drawing error.
pub fn grok_cdf<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    exp: &Experiments,
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("grok-cdf");
    area.fill(&WHITE).map_err(&e)?;
    let mut classes: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    let mut max_epoch: f64 = 1.0;
    for sweep in [exp.suite.as_ref(), exp.controls.as_ref()]
        .into_iter()
        .flatten()
    {
        let (runs, groups) = (sweep.runs()?, sweep.groups()?);
        max_epoch = max_epoch.max(max_epochs(&runs));
        for (op, g) in grok_epochs(&runs) {
            let row = group_of(&groups, &op)?;
            let class = if !row.abelian {
                "non-abelian"
            } else if row.rank <= 1 {
                "cyclic"
            } else {
                "abelian, not cyclic"
            };
            classes.entry(class).or_default().push(g);
        }
    }
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_epoch, 0.0..1.05)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("share of runs grokked")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FONT, 13))
        .draw()
        .map_err(&e)?;
    for (k, (class, runs)) in classes.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mut epochs: Vec<f64> = runs.iter().flatten().copied().collect();
        epochs.sort_by(f64::total_cmp);
        let total = runs.len() as f64;
        let mut pts = vec![(0.0, 0.0)];
        for (i, ep) in epochs.iter().enumerate() {
            pts.push((*ep, i as f64 / total));
            pts.push((*ep, (i + 1) as f64 / total));
        }
        pts.push((max_epoch, epochs.len() as f64 / total));
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(3)))
            .map_err(&e)?
            .label(format!("{class} ({} runs)", runs.len()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
            });
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight, 13, "grok-cdf")?;
    area.present().map_err(&e)?;
    Ok(())
}

/// The long-budget study's time to grok: per setting, the Kaplan–Meier
/// share of runs sustain-grokked by each epoch (1 − S(t)) with its pointwise
/// 95% Greenwood band, and a tick where a run was censored (its budget ran
/// out ungrokked).
///
/// # Errors
/// A drawing error.
pub fn survival<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    settings: &[super::survival::Setting],
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("survival");
    area.fill(&WHITE).map_err(&e)?;
    // Panels: Chughtai et al.'s model; the suite's model on the reference
    // study's non-abelian groups and A5, S5; its controls (cyclic groups and
    // dihedral groups of the same orders). fraction-small has its own table,
    // not a curve here.
    const SUITE_NON_ABELIAN: &[&str] = &[
        "symmetric:3",
        "dihedral:5",
        "alternating:4",
        "symmetric:4",
        "alternating:5",
        "symmetric:5",
    ];
    // Up to eight curves a panel, each its own colour.
    const COLOURS: [RGBColor; 8] = [
        BLUE,
        VERMILLION,
        GREEN,
        ORANGE,
        PURPLE,
        SKY,
        RGBColor(0, 0, 0),
        RGBColor(140, 86, 75),
    ];
    let panel_of = |st: &super::survival::Setting| -> Option<usize> {
        if st.sweep.starts_with("chughtai") {
            Some(0)
        } else if st.sweep.starts_with("long-budget") {
            Some(if SUITE_NON_ABELIAN.contains(&st.op.as_str()) {
                1
            } else {
                2
            })
        } else {
            None
        }
    };
    let titles = [
        "Chughtai et al.'s model",
        "suite model: non-abelian",
        "suite model: controls",
    ];
    let used: Vec<usize> = (0..3)
        .filter(|p| settings.iter().any(|s| panel_of(s) == Some(*p)))
        .collect();
    let panels = area.split_evenly((1, used.len().max(1)));
    for (panel, &p) in panels.iter().zip(&used) {
        let mine: Vec<&super::survival::Setting> =
            settings.iter().filter(|s| panel_of(s) == Some(p)).collect();
        let max_epoch = mine.iter().map(|s| s.epochs).fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .margin(12)
            .caption(titles[p], (FONT, 16))
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..max_epoch, 0.0..1.05)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .x_desc("epoch")
            .y_desc("share of runs sustain-grokked")
            .x_labels(6)
            .x_label_formatter(&|x| format!("{}k", x / 1000.0))
            .label_style((FONT, 13))
            .draw()
            .map_err(&e)?;
        // Bands only where they stay readable.
        let bands = mine.len() <= 3;
        for (k, st) in mine.iter().enumerate() {
            let color = COLOURS[k % COLOURS.len()];
            // (time, share grokked, band low, band high) after each step.
            let mut pts = vec![(0.0, 0.0, 0.0, 0.0)];
            for step in &st.km.steps {
                let f = 1.0 - step.survival;
                let half = 1.96 * step.variance.sqrt();
                pts.push((step.time, f, (f - half).max(0.0), (f + half).min(1.0)));
            }
            let end = pts.last().copied().unwrap_or_default();
            let last_time = st.runs.iter().map(|r| r.0).fold(0.0, f64::max);
            let (mut line, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
            for w in pts.windows(2) {
                for (x, q) in [(w[0].0, w[0]), (w[1].0, w[0]), (w[1].0, w[1])] {
                    line.push((x, q.1));
                    lo.push((x, q.2));
                    hi.push((x, q.3));
                }
            }
            line.push((last_time, end.1));
            lo.push((last_time, end.2));
            hi.push((last_time, end.3));
            let band: Vec<(f64, f64)> =
                hi.iter().copied().chain(lo.iter().rev().copied()).collect();
            if bands {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band,
                        color.mix(0.12).filled(),
                    )))
                    .map_err(&e)?;
            }
            let label = if p == 1 && st.sweep != "long-budget" {
                format!("{} ({})", st.op, st.sweep)
            } else {
                st.op.clone()
            };
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(3)))
                .map_err(&e)?
                .label(format!(
                    "{label}, fraction {:.1}: {}/{}",
                    st.fraction,
                    st.km.events(),
                    st.runs.len()
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
                });
            // Censored runs: a vertical tick on the curve at their last epoch.
            let share_at = |t: f64| {
                st.km
                    .steps
                    .iter()
                    .rfind(|s| s.time <= t)
                    .map_or(0.0, |s| 1.0 - s.survival)
            };
            chart
                .draw_series(st.runs.iter().filter(|r| !r.1).map(|r| {
                    let y = share_at(r.0);
                    PathElement::new(
                        vec![(r.0, y - 0.03), (r.0, y + 0.03)],
                        color.stroke_width(3),
                    )
                }))
                .map_err(&e)?;
        }
        draw_legend(
            &mut chart,
            if p == 2 {
                // Clear of the fast-rising cyclic curves on the left.
                SeriesLabelPosition::MiddleRight
            } else {
                SeriesLabelPosition::UpperLeft
            },
            12,
            "survival",
        )?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// Train, test, restricted and excluded loss over training (mean over
/// seeds, log scale), per operation.
///
/// # Errors
/// Missing columns or a drawing error.
pub fn progress_measures<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &SweepData,
    ops: &[&str],
) -> Result<()> {
    super::register_fonts();
    let e = draw_err("progress-measures");
    let progress = Keyed::<ProgressRow>::read_all(sweep.need(&sweep.progress, "progress")?)
        .map_err(ReportError::Data)?;
    let groups = sweep.groups()?;
    area.fill(&WHITE).map_err(&e)?;
    let present: Vec<&str> = ops
        .iter()
        .copied()
        .filter(|o| progress.iter().any(|p| p.op == *o))
        .collect();
    let panels = area.split_evenly((1, present.len().max(1)));
    for (name, panel) in present.iter().zip(panels.iter()) {
        // metric -> epoch -> values over seeds
        let mut m: BTreeMap<&str, BTreeMap<i64, Vec<f64>>> = BTreeMap::new();
        let mut max_epoch: f64 = 1.0;
        for p in progress.iter().filter(|p| p.op == *name) {
            let ep = f64::from(p.row.epoch);
            max_epoch = max_epoch.max(ep);
            m.entry(p.row.metric.as_str())
                .or_default()
                .entry(i64::from(p.row.epoch))
                .or_default()
                .push(p.row.value);
        }
        let mut chart = ChartBuilder::on(panel)
            .caption(panel_caption(&groups, name)?, (FONT, 16))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_epoch, (1e-7f64..20.0f64).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("cross-entropy loss")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .label_style((FONT, 12))
            .draw()
            .map_err(&e)?;
        for (metric_name, color, label) in [
            ("train_loss", BLUE, "train"),
            ("test_loss", VERMILLION, "test"),
            ("restricted_loss", GREEN, "restricted (key irreps only)"),
            ("excluded_loss", PURPLE, "excluded (key irreps removed)"),
        ] {
            let Some(series) = m.get(metric_name) else {
                continue;
            };
            let pts: Vec<(f64, f64)> = series
                .iter()
                .map(|(ep, v)| {
                    (
                        *ep as f64,
                        (v.iter().sum::<f64>() / v.len() as f64).clamp(1e-7, 20.0),
                    )
                })
                .filter(|p| p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(&e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        draw_legend(
            &mut chart,
            SeriesLabelPosition::LowerLeft,
            11,
            "progress-measures",
        )?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn curve_panels_fill_rows_of_at_most_four() {
        // One study operation is one panel, not a squat half of two rows.
        let grids: Vec<(usize, usize)> = [1, 2, 4, 5, 8, 9].map(super::curve_grid).to_vec();
        assert_eq!(grids, [(1, 1), (1, 2), (1, 4), (2, 3), (2, 4), (3, 3)]);
    }

    use super::*;
    use crate::results::record::Record;

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

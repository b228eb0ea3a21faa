//! Spectra: Fourier spectra of the cyclic operations, multiplication in
//! raw and discrete-log order, and Peter–Weyl power per irrep.

use super::select::*;
use super::style::{draw_legend, BLUE, FONT, GREY};
use crate::report::data::SweepData;
use crate::report::spectra::*;
use crate::report::{draw_err, ReportError, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Draws one frequency spectrum panel (final mean bars, init mean line).
fn spectrum_panel<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    caption: &str,
    seed: u64,
    fin: &[MeanShare],
    init: &[MeanShare],
    e: &dyn Fn(String) -> ReportError,
) -> Result<()> {
    let n = fin.len().max(1) as f64;
    // Headroom above the tallest bar for the legend.
    let ymax = fin.iter().map(|s| s.3).fold(0.05, f64::max) * 1.4;
    let mut chart = ChartBuilder::on(panel)
        .caption(caption, (FONT, 22))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5..n + 0.5, 0.0..ymax)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("frequency k")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("share of power")
        .label_style((FONT, 17))
        .light_line_style(WHITE)
        .disable_x_mesh()
        .draw()
        .map_err(|x| e(x.to_string()))?;
    chart
        .draw_series(fin.iter().enumerate().map(|(i, s)| {
            let x = (i + 1) as f64;
            Rectangle::new([(x - 0.4, 0.0), (x + 0.4, s.1)], BLUE.filled())
        }))
        .map_err(|x| e(x.to_string()))?
        .label(format!("trained, seed {seed}"))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.filled()));
    chart
        .draw_series(LineSeries::new(
            init.iter().enumerate().map(|(i, s)| ((i + 1) as f64, s.1)),
            GREY.stroke_width(2),
        ))
        .map_err(|x| e(x.to_string()))?
        .label("untrained, same seed")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREY.stroke_width(2)));
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 16, "spectra")?;
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
    crate::report::register_fonts();
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
        // The operation, or (for a relabelled spectrum) the element order.
        let title = if order == "identity" { op } else { order };
        let caption = format!(
            "{title}: top-1 {:.2}, top-5 {:.2} ({} seeds)",
            mean_top_k(&fin, 1),
            mean_top_k(&fin, 5),
            fin.len()
        );
        spectrum_panel(
            panel,
            &caption,
            *seed,
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
    crate::report::register_fonts();
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
            .caption(panel_caption(&groups, op)?, (FONT, 22))
            .margin(8)
            .x_label_area_size(44)
            .y_label_area_size(60)
            // Room above 1 for the legend; no tick there.
            .build_cartesian_2d(-0.5..k as f64 - 0.5, 0.0..1.22)
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
            .y_label_formatter(&|y| {
                if *y > 1.0 + 1e-9 {
                    String::new()
                } else {
                    format!("{y:.1}")
                }
            })
            .label_style((FONT, 17))
            .light_line_style(WHITE)
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
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 15, "peter-weyl")?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

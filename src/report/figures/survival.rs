//! The long-budget study's survival curves.

use super::style::{
    legend_below, split_for_legend, BLUE, FONT, GREEN, ORANGE, PURPLE, SKY, VERMILLION,
};
use crate::report::{draw_err, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

const LEGEND_FONT: u32 = 16;

/// The long-budget study's time to grok: per setting, the Kaplan–Meier
/// share of runs sustain-grokked by each epoch (1 − S(t)) with its pointwise
/// 95% Greenwood band, and a tick where a run was censored (its budget ran
/// out ungrokked).
///
/// # Errors
/// A drawing error.
pub fn survival<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    settings: &[crate::report::survival::Setting],
) -> Result<()> {
    crate::report::register_fonts();
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
    let panel_of = |st: &crate::report::survival::Setting| -> Option<usize> {
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
    // Curves that never rise (no run grokked) are drawn this far apart
    // below 0, so that each stays visible; the others at their values.
    const DODGE: f64 = 0.015;
    // One legend height for all panels, so their axes line up.
    let most_curves = used
        .iter()
        .map(|&p| settings.iter().filter(|s| panel_of(s) == Some(p)).count())
        .max()
        .unwrap_or(0);
    for (panel, &p) in panels.iter().zip(&used) {
        let mine: Vec<&crate::report::survival::Setting> =
            settings.iter().filter(|s| panel_of(s) == Some(p)).collect();
        let max_epoch = mine.iter().map(|s| s.epochs).fold(1.0, f64::max);
        // The legend goes below the chart, never over a curve.
        let (plot, legend) = split_for_legend(panel, most_curves, LEGEND_FONT);
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .margin_right(24)
            .caption(titles[p], (FONT, 22))
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..max_epoch, -DODGE * (mine.len() + 1) as f64..1.05)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .x_desc("epoch")
            .y_desc("share sustain-grokked")
            .x_labels(6)
            .y_label_formatter(&|y| {
                if *y < 0.0 {
                    String::new()
                } else {
                    format!("{y:.1}")
                }
            })
            .x_label_formatter(&|x| format!("{}k", x / 1000.0))
            .label_style((FONT, 17))
            .draw()
            .map_err(&e)?;
        let mut entries = Vec::new();
        // Bands only where they stay readable.
        let bands = mine.len() <= 3;
        for (k, st) in mine.iter().enumerate() {
            let color = COLOURS[k % COLOURS.len()];
            let flat = mine[..k].iter().filter(|s| s.km.events() == 0).count();
            let dodge = if st.km.events() == 0 {
                -DODGE * (flat + 1) as f64
            } else {
                0.0
            };
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
                    line.push((x, q.1 + dodge));
                    lo.push((x, q.2));
                    hi.push((x, q.3));
                }
            }
            line.push((last_time, end.1 + dodge));
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
                .map_err(&e)?;
            entries.push((
                format!(
                    "{label}, fraction {:.1}: {}/{}",
                    st.fraction,
                    st.km.events(),
                    st.runs.len()
                ),
                color,
            ));
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
                    let y = share_at(r.0) + dodge;
                    PathElement::new(
                        vec![(r.0, y - 0.03), (r.0, y + 0.03)],
                        color.stroke_width(3),
                    )
                }))
                .map_err(&e)?;
        }
        legend_below(&legend, &entries, LEGEND_FONT, "survival")?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

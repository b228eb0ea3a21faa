//! Training curves: the grokking curves of a sweep's operations and the
//! progress measures.

use super::select::*;
use super::style::{draw_legend, legend_row, BLUE, FONT, GREEN, PURPLE, VERMILLION};
use crate::analysis::stats::mean_min_max;
use crate::report::data::{group_of, SweepData};
use crate::report::{draw_err, ReportError, Result};
use crate::results::record::Keyed;
use crate::results::rows::ProgressRow;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

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
    crate::report::register_fonts();
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
                        mean_min_max(
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
    crate::report::register_fonts();
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
    // One legend for all panels, in a strip below them.
    let (charts, strip) = area.split_vertically(area.dim_in_pixel().1.saturating_sub(40));
    let series = [
        ("train_loss", BLUE, "train"),
        ("test_loss", VERMILLION, "test"),
        ("restricted_loss", GREEN, "restricted (key irreps only)"),
        ("excluded_loss", PURPLE, "excluded (key irreps removed)"),
    ];
    let entries: Vec<(String, RGBColor)> = series
        .iter()
        .map(|(_, c, l)| ((*l).to_string(), *c))
        .collect();
    legend_row(&strip, &entries, 17, "progress-measures")?;
    let panels = charts.split_evenly((1, present.len().max(1)));
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
            .caption(panel_caption(&groups, name)?, (FONT, 22))
            .margin(8)
            .margin_right(28)
            .x_label_area_size(44)
            .y_label_area_size(66)
            .build_cartesian_2d(0.0..max_epoch, (1e-7f64..20.0f64).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("cross-entropy loss")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .label_style((FONT, 17))
            .light_line_style(WHITE)
            .draw()
            .map_err(&e)?;
        for (metric_name, color, _) in series {
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
                .map_err(&e)?;
        }
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
}

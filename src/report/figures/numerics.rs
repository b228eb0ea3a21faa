//! The numerics experiment's figure: train loss by loss arm, test accuracy
//! by optimiser arm.

use super::style::{legend_below, split_for_legend, FONT};

const LEGEND_FONT: u32 = 16;
use crate::report::data::SweepData;
use crate::report::numerics::{ops, runs, Arm};
use crate::report::{draw_err, register_fonts, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Train loss (top row, loss arms) and test accuracy (bottom row,
/// optimiser arms) per operation, one line per run.
///
/// # Errors
/// Missing tables or a drawing error.
pub fn figure<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, sweep: &SweepData) -> Result<()> {
    register_fonts();
    let e = draw_err("numerics");
    area.fill(&WHITE).map_err(&e)?;
    let runs = runs(sweep)?;
    let ops = ops(&runs);
    let rows = area.split_evenly((2, ops.len().max(1)));
    let max_epoch = runs
        .iter()
        .flat_map(|r| r.series("train/loss").iter().map(|p| p.0))
        .fold(1.0, f64::max);
    // The loss axis reaches half a decade below the smallest loss (at most
    // down to 1e-12; a loss of exactly 0 is drawn there).
    let floor = runs
        .iter()
        .flat_map(|r| r.series("train/loss").iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .map(f64::log10)
        .fold(0.0, f64::min)
        .max(-12.0)
        .floor()
        - 0.5;
    let panels: [(&str, &[Arm], &str); 2] = [
        (
            "train/loss",
            &[Arm::Baseline, Arm::F64, Arm::StableMax],
            "log10 train loss",
        ),
        (
            "test/accuracy",
            &[Arm::Baseline, Arm::Grokfast, Arm::Matched],
            "test accuracy",
        ),
    ];
    for (row, (metric, arms, y_desc)) in panels.iter().enumerate() {
        for (col, op) in ops.iter().enumerate() {
            let panel = &rows[row * ops.len() + col];
            let loss = row == 0;
            let y = if loss { floor..1.0 } else { 0.0..1.02 };
            let title = if loss {
                format!("{op}: train loss by loss")
            } else {
                format!("{op}: test accuracy by optimiser")
            };
            // The legend goes below the chart, never over a curve.
            let (plot, legend) = split_for_legend(panel, arms.len(), LEGEND_FONT);
            let mut chart = ChartBuilder::on(&plot)
                .caption(title, (FONT, 21))
                .margin(8)
                // Room for the last x tick's label, centred on the edge.
                .margin_right(28)
                .x_label_area_size(44)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..max_epoch, y)
                .map_err(&e)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(*y_desc)
                .label_style((FONT, 17))
                .light_line_style(WHITE)
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(&e)?;
            let mut entries = Vec::new();
            for &arm in arms.iter() {
                let colour = arm.colour();
                let mut first = true;
                for r in runs.iter().filter(|r| &r.op == op && r.arm == arm) {
                    let pts: Vec<(f64, f64)> = r
                        .series(metric)
                        .iter()
                        .map(|&(x, v)| {
                            (
                                x,
                                if loss {
                                    v.max(1e-300).log10().max(floor)
                                } else {
                                    v
                                },
                            )
                        })
                        .collect();
                    chart
                        .draw_series(LineSeries::new(pts, colour.mix(0.8).stroke_width(1)))
                        .map_err(&e)?;
                    if first {
                        entries.push((arm.label().to_string(), colour));
                        first = false;
                    }
                }
            }
            legend_below(&legend, &entries, LEGEND_FONT, "numerics")?;
        }
    }
    Ok(())
}

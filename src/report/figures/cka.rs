//! The cross-operation CKA matrices.

use super::style::{colour_bar, heat, FONT};
use crate::analysis::stats::mean_min_max;
use crate::report::data::SweepData;
use crate::report::{draw_err, ReportError, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    crate::report::register_fonts();
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
            "debiased linear CKA, trained",
            "debiased_linear",
            "final",
            "seed_matched",
        ),
        ("RBF CKA, trained", "rbf", "final", "seed_matched"),
        (
            "reference (first 6 rows), trained",
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
            format!("{title} (null p95 {:.2})", mean_min_max(&nulls).0)
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(title, (FONT, 19))
            .margin(6)
            .x_label_area_size(34)
            .y_label_area_size(50)
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
            .label_style((FONT, 17))
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
                // Centred in its cell.
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x0 + 0.5, y0 + 0.5),
                        (FONT, 16)
                            .into_font()
                            .color(&color)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .map_err(&e)?;
            }
        }
    }
    area.present().map_err(&e)?;
    Ok(())
}

//! Complexity scores against grok epochs.

use super::select::*;
use super::style::{draw_legend, BLUE, FONT, GREEN, GREY, VERMILLION};
use crate::report::data::{group_of, SweepData};
use crate::report::{draw_err, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    crate::report::register_fonts();
    let e = draw_err("complexity-vs-grok");
    area.fill(&WHITE).map_err(&e)?;
    let suite_runs = suite.runs()?;
    let mut runs: Vec<(String, Option<f64>, bool)> = grok_epochs(suite)?
        .into_iter()
        .map(|(o, g)| (o, g, true))
        .collect();
    if let Some(c) = controls {
        runs.extend(grok_epochs(c)?.into_iter().map(|(o, g)| (o, g, false)));
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
            .caption(*name, (FONT, 22))
            .margin(8)
            .margin_right(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            // Room above the not-grokked line for its words.
            .build_cartesian_2d(lo - pad..hi + pad, 0.0..top * 1.13)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc(*name)
            .y_desc("grok epoch")
            .y_label_formatter(&move |y| {
                if *y > max_epoch {
                    String::new()
                } else {
                    format!("{y:.0}")
                }
            })
            .label_style((FONT, 17))
            .light_line_style(WHITE)
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
                "not grokked (placed on this line)",
                (lo - pad * 0.8, top * 1.085),
                TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
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
                && crate::report::data::ABELIAN_SUITE_FAMILIES
                    .contains(&group_of(&groups, &r.0)?.family.as_str())
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
        // One legend, in the F1 panel's empty middle right.
        if std::ptr::eq(panel, &panels[2]) {
            draw_legend(
                &mut chart,
                SeriesLabelPosition::MiddleRight,
                15,
                "complexity-vs-grok",
            )?;
        }
    }
    area.present().map_err(&e)?;
    Ok(())
}

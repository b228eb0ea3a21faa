//! The atlas' figures: every group of the complete orders at a glance.

use super::atlas::{Atlas, GroupClass};
use super::figures::{draw_legend, BLUE, FONT, GREEN, GREY, ORANGE, VERMILLION};
use super::{draw_err, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One colour per class, in [`GroupClass::ALL`] order.
const CLASS_COLOURS: [RGBColor; 4] = [BLUE, GREEN, ORANGE, VERMILLION];

fn colour(class: GroupClass) -> RGBColor {
    CLASS_COLOURS[GroupClass::ALL
        .iter()
        .position(|&c| c == class)
        .expect("every class is listed")]
}

/// Every group of the complete orders as a point: its order against the
/// restricted mean time to a sustained grok over its seeds (the budget where
/// no seed grokked), coloured abelian / nilpotent / solvable / not solvable,
/// cyclic groups ringed. Groups of one order and class are spread a little
/// sideways so equal times stay visible. The legend sits in the band above
/// the budget line, where no point can be.
///
/// # Errors
/// A drawing error.
pub fn overview<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, atlas: &Atlas) -> Result<()> {
    super::register_fonts();
    let e = draw_err("atlas-overview");
    area.fill(&WHITE).map_err(&e)?;
    let budget = atlas
        .groups
        .iter()
        .map(|g| g.budget)
        .max()
        .unwrap_or(20_000) as f64;
    let max_order = atlas.planned.last().copied().unwrap_or(64) as f64;
    let title = if atlas.is_final() {
        format!(
            "The atlas: {} groups of orders 2-{max_order}",
            atlas.groups.len()
        )
    } else {
        format!(
            "The atlas, interim: {} groups of the complete orders {}",
            atlas.groups.len(),
            atlas.complete_orders()
        )
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 30))
        .margin(14)
        .x_label_area_size(64)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..max_order + 1.5, 0.0..budget * 1.36)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("group order |G|")
        .y_desc("restricted mean time to grok (epochs)")
        .light_line_style(WHITE)
        .x_labels(14)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y <= budget {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, 24))
        .axis_desc_style((FONT, 25))
        .draw()
        .map_err(&e)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, budget), (max_order + 1.5, budget)],
            6,
            4,
            GREY.stroke_width(1),
        ))
        .map_err(&e)?;
    chart
        .draw_series(std::iter::once(Text::new(
            "budget: no seed grokked",
            (1.0, budget * 1.08),
            (FONT, 22),
        )))
        .map_err(&e)?;
    // Spread each (order, class)'s groups over ±0.35 of an order.
    let mut by_cell: std::collections::BTreeMap<(usize, GroupClass), usize> = Default::default();
    for g in &atlas.groups {
        *by_cell.entry((g.order, g.class)).or_default() += 1;
    }
    let mut seen: std::collections::BTreeMap<(usize, GroupClass), usize> = Default::default();
    let class_offset = |c: GroupClass| match c {
        GroupClass::Abelian => -0.2,
        GroupClass::Nilpotent => 0.0,
        GroupClass::Solvable => 0.2,
        GroupClass::NotSolvable => 0.2,
    };
    let mut points = Vec::new();
    for g in &atlas.groups {
        let key = (g.order, g.class);
        let k = seen.entry(key).or_default();
        let count = by_cell[&key];
        let spread = if count > 1 {
            (*k as f64 / (count - 1) as f64 - 0.5) * 0.3
        } else {
            0.0
        };
        *k += 1;
        points.push((g.order as f64 + class_offset(g.class) + spread, g.time(), g));
    }
    for class in GroupClass::ALL {
        let c = colour(class);
        let members: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.2.class == class)
            .map(|p| (p.0, p.1))
            .collect();
        if members.is_empty() {
            continue;
        }
        chart
            .draw_series(
                members
                    .iter()
                    .map(|&p| Circle::new(p, 6, c.mix(0.75).filled())),
            )
            .map_err(&e)?
            .label(format!("{} ({})", class.label(), members.len()))
            .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
    }
    let cyclic: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.2.cyclic)
        .map(|p| (p.0, p.1))
        .collect();
    chart
        .draw_series(
            cyclic
                .iter()
                .map(|&p| Circle::new(p, 10, BLACK.stroke_width(2))),
        )
        .map_err(&e)?
        .label(format!("cyclic ({})", cyclic.len()))
        .legend(|(x, y)| Circle::new((x + 8, y), 7, BLACK.stroke_width(2)));
    draw_legend(
        &mut chart,
        SeriesLabelPosition::UpperRight,
        24,
        "atlas-overview",
    )?;
    area.present().map_err(&e)?;
    Ok(())
}

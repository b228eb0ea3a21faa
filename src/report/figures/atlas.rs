//! The atlas' figures: every group of the complete orders at a glance,
//! each pre-registered invariant against time within each order, and
//! (exploratory) the 2-groups by nilpotency class.

use super::style::{draw_legend, BLUE, FONT, GREEN, GREY, ORANGE, VERMILLION};
use crate::analysis::atlas::MIN_GROUPS;
use crate::analysis::stats::kendall_tau_b;
use crate::report::atlas::{Atlas, AtlasGroup, GroupClass};
use crate::report::{draw_err, register_fonts, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

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
    register_fonts();
    let e = draw_err("atlas-overview");
    area.fill(&WHITE).map_err(&e)?;
    let budget = atlas.budget();
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
    budget_line(&mut chart, (0.0, max_order + 1.5), budget, "atlas-overview")?;
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

/// The budget, dashed across the chart from `x.0` to `x.1`: a group there
/// had no seed grok.
fn budget_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x: (f64, f64),
    budget: f64,
    name: &'static str,
) -> Result<()> {
    chart
        .draw_series(DashedLineSeries::new(
            vec![(x.0, budget), (x.1, budget)],
            6,
            4,
            GREY.stroke_width(1),
        ))
        .map_err(draw_err(name))?;
    Ok(())
}

/// The orders a within-order figure shows: the complete orders with at
/// least [`MIN_GROUPS`] groups, each with its groups.
fn strata_groups(atlas: &Atlas) -> Vec<(usize, Vec<&AtlasGroup>)> {
    let mut by_order: BTreeMap<usize, Vec<&AtlasGroup>> = BTreeMap::new();
    for g in &atlas.groups {
        by_order.entry(g.order).or_default().push(g);
    }
    by_order
        .into_iter()
        .filter(|(_, gs)| gs.len() >= MIN_GROUPS)
        .collect()
}

/// Panels of at most five a row.
fn panel_grid(panels: usize) -> (usize, usize) {
    let cols = panels.clamp(1, 5);
    (panels.div_ceil(cols).max(1), cols)
}

/// Points at equal (x, y) spread sideways by up to ±`width`/2, so that
/// ties stay visible; the spread is fixed by the points' order.
fn spread(points: &[(f64, f64)], width: f64) -> Vec<(f64, f64)> {
    let mut count: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for &(x, y) in points {
        *count.entry((x.to_bits(), y.to_bits())).or_default() += 1;
    }
    let mut seen: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    points
        .iter()
        .map(|&(x, y)| {
            let key = (x.to_bits(), y.to_bits());
            let n = count[&key];
            let k = seen.entry(key).or_default();
            let dx = if n > 1 {
                (*k as f64 / (n - 1) as f64 - 0.5) * width
            } else {
                0.0
            };
            *k += 1;
            (x + dx, y)
        })
        .collect()
}

/// One scatter panel: `points` as (x, time), coloured by class, the budget
/// dashed. `x_ticks`, when given, are the only x labels (integers).
#[allow(clippy::too_many_arguments)]
fn scatter_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    x_range: (f64, f64),
    budget: f64,
    points: &[((f64, f64), GroupClass)],
    integer_x: bool,
    name: &'static str,
) -> Result<()> {
    let e = draw_err(name);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 27))
        .margin(8)
        .x_label_area_size(48)
        .y_label_area_size(52)
        .build_cartesian_2d(x_range.0..x_range.1, 0.0..budget * 1.05)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .light_line_style(WHITE)
        .x_labels(if integer_x { 6 } else { 4 })
        .y_labels(5)
        .x_label_formatter(&|x| {
            if !integer_x {
                format!("{x:.2}")
            } else if (x - x.round()).abs() < 1e-9 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| {
            if *y < 1.0 {
                "0".to_string()
            } else {
                format!("{}k", (y / 1000.0).round())
            }
        })
        .label_style((FONT, 22))
        .axis_desc_style((FONT, 24))
        .draw()
        .map_err(&e)?;
    budget_line(&mut chart, x_range, budget, name)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&(p, class)| Circle::new(p, 5, colour(class).mix(0.7).filled())),
        )
        .map_err(&e)?;
    Ok(())
}

/// The x range of values, padded by a twentieth of their span (or ±1 when
/// they are all equal).
fn padded(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = xs.clone().fold(f64::INFINITY, f64::min);
    let hi = xs.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || hi - lo < 1e-12 {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = (hi - lo) / 20.0;
    (lo - pad, hi + pad)
}

/// A row of swatches across the top of a figure: the classes its groups
/// belong to.
fn class_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    groups: &[&AtlasGroup],
    name: &'static str,
) -> Result<()> {
    let e = draw_err(name);
    let (w, _) = area.dim_in_pixel();
    let present: Vec<GroupClass> = GroupClass::ALL
        .into_iter()
        .filter(|c| groups.iter().any(|g| g.class == *c))
        .collect();
    let step = w as i32 / present.len().max(1) as i32;
    for (k, class) in present.into_iter().enumerate() {
        let x = 40 + k as i32 * step;
        area.draw(&Circle::new((x, 24), 9, colour(class).filled()))
            .map_err(&e)?;
        area.draw(&Text::new(class.label(), (x + 14, 10), (FONT, 27)))
            .map_err(&e)?;
    }
    Ok(())
}

/// How a figure of per-order panels reads and places its x values.
struct XAxis<'a> {
    /// The figure's name.
    name: &'static str,
    /// Each group's x value.
    value: &'a dyn Fn(&AtlasGroup) -> f64,
    /// The axis label.
    desc: &'static str,
    /// Whether only integer ticks are labelled.
    integer: bool,
    /// The x range of a panel's values.
    range: &'a dyn Fn(&[f64]) -> (f64, f64),
    /// How far sideways equal points spread, given the range.
    spread: &'a dyn Fn((f64, f64)) -> f64,
}

/// One panel per order in `orders` (laid out `rows` × `cols`): each
/// group's x value against its restricted mean time, coloured by class,
/// titled with the order, its groups and the Kendall tau-b of the two;
/// the classes shown keyed across the top.
fn order_panels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    atlas: &Atlas,
    orders: &[(usize, Vec<&AtlasGroup>)],
    (rows, cols): (usize, usize),
    x: &XAxis<'_>,
) -> Result<()> {
    register_fonts();
    let e = draw_err(x.name);
    area.fill(&WHITE).map_err(&e)?;
    let (key, body) = area.split_vertically(44);
    let shown: Vec<&AtlasGroup> = orders
        .iter()
        .flat_map(|(_, gs)| gs.iter().copied())
        .collect();
    class_key(&key, &shown, x.name)?;
    let budget = atlas.budget();
    for ((order, groups), panel) in orders.iter().zip(body.split_evenly((rows, cols))) {
        let xs: Vec<f64> = groups.iter().map(|g| (x.value)(g)).collect();
        let times: Vec<f64> = groups.iter().map(|g| g.time()).collect();
        let tau =
            kendall_tau_b(&xs, &times).map_or("undefined".to_string(), |t| format!("{t:+.2}"));
        let range = (x.range)(&xs);
        let placed = spread(
            &xs.iter()
                .copied()
                .zip(times.iter().copied())
                .collect::<Vec<_>>(),
            (x.spread)(range),
        );
        let points: Vec<((f64, f64), GroupClass)> = placed
            .into_iter()
            .zip(groups.iter().map(|g| g.class))
            .collect();
        scatter_panel(
            &panel,
            &format!("{order} ({}): \u{3c4} {tau}", groups.len()),
            x.desc,
            range,
            budget,
            &points,
            x.integer,
            x.name,
        )?;
    }
    area.present().map_err(&e)?;
    Ok(())
}

/// Hypothesis `h`'s invariant against the restricted mean time to a
/// sustained grok, one panel per complete order with at least
/// [`MIN_GROUPS`] groups, each titled with its Kendall tau-b (the
/// statistic the pre-registered test sums).
///
/// # Errors
/// A drawing error.
pub fn within_order<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    atlas: &Atlas,
    h: usize,
) -> Result<()> {
    let strata = strata_groups(atlas);
    let grid = panel_grid(strata.len());
    let axis = XAxis {
        name: WITHIN_NAMES[h],
        value: &|g| g.invariants[h],
        desc: INVARIANT_AXES[h],
        integer: h < 3,
        range: &|xs| padded(xs.iter().copied()),
        spread: &|r| (r.1 - r.0) / 12.0,
    };
    order_panels(area, atlas, &strata, grid, &axis)
}

/// The within-order figures' names, in A1–A4 order.
const WITHIN_NAMES: [&str; 4] = [
    "atlas-within-a1",
    "atlas-within-a2",
    "atlas-within-a3",
    "atlas-within-a4",
];

/// The invariants' axis names, in A1–A4 order.
const INVARIANT_AXES: [&str; 4] = ["|G/G'|", "b(G)", "F1", "k(G)/|G|"];

/// Exploratory: within each complete order of a 2-group (8, 16, 32, 64)
/// with at least [`MIN_GROUPS`] groups, the restricted mean time against
/// the nilpotency class. Not a pre-registered test.
///
/// # Errors
/// A drawing error.
pub fn nilpotency<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, atlas: &Atlas) -> Result<()> {
    let orders: Vec<(usize, Vec<&AtlasGroup>)> = strata_groups(atlas)
        .into_iter()
        .filter(|(n, _)| n.is_power_of_two())
        .collect();
    let grid = (1, orders.len().max(1));
    let axis = XAxis {
        name: "atlas-nilpotency",
        value: &|g| g.nilpotency_class as f64,
        desc: "nilpotency class",
        integer: true,
        range: &|xs| (0.5, xs.iter().copied().fold(1.0, f64::max) + 0.5),
        spread: &|_| 0.5,
    };
    order_panels(area, atlas, &orders, grid, &axis)
}

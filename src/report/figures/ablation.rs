//! Grok epochs across settings: the ablations, the controls, accuracy by
//! order and the cumulative share grokked.

use super::select::*;
use super::style::{draw_legend, family_colour, BLUE, FONT, GREY, PALETTE, VERMILLION};
use crate::analysis::stats::mean_min_max;
use crate::report::data::{group_of, SweepData, Swept};
use crate::report::experiments::Experiments;
use crate::report::{draw_err, ReportError, Result};
use crate::results::rows::ResultRow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// Text size of the ablation figures, in pixels of their 600-pixel-wide
/// canvas: the paper prints three side by side, at about 150 pt each, so
/// 22 px print at about 5.5 pt.
const ABLATION_FONT: u32 = 22;

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
    crate::report::register_fonts();
    let e = draw_err("ablation");
    area.fill(&WHITE).map_err(&e)?;
    let (runs, groups) = (sweep.runs()?, sweep.groups()?);
    let outcomes = sweep.sustained_outcomes()?;
    let max_epoch = max_epochs(&runs);
    let top = max_epoch * 1.08;
    let mut xs: Vec<f64> = Vec::new();
    // family -> x -> grok epochs (None = not grokked)
    let mut series: BTreeMap<String, GrokEpochsAt> = BTreeMap::new();
    for (r, o) in runs.iter().zip(&outcomes) {
        let g = group_of(&groups, &r.op)?;
        let x = swept.of(r, g);
        xs.push(x);
        series
            .entry(g.family.clone())
            .or_default()
            .entry((x * 1e6).round() as i64)
            .or_insert((x, vec![]))
            .1
            .push(o.sustained.epoch_f64());
    }
    let (xlo, xhi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    let pad = ((xhi - xlo) * 0.06).max(0.05);
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(84)
        .build_cartesian_2d(xlo - pad..xhi + pad, 0.0..top * 1.55)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .x_labels(6)
        .x_label_formatter(&|x| {
            // 0.3, 1, 40: no trailing zeros.
            let t = format!("{x:.2}");
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        })
        .y_desc("sustained grok epoch")
        .light_line_style(WHITE)
        .y_label_formatter(&|y| {
            if *y <= max_epoch {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, ABLATION_FONT))
        .draw()
        .map_err(&e)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(xlo - pad, top), (xhi + pad, top)],
            6,
            4,
            GREY.stroke_width(2),
        ))
        .map_err(&e)?;
    chart
        .draw_series(std::iter::once(Text::new(
            "not grokked (count)",
            (xlo - pad * 0.7, top * 1.13),
            (FONT, ABLATION_FONT - 2),
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
                let (m, lo, hi) = mean_min_max(&grokked);
                line.push((*x, m));
                if missing > 0 {
                    partial.push((*x, m, format!("{}/{}", grokked.len(), runs.len())));
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(*x, lo), (*x, hi)],
                        color.stroke_width(3),
                    )))
                    .map_err(&e)?;
            }
            if missing > 0 {
                let dx = (k as f64 - 1.0) * pad * 0.25;
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (*x + dx, top),
                        8,
                        color.stroke_width(3),
                    )))
                    .map_err(&e)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{missing}"),
                        (*x + dx + pad * 0.15, top * 0.93),
                        (FONT, ABLATION_FONT - 2).into_font().color(&color),
                    )))
                    .map_err(&e)?;
            }
        }
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(3)))
            .map_err(&e)?
            .label(fam.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
        chart
            .draw_series(
                line.iter()
                    .filter(|p| !partial.iter().any(|q| q.0 == p.0))
                    .map(|p| Circle::new(*p, 6, color.filled())),
            )
            .map_err(&e)?;
        for (x, m, text) in &partial {
            chart
                .draw_series(std::iter::once(Circle::new((*x, *m), 8, WHITE.filled())))
                .map_err(&e)?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (*x, *m),
                    8,
                    color.stroke_width(3),
                )))
                .map_err(&e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    text.clone(),
                    // Left of points near the right edge, so it is not cut.
                    (
                        if *x > xlo + 0.75 * (xhi - xlo) {
                            *x - pad * 1.6
                        } else {
                            *x + pad * 0.35
                        },
                        *m + top * 0.1,
                    ),
                    (FONT, ABLATION_FONT - 2).into_font().color(&color),
                )))
                .map_err(&e)?;
        }
    }
    // Above the not-grokked row, so no censored marker sits under it.
    draw_legend(
        &mut chart,
        SeriesLabelPosition::UpperRight,
        ABLATION_FONT,
        "ablation",
    )?;
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
    crate::report::register_fonts();
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
            let (m, lo, hi) = mean_min_max(accs);
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
/// operation and its pooled pair count. Labels are placed in pixels: the
/// first of a list of spots around the point (right, left, then further up
/// and down) where the label's box meets no other label, no point, no
/// whisker, not the legend and not the chance curve, with a leader line when it is not
/// beside its point. Points measured on fewer than
/// [`crate::report::tables::grok::MIN_INFORMATIVE_PAIRS`] pairs are hollow.
/// The dashed curve is chance, 1/|G|.
fn accuracy_by_order<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    desc: &str,
    points: &[OrderPoint<'_>],
) -> std::result::Result<(), String> {
    const LABEL_FONT: u32 = 15;
    let err = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let (x_lo, x_hi) = (4.0f64, 220.0f64);
    let mut chart = ChartBuilder::on(panel)
        .margin(14)
        .margin_right(20)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), -0.02..1.08)
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
        .label_style((FONT, 17))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let chance: Vec<(f64, f64)> = (0..=120)
        .map(|i| {
            let x = x_lo * (x_hi / x_lo).powf(f64::from(i) / 120.0);
            (x, 1.0 / x)
        })
        .collect();
    chart
        .draw_series(DashedLineSeries::new(
            chance.iter().copied(),
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(err)?
        .label("chance, 1/|G|")
        .legend(|(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (6, 0)], BLACK.stroke_width(1))
                + PathElement::new(vec![(10, 0), (16, 0)], BLACK.stroke_width(1))
        });
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(err)?
        .label("fewer than 30 pairs")
        .legend(|(x, y)| Circle::new((x + 6, y), 5, GREY.stroke_width(2)));
    // Everything a label must not cover, as pixel boxes (x0, y0, x1, y1).
    type PixelBox = (i32, i32, i32, i32);
    let px = |x: f64, y: f64| chart.backend_coord(&(x, y));
    let centres: Vec<(i32, i32)> = points.iter().map(|p| px(p.order, p.mean)).collect();
    let mut taken: Vec<PixelBox> = Vec::new();
    for (p, &(cx, cy)) in points.iter().zip(&centres) {
        taken.push((cx - 8, cy - 8, cx + 8, cy + 8));
        let (_, top) = px(p.order, p.max);
        let (_, bottom) = px(p.order, p.min);
        taken.push((cx - 2, top, cx + 2, bottom));
    }
    let chance_px: Vec<(i32, i32)> = chance.iter().map(|&(x, y)| px(x, y)).collect();
    let (left, top) = px(x_lo, 1.08);
    let (right, bottom) = px(x_hi, -0.02);
    // The legend (drawn last, middle right): four entries of 16 px text,
    // the longest "fewer than 30 pairs", behind a 30 px marker, measured
    // generously so no label slips under its edge.
    let (legend_w, legend_h) = (19 * 16 * 56 / 100 + 30 + 24, 4 * 22 + 16);
    let middle = (top + bottom) / 2;
    taken.push((
        right - legend_w,
        middle - legend_h / 2,
        right,
        middle + legend_h / 2,
    ));
    let overlaps = |a: &PixelBox, b: &PixelBox| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    let mut drawn = [false, false];
    for p in points {
        let (x, m) = (p.order, p.mean);
        let color = if p.abelian { BLUE } else { VERMILLION };
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, p.min), (x, p.max)],
                color.stroke_width(2),
            )))
            .map_err(err)?;
        let few = p.pairs < crate::report::tables::grok::MIN_INFORMATIVE_PAIRS;
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
    }
    let font = i32::try_from(LABEL_FONT).unwrap_or(15);
    for (p, &(cx, cy)) in points.iter().zip(&centres) {
        let color = if p.abelian { BLUE } else { VERMILLION };
        // The suite's own names (add, s4, ...), else the group's (Z/6, A5).
        let name = if p.op.contains(':') { p.group } else { p.op };
        let text = format!("{name} ({})", p.pairs);
        let width = i32::try_from(text.chars().count()).unwrap_or(20) * font * 56 / 100;
        let height = font + 4;
        // Candidate spots: the label's left edge and vertical centre.
        let mut spots: Vec<(i32, i32)> = Vec::new();
        for k in 0..24 {
            let dy = (k / 2 + 1) * height * if k % 2 == 0 { 1 } else { -1 };
            for dx in [12, -12 - width, 40, -40 - width] {
                if k == 0 {
                    spots.push((cx + dx, cy));
                }
                spots.push((cx + dx, cy + dy - if k % 2 == 0 { height } else { -height }));
            }
        }
        let clear = |&(lx, ly): &(i32, i32)| {
            let b = (lx - 2, ly - height / 2, lx + width + 2, ly + height / 2);
            b.0 >= left
                && b.2 <= right
                && b.1 >= top
                && b.3 <= bottom
                && !taken.iter().any(|t| overlaps(&b, t))
                && !chance_px
                    .iter()
                    .any(|&(x, y)| x >= b.0 && x <= b.2 && y >= b.1 && y <= b.3)
        };
        let Some(&(lx, ly)) = spots.iter().find(|s| clear(s)) else {
            continue;
        };
        taken.push((lx - 2, ly - height / 2, lx + width + 2, ly + height / 2));
        let area = chart.plotting_area();
        let (bx, by) = area.get_base_pixel();
        let plain = area.strip_coord_spec();
        let beside = (ly - cy).abs() <= 1 && (lx == cx + 12 || lx + width == cx - 12);
        if !beside {
            // Away from its point: a leader line to the label's near edge.
            let end_x = if lx > cx { lx - 2 } else { lx + width + 2 };
            plain
                .draw(&PathElement::new(
                    vec![(cx - bx, cy - by), (end_x - bx, ly - by)],
                    color.mix(0.6).stroke_width(1),
                ))
                .map_err(err)?;
        }
        let style =
            TextStyle::from((FONT, LABEL_FONT).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        plain
            .draw(&Text::new(text, (lx - bx, ly - by), style))
            .map_err(err)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::MiddleRight, 16, "controls")
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
    crate::report::register_fonts();
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
        for (op, g) in grok_epochs(sweep)? {
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

//! What the figures share: the font, the Okabe–Ito palette, colours by
//! family, the legend box and the colour bar.

use crate::report::{draw_err, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) const FONT: &str = "sans-serif";

pub(crate) const BLUE: RGBColor = RGBColor(0, 114, 178);

pub(crate) const ORANGE: RGBColor = RGBColor(230, 159, 0);

pub(crate) const GREEN: RGBColor = RGBColor(0, 158, 115);

pub(crate) const VERMILLION: RGBColor = RGBColor(213, 94, 0);

pub(crate) const SKY: RGBColor = RGBColor(86, 180, 233);

pub(crate) const PURPLE: RGBColor = RGBColor(204, 121, 167);

pub(crate) const GREY: RGBColor = RGBColor(120, 120, 120);

pub(crate) const PALETTE: [RGBColor; 6] = [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY];

/// One colour per operation family in every ablation panel.
pub(crate) fn family_colour(family: &str, k: usize) -> RGBColor {
    match family {
        "add" => BLUE,
        "ring" => GREEN,
        "dihedral" => VERMILLION,
        _ => [ORANGE, PURPLE, SKY][k % 3],
    }
}

/// The legend every figure draws: translucent white box, grey border.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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

/// One legend entry at `(x, y)` (its left end, vertical centre): a line in
/// the entry's colour, then the label.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    (label, colour): &(String, RGBColor),
    font_size: u32,
    figure: &'static str,
) -> Result<()> {
    let e = draw_err(figure);
    area.draw(&PathElement::new(
        vec![(x, y), (x + 28, y)],
        colour.stroke_width(3),
    ))
    .map_err(&e)?;
    area.draw(&Text::new(
        label.clone(),
        (x + 36, y),
        TextStyle::from((FONT, font_size).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(&e)
}

/// The height of one row of [`legend_below`] at `font_size`.
fn legend_row_height(font_size: u32) -> u32 {
    font_size * 3 / 2
}

/// `panel` split into a chart above and, below it, room for a
/// [`legend_below`] of `rows` entries at `font_size`.
pub(crate) fn split_for_legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    rows: usize,
    font_size: u32,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let rows = u32::try_from(rows).unwrap_or(u32::MAX);
    let height = legend_row_height(font_size).saturating_mul(rows) + 12;
    panel.split_vertically(panel.dim_in_pixel().1.saturating_sub(height))
}

/// A legend of its own below a chart ([`split_for_legend`] makes its
/// room), one entry a row, so it never covers the data.
pub(crate) fn legend_below<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    font_size: u32,
    figure: &'static str,
) -> Result<()> {
    let row = i32::try_from(legend_row_height(font_size)).unwrap_or(24);
    for (k, entry) in entries.iter().enumerate() {
        let y = 4 + row * i32::try_from(k).unwrap_or(0) + row / 2;
        legend_entry(area, (64, y), entry, font_size, figure)?;
    }
    Ok(())
}

/// A legend on one line (a strip below a figure's panels), entries side by
/// side, for panels that all draw the same series.
pub(crate) fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    font_size: u32,
    figure: &'static str,
) -> Result<()> {
    let font = i32::try_from(font_size).unwrap_or(16);
    let y = i32::try_from(area.dim_in_pixel().1).unwrap_or(0) / 2;
    let mut x = 64;
    for entry in entries {
        legend_entry(area, (x, y), entry, font_size, figure)?;
        // The label's width, estimated from its characters, and a gap.
        x += 36 + i32::try_from(entry.0.chars().count()).unwrap_or(20) * font * 56 / 100 + 48;
    }
    Ok(())
}

/// A colour for a CKA value in [-0.25, 1] (white to dark blue; red below 0).
/// The colour scale of [`heat`], from -0.25 to 1, with its values beside it.
pub(crate) fn colour_bar<DB: DrawingBackend>(
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
                TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(err)?;
    }
    Ok(())
}

pub(crate) fn heat(v: f64) -> RGBColor {
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

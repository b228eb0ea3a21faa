//! Figures and tables from stored results: everything in `figures/` and
//! `paper/generated/` is drawn from `experiments/` alone (no training, no
//! `runs/`), byte-stable from run to run.
//!
//! The layers, each importing only those above it in this list:
//!
//! - this file: the error type and the two renderers ([`svg_string`],
//!   [`png_bytes`]);
//! - [`data`]: a sweep's stored tables as typed rows ([`SweepData`]);
//!   [`outcome`]: each run's grok epochs, resolved once; [`spectra`]: the
//!   irrep spectra shaped for reading;
//! - [`survival`], [`atlas`]: the long-budget settings and the atlas'
//!   groups built from those; [`experiments`]: every sweep the paper uses
//!   ([`Experiments`]);
//! - [`latex`] (base): escaping and the number macros ([`latex::Numbers`]);
//! - [`claims`]: one file per rule (R2–R8, R3 at long budgets, A1–A4);
//! - the tables ([`latex`]'s files, [`nulls`], [`numerics`], [`twins`]) and
//!   the figures ([`figures`], one file per family, a shared [`figures::style`]);
//! - [`paper`]: every table and number in one pass.
//!
//! One figure is one function in [`figures`], generic over the plotters
//! backend: the CLI renders it to SVG and PNG, a notebook renders it inline
//! with `evcxr_figure`.
//!
//! ```no_run
//! use grokscope::report::{figures, Experiments};
//! let exp = Experiments::load(std::path::Path::new("experiments")).unwrap();
//! let suite = exp.suite.as_ref().unwrap();
//! grokscope::report::register_fonts();
//! let svg = grokscope::report::svg_string((900, 600), |area| figures::grok_cdf(&area, &exp)).unwrap();
//! assert!(svg.starts_with("<svg"));
//! # let _ = suite;
//! ```

pub mod atlas;
pub mod browser;
pub mod claims;
pub mod data;
pub mod experiments;
pub mod figures;
pub mod irrep_ablation;
pub mod latex;
pub mod nulls;
pub mod numerics;
pub mod order_controls;
pub mod outcome;
pub mod paper;
pub mod spectra;
pub mod survival;
pub mod tables;
pub mod twins;

/// The plotting and table crates grokscope was built with, re-exported so a
/// notebook's `use grokscope::report::plotters::prelude::*` gets the same
/// versions and features (evcxr, SVG, bitmap) as the library's figures.
pub use plotters;
pub use polars;

pub use data::{column, group_of, select, SweepData, Swept};
pub use experiments::Experiments;
pub use figures::{render_figures, FigureSpec};

use crate::store::StoreError;
use plotters::coord::Shift;
use plotters::prelude::*;

/// What can go wrong drawing figures or writing tables.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A table lacks what a figure needs.
    #[error("{0}")]
    Data(String),
    /// plotters failed.
    #[error("drawing {figure}: {reason}")]
    Draw {
        /// The figure.
        figure: String,
        /// plotters' message.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of a figure or table function.
pub type Result<T> = std::result::Result<T, ReportError>;

/// Wraps a plotters error (any backend) with the figure's name.
pub(crate) fn draw_err<E: std::fmt::Display>(figure: &'static str) -> impl Fn(E) -> ReportError {
    move |e| ReportError::Draw {
        figure: figure.into(),
        reason: e.to_string(),
    }
}

/// Registers the embedded DejaVu Sans as "sans-serif" for plotters, once.
/// PNG text is rasterised from this font, so figures look the same (and have
/// the same bytes) on every machine.
pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font("sans-serif", style, font)
                .unwrap_or_else(|_| panic!("the embedded font is valid"));
        }
    });
}

/// Draws into an SVG string.
///
/// # Errors
/// The figure's error.
pub fn svg_string(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    register_fonts();
    let mut s = String::new();
    {
        let area = SVGBackend::with_string(&mut s, size).into_drawing_area();
        draw(area)?;
    }
    Ok(s)
}

/// Draws into PNG bytes.
///
/// # Errors
/// The figure's error, or PNG encoding.
pub fn png_bytes(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    register_fonts();
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(area)?;
    }
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    image::ImageEncoder::write_image(encoder, &rgb, size.0, size.1, image::ColorType::Rgb8)
        .map_err(|e| ReportError::Draw {
            figure: "png".into(),
            reason: e.to_string(),
        })?;
    Ok(png)
}

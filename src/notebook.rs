//! Notebook set-up. Call [`init`] in a notebook's first code cell.

use std::cell::{Cell, RefCell};

thread_local! {
    /// Set while [`catch_panic`] runs on this thread: the hook then keeps
    /// the message for it instead of reporting it.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The marker lines of grokscope's patched evcxr kernel (see
/// `scripts/evcxr/cell-errors.patch`): a message printed between them on
/// stdout fails the running cell with it.
const CELL_ERROR_BEGIN: &str = "EVCXR_ERROR_OCCURRED";
const CELL_ERROR_END: &str = "EVCXR_ERROR_END";

/// A panic's message as text.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".into())
}

/// Runs `f`, turning a panic into `Err(message at location)`; with
/// [`init`]'s hook installed the panic prints nothing of its own.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let outer = CATCHING.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(outer));
    result.map_err(|payload| {
        CAUGHT
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| panic_text(&*payload))
    })
}

/// Sets how a panic reads in a notebook. A panic in a cell fails that cell
/// with a one-line message (`panicked at <file:line>: <message>`) shown in
/// it, and the variables defined before the cell are kept (the project's
/// kernel, patched by `scripts/setup`, replies with an error, so Run All and
/// headless runs stop there). A panic inside a grokscope call that can
/// catch it (a study's training, analysis and figures) comes back as that
/// call's `Err`; one in a background training thread ends that training,
/// and its `wait()` returns the error.
pub fn init() {
    // Cells run on the thread that calls init (evcxr's subprocess leaves it
    // unnamed, so its name cannot tell).
    let cell_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        let text = format!(
            "panicked at {}: {}",
            info.location()
                .map_or_else(|| "an unknown place".into(), ToString::to_string),
            panic_text(info.payload())
        );
        if CATCHING.with(Cell::get) {
            CAUGHT.with(|c| *c.borrow_mut() = Some(text));
        } else if std::thread::current().id() == cell_thread {
            // The cell's own thread: fail the cell with the message.
            println!("{CELL_ERROR_BEGIN}\n{text}\n{CELL_ERROR_END}");
        } else {
            eprintln!("{text}");
        }
    }));
}

use crate::groups::{format_character, FiniteGroup};
use polars::prelude::{AnyValue, DataFrame};
use std::fmt::Write as _;

/// Emits a line of text as a cell's display (`text/plain`).
#[cfg(feature = "torch")]
pub(crate) fn emit_text(plain: &str) {
    println!("EVCXR_BEGIN_CONTENT text/plain\n{plain}\nEVCXR_END_CONTENT");
}

/// Emits one display bundle to the evcxr kernel: a `text/plain` fallback and
/// the same content as `text/html` (the kernel shows the richest it can).
fn emit(plain: &str, html: &str) {
    println!("EVCXR_BEGIN_CONTENT text/plain\n{plain}\nEVCXR_END_CONTENT");
    println!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT");
}

/// `s` with HTML's special characters escaped.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A cell of a table: integers in full, other floats to three decimals (or
/// in scientific notation when tiny or huge), nulls as an em dash.
fn cell(v: &AnyValue) -> String {
    let float = |x: f64| {
        if x.is_nan() {
            "NaN".to_string()
        } else if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{x:.0}")
        } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
            format!("{x:.3e}")
        } else {
            format!("{x:.3}")
        }
    };
    match v {
        AnyValue::Null => "—".into(),
        AnyValue::Float64(x) => float(*x),
        AnyValue::Float32(x) => float(f64::from(*x)),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A data frame shown in a notebook as an HTML table, at most `max_rows`
/// rows (default 20), numbers formatted; its `text/plain` form is polars'
/// own.
///
/// ```
/// use grokscope::notebook::Table;
/// use grokscope::report::polars::prelude::*;
/// let df = df!("op" => ["add", "s4"], "test" => [0.99512, 0.25]).unwrap();
/// let html = Table::new(&df).max_rows(1).html();
/// assert!(html.contains("<td>add</td><td>0.995</td>"));
/// assert!(html.contains("1 of 2 rows"));
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    df: DataFrame,
    max_rows: usize,
}

impl Table {
    /// Wraps a (cheaply cloned) data frame.
    pub fn new(df: &DataFrame) -> Self {
        Self {
            df: df.clone(),
            max_rows: 20,
        }
    }
    /// A table of text cells under `columns`; a row shorter than the
    /// columns is padded with empty cells, a longer one cut.
    ///
    /// ```
    /// use grokscope::notebook::Table;
    /// let t = Table::from_rows(&["claim", "verdict"], &[vec!["R2".into(), "refuted".into()]])
    ///     .unwrap();
    /// assert!(t.html().contains("<td>R2</td><td>refuted</td>"));
    /// assert!(Table::from_rows(&["a", "a"], &[]).is_err());
    /// ```
    ///
    /// # Errors
    /// Two columns of one name.
    pub fn from_rows(
        columns: &[&str],
        rows: &[Vec<String>],
    ) -> Result<Self, polars::prelude::PolarsError> {
        let cols: Vec<polars::prelude::Column> = columns
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let cells: Vec<&str> = rows
                    .iter()
                    .map(|r| r.get(j).map_or("", String::as_str))
                    .collect();
                polars::prelude::Column::new((*name).into(), cells)
            })
            .collect();
        Ok(Self::new(&DataFrame::new(rows.len(), cols)?))
    }
    /// Shows at most `n` rows.
    #[must_use]
    pub fn max_rows(mut self, n: usize) -> Self {
        self.max_rows = n;
        self
    }
    /// The HTML table.
    pub fn html(&self) -> String {
        let mut s = String::from("<table><thead><tr>");
        for name in self.df.get_column_names() {
            let _ = write!(s, "<th>{}</th>", escape_html(name));
        }
        s.push_str("</tr></thead><tbody>");
        let shown = self.df.height().min(self.max_rows);
        for i in 0..shown {
            s.push_str("<tr>");
            for col in self.df.columns() {
                let v = col.get(i).map(|v| cell(&v)).unwrap_or_default();
                let _ = write!(s, "<td>{}</td>", escape_html(&v));
            }
            s.push_str("</tr>");
        }
        let _ = write!(
            s,
            "</tbody></table><p><small>{shown} of {} rows, {} columns</small></p>",
            self.df.height(),
            self.df.width()
        );
        s
    }
    /// Called by the evcxr kernel when a cell ends with a `Table`.
    pub fn evcxr_display(&self) {
        emit(&format!("{}", self.df), &self.html());
    }
}

/// A drawn figure (SVG) that a notebook shows inline; `svg()` gives the
/// markup to save.
///
/// Its `Debug` text is one short line, not the markup: a cell that ends
/// with a `Result<Figure, _>` (a forgotten `?`) shows
/// `Ok(Figure(SVG of 68 KB; end the cell with `?` to draw it))`.
///
/// ```
/// let f = grokscope::notebook::Figure("<svg>".repeat(1000));
/// assert_eq!(format!("{:?}", Ok::<_, ()>(f)), "Ok(Figure(SVG of 5 KB; end the cell with `?` to draw it))");
/// ```
#[derive(Clone)]
pub struct Figure(pub String);

impl std::fmt::Debug for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Figure(SVG of {} KB; end the cell with `?` to draw it)",
            self.0.len().div_ceil(1000)
        )
    }
}

impl Figure {
    /// Draws `draw` into an SVG of `size` pixels.
    ///
    /// # Errors
    /// The drawing's error (missing data, a plotters failure).
    pub fn draw(
        size: (u32, u32),
        draw: impl FnOnce(
            plotters::prelude::DrawingArea<plotters::prelude::SVGBackend, plotters::coord::Shift>,
        ) -> crate::report::Result<()>,
    ) -> crate::report::Result<Self> {
        // plotters panics on some bad input (an empty range, say): the
        // cell gets an error, not a panic.
        catch_panic(|| crate::report::svg_string(size, draw))
            .unwrap_or_else(|message| {
                Err(crate::report::ReportError::Draw {
                    figure: "figure".into(),
                    reason: message,
                })
            })
            .map(Self)
    }
    /// The SVG markup.
    pub fn svg(&self) -> &str {
        &self.0
    }
    /// Called by the evcxr kernel when a cell ends with a figure.
    pub fn evcxr_display(&self) {
        emit("(figure)", &format!("<div>{}</div>", self.0));
    }
}

/// Several captioned figures shown as one cell output. The evcxr kernel
/// keeps one output per MIME type per cell (the last displayed), so a cell
/// that displays figures in a loop shows only the last one: push them here
/// and end the cell with the collection.
#[derive(Debug, Clone, Default)]
pub struct Figures(pub Vec<(String, Figure)>);

impl Figures {
    /// No figures yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `figure` under `caption`.
    pub fn push(&mut self, caption: impl Into<String>, figure: Figure) {
        self.0.push((caption.into(), figure));
    }
    /// The figures as HTML, each under its escaped caption.
    pub fn html(&self) -> String {
        self.0
            .iter()
            .map(|(caption, f)| {
                format!(
                    "<figure><figcaption>{}</figcaption><div>{}</div></figure>",
                    escape_html(caption),
                    f.svg()
                )
            })
            .collect()
    }
    /// Called by the evcxr kernel when a cell ends with the figures.
    pub fn evcxr_display(&self) {
        let captions: Vec<&str> = self.0.iter().map(|(c, _)| c.as_str()).collect();
        emit(
            &format!("({} figures: {})", self.0.len(), captions.join("; ")),
            &self.html(),
        );
    }
}

impl FiniteGroup {
    /// The character table (complex irreps by conjugacy class, with class
    /// sizes) and the real irreps' dimensions, types and faithfulness, as
    /// HTML.
    pub fn character_table_html(&self) -> String {
        let reps = self.representations();
        let classes = self.conjugacy_classes();
        let mut s = format!(
            "<p><b>{}</b>, order {}, {}</p><table><thead><tr><th>irrep</th><th>dim</th>",
            escape_html(self.name()),
            self.order(),
            if self.is_abelian() {
                "abelian"
            } else {
                "non-abelian"
            }
        );
        for c in classes {
            let _ = write!(
                s,
                "<th>{}<br><small>{} element{}</small></th>",
                escape_html(self.label(c.representative)),
                c.size(),
                if c.size() == 1 { "" } else { "s" }
            );
        }
        s.push_str("</tr></thead><tbody>");
        for i in &reps.complex.irreps {
            let _ = write!(s, "<tr><td>{}</td><td>{}</td>", escape_html(&i.name), i.dim);
            for z in &i.character {
                let _ = write!(s, "<td>{}</td>", format_character(z.re, z.im));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table><table><thead><tr><th>real irrep</th><th>real dim</th><th>type</th><th>faithful</th></tr></thead><tbody>");
        for r in &reps.real {
            let t = r.fs_type.name();
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{t}</td><td>{}</td></tr>",
                escape_html(&r.name),
                r.real_dim(),
                if r.is_faithful() { "yes" } else { "no" }
            );
        }
        s.push_str("</tbody></table>");
        s
    }

    /// Called by the evcxr kernel when a cell ends with a group: its
    /// character table.
    pub fn evcxr_display(&self) {
        let plain = format!(
            "{} (order {}, {} complex irreps)",
            self.name(),
            self.order(),
            self.representations().complex.irreps.len()
        );
        emit(&plain, &self.character_table_html());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_show_every_figure_in_one_output_under_escaped_captions() {
        let mut figs = Figures::new();
        figs.push("a <b>", Figure("<svg id=\"1\"></svg>".into()));
        figs.push("c", Figure("<svg id=\"2\"></svg>".into()));
        let html = figs.html();
        assert_eq!(html.matches("<figure>").count(), 2);
        assert!(html.contains("<figcaption>a &lt;b&gt;</figcaption><div><svg id=\"1\">"));
        assert!(html.find("id=\"1\"") < html.find("id=\"2\""), "in order");
    }

    #[test]
    fn s3_shows_its_published_character_table() {
        let g = FiniteGroup::symmetric(3).unwrap();
        let html = g.character_table_html();
        // Rows [2,1]: 2, 0, -1 on the classes of 1, transpositions, 3-cycles.
        assert!(
            html.contains("<tr><td>[2,1]</td><td>2</td><td>2</td><td>0</td><td>-1</td></tr>"),
            "{html}"
        );
        assert!(html.contains("3 elements"));
        assert_eq!(
            html.matches("<tr><td>").count(),
            6,
            "3 complex + 3 real irreps"
        );
    }

    #[test]
    fn table_cells_escape_and_format() {
        let df = polars::prelude::df!(
            "name" => ["<b>", "x"],
            "v" => [Some(1e-5), None],
            "n" => [3i64, 4]
        )
        .unwrap();
        let html = Table::new(&df).html();
        assert!(
            html.contains("<td>&lt;b&gt;</td><td>1.000e-5</td><td>3</td>"),
            "{html}"
        );
        assert!(html.contains("<td>x</td><td>—</td><td>4</td>"), "{html}");
        assert!(html.contains("2 of 2 rows, 3 columns"));
    }
}

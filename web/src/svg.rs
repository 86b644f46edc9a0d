//! Charts as SVG documents, for the Export dialog: the same drawing as on the canvas
//! (`charts::draw_on`), through plotters' SVG backend with two changes, so the file looks like
//! the canvas it was exported from.
//!
//! - Text is drawn at the size the canvas draws it. plotters' SVG backend writes `font-size`
//!   as the style's size divided by 1.24 (its own em convention); the canvas backend uses the
//!   size itself as pixels.
//! - Text is measured with a table of advance widths, not plotters' default. There is no
//!   font to measure in an SVG file: it is laid out wherever it is opened, with whatever
//!   `sans-serif` that viewer has. plotters' default measures by adding a styled `<span>` to
//!   the page (refused by the page's Content-Security-Policy, and absent outside a browser).
//!   The table holds DejaVu Sans' widths, the widest of the common default sans-serif fonts, so
//!   a legend laid out with it does not overlap with Arial or Helvetica either (it is a little
//!   looser there).
//!
//! Sizes are in CSS pixels (the drawing scale is 1), bounded by [`SIDE_CSS_MIN`] and
//! [`SIDE_CSS_MAX`].

use crate::charts::{self, Chart};
use crate::view::RunView;
use plotters::prelude::*;
use plotters_backend::text_anchor::Pos;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontFamily, FontStyle, FontTransform,
};
use std::fmt;

/// Smallest side of an exported chart, in CSS pixels: below it the legend and axis labels
/// leave no room for the plot.
pub const SIDE_CSS_MIN: f64 = 200.0;
/// Largest side of an exported chart, in CSS pixels: a bound on the document's size (a
/// polyline's points grow with the width only through rounding, but the grid and labels do).
pub const SIDE_CSS_MAX: f64 = 4000.0;

/// Why a chart could not be made into SVG.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SvgError {
    /// A side (`width_css` or `height_css`) is not a number within the bounds.
    Size { field: &'static str, value: f64 },
    /// plotters refused to draw (it should not).
    Drawing(String),
}

impl fmt::Display for SvgError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SvgError::Size { field, value } => write!(formatter, "{field}: {}", size_message(*value)),
            SvgError::Drawing(message) => write!(formatter, "{message}"),
        }
    }
}

/// What is wrong with a side of `value` CSS pixels.
pub fn size_message(value: f64) -> String {
    format!("expected a number of CSS pixels from {SIDE_CSS_MIN} to {SIDE_CSS_MAX}, got {value}")
}

fn check_side(field: &'static str, value: f64) -> Result<u32, SvgError> {
    if (SIDE_CSS_MIN..=SIDE_CSS_MAX).contains(&value) {
        Ok(value.round() as u32)
    } else {
        Err(SvgError::Size { field, value })
    }
}

/// One chart of a run as an SVG document (starting `<svg`), `width_css` by `height_css`, with
/// the cursor at `cursor_s` and the `focus` `charts::draw` takes.
pub fn chart_svg(
    view: &RunView,
    chart: Chart,
    width_css: f64,
    height_css: f64,
    cursor_s: f64,
    focus: Option<&str>,
) -> Result<String, SvgError> {
    let size = (check_side("width_css", width_css)?, check_side("height_css", height_css)?);
    let mut document = String::new();
    {
        let root = Svg { inner: SVGBackend::with_string(&mut document, size) }.into_drawing_area();
        charts::draw_on(&root, 1.0, view, chart, cursor_s, focus).map_err(SvgError::Drawing)?;
    }
    // Round joins, as on the canvas: thick polylines of noisy series otherwise grow miter
    // spikes. Set once on the root; the property is inherited.
    Ok(document.replacen("<svg ", "<svg stroke-linejoin=\"round\" ", 1))
}

/// plotters' SVG backend, drawing text at the canvas' size and measuring it with [`text_width`].
struct Svg<'a> {
    inner: SVGBackend<'a>,
}

type Error = <SVGBackend<'static> as DrawingBackend>::ErrorType;

/// plotters' SVG backend writes `font-size` as the style's size divided by this.
const SVG_FONT_SIZE_DIVISOR: f64 = 1.24;

impl DrawingBackend for Svg<'_> {
    type ErrorType = Error;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.fill_polygon(vertices, style)
    }
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        position: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_text(text, &CanvasSized(style), position)
    }
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Error>> {
        // As the canvas backend reports it: the width, and the font size as the height.
        let size = style.size();
        Ok(((text_width(text) * size).ceil().max(0.0) as u32, size.ceil().max(0.0) as u32))
    }
}

/// A text style as the SVG backend should see it to write the canvas' font size.
struct CanvasSized<'a, S>(&'a S);

impl<S: BackendTextStyle> BackendTextStyle for CanvasSized<'_, S> {
    type FontError = S::FontError;

    fn color(&self) -> BackendColor {
        self.0.color()
    }
    fn size(&self) -> f64 {
        self.0.size() * SVG_FONT_SIZE_DIVISOR
    }
    fn transform(&self) -> FontTransform {
        self.0.transform()
    }
    fn style(&self) -> FontStyle {
        self.0.style()
    }
    fn anchor(&self) -> Pos {
        self.0.anchor()
    }
    fn family(&self) -> FontFamily<'_> {
        self.0.family()
    }
    fn layout_box(&self, text: &str) -> Result<((i32, i32), (i32, i32)), Self::FontError> {
        self.0.layout_box(text)
    }
    fn draw<E, DrawFunc: FnMut(i32, i32, BackendColor) -> Result<(), E>>(
        &self,
        text: &str,
        position: BackendCoord,
        draw: DrawFunc,
    ) -> Result<Result<(), E>, Self::FontError> {
        self.0.draw(text, position, draw)
    }
}

/// Advance widths of printable ASCII (from the space, U+0020, to `~`) in DejaVu Sans, in
/// thousandths of the font size.
const ASCII_WIDTHS_PER_MILLE: [u16; 95] = [
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, //
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, //
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, //
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, //
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, //
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/// Other characters (µ in "µs", a middle dot, letters of node ids): about a digit's width.
const OTHER_WIDTH_PER_MILLE: u16 = 640;

/// The width of `text` in units of its font size.
fn text_width(text: &str) -> f64 {
    let per_mille: u32 = text
        .chars()
        .map(|character| {
            let code = character as usize;
            u32::from(ASCII_WIDTHS_PER_MILLE.get(code.wrapping_sub(0x20)).copied().unwrap_or(OTHER_WIDTH_PER_MILLE))
        })
        .sum();
    f64::from(per_mille) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette;

    /// A small run: two buckets of a client calling a service, with a fault in the second.
    fn small_view() -> RunView {
        serde_json::from_str(
            r#"{"report": {"simulated_s": 4, "duration_s": 4, "series": {"bucket_s": 1, "buckets": 4,
                 "system": {"offered_per_s": [10, 10, 10, 10], "attempts_per_s": [10, 12, 20, 11],
                            "goodput_per_s": [10, 9, 3, 10], "timeouts_per_s": [0, 3, 17, 1],
                            "latency_p50_ms": [20, 25, 400, 22], "latency_p99_ms": [60, 90, 900, 70],
                            "latency_p999_ms": [80, 120, 1000, 90]},
                 "nodes": [{"id": "users", "kind": "client", "metrics": {}},
                           {"id": "api", "kind": "service", "metrics": {"queue_depth": [0, 4, 30, 2]}}],
                 "edges": []}},
               "faults": [{"node": "api", "start_s": 2, "end_s": 3, "label": "api slowdown ×4"}]}"#,
        )
        .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Each `<polyline>`'s attributes and number of points.
    fn polylines(document: &str) -> Vec<(&str, usize)> {
        document
            .split("<polyline")
            .skip(1)
            .filter_map(|rest| rest.split_once("/>"))
            .map(|(attributes, _)| {
                let points = attributes.split_once("points=\"").map_or("", |(_, points)| points);
                (attributes, points.split('"').next().unwrap_or("").split_whitespace().count())
            })
            .collect()
    }

    fn svg(chart: Chart, width_css: f64, height_css: f64) -> Result<String, SvgError> {
        chart_svg(&small_view(), chart, width_css, height_css, 2.5, None)
    }

    #[test]
    fn the_latency_chart_is_a_whole_svg_document_with_series_legend_and_axes() {
        let document = svg(Chart::Latency, 640.0, 300.0).unwrap_or_else(|error| panic!("{error}"));
        assert!(document.starts_with("<svg stroke-linejoin=\"round\" width=\"640\" height=\"300\""), "{document:.120}");
        assert!(document.contains("xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(document.trim_end().ends_with("</svg>"), "closed");
        // Every element opened is closed: texts are the only elements with content.
        assert_eq!(document.matches("<text").count(), document.matches("</text>").count());
        assert_eq!(document.matches("<svg").count(), 1);
        // The series: a polyline through the four buckets per percentile, in its palette colour
        // (the legend's swatches, axes and cursor are polylines of two points).
        for colour in [palette::LATENCY_P50, palette::LATENCY_P99, palette::LATENCY_P999] {
            let stroke = format!("stroke=\"{}\"", colour.css().to_uppercase());
            let series = polylines(&document)
                .into_iter()
                .filter(|(attributes, points)| attributes.contains(&stroke) && *points == 4);
            assert_eq!(series.count(), 1, "one line of four points in {stroke}");
        }
        // The legend with the values at the cursor, the fault, the axis titles and labels.
        for text in
            ["p50 400 ms", "p99 900 ms", "p99.9", "fault: api slowdown ×4", "time (s)", "latency (log)", "\n1 s\n"]
        {
            assert!(document.contains(text), "{text:?} missing from the SVG");
        }
        // Text in the canvas' font family and size (12 px legend, not plotters' 12 / 1.24).
        assert!(document.contains("font-family=\"sans-serif\" font-size=\"12\""), "legend font");
    }

    #[test]
    fn every_time_chart_draws() {
        for chart in [Chart::Traffic, Chart::Latency, Chart::Queue, Chart::Policies] {
            let document = svg(chart, 400.0, 240.0).unwrap_or_else(|error| panic!("{chart:?}: {error}"));
            assert!(document.starts_with("<svg") && document.contains("</svg>"), "{chart:?}");
            assert!(document.contains("time (s)"), "{chart:?} has its time axis");
        }
        let traffic = svg(Chart::Traffic, 400.0, 240.0).unwrap_or_default();
        assert!(traffic.contains("goodput") && traffic.contains("timeouts"), "traffic legend");
        assert!(svg(Chart::Queue, 400.0, 240.0).unwrap_or_default().contains("api"), "the service's queue");
    }

    #[test]
    fn sizes_out_of_bounds_are_refused() {
        for (width_css, height_css, field) in [
            (199.0, 300.0, "width_css"),
            (4001.0, 300.0, "width_css"),
            (f64::NAN, 300.0, "width_css"),
            (f64::INFINITY, 300.0, "width_css"),
            (640.0, 0.0, "height_css"),
            (640.0, -300.0, "height_css"),
            (640.0, 1e9, "height_css"),
        ] {
            match svg(Chart::Latency, width_css, height_css) {
                Err(SvgError::Size { field: refused, .. }) => assert_eq!(refused, field, "{width_css} × {height_css}"),
                other => panic!("{width_css} × {height_css}: expected a size error, got {other:?}"),
            }
        }
        assert!(svg(Chart::Latency, SIDE_CSS_MIN, SIDE_CSS_MAX).is_ok(), "the bounds themselves are allowed");
        let message = svg(Chart::Latency, 10.0, 300.0).err().map(|error| error.to_string()).unwrap_or_default();
        assert_eq!(message, "width_css: expected a number of CSS pixels from 200 to 4000, got 10");
    }

    #[test]
    fn text_widths_follow_the_letters() {
        assert_eq!(text_width(""), 0.0);
        assert!((text_width("p99") - (0.635 + 0.636 * 2.0)).abs() < 1e-9);
        assert!(text_width("iii") < text_width("mmm"), "proportional, not a fixed width per character");
        assert_eq!(text_width("µ"), f64::from(OTHER_WIDTH_PER_MILLE) / 1000.0);
    }
}

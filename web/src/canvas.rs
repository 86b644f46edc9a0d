//! Canvases: sizing for high-DPI screens, and the plotters backend the charts draw with.
//!
//! A canvas is laid out by CSS; its backing store is sized here to CSS size times
//! devicePixelRatio, so lines and text are crisp on every screen. Drawing code then works in
//! device pixels (plotters) or in CSS pixels through a scale transform (the event graph).

use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Largest backing-store side we allocate, in device pixels (browsers refuse much larger
/// canvases, and a runaway CSS size must not allocate gigabytes).
const CANVAS_SIDE_PX_MAX: f64 = 8192.0;

/// A canvas ready to draw on.
pub struct Surface {
    pub canvas: HtmlCanvasElement,
    pub context: CanvasRenderingContext2d,
    pub width_css: f64,
    pub height_css: f64,
    /// Device pixels per CSS pixel.
    pub scale: f64,
}

impl Surface {
    /// Takes a value from JS that should be a `<canvas>`, sizes its backing store for the
    /// screen, and returns `None` when it is not laid out (hidden, zero size): nothing to draw.
    pub fn prepare(canvas: &JsValue) -> Result<Option<Surface>, String> {
        let canvas: HtmlCanvasElement =
            canvas.clone().dyn_into().map_err(|_| "expected a <canvas> element".to_string())?;
        let width_css = f64::from(canvas.client_width());
        let height_css = f64::from(canvas.client_height());
        if width_css <= 0.0 || height_css <= 0.0 {
            return Ok(None);
        }
        let scale = device_pixel_ratio();
        let width_px = (width_css * scale).round().min(CANVAS_SIDE_PX_MAX) as u32;
        let height_px = (height_css * scale).round().min(CANVAS_SIDE_PX_MAX) as u32;
        // Assigning the size clears the canvas and reallocates it: only when it changed.
        if canvas.width() != width_px {
            canvas.set_width(width_px);
        }
        if canvas.height() != height_px {
            canvas.set_height(height_px);
        }
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .map_err(|_| "the canvas refused a 2D context".to_string())?
            .ok_or_else(|| "the canvas has no 2D context (is it used for WebGL?)".to_string())?
            .dyn_into()
            .map_err(|_| "the canvas context is not a 2D context".to_string())?;
        Ok(Some(Surface { canvas, context, width_css, height_css, scale }))
    }

    /// A plotters backend for this canvas, drawing in device pixels.
    pub fn backend(&self) -> Result<Backend, String> {
        let inner = CanvasBackend::with_canvas_object(self.canvas.clone())
            .ok_or_else(|| "plotters could not use the canvas".to_string())?;
        Ok(Backend { inner, context: self.context.clone() })
    }
}

fn device_pixel_ratio() -> f64 {
    let ratio = web_sys::window().map_or(1.0, |window| window.device_pixel_ratio());
    if ratio.is_finite() {
        ratio.clamp(1.0, 4.0)
    } else {
        1.0
    }
}

/// plotters-canvas with one change: text is measured with the canvas' own `measureText`.
/// plotters' default measures text by adding a styled `<span>` to the page for every label,
/// which is slow (a layout per label) and is refused by the page's Content-Security-Policy
/// (`style-src 'self'` forbids style attributes).
pub struct Backend {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
}

type Error = <CanvasBackend as DrawingBackend>::ErrorType;

/// The CSS font string plotters-canvas uses when it draws text; measuring with another font
/// would misplace labels.
fn css_font<S: BackendTextStyle>(style: &S) -> String {
    format!("{} {}px {}", style.style().as_str(), style.size(), style.family().as_str())
}

impl DrawingBackend for Backend {
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
        // Round joins: thick polylines of noisy series otherwise grow miter spikes.
        self.context.set_line_join("round");
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
        self.inner.draw_text(text, style, position)
    }
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Error>> {
        self.context.set_font(&css_font(style));
        let width = self.context.measure_text(text).map_or(0.0, |metrics| metrics.width());
        // Canvas text metrics have no simple line height; the font size is what plotters expects.
        Ok((width.ceil().max(0.0) as u32, style.size().ceil().max(0.0) as u32))
    }
}

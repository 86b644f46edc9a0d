//! The event graph: nodes and call edges drawn at the time cursor, on a 2D canvas.
//!
//! ```text
//!    t = 150 s
//!   +-----------+   2.4k/s attempts    +--------------------+
//!   | clients   | ===================> | api                |  (outline: health at t)
//!   | offered.. |   268/s goodput      | [queue ####      ] |
//!   +-----------+                      +--------------------+
//! ```
//!
//! Layout is in CSS pixels; the context is scaled by devicePixelRatio so the drawing is crisp.
//! The layout is kept by the `Figures` handle so a click can be mapped back to a node.

use crate::canvas::Surface;
use crate::format::{format, Unit};
use crate::palette::{self, Colour};
use crate::view::{metric_at, metric_max, RunView};
use web_sys::CanvasRenderingContext2d;

/// A node's box, in CSS pixels from the canvas' top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    pub id: String,
    pub kind: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl NodeBox {
    fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.x + self.width && y >= self.y && y <= self.y + self.height
    }
    fn centre_y(&self) -> f64 {
        self.y + self.height / 2.0
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub nodes: Vec<NodeBox>,
}

impl Layout {
    /// The id of the node under a point (CSS pixels), if any.
    pub fn node_at(&self, x: f64, y: f64) -> Option<&str> {
        self.nodes.iter().find(|node| node.contains(x, y)).map(|node| node.id.as_str())
    }
    /// The smallest vertical distance between the centres of two nodes in one column
    /// (infinite when no column has two nodes).
    fn row_spacing_min(&self) -> f64 {
        let mut spacing = f64::INFINITY;
        for (index, a) in self.nodes.iter().enumerate() {
            for b in &self.nodes[index + 1..] {
                if (a.x - b.x).abs() < 1.0 {
                    spacing = spacing.min((a.centre_y() - b.centre_y()).abs());
                }
            }
        }
        spacing
    }
    fn find(&self, id: &str) -> Option<&NodeBox> {
        self.nodes.iter().find(|node| node.id == id)
    }
}

/// Room above the nodes for the time label, and below for the health legend.
const TOP_CSS: f64 = 34.0;
const BOTTOM_CSS: f64 = 26.0;

/// Places nodes in columns by call depth (clients first, then what they call), each column's
/// nodes spread evenly down the canvas.
pub fn layout(nodes: &[(String, String)], edges: &[(String, String)], width_css: f64, height_css: f64) -> Layout {
    let count = nodes.len();
    if count == 0 {
        return Layout::default();
    }
    let index_of = |id: &str| nodes.iter().position(|(node_id, _)| node_id == id);
    let mut depth: Vec<usize> = nodes.iter().map(|(_, kind)| if kind == "client" { 0 } else { 1 }).collect();
    // Longest path from a client; bounded by the node count so a cycle cannot loop forever.
    for _ in 0..count {
        let mut changed = false;
        for (from, to) in edges {
            if let (Some(from), Some(to)) = (index_of(from), index_of(to)) {
                let wanted = (depth[from] + 1).min(count);
                if depth[to] < wanted {
                    depth[to] = wanted;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Drop empty columns (a scenario with no clients starts at depth 1).
    let mut used: Vec<usize> = depth.clone();
    used.sort_unstable();
    used.dedup();
    let column_of = |node: usize| used.iter().position(|&d| d == depth[node]).unwrap_or(0);
    let columns = used.len();

    let column_width = width_css / columns as f64;
    let box_width = (column_width * 0.52).clamp(88.0, 200.0).min(column_width - 8.0).max(40.0);
    let usable_height = (height_css - TOP_CSS - BOTTOM_CSS).max(40.0);
    let mut boxes = Vec::with_capacity(count);
    for column in 0..columns {
        let members: Vec<usize> = (0..count).filter(|&node| column_of(node) == column).collect();
        let row_height = usable_height / members.len().max(1) as f64;
        let box_height = (row_height * 0.8).clamp(24.0, 96.0).min(row_height - 4.0).max(16.0);
        for (row, &node) in members.iter().enumerate() {
            let centre_x = column_width * (column as f64 + 0.5);
            let centre_y = TOP_CSS + row_height * (row as f64 + 0.5);
            boxes.push((
                node,
                NodeBox {
                    id: nodes[node].0.clone(),
                    kind: nodes[node].1.clone(),
                    x: centre_x - box_width / 2.0,
                    y: centre_y - box_height / 2.0,
                    width: box_width,
                    height: box_height,
                },
            ));
        }
    }
    boxes.sort_by_key(|(node, _)| *node);
    Layout { nodes: boxes.into_iter().map(|(_, node_box)| node_box).collect() }
}

/// How a node is doing at the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// No traffic to judge by.
    Idle,
    Healthy,
    Degraded,
    Failing,
}

impl Health {
    /// From the share of offered requests that succeed (goodput / offered) and the share of
    /// attempts that fail with an error. The thresholds are for the eye, not a verdict.
    pub fn judge(success_share: f64, error_share: f64) -> Health {
        if !success_share.is_finite() {
            return Health::Idle;
        }
        let error_share = if error_share.is_finite() { error_share } else { 0.0 };
        if success_share < 0.5 || error_share >= 0.5 {
            Health::Failing
        } else if success_share < 0.9 || error_share >= 0.1 {
            Health::Degraded
        } else {
            Health::Healthy
        }
    }

    pub fn colour(self) -> Colour {
        match self {
            Health::Idle => palette::IDLE,
            Health::Healthy => palette::HEALTHY,
            Health::Degraded => palette::DEGRADED,
            Health::Failing => palette::FAILING,
        }
    }
}

/// `numerator / denominator`, NaN when there is nothing to divide.
fn share(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 && numerator.is_finite() {
        (numerator / denominator).min(1.0)
    } else {
        f64::NAN
    }
}

/// Queue depth as a bar fill in [0, 1], on a log scale: 1 attempt is visible, a million fills it.
pub fn queue_fill(depth: f64) -> f64 {
    if depth.is_finite() && depth > 0.0 {
        ((1.0 + depth).log10() / 6.0).clamp(0.02, 1.0)
    } else {
        0.0
    }
}

const FONT: &str = "system-ui, -apple-system, 'Segoe UI', sans-serif";

struct Painter<'a> {
    context: &'a CanvasRenderingContext2d,
}

impl Painter<'_> {
    fn font(&self, weight: u32, size_css: f64) {
        self.context.set_font(&format!("{weight} {size_css}px {FONT}"));
    }
    fn text(&self, text: &str, x: f64, y: f64, colour: Colour, align: &str) -> Result<(), String> {
        self.context.set_fill_style_str(&colour.css());
        self.context.set_text_align(align);
        self.context.set_text_baseline("middle");
        self.context.fill_text(text, x, y).map_err(|_| "the canvas refused to draw text".to_string())
    }
    fn text_width(&self, text: &str) -> f64 {
        self.context.measure_text(text).map_or(0.0, |metrics| metrics.width())
    }
    /// The text, cut with an ellipsis to fit `width` (in the current font).
    fn fit(&self, text: &str, width: f64) -> String {
        if self.text_width(text) <= width {
            return text.to_string();
        }
        let mut characters: Vec<char> = text.chars().collect();
        while !characters.is_empty() {
            characters.pop();
            let candidate: String = characters.iter().collect::<String>() + "…";
            if self.text_width(&candidate) <= width {
                return candidate;
            }
        }
        String::new()
    }
    fn rounded_rect(&self, x: f64, y: f64, width: f64, height: f64, radius: f64) -> Result<(), String> {
        let radius = radius.min(width / 2.0).min(height / 2.0).max(0.0);
        let context = self.context;
        let failed = |_| "the canvas refused a path".to_string();
        context.begin_path();
        context.move_to(x + radius, y);
        context.arc_to(x + width, y, x + width, y + height, radius).map_err(failed)?;
        context.arc_to(x + width, y + height, x, y + height, radius).map_err(failed)?;
        context.arc_to(x, y + height, x, y, radius).map_err(failed)?;
        context.arc_to(x, y, x + width, y, radius).map_err(failed)?;
        context.close_path();
        Ok(())
    }
}

/// Draws the graph at `cursor_s`, outlining the `selected` nodes.
pub fn draw(
    surface: &Surface,
    view: &RunView,
    layout: &Layout,
    cursor_s: f64,
    selected: &[String],
) -> Result<(), String> {
    let context = &surface.context;
    context
        .set_transform(surface.scale, 0.0, 0.0, surface.scale, 0.0, 0.0)
        .map_err(|_| "the canvas refused a transform".to_string())?;
    context.set_fill_style_str(&palette::BACKGROUND.css());
    context.fill_rect(0.0, 0.0, surface.width_css, surface.height_css);
    let painter = Painter { context };
    let bucket = view.bucket_at(cursor_s);
    let cursor = if cursor_s.is_finite() { cursor_s.clamp(0.0, view.axis_end_s()) } else { 0.0 };

    painter.font(600, 13.0);
    let time_label = match bucket {
        Some(_) => format!("t = {}", format(cursor, Unit::Seconds)),
        None => "no data yet".to_string(),
    };
    painter.text(&time_label, 10.0, 16.0, palette::TEXT, "left")?;
    draw_health_legend(&painter, surface.height_css - 12.0)?;

    let series = &view.report.series;
    // Edge widths are relative to the busiest edge over the whole run, so they are comparable
    // across the cursor's positions.
    let attempts_max =
        series.edges.iter().filter_map(|edge| metric_max(&edge.metrics, "attempts_per_s")).fold(0.0, f64::max);
    // Rows closer than this leave no room for labels above and below every edge.
    let tight = layout.row_spacing_min() < 64.0;
    for edge in &series.edges {
        let (Some(from), Some(to)) = (layout.find(&edge.from), layout.find(&edge.to)) else { continue };
        let at = |name: &str| bucket.map_or(f64::NAN, |bucket| metric_at(&edge.metrics, name, bucket));
        let rates = EdgeRates {
            attempts_per_s: at("attempts_per_s"),
            goodput_per_s: at("goodput_per_s"),
            timeouts_per_s: at("timeouts_per_s"),
        };
        draw_edge(&painter, from, to, &rates, attempts_max, tight)?;
    }

    for (node_box, node) in layout.nodes.iter().zip(&series.nodes) {
        let at = |name: &str| bucket.map_or(f64::NAN, |bucket| metric_at(&node.metrics, name, bucket));
        let (health, detail) = if node.kind == "client" {
            let offered = at("offered_per_s");
            let health =
                Health::judge(share(at("goodput_per_s"), offered), share(at("errors_per_s"), at("attempts_per_s")));
            (health, format!("offered {}", format(offered, Unit::PerSecond)))
        } else {
            // A service is as healthy as the requests sent to it.
            let (mut offered, mut goodput) = (0.0, 0.0);
            for edge in series.edges.iter().filter(|edge| edge.to == node.id) {
                if let Some(bucket) = bucket {
                    offered += metric_at(&edge.metrics, "offered_per_s", bucket);
                    goodput += metric_at(&edge.metrics, "goodput_per_s", bucket);
                }
            }
            let health = Health::judge(share(goodput, offered), share(at("errors_per_s"), at("arrivals_per_s")));
            let workers = at("workers_available");
            let detail =
                format!("{} workers · busy {}", format(workers, Unit::Count), format(at("utilization"), Unit::Share));
            (health, detail)
        };
        let is_selected = selected.contains(&node.id);
        let queue_depth = (node.kind == "service").then(|| at("queue_depth"));
        draw_node(&painter, node_box, health, &detail, queue_depth, is_selected)?;
        let active: Vec<&str> =
            view.faults_at(cursor).filter(|fault| fault.node == node.id).map(|fault| fault.label.as_str()).collect();
        if !active.is_empty() {
            draw_fault_badge(&painter, node_box, &active.join(", "))?;
        }
    }
    Ok(())
}

/// An edge's rates at the cursor.
struct EdgeRates {
    attempts_per_s: f64,
    goodput_per_s: f64,
    timeouts_per_s: f64,
}

/// Draws an edge as an arrow whose width follows its attempt rate, labelled with attempts
/// above and goodput (and timeouts) below; with `tight` rows, one line above: attempts and
/// goodput side by side.
fn draw_edge(
    painter: &Painter,
    from: &NodeBox,
    to: &NodeBox,
    rates: &EdgeRates,
    attempts_max: f64,
    tight: bool,
) -> Result<(), String> {
    let EdgeRates { attempts_per_s, goodput_per_s, timeouts_per_s } = *rates;
    let context = painter.context;
    let (start_x, start_y) = (from.x + from.width, from.centre_y());
    let (end_x, end_y) = (to.x, to.centre_y());
    let relative = if attempts_max > 0.0 && attempts_per_s.is_finite() {
        (attempts_per_s / attempts_max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let width = 1.5 + 7.0 * relative.sqrt();
    let arrow = 8.0 + width;
    let angle = (end_y - start_y).atan2(end_x - start_x);
    let (tip_x, tip_y) = (end_x - 2.0 * angle.cos(), end_y - 2.0 * angle.sin());
    let (base_x, base_y) = (tip_x - arrow * angle.cos(), tip_y - arrow * angle.sin());

    context.set_stroke_style_str(&palette::ATTEMPTS.css_alpha(0.85));
    context.set_line_width(width);
    context.set_line_cap("butt");
    context.begin_path();
    context.move_to(start_x + 2.0, start_y);
    context.line_to(base_x, base_y);
    context.stroke();
    context.set_fill_style_str(&palette::ATTEMPTS.css());
    context.begin_path();
    context.move_to(tip_x, tip_y);
    let spread = arrow * 0.55;
    context.line_to(base_x + spread * angle.sin(), base_y - spread * angle.cos());
    context.line_to(base_x - spread * angle.sin(), base_y + spread * angle.cos());
    context.close_path();
    context.fill();

    // Labels above and below the middle of the edge; the words go when space is short.
    let middle_x = (start_x + end_x) / 2.0;
    let middle_y = (start_y + end_y) / 2.0;
    // Keep clear of the node outlines on either side.
    let room = (end_x - start_x - 20.0).max(0.0);
    painter.font(600, 12.0);
    let label = |value: f64, word: &str| {
        let long = format!("{} {word}", format(value, Unit::PerSecond));
        if painter.text_width(&long) <= room {
            long
        } else {
            format(value, Unit::PerSecond)
        }
    };
    if tight {
        let y = middle_y - width / 2.0 - 8.0;
        let gap = 6.0;
        let half_room = (room / 2.0 - gap).max(0.0);
        let fit = |value: f64, word: &str| {
            let long = format!("{} {word}", format(value, Unit::PerSecond));
            if painter.text_width(&long) <= half_room {
                long
            } else {
                format(value, Unit::PerSecond)
            }
        };
        painter.text(&fit(attempts_per_s, "attempts"), middle_x - gap, y, palette::ATTEMPTS, "right")?;
        return painter.text(&fit(goodput_per_s, "goodput"), middle_x + gap, y, palette::GOODPUT, "left");
    }
    let above = label(attempts_per_s, "attempts");
    painter.text(&above, middle_x, middle_y - width / 2.0 - 10.0, palette::ATTEMPTS, "center")?;
    let below = label(goodput_per_s, "goodput");
    painter.text(&below, middle_x, middle_y + width / 2.0 + 10.0, palette::GOODPUT, "center")?;
    if timeouts_per_s > 0.0 {
        let timeouts = label(timeouts_per_s, "timeouts");
        painter.text(&timeouts, middle_x, middle_y + width / 2.0 + 25.0, palette::TIMEOUTS, "center")?;
    }
    Ok(())
}

fn draw_node(
    painter: &Painter,
    node: &NodeBox,
    health: Health,
    detail: &str,
    queue_depth: Option<f64>,
    selected: bool,
) -> Result<(), String> {
    let context = painter.context;
    if selected {
        painter.rounded_rect(node.x - 5.0, node.y - 5.0, node.width + 10.0, node.height + 10.0, 12.0)?;
        context.set_stroke_style_str(&palette::TEXT.css_alpha(0.55));
        context.set_line_width(1.5);
        let dashes = js_sys::Array::of2(&5.0.into(), &4.0.into());
        context.set_line_dash(&dashes).map_err(|_| "the canvas refused a dash pattern".to_string())?;
        context.stroke();
        context.set_line_dash(&js_sys::Array::new()).map_err(|_| "the canvas refused a dash pattern".to_string())?;
    }
    painter.rounded_rect(node.x, node.y, node.width, node.height, 9.0)?;
    context.set_fill_style_str(&health.colour().css_alpha(0.08));
    context.fill();
    context.set_stroke_style_str(&health.colour().css());
    context.set_line_width(3.0);
    context.stroke();

    let padding = 9.0;
    let inner_width = node.width - 2.0 * padding;
    let plan = NodeContent::plan(node.height, queue_depth.is_some());
    painter.font(700, 14.0);
    let title = painter.fit(&node.id, inner_width);
    painter.text(&title, node.x + padding, node.y + 15.0, palette::TEXT, "left")?;
    if plan.detail {
        painter.font(400, 11.5);
        let line = painter.fit(detail, inner_width);
        painter.text(&line, node.x + padding, node.y + 32.0, palette::MUTED_TEXT, "left")?;
    }
    if let Some(depth) = queue_depth {
        let bar_y = node.y + node.height - padding - QUEUE_BAR_CSS;
        if plan.queue_label {
            painter.font(600, 11.5);
            let label = painter.fit(&format!("queue {}", format(depth, Unit::Count)), inner_width);
            painter.text(&label, node.x + padding, bar_y - 9.0, palette::QUEUE, "left")?;
        }
        context.set_fill_style_str(&palette::GRID.css());
        context.fill_rect(node.x + padding, bar_y, inner_width, QUEUE_BAR_CSS);
        context.set_fill_style_str(&palette::QUEUE.css());
        context.fill_rect(node.x + padding, bar_y, inner_width * queue_fill(depth), QUEUE_BAR_CSS);
    }
    Ok(())
}

const QUEUE_BAR_CSS: f64 = 9.0;

/// Which lines fit in a node box of a given height (title always; then the queue bar, the
/// queue label, and the detail line, in that order of importance).
#[derive(Debug, PartialEq, Eq)]
struct NodeContent {
    detail: bool,
    queue_label: bool,
}

impl NodeContent {
    fn plan(height_css: f64, has_queue: bool) -> NodeContent {
        if !has_queue {
            return NodeContent { detail: height_css >= 40.0, queue_label: false };
        }
        // Title 24 px, bar 9 px plus 9 px padding below; each text line needs about 17 px.
        NodeContent { queue_label: height_css >= 60.0, detail: height_css >= 78.0 }
    }
}

fn draw_fault_badge(painter: &Painter, node: &NodeBox, label: &str) -> Result<(), String> {
    painter.font(600, 11.0);
    let text = format!("fault: {label}");
    let text = painter.fit(&text, node.width + 40.0);
    let width = painter.text_width(&text) + 14.0;
    let height = 18.0;
    let x = node.x + node.width - width + 10.0;
    let y = node.y - height / 2.0 - 2.0;
    painter.rounded_rect(x, y, width, height, height / 2.0)?;
    painter.context.set_fill_style_str(&palette::FAULT.css());
    painter.context.fill();
    painter.text(&text, x + width / 2.0, y + height / 2.0 + 0.5, palette::BACKGROUND, "center")
}

fn draw_health_legend(painter: &Painter, y: f64) -> Result<(), String> {
    painter.font(400, 11.0);
    let mut x = 10.0;
    let items = [
        ("healthy", palette::HEALTHY),
        ("degraded", palette::DEGRADED),
        ("failing", palette::FAILING),
        ("fault active", palette::FAULT),
    ];
    for (label, colour) in items {
        painter.context.set_fill_style_str(&colour.css());
        painter.context.begin_path();
        painter
            .context
            .arc(x + 5.0, y, 4.5, 0.0, std::f64::consts::TAU)
            .map_err(|_| "the canvas refused an arc".to_string())?;
        painter.context.fill();
        painter.text(label, x + 13.0, y, palette::MUTED_TEXT, "left")?;
        x += 13.0 + painter.text_width(label) + 14.0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(id, kind)| (id.to_string(), kind.to_string())).collect()
    }

    #[test]
    fn clients_left_services_right() {
        let layout = layout(
            &nodes(&[("clients", "client"), ("api", "service")]),
            &[("clients".into(), "api".into())],
            800.0,
            260.0,
        );
        let (client, service) = (&layout.nodes[0], &layout.nodes[1]);
        assert!(client.x + client.width < service.x, "{layout:?}");
        assert_eq!(layout.node_at(client.x + 1.0, client.y + 1.0), Some("clients"));
        assert_eq!(layout.node_at(service.x + 1.0, service.y + 1.0), Some("api"));
        assert_eq!(layout.node_at(1.0, 1.0), None);
    }

    #[test]
    fn deeper_services_get_their_own_column_and_cycles_end() {
        let layout = layout(
            &nodes(&[("c", "client"), ("a", "service"), ("b", "service")]),
            &[("c".into(), "a".into()), ("a".into(), "b".into()), ("b".into(), "a".into())],
            900.0,
            300.0,
        );
        assert_eq!(layout.nodes.len(), 3);
        assert!(layout.nodes.iter().all(|node| node.width > 0.0 && node.height > 0.0));
    }

    #[test]
    fn boxes_stay_inside_a_narrow_canvas() {
        let layout = layout(
            &nodes(&[("clients", "client"), ("api", "service")]),
            &[("clients".into(), "api".into())],
            360.0,
            220.0,
        );
        for node in &layout.nodes {
            assert!(node.x >= 0.0 && node.x + node.width <= 360.0, "{node:?}");
            assert!(node.y >= 0.0 && node.y + node.height <= 220.0, "{node:?}");
        }
    }

    #[test]
    fn health_thresholds() {
        assert_eq!(Health::judge(f64::NAN, 0.0), Health::Idle);
        assert_eq!(Health::judge(0.99, 0.0), Health::Healthy);
        assert_eq!(Health::judge(0.7, 0.0), Health::Degraded);
        assert_eq!(Health::judge(0.99, 0.2), Health::Degraded);
        assert_eq!(Health::judge(0.1, 0.0), Health::Failing);
    }

    #[test]
    fn node_lines_never_overlap() {
        assert_eq!(NodeContent::plan(50.0, true), NodeContent { detail: false, queue_label: false });
        assert_eq!(NodeContent::plan(66.0, true), NodeContent { detail: false, queue_label: true });
        assert_eq!(NodeContent::plan(90.0, true), NodeContent { detail: true, queue_label: true });
        assert_eq!(NodeContent::plan(50.0, false), NodeContent { detail: true, queue_label: false });
    }

    #[test]
    fn queue_bar_is_logarithmic() {
        assert_eq!(queue_fill(0.0), 0.0);
        assert!(queue_fill(1.0) > 0.0);
        assert!(queue_fill(445_000.0) > 0.9 && queue_fill(445_000.0) < 1.0);
        assert_eq!(queue_fill(f64::NAN), 0.0);
    }
}

//! The event graph: nodes and call edges drawn at the time cursor, on a 2D canvas.
//!
//! ```text
//!    t = 150 s                                         B budget  CB breaker  H hedge
//!   +-----------+  B CB  2.4k/s attempts   /‾‾‾‾‾‾\  ---- 34% ---> +------------------+
//!   | clients   | ======================> <  lb    > ---- 33% ---> | api-1 [queue ##] |
//!   | offered.. |        268/s goodput     \______/  ---- 33% ---> | api-2 [queue #  ] |
//!   +-----------+                                                  +------------------+
//!   clients        ->         load balancers   ->   services   ->   services they call
//! ```
//!
//! Nodes sit in columns by call depth (a load balancer's pool one column to its right), each
//! column ordered so lines cross little. Edges leave and enter their nodes at spread-out
//! ports, so a fan-out stays readable; a call edge carries badges for its policies (the
//! breaker's filled while open at the cursor) and its rates, a load balancer's link to a pool
//! member the share of the traffic it routes there.
//!
//! Where things go is `layout`'s business (pure, tested natively); this module paints. Layout
//! is in CSS pixels; the context is scaled by devicePixelRatio so the drawing is crisp. The
//! layout is kept by the `Figures` handle so a click can be mapped back to a node.

use crate::canvas::Surface;
use crate::format::{format, Unit};
use crate::palette::{self, Colour};
use crate::topology::EdgePolicies;
use crate::view::{metric_at, metric_max, RunView};
use web_sys::CanvasRenderingContext2d;

mod layout;
pub use layout::{edge_at, layout, links_of, nodes_of, rows_max, EdgeLine, Layout};
use layout::{port_offsets, NodeBox, ROOMY_PITCH_CSS};

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

/// Where each wire leaves its source and enters its target, `(start_y, end_y)`: ports on each
/// side ordered by the other end's height, so wires do not cross at a node. A balancer's
/// links all leave from its tip.
fn port_ys(layout: &Layout, wires: &[Wire]) -> Vec<(f64, f64)> {
    let mut ports: Vec<(f64, f64)> =
        wires.iter().map(|wire| (layout.nodes[wire.from].centre_y(), layout.nodes[wire.to].centre_y())).collect();
    for (position, node) in layout.nodes.iter().enumerate() {
        let mut outgoing: Vec<usize> = (0..wires.len()).filter(|&wire| wires[wire].from == position).collect();
        outgoing.sort_by(|&a, &b| {
            let (a_y, b_y) = (layout.nodes[wires[a].to].centre_y(), layout.nodes[wires[b].to].centre_y());
            a_y.total_cmp(&b_y).then(a.cmp(&b))
        });
        if !node.is_balancer() {
            for (wire, offset) in outgoing.iter().zip(port_offsets(outgoing.len(), node.height)) {
                ports[*wire].0 = node.y + offset;
            }
        }
        let mut incoming: Vec<usize> = (0..wires.len()).filter(|&wire| wires[wire].to == position).collect();
        incoming.sort_by(|&a, &b| {
            let (a_y, b_y) = (ports[a].0, ports[b].0);
            a_y.total_cmp(&b_y).then(a.cmp(&b))
        });
        for (wire, offset) in incoming.iter().zip(port_offsets(incoming.len(), node.height)) {
            ports[*wire].1 = node.y + offset;
        }
    }
    ports
}

/// Every line of the graph: call edges, pool links, consumer links (in that order).
fn wires_of(view: &RunView, layout: &Layout) -> Vec<Wire> {
    let mut wires = Vec::new();
    for (index, edge) in view.report.series.edges.iter().enumerate() {
        if let (Some(from), Some(to)) = (layout.position(&edge.from), layout.position(&edge.to)) {
            wires.push(Wire { from, to, kind: WireKind::Call(index) });
        }
    }
    for balancer in &view.topology.balancers {
        let Some(from) = layout.position(&balancer.id) else { continue };
        for member in &balancer.pool {
            if let Some(to) = layout.position(member) {
                wires.push(Wire { from, to, kind: WireKind::Pool });
            }
        }
    }
    for (queue, consumer) in &view.topology.consumers {
        if let (Some(from), Some(to)) = (layout.position(queue), layout.position(consumer)) {
            wires.push(Wire { from, to, kind: WireKind::Consume });
        }
    }
    wires
}

/// The call edges as `draw` draws them (same ports), with their scenario paths, so a click
/// can be mapped back to the call it shows. Edges whose path is unknown are left out.
pub fn call_lines(view: &RunView, layout: &Layout) -> Vec<EdgeLine> {
    let wires = wires_of(view, layout);
    let ports = port_ys(layout, &wires);
    wires
        .iter()
        .zip(&ports)
        .filter_map(|(wire, &(start_y, end_y))| {
            let WireKind::Call(index) = wire.kind else { return None };
            let path = &view.edge_info(index)?.path;
            if path.is_empty() {
                return None;
            }
            let (from, to) = (&layout.nodes[wire.from], &layout.nodes[wire.to]);
            Some(EdgeLine { path: path.clone(), start: (from.x + from.width, start_y), end: (to.x, end_y) })
        })
        .collect()
}

/// A line to draw between two node boxes (indices into the layout).
struct Wire {
    from: usize,
    to: usize,
    kind: WireKind,
}

enum WireKind {
    /// A call edge: its index in the report's edge series.
    Call(usize),
    /// A load balancer's link to one of its pool members.
    Pool,
    /// A queue's link to a service polling it.
    Consume,
}

/// A small label on a call edge naming one of its policies.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Badge {
    text: &'static str,
    colour: Colour,
    /// Drawn filled (the policy is acting, or always, for policies without a state), or as
    /// an outline (a closed breaker).
    filled: bool,
}

/// The policies an edge may carry a badge for: the badge's text, what it means (for the
/// legend) and its colour (the colour of the policy's series on the charts).
const BADGE_KINDS: [(&str, &str, Colour); 6] = [
    ("B", "budget", palette::LEVEL),
    ("T", "throttling", palette::THROTTLED),
    ("CB", "breaker (filled: open)", palette::SHORT_CIRCUITED),
    ("H", "hedging", palette::HEDGES),
    ("F", "fallback", palette::FALLBACK),
    ("D", "deadline", palette::EXPIRED),
];

/// The badges of an edge's policies, in the order of [`BADGE_KINDS`]. `breaker_open`: the
/// breaker's state at the cursor (its badge is filled while open, an outline while closed).
fn badges(policies: &EdgePolicies, breaker_open: bool) -> Vec<Badge> {
    let present = [
        policies.budget.is_some(),
        policies.throttle,
        policies.breaker,
        policies.hedge,
        policies.fallback.is_some(),
        policies.deadline,
    ];
    BADGE_KINDS
        .iter()
        .zip(present)
        .filter(|(_, present)| *present)
        .map(|(&(text, _, colour), _)| Badge { text, colour, filled: text != "CB" || breaker_open })
        .collect()
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
    /// A hexagon pointed left and right (a load balancer), with slightly rounded corners.
    fn hexagon(&self, x: f64, y: f64, width: f64, height: f64) -> Result<(), String> {
        let inset = (height / 2.0).min(14.0).min(width / 3.0);
        let corners = [
            (x + inset, y),
            (x + width - inset, y),
            (x + width, y + height / 2.0),
            (x + width - inset, y + height),
            (x + inset, y + height),
            (x, y + height / 2.0),
        ];
        let context = self.context;
        let failed = |_| "the canvas refused a path".to_string();
        context.begin_path();
        let middle = |a: (f64, f64), b: (f64, f64)| ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let start = middle(corners[5], corners[0]);
        context.move_to(start.0, start.1);
        for index in 0..6 {
            let corner = corners[index];
            let next = middle(corner, corners[(index + 1) % 6]);
            context.arc_to(corner.0, corner.1, next.0, next.1, 4.0).map_err(failed)?;
        }
        context.close_path();
        Ok(())
    }
    fn set_dash(&self, dash: &[f64]) -> Result<(), String> {
        let pattern = js_sys::Array::new();
        for length in dash {
            pattern.push(&(*length).into());
        }
        self.context.set_line_dash(&pattern).map_err(|_| "the canvas refused a dash pattern".to_string())
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
    let node_at = |id: &str, name: &str| {
        let node = series.nodes.iter().find(|node| node.id == id);
        match (node, bucket) {
            (Some(node), Some(bucket)) => metric_at(&node.metrics, name, bucket),
            _ => f64::NAN,
        }
    };

    let wires = wires_of(view, layout);
    let ports = port_ys(layout, &wires);

    // Edge widths are relative to the busiest edge over the whole run, so they are comparable
    // across the cursor's positions.
    let attempts_max =
        series.edges.iter().filter_map(|edge| metric_max(&edge.metrics, "attempts_per_s")).fold(0.0, f64::max);
    let mut legend_badges: Vec<&str> = Vec::new();
    // A pool member's share, drawn in its box when the link is too short to carry it.
    let mut share_tags: Vec<(usize, String)> = Vec::new();
    // Badges of edges too short to carry them, drawn in the caller's box after the nodes.
    let mut boxed_badges: Vec<(usize, Vec<Badge>)> = Vec::new();
    // Pool and consumer links first, under the call edges.
    for (wire, &(start_y, end_y)) in wires.iter().zip(&ports) {
        if matches!(wire.kind, WireKind::Consume) {
            let (from, to) = (&layout.nodes[wire.from], &layout.nodes[wire.to]);
            let polled = node_at(&to.id, "messages_per_s");
            let labelled = to.x - (from.x + from.width) >= POOL_LABEL_GAP_CSS;
            draw_consume_link(&painter, (from.x + from.width, start_y), (to.x, end_y), polled, attempts_max, labelled)?;
            continue;
        }
        if !matches!(wire.kind, WireKind::Pool) {
            continue;
        }
        let (from, to) = (&layout.nodes[wire.from], &layout.nodes[wire.to]);
        let routed = pool_routed_per_s(view, &from.id, bucket);
        let own = routed.iter().find(|(member, _)| *member == to.id).map_or(f64::NAN, |(_, rate)| *rate);
        let total: f64 = routed.iter().map(|(_, rate)| rate).filter(|rate| rate.is_finite()).sum();
        let link = PoolLink { routed_per_s: own, share: share(own, total) };
        let labelled = to.x - (from.x + from.width) >= POOL_LABEL_GAP_CSS;
        if !labelled && link.share.is_finite() {
            share_tags.push((wire.to, format(link.share, Unit::Share)));
        }
        draw_pool_link(&painter, (from.x + from.width, start_y), (to.x, end_y), &link, attempts_max, labelled)?;
    }
    for (wire, &(start_y, end_y)) in wires.iter().zip(&ports) {
        let WireKind::Call(index) = wire.kind else { continue };
        let edge = &series.edges[index];
        let (from, to) = (&layout.nodes[wire.from], &layout.nodes[wire.to]);
        let at = |name: &str| bucket.map_or(f64::NAN, |bucket| metric_at(&edge.metrics, name, bucket));
        let rates = EdgeRates {
            attempts_per_s: at("attempts_per_s"),
            goodput_per_s: at("goodput_per_s"),
            timeouts_per_s: at("timeouts_per_s"),
            short_circuited_per_s: at("short_circuited_per_s"),
            throttled_per_s: at("throttled_per_s"),
        };
        let info = view.edge_info(index);
        let edge_badges = info.map(|info| badges(&info.policies, at("breaker_open") >= 0.5)).unwrap_or_default();
        for badge in &edge_badges {
            if !legend_badges.contains(&badge.text) {
                legend_badges.push(badge.text);
            }
        }
        let style = EdgeStyle {
            tight: from.row_pitch.min(to.row_pitch) < ROOMY_PITCH_CSS,
            fallback: info.is_some_and(|info| info.fallback),
        };
        // Badges ride on the edge when they fit before its arrowhead with the rate label
        // beside them; on a short edge (a narrow screen) they go in the caller's box instead,
        // rather than over the callee or in place of the rates.
        painter.font(600, 12.0);
        let label_width = painter.text_width(&format(rates.attempts_per_s, Unit::PerSecond)) + 20.0;
        let needed = badges_width(&painter, &edge_badges) + BADGE_ARROW_ROOM_CSS + label_width;
        let on_edge = edge_badges.is_empty() || needed <= to.x - (from.x + from.width);
        let geometry = (from.x + from.width, start_y, to.x, end_y);
        draw_edge(&painter, geometry, &rates, attempts_max, if on_edge { &edge_badges } else { &[] }, style)?;
        if !on_edge && !edge_badges.is_empty() {
            boxed_badges.push((wire.from, edge_badges));
        }
    }

    for (position, (node_box, node)) in layout.nodes.iter().zip(&series.nodes).enumerate() {
        let at = |name: &str| node_at(&node.id, name);
        let tag = share_tags.iter().find(|(member, _)| *member == position).map(|(_, text)| text.clone());
        // The badges of its calls too short to carry them, each policy once (an open breaker
        // on any of them shows filled).
        let mut badges: Vec<Badge> = Vec::new();
        for badge in boxed_badges.iter().filter(|(from, _)| *from == position).flat_map(|(_, list)| list) {
            match badges.iter_mut().find(|known| known.text == badge.text) {
                Some(known) => known.filled |= badge.filled,
                None => badges.push(*badge),
            }
        }
        // Health from the calls into a node (what its callers see) when it has any; a pool
        // member, reached only through a balancer, from its own counts.
        let (mut offered, mut goodput, mut calls_in) = (0.0, 0.0, 0);
        for edge in series.edges.iter().filter(|edge| edge.to == node.id) {
            calls_in += 1;
            if let Some(bucket) = bucket {
                offered += metric_at(&edge.metrics, "offered_per_s", bucket);
                goodput += metric_at(&edge.metrics, "goodput_per_s", bucket);
            }
        }
        let content = match node.kind.as_str() {
            "client" => {
                let offered = at("offered_per_s");
                let health =
                    Health::judge(share(at("goodput_per_s"), offered), share(at("errors_per_s"), at("attempts_per_s")));
                NodeText {
                    health,
                    detail: format!("offered {}", format(offered, Unit::PerSecond)),
                    queue: None,
                    tag,
                    badges,
                }
            }
            "queue" => {
                // Healthy while what is received gets deleted; dead-lettered work counts as failed.
                let received = at("received_per_s");
                let health =
                    Health::judge(share(at("deleted_per_s"), received), share(at("dead_lettered_per_s"), received));
                let oldest = at("oldest_age_s");
                let detail = if oldest > 0.0 {
                    format!("queue · oldest {}", format(oldest, Unit::Seconds))
                } else {
                    format!("queue · {} in flight", format(at("in_flight"), Unit::Count))
                };
                NodeText { health, detail, queue: Some(at("depth")), tag, badges }
            }
            "load_balancer" => {
                let balancer = view.topology.balancer(&node.id);
                let ejected = at("ejected_hosts");
                let detail = if ejected > 0.0 {
                    format!("LB · {} ejected", format(ejected, Unit::Count))
                } else {
                    format!("LB · {}", balancer.map_or("", |balancer| balancer.policy.as_str()))
                };
                NodeText { health: Health::judge(share(goodput, offered), f64::NAN), detail, queue: None, tag, badges }
            }
            "function" => {
                let health = served_health(&at, calls_in, goodput, offered);
                let throttles = at("throttles_per_s");
                // What limits a function at the moment: throttles if any, else cold starts.
                let pressure = if throttles > 0.0 {
                    format!("{} throttled", format(throttles, Unit::PerSecond))
                } else {
                    format!("{} cold", format(at("cold_starts_per_s"), Unit::PerSecond))
                };
                let detail = format!("λ {} running · {pressure}", format(at("concurrency"), Unit::Count));
                NodeText { health, detail, queue: None, tag, badges }
            }
            "llm" => {
                let health = served_health(&at, calls_in, goodput, offered);
                let (limited, waiting) = (at("rate_limited_per_s"), at("queue_depth"));
                // One short line, what limits the endpoint now: its rate limits when it refuses,
                // else its slots when requests wait, else the time to first token. No queue bar:
                // in a crowded column it would push this line out.
                let detail = if limited > 0.0 {
                    format!("LLM · {} 429", format(limited, Unit::PerSecond))
                } else if waiting >= 0.5 {
                    format!("LLM · {} waiting", format(waiting, Unit::Count))
                } else {
                    format!("LLM · TTFT {}", format(at("ttft_p50_ms"), Unit::Milliseconds))
                };
                NodeText { health, detail, queue: None, tag, badges }
            }
            _ => {
                let health = served_health(&at, calls_in, goodput, offered);
                let detail = format!(
                    "{} workers · busy {}",
                    format(at("workers_available"), Unit::Count),
                    format(at("utilization"), Unit::Share)
                );
                NodeText { health, detail, queue: Some(at("queue_depth")), tag, badges }
            }
        };
        draw_node(&painter, node_box, &content, selected.contains(&node.id))?;
        let active: Vec<&str> =
            view.faults_at(cursor).filter(|fault| fault.node == node.id).map(|fault| fault.label.as_str()).collect();
        if !active.is_empty() {
            draw_fault_badge(&painter, node_box, &active.join(", "))?;
        }
    }
    painter.font(600, 13.0);
    let time_label_end = 10.0 + painter.text_width(&time_label) + 16.0;
    draw_badge_legend(&painter, &legend_badges, time_label_end, surface.width_css - 10.0)
}

/// A service's or function's health: from the calls into it (what its callers see) when it
/// has any, else from its own counts (a pool member, a queue consumer).
fn served_health(at: &impl Fn(&str) -> f64, calls_in: usize, goodput: f64, offered: f64) -> Health {
    let arrivals = at("arrivals_per_s");
    if calls_in > 0 {
        return Health::judge(share(goodput, offered), share(at("errors_per_s"), arrivals));
    }
    let refused: f64 = ["errors_per_s", "rejected_per_s", "shed_per_s", "expired_per_s", "dropped_per_s"]
        .iter()
        .map(|name| at(name))
        .filter(|value| value.is_finite())
        .sum();
    Health::judge(share(arrivals - refused, arrivals), share(at("errors_per_s"), arrivals))
}

/// Per pool member of a balancer, the attempts per second it routes there: the member's
/// arrivals less the attempts other nodes send it directly (a member shared by two balancers
/// counts for both).
fn pool_routed_per_s<'a>(view: &'a RunView, balancer: &str, bucket: Option<usize>) -> Vec<(&'a str, f64)> {
    let Some(info) = view.topology.balancer(balancer) else { return Vec::new() };
    let series = &view.report.series;
    info.pool
        .iter()
        .map(|member| {
            let Some(bucket) = bucket else { return (member.as_str(), f64::NAN) };
            let arrivals = series
                .nodes
                .iter()
                .find(|node| node.id == *member)
                .map_or(f64::NAN, |node| metric_at(&node.metrics, "arrivals_per_s", bucket));
            let direct: f64 = series
                .edges
                .iter()
                .filter(|edge| edge.to == *member)
                .map(|edge| metric_at(&edge.metrics, "attempts_per_s", bucket))
                .filter(|rate| rate.is_finite())
                .sum();
            (member.as_str(), (arrivals - direct).max(0.0))
        })
        .collect()
}

/// An edge's rates at the cursor.
struct EdgeRates {
    attempts_per_s: f64,
    goodput_per_s: f64,
    timeouts_per_s: f64,
    /// Attempts the caller refused itself: an open breaker, adaptive throttling.
    short_circuited_per_s: f64,
    throttled_per_s: f64,
}

#[derive(Clone, Copy)]
struct EdgeStyle {
    /// Rows too close for labels above and below: one line above.
    tight: bool,
    /// A fallback call: dashed.
    fallback: bool,
}

/// The arrow's line width for a rate, relative to the busiest edge.
fn line_width(rate_per_s: f64, rate_max: f64) -> f64 {
    let relative = if rate_max > 0.0 && rate_per_s.is_finite() { (rate_per_s / rate_max).clamp(0.0, 1.0) } else { 0.0 };
    1.5 + 7.0 * relative.sqrt()
}

/// Draws a line from `start` to `end` with an arrowhead.
fn draw_arrow(
    painter: &Painter,
    (start_x, start_y): (f64, f64),
    (end_x, end_y): (f64, f64),
    width: f64,
    colour: &str,
    dash: &[f64],
) -> Result<(), String> {
    let context = painter.context;
    let arrow = 8.0 + width;
    let angle = (end_y - start_y).atan2(end_x - start_x);
    let (tip_x, tip_y) = (end_x - 2.0 * angle.cos(), end_y - 2.0 * angle.sin());
    let (base_x, base_y) = (tip_x - arrow * angle.cos(), tip_y - arrow * angle.sin());
    context.set_stroke_style_str(colour);
    context.set_line_width(width);
    context.set_line_cap("butt");
    painter.set_dash(dash)?;
    context.begin_path();
    context.move_to(start_x + 2.0, start_y);
    context.line_to(base_x, base_y);
    context.stroke();
    painter.set_dash(&[])?;
    context.set_fill_style_str(colour);
    context.begin_path();
    context.move_to(tip_x, tip_y);
    let spread = arrow * 0.55;
    context.line_to(base_x + spread * angle.sin(), base_y - spread * angle.cos());
    context.line_to(base_x - spread * angle.sin(), base_y + spread * angle.cos());
    context.close_path();
    context.fill();
    Ok(())
}

/// Draws a call edge as an arrow whose width follows its attempt rate, with its policy badges
/// near the start, and its rates in the rest of the length: attempts above and goodput (and
/// timeouts) below; with `tight` rows, one line above: attempts and goodput side by side.
fn draw_edge(
    painter: &Painter,
    (start_x, start_y, end_x, end_y): (f64, f64, f64, f64),
    rates: &EdgeRates,
    attempts_max: f64,
    badges: &[Badge],
    style: EdgeStyle,
) -> Result<(), String> {
    let EdgeRates { attempts_per_s, goodput_per_s, .. } = *rates;
    let width = line_width(attempts_per_s, attempts_max);
    let (colour, dash): (String, &[f64]) = if style.fallback {
        (palette::ATTEMPTS.css_alpha(0.5), &[6.0, 4.0])
    } else {
        (palette::ATTEMPTS.css_alpha(0.85), &[])
    };
    draw_arrow(painter, (start_x, start_y), (end_x, end_y), width, &colour, dash)?;
    let badges_end_x = draw_badges(painter, (start_x, start_y), (end_x, end_y), badges)?;

    // Labels in the length the badges leave, clear of the node outlines on either side.
    let label_start_x = badges_end_x.max(start_x);
    let middle_x = (label_start_x + end_x) / 2.0;
    let slope = if end_x > start_x { (end_y - start_y) / (end_x - start_x) } else { 0.0 };
    let middle_y = start_y + slope * (middle_x - start_x);
    let room = (end_x - label_start_x - 20.0).max(0.0);
    painter.font(600, 12.0);
    let label = |value: f64, word: &str, room: f64| {
        let long = format!("{} {word}", format(value, Unit::PerSecond));
        if painter.text_width(&long) <= room {
            long
        } else {
            format(value, Unit::PerSecond)
        }
    };
    // Too short for even a bare number: the rates are left to the traffic chart.
    if painter.text_width(&format(attempts_per_s, Unit::PerSecond)) > room {
        return Ok(());
    }
    if style.tight {
        let y = middle_y - width / 2.0 - 8.0;
        let gap = 6.0;
        let half_room = (room / 2.0 - gap).max(0.0);
        painter.text(&label(attempts_per_s, "attempts", half_room), middle_x - gap, y, palette::ATTEMPTS, "right")?;
        return painter.text(&label(goodput_per_s, "goodput", half_room), middle_x + gap, y, palette::GOODPUT, "left");
    }
    let above = label(attempts_per_s, "attempts", room);
    painter.text(&above, middle_x, middle_y - width / 2.0 - 10.0, palette::ATTEMPTS, "center")?;
    let below = label(goodput_per_s, "goodput", room);
    painter.text(&below, middle_x, middle_y + width / 2.0 + 10.0, palette::GOODPUT, "center")?;
    // Then what failed or was refused, when it happened (at most two lines).
    let failures = [
        (rates.timeouts_per_s, "timeouts", palette::TIMEOUTS),
        (rates.short_circuited_per_s, "short-circuited", palette::SHORT_CIRCUITED),
        (rates.throttled_per_s, "throttled", palette::THROTTLED),
    ];
    let mut y = middle_y + width / 2.0 + 25.0;
    for (value, word, colour) in failures.into_iter().filter(|(value, _, _)| *value > 0.0).take(2) {
        painter.text(&label(value, word, room), middle_x, y, colour, "center")?;
        y += 15.0;
    }
    Ok(())
}

const BADGE_HEIGHT_CSS: f64 = 15.0;
/// Room an edge needs besides its badges: the gap before them and the arrowhead after.
const BADGE_ARROW_ROOM_CSS: f64 = 30.0;

/// Draws an edge's badges along it, starting a little after its start; returns the x where
/// they end (the start, without badges).
/// Width of a row of badges, in CSS pixels (from the first badge's left to the last one's right).
fn badges_width(painter: &Painter, badges: &[Badge]) -> f64 {
    painter.font(700, 10.0);
    let widths: f64 = badges.iter().map(|badge| painter.text_width(badge.text) + 9.0 + 3.0).sum();
    (widths - 3.0).max(0.0)
}

fn draw_badges(painter: &Painter, start: (f64, f64), end: (f64, f64), badges: &[Badge]) -> Result<f64, String> {
    if badges.is_empty() {
        return Ok(start.0);
    }
    let slope = if end.0 > start.0 { (end.1 - start.1) / (end.0 - start.0) } else { 0.0 };
    painter.font(700, 10.0);
    let mut x = start.0 + 8.0;
    for badge in badges {
        let width = painter.text_width(badge.text) + 9.0;
        let centre_y = start.1 + slope * (x + width / 2.0 - start.0);
        painter.rounded_rect(x, centre_y - BADGE_HEIGHT_CSS / 2.0, width, BADGE_HEIGHT_CSS, BADGE_HEIGHT_CSS / 2.0)?;
        let context = painter.context;
        context.set_fill_style_str(&if badge.filled { badge.colour.css() } else { palette::BACKGROUND.css() });
        context.fill();
        context.set_stroke_style_str(&badge.colour.css());
        context.set_line_width(1.5);
        context.stroke();
        let text_colour = if badge.filled { palette::BACKGROUND } else { badge.colour };
        painter.text(badge.text, x + width / 2.0, centre_y + 0.5, text_colour, "center")?;
        x += width + 3.0;
    }
    Ok(x)
}

/// Shortest link that carries its share as a label; shorter ones put it in the member's box.
const POOL_LABEL_GAP_CSS: f64 = 80.0;

/// A balancer's link to one pool member at the cursor.
struct PoolLink {
    routed_per_s: f64,
    /// Of the attempts the balancer routed, the share sent to this member.
    share: f64,
}

/// Draws a balancer's link to a pool member: lighter than a call edge, labelled with the share
/// of the balancer's traffic it carries next to the member (when `labelled`).
fn draw_pool_link(
    painter: &Painter,
    start: (f64, f64),
    end: (f64, f64),
    link: &PoolLink,
    attempts_max: f64,
    labelled: bool,
) -> Result<(), String> {
    let width = line_width(link.routed_per_s, attempts_max).min(6.0);
    draw_arrow(painter, start, end, width, &palette::ATTEMPTS.css_alpha(0.35), &[])?;
    if labelled && link.share.is_finite() {
        painter.font(600, 11.0);
        let text = format(link.share, Unit::Share);
        let angle = (end.1 - start.1).atan2(end.0 - start.0);
        // Above the line, short of the arrowhead.
        let (x, y) = (end.0 - 16.0 - width, end.1 - 16.0 * angle.tan() - width / 2.0 - 7.0);
        painter.text(&text, x, y, palette::ATTEMPTS, "right")?;
    }
    Ok(())
}

/// Draws a queue's link to a consumer: dashed (the consumer pulls; nothing is called), labelled
/// with the messages it processes per second.
fn draw_consume_link(
    painter: &Painter,
    start: (f64, f64),
    end: (f64, f64),
    messages_per_s: f64,
    attempts_max: f64,
    labelled: bool,
) -> Result<(), String> {
    let width = line_width(messages_per_s, attempts_max).min(6.0);
    draw_arrow(painter, start, end, width, &palette::ATTEMPTS.css_alpha(0.35), &[6.0, 4.0])?;
    if labelled && messages_per_s.is_finite() {
        painter.font(600, 11.0);
        let text = format!("{} msgs", format(messages_per_s, Unit::PerSecond));
        let angle = (end.1 - start.1).atan2(end.0 - start.0);
        let (x, y) = (end.0 - 16.0 - width, end.1 - 16.0 * angle.tan() - width / 2.0 - 7.0);
        painter.text(&text, x, y, palette::ATTEMPTS, "right")?;
    }
    Ok(())
}

/// What a node box says.
struct NodeText {
    health: Health,
    detail: String,
    /// Queue depth at the cursor, for services.
    queue: Option<f64>,
    /// A short value right-aligned on the title line (a pool member's share of its balancer).
    tag: Option<String>,
    /// Policy badges of its calls, on the title line left of the tag (when the edges are too
    /// short to carry them).
    badges: Vec<Badge>,
}

fn draw_node(painter: &Painter, node: &NodeBox, text: &NodeText, selected: bool) -> Result<(), String> {
    let context = painter.context;
    let balancer = node.is_balancer();
    if selected {
        if balancer {
            painter.hexagon(node.x - 5.0, node.y - 5.0, node.width + 10.0, node.height + 10.0)?;
        } else {
            painter.rounded_rect(node.x - 5.0, node.y - 5.0, node.width + 10.0, node.height + 10.0, 12.0)?;
        }
        context.set_stroke_style_str(&palette::TEXT.css_alpha(0.55));
        context.set_line_width(1.5);
        painter.set_dash(&[5.0, 4.0])?;
        context.stroke();
        painter.set_dash(&[])?;
    }
    if balancer {
        painter.hexagon(node.x, node.y, node.width, node.height)?;
    } else {
        painter.rounded_rect(node.x, node.y, node.width, node.height, 9.0)?;
    }
    context.set_fill_style_str(&text.health.colour().css_alpha(0.08));
    context.fill();
    context.set_stroke_style_str(&text.health.colour().css());
    context.set_line_width(3.0);
    context.stroke();

    // A balancer's text keeps clear of its pointed ends.
    let padding = if balancer { (node.height / 2.0).min(14.0).min(node.width / 3.0) } else { 9.0 };
    let inner_width = node.width - 2.0 * padding;
    let plan = NodeContent::plan(node.height, text.queue.is_some());
    let title_y = if plan.compact {
        node.y + (node.height - plan.bar_css - plan.bar_padding_css) / 2.0 + 1.0
    } else if balancer && !plan.detail {
        node.centre_y()
    } else {
        node.y + 15.0
    };
    let right_edge = node.x + node.width - padding;
    let bar_y = node.y + node.height - plan.bar_padding_css - plan.bar_css;
    // Short values go right-aligned on the queue label's line when there is one, else on the
    // title line: a pool member's share, then the badges of calls too short to carry them
    // (those go on a line of their own at the bottom of a tall box without a queue).
    let queue_line = text.queue.is_some() && plan.queue_label;
    let info_y = if queue_line { bar_y - 9.0 } else { title_y };
    let mut info_right = right_edge;
    if let Some(tag) = &text.tag {
        painter.font(600, 11.0);
        painter.text(tag, info_right, info_y, palette::ATTEMPTS, "right")?;
        info_right -= painter.text_width(tag) + 6.0;
    }
    if !text.badges.is_empty() {
        let width = badges_width(painter, &text.badges);
        let (x, y) = if text.queue.is_none() && node.height >= 58.0 && !balancer {
            (node.x + padding, node.y + node.height - 6.0 - BADGE_HEIGHT_CSS / 2.0)
        } else {
            info_right -= width + 6.0;
            (info_right + 6.0, info_y)
        };
        // draw_badges starts 8 px after the point it is given.
        draw_badges(painter, (x - 8.0, y), (x + 100.0, y), &text.badges)?;
    }
    let title_right = if queue_line { right_edge } else { info_right };
    painter.font(700, if plan.compact { 12.5 } else { 14.0 });
    let title = painter.fit(&node.id, (title_right - (node.x + padding)).max(0.0));
    painter.text(&title, node.x + padding, title_y, palette::TEXT, "left")?;
    if plan.detail {
        painter.font(400, 11.5);
        let line = painter.fit(&text.detail, inner_width);
        painter.text(&line, node.x + padding, node.y + 32.0, palette::MUTED_TEXT, "left")?;
    }
    if let Some(depth) = text.queue {
        if plan.queue_label {
            painter.font(600, 11.5);
            let room = (info_right - (node.x + padding)).max(0.0);
            // The word goes first when space is short: the bar says it is a queue.
            let long = format!("queue {}", format(depth, Unit::Count));
            let label = if painter.text_width(&long) <= room { long } else { format(depth, Unit::Count) };
            let label = painter.fit(&label, room);
            painter.text(&label, node.x + padding, bar_y - 9.0, palette::QUEUE, "left")?;
        }
        context.set_fill_style_str(&palette::GRID.css());
        context.fill_rect(node.x + padding, bar_y, inner_width, plan.bar_css);
        context.set_fill_style_str(&palette::QUEUE.css());
        context.fill_rect(node.x + padding, bar_y, inner_width * queue_fill(depth), plan.bar_css);
    }
    Ok(())
}

/// Which lines fit in a node box of a given height (title always; then the queue bar, the
/// queue label, and the detail line, in that order of importance), and the bar's size.
#[derive(Debug, PartialEq)]
struct NodeContent {
    detail: bool,
    queue_label: bool,
    /// A short box (a crowded column): a smaller title centred above a thin bar.
    compact: bool,
    bar_css: f64,
    bar_padding_css: f64,
}

impl NodeContent {
    fn plan(height_css: f64, has_queue: bool) -> NodeContent {
        if !has_queue {
            return NodeContent {
                detail: height_css >= 40.0,
                queue_label: false,
                compact: false,
                bar_css: 0.0,
                bar_padding_css: 0.0,
            };
        }
        if height_css < 50.0 {
            return NodeContent {
                detail: false,
                queue_label: false,
                compact: true,
                bar_css: 5.0,
                bar_padding_css: 5.0,
            };
        }
        // Title 24 px, bar 9 px plus 9 px padding below; each text line needs about 17 px.
        NodeContent {
            queue_label: height_css >= 60.0,
            detail: height_css >= 78.0,
            compact: false,
            bar_css: 9.0,
            bar_padding_css: 9.0,
        }
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

/// The meaning of the badges drawn, right-aligned on the top line (between `left` and `right`),
/// in words if they fit, else the badges alone.
fn draw_badge_legend(painter: &Painter, shown: &[&str], left: f64, right: f64) -> Result<(), String> {
    let items: Vec<(&str, &str, Colour)> =
        BADGE_KINDS.iter().copied().filter(|(text, _, _)| shown.contains(text)).collect();
    if items.is_empty() {
        return Ok(());
    }
    let measure = |with_words: bool| {
        items
            .iter()
            .map(|(text, words, _)| {
                painter.font(700, 10.0);
                let badge = painter.text_width(text) + 9.0;
                painter.font(400, 11.0);
                badge + if with_words { 4.0 + painter.text_width(words) } else { 0.0 } + 12.0
            })
            .sum::<f64>()
    };
    let with_words = measure(true) <= right - left;
    let mut x = right - measure(with_words);
    if x < left {
        return Ok(());
    }
    let y = 16.0;
    for (text, words, colour) in items {
        let end = draw_badges(painter, (x - 8.0, y), (x + 100.0, y), &[Badge { text, colour, filled: true }])?;
        x = end;
        if with_words {
            painter.font(400, 11.0);
            painter.text(words, x + 1.0, y, palette::MUTED_TEXT, "left")?;
            x += 1.0 + painter.text_width(words) + 12.0;
        } else {
            x += 9.0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three clients, each behind its own balancer with a pool of five (the load-balancing
    /// preset's shape), and a five-layer chain: no two boxes overlap, pools sit next to their
    /// balancer, each layer in its own column.

    #[test]
    fn badges_name_the_policies_in_order() {
        let policies = EdgePolicies {
            budget: Some("aws_standard".into()),
            breaker: true,
            hedge: true,
            deadline: true,
            ..EdgePolicies::default()
        };
        let texts: Vec<&str> = badges(&policies, false).iter().map(|badge| badge.text).collect();
        assert_eq!(texts, ["B", "CB", "H", "D"]);
        let breaker = |open| badges(&policies, open).into_iter().find(|badge| badge.text == "CB").map(|b| b.filled);
        assert_eq!((breaker(false), breaker(true)), (Some(false), Some(true)));
        assert!(badges(&EdgePolicies::default(), true).is_empty());
    }

    /// A client calling a service, and the service calling two others: a click on each drawn
    /// edge's middle finds that edge's scenario path; a click on a node box finds no edge.
    #[test]
    fn call_lines_map_clicks_back_to_calls() {
        let json = r#"{"report": {"simulated_s": 1, "duration_s": 1, "series": {"bucket_s": 1, "buckets": 1,
            "system": {}, "nodes": [
              {"id": "c", "kind": "client", "metrics": {}}, {"id": "api", "kind": "service", "metrics": {}},
              {"id": "db", "kind": "service", "metrics": {}}, {"id": "cache", "kind": "service", "metrics": {}}],
            "edges": [{"from": "c", "to": "api", "metrics": {}}, {"from": "api", "to": "db", "metrics": {}},
              {"from": "api", "to": "cache", "metrics": {}}]}},
          "topology": {"edges": [
            {"from": "c", "to": "api", "path": "nodes[0].calls[0]"},
            {"from": "api", "to": "db", "path": "nodes[1].calls[0]"},
            {"from": "api", "to": "cache", "path": "nodes[1].calls[1]"}]}}"#;
        let view: RunView = serde_json::from_str(json).unwrap_or_else(|error| panic!("{error}"));
        let layout = layout(&nodes_of(&view), &links_of(&view), 900.0, 300.0);
        let lines = call_lines(&view, &layout);
        assert_eq!(lines.len(), 3);
        for line in &lines {
            let middle = ((line.start.0 + line.end.0) / 2.0, (line.start.1 + line.end.1) / 2.0);
            assert_eq!(edge_at(&lines, middle.0, middle.1), Some(line.path.as_str()), "{lines:?}");
        }
        let api = layout.nodes.iter().find(|node| node.id == "api").unwrap_or_else(|| panic!("{layout:?}"));
        assert_eq!(edge_at(&lines, api.x + api.width / 2.0, api.centre_y()), None);
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
        let plan = |height, queue| {
            let content = NodeContent::plan(height, queue);
            (content.detail, content.queue_label, content.compact)
        };
        assert_eq!(plan(40.0, true), (false, false, true));
        assert_eq!(plan(55.0, true), (false, false, false));
        assert_eq!(plan(66.0, true), (false, true, false));
        assert_eq!(plan(90.0, true), (true, true, false));
        assert_eq!(plan(50.0, false), (true, false, false));
    }

    #[test]
    fn queue_bar_is_logarithmic() {
        assert_eq!(queue_fill(0.0), 0.0);
        assert!(queue_fill(1.0) > 0.0);
        assert!(queue_fill(445_000.0) > 0.9 && queue_fill(445_000.0) < 1.0);
        assert_eq!(queue_fill(f64::NAN), 0.0);
    }
}

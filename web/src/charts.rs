//! Time charts drawn with plotters: traffic, latency percentiles, queue depth (or, where
//! functions are what a scenario runs, their capacity: invocations running and execution
//! environments; or, where it calls LLM endpoints, their tokens per minute against their limits
//! and their 429s), and the policies of one call or service (a budget's level, a breaker's open
//! spells, a concurrency limit, and what those policies refused, on a second axis).
//!
//! Every chart spans the scenario's whole duration, shades the fault windows, marks the time
//! cursor with a vertical line, and carries a legend whose entries show each series' value at
//! the cursor. Sizes are in CSS pixels times the canvas scale, so text is the same size on
//! every screen.

use crate::canvas::Surface;
use crate::format::{compact, format, Unit};
use crate::palette::{self, Colour};
use crate::view::{Metrics, NodeSeriesView, RunView, Values};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::borrow::Cow;

mod overlay;

/// Which chart to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    /// Offered, attempts, goodput, timeouts, errors and rejections, per second.
    Traffic,
    /// End-to-end latency percentiles of successful requests, log scale.
    Latency,
    /// Attempts waiting in each service's queue, functions' capacity or LLM endpoints' tokens
    /// and 429s (see [`QueueChart`]).
    Queue,
    /// The policies of a call edge (budget level, breaker state, refusals) or of a service
    /// (concurrency limit, shedding) or a load balancer (ejected hosts).
    Policies,
}

impl Chart {
    pub fn from_name(name: &str) -> Option<Chart> {
        Some(match name {
            "traffic" => Chart::Traffic,
            "latency" => Chart::Latency,
            "queue" => Chart::Queue,
            "policies" => Chart::Policies,
            _ => return None,
        })
    }
}

/// One line on a chart.
struct Line<'a> {
    label: String,
    colour: Colour,
    /// One value per bucket; owned for a level the scenario sets (a reserved concurrency).
    values: Cow<'a, [f64]>,
    /// Stroke width in CSS pixels.
    width_css: f64,
    /// Dash and gap lengths in CSS pixels; None for a solid line.
    dash: Option<(f64, f64)>,
    /// Fill the area under the line (linear charts only).
    filled: bool,
    unit: Unit,
}

enum Scale {
    Linear,
    Log,
}

struct Spec<'a> {
    y_title: &'static str,
    scale: Scale,
    tick_unit: TickUnit,
    lines: Vec<Line<'a>>,
    /// Said in the plot area when no line has data yet.
    empty_message: &'static str,
    /// Shaded ranges under the lines (the 10–90% band over seeds; see `overlay`).
    bands: Vec<overlay::SpreadBand>,
}

#[derive(Clone, Copy)]
enum TickUnit {
    /// Compact numbers: 0, 500, 1k, 1.5k.
    Number,
    /// Durations: 1 ms, 10 ms, 1 s.
    Milliseconds,
}

const FONT_FAMILY: &str = "sans-serif";

/// What the queue chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueChart {
    /// Work waiting: attempts in services' queues, messages in queue nodes.
    Waiting,
    /// Functions' capacity: invocations running and execution environments. A function has no
    /// queue (a synchronous invocation it cannot serve at once is throttled), so what limits it
    /// is how many environments it has and may add.
    Functions,
    /// LLM endpoints: one endpoint's tokens per minute against its limits, or each endpoint's
    /// 429s. What limits an endpoint is rarely its queue (it waits in seconds, not in depth)
    /// but its per-minute limits, which count tokens the requests may never use.
    Llm,
}

impl QueueChart {
    /// An LLM endpoint's when the focus is one, or when the scenario has endpoints and the
    /// focus is no node with a chart of its own here (none, or a client); a function's capacity
    /// when the focus is a function, or when functions are all the scenario has to serve work;
    /// else what waits in services and queues (a focused service's queue among them).
    pub fn of(view: &RunView, focus: Option<&str>) -> QueueChart {
        let nodes = &view.report.series.nodes;
        let focused = focus.and_then(|id| nodes.iter().find(|node| node.id == id)).map(|node| node.kind.as_str());
        let has = |kind: &str| nodes.iter().any(|node| node.kind == kind);
        let has_waiting = has("service") || has("queue");
        match focused {
            Some("llm") => QueueChart::Llm,
            Some("function") => QueueChart::Functions,
            None | Some("client") if has("llm") => QueueChart::Llm,
            _ if has("function") && !has_waiting => QueueChart::Functions,
            _ => QueueChart::Waiting,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            QueueChart::Waiting => "waiting",
            QueueChart::Functions => "functions",
            QueueChart::Llm => "llm",
        }
    }
}

/// Draws one chart of a run onto a canvas, with the cursor at `cursor_s`. With a `focus`
/// node id, the traffic and latency charts show that node's requests (a client's, or the calls
/// into a service, function or LLM endpoint; a function's cold starts and throttles, an
/// endpoint's 429s and time to first token as well) instead of the whole system's, and the
/// queue chart draws that service bolder, or shows that function's capacity or that
/// endpoint's tokens.
pub fn draw(surface: &Surface, view: &RunView, chart: Chart, cursor_s: f64, focus: Option<&str>) -> Result<(), String> {
    let root = surface.backend()?.into_drawing_area();
    draw_on(&root, surface.scale, view, chart, cursor_s, focus)
}

/// Draws one chart as [`draw`] does, onto any plotters drawing area (a canvas, an SVG
/// document) with `scale` of its pixels per CSS pixel.
pub fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scale: f64,
    view: &RunView,
    chart: Chart,
    cursor_s: f64,
    focus: Option<&str>,
) -> Result<(), String> {
    let focused = match (chart, focus) {
        (Chart::Traffic, Some(id)) => focused_traffic(view, id),
        (Chart::Latency, Some(id)) => focused_latency(view, id).cloned(),
        _ => None,
    };
    let spec = match chart {
        Chart::Traffic => {
            let mut spec = traffic_spec(focused.as_ref().unwrap_or(&view.report.series.system));
            if let Some(function) = focus.and_then(|id| node_series(view, id, "function")) {
                add_function_traffic(&mut spec, &function.metrics);
            }
            if let Some(llm) = focus.and_then(|id| node_series(view, id, "llm")) {
                add_llm_traffic(&mut spec, &llm.metrics);
            }
            spec
        }
        Chart::Latency => {
            let mut spec = latency_spec(focused.as_ref().unwrap_or(&view.report.series.system));
            if let Some(llm) = focus.and_then(|id| node_series(view, id, "llm")) {
                add_time_to_first_token(&mut spec, &llm.metrics);
            }
            spec
        }
        Chart::Queue => match QueueChart::of(view, focus) {
            QueueChart::Waiting => queue_spec(view, focus),
            QueueChart::Functions => capacity_spec(view, focus),
            QueueChart::Llm => llm_spec(view, focus),
        },
        Chart::Policies => {
            let spec = policies_spec(view, focus);
            return draw_policies(root, scale, view, &spec, cursor_s)
                .map_err(|error| format!("drawing a chart failed: {error}"));
        }
    };
    let spec = overlay::apply(spec, view, chart, focus);
    draw_spec(root, scale, view, &spec, cursor_s).map_err(|error| format!("drawing a chart failed: {error}"))
}

fn values<'a>(metrics: &'a Metrics, name: &str) -> &'a [f64] {
    metrics.get(name).map_or(&[], |values: &Values| values.0.as_slice())
}

fn any_positive(values: &[f64]) -> bool {
    values.iter().any(|&value| value > 0.0)
}

/// The series of the node with this id, if it is of this kind ("function", "llm").
fn node_series<'a>(view: &'a RunView, id: &str, kind: &str) -> Option<&'a NodeSeriesView> {
    view.report.series.nodes.iter().find(|node| node.id == id && node.kind == kind)
}

/// A focused function's own rates on its traffic chart, over what its callers see: the
/// invocations that started cold, and those it throttled. A synchronous function's throttles
/// reach its callers as rejections (drawn wide underneath, this line over them); an
/// asynchronous function's are retried inside, so only this line shows them.
fn add_function_traffic<'a>(spec: &mut Spec<'a>, function: &'a Metrics) {
    let line = |label: &str, name: &str, colour: Colour, dash: Option<(f64, f64)>| Line {
        label: label.to_string(),
        colour,
        values: values(function, name).into(),
        width_css: 2.0,
        dash,
        filled: false,
        unit: Unit::PerSecond,
    };
    // Under the dashed offered line, which stays on top.
    let at = spec.lines.len().saturating_sub(1);
    spec.lines.insert(at, line("throttles (429)", "throttles_per_s", palette::THROTTLES, Some((4.0, 3.0))));
    spec.lines.insert(at, line("cold starts", "cold_starts_per_s", palette::COLD_STARTS, None));
}

/// A focused LLM endpoint's 429s on its traffic chart, over its callers' rejections (which
/// also count requests too large for a limit and those refused as overloaded).
fn add_llm_traffic<'a>(spec: &mut Spec<'a>, llm: &'a Metrics) {
    let at = spec.lines.len().saturating_sub(1);
    spec.lines.insert(
        at,
        Line {
            label: "429s".to_string(),
            colour: palette::THROTTLES,
            values: values(llm, "rate_limited_per_s").into(),
            width_css: 2.0,
            dash: Some((4.0, 3.0)),
            filled: false,
            unit: Unit::PerSecond,
        },
    );
}

/// A focused LLM endpoint's time to first token (queueing and prefill) under the latency of
/// its answers: the same colour per percentile, dashed. The gap between them is generation.
fn add_time_to_first_token<'a>(spec: &mut Spec<'a>, llm: &'a Metrics) {
    for (label, name, colour) in
        [("TTFT p99", "ttft_p99_ms", palette::LATENCY_P99), ("TTFT p50", "ttft_p50_ms", palette::LATENCY_P50)]
    {
        spec.lines.push(Line {
            label: label.to_string(),
            colour,
            values: values(llm, name).into(),
            width_css: 2.0,
            dash: Some((5.0, 3.0)),
            filled: false,
            unit: Unit::Milliseconds,
        });
    }
}

/// The traffic of one node: a client's own series, or the sum of the calls into a service.
fn focused_traffic(view: &RunView, id: &str) -> Option<Metrics> {
    let series = &view.report.series;
    let node = series.nodes.iter().find(|node| node.id == id)?;
    if node.kind == "client" {
        return Some(node.metrics.clone());
    }
    let mut sum = Metrics::new();
    for edge in series.edges.iter().filter(|edge| edge.to == id) {
        for (name, values) in &edge.metrics {
            let total = sum.entry(name.clone()).or_insert_with(|| Values(vec![0.0; values.0.len()]));
            for (into, value) in total.0.iter_mut().zip(&values.0) {
                *into += value;
            }
        }
    }
    (!sum.is_empty()).then_some(sum)
}

fn traffic_spec(system: &Metrics) -> Spec<'_> {
    let line = |label: &str, name: &str, colour: Colour, width_css: f64| Line {
        label: label.to_string(),
        colour,
        values: values(system, name).into(),
        width_css,
        dash: None,
        filled: false,
        unit: Unit::PerSecond,
    };
    // Drawn in this order: failures wide underneath, attempts over them (in a storm nearly
    // every attempt times out, and both stay visible), goodput over attempts so health
    // shows, and offered last and dashed so it stays visible where goodput matches it.
    // Policies add lines only when they acted: refusals at the caller (breaker, throttling)
    // with the failures, hedges with the attempts, degraded answers with goodput.
    let mut lines = Vec::new();
    for (label, name, colour) in [
        ("timeouts", "timeouts_per_s", palette::TIMEOUTS),
        ("errors", "errors_per_s", palette::ERRORS),
        ("rejected", "rejected_per_s", palette::REJECTED),
        ("short-circuited", "short_circuited_per_s", palette::SHORT_CIRCUITED),
        ("throttled", "throttled_per_s", palette::THROTTLED),
    ] {
        if any_positive(values(system, name)) {
            lines.push(line(label, name, colour, 4.0));
        }
    }
    lines.push(line("attempts", "attempts_per_s", palette::ATTEMPTS, 1.5));
    if any_positive(values(system, "hedges_per_s")) {
        lines.push(line("hedges", "hedges_per_s", palette::HEDGES, 1.5));
    }
    if any_positive(values(system, "degraded_per_s")) {
        lines.push(line("degraded", "degraded_per_s", palette::FALLBACK, 2.5));
    }
    lines.push(line("goodput", "goodput_per_s", palette::GOODPUT, 2.5));
    let mut offered = line("offered", "offered_per_s", palette::OFFERED, 1.5);
    offered.dash = Some((5.0, 5.0));
    lines.push(offered);
    Spec {
        y_title: "requests / s",
        scale: Scale::Linear,
        tick_unit: TickUnit::Number,
        lines,
        empty_message: "no traffic yet",
        bands: Vec::new(),
    }
}

/// The latency of one node's requests: a client's own, or that of the single caller of a
/// service (percentiles of several callers cannot be combined; then the system's is shown).
fn focused_latency<'a>(view: &'a RunView, id: &str) -> Option<&'a Metrics> {
    let series = &view.report.series;
    let node = series.nodes.iter().find(|node| node.id == id)?;
    let metrics = if node.kind == "client" {
        &node.metrics
    } else {
        match series.edges.iter().filter(|edge| edge.to == id).collect::<Vec<_>>().as_slice() {
            [only] => &only.metrics,
            _ => return None,
        }
    };
    metrics.contains_key("latency_p50_ms").then_some(metrics)
}

fn latency_spec(system: &Metrics) -> Spec<'_> {
    let line = |label: &str, name: &str, colour: Colour, width_css: f64| Line {
        label: label.to_string(),
        colour,
        values: values(system, name).into(),
        width_css,
        dash: None,
        filled: false,
        unit: Unit::Milliseconds,
    };
    let lines = vec![
        line("p99.9", "latency_p999_ms", palette::LATENCY_P999, 1.5),
        line("p99", "latency_p99_ms", palette::LATENCY_P99, 2.0),
        line("p50", "latency_p50_ms", palette::LATENCY_P50, 2.5),
    ];
    Spec {
        y_title: "latency (log)",
        scale: Scale::Log,
        tick_unit: TickUnit::Milliseconds,
        lines,
        empty_message: "no request has succeeded yet",
        bands: Vec::new(),
    }
}

fn queue_spec<'a>(view: &'a RunView, focus: Option<&str>) -> Spec<'a> {
    // A service's waiting attempts and a queue node's visible messages are both work waiting
    // for a server, so they share one axis.
    let waiting: Vec<_> = view
        .report
        .series
        .nodes
        .iter()
        .filter_map(|node| match node.kind.as_str() {
            "service" => Some((node, "queue_depth")),
            "queue" => Some((node, "depth")),
            _ => None,
        })
        .collect();
    let has_queue_nodes = waiting.iter().any(|(node, _)| node.kind == "queue");
    let single = waiting.len() == 1;
    let lines = waiting
        .iter()
        .enumerate()
        .map(|(index, (node, metric))| Line {
            label: node.id.clone(),
            // Several services: the queue colour in darker shades and dash patterns.
            colour: shade(palette::QUEUE, index),
            values: values(&node.metrics, metric).into(),
            width_css: if !single && focus == Some(node.id.as_str()) { 3.5 } else { 2.0 },
            dash: queue_dash(index),
            filled: single,
            unit: Unit::Count,
        })
        .collect();
    Spec {
        y_title: if has_queue_nodes { "attempts or messages waiting" } else { "attempts waiting" },
        scale: Scale::Linear,
        tick_unit: TickUnit::Number,
        lines,
        empty_message: "no services or queues",
        bands: Vec::new(),
    }
}

/// Functions' capacity. One function (focused, or the only one): its invocations running (the
/// mean over each bucket), its execution environments (at each bucket's end, idle ones
/// included), its asynchronous events waiting and its queue pollers when it has them, and the
/// reserved and provisioned concurrency it runs with. Several: each one's invocations running.
fn capacity_spec<'a>(view: &'a RunView, focus: Option<&str>) -> Spec<'a> {
    let functions: Vec<&NodeSeriesView> =
        view.report.series.nodes.iter().filter(|node| node.kind == "function").collect();
    let one = match (focus.and_then(|id| functions.iter().find(|node| node.id == id)), functions.as_slice()) {
        (Some(focused), _) => Some(*focused),
        (None, [only]) => Some(*only),
        (None, _) => None,
    };
    let line = |label: &str, values: Cow<'a, [f64]>, colour: Colour, width_css: f64, dash: Option<(f64, f64)>| Line {
        label: label.to_string(),
        colour,
        values,
        width_css,
        dash,
        filled: false,
        unit: Unit::Count,
    };
    let Some(function) = one else {
        let single = functions.len() == 1;
        let lines = functions
            .iter()
            .enumerate()
            .map(|(index, node)| Line {
                filled: single,
                ..line(
                    &node.id,
                    values(&node.metrics, "concurrency").into(),
                    shade(palette::RUNNING, index),
                    2.0,
                    queue_dash(index),
                )
            })
            .collect();
        return Spec {
            y_title: "invocations running",
            scale: Scale::Linear,
            tick_unit: TickUnit::Number,
            lines,
            empty_message: "no functions",
            bands: Vec::new(),
        };
    };
    let metrics = &function.metrics;
    // A level the scenario sets, drawn across the buckets with data.
    let level = |value: u32| -> Cow<'a, [f64]> { vec![f64::from(value); view.buckets()].into() };
    let mut lines = Vec::new();
    if let Some(info) = view.topology.function(&function.id) {
        if let Some(reserved) = info.reserved_concurrency {
            lines.push(line("reserved", level(reserved), palette::LEVEL, 1.5, None));
        }
        if info.provisioned_concurrency > 0 {
            lines.push(line("provisioned", level(info.provisioned_concurrency), palette::LEVEL, 1.5, Some((6.0, 4.0))));
        }
    }
    if any_positive(values(metrics, "pollers")) {
        lines.push(line("pollers", values(metrics, "pollers").into(), palette::LEVEL, 1.5, Some((2.0, 3.0))));
    }
    if any_positive(values(metrics, "async_waiting")) {
        lines.push(line("events waiting", values(metrics, "async_waiting").into(), palette::QUEUE, 2.0, None));
    }
    lines.push(line("environments", values(metrics, "environments").into(), palette::RUNNING, 1.5, Some((5.0, 4.0))));
    lines.push(Line {
        filled: true,
        ..line("running", values(metrics, "concurrency").into(), palette::RUNNING, 2.0, None)
    });
    Spec {
        y_title: "invocations, environments",
        scale: Scale::Linear,
        tick_unit: TickUnit::Number,
        lines,
        empty_message: "no data yet",
        bands: Vec::new(),
    }
}

/// Per-second rates as amounts over the last minute, as a per-minute limit counts them: at
/// each bucket, what its rates add up to over the buckets of the minute ending with it (less
/// than a minute at the start of the run, when nothing came before). Buckets without data
/// count as nothing, and stay without data themselves.
fn over_last_minute(rates_per_s: &[f64], bucket_s: f64) -> Vec<f64> {
    // A whole number of buckets near 60 s; scaled to a minute when that is not exactly one.
    let window = ((60.0 / bucket_s).round() as usize).max(1);
    let to_minute = 60.0 / (window as f64 * bucket_s);
    let amounts: Vec<f64> =
        rates_per_s.iter().map(|&rate| if rate.is_finite() { rate * bucket_s } else { 0.0 }).collect();
    let mut sum = 0.0;
    rates_per_s
        .iter()
        .enumerate()
        .map(|(index, &rate)| {
            sum += amounts[index];
            if index >= window {
                sum -= amounts[index - window];
            }
            // Rounding residue of the running sum would show as a hair above zero.
            let total = if sum.abs() < 1e-9 { 0.0 } else { sum };
            if rate.is_finite() {
                total * to_minute
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// LLM endpoints. One (focused, or the only one): its tokens over the last minute (used:
/// prompts and answers; charged: what its tokens-per-minute limit counted, prompts plus whole
/// output budgets) against its per-minute token limits, drawn as levels. Several: each one's
/// 429s over the last minute.
fn llm_spec<'a>(view: &'a RunView, focus: Option<&str>) -> Spec<'a> {
    let llms: Vec<&NodeSeriesView> = view.report.series.nodes.iter().filter(|node| node.kind == "llm").collect();
    let one = match (focus.and_then(|id| llms.iter().find(|node| node.id == id)), llms.as_slice()) {
        (Some(focused), _) => Some(*focused),
        (None, [only]) => Some(*only),
        (None, _) => None,
    };
    let bucket_s = view.bucket_s();
    let per_minute = |metrics: &Metrics, names: &[&str]| -> Cow<'a, [f64]> {
        // The sum of several rates (input and output tokens), bucket by bucket.
        let mut total = vec![0.0; view.buckets()];
        for name in names {
            for (into, value) in total.iter_mut().zip(values(metrics, name)) {
                *into += value;
            }
        }
        over_last_minute(&total, bucket_s).into()
    };
    let line = |label: &str, values: Cow<'a, [f64]>, colour: Colour, width_css: f64, dash: Option<(f64, f64)>| Line {
        label: label.to_string(),
        colour,
        values,
        width_css,
        dash,
        filled: false,
        unit: Unit::Count,
    };
    let Some(llm) = one else {
        let lines = llms
            .iter()
            .enumerate()
            .map(|(index, node)| {
                line(
                    &node.id,
                    per_minute(&node.metrics, &["rate_limited_per_s"]),
                    shade(palette::THROTTLES, index),
                    2.0,
                    queue_dash(index),
                )
            })
            .collect();
        return Spec {
            y_title: "429s in the last minute",
            scale: Scale::Linear,
            tick_unit: TickUnit::Number,
            lines,
            empty_message: "no LLM endpoints",
            bands: Vec::new(),
        };
    };
    let metrics = &llm.metrics;
    let level = |value: u64| -> Cow<'a, [f64]> { vec![value as f64; view.buckets()].into() };
    let info = view.topology.llm(&llm.id);
    let mut lines = Vec::new();
    if let Some(limit) = info.and_then(|info| info.tokens_per_minute) {
        lines.push(line("limit", level(limit), palette::LEVEL, 1.5, Some((6.0, 4.0))));
        lines.push(line("charged", per_minute(metrics, &["charged_tokens_per_s"]), palette::TOKENS_CHARGED, 2.5, None));
    }
    // Anthropic's separate limits, each against the tokens it counts (an input limit counts
    // prompts; an output limit the budget, settled to the answer's length when it ends).
    if let Some(limit) = info.and_then(|info| info.input_tokens_per_minute) {
        lines.push(line("input limit", level(limit), palette::LEVEL, 1.5, Some((2.0, 3.0))));
        lines.push(line(
            "input",
            per_minute(metrics, &["input_tokens_per_s"]),
            palette::GOODPUT,
            1.5,
            Some((2.0, 3.0)),
        ));
    }
    if let Some(limit) = info.and_then(|info| info.output_tokens_per_minute) {
        lines.push(line("output limit", level(limit), palette::LEVEL, 1.5, Some((12.0, 4.0))));
        lines.push(line(
            "output",
            per_minute(metrics, &["output_tokens_per_s"]),
            palette::GOODPUT,
            1.5,
            Some((12.0, 4.0)),
        ));
    }
    lines.push(Line {
        filled: true,
        ..line("used", per_minute(metrics, &["input_tokens_per_s", "output_tokens_per_s"]), palette::GOODPUT, 2.0, None)
    });
    Spec {
        y_title: "tokens in the last minute",
        scale: Scale::Linear,
        tick_unit: TickUnit::Number,
        lines,
        empty_message: "no data yet",
        bands: Vec::new(),
    }
}

/// Services are told apart by dash pattern as well as shade, so four queues stay readable.
fn queue_dash(index: usize) -> Option<(f64, f64)> {
    match index % 4 {
        0 => None,
        1 => Some((7.0, 4.0)),
        2 => Some((2.0, 3.0)),
        _ => Some((12.0, 4.0)),
    }
}

fn shade(colour: Colour, index: usize) -> Colour {
    let factor = 0.72f64.powi((index / 2).min(3) as i32);
    let dim = |channel: u8| (f64::from(channel) * factor).round() as u8;
    Colour { red: dim(colour.red), green: dim(colour.green), blue: dim(colour.blue) }
}

type Area<DB> = DrawingArea<DB, Shift>;
type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn font(size_css: f64, scale: f64, colour: Colour) -> TextStyle<'static> {
    (FONT_FAMILY, size_css * scale).into_font().color(&colour.plotters())
}

fn draw_spec<DB: DrawingBackend>(
    root: &Area<DB>,
    scale: f64,
    view: &RunView,
    spec: &Spec,
    cursor_s: f64,
) -> DrawResult<(), DB> {
    root.fill(&palette::BACKGROUND.plotters())?;
    let bucket = view.bucket_at(cursor_s);
    let lines: Vec<&Line> = spec.lines.iter().collect();
    let legend_height_px = draw_legend(root, scale, view, &lines, overlay::band_legend(spec), bucket)?;
    let (_, plot_area) = root.split_vertically(legend_height_px);

    let x_end = view.axis_end_s();
    let finite: Vec<f64> = spec
        .lines
        .iter()
        .flat_map(|line| line.values.iter().copied())
        .chain(spec.bands.iter().flat_map(|band| band.low.iter().chain(&band.high).copied()))
        .filter(|value| value.is_finite() && (matches!(spec.scale, Scale::Linear) || *value > 0.0))
        .collect();
    let has_data = !finite.is_empty();
    match spec.scale {
        Scale::Linear => {
            let y_max = finite.iter().copied().fold(0.0, f64::max);
            // Capped so the axis arithmetic stays finite whatever the data.
            let y_high = if y_max > 0.0 { (y_max * 1.08).min(1e15) } else { 1.0 };
            plot(&plot_area, scale, view, spec, cursor_s, x_end, 0.0..y_high, (0.0, y_high), None, has_data)
        }
        Scale::Log => {
            let (low, high) = decade_bounds(&finite);
            let decades = (high / low).log10().round().max(1.0) as usize;
            // One label per decade: plotters adds in-between labels when asked for more.
            plot(
                &plot_area,
                scale,
                view,
                spec,
                cursor_s,
                x_end,
                (low..high).log_scale(),
                (low, high),
                Some(decades + 1),
                has_data,
            )
        }
    }
}

/// Powers of ten around the data, so the log axis is labelled at round numbers.
fn decade_bounds(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    if !(min.is_finite() && max > 0.0) {
        return (1.0, 1000.0);
    }
    let low = 10f64.powf(min.log10().floor().max(-9.0));
    let mut high = 10f64.powf(max.log10().ceil().min(15.0));
    if high <= low {
        high = low * 10.0;
    }
    (low, high)
}

#[allow(clippy::too_many_arguments)]
fn plot<DB: DrawingBackend, Y>(
    area: &Area<DB>,
    scale: f64,
    view: &RunView,
    spec: &Spec,
    cursor_s: f64,
    x_end: f64,
    y_range: Y,
    (y_low, y_high): (f64, f64),
    y_labels: Option<usize>,
    has_data: bool,
) -> DrawResult<(), DB>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let width_css = f64::from(area.dim_in_pixel().0) / scale;
    let height_css = f64::from(area.dim_in_pixel().1) / scale;
    let tick_font = font(11.0, scale, palette::MUTED_TEXT);
    let title_font = font(11.5, scale, palette::TEXT);
    let y_label_area_css = match spec.tick_unit {
        TickUnit::Number => 48.0,
        TickUnit::Milliseconds => 58.0,
    };
    let mut chart = ChartBuilder::on(area)
        .margin_left(4.0 * scale)
        .margin_right(14.0 * scale)
        .margin_top(6.0 * scale)
        .x_label_area_size(36.0 * scale)
        .y_label_area_size(y_label_area_css * scale)
        .build_cartesian_2d(0.0..x_end, y_range)?;

    let x_labels = ((width_css / 70.0) as usize).clamp(2, 12);
    let y_labels = y_labels.unwrap_or(((height_css / 36.0) as usize).clamp(2, 8));
    let tick_unit = spec.tick_unit;
    let y_formatter = move |value: &f64| match tick_unit {
        TickUnit::Number => compact(*value),
        TickUnit::Milliseconds => format(*value, Unit::Milliseconds),
    };
    chart
        .configure_mesh()
        .x_labels(x_labels)
        .y_labels(y_labels)
        .x_label_formatter(&|value| compact(*value))
        .y_label_formatter(&y_formatter)
        .x_desc("time (s)")
        .y_desc(spec.y_title)
        .label_style(tick_font)
        .axis_desc_style(title_font)
        .axis_style(palette::AXIS.plotters().stroke_width(scale.round().max(1.0) as u32))
        .bold_line_style(palette::GRID.plotters().stroke_width(scale.round().max(1.0) as u32))
        .light_line_style(TRANSPARENT)
        .set_tick_mark_size(LabelAreaPosition::Left, (4.0 * scale) as i32)
        .set_tick_mark_size(LabelAreaPosition::Bottom, (4.0 * scale) as i32)
        .draw()?;

    // Fault windows first, under the data.
    for fault in &view.faults {
        let start = fault.start_s.clamp(0.0, x_end);
        let end = fault.end_s.clamp(0.0, x_end);
        if end > start {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(start, y_low), (end, y_high)],
                palette::FAULT.plotters().mix(0.13).filled(),
            )))?;
        }
    }

    let bucket_s = view.bucket_s();
    let buckets = view.buckets();
    for band in &spec.bands {
        let polygons = overlay::band_polygons(band, buckets, bucket_s, matches!(spec.scale, Scale::Log));
        chart.draw_series(
            polygons.into_iter().map(|points| Polygon::new(points, band.colour.plotters().mix(0.25).filled())),
        )?;
    }
    for line in &spec.lines {
        let style = line.colour.plotters().stroke_width((line.width_css * scale).round().max(1.0) as u32);
        for run in finite_runs(&line.values, buckets, matches!(spec.scale, Scale::Log)) {
            // A rate is the average over its bucket: plot it at the bucket's middle.
            let points: Vec<(f64, f64)> =
                run.iter().map(|&(index, value)| ((index as f64 + 0.5) * bucket_s, value)).collect();
            if line.filled {
                let mut polygon = points.clone();
                if let (Some(first), Some(last)) = (points.first(), points.last()) {
                    polygon.push((last.0, y_low));
                    polygon.push((first.0, y_low));
                }
                chart.draw_series(std::iter::once(Polygon::new(polygon, line.colour.plotters().mix(0.18).filled())))?;
            }
            if let Some((dash, gap)) = line.dash {
                let (dash, gap) = ((dash * scale).round().max(1.0) as u32, (gap * scale).round().max(1.0) as u32);
                chart.draw_series(DashedLineSeries::new(points, dash, gap, style))?;
            } else if points.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(
                    points[0],
                    (line.width_css * scale) as u32,
                    style.filled(),
                )))?;
            } else {
                chart.draw_series(LineSeries::new(points, style))?;
            }
        }
    }

    if !has_data {
        let (x, y) = chart.backend_coord(&(x_end / 2.0, y_low));
        let (_, top) = chart.backend_coord(&(x_end / 2.0, y_high));
        let style = font(13.0, scale, palette::MUTED_TEXT).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw_text(spec.empty_message, &style, (x, (y + top) / 2))?;
    }

    // The cursor, clamped into the plot so it stays visible at the ends.
    let cursor = if cursor_s.is_finite() { cursor_s.clamp(0.0, x_end) } else { 0.0 };
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(cursor, y_low), (cursor, y_high)],
        palette::CURSOR.plotters().stroke_width((1.5 * scale).round().max(1.0) as u32),
    )))?;
    area.present()
}

/// Spans of time when a 0/1 series is 1 (a breaker open), shaded across the plot.
struct Band<'a> {
    label: &'static str,
    colour: Colour,
    values: Vec<&'a [f64]>,
}

impl Band<'_> {
    /// Open in a bucket when any of its series is.
    fn open_at(&self, bucket: usize) -> bool {
        self.values.iter().any(|values| values.get(bucket).is_some_and(|&value| value >= 0.5))
    }
}

/// The policies chart of one call edge, service or load balancer: levels on the left axis,
/// what the policies refused or added (per second) on the right one, open breakers shaded.
struct PolicySpec<'a> {
    level_title: &'static str,
    levels: Vec<Line<'a>>,
    rates: Vec<Line<'a>>,
    bands: Vec<Band<'a>>,
    /// Said in the legend when the call or service has no policy to show.
    note: Option<&'static str>,
}

/// What the policies chart shows for `focus`: a call edge's scenario path, or a node id (a
/// client: its call; a service: its admission control and its calls' breakers; a load
/// balancer: its ejected hosts). Without a focus: the first client's call.
fn policies_spec<'a>(view: &'a RunView, focus: Option<&str>) -> PolicySpec<'a> {
    let series = &view.report.series;
    let edge_by_path = focus.and_then(|path| view.topology.edges.iter().position(|edge| edge.path == path));
    let node = focus.and_then(|id| series.nodes.iter().find(|node| node.id == id));
    let first_call_of = |id: &str| {
        (0..series.edges.len())
            .find(|&index| series.edges[index].from == id && !view.edge_info(index).is_some_and(|info| info.fallback))
    };
    let edge = match (edge_by_path, node) {
        (Some(index), _) => Some(index),
        (None, Some(node)) if node.kind == "client" => first_call_of(&node.id),
        (None, Some(_)) => None,
        (None, None) => series.nodes.iter().find(|node| node.kind == "client").and_then(|node| first_call_of(&node.id)),
    };
    let rate = |label: &str, metrics: &'a Metrics, name: &str, colour: Colour| Line {
        label: label.to_string(),
        colour,
        values: values(metrics, name).into(),
        width_css: 2.0,
        dash: None,
        filled: false,
        unit: Unit::PerSecond,
    };
    let level = |label: &str, metrics: &'a Metrics, name: &str| Line {
        label: label.to_string(),
        colour: palette::LEVEL,
        values: values(metrics, name).into(),
        width_css: 2.5,
        dash: None,
        filled: false,
        unit: Unit::Count,
    };
    if let Some(index) = edge {
        let metrics = &series.edges[index].metrics;
        let policies = view.edge_info(index).map(|info| &info.policies);
        let budget = policies.and_then(|policies| policies.budget.as_deref());
        let mut levels = Vec::new();
        if budget.is_some() || values(metrics, "budget_level").iter().any(|value| value.is_finite()) {
            levels.push(level("budget", metrics, "budget_level"));
        }
        let mut rates: Vec<Line> = [
            ("retries", "retries_per_s", palette::ATTEMPTS),
            ("hedges", "hedges_per_s", palette::HEDGES),
            ("short-circuited", "short_circuited_per_s", palette::SHORT_CIRCUITED),
            ("throttled", "throttled_per_s", palette::THROTTLED),
            ("degraded", "degraded_per_s", palette::FALLBACK),
        ]
        .into_iter()
        .filter(|(label, name, _)| *label == "retries" || any_positive(values(metrics, name)))
        .map(|(label, name, colour)| rate(label, metrics, name, colour))
        .collect();
        if let Some(retries) = rates.first_mut() {
            retries.dash = Some((5.0, 4.0));
        }
        let has_breaker = policies.is_some_and(|policies| policies.breaker);
        let bands = if has_breaker || any_positive(values(metrics, "breaker_open")) {
            vec![Band {
                label: "breaker",
                colour: palette::SHORT_CIRCUITED,
                values: vec![values(metrics, "breaker_open")],
            }]
        } else {
            Vec::new()
        };
        let level_title = match budget {
            Some("aws_standard") | Some("grpc") => "budget: tokens left",
            Some("percentage") => "budget: retries allowed",
            Some("envoy") => "budget: retries in flight",
            _ => "budget level",
        };
        // Retries alone (always drawn) are no policy.
        let note = (levels.is_empty() && bands.is_empty() && rates.len() == 1)
            .then_some("no retry budget, breaker or hedging on this call");
        return PolicySpec { level_title, levels, rates, bands, note };
    }
    let Some(node) = node else {
        return PolicySpec { level_title: "", levels: Vec::new(), rates: Vec::new(), bands: Vec::new(), note: None };
    };
    if node.kind == "load_balancer" {
        return PolicySpec {
            level_title: "hosts ejected",
            levels: vec![level("ejected", &node.metrics, "ejected_hosts")],
            rates: Vec::new(),
            bands: Vec::new(),
            note: None,
        };
    }
    let mut levels = Vec::new();
    let limiter = view.topology.service(&node.id).is_some_and(|service| service.limiter.is_some());
    if limiter || any_positive(values(&node.metrics, "concurrency_limit")) {
        levels.push(level("concurrency limit", &node.metrics, "concurrency_limit"));
    }
    let mut rates: Vec<Line> = [
        ("shed", "shed_per_s", palette::SHED),
        ("expired", "expired_per_s", palette::EXPIRED),
        ("cancelled", "cancelled_per_s", palette::CANCELLED),
        ("rejected", "rejected_per_s", palette::REJECTED),
    ]
    .into_iter()
    .filter(|(_, name, _)| any_positive(values(&node.metrics, name)))
    .map(|(label, name, colour)| rate(label, &node.metrics, name, colour))
    .collect();
    if rates.is_empty() {
        rates.push(rate("shed", &node.metrics, "shed_per_s", palette::SHED));
    }
    // The breakers on the service's own calls: open while any of them is.
    let breakers: Vec<&[f64]> = (0..series.edges.len())
        .filter(|&index| series.edges[index].from == node.id)
        .filter(|&index| view.edge_info(index).is_some_and(|info| info.policies.breaker))
        .map(|index| values(&series.edges[index].metrics, "breaker_open"))
        .collect();
    let bands = if breakers.is_empty() {
        Vec::new()
    } else {
        vec![Band { label: "breaker on its calls", colour: palette::SHORT_CIRCUITED, values: breakers }]
    };
    let acted = rates.iter().any(|line| any_positive(&line.values));
    let note = (levels.is_empty() && bands.is_empty() && !acted).then_some("nothing limited or shed on this service");
    PolicySpec { level_title: "concurrency limit", levels, rates, bands, note }
}

/// Largest finite value of some lines, scaled up a little for headroom (1 when there is none).
fn axis_high(lines: &[Line]) -> f64 {
    let max = lines.iter().flat_map(|line| line.values.iter().copied()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    if max > 0.0 {
        (max * 1.08).min(1e15)
    } else {
        1.0
    }
}

/// Runs of points of a line, at the middle of their buckets.
fn line_runs(line: &Line, view: &RunView) -> Vec<Vec<(f64, f64)>> {
    let bucket_s = view.bucket_s();
    finite_runs(&line.values, view.buckets(), false)
        .into_iter()
        .map(|run| run.into_iter().map(|(index, value)| ((index as f64 + 0.5) * bucket_s, value)).collect())
        .collect()
}

fn draw_policies<DB: DrawingBackend>(
    root: &Area<DB>,
    scale: f64,
    view: &RunView,
    spec: &PolicySpec,
    cursor_s: f64,
) -> DrawResult<(), DB> {
    root.fill(&palette::BACKGROUND.plotters())?;
    let bucket = view.bucket_at(cursor_s);
    let lines: Vec<&Line> = spec.levels.iter().chain(&spec.rates).collect();
    let has_data = lines.iter().any(|line| line.values.iter().any(|value| value.is_finite()));
    let mut blocks: Vec<LegendItem> = spec
        .bands
        .iter()
        .map(|band| {
            let state = match bucket {
                Some(bucket) if band.open_at(bucket) => "open",
                Some(_) => "closed",
                None => "",
            };
            LegendItem {
                text: format!("{} {state}", band.label),
                colour: band.colour,
                swatch: Swatch::Block,
                dash: None,
            }
        })
        .collect();
    if let Some(note) = spec.note.filter(|_| has_data) {
        // Said in the legend, clear of the data.
        blocks.push(LegendItem {
            text: format!("· {note}"),
            colour: palette::MUTED_TEXT,
            swatch: Swatch::Note,
            dash: None,
        });
    }
    let legend_height_px = draw_legend(root, scale, view, &lines, blocks, bucket)?;
    let (_, area) = root.split_vertically(legend_height_px);

    // Levels on the left axis and rates on the right; rates alone take the left one.
    let (left, right, left_title): (&[Line], &[Line], &str) = if spec.levels.is_empty() {
        (&spec.rates, &[], "per second")
    } else {
        (&spec.levels, &spec.rates, spec.level_title)
    };
    let x_end = view.axis_end_s();
    let (left_high, right_high) = (axis_high(left), axis_high(right));
    let side_css = 48.0;
    let mut chart = ChartBuilder::on(&area)
        .margin_left(4.0 * scale)
        .margin_right(if right.is_empty() { 14.0 } else { 4.0 } * scale)
        .margin_top(6.0 * scale)
        .x_label_area_size(36.0 * scale)
        .y_label_area_size(side_css * scale)
        .right_y_label_area_size(if right.is_empty() { 0.0 } else { side_css * scale })
        .build_cartesian_2d(0.0..x_end, 0.0..left_high)?
        .set_secondary_coord(0.0..x_end, 0.0..right_high);
    let width_css = f64::from(area.dim_in_pixel().0) / scale;
    let height_css = f64::from(area.dim_in_pixel().1) / scale;
    let x_labels = ((width_css / 70.0) as usize).clamp(2, 12);
    let y_labels = ((height_css / 36.0) as usize).clamp(2, 8);
    let thin = scale.round().max(1.0) as u32;
    chart
        .configure_mesh()
        .x_labels(x_labels)
        .y_labels(y_labels)
        .x_label_formatter(&|value| compact(*value))
        .y_label_formatter(&|value| compact(*value))
        .x_desc("time (s)")
        .y_desc(left_title)
        .label_style(font(11.0, scale, palette::MUTED_TEXT))
        .axis_desc_style(font(11.5, scale, palette::TEXT))
        .axis_style(palette::AXIS.plotters().stroke_width(thin))
        .bold_line_style(palette::GRID.plotters().stroke_width(thin))
        .light_line_style(TRANSPARENT)
        .set_tick_mark_size(LabelAreaPosition::Left, (4.0 * scale) as i32)
        .set_tick_mark_size(LabelAreaPosition::Bottom, (4.0 * scale) as i32)
        .draw()?;
    if !right.is_empty() {
        chart
            .configure_secondary_axes()
            .y_labels(y_labels)
            .y_label_formatter(&|value| compact(*value))
            .y_desc("per second")
            .label_style(font(11.0, scale, palette::MUTED_TEXT))
            .axis_desc_style(font(11.5, scale, palette::TEXT))
            .axis_style(palette::AXIS.plotters().stroke_width(thin))
            .draw()?;
    }

    // Fault windows and open breakers first, under the data.
    for fault in &view.faults {
        let (start, end) = (fault.start_s.clamp(0.0, x_end), fault.end_s.clamp(0.0, x_end));
        if end > start {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(start, 0.0), (end, left_high)],
                palette::FAULT.plotters().mix(0.13).filled(),
            )))?;
        }
    }
    let bucket_s = view.bucket_s();
    for band in &spec.bands {
        let mut start = None;
        for index in 0..=view.buckets() {
            let open = index < view.buckets() && band.open_at(index);
            match (open, start) {
                (true, None) => start = Some(index),
                (false, Some(first)) => {
                    let span = [(first as f64 * bucket_s, 0.0), ((index as f64 * bucket_s).min(x_end), left_high)];
                    chart.draw_series(std::iter::once(Rectangle::new(
                        span,
                        band.colour.plotters().mix(0.22).filled(),
                    )))?;
                    start = None;
                }
                _ => {}
            }
        }
    }
    let stroke = |line: &Line| line.colour.plotters().stroke_width((line.width_css * scale).round().max(1.0) as u32);
    let dashes =
        |(dash, gap): (f64, f64)| ((dash * scale).round().max(1.0) as u32, (gap * scale).round().max(1.0) as u32);
    for line in left {
        for points in line_runs(line, view) {
            match line.dash {
                Some(pattern) => {
                    let (dash, gap) = dashes(pattern);
                    chart.draw_series(DashedLineSeries::new(points, dash, gap, stroke(line)))?;
                }
                None => {
                    chart.draw_series(LineSeries::new(points, stroke(line)))?;
                }
            }
        }
    }
    for line in right {
        for points in line_runs(line, view) {
            match line.dash {
                Some(pattern) => {
                    let (dash, gap) = dashes(pattern);
                    chart.draw_secondary_series(DashedLineSeries::new(points, dash, gap, stroke(line)))?;
                }
                None => {
                    chart.draw_secondary_series(LineSeries::new(points, stroke(line)))?;
                }
            }
        }
    }
    if !has_data {
        let (x, bottom) = chart.backend_coord(&(x_end / 2.0, 0.0));
        let (_, top) = chart.backend_coord(&(x_end / 2.0, left_high));
        let style = font(13.0, scale, palette::MUTED_TEXT).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw_text("no data yet", &style, (x, (bottom + top) / 2))?;
    }
    let cursor = if cursor_s.is_finite() { cursor_s.clamp(0.0, x_end) } else { 0.0 };
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(cursor, 0.0), (cursor, left_high)],
        palette::CURSOR.plotters().stroke_width((1.5 * scale).round().max(1.0) as u32),
    )))?;
    area.present()
}

/// Splits a series into runs of drawable values (finite; positive on a log axis), so a bucket
/// without data is a gap, not a drop to zero.
fn finite_runs(values: &[f64], buckets: usize, positive_only: bool) -> Vec<Vec<(usize, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (index, &value) in values.iter().enumerate().take(buckets) {
        if value.is_finite() && (!positive_only || value > 0.0) {
            current.push((index, value));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// One legend entry: a swatch and a label with the value at the cursor.
struct LegendItem {
    text: String,
    colour: Colour,
    swatch: Swatch,
    dash: Option<(f64, f64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Swatch {
    /// A line (a series), dashed as the series is.
    Line,
    /// A filled block (a shaded span: fault window, open breaker).
    Block,
    /// No swatch: a remark in muted text.
    Note,
}

/// Draws the legend across the top of the chart, wrapping to more rows on narrow canvases.
/// Returns its height in device pixels.
/// `blocks`: shaded spans other than fault windows (a breaker's open spells), listed before them.
fn draw_legend<DB: DrawingBackend>(
    root: &Area<DB>,
    scale: f64,
    view: &RunView,
    lines: &[&Line],
    blocks: Vec<LegendItem>,
    bucket: Option<usize>,
) -> DrawResult<u32, DB> {
    let mut items: Vec<(usize, LegendItem)> = lines
        .iter()
        .map(|line| {
            let value = bucket.map_or(f64::NAN, |bucket| line.values.get(bucket).copied().unwrap_or(f64::NAN));
            // No data at the cursor (no request succeeded there): the label alone.
            let text = if value.is_finite() {
                format!("{} {}", line.label, format(value, line.unit))
            } else {
                line.label.clone()
            };
            (
                line_rank(view, &line.label),
                LegendItem { text, colour: line.colour, swatch: Swatch::Line, dash: line.dash },
            )
        })
        .collect::<Vec<_>>();
    // A stable sort: labels of equal rank (service ids) keep the scenario's order.
    items.sort_by_key(|(rank, _)| *rank);
    let mut items: Vec<LegendItem> = items.into_iter().map(|(_, item)| item).collect();
    items.extend(blocks);
    if !view.faults.is_empty() {
        let text = if view.faults.len() == 1 {
            format!("fault: {}", view.faults[0].label)
        } else {
            "fault windows".to_string()
        };
        items.push(LegendItem { text, colour: palette::FAULT, swatch: Swatch::Block, dash: None });
    }

    let text_style = font(12.0, scale, palette::TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let (width_px, _) = root.dim_in_pixel();
    let padding = 8.0 * scale;
    let swatch = 16.0 * scale;
    let gap = 5.0 * scale;
    let spacing = 14.0 * scale;
    let row_height = 20.0 * scale;
    let (mut x, mut row) = (padding, 0u32);
    let mut placed = Vec::with_capacity(items.len());
    for item in &items {
        let (text_width, _) = root.estimate_text_size(&item.text, &text_style)?;
        let item_width = if item.swatch == Swatch::Note { 0.0 } else { swatch + gap } + f64::from(text_width);
        if x > padding && x + item_width > f64::from(width_px) - padding {
            row += 1;
            x = padding;
        }
        placed.push((x, row));
        x += item_width + spacing;
    }
    for (item, &(x, row)) in items.iter().zip(&placed) {
        let y = padding / 2.0 + row_height * (f64::from(row) + 0.5);
        let (left, middle) = (x as i32, y as i32);
        let right = (x + swatch) as i32;
        let colour = item.colour.plotters();
        if item.swatch == Swatch::Note {
            let style = font(12.0, scale, palette::MUTED_TEXT).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw_text(&item.text, &style, (left, middle))?;
            continue;
        }
        if item.swatch == Swatch::Block {
            let half = (5.0 * scale) as i32;
            root.draw(&Rectangle::new([(left, middle - half), (right, middle + half)], colour.mix(0.3).filled()))?;
        } else if let Some((dash, gap)) = item.dash {
            // The swatch is a little longer for dashes, so the pattern shows.
            let style = colour.stroke_width((2.5 * scale).round() as u32);
            let (dash, gap) = ((dash * scale).max(1.0), (gap * scale).max(1.0));
            let mut start = f64::from(left);
            while start < f64::from(right) {
                let end = (start + dash).min(f64::from(right));
                root.draw(&PathElement::new(vec![(start as i32, middle), (end as i32, middle)], style))?;
                start = end + gap;
            }
        } else {
            root.draw(&PathElement::new(
                vec![(left, middle), (right, middle)],
                colour.stroke_width((3.0 * scale).round() as u32),
            ))?;
        }
        root.draw_text(&item.text, &text_style, ((x + swatch + gap) as i32, middle))?;
    }
    let rows = placed.last().map_or(1, |&(_, row)| row + 1);
    Ok((padding + row_height * f64::from(rows)).ceil() as u32)
}

/// A line's place in the legend: a node's id (one line per service or function) comes after
/// the known labels in the scenario's order, even where it reads like one of them (a function
/// named "provisioned").
fn line_rank(view: &RunView, label: &str) -> usize {
    if view.report.series.nodes.iter().any(|node| node.id == label) {
        usize::MAX
    } else {
        // Compare mode's "A goodput" and "B goodput" sit where "goodput" does, A first.
        legend_rank(label.strip_prefix("A ").or_else(|| label.strip_prefix("B ")).unwrap_or(label))
    }
}

/// Legend order (lines are ordered for drawing; the legend reads best with what the user
/// watches first). Labels not listed (service ids) keep their order after these.
fn legend_rank(label: &str) -> usize {
    const ORDER: [&str; 32] = [
        "offered",
        "attempts",
        "retries",
        "hedges",
        "goodput",
        "degraded",
        "timeouts",
        "errors",
        "rejected",
        "short-circuited",
        "throttled",
        "cold starts",
        "throttles (429)",
        "429s",
        "p50",
        "p99",
        "p99.9",
        "TTFT p50",
        "TTFT p99",
        "used",
        "charged",
        "limit",
        "input",
        "input limit",
        "output",
        "output limit",
        "running",
        "environments",
        "events waiting",
        "pollers",
        "provisioned",
        "reserved",
    ];
    ORDER.iter().position(|known| *known == label).unwrap_or(ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_runs() {
        let values = [1.0, f64::NAN, 2.0, 3.0, f64::NAN];
        let runs = finite_runs(&values, values.len(), false);
        assert_eq!(runs, vec![vec![(0, 1.0)], vec![(2, 2.0), (3, 3.0)]]);
        // On a log axis zero has no place either.
        let runs = finite_runs(&[0.0, 5.0], 2, true);
        assert_eq!(runs, vec![vec![(1, 5.0)]]);
        // Only buckets with data are drawn.
        assert_eq!(finite_runs(&[1.0, 2.0, 3.0], 2, false), vec![vec![(0, 1.0), (1, 2.0)]]);
    }

    fn run_view(json: &str) -> RunView {
        serde_json::from_str(json).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn queue_chart_shows_services_and_queue_nodes() {
        let view = run_view(
            r#"{"report": {"simulated_s": 2, "duration_s": 2, "series": {"bucket_s": 1, "buckets": 2, "system": {},
                 "nodes": [{"id": "c", "kind": "client", "metrics": {}},
                           {"id": "jobs", "kind": "queue", "metrics": {"depth": [4, 9]}},
                           {"id": "worker", "kind": "service", "metrics": {"queue_depth": [1, 0]}}],
                 "edges": []}}}"#,
        );
        let spec = queue_spec(&view, None);
        let lines: Vec<_> = spec.lines.iter().map(|line| (line.label.as_str(), &*line.values)).collect();
        assert_eq!(lines, vec![("jobs", &[4.0, 9.0][..]), ("worker", &[1.0, 0.0][..])]);
        assert_eq!(spec.y_title, "attempts or messages waiting");
    }

    /// Two functions called by one client each; `f` has reserved and provisioned concurrency.
    fn functions_view(extra_nodes: &str) -> RunView {
        run_view(&format!(
            r#"{{"report": {{"simulated_s": 2, "duration_s": 2, "series": {{"bucket_s": 1, "buckets": 2, "system": {{}},
                 "nodes": [{{"id": "c", "kind": "client", "metrics": {{}}}},
                           {{"id": "f", "kind": "function", "metrics": {{"concurrency": [3, 7], "environments": [10, 12],
                             "cold_starts_per_s": [2, 0], "throttles_per_s": [0, 5], "async_waiting": [0, 0]}}}},
                           {{"id": "g", "kind": "function", "metrics": {{"concurrency": [1, 1], "environments": [1, 1]}}}}
                           {extra_nodes}],
                 "edges": [{{"from": "c", "to": "f", "metrics": {{"attempts_per_s": [4, 9], "rejected_per_s": [0, 5]}}}}]}}}},
               "topology": {{"functions": [{{"id": "f", "reserved_concurrency": 20, "provisioned_concurrency": 10}},
                                          {{"id": "g"}}]}}}}"#
        ))
    }

    fn labels_and_values<'a>(spec: &'a Spec) -> Vec<(&'a str, &'a [f64])> {
        spec.lines.iter().map(|line| (line.label.as_str(), &*line.values)).collect()
    }

    #[test]
    fn the_queue_chart_shows_functions_where_they_are_the_work() {
        let view = functions_view("");
        assert_eq!(QueueChart::of(&view, None), QueueChart::Functions, "only functions serve");
        assert_eq!(QueueChart::of(&view, Some("c")), QueueChart::Functions);
        let mixed = functions_view(r#", {"id": "api", "kind": "service", "metrics": {"queue_depth": [0, 1]}}"#);
        assert_eq!(QueueChart::of(&mixed, None), QueueChart::Waiting, "services wait: their queues, as before");
        assert_eq!(QueueChart::of(&mixed, Some("api")), QueueChart::Waiting);
        assert_eq!(QueueChart::of(&mixed, Some("g")), QueueChart::Functions, "a focused function: its capacity");
    }

    #[test]
    fn a_functions_capacity_shows_running_environments_and_its_levels() {
        let view = functions_view("");
        let spec = capacity_spec(&view, Some("f"));
        assert_eq!(
            labels_and_values(&spec),
            vec![
                ("reserved", &[20.0, 20.0][..]),
                ("provisioned", &[10.0, 10.0][..]),
                ("environments", &[10.0, 12.0][..]),
                ("running", &[3.0, 7.0][..]),
            ],
            "no events waiting or pollers: not drawn"
        );
        assert_eq!(spec.lines.iter().filter(|line| line.filled).count(), 1, "running is filled");
        // No focus: each function's invocations running.
        let spec = capacity_spec(&view, None);
        assert_eq!(labels_and_values(&spec), vec![("f", &[3.0, 7.0][..]), ("g", &[1.0, 1.0][..])]);
        assert_eq!(spec.y_title, "invocations running");
        // A function without settings of its own: no levels.
        let labels: Vec<_> = capacity_spec(&view, Some("g")).lines.iter().map(|line| line.label.clone()).collect();
        assert_eq!(labels, ["environments", "running"]);
    }

    #[test]
    fn a_focused_functions_traffic_adds_its_cold_starts_and_throttles() {
        let view = functions_view("");
        let callers = focused_traffic(&view, "f").unwrap_or_default();
        let mut spec = traffic_spec(&callers);
        let plain = labels_and_values(&spec).into_iter().map(|(label, _)| label.to_string()).collect::<Vec<_>>();
        assert!(plain.contains(&"rejected".to_string()), "callers' rejections stay: {plain:?}");
        let Some(function) = node_series(&view, "f", "function") else { panic!("f is a function") };
        add_function_traffic(&mut spec, &function.metrics);
        let lines = labels_and_values(&spec);
        assert!(lines.contains(&("cold starts", &[2.0, 0.0][..])), "{lines:?}");
        assert!(lines.contains(&("throttles (429)", &[0.0, 5.0][..])), "{lines:?}");
        assert_eq!(lines.last().map(|(label, _)| *label), Some("offered"), "offered stays on top");
        assert!(node_series(&view, "c", "function").is_none(), "a client is no function");
    }

    /// A client calling service `api`, which calls LLM endpoints: `m` with a tokens-per-minute
    /// limit of 100, `open` without limits, `split` with input and output limits. Buckets of 30 s.
    fn llms_view() -> RunView {
        run_view(
            r#"{"report": {"simulated_s": 120, "duration_s": 120, "series": {"bucket_s": 30, "buckets": 4, "system": {},
                 "nodes": [{"id": "c", "kind": "client", "metrics": {}},
                           {"id": "api", "kind": "service", "metrics": {"queue_depth": [0, 0, 0, 0]}},
                           {"id": "m", "kind": "llm", "metrics": {"rate_limited_per_s": [0, 1, 2, null],
                             "charged_tokens_per_s": [4, 2, 2, null], "input_tokens_per_s": [1, 1, 1, null],
                             "output_tokens_per_s": [1, 0, 0, null], "ttft_p50_ms": [500, 600, 700, null],
                             "ttft_p99_ms": [900, 950, 990, null]}},
                           {"id": "open", "kind": "llm", "metrics": {"rate_limited_per_s": [0, 0, 0, 0]}},
                           {"id": "split", "kind": "llm", "metrics": {"input_tokens_per_s": [1, 1, 1, 1],
                             "output_tokens_per_s": [2, 2, 2, 2]}}],
                 "edges": [{"from": "c", "to": "api", "metrics": {}},
                           {"from": "api", "to": "m", "metrics": {"attempts_per_s": [1, 2, 3, 4], "rejected_per_s": [0, 1, 2, 2],
                              "latency_p50_ms": [2000, 2100, 2200, 2300]}}]}},
               "topology": {"llms": [{"id": "m", "tokens_per_minute": 100}, {"id": "open"},
                                     {"id": "split", "input_tokens_per_minute": 50, "output_tokens_per_minute": 80}]}}"#,
        )
    }

    #[test]
    fn the_queue_chart_shows_llm_endpoints_unless_a_queue_or_function_is_focused() {
        let view = llms_view();
        assert_eq!(QueueChart::of(&view, None), QueueChart::Llm, "nothing focused: the endpoints");
        assert_eq!(QueueChart::of(&view, Some("c")), QueueChart::Llm, "a client has no chart of its own here");
        assert_eq!(QueueChart::of(&view, Some("m")), QueueChart::Llm);
        assert_eq!(QueueChart::of(&view, Some("api")), QueueChart::Waiting, "a focused service: its queue");
        assert_eq!(QueueChart::Llm.name(), "llm");
        // No endpoint: as before.
        assert_eq!(QueueChart::of(&functions_view(""), Some("c")), QueueChart::Functions);
    }

    #[test]
    fn over_the_last_minute_adds_up_a_minute_of_buckets() {
        // 30 s buckets: each value is this bucket's amount and the one before it.
        assert_eq!(over_last_minute(&[1.0, 2.0, 3.0, 0.0], 30.0), vec![30.0, 90.0, 150.0, 90.0]);
        // A bucket without data stays without, and counts as nothing in the next.
        let values = over_last_minute(&[1.0, f64::NAN, 3.0], 30.0);
        assert!(values[1].is_nan());
        assert_eq!((values[0], values[2]), (30.0, 90.0));
        // Buckets longer than a minute: the bucket's own rate, per minute.
        assert_eq!(over_last_minute(&[2.0], 120.0), vec![120.0]);
    }

    #[test]
    fn a_focused_endpoint_shows_its_tokens_against_its_limit() {
        let view = llms_view();
        let spec = llm_spec(&view, Some("m"));
        let lines = labels_and_values(&spec);
        assert_eq!(lines.iter().map(|(label, _)| *label).collect::<Vec<_>>(), ["limit", "charged", "used"]);
        assert_eq!(&lines[1].1[..3], &[120.0, 180.0, 120.0], "charged over the last minute");
        assert_eq!(&lines[2].1[..3], &[60.0, 90.0, 60.0], "used: prompts and answers");
        assert!(lines[2].1[3].is_nan(), "a bucket without data stays without");
        assert_eq!(spec.y_title, "tokens in the last minute");
        // Without limits: what it used alone.
        let labels: Vec<_> = llm_spec(&view, Some("open")).lines.iter().map(|line| line.label.clone()).collect();
        assert_eq!(labels, ["used"]);
        // Separate input and output limits: each against the tokens it counts.
        let spec = llm_spec(&view, Some("split"));
        let lines = labels_and_values(&spec);
        let labels: Vec<_> = lines.iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["input limit", "input", "output limit", "output", "used"]);
        assert_eq!(
            (lines[0].1[0], lines[1].1[1], lines[2].1[0], lines[3].1[1], lines[4].1[1]),
            (50.0, 60.0, 80.0, 120.0, 180.0)
        );
        // Nothing focused: each endpoint's 429s over the last minute, in scenario order.
        let spec = llm_spec(&view, None);
        let lines = labels_and_values(&spec);
        assert_eq!(lines.iter().map(|(label, _)| *label).collect::<Vec<_>>(), ["m", "open", "split"]);
        assert_eq!(&lines[0].1[..3], &[0.0, 30.0, 90.0]);
        assert_eq!(spec.y_title, "429s in the last minute");
    }

    #[test]
    fn a_focused_endpoints_traffic_and_latency_add_its_429s_and_time_to_first_token() {
        let view = llms_view();
        let Some(llm) = node_series(&view, "m", "llm") else { panic!("m is an LLM endpoint") };
        let callers = focused_traffic(&view, "m").unwrap_or_default();
        let mut spec = traffic_spec(&callers);
        add_llm_traffic(&mut spec, &llm.metrics);
        let lines = labels_and_values(&spec);
        assert!(lines.iter().any(|(label, values)| *label == "429s" && values[..3] == [0.0, 1.0, 2.0]), "{lines:?}");
        assert_eq!(lines.last().map(|(label, _)| *label), Some("offered"), "offered stays on top");

        let answers = focused_latency(&view, "m").cloned().unwrap_or_default();
        let mut spec = latency_spec(&answers);
        add_time_to_first_token(&mut spec, &llm.metrics);
        let labels: Vec<_> = spec.lines.iter().map(|line| line.label.as_str()).collect();
        assert_eq!(labels, ["p99.9", "p99", "p50", "TTFT p99", "TTFT p50"]);
        assert!(spec.lines[3..].iter().all(|line| line.dash.is_some()), "time to first token is dashed");
        let mut legend = labels.clone();
        legend.sort_by_key(|label| legend_rank(label));
        assert_eq!(legend, ["p50", "p99", "p99.9", "TTFT p50", "TTFT p99"]);
    }

    #[test]
    fn node_ids_keep_the_scenarios_order_in_the_legend() {
        let view = functions_view(
            r#", {"id": "provisioned", "kind": "function", "metrics": {"concurrency": [0, 0], "environments": [0, 0]}}"#,
        );
        let mut labels = vec!["f", "g", "provisioned", "running"];
        labels.sort_by_key(|label| line_rank(&view, label));
        assert_eq!(labels, vec!["running", "f", "g", "provisioned"]);
    }

    #[test]
    fn log_axis_spans_whole_decades() {
        assert_eq!(decade_bounds(&[9.0, 49.8, 74.0]), (1.0, 100.0));
        assert_eq!(decade_bounds(&[10.0]), (10.0, 100.0));
        assert_eq!(decade_bounds(&[]), (1.0, 1000.0));
    }

    #[test]
    fn legend_puts_offered_first() {
        let mut labels = vec!["goodput", "offered", "p99", "p50", "p99.9", "db", "api"];
        labels.sort_by_key(|label| legend_rank(label));
        assert_eq!(labels, vec!["offered", "goodput", "p50", "p99", "p99.9", "db", "api"]);
    }
}

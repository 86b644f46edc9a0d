//! The wasm-bindgen exports: what JavaScript may call.
//!
//! Long-lived state stays in wasm behind two handles: [`RunHandle`] (a simulation being stepped, in
//! the worker) and [`Figures`] (a finished or partial run being drawn, on the page). Everything
//! else is a function of plain data. Every JS-provided value is checked; failures are thrown
//! as `Error` objects with an `errors: [{path, kind, message}]` list (see `errors`).

use crate::canvas::Surface;
use crate::charts::{self, Chart, QueueChart};
use crate::compare::{self, Letter, Overlay, SummaryInput};
use crate::errors::{self, to_js};
use crate::format::{self, Unit};
use crate::graph::{self, Layout};
use crate::palette;
use crate::svg::{self, SvgError};
use crate::topology::Topology;
use crate::view::{FaultWindow, RunView};
use serde::Serialize;
use stormglass_core::components::fleet::ScalingModel;
use stormglass_core::csv;
use stormglass_core::dist::{DistModel, Z_P99};
use stormglass_core::presets::{DEFAULT_PRESET, PRESETS};
use stormglass_core::scenario::{
    parse_duration, parse_scenario, parse_scenario_format, FaultEffects, Outage, ValidScenario,
};
use stormglass_core::time::{NS_PER_MS, NS_PER_S};
use stormglass_core::{RunStatus, SimTime, Simulation};
use wasm_bindgen::prelude::*;

/// Runs once when the module is instantiated: panics are logged with their message and
/// location (the page turns the trap that follows into a visible banner).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

#[derive(Serialize)]
struct PresetInfo {
    /// Stable name, as in links and on the command line.
    name: &'static str,
    /// The scenario's own name, for people.
    title: String,
    description: String,
    what_to_try: String,
    json: &'static str,
}

/// The built-in scenarios: `[{name, title, description, what_to_try, json}]`.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsValue> {
    let list: Vec<PresetInfo> = PRESETS
        .iter()
        .map(|preset| {
            // A preset that fails to parse is still listed (by name): choosing it shows its
            // errors like any other scenario, instead of hiding it.
            let scenario = parse_scenario_format(preset.json).ok();
            PresetInfo {
                name: preset.name,
                title: scenario.as_ref().map_or_else(|| preset.name.to_string(), |s| s.name.clone()),
                description: scenario.as_ref().map(|s| s.description.clone()).unwrap_or_default(),
                what_to_try: scenario.as_ref().map(|s| s.what_to_try.clone()).unwrap_or_default(),
                json: preset.json,
            }
        })
        .collect();
    to_js(&list)
}

/// The preset the playground opens on.
#[wasm_bindgen]
pub fn default_preset() -> String {
    DEFAULT_PRESET.to_string()
}

#[derive(Serialize)]
struct Validation<'a> {
    ok: bool,
    errors: &'a [stormglass_core::ScenarioError],
}

/// Checks scenario JSON: `{ok: true, errors: []}` or `{ok: false, errors: [{path, kind, message}]}`.
#[wasm_bindgen]
pub fn validate_scenario(scenario_json: &str) -> Result<JsValue, JsValue> {
    match parse_scenario(scenario_json) {
        Ok(_) => to_js(&Validation { ok: true, errors: &[] }),
        Err(problems) => to_js(&Validation { ok: false, errors: &problems.0 }),
    }
}

/// A duration string of the scenario format ("250ms", "1.5s") in milliseconds, or undefined
/// when it is not one. Lets the page show durations in its controls without its own parser.
#[wasm_bindgen]
pub fn parse_duration_ms(text: &str) -> Option<f64> {
    parse_duration(text).map(|duration| duration.0 as f64 / NS_PER_MS as f64)
}

/// A number for people. `unit`: "per_s" (1.2k/s), "ms" (250 ms), "s" (22 s), "x" (3.0x),
/// "share" (33%), "count" (445k), "usd" ($0.251); anything else formats as a count.
#[wasm_bindgen]
pub fn format_value(value: f64, unit: &str) -> String {
    format::format(value, Unit::from_name(unit).unwrap_or(Unit::Count))
}

/// The palette as `{goodput: "#16a34a", ...}`, for CSS custom properties, so the page's
/// text uses the colours the canvases use.
#[wasm_bindgen(js_name = palette)]
pub fn palette_css() -> Result<JsValue, JsValue> {
    let named: std::collections::BTreeMap<&str, String> =
        palette::NAMED.iter().map(|(name, colour)| (*name, colour.css())).collect();
    to_js(&named)
}

/// What the simulator uses where a function leaves a setting out (AWS's values), so the page
/// can show them as placeholders without knowing them itself.
#[derive(Debug, PartialEq, Serialize)]
struct FunctionDefaults {
    memory_mb: u32,
    timeout_s: f64,
    /// The init phase: a log-normal by its median and 99th percentile.
    init_p50_ms: f64,
    init_p99_ms: f64,
    /// New environments every 10 s (the scaling model since 2023).
    scaling_per_ten_seconds: u32,
    /// The model before 2023: a burst, then so many more a minute.
    legacy_burst: u32,
    legacy_per_minute: u32,
    account_concurrency_limit: u32,
    price: PriceDefaults,
}

#[derive(Debug, PartialEq, Serialize)]
struct PriceDefaults {
    gb_second_usd: f64,
    provisioned_gb_second_usd: f64,
    provisioned_duration_gb_second_usd: f64,
    per_million_requests_usd: f64,
}

/// Read from the simulator itself: two functions that leave everything out (one on the model
/// before 2023) in a scenario that validates, and their models read back.
fn read_function_defaults() -> Result<FunctionDefaults, String> {
    const BARE: &str = r#"{"version": 1, "duration": "1s", "nodes": [
        {"kind": "client", "id": "caller", "rate": 1, "calls": [{"to": "now"}]},
        {"kind": "function", "id": "now", "service_time": {"constant": "1ms"}},
        {"kind": "function", "id": "before", "service_time": {"constant": "1ms"}, "scaling": {"legacy": {}}}]}"#;
    let scenario = parse_scenario(BARE).map_err(|errors| errors.to_string())?;
    let mut functions = scenario.services.iter().filter_map(|service| service.function.as_deref());
    let (Some(now), Some(before)) = (functions.next(), functions.next()) else {
        return Err("the bare functions have no function models".to_string());
    };
    let DistModel::Lognormal { mu, sigma } = now.init_duration else {
        return Err(format!("the default init phase is not a log-normal: {:?}", now.init_duration));
    };
    // Whole nanoseconds, as the format writes durations.
    let ns_to_ms = |ns: f64| ns.round() / NS_PER_MS as f64;
    let ScalingModel::PerFunction { environments_per_10s } = now.fleet.scaling else {
        return Err(format!("the default scaling is not per function: {:?}", now.fleet.scaling));
    };
    let ScalingModel::Legacy { burst, per_minute } = before.fleet.scaling else {
        return Err(format!("the legacy scaling did not read as such: {:?}", before.fleet.scaling));
    };
    Ok(FunctionDefaults {
        memory_mb: now.memory_mb,
        timeout_s: now.timeout.as_secs_f64(),
        init_p50_ms: ns_to_ms(mu.exp()),
        init_p99_ms: ns_to_ms((mu + sigma * Z_P99).exp()),
        scaling_per_ten_seconds: environments_per_10s,
        legacy_burst: burst,
        legacy_per_minute: per_minute,
        account_concurrency_limit: scenario.account_concurrency_limit,
        price: PriceDefaults {
            gb_second_usd: now.price.gb_second_usd,
            provisioned_gb_second_usd: now.price.provisioned_gb_second_usd,
            provisioned_duration_gb_second_usd: now.price.provisioned_duration_gb_second_usd,
            per_million_requests_usd: now.price.per_million_requests_usd,
        },
    })
}

/// A function's default settings: `{memory_mb, timeout_s, init_p50_ms, init_p99_ms,
/// scaling_per_ten_seconds, legacy_burst, legacy_per_minute, account_concurrency_limit,
/// price: {gb_second_usd, provisioned_gb_second_usd, provisioned_duration_gb_second_usd,
/// per_million_requests_usd}}`.
#[wasm_bindgen]
pub fn function_defaults() -> Result<JsValue, JsValue> {
    to_js(&read_function_defaults().map_err(|message| errors::internal(&message))?)
}

/// What the simulator uses where an LLM endpoint leaves a setting out, so the page can show
/// them as placeholders without knowing them itself.
#[derive(Debug, PartialEq, Serialize)]
struct LlmDefaults {
    max_output_tokens: u64,
    /// A prompt cache's settings when it names none of its own.
    prompt_cache: PromptCacheDefaults,
    price: TokenPriceDefaults,
}

#[derive(Debug, PartialEq, Serialize)]
struct PromptCacheDefaults {
    hit_ratio: f64,
    ttl_s: f64,
    cached_share: f64,
}

#[derive(Debug, PartialEq, Serialize)]
struct TokenPriceDefaults {
    input_per_million_usd: f64,
    cached_input_per_million_usd: f64,
    output_per_million_usd: f64,
}

/// Read from the simulator itself: two endpoints that leave everything out (one with an empty
/// prompt cache) in a scenario that validates, and their models read back.
fn read_llm_defaults() -> Result<LlmDefaults, String> {
    const BARE: &str = r#"{"version": 1, "duration": "1s", "nodes": [
        {"kind": "client", "id": "caller", "rate": 1, "calls": [{"to": "bare"}]},
        {"kind": "llm", "id": "bare", "slots": 1, "prompt_tokens": {"constant": 1}, "output_tokens": {"constant": 1}},
        {"kind": "llm", "id": "cached", "slots": 1, "prompt_tokens": {"constant": 1}, "output_tokens": {"constant": 1},
         "prompt_cache": {}}]}"#;
    let scenario = parse_scenario(BARE).map_err(|errors| errors.to_string())?;
    let mut llms = scenario.services.iter().filter_map(|service| service.llm.as_deref());
    let (Some(bare), Some(cached)) = (llms.next(), llms.next()) else {
        return Err("the bare endpoints have no LLM models".to_string());
    };
    let Some(cache) = cached.endpoint.cache else {
        return Err("an empty prompt cache read as no cache".to_string());
    };
    // The price table holds whole micro-dollars per million tokens.
    let usd = |micro_usd: u64| micro_usd as f64 / 1e6;
    Ok(LlmDefaults {
        max_output_tokens: bare.max_output_tokens,
        prompt_cache: PromptCacheDefaults {
            hit_ratio: cache.hit_ratio,
            ttl_s: cache.ttl.as_secs_f64(),
            cached_share: f64::from(cache.cached_prompt_ppm) / 1e6,
        },
        price: TokenPriceDefaults {
            input_per_million_usd: usd(bare.price.input_micro_usd_per_million_tokens),
            cached_input_per_million_usd: usd(bare.price.cached_input_micro_usd_per_million_tokens),
            output_per_million_usd: usd(bare.price.output_micro_usd_per_million_tokens),
        },
    })
}

/// An LLM endpoint's default settings: `{max_output_tokens, prompt_cache: {hit_ratio, ttl_s,
/// cached_share}, price: {input_per_million_usd, cached_input_per_million_usd,
/// output_per_million_usd}}`.
#[wasm_bindgen]
pub fn llm_defaults() -> Result<JsValue, JsValue> {
    to_js(&read_llm_defaults().map_err(|message| errors::internal(&message))?)
}

/// Panics on purpose, for the browser test that checks a panic becomes a visible message
/// rather than a silently dead page. Not used by the playground itself.
#[wasm_bindgen]
pub fn debug_panic(message: &str) {
    panic!("debug_panic called: {message}");
}

fn parse(scenario_json: &str) -> Result<ValidScenario, JsValue> {
    parse_scenario(scenario_json).map_err(|problems| errors::scenario(&problems))
}

fn fault_windows(scenario: &ValidScenario) -> Vec<FaultWindow> {
    scenario
        .faults
        .iter()
        .map(|fault| FaultWindow {
            node: scenario.node_id(fault.node).to_string(),
            start_s: fault.start.as_secs_f64(),
            end_s: fault.end.as_secs_f64(),
            label: fault_label(&fault.effects),
        })
        .collect()
}

/// A short description of a fault's effects, like "slowdown 3x".
fn fault_label(effects: &FaultEffects) -> String {
    let mut parts = Vec::new();
    if effects.slowdown != 1.0 {
        parts.push(format!("slowdown {}x", format::compact(effects.slowdown)));
    }
    if effects.added_latency.0 > 0 {
        parts.push(format!("+{}", format::format(effects.added_latency.as_ms_f64(), Unit::Milliseconds)));
    }
    if effects.error_rate > 0.0 {
        parts.push(format!("errors {}", format::format(effects.error_rate, Unit::Share)));
    }
    match effects.outage {
        Some(Outage::FailFast) => parts.push("outage: fail fast".to_string()),
        Some(Outage::Hang) => parts.push("outage: hang".to_string()),
        None => {}
    }
    if effects.workers_lost > 0 {
        parts.push(format!("{} workers lost", effects.workers_lost));
    }
    if effects.surge != 1.0 {
        parts.push(format!("surge {}x", format::compact(effects.surge)));
    }
    if parts.is_empty() {
        "no effect".to_string()
    } else {
        parts.join(", ")
    }
}

/// A simulation being run, stepped from JavaScript so the worker can report progress and
/// drop a run that a newer request superseded.
#[wasm_bindgen]
pub struct RunHandle {
    simulation: Simulation,
    faults: Vec<FaultWindow>,
    topology: Topology,
}

#[wasm_bindgen]
impl RunHandle {
    /// Parses and validates the scenario; throws a `ScenarioError` (with `errors`) if invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(scenario_json: &str) -> Result<RunHandle, JsValue> {
        let scenario = parse(scenario_json)?;
        Ok(RunHandle {
            faults: fault_windows(&scenario),
            topology: Topology::of(&scenario),
            simulation: Simulation::new(&scenario),
        })
    }

    /// Advances by up to `simulated_s` seconds of simulated time (stopping at the end of the
    /// run or at a run limit). Returns whether the run is over.
    pub fn step(&mut self, simulated_s: f64) -> Result<bool, JsValue> {
        if !(simulated_s.is_finite() && simulated_s > 0.0) {
            return Err(errors::argument("simulated_s", "expected a positive number of seconds"));
        }
        // Saturating float-to-int conversion: a huge step simply runs to the end.
        let step_ns = (simulated_s * NS_PER_S as f64) as u64;
        let target = SimTime(self.simulation.now().0.saturating_add(step_ns.max(1)));
        self.simulation.run_until(target);
        Ok(self.done())
    }

    /// Share of the scenario's simulated time done, from 0 to 1.
    pub fn progress(&self) -> f64 {
        let end = self.simulation.end().0;
        if end == 0 {
            1.0
        } else {
            (self.simulation.now().0 as f64 / end as f64).min(1.0)
        }
    }

    #[wasm_bindgen(getter)]
    pub fn simulated_s(&self) -> f64 {
        self.simulation.now().as_secs_f64()
    }

    #[wasm_bindgen(getter)]
    pub fn duration_s(&self) -> f64 {
        self.simulation.end().as_secs_f64()
    }

    /// True once the run finished or a run limit stopped it.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.simulation.status() != RunStatus::Running
    }

    /// Events processed so far (a float: exact up to 2^53).
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> f64 {
        self.simulation.events_processed() as f64
    }

    /// The run's report so far (partial while running), as a plain object.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.simulation.report())
    }

    /// The scenario's fault windows: `[{node, start_s, end_s, label}]`.
    pub fn faults(&self) -> Result<JsValue, JsValue> {
        to_js(&self.faults)
    }

    /// The scenario's call edges (in the order of the report's `series.edges`) with their
    /// scenario paths and policies, and the load balancers' pools:
    /// `{edges: [{from, to, path, fallback, policies}], balancers: [{id, pool, policy}], services}`.
    pub fn topology(&self) -> Result<JsValue, JsValue> {
        to_js(&self.topology)
    }

    /// Digest of the events processed so far (16 hex digits): equal digests, identical runs.
    pub fn digest(&self) -> String {
        self.simulation.digest_hex()
    }
}

/// Runs a scenario to its end and returns its digest. Throws a `ScenarioError` if invalid.
#[wasm_bindgen]
pub fn run_digest(scenario_json: &str) -> Result<String, JsValue> {
    let mut simulation = Simulation::new(&parse(scenario_json)?);
    simulation.run_to_end();
    Ok(simulation.digest_hex())
}

/// Runs a scenario to its end and returns its report as a plain object.
#[wasm_bindgen]
pub fn run_report(scenario_json: &str) -> Result<JsValue, JsValue> {
    let mut simulation = Simulation::new(&parse(scenario_json)?);
    simulation.run_to_end();
    to_js(&simulation.report())
}

/// A run's results held for drawing: the page builds one per result the worker posts, then
/// redraws charts and graph from it as the time cursor moves.
#[wasm_bindgen]
pub struct Figures {
    view: RunView,
    layout: Layout,
    /// The call edges as drawn last, for `edge_at`.
    edge_lines: Vec<graph::EdgeLine>,
}

#[wasm_bindgen]
impl Figures {
    /// `run`: `{report, faults, topology}` as the worker posts them (from `RunHandle.report()`,
    /// `.faults()` and `.topology()`; topology may be left out). Throws with the offending field
    /// if it is not that shape.
    #[wasm_bindgen(constructor)]
    pub fn new(run: JsValue) -> Result<Figures, JsValue> {
        let view: RunView = serde_wasm_bindgen::from_value(run).map_err(|error| {
            errors::argument("run", &format!("expected {{report, faults, topology}} from the worker: {error}"))
        })?;
        view.check().map_err(|(path, message)| errors::argument(&path, &message))?;
        Ok(Figures { view, layout: Layout::default(), edge_lines: Vec::new() })
    }

    /// Draws a time chart ("traffic", "latency", "queue" or "policies") with the cursor at
    /// `cursor_s`. `focus` (a node id, or undefined for the whole system): the traffic chart
    /// shows that node's traffic (an LLM endpoint's 429s too), the latency chart that node's
    /// latency (an endpoint's time to first token too), the queue chart draws that service
    /// bolder or shows that function's or endpoint's own chart; the policies chart
    /// shows a call (focus: the call's scenario path, like "nodes[0].calls[0]", or a client's
    /// id), a service or a load balancer (its id). A canvas that is not laid out (hidden) is
    /// skipped.
    pub fn draw_chart(&self, name: &str, canvas: JsValue, cursor_s: f64, focus: Option<String>) -> Result<(), JsValue> {
        let chart = Chart::from_name(name)
            .ok_or_else(|| errors::argument("name", "expected \"traffic\", \"latency\", \"queue\" or \"policies\""))?;
        let Some(surface) = Surface::prepare(&canvas).map_err(|message| errors::argument("canvas", &message))? else {
            return Ok(());
        };
        charts::draw(&surface, &self.view, chart, cursor_s, focus.as_deref())
            .map_err(|message| errors::internal(&message))
    }

    /// A time chart as an SVG document (a string starting `<svg`), drawn as `draw_chart` draws
    /// it, `width_css` by `height_css` CSS pixels (each from 200 to 4000). The event graph has
    /// no SVG: it is painted on its canvas directly.
    pub fn chart_svg(
        &self,
        name: &str,
        width_css: f64,
        height_css: f64,
        cursor_s: f64,
        focus: Option<String>,
    ) -> Result<String, JsValue> {
        let chart = Chart::from_name(name)
            .ok_or_else(|| errors::argument("name", "expected \"traffic\", \"latency\", \"queue\" or \"policies\""))?;
        svg::chart_svg(&self.view, chart, width_css, height_css, cursor_s, focus.as_deref()).map_err(
            |error| match error {
                SvgError::Size { field, value } => errors::argument(field, &svg::size_message(value)),
                _ => errors::internal(&error.to_string()),
            },
        )
    }

    /// Compare mode: draws `run` (the other variant, shaped as for the constructor) over this
    /// one on the time charts. `edited`: "A" or "B", the letter of this `Figures`' own run (the
    /// variant being edited, which the graph and the policies chart show). A's lines are solid,
    /// B's dashed in the same colours; a line both draw alike is drawn once.
    pub fn set_variant(&mut self, run: JsValue, edited: &str) -> Result<(), JsValue> {
        let edited = Letter::from_name(edited).ok_or_else(|| errors::argument("edited", "expected \"A\" or \"B\""))?;
        let other = read_run(run, "run")?;
        self.view.overlay = Overlay::Variant { other: Box::new(other), edited };
        Ok(())
    }

    /// Several seeds: `runs` (an array of at most 20 runs shaped as for the constructor, this
    /// one's among them) are drawn as each line's median per bucket inside its 10–90% band.
    pub fn set_seed_runs(&mut self, runs: JsValue) -> Result<(), JsValue> {
        let runs: Vec<JsValue> = js_sys_array(runs, "runs")?;
        compare::check_seed_count(runs.len()).map_err(|message| errors::argument("runs", &message))?;
        let runs = runs
            .into_iter()
            .enumerate()
            .map(|(index, run)| read_run(run, &format!("runs[{index}]")))
            .collect::<Result<Vec<_>, _>>()?;
        self.view.overlay = Overlay::Seeds { runs };
        Ok(())
    }

    /// What the queue chart shows for `focus` (as `draw_chart` takes it): "waiting" (attempts
    /// and messages waiting in services and queues), "functions" (functions' invocations
    /// running and execution environments) or "llm" (an LLM endpoint's tokens in the last
    /// minute against its limits, or each endpoint's 429s), so the page can caption it.
    pub fn queue_chart(&self, focus: Option<String>) -> String {
        QueueChart::of(&self.view, focus.as_deref()).name().to_string()
    }

    /// Draws the event graph at `cursor_s`, outlining the nodes whose ids are in `selected`
    /// (an array of strings).
    pub fn draw_graph(&mut self, canvas: JsValue, cursor_s: f64, selected: JsValue) -> Result<(), JsValue> {
        let selected: Vec<String> = if selected.is_undefined() || selected.is_null() {
            Vec::new()
        } else {
            serde_wasm_bindgen::from_value(selected)
                .map_err(|_| errors::argument("selected", "expected an array of node ids"))?
        };
        let Some(surface) = Surface::prepare(&canvas).map_err(|message| errors::argument("canvas", &message))? else {
            return Ok(());
        };
        let (nodes, links) = (graph::nodes_of(&self.view), graph::links_of(&self.view));
        self.layout = graph::layout(&nodes, &links, surface.width_css, surface.height_css);
        self.edge_lines = graph::call_lines(&self.view, &self.layout);
        graph::draw(&surface, &self.view, &self.layout, cursor_s, &selected)
            .map_err(|message| errors::internal(&message))
    }

    /// The id of the graph node at a point given in CSS pixels from the graph canvas'
    /// top-left corner (as drawn last), or undefined.
    pub fn node_at(&self, x_css: f64, y_css: f64) -> Option<String> {
        if !(x_css.is_finite() && y_css.is_finite()) {
            return None;
        }
        self.layout.node_at(x_css, y_css).map(str::to_string)
    }

    /// The scenario path of the call edge (like "nodes[0].calls[0]", or
    /// "nodes[1].calls[0].fallback.call") drawn nearest a point given in CSS pixels from the
    /// graph canvas' top-left corner (as drawn last), within a few pixels; or undefined. A
    /// point in a node box is that node's, not an edge's.
    pub fn edge_at(&self, x_css: f64, y_css: f64) -> Option<String> {
        if !(x_css.is_finite() && y_css.is_finite()) || self.layout.node_at(x_css, y_css).is_some() {
            return None;
        }
        graph::edge_at(&self.edge_lines, x_css, y_css).map(str::to_string)
    }

    /// The most nodes one column of the event graph holds (a pool of instances, services
    /// called from one layer): the page gives the graph the height they need.
    #[wasm_bindgen(getter)]
    pub fn graph_rows(&self) -> u32 {
        graph::rows_max(&graph::nodes_of(&self.view), &graph::links_of(&self.view)) as u32
    }

    /// Width of one time bucket, in seconds (the cursor's natural step).
    #[wasm_bindgen(getter)]
    pub fn bucket_s(&self) -> f64 {
        self.view.bucket_s()
    }

    /// Simulated time with data, in seconds.
    #[wasm_bindgen(getter)]
    pub fn simulated_s(&self) -> f64 {
        self.view.report.simulated_s
    }

    /// Length of the scenario, in seconds.
    #[wasm_bindgen(getter)]
    pub fn duration_s(&self) -> f64 {
        self.view.axis_end_s()
    }

    /// The run's time series as CSV, with the columns `stormglass run --series` writes.
    pub fn series_csv(&self) -> String {
        let series = &self.view.report.series;
        let mut columns: Vec<(String, &[f64])> = Vec::new();
        for (name, values) in &series.system {
            columns.push((csv::system_column(name), &values.0));
        }
        for node in &series.nodes {
            for (name, values) in &node.metrics {
                columns.push((csv::node_column(&node.id, name), &values.0));
            }
        }
        for edge in &series.edges {
            for (name, values) in &edge.metrics {
                columns.push((csv::edge_column(&edge.from, &edge.to, name), &values.0));
            }
        }
        csv::series_csv(series.bucket_s, series.buckets, &columns)
    }
}

/// A run as the worker posts it, checked, or an error naming `path`.
fn read_run(run: JsValue, path: &str) -> Result<RunView, JsValue> {
    let view: RunView = serde_wasm_bindgen::from_value(run).map_err(|error| {
        errors::argument(path, &format!("expected {{report, faults, topology}} from the worker: {error}"))
    })?;
    view.check().map_err(|(field, message)| errors::argument(&format!("{path}.{field}"), &message))?;
    Ok(view)
}

/// The elements of a JS array, or an error naming `path`.
fn js_sys_array(value: JsValue, path: &str) -> Result<Vec<JsValue>, JsValue> {
    if !js_sys::Array::is_array(&value) {
        return Err(errors::argument(path, "expected an array"));
    }
    Ok(js_sys::Array::from(&value).iter().collect())
}

fn read_summary(report: JsValue, path: &str) -> Result<SummaryInput, JsValue> {
    serde_wasm_bindgen::from_value(report)
        .map_err(|error| errors::argument(path, &format!("expected a run report: {error}")))
}

/// Compare mode's summary: `[{key, label, a, b, delta, better}]` for goodput, success,
/// amplification, p99, wasted work and each fault's verdict, from A's and B's reports.
/// `delta` is B − A, signed, with its unit (shares in percentage points); `better` is "a",
/// "b" or "same".
#[wasm_bindgen]
pub fn compare_reports(report_a: JsValue, report_b: JsValue) -> Result<JsValue, JsValue> {
    let (a, b) = (read_summary(report_a, "report_a")?, read_summary(report_b, "report_b")?);
    to_js(&compare::compare(&a, &b))
}

/// Several seeds' summary: `[{key, label, median, range}]` over the reports (at most 20):
/// the headline numbers' median and 10–90% range, and per fault how many runs recovered.
#[wasm_bindgen]
pub fn seed_summary(reports: JsValue) -> Result<JsValue, JsValue> {
    let reports = js_sys_array(reports, "reports")?;
    compare::check_seed_count(reports.len()).map_err(|message| errors::argument("reports", &message))?;
    let inputs = reports
        .into_iter()
        .enumerate()
        .map(|(index, report)| read_summary(report, &format!("reports[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    to_js(&compare::seed_summary(&inputs))
}

/// Events a multi-seed request may simulate in all: one default run's worth, so asking for
/// more seeds never asks for more work than one run may do. The page refuses a seed count
/// whose last run's events times the count exceed it.
#[wasm_bindgen]
pub fn seed_events_max() -> f64 {
    stormglass_core::limits::EVENTS_MAX_DEFAULT as f64
}

/// Most seeds one request may run.
#[wasm_bindgen]
pub fn seeds_max() -> u32 {
    crate::spread::SEEDS_MAX as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use stormglass_core::SimDuration;

    #[test]
    fn fault_labels_name_every_effect() {
        let mut effects = FaultEffects::NONE;
        assert_eq!(fault_label(&effects), "no effect");
        effects.slowdown = 3.0;
        assert_eq!(fault_label(&effects), "slowdown 3x");
        effects.added_latency = SimDuration(50 * NS_PER_MS);
        effects.outage = Some(Outage::Hang);
        effects.workers_lost = 4;
        assert_eq!(fault_label(&effects), "slowdown 3x, +50 ms, outage: hang, 4 workers lost");
    }

    #[test]
    fn function_defaults_are_the_simulators() {
        let defaults = read_function_defaults().unwrap_or_else(|message| panic!("{message}"));
        // AWS's published values, as POLICIES.md lists them.
        assert_eq!((defaults.memory_mb, defaults.timeout_s), (128, 3.0));
        assert_eq!((defaults.init_p50_ms, defaults.init_p99_ms), (250.0, 1000.0));
        assert_eq!(defaults.scaling_per_ten_seconds, 1000);
        assert_eq!((defaults.legacy_burst, defaults.legacy_per_minute), (3000, 500));
        assert_eq!(defaults.account_concurrency_limit, 1000);
        assert_eq!(defaults.price.per_million_requests_usd, 0.20);
        assert_eq!(defaults.price.gb_second_usd, 0.000_016_666_7);
    }

    #[test]
    fn llm_defaults_are_the_simulators() {
        let defaults = read_llm_defaults().unwrap_or_else(|message| panic!("{message}"));
        assert_eq!(defaults.max_output_tokens, 1024);
        // PriceTable::EXAMPLE_MID_SIZE_2025 and PromptCacheConfig::ANTHROPIC_DEFAULT.
        let price = &defaults.price;
        assert_eq!(
            (price.input_per_million_usd, price.cached_input_per_million_usd, price.output_per_million_usd),
            (3.0, 0.3, 15.0)
        );
        assert_eq!((defaults.prompt_cache.hit_ratio, defaults.prompt_cache.ttl_s), (1.0, 300.0));
        assert_eq!(defaults.prompt_cache.cached_share, 0.9);
    }

    #[test]
    fn every_preset_has_windows_for_its_faults() {
        for preset in PRESETS {
            let scenario = parse_scenario(preset.json).unwrap_or_else(|e| panic!("{}: {e}", preset.name));
            assert_eq!(fault_windows(&scenario).len(), scenario.faults.len());
        }
    }
}

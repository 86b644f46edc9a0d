//! `stormglass bench`: attempts simulated per wall-clock second on the retry-storm model
//! without its fault, for 600 simulated seconds, healthy (800/s) and collapsed (950/s).

use std::time::Instant;
use stormglass_core::scenario::parse_scenario;
use stormglass_core::Simulation;

/// The benchmark scenarios, shared with the wasm benchmark (scripts/bench-wasm.mjs).
pub const BENCH_SCENARIOS: [(&str, &str); 2] = [
    ("healthy-800", include_str!("../../core/presets/bench/healthy-800.json")),
    ("collapsed-950", include_str!("../../core/presets/bench/collapsed-950.json")),
];

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn command_bench(args: &[String]) -> Result<(), String> {
    let mut repeat = 5;
    let mut only: Option<String> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => {
                let text = args.next().ok_or("--repeat needs a value")?;
                repeat = text.parse().map_err(|_| format!("--repeat: expected a count, got {text:?}"))?;
                if repeat == 0 {
                    return Err("--repeat: expected at least 1".into());
                }
            }
            "--only" => only = Some(args.next().ok_or("--only needs a scenario name")?.clone()),
            other => return Err(format!("bench: unexpected argument {other:?}")),
        }
    }
    say!(
        "{:<14} {:>10} {:>12} {:>14} {:>16} {:>12}",
        "scenario",
        "attempts",
        "events",
        "median wall s",
        "attempts/s",
        "max queue"
    );
    for (name, json) in BENCH_SCENARIOS {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let model = parse_scenario(json).map_err(|e| format!("{name}: {e}"))?;
        let mut seconds = Vec::new();
        let mut last = None;
        for _ in 0..repeat {
            let started = Instant::now();
            let mut simulation = Simulation::new(&model);
            simulation.run_to_end();
            seconds.push(started.elapsed().as_secs_f64());
            last = Some(simulation);
        }
        let simulation = last.ok_or("no run")?;
        let report = simulation.report();
        let wall_s = median(&mut seconds);
        let attempts = simulation.totals().attempts;
        let max_queue = report
            .nodes
            .iter()
            .filter_map(|node| match node.detail {
                stormglass_core::report::NodeDetail::Service { max_queue_length, .. } => Some(max_queue_length),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        say!(
            "{:<14} {:>10} {:>12} {:>14.3} {:>16.0} {:>12}",
            name,
            attempts,
            report.events,
            wall_s,
            attempts as f64 / wall_s,
            max_queue
        );
        if let Some(reason) = report.stop_reason {
            say!("  note: {reason}");
        }
    }
    if let Some(kib) = peak_rss_kib() {
        say!("peak resident memory of this process: {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(())
}

//! Integration tests of the simulation core, in one binary (one link step, shared helpers).

mod chains;
mod conservation;
mod determinism;
mod fidelity;
mod functions;
mod limits;
mod links;
mod llm;
mod policies;
mod presets;
mod properties;
mod queues;
mod scenario_errors;
mod semantics;
mod tidy;

use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use stormglass_core::report::{NodeDetail, RunReport};
use stormglass_core::scenario::parse_scenario;
use stormglass_core::Simulation;

/// The system allocator, counting the bytes each thread holds so a test can bound what one
/// call allocates (links.rs: a "zip bomb" link must not allocate past the inflate bound).
/// Per thread, because tests run in parallel.
struct CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

thread_local! {
    // Const-initialised cells have no destructor and never allocate: safe inside an allocator.
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
    static PEAK_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn record_allocation(delta_bytes: isize) {
    let _ = LIVE_BYTES.try_with(|live| {
        let now = live.get() + delta_bytes;
        live.set(now);
        let _ = PEAK_BYTES.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the counting touches no memory of
// the allocation.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            record_allocation(layout.size() as isize);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            record_allocation(layout.size() as isize);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        record_allocation(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_pointer = unsafe { System.realloc(pointer, layout, new_size) };
        if !new_pointer.is_null() {
            // Counted as a copy (old and new both held for a moment): an upper bound.
            record_allocation(new_size as isize);
            record_allocation(-(layout.size() as isize));
        }
        new_pointer
    }
}

/// Runs `f` and returns its result with the most bytes this thread held at once during it,
/// beyond what it held before.
pub fn peak_allocated_bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE_BYTES.with(Cell::get);
    PEAK_BYTES.with(|peak| peak.set(start));
    let result = f();
    let peak = PEAK_BYTES.with(Cell::get);
    (result, usize::try_from(peak - start).unwrap_or(0))
}

/// Runs scenario JSON to its end.
pub fn run(scenario: &Value) -> RunReport {
    let model = parse_scenario(&scenario.to_string()).unwrap_or_else(|errors| panic!("invalid scenario: {errors}"));
    let mut simulation = Simulation::new(&model);
    simulation.run_to_end();
    simulation.report()
}

/// One client calling one service: the shape most tests need. `call` and `service` are
/// merged over the defaults (800/s; 10 workers, exponential 10 ms).
pub fn client_service(duration: &str, rate: f64, call: Value, service: Value) -> Value {
    let mut call_object = json!({ "to": "api" });
    merge(&mut call_object, call);
    let mut service_object = json!({
        "kind": "service", "id": "api", "workers": 10,
        "service_time": { "exponential": { "mean": "10ms" } }
    });
    merge(&mut service_object, service);
    json!({
        "version": 1, "name": "test", "seed": 1, "duration": duration,
        "nodes": [
            { "kind": "client", "id": "clients", "rate": rate, "calls": [call_object] },
            service_object
        ]
    })
}

pub fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        for (key, value) in from {
            into.insert(key, value);
        }
    }
}

/// The service summary of node `id`.
pub struct ServiceSummary {
    pub arrivals: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    pub dropped: u64,
    pub shed: u64,
    pub cancelled: u64,
    pub queued_at_end: u32,
    pub in_service_at_end: u32,
    pub utilization: f64,
    pub mean_wait_ms: f64,
    pub mean_queue_length: f64,
}

pub fn service(report: &RunReport, id: &str) -> ServiceSummary {
    let node = report.nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no node {id}"));
    match node.detail {
        NodeDetail::Service {
            arrivals,
            completed,
            failed,
            rejected,
            dropped,
            shed,
            cancelled,
            queued_at_end,
            in_service_at_end,
            utilization,
            mean_wait_ms,
            mean_queue_length,
            ..
        } => ServiceSummary {
            arrivals,
            completed,
            failed,
            rejected,
            dropped,
            shed,
            cancelled,
            queued_at_end,
            in_service_at_end,
            utilization,
            mean_wait_ms,
            mean_queue_length,
        },
        _ => panic!("{id} is not a service"),
    }
}

/// The presets and test scenarios under tests/golden/, by file name.
pub fn golden_scenarios() -> Vec<(String, String)> {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden");
    let mut files: Vec<(String, String)> = std::fs::read_dir(directory)
        .expect("tests/golden exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?.to_string();
            (name.ends_with(".json") && name != "digests.json")
                .then(|| (name, std::fs::read_to_string(&path).expect("readable")))
        })
        .collect();
    files.sort();
    for preset in stormglass_core::presets::PRESETS {
        files.push((format!("preset:{}", preset.name), preset.json.to_string()));
    }
    files
}

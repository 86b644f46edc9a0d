//! A run is a pure function of (scenario, seed).
//!
//! tests/golden/digests.json holds the event-trace digest of every golden scenario and preset.
//! This test checks the native build against it; tests/wasm/determinism.test.mjs checks the
//! wasm build against the same file, so native and wasm agree bit for bit. After an intended
//! change of the model, regenerate with `UPDATE_GOLDEN=1 cargo test -p stormglass-core golden`.

use crate::{client_service, golden_scenarios, run};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use stormglass_core::scenario::parse_scenario;
use stormglass_core::time::{SimTime, NS_PER_MS};
use stormglass_core::Simulation;

const DIGESTS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/digests.json");

fn digest_of(json: &str) -> String {
    let model = parse_scenario(json).expect("valid golden scenario");
    let mut simulation = Simulation::new(&model);
    simulation.run_to_end();
    simulation.digest_hex()
}

#[test]
fn golden_digests_match() {
    let actual: BTreeMap<String, String> =
        golden_scenarios().into_iter().map(|(name, json)| (name, digest_of(&json))).collect();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(DIGESTS_PATH, text).expect("write digests");
        return;
    }
    let expected: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(DIGESTS_PATH).expect("tests/golden/digests.json"))
            .expect("digests JSON");
    assert_eq!(
        actual, expected,
        "event digests changed. If the model change is intended, run UPDATE_GOLDEN=1 cargo test -p stormglass-core golden"
    );
}

#[test]
fn same_seed_same_digest_other_seed_other_digest() {
    let preset = stormglass_core::presets::find("retry-storm").unwrap().json;
    assert_eq!(digest_of(preset), digest_of(preset));
    let mut other: Value = serde_json::from_str(preset).unwrap();
    other["seed"] = json!(43);
    assert_ne!(digest_of(preset), digest_of(&other.to_string()));
}

/// Stepping a run in slices (as the page and progress reports do) must not change it.
#[test]
fn stepping_in_slices_equals_running_to_the_end() {
    let preset = stormglass_core::presets::find("retry-storm").unwrap().json;
    let model = parse_scenario(preset).unwrap();
    let mut whole = Simulation::new(&model);
    whole.run_to_end();
    let mut sliced = Simulation::new(&model);
    let mut t_ms = 0;
    while sliced.status() == stormglass_core::RunStatus::Running {
        t_ms += 7_919; // a prime, so slices fall anywhere inside buckets
        sliced.run_until(SimTime(t_ms * NS_PER_MS));
    }
    assert_eq!(sliced.digest_hex(), whole.digest_hex());
    let (a, b) = (sliced.report(), whole.report());
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
}

/// Common random numbers: each node and edge has its own stream, so changing one edge's
/// policy leaves the arrivals of every client, and the service times of other services, as
/// they were.
#[test]
fn changing_one_edge_policy_does_not_reshuffle_other_streams() {
    let two_pairs = |retries: u32| {
        let mut scenario =
            client_service("60s", 900.0, json!({ "timeout": "50ms", "retry": { "max_attempts": retries } }), json!({}));
        let nodes = scenario["nodes"].as_array_mut().unwrap();
        nodes.push(json!({ "kind": "client", "id": "other-clients", "rate": 500, "calls": [{ "to": "other" }] }));
        nodes.push(json!({ "kind": "service", "id": "other", "workers": 10, "service_time": { "exponential": { "mean": "10ms" } } }));
        run(&scenario)
    };
    let (one, four) = (two_pairs(1), two_pairs(4));
    assert_ne!(one.digest, four.digest);
    let series = |report: &stormglass_core::RunReport, node: &str, metric: &str| -> Vec<f64> {
        report.series.nodes.iter().find(|n| n.id == node).unwrap().metrics[metric].clone()
    };
    // The client whose retries changed still gets exactly the same new requests...
    assert_eq!(series(&one, "clients", "offered_per_s"), series(&four, "clients", "offered_per_s"));
    // ...and the other pair is untouched.
    assert_eq!(series(&one, "other", "throughput_per_s"), series(&four, "other", "throughput_per_s"));
    assert_eq!(series(&one, "other", "queue_depth"), series(&four, "other", "queue_depth"));
}

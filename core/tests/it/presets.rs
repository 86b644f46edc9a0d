//! Every preset does what its description and "what to try" say.

use crate::run;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn preset(name: &str) -> Value {
    serde_json::from_str(stormglass_core::presets::find(name).expect("preset exists").json).unwrap()
}

/// Verdict name per faulted node.
fn verdicts(scenario: &Value) -> BTreeMap<String, String> {
    run(scenario)
        .verdicts
        .iter()
        .map(|v| (v.node.clone(), serde_json::to_value(v).unwrap()["verdict"].as_str().unwrap().to_string()))
        .collect()
}

fn expect(scenario: &Value, expected: &[(&str, &str)]) {
    let got = verdicts(scenario);
    let expected: BTreeMap<String, String> = expected.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    assert_eq!(got, expected);
}

#[test]
fn every_preset_is_valid_and_explains_itself() {
    for preset in stormglass_core::presets::PRESETS {
        let scenario = preset.load().unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        let text = &scenario.scenario;
        assert!(!text.name.is_empty() && text.description.len() > 80 && text.what_to_try.len() > 40, "{}", preset.name);
        assert!(!scenario.faults.is_empty(), "{} shows a fault", preset.name);
    }
    assert!(stormglass_core::presets::find(stormglass_core::presets::DEFAULT_PRESET).is_some());
}

#[test]
fn healthy_70_absorbs_its_fault_until_the_slowdown_grows() {
    let mut scenario = preset("healthy-70");
    expect(&scenario, &[("api", "recovered")]);
    scenario["faults"][0]["slowdown"] = json!(2.0);
    expect(&scenario, &[("api", "metastable")]);
    scenario["nodes"][0]["calls"][0]["retry"]["max_attempts"] = json!(1);
    expect(&scenario, &[("api", "recovered")]);
}

#[test]
fn fifo_tips_over_where_lifo_does_not() {
    let mut scenario = preset("fifo-vs-lifo");
    expect(&scenario, &[("fifo-clients", "metastable"), ("lifo-clients", "recovered")]);
    let lifo = run(&scenario);
    let success = |id: &str| {
        let node = lifo.nodes.iter().find(|n| n.id == id).unwrap();
        let value = serde_json::to_value(node).unwrap();
        value["succeeded"].as_f64().unwrap() / value["requests"].as_f64().unwrap()
    };
    assert!(success("lifo-clients") > 0.9 && success("fifo-clients") < 0.5);
    scenario["nodes"][0]["calls"][0]["retry"]["max_attempts"] = json!(1);
    expect(&scenario, &[("fifo-clients", "recovered"), ("lifo-clients", "recovered")]);
}

#[test]
fn jitter_kinds_decide_who_climbs_out_after_a_crash() {
    let mut scenario = preset("jitter-compared");
    expect(
        &scenario,
        &[
            ("api-none", "metastable"),
            ("api-full", "recovered"),
            ("api-equal", "recovered"),
            ("api-decorrelated", "metastable"),
        ],
    );
    scenario["nodes"][4]["rate"] = json!(800);
    assert_eq!(scenario["nodes"][4]["id"], "equal-jitter");
    assert_eq!(verdicts(&scenario)["api-equal"], "metastable");
    let mut scenario = preset("jitter-compared");
    for node in scenario["nodes"].as_array_mut().unwrap() {
        if node["kind"] == "client" {
            node["calls"][0]["retry"]["max_attempts"] = json!(3);
        }
    }
    assert!(verdicts(&scenario).values().all(|v| v == "recovered"));
}

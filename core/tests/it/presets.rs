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
        let report = run(&serde_json::from_str(preset.json).unwrap());
        assert_eq!(report.status, "finished", "{} runs to its end", preset.name);
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

/// Client summaries by id: (requests, attempts, succeeded, latency max, p50, p99 in ms).
fn clients(report: &stormglass_core::RunReport) -> BTreeMap<String, (f64, f64, f64, f64, f64, f64)> {
    report
        .nodes
        .iter()
        .filter(|n| n.kind == "client")
        .map(|n| {
            let v = serde_json::to_value(n).unwrap();
            let latency = |q: &str| v["latency_ms"][q].as_f64().unwrap_or(f64::NAN);
            let count = |f: &str| v[f].as_f64().unwrap();
            (
                n.id.clone(),
                (
                    count("requests"),
                    count("attempts"),
                    count("succeeded"),
                    latency("max"),
                    latency("p50"),
                    latency("p99"),
                ),
            )
        })
        .collect()
}

fn service_arrivals(report: &stormglass_core::RunReport, id: &str) -> f64 {
    let node = report.nodes.iter().find(|n| n.id == id).unwrap();
    serde_json::to_value(node).unwrap()["arrivals"].as_f64().unwrap()
}

/// The AWS Architecture Blog's 2015 comparison, on its own setup: writers contending on one
/// optimistic-concurrency row. Its findings, checked over five seeds: no backoff makes the
/// most calls; exponential backoff without jitter is "the clear loser" of the backoffs (more
/// calls, and far more time, than any jittered kind); equal jitter takes longer than full.
#[test]
fn backoff_contention_reproduces_the_2015_jitter_study() {
    let mut calls: BTreeMap<String, f64> = BTreeMap::new();
    let mut finish_ms: BTreeMap<String, f64> = BTreeMap::new();
    for seed in 1..=5 {
        let mut scenario = preset("backoff-contention");
        scenario["seed"] = json!(seed);
        for (id, (requests, attempts, succeeded, max_ms, _, _)) in clients(&run(&scenario)) {
            assert_eq!(succeeded, requests, "{id}: every writer gets its write in");
            let kind = id.trim_end_matches("-writers").to_string();
            *calls.entry(kind.clone()).or_default() += attempts / 5.0;
            *finish_ms.entry(kind).or_default() += max_ms / 5.0;
        }
    }
    let (none, exponential, full, equal, decorrelated) =
        (calls["no-backoff"], calls["exponential"], calls["full"], calls["equal"], calls["decorrelated"]);
    assert!(none > exponential && exponential > 1.15 * full.max(equal).max(decorrelated), "{calls:?}");
    assert!(
        finish_ms["exponential"] > 5.0 * finish_ms["full"].max(finish_ms["equal"]).max(finish_ms["decorrelated"]),
        "{finish_ms:?}"
    );
    assert!(finish_ms["equal"] > finish_ms["full"], "{finish_ms:?}");
}

/// Plain retries under a failure rate x follow the closed forms (N = 3 retries, x = 0.5):
/// success 1 - x^4, attempts per request (1 - x^4) / (1 - x). The budget and the breaker cut
/// the load.
#[test]
fn budget_vs_breaker_plain_retries_match_the_closed_forms() {
    let report = run(&preset("budget-vs-breaker"));
    let edge = |from: &str| report.series.edges.iter().find(|e| e.from == from).unwrap().metrics.clone();
    // During the fault (buckets 65..115, away from its edges).
    let mean =
        |metrics: &stormglass_core::report::Metrics, name: &str| metrics[name][65..115].iter().sum::<f64>() / 50.0;
    let plain = edge("plain-clients");
    let (offered, attempts, goodput) =
        (mean(&plain, "offered_per_s"), mean(&plain, "attempts_per_s"), mean(&plain, "goodput_per_s"));
    let x: f64 = 0.5;
    let success = 1.0 - x.powi(4);
    let load = success / (1.0 - x);
    assert!((goodput / offered - success).abs() < 0.02, "success {}", goodput / offered);
    assert!((attempts / offered - load).abs() < 0.05, "load {}", attempts / offered);
    let budget = edge("budget-clients");
    let breaker = edge("breaker-clients");
    assert!(mean(&budget, "attempts_per_s") / mean(&budget, "offered_per_s") < 1.2, "the quota runs dry");
    assert!(mean(&breaker, "attempts_per_s") / mean(&breaker, "offered_per_s") < 1.0, "the breaker fails fast");
}

/// 3 attempts at each of 5 layers: 3^5 = 243 attempts at the bottom per request during the
/// fault; retrying at one layer only: 3.
#[test]
fn layered_retries_multiply_to_243_and_retrying_once_cures_it() {
    let faulted = |scenario: &Value| {
        let report = run(scenario);
        let bottom = report.series.nodes.iter().find(|n| n.id == "layer-5").unwrap().metrics["arrivals_per_s"].clone();
        let offered = report.series.system["offered_per_s"].clone();
        // Seconds 22..38 of the 20..40 s fault.
        bottom[22..38].iter().sum::<f64>() / offered[22..38].iter().sum::<f64>()
    };
    let mut scenario = preset("layered-retries");
    let stacked = faulted(&scenario);
    assert!((stacked - 243.0).abs() < 243.0 * 0.03, "{stacked}");
    for node in scenario["nodes"].as_array_mut().unwrap() {
        if node["kind"] == "service" {
            if let Some(calls) = node.get_mut("calls") {
                calls[0]["retry"]["max_attempts"] = json!(1);
            }
        }
    }
    let once = faulted(&scenario);
    assert!((once - 3.0).abs() < 0.1, "{once}");
}

#[test]
fn adaptive_lifo_with_controlled_delay_keeps_serving_where_fifo_collapses() {
    let scenario = preset("lifo-controlled-delay");
    expect(&scenario, &[("fifo-clients", "metastable"), ("adaptive-clients", "recovered")]);
    let clients = clients(&run(&scenario));
    let (fifo, adaptive) = (&clients["fifo-clients"], &clients["adaptive-clients"]);
    assert!(adaptive.2 / adaptive.0 > 0.85 && fifo.2 / fifo.0 < 0.3, "{fifo:?} {adaptive:?}");
}

/// The Tail at Scale: 63% of plain fan-outs wait for a slow leaf; hedging brings the median
/// back to the fast leaves for about 1% more leaf calls.
#[test]
fn hedging_cuts_the_fan_out_tail() {
    let report = run(&preset("hedged-fanout"));
    let clients = clients(&report);
    assert!(clients["plain-clients"].4 > 400.0, "median waits for a slow leaf");
    assert!(clients["hedged-clients"].4 < 50.0, "hedged median: {:?}", clients["hedged-clients"]);
    let leaf_calls = service_arrivals(&report, "leaves");
    let requests = clients["plain-clients"].0 + clients["hedged-clients"].0;
    let extra = leaf_calls / (100.0 * requests) - 1.0;
    assert!(extra > 0.0 && extra < 0.05, "hedges cost {extra} extra leaf calls");
}

#[test]
fn least_outstanding_and_two_choices_avoid_the_slow_instance() {
    let report = run(&preset("load-balancing"));
    let share = |pool: &str| {
        let slow = service_arrivals(&report, &format!("{pool}-0"));
        let all: f64 = (0..5).map(|i| service_arrivals(&report, &format!("{pool}-{i}"))).sum();
        slow / all
    };
    assert!((share("rr") - 0.2).abs() < 0.01, "round robin sends it a fifth");
    assert!(share("lor") < 0.12 && share("p2c") < 0.15, "lor {} p2c {}", share("lor"), share("p2c"));
    let clients = clients(&report);
    assert!(clients["rr-clients"].5 > 1.3 * clients["lor-clients"].5, "round robin's tail is longer");
}

fn node(report: &stormglass_core::RunReport, id: &str) -> Value {
    serde_json::to_value(report.nodes.iter().find(|n| n.id == id).unwrap()).unwrap()
}

#[test]
fn poison_drains_with_a_redrive_policy_and_clogs_without() {
    let report = run(&preset("poison-dlq"));
    let redrive = node(&report, "redrive-queue");
    let stuck = node(&report, "no-redrive-queue");
    assert!(redrive["visible_at_end"].as_f64().unwrap() < 50.0);
    assert!(redrive["dead_lettered"].as_f64().unwrap() > 500.0);
    assert!(stuck["visible_at_end"].as_f64().unwrap() > 1000.0);
    // Turning partial batch failures off redoes healthy messages.
    let mut scenario = preset("poison-dlq");
    scenario["nodes"][2]["consumes"]["partial_batch_failures"] = json!(false);
    let whole = run(&scenario);
    assert!(node(&whole, "redrive-workers")["duplicate_effects"].as_f64().unwrap() > 1000.0);
}

#[test]
fn short_visibility_duplicates_and_idempotency_prevents() {
    let mut scenario = preset("visibility-duplicates");
    let report = run(&scenario);
    assert!(node(&report, "plain-workers")["duplicate_effects"].as_f64().unwrap() > 300.0);
    assert_eq!(node(&report, "keyed-workers")["duplicate_effects"].as_f64().unwrap(), 0.0);
    assert!(node(&report, "keyed-workers")["deduplicated"].as_f64().unwrap() > 300.0);
    scenario["nodes"][1]["visibility_timeout"] = json!("10s");
    let report = run(&scenario);
    assert_eq!(node(&report, "plain-jobs")["redeliveries"].as_f64().unwrap(), 0.0);
}

#[test]
fn a_burst_starts_cold_on_demand_and_is_throttled_by_the_old_scaling_model() {
    let scenario = preset("function-burst");
    let report = run(&scenario);
    let field = |id: &str, name: &str| node(&report, id)[name].as_f64().unwrap();
    // On demand: an environment per invocation running at the peak, each started cold.
    assert!(field("on-demand", "cold_starts") > 900.0);
    // Provisioned: no cold start up to the 1000 kept ready, nothing throttled or failed.
    assert!(field("provisioned", "cold_starts") < 50.0);
    assert_eq!(field("provisioned", "throttled"), 0.0);
    assert_eq!(field("provisioned-callers", "failed"), 0.0);
    // ... and it costs more: the environments are paid for while they wait.
    assert!(field("provisioned", "cost_usd") > 1.3 * field("on-demand", "cost_usd"));
    // The pre-2023 model grows 500 at once, then 500 a minute: most of the burst is throttled,
    // and a fifth of its requests fail after their three attempts.
    assert!(field("pre-2023", "throttled") > 20.0 * field("on-demand", "throttled"));
    assert!(field("pre-2023-callers", "failed") > 0.2 * field("pre-2023-callers", "requests"));
    assert!(field("on-demand-callers", "failed") < 0.02 * field("on-demand-callers", "requests"));
    // The burst's first second: cold starts put the on-demand tail above the provisioned one.
    let p99 = |id: &str| report.series.nodes.iter().find(|n| n.id == id).unwrap().metrics["latency_p99_ms"][30];
    assert!(p99("on-demand-callers") > p99("provisioned-callers") + 300.0);
}

#[test]
fn an_llm_limit_punishes_naive_retries_and_a_fallback_answers_everyone() {
    let report = run(&preset("llm-rate-limit"));
    let field = |id: &str, name: &str| node(&report, id)[name].as_f64().unwrap();
    // The limit is the limit: the primary models answer about as many either way.
    let answered = |id: &str| field(id, "completed");
    assert!((answered("naive-model") - answered("retry-after-model")).abs() < 20.0);
    // Naive retries: several attempts per answer, many requests failed.
    assert!(field("naive-model", "arrivals") > 5.0 * answered("naive-model"));
    assert!(field("naive-users", "failed") > 0.4 * field("naive-users", "requests"));
    // Honouring retry-after: fewer attempts and failures, longer waits.
    assert!(field("retry-after-model", "arrivals") < 0.85 * field("naive-model", "arrivals"));
    assert!(field("retry-after-users", "failed") < 0.75 * field("naive-users", "failed"));
    let p50 = |id: &str| node(&report, id)["latency_ms"]["p50"].as_f64().unwrap();
    assert!(p50("retry-after-users") > p50("naive-users"));
    // The fallback answers everyone; the small model's answers are cheaper.
    assert_eq!(field("fallback-users", "failed"), 0.0);
    assert!(field("fallback-users", "succeeded") > 1.5 * field("naive-users", "succeeded"));
    let cost_per_answer = |models: &[&str], users: &str| {
        models.iter().map(|m| field(m, "cost_usd")).sum::<f64>() / field(users, "succeeded")
    };
    assert!(
        cost_per_answer(&["fallback-model", "small-model"], "fallback-users")
            < 0.75 * cost_per_answer(&["naive-model"], "naive-users")
    );
}

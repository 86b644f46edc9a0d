//! Bad scenarios give typed errors that name the field and say what was expected.

use serde_json::{json, Value};
use stormglass_core::scenario::{parse_scenario, ScenarioErrorKind};

fn preset() -> Value {
    serde_json::from_str(stormglass_core::presets::find("retry-storm").unwrap().json).unwrap()
}

/// Applies `edit` to the retry-storm preset and expects an error at `path` of `kind` whose
/// message contains `fragment`.
fn check(edit: impl FnOnce(&mut Value), path: &str, kind: ScenarioErrorKind, fragment: &str) {
    let mut scenario = preset();
    edit(&mut scenario);
    check_text(&scenario.to_string(), path, kind, fragment);
}

fn check_text(text: &str, path: &str, kind: ScenarioErrorKind, fragment: &str) {
    let errors = match parse_scenario(text) {
        Ok(_) => panic!("expected an error at {path:?}"),
        Err(errors) => errors,
    };
    let found =
        errors.0.iter().find(|e| e.path == path).unwrap_or_else(|| panic!("no error at {path:?}; got: {errors}"));
    assert_eq!(found.kind, kind, "{found}");
    assert!(found.message.contains(fragment), "message {:?} lacks {fragment:?}", found.message);
}

#[test]
fn syntax_and_size() {
    check_text("{ \"version\": 1,\n  \"nodes\": [ }", "", ScenarioErrorKind::Syntax, "line 2, column");
    check_text("", "", ScenarioErrorKind::Syntax, "not valid JSON");
    check_text("[1, 2]", "", ScenarioErrorKind::Shape, "expected a JSON object");
    let huge = format!("{{\"version\": 1, \"name\": \"{}\"}}", "x".repeat(2 << 20));
    check_text(&huge, "", ScenarioErrorKind::TooLarge, "at most 1048576 bytes");
}

#[test]
fn versions() {
    check(
        |s| {
            s.as_object_mut().unwrap().remove("version");
        },
        "version",
        ScenarioErrorKind::Version,
        "missing",
    );
    check(|s| s["version"] = json!(2), "version", ScenarioErrorKind::Version, "newer than this build reads");
    check(|s| s["version"] = json!("one"), "version", ScenarioErrorKind::Version, "expected a format version");
}

#[test]
fn shapes_name_the_field() {
    use ScenarioErrorKind::Shape;
    check(
        |s| s["nodes"][0]["calls"][0]["timeout"] = json!("fast"),
        "nodes[0].calls[0].timeout",
        Shape,
        "expected a duration like \"250ms\"",
    );
    check(
        |s| s["nodes"][0]["calls"][0]["timeout"] = json!(100),
        "nodes[0].calls[0].timeout",
        Shape,
        "expected a duration",
    );
    check(
        |s| {
            let call = s["nodes"][0]["calls"][0].as_object_mut().unwrap();
            let t = call.remove("timeout").unwrap();
            call.insert("timout".into(), t);
        },
        "nodes[0].calls[0].timout",
        Shape,
        "unknown field `timout`, expected one of `to`, `count`, `deadline`, `network_delay`, `timeout`, `retry`",
    );
    check(|s| s["nodes"][1]["kind"] = json!("servce"), "nodes[1].kind", Shape, "unknown variant `servce`");
    check(
        |s| {
            s["nodes"][1].as_object_mut().unwrap().remove("kind");
        },
        "nodes[1].kind",
        Shape,
        "missing",
    );
    check(|s| s["nodes"] = json!({}), "nodes", Shape, "expected an array of nodes, got an object");
    check(|s| s["nodes"][1]["queue"]["capacity"] = json!("ten"), "nodes[1].queue.capacity", Shape, "\"ten\"");
    check(|s| s["nodes"][1]["workers"] = json!(-3), "nodes[1].workers", Shape, "-3");
    check(
        |s| s["nodes"][0]["calls"][0]["retry"]["jitter"] = json!("lots"),
        "nodes[0].calls[0].retry.jitter",
        Shape,
        "unknown variant `lots`",
    );
    check(|s| s["duration"] = json!("5 parsecs"), "duration", Shape, "5 parsecs");
}

#[test]
fn values_name_the_field() {
    use ScenarioErrorKind::*;
    check(|s| s["nodes"][0]["rate"] = json!(-5), "nodes[0].rate", Invalid, "expected a number from 0");
    check(|s| s["nodes"][1]["workers"] = json!(0), "nodes[1].workers", Invalid, "expected 1 to");
    check(
        |s| s["nodes"][0]["calls"][0]["retry"]["max_attempts"] = json!(0),
        "nodes[0].calls[0].retry.max_attempts",
        Invalid,
        "the first one included",
    );
    check(
        |s| {
            s["nodes"][0]["calls"][0]["retry"] =
                json!({ "max_attempts": 3, "backoff": "none", "jitter": "decorrelated" })
        },
        "nodes[0].calls[0].retry.jitter",
        Invalid,
        "exponential backoff",
    );
    check(
        |s| s["nodes"][0]["calls"][0]["retry"]["backoff"] = json!({ "exponential": { "base": "1s", "cap": "10ms" } }),
        "nodes[0].calls[0].retry.backoff.exponential.cap",
        Invalid,
        "at least base (1s)",
    );
}

#[test]
fn references_and_kinds() {
    use ScenarioErrorKind::*;
    check(
        |s| s["nodes"][0]["calls"][0]["to"] = json!("apu"),
        "nodes[0].calls[0].to",
        UnknownReference,
        "(api, clients), got \"apu\"",
    );
    check(
        |s| s["nodes"][0]["calls"][0]["to"] = json!("clients"),
        "nodes[0].calls[0].to",
        UnknownReference,
        "\"clients\" is a client",
    );
    check(|s| s["nodes"][1]["id"] = json!("clients"), "nodes[1].id", Duplicate, "unique");
    check(|s| s["faults"][0]["node"] = json!("db"), "faults[0].node", UnknownReference, "got \"db\"");
    check(|s| s["faults"][0]["surge"] = json!(2.0), "faults[0].surge", Invalid, "kind \"client\"");
    check(|s| s["faults"][0]["end"] = json!("90s"), "faults[0].end", Invalid, "after start (100s)");
    check(
        |s| {
            s["faults"][0].as_object_mut().unwrap().remove("slowdown");
        },
        "faults[0]",
        Invalid,
        "at least one effect",
    );
    check(|s| s["nodes"][0]["calls"] = json!([]), "nodes[0].calls", Invalid, "exactly one call");
}

#[test]
fn limits() {
    use ScenarioErrorKind::*;
    check(|s| s["seed"] = json!(1u64 << 60), "seed", Invalid, "9007199254740991");
    check(|s| s["duration"] = json!("48h"), "duration", Invalid, "expected a duration from 1ms to 86400s");
    check(|s| s["metrics"] = json!({ "bucket": "1ms" }), "metrics.bucket", OverLimit, "at most 10000 buckets");
    check(|s| s["limits"] = json!({ "events_max": 0 }), "limits.events_max", OverLimit, "expected 1 to");
    check(
        |s| {
            s["nodes"] = Value::Array((0..70).map(|i| json!({ "kind": "service", "id": format!("s{i}"), "workers": 1, "service_time": { "constant": "1ms" } })).collect())
        },
        "nodes",
        OverLimit,
        "1 to 64 nodes",
    );
    check(
        |s| s["nodes"][1]["service_time"] = json!({ "mixture": [{ "weight": 1, "dist": { "mixture": [] } }] }),
        "nodes[1].service_time.mixture[0].dist.mixture",
        Invalid,
        "cannot contain a mixture",
    );
    check(
        |s| s["nodes"][1]["service_time"] = json!({ "lognormal": { "p50": "20ms", "p99": "10ms" } }),
        "nodes[1].service_time.lognormal.p99",
        Invalid,
        "at least p50 (20ms)",
    );
}

/// Validation reports every value error at once, not just the first.
#[test]
fn all_value_errors_are_reported_together() {
    let mut scenario = preset();
    scenario["nodes"][0]["rate"] = json!(-1);
    scenario["nodes"][1]["workers"] = json!(0);
    scenario["faults"][0]["slowdown"] = json!(0);
    let errors = parse_scenario(&scenario.to_string()).unwrap_err();
    let paths: Vec<&str> = errors.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["nodes[0].rate", "nodes[1].workers", "faults[0].slowdown"]);
}

#[test]
fn function_errors_name_the_field() {
    use ScenarioErrorKind::{Invalid, Shape, UnknownReference};
    // The retry storm's service "api" (nodes[1]) turned into a function.
    let function = |s: &mut Value, extra: Value| {
        let mut node = json!({ "kind": "function", "id": "api", "service_time": { "constant": "10ms" } });
        crate::merge(&mut node, extra);
        s["nodes"][1] = node;
    };
    check(|s| function(s, json!({ "memory_mb": 64 })), "nodes[1].memory_mb", Invalid, "expected 128 to 10240 MB");
    check(
        |s| function(s, json!({ "timeout": "20m" })),
        "nodes[1].timeout",
        Invalid,
        "expected a duration from 1s to 900s",
    );
    check(
        |s| function(s, json!({ "reserved_concurrency": 5, "provisioned_concurrency": 6 })),
        "nodes[1].provisioned_concurrency",
        Invalid,
        "at most the reserved concurrency (5)",
    );
    check(
        |s| function(s, json!({ "reserved_concurrency": 2000 })),
        "nodes[1].reserved_concurrency",
        Invalid,
        "the account's concurrency limit (1000)",
    );
    check(
        |s| function(s, json!({ "asynchronous": { "max_retries": 1 } })),
        "nodes[1].asynchronous",
        Invalid,
        "expected only with \"invocation\": \"async\"",
    );
    check(
        |s| function(s, json!({ "invocation": "async", "asynchronous": { "max_retries": 3 } })),
        "nodes[1].asynchronous.max_retries",
        Invalid,
        "expected 0 to 2 retries",
    );
    check(
        |s| function(s, json!({ "invocation": "async", "asynchronous": { "max_event_age": "7h" } })),
        "nodes[1].asynchronous.max_event_age",
        Invalid,
        "expected a duration from 60s to 21600s",
    );
    check(
        |s| function(s, json!({ "invocation": "async", "asynchronous": { "on_failure": "clients" } })),
        "nodes[1].asynchronous.on_failure",
        UnknownReference,
        "expected the id of a queue",
    );
    check(
        |s| function(s, json!({ "scaling": { "legacy": { "burst": 0 } } })),
        "nodes[1].scaling.legacy.burst",
        Invalid,
        "expected 1 to",
    );
    check(|s| function(s, json!({ "scaling": "fast" })), "nodes[1].scaling", Shape, "unknown variant");
    check(
        |s| function(s, json!({ "consumes": { "queue": "api" } })),
        "nodes[1].consumes.queue",
        UnknownReference,
        "expected the id of a queue",
    );
    check(
        |s| {
            function(s, json!({}));
            s["faults"] = json!([{ "node": "api", "start": "1s", "end": "2s", "workers_lost": 1 }]);
        },
        "faults[0].workers_lost",
        Invalid,
        "expected a node of kind \"service\"",
    );
    check(|s| s["account"] = json!({ "concurrency_limit": 0 }), "account.concurrency_limit", Invalid, "expected 1 to");
    // A load balancer's pool holds services, not functions.
    check(
        |s| {
            function(s, json!({}));
            s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "load_balancer", "id": "lb", "pool": ["api"] }));
        },
        "nodes[2].pool[0]",
        UnknownReference,
        "\"api\" is a function",
    );
}

#[test]
fn llm_errors_name_the_field() {
    use ScenarioErrorKind::{Invalid, Shape, UnknownReference};
    // The retry storm's service "api" (nodes[1]) turned into an LLM endpoint.
    let llm = |s: &mut Value, extra: Value| {
        let mut node = json!({ "kind": "llm", "id": "api", "slots": 8,
            "prompt_tokens": { "constant": 1000 }, "output_tokens": { "constant": 200 } });
        crate::merge(&mut node, extra);
        s["nodes"][1] = node;
    };
    check(|s| llm(s, json!({ "slots": 0 })), "nodes[1].slots", Invalid, "expected 1 to");
    check(
        |s| llm(s, json!({ "prompt_tokens": { "constant": 0 } })),
        "nodes[1].prompt_tokens.constant",
        Invalid,
        "tokens, got 0",
    );
    check(
        |s| llm(s, json!({ "output_tokens": { "lognormal": { "p50": 500, "p99": 100 } } })),
        "nodes[1].output_tokens.lognormal.p99",
        Invalid,
        "expected at least p50 (500)",
    );
    check(|s| llm(s, json!({ "prompt_tokens": { "many": 3 } })), "nodes[1].prompt_tokens", Shape, "unknown variant");
    check(|s| llm(s, json!({ "max_output_tokens": 0 })), "nodes[1].max_output_tokens", Invalid, "expected 1 to");
    check(
        |s| llm(s, json!({ "rate_limits": { "tokens_per_minute": 0 } })),
        "nodes[1].rate_limits.tokens_per_minute",
        Invalid,
        "omit it for no limit",
    );
    check(
        |s| llm(s, json!({ "latency": { "time_per_output_token": "slow" } })),
        "nodes[1].latency.time_per_output_token",
        Shape,
        "expected a duration",
    );
    check(
        |s| llm(s, json!({ "prompt_cache": { "hit_ratio": 1.5 } })),
        "nodes[1].prompt_cache.hit_ratio",
        Invalid,
        "expected a probability",
    );
    check(
        |s| llm(s, json!({ "prompt_cache": { "prefixes": 0 } })),
        "nodes[1].prompt_cache.prefixes",
        Invalid,
        "prefixes, got 0",
    );
    check(
        |s| llm(s, json!({ "cold_load": { "load_time": "30s", "scale_to_zero_after": "10ms" } })),
        "nodes[1].cold_load.scale_to_zero_after",
        Invalid,
        "expected a duration from 1s",
    );
    check(
        |s| llm(s, json!({ "price": { "output_per_million_usd": -1 } })),
        "nodes[1].price.output_per_million_usd",
        Invalid,
        "expected",
    );
    check(|s| llm(s, json!({ "error_rate": 2 })), "nodes[1].error_rate", Invalid, "expected a probability");
    // An endpoint only answers: it makes no calls, and a load balancer's pool holds services.
    check(|s| llm(s, json!({ "calls": [{ "to": "api" }] })), "nodes[1].calls", Shape, "unknown field");
    check(
        |s| {
            llm(s, json!({}));
            s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "load_balancer", "id": "lb", "pool": ["api"] }));
        },
        "nodes[2].pool[0]",
        UnknownReference,
        "\"api\" is an LLM endpoint",
    );
}

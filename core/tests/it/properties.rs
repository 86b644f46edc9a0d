//! Property tests: random scenarios never panic, always conserve requests and attempts, and
//! run the same twice; random corruptions of a scenario give errors, never panics.

use crate::conservation::assert_conserved;
use crate::run;
use proptest::prelude::*;
use serde_json::{json, Value};
use stormglass_core::scenario::parse_scenario;
use stormglass_core::Simulation;

fn duration_ms(low: u64, high: u64) -> impl Strategy<Value = String> {
    (low..=high).prop_map(|ms| format!("{ms}ms"))
}

fn dist() -> impl Strategy<Value = Value> {
    prop_oneof![
        duration_ms(0, 30).prop_map(|d| json!({ "constant": d })),
        duration_ms(1, 30).prop_map(|d| json!({ "exponential": { "mean": d } })),
        (1u64..20, 1u64..10).prop_map(
            |(p50, factor)| json!({ "lognormal": { "p50": format!("{p50}ms"), "p99": format!("{}ms", p50 * factor) } })
        ),
        (0u64..10, 0u64..20).prop_map(
            |(min, extra)| json!({ "uniform": { "min": format!("{min}ms"), "max": format!("{}ms", min + extra) } })
        ),
        (1u64..10, 20u64..200, 0.5f64..0.99).prop_map(|(fast, slow, weight)| json!({ "mixture": [
            { "weight": weight, "dist": { "constant": format!("{fast}ms") } },
            { "weight": 1.0 - weight, "dist": { "exponential": { "mean": format!("{slow}ms") } } }
        ] })),
    ]
}

/// Client-side policies merged into a call: budget, throttle, breaker, hedging (instead of
/// retries), fallback, cancellation.
fn call_policies(services: usize) -> impl Strategy<Value = Value> {
    let budget = prop_oneof![
        Just(Value::Null),
        Just(json!({ "aws_standard": { "capacity": 50 } })),
        Just(json!({ "grpc": {} })),
        Just(json!({ "percentage": { "ratio": 0.1, "window": "2s" } })),
        Just(json!({ "envoy": {} })),
    ];
    let breaker = prop_oneof![
        Just(Value::Null),
        Just(json!("hystrix")),
        Just(json!({ "consecutive_failures": { "threshold": 3, "open_for": "500ms" } })),
        Just(
            json!({ "failure_rate": { "window_calls": 20, "min_calls": 10, "open_for": "1s", "half_open_trials": 3 } })
        ),
        Just(json!({ "failure_rate": { "window": "2s", "min_calls": 5 } })),
    ];
    let fallback = prop_oneof![
        Just(Value::Null),
        Just(json!("degraded")),
        (0..services).prop_map(|s| json!({ "call": { "to": format!("s{s}"), "timeout": "50ms" } }))
    ];
    (
        budget,
        any::<bool>(),
        breaker,
        proptest::option::of((duration_ms(1, 40), 2u32..4, any::<bool>())),
        fallback,
        any::<bool>(),
    )
        .prop_map(|(budget, throttle, breaker, hedge, fallback, cancel)| {
            let mut policies = json!({});
            if !budget.is_null() {
                policies["budget"] = budget;
            }
            if throttle {
                policies["throttle"] = json!({ "window": "5s" });
            }
            if !breaker.is_null() {
                policies["breaker"] = breaker;
            }
            if let Some((delay, max_attempts, cancel_losers)) = hedge {
                policies["hedge"] =
                    json!({ "delay": delay, "max_attempts": max_attempts, "cancel_losers": cancel_losers && cancel });
            }
            if !fallback.is_null() {
                policies["fallback"] = fallback;
            }
            if cancel {
                policies["cancel_on_give_up"] = json!(true);
            }
            policies
        })
}

/// Server-side policies merged into a service.
fn service_policies() -> impl Strategy<Value = Value> {
    let limit = prop_oneof![
        Just(Value::Null),
        (1u32..30).prop_map(|limit| json!({ "static": { "limit": limit } })),
        Just(json!({ "aimd": { "timeout": "50ms" } })),
        Just(json!({ "vegas": {} })),
        Just(json!({ "gradient2": { "max": 50 } })),
        Just(json!({ "envoy_gradient": {} })),
    ];
    let discipline = prop_oneof![Just("fifo"), Just("lifo"), Just("adaptive_lifo"), Just("priority")];
    let management = prop_oneof![Just("none"), Just("codel"), Just("controlled_delay")];
    (
        limit,
        proptest::option::of(10.0f64..2000.0),
        proptest::option::of(0u32..50),
        discipline,
        management,
        proptest::option::of(proptest::option::of(duration_ms(0, 500))),
    )
        .prop_map(|(limit, rate_limit, shed_above, discipline, management, pushback)| {
            let mut admission = json!({});
            if !limit.is_null() {
                admission["concurrency_limit"] = limit;
            }
            if let Some(rate) = rate_limit {
                admission["rate_limit"] = json!({ "rate_per_s": rate });
            }
            if let Some(above) = shed_above {
                admission["shed_sheddable_above"] = json!(above);
            }
            let mut policies =
                json!({ "admission": admission, "queue": { "discipline": discipline, "management": management } });
            if let Some(pushback) = pushback {
                policies["pushback"] = match pushback {
                    Some(after) => json!({ "retry_after": after }),
                    None => json!({}),
                };
            }
            policies
        })
}

fn retry() -> impl Strategy<Value = Value> {
    let backoff = prop_oneof![
        Just(json!("none")),
        duration_ms(0, 50).prop_map(|d| json!({ "constant": d })),
        (1u64..20, 20u64..500).prop_map(
            |(base, cap)| json!({ "exponential": { "base": format!("{base}ms"), "cap": format!("{cap}ms") } })
        ),
    ];
    (1u32..5, backoff, prop_oneof![Just("none"), Just("full"), Just("equal"), Just("decorrelated")]).prop_map(
        |(max_attempts, backoff, jitter)| {
            let exponential = backoff.get("exponential").is_some();
            let jitter = if jitter == "decorrelated" && !exponential { "full" } else { jitter };
            json!({ "max_attempts": max_attempts, "backoff": backoff, "jitter": jitter })
        },
    )
}

prop_compose! {
    fn client(index: usize, services: usize)(
        rate in 0.0f64..3000.0,
        users in proptest::option::of(1u32..100),
        think in proptest::option::of(duration_ms(1, 30).prop_map(|d| json!({ "exponential": { "mean": d } }))),
        deadline in proptest::option::of(duration_ms(1, 500)),
        constant in any::<bool>(),
        target in 0..services,
        timeout in proptest::option::of(duration_ms(1, 300)),
        delay in proptest::option::of(dist()),
        retry in proptest::option::of(retry()),
        change in proptest::option::of((1u64..10, 0.0f64..3000.0)),
        policies in call_policies(services),
        criticality in prop_oneof![Just("critical_plus"), Just("critical"), Just("sheddable_plus"), Just("sheddable")],
        route in 0u8..6,
    ) -> Value {
        let to = match route { 1 => "lb".to_string(), 2 => "q".to_string(), 3 => "f".to_string(), 4 => "m".to_string(), _ => format!("s{target}") };
        let mut call = json!({ "to": to });
        crate::merge(&mut call, policies);
        if call.get("hedge").is_some() && retry.is_some() { call.as_object_mut().unwrap().remove("hedge"); }
        if let Some(timeout) = timeout { call["timeout"] = json!(timeout); }
        if let Some(delay) = delay { call["network_delay"] = delay; }
        if let Some(retry) = retry { call["retry"] = retry; }
        if let Some(deadline) = deadline { call["deadline"] = json!({ "total": deadline }); }
        match users {
            // Closed loop.
            Some(users) => {
                // A think time that can be zero with instant services would stall time (a
                // case the limits test covers); here users always think a little.
                let think = think.unwrap_or_else(|| json!({ "exponential": { "mean": "10ms" } }));
                let think = if think.get("exponential").is_some() { think } else { json!({ "exponential": { "mean": "5ms" } }) };
                json!({ "kind": "client", "id": format!("c{index}"), "users": users, "think_time": think,
                        "criticality": criticality, "calls": [call] })
            }
            None => {
                let mut node = json!({ "kind": "client", "id": format!("c{index}"), "rate": rate, "criticality": criticality,
                    "arrivals": if constant { "constant" } else { "poisson" }, "calls": [call] });
                if let Some((at_s, rate)) = change { node["rate_changes"] = json!([{ "at": format!("{at_s}s"), "rate": rate }]); }
                node
            }
        }
    }
}

prop_compose! {
    /// Service `index` of `services`; it may call services with a higher index (so calls
    /// never form a cycle).
    fn service(index: usize, services: usize)(
        workers in 1u32..20,
        capacity in proptest::option::of(0u32..100),
        lifo in any::<bool>(),
        service_time in dist(),
        error_rate in prop_oneof![Just(0.0), 0.0f64..0.5],
        calls in proptest::collection::vec((0usize..8, 1u32..4, proptest::option::of(duration_ms(1, 300)), proptest::option::of(retry()), any::<bool>()), 0..3),
        parallel in any::<bool>(),
        complete_on in 0u32..3,
        drop_expired in any::<bool>(),
        policies in proptest::option::of(service_policies()),
        call_budget in proptest::option::of(prop_oneof![Just(json!({ "grpc": {} })), Just(json!({ "aws_standard": {} }))]),
        call_breaker in any::<bool>(),
        cancel in any::<bool>(),
    ) -> Value {
        let mut queue = json!({ "discipline": if lifo { "lifo" } else { "fifo" } });
        if let Some(capacity) = capacity { queue["capacity"] = json!(capacity); }
        let mut node = json!({ "kind": "service", "id": format!("s{index}"), "workers": workers, "queue": queue,
            "service_time": service_time, "error_rate": error_rate, "drop_expired": drop_expired });
        if let Some(mut policies) = policies {
            if let Some(capacity) = capacity { policies["queue"]["capacity"] = json!(capacity); }
            crate::merge(&mut node, policies);
        }
        let callable = services - index - 1;
        if callable > 0 && !calls.is_empty() {
            let mut slots = 0;
            let calls: Vec<Value> = calls.into_iter().map(|(target, count, timeout, retry, propagate)| {
                slots += count;
                let mut call = json!({ "to": format!("s{}", index + 1 + target % callable), "count": count,
                    "deadline": { "propagate": propagate } });
                if let Some(timeout) = timeout { call["timeout"] = json!(timeout); }
                if let Some(retry) = retry { call["retry"] = retry; }
                if let Some(budget) = &call_budget { call["budget"] = budget.clone(); }
                if call_breaker { call["breaker"] = json!({ "consecutive_failures": { "threshold": 5, "open_for": "200ms" } }); }
                if cancel { call["cancel_on_give_up"] = json!(true); }
                call
            }).collect();
            node["calls"] = Value::Array(calls);
            node["call_mode"] = json!(if parallel { "parallel" } else { "sequential" });
            node["complete_on"] = match complete_on { 0 => json!("all"), 1 => json!("any"), _ => json!({ "quorum": 1 + slots / 2 }) };
        }
        node
    }
}

fn fault(clients: usize, services: usize) -> impl Strategy<Value = Value> {
    let service_effect = prop_oneof![
        (1.0f64..5.0).prop_map(|f| json!({ "slowdown": f })),
        duration_ms(0, 50).prop_map(|d| json!({ "added_latency": d })),
        (0.0f64..1.0).prop_map(|p| json!({ "error_rate": p })),
        prop_oneof![Just("fail_fast"), Just("hang")].prop_map(|o| json!({ "outage": o })),
        (1u32..30).prop_map(|n| json!({ "workers_lost": n })),
    ];
    (0..clients + services, service_effect, 0.0f64..4.0, 0u64..8, 1u64..8).prop_map(
        move |(node, effect, surge, start, length)| {
            let mut fault = if node < clients {
                json!({ "node": format!("c{node}"), "surge": surge })
            } else {
                let mut fault = effect;
                fault["node"] = json!(format!("s{}", node - clients));
                fault
            };
            fault["start"] = json!(format!("{start}s"));
            fault["end"] = json!(format!("{}s", start + length));
            fault
        },
    )
}

/// A function the clients may call ("f"), its settings drawn from `seed`: synchronous or
/// asynchronous, with or without reserved and provisioned concurrency, calls, either scaling model.
fn function_node(seed: u32) -> Value {
    let bits = |shift: u32, modulo: u32| (seed >> shift) % modulo;
    let mut node = json!({ "kind": "function", "id": "f",
        "service_time": { "exponential": { "mean": format!("{}ms", 1 + bits(7, 30)) } },
        "error_rate": f64::from(bits(9, 4)) / 10.0,
        "init_duration": { "exponential": { "mean": "50ms" } },
        "idle_timeout": format!("{}ms", bits(11, 3000)),
        "timeout": if bits(13, 2) == 0 { "1s" } else { "3s" } });
    if bits(14, 3) > 0 {
        let reserved = bits(16, 20);
        node["reserved_concurrency"] = json!(reserved);
        node["provisioned_concurrency"] = json!(bits(18, 3).min(reserved));
    } else {
        node["provisioned_concurrency"] = json!(bits(18, 3));
    }
    node["scaling"] = match bits(20, 3) {
        0 => json!("aws_2023"),
        1 => json!({ "legacy": { "burst": 1 + bits(22, 20), "per_minute": 60 } }),
        _ => json!({ "per_ten_seconds": 1 + bits(22, 50) }),
    };
    if bits(24, 4) == 0 {
        node["invocation"] = json!("async");
        node["asynchronous"] = json!({ "max_event_age": "60s", "on_failure": "q-dlq", "max_retries": bits(26, 3) });
    }
    if bits(28, 3) == 0 {
        node["calls"] = json!([{ "to": "s0", "timeout": "200ms", "retry": { "max_attempts": 2 } }]);
    }
    node
}

/// An LLM endpoint the clients may call ("m"), its settings drawn from `seed`: limits that
/// refuse, a small queue, a prompt cache, a model that loads.
fn llm_node(seed: u32) -> Value {
    let bits = |shift: u32, modulo: u32| (seed >> shift) % modulo;
    let mut node = json!({ "kind": "llm", "id": "m", "slots": 1 + bits(3, 8),
        "prompt_tokens": { "lognormal": { "p50": 200, "p99": 4000 } },
        "output_tokens": { "uniform": { "min": 1, "max": 300 } },
        "max_output_tokens": 1 + bits(5, 400),
        "latency": { "prefill_base": "5ms", "prefill_per_1k_tokens": "2ms", "time_per_output_token": "100us" },
        "error_rate": f64::from(bits(7, 3)) / 10.0 });
    if bits(9, 2) == 0 {
        node["queue_capacity"] = json!(bits(10, 5));
    }
    if bits(12, 3) > 0 {
        node["rate_limits"] = json!({ "requests_per_minute": 1 + bits(14, 3000), "tokens_per_minute": 1000 + bits(16, 500_000),
            "output_tokens_per_minute": 100 + bits(18, 10_000), "refusals_count": bits(20, 2) == 0 });
    }
    if bits(21, 2) == 0 {
        node["prompt_cache"] = json!({ "ttl": "2s", "hit_ratio": 0.7, "prefixes": 1 + bits(22, 5) });
    }
    if bits(24, 3) == 0 {
        node["cold_load"] = json!({ "load_time": "500ms", "scale_to_zero_after": "1s" });
    }
    node
}

/// A random valid scenario using every node kind (also used by links.rs).
pub(crate) fn scenario() -> impl Strategy<Value = Value> {
    (1usize..4, 1usize..4).prop_flat_map(|(clients, services)| {
        let client_nodes: Vec<_> = (0..clients).map(|i| client(i, services)).collect();
        let service_nodes: Vec<_> = (0..services).map(|index| service(index, services)).collect();
        (client_nodes, service_nodes, proptest::collection::vec(fault(clients, services), 0..3), 1u64..6, any::<u32>())
            .prop_map(|(mut nodes, services, mut faults, duration_s, seed)| {
                let pool: Vec<String> = (0..services.len()).map(|s| format!("s{s}")).collect();
                nodes.extend(services);
                let balancer_policy =
                    ["round_robin", "random", "least_outstanding", "power_of_two_choices", "peak_ewma"]
                        [seed as usize % 5];
                nodes.push(json!({ "kind": "load_balancer", "id": "lb", "pool": pool, "policy": balancer_policy,
                    "outlier_detection": { "consecutive_errors": 3, "always_eject_one_host": true } }));
                // A queue with a dead-letter queue and a consumer, in every scenario.
                let visibility_ms = 50 + seed % 2000;
                let mut queue = json!({ "kind": "queue", "id": "q", "visibility_timeout": format!("{visibility_ms}ms"),
                    "poison_rate": f64::from(seed % 7) / 100.0 });
                if seed % 3 != 0 {
                    queue["max_receive_count"] = json!(1 + seed % 4);
                    queue["dead_letter"] = json!("q-dlq");
                }
                nodes.push(queue);
                nodes.push(json!({ "kind": "queue", "id": "q-dlq" }));
                let mut side_effects = json!({});
                if seed % 2 == 0 {
                    side_effects["idempotency_window"] = json!("30s");
                }
                let consumes =
                    json!({ "queue": "q", "batch_size": 1 + seed % 10, "partial_batch_failures": seed % 4 < 2 });
                let mut consumer = json!({ "kind": "service", "id": "consumer", "workers": 1 + seed % 6,
                    "service_time": { "exponential": { "mean": format!("{}ms", 1 + seed % 40) } },
                    "error_rate": f64::from(seed % 5) / 20.0, "consumes": consumes, "side_effects": side_effects });
                if (seed >> 4) % 2 == 1 {
                    // Lambda's pollers instead of a service's workers.
                    consumer["kind"] = json!("function");
                    consumer.as_object_mut().unwrap().remove("workers");
                    consumer["reserved_concurrency"] = json!(1 + (seed >> 5) % 8);
                    consumer["timeout"] = json!("1s");
                    consumer["consumes"]["maximum_concurrency"] = json!(2 + (seed >> 6) % 20);
                }
                nodes.push(consumer);
                nodes.push(function_node(seed));
                nodes.push(llm_node(seed));
                // Surges apply to open-loop clients only.
                faults.retain(|fault| {
                    fault.get("surge").is_none()
                        || nodes.iter().any(|node| node["id"] == fault["node"] && node.get("users").is_none())
                });
                // Faults start inside the run.
                for fault in &mut faults {
                    let start_s =
                        fault["start"].as_str().unwrap().trim_end_matches('s').parse::<u64>().unwrap() % duration_s;
                    let length_s = fault["end"].as_str().unwrap().trim_end_matches('s').parse::<u64>().unwrap() + 1;
                    fault["start"] = json!(format!("{start_s}s"));
                    fault["end"] = json!(format!("{}s", start_s + length_s));
                }
                let account = json!({ "concurrency_limit": if seed % 3 == 0 { 40 } else { 1000 } });
                json!({ "version": 1, "seed": seed, "duration": format!("{duration_s}s"), "account": account,
                        "limits": { "in_flight_max": 200000 }, "nodes": nodes, "faults": faults })
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_conserve_and_repeat(scenario in scenario()) {
        let first = run(&scenario);
        assert_conserved(&first, &scenario.to_string());
        let second = run(&scenario);
        prop_assert_eq!(first.digest, second.digest);
    }
}

/// Every path to a value inside `value`, as JSON pointers.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| pointers(v, format!("{prefix}/{k}"), out)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{prefix}/{i}"), out)),
        _ => {}
    }
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(1e300)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        prop_oneof![
            Just(""),
            Just("fast"),
            Just("10ms"),
            Just("-1s"),
            Just("99999999h"),
            Just("api"),
            Just("clients"),
            Just("hang")
        ]
        .prop_map(|s| json!(s)),
        Just(json!([])),
        Just(json!({})),
        Just(json!({ "exponential": { "mean": "0ms" } })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Replace any one value of a preset by something hostile: the result is an error naming
    /// a field, or a scenario that runs; never a panic.
    #[test]
    fn corrupted_scenarios_give_errors_not_panics(choice in any::<prop::sample::Index>(), replacement in hostile_value()) {
        let preset = stormglass_core::presets::find("retry-storm").unwrap().json;
        let mut value: Value = serde_json::from_str(preset).unwrap();
        value["duration"] = json!("2s");
        let mut paths = Vec::new();
        pointers(&value, String::new(), &mut paths);
        let path = choice.get(&paths).clone();
        if path.is_empty() {
            value = replacement;
        } else if let Some(slot) = value.pointer_mut(&path) {
            *slot = replacement;
        }
        match parse_scenario(&value.to_string()) {
            Ok(model) => {
                let mut simulation = Simulation::new(&model);
                simulation.run_until(stormglass_core::SimTime(2_000_000_000));
            }
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for error in &errors.0 {
                    prop_assert!(!error.message.is_empty());
                }
            }
        }
    }
}

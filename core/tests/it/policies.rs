//! Each policy end to end, through a scenario: the effect it exists for.

use crate::{client_service, run, service};
use serde_json::{json, Value};
use stormglass_core::RunReport;

/// A client (100/s) calling `api` (100 workers, 10 ms), with the call and the service merged
/// over those defaults, for 60 s.
fn scenario(call: Value, api: Value) -> Value {
    let mut scenario =
        client_service("60s", 100.0, call, json!({ "workers": 100, "service_time": { "constant": "10ms" } }));
    crate::merge(&mut scenario["nodes"][1], api);
    scenario
}

fn failing() -> Value {
    json!({ "error_rate": 1.0 })
}

fn retries(max_attempts: u32) -> Value {
    json!({ "max_attempts": max_attempts })
}

/// AWS standard quota: 500 tokens, 5 per retry after an error, no refunds without success:
/// exactly 100 retries in the whole run.
#[test]
fn aws_quota_allows_capacity_over_cost_retries() {
    let report = run(&scenario(json!({ "retry": retries(3), "budget": { "aws_standard": {} } }), failing()));
    assert_eq!(report.summary.retries, 100);
    let refunded = run(&scenario(
        json!({ "retry": retries(3), "budget": { "aws_standard": { "capacity": 50, "retry_cost": 5 } } }),
        json!({ "error_rate": 0.5 }),
    ));
    // Successes refund tokens, so a half-failing service keeps getting retries.
    assert!(refunded.summary.retries > 1000, "{}", refunded.summary.retries);
}

/// gRPC throttling (max 10, ratio 0.1): failures drain the tokens to 5, where retries stop.
#[test]
fn grpc_throttling_stops_retries_at_half_the_tokens() {
    let report = run(&scenario(json!({ "retry": retries(3), "budget": { "grpc": {} } }), failing()));
    assert!(report.summary.retries <= 5, "{}", report.summary.retries);
}

/// Finagle: about 20% of requests plus 10 per second, over the window.
#[test]
fn percentage_budget_tracks_requests() {
    let report = run(&scenario(json!({ "retry": retries(3), "budget": { "percentage": {} } }), failing()));
    let expected = 0.2 * report.summary.requests as f64 + 10.0 * 60.0;
    assert!(
        (report.summary.retries as f64 - expected).abs() < 0.05 * expected,
        "{} vs {expected}",
        report.summary.retries
    );
}

/// Envoy: retries in flight at once at most max(3, 20% of active requests).
#[test]
fn envoy_budget_caps_concurrent_retries() {
    // Slow failures keep retries in flight: 100/s x 1 s = ~100 active requests, 20 retries.
    let slow_failure = json!({ "error_rate": 1.0, "service_time": { "constant": "1s" } });
    let without = run(&scenario(json!({ "retry": retries(3) }), slow_failure.clone()));
    let with = run(&scenario(json!({ "retry": retries(3), "budget": { "envoy": {} } }), slow_failure));
    assert!(
        with.summary.retries < without.summary.retries / 3,
        "{} vs {}",
        with.summary.retries,
        without.summary.retries
    );
    assert!(with.summary.retries > 0);
}

/// SRE client-side throttling: the client stops sending what the service would refuse,
/// settling where requests ~ 2 x accepts.
#[test]
fn adaptive_throttling_rejects_locally_in_proportion() {
    let overloaded = json!({ "workers": 2, "queue": { "capacity": 2 } });
    let mut s = scenario(json!({ "throttle": {} }), overloaded);
    s["nodes"][0]["rate"] = json!(1000);
    let report = run(&s);
    let sent = report.summary.attempts as f64;
    let accepted = report.summary.succeeded as f64;
    assert!(report.summary.failed_throttled > 20_000);
    assert!((sent / accepted - 2.0).abs() < 0.2, "requests {sent} vs 2 x accepts {accepted}");
}

/// A consecutive-failure breaker fails fast while the service fails, and closes again after.
#[test]
fn breaker_opens_during_a_failure_and_closes_after() {
    let mut s =
        scenario(json!({ "breaker": { "consecutive_failures": { "threshold": 5, "open_for": "2s" } } }), json!({}));
    s["faults"] = json!([{ "node": "api", "start": "10s", "end": "30s", "error_rate": 1.0 }]);
    let report = run(&s);
    let edge = &report.series.edges[0].metrics;
    let open: f64 = edge["breaker_open"][12..28].iter().sum();
    assert!(open > 10.0, "open most of the fault: {open}");
    assert!(edge["breaker_open"][40..].iter().all(|&o| o == 0.0), "closed after");
    assert!(report.summary.failed_short_circuit > 1000);
    let arrivals_during: f64 = report.series.nodes[1].metrics["arrivals_per_s"][12..28].iter().sum();
    assert!(arrivals_during < 300.0, "the service is spared: {arrivals_during}");
    let after = |name: &str| edge[name][45..].iter().sum::<f64>();
    assert!(after("goodput_per_s") / after("offered_per_s") > 0.99, "healthy again after the fault");
}

#[test]
fn hystrix_does_not_trip_below_its_volume() {
    // 1.5 requests/s, evenly spaced: 15 per 10 s window, under Hystrix's 20, so it never
    // opens; at 10/s it does.
    let mut s = scenario(json!({ "breaker": "hystrix" }), json!({ "error_rate": 1.0 }));
    s["nodes"][0]["rate"] = json!(1.5);
    s["nodes"][0]["arrivals"] = json!("constant");
    assert_eq!(run(&s).summary.failed_short_circuit, 0);
    let mut s = scenario(json!({ "breaker": "hystrix" }), json!({ "error_rate": 1.0 }));
    s["nodes"][0]["rate"] = json!(10);
    assert!(run(&s).summary.failed_short_circuit > 100);
}

#[test]
fn fallbacks_degrade_or_call_elsewhere() {
    let degraded = run(&scenario(json!({ "fallback": "degraded" }), json!({ "error_rate": 0.5 })));
    let s = &degraded.summary;
    assert_eq!(s.failed, 0);
    assert!((s.degraded as f64 / s.requests as f64 - 0.5).abs() < 0.03);
    assert!((s.success_ratio - 0.5).abs() < 0.03, "a degraded answer is not a success");
    // Each degraded answer is counted once in the client's and the system's series (the
    // client's outcome and its call's are the same answer).
    let series = &degraded.series;
    let call = &series.edges[0].metrics["degraded_per_s"];
    assert!(call.iter().sum::<f64>() > 0.0);
    assert_eq!(&series.nodes[0].metrics["degraded_per_s"], call);
    assert_eq!(&series.system["degraded_per_s"], call);

    let mut with_backup = scenario(json!({ "fallback": { "call": { "to": "backup" } } }), json!({ "error_rate": 0.5 }));
    with_backup["nodes"].as_array_mut().unwrap().push(json!({ "kind": "service", "id": "backup", "workers": 10,
        "service_time": { "constant": "5ms" } }));
    let report = run(&with_backup);
    assert!(report.summary.success_ratio > 0.99);
    assert!((report.summary.fallback_requests as f64 / report.summary.requests as f64 - 0.5).abs() < 0.03);
    // A fallback's latency includes the failed call before it: 10 + 5 ms.
    assert!((report.summary.latency_ms.unwrap().max - 15.0).abs() < 0.5);
}

/// Pushback: "overloaded, don't retry" stops the retries a full queue would otherwise get;
/// a retry-after hint delays them.
#[test]
fn honouring_pushback_stops_or_delays_retries() {
    let overloaded = |pushback: Value| {
        json!({ "workers": 10, "queue": { "capacity": 20 }, "pushback": pushback,
        "service_time": { "exponential": { "mean": "10ms" } } })
    };
    let with_rate = |mut s: Value| {
        s["nodes"][0]["rate"] = json!(1200);
        run(&s)
    };
    let retry = json!({ "max_attempts": 4, "honor_pushback": true });
    let ignored = with_rate(scenario(json!({ "retry": { "max_attempts": 4 } }), overloaded(json!({}))));
    let honoured = with_rate(scenario(json!({ "retry": retry.clone() }), overloaded(json!({}))));
    assert!(
        honoured.summary.retries * 10 < ignored.summary.retries,
        "{} vs {}",
        honoured.summary.retries,
        ignored.summary.retries
    );
    let delayed = with_rate(scenario(json!({ "retry": retry }), overloaded(json!({ "retry_after": "1s" }))));
    assert!(delayed.summary.attempt_latency_ms.is_some());
    assert!(delayed.summary.latency_ms.unwrap().p99 >= 1000.0, "retried requests waited the hint");
}

/// Cancellation: without it a timed-out attempt keeps its queue slot and worker (all waste
/// in an overload); with it the server drops it.
#[test]
fn cancelling_given_up_attempts_saves_the_server() {
    let overload = |call: Value| {
        let mut s = client_service("60s", 1200.0, call, json!({}));
        s["nodes"][0]["rate"] = json!(1200);
        run(&s)
    };
    let kept = overload(json!({ "timeout": "100ms" }));
    let cancelled = overload(json!({ "timeout": "100ms", "cancel_on_give_up": true }));
    assert!(kept.summary.success_ratio < 0.05 && kept.summary.wasted_work_share > 0.9);
    assert!(cancelled.summary.success_ratio > 0.75, "{}", cancelled.summary.success_ratio);
    assert!(service(&cancelled, "api").cancelled > 10_000);
}

/// Admission control in front of an overloaded service: every kind sheds, and the fixed or
/// well-signalled ones keep goodput up where the plain FIFO collapses.
#[test]
fn admission_control_sheds_overload() {
    let overload = |admission: Value| {
        let mut s = client_service("60s", 1200.0, json!({ "timeout": "100ms" }), json!({ "admission": admission }));
        s["nodes"][0]["rate"] = json!(1200);
        run(&s)
    };
    let plain = overload(json!({}));
    assert!(plain.summary.success_ratio < 0.05);
    for admission in [
        json!({ "concurrency_limit": { "static": { "limit": 20 } } }),
        json!({ "concurrency_limit": { "envoy_gradient": {} } }),
        json!({ "concurrency_limit": { "aimd": { "timeout": "80ms" } } }),
        json!({ "rate_limit": { "rate_per_s": 900 } }),
    ] {
        let report = overload(admission.clone());
        assert!(service(&report, "api").shed > 10_000, "{admission}");
        assert!(report.summary.success_ratio > 0.5, "{admission}: {}", report.summary.success_ratio);
    }
}

/// Priority queues and shedding serve critical work first.
#[test]
fn criticality_decides_who_is_served_and_who_is_shed() {
    let run_with = |queue: Value, admission: Value| {
        let s = json!({ "version": 1, "seed": 3, "duration": "60s", "nodes": [
            { "kind": "client", "id": "critical", "rate": 600, "calls": [{ "to": "api", "timeout": "100ms" }] },
            { "kind": "client", "id": "batch", "rate": 600, "criticality": "sheddable", "calls": [{ "to": "api", "timeout": "100ms" }] },
            { "kind": "service", "id": "api", "workers": 10, "queue": queue, "admission": admission,
              "service_time": { "exponential": { "mean": "10ms" } } } ] });
        run(&s)
    };
    let success = |report: &RunReport, id: &str| {
        let node = serde_json::to_value(report.nodes.iter().find(|n| n.id == id).unwrap()).unwrap();
        node["succeeded"].as_f64().unwrap() / node["requests"].as_f64().unwrap()
    };
    let priority = run_with(json!({ "discipline": "priority" }), json!({}));
    assert!(success(&priority, "critical") > 0.95 && success(&priority, "batch") < 0.5);
    let shedding = run_with(json!({}), json!({ "shed_sheddable_above": 5 }));
    assert!(success(&shedding, "critical") > success(&shedding, "batch"));
    assert!(service(&shedding, "api").shed > 10_000);
}

/// Envoy outlier detection ejects an instance that keeps failing; without it round robin
/// keeps sending it a share of the traffic.
#[test]
fn outlier_detection_ejects_a_failing_instance() {
    let balanced = |outlier: Value| {
        let mut nodes = vec![
            json!({ "kind": "client", "id": "clients", "rate": 500, "calls": [{ "to": "lb" }] }),
            json!({ "kind": "load_balancer", "id": "lb", "pool": ["a", "b", "c"], "outlier_detection": outlier }),
        ];
        for (id, error_rate) in [("a", 1.0), ("b", 0.0), ("c", 0.0)] {
            nodes.push(json!({ "kind": "service", "id": id, "workers": 50, "error_rate": error_rate,
                "service_time": { "constant": "5ms" } }));
        }
        let mut s = json!({ "version": 1, "seed": 2, "duration": "60s", "nodes": nodes });
        if outlier.is_null() {
            s["nodes"][1].as_object_mut().unwrap().remove("outlier_detection");
        }
        run(&s)
    };
    let without = balanced(Value::Null);
    assert!((without.summary.success_ratio - 2.0 / 3.0).abs() < 0.02);
    // A pool of 3 under Envoy's 10% cap ejects nobody, unless one host may always go.
    let capped = balanced(json!({}));
    assert!((capped.summary.success_ratio - 2.0 / 3.0).abs() < 0.02);
    let ejecting = balanced(json!({ "always_eject_one_host": true }));
    assert!(ejecting.summary.success_ratio > 0.95, "{}", ejecting.summary.success_ratio);
}

/// A closed loop slows down when its requests do: backoff lowers the offered load instead of
/// adding to it.
#[test]
fn closed_loop_backoff_lowers_the_offered_load() {
    let users = |retry: Value| {
        run(&json!({ "version": 1, "seed": 4, "duration": "60s", "nodes": [
            { "kind": "client", "id": "users", "users": 100, "think_time": { "constant": "100ms" },
              "calls": [{ "to": "api", "retry": retry }] },
            { "kind": "service", "id": "api", "workers": 100, "error_rate": 0.5, "service_time": { "constant": "5ms" } } ] }))
    };
    let eager = users(json!({ "max_attempts": 4 }));
    let patient = users(json!({ "max_attempts": 4, "backoff": { "constant": "200ms" } }));
    assert!(patient.summary.offered_per_s < 0.7 * eager.summary.offered_per_s);
}

//! Services calling services: call chains, fan-out, deadlines, closed-loop users.

use crate::{run, service};
use serde_json::{json, Value};

fn scenario(nodes: Value) -> Value {
    json!({ "version": 1, "name": "chain", "seed": 5, "duration": "60s", "nodes": nodes })
}

/// Three attempts at each of five layers: a failing bottom sees 3^5 = 243 attempts per
/// client request (SRE book, "Addressing Cascading Failures").
#[test]
fn retries_multiply_across_layers() {
    let mut nodes = vec![json!({ "kind": "client", "id": "clients", "rate": 10,
        "calls": [{ "to": "l1", "retry": { "max_attempts": 3 } }] })];
    for layer in 1..=5 {
        let mut node = json!({ "kind": "service", "id": format!("l{layer}"), "workers": 10000,
            "service_time": { "constant": "0ms" } });
        if layer < 5 {
            node["calls"] = json!([{ "to": format!("l{}", layer + 1), "retry": { "max_attempts": 3 } }]);
        } else {
            node["error_rate"] = json!(1.0);
        }
        nodes.push(node);
    }
    let report = run(&scenario(Value::Array(nodes)));
    let bottom = service(&report, "l5");
    let requests = report.summary.requests;
    assert!(requests > 500);
    assert_eq!(bottom.arrivals, 243 * (requests - report.summary.unfinished), "3^5 attempts at the bottom per request");
    assert_eq!(report.summary.amplification, 3.0);
    assert_eq!(report.summary.success_ratio, 0.0);
}

/// A job holds its worker while it waits on its calls: a slow dependency fills the caller's
/// workers (a thread per request).
#[test]
fn a_job_holds_its_worker_while_calling() {
    let report = run(&scenario(json!([
        { "kind": "client", "id": "clients", "rate": 100, "calls": [{ "to": "front" }] },
        { "kind": "service", "id": "front", "workers": 50, "service_time": { "constant": "1ms" },
          "calls": [{ "to": "db" }] },
        { "kind": "service", "id": "db", "workers": 100, "service_time": { "constant": "200ms" } }
    ])));
    let latency = report.summary.latency_ms.unwrap();
    assert!((latency.p50 - 201.0).abs() < 0.5, "{latency:?}");
    // 100/s x 201 ms = 20.1 busy workers of 50.
    assert!((service(&report, "front").utilization - 20.1 / 50.0).abs() < 0.02);
    assert!((service(&report, "db").utilization - 20.0 / 100.0).abs() < 0.02);
}

#[test]
fn sequential_calls_add_up_and_stop_at_the_first_failure() {
    let report = run(&scenario(json!([
        { "kind": "client", "id": "clients", "rate": 50, "calls": [{ "to": "front" }] },
        { "kind": "service", "id": "front", "workers": 100, "service_time": { "constant": "1ms" },
          "calls": [{ "to": "a", "count": 2 }, { "to": "b" }] },
        { "kind": "service", "id": "a", "workers": 100, "service_time": { "constant": "10ms" } },
        { "kind": "service", "id": "b", "workers": 100, "service_time": { "constant": "5ms" }, "error_rate": 0.5 }
    ])));
    assert!((report.summary.latency_ms.unwrap().p50 - 26.0).abs() < 0.5, "1 + 10 + 10 + 5 ms");
    let a = service(&report, "a").arrivals as f64;
    let b = service(&report, "b").arrivals as f64;
    assert!((a / b - 2.0).abs() < 0.01);
    assert!((report.summary.success_ratio - 0.5).abs() < 0.05);

    // Now a fails every time: b is never called.
    let report = run(&scenario(json!([
        { "kind": "client", "id": "clients", "rate": 50, "calls": [{ "to": "front" }] },
        { "kind": "service", "id": "front", "workers": 100, "service_time": { "constant": "1ms" },
          "calls": [{ "to": "a" }, { "to": "b" }] },
        { "kind": "service", "id": "a", "workers": 100, "service_time": { "constant": "10ms" }, "error_rate": 1.0 },
        { "kind": "service", "id": "b", "workers": 100, "service_time": { "constant": "5ms" } }
    ])));
    assert_eq!(service(&report, "b").arrivals, 0);
    assert_eq!(report.summary.failed_error, report.summary.failed);
}

/// Fan-out to 100 leaves that are each slow 1% of the time: with all, a request is slow with
/// probability 1 - 0.99^100 = 63% (The Tail at Scale); any and quorum wait for fewer.
#[test]
fn fan_out_waits_for_all_any_or_a_quorum() {
    let fan_out = |complete_on: Value| {
        run(&scenario(json!([
            { "kind": "client", "id": "clients", "rate": 20, "calls": [{ "to": "root" }] },
            { "kind": "service", "id": "root", "workers": 1000, "service_time": { "constant": "0ms" },
              "call_mode": "parallel", "complete_on": complete_on, "calls": [{ "to": "leaves", "count": 100 }] },
            { "kind": "service", "id": "leaves", "workers": 100000, "service_time": { "mixture": [
                { "weight": 0.99, "dist": { "constant": "10ms" } },
                { "weight": 0.01, "dist": { "constant": "1s" } } ] } }
        ])))
    };
    let share_slow = |report: &stormglass_core::RunReport| {
        let p50 = report.summary.latency_ms.unwrap().p50;
        let p90 = report.summary.latency_ms.unwrap().p90;
        (p50, p90)
    };
    let all = fan_out(json!("all"));
    let (p50, _) = share_slow(&all);
    assert!(p50 > 900.0, "most requests wait for a slow leaf: p50 {p50}");
    let any = fan_out(json!("any"));
    assert!((any.summary.latency_ms.unwrap().max - 10.0).abs() < 0.5);
    let quorum = fan_out(json!({ "quorum": 95 }));
    assert!(quorum.summary.latency_ms.unwrap().p99 < 11.0, "95 of 100 are almost never waiting on a slow one");
}

/// The Tail at Scale: with 100 leaves each slow 1% of the time, 1 - 0.99^100 = 63% of
/// requests wait for a slow one. A request takes 1 s if any leaf is slow, else 10 ms, so the
/// mean latency is 10 ms + 990 ms x P(slow).
#[test]
fn fan_out_tail_matches_one_minus_p_to_the_n() {
    let report = run(&json!({ "version": 1, "seed": 9, "duration": "600s", "nodes": [
        { "kind": "client", "id": "clients", "rate": 20, "calls": [{ "to": "root" }] },
        { "kind": "service", "id": "root", "workers": 1000, "service_time": { "constant": "0ms" },
          "call_mode": "parallel", "calls": [{ "to": "leaves", "count": 100 }] },
        { "kind": "service", "id": "leaves", "workers": 100000, "service_time": { "mixture": [
            { "weight": 0.99, "dist": { "constant": "10ms" } },
            { "weight": 0.01, "dist": { "constant": "1s" } } ] } } ] }));
    let slow_probability = 1.0 - 0.99f64.powi(100);
    let n = report.summary.succeeded as f64;
    let expected_mean_ms = 10.0 + 990.0 * slow_probability;
    let standard_error_ms = 990.0 * (slow_probability * (1.0 - slow_probability) / n).sqrt();
    let mean_ms = report.summary.latency_ms.unwrap().mean;
    assert!(n > 10_000.0);
    assert!(
        (mean_ms - expected_mean_ms).abs() < 4.0 * standard_error_ms,
        "mean {mean_ms} vs {expected_mean_ms} +- {standard_error_ms}"
    );
}

#[test]
fn deadlines_fail_requests_and_propagate_down_the_chain() {
    // The client gives the request 100 ms in all; the service's call inherits it (minus 5 ms)
    // and the slow database is dropped from its queue once the deadline has passed.
    let report = run(&scenario(json!([
        { "kind": "client", "id": "clients", "rate": 200,
          "calls": [{ "to": "front", "deadline": { "total": "100ms" } }] },
        { "kind": "service", "id": "front", "workers": 1000, "service_time": { "constant": "1ms" },
          "calls": [{ "to": "db", "deadline": { "propagate": true, "reduce_per_hop": "5ms" } }] },
        { "kind": "service", "id": "db", "workers": 1, "drop_expired": true,
          "service_time": { "constant": "10ms" } }
    ])));
    let s = &report.summary;
    // The db call's own deadline (95 ms) passes first: front answers with an error.
    assert!(s.failed_error > 2000, "the overloaded db makes half the requests miss their deadline");
    assert!(s.latency_ms.unwrap().max <= 100.0);
    let db = service(&report, "db");
    assert!(db.completed < 6100, "db serves at most 100/s");
    assert!(db.arrivals - db.completed > 5000, "most queued work is dropped as expired, not served");
}

/// Closed loop: users wait for their outcome and think, so a slower service lowers the load
/// they offer (Little's law: users = throughput x (response time + think time)).
#[test]
fn closed_loop_users_slow_down_with_the_service() {
    let closed = |service_time: &str| {
        run(&scenario(json!([
            { "kind": "client", "id": "users", "users": 50, "think_time": { "constant": "90ms" },
              "calls": [{ "to": "api" }] },
            { "kind": "service", "id": "api", "workers": 1000, "service_time": { "constant": service_time } }
        ])))
    };
    let fast = closed("10ms");
    let slow = closed("410ms");
    // 50 users / (10 + 90 ms) = 500/s; 50 / (410 + 90 ms) = 100/s.
    assert!((fast.summary.offered_per_s - 500.0).abs() < 10.0, "{}", fast.summary.offered_per_s);
    assert!((slow.summary.offered_per_s - 100.0).abs() < 5.0, "{}", slow.summary.offered_per_s);

    let limited = run(&scenario(json!([
        { "kind": "client", "id": "users", "users": 7, "requests_per_user": 3, "calls": [{ "to": "api" }] },
        { "kind": "service", "id": "api", "workers": 10, "service_time": { "constant": "10ms" } }
    ])));
    assert_eq!(limited.summary.requests, 21);
}

#[test]
fn call_cycles_and_misplaced_fields_are_refused() {
    let errors = stormglass_core::parse_scenario(
        &scenario(json!([
            { "kind": "client", "id": "c", "rate": 1, "calls": [{ "to": "a" }] },
            { "kind": "service", "id": "a", "workers": 1, "service_time": { "constant": "1ms" }, "calls": [{ "to": "b" }] },
            { "kind": "service", "id": "b", "workers": 1, "service_time": { "constant": "1ms" }, "calls": [{ "to": "a" }] }
        ]))
        .to_string(),
    )
    .unwrap_err();
    assert!(errors.to_string().contains("they loop: a -> b -> a"), "{errors}");
    let errors = stormglass_core::parse_scenario(
        &scenario(json!([
            { "kind": "client", "id": "c", "rate": 1, "users": 3, "calls": [{ "to": "a", "deadline": { "propagate": true } }] },
            { "kind": "service", "id": "a", "workers": 1, "service_time": { "constant": "1ms" },
              "call_mode": "parallel", "complete_on": { "quorum": 2 }, "calls": [{ "to": "b" }] },
            { "kind": "service", "id": "b", "workers": 1, "service_time": { "constant": "1ms" } }
        ]))
        .to_string(),
    )
    .unwrap_err();
    let text = errors.to_string();
    assert!(text.contains("nodes[0]: expected either rate"), "{text}");
    assert!(text.contains("nodes[0].calls[0].deadline.propagate"), "{text}");
    assert!(text.contains("nodes[1].complete_on.quorum: expected 1 to 1"), "{text}");
}

//! Serverless functions end to end: cold and warm starts, throttles by each limit, scaling
//! rates, reaping, provisioned concurrency, the handler's timeout, asynchronous invocation with
//! its retries, queue event sources and cost.

use crate::run;
use serde_json::{json, Value};
use stormglass_core::report::RunReport;

/// A client at `rate` calling function `fn` (constant 100 ms handler, constant 500 ms init),
/// with `function` merged over it.
fn scenario(duration: &str, rate: f64, arrivals: &str, function: Value) -> Value {
    let mut node = json!({ "kind": "function", "id": "fn",
        "service_time": { "constant": "100ms" }, "init_duration": { "constant": "500ms" } });
    crate::merge(&mut node, function);
    json!({ "version": 1, "seed": 7, "duration": duration, "nodes": [
        { "kind": "client", "id": "callers", "rate": rate, "arrivals": arrivals, "calls": [{ "to": "fn" }] },
        node ] })
}

fn detail(report: &RunReport, id: &str) -> Value {
    serde_json::to_value(report.nodes.iter().find(|n| n.id == id).unwrap()).unwrap()
}

fn count(report: &RunReport, id: &str, field: &str) -> f64 {
    detail(report, id)[field].as_f64().unwrap_or_else(|| panic!("{id}.{field}: {}", detail(report, id)))
}

fn metric<'a>(report: &'a RunReport, id: &str, name: &str) -> &'a [f64] {
    let node = report.series.nodes.iter().find(|n| n.id == id).unwrap();
    &node.metrics[name]
}

/// One invocation a second, 100 ms each: one environment does it all. The first invocation
/// starts cold (500 ms init), every later one warm.
#[test]
fn only_a_new_environment_starts_cold() {
    let report = run(&scenario("60s", 1.0, "constant", json!({})));
    assert_eq!(count(&report, "fn", "invocations"), 60.0);
    assert_eq!(count(&report, "fn", "cold_starts"), 1.0);
    assert_eq!(count(&report, "fn", "environments_at_end"), 1.0);
    let latency = report.summary.latency_ms.as_ref().unwrap();
    assert_eq!(latency.max, 600.0, "the cold start: init then handler");
    assert_eq!(latency.p50, 100.0, "warm: the handler only");
    // Init share of billed time: 500 / (600 + 59 x 100).
    assert!((count(&report, "fn", "init_share") - 500.0 / 6_500.0).abs() < 1e-9);
}

/// Environments idle longer than the idle timeout are reaped: every invocation is cold.
#[test]
fn idle_environments_are_reaped() {
    let report = run(&scenario("100s", 0.1, "constant", json!({ "idle_timeout": "5s" })));
    assert_eq!(count(&report, "fn", "invocations"), 10.0);
    assert_eq!(count(&report, "fn", "cold_starts"), 10.0);
    let kept = run(&scenario("100s", 0.1, "constant", json!({ "idle_timeout": "15s" })));
    assert_eq!(count(&kept, "fn", "cold_starts"), 1.0);
}

/// Reserved concurrency caps the function: 100/s of 100 ms needs about 10 at once; with 4
/// reserved the rest is throttled (429) and the callers see rejections.
#[test]
fn reserved_concurrency_throttles_beyond_it() {
    let report = run(&scenario("60s", 100.0, "poisson", json!({ "reserved_concurrency": 4 })));
    let throttled = count(&report, "fn", "throttled");
    assert_eq!(throttled, count(&report, "fn", "throttled_reserved"));
    assert!(throttled > 1_000.0, "{throttled}");
    assert_eq!(report.summary.failed_rejected as f64, throttled);
    assert!(count(&report, "fn", "environments_at_end") <= 4.0);
    let mean = count(&report, "fn", "mean_concurrency");
    assert!(mean > 3.0 && mean <= 4.0, "{mean}");
}

/// The account's limit is shared: a function without a reservation gets what the others have
/// not reserved.
#[test]
fn the_account_limit_is_shared() {
    let mut s = scenario("30s", 100.0, "poisson", json!({}));
    s["account"] = json!({ "concurrency_limit": 10 });
    s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "function", "id": "other",
        "service_time": { "constant": "1ms" }, "reserved_concurrency": 7 }));
    let report = run(&s);
    // 3 left for "fn", which needs about 10.
    assert!(count(&report, "fn", "throttled_account") > 1_000.0);
    assert_eq!(count(&report, "fn", "throttled_reserved"), 0.0);
    assert!(count(&report, "fn", "mean_concurrency") <= 3.0);
}

/// The scaling rate limits new environments: a jump to 100 at once with the older model's
/// burst of 10 and 60 a minute gets 10 at once, then one more a second.
#[test]
fn the_scaling_rate_limits_new_environments() {
    let mut s = scenario(
        "20s",
        0.0,
        "poisson",
        json!({
        "service_time": { "constant": "100s" }, "init_duration": { "constant": "0ms" }, "timeout": "900s",
        "scaling": { "legacy": { "burst": 10, "per_minute": 60 } } }),
    );
    // 100 callers at t=0, each calling again at once when throttled (retries, no backoff).
    s["nodes"][0] = json!({ "kind": "client", "id": "callers", "users": 100, "requests_per_user": 1,
        "calls": [{ "to": "fn", "retry": { "max_attempts": 100, "backoff": { "constant": "100ms" } } }] });
    let report = run(&s);
    let environments = metric(&report, "fn", "environments");
    // The burst of 10 at once, then one more each second (bucket i ends at i + 1 s).
    assert_eq!(environments[0], 10.0);
    assert_eq!(environments[9], 19.0);
    assert!(count(&report, "fn", "throttled_scaling_rate") > 0.0);

    // The 2023 model: 1,000 per 10 s, so all 100 at once.
    let mut s2023 = s.clone();
    s2023["nodes"][1]["scaling"] = json!("aws_2023");
    let report = run(&s2023);
    assert_eq!(metric(&report, "fn", "environments")[0], 100.0);
    assert_eq!(count(&report, "fn", "throttled"), 0.0);
}

/// Provisioned environments are warm from the start: no cold start up to them.
#[test]
fn provisioned_concurrency_never_starts_cold() {
    let report = run(&scenario("30s", 20.0, "constant", json!({ "provisioned_concurrency": 5 })));
    assert_eq!(count(&report, "fn", "cold_starts"), 0.0);
    let report = run(&scenario("30s", 20.0, "constant", json!({})));
    assert!(count(&report, "fn", "cold_starts") >= 2.0);
}

/// A handler longer than the timeout is stopped at it and fails; the time until then is billed.
#[test]
fn the_timeout_stops_the_handler() {
    let report = run(&scenario(
        "10s",
        1.0,
        "constant",
        json!({ "service_time": { "constant": "5s" }, "timeout": "3s", "provisioned_concurrency": 10 }),
    ));
    // Invocations at 0, 1, ..., 9 s; those from 7 s on have not reached their timeout by 10 s.
    assert_eq!(count(&report, "fn", "invocations"), 10.0);
    assert_eq!(count(&report, "fn", "timeouts"), 7.0);
    assert_eq!(report.summary.failed_error, 7);
    assert_eq!(report.summary.succeeded, 0);
    // 128 MB x 3 s per invocation that ended.
    assert!((count(&report, "fn", "billed_gb_seconds") - 7.0 * 0.125 * 3.0).abs() < 1e-9);
}

/// A handler whose call outlives the timeout fails at the timeout; the call is abandoned.
#[test]
fn the_timeout_covers_the_calls() {
    let mut s = scenario(
        "10s",
        1.0,
        "constant",
        json!({ "timeout": "1s", "provisioned_concurrency": 2,
        "calls": [{ "to": "slow" }] }),
    );
    s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "service", "id": "slow", "workers": 10,
        "service_time": { "constant": "2s" } }));
    let report = run(&s);
    // Invocations at 0, 1, ..., 9 s; the last one's timeout (10 s) is at the end of the run.
    assert_eq!(count(&report, "fn", "timeouts"), 9.0);
    assert_eq!(report.summary.failed_error, 9);
    // Billed: 1 s each (the timeout), not the call's 2 s.
    assert!((count(&report, "fn", "billed_gb_seconds") - 9.0 * 0.125).abs() < 1e-9);
}

/// Billing: memory times duration rounded up to the millisecond, at the on-demand or the
/// provisioned price, plus provisioned concurrency kept ready, plus requests.
#[test]
fn cost_is_gb_seconds_and_requests() {
    let prices = json!({ "gb_second_usd": 0.00002, "provisioned_gb_second_usd": 0.000005,
        "provisioned_duration_gb_second_usd": 0.00001, "per_million_requests_usd": 0.5 });
    let function = |provisioned: u32| {
        json!({ "memory_mb": 1024, "service_time": { "constant": "99500us" },
                "provisioned_concurrency": provisioned, "price": prices })
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;

    // On demand: the first invocation cold (500 ms init + 99.5 ms, billed 600 ms), the other
    // 999 warm (billed 100 ms each): 100.5 GB-s at 1 GB.
    let report = run(&scenario("1000s", 1.0, "constant", function(0)));
    assert_eq!(count(&report, "fn", "invocations"), 1000.0);
    assert!(close(count(&report, "fn", "billed_gb_seconds"), 100.5));
    let expected = 100.5 * 0.00002 + 1000.0 / 1e6 * 0.5;
    assert!(close(count(&report, "fn", "cost_usd"), expected));
    let series = metric(&report, "fn", "cost_usd");
    assert!(close(series[series.len() - 1], expected), "the cost series ends at the total");

    // Two provisioned environments: 100 GB-s at the provisioned duration price, plus 2 GB
    // kept ready for 1000 s.
    let report = run(&scenario("1000s", 1.0, "constant", function(2)));
    assert!(close(count(&report, "fn", "billed_gb_seconds"), 100.0));
    let expected = 100.0 * 0.00001 + 2.0 * 1000.0 * 0.000005 + 1000.0 / 1e6 * 0.5;
    assert!(close(count(&report, "fn", "cost_usd"), expected), "{} vs {expected}", count(&report, "fn", "cost_usd"));
    let series = metric(&report, "fn", "cost_usd");
    assert!(close(series[series.len() - 1], expected));
}

/// Asynchronous invocation: the caller's event is accepted at once; a function error is retried
/// twice, 1 and 2 minutes later, then the event goes to the on-failure queue.
#[test]
fn async_errors_are_retried_twice_then_sent_to_the_destination() {
    let mut s = scenario(
        "400s",
        0.1,
        "constant",
        json!({ "invocation": "async", "error_rate": 1.0,
        "asynchronous": { "on_failure": "failed" } }),
    );
    s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "queue", "id": "failed" }));
    // Events at 0, 10, ..., 190 s (20): all have had their 3 tries by 190 + 180.1 s.
    s["nodes"][0]["rate_changes"] = json!([{ "at": "195s", "rate": 0 }]);
    let report = run(&s);
    assert_eq!(report.summary.succeeded, 20, "the caller's events were accepted");
    assert_eq!(count(&report, "fn", "async_accepted"), 20.0);
    assert_eq!(count(&report, "fn", "invocations"), 60.0);
    assert_eq!(count(&report, "fn", "async_retries"), 40.0);
    assert_eq!(count(&report, "fn", "async_failed"), 20.0);
    assert_eq!(count(&report, "failed", "sent"), 20.0);

    // One event alone: tried at 0 s (cold: 0.6 s), 1 minute after that failure (60.6 s,
    // warm: 0.1 s), and 2 minutes after the second failure (180.7 s).
    s["nodes"][0]["rate_changes"] = json!([{ "at": "5s", "rate": 0 }]);
    let report = run(&s);
    let invocations = metric(&report, "fn", "invocations_per_s");
    let buckets: Vec<usize> = (0..invocations.len()).filter(|&b| invocations[b] > 0.0).collect();
    assert_eq!(report.series.bucket_s, 1.0);
    assert_eq!(buckets, vec![0, 60, 180]);
}

/// Throttled asynchronous events are retried with backoff (1 s, 2 s, 4 s, ...) until the
/// maximum event age, then dropped (no destination).
#[test]
fn async_throttles_are_retried_until_the_event_is_too_old() {
    let report = run(&scenario(
        "100s",
        1.0,
        "constant",
        json!({ "invocation": "async", "reserved_concurrency": 0, "asynchronous": { "max_event_age": "60s" } }),
    ));
    assert_eq!(count(&report, "fn", "invocations"), 0.0);
    assert_eq!(count(&report, "fn", "async_accepted"), 100.0);
    // An event accepted at a is tried at a, a+1, a+3, a+7, a+15 and a+31 s; the next try
    // (a+63) would be older than 60 s, so it fails at a+31. Events arrive at 0, 1, ..., 99 s.
    let tries = [0, 1, 3, 7, 15, 31];
    let throttles: usize = (0..100).map(|a| tries.iter().filter(|&&t| a + t < 100).count()).sum();
    let failed = (0..100).filter(|a| a + 31 < 100).count();
    assert_eq!(count(&report, "fn", "throttled"), throttles as f64);
    assert_eq!(count(&report, "fn", "async_failed"), failed as f64);
    assert_eq!(count(&report, "fn", "async_waiting_at_end"), (100 - failed) as f64);
}

/// An SQS event source: pollers start with 5 batches at once and add 300 a minute while the
/// backlog lasts.
#[test]
fn queue_pollers_scale_up_by_300_a_minute() {
    let s = json!({ "version": 1, "seed": 3, "duration": "60s", "nodes": [
        { "kind": "client", "id": "producers", "rate": 2000, "calls": [{ "to": "jobs" }] },
        { "kind": "queue", "id": "jobs", "visibility_timeout": "900s" },
        { "kind": "function", "id": "worker", "service_time": { "constant": "1s" }, "timeout": "30s",
          "init_duration": { "constant": "0ms" }, "consumes": { "queue": "jobs", "batch_size": 10 } } ] });
    let report = run(&s);
    let pollers = metric(&report, "worker", "pollers");
    // 5 + 5 a second, counted from the last poll that found the queue empty (just after 0 s).
    let bucket_s = report.series.bucket_s;
    let at_end_of = |t: f64| pollers[(t / bucket_s) as usize - 1];
    assert!((19.0..=20.0).contains(&at_end_of(3.0)), "{}", at_end_of(3.0));
    assert!((154.0..=155.0).contains(&at_end_of(30.0)), "{}", at_end_of(30.0));
    let concurrency = metric(&report, "worker", "concurrency");
    assert!(concurrency[(30.0 / bucket_s) as usize - 1] > 140.0, "the batches run as the pollers allow");
}

/// A function throttled while its pollers hold messages: the messages come back after the
/// visibility timeout, their receives counted, so with a low max receive count healthy
/// messages end in the dead-letter queue (AWS advises a max receive count of 5 or more).
#[test]
fn throttled_batches_send_healthy_messages_to_the_dead_letter_queue() {
    let s = |max_receive_count: u32| {
        json!({ "version": 1, "seed": 3, "duration": "120s", "nodes": [
        { "kind": "client", "id": "producers", "rate": 8, "calls": [{ "to": "jobs" }] },
        { "kind": "queue", "id": "jobs", "visibility_timeout": "5s", "max_receive_count": max_receive_count,
          "dead_letter": "dlq" },
        { "kind": "queue", "id": "dlq" },
        { "kind": "function", "id": "worker", "service_time": { "constant": "200ms" }, "reserved_concurrency": 2,
          "consumes": { "queue": "jobs", "batch_size": 10 } } ] })
    };
    let report = run(&s(2));
    assert!(count(&report, "worker", "throttled") > 50.0);
    assert!(count(&report, "jobs", "dead_lettered") > 5.0, "{}", detail(&report, "jobs"));
    assert_eq!(count(&report, "worker", "messages_failed"), 0.0, "no message failed its processing");
    let report = run(&s(10));
    assert_eq!(count(&report, "jobs", "dead_lettered"), 0.0);
}

/// A function whose handler outlives the queue's visibility timeout processes messages twice.
#[test]
fn a_function_slower_than_the_visibility_timeout_duplicates_work() {
    let s = |visibility: &str| {
        json!({ "version": 1, "seed": 3, "duration": "120s", "nodes": [
        { "kind": "client", "id": "producers", "rate": 10, "calls": [{ "to": "jobs" }] },
        { "kind": "queue", "id": "jobs", "visibility_timeout": visibility },
        { "kind": "function", "id": "worker", "service_time": { "constant": "500ms" }, "timeout": "30s",
          "consumes": { "queue": "jobs", "batch_size": 10 }, "side_effects": {} } ] })
    };
    let slow = run(&s("2s"));
    assert!(count(&slow, "worker", "duplicate_effects") > 100.0, "{}", detail(&slow, "worker"));
    let safe = run(&s("180s"));
    assert_eq!(count(&safe, "worker", "duplicate_effects"), 0.0);
}

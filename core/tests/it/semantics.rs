//! The model's semantics, one behaviour per test, on small scenarios with known answers.

use crate::{client_service, run, service};
use serde_json::json;

#[test]
fn responses_before_the_timeout_cancel_it() {
    let report = run(&client_service(
        "20s",
        100.0,
        json!({ "timeout": "100ms" }),
        json!({ "service_time": { "constant": "50ms" } }),
    ));
    let s = &report.summary;
    assert_eq!(s.attempt_timeouts, 0);
    assert_eq!(s.failed, 0);
    assert_eq!(s.unfinished + s.succeeded, s.requests);
    let latency = s.latency_ms.expect("successes");
    assert!((latency.p50 - 50.0).abs() < 1.0 && latency.max < 150.0, "{latency:?}");
}

/// A timeout does not reach the server: the attempt holds its worker to the end, and all of
/// that service time is wasted work.
#[test]
fn timed_out_attempts_keep_their_worker_and_waste_it() {
    let report = run(&client_service(
        "20s",
        20.0,
        json!({ "timeout": "100ms" }),
        json!({ "workers": 100, "service_time": { "constant": "150ms" } }),
    ));
    let s = &report.summary;
    assert_eq!(s.succeeded, 0);
    assert_eq!(s.failed_timeout, s.failed);
    assert!(s.failed > 350);
    let api = service(&report, "api");
    assert_eq!(s.late_responses, api.completed, "every completed attempt was answered too late");
    // All completed work was wasted; only the attempts still in service at the end are not
    // counted yet.
    assert!(s.wasted_work_share > 0.99, "all work is wasted: {}", s.wasted_work_share);
    // 20 attempts/s x 150 ms = 3 busy workers of 100.
    assert!((api.utilization - 0.03).abs() < 0.003, "{}", api.utilization);
}

#[test]
fn timed_out_attempts_keep_their_place_in_the_queue() {
    // One worker, 60 ms per attempt, 20 attempts/s arriving together every 50 ms... the queue
    // grows; timed-out attempts are still served in FIFO order (no attempt is skipped).
    let report = run(&client_service(
        "10s",
        20.0,
        json!({ "timeout": "100ms" }),
        json!({ "workers": 1, "service_time": { "constant": "60ms" } }),
    ));
    let api = service(&report, "api");
    assert_eq!(api.arrivals, api.completed + u64::from(api.queued_at_end) + u64::from(api.in_service_at_end));
    assert!(api.queued_at_end > 10, "overloaded: the queue keeps the abandoned attempts ({})", api.queued_at_end);
    assert!(report.summary.attempts_abandoned_at_end > 10);
}

#[test]
fn retries_follow_failures_up_to_max_attempts() {
    let report = run(&client_service(
        "10s",
        50.0,
        json!({ "timeout": "100ms", "retry": { "max_attempts": 3 } }),
        json!({ "workers": 100, "service_time": { "constant": "1s" } }),
    ));
    let s = &report.summary;
    // Every attempt times out, so every request makes exactly 3 attempts (those that finished).
    let finished = s.failed;
    assert_eq!(s.succeeded, 0);
    assert!(s.attempts >= 3 * finished && s.attempts <= 3 * s.requests);
    assert!((s.amplification - 3.0).abs() < 0.05, "{}", s.amplification);
}

#[test]
fn fail_fast_outage_rejects_at_once_and_hang_outage_times_out() {
    let fault = |outage: &str| {
        let mut scenario = client_service("30s", 100.0, json!({ "timeout": "200ms" }), json!({}));
        scenario["faults"] = json!([{ "node": "api", "start": "10s", "end": "20s", "outage": outage }]);
        run(&scenario)
    };
    let fail_fast = fault("fail_fast");
    let api = service(&fail_fast, "api");
    assert!((api.rejected as f64 - 1000.0).abs() < 150.0, "about 10 s x 100/s refused: {}", api.rejected);
    assert_eq!(fail_fast.summary.failed_rejected, fail_fast.summary.failed);
    assert_eq!(fail_fast.summary.attempt_timeouts, 0);

    let hang = fault("hang");
    let api = service(&hang, "api");
    assert!((api.dropped as f64 - 1000.0).abs() < 150.0, "about 10 s x 100/s swallowed: {}", api.dropped);
    assert_eq!(hang.summary.attempt_timeouts, api.dropped, "each swallowed attempt times out");
    assert_eq!(hang.summary.late_responses, 0, "nothing swallowed is ever answered");
}

#[test]
fn slowdown_worker_loss_and_errors_change_service() {
    let with_fault = |fault: serde_json::Value| {
        let mut scenario = client_service("40s", 200.0, json!({}), json!({ "service_time": { "constant": "10ms" } }));
        let mut fault_object = json!({ "node": "api", "start": "0s", "end": "40s" });
        crate::merge(&mut fault_object, fault);
        scenario["faults"] = json!([fault_object]);
        run(&scenario)
    };
    let slow = with_fault(json!({ "slowdown": 3.0 }));
    assert!((slow.summary.latency_ms.unwrap().p50 - 30.0).abs() < 1.0);
    let added = with_fault(json!({ "added_latency": "5ms" }));
    assert!((added.summary.latency_ms.unwrap().p50 - 15.0).abs() < 1.0);
    let errors = with_fault(json!({ "error_rate": 0.25 }));
    let share = errors.summary.attempt_errors as f64 / errors.summary.attempts as f64;
    assert!((share - 0.25).abs() < 0.02, "{share}");
    // 2 of 10 workers left: 200/s x 10 ms = 2 busy workers, utilization of all 10 is 20%;
    // losing 9 leaves 1 worker for 2 workers' worth of load: the queue grows without bound.
    let lost = with_fault(json!({ "workers_lost": 9 }));
    assert!(service(&lost, "api").queued_at_end > 1000);
}

#[test]
fn surge_and_rate_changes_change_the_offered_load() {
    let mut scenario = client_service("30s", 100.0, json!({}), json!({ "workers": 100 }));
    scenario["faults"] = json!([{ "node": "clients", "start": "10s", "end": "20s", "surge": 3.0 }]);
    let offered = run(&scenario).series.system["offered_per_s"].clone();
    let mean = |from: usize, to: usize| offered[from..to].iter().sum::<f64>() / (to - from) as f64;
    assert!((mean(0, 10) - 100.0).abs() < 10.0);
    assert!((mean(10, 20) - 300.0).abs() < 20.0);
    assert!((mean(20, 30) - 100.0).abs() < 10.0);

    let mut scenario = client_service("20s", 100.0, json!({}), json!({ "workers": 100 }));
    scenario["nodes"][0]["arrivals"] = json!("constant");
    scenario["nodes"][0]["rate_changes"] = json!([{ "at": "10s", "rate": 50 }]);
    let offered = run(&scenario).series.system["offered_per_s"].clone();
    assert!(offered[..10].iter().all(|&r| r == 100.0), "constant arrivals: exactly 100 per second: {offered:?}");
    assert!(offered[10..].iter().all(|&r| r == 50.0), "{offered:?}");
}

#[test]
fn bounded_queue_rejects_when_full_and_lifo_serves_newest_first() {
    let report = run(&client_service(
        "20s",
        2000.0,
        json!({ "timeout": "1s" }),
        json!({ "queue": { "capacity": 50 }, "service_time": { "constant": "10ms" } }),
    ));
    let api = service(&report, "api");
    assert!(api.rejected > 15_000, "half the load is refused: {}", api.rejected);
    assert!(api.queued_at_end <= 50);

    // Under sustained overload with a timeout, FIFO serves only stale attempts (goodput
    // collapses) while LIFO serves the newest, whose callers still wait.
    let overloaded = |discipline: &str| {
        run(&client_service(
            "30s",
            1200.0,
            json!({ "timeout": "100ms" }),
            json!({ "queue": { "discipline": discipline } }),
        ))
        .summary
    };
    let fifo = overloaded("fifo");
    let lifo = overloaded("lifo");
    assert!(fifo.success_ratio < 0.3, "fifo {}", fifo.success_ratio);
    assert!(lifo.success_ratio > 0.6, "lifo {}", lifo.success_ratio);
}

#[test]
fn network_delay_applies_both_ways() {
    let report = run(&client_service(
        "10s",
        100.0,
        json!({ "network_delay": { "constant": "20ms" } }),
        json!({ "service_time": { "constant": "10ms" } }),
    ));
    let latency = report.summary.latency_ms.unwrap();
    assert!((latency.p50 - 50.0).abs() < 0.5 && (latency.max - 50.0).abs() < 0.5, "{latency:?}");
}

/// The preset of the foundation: with 3 retries the slowdown becomes a metastable outage;
/// with none the system recovers after the fault.
#[test]
fn retry_storm_preset_is_metastable_with_retries_and_recovers_without() {
    let preset = stormglass_core::presets::find("retry-storm").unwrap();
    let mut scenario: serde_json::Value = serde_json::from_str(preset.json).unwrap();
    let with_retries = run(&scenario);
    assert_eq!(with_retries.verdicts.len(), 1);
    let verdict = serde_json::to_value(&with_retries.verdicts[0]).unwrap();
    assert_eq!(verdict["verdict"], "metastable", "{verdict}");

    scenario["nodes"][0]["calls"][0]["retry"]["max_attempts"] = json!(1);
    let without = run(&scenario);
    let verdict = serde_json::to_value(&without.verdicts[0]).unwrap();
    assert_eq!(verdict["verdict"], "recovered", "{verdict}");
    let after_s = verdict["after_s"].as_f64().unwrap();
    // The 10 s at a third of capacity leave ~4,700 queued attempts, drained at ~200/s.
    assert!((10.0..40.0).contains(&after_s), "{after_s}");
}

//! Runs stop cleanly at their limits, with a message that says which and why.

use crate::{client_service, run};
use serde_json::json;

#[test]
fn in_flight_limit_stops_an_overloaded_run_with_a_message() {
    let mut scenario = client_service("600s", 2000.0, json!({}), json!({}));
    scenario["limits"] = json!({ "in_flight_max": 10000 });
    let report = run(&scenario);
    assert_eq!(report.status, "stopped");
    let message = report.stop_reason.expect("a reason");
    assert!(message.contains("in_flight_max") && message.contains("10000"), "{message}");
    assert!(report.simulated_s < 20.0, "stopped early: {}", report.simulated_s);
    // The series cover the run up to the stop.
    let buckets = report.series.buckets as f64;
    assert!(buckets >= report.simulated_s.floor() && buckets <= report.simulated_s.floor() + 1.0);
    assert!(report.series.system["queue_depth"].last().unwrap() > &5000.0);
}

#[test]
fn events_limit_stops_the_run() {
    let mut scenario = client_service("100s", 1000.0, json!({}), json!({ "workers": 100 }));
    scenario["limits"] = json!({ "events_max": 5000 });
    let report = run(&scenario);
    assert_eq!(report.status, "stopped");
    assert_eq!(report.events, 5000);
    assert!(report.stop_reason.unwrap().contains("events_max"));
}

#[test]
fn a_loop_without_delay_stops_instead_of_freezing() {
    let report = run(&json!({ "version": 1, "duration": "10s", "nodes": [
        { "kind": "client", "id": "users", "users": 10, "calls": [{ "to": "api" }] },
        { "kind": "service", "id": "api", "workers": 10, "service_time": { "constant": "0ms" } } ] }));
    assert_eq!(report.status, "stopped");
    assert!(report.stop_reason.unwrap().contains("time stopped moving"));
}

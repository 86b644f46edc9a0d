//! Queues, consumers, dead-letter queues, side effects and idempotency, end to end.

use crate::run;
use serde_json::{json, Value};
use stormglass_core::report::{NodeDetail, RunReport};

fn scenario(queue: Value, consumer: Value, rate: f64) -> Value {
    let mut queue_node = json!({ "kind": "queue", "id": "jobs" });
    crate::merge(&mut queue_node, queue);
    let mut consumer_node = json!({ "kind": "service", "id": "workers", "workers": 5,
        "service_time": { "exponential": { "mean": "20ms" } }, "consumes": { "queue": "jobs" }, "side_effects": {} });
    crate::merge(&mut consumer_node, consumer);
    json!({ "version": 1, "seed": 1, "duration": "120s", "nodes": [
        { "kind": "client", "id": "producers", "rate": rate, "calls": [{ "to": "jobs" }] },
        queue_node,
        consumer_node,
        { "kind": "queue", "id": "dlq" } ] })
}

fn detail(report: &RunReport, id: &str) -> Value {
    serde_json::to_value(report.nodes.iter().find(|n| n.id == id).unwrap()).unwrap()
}

fn count(report: &RunReport, id: &str, field: &str) -> f64 {
    detail(report, id)[field].as_f64().unwrap_or_else(|| panic!("{id}.{field}"))
}

/// Poison messages come back every visibility timeout; with a redrive policy they move to the
/// dead-letter queue after max_receive_count receives and the healthy ones keep flowing.
#[test]
fn poison_messages_drain_to_the_dead_letter_queue() {
    let report = run(&scenario(
        json!({ "visibility_timeout": "5s", "max_receive_count": 3, "dead_letter": "dlq", "poison_rate": 0.01 }),
        json!({ "consumes": { "queue": "jobs", "partial_batch_failures": true } }),
        100.0,
    ));
    let sent = count(&report, "jobs", "sent");
    let dead = count(&report, "jobs", "dead_lettered");
    assert!((dead / sent - 0.01).abs() < 0.003, "about 1% dead-lettered: {dead} of {sent}");
    assert_eq!(count(&report, "dlq", "sent"), dead);
    // Each poison message is received 3 times: 2 redeliveries each.
    // (Plus those of poison messages still circulating at the end: 1/s over the last 15 s.)
    let redeliveries = count(&report, "jobs", "redeliveries");
    assert!(redeliveries >= 2.0 * dead && redeliveries <= 2.0 * dead + 40.0, "{redeliveries} vs 2 x {dead}");
    assert!(count(&report, "jobs", "visible_at_end") < 10.0, "the healthy messages keep flowing");
}

/// Without partial batch responses, one poison message returns its whole batch, so healthy
/// messages are processed again and again: duplicate side effects.
#[test]
fn a_failed_batch_returns_whole_without_partial_responses() {
    let with_partial = run(&scenario(
        json!({ "visibility_timeout": "2s", "max_receive_count": 5, "dead_letter": "dlq", "poison_rate": 0.02 }),
        json!({ "consumes": { "queue": "jobs", "partial_batch_failures": true } }),
        200.0,
    ));
    let whole = run(&scenario(
        json!({ "visibility_timeout": "2s", "max_receive_count": 5, "dead_letter": "dlq", "poison_rate": 0.02 }),
        json!({ "consumes": { "queue": "jobs", "partial_batch_failures": false } }),
        200.0,
    ));
    assert!(count(&with_partial, "workers", "duplicate_effects") < 5.0);
    assert!(count(&whole, "workers", "duplicate_effects") > 1000.0, "healthy messages of failed batches are redone");
    assert!(
        count(&whole, "jobs", "dead_lettered") > count(&with_partial, "jobs", "dead_lettered"),
        "and healthy ones die"
    );
}

/// Without a redrive policy, poison messages circulate forever, take more and more of the
/// consumer's time, and the healthy messages back up; with one, the same consumer keeps up.
#[test]
fn without_a_dead_letter_queue_poison_clogs_the_consumer() {
    let consumer = json!({ "workers": 2, "consumes": { "queue": "jobs", "partial_batch_failures": true } });
    let clogged = run(&scenario(json!({ "visibility_timeout": "2s", "poison_rate": 0.05 }), consumer.clone(), 80.0));
    let drained = run(&scenario(
        json!({ "visibility_timeout": "2s", "poison_rate": 0.05, "max_receive_count": 3, "dead_letter": "dlq" }),
        consumer,
        80.0,
    ));
    let failures = count(&clogged, "workers", "messages_failed");
    let poison_sent = 0.05 * count(&clogged, "jobs", "sent");
    assert!(failures > 5.0 * poison_sent, "each poison message fails again and again: {failures} vs {poison_sent}");
    assert!(count(&clogged, "jobs", "visible_at_end") > 500.0, "the backlog grows");
    assert!(count(&drained, "jobs", "visible_at_end") < 50.0, "with a dead-letter queue it does not");
}

/// A visibility timeout shorter than the processing time delivers messages again while they are
/// being processed: duplicate side effects, which an idempotency key removes.
#[test]
fn short_visibility_duplicates_work_and_idempotency_keys_fix_it() {
    let slow = json!({ "workers": 20, "service_time": { "uniform": { "min": "500ms", "max": "1500ms" } },
        "consumes": { "queue": "jobs", "batch_size": 1 } });
    let mut idempotent = slow.clone();
    idempotent["side_effects"] = json!({ "idempotency_window": "10m" });
    let duplicated = run(&scenario(json!({ "visibility_timeout": "1s" }), slow.clone(), 5.0));
    let deduplicated = run(&scenario(json!({ "visibility_timeout": "1s" }), idempotent, 5.0));
    let long_enough = run(&scenario(json!({ "visibility_timeout": "10s" }), slow, 5.0));
    assert!(count(&duplicated, "workers", "duplicate_effects") > 300.0);
    assert_eq!(count(&deduplicated, "workers", "duplicate_effects"), 0.0);
    assert!(count(&deduplicated, "workers", "deduplicated") > 300.0);
    assert_eq!(count(&long_enough, "workers", "duplicate_effects"), 0.0);
    assert_eq!(count(&long_enough, "jobs", "redeliveries"), 0.0);
}

/// Retries of a synchronous call whose first attempt timed out but still ran apply the effect
/// twice; an idempotency key prevents it.
#[test]
fn retries_after_timeouts_duplicate_side_effects() {
    let payments = |side_effects: Value| {
        run(&json!({ "version": 1, "seed": 2, "duration": "60s", "nodes": [
            { "kind": "client", "id": "shop", "rate": 50, "calls": [{ "to": "payments", "timeout": "100ms",
              "retry": { "max_attempts": 3 } }] },
            { "kind": "service", "id": "payments", "workers": 100, "side_effects": side_effects,
              "service_time": { "mixture": [{ "weight": 0.9, "dist": { "constant": "20ms" } },
                                           { "weight": 0.1, "dist": { "constant": "150ms" } }] } } ] }))
    };
    let plain = payments(json!({}));
    let keyed = payments(json!({ "idempotency_window": "1m" }));
    let duplicates = count(&plain, "payments", "duplicate_effects");
    let slow_share = duplicates / plain.summary.requests as f64;
    assert!((slow_share - 0.1 * 0.9 - 0.01 * 2.0).abs() < 0.03, "about every slow first attempt: {slow_share}");
    assert_eq!(count(&keyed, "payments", "duplicate_effects"), 0.0);
    assert!(count(&keyed, "payments", "deduplicated") > 0.0);
}

#[test]
fn queue_configuration_errors_name_the_field() {
    let errors = stormglass_core::parse_scenario(
        &scenario(json!({ "max_receive_count": 3 }), json!({ "consumes": { "queue": "dlq2", "batch_size": 11 } }), 1.0)
            .to_string(),
    )
    .unwrap_err()
    .to_string();
    assert!(errors.contains("nodes[1].max_receive_count: expected a dead_letter queue"), "{errors}");
    assert!(errors.contains("nodes[2].consumes.batch_size: expected 1 to 10"), "{errors}");
    assert!(errors.contains("nodes[2].consumes.queue: expected the id of a node"), "{errors}");
    let report = run(&scenario(json!({}), json!({}), 1.0));
    assert!(matches!(report.nodes[1].detail, NodeDetail::Queue { .. }));
}

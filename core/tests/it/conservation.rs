//! Every request and every attempt ends in exactly one outcome.

use crate::{golden_scenarios, run};
use stormglass_core::report::{NodeDetail, RunReport};

/// Checks the bookkeeping identities of a finished run.
pub fn assert_conserved(report: &RunReport, label: &str) {
    let s = &report.summary;
    assert_eq!(
        s.requests,
        s.succeeded + s.degraded + s.failed + s.unfinished,
        "{label}: requests = succeeded + degraded + failed + unfinished"
    );
    assert_eq!(
        s.failed,
        s.failed_timeout
            + s.failed_error
            + s.failed_rejected
            + s.failed_deadline
            + s.failed_short_circuit
            + s.failed_throttled,
        "{label}: failures by kind"
    );
    assert_eq!(
        s.attempts + s.refused_before_sending,
        s.requests + s.fallback_requests + s.retries + s.hedges,
        "{label}: attempts = first attempts + retries + hedges"
    );
    assert_eq!(
        s.attempts,
        s.attempt_successes
            + s.attempt_errors
            + s.attempt_rejections
            + s.attempt_timeouts
            + s.attempt_deadline_abandons
            + s.hedge_losers
            + s.attempts_awaited_at_end,
        "{label}: every attempt ends once for its caller"
    );
    let mut arrivals_total = 0;
    for node in &report.nodes {
        if let NodeDetail::Service {
            arrivals,
            completed,
            rejected,
            dropped,
            expired,
            shed,
            cancelled,
            queued_at_end,
            in_service_at_end,
            ..
        } = node.detail
        {
            assert_eq!(
                arrivals,
                completed
                    + rejected
                    + dropped
                    + expired
                    + shed
                    + cancelled
                    + u64::from(queued_at_end)
                    + u64::from(in_service_at_end),
                "{label}: every arrival at {} ends once for the server",
                node.id
            );
            arrivals_total += arrivals;
        }
    }
    for node in &report.nodes {
        if let NodeDetail::Queue { sent, deleted, dead_lettered, expired, visible_at_end, in_flight_at_end, .. } =
            node.detail
        {
            assert_eq!(
                sent,
                deleted + dead_lettered + expired + u64::from(visible_at_end) + u64::from(in_flight_at_end),
                "{label}: every message sent to {} is deleted, dead-lettered, expired or still there",
                node.id
            );
        }
    }
    // Attempts still on the network at the end never arrived; none arrive twice. (Services'
    // calls count too: their attempts are on the edges from services.)
    let attempts_all_edges: f64 = report
        .series
        .edges
        .iter()
        .map(|edge| edge.metrics["attempts_per_s"].iter().sum::<f64>() * report.series.bucket_s)
        .sum();
    assert!(
        arrivals_total as f64 <= attempts_all_edges.round() + 0.5,
        "{label}: arrivals {arrivals_total} <= attempts {attempts_all_edges}"
    );
    // Series agree with totals.
    let offered: f64 = report.series.system["offered_per_s"].iter().sum::<f64>() * report.series.bucket_s;
    let last_bucket_short = report.duration_s % report.series.bucket_s != 0.0;
    if !last_bucket_short {
        assert!(
            (offered - s.requests as f64).abs() < 0.5,
            "{label}: offered series sums to requests ({offered} vs {})",
            s.requests
        );
    }
}

#[test]
fn golden_scenarios_and_presets_conserve_requests_and_attempts() {
    for (name, json) in golden_scenarios() {
        let value: serde_json::Value = serde_json::from_str(&json).expect("golden scenario is JSON");
        let report = run(&value);
        assert_eq!(report.status, "finished", "{name}");
        assert_conserved(&report, &name);
    }
}

//! The simulator against queueing theory and closed forms.
//!
//! Tolerances come from the runs themselves: each case is replicated over independent seeds,
//! and the replication mean must lie within 4 standard errors of theory (a false alarm about
//! once in 16,000 runs), while the standard error itself must be small (< 3% of the value), so a
//! wrong model cannot pass by being noisy.

use crate::{client_service, run, service};
use serde_json::json;

/// Probability that an arrival waits in an M/M/c queue with offered load `a` = lambda/mu
/// erlangs (Erlang's C formula).
fn erlang_c(servers: u32, load_erlangs: f64) -> f64 {
    let c = f64::from(servers);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..servers {
        sum += term;
        term *= load_erlangs / f64::from(k + 1);
    }
    let tail = term * c / (c - load_erlangs);
    tail / (sum + tail)
}

/// Mean wait in queue of M/M/c, in ms.
fn mm_c_wait_ms(servers: u32, rate_per_s: f64, mean_service_ms: f64) -> f64 {
    let mu_per_ms = 1.0 / mean_service_ms;
    let lambda_per_ms = rate_per_s / 1000.0;
    erlang_c(servers, lambda_per_ms / mu_per_ms) / (f64::from(servers) * mu_per_ms - lambda_per_ms)
}

struct Replicated {
    mean: f64,
    standard_error: f64,
}

fn replicate(seeds: u64, mut measure: impl FnMut(u64) -> f64) -> Replicated {
    let values: Vec<f64> = (1..=seeds).map(&mut measure).collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Replicated { mean, standard_error: (variance / n).sqrt() }
}

fn assert_matches_theory(label: &str, measured: Replicated, theory: f64) {
    let Replicated { mean, standard_error } = measured;
    assert!(standard_error < 0.03 * theory, "{label}: too noisy to judge: se {standard_error} of {theory}");
    assert!(
        (mean - theory).abs() < 4.0 * standard_error,
        "{label}: measured {mean:.4} +- {standard_error:.4}, theory {theory:.4}"
    );
}

fn mean_wait_ms(duration: &str, rate: f64, workers: u32, service_time: serde_json::Value, seed: u64) -> f64 {
    let mut scenario =
        client_service(duration, rate, json!({}), json!({ "workers": workers, "service_time": service_time }));
    scenario["seed"] = json!(seed);
    service(&run(&scenario), "api").mean_wait_ms
}

#[test]
fn erlang_c_formula_sanity() {
    // M/M/1: P(wait) = rho.
    assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
    // A published table value: c = 10, a = 8 erlangs -> 0.4092.
    assert!((erlang_c(10, 8.0) - 0.4092).abs() < 1e-4);
}

#[test]
fn mm1_mean_wait_matches_theory() {
    // rho = 0.8: Wq = rho / (mu - lambda) = 4 ms.
    let theory = mm_c_wait_ms(1, 800.0, 1.0);
    assert!((theory - 4.0).abs() < 1e-9);
    let measured =
        replicate(10, |seed| mean_wait_ms("400s", 800.0, 1, json!({ "exponential": { "mean": "1ms" } }), seed));
    assert_matches_theory("M/M/1 rho 0.8", measured, theory);
}

#[test]
fn mmc_mean_wait_matches_erlang_c() {
    for (rate, label) in [(800.0, "M/M/10 rho 0.8"), (950.0, "M/M/10 rho 0.95")] {
        let theory = mm_c_wait_ms(10, rate, 10.0);
        let duration = if rate > 900.0 { "1500s" } else { "400s" };
        let measured =
            replicate(10, |seed| mean_wait_ms(duration, rate, 10, json!({ "exponential": { "mean": "10ms" } }), seed));
        assert_matches_theory(label, measured, theory);
    }
}

#[test]
fn md1_mean_wait_matches_pollaczek_khinchine() {
    // Constant service: Wq = rho / (2 mu (1 - rho)); rho = 0.5, 1 ms -> 0.5 ms.
    let measured = replicate(10, |seed| mean_wait_ms("200s", 500.0, 1, json!({ "constant": "1ms" }), seed));
    assert_matches_theory("M/D/1 rho 0.5", measured, 0.5);
}

/// Little's law, L = lambda W, holds on every sample path; only the ends of the run differ.
#[test]
fn littles_law_on_the_queue() {
    let report = run(&client_service("300s", 950.0, json!({}), json!({})));
    let api = service(&report, "api");
    let lambda_per_ms = api.arrivals as f64 / 300_000.0;
    let expected = lambda_per_ms * api.mean_wait_ms;
    assert!(
        (api.mean_queue_length - expected).abs() < 0.01 * expected,
        "L {} vs lambda W {}",
        api.mean_queue_length,
        expected
    );
    // And for the workers: mean busy = lambda x mean service time (10 ms of 10 workers).
    assert!((api.utilization - lambda_per_ms * 10.0 / 10.0).abs() < 0.01, "{}", api.utilization);
}

/// With failure probability x per attempt and N retries (no timeouts), a request succeeds with
/// probability 1 - x^(N+1) and costs (1 - x^(N+1)) / (1 - x) attempts on average.
#[test]
fn retry_success_and_load_match_closed_forms() {
    for (error_rate, max_attempts) in [(0.3_f64, 4_i32), (0.5, 3), (0.1, 2)] {
        let mut scenario = client_service(
            "200s",
            1000.0,
            json!({ "retry": { "max_attempts": max_attempts } }),
            json!({ "workers": 1000, "error_rate": error_rate, "service_time": { "constant": "1ms" } }),
        );
        scenario["seed"] = json!(7);
        let summary = run(&scenario).summary;
        let success = 1.0 - error_rate.powi(max_attempts);
        let load = success / (1.0 - error_rate);
        let n = summary.requests as f64;
        let success_se = (success * (1.0 - success) / n).sqrt();
        assert!(
            (summary.success_ratio - success).abs() < 4.0 * success_se + 1e-9,
            "x={error_rate}: success {} vs {success}",
            summary.success_ratio
        );
        // Attempts per request is a sum of n i.i.d. truncated geometrics; its variance is
        // below (N+1)^2 / 4, a generous bound for the standard error.
        let load_se = (f64::from(max_attempts).powi(2) / 4.0 / n).sqrt();
        assert!(
            (summary.amplification - load).abs() < 4.0 * load_se,
            "x={error_rate}: load {} vs {load}",
            summary.amplification
        );
    }
}

//! LLM endpoints end to end: token latency, per-minute limits and retry-after, overload, the
//! prompt cache, cold loads, output budgets, fallbacks and cost.

use crate::run;
use serde_json::{json, Value};
use stormglass_core::report::RunReport;

/// A client at `rate` (constant arrivals) calling LLM `model` (1000-token prompts, 101-token
/// answers, 0.5 s + 110 ms per 1000 prompt tokens + 20 ms per further output token, 100
/// slots), with `llm` merged over it and `call` over the call.
fn scenario(duration: &str, rate: f64, llm: Value, call: Value) -> Value {
    let mut node = json!({ "kind": "llm", "id": "model", "slots": 100,
        "prompt_tokens": { "constant": 1000 }, "output_tokens": { "constant": 101 },
        "latency": { "prefill_base": "500ms", "prefill_per_1k_tokens": "110ms", "time_per_output_token": "20ms" } });
    crate::merge(&mut node, llm);
    let mut call_object = json!({ "to": "model" });
    crate::merge(&mut call_object, call);
    json!({ "version": 1, "seed": 5, "duration": duration, "nodes": [
        { "kind": "client", "id": "users", "rate": rate, "arrivals": "constant", "calls": [call_object] },
        node ] })
}

fn detail(report: &RunReport, id: &str) -> Value {
    serde_json::to_value(report.nodes.iter().find(|n| n.id == id).unwrap()).unwrap()
}

fn count(report: &RunReport, id: &str, field: &str) -> f64 {
    detail(report, id)[field].as_f64().unwrap_or_else(|| panic!("{id}.{field}: {}", detail(report, id)))
}

/// Time to first token is prefill; the answer's time adds (output - 1) x time per token.
#[test]
fn latency_is_prefill_plus_tokens() {
    let report = run(&scenario("30s", 1.0, json!({}), json!({})));
    let latency = report.summary.latency_ms.as_ref().unwrap();
    // 500 + 1000 x 0.11 + 100 x 20 ms.
    assert_eq!((latency.p50, latency.max), (2_610.0, 2_610.0));
    let ttft = &detail(&report, "model")["ttft_ms"];
    assert_eq!(ttft["p50"].as_f64(), Some(610.0));
    assert_eq!(count(&report, "model", "output_tokens"), 30.0 * 101.0);
}

/// The output budget cuts long answers (and their time).
#[test]
fn the_output_budget_truncates_answers() {
    let report = run(&scenario("10s", 1.0, json!({ "max_output_tokens": 51 }), json!({})));
    assert_eq!(count(&report, "model", "truncated"), 10.0);
    assert_eq!(report.summary.latency_ms.as_ref().unwrap().max, 610.0 + 50.0 * 20.0);
}

/// Requests per minute: a bucket of 60 refilled at one a second. At 2 a second for 100 s,
/// the first 60 pass at once, then one a second: about 160 of 200.
#[test]
fn requests_per_minute_refuse_the_excess_with_429() {
    let report = run(&scenario("100s", 2.0, json!({ "rate_limits": { "requests_per_minute": 60 } }), json!({})));
    let admitted = count(&report, "model", "admitted");
    assert!((159.0..=161.0).contains(&admitted), "{admitted}");
    assert_eq!(count(&report, "model", "rate_limited"), 200.0 - admitted);
    assert_eq!(count(&report, "model", "rate_limited_requests_per_minute"), 200.0 - admitted);
    assert_eq!(report.summary.failed_rejected as f64, 200.0 - admitted);
}

/// Tokens per minute charge prompt + output budget: with a 10,000 TPM limit and 2,024-token
/// charges (1000 + a 1024 budget), 4 fit at once, then one per 12.1 s.
#[test]
fn tokens_per_minute_charge_the_prompt_and_the_budget() {
    let report = run(&scenario("121s", 1.0, json!({ "rate_limits": { "tokens_per_minute": 10000 } }), json!({})));
    // The bucket holds 10,000 and refills 10,000 a minute: by the last arrival (120 s) it has
    // given 30,000 tokens, 14 requests' worth.
    assert_eq!(count(&report, "model", "admitted"), 14.0);
    assert_eq!(count(&report, "model", "rate_limited_tokens_per_minute"), 121.0 - 14.0);
    // What the limit counted, in the summary and bucket by bucket (1 s buckets).
    assert_eq!(count(&report, "model", "charged_tokens"), 14.0 * 2024.0);
    let series = report.series.nodes.iter().find(|node| node.id == "model").unwrap();
    assert_eq!(series.metrics["charged_tokens_per_s"].iter().sum::<f64>(), 14.0 * 2024.0);
    // A request larger than the whole bucket is refused as too large, not told to retry.
    let report = run(&scenario("10s", 1.0, json!({ "rate_limits": { "tokens_per_minute": 2000 } }), json!({})));
    assert_eq!(count(&report, "model", "too_large"), 10.0);
    assert_eq!(count(&report, "model", "rate_limited"), 0.0);
}

/// Five users (closed loop) against 30 requests a minute. Retrying a 429 after 0.1 to 1 s is
/// refused again and again; waiting for its retry-after hint gets through as often (the limit is
/// the limit) with a third of the attempts and far fewer failed requests, but slower.
#[test]
fn honouring_retry_after_wastes_fewer_attempts() {
    let users = |honor: bool, refusals_count: bool| {
        let mut s = scenario(
            "300s",
            1.0,
            json!({ "rate_limits": { "requests_per_minute": 30, "refusals_count": refusals_count } }),
            json!({ "retry": { "max_attempts": 5, "backoff": { "exponential": { "base": "100ms", "cap": "1s" } },
                               "jitter": "full", "honor_pushback": honor } }),
        );
        let client = s["nodes"][0].as_object_mut().unwrap();
        client.remove("rate");
        client.remove("arrivals");
        client.insert("users".into(), json!(5));
        client.insert("think_time".into(), json!({ "exponential": { "mean": "2s" } }));
        run(&s)
    };
    let naive = users(false, false);
    let honouring = users(true, false);
    // Both get what the limit allows: 30 at once, then one every 2 s.
    for report in [&naive, &honouring] {
        assert!((175..=181).contains(&report.summary.succeeded), "{}", report.summary.succeeded);
    }
    assert!(honouring.summary.attempts * 2 < naive.summary.attempts);
    assert!(honouring.summary.failed * 3 < naive.summary.failed);
    let p99 = |report: &RunReport| report.summary.latency_ms.as_ref().unwrap().p99;
    assert!(p99(&honouring) > 2.0 * p99(&naive), "waiting for the limit shows as latency");

    // When refusals count against the limit too, retries keep it exhausted: goodput collapses.
    let locked_out = users(false, true);
    assert!(locked_out.summary.succeeded * 2 < naive.summary.succeeded);
}

/// A full slot queue answers "overloaded".
#[test]
fn a_full_queue_is_overloaded() {
    let report = run(&scenario("20s", 10.0, json!({ "slots": 1, "queue_capacity": 2 }), json!({})));
    // One slot serves one request per 2.61 s; most of the 10 a second are refused.
    let overloaded = count(&report, "model", "overloaded");
    assert!(overloaded > 150.0, "{overloaded}");
    assert_eq!(count(&report, "model", "completed"), 7.0);
}

/// A warm prompt cache reads the shared prefix: hits prefill 90% of the prompt at the cached
/// rate. A prefix idle longer than the TTL is evicted: every request misses.
#[test]
fn the_prompt_cache_cuts_time_to_first_token_until_it_expires() {
    let cache = json!({ "prompt_cache": { "ttl": "5m" } });
    let report = run(&scenario("60s", 1.0, cache, json!({})));
    assert_eq!(count(&report, "model", "cache_misses"), 1.0);
    assert_eq!(count(&report, "model", "cache_hits"), 59.0);
    // Hit: 500 + 100 x 0.11 + 900 x 0.019 = 528.1 ms to first token.
    let ttft = &detail(&report, "model")["ttft_ms"];
    assert!((ttft["p50"].as_f64().unwrap() - 528.1).abs() < 0.1, "{ttft}");
    assert_eq!(count(&report, "model", "cached_input_tokens"), 59.0 * 900.0);

    let expiring = json!({ "prompt_cache": { "ttl": "4s" } });
    let report = run(&scenario("60s", 0.2, expiring, json!({})));
    assert_eq!(count(&report, "model", "cache_hits"), 0.0);
}

/// A deployment scaled to zero loads its model for the first request; idle again, it unloads.
#[test]
fn a_model_scaled_to_zero_loads_first() {
    let cold = json!({ "cold_load": { "load_time": "30s", "scale_to_zero_after": "60s" } });
    // Requests at 0, 100, 200 s: each finds the model unloaded (idle 97 s > 60 s).
    let report = run(&scenario("300s", 0.01, cold.clone(), json!({})));
    assert_eq!(count(&report, "model", "loads"), 3.0);
    assert_eq!(count(&report, "model", "requests_waited_for_load"), 3.0);
    assert_eq!(report.summary.latency_ms.as_ref().unwrap().p50, 32_610.0);
    // Every 20 s: loaded once, then warm.
    let report = run(&scenario("300s", 0.05, cold, json!({})));
    assert_eq!(count(&report, "model", "loads"), 1.0);
}

/// A fallback model takes the requests the primary refuses.
#[test]
fn a_fallback_model_answers_what_the_primary_refuses() {
    let mut s = scenario(
        "120s",
        2.0,
        json!({ "rate_limits": { "requests_per_minute": 60 } }),
        json!({ "fallback": { "call": { "to": "small" } } }),
    );
    s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "llm", "id": "small", "slots": 100,
        "prompt_tokens": { "constant": 1000 }, "output_tokens": { "constant": 101 },
        "price": { "input_per_million_usd": 0.25, "output_per_million_usd": 1.25 } }));
    let report = run(&s);
    assert_eq!(report.summary.failed, 0);
    let refused = count(&report, "model", "rate_limited");
    assert!(refused > 50.0);
    assert_eq!(count(&report, "small", "admitted"), refused);
}

/// Cost: tokens at the endpoint's prices.
#[test]
fn cost_is_tokens_at_their_prices() {
    let prices = json!({ "price": { "input_per_million_usd": 3, "output_per_million_usd": 15 } });
    let report = run(&scenario("100s", 1.0, prices, json!({})));
    // Per request: 1000 x $3 / 1M + 101 x $15 / 1M = $0.004515.
    assert!((count(&report, "model", "cost_usd") - 100.0 * 0.004_515).abs() < 1e-12);
    assert!((count(&report, "model", "cost_per_1000_requests_usd") - 4.515).abs() < 1e-9);
}

/// A latency budget: a call timeout of 1 s on a model that answers in 2.61 s gives up on it
/// and falls back to a small model (0.2 s + 1 ms per output token), which answers everyone in
/// 1 s + 0.3 s. The abandoned answers still cost: the primary decodes and bills them.
#[test]
fn a_latency_budget_falls_back_to_a_faster_model() {
    let mut s = scenario("60s", 1.0, json!({}), json!({ "timeout": "1s", "fallback": { "call": { "to": "small" } } }));
    s["nodes"].as_array_mut().unwrap().push(json!({ "kind": "llm", "id": "small", "slots": 100,
        "prompt_tokens": { "constant": 1000 }, "output_tokens": { "constant": 101 },
        "latency": { "prefill_base": "200ms", "prefill_per_1k_tokens": "0ms", "time_per_output_token": "1ms" } }));
    let report = run(&s);
    assert_eq!(report.summary.failed, 0);
    // One request a second; the last one's fallback ends after the run.
    assert_eq!(count(&report, "small", "completed"), 59.0);
    let latency = report.summary.latency_ms.as_ref().unwrap();
    assert_eq!((latency.p50, latency.max), (1_300.0, 1_300.0));
    // Timeouts do not reach the server: the primary finishes (and bills) what it started.
    assert!(count(&report, "model", "completed") >= 58.0);
    assert!(count(&report, "model", "cost_usd") > 0.0);
}

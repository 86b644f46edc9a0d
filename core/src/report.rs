//! What a run reports: summary numbers, per-node summaries, recovery verdicts and bucketed
//! time series. Plain data, serialisable, the same natively and in wasm.

use crate::metrics::recovery::FaultVerdict;
use crate::prelude::*;
use serde::Serialize;

/// Named series of one scope, each with one value per bucket. Rates are per second; NaN
/// (JSON null) marks a bucket without data, such as a latency when nothing succeeded.
pub type Metrics = BTreeMap<&'static str, Vec<f64>>;

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub name: String,
    pub seed: u64,
    /// "running", "finished" or "stopped" (a limit was reached; see `stop_reason`).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Simulated time reached, in seconds.
    pub simulated_s: f64,
    /// Length of the scenario, in seconds.
    pub duration_s: f64,
    pub events: u64,
    /// Digest of the event trace: equal digests mean identical runs.
    pub digest: String,
    pub summary: Summary,
    pub nodes: Vec<NodeSummary>,
    pub verdicts: Vec<FaultVerdict>,
    pub series: SeriesReport,
}

/// The clients' requests over the whole run (calls between services are in the per-node
/// and per-edge series).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub requests: u64,
    /// Attempts sent on the clients' calls (retries, hedges and fallback calls included).
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    /// Fallback calls made after a final failure.
    pub fallback_requests: u64,
    /// Requests and fallbacks that sent no attempt at all (refused locally, deadline gone).
    pub refused_before_sending: u64,
    /// attempts / requests.
    pub amplification: f64,
    pub succeeded: u64,
    /// Answered by a degraded fallback: not a failure, not a success.
    pub degraded: u64,
    /// Requests that finally failed, by how.
    pub failed: u64,
    pub failed_timeout: u64,
    pub failed_error: u64,
    pub failed_rejected: u64,
    pub failed_deadline: u64,
    pub failed_short_circuit: u64,
    pub failed_throttled: u64,
    /// Requests still in progress when the run ended.
    pub unfinished: u64,
    /// succeeded / requests.
    pub success_ratio: f64,
    pub attempt_successes: u64,
    pub attempt_timeouts: u64,
    pub attempt_errors: u64,
    pub attempt_rejections: u64,
    /// Attempts abandoned when their request's deadline passed.
    pub attempt_deadline_abandons: u64,
    /// Attempts of hedged requests left behind when another attempt won.
    pub hedge_losers: u64,
    /// Answers that came after the caller gave up, and were discarded.
    pub late_responses: u64,
    /// Attempts the callers still waited for when the run ended.
    pub attempts_awaited_at_end: u64,
    /// Attempts still queued or in service at the end whose callers had given up.
    pub attempts_abandoned_at_end: u64,
    pub offered_per_s: f64,
    pub goodput_per_s: f64,
    /// When the last request ended, in seconds (for a fixed batch: how long it took).
    pub last_outcome_s: f64,
    /// End-to-end latency of requests that succeeded (fallbacks included).
    pub latency_ms: Option<Percentiles>,
    /// Latency of the clients' attempts answered in time.
    pub attempt_latency_ms: Option<Percentiles>,
    /// Share of all worker time spent on attempts whose caller had given up.
    pub wasted_work_share: f64,
    pub wasted_work_s: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub mean: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeSummary {
    pub id: String,
    pub kind: &'static str,
    #[serde(flatten)]
    pub detail: NodeDetail,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum NodeDetail {
    Client {
        requests: u64,
        /// Attempts on its calls (fallbacks included).
        attempts: u64,
        succeeded: u64,
        degraded: u64,
        failed: u64,
        timeouts: u64,
        latency_ms: Option<Percentiles>,
    },
    Service {
        workers: u32,
        arrivals: u64,
        completed: u64,
        failed: u64,
        rejected: u64,
        dropped: u64,
        /// Queued attempts refused because their deadline had passed.
        expired: u64,
        /// Refused by admission control or dropped by queue management.
        shed: u64,
        /// Cancelled by their callers.
        cancelled: u64,
        /// Side effects applied once, applied again (duplicates), suppressed by idempotency.
        effects: u64,
        duplicate_effects: u64,
        deduplicated: u64,
        /// Queue messages processed as a consumer, and those that failed.
        messages_processed: u64,
        messages_failed: u64,
        /// Busy worker time / available worker time.
        utilization: f64,
        /// Mean time from arrival to start of service, of attempts that started.
        mean_wait_ms: f64,
        /// Time-averaged queue length.
        mean_queue_length: f64,
        max_queue_length: u32,
        /// Attempts waiting in the queue at the end.
        queued_at_end: u32,
        /// Attempts in service at the end.
        in_service_at_end: u32,
        wasted_work_share: f64,
    },
    Queue {
        sent: u64,
        received: u64,
        /// Receives of a message received before.
        redeliveries: u64,
        deleted: u64,
        /// Moved to the dead-letter queue.
        dead_lettered: u64,
        /// Dropped for age.
        expired: u64,
        visible_at_end: u32,
        in_flight_at_end: u32,
    },
    Function {
        /// Invocations that got an execution environment.
        invocations: u64,
        /// Of them, in a new environment (after its init phase).
        cold_starts: u64,
        /// Refused for want of an environment (429), by the limit that refused.
        throttled: u64,
        throttled_reserved: u64,
        throttled_account: u64,
        throttled_scaling_rate: u64,
        /// Handlers stopped at the function's timeout.
        timeouts: u64,
        /// Invocations that failed (errors and timeouts).
        failed: u64,
        /// Share of the billed time spent in init phases.
        init_share: f64,
        /// Mean invocations running at once.
        mean_concurrency: f64,
        environments_at_end: u32,
        /// Memory times billed duration.
        billed_gb_seconds: f64,
        /// Compute plus requests, at the function's prices.
        cost_usd: f64,
        async_accepted: u64,
        async_retries: u64,
        /// Events that failed for good: out of retries or too old.
        async_failed: u64,
        async_waiting_at_end: u32,
        effects: u64,
        duplicate_effects: u64,
        deduplicated: u64,
        messages_processed: u64,
        messages_failed: u64,
        wasted_work_share: f64,
    },
    Llm {
        /// Decoding slots.
        slots: u32,
        /// Requests that reached the endpoint.
        arrivals: u64,
        /// Admitted by the per-minute limits.
        admitted: u64,
        /// Refused with 429, in all and by the limit that refused.
        rate_limited: u64,
        rate_limited_requests_per_minute: u64,
        rate_limited_tokens_per_minute: u64,
        rate_limited_input_tokens_per_minute: u64,
        rate_limited_output_tokens_per_minute: u64,
        /// Refused: larger than a limit allows in a whole minute.
        too_large: u64,
        /// Refused as overloaded: the slot queue was full.
        overloaded: u64,
        completed: u64,
        failed: u64,
        input_tokens: u64,
        cached_input_tokens: u64,
        output_tokens: u64,
        /// Tokens taken from the tokens-per-minute limit: admitted requests' prompts plus their
        /// output budgets, and what refusals drained when they count (0 without that limit).
        charged_tokens: u64,
        /// Answers cut by the output budget.
        truncated: u64,
        cache_hits: u64,
        cache_misses: u64,
        /// Model loads, and requests that waited for one.
        loads: u64,
        requests_waited_for_load: u64,
        /// Time to first token (waits included) of the requests that reached a slot.
        ttft_ms: Option<Percentiles>,
        /// Output tokens per second over the run.
        output_tokens_per_s: f64,
        utilization: f64,
        mean_queue_length: f64,
        /// Tokens at the endpoint's prices.
        cost_usd: f64,
        cost_per_1000_requests_usd: f64,
    },
    Balancer {
        pool: Vec<String>,
        /// Instances ejected over the run (outlier detection).
        ejections: u32,
        /// Attempts that found no instance to route to.
        no_host: u64,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct SeriesReport {
    /// Bucket width, in seconds; bucket i covers [i * bucket_s, (i + 1) * bucket_s).
    pub bucket_s: f64,
    /// Buckets with data (fewer than the run's length if it stopped early or is running).
    pub buckets: u32,
    pub system: Metrics,
    pub nodes: Vec<NodeSeries>,
    pub edges: Vec<EdgeSeries>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeSeries {
    pub id: String,
    pub kind: &'static str,
    pub metrics: Metrics,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeSeries {
    pub from: String,
    pub to: String,
    pub metrics: Metrics,
}

//! Per-bucket counters for every edge and service, and system-wide gauges.

use crate::prelude::*;
use crate::time::SimDuration;

/// Client-side counts of one call edge during one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EdgeBucket {
    /// New requests.
    pub offered: u64,
    /// Attempts sent (first tries and retries).
    pub attempts: u64,
    pub retries: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Requests that failed after their last attempt.
    pub failed: u64,
    /// Attempts the caller gave up on.
    pub timeouts: u64,
    /// Attempts answered with an error.
    pub errors: u64,
    /// Attempts refused (queue full, node down, overloaded, no instance to route to).
    pub rejected: u64,
    /// Attempts refused locally by an open circuit breaker.
    pub short_circuited: u64,
    /// Attempts refused locally by adaptive throttling.
    pub throttled: u64,
    /// Attempts sent as hedges.
    pub hedges: u64,
    /// Requests answered by a degraded fallback.
    pub degraded: u64,
    /// The retry budget's level at the end of the bucket (NaN without a budget).
    pub budget_level: f64,
    /// The breaker was open or half-open at the end of the bucket.
    pub breaker_open: bool,
    /// End-to-end latency percentiles ([`LATENCY_QUANTILES`]) of the requests that succeeded
    /// in the bucket, in nanoseconds; `None` when none did.
    pub latency_ns: Option<[u64; 4]>,
}

/// Server-side counts and levels of one service during one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServiceBucket {
    pub arrivals: u64,
    /// Attempts whose service finished (successfully or with an error).
    pub completed: u64,
    /// Of those, attempts that failed.
    pub failed: u64,
    pub rejected: u64,
    /// Attempts swallowed by a hanging node.
    pub dropped: u64,
    /// Queued attempts refused because their propagated deadline had passed.
    pub expired: u64,
    /// Attempts refused by admission control or dropped by queue management.
    pub shed: u64,
    /// Attempts the caller cancelled, dropped from the queue or stopped in service.
    pub cancelled: u64,
    /// The concurrency limit at the end of the bucket (0 without a limiter).
    pub concurrency_limit: u32,
    /// Side effects applied for the first time, applied again (duplicates), suppressed by an
    /// idempotency key.
    pub effects: u64,
    pub duplicate_effects: u64,
    pub deduplicated: u64,
    /// Queue messages processed by this consumer, and those that failed.
    pub messages_processed: u64,
    pub messages_failed: u64,
    /// Integral of busy workers over the bucket, in worker-nanoseconds.
    pub busy_ns: u64,
    /// Integral of queue length over the bucket, in attempt-nanoseconds.
    pub queue_ns: u64,
    /// Service time spent on attempts whose caller had given up (counted when it is known).
    pub wasted_ns: u64,
    pub queue_max: u32,
    /// Queue length at the end of the bucket.
    pub queue_end: u32,
    /// Workers available at the end of the bucket (fewer during a worker-loss fault).
    pub workers_available: u32,
}

/// System-wide values of one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SystemBucket {
    pub requests_in_flight: u32,
    pub attempts_in_flight: u32,
    /// End-to-end latency percentiles of requests that succeeded in the bucket, in
    /// nanoseconds; `None` when none did.
    pub latency_ns: Option<[u64; 4]>,
}

/// A client's requests during one bucket, by their final outcome (after retries, hedges and
/// fallbacks): what its users see.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClientBucket {
    pub offered: u64,
    pub succeeded: u64,
    /// Answered by a degraded fallback.
    pub degraded: u64,
    pub failed: u64,
    /// End-to-end latency percentiles ([`LATENCY_QUANTILES`]) of the requests that succeeded
    /// in the bucket, in nanoseconds; `None` when none did.
    pub latency_ns: Option<[u64; 4]>,
}

/// A queue during one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueueBucket {
    pub sent: u64,
    pub received: u64,
    /// Receives of messages received before.
    pub redeliveries: u64,
    pub deleted: u64,
    /// Moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Dropped for age (retention).
    pub expired: u64,
    /// Messages visible, in flight, and the age of the oldest visible one at the end of the bucket.
    pub visible_end: u32,
    pub in_flight_end: u32,
    pub oldest_age_ns: u64,
    /// Age at processing (send to receive) percentiles ([`LATENCY_QUANTILES`]) of the messages
    /// received in the bucket.
    pub age_ns: Option<[u64; 4]>,
}

/// A load balancer during one bucket.
/// A serverless function's invocations, environments and event queues in one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FunctionBucket {
    /// Invocations that got an environment (warm or cold).
    pub invocations: u64,
    pub cold_starts: u64,
    /// Invocations refused for want of an environment (429).
    pub throttled: u64,
    /// Handlers stopped at the function's timeout.
    pub timeouts: u64,
    /// Init time of the cold starts.
    pub init_ns: u64,
    /// Billed duration (init included), rounded up to the millisecond per invocation, in
    /// on-demand and in provisioned environments.
    pub billed_ns: u64,
    pub billed_provisioned_ns: u64,
    pub environments_end: u32,
    /// Asynchronous events accepted, tried again, and finally failed (to the on-failure
    /// destination or discarded).
    pub async_accepted: u64,
    pub async_retries: u64,
    pub async_failed: u64,
    pub async_waiting_end: u32,
    /// Batches the queue pollers may process at once, at the end of the bucket.
    pub pollers_end: u32,
}

/// An LLM endpoint's requests and tokens in one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LlmBucket {
    /// Admitted by the limits.
    pub requests: u64,
    /// Refused with 429 by a per-minute limit.
    pub rate_limited: u64,
    /// Refused: larger than a limit's whole bucket.
    pub too_large: u64,
    /// Refused as overloaded: the slot queue was full.
    pub overloaded: u64,
    pub input_tokens: u64,
    /// Of the input tokens, those read from the prompt cache.
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// Tokens taken from the tokens-per-minute limit (admissions' charges, counted refusals').
    pub charged_tokens: u64,
    /// Answers cut by the output budget.
    pub truncated: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Model loads (scaled from zero).
    pub loads: u64,
    pub loaded_end: bool,
    /// Time to first token (wait included) of the requests that reached a slot.
    pub ttft_ns: Option<[u64; 4]>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BalancerBucket {
    /// Instances ejected at the end of the bucket.
    pub ejected_hosts: u32,
}

/// The quantiles in [`SystemBucket::latency_ns`].
pub const LATENCY_QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

/// All bucketed series of a run.
#[derive(Clone, Debug)]
pub struct Series {
    pub bucket: SimDuration,
    pub bucket_count: u32,
    pub clients: Vec<Vec<ClientBucket>>,
    pub edges: Vec<Vec<EdgeBucket>>,
    pub services: Vec<Vec<ServiceBucket>>,
    pub balancers: Vec<Vec<BalancerBucket>>,
    pub queues: Vec<Vec<QueueBucket>>,
    /// By service index; empty for services that are not functions.
    pub functions: Vec<Vec<FunctionBucket>>,
    /// By service index; empty for services that are not LLM endpoints.
    pub llms: Vec<Vec<LlmBucket>>,
    pub system: Vec<SystemBucket>,
}

impl Series {
    pub fn new(
        bucket: SimDuration,
        bucket_count: u32,
        client_count: usize,
        edge_count: usize,
        service_count: usize,
        balancer_count: usize,
        queue_count: usize,
    ) -> Series {
        let buckets = bucket_count as usize;
        Series {
            bucket,
            bucket_count,
            clients: vec![vec![ClientBucket::default(); buckets]; client_count],
            edges: vec![vec![EdgeBucket::default(); buckets]; edge_count],
            services: vec![vec![ServiceBucket::default(); buckets]; service_count],
            balancers: vec![vec![BalancerBucket::default(); buckets]; balancer_count],
            queues: vec![vec![QueueBucket::default(); buckets]; queue_count],
            functions: vec![Vec::new(); service_count],
            llms: vec![Vec::new(); service_count],
            system: vec![SystemBucket::default(); buckets],
        }
    }
}

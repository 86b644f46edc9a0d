//! The policy part of the scenario format: what a call edge and a service may say about
//! retries, budgets, breakers, hedging, fallbacks, admission and queue management. Every
//! parameter is optional where the policy has published defaults (POLICIES.md); the
//! validated values live in [`super::model`].

use super::duration::Duration;
use super::format::Call;
use crate::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// A retry budget shared by all requests of a call edge: when it runs dry, failures return
/// to the caller at once instead of being retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RetryBudget {
    /// AWS SDK standard retry quota: 500 tokens; a retry costs 5 (10 after a timeout); a
    /// success refunds the cost of its last retry, or 1.
    AwsStandard(AwsStandardBudget),
    /// gRPC retry throttling (A6): each failure -1 token, each success +token_ratio; no
    /// retries or hedges while tokens <= max_tokens / 2.
    Grpc(GrpcThrottling),
    /// Finagle RetryBudget: retries limited to a share of requests plus a floor per second,
    /// over a sliding window.
    Percentage(PercentageBudget),
    /// Envoy retry budget: concurrent retries at most max(min_retry_concurrency,
    /// budget_percent of active requests).
    Envoy(EnvoyBudget),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AwsStandardBudget {
    /// Tokens in the bucket. Default 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Cost of a retry after an error. Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_cost: Option<u32>,
    /// Cost of a retry after a timeout. Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_cost: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GrpcThrottling {
    /// Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<f64>,
    /// Default 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ratio: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PercentageBudget {
    /// Retries allowed per request. Default 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Retries allowed per second regardless of traffic. Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retries_per_s: Option<f64>,
    /// Window the budget is counted over. Default 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvoyBudget {
    /// Share of active requests that may be retries in flight, percent. Default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_percent: Option<f64>,
    /// Retries in flight always allowed. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retry_concurrency: Option<u32>,
}

/// Client-side adaptive throttling (Google SRE book): reject an attempt locally with
/// probability max(0, (requests - k accepts) / (requests + 1)).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdaptiveThrottle {
    /// Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<f64>,
    /// Window the counts cover. Default 2m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
}

/// A circuit breaker on a call edge: after enough failures it opens and fails calls at once,
/// then lets a few trial calls through to see whether the callee is back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Breaker {
    /// resilience4j defaults: >= 50% failures over the last 100 calls, open 60 s, 10 trials.
    Resilience4j,
    /// Hystrix defaults: >= 20 requests and >= 50% errors in 10 s, open 5 s, one trial.
    Hystrix,
    /// Opens after this many failures in a row.
    ConsecutiveFailures(ConsecutiveFailuresBreaker),
    /// Opens when the failure rate over a window of calls or of time reaches a threshold.
    FailureRate(FailureRateBreaker),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsecutiveFailuresBreaker {
    pub threshold: u32,
    /// How long it stays open. Default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_for: Option<Duration>,
    /// Trial calls when half open. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_open_trials: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FailureRateBreaker {
    /// Window of the last this many calls (give this or `window`). Default 100 calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_calls: Option<u32>,
    /// Window of the last this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
    /// Calls needed in the window before it can open. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_calls: Option<u32>,
    /// Failure rate that opens it, percent. Default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold_percent: Option<f64>,
    /// Default 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_for: Option<Duration>,
    /// Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_open_trials: Option<u32>,
}

/// Hedged requests: send another attempt after a delay while none has succeeded; the first
/// success wins (The Tail at Scale; gRPC's hedging policy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Hedge {
    /// Wait before each further attempt, like the p95 latency.
    pub delay: Duration,
    /// Attempts in total, the first included. Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Tell the servers of the losing attempts to stop (needs cancel_on_give_up semantics).
    #[serde(default, skip_serializing_if = "is_false")]
    pub cancel_losers: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What a request does when it has finally failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Answer with a degraded response (a default, a cached value): counted apart from
    /// successes.
    Degraded,
    /// Call another node instead; its outcome is the request's.
    Call(Box<Call>),
}

/// How a service answers when it refuses work for overload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Pushback {
    /// A retry-after hint. Without one, the answer means "overloaded, do not retry".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Duration>,
}

/// Admission control in front of a service's queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Admission {
    /// A cap on attempts admitted at once (queued or in service), fixed or adaptive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<ConcurrencyLimit>,
    /// A token-bucket rate limit on arrivals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Refuse sheddable work while the queue holds at least this many attempts (critical
    /// work is still queued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_sheddable_above: Option<u32>,
}

/// A concurrency limit: fixed, or adaptive after Netflix's concurrency-limits or Envoy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyLimit {
    Static(StaticLimit),
    /// Netflix AIMD: start 20 in [20, 200]; x0.9 on a drop or slow RTT, +1 when busy.
    Aimd(AdaptiveLimitRange),
    /// Netflix Vegas (their default): grows while the estimated queue is small.
    Vegas(AdaptiveLimitRange),
    /// Netflix Gradient2: follows the ratio of long-term to current RTT.
    Gradient2(AdaptiveLimitRange),
    /// Envoy adaptive concurrency (gradient controller): minRTT x 1.25 / sampleRTT.
    EnvoyGradient(AdaptiveLimitRange),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StaticLimit {
    pub limit: u32,
}

/// Overrides of an adaptive limit's published defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdaptiveLimitRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// AIMD only: a round trip longer than this counts as a drop. Default 5s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rate_per_s: f64,
    /// Bucket size (the burst allowed). Default: one second's worth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<f64>,
}

/// Active queue management: dropping queued work that has waited too long.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum QueueManagement {
    #[default]
    None,
    /// CoDel (RFC 8289): target 5 ms, interval 100 ms.
    Codel,
    /// Facebook's controlled delay (folly Codel): when the queue has not drained for 100 ms,
    /// drop work that waited more than 10 ms.
    ControlledDelay,
}

/// A load balancer's choice of instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BalancePolicy {
    #[default]
    RoundRobin,
    Random,
    /// The instance with the fewest attempts in flight.
    LeastOutstanding,
    /// The less busy of two random instances.
    PowerOfTwoChoices,
    /// Finagle's peak EWMA: latency x (outstanding + 1), of two random instances.
    PeakEwma,
}

/// Envoy outlier detection: eject an instance after consecutive errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OutlierDetection {
    /// Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_errors: Option<u32>,
    /// Ejection time, multiplied by the times ejected. Default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ejection: Option<Duration>,
    /// Default 300s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ejection: Option<Duration>,
    /// Most of the pool ejected at once, percent. Default 10 (so pools under 10 instances
    /// eject nobody, as in Envoy, unless always_eject_one_host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub always_eject_one_host: bool,
}

//! The serverless part of the scenario format: a function node in the style of AWS Lambda and
//! the account its functions share. Defaults are AWS's where AWS publishes them (POLICIES.md,
//! "AWS Lambda"); the validated values live in [`super::model::FunctionModel`].

use super::duration::Duration;
use super::format::{Call, CallMode, CompleteOn, Dist, SideEffects};
use crate::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// A serverless function (AWS Lambda). Each invocation runs in an execution environment of its
/// own: an idle warm one is reused at once, a new one first runs its init phase (a cold start).
/// Invocations that cannot get one are throttled (429): the function's reserved concurrency,
/// the account's concurrency and the scaling rate limit them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FunctionNode {
    /// Unique node id.
    pub id: String,
    /// Time the handler runs per invocation (per message when it processes a queue's batch).
    pub service_time: Dist,
    /// Probability that an invocation's handler fails. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub error_rate: f64,
    /// Memory, in MB (128 to 10240): what a GB-second bills. Default 128 (AWS's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    /// The handler is stopped, and the invocation fails, after this long (1s to 900s).
    /// Default 3s (AWS's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// The init phase of a new environment (a cold start), at most 10s. Default: log-normal,
    /// median 250ms, 99th percentile 1s (a small function on a managed runtime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_duration: Option<Dist>,
    /// Reserved concurrency: at most this many invocations at once, guaranteed to the
    /// function and taken from the account. Default: none (shares the account's unreserved
    /// concurrency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    /// Provisioned concurrency: environments kept initialized (never cold, never reaped).
    /// At most the reserved concurrency, if any. Default 0.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub provisioned_concurrency: u32,
    /// An idle on-demand environment is reaped after this long (AWS does not publish it;
    /// observed lifetimes run from minutes to hours). Default 10 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
    /// How fast new environments may be created. Default: AWS's rate since 2023.
    #[serde(default, skip_serializing_if = "is_default")]
    pub scaling: FunctionScaling,
    /// How callers invoke it: synchronously (they wait for the result; throttles are errors
    /// they see) or asynchronously (an event queue accepts at once and Lambda retries).
    #[serde(default, skip_serializing_if = "is_default")]
    pub invocation: Invocation,
    /// Asynchronous invocation: retries, event age and on-failure destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asynchronous: Option<AsyncInvocation>,
    /// Calls the handler makes, after its own time; the environment stays busy until they
    /// complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
    /// How the calls are made: one after another, or all at once.
    #[serde(default, skip_serializing_if = "is_default")]
    pub call_mode: CallMode,
    /// Parallel calls: which outcome completes the invocation.
    #[serde(default, skip_serializing_if = "is_default")]
    pub complete_on: CompleteOn,
    /// A queue as event source: Lambda's pollers receive batches and invoke the function with
    /// each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumes: Option<EventSource>,
    /// The work has side effects: repeats of the same request are duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_effects: Option<SideEffects>,
    /// Prices for the cost figures. Default: AWS's x86 on-demand prices (us-east-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<FunctionPrice>,
}

/// How fast a function may create new execution environments.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FunctionScaling {
    /// Since November 2023: up to 1,000 new environments every 10 seconds per function.
    #[default]
    #[serde(rename = "aws_2023")]
    Aws2023,
    /// Before November 2023: an immediate burst (3,000, 1,000 or 500 by region), then 500 more
    /// a minute.
    Legacy(LegacyScaling),
    /// A rate of your own: this many new environments every 10 seconds.
    PerTenSeconds(u32),
}

/// The scaling model before November 2023.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LegacyScaling {
    /// New environments allowed at once. Default 3000 (US East (N. Virginia), US West
    /// (Oregon), Europe (Ireland)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Further new environments a minute once the burst is used. Default 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
}

/// How callers invoke a function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Invocation {
    /// The caller waits for the result (RequestResponse).
    #[default]
    Sync,
    /// The caller's event is queued and acknowledged at once (Event); Lambda invokes the
    /// function from its internal queue and retries.
    Async,
}

/// Asynchronous invocation settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AsyncInvocation {
    /// Retries after a function error (0 to 2), one minute and then two minutes later.
    /// Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Throttled events are retried (backoff from 1s to 5 minutes) until they are this old
    /// (60s to 6h). Default 6h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_event_age: Option<Duration>,
    /// Id of a queue node that receives the events that finally failed or grew too old.
    /// Default: none (they are discarded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
}

/// A queue polled by Lambda on a function's behalf (an SQS event source mapping).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventSource {
    /// Id of the queue node.
    pub queue: String,
    /// Messages per batch (1 to 10). Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Report which messages of a batch failed, so the others are deleted. Off: one failure
    /// returns the whole batch to the queue.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial_batch_failures: bool,
    /// Most batches processed at once (2 to 1000). Default: as many as the pollers scale to
    /// (1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_concurrency: Option<u32>,
}

/// Prices of a function's use, in US dollars.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FunctionPrice {
    /// Per GB-second of billed duration (init included) in on-demand environments.
    /// Default 0.0000166667.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gb_second_usd: Option<f64>,
    /// Per GB-second of provisioned concurrency kept ready, used or not. Default 0.0000041667.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_gb_second_usd: Option<f64>,
    /// Per GB-second of billed duration in provisioned environments. Default 0.0000097222.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_duration_gb_second_usd: Option<f64>,
    /// Per million invocations. Default 0.20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_million_requests_usd: Option<f64>,
}

/// The cloud account the functions share.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Concurrent invocations of all functions together. Default 1000 (AWS's per region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<u32>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

//! The scenario JSON format, version 1, as serde types.
//!
//! These types mirror the JSON exactly (what a user writes); [`super::validate`] turns them into
//! a [`super::ValidScenario`] the simulator can trust. Doc comments here become the descriptions
//! in the published JSON Schema, so they are written for users.

use super::duration::Duration;
use super::llm::LlmNode;
use super::policies::*;
use super::serverless::{Account, FunctionNode};
use crate::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// The format version this build writes. Older versions are migrated on load.
pub const FORMAT_VERSION: u32 = 1;

/// A Stormglass scenario: a graph of clients and services, a fault timeline and a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; this build reads version 1.
    pub version: u32,
    /// A short title.
    #[serde(default)]
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What to change to see something interesting.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub what_to_try: String,
    /// Seed of every random stream in the run (0 to 2^53 - 1, so it survives JavaScript).
    #[serde(default)]
    pub seed: u64,
    /// Simulated length of the run, like "300s".
    pub duration: Duration,
    /// How results are bucketed over time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsSpec>,
    /// Bounds on the work a run may do; defaults suit the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
    /// The cloud account its functions share (concurrency limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// Clients and services. Ids must be unique.
    pub nodes: Vec<Node>,
    /// Faults injected over time windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
}

/// Time-series settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// Width of one time bucket, like "1s". Default: 1s, widened so a run has at most 2000 buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Duration>,
}

/// Work bounds for a run. A run that reaches one stops early and says which.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Most events the run may process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_max: Option<u64>,
    /// Most attempts alive at once (queued, in service or awaited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight_max: Option<u32>,
}

/// A node of the graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// An open-loop workload: requests arrive at a rate, whatever happens to earlier ones.
    Client(ClientNode),
    /// Workers serving a queue.
    Service(ServiceNode),
    /// Routes attempts to a pool of services.
    LoadBalancer(BalancerNode),
    /// A message queue (SQS-like): producers send to it, consumer services poll it.
    Queue(QueueNode),
    /// A serverless function (AWS Lambda-like): cold starts, concurrency limits, throttles.
    Function(FunctionNode),
    /// An LLM inference endpoint: token latency, per-minute limits, a prompt cache.
    Llm(LlmNode),
}

impl Node {
    pub fn id(&self) -> &str {
        match self {
            Node::Client(client) => &client.id,
            Node::Service(service) => &service.id,
            Node::LoadBalancer(balancer) => &balancer.id,
            Node::Queue(queue) => &queue.id,
            Node::Function(function) => &function.id,
            Node::Llm(llm) => &llm.id,
        }
    }
}

/// An open-loop client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientNode {
    /// Unique node id.
    pub id: String,
    /// Open loop: new requests per second, whatever happens to earlier ones. Give either
    /// `rate` or `users`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Open loop: how request arrivals are spaced.
    #[serde(default, skip_serializing_if = "is_default")]
    pub arrivals: Arrivals,
    /// Open loop: later changes of the rate: from each `at`, the rate is the new value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_changes: Vec<RateChange>,
    /// Closed loop: this many users, each sending a request, waiting for its outcome,
    /// thinking, and sending the next. Backoff then slows the offered load down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// Closed loop: a user's pause between an outcome and its next request. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think_time: Option<Dist>,
    /// Closed loop: requests each user makes before stopping. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_user: Option<u32>,
    /// How important this client's requests are, for priority queues and shedding; inherited
    /// by the downstream calls they cause. Default: critical.
    #[serde(default, skip_serializing_if = "is_default")]
    pub criticality: Criticality,
    /// The call each request makes (exactly one).
    pub calls: Vec<Call>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Request criticality, as in Google's load shedding (SRE book, "Handling Overload").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// Served first, shed last.
    CriticalPlus,
    /// The default.
    #[default]
    Critical,
    /// Shed before critical work.
    SheddablePlus,
    /// Shed first (batch jobs, prefetches).
    Sheddable,
}

/// How arrivals are spaced in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Independent arrivals (exponential gaps): real traffic from many users.
    #[default]
    Poisson,
    /// Evenly spaced arrivals.
    Constant,
}

/// A step change of a client's rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RateChange {
    /// When the new rate starts.
    pub at: Duration,
    /// New requests per second from then on.
    pub rate: f64,
}

/// A call edge from a client or a service to a service, with the caller's policies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// Id of the service called.
    pub to: String,
    /// A service's call: how many times it is made per job (in parallel mode, at once; in
    /// sequential mode, one after another). Default 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u32,
    /// A deadline for the whole request, across all its attempts, and its propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// One-way network delay, applied to the request and again to the response. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_delay: Option<Dist>,
    /// Per-attempt timeout: the caller gives up on an attempt after this long. The server is
    /// not told and keeps working on it. Default: wait forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Retries after a timeout or an error. Default: no retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// A budget that stops retries (and hedges) when too many attempts fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<RetryBudget>,
    /// Client-side adaptive throttling: attempts rejected locally when the callee accepts
    /// too few.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<AdaptiveThrottle>,
    /// A circuit breaker that fails calls at once while the callee keeps failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<Breaker>,
    /// Hedged requests (instead of retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedge: Option<Hedge>,
    /// What happens when the request has finally failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Tell the server when the caller gives up on an attempt (timeout, deadline, lost hedge),
    /// so it drops the attempt from its queue or stops working on it. Default: the server is
    /// not told and finishes the work.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cancel_on_give_up: bool,
}

fn one() -> u32 {
    1
}
fn is_one(value: &u32) -> bool {
    *value == 1
}

/// Deadlines: a request fails when its deadline passes, whatever its attempts are doing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// Time allowed for the request from its start, all attempts included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Duration>,
    /// A service's call: inherit the deadline of the request being served (as gRPC does),
    /// so downstream work stops mattering when the caller above has given up.
    #[serde(default, skip_serializing_if = "is_false")]
    pub propagate: bool,
    /// Subtracted from a propagated deadline at this hop, leaving time to answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_per_hop: Option<Duration>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A retry policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in total, the first one included (1 means no retries).
    pub max_attempts: u32,
    /// Wait before each retry.
    #[serde(default)]
    pub backoff: Backoff,
    /// Randomisation of the wait (AWS Architecture Blog, 2015).
    #[serde(default)]
    pub jitter: Jitter,
    /// Obey a service's pushback: no retry after "overloaded", or wait at least its
    /// retry-after hint.
    #[serde(default, skip_serializing_if = "is_false")]
    pub honor_pushback: bool,
}

/// Wait before retry n (n = 0 for the first retry).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Retry at once.
    #[default]
    None,
    /// The same wait before every retry.
    Constant(Duration),
    /// min(cap, base * multiplier^n).
    Exponential(ExponentialBackoff),
}

/// Exponential backoff parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExponentialBackoff {
    /// Wait before the first retry.
    pub base: Duration,
    /// Longest wait.
    pub cap: Duration,
    /// Growth per retry. Default 2.
    #[serde(default = "default_multiplier", skip_serializing_if = "is_default_multiplier")]
    pub multiplier: f64,
}

fn default_multiplier() -> f64 {
    2.0
}
fn is_default_multiplier(multiplier: &f64) -> bool {
    *multiplier == 2.0
}

/// Jitter applied to the backoff wait w.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Wait exactly w.
    #[default]
    None,
    /// Uniform in [0, w).
    Full,
    /// w/2 plus uniform in [0, w/2).
    Equal,
    /// min(cap, uniform in [base, 3 * previous wait)); needs exponential backoff.
    Decorrelated,
}

/// A service: workers taking attempts from a queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceNode {
    /// Unique node id.
    pub id: String,
    /// Attempts served at once.
    pub workers: u32,
    /// The waiting line in front of the workers.
    #[serde(default)]
    pub queue: QueueSpec,
    /// Time a worker spends on one attempt.
    pub service_time: Dist,
    /// Probability that an attempt fails (after its service time). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub error_rate: f64,
    /// Calls to other services made for each attempt, after its own service time; the worker
    /// stays busy until they complete (a thread per request).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
    /// How the calls are made: one after another, or all at once.
    #[serde(default, skip_serializing_if = "is_default")]
    pub call_mode: CallMode,
    /// Parallel calls: which outcome completes the attempt.
    #[serde(default, skip_serializing_if = "is_default")]
    pub complete_on: CompleteOn,
    /// Drop queued attempts whose propagated deadline has passed instead of serving them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub drop_expired: bool,
    /// A contended record: each attempt is an optimistic read-modify-write of one shared row,
    /// reading its version when service starts and writing at the end; the write fails (an
    /// error) if another attempt wrote in between (the AWS backoff study's contention).
    #[serde(default, skip_serializing_if = "is_false")]
    pub write_conflicts: bool,
    /// Admission control: concurrency limits, rate limits, shedding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<Admission>,
    /// Answer refusals for overload as "overloaded" (with an optional retry-after hint)
    /// instead of a plain rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushback: Option<Pushback>,
    /// Poll a queue: idle workers receive batches of messages and process them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumes: Option<Consumer>,
    /// The work has side effects (a payment, an email): each request's effect is counted, and
    /// repeats of the same request (retries, redeliveries, hedges) are duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_effects: Option<SideEffects>,
}

/// A service polling a queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// Id of the queue node.
    pub queue: String,
    /// Messages received per poll (1 to 10, as SQS ReceiveMessage). Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Report which messages of a batch failed, so the others are deleted. Off: one failure
    /// returns the whole batch to the queue.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial_batch_failures: bool,
}

/// Side effects and their protection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SideEffects {
    /// An idempotency key remembered this long: a repeat within it is answered without
    /// applying the effect again. Default: no idempotency (repeats apply again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_window: Option<Duration>,
}

/// A message queue with the delivery semantics of an Amazon SQS standard queue: at least once,
/// a visibility timeout, redelivery, a dead-letter queue after too many receives, retention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QueueNode {
    /// Unique node id.
    pub id: String,
    /// A received message stays invisible this long; not deleted by then, it is delivered
    /// again. Default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_timeout: Option<Duration>,
    /// Receives before a message moves to the dead-letter queue (1 to 1000). Needs
    /// `dead_letter`. Default: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_receive_count: Option<u32>,
    /// Id of the queue node that takes messages over `max_receive_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// Messages older than this are dropped. Default 4 days (SQS allows 60s to 14 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Duration>,
    /// Share of the messages sent whose processing always fails (poison messages).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poison_rate: f64,
}

/// A load balancer: routes each attempt to one service of its pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BalancerNode {
    /// Unique node id.
    pub id: String,
    /// Ids of the services it routes to (instances, which may differ).
    pub pool: Vec<String>,
    /// How it picks an instance.
    #[serde(default)]
    pub policy: BalancePolicy,
    /// Eject instances that keep failing (Envoy outlier detection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
}

/// How a service makes its calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallMode {
    /// One after another; the first failure fails the attempt.
    #[default]
    Sequential,
    /// All at once (fan-out).
    Parallel,
}

/// When parallel calls complete an attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CompleteOn {
    /// Every call must succeed (the first failure fails the attempt).
    #[default]
    All,
    /// The first success completes it.
    Any,
    /// This many successes complete it.
    Quorum(u32),
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

/// A service queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Most attempts waiting; an attempt arriving to a full queue is rejected at once.
    /// Default: unbounded (up to the run's in-flight limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Which waiting attempt a free worker takes.
    #[serde(default)]
    pub discipline: Discipline,
    /// Dropping work that waited too long.
    #[serde(default, skip_serializing_if = "is_default")]
    pub management: QueueManagement,
}

/// Queue discipline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    /// Oldest first.
    #[default]
    Fifo,
    /// Newest first: under overload, serves the attempts whose callers still wait.
    Lifo,
    /// FIFO normally, LIFO once the queue is overloaded (Facebook, Fail at Scale).
    AdaptiveLifo,
    /// Most critical first, FIFO within a criticality.
    Priority,
}

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dist {
    /// Always the same.
    Constant(Duration),
    /// Exponential (memoryless) with this mean.
    Exponential(ExponentialDist),
    /// Log-normal given by its median and 99th percentile.
    Lognormal(LognormalDist),
    /// Uniform between two values.
    Uniform(UniformDist),
    /// A weighted mixture, like 99% fast and 1% slow.
    Mixture(Vec<MixtureComponent>),
}

/// Exponential distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExponentialDist {
    pub mean: Duration,
}

/// Log-normal distribution by percentiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LognormalDist {
    pub p50: Duration,
    pub p99: Duration,
}

/// Uniform distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UniformDist {
    pub min: Duration,
    pub max: Duration,
}

/// One component of a mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MixtureComponent {
    /// Relative weight (the weights need not sum to 1).
    pub weight: f64,
    /// The component (not itself a mixture).
    pub dist: Dist,
}

/// A fault on one node during [start, end). Give one or more effects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Id of the node affected.
    pub node: String,
    /// When the fault begins.
    pub start: Duration,
    /// When it ends (exclusive).
    pub end: Duration,
    /// Service: multiply service times by this factor (3 = three times slower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<f64>,
    /// Service: add this to every service time (a worker is held for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_latency: Option<Duration>,
    /// Service: probability that an attempt fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Service: the node is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
    /// Service: this many workers are lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers_lost: Option<u32>,
    /// Client: multiply the request rate by this factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surge: Option<f64>,
}

/// How a down node behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    /// Every arriving attempt is refused at once (connection refused, 503).
    FailFast,
    /// Arriving attempts are accepted and never answered; callers wait for their timeout.
    Hang,
}

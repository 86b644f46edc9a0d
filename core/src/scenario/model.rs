//! The validated scenario: what the simulator runs. Every value here has been checked, every
//! reference resolved to an index, every duration turned into nanoseconds.

use super::format::{Arrivals, CallMode, CompleteOn, Criticality, Discipline, Jitter, Outage, Scenario};
use super::policies::QueueManagement;
use crate::dist::DistModel;
use crate::policy::balancer::{OutlierConfig, PickPolicy};
use crate::policy::breaker::BreakerConfig;
use crate::policy::budget::RetryBudgetConfig;
use crate::policy::limiter::LimiterConfig;
use crate::prelude::*;
use crate::time::{SimDuration, SimTime};

/// A scenario that passed validation. Only [`super::parse_scenario`] and
/// [`super::validate`] make one, so holding one is proof the input is sound.
#[derive(Clone, Debug)]
pub struct ValidScenario {
    /// The scenario as written (for display, export and share links).
    pub scenario: Scenario,
    pub seed: u64,
    pub duration: SimDuration,
    pub bucket: SimDuration,
    pub bucket_count: u32,
    pub events_max: u64,
    pub in_flight_max: u32,
    pub nodes: Vec<NodeModel>,
    pub clients: Vec<ClientModel>,
    pub services: Vec<ServiceModel>,
    pub balancers: Vec<BalancerModel>,
    pub queues: Vec<QueueModel>,
    pub edges: Vec<EdgeModel>,
    /// Concurrency the functions share (AWS's account limit per region).
    pub account_concurrency_limit: u32,
    pub faults: Vec<FaultModel>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Client,
    Service,
    Balancer,
    Queue,
    /// A serverless function: a service (its index is into `services`) whose capacity is a
    /// fleet of execution environments.
    Function,
    /// An LLM endpoint: a service (its index is into `services`) whose workers are decoding
    /// slots and whose work is measured in tokens.
    Llm,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Client => "client",
            NodeKind::Service => "service",
            NodeKind::Balancer => "load_balancer",
            NodeKind::Queue => "queue",
            NodeKind::Function => "function",
            NodeKind::Llm => "llm",
        }
    }

    /// The kind with its article, as error messages say it: "a load balancer", "an LLM endpoint".
    pub fn with_article(self) -> &'static str {
        match self {
            NodeKind::Client => "a client",
            NodeKind::Service => "a service",
            NodeKind::Balancer => "a load balancer",
            NodeKind::Queue => "a queue",
            NodeKind::Function => "a function",
            NodeKind::Llm => "an LLM endpoint",
        }
    }
}

/// A node's identity; `index` points into `clients`, `services` (services and functions),
/// `balancers` or `queues` by `kind`.
#[derive(Clone, Debug)]
pub struct NodeModel {
    pub id: String,
    pub kind: NodeKind,
    pub index: u16,
}

#[derive(Clone, Debug)]
pub struct ClientModel {
    pub node: u16,
    pub workload: Workload,
    pub criticality: Criticality,
    pub edge: u16,
    /// Arrival gaps (open loop) or think times (closed loop).
    pub arrival_stream_id: u64,
}

/// Where a client's requests come from.
#[derive(Clone, Debug)]
pub enum Workload {
    /// Requests arrive at a rate, whatever happens to earlier ones.
    Open {
        arrivals: Arrivals,
        rate_per_s: f64,
        /// Sorted by time, strictly increasing.
        rate_changes: Vec<(SimTime, f64)>,
    },
    /// Each of `users` sends a request, waits for its outcome, thinks, and sends again.
    Closed { users: u32, think_time: Option<DistModel>, requests_per_user: Option<u32> },
}

#[derive(Clone, Debug)]
pub struct EdgeModel {
    pub from_node: u16,
    /// The caller is a client (its requests are the ones the summary counts).
    pub from_client: bool,
    pub to_node: u16,
    /// Where its attempts go.
    pub target: Target,
    /// Times the call is made per job (service calls; 1 for clients).
    pub count: u32,
    pub network_delay: Option<DistModel>,
    pub timeout: Option<SimDuration>,
    pub retry: RetryModel,
    /// Time allowed for a request across all its attempts.
    pub deadline_total: Option<SimDuration>,
    /// Inherit the deadline of the request being served, minus `deadline_reduction`.
    pub propagate_deadline: bool,
    pub deadline_reduction: SimDuration,
    pub budget: Option<RetryBudgetConfig>,
    /// Client-side adaptive throttling (a budget of the `AdaptiveThrottling` kind).
    pub throttle: Option<RetryBudgetConfig>,
    pub breaker: Option<BreakerConfig>,
    pub hedge: Option<HedgeModel>,
    pub fallback: FallbackModel,
    pub cancel_on_give_up: bool,
    /// This edge is another edge's fallback call.
    pub is_fallback: bool,
    pub network_stream_id: u64,
    pub jitter_stream_id: u64,
    /// Draws of adaptive throttling and of load-balancer picks made for this edge.
    pub policy_stream_id: u64,
}

/// Where a call's attempts go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Service(u16),
    /// A load balancer, which picks a service of its pool for each attempt.
    Balancer(u16),
    /// A queue: the attempt sends a message.
    Queue(u16),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HedgeModel {
    pub delay: SimDuration,
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    pub cancel_losers: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FallbackModel {
    None,
    /// Succeed with a degraded answer (counted apart).
    Degraded,
    /// Call this edge (from the same caller) instead.
    Call(u16),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetryModel {
    /// Attempts in total, the first included; 1 means never retry.
    pub max_attempts: u32,
    pub backoff: BackoffModel,
    pub jitter: Jitter,
    pub honor_pushback: bool,
}

impl RetryModel {
    pub const NEVER: RetryModel =
        RetryModel { max_attempts: 1, backoff: BackoffModel::None, jitter: Jitter::None, honor_pushback: false };
}

#[derive(Clone, Debug, PartialEq)]
pub enum BackoffModel {
    None,
    Constant { delay: SimDuration },
    Exponential { base: SimDuration, cap: SimDuration, multiplier: f64 },
}

#[derive(Clone, Debug)]
pub struct ServiceModel {
    pub node: u16,
    pub workers: u32,
    pub queue_capacity: Option<u32>,
    pub discipline: Discipline,
    pub service_time: DistModel,
    pub error_rate: f64,
    /// Edges of the calls made for each attempt, in order.
    pub calls: Vec<u16>,
    pub call_mode: CallMode,
    pub complete_on: CompleteOn,
    /// Calls made per attempt, counts included.
    pub call_slots: u32,
    pub drop_expired: bool,
    pub write_conflicts: bool,
    pub management: QueueManagement,
    pub limiter: Option<LimiterConfig>,
    /// Token bucket: (capacity, refill per second).
    pub rate_limit: Option<(f64, f64)>,
    pub shed_sheddable_above: Option<u32>,
    /// Answer overload refusals as "overloaded", with this retry-after hint if any.
    pub pushback: Option<Option<SimDuration>>,
    pub consumer: Option<ConsumerModel>,
    /// Side effects are counted; `Some(window)` deduplicates repeats within it.
    pub side_effects: Option<Option<SimDuration>>,
    /// A serverless function: its capacity is a fleet of execution environments, not workers.
    pub function: Option<Box<FunctionModel>>,
    /// An LLM endpoint: its service time comes from token counts, its admission from
    /// per-minute limits.
    pub llm: Option<Box<LlmModel>>,
    pub service_time_stream_id: u64,
    pub error_stream_id: u64,
}

impl ServiceModel {
    /// A service of node `id` with only its capacity and service: FIFO, unbounded queue, no
    /// calls, no admission policy, no consumer; its random streams keyed by `id`. Services,
    /// functions and LLM endpoints start from it and set what they add.
    pub fn plain(node: u16, id: &str, workers: u32, service_time: DistModel, error_rate: f64) -> ServiceModel {
        ServiceModel {
            node,
            workers,
            queue_capacity: None,
            discipline: Discipline::Fifo,
            service_time,
            error_rate,
            calls: Vec::new(),
            call_mode: CallMode::default(),
            complete_on: CompleteOn::default(),
            call_slots: 0,
            drop_expired: false,
            write_conflicts: false,
            management: QueueManagement::None,
            limiter: None,
            rate_limit: None,
            shed_sheddable_above: None,
            pushback: None,
            consumer: None,
            side_effects: None,
            function: None,
            llm: None,
            service_time_stream_id: crate::rng::stream_id(&[id, "service_time"]),
            error_stream_id: crate::rng::stream_id(&[id, "errors"]),
        }
    }
}

/// What makes a service a serverless function.
#[derive(Clone, Debug)]
pub struct FunctionModel {
    pub fleet: crate::components::fleet::FleetConfig,
    pub memory_mb: u32,
    /// The handler's time limit (init not included).
    pub timeout: SimDuration,
    /// Init phase of a new environment; draws are capped at [`FunctionModel::INIT_MAX`].
    pub init_duration: DistModel,
    /// `Some` for asynchronous invocation.
    pub asynchronous: Option<AsyncModel>,
    /// Event source: most batches in flight at once.
    pub pollers_max: u32,
    pub price: FunctionPrices,
    pub init_stream_id: u64,
}

impl FunctionModel {
    /// Lambda limits the init phase to 10 s.
    pub const INIT_MAX: SimDuration = SimDuration::from_secs(10);
}

/// What makes a service an LLM endpoint.
#[derive(Clone, Debug)]
pub struct LlmModel {
    pub endpoint: crate::components::llm::LlmEndpointConfig,
    /// Token counts, drawn as if they were nanoseconds (see [`LlmModel::tokens`]).
    pub prompt_tokens: DistModel,
    pub output_tokens: DistModel,
    pub max_output_tokens: u64,
    /// Prompt prefixes the requests spread over (1 without a cache).
    pub prefixes: u32,
    pub price: crate::components::llm::PriceTable,
    pub token_stream_id: u64,
    pub cache_stream_id: u64,
}

impl LlmModel {
    /// A token count drawn from `dist` (a distribution over counts, kept as nanoseconds so
    /// that the duration distributions serve), at least 1.
    pub fn tokens(dist: &DistModel, stream: &mut crate::rng::Stream) -> u64 {
        dist.sample(stream).0.max(1)
    }
}

/// A function's prices, in US dollars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FunctionPrices {
    /// Per GB-second of duration in on-demand environments.
    pub gb_second_usd: f64,
    /// Per GB-second of provisioned concurrency allocated.
    pub provisioned_gb_second_usd: f64,
    /// Per GB-second of duration in provisioned environments.
    pub provisioned_duration_gb_second_usd: f64,
    pub per_million_requests_usd: f64,
}

/// Asynchronous invocation: Lambda's internal event queue and its retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncModel {
    /// Retries after a function error (0 to 2).
    pub max_retries: u32,
    /// Events are retried after throttles until they are this old.
    pub max_event_age: SimDuration,
    /// Queue index of the on-failure destination.
    pub on_failure: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumerModel {
    pub queue: u16,
    pub batch_size: u32,
    pub partial_batch_failures: bool,
}

#[derive(Clone, Debug)]
pub struct QueueModel {
    pub node: u16,
    pub broker: crate::components::broker::BrokerConfig,
    pub dead_letter: Option<u16>,
    pub poison_rate: f64,
    pub poison_stream_id: u64,
}

#[derive(Clone, Debug)]
pub struct BalancerModel {
    pub node: u16,
    /// Service indices of the pool, in the order written.
    pub pool: Vec<u16>,
    pub policy: PickPolicy,
    pub outlier: Option<OutlierConfig>,
}

#[derive(Clone, Debug)]
pub struct FaultModel {
    pub node: u16,
    pub start: SimTime,
    pub end: SimTime,
    pub effects: FaultEffects,
}

/// What a fault does while active. Neutral values (factor 1, zero) mean "no effect".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultEffects {
    pub slowdown: f64,
    pub added_latency: SimDuration,
    pub error_rate: f64,
    pub outage: Option<Outage>,
    pub workers_lost: u32,
    pub surge: f64,
}

impl FaultEffects {
    pub const NONE: FaultEffects = FaultEffects {
        slowdown: 1.0,
        added_latency: SimDuration::ZERO,
        error_rate: 0.0,
        outage: None,
        workers_lost: 0,
        surge: 1.0,
    };

    /// The effect of two faults active at once on the same node.
    pub fn combine(self, other: FaultEffects) -> FaultEffects {
        FaultEffects {
            slowdown: self.slowdown * other.slowdown,
            added_latency: self.added_latency + other.added_latency,
            error_rate: 1.0 - (1.0 - self.error_rate) * (1.0 - other.error_rate),
            // A hang is the more severe outage: it holds callers until their timeout.
            outage: match (self.outage, other.outage) {
                (Some(Outage::Hang), _) | (_, Some(Outage::Hang)) => Some(Outage::Hang),
                (Some(Outage::FailFast), _) | (_, Some(Outage::FailFast)) => Some(Outage::FailFast),
                _ => None,
            },
            workers_lost: self.workers_lost.saturating_add(other.workers_lost),
            surge: self.surge * other.surge,
        }
    }
}

impl ValidScenario {
    pub fn node_id(&self, node: u16) -> &str {
        &self.nodes[usize::from(node)].id
    }
    pub fn end(&self) -> SimTime {
        SimTime(self.duration.0)
    }
}

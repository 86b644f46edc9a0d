//! The live state of entities during a run.

use super::queue::ServiceQueue;
use crate::components::broker::{Broker, BrokerCounters, Received};
use crate::components::fleet::EnvId;
use crate::engine::Handle;
use crate::metrics::histogram::Histogram;
use crate::policy::balancer::Balancer;
use crate::policy::breaker::CircuitBreaker;
use crate::policy::budget::{RetryBudget, RetryPermit};
use crate::policy::limiter::ConcurrencyLimiter;
use crate::policy::queueing::{Codel, ControlledDelay};
use crate::policy::token_bucket::TokenBucket;
use crate::prelude::*;
use crate::rng::Stream;
use crate::scenario::{Criticality, FaultEffects};
use crate::time::{SimDuration, SimTime};

pub(super) struct ClientState {
    /// The scheduled rate (before any surge), requests per second; open loop only.
    pub rate_per_s: f64,
    /// Rate multiplier of active surge faults.
    pub surge: f64,
    /// Bumped whenever the arrival process restarts, to cancel the pending arrival.
    pub arrival_generation: u32,
    /// For constant arrivals: the exact (fractional) time of the arrival to schedule next, in ns.
    pub next_constant_arrival_ns: f64,
    /// Arrival gaps (open loop) or think times (closed loop).
    pub arrivals: Stream,
    /// Closed loop: requests started by each user.
    pub requests_by_user: Vec<u32>,
    /// End-to-end latency of this client's requests that succeeded (fallbacks included).
    pub latency: Histogram,
    /// The same, for the current bucket only.
    pub bucket_latency: Histogram,
}

pub(super) struct ServiceState {
    pub busy: u32,
    /// Workers not lost to a fault.
    pub available: u32,
    pub queue: ServiceQueue,
    pub effects: FaultEffects,
    /// The service's own error rate combined with active faults'.
    pub error_rate: f64,
    /// Busy-worker and queue-length integrals are accumulated up to this time.
    pub levels_since: SimTime,
    /// Total time attempts waited in the queue before service, in nanoseconds.
    pub wait_ns_sum: u128,
    /// Attempts that started service.
    pub started: u64,
    /// The edge of each call slot of a job, counts expanded (slot i is the i-th call made).
    pub slot_edges: Vec<u16>,
    pub service_times: Stream,
    pub errors: Stream,
    /// Write conflicts: writes committed so far (the record's version)...
    pub version: u64,
    /// ...and the version each attempt in service read when it started.
    pub read_versions: BTreeMap<Handle, u64>,
    pub limiter: Option<ConcurrencyLimiter>,
    pub rate_limit: Option<TokenBucket>,
    pub codel: Option<Codel>,
    /// Facebook's controlled delay: drops queued work (queue management), or only says when
    /// the queue is overloaded (the signal of adaptive LIFO).
    pub controlled_delay: Option<ControlledDelay>,
    /// Side effects applied, by request key.
    pub ledger: Option<EffectLedger>,
    /// Workers busy with queue batches (not attempts).
    pub batches_in_service: u32,
    /// A serverless function's fleet and the rest of its state.
    pub function: Option<Box<super::function::FunctionState>>,
    /// An LLM endpoint's limits, cache, model and requests in flight.
    pub llm: Option<Box<super::llm::LlmState>>,
}

/// A queue node: the broker, and the consumers waiting for messages (long polling).
pub(super) struct QueueState {
    pub broker: Broker,
    pub poison: Stream,
    /// Consumer services with idle workers that found the queue empty.
    pub waiting: Vec<u16>,
    /// When a wake-up is scheduled (visibility ends, retention), if one is.
    pub wake_at: Option<SimTime>,
    /// The broker's counters at the start of the bucket, to record each bucket's share.
    pub counters_at_bucket_start: BrokerCounters,
    /// Age of the messages received in the current bucket (send to processing).
    pub bucket_age: Histogram,
}

/// A batch of messages a consumer worker is processing.
pub(super) struct Batch {
    pub service: u16,
    pub queue: u16,
    pub messages: Vec<Received>,
    /// Which messages fail (poison, or the service's errors).
    pub failed: Vec<bool>,
    /// A function's batch: the execution environment it runs in.
    pub env: Option<EnvId>,
    pub started_at: SimTime,
}

/// Which request keys had their side effect applied, remembered for a horizon: the idempotency
/// window, or [`DUPLICATE_HORIZON`] to count duplicates without preventing them.
pub(super) struct EffectLedger {
    pub window: Option<SimDuration>,
    seen: BTreeMap<u64, SimTime>,
    order: VecDeque<(SimTime, u64)>,
}

/// How long a key is remembered to recognise a duplicate when no idempotency window is set.
/// Repeats further apart than this are not counted (memory stays bounded).
pub(super) const DUPLICATE_HORIZON: SimDuration = SimDuration::from_secs(600);
/// Most keys remembered at once; the oldest are forgotten first.
const LEDGER_KEYS_MAX: usize = 1_000_000;

/// What happened to a side effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    Applied,
    /// Applied again for a key already applied: a duplicate.
    Duplicate,
    /// Suppressed by the idempotency key.
    Deduplicated,
}

impl EffectLedger {
    pub fn new(window: Option<SimDuration>) -> Self {
        EffectLedger { window, seen: BTreeMap::new(), order: VecDeque::new() }
    }

    pub fn apply(&mut self, now: SimTime, key: u64) -> Effect {
        let horizon = self.window.unwrap_or(DUPLICATE_HORIZON);
        while let Some(&(at, old)) = self.order.front() {
            if now.since(at) < horizon && self.order.len() < LEDGER_KEYS_MAX {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&old) == Some(&at) {
                self.seen.remove(&old);
            }
        }
        let seen_before = self.seen.contains_key(&key);
        if seen_before && self.window.is_some() {
            return Effect::Deduplicated;
        }
        self.seen.insert(key, now);
        self.order.push_back((now, key));
        if seen_before {
            Effect::Duplicate
        } else {
            Effect::Applied
        }
    }
}

pub(super) struct BalancerState {
    pub balancer: Balancer,
    /// Picks that found no instance to route to.
    pub no_host: u64,
}

/// A per-attempt timeout waiting in its edge's FIFO.
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingTimeout {
    pub deadline: SimTime,
    /// Reserved when the attempt was sent, so the timeout orders as if scheduled then.
    pub sequence: u64,
    pub attempt: Handle,
}

pub(super) struct EdgeState {
    /// Timeouts of attempts on this edge, in deadline order (every attempt on an edge has the
    /// same timeout, so sending order is deadline order). Only the front one is in the event
    /// queue; answered attempts are dropped from the front without touching the heap.
    pub timeouts: VecDeque<PendingTimeout>,
    /// Whether the front timeout is scheduled in the event queue.
    pub timer_armed: bool,
    pub network: Stream,
    pub jitter: Stream,
    /// No budget, throttle, breaker or load balancer: attempts skip the policy checks.
    pub plain: bool,
    /// Adaptive throttling draws and load-balancer picks.
    pub policy: Stream,
    pub budget: Option<RetryBudget>,
    pub throttle: Option<RetryBudget>,
    pub breaker: Option<CircuitBreaker>,
    /// Requests on this edge not finished yet (Envoy's active requests).
    pub active_requests: u32,
    /// Retries granted and not finished yet (Envoy's retries in flight).
    pub retries_in_flight: u32,
    /// Latency of the requests that succeeded in the current bucket (a client's own call
    /// takes the client's instead: the same requests).
    pub bucket_latency: Histogram,
    /// Latency of attempts that got a response in time (clients' calls only).
    pub attempt_latency: Histogram,
}

/// Who made a request, and so who hears of its outcome.
#[derive(Clone, Copy, Debug)]
pub(super) enum Caller {
    /// A client; `user` is the closed-loop user, if any.
    Client { client: u16, user: Option<u32> },
    /// A service job: the attempt being served.
    Job { attempt: Handle },
    /// Nobody: the job that made the call was cancelled.
    Orphan,
}

/// "No deadline", in the `deadline` fields (kept as a plain time to keep attempts small).
pub(super) const NO_DEADLINE: SimTime = SimTime::MAX;
/// "Not routed by a load balancer", in [`Attempt::host`].
pub(super) const NO_HOST: u16 = u16::MAX;

pub(super) struct Request {
    pub edge: u16,
    pub caller: Caller,
    /// When the caller's request began (a fallback keeps the time of the call it replaces).
    pub created_at: SimTime,
    pub attempts_made: u32,
    /// The backoff wait before the previous retry (for decorrelated jitter).
    pub previous_wait: SimDuration,
    /// When the request fails whatever its attempts do ([`NO_DEADLINE`] for none).
    pub deadline: SimTime,
    /// The logical operation it belongs to (its client request's): retries, redeliveries,
    /// hedges and the calls it causes share it, so side effects can tell repeats.
    pub key: u64,
    pub criticality: Criticality,
    /// Attempts out that the caller waits for.
    pub outstanding: Outstanding,
    /// What the request's latest retry cost the budget (for refunds).
    pub last_permit: Option<RetryPermit>,
    /// A retry was granted and has not ended yet.
    pub retry_in_flight: bool,
}

/// The attempts of a request the caller waits for: almost always none or one, several only
/// while hedging, so the others live behind a pointer that is usually absent.
#[derive(Default)]
pub(super) struct Outstanding {
    first: Option<Handle>,
    // A pointer (8 bytes) instead of a Vec (24) in every request: hedging is rare.
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<Handle>>>,
}

impl Outstanding {
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    pub fn push(&mut self, attempt: Handle) {
        if self.first.is_none() {
            self.first = Some(attempt);
        } else {
            self.more.get_or_insert_with(Box::default).push(attempt);
        }
    }

    /// Forgets an attempt that ended or was abandoned.
    pub fn remove(&mut self, attempt: Handle) {
        if self.first == Some(attempt) {
            self.first = self.more.as_mut().and_then(|more| (!more.is_empty()).then(|| more.remove(0)));
        } else if let Some(more) = self.more.as_mut() {
            more.retain(|&other| other != attempt);
        }
    }

    /// All of them, oldest first.
    pub fn handles(&self) -> Vec<Handle> {
        let mut all = Vec::new();
        if let Some(first) = self.first {
            all.push(first);
            all.extend(self.more.iter().flat_map(|more| more.iter().copied()));
        }
        all
    }

    /// Takes them all, leaving none.
    pub fn take(&mut self) -> Vec<Handle> {
        let all = self.handles();
        *self = Outstanding::default();
        all
    }
}

/// How the server answered an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// Not answered yet (queued, in service, swallowed by a hang).
    Pending,
    Success,
    /// Served, but failed (its own work, or a call it made).
    Error,
    /// Refused without service: queue full, node down, deadline passed.
    Rejected,
    /// Refused for overload, with the service's pushback (retry-after hint or "do not retry").
    Overloaded,
    /// Refused by a per-minute limit (HTTP 429), with a retry-after hint in whole seconds (at
    /// most 60: a per-minute bucket refills within a minute; one byte keeps `Answer` small).
    RateLimited {
        retry_after_s: u8,
    },
}

/// Where an attempt is on the server's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// On the way to the server.
    Network,
    Queued,
    /// A worker holds it (its own work, or waiting on its calls).
    Service,
    /// Answered, refused or swallowed: the server is done with it.
    Done,
}

/// A service attempt that makes calls: where its calls stand.
pub(super) struct Job {
    /// The next call slot to start (sequential mode).
    pub next_slot: u32,
    pub succeeded: u32,
    pub failed: u32,
    /// Set once the outcome is decided; later call outcomes are ignored.
    pub decided: bool,
    /// Requests of calls still out (to cancel them with the job).
    pub children: Vec<Handle>,
}

/// Two facts the server keeps of an attempt, in one byte: an [`Attempt`] is most of a collapsed
/// run's memory (millions queued), and two bools more would take it from 72 to 80 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ServerFlags(u8);

impl ServerFlags {
    const WILL_FAIL: u8 = 1;
    const CANCELLED: u8 = 2;

    /// Decided when service starts: the attempt fails after its service time.
    pub fn will_fail(self) -> bool {
        self.0 & Self::WILL_FAIL != 0
    }

    pub fn set_will_fail(&mut self, will_fail: bool) {
        if will_fail {
            self.0 |= Self::WILL_FAIL;
        } else {
            self.0 &= !Self::WILL_FAIL;
        }
    }

    /// The caller cancelled it: the server drops it where it finds it.
    pub fn cancelled(self) -> bool {
        self.0 & Self::CANCELLED != 0
    }

    pub fn set_cancelled(&mut self) {
        self.0 |= Self::CANCELLED;
    }
}

pub(super) struct Attempt {
    pub request: Handle,
    pub edge: u16,
    pub service: u16,
    /// The pool position it was routed to, or [`NO_HOST`].
    pub host: u16,
    pub criticality: Criticality,
    pub stage: Stage,
    pub answer: Answer,
    /// The caller still waits for this attempt (false once it gave up).
    pub awaited: bool,
    /// Decided when service starts: it will fail; the caller cancelled it.
    pub flags: ServerFlags,
    /// Attempts admitted at the service when this one was, itself included (for limiters).
    pub admitted_in_flight: u32,
    pub sent_at: SimTime,
    pub arrived_at: SimTime,
    /// The start time while in service; the worker time spent on it (ns) once answered.
    pub server_mark: u64,
    /// The deadline propagated with the attempt ([`NO_DEADLINE`] for none).
    pub deadline: SimTime,
    /// Its request's key (the request may be gone when the server finishes the work).
    pub key: u64,
    /// Present while the attempt's calls are in progress.
    pub job: Option<Box<Job>>,
}

/// Whole-run counters of the clients' requests (the calls services make are counted per edge).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Requests the clients made.
    pub requests: u64,
    /// Fallback requests made for them after a final failure.
    pub fallback_requests: u64,
    /// Requests (and fallbacks) that sent no attempt at all: refused locally or already past
    /// their deadline.
    pub refused_before_sending: u64,
    /// Attempts sent on the clients' calls (fallbacks included).
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    pub succeeded: u64,
    /// Requests answered by a degraded fallback.
    pub degraded: u64,
    pub failed_timeout: u64,
    pub failed_error: u64,
    pub failed_rejected: u64,
    pub failed_deadline: u64,
    pub failed_short_circuit: u64,
    pub failed_throttled: u64,
    pub attempt_successes: u64,
    pub attempt_timeouts: u64,
    pub attempt_errors: u64,
    pub attempt_rejections: u64,
    /// Attempts the caller stopped waiting for because the request's deadline passed.
    pub attempt_deadline_abandons: u64,
    /// When the last client request ended (how long a fixed batch of work took).
    pub last_outcome_at: SimTime,
    /// Attempts of hedged requests left behind when another attempt won.
    pub hedge_losers: u64,
    /// Responses that arrived after the caller's timeout and were discarded (all edges).
    pub late_responses: u64,
    /// Worker time spent on attempts whose caller had given up (all services).
    pub wasted_ns: u128,
    pub busy_ns: u128,
}

#[cfg(test)]
mod tests {
    /// Attempts are most of a collapsed run's memory (millions queued): a field more is a
    /// decision, not an accident.
    #[test]
    fn an_attempt_fits_in_72_bytes() {
        assert!(core::mem::size_of::<super::Attempt>() <= 72, "{}", core::mem::size_of::<super::Attempt>());
    }
}

//! The live state of entities during a run.

use crate::engine::Handle;
use crate::metrics::histogram::Histogram;
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
}

pub(super) struct ServiceState {
    pub busy: u32,
    /// Workers not lost to a fault.
    pub available: u32,
    pub queue: VecDeque<Handle>,
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
    /// End-to-end latency of requests that succeeded.
    pub latency: Histogram,
    /// The same, for the current bucket only.
    pub bucket_latency: Histogram,
    /// Latency of attempts that got a response in time.
    pub attempt_latency: Histogram,
}

/// Who made a request, and so who hears of its outcome.
#[derive(Clone, Copy, Debug)]
pub(super) enum Caller {
    /// A client; `user` is the closed-loop user, if any.
    Client { client: u16, user: Option<u32> },
    /// A service job: the attempt being served.
    Job { attempt: Handle },
}

/// "No deadline", in the `deadline` fields (kept as a plain time to keep attempts small).
pub(super) const NO_DEADLINE: SimTime = SimTime::MAX;

pub(super) struct Request {
    pub edge: u16,
    pub caller: Caller,
    pub created_at: SimTime,
    pub attempts_made: u32,
    /// The backoff wait before the previous retry (for decorrelated jitter).
    pub previous_wait: SimDuration,
    /// When the request fails whatever its attempts do ([`NO_DEADLINE`] for none).
    pub deadline: SimTime,
    pub criticality: Criticality,
    /// The attempt the caller is waiting for, if one is out.
    pub current: Option<Handle>,
}

/// How the server answered an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// Not answered yet (queued, in service, swallowed by a hang).
    Pending,
    Success,
    /// Served, but failed (its own work, or a call it made).
    Error,
    /// Refused without service: queue full, node down, or its deadline had passed.
    Rejected,
}

/// A service attempt that makes calls: where its calls stand.
pub(super) struct Job {
    /// The next call slot to start (sequential mode).
    pub next_slot: u32,
    pub succeeded: u32,
    pub failed: u32,
    /// Set once the outcome is decided; later call outcomes are ignored.
    pub decided: bool,
}

pub(super) struct Attempt {
    pub request: Handle,
    pub edge: u16,
    pub service: u16,
    pub criticality: Criticality,
    pub sent_at: SimTime,
    /// The server's clock for this attempt, by stage: the arrival time while it waits, the
    /// start time while in service, and the worker time spent on it (ns) once answered.
    /// One field instead of three keeps attempts small: a collapsed run holds millions.
    pub server_mark: u64,
    /// The deadline propagated with the attempt ([`NO_DEADLINE`] for none).
    pub deadline: SimTime,
    pub answer: Answer,
    /// The caller still waits for this attempt (false after its timeout fired).
    pub awaited: bool,
    /// The server is done with it (answered, or swallowed).
    pub server_done: bool,
    /// Decided when service starts.
    pub will_fail: bool,
    /// Present while the attempt's calls are in progress.
    pub job: Option<Box<Job>>,
}

/// Whole-run counters of the clients' requests (the calls services make are counted per edge).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub requests: u64,
    pub attempts: u64,
    pub retries: u64,
    pub succeeded: u64,
    pub failed_timeout: u64,
    pub failed_error: u64,
    pub failed_rejected: u64,
    pub failed_deadline: u64,
    pub attempt_timeouts: u64,
    pub attempt_errors: u64,
    pub attempt_rejections: u64,
    /// Attempts the caller stopped waiting for because the request's deadline passed.
    pub attempt_deadline_abandons: u64,
    /// Responses that arrived after the caller's timeout and were discarded (all edges).
    pub late_responses: u64,
    /// Worker time spent on attempts whose caller had given up (all services).
    pub wasted_ns: u128,
    pub busy_ns: u128,
}

//! The simulation: clients, services and call edges driven by the event queue.
//!
//! Lifecycle of a request (see DESIGN.md for the vocabulary):
//!
//! ```text
//!  client arrival -> request -> attempt --network--> service: start now | queue | reject
//!        ^                        |  timeout timer        |            (outage: refuse / swallow)
//!        |                        |                   service done
//!    retry after backoff  <-- timeout / error <--network-- response (discarded if too late)
//! ```
//!
//! A timeout does not reach the server: the timed-out attempt keeps its place in the queue or
//! its worker, and its service time is counted as wasted work when it completes.

mod client;
mod function;
mod llm;
mod messaging;
mod queue;
mod report;
mod service;
mod state;

use crate::components::broker::{Broker, BrokerCounters};
use crate::components::fleet::{AccountPool, Fleet};
use crate::digest::Digest;
use crate::engine::{Arena, EventQueue, Handle};
use crate::limits::STALL_EVENTS_MAX;
use crate::metrics::histogram::Histogram;
use crate::metrics::series::Series;
use crate::policy::balancer::Balancer;
use crate::policy::breaker::{BreakerState, CircuitBreaker};
use crate::policy::budget::RetryBudget;
use crate::policy::limiter::ConcurrencyLimiter;
use crate::policy::queueing::{Codel, ControlledDelay};
use crate::policy::token_bucket::TokenBucket;
use crate::prelude::*;
use crate::rng::Stream;
use crate::scenario::{Discipline, FaultEffects, NodeKind, QueueManagement, Target, ValidScenario, Workload};
use crate::time::SimTime;
use function::{AsyncEvent, FunctionState};
use llm::LlmState;
use queue::ServiceQueue;
use state::*;

pub use state::Totals;

/// Why a run stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// It processed `limits.events_max` events.
    EventsLimit { limit: u64 },
    /// It had `limits.in_flight_max` attempts alive at once.
    InFlightLimit { limit: u32 },
    /// Simulated time stopped advancing: `events` events happened at one instant (a loop of
    /// zero delays, such as closed-loop users without think time calling an instant service).
    Stalled { events: u64 },
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Finished,
    Stopped { reason: StopReason, at: SimTime },
}

/// What happens at a point in simulated time.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// A client's next request; stale unless `generation` matches the client's.
    Arrival {
        client: u16,
        generation: u32,
    },
    /// A client's scheduled rate change.
    RateChange {
        client: u16,
    },
    /// An attempt reaches its service after the network delay.
    AttemptArrives(Handle),
    /// A worker finishes an attempt's own work (its calls, if any, come next).
    LocalWorkDone(Handle),
    /// A response reaches the caller after the network delay.
    ResponseArrives(Handle),
    /// The front timeout of an edge's timeout FIFO is due.
    EdgeTimeout {
        edge: u16,
    },
    /// A request's backoff is over: send its next attempt.
    RetryDue(Handle),
    /// A request's deadline; stale if the request is already over.
    RequestDeadline(Handle),
    /// A closed-loop user has finished thinking and sends its next request.
    UserReady {
        client: u16,
        user: u32,
    },
    /// A hedged request's next attempt is due (if none has succeeded yet).
    HedgeDue(Handle),
    /// A cancellation reaches the server of an attempt its caller gave up on.
    CancelArrives(Handle),
    /// A queue's messages change state (visibility ends, retention expires).
    QueueWake {
        queue: u16,
    },
    /// A consumer worker finishes a batch of messages.
    BatchDone(Handle),
    /// A function invocation's handler reaches its time limit (stale if it finished).
    FunctionTimeout(Handle),
    /// Lambda's event queue tries an asynchronous event (again).
    AsyncInvoke(Handle),
    /// A function's queue pollers may take more batches (their allowance grew, or their
    /// backoff after a throttle ended).
    PollerWake {
        service: u16,
    },
    /// An LLM endpoint's model has loaded: a request that waited for it goes to the slots.
    LlmReady(Handle),
    FaultStart(u16),
    FaultEnd(u16),
}

impl Event {
    /// A stable code and id for the digest (never a `usize` or an address).
    fn digest_word(&self) -> u64 {
        let (code, id): (u64, u64) = match *self {
            Event::Arrival { client, .. } => (1, u64::from(client)),
            Event::RateChange { client } => (2, u64::from(client)),
            Event::AttemptArrives(handle) => (3, u64::from(handle.index)),
            Event::LocalWorkDone(handle) => (4, u64::from(handle.index)),
            Event::ResponseArrives(handle) => (5, u64::from(handle.index)),
            Event::EdgeTimeout { edge } => (6, u64::from(edge)),
            Event::RetryDue(handle) => (7, u64::from(handle.index)),
            Event::FaultStart(fault) => (8, u64::from(fault)),
            Event::FaultEnd(fault) => (9, u64::from(fault)),
            Event::RequestDeadline(handle) => (10, u64::from(handle.index)),
            Event::UserReady { client, user } => (11, u64::from(client) | (u64::from(user) << 16)),
            Event::HedgeDue(handle) => (12, u64::from(handle.index)),
            Event::CancelArrives(handle) => (13, u64::from(handle.index)),
            Event::QueueWake { queue } => (14, u64::from(queue)),
            Event::BatchDone(handle) => (15, u64::from(handle.index)),
            Event::FunctionTimeout(handle) => (16, u64::from(handle.index)),
            Event::AsyncInvoke(handle) => (17, u64::from(handle.index)),
            Event::PollerWake { service } => (18, u64::from(service)),
            Event::LlmReady(handle) => (19, u64::from(handle.index)),
        };
        code | (id << 8)
    }
}

/// One run of a scenario. Create it, advance it with [`Simulation::run_until`] (to animate or
/// report progress) or [`Simulation::run_to_end`], and read results with
/// [`Simulation::report`] at any point.
pub struct Simulation {
    model: ValidScenario,
    now: SimTime,
    end: SimTime,
    events: EventQueue<Event>,
    clients: Vec<ClientState>,
    services: Vec<ServiceState>,
    balancers: Vec<BalancerState>,
    queues: Vec<QueueState>,
    /// Batches of queue messages being processed.
    batches: Arena<Batch>,
    /// The concurrency the functions share.
    account: AccountPool,
    /// Asynchronous function events not done yet.
    async_events: Arena<AsyncEvent>,
    /// Some service is an LLM endpoint (the others skip its bookkeeping).
    has_llm: bool,
    /// The key of the next client request.
    next_key: u64,
    edges: Vec<EdgeState>,
    requests: Arena<Request>,
    attempts: Arena<Attempt>,
    fault_active: Vec<bool>,
    series: Series,
    /// Index of the bucket that `now` falls in.
    bucket: u32,
    next_bucket_start: SimTime,
    /// Scratch space for merging the clients' latencies of a bucket.
    merged_latency: Histogram,
    totals: Totals,
    digest: Digest,
    events_processed: u64,
    /// Events processed at the current instant, to catch time standing still.
    events_at_this_instant: u64,
    status: RunStatus,
}

impl Simulation {
    /// Prepares a run: random streams, first arrivals, fault timeline.
    pub fn new(model: &ValidScenario) -> Simulation {
        let seed = model.seed;
        let mut account = AccountPool::new(model.account_concurrency_limit);
        let clients = model
            .clients
            .iter()
            .map(|client| {
                let (rate_per_s, users) = match &client.workload {
                    Workload::Open { rate_per_s, .. } => (*rate_per_s, 0),
                    Workload::Closed { users, .. } => (0.0, *users),
                };
                ClientState {
                    rate_per_s,
                    surge: 1.0,
                    arrival_generation: 0,
                    next_constant_arrival_ns: 0.0,
                    arrivals: Stream::new(seed, client.arrival_stream_id),
                    requests_by_user: vec![0; users as usize],
                    latency: Histogram::new(),
                    bucket_latency: Histogram::new(),
                }
            })
            .collect();
        let services = model
            .services
            .iter()
            .map(|service| ServiceState {
                busy: 0,
                available: service.workers,
                queue: ServiceQueue::default(),
                effects: FaultEffects::NONE,
                error_rate: service.error_rate,
                levels_since: SimTime::ZERO,
                wait_ns_sum: 0,
                started: 0,
                slot_edges: service
                    .calls
                    .iter()
                    .flat_map(|&edge| core::iter::repeat_n(edge, model.edges[usize::from(edge)].count as usize))
                    .collect(),
                service_times: Stream::new(seed, service.service_time_stream_id),
                errors: Stream::new(seed, service.error_stream_id),
                version: 0,
                read_versions: BTreeMap::new(),
                limiter: service.limiter.clone().map(ConcurrencyLimiter::new),
                rate_limit: service.rate_limit.map(|(capacity, rate_per_s)| TokenBucket::new(capacity, rate_per_s)),
                codel: (service.management == QueueManagement::Codel).then(Codel::rfc8289),
                controlled_delay: (service.management == QueueManagement::ControlledDelay
                    || service.discipline == Discipline::AdaptiveLifo)
                    .then(ControlledDelay::facebook),
                ledger: service.side_effects.map(EffectLedger::new),
                batches_in_service: 0,
                llm: service.llm.as_ref().map(|llm| Box::new(LlmState::new(llm, seed))),
                function: service.function.as_ref().map(|function| {
                    let fleet = Fleet::new(function.fleet, SimTime::ZERO, &mut account);
                    Box::new(FunctionState::new(function, fleet, seed))
                }),
            })
            .collect();
        let queues = model
            .queues
            .iter()
            .map(|queue| QueueState {
                broker: Broker::new(queue.broker),
                poison: Stream::new(seed, queue.poison_stream_id),
                // Consumers start idle, long polling an empty queue.
                waiting: model
                    .services
                    .iter()
                    .enumerate()
                    .filter(|(_, service)| {
                        service
                            .consumer
                            .is_some_and(|consumer| model.queues[usize::from(consumer.queue)].node == queue.node)
                    })
                    .map(|(index, _)| index as u16)
                    .collect(),
                wake_at: None,
                counters_at_bucket_start: BrokerCounters::default(),
                bucket_age: Histogram::new(),
            })
            .collect();
        let balancers = model
            .balancers
            .iter()
            .map(|balancer| BalancerState {
                balancer: Balancer::new(balancer.policy, balancer.pool.len() as u32, balancer.outlier),
                no_host: 0,
            })
            .collect();
        let edges = model
            .edges
            .iter()
            .map(|edge| EdgeState {
                timeouts: VecDeque::new(),
                timer_armed: false,
                network: Stream::new(seed, edge.network_stream_id),
                jitter: Stream::new(seed, edge.jitter_stream_id),
                plain: edge.budget.is_none()
                    && edge.throttle.is_none()
                    && edge.breaker.is_none()
                    && matches!(edge.target, Target::Service(_)),
                policy: Stream::new(seed, edge.policy_stream_id),
                budget: edge.budget.map(RetryBudget::new),
                throttle: edge.throttle.map(RetryBudget::new),
                breaker: edge.breaker.map(CircuitBreaker::new),
                active_requests: 0,
                retries_in_flight: 0,
                bucket_latency: Histogram::new(),
                attempt_latency: Histogram::new(),
            })
            .collect();
        let mut series = Series::new(
            model.bucket,
            model.bucket_count,
            model.clients.len(),
            model.edges.len(),
            model.services.len(),
            model.balancers.len(),
            model.queues.len(),
        );
        for (index, service) in model.services.iter().enumerate() {
            if service.function.is_some() {
                series.functions[index] = vec![Default::default(); model.bucket_count as usize];
            }
            if service.llm.is_some() {
                series.llms[index] = vec![Default::default(); model.bucket_count as usize];
            }
        }
        let mut simulation = Simulation {
            now: SimTime::ZERO,
            end: model.end(),
            events: EventQueue::new(),
            clients,
            services,
            balancers,
            queues,
            batches: Arena::new(),
            account,
            async_events: Arena::new(),
            has_llm: model.services.iter().any(|service| service.llm.is_some()),
            next_key: 0,
            edges,
            requests: Arena::new(),
            attempts: Arena::new(),
            fault_active: vec![false; model.faults.len()],
            series,
            bucket: 0,
            next_bucket_start: SimTime(model.bucket.0),
            merged_latency: Histogram::new(),
            totals: Totals::default(),
            digest: Digest::default(),
            events_processed: 0,
            events_at_this_instant: 0,
            status: RunStatus::Running,
            model: model.clone(),
        };
        // Faults first: a fault starting at t=0 is in force for the first arrival at t=0.
        for (index, fault) in model.faults.iter().enumerate() {
            simulation.events.schedule(fault.start, Event::FaultStart(index as u16));
            simulation.events.schedule(fault.end, Event::FaultEnd(index as u16));
        }
        for (index, client) in model.clients.iter().enumerate() {
            let client_index = index as u16;
            match &client.workload {
                Workload::Open { rate_changes, .. } => {
                    for &(at, _) in rate_changes {
                        simulation.events.schedule(at, Event::RateChange { client: client_index });
                    }
                    simulation.schedule_next_arrival(client_index);
                }
                // Each user starts after one think time, so they do not all start in step.
                Workload::Closed { users, .. } => {
                    for user in 0..*users {
                        simulation.schedule_user(client_index, user);
                    }
                }
            }
        }
        simulation
    }

    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn end(&self) -> SimTime {
        self.end
    }
    pub fn status(&self) -> RunStatus {
        self.status
    }
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }
    pub fn scenario(&self) -> &ValidScenario {
        &self.model
    }
    pub fn series(&self) -> &Series {
        &self.series
    }
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
    /// Buckets completed so far.
    pub fn buckets_done(&self) -> u32 {
        self.bucket
    }
    /// The digest of the events processed so far, as 16 hex digits.
    pub fn digest_hex(&self) -> String {
        self.digest.hex()
    }

    /// Processes every event before `limit` (or the end of the run), then stops there.
    pub fn run_until(&mut self, limit: SimTime) -> RunStatus {
        let limit = limit.min(self.end);
        let events_max = self.model.events_max;
        while self.status == RunStatus::Running {
            let Some((time, event)) = self.events.pop_before(limit) else { break };
            if time >= self.next_bucket_start {
                self.close_buckets_through(time);
            }
            if time > self.now {
                self.events_at_this_instant = 0;
            }
            self.now = time;
            if self.events_processed == events_max {
                self.stop(StopReason::EventsLimit { limit: events_max });
                break;
            }
            self.events_at_this_instant += 1;
            if self.events_at_this_instant > STALL_EVENTS_MAX {
                self.stop(StopReason::Stalled { events: STALL_EVENTS_MAX });
                break;
            }
            self.events_processed += 1;
            self.digest.mix(time.0);
            self.digest.mix(event.digest_word());
            self.dispatch(event);
        }
        if self.status == RunStatus::Running {
            self.now = self.now.max(limit);
            if limit >= self.end {
                self.close_buckets_through(self.end);
                self.status = RunStatus::Finished;
            }
        }
        self.status
    }

    /// Runs to the end of the scenario (or until a limit stops it).
    pub fn run_to_end(&mut self) -> RunStatus {
        self.run_until(self.end)
    }

    fn stop(&mut self, reason: StopReason) {
        if self.status == RunStatus::Running {
            self.status = RunStatus::Stopped { reason, at: self.now };
            // Close the bucket in progress so the series show what happened up to the stop.
            let through = self.now;
            self.close_current_bucket_partially(through);
        }
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Arrival { client, generation } => self.on_arrival(client, generation),
            Event::RateChange { client } => self.on_rate_change(client),
            Event::AttemptArrives(attempt) => self.on_attempt_arrives(attempt),
            Event::LocalWorkDone(attempt) => self.on_local_work_done(attempt),
            Event::ResponseArrives(attempt) => self.on_response_arrives(attempt),
            Event::EdgeTimeout { edge } => self.on_edge_timeout(edge),
            Event::RetryDue(request) => self.send_attempt(request),
            Event::RequestDeadline(request) => self.on_request_deadline(request),
            Event::UserReady { client, user } => self.on_user_ready(client, user),
            Event::HedgeDue(request) => self.on_hedge_due(request),
            Event::CancelArrives(attempt) => self.cancel_at_server(attempt),
            Event::QueueWake { queue } => self.on_queue_wake(queue),
            Event::BatchDone(batch) => self.on_batch_done(batch),
            Event::FunctionTimeout(attempt) => self.on_function_timeout(attempt),
            Event::AsyncInvoke(event) => self.on_async_invoke(event, true),
            Event::PollerWake { service } => self.on_poller_wake(service),
            Event::LlmReady(attempt) => self.on_llm_ready(attempt),
            Event::FaultStart(fault) => self.set_fault(fault, true),
            Event::FaultEnd(fault) => self.set_fault(fault, false),
        }
    }

    /// Turns a fault on or off and recomputes the combined effects on its node.
    fn set_fault(&mut self, fault: u16, active: bool) {
        self.fault_active[usize::from(fault)] = active;
        let node = self.model.faults[usize::from(fault)].node;
        let mut effects = FaultEffects::NONE;
        for (model, &on) in self.model.faults.iter().zip(&self.fault_active) {
            if on && model.node == node {
                effects = effects.combine(model.effects);
            }
        }
        let node_model = &self.model.nodes[usize::from(node)];
        let index = node_model.index;
        match node_model.kind {
            NodeKind::Client => {
                self.clients[usize::from(index)].surge = effects.surge;
                self.restart_arrivals(index);
            }
            NodeKind::Service | NodeKind::Function | NodeKind::Llm => self.set_service_effects(index, effects),
            // Validation allows no fault on a load balancer or a queue.
            NodeKind::Balancer | NodeKind::Queue => {}
        }
    }

    /// Closes every bucket that ends at or before `time`.
    fn close_buckets_through(&mut self, time: SimTime) {
        while self.bucket < self.series.bucket_count && time >= self.next_bucket_start {
            let boundary = self.next_bucket_start.min(self.end);
            self.close_current_bucket_partially(boundary);
            self.bucket += 1;
            self.next_bucket_start += self.model.bucket;
            // A queue that only shrinks during the next bucket still peaked at its start.
            if let Some(bucket) = self.bucket_index() {
                for (index, service) in self.services.iter().enumerate() {
                    self.series.services[index][bucket].queue_max = service.queue.len();
                }
            }
        }
    }

    /// Records the levels of the current bucket up to `time` (its end, or a stop).
    fn close_current_bucket_partially(&mut self, time: SimTime) {
        let Some(bucket) = self.bucket_index() else { return };
        for index in 0..self.services.len() {
            self.integrate_levels(index, time);
            let service = &self.services[index];
            let record = &mut self.series.services[index][bucket];
            record.queue_end = service.queue.len();
            record.workers_available = service.available;
            record.concurrency_limit = service.limiter.as_ref().map_or(0, |limiter| limiter.limit());
            let running_batches = service.batches_in_service;
            if let Some(function) = self.services[index].function.as_mut() {
                function.fleet.reap(time);
                let record = &mut self.series.functions[index][bucket];
                record.environments_end = function.fleet.environments();
                record.async_waiting_end = function.async_waiting;
                record.pollers_end = if self.model.services[index].consumer.is_some() {
                    function.pollers.allowance(time).max(running_batches)
                } else {
                    0
                };
            }
        }
        for (index, balancer) in self.balancers.iter().enumerate() {
            self.series.balancers[index][bucket].ejected_hosts = balancer.balancer.ejected_hosts(time);
        }
        for queue in 0..self.queues.len() {
            self.close_queue_bucket(queue, bucket, time);
        }
        if self.has_llm {
            for service in 0..self.services.len() {
                self.close_llm_bucket(service, bucket, time);
            }
        }
        let system = &mut self.series.system[bucket];
        system.requests_in_flight = self.requests.len();
        system.attempts_in_flight = self.attempts.len();
        for (index, client) in self.clients.iter().enumerate() {
            self.series.clients[index][bucket].latency_ns = client.bucket_latency.latency_quantiles();
        }
        for (index, edge) in self.edges.iter().enumerate() {
            let model = &self.model.edges[index];
            let own_client = (model.from_client && !model.is_fallback)
                .then(|| self.model.nodes[usize::from(model.from_node)].index)
                .map(usize::from);
            let record = &mut self.series.edges[index][bucket];
            record.latency_ns = match own_client {
                Some(client) => self.series.clients[client][bucket].latency_ns,
                None => edge.bucket_latency.latency_quantiles(),
            };
            record.budget_level = edge.budget.as_ref().map_or(f64::NAN, |budget| budget.level(time));
            record.breaker_open =
                edge.breaker.as_ref().is_some_and(|breaker| !matches!(breaker.state(), BreakerState::Closed));
        }
        // The system's latency is that of the clients' requests: one client's as it is,
        // several merged (percentiles do not add up).
        system.latency_ns = match self.clients.as_slice() {
            [_] => self.series.clients[0][bucket].latency_ns,
            clients => {
                self.merged_latency.clear();
                for client in clients {
                    self.merged_latency.merge(&client.bucket_latency);
                }
                self.merged_latency.latency_quantiles()
            }
        };
        for edge in &mut self.edges {
            edge.bucket_latency.clear();
        }
        for client in &mut self.clients {
            client.bucket_latency.clear();
        }
    }

    /// The bucket `now` is in, if the run has not passed its last bucket.
    #[inline]
    fn bucket_index(&self) -> Option<usize> {
        (self.bucket < self.series.bucket_count).then_some(self.bucket as usize)
    }
}

//! Serverless functions: invocations that need an execution environment from the function's
//! fleet (warm, cold after an init phase, or throttled with a 429), the handler's time limit,
//! asynchronous invocation from Lambda's internal event queue with its retries, and Lambda's
//! pollers for a queue event source.
//!
//! ```text
//!  sync attempt ──acquire──> throttled: 429 (Rejected) to the caller
//!                     └────> warm | cold (+init) ──> handler (+calls) ──> answer, release
//!  async attempt ──> accepted at once (202); event ──AsyncInvoke──> acquire ──> handler
//!        throttled or down: again after 1 s, 2 s, ... 5 min    error: again after 1 min, 2 min
//!        too old or out of retries: on-failure queue, or discarded
//!  queue ──pollers (5, +300/min)──> batch ──acquire──> handler per message ──> delete / leave
//! ```
//!
//! A function's invocation cannot be cancelled (Lambda has no such call): a caller that gives
//! up leaves it running, and its time is wasted work.

use super::state::{Answer, Attempt, Batch, ServerFlags, Stage, NO_DEADLINE, NO_HOST};
use super::{Event, Simulation};
use crate::components::broker::Received;
use crate::components::fleet::{Acquire, EnvId, Fleet};
use crate::engine::Handle;
use crate::metrics::series::FunctionBucket;
use crate::prelude::*;
use crate::rng::Stream;
use crate::scenario::{Criticality, FunctionModel};
use crate::time::{SimDuration, SimTime, NS_PER_MS, NS_PER_S};

/// The `edge` of an attempt that runs an asynchronous event: no call edge carries it, and its
/// `request` is the event's handle.
pub(super) const ASYNC_EDGE: u16 = u16::MAX;

/// Lambda retries a throttled asynchronous event after 1 s, then twice as long each time, up
/// to 5 minutes between tries.
const ASYNC_THROTTLE_BACKOFF_FIRST: SimDuration = SimDuration::from_secs(1);
const ASYNC_THROTTLE_BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);
/// ... and a function error after 1 minute, then 2 minutes.
const ASYNC_ERROR_DELAYS: [SimDuration; 2] = [SimDuration::from_secs(60), SimDuration::from_secs(120)];

/// An SQS event source starts with 5 concurrent batches and adds up to 300 a minute while
/// messages keep coming.
const POLLERS_START: u32 = 5;
const POLLERS_ADDED_PER_MINUTE: u64 = 300;
/// A poller whose batch was throttled waits this long before polling again.
const POLLER_THROTTLE_BACKOFF: SimDuration = SimDuration::from_secs(1);

/// The live state of a function.
pub(super) struct FunctionState {
    pub fleet: Fleet,
    /// The environment each running invocation (attempt) holds.
    pub environments: BTreeMap<Handle, EnvId>,
    pub init_times: Stream,
    pub pollers: Pollers,
    /// Asynchronous events waiting for their next try.
    pub async_waiting: u32,
    /// When a poller wake-up is scheduled, if one is.
    pub poller_wake_at: Option<SimTime>,
}

impl FunctionState {
    pub fn new(model: &FunctionModel, fleet: Fleet, seed: u64) -> Self {
        FunctionState {
            fleet,
            environments: BTreeMap::new(),
            init_times: Stream::new(seed, model.init_stream_id),
            pollers: Pollers::new(model.pollers_max),
            async_waiting: 0,
            poller_wake_at: None,
        }
    }
}

/// How many batches Lambda's pollers may process at once: [`POLLERS_START`] at first, then up
/// to [`POLLERS_ADDED_PER_MINUTE`] more a minute (continuously) while every poll finds messages,
/// up to the event source's maximum concurrency. A poll that finds the queue empty, or a batch
/// that is throttled, brings the ramp back to what is running (at least [`POLLERS_START`]).
pub(super) struct Pollers {
    base: u32,
    ramp_from: SimTime,
    max: u32,
    /// After a throttle, no poll before this.
    paused_until: SimTime,
}

impl Pollers {
    fn new(max: u32) -> Self {
        Pollers { base: POLLERS_START.min(max), ramp_from: SimTime::ZERO, max, paused_until: SimTime::ZERO }
    }

    /// Batches allowed at once at `now`.
    pub fn allowance(&self, now: SimTime) -> u32 {
        let added = now.since(self.ramp_from).0.saturating_mul(POLLERS_ADDED_PER_MINUTE) / (60 * NS_PER_S);
        u64::from(self.base).saturating_add(added).min(u64::from(self.max)) as u32
    }

    /// When the allowance next grows by one, if it can.
    fn next_growth_at(&self, now: SimTime) -> Option<SimTime> {
        let allowance = self.allowance(now);
        if allowance >= self.max {
            return None;
        }
        let steps = u64::from(allowance - self.base) + 1;
        let ns = (steps * 60 * NS_PER_S).div_ceil(POLLERS_ADDED_PER_MINUTE);
        Some(self.ramp_from + SimDuration(ns))
    }

    fn restart_ramp(&mut self, now: SimTime, running: u32) {
        self.base = running.max(POLLERS_START).min(self.max);
        self.ramp_from = now;
    }
}

/// An asynchronous invocation's event in Lambda's internal queue.
pub(super) struct AsyncEvent {
    pub function: u16,
    pub key: u64,
    pub criticality: Criticality,
    pub accepted_at: SimTime,
    pub error_retries: u32,
    pub throttles: u32,
}

/// Billing rounds each invocation's duration up to the next millisecond.
fn billed_ns(duration_ns: u64) -> u64 {
    duration_ns.div_ceil(NS_PER_MS).saturating_mul(NS_PER_MS)
}

impl Simulation {
    #[inline]
    pub(super) fn function_bucket(&mut self, service: u16) -> &mut FunctionBucket {
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        &mut self.series.functions[usize::from(service)][bucket]
    }

    /// An attempt reaches a function: an asynchronous one is accepted at once, a synchronous
    /// one runs if it gets an environment and is throttled otherwise.
    pub(super) fn invoke_function(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get(attempt_handle) else { return };
        let (service, key, criticality) = (attempt.service, attempt.key, attempt.criticality);
        let index = usize::from(service);
        if self.model.services[index].function.as_ref().is_some_and(|f| f.asynchronous.is_some()) {
            let event = self.async_events.insert(AsyncEvent {
                function: service,
                key,
                criticality,
                accepted_at: self.now,
                error_retries: 0,
                throttles: 0,
            });
            self.function_bucket(service).async_accepted += 1;
            self.answer(attempt_handle, Answer::Success);
            self.on_async_invoke(event, false);
            return;
        }
        match self.acquire_environment(service) {
            Some((env, init)) => {
                if let Some(function) = self.services[index].function.as_mut() {
                    function.environments.insert(attempt_handle, env);
                }
                self.start_service_after(service, attempt_handle, init);
            }
            None => {
                self.service_bucket(service).rejected += 1;
                self.answer(attempt_handle, Answer::Rejected);
            }
        }
    }

    /// Asks the fleet for an environment: `Some((environment, init time))` (zero init when
    /// warm), or `None` when throttled.
    fn acquire_environment(&mut self, service: u16) -> Option<(EnvId, SimDuration)> {
        let now = self.now;
        let index = usize::from(service);
        let model = self.model.services[index].function.as_deref()?;
        let state = self.services[index].function.as_mut()?;
        let (env, init, cold) = match state.fleet.acquire(now, &mut self.account) {
            Acquire::Warm { env } => (env, SimDuration::ZERO, false),
            Acquire::Cold { env } => {
                (env, model.init_duration.sample(&mut state.init_times).min(FunctionModel::INIT_MAX), true)
            }
            Acquire::Throttled(_) => {
                self.function_bucket(service).throttled += 1;
                return None;
            }
        };
        let record = self.function_bucket(service);
        record.invocations += 1;
        if cold {
            record.cold_starts += 1;
            record.init_ns += init.0;
        }
        Some((env, init))
    }

    /// The handler's time limit: when its calls are not done by then, the invocation fails.
    pub(super) fn on_function_timeout(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        if attempt.stage != Stage::Service {
            return; // finished in time (a stale timer)
        }
        let service = attempt.service;
        let children = attempt.job.take().map(|job| job.children).unwrap_or_default();
        self.function_bucket(service).timeouts += 1;
        for child in children {
            self.abandon_request(child);
        }
        self.finish_job(attempt_handle, true);
    }

    /// An invocation ends at `now`: its environment goes back to the fleet, and its duration
    /// (init included) is billed.
    pub(super) fn end_invocation(&mut self, service: u16, env: EnvId, duration_ns: u64) {
        let now = self.now;
        let index = usize::from(service);
        let mut provisioned = false;
        if let Some(function) = self.services[index].function.as_mut() {
            provisioned = function.fleet.is_provisioned(env);
            function.fleet.release(now, env, &mut self.account);
        }
        let record = self.function_bucket(service);
        if provisioned {
            record.billed_provisioned_ns += billed_ns(duration_ns);
        } else {
            record.billed_ns += billed_ns(duration_ns);
        }
    }

    /// An asynchronous event is due: invoke the function with it, or try again later.
    /// `waited`: the event was waiting for this try (not its first, right on arrival).
    pub(super) fn on_async_invoke(&mut self, event_handle: Handle, waited: bool) {
        let now = self.now;
        let Some(event) = self.async_events.get(event_handle) else { return };
        let (service, key, criticality) = (event.function, event.key, event.criticality);
        let index = usize::from(service);
        if waited {
            if let Some(function) = self.services[index].function.as_mut() {
                function.async_waiting = function.async_waiting.saturating_sub(1);
            }
        }
        // A function that is down answers with a server error: retried like a throttle.
        if self.services[index].effects.outage.is_some() {
            self.retry_async_after_throttle(event_handle);
            return;
        }
        let Some((env, init)) = self.acquire_environment(service) else {
            self.retry_async_after_throttle(event_handle);
            return;
        };
        let attempt = self.attempts.insert(Attempt {
            request: event_handle,
            edge: ASYNC_EDGE,
            service,
            host: NO_HOST,
            criticality,
            stage: Stage::Network,
            answer: Answer::Pending,
            awaited: false,
            flags: ServerFlags::default(),
            admitted_in_flight: 0,
            sent_at: now,
            arrived_at: now,
            server_mark: 0,
            deadline: NO_DEADLINE,
            key,
            job: None,
        });
        if let Some(function) = self.services[index].function.as_mut() {
            function.environments.insert(attempt, env);
        }
        self.service_bucket(service).arrivals += 1;
        self.start_service_after(service, attempt, init);
    }

    /// The handler ran an asynchronous event: done on success; after an error, retried (one
    /// minute, then two) while retries and the event's age allow.
    pub(super) fn on_async_answer(&mut self, event_handle: Handle, answer: Answer) {
        let now = self.now;
        let Some(event) = self.async_events.get_mut(event_handle) else { return };
        let service = event.function;
        let Some(settings) = self.model.services[usize::from(service)].function.as_ref().and_then(|f| f.asynchronous)
        else {
            return;
        };
        match answer {
            Answer::Success => {
                self.async_events.remove(event_handle);
            }
            Answer::Error if event.error_retries < settings.max_retries => {
                let delay = ASYNC_ERROR_DELAYS[(event.error_retries as usize).min(ASYNC_ERROR_DELAYS.len() - 1)];
                event.error_retries += 1;
                if (now + delay).since(event.accepted_at) > settings.max_event_age {
                    self.fail_async(event_handle);
                } else {
                    self.schedule_async_retry(event_handle, service, delay);
                }
            }
            Answer::Error => self.fail_async(event_handle),
            Answer::Rejected | Answer::Overloaded | Answer::RateLimited { .. } | Answer::Pending => {
                self.retry_async_after_throttle(event_handle)
            }
        }
    }

    fn retry_async_after_throttle(&mut self, event_handle: Handle) {
        let now = self.now;
        let Some(event) = self.async_events.get_mut(event_handle) else { return };
        let service = event.function;
        let Some(settings) = self.model.services[usize::from(service)].function.as_ref().and_then(|f| f.asynchronous)
        else {
            return;
        };
        let doublings = event.throttles.min(16);
        let delay = SimDuration(ASYNC_THROTTLE_BACKOFF_FIRST.0 << doublings).min(ASYNC_THROTTLE_BACKOFF_MAX);
        event.throttles = event.throttles.saturating_add(1);
        if (now + delay).since(event.accepted_at) > settings.max_event_age {
            self.fail_async(event_handle);
        } else {
            self.schedule_async_retry(event_handle, service, delay);
        }
    }

    fn schedule_async_retry(&mut self, event_handle: Handle, service: u16, delay: SimDuration) {
        if let Some(function) = self.services[usize::from(service)].function.as_mut() {
            function.async_waiting += 1;
        }
        self.function_bucket(service).async_retries += 1;
        self.events.schedule(self.now + delay, Event::AsyncInvoke(event_handle));
    }

    /// The event failed for good (out of retries, or too old): to the on-failure queue if
    /// there is one, else discarded.
    fn fail_async(&mut self, event_handle: Handle) {
        let now = self.now;
        let Some(event) = self.async_events.remove(event_handle) else { return };
        self.function_bucket(event.function).async_failed += 1;
        let destination = self.model.services[usize::from(event.function)]
            .function
            .as_ref()
            .and_then(|f| f.asynchronous)
            .and_then(|settings| settings.on_failure);
        if let Some(queue) = destination {
            self.queues[usize::from(queue)].broker.send(now, event.key, false);
            self.arm_queue_wake(queue);
            self.wake_consumers(queue);
        }
    }

    /// A function's pollers receive batches while the allowance and the queue permit; returns
    /// when they cannot take more now (and schedules the moment they can, if that is later).
    pub(super) fn poll_for_function(&mut self, service: u16, queue: u16, batch_size: u32) {
        let now = self.now;
        let index = usize::from(service);
        loop {
            let running = self.services[index].batches_in_service;
            let Some(function) = self.services[index].function.as_mut() else { return };
            if now < function.pollers.paused_until {
                let at = function.pollers.paused_until;
                self.schedule_poller_wake(service, at);
                return;
            }
            if running >= function.pollers.allowance(now) {
                let visible = self.queues[usize::from(queue)].broker.visible() > 0;
                if let Some(at) = function.pollers.next_growth_at(now).filter(|_| visible) {
                    self.schedule_poller_wake(service, at);
                }
                return;
            }
            let messages = self.queues[usize::from(queue)].broker.receive(now, batch_size);
            self.forward_dead_letters(queue);
            self.arm_queue_wake(queue);
            if messages.is_empty() {
                if let Some(function) = self.services[index].function.as_mut() {
                    function.pollers.restart_ramp(now, running);
                }
                let waiting = &mut self.queues[usize::from(queue)].waiting;
                if !waiting.contains(&service) {
                    waiting.push(service);
                }
                return;
            }
            if !self.start_function_batch(service, queue, messages) {
                return;
            }
        }
    }

    fn schedule_poller_wake(&mut self, service: u16, at: SimTime) {
        let Some(function) = self.services[usize::from(service)].function.as_mut() else { return };
        if at >= self.end || function.poller_wake_at.is_some_and(|scheduled| scheduled <= at) {
            return;
        }
        function.poller_wake_at = Some(at);
        self.events.schedule(at, Event::PollerWake { service });
    }

    pub(super) fn on_poller_wake(&mut self, service: u16) {
        let now = self.now;
        let Some(function) = self.services[usize::from(service)].function.as_mut() else { return };
        if function.poller_wake_at.is_some_and(|at| at > now) {
            return; // superseded by an earlier wake-up
        }
        function.poller_wake_at = None;
        self.poll(service);
    }

    /// One batch invokes the function. Throttled: the messages stay invisible until their
    /// visibility timeout ends (a receive counted, on the way to the dead-letter queue) and the
    /// pollers back off; returns false. Else the handler runs message after message, within the
    /// function's timeout.
    fn start_function_batch(&mut self, service: u16, queue: u16, messages: Vec<Received>) -> bool {
        let now = self.now;
        let index = usize::from(service);
        for message in &messages {
            self.queues[usize::from(queue)].bucket_age.record(now.since(message.sent_at).0);
        }
        let Some((env, init)) = self.acquire_environment(service) else {
            let running = self.services[index].batches_in_service;
            if let Some(function) = self.services[index].function.as_mut() {
                function.pollers.restart_ramp(now, running);
                function.pollers.paused_until = now + POLLER_THROTTLE_BACKOFF;
            }
            self.schedule_poller_wake(service, now + POLLER_THROTTLE_BACKOFF);
            return false;
        };
        self.integrate_levels(index, now);
        let timeout = self.model.services[index].function.as_ref().map_or(SimDuration::ZERO, |f| f.timeout);
        let (mut work, mut failed) = self.batch_work(index, &messages);
        if work > timeout {
            // The handler is stopped at its limit: nothing of the batch is reported done.
            work = timeout;
            failed.iter_mut().for_each(|f| *f = true);
            self.function_bucket(service).timeouts += 1;
        }
        let state = &mut self.services[index];
        state.busy += 1;
        state.batches_in_service += 1;
        let batch = self.batches.insert(Batch { service, queue, messages, failed, env: Some(env), started_at: now });
        self.events.schedule(now + init + work, Event::BatchDone(batch));
        true
    }
}

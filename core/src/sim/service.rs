//! The serving side: admission control, queueing and queue management, service, calls to
//! other services, answers, cancellation, and the effects of faults.

use super::client::{Failure, Origin, Outcome};
use super::function::ASYNC_EDGE;
use super::state::{Answer, Attempt, Caller, Job, Stage, NO_DEADLINE};
use super::{Event, Simulation};
use crate::engine::Handle;
use crate::metrics::series::ServiceBucket;
use crate::policy::queueing::{AdaptiveLifo, CodelDecision};
use crate::prelude::*;
use crate::scenario::{CallMode, CompleteOn, Criticality, Discipline, FaultEffects, Outage, QueueManagement, Target};
use crate::time::{SimDuration, SimTime};

impl Simulation {
    #[inline]
    pub(super) fn service_bucket(&mut self, service: u16) -> &mut ServiceBucket {
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        &mut self.series.services[usize::from(service)][bucket]
    }

    /// Accumulates busy-worker and queue-length integrals up to `until`. Call before either
    /// level changes, and at bucket boundaries.
    pub(super) fn integrate_levels(&mut self, service: usize, until: SimTime) {
        let state = &mut self.services[service];
        let elapsed = until.since(state.levels_since).0;
        if elapsed == 0 {
            return;
        }
        state.levels_since = until;
        let (busy, queued) = (u64::from(state.busy), u64::from(state.queue.len()));
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        let record = &mut self.series.services[service][bucket];
        record.busy_ns += busy * elapsed;
        record.queue_ns += queued * elapsed;
        self.totals.busy_ns += u128::from(busy * elapsed);
    }

    /// An attempt reaches its service: refuse (down, admission control), swallow (hang),
    /// serve at once, queue, or reject (queue full).
    pub(super) fn on_attempt_arrives(&mut self, attempt_handle: Handle) {
        let now = self.now;
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let service = attempt.service;
        let criticality = attempt.criticality;
        if attempt.flags.cancelled() {
            // Cancelled while on its way: the server never sees it.
            self.attempts.remove(attempt_handle);
            return;
        }
        attempt.arrived_at = now;
        if matches!(self.model.edges[usize::from(attempt.edge)].target, Target::Queue(_)) {
            self.queue_accepts(attempt_handle);
            return;
        }
        let index = usize::from(service);
        self.service_bucket(service).arrivals += 1;
        // An asynchronous function's event queue accepts events even while the function is down.
        let function = self.model.services[index].function.as_ref();
        if function.is_some_and(|function| function.asynchronous.is_some()) {
            self.invoke_function(attempt_handle);
            return;
        }
        let is_function = function.is_some();
        match self.services[index].effects.outage {
            Some(Outage::FailFast) => {
                self.service_bucket(service).rejected += 1;
                self.answer(attempt_handle, Answer::Rejected);
                return;
            }
            Some(Outage::Hang) => {
                self.service_bucket(service).dropped += 1;
                self.swallow(attempt_handle);
                return;
            }
            None => {}
        }
        if is_function {
            self.invoke_function(attempt_handle);
            return;
        }
        if self.model.services[index].llm.is_some() {
            self.llm_arrives(attempt_handle);
            return;
        }
        if !self.admit(service, criticality) {
            self.service_bucket(service).shed += 1;
            self.refuse_for_overload(attempt_handle);
            return;
        }
        self.serve_or_queue(service, attempt_handle, criticality);
    }

    /// An admitted attempt: a free worker serves it at once; else it queues, or is refused
    /// when the queue is full.
    pub(super) fn serve_or_queue(&mut self, service: u16, attempt_handle: Handle, criticality: Criticality) {
        let now = self.now;
        let index = usize::from(service);
        let state = &mut self.services[index];
        let in_flight = state.busy + state.queue.len() + 1;
        if let Some(attempt) = self.attempts.get_mut(attempt_handle) {
            attempt.admitted_in_flight = in_flight;
        }
        if state.busy < state.available {
            self.start_service(service, attempt_handle);
            return;
        }
        let has_room = match self.model.services[index].queue_capacity {
            None => true,
            Some(capacity) => state.queue.len() < capacity,
        };
        if has_room {
            self.integrate_levels(index, now);
            let discipline = self.model.services[index].discipline;
            let queue = &mut self.services[index].queue;
            queue.push(attempt_handle, discipline, criticality);
            let length = queue.len();
            if let Some(attempt) = self.attempts.get_mut(attempt_handle) {
                attempt.stage = Stage::Queued;
            }
            let record = self.service_bucket(service);
            record.queue_max = record.queue_max.max(length);
        } else {
            self.service_bucket(service).rejected += 1;
            if self.model.services[index].llm.is_some() {
                self.llm_bucket(service).overloaded += 1;
            }
            self.refuse_for_overload(attempt_handle);
        }
    }

    /// Admission control: rate limit, concurrency limit, shedding of sheddable work.
    fn admit(&mut self, service: u16, criticality: Criticality) -> bool {
        let now = self.now;
        let index = usize::from(service);
        let model = &self.model.services[index];
        let state = &mut self.services[index];
        if let Some(bucket) = state.rate_limit.as_mut() {
            if !bucket.try_take(now) {
                return false;
            }
        }
        if let Some(limiter) = state.limiter.as_mut() {
            limiter.advance(now);
            if !limiter.admit(state.busy + state.queue.len()) {
                return false;
            }
        }
        let sheddable = criticality >= Criticality::SheddablePlus;
        !(sheddable && model.shed_sheddable_above.is_some_and(|above| state.queue.len() >= above))
    }

    /// Refuses an attempt for overload: "overloaded" with the service's pushback, or a plain
    /// rejection.
    fn refuse_for_overload(&mut self, attempt_handle: Handle) {
        let service = self.attempts.get(attempt_handle).map(|a| usize::from(a.service));
        let pushback = service.is_some_and(|service| self.model.services[service].pushback.is_some());
        self.answer(attempt_handle, if pushback { Answer::Overloaded } else { Answer::Rejected });
    }

    /// A hanging node accepts the attempt and never answers.
    fn swallow(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        attempt.stage = Stage::Done;
        if !attempt.awaited {
            self.attempts.remove(attempt_handle);
        }
    }

    fn start_service(&mut self, service: u16, attempt_handle: Handle) {
        self.start_service_after(service, attempt_handle, SimDuration::ZERO);
    }

    /// Starts serving an attempt after `init` (a function's cold start; zero otherwise).
    pub(super) fn start_service_after(&mut self, service: u16, attempt_handle: Handle, init: SimDuration) {
        let index = usize::from(service);
        self.integrate_levels(index, self.now);
        let now = self.now;
        let slowdown = self.services[index].effects.slowdown;
        let mut duration = if self.model.services[index].llm.is_some() {
            // Its time to first token and generation, from its tokens.
            self.llm_slot_time(service, attempt_handle, slowdown)
        } else {
            let work = self.model.services[index].service_time.sample(&mut self.services[index].service_times);
            if slowdown != 1.0 {
                work.mul_f64(slowdown)
            } else {
                work
            }
        };
        let state = &mut self.services[index];
        state.busy += 1;
        state.started += 1;
        duration = duration + state.effects.added_latency;
        let will_fail = state.errors.chance(state.error_rate);
        if self.model.services[index].write_conflicts {
            state.read_versions.insert(attempt_handle, state.version);
        }
        if let Some(attempt) = self.attempts.get_mut(attempt_handle) {
            state.wait_ns_sum += u128::from(now.since(attempt.arrived_at).0);
            attempt.server_mark = now.0;
            attempt.stage = Stage::Service;
            attempt.flags.set_will_fail(will_fail);
        }
        let model = &self.model.services[index];
        if let Some(function) = model.function.as_ref() {
            // The handler's time limit starts after init. Without calls, whether it is reached
            // is known now; with calls, only when they end.
            let limit_at = now + init + function.timeout;
            let exceeds = duration > function.timeout;
            if exceeds || !model.calls.is_empty() {
                self.events.schedule(limit_at, Event::FunctionTimeout(attempt_handle));
            }
            if exceeds {
                return;
            }
        }
        self.events.schedule(now + init + duration, Event::LocalWorkDone(attempt_handle));
    }

    /// The attempt's own work is done: answer, or make its calls first.
    pub(super) fn on_local_work_done(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        if attempt.stage != Stage::Service || attempt.job.is_some() {
            return; // cancelled and freed, or a stale event of a reused slot
        }
        let service = usize::from(attempt.service);
        if attempt.flags.will_fail() || self.model.services[service].calls.is_empty() {
            let failed = attempt.flags.will_fail();
            self.finish_job(attempt_handle, failed);
            return;
        }
        attempt.job =
            Some(Box::new(Job { next_slot: 0, succeeded: 0, failed: 0, decided: false, children: Vec::new() }));
        match self.model.services[service].call_mode {
            CallMode::Sequential => self.start_call(attempt_handle, 0),
            CallMode::Parallel => {
                for slot in 0..self.model.services[service].call_slots {
                    // A call that fails at once can decide the job (all) before the others start.
                    let decided =
                        self.attempts.get(attempt_handle).and_then(|a| a.job.as_ref()).is_none_or(|j| j.decided);
                    if decided {
                        break;
                    }
                    self.start_call(attempt_handle, slot);
                }
            }
        }
    }

    /// Starts call slot `slot` of the job of `attempt_handle`.
    fn start_call(&mut self, attempt_handle: Handle, slot: u32) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let Some(job) = attempt.job.as_mut() else { return };
        job.next_slot = slot + 1;
        let service = usize::from(attempt.service);
        let origin = Origin {
            caller: Caller::Job { attempt: attempt_handle },
            criticality: attempt.criticality,
            key: attempt.key,
            created_at: self.now,
            inherited_deadline: attempt.deadline,
            deadline_cap: NO_DEADLINE,
        };
        let Some(&edge) = self.services[service].slot_edges.get(slot as usize) else { return };
        let child = self.start_request(edge, origin);
        // The call may already be over (refused at once); only a live one is a child.
        if self.requests.get(child).is_some() {
            if let Some(job) = self.attempts.get_mut(attempt_handle).and_then(|a| a.job.as_mut()) {
                job.children.push(child);
            }
        }
    }

    /// One of a job's calls is over; decide the job when its outcome is known.
    pub(super) fn on_call_done(&mut self, attempt_handle: Handle, child: Handle, succeeded: bool) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let service = usize::from(attempt.service);
        let Some(job) = attempt.job.as_mut() else { return };
        job.children.retain(|&c| c != child);
        if job.decided {
            return; // a call the job no longer needed (fan-out any/quorum, or after a failure)
        }
        if succeeded {
            job.succeeded += 1;
        } else {
            job.failed += 1;
        }
        let (succeeded_calls, failed_calls, next_slot) = (job.succeeded, job.failed, job.next_slot);
        let model = &self.model.services[service];
        let slots = model.call_slots;
        let outcome = match model.call_mode {
            CallMode::Sequential if !succeeded => Some(false),
            CallMode::Sequential if next_slot < slots => None,
            CallMode::Sequential => Some(true),
            CallMode::Parallel => {
                let needed = match model.complete_on {
                    CompleteOn::All => slots,
                    CompleteOn::Any => 1,
                    CompleteOn::Quorum(quorum) => quorum.min(slots),
                };
                if succeeded_calls >= needed {
                    Some(true)
                } else if failed_calls > slots - needed {
                    Some(false)
                } else {
                    None
                }
            }
        };
        match outcome {
            None if model.call_mode == CallMode::Sequential => self.start_call(attempt_handle, next_slot),
            None => {}
            Some(success) => {
                if let Some(job) = self.attempts.get_mut(attempt_handle).and_then(|a| a.job.as_mut()) {
                    job.decided = true;
                }
                self.finish_job(attempt_handle, !success);
            }
        }
    }

    /// The attempt's work (and calls) are over: free the worker, teach the limiter, answer.
    pub(super) fn finish_job(&mut self, attempt_handle: Handle, failed: bool) {
        let now = self.now;
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let service = attempt.service;
        let mut failed = failed;
        let state = &mut self.services[usize::from(service)];
        if let Some(read) = state.read_versions.remove(&attempt_handle) {
            // Optimistic concurrency: the write commits only if nobody wrote since the read.
            if failed || read != state.version {
                failed = true;
            } else {
                state.version += 1;
            }
        }
        attempt.server_mark = now.since(SimTime(attempt.server_mark)).0;
        let (rtt, in_flight, service_ns) =
            (now.since(attempt.arrived_at), attempt.admitted_in_flight, attempt.server_mark);
        let index = usize::from(service);
        let env = self.services[index].function.as_mut().and_then(|f| f.environments.remove(&attempt_handle));
        if let Some(env) = env {
            self.end_invocation(service, env, service_ns);
        }
        self.integrate_levels(index, now);
        let state = &mut self.services[index];
        state.busy -= 1;
        if let Some(limiter) = state.limiter.as_mut() {
            limiter.on_sample(now, rtt, in_flight, failed);
        }
        let record = self.service_bucket(service);
        record.completed += 1;
        if failed {
            record.failed += 1;
        }
        if !failed {
            let key = self.attempts.get(attempt_handle).map_or(0, |attempt| attempt.key);
            self.apply_side_effect(service, key);
        }
        // Start the next queued attempt before answering, so that an immediate retry of this
        // one cannot jump ahead of attempts that arrived earlier.
        self.pump_queue(service);
        self.answer(attempt_handle, if failed { Answer::Error } else { Answer::Success });
    }

    /// Starts queued attempts while workers are free. On the way, cancelled attempts are
    /// skipped, and attempts are dropped whose deadline has passed (with `drop_expired`) or
    /// that queue management says waited too long.
    pub(super) fn pump_queue(&mut self, service: u16) {
        let index = usize::from(service);
        if self.services[index].queue.is_empty() {
            // Calls first; a consumer's free workers then poll its queue.
            self.poll(service);
            return;
        }
        let now = self.now;
        let model = &self.model.services[index];
        let (discipline, drop_expired, management) = (model.discipline, model.drop_expired, model.management.clone());
        let workers = model.workers;
        loop {
            let state = &mut self.services[index];
            if state.busy >= state.available {
                return;
            }
            // Adaptive LIFO serves the newest attempts once a queue has formed: more waiting
            // than there are workers, or a queue that has not drained for an interval.
            let serve_newest = match discipline {
                Discipline::Lifo => true,
                Discipline::AdaptiveLifo => AdaptiveLifo::new(workers).serve_newest(
                    state.queue.len(),
                    state.controlled_delay.as_ref().is_some_and(|delay| delay.overloaded(now)),
                ),
                Discipline::Fifo | Discipline::Priority => false,
            };
            self.integrate_levels(index, now);
            if management == QueueManagement::ControlledDelay {
                self.expire_oldest(service);
            }
            let state = &mut self.services[index];
            let Some(attempt_handle) = state.queue.pop(discipline, serve_newest) else {
                self.poll(service);
                return;
            };
            let Some(attempt) = self.attempts.get(attempt_handle) else {
                state.queue.popped_cancelled();
                continue;
            };
            if attempt.flags.cancelled() {
                state.queue.popped_cancelled();
                self.release_server_attempt(attempt_handle);
                continue;
            }
            state.queue.popped_live();
            let (sojourn, deadline) = (now.since(attempt.arrived_at), attempt.deadline);
            let queue_after = state.queue.len();
            // Every dequeue feeds the controlled-delay state (for its drops or for adaptive
            // LIFO's overload signal); only queue management acts on its verdict.
            let delay_says_drop = state.controlled_delay.as_mut().is_some_and(|delay| delay.on_dequeue(now, sojourn));
            let manage_drop = match management {
                QueueManagement::None => false,
                QueueManagement::Codel => state
                    .codel
                    .as_mut()
                    .is_some_and(|codel| codel.on_dequeue(now, sojourn, queue_after) == CodelDecision::Drop),
                QueueManagement::ControlledDelay => delay_says_drop,
            };
            if drop_expired && deadline != NO_DEADLINE && deadline <= now {
                self.service_bucket(service).expired += 1;
                self.drop_queued(attempt_handle, sojourn, Answer::Rejected);
            } else if manage_drop {
                self.service_bucket(service).shed += 1;
                let answer =
                    if self.model.services[index].pushback.is_some() { Answer::Overloaded } else { Answer::Rejected };
                self.drop_queued(attempt_handle, sojourn, answer);
            } else {
                self.start_service(service, attempt_handle);
            }
        }
    }

    /// Controlled delay's queue timeout ("Fail at Scale"): attempts that have waited longer
    /// than it (5 ms while overloaded, 100 ms otherwise) time out where they stand. Checked at
    /// the oldest end, so that under adaptive LIFO, which serves the newest, the old ones
    /// still leave.
    fn expire_oldest(&mut self, service: u16) {
        let index = usize::from(service);
        let now = self.now;
        loop {
            let state = &self.services[index];
            let Some(timeout) = state.controlled_delay.as_ref().map(|delay| delay.queue_timeout(now)) else { return };
            let expired = state.queue.fronts().find_map(|(lane, front)| match self.attempts.get(front) {
                Some(attempt) if !attempt.flags.cancelled() && now.since(attempt.arrived_at) <= timeout => None,
                _ => Some(lane),
            });
            let Some(lane) = expired else { return };
            let queue = &mut self.services[index].queue;
            let Some(attempt_handle) = queue.pop_front_of(lane) else { return };
            match self.attempts.get(attempt_handle) {
                Some(attempt) if !attempt.flags.cancelled() => {
                    queue.popped_live();
                    let sojourn = now.since(attempt.arrived_at);
                    self.service_bucket(service).shed += 1;
                    let answer = if self.model.services[index].pushback.is_some() {
                        Answer::Overloaded
                    } else {
                        Answer::Rejected
                    };
                    self.drop_queued(attempt_handle, sojourn, answer);
                }
                Some(_) => {
                    queue.popped_cancelled();
                    self.release_server_attempt(attempt_handle);
                }
                None => queue.popped_cancelled(),
            }
        }
    }

    /// A queued attempt is dropped instead of served; a limiter counts it as a drop.
    fn drop_queued(&mut self, attempt_handle: Handle, sojourn: SimDuration, answer: Answer) {
        if let Some(attempt) = self.attempts.get(attempt_handle) {
            let (service, in_flight) = (usize::from(attempt.service), attempt.admitted_in_flight);
            if let Some(limiter) = self.services[service].limiter.as_mut() {
                limiter.on_sample(self.now, sojourn, in_flight, true);
            }
        }
        self.answer(attempt_handle, answer);
    }

    /// The server answers; the answer travels back unless the caller has already given up,
    /// in which case it is discarded and any service time spent on it was wasted.
    pub(super) fn answer(&mut self, attempt_handle: Handle, answer: Answer) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        if attempt.edge == ASYNC_EDGE {
            // Lambda's event queue ran it: the event's retries decide what comes next.
            let event = attempt.request;
            self.attempts.remove(attempt_handle);
            self.on_async_answer(event, answer);
            return;
        }
        if self.has_llm {
            self.llm_forget(attempt_handle);
        }
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let served = attempt.stage == Stage::Service;
        attempt.answer = answer;
        attempt.stage = Stage::Done;
        attempt.job = None;
        if !served {
            attempt.server_mark = 0;
        }
        if !attempt.awaited {
            let Attempt { service, server_mark: service_ns, .. } = *attempt;
            self.attempts.remove(attempt_handle);
            if served {
                self.count_late_response(service, service_ns);
            }
            return;
        }
        let edge = attempt.edge;
        let delay = self.network_delay(edge);
        if delay == SimDuration::ZERO {
            self.on_response_arrives(attempt_handle);
        } else {
            self.events.schedule(self.now + delay, Event::ResponseArrives(attempt_handle));
        }
    }

    pub(super) fn count_late_response(&mut self, service: u16, service_ns: u64) {
        self.totals.late_responses += 1;
        self.totals.wasted_ns += u128::from(service_ns);
        self.service_bucket(service).wasted_ns += service_ns;
    }

    /// The caller cancelled an attempt it gave up on: a queued one is dropped where it stands
    /// (skipped when popped), one in service stops at once and frees its worker (its calls
    /// still out are abandoned, and cancelled where their calls cancel); one still on the
    /// network is dropped on arrival. Work already done on it was wasted.
    pub(super) fn cancel_at_server(&mut self, attempt_handle: Handle) {
        let now = self.now;
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        if attempt.awaited || attempt.flags.cancelled() {
            return;
        }
        let to_function = attempt.edge == ASYNC_EDGE
            || (!matches!(self.model.edges[usize::from(attempt.edge)].target, Target::Queue(_))
                && self.model.services[usize::from(attempt.service)].function.is_some());
        if to_function {
            return; // a function's invocation cannot be cancelled: it runs to its end
        }
        attempt.flags.set_cancelled();
        let service = attempt.service;
        let index = usize::from(service);
        match attempt.stage {
            Stage::Network | Stage::Done => {}
            Stage::Queued => {
                self.integrate_levels(index, now);
                self.services[index].queue.cancelled_in_place();
                self.service_bucket(service).cancelled += 1;
            }
            Stage::Service => {
                let worked_ns = now.since(SimTime(attempt.server_mark)).0;
                self.services[index].read_versions.remove(&attempt_handle);
                let children = attempt.job.take().map(|job| job.children).unwrap_or_default();
                self.release_server_attempt(attempt_handle);
                self.integrate_levels(index, now);
                self.services[index].busy -= 1;
                let record = self.service_bucket(service);
                record.cancelled += 1;
                record.wasted_ns += worked_ns;
                self.totals.wasted_ns += u128::from(worked_ns);
                for child in children {
                    self.abandon_request(child);
                }
                self.pump_queue(service);
            }
        }
    }

    /// A job that no longer needs a call drops it: its attempts out are abandoned (and
    /// cancelled where its call cancels); nobody hears of its outcome.
    pub(super) fn abandon_request(&mut self, request_handle: Handle) {
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        request.caller = Caller::Orphan;
        self.finish_request(request_handle, Outcome::Failed(Failure::Cancelled));
    }

    /// Applies the combined effects of the faults now active on a service.
    ///
    /// While down, a service starts no new work; a fail-fast outage also refuses everything
    /// queued (connections reset), a hang keeps its queue frozen until it comes back.
    pub(super) fn set_service_effects(&mut self, service: u16, effects: FaultEffects) {
        let index = usize::from(service);
        self.integrate_levels(index, self.now);
        let model = &self.model.services[index];
        let state = &mut self.services[index];
        state.effects = effects;
        state.error_rate = 1.0 - (1.0 - model.error_rate) * (1.0 - effects.error_rate);
        state.available = if effects.outage.is_some() { 0 } else { model.workers.saturating_sub(effects.workers_lost) };
        if effects.outage == Some(Outage::FailFast) {
            for attempt in state.queue.drain() {
                let cancelled = self.attempts.get(attempt).is_none_or(|a| a.flags.cancelled());
                if cancelled {
                    self.release_server_attempt(attempt);
                    continue;
                }
                self.service_bucket(service).rejected += 1;
                self.answer(attempt, Answer::Rejected);
            }
        }
        self.pump_queue(service);
    }
}

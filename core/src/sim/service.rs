//! The serving side: admission, queueing, service, calls to other services, answers, and the
//! effects of faults.

use super::state::{Answer, Attempt, Caller, Job};
use super::{Event, Simulation};
use crate::engine::Handle;
use crate::metrics::series::ServiceBucket;
use crate::prelude::*;
use crate::scenario::{CallMode, CompleteOn, Discipline, FaultEffects, Outage};
use crate::time::{SimDuration, SimTime};

impl Simulation {
    #[inline]
    fn service_bucket(&mut self, service: u16) -> &mut ServiceBucket {
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
        let (busy, queued) = (u64::from(state.busy), state.queue.len() as u64);
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        let record = &mut self.series.services[service][bucket];
        record.busy_ns += busy * elapsed;
        record.queue_ns += queued * elapsed;
        self.totals.busy_ns += u128::from(busy * elapsed);
    }

    /// An attempt reaches its service: refuse, swallow, serve at once, queue, or reject.
    pub(super) fn on_attempt_arrives(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        attempt.server_mark = self.now.0;
        let service = attempt.service;
        let index = usize::from(service);
        self.service_bucket(service).arrivals += 1;
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
        let state = &self.services[index];
        if state.busy < state.available {
            self.start_service(service, attempt_handle);
            return;
        }
        let has_room = match self.model.services[index].queue_capacity {
            None => true,
            Some(capacity) => state.queue.len() < capacity as usize,
        };
        if has_room {
            self.integrate_levels(index, self.now);
            let queue = &mut self.services[index].queue;
            queue.push_back(attempt_handle);
            let length = queue.len() as u32;
            let record = self.service_bucket(service);
            record.queue_max = record.queue_max.max(length);
        } else {
            self.service_bucket(service).rejected += 1;
            self.answer(attempt_handle, Answer::Rejected);
        }
    }

    /// A hanging node accepts the attempt and never answers.
    fn swallow(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        attempt.server_done = true;
        if !attempt.awaited {
            self.attempts.remove(attempt_handle);
        }
    }

    fn start_service(&mut self, service: u16, attempt_handle: Handle) {
        let index = usize::from(service);
        self.integrate_levels(index, self.now);
        let now = self.now;
        let state = &mut self.services[index];
        state.busy += 1;
        state.started += 1;
        let mut duration = self.model.services[index].service_time.sample(&mut state.service_times);
        if state.effects.slowdown != 1.0 {
            duration = duration.mul_f64(state.effects.slowdown);
        }
        duration = duration + state.effects.added_latency;
        let will_fail = state.errors.chance(state.error_rate);
        if let Some(attempt) = self.attempts.get_mut(attempt_handle) {
            state.wait_ns_sum += u128::from(now.since(SimTime(attempt.server_mark)).0);
            attempt.server_mark = now.0;
            attempt.will_fail = will_fail;
        }
        self.events.schedule(now + duration, Event::LocalWorkDone(attempt_handle));
    }

    /// The attempt's own work is done: answer, or make its calls first.
    pub(super) fn on_local_work_done(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let service = usize::from(attempt.service);
        if attempt.will_fail || self.model.services[service].calls.is_empty() {
            let failed = attempt.will_fail;
            self.finish_job(attempt_handle, failed);
            return;
        }
        attempt.job = Some(Box::new(Job { next_slot: 0, succeeded: 0, failed: 0, decided: false }));
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
        let (service, criticality, deadline) = (usize::from(attempt.service), attempt.criticality, attempt.deadline);
        let Some(&edge) = self.services[service].slot_edges.get(slot as usize) else { return };
        self.start_request(edge, Caller::Job { attempt: attempt_handle }, criticality, deadline);
    }

    /// One of a job's calls is over; decide the job when its outcome is known.
    pub(super) fn on_call_done(&mut self, attempt_handle: Handle, succeeded: bool) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let service = usize::from(attempt.service);
        let Some(job) = attempt.job.as_mut() else { return };
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

    /// The attempt's work (and calls) are over: free the worker and answer.
    fn finish_job(&mut self, attempt_handle: Handle, failed: bool) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        let service = attempt.service;
        attempt.server_mark = self.now.since(SimTime(attempt.server_mark)).0;
        let index = usize::from(service);
        self.integrate_levels(index, self.now);
        self.services[index].busy -= 1;
        let record = self.service_bucket(service);
        record.completed += 1;
        if failed {
            record.failed += 1;
        }
        // Start the next queued attempt before answering, so that an immediate retry of this
        // one cannot jump ahead of attempts that arrived earlier.
        self.pump_queue(service);
        self.answer(attempt_handle, if failed { Answer::Error } else { Answer::Success });
    }

    /// Starts queued attempts while workers are free; with `drop_expired`, attempts whose
    /// propagated deadline has passed are refused instead of served.
    fn pump_queue(&mut self, service: u16) {
        let index = usize::from(service);
        let (discipline, drop_expired) =
            (self.model.services[index].discipline, self.model.services[index].drop_expired);
        loop {
            let state = &mut self.services[index];
            if state.busy >= state.available {
                return;
            }
            self.integrate_levels(index, self.now);
            let queue = &mut self.services[index].queue;
            let next = match discipline {
                Discipline::Fifo => queue.pop_front(),
                Discipline::Lifo => queue.pop_back(),
            };
            let Some(attempt) = next else { return };
            let expired = drop_expired && self.attempts.get(attempt).is_some_and(|a| a.deadline <= self.now);
            if expired {
                self.service_bucket(service).expired += 1;
                self.answer(attempt, Answer::Rejected);
            } else {
                self.start_service(service, attempt);
            }
        }
    }

    /// The server answers; the answer travels back unless the caller has already given up,
    /// in which case it is discarded and any service time spent on it was wasted.
    fn answer(&mut self, attempt_handle: Handle, answer: Answer) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        attempt.answer = answer;
        attempt.server_done = true;
        attempt.job = None;
        if !attempt.awaited {
            let Attempt { service, server_mark: service_ns, .. } = *attempt;
            self.attempts.remove(attempt_handle);
            if answer != Answer::Rejected {
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
            let refused: Vec<Handle> = state.queue.drain(..).collect();
            for attempt in refused {
                self.service_bucket(service).rejected += 1;
                self.answer(attempt, Answer::Rejected);
            }
        }
        self.pump_queue(service);
    }
}

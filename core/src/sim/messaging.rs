//! Queues and their consumers: producers' messages, long-polling consumer workers, batches,
//! deletes and redeliveries, dead-lettering; and the side effects of work, with duplicates and
//! idempotency keys.

use super::state::{Answer, Batch, Effect};
use super::{Event, Simulation};
use crate::components::broker::Received;
use crate::engine::Handle;
use crate::prelude::*;
use crate::time::{SimDuration, SimTime};

impl Simulation {
    /// A message reaches its queue (the attempt's `service` is the queue): it is stored, the
    /// send is acknowledged at once, and a waiting consumer is woken.
    pub(super) fn queue_accepts(&mut self, attempt_handle: Handle) {
        let now = self.now;
        let Some(attempt) = self.attempts.get(attempt_handle) else { return };
        let (queue, key) = (attempt.service, attempt.key);
        let poison_rate = self.model.queues[usize::from(queue)].poison_rate;
        let state = &mut self.queues[usize::from(queue)];
        let poison = state.poison.chance(poison_rate);
        state.broker.send(now, key, poison);
        self.arm_queue_wake(queue);
        // No worker held it: an answer that comes too late wasted nothing.
        self.answer(attempt_handle, Answer::Success);
        self.wake_consumers(queue);
    }

    /// Schedules the queue's next wake-up (a visibility timeout ending, a retention expiry) if it
    /// comes before the one already scheduled and before the end of the run.
    pub(super) fn arm_queue_wake(&mut self, queue: u16) {
        let state = &mut self.queues[usize::from(queue)];
        let Some(at) = state.broker.next_change_at() else { return };
        if at >= self.end || state.wake_at.is_some_and(|scheduled| scheduled <= at) {
            return;
        }
        state.wake_at = Some(at);
        self.events.schedule(at.max(self.now), Event::QueueWake { queue });
    }

    /// Messages whose visibility ended are back, old ones expired: let waiting consumers in.
    pub(super) fn on_queue_wake(&mut self, queue: u16) {
        let now = self.now;
        let state = &mut self.queues[usize::from(queue)];
        if state.wake_at.is_some_and(|at| at > now) {
            return; // superseded by an earlier wake-up, which rescheduled this one
        }
        state.wake_at = None;
        state.broker.advance(now);
        self.forward_dead_letters(queue);
        self.arm_queue_wake(queue);
        self.wake_consumers(queue);
    }

    /// Moves the messages the broker dead-lettered to the dead-letter queue.
    pub(super) fn forward_dead_letters(&mut self, queue: u16) {
        let now = self.now;
        let dead = self.queues[usize::from(queue)].broker.take_dead_lettered();
        if dead.is_empty() {
            return;
        }
        let Some(target) = self.model.queues[usize::from(queue)].dead_letter else { return };
        for message in dead {
            self.queues[usize::from(target)].broker.send(now, message.key, message.poison);
        }
        self.arm_queue_wake(target);
        self.wake_consumers(target);
    }

    /// Idle consumers of `queue` poll it again (long polling returns as soon as messages come).
    pub(super) fn wake_consumers(&mut self, queue: u16) {
        let state = &mut self.queues[usize::from(queue)];
        if state.waiting.is_empty() || state.broker.visible() == 0 {
            return;
        }
        let waiting = core::mem::take(&mut state.waiting);
        for service in waiting {
            self.poll(service);
        }
    }

    /// A consumer's free workers receive batches while there are messages; when the queue is
    /// empty the consumer waits (long polling) until a message comes.
    pub(super) fn poll(&mut self, service: u16) {
        let now = self.now;
        let index = usize::from(service);
        let Some(consumer) = self.model.services[index].consumer else { return };
        if self.model.services[index].function.is_some() {
            self.poll_for_function(service, consumer.queue, consumer.batch_size);
            return;
        }
        loop {
            let state = &self.services[index];
            if state.busy >= state.available || !state.queue.is_empty() {
                return;
            }
            let queue = &mut self.queues[usize::from(consumer.queue)];
            let messages = queue.broker.receive(now, consumer.batch_size);
            self.forward_dead_letters(consumer.queue);
            self.arm_queue_wake(consumer.queue);
            if messages.is_empty() {
                let waiting = &mut self.queues[usize::from(consumer.queue)].waiting;
                if !waiting.contains(&service) {
                    waiting.push(service);
                }
                return;
            }
            self.start_batch(service, consumer.queue, messages);
        }
    }

    /// A worker processes a batch, message after message; poison messages and the service's
    /// errors fail.
    fn start_batch(&mut self, service: u16, queue: u16, messages: Vec<Received>) {
        let now = self.now;
        let index = usize::from(service);
        self.integrate_levels(index, now);
        for message in &messages {
            self.queues[usize::from(queue)].bucket_age.record(now.since(message.sent_at).0);
        }
        let (duration, failed) = self.batch_work(index, &messages);
        let state = &mut self.services[index];
        state.busy += 1;
        state.batches_in_service += 1;
        let batch = self.batches.insert(Batch { service, queue, messages, failed, env: None, started_at: now });
        self.events.schedule(now + duration, Event::BatchDone(batch));
    }

    /// The time a batch takes, message after message, and which messages fail (poison, or the
    /// service's errors).
    pub(super) fn batch_work(&mut self, service: usize, messages: &[Received]) -> (SimDuration, Vec<bool>) {
        let state = &mut self.services[service];
        let mut duration = SimDuration::ZERO;
        let mut failed = Vec::with_capacity(messages.len());
        for message in messages {
            let mut work = self.model.services[service].service_time.sample(&mut state.service_times);
            if state.effects.slowdown != 1.0 {
                work = work.mul_f64(state.effects.slowdown);
            }
            duration = duration + work + state.effects.added_latency;
            failed.push(message.poison || state.errors.chance(state.error_rate));
        }
        (duration, failed)
    }

    /// A batch is processed: apply the successes' side effects, delete what may be deleted (all
    /// successes with partial batch responses; else nothing if anything failed: the whole batch
    /// comes back), free the worker.
    pub(super) fn on_batch_done(&mut self, batch_handle: Handle) {
        let now = self.now;
        let Some(batch) = self.batches.remove(batch_handle) else { return };
        let index = usize::from(batch.service);
        self.integrate_levels(index, now);
        let state = &mut self.services[index];
        state.busy -= 1;
        state.batches_in_service -= 1;
        if let Some(env) = batch.env {
            self.end_invocation(batch.service, env, now.since(batch.started_at).0);
        }
        let partial = self.model.services[index].consumer.is_some_and(|c| c.partial_batch_failures);
        let any_failed = batch.failed.iter().any(|&f| f);
        let mut processed = 0;
        let mut failures = 0;
        for (message, &failed) in batch.messages.iter().zip(&batch.failed) {
            processed += 1;
            if failed {
                failures += 1;
                continue;
            }
            self.apply_side_effect(batch.service, message.key);
            if partial || !any_failed {
                self.queues[usize::from(batch.queue)].broker.delete(message.id, message.receipt);
            }
        }
        let record = self.service_bucket(batch.service);
        record.messages_processed += processed;
        record.messages_failed += failures;
        self.arm_queue_wake(batch.queue);
        self.pump_queue(batch.service);
    }

    /// The side effect of a successful piece of work for `key`, counted as first, duplicate or
    /// suppressed by the idempotency key.
    pub(super) fn apply_side_effect(&mut self, service: u16, key: u64) {
        let now = self.now;
        let Some(ledger) = self.services[usize::from(service)].ledger.as_mut() else { return };
        let effect = ledger.apply(now, key);
        let record = self.service_bucket(service);
        match effect {
            Effect::Applied => record.effects += 1,
            Effect::Duplicate => record.duplicate_effects += 1,
            Effect::Deduplicated => record.deduplicated += 1,
        }
    }

    /// Closes a queue's bucket: its share of the broker's counters and its levels.
    pub(super) fn close_queue_bucket(&mut self, queue: usize, bucket: usize, time: SimTime) {
        let state = &mut self.queues[queue];
        state.broker.advance(time.max(self.now));
        let counters = state.broker.counters();
        let before = state.counters_at_bucket_start;
        let record = &mut self.series.queues[queue][bucket];
        record.sent = counters.sent - before.sent;
        record.received = counters.received - before.received;
        record.redeliveries = counters.redeliveries - before.redeliveries;
        record.deleted = counters.deleted - before.deleted;
        record.dead_lettered = counters.dead_lettered - before.dead_lettered;
        record.expired = counters.expired - before.expired;
        record.visible_end = state.broker.visible();
        record.in_flight_end = state.broker.in_flight();
        record.oldest_age_ns = state.broker.oldest_visible_age(time).map_or(0, |age| age.0);
        record.age_ns = state.bucket_age.latency_quantiles();
        state.bucket_age.clear();
        state.counters_at_bucket_start = counters;
    }
}

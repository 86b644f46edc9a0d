//! Client side: arrivals, requests, attempts, timeouts, retries and outcomes.

use super::state::{Answer, Attempt, PendingTimeout, Request};
use super::{Event, Simulation, StopReason};
use crate::engine::Handle;
use crate::metrics::series::EdgeBucket;
use crate::retry::retry_wait;
use crate::scenario::Arrivals;
use crate::time::{f64_to_ns, SimDuration, SimTime, NS_PER_S};

/// Why a request's last attempt failed.
#[derive(Clone, Copy, Debug)]
pub(super) enum Failure {
    Timeout,
    Error,
    Rejected,
}

impl Simulation {
    #[inline]
    pub(super) fn edge_bucket(&mut self, edge: u16) -> &mut EdgeBucket {
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        &mut self.series.edges[usize::from(edge)][bucket]
    }

    pub(super) fn network_delay(&mut self, edge: u16) -> SimDuration {
        match &self.model.edges[usize::from(edge)].network_delay {
            None => SimDuration::ZERO,
            Some(dist) => dist.sample(&mut self.edges[usize::from(edge)].network),
        }
    }

    /// Schedules the client's next arrival from `now` at its current rate.
    pub(super) fn schedule_next_arrival(&mut self, client: u16) {
        let state = &mut self.clients[usize::from(client)];
        let rate_per_s = state.rate_per_s * state.surge;
        // Also stops on NaN, which validation excludes but costs nothing to rule out here.
        if rate_per_s.is_nan() || rate_per_s <= 0.0 {
            return;
        }
        let gap_ns = NS_PER_S as f64 / rate_per_s;
        let at = match self.model.clients[usize::from(client)].arrivals {
            Arrivals::Poisson => self.now + SimDuration(f64_to_ns(state.arrivals.standard_exponential() * gap_ns)),
            Arrivals::Constant => {
                // The first arrival is at the start (of the run or of the new rate); later
                // ones are accumulated in fractional nanoseconds so long runs do not drift.
                let at = SimTime(f64_to_ns(state.next_constant_arrival_ns)).max(self.now);
                state.next_constant_arrival_ns += gap_ns;
                at
            }
        };
        if at < self.end {
            let generation = state.arrival_generation;
            self.events.schedule(at, Event::Arrival { client, generation });
        }
    }

    /// Cancels the pending arrival and restarts the arrival process at the current rate
    /// (exact for Poisson arrivals, which are memoryless).
    pub(super) fn restart_arrivals(&mut self, client: u16) {
        let state = &mut self.clients[usize::from(client)];
        state.arrival_generation = state.arrival_generation.wrapping_add(1);
        state.next_constant_arrival_ns = self.now.0 as f64;
        self.schedule_next_arrival(client);
    }

    pub(super) fn on_rate_change(&mut self, client: u16) {
        let changes = &self.model.clients[usize::from(client)].rate_changes;
        let in_force = changes.partition_point(|&(at, _)| at <= self.now);
        if let Some(&(_, rate_per_s)) = in_force.checked_sub(1).and_then(|index| changes.get(index)) {
            self.clients[usize::from(client)].rate_per_s = rate_per_s;
            self.restart_arrivals(client);
        }
    }

    pub(super) fn on_arrival(&mut self, client: u16, generation: u32) {
        if generation != self.clients[usize::from(client)].arrival_generation {
            return; // cancelled by a rate change
        }
        self.start_request(client);
        self.schedule_next_arrival(client);
    }

    fn start_request(&mut self, client: u16) {
        let edge = self.model.clients[usize::from(client)].edge;
        let request = self.requests.insert(Request {
            edge,
            created_at: self.now,
            attempts_made: 0,
            previous_wait: SimDuration::ZERO,
        });
        self.totals.requests += 1;
        self.edge_bucket(edge).offered += 1;
        self.send_attempt(request);
    }

    /// Sends the request's next attempt: starts its timeout and puts it on the network.
    pub(super) fn send_attempt(&mut self, request_handle: Handle) {
        if self.attempts.len() >= self.model.in_flight_max {
            self.stop(StopReason::InFlightLimit { limit: self.model.in_flight_max });
            return;
        }
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        request.attempts_made += 1;
        let is_retry = request.attempts_made > 1;
        let edge = request.edge;
        let edge_model = &self.model.edges[usize::from(edge)];
        let timeout = edge_model.timeout;
        let attempt = self.attempts.insert(Attempt {
            request: request_handle,
            edge,
            service: edge_model.to_service,
            sent_at: self.now,
            arrived_at: self.now,
            service_ns: 0,
            answer: Answer::Pending,
            awaited: true,
            server_done: false,
            will_fail: false,
        });
        self.totals.attempts += 1;
        let bucket = self.edge_bucket(edge);
        bucket.attempts += 1;
        if is_retry {
            bucket.retries += 1;
            self.totals.retries += 1;
        }
        if let Some(timeout) = timeout {
            let sequence = self.events.reserve_sequence();
            let state = &mut self.edges[usize::from(edge)];
            state.timeouts.push_back(PendingTimeout { deadline: self.now + timeout, sequence, attempt });
            if !state.timer_armed {
                self.arm_edge_timer(edge);
            }
        }
        let delay = self.network_delay(edge);
        if delay == SimDuration::ZERO {
            self.on_attempt_arrives(attempt);
        } else {
            self.events.schedule(self.now + delay, Event::AttemptArrives(attempt));
        }
    }

    /// A response reaches the caller, which still waits for it.
    pub(super) fn on_response_arrives(&mut self, attempt_handle: Handle) {
        // Gone: the caller timed out while the response was on the way (counted then).
        let Some(attempt) = self.attempts.remove(attempt_handle) else { return };
        let elapsed = self.now.since(attempt.sent_at);
        let edge = attempt.edge;
        self.edges[usize::from(edge)].attempt_latency.record(elapsed.0);
        match attempt.answer {
            Answer::Success => self.succeed_request(attempt.request),
            Answer::Error => {
                self.totals.attempt_errors += 1;
                self.edge_bucket(edge).errors += 1;
                self.after_failed_attempt(attempt.request, Failure::Error);
            }
            Answer::Rejected => {
                self.totals.attempt_rejections += 1;
                self.edge_bucket(edge).rejected += 1;
                self.after_failed_attempt(attempt.request, Failure::Rejected);
            }
            Answer::Pending => {}
        }
    }

    /// Schedules the edge's earliest timeout that still matters, dropping from the front of
    /// the FIFO the timeouts of attempts already answered.
    fn arm_edge_timer(&mut self, edge: u16) {
        let state = &mut self.edges[usize::from(edge)];
        while let Some(front) = state.timeouts.front() {
            let still_awaited = self.attempts.get(front.attempt).is_some_and(|attempt| attempt.awaited);
            if still_awaited {
                self.events.schedule_reserved(front.deadline, front.sequence, Event::EdgeTimeout { edge });
                state.timer_armed = true;
                return;
            }
            state.timeouts.pop_front();
        }
        state.timer_armed = false;
    }

    pub(super) fn on_edge_timeout(&mut self, edge: u16) {
        let state = &mut self.edges[usize::from(edge)];
        state.timer_armed = false;
        if let Some(front) = state.timeouts.front().copied() {
            if front.deadline <= self.now {
                state.timeouts.pop_front();
                self.on_attempt_timeout(front.attempt);
            }
        }
        if !self.edges[usize::from(edge)].timer_armed {
            self.arm_edge_timer(edge);
        }
    }

    /// The caller gives up on an attempt. The server is not told.
    fn on_attempt_timeout(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        if !attempt.awaited {
            return;
        }
        attempt.awaited = false;
        let (request, edge, server_done) = (attempt.request, attempt.edge, attempt.server_done);
        self.totals.attempt_timeouts += 1;
        self.edge_bucket(edge).timeouts += 1;
        if server_done {
            // Its response is still on the network, or a hanging node swallowed it.
            if let Some(attempt) = self.attempts.remove(attempt_handle) {
                if matches!(attempt.answer, Answer::Success | Answer::Error) {
                    self.count_late_response(attempt.service, attempt.service_ns);
                }
            }
        }
        self.after_failed_attempt(request, Failure::Timeout);
    }

    /// Retries after the backoff wait, or fails the request when it has no attempts left.
    fn after_failed_attempt(&mut self, request_handle: Handle, failure: Failure) {
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        let edge = usize::from(request.edge);
        let retry = &self.model.edges[edge].retry;
        if request.attempts_made >= retry.max_attempts {
            self.fail_request(request_handle, failure);
            return;
        }
        let retry_index = request.attempts_made - 1;
        let wait = retry_wait(retry, retry_index, request.previous_wait, &mut self.edges[edge].jitter);
        request.previous_wait = wait;
        if wait == SimDuration::ZERO {
            self.send_attempt(request_handle);
        } else {
            self.events.schedule(self.now + wait, Event::RetryDue(request_handle));
        }
    }

    fn succeed_request(&mut self, request_handle: Handle) {
        let Some(request) = self.requests.remove(request_handle) else { return };
        let latency_ns = self.now.since(request.created_at).0;
        let edge = &mut self.edges[usize::from(request.edge)];
        edge.latency.record(latency_ns);
        edge.bucket_latency.record(latency_ns);
        self.bucket_latency.record(latency_ns);
        self.totals.succeeded += 1;
        self.edge_bucket(request.edge).succeeded += 1;
    }

    fn fail_request(&mut self, request_handle: Handle, failure: Failure) {
        let Some(request) = self.requests.remove(request_handle) else { return };
        match failure {
            Failure::Timeout => self.totals.failed_timeout += 1,
            Failure::Error => self.totals.failed_error += 1,
            Failure::Rejected => self.totals.failed_rejected += 1,
        }
        self.edge_bucket(request.edge).failed += 1;
    }
}

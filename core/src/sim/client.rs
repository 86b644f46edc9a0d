//! The calling side: workloads, requests, attempts, timeouts, deadlines, retries and
//! outcomes. Callers are clients and service jobs alike; only what happens on a request's
//! outcome differs (see [`Caller`]).

use super::state::{Answer, Attempt, Caller, PendingTimeout, Request, NO_DEADLINE};
use super::{Event, Simulation, StopReason};
use crate::engine::Handle;
use crate::metrics::series::EdgeBucket;
use crate::retry::retry_wait;
use crate::scenario::{Arrivals, Criticality, Workload};
use crate::time::{f64_to_ns, SimDuration, SimTime, NS_PER_S};

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    Timeout,
    Error,
    Rejected,
    /// Its deadline passed.
    Deadline,
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

    /// Schedules an open-loop client's next arrival from `now` at its current rate.
    pub(super) fn schedule_next_arrival(&mut self, client: u16) {
        let Workload::Open { arrivals, .. } = self.model.clients[usize::from(client)].workload else { return };
        let state = &mut self.clients[usize::from(client)];
        let rate_per_s = state.rate_per_s * state.surge;
        // Also stops on NaN, which validation excludes but costs nothing to rule out here.
        if rate_per_s.is_nan() || rate_per_s <= 0.0 {
            return;
        }
        let gap_ns = NS_PER_S as f64 / rate_per_s;
        let at = match arrivals {
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
        let Workload::Open { rate_changes, .. } = &self.model.clients[usize::from(client)].workload else { return };
        let in_force = rate_changes.partition_point(|&(at, _)| at <= self.now);
        if let Some(&(_, rate_per_s)) = in_force.checked_sub(1).and_then(|index| rate_changes.get(index)) {
            self.clients[usize::from(client)].rate_per_s = rate_per_s;
            self.restart_arrivals(client);
        }
    }

    pub(super) fn on_arrival(&mut self, client: u16, generation: u32) {
        if generation != self.clients[usize::from(client)].arrival_generation {
            return; // cancelled by a rate change
        }
        self.start_client_request(client, None);
        self.schedule_next_arrival(client);
    }

    /// A closed-loop user thinks before its next request (or before its first one).
    pub(super) fn schedule_user(&mut self, client: u16, user: u32) {
        let Workload::Closed { think_time, requests_per_user, .. } = &self.model.clients[usize::from(client)].workload
        else {
            return;
        };
        let state = &mut self.clients[usize::from(client)];
        let Some(made) = state.requests_by_user.get(user as usize).copied() else { return };
        if requests_per_user.is_some_and(|limit| made >= limit) {
            return;
        }
        let think = think_time.as_ref().map_or(SimDuration::ZERO, |dist| dist.sample(&mut state.arrivals));
        let at = self.now + think;
        if at < self.end {
            self.events.schedule(at, Event::UserReady { client, user });
        }
    }

    pub(super) fn on_user_ready(&mut self, client: u16, user: u32) {
        if let Some(made) = self.clients[usize::from(client)].requests_by_user.get_mut(user as usize) {
            *made += 1;
            self.start_client_request(client, Some(user));
        }
    }

    fn start_client_request(&mut self, client: u16, user: Option<u32>) {
        let model = &self.model.clients[usize::from(client)];
        let (edge, criticality) = (model.edge, model.criticality);
        self.start_request(edge, Caller::Client { client, user }, criticality, NO_DEADLINE);
    }

    /// Starts a request on `edge` and sends its first attempt. `inherited_deadline` is the
    /// deadline of the request being served, for calls that propagate it.
    pub(super) fn start_request(
        &mut self,
        edge: u16,
        caller: Caller,
        criticality: Criticality,
        inherited_deadline: SimTime,
    ) -> Handle {
        let edge_model = &self.model.edges[usize::from(edge)];
        let mut deadline = NO_DEADLINE;
        if let Some(total) = edge_model.deadline_total {
            deadline = self.now + total;
        }
        if edge_model.propagate_deadline && inherited_deadline != NO_DEADLINE {
            deadline = deadline.min(SimTime(inherited_deadline.0.saturating_sub(edge_model.deadline_reduction.0)));
        }
        let from_client = edge_model.from_client;
        let request = self.requests.insert(Request {
            edge,
            caller,
            created_at: self.now,
            attempts_made: 0,
            previous_wait: SimDuration::ZERO,
            deadline,
            criticality,
            current: None,
        });
        if from_client {
            self.totals.requests += 1;
        }
        self.edge_bucket(edge).offered += 1;
        if deadline != NO_DEADLINE {
            if deadline <= self.now {
                self.finish_request(request, Err(Failure::Deadline));
                return request;
            }
            self.events.schedule(deadline, Event::RequestDeadline(request));
        }
        self.send_attempt(request);
        request
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
        let (edge, deadline, criticality) = (request.edge, request.deadline, request.criticality);
        let edge_model = &self.model.edges[usize::from(edge)];
        let (timeout, from_client) = (edge_model.timeout, edge_model.from_client);
        let attempt = self.attempts.insert(Attempt {
            request: request_handle,
            edge,
            service: edge_model.to_service,
            criticality,
            sent_at: self.now,
            server_mark: 0,
            deadline,
            answer: Answer::Pending,
            awaited: true,
            server_done: false,
            will_fail: false,
            job: None,
        });
        request.current = Some(attempt);
        if from_client {
            self.totals.attempts += 1;
            if is_retry {
                self.totals.retries += 1;
            }
        }
        let bucket = self.edge_bucket(edge);
        bucket.attempts += 1;
        if is_retry {
            bucket.retries += 1;
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
        // Gone: the caller gave up while the response was on the way (counted then).
        let Some(attempt) = self.attempts.remove(attempt_handle) else { return };
        let elapsed = self.now.since(attempt.sent_at);
        let edge = attempt.edge;
        let from_client = self.model.edges[usize::from(edge)].from_client;
        self.edges[usize::from(edge)].attempt_latency.record(elapsed.0);
        if let Some(request) = self.requests.get_mut(attempt.request) {
            request.current = None;
        }
        match attempt.answer {
            Answer::Success => self.finish_request(attempt.request, Ok(())),
            Answer::Error => {
                if from_client {
                    self.totals.attempt_errors += 1;
                }
                self.edge_bucket(edge).errors += 1;
                self.after_failed_attempt(attempt.request, Failure::Error);
            }
            Answer::Rejected => {
                if from_client {
                    self.totals.attempt_rejections += 1;
                }
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
        let Some(attempt) = self.attempts.get(attempt_handle) else { return };
        if !attempt.awaited {
            return;
        }
        let (request, edge) = (attempt.request, attempt.edge);
        if self.model.edges[usize::from(edge)].from_client {
            self.totals.attempt_timeouts += 1;
        }
        self.edge_bucket(edge).timeouts += 1;
        self.abandon_attempt(attempt_handle);
        if let Some(request) = self.requests.get_mut(request) {
            request.current = None;
        }
        self.after_failed_attempt(request, Failure::Timeout);
    }

    /// The caller stops waiting for an attempt (timeout, deadline). If the server is already
    /// done with it, it is freed now, and an answer still on the way was work wasted.
    fn abandon_attempt(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        attempt.awaited = false;
        if attempt.server_done {
            if let Some(attempt) = self.attempts.remove(attempt_handle) {
                if matches!(attempt.answer, Answer::Success | Answer::Error) {
                    self.count_late_response(attempt.service, attempt.server_mark);
                }
            }
        }
    }

    /// The request's deadline passed: it fails now, and its attempt out is abandoned.
    pub(super) fn on_request_deadline(&mut self, request_handle: Handle) {
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        let from_client = self.model.edges[usize::from(request.edge)].from_client;
        if let Some(attempt) = request.current.take() {
            if from_client {
                self.totals.attempt_deadline_abandons += 1;
            }
            self.abandon_attempt(attempt);
        }
        self.finish_request(request_handle, Err(Failure::Deadline));
    }

    /// Retries after the backoff wait, or fails the request when it has no attempts left.
    fn after_failed_attempt(&mut self, request_handle: Handle, failure: Failure) {
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        let edge = usize::from(request.edge);
        let retry = &self.model.edges[edge].retry;
        if request.attempts_made >= retry.max_attempts {
            self.finish_request(request_handle, Err(failure));
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

    /// The request is over: count it, and tell its caller.
    pub(super) fn finish_request(&mut self, request_handle: Handle, outcome: Result<(), Failure>) {
        let Some(request) = self.requests.remove(request_handle) else { return };
        let from_client = self.model.edges[usize::from(request.edge)].from_client;
        match outcome {
            Ok(()) => {
                let latency_ns = self.now.since(request.created_at).0;
                let edge = &mut self.edges[usize::from(request.edge)];
                edge.latency.record(latency_ns);
                edge.bucket_latency.record(latency_ns);
                if from_client {
                    self.totals.succeeded += 1;
                }
                self.edge_bucket(request.edge).succeeded += 1;
            }
            Err(failure) => {
                if from_client {
                    match failure {
                        Failure::Timeout => self.totals.failed_timeout += 1,
                        Failure::Error => self.totals.failed_error += 1,
                        Failure::Rejected => self.totals.failed_rejected += 1,
                        Failure::Deadline => self.totals.failed_deadline += 1,
                    }
                }
                self.edge_bucket(request.edge).failed += 1;
            }
        }
        match request.caller {
            Caller::Client { client, user: Some(user) } => self.schedule_user(client, user),
            Caller::Client { user: None, .. } => {}
            Caller::Job { attempt } => self.on_call_done(attempt, outcome.is_ok()),
        }
    }
}

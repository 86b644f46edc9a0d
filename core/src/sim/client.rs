//! The calling side: workloads, requests, attempts, timeouts, deadlines, retries and the
//! client-side policies (budgets, throttling, breakers, hedging, fallbacks, load balancing).
//! Callers are clients and service jobs alike; only what happens on a request's outcome
//! differs (see [`Caller`]).

use super::state::{Answer, Attempt, Caller, PendingTimeout, Request, ServerFlags, Stage, NO_DEADLINE, NO_HOST};
use super::{Event, Simulation, StopReason};
use crate::engine::Handle;
use crate::metrics::series::{ClientBucket, EdgeBucket};
use crate::policy::balancer::HostOutcome;
use crate::policy::budget::{AttemptFailure, AttemptOutcome};
use crate::prelude::*;
use crate::retry::retry_wait;
use crate::scenario::{Arrivals, Criticality, FallbackModel, Target, Workload};
use crate::time::{f64_to_ns, SimDuration, SimTime, NS_PER_S};

/// Where a request comes from and what it inherits.
pub(super) struct Origin {
    pub caller: Caller,
    pub criticality: Criticality,
    /// The logical operation's key.
    pub key: u64,
    /// When the caller's request began (a fallback keeps the time of the call it replaces).
    pub created_at: SimTime,
    /// The deadline of the request being served, used if the call propagates it.
    pub inherited_deadline: SimTime,
    /// A bound on the deadline in any case (a fallback keeps the deadline it replaces).
    pub deadline_cap: SimTime,
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    Timeout,
    Error,
    /// Refused by the server (queue full, down, overloaded) or by a load balancer with no
    /// instance to route to.
    Rejected,
    /// Its deadline passed.
    Deadline,
    /// Refused locally by an open circuit breaker.
    ShortCircuited,
    /// Refused locally by client-side adaptive throttling.
    Throttled,
    /// Its caller was cancelled and no longer wants it.
    Cancelled,
}

/// How a request ended.
/// What a refusal said about retrying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pushback {
    /// Nothing: a plain failure.
    None,
    /// "Overloaded, do not retry."
    DoNotRetry,
    /// "Retry after this long" (an overload hint, or a rate limit's retry-after header).
    RetryAfter(SimDuration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Success,
    /// A degraded fallback answer: good enough for the caller, counted apart.
    Degraded,
    Failed(Failure),
}

impl Outcome {
    fn is_usable(self) -> bool {
        matches!(self, Outcome::Success | Outcome::Degraded)
    }
}

impl Simulation {
    #[inline]
    pub(super) fn edge_bucket(&mut self, edge: u16) -> &mut EdgeBucket {
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        &mut self.series.edges[usize::from(edge)][bucket]
    }

    #[inline]
    fn client_bucket(&mut self, client: u16) -> &mut ClientBucket {
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        &mut self.series.clients[usize::from(client)][bucket]
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
        self.totals.requests += 1;
        self.client_bucket(client).offered += 1;
        let caller = Caller::Client { client, user };
        let key = self.next_key;
        self.next_key += 1;
        let origin = Origin {
            caller,
            criticality,
            key,
            created_at: self.now,
            inherited_deadline: NO_DEADLINE,
            deadline_cap: NO_DEADLINE,
        };
        self.start_request(edge, origin);
    }

    /// Starts a request on `edge` and sends its first attempt.
    pub(super) fn start_request(&mut self, edge: u16, origin: Origin) -> Handle {
        let Origin { caller, criticality, key, created_at, inherited_deadline, deadline_cap } = origin;
        let edge_model = &self.model.edges[usize::from(edge)];
        let mut deadline = deadline_cap;
        if let Some(total) = edge_model.deadline_total {
            deadline = deadline.min(self.now + total);
        }
        if edge_model.propagate_deadline && inherited_deadline != NO_DEADLINE {
            deadline = deadline.min(SimTime(inherited_deadline.0.saturating_sub(edge_model.deadline_reduction.0)));
        }
        let request = self.requests.insert(Request {
            edge,
            caller,
            created_at,
            attempts_made: 0,
            previous_wait: SimDuration::ZERO,
            deadline,
            key,
            criticality,
            outstanding: Default::default(),
            last_permit: None,
            retry_in_flight: false,
        });
        let state = &mut self.edges[usize::from(edge)];
        state.active_requests += 1;
        if let Some(budget) = state.budget.as_mut() {
            budget.on_request(self.now);
        }
        self.edge_bucket(edge).offered += 1;
        if deadline != NO_DEADLINE {
            if deadline <= self.now {
                if self.model.edges[usize::from(edge)].from_client {
                    self.totals.refused_before_sending += 1;
                }
                self.finish_request(request, Outcome::Failed(Failure::Deadline));
                return request;
            }
            self.events.schedule(deadline, Event::RequestDeadline(request));
        }
        self.send_attempt(request);
        request
    }

    /// Sends the request's next attempt (first try, retry or hedge) through the call's local
    /// policies: breaker, throttling, load balancer. A local refusal fails the request at
    /// once (no retry: retrying a refusal at the same instant would be refused again).
    pub(super) fn send_attempt(&mut self, request_handle: Handle) {
        if self.attempts.len().saturating_add(self.async_events.len()) >= self.model.in_flight_max {
            self.stop(StopReason::InFlightLimit { limit: self.model.in_flight_max });
            return;
        }
        let Some(request) = self.requests.get(request_handle) else { return };
        let edge = request.edge;
        let index = usize::from(edge);
        let now = self.now;
        let state = &mut self.edges[index];
        let refusal = if state.plain {
            None
        } else if state.breaker.as_mut().is_some_and(|breaker| !breaker.allow(now)) {
            Some(Failure::ShortCircuited)
        } else if state.throttle.as_mut().is_some_and(|throttle| !throttle.admit_attempt(now, &mut state.policy)) {
            Some(Failure::Throttled)
        } else {
            None
        };
        let route = match (refusal, self.model.edges[index].target) {
            (Some(failure), _) => Err(failure),
            (None, Target::Service(service)) => Ok((service, NO_HOST)),
            // For a queue, the attempt's `service` is the queue's index.
            (None, Target::Queue(queue)) => Ok((queue, NO_HOST)),
            (None, Target::Balancer(balancer)) => {
                let state = &mut self.balancers[usize::from(balancer)];
                match state.balancer.pick(now, &mut self.edges[index].policy) {
                    Some(host) => {
                        state.balancer.on_send(host);
                        let service = self.model.balancers[usize::from(balancer)].pool[host as usize];
                        Ok((service, host as u16))
                    }
                    None => {
                        state.no_host += 1;
                        Err(Failure::Rejected)
                    }
                }
            }
        };
        let (service, host) = match route {
            Ok(route) => route,
            Err(failure) => {
                let bucket = self.edge_bucket(edge);
                match failure {
                    Failure::ShortCircuited => bucket.short_circuited += 1,
                    Failure::Throttled => bucket.throttled += 1,
                    _ => bucket.rejected += 1,
                }
                self.refuse_locally(request_handle, failure);
                return;
            }
        };
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        let is_hedge = !request.outstanding.is_empty();
        request.attempts_made += 1;
        let is_retry = request.attempts_made > 1 && !is_hedge;
        let (deadline, criticality, attempts_made, key) =
            (request.deadline, request.criticality, request.attempts_made, request.key);
        let attempt = self.attempts.insert(Attempt {
            request: request_handle,
            edge,
            service,
            host,
            criticality,
            stage: Stage::Network,
            answer: Answer::Pending,
            awaited: true,
            flags: ServerFlags::default(),
            admitted_in_flight: 0,
            sent_at: now,
            arrived_at: now,
            server_mark: 0,
            deadline,
            key,
            job: None,
        });
        request.outstanding.push(attempt);
        let edge_model = &self.model.edges[index];
        let (timeout, from_client) = (edge_model.timeout, edge_model.from_client);
        let next_hedge = edge_model.hedge.as_ref().filter(|h| attempts_made < h.max_attempts).map(|h| h.delay);
        if from_client {
            self.totals.attempts += 1;
            self.totals.retries += u64::from(is_retry);
            self.totals.hedges += u64::from(is_hedge);
        }
        let bucket = self.edge_bucket(edge);
        bucket.attempts += 1;
        bucket.retries += u64::from(is_retry);
        bucket.hedges += u64::from(is_hedge);
        if let Some(timeout) = timeout {
            let sequence = self.events.reserve_sequence();
            let state = &mut self.edges[index];
            state.timeouts.push_back(PendingTimeout { deadline: now + timeout, sequence, attempt });
            if !state.timer_armed {
                self.arm_edge_timer(edge);
            }
        }
        if let Some(delay) = next_hedge {
            self.events.schedule(now + delay, Event::HedgeDue(request_handle));
        }
        let delay = self.network_delay(edge);
        if delay == SimDuration::ZERO {
            self.on_attempt_arrives(attempt);
        } else {
            self.events.schedule(now + delay, Event::AttemptArrives(attempt));
        }
    }

    /// A local policy refused to send: the request fails now unless attempts are still out
    /// (a refused hedge leaves the others running).
    fn refuse_locally(&mut self, request_handle: Handle, failure: Failure) {
        let Some(request) = self.requests.get(request_handle) else { return };
        if !request.outstanding.is_empty() {
            return;
        }
        if request.attempts_made == 0 && self.model.edges[usize::from(request.edge)].from_client {
            self.totals.refused_before_sending += 1;
        }
        self.finish_request(request_handle, Outcome::Failed(failure));
    }

    /// The hedging delay passed with no answer yet: send another attempt, if the budget
    /// (gRPC throttles hedges like retries) allows.
    pub(super) fn on_hedge_due(&mut self, request_handle: Handle) {
        let Some(request) = self.requests.get(request_handle) else { return };
        let index = usize::from(request.edge);
        let Some(hedge) = &self.model.edges[index].hedge else { return };
        if request.attempts_made >= hedge.max_attempts || request.outstanding.is_empty() {
            return;
        }
        let state = &mut self.edges[index];
        let (active, retries) = (state.active_requests, state.retries_in_flight);
        if let Some(budget) = state.budget.as_mut() {
            if budget.try_retry(self.now, AttemptFailure::Timeout, active, retries).is_none() {
                return;
            }
        }
        self.send_attempt(request_handle);
    }

    /// A response reaches the caller, which still waits for it.
    pub(super) fn on_response_arrives(&mut self, attempt_handle: Handle) {
        // Gone: the caller gave up while the response was on the way (counted then).
        let Some(attempt) = self.attempts.remove(attempt_handle) else { return };
        let elapsed = self.now.since(attempt.sent_at);
        let edge = attempt.edge;
        let from_client = self.model.edges[usize::from(edge)].from_client;
        if from_client {
            self.edges[usize::from(edge)].attempt_latency.record(elapsed.0);
        }
        let (outcome, failure) = match attempt.answer {
            Answer::Success => (AttemptOutcome::Success, None),
            Answer::Error => (AttemptOutcome::Error, Some(Failure::Error)),
            // A refusal is not an "accept" (SRE throttling) but overload (budgets: throttled).
            Answer::Rejected => (AttemptOutcome::Throttled, Some(Failure::Rejected)),
            Answer::Overloaded | Answer::RateLimited { .. } => (AttemptOutcome::Throttled, Some(Failure::Rejected)),
            Answer::Pending => return,
        };
        self.attempt_ended(&attempt, attempt_handle, outcome);
        match failure {
            None => {
                if from_client {
                    self.totals.attempt_successes += 1;
                }
                self.finish_request(attempt.request, Outcome::Success);
            }
            Some(failure) => {
                let bucket = self.edge_bucket(edge);
                if failure == Failure::Error {
                    bucket.errors += 1;
                } else {
                    bucket.rejected += 1;
                }
                if from_client {
                    if failure == Failure::Error {
                        self.totals.attempt_errors += 1;
                    } else {
                        self.totals.attempt_rejections += 1;
                    }
                }
                let pushback = match attempt.answer {
                    Answer::Overloaded => match self.model.services[usize::from(attempt.service)].pushback {
                        Some(Some(retry_after)) => Pushback::RetryAfter(retry_after),
                        _ => Pushback::DoNotRetry,
                    },
                    Answer::RateLimited { retry_after_s } => {
                        Pushback::RetryAfter(SimDuration::from_secs(u64::from(retry_after_s)))
                    }
                    _ => Pushback::None,
                };
                self.after_failed_attempt(attempt.request, failure, pushback);
            }
        }
    }

    /// Tells the request and the call's policies that an attempt ended for the caller.
    fn attempt_ended(&mut self, attempt: &Attempt, attempt_handle: Handle, outcome: AttemptOutcome) {
        let index = usize::from(attempt.edge);
        let now = self.now;
        let last_permit = match self.requests.get_mut(attempt.request) {
            Some(request) => {
                request.outstanding.remove(attempt_handle);
                if request.retry_in_flight {
                    request.retry_in_flight = false;
                    self.edges[index].retries_in_flight = self.edges[index].retries_in_flight.saturating_sub(1);
                }
                request.last_permit
            }
            None => None,
        };
        let state = &mut self.edges[index];
        if state.plain {
            return;
        }
        if let Some(budget) = state.budget.as_mut() {
            budget.on_attempt_result(now, outcome, last_permit);
        }
        if let Some(throttle) = state.throttle.as_mut() {
            throttle.on_attempt_result(now, outcome, None);
        }
        if let Some(breaker) = state.breaker.as_mut() {
            breaker.on_result(now, outcome == AttemptOutcome::Success);
        }
        let host_outcome = match outcome {
            AttemptOutcome::Success => HostOutcome::Success,
            AttemptOutcome::Timeout => HostOutcome::Timeout,
            AttemptOutcome::Error | AttemptOutcome::Throttled => HostOutcome::Error,
        };
        self.host_result(attempt, host_outcome);
    }

    /// Tells the attempt's load balancer, if any, how its instance did.
    fn host_result(&mut self, attempt: &Attempt, outcome: HostOutcome) {
        if attempt.host == NO_HOST {
            return;
        }
        if let Target::Balancer(balancer) = self.model.edges[usize::from(attempt.edge)].target {
            let latency = self.now.since(attempt.sent_at);
            self.balancers[usize::from(balancer)].balancer.on_result(
                self.now,
                u32::from(attempt.host),
                latency,
                outcome,
            );
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

    /// The caller gives up on an attempt. The server is told only if the call cancels.
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
        self.abandon_attempt(attempt_handle, Some(AttemptOutcome::Timeout));
        self.after_failed_attempt(request, Failure::Timeout, Pushback::None);
    }

    /// The caller stops waiting for an attempt (timeout, deadline, lost hedge). `outcome` is
    /// what the call's policies are told (none for a lost hedge: it did not fail). If the
    /// server is already done with it, it is freed now, and an answer still on the way was
    /// work wasted; if the call cancels, the server is told.
    pub(super) fn abandon_attempt(&mut self, attempt_handle: Handle, outcome: Option<AttemptOutcome>) {
        let Some(attempt) = self.attempts.get_mut(attempt_handle) else { return };
        attempt.awaited = false;
        let (edge, stage) = (attempt.edge, attempt.stage);
        // Copy what the policies need before the attempt may be freed.
        let snapshot = Attempt { job: None, ..*attempt };
        match outcome {
            Some(outcome) => self.attempt_ended(&snapshot, attempt_handle, outcome),
            None => {
                if let Some(request) = self.requests.get_mut(snapshot.request) {
                    request.outstanding.remove(attempt_handle);
                }
                self.host_result(&snapshot, HostOutcome::Success);
            }
        }
        if stage == Stage::Done {
            if let Some(attempt) = self.attempts.remove(attempt_handle) {
                if matches!(attempt.answer, Answer::Success | Answer::Error) {
                    self.count_late_response(attempt.service, attempt.server_mark);
                }
            }
        } else if self.model.edges[usize::from(edge)].cancel_on_give_up {
            let delay = self.network_delay(edge);
            if delay == SimDuration::ZERO {
                self.cancel_at_server(attempt_handle);
            } else {
                self.events.schedule(self.now + delay, Event::CancelArrives(attempt_handle));
            }
        }
    }

    /// The request's deadline passed: it fails now, and its attempts out are abandoned.
    pub(super) fn on_request_deadline(&mut self, request_handle: Handle) {
        let Some(request) = self.requests.get(request_handle) else { return };
        let from_client = self.model.edges[usize::from(request.edge)].from_client;
        let outstanding = request.outstanding.handles();
        for attempt in outstanding {
            // Abandoning one attempt can settle another at once (a cancellation frees a worker,
            // which drops an expired sibling from the queue): count only those still awaited.
            if !self.attempts.get(attempt).is_some_and(|a| a.awaited) {
                continue;
            }
            if from_client {
                self.totals.attempt_deadline_abandons += 1;
            }
            self.abandon_attempt(attempt, Some(AttemptOutcome::Timeout));
        }
        if let Some(request) = self.requests.get_mut(request_handle) {
            request.outstanding = Default::default();
        }
        self.finish_request(request_handle, Outcome::Failed(Failure::Deadline));
    }

    /// After a failed attempt: wait for the other attempts of a hedged request; else retry
    /// after the backoff if the policy, the pushback and the budget allow; else fail.
    fn after_failed_attempt(&mut self, request_handle: Handle, failure: Failure, pushback: Pushback) {
        let Some(request) = self.requests.get_mut(request_handle) else { return };
        let index = usize::from(request.edge);
        let edge_model = &self.model.edges[index];
        if let Some(hedge) = &edge_model.hedge {
            // gRPC hedging: a failed hedge waits for the others; when none is left, the next
            // attempt goes at once (further ones still follow the hedging delay).
            if !request.outstanding.is_empty() {
                return;
            }
            if request.attempts_made >= hedge.max_attempts {
                self.finish_request(request_handle, Outcome::Failed(failure));
            } else {
                self.send_attempt(request_handle);
            }
            return;
        }
        let retry = &edge_model.retry;
        if request.attempts_made >= retry.max_attempts {
            self.finish_request(request_handle, Outcome::Failed(failure));
            return;
        }
        let mut floor = SimDuration::ZERO;
        if retry.honor_pushback {
            match pushback {
                Pushback::None => {}
                Pushback::RetryAfter(retry_after) => floor = retry_after,
                Pushback::DoNotRetry => {
                    self.finish_request(request_handle, Outcome::Failed(failure));
                    return;
                }
            }
        }
        let overloaded = pushback != Pushback::None;
        let state = &mut self.edges[index];
        let (active, retries) = (state.active_requests, state.retries_in_flight);
        if let Some(budget) = state.budget.as_mut() {
            let after = match (failure, overloaded) {
                (_, true) => AttemptFailure::Throttled,
                (Failure::Timeout, _) => AttemptFailure::Timeout,
                _ => AttemptFailure::Error,
            };
            match budget.try_retry(self.now, after, active, retries) {
                Some(permit) => request.last_permit = Some(permit),
                None => {
                    self.finish_request(request_handle, Outcome::Failed(failure));
                    return;
                }
            }
        }
        state.retries_in_flight += 1;
        request.retry_in_flight = true;
        let retry_index = request.attempts_made - 1;
        let wait = retry_wait(retry, retry_index, request.previous_wait, &mut state.jitter).max(floor);
        request.previous_wait = wait;
        if wait == SimDuration::ZERO {
            self.send_attempt(request_handle);
        } else {
            self.events.schedule(self.now + wait, Event::RetryDue(request_handle));
        }
    }

    /// The request is over: count it, abandon its attempts still out, fall back if it failed
    /// and the call says so, and tell its caller.
    pub(super) fn finish_request(&mut self, request_handle: Handle, outcome: Outcome) {
        let Some(mut request) = self.requests.remove(request_handle) else { return };
        let index = usize::from(request.edge);
        let state = &mut self.edges[index];
        state.active_requests = state.active_requests.saturating_sub(1);
        if request.retry_in_flight {
            state.retries_in_flight = state.retries_in_flight.saturating_sub(1);
        }
        let from_client = self.model.edges[index].from_client;
        // Hedges that lost (or attempts out when a deadline or refusal ended it).
        let leftovers = if request.outstanding.is_empty() { Vec::new() } else { request.outstanding.take() };
        for attempt in leftovers {
            if from_client {
                self.totals.hedge_losers += 1;
            }
            self.abandon_attempt(attempt, None);
        }
        let mut outcome = outcome;
        match outcome {
            Outcome::Success => {
                // A client's own call has the client's latency (recorded below, once).
                if !from_client || self.model.edges[index].is_fallback {
                    let latency_ns = self.now.since(request.created_at).0;
                    self.edges[index].bucket_latency.record(latency_ns);
                }
                self.edge_bucket(request.edge).succeeded += 1;
            }
            Outcome::Degraded => self.edge_bucket(request.edge).degraded += 1,
            Outcome::Failed(failure) => {
                self.edge_bucket(request.edge).failed += 1;
                // A fallback cannot beat a deadline that has passed, nor help a caller gone.
                if failure != Failure::Deadline && failure != Failure::Cancelled {
                    match self.model.edges[index].fallback {
                        FallbackModel::None => {}
                        FallbackModel::Degraded => {
                            outcome = Outcome::Degraded;
                            self.edge_bucket(request.edge).degraded += 1;
                        }
                        FallbackModel::Call(fallback) => {
                            if from_client {
                                self.totals.fallback_requests += 1;
                            }
                            let origin = Origin {
                                caller: request.caller,
                                criticality: request.criticality,
                                key: request.key,
                                created_at: request.created_at,
                                inherited_deadline: NO_DEADLINE,
                                deadline_cap: request.deadline,
                            };
                            self.start_request(fallback, origin);
                            return;
                        }
                    }
                }
            }
        }
        match request.caller {
            Caller::Client { client, user } => {
                self.totals.last_outcome_at = self.now;
                let bucket = self.client_bucket(client);
                match outcome {
                    Outcome::Success => bucket.succeeded += 1,
                    Outcome::Degraded => bucket.degraded += 1,
                    Outcome::Failed(_) => bucket.failed += 1,
                }
                match outcome {
                    Outcome::Success => {
                        self.totals.succeeded += 1;
                        let latency_ns = self.now.since(request.created_at).0;
                        let state = &mut self.clients[usize::from(client)];
                        state.latency.record(latency_ns);
                        state.bucket_latency.record(latency_ns);
                    }
                    Outcome::Degraded => self.totals.degraded += 1,
                    Outcome::Failed(failure) => match failure {
                        Failure::Timeout => self.totals.failed_timeout += 1,
                        Failure::Error => self.totals.failed_error += 1,
                        Failure::Rejected => self.totals.failed_rejected += 1,
                        Failure::Deadline => self.totals.failed_deadline += 1,
                        Failure::ShortCircuited => self.totals.failed_short_circuit += 1,
                        Failure::Throttled => self.totals.failed_throttled += 1,
                        Failure::Cancelled => {}
                    },
                }
                if let Some(user) = user {
                    self.schedule_user(client, user);
                }
            }
            Caller::Job { attempt } => self.on_call_done(attempt, request_handle, outcome.is_usable()),
            Caller::Orphan => {}
        }
    }
}

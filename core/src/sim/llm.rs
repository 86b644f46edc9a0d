//! LLM endpoints: an arriving request draws its prompt and answer lengths, passes the
//! per-minute limits (or gets 429 with a retry-after hint), waits for the model if it is
//! scaled to zero, then queues for a decoding slot like any service's attempt; its slot time is
//! its time to first token plus its generation, from [`crate::components::llm`].
//!
//! ```text
//!  attempt ──limits──> 429 (retry-after) │ too large (rejected)
//!             └──> model loaded? ──no──> LlmReady at the end of the load
//!                        └──> slot free: decode │ queue │ queue full: overloaded (rejected)
//!  decode: TTFT = wait + prefill (cache hit: faster) ──> + (output - 1) x time per token ──> answer
//! ```

use super::state::Answer;
use super::{Event, Simulation};
use crate::components::llm::{LlmCounters, LlmEndpoint, LlmRequest, Refusal, Served};
use crate::engine::Handle;
use crate::metrics::histogram::Histogram;
use crate::metrics::series::LlmBucket;
use crate::prelude::*;
use crate::rng::Stream;
use crate::scenario::{LlmModel, Target};
use crate::time::{SimDuration, SimTime};

/// The live state of an LLM endpoint.
pub(super) struct LlmState {
    pub endpoint: LlmEndpoint,
    /// Admitted requests not done yet, by attempt.
    pub served: BTreeMap<Handle, Served>,
    pub tokens: Stream,
    pub cache_draws: Stream,
    /// The endpoint's counters at the start of the bucket, to record each bucket's share.
    pub counters_at_bucket_start: LlmCounters,
    /// Time to first token of the requests that reached a slot in the current bucket.
    pub bucket_ttft: Histogram,
    /// ... and over the whole run.
    pub ttft: Histogram,
}

impl LlmState {
    pub fn new(model: &LlmModel, seed: u64) -> Self {
        LlmState {
            endpoint: LlmEndpoint::new(model.endpoint, SimTime::ZERO),
            served: BTreeMap::new(),
            tokens: Stream::new(seed, model.token_stream_id),
            cache_draws: Stream::new(seed, model.cache_stream_id),
            counters_at_bucket_start: LlmCounters::default(),
            bucket_ttft: Histogram::new(),
            ttft: Histogram::new(),
        }
    }
}

impl Simulation {
    #[inline]
    pub(super) fn llm_bucket(&mut self, service: u16) -> &mut LlmBucket {
        let bucket = (self.bucket as usize).min(self.series.bucket_count as usize - 1);
        &mut self.series.llms[usize::from(service)][bucket]
    }

    /// A request reaches an LLM endpoint: limits, then the model, then a slot.
    pub(super) fn llm_arrives(&mut self, attempt_handle: Handle) {
        let now = self.now;
        let Some(attempt) = self.attempts.get(attempt_handle) else { return };
        let (service, criticality) = (attempt.service, attempt.criticality);
        let index = usize::from(service);
        let (Some(model), Some(state)) = (self.model.services[index].llm.as_deref(), self.services[index].llm.as_mut())
        else {
            return;
        };
        // The same draws for every request, whatever happens to it, so that one request's
        // fate does not shift the next one's tokens.
        let prompt_tokens = LlmModel::tokens(&model.prompt_tokens, &mut state.tokens);
        let wanted_output_tokens = LlmModel::tokens(&model.output_tokens, &mut state.tokens);
        let prefix = ((state.cache_draws.uniform() * f64::from(model.prefixes)) as u32).min(model.prefixes - 1);
        let cache_draw = state.cache_draws.uniform();
        let request = LlmRequest {
            prompt_tokens,
            max_output_tokens: model.max_output_tokens,
            wanted_output_tokens,
            prefix,
            cache_draw,
        };
        match state.endpoint.on_arrival(now, &request) {
            Err(refusal @ Refusal::RateLimited { .. }) => {
                let header = refusal.retry_after_header().unwrap_or(SimDuration::from_secs(1));
                let retry_after_s = u8::try_from(header.0 / 1_000_000_000).unwrap_or(u8::MAX);
                self.service_bucket(service).rejected += 1;
                self.answer(attempt_handle, Answer::RateLimited { retry_after_s });
            }
            Err(Refusal::TooLarge { .. }) => {
                self.service_bucket(service).rejected += 1;
                self.answer(attempt_handle, Answer::Rejected);
            }
            Ok(served) => {
                state.served.insert(attempt_handle, served);
                if served.ready_at > now {
                    // The model is loading: the request waits for it (still on its way, as
                    // far as the slots are concerned).
                    self.events.schedule(served.ready_at, Event::LlmReady(attempt_handle));
                } else {
                    self.serve_or_queue(service, attempt_handle, criticality);
                }
            }
        }
    }

    /// The model has loaded: a request that waited for it goes to the slots.
    pub(super) fn on_llm_ready(&mut self, attempt_handle: Handle) {
        let Some(attempt) = self.attempts.get(attempt_handle) else { return };
        let (service, criticality) = (attempt.service, attempt.criticality);
        if attempt.flags.cancelled() {
            self.release_server_attempt(attempt_handle);
            return;
        }
        self.serve_or_queue(service, attempt_handle, criticality);
    }

    /// A slot takes the request: its slot time, and its time to first token recorded.
    pub(super) fn llm_slot_time(&mut self, service: u16, attempt_handle: Handle, slowdown: f64) -> SimDuration {
        let now = self.now;
        let waited = self.attempts.get(attempt_handle).map_or(SimDuration::ZERO, |a| now.since(a.arrived_at));
        let Some(state) = self.services[usize::from(service)].llm.as_mut() else { return SimDuration::ZERO };
        let Some(served) = state.served.get(&attempt_handle) else { return SimDuration::ZERO };
        let scale = |duration: SimDuration| if slowdown == 1.0 { duration } else { duration.mul_f64(slowdown) };
        let ttft = waited + scale(served.time_to_first_token);
        state.bucket_ttft.record(ttft.0);
        state.ttft.record(ttft.0);
        scale(served.service_time())
    }

    /// The server is done with an attempt (answered, refused, dropped or cancelled): an LLM
    /// request leaves the endpoint's count of requests in flight.
    pub(super) fn llm_forget(&mut self, attempt_handle: Handle) {
        let now = self.now;
        let Some(attempt) = self.attempts.get(attempt_handle) else { return };
        if matches!(self.model.edges.get(usize::from(attempt.edge)).map(|edge| edge.target), Some(Target::Queue(_))) {
            return; // a queue's message: `service` is a queue index
        }
        let Some(state) = self.services.get_mut(usize::from(attempt.service)).and_then(|s| s.llm.as_mut()) else {
            return;
        };
        if let Some(served) = state.served.remove(&attempt_handle) {
            state.endpoint.on_finish(now, &served);
        }
    }

    /// Removes an attempt the server held (queued or in a slot) that its caller cancelled.
    pub(super) fn release_server_attempt(&mut self, attempt_handle: Handle) {
        if self.has_llm {
            self.llm_forget(attempt_handle);
        }
        self.attempts.remove(attempt_handle);
    }

    /// Closes an endpoint's bucket: its share of the counters, its time to first token, whether
    /// its model is loaded.
    pub(super) fn close_llm_bucket(&mut self, service: usize, bucket: usize, time: SimTime) {
        let Some(state) = self.services[service].llm.as_mut() else { return };
        state.endpoint.advance(time.max(self.now));
        let counters = state.endpoint.counters();
        let before = state.counters_at_bucket_start;
        let record = &mut self.series.llms[service][bucket];
        record.requests = counters.requests() - before.requests();
        record.rate_limited = counters.rate_limits.rate_limited() - before.rate_limits.rate_limited();
        record.too_large = counters.rate_limits.too_large - before.rate_limits.too_large;
        record.input_tokens = counters.input_tokens - before.input_tokens;
        record.cached_input_tokens = counters.cached_input_tokens - before.cached_input_tokens;
        record.output_tokens = counters.output_tokens - before.output_tokens;
        record.charged_tokens =
            counters.rate_limits.tokens_per_minute_charged - before.rate_limits.tokens_per_minute_charged;
        record.truncated = counters.truncated_responses - before.truncated_responses;
        record.cache_hits = counters.cache.hits - before.cache.hits;
        record.cache_misses = counters.cache.misses - before.cache.misses;
        record.loads = counters.loader.loads - before.loader.loads;
        record.loaded_end = matches!(state.endpoint.loader().state(), crate::components::llm::ModelState::Loaded);
        record.ttft_ns = state.bucket_ttft.latency_quantiles();
        state.bucket_ttft.clear();
        state.counters_at_bucket_start = counters;
    }
}

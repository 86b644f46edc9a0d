//! An LLM endpoint as one state machine ([`LlmEndpoint`]): its rate limits, model loader, prompt
//! cache and latency called in the order of the contract in [`crate::components::llm`] for each
//! request, and everything it counts ([`LlmCounters`]).
//!
//! **Why it matters.** The pieces interact in ways none shows alone: a refused request must not
//! wake a scaled-down model, a load empties the prompt cache, and the cache is looked up when the
//! model can first read the prompt, not when the request arrived; each of these changes latency and
//! cost.
//!
//! Sources: those of its pieces (OpenAI's and Anthropic's "Rate limits" guides for the limits,
//! Anthropic's "Prompt caching" for the cache), named in each piece's module.

use super::{
    CacheCounters, CacheLookup, FinishReason, LatencyModel, LoaderCounters, ModelLoader, ModelLoaderConfig, Output,
    PromptCache, PromptCacheConfig, RateLimitCounters, RateLimits, RateLimitsConfig, Refusal, RequestSize,
};
use crate::time::{SimDuration, SimTime};

/// Everything an endpoint has counted since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LlmCounters {
    /// Prompt tokens of admitted requests, cached ones included.
    pub input_tokens: u64,
    /// Of `input_tokens`, those read from the prompt cache.
    pub cached_input_tokens: u64,
    /// Output tokens of admitted requests.
    pub output_tokens: u64,
    /// Admitted requests whose output budget cut their answer ([`FinishReason::Length`]).
    pub truncated_responses: u64,
    /// Admissions, 429s by limit, too-large refusals.
    pub rate_limits: RateLimitCounters,
    /// Prompt-cache hits and misses (both zero without a cache).
    pub cache: CacheCounters,
    /// Model loads, unloads, requests that waited for a load.
    pub loader: LoaderCounters,
}

impl LlmCounters {
    /// Requests admitted (and so served).
    pub fn requests(&self) -> u64 {
        self.rate_limits.admitted
    }

    /// Requests refused: rate-limited or too large.
    pub fn refused(&self) -> u64 {
        self.rate_limits.rate_limited().saturating_add(self.rate_limits.too_large)
    }
}

/// One endpoint's configuration: its limits, latency, prompt cache (if any) and model loading.
/// The default: no limits, rule-of-thumb latency, no cache, always loaded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LlmEndpointConfig {
    /// Per-minute rate limits.
    pub limits: RateLimitsConfig,
    /// Time to first token and per output token.
    pub latency: LatencyModel,
    /// The prompt cache; `None`: no cache, every request pays its full prefill.
    pub cache: Option<PromptCacheConfig>,
    /// Model loading and scaling to zero.
    pub loader: ModelLoaderConfig,
}

impl Default for LlmEndpointConfig {
    fn default() -> Self {
        LlmEndpointConfig {
            limits: RateLimitsConfig::UNLIMITED,
            latency: LatencyModel::RULE_OF_THUMB,
            cache: None,
            loader: ModelLoaderConfig::ALWAYS_LOADED,
        }
    }
}

/// One request as the simulator sends it: its size and the draws it made for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LlmRequest {
    /// Tokens in the prompt (charged against TPM and ITPM; prefilled).
    pub prompt_tokens: u64,
    /// The output budget (`max_tokens`): charged against the token limits, caps the output.
    pub max_output_tokens: u64,
    /// How long the model's answer would be without a budget (the simulator draws it).
    pub wanted_output_tokens: u64,
    /// Which prompt prefix it shares (the simulator draws it, below the cache's `prefixes`).
    pub prefix: u32,
    /// The simulator's uniform draw in `[0, 1)` for the cache hit.
    pub cache_draw: f64,
}

/// An admitted request: when it can start, and what it costs its decoding slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Served {
    /// When the model can serve it: the arrival if loaded, else the end of the model's load.
    /// It joins the slot queue then.
    pub ready_at: SimTime,
    /// Prompt tokens read from the prompt cache (0 on a miss).
    pub cached_prompt_tokens: u64,
    /// Whether the prompt cache hit.
    pub cache_hit: bool,
    /// From the start of its decoding slot to its first output token.
    pub time_to_first_token: SimDuration,
    /// From the first output token to the last.
    pub generation_time: SimDuration,
    /// Output tokens produced: the wanted output, capped by the budget.
    pub output_tokens: u64,
    /// [`FinishReason::Length`] if the budget cut the answer.
    pub finish_reason: FinishReason,
    /// The request's output budget, for settling the output limit at the end.
    pub max_output_tokens: u64,
}

impl Served {
    /// How long it holds a decoding slot: time to first token plus generation.
    pub fn service_time(&self) -> SimDuration {
        self.time_to_first_token + self.generation_time
    }
}

/// An LLM endpoint's admission, latency and state: its pieces, called in the right order
/// for each request. See [`crate::components::llm`] for the contract.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmEndpoint {
    limits: RateLimits,
    latency: LatencyModel,
    cache: Option<PromptCache>,
    loader: ModelLoader,
    /// Token counts; the pieces keep their own counters, merged by [`Self::counters`].
    usage: LlmCounters,
}

impl LlmEndpoint {
    /// An endpoint at `now`: full rate-limit buckets, a cold cache, the model as configured.
    pub fn new(config: LlmEndpointConfig, now: SimTime) -> Self {
        LlmEndpoint {
            limits: RateLimits::new(config.limits),
            latency: config.latency,
            cache: config.cache.map(PromptCache::new),
            loader: ModelLoader::new(config.loader, now),
            usage: LlmCounters::default(),
        }
    }

    /// A request arrives at `now`. Rate limits first (a refused request changes nothing else
    /// and does not wake a scaled-down model); then the model (a load if scaled to zero, which
    /// also empties the cache); then the cache at `ready_at`; then the latency of its capped
    /// output. An admitted request is in flight until [`Self::on_finish`].
    pub fn on_arrival(&mut self, now: SimTime, request: &LlmRequest) -> Result<Served, Refusal> {
        let size = RequestSize { prompt_tokens: request.prompt_tokens, max_output_tokens: request.max_output_tokens };
        self.limits.try_admit(now, size)?;
        let loads_before = self.loader.counters().loads;
        let ready_at = self.loader.on_request(now);
        let lookup = match &mut self.cache {
            Some(cache) => {
                if self.loader.counters().loads > loads_before {
                    cache.clear();
                }
                cache.on_request(ready_at, request.prefix, request.cache_draw, request.prompt_tokens)
            }
            None => CacheLookup::default(),
        };
        let output = Output::capped(request.wanted_output_tokens, request.max_output_tokens);
        let usage = &mut self.usage;
        usage.input_tokens = usage.input_tokens.saturating_add(request.prompt_tokens);
        usage.cached_input_tokens = usage.cached_input_tokens.saturating_add(lookup.cached_prompt_tokens);
        usage.output_tokens = usage.output_tokens.saturating_add(output.tokens);
        if output.finish_reason == FinishReason::Length {
            usage.truncated_responses = usage.truncated_responses.saturating_add(1);
        }
        Ok(Served {
            ready_at,
            cached_prompt_tokens: lookup.cached_prompt_tokens,
            cache_hit: lookup.hit,
            time_to_first_token: self.latency.time_to_first_token(request.prompt_tokens, lookup.cached_prompt_tokens),
            generation_time: self.latency.generation_time(output.tokens),
            output_tokens: output.tokens,
            finish_reason: output.finish_reason,
            max_output_tokens: request.max_output_tokens,
        })
    }

    /// An admitted request is done at `now` (answered, or dropped before its slot): it leaves
    /// the model's in-flight count, and its unused output budget is settled if so configured.
    /// Call it exactly once per admitted request.
    pub fn on_finish(&mut self, now: SimTime, served: &Served) {
        self.limits.settle_output(now, served.max_output_tokens, served.output_tokens);
        self.loader.on_finish(now);
    }

    /// Applies the model's due transitions (see [`ModelLoader::advance`]).
    pub fn advance(&mut self, now: SimTime) {
        self.loader.advance(now);
    }

    /// When the model scales to zero if no request comes (see [`ModelLoader::next_unload_at`]).
    pub fn next_unload_at(&self) -> Option<SimTime> {
        self.loader.next_unload_at()
    }

    /// Everything counted so far: tokens, refusals, cache hits and misses, loads.
    pub fn counters(&self) -> LlmCounters {
        LlmCounters {
            rate_limits: self.limits.counters(),
            cache: self.cache.as_ref().map(PromptCache::counters).unwrap_or_default(),
            loader: self.loader.counters(),
            ..self.usage
        }
    }

    /// The rate limits (for their remaining tokens).
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The prompt cache, if configured.
    pub fn cache(&self) -> Option<&PromptCache> {
        self.cache.as_ref()
    }

    /// The model's load state.
    pub fn loader(&self) -> &ModelLoader {
        &self.loader
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::llm::test_support::{at_secs, traffic, SERVERLESS};
    use crate::components::llm::{ModelState, PriceTable, RateLimit};
    use crate::prelude::*;

    fn request(prompt_tokens: u64, max_output_tokens: u64, wanted_output_tokens: u64) -> LlmRequest {
        LlmRequest { prompt_tokens, max_output_tokens, wanted_output_tokens, prefix: 0, cache_draw: 0.0 }
    }

    /// A serverless endpoint with a long-lived cache: a refused request does not wake the
    /// model; the first admitted one loads it and misses; the next hits; after the model scales
    /// to zero the cache is gone, however long its lifetime.
    #[test]
    fn endpoint_runs_the_pieces_in_order() {
        let config = LlmEndpointConfig {
            limits: RateLimitsConfig { input_tokens_per_minute: Some(150_000), ..RateLimitsConfig::UNLIMITED },
            cache: Some(PromptCacheConfig { ttl: SimDuration::from_secs(3_600), ..PromptCacheConfig::default() }),
            loader: SERVERLESS,
            ..LlmEndpointConfig::default()
        };
        let mut endpoint = LlmEndpoint::new(config, SimTime::ZERO);
        let too_large = endpoint.on_arrival(SimTime::ZERO, &request(150_001, 10, 10));
        assert!(matches!(too_large, Err(Refusal::TooLarge { .. })));
        assert_eq!((endpoint.loader().state(), endpoint.counters().loader.loads), (ModelState::ScaledToZero, 0));

        let first = endpoint.on_arrival(SimTime::ZERO, &request(100_000, 500, 200)).unwrap();
        assert_eq!(
            first,
            Served {
                ready_at: at_secs(60),
                cached_prompt_tokens: 0,
                cache_hit: false,
                time_to_first_token: SimDuration::from_ms(11_500),
                generation_time: SimDuration::from_ms(199 * 20),
                output_tokens: 200,
                finish_reason: FinishReason::Stop,
                max_output_tokens: 500,
            }
        );
        assert_eq!(first.service_time(), SimDuration::from_ms(15_480));
        endpoint.on_finish(at_secs(80), &first);
        let second = endpoint.on_arrival(at_secs(81), &request(100_000, 500, 900)).unwrap();
        assert_eq!((second.ready_at, second.cache_hit, second.cached_prompt_tokens), (at_secs(81), true, 100_000));
        assert_eq!(
            (second.time_to_first_token, second.finish_reason),
            (SimDuration::from_ms(2_400), FinishReason::Length)
        );
        let third = endpoint.on_arrival(at_secs(82), &request(100_000, 500, 900)).unwrap_err();
        // 50,000 input tokens left at 81 s, 52,500 at 82 s: 47,500 more at 2,500 a second.
        assert_eq!(
            third,
            Refusal::RateLimited { retry_after: SimDuration::from_secs(19), limit: RateLimit::InputTokensPerMinute }
        );
        endpoint.on_finish(at_secs(100), &second);
        assert_eq!(endpoint.next_unload_at(), Some(at_secs(1_000)));
        endpoint.advance(at_secs(1_000));
        assert_eq!(endpoint.loader().state(), ModelState::ScaledToZero);
        assert!(endpoint.cache().is_some_and(|cache| cache.is_warm(at_secs(1_000), 0)), "still warm by its ttl");
        let after_unload = endpoint.on_arrival(at_secs(1_200), &request(100_000, 500, 200)).unwrap();
        assert_eq!(
            (after_unload.ready_at, after_unload.cache_hit),
            (at_secs(1_260), false),
            "the load emptied the cache"
        );

        let counters = endpoint.counters();
        assert_eq!((counters.requests(), counters.refused()), (3, 2));
        assert_eq!((counters.input_tokens, counters.cached_input_tokens), (300_000, 100_000));
        assert_eq!((counters.output_tokens, counters.truncated_responses), (900, 1));
        assert_eq!(counters.cache, CacheCounters { hits: 1, misses: 2 });
        assert_eq!(counters.loader, LoaderCounters { loads: 2, unloads: 1, requests_waited_for_load: 2 });
        assert_eq!((counters.rate_limits.too_large, counters.rate_limits.rate_limited_input_tokens_per_minute), (1, 1));
        // 200,000 uncached x $3/M + 100,000 cached x $0.30/M + 900 x $15/M.
        assert_eq!(
            PriceTable::EXAMPLE_MID_SIZE_2025.cost_pico_usd(&counters),
            600_000_000_000 + 30_000_000_000 + 13_500_000_000
        );
    }

    #[test]
    fn endpoint_settles_output_at_finish_and_counts_no_cache_as_no_lookups() {
        let config = LlmEndpointConfig {
            limits: RateLimitsConfig {
                output_tokens_per_minute: Some(1_000),
                output_settled_at_finish: true,
                ..RateLimitsConfig::UNLIMITED
            },
            ..LlmEndpointConfig::default()
        };
        let mut endpoint = LlmEndpoint::new(config, SimTime::ZERO);
        let served = endpoint.on_arrival(SimTime::ZERO, &request(10, 1_000, 100)).unwrap();
        assert_eq!(served.ready_at, SimTime::ZERO);
        let refused = endpoint.on_arrival(SimTime::ZERO, &request(10, 500, 100));
        assert_eq!(
            refused,
            Err(Refusal::RateLimited {
                retry_after: SimDuration::from_secs(30),
                limit: RateLimit::OutputTokensPerMinute
            })
        );
        endpoint.on_finish(SimTime::ZERO, &served);
        assert!(endpoint.on_arrival(SimTime::ZERO, &request(10, 500, 100)).is_ok(), "900 unused tokens came back");
        assert_eq!(endpoint.counters().cache, CacheCounters::default());
    }

    /// The same calls give the same answers and counters, every time.
    #[test]
    fn endpoint_is_deterministic() {
        let config = LlmEndpointConfig {
            limits: RateLimitsConfig {
                requests_per_minute: Some(30),
                tokens_per_minute: Some(60_000),
                ..RateLimitsConfig::UNLIMITED
            },
            cache: Some(PromptCacheConfig { hit_ratio: 0.7, prefixes: 8, ..PromptCacheConfig::default() }),
            loader: ModelLoaderConfig { scale_to_zero_after: Some(SimDuration::from_secs(30)), ..SERVERLESS },
            ..LlmEndpointConfig::default()
        };
        let run = || {
            let mut endpoint = LlmEndpoint::new(config, SimTime::ZERO);
            let mut answers = Vec::new();
            // Admitted requests by the time they finish, finished in time order before each
            // arrival, as the simulator's event queue would.
            let mut in_flight: Vec<(SimTime, Served)> = Vec::new();
            let mut pause = SimDuration::ZERO;
            for (index, (now, prompt, max_output, wanted)) in traffic(4_000).enumerate() {
                if index % 50 == 0 {
                    pause = pause + SimDuration::from_secs(100);
                }
                let now = now + pause;
                in_flight.sort_by_key(|&(done_at, _)| done_at);
                while in_flight.first().is_some_and(|&(done_at, _)| done_at <= now) {
                    let (done_at, served) = in_flight.remove(0);
                    endpoint.on_finish(done_at, &served);
                }
                let request = LlmRequest {
                    prompt_tokens: prompt,
                    max_output_tokens: max_output,
                    wanted_output_tokens: wanted + (index as u64 % 3) * 1_000,
                    prefix: (prompt % 11) as u32,
                    cache_draw: (wanted % 1_000) as f64 / 1_000.0,
                };
                let answer = endpoint.on_arrival(now, &request);
                if let Ok(served) = answer {
                    in_flight.push((served.ready_at + served.service_time(), served));
                }
                answers.push(answer);
            }
            (answers, endpoint.counters())
        };
        let (answers, counters) = run();
        assert_eq!((answers, counters), run());
        assert!(counters.requests() > 1_000 && counters.refused() > 1_000, "{counters:?}");
        assert!(counters.cache.hits > 0 && counters.cache.misses > 0, "{counters:?}");
        assert!(counters.loader.loads > 10 && counters.loader.requests_waited_for_load > counters.loader.loads);
        assert!(counters.truncated_responses > 0 && counters.cached_input_tokens > 0, "{counters:?}");
    }
}

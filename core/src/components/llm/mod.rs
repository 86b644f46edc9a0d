//! An LLM inference endpoint's state machines: per-minute rate limits on requests and tokens,
//! the latency of a response from its token counts, a prompt cache that expires after minutes of
//! disuse, the cold load of a deployment scaled to zero, and the counters and price of the tokens
//! served. The endpoint's decoding slots and queue are the simulator's ordinary service
//! machinery; these pieces decide admission, latency and state.
//!
//! **Why it matters.** An LLM endpoint is a service whose unit of work is not the request but the
//! token, and its failure modes follow from that. Its rate limits count tokens as well as
//! requests, and a request is charged for the output it *might* produce (its `max_output_tokens`),
//! so a client that asks for a generous budget gets 429s long before the tokens it really uses
//! reach the limit. A 429 carries a retry-after hint; clients that honour it wait in step and come
//! back together, clients that ignore it burn attempts against an empty bucket. Latency is
//! seconds, not milliseconds, and grows with the prompt, so a client timeout tuned for a short
//! prompt fires on every long one, and the abandoned request still holds a decoding slot for its
//! whole generation (a timeout does not tell the server). A warm prompt cache cuts the time to
//! first token by up to ~80%; when traffic pauses for longer than the cache's lifetime, every
//! request pays the full prefill at once, exactly when the burst that follows the pause arrives.
//! A deployment scaled to zero pays a model load of tens of seconds before its first answer.
//!
//! The simulator's contract, per request (the [`LlmEndpoint`] facade does these steps in this
//! order; the pieces can also be used one by one):
//!
//! ```text
//!   request ──RateLimits::try_admit(now, size)──┬─> Err(RateLimited { retry_after, limit }): 429
//!     │ charges, all or nothing: RPM 1,         └─> Err(TooLarge { limit, .. }): 429, never fits
//!     │ TPM prompt + max_output, ITPM prompt, OTPM max_output
//!     ▼ Ok(())
//!   ModelLoader::on_request(now) ──> ready_at (now if loaded; a load's end if scaled to zero)
//!     ▼
//!   PromptCache::on_request(ready_at, prefix, u, prompt) ──> hit? cached prompt tokens
//!     ▼
//!   LatencyModel: TTFT = base + uncached x per_token + cached x per_cached_token
//!                 generation = (output - 1) x per_output_token, output = min(wanted, max_output)
//!     ▼
//!   wait until ready_at ─> queue ─> decoding slot for TTFT + generation ─> done
//!                                                                          │
//!   LlmEndpoint::on_finish(now, &served) <─────────────────────────────────┘
//!     (ModelLoader::on_finish; RateLimits::settle_output)
//!   ModelLoader::advance(now) at next_unload_at(): scaled to zero after idling
//! ```
//!
//! Example: 10,000 tokens per minute, requests of 3,000 prompt tokens with a 1,000-token budget.
//!
//! ```
//! use stormglass_core::components::llm::{
//!     retry_after_header, FinishReason, LlmEndpoint, LlmEndpointConfig, LlmRequest, RateLimit,
//!     RateLimitsConfig, Refusal,
//! };
//! use stormglass_core::time::{SimDuration, SimTime};
//!
//! let config = LlmEndpointConfig {
//!     limits: RateLimitsConfig { tokens_per_minute: Some(10_000), ..RateLimitsConfig::UNLIMITED },
//!     ..LlmEndpointConfig::default()
//! };
//! let mut endpoint = LlmEndpoint::new(config, SimTime::ZERO);
//! let request = LlmRequest {
//!     prompt_tokens: 3_000,
//!     max_output_tokens: 1_000,
//!     wanted_output_tokens: 1_500,
//!     prefix: 0,
//!     cache_draw: 0.5,
//! };
//! // Each request is charged 3,000 + 1,000 = 4,000 tokens: two fit in the full bucket.
//! let served = endpoint.on_arrival(SimTime::ZERO, &request).unwrap();
//! assert_eq!((served.output_tokens, served.finish_reason), (1_000, FinishReason::Length));
//! // TTFT 0.5 s + 3,000 x 110 us = 0.83 s; then 999 more tokens at 20 ms each.
//! assert_eq!(served.time_to_first_token, SimDuration::from_ms(830));
//! assert_eq!(served.generation_time, SimDuration::from_ms(19_980));
//! assert!(endpoint.on_arrival(SimTime::ZERO, &request).is_ok());
//! // The third must wait for 2,000 tokens at 10,000 a minute: exactly 12 s.
//! let refusal = endpoint.on_arrival(SimTime::ZERO, &request).unwrap_err();
//! let retry_after = SimDuration::from_secs(12);
//! assert_eq!(refusal, Refusal::RateLimited { retry_after, limit: RateLimit::TokensPerMinute });
//! assert_eq!(retry_after_header(SimDuration(12_000_000_001)), SimDuration::from_secs(13));
//! assert!(endpoint.on_arrival(SimTime(12_000_000_000), &request).is_ok());
//! ```
//!
//! One file per piece, each with the model it follows, the readings taken, its figures and its
//! sources:
//!
//! - `rate_limits.rs`: [`RateLimits`], per-minute request and token buckets, all-or-nothing
//!   admission, [`retry_after_header`].
//! - `latency.rs`: [`LatencyModel`], time to first token and generation from token counts.
//! - `prompt_cache.rs`: [`PromptCache`], one entry per prompt prefix, warm for `ttl` after its use.
//! - `model_loader.rs`: [`ModelLoader`], the cold load of a deployment scaled to zero.
//! - `price.rs`: [`PriceTable`], the exact cost of the tokens counted.
//! - `endpoint.rs`: [`LlmEndpoint`], the pieces in order for each request, and [`LlmCounters`].
//!
//! Sources:
//! - OpenAI, "Rate limits" guide, <https://platform.openai.com/docs/guides/rate-limits> (RPM
//!   and TPM, the max_tokens charge, 429 and the `x-ratelimit-*` headers), and "How can I
//!   solve 429: 'Too Many Requests' errors?",
//!   <https://help.openai.com/en/articles/5955604-how-can-i-solve-429-too-many-requests-errors>
//!   (limits enforced over shorter periods; failed requests count);
//! - Anthropic, "Rate limits", <https://docs.anthropic.com/en/api/rate-limits> (RPM, ITPM,
//!   OTPM; the token bucket; OTPM estimated from max_tokens and adjusted at the end; cache
//!   reads and ITPM; `retry-after` in seconds);
//! - Anthropic, "Prompt caching",
//!   <https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching> (5-minute lifetime
//!   refreshed on use; cache read and write prices), and the announcement "Prompt caching with
//!   Claude" (August 2024), <https://www.anthropic.com/news/prompt-caching> (100,000-token
//!   book: 11.5 s -> 2.4 s time to first token; up to 85% lower latency);
//! - RFC 9110 section 10.2.3, <https://www.rfc-editor.org/rfc/rfc9110#field.retry-after>
//!   (`Retry-After: delay-seconds`).

mod endpoint;
mod latency;
mod model_loader;
mod price;
mod prompt_cache;
mod rate_limits;
#[cfg(test)]
mod test_support;

pub use endpoint::{LlmCounters, LlmEndpoint, LlmEndpointConfig, LlmRequest, Served};
pub use latency::{FinishReason, LatencyModel, Output};
pub use model_loader::{LoaderCounters, ModelLoader, ModelLoaderConfig, ModelState};
pub use price::PriceTable;
pub use prompt_cache::{CacheCounters, CacheLookup, PromptCache, PromptCacheConfig, PROMPT_PREFIXES_MAX};
pub use rate_limits::{
    retry_after_header, RateLimit, RateLimitCounters, RateLimits, RateLimitsConfig, Refusal, RequestSize,
};

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
//! # The model, and the readings taken
//!
//! **Rate limits are token buckets refilled continuously** ([`RateLimits`]). Each configured
//! limit of `n` per minute is a bucket of capacity `n`, full at the start, refilled at `n` per
//! 60 s, never above `n` (Anthropic describes its limits as replenished continuously up to the
//! maximum rather than reset at fixed intervals; OpenAI likewise notes that a
//! per-minute limit may be enforced over shorter periods, "1 request per second for a 60 RPM
//! limit"). The buckets count exact integers ([`TokenBucket::per_period`]): 2,000 tokens at
//! 10,000 a minute take 12 s to the nanosecond, and any split of time into steps gives the
//! same state as one step. The charges at admission:
//! - requests per minute (RPM): 1;
//! - tokens per minute (TPM): `prompt_tokens + max_output_tokens`. OpenAI's guide says the
//!   charge is "calculated as the maximum of max_tokens and the estimated number of tokens based
//!   on the character count of your request"; answers on OpenAI's developer forum describe the
//!   input estimate as added to max_tokens. The sum is used: the conservative reading, and the
//!   one that explains 429s well below the tokens actually used;
//! - input tokens per minute (ITPM, Anthropic): `prompt_tokens`. (For most of its models Anthropic
//!   does not count cache reads against ITPM; not modelled: every prompt token counts.);
//! - output tokens per minute (OTPM, Anthropic): `max_output_tokens`. Anthropic estimates OTPM
//!   from max_tokens at the start and "adjusted at the end of the request to reflect the actual
//!   number of output tokens used": set [`RateLimitsConfig::output_settled_at_finish`] and the
//!   unused budget goes back to the OTPM bucket at [`LlmEndpoint::on_finish`].
//!
//! Admission is all-or-nothing: if any bucket lacks its charge, nothing is taken from any, and
//! the answer is [`Refusal::RateLimited`] with `retry_after`, the exact time until *every*
//! bucket holds its charge (the longest wait of the refusing buckets, rounded up to the next
//! whole nanosecond; never more than 60 s, since a bucket refills completely in a minute), and
//! the limit with that longest wait (ties: the first in [`RateLimit::ALL`] order). A refused
//! request takes nothing, unless [`RateLimitsConfig::refusals_count`] is set: OpenAI's guidance
//! says unsuccessful requests also count against the per-minute limit, and then a refusal
//! drains each bucket by its charge (never below empty) and its retry-after is recomputed from
//! the drained buckets. A request whose charge exceeds a bucket's
//! *capacity* could never be admitted; it gets [`Refusal::TooLarge`] instead of a retry-after
//! that would lie (OpenAI answers it with a 429 whose message says the request is too large for
//! the tokens-per-minute limit; whether a client retries it anyway is the client's policy).
//!
//! **Which retry-after the simulator should give clients:** [`retry_after_header`], the exact
//! wait rounded up to whole seconds (at least 1 s). That is what a client reads in an HTTP
//! `retry-after` header, which carries whole seconds (RFC 9110 `delay-seconds`; Anthropic sends
//! one with every 429). Rounding up guarantees that a client honouring it finds the buckets
//! refilled (unless others took the tokens meanwhile); a client waiting the exact value would
//! arrive at the first instant it fits. The exact value is there for tests and analysis.
//!
//! **Latency** ([`LatencyModel`]): time to first token (TTFT) = `prefill_base` + uncached
//! prompt tokens x `prefill_per_token` + cached prompt tokens x `prefill_per_cached_token`;
//! then each further output token takes `time_per_output_token`, so a response of `n >= 1`
//! tokens takes TTFT + (n - 1) x `time_per_output_token` in its decoding slot. A response of
//! zero output tokens (a zero budget, or a model that stops at once) is complete at TTFT: the
//! prompt is still read. TTFT here is the slot's own work; queueing before the slot, and
//! waiting for a model load, come on top. The output is `min(wanted, max_output_tokens)`; a
//! response cut by its budget finishes with [`FinishReason::Length`] (OpenAI `"length"`,
//! Anthropic `"max_tokens"`), one that fits (even exactly) with [`FinishReason::Stop`]. All in
//! integer nanoseconds, saturating: a billion-token prompt gives a long TTFT, not an overflow.
//! Not modelled: slower decoding when many requests share a batch, and the context window.
//!
//! **Prompt cache** ([`PromptCache`]): one cache entry per prompt prefix (`prefixes`, the
//! simulator draws which one a request uses). An entry is warm at `now` if it was last used in
//! `(now - ttl, now]`: used at `t`, it is warm until `t + ttl` and cold *at* `t + ttl` exactly.
//! A request on a warm entry hits if the simulator's uniform draw `u` in `[0, 1)` is below
//! `hit_ratio` (best-effort caches that route by prefix miss sometimes); then the cached share
//! of its prompt (`cached_prompt_ppm`, parts per million) is read from the cache. Every admitted
//! request, hit or miss, refreshes its entry (Anthropic: "the cache is refreshed for no
//! additional cost each time the cached content is used"; a miss writes the entry). A
//! deployment that scales to zero loses its cache: [`LlmEndpoint`] clears it when a load starts.
//! The facade looks up the cache at `ready_at` (when the model can first read the prompt), not
//! at the end of the queue. Not modelled: the minimum cacheable length (1,024 tokens on several
//! Anthropic models), the premium Anthropic charges for cache writes, the 1-hour TTL option
//! (configure `ttl`).
//!
//! **Cold load** ([`ModelLoader`]): a deployment is scaled to zero, loading, or loaded. A
//! request that finds it scaled to zero starts a load of `load_time`; it and every request that
//! arrives during the load are ready at the same instant, the load's end. The loader counts its
//! own in-flight requests (from [`ModelLoader::on_request`] to [`ModelLoader::on_finish`]):
//! when none is in flight the deployment is idle, and after `scale_to_zero_after` of idleness
//! it is scaled to zero *at* that instant (half-open, like the cache): a request arriving at
//! exactly the unload instant finds it scaled to zero and pays a new load. Every call first
//! applies what is due, so the result does not depend on the order in which the simulator runs
//! same-instant events; [`ModelLoader::next_unload_at`] tells when to call
//! [`ModelLoader::advance`] so charts show the unload when it happens. Rate-limited requests
//! never reach the loader: a 429 does not wake a model.
//!
//! **Cost** ([`PriceTable`]): input tokens not read from the cache at the input price, cached
//! input tokens at the cached-input price, output tokens at the output price, all per million
//! tokens, computed exactly in integers (micro-dollars per million tokens) and converted to
//! dollars once. Tokens are counted at admission: an admitted request runs to completion (a
//! client timeout does not tell the server), so its usage is known then; should the simulator
//! cancel a request (a cancellation policy), its tokens still count in full, an overestimate.
//! Refused requests cost nothing.
//!
//! **Rules of thumb, not measurements.** The default latencies ([`LatencyModel::RULE_OF_THUMB`]:
//! 0.5 s base, 110 us per prompt token, 19 us per cached prompt token, 20 ms per output token)
//! are fitted to Anthropic's published prompt-caching examples of August 2024 (100,000 cached
//! tokens: 11.5 s -> 2.4 s to the first token; a 10,000-token prompt: 1.6 s uncached) and to the ranges
//! in POLICIES.md (TTFT 0.2-0.8 s for short prompts, 10-50 ms per output token, unverified).
//! The cold-load figures of [`ModelLoaderConfig::SERVERLESS_RULE_OF_THUMB`] (a 60 s load,
//! scaled to zero after 15 minutes idle) are typical orders of magnitude, not any vendor's
//! numbers. [`PriceTable::EXAMPLE_MID_SIZE_2025`] ($3 / $0.30 / $15 per million input /
//! cached input / output tokens) is an example of a mid-size 2025 model's prices, not a claim
//! about any vendor's price list. The 5-minute cache lifetime is Anthropic's documented default.
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

use crate::policy::limiter::TokenBucket;
use crate::prelude::*;
use crate::time::{SimDuration, SimTime, NS_PER_S};

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

/// One of an endpoint's per-minute limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RateLimit {
    /// Requests per minute (RPM); each request costs 1.
    RequestsPerMinute,
    /// Tokens per minute (TPM, OpenAI); a request costs its prompt plus its output budget.
    TokensPerMinute,
    /// Input tokens per minute (ITPM, Anthropic); a request costs its prompt.
    InputTokensPerMinute,
    /// Output tokens per minute (OTPM, Anthropic); a request costs its output budget.
    OutputTokensPerMinute,
}

impl RateLimit {
    /// Every limit, in the order ties are broken and refusals are reported.
    pub const ALL: [RateLimit; 4] = [
        RateLimit::RequestsPerMinute,
        RateLimit::TokensPerMinute,
        RateLimit::InputTokensPerMinute,
        RateLimit::OutputTokensPerMinute,
    ];

    /// What a request of `size` is charged against this limit at admission.
    pub fn charge(self, size: RequestSize) -> u64 {
        match self {
            RateLimit::RequestsPerMinute => 1,
            RateLimit::TokensPerMinute => size.prompt_tokens.saturating_add(size.max_output_tokens),
            RateLimit::InputTokensPerMinute => size.prompt_tokens,
            RateLimit::OutputTokensPerMinute => size.max_output_tokens,
        }
    }

    /// A short name for messages and charts ("tokens per minute").
    pub fn name(self) -> &'static str {
        match self {
            RateLimit::RequestsPerMinute => "requests per minute",
            RateLimit::TokensPerMinute => "tokens per minute",
            RateLimit::InputTokensPerMinute => "input tokens per minute",
            RateLimit::OutputTokensPerMinute => "output tokens per minute",
        }
    }

    fn index(self) -> usize {
        match self {
            RateLimit::RequestsPerMinute => 0,
            RateLimit::TokensPerMinute => 1,
            RateLimit::InputTokensPerMinute => 2,
            RateLimit::OutputTokensPerMinute => 3,
        }
    }
}

/// An endpoint's rate limits, each a per-minute amount or `None` for no such limit. `Some(0)`
/// refuses everything that limit charges for (as [`Refusal::TooLarge`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitsConfig {
    /// Requests per minute (RPM).
    pub requests_per_minute: Option<u64>,
    /// Tokens per minute (TPM): prompt plus output budget, OpenAI's combined limit.
    pub tokens_per_minute: Option<u64>,
    /// Input tokens per minute (ITPM, Anthropic).
    pub input_tokens_per_minute: Option<u64>,
    /// Output tokens per minute (OTPM, Anthropic).
    pub output_tokens_per_minute: Option<u64>,
    /// When a request finishes, the unused part of its output budget goes back to the OTPM
    /// bucket, as Anthropic adjusts its OTPM estimate "at the end of the request to reflect the
    /// actual number of output tokens used". Off: the budget stays charged (the TPM bucket is
    /// never settled either way).
    pub output_settled_at_finish: bool,
    /// A refused request still counts against the limits (OpenAI's guidance on rate limits
    /// says unsuccessful requests count toward the per-minute limit, so resending at once does
    /// not work): each bucket is charged what it holds of the request's charge.
    pub refusals_count: bool,
}

impl RateLimitsConfig {
    /// No limits at all.
    pub const UNLIMITED: RateLimitsConfig = RateLimitsConfig {
        requests_per_minute: None,
        tokens_per_minute: None,
        input_tokens_per_minute: None,
        output_tokens_per_minute: None,
        output_settled_at_finish: false,
        refusals_count: false,
    };

    /// The per-minute amount of `limit`, if configured.
    pub fn per_minute(&self, limit: RateLimit) -> Option<u64> {
        match limit {
            RateLimit::RequestsPerMinute => self.requests_per_minute,
            RateLimit::TokensPerMinute => self.tokens_per_minute,
            RateLimit::InputTokensPerMinute => self.input_tokens_per_minute,
            RateLimit::OutputTokensPerMinute => self.output_tokens_per_minute,
        }
    }
}

/// What a request asks of the rate limits: its prompt, and the most output it may produce
/// (`max_tokens` / `max_output_tokens` in the APIs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RequestSize {
    /// Tokens in the prompt, cached or not.
    pub prompt_tokens: u64,
    /// The output budget: the most output tokens the response may have.
    pub max_output_tokens: u64,
}

/// Why a request was refused (HTTP 429 in both cases). Nothing was taken from any bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A bucket lacks the request's charge now. Clients should be shown
    /// [`retry_after_header`]`(retry_after)`.
    RateLimited {
        /// After this wait (exact, rounded up to the nanosecond) every bucket holds the
        /// request's charge, if nothing else is taken meanwhile.
        retry_after: SimDuration,
        /// The limit that needs the longest wait.
        limit: RateLimit,
    },
    /// The request's charge is more than a bucket holds when full: it can never be admitted,
    /// however long the client waits.
    TooLarge {
        /// The first limit, in [`RateLimit::ALL`] order, whose bucket is too small.
        limit: RateLimit,
        /// What the request would be charged against it.
        needed_tokens: u64,
        /// What its bucket holds when full.
        capacity_tokens: u64,
    },
}

impl Refusal {
    /// The limit that refused.
    pub fn limit(&self) -> RateLimit {
        match *self {
            Refusal::RateLimited { limit, .. } | Refusal::TooLarge { limit, .. } => limit,
        }
    }

    /// The `retry-after` a client reads: [`retry_after_header`] of the exact wait; `None` for a
    /// request too large to ever fit.
    pub fn retry_after_header(&self) -> Option<SimDuration> {
        match *self {
            Refusal::RateLimited { retry_after, .. } => Some(retry_after_header(retry_after)),
            Refusal::TooLarge { .. } => None,
        }
    }
}

/// The `retry-after` header value for an exact wait: whole seconds, rounded up, at least 1 s
/// (HTTP's `Retry-After` carries whole seconds). This is the value the simulator should give a
/// client that honours retry-after; see the module doc.
pub fn retry_after_header(exact: SimDuration) -> SimDuration {
    let seconds = exact.as_ns().div_ceil(NS_PER_S).max(1);
    SimDuration(seconds.saturating_mul(NS_PER_S))
}

/// What an endpoint's rate limits have decided since they were created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitCounters {
    /// Requests admitted (every bucket charged).
    pub admitted: u64,
    /// Requests rate-limited with requests per minute reported (the limit with the longest
    /// wait; each refusal counts once, under that limit).
    pub rate_limited_requests_per_minute: u64,
    /// Requests rate-limited with tokens per minute reported.
    pub rate_limited_tokens_per_minute: u64,
    /// Requests rate-limited with input tokens per minute reported.
    pub rate_limited_input_tokens_per_minute: u64,
    /// Requests rate-limited with output tokens per minute reported.
    pub rate_limited_output_tokens_per_minute: u64,
    /// Requests refused as too large to ever fit, whatever the limit.
    pub too_large: u64,
    /// Tokens taken from the tokens-per-minute bucket: each admitted request's prompt plus
    /// output budget and, when refusals count, what each refusal drained (whole tokens). What
    /// the limit counts, as against the tokens requests really use. Zero without that limit.
    pub tokens_per_minute_charged: u64,
}

impl RateLimitCounters {
    /// Requests rate-limited by `limit`.
    pub fn rate_limited_by(&self, limit: RateLimit) -> u64 {
        match limit {
            RateLimit::RequestsPerMinute => self.rate_limited_requests_per_minute,
            RateLimit::TokensPerMinute => self.rate_limited_tokens_per_minute,
            RateLimit::InputTokensPerMinute => self.rate_limited_input_tokens_per_minute,
            RateLimit::OutputTokensPerMinute => self.rate_limited_output_tokens_per_minute,
        }
    }

    /// All rate-limited requests (too-large refusals not included).
    pub fn rate_limited(&self) -> u64 {
        RateLimit::ALL.iter().fold(0u64, |sum, &limit| sum.saturating_add(self.rate_limited_by(limit)))
    }
}

/// An endpoint's per-minute rate limits, admitting requests all-or-nothing. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// One bucket per [`RateLimit`], in [`RateLimit::ALL`] order; `None` where not configured.
    buckets: [Option<TokenBucket>; 4],
    output_settled_at_finish: bool,
    refusals_count: bool,
    counters: RateLimitCounters,
}

impl RateLimits {
    /// Full buckets for every configured limit (full from time zero, so full at any start).
    pub fn new(config: RateLimitsConfig) -> Self {
        let bucket = |limit: RateLimit| {
            config.per_minute(limit).map(|amount| TokenBucket::per_period(amount, amount, SimDuration::from_secs(60)))
        };
        RateLimits {
            buckets: RateLimit::ALL.map(bucket),
            output_settled_at_finish: config.output_settled_at_finish,
            refusals_count: config.refusals_count,
            counters: RateLimitCounters::default(),
        }
    }

    /// Admits a request of `size` at `now`, charging every configured bucket, or refuses it
    /// and charges none. A request too large for some bucket is [`Refusal::TooLarge`] (the
    /// first such limit in [`RateLimit::ALL`] order), whatever the other buckets hold.
    pub fn try_admit(&mut self, now: SimTime, size: RequestSize) -> Result<(), Refusal> {
        let mut longest: Option<(SimDuration, RateLimit)> = None;
        for limit in RateLimit::ALL {
            let Some(bucket) = &self.buckets[limit.index()] else { continue };
            let charge = limit.charge(size);
            match bucket.wait_for_tokens(now, charge) {
                None => {
                    self.counters.too_large = self.counters.too_large.saturating_add(1);
                    let capacity_tokens = bucket.capacity_tokens();
                    return Err(Refusal::TooLarge { limit, needed_tokens: charge, capacity_tokens });
                }
                Some(wait) if wait > SimDuration::ZERO => {
                    // Strictly longer only: ties keep the earlier limit.
                    if longest.is_none_or(|(longest_wait, _)| wait > longest_wait) {
                        longest = Some((wait, limit));
                    }
                }
                Some(_) => {}
            }
        }
        if let Some((retry_after, limit)) = longest {
            let counter = match limit {
                RateLimit::RequestsPerMinute => &mut self.counters.rate_limited_requests_per_minute,
                RateLimit::TokensPerMinute => &mut self.counters.rate_limited_tokens_per_minute,
                RateLimit::InputTokensPerMinute => &mut self.counters.rate_limited_input_tokens_per_minute,
                RateLimit::OutputTokensPerMinute => &mut self.counters.rate_limited_output_tokens_per_minute,
            };
            *counter = counter.saturating_add(1);
            if !self.refusals_count {
                return Err(Refusal::RateLimited { retry_after, limit });
            }
            // The refusal takes what the buckets hold of its charge; the hint then says when
            // they will hold the whole charge again.
            let mut retry_after = retry_after;
            for limit in RateLimit::ALL {
                if let Some(bucket) = &mut self.buckets[limit.index()] {
                    let drained = bucket.drain_tokens(now, limit.charge(size));
                    if limit == RateLimit::TokensPerMinute {
                        self.counters.tokens_per_minute_charged =
                            self.counters.tokens_per_minute_charged.saturating_add(drained);
                    }
                    if let Some(wait) = bucket.wait_for_tokens(now, limit.charge(size)) {
                        retry_after = retry_after.max(wait);
                    }
                }
            }
            return Err(Refusal::RateLimited { retry_after, limit });
        }
        for limit in RateLimit::ALL {
            if let Some(bucket) = &mut self.buckets[limit.index()] {
                let taken = bucket.try_take_tokens(now, limit.charge(size));
                // Every wait above was zero at this same `now`, so every take succeeds.
                debug_assert!(taken, "{} bucket refused a charge it had", limit.name());
                if limit == RateLimit::TokensPerMinute {
                    self.counters.tokens_per_minute_charged =
                        self.counters.tokens_per_minute_charged.saturating_add(limit.charge(size));
                }
            }
        }
        self.counters.admitted = self.counters.admitted.saturating_add(1);
        Ok(())
    }

    /// A request admitted with an output budget of `max_output_tokens` finished at `now`
    /// having produced `output_tokens`: with `output_settled_at_finish`, the unused budget goes
    /// back to the OTPM bucket (never above its capacity). Otherwise nothing changes.
    pub fn settle_output(&mut self, now: SimTime, max_output_tokens: u64, output_tokens: u64) {
        if !self.output_settled_at_finish {
            return;
        }
        if let Some(bucket) = &mut self.buckets[RateLimit::OutputTokensPerMinute.index()] {
            bucket.put_tokens(now, max_output_tokens.saturating_sub(output_tokens));
        }
    }

    /// The tokens `limit`'s bucket holds at `now` (fractional; for charts and the
    /// `x-ratelimit-remaining-*` headers); `None` if that limit is not configured.
    pub fn remaining(&self, now: SimTime, limit: RateLimit) -> Option<f64> {
        self.buckets[limit.index()].as_ref().map(|bucket| bucket.tokens(now))
    }

    /// Admissions and refusals so far.
    pub fn counters(&self) -> RateLimitCounters {
        self.counters
    }
}

// ---------------------------------------------------------------------------------------------
// Latency
// ---------------------------------------------------------------------------------------------

/// How long a response takes in its decoding slot, from its token counts. See the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatencyModel {
    /// The part of the time to first token that does not grow with the prompt.
    pub prefill_base: SimDuration,
    /// Prefill time per prompt token not read from the cache.
    pub prefill_per_token: SimDuration,
    /// Prefill time per prompt token read from the cache (a fraction of `prefill_per_token`).
    pub prefill_per_cached_token: SimDuration,
    /// Time per output token after the first (inter-token latency).
    pub time_per_output_token: SimDuration,
}

impl LatencyModel {
    /// Rules of thumb (see the module doc): 0.5 s base, 110 us per prompt token, 19 us per
    /// cached prompt token (about 17% of an uncached one), 20 ms per output token. A 100,000-token
    /// prompt takes 11.5 s to its first token, 2.4 s when all of it is cached; a 10,000-token
    /// prompt 1.6 s; a short prompt of 1,000 tokens 0.61 s.
    pub const RULE_OF_THUMB: LatencyModel = LatencyModel {
        prefill_base: SimDuration::from_ms(500),
        prefill_per_token: SimDuration(110_000),
        prefill_per_cached_token: SimDuration(19_000),
        time_per_output_token: SimDuration::from_ms(20),
    };

    /// Time to first token for a prompt of `prompt_tokens`, `cached_prompt_tokens` of them read
    /// from the cache (at most all of them), saturating.
    pub fn time_to_first_token(&self, prompt_tokens: u64, cached_prompt_tokens: u64) -> SimDuration {
        let cached = cached_prompt_tokens.min(prompt_tokens);
        let uncached = prompt_tokens - cached;
        let uncached_ns = uncached.saturating_mul(self.prefill_per_token.as_ns());
        let cached_ns = cached.saturating_mul(self.prefill_per_cached_token.as_ns());
        self.prefill_base + SimDuration(uncached_ns) + SimDuration(cached_ns)
    }

    /// Time from the first output token to the last: `(output_tokens - 1)` further tokens;
    /// zero for zero or one output token. Saturating.
    pub fn generation_time(&self, output_tokens: u64) -> SimDuration {
        SimDuration(output_tokens.saturating_sub(1).saturating_mul(self.time_per_output_token.as_ns()))
    }
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel::RULE_OF_THUMB
    }
}

/// Why a response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FinishReason {
    /// The model finished its answer within the budget (OpenAI `"stop"`, Anthropic `"end_turn"`).
    Stop,
    /// The output budget cut the answer short (OpenAI `"length"`, Anthropic `"max_tokens"`).
    Length,
}

/// The output a request gets: what the model wanted to say, capped by the request's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Output {
    /// Output tokens produced.
    pub tokens: u64,
    /// Whether the budget cut the answer.
    pub finish_reason: FinishReason,
}

impl Output {
    /// `min(wanted_output_tokens, max_output_tokens)`; [`FinishReason::Length`] only if the
    /// budget cut something (an answer exactly as long as the budget fits).
    pub fn capped(wanted_output_tokens: u64, max_output_tokens: u64) -> Output {
        if wanted_output_tokens > max_output_tokens {
            Output { tokens: max_output_tokens, finish_reason: FinishReason::Length }
        } else {
            Output { tokens: wanted_output_tokens, finish_reason: FinishReason::Stop }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Prompt cache
// ---------------------------------------------------------------------------------------------

/// Most prompt prefixes a cache keeps apart (each has one entry; memory is one word each).
pub const PROMPT_PREFIXES_MAX: u32 = 4_096;

/// How an endpoint's prompt cache behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PromptCacheConfig {
    /// An entry last used at `t` is warm until `t + ttl` (cold at `t + ttl` exactly). Anthropic's
    /// default is 5 minutes (a 1-hour option exists).
    pub ttl: SimDuration,
    /// Chance that a request on a warm entry hits: a hit when the simulator's uniform draw
    /// `u` in `[0, 1)` is below it. 1 for a cache that always hits when warm; below 1 for a
    /// best-effort cache. NaN never hits.
    pub hit_ratio: f64,
    /// On a hit, the share of the prompt read from the cache (the shared prefix), in parts per
    /// million, rounded down to whole tokens. Values above 1,000,000 count as 1,000,000.
    pub cached_prompt_ppm: u32,
    /// Distinct prompt prefixes, each with its own entry; the simulator draws which one a
    /// request uses, from 0. 0 counts as 1; more than [`PROMPT_PREFIXES_MAX`] as that.
    pub prefixes: u32,
}

impl PromptCacheConfig {
    /// Anthropic's default lifetime (5 minutes), a cache that always hits when warm, the whole
    /// prompt cached (as in the published 100,000-token example), one prefix.
    pub const ANTHROPIC_DEFAULT: PromptCacheConfig = PromptCacheConfig {
        ttl: SimDuration::from_secs(300),
        hit_ratio: 1.0,
        cached_prompt_ppm: 1_000_000,
        prefixes: 1,
    };

    /// Prompt tokens read from the cache on a hit: `prompt_tokens x cached_prompt_ppm / 10^6`,
    /// rounded down.
    pub fn cached_tokens(&self, prompt_tokens: u64) -> u64 {
        let ppm = u128::from(self.cached_prompt_ppm.min(1_000_000));
        // At most prompt_tokens, so it fits back in u64.
        (u128::from(prompt_tokens) * ppm / 1_000_000) as u64
    }
}

impl Default for PromptCacheConfig {
    fn default() -> Self {
        PromptCacheConfig::ANTHROPIC_DEFAULT
    }
}

/// What a request found in the prompt cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CacheLookup {
    /// The entry was warm and the draw fell below the hit ratio.
    pub hit: bool,
    /// Prompt tokens read from the cache (0 on a miss).
    pub cached_prompt_tokens: u64,
}

/// Hits and misses of a prompt cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Requests that read part of their prompt from the cache.
    pub hits: u64,
    /// Requests that did not (each wrote or refreshed its entry).
    pub misses: u64,
}

/// An endpoint's prompt cache: one entry per prefix, warm for `ttl` after its last use.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptCache {
    config: PromptCacheConfig,
    /// When each prefix's entry was last used; `None` if never (or since a clear).
    last_used_at: Vec<Option<SimTime>>,
    counters: CacheCounters,
}

impl PromptCache {
    /// A cold cache.
    pub fn new(config: PromptCacheConfig) -> Self {
        let prefixes = config.prefixes.clamp(1, PROMPT_PREFIXES_MAX);
        let config = PromptCacheConfig { prefixes, ..config };
        PromptCache { config, last_used_at: vec![None; prefixes as usize], counters: CacheCounters::default() }
    }

    /// Is `prefix`'s entry warm at `now` (used within `(now - ttl, now]`)? A prefix beyond the
    /// configured count is read as the last one.
    pub fn is_warm(&self, now: SimTime, prefix: u32) -> bool {
        matches!(self.last_used_at[self.index(prefix)], Some(used_at) if now < used_at + self.config.ttl)
    }

    /// A request of `prompt_tokens` on `prefix` at `now`, with the simulator's uniform draw
    /// `draw` in `[0, 1)`: a hit if the entry is warm and `draw < hit_ratio`. Hit or miss, the
    /// entry is refreshed (used at `now`).
    pub fn on_request(&mut self, now: SimTime, prefix: u32, draw: f64, prompt_tokens: u64) -> CacheLookup {
        let hit = self.is_warm(now, prefix) && draw < self.config.hit_ratio;
        let index = self.index(prefix);
        // Never moves a use back in time, should calls come out of order.
        self.last_used_at[index] = Some(self.last_used_at[index].map_or(now, |used_at| used_at.max(now)));
        if hit {
            self.counters.hits = self.counters.hits.saturating_add(1);
            CacheLookup { hit, cached_prompt_tokens: self.config.cached_tokens(prompt_tokens) }
        } else {
            self.counters.misses = self.counters.misses.saturating_add(1);
            CacheLookup::default()
        }
    }

    /// Forgets every entry (the deployment lost its memory, as when it scales to zero).
    pub fn clear(&mut self) {
        self.last_used_at.iter_mut().for_each(|used_at| *used_at = None);
    }

    /// Hits and misses so far.
    pub fn counters(&self) -> CacheCounters {
        self.counters
    }

    /// The configuration in force (`prefixes` clamped).
    pub fn config(&self) -> &PromptCacheConfig {
        &self.config
    }

    fn index(&self, prefix: u32) -> usize {
        prefix.min(self.config.prefixes - 1) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Cold load
// ---------------------------------------------------------------------------------------------

/// How a deployment loads and unloads its model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelLoaderConfig {
    /// Time from a request finding the deployment scaled to zero until it can serve.
    pub load_time: SimDuration,
    /// Idle time (no request in flight) after which the deployment scales to zero; `None`:
    /// never (an always-on deployment, or a hosted API).
    pub scale_to_zero_after: Option<SimDuration>,
    /// Whether the deployment is loaded at the start (and idle from then) or scaled to zero.
    pub starts_loaded: bool,
}

impl ModelLoaderConfig {
    /// Loaded from the start and never unloaded: a hosted API or an always-on deployment.
    pub const ALWAYS_LOADED: ModelLoaderConfig =
        ModelLoaderConfig { load_time: SimDuration::ZERO, scale_to_zero_after: None, starts_loaded: true };

    /// A rule of thumb for a serverless deployment (orders of magnitude, not a vendor's
    /// numbers): starts scaled to zero, loads in 60 s, scales to zero after 15 minutes idle.
    pub const SERVERLESS_RULE_OF_THUMB: ModelLoaderConfig = ModelLoaderConfig {
        load_time: SimDuration::from_secs(60),
        scale_to_zero_after: Some(SimDuration::from_secs(15 * 60)),
        starts_loaded: false,
    };
}

impl Default for ModelLoaderConfig {
    fn default() -> Self {
        ModelLoaderConfig::ALWAYS_LOADED
    }
}

/// Where a deployment is in its load cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelState {
    /// No model in memory: the next request starts a load.
    ScaledToZero,
    /// A load is under way.
    Loading {
        /// When the load ends and the deployment can serve.
        ready_at: SimTime,
    },
    /// Serving.
    Loaded,
}

/// What a model loader has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoaderCounters {
    /// Loads started (cold starts of the deployment).
    pub loads: u64,
    /// Times the deployment scaled to zero after idling.
    pub unloads: u64,
    /// Requests that had to wait for a load (the one that started it included).
    pub requests_waited_for_load: u64,
}

/// A deployment's model: loads on demand, scales to zero when idle. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelLoader {
    config: ModelLoaderConfig,
    state: ModelState,
    /// Requests between `on_request` and `on_finish`.
    in_flight: u64,
    /// Since when a loaded deployment has had nothing in flight; `None` while busy or not loaded.
    idle_since: Option<SimTime>,
    /// The latest time seen: time never runs backwards here.
    latest: SimTime,
    counters: LoaderCounters,
}

impl ModelLoader {
    /// A deployment at `now`, loaded and idle from `now` or scaled to zero, as configured.
    pub fn new(config: ModelLoaderConfig, now: SimTime) -> Self {
        let (state, idle_since) =
            if config.starts_loaded { (ModelState::Loaded, Some(now)) } else { (ModelState::ScaledToZero, None) };
        let mut loader =
            ModelLoader { config, state, in_flight: 0, idle_since, latest: now, counters: LoaderCounters::default() };
        // A zero idle timeout scales a loaded start down at once.
        loader.advance(now);
        loader
    }

    /// A request reaches the deployment at `now`: returns when it can be served. `now` if the
    /// model is loaded; the end of the load under way if loading; if scaled to zero, starts a
    /// load and returns its end (`now` too for a zero `load_time`). The request is in flight
    /// until [`Self::on_finish`], which the simulator must call exactly once for it, whatever
    /// its outcome.
    pub fn on_request(&mut self, now: SimTime) -> SimTime {
        self.advance(now);
        let now = self.latest;
        self.in_flight = self.in_flight.saturating_add(1);
        self.idle_since = None;
        match self.state {
            ModelState::Loaded => now,
            ModelState::Loading { ready_at } => {
                self.counters.requests_waited_for_load = self.counters.requests_waited_for_load.saturating_add(1);
                ready_at
            }
            ModelState::ScaledToZero => {
                self.counters.loads = self.counters.loads.saturating_add(1);
                let ready_at = now + self.config.load_time;
                if ready_at > now {
                    self.counters.requests_waited_for_load = self.counters.requests_waited_for_load.saturating_add(1);
                    self.state = ModelState::Loading { ready_at };
                } else {
                    self.state = ModelState::Loaded;
                }
                ready_at
            }
        }
    }

    /// A request that [`Self::on_request`] let in is done at `now` (answered, failed, or dropped
    /// while waiting). When none is left in flight the deployment is idle from `now` (from the
    /// load's end if it is still loading).
    pub fn on_finish(&mut self, now: SimTime) {
        self.advance(now);
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0 && self.state == ModelState::Loaded {
            self.idle_since = Some(self.latest);
            // A zero idle timeout unloads at once.
            self.advance(self.latest);
        }
    }

    /// Applies what is due at or before `now`: a load that has ended, then an unload after
    /// `scale_to_zero_after` of idleness (at that instant exactly). Every other call does this
    /// first; call it at [`Self::next_unload_at`] to see the unload when it happens.
    pub fn advance(&mut self, now: SimTime) {
        self.latest = self.latest.max(now);
        let now = self.latest;
        if let ModelState::Loading { ready_at } = self.state {
            if now >= ready_at {
                self.state = ModelState::Loaded;
                self.idle_since = if self.in_flight == 0 { Some(ready_at) } else { None };
            }
        }
        if let (ModelState::Loaded, Some(unload_at)) = (self.state, self.next_unload_at()) {
            if now >= unload_at {
                self.state = ModelState::ScaledToZero;
                self.idle_since = None;
                self.counters.unloads = self.counters.unloads.saturating_add(1);
            }
        }
    }

    /// When the deployment will scale to zero if no request comes: set while it is idle (or
    /// loading with nothing left in flight) and configured to scale to zero.
    pub fn next_unload_at(&self) -> Option<SimTime> {
        let after = self.config.scale_to_zero_after?;
        let idle_since = match self.state {
            ModelState::Loaded => self.idle_since?,
            ModelState::Loading { ready_at } if self.in_flight == 0 => ready_at,
            _ => return None,
        };
        Some(idle_since + after)
    }

    /// The state as of the latest call.
    pub fn state(&self) -> ModelState {
        self.state
    }

    /// Requests in flight (let in by [`Self::on_request`], not yet finished).
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Loads, unloads and requests that waited for a load, so far.
    pub fn counters(&self) -> LoaderCounters {
        self.counters
    }
}

// ---------------------------------------------------------------------------------------------
// Counters and cost
// ---------------------------------------------------------------------------------------------

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

/// Prices per million tokens, in integer micro-dollars so that a cost is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PriceTable {
    /// Input tokens not read from the cache.
    pub input_micro_usd_per_million_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cached_input_micro_usd_per_million_tokens: u64,
    /// Output tokens.
    pub output_micro_usd_per_million_tokens: u64,
}

impl PriceTable {
    /// An example of a mid-size 2025 model's prices (not a claim about any vendor's list):
    /// $3 per million input tokens, $0.30 per million cached input tokens, $15 per million
    /// output tokens.
    pub const EXAMPLE_MID_SIZE_2025: PriceTable = PriceTable {
        input_micro_usd_per_million_tokens: 3_000_000,
        cached_input_micro_usd_per_million_tokens: 300_000,
        output_micro_usd_per_million_tokens: 15_000_000,
    };

    /// Prices given in dollars per million tokens, rounded to the micro-dollar. Negative or NaN
    /// counts as zero; huge values saturate.
    pub fn from_usd_per_million(input: f64, cached_input: f64, output: f64) -> Self {
        PriceTable {
            input_micro_usd_per_million_tokens: usd_to_micro_usd(input),
            cached_input_micro_usd_per_million_tokens: usd_to_micro_usd(cached_input),
            output_micro_usd_per_million_tokens: usd_to_micro_usd(output),
        }
    }

    /// The exact cost of `counters`' tokens in pico-dollars (10^-12 USD: micro-dollars per
    /// million tokens times tokens). Saturating.
    pub fn cost_pico_usd(&self, counters: &LlmCounters) -> u128 {
        let cached = counters.cached_input_tokens.min(counters.input_tokens);
        let uncached = counters.input_tokens - cached;
        // u64 x u64 always fits in u128; only the sum can saturate.
        let input = u128::from(uncached) * u128::from(self.input_micro_usd_per_million_tokens);
        let cached_input = u128::from(cached) * u128::from(self.cached_input_micro_usd_per_million_tokens);
        let output = u128::from(counters.output_tokens) * u128::from(self.output_micro_usd_per_million_tokens);
        input.saturating_add(cached_input).saturating_add(output)
    }

    /// The cost of `counters`' tokens in dollars: [`Self::cost_pico_usd`] converted once (the
    /// same bits on every target).
    pub fn cost_usd(&self, counters: &LlmCounters) -> f64 {
        self.cost_pico_usd(counters) as f64 / 1e12
    }
}

fn usd_to_micro_usd(usd: f64) -> u64 {
    if usd.is_nan() || usd <= 0.0 {
        return 0;
    }
    // `as` saturates identically on every target.
    (usd * 1e6 + 0.5) as u64
}

// ---------------------------------------------------------------------------------------------
// The endpoint
// ---------------------------------------------------------------------------------------------

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

/// An LLM endpoint's admission, latency and state: the pieces above, called in the right order
/// for each request. See the module doc for the contract.
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
    use crate::time::NS_PER_MS;

    fn at_ms(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }

    fn at_secs(seconds: u64) -> SimTime {
        SimTime(seconds * NS_PER_S)
    }

    fn size(prompt_tokens: u64, max_output_tokens: u64) -> RequestSize {
        RequestSize { prompt_tokens, max_output_tokens }
    }

    fn limited(retry_after_ns: u64, limit: RateLimit) -> Result<(), Refusal> {
        Err(Refusal::RateLimited { retry_after: SimDuration(retry_after_ns), limit })
    }

    /// Runs requests `(at ms, prompt, max output, expected answer)` through fresh limits.
    fn check(config: RateLimitsConfig, steps: &[(u64, u64, u64, Result<(), Refusal>)]) -> RateLimits {
        let mut limits = RateLimits::new(config);
        for (index, &(ms, prompt, max_output, expected)) in steps.iter().enumerate() {
            assert_eq!(limits.try_admit(at_ms(ms), size(prompt, max_output)), expected, "step {index} at {ms} ms");
        }
        limits
    }

    const TPM_10K: RateLimitsConfig =
        RateLimitsConfig { tokens_per_minute: Some(10_000), ..RateLimitsConfig::UNLIMITED };

    /// TPM 10,000: two requests charged 4,000 at t = 0 leave 2,000; a third must wait for
    /// 2,000 more at 10,000 a minute, exactly 12 s; one nanosecond short of that it still waits
    /// one nanosecond (a header of 1 s); at 12 s it fits.
    #[test]
    fn worked_example_tokens_per_minute() {
        let mut limits = check(
            TPM_10K,
            &[
                (0, 3_000, 1_000, Ok(())),
                (0, 3_000, 1_000, Ok(())),
                (0, 3_000, 1_000, limited(12 * NS_PER_S, RateLimit::TokensPerMinute)),
                (6_000, 3_000, 1_000, limited(6 * NS_PER_S, RateLimit::TokensPerMinute)),
            ],
        );
        assert_eq!(limits.remaining(SimTime::ZERO, RateLimit::TokensPerMinute), Some(2_000.0));
        assert_eq!(limits.remaining(SimTime::ZERO, RateLimit::RequestsPerMinute), None);
        let almost = SimTime(12 * NS_PER_S - 1);
        let refusal = limits.try_admit(almost, size(3_000, 1_000)).unwrap_err();
        assert_eq!(refusal, Refusal::RateLimited { retry_after: SimDuration(1), limit: RateLimit::TokensPerMinute });
        assert_eq!(refusal.retry_after_header(), Some(SimDuration::from_secs(1)));
        assert_eq!(limits.try_admit(at_secs(12), size(3_000, 1_000)), Ok(()));
        let counters = limits.counters();
        assert_eq!((counters.admitted, counters.rate_limited_tokens_per_minute, counters.rate_limited()), (3, 3, 3));
        assert_eq!(counters.too_large, 0);
        // Three admissions of 4,000 each; the refusals took nothing.
        assert_eq!(counters.tokens_per_minute_charged, 12_000);
    }

    /// The tokens-per-minute charge counts what the bucket gave: each admission's prompt plus
    /// budget, and, when refusals count, what a refusal drained (never more than was there).
    #[test]
    fn the_tokens_per_minute_charge_counts_admissions_and_counted_refusals() {
        let counted = RateLimitsConfig { refusals_count: true, ..TPM_10K };
        let limits = check(
            counted,
            &[
                (0, 3_000, 1_000, Ok(())),
                (0, 3_000, 1_000, Ok(())),
                // 2,000 left: the refusal takes them all, not its 4,000, and 4,000 take 24 s.
                (0, 3_000, 1_000, limited(24 * NS_PER_S, RateLimit::TokensPerMinute)),
                // 6 s later 1,000 have come back; the next refusal takes those.
                (6_000, 3_000, 1_000, limited(24 * NS_PER_S, RateLimit::TokensPerMinute)),
            ],
        );
        assert_eq!(limits.counters().tokens_per_minute_charged, 8_000 + 2_000 + 1_000);
        // Without a tokens-per-minute limit nothing is charged to it.
        let rpm = RateLimitsConfig { requests_per_minute: Some(10), ..RateLimitsConfig::UNLIMITED };
        assert_eq!(check(rpm, &[(0, 3_000, 1_000, Ok(()))]).counters().tokens_per_minute_charged, 0);
    }

    #[test]
    fn retry_after_header_rounds_up_to_whole_seconds_at_least_one() {
        for (exact_ns, header_s) in [
            (0, 1),
            (1, 1),
            (999_999_999, 1),
            (NS_PER_S, 1),
            (NS_PER_S + 1, 2),
            (12 * NS_PER_S, 12),
            (12 * NS_PER_S + 1, 13),
            (60 * NS_PER_S, 60),
        ] {
            assert_eq!(retry_after_header(SimDuration(exact_ns)), SimDuration::from_secs(header_s), "{exact_ns} ns");
        }
        // Saturates rather than overflowing, and never rounds below the exact wait.
        assert_eq!(retry_after_header(SimDuration(u64::MAX)), SimDuration(u64::MAX));
        let too_large = Refusal::TooLarge { limit: RateLimit::TokensPerMinute, needed_tokens: 2, capacity_tokens: 1 };
        assert_eq!(too_large.retry_after_header(), None);
        assert_eq!(too_large.limit(), RateLimit::TokensPerMinute);
    }

    /// A refusal by one bucket takes nothing from the others; the reported wait is the longest,
    /// so after it every bucket has enough; ties go to the earlier limit.
    #[test]
    fn admission_is_all_or_nothing_and_waits_for_every_bucket() {
        let config = RateLimitsConfig {
            requests_per_minute: Some(60),
            tokens_per_minute: Some(12_000),
            input_tokens_per_minute: Some(6_000),
            output_tokens_per_minute: Some(3_000),
            output_settled_at_finish: false,
            refusals_count: false,
        };
        let mut limits = check(
            config,
            &[
                (0, 5_000, 2_500, Ok(())), // RPM 59, TPM 4,500, ITPM 1,000, OTPM 500
                // OTPM lacks 1,500 (30 s at 50 a second); TPM and ITPM lack nothing yet.
                (0, 100, 2_000, limited(30 * NS_PER_S, RateLimit::OutputTokensPerMinute)),
                // ITPM lacks 2,000 (20 s at 100 a second), OTPM 500 (10 s): the longest wins.
                (0, 3_000, 1_000, limited(20 * NS_PER_S, RateLimit::InputTokensPerMinute)),
            ],
        );
        for (limit, tokens) in [
            (RateLimit::RequestsPerMinute, 59.0),
            (RateLimit::TokensPerMinute, 4_500.0),
            (RateLimit::InputTokensPerMinute, 1_000.0),
            (RateLimit::OutputTokensPerMinute, 500.0),
        ] {
            assert_eq!(limits.remaining(SimTime::ZERO, limit), Some(tokens), "{}: refusals took nothing", limit.name());
        }
        // One nanosecond early, ITPM lacks 100 tokens/s x 1 ns; OTPM has had enough since 10 s.
        let almost = SimTime(20 * NS_PER_S - 1);
        assert_eq!(limits.try_admit(almost, size(3_000, 1_000)), limited(1, RateLimit::InputTokensPerMinute));
        assert_eq!(limits.try_admit(at_secs(20), size(3_000, 1_000)), Ok(()));
        let counters = limits.counters();
        assert_eq!(counters.rate_limited_by(RateLimit::OutputTokensPerMinute), 1);
        assert_eq!(counters.rate_limited_by(RateLimit::InputTokensPerMinute), 2);
        assert_eq!(counters.rate_limited_by(RateLimit::TokensPerMinute), 0);

        // Equal waits: the earlier limit in RateLimit::ALL order is reported.
        let tie = RateLimitsConfig { tokens_per_minute: Some(6_000), input_tokens_per_minute: Some(6_000), ..TPM_10K };
        check(tie, &[(0, 6_000, 0, Ok(())), (0, 600, 0, limited(6 * NS_PER_S, RateLimit::TokensPerMinute))]);

        // Requests per minute: 2 a minute, the third waits 30 s.
        let rpm = RateLimitsConfig { requests_per_minute: Some(2), ..RateLimitsConfig::UNLIMITED };
        check(
            rpm,
            &[(0, 0, 0, Ok(())), (0, 0, 0, Ok(())), (0, 0, 0, limited(30 * NS_PER_S, RateLimit::RequestsPerMinute))],
        );
    }

    /// With refusals counted, a refusal drains what the buckets hold of its charge, so a
    /// request resent at once is refused again and the hint grows to a full refill; without,
    /// a refusal takes nothing.
    #[test]
    fn counted_refusals_drain_the_buckets() {
        let rpm = |refusals_count| RateLimitsConfig {
            requests_per_minute: Some(2),
            refusals_count,
            ..RateLimitsConfig::UNLIMITED
        };
        let size = RequestSize { prompt_tokens: 0, max_output_tokens: 0 };
        let at = |s: u64| SimTime(s * NS_PER_S);
        let wait = |refusal: Result<(), Refusal>| match refusal {
            Err(Refusal::RateLimited { retry_after, .. }) => retry_after,
            other => panic!("expected a rate limit, got {other:?}"),
        };

        let mut counted = RateLimits::new(rpm(true));
        assert_eq!(counted.try_admit(at(0), size), Ok(()));
        assert_eq!(counted.try_admit(at(0), size), Ok(()));
        // Empty: refused, and 30 s to one token.
        assert_eq!(wait(counted.try_admit(at(0), size)), SimDuration::from_secs(30));
        // 15 s later half a token has come back; the refusal takes it, so 30 s again.
        assert_eq!(wait(counted.try_admit(at(15), size)), SimDuration::from_secs(30));
        assert_eq!(counted.try_admit(at(45), size), Ok(()));

        let mut uncounted = RateLimits::new(rpm(false));
        assert_eq!(uncounted.try_admit(at(0), size), Ok(()));
        assert_eq!(uncounted.try_admit(at(0), size), Ok(()));
        assert_eq!(wait(uncounted.try_admit(at(0), size)), SimDuration::from_secs(30));
        assert_eq!(wait(uncounted.try_admit(at(15), size)), SimDuration::from_secs(15));
        assert_eq!(uncounted.try_admit(at(30), size), Ok(()));
    }

    /// A charge above a bucket's capacity is refused as too large, even with every bucket full,
    /// and before any rate limit; it takes nothing.
    #[test]
    fn a_request_that_can_never_fit_is_too_large_not_rate_limited() {
        let too_large =
            |limit, needed_tokens, capacity_tokens| Err(Refusal::TooLarge { limit, needed_tokens, capacity_tokens });
        let config =
            RateLimitsConfig { requests_per_minute: Some(1), output_tokens_per_minute: Some(4_000), ..TPM_10K };
        let limits = check(
            config,
            &[
                (0, 9_000, 1_001, too_large(RateLimit::TokensPerMinute, 10_001, 10_000)),
                (0, 6_000, 4_000, Ok(())), // exactly the OTPM capacity fits
                // RPM is empty now, but a request too large for OTPM is still "too large".
                (0, 0, 4_001, too_large(RateLimit::OutputTokensPerMinute, 4_001, 4_000)),
                (0, u64::MAX, u64::MAX, too_large(RateLimit::TokensPerMinute, u64::MAX, 10_000)),
                (0, 0, 0, limited(60 * NS_PER_S, RateLimit::RequestsPerMinute)),
            ],
        );
        assert_eq!(limits.remaining(SimTime::ZERO, RateLimit::TokensPerMinute), Some(0.0));
        assert_eq!((limits.counters().too_large, limits.counters().rate_limited()), (3, 1));
        let nothing = RateLimitsConfig { requests_per_minute: Some(0), ..RateLimitsConfig::UNLIMITED };
        check(nothing, &[(0, 0, 0, too_large(RateLimit::RequestsPerMinute, 1, 0))]);
        check(RateLimitsConfig::UNLIMITED, &[(0, u64::MAX, u64::MAX, Ok(()))]);
    }

    #[test]
    fn unused_output_budget_goes_back_to_otpm_only_when_settled() {
        for settled in [false, true] {
            let config = RateLimitsConfig {
                tokens_per_minute: Some(10_000),
                output_tokens_per_minute: Some(3_000),
                output_settled_at_finish: settled,
                ..RateLimitsConfig::UNLIMITED
            };
            let mut limits = RateLimits::new(config);
            assert_eq!(limits.try_admit(SimTime::ZERO, size(100, 2_000)), Ok(()));
            limits.settle_output(SimTime::ZERO, 2_000, 300);
            let expected_otpm = if settled { 2_700.0 } else { 1_000.0 };
            assert_eq!(limits.remaining(SimTime::ZERO, RateLimit::OutputTokensPerMinute), Some(expected_otpm));
            assert_eq!(limits.remaining(SimTime::ZERO, RateLimit::TokensPerMinute), Some(7_900.0), "TPM never settled");
            limits.settle_output(at_secs(59), 2_000, 0);
            assert!(limits.remaining(at_secs(59), RateLimit::OutputTokensPerMinute) <= Some(3_000.0));
        }
    }

    /// A pseudo-random stream of `count` requests: (time, prompt, max output, output).
    fn traffic(count: u64) -> impl Iterator<Item = (SimTime, u64, u64, u64)> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut now = SimTime::ZERO;
        (0..count).map(move |_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let draw = state >> 20;
            now += SimDuration(draw % (900 * NS_PER_MS));
            let max_output = draw % 2_048;
            (now, draw % 4_000, max_output, (draw >> 11) % (max_output + 1))
        })
    }

    /// Time split into many steps (settling nothing at instants in between, which refills every
    /// bucket there) gives the same admissions and the same buckets as no steps at all.
    #[test]
    fn rate_limits_give_the_same_answers_whatever_the_steps_in_between() {
        let config = RateLimitsConfig {
            requests_per_minute: Some(100),
            tokens_per_minute: Some(120_000),
            input_tokens_per_minute: Some(90_000),
            output_tokens_per_minute: Some(40_000),
            output_settled_at_finish: true,
            refusals_count: false,
        };
        let mut plain = RateLimits::new(config);
        let mut stepped = RateLimits::new(config);
        let mut answers = [0u64; 3];
        for (now, prompt, max_output, output) in traffic(5_000) {
            for step in 1..4u64 {
                stepped.settle_output(SimTime(now.as_ns().saturating_sub(step * 77_777_777)), 0, 0);
            }
            let answer = plain.try_admit(now, size(prompt, max_output));
            assert_eq!(answer, stepped.try_admit(now, size(prompt, max_output)));
            answers[match answer {
                Ok(()) => 0,
                Err(Refusal::RateLimited { .. }) => 1,
                Err(Refusal::TooLarge { .. }) => 2,
            }] += 1;
            if answer.is_ok() {
                plain.settle_output(now, max_output, output);
                stepped.settle_output(now, max_output, output);
            }
        }
        // The buckets were last refreshed at different instants; brought to the same one, they
        // are identical.
        let end = SimTime(u64::MAX / 2);
        assert_eq!(plain.try_admit(end, size(0, 0)), stepped.try_admit(end, size(0, 0)));
        assert_eq!(plain, stepped);
        assert!(answers[0] > 100 && answers[1] > 100, "the stream exercises both answers: {answers:?}");
    }

    /// The published case: a 100,000-token prompt takes 11.5 s to its first token, 2.4 s
    /// when cached (a 79% cut); a 10,000-token prompt 1.6 s.
    #[test]
    fn time_to_first_token_reproduces_the_published_prompt_caching_case() {
        let latency = LatencyModel::default();
        assert_eq!(latency.time_to_first_token(100_000, 0), SimDuration::from_ms(11_500));
        assert_eq!(latency.time_to_first_token(100_000, 100_000), SimDuration::from_ms(2_400));
        assert_eq!(latency.time_to_first_token(10_000, 0), SimDuration::from_ms(1_600));
        assert_eq!(latency.time_to_first_token(1_000, 0), SimDuration::from_ms(610));
        assert_eq!(latency.time_to_first_token(0, 0), SimDuration::from_ms(500));
        // Half cached: 0.5 + 50,000 x 110 us + 50,000 x 19 us = 6.95 s.
        assert_eq!(latency.time_to_first_token(100_000, 50_000), SimDuration::from_ms(6_950));
        // More cached tokens than the prompt has count as the whole prompt.
        assert_eq!(latency.time_to_first_token(100_000, 200_000), SimDuration::from_ms(2_400));
        let cut_percent = 100 - 2_400 * 100 / 11_500;
        assert_eq!(cut_percent, 80, "a cut of 79.1%, rounded up by integer division");
    }

    #[test]
    fn generation_takes_one_step_per_output_token_after_the_first() {
        let latency = LatencyModel::default();
        for (output_tokens, expected_ms) in [(0, 0), (1, 0), (2, 20), (1_000, 19_980)] {
            assert_eq!(latency.generation_time(output_tokens), SimDuration::from_ms(expected_ms), "{output_tokens}");
        }
        for (wanted, max_output, tokens, finish_reason) in [
            (1_500, 1_000, 1_000, FinishReason::Length),
            (1_000, 1_000, 1_000, FinishReason::Stop),
            (999, 1_000, 999, FinishReason::Stop),
            (0, 0, 0, FinishReason::Stop),
            (5, 0, 0, FinishReason::Length),
        ] {
            assert_eq!(
                Output::capped(wanted, max_output),
                Output { tokens, finish_reason },
                "{wanted} of {max_output}"
            );
        }
    }

    #[test]
    fn latency_saturates_on_huge_inputs() {
        let latency = LatencyModel::default();
        assert_eq!(latency.time_to_first_token(u64::MAX, 0), SimDuration(u64::MAX));
        assert_eq!(latency.time_to_first_token(u64::MAX, u64::MAX), SimDuration(u64::MAX));
        assert_eq!(latency.generation_time(u64::MAX), SimDuration(u64::MAX));
        let slow = LatencyModel {
            prefill_base: SimDuration(u64::MAX),
            prefill_per_token: SimDuration(u64::MAX),
            prefill_per_cached_token: SimDuration(u64::MAX),
            time_per_output_token: SimDuration(u64::MAX),
        };
        assert_eq!(slow.time_to_first_token(1, 1), SimDuration(u64::MAX));
        assert_eq!(slow.generation_time(2), SimDuration(u64::MAX));
        // Ten million tokens are still exact: 0.5 s + 1,100 s.
        assert_eq!(latency.time_to_first_token(10_000_000, 0), SimDuration::from_ms(1_100_500));
    }

    /// Used at 10 s with a 300 s lifetime: warm one nanosecond before 310 s, cold at 310 s.
    /// Every request refreshes the entry, hit or miss.
    #[test]
    fn prompt_cache_expires_exactly_at_the_ttl_and_every_request_refreshes_it() {
        let mut cache = PromptCache::new(PromptCacheConfig::default());
        assert!(!cache.is_warm(SimTime::ZERO, 0));
        assert_eq!(cache.on_request(at_secs(10), 0, 0.0, 1_000), CacheLookup { hit: false, cached_prompt_tokens: 0 });
        assert!(cache.is_warm(at_secs(10), 0));
        assert!(cache.is_warm(SimTime(310 * NS_PER_S - 1), 0));
        assert!(!cache.is_warm(at_secs(310), 0), "cold at exactly the ttl");
        let hit = cache.on_request(SimTime(310 * NS_PER_S - 1), 0, 0.999, 1_000);
        assert_eq!(hit, CacheLookup { hit: true, cached_prompt_tokens: 1_000 });
        assert!(cache.is_warm(SimTime(610 * NS_PER_S - 2), 0), "the hit refreshed it");
        assert!(!cache.is_warm(SimTime(610 * NS_PER_S - 1), 0));
        assert!(!cache.on_request(at_secs(2_000), 0, 0.0, 1_000).hit);
        assert!(cache.on_request(at_secs(2_299), 0, 0.0, 1_000).hit, "the miss refreshed it");
        assert_eq!(cache.counters(), CacheCounters { hits: 2, misses: 2 });
        // An earlier time (which a simulator never sends) never moves a use back.
        assert!(cache.on_request(at_secs(5), 0, 0.0, 1_000).hit);
        assert!(cache.is_warm(SimTime(2_599 * NS_PER_S - 1), 0));
        cache.clear();
        assert!(!cache.is_warm(at_secs(2_500), 0));
    }

    #[test]
    fn prompt_cache_hits_below_the_hit_ratio_and_caches_its_share_of_the_prompt() {
        let config = PromptCacheConfig { hit_ratio: 0.5, cached_prompt_ppm: 900_000, ..PromptCacheConfig::default() };
        let mut cache = PromptCache::new(config);
        assert!(!cache.on_request(SimTime::ZERO, 0, 0.0, 1_001).hit, "cold: a miss whatever the draw");
        assert_eq!(cache.on_request(at_secs(1), 0, 0.499, 1_001), CacheLookup { hit: true, cached_prompt_tokens: 900 });
        assert!(!cache.on_request(at_secs(2), 0, 0.5, 1_001).hit, "u < hit_ratio, strictly");
        for hit_ratio in [0.0, f64::NAN, -1.0] {
            let mut never = PromptCache::new(PromptCacheConfig { hit_ratio, ..PromptCacheConfig::default() });
            never.on_request(SimTime::ZERO, 0, 0.0, 10);
            assert!(!never.on_request(SimTime::ZERO, 0, 0.0, 10).hit, "{hit_ratio}");
        }
        let whole = PromptCacheConfig { cached_prompt_ppm: u32::MAX, ..PromptCacheConfig::default() };
        assert_eq!(whole.cached_tokens(u64::MAX), u64::MAX);
        assert_eq!(PromptCacheConfig { cached_prompt_ppm: 1, ..whole }.cached_tokens(999_999), 0);
        let mut zero_ttl =
            PromptCache::new(PromptCacheConfig { ttl: SimDuration::ZERO, ..PromptCacheConfig::default() });
        zero_ttl.on_request(SimTime::ZERO, 0, 0.0, 10);
        assert!(!zero_ttl.on_request(SimTime::ZERO, 0, 0.0, 10).hit, "a zero lifetime is never warm");
    }

    #[test]
    fn prompt_cache_keeps_prefixes_apart_within_bounds() {
        let mut cache = PromptCache::new(PromptCacheConfig { prefixes: 3, ..PromptCacheConfig::default() });
        cache.on_request(SimTime::ZERO, 1, 0.0, 100);
        assert!(cache.is_warm(SimTime::ZERO, 1));
        assert!(!cache.is_warm(SimTime::ZERO, 0) && !cache.is_warm(SimTime::ZERO, 2));
        cache.on_request(SimTime::ZERO, u32::MAX, 0.0, 100);
        assert!(cache.is_warm(SimTime::ZERO, 2), "a prefix beyond the count is the last one");
        assert_eq!(
            PromptCache::new(PromptCacheConfig { prefixes: 0, ..PromptCacheConfig::default() }).config().prefixes,
            1
        );
        let huge = PromptCache::new(PromptCacheConfig { prefixes: u32::MAX, ..PromptCacheConfig::default() });
        assert_eq!(huge.config().prefixes, PROMPT_PREFIXES_MAX);
        assert_eq!(huge.last_used_at.len(), PROMPT_PREFIXES_MAX as usize);
    }

    const SERVERLESS: ModelLoaderConfig = ModelLoaderConfig::SERVERLESS_RULE_OF_THUMB;

    /// Scaled to zero: the first request starts a 60 s load; one arriving during the load is
    /// ready at the same instant; idle from the last finish, unloaded 15 minutes later.
    #[test]
    fn cold_load_makes_every_request_during_it_wait_for_the_same_instant() {
        let mut loader = ModelLoader::new(SERVERLESS, SimTime::ZERO);
        assert_eq!((loader.state(), loader.next_unload_at()), (ModelState::ScaledToZero, None));
        assert_eq!(loader.on_request(at_secs(10)), at_secs(70));
        assert_eq!(loader.on_request(at_secs(40)), at_secs(70));
        assert_eq!(loader.state(), ModelState::Loading { ready_at: at_secs(70) });
        loader.advance(SimTime(70 * NS_PER_S - 1));
        assert_eq!(loader.state(), ModelState::Loading { ready_at: at_secs(70) });
        loader.advance(at_secs(70));
        assert_eq!(loader.state(), ModelState::Loaded);
        assert_eq!(loader.on_request(at_secs(75)), at_secs(75), "loaded: served at once");
        loader.on_finish(at_secs(80));
        loader.on_finish(at_secs(90));
        assert_eq!((loader.in_flight(), loader.next_unload_at()), (1, None), "busy: no unload scheduled");
        loader.on_finish(at_secs(100));
        assert_eq!(loader.next_unload_at(), Some(at_secs(100 + 900)));
        loader.advance(SimTime(1_000 * NS_PER_S - 1));
        assert_eq!(loader.state(), ModelState::Loaded);
        loader.advance(at_secs(1_000));
        assert_eq!((loader.state(), loader.next_unload_at()), (ModelState::ScaledToZero, None));
        assert_eq!(loader.counters(), LoaderCounters { loads: 1, unloads: 1, requests_waited_for_load: 2 });
    }

    /// A request at exactly the unload instant finds the model gone and pays a new load,
    /// whether or not the simulator ran the unload first; one nanosecond earlier it is served.
    #[test]
    fn a_request_at_exactly_the_unload_instant_pays_a_new_load() {
        let loaded = ModelLoaderConfig { starts_loaded: true, ..SERVERLESS };
        let mut early = ModelLoader::new(loaded, SimTime::ZERO);
        assert_eq!(early.next_unload_at(), Some(at_secs(900)));
        assert_eq!(early.on_request(SimTime(900 * NS_PER_S - 1)), SimTime(900 * NS_PER_S - 1));
        assert_eq!(early.counters().loads, 0);

        let mut lazy = ModelLoader::new(loaded, SimTime::ZERO);
        let mut advanced = lazy.clone();
        advanced.advance(at_secs(900));
        assert_eq!(advanced.state(), ModelState::ScaledToZero);
        for loader in [&mut lazy, &mut advanced] {
            assert_eq!(loader.on_request(at_secs(900)), at_secs(960));
            assert_eq!(loader.counters(), LoaderCounters { loads: 1, unloads: 1, requests_waited_for_load: 1 });
        }
        assert_eq!(lazy, advanced);
    }

    #[test]
    fn loader_edge_cases() {
        // Never scales to zero.
        let mut always = ModelLoader::new(ModelLoaderConfig::default(), SimTime::ZERO);
        assert_eq!(always.on_request(at_secs(1)), at_secs(1));
        always.on_finish(at_secs(2));
        always.advance(SimTime::MAX);
        assert_eq!((always.state(), always.next_unload_at()), (ModelState::Loaded, None));

        // A zero load time loads at once: counted as a load, nobody waits.
        let mut instant =
            ModelLoader::new(ModelLoaderConfig { load_time: SimDuration::ZERO, ..SERVERLESS }, SimTime::ZERO);
        assert_eq!(instant.on_request(at_secs(5)), at_secs(5));
        assert_eq!(instant.state(), ModelState::Loaded);
        assert_eq!(instant.counters(), LoaderCounters { loads: 1, unloads: 0, requests_waited_for_load: 0 });

        // Every waiting request dropped before the load ends: idle from the load's end.
        let mut abandoned = ModelLoader::new(SERVERLESS, SimTime::ZERO);
        assert_eq!(abandoned.on_request(SimTime::ZERO), at_secs(60));
        abandoned.on_finish(at_secs(30));
        assert_eq!(abandoned.next_unload_at(), Some(at_secs(960)));
        abandoned.advance(at_secs(959));
        assert_eq!(abandoned.state(), ModelState::Loaded);
        abandoned.advance(at_secs(960));
        assert_eq!(abandoned.state(), ModelState::ScaledToZero);

        // A zero idle timeout unloads the moment the last request finishes.
        let eager =
            ModelLoaderConfig { scale_to_zero_after: Some(SimDuration::ZERO), starts_loaded: true, ..SERVERLESS };
        let mut eager = ModelLoader::new(eager, SimTime::ZERO);
        assert_eq!(eager.state(), ModelState::ScaledToZero);
        assert_eq!(eager.on_request(at_secs(1)), at_secs(61));
        eager.on_finish(at_secs(70));
        assert_eq!(eager.state(), ModelState::ScaledToZero);

        // Time never runs backwards; extra finishes change nothing; huge times saturate.
        let mut odd = ModelLoader::new(SERVERLESS, at_secs(100));
        assert_eq!(odd.on_request(at_secs(5)), at_secs(160));
        odd.on_finish(at_secs(200));
        odd.on_finish(at_secs(200));
        assert_eq!(odd.in_flight(), 0);
        let mut late = ModelLoader::new(SERVERLESS, SimTime::ZERO);
        assert_eq!(late.on_request(SimTime::MAX), SimTime::MAX);
        assert_eq!(late.state(), ModelState::Loaded);
        late.on_finish(SimTime::MAX);
        assert_eq!(late.state(), ModelState::ScaledToZero, "the unload saturates to the last instant too");
    }

    /// Calling `advance` at any instants in between changes no answer and no state.
    #[test]
    fn loader_gives_the_same_answers_whatever_the_steps_in_between() {
        let config = ModelLoaderConfig { scale_to_zero_after: Some(SimDuration::from_secs(2)), ..SERVERLESS };
        let mut plain = ModelLoader::new(config, SimTime::ZERO);
        let mut stepped = plain.clone();
        let mut in_flight: Vec<SimTime> = Vec::new();
        for (index, (now, ..)) in traffic(3_000).enumerate() {
            // Finish what is due (in time order), then the arrival; every ninth arrival sits out
            // a long pause first so that the model unloads and loads again.
            let now = now + SimDuration(if index % 9 == 0 { 70 * NS_PER_S * (index as u64 / 9) } else { 0 });
            in_flight.sort();
            while in_flight.first().is_some_and(|&done_at| done_at <= now) {
                let done_at = in_flight.remove(0);
                for step in [3 * NS_PER_S, NS_PER_S, 1] {
                    stepped.advance(SimTime(done_at.as_ns().saturating_sub(step)));
                }
                plain.on_finish(done_at);
                stepped.on_finish(done_at);
            }
            stepped.advance(now);
            let ready_at = plain.on_request(now);
            assert_eq!(ready_at, stepped.on_request(now), "request {index}");
            in_flight.push(ready_at + SimDuration(500 * NS_PER_MS));
        }
        assert_eq!(plain, stepped);
        let counters = plain.counters();
        assert!(counters.loads > 10 && counters.unloads > 10, "{counters:?}");
    }

    #[test]
    fn cost_is_exact_from_integers() {
        let counters = LlmCounters {
            input_tokens: 1_000_000,
            cached_input_tokens: 200_000,
            output_tokens: 100_000,
            ..LlmCounters::default()
        };
        let prices = PriceTable::EXAMPLE_MID_SIZE_2025;
        // 800,000 x $3/M + 200,000 x $0.30/M + 100,000 x $15/M = $2.40 + $0.06 + $1.50.
        assert_eq!(prices.cost_pico_usd(&counters), 3_960_000_000_000);
        assert_eq!(prices.cost_usd(&counters), 3.96);
        assert_eq!(PriceTable::from_usd_per_million(3.0, 0.3, 15.0), prices);
        assert_eq!(PriceTable::from_usd_per_million(f64::NAN, -1.0, 0.0), PriceTable::default());
        assert_eq!(PriceTable::from_usd_per_million(1e300, 0.0, 0.0).input_micro_usd_per_million_tokens, u64::MAX);
        let huge = LlmCounters { input_tokens: u64::MAX, output_tokens: u64::MAX, ..LlmCounters::default() };
        let dear = PriceTable::from_usd_per_million(1e300, 1e300, 1e300);
        assert_eq!(dear.cost_pico_usd(&huge), u128::MAX, "saturated");
        let inconsistent = LlmCounters { input_tokens: 10, cached_input_tokens: 20, ..LlmCounters::default() };
        assert_eq!(prices.cost_pico_usd(&inconsistent), 10 * 300_000, "cached tokens beyond the input count as input");
    }

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

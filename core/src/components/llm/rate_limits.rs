//! An LLM endpoint's per-minute rate limits on requests and tokens ([`RateLimits`]): one token
//! bucket per configured limit, charged all or nothing when a request arrives, and the retry-after
//! a refused client is given.
//!
//! **Why it matters.** The limits count tokens as well as requests, and a request is charged for
//! the output it *might* produce (its `max_output_tokens`), so a client that asks for a generous
//! budget gets 429s long before the tokens it really uses reach the limit. A 429 carries a
//! retry-after hint; clients that honour it wait in step and come back together, clients that
//! ignore it burn attempts against an empty bucket.
//!
//! **Rate limits are token buckets refilled continuously.** Each configured
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
//!   unused budget goes back to the OTPM bucket at
//!   [`LlmEndpoint::on_finish`](super::LlmEndpoint::on_finish).
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
//! Sources:
//! - OpenAI, "Rate limits" guide, <https://platform.openai.com/docs/guides/rate-limits> (RPM
//!   and TPM, the max_tokens charge, 429 and the `x-ratelimit-*` headers), and "How can I
//!   solve 429: 'Too Many Requests' errors?",
//!   <https://help.openai.com/en/articles/5955604-how-can-i-solve-429-too-many-requests-errors>
//!   (limits enforced over shorter periods; failed requests count);
//! - Anthropic, "Rate limits", <https://docs.anthropic.com/en/api/rate-limits> (RPM, ITPM,
//!   OTPM; the token bucket; OTPM estimated from max_tokens and adjusted at the end; cache
//!   reads and ITPM; `retry-after` in seconds);
//! - RFC 9110 section 10.2.3, <https://www.rfc-editor.org/rfc/rfc9110#field.retry-after>
//!   (`Retry-After: delay-seconds`).

use crate::policy::token_bucket::TokenBucket;
use crate::time::{SimDuration, SimTime, NS_PER_S};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::llm::test_support::{at_secs, traffic};
    use crate::time::NS_PER_MS;

    fn at_ms(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
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
}

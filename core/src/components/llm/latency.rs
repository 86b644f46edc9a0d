//! How long an LLM response takes in its decoding slot, from its token counts ([`LatencyModel`]),
//! and how much output it gets within its budget ([`Output`]).
//!
//! **Why it matters.** Latency is seconds, not milliseconds, and grows with the prompt, so a client
//! timeout tuned for a short prompt fires on every long one, and the abandoned request still holds
//! a decoding slot for its whole generation (a timeout does not tell the server).
//!
//! **The model.** Time to first token (TTFT) = `prefill_base` + uncached prompt tokens x
//! `prefill_per_token` + cached prompt tokens x `prefill_per_cached_token`; then each further
//! output token takes `time_per_output_token`, so a response of `n >= 1` tokens takes TTFT +
//! (n - 1) x `time_per_output_token` in its decoding slot. A response of zero output tokens (a zero
//! budget, or a model that stops at once) is complete at TTFT: the prompt is still read. TTFT here
//! is the slot's own work; queueing before the slot, and waiting for a model load, come on top. The
//! output is `min(wanted, max_output_tokens)`; a response cut by its budget finishes with
//! [`FinishReason::Length`] (OpenAI `"length"`, Anthropic `"max_tokens"`), one that fits (even
//! exactly) with [`FinishReason::Stop`]. All in integer nanoseconds, saturating: a billion-token
//! prompt gives a long TTFT, not an overflow. Not modelled: slower decoding when many requests
//! share a batch, and the context window.
//!
//! **Rules of thumb, not measurements.** The default latencies ([`LatencyModel::RULE_OF_THUMB`]:
//! 0.5 s base, 110 us per prompt token, 19 us per cached prompt token, 20 ms per output token)
//! are fitted to Anthropic's published prompt-caching examples of August 2024 (100,000 cached
//! tokens: 11.5 s -> 2.4 s to the first token; a 10,000-token prompt: 1.6 s uncached) and to the
//! ranges in POLICIES.md (TTFT 0.2-0.8 s for short prompts, 10-50 ms per output token, unverified).
//!
//! Source: Anthropic, "Prompt caching with Claude" (August 2024),
//! <https://www.anthropic.com/news/prompt-caching> (100,000-token book: 11.5 s -> 2.4 s time to
//! first token).

use crate::time::SimDuration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

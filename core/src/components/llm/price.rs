//! What an LLM endpoint's tokens cost ([`PriceTable`]): prices per million input, cached input and
//! output tokens, in exact integers.
//!
//! **Why it matters.** Cost follows tokens, not requests: a request whose client timed out and
//! retried is paid for twice (the abandoned one runs to completion), prompt tokens read from the
//! cache cost a fraction of the others, and output tokens cost several times input ones, so the
//! same request rate can cost very different amounts.
//!
//! **The model.** Input tokens not read from the cache at the input price, cached input tokens at
//! the cached-input price, output tokens at the output price, all per million tokens, computed
//! exactly in integers (micro-dollars per million tokens) and converted to dollars once. Tokens are
//! counted at admission: an admitted request runs to completion (a client timeout does not tell the
//! server), so its usage is known then; should the simulator cancel a request (a cancellation
//! policy), its tokens still count in full, an overestimate. Refused requests cost nothing.
//!
//! [`PriceTable::EXAMPLE_MID_SIZE_2025`] ($3 / $0.30 / $15 per million input / cached input /
//! output tokens) is an example of a mid-size 2025 model's prices, not a claim about any vendor's
//! price list.
//!
//! Source: Anthropic, "Prompt caching",
//! <https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching> (cache reads priced apart
//! from, and below, uncached input tokens).

use super::LlmCounters;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

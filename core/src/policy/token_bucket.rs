//! A token-bucket rate limit ([`TokenBucket`]): it starts full, refills continuously at a rate, and
//! an arrival conforms if the tokens it needs are there, and then takes them.
//!
//! Why it matters: a rate limit refuses the excess of a burst at once instead of queueing it, and
//! its bucket lets a short burst through whole, up to the capacity. Here it is a service's rate limit
//! and the per-minute request and token limits of an LLM endpoint
//! ([`crate::components::llm::RateLimits`]). It counts exact integers, so a run's admissions do not
//! depend on how time is split into steps, on any target.
//!
//! Source: RFC 2697, "A Single Rate Three Color Marker", <https://www.rfc-editor.org/rfc/rfc2697>
//! (its committed bucket "C", one token per request).

use crate::time::{SimDuration, SimTime, NS_PER_S};

/// Token-bucket units per token: nanoseconds per second times 2^32, so that a rate in tokens
/// per second becomes an integer number of units per nanosecond with 32 fractional bits.
const TOKEN_UNITS_PER_TOKEN: u128 = (NS_PER_S as u128) << 32;

/// RFC 2697-style token bucket rate limit (the committed bucket "C" of the single-rate
/// three-color marker, <https://www.rfc-editor.org/rfc/rfc2697>, one token per request): starts full at `capacity`, refills continuously at
/// `rate_per_s`; an arrival conforms if a whole token is available, and then takes it.
///
/// Tokens are kept as exact integers: 1 token = 10^9 * 2^32 units, and the rate is converted
/// once to units per nanosecond (`rate_per_s * 2^32`, rounded: an error below 2^-32 tokens per
/// second). Refilling adds `elapsed_ns * rate` units, so any split of a time span into steps
/// gives exactly the same count as one step, on every target; there is no drift over long runs.
/// [`TokenBucket::per_period`] builds a bucket for a whole number of tokens per period (per
/// minute, say) whose rate is exact, and requests may take several tokens at once
/// ([`TokenBucket::try_take_tokens`], [`TokenBucket::wait_for_tokens`]).
///
/// ```
/// use stormglass_core::policy::token_bucket::TokenBucket;
/// use stormglass_core::time::SimTime;
///
/// let mut bucket = TokenBucket::new(2.0, 1.0);
/// assert!(bucket.try_take(SimTime(0)) && bucket.try_take(SimTime(0)));
/// assert!(!bucket.try_take(SimTime(0)));
/// assert!(bucket.try_take(SimTime(1_000_000_000))); // one second later: one more token
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    /// Units in one token: [`TOKEN_UNITS_PER_TOKEN`] for a rate given in tokens per second
    /// ([`Self::new`]); the period in nanoseconds for a whole number of tokens per period
    /// ([`Self::per_period`]), which makes that rate an exact integer number of units per
    /// nanosecond.
    units_per_token: u128,
    capacity_units: u128,
    rate_units_per_ns: u128,
    tokens_units: u128,
    updated_at: SimTime,
}

impl TokenBucket {
    /// A full bucket at time zero. Negative or NaN capacity and rate count as zero.
    pub fn new(capacity: f64, rate_per_s: f64) -> Self {
        let capacity_units = tokens_to_units(capacity);
        TokenBucket {
            units_per_token: TOKEN_UNITS_PER_TOKEN,
            capacity_units,
            rate_units_per_ns: fraction_to_integer(rate_per_s, 1 << 32),
            tokens_units: capacity_units,
            updated_at: SimTime::ZERO,
        }
    }

    /// A full bucket at time zero holding `capacity` whole tokens and refilled by `refill`
    /// tokens every `period`, continuously (a `refill / period` rate, never above capacity).
    ///
    /// Unlike [`Self::new`], whose rate in tokens per second is rounded once to 2^-32 token per
    /// second, this rate is exact: a token is `period` units and the refill `refill` units per
    /// nanosecond. So "10,000 tokens per minute" refills 2,000 tokens in exactly 12 s, and
    /// [`Self::wait_for_tokens`] is exact to the nanosecond for any count and period. A zero
    /// `period` counts as one nanosecond (a bucket refilled at once).
    ///
    /// ```
    /// use stormglass_core::policy::token_bucket::TokenBucket;
    /// use stormglass_core::time::{SimDuration, SimTime};
    ///
    /// let mut per_minute = TokenBucket::per_period(10_000, 10_000, SimDuration::from_secs(60));
    /// assert!(per_minute.try_take_tokens(SimTime(0), 8_000));
    /// assert_eq!(per_minute.wait_for_tokens(SimTime(0), 4_000), Some(SimDuration::from_secs(12)));
    /// assert_eq!(per_minute.wait_for_tokens(SimTime(0), 10_001), None, "more than it can ever hold");
    /// ```
    pub fn per_period(capacity: u64, refill: u64, period: SimDuration) -> Self {
        let units_per_token = u128::from(period.as_ns().max(1));
        // u64 x u64 always fits in u128.
        let capacity_units = u128::from(capacity) * units_per_token;
        TokenBucket {
            units_per_token,
            capacity_units,
            rate_units_per_ns: u128::from(refill),
            tokens_units: capacity_units,
            updated_at: SimTime::ZERO,
        }
    }

    /// Takes one token if a whole one is available at `now`; says whether the arrival conforms.
    pub fn try_take(&mut self, now: SimTime) -> bool {
        self.try_take_tokens(now, 1)
    }

    /// Takes `count` tokens if that many are available at `now`, else takes nothing (never a
    /// part); says whether it took them. Zero tokens are always available.
    pub fn try_take_tokens(&mut self, now: SimTime, count: u64) -> bool {
        self.refill(now);
        let needed_units = self.units_for(count);
        if self.tokens_units >= needed_units {
            self.tokens_units -= needed_units;
            true
        } else {
            false
        }
    }

    /// How long from `now` until `count` tokens are available, if nothing else is taken
    /// meanwhile: zero if they are there already, else the exact wait rounded up to the next
    /// whole nanosecond (at `now` plus the wait there are enough; one nanosecond earlier there
    /// are not). `None` if they never will be: `count` is more than the capacity, or the
    /// bucket lacks them and never refills. Changes nothing.
    pub fn wait_for_tokens(&self, now: SimTime, count: u64) -> Option<SimDuration> {
        let needed_units = self.units_for(count);
        if needed_units > self.capacity_units {
            return None;
        }
        let available_units = self.refilled_units(now);
        if available_units >= needed_units {
            return Some(SimDuration::ZERO);
        }
        if self.rate_units_per_ns == 0 {
            return None;
        }
        let wait_ns = (needed_units - available_units).div_ceil(self.rate_units_per_ns);
        Some(SimDuration(u64::try_from(wait_ns).unwrap_or(u64::MAX)))
    }

    /// Puts `count` tokens back at `now` (a charge settled for less than was taken), never
    /// above the capacity.
    pub fn put_tokens(&mut self, now: SimTime, count: u64) {
        self.refill(now);
        self.tokens_units = self.tokens_units.saturating_add(self.units_for(count)).min(self.capacity_units);
    }

    /// Takes `count` tokens at `now`, or all there are if fewer (never below empty). Returns
    /// the tokens taken, in whole tokens rounded down (a bucket refilled continuously may hold
    /// a fraction of one).
    pub fn drain_tokens(&mut self, now: SimTime, count: u64) -> u64 {
        self.refill(now);
        let taken_units = self.tokens_units.min(self.units_for(count));
        self.tokens_units -= taken_units;
        u64::try_from(taken_units / self.units_per_token.max(1)).unwrap_or(u64::MAX)
    }

    /// The tokens available at `now` (fractional; for charts and tests).
    pub fn tokens(&self, now: SimTime) -> f64 {
        let units = self.refilled_units(now);
        let units_per_token = self.units_per_token.max(1);
        (units / units_per_token) as f64 + (units % units_per_token) as f64 / units_per_token as f64
    }

    /// The whole tokens the bucket holds when full (rounded down).
    pub fn capacity_tokens(&self) -> u64 {
        u64::try_from(self.capacity_units / self.units_per_token.max(1)).unwrap_or(u64::MAX)
    }

    fn units_for(&self, count: u64) -> u128 {
        u128::from(count).saturating_mul(self.units_per_token)
    }

    fn refilled_units(&self, now: SimTime) -> u128 {
        let elapsed_ns = u128::from(now.since(self.updated_at).as_ns());
        let added = elapsed_ns.saturating_mul(self.rate_units_per_ns);
        self.tokens_units.saturating_add(added).min(self.capacity_units)
    }

    fn refill(&mut self, now: SimTime) {
        self.tokens_units = self.refilled_units(now);
        // Time never runs backwards here: an earlier `now` adds nothing and moves nothing.
        self.updated_at = self.updated_at.max(now);
    }
}

/// `value * scale`, rounded to the nearest integer; negative or NaN gives 0, huge saturates.
fn fraction_to_integer(value: f64, scale: u128) -> u128 {
    if value.is_nan() || value <= 0.0 {
        return 0;
    }
    let scaled = value * scale as f64;
    // `as` saturates identically on every target.
    (scaled + 0.5) as u128
}

/// Tokens to units, keeping whole tokens exact (`f64` holds them exactly up to 2^53).
fn tokens_to_units(tokens: f64) -> u128 {
    if tokens.is_nan() || tokens <= 0.0 {
        return 0;
    }
    let whole = libm::floor(tokens);
    let whole_units = (whole as u128).saturating_mul(TOKEN_UNITS_PER_TOKEN);
    whole_units.saturating_add(fraction_to_integer(tokens - whole, TOKEN_UNITS_PER_TOKEN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::f64_to_ns;

    #[test]
    fn token_bucket_starts_full_refills_at_rate_and_caps() {
        let second = |s: f64| SimTime(f64_to_ns(s * NS_PER_S as f64));
        let mut bucket = TokenBucket::new(10.0, 2.0);
        assert_eq!(bucket.tokens(SimTime::ZERO), 10.0);
        // (time s, conforms?, tokens after)
        let steps: &[(f64, bool, f64)] = &[
            (0.0, true, 9.0),
            (0.0, true, 8.0),
            (0.0, true, 7.0),
            (0.0, true, 6.0),
            (0.0, true, 5.0),
            (0.0, true, 4.0),
            (0.0, true, 3.0),
            (0.0, true, 2.0),
            (0.0, true, 1.0),
            (0.0, true, 0.0),
            (0.0, false, 0.0),
            (0.25, false, 0.5),
            (0.5, true, 0.0),
            (0.75, false, 0.5),
            (1.0, true, 0.0),
            (1_000.0, true, 9.0), // long gap: refilled to 10, never above
            (1_000.0, true, 8.0),
        ];
        for &(at_s, conforms, tokens_after) in steps {
            assert_eq!(bucket.try_take(second(at_s)), conforms, "at {at_s} s");
            assert_eq!(bucket.tokens(second(at_s)), tokens_after, "tokens at {at_s} s");
        }
        assert_eq!(bucket.tokens(second(1_005.0)), 10.0, "capped at capacity");
        assert_eq!(bucket.tokens(second(999.0)), 8.0, "an earlier time adds nothing");
    }

    /// Integer arithmetic: a third of a second at 3 tokens/s is 0.999999999 tokens (not
    /// conforming), one nanosecond more is a whole token; and any split of a span refills
    /// exactly as much as the span in one step.
    #[test]
    fn token_bucket_is_exact_over_long_gaps_and_any_split() {
        let mut bucket = TokenBucket::new(1.0, 3.0);
        assert!(bucket.try_take(SimTime::ZERO));
        assert!(!bucket.try_take(SimTime(333_333_333)));
        assert!(bucket.try_take(SimTime(333_333_334)));

        let mut stepped = TokenBucket::new(1e6, 0.1);
        let mut at_once = stepped.clone();
        for _ in 0..1_000 {
            assert!(stepped.try_take(SimTime::ZERO) && at_once.try_take(SimTime::ZERO));
        }
        let mut now = SimTime::ZERO;
        for step in 0..100_000u64 {
            now += SimDuration(7_777_777 + step % 13);
            stepped.refill(now);
        }
        at_once.refill(now);
        assert_eq!(stepped, at_once);
        assert_eq!(stepped.tokens(now), at_once.tokens(now));

        let mut slow = TokenBucket::new(1.0, 0.5);
        assert!(slow.try_take(SimTime::ZERO));
        assert!(!slow.try_take(SimTime(NS_PER_S)));
        assert!(slow.try_take(SimTime(2 * NS_PER_S)));
    }

    #[test]
    fn token_bucket_degenerate_inputs_do_not_panic() {
        for (capacity, rate) in [(0.0, 1.0), (-1.0, 1.0), (f64::NAN, f64::NAN), (1.0, f64::INFINITY), (f64::MAX, 1e300)]
        {
            let mut bucket = TokenBucket::new(capacity, rate);
            for at in [0, 1, u64::MAX] {
                let _ = bucket.try_take(SimTime(at));
                let _ = bucket.tokens(SimTime(at));
            }
        }
        assert!(!TokenBucket::new(0.5, 0.0).try_take(SimTime::ZERO), "half a token does not conform");
    }

    fn per_minute(amount: u64) -> TokenBucket {
        TokenBucket::per_period(amount, amount, SimDuration::from_secs(60))
    }

    /// 10,000 tokens a minute: two requests of 4,000 at t = 0 leave 2,000; a third of 4,000
    /// must wait for 2,000 more, exactly 12 s at 10,000 / 60 s; a refusal takes nothing.
    #[test]
    fn token_bucket_per_minute_worked_example() {
        let mut bucket = per_minute(10_000);
        assert_eq!(bucket.capacity_tokens(), 10_000);
        assert!(bucket.try_take_tokens(SimTime::ZERO, 4_000));
        assert!(bucket.try_take_tokens(SimTime::ZERO, 4_000));
        assert_eq!(bucket.tokens(SimTime::ZERO), 2_000.0);
        assert!(!bucket.try_take_tokens(SimTime::ZERO, 4_000));
        assert_eq!(bucket.tokens(SimTime::ZERO), 2_000.0, "a refusal takes nothing");
        let wait = bucket.wait_for_tokens(SimTime::ZERO, 4_000);
        assert_eq!(wait, Some(SimDuration::from_secs(12)));
        assert_eq!(bucket.wait_for_tokens(SimTime::ZERO, 2_000), Some(SimDuration::ZERO));
        assert_eq!(bucket.wait_for_tokens(SimTime::ZERO, 0), Some(SimDuration::ZERO));
        assert_eq!(bucket.wait_for_tokens(SimTime(6 * NS_PER_S), 4_000), Some(SimDuration::from_secs(6)));
        assert!(!bucket.try_take_tokens(SimTime(12 * NS_PER_S - 1), 4_000), "one nanosecond early");
        assert!(bucket.try_take_tokens(SimTime(12 * NS_PER_S), 4_000));
        assert_eq!(bucket.tokens(SimTime(12 * NS_PER_S)), 0.0);
        // An empty bucket is full again one period later, never fuller.
        assert_eq!(bucket.wait_for_tokens(SimTime(12 * NS_PER_S), 10_000), Some(SimDuration::from_secs(60)));
        assert_eq!(bucket.tokens(SimTime(1_000 * NS_PER_S)), 10_000.0);
    }

    /// The per-period rate is exact where a rate per second would not be: 1 a minute is
    /// 1/60 token per second, which 2^-32 fixed point cannot hold, yet the wait is 60 s to the
    /// nanosecond, and 7 an hour refills one token in exactly 3,600 / 7 s, rounded up.
    #[test]
    fn token_bucket_per_period_waits_are_exact_to_the_nanosecond() {
        let mut one_a_minute = per_minute(1);
        assert!(one_a_minute.try_take(SimTime::ZERO));
        assert_eq!(one_a_minute.wait_for_tokens(SimTime::ZERO, 1), Some(SimDuration::from_secs(60)));
        assert!(!one_a_minute.try_take(SimTime(60 * NS_PER_S - 1)));
        assert!(one_a_minute.try_take(SimTime(60 * NS_PER_S)));

        let mut seven_an_hour = TokenBucket::per_period(7, 7, SimDuration::from_secs(3_600));
        assert!(seven_an_hour.try_take_tokens(SimTime::ZERO, 7));
        // 3,600 s / 7 = 514.285714285714... s: 514,285,714,286 ns rounded up.
        let wait = seven_an_hour.wait_for_tokens(SimTime::ZERO, 1).map(SimDuration::as_ns);
        assert_eq!(wait, Some(514_285_714_286));
        assert!(!seven_an_hour.try_take(SimTime(514_285_714_285)));
        assert!(seven_an_hour.try_take(SimTime(514_285_714_286)));

        // The rate-per-second bucket answers the same questions (2 a second: 0.5 s a token).
        let mut per_second = TokenBucket::new(10.0, 2.0);
        assert!(per_second.try_take_tokens(SimTime::ZERO, 10));
        assert!(!per_second.try_take_tokens(SimTime::ZERO, 1));
        assert_eq!(per_second.wait_for_tokens(SimTime::ZERO, 3), Some(SimDuration::from_ms(1_500)));
        assert_eq!(per_second.wait_for_tokens(SimTime::ZERO, 11), None);
        assert_eq!(per_second.capacity_tokens(), 10);
    }

    /// Whatever the state, waiting exactly the answer of `wait_for_tokens` is enough and one
    /// nanosecond less is not; splitting the time into steps (with takes in between) leaves the
    /// same state as one step.
    #[test]
    fn token_bucket_multi_token_operations_are_exact_under_any_split() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut draw = move |modulus: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % modulus
        };
        for _ in 0..2_000 {
            let capacity = 1 + draw(50_000);
            let mut bucket =
                TokenBucket::per_period(capacity, 1 + draw(capacity), SimDuration(1 + draw(90 * NS_PER_S)));
            let mut now = SimTime(draw(10 * NS_PER_S));
            let _ = bucket.try_take_tokens(now, draw(capacity + 1));
            now += SimDuration(draw(NS_PER_S));
            let count = draw(capacity + 1);
            let wait = bucket.wait_for_tokens(now, count).unwrap_or(SimDuration(u64::MAX));
            if wait > SimDuration::ZERO {
                assert!(!bucket.clone().try_take_tokens(SimTime(now.as_ns() + wait.as_ns() - 1), count));
            }
            assert!(bucket.clone().try_take_tokens(now + wait, count));
            assert_eq!(bucket.wait_for_tokens(now, capacity + 1), None);
        }

        let mut stepped = per_minute(90_000);
        let mut at_once = stepped.clone();
        assert!(stepped.try_take_tokens(SimTime::ZERO, 90_000) && at_once.try_take_tokens(SimTime::ZERO, 90_000));
        let mut now = SimTime::ZERO;
        for step in 0..10_000u64 {
            now += SimDuration(3_333_333 + step % 7);
            assert!(stepped.try_take_tokens(now, 0));
        }
        assert!(at_once.try_take_tokens(now, 0));
        assert_eq!(stepped, at_once);
        assert_eq!(stepped.wait_for_tokens(now, 90_000), at_once.wait_for_tokens(now, 90_000));
    }

    #[test]
    fn token_bucket_put_tokens_settles_a_charge_up_to_capacity() {
        let mut bucket = per_minute(1_000);
        assert!(bucket.try_take_tokens(SimTime::ZERO, 800));
        bucket.put_tokens(SimTime::ZERO, 300);
        assert_eq!(bucket.tokens(SimTime::ZERO), 500.0);
        bucket.put_tokens(SimTime(NS_PER_S), 10_000);
        assert_eq!(bucket.tokens(SimTime(NS_PER_S)), 1_000.0, "never above capacity");
    }

    /// No refill: the tokens left are all there will ever be. Zero period: refilled at once.
    #[test]
    fn token_bucket_per_period_edge_cases() {
        let mut no_refill = TokenBucket::per_period(5, 0, SimDuration::from_secs(60));
        assert!(no_refill.try_take_tokens(SimTime::ZERO, 3));
        assert_eq!(no_refill.wait_for_tokens(SimTime(u64::MAX), 2), Some(SimDuration::ZERO));
        assert_eq!(no_refill.wait_for_tokens(SimTime(u64::MAX), 3), None);

        let mut instant = TokenBucket::per_period(5, 5, SimDuration::ZERO);
        assert!(instant.try_take_tokens(SimTime::ZERO, 5));
        assert_eq!(instant.wait_for_tokens(SimTime::ZERO, 5), Some(SimDuration(1)));

        let empty = TokenBucket::per_period(0, 0, SimDuration::from_secs(60));
        assert_eq!(empty.wait_for_tokens(SimTime::ZERO, 0), Some(SimDuration::ZERO));
        assert_eq!(empty.wait_for_tokens(SimTime::ZERO, 1), None);

        // Extremes saturate instead of overflowing.
        let mut huge = TokenBucket::per_period(u64::MAX, u64::MAX, SimDuration(u64::MAX));
        assert_eq!(huge.capacity_tokens(), u64::MAX);
        assert!(huge.try_take_tokens(SimTime::ZERO, u64::MAX));
        assert_eq!(huge.wait_for_tokens(SimTime::ZERO, u64::MAX), Some(SimDuration(u64::MAX)));
        assert!(huge.try_take_tokens(SimTime::MAX, u64::MAX));
        huge.put_tokens(SimTime::MAX, u64::MAX);
        let mut slow = TokenBucket::per_period(u64::MAX, 1, SimDuration(u64::MAX));
        assert!(slow.try_take_tokens(SimTime::ZERO, u64::MAX));
        assert_eq!(slow.wait_for_tokens(SimTime::ZERO, u64::MAX), Some(SimDuration(u64::MAX)), "saturated");
        assert_eq!(TokenBucket::new(f64::MAX, 1.0).wait_for_tokens(SimTime::ZERO, u64::MAX), Some(SimDuration::ZERO));
    }
}

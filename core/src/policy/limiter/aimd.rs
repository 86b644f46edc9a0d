//! Netflix's AIMD concurrency limit: one more while the limit is well used, a multiplicative cut on a
//! drop or an answer slower than the timeout.
//!
//! Why it matters: the simplest adaptive limit, and the one whose sawtooth is easiest to read on a
//! chart. It learns only from drops and timeouts, so a service that slows down without failing keeps
//! its limit (and its queue) until answers cross the timeout.
//!
//! Source: Netflix concurrency-limits, `AIMDLimit`,
//! <https://github.com/Netflix/concurrency-limits>
//! (`concurrency-limits-core/src/main/java/com/netflix/concurrency/limits/limit/AIMDLimit.java`).

use crate::time::SimDuration;

/// Netflix `AIMDLimit` (concurrency-limits-core, `limit/AIMDLimit.java`, the version with
/// `minLimit`/`maxLimit`):
///
/// ```text
/// if (didDrop || rtt > timeout) currentLimit = (int) (currentLimit * backoffRatio);
/// else if (inflight * 2 >= currentLimit) currentLimit = currentLimit + 1;
/// return Math.min(maxLimit, Math.max(minLimit, currentLimit));
/// ```
#[derive(Clone, Debug)]
pub(super) struct Aimd {
    limit: u32,
    min: u32,
    max: u32,
    backoff_ratio: f64,
    timeout: SimDuration,
}

impl Aimd {
    pub(super) fn new(initial: u32, min: u32, max: u32, backoff_ratio: f64, timeout: SimDuration) -> Self {
        Aimd { limit: initial, min, max, backoff_ratio, timeout }
    }

    pub(super) fn limit(&self) -> u32 {
        self.limit
    }

    pub(super) fn on_sample(&mut self, rtt: SimDuration, in_flight: u32, dropped: bool) {
        let mut limit = self.limit;
        if dropped || rtt > self.timeout {
            // Java's `(int)` cast: truncation toward zero, saturating; `as` does the same.
            limit = (f64::from(limit) * self.backoff_ratio) as u32;
        } else if u64::from(in_flight) * 2 >= u64::from(limit) {
            limit = limit.saturating_add(1);
        }
        // Same order as the source, so min > max resolves to max.
        self.limit = limit.max(self.min).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::limiter::tests::{check, dropped, ok};
    use crate::policy::limiter::LimiterConfig;
    use crate::time::SimDuration;

    #[test]
    fn aimd_netflix_defaults() {
        check(
            LimiterConfig::netflix_aimd(),
            &[
                ok(10.0, 10, 21),    // 10 * 2 >= 20: +1
                ok(10.0, 10, 21),    // 20 < 21: app-limited, no change
                ok(10.0, 11, 22),    // 22 >= 21: +1
                dropped(1.0, 1, 20), // floor(0.9 * 22) = 19, held at the minimum 20
                ok(5_001.0, 20, 20), // slower than the 5 s timeout counts as a drop: 18 -> 20
                ok(5_000.0, 20, 21), // exactly the timeout is not over it
            ],
        );
    }

    #[test]
    fn aimd_backs_off_multiplicatively_and_clamps_to_max() {
        let config = LimiterConfig::Aimd {
            initial: 30,
            min: 5,
            max: 32,
            backoff_ratio: 0.9,
            timeout: SimDuration::from_secs(1),
        };
        check(
            config,
            &[
                dropped(1.0, 30, 27),      // floor(27.0)
                dropped(1.0, 30, 24),      // floor(24.3)
                ok(2_000.0, 30, 21),       // floor(21.6): RTT over the timeout
                dropped(1.0, 30, 18),      // floor(18.9)
                ok(1.0, 9, 19),            // 9 * 2 >= 18
                ok(1.0, 9, 19),            // 18 < 19
                ok(1.0, 30, 32).times(13), // +1 per sample, capped at 32
                dropped(1.0, 0, 28),       // floor(28.8)
            ],
        );
        let tiny =
            LimiterConfig::Aimd { initial: 6, min: 5, max: 10, backoff_ratio: 0.5, timeout: SimDuration::from_secs(1) };
        check(tiny, &[dropped(1.0, 6, 5), dropped(1.0, 6, 5)]);
    }
}

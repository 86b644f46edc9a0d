//! Netflix's Vegas concurrency limit, the library's default: queueing read from latency, as the gap
//! between the RTT now and the smallest RTT seen, after TCP Vegas.
//!
//! Why it matters: it cuts the limit when answers slow down, before anything drops or times out.
//! Its weak spot is the no-load RTT: a lasting shift in latency (a slower dependency, a bigger
//! payload) reads as queueing until the next probe forgets the old minimum.
//!
//! The source draws its probe jitter at random; this file uses a fixed value instead (see
//! `VEGAS_PROBE_JITTER`), so a run stays a pure function of its inputs.
//!
//! Source: Netflix concurrency-limits, `VegasLimit` and `Log10RootIntFunction`,
//! <https://github.com/Netflix/concurrency-limits>
//! (`concurrency-limits-core/src/main/java/com/netflix/concurrency/limits/limit/VegasLimit.java`).

use crate::time::SimDuration;

/// The fixed probe jitter of [`Vegas`]. Netflix draws it from U(0.5, 1) after each probe
/// (`ThreadLocalRandom`) so that a fleet of limiters does not probe in step; a deterministic
/// simulator uses the mean of that range instead.
const VEGAS_PROBE_JITTER: f64 = 0.75;

/// Netflix `VegasLimit` (concurrency-limits-core, `limit/VegasLimit.java`, with the builder's
/// default functions built on `Log10RootIntFunction`):
///
/// ```text
/// probeCount++;
/// if (probeJitter * probeMultiplier * estimatedLimit <= probeCount) { probeCount = 0; rtt_noload = rtt; return; }
/// if (rtt_noload == 0 || rtt < rtt_noload) { rtt_noload = rtt; return; }
/// queueSize = (int) ceil(estimatedLimit * (1 - rtt_noload / rtt));
/// if (didDrop) newLimit = estimatedLimit - log10(L);
/// else if (inflight * 2 < estimatedLimit) return;          // app-limited: no upward drift
/// else if (queueSize <= threshold) newLimit = estimatedLimit + beta;
/// else if (queueSize < alpha) newLimit = estimatedLimit + log10(L);
/// else if (queueSize > beta) newLimit = estimatedLimit - log10(L);
/// else return;
/// newLimit = max(1, min(maxLimit, newLimit));
/// estimatedLimit = (1 - smoothing) * estimatedLimit + smoothing * newLimit;
/// ```
#[derive(Clone, Debug)]
pub(super) struct Vegas {
    estimated_limit: f64,
    max: u32,
    smoothing: f64,
    probe_multiplier: u32,
    /// The no-load RTT; 0 until the first sample.
    rtt_noload_ns: u64,
    probe_count: u64,
}

/// Netflix `Log10RootIntFunction`: `max(1, (int) log10(n))`. Counted in integers, which is
/// exact; Java's `Math.log10` is exact at powers of ten, so the two agree for every `n`.
fn log10_root(n: u32) -> u32 {
    let mut rest = n;
    let mut digits_after_first = 0;
    while rest >= 10 {
        rest /= 10;
        digits_after_first += 1;
    }
    digits_after_first.max(1)
}

impl Vegas {
    pub(super) fn new(initial: u32, max: u32, smoothing: f64, probe_multiplier: u32) -> Self {
        Vegas {
            estimated_limit: f64::from(initial),
            max,
            smoothing,
            probe_multiplier,
            rtt_noload_ns: 0,
            probe_count: 0,
        }
    }

    pub(super) fn limit(&self) -> u32 {
        // Netflix reports `(int) estimatedLimit`; `as` truncates and saturates the same way.
        self.estimated_limit as u32
    }

    pub(super) fn on_sample(&mut self, rtt: SimDuration, in_flight: u32, dropped: bool) {
        // Java rejects rtt <= 0 with an exception; a simulated service can answer in zero time,
        // which this reads as the smallest measurable RTT.
        let rtt_ns = rtt.as_ns().max(1);
        self.probe_count = self.probe_count.saturating_add(1);
        let probe_at = VEGAS_PROBE_JITTER * f64::from(self.probe_multiplier) * self.estimated_limit;
        if probe_at <= self.probe_count as f64 {
            self.probe_count = 0;
            self.rtt_noload_ns = rtt_ns;
            return;
        }
        if self.rtt_noload_ns == 0 || rtt_ns < self.rtt_noload_ns {
            self.rtt_noload_ns = rtt_ns;
            return;
        }
        self.update_estimated_limit(rtt_ns, in_flight, dropped);
    }

    fn update_estimated_limit(&mut self, rtt_ns: u64, in_flight: u32, dropped: bool) {
        let estimated = self.estimated_limit;
        let queue_size = libm::ceil(estimated * (1.0 - self.rtt_noload_ns as f64 / rtt_ns as f64)) as i64;
        let log10 = log10_root(estimated as u32);
        let new_limit = if dropped {
            estimated - f64::from(log10)
        } else if f64::from(in_flight) * 2.0 < estimated {
            return;
        } else {
            let alpha = i64::from(3 * log10);
            let beta = i64::from(6 * log10);
            let threshold = i64::from(log10);
            if queue_size <= threshold {
                estimated + beta as f64
            } else if queue_size < alpha {
                estimated + f64::from(log10)
            } else if queue_size > beta {
                estimated - f64::from(log10)
            } else {
                return;
            }
        };
        let clamped = f64::max(1.0, f64::min(f64::from(self.max), new_limit));
        self.estimated_limit = (1.0 - self.smoothing) * estimated + self.smoothing * clamped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::limiter::tests::{check, dropped, ok};
    use crate::policy::limiter::LimiterConfig;

    #[test]
    fn log10_root_matches_netflix_lookup() {
        for (n, expected) in [(0, 1), (1, 1), (9, 1), (10, 1), (99, 1), (100, 2), (999, 2), (1_000, 3), (10_000, 4)] {
            assert_eq!(log10_root(n), expected, "log10_root({n})");
        }
    }

    /// Hand-computed from `VegasLimit`: L = 20 so alpha 3, beta 6, threshold 1, steps of 1.
    #[test]
    fn vegas_grows_on_low_queueing_and_shrinks_on_high_queueing_and_drops() {
        check(
            LimiterConfig::netflix_vegas(),
            &[
                ok(10.0, 20, 20),     // first sample only sets rtt_noload = 10 ms
                ok(10.0, 10, 26),     // queue ceil(20 (1 - 10/10)) = 0 <= 1: L + beta = 26
                ok(10.0, 12, 26),     // 12 * 2 < 26: app-limited
                ok(12.0, 26, 26),     // queue ceil(26 * 1/6) = ceil(4.33) = 5 in [alpha, beta]: hold
                ok(20.0, 26, 25),     // queue ceil(26 * 0.5) = 13 > beta: L - 1
                ok(10.5, 25, 26),     // queue ceil(25 * 0.5/10.5) = ceil(1.19) = 2 < alpha: L + 1
                dropped(10.0, 1, 25), // a drop shrinks even when app-limited
                ok(5.0, 25, 25),      // a new minimum only updates rtt_noload = 5 ms
                ok(10.0, 25, 24),     // queue ceil(25 * 0.5) = 13 > 6: L - 1
            ],
        );
    }

    #[test]
    fn vegas_uses_log10_steps_above_100_clamps_and_smooths() {
        // L = 150: log10 2, so beta = 12; growth clamps at max 160.
        let config = LimiterConfig::Vegas { initial: 150, max: 160, smoothing: 1.0, probe_multiplier: 30 };
        check(config, &[ok(10.0, 150, 150), ok(10.0, 150, 160), ok(10.0, 150, 160), dropped(10.0, 150, 158)]);
        // Smoothing 0.5: 20 -> 0.5 * 20 + 0.5 * 26 = 23, then 23 -> 0.5 * 23 + 0.5 * 29 = 26.
        let smoothed = LimiterConfig::Vegas { initial: 20, max: 1000, smoothing: 0.5, probe_multiplier: 30 };
        check(smoothed, &[ok(10.0, 20, 20), ok(10.0, 20, 23), ok(10.0, 20, 26)]);
    }

    /// Every `0.75 * probe_multiplier * L` samples Vegas forgets its no-load RTT and takes the
    /// current one, so a lasting latency shift stops reading as queueing.
    #[test]
    fn vegas_probes_rtt_noload() {
        let config = LimiterConfig::Vegas { initial: 20, max: 1000, smoothing: 1.0, probe_multiplier: 1 };
        check(
            config,
            &[
                ok(10.0, 1, 20),           // sample 1: rtt_noload = 10 ms
                ok(10.0, 1, 20).times(13), // samples 2-14: app-limited
                ok(30.0, 20, 20),          // sample 15 >= 0.75 * 1 * 20: probe, rtt_noload = 30 ms
                ok(30.0, 20, 26),          // queue 0 against the new no-load RTT: + beta
            ],
        );
        // Without the probe the same 30 ms reads as a queue of ceil(20 * 2/3) = 14 > beta.
        let config = LimiterConfig::Vegas { initial: 20, max: 1000, smoothing: 1.0, probe_multiplier: 30 };
        check(config, &[ok(10.0, 1, 20), ok(10.0, 1, 20).times(13), ok(30.0, 20, 19)]);
    }
}

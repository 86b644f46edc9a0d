//! Netflix's Gradient2 concurrency limit: the latest RTT against a long exponential average of RTTs,
//! with a tolerance, a queue allowance and smoothing.
//!
//! Why it matters: comparing with a long average rather than with a minimum lets it follow a slow
//! drift in latency without a probe, and the tolerance lets RTTs up to 1.5 times the average pass
//! without a cut. It ignores drops, as its source does: a service that fails fast without slowing
//! keeps its limit.
//!
//! Source: Netflix concurrency-limits, `Gradient2Limit` and `ExpAvgMeasurement`,
//! <https://github.com/Netflix/concurrency-limits>
//! (`concurrency-limits-core/src/main/java/com/netflix/concurrency/limits/limit/Gradient2Limit.java`).

use crate::time::SimDuration;

/// Samples `Gradient2Limit` averages plainly before switching to the exponential average
/// (`new ExpAvgMeasurement(longWindow, 10)`).
const GRADIENT2_WARMUP_SAMPLES: u32 = 10;

/// Netflix `ExpAvgMeasurement`: the plain mean of the first `warmup` samples, then an
/// exponential average with factor 2 / (window + 1).
#[derive(Clone, Debug)]
struct ExponentialAverage {
    value: f64,
    sum: f64,
    count: u32,
    window: u32,
    warmup: u32,
}

impl ExponentialAverage {
    fn new(window: u32, warmup: u32) -> Self {
        ExponentialAverage { value: 0.0, sum: 0.0, count: 0, window, warmup }
    }

    fn add(&mut self, sample: f64) -> f64 {
        if self.count < self.warmup {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / f64::from(self.count);
        } else {
            let factor = 2.0 / (f64::from(self.window) + 1.0);
            self.value = self.value * (1.0 - factor) + sample * factor;
        }
        self.value
    }
}

/// Netflix `Gradient2Limit` (concurrency-limits-core, `limit/Gradient2Limit.java`, the version
/// with `rttTolerance` and the 0.95 drift correction):
///
/// ```text
/// shortRtt = rtt; longRtt = this.longRtt.add(rtt);
/// if (longRtt / shortRtt > 2) this.longRtt.update(current -> current * 0.95);
/// if (inflight < estimatedLimit / 2) return;                     // app-limited
/// gradient = max(0.5, min(1.0, tolerance * longRtt / shortRtt)); // longRtt before the cut
/// newLimit = estimatedLimit * gradient + queueSize;
/// newLimit = estimatedLimit * (1 - smoothing) + newLimit * smoothing;
/// estimatedLimit = max(minLimit, min(maxLimit, newLimit));
/// ```
#[derive(Clone, Debug)]
pub(super) struct Gradient2 {
    estimated_limit: f64,
    min: u32,
    max: u32,
    smoothing: f64,
    rtt_tolerance: f64,
    queue_size: u32,
    long_rtt: ExponentialAverage,
}

/// How far `Gradient2Limit` cuts the long RTT when it is more than twice the latest RTT.
const GRADIENT2_DRIFT_CUT: f64 = 0.95;

impl Gradient2 {
    pub(super) fn new(
        initial: u32,
        min: u32,
        max: u32,
        smoothing: f64,
        rtt_tolerance: f64,
        long_window: u32,
        queue_size: u32,
    ) -> Self {
        Gradient2 {
            estimated_limit: f64::from(initial),
            min,
            max,
            smoothing,
            rtt_tolerance,
            queue_size,
            long_rtt: ExponentialAverage::new(long_window, GRADIENT2_WARMUP_SAMPLES),
        }
    }

    pub(super) fn limit(&self) -> u32 {
        // Netflix reports `(int) estimatedLimit`; `as` truncates and saturates the same way.
        self.estimated_limit as u32
    }

    pub(super) fn on_sample(&mut self, rtt: SimDuration, in_flight: u32) {
        // A zero RTT would divide by zero (Java would turn the limit into NaN, then 0).
        let short_rtt = rtt.as_ns().max(1) as f64;
        let long_rtt = self.long_rtt.add(short_rtt);
        if long_rtt / short_rtt > 2.0 {
            self.long_rtt.value *= GRADIENT2_DRIFT_CUT;
        }
        let estimated = self.estimated_limit;
        if f64::from(in_flight) < estimated / 2.0 {
            return;
        }
        let gradient = (self.rtt_tolerance * long_rtt / short_rtt).clamp(0.5, 1.0);
        let new_limit = estimated * gradient + f64::from(self.queue_size);
        let smoothed = estimated * (1.0 - self.smoothing) + new_limit * self.smoothing;
        self.estimated_limit = f64::max(f64::from(self.min), f64::min(f64::from(self.max), smoothed));
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::limiter::tests::{check, ok};
    use crate::policy::limiter::{Algorithm, ConcurrencyLimiter, LimiterConfig};
    use crate::prelude::*;
    use crate::time::{SimDuration, SimTime};

    /// Values computed from `Gradient2Limit` with IEEE doubles (each step: long RTT average,
    /// gradient, smoothed limit), from L = 100 with the Netflix defaults otherwise.
    #[test]
    fn gradient2_converges_down_when_rtt_doubles_and_recovers_when_it_returns() {
        let config = LimiterConfig::Gradient2 {
            initial: 100,
            min: 20,
            max: 200,
            smoothing: 0.2,
            rtt_tolerance: 1.5,
            long_window: 600,
            queue_size: 4,
        };
        // RTT 10 ms, the 10 warm-up samples: long RTT = 10 ms, g = 1, so L += 0.2 * 4 each.
        let warm = [100, 101, 102, 103, 104, 104, 105, 106, 107, 108];
        // RTT doubles to 20 ms: g = 1.5 * ~10.0-11.2 / 20 = 0.75-0.84, so about L -> 0.95 L + 0.8
        // (fixed point 16, held at 20); the long RTT creeps up by 2/601 of the gap per sample.
        let slow = [
            103, 99, 95, 91, 87, 84, 81, 78, 75, 73, 70, 68, 66, 64, 62, 60, 58, 56, 55, 54, //
            52, 51, 50, 49, 47, 46, 46, 45, 44, 43, 42, 42, 41, 40, 40, 39, 39, 38, 38, 37,
        ];
        // RTT back to 10 ms: g = 1 again, +0.8 per sample.
        let recovered = [
            38, 39, 40, 41, 41, 42, 43, 44, 45, 45, 46, 47, 48, 49, 49, 50, 51, 52, 53, 53, //
            54, 55, 56, 57, 57, 58, 59, 60, 61, 61, 62, 63, 64, 65, 65, 66, 67, 68, 69, 69,
        ];
        let mut steps = Vec::new();
        steps.extend(warm.map(|limit| ok(10.0, 100, limit)));
        steps.extend(slow.map(|limit| ok(20.0, 100, limit)));
        steps.extend(recovered.map(|limit| ok(10.0, 100, limit)));
        check(config, &steps);
    }

    /// The app-limited rule holds the limit; the tolerance lets an RTT up to 1.5x the long
    /// average pass without a cut; a slower one cuts through the smoothing; max clamps.
    #[test]
    fn gradient2_app_limited_tolerance_and_clamps() {
        check(
            LimiterConfig::netflix_gradient2(),
            &[
                ok(10.0, 9, 20),  // 9 < 20 / 2: app-limited (the long RTT still learns: 10 ms)
                ok(10.0, 10, 20), // g = 1: 0.8 * 20 + 0.2 * (20 + 4) = 20.8
                ok(10.0, 11, 21), // 21.6
                ok(15.0, 11, 22), // long 11.25: 1.5 * 11.25 / 15 = 1.125 -> g = 1: 22.4
                ok(40.0, 22, 21), // long 17: g = 0.6375: 0.8 * 22.4 + 0.2 * (22.4 g + 4) = 21.576
                ok(40.0, 22, 21), // long 20.83: g = 0.78: 21.43
                ok(10.0, 200, 199).times(223),
                ok(10.0, 200, 200), // +0.8 per sample, capped at the max 200
                ok(10.0, 200, 200),
            ],
        );
    }

    /// After a long slow period the long RTT sits far above a recovered RTT; the drift
    /// correction cuts it 5% per sample so the tolerance test works again soon.
    #[test]
    fn gradient2_drift_correction_cuts_an_inflated_long_rtt() {
        let mut limiter = ConcurrencyLimiter::new(LimiterConfig::netflix_gradient2());
        for _ in 0..10 {
            limiter.on_sample(SimTime::ZERO, SimDuration::from_ms(100), 1, false);
        }
        let long_rtt = |limiter: &ConcurrencyLimiter| match &limiter.algorithm {
            Algorithm::Gradient2(gradient2) => gradient2.long_rtt.value,
            _ => f64::NAN,
        };
        assert_eq!(long_rtt(&limiter), 100e6);
        limiter.on_sample(SimTime::ZERO, SimDuration::from_ms(10), 1, false);
        // add: 100 * (1 - 2/601) + 10 * 2/601, then ratio > 2: times 0.95.
        let factor = 2.0 / 601.0;
        let expected = (100e6 * (1.0 - factor) + 10e6 * factor) * 0.95;
        assert_eq!(long_rtt(&limiter), expected);
    }
}

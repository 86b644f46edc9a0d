//! Concurrency limits for a service: a static cap, or an adaptive limit learnt from latency and
//! drops, behind one [`ConcurrencyLimiter`] that the simulator asks before admitting an attempt.
//!
//! Why it matters: a service that admits everything builds a queue it can never drain; every
//! queued attempt then times out at its caller and comes back as a retry. A concurrency limit
//! rejects the excess at once (cheaply, while callers can still go elsewhere), and an adaptive
//! limit finds the right cap from the service's own latency instead of a guess.
//!
//! Each adaptive algorithm has its own file and follows its published source line by line (cited
//! in the file and on its type): Netflix concurrency-limits' `AIMDLimit` (`aimd.rs`), `VegasLimit`
//! (`vegas.rs`) and `Gradient2Limit` (`gradient2.rs`), and Envoy's adaptive concurrency filter,
//! `GradientController` (`envoy_gradient.rs`). Where a source draws a random number (Vegas probe
//! jitter, Envoy minRTT jitter) these files use a fixed value instead, so a run stays a pure
//! function of its inputs; the doc comment of each says which. The static limit and the dispatch
//! are here. A service's token-bucket rate limit is not a concurrency limit: it is
//! [`crate::policy::token_bucket`].
//!
//! Sources: <https://github.com/Netflix/concurrency-limits> (`concurrency-limits-core/src/main/
//! java/com/netflix/concurrency/limits/limit/`), Envoy's
//! <https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/adaptive_concurrency_filter>
//! and `source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc`.
//!
//! The caller's contract, per attempt:
//!
//! ```text
//!   arrival ──admit(in_flight)?──no──> reject at once (503 / 429)
//!                  │ yes: in_flight += 1
//!                  ▼
//!          queue + service ──finish──> in_flight -= 1
//!                                      on_sample(now, rtt, in_flight at admission, dropped)
//! ```
//!
//! Example:
//!
//! ```
//! use stormglass_core::policy::limiter::{ConcurrencyLimiter, LimiterConfig};
//! use stormglass_core::time::{SimDuration, SimTime};
//!
//! let mut limiter = ConcurrencyLimiter::new(LimiterConfig::netflix_aimd());
//! assert_eq!(limiter.limit(), 20);
//! assert!(limiter.admit(19) && !limiter.admit(20));
//! // A fast answer while the limit is well used grows it by one...
//! limiter.on_sample(SimTime(0), SimDuration::from_ms(10), 15, false);
//! assert_eq!(limiter.limit(), 21);
//! // ...and a drop cuts it to floor(0.9 * 21) = 18, held at the minimum of 20.
//! limiter.on_sample(SimTime(0), SimDuration::from_ms(10), 15, true);
//! assert_eq!(limiter.limit(), 20);
//! ```

mod aimd;
mod envoy_gradient;
mod gradient2;
mod vegas;

use crate::time::{SimDuration, SimTime};
use aimd::Aimd;
use envoy_gradient::EnvoyGradient;
use gradient2::Gradient2;
use vegas::Vegas;

/// Which concurrency limit a service applies, with its parameters. The named constructors give
/// the published defaults of each real system.
#[derive(Clone, Debug, PartialEq)]
pub enum LimiterConfig {
    /// A fixed cap on attempts in service + admitted (requests over it are rejected at once).
    Static { limit: u32 },
    /// Netflix `AIMDLimit`: on a drop or an RTT over `timeout`, `L = floor(backoff_ratio * L)`;
    /// otherwise, if in-flight >= L/2, `L += 1`; then clamp to `[min, max]`.
    Aimd { initial: u32, min: u32, max: u32, backoff_ratio: f64, timeout: SimDuration },
    /// Netflix `VegasLimit` (the library's default limit): queue = ceil(L (1 - rtt_noload / rtt));
    /// grow by beta when queue <= threshold, by log10 L when queue < alpha, shrink by log10 L
    /// when queue > beta or on a drop; alpha = 3 log10 L, beta = 6 log10 L, threshold = log10 L
    /// (log10 meaning max(1, floor(log10 L))). rtt_noload is the smallest RTT seen, re-probed
    /// every `probe_multiplier * L * jitter` samples. The limit is clamped to `[1, max]`.
    Vegas { initial: u32, max: u32, smoothing: f64, probe_multiplier: u32 },
    /// Netflix `Gradient2Limit`: g = clamp(rtt_tolerance * long_rtt / rtt, 0.5, 1);
    /// L = (1 - smoothing) L + smoothing (L g + queue_size), clamped to `[min, max]`;
    /// long_rtt an exponential average over `long_window` samples (after a 10-sample plain
    /// average), cut by 5% whenever it is more than twice the latest RTT. No change while the
    /// service is app-limited (in-flight < L/2). Drops are ignored, as in the source.
    Gradient2 {
        initial: u32,
        min: u32,
        max: u32,
        smoothing: f64,
        rtt_tolerance: f64,
        long_window: u32,
        queue_size: u32,
    },
    /// Envoy adaptive concurrency, gradient controller. Every `sample_interval` the RTTs that
    /// finished in it are summarised by their `sample_percentile` (sampleRTT), then
    /// g = clamp(minRTT (1 + min_rtt_buffer_percent / 100) / sampleRTT, 0.5, 2), L' = L g,
    /// limit = floor(L' + sqrt(L')) within `[min_concurrency, max]`. minRTT is the same
    /// percentile of `min_rtt_request_count` RTTs measured with the limit pinned to
    /// `min_concurrency`: at start, every `min_rtt_interval`, and after the limit sat at
    /// `min_concurrency` for 5 windows in a row.
    EnvoyGradient {
        sample_interval: SimDuration,
        sample_percentile: f64,
        min_rtt_interval: SimDuration,
        min_rtt_request_count: u32,
        min_concurrency: u32,
        max: u32,
        min_rtt_buffer_percent: f64,
    },
}

impl LimiterConfig {
    /// `AIMDLimit` builder defaults: initial 20, range [20, 200], backoff ratio 0.9, timeout 5 s.
    pub fn netflix_aimd() -> Self {
        LimiterConfig::Aimd { initial: 20, min: 20, max: 200, backoff_ratio: 0.9, timeout: SimDuration::from_secs(5) }
    }

    /// `VegasLimit` builder defaults: initial 20, max 1000, smoothing 1.0, probe multiplier 30.
    pub fn netflix_vegas() -> Self {
        LimiterConfig::Vegas { initial: 20, max: 1000, smoothing: 1.0, probe_multiplier: 30 }
    }

    /// `Gradient2Limit` builder defaults: initial 20, range [20, 200], smoothing 0.2,
    /// RTT tolerance 1.5, long window 600 samples, queue size 4.
    pub fn netflix_gradient2() -> Self {
        LimiterConfig::Gradient2 {
            initial: 20,
            min: 20,
            max: 200,
            smoothing: 0.2,
            rtt_tolerance: 1.5,
            long_window: 600,
            queue_size: 4,
        }
    }

    /// Envoy's defaults where its API has them (`adaptive_concurrency.proto`): sample percentile
    /// p50, minRTT over 50 requests, min concurrency 3, max 1000, buffer 25%. The two intervals
    /// have no default in Envoy (they are required); these are the values of its documented
    /// example configuration: 100 ms sample windows, minRTT every 60 s. (The same example sets
    /// p90; the API default, used here, is p50.)
    pub fn envoy_gradient() -> Self {
        LimiterConfig::EnvoyGradient {
            sample_interval: SimDuration::from_ms(100),
            sample_percentile: 50.0,
            min_rtt_interval: SimDuration::from_secs(60),
            min_rtt_request_count: 50,
            min_concurrency: 3,
            max: 1000,
            min_rtt_buffer_percent: 25.0,
        }
    }
}

/// A service's concurrency limiter: the current limit, the admission test, and the update
/// from each finished attempt.
#[derive(Clone, Debug)]
pub struct ConcurrencyLimiter {
    algorithm: Algorithm,
}

#[derive(Clone, Debug)]
enum Algorithm {
    Static { limit: u32 },
    Aimd(Aimd),
    Vegas(Vegas),
    Gradient2(Gradient2),
    EnvoyGradient(EnvoyGradient),
}

impl ConcurrencyLimiter {
    /// A limiter in its initial state at time zero (Envoy's starts measuring minRTT at once).
    pub fn new(config: LimiterConfig) -> Self {
        let algorithm = match config {
            LimiterConfig::Static { limit } => Algorithm::Static { limit },
            LimiterConfig::Aimd { initial, min, max, backoff_ratio, timeout } => {
                Algorithm::Aimd(Aimd::new(initial, min, max, backoff_ratio, timeout))
            }
            LimiterConfig::Vegas { initial, max, smoothing, probe_multiplier } => {
                Algorithm::Vegas(Vegas::new(initial, max, smoothing, probe_multiplier))
            }
            LimiterConfig::Gradient2 { initial, min, max, smoothing, rtt_tolerance, long_window, queue_size } => {
                Algorithm::Gradient2(Gradient2::new(
                    initial,
                    min,
                    max,
                    smoothing,
                    rtt_tolerance,
                    long_window,
                    queue_size,
                ))
            }
            LimiterConfig::EnvoyGradient {
                sample_interval,
                sample_percentile,
                min_rtt_interval,
                min_rtt_request_count,
                min_concurrency,
                max,
                min_rtt_buffer_percent,
            } => Algorithm::EnvoyGradient(EnvoyGradient::from_config(
                sample_interval,
                sample_percentile,
                min_rtt_interval,
                min_rtt_request_count,
                min_concurrency,
                max,
                min_rtt_buffer_percent,
            )),
        };
        ConcurrencyLimiter { algorithm }
    }

    /// The current limit (attempts admitted at once).
    pub fn limit(&self) -> u32 {
        match &self.algorithm {
            Algorithm::Static { limit } => *limit,
            Algorithm::Aimd(aimd) => aimd.limit(),
            Algorithm::Vegas(vegas) => vegas.limit(),
            Algorithm::Gradient2(gradient2) => gradient2.limit(),
            Algorithm::EnvoyGradient(envoy) => envoy.limit(),
        }
    }

    /// Should an arrival be admitted, given how many are in flight (admitted, not finished)?
    /// Every source admits while in-flight < limit (Netflix `SimpleLimiter`, Envoy
    /// `forwardingDecision`).
    pub fn admit(&self, in_flight: u32) -> bool {
        in_flight < self.limit()
    }

    /// One completed attempt.
    ///
    /// - `rtt`: its round-trip time inside the service (queue + service).
    /// - `in_flight`: the in-flight count when it was admitted, itself included. That is what
    ///   Netflix's `AbstractLimiter` passes (`inFlight.incrementAndGet()` captured at acquire).
    ///   Envoy does not use it.
    /// - `dropped`: it was shed, timed out or failed for overload. Netflix AIMD and Vegas cut
    ///   the limit on it; Gradient2 ignores it (as its source does); Envoy records no latency
    ///   for it (`cancelLatencySample`: a request without an answer gives no RTT).
    /// - `now`: drives Envoy's sample windows and minRTT schedule (see [`Self::advance`]).
    pub fn on_sample(&mut self, now: SimTime, rtt: SimDuration, in_flight: u32, dropped: bool) {
        match &mut self.algorithm {
            Algorithm::Static { .. } => {}
            Algorithm::Aimd(aimd) => aimd.on_sample(rtt, in_flight, dropped),
            Algorithm::Vegas(vegas) => vegas.on_sample(rtt, in_flight, dropped),
            Algorithm::Gradient2(gradient2) => gradient2.on_sample(rtt, in_flight),
            Algorithm::EnvoyGradient(envoy) => envoy.on_sample(now, rtt, dropped),
        }
    }

    /// Runs the time-driven steps due at or before `now` (Envoy's sample-window ends and minRTT
    /// windows; the other algorithms have none). [`Self::on_sample`] calls it first, so a caller
    /// only needs it to move the limit at the exact instant a timer fires rather than at the
    /// next finished attempt: schedule an event at [`Self::next_timer_at`] and call this.
    pub fn advance(&mut self, now: SimTime) {
        if let Algorithm::EnvoyGradient(envoy) = &mut self.algorithm {
            envoy.advance(now);
        }
    }

    /// When the next time-driven step is due, if any (see [`Self::advance`]).
    pub fn next_timer_at(&self) -> Option<SimTime> {
        match &self.algorithm {
            Algorithm::EnvoyGradient(envoy) => envoy.next_timer_at(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::time::{f64_to_ns, NS_PER_MS};

    /// One step of a worked sequence: a finished attempt (possibly repeated) or a bare
    /// [`ConcurrencyLimiter::advance`], and the limit expected after it.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Step {
        at_ms: u64,
        rtt_ms: f64,
        in_flight: u32,
        dropped: bool,
        times: u32,
        advance_only: bool,
        pub(super) limit: u32,
    }

    /// A finished attempt: its RTT, the in-flight count at its admission, the limit after it.
    pub(super) const fn ok(rtt_ms: f64, in_flight: u32, limit: u32) -> Step {
        Step { at_ms: 0, rtt_ms, in_flight, dropped: false, times: 1, advance_only: false, limit }
    }

    /// A dropped attempt.
    pub(super) const fn dropped(rtt_ms: f64, in_flight: u32, limit: u32) -> Step {
        Step { dropped: true, ..ok(rtt_ms, in_flight, limit) }
    }

    /// Time passes to `at_ms` with no finished attempt.
    pub(super) const fn advance(at_ms: u64, limit: u32) -> Step {
        Step { at_ms, advance_only: true, ..ok(0.0, 0, limit) }
    }

    impl Step {
        pub(super) const fn at(self, at_ms: u64) -> Step {
            Step { at_ms, ..self }
        }
        pub(super) const fn times(self, times: u32) -> Step {
            Step { times, ..self }
        }
    }

    pub(super) fn check(config: LimiterConfig, steps: &[Step]) -> ConcurrencyLimiter {
        let mut limiter = ConcurrencyLimiter::new(config);
        for (index, step) in steps.iter().enumerate() {
            let now = SimTime(step.at_ms * NS_PER_MS);
            if step.advance_only {
                limiter.advance(now);
            } else {
                let rtt = SimDuration(f64_to_ns(step.rtt_ms * NS_PER_MS as f64));
                for _ in 0..step.times {
                    limiter.on_sample(now, rtt, step.in_flight, step.dropped);
                }
            }
            assert_eq!(limiter.limit(), step.limit, "step {index}: {step:?}; limiter {limiter:?}");
            assert!(limiter.admit(step.limit.saturating_sub(1)) || step.limit == 0, "step {index}: admits below");
            assert!(!limiter.admit(step.limit), "step {index}: rejects at the limit");
        }
        limiter
    }

    #[test]
    fn static_limit_never_moves() {
        check(LimiterConfig::Static { limit: 7 }, &[ok(10.0, 7, 7), dropped(10_000.0, 7, 7), advance(1_000, 7)]);
    }

    fn every_config() -> Vec<LimiterConfig> {
        vec![
            LimiterConfig::Static { limit: 10 },
            LimiterConfig::netflix_aimd(),
            LimiterConfig::netflix_vegas(),
            LimiterConfig::netflix_gradient2(),
            LimiterConfig::envoy_gradient(),
        ]
    }

    /// A pseudo-random but fixed load: (now, rtt, in-flight, dropped) for `count` attempts.
    fn load(count: u64) -> impl Iterator<Item = (SimTime, SimDuration, u32, bool)> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..count).map(move |index| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let draw = state >> 33;
            let rtt = SimDuration(NS_PER_MS + draw % (50 * NS_PER_MS));
            (SimTime(index * NS_PER_MS), rtt, (draw % 300) as u32, draw % 97 == 0)
        })
    }

    /// The same calls in the same order give the same limits, for every algorithm.
    #[test]
    fn limits_are_deterministic() {
        for config in every_config() {
            let run = || {
                let mut limiter = ConcurrencyLimiter::new(config.clone());
                load(20_000)
                    .map(|(now, rtt, in_flight, dropped)| {
                        limiter.on_sample(now, rtt, in_flight, dropped);
                        limiter.limit()
                    })
                    .collect::<Vec<u32>>()
            };
            let first = run();
            assert_eq!(first, run(), "{config:?}");
            assert!(first.iter().any(|&limit| limit != first[0]) || matches!(config, LimiterConfig::Static { .. }));
        }
    }

    /// Nonsense parameters and extreme inputs give some limit, never a panic or a hang.
    #[test]
    fn degenerate_configs_do_not_panic() {
        let mut configs = every_config();
        configs.extend([
            LimiterConfig::Static { limit: 0 },
            LimiterConfig::Aimd { initial: 0, min: 50, max: 10, backoff_ratio: f64::NAN, timeout: SimDuration::ZERO },
            LimiterConfig::Vegas { initial: 0, max: 0, smoothing: f64::NAN, probe_multiplier: 0 },
            LimiterConfig::Vegas { initial: u32::MAX, max: u32::MAX, smoothing: 2.0, probe_multiplier: u32::MAX },
            LimiterConfig::Gradient2 {
                initial: 0,
                min: 300,
                max: 1,
                smoothing: -1.0,
                rtt_tolerance: f64::INFINITY,
                long_window: 0,
                queue_size: u32::MAX,
            },
            LimiterConfig::EnvoyGradient {
                sample_interval: SimDuration::ZERO,
                sample_percentile: f64::NAN,
                min_rtt_interval: SimDuration::ZERO,
                min_rtt_request_count: 0,
                min_concurrency: 0,
                max: 0,
                min_rtt_buffer_percent: -5.0,
            },
        ]);
        for config in configs {
            let mut limiter = ConcurrencyLimiter::new(config);
            let extremes = [
                (SimTime::ZERO, SimDuration::ZERO, 0, false),
                (SimTime(1), SimDuration(u64::MAX), u32::MAX, true),
                (SimTime(u64::MAX / 2), SimDuration::ZERO, u32::MAX, false),
                (SimTime::MAX, SimDuration(1), 1, false),
                (SimTime::MAX, SimDuration::ZERO, 0, true),
                (SimTime(5), SimDuration(1), 1, false), // time going backwards
            ];
            for (now, rtt, in_flight, dropped) in extremes.into_iter().chain(load(200)) {
                limiter.on_sample(now, rtt, in_flight, dropped);
                limiter.advance(now);
                let _ = (limiter.limit(), limiter.admit(in_flight), limiter.next_timer_at());
            }
        }
    }
}

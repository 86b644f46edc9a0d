//! Admission control for a service: concurrency limits (static, or adaptive from latency and
//! drops) and token-bucket rate limits.
//!
//! Why it matters: a service that admits everything builds a queue it can never drain; every
//! queued attempt then times out at its caller and comes back as a retry. A concurrency limit
//! rejects the excess at once (cheaply, while callers can still go elsewhere), and an adaptive
//! limit finds the right cap from the service's own latency instead of a guess.
//!
//! Each adaptive algorithm follows its published source line by line (cited on each type):
//! Netflix concurrency-limits (`AIMDLimit`, `VegasLimit`, `Gradient2Limit`) and Envoy's adaptive
//! concurrency filter (`GradientController`). Where a source draws a random number (Vegas probe
//! jitter, Envoy minRTT jitter) this module uses a fixed value instead, so a run stays a pure
//! function of its inputs; the doc comment of each says which.
//!
//! Sources: <https://github.com/Netflix/concurrency-limits> (`concurrency-limits-core/src/main/
//! java/com/netflix/concurrency/limits/limit/`), Envoy's
//! <https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/adaptive_concurrency_filter>
//! and `source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc`,
//! RFC 2697 <https://www.rfc-editor.org/rfc/rfc2697> for the token bucket.
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

use core::fmt;

use crate::metrics::histogram::Histogram;
use crate::time::{SimDuration, SimTime, NS_PER_S};

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
                Algorithm::Aimd(Aimd { limit: initial, min, max, backoff_ratio, timeout })
            }
            LimiterConfig::Vegas { initial, max, smoothing, probe_multiplier } => Algorithm::Vegas(Vegas {
                estimated_limit: f64::from(initial),
                max,
                smoothing,
                probe_multiplier,
                rtt_noload_ns: 0,
                probe_count: 0,
            }),
            LimiterConfig::Gradient2 { initial, min, max, smoothing, rtt_tolerance, long_window, queue_size } => {
                Algorithm::Gradient2(Gradient2 {
                    estimated_limit: f64::from(initial),
                    min,
                    max,
                    smoothing,
                    rtt_tolerance,
                    queue_size,
                    long_rtt: ExponentialAverage::new(long_window, GRADIENT2_WARMUP_SAMPLES),
                })
            }
            LimiterConfig::EnvoyGradient {
                sample_interval,
                sample_percentile,
                min_rtt_interval,
                min_rtt_request_count,
                min_concurrency,
                max,
                min_rtt_buffer_percent,
            } => Algorithm::EnvoyGradient(EnvoyGradient::new(EnvoyParameters {
                sample_interval,
                sample_quantile: sample_percentile.clamp(0.0, 100.0) / 100.0,
                min_rtt_interval,
                min_rtt_request_count,
                min_concurrency,
                max,
                min_rtt_buffer_fraction: min_rtt_buffer_percent.clamp(0.0, 100.0) / 100.0,
            })),
        };
        ConcurrencyLimiter { algorithm }
    }

    /// The current limit (attempts admitted at once).
    pub fn limit(&self) -> u32 {
        match &self.algorithm {
            Algorithm::Static { limit } => *limit,
            Algorithm::Aimd(aimd) => aimd.limit,
            // Netflix reports `(int) estimatedLimit`; `as` truncates and saturates the same way.
            Algorithm::Vegas(vegas) => vegas.estimated_limit as u32,
            Algorithm::Gradient2(gradient2) => gradient2.estimated_limit as u32,
            Algorithm::EnvoyGradient(envoy) => envoy.limit,
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

/// Netflix `AIMDLimit` (concurrency-limits-core, `limit/AIMDLimit.java`, the version with
/// `minLimit`/`maxLimit`):
///
/// ```text
/// if (didDrop || rtt > timeout) currentLimit = (int) (currentLimit * backoffRatio);
/// else if (inflight * 2 >= currentLimit) currentLimit = currentLimit + 1;
/// return Math.min(maxLimit, Math.max(minLimit, currentLimit));
/// ```
#[derive(Clone, Debug)]
struct Aimd {
    limit: u32,
    min: u32,
    max: u32,
    backoff_ratio: f64,
    timeout: SimDuration,
}

impl Aimd {
    fn on_sample(&mut self, rtt: SimDuration, in_flight: u32, dropped: bool) {
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
struct Vegas {
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
    fn on_sample(&mut self, rtt: SimDuration, in_flight: u32, dropped: bool) {
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
struct Gradient2 {
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
    fn on_sample(&mut self, rtt: SimDuration, in_flight: u32) {
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

/// Sample windows in a row that end with the limit at `min_concurrency` before Envoy suspects a
/// stale minRTT and measures it again.
const ENVOY_MIN_CONCURRENCY_WINDOWS_MAX: u32 = 5;

#[derive(Clone, Debug)]
struct EnvoyParameters {
    sample_interval: SimDuration,
    /// The percentile as a fraction in [0, 1].
    sample_quantile: f64,
    min_rtt_interval: SimDuration,
    min_rtt_request_count: u32,
    min_concurrency: u32,
    max: u32,
    min_rtt_buffer_fraction: f64,
}

/// Envoy's adaptive concurrency gradient controller
/// (`source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc`),
/// with Envoy's timers turned into due times that [`EnvoyGradient::advance`] runs in order.
///
/// - It starts inside a minRTT window: limit pinned to `min_concurrency`, the previous limit
///   kept aside (`deferred_limit_value_`), samples from attempts sent before the window began
///   ignored. When `min_rtt_request_count` samples are in, minRTT = their percentile, the limit
///   comes back, the next minRTT window is due after `min_rtt_interval` and the next sample
///   window ends after `sample_interval`.
/// - Outside minRTT windows, each sample window's end summarises its samples (none: no change)
///   and sets the limit from the gradient. Five settings in a row at `min_concurrency` start a
///   minRTT window at once.
///
/// Differences, all deliberate: no jitter on the minRTT interval (Envoy adds a random 0-15%;
/// deterministic runs cannot); percentiles come from this crate's log-linear [`Histogram`]
/// (within 1/64, exact when a window's samples are equal) instead of Envoy's circllhist, and
/// RTTs keep nanoseconds where Envoy truncates to microseconds; a sample window ending at the
/// same instant as a minRTT window starts is summarised first.
#[derive(Clone)]
struct EnvoyGradient {
    parameters: EnvoyParameters,
    limit: u32,
    in_min_rtt_window: bool,
    /// The limit to restore when the minRTT window ends.
    deferred_limit: u32,
    min_rtt: SimDuration,
    samples: Histogram,
    /// Attempts sent before this instant do not count towards the minRTT.
    min_rtt_epoch: SimTime,
    next_sample_window_end: Option<SimTime>,
    next_min_rtt_window: Option<SimTime>,
    min_concurrency_windows: u32,
}

impl fmt::Debug for EnvoyGradient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvoyGradient")
            .field("limit", &self.limit)
            .field("in_min_rtt_window", &self.in_min_rtt_window)
            .field("min_rtt", &self.min_rtt)
            .field("samples", &self.samples.count())
            .field("next_sample_window_end", &self.next_sample_window_end)
            .field("next_min_rtt_window", &self.next_min_rtt_window)
            .finish()
    }
}

impl EnvoyGradient {
    fn new(mut parameters: EnvoyParameters) -> Self {
        // Envoy's API requires both intervals to be positive; a zero one would fire forever.
        parameters.sample_interval = SimDuration(parameters.sample_interval.as_ns().max(1));
        parameters.min_rtt_interval = SimDuration(parameters.min_rtt_interval.as_ns().max(1));
        let min_concurrency = parameters.min_concurrency;
        let mut envoy = EnvoyGradient {
            parameters,
            limit: min_concurrency,
            in_min_rtt_window: false,
            deferred_limit: min_concurrency,
            min_rtt: SimDuration::ZERO,
            samples: Histogram::new(),
            min_rtt_epoch: SimTime::ZERO,
            next_sample_window_end: None,
            next_min_rtt_window: None,
            min_concurrency_windows: 0,
        };
        // The constructor enters a minRTT window, which also holds off the sample timer.
        envoy.enter_min_rtt_window(SimTime::ZERO);
        envoy
    }

    fn next_timer_at(&self) -> Option<SimTime> {
        match (self.next_sample_window_end, self.next_min_rtt_window) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn advance(&mut self, now: SimTime) {
        // Bounded: only the first sample-window end can hold samples (the others are skipped in
        // one step below), and entering a minRTT window stops all timers until samples end it.
        while !self.in_min_rtt_window {
            let window_end = self.next_sample_window_end.filter(|&at| at <= now);
            let min_rtt_window = self.next_min_rtt_window.filter(|&at| at <= now);
            match (window_end, min_rtt_window) {
                (Some(end), probe) if probe.is_none_or(|probe| end <= probe) => {
                    self.end_sample_window(end);
                    // Windows that end before `now` hold no samples: Envoy's timer would find
                    // them empty and change nothing, so skip straight past `now`.
                    let interval = self.parameters.sample_interval.as_ns();
                    let skipped = (now.as_ns().saturating_sub(end.as_ns()) / interval).saturating_add(1);
                    let next = SimTime(end.as_ns().saturating_add(skipped.saturating_mul(interval)));
                    // Only at the end of time can no window end after `now`: then none does.
                    self.next_sample_window_end = (next > now).then_some(next);
                }
                (_, Some(probe)) => self.enter_min_rtt_window(probe),
                _ => break,
            }
        }
    }

    fn on_sample(&mut self, now: SimTime, rtt: SimDuration, dropped: bool) {
        self.advance(now);
        if dropped {
            return;
        }
        let sent_at = SimTime(now.as_ns().saturating_sub(rtt.as_ns()));
        if sent_at < self.min_rtt_epoch {
            return;
        }
        self.samples.record(rtt.as_ns());
        self.update_min_rtt(now);
    }

    /// Envoy `resetSampleWindow` (the sample timer firing outside a minRTT window).
    fn end_sample_window(&mut self, at: SimTime) {
        let Some(sample_rtt_ns) = self.take_percentile() else { return };
        let limit = self.calculate_new_limit(sample_rtt_ns);
        self.update_limit(limit, at);
    }

    /// Envoy `updateMinRTT`, after each recorded sample.
    fn update_min_rtt(&mut self, now: SimTime) {
        if !self.in_min_rtt_window || self.samples.count() < u64::from(self.parameters.min_rtt_request_count) {
            return;
        }
        let Some(min_rtt_ns) = self.take_percentile() else { return };
        self.min_rtt = SimDuration(min_rtt_ns);
        // Still inside the window while restoring, so this does not count as a minimum setting.
        self.update_limit(self.deferred_limit, now);
        self.in_min_rtt_window = false;
        self.next_min_rtt_window = Some(now + self.parameters.min_rtt_interval);
        self.next_sample_window_end = Some(now + self.parameters.sample_interval);
    }

    /// Envoy `enterMinRTTSamplingWindow`.
    fn enter_min_rtt_window(&mut self, at: SimTime) {
        if self.in_min_rtt_window {
            return;
        }
        self.in_min_rtt_window = true;
        self.deferred_limit = self.limit;
        self.update_limit(self.parameters.min_concurrency, at);
        self.samples.clear();
        self.min_rtt_epoch = at;
        // The sample timer gives up while a minRTT window runs; the window's end re-arms both.
        self.next_sample_window_end = None;
        self.next_min_rtt_window = None;
    }

    /// Envoy `processLatencySamplesAndClear`: the configured percentile, then an empty window.
    fn take_percentile(&mut self) -> Option<u64> {
        let percentile = self.samples.quantile(self.parameters.sample_quantile);
        self.samples.clear();
        percentile
    }

    /// Envoy `calculateNewLimit`.
    fn calculate_new_limit(&self, sample_rtt_ns: u64) -> u32 {
        let min_rtt_ns = self.min_rtt.as_ns() as f64;
        let buffered_min_rtt_ns = min_rtt_ns + min_rtt_ns * self.parameters.min_rtt_buffer_fraction;
        // A zero sample RTT gives +inf (or NaN for 0/0); both end at the 2.0 bound, as with
        // C++'s `std::max(0.5, std::min(2.0, raw))`, which `f64::clamp` would not do for NaN.
        let raw_gradient = buffered_min_rtt_ns / sample_rtt_ns as f64;
        #[allow(clippy::manual_clamp)]
        let gradient = f64::max(0.5, f64::min(2.0, raw_gradient));
        let limit = f64::from(self.limit) * gradient;
        let burst_headroom = libm::sqrt(limit);
        let new_limit = (limit + burst_headroom) as u32;
        new_limit.min(self.parameters.max).max(self.parameters.min_concurrency)
    }

    /// Envoy `updateConcurrencyLimit`, including the "stuck at the minimum" minRTT trigger.
    fn update_limit(&mut self, new_limit: u32, at: SimTime) {
        let old_limit = self.limit;
        self.limit = new_limit;
        let minimum = self.parameters.min_concurrency;
        if !self.in_min_rtt_window && old_limit == minimum && new_limit == minimum {
            self.min_concurrency_windows += 1;
        } else {
            self.min_concurrency_windows = 0;
        }
        if self.min_concurrency_windows >= ENVOY_MIN_CONCURRENCY_WINDOWS_MAX {
            self.next_min_rtt_window = Some(at);
        }
    }
}

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
/// use stormglass_core::policy::limiter::TokenBucket;
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
    /// use stormglass_core::policy::limiter::TokenBucket;
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
    use crate::prelude::*;
    use crate::time::{f64_to_ns, NS_PER_MS};

    /// One step of a worked sequence: a finished attempt (possibly repeated) or a bare
    /// [`ConcurrencyLimiter::advance`], and the limit expected after it.
    #[derive(Clone, Copy, Debug)]
    struct Step {
        at_ms: u64,
        rtt_ms: f64,
        in_flight: u32,
        dropped: bool,
        times: u32,
        advance_only: bool,
        limit: u32,
    }

    /// A finished attempt: its RTT, the in-flight count at its admission, the limit after it.
    const fn ok(rtt_ms: f64, in_flight: u32, limit: u32) -> Step {
        Step { at_ms: 0, rtt_ms, in_flight, dropped: false, times: 1, advance_only: false, limit }
    }

    /// A dropped attempt.
    const fn dropped(rtt_ms: f64, in_flight: u32, limit: u32) -> Step {
        Step { dropped: true, ..ok(rtt_ms, in_flight, limit) }
    }

    /// Time passes to `at_ms` with no finished attempt.
    const fn advance(at_ms: u64, limit: u32) -> Step {
        Step { at_ms, advance_only: true, ..ok(0.0, 0, limit) }
    }

    impl Step {
        const fn at(self, at_ms: u64) -> Step {
            Step { at_ms, ..self }
        }
        const fn times(self, times: u32) -> Step {
            Step { times, ..self }
        }
    }

    fn check(config: LimiterConfig, steps: &[Step]) -> ConcurrencyLimiter {
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

    /// Envoy's example-rate windows (100 ms), p50, minRTT over 50 requests, from t = 0.
    #[test]
    fn envoy_gradient_measures_min_rtt_then_follows_the_gradient() {
        check(
            LimiterConfig::envoy_gradient(),
            &[
                advance(0, 3),                    // starts in a minRTT window, pinned to 3
                ok(10.0, 1, 3).at(20).times(49),  // 49 of 50 samples
                ok(10.0, 1, 3).at(20),            // minRTT = 10 ms; limit back to 3
                ok(10.0, 1, 3).at(100).times(10), // window ends at 120 ms
                advance(119, 3),
                advance(120, 5), // g = 12.5/10 = 1.25: 3.75 + sqrt(3.75) = 5.69
                ok(10.0, 1, 5).at(150).times(5),
                advance(220, 8), // 6.25 + 2.5 = 8.75
                ok(10.0, 1, 8).at(250).times(5),
                advance(320, 13), // 10 + 3.16
                ok(25.0, 1, 13).at(350).times(5),
                advance(420, 9), // g = 12.5/25 = 0.5: 6.5 + 2.55 = 9.05
                advance(520, 9), // an empty window changes nothing
                ok(5.0, 1, 9).at(530).times(5),
                advance(620, 22), // g = 2.5, clamped to 2: 18 + 4.24
                ok(10.0, 1, 22).at(700).times(3),
                ok(40.0, 1, 22).at(700).times(2),
                advance(720, 32), // p50 of {10, 10, 10, 40, 40} ~ 10 ms: 27.5 + 5.24
            ],
        );
    }

    #[test]
    fn envoy_gradient_clamps_to_max_and_min_concurrency() {
        let mut steps = vec![ok(10.0, 1, 3).at(20).times(50)];
        // g = 12.5/5 clamped to 2 every window: 3 -> 8 -> 20 -> 46 -> 101 -> 216 -> 452 -> 934 -> 1000.
        for (window, limit) in [8, 20, 46, 101, 216, 452, 934, 1000, 1000].into_iter().enumerate() {
            let end_ms = 120 + 100 * window as u64;
            steps.push(ok(5.0, 1, steps.last().map_or(3, |step| step.limit)).at(end_ms - 50));
            steps.push(advance(end_ms, limit));
        }
        check(LimiterConfig::envoy_gradient(), &steps);
    }

    /// Five windows in a row ending at the minimum re-measure minRTT at once; samples of
    /// attempts sent before a minRTT window began do not count towards it.
    #[test]
    fn envoy_gradient_remeasures_min_rtt_when_stuck_at_minimum_and_on_schedule() {
        let limiter = check(
            LimiterConfig::envoy_gradient(),
            &[
                ok(10.0, 1, 3).at(20).times(50), // minRTT 10 ms; windows end at 120, 220, ...
                ok(25.0, 1, 3).at(100),
                advance(120, 3), // g 0.5: 1.5 + 1.22 -> 2 -> 3; at the minimum 1 time
                ok(25.0, 1, 3).at(200),
                advance(220, 3), // 2
                ok(25.0, 1, 3).at(300),
                advance(320, 3), // 3
                ok(25.0, 1, 3).at(400),
                advance(420, 3), // 4
                ok(25.0, 1, 3).at(500),
                advance(520, 3), // 5: a minRTT window starts at 520 ms
                // Sent at 515 ms, before the window: ignored. Outside a window these fast
                // samples would have raised the limit at 620 ms.
                ok(5.0, 1, 3).at(520),
                ok(5.0, 1, 3).at(530).times(10),
                advance(620, 3),
                ok(5.0, 1, 3).at(630).times(39), // 49 counted
                ok(5.0, 1, 3).at(640),           // 50: minRTT = 5 ms, windows from 740 ms
                ok(5.0, 1, 3).at(700).times(3),
                advance(740, 5), // g = 6.25/5 = 1.25: 3.75 + 1.94
            ],
        );
        assert_eq!(limiter.next_timer_at(), Some(SimTime(840 * NS_PER_MS)));

        // On schedule: minRTT again 60 s after the last measurement ended (at 20 ms).
        let mut steps = vec![ok(10.0, 1, 3).at(20).times(50), ok(10.0, 1, 3).at(100), advance(120, 5)];
        steps.extend([
            advance(60_019, 5),
            advance(60_020, 3),                  // pinned to min_concurrency while measuring
            ok(20.0, 1, 3).at(60_030).times(49), // sent at 60.010 s: before the window, ignored
            ok(20.0, 1, 3).at(60_100).times(49),
            ok(20.0, 1, 5).at(60_100), // 50th: minRTT = 20 ms, the limit of 5 returns
            ok(20.0, 1, 5).at(60_150),
            advance(60_200, 8), // g = 25/20 = 1.25 against the new minRTT
        ]);
        check(LimiterConfig::envoy_gradient(), &steps);
    }

    #[test]
    fn envoy_gradient_ignores_dropped_attempts_and_uses_the_configured_percentile() {
        let p90 = LimiterConfig::EnvoyGradient {
            sample_interval: SimDuration::from_ms(100),
            sample_percentile: 90.0,
            min_rtt_interval: SimDuration::from_secs(60),
            min_rtt_request_count: 5,
            min_concurrency: 3,
            max: 1000,
            min_rtt_buffer_percent: 25.0,
        };
        check(
            p90,
            &[
                dropped(1.0, 1, 3).at(20).times(10), // no answer, no sample: still measuring
                ok(10.0, 1, 3).at(20).times(5),      // minRTT = 10 ms
                ok(10.0, 1, 3).at(50).times(8),
                ok(20.0, 1, 3).at(50).times(2), // p90 of 10 = the 9th: 20 ms
                advance(120, 3),                // g = 12.5/20 = 0.625: 1.875 + 1.37 -> 3
            ],
        );
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

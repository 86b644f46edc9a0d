//! Envoy's adaptive concurrency filter, gradient controller: the limit follows minRTT over a
//! percentile of each sample window's RTTs, and minRTT is measured again and again with the limit
//! pinned to its minimum.
//!
//! Why it matters: every minRTT measurement is a dip to `min_concurrency` that a chart shows, paid
//! once a minute by default and again whenever the limit sits at the minimum; between them the limit
//! moves once per sample window, not per answer, and a request refused over the limit gets a 503 at
//! once.
//!
//! The source adds random jitter to the minRTT interval; this file does not, so a run stays a pure
//! function of its inputs (the type's doc lists every difference).
//!
//! Sources: Envoy, "Adaptive Concurrency",
//! <https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/adaptive_concurrency_filter>,
//! and `source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc`.

use core::fmt;

use crate::metrics::histogram::Histogram;
use crate::time::{SimDuration, SimTime};

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
pub(super) struct EnvoyGradient {
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
    /// A controller from the configured values (percentages as in Envoy's API), at time zero.
    pub(super) fn from_config(
        sample_interval: SimDuration,
        sample_percentile: f64,
        min_rtt_interval: SimDuration,
        min_rtt_request_count: u32,
        min_concurrency: u32,
        max: u32,
        min_rtt_buffer_percent: f64,
    ) -> Self {
        EnvoyGradient::new(EnvoyParameters {
            sample_interval,
            sample_quantile: sample_percentile.clamp(0.0, 100.0) / 100.0,
            min_rtt_interval,
            min_rtt_request_count,
            min_concurrency,
            max,
            min_rtt_buffer_fraction: min_rtt_buffer_percent.clamp(0.0, 100.0) / 100.0,
        })
    }

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

    pub(super) fn limit(&self) -> u32 {
        self.limit
    }

    pub(super) fn next_timer_at(&self) -> Option<SimTime> {
        match (self.next_sample_window_end, self.next_min_rtt_window) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn advance(&mut self, now: SimTime) {
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

    pub(super) fn on_sample(&mut self, now: SimTime, rtt: SimDuration, dropped: bool) {
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

#[cfg(test)]
mod tests {
    use crate::policy::limiter::tests::{advance, check, dropped, ok};
    use crate::policy::limiter::LimiterConfig;
    use crate::prelude::*;
    use crate::time::{SimDuration, SimTime, NS_PER_MS};

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
}

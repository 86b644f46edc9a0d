//! Circuit breakers. A [`CircuitBreaker`] watches the results of calls on one edge; when too many
//! fail it *opens* and fails calls at once for `open_for`, then lets a few trial calls through
//! (*half-open*) and closes or reopens according to how they end.
//!
//! **Why it matters.** A service that is down or drowning gets no relief from clients that keep
//! calling it and waiting out their timeouts; the callers' threads, connections and retry budgets
//! drain too. Failing fast while the breaker is open sheds that load and gives the service room to
//! recover; the cost is requests refused that might have succeeded, and a recovery that is only
//! noticed at the next trial.
//!
//! Two trip rules, with the behaviour of their sources:
//!
//! - `ConsecutiveFailures` (sony/gobreaker, after Nygard's *Release It!*): trips when `threshold`
//!   calls in a row fail. Half-open lets `half_open_trials` calls through; the first failure
//!   reopens, `half_open_trials` successes close.
//! - `FailureRate` (resilience4j, Hystrix): trips when, over a sliding window, at least `min_calls`
//!   calls ended and at least `failure_threshold_percent`% of them failed. Half-open lets
//!   `half_open_trials` calls through in total (not at a time); once min(`min_calls`,
//!   `half_open_trials`) of them have ended, their failure rate reopens (>= threshold) or closes
//!   the breaker with a fresh window (resilience4j `HalfOpenState`). Hystrix is this rule with
//!   one trial: its single trial's success closes and resets, its failure reopens.
//!
//! Where resilience4j and Hystrix differ, the [`BreakerWindow`] says which is which: resilience4j
//! checks the rate after every call over the last N calls (`Calls`) or the last N seconds in
//! one-second buckets (`Time`); Hystrix checks it only when a health snapshot is taken, every
//! 500 ms, over the completed snapshot buckets of its 10 s rolling window (`Snapshots`), so it
//! trips up to one interval late.
//!
//! Rules common to all three sources, kept here:
//! - The breaker leaves `Open` on the first call *strictly after* `until` (resilience4j
//!   `isAfter`, Hystrix `currentTime > openedAt + sleepWindow`, gobreaker `expiry.Before(now)`),
//!   and only when a call asks: [`CircuitBreaker::state`] keeps saying `Open` until then, as
//!   resilience4j (automatic transition off by default) and Hystrix do.
//! - Calls refused by the breaker are not results and are not counted.
//! - A result is credited to the state the breaker is in when it arrives: ignored while `Open`,
//!   counted as a trial while `HalfOpen` even if the call started before the trip (resilience4j
//!   and Hystrix behave so; gobreaker would drop it by generation, which this API, with no call
//!   identity, does not model).
//!
//! **Example** (resilience4j defaults: last 100 calls, at least 100, 50%, open 60 s, 10 trials):
//! 51 successes and 49 failures leave it closed (49%); one more failure pushes the oldest success
//! out of the window, 50 of 100 fail, and it opens until t + 60 s. Calls are refused until then;
//! the first call after opens it half-way, and 10 trial calls go through, the 11th is refused. If
//! 5 of the 10 fail (50%) it reopens for another 60 s; if 4 fail it closes with an empty window.
//!
//! Sources: resilience4j, "CircuitBreaker", <https://resilience4j.readme.io/docs/circuitbreaker>
//! (`CircuitBreakerStateMachine`, `HalfOpenState`); Hystrix, "Configuration" and "How it Works",
//! <https://github.com/Netflix/Hystrix/wiki>; sony/gobreaker, <https://github.com/sony/gobreaker>;
//! Michael Nygard, *Release It!* (Pragmatic Bookshelf, 2007), "Circuit Breaker".

use crate::prelude::*;
use crate::time::{SimDuration, SimTime, NS_PER_MS, NS_PER_S};

/// Longest count window, in calls (memory is one bit per call).
pub const WINDOW_CALLS_MAX: u32 = 100_000;
/// Most buckets in a time window; a longer window gets wider buckets.
pub const WINDOW_BUCKETS_MAX: u64 = 3_600;
/// resilience4j's time window aggregates calls per epoch second.
const TIME_WINDOW_BUCKET: SimDuration = SimDuration(NS_PER_S);

/// When a breaker trips and how it recovers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BreakerConfig {
    /// Trip after `threshold` consecutive failures (a success resets the count); stay open for
    /// `open_for`; then up to `half_open_trials` trial calls: any failure reopens,
    /// `half_open_trials` successes close.
    ConsecutiveFailures { threshold: u32, open_for: SimDuration, half_open_trials: u32 },
    /// Trip when the calls in `window` number at least `min_calls` and at least
    /// `failure_threshold_percent` percent of them failed; stay open for `open_for`; then
    /// `half_open_trials` trial calls, judged by the same percentage once
    /// min(`min_calls`, `half_open_trials`) of them have ended.
    ///
    /// With a `Calls(n)` window the minimum is min(`min_calls`, n), as in resilience4j.
    FailureRate {
        window: BreakerWindow,
        min_calls: u32,
        failure_threshold_percent: f64,
        open_for: SimDuration,
        half_open_trials: u32,
    },
}

/// The sliding window a failure-rate breaker judges, and when it looks at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerWindow {
    /// The last `n` calls, checked after every call (resilience4j `COUNT_BASED`). At most
    /// [`WINDOW_CALLS_MAX`].
    Calls(u32),
    /// Calls that ended in the current second and the seconds before it, back to `window`,
    /// checked after every call (resilience4j `TIME_BASED`: partial aggregations per epoch
    /// second; the window is rounded down to whole seconds, and split in ten below a second).
    Time(SimDuration),
    /// Hystrix's rolling window seen through health snapshots: calls are counted in buckets of
    /// `snapshot_interval` (`metrics.healthSnapshot.intervalInMilliseconds`, 500 ms), and the trip
    /// is checked only when a bucket ends, over the last `window / snapshot_interval` completed
    /// buckets (`metrics.rollingStats.timeInMilliseconds`, 10 s). The error percentage is
    /// truncated to an integer before the comparison, as `HealthCounts` does.
    Snapshots { window: SimDuration, snapshot_interval: SimDuration },
}

impl BreakerConfig {
    /// resilience4j defaults: `COUNT_BASED` window of 100 calls, `minimumNumberOfCalls` 100,
    /// `failureRateThreshold` 50%, `waitDurationInOpenState` 60 s,
    /// `permittedNumberOfCallsInHalfOpenState` 10.
    pub fn resilience4j() -> Self {
        BreakerConfig::FailureRate {
            window: BreakerWindow::Calls(100),
            min_calls: 100,
            failure_threshold_percent: 50.0,
            open_for: SimDuration::from_secs(60),
            half_open_trials: 10,
        }
    }

    /// Hystrix defaults: 10 s rolling window read through 500 ms health snapshots,
    /// `requestVolumeThreshold` 20, `errorThresholdPercentage` 50, `sleepWindowInMilliseconds`
    /// 5000, a single trial call.
    pub fn hystrix() -> Self {
        BreakerConfig::FailureRate {
            window: BreakerWindow::Snapshots {
                window: SimDuration::from_secs(10),
                snapshot_interval: SimDuration(500 * NS_PER_MS),
            },
            min_calls: 20,
            failure_threshold_percent: 50.0,
            open_for: SimDuration::from_secs(5),
            half_open_trials: 1,
        }
    }

    /// sony/gobreaker defaults: trip when consecutive failures exceed 5 (so at the 6th),
    /// `Timeout` 60 s, `MaxRequests` 1.
    pub fn gobreaker() -> Self {
        BreakerConfig::ConsecutiveFailures { threshold: 6, open_for: SimDuration::from_secs(60), half_open_trials: 1 }
    }
}

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through and their results are judged.
    Closed,
    /// Calls fail fast up to and including `until`; the first call after it is a trial.
    Open { until: SimTime },
    /// Trial calls: `trials_allowed` let through so far, and the results back so far.
    HalfOpen { trials_allowed: u32, successes: u32, failures: u32 },
}

/// A circuit breaker for one edge. Call [`Self::allow`] before each call and, for each call it
/// allowed, [`Self::on_result`] when the call ends.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    rule: TripRule,
    open_for: SimDuration,
    /// At least 1 (resilience4j requires it; gobreaker turns 0 into 1).
    half_open_trials: u32,
    state: BreakerState,
    opened_count: u32,
}

#[derive(Clone, Debug)]
enum TripRule {
    Consecutive {
        threshold: u32,
        consecutive_failures: u32,
    },
    Rate {
        window: CallWindow,
        /// Calls the window must hold before it can trip (already min(min_calls, n) for `Calls`).
        min_calls: u32,
        /// Trial results needed before half-open decides: min(min_calls, half_open_trials).
        trial_results_needed: u32,
        threshold_percent: f64,
    },
}

#[derive(Clone, Debug)]
enum CallWindow {
    Calls(CallRing),
    Time(TimeBuckets),
    Snapshots(TimeBuckets),
}

impl CircuitBreaker {
    /// A closed breaker with an empty window.
    pub fn new(config: BreakerConfig) -> Self {
        let (rule, open_for, half_open_trials) = match config {
            BreakerConfig::ConsecutiveFailures { threshold, open_for, half_open_trials } => {
                // A threshold of 0 would trip on a success; one failure is the least that can trip.
                (
                    TripRule::Consecutive { threshold: threshold.max(1), consecutive_failures: 0 },
                    open_for,
                    half_open_trials,
                )
            }
            BreakerConfig::FailureRate { window, min_calls, failure_threshold_percent, open_for, half_open_trials } => {
                // resilience4j `forHalfOpen`: a count window of the permitted calls, so the
                // configured minimum (not the closed window's capped one) capped by the trials.
                let trial_results_needed = min_calls.min(half_open_trials.max(1));
                let (window, min_calls) = match window {
                    BreakerWindow::Calls(calls) => {
                        let ring = CallRing::new(calls);
                        let min_calls = min_calls.min(ring.capacity);
                        (CallWindow::Calls(ring), min_calls)
                    }
                    BreakerWindow::Time(window) => {
                        (CallWindow::Time(TimeBuckets::new(window, TIME_WINDOW_BUCKET)), min_calls)
                    }
                    BreakerWindow::Snapshots { window, snapshot_interval } => {
                        (CallWindow::Snapshots(TimeBuckets::new(window, snapshot_interval)), min_calls)
                    }
                };
                let rule = TripRule::Rate {
                    window,
                    min_calls,
                    trial_results_needed,
                    threshold_percent: failure_threshold_percent,
                };
                (rule, open_for, half_open_trials)
            }
        };
        CircuitBreaker {
            rule,
            open_for,
            half_open_trials: half_open_trials.max(1),
            state: BreakerState::Closed,
            opened_count: 0,
        }
    }

    /// May a call go through at `now`? Closed: yes. Open: no, until a call comes strictly after
    /// `until`, which becomes the first trial. Half-open: yes for the first
    /// `half_open_trials` calls since it became half-open, no after (trials are counted in
    /// total, not in flight: a finished trial does not free a place).
    pub fn allow(&mut self, now: SimTime) -> bool {
        self.take_snapshots(now);
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open { until } => {
                if now > until {
                    self.state = BreakerState::HalfOpen { trials_allowed: 1, successes: 0, failures: 0 };
                    true
                } else {
                    false
                }
            }
            BreakerState::HalfOpen { trials_allowed, successes, failures } => {
                if trials_allowed < self.half_open_trials {
                    self.state = BreakerState::HalfOpen { trials_allowed: trials_allowed + 1, successes, failures };
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A call that [`Self::allow`] let through ended at `now`, successfully or not. What counts
    /// as a failure is the caller's choice (errors and timeouts in both sources).
    pub fn on_result(&mut self, now: SimTime, success: bool) {
        self.take_snapshots(now);
        match self.state {
            BreakerState::Closed => {
                if self.record_closed(now, success) {
                    self.open(now);
                }
            }
            // A call let through before the trip: its result no longer matters.
            BreakerState::Open { .. } => {}
            BreakerState::HalfOpen { trials_allowed, successes, failures } => {
                let (successes, failures) = if success {
                    (successes.saturating_add(1), failures)
                } else {
                    (successes, failures.saturating_add(1))
                };
                self.state = BreakerState::HalfOpen { trials_allowed, successes, failures };
                let reopen = match &self.rule {
                    TripRule::Consecutive { .. } => {
                        if failures > 0 {
                            Some(true)
                        } else {
                            (successes >= self.half_open_trials).then_some(false)
                        }
                    }
                    TripRule::Rate { trial_results_needed, threshold_percent, window, .. } => {
                        let results = successes.saturating_add(failures);
                        (results >= *trial_results_needed)
                            .then(|| meets_threshold(results, failures, *threshold_percent, window.truncates_percent()))
                    }
                };
                match reopen {
                    Some(true) => self.open(now),
                    Some(false) => self.close(),
                    None => {}
                }
            }
        }
    }

    /// The state as of the last call to [`Self::allow`] or [`Self::on_result`].
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// How many times the breaker has opened (tripped from closed or reopened from half-open).
    pub fn opened_count(&self) -> u32 {
        self.opened_count
    }

    /// Records a result while closed; true if the breaker must trip now.
    fn record_closed(&mut self, now: SimTime, success: bool) -> bool {
        match &mut self.rule {
            TripRule::Consecutive { threshold, consecutive_failures } => {
                *consecutive_failures = if success { 0 } else { consecutive_failures.saturating_add(1) };
                *consecutive_failures >= *threshold
            }
            TripRule::Rate { window, min_calls, threshold_percent, .. } => {
                let tally = match window {
                    CallWindow::Calls(ring) => {
                        ring.record(!success);
                        ring.tally()
                    }
                    CallWindow::Time(buckets) => {
                        buckets.add(now, !success);
                        buckets.total
                    }
                    // Hystrix judges only at snapshots (see `take_snapshots`).
                    CallWindow::Snapshots(buckets) => {
                        buckets.add(now, !success);
                        return false;
                    }
                };
                tally.calls >= *min_calls && meets_threshold(tally.calls, tally.failures, *threshold_percent, false)
            }
        }
    }

    /// Hystrix: the health snapshots taken since the last event, each at the end of a bucket,
    /// over the completed buckets. A snapshot can trip the breaker with no new call, when old
    /// successes leave the window; the breaker then opened at the snapshot's time. Bounded: once
    /// the window is empty no later snapshot can trip, so at most one pass over the ring.
    fn take_snapshots(&mut self, now: SimTime) {
        let TripRule::Rate { window: CallWindow::Snapshots(buckets), min_calls, threshold_percent, .. } =
            &mut self.rule
        else {
            return;
        };
        let mut tripped_at = None;
        if self.state == BreakerState::Closed {
            let now_index = buckets.index_of(now);
            while buckets.newest_index < now_index && buckets.total.calls > 0 {
                let total = buckets.total;
                if total.calls >= *min_calls && meets_threshold(total.calls, total.failures, *threshold_percent, true) {
                    tripped_at = Some(buckets.start_of(buckets.newest_index + 1));
                    break;
                }
                buckets.step();
            }
        }
        buckets.advance(now);
        if let Some(at) = tripped_at {
            self.open(at);
        }
    }

    fn open(&mut self, at: SimTime) {
        self.state = BreakerState::Open { until: at + self.open_for };
        self.opened_count = self.opened_count.saturating_add(1);
    }

    /// Closes with a fresh window (resilience4j builds a new `ClosedState`; Hystrix
    /// `resetStream()`).
    fn close(&mut self) {
        self.state = BreakerState::Closed;
        match &mut self.rule {
            TripRule::Consecutive { consecutive_failures, .. } => *consecutive_failures = 0,
            TripRule::Rate { window, .. } => match window {
                CallWindow::Calls(ring) => ring.clear(),
                CallWindow::Time(buckets) | CallWindow::Snapshots(buckets) => buckets.clear(),
            },
        }
    }
}

impl CallWindow {
    fn truncates_percent(&self) -> bool {
        matches!(self, CallWindow::Snapshots(_))
    }
}

/// Whether `failures` of `calls` reach `threshold_percent`. resilience4j compares
/// `failures * 100 / calls` as a float; Hystrix first truncates `failures / calls * 100` to an
/// integer. No calls never trips; a NaN threshold never trips.
fn meets_threshold(calls: u32, failures: u32, threshold_percent: f64, truncate: bool) -> bool {
    if calls == 0 {
        return false;
    }
    let percent = if truncate {
        (f64::from(failures) / f64::from(calls) * 100.0) as u32 as f64
    } else {
        f64::from(failures) * 100.0 / f64::from(calls)
    };
    percent >= threshold_percent
}

/// Calls and failures, in a bucket or a whole window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    calls: u32,
    failures: u32,
}

/// The outcomes of the last `capacity` calls, one bit each (set: failed), as a ring
/// (resilience4j `FixedSizeSlidingWindowMetrics`).
#[derive(Clone, Debug)]
struct CallRing {
    failed_bits: Vec<u64>,
    capacity: u32,
    /// Position the next call is written to.
    next: u32,
    len: u32,
    failures: u32,
}

impl CallRing {
    fn new(capacity: u32) -> Self {
        let capacity = capacity.clamp(1, WINDOW_CALLS_MAX);
        CallRing { failed_bits: vec![0; capacity.div_ceil(64) as usize], capacity, next: 0, len: 0, failures: 0 }
    }

    fn record(&mut self, failed: bool) {
        let mask = 1u64 << (self.next % 64);
        if let Some(word) = self.failed_bits.get_mut((self.next / 64) as usize) {
            if self.len == self.capacity {
                if *word & mask != 0 {
                    self.failures = self.failures.saturating_sub(1);
                }
            } else {
                self.len += 1;
            }
            if failed {
                *word |= mask;
                self.failures += 1;
            } else {
                *word &= !mask;
            }
        }
        self.next = (self.next + 1) % self.capacity;
    }

    fn tally(&self) -> Tally {
        Tally { calls: self.len, failures: self.failures }
    }

    fn clear(&mut self) {
        self.failed_bits.fill(0);
        self.next = 0;
        self.len = 0;
        self.failures = 0;
    }
}

/// Calls and failures over a sliding time window, in a fixed ring of buckets. Bucket `i`
/// covers `[i * width, (i + 1) * width)`; the ring holds the newest bucket and the ones before
/// it. Time never runs backwards in the simulator; if it did, the newest bucket would take
/// the counts.
#[derive(Clone, Debug)]
struct TimeBuckets {
    bucket_width_ns: u64,
    buckets: Vec<Tally>,
    /// Absolute index (`time / width`) of the newest bucket.
    newest_index: u64,
    /// Sum of all buckets in the ring.
    total: Tally,
}

impl TimeBuckets {
    /// Buckets of `bucket_width` covering `window` (rounded down to whole buckets); a window
    /// shorter than one bucket gets ten, and one needing more than [`WINDOW_BUCKETS_MAX`] gets
    /// wider buckets.
    fn new(window: SimDuration, bucket_width: SimDuration) -> Self {
        let window_ns = window.as_ns().max(1);
        let mut bucket_width_ns = bucket_width.as_ns().max(1);
        if window_ns < bucket_width_ns {
            bucket_width_ns = (window_ns / 10).max(1);
        }
        let mut bucket_count = (window_ns / bucket_width_ns).max(1);
        if bucket_count > WINDOW_BUCKETS_MAX {
            bucket_width_ns = window_ns.div_ceil(WINDOW_BUCKETS_MAX);
            bucket_count = (window_ns / bucket_width_ns).max(1);
        }
        TimeBuckets {
            bucket_width_ns,
            buckets: vec![Tally::default(); bucket_count as usize],
            newest_index: 0,
            total: Tally::default(),
        }
    }

    fn index_of(&self, now: SimTime) -> u64 {
        now.as_ns() / self.bucket_width_ns
    }

    /// When bucket `index` starts.
    fn start_of(&self, index: u64) -> SimTime {
        SimTime(index.saturating_mul(self.bucket_width_ns))
    }

    fn slot(&self, index: u64) -> usize {
        (index % self.buckets.len() as u64) as usize
    }

    /// Moves the window forward by one bucket, dropping the oldest.
    fn step(&mut self) {
        self.newest_index += 1;
        let slot = self.slot(self.newest_index);
        if let Some(bucket) = self.buckets.get_mut(slot) {
            self.total.calls = self.total.calls.saturating_sub(bucket.calls);
            self.total.failures = self.total.failures.saturating_sub(bucket.failures);
            *bucket = Tally::default();
        }
    }

    fn advance(&mut self, now: SimTime) {
        let now_index = self.index_of(now);
        let steps = now_index.saturating_sub(self.newest_index).min(self.buckets.len() as u64);
        for _ in 0..steps {
            self.step();
        }
        self.newest_index = self.newest_index.max(now_index);
    }

    fn add(&mut self, now: SimTime, failed: bool) {
        self.advance(now);
        let slot = self.slot(self.newest_index);
        if let Some(bucket) = self.buckets.get_mut(slot) {
            bucket.calls = bucket.calls.saturating_add(1);
            self.total.calls = self.total.calls.saturating_add(1);
            if failed {
                bucket.failures = bucket.failures.saturating_add(1);
                self.total.failures = self.total.failures.saturating_add(1);
            }
        }
    }

    fn clear(&mut self) {
        self.buckets.fill(Tally::default());
        self.total = Tally::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event of a worked sequence.
    #[derive(Clone, Copy, Debug)]
    enum Event {
        /// `allow` must say yes; the call then succeeds.
        Pass,
        /// `allow` must say yes; the call then fails.
        Fail,
        /// `allow` must say yes; the call stays in flight.
        Let,
        /// `allow` must say no.
        Refuse,
        /// A call let through earlier ends: `on_result(success)`.
        Ends(bool),
        /// `state()` must be this.
        Is(BreakerState),
        /// `opened_count()` must be this.
        Opened(u32),
    }
    use BreakerState::{Closed, HalfOpen, Open};
    use Event::*;

    const fn ms(milliseconds: u64) -> u64 {
        milliseconds * NS_PER_MS
    }
    const fn s(seconds: u64) -> u64 {
        seconds * NS_PER_S
    }
    fn open_until(at_ns: u64) -> BreakerState {
        Open { until: SimTime(at_ns) }
    }
    fn half_open(trials_allowed: u32, successes: u32, failures: u32) -> BreakerState {
        HalfOpen { trials_allowed, successes, failures }
    }

    /// Runs `(times, at_ns, event)` steps in order on a fresh breaker, checking every decision.
    fn check(config: BreakerConfig, steps: &[(u32, u64, Event)]) {
        let mut breaker = CircuitBreaker::new(config);
        for (line, &(times, at_ns, event)) in steps.iter().enumerate() {
            let now = SimTime(at_ns);
            for repetition in 0..times {
                let place = format!("{config:?}: step {line} ({event:?} at {at_ns} ns), repetition {repetition}");
                match event {
                    Pass | Fail | Let => {
                        assert!(breaker.allow(now), "{place}: refused in {:?}", breaker.state());
                        if !matches!(event, Let) {
                            breaker.on_result(now, matches!(event, Pass));
                        }
                    }
                    Refuse => assert!(!breaker.allow(now), "{place}: allowed in {:?}", breaker.state()),
                    Ends(success) => breaker.on_result(now, success),
                    Is(expected) => assert_eq!(breaker.state(), expected, "{place}"),
                    Opened(expected) => assert_eq!(breaker.opened_count(), expected, "{place}"),
                }
            }
        }
    }

    #[test]
    fn resilience4j_trips_at_50_percent_of_100_calls_then_probes_with_10() {
        let trip = ms(1);
        let probe = trip + s(60) + 1;
        let second_probe = probe + ms(5) + s(60) + 1;
        check(
            BreakerConfig::resilience4j(),
            &[
                // 49% over a full window: closed.
                (51, 0, Pass),
                (49, 0, Fail),
                (1, 0, Is(Closed)),
                // The oldest success slides out: 50 of 100 fail, exactly the threshold.
                (1, trip, Fail),
                (1, trip, Is(open_until(trip + s(60)))),
                (1, trip, Opened(1)),
                (1, ms(2), Refuse),
                // A call let through before the trip ends while open: ignored.
                (1, ms(3), Ends(false)),
                (1, ms(3), Opened(1)),
                // Still refused at `until` itself; half-open just after.
                (1, trip + s(60), Refuse),
                (1, trip + s(60), Is(open_until(trip + s(60)))),
                (1, probe, Let),
                (1, probe, Is(half_open(1, 0, 0))),
                (9, probe, Let),
                (1, probe, Refuse),
                // 9 results are not enough to decide.
                (5, probe + ms(5), Ends(false)),
                (4, probe + ms(5), Ends(true)),
                (1, probe + ms(5), Is(half_open(10, 4, 5))),
                // A finished trial does not free a place.
                (1, probe + ms(5), Refuse),
                // The 10th: 5 of 10 failed, 50%: reopen.
                (1, probe + ms(5), Ends(true)),
                (1, probe + ms(5), Is(open_until(probe + ms(5) + s(60)))),
                (1, probe + ms(5), Opened(2)),
                // Next probe: 4 of 10 fail, 40%: close.
                (10, second_probe, Let),
                (4, second_probe, Ends(false)),
                (6, second_probe, Ends(true)),
                (1, second_probe, Is(Closed)),
                // With a fresh window: 99 failures are below the 100-call minimum; the 100th trips.
                (99, second_probe, Fail),
                (1, second_probe, Is(Closed)),
                (1, second_probe, Fail),
                (1, second_probe, Opened(3)),
            ],
        );
    }

    /// A count window's minimum is at most its size; half-open decides after
    /// min(minimumNumberOfCalls, permitted) results (resilience4j `CircuitBreakerMetrics`).
    #[test]
    fn resilience4j_minimums_are_capped() {
        let config = BreakerConfig::FailureRate {
            window: BreakerWindow::Calls(4),
            min_calls: 100,
            failure_threshold_percent: 50.0,
            open_for: SimDuration::from_secs(1),
            half_open_trials: 10,
        };
        check(
            config,
            &[
                // min_calls 100 is capped at the window's 4 calls.
                (2, 0, Pass),
                (1, 0, Fail),
                (1, 0, Is(Closed)),
                (1, 0, Fail),
                (1, 0, Is(open_until(s(1)))),
                // Half-open judges min(100, 10) = 10 trials, not the closed window's 4.
                (10, s(1) + 1, Let),
                (4, s(1) + 1, Ends(false)),
                (1, s(1) + 1, Is(half_open(10, 0, 4))),
                (6, s(1) + 1, Ends(true)),
                (1, s(1) + 1, Is(Closed)),
            ],
        );
        let config = BreakerConfig::FailureRate {
            window: BreakerWindow::Calls(10),
            min_calls: 4,
            failure_threshold_percent: 50.0,
            open_for: SimDuration::from_secs(1),
            half_open_trials: 10,
        };
        check(
            config,
            &[
                (2, 0, Pass),
                (2, 0, Fail),
                (1, 0, Is(open_until(s(1)))),
                (10, s(1) + 1, Let),
                (3, s(1) + 1, Ends(true)),
                (1, s(1) + 1, Is(half_open(10, 3, 0))),
                // The 4th result decides: 1 of 4 failed, 25%: closed.
                (1, s(1) + 1, Ends(false)),
                (1, s(1) + 1, Is(Closed)),
            ],
        );
    }

    /// resilience4j TIME_BASED: the rate is checked after every call over one-second buckets,
    /// and calls older than the window are forgotten.
    #[test]
    fn time_window_checks_every_call_and_forgets() {
        let config = BreakerConfig::FailureRate {
            window: BreakerWindow::Time(SimDuration::from_secs(10)),
            min_calls: 5,
            failure_threshold_percent: 50.0,
            open_for: SimDuration::from_secs(1),
            half_open_trials: 2,
        };
        // At 10 s the failures of second 0 have left the window: 1 call, below the minimum.
        check(
            config,
            &[(4, 0, Fail), (1, s(10), Fail), (1, s(10), Is(Closed)), (4, s(10), Pass), (1, s(10), Is(Closed))],
        );
        let last = ms(9_999);
        check(
            config,
            &[
                (4, 0, Fail),
                // Still in the window at 9.999 s: 5 calls, all failed, trips at once.
                (1, last, Fail),
                (1, last, Is(open_until(last + s(1)))),
                (2, last + s(1) + 1, Let),
                (1, last + s(1) + 1, Refuse),
                (1, last + s(1) + 1, Ends(true)),
                (1, last + s(1) + 1, Is(half_open(2, 1, 0))),
                // 1 of 2 failed, 50%: reopen.
                (1, last + s(2), Ends(false)),
                (1, last + s(2), Is(open_until(last + s(3)))),
                (1, last + s(2), Opened(2)),
            ],
        );
    }

    #[test]
    fn hystrix_needs_20_requests_trips_at_a_snapshot_and_probes_once() {
        check(
            BreakerConfig::hystrix(),
            &[
                // 100% errors but 19 requests: the snapshots at 0.5 s and 1 s do not trip.
                (19, 0, Fail),
                (1, ms(1_000), Let),
                (1, ms(1_000), Is(Closed)),
                // The 20th error; the breaker only looks at the next snapshot, at 1.5 s.
                (1, ms(1_200), Fail),
                (1, ms(1_499), Let),
                (1, ms(1_500), Refuse),
                (1, ms(1_500), Is(open_until(ms(6_500)))),
                // 5 s sleep window, then one trial and no more.
                (1, ms(6_500), Refuse),
                (1, ms(6_500) + 1, Let),
                (1, ms(6_500) + 1, Is(half_open(1, 0, 0))),
                (1, ms(6_500) + 1, Refuse),
                // The trial fails: another sleep window from now.
                (1, ms(7_000), Ends(false)),
                (1, ms(7_000), Is(open_until(ms(12_000)))),
                (1, ms(7_000), Opened(2)),
                // The next trial succeeds: closed, the rolling window reset.
                (1, ms(12_000) + 1, Let),
                (1, ms(12_100), Ends(true)),
                (1, ms(12_100), Is(Closed)),
                (19, ms(12_100), Fail),
                (1, ms(20_000), Let),
                (1, ms(20_000), Is(Closed)),
                (1, ms(20_000), Opened(2)),
            ],
        );
    }

    /// Old calls leave Hystrix's window: a snapshot can trip the breaker with no new call, when
    /// old successes leave; and old failures no longer count.
    #[test]
    fn hystrix_window_forgets_old_calls() {
        check(
            BreakerConfig::hystrix(),
            &[
                (21, 0, Pass),
                // 20 of 41 is 48.8%, truncated 48: below 50.
                (20, s(6), Fail),
                (1, ms(7_000), Let),
                (1, ms(10_499), Let),
                (1, ms(10_499), Is(Closed)),
                // The snapshot at 10.5 s no longer sees second 0: 20 of 20 failed.
                (1, ms(12_000), Refuse),
                (1, ms(12_000), Is(open_until(ms(15_500)))),
            ],
        );
        check(
            BreakerConfig::hystrix(),
            &[
                (15, 0, Fail),
                // The snapshot at 11 s covers 1 s to 11 s: only these 10.
                (10, ms(10_500), Fail),
                (1, ms(11_500), Let),
                (1, ms(11_500), Is(Closed)),
            ],
        );
        check(
            BreakerConfig::hystrix(),
            &[
                (15, s(9), Fail),
                (10, s(10), Fail),
                // The snapshot at 10.5 s covers 0.5 s to 10.5 s: 25 requests, all errors.
                (1, ms(10_500), Refuse),
                (1, ms(10_500), Is(open_until(ms(15_500)))),
            ],
        );
    }

    /// Hystrix truncates the error percentage: 57 of 100 is 0.57 * 100 = 56.99..., so 56%, below
    /// a 57% threshold; resilience4j's 57 * 100 / 100 is 57 exactly and trips.
    #[test]
    fn hystrix_truncates_the_error_percentage() {
        let config = BreakerConfig::FailureRate {
            window: BreakerWindow::Snapshots {
                window: SimDuration::from_secs(10),
                snapshot_interval: SimDuration::from_ms(500),
            },
            min_calls: 20,
            failure_threshold_percent: 57.0,
            open_for: SimDuration::from_secs(5),
            half_open_trials: 1,
        };
        check(config, &[(43, 0, Pass), (57, 0, Fail), (1, s(1), Let), (1, s(1), Is(Closed))]);
        let config = BreakerConfig::FailureRate {
            window: BreakerWindow::Calls(100),
            min_calls: 20,
            failure_threshold_percent: 57.0,
            open_for: SimDuration::from_secs(5),
            half_open_trials: 1,
        };
        check(config, &[(43, 0, Pass), (57, 0, Fail), (1, 0, Is(open_until(s(5))))]);
    }

    #[test]
    fn consecutive_failures() {
        let config = BreakerConfig::ConsecutiveFailures {
            threshold: 3,
            open_for: SimDuration::from_secs(10),
            half_open_trials: 2,
        };
        check(
            config,
            &[
                // A success resets the count.
                (2, 0, Fail),
                (1, 0, Pass),
                (2, 0, Fail),
                (1, 0, Is(Closed)),
                // The third in a row trips.
                (1, s(1), Fail),
                (1, s(1), Is(open_until(s(11)))),
                (1, s(11), Refuse),
                (2, s(11) + 1, Let),
                (1, s(11) + 1, Refuse),
                // One success is not enough; the first failure reopens.
                (1, s(12), Ends(true)),
                (1, s(12), Is(half_open(2, 1, 0))),
                (1, s(12), Ends(false)),
                (1, s(12), Is(open_until(s(22)))),
                (1, s(12), Opened(2)),
                // Two successes close, and the count starts again.
                (2, s(22) + 1, Let),
                (2, s(23), Ends(true)),
                (1, s(23), Is(Closed)),
                (2, s(23), Fail),
                (1, s(23), Is(Closed)),
                (1, s(23), Fail),
                (1, s(23), Opened(3)),
            ],
        );
        // gobreaker: more than 5 consecutive failures, so the 6th trips.
        check(
            BreakerConfig::gobreaker(),
            &[
                (5, 0, Fail),
                (1, 0, Is(Closed)),
                (1, 0, Fail),
                (1, 0, Is(open_until(s(60)))),
                (1, s(60) + 1, Let),
                (1, s(60) + 1, Refuse),
            ],
        );
    }

    /// The same calls give the same states.
    #[test]
    fn decisions_are_deterministic() {
        let run = || {
            let mut breaker = CircuitBreaker::new(BreakerConfig::hystrix());
            (0..20_000u64)
                .map(|index| {
                    let now = SimTime(index * ms(7));
                    let allowed = breaker.allow(now);
                    if allowed {
                        breaker.on_result(now, index % 7 < 3 || (index / 1_000) % 3 == 0);
                    }
                    (allowed, breaker.state())
                })
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().any(|(allowed, _)| !allowed), "the sequence should trip the breaker");
    }

    /// Nonsense parameters never panic.
    #[test]
    fn degenerate_configs_do_not_panic() {
        let windows = [
            BreakerWindow::Calls(0),
            BreakerWindow::Calls(u32::MAX),
            BreakerWindow::Time(SimDuration::ZERO),
            BreakerWindow::Time(SimDuration(u64::MAX)),
            BreakerWindow::Snapshots { window: SimDuration::ZERO, snapshot_interval: SimDuration::ZERO },
            BreakerWindow::Snapshots { window: SimDuration(u64::MAX), snapshot_interval: SimDuration(1) },
        ];
        let mut configs: Vec<BreakerConfig> = windows
            .iter()
            .flat_map(|&window| {
                [f64::NAN, 0.0, 100.0, -1.0].map(|failure_threshold_percent| BreakerConfig::FailureRate {
                    window,
                    min_calls: 0,
                    failure_threshold_percent,
                    open_for: SimDuration(u64::MAX),
                    half_open_trials: 0,
                })
            })
            .collect();
        configs.push(BreakerConfig::ConsecutiveFailures {
            threshold: 0,
            open_for: SimDuration::ZERO,
            half_open_trials: 0,
        });
        for config in configs {
            let mut breaker = CircuitBreaker::new(config);
            for index in 0..300u64 {
                let now = SimTime(index.saturating_mul(u64::MAX / 200));
                if breaker.allow(now) {
                    breaker.on_result(now, index % 3 == 0);
                }
                breaker.on_result(now, false);
            }
        }
    }
}

//! Load balancing over the hosts of one pool: which host gets the next attempt, and which hosts
//! are out of rotation because they keep failing.
//!
//! - Picks ([`PickPolicy`]): round robin; uniform random; least outstanding (a full scan);
//!   power of two choices (two distinct random hosts, the less busy one wins); and Finagle's peak
//!   EWMA (power of two choices on cost = peak-sensitive latency average × (outstanding + 1)).
//! - Ejection ([`OutlierConfig`]): Envoy's consecutive-5xx outlier detection, with its growing
//!   ejection time, its cap on the share of the pool ejected at once, and the load balancer's
//!   panic threshold for a pool with too few healthy hosts left.
//!
//! Why it matters: a balancer blind to load keeps sending a slow replica its 1/n share, so the
//! queue there grows without bound while the others idle. Sampling just two hosts and taking the
//! less loaded one already avoids most of it: for n balls in n bins the fullest bin drops from
//! Θ(log n / log log n) to Θ(log log n) (Azar, Broder, Karlin, Upfal 1994), and for queues the
//! waiting time improves exponentially (Mitzenmacher, "The Power of Two Choices in Randomized Load
//! Balancing", 2001). Adding latency (peak EWMA) also steers away from a host that is slow but not
//! yet backed up. Ejection takes a failing host out so that retries stop
//! landing on it, while the percentage cap keeps a correlated failure from emptying the pool. With
//! Envoy's defaults (10%) a pool of fewer than 10 hosts never ejects anything: a real surprise
//! worth being able to show.
//!
//! The balancer is a plain state machine: the simulator calls [`Balancer::pick`] before each
//! attempt, [`Balancer::on_send`] when the attempt leaves, and [`Balancer::on_result`] exactly once
//! when it ends (answer or timeout). Time is passed in and must not go backwards; randomness comes
//! from the caller's stream, one draw per pick for the random policies, none for round robin.
//!
//! ```
//! use stormglass_core::policy::balancer::{Balancer, HostOutcome, OutlierConfig, PickPolicy};
//! use stormglass_core::rng::Stream;
//! use stormglass_core::time::{SimDuration, SimTime};
//!
//! let mut balancer = Balancer::new(PickPolicy::PowerOfTwoChoices, 10, Some(OutlierConfig::envoy()));
//! let mut stream = Stream::new(42, 7);
//! let now = SimTime::ZERO;
//! if let Some(host) = balancer.pick(now, &mut stream) {
//!     balancer.on_send(host);
//!     assert_eq!(balancer.outstanding(host), 1);
//!     let latency = SimDuration::from_ms(12);
//!     balancer.on_result(now + latency, host, latency, HostOutcome::Success);
//!     assert_eq!(balancer.outstanding(host), 0);
//! }
//!
//! // Five errors in a row from host 3 eject it for 30 s (Envoy's consecutive_5xx).
//! let later = now + SimDuration::from_secs(1);
//! for _ in 0..5 {
//!     balancer.on_send(3);
//!     balancer.on_result(later, 3, SimDuration::from_ms(1), HostOutcome::Error);
//! }
//! assert!(balancer.is_ejected(later, 3));
//! assert!(!balancer.is_ejected(later + SimDuration::from_secs(30), 3));
//! assert_eq!(balancer.ejections(), 1);
//! ```
//!
//! Sources: Envoy, "Outlier detection",
//! <https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier> (and the
//! sources cited on [`OutlierConfig`]); Finagle's load balancers, `Balancers`,
//! <https://twitter.github.io/finagle/docs/com/twitter/finagle/loadbalancer/Balancers$.html>, and
//! Linkerd, "Beyond Round Robin: Load Balancing for Latency" (2016),
//! <https://linkerd.io/2016/03/16/beyond-round-robin-load-balancing-for-latency> for peak EWMA;
//! Azar, Broder, Karlin and Upfal, "Balanced Allocations" (STOC 1994), and Mitzenmacher, "The
//! Power of Two Choices in Randomized Load Balancing" (IEEE TPDS, 2001).

use crate::prelude::*;
use crate::rng::Stream;
use crate::time::{SimDuration, SimTime};

/// The largest pool a [`Balancer`] tracks; [`Balancer::new`] clamps `host_count` to it so that
/// memory and the O(n) scans stay bounded (and so that `n * (n - 1)` fits the one-draw pair pick).
pub const HOSTS_MAX: u32 = 1 << 16;

/// Finagle's default decay time for peak EWMA (`Balancers.p2cPeakEwma(decayTime = 10.seconds)`).
pub const FINAGLE_PEAK_EWMA_DECAY: SimDuration = SimDuration::from_secs(10);

/// Finagle's cost for a host with requests in flight but no latency sample yet: `Long.MaxValue >> 16`
/// nanoseconds (about 39 hours), plus the number outstanding. Large enough that a measured host is
/// preferred, finite so that two unmeasured hosts still compare by load.
const PEAK_EWMA_PENALTY_NS: f64 = (i64::MAX >> 16) as f64;

/// How the next host is chosen among those not ejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickPolicy {
    /// Hosts in index order from host 0, skipping ejected hosts without reshuffling the order.
    /// Draws no randomness.
    RoundRobin,
    /// Uniformly at random among available hosts.
    Random,
    /// The host with the fewest attempts outstanding (a full scan); ties are broken uniformly at
    /// random. Lowest-index tie-breaking would send every request to host 0 while the pool is idle,
    /// a herd that real least-connection balancers avoid (nginx and HAProxy rotate among equals).
    /// Note that Envoy's LEAST_REQUEST with equal weights is instead [`Self::PowerOfTwoChoices`].
    LeastOutstanding,
    /// Two distinct hosts drawn uniformly at random; the one with fewer outstanding attempts wins,
    /// the first drawn on a tie (Mitzenmacher, "The Power of Two Choices in Randomized Load
    /// Balancing", IEEE TPDS 12(10), 2001; Finagle's `P2CPick`).
    PowerOfTwoChoices,
    /// Finagle's peak EWMA (`finagle-core/.../loadbalancer/PeakEwma.scala`) with P2C: of two
    /// distinct random hosts, the one with the lower cost = `ewma_rtt * (outstanding + 1)` wins.
    ///
    /// The average jumps straight to a sample above it ("peak") and otherwise moves toward the
    /// sample with weight `1 - w`, `w = exp(-elapsed / decay)`, where `elapsed` is the time since
    /// the host's average was last touched. Reading a cost also decays the average toward zero
    /// over the elapsed time, as Finagle's `Metric.get()` does with `observe(0.0)`, so a host
    /// avoided after a latency spike looks cheaper and cheaper until it is tried again.
    /// An unsampled host costs 0 when idle (so it gets probed) and a large penalty plus its
    /// outstanding count once a request is in flight to it (so it is not flooded before its first
    /// answer), exactly as in Finagle.
    PeakEwma {
        /// The time constant of the average (Finagle's `decayTime`; default 10 s). Zero is
        /// treated as 1 ns: no memory.
        decay: SimDuration,
    },
}

impl PickPolicy {
    /// Peak EWMA with Finagle's default decay time, 10 s.
    pub const fn finagle_peak_ewma() -> PickPolicy {
        PickPolicy::PeakEwma { decay: FINAGLE_PEAK_EWMA_DECAY }
    }

    /// Whether a pick draws a random number (exactly one per pick when it does).
    fn is_randomized(self) -> bool {
        !matches!(self, PickPolicy::RoundRobin)
    }
}

/// Envoy's outlier detection, consecutive-5xx type, plus the load balancer's panic threshold.
///
/// Sources: the outlier detection architecture overview and `OutlierDetection` proto docs, and
/// `source/common/upstream/outlier_detection_impl.cc` (`ejectHost`, `checkHostForUneject`,
/// `onIntervalTimer`). The reading, where the prose and the code differ, follows the code:
///
/// - A host is ejected when its consecutive error count reaches `consecutive_errors`; the count
///   resets on any success, after every detection (even one the cap refuses), and when the host
///   returns. Results that arrive while the host is ejected are ignored, as Envoy ignores a
///   detection for a host already ejected (and then clears its counters when it returns).
/// - Ejection time = min(`base_ejection` × multiplier, `max_ejection`). The multiplier rises by
///   one per ejection while `multiplier × base < max + base` (so it tops out one step past the
///   cap), and falls by one for each full `interval` the host has stayed healthy since it last
///   returned. Hence 30 s, 60 s, 90 s … 300 s for a host that fails again as soon as it is back,
///   but 30 s again for one that stayed healthy for the length of the backoff.
/// - Cap: a new ejection happens only if `100 × (ejected + 1) / host_count ≤ max_ejection_percent`
///   (the share *after* ejecting, since Envoy PR #27909, 2023). So 10% allows one ejection in a
///   pool of 10–19 hosts and none below 10. Older Envoy always allowed the first ejection, as the
///   docs long said; since PR #34796 (2024) that is the opt-in `always_eject_one_host`.
/// - Ejections end exactly when their time has passed. Envoy notices only at its next
///   `interval` sweep (up to 10 s later); ending on time keeps results independent of the sweep
///   phase. `max_ejection_time_jitter` (default 0) is not modelled.
/// - Panic (Envoy's `healthy_panic_threshold`, cluster-wide in `common_lb_config`): when
///   `100 × available / host_count < panic_threshold_percent`, picks ignore ejection and use every
///   host. With the 10% cap this never triggers at the defaults; it does when the cap is raised or
///   `always_eject_one_host` ejects the only host of a pool. A pool with no available host and no
///   panic (threshold 0) picks nothing: Envoy's "no healthy upstream".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutlierConfig {
    /// Errors in a row that eject a host (Envoy `consecutive_5xx`, default 5). Zero never ejects.
    pub consecutive_errors: u32,
    /// Ejection time of a first ejection (Envoy `base_ejection_time`, default 30 s).
    pub base_ejection: SimDuration,
    /// Longest ejection (Envoy `max_ejection_time`, default 300 s).
    pub max_ejection: SimDuration,
    /// Most of the pool that may be ejected at once, in percent (Envoy default 10).
    pub max_ejection_percent: f64,
    /// Allow one ejection even when the percentage forbids it (Envoy `always_eject_one_host`,
    /// default false).
    pub always_eject_one_host: bool,
    /// Each full interval a returned host stays healthy takes one step off its ejection multiplier
    /// (Envoy `interval`, default 10 s). Zero keeps the multiplier from ever falling.
    pub interval: SimDuration,
    /// Below this share of available hosts, in percent, picks use every host (Envoy
    /// `healthy_panic_threshold`, default 50).
    pub panic_threshold_percent: f64,
}

impl OutlierConfig {
    /// Envoy's defaults: eject after 5 consecutive errors for 30 s × ejections (at most 300 s),
    /// at most 10% of the pool, multiplier decay every 10 s, panic below 50% healthy.
    pub const fn envoy() -> OutlierConfig {
        OutlierConfig {
            consecutive_errors: 5,
            base_ejection: SimDuration::from_secs(30),
            max_ejection: SimDuration::from_secs(300),
            max_ejection_percent: 10.0,
            always_eject_one_host: false,
            interval: SimDuration::from_secs(10),
            panic_threshold_percent: 50.0,
        }
    }
}

/// How an attempt to a host ended, as outlier detection counts it.
///
/// Envoy's consecutive_5xx, under the default `split_external_local_origin_errors: false`, counts
/// server 5xx answers and locally originated failures alike: the router reports a per-try timeout
/// as `LocalOriginTimeout` with code 504, and the detector maps it to that 5xx
/// (`putResultNoLocalExternalSplit`). So both [`HostOutcome::Error`] and [`HostOutcome::Timeout`]
/// add one to the consecutive count, and only [`HostOutcome::Success`] resets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOutcome {
    /// An answer that is not a server error (2xx-like): resets the consecutive error count.
    Success,
    /// A server error answer (5xx-like): counts toward ejection.
    Error,
    /// No answer in time (the attempt timed out, or the connection failed): counts toward
    /// ejection, as a 504.
    Timeout,
}

/// What the balancer knows about one host.
#[derive(Clone, Copy, Debug, Default)]
struct HostState {
    /// Attempts sent and not yet ended.
    outstanding: u32,
    /// Errors and timeouts since the last success, detection or return (Envoy `consecutive_5xx_`).
    errors_consecutive: u32,
    /// End of the current ejection; `Some` until the balancer notices it has passed.
    ejected_until: Option<SimTime>,
    /// Envoy's `ejectTimeBackoff`: the ejection time is `base_ejection ×` this.
    ejection_multiplier: u32,
    /// When the host last came back from an ejection, until its next ejection applies the decay.
    returned_at: Option<SimTime>,
    /// Peak EWMA of round-trip time, in nanoseconds (Finagle's `cost`); 0 before any sample.
    ewma_rtt_ns: f64,
    /// When `ewma_rtt_ns` was last updated or decayed (Finagle's `stamp`).
    ewma_stamp: SimTime,
}

impl HostState {
    fn is_ejected(&self, now: SimTime) -> bool {
        self.ejected_until.is_some_and(|until| now < until)
    }

    /// Finagle's `observe(rtt)`: decay over the time since the last update, jump up to a peak.
    fn observe_rtt(&mut self, now: SimTime, rtt_ns: f64, decay: SimDuration) {
        let elapsed_ns = now.since(self.ewma_stamp).as_ns() as f64;
        let tau_ns = decay.as_ns().max(1) as f64;
        let weight = libm::exp(-elapsed_ns / tau_ns);
        if rtt_ns > self.ewma_rtt_ns {
            self.ewma_rtt_ns = rtt_ns;
        } else {
            self.ewma_rtt_ns = self.ewma_rtt_ns * weight + rtt_ns * (1.0 - weight);
        }
        self.ewma_stamp = self.ewma_stamp.max(now);
    }

    /// Finagle's `Metric.get()`: decay to `now`, then the cost of sending one more request.
    fn peak_ewma_cost(&mut self, now: SimTime, decay: SimDuration) -> f64 {
        self.observe_rtt(now, 0.0, decay);
        let outstanding = f64::from(self.outstanding);
        if self.ewma_rtt_ns == 0.0 && self.outstanding != 0 {
            PEAK_EWMA_PENALTY_NS + outstanding
        } else {
            self.ewma_rtt_ns * (outstanding + 1.0)
        }
    }
}

/// The hosts a pick chooses among: every host (no ejection, or panic) or the available ones.
#[derive(Clone, Copy)]
enum Candidates<'a> {
    All(u32),
    Only(&'a [u32]),
}

impl Candidates<'_> {
    fn count(self) -> u32 {
        match self {
            Candidates::All(count) => count,
            // `available` never holds more than HOSTS_MAX entries.
            Candidates::Only(hosts) => hosts.len() as u32,
        }
    }

    /// The host at `index`, which must be below `count()` (host 0 otherwise, never a panic).
    fn get(self, index: u32) -> u32 {
        match self {
            Candidates::All(_) => index,
            Candidates::Only(hosts) => hosts.get(index as usize).copied().unwrap_or(0),
        }
    }
}

/// A uniform index in [0, count) from one 64-bit draw, by widening multiply (no modulo bias
/// beyond count / 2^64).
fn scale(draw: u64, count: u64) -> u64 {
    ((u128::from(draw) * u128::from(count)) >> 64) as u64
}

/// Two distinct candidates, uniformly over ordered pairs, from one draw: an index into the
/// `count × (count - 1)` pairs, split into the first pick and the second among the rest (Finagle
/// skips the first pick's slot the same way). With one candidate, that one twice.
fn distinct_pair(candidates: Candidates<'_>, draw: u64) -> (u32, u32) {
    let count = u64::from(candidates.count());
    if count < 2 {
        let only = candidates.get(0);
        return (only, only);
    }
    let pair_index = scale(draw, count * (count - 1));
    let first = pair_index / (count - 1);
    let mut second = pair_index % (count - 1);
    if second >= first {
        second += 1;
    }
    // Both are below `count` <= HOSTS_MAX.
    (candidates.get(first as u32), candidates.get(second as u32))
}

/// Picking and ejection state for one pool of hosts, indexed 0..host_count.
#[derive(Clone, Debug)]
pub struct Balancer {
    policy: PickPolicy,
    outlier: Option<OutlierConfig>,
    hosts: Vec<HostState>,
    /// Hosts not ejected, ascending; rebuilt whenever an ejection starts or ends.
    available: Vec<u32>,
    /// Hosts with an ejection recorded (`ejected_until` is `Some`).
    ejected_count: u32,
    /// The earliest end among current ejections (`SimTime::MAX` when none): until then no
    /// ejection can end, so the per-call check is one comparison.
    ejection_end_next: SimTime,
    /// The host round robin tries first next time.
    round_robin_next: u32,
    ejections_total: u32,
    ejections_refused_total: u32,
}

impl Balancer {
    /// A balancer for `host_count` hosts (clamped to [`HOSTS_MAX`]), all available and idle.
    /// Without an outlier config no host is ever ejected.
    pub fn new(policy: PickPolicy, host_count: u32, outlier: Option<OutlierConfig>) -> Self {
        let host_count = host_count.min(HOSTS_MAX);
        Balancer {
            policy,
            outlier,
            hosts: vec![HostState::default(); host_count as usize],
            available: (0..host_count).collect(),
            ejected_count: 0,
            ejection_end_next: SimTime::MAX,
            round_robin_next: 0,
            ejections_total: 0,
            ejections_refused_total: 0,
        }
    }

    pub fn policy(&self) -> PickPolicy {
        self.policy
    }

    pub fn outlier(&self) -> Option<OutlierConfig> {
        self.outlier
    }

    pub fn host_count(&self) -> u32 {
        // At most HOSTS_MAX.
        self.hosts.len() as u32
    }

    /// Chooses a host for the next attempt, skipping ejected hosts (ejections end by time).
    ///
    /// Returns `None` only for an empty pool, or when every host is ejected and the panic
    /// threshold is 0. Random policies draw exactly one value from `stream` per call, whatever
    /// the state of the pool (even when there is nothing to pick), so the stream advances the
    /// same way in every run of a scenario however loads and ejections differ; round robin draws
    /// nothing. Peak EWMA updates the decay of the
    /// two hosts it compares (Finagle does the same on every load read).
    pub fn pick(&mut self, now: SimTime, stream: &mut Stream) -> Option<u32> {
        self.end_ejections(now);
        let draw = if self.policy.is_randomized() { stream.next_u64() } else { 0 };
        let panic = self.in_panic();
        if self.policy == PickPolicy::RoundRobin {
            return self.pick_round_robin(now, panic);
        }
        let candidates = if panic { Candidates::All(self.host_count()) } else { Candidates::Only(&self.available) };
        let count = candidates.count();
        if count == 0 {
            return None;
        }
        let host = match self.policy {
            PickPolicy::RoundRobin | PickPolicy::Random => candidates.get(scale(draw, u64::from(count)) as u32),
            PickPolicy::LeastOutstanding => self.pick_least_outstanding(candidates, draw),
            PickPolicy::PowerOfTwoChoices => {
                let (first, second) = distinct_pair(candidates, draw);
                if self.outstanding(second) < self.outstanding(first) {
                    second
                } else {
                    first
                }
            }
            PickPolicy::PeakEwma { decay } => {
                let (first, second) = distinct_pair(candidates, draw);
                if first == second {
                    // One candidate: Finagle returns it without reading its load.
                    first
                } else {
                    let cost_first = self.host_mut(first).map_or(0.0, |state| state.peak_ewma_cost(now, decay));
                    let cost_second = self.host_mut(second).map_or(0.0, |state| state.peak_ewma_cost(now, decay));
                    // Finagle keeps the second on a tie; the pair is drawn symmetrically, so taking
                    // the first (as plain P2C here does) has the same distribution.
                    if cost_second < cost_first {
                        second
                    } else {
                        first
                    }
                }
            }
        };
        Some(host)
    }

    /// An attempt was sent to `host` (outstanding += 1). Unknown hosts are ignored.
    pub fn on_send(&mut self, host: u32) {
        if let Some(state) = self.host_mut(host) {
            state.outstanding = state.outstanding.saturating_add(1);
        }
    }

    /// The attempt to `host` ended after `latency`; call exactly once per [`Self::on_send`], when
    /// the answer arrives or when the caller gives up on it (a late answer is then not reported).
    ///
    /// Updates outstanding (-1), the peak EWMA (every outcome's latency is a sample, as Finagle
    /// observes the round trip of failures too; a timeout's latency is the time waited), and
    /// outlier detection: [`HostOutcome::Success`] resets the consecutive count; `Error` and
    /// `Timeout` add to it (see [`HostOutcome`]) and may eject the host (see [`OutlierConfig`]).
    /// Results for a host that is currently ejected do not count. Unknown hosts are ignored.
    pub fn on_result(&mut self, now: SimTime, host: u32, latency: SimDuration, outcome: HostOutcome) {
        self.end_ejections(now);
        let policy = self.policy;
        let outlier = self.outlier;
        let Some(state) = self.host_mut(host) else {
            return;
        };
        state.outstanding = state.outstanding.saturating_sub(1);
        if let PickPolicy::PeakEwma { decay } = policy {
            state.observe_rtt(now, latency.as_ns() as f64, decay);
        }
        let Some(config) = outlier else {
            return;
        };
        if state.is_ejected(now) {
            return;
        }
        match outcome {
            HostOutcome::Success => state.errors_consecutive = 0,
            HostOutcome::Error | HostOutcome::Timeout => {
                state.errors_consecutive = state.errors_consecutive.saturating_add(1);
                if config.consecutive_errors != 0 && state.errors_consecutive >= config.consecutive_errors {
                    // Envoy resets the count after every detection, enforced or refused, so a
                    // refused host needs a fresh run of errors before it is considered again.
                    state.errors_consecutive = 0;
                    self.try_eject(now, host, &config);
                }
            }
        }
    }

    /// Attempts sent to `host` and not yet ended (0 for an unknown host).
    pub fn outstanding(&self, host: u32) -> u32 {
        self.hosts.get(host as usize).map_or(0, |state| state.outstanding)
    }

    /// Whether `host` is out of rotation at `now` (false for an unknown host).
    pub fn is_ejected(&self, now: SimTime, host: u32) -> bool {
        self.hosts.get(host as usize).is_some_and(|state| state.is_ejected(now))
    }

    /// Hosts ejected at `now`.
    pub fn ejected_hosts(&self, now: SimTime) -> u32 {
        self.hosts.iter().filter(|state| state.is_ejected(now)).count() as u32
    }

    /// Ejections carried out so far (Envoy's `ejections_enforced_total`).
    pub fn ejections(&self) -> u32 {
        self.ejections_total
    }

    /// Detections refused by the `max_ejection_percent` cap so far (Envoy's `ejections_overflow`).
    pub fn ejections_refused(&self) -> u32 {
        self.ejections_refused_total
    }

    fn host_mut(&mut self, host: u32) -> Option<&mut HostState> {
        self.hosts.get_mut(host as usize)
    }

    /// Envoy's panic test: too small a share of the pool is available, so ignore ejection.
    fn in_panic(&self) -> bool {
        let Some(config) = self.outlier else {
            return false;
        };
        let host_count = self.host_count();
        if host_count == 0 {
            return false;
        }
        let available_percent = 100.0 * self.available.len() as f64 / f64::from(host_count);
        available_percent < config.panic_threshold_percent
    }

    fn pick_round_robin(&mut self, now: SimTime, panic: bool) -> Option<u32> {
        let host_count = self.host_count();
        for offset in 0..host_count {
            let host = (self.round_robin_next + offset) % host_count;
            if panic || !self.is_ejected(now, host) {
                self.round_robin_next = (host + 1) % host_count;
                return Some(host);
            }
        }
        None
    }

    /// The least-outstanding candidate; among equals, the `draw`-th uniformly.
    fn pick_least_outstanding(&self, candidates: Candidates<'_>, draw: u64) -> u32 {
        let count = candidates.count();
        let mut least = u32::MAX;
        let mut ties: u64 = 0;
        for index in 0..count {
            let outstanding = self.outstanding(candidates.get(index));
            if outstanding < least {
                least = outstanding;
                ties = 1;
            } else if outstanding == least {
                ties += 1;
            }
        }
        let mut skip = scale(draw, ties);
        for index in 0..count {
            let host = candidates.get(index);
            if self.outstanding(host) == least {
                if skip == 0 {
                    return host;
                }
                skip -= 1;
            }
        }
        candidates.get(0)
    }

    /// Applies a detection: eject `host` unless the percentage cap forbids it.
    fn try_eject(&mut self, now: SimTime, host: u32, config: &OutlierConfig) {
        let host_count = self.host_count();
        let ejected_percent = 100.0 * f64::from(self.ejected_count.saturating_add(1)) / f64::from(host_count);
        // Envoy clamps the setting to 100; the share after ejecting never exceeds 100 anyway. A
        // NaN setting compares false: no ejection beyond `always_eject_one_host`.
        let allowed =
            ejected_percent <= config.max_ejection_percent || (config.always_eject_one_host && self.ejected_count == 0);
        if !allowed {
            self.ejections_refused_total = self.ejections_refused_total.saturating_add(1);
            return;
        }
        let Some(state) = self.host_mut(host) else {
            return;
        };
        // One step off the multiplier per full interval spent healthy since the host came back
        // (Envoy decrements it at each sweep that finds the host healthy for an interval).
        if let Some(returned_at) = state.returned_at.take() {
            if config.interval.as_ns() > 0 {
                let intervals_healthy = now.since(returned_at).as_ns() / config.interval.as_ns();
                let decrement = u32::try_from(intervals_healthy).unwrap_or(u32::MAX);
                state.ejection_multiplier = state.ejection_multiplier.saturating_sub(decrement);
            }
        }
        let base_ns = u128::from(config.base_ejection.as_ns());
        let max_ns = u128::from(config.max_ejection.as_ns());
        if u128::from(state.ejection_multiplier) * base_ns < max_ns + base_ns {
            state.ejection_multiplier = state.ejection_multiplier.saturating_add(1);
        }
        let duration_ns = (u128::from(state.ejection_multiplier) * base_ns).min(max_ns);
        let until = now + SimDuration(u64::try_from(duration_ns).unwrap_or(u64::MAX));
        state.ejected_until = Some(until);
        self.ejected_count = self.ejected_count.saturating_add(1);
        self.ejections_total = self.ejections_total.saturating_add(1);
        self.ejection_end_next = self.ejection_end_next.min(until);
        self.rebuild_available();
    }

    /// Returns every host whose ejection time has passed by `now`, clearing its error count (as
    /// Envoy's `unejectHost` does) and starting its healthy time for the multiplier decay.
    fn end_ejections(&mut self, now: SimTime) {
        if now < self.ejection_end_next {
            return;
        }
        let mut next = SimTime::MAX;
        for state in self.hosts.iter_mut() {
            let Some(until) = state.ejected_until else {
                continue;
            };
            if until <= now {
                state.ejected_until = None;
                state.returned_at = Some(until);
                state.errors_consecutive = 0;
                self.ejected_count = self.ejected_count.saturating_sub(1);
            } else {
                next = next.min(until);
            }
        }
        self.ejection_end_next = next;
        self.rebuild_available();
    }

    fn rebuild_available(&mut self) {
        self.available.clear();
        for (index, state) in self.hosts.iter().enumerate() {
            if state.ejected_until.is_none() {
                // Indices are below HOSTS_MAX.
                self.available.push(index as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostOutcome::{Error, Success, Timeout};
    use super::*;
    use crate::rng::stream_id;
    use crate::time::NS_PER_MS;

    fn stream(seed: u64) -> Stream {
        Stream::new(seed, stream_id(&["balancer", "test"]))
    }

    fn at_ms(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }

    fn outlier(max_ejection_percent: f64) -> OutlierConfig {
        OutlierConfig { max_ejection_percent, ..OutlierConfig::envoy() }
    }

    /// One step of a scripted run; times in milliseconds, never decreasing.
    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// Pick at `at_ms` and expect `expect`.
        Pick { at_ms: u64, expect: Option<u32> },
        /// `count` attempts to `host` sent and ended at `at_ms` with `outcome`, 1 ms each.
        Results { at_ms: u64, host: u32, outcome: HostOutcome, count: u32 },
        /// Whether `host` is ejected at `at_ms` (a query: it changes nothing).
        Ejected { at_ms: u64, host: u32, expect: bool },
        /// Ejections carried out and refused so far.
        Ejections { done: u32, refused: u32 },
    }

    /// Runs `steps` against `balancer`, failing with the step's index on the first mismatch.
    fn check(balancer: &mut Balancer, steps: &[Step]) {
        let mut stream = stream(1);
        let mut clock_ms = 0;
        for (index, step) in steps.iter().enumerate() {
            match *step {
                Step::Pick { at_ms: ms, expect } => {
                    assert!(ms >= clock_ms, "step {index}: time goes backwards");
                    clock_ms = ms;
                    assert_eq!(balancer.pick(at_ms(ms), &mut stream), expect, "step {index}: {step:?}");
                }
                Step::Results { at_ms: ms, host, outcome, count } => {
                    assert!(ms >= clock_ms, "step {index}: time goes backwards");
                    clock_ms = ms;
                    for _ in 0..count {
                        balancer.on_send(host);
                        balancer.on_result(at_ms(ms), host, SimDuration::from_ms(1), outcome);
                    }
                }
                Step::Ejected { at_ms: ms, host, expect } => {
                    assert_eq!(balancer.is_ejected(at_ms(ms), host), expect, "step {index}: {step:?}");
                }
                Step::Ejections { done, refused } => {
                    assert_eq!(
                        (balancer.ejections(), balancer.ejections_refused()),
                        (done, refused),
                        "step {index}: {step:?}"
                    );
                }
            }
        }
    }

    /// How many times each host is picked in `picks` picks with nothing outstanding changing.
    fn pick_counts(balancer: &mut Balancer, seed: u64, picks: u32) -> Vec<u32> {
        let mut stream = stream(seed);
        let mut counts = vec![0; balancer.host_count() as usize];
        for _ in 0..picks {
            if let Some(host) = balancer.pick(SimTime::ZERO, &mut stream) {
                counts[host as usize] += 1;
            }
        }
        counts
    }

    /// Sends `arrivals` attempts, one per millisecond, to `host_count` hosts whose answers take
    /// `slow_ms` on host 0 and `fast_ms` elsewhere; returns the share of attempts host 0 got.
    fn slow_host_share(policy: PickPolicy, host_count: u32, slow_ms: u64, fast_ms: u64, arrivals: u64) -> f64 {
        let mut balancer = Balancer::new(policy, host_count, None);
        let mut stream = stream(7);
        // (end time, host, latency) of attempts in flight.
        let mut in_flight: Vec<(SimTime, u32, SimDuration)> = Vec::new();
        let mut slow_picks = 0u64;
        for tick in 0..arrivals {
            let now = at_ms(tick);
            in_flight.sort_by_key(|&(end, host, _)| (end, host));
            while let Some(&(end, host, latency)) = in_flight.first() {
                if end > now {
                    break;
                }
                balancer.on_result(end, host, latency, Success);
                in_flight.remove(0);
            }
            let Some(host) = balancer.pick(now, &mut stream) else {
                panic!("a pool of {host_count} hosts with no ejection always has a host");
            };
            balancer.on_send(host);
            let latency = SimDuration::from_ms(if host == 0 { slow_ms } else { fast_ms });
            in_flight.push((now + latency, host, latency));
            if host == 0 {
                slow_picks += 1;
            }
        }
        slow_picks as f64 / arrivals as f64
    }

    #[test]
    fn round_robin_cycles_from_host_zero() {
        use Step::Pick;
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 3, None);
        check(&mut balancer, &[0, 1, 2, 0, 1, 2, 0].map(|host| Pick { at_ms: 0, expect: Some(host) }));
    }

    #[test]
    fn an_empty_pool_picks_nothing_and_ignores_unknown_hosts() {
        let policies = [
            PickPolicy::RoundRobin,
            PickPolicy::Random,
            PickPolicy::LeastOutstanding,
            PickPolicy::PowerOfTwoChoices,
            PickPolicy::finagle_peak_ewma(),
        ];
        for policy in policies {
            let mut balancer = Balancer::new(policy, 0, Some(OutlierConfig::envoy()));
            let mut stream = stream(3);
            assert_eq!(balancer.pick(SimTime::ZERO, &mut stream), None, "{policy:?}");
            balancer.on_send(0);
            balancer.on_result(SimTime::ZERO, 0, SimDuration::from_ms(1), Error);
            assert_eq!(balancer.outstanding(0), 0);
            assert!(!balancer.is_ejected(SimTime::ZERO, 0));

            let mut balancer = Balancer::new(policy, 2, Some(OutlierConfig::envoy()));
            balancer.on_send(7);
            for _ in 0..10 {
                balancer.on_result(SimTime::ZERO, 7, SimDuration::from_ms(1), Timeout);
            }
            assert_eq!((balancer.outstanding(7), balancer.ejections()), (0, 0), "{policy:?}");
        }
    }

    #[test]
    fn random_is_uniform_and_reproducible() {
        let mut balancer = Balancer::new(PickPolicy::Random, 4, None);
        let counts = pick_counts(&mut balancer, 11, 40_000);
        // Each count is Binomial(40000, 1/4): mean 10000, sd 87; 400 is over 4.5 sd.
        for (host, &count) in counts.iter().enumerate() {
            assert!(count.abs_diff(10_000) < 400, "host {host}: {count} picks of 40000");
        }

        let sequence = |seed| {
            let mut balancer = Balancer::new(PickPolicy::Random, 10, None);
            let mut stream = stream(seed);
            (0..200).map(|_| balancer.pick(SimTime::ZERO, &mut stream)).collect::<Vec<_>>()
        };
        assert_eq!(sequence(5), sequence(5));
        assert_ne!(sequence(5), sequence(6));
    }

    #[test]
    fn random_policies_draw_once_per_pick_and_round_robin_never() {
        let cases = [
            (PickPolicy::RoundRobin, 0),
            (PickPolicy::Random, 1),
            (PickPolicy::LeastOutstanding, 1),
            (PickPolicy::PowerOfTwoChoices, 1),
            (PickPolicy::finagle_peak_ewma(), 1),
        ];
        for (policy, draws_per_pick) in cases {
            for host_count in [0, 1, 2, 5] {
                let mut balancer = Balancer::new(policy, host_count, None);
                let mut used = stream(9);
                for _ in 0..10 {
                    balancer.pick(SimTime::ZERO, &mut used);
                }
                let mut fresh = stream(9);
                for _ in 0..10 * draws_per_pick {
                    fresh.next_u64();
                }
                assert_eq!(used.next_u64(), fresh.next_u64(), "{policy:?} with {host_count} hosts");
            }
        }
    }

    #[test]
    fn least_outstanding_prefers_the_idle_host_and_spreads_ties() {
        let mut balancer = Balancer::new(PickPolicy::LeastOutstanding, 3, None);
        // Idle pool: ties everywhere, spread at random rather than all on host 0.
        let counts = pick_counts(&mut balancer, 2, 3_000);
        assert!(counts.iter().all(|&count| count > 850), "{counts:?}");

        balancer.on_send(0);
        balancer.on_send(0);
        balancer.on_send(1);
        let counts = pick_counts(&mut balancer, 2, 100);
        assert_eq!(counts, [0, 0, 100]);

        balancer.on_send(2);
        let counts = pick_counts(&mut balancer, 2, 1_000);
        assert_eq!(counts[0], 0);
        assert!(counts[1] > 400 && counts[2] > 400, "ties between hosts 1 and 2: {counts:?}");
    }

    #[test]
    fn two_choices_never_take_the_busier_of_two_distinct_hosts() {
        // Two hosts: every pair is {0, 1}; the busier never wins, equals split about evenly.
        let mut balancer = Balancer::new(PickPolicy::PowerOfTwoChoices, 2, None);
        let counts = pick_counts(&mut balancer, 4, 2_000);
        assert!(counts.iter().all(|&count| count > 900), "{counts:?}");
        for _ in 0..3 {
            balancer.on_send(0);
        }
        balancer.on_send(1);
        assert_eq!(pick_counts(&mut balancer, 4, 1_000), [0, 1_000]);

        // Ten hosts, host 0 busiest: it would win any pair drawn as (0, 0), so it never being
        // picked shows the two choices are distinct.
        let mut balancer = Balancer::new(PickPolicy::PowerOfTwoChoices, 10, None);
        balancer.on_send(0);
        let counts = pick_counts(&mut balancer, 4, 5_000);
        assert_eq!(counts[0], 0);
        assert!(counts[1..].iter().all(|&count| count > 400), "{counts:?}");
    }

    #[test]
    fn load_aware_picks_send_a_slow_host_much_less_than_its_share() {
        // Host 0 answers in 100 ms, the nine others in 10 ms; one attempt per millisecond.
        let share = |policy| slow_host_share(policy, 10, 100, 10, 20_000);
        let random = share(PickPolicy::Random);
        assert!((0.08..0.12).contains(&random), "random gives about 1/n: {random}");
        for policy in [PickPolicy::PowerOfTwoChoices, PickPolicy::finagle_peak_ewma(), PickPolicy::LeastOutstanding] {
            let slow = share(policy);
            assert!(slow < 0.04, "{policy:?} sends the slow host {slow} of attempts, 1/n is 0.1");
        }
    }

    #[test]
    fn peak_ewma_avoids_a_host_whose_latency_jumped_and_returns_after_the_decay() {
        let mut balancer = Balancer::new(PickPolicy::finagle_peak_ewma(), 2, None);
        let mut stream = stream(8);
        let answer = |balancer: &mut Balancer, end: SimTime, host, latency_ms| {
            balancer.on_send(host);
            balancer.on_result(end, host, SimDuration::from_ms(latency_ms), Success);
        };
        answer(&mut balancer, at_ms(0), 0, 10);
        answer(&mut balancer, at_ms(0), 1, 10);
        // Host 0's latency jumps to 1 s: the average takes the peak at once.
        answer(&mut balancer, at_ms(100), 0, 1_000);

        // Then every host answers in 10 ms; one attempt every 100 ms.
        let mut returned_at_ms = None;
        for tick in 2..1_000 {
            let now = at_ms(tick * 100);
            let Some(host) = balancer.pick(now, &mut stream) else {
                panic!("two hosts, no ejection");
            };
            answer(&mut balancer, now + SimDuration::from_ms(10), host, 10);
            if host == 0 {
                returned_at_ms = Some(tick * 100);
                break;
            }
        }
        // Host 1 costs about 9.9 ms when read; host 0 decays from 1 s as exp(-t / 10 s) and
        // falls below that after 10 s × ln(101) = 46 s.
        let returned_at_ms = returned_at_ms.unwrap_or(u64::MAX);
        assert!((45_000..48_000).contains(&returned_at_ms), "host 0 tried again at {returned_at_ms} ms");
    }

    #[test]
    fn peak_ewma_probes_an_unsampled_idle_host_but_penalises_one_with_work_in_flight() {
        // (outstanding on unsampled host 0, outstanding on host 1 sampled at 5 ms, expected pick)
        let cases = [(0, 0, 0), (0, 5, 0), (1, 0, 1), (1, 50, 1), (2, 1_000, 1)];
        for (outstanding_unsampled, outstanding_sampled, expect) in cases {
            let mut balancer = Balancer::new(PickPolicy::finagle_peak_ewma(), 2, None);
            balancer.on_send(1);
            balancer.on_result(SimTime::ZERO, 1, SimDuration::from_ms(5), Success);
            for _ in 0..outstanding_unsampled {
                balancer.on_send(0);
            }
            for _ in 0..outstanding_sampled {
                balancer.on_send(1);
            }
            let counts = pick_counts(&mut balancer, 5, 50);
            assert_eq!(
                counts[expect as usize], 50,
                "{outstanding_unsampled} on unsampled host, {outstanding_sampled} on sampled: {counts:?}"
            );
        }
    }

    #[test]
    fn five_consecutive_errors_eject_for_thirty_seconds() {
        use Step::{Ejected, Ejections, Results};
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 10, Some(OutlierConfig::envoy()));
        check(
            &mut balancer,
            &[
                Results { at_ms: 0, host: 3, outcome: Error, count: 4 },
                Ejected { at_ms: 0, host: 3, expect: false },
                Results { at_ms: 1_000, host: 3, outcome: Error, count: 1 },
                Ejected { at_ms: 1_000, host: 3, expect: true },
                Ejected { at_ms: 30_999, host: 3, expect: true },
                Ejected { at_ms: 31_000, host: 3, expect: false },
                Ejections { done: 1, refused: 0 },
            ],
        );
    }

    #[test]
    fn timeouts_count_as_errors_and_a_success_resets_the_count() {
        use Step::{Ejected, Results};
        let mut balancer = Balancer::new(PickPolicy::Random, 10, Some(OutlierConfig::envoy()));
        check(
            &mut balancer,
            &[
                Results { at_ms: 0, host: 1, outcome: Error, count: 2 },
                Results { at_ms: 0, host: 1, outcome: Timeout, count: 2 },
                Results { at_ms: 0, host: 1, outcome: Success, count: 1 },
                Results { at_ms: 0, host: 1, outcome: Timeout, count: 4 },
                Ejected { at_ms: 0, host: 1, expect: false },
                Results { at_ms: 0, host: 1, outcome: Error, count: 1 },
                Ejected { at_ms: 0, host: 1, expect: true },
            ],
        );
    }

    #[test]
    fn ejection_time_grows_with_each_ejection_up_to_the_cap() {
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 10, Some(OutlierConfig::envoy()));
        let expected_s = [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300];
        // The host fails again as soon as it is back, so the multiplier never decays.
        let mut now = SimTime::ZERO;
        for (index, &seconds) in expected_s.iter().enumerate() {
            for _ in 0..5 {
                balancer.on_send(0);
                balancer.on_result(now, 0, SimDuration::from_ms(1), Error);
            }
            let end = now + SimDuration::from_secs(seconds);
            assert!(balancer.is_ejected(SimTime(end.as_ns() - 1), 0), "ejection {index} ends early");
            assert!(!balancer.is_ejected(end, 0), "ejection {index} lasts past {seconds} s");
            now = end;
        }
        assert_eq!(balancer.ejections(), expected_s.len() as u32);
    }

    #[test]
    fn time_spent_healthy_shortens_the_next_ejection() {
        // Two quick ejections (30 s, then 60 s: multiplier 2); the host then stays healthy for
        // `healthy_s` before failing again. Each full 10 s interval takes one step off.
        let cases = [(0, 90), (9, 90), (10, 60), (19, 60), (20, 30), (600, 30)];
        for (healthy_s, expected_s) in cases {
            let mut balancer = Balancer::new(PickPolicy::RoundRobin, 10, Some(OutlierConfig::envoy()));
            let fail = |balancer: &mut Balancer, now: SimTime| {
                for _ in 0..5 {
                    balancer.on_send(0);
                    balancer.on_result(now, 0, SimDuration::from_ms(1), Error);
                }
            };
            fail(&mut balancer, SimTime::ZERO);
            fail(&mut balancer, SimTime::ZERO + SimDuration::from_secs(30));
            let back = SimTime::ZERO + SimDuration::from_secs(90);
            assert!(!balancer.is_ejected(back, 0));
            let again = back + SimDuration::from_secs(healthy_s);
            fail(&mut balancer, again);
            let end = again + SimDuration::from_secs(expected_s);
            assert!(balancer.is_ejected(SimTime(end.as_ns() - 1), 0), "healthy {healthy_s} s");
            assert!(!balancer.is_ejected(end, 0), "healthy {healthy_s} s");
        }
    }

    #[test]
    fn results_during_an_ejection_do_not_count() {
        use Step::{Ejected, Ejections, Results};
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 10, Some(OutlierConfig::envoy()));
        check(
            &mut balancer,
            &[
                Results { at_ms: 0, host: 2, outcome: Error, count: 5 },
                Results { at_ms: 10_000, host: 2, outcome: Error, count: 20 },
                Ejections { done: 1, refused: 0 },
                Ejected { at_ms: 30_000, host: 2, expect: false },
                Results { at_ms: 31_000, host: 2, outcome: Error, count: 4 },
                Ejected { at_ms: 31_000, host: 2, expect: false },
                Results { at_ms: 31_000, host: 2, outcome: Error, count: 1 },
                Ejected { at_ms: 91_000 - 1, host: 2, expect: true },
                Ejected { at_ms: 91_000, host: 2, expect: false },
            ],
        );
    }

    #[test]
    fn the_percentage_cap_limits_how_many_hosts_are_ejected_at_once() {
        // (hosts, max_ejection_percent, always_eject_one_host, failing hosts, ejected, refused)
        let cases = [
            (10, 10.0, false, 3, 1, 2),
            (19, 10.0, false, 3, 1, 2),
            (20, 10.0, false, 3, 2, 1),
            (9, 10.0, false, 2, 0, 2),
            (5, 10.0, true, 2, 1, 1),
            (1, 10.0, true, 1, 1, 0),
            (3, 50.0, false, 3, 1, 2),
            (4, 50.0, false, 4, 2, 2),
            (3, 100.0, false, 3, 3, 0),
            (3, 0.0, false, 1, 0, 1),
        ];
        for (hosts, percent, always_one, failing, ejected, refused) in cases {
            let config = OutlierConfig { always_eject_one_host: always_one, ..outlier(percent) };
            let mut balancer = Balancer::new(PickPolicy::RoundRobin, hosts, Some(config));
            for host in 0..failing {
                for _ in 0..5 {
                    balancer.on_send(host);
                    balancer.on_result(SimTime::ZERO, host, SimDuration::from_ms(1), Error);
                }
            }
            let case = (hosts, percent, always_one, failing);
            assert_eq!(balancer.ejected_hosts(SimTime::ZERO), ejected, "{case:?}");
            assert_eq!((balancer.ejections(), balancer.ejections_refused()), (ejected, refused), "{case:?}");
        }
    }

    #[test]
    fn a_refused_detection_needs_a_fresh_run_of_errors() {
        use Step::{Ejected, Ejections, Results};
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 10, Some(OutlierConfig::envoy()));
        check(
            &mut balancer,
            &[
                Results { at_ms: 0, host: 0, outcome: Error, count: 5 },
                Results { at_ms: 0, host: 1, outcome: Error, count: 9 },
                Ejections { done: 1, refused: 1 },
                Results { at_ms: 0, host: 1, outcome: Error, count: 1 },
                Ejections { done: 1, refused: 2 },
                // Host 0 is back at 30 s; host 1's next five errors eject it.
                Results { at_ms: 30_000, host: 1, outcome: Error, count: 5 },
                Ejected { at_ms: 30_000, host: 1, expect: true },
                Ejections { done: 2, refused: 2 },
            ],
        );
    }

    #[test]
    fn ejected_hosts_are_skipped_and_come_back() {
        use Step::{Pick, Results};
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 3, Some(outlier(50.0)));
        let mut steps = vec![Results { at_ms: 0, host: 1, outcome: Error, count: 5 }];
        steps.extend([0, 2, 0, 2, 0].map(|host| Pick { at_ms: 1_000, expect: Some(host) }));
        steps.extend([1, 2, 0, 1, 2, 0].map(|host| Pick { at_ms: 30_000, expect: Some(host) }));
        check(&mut balancer, &steps);

        for policy in [
            PickPolicy::Random,
            PickPolicy::LeastOutstanding,
            PickPolicy::PowerOfTwoChoices,
            PickPolicy::finagle_peak_ewma(),
        ] {
            let mut balancer = Balancer::new(policy, 4, Some(outlier(50.0)));
            // Every host answered once, so that peak EWMA compares measured costs.
            for host in 0..4 {
                balancer.on_send(host);
                balancer.on_result(SimTime::ZERO, host, SimDuration::from_ms(1), Success);
            }
            for _ in 0..5 {
                balancer.on_send(3);
                balancer.on_result(SimTime::ZERO, 3, SimDuration::from_ms(1), Error);
            }
            let counts = pick_counts(&mut balancer, 6, 1_000);
            assert_eq!(counts[3], 0, "{policy:?}: {counts:?}");
            let mut stream = stream(6);
            let back = SimTime::ZERO + SimDuration::from_secs(30);
            let picked_back = (0..200).filter(|_| balancer.pick(back, &mut stream) == Some(3)).count();
            assert!(picked_back > 0, "{policy:?} never picks the returned host");
        }
    }

    #[test]
    fn too_few_available_hosts_panic_into_using_every_host() {
        use Step::{Pick, Results};
        // Two hosts, cap 100%: one ejected leaves 50% available (no panic); both ejected panic.
        let mut balancer = Balancer::new(PickPolicy::RoundRobin, 2, Some(outlier(100.0)));
        check(
            &mut balancer,
            &[
                Results { at_ms: 0, host: 0, outcome: Error, count: 5 },
                Pick { at_ms: 0, expect: Some(1) },
                Pick { at_ms: 0, expect: Some(1) },
                Results { at_ms: 0, host: 1, outcome: Error, count: 5 },
                Pick { at_ms: 0, expect: Some(0) },
                Pick { at_ms: 0, expect: Some(1) },
            ],
        );

        // Without panic (threshold 0) a fully ejected pool has nothing to offer.
        let config = OutlierConfig { panic_threshold_percent: 0.0, ..outlier(100.0) };
        for policy in [PickPolicy::RoundRobin, PickPolicy::PowerOfTwoChoices] {
            let mut balancer = Balancer::new(policy, 2, Some(config));
            check(
                &mut balancer,
                &[
                    Results { at_ms: 0, host: 0, outcome: Error, count: 5 },
                    Results { at_ms: 10_000, host: 1, outcome: Error, count: 5 },
                    Pick { at_ms: 10_000, expect: None },
                    Pick { at_ms: 29_999, expect: None },
                    Pick { at_ms: 30_000, expect: Some(0) },
                    Pick { at_ms: 39_999, expect: Some(0) },
                ],
            );
        }

        // The only host of a pool, ejected by always_eject_one_host, is still used (Envoy).
        let config = OutlierConfig { always_eject_one_host: true, ..OutlierConfig::envoy() };
        let mut balancer = Balancer::new(PickPolicy::Random, 1, Some(config));
        check(
            &mut balancer,
            &[
                Results { at_ms: 0, host: 0, outcome: Error, count: 5 },
                Step::Ejected { at_ms: 0, host: 0, expect: true },
                Pick { at_ms: 0, expect: Some(0) },
            ],
        );
    }

    #[test]
    fn outstanding_counts_sends_minus_results() {
        let mut balancer = Balancer::new(PickPolicy::LeastOutstanding, 2, None);
        balancer.on_send(1);
        balancer.on_send(1);
        balancer.on_result(SimTime::ZERO, 1, SimDuration::ZERO, Timeout);
        assert_eq!((balancer.outstanding(0), balancer.outstanding(1)), (0, 1));
        // A result without a send does not go below zero.
        balancer.on_result(SimTime::ZERO, 0, SimDuration::ZERO, Success);
        assert_eq!(balancer.outstanding(0), 0);
    }
}

//! Queue-management rules for a service queue: CoDel (RFC 8289), Facebook's controlled delay
//! (folly `Codel`, "Fail at Scale") and adaptive LIFO.
//!
//! Why it matters: a queue that only ever grows turns a short overload into minutes of
//! timeouts, because every request waits behind work whose callers have already given up.
//! These rules keep the standing queue short (drop from the head once delay has stayed high)
//! and, with adaptive LIFO, serve the requests whose callers are still waiting.
//!
//! Sources: RFC 8289 section 5 <https://www.rfc-editor.org/rfc/rfc8289>; folly
//! <https://github.com/facebook/folly/blob/main/folly/executors/Codel.cpp>; B. Maurer, "Fail at
//! Scale", ACM Queue 13(8), 2015 <https://queue.acm.org/detail.cfm?id=2839461>.
//!
//! The simulator drives them at dequeue time. When a worker is free:
//!
//! ```text
//!   loop:
//!     head = queue.pop()            // or the newest, if AdaptiveLifo::serve_newest(...)
//!     match codel.on_dequeue(now, sojourn(head), queue.len()) {
//!         Keep => { serve(head); break }
//!         Drop => { shed(head); if queue.is_empty() { break } }   // and ask about the next
//!     }
//! ```
//!
//! Example:
//!
//! ```
//! use stormglass_core::policy::queueing::{Codel, CodelDecision};
//! use stormglass_core::time::{SimDuration, SimTime};
//!
//! let ms = |n: u64| SimTime(n * 1_000_000);
//! let mut codel = Codel::rfc8289(); // target 5 ms, interval 100 ms
//! let sojourn = SimDuration::from_ms(20);
//! assert_eq!(codel.on_dequeue(ms(0), sojourn, 10), CodelDecision::Keep); // above target: start the clock
//! assert_eq!(codel.on_dequeue(ms(99), sojourn, 10), CodelDecision::Keep);
//! assert_eq!(codel.on_dequeue(ms(100), sojourn, 10), CodelDecision::Drop); // above for a whole interval
//! assert_eq!(codel.on_dequeue(ms(100), sojourn, 9), CodelDecision::Keep); // the next head is served
//! ```

use crate::time::{f64_to_ns, SimDuration, SimTime};

/// What to do with the request just taken from the head of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodelDecision {
    /// Serve it.
    Keep,
    /// Drop it (shed: its caller gets an overload answer), then take the next one and ask again.
    Drop,
}

/// Requests left behind the head below which CoDel never drops: RFC 8289's `bytes() <=
/// MAXPACKET` test, counting each request as one maximum-size packet. Dropping when at most one
/// request remains would not shorten a standing queue, only idle the workers.
const CODEL_BACKLOG_REQUESTS_MAX: u32 = 1;

/// How recently the previous dropping episode must have been for CoDel to resume at its drop
/// rate: RFC 8289 (the Linux variant it adopts) uses 16 intervals.
const CODEL_COUNT_REUSE_INTERVALS: u64 = 16;

/// Where a [`Codel::on_dequeue`] call falls in the RFC's `dequeue()` routine: most calls start
/// one; after a `Drop` the next call is the `r = dodequeue(now)` that follows the drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Continuation {
    /// The next call starts a new `dequeue()`.
    None,
    /// The previous call entered the dropping state and dropped; the next head is served
    /// whatever its sojourn (the RFC returns it unconditionally).
    AfterEnteringDropState { at: SimTime },
    /// The previous call dropped inside the `while (now >= drop_next && dropping)` loop.
    InDropLoop { at: SimTime },
}

/// CoDel, RFC 8289 section 5 (the pseudocode's `dodequeue`, `dequeue` and `control_law`),
/// applied to a queue of requests: target 5 ms, interval 100 ms.
///
/// Called at each dequeue with the head's sojourn time and the number of requests still queued
/// behind it; says whether to drop it. On `Drop` the caller takes the next head and asks again
/// at the same `now`: that call is the RFC's `r = dodequeue(now)` after the drop. There is
/// always a next head, since CoDel drops only with at least two requests behind the head (the
/// RFC's `bytes() <= MAXPACKET` rule); a caller that does not come back at the same instant
/// simply starts the next `dequeue()` later.
///
/// State, as in the RFC: `first_above_time` (when sojourn first went above target, plus an
/// interval: dropping may start once it has passed with sojourn still above target),
/// `dropping`, `count` (drops in this episode, setting the spacing `interval / sqrt(count)`),
/// `lastcount` (count at the start of the last episode, for the count reuse rule) and
/// `drop_next` (when the next drop is due).
///
/// The RFC's time is integer; `interval / sqrt(count)` is rounded to the nearest nanosecond.
#[derive(Clone, Debug)]
pub struct Codel {
    target: SimDuration,
    interval: SimDuration,
    /// The RFC's `first_above_time_`, with `None` for its 0 sentinel.
    first_above_time: Option<SimTime>,
    dropping: bool,
    drop_next: SimTime,
    count: u32,
    lastcount: u32,
    continuation: Continuation,
}

impl Codel {
    pub fn new(target: SimDuration, interval: SimDuration) -> Self {
        Codel {
            target,
            interval,
            first_above_time: None,
            dropping: false,
            drop_next: SimTime::ZERO,
            count: 0,
            lastcount: 0,
            continuation: Continuation::None,
        }
    }

    /// RFC 8289's defaults: target 5 ms, interval 100 ms.
    pub fn rfc8289() -> Self {
        Codel::new(SimDuration::from_ms(5), SimDuration::from_ms(100))
    }

    /// Whether CoDel is in its dropping state.
    pub fn dropping(&self) -> bool {
        self.dropping
    }

    /// Drops counted in the current (or last) dropping episode: the RFC's `count`.
    pub fn drop_count(&self) -> u32 {
        self.count
    }

    /// The head was taken off the queue at `now` after waiting `sojourn`; `queue_len_after`
    /// requests remain behind it. Keep (serve) or drop it?
    pub fn on_dequeue(&mut self, now: SimTime, sojourn: SimDuration, queue_len_after: u32) -> CodelDecision {
        let ok_to_drop = self.dodequeue(now, sojourn, queue_len_after);
        let continuation = core::mem::replace(&mut self.continuation, Continuation::None);
        match continuation {
            // The head returned after the drop that entered the dropping state: served.
            Continuation::AfterEnteringDropState { at } if at == now => CodelDecision::Keep,
            Continuation::InDropLoop { at } if at == now => {
                if ok_to_drop {
                    self.drop_next = self.control_law(self.drop_next, self.count);
                } else {
                    self.dropping = false;
                }
                self.drop_loop_test(now)
            }
            // A new dequeue() (or a caller that did not come back at the same instant).
            _ => {
                if self.dropping {
                    if !ok_to_drop {
                        // Sojourn time below target: leave the dropping state.
                        self.dropping = false;
                    }
                    self.drop_loop_test(now)
                } else if ok_to_drop {
                    self.enter_dropping_state(now);
                    self.continuation = Continuation::AfterEnteringDropState { at: now };
                    CodelDecision::Drop
                } else {
                    CodelDecision::Keep
                }
            }
        }
    }

    /// The RFC's `dodequeue`: updates `first_above_time` and says whether dropping is allowed.
    fn dodequeue(&mut self, now: SimTime, sojourn: SimDuration, queue_len_after: u32) -> bool {
        if sojourn < self.target || queue_len_after <= CODEL_BACKLOG_REQUESTS_MAX {
            // Went below: stay below for at least an interval.
            self.first_above_time = None;
            return false;
        }
        match self.first_above_time {
            None => {
                // Just went above from below: if still above at first_above_time, drop.
                self.first_above_time = Some(now + self.interval);
                false
            }
            Some(first_above_time) => now >= first_above_time,
        }
    }

    /// The RFC's `while (now >= drop_next_ && dropping_)` test: drop the current head and
    /// count it, or serve it.
    fn drop_loop_test(&mut self, now: SimTime) -> CodelDecision {
        if self.dropping && now >= self.drop_next {
            self.count = self.count.saturating_add(1);
            self.continuation = Continuation::InDropLoop { at: now };
            CodelDecision::Drop
        } else {
            CodelDecision::Keep
        }
    }

    /// The RFC's entry into the dropping state, with its count reuse rule: if the queue went
    /// back above target soon after the last episode, resume at that episode's added drop rate.
    fn enter_dropping_state(&mut self, now: SimTime) {
        self.dropping = true;
        let delta = self.count.saturating_sub(self.lastcount);
        self.count = 1;
        let reuse_window = SimDuration(self.interval.as_ns().saturating_mul(CODEL_COUNT_REUSE_INTERVALS));
        // `now - drop_next` is negative (here: zero) when the next drop was still ahead.
        if delta > 1 && now.since(self.drop_next) < reuse_window {
            self.count = delta;
        }
        self.drop_next = self.control_law(now, self.count);
        self.lastcount = self.count;
    }

    /// The RFC's `control_law`: `t + interval / sqrt(count)`.
    fn control_law(&self, t: SimTime, count: u32) -> SimTime {
        let spacing_ns = self.interval.as_ns() as f64 / libm::sqrt(f64::from(count.max(1)));
        t + SimDuration(f64_to_ns(spacing_ns))
    }
}

/// Facebook's controlled delay, as folly implements it (`folly/executors/Codel.cpp`), with the
/// queue timeout of "Fail at Scale" (Maurer, ACM Queue 2015): target 5 ms, interval 100 ms.
///
/// The overload test is folly's, not the article's "the queue has not been empty in the last
/// interval": the queue counts as overloaded when the *smallest* queueing delay of the requests
/// dequeued in the last interval exceeded the target (every request waited: the queue never
/// drained). Precisely, at each dequeue (folly `overloaded(delay)`):
///
/// 1. If the interval has ended (`now > interval_end`) and it saw a dequeue: overloaded =
///    (min delay > target), and a new interval starts (`interval_end = now + interval`).
/// 2. The first dequeue of an interval sets min delay and is never dropped; later ones lower it.
/// 3. Drop ("slough") when overloaded and this request's delay > 2 * target (10 ms).
///
/// Differences from the one-line summary, all from folly: overload is judged once per interval
/// from the minimum delay, lazily at the first dequeue after the interval ends (intervals start
/// at dequeues, not on a fixed grid); the dequeue-time drop threshold is 2 * target, not target;
/// and folly drops nothing when not overloaded. The article's rule, a queue timeout of target
/// while overloaded and of interval otherwise, is [`ControlledDelay::queue_timeout`], computed
/// from the same overload state, for a simulator that sets each request's deadline at enqueue.
#[derive(Clone, Debug)]
pub struct ControlledDelay {
    target: SimDuration,
    interval: SimDuration,
    /// folly `codelMinDelayNs_`: the smallest delay dequeued in the current interval.
    min_delay: SimDuration,
    /// folly `codelIntervalTimeNs_`: when the current interval ends (the construction time at
    /// first, here zero).
    interval_end: SimTime,
    /// folly `codelResetDelay_`: the next dequeue starts the interval's minimum afresh.
    reset_delay: bool,
    overloaded: bool,
}

impl ControlledDelay {
    /// folly clamps the target to at most the interval (`getOptions`); so does this.
    pub fn new(target: SimDuration, interval: SimDuration) -> Self {
        ControlledDelay {
            target: target.min(interval),
            interval,
            min_delay: SimDuration::ZERO,
            interval_end: SimTime::ZERO,
            reset_delay: true,
            overloaded: false,
        }
    }

    /// folly's defaults (`codel_target_delay` 5 ms, `codel_interval` 100 ms), which are also the
    /// article's M = 5 ms and N = 100 ms.
    pub fn facebook() -> Self {
        ControlledDelay::new(SimDuration::from_ms(5), SimDuration::from_ms(100))
    }

    /// A request leaves the queue at `now` after waiting `sojourn`: folly's `overloaded(delay)`.
    /// Returns whether to drop it. Call it for every dequeue, dropped or not: it feeds the
    /// minimum-delay estimate.
    pub fn on_dequeue(&mut self, now: SimTime, sojourn: SimDuration) -> bool {
        if now > self.interval_end && !self.reset_delay {
            self.reset_delay = true;
            self.interval_end = now + self.interval;
            self.overloaded = self.min_delay > self.target;
        }
        if self.reset_delay {
            self.reset_delay = false;
            self.min_delay = sojourn;
            // More than one request must come in during an interval before any is dropped.
            return false;
        }
        if sojourn < self.min_delay {
            self.min_delay = sojourn;
        }
        self.overloaded && sojourn > self.slough_timeout()
    }

    /// Whether the queue counts as overloaded at `now`: the last verdict, or the one the next
    /// dequeue will reach if the current interval has already ended (folly judges before it
    /// looks at the new request's delay, so this is exactly that verdict).
    pub fn overloaded(&self, now: SimTime) -> bool {
        if now > self.interval_end && !self.reset_delay {
            self.min_delay > self.target
        } else {
            self.overloaded
        }
    }

    /// "Fail at Scale"'s queue timeout for a request enqueued at `now`: target (5 ms) while
    /// overloaded, interval (100 ms) otherwise.
    pub fn queue_timeout(&self, now: SimTime) -> SimDuration {
        if self.overloaded(now) {
            self.target
        } else {
            self.interval
        }
    }

    /// folly's `getSloughTimeout`: while overloaded, dequeued requests that waited longer than
    /// this (2 * target) are dropped.
    pub fn slough_timeout(&self) -> SimDuration {
        SimDuration(self.target.as_ns().saturating_mul(2))
    }
}

/// Adaptive LIFO ("Fail at Scale"): FIFO normally, LIFO once a queue has formed, so that under
/// overload the newest requests, whose callers are still waiting, are served first, while the
/// oldest ones age out (with [`ControlledDelay`]'s short timeout).
///
/// A queue "has formed" when more than `queue_len_threshold` requests wait, or while
/// [`ControlledDelay::overloaded`] says so. [`AdaptiveLifo::facebook`] uses the overload signal
/// alone, as the article pairs the two mechanisms; the article publishes no length threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveLifo {
    pub queue_len_threshold: u32,
}

impl AdaptiveLifo {
    pub const fn new(queue_len_threshold: u32) -> Self {
        AdaptiveLifo { queue_len_threshold }
    }

    /// LIFO exactly while controlled delay reports overload.
    pub const fn facebook() -> Self {
        AdaptiveLifo::new(u32::MAX)
    }

    /// Serve the newest request (LIFO) rather than the oldest (FIFO)?
    pub fn serve_newest(&self, queue_len: u32, overloaded: bool) -> bool {
        overloaded || queue_len > self.queue_len_threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{NS_PER_MS, NS_PER_US};

    /// A dequeue at `at_us` microseconds of a head that waited `sojourn_ms`, with `behind`
    /// requests left, and the decision expected.
    type CodelStep = (u64, u64, u32, CodelDecision);

    fn check(mut codel: Codel, steps: &[CodelStep]) -> Codel {
        for (index, &(at_us, sojourn_ms, behind, expected)) in steps.iter().enumerate() {
            let decision = codel.on_dequeue(SimTime(at_us * NS_PER_US), SimDuration::from_ms(sojourn_ms), behind);
            assert_eq!(decision, expected, "step {index}: t = {at_us} us, sojourn {sojourn_ms} ms; {codel:?}");
        }
        codel
    }

    const KEEP: CodelDecision = CodelDecision::Keep;
    const DROP: CodelDecision = CodelDecision::Drop;
    const MS: u64 = 1_000; // in microseconds

    #[test]
    fn codel_no_drop_below_target_or_before_an_interval_above_it() {
        let codel = check(
            Codel::rfc8289(),
            &[
                (0, 4, 10, KEEP),       // below target
                (10 * MS, 5, 10, KEEP), // at target: above from here; first_above_time = 110 ms
                (60 * MS, 50, 10, KEEP),
                (109_999, 50, 10, KEEP), // 1 us short of an interval above
                (110 * MS, 4, 10, KEEP), // dips below: the clock restarts
                (120 * MS, 6, 10, KEEP), // first_above_time = 220 ms
                (219 * MS, 6, 10, KEEP),
                (220 * MS, 6, 1, KEEP),  // one request left behind: never drop (MAXPACKET rule)
                (230 * MS, 6, 10, KEEP), // and the clock restarted: first_above_time = 330 ms
                (330 * MS, 6, 10, DROP),
            ],
        );
        assert!(codel.dropping());
    }

    /// Drop spacing interval / sqrt(count): 100, 70.710678, 57.735027, 50 ms.
    #[test]
    fn codel_drop_spacing_follows_the_control_law_and_ends_below_target() {
        let codel = check(
            Codel::rfc8289(),
            &[
                (10 * MS, 6, 10, KEEP),  // first_above_time = 110 ms
                (110 * MS, 8, 10, DROP), // enter dropping: count 1, drop_next = 210 ms
                (110 * MS, 7, 9, KEEP),  // the next head is served
                (150 * MS, 7, 9, KEEP),
                (209_999, 7, 9, KEEP),
                (210 * MS, 7, 9, DROP), // count 2
                (210 * MS, 7, 8, KEEP), // drop_next = 210 + 70.710678 = 280.710678 ms
                (280_710, 7, 8, KEEP),
                (280_711, 7, 8, DROP), // count 3
                (280_711, 7, 7, KEEP), // drop_next = 280.710678 + 57.735027 = 338.445705 ms
                (338_445, 7, 7, KEEP),
                (338_446, 7, 7, DROP),  // count 4
                (338_446, 7, 6, KEEP),  // drop_next = 388.445705 ms
                (350 * MS, 4, 6, KEEP), // below target: leave the dropping state
                (400 * MS, 4, 6, KEEP), // no drop at the old drop_next
            ],
        );
        assert!(!codel.dropping());
        assert_eq!(codel.drop_count(), 4);
        assert_eq!(codel.drop_next, SimTime(388_445_705));
    }

    /// Re-entering soon after an episode resumes at count - lastcount (the RFC's Linux rule);
    /// re-entering after 16 intervals, or with delta <= 1, starts again at 1.
    #[test]
    fn codel_count_reuse_rule() {
        let episode = [
            (10 * MS, 6, 10, KEEP),  // first_above_time 110 ms
            (110 * MS, 6, 10, DROP), // count 1, lastcount 1, drop_next 210
            (110 * MS, 6, 9, KEEP),
            (210 * MS, 6, 9, DROP), // count 2
            (210 * MS, 6, 8, KEEP), // drop_next 280.710678
            (281 * MS, 6, 8, DROP), // count 3
            (281 * MS, 6, 7, KEEP), // drop_next 338.445705
            (339 * MS, 6, 7, DROP), // count 4
            (339 * MS, 6, 6, KEEP), // drop_next 388.445705
            (350 * MS, 1, 6, KEEP), // leave: count 4, lastcount 1
        ];
        let mut soon = episode.to_vec();
        soon.extend([
            (360 * MS, 6, 10, KEEP), // first_above_time 460 ms
            (460 * MS, 6, 10, DROP), // delta = 4 - 1 = 3 > 1, 460 - 388 < 1600 ms: count 3
            (460 * MS, 6, 9, KEEP),  // drop_next = 460 + 57.735027
            (517_735, 6, 9, KEEP),
            (517_736, 6, 9, DROP), // count 4
        ]);
        let codel = check(Codel::rfc8289(), &soon);
        assert_eq!((codel.drop_count(), codel.lastcount), (4, 3));

        let mut late = episode.to_vec();
        late.extend([
            (2_000 * MS, 6, 10, KEEP), // first_above_time 2.1 s
            (2_100 * MS, 6, 10, DROP), // 2100 - 388 = 1712 ms >= 1600 ms: count 1
            (2_100 * MS, 6, 9, KEEP),  // drop_next 2.2 s
            (2_199 * MS, 6, 9, KEEP),
            (2_200 * MS, 6, 9, DROP),
        ]);
        let codel = check(Codel::rfc8289(), &late);
        assert_eq!((codel.drop_count(), codel.lastcount), (2, 1));

        // delta = 1 (an episode of two drops): no reuse.
        let codel = check(
            Codel::rfc8289(),
            &[
                (0, 6, 10, KEEP),
                (100 * MS, 6, 10, DROP), // count 1, lastcount 1, drop_next 200 ms
                (100 * MS, 6, 9, KEEP),
                (200 * MS, 6, 9, DROP), // count 2
                (200 * MS, 6, 8, KEEP),
                (250 * MS, 1, 8, KEEP),  // leave
                (260 * MS, 6, 10, KEEP), // first_above_time 360 ms
                (360 * MS, 6, 10, DROP), // delta = 2 - 1 = 1: count 1
                (360 * MS, 6, 9, KEEP),
                (459 * MS, 6, 9, KEEP), // drop_next 460 ms, not 360 + 70.7
                (460 * MS, 6, 9, DROP),
            ],
        );
        assert_eq!((codel.drop_count(), codel.lastcount), (2, 1));
    }

    /// A large backlog far behind its drop schedule drops several heads in one dequeue (the
    /// RFC's while loop), until drop_next passes `now` or sojourn falls below target; a backlog
    /// of at most one request also ends the dropping state.
    #[test]
    fn codel_drop_loop_and_small_backlog() {
        check(
            Codel::rfc8289(),
            &[
                (0, 50, 100, KEEP),
                (100 * MS, 50, 100, DROP), // enter: drop_next 200 ms
                (100 * MS, 50, 99, KEEP),
                // At 400 ms the schedule is 200 ms behind: 200 -> 270.7 -> 328.4 -> 378.4 -> 423.2
                (400 * MS, 50, 98, DROP), // count 2
                (400 * MS, 50, 97, DROP), // drop_next 270.7: count 3
                (400 * MS, 50, 96, DROP), // 328.4: count 4
                (400 * MS, 50, 95, DROP), // 378.4: count 5
                (400 * MS, 50, 94, KEEP), // 423.2 > 400: served
                (424 * MS, 50, 94, DROP), // count 6
                (424 * MS, 2, 93, KEEP),  // next head below target: leave the dropping state
            ],
        );
        let codel = check(
            Codel::rfc8289(),
            &[(0, 50, 3, KEEP), (100 * MS, 50, 3, DROP), (100 * MS, 50, 2, KEEP), (200 * MS, 50, 1, KEEP)],
        );
        assert!(!codel.dropping());
        assert_eq!(codel.first_above_time, None);
    }

    /// (now ms, sojourn ms, drop expected, queue timeout ms expected after the dequeue)
    type DelayStep = (u64, u64, bool, u64);

    fn check_controlled_delay(steps: &[DelayStep]) {
        let mut delay = ControlledDelay::facebook();
        assert_eq!(delay.queue_timeout(SimTime::ZERO), SimDuration::from_ms(100));
        for (index, &(at_ms, sojourn_ms, drop, timeout_ms)) in steps.iter().enumerate() {
            let now = SimTime(at_ms * NS_PER_MS);
            assert_eq!(delay.on_dequeue(now, SimDuration::from_ms(sojourn_ms)), drop, "step {index}: {delay:?}");
            assert_eq!(delay.queue_timeout(now), SimDuration::from_ms(timeout_ms), "step {index}: {delay:?}");
        }
    }

    #[test]
    fn controlled_delay_short_timeout_only_once_the_queue_has_not_drained_for_an_interval() {
        check_controlled_delay(&[
            (1, 0, false, 100),    // first dequeue: min delay 0
            (2, 0, false, 100),    // the first interval ends: min 0 <= 5, not overloaded; next ends 102
            (50, 20, false, 100),  // min stays 0: the queue drained in this interval
            (103, 20, false, 100), // not overloaded; a new interval to 203 starts with min 20
            (150, 20, false, 100), // every request now waits > 5 ms...
            (203, 20, false, 100), // (ends only after 203)
            (204, 30, false, 5),   // ...for a whole interval: overloaded, timeout 5 ms; the
            //                        first dequeue of an interval is never dropped
            (205, 30, true, 5),    // overloaded and waited > 2 * 5 ms: slough
            (206, 10, false, 5),   // exactly 10 ms is not over it
            (250, 3, false, 5),    // the queue drained (3 ms <= target)...
            (304, 30, true, 5),    // (the interval ends after 304 ms: still overloaded)
            (305, 30, false, 100), // ...so the next interval's verdict: not overloaded
        ]);
    }

    #[test]
    fn controlled_delay_judges_an_ended_interval_before_the_next_dequeue() {
        let mut delay = ControlledDelay::facebook();
        for (at_ms, sojourn_ms) in [(1, 0), (2, 40), (50, 40), (101, 40)] {
            assert!(!delay.on_dequeue(SimTime(at_ms * NS_PER_MS), SimDuration::from_ms(sojourn_ms)));
        }
        // The interval from 2 ms ends after 102 ms, with min delay 40 ms.
        assert!(!delay.overloaded(SimTime(102 * NS_PER_MS)));
        assert!(delay.overloaded(SimTime(103 * NS_PER_MS)));
        assert_eq!(delay.queue_timeout(SimTime(103 * NS_PER_MS)), SimDuration::from_ms(5));
        assert!(!delay.on_dequeue(SimTime(103 * NS_PER_MS), SimDuration::from_ms(40)), "first of its interval");
        assert!(delay.on_dequeue(SimTime(104 * NS_PER_MS), SimDuration::from_ms(40)));
        assert_eq!(delay.slough_timeout(), SimDuration::from_ms(10));
        // folly keeps target <= interval.
        assert_eq!(
            ControlledDelay::new(SimDuration::from_ms(500), SimDuration::from_ms(100)).slough_timeout(),
            SimDuration::from_ms(200)
        );
    }

    /// Zero and huge parameters, times at the end of time and running backwards: no panic.
    #[test]
    fn degenerate_parameters_do_not_panic() {
        let durations = [SimDuration::ZERO, SimDuration(1), SimDuration(u64::MAX)];
        let times = [SimTime::ZERO, SimTime::MAX, SimTime(7), SimTime::MAX, SimTime(u64::MAX - 1)];
        for target in durations {
            for interval in durations {
                let mut codel = Codel::new(target, interval);
                let mut delay = ControlledDelay::new(target, interval);
                for _ in 0..3 {
                    for now in times {
                        for sojourn in durations {
                            for behind in [0, 1, 2, u32::MAX] {
                                let _ = codel.on_dequeue(now, sojourn, behind);
                            }
                            let _ = (delay.on_dequeue(now, sojourn), delay.queue_timeout(now), delay.overloaded(now));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn adaptive_lifo_switches_on_a_formed_queue_or_overload() {
        // (threshold, queue length, overloaded, serve newest?)
        let cases = [
            (u32::MAX, 0, false, false),
            (u32::MAX, 1_000_000, false, false), // facebook(): the overload signal alone
            (u32::MAX, 0, true, true),
            (10, 10, false, false),
            (10, 11, false, true),
            (10, 0, true, true),
        ];
        for (threshold, queue_len, overloaded, newest) in cases {
            assert_eq!(
                AdaptiveLifo::new(threshold).serve_newest(queue_len, overloaded),
                newest,
                "{threshold} {queue_len}"
            );
        }
        assert_eq!(AdaptiveLifo::facebook(), AdaptiveLifo::new(u32::MAX));
    }
}

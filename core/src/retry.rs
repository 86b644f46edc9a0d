//! Retry backoff and jitter, exactly as in "Exponential Backoff And Jitter"
//! (AWS Architecture Blog, 2015). With w = backoff(n) for retry n (n = 0 for the first retry):
//!
//! - none: w
//! - full: U(0, w)
//! - equal: w/2 + U(0, w/2)
//! - decorrelated: s_0 = base; s_n = min(cap, U(base, 3 * s_(n-1))) (ignores w)
//!
//! where backoff(n) is 0 (no backoff), a constant, or min(cap, base * multiplier^n).

use crate::rng::Stream;
use crate::scenario::{BackoffModel, Jitter, RetryModel};
use crate::time::{f64_to_ns, SimDuration};

/// The un-jittered wait before retry `retry_index`.
pub fn backoff(model: &BackoffModel, retry_index: u32) -> SimDuration {
    match *model {
        BackoffModel::None => SimDuration::ZERO,
        BackoffModel::Constant { delay } => delay,
        BackoffModel::Exponential { base, cap, multiplier } => {
            let growth = libm::pow(multiplier, f64::from(retry_index));
            let wait_ns = base.0 as f64 * growth;
            if wait_ns >= cap.0 as f64 {
                cap
            } else {
                SimDuration(f64_to_ns(wait_ns))
            }
        }
    }
}

/// The wait before retry `retry_index`, jittered. `previous_wait` is the wait before the
/// previous retry (used only by decorrelated jitter; ignored for the first retry).
pub fn retry_wait(
    model: &RetryModel,
    retry_index: u32,
    previous_wait: SimDuration,
    stream: &mut Stream,
) -> SimDuration {
    let wait = backoff(&model.backoff, retry_index);
    match model.jitter {
        Jitter::None => wait,
        Jitter::Full => SimDuration(f64_to_ns(stream.uniform() * wait.0 as f64)),
        Jitter::Equal => {
            let half = wait.0 as f64 / 2.0;
            SimDuration(f64_to_ns(half + stream.uniform() * half))
        }
        Jitter::Decorrelated => {
            let (base, cap) = match model.backoff {
                BackoffModel::Exponential { base, cap, .. } => (base, cap),
                // Validation requires exponential backoff; a constant degenerates gracefully.
                BackoffModel::Constant { delay } => (delay, delay),
                BackoffModel::None => (SimDuration::ZERO, SimDuration::ZERO),
            };
            let previous = if retry_index == 0 { base } else { previous_wait };
            let high = 3.0 * previous.0 as f64;
            let drawn = stream.uniform_between(base.0 as f64, high.max(base.0 as f64));
            SimDuration(f64_to_ns(drawn).min(cap.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn exponential(base_ms: u64, cap_ms: u64, jitter: Jitter) -> RetryModel {
        RetryModel {
            max_attempts: 10,
            backoff: BackoffModel::Exponential {
                base: SimDuration::from_ms(base_ms),
                cap: SimDuration::from_ms(cap_ms),
                multiplier: 2.0,
            },
            jitter,
            honor_pushback: false,
        }
    }

    #[test]
    fn exponential_backoff_doubles_then_caps() {
        let model = exponential(10, 1_000, Jitter::None);
        let waits: Vec<u64> = (0..9).map(|n| backoff(&model.backoff, n).0 / NS_PER_MS).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
        assert_eq!(backoff(&model.backoff, 1_000).0, 1_000 * NS_PER_MS, "huge n saturates at cap");
    }

    /// Each jitter kind stays inside its published range and has the expected mean.
    #[test]
    fn jitter_ranges_and_means() {
        let mut stream = Stream::new(1, 2);
        let n = 50_000;
        let check = |jitter: Jitter, retry: u32, low_ms: f64, high_ms: f64, mean_ms: f64, stream: &mut Stream| {
            let model = exponential(10, 1_000, jitter);
            let mut sum = 0.0;
            for _ in 0..n {
                let wait_ms = retry_wait(&model, retry, SimDuration::from_ms(40), stream).as_ms_f64();
                assert!(wait_ms >= low_ms && wait_ms <= high_ms, "{jitter:?} {wait_ms}");
                sum += wait_ms;
            }
            let mean = sum / f64::from(n);
            assert!((mean - mean_ms).abs() < mean_ms * 0.02, "{jitter:?} mean {mean} vs {mean_ms}");
        };
        // retry 2: w = 40 ms.
        check(Jitter::None, 2, 40.0, 40.0, 40.0, &mut stream);
        check(Jitter::Full, 2, 0.0, 40.0, 20.0, &mut stream);
        check(Jitter::Equal, 2, 20.0, 40.0, 30.0, &mut stream);
        // decorrelated, previous wait 40 ms: U(10, 120).
        check(Jitter::Decorrelated, 2, 10.0, 120.0, 65.0, &mut stream);
        // decorrelated first retry: U(base, 3 base) = U(10, 30).
        check(Jitter::Decorrelated, 0, 10.0, 30.0, 20.0, &mut stream);
    }

    #[test]
    fn decorrelated_is_capped() {
        let model = exponential(10, 50, Jitter::Decorrelated);
        let mut stream = Stream::new(1, 3);
        for _ in 0..10_000 {
            let wait = retry_wait(&model, 5, SimDuration::from_ms(50), &mut stream);
            assert!(wait <= SimDuration::from_ms(50));
        }
    }
}

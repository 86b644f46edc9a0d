//! The recovery verdict: after a fault ends, does goodput come back?
//!
//! Health is judged on the share of offered requests that succeed (of the clients whose calls
//! touch the faulted node), so a rate that changes over time does not fool it. Baseline: that share over up to 60 s before the fault. A window of
//! about 5 s is healthy when its share is at least 90% of the baseline. The system recovered
//! at the first window after the fault from which every window stays healthy until the next
//! fault (or the end of the run); if none does and at least 30 s passed, it is metastable:
//! the outage outlived its cause.

use crate::prelude::*;
use crate::time::{SimDuration, SimTime, NS_PER_S};
use serde::Serialize;

/// Share of the baseline success ratio that counts as healthy.
pub const HEALTHY_SHARE: f64 = 0.9;
/// Baseline below which the system was not healthy before the fault.
pub const BASELINE_MIN: f64 = 0.8;
/// Time after the fault without recovery before calling it metastable.
pub const METASTABLE_AFTER: SimDuration = SimDuration(30 * NS_PER_S);
const BASELINE_WINDOW: SimDuration = SimDuration(60 * NS_PER_S);
const HEALTH_WINDOW: SimDuration = SimDuration(5 * NS_PER_S);

/// What happened after one fault.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Healthy again `after_s` seconds after the fault ended (0: it never degraded after).
    Recovered { after_s: f64 },
    /// Still unhealthy `unhealthy_for_s` seconds after the fault ended, until the end of the
    /// window examined: the failure sustains itself.
    Metastable { unhealthy_for_s: f64, success_share_at_end: f64 },
    /// Not healthy, but the run (or the next fault) came too soon to tell.
    Undetermined { observed_s: f64 },
    /// The system was already unhealthy before the fault.
    UnhealthyBefore { success_share: f64 },
}

/// The verdict on one fault, with what it was judged on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultVerdict {
    pub fault: u32,
    pub node: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Success share (goodput / offered) before the fault.
    pub baseline_success_share: f64,
    /// Whether any health window during or after the fault was unhealthy.
    pub degraded: bool,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Bucketed inputs: offered requests and successes per bucket.
pub struct HealthInput<'a> {
    pub offered: &'a [u64],
    pub succeeded: &'a [u64],
    pub bucket: SimDuration,
    /// Buckets that hold data (a stopped run has fewer than its length).
    pub buckets_done: usize,
}

impl HealthInput<'_> {
    fn bucket_of(&self, time: SimTime) -> usize {
        (time.0 / self.bucket.0.max(1)) as usize
    }

    fn share(&self, from: usize, to: usize) -> Option<f64> {
        let to = to.min(self.buckets_done);
        if from >= to {
            return None;
        }
        let offered: u64 = self.offered[from..to].iter().sum();
        let succeeded: u64 = self.succeeded[from..to].iter().sum();
        (offered > 0).then(|| succeeded as f64 / offered as f64)
    }
}

/// Judges recovery after a fault over [start, end), looking no further than `horizon`
/// (the next fault's start or the end of the run).
pub fn judge(input: &HealthInput, start: SimTime, end: SimTime, horizon: SimTime) -> (f64, bool, Verdict) {
    let start_bucket = input.bucket_of(start);
    let baseline_from = input.bucket_of(SimTime(start.0.saturating_sub(BASELINE_WINDOW.0)));
    let baseline = input.share(baseline_from, start_bucket).unwrap_or(1.0);
    let window = (HEALTH_WINDOW.0.div_ceil(input.bucket.0.max(1)) as usize).max(1);
    let threshold = HEALTHY_SHARE * baseline;
    // First bucket that starts at or after the fault's end.
    let after = (end.0.div_ceil(input.bucket.0.max(1)) as usize).min(input.buckets_done);
    let horizon_bucket = input.bucket_of(horizon).min(input.buckets_done);
    let healthy = |from: usize| input.share(from, from + window).is_none_or(|share| share >= threshold);

    let degraded =
        (start_bucket..horizon_bucket.saturating_sub(window - 1).max(start_bucket)).any(|from| !healthy(from));
    if baseline < BASELINE_MIN {
        return (baseline, degraded, Verdict::UnhealthyBefore { success_share: baseline });
    }
    // Windows that fit entirely before the horizon.
    let last_window_start = horizon_bucket.saturating_sub(window);
    let mut recovered_from = None;
    for from in (after..=last_window_start).rev() {
        if healthy(from) {
            recovered_from = Some(from);
        } else {
            break;
        }
    }
    let bucket_s = input.bucket.0 as f64 / NS_PER_S as f64;
    let end_s = end.0 as f64 / NS_PER_S as f64;
    let verdict = match recovered_from {
        Some(from) => Verdict::Recovered { after_s: (from as f64 * bucket_s - end_s).max(0.0) },
        None => {
            let observed_s = (horizon_bucket as f64 * bucket_s - end_s).max(0.0);
            if after > last_window_start || observed_s < METASTABLE_AFTER.as_secs_f64() {
                Verdict::Undetermined { observed_s }
            } else {
                let share = input.share(last_window_start, horizon_bucket).unwrap_or(0.0);
                Verdict::Metastable { unhealthy_for_s: observed_s, success_share_at_end: share }
            }
        }
    };
    (baseline, degraded, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge_series(succeeded: &[u64], start_s: u64, end_s: u64) -> Verdict {
        let offered = vec![100; succeeded.len()];
        let input = HealthInput {
            offered: &offered,
            succeeded,
            bucket: SimDuration::from_secs(1),
            buckets_done: succeeded.len(),
        };
        let horizon = SimTime(succeeded.len() as u64 * NS_PER_S);
        judge(&input, SimTime(start_s * NS_PER_S), SimTime(end_s * NS_PER_S), horizon).2
    }

    fn series(parts: &[(usize, u64)]) -> Vec<u64> {
        parts.iter().flat_map(|&(count, value)| core::iter::repeat_n(value, count)).collect()
    }

    #[test]
    fn recovery_is_timed_from_the_fault_end() {
        // healthy 100 s, fault 100..110, bad until 125, healthy after.
        let succeeded = series(&[(100, 100), (25, 0), (75, 100)]);
        assert_eq!(judge_series(&succeeded, 100, 110), Verdict::Recovered { after_s: 15.0 });
    }

    #[test]
    fn never_degrading_recovers_at_once() {
        let succeeded = series(&[(200, 100)]);
        assert_eq!(judge_series(&succeeded, 100, 110), Verdict::Recovered { after_s: 0.0 });
    }

    #[test]
    fn staying_down_is_metastable() {
        let succeeded = series(&[(100, 100), (100, 3)]);
        match judge_series(&succeeded, 100, 110) {
            Verdict::Metastable { unhealthy_for_s, success_share_at_end } => {
                assert_eq!(unhealthy_for_s, 90.0);
                assert!((success_share_at_end - 0.03).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_brief_healthy_spell_is_not_recovery() {
        let succeeded = series(&[(100, 100), (20, 0), (10, 100), (70, 0)]);
        assert!(matches!(judge_series(&succeeded, 100, 110), Verdict::Metastable { .. }));
    }

    #[test]
    fn too_little_time_after_is_undetermined() {
        let succeeded = series(&[(100, 100), (20, 0)]);
        assert!(matches!(judge_series(&succeeded, 100, 110), Verdict::Undetermined { .. }));
    }

    #[test]
    fn unhealthy_before_is_reported() {
        let succeeded = series(&[(200, 50)]);
        assert!(matches!(judge_series(&succeeded, 100, 110), Verdict::UnhealthyBefore { .. }));
    }
}

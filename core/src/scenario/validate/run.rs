//! The run as a whole: how long it lasts, the buckets its time series are counted in, and the
//! limits that keep one run's work bounded.

use crate::limits::*;
use crate::prelude::*;
use crate::scenario::check::Checker;
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::{LimitsSpec, Scenario};
use crate::time::{SimDuration, NS_PER_MS, NS_PER_S};

/// The checked run settings.
pub(super) struct Run {
    pub(super) duration: SimDuration,
    pub(super) bucket: SimDuration,
    pub(super) bucket_count: u32,
    pub(super) events_max: u64,
    pub(super) in_flight_max: u32,
}

/// Checks the duration, the bucket and the limits.
pub(super) fn run(check: &mut Checker, scenario: &Scenario) -> Run {
    let duration = check.span("duration", scenario.duration, SimDuration(NS_PER_MS), DURATION_MAX);
    let bucket = match scenario.metrics.as_ref().and_then(|metrics| metrics.bucket) {
        Some(bucket) => {
            let bucket = check.span("metrics.bucket", bucket, BUCKET_MIN, duration.max(BUCKET_MIN));
            if bucket.0 > 0 && duration.0.div_ceil(bucket.0.max(1)) > BUCKETS_MAX {
                check.fail(
                    "metrics.bucket",
                    Kind::OverLimit,
                    format!(
                        "expected at most {BUCKETS_MAX} buckets in the run; choose a bucket of at least {}",
                        SimDuration(duration.0.div_ceil(BUCKETS_MAX))
                    ),
                );
            }
            bucket
        }
        None => default_bucket(duration),
    };
    let bucket_count = u32::try_from(duration.0.div_ceil(bucket.0.max(1)).clamp(1, BUCKETS_MAX)).unwrap_or(1);
    let (events_max, in_flight_max) = limits(check, scenario.limits.as_ref());
    Run { duration, bucket, bucket_count, events_max, in_flight_max }
}

/// The most events a run may process, and the most requests it may have in flight.
fn limits(check: &mut Checker, limits: Option<&LimitsSpec>) -> (u64, u32) {
    let events_max = limits.and_then(|limits| limits.events_max).unwrap_or(EVENTS_MAX_DEFAULT);
    if events_max == 0 || events_max > EVENTS_MAX_CEILING {
        check.fail(
            "limits.events_max",
            Kind::OverLimit,
            format!("expected 1 to {EVENTS_MAX_CEILING}, got {events_max}"),
        );
    }
    let in_flight_max = limits.and_then(|limits| limits.in_flight_max).unwrap_or(IN_FLIGHT_MAX_DEFAULT);
    if in_flight_max == 0 || in_flight_max > IN_FLIGHT_MAX_CEILING {
        check.fail(
            "limits.in_flight_max",
            Kind::OverLimit,
            format!("expected 1 to {IN_FLIGHT_MAX_CEILING}, got {in_flight_max}"),
        );
    }
    (events_max, in_flight_max)
}

/// 1 s buckets, widened to whole seconds so a long run has at most [`BUCKETS_DEFAULT_MAX`];
/// a run shorter than 20 s gets 20 buckets.
fn default_bucket(duration: SimDuration) -> SimDuration {
    if duration.0 < 20 * NS_PER_S {
        let bucket_ms = (duration.0 / 20 / NS_PER_MS).max(1);
        return SimDuration(bucket_ms * NS_PER_MS);
    }
    let seconds = duration.0.div_ceil(NS_PER_S).div_ceil(BUCKETS_DEFAULT_MAX).max(1);
    SimDuration(seconds * NS_PER_S)
}

//! Simulated time: integer nanoseconds, never read from a clock.
//!
//! Integer time is what makes a run identical on every machine: no float rounding decides
//! which of two events comes first.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A length of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_ns(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_ms(ms: u64) -> SimDuration {
        SimDuration(ms * NS_PER_MS)
    }
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NS_PER_S)
    }
    pub fn as_ns(self) -> u64 {
        self.0
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Scales by a non-negative factor, rounding to the nearest nanosecond and saturating.
    pub fn mul_f64(self, factor: f64) -> SimDuration {
        SimDuration(f64_to_ns(self.0 as f64 * factor))
    }
}

/// Converts a non-negative float number of nanoseconds to an integer, rounding to nearest
/// and saturating; NaN and negatives become zero. `as` casts saturate identically on every
/// target, so this is deterministic.
pub fn f64_to_ns(ns: f64) -> u64 {
    if ns.is_nan() || ns <= 0.0 {
        0
    } else {
        (ns + 0.5) as u64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

impl fmt::Display for SimDuration {
    /// Formats with the largest unit that keeps the value exact enough to read: `250ms`, `1.5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            write!(f, "0s")
        } else if ns % NS_PER_S == 0 {
            write!(f, "{}s", ns / NS_PER_S)
        } else if ns % NS_PER_MS == 0 {
            write!(f, "{}ms", ns / NS_PER_MS)
        } else if ns % NS_PER_US == 0 {
            write!(f, "{}us", ns / NS_PER_US)
        } else {
            write!(f, "{}ns", ns)
        }
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

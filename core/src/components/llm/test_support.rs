//! Fixtures shared by the LLM endpoint's unit tests: instants in whole seconds, the serverless
//! loader of the rule of thumb, and one fixed pseudo-random stream of requests.
//!
//! Why it matters: the rate limits, the model loader and the whole endpoint are each checked
//! against the same stream (that any split of time into steps gives the same answers), so all three
//! are driven alike and a change to the stream reaches every check at once.
//!
//! Source: the stream is a 64-bit linear congruential generator with the multiplier and increment
//! of Knuth's MMIX; its draws mean nothing beyond being fixed.

use super::ModelLoaderConfig;
use crate::time::{SimDuration, SimTime, NS_PER_MS, NS_PER_S};

pub(super) fn at_secs(seconds: u64) -> SimTime {
    SimTime(seconds * NS_PER_S)
}

pub(super) const SERVERLESS: ModelLoaderConfig = ModelLoaderConfig::SERVERLESS_RULE_OF_THUMB;

/// A pseudo-random stream of `count` requests: (time, prompt, max output, output).
pub(super) fn traffic(count: u64) -> impl Iterator<Item = (SimTime, u64, u64, u64)> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut now = SimTime::ZERO;
    (0..count).map(move |_| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let draw = state >> 20;
        now += SimDuration(draw % (900 * NS_PER_MS));
        let max_output = draw % 2_048;
        (now, draw % 4_000, max_output, (draw >> 11) % (max_output + 1))
    })
}

//! Bounds on everything a scenario or a run may ask for.
//!
//! A browser tab must never freeze or run out of memory because of a shared link, so every
//! size, count and duration a user controls is checked against one of these at validation,
//! and every run stops cleanly when it reaches its work limits.

use crate::time::{SimDuration, NS_PER_S};

/// Largest scenario JSON accepted, in bytes.
pub const SCENARIO_BYTES_MAX: usize = 1 << 20;
/// Largest view state in a share link (cursor, selection, charts), in bytes of compact JSON.
pub const LINK_VIEW_BYTES_MAX: usize = 64 << 10;
/// Largest contents of a share link once inflated: a scenario, a view and the object around
/// them. Inflating stops here, so a crafted link (a "zip bomb") never allocates more.
pub const LINK_CONTENTS_BYTES_MAX: usize = SCENARIO_BYTES_MAX + LINK_VIEW_BYTES_MAX + 64;
/// Longest share-link fragment accepted, in characters. The largest scenario and view, even
/// incompressible, encode to about 1.5 Mi characters; anything longer is not a link we made.
pub const LINK_CHARS_MAX: usize = 2 << 20;
/// Most nodes in a scenario.
pub const NODES_MAX: usize = 64;
/// Most faults in a scenario.
pub const FAULTS_MAX: usize = 64;
/// Most rate changes per client.
pub const RATE_CHANGES_MAX: usize = 1_000;
/// Most components in a mixture distribution.
pub const MIXTURE_COMPONENTS_MAX: usize = 16;
/// Longest node id, in bytes.
pub const NODE_ID_BYTES_MAX: usize = 64;
/// Longest scenario name, in bytes.
pub const NAME_BYTES_MAX: usize = 200;
/// Longest description or "what to try" text, in bytes.
pub const TEXT_BYTES_MAX: usize = 4_000;
/// Largest seed: 2^53 - 1, the largest integer a JavaScript number holds exactly.
pub const SEED_MAX: u64 = (1 << 53) - 1;

/// Longest simulated run.
pub const DURATION_MAX: SimDuration = SimDuration(24 * 3_600 * NS_PER_S);
/// Longest single duration inside a scenario (timeouts, backoff, service times, delays).
pub const SPAN_MAX: SimDuration = SimDuration(3_600 * NS_PER_S);
/// Shortest metrics bucket.
pub const BUCKET_MIN: SimDuration = SimDuration(1_000_000);
/// Most metrics buckets in a run (memory of the series is proportional to it).
pub const BUCKETS_MAX: u64 = 10_000;
/// Buckets a run gets when it does not choose its bucket width.
pub const BUCKETS_DEFAULT_MAX: u64 = 2_000;

/// Highest request rate of a client, per second.
pub const RATE_PER_S_MAX: f64 = 10_000_000.0;
/// Longest visibility timeout of a queue (SQS: 12 hours).
pub const VISIBILITY_TIMEOUT_MAX: SimDuration = SimDuration(12 * 3_600 * NS_PER_S);
/// Longest retention of a queue (SQS: 14 days).
pub const RETENTION_MAX: SimDuration = SimDuration(14 * 24 * 3_600 * NS_PER_S);
/// Most users of a closed-loop client.
pub const USERS_MAX: u32 = 1_000_000;
/// Most calls a service makes per attempt (distinct call edges).
pub const CALLS_PER_SERVICE_MAX: usize = 16;
/// Most times one call is made per attempt (`count`).
pub const CALL_COUNT_MAX: u32 = 1_000;
/// Most workers in a service.
pub const WORKERS_MAX: u32 = 1_000_000;
/// Most concurrent invocations of an account's functions (and of one function).
pub const CONCURRENCY_MAX: u32 = 100_000;
/// Most tokens in a prompt, an answer or an output budget.
pub const TOKENS_MAX: u64 = 10_000_000;
/// Largest per-minute limit of an LLM endpoint.
pub const PER_MINUTE_LIMIT_MAX: u64 = 1_000_000_000_000;
/// Largest bounded queue capacity.
pub const QUEUE_CAPACITY_MAX: u32 = 10_000_000;
/// Most attempts per request (the first one included).
pub const ATTEMPTS_PER_REQUEST_MAX: u32 = 100;
/// Largest slowdown or surge factor.
pub const FACTOR_MAX: f64 = 1_000.0;
/// Largest exponential-backoff multiplier.
pub const BACKOFF_MULTIPLIER_MAX: f64 = 100.0;

/// Most events at a single instant before a run is declared stalled (time no longer moves).
/// Far above any legitimate burst: a million closed-loop users all starting at t = 0 is
/// about three million events.
pub const STALL_EVENTS_MAX: u64 = 10_000_000;
/// Events a run may process unless the scenario says otherwise.
pub const EVENTS_MAX_DEFAULT: u64 = 100_000_000;
/// The most a scenario may raise `limits.events_max` to.
pub const EVENTS_MAX_CEILING: u64 = 10_000_000_000;
/// Attempts alive at once unless the scenario says otherwise.
pub const IN_FLIGHT_MAX_DEFAULT: u32 = 1_000_000;
/// The most a scenario may raise `limits.in_flight_max` to.
pub const IN_FLIGHT_MAX_CEILING: u32 = 20_000_000;

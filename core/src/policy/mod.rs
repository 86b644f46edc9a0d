//! Resilience policies as plain state machines, one file per policy family. Each follows a
//! published algorithm (see POLICIES.md in the design notes) and is tested against a worked
//! sequence of events; the simulator in [`crate::sim`] only feeds them events and asks for
//! decisions, so a policy can be read and checked on its own.
//!
//! Why it matters: the same outage ends in minutes or in a retry storm depending on these rules,
//! and a preset named after a real system is only worth showing if it behaves like that system;
//! kept apart from the simulator, each can be checked against its source line by line.
//!
//! This module only indexes its children; each names its sources in its own header:
//!
//! - [`budget`]: retry budgets and client-side throttling (AWS SDK retry quota, gRPC retry
//!   throttling, Finagle/Envoy percentage budgets, SRE adaptive throttling).
//! - [`breaker`]: circuit breakers (consecutive failures; failure rate over a count or time
//!   window), with resilience4j and Hystrix defaults.
//! - [`limiter`]: concurrency limits, static and adaptive (AIMD, Vegas, Gradient2, Envoy
//!   gradient), one file per algorithm.
//! - [`token_bucket`]: the token-bucket rate limit (RFC 2697) of services and of LLM endpoints'
//!   per-minute limits.
//! - [`queueing`]: queue-management rules: CoDel (RFC 8289), Facebook's controlled delay,
//!   adaptive LIFO.
//! - [`balancer`]: load-balancing picks (round robin, random, least outstanding, power of two
//!   choices, peak EWMA) and outlier ejection.

pub mod balancer;
pub mod breaker;
pub mod budget;
pub mod limiter;
pub mod queueing;
pub mod token_bucket;

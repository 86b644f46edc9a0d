//! Resilience policies as plain state machines, one file per policy family. Each follows a
//! published algorithm (see POLICIES.md in the design notes) and is tested against a worked
//! sequence of events; the simulator in [`crate::sim`] only feeds them events and asks for
//! decisions, so a policy can be read and checked on its own.
//!
//! - [`budget`]: retry budgets and client-side throttling (AWS SDK retry quota, gRPC retry
//!   throttling, Finagle/Envoy percentage budgets, SRE adaptive throttling).
//! - [`breaker`]: circuit breakers (consecutive failures; failure rate over a count or time
//!   window), with resilience4j and Hystrix defaults.
//! - [`limiter`]: admission control: static and adaptive concurrency limits (AIMD, Vegas,
//!   Gradient2, Envoy gradient) and token-bucket rate limits.
//! - [`queueing`]: queue-management rules: CoDel (RFC 8289), Facebook's controlled delay,
//!   adaptive LIFO.
//! - [`balancer`]: load-balancing picks (round robin, random, least outstanding, power of two
//!   choices, peak EWMA) and outlier ejection.

pub mod balancer;
pub mod breaker;
pub mod budget;
pub mod limiter;
pub mod queueing;

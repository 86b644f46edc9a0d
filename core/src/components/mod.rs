//! Event-driven building blocks as plain state machines: a message broker (SQS-like), a serverless
//! function fleet, an LLM endpoint. The simulator in [`crate::sim`] feeds them events and asks for
//! decisions; each can be read and tested on its own.
//!
//! Why it matters: a queue, a function fleet and an LLM endpoint each fail in their own way
//! (redelivery and poison messages; cold starts and throttles; token limits and cold loads), and
//! those failures are only worth showing if they follow the vendor's documented semantics, which
//! each file can be checked against apart from the simulator.
//!
//! This module only indexes its children; each names its sources in its own header: [`broker`]
//! (the Amazon SQS Developer Guide), [`fleet`] (the AWS Lambda Developer Guide), [`llm`] (OpenAI's
//! and Anthropic's API documentation).
pub mod broker;
pub mod fleet;
pub mod llm;

//! Event-driven building blocks as plain state machines: a message broker (SQS-like), a serverless
//! function fleet, an LLM endpoint. The simulator in [`crate::sim`] feeds them events and asks for
//! decisions; each can be read and tested on its own.
pub mod broker;
pub mod fleet;
pub mod llm;

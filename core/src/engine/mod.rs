//! The discrete-event machinery: a time-ordered event queue and generational arenas.
//!
//! These know nothing of clients or services; [`crate::sim`] gives them meaning.

pub mod arena;
pub mod queue;

pub use arena::{Arena, Handle};
pub use queue::EventQueue;

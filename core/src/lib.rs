//! Stormglass core: a deterministic discrete-event simulator of clients, services, queues
//! and the retry policies between them.
//!
//! A run is a pure function of a [`ValidScenario`] (which carries its seed): the same input gives
//! bit-identical results natively and in wasm. The crate is `no_std` + `alloc`; it knows nothing
//! of the web, the OS clock or OS randomness.
//!
//! ```text
//!   scenario JSON --parse/validate--> ValidScenario --Simulation::new--> Simulation
//!        run_until(t) ... run_to_end() --report()--> RunReport (summary, series, verdicts)
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod prelude {
    pub use alloc::boxed::Box;
    pub use alloc::collections::{BTreeMap, VecDeque};
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod components;
pub mod csv;
pub mod digest;
pub mod dist;
pub mod engine;
pub mod limits;
pub mod metrics;
pub mod policy;
pub mod presets;
pub mod report;
pub mod retry;
pub mod rng;
pub mod scenario;
pub mod share_link;
pub mod sim;
pub mod time;
mod ziggurat_tables;

pub use report::RunReport;
pub use scenario::{parse_scenario, ScenarioError, ValidScenario};
pub use share_link::{decode_link, encode_link, DecodedLink, LinkError};
pub use sim::{RunStatus, Simulation};
pub use time::{SimDuration, SimTime};

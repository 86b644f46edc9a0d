//! Built-in scenarios. Each is a JSON file in `core/presets/`, so presets are data that users
//! can read, copy and edit, and each is validated by a test.

use crate::scenario::{parse_scenario, ScenarioErrors, ValidScenario};

pub struct Preset {
    /// Stable name used in links and on the command line.
    pub name: &'static str,
    pub json: &'static str,
}

/// The preset the playground opens on.
pub const DEFAULT_PRESET: &str = "retry-storm";

pub const PRESETS: &[Preset] = &[
    Preset { name: "retry-storm", json: include_str!("../presets/retry-storm.json") },
    Preset { name: "healthy-70", json: include_str!("../presets/healthy-70.json") },
    Preset { name: "fifo-vs-lifo", json: include_str!("../presets/fifo-vs-lifo.json") },
    Preset { name: "jitter-compared", json: include_str!("../presets/jitter-compared.json") },
    Preset { name: "backoff-contention", json: include_str!("../presets/backoff-contention.json") },
    Preset { name: "budget-vs-breaker", json: include_str!("../presets/budget-vs-breaker.json") },
    Preset { name: "layered-retries", json: include_str!("../presets/layered-retries.json") },
    Preset { name: "lifo-controlled-delay", json: include_str!("../presets/lifo-controlled-delay.json") },
    Preset { name: "hedged-fanout", json: include_str!("../presets/hedged-fanout.json") },
    Preset { name: "load-balancing", json: include_str!("../presets/load-balancing.json") },
    Preset { name: "poison-dlq", json: include_str!("../presets/poison-dlq.json") },
    Preset { name: "visibility-duplicates", json: include_str!("../presets/visibility-duplicates.json") },
    Preset { name: "function-burst", json: include_str!("../presets/function-burst.json") },
    Preset { name: "llm-rate-limit", json: include_str!("../presets/llm-rate-limit.json") },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

impl Preset {
    pub fn load(&self) -> Result<ValidScenario, ScenarioErrors> {
        parse_scenario(self.json)
    }
}

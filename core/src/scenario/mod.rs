//! Scenarios: the JSON format, its validation, and the model the simulator runs.
//!
//! Loading goes text -> JSON value (syntax, size) -> migration to the current format version
//! -> typed [`Scenario`] (shape, with the path of any bad field) -> [`ValidScenario`]
//! (values, references, limits).

pub mod duration;
pub mod error;
pub mod format;
pub mod model;
pub mod validate;

pub use duration::{parse_duration, Duration};
pub use error::{ScenarioError, ScenarioErrorKind, ScenarioErrors};
pub use format::*;
pub use model::*;
pub use validate::validate;

use crate::limits::SCENARIO_BYTES_MAX;
use crate::prelude::*;
use serde_json::Value;

/// Parses and validates scenario JSON text.
pub fn parse_scenario(text: &str) -> Result<ValidScenario, ScenarioErrors> {
    validate(parse_scenario_format(text)?)
}

/// Parses scenario JSON text into the format types, migrating older versions, without checking
/// values. Use [`parse_scenario`] unless you need the scenario as written.
pub fn parse_scenario_format(text: &str) -> Result<Scenario, ScenarioErrors> {
    if text.len() > SCENARIO_BYTES_MAX {
        return Err(ScenarioErrors::one(ScenarioError::new(
            "",
            ScenarioErrorKind::TooLarge,
            format!("expected a scenario of at most {SCENARIO_BYTES_MAX} bytes, got {}", text.len()),
        )));
    }
    let value: Value = serde_json::from_str(text).map_err(|error| {
        let message = if error.line() > 0 {
            format!("not valid JSON at line {}, column {}: {}", error.line(), error.column(), syntax_message(&error))
        } else {
            format!("not valid JSON: {error}")
        };
        ScenarioErrors::one(ScenarioError::new("", ScenarioErrorKind::Syntax, message))
    })?;
    from_value(migrate(value)?)
}

/// serde_json appends " at line L column C" to its messages; we say that ourselves.
fn syntax_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(position) => text[..position].to_string(),
        None => text,
    }
}

fn from_value(value: Value) -> Result<Scenario, ScenarioErrors> {
    serde_path_to_error::deserialize(&value).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = error.inner().to_string();
        ScenarioErrors::one(ScenarioError::new(path, ScenarioErrorKind::Shape, friendly_shape_message(&message)))
    })
}

/// Rewrites serde's wording where it would puzzle a user.
fn friendly_shape_message(message: &str) -> String {
    message.replace("invalid type: ", "wrong type: got ").replace("string \"", "the string \"")
}

/// Brings a scenario written in an older format version up to [`FORMAT_VERSION`].
/// Each version step is one function, so a link saved years ago still opens.
fn migrate(value: Value) -> Result<Value, ScenarioErrors> {
    let version_error = |message: String| {
        ScenarioErrors::one(ScenarioError::new("version", ScenarioErrorKind::Version, message))
    };
    let Value::Object(ref object) = value else {
        return Err(ScenarioErrors::one(ScenarioError::new(
            "",
            ScenarioErrorKind::Shape,
            "expected a JSON object with version, duration and nodes",
        )));
    };
    let version = match object.get("version") {
        None => return Err(version_error(format!("missing: expected the format version ({FORMAT_VERSION})"))),
        Some(Value::Number(number)) => number.as_u64(),
        Some(_) => None,
    };
    match version {
        Some(version) if version == u64::from(FORMAT_VERSION) => Ok(value),
        Some(version) if version > u64::from(FORMAT_VERSION) => Err(version_error(format!(
            "this scenario uses format version {version}, newer than this build reads ({FORMAT_VERSION})"
        ))),
        _ => Err(version_error(format!("expected a format version from 1 to {FORMAT_VERSION}"))),
    }
}

/// Serialises a scenario as pretty JSON (field order as in the format types).
pub fn to_json_pretty(scenario: &Scenario) -> String {
    serde_json::to_string_pretty(scenario).unwrap_or_default()
}

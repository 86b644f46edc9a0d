//! Scenarios: the JSON format, its validation, and the model the simulator runs.
//!
//! Loading goes text -> JSON value (syntax, size) -> migration to the current format version
//! -> typed [`Scenario`] (shape, with the path of any bad field) -> [`ValidScenario`]
//! (values, references, limits).

mod check;
pub mod duration;
pub mod error;
pub mod format;
pub mod llm;
pub mod model;
pub mod policies;
pub mod serverless;
pub mod validate;

pub use duration::{parse_duration, Duration};
pub use error::{ScenarioError, ScenarioErrorKind, ScenarioErrors};
pub use format::*;
pub use llm::*;
pub use model::*;
pub use policies::*;
pub use serverless::*;
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

fn from_value(mut value: Value) -> Result<Scenario, ScenarioErrors> {
    // Nodes are deserialised one by one below: serde loses the path inside an internally
    // tagged enum ("kind"), and users need to be told `nodes[1].workers`, not `nodes[1]`.
    let nodes = value.as_object_mut().and_then(|object| object.insert("nodes".into(), Value::Array(Vec::new())));
    let mut scenario: Scenario = deserialize_at("", &value)?;
    match nodes {
        None => {}
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                scenario.nodes.push(node_from_value(item, &format!("nodes[{index}]"))?);
            }
        }
        Some(other) => {
            return Err(shape_error("nodes", format!("expected an array of nodes, got {}", json_type(&other))));
        }
    }
    Ok(scenario)
}

fn node_from_value(value: &Value, path: &str) -> Result<Node, ScenarioErrors> {
    let Value::Object(object) = value else {
        return Err(shape_error(path, format!("expected a node object with a kind, got {}", json_type(value))));
    };
    let mut fields = object.clone();
    let kind = fields.remove("kind");
    let fields = Value::Object(fields);
    match kind.as_ref().and_then(Value::as_str) {
        Some("client") => deserialize_at(path, &fields).map(Node::Client),
        Some("service") => deserialize_at(path, &fields).map(Node::Service),
        Some("load_balancer") => deserialize_at(path, &fields).map(Node::LoadBalancer),
        Some("queue") => deserialize_at(path, &fields).map(Node::Queue),
        Some("function") => deserialize_at(path, &fields).map(Node::Function),
        Some("llm") => deserialize_at(path, &fields).map(Node::Llm),
        Some(other) => Err(shape_error(
            format!("{path}.kind"),
            format!(
                "unknown variant `{other}`, expected `client`, `service`, `load_balancer`, `queue`, `function` or `llm`"
            ),
        )),
        None => Err(shape_error(
            format!("{path}.kind"),
            "missing: expected \"client\", \"service\", \"load_balancer\", \"queue\", \"function\" or \"llm\"",
        )),
    }
}

/// Deserialises `value`, naming the offending field relative to `prefix` on error.
fn deserialize_at<T: serde::de::DeserializeOwned>(prefix: &str, value: &Value) -> Result<T, ScenarioErrors> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let inner = error.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (_, ".") => prefix.to_string(),
            (true, _) => inner,
            (false, _) if inner.starts_with('[') => format!("{prefix}{inner}"),
            (false, _) => format!("{prefix}.{inner}"),
        };
        shape_error(path, friendly_shape_message(&error.inner().to_string()))
    })
}

fn shape_error(path: impl Into<String>, message: impl Into<String>) -> ScenarioErrors {
    ScenarioErrors::one(ScenarioError::new(path, ScenarioErrorKind::Shape, message))
}

/// What kind of JSON value a value is, as messages name it: "a number", "an object".
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Rewrites serde's wording where it would puzzle a user.
fn friendly_shape_message(message: &str) -> String {
    message.replace("invalid type: ", "wrong type: got ").replace("string \"", "the string \"")
}

/// Brings a scenario written in an older format version up to [`FORMAT_VERSION`].
/// Each version step is one function, so a link saved years ago still opens.
fn migrate(value: Value) -> Result<Value, ScenarioErrors> {
    let version_error =
        |message: String| ScenarioErrors::one(ScenarioError::new("version", ScenarioErrorKind::Version, message));
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

//! Typed scenario errors that name the offending field.

use crate::prelude::*;
use core::fmt;
use serde::Serialize;

/// What kind of problem a scenario has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScenarioErrorKind {
    /// The text is not valid JSON.
    Syntax,
    /// The text is larger than the scenario size limit.
    TooLarge,
    /// A field is missing, unknown, or of the wrong type.
    Shape,
    /// A value is of the right type but not allowed (negative rate, end before start, ...).
    Invalid,
    /// A field refers to a node id that does not exist, or to a node of the wrong kind.
    UnknownReference,
    /// Two nodes share an id.
    Duplicate,
    /// The format version is not one this build reads.
    Version,
    /// A count or size is over one of the limits in [`crate::limits`].
    OverLimit,
}

/// One problem in a scenario: where it is and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioError {
    /// Path of the offending field, like `nodes[1].calls[0].timeout`; empty for the whole text.
    pub path: String,
    pub kind: ScenarioErrorKind,
    /// What is wrong and what was expected, for people.
    pub message: String,
}

impl ScenarioError {
    pub fn new(path: impl Into<String>, kind: ScenarioErrorKind, message: impl Into<String>) -> Self {
        ScenarioError { path: path.into(), kind, message: message.into() }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a scenario (never empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl ScenarioErrors {
    pub fn one(error: ScenarioError) -> Self {
        ScenarioErrors(vec![error])
    }
    pub fn first(&self) -> Option<&ScenarioError> {
        self.0.first()
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ScenarioErrors {}
#[cfg(feature = "std")]
impl std::error::Error for ScenarioError {}

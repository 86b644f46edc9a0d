//! The primitive checks validation is built from: a [`Checker`] that collects every error
//! instead of stopping at the first, its checks of texts, numbers, durations and distributions,
//! and [`NodeIds`], which resolves the ids one node uses to name another.
//!
//! Nothing here knows a scenario area's rules; those live in [`super::validate`].

use super::duration::Duration;
use super::error::{ScenarioError, ScenarioErrorKind as Kind, ScenarioErrors};
use super::format::{Dist, MixtureComponent};
use super::model::{NodeKind, NodeModel};
use crate::dist::DistModel;
use crate::limits::{MIXTURE_COMPONENTS_MAX, SPAN_MAX};
use crate::prelude::*;
use crate::time::SimDuration;

/// Collects validation errors in the order they are found. Each check records what it finds
/// wrong and still returns a usable value, so validation goes on and reports everything at once.
#[derive(Default)]
pub(super) struct Checker {
    errors: Vec<ScenarioError>,
}

impl Checker {
    /// Records an error at `path`.
    pub(super) fn fail(&mut self, path: impl Into<String>, kind: Kind, message: impl Into<String>) {
        self.errors.push(ScenarioError::new(path, kind, message));
    }

    /// The errors found, if any.
    pub(super) fn finish(self) -> Result<(), ScenarioErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioErrors(self.errors))
        }
    }

    /// A text of at most `max_bytes`.
    pub(super) fn text(&mut self, path: &str, text: &str, max_bytes: usize) {
        if text.len() > max_bytes {
            self.fail(path, Kind::OverLimit, format!("expected at most {max_bytes} bytes, got {}", text.len()));
        }
    }

    /// A finite number in [min, max].
    pub(super) fn number(&mut self, path: &str, value: f64, min: f64, max: f64) -> bool {
        if value.is_finite() && value >= min && value <= max {
            true
        } else {
            self.fail(path, Kind::Invalid, format!("expected a number from {min} to {max}, got {value}"));
            false
        }
    }

    /// A probability: a finite number in [0, 1].
    pub(super) fn probability(&mut self, path: &str, value: f64) -> bool {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            true
        } else {
            self.fail(path, Kind::Invalid, format!("expected a probability from 0 to 1, got {value}"));
            false
        }
    }

    /// A duration in [min, max].
    pub(super) fn span(&mut self, path: &str, value: Duration, min: SimDuration, max: SimDuration) -> SimDuration {
        let value = value.0;
        if value < min || value > max {
            self.fail(path, Kind::Invalid, format!("expected a duration from {min} to {max}, got {value}"));
        }
        value
    }

    /// An optional count in [min, max], or `default`.
    pub(super) fn count_or(&mut self, path: &str, value: Option<u32>, default: u32, min: u32, max: u32) -> u32 {
        match value {
            None => default,
            Some(value) if value >= min && value <= max => value,
            Some(value) => {
                self.fail(path, Kind::Invalid, format!("expected {min} to {max}, got {value}"));
                default
            }
        }
    }

    /// An optional number in [min, max], or `default`.
    pub(super) fn number_or(&mut self, path: &str, value: Option<f64>, default: f64, min: f64, max: f64) -> f64 {
        match value {
            None => default,
            Some(value) if self.number(path, value, min, max) => value,
            Some(_) => default,
        }
    }

    /// An optional duration in [min, [`SPAN_MAX`]], or `default`.
    pub(super) fn span_or(
        &mut self,
        path: &str,
        value: Option<Duration>,
        default: SimDuration,
        min: SimDuration,
    ) -> SimDuration {
        value.map_or(default, |value| self.span(path, value, min, SPAN_MAX))
    }

    /// A duration distribution. `nested` is true inside a mixture, which cannot hold another.
    pub(super) fn dist(&mut self, path: &str, dist: &Dist, nested: bool) -> DistModel {
        match dist {
            Dist::Constant(value) => DistModel::Constant {
                ns: self.span(&format!("{path}.constant"), *value, SimDuration::ZERO, SPAN_MAX).0,
            },
            Dist::Exponential(exponential) => {
                let mean = self.span(&format!("{path}.exponential.mean"), exponential.mean, SimDuration(1), SPAN_MAX);
                DistModel::Exponential { mean_ns: mean.0 as f64 }
            }
            Dist::Lognormal(lognormal) => {
                let p50 = self.span(&format!("{path}.lognormal.p50"), lognormal.p50, SimDuration(1), SPAN_MAX);
                let p99 = self.span(&format!("{path}.lognormal.p99"), lognormal.p99, SimDuration(1), SPAN_MAX);
                if p99 < p50 {
                    self.fail(
                        format!("{path}.lognormal.p99"),
                        Kind::Invalid,
                        format!("expected at least p50 ({p50}), got {p99}"),
                    );
                }
                DistModel::lognormal_from_percentiles(p50.0.max(1), p99.0.max(p50.0).max(1))
            }
            Dist::Uniform(uniform) => {
                let min = self.span(&format!("{path}.uniform.min"), uniform.min, SimDuration::ZERO, SPAN_MAX);
                let max = self.span(&format!("{path}.uniform.max"), uniform.max, SimDuration::ZERO, SPAN_MAX);
                if max < min {
                    self.fail(
                        format!("{path}.uniform.max"),
                        Kind::Invalid,
                        format!("expected at least min ({min}), got {max}"),
                    );
                }
                DistModel::Uniform { min_ns: min.0 as f64, max_ns: max.0.max(min.0) as f64 }
            }
            Dist::Mixture(components) => self.mixture(&format!("{path}.mixture"), components, nested),
        }
    }

    /// A mixture: weighted plain distributions, the weights turned into cumulative shares.
    fn mixture(&mut self, path: &str, components: &[MixtureComponent], nested: bool) -> DistModel {
        if nested {
            self.fail(path, Kind::Invalid, "expected a plain distribution: a mixture cannot contain a mixture");
            return DistModel::Constant { ns: 0 };
        }
        if components.is_empty() || components.len() > MIXTURE_COMPONENTS_MAX {
            self.fail(
                path,
                Kind::OverLimit,
                format!("expected 1 to {MIXTURE_COMPONENTS_MAX} components, got {}", components.len()),
            );
            return DistModel::Constant { ns: 0 };
        }
        let mut total_weight = 0.0;
        for (index, component) in components.iter().enumerate() {
            if self.number(&format!("{path}[{index}].weight"), component.weight, 0.0, 1e9) {
                total_weight += component.weight;
            }
        }
        if total_weight <= 0.0 {
            self.fail(path, Kind::Invalid, "expected at least one component with a positive weight");
            total_weight = 1.0;
        }
        let mut cumulative = 0.0;
        let mut models = Vec::with_capacity(components.len());
        for (index, component) in components.iter().enumerate() {
            let model = self.dist(&format!("{path}[{index}].dist"), &component.dist, true);
            cumulative += component.weight.max(0.0) / total_weight;
            let is_last = index + 1 == components.len();
            models.push((if is_last { 1.0 } else { cumulative }, model));
        }
        DistModel::Mixture { components: models }
    }
}

/// The scenario's nodes as references see them: the position each id names, and each node's
/// kind and index among the model's nodes of that kind.
pub(super) struct NodeIds<'a> {
    pub(super) index_of_id: BTreeMap<&'a str, u16>,
    pub(super) models: Vec<NodeModel>,
}

impl NodeIds<'_> {
    /// The node at `node`, a position [`NodeIds::resolve`] returned.
    pub(super) fn model(&self, node: u16) -> &NodeModel {
        &self.models[usize::from(node)]
    }

    /// The nodes, for the validated scenario.
    pub(super) fn into_models(self) -> Vec<NodeModel> {
        self.models
    }

    /// The position of the node `id` names, or an error listing the ids that exist.
    pub(super) fn resolve(&self, check: &mut Checker, path: &str, id: &str) -> Option<u16> {
        let node = self.index_of_id.get(id).copied();
        if node.is_none() {
            let known: Vec<&str> = self.index_of_id.keys().copied().collect();
            check.fail(
                path,
                Kind::UnknownReference,
                format!("expected the id of a node ({}), got {id:?}", known.join(", ")),
            );
        }
        node
    }

    /// The queue index of the queue node `id` names.
    pub(super) fn queue(&self, check: &mut Checker, path: &str, id: &str) -> Option<u16> {
        let model = self.model(self.resolve(check, path, id)?);
        if model.kind == NodeKind::Queue {
            Some(model.index)
        } else {
            check.fail(
                path,
                Kind::UnknownReference,
                format!("expected the id of a queue; {id:?} is {}", model.kind.with_article()),
            );
            None
        }
    }
}

//! What the drawing code reads: the parts of a run report (and the scenario's fault windows)
//! that the charts and the event graph show, deserialised from the plain JS object the worker
//! posted. The page holds one of these behind the `Figures` handle, so scrubbing the time
//! cursor redraws from wasm memory without crossing the JS boundary with the whole report.

use crate::topology::Topology;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Bounds on what the drawing code accepts, so a hand-made object cannot make it loop for
/// minutes. They match or exceed the core's own limits.
pub const BUCKETS_MAX: usize = 10_000;
pub const NODES_MAX: usize = 256;
pub const FAULTS_MAX: usize = 256;
/// Longest time axis accepted, in seconds: far beyond the core's 24 h limit, and small
/// enough that axis arithmetic stays finite.
pub const AXIS_S_MAX: f64 = 1e9;

/// A run as the page draws it.
#[derive(Debug, Deserialize)]
pub struct RunView {
    pub report: ReportView,
    #[serde(default)]
    pub faults: Vec<FaultWindow>,
    /// Edge paths and policies, load balancers' pools (absent: plain edges, no pools).
    #[serde(default)]
    pub topology: Topology,
    /// Runs drawn with this one (compare mode's other variant, other seeds); set by the page.
    #[serde(skip)]
    pub overlay: crate::compare::Overlay,
}

#[derive(Debug, Deserialize)]
pub struct ReportView {
    /// Simulated time reached, in seconds (less than `duration_s` while running).
    pub simulated_s: f64,
    /// Length of the scenario, in seconds: the charts' time axis spans all of it.
    pub duration_s: f64,
    pub series: SeriesView,
}

#[derive(Debug, Deserialize)]
pub struct SeriesView {
    pub bucket_s: f64,
    pub buckets: u32,
    pub system: Metrics,
    pub nodes: Vec<NodeSeriesView>,
    pub edges: Vec<EdgeSeriesView>,
}

/// Named series; NaN marks a bucket without data.
pub type Metrics = BTreeMap<String, Values>;

#[derive(Debug, Deserialize)]
pub struct NodeSeriesView {
    pub id: String,
    pub kind: String,
    pub metrics: Metrics,
}

#[derive(Debug, Deserialize)]
pub struct EdgeSeriesView {
    pub from: String,
    pub to: String,
    pub metrics: Metrics,
}

/// A fault's window and what it does, for shading and for the graph's fault badge.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultWindow {
    pub node: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Short description of the effects, like "slowdown 3x".
    pub label: String,
}

/// One value per bucket. Accepts numbers and null (what JSON makes of NaN), so a report that
/// went through JSON draws the same as one passed as a JS object.
#[derive(Debug, Default, Clone)]
pub struct Values(pub Vec<f64>);

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Values, D::Error> {
        struct ValuesVisitor;
        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = Values;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of numbers (null for no data)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(BUCKETS_MAX));
                while let Some(value) = seq.next_element::<Option<f64>>()? {
                    if values.len() == BUCKETS_MAX {
                        return Err(serde::de::Error::custom(format!("more than {BUCKETS_MAX} buckets")));
                    }
                    values.push(value.unwrap_or(f64::NAN));
                }
                Ok(Values(values))
            }
        }
        deserializer.deserialize_seq(ValuesVisitor)
    }
}

impl Values {
    /// The value of a bucket, NaN when the series is shorter.
    pub fn at(&self, bucket: usize) -> f64 {
        self.0.get(bucket).copied().unwrap_or(f64::NAN)
    }
}

/// The value of a named series at a bucket; NaN when the series is missing.
pub fn metric_at(metrics: &Metrics, name: &str, bucket: usize) -> f64 {
    metrics.get(name).map_or(f64::NAN, |values| values.at(bucket))
}

/// Largest finite value of a series over the run, if any.
pub fn metric_max(metrics: &Metrics, name: &str) -> Option<f64> {
    metrics.get(name)?.0.iter().copied().filter(|value| value.is_finite()).reduce(f64::max)
}

impl RunView {
    /// Checks what deserialisation cannot: finite positive times and bounded sizes. The error
    /// names the field, like the scenario errors do.
    pub fn check(&self) -> Result<(), (String, String)> {
        let report = &self.report;
        let series = &report.series;
        let bad = |path: &str, message: &str| Err((path.to_string(), message.to_string()));
        let seconds = |value: f64| value.is_finite() && (0.0..=AXIS_S_MAX).contains(&value);
        if !(seconds(series.bucket_s) && series.bucket_s > 0.0) {
            return bad("report.series.bucket_s", "expected a positive number of seconds");
        }
        if !seconds(report.duration_s) {
            return bad("report.duration_s", &format!("expected a number of seconds from 0 to {AXIS_S_MAX}"));
        }
        if !seconds(report.simulated_s) {
            return bad("report.simulated_s", &format!("expected a number of seconds from 0 to {AXIS_S_MAX}"));
        }
        if series.buckets as usize > BUCKETS_MAX {
            return bad("report.series.buckets", &format!("expected at most {BUCKETS_MAX} buckets"));
        }
        if series.nodes.len() > NODES_MAX || series.edges.len() > NODES_MAX {
            return bad("report.series.nodes", &format!("expected at most {NODES_MAX} nodes and edges"));
        }
        let topology = &self.topology;
        if topology.edges.len() > NODES_MAX
            || topology.balancers.len() > NODES_MAX
            || topology.services.len() > NODES_MAX
            || topology.functions.len() > NODES_MAX
            || topology.llms.len() > NODES_MAX
        {
            return bad(
                "topology",
                &format!("expected at most {NODES_MAX} edges, balancers, services, functions and LLM endpoints"),
            );
        }
        if topology.balancers.iter().any(|balancer| balancer.pool.len() > NODES_MAX) {
            return bad("topology.balancers", &format!("expected pools of at most {NODES_MAX} services"));
        }
        if self.faults.len() > FAULTS_MAX {
            return bad("faults", &format!("expected at most {FAULTS_MAX} faults"));
        }
        for (index, fault) in self.faults.iter().enumerate() {
            if !(fault.start_s.is_finite() && fault.end_s.is_finite()) {
                return bad(&format!("faults[{index}]"), "expected finite start_s and end_s");
            }
        }
        Ok(())
    }

    pub fn bucket_s(&self) -> f64 {
        self.report.series.bucket_s
    }

    pub fn buckets(&self) -> usize {
        self.report.series.buckets as usize
    }

    /// The bucket the time cursor falls in, clamped to the buckets with data.
    pub fn bucket_at(&self, cursor_s: f64) -> Option<usize> {
        let buckets = self.buckets();
        if buckets == 0 {
            return None;
        }
        let cursor_s = if cursor_s.is_finite() { cursor_s.max(0.0) } else { 0.0 };
        Some(((cursor_s / self.bucket_s()) as usize).min(buckets - 1))
    }

    /// The time axis spans the whole scenario, so a partial run fills it from the left.
    pub fn axis_end_s(&self) -> f64 {
        let end = self.report.duration_s.max(self.report.simulated_s);
        if end > 0.0 {
            end
        } else {
            self.bucket_s() * self.buckets().max(1) as f64
        }
    }

    /// The topology's description of series edge `index`, when the two lists agree.
    pub fn edge_info(&self, index: usize) -> Option<&crate::topology::EdgeInfo> {
        let edges = &self.topology.edges;
        let series = self.report.series.edges.get(index)?;
        edges.get(index).filter(|info| info.from == series.from && info.to == series.to)
    }

    /// Fault windows in force at a time.
    pub fn faults_at(&self, time_s: f64) -> impl Iterator<Item = &FaultWindow> {
        self.faults.iter().filter(move |fault| fault.start_s <= time_s && time_s < fault.end_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(json: &str) -> Result<RunView, String> {
        let view: RunView = serde_json::from_str(json).map_err(|error| error.to_string())?;
        view.check().map_err(|(path, message)| format!("{path}: {message}"))?;
        Ok(view)
    }

    fn report(bucket_s: &str, buckets: u32, values: &str) -> String {
        format!(
            r#"{{"report": {{"simulated_s": 3, "duration_s": 3, "series": {{"bucket_s": {bucket_s}, "buckets": {buckets},
               "system": {{"goodput_per_s": {values}}}, "nodes": [], "edges": []}}}}, "faults": []}}"#
        )
    }

    #[test]
    fn null_values_read_as_no_data() {
        let view = view(&report("1", 3, "[1, null, 3]")).unwrap();
        let values = &view.report.series.system["goodput_per_s"];
        assert!(values.at(1).is_nan());
        assert_eq!(values.at(2), 3.0);
        assert!(values.at(99).is_nan(), "past the end is no data, not a panic");
        assert_eq!(view.bucket_at(2.5), Some(2));
        assert_eq!(view.bucket_at(1e12), Some(2));
        assert_eq!(view.bucket_at(f64::NAN), Some(0));
    }

    #[test]
    fn bad_shapes_are_refused_with_their_field() {
        let cases = [
            (report("0", 3, "[1]"), "report.series.bucket_s"),
            (report("-1", 3, "[1]"), "report.series.bucket_s"),
            (report("1", 20000, "[1]"), "report.series.buckets"),
            (report("1e300", 3, "[1]"), "report.series.bucket_s"),
        ];
        for (json, field) in cases {
            let error = view(&json).err().unwrap_or_default();
            assert!(error.starts_with(field), "{json}: {error}");
        }
        assert!(view(&report("1", 3, r#"["x"]"#)).is_err());
        assert!(view("{}").is_err());
    }
}

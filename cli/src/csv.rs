//! The CLI's `--series` file: the report's time series through the core's CSV writer.

use stormglass_core::csv::{edge_column, node_column, series_csv as write_csv, system_column};
use stormglass_core::report::SeriesReport;

/// Columns: `time_s`, then `system.NAME`, then `NODE.NAME` per node, then `FROM->TO.NAME` per edge.
pub fn series_csv(series: &SeriesReport) -> String {
    let mut columns: Vec<(String, &[f64])> = Vec::new();
    for (name, values) in &series.system {
        columns.push((system_column(name), values));
    }
    for node in &series.nodes {
        for (name, values) in &node.metrics {
            columns.push((node_column(&node.id, name), values));
        }
    }
    for edge in &series.edges {
        for (name, values) in &edge.metrics {
            columns.push((edge_column(&edge.from, &edge.to, name), values));
        }
    }
    write_csv(series.bucket_s, series.buckets, &columns)
}

//! Time series as CSV: one row per bucket, one column per series.

use stormglass_core::report::SeriesReport;

fn number(value: f64) -> String {
    if value.is_finite() {
        let text = format!("{value:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text.is_empty() || text == "-" {
            "0".to_string()
        } else {
            text.to_string()
        }
    } else {
        String::new()
    }
}

/// Columns: `time_s`, then `system.NAME`, then `NODE.NAME` per node, then `FROM->TO.NAME` per edge.
pub fn series_csv(series: &SeriesReport) -> String {
    let mut columns: Vec<(String, &Vec<f64>)> = Vec::new();
    for (name, values) in &series.system {
        columns.push((format!("system.{name}"), values));
    }
    for node in &series.nodes {
        for (name, values) in &node.metrics {
            columns.push((format!("{}.{name}", node.id), values));
        }
    }
    for edge in &series.edges {
        for (name, values) in &edge.metrics {
            columns.push((format!("{}->{}.{name}", edge.from, edge.to), values));
        }
    }
    let quote = |text: &str| {
        if text.contains([',', '"', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        }
    };
    let mut out = String::from("time_s");
    for (name, _) in &columns {
        out.push(',');
        out.push_str(&quote(name));
    }
    out.push('\n');
    for bucket in 0..series.buckets as usize {
        out.push_str(&number(bucket as f64 * series.bucket_s));
        for (_, values) in &columns {
            out.push(',');
            out.push_str(&values.get(bucket).map_or(String::new(), |&v| number(v)));
        }
        out.push('\n');
    }
    out
}

//! Time series as CSV: one row per bucket, one column per series. The CLI (`run --series`)
//! and the page's export both write with this, from their own views of a report.

use crate::prelude::*;

/// A value as CSV writes it: up to six decimals, no trailing zeros; empty for no data (NaN).
fn number(value: f64) -> String {
    if value.is_finite() {
        let text = format!("{value:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text.is_empty() || text == "-" || text == "-0" {
            "0".to_string()
        } else {
            text.to_string()
        }
    } else {
        String::new()
    }
}

fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A `time_s` column (each bucket's start), then `columns` as given: (name, one value per
/// bucket). `buckets` rows; a column shorter than that leaves its cells empty.
pub fn series_csv(bucket_s: f64, buckets: u32, columns: &[(String, &[f64])]) -> String {
    let mut out = String::from("time_s");
    for (name, _) in columns {
        out.push(',');
        out.push_str(&quote(name));
    }
    out.push('\n');
    for bucket in 0..buckets as usize {
        out.push_str(&number(bucket as f64 * bucket_s));
        for (_, values) in columns {
            out.push(',');
            out.push_str(&values.get(bucket).map_or(String::new(), |&v| number(v)));
        }
        out.push('\n');
    }
    out
}

/// Column names as the CLI and the page write them: `system.NAME`, `NODE.NAME`, `FROM->TO.NAME`.
pub fn system_column(name: &str) -> String {
    format!("system.{name}")
}

pub fn node_column(node: &str, name: &str) -> String {
    format!("{node}.{name}")
}

pub fn edge_column(from: &str, to: &str, name: &str) -> String {
    format!("{from}->{to}.{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_per_bucket_with_quoted_names_and_empty_cells_for_no_data() {
        let (a, b) = ([1.5, f64::NAN, 0.0], [2.0]);
        let columns = [("system.x".to_string(), &a[..]), ("say \"hi\", twice".to_string(), &b[..])];
        let csv = series_csv(0.5, 3, &columns);
        assert_eq!(csv, "time_s,system.x,\"say \"\"hi\"\", twice\"\n0,1.5,2\n0.5,,\n1,0,\n");
    }

    #[test]
    fn numbers_keep_six_decimals_without_trailing_zeros() {
        assert_eq!(number(1.0 / 3.0), "0.333333");
        assert_eq!(number(-0.0000001), "0");
        assert_eq!(number(1200.0), "1200");
        assert_eq!(number(f64::INFINITY), "");
    }
}

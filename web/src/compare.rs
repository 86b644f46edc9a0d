//! Several runs shown together: compare mode's two variants of a scenario (A and B, on the
//! same seed, so the same arrivals and service times: the difference is the change), or one
//! scenario on several seeds (a median and a 10–90% range).
//!
//! This module holds what the page shows in the summary (rows of A, B and the signed
//! difference; rows of median and range) and the [`Overlay`] a `Figures` keeps for the
//! charts; `charts/overlay.rs` turns it into the lines and bands drawn.

use crate::format::{format, Unit};
use crate::spread::{spread, SEEDS_MAX};
use crate::view::RunView;
use serde::{Deserialize, Serialize};

/// Runs drawn with the one a `Figures` holds.
#[derive(Debug, Default)]
pub enum Overlay {
    #[default]
    None,
    /// The other variant of a comparison. The `Figures`' own run is the variant being edited
    /// (the graph and the policies chart show it); `edited` says which letter that is.
    Variant { other: Box<RunView>, edited: Letter },
    /// The scenario on consecutive seeds, the `Figures`' own run (the first seed) among them.
    Seeds { runs: Vec<RunView> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Letter {
    A,
    B,
}

impl Letter {
    pub fn from_name(name: &str) -> Option<Letter> {
        match name {
            "A" | "a" => Some(Letter::A),
            "B" | "b" => Some(Letter::B),
            _ => None,
        }
    }
}

/// The parts of a run report the summary compares.
#[derive(Debug, Deserialize)]
pub struct SummaryInput {
    pub summary: SummaryNumbers,
    #[serde(default)]
    pub verdicts: Vec<VerdictInput>,
}

#[derive(Debug, Deserialize)]
pub struct SummaryNumbers {
    pub goodput_per_s: f64,
    pub success_ratio: f64,
    pub amplification: f64,
    pub latency_ms: Option<LatencyInput>,
    pub wasted_work_share: f64,
}

#[derive(Debug, Deserialize)]
pub struct LatencyInput {
    pub p99: f64,
}

#[derive(Debug, Deserialize)]
pub struct VerdictInput {
    pub node: String,
    pub verdict: String,
}

/// One headline number, how it is written, and which way is better.
struct Headline {
    key: &'static str,
    label: &'static str,
    unit: Unit,
    /// True when more is better (goodput), false when less is (p99).
    higher_is_better: bool,
    value: fn(&SummaryNumbers) -> f64,
}

const HEADLINES: [Headline; 5] = [
    Headline {
        key: "goodput",
        label: "Goodput",
        unit: Unit::PerSecond,
        higher_is_better: true,
        value: |s| s.goodput_per_s,
    },
    Headline {
        key: "success",
        label: "Success",
        unit: Unit::Share,
        higher_is_better: true,
        value: |s| s.success_ratio,
    },
    Headline {
        key: "amplification",
        label: "Amplification",
        unit: Unit::Factor,
        higher_is_better: false,
        value: |s| s.amplification,
    },
    Headline {
        key: "p99",
        label: "Latency p99",
        unit: Unit::Milliseconds,
        higher_is_better: false,
        value: |s| s.latency_ms.as_ref().map_or(f64::NAN, |latency| latency.p99),
    },
    Headline {
        key: "wasted",
        label: "Wasted work",
        unit: Unit::Share,
        higher_is_better: false,
        value: |s| s.wasted_work_share,
    },
];

/// A row of the comparison: A's and B's values and B − A, written for people.
#[derive(Debug, PartialEq, Serialize)]
pub struct ComparisonRow {
    pub key: String,
    pub label: String,
    pub a: String,
    pub b: String,
    /// B − A with its sign and unit ("+420/s", "−52 pp", "B recovers, A does not").
    pub delta: String,
    /// "b" when B is better, "a" when A is, "same" otherwise.
    pub better: &'static str,
}

/// A signed difference in the value's unit; shares differ in percentage points.
pub fn signed_delta(delta: f64, unit: Unit) -> String {
    if !delta.is_finite() {
        return crate::format::NO_DATA.to_string();
    }
    let sign = if delta > 0.0 {
        "+"
    } else if delta < 0.0 {
        "−"
    } else {
        "±"
    };
    let magnitude = delta.abs();
    let text = match unit {
        Unit::Share => format!("{} pp", crate::format::compact((magnitude * 1000.0).round() / 10.0)),
        _ => format(magnitude, unit),
    };
    format!("{sign}{text}")
}

/// The comparison of variant A and variant B: the headline numbers, then one row per fault
/// with both verdicts.
pub fn compare(a: &SummaryInput, b: &SummaryInput) -> Vec<ComparisonRow> {
    let mut rows = Vec::new();
    for headline in &HEADLINES {
        let (value_a, value_b) = ((headline.value)(&a.summary), (headline.value)(&b.summary));
        let delta = value_b - value_a;
        // Differences below what the summary shows are no difference.
        let same = format(value_a, headline.unit) == format(value_b, headline.unit);
        let better = if !delta.is_finite() || same {
            "same"
        } else if (delta > 0.0) == headline.higher_is_better {
            "b"
        } else {
            "a"
        };
        rows.push(ComparisonRow {
            key: headline.key.to_string(),
            label: headline.label.to_string(),
            a: format(value_a, headline.unit),
            b: format(value_b, headline.unit),
            delta: if same && delta.is_finite() { "no change".to_string() } else { signed_delta(delta, headline.unit) },
            better,
        });
    }
    let faults = a.verdicts.len().max(b.verdicts.len());
    for index in 0..faults {
        let (verdict_a, verdict_b) = (a.verdicts.get(index), b.verdicts.get(index));
        let word = |verdict: Option<&VerdictInput>| verdict.map_or("–".to_string(), |v| v.verdict.replace('_', " "));
        let node = verdict_a.or(verdict_b).map_or("", |v| v.node.as_str());
        let recovered = |verdict: Option<&VerdictInput>| verdict.is_some_and(|v| v.verdict == "recovered");
        let (delta, better) = match (recovered(verdict_a), recovered(verdict_b)) {
            (false, true) => ("B recovers, A does not".to_string(), "b"),
            (true, false) => ("A recovers, B does not".to_string(), "a"),
            _ if word(verdict_a) == word(verdict_b) => ("same verdict".to_string(), "same"),
            _ => ("different verdicts".to_string(), "same"),
        };
        rows.push(ComparisonRow {
            key: format!("verdict-{index}"),
            label: format!("Fault on {node}"),
            a: word(verdict_a),
            b: word(verdict_b),
            delta,
            better,
        });
    }
    rows
}

/// A row of the seeds' summary: the median and the 10–90% range of a headline number.
#[derive(Debug, PartialEq, Serialize)]
pub struct SpreadRow {
    pub key: String,
    pub label: String,
    pub median: String,
    /// "low – high" ("–" when no run had the number).
    pub range: String,
}

/// The headline numbers over the runs of several seeds, then per fault how many recovered.
pub fn seed_summary(runs: &[SummaryInput]) -> Vec<SpreadRow> {
    let mut rows = Vec::new();
    for headline in &HEADLINES {
        let values: Vec<f64> = runs.iter().map(|run| (headline.value)(&run.summary)).collect();
        let (median, range) = match spread(&values) {
            Some(s) => (
                format(s.median, headline.unit),
                format!("{} – {}", format(s.low, headline.unit), format(s.high, headline.unit)),
            ),
            None => (crate::format::NO_DATA.to_string(), crate::format::NO_DATA.to_string()),
        };
        rows.push(SpreadRow { key: headline.key.to_string(), label: headline.label.to_string(), median, range });
    }
    let faults = runs.iter().map(|run| run.verdicts.len()).max().unwrap_or(0);
    for index in 0..faults {
        let node = runs.iter().find_map(|run| run.verdicts.get(index)).map_or("", |v| v.node.as_str());
        let recovered =
            runs.iter().filter(|run| run.verdicts.get(index).is_some_and(|v| v.verdict == "recovered")).count();
        let metastable =
            runs.iter().filter(|run| run.verdicts.get(index).is_some_and(|v| v.verdict == "metastable")).count();
        rows.push(SpreadRow {
            key: format!("verdict-{index}"),
            label: format!("Fault on {node}"),
            median: format!("recovered in {recovered} of {}", runs.len()),
            range: if metastable > 0 { format!("metastable in {metastable}") } else { String::new() },
        });
    }
    rows
}

/// Checks a list of seeds' runs is one the page may ask for.
pub fn check_seed_count(count: usize) -> Result<(), String> {
    if count == 0 || count > SEEDS_MAX {
        return Err(format!("expected 1 to {SEEDS_MAX} runs, got {count}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(goodput: f64, success: f64, amplification: f64, p99: Option<f64>, verdict: &str) -> SummaryInput {
        SummaryInput {
            summary: SummaryNumbers {
                goodput_per_s: goodput,
                success_ratio: success,
                amplification,
                latency_ms: p99.map(|p99| LatencyInput { p99 }),
                wasted_work_share: 0.0,
            },
            verdicts: vec![VerdictInput { node: "api".to_string(), verdict: verdict.to_string() }],
        }
    }

    fn row<'a>(rows: &'a [ComparisonRow], key: &str) -> &'a ComparisonRow {
        rows.iter().find(|row| row.key == key).unwrap_or_else(|| panic!("no row {key}: {rows:?}"))
    }

    #[test]
    fn differences_are_signed_with_units() {
        let cases = [
            (420.0, Unit::PerSecond, "+420/s"),
            (-0.52, Unit::Share, "−52 pp"),
            (-2.1, Unit::Factor, "−2.1x"),
            (-800.0, Unit::Milliseconds, "−800 ms"),
            (0.0, Unit::PerSecond, "±0/s"),
            (f64::NAN, Unit::Milliseconds, "–"),
        ];
        for (delta, unit, expected) in cases {
            assert_eq!(signed_delta(delta, unit), expected, "{delta} {unit:?}");
        }
    }

    #[test]
    fn a_storm_against_its_fix_says_b_recovers_and_is_better() {
        let a = input(120.0, 0.15, 3.6, Some(1200.0), "metastable");
        let b = input(790.0, 0.99, 1.01, Some(40.0), "recovered");
        let rows = compare(&a, &b);
        assert_eq!(row(&rows, "goodput").delta, "+670/s");
        assert_eq!(row(&rows, "goodput").better, "b");
        assert_eq!(row(&rows, "success").delta, "+84 pp");
        assert_eq!(row(&rows, "amplification").better, "b", "less amplification is better");
        assert_eq!(row(&rows, "p99").delta, "−1.2 s");
        assert_eq!(row(&rows, "wasted").delta, "no change");
        let verdict = row(&rows, "verdict-0");
        assert_eq!((verdict.a.as_str(), verdict.b.as_str()), ("metastable", "recovered"));
        assert_eq!(verdict.delta, "B recovers, A does not");
        assert_eq!(verdict.label, "Fault on api");
    }

    #[test]
    fn no_latency_is_no_data_not_zero() {
        let rows = compare(&input(0.0, 0.0, 4.0, None, "metastable"), &input(10.0, 0.1, 1.0, Some(30.0), "metastable"));
        let p99 = row(&rows, "p99");
        assert_eq!((p99.a.as_str(), p99.delta.as_str(), p99.better), ("–", "–", "same"));
        assert_eq!(row(&rows, "verdict-0").delta, "same verdict");
    }

    #[test]
    fn seeds_summary_gives_median_and_range_and_counts_verdicts() {
        let runs: Vec<SummaryInput> = [100.0, 200.0, 300.0, 400.0, 500.0]
            .iter()
            .enumerate()
            .map(|(i, &goodput)| input(goodput, 0.5, 1.0, Some(10.0), if i < 2 { "metastable" } else { "recovered" }))
            .collect();
        let rows = seed_summary(&runs);
        let goodput = rows.iter().find(|row| row.key == "goodput").unwrap();
        assert_eq!((goodput.median.as_str(), goodput.range.as_str()), ("300/s", "140/s – 460/s"));
        let verdict = rows.iter().find(|row| row.key == "verdict-0").unwrap();
        assert_eq!((verdict.median.as_str(), verdict.range.as_str()), ("recovered in 3 of 5", "metastable in 2"));
        assert!(check_seed_count(21).is_err() && check_seed_count(0).is_err() && check_seed_count(20).is_ok());
    }
}

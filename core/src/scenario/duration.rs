//! Durations as strings with units: `"250ms"`, `"2s"`, `"1.5s"`, `"5m"`, `"100us"`.

use crate::prelude::*;
use crate::time::{SimDuration, NS_PER_MS, NS_PER_S, NS_PER_US};
use core::fmt;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration written in a scenario, held exactly as integer nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub SimDuration);

pub const DURATION_EXPECTED: &str = "a duration like \"250ms\" (a number and one of the units ns, us, ms, s, m, h)";

impl Duration {
    pub fn ms(ms: u64) -> Duration {
        Duration(SimDuration::from_ms(ms))
    }
    pub fn secs(s: u64) -> Duration {
        Duration(SimDuration::from_secs(s))
    }
    pub fn ns(self) -> u64 {
        self.0 .0
    }
}

/// Parses `<digits>[.<digits>]<unit>`; exact (no float rounding), at most about 584 years.
pub fn parse_duration(text: &str) -> Option<SimDuration> {
    let text = text.trim();
    let unit_start = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(unit_start);
    let unit_ns: u128 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => NS_PER_US as u128,
        "ms" => NS_PER_MS as u128,
        "s" => NS_PER_S as u128,
        "m" | "min" => 60 * NS_PER_S as u128,
        "h" => 3600 * NS_PER_S as u128,
        _ => return None,
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if whole.len() > 20 || fraction.len() > 18 || fraction.contains('.') {
        return None;
    }
    let whole_value: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut ns = whole_value.checked_mul(unit_ns)?;
    if !fraction.is_empty() {
        let fraction_value: u128 = fraction.parse().ok()?;
        let scale = 10u128.pow(fraction.len() as u32);
        // Round half up to the nearest nanosecond.
        ns = ns.checked_add((fraction_value * unit_ns + scale / 2) / scale)?;
    }
    u64::try_from(ns).ok().map(SimDuration)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
                parse_duration(text)
                    .map(Duration)
                    .ok_or_else(|| E::custom(format!("expected {DURATION_EXPECTED}, got {text:?}")))
            }
        }
        deserializer.deserialize_str(DurationVisitor)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Duration {
    fn schema_name() -> alloc::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]*\\.?[0-9]+ ?(ns|us|µs|ms|s|m|min|h)$",
            "description": "A duration: a number and a unit (ns, us, ms, s, m, h), like \"250ms\" or \"1.5s\".",
            "examples": ["250ms", "2s", "5m"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions_exactly() {
        let cases: &[(&str, Option<u64>)] = &[
            ("250ms", Some(250 * NS_PER_MS)),
            ("2s", Some(2 * NS_PER_S)),
            ("1.5s", Some(1_500 * NS_PER_MS)),
            ("5m", Some(300 * NS_PER_S)),
            ("1h", Some(3_600 * NS_PER_S)),
            ("100us", Some(100_000)),
            ("7ns", Some(7)),
            ("0s", Some(0)),
            (".5ms", Some(500_000)),
            ("0.0000000015s", Some(2)),
            (" 10 ms", Some(10 * NS_PER_MS)),
            ("250", None),
            ("ms", None),
            ("-5ms", None),
            ("5 parsecs", None),
            ("1.2.3s", None),
            ("99999999999999999999h", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text).map(|d| d.0), *expected, "{text:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["250ms", "2s", "1500ms", "100us", "7ns", "0s"] {
            let parsed = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&parsed.to_string()), Some(parsed));
        }
        assert_eq!(parse_duration("1.5s").unwrap().to_string(), "1500ms");
    }
}

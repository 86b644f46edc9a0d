//! Numbers for people: "1.2k/s", "250 ms", "3.4x", "33%".
//!
//! One formatter for the charts, the event graph and (through `format_value`) the page's
//! summary, so a number reads the same wherever it appears.

/// What a number measures, which decides how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Events per second: "1.2k/s".
    PerSecond,
    /// Milliseconds: "250 ms", "1.5 s".
    Milliseconds,
    /// Seconds: "22 s", "4 min".
    Seconds,
    /// A ratio written as a multiplier: "3.0x".
    Factor,
    /// A share in [0, 1] written as a percentage: "33%".
    Share,
    /// A plain count: "445k".
    Count,
    /// US dollars: "$0.251", "$12.35", "$1.2k".
    Usd,
}

impl Unit {
    /// The unit names JavaScript passes to `format_value`.
    pub fn from_name(name: &str) -> Option<Unit> {
        Some(match name {
            "per_s" => Unit::PerSecond,
            "ms" => Unit::Milliseconds,
            "s" => Unit::Seconds,
            "x" => Unit::Factor,
            "share" => Unit::Share,
            "count" => Unit::Count,
            "usd" => Unit::Usd,
            _ => return None,
        })
    }
}

/// Shown where a value is missing (NaN: no data in that bucket) or not finite.
pub const NO_DATA: &str = "–";

pub fn format(value: f64, unit: Unit) -> String {
    if !value.is_finite() {
        return NO_DATA.to_string();
    }
    match unit {
        Unit::PerSecond => format!("{}/s", compact(value)),
        Unit::Milliseconds => milliseconds(value),
        Unit::Seconds => seconds(value),
        Unit::Factor => format!("{}x", fixed(value, if value.abs() < 10.0 { 1 } else { 0 })),
        Unit::Share => share(value),
        Unit::Count => compact(value),
        Unit::Usd => usd(value),
    }
}

/// A number with about three significant digits and a k/M/G suffix: 0.25, 12, 800, 1.2k,
/// 45k, 3.1M. Whole numbers keep no decimals ("3", not "3.0").
pub fn compact(value: f64) -> String {
    if !value.is_finite() {
        return NO_DATA.to_string();
    }
    let magnitude = value.abs();
    // Thresholds sit where rounding would carry into the next unit, so 999.7 reads "1k".
    let (scale, suffix) = if magnitude < 999.5 {
        (1.0, "")
    } else if magnitude < 999_500.0 {
        (1e3, "k")
    } else if magnitude < 999_500_000.0 {
        (1e6, "M")
    } else {
        (1e9, "G")
    };
    format!("{}{suffix}", significant(value / scale))
}

fn decimals_for(magnitude: f64) -> usize {
    if magnitude >= 9.995 {
        0
    } else if magnitude >= 0.9995 {
        1
    } else if magnitude >= 0.09995 {
        2
    } else {
        3
    }
}

/// About three significant digits, trailing zeros dropped: 12.0 -> "12", 1.25 -> "1.3".
fn significant(value: f64) -> String {
    // From 10 up, whole numbers read better on axes and in labels ("45k", not "45.2k").
    let decimals = decimals_for(value.abs());
    trim_zeros(format!("{value:.decimals$}"))
}

fn fixed(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}")
}

fn trim_zeros(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

fn milliseconds(ms: f64) -> String {
    let magnitude = ms.abs();
    if magnitude >= 1000.0 {
        seconds(ms / 1000.0)
    } else if magnitude >= 100.0 {
        format!("{ms:.0} ms")
    } else if magnitude >= 10.0 {
        format!("{} ms", trim_zeros(format!("{ms:.1}")))
    } else if magnitude >= 1.0 {
        format!("{} ms", trim_zeros(format!("{ms:.2}")))
    } else if magnitude == 0.0 {
        "0 ms".to_string()
    } else {
        format!("{} µs", trim_zeros(format!("{:.0}", ms * 1000.0)))
    }
}

fn seconds(s: f64) -> String {
    let magnitude = s.abs();
    if magnitude >= 3600.0 {
        format!("{} h", trim_zeros(format!("{:.1}", s / 3600.0)))
    } else if magnitude >= 600.0 {
        format!("{} min", trim_zeros(format!("{:.1}", s / 60.0)))
    } else if magnitude >= 10.0 {
        format!("{s:.0} s")
    } else {
        format!("{} s", trim_zeros(format!("{s:.1}")))
    }
}

/// Dollars: cents from $1 up, three significant digits below (a run's cost is often a
/// fraction of a cent, and "$0.00" would hide the difference a setting makes).
fn usd(value: f64) -> String {
    let magnitude = value.abs();
    let sign = if value < 0.0 { "-" } else { "" };
    if magnitude >= 999.995 {
        format!("{sign}${}", compact(magnitude))
    } else if magnitude >= 1.0 {
        format!("{sign}${magnitude:.2}")
    } else if magnitude == 0.0 {
        "$0".to_string()
    } else {
        // Three significant digits, never more than 9 decimals (a billionth of a dollar).
        let decimals = (2 - magnitude.log10().floor() as i32).clamp(2, 9) as usize;
        format!("{sign}${}", trim_zeros(format!("{magnitude:.decimals$}")))
    }
}

fn share(value: f64) -> String {
    let percent = value * 100.0;
    let magnitude = percent.abs();
    // Keep a decimal near the ends of the range, where 99.9% and 100% differ a lot.
    if (magnitude > 0.0 && magnitude < 10.0) || (magnitude > 99.0 && magnitude < 100.0) {
        let text = trim_zeros(format!("{percent:.1}"));
        // 99.96 must not read "100%": the system was not perfect.
        if text == "100" {
            "99.9%".to_string()
        } else {
            format!("{text}%")
        }
    } else {
        format!("{percent:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(f64, Unit, &str)]) {
        for &(value, unit, expected) in cases {
            assert_eq!(format(value, unit), expected, "{value} as {unit:?}");
        }
    }

    #[test]
    fn rates_read_like_people_write_them() {
        check(&[
            (0.0, Unit::PerSecond, "0/s"),
            (0.25, Unit::PerSecond, "0.25/s"),
            (3.0, Unit::PerSecond, "3/s"),
            (12.4, Unit::PerSecond, "12/s"),
            (267.7, Unit::PerSecond, "268/s"),
            (799.8, Unit::PerSecond, "800/s"),
            (999.7, Unit::PerSecond, "1k/s"),
            (1234.0, Unit::PerSecond, "1.2k/s"),
            (2400.0, Unit::PerSecond, "2.4k/s"),
            (45_200.0, Unit::PerSecond, "45k/s"),
            (445_149.0, Unit::PerSecond, "445k/s"),
            (3_100_000.0, Unit::PerSecond, "3.1M/s"),
            (f64::NAN, Unit::PerSecond, "–"),
        ]);
    }

    #[test]
    fn durations_pick_their_unit() {
        check(&[
            (250.0, Unit::Milliseconds, "250 ms"),
            (9.043968, Unit::Milliseconds, "9.04 ms"),
            (49.8, Unit::Milliseconds, "49.8 ms"),
            (0.5, Unit::Milliseconds, "500 µs"),
            (1500.0, Unit::Milliseconds, "1.5 s"),
            (22.0, Unit::Seconds, "22 s"),
            (1.5, Unit::Seconds, "1.5 s"),
            (900.0, Unit::Seconds, "15 min"),
        ]);
    }

    #[test]
    fn factors_and_shares() {
        check(&[
            (2.99366, Unit::Factor, "3.0x"),
            (1.0, Unit::Factor, "1.0x"),
            (12.3, Unit::Factor, "12x"),
            (0.3347, Unit::Share, "33%"),
            (0.99996, Unit::Share, "99.9%"),
            (1.0, Unit::Share, "100%"),
            (0.0, Unit::Share, "0%"),
            (0.05, Unit::Share, "5%"),
            (0.713, Unit::Share, "71%"),
        ]);
    }

    #[test]
    fn counts_are_compact() {
        check(&[(1_709_416.0, Unit::Count, "1.7M"), (42.0, Unit::Count, "42"), (-1500.0, Unit::Count, "-1.5k")]);
    }

    #[test]
    fn dollars_keep_what_a_setting_changes() {
        check(&[
            (0.0, Unit::Usd, "$0"),
            (0.25127, Unit::Usd, "$0.251"),
            (0.40557, Unit::Usd, "$0.406"),
            (0.0042, Unit::Usd, "$0.0042"),
            (0.000_016_666_7, Unit::Usd, "$0.0000167"),
            (0.999, Unit::Usd, "$0.999"),
            (0.9996, Unit::Usd, "$1"),
            (1.5, Unit::Usd, "$1.50"),
            (12.345, Unit::Usd, "$12.35"),
            (1234.0, Unit::Usd, "$1.2k"),
            (f64::NAN, Unit::Usd, "–"),
        ]);
    }

    #[test]
    fn unit_names_round_trip() {
        for name in ["per_s", "ms", "s", "x", "share", "count", "usd"] {
            assert!(Unit::from_name(name).is_some(), "{name}");
        }
        assert_eq!(Unit::from_name("furlongs"), None);
    }
}

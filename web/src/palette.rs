//! The one palette. A colour means the same thing in the event graph, in every chart and in
//! the page's summary (which receives these values as CSS custom properties through
//! `palette()`), so "green" is always goodput and "violet" is always the fault.

use plotters::style::RGBColor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour {
    pub red: u8,
    pub green: u8,
    pub blue: u8,
}

impl Colour {
    const fn hex(rgb: u32) -> Colour {
        Colour { red: (rgb >> 16) as u8, green: (rgb >> 8) as u8, blue: rgb as u8 }
    }

    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.red, self.green, self.blue)
    }

    /// The colour with an opacity in [0, 1], as a CSS colour.
    pub fn css_alpha(self, alpha: f64) -> String {
        format!("rgba({},{},{},{})", self.red, self.green, self.blue, alpha.clamp(0.0, 1.0))
    }

    pub fn plotters(self) -> RGBColor {
        RGBColor(self.red, self.green, self.blue)
    }
}

/// New requests the clients send.
pub const OFFERED: Colour = Colour::hex(0x64748b);
/// Attempts sent: first tries plus retries.
pub const ATTEMPTS: Colour = Colour::hex(0x2563eb);
/// Requests that succeeded; also "healthy", and the tokens an LLM endpoint's answers used.
pub const GOODPUT: Colour = Colour::hex(0x16a34a);
/// Failed attempts (service errors); also "failing".
pub const ERRORS: Colour = Colour::hex(0xdc2626);
/// Attempts the caller gave up on; also "degraded".
pub const TIMEOUTS: Colour = Colour::hex(0xea580c);
/// Attempts refused by a full queue or an outage.
pub const REJECTED: Colour = Colour::hex(0xdb2777);
/// Fault windows.
pub const FAULT: Colour = Colour::hex(0x7c3aed);
/// Attempts sent as hedges.
pub const HEDGES: Colour = Colour::hex(0x0d9488);
/// Requests answered by a degraded fallback: not a failure, not a success.
pub const FALLBACK: Colour = Colour::hex(0x65a30d);
/// Attempts failed at once by an open circuit breaker; also the breaker-open band.
pub const SHORT_CIRCUITED: Colour = Colour::hex(0xca8a04);
/// Attempts refused locally by adaptive throttling.
pub const THROTTLED: Colour = Colour::hex(0x92400e);
/// A policy's level over time: a retry budget's tokens, a concurrency limit, hosts ejected.
pub const LEVEL: Colour = Colour::hex(0x334155);
/// Attempts a service shed (admission control, queue management).
pub const SHED: Colour = Colour::hex(0x9d174d);
/// Queued attempts dropped because their deadline had passed.
pub const EXPIRED: Colour = Colour::hex(0x9a3412);
/// Attempts their callers cancelled.
pub const CANCELLED: Colour = Colour::hex(0x78716c);
/// Queue depth; also a function's asynchronous events waiting.
pub const QUEUE: Colour = Colour::hex(0x0891b2);
/// A function's invocations running (solid) and its execution environments (dashed).
pub const RUNNING: Colour = Colour::hex(0x4f46e5);
/// Invocations that waited for a new execution environment's init phase.
pub const COLD_STARTS: Colour = Colour::hex(0xc026d3);
/// Requests refused with 429 by the node itself: a function for want of an environment, an
/// LLM endpoint by a per-minute limit.
pub const THROTTLES: Colour = Colour::hex(0x7f1d1d);
/// Tokens an LLM endpoint's tokens-per-minute limit charged (prompts plus output budgets).
pub const TOKENS_CHARGED: Colour = Colour::hex(0xd97706);
/// Latency percentiles, light to dark as the tail gets longer.
pub const LATENCY_P50: Colour = Colour::hex(0x38bdf8);
pub const LATENCY_P99: Colour = Colour::hex(0x0369a1);
pub const LATENCY_P999: Colour = Colour::hex(0x1e1b4b);
/// The time cursor.
pub const CURSOR: Colour = Colour::hex(0x111827);
/// Text, axes and grid.
pub const TEXT: Colour = Colour::hex(0x1f2937);
pub const MUTED_TEXT: Colour = Colour::hex(0x6b7280);
pub const AXIS: Colour = Colour::hex(0x9ca3af);
pub const GRID: Colour = Colour::hex(0xe5e7eb);
pub const BACKGROUND: Colour = Colour::hex(0xffffff);
/// A node with no traffic at the cursor.
pub const IDLE: Colour = Colour::hex(0x9ca3af);

/// Health of a node at the cursor, shown as its outline colour.
pub const HEALTHY: Colour = GOODPUT;
pub const DEGRADED: Colour = TIMEOUTS;
pub const FAILING: Colour = ERRORS;

/// Every named colour, for the page's CSS custom properties (`--goodput`, ...).
pub const NAMED: &[(&str, Colour)] = &[
    ("offered", OFFERED),
    ("attempts", ATTEMPTS),
    ("goodput", GOODPUT),
    ("errors", ERRORS),
    ("timeouts", TIMEOUTS),
    ("rejected", REJECTED),
    ("fault", FAULT),
    ("queue", QUEUE),
    ("hedges", HEDGES),
    ("fallback", FALLBACK),
    ("short-circuited", SHORT_CIRCUITED),
    ("throttled", THROTTLED),
    ("level", LEVEL),
    ("shed", SHED),
    ("expired", EXPIRED),
    ("cancelled", CANCELLED),
    ("running", RUNNING),
    ("cold-starts", COLD_STARTS),
    ("throttles", THROTTLES),
    ("tokens-charged", TOKENS_CHARGED),
    ("latency-p50", LATENCY_P50),
    ("latency-p99", LATENCY_P99),
    ("latency-p999", LATENCY_P999),
    ("cursor", CURSOR),
    ("healthy", HEALTHY),
    ("degraded", DEGRADED),
    ("failing", FAILING),
    ("idle", IDLE),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_hex_round_trips() {
        assert_eq!(GOODPUT.css(), "#16a34a");
        assert_eq!(FAULT.css_alpha(0.5), "rgba(124,58,237,0.5)");
    }

    #[test]
    fn series_colours_are_distinct() {
        let series = [
            OFFERED,
            ATTEMPTS,
            GOODPUT,
            ERRORS,
            TIMEOUTS,
            REJECTED,
            FAULT,
            QUEUE,
            HEDGES,
            FALLBACK,
            SHORT_CIRCUITED,
            THROTTLED,
            LEVEL,
            SHED,
            EXPIRED,
            CANCELLED,
            RUNNING,
            COLD_STARTS,
            THROTTLES,
            TOKENS_CHARGED,
        ];
        for (index, colour) in series.iter().enumerate() {
            assert!(!series[index + 1..].contains(colour), "{colour:?} is used twice");
        }
    }
}

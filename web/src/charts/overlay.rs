//! What a chart draws when its run comes with others (see `compare::Overlay`): the lines of
//! two variants on one chart, A solid and B dashed in the same colours; or, over several
//! seeds, each line's per-bucket median inside a shaded 10–90% band.
//!
//! Built at the level of what is drawn (a chart's [`Spec`]): each run's spec is made as for a
//! single run and the lines are then merged, so every chart, focus and conditional line
//! works the same in both modes.

use super::{
    add_function_traffic, add_llm_traffic, add_time_to_first_token, capacity_spec, finite_runs, focused_latency,
    focused_traffic, latency_spec, llm_spec, node_series, queue_spec, traffic_spec, Chart, LegendItem, Line,
    QueueChart, Spec, Swatch,
};
use crate::compare::{Letter, Overlay};
use crate::palette::{self, Colour};
use crate::spread::bucket_spread;
use crate::view::RunView;
use std::borrow::Cow;

/// A shaded band between two series: the 10–90% range of a line over seeds.
pub(super) struct SpreadBand {
    pub colour: Colour,
    /// How many runs the band spans.
    pub runs: usize,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// B's lines: dashed where A's are solid, dotted where A's are already dashed.
const B_DASH: (f64, f64) = (6.0, 4.0);
const B_DOTS: (f64, f64) = (2.0, 3.0);

/// The spec with the overlay's runs merged in; unchanged without an overlay.
pub(super) fn apply<'a>(spec: Spec<'a>, view: &'a RunView, chart: Chart, focus: Option<&str>) -> Spec<'a> {
    match &view.overlay {
        Overlay::None => spec,
        Overlay::Variant { other, edited } => {
            let Some(other_spec) = spec_of(other, chart, focus) else { return spec };
            let (a, b) = match edited {
                Letter::A => (spec.lines, other_spec.lines),
                Letter::B => (other_spec.lines, spec.lines),
            };
            Spec { lines: merge_variants(a, b), ..spec }
        }
        Overlay::Seeds { runs } => {
            let specs: Vec<Spec> = runs.iter().filter_map(|run| spec_of(run, chart, focus)).collect();
            let (lines, bands) = median_and_bands(&specs, view.buckets());
            Spec { lines, bands, ..spec }
        }
    }
}

/// The legend's entry for the bands, when there are any: what the shading means.
pub(super) fn band_legend(spec: &Spec) -> Vec<LegendItem> {
    let Some(band) = spec.bands.first() else { return Vec::new() };
    vec![LegendItem {
        text: format!("median, 10–90% band of {} seeds", band.runs),
        colour: palette::MUTED_TEXT,
        swatch: Swatch::Block,
        dash: None,
    }]
}

/// Closed outlines of a band, one per run of buckets where both edges have data (positive on
/// a log axis): along the top edge forward, back along the bottom edge.
pub(super) fn band_polygons(band: &SpreadBand, buckets: usize, bucket_s: f64, log: bool) -> Vec<Vec<(f64, f64)>> {
    let both: Vec<f64> = band
        .low
        .iter()
        .zip(&band.high)
        .map(|(&low, &high)| if low.is_finite() && high.is_finite() && (!log || low > 0.0) { high } else { f64::NAN })
        .collect();
    let x = |index: usize| (index as f64 + 0.5) * bucket_s;
    finite_runs(&both, buckets, log)
        .into_iter()
        .map(|run| {
            let mut outline: Vec<(f64, f64)> = run.iter().map(|&(index, high)| (x(index), high)).collect();
            outline.extend(run.iter().rev().map(|&(index, _)| (x(index), band.low[index])));
            outline
        })
        .collect()
}

/// A run's spec for a chart, as `draw` builds it, with owned values (the focused traffic is
/// summed into a temporary). None for the policies chart, which shows the edited run only.
fn spec_of(view: &RunView, chart: Chart, focus: Option<&str>) -> Option<Spec<'static>> {
    let system = &view.report.series.system;
    let spec = match chart {
        Chart::Traffic => {
            let focused = focus.and_then(|id| focused_traffic(view, id));
            let mut spec = traffic_spec(focused.as_ref().unwrap_or(system));
            if let Some(function) = focus.and_then(|id| node_series(view, id, "function")) {
                add_function_traffic(&mut spec, &function.metrics);
            }
            if let Some(llm) = focus.and_then(|id| node_series(view, id, "llm")) {
                add_llm_traffic(&mut spec, &llm.metrics);
            }
            owned(spec)
        }
        Chart::Latency => {
            let focused = focus.and_then(|id| focused_latency(view, id));
            let mut spec = latency_spec(focused.unwrap_or(system));
            if let Some(llm) = focus.and_then(|id| node_series(view, id, "llm")) {
                add_time_to_first_token(&mut spec, &llm.metrics);
            }
            owned(spec)
        }
        Chart::Queue => owned(match QueueChart::of(view, focus) {
            QueueChart::Waiting => queue_spec(view, focus),
            QueueChart::Functions => capacity_spec(view, focus),
            QueueChart::Llm => llm_spec(view, focus),
        }),
        Chart::Policies => return None,
    };
    Some(spec)
}

fn owned(spec: Spec<'_>) -> Spec<'static> {
    Spec {
        lines: spec.lines.into_iter().map(owned_line).collect(),
        y_title: spec.y_title,
        scale: spec.scale,
        tick_unit: spec.tick_unit,
        empty_message: spec.empty_message,
        bands: spec.bands,
    }
}

fn owned_line<'x>(line: Line<'_>) -> Line<'x> {
    Line { values: Cow::Owned(line.values.into_owned()), ..line }
}

/// Values equal bucket for bucket (NaN equal to NaN: both without data).
fn same_values(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// A's and B's lines in one list, each B line drawn right after A's of the same label,
/// labelled "A …" and "B …". A line both variants draw identically (the offered load, which
/// common random numbers keep the same) is drawn once under its plain label.
pub(super) fn merge_variants<'a>(a: Vec<Line<'a>>, b: Vec<Line<'a>>) -> Vec<Line<'a>> {
    let mut b: Vec<Option<Line>> = b.into_iter().map(Some).collect();
    let mut merged = Vec::with_capacity(a.len() + b.len());
    for line_a in a {
        let partner = b.iter_mut().find(|slot| slot.as_ref().is_some_and(|line| line.label == line_a.label));
        match partner.and_then(Option::take) {
            Some(line_b) if same_values(&line_a.values, &line_b.values) => merged.push(line_a),
            Some(line_b) => {
                let dash = line_a.dash;
                merged.push(Line { label: format!("A {}", line_a.label), ..line_a });
                merged.push(variant_b(line_b, dash));
            }
            None => merged.push(Line { label: format!("A {}", line_a.label), ..line_a }),
        }
    }
    for line_b in b.into_iter().flatten() {
        let dash = line_b.dash;
        merged.push(variant_b(line_b, dash));
    }
    merged
}

fn variant_b(line: Line<'_>, dash_of_a: Option<(f64, f64)>) -> Line<'_> {
    Line {
        label: format!("B {}", line.label),
        dash: Some(if dash_of_a.is_some() { B_DOTS } else { B_DASH }),
        // A wide failure line (drawn under the rest) stays wide, but dashes need some width.
        width_css: line.width_css.clamp(2.0, 3.0),
        filled: false,
        ..line
    }
}

/// Per label (in the order of the first run that draws it), the median over runs in each
/// bucket and its 10–90% band. A run without a line its chart adds only when it is nonzero
/// somewhere (timeouts, hedges) had zeros there; every other line is drawn by every run.
pub(super) fn median_and_bands(specs: &[Spec<'_>], buckets: usize) -> (Vec<Line<'static>>, Vec<SpreadBand>) {
    let mut labels: Vec<&Line> = Vec::new();
    for spec in specs {
        for line in &spec.lines {
            if !labels.iter().any(|known| known.label == line.label) {
                labels.push(line);
            }
        }
    }
    let zeros = vec![0.0; buckets];
    let mut lines = Vec::with_capacity(labels.len());
    let mut bands = Vec::with_capacity(labels.len());
    for template in labels {
        let runs: Vec<&[f64]> = specs
            .iter()
            .map(|spec| {
                spec.lines
                    .iter()
                    .find(|line| line.label == template.label)
                    .map_or(zeros.as_slice(), |line| &line.values)
            })
            .collect();
        let spread = bucket_spread(&runs, buckets);
        bands.push(SpreadBand { colour: template.colour, runs: specs.len(), low: spread.low, high: spread.high });
        lines.push(Line {
            label: template.label.clone(),
            colour: template.colour,
            values: Cow::Owned(spread.median),
            width_css: template.width_css.min(2.5),
            dash: template.dash,
            filled: false,
            unit: template.unit,
        });
    }
    (lines, bands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Unit;

    fn line(label: &str, values: &[f64], dash: Option<(f64, f64)>) -> Line<'static> {
        Line {
            label: label.to_string(),
            colour: palette::GOODPUT,
            values: Cow::Owned(values.to_vec()),
            width_css: 2.5,
            dash,
            filled: false,
            unit: Unit::PerSecond,
        }
    }

    fn labels_and_dashes(lines: &[Line]) -> Vec<(String, Option<(f64, f64)>)> {
        lines.iter().map(|line| (line.label.clone(), line.dash)).collect()
    }

    #[test]
    fn variants_pair_up_a_solid_b_dashed_and_identical_lines_once() {
        let a = vec![
            line("timeouts", &[0.0, 500.0], None),
            line("goodput", &[800.0, 10.0], None),
            line("offered", &[800.0, 800.0], Some((5.0, 5.0))),
        ];
        let b = vec![
            line("goodput", &[800.0, 790.0], None),
            line("offered", &[800.0, 800.0], Some((5.0, 5.0))),
            line("hedges", &[0.0, 3.0], None),
        ];
        let merged = merge_variants(a, b);
        assert_eq!(
            labels_and_dashes(&merged),
            vec![
                ("A timeouts".to_string(), None),
                ("A goodput".to_string(), None),
                ("B goodput".to_string(), Some(B_DASH)),
                ("offered".to_string(), Some((5.0, 5.0))),
                ("B hedges".to_string(), Some(B_DASH)),
            ]
        );
        assert_eq!(merged[2].values.as_ref(), &[800.0, 790.0]);
    }

    #[test]
    fn a_dashed_line_of_b_is_dotted_when_it_differs() {
        let merged = merge_variants(
            vec![line("offered", &[1.0], Some((5.0, 5.0)))],
            vec![line("offered", &[2.0], Some((5.0, 5.0)))],
        );
        assert_eq!(merged[1].dash, Some(B_DOTS));
        assert_eq!(merged[0].dash, Some((5.0, 5.0)), "A keeps its own style");
    }

    #[test]
    fn nan_buckets_match_nan_buckets() {
        assert!(same_values(&[f64::NAN, 1.0], &[f64::NAN, 1.0]));
        assert!(!same_values(&[f64::NAN, 1.0], &[0.0, 1.0]));
        assert!(!same_values(&[1.0], &[1.0, 1.0]));
    }

    fn spec_with(lines: Vec<Line<'static>>) -> Spec<'static> {
        Spec {
            y_title: "requests / s",
            scale: super::super::Scale::Linear,
            tick_unit: super::super::TickUnit::Number,
            lines,
            empty_message: "",
            bands: Vec::new(),
        }
    }

    #[test]
    fn seeds_give_a_median_line_and_its_band_and_a_missing_rate_line_counts_as_zero() {
        let specs = vec![
            spec_with(vec![line("goodput", &[10.0, f64::NAN], None), line("timeouts", &[5.0, 5.0], None)]),
            spec_with(vec![line("goodput", &[20.0, f64::NAN], None)]),
            spec_with(vec![line("goodput", &[30.0, 7.0], None)]),
        ];
        let (lines, bands) = median_and_bands(&specs, 2);
        assert_eq!(lines.iter().map(|line| line.label.as_str()).collect::<Vec<_>>(), ["goodput", "timeouts"]);
        assert_eq!(lines[0].values[0], 20.0);
        assert_eq!(lines[0].values[1], 7.0, "buckets without data are left out");
        assert!((bands[0].low[0] - 12.0).abs() < 1e-9 && (bands[0].high[0] - 28.0).abs() < 1e-9);
        assert_eq!(lines[1].values.as_ref(), &[0.0, 0.0], "two of three runs had no timeouts");
        assert_eq!(bands[1].high[0], 4.0);
    }
}

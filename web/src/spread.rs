//! Spread across seeds: the same scenario run on several consecutive seeds, summarised per
//! time bucket (a median line inside a 10–90% band) and per headline number (median and
//! 10–90% range). One seed is one sample of the arrivals and service times; the band says
//! how much of a chart is the scenario and how much is that one sample.
//!
//! Buckets without data (NaN: no request succeeded there, so no latency) are left out of
//! their bucket's percentiles instead of counting as zero; a bucket no run has data for
//! stays NaN, a gap in the line and the band.

/// Lower edge of the band, as a quantile.
pub const LOW_QUANTILE: f64 = 0.1;
/// Upper edge of the band, as a quantile.
pub const HIGH_QUANTILE: f64 = 0.9;
/// Most seeds one request may run: the page offers 1, 5, 10 and 20.
pub const SEEDS_MAX: usize = 20;

/// The `q`-quantile (0 to 1) of the finite values, interpolating linearly between the two
/// nearest ranks (Hyndman and Fan's type 7, what NumPy and R use by default); None when no
/// value is finite. Sorts `values` in place after dropping the rest.
pub fn quantile(values: &mut Vec<f64>, q: f64) -> Option<f64> {
    values.retain(|value| value.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    Some(values[below] + (values[above] - values[below]) * fraction)
}

/// Median and 10–90% range of one number over several runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub low: f64,
    pub median: f64,
    pub high: f64,
}

/// The spread of the finite values, or None when there are none.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut sorted = values.to_vec();
    Some(Spread {
        low: quantile(&mut sorted, LOW_QUANTILE)?,
        median: quantile(&mut sorted, 0.5)?,
        high: quantile(&mut sorted, HIGH_QUANTILE)?,
    })
}

/// Per-bucket spread of several runs' series: three series of `buckets` values, NaN where
/// no run has data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketSpread {
    pub low: Vec<f64>,
    pub median: Vec<f64>,
    pub high: Vec<f64>,
}

/// The spread across `runs` in each of the first `buckets` buckets. A run shorter than
/// `buckets` (stopped early) has no data in the buckets it lacks.
pub fn bucket_spread(runs: &[&[f64]], buckets: usize) -> BucketSpread {
    let mut spread_of_runs = BucketSpread {
        low: Vec::with_capacity(buckets),
        median: Vec::with_capacity(buckets),
        high: Vec::with_capacity(buckets),
    };
    let mut column = Vec::with_capacity(runs.len());
    for bucket in 0..buckets {
        column.clear();
        column.extend(runs.iter().map(|run| run.get(bucket).copied().unwrap_or(f64::NAN)));
        let bucket_spread = spread(&column);
        spread_of_runs.low.push(bucket_spread.map_or(f64::NAN, |s| s.low));
        spread_of_runs.median.push(bucket_spread.map_or(f64::NAN, |s| s.median));
        spread_of_runs.high.push(bucket_spread.map_or(f64::NAN, |s| s.high));
    }
    spread_of_runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_quantile(values: &[f64], q: f64, expected: Option<f64>) {
        let got = quantile(&mut values.to_vec(), q);
        match (got, expected) {
            (Some(got), Some(expected)) => {
                assert!((got - expected).abs() < 1e-12, "{values:?} q={q}: {got} != {expected}")
            }
            _ => assert_eq!(got, expected, "{values:?} q={q}"),
        }
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        check_quantile(&[], 0.5, None);
        check_quantile(&[f64::NAN, f64::INFINITY], 0.5, None);
        check_quantile(&[7.0], 0.1, Some(7.0));
        check_quantile(&[7.0], 0.9, Some(7.0));
        check_quantile(&[3.0, 1.0, 2.0], 0.5, Some(2.0));
        check_quantile(&[1.0, 2.0, 3.0, 4.0], 0.5, Some(2.5));
        // Five values: rank 0.4 and 3.6 of 0..4 (numpy.percentile([1,2,3,4,5], [10, 90])).
        check_quantile(&[5.0, 4.0, 3.0, 2.0, 1.0], 0.1, Some(1.4));
        check_quantile(&[5.0, 4.0, 3.0, 2.0, 1.0], 0.9, Some(4.6));
        check_quantile(&[1.0, 2.0], 0.0, Some(1.0));
        check_quantile(&[1.0, 2.0], 1.0, Some(2.0));
        // NaN is no data, not a value.
        check_quantile(&[f64::NAN, 10.0, f64::NAN, 20.0], 0.5, Some(15.0));
    }

    #[test]
    fn spread_orders_low_median_high() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let s = spread(&values).unwrap();
        assert!(
            (s.low - 2.9).abs() < 1e-12 && (s.median - 10.5).abs() < 1e-12 && (s.high - 18.1).abs() < 1e-12,
            "{s:?}"
        );
        assert_eq!(spread(&[f64::NAN]), None);
    }

    #[test]
    fn buckets_without_data_are_left_out_not_zero() {
        let a = [1.0, f64::NAN, 5.0];
        let b = [3.0, f64::NAN, f64::NAN];
        let c = [2.0, f64::NAN];
        let spread = bucket_spread(&[&a, &b, &c], 3);
        assert_eq!(spread.median[0], 2.0);
        assert!(spread.median[1].is_nan() && spread.low[1].is_nan() && spread.high[1].is_nan());
        // Only `a` has data in the last bucket (`c` is shorter): its value, with no band.
        assert_eq!((spread.low[2], spread.median[2], spread.high[2]), (5.0, 5.0, 5.0));
        assert_eq!(spread.low.len(), 3);
        assert!((spread.low[0] - 1.2).abs() < 1e-12 && (spread.high[0] - 2.8).abs() < 1e-12);
    }

    #[test]
    fn one_run_is_its_own_median_and_band() {
        let only = [4.0, 8.0];
        let spread = bucket_spread(&[&only], 2);
        assert_eq!(spread.median, vec![4.0, 8.0]);
        assert_eq!(spread.low, spread.high);
    }
}

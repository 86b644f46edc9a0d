//! A log-linear latency histogram (the HDR idea): 32 linear sub-buckets per power of two,
//! so any recorded value is known to within 1/64 of itself, in fixed memory.

use crate::prelude::*;

const SUB_BITS: u32 = 5;
const SUB_COUNT: u64 = 1 << SUB_BITS;
/// Enough bins for every u64 value.
const BIN_COUNT: usize = ((64 - SUB_BITS + 1) as usize) * SUB_COUNT as usize;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum: f64,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BIN_COUNT], total: 0, sum: 0.0, min: u64::MAX, max: 0 }
    }
}

fn bin_of(value: u64) -> usize {
    if value < SUB_COUNT {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // >= SUB_BITS
    let sub = (value >> (exponent - SUB_BITS)) & (SUB_COUNT - 1);
    ((exponent - SUB_BITS + 1) as u64 * SUB_COUNT + sub) as usize
}

/// Lowest value and width of a bin.
fn bin_range(bin: usize) -> (u64, u64) {
    let bin = bin as u64;
    if bin < SUB_COUNT {
        return (bin, 1);
    }
    let exponent = (bin / SUB_COUNT) as u32 + SUB_BITS - 1;
    let sub = bin % SUB_COUNT;
    let width = 1u64 << (exponent - SUB_BITS);
    ((SUB_COUNT + sub) << (exponent - SUB_BITS), width)
}

impl Histogram {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, value: u64) {
        self.counts[bin_of(value)] += 1;
        self.total += 1;
        self.sum += value as f64;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn mean(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum / self.total as f64)
    }

    pub fn max(&self) -> Option<u64> {
        (self.total > 0).then_some(self.max)
    }

    /// The value below which a fraction `quantile` of recordings fall (nearest rank), reported
    /// as the middle of its bin and clamped to the exact minimum and maximum seen.
    pub fn quantile(&self, quantile: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = libm::ceil(quantile.clamp(0.0, 1.0) * self.total as f64).max(1.0) as u64;
        let mut seen = 0;
        for (bin, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(self.value_at_rank(rank, bin));
            }
        }
        Some(self.max)
    }

    /// The [`LATENCY_QUANTILES`](crate::metrics::series::LATENCY_QUANTILES) of what was
    /// recorded, or `None` when nothing was.
    pub fn latency_quantiles(&self) -> Option<[u64; 4]> {
        if self.total == 0 {
            return None;
        }
        // One pass over the bins for all four (this runs for every edge at every bucket end).
        let quantiles = crate::metrics::series::LATENCY_QUANTILES;
        let ranks = quantiles.map(|q| libm::ceil(q * self.total as f64).max(1.0) as u64);
        let mut values = [self.max; 4];
        let mut next = 0;
        let mut seen = 0;
        for (bin, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            seen += count;
            while next < 4 && seen >= ranks[next] {
                values[next] = self.value_at_rank(ranks[next], bin);
                next += 1;
            }
            if next == 4 {
                break;
            }
        }
        Some(values)
    }

    /// The reported value for `rank` falling in `bin`: exact at the extremes, else the bin's
    /// middle clamped to what was seen.
    fn value_at_rank(&self, rank: u64, bin: usize) -> u64 {
        if rank >= self.total {
            return self.max;
        }
        if rank == 1 {
            return self.min;
        }
        let (low, width) = bin_range(bin);
        (low + width / 2).clamp(self.min, self.max)
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn clear(&mut self) {
        if self.total > 0 {
            self.counts.fill(0);
        }
        self.total = 0;
        self.sum = 0.0;
        self.min = u64::MAX;
        self.max = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_values_in_order_with_bounded_error() {
        let mut previous_bin = 0;
        let mut value = 1u64;
        while value < u64::MAX / 2 {
            let bin = bin_of(value);
            assert!(bin >= previous_bin);
            let (low, width) = bin_range(bin);
            assert!(low <= value && value - low < width, "value {value} bin {bin} low {low} width {width}");
            assert!(width <= value / 16 + 1, "relative width");
            previous_bin = bin;
            value += value / 8 + 1;
        }
        assert!(bin_of(u64::MAX) < BIN_COUNT);
    }

    #[test]
    fn quantiles_of_a_uniform_sequence() {
        let mut histogram = Histogram::new();
        for value in 1..=100_000u64 {
            histogram.record(value * 1_000);
        }
        for (quantile, expected) in [(0.5, 50_000_000.0), (0.9, 90_000_000.0), (0.99, 99_000_000.0)] {
            let got = histogram.quantile(quantile).unwrap() as f64;
            assert!((got / expected - 1.0).abs() < 0.02, "q{quantile}: {got}");
        }
        assert_eq!(histogram.quantile(1.0), Some(100_000_000));
        assert_eq!(histogram.quantile(0.0), Some(1_000));
        assert_eq!(histogram.mean(), Some(50_000_500.0));
    }

    #[test]
    fn latency_quantiles_in_one_pass_equal_each_quantile() {
        let mut histogram = Histogram::new();
        for value in [5u64, 17, 17, 300, 4_000, 4_100, 90_000, 1_000_000, 7, 7, 7] {
            histogram.record(value * 1_000);
        }
        let expected = crate::metrics::series::LATENCY_QUANTILES.map(|q| histogram.quantile(q).unwrap());
        assert_eq!(histogram.latency_quantiles(), Some(expected));
        histogram.clear();
        histogram.record(42);
        assert_eq!(histogram.latency_quantiles(), Some([42; 4]));
    }

    #[test]
    fn clear_and_merge() {
        let mut a = Histogram::new();
        a.record(5);
        a.clear();
        assert_eq!(a.count(), 0);
        assert_eq!(a.quantile(0.5), None);
        a.record(10);
        let mut b = Histogram::new();
        b.record(1_000);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.quantile(1.0), Some(1_000));
    }
}

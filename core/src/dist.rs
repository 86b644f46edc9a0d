//! Validated duration distributions and their samplers.

use crate::prelude::*;
use crate::rng::Stream;
use crate::time::{f64_to_ns, SimDuration};

/// z such that P(Z <= z) = 0.99 for a standard normal Z.
pub const Z_P99: f64 = 2.326_347_874_040_840_8;

/// A distribution of durations, in nanoseconds, ready to sample.
#[derive(Clone, Debug, PartialEq)]
pub enum DistModel {
    Constant {
        ns: u64,
    },
    Exponential {
        mean_ns: f64,
    },
    /// exp(mu + sigma * Z), in nanoseconds.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        min_ns: f64,
        max_ns: f64,
    },
    /// Components with their cumulative probability (the last one is exactly 1).
    Mixture {
        components: Vec<(f64, DistModel)>,
    },
}

impl DistModel {
    /// The log-normal with median `p50_ns` and 99th percentile `p99_ns` (p99 >= p50 > 0).
    pub fn lognormal_from_percentiles(p50_ns: u64, p99_ns: u64) -> DistModel {
        let mu = libm::log(p50_ns as f64);
        let sigma = (libm::log(p99_ns as f64) - mu) / Z_P99;
        DistModel::Lognormal { mu, sigma }
    }

    /// Draws one duration.
    pub fn sample(&self, stream: &mut Stream) -> SimDuration {
        SimDuration(match self {
            DistModel::Constant { ns } => *ns,
            DistModel::Exponential { mean_ns } => f64_to_ns(mean_ns * stream.standard_exponential()),
            DistModel::Lognormal { mu, sigma } => f64_to_ns(libm::exp(mu + sigma * stream.standard_normal())),
            DistModel::Uniform { min_ns, max_ns } => f64_to_ns(stream.uniform_between(*min_ns, *max_ns)),
            DistModel::Mixture { components } => {
                let pick = stream.uniform();
                let chosen = components.iter().find(|(cumulative, _)| pick < *cumulative).or(components.last());
                match chosen {
                    Some((_, component)) => return component.sample(stream),
                    None => 0,
                }
            }
        })
    }

    /// The mean, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        match self {
            DistModel::Constant { ns } => *ns as f64,
            DistModel::Exponential { mean_ns } => *mean_ns,
            DistModel::Lognormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            DistModel::Uniform { min_ns, max_ns } => (min_ns + max_ns) / 2.0,
            DistModel::Mixture { components } => {
                let mut previous = 0.0;
                let mut mean = 0.0;
                for (cumulative, component) in components {
                    mean += (cumulative - previous) * component.mean_ns();
                    previous = *cumulative;
                }
                mean
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn sample_mean_and_sorted(dist: &DistModel, n: usize) -> (f64, Vec<u64>) {
        let mut stream = Stream::new(3, 9);
        let mut values: Vec<u64> = (0..n).map(|_| dist.sample(&mut stream).0).collect();
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        values.sort_unstable();
        (mean, values)
    }

    #[test]
    fn lognormal_hits_its_percentiles() {
        let dist = DistModel::lognormal_from_percentiles(20 * NS_PER_MS, 200 * NS_PER_MS);
        let (mean, sorted) = sample_mean_and_sorted(&dist, 200_000);
        let p50 = sorted[100_000] as f64 / NS_PER_MS as f64;
        let p99 = sorted[198_000] as f64 / NS_PER_MS as f64;
        assert!((p50 - 20.0).abs() < 0.5, "p50 {p50}");
        assert!((p99 - 200.0).abs() < 8.0, "p99 {p99}");
        assert!((mean / dist.mean_ns() - 1.0).abs() < 0.02);
    }

    #[test]
    fn mixture_mean_is_the_weighted_mean() {
        let dist = DistModel::Mixture {
            components: vec![
                (0.9, DistModel::Constant { ns: 10 * NS_PER_MS }),
                (1.0, DistModel::Constant { ns: 100 * NS_PER_MS }),
            ],
        };
        assert!((dist.mean_ns() - 19.0 * NS_PER_MS as f64).abs() < 1.0);
        let (mean, _) = sample_mean_and_sorted(&dist, 100_000);
        assert!((mean / dist.mean_ns() - 1.0).abs() < 0.02, "{mean}");
    }

    #[test]
    fn exponential_and_uniform_means() {
        for dist in [DistModel::Exponential { mean_ns: 10e6 }, DistModel::Uniform { min_ns: 1e6, max_ns: 5e6 }] {
            let (mean, _) = sample_mean_and_sorted(&dist, 200_000);
            assert!((mean / dist.mean_ns() - 1.0).abs() < 0.01, "{dist:?}: {mean}");
        }
    }
}

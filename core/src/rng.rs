//! Seeded random streams.
//!
//! Every node and call edge draws from its own stream, derived from the scenario seed and a
//! stable stream id (a hash of the node id and the stream's purpose). Changing a policy on one
//! edge therefore leaves the random numbers of every other stream untouched (common random
//! numbers). The samplers are written here on top of `libm`, so their values never change with
//! a dependency upgrade and are identical natively and in wasm.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// One independent random stream.
#[derive(Clone, Debug)]
pub struct Stream {
    generator: Xoshiro256PlusPlus,
}

/// SplitMix64 step: the standard way to expand one 64-bit seed into well-mixed state words.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit id for a stream, from names that do not change when the scenario is edited
/// elsewhere (FNV-1a over the parts, separated so that ("ab","c") differs from ("a","bc")).
pub fn stream_id(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for part in parts {
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
        }
        hash ^= 0xFF;
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

impl Stream {
    /// The stream for `stream_id` under the scenario `seed`.
    pub fn new(seed: u64, stream_id: u64) -> Stream {
        let mut state = seed ^ stream_id.rotate_left(17);
        // Mix twice so that nearby seeds and ids give unrelated streams.
        splitmix64(&mut state);
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        Stream { generator: Xoshiro256PlusPlus::from_seed(bytes) }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.generator.next_u64()
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    pub fn uniform_between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }

    /// Exponential with mean 1, by the ziggurat method: one random word and two table lookups
    /// in about 98% of draws, a logarithm only in the rare slow paths. It is the hot sampler
    /// (Poisson arrivals, exponential service times), several times faster than inversion.
    pub fn standard_exponential(&mut self) -> f64 {
        use crate::ziggurat_tables::{F, R, X};
        loop {
            let bits = self.next_u64();
            let layer = (bits & 0xFF) as usize;
            // The top 53 bits give the position in the layer; the low 8 chose the layer.
            let x = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * X[layer];
            if x < X[layer + 1] {
                return x;
            }
            if layer == 0 {
                // Beyond the base rectangle: the tail past R is R plus a fresh exponential.
                return R - libm::log(1.0 - self.uniform());
            }
            if F[layer + 1] + (F[layer] - F[layer + 1]) * self.uniform() < libm::exp(-x) {
                return x;
            }
        }
    }

    /// Standard normal by Box-Muller (one value per call; the pair's twin is discarded so the
    /// stream carries no hidden state between calls).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_id_give_the_same_stream() {
        let mut a = Stream::new(42, stream_id(&["api", "service_time"]));
        let mut b = Stream::new(42, stream_id(&["api", "service_time"]));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn streams_differ_by_seed_and_by_id() {
        let first = |seed, id| Stream::new(seed, id).next_u64();
        let id = stream_id(&["api", "service_time"]);
        assert_ne!(first(42, id), first(43, id));
        assert_ne!(first(42, id), first(42, stream_id(&["api", "errors"])));
        assert_ne!(stream_id(&["ab", "c"]), stream_id(&["a", "bc"]));
    }

    /// Golden values: the stream must never change, or every saved link would change its numbers.
    #[test]
    fn stream_values_are_stable() {
        let mut s = Stream::new(1, stream_id(&["clients", "arrivals"]));
        let values: [u64; 3] = [s.next_u64(), s.next_u64(), s.next_u64()];
        assert_eq!(values, GOLDEN_STREAM_VALUES);
    }
    const GOLDEN_STREAM_VALUES: [u64; 3] = [17911205941304091759, 9059100355641349868, 13135707736346561174];

    #[test]
    fn samplers_have_the_right_moments() {
        let mut s = Stream::new(7, 1);
        let n = 200_000;
        let (mut sum_u, mut sum_e, mut sum_n, mut sum_n2) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = s.uniform();
            assert!((0.0..1.0).contains(&u));
            sum_u += u;
            sum_e += s.standard_exponential();
            let z = s.standard_normal();
            sum_n += z;
            sum_n2 += z * z;
        }
        let n = n as f64;
        assert!((sum_u / n - 0.5).abs() < 0.005);
        assert!((sum_e / n - 1.0).abs() < 0.01);
        assert!((sum_n / n).abs() < 0.01);
        assert!((sum_n2 / n - 1.0).abs() < 0.01);
    }

    /// The ziggurat must give an exact exponential: check P(X > t) = e^-t across the body
    /// and the tail (beyond r = 7.7, where the slow path is taken).
    #[test]
    fn exponential_survival_matches_e_to_the_minus_t() {
        let mut s = Stream::new(11, 5);
        let n = 4_000_000u32;
        let thresholds = [0.1, 0.5, 1.0, 2.0, 4.0, 7.0, 8.0, 9.0];
        let mut above = [0u32; 8];
        for _ in 0..n {
            let x = s.standard_exponential();
            assert!(x >= 0.0 && x.is_finite());
            for (count, &t) in above.iter_mut().zip(&thresholds) {
                if x > t {
                    *count += 1;
                }
            }
        }
        for (&count, &t) in above.iter().zip(&thresholds) {
            let expected = f64::from(n) * libm::exp(-t);
            let sigma = expected.sqrt();
            assert!((f64::from(count) - expected).abs() < 5.0 * sigma + 1.0, "t={t}: {count} vs {expected}");
        }
    }
}

//! A 64-bit digest of a run's event trace: two runs with equal digests processed the same
//! events at the same times in the same order. Cheap enough to update on every event.

/// FxHash-style mixing: rotate, xor, multiply by an odd constant. Not cryptographic; it only
/// has to make accidental equality of different traces vanishingly unlikely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(u64);

const MULTIPLIER: u64 = 0x517C_C1B7_2722_0A95;

impl Default for Digest {
    fn default() -> Self {
        Digest(0xCBF2_9CE4_8422_2325)
    }
}

impl Digest {
    #[inline]
    pub fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }

    /// Final avalanche so that similar traces give unrelated-looking digests.
    pub fn value(self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        z ^ (z >> 33)
    }

    /// Sixteen lowercase hex digits.
    pub fn hex(self) -> alloc::string::String {
        alloc::format!("{:016x}", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matters() {
        let mut a = Digest::default();
        a.mix(1);
        a.mix(2);
        let mut b = Digest::default();
        b.mix(2);
        b.mix(1);
        assert_ne!(a.value(), b.value());
        assert_eq!(a.hex().len(), 16);
    }
}

//! splitmix64: the pseudo-random generator of the test tools, written
//! once for the host (mkfs's disk damager) and for the programs that run
//! inside xv6 (crashtest, syscallfuzz).
//!
//! It is not in the contract between the kernel and programs; it is here
//! because this is the one crate that both sides build. Its virtue is to
//! be small and to give the same numbers for the same seed on every run
//! and every machine, so that a failing seed can be run again. It is no
//! good for anything secret.

/// A splitmix64 generator: its state is the seed, advanced by a constant
/// on each call and then mixed.
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

/// Step by which the state advances: 2^64 divided by the golden ratio,
/// odd, so the state visits every value before it repeats.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's finaliser: spreads every bit of `x` over the whole word,
/// so that inputs differing in one bit give unrelated outputs.
pub fn mix(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SplitMix {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// A number in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_sequence() {
        // The first outputs for seed 1234567, as splitmix64's reference
        // code (Vigna, prng.di.unimi.it) gives them.
        let mut random = SplitMix(1_234_567);
        assert_eq!(random.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(random.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(random.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn below_and_between_stay_in_range() {
        let mut random = SplitMix(7);
        for _ in 0..1000 {
            assert!(random.below(3) < 3);
            assert!((5..=9).contains(&random.between(5, 9)));
        }
    }
}

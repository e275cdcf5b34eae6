//! The simulator's random draws (the origins' latencies and errors, the arrivals).
//!
//! Why not `fastrand::Rng`, whose numbers these are: it takes wyrand's 64 x 64-bit product from a
//! `u128` multiplication, which wasm32 has no instruction for, so every draw called `__multi3`, a
//! general 128 x 128-bit multiplication; an origin draws four per attempt. Here the product is
//! worked out from 32-bit halves in wasm.

/// `fastrand::Rng` (wyrand) as it draws an `f64`: the same numbers from the same seed.
pub struct Wy(u64);

impl Wy {
    pub fn with_seed(seed: u64) -> Self {
        Wy(seed)
    }

    fn u64(&mut self) -> u64 {
        let s = self.0.wrapping_add(0x2d35_8dcc_aa6c_78a5);
        self.0 = s;
        let (lo, hi) = mul_wide(s, s ^ 0x8bb8_4b93_962e_acc9);
        lo ^ hi
    }

    /// In `0..1`, as `fastrand::Rng::f64`.
    pub fn f64(&mut self) -> f64 {
        loop {
            let x = (self.u64() >> 1) as f64 * (1.0 / (1u64 << 63) as f64);
            if x < 1.0 {
                return x;
            }
        }
    }
}

/// `a * b` as its low and high 64 bits.
fn mul_wide(a: u64, b: u64) -> (u64, u64) {
    if cfg!(target_arch = "wasm32") {
        mul_halves(a, b)
    } else {
        let t = u128::from(a) * u128::from(b);
        (t as u64, (t >> 64) as u64)
    }
}

/// `a * b` as its low and high 64 bits, from four 32 x 32-bit products.
fn mul_halves(a: u64, b: u64) -> (u64, u64) {
    let (a0, a1) = (a & 0xffff_ffff, a >> 32);
    let (b0, b1) = (b & 0xffff_ffff, b >> 32);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
    let lo = (mid << 32) | (p00 & 0xffff_ffff);
    let hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draws_are_fastrands() {
        for seed in [0, 1, 0x005e_ed0f_0a1b, u64::MAX] {
            let (mut mine, mut theirs) = (Wy(seed), fastrand::Rng::with_seed(seed));
            for _ in 0..10_000 {
                assert_eq!(mine.f64().to_bits(), theirs.f64().to_bits());
            }
        }
    }

    #[test]
    fn the_wide_product_from_halves_is_the_u128_one() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..10_000 {
            let (a, b) = (rng.u64(..), rng.u64(..));
            let t = u128::from(a) * u128::from(b);
            assert_eq!(mul_halves(a, b), (t as u64, (t >> 64) as u64));
        }
        assert_eq!(mul_halves(u64::MAX, u64::MAX), (1, u64::MAX - 1));
    }
}

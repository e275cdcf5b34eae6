//! The float functions the engine uses, for the `no_std` wasm build.
//!
//! Why: `f64::exp`, `floor` and friends live in std, not core. On wasm, std took `exp` and `ln`
//! from `compiler_builtins`, which vendors the `libm` crate, so the wasm build now calls
//! `libm` directly: the same algorithms. `sqrt` was a wasm instruction; libm's portable one is
//! slower but correctly rounded like it, so the results are the same (only routes use it).
//! Rounding (`trunc`, `floor`, `ceil`, `round`) is done here with an integer conversion: libm's
//! portable versions are bit-twiddling loops, while std compiled them to single wasm
//! instructions, and the engine rounds a dozen times per call (windows, budget slots, sketch
//! buckets). Native builds use std's inherent methods, which take precedence over this trait's,
//! so the trait is only ever called on wasm; the tests check it against std bit for bit.

/// `e^x`, the same bits on every host: `libm` everywhere, never the platform's (glibc's `exp` and
/// libm's may differ in the last bit, and one bit moves a seeded run's latencies, so the order of
/// its events, so its whole series: the simulator promises the same series natively and in wasm).
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// The natural logarithm, the same bits on every host (see `exp`).
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// `x^y`, the same bits on every host (see `exp`).
pub fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// From 2^52 on, every `f64` is an integer.
const INTEGRAL: f64 = 4_503_599_627_370_496.0;

/// `f64` methods that core lacks.
pub trait F64Ext {
    fn floor(self) -> f64;
    fn ceil(self) -> f64;
    fn round(self) -> f64;
    fn trunc(self) -> f64;
    fn fract(self) -> f64;
    fn sqrt(self) -> f64;
    fn powi(self, n: i32) -> f64;
}

impl F64Ext for f64 {
    fn floor(self) -> f64 {
        let t = F64Ext::trunc(self);
        if t > self {
            t - 1.0
        } else {
            t
        }
    }
    fn ceil(self) -> f64 {
        let t = F64Ext::trunc(self);
        if t < self {
            t + 1.0
        } else {
            t
        }
    }
    /// Half away from zero, as std's.
    fn round(self) -> f64 {
        let t = F64Ext::trunc(self);
        if (self - t).abs() >= 0.5 {
            t + 1.0f64.copysign(self)
        } else {
            t
        }
    }
    /// Exact below 2^52 (the difference `self - t` is too); NaN and the infinities pass through.
    fn trunc(self) -> f64 {
        if self.abs() < INTEGRAL {
            (self as i64 as f64).copysign(self)
        } else {
            self
        }
    }
    fn fract(self) -> f64 {
        self - F64Ext::trunc(self)
    }
    fn sqrt(self) -> f64 {
        libm::sqrt(self)
    }
    /// Square-and-multiply, as `compiler_builtins`' `__powidf2` that std's `powi` compiled to.
    fn powi(self, n: i32) -> f64 {
        let (mut base, mut left, mut acc) = (self, n.unsigned_abs(), 1.0);
        loop {
            if left & 1 != 0 {
                acc *= base;
            }
            left >>= 1;
            if left == 0 {
                break;
            }
            base *= base;
        }
        if n < 0 {
            1.0 / acc
        } else {
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::F64Ext;

    /// The trait against std, bit for bit (so the sign of zero too).
    #[test]
    fn agrees_with_std() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..100_000 {
            xs.push(f64::from_bits(rng.u64(..)));
            xs.push((rng.f64() - 0.5) * 10f64.powi(rng.i32(-3..18)));
        }
        for x in xs {
            let pairs = [
                ("floor", F64Ext::floor(x), x.floor()),
                ("ceil", F64Ext::ceil(x), x.ceil()),
                ("round", F64Ext::round(x), x.round()),
                ("trunc", F64Ext::trunc(x), x.trunc()),
                ("fract", F64Ext::fract(x), x.fract()),
                ("sqrt", F64Ext::sqrt(x), x.sqrt()),
                ("powi", F64Ext::powi(x, 3), x.powi(3)),
            ];
            for (name, ours, std) in pairs {
                assert!(
                    ours.to_bits() == std.to_bits() || (ours.is_nan() && std.is_nan()),
                    "{name}({x:e}): {ours:e} vs std {std:e}"
                );
            }
        }
    }
}

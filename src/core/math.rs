//! The float functions the engine uses, for the `no_std` wasm build.
//!
//! Why: `f64::exp`, `floor` and friends live in std, not core. On wasm, std took `exp` and `ln`
//! from `compiler_builtins`, which vendors the `libm` crate, so the wasm build now calls
//! `libm` directly: the same algorithms. `floor`, `ceil`, `trunc` and `sqrt` are single wasm
//! instructions (`f64.floor`, ...), which std used and core does not expose on stable Rust; the C
//! functions of those names are them in wasm (`c`), where libm's portable versions are loops of
//! several hundred bytes. `round` (half away from zero, which no instruction does) is built on
//! `trunc`. Native builds use std's inherent methods, which take precedence over this trait's, so
//! the trait is only ever called on wasm; the tests check it against std bit for bit.

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

/// The C library's `floor`, `ceil`, `trunc` and `sqrt`. In wasm, `compiler_builtins` (which every
/// Rust program links) defines them, for targets without a C library, as the wasm instructions;
/// natively they are the platform's. Either way the same bits: the first three are exact, and
/// `sqrt` is correctly rounded, as IEEE 754 asks. Were a symbol missing in wasm, the module would
/// import it from `env`, and `tests/js/builds.test.mjs` (it imports from its glue only) would fail.
mod c {
    extern "C" {
        pub fn floor(x: f64) -> f64;
        pub fn ceil(x: f64) -> f64;
        pub fn trunc(x: f64) -> f64;
        pub fn sqrt(x: f64) -> f64;
    }
}

/// `x` as an integer that orders as `f64::total_cmp` orders floats: queues of instants compare
/// integers.
pub fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

/// The float `order_key` was made from.
pub fn from_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

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
        // SAFETY: a pure function of its argument.
        unsafe { c::floor(self) }
    }
    fn ceil(self) -> f64 {
        // SAFETY: as `floor`.
        unsafe { c::ceil(self) }
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
    fn trunc(self) -> f64 {
        // SAFETY: as `floor`.
        unsafe { c::trunc(self) }
    }
    fn fract(self) -> f64 {
        self - F64Ext::trunc(self)
    }
    fn sqrt(self) -> f64 {
        // SAFETY: as `floor`.
        unsafe { c::sqrt(self) }
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

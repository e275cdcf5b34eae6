//! The float functions the engine uses, for the `no_std` wasm build.
//!
//! Why: `f64::exp`, `floor` and friends live in std, not core. On wasm std took them from
//! `compiler_builtins`' copy of libm anyway, so the wasm build calls the same libm code directly
//! and computes the same numbers as before. Native builds use std's inherent methods, which take
//! precedence over this trait's (so the trait is only ever called on wasm).

/// `f64` methods that core lacks.
pub trait F64Ext {
    fn floor(self) -> f64;
    fn ceil(self) -> f64;
    fn round(self) -> f64;
    fn trunc(self) -> f64;
    fn fract(self) -> f64;
    fn sqrt(self) -> f64;
    fn exp(self) -> f64;
    fn ln(self) -> f64;
    fn powf(self, n: f64) -> f64;
    fn powi(self, n: i32) -> f64;
}

impl F64Ext for f64 {
    fn floor(self) -> f64 {
        libm::floor(self)
    }
    fn ceil(self) -> f64 {
        libm::ceil(self)
    }
    fn round(self) -> f64 {
        libm::round(self)
    }
    fn trunc(self) -> f64 {
        libm::trunc(self)
    }
    fn fract(self) -> f64 {
        self - libm::trunc(self)
    }
    fn sqrt(self) -> f64 {
        libm::sqrt(self)
    }
    fn exp(self) -> f64 {
        libm::exp(self)
    }
    fn ln(self) -> f64 {
        libm::log(self)
    }
    fn powf(self, n: f64) -> f64 {
        libm::pow(self, n)
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

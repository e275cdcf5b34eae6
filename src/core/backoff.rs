//! Backoff between attempts, with the four strategies of the AWS "Exponential Backoff and Jitter"
//! article.
//!
//! Why jitter: when many clients fail together (an origin blip), un-jittered exponential backoff
//! makes them all come back together, in waves. Full jitter spreads them over the whole interval
//! and, in the article's simulation of 100 contending clients, makes less than half the calls.
//! `full` is the default; `exponential` exists for users who need a predictable schedule.

use crate::core::config::{BackoffConfig, BackoffKind};
#[cfg(target_arch = "wasm32")]
use crate::core::math::F64Ext;
use fastrand::Rng;

/// Delay before retry number `n` (0 for the first retry), in ms.
/// `prev_ms` is the previous delay (used by `decorrelated`; pass 0 before the first retry).
pub fn delay_ms(cfg: &BackoffConfig, n: u32, prev_ms: f64, rng: &mut Rng) -> f64 {
    let (base, cap) = (cfg.base_ms, cfg.cap_ms);
    let expo = (base * 2f64.powi(n.min(62) as i32)).min(cap);
    match cfg.kind {
        BackoffKind::Exponential => expo,
        BackoffKind::Full => rng.f64() * expo,
        BackoffKind::Equal => expo / 2.0 + rng.f64() * (expo / 2.0),
        BackoffKind::Decorrelated => {
            let hi = (prev_ms.max(base) * 3.0).min(cap.max(base));
            (base + rng.f64() * (hi - base)).min(cap)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastrand::Rng;
    use proptest::prelude::*;

    fn cfg(kind: BackoffKind, base_ms: f64, cap_ms: f64) -> BackoffConfig {
        BackoffConfig {
            kind,
            base_ms,
            cap_ms,
        }
    }

    #[test]
    fn exponential_doubles_then_caps() {
        let c = cfg(BackoffKind::Exponential, 100.0, 1_000.0);
        let mut rng = Rng::with_seed(1);
        let got: Vec<f64> = (0..6).map(|n| delay_ms(&c, n, 0.0, &mut rng)).collect();
        assert_eq!(got, vec![100.0, 200.0, 400.0, 800.0, 1_000.0, 1_000.0]);
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let c = cfg(BackoffKind::Exponential, 100.0, 1_000.0);
        assert_eq!(delay_ms(&c, u32::MAX, 0.0, &mut Rng::with_seed(1)), 1_000.0);
    }

    #[test]
    fn full_jitter_spreads_over_the_interval() {
        let c = cfg(BackoffKind::Full, 100.0, 10_000.0);
        let mut rng = Rng::with_seed(7);
        let xs: Vec<f64> = (0..1000).map(|_| delay_ms(&c, 3, 0.0, &mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(
            (mean - 400.0).abs() < 40.0,
            "mean of U(0, 800) near 400, got {mean}"
        );
    }

    proptest! {
        #[test]
        fn every_kind_stays_within_bounds(
            kind in prop_oneof![
                Just(BackoffKind::Exponential), Just(BackoffKind::Full),
                Just(BackoffKind::Equal), Just(BackoffKind::Decorrelated)
            ],
            base in 0.0f64..10_000.0,
            extra in 0.0f64..100_000.0,
            n in 0u32..100,
            prev in 0.0f64..200_000.0,
            seed in any::<u64>(),
        ) {
            let cap = base + extra;
            let c = cfg(kind, base, cap);
            let d = delay_ms(&c, n, prev, &mut Rng::with_seed(seed));
            let expo = (base * 2f64.powi(n.min(62) as i32)).min(cap);
            prop_assert!(d.is_finite() && d >= 0.0 && d <= cap);
            match kind {
                BackoffKind::Exponential => prop_assert_eq!(d, expo),
                BackoffKind::Full => prop_assert!(d <= expo),
                BackoffKind::Equal => prop_assert!(d >= expo / 2.0 && d <= expo),
                BackoffKind::Decorrelated => {
                    prop_assert!(d >= base.min(cap));
                    prop_assert!(d <= (prev.max(base) * 3.0).max(base));
                }
            }
        }
    }
}

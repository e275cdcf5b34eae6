//! When calls arrive: the scenario's sources, drawn from the run's seed.
//!
//! Arrivals do not depend on the policy: both policies of one run see the same calls at the same
//! instants, so the difference in what reaches the routes is the policy's alone.

use crate::core::math;
use crate::prelude::*;
use crate::sim::rng::Wy;
use crate::sim::scenario::Arrival;

/// Every arrival before `end_ms`, in order.
pub fn times(sources: &[Arrival], end_ms: f64, rng: &mut Wy) -> Vec<f64> {
    let mut all = Vec::new();
    for a in sources {
        match *a {
            Arrival::Steady {
                rate,
                start_ms,
                end_ms: e,
            } => {
                if rate > 0.0 {
                    let gap = 1000.0 / rate;
                    let stop = e.unwrap_or(end_ms).min(end_ms);
                    let mut t = start_ms;
                    while t < stop {
                        all.push(t);
                        t += gap;
                    }
                }
            }
            Arrival::Poisson {
                rate,
                start_ms,
                end_ms: e,
            } => poisson(
                &mut all,
                rng,
                start_ms,
                e.unwrap_or(end_ms).min(end_ms),
                |_| rate,
            ),
            Arrival::Burst {
                rate,
                start_ms,
                duration_ms,
            } => poisson(
                &mut all,
                rng,
                start_ms,
                (start_ms + duration_ms).min(end_ms),
                |_| rate,
            ),
            Arrival::Ramp {
                from,
                to,
                start_ms,
                end_ms: ramp_end,
                hold_ms,
            } => {
                let stop = hold_ms.unwrap_or(ramp_end).min(end_ms);
                let span = (ramp_end - start_ms).max(1e-9);
                poisson(&mut all, rng, start_ms, stop, |t| {
                    from + (to - from) * ((t - start_ms) / span).min(1.0)
                })
            }
            Arrival::Diurnal {
                mean,
                amplitude,
                period_ms,
            } => poisson(&mut all, rng, 0.0, end_ms, |t| {
                mean + amplitude * libm::sin(2.0 * core::f64::consts::PI * t / period_ms)
            }),
        }
    }
    // Each source's arrivals are in order already: a stable sort merges those runs (equal
    // instants are the same bits, so the order among them shows nowhere).
    all.sort_by(f64::total_cmp);
    all
}

/// A Poisson process whose rate (per second) may change with time: thinning against the highest
/// rate over the span, sampled in steps (rates here are piecewise smooth).
fn poisson(out: &mut Vec<f64>, rng: &mut Wy, from: f64, to: f64, rate: impl Fn(f64) -> f64) {
    if to <= from {
        return;
    }
    let steps = 256;
    let peak = (0..=steps)
        .map(|i| rate(from + (to - from) * f64::from(i) / f64::from(steps)))
        .fold(0.0, f64::max);
    if peak <= 0.0 {
        return;
    }
    let mut t = from;
    loop {
        // Exponential gap at the peak rate, in ms.
        t += -math::ln(1.0 - rng.f64()) * 1000.0 / peak;
        if t >= to {
            return;
        }
        if rng.f64() * peak <= rate(t) {
            out.push(t.floor_to(0.001));
        }
    }
}

trait FloorTo {
    fn floor_to(self, step: f64) -> f64;
}

impl FloorTo for f64 {
    /// Instants on a microsecond grid, so runs print the same on every platform.
    fn floor_to(self, step: f64) -> f64 {
        (self / step).floor() * step
    }
}

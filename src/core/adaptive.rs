//! The adaptive concurrency limit (`concurrency.limit = "adaptive"`): Netflix concurrency-limits'
//! Gradient2, per sample.
//!
//! Why latency and not errors: an origin near capacity queues work before it fails it, so latency
//! rises first. The limit follows the ratio of the long-term RTT (the no-load baseline, an average
//! over ~600 samples) to the short-term RTT (~10 samples):
//!
//! ```text
//! gradient  = clamp(1.5 x long / short, 0.5, 1)      // 1.5 = tolerance before reacting
//! new       = gradient x limit + 4                   // + 4 = room to probe for more
//! limit     = 0.8 x limit + 0.2 x new                // smoothing
//! limit     = clamp(limit, 2, 1000)
//! ```
//!
//! So the limit falls when short-term latency exceeds 1.5x the baseline and grows (by ~0.8 per
//! sample) while latency stays near it. It does not grow while the client uses less than half of
//! it (app-limited: no evidence that more would be fine). If the baseline drifts above twice the
//! short-term RTT (latency has improved for good) it decays by 5% per sample so recovery is quick.
//! Initial limit 20; bounds [2, 1000].

pub const MIN_LIMIT: f64 = 2.0;
pub const MAX_LIMIT: f64 = 1000.0;
pub const INITIAL_LIMIT: f64 = 20.0;
const TOLERANCE: f64 = 1.5;
const QUEUE_SIZE: f64 = 4.0;
const SMOOTHING: f64 = 0.2;
const LONG_WINDOW: f64 = 600.0;
const SHORT_WINDOW: f64 = 10.0;
const WARMUP: u64 = 10;

#[derive(Debug, Clone)]
pub struct Gradient {
    limit: f64,
    long_rtt: f64,
    short_rtt: f64,
    samples: u64,
}

impl Default for Gradient {
    fn default() -> Self {
        Gradient {
            limit: INITIAL_LIMIT,
            long_rtt: 0.0,
            short_rtt: 0.0,
            samples: 0,
        }
    }
}

impl Gradient {
    pub fn limit(&self) -> u32 {
        self.limit as u32
    }

    /// One finished attempt: its RTT and how many attempts were in flight when it ended.
    pub fn sample(&mut self, rtt_ms: f64, in_flight: u32, _now: f64) {
        if !(rtt_ms.is_finite() && rtt_ms >= 0.0) {
            return;
        }
        let rtt = rtt_ms.max(0.001);
        self.samples += 1;
        if self.samples <= WARMUP {
            // Plain averages while warming up, so the first samples set the baseline.
            let n = self.samples as f64;
            self.long_rtt += (rtt - self.long_rtt) / n;
            self.short_rtt += (rtt - self.short_rtt) / n;
            return;
        }
        self.long_rtt += (rtt - self.long_rtt) * 2.0 / (LONG_WINDOW + 1.0);
        self.short_rtt += (rtt - self.short_rtt) * 2.0 / (SHORT_WINDOW + 1.0);
        if self.long_rtt / self.short_rtt > 2.0 {
            self.long_rtt *= 0.95;
        }
        if (in_flight as f64) < self.limit / 2.0 {
            return;
        }
        let gradient = (TOLERANCE * self.long_rtt / self.short_rtt).clamp(0.5, 1.0);
        let new = gradient * self.limit + QUEUE_SIZE;
        self.limit = (self.limit * (1.0 - SMOOTHING) + new * SMOOTHING).clamp(MIN_LIMIT, MAX_LIMIT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(g: &mut Gradient, rtt: f64, n: usize) {
        for _ in 0..n {
            let busy = g.limit();
            g.sample(rtt, busy, 0.0);
        }
    }

    #[test]
    fn grows_at_baseline_falls_when_latency_rises_recovers_after() {
        let mut g = Gradient::default();
        feed(&mut g, 10.0, 200);
        let grown = g.limit();
        assert!(grown > INITIAL_LIMIT as u32, "grew to {grown}");
        feed(&mut g, 60.0, 100);
        let fallen = g.limit();
        assert!(fallen < grown / 2, "fell from {grown} to {fallen}");
        feed(&mut g, 10.0, 300);
        assert!(g.limit() > fallen * 2, "recovered to {}", g.limit());
    }

    #[test]
    fn app_limited_clients_do_not_grow() {
        let mut g = Gradient::default();
        for _ in 0..1000 {
            g.sample(10.0, 1, 0.0);
        }
        assert_eq!(g.limit(), INITIAL_LIMIT as u32);
    }

    #[test]
    fn stays_within_bounds_and_ignores_garbage() {
        let mut g = Gradient::default();
        feed(&mut g, 1.0, 5000);
        assert!(g.limit() as f64 <= MAX_LIMIT);
        feed(&mut g, 1e9, 5000);
        assert!(g.limit() as f64 >= MIN_LIMIT);
        g.sample(f64::NAN, 10, 0.0);
        g.sample(-1.0, 10, 0.0);
        assert!(g.limit() as f64 >= MIN_LIMIT);
    }
}

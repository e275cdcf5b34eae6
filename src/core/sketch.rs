//! A mergeable quantile sketch with bounded relative error (the DDSketch idea).
//!
//! Why not keep samples: a client may run for days and make millions of calls; the engine's memory
//! must not grow with them. Why not fixed linear buckets: latency spans microseconds to minutes, and
//! what matters is *relative* error (p99 of 2 s +/- 20 ms, p50 of 1 ms +/- 10 us). Values are put in
//! logarithmic buckets of ratio `gamma = (1 + a) / (1 - a)`; any quantile read back is within
//! relative error `a` (1%) of a sample at that rank. Buckets cover 1 us to about 11.6 days, so a
//! sketch holds at most ~1,450 counters whatever it is fed. Sketches merge by adding counters,
//! which is what makes sliding windows cheap.

/// Relative accuracy of every quantile read back.
pub const RELATIVE_ACCURACY: f64 = 0.01;
const MIN_VALUE: f64 = 1e-3;
const MAX_VALUE: f64 = 1e9;

fn ln_gamma() -> f64 {
    ((1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)).ln()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sketch {
    counts: Vec<u64>,
    offset: i32,
    /// Samples below `MIN_VALUE` (including 0).
    zero: u64,
    count: u64,
    max: f64,
}

impl Sketch {
    fn index(x: f64) -> i32 {
        (x.min(MAX_VALUE).ln() / ln_gamma()).ceil() as i32
    }

    /// Records one sample; NaN and negative samples count as 0.
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        if x > self.max {
            self.max = x;
        }
        if x.is_nan() || x < MIN_VALUE {
            self.zero += 1;
            return;
        }
        self.bump(Self::index(x), 1);
    }

    fn bump(&mut self, idx: i32, by: u64) {
        if self.counts.is_empty() {
            self.offset = idx;
        }
        if idx < self.offset {
            let grow = (self.offset - idx) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = idx;
        }
        let pos = (idx - self.offset) as usize;
        if pos >= self.counts.len() {
            self.counts.resize(pos + 1, 0);
        }
        self.counts[pos] += by;
    }

    pub fn merge(&mut self, other: &Sketch) {
        self.count += other.count;
        self.zero += other.zero;
        if other.max > self.max {
            self.max = other.max;
        }
        for (i, c) in other.counts.iter().enumerate() {
            if *c > 0 {
                self.bump(other.offset + i as i32, *c);
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> f64 {
        self.max
    }

    /// The value at quantile `q` in [0, 1], or 0 for an empty sketch.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).floor() as u64;
        if rank < self.zero {
            return 0.0;
        }
        let mut seen = self.zero;
        let g = ln_gamma().exp();
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                let idx = self.offset + i as i32;
                let v = 2.0 * g.powi(idx) / (g + 1.0);
                return v.min(self.max);
            }
        }
        self.max
    }

    /// Counters held (for the memory-bound tests).
    pub fn buckets(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_relative_error_of_exact() {
        let mut rng = fastrand::Rng::with_seed(42);
        let mut xs: Vec<f64> = (0..100_000)
            .map(|_| (rng.f64() * 12.0 - 4.0).exp())
            .collect();
        let mut s = Sketch::default();
        for x in &xs {
            s.add(*x);
        }
        xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
            let exact = xs[(q * (xs.len() - 1) as f64).floor() as usize];
            let got = s.quantile(q);
            let err = (got - exact).abs() / exact;
            assert!(err <= RELATIVE_ACCURACY + 1e-9, "q{q}: {got} vs {exact}");
        }
    }

    #[test]
    fn merge_equals_adding_everything_to_one() {
        let (mut a, mut b, mut all) = (Sketch::default(), Sketch::default(), Sketch::default());
        for i in 0..1000 {
            let x = (i as f64) * 0.37;
            if i % 3 == 0 { &mut a } else { &mut b }.add(x);
            all.add(x);
        }
        a.merge(&b);
        assert_eq!(a.quantile(0.5), all.quantile(0.5));
        assert_eq!(a.quantile(0.99), all.quantile(0.99));
        assert_eq!(a.count(), 1000);
    }

    #[test]
    fn bounded_whatever_the_input() {
        let mut s = Sketch::default();
        for x in [0.0, -5.0, f64::NAN, 1e-9, 1e300, f64::INFINITY, 1.0] {
            s.add(x);
        }
        assert!(s.buckets() < 1_500);
        assert_eq!(s.quantile(0.0), 0.0);
    }
}

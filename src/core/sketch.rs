//! A mergeable quantile sketch with bounded relative error (the DDSketch idea).
//!
//! Why not keep samples: a client may run for days and make millions of calls; the engine's memory
//! must not grow with them. Why not fixed linear buckets: latency spans microseconds to minutes, and
//! what matters is *relative* error (p99 of 2 s +/- 20 ms, p50 of 1 ms +/- 10 us). Values are put in
//! logarithmic buckets of ratio `gamma = (1 + a) / (1 - a)`; any quantile read back is within
//! relative error `a` (1%) of a sample at that rank. Buckets cover 1 us to about 11.6 days, so a
//! sketch holds at most ~1,450 counters whatever it is fed. Sketches merge by adding counters,
//! which is what makes sliding windows cheap.

use crate::core::math;
use crate::prelude::*;
/// Relative accuracy of every quantile read back.
pub const RELATIVE_ACCURACY: f64 = 0.01;
const MIN_VALUE: f64 = 1e-3;
const MAX_VALUE: f64 = 1e9;

fn ln_gamma() -> f64 {
    math::ln((1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY))
}

/// A sample with its bucket worked out once. An attempt's duration goes into the metrics window's
/// sketch, the pressure window's and, when routed, its route's; the bucket costs a `ln`, so it is
/// computed once per attempt, not once per sketch.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    x: f64,
    /// `None`: below `MIN_VALUE` (or NaN), counted in `zero`.
    bucket: Option<i32>,
}

impl Sample {
    pub fn value(self) -> f64 {
        self.x
    }
}

impl From<f64> for Sample {
    fn from(x: f64) -> Self {
        let bucket = if x.is_nan() || x < MIN_VALUE {
            None
        } else {
            Some(Sketch::index(x))
        };
        Sample { x, bucket }
    }
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

impl crate::core::window::Reset for Sketch {
    /// Empty as a new sketch (equal to one), keeping its counters' allocation.
    fn reset(&mut self) {
        self.counts.clear();
        self.offset = 0;
        self.zero = 0;
        self.count = 0;
        self.max = 0.0;
    }
}

impl Sketch {
    /// `x` is not NaN (`Sample::from` sets NaN aside), so a comparison caps it as `min` would
    /// (`min` is a call in wasm).
    fn index(x: f64) -> i32 {
        let x = if x > MAX_VALUE { MAX_VALUE } else { x };
        #[cfg(not(feature = "binding"))]
        if let Some(i) = table::index(x) {
            return i;
        }
        Self::index_by_ln(x)
    }

    /// The bucket of `x` (at most `MAX_VALUE`), by definition.
    fn index_by_ln(x: f64) -> i32 {
        (math::ln(x) / ln_gamma()).ceil() as i32
    }

    /// Records one sample; NaN and negative samples count as 0.
    pub fn add(&mut self, x: f64) {
        self.add_sample(Sample::from(x));
    }

    /// `add`, with the bucket already worked out.
    pub fn add_sample(&mut self, s: Sample) {
        self.count += 1;
        if s.x > self.max {
            self.max = s.x;
        }
        match s.bucket {
            Some(i) => self.bump(i, 1),
            None => self.zero += 1,
        }
    }

    /// Makes `counts` cover the bucket indexes `lo..=hi`, growing it with zeros at either end.
    /// (Not `Vec::splice` at the front: larger in wasm, and slower.)
    fn cover(&mut self, lo: i32, hi: i32) {
        if self.counts.is_empty() {
            self.offset = lo;
        }
        if lo < self.offset {
            let grow = (self.offset - lo) as usize;
            let len = self.counts.len();
            self.counts.resize(len + grow, 0);
            self.counts.copy_within(0..len, grow);
            self.counts[..grow].fill(0);
            self.offset = lo;
        }
        let end = (hi - self.offset) as usize + 1;
        if end > self.counts.len() {
            self.counts.resize(end, 0);
        }
    }

    fn bump(&mut self, idx: i32, by: u64) {
        // Most samples land in a bucket the counters already cover.
        if let Some(c) = usize::try_from(idx - self.offset)
            .ok()
            .and_then(|i| self.counts.get_mut(i))
        {
            *c += by;
            return;
        }
        self.cover(idx, idx);
        self.counts[(idx - self.offset) as usize] += by;
    }

    /// Adds `other`'s samples. The counters end up covering exactly the non-empty buckets'
    /// range, as if every sample had been added here.
    pub fn merge(&mut self, other: &Sketch) {
        self.count += other.count;
        self.zero += other.zero;
        if other.max > self.max {
            self.max = other.max;
        }
        let Some(first) = other.counts.iter().position(|c| *c > 0) else {
            return;
        };
        let last = other.counts.iter().rposition(|c| *c > 0).unwrap_or(first);
        let lo = other.offset + first as i32;
        self.cover(lo, other.offset + last as i32);
        let at = (lo - self.offset) as usize;
        let theirs = &other.counts[first..=last];
        for (mine, c) in self.counts[at..at + theirs.len()].iter_mut().zip(theirs) {
            *mine += c;
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
        let g = math::exp(ln_gamma());
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

/// The bucket of a sample without a `ln`, for builds without the binding (the simulator): it
/// computes a bucket for every attempt and every call, and the `ln` was a large part of its time.
/// The fetch path keeps the `ln` alone, whose code is smaller.
///
/// The boundaries between buckets are the powers of `gamma`, worked out at compile time. A
/// sample's exponent and top six mantissa bits name a bin of its binade, narrower than a bucket,
/// so at most one boundary falls in it: the bin says which, and one comparison with it gives the
/// bucket. The boundaries here are within about 1e-12 (relative) of those `index_by_ln` draws,
/// whose `ln` is within an ulp of the exact one; a sample within `MARGIN` of one is left to
/// `index_by_ln` (the table cannot decide it), and every other one gets the bucket `index_by_ln`
/// would give it.
#[cfg(not(feature = "binding"))]
mod table {
    use super::{MAX_VALUE, MIN_VALUE, RELATIVE_ACCURACY};

    /// The lowest binade with samples (`MIN_VALUE` is in it), as an unbiased exponent.
    const E0: i32 = -10;
    /// Binades from `E0` on, up to the one `MAX_VALUE` is in.
    const BINADES: usize = 40;
    /// Bins per binade (the top mantissa bits): a bin is narrower than a bucket (1/64 < ln gamma).
    const BIN_BITS: u32 = 6;
    const BINS: usize = BINADES << BIN_BITS;
    /// The boundaries held: `gamma^k` for `k` in `K0..K0 + KS`, a few beyond the bins' buckets.
    const K0: i32 = -350;
    const KS: usize = 1400;
    /// Relative distance to a boundary within which `index_by_ln` decides.
    const MARGIN: f64 = 1.0 / (1u64 << 32) as f64;

    const _: () = assert!(MIN_VALUE >= 1.0 / (1u64 << -E0) as f64);
    const _: () = assert!(MAX_VALUE < (1u64 << (E0 + BINADES as i32)) as f64);

    /// Per boundary `gamma^k`: the least sample above it and the greatest below it that the table
    /// decides, as `[below, above]`.
    static BOUNDS: [[f64; 2]; KS] = bounds();
    /// Per bin, the first boundary at or above its start, as `k`.
    static FIRST: [i16; BINS] = first();

    const fn gamma() -> f64 {
        (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
    }

    /// `gamma^k` for every `k` held, by products from `gamma^0` outward (each within about
    /// `|k|` ulps of the exact power).
    const fn powers() -> [f64; KS] {
        let g = gamma();
        let mut p = [0.0; KS];
        let zero = (-K0) as usize;
        p[zero] = 1.0;
        let mut i = zero + 1;
        while i < KS {
            p[i] = p[i - 1] * g;
            i += 1;
        }
        let mut i = zero;
        while i > 0 {
            p[i - 1] = p[i] / g;
            i -= 1;
        }
        p
    }

    const fn bounds() -> [[f64; 2]; KS] {
        let p = powers();
        let mut b = [[0.0; 2]; KS];
        let mut i = 0;
        while i < KS {
            b[i] = [p[i] * (1.0 - MARGIN), p[i] * (1.0 + MARGIN)];
            i += 1;
        }
        b
    }

    const fn first() -> [i16; BINS] {
        let p = powers();
        let mut f = [0i16; BINS];
        let mut k = 0;
        let mut j = 0;
        while j < BINS {
            let start =
                f64::from_bits((((1023 + E0) as u64) << 52) + ((j as u64) << (52 - BIN_BITS)));
            while p[k] < start {
                k += 1;
            }
            f[j] = (k as i32 + K0) as i16;
            j += 1;
        }
        f
    }

    /// The bucket of `x` (in `MIN_VALUE..=MAX_VALUE`), unless it is too near a boundary.
    #[inline]
    pub(super) fn index(x: f64) -> Option<i32> {
        let bin = (x.to_bits() >> (52 - BIN_BITS)) as usize;
        let j = bin.wrapping_sub(((1023 + E0) as usize) << BIN_BITS);
        let k = *FIRST.get(j)? as i32;
        // `x` is in the bin, so above the boundary `k - 1` and below `k + 1`.
        let i = (k - K0) as usize;
        let (below, above) = (BOUNDS[i - 1][1], BOUNDS[i]);
        if x < above[0] {
            (x > below).then_some(k)
        } else if x > above[1] {
            Some(k + 1)
        } else {
            None
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::{Sketch, MAX_VALUE, MIN_VALUE};
        use super::*;

        /// Whatever the table decides is what `index_by_ln` gives.
        fn agrees(x: f64) -> bool {
            if !(MIN_VALUE..=MAX_VALUE).contains(&x) {
                return true;
            }
            match index(x) {
                Some(i) => {
                    assert_eq!(i, Sketch::index_by_ln(x), "{x:e} ({:#x})", x.to_bits());
                    true
                }
                None => false,
            }
        }

        fn next_up(x: f64) -> f64 {
            f64::from_bits(x.to_bits() + 1)
        }

        fn next_down(x: f64) -> f64 {
            f64::from_bits(x.to_bits() - 1)
        }

        /// `agrees` on the 64 floats from `lo` down and the 64 from `hi` up.
        fn outward(lo: f64, hi: f64) {
            let (mut lo, mut hi) = (lo, hi);
            for _ in 0..64 {
                agrees(lo);
                agrees(hi);
                lo = next_down(lo);
                hi = next_up(hi);
            }
        }

        #[test]
        fn agrees_with_ln_at_every_boundary_and_bin_edge() {
            let mut undecided = 0;
            for [below, above] in BOUNDS {
                let p = (below + above) / 2.0;
                // Either side of the margin, across it ulp by ulp, and the boundary itself.
                outward(below, above);
                let (mut lo, mut hi) = (below, above);
                for _ in 0..64 {
                    undecided += usize::from(!agrees(lo)) + usize::from(!agrees(hi));
                    lo = next_up(lo);
                    hi = next_down(hi);
                }
                for m in [1e-3, 1e-6, 1e-8, 1e-9, 4e-10, 2.4e-10, 2.2e-10, 1e-10, 0.0] {
                    agrees(p * (1.0 + m));
                    agrees(p * (1.0 - m));
                }
            }
            // Only the margins (and not all of them) are left to the `ln`.
            assert!(undecided <= 4 * 64 * KS, "{undecided}");
            for j in 0..BINS as u64 {
                let start = f64::from_bits((((1023 + E0) as u64) << 52) + (j << (52 - BIN_BITS)));
                outward(start, start);
            }
        }

        #[test]
        fn agrees_with_ln_on_many_samples() {
            let mut rng = fastrand::Rng::with_seed(7);
            let mut undecided = 0u32;
            let n = 2_000_000;
            for _ in 0..n {
                // Log-uniform over the whole range, uniform, and round numbers of ms.
                let x = crate::core::math::exp(rng.f64() * 28.0 - 7.0);
                undecided += u32::from(!agrees(x));
                agrees(rng.f64() * 2e9);
                agrees(rng.u32(1..100_000_000) as f64 / 1000.0);
                agrees(rng.u32(1..1_000_000) as f64);
            }
            assert!(undecided < 10, "{undecided} of {n} undecided");
            // 1 is a boundary (gamma^0): left to the `ln`.
            assert!(!agrees(1.0));
            for x in [MIN_VALUE, MAX_VALUE, 1000.0, 30_000.0] {
                assert!(agrees(x));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_relative_error_of_exact() {
        let mut rng = fastrand::Rng::with_seed(42);
        let mut xs: Vec<f64> = (0..100_000)
            .map(|_| math::exp(rng.f64() * 12.0 - 4.0))
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
        assert_eq!(a, all);
        assert_eq!(a.quantile(0.5), all.quantile(0.5));
        assert_eq!(a.quantile(0.99), all.quantile(0.99));
        assert_eq!(a.count(), 1000);
    }

    #[test]
    fn merges_in_any_order_equal_one_sketch_of_everything() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..200 {
            let parts = rng.usize(1..6);
            let mut sketches = vec![Sketch::default(); parts];
            let mut all = Sketch::default();
            for _ in 0..rng.usize(0..300) {
                let x = if rng.u8(..) < 10 {
                    0.0
                } else {
                    math::exp(rng.f64() * 20.0 - 6.0)
                };
                sketches[rng.usize(..parts)].add(x);
                all.add(x);
            }
            let mut merged = Sketch::default();
            for s in &sketches {
                merged.merge(s);
            }
            assert_eq!(merged, all);
        }
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

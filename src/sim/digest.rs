//! A run's fingerprint: one number over everything it produced (every point, event, traced call
//! and the summary, bit for bit), so two runs can be compared without shipping their series.
//!
//! Why: the simulator promises the same series for the same seed on every host (natively, in
//! wasm in Node and in Chromium); the tests compare these fingerprints with committed ones, which
//! also catches a change that was meant to be an optimization and moved a single number.

use crate::core::fnv::Fnv1a;
use crate::prelude::*;
use crate::sim::series::{Point, TaskTrace, TimelineEvent};
use crate::sim::{Output, Summary};

/// Integers up to this are exact in a JS number (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// The run's hash (`core::fnv`); `1` says whether every number it was given is plain
/// (`Output::is_plain`).
struct Fnv(Fnv1a, bool);

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        self.0.bytes(b);
    }
    fn u64(&mut self, v: u64) {
        self.1 &= v <= MAX_SAFE;
        self.bytes(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.1 &= v.is_finite();
        self.bytes(&v.to_bits().to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.u64(1);
                self.f64(v);
            }
            None => self.u64(0),
        }
    }
    fn opt_str(&mut self, v: Option<&str>) {
        match v {
            Some(v) => {
                self.u64(1);
                self.str(v);
            }
            None => self.u64(0),
        }
    }
    fn counts<'a>(&mut self, m: impl ExactSizeIterator<Item = (&'a String, &'a u64)>) {
        self.u64(m.len() as u64);
        for (k, v) in m {
            self.str(k);
            self.u64(*v);
        }
    }
}

impl Output {
    /// The run's fingerprint (`sim::digest`).
    pub fn digest(&self) -> u64 {
        self.walk().0
    }

    /// Whether every number in the output is finite and every integer exact in a JS number: then
    /// JSON text carries it to JS as a direct conversion would (the tools' wasm sends such an
    /// output as JSON, which JS parses at once instead of building it value by value).
    pub fn is_plain(&self) -> bool {
        self.walk().1
    }

    fn walk(&self) -> (u64, bool) {
        let mut h = Fnv(Fnv1a::new(), true);
        h.u64(self.series.len() as u64);
        for p in &self.series {
            point(&mut h, p);
        }
        h.u64(self.events.len() as u64);
        for e in &self.events {
            event(&mut h, e);
        }
        h.u64(self.tasks.len() as u64);
        for t in &self.tasks {
            task(&mut h, t);
        }
        summary(&mut h, &self.summary);
        (h.0 .0, h.1)
    }
}

fn point(h: &mut Fnv, p: &Point) {
    h.f64(p.t);
    for n in [
        p.offered,
        p.attempts,
        p.retries,
        p.successes,
        p.failures,
        p.shed,
    ] {
        h.u64(n);
    }
    h.counts(p.by_route.iter());
    h.counts(p.fallbacks.iter());
    h.f64(p.retry_density);
    for v in [p.latency_p50, p.latency_p99, p.queue_wait_p99, p.pressure] {
        h.opt_f64(v);
    }
    for v in [p.in_flight, p.queued] {
        h.opt_f64(v.map(f64::from));
    }
    h.1 &= p.budget.is_none_or(|b| b <= MAX_SAFE);
    h.opt_f64(p.budget.map(|b| b as f64));
    h.opt_str(p.pressure_state.as_deref());
    match &p.routes {
        Some(rs) => {
            h.u64(rs.len() as u64 + 1);
            for r in rs {
                h.str(&r.name);
                h.str(&r.state);
                h.f64(r.score);
            }
        }
        None => h.u64(0),
    }
    h.u64(u64::from(p.outage));
}

fn event(h: &mut Fnv, e: &TimelineEvent) {
    h.f64(e.t);
    h.str(&e.kind);
    for v in [&e.reason, &e.route, &e.from, &e.detail] {
        h.opt_str(v.as_deref());
    }
}

fn task(h: &mut Fnv, t: &TaskTrace) {
    h.u64(t.id);
    h.f64(t.t);
    h.opt_str(t.result.as_deref());
    h.u64(t.attempts.len() as u64);
    for a in &t.attempts {
        h.f64(a.at);
        h.opt_f64(a.ms);
        h.opt_str(a.route.as_deref());
        h.opt_str(a.outcome.as_deref());
        h.opt_f64(a.status.map(f64::from));
    }
}

fn summary(h: &mut Fnv, s: &Summary) {
    h.str(&s.scenario);
    h.str(&s.policy);
    h.u64(s.seed);
    for n in [
        s.offered,
        s.attempts,
        s.retries,
        s.successes,
        s.failures,
        s.shed,
        s.budget_exhausted,
    ] {
        h.u64(n);
    }
    for v in [
        s.duration_ms,
        s.amplification,
        s.success_rate,
        s.goodput,
        s.latency_p50,
        s.latency_p99,
        s.time_in_fallback_ms,
    ] {
        h.f64(v);
    }
    for v in [
        s.reroute_ms,
        s.trigger_end_ms,
        s.below_half_after_trigger_ms,
        s.pressure_warn_ms,
        s.failures_over_1pct_ms,
    ] {
        h.opt_f64(v);
    }
    h.u64(u64::from(s.recovered));
}

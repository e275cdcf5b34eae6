//! One route's health: what it has done recently and over the long run, its stability score,
//! and its ejection state (healthy -> ejected -> probing -> healthy).
//!
//! Why long-term stability and not the last success: a mirror that has flapped all morning and just
//! answered once is not a better bet than an origin that has been solid for ten minutes and just
//! failed once. The score therefore weighs a long window (10 min) four times as much as a short one
//! (10 s), with a prior of two successes so a route with little history is neither shunned nor
//! preferred blindly:
//!
//! ```text
//! sr(window)  = (successes + 2) / (attempts + 2)
//! reliability = sr(10 min)^0.8 x sr(10 s)^0.2
//! cost        = peakEwma(latency) x (inFlight + 1) x (1 + cv)      // cv = stdev / mean latency
//! score       = reliability x 100 / (100 + cost)                    // 100 ms of cost halves it
//! ```
//!
//! The latency estimate is Finagle's peak EWMA (jumps up to a worse sample at once, decays towards
//! better ones with a 10 s time constant), multiplied by load like Finagle's P2C cost; the
//! coefficient of variation penalises routes whose latency is erratic. A success is a response
//! whose status is not retryable (4xx included: the route answered); retryable statuses, network
//! errors and timeouts are failures.

use crate::core::math;
use crate::core::sketch::{Sample, Sketch};
use crate::core::window::{Reset, Window, SLOTS};
use crate::prelude::*;
use core::cell::Cell;

/// The long window's span (`core::state` shares its slots).
pub const LONG_MS: f64 = 600_000.0;
const SHORT_MS: f64 = 10_000.0;
const LATENCY_WINDOW_MS: f64 = 60_000.0;
const PEAK_DECAY_MS: f64 = 10_000.0;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    ok: u64,
    failed: u64,
}

impl Reset for Counts {}

impl Counts {
    fn total(&self) -> u64 {
        self.ok + self.failed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Healthy,
    Ejected,
    Probing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Healthy => "healthy",
            State::Ejected => "ejected",
            State::Probing => "probing",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    /// Shared with every attempt record that names it (no copy per attempt).
    pub name: Rc<str>,
    pub url: String,
    pub origin: String,
    pub weight: f64,
    pub fallback: bool,
    pub forward_credentials: bool,
    long: Window<Counts>,
    short: Window<Counts>,
    /// Counts since the last success-rate evaluation (Envoy's interval).
    interval: Counts,
    latency: Window<Sketch>,
    /// The last `reliability` worked out, by the bits of its two rates.
    reliability: Cell<Option<((u64, u64), f64)>>,
    peak_ms: Option<f64>,
    mean_ms: Option<f64>,
    var_ms2: f64,
    last_sample: f64,
    pub in_flight: u32,
    pub attempts: u64,
    pub failures: u64,
    /// Attempts sent here without the caller's credentials (another origin than the addressed one).
    pub credentials_stripped: u64,
    pub consecutive_failures: u32,
    pub state: State,
    pub ejections: u32,
    pub ejected_at: f64,
    pub ejected_until: f64,
    pub probe_in_flight: bool,
    pub probe_successes: u32,
    /// When it was last restored, if it has been.
    pub restored_at: Option<f64>,
    /// Other isolates' long-window counts (`core::state`), by the generation of `long` they fall
    /// in, so that they expire as its own slots do. Empty unless a state was merged.
    remote: Vec<(i64, Counts)>,
}

/// A route's last ejection or restore, in this client's monotonic time (`core::state` carries
/// it in wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    Ejected { at: f64, until: f64 },
    Restored { at: f64 },
}

impl Route {
    pub fn new(
        name: &str,
        url: &str,
        origin: String,
        weight: f64,
        fallback: bool,
        fwd: bool,
    ) -> Self {
        Route {
            name: Rc::from(name),
            url: url.to_string(),
            origin,
            weight,
            fallback,
            forward_credentials: fwd,
            long: Window::new(LONG_MS),
            short: Window::new(SHORT_MS),
            interval: Counts::default(),
            latency: Window::new(LATENCY_WINDOW_MS),
            reliability: Cell::new(None),
            peak_ms: None,
            mean_ms: None,
            var_ms2: 0.0,
            last_sample: 0.0,
            in_flight: 0,
            attempts: 0,
            failures: 0,
            credentials_stripped: 0,
            consecutive_failures: 0,
            state: State::Healthy,
            ejections: 0,
            ejected_at: 0.0,
            ejected_until: 0.0,
            probe_in_flight: false,
            probe_successes: 0,
            restored_at: None,
            remote: Vec::new(),
        }
    }

    /// Records one finished attempt on this route.
    pub fn record(&mut self, ok: bool, latency: Sample, now: f64) {
        self.attempts += 1;
        let bump = |c: &mut Counts| {
            if ok {
                c.ok += 1
            } else {
                c.failed += 1
            }
        };
        bump(self.long.current(now));
        bump(self.short.current(now));
        bump(&mut self.interval);
        if ok {
            self.consecutive_failures = 0;
        } else {
            self.failures += 1;
            self.consecutive_failures += 1;
        }
        self.latency.current(now).add_sample(latency);
        let x = latency.value().max(0.0);
        // Only a sample below the peak decays it (the `exp` is worked out for that case only).
        let since = now - self.last_sample;
        self.last_sample = now;
        self.peak_ms = Some(match self.peak_ms {
            Some(p) if x < p => {
                let decay = math::exp(-since.max(0.0) / PEAK_DECAY_MS);
                p * decay + x * (1.0 - decay)
            }
            _ => x,
        });
        match self.mean_ms {
            None => self.mean_ms = Some(x),
            Some(m) => {
                let a = 0.05;
                let d = x - m;
                self.mean_ms = Some(m + a * d);
                self.var_ms2 = (1.0 - a) * (self.var_ms2 + a * d * d);
            }
        }
    }

    /// A latency sample for the window (quantiles, percentile hedging) only: not an outcome.
    pub fn record_latency(&mut self, latency_ms: f64, now: f64) {
        self.latency.current(now).add(latency_ms);
    }

    fn sr(c: Counts) -> f64 {
        (c.ok as f64 + 2.0) / (c.total() as f64 + 2.0)
    }

    fn sum(w: &Window<Counts>, now: f64) -> Counts {
        let add = |a: Counts, c: &Counts| Counts {
            ok: a.ok + c.ok,
            failed: a.failed + c.failed,
        };
        match w.all_live(now) {
            Some(all) => all.iter().fold(Counts::default(), add),
            None => w.live(now).fold(Counts::default(), add),
        }
    }

    /// The long window's counts at `now`, other isolates' (`set_remote`) with its own.
    fn long_counts(&self, now: f64) -> Counts {
        let mut c = Self::sum(&self.long, now);
        if !self.remote.is_empty() {
            let from = self.long.generation_at(now) - (SLOTS as i64 - 1);
            for (g, r) in &self.remote {
                if *g >= from {
                    c.ok = c.ok.saturating_add(r.ok);
                    c.failed = c.failed.saturating_add(r.failed);
                }
            }
        }
        c
    }

    /// Other isolates' long-window slots, `(start, ok, failed)` with `start` in this client's
    /// monotonic time, in place of those set before. Each counts in the slot of the long window
    /// it began in (a start still to come, from a clock ahead of this one, in the current one).
    pub fn set_remote(&mut self, slots: &[(f64, u64, u64)], now: f64) {
        self.remote.clear();
        let newest = self.long.generation_at(now);
        let slot_ms = self.long.slot_ms();
        for &(start, ok, failed) in slots {
            let g = ((start / slot_ms).floor() as i64).min(newest);
            if g < newest - (SLOTS as i64 - 1) {
                continue;
            }
            match self.remote.iter_mut().find(|(x, _)| *x == g) {
                Some((_, c)) => {
                    c.ok = c.ok.saturating_add(ok);
                    c.failed = c.failed.saturating_add(failed);
                }
                None => self.remote.push((g, Counts { ok, failed })),
            }
        }
    }

    /// Its own long-window slots at `now` that counted something: `(start, ok, failed)`.
    pub fn long_slots(&self, now: f64) -> Vec<(f64, u64, u64)> {
        let ms = self.long.slot_ms();
        let mut out = Vec::new();
        for (g, c) in self.long.live_at(now) {
            if c.total() > 0 {
                out.push((g as f64 * ms, c.ok, c.failed));
            }
        }
        out
    }

    /// Its last ejection or restore, if any.
    pub fn change(&self) -> Option<Change> {
        match self.state {
            State::Healthy => self.restored_at.map(|at| Change::Restored { at }),
            _ => Some(Change::Ejected {
                at: self.ejected_at,
                until: self.ejected_until,
            }),
        }
    }

    /// Takes a later ejection or restore that another isolate saw: the route is ejected until
    /// then (and probed after), or healthy. Its own counts stay; its run of failures is over.
    pub fn adopt(&mut self, change: Change) {
        self.consecutive_failures = 0;
        self.probe_in_flight = false;
        self.probe_successes = 0;
        match change {
            Change::Restored { at } => {
                self.state = State::Healthy;
                self.restored_at = Some(at);
            }
            Change::Ejected { at, until } => {
                self.state = State::Ejected;
                self.ejected_at = at;
                self.ejected_until = until;
            }
        }
    }

    /// Long-window success rate (what the snapshot reports as `successRate`).
    pub fn success_rate(&self, now: f64) -> f64 {
        let c = self.long_counts(now);
        if c.total() == 0 {
            1.0
        } else {
            c.ok as f64 / c.total() as f64
        }
    }

    /// The stability score in (0, 1]; higher is better. See the module docs for the formula.
    pub fn score(&self, now: f64) -> f64 {
        let long = Self::sr(self.long_counts(now));
        let short = Self::sr(Self::sum(&self.short, now));
        // Picks score every candidate: a route whose rates have not moved since is not worked
        // out again (its `exp` and `ln`s are most of a pick).
        let key = (long.to_bits(), short.to_bits());
        let reliability = match self.reliability.get() {
            Some((k, r)) if k == key => r,
            _ => {
                let r = reliability(long, short);
                self.reliability.set(Some((key, r)));
                r
            }
        };
        let mean = self.mean_ms.unwrap_or(0.0);
        let cv = if mean > 0.0 {
            self.var_ms2.sqrt() / mean
        } else {
            0.0
        };
        let cost = self.peak_ms.unwrap_or(0.0) * (self.in_flight as f64 + 1.0) * (1.0 + cv);
        reliability * 100.0 / (100.0 + cost)
    }

    pub fn variance(&self) -> f64 {
        self.var_ms2
    }

    pub fn latency_quantile(&self, q: f64, now: f64) -> (f64, u64) {
        let s = self.latency(now);
        (s.quantile(q), s.count())
    }

    /// Latency over the window, merged (merge once to read several quantiles).
    pub fn latency(&self, now: f64) -> Sketch {
        let mut s = Sketch::default();
        for w in self.latency.live(now) {
            s.merge(w);
        }
        s
    }

    /// Takes and clears the interval counts (for the success-rate ejection check).
    pub fn take_interval(&mut self) -> (u64, u64) {
        let c = core::mem::take(&mut self.interval);
        (c.ok, c.total())
    }

    /// The state at `now`, as a snapshot shows it: an ejection whose time is up reads as probing
    /// before `refresh` has moved it there.
    pub fn state_at(&self, now: f64) -> State {
        if self.state == State::Ejected && now >= self.ejected_until {
            State::Probing
        } else {
            self.state
        }
    }

    /// Ejected routes whose time is up become probing.
    pub fn refresh(&mut self, now: f64) {
        if self.state == State::Ejected && now >= self.ejected_until {
            self.state = State::Probing;
            self.probe_in_flight = false;
            self.probe_successes = 0;
        }
    }

    /// Can take ordinary traffic (probing routes take probes only).
    pub fn healthy(&self) -> bool {
        self.state == State::Healthy
    }

    /// Probes succeeded: back to healthy, with the failures that led to the ejection forgiven
    /// (the ejection was their penalty; `ejections` stays, so a repeat offender is ejected longer).
    /// Other isolates' counts from before are forgiven too.
    pub fn restore(&mut self, now: f64) {
        self.state = State::Healthy;
        self.consecutive_failures = 0;
        self.long = Window::new(LONG_MS);
        self.short = Window::new(SHORT_MS);
        self.interval = Counts::default();
        self.restored_at = Some(now);
        self.remote.clear();
    }

    /// Ejects for `base x ejections`, capped. Returns the duration.
    pub fn eject(&mut self, now: f64, base_ms: f64, max_ms: f64) -> f64 {
        self.ejections += 1;
        let d = (base_ms * self.ejections as f64).min(max_ms);
        self.state = State::Ejected;
        self.ejected_at = now;
        self.ejected_until = now + d;
        self.consecutive_failures = 0;
        self.probe_in_flight = false;
        d
    }
}

/// `long^0.8 * short^0.2`, as one `exp` of logs: the wasm then needs no `pow` from libm. A rate of
/// 0 gives `ln` = -inf and 0, as the powers do. A rate of 1 (no failure in the window, the common
/// case) has `ln` exactly 0, so it is not computed (the tests check the bits are the same).
fn reliability(long: f64, short: f64) -> f64 {
    let ln = |x: f64| if x == 1.0 { 0.0 } else { math::ln(x) };
    math::exp(0.8 * ln(long) + 0.2 * ln(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliability_is_the_weighted_geometric_mean() {
        let rates: [f64; 8] = [0.0, 1e-9, 0.001, 0.1, 0.5, 0.9, 0.999, 1.0];
        for long in rates {
            for short in rates {
                let want = math::pow(long, 0.8) * math::pow(short, 0.2);
                let got = reliability(long, short);
                assert!(
                    (got - want).abs() <= 1e-14,
                    "{long} {short}: {got} vs {want}"
                );
            }
        }
        assert_eq!(reliability(1.0, 1.0), 1.0);
        assert_eq!(reliability(0.0, 1.0), 0.0);
        // The shortcut for a rate of 1 gives the very bits of the logs it skips.
        assert_eq!(math::ln(1.0).to_bits(), 0.0f64.to_bits());
        for other in rates {
            let full = |l: f64, s: f64| math::exp(0.8 * math::ln(l) + 0.2 * math::ln(s));
            assert_eq!(
                reliability(1.0, other).to_bits(),
                full(1.0, other).to_bits()
            );
            assert_eq!(
                reliability(other, 1.0).to_bits(),
                full(other, 1.0).to_bits()
            );
        }
    }

    fn route() -> Route {
        Route::new("r", "http://r", "http://r".into(), 1.0, false, false)
    }

    #[test]
    fn long_term_stability_beats_the_last_success() {
        let (mut stable, mut flappy) = (route(), route());
        let mut now = 0.0;
        // Ten minutes: one call a second; `stable` always succeeds, `flappy` alternates.
        for i in 0..600 {
            stable.record(true, 20.0.into(), now);
            flappy.record(i % 2 == 0, 20.0.into(), now);
            now += 1_000.0;
        }
        stable.record(false, 20.0.into(), now); // the stable one just failed...
        flappy.record(true, 20.0.into(), now); // ...and the flappy one just succeeded
        assert!(
            stable.score(now) > flappy.score(now),
            "{} vs {}",
            stable.score(now),
            flappy.score(now)
        );
    }

    #[test]
    fn slower_and_erratic_routes_score_lower() {
        let (mut fast, mut slow, mut erratic) = (route(), route(), route());
        for i in 0..200 {
            let t = i as f64 * 100.0;
            fast.record(true, 10.0.into(), t);
            slow.record(true, 200.0.into(), t);
            erratic.record(true, (if i % 2 == 0 { 1.0 } else { 19.0 }).into(), t);
        }
        let now = 20_000.0;
        assert!(fast.score(now) > slow.score(now));
        assert!(fast.score(now) > erratic.score(now));
        assert!(erratic.variance() > fast.variance());
    }

    #[test]
    fn peak_ewma_jumps_up_and_decays_down() {
        let mut r = route();
        r.record(true, 10.0.into(), 0.0);
        r.record(true, 500.0.into(), 1.0);
        assert_eq!(r.peak_ms, Some(500.0));
        r.record(true, 10.0.into(), 30_000.0);
        assert!(r.peak_ms.unwrap() < 50.0);
    }

    #[test]
    fn ejection_time_grows_and_is_capped() {
        let mut r = route();
        assert_eq!(r.eject(0.0, 100.0, 250.0), 100.0);
        assert_eq!(r.eject(0.0, 100.0, 250.0), 200.0);
        assert_eq!(r.eject(0.0, 100.0, 250.0), 250.0);
        r.refresh(249.0);
        assert_eq!(r.state, State::Ejected);
        r.refresh(250.0);
        assert_eq!(r.state, State::Probing);
    }
}

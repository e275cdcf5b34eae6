//! The pressure signal: one number in [0, 1] that moves *before* failures spike.
//!
//! Why: by the time the failure rate rises, the origin is already overloaded and retries are
//! already adding to it. Overload shows earlier as growth, relative to the client's own normal,
//! in four places; each is turned into a component in [0, 1]:
//!
//! | component | measured over the last 6 s | 0 at | 1 at |
//! | --- | --- | --- | --- |
//! | `tailLatency` | attempt p95 / latency baseline | 2x | 8x |
//! | `queueWait` | queue-wait p95 / latency baseline, or queue fill | 0 | 8x, or a full queue |
//! | `retryDensity` | retries per task above its own baseline, / `budget.ratio` | +0 | +1 ratio |
//! | `budgetDrain` | share of the budget's deposits + reserve withdrawn | 0.5 | 1 |
//!
//! The latency baseline is the recent median's *floor*: it follows a lower median at once and a
//! higher one only slowly (time constant 5 minutes), so a slow ramp cannot become the new normal
//! within the ramp. The retry-density baseline works the same way, so a steadily flaky origin is
//! not "pressure". `level = 1 - prod(1 - c_i)`: any one component can raise it alone, several
//! together raise it further. It is evaluated at most once per second of engine time.
//!
//! States `ok` / `warn` / `critical` change when the level crosses `pressure.warn` or
//! `pressure.critical` upwards, and only go back down below the threshold minus
//! `pressure.hysteresis`, so the `"pressure"` event does not flap.

use crate::core::math;
use crate::core::sketch::{Sample, Sketch};
use crate::core::sort;
use crate::core::window::{Reset, Window};
use crate::prelude::*;

/// The samples (latencies, or tasks for the retry density) a window needs before it is compared
/// with a baseline or moves one.
const MIN_SAMPLES: u64 = 20;
const SHORT_MS: f64 = 6_000.0;
const EVAL_EVERY_MS: f64 = 1_000.0;
const BASELINE_TAU_MS: f64 = 300_000.0;

impl Reset for Slot {
    fn reset(&mut self) {
        self.tasks = 0;
        self.retries = 0;
        self.latency.reset();
        self.queue_wait.reset();
    }
}

#[derive(Debug, Clone, Default)]
struct Slot {
    tasks: u64,
    retries: u64,
    latency: Sketch,
    queue_wait: Sketch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Warn,
    Critical,
}

impl State {
    /// The name in snapshots and events (part of the JS contract).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Warn => "warn",
            State::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Components {
    pub tail_latency: f64,
    pub queue_wait: f64,
    pub retry_density: f64,
    pub budget_drain: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PressureSnapshot {
    pub level: f64,
    pub state: State,
    /// Change of the level over the last evaluation (about one second).
    pub trend: f64,
    /// Components that contribute (>= 0.1), largest first.
    pub drivers: Vec<&'static str>,
    pub components: Components,
}

/// Emitted when the state changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PressureEvent {
    pub state: State,
    pub previous: State,
    pub level: f64,
    pub drivers: Vec<&'static str>,
}

/// What the engine knows that pressure needs at evaluation time.
pub struct Inputs {
    pub budget_drain: f64,
    pub queue_fill: f64,
    pub budget_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct Pressure {
    warn: f64,
    critical: f64,
    hysteresis: f64,
    short: Window<Slot>,
    base_latency: Option<f64>,
    base_density: Option<f64>,
    last_eval: Option<f64>,
    snap: PressureSnapshot,
}

impl Pressure {
    pub fn new(warn: f64, critical: f64, hysteresis: f64) -> Self {
        Pressure {
            warn,
            critical,
            hysteresis,
            short: Window::new(SHORT_MS),
            base_latency: None,
            base_density: None,
            last_eval: None,
            snap: PressureSnapshot {
                level: 0.0,
                state: State::Ok,
                trend: 0.0,
                drivers: vec![],
                components: Components {
                    tail_latency: 0.0,
                    queue_wait: 0.0,
                    retry_density: 0.0,
                    budget_drain: 0.0,
                },
            },
        }
    }

    pub fn task(&mut self, now: f64) {
        self.short.current(now).tasks += 1;
    }
    pub fn retry(&mut self, now: f64) {
        self.short.current(now).retries += 1;
    }
    pub fn attempt(&mut self, latency_ms: Sample, now: f64) {
        self.short.current(now).latency.add_sample(latency_ms);
    }
    pub fn queue_wait(&mut self, wait_ms: f64, now: f64) {
        self.short.current(now).queue_wait.add(wait_ms);
    }

    pub fn snapshot(&self) -> &PressureSnapshot {
        &self.snap
    }

    /// Whether an evaluation is due (at most one per second), so callers skip gathering inputs.
    pub fn due(&self, now: f64) -> bool {
        self.last_eval.is_none_or(|t| now - t >= EVAL_EVERY_MS)
    }

    /// Re-evaluates if a second has passed; returns an event if the state changed.
    pub fn evaluate(&mut self, now: f64, inp: Inputs) -> Option<PressureEvent> {
        if !self.due(now) {
            return None;
        }
        let dt = self.last_eval.map_or(EVAL_EVERY_MS, |t| now - t);
        self.last_eval = Some(now);
        let (mut lat, mut qw) = (Sketch::default(), Sketch::default());
        let (mut tasks, mut retries) = (0u64, 0u64);
        for s in self.short.live(now) {
            lat.merge(&s.latency);
            qw.merge(&s.queue_wait);
            tasks += s.tasks;
            retries += s.retries;
        }
        let follow = 1.0 - math::exp(-dt / BASELINE_TAU_MS);
        let floor = |base: &mut Option<f64>, x: f64| -> f64 {
            let b = match *base {
                Some(b) if x >= b => b + (x - b) * follow,
                _ => x,
            };
            *base = Some(b);
            b
        };
        let mut c = Components {
            tail_latency: 0.0,
            queue_wait: 0.0,
            retry_density: 0.0,
            budget_drain: ramp(inp.budget_drain, 0.5, 1.0),
        };
        // A baseline from a handful of samples is noise (one fast first call would make every
        // ordinary call after it look like a tail): latency and density count from MIN_SAMPLES on.
        if lat.count() >= MIN_SAMPLES {
            let base = floor(&mut self.base_latency, lat.quantile(0.5).max(0.01));
            c.tail_latency = ramp(lat.quantile(0.95) / base, 2.0, 8.0);
            if qw.count() > 0 {
                c.queue_wait = ramp(qw.quantile(0.95) / base, 0.0, 8.0);
            }
        }
        c.queue_wait = c.queue_wait.max(inp.queue_fill.clamp(0.0, 1.0));
        if tasks >= MIN_SAMPLES {
            let density = retries as f64 / tasks as f64;
            let base = floor(&mut self.base_density, density);
            c.retry_density = ramp(density - base, 0.0, inp.budget_ratio.max(0.01));
        }
        let parts = [
            ("tail-latency", c.tail_latency),
            ("queue-wait", c.queue_wait),
            ("retry-density", c.retry_density),
            ("budget-drain", c.budget_drain),
        ];
        let level = 1.0 - parts.iter().map(|(_, v)| 1.0 - v).product::<f64>();
        let mut drivers: Vec<_> = parts.iter().filter(|(_, v)| *v >= 0.1).collect();
        sort::sort_by(&mut drivers, |a, b| b.1.total_cmp(&a.1).is_lt());
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let previous = self.snap.state;
        let state = self.next_state(previous, level);
        self.snap = PressureSnapshot {
            trend: round(level - self.snap.level),
            level: round(level),
            state,
            drivers: drivers.iter().map(|(n, _)| *n).collect(),
            components: Components {
                tail_latency: round(c.tail_latency),
                queue_wait: round(c.queue_wait),
                retry_density: round(c.retry_density),
                budget_drain: round(c.budget_drain),
            },
        };
        (state != previous).then(|| PressureEvent {
            state,
            previous,
            level: self.snap.level,
            drivers: self.snap.drivers.clone(),
        })
    }

    fn next_state(&self, cur: State, level: f64) -> State {
        let up = if level >= self.critical {
            State::Critical
        } else if level >= self.warn {
            State::Warn
        } else {
            State::Ok
        };
        let down = match cur {
            State::Critical if level >= self.critical - self.hysteresis => State::Critical,
            State::Critical | State::Warn if level >= self.warn - self.hysteresis => State::Warn,
            _ => State::Ok,
        };
        // Rising is immediate; falling needs the hysteresis margin.
        if rank(up) >= rank(cur) {
            up
        } else {
            down
        }
    }
}

fn rank(s: State) -> u8 {
    match s {
        State::Ok => 0,
        State::Warn => 1,
        State::Critical => 2,
    }
}

/// 0 at `lo`, 1 at `hi`, linear between, clamped; NaN is 0.
fn ramp(x: f64, lo: f64, hi: f64) -> f64 {
    let v = (x - lo) / (hi - lo);
    if v.is_nan() {
        0.0
    } else {
        v.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            budget_drain: 0.0,
            queue_fill: 0.0,
            budget_ratio: 0.1,
        }
    }

    /// `secs` seconds of 50 attempts a second at `latency_ms`, evaluated once a second: the events.
    fn seconds(p: &mut Pressure, latency_ms: f64, secs: u32, now: &mut f64) -> Vec<PressureEvent> {
        let mut events = vec![];
        for _ in 0..secs {
            for _ in 0..50 {
                p.attempt(latency_ms.into(), *now);
            }
            *now += 1_000.0;
            events.extend(p.evaluate(*now, inputs()));
        }
        events
    }

    #[test]
    fn latency_growth_raises_the_level_and_fires_once() {
        let mut p = Pressure::new(0.5, 0.8, 0.1);
        let mut now = 0.0;
        assert_eq!(seconds(&mut p, 10.0, 60, &mut now), vec![]);
        assert_eq!(p.snapshot().state, State::Ok);
        // ~6x the baseline (which drifts up slowly, so a little less): warn, not critical.
        let mut events = seconds(&mut p, 60.0, 10, &mut now);
        assert_eq!(p.snapshot().drivers.first(), Some(&"tail-latency"));
        assert_eq!(events.len(), 1, "one transition, no flapping: {events:?}");
        assert_eq!(
            (events[0].previous, events[0].state),
            (State::Ok, State::Warn)
        );
        let level = p.snapshot().level;
        assert!((0.5..0.8).contains(&level), "{:?}", p.snapshot());
        // 9x: past 8x the component saturates -> critical.
        events.extend(seconds(&mut p, 90.0, 10, &mut now));
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(
            (events[1].previous, events[1].state),
            (State::Warn, State::Critical)
        );
    }

    #[test]
    fn a_fast_first_call_sets_no_baseline() {
        // One 2 ms call in the first second, then ordinary 60 ms traffic with a 200 ms tail:
        // compared with a baseline of that one call, every tail would read as 100x.
        let mut p = Pressure::new(0.5, 0.8, 0.1);
        let mut now = 0.0;
        p.attempt(2.0.into(), now);
        now += 1_000.0;
        assert_eq!(p.evaluate(now, inputs()), None);
        assert_eq!(p.snapshot().components.tail_latency, 0.0);
        let mut events = vec![];
        for _ in 0..30 {
            for i in 0..50 {
                p.attempt(if i % 20 == 0 { 200.0 } else { 60.0 }.into(), now);
            }
            now += 1_000.0;
            events.extend(p.evaluate(now, inputs()));
        }
        assert_eq!(events, vec![], "{:?}", p.snapshot());
        assert_eq!(p.snapshot().state, State::Ok);
    }

    #[test]
    fn hysteresis_keeps_the_state_near_the_threshold() {
        let p = Pressure::new(0.5, 0.8, 0.1);
        assert_eq!(p.next_state(State::Warn, 0.45), State::Warn);
        assert_eq!(p.next_state(State::Warn, 0.39), State::Ok);
        assert_eq!(p.next_state(State::Critical, 0.75), State::Critical);
        assert_eq!(p.next_state(State::Critical, 0.65), State::Warn);
        assert_eq!(p.next_state(State::Ok, 0.85), State::Critical);
    }

    #[test]
    fn a_steadily_flaky_origin_is_not_pressure() {
        let mut p = Pressure::new(0.5, 0.8, 0.1);
        let mut now = 0.0;
        for _ in 0..120 {
            for i in 0..100 {
                p.task(now);
                p.attempt(10.0.into(), now);
                if i % 10 == 0 {
                    p.retry(now);
                }
            }
            now += 1_000.0;
            p.evaluate(now, inputs());
        }
        assert!(p.snapshot().level < 0.1, "{:?}", p.snapshot());
    }
}

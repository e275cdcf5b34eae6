//! Counters and windowed figures, and the plain `Snapshot` the executor hands to JS
//! (`boundary.rs` names its fields).
//!
//! Why windowed: "retry density" and tail latency are only useful if they describe *now*. All-time
//! averages hide a storm that started a minute ago behind a quiet week. Everything here lives in a
//! 60 s sliding window of six 10 s slots, except the lifetime counters, which are plain totals.
//! Memory is fixed: six slots, each with two bounded sketches.

use crate::core::counts::Counts;
use crate::core::pressure::PressureSnapshot;
use crate::core::routing::{FallbackSnapshot, RouteSnapshot, SwitchSnapshot};
use crate::core::sketch::{Sample, Sketch};
use crate::core::window::{Reset, Window};
use crate::prelude::*;

/// The recent window that every windowed figure covers.
pub const WINDOW_MS: f64 = 60_000.0;

impl Reset for Slot {
    fn reset(&mut self) {
        self.tasks = 0;
        self.retries = 0;
        self.latency.reset();
        self.attempt_latency.reset();
        self.queue_wait.reset();
    }
}

#[derive(Debug, Clone, Default)]
struct Slot {
    tasks: u64,
    retries: u64,
    latency: Sketch,
    attempt_latency: Sketch,
    queue_wait: Sketch,
}

#[derive(Debug, Clone)]
pub struct Metrics {
    tasks: u64,
    in_flight: u64,
    attempts: u64,
    retries: u64,
    giveups: Counts,
    shed: Counts,
    window: Window<Slot>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            tasks: 0,
            in_flight: 0,
            attempts: 0,
            retries: 0,
            giveups: Counts::default(),
            shed: Counts::default(),
            window: Window::new(WINDOW_MS),
        }
    }
}

impl Metrics {
    pub fn task_started(&mut self, now: f64) {
        self.tasks += 1;
        self.in_flight += 1;
        self.window.current(now).tasks += 1;
    }

    pub fn task_finished(&mut self, latency_ms: Sample, now: f64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.window.current(now).latency.add_sample(latency_ms);
    }

    pub fn attempt_started(&mut self) {
        self.attempts += 1;
    }

    pub fn attempt_finished(&mut self, duration_ms: Sample, now: f64) {
        self.window
            .current(now)
            .attempt_latency
            .add_sample(duration_ms);
    }

    pub fn retried(&mut self, now: f64) {
        self.retries += 1;
        self.window.current(now).retries += 1;
    }

    pub fn gave_up(&mut self, reason: &'static str) {
        self.giveups.add(reason);
    }

    pub fn shed(&mut self, reason: &'static str) {
        self.shed.add(reason);
    }

    pub fn queue_wait(&mut self, wait_ms: f64, now: f64) {
        self.window.current(now).queue_wait.add(wait_ms);
    }

    /// Heap bytes held (for the memory-bound tests): the sketches are the only growing parts.
    pub fn footprint(&self, now: f64) -> usize {
        self.window
            .live(now)
            .map(|s| {
                (s.latency.buckets() + s.attempt_latency.buckets() + s.queue_wait.buckets()) * 8
            })
            .sum::<usize>()
            + (self.giveups.len() + self.shed.len()) * 32
    }

    /// Calls shed, lifetime (`snapshot().shed.total`).
    pub fn shed_total(&self) -> u64 {
        self.shed.values().sum()
    }

    /// Queue wait over the recent window: how many waited, and the p99 (`snapshot().queue_wait`'s
    /// `count` and `p99`), without merging the other sketches.
    pub fn queue_wait_p99(&self, now: f64) -> (u64, f64) {
        let mut qw = Sketch::default();
        for s in self.window.live(now) {
            qw.merge(&s.queue_wait);
        }
        (qw.count(), round3(qw.quantile(0.99)))
    }

    pub fn snapshot(&self, now: f64, x: Extra) -> Snapshot {
        let (mut tasks, mut retries) = (0u64, 0u64);
        let (mut lat, mut att, mut qw) = (Sketch::default(), Sketch::default(), Sketch::default());
        for s in self.window.live(now) {
            tasks += s.tasks;
            retries += s.retries;
            lat.merge(&s.latency);
            att.merge(&s.attempt_latency);
            qw.merge(&s.queue_wait);
        }
        Snapshot {
            tasks: self.tasks,
            active_tasks: self.in_flight,
            in_flight: x.in_flight,
            queued: x.queued,
            limit: x.limit,
            attempts: self.attempts,
            retries: self.retries,
            retry_density: if tasks == 0 {
                0.0
            } else {
                retries as f64 / tasks as f64
            },
            window_ms: WINDOW_MS,
            giveups: self.giveups.clone(),
            shed: ShedSnapshot {
                total: self.shed.values().sum(),
                by_reason: self.shed.clone(),
            },
            budget: x.budget,
            latency: Quantiles::of(&lat),
            attempt_latency: Quantiles::of(&att),
            queue_wait: Quantiles::of(&qw),
            pressure: x.pressure,
            routes: x.routes,
            fallback: x.fallback,
            switches: x.switches,
            hedges: x.hedges,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub count: u64,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Quantiles {
    fn of(s: &Sketch) -> Self {
        let r = round3;
        Quantiles {
            p50: r(s.quantile(0.50)),
            p95: r(s.quantile(0.95)),
            p99: r(s.quantile(0.99)),
            max: r(s.max()),
            count: s.count(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetSnapshot {
    /// Whole retries available now.
    pub balance: u64,
    /// Retries refused because the budget was empty (lifetime).
    pub exhausted: u64,
    /// The part of the balance that is the per-second reserve.
    pub reserve: u64,
    /// `local` (the client's own budget), or shared through a coordinator (`core::lease`):
    /// `shared`, or `degraded` while the coordinator is unreachable.
    pub mode: &'static str,
    /// Tokens leased from the coordinator and not spent or expired (0 when `local`).
    pub leased: u64,
}

/// Figures that live outside `Metrics` (budget, limiter, pressure), joined in at snapshot time.
pub struct Extra {
    pub budget: BudgetSnapshot,
    pub in_flight: u32,
    pub queued: u32,
    pub limit: Option<u32>,
    pub pressure: PressureSnapshot,
    pub routes: Vec<RouteSnapshot>,
    pub fallback: FallbackSnapshot,
    pub switches: SwitchSnapshot,
    pub hedges: HedgeSnapshot,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HedgeSnapshot {
    pub sent: u64,
    /// Hedges whose response won the race.
    pub won: u64,
    /// Hedges not sent because the hedge budget was empty.
    pub budget_exhausted: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShedSnapshot {
    pub total: u64,
    pub by_reason: Counts,
}

/// What `fetch.snapshot()` returns: plain data, JSON-serialisable.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Tasks (calls of the wrapped fetch) started, lifetime.
    pub tasks: u64,
    /// Tasks started and not yet settled (in flight, queued or sleeping between attempts).
    pub active_tasks: u64,
    /// Attempts holding a concurrency slot.
    pub in_flight: u32,
    /// Attempts waiting for a slot.
    pub queued: u32,
    /// The concurrency limit now (adaptive limits move), `None` when unlimited.
    pub limit: Option<u32>,
    /// Attempts sent to the network, lifetime.
    pub attempts: u64,
    /// Retries (attempts after the first), lifetime.
    pub retries: u64,
    /// Retries per task over the recent window.
    pub retry_density: f64,
    pub window_ms: f64,
    /// Give-ups by reason, lifetime.
    pub giveups: Counts,
    pub shed: ShedSnapshot,
    pub budget: BudgetSnapshot,
    /// Whole-task latency over the recent window, ms.
    pub latency: Quantiles,
    /// Per-attempt latency over the recent window, ms.
    pub attempt_latency: Quantiles,
    /// Time attempts waited for a concurrency slot over the recent window, ms.
    pub queue_wait: Quantiles,
    pub pressure: PressureSnapshot,
    /// Per route: state, stability score, success rate, latency, variance, counts.
    pub routes: Vec<RouteSnapshot>,
    pub fallback: FallbackSnapshot,
    /// Route switches on retries, and those refused by the switch budget.
    pub switches: SwitchSnapshot,
    pub hedges: HedgeSnapshot,
}

//! The simulator: a scenario (load, routes that fail, throttle, slow down and saturate) played
//! against a policy on the very engine users ship, in virtual time, seeded.
//!
//! Why: tests remove the forces that break systems in production (bursts, overlapping retries,
//! correlated failures, throttling, latency tails); a simulation puts them back before deployment,
//! with the engine that will run in production, driven by the same virtual-time executor as every
//! native test (`virtual_time`). A run is reproducible bit for bit from its seed.
//!
//! Policies: `naive` is what popular wrappers do (3 tries per call without backoff, no budget, no
//! routing, no shedding): the engine with its protections turned off and no routes, every attempt
//! sent to the scenario's first route, as a wrapper around one base URL sends them.
//! `ballast` is the defaults, with the scenario's routes. Any config may be given instead.

pub mod arrivals;
pub mod digest;
pub mod origin;
pub mod presets;
pub mod rng;
pub mod scenario;
pub mod series;

use crate::core::config::{Config, LimitSetting, RouteConfig};
use crate::core::events::bit;
use crate::core::policy::{BodyKind, RequestMeta};
use crate::core::Engine;
use crate::prelude::*;
use crate::virtual_time::Executor;
use alloc::rc::Rc;
use core::cell::RefCell;
use origin::Routes;
use scenario::{RouteEvent, Scenario, ScenarioError};
use series::{Collector, Point, TaskTrace, TimelineEvent, Totals, Trace};

#[cfg(feature = "serde")]
use serde::Serialize;

/// Which client runs the scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    Naive,
    Ballast,
    /// A validated config; the scenario's routes are used when it has none.
    Config(Box<Config>),
}

impl Policy {
    pub fn name(&self) -> &'static str {
        match self {
            Policy::Naive => "naive",
            Policy::Ballast => "ballast",
            Policy::Config(_) => "config",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub policy: Policy,
    pub seed: u64,
    /// Overrides the scenario's `durationMs`.
    pub duration_ms: Option<f64>,
    /// Calls to trace for the per-task raster.
    pub trace: Option<Trace>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: Policy::Ballast,
            seed: 1,
            duration_ms: None,
            trace: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct Output {
    pub series: Vec<Point>,
    pub events: Vec<TimelineEvent>,
    pub tasks: Vec<TaskTrace>,
    pub summary: Summary,
}

/// What a run comes to.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Summary {
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    pub duration_ms: f64,
    /// Calls made.
    pub offered: u64,
    /// Requests that reached a route.
    pub attempts: u64,
    /// Attempts per call.
    pub amplification: f64,
    pub retries: u64,
    /// Calls that got a 2xx.
    pub successes: u64,
    /// Calls that settled otherwise (not shed).
    pub failures: u64,
    /// Calls refused before they reached a route.
    pub shed: u64,
    /// Successes per call made.
    pub success_rate: f64,
    /// Successes per second.
    pub goodput: f64,
    pub latency_p50: f64,
    pub latency_p99: f64,
    /// Seconds in which a fallback served, in ms.
    pub time_in_fallback_ms: f64,
    /// From the first outage of the primary to the first second with half its calls served.
    pub reroute_ms: Option<f64>,
    /// When the trigger ended (the scenario's `triggerEndMs`, or the end of the last route event).
    pub trigger_end_ms: Option<f64>,
    /// How long successes stayed below half the calls made after the trigger ended (the whole
    /// rest of the run if they never came back: see `recovered`).
    pub below_half_after_trigger_ms: Option<f64>,
    pub recovered: bool,
    /// When the pressure signal first said "warn" (ballast's policies only).
    pub pressure_warn_ms: Option<f64>,
    /// When more than 1% of a second's settled calls first failed.
    pub failures_over_1pct_ms: Option<f64>,
    pub budget_exhausted: u64,
}

/// A synthetic URL per route: the simulation never leaves the process.
fn route_url(name: &str) -> String {
    cat!("https://", name, ".sim.invalid")
}

/// The config a policy runs with on a scenario.
pub fn config_for(scenario: &Scenario, policy: &Policy) -> Config {
    let routes: Vec<RouteConfig> = scenario
        .routes
        .iter()
        .map(|r| {
            let mut c = RouteConfig::new(&r.name, &route_url(&r.name));
            c.weight = r.weight;
            c.fallback = r.fallback;
            c
        })
        .collect();
    let mut c = match policy {
        Policy::Naive => {
            let mut c = Config::default();
            c.retry.max_attempts = 3;
            c.retry.backoff.kind = crate::core::config::BackoffKind::Exponential;
            c.retry.backoff.base_ms = 0.0;
            c.retry.backoff.cap_ms = 0.0;
            c.budget.ratio = 10.0;
            c.budget.min_per_sec = 10_000.0;
            // Popular wrappers retry on their own schedule: Retry-After is not read.
            c.retry.max_retry_after_ms = 0.0;
            c.concurrency.limit = None;
            c.timeout.total_ms = None;
            // No routes: no ranking, ejection or fallback (the scenario's first route serves
            // every attempt, `models_for`).
            c
        }
        Policy::Ballast => Config {
            routes,
            ..Config::default()
        },
        Policy::Config(c) => {
            let mut c = (**c).clone();
            if c.routes.is_empty() {
                c.routes = routes;
            }
            return c;
        }
    };
    if let Some(t) = scenario.client_timeout_ms {
        c.timeout.attempt_ms = Some(t);
        if let Some(total) = c.timeout.total_ms {
            c.timeout.total_ms = Some(total.max(t));
        }
    }
    if let Some(LimitSetting::Fixed(_)) = c.concurrency.limit {
        // keep
    }
    c
}

/// How each of the config's routes behaves: the scenario's route of the same name, else the one
/// in the same position (a user's config names its own origins; the scenario's first route is its
/// primary). A config with more routes than the scenario models cannot be rehearsed on it.
fn models_for(
    scenario: &Scenario,
    cfg: &Config,
) -> Result<Vec<scenario::RouteModel>, ScenarioError> {
    if cfg.routes.is_empty() {
        // A client without routes (`naive`) calls one origin: the scenario's primary.
        return Ok(scenario.routes.iter().take(1).cloned().collect());
    }
    cfg.routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            scenario
                .routes
                .iter()
                .find(|m| m.name == r.name)
                .or_else(|| scenario.routes.get(i))
                .cloned()
                .ok_or_else(|| ScenarioError {
                    path: cat!("policy.routes[", i, "]"),
                    allowed: cat!(
                        "a route the scenario models (it has ",
                        scenario.routes.len(),
                        "; name them as the scenario does, or match them by position)"
                    ),
                })
        })
        .collect()
}

/// Runs `scenario` under `options`: the per-second series, the timeline, the traced calls and
/// the summary.
pub fn simulate(scenario: &Scenario, options: &Options) -> Result<Output, ScenarioError> {
    let mut run = Run::new(scenario, options)?;
    while run.step() {}
    Ok(run.finish())
}

/// A run in progress, one simulated second per `step`: what playback at N times real time paces,
/// and what `simulate` runs to the end at once. Both give the same series for the same seed.
pub struct Run {
    scenario: Scenario,
    options: Options,
    duration: f64,
    naive: bool,
    ex: Executor<Routes>,
    collector: Rc<RefCell<Collector>>,
    /// When each call arrives; `next` is the first not yet made.
    times: Vec<f64>,
    next: usize,
    /// The end of the next second to close (ms).
    second: f64,
}

impl Run {
    pub fn new(scenario: &Scenario, options: &Options) -> Result<Run, ScenarioError> {
        scenario.validate()?;
        let duration = options
            .duration_ms
            .unwrap_or(scenario.duration_ms)
            .clamp(1.0, scenario::MAX_DURATION_MS);
        let cfg = config_for(scenario, &options.policy)
            .validated()
            .map_err(|e| ScenarioError {
                path: cat!("policy.", e.path),
                allowed: e.allowed,
            })?;
        let naive = options.policy == Policy::Naive;
        let models = models_for(scenario, &cfg)?;
        let route_names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
        let mut engine = Engine::new(cfg, options.seed);
        engine.set_listening(
            bit("eject") | bit("restore") | bit("pressure") | bit("fallback-default"),
        );
        // The routes are models: an attempt goes to `Start::route`, no URL is needed.
        engine.set_urls(false);
        let origin = Routes::new(
            models,
            &scenario.correlated,
            options.seed ^ 0x005e_ed0f_0a1b,
        );
        let collector = Rc::new(RefCell::new(Collector::new(
            route_names,
            !naive,
            options.trace.clone(),
        )));
        let watch = collector.clone();
        let ex = Executor::new(engine, origin)
            .lean()
            .watch(move |now, seen| watch.borrow_mut().seen(now, seen));
        let mut arrivals_rng = rng::Wy::with_seed(options.seed);
        let times = arrivals::times(&scenario.arrivals, duration, &mut arrivals_rng);
        Ok(Run {
            scenario: scenario.clone(),
            options: options.clone(),
            duration,
            naive,
            ex,
            collector,
            times,
            next: 0,
            second: 1000.0,
        })
    }

    /// Simulates the next second and closes it (its point is `last_point`); false once the run
    /// is over (nothing was simulated then).
    pub fn step(&mut self) -> bool {
        if self.second > self.duration {
            return false;
        }
        let end = self.second;
        while let Some(&t) = self.times.get(self.next).filter(|t| **t < end) {
            self.ex.run_until(t);
            self.collector.borrow_mut().began(self.next as u64, t);
            self.ex.call_now(
                self.next as u64,
                RequestMeta {
                    method: "GET".into(),
                    url: "/item".into(),
                    has_idempotency_key: false,
                    body: BodyKind::None,
                },
            );
            self.next += 1;
        }
        self.ex.run_until(end);
        let outage = self.primary_down(end - 500.0);
        self.collector
            .borrow_mut()
            .second(end / 1000.0, &self.ex.engine.gauges(end), outage);
        self.second += 1000.0;
        true
    }

    /// Whether the primary route is in an outage at `t`.
    fn primary_down(&self, t: f64) -> bool {
        self.scenario.routes.first().is_some_and(|r| {
            r.events
                .iter()
                .any(|e| matches!(e, RouteEvent::Outage { .. }) && e.covers(t))
        })
    }

    /// The points so far, and the timeline events so far (both only grow).
    pub fn progress(&self) -> (usize, usize) {
        let c = self.collector.borrow();
        (c.points.len(), c.events.len())
    }

    /// The points from `point` on and the timeline events from `event` on (for playback frames).
    pub fn since(&self, point: usize, event: usize) -> (Vec<Point>, Vec<TimelineEvent>) {
        let c = self.collector.borrow();
        (
            c.points.get(point..).map(<[_]>::to_vec).unwrap_or_default(),
            c.events.get(event..).map(<[_]>::to_vec).unwrap_or_default(),
        )
    }

    /// The engine's own counters now (the summary's are counted from what the executor did; the
    /// tests check that the two agree).
    pub fn snapshot(&self) -> crate::core::metrics::Snapshot {
        self.ex.engine.snapshot(self.ex.now())
    }

    /// The run so far, summarized as a run that lasted this long (a playback that was stopped).
    pub fn finish_so_far(mut self) -> Output {
        self.duration = (self.second - 1000.0).max(1000.0).min(self.duration);
        self.finish()
    }

    /// The whole run: runs what is left, then summarizes.
    pub fn finish(mut self) -> Output {
        while self.step() {}
        let snap = self.ex.engine.snapshot(self.duration);
        let mut c = self.collector.borrow_mut();
        let summary = summarize(
            &self.scenario,
            &self.options,
            self.duration,
            &c.points,
            &c.events,
            &c.totals,
            &c.all_latency,
            snap.budget.exhausted,
            self.naive,
        );
        let tasks = c.tasks();
        Output {
            series: core::mem::take(&mut c.points),
            events: core::mem::take(&mut c.events),
            tasks,
            summary,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    scenario: &Scenario,
    options: &Options,
    duration: f64,
    points: &[Point],
    events: &[TimelineEvent],
    t: &Totals,
    latency: &crate::core::sketch::Sketch,
    budget_exhausted: u64,
    naive: bool,
) -> Summary {
    let secs = duration / 1000.0;
    let served_half = |p: &Point| p.offered == 0 || p.successes * 2 >= p.offered;
    let outage_start = scenario.routes.first().and_then(|r| {
        r.events.iter().find_map(|e| match e {
            RouteEvent::Outage { start_ms, .. } => Some(*start_ms),
            _ => None,
        })
    });
    let reroute_ms = outage_start.and_then(|start| {
        points
            .iter()
            .find(|p| p.t * 1000.0 > start + 1000.0 && served_half(p))
            .map(|p| p.t * 1000.0 - start)
    });
    let trigger_end_ms = scenario.trigger_end_ms.or_else(|| {
        scenario
            .routes
            .iter()
            .flat_map(|r| r.events.iter().map(|e| e.window().0 + e.window().1))
            .fold(None, |a: Option<f64>, e| Some(a.map_or(e, |a| a.max(e))))
    });
    let (below_half, recovered) = match trigger_end_ms {
        Some(end) => {
            let after: Vec<&Point> = points.iter().filter(|p| p.t * 1000.0 > end).collect();
            match after.iter().position(|p| served_half(p)) {
                Some(0) => (Some(0.0), true),
                Some(i) => (Some(after[i].t * 1000.0 - end - 1000.0), true),
                None => (Some(duration - end), after.is_empty()),
            }
        }
        None => (None, true),
    };
    let pressure_warn_ms = events
        .iter()
        .find(|e| e.kind == "pressure" && e.reason.as_deref() != Some("ok"))
        .map(|e| e.t * 1000.0);
    let failures_over_1pct_ms = points
        .iter()
        .find(|p| {
            let settled = p.successes + p.failures;
            settled > 0 && p.failures * 100 > settled
        })
        .map(|p| (p.t - 1.0) * 1000.0);
    let time_in_fallback_ms = points
        .iter()
        .filter(|p| p.fallbacks.values().sum::<u64>() > 0)
        .count() as f64
        * 1000.0;
    let rate = |n: u64| {
        if t.offered == 0 {
            0.0
        } else {
            n as f64 / t.offered as f64
        }
    };
    Summary {
        scenario: scenario.name.clone(),
        policy: options.policy.name().into(),
        seed: options.seed,
        duration_ms: duration,
        offered: t.offered,
        attempts: t.attempts,
        amplification: rate(t.attempts),
        retries: t.retries,
        successes: t.successes,
        failures: t.failures,
        shed: t.shed,
        success_rate: rate(t.successes),
        goodput: t.successes as f64 / secs,
        latency_p50: latency.quantile(0.5),
        latency_p99: latency.quantile(0.99),
        time_in_fallback_ms,
        reroute_ms,
        trigger_end_ms,
        below_half_after_trigger_ms: below_half,
        recovered,
        pressure_warn_ms: if naive { None } else { pressure_warn_ms },
        failures_over_1pct_ms,
        budget_exhausted: if naive { 0 } else { budget_exhausted },
    }
}

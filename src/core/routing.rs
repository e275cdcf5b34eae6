//! The route table: which route an attempt goes to, when a route is ejected or restored, and how
//! fallback use is accounted.
//!
//! - **Selection**: power of two choices (P2C) among healthy primaries: draw two routes at random in
//!   proportion to their weights and keep the one with the better stability score (`route.rs`) with
//!   probability `sa^8 / (sa^8 + sb^8)`. Strict P2C (always the better one) starves a route after a
//!   single failure when there are only two: it then never gets the traffic that would either
//!   eject it (and later probe and restore it) or show it has recovered. With the soft choice,
//!   near-equal routes share traffic (no herding), a route scoring 0.67 against 1.0 gets about 4%,
//!   and a flapping route (0.5) against a stable one (0.98) well under 1%. A route whose ejection
//!   has run out is probed with real requests, one at a time.
//! - **Switching under a budget**: a retry prefers a healthy primary the task has not failed on,
//!   but a switch costs a token from `routing.switchBudget` (a retry-budget-style bucket), so a
//!   storm cannot bounce every request across every route. Without a token the retry stays put.
//! - **Ejection** (Envoy outlier detection, gRFC A50): `consecutiveFailures` in a row; or, every
//!   `intervalMs`, a success rate below `minSuccessRate` or below mean - `stdevFactor` x stdev
//!   across routes with at least `minRequests`. Ejection lasts `baseMs x ejections`, capped at
//!   `maxMs`; at most `maxPercent`% of routes are out at once (one always may be). Then `probes`
//!   successful probes in a row restore the route; a failed probe ejects it again, for longer.
//! - **Fallbacks** serve only when primaries are ejected, out of budget or failing, and every use
//!   carries a reason. The table notices when fallback has quietly become the default: the share
//!   of recent tasks it served crosses `fallbackDefaultShare`.

use crate::core::budget::RetryBudget;
use crate::core::config::{RouteConfig, RoutingConfig};
use crate::core::counts::Counts;
use crate::core::route::{Route, State};
use crate::core::sketch::Sample;
use crate::core::sort;
use crate::core::url::origin_of;
use crate::core::window::{Reset, Window};
use crate::prelude::*;
use fastrand::Rng;

const FALLBACK_WINDOW_MS: f64 = 60_000.0;
/// How strongly P2C prefers the better score of its two candidates (see the module docs).
const SHARPNESS: i32 = 8;
/// Fallback "is the default" only once this many recent tasks back the share.
const MIN_TASKS_FOR_DEFAULT: u64 = 10;

/// Why a fallback route served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackReason {
    /// Every primary is ejected.
    PrimaryEjected,
    /// The retry budget is empty: it protects the primaries, not the fallback.
    BudgetExhausted,
    /// Every primary failed this call.
    AllPrimariesFailed,
    /// The next wait would pass the deadline: the fallback is tried at once instead.
    Deadline,
}

impl FallbackReason {
    /// The strings are part of the JS contract.
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackReason::PrimaryEjected => "primary-ejected",
            FallbackReason::BudgetExhausted => "budget-exhausted",
            FallbackReason::AllPrimariesFailed => "all-primaries-failed",
            FallbackReason::Deadline => "deadline",
        }
    }
}

/// Why a route was ejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EjectReason {
    ConsecutiveFailures,
    LowSuccessRate,
    ProbeFailed,
}

impl EjectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EjectReason::ConsecutiveFailures => "consecutive-failures",
            EjectReason::LowSuccessRate => "low-success-rate",
            EjectReason::ProbeFailed => "probe-failed",
        }
    }
}

/// Why a route was restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreReason {
    ProbesSucceeded,
}

impl RestoreReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RestoreReason::ProbesSucceeded => "probes-succeeded",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EjectEvent {
    pub route: String,
    pub reason: EjectReason,
    pub ejections: u32,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RestoreEvent {
    pub route: String,
    pub reason: RestoreReason,
    pub ejected_for_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FallbackDefaultEvent {
    pub is_default: bool,
    pub share: f64,
}

/// What the table tells the engine happened (the engine turns them into events).
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Eject(EjectEvent),
    Restore(RestoreEvent),
    FallbackDefault(FallbackDefaultEvent),
}

/// Where a call's path and query (what follows a route's URL) are in the URL it was called
/// with: `url[from..]`, after a `/` when `slash` (a relative path without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remainder {
    pub from: usize,
    pub slash: bool,
}

impl Remainder {
    /// The remainder of `url` (the URL it was found in) in two parts: `"/"` or `""`, and the rest.
    pub fn parts(self, url: &str) -> (&'static str, &str) {
        // `get`, not indexing: no panic path (its message formats a `char` with `Debug`).
        (
            if self.slash { "/" } else { "" },
            url.get(self.from..).unwrap_or_default(),
        )
    }
}

/// The route an attempt goes to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    pub route: usize,
    pub probe: bool,
    /// Set when a fallback route serves, with the reason.
    pub fallback: Option<FallbackReason>,
}

impl Reset for TaskCounts {}

#[derive(Debug, Clone, Copy, Default)]
struct TaskCounts {
    tasks: u64,
    fallback: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteSnapshot {
    pub name: String,
    pub state: &'static str,
    pub score: f64,
    pub success_rate: f64,
    pub latency: RouteLatency,
    pub variance: f64,
    pub attempts: u64,
    pub failures: u64,
    pub ejections: u32,
    pub credentials_stripped: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteLatency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FallbackSnapshot {
    pub total: u64,
    pub by_reason: Counts,
    pub active: bool,
    pub active_for_ms: f64,
    pub share: f64,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchSnapshot {
    pub total: u64,
    pub denied: u64,
}

pub struct Routing {
    pub routes: Vec<Route>,
    cfg: RoutingConfig,
    switch_budget: RetryBudget,
    switches: u64,
    switches_denied: u64,
    last_interval: Option<f64>,
    fallback_total: u64,
    fallback_by_reason: Counts,
    fallback_window: Window<TaskCounts>,
    fallback_since: Option<f64>,
    fallback_is_default: bool,
    /// A buffer for the candidates of a pick (`p2c_among`).
    scratch: Vec<usize>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Routing {
    pub fn new(routes: &[RouteConfig], cfg: &RoutingConfig) -> Self {
        Routing {
            routes: routes
                .iter()
                .map(|r| {
                    let origin = origin_of(&r.url).unwrap_or_default();
                    Route::new(
                        &r.name,
                        &r.url,
                        origin,
                        r.weight,
                        r.fallback,
                        r.forward_credentials,
                    )
                })
                .collect(),
            switch_budget: RetryBudget::new(
                cfg.switch_budget.ratio,
                cfg.switch_budget.min_per_sec,
                10_000.0,
            ),
            cfg: cfg.clone(),
            switches: 0,
            switches_denied: 0,
            last_interval: None,
            fallback_total: 0,
            fallback_by_reason: Counts::default(),
            fallback_window: Window::new(FALLBACK_WINDOW_MS),
            fallback_since: None,
            fallback_is_default: false,
            scratch: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Replaces the routes (validated, as `Config::validated` leaves them). A route whose
    /// identity (name and URL) remains keeps what it learnt (score, ejection, counters) and takes
    /// its new weight and flags; the others start afresh. Returns where each old route went.
    pub fn replace(&mut self, routes: &[RouteConfig]) -> Vec<Option<usize>> {
        let mut old: Vec<Option<Route>> = core::mem::take(&mut self.routes)
            .into_iter()
            .map(Some)
            .collect();
        let mut moved = vec![None; old.len()];
        for (j, c) in routes.iter().enumerate() {
            let same = old.iter().position(|r| {
                r.as_ref()
                    .is_some_and(|r| *r.name == *c.name && r.url == c.url)
            });
            let kept = same.and_then(|i| {
                moved[i] = Some(j);
                old[i].take()
            });
            self.routes.push(match kept {
                Some(mut r) => {
                    r.weight = c.weight;
                    r.fallback = c.fallback;
                    r.forward_credentials = c.forward_credentials;
                    r
                }
                None => Route::new(
                    &c.name,
                    &c.url,
                    origin_of(&c.url).unwrap_or_default(),
                    c.weight,
                    c.fallback,
                    c.forward_credentials,
                ),
            });
        }
        moved
    }

    /// The part of `url` after a route's URL (path and query), if `url` is a path or addresses a
    /// route; `None` for other absolute URLs (they pass through, never rerouted).
    pub fn remainder(&self, url: &str) -> Option<String> {
        self.remainder_of(url).map(|r| {
            let (slash, rest) = r.parts(url);
            cat!(slash, rest)
        })
    }

    /// `remainder`, as where it is in `url` (a call keeps its URL, so it copies nothing).
    pub fn remainder_of(&self, url: &str) -> Option<Remainder> {
        if self.routes.is_empty() {
            return None;
        }
        // A scheme before the first `:` (by hand: `split_once` brings a searcher for one byte).
        let b = url.as_bytes();
        let is_absolute = b.iter().position(|c| *c == b':').is_some_and(|i| {
            i > 0
                && b[..i]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        });
        if !is_absolute {
            return Some(Remainder {
                from: 0,
                slash: !url.starts_with('/'),
            });
        }
        self.routes
            .iter()
            .filter(|r| {
                // Bytes, not `&url[..n]`: `n` may fall inside a multi-byte character of `url`.
                url.len() >= r.url.len()
                    && url.as_bytes()[..r.url.len()].eq_ignore_ascii_case(r.url.as_bytes())
                    && matches!(
                        url.as_bytes().get(r.url.len()),
                        None | Some(b'/' | b'?' | b'#')
                    )
            })
            .max_by_key(|r| r.url.len())
            .map(|r| r.url.len())
            .filter(|n| url.is_char_boundary(*n))
            .map(|from| Remainder { from, slash: false })
    }

    /// A task that may be routed started: it earns the table a share of a switch.
    pub fn task_started(&mut self, now: f64) {
        self.switch_budget.deposit(now);
    }

    fn refresh(&mut self, now: f64) {
        for r in &mut self.routes {
            r.refresh(now);
        }
    }

    /// P2C among `candidates`, weighted.
    fn p2c(&mut self, candidates: &[usize], now: f64, rng: &mut Rng) -> Option<usize> {
        if let [only] = candidates {
            // What the draws below come to with one candidate: it, after two draws.
            rng.f64();
            rng.f64();
            return Some(*only);
        }
        let weighted = |rng: &mut Rng, routes: &[Route], skip: Option<usize>| {
            let total: f64 = candidates
                .iter()
                .filter(|i| Some(**i) != skip)
                .map(|i| routes[*i].weight)
                .sum();
            let mut x = rng.f64() * total;
            for i in candidates.iter().filter(|i| Some(**i) != skip) {
                x -= routes[*i].weight;
                if x <= 0.0 {
                    return Some(*i);
                }
            }
            candidates.iter().rev().find(|i| Some(**i) != skip).copied()
        };
        let a = weighted(rng, &self.routes, None)?;
        let Some(b) = weighted(rng, &self.routes, Some(a)) else {
            return Some(a);
        };
        let (sa, sb) = (
            self.routes[a].score(now).powi(SHARPNESS),
            self.routes[b].score(now).powi(SHARPNESS),
        );
        let p_a = if sa + sb > 0.0 { sa / (sa + sb) } else { 0.5 };
        Some(if rng.f64() < p_a { a } else { b })
    }

    fn healthy_iter<'a>(
        &'a self,
        fallback: bool,
        exclude: &'a [usize],
    ) -> impl Iterator<Item = usize> + 'a {
        (0..self.routes.len()).filter(move |i| {
            let r = &self.routes[*i];
            r.fallback == fallback && r.healthy() && !exclude.contains(i)
        })
    }

    /// P2C among the routes of a kind (`fallback`), healthy ones only unless `any`, but those in
    /// `exclude`, listed in a buffer the table keeps (this runs for every attempt).
    fn p2c_among(
        &mut self,
        fallback: bool,
        any: bool,
        exclude: &[usize],
        now: f64,
        rng: &mut Rng,
    ) -> Option<usize> {
        let mut list = core::mem::take(&mut self.scratch);
        list.clear();
        list.extend((0..self.routes.len()).filter(|i| {
            let r = &self.routes[*i];
            r.fallback == fallback && (any || r.healthy()) && !exclude.contains(i)
        }));
        let pick = self.p2c(&list, now, rng);
        self.scratch = list;
        pick
    }

    /// A probing route waiting for its next probe, if any (primaries first, then by position).
    fn probe_candidate(&self) -> Option<usize> {
        (0..self.routes.len())
            .filter(|i| {
                let r = &self.routes[*i];
                r.state == State::Probing && !r.probe_in_flight
            })
            .min_by_key(|i| self.routes[*i].fallback)
    }

    fn fallback_pick(&mut self, reason: FallbackReason, now: f64, rng: &mut Rng) -> Option<Pick> {
        let route = self.p2c_among(true, false, &[], now, rng)?;
        self.fallback_total += 1;
        self.fallback_by_reason.add(reason.as_str());
        Some(Pick {
            route,
            probe: false,
            fallback: Some(reason),
        })
    }

    /// Whether a healthy fallback route exists.
    pub fn has_fallback(&mut self, now: f64) -> bool {
        self.refresh(now);
        self.healthy_iter(true, &[]).next().is_some()
    }

    /// The route for a task's first attempt.
    pub fn pick_first(&mut self, now: f64, rng: &mut Rng) -> Pick {
        self.refresh(now);
        if let Some(route) = self.probe_candidate() {
            return Pick {
                route,
                probe: true,
                fallback: None,
            };
        }
        if let Some(route) = self.p2c_among(false, false, &[], now, rng) {
            return Pick {
                route,
                probe: false,
                fallback: None,
            };
        }
        self.fallback_pick(FallbackReason::PrimaryEjected, now, rng)
            .unwrap_or_else(|| self.panic_pick(now, rng))
    }

    /// Every route is out: ignore ejection rather than fail (Envoy's panic mode).
    fn panic_pick(&mut self, now: f64, rng: &mut Rng) -> Pick {
        Pick {
            route: self.p2c_among(false, true, &[], now, rng).unwrap_or(0),
            probe: false,
            fallback: None,
        }
    }

    /// The route for a retry after `failed` (routes this task failed on; the last one last).
    /// `forced` is a fallback reason decided by the engine (deadline, budget-exhausted).
    pub fn pick_retry(
        &mut self,
        failed: &[usize],
        forced: Option<FallbackReason>,
        now: f64,
        rng: &mut Rng,
    ) -> Pick {
        self.refresh(now);
        let last = failed.last().copied();
        if let Some(reason) = forced {
            if let Some(p) = self.fallback_pick(reason, now, rng) {
                return p;
            }
            // Every fallback was ejected while the retry waited for a concurrency slot. The
            // primaries are still ruled out (no budget token, or a wait past the deadline): a
            // fallback serves all the same, ejection ignored as in `panic_pick`.
            if let Some(route) = self.p2c_among(true, true, &[], now, rng) {
                self.fallback_total += 1;
                self.fallback_by_reason.add(reason.as_str());
                return Pick {
                    route,
                    probe: false,
                    fallback: Some(reason),
                };
            }
        }
        let first = self.healthy_iter(false, failed).next();
        if let Some(first) = first {
            if self.switch_budget.withdraw(now) {
                self.switches += 1;
                let route = self
                    .p2c_among(false, false, failed, now, rng)
                    .unwrap_or(first);
                return Pick {
                    route,
                    probe: false,
                    fallback: None,
                };
            }
            self.switches_denied += 1;
        } else {
            let reason = if self.healthy_iter(false, &[]).next().is_none() {
                FallbackReason::PrimaryEjected
            } else {
                FallbackReason::AllPrimariesFailed
            };
            if let Some(p) = self.fallback_pick(reason, now, rng) {
                return p;
            }
        }
        // Stay on the last route (no token for a switch, or nowhere better to go). A fallback
        // that serves again is a fallback use like any other, counted with its reason.
        match last {
            Some(route) => {
                let fallback = self.routes[route]
                    .fallback
                    .then_some(FallbackReason::AllPrimariesFailed);
                if let Some(reason) = fallback {
                    self.fallback_total += 1;
                    self.fallback_by_reason.add(reason.as_str());
                }
                Pick {
                    route,
                    probe: false,
                    fallback,
                }
            }
            None => self.pick_first(now, rng),
        }
    }

    /// The route for a hedge: another healthy route if there is one, else the same.
    pub fn pick_hedge(&mut self, current: usize, now: f64, rng: &mut Rng) -> usize {
        self.refresh(now);
        let fallback = self.routes[current].fallback;
        self.p2c_among(fallback, false, &[current], now, rng)
            .unwrap_or(current)
    }

    pub fn attempt_started(&mut self, route: usize, probe: bool) {
        let r = &mut self.routes[route];
        r.in_flight += 1;
        if probe {
            r.probe_in_flight = true;
        }
    }

    /// An attempt was abandoned (lost a hedge race, or the call was aborted): no verdict.
    pub fn attempt_abandoned(&mut self, route: usize, probe: bool) {
        let r = &mut self.routes[route];
        r.in_flight = r.in_flight.saturating_sub(1);
        if probe {
            r.probe_in_flight = false;
        }
    }

    fn ejected_count(&self) -> usize {
        self.routes
            .iter()
            .filter(|r| r.state != State::Healthy)
            .count()
    }

    fn may_eject(&self) -> bool {
        let n = self.routes.len();
        let allowed = ((n as f64 * self.cfg.ejection.max_percent / 100.0).floor() as usize).max(1);
        self.ejected_count() < allowed
    }

    fn eject(&mut self, i: usize, reason: EjectReason, now: f64, out: &mut Vec<Notice>) {
        let e = &self.cfg.ejection;
        let (base, max) = (e.base_ms, e.max_ms);
        let r = &mut self.routes[i];
        let duration_ms = r.eject(now, base, max);
        out.push(Notice::Eject(EjectEvent {
            route: r.name.as_ref().to_owned(),
            reason,
            ejections: r.ejections,
            duration_ms,
        }));
    }

    /// An attempt on `route` finished. `ok`: the route answered with a non-retryable status.
    pub fn attempt_finished(
        &mut self,
        route: usize,
        probe: bool,
        ok: bool,
        latency: Sample,
        now: f64,
        out: &mut Vec<Notice>,
    ) {
        self.attempt_abandoned(route, probe);
        self.routes[route].record(ok, latency, now);
        let probes = self.cfg.probes as u32;
        let r = &mut self.routes[route];
        if r.state == State::Probing {
            if !probe {
                // An attempt sent before the route was ejected: it says nothing about now.
            } else if ok {
                r.probe_successes += 1;
                if r.probe_successes >= probes {
                    r.restore(now);
                    out.push(Notice::Restore(RestoreEvent {
                        route: r.name.as_ref().to_owned(),
                        reason: RestoreReason::ProbesSucceeded,
                        ejected_for_ms: now - r.ejected_at,
                    }));
                }
            } else {
                self.eject(route, EjectReason::ProbeFailed, now, out);
            }
        } else if r.state == State::Healthy
            && r.consecutive_failures >= self.cfg.ejection.consecutive_failures as u32
            && self.may_eject()
        {
            self.eject(route, EjectReason::ConsecutiveFailures, now, out);
        }
        self.success_rate_check(now, out);
    }

    /// Every `intervalMs`: eject healthy routes whose success rate over the interval is below
    /// `minSuccessRate`, or (with three or more eligible routes) below mean - k x stdev.
    fn success_rate_check(&mut self, now: f64, out: &mut Vec<Notice>) {
        match self.last_interval {
            None => {
                self.last_interval = Some(now);
                return;
            }
            Some(t) if now - t < self.cfg.ejection.interval_ms => return,
            _ => self.last_interval = Some(now),
        }
        let e = self.cfg.ejection.clone();
        let rates: Vec<(usize, f64)> = (0..self.routes.len())
            .filter_map(|i| {
                let (ok, total) = self.routes[i].take_interval();
                let eligible = self.routes[i].healthy() && total >= e.min_requests as u64;
                eligible.then(|| (i, ok as f64 / total as f64))
            })
            .collect();
        let mut threshold = e.min_success_rate;
        if rates.len() >= 3 {
            let n = rates.len() as f64;
            let mean = rates.iter().map(|r| r.1).sum::<f64>() / n;
            let var = rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / n;
            threshold = threshold.max(mean - e.stdev_factor * var.sqrt());
        }
        let mut low: Vec<(usize, f64)> = rates.into_iter().filter(|r| r.1 < threshold).collect();
        sort::sort_by(&mut low, |a, b| a.1.total_cmp(&b.1).is_lt());
        for (i, _) in low {
            if self.may_eject() {
                self.eject(i, EjectReason::LowSuccessRate, now, out);
            }
        }
    }

    /// A routed task settled; `fallback`: its final attempt went to a fallback route.
    pub fn task_finished(&mut self, fallback: bool, now: f64, out: &mut Vec<Notice>) {
        let c = self.fallback_window.current(now);
        c.tasks += 1;
        if fallback {
            c.fallback += 1;
            self.fallback_since.get_or_insert(now);
        } else {
            self.fallback_since = None;
        }
        let (tasks, fb) = self.window_counts(now);
        let share = if tasks == 0 {
            0.0
        } else {
            fb as f64 / tasks as f64
        };
        let is_default = tasks >= MIN_TASKS_FOR_DEFAULT && share > self.cfg.fallback_default_share;
        // Flip back only once the share is clearly below the threshold (no flapping).
        let flip = if self.fallback_is_default {
            share < self.cfg.fallback_default_share * 0.8
        } else {
            is_default
        };
        if flip {
            self.fallback_is_default = !self.fallback_is_default;
            out.push(Notice::FallbackDefault(FallbackDefaultEvent {
                is_default: self.fallback_is_default,
                share: round3(share),
            }));
        }
    }

    fn window_counts(&self, now: f64) -> (u64, u64) {
        let add = |a: (u64, u64), c: &TaskCounts| (a.0 + c.tasks, a.1 + c.fallback);
        match self.fallback_window.all_live(now) {
            Some(all) => all.iter().fold((0, 0), add),
            None => self.fallback_window.live(now).fold((0, 0), add),
        }
    }

    /// Each route's name, state and score at `now`, as `route_snapshots` has them.
    pub fn route_gauges(&self, now: f64) -> impl Iterator<Item = (&str, &'static str, f64)> {
        self.routes
            .iter()
            .map(move |r| (&*r.name, r.state_at(now).as_str(), round3(r.score(now))))
    }

    /// Fallback uses by reason, lifetime (`fallback_snapshot().by_reason`).
    pub fn fallback_by_reason(&self) -> &Counts {
        &self.fallback_by_reason
    }

    pub fn route_snapshots(&self, now: f64) -> Vec<RouteSnapshot> {
        self.routes
            .iter()
            .map(|r| {
                let latency = r.latency(now);
                RouteSnapshot {
                    name: r.name.as_ref().to_owned(),
                    state: r.state_at(now).as_str(),
                    score: round3(r.score(now)),
                    success_rate: round3(r.success_rate(now)),
                    latency: RouteLatency {
                        p50: round3(latency.quantile(0.5)),
                        p95: round3(latency.quantile(0.95)),
                        p99: round3(latency.quantile(0.99)),
                    },
                    variance: round3(r.variance()),
                    attempts: r.attempts,
                    failures: r.failures,
                    ejections: r.ejections,
                    credentials_stripped: r.credentials_stripped,
                }
            })
            .collect()
    }

    pub fn fallback_snapshot(&self, now: f64) -> FallbackSnapshot {
        let (tasks, fb) = self.window_counts(now);
        FallbackSnapshot {
            total: self.fallback_total,
            by_reason: self.fallback_by_reason.clone(),
            active: self.fallback_since.is_some(),
            active_for_ms: self.fallback_since.map_or(0.0, |t| round3(now - t)),
            share: if tasks == 0 {
                0.0
            } else {
                round3(fb as f64 / tasks as f64)
            },
            is_default: self.fallback_is_default,
        }
    }

    pub fn switch_snapshot(&self) -> SwitchSnapshot {
        SwitchSnapshot {
            total: self.switches,
            denied: self.switches_denied,
        }
    }
}

//! The engine: one client's shared state (budgets, routes, limiter, RNG, metrics) and the per-task
//! state machine.
//!
//! Sans-IO, in the manner of quinn-proto: the engine never performs I/O, reads a clock or draws
//! entropy. The driver tells it what happened (`begin`, `admit`, `attempt_started`,
//! `attempt_finished`, `abandon`, `cancel`, `finish`) with the current time, and it answers with a
//! `Decision` or a `Plan`, and queues `Event`s and slot grants for the driver to deliver. The same
//! engine runs under the wasm driver in every JS runtime and in simulations in virtual time, so what
//! a simulation shows is what ships.
//!
//! Every attempt (first attempts, retries and hedges) takes a slot from the limiter (`admit`, or
//! `try_hedge` for hedges, which never queue) and gives it back when it ends. A task may have two
//! attempts in flight (the original and a hedge); the first good response wins.
//!
//! Order of checks for a failed attempt, cheapest and most certain first, and the budget last so
//! that a task which would give up anyway never spends a token: status not retryable -> done;
//! another attempt still in flight -> wait for it; method or body not replayable; attempts used
//! up; the wait (backoff, or Retry-After on 429/503, clamped) would pass the deadline (a fallback
//! route, if any, serves at once instead); the retry budget is empty (likewise).

use crate::core::adaptive::Gradient;
use crate::core::backoff;
use crate::core::budget::RetryBudget;
use crate::core::config::{origin_of, Config, DepositOn, LimitSetting};
use crate::core::events::{
    bit, AttemptEvent, Event, FallbackEvent, GiveUpEvent, HedgeEvent, RetryEvent, ShedEvent,
};
use crate::core::limiter::{Admit, Limiter, ShedReason, Ticket};
use crate::core::metrics::{BudgetSnapshot, Extra, HedgeSnapshot, Metrics, Snapshot};
use crate::core::policy::{eligibility, GiveUpReason, RequestMeta};
use crate::core::pressure::{Inputs, Pressure};
use crate::core::retry_after;
use crate::core::routing::{self, Notice, Pick, Routing};
use crate::core::sketch::Sample;
use crate::prelude::*;
use fastrand::Rng;

/// How an attempt ended, as seen by the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A response arrived. `retry_after_ms` is the parsed `Retry-After`, if any.
    Response {
        status: u16,
        retry_after_ms: Option<f64>,
    },
    /// The transport rejected (connection refused, reset, DNS...).
    NetworkError,
    /// `timeout.attemptMs` ran out.
    Timeout,
}

impl Outcome {
    fn kind(&self) -> &'static str {
        match self {
            Outcome::Response { .. } => "response",
            Outcome::NetworkError => "error",
            Outcome::Timeout => "timeout",
        }
    }
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Settle with this attempt's result (a response that is not retryable, e.g. 200 or 404).
    /// Abandon any other attempt still in flight.
    Done,
    /// Another attempt of this task is still in flight: drop this result and wait for that one.
    Wait,
    /// Sleep this long, then make the next attempt.
    Retry { delay_ms: f64 },
    /// Settle with this attempt's result; no more attempts.
    GiveUp(GiveUpReason),
}

/// Where an attempt goes, as decided by `attempt_started`.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Attempt number within the task (1 for the first).
    pub id: u32,
    /// The URL to send to, when routing rewrote it (`None`: the caller's input as is).
    pub url: Option<String>,
    /// Drop `Authorization`, `Cookie` and `Proxy-Authorization` (cross-origin failover).
    pub strip_credentials: bool,
}

/// One attempt of a task, as reported in `BallastError.attempts`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Attempt number (1 for the first); hedges can end out of order.
    pub attempt: u32,
    pub outcome: &'static str,
    pub status: Option<u16>,
    pub duration_ms: f64,
    pub route: Option<String>,
}

#[derive(Debug, Clone)]
struct Flight {
    id: u32,
    route: Option<usize>,
    probe: bool,
    hedge: bool,
    start: f64,
    holding: bool,
}

/// Per-task state. Owned by the driver, passed back to the engine on every call.
#[derive(Debug, Clone)]
pub struct Task {
    meta: RequestMeta,
    start_ms: f64,
    deadline_ms: Option<f64>,
    eligible: Result<(), GiveUpReason>,
    prev_delay_ms: f64,
    attempts: Vec<AttemptRecord>,
    next_id: u32,
    flights: Vec<Flight>,
    /// A slot taken by `admit` (or granted) for the next attempt, not used yet.
    slot: bool,
    ticket: Option<Ticket>,
    /// Path and query to append to a route's URL; `None` when the task is not routed.
    remainder: Option<String>,
    /// The origin the caller addressed, when the call named one (an absolute URL); `None` for a
    /// path, whose addressed origin is the first configured route's. Credentials go there, and
    /// elsewhere only to routes that say `forwardCredentials`.
    addressed: Option<String>,
    failed_routes: Vec<usize>,
    forced_fallback: Option<&'static str>,
    served_by_fallback: bool,
    /// The hedge delay planned for the current attempt.
    hedge_after_ms: f64,
}

impl Task {
    pub fn attempts(&self) -> &[AttemptRecord] {
        &self.attempts
    }
    pub fn deadline_ms(&self) -> Option<f64> {
        self.deadline_ms
    }
    pub fn meta(&self) -> &RequestMeta {
        &self.meta
    }
}

pub struct Engine {
    cfg: Config,
    budget: RetryBudget,
    rng: Rng,
    metrics: Metrics,
    limiter: Limiter,
    pressure: Pressure,
    routing: Routing,
    hedge_budget: Option<RetryBudget>,
    hedges: HedgeSnapshot,
    events: Vec<Event>,
    listening: u32,
    granted: Vec<Ticket>,
    /// Emptied lists of finished tasks (`recycle`), reused by `begin`.
    spare: Vec<Lists>,
}

/// A task's lists, kept with their capacity between tasks. Without them every call allocated and
/// freed its `attempts` and `flights`; in the loopback benchmark's CPU profiles
/// (bench/lib/profile-real.mjs) the allocator was a sixth of the engine's time per call.
#[derive(Default)]
struct Lists {
    attempts: Vec<AttemptRecord>,
    flights: Vec<Flight>,
    failed_routes: Vec<usize>,
}

/// At most this many spare lists are kept (beyond it, a finished task's are freed), so the heap
/// held for them is bounded whatever the peak concurrency was.
const MAX_SPARE: usize = 256;

impl Engine {
    /// `cfg` must come from `Config::validated`.
    pub fn new(cfg: Config, seed: u64) -> Self {
        let b = &cfg.budget;
        let c = &cfg.concurrency;
        let queue = c.queue as usize;
        let limiter = match c.limit {
            None => Limiter::unlimited(),
            Some(LimitSetting::Fixed(n)) => Limiter::fixed(n as u32, queue),
            Some(LimitSetting::Adaptive) => Limiter::adaptive(Gradient::default(), queue),
        };
        let p = &cfg.pressure;
        Engine {
            budget: RetryBudget::new(b.ratio, b.min_per_sec, b.ttl_ms),
            rng: Rng::with_seed(seed),
            metrics: Metrics::default(),
            limiter,
            pressure: Pressure::new(p.warn, p.critical, p.hysteresis),
            routing: Routing::new(&cfg.routes, &cfg.routing),
            hedge_budget: cfg
                .hedge
                .as_ref()
                .map(|h| RetryBudget::new(h.max_extra_load, 1.0, 10_000.0)),
            hedges: HedgeSnapshot::default(),
            events: Vec::new(),
            listening: 0,
            granted: Vec::new(),
            spare: Vec::new(),
            cfg,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::with_seed(seed);
    }

    /// Which event kinds to queue (bit i = `events::KINDS[i]`); others are never built.
    pub fn set_listening(&mut self, mask: u32) {
        self.listening = mask;
    }

    /// The request's URL as events and messages show it (`core::redact`).
    pub fn shown_url(&self, meta: &RequestMeta) -> String {
        crate::core::redact::display_url(&meta.url, !self.cfg.redact.query)
    }

    /// Whether anyone listens to the kind of `bit` (`events::bit`, a constant where the kind is
    /// a literal: `const { bit("retry") }`).
    fn wants(&self, bit: u32) -> bool {
        self.listening & bit != 0
    }

    /// A task starts: it deposits into the budgets and its deadline starts running.
    pub fn begin(&mut self, meta: RequestMeta, now: f64) -> Task {
        if self.cfg.budget.deposit_on == DepositOn::Task {
            self.budget.deposit(now);
        }
        if let Some(h) = &mut self.hedge_budget {
            h.deposit(now);
        }
        self.metrics.task_started(now);
        self.pressure.task(now);
        let remainder = self.routing.remainder(&meta.url);
        if remainder.is_some() {
            self.routing.task_started(now);
        }
        let lists = self.spare.pop().unwrap_or_default();
        Task {
            eligible: eligibility(&self.cfg.retry, &meta),
            addressed: if remainder.is_some() {
                origin_of(&meta.url)
            } else {
                None
            },
            meta,
            start_ms: now,
            deadline_ms: self.cfg.timeout.total_ms.map(|t| now + t),
            prev_delay_ms: 0.0,
            attempts: lists.attempts,
            next_id: 1,
            flights: lists.flights,
            slot: false,
            ticket: None,
            remainder,
            failed_routes: lists.failed_routes,
            forced_fallback: None,
            served_by_fallback: false,
            hedge_after_ms: 0.0,
        }
    }

    /// Asks for a concurrency slot for the next attempt. On `Queued`, wait for the ticket to
    /// show up in `take_granted` (then call `attempt_started`) or call `queue_timeout`. On `Shed`
    /// the task is over: it has given up with `QueueFull`.
    pub fn admit(&mut self, task: &mut Task, now: f64) -> Admit {
        let admit = self.limiter.acquire(now);
        match admit {
            Admit::Now => task.slot = true,
            Admit::Queued(t) => task.ticket = Some(t),
            Admit::Shed(r) => self.shed(task, r, 0.0),
        }
        admit
    }

    /// The queued task waited `concurrency.queueTimeoutMs`. Returns the give-up reason if it was
    /// shed, or `None` if a slot was granted in the meantime (go on with `attempt_started`).
    pub fn queue_timeout(&mut self, task: &mut Task, now: f64) -> Option<GiveUpReason> {
        let ticket = task.ticket?;
        let waited = self.limiter.leave(ticket, now)?;
        task.ticket = None;
        self.metrics.queue_wait(waited, now);
        self.pressure.queue_wait(waited, now);
        self.shed(task, ShedReason::QueueTimeout, waited);
        Some(GiveUpReason::QueueTimeout)
    }

    fn shed(&mut self, task: &Task, reason: ShedReason, waited_ms: f64) {
        self.metrics.shed(reason.as_str());
        if self.wants(const { bit("shed") }) {
            self.events.push(Event::Shed(ShedEvent {
                reason: reason.as_str(),
                attempt: task.attempts.len() as u32 + 1,
                waited_ms,
                queued: self.limiter.queued() as u32,
                in_flight: self.limiter.in_flight(),
                limit: self.limiter.limit(),
                method: String::from(&*task.meta.method),
                url: self.shown_url(&task.meta),
            }));
        }
        let r = match reason {
            ShedReason::QueueFull => GiveUpReason::QueueFull,
            ShedReason::QueueTimeout => GiveUpReason::QueueTimeout,
        };
        self.give_up(task, r);
    }

    /// When to hedge the task's only attempt in flight, if hedging applies to it.
    pub fn hedge_delay(&mut self, task: &mut Task, now: f64) -> Option<f64> {
        let d = self.plan_hedge(task, now);
        task.hedge_after_ms = d.unwrap_or(0.0);
        d
    }

    fn plan_hedge(&mut self, task: &Task, now: f64) -> Option<f64> {
        let h = self.cfg.hedge.as_ref()?;
        if task.eligible.is_err() || task.flights.len() != 1 {
            return None;
        }
        if let Some(ms) = h.after_ms {
            return Some(ms);
        }
        let q = h.percentile? / 100.0;
        let route = task.flights[0].route?;
        let (v, n) = self.routing.routes[route].latency_quantile(q, now);
        (n >= 20).then_some(v)
    }

    /// The hedge timer fired: whether a hedge may be sent now (it then holds a slot; call
    /// `attempt_started` with `hedge = true`). Hedges never queue and draw from their own budget.
    pub fn try_hedge(&mut self, task: &mut Task, now: f64) -> bool {
        let used = task.attempts.len() + task.flights.len();
        if task.flights.len() != 1 || used >= self.cfg.retry.max_attempts as usize {
            return false;
        }
        let Some(hb) = &mut self.hedge_budget else {
            return false;
        };
        if !hb.withdraw(now) {
            self.hedges.budget_exhausted += 1;
            return false;
        }
        if !self.limiter.try_acquire_now() {
            return false;
        }
        task.slot = true;
        true
    }

    /// The attempt is sent now (after `admit` returned `Now`, a grant, or `try_hedge`).
    pub fn attempt_started(&mut self, task: &mut Task, hedge: bool, now: f64) -> Plan {
        let holding = task.ticket.take().is_some() || core::mem::take(&mut task.slot);
        let id = task.next_id;
        task.next_id += 1;
        let pick = task.remainder.is_some().then(|| {
            if hedge {
                let current = task.flights.first().and_then(|f| f.route).unwrap_or(0);
                let route = self.routing.pick_hedge(current, now, &mut self.rng);
                Pick {
                    route,
                    probe: false,
                    fallback: None,
                }
            } else if task.attempts.is_empty() && task.flights.is_empty() {
                self.routing.pick_first(now, &mut self.rng)
            } else {
                let forced = task.forced_fallback.take();
                self.routing
                    .pick_retry(&task.failed_routes, forced, now, &mut self.rng)
            }
        });
        let mut plan = Plan {
            id,
            url: None,
            strip_credentials: false,
        };
        if let (Some(p), Some(rem)) = (pick, &task.remainder) {
            let r = &self.routing.routes[p.route];
            plan.url = Some(cat!(r.url, rem));
            let addressed = match &task.addressed {
                Some(origin) => origin,
                None => &self.routing.routes[0].origin,
            };
            plan.strip_credentials = *addressed != r.origin && !r.forward_credentials;
            if plan.strip_credentials {
                self.routing.routes[p.route].credentials_stripped += 1;
            }
            self.routing.attempt_started(p.route, p.probe);
            if let Some(reason) = p.fallback {
                task.served_by_fallback = true;
                if self.wants(const { bit("fallback") }) {
                    let from = task
                        .failed_routes
                        .last()
                        .map(|i| self.routing.routes[*i].name.clone());
                    self.events.push(Event::Fallback(FallbackEvent {
                        reason,
                        route: self.routing.routes[p.route].name.clone(),
                        from,
                        method: String::from(&*task.meta.method),
                        url: self.shown_url(&task.meta),
                    }));
                }
            } else {
                task.served_by_fallback = false;
            }
        }
        if hedge {
            self.hedges.sent += 1;
            if self.wants(const { bit("hedge") }) {
                let name = |i: Option<usize>| i.map(|i| self.routing.routes[i].name.clone());
                self.events.push(Event::Hedge(HedgeEvent {
                    route: name(pick.map(|p| p.route)),
                    from: name(task.flights.first().and_then(|f| f.route)),
                    after_ms: task.hedge_after_ms,
                    method: String::from(&*task.meta.method),
                    url: self.shown_url(&task.meta),
                }));
            }
        }
        self.metrics.attempt_started();
        if !hedge && id > 1 {
            // Counted when sent, not when decided: a call aborted or out of time during its
            // backoff never sends the retry it was granted.
            self.metrics.retried(now);
            self.pressure.retry(now);
        }
        task.flights.push(Flight {
            id,
            route: pick.map(|p| p.route),
            probe: pick.is_some_and(|p| p.probe),
            hedge,
            start: now,
            holding,
        });
        plan
    }

    /// Gives back a slot and hands free slots on.
    fn release_slot(&mut self, rtt_ms: Option<f64>, now: f64) {
        self.limiter.release(rtt_ms, now);
        for (t, waited) in self.limiter.take_granted() {
            self.metrics.queue_wait(waited, now);
            self.pressure.queue_wait(waited, now);
            self.granted.push(t);
        }
    }

    /// Frees what the task holds outside its flights: a queue place or an unused slot.
    fn release_pending(&mut self, task: &mut Task, now: f64) {
        if let Some(t) = task.ticket.take() {
            if self.limiter.leave(t, now).is_none() {
                task.slot = true; // granted but never used: give it back below
            }
        }
        if core::mem::take(&mut task.slot) {
            self.release_slot(None, now);
        }
    }

    /// Tickets granted a slot since the last call: wake those tasks.
    pub fn take_granted(&mut self) -> Vec<Ticket> {
        core::mem::take(&mut self.granted)
    }

    /// Ends flight `id`: frees its slot, tells its route (`verdict`: Some(ok) for a real outcome,
    /// None for an abandoned attempt), records the attempt.
    fn end_flight(
        &mut self,
        task: &mut Task,
        id: u32,
        kind: &'static str,
        status: Option<u16>,
        verdict: Option<bool>,
        now: f64,
    ) -> Option<Flight> {
        let pos = task.flights.iter().position(|f| f.id == id)?;
        let f = task.flights.remove(pos);
        let duration_ms = (now - f.start).max(0.0);
        let sample = Sample::from(duration_ms);
        if f.holding {
            self.release_slot(verdict.map(|_| duration_ms), now);
        }
        let mut notices = Vec::new();
        if let Some(r) = f.route {
            match verdict {
                Some(ok) => {
                    self.routing
                        .attempt_finished(r, f.probe, ok, sample, now, &mut notices);
                    if !ok {
                        task.failed_routes.retain(|x| *x != r);
                        task.failed_routes.push(r);
                    }
                }
                None => self.routing.attempt_abandoned(r, f.probe),
            }
        }
        self.notices(notices);
        self.metrics.attempt_finished(sample, now);
        self.pressure.attempt(sample, now);
        let route = f.route.map(|r| self.routing.routes[r].name.clone());
        task.attempts.push(AttemptRecord {
            attempt: f.id,
            outcome: kind,
            status,
            duration_ms,
            route,
        });
        if self.wants(const { bit("attempt") }) {
            self.events.push(Event::Attempt(AttemptEvent {
                attempt: f.id,
                outcome: kind,
                status,
                duration_ms,
                method: String::from(&*task.meta.method),
                url: self.shown_url(&task.meta),
            }));
        }
        Some(f)
    }

    /// Ends every attempt still in flight (recorded as `kind`) and frees a queue place or an
    /// unused slot: what a task holds when it ends outside the normal flow.
    fn end_all(&mut self, task: &mut Task, kind: &'static str, verdict: Option<bool>, now: f64) {
        while let Some(id) = task.flights.first().map(|f| f.id) {
            self.end_flight(task, id, kind, None, verdict, now);
        }
        self.release_pending(task, now);
    }

    fn notices(&mut self, notices: Vec<Notice>) {
        for n in notices {
            let ev = match n {
                Notice::Eject(e) => Event::Eject(e),
                Notice::Restore(e) => Event::Restore(e),
                Notice::FallbackDefault(e) => Event::FallbackDefault(e),
            };
            if self.wants(bit(ev.kind())) {
                self.events.push(ev);
            }
        }
    }

    fn eval_pressure(&mut self, now: f64) {
        if !self.pressure.due(now) {
            return;
        }
        let max_queue = self.cfg.concurrency.queue;
        let inputs = Inputs {
            budget_drain: self.budget.drain(now),
            queue_fill: if max_queue > 0.0 {
                self.limiter.queued() as f64 / max_queue
            } else {
                0.0
            },
            budget_ratio: self.cfg.budget.ratio,
        };
        if let Some(ev) = self.pressure.evaluate(now, inputs) {
            if self.wants(const { bit("pressure") }) {
                self.events.push(Event::Pressure(ev));
            }
        }
    }

    /// Attempt `id` ended; decides what happens next.
    pub fn attempt_finished(
        &mut self,
        task: &mut Task,
        id: u32,
        outcome: Outcome,
        now: f64,
    ) -> Decision {
        let status = match outcome {
            Outcome::Response { status, .. } => Some(status),
            _ => None,
        };
        let retryable = status.is_none_or(|s| self.cfg.retry.statuses.contains(&s));
        let Some(flight) = self.end_flight(task, id, outcome.kind(), status, Some(!retryable), now)
        else {
            return Decision::Wait;
        };
        self.eval_pressure(now);
        if !retryable {
            if flight.hedge {
                self.hedges.won += 1;
            }
            if self.cfg.budget.deposit_on == DepositOn::Success {
                self.budget.deposit(now);
            }
            return Decision::Done;
        }
        if !task.flights.is_empty() {
            return Decision::Wait;
        }
        if let Err(r) = task.eligible {
            return self.give_up(task, r);
        }
        let n = task.attempts.len() as u32;
        if n >= self.cfg.retry.max_attempts {
            return self.give_up(task, GiveUpReason::MaxAttempts);
        }
        let mut delay_ms = match outcome {
            Outcome::Response {
                status,
                retry_after_ms: Some(ra),
            } if retry_after::applies_to(status) => ra.min(self.cfg.retry.max_retry_after_ms),
            _ => backoff::delay_ms(
                &self.cfg.retry.backoff,
                n - 1,
                task.prev_delay_ms,
                &mut self.rng,
            ),
        };
        let routed = task.remainder.is_some();
        if let Some(deadline) = task.deadline_ms {
            if now + delay_ms >= deadline {
                if !(routed && self.routing.has_fallback(now)) {
                    return self.give_up(task, GiveUpReason::Deadline);
                }
                // A fallback is another origin: serve from it at once instead of waiting.
                task.forced_fallback = Some(routing::DEADLINE);
                delay_ms = 0.0;
            }
        }
        if task.forced_fallback.is_none() && !self.budget.withdraw(now) {
            if !(routed && self.routing.has_fallback(now)) {
                return self.give_up(task, GiveUpReason::BudgetExhausted);
            }
            // The budget protects the primaries; the fallback is not the origin being spared.
            task.forced_fallback = Some(routing::BUDGET_EXHAUSTED);
            delay_ms = 0.0;
        }
        task.prev_delay_ms = delay_ms;
        if self.wants(const { bit("retry") }) {
            let reason = match &outcome {
                Outcome::Response { status, .. } => cat!("status-", *status),
                Outcome::NetworkError => "network".to_string(),
                Outcome::Timeout => "attempt-timeout".to_string(),
            };
            self.events.push(Event::Retry(RetryEvent {
                attempt: n + 1,
                delay_ms,
                reason,
                method: String::from(&*task.meta.method),
                url: self.shown_url(&task.meta),
            }));
        }
        Decision::Retry { delay_ms }
    }

    /// A hedge race was decided: attempt `id` lost and is aborted by the driver.
    ///
    /// When the original lost to its hedge, its route records how long it had waited, a lower
    /// bound of its latency. Left out, the slow originals a hedge beats vanish from the route's
    /// latency window, its high quantiles drift down, and percentile hedging fires ever earlier
    /// until the hedge budget runs dry and the tail comes back.
    pub fn abandon(&mut self, task: &mut Task, id: u32, now: f64) {
        let lost = self.end_flight(task, id, "aborted", None, None, now);
        if let Some(Flight {
            hedge: false,
            route: Some(r),
            start,
            ..
        }) = lost
        {
            self.routing.routes[r].record_latency((now - start).max(0.0), now);
        }
    }

    fn give_up(&mut self, task: &Task, reason: GiveUpReason) -> Decision {
        self.metrics.gave_up(reason.as_str());
        if self.wants(const { bit("giveup") }) {
            self.events.push(Event::GiveUp(GiveUpEvent {
                reason: reason.as_str(),
                attempts: task.attempts.len() as u32,
                method: String::from(&*task.meta.method),
                url: self.shown_url(&task.meta),
            }));
        }
        Decision::GiveUp(reason)
    }

    /// The task ends outside the normal flow (the caller aborted, the total deadline ran out, the
    /// transport misbehaved), possibly mid-attempt.
    pub fn cancel(&mut self, task: &mut Task, reason: GiveUpReason, now: f64) {
        let kind = match reason {
            GiveUpReason::Aborted => "aborted",
            GiveUpReason::Deadline => "timeout",
            _ => "error",
        };
        let verdict = (reason == GiveUpReason::InvalidResponse).then_some(false);
        self.end_all(task, kind, verdict, now);
        self.give_up(task, reason);
    }

    /// The task settled (whatever the result); records its latency. Frees anything it still holds.
    pub fn finish(&mut self, task: &mut Task, now: f64) {
        self.end_all(task, "aborted", None, now);
        if task.remainder.is_some() && !task.attempts.is_empty() {
            let mut notices = Vec::new();
            self.routing
                .task_finished(task.served_by_fallback, now, &mut notices);
            self.notices(notices);
        }
        self.metrics
            .task_finished((now - task.start_ms).max(0.0), now);
    }

    /// Takes back a task after `finish`: its lists are kept, emptied, for the next `begin`.
    pub fn recycle(&mut self, task: Task) {
        if self.spare.len() >= MAX_SPARE {
            return;
        }
        let Task {
            mut attempts,
            mut flights,
            mut failed_routes,
            ..
        } = task;
        attempts.clear();
        flights.clear();
        failed_routes.clear();
        self.spare.push(Lists {
            attempts,
            flights,
            failed_routes,
        });
    }

    /// Events queued since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }

    /// Whether events or grants wait to be collected.
    pub fn has_output(&self) -> bool {
        !self.events.is_empty() || !self.granted.is_empty()
    }

    pub fn snapshot(&mut self, now: f64) -> Snapshot {
        self.eval_pressure(now);
        let extra = Extra {
            budget: BudgetSnapshot {
                balance: self.budget.balance(now),
                exhausted: self.budget.exhausted(),
                reserve: self.budget.reserve_retries(),
            },
            in_flight: self.limiter.in_flight(),
            queued: self.limiter.queued() as u32,
            limit: self.limiter.limit(),
            pressure: self.pressure.snapshot().clone(),
            routes: self.routing.route_snapshots(now),
            fallback: self.routing.fallback_snapshot(now),
            switches: self.routing.switch_snapshot(),
            hedges: self.hedges.clone(),
        };
        self.metrics.snapshot(now, extra)
    }

    /// Heap bytes the engine holds, apart from tasks the driver owns (memory-bound tests).
    pub fn footprint(&mut self, now: f64) -> usize {
        self.metrics.footprint(now)
            + self.limiter.footprint()
            + self.events.capacity() * core::mem::size_of::<Event>()
            + self.granted.capacity() * 8
    }
}

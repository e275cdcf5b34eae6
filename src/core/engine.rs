//! The engine: one client's shared state (budgets, routes, limiter, RNG, metrics) and every call
//! in progress, from its first attempt to how it settles.
//!
//! Sans-IO, in the manner of quinn-proto's `Connection`: the engine never performs I/O, reads a
//! clock or draws entropy. It owns the whole call, the waiting included (attempt timeouts, the
//! deadline, backoff sleeps, hedge delays, queue timeouts: all in its own timer queue), so the
//! same state machine runs under the JS executor in every runtime and under the virtual-time
//! executor in tests and the simulator, and what a simulation shows is what ships.
//!
//! # Call order
//!
//! An executor drives it so:
//! 1. `begin(meta, now)` for each call the caller makes; it returns the call's `TaskId`.
//! 2. When something happens, the matching input: an attempt's response headers arrived
//!    (`handle_response`), it failed without a response (`handle_failure`), the caller aborted
//!    (`handle_abort`), or the instant `poll_timeout` gave has come (`handle_timeout`). Inputs
//!    for a call or an attempt that is over are ignored.
//! 3. After every input: drain `poll_action` and carry each action out (start an attempt, abort
//!    one, settle a call), drain `poll_event` to the listeners, and arm the one timer at
//!    `poll_timeout`.
//!
//! `now` is monotonic milliseconds and must not go backwards; the wall clock (for an HTTP-date
//! `Retry-After`) is passed where it is needed. `snapshot(now)` only reads.
//!
//! # Order of checks for an attempt that failed
//!
//! Cheapest and most certain first, and the budget last, so that a call which would give up anyway
//! never spends a token: a status that is not retried settles the call; another attempt still in
//! flight: wait for it; method or body not replayable; attempts used up; the wait (backoff, or
//! `Retry-After` on 429/503, clamped) would pass the deadline (a fallback route, if any, serves at
//! once instead); the retry budget is empty (likewise).

use crate::core::action::{AbortReason, Action, ErrorCode, Failed, Failure, Settlement, Start};
use crate::core::adaptive::Gradient;
use crate::core::backoff;
use crate::core::budget::RetryBudget;
use crate::core::call::{AttemptOutcome, AttemptRecord, Call, Flight, Lists, Phase};
use crate::core::config::{Config, DepositOn, LimitSetting};
use crate::core::events::{
    bit, AttemptEvent, Event, FallbackEvent, GiveUpEvent, HedgeEvent, RetryCause, RetryEvent,
    ShedEvent,
};
use crate::core::limiter::{Admit, Limiter, ShedReason};
use crate::core::metrics::{BudgetSnapshot, Extra, HedgeSnapshot, Metrics, Snapshot};
use crate::core::policy::{eligibility, GiveUpReason, RequestMeta};
use crate::core::pressure::{Inputs, Pressure};
use crate::core::print::fmt_num;
use crate::core::retry_after;
use crate::core::routing::{FallbackReason, Notice, Pick, Routing};
use crate::core::sketch::Sample;
use crate::core::tasks::{Slab, TaskId};
use crate::core::timers::{Timer, Timers};
use crate::core::url::origin_of;
use crate::prelude::*;
use alloc::collections::VecDeque;
use fastrand::Rng;

/// How an attempt ended, inside the engine.
#[derive(Debug, Clone, PartialEq)]
enum Ended {
    /// A response arrived. `retry_after_ms` is the parsed `Retry-After`, if any.
    Response {
        status: u16,
        retry_after_ms: Option<f64>,
    },
    Failed(Failure),
    /// `timeout.attemptMs` ran out.
    Timeout,
}

/// What a call does after an attempt that did not settle it.
enum Next {
    /// Another attempt is still in flight: wait for it.
    Wait,
    /// Sleep this long, then the next attempt.
    Retry(f64),
    /// Stop: with this attempt's response if it had one, else with an error.
    GiveUp(GiveUpReason),
}

/// At most this many spare lists are kept, so the heap held for them is bounded whatever the peak
/// concurrency was.
const MAX_SPARE: usize = 256;
/// How often the pressure signal is evaluated while calls are in progress.
const PRESSURE_EVERY_MS: f64 = 1_000.0;
/// The most timers a call can have set at once (deadline, two attempt timeouts, one wait).
const TIMERS_PER_CALL: usize = 4;

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
    calls: Slab<Call>,
    timers: Timers,
    /// The pressure timer is set.
    pressure_timer: bool,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    listening: u32,
    /// Emptied lists of finished calls, reused by `begin`.
    spare: Vec<Lists>,
}

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
            calls: Slab::default(),
            timers: Timers::default(),
            pressure_timer: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            listening: 0,
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

    /// Calls in progress.
    pub fn active(&self) -> usize {
        self.calls.len()
    }

    // ---- outputs ----------------------------------------------------------------------------

    /// The next thing to do, in the order decided.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next event for listeners.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether actions or events wait to be polled.
    pub fn has_output(&self) -> bool {
        !self.actions.is_empty() || !self.events.is_empty()
    }

    /// The next instant the engine wants `handle_timeout` called at, if any.
    pub fn poll_timeout(&mut self) -> Option<f64> {
        while let Some((at, timer)) = self.timers.peek() {
            if self.wanted(at, timer) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }

    // ---- inputs -----------------------------------------------------------------------------

    /// A call begins: it deposits into the budgets, its deadline starts running, and its first
    /// attempt is started or queued (or the call is shed).
    pub fn begin(&mut self, meta: RequestMeta, now: f64) -> TaskId {
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
        let call = Call {
            eligible: eligibility(&self.cfg.retry, &meta),
            addressed: if remainder.is_some() {
                origin_of(&meta.url)
            } else {
                None
            },
            meta,
            start_ms: now,
            deadline_ms: self.cfg.timeout.total_ms.map(|t| now + t),
            phase: Phase::Attempts,
            prev_delay_ms: 0.0,
            attempts: lists.attempts,
            next_id: 1,
            flights: lists.flights,
            remainder,
            failed_routes: lists.failed_routes,
            forced_fallback: None,
            served_by_fallback: false,
            hedge_at: None,
            hedge_after_ms: 0.0,
            last_error: None,
        };
        let deadline = call.deadline_ms;
        let id = self.calls.insert(call);
        if let Some(at) = deadline {
            self.timers.set(at, Timer::Deadline(id));
        }
        if !self.pressure_timer {
            self.pressure_timer = true;
            self.timers.set(now + PRESSURE_EVERY_MS, Timer::Pressure);
        }
        self.with_call(id, now, |e, id, call| e.admit(id, call, now));
        id
    }

    /// Attempt `attempt` of `task` got its response headers: `status`, and the `Retry-After`
    /// header's value as received (read on 429 and 503). `wall_ms` is the wall clock, for an
    /// HTTP-date `Retry-After`.
    pub fn handle_response(
        &mut self,
        task: TaskId,
        attempt: u32,
        status: u16,
        retry_after: Option<&str>,
        now: f64,
        wall_ms: f64,
    ) {
        let retry_after_ms = match retry_after {
            Some(v) if retry_after::applies_to(status) => retry_after::parse(v, wall_ms),
            _ => None,
        };
        let ended = Ended::Response {
            status,
            retry_after_ms,
        };
        self.with_call(task, now, |e, id, call| {
            e.attempt_ended(id, call, attempt, ended, now)
        });
    }

    /// Attempt `attempt` of `task` failed without a response. `detail` describes the error (for
    /// the message the call may end with).
    pub fn handle_failure(
        &mut self,
        task: TaskId,
        attempt: u32,
        failure: Failure,
        detail: &str,
        now: f64,
    ) {
        self.with_call(task, now, |e, id, call| {
            if call.flight(attempt).is_some() {
                call.last_error = Some(detail.to_string());
            }
            e.attempt_ended(id, call, attempt, Ended::Failed(failure), now)
        });
    }

    /// The caller aborted `task`.
    pub fn handle_abort(&mut self, task: TaskId, now: f64) {
        self.with_call(task, now, |e, id, call| {
            e.end(id, call, GiveUpReason::Aborted, Settlement::Aborted, now)
        });
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: f64) {
        while let Some((at, timer)) = self.timers.pop_due(now) {
            if !self.wanted(at, timer) {
                continue;
            }
            match timer {
                Timer::Pressure => {
                    self.eval_pressure(now);
                    if self.calls.is_empty() {
                        self.pressure_timer = false;
                    } else {
                        self.timers.set(now + PRESSURE_EVERY_MS, Timer::Pressure);
                    }
                }
                Timer::Deadline(id) => self.with_call(id, now, |e, id, call| {
                    e.end(id, call, GiveUpReason::Deadline, Settlement::Deadline, now)
                }),
                Timer::AttemptTimeout(id, attempt) => self.with_call(id, now, |e, id, call| {
                    e.abort_flight(id, attempt, AbortReason::AttemptTimeout);
                    let ms = fmt_num(e.cfg.timeout.attempt_ms.unwrap_or(0.0));
                    call.last_error = Some(cat!(
                        "TimeoutError: ballast: timeout.attemptMs (",
                        ms,
                        " ms) elapsed"
                    ));
                    e.attempt_ended(id, call, attempt, Ended::Timeout, now)
                }),
                Timer::Backoff(id) => self.with_call(id, now, |e, id, call| {
                    call.phase = Phase::Attempts;
                    e.admit(id, call, now)
                }),
                Timer::Hedge(id) => self.with_call(id, now, |e, id, call| e.hedge(id, call, now)),
                Timer::QueueTimeout(id) => {
                    self.with_call(id, now, |e, id, call| e.queue_timeout(id, call, now))
                }
            }
        }
        self.compact_timers();
    }

    // ---- the call's life --------------------------------------------------------------------

    /// Runs `f` on call `id` taken out of the slab, then puts it back unless `f` settled it, and
    /// starts the attempts that slots freed meanwhile were granted to.
    fn with_call(
        &mut self,
        id: TaskId,
        now: f64,
        f: impl FnOnce(&mut Self, TaskId, &mut Call) -> bool,
    ) {
        let Some(mut call) = self.calls.take(id) else {
            return;
        };
        if f(self, id, &mut call) {
            self.calls.restore(id, call);
        } else {
            self.calls.release(id);
            if self.spare.len() < MAX_SPARE {
                self.spare.push(call.into_lists());
            }
        }
        self.grants(now);
    }

    /// Whether a timer set for `at` still stands.
    fn wanted(&self, at: f64, timer: Timer) -> bool {
        let call = |id| self.calls.get(id);
        match timer {
            Timer::Pressure => true,
            Timer::Deadline(id) => self.calls.contains(id),
            Timer::AttemptTimeout(id, attempt) => call(id)
                .is_some_and(|c| c.flight(attempt).is_some_and(|f| f.timeout_at == Some(at))),
            Timer::Backoff(id) => call(id).is_some_and(|c| c.phase == Phase::Backoff(at)),
            Timer::Hedge(id) => call(id).is_some_and(|c| c.hedge_at == Some(at)),
            Timer::QueueTimeout(id) => call(id).is_some_and(|c| match c.phase {
                Phase::Queued(since) => since + self.cfg.concurrency.queue_timeout_ms == at,
                _ => false,
            }),
        }
    }

    fn compact_timers(&mut self) {
        let bound = TIMERS_PER_CALL * self.calls.len() + 1;
        if self.timers.len() <= 2 * bound + 64 {
            return;
        }
        let mut timers = core::mem::take(&mut self.timers);
        timers.compact(bound, |at, t| self.wanted(at, t));
        self.timers = timers;
    }

    /// Asks for a concurrency slot for the call's next attempt and starts it, queues it, or sheds
    /// the call. Returns whether the call goes on.
    fn admit(&mut self, id: TaskId, call: &mut Call, now: f64) -> bool {
        match self.limiter.acquire(id.to_bits(), now) {
            Admit::Now => {
                self.start(id, call, false, true, now);
                true
            }
            Admit::Queued => {
                call.phase = Phase::Queued(now);
                let at = now + self.cfg.concurrency.queue_timeout_ms;
                self.timers.set(at, Timer::QueueTimeout(id));
                true
            }
            Admit::Shed(reason) => {
                self.shed(call, reason, 0.0);
                self.settle_failed(id, call, ErrorCode::Shed, reason.give_up(), now);
                false
            }
        }
    }

    /// Starts the attempts of calls whose queued attempt was granted a slot.
    fn grants(&mut self, now: f64) {
        while self.limiter.has_granted() {
            for (ticket, waited) in self.limiter.take_granted() {
                let id = TaskId::from_bits(ticket);
                let queued = matches!(self.calls.get(id).map(|c| c.phase), Some(Phase::Queued(_)));
                let Some(mut call) = queued.then(|| self.calls.take(id)).flatten() else {
                    // Its call is gone: hand the slot on.
                    self.release_slot(None, now);
                    continue;
                };
                self.metrics.queue_wait(waited, now);
                self.pressure.queue_wait(waited, now);
                call.phase = Phase::Attempts;
                self.start(id, &mut call, false, true, now);
                self.calls.restore(id, call);
            }
        }
    }

    /// The queued attempt waited `concurrency.queueTimeoutMs`: the call is shed.
    fn queue_timeout(&mut self, id: TaskId, call: &mut Call, now: f64) -> bool {
        let Some(waited) = self.limiter.leave(id.to_bits(), now) else {
            return true; // granted meanwhile: `grants` starts it
        };
        // Out of the queue, and holding no slot: `settle` must not give one back for it.
        call.phase = Phase::Attempts;
        self.metrics.queue_wait(waited, now);
        self.pressure.queue_wait(waited, now);
        self.shed(call, ShedReason::QueueTimeout, waited);
        self.settle_failed(id, call, ErrorCode::Shed, GiveUpReason::QueueTimeout, now);
        false
    }

    fn shed(&mut self, call: &Call, reason: ShedReason, waited_ms: f64) {
        self.metrics.shed(reason.as_str());
        if self.wants(const { bit("shed") }) {
            let ev = Event::Shed(ShedEvent {
                reason,
                attempt: call.attempts.len() as u32 + 1,
                waited_ms,
                queued: self.limiter.queued() as u32,
                in_flight: self.limiter.in_flight(),
                limit: self.limiter.limit(),
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push_back(ev);
        }
    }

    /// Sends the call's next attempt (it holds a slot if `holding`): picks its route, sets its
    /// timers, and asks the executor to start it.
    fn start(&mut self, id: TaskId, call: &mut Call, hedge: bool, holding: bool, now: f64) {
        let attempt = call.next_id;
        call.next_id += 1;
        let pick = call
            .remainder
            .is_some()
            .then(|| self.pick(call, hedge, now));
        let mut start = Start {
            task: id,
            attempt,
            url: None,
            route: None,
            strip_credentials: false,
            hedge,
        };
        if let (Some(p), Some(rem)) = (pick, &call.remainder) {
            let r = &self.routing.routes[p.route];
            start.url = Some(cat!(r.url, rem));
            start.route = Some(p.route);
            let addressed = match &call.addressed {
                Some(origin) => origin,
                None => &self.routing.routes[0].origin,
            };
            start.strip_credentials = *addressed != r.origin && !r.forward_credentials;
            if start.strip_credentials {
                self.routing.routes[p.route].credentials_stripped += 1;
            }
            self.routing.attempt_started(p.route, p.probe);
            match p.fallback {
                Some(reason) => {
                    call.served_by_fallback = true;
                    if self.wants(const { bit("fallback") }) {
                        let from = call
                            .failed_routes
                            .last()
                            .map(|i| self.routing.routes[*i].name.clone());
                        let ev = Event::Fallback(FallbackEvent {
                            reason,
                            route: self.routing.routes[p.route].name.clone(),
                            from,
                            method: String::from(&*call.meta.method),
                            url: self.shown_url(&call.meta),
                        });
                        self.events.push_back(ev);
                    }
                }
                None => call.served_by_fallback = false,
            }
        }
        if hedge {
            self.hedges.sent += 1;
            if self.wants(const { bit("hedge") }) {
                let name = |i: Option<usize>| i.map(|i| self.routing.routes[i].name.clone());
                let ev = Event::Hedge(HedgeEvent {
                    route: name(pick.map(|p| p.route)),
                    from: name(call.flights.first().and_then(|f| f.route)),
                    after_ms: call.hedge_after_ms,
                    method: String::from(&*call.meta.method),
                    url: self.shown_url(&call.meta),
                });
                self.events.push_back(ev);
            }
        } else if attempt > 1 {
            // Counted when sent, not when decided: a call aborted or out of time during its
            // backoff never sends the retry it was granted.
            self.metrics.retried(now);
            self.pressure.retry(now);
        }
        self.metrics.attempt_started();
        let timeout_at = self.cfg.timeout.attempt_ms.map(|t| now + t);
        if let Some(at) = timeout_at {
            self.timers.set(at, Timer::AttemptTimeout(id, attempt));
        }
        call.flights.push(Flight {
            id: attempt,
            route: pick.map(|p| p.route),
            probe: pick.is_some_and(|p| p.probe),
            hedge,
            start: now,
            holding,
            timeout_at,
        });
        self.actions.push_back(Action::Start(start));
        if !hedge {
            call.hedge_at = None;
            if let Some(after) = self.hedge_delay(call, now) {
                call.hedge_after_ms = after;
                call.hedge_at = Some(now + after);
                self.timers.set(now + after, Timer::Hedge(id));
            }
        }
    }

    /// The route for the call's next attempt.
    fn pick(&mut self, call: &mut Call, hedge: bool, now: f64) -> Pick {
        if hedge {
            let current = call.flights.first().and_then(|f| f.route).unwrap_or(0);
            let route = self.routing.pick_hedge(current, now, &mut self.rng);
            Pick {
                route,
                probe: false,
                fallback: None,
            }
        } else if call.attempts.is_empty() && call.flights.is_empty() {
            self.routing.pick_first(now, &mut self.rng)
        } else {
            let forced = call.forced_fallback.take();
            self.routing
                .pick_retry(&call.failed_routes, forced, now, &mut self.rng)
        }
    }

    /// When to hedge the call's only attempt in flight, if hedging applies to it.
    fn hedge_delay(&self, call: &Call, now: f64) -> Option<f64> {
        let h = self.cfg.hedge.as_ref()?;
        if call.eligible.is_err() || call.flights.len() != 1 {
            return None;
        }
        if let Some(ms) = h.after_ms {
            return Some(ms);
        }
        let q = h.percentile? / 100.0;
        let route = call.flights[0].route?;
        let (v, n) = self.routing.routes[route].latency_quantile(q, now);
        (n >= 20).then_some(v)
    }

    /// The hedge timer fired: sends a hedge if the attempt cap, the hedge budget and a free slot
    /// allow (hedges never queue).
    fn hedge(&mut self, id: TaskId, call: &mut Call, now: f64) -> bool {
        call.hedge_at = None;
        if call.flights.len() != 1 || call.used() >= self.cfg.retry.max_attempts as usize {
            return true;
        }
        let Some(hb) = &mut self.hedge_budget else {
            return true;
        };
        if !hb.withdraw(now) {
            self.hedges.budget_exhausted += 1;
            return true;
        }
        if self.limiter.try_acquire_now() {
            self.start(id, call, true, true, now);
        }
        true
    }

    /// Asks the executor to abort attempt `attempt` of `id`.
    fn abort_flight(&mut self, id: TaskId, attempt: u32, reason: AbortReason) {
        self.actions.push_back(Action::Abort {
            task: id,
            attempt,
            reason,
        });
    }

    /// Attempt `attempt` ended. Returns whether the call goes on.
    fn attempt_ended(
        &mut self,
        id: TaskId,
        call: &mut Call,
        attempt: u32,
        ended: Ended,
        now: f64,
    ) -> bool {
        let Some(flight) = call.flight(attempt) else {
            return true; // over already (timed out, lost, aborted): nothing to do
        };
        let hedge = flight.hedge;
        let status = match ended {
            Ended::Response { status, .. } => Some(status),
            _ => None,
        };
        let (outcome, retryable) = match &ended {
            Ended::Response { status, .. } => (
                AttemptOutcome::Response,
                self.cfg.retry.statuses.contains(status),
            ),
            Ended::Failed(_) => (AttemptOutcome::Error, true),
            Ended::Timeout => (AttemptOutcome::Timeout, true),
        };
        let verdict = match ended {
            // The route is not to blame for what the transport or the request did.
            Ended::Failed(Failure::InvalidRequest | Failure::PermissionDenied) => None,
            _ => Some(!retryable),
        };
        self.end_flight(call, attempt, outcome, status, verdict, now);
        self.eval_pressure(now);
        if let Ended::Failed(
            f @ (Failure::InvalidResponse | Failure::InvalidRequest | Failure::PermissionDenied),
        ) = ended
        {
            let reason = match f {
                Failure::InvalidResponse => GiveUpReason::InvalidResponse,
                _ => GiveUpReason::NotRetryable,
            };
            self.abort_all(id, call, AbortReason::CallEnded, now);
            self.give_up_event(call, reason);
            self.settle_failed(id, call, f.code(), reason, now);
            return false;
        }
        if !retryable {
            if hedge {
                self.hedges.won += 1;
            }
            if self.cfg.budget.deposit_on == DepositOn::Success {
                self.budget.deposit(now);
            }
            self.abort_all(id, call, AbortReason::HedgeLost, now);
            self.settle(id, call, Settlement::Response { attempt }, now);
            return false;
        }
        match self.next(call, &ended, now) {
            Next::Wait => true,
            Next::Retry(delay_ms) => {
                call.hedge_at = None;
                if delay_ms <= 0.0 {
                    return self.admit(id, call, now);
                }
                call.phase = Phase::Backoff(now + delay_ms);
                self.timers.set(now + delay_ms, Timer::Backoff(id));
                true
            }
            Next::GiveUp(reason) => {
                self.give_up_event(call, reason);
                match ended {
                    Ended::Response { .. } => {
                        self.settle(id, call, Settlement::Response { attempt }, now)
                    }
                    Ended::Timeout => {
                        self.settle_failed(id, call, ErrorCode::AttemptTimeout, reason, now)
                    }
                    Ended::Failed(f) => self.settle_failed(id, call, f.code(), reason, now),
                }
                false
            }
        }
    }

    /// After a retryable failure of the call's last attempt in flight: retry (and how soon), or
    /// give up. The order of checks is in the module docs.
    fn next(&mut self, call: &mut Call, ended: &Ended, now: f64) -> Next {
        if !call.flights.is_empty() {
            return Next::Wait;
        }
        if let Err(r) = call.eligible {
            return Next::GiveUp(r);
        }
        let n = call.attempts.len() as u32;
        if n >= self.cfg.retry.max_attempts {
            return Next::GiveUp(GiveUpReason::MaxAttempts);
        }
        let mut delay_ms = match ended {
            Ended::Response {
                status,
                retry_after_ms: Some(ra),
            } if retry_after::applies_to(*status) => ra.min(self.cfg.retry.max_retry_after_ms),
            _ => backoff::delay_ms(
                &self.cfg.retry.backoff,
                n - 1,
                call.prev_delay_ms,
                &mut self.rng,
            ),
        };
        let routed = call.remainder.is_some();
        if let Some(deadline) = call.deadline_ms {
            if now + delay_ms >= deadline {
                if !(routed && self.routing.has_fallback(now)) {
                    return Next::GiveUp(GiveUpReason::Deadline);
                }
                // A fallback is another origin: serve from it at once instead of waiting.
                call.forced_fallback = Some(FallbackReason::Deadline);
                delay_ms = 0.0;
            }
        }
        if call.forced_fallback.is_none() && !self.budget.withdraw(now) {
            if !(routed && self.routing.has_fallback(now)) {
                return Next::GiveUp(GiveUpReason::BudgetExhausted);
            }
            // The budget protects the primaries; the fallback is not the origin being spared.
            call.forced_fallback = Some(FallbackReason::BudgetExhausted);
            delay_ms = 0.0;
        }
        call.prev_delay_ms = delay_ms;
        if self.wants(const { bit("retry") }) {
            let reason = match ended {
                Ended::Response { status, .. } => RetryCause::Status(*status),
                Ended::Failed(_) => RetryCause::Network,
                Ended::Timeout => RetryCause::AttemptTimeout,
            };
            let ev = Event::Retry(RetryEvent {
                attempt: n + 1,
                delay_ms,
                reason,
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push_back(ev);
        }
        Next::Retry(delay_ms)
    }

    /// Ends attempt `attempt`: frees its slot, tells its route (`verdict`: Some(ok) for a real
    /// outcome, None for one that says nothing about the route), records it.
    fn end_flight(
        &mut self,
        call: &mut Call,
        attempt: u32,
        outcome: AttemptOutcome,
        status: Option<u16>,
        verdict: Option<bool>,
        now: f64,
    ) -> Option<Flight> {
        let pos = call.flights.iter().position(|f| f.id == attempt)?;
        let f = call.flights.remove(pos);
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
                        call.failed_routes.retain(|x| *x != r);
                        call.failed_routes.push(r);
                    }
                }
                None => self.routing.attempt_abandoned(r, f.probe),
            }
        }
        self.notices(notices);
        self.metrics.attempt_finished(sample, now);
        self.pressure.attempt(sample, now);
        let route = f.route.map(|r| self.routing.routes[r].name.clone());
        call.attempts.push(AttemptRecord {
            attempt: f.id,
            outcome,
            status,
            duration_ms,
            route,
        });
        if self.wants(const { bit("attempt") }) {
            let ev = Event::Attempt(AttemptEvent {
                attempt: f.id,
                outcome,
                status,
                duration_ms,
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push_back(ev);
        }
        Some(f)
    }

    /// Aborts every attempt still in flight (`reason` says why), recording each. A hedge's loser
    /// counts in its route's latency as the time it had waited (see `abandoned`).
    fn abort_all(&mut self, id: TaskId, call: &mut Call, reason: AbortReason, now: f64) {
        let outcome = match reason {
            AbortReason::Deadline | AbortReason::AttemptTimeout => AttemptOutcome::Timeout,
            _ => AttemptOutcome::Aborted,
        };
        while let Some(attempt) = call.flights.first().map(|f| f.id) {
            self.abort_flight(id, attempt, reason);
            let lost = self.end_flight(call, attempt, outcome, None, None, now);
            if reason == AbortReason::HedgeLost {
                self.abandoned(lost, now);
            }
        }
    }

    /// When the original lost to its hedge, its route records how long it had waited, a lower
    /// bound of its latency. Left out, the slow originals a hedge beats vanish from the route's
    /// latency window, its high quantiles drift down, and percentile hedging fires ever earlier
    /// until the hedge budget runs dry and the tail comes back.
    fn abandoned(&mut self, lost: Option<Flight>, now: f64) {
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

    /// Gives back a slot; the limiter hands free slots to queued calls (`grants` starts them).
    fn release_slot(&mut self, rtt_ms: Option<f64>, now: f64) {
        self.limiter.release(rtt_ms, now);
    }

    /// The call ends outside the normal flow (the caller aborted, the deadline ran out): aborts
    /// its attempts, frees its queue place, settles it. Returns false (the call is over).
    fn end(
        &mut self,
        id: TaskId,
        call: &mut Call,
        reason: GiveUpReason,
        settlement: Settlement,
        now: f64,
    ) -> bool {
        let abort = match reason {
            GiveUpReason::Deadline => AbortReason::Deadline,
            _ => AbortReason::CallerAbort,
        };
        self.abort_all(id, call, abort, now);
        self.give_up_event(call, reason);
        self.settle(id, call, settlement, now);
        false
    }

    fn give_up_event(&mut self, call: &Call, reason: GiveUpReason) {
        self.metrics.gave_up(reason.as_str());
        if self.wants(const { bit("giveup") }) {
            let ev = Event::GiveUp(GiveUpEvent {
                reason,
                attempts: call.attempts.len() as u32,
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push_back(ev);
        }
    }

    fn settle_failed(
        &mut self,
        id: TaskId,
        call: &mut Call,
        code: ErrorCode,
        reason: GiveUpReason,
        now: f64,
    ) {
        let n = call.attempts.len();
        let keep_query = !self.cfg.redact.query;
        let cause = call
            .last_error
            .as_deref()
            .filter(|_| code != ErrorCode::Shed)
            .map(|e| crate::core::redact::scrub_text(e, keep_query));
        let message = cat!(
            "ballast: ",
            &*call.meta.method,
            " ",
            self.shown_url(&call.meta),
            " failed after ",
            n,
            if n == 1 { " attempt (" } else { " attempts (" },
            code.as_str(),
            "; gave up: ",
            reason.as_str(),
            if cause.is_some() { "): " } else { ")" },
            cause.unwrap_or_default(),
        );
        let failed = Failed {
            code,
            reason,
            message,
            attempts: call.attempts.clone(),
        };
        self.settle(id, call, Settlement::Failed(Box::new(failed)), now);
    }

    /// The call is over: frees what it still holds, records it, and asks the executor to settle.
    fn settle(&mut self, id: TaskId, call: &mut Call, settlement: Settlement, now: f64) {
        if let Phase::Queued(_) = call.phase {
            if self.limiter.leave(id.to_bits(), now).is_none() {
                self.release_slot(None, now); // granted but never used: give it back
            }
        }
        if call.remainder.is_some() && !call.attempts.is_empty() {
            let mut notices = Vec::new();
            self.routing
                .task_finished(call.served_by_fallback, now, &mut notices);
            self.notices(notices);
        }
        self.metrics
            .task_finished((now - call.start_ms).max(0.0), now);
        self.actions.push_back(Action::Settle {
            task: id,
            settlement,
        });
    }

    fn notices(&mut self, notices: Vec<Notice>) {
        for n in notices {
            let ev = match n {
                Notice::Eject(e) => Event::Eject(e),
                Notice::Restore(e) => Event::Restore(e),
                Notice::FallbackDefault(e) => Event::FallbackDefault(e),
            };
            if self.wants(bit(ev.kind())) {
                self.events.push_back(ev);
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
                self.events.push_back(Event::Pressure(ev));
            }
        }
    }

    /// Whether anyone listens to the kind of `bit` (`events::bit`, a constant where the kind is
    /// a literal: `const { bit("retry") }`).
    fn wants(&self, bit: u32) -> bool {
        self.listening & bit != 0
    }

    /// The request's URL as events and messages show it (`core::redact`).
    pub fn shown_url(&self, meta: &RequestMeta) -> String {
        crate::core::redact::display_url(&meta.url, !self.cfg.redact.query)
    }

    // ---- reading ----------------------------------------------------------------------------

    /// Counters and windowed figures at `now`. Reads only: polling it changes nothing.
    pub fn snapshot(&self, now: f64) -> Snapshot {
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

    /// The attempts call `id` has made so far (for tests).
    pub fn attempts_of(&self, id: TaskId) -> Option<&[AttemptRecord]> {
        self.calls.get(id).map(|c| c.attempts.as_slice())
    }

    /// Heap bytes the engine holds (memory-bound tests).
    pub fn footprint(&self, now: f64) -> usize {
        self.metrics.footprint(now)
            + self.limiter.footprint()
            + self.calls.footprint()
            + self.timers.footprint()
            + self.actions.capacity() * core::mem::size_of::<Action>()
            + self.events.capacity() * core::mem::size_of::<Event>()
    }
}

impl ShedReason {
    fn give_up(self) -> GiveUpReason {
        match self {
            ShedReason::QueueFull => GiveUpReason::QueueFull,
            ShedReason::QueueTimeout => GiveUpReason::QueueTimeout,
        }
    }
}

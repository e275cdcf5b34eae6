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
//!    (`handle_response`), it failed without a response (`handle_failure`), the retry hooks
//!    answered a `Consult` (`handle_verdict`), the caller aborted (`handle_abort`), or the
//!    instant `poll_timeout` gave has come (`handle_timeout`). Inputs for a call or an attempt
//!    that is over are ignored.
//! 3. After every input: drain `poll_action` and carry each action out (start an attempt, abort
//!    one, settle a call), drain `poll_event` to the listeners, and arm the one timer at
//!    `poll_timeout`.
//!
//! `now` is monotonic milliseconds and must not go backwards; the wall clock (for an HTTP-date
//! `Retry-After`) is passed where it is needed. `snapshot(now)` only reads.
//!
//! The call's life is in three parts: `attempts.rs` (slots, routes, sending and ending attempts),
//! `decide.rs` (what happens after an attempt that failed) and `settle.rs` (how a call ends).

use crate::core::action::{
    AbortReason, Action, Cause, ErrorCode, Failed, Failure, Settlement, Start, Verdict,
};
use crate::core::adaptive::Gradient;
use crate::core::backoff;
use crate::core::budget::RetryBudget;
use crate::core::call::{
    take_attempts, AttemptOutcome, AttemptRecord, Attempts, Call, Flight, Flights, Phase,
};
use crate::core::config::{Config, DepositOn, LimitSetting};
use crate::core::counts::Counts;
use crate::core::events::{
    bit, AttemptEvent, CoordinatorEvent, Event, FallbackEvent, GiveUpEvent, HedgeEvent, RetryCause,
    RetryEvent, ShedEvent,
};
use crate::core::lease::{Change, Lease, LeaseRequest};
use crate::core::limiter::{Admit, Limiter, ShedReason};
use crate::core::metrics::{BudgetSnapshot, Extra, HedgeSnapshot, Metrics, Snapshot};
use crate::core::policy::{eligibility, GiveUpReason, RequestMeta};
use crate::core::pressure::{Inputs, Pressure, PressureSnapshot};
use crate::core::retry_after;
use crate::core::routing::{FallbackReason, Notice, Pick, Routing};
use crate::core::sketch::Sample;
use crate::core::tasks::{Slab, TaskId};
use crate::core::timers::{self, Timer, Timers};
use crate::core::url::origin_of;
use crate::prelude::*;

mod attempts;
mod decide;
mod routes;
mod settle;
mod state;

use crate::core::call::Ended;
use crate::core::fifo::Fifo;
use alloc::borrow::Cow;
use fastrand::Rng;

/// At most this many finished calls are kept for reuse, so the heap held for them is bounded
/// whatever the peak
/// concurrency was.
const MAX_SPARE: usize = 256;
/// Whether failed calls' reports given back (`Engine::reuse`) are reused. The simulator's
/// executor gives them back; the fetch path's does not, and its code stays without it.
const REUSES_REPORTS: bool = !cfg!(feature = "binding");
/// Whether the engine keeps the last settled call's latency sample (`last_task_sample`): the
/// simulator's series sketch the same latencies, and a sample's bucket costs a `ln`. The fetch
/// path has no use for it.
const KEEPS_TASK_SAMPLE: bool = !cfg!(feature = "binding");
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
    /// Boxed: a call is taken out of the slab and put back around every input (`with_call`),
    /// which then moves a pointer, not the call.
    calls: Slab<Box<Call>>,
    timers: Timers<{ timers::ENGINE_RUN }>,
    /// The pressure timer is set.
    pressure_timer: bool,
    actions: Fifo<Action>,
    events: Fifo<Event>,
    listening: u32,
    /// Attempts carry their URL (`set_urls`).
    urls: bool,
    /// The executor's retry hooks, asked before a call retries or gives up (`set_consult`).
    hooks: RetryHooks,
    /// Finished calls, emptied (`Call::recycle`): `begin` reuses their boxes and lists.
    #[allow(clippy::vec_box)] // the boxes are what is reused: the slab holds boxes
    spare: Vec<Box<Call>>,
    /// Failed calls' reports the executor gave back (`reuse`), emptied: a call that fails
    /// reuses one's box and list of attempts.
    #[allow(clippy::vec_box)] // the boxes are what is reused: a settlement holds a box
    spare_failed: Vec<Box<Failed>>,
    /// Shared mode: retries are leased from a coordinator (`set_shared`, `core::lease`).
    lease: Option<Lease>,
    /// The last attempt's duration with its sketch bucket (`Sample`): a call's latency is often
    /// the same number, whose bucket is then not worked out again.
    last_sample: Option<Sample>,
    /// The last settled call's latency with its bucket (`KEEPS_TASK_SAMPLE`).
    last_task_sample: Option<Sample>,
    /// What it shares with other clients of its config (`state.rs`).
    shared: state::Shared,
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
            actions: Fifo::default(),
            events: Fifo::default(),
            listening: 0,
            urls: true,
            hooks: RetryHooks::default(),
            spare: Vec::new(),
            spare_failed: Vec::new(),
            lease: None,
            last_sample: None,
            last_task_sample: None,
            shared: state::Shared::new(seed),
            cfg,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The config, to walk its canonical form in place (`config::canonical::walk` changes
    /// nothing; the wasm binding reaches the schema's slots through it without a copy).
    #[cfg_attr(
        not(all(target_arch = "wasm32", feature = "binding")),
        allow(dead_code)
    )]
    pub(crate) fn config_mut(&mut self) -> &mut Config {
        &mut self.cfg
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::with_seed(seed);
    }

    /// Which event kinds to queue (bit i = `events::KINDS[i]`); others are never built.
    pub fn set_listening(&mut self, mask: u32) {
        self.listening = mask;
    }

    /// Whether a routed attempt's `Start` carries its URL (on by default). An executor that sends
    /// nothing anywhere (the simulator, whose origins are models of routes) turns it off: the
    /// route index says where an attempt goes, and no URL is built for it. Nothing else changes.
    pub fn set_urls(&mut self, on: bool) {
        self.urls = on;
    }

    /// Which retry hooks the executor has: with any, a call whose attempt failed and which could
    /// retry waits for them (`Action::Consult`, answered by `handle_verdict`); with
    /// `should_retry`, also on any status from 400 up, which the hook may retry.
    pub fn set_consult(&mut self, hooks: RetryHooks) {
        self.hooks = hooks;
    }

    /// Shared mode (`core::lease`): retries spend tokens leased from a coordinator, which the
    /// executor asks when `wants_lease` says so (`poll_lease`, answered by `handle_lease`).
    /// Off by default; nothing changes without it. False in a build without shared mode (the
    /// `server` feature), which stays local.
    pub fn set_shared(&mut self) -> bool {
        #[cfg(feature = "server")]
        if self.lease.is_none() {
            let b = &self.cfg.budget;
            self.lease = Some(Lease::new(b.ratio, b.min_per_sec, b.ttl_ms));
        }
        cfg!(feature = "server")
    }

    /// Whether a lease request waits to be sent (`poll_lease`).
    pub fn wants_lease(&self) -> bool {
        self.lease.as_ref().is_some_and(Lease::wants)
    }

    /// The lease request to send the coordinator now, if one is wanted; its answer is
    /// `handle_lease`, which the engine stops waiting for after `lease::TIMEOUT_MS`.
    pub fn poll_lease(&mut self, now: f64) -> Option<LeaseRequest> {
        let (r, until) = self.lease.as_mut()?.poll(now)?;
        self.timers.set(until, Timer::Lease);
        Some(r)
    }

    /// The coordinator answered lease request `id`: `Some((granted, ttl_ms))`, or `None` when it
    /// failed. An answer past the timeout is ignored.
    pub fn handle_lease(&mut self, id: u32, answer: Option<(u32, f64)>, now: f64) {
        let change = match &mut self.lease {
            Some(l) => l.answer(id, answer, now),
            None => return,
        };
        self.lease_changed(change);
    }

    fn lease_changed(&mut self, change: Option<Change>) {
        if let Some(at) = self.lease.as_ref().and_then(Lease::timer) {
            self.timers.set(at, Timer::Lease);
        }
        if let Some((mode, reason)) = change {
            if self.wants(const { bit("coordinator") }) {
                self.events.push(Event::Coordinator(CoordinatorEvent {
                    state: mode.as_str(),
                    reason,
                }));
            }
        }
    }

    /// A deposit into the retry budget (and, shared, reported to the coordinator).
    fn deposit(&mut self, now: f64) {
        self.budget.deposit(now);
        if let Some(l) = &mut self.lease {
            l.deposit(now);
        }
    }

    /// One retry from the budget, or (shared) a leased token. A leased one is charged to the
    /// client's own budget too, which then never refuses but still feeds the pressure signal's
    /// budget drain (otherwise blind in shared mode: nothing would be withdrawn from it).
    fn withdraw(&mut self, now: f64) -> bool {
        match &mut self.lease {
            Some(l) => {
                let granted = l.withdraw(now);
                if granted {
                    self.budget.charge(now);
                }
                granted
            }
            None => self.budget.withdraw(now),
        }
    }

    /// The last settled call's latency (from `begin` to its settling) with its sketch bucket, in
    /// builds without the binding (`None` in the fetch path's): what an executor that sketches
    /// latencies too reuses instead of working the bucket out again (checking the value).
    pub fn last_task_sample(&self) -> Option<Sample> {
        self.last_task_sample
    }

    /// Calls in progress.
    pub fn active(&self) -> usize {
        self.calls.len()
    }

    /// The next thing to do, in the order decided.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop()
    }

    /// Gives back a settlement the executor is done with (`poll_action`'s `Settle`), so that a
    /// later failed call reuses what its report allocated. Optional: one that is dropped instead
    /// costs the next report its allocations, nothing else.
    pub fn reuse(&mut self, settlement: Settlement) {
        if let Settlement::Failed(mut f) = settlement {
            if REUSES_REPORTS && self.spare_failed.len() < MAX_SPARE {
                f.attempts.clear();
                f.cause = None;
                f.method = Cow::Borrowed("");
                f.url = Cow::Borrowed("");
                self.spare_failed.push(f);
            }
        }
    }

    /// The next event for listeners.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
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

    /// A call begins: it deposits into the budgets, its deadline starts running, and its first
    /// attempt is started or queued (or the call is shed).
    pub fn begin(&mut self, meta: RequestMeta, now: f64) -> TaskId {
        if self.cfg.budget.deposit_on == DepositOn::Task {
            self.deposit(now);
        }
        if let Some(h) = &mut self.hedge_budget {
            h.deposit(now);
        }
        self.metrics.task_started(now);
        self.pressure.task(now);
        let remainder = self.routing.remainder_of(&meta.url);
        if remainder.is_some() {
            self.routing.task_started(now);
        }
        let eligible = eligibility(&self.cfg.retry, &meta);
        let addressed = if remainder.is_some() {
            origin_of(&meta.url)
        } else {
            None
        };
        let deadline = self.cfg.timeout.total_ms.map(|t| now + t);
        let call = match self.spare.pop() {
            // Set in place: a finished call's box is not rebuilt and copied over.
            Some(mut c) => {
                c.renew(meta, now, deadline, eligible, remainder, addressed);
                c
            }
            None => Box::new(Call {
                eligible,
                addressed,
                meta,
                start_ms: now,
                deadline_ms: deadline,
                phase: Phase::Attempts,
                prev_delay_ms: 0.0,
                attempts: Attempts::default(),
                next_id: 1,
                flights: Flights::default(),
                remainder,
                failed_routes: Vec::new(),
                forced_fallback: None,
                served_by_fallback: false,
                hedge_at: None,
                hedge_after_ms: 0.0,
                last_error: None,
                consult: None,
            }),
        };
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
    /// header's value as received (an executor may leave it out below 400: nothing retries those).
    /// `wall_ms` is the wall clock, for an HTTP-date `Retry-After`.
    pub fn handle_response(
        &mut self,
        task: TaskId,
        attempt: u32,
        status: u16,
        retry_after: Option<&str>,
        now: f64,
        wall_ms: f64,
    ) {
        let wait = retry_after.map(|v| (0, v));
        self.handle_response_waiting(task, attempt, status, wait, now, wall_ms)
    }

    /// `handle_response` with the header that says how long to wait, whichever it is:
    /// `retry_after::WAIT_HEADERS[kind]` and its value (the first of them the response has).
    pub fn handle_response_waiting(
        &mut self,
        task: TaskId,
        attempt: u32,
        status: u16,
        wait: Option<(usize, &str)>,
        now: f64,
        wall_ms: f64,
    ) {
        let (retry_after_ms, wait_header) =
            match wait.and_then(|(k, v)| Some((retry_after::parse_header(k, v, wall_ms)?, k))) {
                Some((ms, k)) => (Some(ms), retry_after::WAIT_HEADERS.get(k).copied()),
                None => (None, None),
            };
        let ended = Ended::Response {
            status,
            retry_after_ms,
            wait_header,
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
                call.last_error = Some(Cause::Host(detail.to_string()));
            }
            e.attempt_ended(id, call, attempt, Ended::Failed(failure), now)
        });
    }

    /// The retry hooks answered about attempt `attempt` of `task` (`Action::Consult`). Ignored for
    /// a call that is over, or that waits for no answer about that attempt.
    pub fn handle_verdict(&mut self, task: TaskId, attempt: u32, verdict: Verdict, now: f64) {
        self.with_call(task, now, |e, id, call| {
            e.verdict(id, call, attempt, verdict, now)
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
            if self.wanted(at, timer) {
                self.fire(timer, now);
            }
        }
        self.compact_timers();
    }

    /// The earliest instant at which call `task` wants to be woken (its deadline, an attempt's
    /// timeout, the end of its backoff, its hedge, its queue timeout), or the client's lease
    /// timer if that is earlier. For an executor whose timers belong to the call that set them
    /// (a Worker's request context: a timer set for one request never fires once that request
    /// is over), which keeps one timer per call at this instant and answers it with
    /// `handle_timeout_of`. `None` once the call is over.
    pub fn poll_timeout_of(&self, task: TaskId) -> Option<f64> {
        let lease = self.lease.as_ref().and_then(Lease::timer);
        let own = self.next_timer_of(task).map(|(at, _)| at);
        match (own, lease) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What `handle_timeout` does, for call `task`'s timers only (and the client's lease timer):
    /// the other calls' timers wait for their own wake-up, in their own context. Their entries
    /// in the queue go stale as the call moves on and are dropped as `handle_timeout` drops any.
    pub fn handle_timeout_of(&mut self, task: TaskId, now: f64) {
        let mut last = None;
        while let Some((at, timer)) = self.next_timer_of(task) {
            // Each timer carried out moves the call on (or ends it); one that would not is not
            // carried out twice.
            if at > now || last == Some((at, timer)) {
                break;
            }
            last = Some((at, timer));
            self.fire(timer, now);
        }
        if self
            .lease
            .as_ref()
            .and_then(Lease::timer)
            .is_some_and(|at| at <= now)
        {
            self.fire(Timer::Lease, now);
        }
        self.eval_pressure(now);
    }

    /// Call `task`'s earliest live timer, read off the call itself (what `wanted` checks).
    fn next_timer_of(&self, id: TaskId) -> Option<(f64, Timer)> {
        let call = self.calls.get(id)?;
        let mut next: Option<(f64, Timer)> = None;
        let mut consider = |at: Option<f64>, timer: Timer| {
            if let Some(at) = at {
                if next.is_none_or(|(n, _)| at < n) {
                    next = Some((at, timer));
                }
            }
        };
        consider(call.deadline_ms, Timer::Deadline(id));
        for f in call.flights.iter() {
            consider(f.timeout_at, Timer::AttemptTimeout(id, f.id));
        }
        match call.phase {
            Phase::Backoff(at) => consider(Some(at), Timer::Backoff(id)),
            Phase::Queued(since) => consider(
                Some(since + self.cfg.concurrency.queue_timeout_ms),
                Timer::QueueTimeout(id),
            ),
            _ => {}
        }
        consider(call.hedge_at, Timer::Hedge(id));
        next
    }

    /// Carries out a live timer that is due.
    fn fire(&mut self, timer: Timer, now: f64) {
        {
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
                    call.last_error = Some(Cause::AttemptTimeout(
                        e.cfg.timeout.attempt_ms.unwrap_or(0.0),
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
                Timer::Lease => {
                    let change = self.lease.as_mut().and_then(|l| l.timeout(now));
                    self.lease_changed(change);
                }
            }
        }
    }

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
                call.recycle();
                self.spare.push(call);
            }
        }
        self.grants(now);
    }

    /// Whether a timer set for `at` still stands.
    fn wanted(&self, at: f64, timer: Timer) -> bool {
        let call = |id| self.calls.get(id);
        match timer {
            Timer::Pressure => true,
            Timer::Lease => self.lease.as_ref().and_then(Lease::timer) == Some(at),
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

    fn notices(&mut self, notices: Vec<Notice>) {
        if notices.is_empty() {
            return;
        }
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

    /// Evaluates the pressure signal if a second has passed since it last was (the check is
    /// inlined: it is made after every attempt, and is mostly false).
    #[inline]
    fn eval_pressure(&mut self, now: f64) {
        if self.pressure.due(now) {
            self.evaluate_pressure(now);
        }
    }

    fn evaluate_pressure(&mut self, now: f64) {
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

    /// Whether anyone listens to the kind of `bit` (`events::bit`, a constant where the kind is
    /// a literal: `const { bit("retry") }`).
    fn wants(&self, bit: u32) -> bool {
        self.listening & bit != 0
    }

    /// The request's URL as events and messages show it (`core::redact`).
    pub fn shown_url(&self, meta: &RequestMeta) -> String {
        crate::core::redact::display_url(&meta.url, !self.cfg.redact.query)
    }

    /// Counters and windowed figures at `now`. Reads only: polling it changes nothing.
    pub fn snapshot(&self, now: f64) -> Snapshot {
        let extra = Extra {
            budget: match &self.lease {
                None => BudgetSnapshot {
                    balance: self.budget.balance(now),
                    exhausted: self.budget.exhausted(),
                    reserve: self.budget.reserve_retries(),
                    mode: "local",
                    leased: 0,
                },
                Some(l) => BudgetSnapshot {
                    balance: l.balance(now),
                    exhausted: l.exhausted(),
                    reserve: self.budget.reserve_retries(),
                    mode: l.mode().as_str(),
                    leased: l.leased(now),
                },
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

    /// What a view that samples the engine often reads (the simulator's series, every second):
    /// figures of `snapshot(now)`, equal to its own, without the cost of the rest of it (the
    /// latency windows merged, each route's latency quantiles). Reads only.
    pub fn gauges(&self, now: f64) -> Gauges<'_> {
        let (queue_wait_count, queue_wait_p99) = self.metrics.queue_wait_p99(now);
        Gauges {
            shed: self.metrics.shed_total(),
            fallbacks: self.routing.fallback_by_reason(),
            queue_wait_count,
            queue_wait_p99,
            in_flight: self.limiter.in_flight(),
            queued: self.limiter.queued() as u32,
            budget: self.budget.balance(now),
            pressure: self.pressure.snapshot(),
            routes: self.routing.route_gauges(now).collect(),
        }
    }

    /// The attempts call `id` has made so far (for tests).
    pub fn attempts_of(&self, id: TaskId) -> Option<Vec<AttemptRecord>> {
        self.calls.get(id).map(|c| c.attempts.to_vec())
    }

    /// Heap bytes the engine holds (memory-bound tests).
    pub fn footprint(&self, now: f64) -> usize {
        self.metrics.footprint(now)
            + self.limiter.footprint()
            + self.calls.footprint()
            + (self.calls.len() + self.spare.len()) * core::mem::size_of::<Call>()
            + self.timers.footprint()
            + self.actions.footprint()
            + self.events.footprint()
    }
}

/// The retry hooks an executor has (`Engine::set_consult`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetryHooks {
    /// `retry.shouldRetry`: decides whether to retry.
    pub should_retry: bool,
    /// `retry.delay`: decides how long to wait before a retry.
    pub delay: bool,
}

impl RetryHooks {
    pub fn any(self) -> bool {
        self.should_retry || self.delay
    }
}

/// Figures of a snapshot (`Engine::gauges`), named as there.
pub struct Gauges<'a> {
    /// `shed.total`.
    pub shed: u64,
    /// `fallback.by_reason`.
    pub fallbacks: &'a Counts,
    /// `queue_wait.count` and `queue_wait.p99`.
    pub queue_wait_count: u64,
    pub queue_wait_p99: f64,
    pub in_flight: u32,
    pub queued: u32,
    /// `budget.balance`.
    pub budget: u64,
    pub pressure: &'a PressureSnapshot,
    /// `routes[i]`'s `name`, `state` and `score`.
    pub routes: Vec<(&'a str, &'static str, f64)>,
}

impl ShedReason {
    fn give_up(self) -> GiveUpReason {
        match self {
            ShedReason::QueueFull => GiveUpReason::QueueFull,
            ShedReason::QueueTimeout => GiveUpReason::QueueTimeout,
        }
    }
}

//! The engine: one client's shared state (budget, RNG, metrics) and the per-task state machine.
//!
//! Sans-IO, in the manner of quinn-proto: the engine never performs I/O, reads a clock or draws
//! entropy. The driver tells it what happened (`begin`, `attempt_started`, `attempt_finished`,
//! `cancel`, `finish`) with the current time, and it answers with a `Decision` and queues
//! `Event`s for the driver to deliver. The same engine runs under the wasm driver in every JS
//! runtime and under the simulator in virtual time, so what the simulator shows is what ships.
//!
//! Every attempt (first attempts and retries) asks the limiter for a slot with `admit` and gives it
//! back when it ends; a queued attempt waits for a grant (`take_granted`) or its queue timeout.
//!
//! Order of checks for a failed attempt, cheapest and most certain first, and the budget last so
//! that a task which would give up anyway never spends a token:
//! status not retryable -> done; method or body not replayable; attempts used up; the wait (backoff,
//! or Retry-After on 429/503, clamped) would pass the deadline; the budget is empty.

use crate::core::adaptive::Gradient;
use crate::core::backoff;
use crate::core::budget::RetryBudget;
use crate::core::config::{Config, LimitSetting};
use crate::core::events::{bit, AttemptEvent, Event, GiveUpEvent, RetryEvent, ShedEvent};
use crate::core::limiter::{Admit, Limiter, ShedReason, Ticket};
use crate::core::metrics::{BudgetSnapshot, Extra, Metrics, Snapshot};
use crate::core::policy::{eligibility, GiveUpReason, RequestMeta};
use crate::core::pressure::{Inputs, Pressure};
use crate::core::retry_after;
use fastrand::Rng;
use serde::Serialize;

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
    Done,
    /// Sleep this long, then make the next attempt.
    Retry { delay_ms: f64 },
    /// Settle with this attempt's result; no more attempts.
    GiveUp(GiveUpReason),
}

/// One attempt of a task, as reported in `BallastError.attempts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: f64,
}

/// Per-task state. Owned by the driver, passed back to the engine on every call.
#[derive(Debug, Clone)]
pub struct Task {
    meta: RequestMeta,
    start_ms: f64,
    deadline_ms: Option<f64>,
    eligible: Result<(), GiveUpReason>,
    attempt_start_ms: Option<f64>,
    prev_delay_ms: f64,
    attempts: Vec<AttemptRecord>,
    /// Holds a concurrency slot (between `admit`/grant and the end of the attempt).
    holding: bool,
    /// Waiting in the concurrency queue.
    ticket: Option<Ticket>,
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
    /// The queue ticket this task waits on, if it is queued.
    pub fn ticket(&self) -> Option<Ticket> {
        self.ticket
    }
}

pub struct Engine {
    cfg: Config,
    budget: RetryBudget,
    rng: Rng,
    metrics: Metrics,
    limiter: Limiter,
    pressure: Pressure,
    events: Vec<Event>,
    listening: u32,
    granted: Vec<Ticket>,
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
            Some(LimitSetting::Adaptive(_)) => Limiter::adaptive(Gradient::default(), queue),
        };
        let p = &cfg.pressure;
        Engine {
            budget: RetryBudget::new(b.ratio, b.min_per_sec, b.ttl_ms),
            rng: Rng::with_seed(seed),
            metrics: Metrics::default(),
            limiter,
            pressure: Pressure::new(p.warn, p.critical, p.hysteresis),
            events: Vec::new(),
            listening: 0,
            granted: Vec::new(),
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

    fn wants(&self, kind: &str) -> bool {
        self.listening & bit(kind) != 0
    }

    /// A task starts: it deposits into the budget and its deadline starts running.
    pub fn begin(&mut self, meta: RequestMeta, now: f64) -> Task {
        self.budget.deposit(now);
        self.metrics.task_started(now);
        self.pressure.task(now);
        Task {
            holding: false,
            ticket: None,
            eligible: eligibility(&self.cfg.retry, &meta),
            meta,
            start_ms: now,
            deadline_ms: self.cfg.timeout.total_ms.map(|t| now + t),
            attempt_start_ms: None,
            prev_delay_ms: 0.0,
            attempts: Vec::new(),
        }
    }

    /// Asks for a concurrency slot for the next attempt. On `Queued`, wait for the ticket to
    /// show up in `take_granted` (then call `attempt_started`) or call `queue_timeout`. On `Shed`
    /// the task is over: it has given up with `QueueFull`.
    pub fn admit(&mut self, task: &mut Task, now: f64) -> Admit {
        let admit = self.limiter.acquire(now);
        match admit {
            Admit::Now => task.holding = true,
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
        if self.wants("shed") {
            self.events.push(Event::Shed(ShedEvent {
                reason: reason.as_str(),
                attempt: task.attempts.len() as u32 + 1,
                waited_ms,
                queued: self.limiter.queued() as u32,
                in_flight: self.limiter.in_flight(),
                limit: self.limiter.limit(),
                method: task.meta.method.clone(),
                url: task.meta.url.clone(),
            }));
        }
        let r = match reason {
            ShedReason::QueueFull => GiveUpReason::QueueFull,
            ShedReason::QueueTimeout => GiveUpReason::QueueTimeout,
        };
        self.give_up(task, r);
    }

    /// The attempt is sent now (after `admit` returned `Now`, or its ticket was granted).
    pub fn attempt_started(&mut self, task: &mut Task, now: f64) {
        if task.ticket.take().is_some() {
            task.holding = true;
        }
        self.metrics.attempt_started();
        task.attempt_start_ms = Some(now);
    }

    /// Gives back the task's slot (or its place in the queue) and hands free slots on.
    fn release(&mut self, task: &mut Task, rtt_ms: Option<f64>, now: f64) {
        if let Some(t) = task.ticket.take() {
            if self.limiter.leave(t, now).is_none() {
                task.holding = true; // granted but never used: give it back below
            }
        }
        if std::mem::take(&mut task.holding) {
            self.limiter.release(rtt_ms, now);
            for (t, waited) in self.limiter.take_granted() {
                self.metrics.queue_wait(waited, now);
                self.pressure.queue_wait(waited, now);
                self.granted.push(t);
            }
        }
    }

    /// Tickets granted a slot since the last call: wake those tasks.
    pub fn take_granted(&mut self) -> Vec<Ticket> {
        std::mem::take(&mut self.granted)
    }

    fn record_attempt(
        &mut self,
        task: &mut Task,
        kind: &'static str,
        status: Option<u16>,
        now: f64,
    ) {
        let Some(start) = task.attempt_start_ms.take() else {
            self.release(task, None, now);
            return;
        };
        let duration_ms = (now - start).max(0.0);
        self.release(task, Some(duration_ms), now);
        self.metrics.attempt_finished(duration_ms, now);
        self.pressure.attempt(duration_ms, now);
        task.attempts.push(AttemptRecord {
            outcome: kind,
            status,
            duration_ms,
        });
        if self.wants("attempt") {
            self.events.push(Event::Attempt(AttemptEvent {
                attempt: task.attempts.len() as u32,
                outcome: kind,
                status,
                duration_ms,
                method: task.meta.method.clone(),
                url: task.meta.url.clone(),
            }));
        }
    }

    fn eval_pressure(&mut self, now: f64) {
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
            if self.wants("pressure") {
                self.events.push(Event::Pressure(ev));
            }
        }
    }

    /// An attempt ended; decides what happens next.
    pub fn attempt_finished(&mut self, task: &mut Task, outcome: Outcome, now: f64) -> Decision {
        let status = match outcome {
            Outcome::Response { status, .. } => Some(status),
            _ => None,
        };
        self.record_attempt(task, outcome.kind(), status, now);
        self.eval_pressure(now);
        let reason = match &outcome {
            Outcome::Response { status, .. } if !self.cfg.retry.statuses.contains(status) => {
                return Decision::Done
            }
            Outcome::Response { status, .. } => format!("status-{status}"),
            Outcome::NetworkError => "network".to_string(),
            Outcome::Timeout => "attempt-timeout".to_string(),
        };
        if let Err(r) = task.eligible {
            return self.give_up(task, r);
        }
        let n = task.attempts.len() as u32;
        if n >= self.cfg.retry.max_attempts {
            return self.give_up(task, GiveUpReason::MaxAttempts);
        }
        let delay_ms = match outcome {
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
        if let Some(deadline) = task.deadline_ms {
            if now + delay_ms >= deadline {
                return self.give_up(task, GiveUpReason::Deadline);
            }
        }
        if !self.budget.withdraw(now) {
            return self.give_up(task, GiveUpReason::BudgetExhausted);
        }
        task.prev_delay_ms = delay_ms;
        self.metrics.retried(now);
        self.pressure.retry(now);
        if self.wants("retry") {
            self.events.push(Event::Retry(RetryEvent {
                attempt: n + 1,
                delay_ms,
                reason,
                method: task.meta.method.clone(),
                url: task.meta.url.clone(),
            }));
        }
        Decision::Retry { delay_ms }
    }

    fn give_up(&mut self, task: &Task, reason: GiveUpReason) -> Decision {
        self.metrics.gave_up(reason.as_str());
        if self.wants("giveup") {
            self.events.push(Event::GiveUp(GiveUpEvent {
                reason: reason.as_str(),
                attempts: task.attempts.len() as u32,
                method: task.meta.method.clone(),
                url: task.meta.url.clone(),
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
        self.record_attempt(task, kind, None, now);
        self.give_up(task, reason);
    }

    /// The task settled (whatever the result); records its latency. Frees anything it still holds.
    pub fn finish(&mut self, task: &mut Task, now: f64) {
        self.release(task, None, now);
        self.metrics
            .task_finished((now - task.start_ms).max(0.0), now);
    }

    /// Events queued since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
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
        };
        self.metrics.snapshot(now, extra)
    }

    /// Heap bytes the engine holds, apart from tasks the driver owns (memory-bound tests).
    pub fn footprint(&mut self, now: f64) -> usize {
        self.metrics.footprint(now)
            + self.limiter.footprint()
            + self.events.capacity() * std::mem::size_of::<Event>()
            + self.granted.capacity() * 8
    }
}

//! The engine: one client's shared state (budget, RNG, metrics) and the per-task state machine.
//!
//! Sans-IO, in the manner of quinn-proto: the engine never performs I/O, reads a clock or draws
//! entropy. The driver tells it what happened (`begin`, `attempt_started`, `attempt_finished`,
//! `cancel`, `finish`) with the current time, and it answers with a `Decision` and queues
//! `Event`s for the driver to deliver. The same engine runs under the wasm driver in every JS
//! runtime and under the simulator in virtual time, so what the simulator shows is what ships.
//!
//! Order of checks for a failed attempt, cheapest and most certain first, and the budget last so
//! that a task which would give up anyway never spends a token:
//! status not retryable -> done; method or body not replayable; attempts used up; the wait (backoff,
//! or Retry-After on 429/503, clamped) would pass the deadline; the budget is empty.

use crate::core::backoff;
use crate::core::budget::RetryBudget;
use crate::core::config::Config;
use crate::core::metrics::{BudgetSnapshot, Metrics, Snapshot};
use crate::core::policy::{eligibility, GiveUpReason, RequestMeta};
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

/// Events for listeners. The field names are part of the JS contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryEvent {
    /// Number of the attempt about to start (2 for the first retry).
    pub attempt: u32,
    pub delay_ms: f64,
    pub reason: String,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GiveUpEvent {
    pub reason: &'static str,
    pub attempts: u32,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Retry(RetryEvent),
    GiveUp(GiveUpEvent),
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Retry(_) => "retry",
            Event::GiveUp(_) => "giveup",
        }
    }
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
    events: Vec<Event>,
}

impl Engine {
    /// `cfg` must come from `Config::validated`.
    pub fn new(cfg: Config, seed: u64) -> Self {
        let b = &cfg.budget;
        Engine {
            budget: RetryBudget::new(b.ratio, b.min_per_sec, b.ttl_ms),
            rng: Rng::with_seed(seed),
            metrics: Metrics::default(),
            events: Vec::new(),
            cfg,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::with_seed(seed);
    }

    /// A task starts: it deposits into the budget and its deadline starts running.
    pub fn begin(&mut self, meta: RequestMeta, now: f64) -> Task {
        self.budget.deposit(now);
        self.metrics.task_started(now);
        Task {
            eligible: eligibility(&self.cfg.retry, &meta),
            meta,
            start_ms: now,
            deadline_ms: self.cfg.timeout.total_ms.map(|t| now + t),
            attempt_start_ms: None,
            prev_delay_ms: 0.0,
            attempts: Vec::new(),
        }
    }

    pub fn attempt_started(&mut self, task: &mut Task, now: f64) {
        self.metrics.attempt_started();
        task.attempt_start_ms = Some(now);
    }

    fn record_attempt(
        &mut self,
        task: &mut Task,
        kind: &'static str,
        status: Option<u16>,
        now: f64,
    ) {
        if let Some(start) = task.attempt_start_ms.take() {
            let duration_ms = (now - start).max(0.0);
            self.metrics.attempt_finished(duration_ms, now);
            task.attempts.push(AttemptRecord {
                outcome: kind,
                status,
                duration_ms,
            });
        }
    }

    /// An attempt ended; decides what happens next.
    pub fn attempt_finished(&mut self, task: &mut Task, outcome: Outcome, now: f64) -> Decision {
        let status = match outcome {
            Outcome::Response { status, .. } => Some(status),
            _ => None,
        };
        self.record_attempt(task, outcome.kind(), status, now);
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
        self.events.push(Event::Retry(RetryEvent {
            attempt: n + 1,
            delay_ms,
            reason,
            method: task.meta.method.clone(),
            url: task.meta.url.clone(),
        }));
        Decision::Retry { delay_ms }
    }

    fn give_up(&mut self, task: &Task, reason: GiveUpReason) -> Decision {
        self.metrics.gave_up(reason.as_str());
        self.events.push(Event::GiveUp(GiveUpEvent {
            reason: reason.as_str(),
            attempts: task.attempts.len() as u32,
            method: task.meta.method.clone(),
            url: task.meta.url.clone(),
        }));
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

    /// The task settled (whatever the result); records its latency.
    pub fn finish(&mut self, task: &Task, now: f64) {
        self.metrics
            .task_finished((now - task.start_ms).max(0.0), now);
    }

    /// Events queued since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    pub fn snapshot(&mut self, now: f64) -> Snapshot {
        let budget = BudgetSnapshot {
            balance: self.budget.balance(now),
            exhausted: self.budget.exhausted(),
            reserve: self.budget.reserve_retries(),
        };
        self.metrics.snapshot(now, budget)
    }
}

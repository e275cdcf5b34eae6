//! One call of the wrapped fetch: the attempt loop that carries out the engine's decisions.
//!
//! Every wait races against the caller's signal and the task deadline, so an abort or the deadline
//! ends the call promptly even mid-sleep or in the queue. Each attempt has its own
//! `AbortController` (a fresh attempt timeout, unlike ofetch's known bug of retrying under an
//! already-aborted signal). Up to two attempts fly at once (the original and a hedge); the first
//! good response wins and the other is aborted. Timers and listeners live in `Sleep` /
//! `AbortWait` values that clean up when dropped, so nothing outlives the call.

use super::js;
use super::timer::{poll_opt, AbortWait, Sleep};
use super::Inner;
use crate::core::config::fmt_num;
use crate::core::{Admit, BodyKind, Decision, GiveUpReason, Outcome, Plan, RequestMeta, Task};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// One attempt in flight.
struct Flight {
    id: u32,
    fut: JsFuture,
    controller: JsValue,
    timer: Option<Sleep>,
}

enum Wake {
    /// Flight `i` settled.
    Settled(usize, Result<JsValue, JsValue>),
    /// Flight `i` hit `timeout.attemptMs`.
    AttemptTimeout(usize),
    Hedge,
    Abort,
    Deadline,
}

/// Waits for any flight, its timer, the hedge timer, the caller's abort or the deadline.
async fn wait_flights(
    flights: &mut [Flight],
    hedge: &mut Option<Sleep>,
    abort: &mut AbortWait,
    deadline: &mut Option<Sleep>,
) -> Wake {
    poll_fn(|cx| {
        for (i, f) in flights.iter_mut().enumerate() {
            if let Poll::Ready(r) = Pin::new(&mut f.fut).poll(cx) {
                return Poll::Ready(Wake::Settled(i, r));
            }
        }
        if Pin::new(&mut *abort).poll(cx).is_ready() {
            return Poll::Ready(Wake::Abort);
        }
        if poll_opt(deadline, cx).is_ready() {
            return Poll::Ready(Wake::Deadline);
        }
        for (i, f) in flights.iter_mut().enumerate() {
            if poll_opt(&mut f.timer, cx).is_ready() {
                return Poll::Ready(Wake::AttemptTimeout(i));
            }
        }
        if poll_opt(hedge, cx).is_ready() {
            return Poll::Ready(Wake::Hedge);
        }
        Poll::Pending
    })
    .await
}

/// Waits for `op`, the abort or the deadline: `Ok(output of op)`, or `Err(aborted)` where
/// `aborted` is false for the deadline.
async fn wait_or_stop<F: Future + Unpin>(
    op: &mut F,
    abort: &mut AbortWait,
    deadline: &mut Option<Sleep>,
) -> Result<F::Output, bool> {
    poll_fn(|cx| {
        if let Poll::Ready(out) = Pin::new(&mut *op).poll(cx) {
            return Poll::Ready(Ok(out));
        }
        if Pin::new(&mut *abort).poll(cx).is_ready() {
            return Poll::Ready(Err(true));
        }
        if poll_opt(deadline, cx).is_ready() {
            return Poll::Ready(Err(false));
        }
        Poll::Pending
    })
    .await
}

/// What a call needs besides the engine: its input, signals and timers.
struct Call {
    inner: Rc<Inner>,
    input: JsValue,
    init: JsValue,
    is_request: bool,
    signal: Option<JsValue>,
    attempt_ms: Option<f64>,
    total_ms: Option<f64>,
}

impl Call {
    /// Sends one attempt as the engine planned it.
    fn launch(&self, plan: &Plan) -> Flight {
        let controller = js::new_controller();
        let null = JsValue::NULL;
        let signal = js::attempt_signal(self.signal.as_ref().unwrap_or(&null), &controller);
        let url = plan
            .url
            .as_deref()
            .map(JsValue::from_str)
            .unwrap_or(JsValue::UNDEFINED);
        let promise = js::send(
            &self.inner.transport,
            &self.input,
            &self.init,
            &signal,
            self.is_request,
            &url,
            plan.strip_credentials,
        );
        Flight {
            id: plan.id,
            fut: JsFuture::from(promise),
            controller,
            timer: self.attempt_ms.map(Sleep::new),
        }
    }

    /// The caller aborted (`aborted`) or the total deadline passed: ends the task in the engine
    /// and returns what the call rejects with (the signal's reason, or a `TimeoutError`).
    fn stop(&self, task: &mut Task, aborted: bool) -> JsValue {
        let reason = if aborted {
            GiveUpReason::Aborted
        } else {
            GiveUpReason::Deadline
        };
        self.inner.engine(false).cancel(task, reason, js::now());
        if aborted {
            js::abort_reason(self.signal.as_ref().unwrap_or(&JsValue::NULL))
        } else {
            js::timeout_error(&format!(
                "ballast: timeout.totalMs ({} ms) elapsed",
                fmt_num(self.total_ms.unwrap_or(0.0))
            ))
        }
    }
}

pub async fn run(inner: Rc<Inner>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
    let d = js::describe(&input, &init)?;
    let signal = Some(d.signal()).filter(|s| !s.is_null() && !s.is_undefined());
    if let Some(s) = &signal {
        if js::is_aborted(s) {
            return Err(js::abort_reason(s));
        }
    }
    let meta = RequestMeta {
        method: d.method(),
        url: d.url(),
        has_idempotency_key: d.idempotency_key(),
        body: match d.body() {
            0 => BodyKind::None,
            2 => BodyKind::Stream,
            _ => BodyKind::Replayable,
        },
    };
    let (mut task, attempt_ms, total_ms, queue_timeout_ms) = {
        let mut e = inner.engine(true);
        let t = e.begin(meta, js::now());
        let c = e.config();
        (
            t,
            c.timeout.attempt_ms,
            c.timeout.total_ms,
            c.concurrency.queue_timeout_ms,
        )
    };
    let call = Call {
        inner: inner.clone(),
        input,
        init,
        is_request: d.is_request(),
        signal,
        attempt_ms,
        total_ms,
    };
    let mut deadline = task.deadline_ms().map(|d| Sleep::new(d - js::now()));
    let mut abort = AbortWait::new(call.signal.clone());
    // Errors of attempts that ended without a response, by attempt number.
    let mut errors: Vec<(u32, JsValue)> = Vec::new();
    let mut flights: Vec<Flight> = Vec::new();

    let result = 'task: loop {
        // A new attempt: every attempt, retries included, needs a concurrency slot first.
        let admitted = inner.engine(false).admit(&mut task, js::now());
        inner.after();
        match admitted {
            Admit::Now => {}
            Admit::Shed(_) => {
                let r = GiveUpReason::QueueFull;
                break Err(error_for(&inner, &task, r, "SHED", &errors));
            }
            Admit::Queued(ticket) => {
                let mut grant = inner.wait_for(ticket);
                let mut queue_timer = Sleep::new(queue_timeout_ms);
                let mut waiting = GrantOrTimeout {
                    grant: &mut grant,
                    timer: &mut queue_timer,
                };
                let waited = wait_or_stop(&mut waiting, &mut abort, &mut deadline).await;
                inner.forget(ticket);
                match waited {
                    Err(aborted) => break Err(call.stop(&mut task, aborted)),
                    Ok(true) => {
                        let shed = inner.engine(false).queue_timeout(&mut task, js::now());
                        inner.after();
                        if let Some(r) = shed {
                            break Err(error_for(&inner, &task, r, "SHED", &errors));
                        }
                    }
                    Ok(false) => {}
                }
            }
        }
        let plan = inner
            .engine(false)
            .attempt_started(&mut task, false, js::now());
        inner.after();
        flights.push(call.launch(&plan));
        let mut hedge = inner
            .engine(false)
            .hedge_delay(&mut task, js::now())
            .map(Sleep::new);

        // Wait for the attempt(s) of this round.
        loop {
            let woke = wait_flights(&mut flights, &mut hedge, &mut abort, &mut deadline).await;
            let (i, outcome, response) = match woke {
                Wake::Abort | Wake::Deadline => {
                    let err = call.stop(&mut task, matches!(woke, Wake::Abort));
                    abort_flights(&mut flights, &err);
                    break 'task Err(err);
                }
                Wake::Hedge => {
                    hedge = None;
                    if inner.engine(false).try_hedge(&mut task, js::now()) {
                        let plan = inner
                            .engine(false)
                            .attempt_started(&mut task, true, js::now());
                        inner.after();
                        flights.push(call.launch(&plan));
                    }
                    continue;
                }
                Wake::AttemptTimeout(i) => {
                    let err = js::timeout_error(&format!(
                        "ballast: timeout.attemptMs ({} ms) elapsed",
                        fmt_num(attempt_ms.unwrap_or(0.0))
                    ));
                    js::abort_controller(&flights[i].controller, &err);
                    errors.push((flights[i].id, err));
                    (i, Outcome::Timeout, None)
                }
                Wake::Settled(i, Ok(r)) if js::is_response(&r) => {
                    let status = js::status(&r).clamp(0.0, 999.0) as u16;
                    let retry_after_ms = js::retry_after(&r)
                        .and_then(|v| crate::core::retry_after::parse(&v, js::wall_now()));
                    (
                        i,
                        Outcome::Response {
                            status,
                            retry_after_ms,
                        },
                        Some(r),
                    )
                }
                Wake::Settled(i, Ok(other)) => {
                    let msg = format!(
                        "ballast: the transport resolved with {} instead of a Response",
                        js::describe_error(&other)
                    );
                    errors.push((flights[i].id, js_sys::TypeError::new(&msg).into()));
                    flights.remove(i);
                    inner
                        .engine(false)
                        .cancel(&mut task, GiveUpReason::InvalidResponse, js::now());
                    abort_flights(&mut flights, &JsValue::UNDEFINED);
                    let r = GiveUpReason::InvalidResponse;
                    break 'task Err(error_for(&inner, &task, r, "INVALID_RESPONSE", &errors));
                }
                Wake::Settled(i, Err(e)) => {
                    if call.signal.as_ref().is_some_and(js::is_aborted) {
                        let err = call.stop(&mut task, true);
                        abort_flights(&mut flights, &err);
                        break 'task Err(err);
                    }
                    errors.push((flights[i].id, e));
                    (i, Outcome::NetworkError, None)
                }
            };
            let flight = flights.remove(i);
            let timed_out = outcome == Outcome::Timeout;
            let decision =
                inner
                    .engine(false)
                    .attempt_finished(&mut task, flight.id, outcome, js::now());
            inner.after();
            match (decision, response) {
                (Decision::Wait, r) => {
                    if let Some(r) = r {
                        js::discard(&r);
                    }
                    continue;
                }
                (Decision::Done | Decision::GiveUp(_), Some(r)) => {
                    // The winner: the other attempt still in flight, if any, lost the race.
                    for f in &flights {
                        inner.engine(false).abandon(&mut task, f.id, js::now());
                    }
                    abort_flights(&mut flights, &JsValue::UNDEFINED);
                    break 'task Ok(r);
                }
                (Decision::GiveUp(reason), None) => {
                    let code = if timed_out {
                        "ATTEMPT_TIMEOUT"
                    } else {
                        "NETWORK"
                    };
                    break 'task Err(error_for(&inner, &task, reason, code, &errors));
                }
                (Decision::Done, None) => {
                    let r = GiveUpReason::MaxAttempts;
                    break 'task Err(error_for(&inner, &task, r, "NETWORK", &errors));
                }
                (Decision::Retry { delay_ms }, response) => {
                    if let Some(r) = response {
                        js::discard(&r);
                    }
                    let mut sleep = Sleep::new(delay_ms);
                    if let Err(aborted) = wait_or_stop(&mut sleep, &mut abort, &mut deadline).await
                    {
                        break 'task Err(call.stop(&mut task, aborted));
                    }
                    continue 'task;
                }
            }
        }
    };
    drop(deadline);
    drop(abort);
    inner.engine(false).finish(&mut task, js::now());
    inner.after();
    result
}

/// Aborts every attempt still in flight with `reason` and drops them (and their timers).
fn abort_flights(flights: &mut Vec<Flight>, reason: &JsValue) {
    for f in flights.drain(..) {
        js::abort_controller(&f.controller, reason);
    }
}

/// A queued attempt's wait: `false` when a slot is granted, `true` when its queue timeout passes.
struct GrantOrTimeout<'a> {
    grant: &'a mut super::timer::Grant,
    timer: &'a mut Sleep,
}

impl Future for GrantOrTimeout<'_> {
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<bool> {
        if Pin::new(&mut *self.grant).poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        if Pin::new(&mut *self.timer).poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        Poll::Pending
    }
}

/// A `BallastError` for a task that ended without a response.
fn error_for(
    inner: &Inner,
    task: &Task,
    reason: GiveUpReason,
    code: &str,
    errors: &[(u32, JsValue)],
) -> JsValue {
    let attempts = js_sys::Array::new();
    for rec in task.attempts() {
        let o = super::to_js::attempt_record(rec);
        if let Some((_, e)) = errors.iter().find(|(id, _)| *id == rec.attempt) {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str("error"), e);
        }
        attempts.push(&o);
    }
    let cause = errors
        .last()
        .map(|(_, e)| e.clone())
        .unwrap_or(JsValue::UNDEFINED);
    let meta = task.meta();
    let message = format!(
        "ballast: {} {} failed after {} attempt{} ({}; gave up: {}): {}",
        meta.method,
        meta.url,
        task.attempts().len(),
        if task.attempts().len() == 1 { "" } else { "s" },
        code,
        reason.as_str(),
        js::describe_error(&cause),
    );
    inner
        .hooks
        .ballast_error(code, reason.as_str(), &message, &cause, attempts.into())
}

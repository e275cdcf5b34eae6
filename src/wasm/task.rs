//! One call of the wrapped fetch: the attempt loop that carries out the engine's decisions.
//!
//! Every wait races against the caller's signal and the task deadline, so an abort or the deadline
//! ends the call promptly even mid-sleep. Each attempt has its own `AbortController` (a fresh
//! attempt timeout, unlike ofetch's known bug of retrying under an already-aborted signal). The
//! timers and listeners live in `Sleep` / `AbortWait` values that clean up when dropped.

use super::js;
use super::timer::{poll_opt, AbortWait, Sleep};
use super::Inner;
use crate::core::{Admit, BodyKind, Decision, GiveUpReason, Outcome, RequestMeta, Task};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

enum Wake<T> {
    Done(T),
    AttemptTimeout,
    Abort,
    Deadline,
}

/// Waits for `op` (if any), the timer (if any), the caller's abort or the deadline.
async fn race<F: Future + Unpin>(
    op: &mut Option<F>,
    timer: &mut Option<Sleep>,
    abort: &mut AbortWait,
    deadline: &mut Option<Sleep>,
) -> Wake<F::Output> {
    poll_fn(|cx| {
        if let Poll::Ready(r) = poll_opt(op, cx) {
            return Poll::Ready(Wake::Done(r));
        }
        if Pin::new(&mut *abort).poll(cx).is_ready() {
            return Poll::Ready(Wake::Abort);
        }
        if poll_opt(deadline, cx).is_ready() {
            return Poll::Ready(Wake::Deadline);
        }
        if poll_opt(timer, cx).is_ready() {
            return Poll::Ready(Wake::AttemptTimeout);
        }
        Poll::Pending
    })
    .await
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
        let timeout = &c.timeout;
        (
            t,
            timeout.attempt_ms,
            timeout.total_ms,
            c.concurrency.queue_timeout_ms,
        )
    };
    let mut deadline = task.deadline_ms().map(|d| Sleep::new(d - js::now()));
    let mut abort = AbortWait::new(signal.clone());
    let caller_signal = signal.clone().unwrap_or(JsValue::NULL);
    let mut errors: Vec<JsValue> = Vec::new();

    let result = loop {
        // Every attempt, retries included, needs a concurrency slot first.
        let admitted = inner.engine(false).admit(&mut task, js::now());
        inner.after();
        match admitted {
            Admit::Now => {}
            Admit::Shed(_) => {
                let r = GiveUpReason::QueueFull;
                break Err(error_for(&inner, &task, r, "SHED", &errors));
            }
            Admit::Queued(ticket) => {
                let mut grant = Some(inner.wait_for(ticket));
                let mut queue_timer = Some(Sleep::new(queue_timeout_ms));
                let woke = race(&mut grant, &mut queue_timer, &mut abort, &mut deadline).await;
                inner.forget(ticket);
                match woke {
                    Wake::Done(()) => {}
                    Wake::AttemptTimeout => {
                        let shed = inner.engine(false).queue_timeout(&mut task, js::now());
                        inner.after();
                        if let Some(r) = shed {
                            break Err(error_for(&inner, &task, r, "SHED", &errors));
                        }
                    }
                    Wake::Abort => break Err(stop(&inner, &mut task, true, &signal, total_ms)),
                    Wake::Deadline => break Err(stop(&inner, &mut task, false, &signal, total_ms)),
                }
            }
        }
        let controller = js::new_controller();
        let attempt_signal = js::attempt_signal(&caller_signal, &controller);
        inner.engine(false).attempt_started(&mut task, js::now());
        let promise = js::send(
            &inner.transport,
            &input,
            &init,
            &attempt_signal,
            d.is_request(),
        );
        let mut op = Some(JsFuture::from(promise));
        let mut timer = attempt_ms.map(Sleep::new);
        let woke = race(&mut op, &mut timer, &mut abort, &mut deadline).await;
        drop(timer);
        let (outcome, response) = match woke {
            Wake::Done(Ok(r)) if js::is_response(&r) => {
                let status = js::status(&r).clamp(0.0, 999.0) as u16;
                let retry_after_ms = js::retry_after(&r)
                    .and_then(|v| crate::core::retry_after::parse(&v, js::wall_now()));
                errors.push(JsValue::UNDEFINED);
                (
                    Outcome::Response {
                        status,
                        retry_after_ms,
                    },
                    Some(r),
                )
            }
            Wake::Done(Ok(other)) => {
                let msg = format!(
                    "ballast: the transport resolved with {} instead of a Response",
                    js::describe_error(&other)
                );
                let err = js_sys::TypeError::new(&msg).into();
                errors.push(err);
                break Err(settle_error(
                    &inner,
                    &mut task,
                    GiveUpReason::InvalidResponse,
                    "INVALID_RESPONSE",
                    &errors,
                ));
            }
            Wake::Done(Err(e)) => {
                if signal.as_ref().is_some_and(js::is_aborted) {
                    inner
                        .engine(false)
                        .cancel(&mut task, GiveUpReason::Aborted, js::now());
                    break Err(js::abort_reason(signal.as_ref().unwrap_or(&JsValue::NULL)));
                }
                errors.push(e);
                (Outcome::NetworkError, None)
            }
            Wake::AttemptTimeout => {
                let err = js::timeout_error(&format!(
                    "ballast: timeout.attemptMs ({} ms) elapsed",
                    attempt_ms.unwrap_or(0.0)
                ));
                js::abort_controller(&controller, &err);
                errors.push(err);
                (Outcome::Timeout, None)
            }
            Wake::Abort | Wake::Deadline => {
                let aborted = matches!(woke, Wake::Abort);
                let err = stop(&inner, &mut task, aborted, &signal, total_ms);
                js::abort_controller(&controller, &err);
                break Err(err);
            }
        };
        let timed_out = outcome == Outcome::Timeout;
        let decision = inner
            .engine(false)
            .attempt_finished(&mut task, outcome, js::now());
        inner.after();
        match (decision, response) {
            (Decision::Done | Decision::GiveUp(_), Some(r)) => break Ok(r),
            (Decision::GiveUp(reason), None) => {
                let code = if timed_out {
                    "ATTEMPT_TIMEOUT"
                } else {
                    "NETWORK"
                };
                break Err(error_for(&inner, &task, reason, code, &errors));
            }
            (Decision::Done, None) => {
                break Err(error_for(
                    &inner,
                    &task,
                    GiveUpReason::MaxAttempts,
                    "NETWORK",
                    &errors,
                ));
            }
            (Decision::Retry { delay_ms }, response) => {
                if let Some(r) = response {
                    js::discard(&r);
                }
                let mut sleep = Some(Sleep::new(delay_ms));
                let mut nothing: Option<JsFuture> = None;
                match race(&mut nothing, &mut sleep, &mut abort, &mut deadline).await {
                    Wake::Abort => break Err(stop(&inner, &mut task, true, &signal, total_ms)),
                    Wake::Deadline => break Err(stop(&inner, &mut task, false, &signal, total_ms)),
                    _ => continue,
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

/// The caller aborted (`aborted`) or the total deadline passed: ends the task in the engine and
/// returns what the call rejects with (the signal's reason, or a `TimeoutError`).
fn stop(
    inner: &Inner,
    task: &mut Task,
    aborted: bool,
    signal: &Option<JsValue>,
    total_ms: Option<f64>,
) -> JsValue {
    let reason = if aborted {
        GiveUpReason::Aborted
    } else {
        GiveUpReason::Deadline
    };
    inner.engine(false).cancel(task, reason, js::now());
    if aborted {
        js::abort_reason(signal.as_ref().unwrap_or(&JsValue::NULL))
    } else {
        js::timeout_error(&format!(
            "ballast: timeout.totalMs ({} ms) elapsed",
            total_ms.unwrap_or(0.0)
        ))
    }
}

fn settle_error(
    inner: &Inner,
    task: &mut Task,
    reason: GiveUpReason,
    code: &str,
    errors: &[JsValue],
) -> JsValue {
    inner.engine(false).cancel(task, reason, js::now());
    error_for(inner, task, reason, code, errors)
}

/// A `BallastError` for a task that ended without a response.
fn error_for(
    inner: &Inner,
    task: &Task,
    reason: GiveUpReason,
    code: &str,
    errors: &[JsValue],
) -> JsValue {
    let attempts = js_sys::Array::new();
    for (i, rec) in task.attempts().iter().enumerate() {
        let o = serde_wasm_bindgen::to_value(rec).unwrap_or(JsValue::UNDEFINED);
        if let Some(e) = errors.get(i).filter(|e| !e.is_undefined()) {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str("error"), e);
        }
        attempts.push(&o);
    }
    let cause = errors.last().cloned().unwrap_or(JsValue::UNDEFINED);
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

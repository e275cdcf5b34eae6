//! The engine's per-task steps, exported to the JS attempt loop (`pkg/driver.js`) as numbers.
//!
//! Why the attempt loop is JS and not Rust: a call spends its life waiting on promises, timers
//! and signals, which are JS objects. Driven from Rust, each wait cost a wasm-bindgen handle in
//! the externref table, a wake-up through the futures executor (one more microtask), and a
//! crossing per getter; the executor and its closures were also ~10 KB of the wasm. Measured
//! request by request against raw fetch on a loopback origin (bench/overhead.mjs), the JS loop
//! adds 5-7 µs less at p50 than the Rust one did. JS keeps every JS object; the engine is asked
//! only what to do, once per step, and stays the one place where decisions are made.
//!
//! A task lives in a slab in `Inner`, named by its index (the handle) from `begin` to `finish`.
//! Every step that can produce events or grant queue slots hands them to JS after the engine
//! borrow is released, because a listener may call `snapshot()` or start another call.

use super::{js, Client, Inner};
use crate::core::config::fmt_num;
use crate::core::{Admit, BodyKind, Decision, GiveUpReason, Outcome, Plan, RequestMeta, Task};
use crate::prelude::*;
use alloc::borrow::Cow;
use wasm_bindgen::prelude::*;

/// `attemptFinished` outcomes, as the driver passes them.
const OUT_RESPONSE: u32 = 0;
const OUT_NETWORK: u32 = 1;

/// `attemptFinished` decisions other than a retry delay (which is >= 0).
const WAIT: f64 = -1.0;
const DONE: f64 = -2.0;
/// A give-up is `GIVE_UP - index in GiveUpReason::ALL`.
const GIVE_UP: f64 = -10.0;

fn reason(code: u32) -> GiveUpReason {
    GiveUpReason::ALL
        .get(code as usize)
        .copied()
        .unwrap_or(GiveUpReason::MaxAttempts)
}

fn code_of(r: GiveUpReason) -> f64 {
    GiveUpReason::ALL.iter().position(|x| *x == r).unwrap_or(0) as f64
}

/// `f64::NAN` for "none": the driver tests it with `Number.isNaN`.
fn or_nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

impl Inner {
    /// Runs `f` on the engine and task `h`, then delivers events and grants.
    fn step<R>(&self, h: u32, f: impl FnOnce(&mut crate::core::Engine, &mut Task) -> R) -> R {
        let r = {
            let mut e = self.engine(false);
            let mut tasks = self.tasks.borrow_mut();
            let task = tasks
                .get_mut(h as usize)
                .and_then(Option::as_mut)
                // `panic!` with a literal, not `expect`: its message reaches the panic note
                // (`panic.rs`) without `core::fmt`.
                .unwrap_or_else(|| panic!("ballast: the driver used a task handle after finish"));
            f(&mut e, task)
        };
        self.after();
        r
    }

    /// A plan as the driver reads it: `id * 4 + 2 (routing chose a URL: `planUrl`) + 1 (strip
    /// credentials)`.
    fn plan_code(&self, plan: Plan) -> u32 {
        let routed = plan.url.is_some();
        *self.plan_url.borrow_mut() = plan.url;
        plan.id * 4 + if routed { 2 } else { 0 } + u32::from(plan.strip_credentials)
    }
}

#[wasm_bindgen]
impl Client {
    /// The reasons a task gives up, comma-separated, in the order the steps below number them.
    #[wasm_bindgen(js_name = giveUpReasons)]
    pub fn give_up_reasons() -> String {
        let names: Vec<&str> = GiveUpReason::ALL.iter().map(|r| r.as_str()).collect();
        super::join(&names, ",")
    }

    /// What the driver needs of the config, once per client: `[timeout.attemptMs,
    /// timeout.totalMs, concurrency.queueTimeoutMs, hedging ? 1 : 0]` (NaN for `null`).
    pub fn settings(&self) -> Vec<f64> {
        let e = self.inner.engine.borrow();
        let c = e.config();
        vec![
            or_nan(c.timeout.attempt_ms),
            or_nan(c.timeout.total_ms),
            c.concurrency.queue_timeout_ms,
            if c.hedge.is_some() { 1.0 } else { 0.0 },
        ]
    }

    /// A task starts; returns its handle. `method` is upper-case, `undefined` for `GET`.
    /// `flags`: bit 0 an `Idempotency-Key` header, bits 1-2 the body (0 none, 1 replayable, 2 a
    /// stream).
    pub fn begin(&self, method: Option<String>, url: String, flags: u32, now: f64) -> u32 {
        let meta = RequestMeta {
            method: method.map_or(Cow::Borrowed("GET"), Cow::Owned),
            url,
            has_idempotency_key: flags & 1 != 0,
            body: match (flags >> 1) & 3 {
                0 => BodyKind::None,
                2 => BodyKind::Stream,
                _ => BodyKind::Replayable,
            },
        };
        let task = Some(self.inner.engine(true).begin(meta, now));
        let mut tasks = self.inner.tasks.borrow_mut();
        match self.inner.free.borrow_mut().pop() {
            Some(h) => {
                tasks[h as usize] = task;
                h
            }
            None => {
                tasks.push(task);
                (tasks.len() - 1) as u32
            }
        }
    }

    /// Asks for a slot for the next attempt and, when one is free, starts the attempt at once (one
    /// crossing instead of two on the common path): returns its plan code (see `attemptStarted`,
    /// >= 0), -1 when shed (the task gave up with `queue-full`), or -1 - ticket when queued (wait
    /// for `granted(ticket)` in `pkg/driver.js`, then call `attemptStarted`).
    #[wasm_bindgen(js_name = admitAndStart)]
    pub fn admit_and_start(&self, h: u32, now: f64) -> f64 {
        let (code, plan) = self.inner.step(h, |e, t| match e.admit(t, now) {
            Admit::Now => (0.0, Some(e.attempt_started(t, false, now))),
            Admit::Shed(_) => (-1.0, None),
            Admit::Queued(ticket) => (-1.0 - ticket as f64, None),
        });
        match plan {
            Some(plan) => self.inner.plan_code(plan) as f64,
            None => code,
        }
    }

    /// The queued attempt waited `concurrency.queueTimeoutMs`: true if it was shed, false if a
    /// slot was granted meanwhile.
    #[wasm_bindgen(js_name = queueTimeout)]
    pub fn queue_timeout(&self, h: u32, now: f64) -> bool {
        self.inner.step(h, |e, t| e.queue_timeout(t, now).is_some())
    }

    /// The attempt is sent now (after a grant, or a hedge): returns `id * 4 + (2 if routing chose
    /// a URL, see `planUrl`) + (1 if credentials must be stripped)`.
    #[wasm_bindgen(js_name = attemptStarted)]
    pub fn attempt_started(&self, h: u32, hedge: bool, now: f64) -> u32 {
        let plan = self.inner.step(h, |e, t| e.attempt_started(t, hedge, now));
        self.inner.plan_code(plan)
    }

    /// The URL routing chose for the attempt `attemptStarted` just planned.
    #[wasm_bindgen(js_name = planUrl)]
    pub fn plan_url(&self) -> Option<String> {
        self.inner.plan_url.borrow_mut().take()
    }

    /// When to hedge the only attempt in flight (ms), or NaN for never.
    #[wasm_bindgen(js_name = hedgeDelay)]
    pub fn hedge_delay(&self, h: u32, now: f64) -> f64 {
        or_nan(self.inner.step(h, |e, t| e.hedge_delay(t, now)))
    }

    /// The hedge timer fired: whether to send a hedge now.
    #[wasm_bindgen(js_name = tryHedge)]
    pub fn try_hedge(&self, h: u32, now: f64) -> bool {
        self.inner.step(h, |e, t| e.try_hedge(t, now))
    }

    /// Attempt `id` ended: `outcome` 0 = a response with `status` (and `retry_after`, the
    /// header's value, read only on 429/503), 1 = a network error, 2 = its attempt timeout.
    /// Returns a retry delay (>= 0), -1 = wait for the other attempt, -2 = done,
    /// or -10 - reason = give up.
    #[wasm_bindgen(js_name = attemptFinished)]
    pub fn attempt_finished(
        &self,
        h: u32,
        id: u32,
        outcome: u32,
        status: u16,
        retry_after: Option<String>,
        now: f64,
    ) -> f64 {
        let outcome = match outcome {
            OUT_RESPONSE => Outcome::Response {
                status,
                retry_after_ms: retry_after
                    .and_then(|v| crate::core::retry_after::parse(&v, js::wall_now())),
            },
            OUT_NETWORK => Outcome::NetworkError,
            _ => Outcome::Timeout,
        };
        match self
            .inner
            .step(h, |e, t| e.attempt_finished(t, id, outcome, now))
        {
            Decision::Retry { delay_ms } => delay_ms.max(0.0),
            Decision::Wait => WAIT,
            Decision::Done => DONE,
            Decision::GiveUp(r) => GIVE_UP - code_of(r),
        }
    }

    /// A hedge race was decided: attempt `id` lost and is being aborted.
    pub fn abandon(&self, h: u32, id: u32, now: f64) {
        self.inner.step(h, |e, t| e.abandon(t, id, now))
    }

    /// The task ends outside the normal flow (`reason` indexes `giveUpReasons`).
    pub fn cancel(&self, h: u32, reason_code: u32, now: f64) {
        self.inner
            .step(h, |e, t| e.cancel(t, reason(reason_code), now))
    }

    /// The task settled: records it and frees its handle.
    pub fn finish(&self, h: u32, now: f64) {
        self.inner.step(h, |e, t| e.finish(t, now));
        let task = self.inner.tasks.borrow_mut()[h as usize].take();
        if let Some(task) = task {
            self.inner.engine(false).recycle(task);
        }
        self.inner.free.borrow_mut().push(h);
    }

    /// The message of a deadline or attempt timeout (`which` 0 = `totalMs`, 1 = `attemptMs`).
    #[wasm_bindgen(js_name = timeoutMessage)]
    pub fn timeout_message(&self, which: u32) -> String {
        let e = self.inner.engine.borrow();
        let t = &e.config().timeout;
        let (name, ms) = if which == 0 {
            ("totalMs", t.total_ms)
        } else {
            ("attemptMs", t.attempt_ms)
        };
        cat!(
            "ballast: timeout.",
            name,
            " (",
            fmt_num(ms.unwrap_or(0.0)),
            " ms) elapsed"
        )
    }

    /// The `BallastError` for task `h`, which ended without a response: `ids[i]` is the attempt
    /// that failed with `errors[i]`; the last of them is the cause, `cause_text` its description
    /// for the message. Call before `finish`.
    pub fn error(
        &self,
        h: u32,
        reason_code: u32,
        code: &str,
        ids: Vec<u32>,
        errors: js_sys::Array,
        cause_text: &str,
    ) -> JsValue {
        let tasks = self.inner.tasks.borrow();
        let Some(Some(task)) = tasks.get(h as usize) else {
            return JsValue::UNDEFINED;
        };
        let reason = reason(reason_code);
        let attempts = js_sys::Array::new();
        for rec in task.attempts() {
            let o = super::to_js::attempt_record(rec);
            if let Some(i) = ids.iter().position(|id| *id == rec.attempt) {
                let _ =
                    js_sys::Reflect::set(&o, &JsValue::from_str("error"), &errors.get(i as u32));
            }
            attempts.push(&o);
        }
        let cause = if ids.is_empty() {
            JsValue::UNDEFINED
        } else {
            errors.get(ids.len() as u32 - 1)
        };
        let meta = task.meta();
        let n = task.attempts().len();
        let (url, cause_text) = {
            let e = self.inner.engine.borrow();
            let keep_query = !e.config().redact.query;
            let cause = crate::core::redact::scrub_text(cause_text, keep_query);
            (e.shown_url(meta), cause)
        };
        let message = cat!(
            "ballast: ",
            &*meta.method,
            " ",
            url,
            " failed after ",
            n,
            if n == 1 { " attempt (" } else { " attempts (" },
            code,
            "; gave up: ",
            reason.as_str(),
            if cause_text.is_empty() { ")" } else { "): " },
            cause_text,
        );
        self.inner
            .hooks
            .ballast_error(code, reason.as_str(), &message, &cause, attempts.into())
    }
}

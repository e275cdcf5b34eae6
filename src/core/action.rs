//! What the engine asks its executor to do (`Action`), and how an attempt can fail (`Failure`).
//!
//! Why actions rather than return values: one input can require several things at once (a
//! response wins a hedge race: settle the call with it and abort the other attempt; a slot frees:
//! start a queued call's attempt), and some are due to another call's input. So every input only
//! queues actions, and the executor drains them with `Engine::poll_action` after each one.

use crate::core::call::AttemptRecord;
use crate::core::policy::GiveUpReason;
use crate::core::redact;
use crate::core::tasks::TaskId;
use crate::prelude::*;
use alloc::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send attempt `attempt` of `task`.
    Start(Start),
    /// Stop attempt `attempt` of `task`: it is over for the engine, and whatever it still answers
    /// is ignored (a response is to be discarded, freeing its connection).
    Abort {
        task: TaskId,
        attempt: u32,
        reason: AbortReason,
    },
    /// The call is over: settle it as `settlement` says. Its id is not valid any more.
    Settle {
        task: TaskId,
        settlement: Settlement,
    },
    /// Attempt `attempt` of `task` ended and the call could go on: ask the retry hooks
    /// (`Engine::set_consult`), then answer with `Engine::handle_verdict`. `retry` is the engine's
    /// own verdict, `delay_ms` the wait it would retry after.
    Consult {
        task: TaskId,
        attempt: u32,
        retry: bool,
        delay_ms: f64,
    },
}

/// What the retry hooks answered (`Action::Consult`).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Retry or not (`None`: as the engine would), after this wait instead of the engine's.
    Answer {
        retry: Option<bool>,
        delay_ms: Option<f64>,
    },
    /// A hook threw, rejected or returned what it may not: the call ends with code `HOOK`. The
    /// text names the hook and what it did, for the message.
    Threw(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub task: TaskId,
    /// 1 for the first attempt; hedges and retries count on.
    pub attempt: u32,
    /// Where to send it, when routing chose a route (`None`: the caller's input as it is, or the
    /// executor turned URLs off: `Engine::set_urls`).
    pub url: Option<String>,
    /// The route's index in the config, when routed.
    pub route: Option<usize>,
    /// Send it without `Authorization`, `Cookie` and `Proxy-Authorization`, and with
    /// `credentials: "omit"`: the route is on another origin than the addressed one.
    pub strip_credentials: bool,
    /// A hedge: the call's other attempt is still in flight.
    pub hedge: bool,
}

/// Why an attempt is aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbortReason {
    /// Its `timeout.attemptMs` ran out.
    AttemptTimeout,
    /// The call's `timeout.totalMs` ran out.
    Deadline,
    /// The call's other attempt won.
    HedgeLost,
    /// The caller aborted.
    CallerAbort,
    /// The call ended otherwise (another attempt failed in a way that ends it).
    CallEnded,
}

impl AbortReason {
    pub const ALL: [AbortReason; 5] = [
        AbortReason::AttemptTimeout,
        AbortReason::Deadline,
        AbortReason::HedgeLost,
        AbortReason::CallerAbort,
        AbortReason::CallEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AbortReason::AttemptTimeout => "attempt-timeout",
            AbortReason::Deadline => "deadline",
            AbortReason::HedgeLost => "hedge-lost",
            AbortReason::CallerAbort => "caller-abort",
            AbortReason::CallEnded => "call-ended",
        }
    }
}

/// How a call ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Resolve with the response of attempt `attempt` (a success, a status that is not retried,
    /// or the last retryable one when the call gave up with a response in hand).
    Response { attempt: u32 },
    /// Reject with the caller's abort reason.
    Aborted,
    /// Reject with a `TimeoutError`: `timeout.totalMs` ran out.
    Deadline,
    /// Reject with a `BallastError`.
    Failed(Box<Failed>),
}

/// A failed call, as facts. Its text (`message`) is made when it is shown: an executor that only
/// counts failures (the simulator) never pays for formatting and redacting it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub code: ErrorCode,
    pub reason: GiveUpReason,
    /// Every attempt the call made, in the order they ended.
    pub attempts: Vec<AttemptRecord>,
    /// The call's method and URL as the caller gave them.
    pub method: Cow<'static, str>,
    pub url: Cow<'static, str>,
    /// What the last attempt that failed without a response failed with.
    pub cause: Option<Cause>,
    /// Query values are shown (`redact.query: false`).
    pub show_query: bool,
}

/// What an attempt failed with, when it got no response. Kept as facts: its text is made only
/// when a failed call's message is (`Failed::message`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// The error the host reported, as it said it.
    Host(String),
    /// `timeout.attemptMs` (this many ms) ran out.
    AttemptTimeout(f64),
}

impl Cause {
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cause::Host(s) => Cow::Borrowed(s),
            Cause::AttemptTimeout(ms) => Cow::Owned(cat!(
                "TimeoutError: ballast: timeout.attemptMs (",
                crate::core::print::fmt_num(*ms),
                " ms) elapsed"
            )),
        }
    }
}

impl Failed {
    /// `ballast: GET <url> failed after N attempts (CODE; gave up: reason): <cause>`, with the URL
    /// and the cause redacted (`core::redact`).
    pub fn message(&self) -> String {
        let n = self.attempts.len();
        let cause = self
            .cause
            .as_ref()
            .filter(|_| self.code != ErrorCode::Shed)
            .map(|e| redact::scrub_text(&e.text(), self.show_query));
        cat!(
            "ballast: ",
            &*self.method,
            " ",
            redact::display_url(&self.url, self.show_query),
            " failed after ",
            n,
            if n == 1 { " attempt (" } else { " attempts (" },
            self.code.as_str(),
            "; gave up: ",
            self.reason.as_str(),
            if cause.is_some() { "): " } else { ")" },
            cause.unwrap_or_default(),
        )
    }
}

/// What a `BallastError` says went wrong. The strings are part of the JS contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The last attempt failed without a response.
    Network,
    /// The last attempt ran past `timeout.attemptMs`.
    AttemptTimeout,
    /// The concurrency limiter refused the call.
    Shed,
    /// The transport resolved with something that is not a response.
    InvalidResponse,
    /// The request can never be sent as it is: an invalid URL, header or method, or a scheme
    /// `fetch` does not support.
    InvalidRequest,
    /// The runtime refused the request (Deno without `--allow-net`, a content security policy).
    PermissionDenied,
    /// A hook (`hooks.beforeAttempt`, `retry.shouldRetry`, `retry.delay`) failed.
    Hook,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::Network,
        ErrorCode::AttemptTimeout,
        ErrorCode::Shed,
        ErrorCode::InvalidResponse,
        ErrorCode::InvalidRequest,
        ErrorCode::PermissionDenied,
        ErrorCode::Hook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Network => "NETWORK",
            ErrorCode::AttemptTimeout => "ATTEMPT_TIMEOUT",
            ErrorCode::Shed => "SHED",
            ErrorCode::InvalidResponse => "INVALID_RESPONSE",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::Hook => "HOOK",
        }
    }
}

/// How an attempt failed without a response, as the executor reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The transport rejected: connection refused or reset, DNS, TLS, a CORS refusal in a browser
    /// (which cannot be told from a network failure). Retried.
    Network,
    /// The transport resolved with something that is not a response. Not retried.
    InvalidResponse,
    /// `fetch` refused the request before any I/O (see `ErrorCode::InvalidRequest`). Not retried:
    /// it cannot succeed, and spends no budget.
    InvalidRequest,
    /// The runtime refused the request (see `ErrorCode::PermissionDenied`). Not retried either.
    PermissionDenied,
    /// `hooks.beforeAttempt` failed before the attempt was sent. Not retried: the route is not to
    /// blame, and the hook would fail again.
    Hook,
}

impl Failure {
    pub const ALL: [Failure; 5] = [
        Failure::Network,
        Failure::InvalidResponse,
        Failure::InvalidRequest,
        Failure::PermissionDenied,
        Failure::Hook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Network => "network",
            Failure::InvalidResponse => "invalid-response",
            Failure::InvalidRequest => "invalid-request",
            Failure::PermissionDenied => "permission-denied",
            Failure::Hook => "hook",
        }
    }

    /// The error a call ends with when this failure ends it.
    pub fn code(self) -> ErrorCode {
        match self {
            Failure::Network => ErrorCode::Network,
            Failure::InvalidResponse => ErrorCode::InvalidResponse,
            Failure::InvalidRequest => ErrorCode::InvalidRequest,
            Failure::PermissionDenied => ErrorCode::PermissionDenied,
            Failure::Hook => ErrorCode::Hook,
        }
    }
}

//! What may be retried at all: methods, bodies and statuses.
//!
//! Why these rules: a retry re-sends what the caller sent. That is safe only when the method is
//! idempotent (RFC 9110 section 9.2.2) or the caller made it so with an `Idempotency-Key`, and
//! only when the body can be produced again. A stream can be read once: re-sending it would send
//! an empty or partial body, so a task with a stream body gets exactly one attempt and says why.

use crate::core::config::RetryConfig;
use alloc::borrow::Cow;

/// How the request body can be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    /// string, ArrayBuffer, typed array, Blob, URLSearchParams, FormData, or a `Request` clone.
    Replayable,
    /// ReadableStream or async iterable: sent once, never retried.
    Stream,
}

/// What the engine needs to know about a request; the executor fills it in.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// Upper-case method. Borrowed for `GET`, the common case, which the executor passes as
    /// nothing, so a call copies no method string into the engine.
    pub method: Cow<'static, str>,
    /// Borrowed when the executor's URL is a literal (the simulator's), else the caller's.
    pub url: Cow<'static, str>,
    pub has_idempotency_key: bool,
    pub body: BodyKind,
}

/// Why a task stopped retrying. The strings are part of the JS contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    MaxAttempts,
    BudgetExhausted,
    MethodNotRetryable,
    StreamBody,
    /// The next wait (backoff or Retry-After) would pass `timeout.totalMs`, or it ran out.
    Deadline,
    Aborted,
    /// The transport resolved with something that is not a Response.
    InvalidResponse,
    /// Shed: the concurrency queue was full.
    QueueFull,
    /// Shed: the attempt waited `concurrency.queueTimeoutMs` for a slot.
    QueueTimeout,
    /// The request cannot succeed (an invalid URL or header, a permission the runtime refused).
    NotRetryable,
    /// The `retry.shouldRetry` hook said no where the engine would have retried.
    Declined,
    /// A hook threw, rejected or returned what it may not.
    HookFailed,
}

impl GiveUpReason {
    /// Every reason, in a fixed order (the boundary names them by their index here).
    pub const ALL: [GiveUpReason; 12] = [
        GiveUpReason::MaxAttempts,
        GiveUpReason::BudgetExhausted,
        GiveUpReason::MethodNotRetryable,
        GiveUpReason::StreamBody,
        GiveUpReason::Deadline,
        GiveUpReason::Aborted,
        GiveUpReason::InvalidResponse,
        GiveUpReason::QueueFull,
        GiveUpReason::QueueTimeout,
        GiveUpReason::NotRetryable,
        GiveUpReason::Declined,
        GiveUpReason::HookFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GiveUpReason::MaxAttempts => "max-attempts",
            GiveUpReason::BudgetExhausted => "budget-exhausted",
            GiveUpReason::MethodNotRetryable => "method-not-retryable",
            GiveUpReason::StreamBody => "stream-body",
            GiveUpReason::Deadline => "deadline",
            GiveUpReason::Aborted => "aborted",
            GiveUpReason::InvalidResponse => "invalid-response",
            GiveUpReason::QueueFull => "queue-full",
            GiveUpReason::QueueTimeout => "queue-timeout",
            GiveUpReason::NotRetryable => "not-retryable",
            GiveUpReason::Declined => "declined",
            GiveUpReason::HookFailed => "hook-failed",
        }
    }
}

/// Whether this request may ever be retried, decided once when the task starts.
pub fn eligibility(cfg: &RetryConfig, meta: &RequestMeta) -> Result<(), GiveUpReason> {
    let listed = cfg.methods.iter().any(|m| *m == meta.method);
    let keyed = meta.has_idempotency_key && (meta.method == "POST" || meta.method == "PATCH");
    if !listed && !keyed {
        return Err(GiveUpReason::MethodNotRetryable);
    }
    if meta.body == BodyKind::Stream {
        return Err(GiveUpReason::StreamBody);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(method: &str, key: bool, body: BodyKind) -> RequestMeta {
        RequestMeta {
            method: method.to_string().into(),
            url: "http://x/".into(),
            has_idempotency_key: key,
            body,
        }
    }

    #[test]
    fn table() {
        let cfg = RetryConfig::default();
        use BodyKind::*;
        use GiveUpReason::*;
        let cases = [
            ("GET", false, None, Ok(())),
            ("PUT", false, Replayable, Ok(())),
            ("DELETE", false, None, Ok(())),
            ("POST", false, Replayable, Err(MethodNotRetryable)),
            ("PATCH", false, Replayable, Err(MethodNotRetryable)),
            ("POST", true, Replayable, Ok(())),
            ("PATCH", true, None, Ok(())),
            ("POST", true, Stream, Err(StreamBody)),
            ("PUT", false, Stream, Err(StreamBody)),
            ("CONNECT", true, None, Err(MethodNotRetryable)),
        ];
        for (m, k, b, want) in cases {
            assert_eq!(eligibility(&cfg, &meta(m, k, b)), want, "{m} key={k} {b:?}");
        }
    }

    #[test]
    fn methods_opt_in() {
        let mut cfg = RetryConfig::default();
        cfg.methods.push("POST".into());
        assert_eq!(
            eligibility(&cfg, &meta("POST", false, BodyKind::Replayable)),
            Ok(())
        );
    }
}

//! Events the engine queues for listeners (`Engine::poll_event`). `boundary.rs` names their
//! fields for JS, so the fields and the strings in them are part of the JS contract.
//!
//! Events are only built for kinds someone listens to (`Engine::set_listening`), so a client
//! without listeners pays nothing per attempt for them.

use crate::core::call::AttemptOutcome;
use crate::core::limiter::ShedReason;
use crate::core::policy::GiveUpReason;
use crate::core::pressure::PressureEvent;
use crate::core::routing::{EjectEvent, FallbackDefaultEvent, FallbackReason, RestoreEvent};
use crate::prelude::*;

/// Every kind, in the order of the listening bit mask (bit i = `KINDS[i]`). The last,
/// `internal-error`, is the npm entry's own (a client recovered from a fault of its wasm instance,
/// `pkg/host.js`); it is named here so that one list of kinds serves both sides.
pub const KINDS: [&str; 12] = [
    "retry",
    "giveup",
    "shed",
    "pressure",
    "attempt",
    "eject",
    "restore",
    "fallback",
    "fallback-default",
    "hedge",
    "coordinator",
    "internal-error",
];

/// The listening bit of `kind` (0 for a kind not in `KINDS`). `const`, so a check of a literal
/// kind (`const { bit("retry") }`) costs no lookup at run time.
pub const fn bit(kind: &str) -> u32 {
    let mut i = 0;
    while i < KINDS.len() {
        if same(KINDS[i].as_bytes(), kind.as_bytes()) {
            return 1 << i;
        }
        i += 1;
    }
    0
}

/// `a == b`, for `const fn` (where `==` on slices is not allowed).
pub const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryEvent {
    /// Number of the attempt about to start (2 for the first retry).
    pub attempt: u32,
    pub delay_ms: f64,
    pub reason: RetryCause,
    /// What set the wait: `"backoff"`, or the header that did (`retry_after::WAIT_HEADERS`).
    pub source: &'static str,
    pub method: String,
    pub url: String,
}

/// What failed, in a `retry` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause {
    /// A retryable status (`status-503` at the boundary).
    Status(u16),
    Network,
    AttemptTimeout,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GiveUpEvent {
    pub reason: GiveUpReason,
    pub attempts: u32,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShedEvent {
    pub reason: ShedReason,
    /// Number of the attempt that was shed (1 for a first attempt).
    pub attempt: u32,
    pub waited_ms: f64,
    pub queued: u32,
    pub in_flight: u32,
    pub limit: Option<u32>,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptEvent {
    pub attempt: u32,
    pub outcome: AttemptOutcome,
    pub status: Option<u16>,
    pub duration_ms: f64,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FallbackEvent {
    pub reason: FallbackReason,
    pub route: String,
    /// The route the task failed on before, if any.
    pub from: Option<String>,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HedgeEvent {
    pub route: Option<String>,
    pub from: Option<String>,
    pub after_ms: f64,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Retry(RetryEvent),
    GiveUp(GiveUpEvent),
    Shed(ShedEvent),
    Pressure(PressureEvent),
    Attempt(AttemptEvent),
    Eject(EjectEvent),
    Restore(RestoreEvent),
    Fallback(FallbackEvent),
    FallbackDefault(FallbackDefaultEvent),
    Hedge(HedgeEvent),
    Coordinator(CoordinatorEvent),
}

/// The client's shared budget changed mode (`core::lease`): `state` is `shared` or `degraded`;
/// `reason` is `granted` (back to shared), `timeout` or `error`.
#[derive(Debug, Clone, PartialEq)]
pub struct CoordinatorEvent {
    pub state: &'static str,
    pub reason: &'static str,
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Retry(_) => "retry",
            Event::GiveUp(_) => "giveup",
            Event::Shed(_) => "shed",
            Event::Pressure(_) => "pressure",
            Event::Attempt(_) => "attempt",
            Event::Eject(_) => "eject",
            Event::Restore(_) => "restore",
            Event::Fallback(_) => "fallback",
            Event::FallbackDefault(_) => "fallback-default",
            Event::Hedge(_) => "hedge",
            Event::Coordinator(_) => "coordinator",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_bit() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(bit(k), 1 << i, "{k}");
        }
        assert_eq!(bit("fallback-"), 0);
        assert_eq!(bit("nope"), 0);
        assert_eq!(bit(""), 0);
    }
}

//! One call in progress: what it asked for, the attempts it made and has in flight, and what it is
//! waiting for.
//!
//! A call is always in exactly one phase: waiting for its attempts (one, or two while a hedge
//! races the original), sleeping before its next attempt, queued for a concurrency slot, or
//! waiting for the executor's retry hooks to say how it goes on. The
//! engine (`engine.rs`) moves it between them; the timers it sets are checked against the phase
//! when they come up (`timers.rs`).

use crate::core::action::{Cause, Failure};
use crate::core::policy::{GiveUpReason, RequestMeta};
use crate::core::routing::{FallbackReason, Remainder};
use crate::prelude::*;
use alloc::borrow::Cow;

/// How an attempt ended. The strings are part of the JS contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A response arrived (any status).
    Response,
    /// It failed without a response.
    Error,
    /// Its `timeout.attemptMs`, or the call's deadline, ran out.
    Timeout,
    /// The caller aborted, or it lost a hedge race.
    Aborted,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Response => "response",
            AttemptOutcome::Error => "error",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::Aborted => "aborted",
        }
    }
}

/// One attempt of a call, as reported in `BallastError.attempts`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Attempt number (1 for the first); hedges can end out of order.
    pub attempt: u32,
    pub outcome: AttemptOutcome,
    pub status: Option<u16>,
    pub duration_ms: f64,
    pub route: Option<Rc<str>>,
}

/// An attempt in flight.
#[derive(Debug, Clone, Copy)]
pub struct Flight {
    pub id: u32,
    pub route: Option<usize>,
    pub probe: bool,
    pub hedge: bool,
    pub start: f64,
    /// It holds a concurrency slot (given back when it ends).
    pub holding: bool,
    /// When its `timeout.attemptMs` runs out.
    pub timeout_at: Option<f64>,
}

/// A call's attempts in flight, in the order they were sent: at most two (a hedge is sent only
/// while its call has one attempt in flight). Without the binding (the simulator) they are held
/// in the call itself (`inline::Flights`): every timer and every answer looks its attempt up
/// here, and with thousands of calls in progress a list of their own elsewhere on the heap cost
/// a second memory access each time, mostly a cache miss, and an allocation per call. The fetch
/// path, with far fewer calls, keeps a `Vec`, whose code is smaller.
#[cfg(feature = "binding")]
pub type Flights = Vec<Flight>;
#[cfg(not(feature = "binding"))]
pub use inline::Flights;

#[cfg(not(feature = "binding"))]
mod inline {
    use super::{AttemptRecord, Flight};
    use crate::prelude::*;

    /// Up to two attempts in flight, in place (`super::Flights`), as a slice of them.
    #[derive(Debug, Clone)]
    pub struct Flights {
        len: usize,
        items: [Flight; 2],
    }

    impl Default for Flights {
        fn default() -> Self {
            const NONE: Flight = Flight {
                id: 0,
                route: None,
                probe: false,
                hedge: false,
                start: 0.0,
                holding: false,
                timeout_at: None,
            };
            Flights {
                len: 0,
                items: [NONE; 2],
            }
        }
    }

    impl Flights {
        pub fn push(&mut self, f: Flight) {
            self.items[self.len] = f;
            self.len += 1;
        }

        /// Removes the one at `i`; the last takes its place (with two, the order is kept).
        pub fn swap_remove(&mut self, i: usize) -> Flight {
            let f = self.items[i];
            self.len -= 1;
            self.items[i] = self.items[self.len];
            f
        }

        pub fn clear(&mut self) {
            self.len = 0;
        }
    }

    /// Attempts held in place (`super::Attempts`): a call makes four at most unless configured
    /// otherwise.
    const IN_PLACE: usize = 4;

    /// The first `IN_PLACE` attempts in place, any others in a list (`super::Attempts`).
    #[derive(Debug, Clone, Default)]
    pub struct Attempts {
        len: usize,
        items: [Option<AttemptRecord>; IN_PLACE],
        more: Vec<AttemptRecord>,
    }

    impl Attempts {
        pub fn len(&self) -> usize {
            self.len
        }

        pub fn is_empty(&self) -> bool {
            self.len == 0
        }

        pub fn push(&mut self, a: AttemptRecord) {
            match self.items.get_mut(self.len) {
                Some(free) => *free = Some(a),
                None => self.more.push(a),
            }
            self.len += 1;
        }

        fn in_place(&mut self) -> &mut [Option<AttemptRecord>] {
            &mut self.items[..self.len.min(IN_PLACE)]
        }

        pub fn clear(&mut self) {
            self.in_place().fill(None);
            self.more.clear();
            self.len = 0;
        }

        pub fn iter(&self) -> impl Iterator<Item = &AttemptRecord> {
            self.items[..self.len.min(IN_PLACE)]
                .iter()
                .flatten()
                .chain(&self.more)
        }

        pub fn to_vec(&self) -> Vec<AttemptRecord> {
            self.iter().cloned().collect()
        }

        /// Appends them to `to` in order, and is left empty.
        pub fn move_into(&mut self, to: &mut Vec<AttemptRecord>) {
            to.reserve(self.len);
            to.extend(self.in_place().iter_mut().filter_map(Option::take));
            to.append(&mut self.more);
            self.len = 0;
        }
    }

    impl core::ops::Deref for Flights {
        type Target = [Flight];
        fn deref(&self) -> &[Flight] {
            &self.items[..self.len]
        }
    }

    impl core::ops::DerefMut for Flights {
        fn deref_mut(&mut self) -> &mut [Flight] {
            &mut self.items[..self.len]
        }
    }
}

/// The attempts a call has made (ended), in the order they ended. Without the binding (the
/// simulator) the first few are held in the call itself (`inline::Attempts`): thousands of calls
/// in progress outnumber the finished ones kept for reuse, and every new one allocated a list
/// for its attempts. The fetch path keeps a `Vec`, whose code is smaller.
#[cfg(feature = "binding")]
pub type Attempts = Vec<AttemptRecord>;
#[cfg(not(feature = "binding"))]
pub use inline::Attempts;

/// Moves a finished call's attempts into `to` (an empty list, maybe with capacity, which the
/// call may keep): the list a failure reports.
#[cfg(feature = "binding")]
pub fn take_attempts(attempts: &mut Attempts, to: Vec<AttemptRecord>) -> Vec<AttemptRecord> {
    core::mem::replace(attempts, to)
}

/// Moves a finished call's attempts into `to` (an empty list, maybe with capacity), keeping the
/// call's own list's capacity: the list a failure reports.
#[cfg(not(feature = "binding"))]
pub fn take_attempts(attempts: &mut Attempts, mut to: Vec<AttemptRecord>) -> Vec<AttemptRecord> {
    attempts.move_into(&mut to);
    to
}

/// What a call is waiting for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Its attempts in flight (`flights`), and maybe a hedge timer.
    Attempts,
    /// A backoff sleep until this instant, then the next attempt.
    Backoff(f64),
    /// A concurrency slot, queued since this instant.
    Queued(f64),
    /// The executor's retry hooks, on how the attempt in `Call::consult` ended.
    Consult,
}

/// How an attempt ended, inside the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// A response arrived. `retry_after_ms` is the wait its `Retry-After` (or a rate-limit header:
    /// `wait_header` names it) asks for, if any.
    Response {
        status: u16,
        retry_after_ms: Option<f64>,
        wait_header: Option<&'static str>,
    },
    Failed(Failure),
    /// `timeout.attemptMs` ran out.
    Timeout,
}

/// An attempt's end the executor's hooks were asked about (`Action::Consult`), kept until they
/// answer: what the engine would have done is decided again from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Consulted {
    pub attempt: u32,
    pub ended: Ended,
    pub hedge: bool,
    /// The engine's own verdict: retry.
    pub retry: bool,
    /// The wait the engine would retry after (backoff, or the response's `Retry-After`).
    pub delay_ms: f64,
}

pub struct Call {
    pub meta: RequestMeta,
    pub start_ms: f64,
    pub deadline_ms: Option<f64>,
    pub eligible: Result<(), GiveUpReason>,
    pub phase: Phase,
    pub prev_delay_ms: f64,
    pub attempts: Attempts,
    pub next_id: u32,
    pub flights: Flights,
    /// Path and query to append to a route's URL (in `meta.url`); `None` when the call is not
    /// routed.
    pub remainder: Option<Remainder>,
    /// The origin the caller addressed, when the call named one (an absolute URL); `None` for a
    /// path, whose addressed origin is the first configured route's. Credentials go there, and
    /// elsewhere only to routes that say `forwardCredentials`.
    pub addressed: Option<String>,
    pub failed_routes: Vec<usize>,
    pub forced_fallback: Option<FallbackReason>,
    pub served_by_fallback: bool,
    /// When the hedge for the current attempt is due, and how long after it started.
    pub hedge_at: Option<f64>,
    pub hedge_after_ms: f64,
    /// What the last attempt that failed without a response failed with, for the message.
    pub last_error: Option<Cause>,
    /// The attempt's end the hooks are deciding on (`Phase::Consult`).
    pub consult: Option<Consulted>,
}

impl Call {
    /// Empties a call that is over, for the next call to reuse its box and its lists' capacity
    /// (without them every call allocated and freed its `attempts` and `flights`).
    pub fn recycle(&mut self) {
        self.attempts.clear();
        self.flights.clear();
        self.failed_routes.clear();
        self.meta.url = Cow::Borrowed("");
        self.remainder = None;
        self.addressed = None;
        self.last_error = None;
        self.consult = None;
    }

    /// Makes a recycled call (`recycle`) a new one, as `Engine::begin` builds one: every field
    /// that `recycle` does not empty is set here.
    pub fn renew(
        &mut self,
        meta: RequestMeta,
        start_ms: f64,
        deadline_ms: Option<f64>,
        eligible: Result<(), GiveUpReason>,
        remainder: Option<Remainder>,
        addressed: Option<String>,
    ) {
        self.meta = meta;
        self.start_ms = start_ms;
        self.deadline_ms = deadline_ms;
        self.eligible = eligible;
        self.phase = Phase::Attempts;
        self.prev_delay_ms = 0.0;
        self.next_id = 1;
        self.remainder = remainder;
        self.addressed = addressed;
        self.forced_fallback = None;
        self.served_by_fallback = false;
        self.hedge_at = None;
        self.hedge_after_ms = 0.0;
    }

    pub fn flight(&self, id: u32) -> Option<&Flight> {
        self.flights.iter().find(|f| f.id == id)
    }

    /// Attempts made or in flight.
    pub fn used(&self) -> usize {
        self.attempts.len() + self.flights.len()
    }
}

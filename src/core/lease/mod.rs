//! Leased retries: one retry budget shared by many clients through a coordinator.
//!
//! Why: a budget's reserve (`minPerSec x ttl`) lets a quiet client retry a one-off blip, and it is
//! per client. Where one program runs as many clients at once (edge isolates, a fleet of
//! processes), the reserves add up: a reserve of one retry a second in each of 1,000 isolates is
//! 1,000 retries a second against an origin that is down, and the ratio cannot bring it down
//! because in an outage nobody deposits. So in shared mode the budget lives in one place, the
//! coordinator (`pkg/coordinator.js`: the same window arithmetic as `budget.rs`, its reserve
//! counted once for everyone), and a client spends tokens the coordinator leased to it.
//!
//! How, without a round trip per request:
//! - Every deposit the client makes is counted as unreported, and sent with the next lease
//!   request, so the coordinator's window sees everyone's traffic.
//! - Tokens are leased in small batches before they are needed: when the client holds a quarter
//!   of a batch or less, it wants a lease (`poll`), one request in flight at a time. A batch is
//!   twice the retries taken since the last request, within `MIN_WANT..=MAX_WANT`. A request that
//!   came back short is not repeated before the coordinator's window has moved on (a tenth of
//!   the budget's ttl).
//! - A retry takes a leased token or does not happen (give-up `budget-exhausted`): nothing ever
//!   waits for the coordinator. Requests fail open (a first attempt asks nobody), retries fail
//!   closed.
//! - Tokens expire (at most the budget's ttl after the grant), so a client that stalls does not
//!   hoard what others could use.
//! - The coordinator answering late (past `TIMEOUT_MS`, which the engine times itself) or failing
//!   puts the client in degraded mode: it retries on a local budget whose reserve is
//!   `DEGRADED_RESERVE` of `budget.minPerSec` (its ratio as configured: the ratio does not
//!   multiply with the number of clients, the reserve does), and asks the coordinator again after
//!   a backoff (`BACKOFF_MS` doubling to `MAX_BACKOFF_MS`). An answer past the timeout is dropped:
//!   its tokens expire at the coordinator unused, which errs on fewer retries. The first grant
//!   after that returns it to shared mode.
//!
//! The executor drives it through the engine (`Engine::set_shared`, `poll_lease`,
//! `handle_lease`); the engine times the request and reports mode changes as `coordinator` events.

/// How long the coordinator may take to answer a lease request.
pub const TIMEOUT_MS: f64 = 250.0;
/// The degraded local budget's reserve, as a share of `budget.minPerSec`.
pub const DEGRADED_RESERVE: f64 = 0.1;
/// The first wait before asking the coordinator again after it failed; doubles up to the next.
pub const BACKOFF_MS: f64 = 1_000.0;
pub const MAX_BACKOFF_MS: f64 = 30_000.0;
/// The smallest and largest batch asked for.
pub const MIN_WANT: u32 = 4;
pub const MAX_WANT: u32 = 64;
/// Unreported deposits worth a request of their own (a client that never retries still reports).
pub const REPORT_EVERY: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Shared,
    Degraded,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Shared => "shared",
            Mode::Degraded => "degraded",
        }
    }
}

/// What to send the coordinator: the request's id (its answer names it), the deposits made since
/// the last report, and how many tokens are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRequest {
    pub id: u32,
    pub deposits: u32,
    pub want: u32,
}

/// A change of mode, with why: `timeout` or `error` into degraded, `granted` back to shared.
pub type Change = (Mode, &'static str);

// The client's side: `Lease`. Builds without the `server` feature (the browsers': no coordinator
// reaches a page) get one that has no values, so the engine's `Option<Lease>` is always `None`
// and every line that would use one compiles away, with the engine's code the same in both.
#[cfg(feature = "server")]
mod client;
#[cfg(feature = "server")]
pub use client::Lease;
#[cfg(not(feature = "server"))]
mod off;
#[cfg(not(feature = "server"))]
pub use off::Lease;

//! Configuration: the shape users write and its defaults. Every field is declared once in
//! `schema.rs`; reading it from plain data is `read.rs`, checking it `check.rs`, its canonical
//! form (for fingerprints and diffs) `canonical.rs`.
//!
//! Why validate here and not in JS: the engine is the only place that knows what a value *means*
//! (a `budget.ratio` of 20 is legal but a `budget.ttlMs` of 20 is not), and every runtime gets the
//! same rules. Config drift is one of the quiet ways a tested setup breaks in production, so unknown
//! keys are errors (a typo such as `budget.ratoi` would otherwise silently fall back to a default)
//! and every error names the path, the bad value and the allowed range.
//!
//! Defaults are chosen for a browser or edge client (one user's tab, one Worker isolate), not for
//! a server fleet; the README explains each one.

use crate::core::value::Value;
use crate::prelude::*;
use core::fmt;

pub mod canonical;
mod check;
mod read;
pub mod schema;

pub use canonical::{canonical, fingerprint, fingerprint_mut, fingerprint_without_routes};
pub use check::{Checks, MAX_MS};
#[cfg(test)]
pub(crate) use read::fields_only;
pub use read::{join, read, read_all};
use schema::{
    in_optional, keys_at, route_slot, slot, Field, Id, Kind, Slot, FIELDS, LIMIT, OPTIONAL_OBJECT,
    ROUTE_FIELDS,
};

/// A validation failure that names the field (`budget.ratio`), the value and the allowed range.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: String,
    pub value: String,
    pub allowed: String,
}

impl ConfigError {
    /// `value` as shown in the message. A `String`, not `impl Display`: one copy of this in the
    /// wasm instead of one per value type.
    pub fn new(path: &str, value: String, allowed: &str) -> Self {
        ConfigError {
            path: path.to_string(),
            value,
            allowed: allowed.to_string(),
        }
    }
}

impl ConfigError {
    /// `invalid ballast config: <path> = <value> (allowed: <allowed>)`.
    pub fn message(&self) -> String {
        crate::core::print::invalid("config", &self.path, &self.value, &self.allowed)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// The four jitter strategies of the AWS "Exponential Backoff and Jitter" article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffKind {
    /// `min(cap, base * 2^n)`, no jitter.
    Exponential,
    /// `U(0, expo)`.
    Full,
    /// `expo / 2 + U(0, expo / 2)`.
    Equal,
    /// `min(cap, U(base, prev * 3))`.
    Decorrelated,
}

/// The names of the backoff kinds, as configs write them.
pub const BACKOFF_KINDS: [(&str, BackoffKind); 4] = [
    ("exponential", BackoffKind::Exponential),
    ("full", BackoffKind::Full),
    ("equal", BackoffKind::Equal),
    ("decorrelated", BackoffKind::Decorrelated),
];

#[derive(Debug, Clone, PartialEq)]
pub struct BackoffConfig {
    pub kind: BackoffKind,
    pub base_ms: f64,
    pub cap_ms: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            kind: BackoffKind::Full,
            base_ms: 100.0,
            cap_ms: 5_000.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts per task, the first one included.
    pub max_attempts: u32,
    pub backoff: BackoffConfig,
    pub statuses: Vec<u16>,
    pub methods: Vec<String>,
    pub max_retry_after_ms: f64,
}

pub const DEFAULT_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];
/// Safe or idempotent methods (RFC 9110 section 9.2), and QUERY (safe and idempotent, as ky and
/// undici retry it).
pub const DEFAULT_METHODS: [&str; 7] =
    ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "QUERY"];

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            backoff: BackoffConfig::default(),
            statuses: DEFAULT_STATUSES.to_vec(),
            methods: DEFAULT_METHODS.iter().map(|m| m.to_string()).collect(),
            max_retry_after_ms: 20_000.0,
        }
    }
}

/// When the retry budget earns tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositOn {
    /// Every call deposits (Finagle's RetryBudget, tower's TpsBudget): a full outage still costs
    /// `1 + ratio` times the traffic.
    Task,
    /// Only calls that succeed deposit (gRPC retry throttling's spirit): the budget grows with
    /// what the origin can serve, so a full outage costs only the reserve.
    Success,
}

/// The names of `budget.depositOn`'s values, as configs write them.
pub const DEPOSIT_ON: [(&str, DepositOn); 2] =
    [("success", DepositOn::Success), ("task", DepositOn::Task)];

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    pub deposit_on: DepositOn,
    /// Retries allowed per task, on average over `ttl_ms`.
    pub ratio: f64,
    /// Retries per second always allowed (the reserve), so a quiet client can still retry.
    pub min_per_sec: f64,
    /// How long a deposit stays in the bucket.
    pub ttl_ms: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            deposit_on: DepositOn::Success,
            ratio: 0.2,
            min_per_sec: 1.0,
            ttl_ms: 10_000.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutConfig {
    /// Fresh for every attempt; `None` (JS `null`) disables it.
    pub attempt_ms: Option<f64>,
    /// One deadline over queueing, attempts and sleeps; `None` disables it.
    pub total_ms: Option<f64>,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            attempt_ms: Some(10_000.0),
            total_ms: Some(30_000.0),
        }
    }
}

/// `concurrency.limit`: a fixed number of attempts in flight, or `"adaptive"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimitSetting {
    Fixed(f64),
    Adaptive,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConcurrencyConfig {
    /// Attempts in flight at once; `None` (JS `null`) for no limit.
    pub limit: Option<LimitSetting>,
    /// Attempts that may wait for a slot; beyond that they are shed at once.
    pub queue: f64,
    /// Longest wait for a slot before the task is shed.
    pub queue_timeout_ms: f64,
}

impl Default for ConcurrencyConfig {
    fn default() -> Self {
        ConcurrencyConfig {
            limit: Some(LimitSetting::Fixed(64.0)),
            queue: 256.0,
            queue_timeout_ms: 5_000.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PressureConfig {
    pub warn: f64,
    pub critical: f64,
    pub hysteresis: f64,
}

impl Default for PressureConfig {
    fn default() -> Self {
        PressureConfig {
            warn: 0.5,
            critical: 0.8,
            hysteresis: 0.1,
        }
    }
}

/// One route: an origin, mirror or region that can serve the same API.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteConfig {
    pub name: String,
    /// Absolute http(s) URL, optionally with a base path; normalised without a trailing `/`.
    pub url: String,
    pub weight: f64,
    /// Serves only when primaries are ejected, out of budget or failing.
    pub fallback: bool,
    /// Keep `Authorization`, `Cookie` and `Proxy-Authorization` when failing over to this route
    /// from another origin.
    pub forward_credentials: bool,
}

impl RouteConfig {
    /// A primary route of weight 1 that does not forward credentials (the defaults).
    pub fn new(name: &str, url: &str) -> Self {
        RouteConfig {
            name: name.to_string(),
            url: url.to_string(),
            weight: 1.0,
            fallback: false,
            forward_credentials: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchBudgetConfig {
    /// Route switches per task, on average.
    pub ratio: f64,
    pub min_per_sec: f64,
}

impl Default for SwitchBudgetConfig {
    fn default() -> Self {
        SwitchBudgetConfig {
            ratio: 0.2,
            min_per_sec: 1.0,
        }
    }
}

/// Outlier ejection, after Envoy's outlier detection and gRFC A50.
#[derive(Debug, Clone, PartialEq)]
pub struct EjectionConfig {
    pub consecutive_failures: f64,
    pub min_success_rate: f64,
    pub stdev_factor: f64,
    pub min_requests: f64,
    pub interval_ms: f64,
    pub base_ms: f64,
    pub max_ms: f64,
    pub max_percent: f64,
}

impl Default for EjectionConfig {
    fn default() -> Self {
        EjectionConfig {
            consecutive_failures: 5.0,
            min_success_rate: 0.8,
            stdev_factor: 1.9,
            min_requests: 10.0,
            interval_ms: 10_000.0,
            base_ms: 30_000.0,
            max_ms: 300_000.0,
            max_percent: 50.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingConfig {
    pub switch_budget: SwitchBudgetConfig,
    pub ejection: EjectionConfig,
    /// Successful probes in a row before an ejected route is restored.
    pub probes: f64,
    /// Share of recent tasks served by fallback above which fallback "is the default".
    pub fallback_default_share: f64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            switch_budget: SwitchBudgetConfig::default(),
            ejection: EjectionConfig::default(),
            probes: 3.0,
            fallback_default_share: 0.5,
        }
    }
}

/// Hedged requests (Finagle backup requests): one extra attempt when the first is slow.
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeConfig {
    pub after_ms: Option<f64>,
    pub percentile: Option<f64>,
    pub max_extra_load: f64,
}

impl Default for HedgeConfig {
    /// Neither trigger set (validation asks for one), 5% extra load (The Tail at Scale).
    fn default() -> Self {
        HedgeConfig {
            after_ms: None,
            percentile: None,
            max_extra_load: 0.05,
        }
    }
}

/// What messages and events may show of a request (`core::redact` says why).
#[derive(Debug, Clone, PartialEq)]
pub struct RedactConfig {
    /// Replace query parameter values by `REDACTED` (user-info is always left out).
    pub query: bool,
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig { query: true }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub routes: Vec<RouteConfig>,
    pub routing: RoutingConfig,
    pub hedge: Option<HedgeConfig>,
    pub retry: RetryConfig,
    pub budget: BudgetConfig,
    pub timeout: TimeoutConfig,
    pub concurrency: ConcurrencyConfig,
    pub pressure: PressureConfig,
    /// Seed for the jitter RNG; a random one (drawn on the first call) when absent.
    pub seed: Option<f64>,
    pub redact: RedactConfig,
}

/// What `concurrency.limit` may be, for messages.
pub const LIMIT_ALLOWED: &str = "an integer in [1, 100000], \"adaptive\", or null for no limit";

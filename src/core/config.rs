//! Configuration: the shape users write, its defaults, and validation.
//!
//! Why validate here and not in JS: the engine is the only place that knows what a value *means*
//! (a `budget.ratio` of 20 is legal but a `budget.ttlMs` of 20 is not), and every runtime gets the
//! same rules. Config drift is one of the quiet ways a tested setup breaks in production, so unknown
//! keys are errors (a typo such as `budget.ratoi` would otherwise silently fall back to a default)
//! and every error names the path, the bad value and the allowed range.
//!
//! Defaults are chosen for a browser or edge client (one user's tab, one Worker isolate), not for
//! a server fleet; the README explains each one.

use crate::prelude::*;
use core::fmt;

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
        cat!(
            "invalid ballast config: ",
            self.path,
            " = ",
            self.value,
            " (allowed: ",
            self.allowed,
            ")"
        )
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
pub const DEFAULT_METHODS: [&str; 6] = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"];

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
    /// Seed for the jitter RNG; the driver picks a random one when absent.
    pub seed: Option<f64>,
    pub redact: RedactConfig,
}

/// The first failed check of a config read (`wasm::read`) or of `Config::validated`. A failed
/// check does not stop the others; only the first error is kept, so the result is the same as
/// stopping there, and each check is one call instead of a call and a branch moving the error out
/// (smaller wasm, see `lib.rs`).
#[derive(Default)]
pub struct Checks(Option<ConfigError>);

impl Checks {
    pub fn fail(&mut self, e: ConfigError) {
        if self.0.is_none() {
            self.0 = Some(e);
        }
    }

    /// `value` if no check failed, else the first error.
    pub fn result<T>(self, value: T) -> Result<T, ConfigError> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    /// `v` must be a finite number in `[lo, hi]`.
    fn range(&mut self, path: &str, v: f64, lo: f64, hi: f64) {
        self.within(path, v, true, lo, hi, "a number in [");
    }

    /// `v` must be an integer in `[lo, hi]`.
    fn int(&mut self, path: &str, v: f64, lo: f64, hi: f64) {
        self.within(path, v, v.fract() == 0.0, lo, hi, "an integer in [");
    }

    fn within(&mut self, path: &str, v: f64, ok: bool, lo: f64, hi: f64, what: &str) {
        if !(ok && v.is_finite() && v >= lo && v <= hi) {
            let allowed = cat!(what, fmt_num(lo), ", ", fmt_num(hi), "]");
            self.fail(ConfigError::new(path, fmt_num(v), &allowed));
        }
    }
}

/// The scheme://host[:port] part of an absolute http(s) URL, lower-cased, default port dropped.
pub fn origin_of(url: &str) -> Option<String> {
    // By hand rather than `split_once("://")`: a `&str` pattern brings the two-way string
    // searcher (~2 KB of wasm) for this one three-byte needle.
    let at = url.as_bytes().windows(3).position(|w| w == b"://")?;
    // `get`, not indexing: no panic path (whose message formats a `char` with `Debug`).
    let (scheme, rest) = (url.get(..at)?, url.get(at + 3..)?);
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest.get(..end)?.to_ascii_lowercase();
    if host.is_empty() || host.contains('@') {
        return None;
    }
    let host = match (
        scheme.as_str(),
        host.strip_suffix(":80"),
        host.strip_suffix(":443"),
    ) {
        ("http", Some(h), _) | ("https", _, Some(h)) => h.to_string(),
        _ => host,
    };
    Some(cat!(scheme, "://", host))
}

/// `s` in double quotes, with quotes, backslashes and control characters escaped: what `{:?}`
/// prints for a string, without the `Debug` machinery (see `lib.rs` on the wasm size).
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                out.push_str("\\u{");
                push_hex(&mut out, c as u32);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `n` in lower-case hex, most significant digit first.
fn push_hex(out: &mut String, n: u32) {
    if n >= 16 {
        push_hex(out, n / 16);
    }
    out.push(char::from(b"0123456789abcdef"[(n % 16) as usize]));
}

impl Config {
    fn validate_routes(&mut self, ck: &mut Checks) {
        let n = self.routes.len();
        for i in 0..n {
            let r = &mut self.routes[i];
            if r.name.trim().is_empty() {
                ck.fail(ConfigError::new(
                    &cat!("routes[", i, "].name"),
                    quoted(&r.name),
                    "a non-empty string",
                ));
            }
            let trimmed = r.url.trim_end_matches('/').to_string();
            if origin_of(&trimmed).is_none() || trimmed.contains(['?', '#']) {
                // The message must not carry a password the user put in the URL by mistake.
                ck.fail(ConfigError::new(
                    &cat!("routes[", i, "].url"),
                    quoted(&crate::core::redact::mask_user_info(&r.url)),
                    "an absolute http(s) URL without user-info, query or fragment",
                ));
            }
            r.url = trimmed;
            ck.range(
                &cat!("routes[", i, "].weight"),
                r.weight,
                0.001,
                1_000_000.0,
            );
            let name = &self.routes[i].name;
            if self.routes[..i].iter().any(|o| o.name == *name) {
                ck.fail(ConfigError::new(
                    &cat!("routes[", i, "].name"),
                    quoted(name),
                    "a name no other route has",
                ));
            }
        }
        if n > 0 && self.routes.iter().all(|r| r.fallback) {
            ck.fail(ConfigError::new(
                "routes",
                "only fallback routes".into(),
                "at least one route without fallback: true",
            ));
        }
        let rt = &self.routing;
        ck.range(
            "routing.switchBudget.ratio",
            rt.switch_budget.ratio,
            0.0,
            10.0,
        );
        ck.range(
            "routing.switchBudget.minPerSec",
            rt.switch_budget.min_per_sec,
            0.0,
            10_000.0,
        );
        let e = &rt.ejection;
        ck.int(
            "routing.ejection.consecutiveFailures",
            e.consecutive_failures,
            1.0,
            1_000.0,
        );
        ck.range(
            "routing.ejection.minSuccessRate",
            e.min_success_rate,
            0.0,
            1.0,
        );
        ck.range("routing.ejection.stdevFactor", e.stdev_factor, 0.0, 100.0);
        ck.int(
            "routing.ejection.minRequests",
            e.min_requests,
            1.0,
            1_000_000.0,
        );
        ck.range("routing.ejection.intervalMs", e.interval_ms, 10.0, MAX_MS);
        ck.range("routing.ejection.baseMs", e.base_ms, 1.0, MAX_MS);
        ck.range("routing.ejection.maxMs", e.max_ms, e.base_ms, MAX_MS);
        ck.range("routing.ejection.maxPercent", e.max_percent, 0.0, 100.0);
        ck.int("routing.probes", rt.probes, 1.0, 1_000.0);
        ck.range(
            "routing.fallbackDefaultShare",
            rt.fallback_default_share,
            0.01,
            1.0,
        );
        if let Some(h) = &self.hedge {
            match (h.after_ms, h.percentile) {
                (Some(a), None) => ck.range("hedge.afterMs", a, 1.0, MAX_MS),
                (None, Some(p)) => ck.range("hedge.percentile", p, 50.0, 99.99),
                (Some(_), Some(_)) => ck.fail(ConfigError::new(
                    "hedge.percentile",
                    "set together with hedge.afterMs".into(),
                    "either hedge.afterMs or hedge.percentile, not both",
                )),
                (None, None) => ck.fail(ConfigError::new(
                    "hedge.afterMs",
                    "missing".into(),
                    "a delay in ms, or hedge.percentile instead",
                )),
            }
            ck.range("hedge.maxExtraLoad", h.max_extra_load, 0.0, 1.0);
        }
    }
}

/// What `concurrency.limit` may be, for messages.
pub const LIMIT_ALLOWED: &str = "an integer in [1, 100000], \"adaptive\", or null for no limit";

/// Numbers for messages, the way JS prints them for the values people write: integers without a
/// trailing `.0`, fractions with up to 9 decimals, `NaN` and the infinities by name. Only integer
/// formatting is used: `f64`'s `Display` alone would add ~14 KB to the wasm.
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return (if v > 0.0 { "Infinity" } else { "-Infinity" }).to_string();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let x = v.abs();
    if x >= 1e21 {
        return cat!(sign, exponential(x));
    }
    if x >= 1e15 || x.fract() == 0.0 {
        return cat!(sign, int_digits(x));
    }
    const SCALE: f64 = 1e9;
    let mut int = x.trunc() as u64;
    let mut frac = ((x - x.trunc()) * SCALE).round() as u64;
    if frac >= SCALE as u64 {
        int += 1;
        frac = 0;
    }
    let padded = cat!(frac + 1_000_000_000); // "1" and nine digits, zeros kept
    let digits = padded.get(1..).unwrap_or_default().trim_end_matches('0');
    if digits.is_empty() {
        cat!(sign, int)
    } else {
        cat!(sign, int, ".", digits)
    }
}

/// `x` (>= 1e21) the way JS prints it: `1e+308`, `1.5e+21`. Natively from Rust's shortest
/// round-trip digits. The wasm build never shows such numbers to users (the npm entry writes
/// config messages from the JS value) and carries no float formatting, so there it gives the
/// leading digit and the magnitude.
#[cfg(not(target_arch = "wasm32"))]
fn exponential(x: f64) -> String {
    alloc::format!("{x:e}").replacen('e', "e+", 1)
}

#[cfg(target_arch = "wasm32")]
fn exponential(x: f64) -> String {
    let (mut m, mut e) = (x / 1e21, 21u32);
    while m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    cat!(m.trunc() as u32, "e+", e)
}

/// The digits of `x as u128` (`x` >= 0, saturating). Up to `u64::MAX` through `cat!`;
/// above, by doubling the mantissa's decimal digits: `u128`'s `Display` (or even its division)
/// is ~1.5 KB of wasm for values nobody writes in a config.
fn int_digits(x: f64) -> String {
    if x < 18_446_744_073_709_551_616.0 {
        return cat!(x as u64);
    }
    if x >= 340_282_366_920_938_463_463_374_607_431_768_211_456.0 {
        return "340282366920938463463374607431768211455".to_string();
    }
    // x = mantissa * 2^exp exactly, with exp >= 12 here.
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) - 1075;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // Decimal digits, least significant first.
    let mut digits: Vec<u8> = crate::core::text::decimal(mantissa, &mut [0; 20])
        .iter()
        .rev()
        .map(|b| b - b'0')
        .collect();
    for _ in 0..exp {
        let mut carry = 0;
        for d in digits.iter_mut() {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    digits.iter().rev().map(|d| (b'0' + d) as char).collect()
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Every object in the config and the keys it may hold (`routes[]`: each element of `routes`).
/// The driver walks the user's object against this table before reading it, so a typo is an
/// error, not a silent default.
pub const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "retry",
            "budget",
            "timeout",
            "concurrency",
            "pressure",
            "routes",
            "routing",
            "hedge",
            "seed",
            "redact",
            "transport",
        ],
    ),
    ("redact", &["query"]),
    ("concurrency", &["limit", "queue", "queueTimeoutMs"]),
    (
        "routes[]",
        &["name", "url", "weight", "fallback", "forwardCredentials"],
    ),
    (
        "routing",
        &["switchBudget", "ejection", "probes", "fallbackDefaultShare"],
    ),
    ("routing.switchBudget", &["ratio", "minPerSec"]),
    (
        "routing.ejection",
        &[
            "consecutiveFailures",
            "minSuccessRate",
            "stdevFactor",
            "minRequests",
            "intervalMs",
            "baseMs",
            "maxMs",
            "maxPercent",
        ],
    ),
    ("hedge", &["afterMs", "percentile", "maxExtraLoad"]),
    ("pressure", &["warn", "critical", "hysteresis"]),
    (
        "retry",
        &[
            "maxAttempts",
            "backoff",
            "statuses",
            "methods",
            "maxRetryAfterMs",
        ],
    ),
    ("retry.backoff", &["kind", "baseMs", "capMs"]),
    ("budget", &["ratio", "minPerSec", "ttlMs", "depositOn"]),
    ("timeout", &["attemptMs", "totalMs"]),
];

/// The keys allowed in the object at `path`, or `None` if `path` is not an object in the schema.
pub fn known_keys(path: &str) -> Option<&'static [&'static str]> {
    KNOWN_KEYS.iter().find(|(p, _)| *p == path).map(|(_, k)| *k)
}

/// Upper bound for every duration: one hour. Longer waits are a configuration mistake in a
/// client that a person or an edge request is waiting on.
pub const MAX_MS: f64 = 3_600_000.0;

impl Config {
    /// Checks every field and normalises methods to upper case.
    pub fn validated(mut self) -> Result<Config, ConfigError> {
        let mut ck = Checks::default();
        let r = &mut self.retry;
        ck.int("retry.maxAttempts", f64::from(r.max_attempts), 1.0, 10.0);
        ck.range("retry.backoff.baseMs", r.backoff.base_ms, 0.0, MAX_MS);
        ck.range("retry.backoff.capMs", r.backoff.cap_ms, 0.0, MAX_MS);
        if r.backoff.cap_ms < r.backoff.base_ms {
            ck.fail(ConfigError::new(
                "retry.backoff.capMs",
                fmt_num(r.backoff.cap_ms),
                &cat!(
                    "a number >= retry.backoff.baseMs (",
                    fmt_num(r.backoff.base_ms),
                    ")"
                ),
            ));
        }
        for (i, s) in r.statuses.iter().enumerate() {
            if !(100..=599).contains(s) {
                ck.fail(ConfigError::new(
                    &cat!("retry.statuses[", i, "]"),
                    cat!(*s),
                    "an HTTP status in [100, 599]",
                ));
            }
        }
        for (i, m) in r.methods.iter_mut().enumerate() {
            if !is_token(m) {
                ck.fail(ConfigError::new(
                    &cat!("retry.methods[", i, "]"),
                    quoted(m),
                    "an HTTP method name such as \"GET\"",
                ));
            }
            *m = m.to_ascii_uppercase();
        }
        ck.range("retry.maxRetryAfterMs", r.max_retry_after_ms, 0.0, MAX_MS);

        let b = &self.budget;
        ck.range("budget.ratio", b.ratio, 0.0, 10.0);
        ck.range("budget.minPerSec", b.min_per_sec, 0.0, 10_000.0);
        ck.range("budget.ttlMs", b.ttl_ms, 1_000.0, 60_000.0);

        if let Some(v) = self.timeout.attempt_ms {
            ck.range("timeout.attemptMs", v, 1.0, MAX_MS);
        }
        if let Some(v) = self.timeout.total_ms {
            ck.range("timeout.totalMs", v, 1.0, MAX_MS);
        }
        let c = &self.concurrency;
        if let Some(LimitSetting::Fixed(n)) = c.limit {
            if !(n.is_finite() && n.fract() == 0.0 && (1.0..=100_000.0).contains(&n)) {
                ck.fail(ConfigError::new(
                    "concurrency.limit",
                    fmt_num(n),
                    LIMIT_ALLOWED,
                ));
            }
        }
        ck.int("concurrency.queue", c.queue, 0.0, 1_000_000.0);
        ck.range(
            "concurrency.queueTimeoutMs",
            c.queue_timeout_ms,
            0.0,
            MAX_MS,
        );

        let p = &self.pressure;
        ck.range("pressure.warn", p.warn, 0.01, 1.0);
        ck.range("pressure.critical", p.critical, p.warn, 1.0);
        ck.range("pressure.hysteresis", p.hysteresis, 0.0, p.warn);

        self.validate_routes(&mut ck);
        if let Some(s) = self.seed {
            ck.int("seed", s, 0.0, 9_007_199_254_740_991.0);
        }
        ck.result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(Config::default().validated().is_ok());
    }

    #[test]
    fn errors_name_the_path_and_range() {
        let mut c = Config::default();
        c.budget.ratio = -1.0;
        let e = c.validated().unwrap_err();
        assert_eq!(e.path, "budget.ratio");
        assert_eq!(e.value, "-1");
        assert!(e.to_string().contains("budget.ratio = -1"));
        assert!(e.allowed.contains("[0, 10]"));
    }

    /// Validation goes on past a failed check, but the first one is what is reported.
    #[test]
    fn the_first_failed_check_is_reported() {
        let mut c = Config {
            hedge: Some(HedgeConfig {
                after_ms: None,
                percentile: None,
                max_extra_load: 2.0,
            }),
            ..Default::default()
        };
        c.budget.ratio = -1.0;
        c.retry.backoff.cap_ms = -5.0;
        c.routes = vec![RouteConfig::new("", "nope")];
        assert_eq!(
            c.clone().validated().unwrap_err().path,
            "retry.backoff.capMs"
        );
        c.retry.backoff.cap_ms = 5_000.0;
        assert_eq!(c.clone().validated().unwrap_err().path, "budget.ratio");
        c.budget.ratio = 0.2;
        assert_eq!(c.clone().validated().unwrap_err().path, "routes[0].name");
        c.routes.clear();
        assert_eq!(c.validated().unwrap_err().path, "hedge.afterMs");
    }

    #[test]
    fn nan_and_cap_below_base_are_rejected() {
        let mut c = Config::default();
        c.timeout.total_ms = Some(f64::NAN);
        assert_eq!(c.validated().unwrap_err().path, "timeout.totalMs");
        let mut c = Config::default();
        c.retry.backoff.cap_ms = 10.0;
        assert_eq!(c.validated().unwrap_err().path, "retry.backoff.capMs");
    }

    #[test]
    fn quoted_prints_like_debug() {
        for s in [
            "",
            "GET",
            "a \"b\" \\ c",
            "tab\tnew\nline\r",
            "bell\u{7}",
            "\u{7f}",
            "é ✓",
        ] {
            assert_eq!(quoted(s), format!("{s:?}"));
        }
    }

    #[test]
    fn numbers_print_like_js() {
        for (v, want) in [
            (1.0, "1"),
            (-1.0, "-1"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (2.999_999_999_9, "3"),
            (1e20, "100000000000000000000"),
            (1e15 + 0.5, "1000000000000000"),
            (18_446_744_073_709_551_615.0, "18446744073709551616"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e30, "1e+30"),
            (-1e308, "-1e+308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (3.4e38, "3.4e+38"),
            (1.8e19, "18000000000000000000"),
            (-0.25, "-0.25"),
            (0.05, "0.05"),
            (7.000_000_001, "7.000000001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(fmt_num(v), want, "{v}");
        }
    }

    #[test]
    fn big_integers_print_like_u128() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..20_000 {
            let x = f64::from_bits(rng.u64(0x43e0_0000_0000_0000..0x47ff_ffff_ffff_ffff));
            assert_eq!(int_digits(x), (x as u128).to_string(), "{x}");
        }
    }

    #[test]
    fn methods_are_upper_cased_and_checked() {
        let mut c = Config::default();
        c.retry.methods = vec!["post".into()];
        assert_eq!(c.clone().validated().unwrap().retry.methods, vec!["POST"]);
        c.retry.methods = vec!["PO ST".into()];
        assert_eq!(c.validated().unwrap_err().path, "retry.methods[0]");
    }
}

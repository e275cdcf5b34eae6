//! The config's schema: every field declared once, with its path, what it holds, its allowed
//! range, where it lives in `Config`, and a doc line.
//!
//! Why one table: a field's shape otherwise lives in several places (the types and defaults, the
//! known keys, the reader, the range checks, the canonical form, the JSON Schema), and nothing
//! checks that they agree; a key listed but not read would be accepted and ignored. Here the
//! reader (`read.rs`), the unknown-key check, the range checks (`check.rs`), the canonical form
//! (`canonical.rs`) and the tools' JSON Schema all walk this table; defaults come from
//! `Config::default()` through the same accessors. Rules between fields (a cap above its base,
//! unique route names) stay in `check.rs`.
//!
//! The doc lines are a table of their own (`DOCS`, same order), which only the tools build
//! references, so the fetch path's wasm carries none of their text.

use super::*;

/// What a field holds and what is allowed. Ranges are indices into `RANGES` (a field is two
/// bytes of kind, not two floats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A finite number in the range.
    Num(Range),
    /// An integer in the range.
    Int(Range),
    /// A number in the range, or `null` to switch the feature off.
    OrNull(Range),
    /// An integer in the range, or `null` (as absent: none given).
    OptInt(Range),
    Flag,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// HTTP statuses (a set).
    Statuses,
    /// HTTP method names (a set, any case).
    Methods,
    /// `concurrency.limit`: an integer in `[1, 100000]`, `"adaptive"`, or `null`.
    Limit,
    /// A string that must be set (a route's name and URL).
    Text,
    /// `routes`: a list of objects with `ROUTE_FIELDS`.
    Routes,
}

/// A range of `RANGES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range(u8);

impl Range {
    /// `[lo, hi]`.
    pub fn bounds(self) -> (f64, f64) {
        RANGES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or((0.0, 0.0))
    }
}

const MS: f64 = MAX_MS;
/// Every range a field has.
const RANGES: [(f64, f64); 17] = [
    (0.0, MS),
    (1.0, MS),
    (0.0, 10.0),
    (0.0, 10_000.0),
    (1_000.0, 60_000.0),
    (0.0, 1.0),
    (0.01, 1.0),
    (1.0, 10.0),
    (0.0, 1_000_000.0),
    (1.0, 1_000.0),
    (0.0, 100.0),
    (1.0, 1_000_000.0),
    (10.0, MS),
    (50.0, 99.99),
    (0.0, 9_007_199_254_740_991.0),
    (0.001, 1_000_000.0),
    (1.0, 100_000.0),
];
const ANY_MS: Range = Range(0);
const POSITIVE_MS: Range = Range(1);
const RATIO: Range = Range(2);
const PER_SEC: Range = Range(3);
const TTL_MS: Range = Range(4);
const SHARE: Range = Range(5);
const LEVEL: Range = Range(6);
const ATTEMPTS: Range = Range(7);
const QUEUE: Range = Range(8);
const COUNT: Range = Range(9);
const PERCENT: Range = Range(10);
const REQUESTS: Range = Range(11);
const INTERVAL_MS: Range = Range(12);
const PERCENTILE: Range = Range(13);
const SEED: Range = Range(14);
const WEIGHT: Range = Range(15);
/// `concurrency.limit` when it is a number.
pub const LIMIT: Range = Range(16);

/// Where a field's value lives in a config (`slot`, `route_slot`), as one match.
pub enum Slot<'a> {
    Num(&'a mut f64),
    Count(&'a mut u32),
    Opt(&'a mut Option<f64>),
    Flag(&'a mut bool),
    Backoff(&'a mut BackoffKind),
    Deposit(&'a mut DepositOn),
    Statuses(&'a mut Vec<u16>),
    Methods(&'a mut Vec<String>),
    Limit(&'a mut Option<LimitSetting>),
    Text(&'a mut String),
    /// `routes`: read and checked item by item with `ROUTE_FIELDS`.
    Routes(&'a mut Vec<RouteConfig>),
}

/// A field of the schema: its path (dotted from the config's root, or a route's key), its kind,
/// and which slot holds it.
#[derive(Debug, Clone, Copy)]
pub struct Field<Id: 'static> {
    pub path: &'static str,
    pub kind: Kind,
    pub id: Id,
}

/// The object whose absence or `null` switches a feature off (its fields then have no value).
pub const OPTIONAL_OBJECT: &str = "hedge";
/// Root keys that are not configuration, accepted and never read: `transport` (code, set in
/// code) and `$schema` (a config file naming its JSON Schema for editors).
pub const CODE_KEYS: &[&str] = &["transport", "$schema"];

/// The names of an enumeration's values, from its `(name, value)` table.
const fn names<T: Copy, const N: usize>(pairs: &[(&'static str, T); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = pairs[i].0;
        i += 1;
    }
    out
}

pub const BACKOFF_NAMES: &[&str] = &names(&BACKOFF_KINDS);
pub const DEPOSIT_NAMES: &[&str] = &names(&DEPOSIT_ON);

fn hedge_mut(c: &mut Config) -> &mut HedgeConfig {
    c.hedge.get_or_insert_with(HedgeConfig::default)
}

/// Declares each field once: its id, its `FIELDS` entry, its slot in the match of `$slot`, and
/// its line in `DOCS`.
macro_rules! schema {
    ($ids:ident, $fields:ident, $docs:ident, $slot:ident, $t:ty:
     $( $id:ident $path:literal, $kind:expr, $variant:ident $place:expr, $doc:literal; )*) => {
        /// A field, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $ids { $( $id, )* }

        pub const $fields: &[Field<$ids>] = &[ $( Field { path: $path, kind: $kind, id: $ids::$id }, )* ];

        /// The doc line of each field, in the order of its table.
        pub const $docs: &[&str] = &[ $( $doc, )* ];

        /// Where field `id` lives in `c`.
        pub fn $slot(c: &mut $t, id: $ids) -> Slot<'_> {
            match id { $( $ids::$id => Slot::$variant(place($place)(c)), )* }
        }
    };
}

/// A place closure as it is: the bound gives the closure the signature a borrow through it needs
/// (a closure's own inference cannot tie the borrow it returns to its argument).
fn place<C, T: ?Sized, F: FnOnce(&mut C) -> &mut T>(f: F) -> F {
    f
}

schema! { Id, FIELDS, DOCS, slot, Config:
    MaxAttempts "retry.maxAttempts", Kind::Int(ATTEMPTS), Count |c: &mut Config| &mut c.retry.max_attempts,
        "Attempts per call, the first included (1: no retries).";
    BackoffKind "retry.backoff.kind", Kind::Choice(BACKOFF_NAMES), Backoff |c: &mut Config| &mut c.retry.backoff.kind,
        "How the wait before a retry is drawn: exponential (no jitter), full, equal or decorrelated jitter.";
    BackoffBase "retry.backoff.baseMs", Kind::Num(ANY_MS), Num |c: &mut Config| &mut c.retry.backoff.base_ms,
        "The first retry's backoff scale, in ms; it doubles per retry up to capMs.";
    BackoffCap "retry.backoff.capMs", Kind::Num(ANY_MS), Num |c: &mut Config| &mut c.retry.backoff.cap_ms,
        "The longest backoff, in ms (at least baseMs).";
    Statuses "retry.statuses", Kind::Statuses, Statuses |c: &mut Config| &mut c.retry.statuses,
        "Response statuses that are retried.";
    Methods "retry.methods", Kind::Methods, Methods |c: &mut Config| &mut c.retry.methods,
        "Methods retried without an Idempotency-Key (any case).";
    MaxRetryAfter "retry.maxRetryAfterMs", Kind::Num(ANY_MS), Num |c: &mut Config| &mut c.retry.max_retry_after_ms,
        "The longest Retry-After honoured, in ms; a longer one ends the call (0: Retry-After is not read).";
    BudgetRatio "budget.ratio", Kind::Num(RATIO), Num |c: &mut Config| &mut c.budget.ratio,
        "Retries allowed per call made, over the budget's window (0.2: retries add at most a fifth).";
    BudgetMin "budget.minPerSec", Kind::Num(PER_SEC), Num |c: &mut Config| &mut c.budget.min_per_sec,
        "Retries per second always allowed, however little traffic there is.";
    BudgetTtl "budget.ttlMs", Kind::Num(TTL_MS), Num |c: &mut Config| &mut c.budget.ttl_ms,
        "How long a deposit stays in the budget, in ms.";
    DepositOn "budget.depositOn", Kind::Choice(DEPOSIT_NAMES), Deposit |c: &mut Config| &mut c.budget.deposit_on,
        "What earns the budget a deposit: a call that succeeded, or any call made.";
    AttemptMs "timeout.attemptMs", Kind::OrNull(POSITIVE_MS), Opt |c: &mut Config| &mut c.timeout.attempt_ms,
        "How long one attempt may take, in ms (null: no per-attempt timeout).";
    TotalMs "timeout.totalMs", Kind::OrNull(POSITIVE_MS), Opt |c: &mut Config| &mut c.timeout.total_ms,
        "The call's deadline across attempts and backoff, in ms (null: none).";
    Limit "concurrency.limit", Kind::Limit, Limit |c: &mut Config| &mut c.concurrency.limit,
        "Attempts in flight at once: a number, \"adaptive\", or null for no limit.";
    Queue "concurrency.queue", Kind::Int(QUEUE), Num |c: &mut Config| &mut c.concurrency.queue,
        "Calls that may wait for a slot; beyond, a call is shed at once.";
    QueueTimeout "concurrency.queueTimeoutMs", Kind::Num(ANY_MS), Num |c: &mut Config| &mut c.concurrency.queue_timeout_ms,
        "How long a call may wait in the queue, in ms, before it is shed.";
    Warn "pressure.warn", Kind::Num(LEVEL), Num |c: &mut Config| &mut c.pressure.warn,
        "The pressure level at which the state becomes warn.";
    Critical "pressure.critical", Kind::Num(LEVEL), Num |c: &mut Config| &mut c.pressure.critical,
        "The pressure level at which the state becomes critical (at least warn).";
    Hysteresis "pressure.hysteresis", Kind::Num(SHARE), Num |c: &mut Config| &mut c.pressure.hysteresis,
        "How far below a threshold the level must fall to leave its state (at most warn).";
    SwitchRatio "routing.switchBudget.ratio", Kind::Num(RATIO), Num |c: &mut Config| &mut c.routing.switch_budget.ratio,
        "Retries sent to another primary route, per call made.";
    SwitchMin "routing.switchBudget.minPerSec", Kind::Num(PER_SEC), Num |c: &mut Config| &mut c.routing.switch_budget.min_per_sec,
        "Route switches per second always allowed.";
    ConsecutiveFailures "routing.ejection.consecutiveFailures", Kind::Int(COUNT), Num |c: &mut Config| &mut c.routing.ejection.consecutive_failures,
        "Failures in a row that eject a route.";
    MinSuccessRate "routing.ejection.minSuccessRate", Kind::Num(SHARE), Num |c: &mut Config| &mut c.routing.ejection.min_success_rate,
        "A route whose success rate over an interval is below this is ejected.";
    StdevFactor "routing.ejection.stdevFactor", Kind::Num(PERCENT), Num |c: &mut Config| &mut c.routing.ejection.stdev_factor,
        "With three or more routes, one below the mean success rate by this many deviations is ejected.";
    MinRequests "routing.ejection.minRequests", Kind::Int(REQUESTS), Num |c: &mut Config| &mut c.routing.ejection.min_requests,
        "Attempts a route needs in an interval before its success rate is judged.";
    Interval "routing.ejection.intervalMs", Kind::Num(INTERVAL_MS), Num |c: &mut Config| &mut c.routing.ejection.interval_ms,
        "How often success rates are judged, in ms.";
    EjectBase "routing.ejection.baseMs", Kind::Num(POSITIVE_MS), Num |c: &mut Config| &mut c.routing.ejection.base_ms,
        "The first ejection's length, in ms; it grows with each ejection in a row.";
    EjectMax "routing.ejection.maxMs", Kind::Num(POSITIVE_MS), Num |c: &mut Config| &mut c.routing.ejection.max_ms,
        "The longest ejection, in ms (at least baseMs).";
    MaxPercent "routing.ejection.maxPercent", Kind::Num(PERCENT), Num |c: &mut Config| &mut c.routing.ejection.max_percent,
        "The most routes, in percent, that may be ejected at once.";
    Probes "routing.probes", Kind::Int(COUNT), Num |c: &mut Config| &mut c.routing.probes,
        "Probe attempts an ejected route must pass to come back.";
    FallbackShare "routing.fallbackDefaultShare", Kind::Num(LEVEL), Num |c: &mut Config| &mut c.routing.fallback_default_share,
        "The share of calls served by fallbacks above which the fallback is said to be the default.";
    HedgeAfter "hedge.afterMs", Kind::OrNull(POSITIVE_MS), Opt |c: &mut Config| &mut hedge_mut(c).after_ms,
        "Send a hedge when the first attempt has taken this long, in ms (or set percentile instead).";
    HedgePercentile "hedge.percentile", Kind::OrNull(PERCENTILE), Opt |c: &mut Config| &mut hedge_mut(c).percentile,
        "Send a hedge when the first attempt is slower than this percentile of the route's latency.";
    HedgeLoad "hedge.maxExtraLoad", Kind::Num(SHARE), Num |c: &mut Config| &mut hedge_mut(c).max_extra_load,
        "Hedges allowed per call made (0.05: at most 5% more requests).";
    Routes "routes", Kind::Routes, Routes |c: &mut Config| &mut c.routes,
        "The origins a path is sent to, primaries first; each { name, url, weight?, fallback?, forwardCredentials? }.";
    Seed "seed", Kind::OptInt(SEED), Opt |c: &mut Config| &mut c.seed,
        "Seeds the jitter, for reproducible runs (default: a random seed per client).";
    RedactQuery "redact.query", Kind::Flag, Flag |c: &mut Config| &mut c.redact.query,
        "Show query values as REDACTED in messages and events.";
}

schema! { RouteId, ROUTE_FIELDS, ROUTE_DOCS, route_slot, RouteConfig:
    Name "name", Kind::Text, Text |r: &mut RouteConfig| &mut r.name,
        "The route's name, unique in the config (events, snapshot and state name routes by it).";
    Url "url", Kind::Text, Text |r: &mut RouteConfig| &mut r.url,
        "The route's base URL: an absolute http(s) URL without user-info, query or fragment.";
    Weight "weight", Kind::Num(WEIGHT), Num |r: &mut RouteConfig| &mut r.weight,
        "The route's share of the traffic among healthy routes of its kind, before scores.";
    Fallback "fallback", Kind::Flag, Flag |r: &mut RouteConfig| &mut r.fallback,
        "Serve only when the primaries cannot (ejected, failed, or out of switch budget).";
    ForwardCredentials "forwardCredentials", Kind::Flag, Flag |r: &mut RouteConfig| &mut r.forward_credentials,
        "Send Authorization, Cookie and Proxy-Authorization to this route's origin when it differs from the first route's.";
}

/// Whether `path` is inside the optional object.
pub fn in_optional(path: &str) -> bool {
    path.strip_prefix(OPTIONAL_OBJECT)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// The keys an object at `prefix` (`""`, `retry`, `routes[]`) may hold, in table order.
pub fn keys_at(prefix: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut add = |k: &'static str| {
        if !out.contains(&k) {
            out.push(k);
        }
    };
    if prefix == "routes[]" {
        ROUTE_FIELDS.iter().for_each(|f| add(f.path));
        return out;
    }
    for f in FIELDS {
        let rest = if prefix.is_empty() {
            Some(f.path)
        } else {
            f.path
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('.'))
        };
        if let Some(rest) = rest {
            add(rest.split('.').next().unwrap_or(rest));
        }
    }
    if prefix.is_empty() {
        CODE_KEYS.iter().for_each(|k| add(k));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::canonical::{field_value, value_of, Val};
    use crate::core::value::Value;

    #[test]
    fn every_field_has_one_doc_line_and_a_unique_path() {
        assert_eq!(FIELDS.len(), DOCS.len());
        assert_eq!(ROUTE_FIELDS.len(), ROUTE_DOCS.len());
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(!DOCS[i].is_empty(), "{}", f.path);
            assert!(
                FIELDS[..i].iter().all(|g| g.path != f.path),
                "{} twice",
                f.path
            );
        }
    }

    #[test]
    fn keys_at_each_level() {
        assert_eq!(
            keys_at(""),
            [
                "retry",
                "budget",
                "timeout",
                "concurrency",
                "pressure",
                "routing",
                "hedge",
                "routes",
                "seed",
                "redact",
                "transport",
                "$schema"
            ]
        );
        assert_eq!(keys_at("retry.backoff"), ["kind", "baseMs", "capMs"]);
        assert_eq!(
            keys_at("routing"),
            ["switchBudget", "ejection", "probes", "fallbackDefaultShare"]
        );
        assert_eq!(
            keys_at("routes[]"),
            ["name", "url", "weight", "fallback", "forwardCredentials"]
        );
        assert!(keys_at("nope").is_empty());
    }

    /// A value of `kind` other than `now`, as plain data and as its canonical value.
    fn another(kind: Kind, now: &Val) -> (Value, Val) {
        let num = |lo: f64, hi: f64, int: bool| {
            let mut x = if hi - lo > 4.0 {
                lo + 3.0
            } else {
                lo + (hi - lo) / 3.0
            };
            if int {
                x = x.floor();
            }
            if Val::Num(x) == *now {
                x = hi;
            }
            (Value::Num(x), Val::Num(x))
        };
        match kind {
            Kind::Num(r) => num(r.bounds().0, r.bounds().1, false),
            Kind::Int(r) | Kind::OptInt(r) => num(r.bounds().0, r.bounds().1, true),
            Kind::OrNull(r) if *now == Val::Null => num(r.bounds().0, r.bounds().1, false),
            Kind::OrNull(_) => (Value::Null, Val::Null),
            Kind::Flag => {
                let b = *now != Val::Bool(true);
                (Value::Bool(b), Val::Bool(b))
            }
            Kind::Choice(names) => {
                let n = names
                    .iter()
                    .find(|n| Val::Str((**n).into()) != *now)
                    .unwrap();
                (Value::Str((*n).into()), Val::Str((*n).into()))
            }
            Kind::Statuses => (Value::List(vec![Value::Num(418.0)]), Val::Nums(vec![418.0])),
            Kind::Methods => (
                Value::List(vec![Value::Str("PATCH".into())]),
                Val::Strs(vec!["PATCH".into()]),
            ),
            Kind::Limit => (Value::Str("adaptive".into()), Val::Str("adaptive".into())),
            Kind::Text | Kind::Routes => unreachable!(),
        }
    }

    /// `{ a: { b: value } }` for the path `a.b`.
    fn nested(path: &str, value: Value) -> Value {
        path.rsplit('.')
            .fold(value, |v, key| Value::Obj(vec![(key.into(), v)]))
    }

    /// A field declared but not read (or read into another field) fails here: each is set alone
    /// to a value other than its default, read (without the rules between fields, which a lone
    /// change may break), and found in the config that came out.
    #[test]
    fn every_field_is_read_into_its_own_place() {
        let defaults = Config::default();
        let hedging = Config {
            hedge: Some(HedgeConfig {
                after_ms: Some(100.0),
                ..HedgeConfig::default()
            }),
            ..Config::default()
        };
        for f in FIELDS.iter().filter(|f| f.kind != Kind::Routes) {
            let mut base = if f.path.starts_with("hedge.") {
                hedging.clone()
            } else {
                defaults.clone()
            };
            let now = field_value(&mut base, f).unwrap();
            let (plain, want) = another(f.kind, &now);
            let mut config = nested(f.path, plain);
            if f.path.starts_with("hedge.") && f.path != "hedge.afterMs" {
                // Hedging needs its trigger; afterMs and percentile exclude each other.
                if let Value::Obj(pairs) = &mut config {
                    if let Value::Obj(h) = &mut pairs[0].1 {
                        let trigger = if f.path == "hedge.percentile" {
                            Value::Null
                        } else {
                            Value::Num(100.0)
                        };
                        h.push(("afterMs".into(), trigger));
                    }
                }
            }
            if f.path == "hedge.afterMs" && want == Val::Null {
                if let Value::Obj(pairs) = &mut config {
                    if let Value::Obj(h) = &mut pairs[0].1 {
                        h.push(("percentile".into(), Value::Num(95.0)));
                    }
                }
            }
            let (mut c, problems) = fields_only(&config);
            assert_eq!(problems, vec![], "{}", f.path);
            assert_eq!(field_value(&mut c, f), Some(want), "{}", f.path);
            // Nothing else moved (but the hedge's own defaults, when it was switched on).
            let others = FIELDS
                .iter()
                .filter(|g| g.path != f.path && !g.path.starts_with("hedge."));
            for g in others {
                assert_eq!(
                    field_value(&mut c, g),
                    field_value(&mut defaults.clone(), g),
                    "{} moved {}",
                    f.path,
                    g.path
                );
            }
        }
        let route = |k: &str, v: Value| {
            let mut pairs = vec![
                ("name".into(), Value::Str("a".into())),
                ("url".into(), Value::Str("https://a.example".into())),
            ];
            pairs.retain(|(n, _): &(String, Value)| n != k);
            pairs.push((k.into(), v));
            Value::Obj(vec![(
                "routes".into(),
                Value::List(vec![Value::Obj(pairs)]),
            )])
        };
        let mut base = RouteConfig::new("a", "https://a.example");
        for f in ROUTE_FIELDS {
            let (plain, want) = match f.kind {
                Kind::Text if f.path == "url" => (
                    Value::Str("https://b.example/v2".into()),
                    Val::Str("https://b.example/v2".into()),
                ),
                Kind::Text => (Value::Str("b".into()), Val::Str("b".into())),
                k => another(k, &value_of(k, route_slot(&mut base, f.id))),
            };
            let (mut c, problems) = fields_only(&route(f.path, plain));
            assert_eq!(problems, vec![], "routes[0].{}", f.path);
            assert_eq!(
                value_of(f.kind, route_slot(&mut c.routes[0], f.id)),
                want,
                "routes[0].{}",
                f.path
            );
        }
    }

    #[test]
    fn every_problem_is_listed_in_order() {
        let config = Value::Obj(vec![
            ("retyr".into(), Value::Num(1.0)),
            (
                "retry".into(),
                Value::Obj(vec![
                    ("maxAttempts".into(), Value::Num(0.0)),
                    (
                        "statuses".into(),
                        Value::List(vec![Value::Num(42.0), Value::Num(503.0)]),
                    ),
                ]),
            ),
            ("budget".into(), Value::Str("lots".into())),
            (
                "pressure".into(),
                Value::Obj(vec![
                    ("warn".into(), Value::Num(0.9)),
                    ("critical".into(), Value::Num(0.6)),
                ]),
            ),
            (
                "timeout".into(),
                Value::Obj(vec![("totalMs".into(), Value::Num(-1.0))]),
            ),
        ]);
        let all = read_all(&config).unwrap_err();
        let paths: Vec<&str> = all.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "retyr",
                "retry.maxAttempts",
                "retry.statuses[0]",
                "budget",
                "timeout.totalMs",
                "pressure.critical"
            ]
        );
        assert_eq!(read(&config).unwrap_err(), all[0]);
    }

    #[test]
    fn choices_name_the_enums_in_their_order() {
        assert_eq!(
            BACKOFF_NAMES,
            ["exponential", "full", "equal", "decorrelated"]
        );
        assert_eq!(DEPOSIT_NAMES, ["success", "task"]);
    }
}

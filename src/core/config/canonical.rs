//! The canonical form of a config: every field, defaults filled in, in one fixed order, with the
//! values as they behave (statuses and methods as sets, `1` and `1.0` the same number). Two configs
//! that behave alike have the same canonical form however they were written, so the form is what
//! drift tooling compares (`fingerprint`, and the tools' diff and lint).
//!
//! Why a fingerprint at run time: staging and production drift apart one edited value at a time.
//! Each client reports the fingerprint of the config it runs (snapshot, metrics), so a dashboard
//! shows at once when two environments do not run the same config.

use super::*;
use crate::core::print::{fmt_num, quoted};
use crate::core::sort;

/// A field's value in the canonical form.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A set of numbers (statuses), sorted.
    Nums(Vec<f64>),
    /// A set of strings (methods), sorted.
    Strs(Vec<String>),
}

impl Val {
    /// How the value reads in a message or a diff (JSON-like).
    pub fn show(&self) -> String {
        match self {
            Val::Null => "null".into(),
            Val::Bool(b) => (if *b { "true" } else { "false" }).into(),
            Val::Num(n) => fmt_num(*n),
            Val::Str(s) => quoted(s),
            Val::Nums(v) => list(v.iter().map(|n| fmt_num(*n))),
            Val::Strs(v) => list(v.iter().map(|s| quoted(s))),
        }
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let mut out = String::from("[");
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&s);
    }
    out.push(']');
    out
}

/// One field of the canonical form: its path (`retry.backoff.baseMs`, `routes[1].url`) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub path: String,
    pub value: Val,
}

fn ms(v: Option<f64>) -> Val {
    v.map_or(Val::Null, Val::Num)
}

/// Every field of `c` (a validated config), in a fixed order. `transport` is code, not
/// configuration, and is not part of it.
pub fn canonical(c: &Config) -> Vec<Entry> {
    let mut out = Vec::with_capacity(48);
    let mut put = |path: &str, value: Val| {
        out.push(Entry {
            path: path.into(),
            value,
        })
    };
    let r = &c.retry;
    put("retry.maxAttempts", Val::Num(f64::from(r.max_attempts)));
    put(
        "retry.backoff.kind",
        Val::Str(backoff_name(r.backoff.kind).into()),
    );
    put("retry.backoff.baseMs", Val::Num(r.backoff.base_ms));
    put("retry.backoff.capMs", Val::Num(r.backoff.cap_ms));
    let mut statuses: Vec<f64> = r.statuses.iter().map(|s| f64::from(*s)).collect();
    sort::sort_by(&mut statuses, |a, b| a < b);
    statuses.dedup();
    put("retry.statuses", Val::Nums(statuses));
    let mut methods: Vec<String> = r.methods.iter().map(|m| m.to_ascii_uppercase()).collect();
    sort::sort_by(&mut methods, |a, b| a < b);
    methods.dedup();
    put("retry.methods", Val::Strs(methods));
    put("retry.maxRetryAfterMs", Val::Num(r.max_retry_after_ms));
    let b = &c.budget;
    put("budget.ratio", Val::Num(b.ratio));
    put("budget.minPerSec", Val::Num(b.min_per_sec));
    put("budget.ttlMs", Val::Num(b.ttl_ms));
    put(
        "budget.depositOn",
        Val::Str(deposit_name(b.deposit_on).into()),
    );
    put("timeout.attemptMs", ms(c.timeout.attempt_ms));
    put("timeout.totalMs", ms(c.timeout.total_ms));
    let k = &c.concurrency;
    put(
        "concurrency.limit",
        match k.limit {
            None => Val::Null,
            Some(LimitSetting::Fixed(n)) => Val::Num(n),
            Some(LimitSetting::Adaptive) => Val::Str("adaptive".into()),
        },
    );
    put("concurrency.queue", Val::Num(k.queue));
    put("concurrency.queueTimeoutMs", Val::Num(k.queue_timeout_ms));
    let p = &c.pressure;
    put("pressure.warn", Val::Num(p.warn));
    put("pressure.critical", Val::Num(p.critical));
    put("pressure.hysteresis", Val::Num(p.hysteresis));
    let rt = &c.routing;
    put(
        "routing.switchBudget.ratio",
        Val::Num(rt.switch_budget.ratio),
    );
    put(
        "routing.switchBudget.minPerSec",
        Val::Num(rt.switch_budget.min_per_sec),
    );
    let e = &rt.ejection;
    for (name, v) in [
        ("consecutiveFailures", e.consecutive_failures),
        ("minSuccessRate", e.min_success_rate),
        ("stdevFactor", e.stdev_factor),
        ("minRequests", e.min_requests),
        ("intervalMs", e.interval_ms),
        ("baseMs", e.base_ms),
        ("maxMs", e.max_ms),
        ("maxPercent", e.max_percent),
    ] {
        put(&cat!("routing.ejection.", name), Val::Num(v));
    }
    put("routing.probes", Val::Num(rt.probes));
    put(
        "routing.fallbackDefaultShare",
        Val::Num(rt.fallback_default_share),
    );
    match &c.hedge {
        None => put("hedge", Val::Null),
        Some(h) => {
            put("hedge.afterMs", ms(h.after_ms));
            put("hedge.percentile", ms(h.percentile));
            put("hedge.maxExtraLoad", Val::Num(h.max_extra_load));
        }
    }
    put("routes", Val::Num(c.routes.len() as f64));
    for (i, r) in c.routes.iter().enumerate() {
        let at = |f: &str| cat!("routes[", i, "].", f);
        put(&at("name"), Val::Str(r.name.clone()));
        put(&at("url"), Val::Str(r.url.clone()));
        put(&at("weight"), Val::Num(r.weight));
        put(&at("fallback"), Val::Bool(r.fallback));
        put(&at("forwardCredentials"), Val::Bool(r.forward_credentials));
    }
    put("seed", ms(c.seed));
    put("redact.query", Val::Bool(c.redact.query));
    out
}

/// A short, stable hash of the canonical form: 12 hex digits, the same in every runtime (it is
/// this code everywhere). FNV-1a over each path and value, numbers by their bits (with -0 as 0).
pub fn fingerprint(c: &Config) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &x in bytes {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let num = |n: f64| (if n == 0.0 { 0.0f64 } else { n }).to_bits().to_le_bytes();
    for e in canonical(c) {
        eat(e.path.as_bytes());
        eat(b"=");
        match &e.value {
            Val::Null => eat(b"n"),
            Val::Bool(b) => eat(if *b { b"t" } else { b"f" }),
            Val::Num(n) => eat(&num(*n)),
            Val::Str(s) => {
                eat(b"s");
                eat(s.as_bytes());
            }
            Val::Nums(v) => {
                for n in v {
                    eat(&num(*n));
                }
            }
            Val::Strs(v) => {
                for s in v {
                    eat(s.as_bytes());
                    eat(b",");
                }
            }
        }
        eat(b"\n");
    }
    let mut out = String::with_capacity(12);
    for i in (16..64).step_by(4).rev() {
        out.push(char::from(b"0123456789abcdef"[((h >> i) & 0xf) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(v: Value) -> String {
        fingerprint(&read(&v).unwrap())
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Obj(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn the_same_behaviour_however_written_has_one_fingerprint() {
        let empty = fp(obj(&[]));
        assert_eq!(empty.len(), 12);
        // Defaults written out.
        let budget = obj(&[("ratio", Value::Num(0.2)), ("minPerSec", Value::Num(1.0))]);
        assert_eq!(fp(obj(&[("budget", budget.clone())])), empty);
        // Key order.
        let budget2 = obj(&[("minPerSec", Value::Num(1.0)), ("ratio", Value::Num(0.2))]);
        assert_eq!(fp(obj(&[("budget", budget2)])), empty);
        // Statuses and methods as sets, methods in any case.
        let retry = |s: &[f64], m: &[&str]| {
            obj(&[(
                "retry",
                obj(&[
                    (
                        "statuses",
                        Value::List(s.iter().map(|n| Value::Num(*n)).collect()),
                    ),
                    (
                        "methods",
                        Value::List(m.iter().map(|x| Value::Str((*x).into())).collect()),
                    ),
                ]),
            )])
        };
        assert_eq!(
            fp(retry(&[503.0, 429.0], &["get", "PUT"])),
            fp(retry(&[429.0, 503.0, 503.0], &["PUT", "GET"]))
        );
        // Any change of behaviour changes it.
        assert_ne!(
            fp(obj(&[("budget", obj(&[("ratio", Value::Num(0.3))]))])),
            empty
        );
        assert_ne!(
            fp(obj(&[("timeout", obj(&[("totalMs", Value::Null)]))])),
            empty
        );
        assert_ne!(fp(obj(&[("seed", Value::Num(1.0))])), empty);
    }

    #[test]
    fn every_field_is_in_the_canonical_form() {
        let c = Config {
            hedge: Some(HedgeConfig {
                after_ms: Some(100.0),
                ..HedgeConfig::default()
            }),
            routes: vec![RouteConfig::new("a", "https://a.example")],
            ..Config::default()
        };
        let paths: Vec<String> = canonical(&c).into_iter().map(|e| e.path).collect();
        // Every key the reader knows, at every level, appears (lists by their elements).
        for (obj, keys) in KNOWN_KEYS {
            for k in keys.iter().filter(|k| **k != "transport") {
                let p = match *obj {
                    "" => String::from(*k),
                    "routes[]" => cat!("routes[0].", k),
                    o => cat!(o, ".", k),
                };
                assert!(
                    paths
                        .iter()
                        .any(|q| *q == p || q.starts_with(&cat!(p, "."))),
                    "{p} is not in the canonical form"
                );
            }
        }
    }
}

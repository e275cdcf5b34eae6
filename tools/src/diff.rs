//! `diff`: where two configs differ, field by field on their canonical forms (defaults filled in,
//! key order and number spelling irrelevant), each difference with a one-line consequence: what
//! the difference does to calls, not only that the numbers differ.

use ballast_fetch::core::config::canonical::{canonical, Entry, Val};
use ballast_fetch::core::config::Config;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub path: String,
    /// The value in each config, as JSON would show it (`null` when one config lacks the field,
    /// such as a route the other does not have).
    pub a: String,
    pub b: String,
    pub consequence: String,
}

fn num(v: Option<&Val>) -> Option<f64> {
    match v {
        Some(Val::Num(n)) => Some(*n),
        _ => None,
    }
}

fn secs(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", ms / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// `x` times, as people say it: "5x", "1.5x".
fn times(hi: f64, lo: f64) -> String {
    let r = hi / lo;
    if (r - r.round()).abs() < 0.05 {
        format!("{}x", r.round())
    } else {
        format!("{r:.1}x")
    }
}

/// The consequence of `path` being `a` in config `an` and `b` in config `bn`.
fn consequence(path: &str, a: Option<&Val>, b: Option<&Val>, an: &str, bn: &str) -> String {
    let (x, y) = (num(a), num(b));
    // Which side has more: (more's name, less's name, more, less).
    let order = |x: f64, y: f64| {
        if x >= y {
            (an, bn, x, y)
        } else {
            (bn, an, y, x)
        }
    };
    let null = |v: Option<&Val>| matches!(v, Some(Val::Null));
    match path {
        "timeout.attemptMs" => match (x, y) {
            (Some(x), Some(y)) => {
                let (m, _, hi, lo) = order(x, y);
                format!("attempt timeout {} vs {}: {m} waits {} longer on a hung attempt before retrying it", secs(x), secs(y), times(hi, lo))
            }
            _ => format!("{} has no attempt timeout: a hung attempt is only ended by the deadline", if null(a) { an } else { bn }),
        },
        "timeout.totalMs" => match (x, y) {
            (Some(x), Some(y)) => {
                let (m, _, hi, lo) = order(x, y);
                format!("deadline {} vs {}: a failing call in {m} can take {} longer before it fails", secs(x), secs(y), times(hi, lo))
            }
            _ => format!("{} has no deadline: retries and backoff can make a call last as long as they add up to", if null(a) { an } else { bn }),
        },
        "retry.maxAttempts" => match (x, y) {
            (Some(x), Some(y)) => {
                let (m, _, hi, lo) = order(x, y);
                format!("{x} vs {y} attempts per call: in an outage {m} sends up to {} the requests per call (as far as its budget allows)", times(hi, lo))
            }
            _ => String::new(),
        },
        "budget.ratio" => match (x, y) {
            (Some(x), Some(y)) => format!("retries capped at {:.0}% vs {:.0}% of the traffic in an outage", x * 100.0, y * 100.0),
            _ => String::new(),
        },
        "budget.minPerSec" => match (x, y) {
            (Some(x), Some(y)) => format!("a reserve of {x} vs {y} retries per second when nothing succeeds"),
            _ => String::new(),
        },
        "concurrency.limit" => {
            let show = |v: Option<&Val>| match v {
                Some(Val::Num(n)) => format!("{n} attempts in flight"),
                Some(Val::Str(_)) => "an adaptive limit".to_string(),
                _ => "no limit".to_string(),
            };
            let mut s = format!("{} vs {}", show(a), show(b));
            if null(a) || null(b) {
                s.push_str(&format!(": {} never sheds, so an overloaded origin gets every call", if null(a) { an } else { bn }));
            }
            s
        }
        "concurrency.queue" => match (x, y) {
            (Some(x), Some(y)) => format!("{x} vs {y} calls may wait for a slot before the rest are shed"),
            _ => String::new(),
        },
        "retry.backoff.baseMs" | "retry.backoff.capMs" => match (x, y) {
            (Some(x), Some(y)) => {
                let (m, _, hi, lo) = order(x, y);
                if lo > 0.0 {
                    format!("{m} waits {} longer between retries", times(hi, lo))
                } else {
                    format!("{} retries without waiting", if x == 0.0 { an } else { bn })
                }
            }
            _ => String::new(),
        },
        "retry.statuses" => "a status one config retries the other returns at once".into(),
        "retry.methods" => "a method one config retries the other never retries".into(),
        "routes" => "the configs have different numbers of routes".into(),
        p if p.starts_with("routes[") && p.ends_with(".url") => "the same route sends to different origins".into(),
        p if p.starts_with("routes[") && p.ends_with(".fallback") => "a route is a fallback in one config and a primary in the other".into(),
        p if p.starts_with("routing.ejection.") => "routes are ejected on different evidence or for different times".into(),
        p if p.starts_with("hedge") => "hedging differs: extra load and tail latency differ".into(),
        _ => String::new(),
    }
}

/// Every field that differs between `a` and `b` (named `an` and `bn` in the consequences), in
/// the canonical order.
pub fn diff(a: &Config, b: &Config, an: &str, bn: &str) -> Vec<Difference> {
    let (ca, cb) = (canonical(a), canonical(b));
    let find = |c: &[Entry], p: &str| c.iter().find(|e| e.path == p).map(|e| e.value.clone());
    let mut paths: Vec<&str> = ca.iter().map(|e| e.path.as_str()).collect();
    for e in &cb {
        if !paths.contains(&e.path.as_str()) {
            paths.push(&e.path);
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let (va, vb) = (find(&ca, p), find(&cb, p));
            if va == vb {
                return None;
            }
            let show = |v: &Option<Val>| v.as_ref().map_or("null".to_string(), Val::show);
            let mut c = consequence(p, va.as_ref(), vb.as_ref(), an, bn);
            if c.is_empty() {
                c = format!("{p} differs");
            }
            Some(Difference {
                path: p.to_string(),
                a: show(&va),
                b: show(&vb),
                consequence: c,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_fetch::core::config::{LimitSetting, RouteConfig};

    #[test]
    fn equal_configs_have_no_differences() {
        assert!(diff(&Config::default(), &Config::default(), "a", "b").is_empty());
    }

    #[test]
    fn each_difference_says_what_it_does() {
        let staging = Config::default();
        let mut prod = Config::default();
        prod.timeout.attempt_ms = Some(2_000.0);
        prod.retry.max_attempts = 2;
        prod.concurrency.limit = None;
        prod.routes = vec![RouteConfig::new("a", "https://a.example")];
        let d = diff(&prod, &staging, "production", "staging");
        let at = |p: &str| {
            d.iter()
                .find(|x| x.path == p)
                .unwrap_or_else(|| panic!("{p}: {d:?}"))
        };
        let t = at("timeout.attemptMs");
        assert_eq!((t.a.as_str(), t.b.as_str()), ("2000", "10000"));
        assert_eq!(t.consequence, "attempt timeout 2 s vs 10 s: staging waits 5x longer on a hung attempt before retrying it");
        assert!(at("retry.maxAttempts")
            .consequence
            .contains("staging sends up to 2x"));
        assert!(at("concurrency.limit")
            .consequence
            .contains("production never sheds"));
        assert_eq!(at("routes[0].url").b, "null");
        assert_eq!(
            d.len(),
            4 + 5,
            "the route's five fields count on their own: {d:?}"
        );
        let mut adaptive = Config::default();
        adaptive.concurrency.limit = Some(LimitSetting::Adaptive);
        assert_eq!(
            diff(&adaptive, &staging, "a", "b")[0].consequence,
            "an adaptive limit vs 64 attempts in flight"
        );
    }
}

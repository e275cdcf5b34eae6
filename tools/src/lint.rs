//! `lint`: configs that pass validation yet behave badly under pressure, each finding with a
//! stable rule id, a severity, the path it is about, what goes wrong and what to do instead.
//!
//! Why rules and not more validation: each of these is legal and sometimes meant (an unlimited
//! concurrency behind a gateway that limits it), so it must not stop `createFetch`; but copied
//! without thought, each one is how a config turns an incident into a worse one. Rule ids never
//! change meaning (CI suppressions and code-scanning history depend on them); a retired rule's id
//! is not reused.

use ballast_fetch::core::config::{BackoffKind, Config, LimitSetting};
use ballast_fetch::core::url::origin_of;
use serde::Serialize;

/// Where the docs explain each rule (`#bf001` ...).
pub const DOCS: &str = "https://github.com/ballast-fetch/ballast-fetch/blob/main/docs/drift.md";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Where the client runs, for rules that depend on the platform's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    #[default]
    Any,
    /// Cloudflare Workers: at most 6 connections open at once per request.
    Cloudflare,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// The config field it is about (`timeout.attemptMs`).
    pub path: String,
    pub message: String,
    pub fix: String,
    /// The rule's section in the docs.
    pub help: String,
}

/// Every rule: id, severity, a one-line title (the docs and SARIF's rule list).
pub const RULES: &[(&str, Severity, &str)] = &[
    ("BF001", Severity::Error, "retries without a budget"),
    (
        "BF002",
        Severity::Warning,
        "retries that cannot fit in the deadline",
    ),
    (
        "BF003",
        Severity::Error,
        "an attempt timeout as long as the deadline",
    ),
    (
        "BF004",
        Severity::Warning,
        "a queue timeout longer than the deadline",
    ),
    ("BF005", Severity::Warning, "no concurrency limit"),
    ("BF006", Severity::Warning, "an unbounded queue"),
    ("BF007", Severity::Warning, "non-idempotent methods retried"),
    (
        "BF008",
        Severity::Warning,
        "hedging without a budget, or with a large one",
    ),
    (
        "BF009",
        Severity::Warning,
        "a Retry-After cap longer than the deadline",
    ),
    (
        "BF010",
        Severity::Warning,
        "a retry budget above half the traffic",
    ),
    (
        "BF011",
        Severity::Warning,
        "fallback routes on the primaries' origin",
    ),
    (
        "BF012",
        Severity::Error,
        "more concurrency than a Worker may open",
    ),
];

/// A queue this long no longer bounds anything a client should hold.
const UNBOUNDED_QUEUE: f64 = 10_000.0;
/// Workers: simultaneous open connections per request.
const WORKER_CONNECTIONS: f64 = 6.0;

fn ms(v: f64) -> String {
    if v >= 1000.0 && v % 100.0 == 0.0 {
        format!("{} s", v / 1000.0)
    } else {
        format!("{v} ms")
    }
}

/// The worst case of the backoff before retry `n` (1-based), as `retry.backoff` bounds it.
fn worst_backoff(c: &Config, n: u32) -> f64 {
    let b = &c.retry.backoff;
    match b.kind {
        BackoffKind::Decorrelated => b.cap_ms,
        _ => (b.base_ms * 2f64.powi(n.saturating_sub(1).min(62) as i32)).min(b.cap_ms),
    }
}

/// The findings for a config (already validated), most severe first, then by rule.
pub fn lint(c: &Config, target: Target) -> Vec<Finding> {
    let mut out = Vec::new();
    // Most rules have one severity (RULES); `Some` overrides it (BF002: a warning only when no
    // retry fits).
    let mut add = |severity: Option<Severity>,
                   rule: &'static str,
                   path: &str,
                   message: String,
                   fix: String| {
        let severity = severity.unwrap_or_else(|| {
            RULES
                .iter()
                .find(|r| r.0 == rule)
                .map_or(Severity::Warning, |r| r.1)
        });
        out.push(Finding {
            rule,
            severity,
            path: path.into(),
            message,
            fix,
            help: format!("{DOCS}#{}", rule.to_ascii_lowercase()),
        });
    };
    let retries = c.retry.max_attempts.saturating_sub(1);
    let b = &c.budget;
    if retries > 0 && b.ratio >= f64::from(retries) {
        add(
            None,
            "BF001",
            "budget.ratio",
            format!(
                "budget.ratio {} lets every call use all {retries} of its retries: in an outage each call sends {} requests, the blind-retry storm the budget exists to stop",
                b.ratio, c.retry.max_attempts
            ),
            "keep budget.ratio well below 1 (the default 0.2: retries at most a fifth of the traffic)".into(),
        );
    }
    if let (Some(attempt), Some(total)) = (c.timeout.attempt_ms, c.timeout.total_ms) {
        if attempt >= total {
            add(
                None,
                "BF003",
                "timeout.attemptMs",
                format!(
                    "timeout.attemptMs {} >= timeout.totalMs {}: one slow attempt uses the whole deadline, so a timed-out attempt is never retried",
                    ms(attempt),
                    ms(total)
                ),
                "make attemptMs a fraction of totalMs (for example totalMs / maxAttempts)".into(),
            );
        } else if retries > 0 {
            // The last retry that can start: every attempt before it timed out, each followed by
            // the longest backoff.
            let mut t = 0.0;
            let mut fit = 0;
            for n in 1..=retries {
                t += attempt + worst_backoff(c, n);
                if t + attempt <= total {
                    fit = n;
                }
            }
            if fit < retries {
                // Retries after fast failures still happen; against an origin that hangs, only
                // `fit` do. None at all is a warning; some is worth knowing (the defaults: one).
                let severity = if fit == 0 {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                add(
                    Some(severity),
                    "BF002",
                    "retry.maxAttempts",
                    format!(
                        "retry.maxAttempts {} with timeout.attemptMs {} and up to {} of backoff: after timeouts only {} of {} retries fit in timeout.totalMs {}",
                        c.retry.max_attempts,
                        ms(attempt),
                        ms(c.retry.backoff.cap_ms),
                        fit,
                        retries,
                        ms(total)
                    ),
                    format!("lower retry.maxAttempts to {}, shorten timeout.attemptMs, or raise timeout.totalMs", fit + 1),
                );
            }
        }
    }
    let q = &c.concurrency;
    if let Some(total) = c.timeout.total_ms {
        if q.limit.is_some() && q.queue > 0.0 && q.queue_timeout_ms > total {
            add(
                None,
                "BF004",
                "concurrency.queueTimeoutMs",
                format!(
                    "concurrency.queueTimeoutMs {} > timeout.totalMs {}: a queued call reaches its deadline first and is never shed as queue-timeout",
                    ms(q.queue_timeout_ms),
                    ms(total)
                ),
                "keep queueTimeoutMs below totalMs (the default 5 s)".into(),
            );
        }
    }
    match q.limit {
        None => add(
            None,
            "BF005",
            "concurrency.limit",
            "concurrency.limit null: no cap on attempts in flight, so an origin that slows down piles up requests until it falls over, and nothing is shed".into(),
            "set a limit (the default 64) or \"adaptive\"".into(),
        ),
        Some(limit) => {
            if q.queue >= UNBOUNDED_QUEUE {
                add(
                    None,
                    "BF006",
                    "concurrency.queue",
                    format!("concurrency.queue {}: a queue this long only adds waiting; calls time out in it instead of being shed at once", q.queue),
                    "keep the queue to a few times the limit (the default 256)".into(),
                );
            }
            if target == Target::Cloudflare {
                let n = match limit {
                    LimitSetting::Fixed(n) => Some(n),
                    LimitSetting::Adaptive => None,
                };
                if n.is_none_or(|n| n > WORKER_CONNECTIONS) {
                    add(
                        None,
                        "BF012",
                        "concurrency.limit",
                        format!(
                            "concurrency.limit {} on Cloudflare Workers, which open at most {WORKER_CONNECTIONS} connections at once per request: the rest wait inside the runtime, where ballast cannot see or shed them",
                            n.map_or("\"adaptive\"".to_string(), |n| n.to_string())
                        ),
                        format!("set concurrency.limit to {WORKER_CONNECTIONS} or less"),
                    );
                }
            }
        }
    }
    let unsafe_methods: Vec<&str> = c
        .retry
        .methods
        .iter()
        .map(String::as_str)
        .filter(|m| matches!(*m, "POST" | "PATCH"))
        .collect();
    if !unsafe_methods.is_empty() && retries > 0 {
        add(
            None,
            "BF007",
            "retry.methods",
            format!(
                "retry.methods lists {}: such calls are retried even without an Idempotency-Key, and a retry after a lost response repeats the side effect",
                unsafe_methods.join(" and ")
            ),
            "leave POST and PATCH out: ballast retries them when the request carries an Idempotency-Key header".into(),
        );
    }
    if let Some(h) = &c.hedge {
        if h.max_extra_load == 0.0 || h.max_extra_load > 0.2 {
            add(
                None,
                "BF008",
                "hedge.maxExtraLoad",
                if h.max_extra_load == 0.0 {
                    "hedge.maxExtraLoad 0: hedging is configured but may never send a hedge".into()
                } else {
                    format!(
                        "hedge.maxExtraLoad {}: up to {:.0}% more requests when the origin is slow, which is when it can least take them",
                        h.max_extra_load,
                        h.max_extra_load * 100.0
                    )
                },
                "keep hedges to a few percent of the traffic (the default 0.05)".into(),
            );
        }
    }
    if let Some(total) = c.timeout.total_ms {
        if c.retry.max_retry_after_ms > total {
            add(
                None,
                "BF009",
                "retry.maxRetryAfterMs",
                format!(
                    "retry.maxRetryAfterMs {} > timeout.totalMs {}: a Retry-After that long is never waited out; the call gives up at its deadline instead",
                    ms(c.retry.max_retry_after_ms),
                    ms(total)
                ),
                "keep maxRetryAfterMs below totalMs".into(),
            );
        }
    }
    if b.ratio > 0.5 && !(retries > 0 && b.ratio >= f64::from(retries)) {
        add(
            None,
            "BF010",
            "budget.ratio",
            format!(
                "budget.ratio {}: retries may reach {:.0}% of the traffic in an outage",
                b.ratio,
                b.ratio * 100.0
            ),
            "keep it at or below 0.5 (the default 0.2)".into(),
        );
    }
    let primaries: Vec<Option<String>> = c
        .routes
        .iter()
        .filter(|r| !r.fallback)
        .map(|r| origin_of(&r.url))
        .collect();
    for (i, r) in c.routes.iter().enumerate().filter(|(_, r)| r.fallback) {
        let origin = origin_of(&r.url);
        if !primaries.is_empty() && primaries.iter().all(|p| *p == origin) {
            add(
                None,
                "BF011",
                &format!("routes[{i}].url"),
                format!(
                    "fallback route {:?} is on the same origin as every primary ({}): an origin that is down takes its fallback with it",
                    r.name,
                    origin.unwrap_or_default()
                ),
                "point the fallback at another origin (a mirror, a CDN, another region)".into(),
            );
        }
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_fetch::core::config::{HedgeConfig, RouteConfig};

    fn rules(c: &Config, t: Target) -> Vec<&'static str> {
        lint(c, t).iter().map(|f| f.rule).collect()
    }

    #[test]
    fn the_defaults_are_clean() {
        // One note: against an origin that hangs, 10 s attempts fit one retry in the 30 s deadline.
        let f = lint(&Config::default(), Target::Any);
        assert_eq!(
            f.iter().map(|f| (f.rule, f.severity)).collect::<Vec<_>>(),
            [("BF002", Severity::Info)]
        );
        let mut c = Config::default();
        c.concurrency.limit = Some(LimitSetting::Fixed(6.0));
        c.timeout.attempt_ms = Some(7_000.0);
        assert_eq!(rules(&c, Target::Cloudflare), Vec::<&str>::new());
    }

    /// Each rule: a config that triggers it, and the nearest one that does not.
    #[test]
    fn each_rule_fires_on_its_case_and_not_on_the_nearest_fine_one() {
        type Edit = fn(&mut Config);
        let cases: &[(&str, Target, Edit, Edit)] = &[
            (
                "BF001",
                Target::Any,
                |c| c.budget.ratio = 3.0,
                |c| c.budget.ratio = 0.5,
            ),
            (
                "BF002",
                Target::Any,
                |c| {
                    c.timeout.attempt_ms = Some(10_000.0);
                    c.timeout.total_ms = Some(25_000.0);
                },
                |c| {
                    c.timeout.attempt_ms = Some(5_000.0);
                    c.timeout.total_ms = Some(30_000.0);
                },
            ),
            (
                "BF003",
                Target::Any,
                |c| c.timeout.attempt_ms = Some(30_000.0),
                |c| c.timeout.attempt_ms = Some(7_000.0),
            ),
            (
                "BF004",
                Target::Any,
                |c| c.concurrency.queue_timeout_ms = 40_000.0,
                |c| c.concurrency.queue_timeout_ms = 20_000.0,
            ),
            (
                "BF005",
                Target::Any,
                |c| c.concurrency.limit = None,
                |c| c.concurrency.limit = Some(LimitSetting::Adaptive),
            ),
            (
                "BF006",
                Target::Any,
                |c| c.concurrency.queue = 50_000.0,
                |c| c.concurrency.queue = 1_000.0,
            ),
            (
                "BF007",
                Target::Any,
                |c| c.retry.methods.push("POST".into()),
                |c| c.retry.methods.push("QUERY".into()),
            ),
            (
                "BF008",
                Target::Any,
                |c| {
                    c.hedge = Some(HedgeConfig {
                        after_ms: Some(200.0),
                        percentile: None,
                        max_extra_load: 0.5,
                    })
                },
                |c| {
                    c.hedge = Some(HedgeConfig {
                        after_ms: Some(200.0),
                        percentile: None,
                        max_extra_load: 0.05,
                    })
                },
            ),
            (
                "BF009",
                Target::Any,
                |c| c.retry.max_retry_after_ms = 60_000.0,
                |c| c.retry.max_retry_after_ms = 20_000.0,
            ),
            (
                "BF010",
                Target::Any,
                |c| c.budget.ratio = 0.8,
                |c| c.budget.ratio = 0.5,
            ),
            (
                "BF011",
                Target::Any,
                |c| {
                    c.routes = vec![
                        RouteConfig::new("a", "https://api.example.com/v1"),
                        RouteConfig {
                            fallback: true,
                            ..RouteConfig::new("b", "https://api.example.com/v2")
                        },
                    ];
                },
                |c| {
                    c.routes = vec![
                        RouteConfig::new("a", "https://api.example.com/v1"),
                        RouteConfig {
                            fallback: true,
                            ..RouteConfig::new("b", "https://mirror.example.net")
                        },
                    ];
                },
            ),
            (
                "BF012",
                Target::Cloudflare,
                |c| c.concurrency.limit = Some(LimitSetting::Fixed(64.0)),
                |c| c.concurrency.limit = Some(LimitSetting::Fixed(6.0)),
            ),
        ];
        for (rule, target, bad, good) in cases {
            let mut c = Config::default();
            bad(&mut c);
            let c = c.validated().unwrap();
            let found = lint(&c, *target);
            let f = found
                .iter()
                .find(|f| f.rule == *rule)
                .unwrap_or_else(|| panic!("{rule} did not fire: {found:?}"));
            assert!(
                !f.message.is_empty()
                    && !f.fix.is_empty()
                    && f.help.ends_with(&rule.to_ascii_lowercase())
            );
            let mut c = Config::default();
            good(&mut c);
            let c = c.validated().unwrap();
            assert!(
                !rules(&c, *target).contains(rule),
                "{rule} fired on the fine case: {:?}",
                lint(&c, *target)
            );
        }
        assert_eq!(cases.len(), RULES.len(), "every rule has a case");
    }

    #[test]
    fn findings_come_most_severe_first() {
        let mut c = Config::default();
        c.concurrency.limit = None;
        c.budget.ratio = 5.0;
        let f = lint(&c, Target::Any);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f.windows(2).all(|w| w[0].severity >= w[1].severity));
    }
}

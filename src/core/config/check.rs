//! Checking a config: every range, every cross-field rule, and the first problem reported with
//! the path, the value and what is allowed.
//!
//! A failed check does not stop the others; only the first error is kept, so the result is the same
//! as stopping there, and each check is one call instead of a call and a branch moving the error
//! out.

use super::*;
use crate::core::print::{fmt_num, quoted};
use crate::core::url::origin_of;

/// The first failed check of a config read (`read.rs`) or of `Config::validated`.
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

/// Upper bound for every duration: one hour. Longer waits are a configuration mistake in a
/// client that a person or an edge request is waiting on.
pub const MAX_MS: f64 = 3_600_000.0;

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

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
    fn methods_are_upper_cased_and_checked() {
        let mut c = Config::default();
        c.retry.methods = vec!["post".into()];
        assert_eq!(c.clone().validated().unwrap().retry.methods, vec!["POST"]);
        c.retry.methods = vec!["PO ST".into()];
        assert_eq!(c.validated().unwrap_err().path, "retry.methods[0]");
    }
}

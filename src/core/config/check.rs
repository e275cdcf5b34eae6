//! Checking a config: every range, every cross-field rule, and the first problem reported with
//! the path, the value and what is allowed.
//!
//! A failed check does not stop the others; only the first error is kept, so the result is the same
//! as stopping there, and each check is one call instead of a call and a branch moving the error
//! out.

use super::*;
use crate::core::print::{fmt_num, quoted};
use crate::core::sort;
use crate::core::url::origin_of;

/// The failed checks of a config read (`read.rs`) or of `Config::validated`, in order.
#[derive(Default)]
pub struct Checks(Vec<ConfigError>);

impl Checks {
    pub fn fail(&mut self, e: ConfigError) {
        // One problem per path: a field that fails twice (its type, then a rule) says it once.
        if !self.0.iter().any(|x| x.path == e.path) {
            self.0.push(e);
        }
    }

    /// `value` if no check failed, else the first error.
    pub fn result<T>(self, value: T) -> Result<T, ConfigError> {
        self.all(value).map_err(|mut all| all.swap_remove(0))
    }

    /// `value` if no check failed, else every error.
    pub fn all<T>(self, value: T) -> Result<T, Vec<ConfigError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
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
    /// Checks every field and normalises methods to upper case and route URLs without a final
    /// slash; the first problem, if any.
    pub fn validated(self) -> Result<Config, ConfigError> {
        let mut ck = Checks::default();
        let c = self.check_ranges(&mut ck).check(&mut ck);
        ck.result(c)
    }

    /// Every field's range, as the schema gives it (what the reader checks as it reads).
    pub(crate) fn check_ranges(mut self, ck: &mut Checks) -> Config {
        for f in FIELDS {
            if self.hedge.is_none() && in_optional(f.path) {
                continue; // off: its fields have no value to check
            }
            range(ck, f.path, f.kind, slot(&mut self, f.id));
        }
        for (i, r) in self.routes.iter_mut().enumerate() {
            for f in ROUTE_FIELDS {
                let path = cat!("routes[", i, "].", f.path);
                range(ck, &path, f.kind, route_slot(r, f.id));
            }
        }
        self
    }

    /// The rules between fields, and what only a whole value shows (a method's name, a route's
    /// URL); normalises methods and route URLs.
    pub(crate) fn check(mut self, ck: &mut Checks) -> Config {
        let r = &mut self.retry;
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
        // Sets: their order and repeats mean nothing, so the canonical form (fingerprints,
        // `snapshot().config`) shows each once, in order.
        sort::sort_by(&mut r.statuses, |a, b| a < b);
        r.statuses.dedup();
        sort::sort_by(&mut r.methods, |a, b| a < b);
        r.methods.dedup();
        let p = &self.pressure;
        at_least(ck, "pressure.critical", p.critical, "pressure.warn", p.warn);
        if p.hysteresis > p.warn {
            ck.fail(ConfigError::new(
                "pressure.hysteresis",
                fmt_num(p.hysteresis),
                &cat!("a number <= pressure.warn (", fmt_num(p.warn), ")"),
            ));
        }
        let e = &self.routing.ejection;
        at_least(
            ck,
            "routing.ejection.maxMs",
            e.max_ms,
            "routing.ejection.baseMs",
            e.base_ms,
        );
        self.check_routes(ck);
        if let Some(h) = &self.hedge {
            match (h.after_ms, h.percentile) {
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
                _ => {}
            }
        }
        self
    }

    fn check_routes(&mut self, ck: &mut Checks) {
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
    }
}

/// `v` (at `path`) must be at least `other` (the field at `other_path`).
fn at_least(ck: &mut Checks, path: &str, v: f64, other_path: &str, other: f64) {
    if v < other {
        ck.fail(ConfigError::new(
            path,
            fmt_num(v),
            &cat!("a number >= ", other_path, " (", fmt_num(other), ")"),
        ));
    }
}

/// The range check of one field, as its kind says.
fn range(ck: &mut Checks, path: &str, kind: Kind, slot: Slot<'_>) {
    match (kind, slot) {
        (Kind::Num(r), Slot::Num(v)) => {
            let (lo, hi) = r.bounds();
            ck.range(path, *v, lo, hi)
        }
        (Kind::Int(r), Slot::Num(v)) => {
            let (lo, hi) = r.bounds();
            ck.int(path, *v, lo, hi)
        }
        (Kind::Int(r), Slot::Count(v)) => {
            let (lo, hi) = r.bounds();
            ck.int(path, f64::from(*v), lo, hi)
        }
        (Kind::OrNull(r), Slot::Opt(Some(v))) => {
            let (lo, hi) = r.bounds();
            ck.range(path, *v, lo, hi)
        }
        (Kind::OptInt(r), Slot::Opt(Some(v))) => {
            let (lo, hi) = r.bounds();
            ck.int(path, *v, lo, hi)
        }
        (Kind::Statuses, Slot::Statuses(v)) => {
            for (i, s) in v.iter().enumerate() {
                if !(100..=599).contains(s) {
                    ck.fail(ConfigError::new(
                        &cat!(path, "[", i, "]"),
                        cat!(*s),
                        "an HTTP status in [100, 599]",
                    ));
                }
            }
        }
        (Kind::Limit, Slot::Limit(Some(LimitSetting::Fixed(n)))) => {
            let (lo, hi) = LIMIT.bounds();
            if !(n.is_finite() && n.fract() == 0.0 && (lo..=hi).contains(n)) {
                ck.fail(ConfigError::new(path, fmt_num(*n), LIMIT_ALLOWED));
            }
        }
        _ => {}
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

    /// Validation goes on past a failed check; the first one is what is reported: ranges in the
    /// schema's order, then the rules between fields.
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
        assert_eq!(
            c.clone().validated().unwrap_err().path,
            "hedge.maxExtraLoad"
        );
        c.hedge.as_mut().unwrap().max_extra_load = 0.1;
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

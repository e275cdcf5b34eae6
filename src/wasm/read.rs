//! Reading the user's JS config object into `Config`, field by field.
//!
//! Why by hand and not with serde-wasm-bindgen: generic deserialisation (plus path tracking for
//! error messages) was the single largest part of the wasm binary (~49 KB), for a schema of a few
//! dozen fields. Typed accessors that know the path they read give the same errors (path, value,
//! what is allowed) with a fraction of the code. Absent fields (`undefined`) keep their defaults;
//! ranges are checked afterwards by `Config::validated`, unknown keys by `config::unknown_key`.
//!
//! A bad field does not stop the reading: its error goes into a slot shared by the whole read
//! (`First`, `config::Checks` behind a `RefCell`), which keeps the first one, and the field keeps
//! its default. So a field costs one call, not a call plus a branch that moves a `ConfigError` out
//! (4.3 KB less wasm, with the same change in `Config::validated`). The error reported is the same
//! as if reading had stopped there.

use crate::core::config::{
    quoted, BackoffKind, Checks, Config, ConfigError, DepositOn, HedgeConfig, LimitSetting,
    RouteConfig, LIMIT_ALLOWED,
};
use crate::prelude::*;
use core::cell::RefCell;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

type R<T> = Result<T, ConfigError>;

/// The first error of a read, shared by the objects being read.
#[derive(Default)]
struct First(RefCell<Checks>);

impl First {
    fn fail(&self, e: ConfigError) {
        self.0.borrow_mut().fail(e)
    }
}

/// A JS object being read, with its path for messages.
struct Obj<'a> {
    v: JsValue,
    path: String,
    first: &'a First,
}

/// The value is left for the npm entry to render (`config.rs`).
fn bad(path: &str, allowed: &str) -> ConfigError {
    ConfigError::new(path, String::new(), allowed)
}

impl<'a> Obj<'a> {
    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            cat!(self.path, ".", key)
        }
    }

    fn get(&self, key: &str) -> (String, JsValue) {
        let v = Reflect::get(&self.v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        (self.key_path(key), v)
    }

    /// A nested object; `None` when absent or not an object (then the error is recorded).
    fn obj(&self, key: &str) -> Option<Obj<'a>> {
        let (path, v) = self.get(key);
        if v.is_undefined() {
            return None;
        }
        if !v.is_object() || Array::is_array(&v) || v.is_function() {
            self.first.fail(bad(&path, "an object"));
            return None;
        }
        Some(Obj {
            v,
            path,
            first: self.first,
        })
    }

    /// The value at `key` converted by `conv`: `None` when absent (the default stays) or when
    /// `conv` refuses it (then an error naming what is `allowed` is recorded).
    fn typed<T>(
        &self,
        key: &str,
        allowed: &str,
        conv: impl Fn(&JsValue) -> Option<T>,
    ) -> Option<T> {
        let (path, v) = self.get(key);
        if v.is_undefined() {
            return None;
        }
        let t = conv(&v);
        if t.is_none() {
            self.first.fail(bad(&path, allowed));
        }
        t
    }

    /// Overwrites `into` with the value at `key`, if present and valid.
    fn set<T>(&self, key: &str, allowed: &str, conv: impl Fn(&JsValue) -> Option<T>, into: &mut T) {
        if let Some(t) = self.typed(key, allowed, conv) {
            *into = t;
        }
    }

    fn num(&self, key: &str, into: &mut f64) {
        self.set(key, "a number", JsValue::as_f64, into)
    }

    /// A number, or `null` to switch the feature off.
    fn nullable(&self, key: &str, into: &mut Option<f64>) {
        let conv = |v: &JsValue| {
            if v.is_null() {
                Some(None)
            } else {
                v.as_f64().map(Some)
            }
        };
        self.set(key, "a number, or null to disable", conv, into)
    }

    fn int(&self, key: &str, into: &mut u32) {
        let conv = |v: &JsValue| {
            v.as_f64()
                .filter(|n| n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n))
                .map(|n| n as u32)
        };
        self.set(key, "a non-negative integer", conv, into)
    }

    fn flag(&self, key: &str, into: &mut bool) {
        self.set(key, "true or false", JsValue::as_bool, into)
    }

    /// One of the given names.
    fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)], into: &mut T) {
        let names: Vec<String> = options.iter().map(|(n, _)| quoted(n)).collect();
        let conv = |v: &JsValue| {
            let s = v.as_string()?;
            options.iter().find(|(name, _)| *name == s).map(|(_, t)| *t)
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let allowed = cat!("one of ", super::join(&names, ", "));
        self.set(key, &allowed, conv, into)
    }

    /// An array and its path; `None` when absent or not an array (then the error is recorded).
    fn array(&self, key: &str) -> Option<(String, Array)> {
        let (path, v) = self.get(key);
        if v.is_undefined() {
            return None;
        }
        if !Array::is_array(&v) {
            self.first.fail(bad(&path, "an array"));
            return None;
        }
        Some((path, v.into()))
    }

    /// The items `conv` accepts; for the others an error naming what is `allowed` is recorded.
    fn list<T>(
        &self,
        key: &str,
        allowed: &str,
        conv: impl Fn(&JsValue) -> Option<T>,
    ) -> Option<Vec<T>> {
        let (path, items) = self.array(key)?;
        let mut out = Vec::with_capacity(items.length() as usize);
        for (i, v) in items.iter().enumerate() {
            match conv(&v) {
                Some(t) => out.push(t),
                None => self.first.fail(bad(&item_path(&path, i), allowed)),
            }
        }
        Some(out)
    }

    /// A string that must be there: absent is an error too.
    fn required(&self, key: &str) -> Option<String> {
        let (path, v) = self.get(key);
        if v.is_undefined() {
            self.first
                .fail(ConfigError::new(&path, "missing".into(), "required"));
            return None;
        }
        let s = v.as_string();
        if s.is_none() {
            self.first.fail(bad(&path, "a string"));
        }
        s
    }
}

fn status(v: &JsValue) -> Option<u16> {
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && (100.0..=599.0).contains(n))
        .map(|n| n as u16)
}

fn item_path(path: &str, i: usize) -> String {
    cat!(path, "[", i, "]")
}

fn route(path: String, v: JsValue, first: &First) -> Option<RouteConfig> {
    if !v.is_object() || Array::is_array(&v) {
        let allowed = "an object { name, url, weight?, fallback?, forwardCredentials? }";
        first.fail(bad(&path, allowed));
        return None;
    }
    let o = Obj { v, path, first };
    let (name, url) = (o.required("name"), o.required("url"));
    let mut r = RouteConfig::new(&name?, &url?);
    o.num("weight", &mut r.weight);
    o.flag("fallback", &mut r.fallback);
    o.flag("forwardCredentials", &mut r.forward_credentials);
    Some(r)
}

/// Reads everything the user set over the defaults. Ranges are checked later by `validated`.
pub fn read(config: &JsValue) -> R<Config> {
    let first = First::default();
    let root = Obj {
        v: config.clone(),
        path: String::new(),
        first: &first,
    };
    let mut c = Config::default();
    if let Some(r) = root.obj("retry") {
        let cr = &mut c.retry;
        r.int("maxAttempts", &mut cr.max_attempts);
        if let Some(b) = r.obj("backoff") {
            let kinds = [
                ("exponential", BackoffKind::Exponential),
                ("full", BackoffKind::Full),
                ("equal", BackoffKind::Equal),
                ("decorrelated", BackoffKind::Decorrelated),
            ];
            b.choice("kind", &kinds, &mut cr.backoff.kind);
            b.num("baseMs", &mut cr.backoff.base_ms);
            b.num("capMs", &mut cr.backoff.cap_ms);
        }
        if let Some(s) = r.list("statuses", "an HTTP status in [100, 599]", status) {
            cr.statuses = s;
        }
        let method = "an HTTP method name such as \"GET\"";
        if let Some(m) = r.list("methods", method, JsValue::as_string) {
            cr.methods = m;
        }
        r.num("maxRetryAfterMs", &mut cr.max_retry_after_ms);
    }
    if let Some(b) = root.obj("budget") {
        let on = [("success", DepositOn::Success), ("task", DepositOn::Task)];
        b.choice("depositOn", &on, &mut c.budget.deposit_on);
        b.num("ratio", &mut c.budget.ratio);
        b.num("minPerSec", &mut c.budget.min_per_sec);
        b.num("ttlMs", &mut c.budget.ttl_ms);
    }
    if let Some(t) = root.obj("timeout") {
        t.nullable("attemptMs", &mut c.timeout.attempt_ms);
        t.nullable("totalMs", &mut c.timeout.total_ms);
    }
    if let Some(k) = root.obj("concurrency") {
        let (path, v) = k.get("limit");
        if v.is_null() {
            c.concurrency.limit = None;
        } else if let Some(n) = v.as_f64() {
            c.concurrency.limit = Some(LimitSetting::Fixed(n));
        } else if v.as_string().as_deref() == Some("adaptive") {
            c.concurrency.limit = Some(LimitSetting::Adaptive);
        } else if !v.is_undefined() {
            first.fail(bad(&path, LIMIT_ALLOWED));
        }
        k.num("queue", &mut c.concurrency.queue);
        k.num("queueTimeoutMs", &mut c.concurrency.queue_timeout_ms);
    }
    if let Some(p) = root.obj("pressure") {
        p.num("warn", &mut c.pressure.warn);
        p.num("critical", &mut c.pressure.critical);
        p.num("hysteresis", &mut c.pressure.hysteresis);
    }
    if let Some((path, items)) = root.array("routes") {
        c.routes = items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| route(item_path(&path, i), v, &first))
            .collect();
    }
    if let Some(rt) = root.obj("routing") {
        let cr = &mut c.routing;
        if let Some(s) = rt.obj("switchBudget") {
            s.num("ratio", &mut cr.switch_budget.ratio);
            s.num("minPerSec", &mut cr.switch_budget.min_per_sec);
        }
        if let Some(e) = rt.obj("ejection") {
            let ce = &mut cr.ejection;
            e.num("consecutiveFailures", &mut ce.consecutive_failures);
            e.num("minSuccessRate", &mut ce.min_success_rate);
            e.num("stdevFactor", &mut ce.stdev_factor);
            e.num("minRequests", &mut ce.min_requests);
            e.num("intervalMs", &mut ce.interval_ms);
            e.num("baseMs", &mut ce.base_ms);
            e.num("maxMs", &mut ce.max_ms);
            e.num("maxPercent", &mut ce.max_percent);
        }
        rt.num("probes", &mut cr.probes);
        rt.num("fallbackDefaultShare", &mut cr.fallback_default_share);
    }
    let (_, hedge) = root.get("hedge");
    if !hedge.is_null() {
        if let Some(h) = root.obj("hedge") {
            let mut hc = HedgeConfig::default();
            h.nullable("afterMs", &mut hc.after_ms);
            h.nullable("percentile", &mut hc.percentile);
            h.num("maxExtraLoad", &mut hc.max_extra_load);
            c.hedge = Some(hc);
        }
    }
    if let Some(seed) = root.typed("seed", "a number", JsValue::as_f64) {
        c.seed = Some(seed);
    }
    if let Some(r) = root.obj("redact") {
        r.flag("query", &mut c.redact.query);
    }
    first.0.into_inner().result(c)
}

//! Reading a config from plain data (`core::value`) into a `Config`: unknown keys first (walked
//! against `KNOWN_KEYS`: a typo such as `budget.ratoi` is an error, not a silent default), then
//! each field's type, then every range (`Config::validated`).
//!
//! A bad field does not stop the reading: its error goes into a slot shared by the whole read
//! (`First`), which keeps the first one, and the field keeps its default. The error reported is
//! the same as if reading had stopped there.

use super::*;
use crate::core::print::quoted;
use core::cell::RefCell;

/// A config from plain data: every problem is a `ConfigError` naming the first one's path.
pub fn read(config: &Value) -> Result<Config, ConfigError> {
    if !matches!(config, Value::Obj(_)) {
        return Err(ConfigError::new("config", config.show(), "an object"));
    }
    if let Some(e) = unknown_key(config, "") {
        return Err(e);
    }
    fields(config).and_then(Config::validated)
}

/// `parts.join(sep)` without `join`'s generic, separator-specialised copy loop.
pub fn join(parts: &[&str], sep: &str) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
    out
}

type R<T> = Result<T, ConfigError>;

/// The first error of a read, shared by the objects being read.
#[derive(Default)]
struct First(RefCell<Checks>);

impl First {
    fn fail(&self, e: ConfigError) {
        self.0.borrow_mut().fail(e)
    }
}

/// An object being read, with its path for messages.
struct Obj<'a> {
    v: &'a Value,
    path: String,
    first: &'a First,
}

fn bad(path: &str, v: &Value, allowed: &str) -> ConfigError {
    ConfigError::new(path, v.show(), allowed)
}

impl<'a> Obj<'a> {
    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            cat!(self.path, ".", key)
        }
    }

    /// The value at `key`, if set.
    fn get(&self, key: &str) -> (String, Option<&'a Value>) {
        (self.key_path(key), self.v.get(key))
    }

    /// A nested object; `None` when absent or not an object (then the error is recorded).
    fn obj(&self, key: &str) -> Option<Obj<'a>> {
        let (path, v) = self.get(key);
        let v = v?;
        if !matches!(v, Value::Obj(_)) {
            self.first.fail(bad(&path, v, "an object"));
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
    fn typed<T>(&self, key: &str, allowed: &str, conv: impl Fn(&Value) -> Option<T>) -> Option<T> {
        let (path, v) = self.get(key);
        let v = v?;
        let t = conv(v);
        if t.is_none() {
            self.first.fail(bad(&path, v, allowed));
        }
        t
    }

    /// Overwrites `into` with the value at `key`, if present and valid.
    fn set<T>(&self, key: &str, allowed: &str, conv: impl Fn(&Value) -> Option<T>, into: &mut T) {
        if let Some(t) = self.typed(key, allowed, conv) {
            *into = t;
        }
    }

    fn num(&self, key: &str, into: &mut f64) {
        self.set(key, "a number", Value::as_f64, into)
    }

    /// A number, or `null` to switch the feature off.
    fn nullable(&self, key: &str, into: &mut Option<f64>) {
        let conv = |v: &Value| match v {
            Value::Null => Some(None),
            v => v.as_f64().map(Some),
        };
        self.set(key, "a number, or null to disable", conv, into)
    }

    fn int(&self, key: &str, into: &mut u32) {
        let conv = |v: &Value| {
            v.as_f64()
                .filter(|n| n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n))
                .map(|n| n as u32)
        };
        self.set(key, "a non-negative integer", conv, into)
    }

    fn flag(&self, key: &str, into: &mut bool) {
        self.set(key, "true or false", Value::as_bool, into)
    }

    /// One of the given names.
    fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)], into: &mut T) {
        let names: Vec<String> = options.iter().map(|(n, _)| quoted(n)).collect();
        let conv = |v: &Value| {
            let s = v.as_str()?;
            options.iter().find(|(name, _)| *name == s).map(|(_, t)| *t)
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let allowed = cat!("one of ", join(&names, ", "));
        self.set(key, &allowed, conv, into)
    }

    /// An array and its path; `None` when absent or not an array (then the error is recorded).
    fn array(&self, key: &str) -> Option<(String, &'a [Value])> {
        let (path, v) = self.get(key);
        match v? {
            Value::List(items) => Some((path, items)),
            v => {
                self.first.fail(bad(&path, v, "an array"));
                None
            }
        }
    }

    /// The items `conv` accepts; for the others an error naming what is `allowed` is recorded.
    fn list<T>(
        &self,
        key: &str,
        allowed: &str,
        conv: impl Fn(&Value) -> Option<T>,
    ) -> Option<Vec<T>> {
        let (path, items) = self.array(key)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.iter().enumerate() {
            match conv(v) {
                Some(t) => out.push(t),
                None => self.first.fail(bad(&item_path(&path, i), v, allowed)),
            }
        }
        Some(out)
    }

    /// A string that must be there: absent is an error too.
    fn required(&self, key: &str) -> Option<String> {
        let (path, v) = self.get(key);
        let Some(v) = v else {
            self.first
                .fail(ConfigError::new(&path, "missing".into(), "required"));
            return None;
        };
        let s = v.as_str().map(str::to_string);
        if s.is_none() {
            self.first.fail(bad(&path, v, "a string"));
        }
        s
    }
}

fn status(v: &Value) -> Option<u16> {
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && (100.0..=599.0).contains(n))
        .map(|n| n as u16)
}

fn item_path(path: &str, i: usize) -> String {
    cat!(path, "[", i, "]")
}

fn route(path: String, v: &Value, first: &First) -> Option<RouteConfig> {
    if !matches!(v, Value::Obj(_)) {
        let allowed = "an object { name, url, weight?, fallback?, forwardCredentials? }";
        first.fail(bad(&path, v, allowed));
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

/// Reads everything the user set over the defaults (types only; `read` checks unknown keys first
/// and ranges after).
fn fields(config: &Value) -> R<Config> {
    let first = First::default();
    let root = Obj {
        v: config,
        path: String::new(),
        first: &first,
    };
    let mut c = Config::default();
    if let Some(r) = root.obj("retry") {
        let cr = &mut c.retry;
        r.int("maxAttempts", &mut cr.max_attempts);
        if let Some(b) = r.obj("backoff") {
            b.choice("kind", &BACKOFF_KINDS, &mut cr.backoff.kind);
            b.num("baseMs", &mut cr.backoff.base_ms);
            b.num("capMs", &mut cr.backoff.cap_ms);
        }
        if let Some(s) = r.list("statuses", "an HTTP status in [100, 599]", status) {
            cr.statuses = s;
        }
        let method = "an HTTP method name such as \"GET\"";
        if let Some(m) = r.list("methods", method, |v| v.as_str().map(str::to_string)) {
            cr.methods = m;
        }
        r.num("maxRetryAfterMs", &mut cr.max_retry_after_ms);
    }
    if let Some(b) = root.obj("budget") {
        b.choice("depositOn", &DEPOSIT_ON, &mut c.budget.deposit_on);
        b.num("ratio", &mut c.budget.ratio);
        b.num("minPerSec", &mut c.budget.min_per_sec);
        b.num("ttlMs", &mut c.budget.ttl_ms);
    }
    if let Some(t) = root.obj("timeout") {
        t.nullable("attemptMs", &mut c.timeout.attempt_ms);
        t.nullable("totalMs", &mut c.timeout.total_ms);
    }
    if let Some(k) = root.obj("concurrency") {
        match k.get("limit") {
            (_, None) => {}
            (_, Some(Value::Null)) => c.concurrency.limit = None,
            (_, Some(Value::Num(n))) => c.concurrency.limit = Some(LimitSetting::Fixed(*n)),
            (_, Some(Value::Str(s))) if s == "adaptive" => {
                c.concurrency.limit = Some(LimitSetting::Adaptive)
            }
            (path, Some(v)) => first.fail(bad(&path, v, LIMIT_ALLOWED)),
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
    if root.get("hedge").1 != Some(&Value::Null) {
        if let Some(h) = root.obj("hedge") {
            let mut hc = HedgeConfig::default();
            h.nullable("afterMs", &mut hc.after_ms);
            h.nullable("percentile", &mut hc.percentile);
            h.num("maxExtraLoad", &mut hc.max_extra_load);
            c.hedge = Some(hc);
        }
    }
    if let Some(seed) = root.typed("seed", "a number", Value::as_f64) {
        c.seed = Some(seed);
    }
    if let Some(r) = root.obj("redact") {
        r.flag("query", &mut c.redact.query);
    }
    first.0.into_inner().result(c)
}

/// The first key that the schema (`KNOWN_KEYS`) does not know, depth first.
fn unknown_key(obj: &Value, path: &str) -> Option<ConfigError> {
    let known = known_keys(&schema_path(path))?;
    let Value::Obj(pairs) = obj else {
        return None; // a type error: `fields` reports it with the expected type
    };
    for (key, value) in pairs {
        let child = if path.is_empty() {
            key.clone()
        } else {
            cat!(path, ".", key)
        };
        if !known.contains(&key.as_str()) {
            return Some(ConfigError::new(
                &child,
                value.show(),
                &cat!("no such option; known keys here: ", join(known, ", ")),
            ));
        }
        match value {
            Value::List(items) if known_keys(&cat!(child, "[]")).is_some() => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(e) = unknown_key(item, &cat!(child, "[", i, "]")) {
                        return Some(e);
                    }
                }
            }
            _ => {
                if let Some(e) = unknown_key(value, &child) {
                    return Some(e);
                }
            }
        }
    }
    None
}

/// `routes[3].x` -> `routes[].x`: the schema names array elements with `[]`.
fn schema_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

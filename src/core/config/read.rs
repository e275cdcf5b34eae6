//! Reading a config from plain data (`core::value`) into a `Config`, as the schema
//! (`schema.rs`) declares it: unknown keys first (a typo such as `budget.ratoi` is an error, not a
//! silent default), then each field's type and range in the schema's order, then the rules
//! between fields (`check.rs`).
//!
//! A bad field does not stop the reading: its problem goes into a list shared by the whole read
//! (`First`) and the field keeps its default, so a user sees every problem at once
//! (`read_all`), and `createFetch` names the first (`read`).

use super::*;
use crate::core::print::{fmt_num, quoted};
use core::cell::RefCell;

/// A config from plain data, or the first problem (a `ConfigError` naming its path).
pub fn read(config: &Value) -> Result<Config, ConfigError> {
    read_all(config).map_err(|mut all| all.swap_remove(0))
}

/// A config from plain data, or every problem in it, in order: unknown keys first, then each
/// field's type and range in the schema's order, then the rules between fields.
pub fn read_all(config: &Value) -> Result<Config, Vec<ConfigError>> {
    if !matches!(config, Value::Obj(_)) {
        return Err(vec![ConfigError::new("config", config.show(), "an object")]);
    }
    let first = First::default();
    unknown_keys(config, "", &first);
    let c = fields(config, &first);
    let mut ck = first.0.into_inner();
    let c = c.check_ranges(&mut ck).check(&mut ck);
    ck.all(c)
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

/// The problems of a read, shared by the objects being read (the first is what `read` reports).
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

    /// The items of the list at `key` as `kind` (statuses or methods) takes them; for the others
    /// an error naming what is allowed is recorded. One loop for both kinds: no copy per item type.
    fn list(&self, key: &str, kind: Kind) -> Option<Got> {
        let (path, items) = self.array(key)?;
        let (mut statuses, mut methods) = (Vec::new(), Vec::new());
        for (i, v) in items.iter().enumerate() {
            let ok = match kind {
                Kind::Statuses => status(v).map(|s| statuses.push(s)),
                _ => v.as_str().map(|m| methods.push(m.to_string())),
            };
            if ok.is_none() {
                let allowed = match kind {
                    Kind::Statuses => "an HTTP status in [100, 599]",
                    _ => "an HTTP method name such as \"GET\"",
                };
                self.first.fail(bad(&item_path(&path, i), v, allowed));
            }
        }
        Some(match kind {
            Kind::Statuses => Got::Statuses(statuses),
            _ => Got::Methods(methods),
        })
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

/// What the reader says is allowed for a value of `kind` whose type is wrong.
fn allowed(kind: Kind) -> String {
    match kind {
        Kind::Num(_) => "a number".into(),
        Kind::OptInt(_) => "a number, or null".into(),
        Kind::OrNull(_) => "a number, or null to disable".into(),
        Kind::Int(range) => {
            let (lo, hi) = range.bounds();
            cat!("an integer in [", fmt_num(lo), ", ", fmt_num(hi), "]")
        }
        Kind::Flag => "true or false".into(),
        Kind::Choice(names) => {
            let mut out = String::from("one of ");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quoted(n));
            }
            out
        }
        Kind::Statuses | Kind::Methods | Kind::Routes => "an array".into(),
        Kind::Limit => LIMIT_ALLOWED.into(),
        Kind::Text => "a string".into(),
    }
}

/// A value read for a field, before `store` writes it through the field's accessor.
enum Got {
    Num(f64),
    Opt(Option<f64>),
    Flag(bool),
    Choice(usize),
    Statuses(Vec<u16>),
    Methods(Vec<String>),
    Limit(Option<LimitSetting>),
    Text(String),
}

/// The value at `key` of `o` as `kind` says (`None`: absent, or bad and recorded). Not generic:
/// one copy serves the config's fields and the routes'.
fn parse(o: &Obj<'_>, key: &str, kind: Kind) -> Option<Got> {
    let (path, v) = o.get(key);
    let Some(v) = v else {
        if matches!(kind, Kind::Text) {
            o.first
                .fail(ConfigError::new(&path, "missing".into(), "required"));
        }
        return None;
    };
    let got = match kind {
        Kind::Int(range) => {
            let (lo, hi) = range.bounds();
            v.as_f64()
                .filter(|n| n.fract() == 0.0 && (lo..=hi).contains(n))
                .map(Got::Num)
        }
        Kind::Num(_) => v.as_f64().map(Got::Num),
        Kind::OrNull(_) | Kind::OptInt(_) => match v {
            Value::Null => Some(Got::Opt(None)),
            v => v.as_f64().map(|n| Got::Opt(Some(n))),
        },
        Kind::Flag => v.as_bool().map(Got::Flag),
        Kind::Choice(names) => v
            .as_str()
            .and_then(|s| names.iter().position(|n| *n == s))
            .map(Got::Choice),
        // Lists record their own errors, item by item.
        Kind::Statuses | Kind::Methods => return o.list(key, kind),
        Kind::Limit => match v {
            Value::Null => Some(Got::Limit(None)),
            Value::Num(n) => Some(Got::Limit(Some(LimitSetting::Fixed(*n)))),
            Value::Str(s) if s == "adaptive" => Some(Got::Limit(Some(LimitSetting::Adaptive))),
            _ => None,
        },
        Kind::Text => v.as_str().map(|s| Got::Text(s.into())),
        Kind::Routes => None,
    };
    if got.is_none() {
        o.first.fail(bad(&path, v, &allowed(kind)));
    }
    got
}

/// Writes a value `parse` read into its slot.
fn store(slot: Slot<'_>, got: Got) {
    match (slot, got) {
        (Slot::Num(p), Got::Num(n)) => *p = n,
        (Slot::Count(p), Got::Num(n)) => *p = n as u32,
        (Slot::Opt(p), Got::Opt(v)) => *p = v,
        (Slot::Flag(p), Got::Flag(b)) => *p = b,
        (Slot::Backoff(p), Got::Choice(i)) => {
            if let Some((_, k)) = BACKOFF_KINDS.get(i) {
                *p = *k
            }
        }
        (Slot::Deposit(p), Got::Choice(i)) => {
            if let Some((_, d)) = DEPOSIT_ON.get(i) {
                *p = *d
            }
        }
        (Slot::Statuses(p), Got::Statuses(v)) => *p = v,
        (Slot::Methods(p), Got::Methods(v)) => *p = v,
        (Slot::Limit(p), Got::Limit(v)) => *p = v,
        (Slot::Text(p), Got::Text(v)) => *p = v,
        // A kind and a slot that do not go together: the schema's tests rule it out.
        _ => {}
    }
}

fn route(path: String, v: &Value, first: &First) -> Option<RouteConfig> {
    if !matches!(v, Value::Obj(_)) {
        let allowed = "an object { name, url, weight?, fallback?, forwardCredentials? }";
        first.fail(bad(&path, v, allowed));
        return None;
    }
    let o = Obj { v, path, first };
    let mut r = RouteConfig::new("", "");
    for f in ROUTE_FIELDS {
        if let Some(got) = parse(&o, f.path, f.kind) {
            store(route_slot(&mut r, f.id), got);
        }
    }
    // A route without its name or URL as strings is no route (the errors are recorded).
    let text = |k: &str| o.v.get(k).and_then(Value::as_str).is_some();
    (text("name") && text("url")).then_some(r)
}

/// The object at `path` (dotted) below the root, if every step is an object; a step that is not
/// records an error once (`reported` keeps the paths already reported).
fn object_at<'a>(root: &Obj<'a>, path: &str, reported: &mut Vec<String>) -> Option<Obj<'a>> {
    let mut o = Obj {
        v: root.v,
        path: String::new(),
        first: root.first,
    };
    for key in path.split('.') {
        let (p, v) = o.get(key);
        let v = v?;
        if !matches!(v, Value::Obj(_)) {
            if !reported.contains(&p) {
                let allowed = if p == OPTIONAL_OBJECT {
                    "an object, or null to disable"
                } else {
                    "an object"
                };
                o.first.fail(bad(&p, v, allowed));
                reported.push(p);
            }
            return None;
        }
        o = Obj {
            v,
            path: p,
            first: root.first,
        };
    }
    Some(o)
}

/// The fields of `config` over the defaults, and the problems reading them (types, and integers'
/// ranges), without the other checks (for the schema's tests).
#[cfg(test)]
pub(crate) fn fields_only(config: &Value) -> (Config, Vec<ConfigError>) {
    let first = First::default();
    let c = fields(config, &first);
    let all = first.0.into_inner().all(()).err().unwrap_or_default();
    (c, all)
}

/// Reads everything the user set over the defaults, field by field as the schema lists them
/// (types and ranges; `read` checks unknown keys first and the rules between fields after).
fn fields(config: &Value, first: &First) -> Config {
    let root = Obj {
        v: config,
        path: String::new(),
        first,
    };
    let mut c = Config::default();
    let mut reported = Vec::new();
    for f in FIELDS {
        if matches!(f.kind, Kind::Routes) {
            if let Some((path, items)) = root.array("routes") {
                c.routes = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| route(item_path(&path, i), v, first))
                    .collect();
            }
            continue;
        }
        // By bytes and `get`: `rsplit_once` and slicing bring searchers and a panic path.
        let dot = f.path.bytes().rposition(|b| b == b'.');
        let parent = dot.and_then(|i| f.path.get(..i)).unwrap_or("");
        let key = dot.and_then(|i| f.path.get(i + 1..)).unwrap_or(f.path);
        // `matches!`, not `== Some(&Value::Null)`: that would link Value's derived deep equality.
        if parent == OPTIONAL_OBJECT && matches!(config.get(OPTIONAL_OBJECT), Some(Value::Null)) {
            continue; // `hedge: null`: off, as absent
        }
        let o = if parent.is_empty() {
            Some(Obj {
                v: config,
                path: String::new(),
                first,
            })
        } else {
            object_at(&root, parent, &mut reported)
        };
        let Some(o) = o else { continue };
        if parent == OPTIONAL_OBJECT && c.hedge.is_none() {
            // Present as an object: the feature is on, with its defaults for what is not set.
            c.hedge = Some(HedgeConfig::default());
        }
        if let Some(got) = parse(&o, key, f.kind) {
            store(slot(&mut c, f.id), got);
        }
    }
    c
}

/// Every key that the schema (`keys_at`) does not know, depth first.
fn unknown_keys(obj: &Value, path: &str, first: &First) {
    let known = keys_at(&schema_path(path));
    let Value::Obj(pairs) = obj else {
        return; // a type error: `fields` reports it with the expected type
    };
    if known.is_empty() {
        return; // not an object of the schema (a value `fields` reads whole)
    }
    for (key, value) in pairs {
        let child = if path.is_empty() {
            key.clone()
        } else {
            cat!(path, ".", key)
        };
        if !known.contains(&key.as_str()) {
            first.fail(ConfigError::new(
                &child,
                value.show(),
                &cat!("no such option; known keys here: ", join(&known, ", ")),
            ));
            continue;
        }
        match value {
            Value::List(items) if !keys_at(&cat!(schema_path(&child), "[]")).is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    unknown_keys(item, &cat!(child, "[", i, "]"), first);
                }
            }
            _ => unknown_keys(value, &child, first),
        }
    }
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

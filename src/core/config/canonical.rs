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

fn opt(v: Option<f64>) -> Val {
    v.map_or(Val::Null, Val::Num)
}

/// The canonical value of a field in its slot. Sets come sorted and without repeats, methods in
/// upper case.
pub fn value_of(kind: Kind, slot: Slot<'_>) -> Val {
    match slot {
        Slot::Num(v) => Val::Num(*v),
        Slot::Count(v) => Val::Num(f64::from(*v)),
        Slot::Opt(v) => opt(*v),
        Slot::Flag(v) => Val::Bool(*v),
        Slot::Backoff(k) => Val::Str(name_of(kind, BACKOFF_KINDS.iter().position(|x| x.1 == *k))),
        Slot::Deposit(d) => Val::Str(name_of(kind, DEPOSIT_ON.iter().position(|x| x.1 == *d))),
        Slot::Statuses(v) => {
            let mut v: Vec<f64> = v.iter().map(|s| f64::from(*s)).collect();
            sort::sort_by(&mut v, |a, b| a < b);
            v.dedup();
            Val::Nums(v)
        }
        Slot::Methods(v) => {
            let mut v: Vec<String> = v.iter().map(|m| m.to_ascii_uppercase()).collect();
            sort::sort_by(&mut v, |a, b| a < b);
            v.dedup();
            Val::Strs(v)
        }
        Slot::Limit(v) => match v {
            None => Val::Null,
            Some(LimitSetting::Fixed(n)) => Val::Num(*n),
            Some(LimitSetting::Adaptive) => Val::Str("adaptive".into()),
        },
        Slot::Text(v) => Val::Str(v.clone()),
        Slot::Routes(r) => Val::Num(r.len() as f64),
    }
}

fn name_of(kind: Kind, i: Option<usize>) -> String {
    match kind {
        Kind::Choice(names) => i.and_then(|i| names.get(i)).copied().unwrap_or("").into(),
        _ => String::new(),
    }
}

/// The canonical value of field `f` of `c` (`None`: inside the optional object, which is off).
pub fn field_value(c: &mut Config, f: &Field<Id>) -> Option<Val> {
    if c.hedge.is_none() && in_optional(f.path) {
        return None;
    }
    Some(value_of(f.kind, slot(c, f.id)))
}

/// Every field of `c` (a validated config), in the schema's order: an absent optional object
/// (`hedge`) as one `null`, `routes` as its length followed by each route's fields. `transport`
/// is code, not configuration, and is not part of it.
pub fn canonical(c: &Config) -> Vec<Entry> {
    let mut c = c.clone();
    let mut out = Vec::with_capacity(48);
    let mut put = |path: String, value: Val| out.push(Entry { path, value });
    let mut off_said = false;
    for f in FIELDS {
        if matches!(f.kind, Kind::Routes) {
            put(f.path.into(), Val::Num(c.routes.len() as f64));
            for (i, r) in c.routes.iter_mut().enumerate() {
                for rf in ROUTE_FIELDS {
                    put(
                        cat!("routes[", i, "].", rf.path),
                        value_of(rf.kind, route_slot(r, rf.id)),
                    );
                }
            }
            continue;
        }
        match field_value(&mut c, f) {
            Some(v) => put(f.path.into(), v),
            None if !off_said => {
                off_said = true;
                put(OPTIONAL_OBJECT.into(), Val::Null);
            }
            None => {}
        }
    }
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
        for f in FIELDS {
            assert!(paths.iter().any(|p| p == f.path), "{} is not in it", f.path);
        }
        for f in ROUTE_FIELDS {
            let p = cat!("routes[0].", f.path);
            assert!(paths.contains(&p), "{p} is not in it");
        }
        // Without hedging, its fields are one `hedge: null`.
        let plain: Vec<String> = canonical(&Config::default())
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            plain
                .iter()
                .filter(|p| p.starts_with("hedge"))
                .collect::<Vec<_>>(),
            ["hedge"]
        );
    }
}

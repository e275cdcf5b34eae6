//! The canonical form of a config: every field, defaults filled in, in one fixed order, with the
//! values as they behave (statuses and methods as sets, `1` and `1.0` the same number). Two configs
//! that behave alike have the same canonical form however they were written, so the form is what
//! drift tooling compares (`fingerprint`, and the tools' diff and lint).
//!
//! Why a fingerprint at run time: staging and production drift apart one edited value at a time.
//! Each client reports the fingerprint of the config it runs (snapshot, metrics), so a dashboard
//! shows at once when two environments do not run the same config.

use super::*;
use crate::core::fnv::Fnv1a;
use crate::core::print::{fmt_num, quoted};

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

/// What the canonical walk writes to: the fingerprint's hasher, the boundary's tape (what
/// `snapshot().config` is read from), the list of entries the tools compare. One walk, so the
/// three cannot disagree, and no copy of the form is built where only a hash is wanted.
pub trait Sink {
    /// The next field: `head` (`retry.backoff.baseMs`), or for a route's field `routes`, its
    /// index and its key.
    fn path(&mut self, head: &str, route: Option<(usize, &str)>);
    fn null(&mut self);
    fn bool(&mut self, b: bool);
    fn num(&mut self, n: f64);
    fn str(&mut self, s: &str);
    /// A set of `n` values, which follow: strings when `strings`, else numbers.
    fn list(&mut self, n: usize, strings: bool);
}

/// Writes the value in `slot` as its canonical value. Sets (statuses, methods) come sorted,
/// without repeats and methods in upper case: `check` normalises a config so.
fn value(out: &mut dyn Sink, kind: Kind, slot: Slot<'_>) {
    match slot {
        Slot::Num(v) => out.num(*v),
        Slot::Count(v) => out.num(f64::from(*v)),
        Slot::Opt(None) | Slot::Limit(None) => out.null(),
        Slot::Opt(Some(v)) | Slot::Limit(Some(LimitSetting::Fixed(v))) => out.num(*v),
        Slot::Limit(Some(LimitSetting::Adaptive)) => out.str("adaptive"),
        Slot::Flag(v) => out.bool(*v),
        Slot::Backoff(k) => out.str(name_of(kind, BACKOFF_KINDS.iter().position(|x| x.1 == *k))),
        Slot::Deposit(d) => out.str(name_of(kind, DEPOSIT_ON.iter().position(|x| x.1 == *d))),
        Slot::Statuses(v) => {
            out.list(v.len(), false);
            v.iter().for_each(|s| out.num(f64::from(*s)));
        }
        Slot::Methods(v) => {
            out.list(v.len(), true);
            v.iter().for_each(|m| out.str(m));
        }
        Slot::Text(v) => out.str(v),
        Slot::Routes(r) => out.num(r.len() as f64),
    }
}

fn name_of(kind: Kind, i: Option<usize>) -> &'static str {
    match kind {
        Kind::Choice(names) => i.and_then(|i| names.get(i)).copied().unwrap_or(""),
        _ => "",
    }
}

/// Walks every field of `c` (a validated config) in the schema's order: an absent optional
/// object (`hedge`) as one `null`, `routes` as its length followed by each route's fields.
/// `transport` is code, not configuration, and is not part of it. Reads only (`&mut` is how the
/// schema's slots are reached; an absent optional object is not created).
pub fn walk(c: &mut Config, out: &mut dyn Sink) {
    let mut off_said = false;
    for f in FIELDS {
        if c.hedge.is_none() && in_optional(f.path) {
            if !off_said {
                off_said = true;
                out.path(OPTIONAL_OBJECT, None);
                out.null();
            }
            continue;
        }
        out.path(f.path, None);
        value(out, f.kind, slot(c, f.id));
        if matches!(f.kind, Kind::Routes) {
            for (i, r) in c.routes.iter_mut().enumerate() {
                for rf in ROUTE_FIELDS {
                    out.path(f.path, Some((i, rf.path)));
                    value(out, rf.kind, route_slot(r, rf.id));
                }
            }
        }
    }
}

/// The entries of the canonical form, as the tools compare them.
#[derive(Default)]
struct Entries {
    out: Vec<Entry>,
    /// Items still to come in the current list.
    pending: usize,
}

impl Entries {
    fn put(&mut self, v: Val) {
        let Some(last) = self.out.last_mut() else {
            return;
        };
        match (&mut last.value, v) {
            (Val::Nums(items), Val::Num(n)) if self.pending > 0 => items.push(n),
            (Val::Strs(items), Val::Str(s)) if self.pending > 0 => items.push(s),
            (slot, v) => *slot = v,
        }
        self.pending = self.pending.saturating_sub(1);
    }
}

impl Sink for Entries {
    fn path(&mut self, head: &str, route: Option<(usize, &str)>) {
        let path = match route {
            Some((i, key)) => cat!(head, "[", i, "].", key),
            None => head.into(),
        };
        self.out.push(Entry {
            path,
            value: Val::Null,
        });
        self.pending = 0;
    }
    fn null(&mut self) {
        self.put(Val::Null)
    }
    fn bool(&mut self, b: bool) {
        self.put(Val::Bool(b))
    }
    fn num(&mut self, n: f64) {
        self.put(Val::Num(n))
    }
    fn str(&mut self, s: &str) {
        self.put(Val::Str(s.into()))
    }
    fn list(&mut self, n: usize, strings: bool) {
        if let Some(last) = self.out.last_mut() {
            last.value = if strings {
                Val::Strs(Vec::with_capacity(n))
            } else {
                Val::Nums(Vec::with_capacity(n))
            };
        }
        self.pending = n;
    }
}

/// Every field of `c` with its canonical value, in the schema's order (`walk`).
pub fn canonical(c: &Config) -> Vec<Entry> {
    let mut e = Entries::default();
    walk(&mut c.clone(), &mut e);
    e.out
}

/// The canonical value of field `f` of `c` (`None`: inside the optional object, which is off).
pub fn field_value(c: &mut Config, f: &Field<Id>) -> Option<Val> {
    if c.hedge.is_none() && in_optional(f.path) {
        return None;
    }
    Some(value_of(f.kind, slot(c, f.id)))
}

/// The canonical value of a field in its slot.
pub fn value_of(kind: Kind, slot: Slot<'_>) -> Val {
    let mut e = Entries::default();
    e.path("", None);
    value(&mut e, kind, slot);
    e.out.pop().map_or(Val::Null, |x| x.value)
}

/// FNV-1a (`core::fnv`) over the walk: each path, a tag per value, numbers by their bits (with
/// -0 as 0).
struct Hasher(Fnv1a);

impl Hasher {
    fn eat(&mut self, bytes: &[u8]) {
        self.0.bytes(bytes);
    }
}

impl Sink for Hasher {
    fn path(&mut self, head: &str, route: Option<(usize, &str)>) {
        self.eat(b"\n");
        self.eat(head.as_bytes());
        if let Some((i, key)) = route {
            self.eat(&(i as u64).to_le_bytes());
            self.eat(key.as_bytes());
        }
        self.eat(b"=");
    }
    fn null(&mut self) {
        self.eat(b"n")
    }
    fn bool(&mut self, b: bool) {
        self.eat(if b { b"t" } else { b"f" })
    }
    fn num(&mut self, n: f64) {
        self.eat(b"#");
        self.eat(&(if n == 0.0 { 0.0f64 } else { n }).to_bits().to_le_bytes())
    }
    fn str(&mut self, s: &str) {
        self.eat(b"s");
        self.eat(&(s.len() as u64).to_le_bytes());
        self.eat(s.as_bytes())
    }
    fn list(&mut self, n: usize, _strings: bool) {
        self.eat(b"[");
        self.eat(&(n as u64).to_le_bytes())
    }
}

/// A short, stable hash of the canonical form: 12 hex digits, the same in every runtime (it is
/// this code everywhere).
pub fn fingerprint(c: &Config) -> String {
    fingerprint_mut(&mut c.clone())
}

/// `fingerprint` without a copy of the config (`walk` creates nothing in it).
pub fn fingerprint_mut(c: &mut Config) -> String {
    let mut h = Hasher(Fnv1a::new());
    walk(c, &mut h);
    hex(h)
}

/// The fingerprint of everything but the routes (the config's, with none): what a state
/// snapshot is tagged with (`core::state` matches routes one by one, so clients whose routes
/// differ still share).
pub fn fingerprint_without_routes(c: &mut Config) -> String {
    let routes = core::mem::take(&mut c.routes);
    let f = fingerprint_mut(c);
    c.routes = routes;
    f
}

/// The top 48 bits of the hash, as 12 hex digits.
fn hex(h: Hasher) -> String {
    let mut out = String::with_capacity(12);
    let mut shift = 60;
    while shift >= 16 {
        out.push(char::from(
            b"0123456789abcdef"[((h.0 .0 >> shift) & 0xf) as usize],
        ));
        shift -= 4;
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
    fn the_fingerprint_without_routes_leaves_out_the_routes_only() {
        let mut routed = Config {
            routes: vec![RouteConfig::new("a", "https://a.example")],
            ..Config::default()
        };
        let mut plain = Config::default();
        assert_ne!(fingerprint(&routed), fingerprint(&plain));
        let without = fingerprint_without_routes(&mut routed);
        assert_eq!(without, fingerprint_without_routes(&mut plain));
        assert_eq!(
            without,
            fingerprint(&plain),
            "the fingerprint as if it had no routes"
        );
        assert_eq!(routed.routes.len(), 1, "the routes are put back");
        plain.budget.ratio = 0.3;
        assert_ne!(fingerprint_without_routes(&mut plain), without);
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

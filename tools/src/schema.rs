//! The JSON Schema of a config file (`ballast-fetch/config.schema.json`), derived from the
//! engine's schema table (`ballast_fetch::core::config::schema`): the same fields, ranges and
//! defaults the reader enforces, with each field's doc line, so an editor validates a config file
//! as `createFetch` would. `transport` is code and cannot be written in a file; it is left out.

use ballast_fetch::core::config::canonical::{field_value, value_of, Val};
use ballast_fetch::core::config::schema::{
    route_slot, Kind, Range, DOCS, FIELDS, LIMIT, OPTIONAL_OBJECT, ROUTE_DOCS, ROUTE_FIELDS,
};
use ballast_fetch::core::config::{Config, RouteConfig};
use serde_json::{json, Map, Value};

/// Where the schema is published (its `$id`).
pub const ID: &str =
    "https://github.com/ballast-fetch/ballast-fetch/blob/main/pkg/config.schema.json";

fn val(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => json!(b),
        Val::Num(n) => num(*n),
        Val::Str(s) => json!(s),
        Val::Nums(v) => Value::Array(v.iter().map(|n| num(*n)).collect()),
        Val::Strs(v) => json!(v),
    }
}

/// Integers as JSON integers (`5`, not `5.0`).
fn num(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.1e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn range(t: &str, r: Range) -> Map<String, Value> {
    let (lo, hi) = r.bounds();
    let mut m = Map::new();
    m.insert("type".into(), json!(t));
    m.insert("minimum".into(), num(lo));
    m.insert("maximum".into(), num(hi));
    m
}

/// The schema of one field's value.
fn value_schema(kind: Kind) -> Map<String, Value> {
    let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
    match kind {
        Kind::Num(r) => range("number", r),
        Kind::Int(r) => range("integer", r),
        Kind::OrNull(r) => {
            let mut m = range("number", r);
            m.insert("type".into(), json!(["number", "null"]));
            m
        }
        Kind::OptInt(r) => {
            let mut m = range("integer", r);
            m.insert("type".into(), json!(["integer", "null"]));
            m
        }
        Kind::Flag => obj(json!({ "type": "boolean" })),
        Kind::Choice(names) => obj(json!({ "enum": names })),
        Kind::Statuses => obj(json!({
            "type": "array",
            "items": { "type": "integer", "minimum": 100, "maximum": 599 }
        })),
        Kind::Methods => obj(json!({
            "type": "array",
            "items": { "type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }
        })),
        Kind::Limit => obj(json!({
            "anyOf": [
                range("integer", LIMIT),
                { "const": "adaptive" },
                { "type": "null" }
            ]
        })),
        Kind::Text => obj(json!({ "type": "string", "minLength": 1 })),
        Kind::Routes => Map::new(),
    }
}

/// A field's schema with its doc line and default (`None`: no default to show).
fn field_schema(kind: Kind, doc: &str, default: Option<Val>) -> Value {
    let mut m = value_schema(kind);
    m.insert("description".into(), json!(doc));
    // An absent optional integer (the seed) has no default to show: it is drawn at run time.
    let absent = |v: &Val| matches!(kind, Kind::OptInt(_)) && *v == Val::Null;
    if let Some(v) = default.filter(|v| !absent(v)) {
        m.insert("default".into(), val(&v));
    }
    Value::Object(m)
}

fn object(properties: Map<String, Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("additionalProperties".into(), json!(false));
    m.insert("properties".into(), Value::Object(properties));
    m
}

/// Puts `schema` at the dotted `path` below `root`'s properties, creating the objects between.
fn insert(root: &mut Map<String, Value>, path: &str, schema: Value) {
    let mut keys = path.split('.').peekable();
    let mut props = root;
    while let Some(key) = keys.next() {
        if keys.peek().is_none() {
            props.insert(key.into(), schema);
            return;
        }
        let entry = props
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(object(Map::new())));
        props = entry["properties"]
            .as_object_mut()
            .expect("an object schema");
    }
}

/// The whole schema.
pub fn config_schema() -> Value {
    let mut defaults = Config::default()
        .validated()
        .expect("the defaults are valid");
    let mut props = Map::new();
    for (f, doc) in FIELDS.iter().zip(DOCS) {
        if f.kind == Kind::Routes {
            let mut route = Map::new();
            let mut sample = RouteConfig::new("", "");
            for (rf, rdoc) in ROUTE_FIELDS.iter().zip(ROUTE_DOCS) {
                let d = (rf.kind != Kind::Text)
                    .then(|| value_of(rf.kind, route_slot(&mut sample, rf.id)));
                route.insert(rf.path.into(), field_schema(rf.kind, rdoc, d));
            }
            let mut item = object(route);
            item.insert("required".into(), json!(["name", "url"]));
            props.insert(
                f.path.into(),
                json!({ "type": "array", "description": doc, "default": [], "items": item }),
            );
            continue;
        }
        let default = field_value(&mut defaults, f);
        insert(&mut props, f.path, field_schema(f.kind, doc, default));
    }
    // The optional object: absent or null is off; an object switches it on.
    if let Some(Value::Object(h)) = props.get_mut(OPTIONAL_OBJECT) {
        h.insert("type".into(), json!(["object", "null"]));
        h.insert("default".into(), Value::Null);
        h.insert(
            "description".into(),
            json!("Hedged requests (one of afterMs or percentile), or null for none."),
        );
    }
    let mut root = object(props);
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("$id".into(), json!(ID));
    root.insert("title".into(), json!("ballast-fetch config"));
    root.insert(
        "description".into(),
        json!("The config object of createFetch (ballast-fetch), as a file. transport is code and is set in code."),
    );
    // `$schema` may name this schema in the file itself.
    if let Some(Value::Object(p)) = root.get_mut("properties") {
        p.insert("$schema".into(), json!({ "type": "string" }));
    }
    Value::Object(root)
}

/// The schema as the package ships it (two-space JSON, a final newline).
pub fn config_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&config_schema()).expect("plain JSON");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_ranges_and_defaults_come_from_the_engines_table() {
        let s = config_schema();
        let p = &s["properties"];
        assert_eq!(p["retry"]["properties"]["maxAttempts"]["type"], "integer");
        assert_eq!(p["retry"]["properties"]["maxAttempts"]["default"], 4);
        assert_eq!(p["retry"]["properties"]["maxAttempts"]["maximum"], 10);
        assert_eq!(p["budget"]["properties"]["ratio"]["default"], 0.2);
        assert_eq!(
            p["timeout"]["properties"]["totalMs"]["type"],
            json!(["number", "null"])
        );
        assert_eq!(
            p["retry"]["properties"]["backoff"]["properties"]["kind"]["enum"],
            json!(["exponential", "full", "equal", "decorrelated"])
        );
        assert_eq!(p["routes"]["items"]["required"], json!(["name", "url"]));
        assert_eq!(p["hedge"]["type"], json!(["object", "null"]));
        assert!(p.get("transport").is_none());
        assert!(
            p["seed"].get("default").is_none(),
            "a random seed has no default"
        );
        assert_eq!(s["additionalProperties"], false);
    }
}

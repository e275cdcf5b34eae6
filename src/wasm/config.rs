//! Turning the user's JS config object into a validated `Config`, or a `ConfigError` that names
//! the path, the value and what is allowed (for type errors and unknown keys too).

use super::js::Hooks;
use crate::core::config::{known_keys, Config, ConfigError, ARRAY_KEYS, LIMIT_ALLOWED};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Reads `config` (a plain object, already checked by the npm entry) into a validated `Config`.
pub fn parse(config: &JsValue, hooks: &Hooks) -> Result<Config, JsValue> {
    if let Some(err) = unknown_key(config, "") {
        let value = value_at(config, &err.path);
        return Err(hooks.config_error(&err.path, &value, &err.allowed, &err.to_string()));
    }
    let de = serde_wasm_bindgen::Deserializer::from(config.clone());
    let parsed: Result<Config, _> = serde_path_to_error::deserialize(de);
    let err = match parsed {
        Ok(cfg) => match cfg.validated() {
            Ok(cfg) => return Ok(cfg),
            Err(e) => e,
        },
        Err(e) => {
            let msg = e.inner().to_string();
            let path = e.path().to_string();
            if path == "concurrency.limit" {
                // serde's untagged-enum message says nothing useful.
                let v = value_at(config, &path);
                ConfigError::new(&path, show(&v), LIMIT_ALLOWED)
            } else {
                from_serde(&path, msg.trim_start_matches("Error: "))
            }
        }
    };
    let value = value_at(config, &err.path);
    Err(hooks.config_error(&err.path, &value, &err.allowed, &err.to_string()))
}

/// The first key that the schema (`KNOWN_KEYS`) does not know, depth first.
fn unknown_key(obj: &JsValue, path: &str) -> Option<ConfigError> {
    let known = known_keys(&schema_path(path))?;
    if !obj.is_object() || js_sys::Array::is_array(obj) {
        return None; // a type error, reported by serde with a better message
    }
    for key in js_sys::Object::keys(obj.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let value = js_sys::Reflect::get(obj, &JsValue::from_str(&key)).ok()?;
        let not_array = !value.is_undefined() && !js_sys::Array::is_array(&value);
        if ARRAY_KEYS.contains(&child.as_str()) && not_array {
            return Some(ConfigError::new(&child, show(&value), "an array"));
        }
        if !known.contains(&key.as_str()) {
            return Some(ConfigError::new(
                &child,
                show(&value),
                &format!("no such option; known keys here: {}", known.join(", ")),
            ));
        }
        if js_sys::Array::is_array(&value) && known_keys(&format!("{child}[]")).is_some() {
            let items: js_sys::Array = value.clone().unchecked_into();
            for (i, item) in items.iter().enumerate() {
                if let Some(e) = unknown_key(&item, &format!("{child}[{i}]")) {
                    return Some(e);
                }
            }
        } else if let Some(e) = unknown_key(&value, &child) {
            return Some(e);
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

/// Maps serde's messages ("unknown field `ratoi`, expected one of ...", "invalid type: string
/// \"x\", expected f64") onto path / value / allowed.
fn from_serde(path: &str, msg: &str) -> ConfigError {
    let path = if path == "." { "" } else { path };
    let join = |p: &str, k: &str| {
        if p.is_empty() {
            k.to_string()
        } else {
            format!("{p}.{k}")
        }
    };
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = expected
            .trim_start_matches(", expected ")
            .trim_start_matches("one of ")
            .replace('`', "");
        return ConfigError::new(
            &join(path, key),
            format!("{key:?}"),
            &format!("no such option; known keys here: {allowed}"),
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        return ConfigError::new(&join(path, key), "missing", "required");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = expected
            .trim_start_matches(", expected ")
            .replace('`', "\"");
        return ConfigError::new(path, format!("{value:?}"), &allowed);
    }
    let (got, expected) = msg.split_once(", expected ").unwrap_or((msg, ""));
    let got = got
        .trim_start_matches("invalid type: ")
        .trim_start_matches("invalid value: ");
    let allowed = match expected {
        "f64" => "a number".to_string(),
        "u32" | "u16" | "u64" => "a non-negative integer".to_string(),
        "a sequence" => "an array".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        e if e.starts_with("enum ") => "a string".to_string(),
        "" => "a valid value (see the config reference in the README)".to_string(),
        e => e.to_string(),
    };
    ConfigError::new(if path.is_empty() { "config" } else { path }, got, &allowed)
}

/// The JS value at a path like `retry.statuses[2]`, for `ConfigError.value`.
fn value_at(root: &JsValue, path: &str) -> JsValue {
    let mut cur = root.clone();
    for seg in path.split('.') {
        let (key, index) = match seg.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<u32>().ok()),
            None => (seg, None),
        };
        if !cur.is_object() {
            return JsValue::UNDEFINED;
        }
        cur = js_sys::Reflect::get(&cur, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        if let Some(i) = index {
            cur = js_sys::Reflect::get_u32(&cur, i).unwrap_or(JsValue::UNDEFINED);
        }
    }
    cur
}

/// A short rendering of a JS value for messages (JSON where possible).
fn show(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "a value".to_string())
}

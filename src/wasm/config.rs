//! Turning the user's JS config object into a validated `Config`, or a `ConfigError` that names
//! the path, the value and what is allowed: unknown keys (walked against `KNOWN_KEYS`), then
//! types (`read.rs`), then ranges (`Config::validated`).
//!
//! The config arrives as a copy of plain data (`pkg/config.js` says why), so nothing read here
//! can throw. The value in an error is rendered by the npm entry, from the JS value: JS prints
//! its own numbers and strings, and this side carries no formatting for them.

use super::js::Hooks;
use crate::core::config::{known_keys, Config, ConfigError};
use crate::core::redact::mask_user_info;
use crate::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Reads `config` (plain data, copied by the npm entry) into a validated `Config`.
pub fn parse(config: &JsValue, hooks: &Hooks) -> Result<Config, JsValue> {
    let checked = match unknown_key(config, "") {
        Some(err) => Err(err),
        None => super::read::read(config).and_then(Config::validated),
    };
    checked.map_err(|err| {
        let mut value = value_at(config, &err.path);
        // An error must not echo a password that was put in a URL by mistake.
        if let Some(s) = value.as_string() {
            value = JsValue::from_str(&mask_user_info(&s));
        }
        hooks.config_error(&err.path, &value, &err.allowed)
    })
}

/// The first key that the schema (`KNOWN_KEYS`) does not know, depth first.
fn unknown_key(obj: &JsValue, path: &str) -> Option<ConfigError> {
    let known = known_keys(&schema_path(path))?;
    if !obj.is_object() || js_sys::Array::is_array(obj) {
        return None; // a type error: `read.rs` reports it with the expected type
    }
    for key in js_sys::Object::keys(obj.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        let child = if path.is_empty() {
            key.clone()
        } else {
            cat!(path, ".", key)
        };
        let value = js_sys::Reflect::get(obj, &JsValue::from_str(&key)).ok()?;
        if !known.contains(&key.as_str()) {
            return Some(ConfigError::new(
                &child,
                String::new(),
                &cat!(
                    "no such option; known keys here: ",
                    super::join(known, ", ")
                ),
            ));
        }
        if js_sys::Array::is_array(&value) && known_keys(&cat!(child, "[]")).is_some() {
            let items: js_sys::Array = value.clone().unchecked_into();
            for (i, item) in items.iter().enumerate() {
                if let Some(e) = unknown_key(&item, &cat!(child, "[", i, "]")) {
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

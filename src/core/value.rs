//! Plain data, as JSON or a JS object has it: what a config is read from.
//!
//! Why the engine reads configs from this and not from JS objects: the same reader then serves
//! every source (a JS object the npm entry copied, a JSON file in the tools), runs natively in
//! tests (property tests feed it arbitrary values), and reading cannot call back into JS.

use crate::core::print::{fmt_num, quoted};
use crate::core::redact::mask_user_info;
use crate::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
    /// An object's own keys, in order.
    Obj(Vec<(String, Value)>),
    /// Something JSON has no word for (a function, a bigint, a symbol): how it reads in a message.
    Other(String),
}

impl Value {
    /// The value at `key` of an object (`None` for other values and absent keys).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// How the value reads in a message; a URL's user-info never shows.
    pub fn show(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => (if *b { "true" } else { "false" }).into(),
            Value::Num(n) => fmt_num(*n),
            Value::Str(s) => quoted(&mask_user_info(s)),
            Value::List(_) => "an array".into(),
            Value::Obj(_) => "an object".into(),
            Value::Other(what) => what.clone(),
        }
    }
}

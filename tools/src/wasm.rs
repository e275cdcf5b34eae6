//! The tools' exports to JS (`pkg/sim.js` wraps them as `ballast-fetch/sim`).
//!
//! serde-wasm-bindgen carries every value across: scenarios, options and configs in (read by
//! `input`, so a bad field is named by its path), runs and reports out as plain objects
//! (`json_compatible`: maps as objects, `None` as `null`, integers as numbers).

use crate::input::{self, InputError};
use crate::rehearse::{self, Thresholds};
use ballast_fetch::sim::scenario::Scenario;
use ballast_fetch::sim::{presets, simulate as run_simulation};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use wasm_bindgen::prelude::*;

/// Plain data out.
pub(crate) fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))
}

/// Plain data out as JSON text that JS parses: one crossing and `JSON.parse` where `to_js` makes
/// one or more per value (a run's output has thousands). Only for data whose numbers are all
/// finite and, when integers, exact in a JS number (`Output::is_plain`): JSON has no NaN or
/// Infinity, and `to_js` refuses larger integers; then both give the same objects.
pub(crate) fn to_js_json<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let text =
        serde_json::to_string(v).map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    js_sys::JSON::parse(&text)
}

/// An `InputError` as a JS error: name `ScenarioError`, with `input`, `path` and `problem`, so a
/// page or a CLI can point at the field.
pub(crate) fn error(e: InputError) -> JsValue {
    let err = js_sys::Error::new(&e.message());
    err.set_name("ScenarioError");
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    set("input", e.input);
    set("path", &e.path);
    set("problem", &e.problem);
    err.into()
}

/// A JS value as JSON data, every own key of every object included. serde-wasm-bindgen reads a
/// struct by looking up the fields it knows, so an unknown key (a typo) would pass unseen if the
/// types were read straight from the JS value; read as JSON data first, they are checked.
pub(crate) fn json(v: JsValue, input: &'static str) -> Result<serde_json::Value, InputError> {
    if v.is_undefined() {
        return Ok(serde_json::Value::Null);
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| InputError {
        input,
        path: String::new(),
        problem: input::problem_of(&e),
    })
}

/// A JS value read as `T` through JSON data; a bad field is an error naming its path in `input`.
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(
    v: JsValue,
    input: &'static str,
) -> Result<T, JsValue> {
    let data = json(v, input).map_err(error)?;
    serde_path_to_error::deserialize(data).map_err(|e| error(input::path_error(input, e)))
}

/// A config from a JS value, read as `createFetch` reads it.
pub(crate) fn config_from(v: JsValue) -> Result<ballast_fetch::core::config::Config, JsValue> {
    let input::Plain(value) = from_js(v, "config")?;
    input::config(&value, "config", "").map_err(error)
}

/// A scenario: a preset's name, or a scenario object.
pub(crate) fn scenario_from(v: JsValue) -> Result<Scenario, InputError> {
    match v.as_string() {
        Some(name) => input::preset(&name),
        None => input::scenario(json(v, "scenario")?),
    }
}

pub(crate) fn options_from(v: JsValue) -> Result<ballast_fetch::sim::Options, InputError> {
    input::options(json(v, "options")?)
}

/// A run as JS gets it: the output, and its fingerprint as 16 hex digits (`sim::digest`: the
/// tests compare it with the native run's).
#[derive(Serialize)]
pub(crate) struct Run<'a> {
    #[serde(flatten)]
    pub out: &'a ballast_fetch::sim::Output,
    pub digest: String,
}

impl<'a> Run<'a> {
    pub fn of(out: &'a ballast_fetch::sim::Output) -> Self {
        Run {
            out,
            digest: format!("{:016x}", out.digest()),
        }
    }
}

/// Runs a scenario (a preset's name or a scenario object) to the end: `{ series, events, tasks,
/// summary, digest }`.
#[wasm_bindgen]
pub fn simulate(scenario: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let s = scenario_from(scenario).map_err(error)?;
    let o = options_from(options).map_err(error)?;
    let out = run_simulation(&s, &o).map_err(|e| {
        error(InputError {
            input: "options",
            path: e.path,
            problem: format!("allowed: {}", e.allowed),
        })
    })?;
    if out.is_plain() {
        to_js_json(&Run::of(&out))
    } else {
        to_js(&Run::of(&out))
    }
}

/// Every preset, by name, in the order a page lists them.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsValue> {
    struct Named(Vec<Scenario>);
    impl Serialize for Named {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for sc in &self.0 {
                m.serialize_entry(&sc.name, sc)?;
            }
            m.end()
        }
    }
    to_js(&Named(presets::all()))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RehearseOptions {
    seed: Option<u64>,
    max_amplification: Option<f64>,
    min_success: Option<f64>,
}

/// A config against scenarios (names or objects), next to naive: `{ seed, thresholds, rows,
/// breaches }`.
#[wasm_bindgen]
pub fn rehearse(
    config: JsValue,
    scenarios: Vec<JsValue>,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let cfg = config_from(config)?;
    let mut list = Vec::new();
    for (i, s) in scenarios.into_iter().enumerate() {
        // `index` says which of the scenarios the bad field is in.
        list.push(scenario_from(s).map_err(|e| {
            let err = error(e);
            let _ =
                js_sys::Reflect::set(&err, &JsValue::from_str("index"), &JsValue::from(i as u32));
            err
        })?);
    }
    if list.is_empty() {
        list = presets::all();
    }
    let o: Option<RehearseOptions> = from_js(options, "options")?;
    let o = o.unwrap_or_default();
    let d = Thresholds::default();
    let t = Thresholds {
        max_amplification: o.max_amplification.unwrap_or(d.max_amplification),
        min_success: o.min_success.unwrap_or(d.min_success),
    };
    let report = rehearse::rehearse(&cfg, &list, o.seed.unwrap_or(1), t).map_err(error)?;
    to_js(&report)
}

/// A seed from the platform's secure random source (getrandom: `crypto.getRandomValues`), for a
/// page's "new seed": below 2^53, so it survives a round trip through a JS number.
#[wasm_bindgen(js_name = randomSeed)]
pub fn random_seed() -> Result<f64, JsValue> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    Ok((u64::from_le_bytes(b) >> 11) as f64)
}

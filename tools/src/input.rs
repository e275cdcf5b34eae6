//! Plain data into scenarios, options and policies, from any serde source (a JS value through
//! serde-wasm-bindgen, a JSON file through serde_json): every problem is an `InputError` naming
//! the path of the bad field, as config errors do.
//!
//! Types, unknown keys and missing fields are serde's checks, with their path kept by
//! serde_path_to_error; ranges and names are the scenario's own (`Scenario::validate`); a config
//! passed as the policy is read by the engine's config reader, so it is judged exactly as
//! `createFetch` would judge it.

use ballast_fetch::core::config::{read as read_config, Config};
use ballast_fetch::core::value::Value;
use ballast_fetch::sim::scenario::{Scenario, ScenarioError};
use ballast_fetch::sim::series::Trace;
use ballast_fetch::sim::{presets, Options, Policy};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bad input: which input, the path of the bad field in it (empty: the input as a whole), and
/// what was wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputError {
    /// `scenario`, `options` or `config`.
    pub input: &'static str,
    pub path: String,
    pub problem: String,
}

impl InputError {
    pub fn message(&self) -> String {
        if self.path.is_empty() {
            format!("invalid {}: {}", self.input, self.problem)
        } else {
            format!("invalid {}: {}: {}", self.input, self.path, self.problem)
        }
    }

    fn from_scenario(e: ScenarioError) -> Self {
        // A config passed as the policy is reported as the options' field it came from.
        let input = if e.path.starts_with("policy.") {
            "options"
        } else {
            "scenario"
        };
        InputError {
            input,
            path: e.path,
            problem: format!("allowed: {}", e.allowed),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

pub(crate) fn path_error<E: fmt::Display>(
    input: &'static str,
    e: serde_path_to_error::Error<E>,
) -> InputError {
    let path = e.path().to_string();
    InputError {
        input,
        // serde_path_to_error says "." for the root.
        path: if path == "." { String::new() } else { path },
        problem: problem_of(e.inner()),
    }
}

/// A deserializer's message (serde-wasm-bindgen's read as a JS error's `toString`: "Error: ...").
pub fn problem_of(e: &impl fmt::Display) -> String {
    let s = e.to_string();
    match s.strip_prefix("Error: ") {
        Some(rest) => rest.to_owned(),
        None => s,
    }
}

/// A scenario from plain data, checked.
pub fn scenario<'de, D: Deserializer<'de>>(d: D) -> Result<Scenario, InputError>
where
    D::Error: fmt::Display,
{
    let s: Scenario = serde_path_to_error::deserialize(d).map_err(|e| path_error("scenario", e))?;
    s.validate().map_err(InputError::from_scenario)?;
    Ok(s)
}

/// A preset by name.
pub fn preset(name: &str) -> Result<Scenario, InputError> {
    presets::by_name(name).ok_or_else(|| InputError {
        input: "scenario",
        path: String::new(),
        problem: format!(
            "no preset named {name:?} (presets: {})",
            presets::all()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// Plain data as the engine's config reader takes it.
pub struct Plain(pub Value);

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PlainVisitor).map(Plain)
    }
}

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("plain data (null, a boolean, a number, a string, an array or an object)")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(PlainVisitor)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Num(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Plain(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some((k, Plain(v))) = map.next_entry::<String, Plain>()? {
            out.push((k, v));
        }
        Ok(Value::Obj(out))
    }
}

/// A ballast config from plain data, read as `createFetch` reads it.
pub fn config(v: &Value, input: &'static str, prefix: &str) -> Result<Config, InputError> {
    read_config(v).map_err(|e| InputError {
        input,
        path: format!("{prefix}{}", e.path),
        problem: format!("got {}; allowed: {}", e.value, e.allowed),
    })
}

/// What `simulate` takes besides the scenario (every field optional).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    policy: Option<Plain>,
    seed: Option<f64>,
    duration_ms: Option<f64>,
    trace: Option<RawTrace>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawTrace {
    from_ms: f64,
    to_ms: f64,
    #[serde(default = "trace_max")]
    max: f64,
}

fn trace_max() -> f64 {
    400.0
}

/// The most calls a raster traces.
pub const MAX_TRACED: f64 = 5000.0;

/// Options from plain data (absent: the defaults: policy `ballast`, seed 1).
pub fn options<'de, D: Deserializer<'de>>(d: D) -> Result<Options, InputError>
where
    D::Error: fmt::Display,
{
    let raw: Option<RawOptions> =
        serde_path_to_error::deserialize(d).map_err(|e| path_error("options", e))?;
    let raw = raw.unwrap_or_default();
    let bad = |path: &str, problem: String| InputError {
        input: "options",
        path: path.into(),
        problem,
    };
    let policy = match raw.policy.map(|p| p.0) {
        None => Policy::Ballast,
        Some(Value::Str(s)) if s == "ballast" => Policy::Ballast,
        Some(Value::Str(s)) if s == "naive" => Policy::Naive,
        Some(v @ Value::Obj(_)) => Policy::Config(Box::new(config(&v, "options", "policy.")?)),
        Some(v) => {
            return Err(bad(
                "policy",
                format!(
                    "got {}; allowed: \"ballast\", \"naive\" or a ballast config object",
                    v.show()
                ),
            ))
        }
    };
    let seed = match raw.seed {
        None => 1,
        Some(s) if s.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&s) => s as u64,
        Some(s) => {
            return Err(bad(
                "seed",
                format!("got {s}; allowed: an integer in [0, 2^53)"),
            ))
        }
    };
    if let Some(d) = raw.duration_ms {
        if !(d.is_finite() && (1.0..=ballast_fetch::sim::scenario::MAX_DURATION_MS).contains(&d)) {
            return Err(bad(
                "durationMs",
                format!("got {d}; allowed: a number of ms in [1, 86400000]"),
            ));
        }
    }
    let trace = match raw.trace {
        None => None,
        Some(t) => {
            if !(t.from_ms.is_finite()
                && t.to_ms.is_finite()
                && t.from_ms >= 0.0
                && t.to_ms >= t.from_ms)
            {
                return Err(bad("trace", "allowed: 0 <= fromMs <= toMs".into()));
            }
            if !(t.max.fract() == 0.0 && (1.0..=MAX_TRACED).contains(&t.max)) {
                return Err(bad(
                    "trace.max",
                    format!("got {}; allowed: an integer in [1, {MAX_TRACED}]", t.max),
                ));
            }
            Some(Trace {
                from_ms: t.from_ms,
                to_ms: t.to_ms,
                max: t.max as usize,
            })
        }
    };
    Ok(Options {
        policy,
        seed,
        duration_ms: raw.duration_ms,
        trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario_json(s: &str) -> Result<Scenario, InputError> {
        scenario(&mut serde_json::Deserializer::from_str(s))
    }

    fn options_json(s: &str) -> Result<Options, InputError> {
        options(&mut serde_json::Deserializer::from_str(s))
    }

    const OK: &str = r#"{"durationMs": 10000, "arrivals": [{"kind": "poisson", "rate": 10}],
        "routes": [{"name": "a", "latency": {"medianMs": 20, "p99Ms": 80}}]}"#;

    #[test]
    fn a_valid_scenario_reads() {
        let s = scenario_json(OK).unwrap();
        assert_eq!(s.routes[0].name, "a");
        assert_eq!(s.routes[0].weight, 1.0);
    }

    #[test]
    fn errors_name_their_path() {
        let cases = [
            (
                r#"{"durationMs": 10000, "arrivals": [{"kind": "poisson", "rate": 10}],
                 "routes": [{"name": "a", "latency": {"medianMs": "fast", "p99Ms": 80}}]}"#,
                "routes[0].latency.medianMs",
            ),
            (
                r#"{"durationMs": 10000, "arrivals": [{"kind": "poisson", "rate": 10}],
                 "routes": [{"name": "a", "latency": {"medianMs": 20, "p99Ms": 80}, "errorRat": 0.1}]}"#,
                "routes[0].errorRat",
            ),
            (
                r#"{"durationMs": 10000, "arrivals": [{"kind": "poisson", "rate": -1}],
                 "routes": [{"name": "a", "latency": {"medianMs": 20, "p99Ms": 80}}]}"#,
                "arrivals[0].rate",
            ),
            (
                r#"{"durationMs": 10000, "arrivals": [{"kind": "poisson", "rate": 1}],
                 "routes": [{"name": "a", "latency": {"medianMs": 20, "p99Ms": 80},
                 "events": [{"kind": "outage", "startMs": 0, "durationMs": 1000, "status": 42}]}]}"#,
                "routes[0].events[0].status",
            ),
            (r#"{"arrivals": [], "routes": []}"#, ""),
        ];
        for (json, path) in cases {
            let e = scenario_json(json).unwrap_err();
            assert_eq!(e.input, "scenario");
            assert!(
                e.path == path || (path.is_empty() && e.path.is_empty()),
                "{json}: {e:?}"
            );
            assert!(e.message().contains(path), "{}", e.message());
        }
    }

    #[test]
    fn options_read_policies_and_name_bad_fields() {
        assert_eq!(options_json("null").unwrap().policy, Policy::Ballast);
        assert_eq!(
            options_json(r#"{"policy": "naive", "seed": 7}"#)
                .unwrap()
                .seed,
            7
        );
        let cfg = options_json(r#"{"policy": {"budget": {"ratio": 0.2}}}"#).unwrap();
        assert!(matches!(cfg.policy, Policy::Config(c) if c.budget.ratio == 0.2));
        for (json, path) in [
            (
                r#"{"policy": {"budget": {"ratoi": 0.2}}}"#,
                "policy.budget.ratoi",
            ),
            (
                r#"{"policy": {"budget": {"ratio": -3}}}"#,
                "policy.budget.ratio",
            ),
            (r#"{"policy": "blind"}"#, "policy"),
            (r#"{"seed": 1.5}"#, "seed"),
            (r#"{"durationMs": 0}"#, "durationMs"),
            (r#"{"speed": 2}"#, "speed"),
            (
                r#"{"trace": {"fromMs": 0, "toMs": 10, "max": 0}}"#,
                "trace.max",
            ),
        ] {
            let e = options_json(json).unwrap_err();
            assert_eq!(
                (e.input, e.path.as_str()),
                ("options", path),
                "{json}: {}",
                e.message()
            );
        }
    }

    #[test]
    fn presets_by_name() {
        assert_eq!(preset("metastable").unwrap().name, "metastable");
        let e = preset("metastabel").unwrap_err();
        assert!(e.problem.contains("metastable"), "{}", e.message());
    }
}

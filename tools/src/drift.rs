//! The drift exports (`ballast-fetch/drift` in the npm package): `fingerprint`, `diffConfig` and
//! `lintConfig` over configs passed as JS values, each read exactly as `createFetch` reads it (a
//! bad field is a `ScenarioError` with input `config` and its path).

use crate::diff::diff;
use crate::input::{self, InputError, Plain};
use crate::lint::{lint, Target, RULES};
use crate::wasm::{error, json, to_js};
use ballast_fetch::core::config::{canonical, fingerprint as fingerprint_of, read_all, Config};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// A config from a JS value, read as `createFetch` reads it.
fn config(v: JsValue) -> Result<Config, JsValue> {
    let Plain(value) = serde_path_to_error::deserialize(json(v, "config").map_err(error)?)
        .map_err(|e| {
            error(InputError {
                input: "config",
                path: e.path().to_string(),
                problem: input::problem_of(e.inner()),
            })
        })?;
    input::config(&value, "config", "").map_err(error)
}

#[derive(Serialize)]
struct Problem {
    path: String,
    value: String,
    allowed: String,
}

/// Every problem of a config, in order (`[]`: valid): unknown keys, then each field's type and
/// range in the schema's order, then the rules between fields. `createFetch` throws the first.
#[wasm_bindgen(js_name = validateConfig)]
pub fn validate_config(config_value: JsValue) -> Result<JsValue, JsValue> {
    let Plain(value) = serde_path_to_error::deserialize(
        json(config_value, "config").map_err(error)?,
    )
    .map_err(|e| {
        error(InputError {
            input: "config",
            path: e.path().to_string(),
            problem: input::problem_of(e.inner()),
        })
    })?;
    let problems: Vec<Problem> = match read_all(&value) {
        Ok(_) => Vec::new(),
        Err(all) => all
            .into_iter()
            .map(|e| Problem {
                path: e.path,
                value: e.value,
                allowed: e.allowed,
            })
            .collect(),
    };
    to_js(&problems)
}

/// The config's fingerprint: 12 hex digits, equal for configs that behave alike however they
/// are written, and what `snapshot().config.fingerprint` reports for a client running it.
#[wasm_bindgen]
pub fn fingerprint(config_value: JsValue) -> Result<String, JsValue> {
    Ok(fingerprint_of(&config(config_value)?))
}

#[derive(Serialize)]
struct Effective {
    fingerprint: String,
    /// Every field, defaults filled in: `[path, value as JSON text]`.
    fields: Vec<(String, String)>,
}

/// The config as it behaves: every field with defaults filled in, and its fingerprint.
#[wasm_bindgen(js_name = effectiveConfig)]
pub fn effective_config(config_value: JsValue) -> Result<JsValue, JsValue> {
    let c = config(config_value)?;
    to_js(&Effective {
        fingerprint: fingerprint_of(&c),
        fields: canonical(&c)
            .into_iter()
            .map(|e| (e.path, e.value.show()))
            .collect(),
    })
}

/// Every field that differs, with both values and a one-line consequence.
#[wasm_bindgen(js_name = diffConfig)]
pub fn diff_config(
    a: JsValue,
    b: JsValue,
    a_name: Option<String>,
    b_name: Option<String>,
) -> Result<JsValue, JsValue> {
    let (ca, cb) = (config(a)?, config(b)?);
    let an = a_name.unwrap_or_else(|| "the first".into());
    let bn = b_name.unwrap_or_else(|| "the second".into());
    to_js(&diff(&ca, &cb, &an, &bn))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LintOptions {
    target: Option<String>,
}

/// Findings, most severe first: `{ rule, severity, path, message, fix, help }`.
#[wasm_bindgen(js_name = lintConfig)]
pub fn lint_config(config_value: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let c = config(config_value)?;
    let o: Option<LintOptions> = serde_path_to_error::deserialize(
        json(options, "options").map_err(error)?,
    )
    .map_err(|e| {
        error(InputError {
            input: "options",
            path: e.path().to_string(),
            problem: input::problem_of(e.inner()),
        })
    })?;
    let target = match o.unwrap_or_default().target.as_deref() {
        None | Some("any") => Target::Any,
        Some("cloudflare") => Target::Cloudflare,
        Some(other) => {
            return Err(error(InputError {
                input: "options",
                path: "target".into(),
                problem: format!("got {other:?}; allowed: \"any\" or \"cloudflare\""),
            }))
        }
    };
    to_js(&lint(&c, target))
}

#[derive(Serialize)]
struct Rule {
    id: &'static str,
    severity: &'static str,
    title: &'static str,
    help: String,
}

/// Every lint rule: id, default severity, title, docs link (SARIF's rule list).
#[wasm_bindgen(js_name = lintRules)]
pub fn lint_rules() -> Result<JsValue, JsValue> {
    let rules: Vec<Rule> = RULES
        .iter()
        .map(|(id, severity, title)| Rule {
            id,
            severity: severity.as_str(),
            title,
            help: format!("{}#{}", crate::lint::DOCS, id.to_ascii_lowercase()),
        })
        .collect();
    to_js(&rules)
}

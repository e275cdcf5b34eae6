//! The drift exports (`ballast-fetch/drift` in the npm package): `fingerprint`, `diffConfig` and
//! `lintConfig` over configs passed as JS values, each read exactly as `createFetch` reads it (a
//! bad field is a `ScenarioError` with input `config` and its path).

use crate::diff::diff;
use crate::input::{InputError, Plain};
use crate::lint::{lint, Target, RULES};
use crate::wasm::{config_from, error, from_js, to_js};
use ballast_fetch::core::config::{canonical, fingerprint as fingerprint_of, read_all};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

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
    let Plain(value) = from_js(config_value, "config")?;
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
    Ok(fingerprint_of(&config_from(config_value)?))
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
    let c = config_from(config_value)?;
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
    let (ca, cb) = (config_from(a)?, config_from(b)?);
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
    let c = config_from(config_value)?;
    let o: Option<LintOptions> = from_js(options, "options")?;
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

//! Bindings to the JS side: the helpers in `glue.js` and the hooks object the npm entry passes in.

use crate::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// A seed for the jitter RNG when the config sets none.
    #[wasm_bindgen(js_name = randomSeed)]
    fn random_seed_js() -> f64;
}

pub fn random_seed() -> u64 {
    random_seed_js() as u64
}

#[wasm_bindgen]
extern "C" {
    /// Passed in by the npm entry (`pkg/api.js`): builds the `ConfigError`, so that `instanceof
    /// ConfigError` works against the class the package exports.
    pub type Hooks;
    /// The `ConfigError` for `path`: the npm entry takes the value from its copy of the config
    /// (or `masked`, when it held a URL's user-info) and renders it in the message.
    #[wasm_bindgen(method, js_name = configError)]
    pub fn config_error(this: &Hooks, path: &str, allowed: &str, masked: Option<String>)
        -> JsValue;
}

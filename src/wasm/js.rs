//! Bindings to the JS side: the helpers in `glue.js` and the hooks object the npm entry passes in.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = wallNow)]
    pub fn wall_now() -> f64;
    #[wasm_bindgen(js_name = randomSeed)]
    pub fn random_seed() -> f64;
}

#[wasm_bindgen]
extern "C" {
    /// Passed in by the npm entry (`pkg/api.js`): event delivery, queue grants and the error
    /// classes, so that `instanceof ConfigError` works against the class the package exports.
    pub type Hooks;
    #[wasm_bindgen(method)]
    pub fn emit(this: &Hooks, kind: &str, payload: JsValue);
    /// The queued attempt with this ticket has a slot now.
    #[wasm_bindgen(method)]
    pub fn granted(this: &Hooks, ticket: f64);
    /// The `ConfigError` for `path`: the npm entry renders `value` in the message.
    #[wasm_bindgen(method, js_name = configError)]
    pub fn config_error(this: &Hooks, path: &str, value: &JsValue, allowed: &str) -> JsValue;
    #[wasm_bindgen(method, js_name = ballastError)]
    pub fn ballast_error(
        this: &Hooks,
        code: &str,
        reason: &str,
        message: &str,
        cause: &JsValue,
        attempts: JsValue,
    ) -> JsValue;
}

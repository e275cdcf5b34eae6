//! Bindings to the JS side: the helpers in `glue.js` and the hooks object the npm entry passes in.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    pub fn now() -> f64;
    #[wasm_bindgen(js_name = wallNow)]
    pub fn wall_now() -> f64;
    #[wasm_bindgen(js_name = randomSeed)]
    pub fn random_seed() -> f64;

    pub type Described;
    #[wasm_bindgen(catch)]
    pub fn describe(input: &JsValue, init: &JsValue) -> Result<Described, JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn method(this: &Described) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn url(this: &Described) -> String;
    #[wasm_bindgen(method, getter, js_name = idempotencyKey)]
    pub fn idempotency_key(this: &Described) -> bool;
    #[wasm_bindgen(method, getter)]
    pub fn body(this: &Described) -> u8;
    #[wasm_bindgen(method, getter)]
    pub fn signal(this: &Described) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = isRequest)]
    pub fn is_request(this: &Described) -> bool;

    #[wasm_bindgen(js_name = isAborted)]
    pub fn is_aborted(signal: &JsValue) -> bool;
    #[wasm_bindgen(js_name = abortReason)]
    pub fn abort_reason(signal: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = timeoutError)]
    pub fn timeout_error(message: &str) -> JsValue;
    #[wasm_bindgen(js_name = newController)]
    pub fn new_controller() -> JsValue;
    #[wasm_bindgen(js_name = abortController)]
    pub fn abort_controller(controller: &JsValue, reason: &JsValue);
    pub fn send(
        transport: &JsValue,
        input: &JsValue,
        init: &JsValue,
        caller_signal: &JsValue,
        controller: &JsValue,
        is_request: bool,
        url: &JsValue,
        strip_credentials: bool,
    ) -> Promise;
    #[wasm_bindgen(js_name = isResponse)]
    pub fn is_response(value: &JsValue) -> bool;
    pub fn status(response: &JsValue) -> f64;
    #[wasm_bindgen(js_name = retryAfter)]
    pub fn retry_after(response: &JsValue) -> Option<String>;
    pub fn discard(response: &JsValue);
    #[wasm_bindgen(js_name = setTimer)]
    pub fn set_timer(callback: &Function, ms: f64, key: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimer)]
    pub fn clear_timer(id: &JsValue);
    #[wasm_bindgen(js_name = onSettle)]
    pub fn on_settle(promise: &Promise, callback: &Function, key: f64);
    #[wasm_bindgen(js_name = onAbort)]
    pub fn on_abort(signal: &JsValue, callback: &Function, key: f64) -> JsValue;
    #[wasm_bindgen(js_name = offAbort)]
    pub fn off_abort(signal: &JsValue, listener: &JsValue);
    #[wasm_bindgen(js_name = describeError)]
    pub fn describe_error(err: &JsValue) -> String;
}

#[wasm_bindgen]
extern "C" {
    /// Passed in by the npm entry (`pkg/api.js`): event delivery and the error classes, so that
    /// `instanceof ConfigError` works against the class the package exports.
    pub type Hooks;
    #[wasm_bindgen(method)]
    pub fn emit(this: &Hooks, kind: &str, payload: JsValue);
    #[wasm_bindgen(method, js_name = configError)]
    pub fn config_error(
        this: &Hooks,
        path: &str,
        value: &JsValue,
        allowed: &str,
        message: &str,
    ) -> JsValue;
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

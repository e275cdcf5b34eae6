//! Bindings to the JS side: the random seed, and the hooks object the npm entry passes in.

use crate::prelude::*;
use wasm_bindgen::prelude::*;

/// A seed for the jitter RNG when the config sets none: from the platform's secure source
/// (getrandom: `crypto.getRandomValues`), taken on a client's first call, never at module scope
/// (Workers refuse random values there). If the source fails, a fixed seed: jitter still spreads
/// retries over time, only not differently per client.
pub fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => 0x9e37_79b9_7f4a_7c15,
    }
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
    /// The `StateError` for `path` (`shown`: the value as the message shows it; the npm entry
    /// takes the value itself from its copy of the state).
    #[wasm_bindgen(method, js_name = stateError)]
    pub fn state_error(this: &Hooks, path: &str, shown: &str, allowed: &str) -> JsValue;
}

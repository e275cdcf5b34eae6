// The few JS helpers the Rust side calls itself (src/wasm/js.rs). Hand-written, runtime-neutral;
// nothing here runs at module scope. The attempt loop and its helpers are pkg/driver.js.

export function wallNow() {
  return Date.now();
}

export function randomSeed() {
  return Math.floor(Math.random() * 9007199254740991);
}

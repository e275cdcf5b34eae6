// The one JS helper the Rust side calls itself (src/wasm/js.rs). Runtime-neutral; nothing here
// runs at module scope.

export function randomSeed() {
  return Math.floor(Math.random() * 9007199254740991);
}

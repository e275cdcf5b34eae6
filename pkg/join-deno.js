// The join of two states (join.js) on Deno: the server build, imported as a module source (no
// --allow-read needed). deno-kv.js loads it on its first push only, so that importing
// ballast-fetch/deno-kv elsewhere does not meet Deno's `import source`.
import source wasmModule from "./gen/ballast_fast_bg.wasm";
import { joiner } from "./join.js";

export const joinStates = joiner(() => wasmModule);

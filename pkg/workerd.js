// Cloudflare Workers (workerd): the wasm built for speed (Cargo.toml: profile wasm-fast; a Worker
// is billed for CPU time). wrangler bundles the .wasm import as a compiled WebAssembly.Module
// (Workers forbid compiling wasm from bytes at run time). Instantiated on the first createFetch().
import wasmModule from "./gen/ballast_fast_bg.wasm";
import { bind } from "./api.js";
import * as states from "./state.js";

export * from "./public.js";
// A timer set while serving one request never fires once that request is over: each call keeps
// its own (pkg/executor.js, perCall).
export const createFetch = bind(() => wasmModule, { states, perCall: true });

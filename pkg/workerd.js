// Cloudflare Workers (workerd): the wasm built for speed (Cargo.toml: profile wasm-fast; a Worker
// is billed for CPU time). wrangler bundles the .wasm import as a compiled WebAssembly.Module
// (Workers forbid compiling wasm from bytes at run time). Instantiated on the first createFetch().
import wasmModule from "./gen/ballast_fast_bg.wasm";
import { bind } from "./api.js";
import * as server from "./server.js";
import { WorkersExecutor } from "./workers-executor.js";

export * from "./public.js";
// A Worker's timers and I/O belong to the request whose code started them: each call keeps its
// own timer and sends its own attempts (pkg/workers-executor.js).
export const createFetch = bind(() => wasmModule, { server, executor: WorkersExecutor });

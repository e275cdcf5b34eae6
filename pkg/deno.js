// Deno 2: the wasm built for speed (Cargo.toml: profile wasm-fast) is imported as a module source
// (`import source`), so no --allow-read is needed; instantiated on the first createFetch().
import source wasmModule from "./gen/ballast_fast_bg.wasm";
import { bind } from "./api.js";
import * as server from "./server.js";

export * from "./public.js";
export const createFetch = bind(() => wasmModule, { server });

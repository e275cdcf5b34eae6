// Deno 2: the wasm is imported as a module source (`import source`), so no --allow-read is needed;
// instantiated on the first createFetch().
import source wasmModule from "./gen/ballast_bg.wasm";
import { bind } from "./api.js";

export * from "./public.js";
export const createFetch = bind(() => wasmModule);

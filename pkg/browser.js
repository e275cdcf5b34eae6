// Browsers and bundlers (Vite, webpack): the smallest wasm (Cargo.toml: profile wasm), downloaded
// with the page. `new URL(..., import.meta.url)` lets the bundler emit it as an asset; the module
// is compiled once at import (top-level await) so createFetch() can stay synchronous and throw
// ConfigError at once.
import { bind } from "./api.js";

export * from "./public.js";

async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`ballast: could not load ${url}: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === "function") {
    try {
      return await WebAssembly.compileStreaming(res.clone());
    } catch {
      // wrong MIME type (not application/wasm): fall back to bytes below
    }
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

const wasmModule = await compile(new URL("./gen/ballast_bg.wasm", import.meta.url));
export const createFetch = bind(() => wasmModule);
